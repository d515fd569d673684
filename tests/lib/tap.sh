# tests/lib/tap.sh: TAP output for shell tests (sourced; common.sh and the
# daemon tests use it). ok/not_ok print a line each; tap_todo a failure that
# is known and does not fail the test; done_testing prints the plan and
# returns the test's status.
tap_n=0
tap_failed=0
ok() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $*"; }
not_ok() { tap_n=$((tap_n + 1)); tap_failed=$((tap_failed + 1)); echo "not ok $tap_n - $*"; }
# tap_todo DESC REASON: a known failure (TAP "# TODO")
tap_todo() { tap_n=$((tap_n + 1)); echo "not ok $tap_n - $1 # TODO $2"; }
skip_all() { echo "1..0 # SKIP $*"; exit 77; }
diag() { sed 's/^/# /'; }
# check DESC CMD...: ok when CMD succeeds (its output is shown when not; needs $T)
check() {
	local desc=$1; shift
	if "$@" >"$T/out" 2>&1; then ok "$desc"; else not_ok "$desc"; diag <"$T/out"; fi
}
# expect_eq DESC EXPECTED ACTUAL
expect_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; printf 'expected: %s\n  actual: %s\n' "$2" "$3" | diag; fi
}
# expect_match DESC REGEX ACTUAL
expect_match() {
	if printf '%s' "$3" | grep -Eq -- "$2"; then ok "$1"; else not_ok "$1"; printf 'expected /%s/ in:\n%s\n' "$2" "$3" | head -40 | diag; fi
}
done_testing() { echo "1..$tap_n"; [ "$tap_failed" = 0 ]; }
