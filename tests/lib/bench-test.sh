# tests/lib/bench-test.sh: what the test-bench-*.sh scripts share; sourced
# first (POSIX sh): SKIP (exit 77) unless root; the trees ($src, $build) and
# binaries ($FCSTART, $FCRUN); fail() counting $fails. bench_test_begin makes
# the scratch dir $work, removed on every exit after the background run $bg
# (when one runs) is killed and reaped.
set -u
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
src=${FC_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${FC_BUILD_ROOT:-$src/build}
FCSTART=${FCSTART:-$build/bench/fcstart}
FCRUN=${FCRUN:-$build/runtime/fcrun}

fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# bench_test_begin PARENT: $work, a new dir under PARENT named after the test
# (mode 711: the pool's sandboxes, in user namespaces, pass through to their
# dirs), and the traps that remove it.
bench_test_begin() {
	[ -x "$FCSTART" ] || { echo "FAIL: fcstart binary not found (FCSTART=$FCSTART)"; exit 1; }
	work=$(mktemp -d "$1/$(basename "$0" .sh).XXXXXX") || exit 1
	chmod 711 "$work"
	bg=
	trap bench_test_cleanup EXIT
	trap 'exit 1' INT TERM
}
bench_test_cleanup() {
	[ -n "$bg" ] && kill -9 "$bg" 2>/dev/null && wait "$bg" 2>/dev/null
	rm -rf "$work"
}

# bench_test_sigint LABEL STDERR: SIGINT to the run $bg, which must end with
# status 130 and say so on its stderr (the file STDERR).
bench_test_sigint() {
	kill -INT "$bg"
	wait "$bg"
	rc=$?
	bg=
	[ "$rc" = 130 ] || fail "$1: exit $rc after SIGINT, expected 130: $(tail -n 3 "$2")"
	grep -q "interrupted by SIGINT" "$2" || fail "$1: the interruption is not said: $(tail -n 3 "$2")"
}

# bench_test_no_process LABEL DIR: no process left whose command line names DIR.
bench_test_no_process() {
	for f in /proc/[0-9]*/cmdline; do
		case "$(tr '\0' ' ' 2>/dev/null <"$f")" in
		*"$2"*) fail "$1: process left running: ${f%/cmdline}: $(tr '\0' ' ' <"$f")" ;;
		esac
	done
}
