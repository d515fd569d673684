# tests/lib/scratch.sh: sourced by the daemon tests (src, F, R and T set
# first). scratch_cleanup removes what a test's private daemon may leave
# under its scratch dir $T, on every exit path: the sandboxes of the daemon
# root $R (`fcstart serve --cleanup`: their containers, cgroups and state),
# fcrun's empty parent cgroups (/fcrun),
# every mount under $T (deepest first), then $T. The caller kills its own
# processes (by pid) before.
. "$src/tests/lib/cg-parents.sh"
scratch_cleanup() {
	[ -n "${R:-}" ] && [ -d "$R" ] && "$F" serve --root "$R" --cleanup >/dev/null 2>&1
	cg_parents_cleanup # fcrun's parent cgroups (/fcrun) stay after the daemon: gone when empty
	grep " $T" /proc/self/mountinfo | awk '{print $5}' | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
	rm -rf "$T"
}
