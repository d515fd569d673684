#!/bin/bash
# fcstart bench gateway with small numbers, without Docker (nginx when it is
# installed): the table of first bytes and the load's come out, and nothing
# is left behind (the daemon, nginx, its sandboxes' mounts, the harness's
# dir), also when SIGINT stops it in the middle. Speed is not judged here:
# that is what the benchmark is for.
. "${FC_SOURCE_ROOT:-$(dirname "$0")/../..}/tests/lib/bench-test.sh"
WD=${FC_FWATCHDOG:-$build/tests/lib/fwatchdog}
[ -x "$WD" ] || { echo "SKIP: tests/lib/fwatchdog not built at $WD"; exit 77; }
bench_test_begin /tmp
left_behind() {
	[ -z "$(ls "$work/tmp")" ] || fail "$1: the harness's dir is left: $(ls "$work/tmp")"
	! grep -q "$work/tmp" /proc/self/mountinfo || fail "$1: a mount is left under $work/tmp"
	! pgrep -f "serve --root $work/tmp" >/dev/null || fail "$1: fcstart serve still runs"
	! pgrep -f "nginx -p $work/tmp" >/dev/null || fail "$1: nginx still runs"
}
mkdir -p "$work/tmp"
TMPDIR=$work/tmp "$FCSTART" bench gateway --watchdog "$WD" -n 20 --cold 2 --rounds 2 --load 500 --no-docker \
	>"$work/stdout" 2>"$work/stderr" || fail "bench gateway exited $?: $(tail -n 5 "$work/stderr")"
cat "$work/stdout"
grep -Eq '^\| gateway, warm instance \| 20 \| [0-9.]+ ' "$work/stdout" || fail "no warm gateway row"
grep -Eq '^\| gateway, never-used sandbox \| 2 \| [0-9.]+ ' "$work/stdout" || fail "no cold row"
grep -Eq '^\| invoke \(unix socket\), warm instance \| 20 \| ' "$work/stdout" || fail "no unix-socket row"
grep -Eq '^\| gateway, warm HTTP function \| [0-9]+ \| [0-9.]+ \| [0-9.]+ \| 0 \|' "$work/stdout" ||
	command -v hey >/dev/null || true
if command -v hey >/dev/null; then
	grep -Eq '^\| gateway, warm HTTP function \| [0-9]+ \| [0-9.]+ \| [0-9.]+ \| 0 \|' "$work/stdout" ||
		fail "the load on the gateway: no row, or errors"
fi
grep -q "the gateway's overhead over the unix-socket invoke" "$work/stdout" || fail "no overhead line"
left_behind "after a run"

# SIGINT in the middle: it stops, cleans up, says so
TMPDIR=$work/tmp "$FCSTART" bench gateway --watchdog "$WD" -n 2000 --cold 0 --rounds 1 --load 0 --no-docker \
	>"$work/stdout2" 2>"$work/stderr2" &
bg=$!
for _ in $(seq 300); do grep -q "rounds of" "$work/stderr2" && break; sleep 0.05; done
bench_test_sigint "SIGINT" "$work/stderr2"
left_behind "after SIGINT"
[ "$fails" = 0 ] && echo "PASS" || exit 1
