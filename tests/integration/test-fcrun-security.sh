#!/bin/bash
# fcrun against hostile configs and images (issue 9): every check is an
# attempt that must fail without touching the host. Host canaries (files
# outside the container that must stay unread and unchanged), neighbour
# processes in a pre-existing cgroup that must survive, host sysctls read
# before and after (and put back if they changed), nesting bombs.
. "$(dirname "$0")/../lib/common.sh"
require_root
F="$FCRUN --root $ROOT"

# ---- JSON nesting (config.json, process.json, resources, state.json) ------
deep() { # deep N: N '[' then N ']'
	python3 -c "import sys; n=int(sys.argv[1]); sys.stdout.write('['*n + ']'*n)" "$1"
}
bundle "$T/deep" /bin/true
{ printf '{"ociVersion":"1.0.2","x":'; deep 1000000; printf '}'; } >"$T/deep/config.json"
out=$($F run --bundle "$T/deep" deep1 2>&1); rc=$?
expect_eq "config.json nested 1,000,000 deep: refused, not crashed" 1 "$rc"
expect_match "...the error names the file and says why" 'config.json: exceeded max depth' "$out"
check "...and leaves nothing behind" no_leftovers deep1

bundle "$T/live" /bin/sleep 30
check "create a container for the nesting checks" $F create --bundle "$T/live" live
{ printf '{"args":["true"],"cwd":"/","x":'; deep 1000000; printf '}'; } >"$T/process.json"
out=$($F exec --process "$T/process.json" live 2>&1); rc=$?
expect_eq "exec --process nested 1,000,000 deep: refused (255, as runc), not crashed" 255 "$rc"
expect_match "...the error names process.json" 'process.json: exceeded max depth' "$out"
{ printf '{"memory":'; deep 1000000; printf '}'; } >"$T/res.json"
out=$($F update -r "$T/res.json" live 2>&1); rc=$?
expect_eq "update -r nested 1,000,000 deep: refused, not crashed" 1 "$rc"
expect_match "...the error names the resources" 'resources: exceeded max depth' "$out"
check "delete live" $F delete -f live

mkdir -p "$ROOT/deepstate"
{ printf '{"id":"deepstate","x":'; deep 1000000; printf '}'; } >"$ROOT/deepstate/state.json"
out=$($F state deepstate 2>&1); rc=$?
expect_eq "state.json nested 1,000,000 deep: refused, not crashed" 1 "$rc"
expect_match "...the error names state.json" 'state.json: exceeded max depth' "$out"
rm -rf "${ROOT:?}/deepstate"

done_testing
