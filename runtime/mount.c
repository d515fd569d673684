/* SPDX-License-Identifier: MIT */
/* mount.c: the container's filesystem, in its init, in its mount namespace.
 * Every mount target is resolved inside the rootfs with openat2
 * RESOLVE_IN_ROOT and mounted through /proc/self/fd/N, so a symlink in the
 * image can never point a mount at the host. */
#include "internal.h"
#include "cgroup/cgroup.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <linux/magic.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sched.h>

#ifndef MOUNT_ATTR_SIZE_VER0
struct mount_attr {
	uint64_t attr_set, attr_clr, propagation, userns_fd;
};
#endif

static int rootfd = -1; /* O_PATH of the rootfs (after its self bind mount) */

static int openat2_in_root(const char *path, int flags, mode_t mode)
{
	return fc_in_root_open(rootfd, path, flags, mode);
}

static const char *skip_slash(const char *p)
{
	while (*p == '/')
		p++;
	return *p ? p : ".";
}

/* mkdir -p inside the rootfs; returns an O_PATH fd of the directory. */
static int mkdir_in_root(const char *path, mode_t mode, struct fc_error **err)
{
	return fc_in_root_mkdir_p(rootfd, path, mode, err);
}

/* Make a mount target (directory, or an empty file when the source is not a
 * directory) and return an O_PATH fd of it. A destination that is a symlink
 * to nothing (/etc/resolv.conf -> /run/x/resolv.conf) gets its target made
 * inside the root, as runc does. */
static int make_target_at(const char *dest, bool dir, int depth, struct fc_error **err);

static int make_target(const char *dest, bool dir, struct fc_error **err)
{
	return make_target_at(dest, dir, 0, err);
}

static int make_target_at(const char *dest, bool dir, int depth, struct fc_error **err)
{
	if (dir)
		return mkdir_in_root(dest, 0755, err);
	_cleanup_free_ char *parent = fc_strdup(dest);
	char *slash = strrchr(parent, '/');
	if (slash && slash != parent) {
		*slash = '\0';
		int pfd = mkdir_in_root(parent, 0755, err);
		if (pfd < 0)
			return pfd;
		close(pfd);
	}
	int fd = openat2_in_root(skip_slash(dest), O_PATH, 0);
	if (fd >= 0)
		return fd;
	fd = openat2_in_root(skip_slash(dest), O_CREAT | O_WRONLY, 0644);
	if (fd < 0 && errno == ENOENT && depth < 40) {
		_cleanup_free_ char *to = fc_in_root_dangling(rootfd, dest);
		if (to) {
			fd = make_target_at(to, false, depth + 1, err);
			if (fd < 0)
				return fd;
		}
	}
	if (fd < 0)
		return fc_error_set(err, errno, "create `%s` in the rootfs", dest);
	close(fd);
	fd = openat2_in_root(skip_slash(dest), O_PATH, 0);
	if (fd < 0)
		return fc_error_set(err, errno, "open `%s` in the rootfs", dest);
	return fd;
}

static const char *fdpath(int fd, char buf[static 32])
{
	snprintf(buf, 32, "/proc/self/fd/%d", fd);
	return buf;
}

/* Flags a remount must keep: in a user namespace the kernel refuses to
 * drop locked ones. */
static unsigned long locked_flags(const char *path)
{
	struct statvfs sv;
	unsigned long f = 0;
	if (statvfs(path, &sv) < 0)
		return 0;
	if (sv.f_flag & ST_NOSUID)
		f |= MS_NOSUID;
	if (sv.f_flag & ST_NODEV)
		f |= MS_NODEV;
	if (sv.f_flag & ST_NOEXEC)
		f |= MS_NOEXEC;
	if (sv.f_flag & ST_RDONLY)
		f |= MS_RDONLY;
	if (sv.f_flag & ST_NOATIME)
		f |= MS_NOATIME;
	if (sv.f_flag & ST_NODIRATIME)
		f |= MS_NODIRATIME;
	if (sv.f_flag & ST_RELATIME)
		f |= MS_RELATIME;
	return f;
}

static int remount(const char *target, unsigned long flags, const char *what, struct fc_error **err)
{
	unsigned long f = MS_REMOUNT | MS_BIND | flags;
	if (mount(NULL, target, NULL, f, NULL) == 0)
		return 0;
	if (errno == EPERM) {
		unsigned long keep = locked_flags(target);
		if (!(flags & MS_RDONLY))
			keep &= ~MS_RDONLY;
		if (mount(NULL, target, NULL, f | keep, NULL) == 0)
			return 0;
	}
	return fc_error_set(err, errno, "remount `%s`", what);
}

static int apply_propagation_and_attrs(int fd, const struct fc_mount *m, struct fc_error **err)
{
	char buf[32];
	if (m->rec_flags || m->rec_clear) {
		struct mount_attr attr = {.attr_set = m->rec_flags, .attr_clr = m->rec_clear};
		if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr,
		            sizeof(attr)) < 0)
			return fc_error_set(err, errno, "mounts: set recursive attributes on `%s`",
			                    m->destination);
	}
	if (m->propagation && mount(NULL, fdpath(fd, buf), NULL, m->propagation, NULL) < 0)
		return fc_error_set(err, errno, "mounts: set propagation of `%s`", m->destination);
	return 0;
}

