/* SPDX-License-Identifier: MIT */
/* inroot.c: paths inside the container, resolved by the kernel with
 * openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS): ".." and absolute
 * symlinks stay inside the root, and /proc/self/fd/N, /proc/PID/root and
 * their kind (magic links, which could name a host directory or file) are
 * refused. Used for the process's cwd (create, the pool's hand-over, exec),
 * mount targets, devices, masked and read-only paths. */
#include "internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>

int fc_in_root_open(int rootfd, const char *path, int flags, mode_t mode)
{
	struct open_how how = {.flags = (uint64_t)flags | O_CLOEXEC,
	                       .mode = (flags & O_CREAT) ? mode : 0,
	                       .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
	while (*path == '/')
		path++;
	if (!*path)
		path = ".";
	for (;;) {
		int fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
		if (fd >= 0 || errno != EAGAIN)
			return fd;
	}
}

/* An error resolving a path in the container: ELOOP is said in words (the
 * kernel's "Too many levels of symbolic links" is what a magic link gives). */
#define ROOT_ERR(err, e, fmt, ...)                                                                 \
	((e) == ELOOP ? fc_error_relay(err, ELOOP,                                                 \
	                               fmt ": a magic link (such as /proc/self/fd/N) or a "        \
	                                   "symlink loop on the way, refused",                     \
	                               __VA_ARGS__)                                                \
	              : fc_error_set(err, e, fmt, __VA_ARGS__))

int fc_in_root_chdir(const char *field, const char *path, struct fc_error **err)
{
	_cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return fc_error_set(err, errno, "%s: open the container's root", field);
	_cleanup_close_ int fd = fc_in_root_open(root, path, O_PATH | O_DIRECTORY, 0);
	if (fd < 0)
		return ROOT_ERR(err, errno, "%s: chdir to `%s`", field, path);
	if (fchdir(fd) < 0)
		return fc_error_set(err, errno, "%s: chdir to `%s`", field, path);
	/* Belt and braces: the directory must be reachable from our root (a
	 * directory outside it reads "(unreachable)/..." or fails). */
	char buf[4096];
	if (!getcwd(buf, sizeof(buf)) || buf[0] != '/')
		return fc_error_set(err, ENOENT, "%s: `%s` is not inside the container", field,
		                    path);
	return 0;
}

char *fc_in_root_dangling(int rootfd, const char *path)
{
	_cleanup_free_ char *p = fc_strdup(path);
	while (*p && p[strlen(p) - 1] == '/')
		p[strlen(p) - 1] = '\0';
	char *slash = strrchr(p, '/');
	const char *name = slash ? slash + 1 : p;
	if (slash)
		*slash = '\0';
	_cleanup_close_ int dir = fc_in_root_open(rootfd, slash ? p : ".", O_PATH | O_DIRECTORY, 0);
	char target[4096];
	ssize_t n = dir < 0 ? -1 : readlinkat(dir, name, target, sizeof(target) - 1);
	if (n <= 0)
		return NULL;
	target[n] = '\0';
	/* resolved as the container resolves it: from its root, or from the
	 * link's directory */
	return target[0] == '/' ? fc_strdup(target) : fc_asprintf("%s/%s", slash ? p : "", target);
}

/* A component that is a symlink to nothing (/data -> /var/lib/data): what
 * it points at is made, as runc does, up to 40 links deep. */
static int mkdir_p(int rootfd, const char *path, mode_t mode, int depth, struct fc_error **err);

int fc_in_root_mkdir_p(int rootfd, const char *path, mode_t mode, struct fc_error **err)
{
	return mkdir_p(rootfd, path, mode, 0, err);
}

static int mkdir_p(int rootfd, const char *path, mode_t mode, int depth, struct fc_error **err)
{
	const char *rel = path;
	while (*rel == '/')
		rel++;
	int fd = fc_in_root_open(rootfd, rel, O_PATH | O_DIRECTORY, 0);
	if (fd >= 0 || errno != ENOENT) {
		if (fd < 0)
			return ROOT_ERR(err, errno, "open `%s` in the rootfs", path);
		return fd;
	}
	/* Each prefix is resolved from the root (so a symlink on the way means
	 * what it means inside the container), and a missing last component is
	 * made in the directory the kernel resolved. */
	_cleanup_free_ char *p = fc_strdup(rel);
	for (char *s = p;; s++) {
		bool end = *s == '\0';
		if (*s != '/' && !end)
			continue;
		char ch = *s;
		*s = '\0';
		_cleanup_close_ int d = fc_in_root_open(rootfd, p, O_PATH | O_DIRECTORY, 0);
		if (d < 0 && errno == ENOENT) {
			char *slash = strrchr(p, '/');
			_cleanup_close_ int parent = -1;
			const char *name = p;
			if (slash) {
				*slash = '\0';
				parent = fc_in_root_open(rootfd, p, O_PATH | O_DIRECTORY, 0);
				*slash = '/';
				name = slash + 1;
			} else {
				parent = fc_in_root_open(rootfd, ".", O_PATH | O_DIRECTORY, 0);
			}
			int mr = parent < 0 ? -1 : mkdirat(parent, name, mode);
			if (mr < 0 && (parent < 0 || errno != EEXIST))
				return fc_error_set(err, errno, "mkdir `%s` in the rootfs", path);
			if (mr < 0 && depth < 40) {
				/* it exists and does not resolve: a dangling symlink */
				_cleanup_free_ char *to = fc_in_root_dangling(rootfd, p);
				if (to) {
					*s = ch;
					_cleanup_free_ char *full =
					    end ? fc_strdup(to) : fc_asprintf("%s/%s", to, s + 1);
					_cleanup_close_ int made =
					    mkdir_p(rootfd, full, mode, depth + 1, err);
					if (made < 0)
						return made;
					*s = '\0';
				}
			}
		} else if (d < 0) {
			return ROOT_ERR(err, errno, "open `%s` in the rootfs", p);
		}
		*s = ch;
		if (end)
			break;
	}
	fd = fc_in_root_open(rootfd, rel, O_PATH | O_DIRECTORY, 0);
	if (fd < 0)
		return ROOT_ERR(err, errno, "open `%s` in the rootfs", path);
	return fd;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return x < y ? -1 : x > y;
}

static bool kept(const int *k, size_t m, int fd)
{
	return fd <= 2 || bsearch(&fd, k, m, sizeof(int), cmp_int) != NULL;
}

int fc_close_fds_except(const int *keep, size_t n)
{
	_cleanup_free_ int *k = fc_calloc(n + 1, sizeof(int));
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (keep[i] > 2)
			k[m++] = keep[i];
	qsort(k, m, sizeof(int), cmp_int);
	unsigned lo = 3;
	for (size_t i = 0; i <= m; i++) {
		unsigned hi = i < m ? (unsigned)k[i] - 1 : ~0U;
		if (hi >= lo && syscall(SYS_close_range, lo, hi, 0) < 0) {
			if (errno != ENOSYS)
				return -errno;
			/* before Linux 5.9: one by one */
			DIR *d = opendir("/proc/self/fd");
			struct dirent *de;
			if (!d)
				return -errno;
			while ((de = readdir(d))) {
				int fd = atoi(de->d_name);
				if (de->d_name[0] != '.' && fd != dirfd(d) && !kept(k, m, fd))
					close(fd);
			}
			closedir(d);
			return 0;
		}
		if (i < m)
			lo = (unsigned)k[i] + 1;
	}
	return 0;
}

/* ---- the program is never the runtime (CVE-2019-5736) -------------------- */

static struct {
	bool set;
	dev_t dev;
	ino_t ino;
} self_exe;

void fc_self_exe_init(void)
{
	struct stat st;
	if (!self_exe.set && stat("/proc/self/exe", &st) == 0) {
		self_exe.dev = st.st_dev;
		self_exe.ino = st.st_ino;
		self_exe.set = true;
	}
}

/* Open what execve would run for path (we are in the container's root):
 * symlinks as usual, magic links refused. */
static int open_exec(const char *path)
{
	struct open_how how = {.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY,
	                       .resolve = RESOLVE_NO_MAGICLINKS};
	for (;;) {
		int fd = (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));
		if (fd >= 0 || errno != EAGAIN)
			return fd;
	}
}

