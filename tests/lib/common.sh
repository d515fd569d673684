# tests/lib/common.sh: sourced by shell tests. TAP output, a private fcrun
# root and scratch directory, cleanup on every exit path, and leak checks
# (state dirs, mounts, cgroups, processes) after each test.
set -u
FC_SOURCE_ROOT=${FC_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
FC_BUILD_ROOT=${FC_BUILD_ROOT:-$FC_SOURCE_ROOT/build}
FCRUN=${FCRUN:-$FC_BUILD_ROOT/runtime/fcrun}
FCSTART=${FCSTART:-$FC_BUILD_ROOT/bench/fcstart}
MKBUNDLE=$FC_SOURCE_ROOT/tests/lib/mkbundle.sh

. "$FC_SOURCE_ROOT/tests/lib/tap.sh"

require_root() { [ "$(id -u)" = 0 ] || skip_all "needs root"; }

[ -x "$FCRUN" ] || { echo "1..0 # SKIP fcrun not built at $FCRUN"; exit 77; }
T=$(mktemp -d /tmp/fcrun-test.XXXXXX)
ROOT=$T/state
mkdir -p "$ROOT"
CG_PREFIX="fcrun-test-$$"

# Everything a test made goes: containers (by our root), mounts under $T,
# cgroups named after this test, fcrun's empty parents (/fcrun), the scratch dir.
cleanup() {
	local rc=$?
	if [ -d "$ROOT" ]; then
		for id in $("$FCRUN" --root "$ROOT" list -q 2>/dev/null); do
			"$FCRUN" --root "$ROOT" delete -f "$id" >/dev/null 2>&1
		done
	fi
	grep " $T" /proc/self/mountinfo | awk '{print $5}' | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
	for d in /sys/fs/cgroup/*/"$CG_PREFIX"* /sys/fs/cgroup/*/fcrun/"$CG_PREFIX"* /sys/fs/cgroup/"$CG_PREFIX"*; do
		[ -d "$d" ] && rmdir "$d" 2>/dev/null
	done
	cg_parents_cleanup # fcrun keeps /fcrun (as runc keeps its parents): gone when empty
	rm -rf "$T"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

. "$FC_SOURCE_ROOT/tests/lib/cg2-subtree.sh"
. "$FC_SOURCE_ROOT/tests/lib/cg-parents.sh"

# A fresh busybox bundle: bundle DIR [ARGS...]
bundle() { "$MKBUNDLE" "$@" >/dev/null; }

# Edit a bundle's config.json with jq: jqedit DIR FILTER
jqedit() { jq "$2" "$1/config.json" >"$1/config.json.new" && mv "$1/config.json.new" "$1/config.json"; }

# No leftovers of container ID: state dir, cgroup dirs, processes.
no_leftovers() {
	local id=$1
	[ ! -e "$ROOT/$id" ] || { echo "state dir $ROOT/$id left"; return 1; }
	for d in /sys/fs/cgroup/*/fcrun/"$id" /sys/fs/cgroup/fcrun/"$id"; do
		[ ! -d "$d" ] || { echo "cgroup $d left"; return 1; }
	done
	! grep -q " $T/[^ ]*/rootfs" /proc/self/mountinfo || { echo "mount left"; grep " $T" /proc/self/mountinfo; return 1; }
	return 0
}

done_testing() { echo "1..$tap_n"; [ "$tap_failed" = 0 ]; }