int fcrt_userns_fd(const struct fc_idmap *uids, size_t n_uids, const struct fc_idmap *gids,
                   size_t n_gids, struct fc_error **err)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return fc_error_set(err, errno, "user namespace: pipe");
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return fc_error_set(err, errno, "user namespace: fork");
	}
	if (pid == 0) {
		char ch;
		close(p[1]);
		if (unshare(CLONE_NEWUSER) < 0)
			_exit(1);
		(void)!read(p[0], &ch, 1); /* until the parent is done */
		_exit(0);
	}
	close(p[0]);
	int r = 0, fd = -1;
	for (int i = 0; i < 2 && r == 0; i++) {
		const struct fc_idmap *map = i ? gids : uids;
		size_t n = i ? n_gids : n_uids;
		_cleanup_buf_ struct fc_buf b = {0};
		for (size_t k = 0; k < n; k++)
			fc_buf_printf(&b, "%u %u %u\n", map[k].container_id, map[k].host_id,
			              map[k].size);
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, i ? "gid_map" : "uid_map");
		/* wait until the child has unshared (its map file becomes writable) */
		for (int t = 0; t < 2000 && b.data; t++) {
			_cleanup_close_ int mfd = open(path, O_WRONLY | O_CLOEXEC);
			if (mfd >= 0 && write(mfd, b.data, b.len) == (ssize_t)b.len)
				break;
			if (t == 1999)
				r = fc_error_set(err, errno, "user namespace: write `%s`", path);
			usleep(100);
		}
	}
	if (r == 0) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			r = fc_error_set(err, errno, "user namespace: open `%s`", path);
	}
	close(p[1]);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	return r < 0 ? r : fd;
}

/* A user namespace holding the mount's mappings, for MOUNT_ATTR_IDMAP. */
int fc_idmap_userns(const struct fc_mount *m, struct fc_error **err)
{
	int r = fcrt_userns_fd(m->uid_mappings, m->n_uid_mappings, m->gid_mappings,
	                       m->n_gid_mappings, err);
	if (r < 0)
		fc_error_wrap(err, "mounts: idmap of `%s`", m->destination);
	return r;
}

