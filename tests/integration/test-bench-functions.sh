#!/bin/bash
# fcstart bench functions with small numbers, without Docker: the real
# Python and Node.js HTTP functions of tests/lib/mkfuncimage.sh, each path's
# row (fcrun run, the pool with exec at the hand-over, started mode) and the
# memory of waiting instances per pool mode come out, and nothing is left
# behind (the daemon, its sandboxes' mounts and cgroups, fcrun's containers,
# the harness's dir), also when SIGINT stops it in the middle. Speed is not
# judged here: that is what the benchmark is for.
set -u
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
src=${FC_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${FC_BUILD_ROOT:-$src/build}
F=${FCSTART:-$build/bench/fcstart}
export FCRUN=${FCRUN:-$build/runtime/fcrun}
work=$(mktemp -d /tmp/test-bench-functions.XXXXXX)
chmod 711 "$work"
bg=
cleanup() {
	[ -n "$bg" ] && kill -9 "$bg" 2>/dev/null && wait "$bg" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
for k in python node; do
	sh "$src/tests/lib/mkfuncimage.sh" "$k" "$work/img-$k" >"$work/mkimg.log" 2>&1 ||
		{ echo "SKIP: cannot build the $k function image: $(tail -n1 "$work/mkimg.log")"; exit 77; }
done
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
left_behind() {
	[ -z "$(ls "$work/tmp")" ] || fail "$1: the harness's dir is left: $(ls "$work/tmp")"
	! grep -q "$work/tmp" /proc/self/mountinfo || fail "$1: a mount is left under $work/tmp"
	! pgrep -f "serve --root $work/tmp" >/dev/null || fail "$1: fcstart serve still runs"
	! ls /sys/fs/cgroup/*/fcrun 2>/dev/null | grep -q '^fcbench-fn-' ||
		fail "$1: a cgroup of fcrun's containers is left"
}
mkdir -p "$work/tmp"
TMPDIR=$work/tmp "$F" bench functions --python "$work/img-python" --node "$work/img-node" \
	--cold 1 --rounds 1 --waiting 2 --no-docker --svg "$work/chart.svg" >"$work/stdout" 2>"$work/stderr" ||
	fail "bench functions exited $?: $(tail -n 5 "$work/stderr")"
cat "$work/stdout"
for fn in Python Node.js; do
	for p in 'fcrun run \(create \+ start\)' 'pool, exec at the hand-over' 'pool, started mode'; do
		grep -Eq "^\| $fn \| $p \| 1 \| [0-9.]+ " "$work/stdout" || fail "no $fn row of $p"
	done
	grep -Eq "^\| $fn \| docker run \| 0 \| " "$work/stdout" || fail "no $fn row of docker run (left out)"
	for m in exec started; do
		grep -Eq "^\| $fn \| $m \| 2 \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \|" "$work/stdout" ||
			fail "no memory row of $fn, $m"
	done
done
grep -q "^- Python, started mode, p99 " "$work/stdout" || fail "no target line"
grep -q '^<svg ' "$work/chart.svg" && grep -q 'Node.js, pool, started mode</text>' "$work/chart.svg" &&
	tail -n 1 "$work/chart.svg" | grep -q '^</svg>$' || fail "no whole chart at --svg"
grep -q "^host at the start: .*load " "$work/stdout" || fail "the machine's load is not said"
left_behind "after a run"

# SIGINT in the middle: it stops, cleans up, says so
TMPDIR=$work/tmp "$F" bench functions --python "$work/img-python" --node "$work/img-node" \
	--cold 200 --rounds 1 --waiting 0 --no-docker >"$work/stdout2" 2>"$work/stderr2" &
bg=$!
for _ in $(seq 600); do grep -q "rounds," "$work/stderr2" && break; sleep 0.05; done
sleep 2
kill -INT "$bg"
wait "$bg"
rc=$?
bg=
[ "$rc" = 130 ] || fail "SIGINT: exit $rc, expected 130"
grep -q "interrupted by SIGINT" "$work/stderr2" || fail "SIGINT: not said: $(tail -n 3 "$work/stderr2")"
left_behind "after SIGINT"
[ "$fails" = 0 ] && echo "PASS" || exit 1
