#!/bin/bash
# run-validation.sh: run the OCI runtime-tools validation programs against a
# runc-compatible runtime and summarise them per program.
#
# The suite itself is NOT part of this repository: build it locally (see
# tests/conformance/README.md) into RUNTIME_TOOLS_DIR. This script only uses
# an already-built copy: RUNTIME_TOOLS_DIR/runtimetest,
# RUNTIME_TOOLS_DIR/rootfs-<arch>.tar.gz and RUNTIME_TOOLS_DIR/validation/*/*.t.
#
# Usage: run-validation.sh [options] [PROGRAM...]
#   --runtime PATH     runtime binary (default $RUNTIME, else $FCRUN)
#   --suite-dir DIR    built runtime-tools checkout (default $RUNTIME_TOOLS_DIR,
#                      else /var/cache/fcstart/runtime-tools)
#   --out DIR          results: one PROGRAM.tap and PROGRAM.stderr per program,
#                      summary.txt, passing.txt, failures.txt (default: a new
#                      temp dir, kept and named at the end)
#   --timeout SEC      per program (default 60)
#   (FC_CONFORMANCE_RETRIES, default 1: runs of an expected program that failed)
#   --expected FILE    programs that must pass (default expected-pass.txt
#                      beside this script)
#   --enforce          exit 1 unless every expected program passes (also
#                      FC_CONFORMANCE_ENFORCE=1); without it: report, exit 0
#   --print-passing    print the passing programs, one a line, on stdout (the
#                      report then goes to stderr): a new expected-pass.txt
#   --no-private-root  do not add `--root DIR` (a private state dir) to every
#                      runtime call
#   --no-host-skips    run programs even where this host cannot support them
#                      (see host_lacks below); they then fail for any runtime
#   PROGRAM...         run only these validation programs (e.g. hostname)
#
# Exit: 0 ok (or not enforcing), 1 an expected program did not pass,
# 77 skipped (not root, suite not built, no runtime).
#
# Every program runs as its own session, with TMPDIR (where it makes its
# bundles) and the runtime's --root under a private work dir. Afterwards the
# runner deletes containers left in that root, kills what is left of that
# session, unmounts what is mounted under the work dir and removes the test
# cgroups (/cgrouptest, .../testdir/cgrouptest/container) that were not there
# before the run. Nothing else is touched.
set -u

here=$(cd "$(dirname "$0")" && pwd)
runtime=${RUNTIME:-${FCRUN:-}}
suite=${RUNTIME_TOOLS_DIR:-/var/cache/fcstart/runtime-tools}
out=""
timeout_s=60
retries=${FC_CONFORMANCE_RETRIES:-1}
expected="$here/expected-pass.txt"
enforce=${FC_CONFORMANCE_ENFORCE:-0}
print_passing=0
private_root=1
host_skips=1
only=()

usage() { sed -n '2,/^set -u/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }
skip() { echo "SKIP: $*"; exit 77; }

while [ $# -gt 0 ]; do
	case "$1" in
	--runtime) runtime=${2:?--runtime needs a path}; shift 2 ;;
	--runtime=*) runtime=${1#*=}; shift ;;
	--suite-dir) suite=${2:?--suite-dir needs a dir}; shift 2 ;;
	--suite-dir=*) suite=${1#*=}; shift ;;
	--out) out=${2:?--out needs a dir}; shift 2 ;;
	--out=*) out=${1#*=}; shift ;;
	--timeout) timeout_s=${2:?--timeout needs seconds}; shift 2 ;;
	--timeout=*) timeout_s=${1#*=}; shift ;;
	--expected) expected=${2:?--expected needs a file}; shift 2 ;;
	--expected=*) expected=${1#*=}; shift ;;
	--enforce) enforce=1; shift ;;
	--print-passing) print_passing=1; shift ;;
	--no-private-root) private_root=0; shift ;;
	--no-host-skips) host_skips=0; shift ;;
	-h|--help) usage; exit 0 ;;
	--) shift; only+=("$@"); break ;;
	-*) echo "run-validation.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
	*) only+=("$1"); shift ;;
	esac
done

# In --print-passing mode stdout carries only the list.
if [ "$print_passing" = 1 ]; then exec 3>&1 1>&2; else exec 3>/dev/null; fi

[ "$(id -u)" = 0 ] || skip "the OCI validation suite must run as root"
arch=$(uname -m)
case "$arch" in
x86_64) goarch=amd64 ;;
i?86) goarch=386 ;;
*) goarch=$arch ;;
esac
[ -d "$suite/validation" ] ||
	skip "no built runtime-tools at $suite (RUNTIME_TOOLS_DIR); see tests/conformance/README.md"