static int mount_idmapped(const char *src, int target, const struct fc_mount *m, int userns,
                          struct fc_error **err)
{
	unsigned rec = m->recursive ? AT_RECURSIVE : 0;
	_cleanup_close_ int tree =
	    (int)syscall(SYS_open_tree, AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | rec);
	if (tree < 0)
		return fc_error_set(err, errno, "mounts: idmap of `%s`: open_tree `%s`",
		                    m->destination, src);
	struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns};
	if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | rec, &attr, sizeof(attr)) < 0)
		return fc_error_set(
		    err, errno,
		    "mounts: idmap of `%s` (does `%s`'s filesystem support idmapped mounts?)",
		    m->destination, src);
	if (syscall(SYS_move_mount, tree, "", target, "",
	            MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return fc_error_set(err, errno, "mounts: move the idmapped `%s` into place", src);
	return 0;
}

static int mount_bind(struct fc_create *c, const struct fc_mount *m, struct fc_error **err)
{
	_cleanup_free_ char *src = NULL;
	struct stat st;
	char buf[32];
	if (!m->source)
		return fc_error_set(err, EINVAL, "mounts: bind mount of `%s` has no source",
		                    m->destination);
	src =
	    m->source[0] == '/' ? fc_strdup(m->source) : fc_asprintf("%s/%s", c->bundle, m->source);
	size_t idx = (size_t)(m - c->spec->mounts);
	int tree = c->tree_fds ? c->tree_fds[idx] : -1;
	if ((tree >= 0 ? fstat(tree, &st) : stat(src, &st)) < 0)
		return fc_error_set(err, errno, "mounts: bind source `%s`", src);
	_cleanup_close_ int t = make_target(m->destination, S_ISDIR(st.st_mode), err);
	if (t < 0)
		return t;
	if (tree >= 0) {
		/* the runtime's clone of the source (a user namespace) */
		int mr = (int)syscall(SYS_move_mount, tree, "", t, "",
		                      MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
		int e = errno;
		close(tree);
		c->tree_fds[idx] = -1;
		if (mr < 0)
			return fc_error_set(err, e, "mounts: bind `%s` on `%s`", src,
			                    m->destination);
	} else if (m->n_uid_mappings || m->n_gid_mappings) {
		if (mount_idmapped(src, t, m, c->idmap_fds[m - c->spec->mounts], err) < 0)
			return fc_error_code(*err);
	} else if (mount(src, fdpath(t, buf), NULL, MS_BIND | (m->recursive ? MS_REC : 0), NULL) <
	           0) {
		return fc_error_set(err, errno, "mounts: bind `%s` on `%s`", src, m->destination);
	}
	/* Reopen: the fd above names what lies under the new mount. */
	_cleanup_close_ int t2 = openat2_in_root(skip_slash(m->destination), O_PATH, 0);
	if (t2 < 0)
		return fc_error_set(err, errno, "mounts: reopen `%s`", m->destination);
	unsigned long extra = m->flags & ~(MS_BIND | MS_REC);
	if ((extra || m->clear_flags) && remount(fdpath(t2, buf), extra, m->destination, err) < 0)
		return fc_error_code(*err);
	return apply_propagation_and_attrs(t2, m, err);
}

/* The directory name of a hierarchy under /sys/fs/cgroup ("" for cgroup2 there). */
static const char *hier_name(const struct fc_cgroup_mount *h)
{
	const char *base = strrchr(h->mountpoint, '/');
	return FC_STREQ(h->mountpoint, "/sys/fs/cgroup") || !base ? "" : base + 1;
}

static int mount_cgroup(struct fc_create *c, const struct fc_mount *m, struct fc_error **err)
{
	/* The hierarchies as the runtime's cgroup module found them before the
	 * clone: no second read of mountinfo or /proc/self/cgroup here. */
	struct fc_cgroup_mount h[32];
	size_t n = fc_cgroup_mounts(c->cgroup, h, FC_ARRAY_SIZE(h));
	bool cgns = fc_spec_ns(c->spec, FC_NS_CGROUP) != NULL;
	unsigned long flags = m->flags & ~(MS_RDONLY | MS_BIND | MS_REC);
	char buf[32];
	int r = 0;
	_cleanup_close_ int top = -1; /* the tmpfs of the v1 hierarchies */
	_cleanup_close_ int t = make_target(m->destination, true, err);
	if (t < 0)
		goto out_err;
	bool pure_v2 = n == 1 && h[0].v2 && !*hier_name(&h[0]);
	if (pure_v2) {
		if (cgns) {
			if (mount("cgroup2", fdpath(t, buf), "cgroup2",
			          flags | (m->flags & MS_RDONLY), NULL) < 0)
				r = fc_error_set(err, errno, "mounts: mount cgroup2 on `%s`",
				                 m->destination);
		} else {
			const char *src = h[0].path;
			if (mount(src, fdpath(t, buf), NULL, MS_BIND | MS_REC, NULL) < 0)
				r = fc_error_set(err, errno, "mounts: bind `%s` on `%s`", src,
				                 m->destination);
			else if (m->flags & MS_RDONLY)
				r = remount(fdpath(t, buf), MS_RDONLY | flags, m->destination, err);
		}
		goto out;
	}
	/* v1 or hybrid: a tmpfs with one directory per hierarchy (read-write,
	 * as runc's: its read-only flag goes to the hierarchies). */
	if (mount("tmpfs", fdpath(t, buf), "tmpfs", flags, "mode=755") < 0) {
		r = fc_error_set(err, errno, "mounts: tmpfs on `%s`", m->destination);
		goto out;
	}
	/* The new tmpfs is this init's alone (nothing in the container runs
	 * yet, and the names are the host's hierarchies, no slash in them): its
	 * directories are made and opened through one descriptor of it. */
	top = openat2_in_root(skip_slash(m->destination), O_PATH | O_DIRECTORY, 0);
	if (top < 0) {
		r = fc_error_set(err, errno, "mounts: reopen `%s`", m->destination);
		goto out;
	}
	for (size_t i = 0; i < n && r >= 0; i++) {
		const char *name = hier_name(&h[i]);
		/* As runc: the v1 hierarchies only; a hybrid host's cgroup2 tree
		 * (/sys/fs/cgroup/unified) is not shown in the container. */
		if (!*name || h[i].v2)
			continue;
		_cleanup_free_ char *dest = fc_asprintf("%s/%s", m->destination, name);
		if (strchr(name, '/') || (mkdirat(top, name, 0755) < 0 && errno != EEXIST)) {
			r = fc_error_set(err, strchr(name, '/') ? EINVAL : errno,
			                 "mounts: mkdir `%s`", dest);
			break;
		}
		_cleanup_close_ int d =
		    openat(top, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (d < 0) {
			r = fc_error_set(err, errno, "mounts: open `%s`", dest);
			break;
		}
		if (cgns) {
			const char *type = h[i].v2 ? "cgroup2" : "cgroup";
			if (mount(type, fdpath(d, buf), type, flags | (m->flags & MS_RDONLY),
			          h[i].v2 ? NULL : h[i].options) < 0)
				r = fc_error_set(err, errno, "mounts: mount %s (%s) on `%s`", type,
				                 h[i].options, dest);
		} else {
			const char *src = h[i].path;
			if (mount(src, fdpath(d, buf), NULL, MS_BIND | MS_REC, NULL) < 0)
				r = fc_error_set(err, errno, "mounts: bind `%s` on `%s`", src,
				                 dest);
			else if (m->flags & MS_RDONLY) {
				_cleanup_close_ int d2 =
				    openat(top, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
				r = remount(fdpath(d2, buf), MS_RDONLY | flags, dest, err);
			}
		}
		/* co-mounted controllers: cpu -> cpu,cpuacct links, as hosts have */
		if (r >= 0 && strchr(name, ',')) {
			_cleanup_free_ char *names = fc_strdup(name);
			char *save = NULL;
			for (char *s = strtok_r(names, ",", &save); s;
			     s = strtok_r(NULL, ",", &save))
				symlinkat(name, top, s);
		}
	}
	/* The tmpfs holding the hierarchies stays read-write, as runc leaves it
	 * (the hierarchies themselves are read-only as asked). */
out:
	return r;
out_err:
	r = t;
	goto out;
}

/* Copy a directory tree (files, directories, symlinks; modes, owners) from
 * the directory under a new tmpfs into it (the "tmpcopyup" option). */
static int copy_tree(int from, int to, struct fc_error **err)
{
	DIR *d = fdopendir(dup(from));
	struct dirent *de;
	int r = 0;
	if (!d)
		return fc_error_set(err, errno, "tmpcopyup: read the directory");
	while (r == 0 && (de = readdir(d))) {
		struct stat st;
		if (FC_STREQ(de->d_name, ".") || FC_STREQ(de->d_name, "..") ||
		    fstatat(from, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			if (mkdirat(to, de->d_name, st.st_mode & 07777) < 0 && errno != EEXIST)
				r = fc_error_set(err, errno, "tmpcopyup: mkdir `%s`", de->d_name);
			_cleanup_close_ int f2 = openat(
			    from, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			_cleanup_close_ int t2 =
			    openat(to, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (r == 0 && (f2 < 0 || t2 < 0))
				r = fc_error_set(err, errno, "tmpcopyup: open `%s`", de->d_name);
			if (r == 0)
				r = copy_tree(f2, t2, err);
		} else if (S_ISLNK(st.st_mode)) {
			char target[4096];
			ssize_t n = readlinkat(from, de->d_name, target, sizeof(target) - 1);
			if (n >= 0) {
				target[n] = '\0';
				if (symlinkat(target, to, de->d_name) < 0)
					r = fc_error_set(err, errno, "tmpcopyup: symlink `%s`",
					                 de->d_name);
			}
		} else if (S_ISREG(st.st_mode)) {
			_cleanup_close_ int in =
			    openat(from, de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			_cleanup_close_ int out =
			    openat(to, de->d_name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
			           st.st_mode & 07777);
			char buf[65536];
			ssize_t n;
			if (in < 0 || out < 0)
				r = fc_error_set(err, errno, "tmpcopyup: copy `%s`", de->d_name);
			while (r == 0 && (n = read(in, buf, sizeof(buf))) > 0)
				if (fc_write_all(out, buf, (size_t)n) < 0)
					r = fc_error_set(err, errno, "tmpcopyup: write `%s`",
					                 de->d_name);
		} else {
			continue; /* devices, fifos, sockets: not copied */
		}
		if (r == 0)
			fchownat(to, de->d_name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW);
	}
	closedir(d);
	return r;
}

/* procfs and sysfs go on a directory of the rootfs itself, as runc
 * requires: a symlink there (an image's /proc -> /somewhere) would move
 * them, and the masked and read-only paths that name /proc/..., elsewhere. */
static int ordinary_dir(const char *dest, const char *type, struct fc_error **err)
{
	_cleanup_free_ char *parent = fc_strdup(dest);
	char *slash = strrchr(parent, '/');
	const char *name = slash ? slash + 1 : parent;
	struct stat st;
	if (slash)
		*slash = '\0';
	if (!*name)
		return 0;
	_cleanup_close_ int d = openat2_in_root(*parent ? parent : "/", O_PATH | O_DIRECTORY, 0);
	if (d < 0 || fstatat(d, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0; /* missing: made as a directory */
	if (!S_ISDIR(st.st_mode))
		return fc_error_relay(err, ENOTDIR,
		                      "mounts: `%s`: filesystem \"%s\" must be mounted on ordinary "
		                      "directory (it is a %s in the rootfs)",
		                      dest, type, S_ISLNK(st.st_mode) ? "symlink" : "file");
	return 0;
}

static bool is_dev(const char *dest)
{
	size_t n = strlen(dest);
	while (n > 1 && dest[n - 1] == '/')
		n--;
	return n == 4 && strncmp(dest, "/dev", 4) == 0;
}

static bool late_readonly(const struct fc_mount *m)
{
	return (m->flags & MS_RDONLY) && !m->bind && m->type &&
	       (FC_STREQ(m->type, "tmpfs") || is_dev(m->destination));
}

static int mount_one(struct fc_create *c, const struct fc_mount *m, struct fc_error **err)
{
	const char *type = m->type;
	char buf[32];
	if (m->bind || (type && FC_STREQ(type, "bind")))
		return mount_bind(c, m, err);
	if (!type)
		return fc_error_set(err, EINVAL, "mounts: `%s` has no type", m->destination);
	if (FC_STREQ(type, "cgroup"))
		return mount_cgroup(c, m, err);
	if ((FC_STREQ(type, "proc") || FC_STREQ(type, "sysfs")) &&
	    ordinary_dir(m->destination, type, err) < 0)
		return fc_error_code(*err);
	_cleanup_close_ int t = make_target(m->destination, true, err);
	if (t < 0)
		return t;
	unsigned long flags = m->flags;
	/* As runc: a read-only tmpfs or /dev is mounted read-write, so the
	 * devices, /dev/pts and mounts below it can be made, and turns
	 * read-only at the end (fc_rootfs_finish). */
	if (late_readonly(m))
		flags &= ~MS_RDONLY;
	_cleanup_close_ int under = -1;
	if (m->tmpcopyup && FC_STREQ(type, "tmpfs")) {
		char b2[32];
		under = open(fdpath(t, b2), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (under < 0)
			return fc_error_set(err, errno, "mounts: tmpcopyup: open `%s`",
			                    m->destination);
	}
	if (mount(m->source ? m->source : type, fdpath(t, buf), type, flags, m->data) < 0) {
		int e = errno;
		/* Without their namespace (host network, IPC), sysfs and mqueue
		 * cannot be mounted anew: bind the host's, as runc does. */
		if (e == EPERM && (FC_STREQ(type, "sysfs") || FC_STREQ(type, "mqueue"))) {
			const char *src = FC_STREQ(type, "sysfs") ? "/sys" : "/dev/mqueue";
			if (mount(src, fdpath(t, buf), NULL, MS_BIND | MS_REC, NULL) == 0) {
				_cleanup_close_ int t2 =
				    openat2_in_root(skip_slash(m->destination), O_PATH, 0);
				if (flags & ~MS_REC)
					return remount(fdpath(t2, buf), flags & ~MS_REC,
					               m->destination, err);
				return 0;
			}
		}
		return fc_error_set(err, e, "mounts: mount %s on `%s`%s%s", type, m->destination,
		                    m->data ? " with " : "", m->data ? m->data : "");
	}
	if (under >= 0) {
		_cleanup_close_ int top =
		    openat2_in_root(skip_slash(m->destination), O_RDONLY | O_DIRECTORY, 0);
		if (top < 0)
			return fc_error_set(err, errno, "mounts: tmpcopyup: open the new `%s`",
			                    m->destination);
		if (copy_tree(under, top, err) < 0)
			return fc_error_wrap(err, "mounts: `%s`", m->destination);
	}
	if (m->propagation || m->rec_flags || m->rec_clear) {
		_cleanup_close_ int t2 = openat2_in_root(skip_slash(m->destination), O_PATH, 0);
		if (t2 < 0)
			return fc_error_set(err, errno, "mounts: reopen `%s`", m->destination);
		return apply_propagation_and_attrs(t2, m, err);
	}
	return 0;
}

static const struct {
	const char *path;
	unsigned major, minor;
} default_devices[] = {
    {"/dev/null", 1, 3},   {"/dev/zero", 1, 5},    {"/dev/full", 1, 7},
    {"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0},
};

static int make_device(const char *path, mode_t type, unsigned major, unsigned minor, mode_t perm,
                       uid_t uid, gid_t gid, bool in_userns, struct fc_error **err)
{
	_cleanup_free_ char *parent = fc_strdup(path);
	char *slash = strrchr(parent, '/');
	const char *name = slash ? slash + 1 : parent;
	if (slash)
		*slash = '\0';
	_cleanup_close_ int d = mkdir_in_root(*parent ? parent : "/", 0755, err);
	if (d < 0)
		return d;
	/* reopen as a real directory fd for mknodat */
	char buf[32];
	_cleanup_close_ int dd = open(fdpath(d, buf), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dd < 0)
		return fc_error_set(err, errno, "devices: open the parent of `%s`", path);
	unlinkat(dd, name, 0);
	if (!in_userns && type != S_IFIFO) {
		if (mknodat(dd, name, type | perm, makedev(major, minor)) < 0)
			return fc_error_set(err, errno, "devices: mknod `%s`", path);
	} else if (type == S_IFIFO) {
		if (mkfifoat(dd, name, perm) < 0)
			return fc_error_set(err, errno, "devices: mkfifo `%s`", path);
	} else {
		/* In a user namespace: bind the host's node over an empty file,
		 * once it is known to be that device (the path is the host's: a
		 * config must not turn a "device" into a bind of a host file). */
		struct stat hs;
		if (lstat(path, &hs) < 0 || (hs.st_mode & S_IFMT) != type ||
		    hs.st_rdev != makedev(major, minor))
			return fc_error_relay(
			    err, ENODEV,
			    "devices: `%s` on the host is not the device %c %u:%u "
			    "(in a user namespace it is bound from the host)",
			    path, type == S_IFBLK ? 'b' : 'c', major, minor);
		int fd = openat(dd, name, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0000);
		if (fd < 0)
			return fc_error_set(err, errno, "devices: create `%s`", path);
		close(fd);
		_cleanup_close_ int t = openat2_in_root(skip_slash(path), O_PATH, 0);
		if (t < 0 || mount(path, fdpath(t, buf), NULL, MS_BIND, NULL) < 0)
			return fc_error_set(err, errno, "devices: bind `%s`", path);
		return 0;
	}
	if (fchmodat(dd, name, perm, 0) < 0 ||
	    fchownat(dd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
		return fc_error_set(err, errno, "devices: set owner and mode of `%s`", path);
	return 0;
}

static bool dev_is_bind(const struct fc_spec *s)
{
	for (size_t i = 0; i < s->n_mounts; i++)
		if (FC_STREQ(s->mounts[i].destination, "/dev"))
			return s->mounts[i].bind ||
			       (s->mounts[i].type && FC_STREQ(s->mounts[i].type, "bind"));
	return false;
}

static int setup_dev(struct fc_create *c, struct fc_error **err)
{
	const struct fc_spec *s = c->spec;
	bool userns = fc_spec_ns(s, FC_NS_USER) != NULL;
	bool bind_dev = dev_is_bind(s);
	if (!bind_dev) {
		for (size_t i = 0; i < FC_ARRAY_SIZE(default_devices); i++) {
			bool configured = false;
			for (size_t j = 0; j < s->n_devices; j++)
				if (FC_STREQ(s->devices[j].path, default_devices[i].path))
					configured = true;
			if (configured)
				continue;
			if (make_device(default_devices[i].path, S_IFCHR, default_devices[i].major,
			                default_devices[i].minor, 0666, 0, 0, userns, err) < 0)
				return fc_error_code(*err);
		}
		static const char *const links[][2] = {
		    {"/proc/self/fd", "/dev/fd"},       {"/proc/self/fd/0", "/dev/stdin"},
		    {"/proc/self/fd/1", "/dev/stdout"}, {"/proc/self/fd/2", "/dev/stderr"},
		    {"pts/ptmx", "/dev/ptmx"},
		};
		_cleanup_close_ int d = mkdir_in_root("/dev", 0755, err);
		if (d < 0)
			return d;
		char buf[32];
		_cleanup_close_ int dd = open(fdpath(d, buf), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		for (size_t i = 0; dd >= 0 && i < FC_ARRAY_SIZE(links); i++) {
			if (symlinkat(links[i][0], dd, links[i][1] + 5) < 0 && errno != EEXIST)
				return fc_error_set(err, errno, "symlink `%s`", links[i][1]);
		}
		if (dd >= 0 && access("/proc/kcore", F_OK) == 0)
			symlinkat("/proc/kcore", dd, "core");
	}
	for (size_t i = 0; i < s->n_devices; i++) {
		const struct fc_device *dv = &s->devices[i];
		mode_t type = dv->type == 'b' ? S_IFBLK : dv->type == 'p' ? S_IFIFO : S_IFCHR;
		if (make_device(dv->path, type, (unsigned)dv->major, (unsigned)dv->minor,
		                dv->has_mode ? (dv->file_mode & 07777) : 0666,
		                dv->has_uid ? dv->uid : 0, dv->has_gid ? dv->gid : 0, userns,
		                err) < 0)
			return fc_error_code(*err);
	}
	return 0;
}

static bool is_cgroup_mount(const struct fc_mount *m)
{
	return m->type && FC_STREQ(m->type, "cgroup") && !m->bind;
}

static bool path_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* A cgroup mount waits until the init is in its cgroups (the create's
 * parent moves it there while we mount the rest); so does anything mounted
 * below it. */
static bool cgroup_deferred(const struct fc_spec *s, size_t i)
{
	for (size_t j = 0; j <= i; j++)
		if (is_cgroup_mount(&s->mounts[j]) &&
		    path_under(s->mounts[i].destination, s->mounts[j].destination))
			return true;
	return false;
}

int fc_rootfs_mount_cgroups(struct fc_create *c, struct fc_error **err)
{
	const struct fc_spec *s = c->spec;
	for (size_t i = 0; i < s->n_mounts; i++)
		if (cgroup_deferred(s, i) && mount_one(c, &s->mounts[i], err) < 0)
			return fc_error_code(*err);
	return 0;
}

int fc_rootfs_prepare(struct fc_create *c, struct fc_error **err)
{
	const struct fc_spec *s = c->spec;
	unsigned long prop =
	    s->rootfs_propagation_flags ? s->rootfs_propagation_flags : (MS_SLAVE | MS_REC);
	/* Nothing we mount may propagate back to the host. */
	/* shared and unbindable roots are set after pivot_root (which refuses
	 * shared mounts; an unbindable / cannot be bound) */
	if (mount(NULL, "/", NULL,
	          (prop & (MS_SHARED | MS_UNBINDABLE)) ? (MS_SLAVE | MS_REC) : prop, NULL) < 0)
		return fc_error_set(err, errno, "make / %s",
		                    s->rootfs_propagation ? s->rootfs_propagation : "rslave");
	if (c->opts->has_rootfs_mount) {
		/* the caller's detached root filesystem, here only */
		if (syscall(SYS_move_mount, c->opts->rootfs_mount, "", AT_FDCWD, s->root_path,
		            MOVE_MOUNT_F_EMPTY_PATH) < 0)
			return fc_error_set(err, errno,
			                    "root.path: attach the root filesystem on `%s`",
			                    s->root_path);
		close(c->opts->rootfs_mount);
	} else if (mount(s->root_path, s->root_path, NULL, MS_BIND | MS_REC, NULL) < 0) {
		return fc_error_set(err, errno, "root.path: bind `%s` onto itself", s->root_path);
	}
	rootfd = open(s->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return fc_error_set(err, errno, "root.path: open `%s`", s->root_path);
	for (size_t i = 0; i < s->n_mounts; i++)
		if (!cgroup_deferred(s, i) && mount_one(c, &s->mounts[i], err) < 0)
			return fc_error_code(*err);
	if (setup_dev(c, err) < 0)
		return fc_error_code(*err);
	return 0;
}

/* Is path at or below dir? */
static bool below(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* --no-pivot leaves the host's mounts in the container's mount namespace,
 * under the rootfs moved onto "/". The kernel lets a process mount a new
 * procfs or sysfs (in a user namespace of its own) only when one that is
 * fully visible is already in its mount namespace: the host's /proc
 * hidden down there would be one, and a nested `mount -t proc` would get a
 * /proc without the masked and read-only paths. So every proc and sysfs
 * mount outside the rootfs is detached first (or, when it cannot be,
 * covered with an empty tmpfs), as runc does. */
static int hide_host_procfs(const char *rootfs, struct fc_error **err)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	_cleanup_free_ char *line = NULL;
	_cleanup_strv_ char **targets = NULL;
	size_t cap = 0, n = 0;
	if (!f)
		return fc_error_set(err, errno, "--no-pivot: read /proc/self/mountinfo");
	while (getline(&line, &cap, f) > 0) {
		/* id parent maj:min root mountpoint opts [optional...] - fstype source superopts */
		char root[4096], mp[4096], fstype[64];
		char *sep = strstr(line, " - ");
		if (!sep || sscanf(line, "%*s %*s %*s %4095s %4095s", root, mp) != 2 ||
		    sscanf(sep + 3, "%63s", fstype) != 1)
			continue;
		if ((!FC_STREQ(fstype, "proc") && !FC_STREQ(fstype, "sysfs")) ||
		    !FC_STREQ(root, "/") || below(mp, rootfs))
			continue;
		/* mountinfo escapes blanks as \040 and the like: such a mount point is
		 * passed over (none of the host's procfs or sysfs has one) */
		if (strchr(mp, '\\'))
			continue;
		targets = fc_realloc(targets, (n + 2) * sizeof(char *));
		targets[n++] = fc_strdup(mp);
		targets[n] = NULL;
	}
	/* deepest first: a mount inside another goes before it */
	for (size_t i = n; i-- > 0;) {
		const char *mp = targets[i];
		struct statfs sfs;
		if (umount2(mp, MNT_DETACH) == 0 || errno == ENOENT)
			continue;
		/* EINVAL: gone with a mount above it, or locked (a user namespace) */
		if (statfs(mp, &sfs) < 0 ||
		    (sfs.f_type != PROC_SUPER_MAGIC && sfs.f_type != SYSFS_MAGIC))
			continue;
		if (mount("tmpfs", mp, "tmpfs", MS_RDONLY, "size=0k") < 0)
			return fc_error_set(err, errno, "--no-pivot: hide the host's `%s`", mp);
	}
	return 0;
}

int fc_rootfs_pivot(struct fc_create *c, struct fc_error **err)
{
	const struct fc_spec *s = c->spec;
	_cleanup_close_ int newroot = open(s->root_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (newroot < 0 || fchdir(newroot) < 0)
		return fc_error_set(err, errno, "chdir to the rootfs `%s`", s->root_path);
	if (c->opts->no_pivot) {
		if (hide_host_procfs(s->root_path, err) < 0)
			return fc_error_code(*err);
		if (mount(".", "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0)
			return fc_error_set(err, errno, "move the rootfs to / (--no-pivot)");
	} else {
		_cleanup_close_ int oldroot = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (syscall(SYS_pivot_root, ".", ".") < 0)
			return fc_error_set(err, errno, "pivot_root to `%s`", s->root_path);
		/* The old root is stacked under the new one: detach it without
		 * letting the unmount propagate anywhere. */
		if (oldroot >= 0 && fchdir(oldroot) == 0) {
			mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL);
			if (umount2(".", MNT_DETACH) < 0)
				return fc_error_set(err, errno, "detach the old root");
		}
	}
	if (chdir("/") < 0)
		return fc_error_set(err, errno, "chdir /");
	/* pivot_root refuses shared mounts: a shared root is made so after it. */
	unsigned long prop = s->rootfs_propagation_flags;
	if ((prop & (MS_SHARED | MS_UNBINDABLE)) && mount(NULL, "/", NULL, prop, NULL) < 0)
		return fc_error_set(err, errno, "rootfsPropagation: make / %s",
		                    s->rootfs_propagation);
	if (rootfd >= 0) {
		close(rootfd);
		rootfd = -1;
	}
	return 0;
}

/* The new mount API on descriptors: nothing here goes through a path that
 * the container could have redirected, and no /proc is needed. */
static int move_onto(int tree, int target)
{
	return (int)syscall(SYS_move_mount, tree, "", target, "",
	                    MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
}

/* Mounts on descriptors: through the container's procfs (/proc/self/fd/N,
 * the fd's own dentry and mount), or, without one, with the new mount API
 * (which frees a detached tree per call, an RCU grace period each: slower). */
static bool fd_paths;

static int readonly_path(const char *p, struct fc_error **err)
{
	_cleanup_close_ int t = openat2_in_root(p, O_PATH, 0);
	char buf[32], buf2[32];
	if (t < 0)
		return errno == ENOENT
		           ? 0
		           : fc_error_set(err, errno, "linux.readonlyPaths: `%s`%s", p,
		                          errno == ELOOP ? ": a magic link, refused" : "");
	if (fd_paths) {
		if (mount(fdpath(t, buf), fdpath(t, buf2), NULL, MS_BIND | MS_REC, NULL) < 0)
			return fc_error_set(err, errno, "linux.readonlyPaths: bind `%s`", p);
		/* the new mount on top, as the path now resolves */
		_cleanup_close_ int t2 = openat2_in_root(p, O_PATH, 0);
		if (t2 < 0)
			return fc_error_set(err, errno, "linux.readonlyPaths: reopen `%s`", p);
		if (remount(fdpath(t2, buf), MS_RDONLY | MS_REC | MS_NOSUID | MS_NODEV | MS_NOEXEC,
		            p, err) < 0)
			return fc_error_wrap(err, "linux.readonlyPaths");
		return 0;
	}
	_cleanup_close_ int tree =
	    (int)syscall(SYS_open_tree, t, "",
	                 OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);
	if (tree < 0)
		return fc_error_set(err, errno, "linux.readonlyPaths: bind `%s`", p);
	struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
	                                      MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC};
	if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr,
	            sizeof(attr)) < 0)
		return fc_error_set(err, errno, "linux.readonlyPaths: make `%s` read-only", p);
	if (move_onto(tree, t) < 0)
		return fc_error_set(err, errno, "linux.readonlyPaths: mount `%s`", p);
	return 0;
}

/* The container's /dev/null, checked to be the null device (a masked file
 * gets it bound over it; an image must not swap in something else). */
static int open_null(struct fc_error **err)
{
	struct stat st;
	int fd = openat2_in_root("dev/null", O_PATH | O_NOFOLLOW, 0);
	if (fd < 0)
		return fc_error_set(err, errno,
		                    "linux.maskedPaths: open /dev/null in the container");
	if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3)) {
		close(fd);
		return fc_error_set(err, EPERM,
		                    "linux.maskedPaths: /dev/null in the container is not the null "
		                    "device (c 1:3)");
	}
	return fd;
}

static int masked_path(const char *p, int *nullfd, struct fc_error **err)
{
	struct stat st;
	_cleanup_close_ int t = openat2_in_root(p, O_PATH, 0);
	if (t < 0)
		return errno == ENOENT
		           ? 0
		           : fc_error_set(err, errno, "linux.maskedPaths: `%s`%s", p,
		                          errno == ELOOP ? ": a magic link, refused" : "");
	if (fstat(t, &st) < 0)
		return fc_error_set(err, errno, "linux.maskedPaths: `%s`", p);
	if (!S_ISDIR(st.st_mode) && *nullfd < 0 && (*nullfd = open_null(err)) < 0)
		return *nullfd;
	if (fd_paths) {
		char buf[32], buf2[32];
		int rc = S_ISDIR(st.st_mode)
		             ? mount("tmpfs", fdpath(t, buf), "tmpfs", MS_RDONLY, "size=0k")
		             : mount(fdpath(*nullfd, buf2), fdpath(t, buf), NULL, MS_BIND, NULL);
		if (rc < 0)
			return fc_error_set(err, errno, "linux.maskedPaths: mask `%s`", p);
		return 0;
	}
	_cleanup_close_ int tree = -1;
	if (S_ISDIR(st.st_mode)) {
		/* an empty read-only tmpfs */
		_cleanup_close_ int fs = (int)syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC);
		if (fs < 0 || syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "size", "0k", 0) < 0 ||
		    syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
			return fc_error_set(err, errno, "linux.maskedPaths: tmpfs for `%s`", p);
		tree = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY);
	} else {
		tree = (int)syscall(SYS_open_tree, *nullfd, "",
		                    OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	}
	if (tree < 0 || move_onto(tree, t) < 0)
		return fc_error_set(err, errno, "linux.maskedPaths: mask `%s`", p);
	return 0;
}

int fc_rootfs_finish(struct fc_create *c, struct fc_error **err)
{
	const struct fc_spec *s = c->spec;
	int r = 0, nullfd = -1;
	/* After pivot_root (or --no-pivot's chroot) our "/" is the rootfs. */
	rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return fc_error_set(err, errno, "open the container's root");
	struct statfs sfs;
	fd_paths = statfs("/proc/self/fd", &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC;
	for (char **p = s->readonly_paths; r >= 0 && p && *p; p++)
		r = readonly_path(*p, err);
	for (char **p = s->masked_paths; r >= 0 && p && *p; p++)
		r = masked_path(*p, &nullfd, err);
	if (nullfd >= 0)
		close(nullfd);
	/* A missing process.cwd is made, as runc does (before / turns read-only). */
	if (r >= 0 && s->process && s->process->cwd) {
		int fd = fc_in_root_mkdir_p(rootfd, s->process->cwd, 0755, err);
		if (fd < 0)
			r = fc_error_wrap(err, "process.cwd");
		else
			close(fd);
	}
	/* Read-only tmpfs mounts and /dev, mounted read-write, turn read-only
	 * now (runc's finalizeRootfs); the console's mount point is made
	 * first, the terminal is set up after this. */
	for (size_t i = 0; r >= 0 && i < s->n_mounts; i++) {
		const struct fc_mount *m = &s->mounts[i];
		if (!late_readonly(m))
			continue;
		if (is_dev(m->destination) && s->process && s->process->terminal) {
			int fd = fc_in_root_open(rootfd, "dev/console",
			                         O_CREAT | O_WRONLY | O_NOFOLLOW, 0600);
			if (fd >= 0)
				close(fd);
		}
		char buf[32];
		_cleanup_close_ int t = openat2_in_root(skip_slash(m->destination), O_PATH, 0);
		if (t < 0)
			r = fc_error_set(err, errno, "mounts: reopen `%s`", m->destination);
		else
			r = remount(fdpath(t, buf),
			            MS_RDONLY |
			                (m->flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME |
			                             MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME)),
			            m->destination, err);
	}
	close(rootfd);
	rootfd = -1;
	if (r >= 0 && s->root_readonly && remount("/", MS_RDONLY, "/ (root.readonly)", err) < 0)
		r = fc_error_code(*err);
	return r;
}
