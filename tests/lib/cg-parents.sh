# tests/lib/cg-parents.sh: sourced by tests/lib/common.sh and tests/lib/scratch.sh.
# fcrun keeps the parent cgroups it makes (/fcrun by default, in every
# hierarchy), as runc keeps its own: a test that ran containers removes them
# at its end with cg_parents_cleanup [PATH...] (default /fcrun): only empty
# directories tagged trusted.fcrun=parent (fcrun's), deepest first, under the
# lock fcrun's creates take (flock on /sys/fs/cgroup, exclusive, tried for a
# second: a create of someone else's under way keeps them, as they are in use).
cg_parents_cleanup() {
	command -v python3 >/dev/null || return 0
	python3 - "${@:-/fcrun}" <<'PY' 2>/dev/null
import fcntl, glob, os, sys, time
dirs = []
for path in sys.argv[1:]:
    parts = [p for p in path.split("/") if p]
    for base in sorted(set(glob.glob("/sys/fs/cgroup/*/") + ["/sys/fs/cgroup/"])):
        for n in range(len(parts), 0, -1):
            dirs.append(base + "/".join(parts[:n]))
try:
    lock = os.open("/sys/fs/cgroup", os.O_RDONLY | os.O_DIRECTORY)
except OSError:
    sys.exit(0)
for _ in range(50):
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        break
    except OSError:
        time.sleep(0.02)
else:
    sys.exit(0)
for d in dirs:
    try:
        if os.getxattr(d, "trusted.fcrun", follow_symlinks=False) == b"parent":
            os.rmdir(d)
    except OSError:
        pass
PY
	return 0
}
