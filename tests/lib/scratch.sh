# tests/lib/scratch.sh: sourced by the daemon tests (src, F, R and T set
# first). scratch_cleanup removes what a test's private daemon may leave
# under its scratch dir $T, on every exit path: the sandboxes of the daemon
# root $R (`fcstart serve --cleanup`: their containers, cgroups and state),
# every mount under $T (deepest first), then $T. The caller kills its own
# processes (by pid) before.
scratch_cleanup() {
	[ -n "${R:-}" ] && [ -d "$R" ] && "$F" serve --root "$R" --cleanup >/dev/null 2>&1
	grep " $T" /proc/self/mountinfo | awk '{print $5}' | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
	rm -rf "$T"
}
