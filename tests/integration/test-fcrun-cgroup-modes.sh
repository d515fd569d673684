#!/bin/bash
# fcrun on pure cgroup v2 and pure v1 hosts, simulated in a private mount
# namespace on this one: cgroup2 mounted on /sys/fs/cgroup (v2), or the
# unified tree unmounted (v1). A container runs in each, sees its own cgroup
# through a cgroup namespace, and leaves no cgroup behind but the parent
# /fcrun (kept, as runc keeps its parents; the test's cleanup removes it).
. "$(dirname "$0")/../lib/common.sh"
require_root
command -v unshare >/dev/null || skip_all "unshare (util-linux) is missing"
F="$FCRUN --root $ROOT"
# fcrun on the simulated pure-v2 host enables hugetlb (the one controller of
# this hybrid host's cgroup2 tree) up to its root: put back as found
cg2_subtree_save
sc_before=$(cat /sys/fs/cgroup/unified/cgroup.subtree_control 2>/dev/null)
trap 'rc=$?; cg_parents_cleanup; cg2_subtree_restore; (exit $rc); cleanup' EXIT

bundle "$T/b" /bin/sh -c 'grep "^0::" /proc/self/cgroup; grep " /sys/fs/cgroup " /proc/self/mountinfo | sed "s/.* - //" | cut -d" " -f1; echo ran'
jqedit "$T/b" '.linux.resources.devices = [{"allow":false,"access":"rwm"}]'

out=$(unshare -m sh -c "mount --make-rprivate / && umount -l /sys/fs/cgroup &&
	mount -t cgroup2 none /sys/fs/cgroup && $F run --bundle $T/b v2 &&
	if [ -e /sys/fs/cgroup/fcrun/v2 ]; then echo LEFT; fi; if [ -d /sys/fs/cgroup/fcrun ]; then echo PARENT; fi" 2>&1); rc=$?
expect_eq "pure v2: the container runs" 0 "$rc"
expect_match "pure v2: /sys/fs/cgroup is cgroup2 inside" $'\ncgroup2\n' "$out"
expect_match "pure v2: its cgroup namespace root is its cgroup" '^0::/$' "$out"
expect_eq "pure v2: no cgroup left behind" ran "$(grep -v '^PARENT$' <<<"$out" | tail -n1)"
expect_eq "pure v2: the parent /fcrun stays (as runc keeps its parents)" PARENT "$(tail -n1 <<<"$out")"

if grep -q " /sys/fs/cgroup/unified " /proc/self/mountinfo; then
	out=$(unshare -m sh -c "mount --make-rprivate / && umount -l /sys/fs/cgroup/unified &&
		$F run --bundle $T/b v1 && if [ -e /sys/fs/cgroup/pids/fcrun/v1 ]; then echo LEFT; fi; if [ -d /sys/fs/cgroup/memory/fcrun ]; then echo PARENT; fi" 2>&1); rc=$?
	expect_eq "pure v1: the container runs" 0 "$rc"
	expect_match "pure v1: /sys/fs/cgroup is a tmpfs of v1 hierarchies inside" $'\ntmpfs\n' "$out"
	expect_eq "pure v1: no cgroup left behind" ran "$(grep -v '^PARENT$' <<<"$out" | tail -n1)"
	expect_eq "pure v1: the parent /fcrun stays (as runc keeps its parents)" PARENT "$(tail -n1 <<<"$out")"
else
	ok "# SKIP this host has no unified tree to hide (not hybrid)"
fi
# the kept parents go first: a controller enabled in /fcrun's subtree_control
# keeps the root's enabled
cg_parents_cleanup
cg2_subtree_restore
expect_eq "the cgroup2 root's subtree_control as it was" "$sc_before" "$(cat /sys/fs/cgroup/unified/cgroup.subtree_control 2>/dev/null)"
done_testing