int fc_exec_check(const char *arg0, const char *path, struct fc_error **err)
{
	_cleanup_free_ char *cur = fc_strdup(path);
	/* the kernel follows at most 4 levels of "#!" interpreters */
	for (int level = 0; level < 5; level++) {
		struct stat st;
		char head[256];
		_cleanup_close_ int fd = open_exec(cur);
		if (fd < 0 && errno == ELOOP)
			return fc_error_relay(
			    err, EPERM,
			    "process.args[0]: exec `%s`: `%s` goes through a magic "
			    "link (such as /proc/self/exe), refused",
			    arg0, cur);
		if (fd < 0)
			return 0; /* not readable by us: execve says what it says */
		if (fstat(fd, &st) == 0 && self_exe.set && st.st_dev == self_exe.dev &&
		    st.st_ino == self_exe.ino)
			return fc_error_relay(
			    err, EPERM,
			    "process.args[0]: exec `%s`: `%s` is the runtime's own "
			    "binary, refused (CVE-2019-5736)",
			    arg0, cur);
		ssize_t n = pread(fd, head, sizeof(head) - 1, 0);
		if (n < 3 || head[0] != '#' || head[1] != '!')
			return 0;
		head[n] = '\0';
		char *p = head + 2;
		p += strspn(p, " \t");
		size_t len = strcspn(p, " \t\n");
		if (!len)
			return 0;
		p[len] = '\0';
		free(cur);
		cur = fc_strdup(p);
	}
	return 0;
}