[ -x "$suite/runtimetest" ] || skip "$suite/runtimetest is not built; see tests/conformance/README.md"
[ -f "$suite/rootfs-$goarch.tar.gz" ] || skip "$suite/rootfs-$goarch.tar.gz is missing"
[ -n "$runtime" ] || skip "no runtime: set RUNTIME or FCRUN, or pass --runtime"
case "$runtime" in
*/*) ;;
*) runtime=$(command -v "$runtime") || skip "runtime $runtime is not in PATH" ;;
esac
[ -x "$runtime" ] || skip "runtime $runtime is not an executable"
runtime=$(cd "$(dirname "$runtime")" && pwd)/$(basename "$runtime")
for tool in timeout setsid tar ps flock; do
	command -v "$tool" >/dev/null || skip "$tool is not installed"
done

# One run at a time on a machine: the test cgroups have fixed names.
exec 9>/run/fc-conformance.lock
if ! flock -n 9; then
	echo "waiting for another run-validation.sh (lock /run/fc-conformance.lock)"
	flock 9
fi

progs=()
if [ ${#only[@]} -gt 0 ]; then
	for p in "${only[@]}"; do
		p=$(basename "$p" .t)
		[ -x "$suite/validation/$p/$p.t" ] || skip "$suite/validation/$p/$p.t is not built"
		progs+=("$p")
	done
else
	for t in "$suite"/validation/*/*.t; do
		[ -x "$t" ] || continue
		progs+=("$(basename "$t" .t)")
	done
fi
[ ${#progs[@]} -gt 0 ] || skip "no validation programs (*.t) built under $suite/validation"

if [ -z "$out" ]; then
	out=$(mktemp -d /tmp/fc-conformance.XXXXXX)
else
	mkdir -p "$out" || { echo "run-validation.sh: cannot create $out" >&2; exit 1; }
fi
out=$(cd "$out" && pwd)
rm -f "$out"/*.tap "$out"/*.stderr
work=$(mktemp -d /tmp/fc-oci-work.XXXXXX)
chmod 755 "$work"

# Cgroup directories the programs may create; remember those present before.
cg_mounts() { awk '$0 ~ / - cgroup2? / { print $5 }' /proc/self/mountinfo | sort -u; }
cg_candidates() {
	local m p
	for m in $(cg_mounts); do
		echo "$m/cgrouptest"
		echo "$m/testdir"
		cut -d: -f3- /proc/self/cgroup | sort -u | while read -r p; do
			[ "$p" = / ] || echo "$m$p/testdir"
		done
	done
}
preexisting=$(for d in $(cg_candidates); do [ -d "$d" ] && echo "$d"; done)

cleanup_cgroups() {
	local d
	for d in $(cg_candidates); do
		[ -d "$d" ] || continue
		if printf '%s\n' "$preexisting" | grep -qxF "$d"; then continue; fi
		find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
		[ -d "$d" ] && echo "warning: could not remove cgroup $d" >&2
	done
}

unmount_under() { # unmount everything mounted at or below $1, deepest first
	local m
	awk -v p="$1" '$5 == p || index($5, p "/") == 1 { print $5 }' /proc/self/mountinfo |
		sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
}

delete_containers() { # delete every container in the private root $1
	local root=$1 d id pid
	for d in "$root"/*/ "$root"/.[!.]*/; do
		[ -d "$d" ] || continue
		id=$(basename "$d")
		if ! timeout 20 "$runtime" --root "$root" delete --force "$id" >/dev/null 2>&1; then
			pid=$(timeout 10 "$runtime" --root "$root" state "$id" 2>/dev/null |
				sed -n 's/.*"pid"[[:space:]]*:[[:space:]]*\([0-9][0-9]*\).*/\1/p' | head -n1)
			[ -n "$pid" ] && [ "$pid" -gt 1 ] && kill -KILL "$pid" 2>/dev/null
			timeout 20 "$runtime" --root "$root" delete --force "$id" >/dev/null 2>&1 ||
				echo "warning: container $id in $root could not be deleted" >&2
		fi
	done
}

kill_session() { # SIGKILL what is left of the session $1 (the program's own)
	local sid=$1 pids
	pids=$(ps -e -o pid=,sid= | awk -v s="$sid" '$2 == s && $1 != s { print $1 }')
	# shellcheck disable=SC2086 # one pid a word
	[ -n "$pids" ] && kill -KILL $pids 2>/dev/null
	return 0
}

current_sid=""
current_dir=""
cleanup_program() {
	[ -n "$current_sid" ] && kill_session "$current_sid"
	if [ -n "$current_dir" ]; then
		delete_containers "$current_dir/root"
		[ -n "$current_sid" ] && kill_session "$current_sid"
		unmount_under "$current_dir"
		rm -rf --one-file-system "$current_dir" 2>/dev/null
	fi
	cleanup_cgroups
	current_sid=""
	current_dir=""
}

# shellcheck disable=SC2317 # called by the EXIT trap
on_exit() {
	[ -n "$current_sid" ] && kill -KILL "$current_sid" 2>/dev/null
	cleanup_program
	unmount_under "$work"
	rm -rf --one-file-system "$work" 2>/dev/null
}
trap on_exit EXIT
trap 'exit 130' INT TERM

# host_lacks PROG: prints why this host cannot run PROG whatever the runtime
# (the suite reads cgroup v1 files only and needs what the test configures),
# or nothing. Such programs are reported as skip with the reason.
v1_controller() { # is controller $1 mounted as (part of) a cgroup v1 hierarchy?
	awk -v c="$1" '$0 ~ / - cgroup / { n = split($NF, o, ","); for (i = 1; i <= n; i++) if (o[i] == c) f = 1 }
		END { exit !f }' /proc/self/mountinfo
}
v1_file() { # does some v1 hierarchy of controller $1 have file $2 at its root?
	local m
	while read -r m; do
		[ -e "$m/$2" ] && return 0
	done < <(awk -v c="$1" '$0 ~ / - cgroup / { n = split($NF, o, ","); for (i = 1; i <= n; i++) if (o[i] == c) print $5 }' /proc/self/mountinfo)
	return 1
}
have_cap() { # is capability number $1 in this process's bounding set?
	local bnd
	bnd=$(awk '/^CapBnd:/ { print $2 }' /proc/self/status)
	[ -n "$bnd" ] && (( (16#$bnd >> $1) & 1 ))
}
host_lacks() {
	case "$1" in
	linux_cgroups_hugetlb | linux_cgroups_relative_hugetlb)
		v1_controller hugetlb || echo "no cgroup v1 hugetlb hierarchy (the suite reads v1 only)" ;;
	linux_cgroups_network | linux_cgroups_relative_network)
		{ v1_controller net_cls && v1_controller net_prio; } ||
			echo "no cgroup v1 net_cls and net_prio hierarchies" ;;
	linux_cgroups_blkio | linux_cgroups_relative_blkio)
		{ v1_file blkio blkio.weight && v1_file blkio blkio.leaf_weight; } ||
			echo "cgroup v1 blkio has no blkio.weight/blkio.leaf_weight (no CFQ/BFQ weights)" ;;
	process_capabilities | process_rlimits)
		have_cap 24 || echo "CAP_SYS_RESOURCE is not in this host's capability bounding set" ;;
	*) ;;
	esac
}

