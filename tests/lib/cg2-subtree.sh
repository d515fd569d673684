# tests/lib/cg2-subtree.sh: sourced by tests/lib/common.sh and tests/e2e/e2e-lib.sh.
# cg2_subtree_save / cg2_subtree_restore: a test whose containers enable
# controllers in the cgroup2 tree's subtree_control files (on this hybrid
# host: hugetlb, the one controller cgroup2 holds; runc under containerd and
# Docker, and fcrun on a simulated pure-v2 host, enable it up to the root,
# where it stays, after which crun refuses the host) disables at its end what
# was enabled since the save, deepest first, only in files that existed then
# (a cgroup made since is someone else's); best effort: a controller someone
# else's cgroup uses stays.
CG2_SC_ROOT=/sys/fs/cgroup/unified
CG2_SC_BEFORE=
cg2_subtree_save() {
	[ -f "$CG2_SC_ROOT/cgroup.subtree_control" ] || return 0
	CG2_SC_BEFORE=$(find "$CG2_SC_ROOT" -maxdepth 2 -name cgroup.subtree_control \
		-exec sh -c 'for f; do echo "$f $(cat "$f")"; done' sh {} + 2>/dev/null)
	CG2_SC_SAVED=1
}
cg2_subtree_restore() {
	[ "${CG2_SC_SAVED:-}" = 1 ] || return 0
	local f c before
	for f in $(find "$CG2_SC_ROOT" -maxdepth 2 -name cgroup.subtree_control 2>/dev/null | sort -r); do
		awk -v f="$f" '$1 == f { found = 1 } END { exit !found }' <<<"$CG2_SC_BEFORE" || continue
		before=$(awk -v f="$f" '$1 == f { $1 = ""; print }' <<<"$CG2_SC_BEFORE")
		for c in $(cat "$f" 2>/dev/null); do
			case " $before " in *" $c "*) ;; *) echo "-$c" >"$f" 2>/dev/null ;; esac
		done
	done
	return 0
}
