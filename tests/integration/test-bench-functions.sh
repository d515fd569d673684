#!/bin/bash
# fcstart bench functions with small numbers, without Docker: the real
# Python and Node.js HTTP functions of tests/lib/mkfuncimage.sh, each path's
# row (fcrun run, the pool with exec at the hand-over, started mode, fork
# mode for Python) and the memory of waiting instances per pool mode (and the
# fork mode template's) come out, and nothing is left
# behind (the daemon, its sandboxes' mounts and cgroups, fcrun's containers,
# the harness's dir), also when SIGINT stops it in the middle. Speed is not
# judged here: that is what the benchmark is for.
. "${FC_SOURCE_ROOT:-$(dirname "$0")/../..}/tests/lib/bench-test.sh"
export FCRUN
bench_test_begin /tmp
for k in python node; do
	sh "$src/tests/lib/mkfuncimage.sh" "$k" "$work/img-$k" >"$work/mkimg.log" 2>&1 ||
		{ echo "SKIP: cannot build the $k function image: $(tail -n1 "$work/mkimg.log")"; exit 77; }
done
left_behind() {
	[ -z "$(ls "$work/tmp")" ] || fail "$1: the harness's dir is left: $(ls "$work/tmp")"
	! grep -q "$work/tmp" /proc/self/mountinfo || fail "$1: a mount is left under $work/tmp"
	! pgrep -f "serve --root $work/tmp" >/dev/null || fail "$1: fcstart serve still runs"
	! ls /sys/fs/cgroup/*/fcrun 2>/dev/null | grep -q '^fcbench-fn-' ||
		fail "$1: a cgroup of fcrun's containers is left"
}
mkdir -p "$work/tmp"
TMPDIR=$work/tmp "$FCSTART" bench functions --python "$work/img-python" --node "$work/img-node" \
	--cold 1 --rounds 1 --waiting 2 --no-docker --svg "$work/chart.svg" >"$work/stdout" 2>"$work/stderr" ||
	fail "bench functions exited $?: $(tail -n 5 "$work/stderr")"
cat "$work/stdout"
for fn in Python Node.js; do
	for p in 'fcrun run \(create \+ start\)' 'pool, exec at the hand-over' 'pool, started mode'; do
		grep -Eq "^\| $fn \| $p \| 1 \| [0-9.]+ " "$work/stdout" || fail "no $fn row of $p"
	done
	grep -Eq "^\| $fn \| docker run \| 0 \| " "$work/stdout" || fail "no $fn row of docker run (left out)"
	grep -Eq "^\| $fn \| started \| 2 \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \|" "$work/stdout" ||
		fail "no memory row of $fn, started"
	# exec mode: no memory cgroup of their own where the host has a v1
	# memory hierarchy (they join one at the hand-over)
	grep -Eq "^\| $fn \| exec \| 2 \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \| ([0-9.]+|none \(joined at the hand-over\)) \|" "$work/stdout" ||
		fail "no memory row of $fn, exec"
done
grep -Eq "^\| Python \| pool, fork mode \| 1 \| [0-9.]+ " "$work/stdout" || fail "no Python row of fork mode"
grep -Eq "^\| Python \| fork \| 2 \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \|" "$work/stdout" ||
	fail "no memory row of Python, fork"
grep -Eq "^\| Python \| fork: the template alone \| 1 \| \| \| [0-9.]+ \|" "$work/stdout" ||
	fail "no row of the fork mode template's size"
grep -q "left out: fork mode is for Python" "$work/stdout" || fail "Node.js's fork row does not say why it is empty"
grep -q "^- Python, fork mode: .* MiB of PSS per waiting instance beyond the template" "$work/stdout" ||
	fail "no fork mode memory target line"
grep -q "^- Python, started mode, p99 " "$work/stdout" || fail "no target line"
grep -q '^<svg ' "$work/chart.svg" && grep -q 'Node.js, pool, started mode</text>' "$work/chart.svg" &&
	tail -n 1 "$work/chart.svg" | grep -q '^</svg>$' || fail "no whole chart at --svg"
grep -q "^host at the start: .*load " "$work/stdout" || fail "the machine's load is not said"
left_behind "after a run"

# SIGINT in the middle: it stops, cleans up, says so
TMPDIR=$work/tmp "$FCSTART" bench functions --python "$work/img-python" --node "$work/img-node" \
	--cold 200 --rounds 1 --waiting 0 --no-docker >"$work/stdout2" 2>"$work/stderr2" &
bg=$!
for _ in $(seq 600); do grep -q "rounds," "$work/stderr2" && break; sleep 0.05; done
sleep 2
bench_test_sigint "SIGINT" "$work/stderr2"
left_behind "after SIGINT"
[ "$fails" = 0 ] && echo "PASS" || exit 1