# classify TAPFILE RC: prints pass, fail or skip. The programs report in
# three ways: test points (`not ok` fails, unless `# TODO`); a YAML block with
# an "error" that follows no test point, before a plan `1..0` (the lifecycle
# and hook programs: that is their failure, no test point and exit 0 their
# pass); and the exit status (the *_fail programs print nothing and exit 0
# when the runtime rejected the bad config, exit 1 when it did not).
classify() {
	local tap=$1 rc=$2
	[ "$rc" = 0 ] || { echo fail; return; }
	awk '
	/^(not )?ok/ {
		points++; last = "point"
		if (/^not ok/ && !/#[ \t]*[Tt][Oo][Dd][Oo]/) failed++
		if (/^ok[^#]*#[ \t]*[Ss][Kk][Ii][Pp]/) skipped++
		next
	}
	/^  ---/ { yaml = 1; orphan = (last != "point"); next }
	/^  \.\.\./ { yaml = 0; last = "yaml"; next }
	yaml { if (orphan && /^    "error":/) failed++; next }
	/^1\.\.0.*#[ \t]*[Ss][Kk][Ii][Pp]/ { planskip = 1 }
	END {
		if (failed) print "fail"
		else if (points == 0) print (planskip ? "skip" : "pass")
		else if (points == skipped) print "skip"
		else print "pass"
	}' "$tap"
}

# first_failure PROG RC: the first failing assertion, or why it failed, and
# the first lines the program (or the runtime through it) wrote to stderr
first_failure() {
	local p=$1 rc=$2 tap="$out/$1.tap" err="$out/$1.stderr" line
	line=$(grep -m1 -E '^not ok' "$tap")
	if [ -n "$line" ]; then
		# the assertion and the first lines of its diagnostic
		awk -v l="$line" 'f && (/^  \.\.\./ || /^(not )?ok/ || /^1\.\./) { exit }
			f { print; n++; if (n >= 8) exit } $0 == l { print; f = 1 }' "$tap" |
			cut -c1-300
	else
		# a program that stopped early reports why in a YAML "error" field
		grep -m1 -E '^    "error": ' "$tap" | cut -c1-300
	fi
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then echo "timed out after ${timeout_s}s"; fi
	[ "$rc" != 0 ] && echo "exit status $rc"
	grep -qE '^(not )?ok' "$tap" || echo "(no test points)"
	grep -v -e '^[[:space:]]*$' -e '^exit status [0-9]*$' "$err" | head -n 4 | cut -c1-300 | sed 's/^/stderr: /'
	return 0
}

echo "runtime: $runtime"
echo "suite:   $suite ($(git -C "$suite" describe --always --tags 2>/dev/null || echo unknown))"
echo "results: $out"
: >"$out/summary.txt"
: >"$out/passing.txt"
: >"$out/failures.txt"
npass=0 nfail=0 nskip=0
declare -A status
declare -A why
for p in "${progs[@]}"; do
	reason=""
	[ "$host_skips" = 1 ] && reason=$(host_lacks "$p")
	if [ -n "$reason" ]; then
		status[$p]=skip
		why[$p]=$reason
		nskip=$((nskip + 1))
		printf '%-4s %s (host: %s)\n' skip "$p" "$reason" | tee -a "$out/summary.txt"
		continue
	fi
	# An expected program that fails is run once more before it counts: the
	# suite polls `state` with 1 s steps and some programs race the
	# container's exit (see README.md); a real failure fails twice.
	attempts=1
	if [ "$retries" -gt 0 ] && [ -f "$expected" ] && grep -qx "$p" "$expected"; then
		attempts=$((1 + retries))
	fi
	for attempt in $(seq "$attempts"); do
	current_dir="$work/$p.$attempt"
	mkdir -p "$current_dir/tmp" "$current_dir/root" "$current_dir/bin"
	rt="$runtime"
	if [ "$private_root" = 1 ]; then
		rt="$current_dir/bin/runtime"
		printf '#!/bin/sh\nexec %q --root %q "$@"\n' "$runtime" "$current_dir/root" >"$rt"
		chmod 755 "$rt"
	fi
	# A background job of a non-interactive shell is no group leader, so
	# setsid does not fork: $! is the session id of everything it starts.
	(exec 9>&-; cd "$suite" && exec env TMPDIR="$current_dir/tmp" RUNTIME="$rt" \
		setsid --wait timeout --kill-after=5 "$timeout_s" "./validation/$p/$p.t" \
		>"$out/$p.tap" 2>"$out/$p.stderr" </dev/null) &
	current_sid=$!
	wait "$current_sid"
	rc=$?
	cleanup_program
	s=$(classify "$out/$p.tap" "$rc")
	[ "$s" = fail ] && [ "$attempt" -lt "$attempts" ] && echo "# $p failed (attempt $attempt), running it again"
	[ "$s" = fail ] || break
	done
	status[$p]=$s
	case "$s" in
	pass) npass=$((npass + 1)); echo "$p" >>"$out/passing.txt" ;;
	fail)
		nfail=$((nfail + 1))
		{ echo "== $p (exit $rc)"; first_failure "$p" "$rc"; } >>"$out/failures.txt"
		;;
	skip) nskip=$((nskip + 1)) ;;
	esac
	printf '%-4s %s\n' "$s" "$p" | tee -a "$out/summary.txt"
