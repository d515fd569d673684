#!/bin/bash
# bench-engines.sh: wall time of `ctr run --rm` and `docker run --rm` of
# /bin/true through PRIVATE containerd and dockerd daemons (started and
# stopped here, as in tests/e2e), with fcrun, runc and crun. Each round runs
# every (engine, runtime) pair once, in a random order; N rounds (>= 10).
# Prints median, p90, min per pair and the ratio of medians against runc.
#
# usage: bench/bench-engines.sh [-n N] [--fcrun PATH] [--runtimes "fcrun runc crun"]
#        [--engines "ctr docker"] [--json FILE]
# Needs root. Installs Debian's docker.io/containerd when missing.
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
N=20
FCRUN=${FCRUN:-$src/build/runtime/fcrun}
RUNTIMES="fcrun runc crun"
ENGINES="ctr docker"
JSON=
while [ $# -gt 0 ]; do
	case $1 in
	-n) N=$2; shift 2 ;;
	--fcrun) FCRUN=$2; shift 2 ;;
	--runtimes) RUNTIMES=$2; shift 2 ;;
	--engines) ENGINES=$2; shift 2 ;;
	--json) JSON=$2; shift 2 ;;
	-h | --help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "bench-engines.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
[ "$N" -ge 10 ] 2>/dev/null || { echo "bench-engines.sh: -n must be >= 10" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "bench-engines.sh: needs root" >&2; exit 2; }
[ -x "$FCRUN" ] || { echo "bench-engines.sh: fcrun not found at $FCRUN (ninja -C build)" >&2; exit 2; }
FCRUN=$(readlink -f "$FCRUN")

export FC_SOURCE_ROOT=$src
. "$src/tests/e2e/e2e-lib.sh"
E2E=$(mktemp -d /tmp/fcbench-engines.XXXXXX)
trap 'rc=$?; e2e_stop; rm -rf "$E2E"; exit $rc' EXIT
trap 'exit 130' INT TERM

rtpath() {
	case $1 in
	fcrun) echo "$FCRUN" ;;
	*) command -v "$1" ;;
	esac
}
avail=
for r in $RUNTIMES; do
	if p=$(rtpath "$r") && [ -x "$p" ]; then avail="$avail $r"; else echo "# $r: not installed, left out"; fi
done
RUNTIMES=${avail# }

why=$(e2e_install) || { echo "bench-engines.sh: $why" >&2; exit 1; }
e2e_build_image || exit 1
e2e_cg_snapshot
e2e_subtree_save # e2e_stop puts the cgroup2 subtree_control files back
e2e_start_containerd || exit 1
ctrp image import "$E2E/image.tar" >/dev/null || exit 1
if [[ " $ENGINES " == *" docker "* ]]; then
	rts=()
	for r in $RUNTIMES; do [ "$r" = runc ] || rts+=("$r=$(rtpath "$r")"); done
	e2e_start_dockerd "${rts[@]}" || exit 1
	dk load -i "$E2E/image.tar" >/dev/null || exit 1
fi

k=0
# one ENGINE RUNTIME: run /bin/true once; prints nothing, returns its status.
one() {
	k=$((k + 1))
	case $1 in
	ctr) timeout -k 5 60 "$CTR" --address "$E2E/ctd.sock" --namespace "$E2E_NS" run --rm --fifo-dir "$E2E/fifo" \
		--runc-binary "$(rtpath "$2")" --runc-root "$E2E/runc-root/$2" "$E2E_IMAGE" "b$k-$2" /bin/true ;;
	docker) timeout -k 5 60 "$DOCKER" --host "unix://$E2E/docker.sock" run --rm --network none \
		--runtime "$2" "$E2E_IMAGE" /bin/true ;;
	esac
}

# Which pairs work at all (crun may not on a hybrid-cgroup host).
pairs=()
for e in $ENGINES; do
	for r in $RUNTIMES; do
		if one "$e" "$r" </dev/null >"$E2E/warm.log" 2>&1 && one "$e" "$r" </dev/null >>"$E2E/warm.log" 2>&1; then
			pairs+=("$e:$r")
		else
			echo "# $e with $r fails, left out: $(tail -n 1 "$E2E/warm.log")"
		fi
	done
done
[ ${#pairs[@]} -gt 0 ] || { echo "bench-engines.sh: nothing runs" >&2; exit 1; }

mkdir -p "$E2E/t"
fails=0
for i in $(seq 1 "$N"); do
	for pr in $(printf '%s\n' "${pairs[@]}" | shuf); do
		e=${pr%%:*} r=${pr#*:}
		t0=$(date +%s%N)
		if one "$e" "$r" </dev/null >"$E2E/run.log" 2>&1; then
			t1=$(date +%s%N)
			echo $(((t1 - t0) / 1000)) >>"$E2E/t/$e-$r"
		else
			fails=$((fails + 1))
			echo "# round $i: $e with $r failed: $(tail -n 1 "$E2E/run.log")"
		fi
	done
done

# stats FILE: "median p90 min n" in ms
stats() {
	sort -n "$1" | awk '{ v[NR] = $1 } END {
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		p = v[int(NR * 0.9 + 0.999)]; if (p == "") p = v[NR]
		printf "%.1f %.1f %.1f %d\n", m / 1000, p / 1000, v[1] / 1000, NR }'
}
echo "# $(date -u +%FT%TZ) $(uname -r), N=$N rounds, random order per round; /bin/true in a busybox image"
echo "# fcrun: $FCRUN; runc: $(runc --version 2>/dev/null | head -n1); crun: $(crun --version 2>/dev/null | head -n1)"
printf '%-8s %-7s %10s %10s %10s %5s %12s\n' engine runtime median_ms p90_ms min_ms n vs_runc
json="[]"
for e in $ENGINES; do
	base=
	[ -s "$E2E/t/$e-runc" ] && base=$(stats "$E2E/t/$e-runc" | cut -d' ' -f1)
	for r in $RUNTIMES; do
		f=$E2E/t/$e-$r
		[ -s "$f" ] || continue
		read -r med p90 min n < <(stats "$f")
		ratio=-
		[ -n "$base" ] && ratio=$(awk -v a="$med" -v b="$base" 'BEGIN { printf "%.2fx", a / b }')
		printf '%-8s %-7s %10s %10s %10s %5s %12s\n' "$e" "$r" "$med" "$p90" "$min" "$n" "$ratio"
		json=$(jq -c --arg e "$e" --arg r "$r" --argjson med "$med" --argjson p90 "$p90" --argjson min "$min" \
			--argjson n "$n" --arg ratio "$ratio" \
			'. + [{engine: $e, runtime: $r, median_ms: $med, p90_ms: $p90, min_ms: $min, n: $n, vs_runc: $ratio}]' <<<"$json")
	done
done
[ -z "$JSON" ] || echo "$json" | jq . >"$JSON"
[ "$fails" = 0 ] || echo "# $fails runs failed"
exit 0