done

missing=()
hostskipped=()
if [ -f "$expected" ]; then
	while read -r p _; do
		case "$p" in '' | '#'*) continue ;; esac
		if [ ${#only[@]} -gt 0 ] && [ -z "${status[$p]+x}" ]; then continue; fi
		if [ -n "${why[$p]:-}" ]; then
			hostskipped+=("$p")
			continue
		fi
		[ "${status[$p]:-missing}" = pass ] || missing+=("$p(${status[$p]:-not built})")
	done <"$expected"
fi

sort "$out/passing.txt" >&3
echo "failures (first failing assertion of each): $out/failures.txt"
if [ ${#hostskipped[@]} -gt 0 ]; then
	echo "expected to pass, skipped (this host cannot run them): ${hostskipped[*]}"
fi
if [ ${#missing[@]} -gt 0 ]; then
	echo "expected to pass but did not (${#missing[@]}): ${missing[*]}"
fi
rcfinal=0
if [ "$enforce" = 1 ] && [ ${#missing[@]} -gt 0 ]; then rcfinal=1; fi
[ "$enforce" = 1 ] || echo "not enforcing $expected (FC_CONFORMANCE_ENFORCE=1 or --enforce to enforce)"
echo "$npass passed, $nfail failed, $nskip skipped" | tee -a "$out/summary.txt"
exit $rcfinal
