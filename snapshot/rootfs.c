/* SPDX-License-Identifier: MIT */
/* rootfs.c: an image's root filesystem (overlay of its layer dirs, or a
 * flattened copy) and its user resolved against the image's /etc/passwd. */
#include <dirent.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "snap-private.h"

/* The new mount API, one lower dir at a time ("lowerdir+", Linux 6.8): no
 * limit but overlay's own (500 layers). The kernel's own message, when it
 * left one in the context, goes into the error. */
static int overlay_fsconfig(char *const *layers, size_t n, const char *upper, const char *work,
                            const char *target, bool ro, struct fc_error **err)
{
	_cleanup_close_ int fs = (int)syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC);
	_cleanup_close_ int mnt = -1;
	const char *step = "fsopen";
	int r = fs < 0 ? -errno : 0;
	for (size_t i = n; r == 0 && i-- > 0;) {
		step = layers[i];
		if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "lowerdir+", layers[i], 0) < 0)
			r = -errno;
	}
	if (r == 0 && upper &&
	    (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "upperdir", upper, 0) < 0 ||
	     syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "workdir", work, 0) < 0)) {
		step = "upperdir/workdir";
		r = -errno;
	}
	if (r == 0 && syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
		step = "create";
		r = -errno;
	}
	if (r == 0) {
		mnt = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, ro ? MOUNT_ATTR_RDONLY : 0);
		if (mnt < 0 || syscall(SYS_move_mount, mnt, "", AT_FDCWD, target,
		                       MOVE_MOUNT_F_EMPTY_PATH) < 0) {
			step = "attach";
			r = -errno;
		}
	}
	if (r == 0)
		return 0;
	char log[256];
	ssize_t k = fs >= 0 ? read(fs, log, sizeof(log) - 1) : -1;
	if (k > 2 && log[1] == ' ') { /* "e overlay: ..." */
		log[k - (log[k - 1] == '\n')] = '\0';
		return fc_error_set(err, -r, "mount overlay on `%s` (%zu layers): %s", target, n,
		                    log + 2);
	}
	return fc_error_set(err, -r, "mount overlay on `%s` (%zu layers): %s", target, n, step);
}

int fcsnap_mount_overlay(char *const *layers, size_t n, const char *upper, const char *work,
                         const char *target, struct fc_error **err)
{
	struct fc_buf o = {0};
	int r = 0;
	if (n == 0)
		return fc_error_set(err, EINVAL, "mount overlay on `%s`: no layers", target);
	/* overlay lists the top layer first */
	fc_buf_printf(&o, "lowerdir=");
	for (size_t i = n; i-- > 0;) {
		if (strpbrk(layers[i], ":,")) {
			free(o.data);
			return fc_error_set(err, EINVAL, "layer dir `%s` contains `:` or `,`",
			                    layers[i]);
		}
		fc_buf_printf(&o, "%s%s", i + 1 == n ? "" : ":", layers[i]);
	}
	if (upper)
		fc_buf_printf(&o, ",upperdir=%s,workdir=%s", upper, work);
	/* mount(2) takes the options in one page; longer lists go one dir at
	 * a time. */
	if (o.len < 4000) {
		r = mount("overlay", target, "overlay", upper ? 0 : MS_RDONLY, o.data);
		if (r < 0)
			r = fc_error_set(err, errno, "mount overlay on `%s` (%zu layers)", target,
			                 n);
	} else {
		r = overlay_fsconfig(layers, n, upper, work, target, !upper, err);
	}
	free(o.data);
	return r;
}

int fcsnap_mount_rootfs(const struct fcsnap_image *img, const char *target, const char *upper,
                        const char *work, struct fc_error **err)
{
	if (img->n_layers == 0)
		return fc_error_set(err, EINVAL, "image `%s` has no layers", img->name);
	if (fc_mkdir_p_at(AT_FDCWD, target, 0755, err) < 0)
		return fc_error_wrap(err, "rootfs");
	/* overlay needs at least two lower dirs without an upper dir */
	if (!upper && img->n_layers == 1) {
		if (mount(img->layer_dirs[0], target, NULL, MS_BIND, NULL) < 0 ||
		    mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
			return fc_error_set(err, errno, "bind-mount layer `%s` on `%s`",
			                    img->layer_dirs[0], target);
		return 0;
	}
	if (upper && (fc_mkdir_p_at(AT_FDCWD, upper, 0755, err) < 0 ||
	              fc_mkdir_p_at(AT_FDCWD, work, 0700, err) < 0))
		return fc_error_wrap(err, "overlay upper/work");
	return fcsnap_mount_overlay(img->layer_dirs, img->n_layers, upper, work, target, err);
}

int fcsnap_unmount_rootfs(const char *target, struct fc_error **err)
{
	if (umount2(target, UMOUNT_NOFOLLOW) < 0) {
		if (errno == EINVAL)
			return fc_error_set(err, EINVAL, "`%s` is not a mount point", target);
		return fc_error_set(err, errno, "unmount `%s`", target);
	}
	return 0;
}

/* ---- flattened copy ------------------------------------------------------ */

static int copy_tree(int src, int dst, const char *rel, struct fc_error **err);

static int copy_meta(int sfd, int dfd, const struct stat *st, const char *rel, bool link,
                     int dparent, const char *name, struct fc_error **err)
{
	if (link) {
		fchownat(dparent, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW);
		struct timespec ts[2] = {st->st_atim, st->st_mtim};
		utimensat(dparent, name, ts, AT_SYMLINK_NOFOLLOW);
		return 0;
	}
	if (fchown(dfd, st->st_uid, st->st_gid) < 0 && geteuid() == 0)
		return fc_error_set(err, errno, "copy `%s`: chown", rel);
	if (fchmod(dfd, st->st_mode & 07777) < 0)
		return fc_error_set(err, errno, "copy `%s`: chmod", rel);
	char names[4096];
	ssize_t n = flistxattr(sfd, names, sizeof(names));
	for (ssize_t i = 0; i < n; i += (ssize_t)strlen(names + i) + 1) {
		if (strncmp(names + i, "trusted.overlay.", 16) == 0)
			continue;
		char val[4096];
		ssize_t vl = fgetxattr(sfd, names + i, val, sizeof(val));
		if (vl >= 0)
			fsetxattr(dfd, names + i, val, (size_t)vl, 0);
	}
	struct timespec ts[2] = {st->st_atim, st->st_mtim};
	futimens(dfd, ts);
	return 0;
}

static int copy_entry(int src, int dst, const char *name, const char *rel, struct fc_error **err)
{
	struct stat st, dt;
	if (fstatat(src, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return fc_error_set(err, errno, "copy `%s`: stat", rel);
	bool exists = fstatat(dst, name, &dt, AT_SYMLINK_NOFOLLOW) == 0;
	/* a whiteout deletes what the lower layers had */
	if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
		if (exists && fc_rm_rf_at(dst, name, err) < 0)
			return fc_error_wrap(err, "whiteout `%s`", rel);
		return 0;
	}
	if (exists && !(S_ISDIR(st.st_mode) && S_ISDIR(dt.st_mode))) {
		if (fc_rm_rf_at(dst, name, err) < 0)
			return fc_error_wrap(err, "replace `%s`", rel);
		exists = false;
	}
	if (S_ISDIR(st.st_mode)) {
		_cleanup_close_ int sfd =
		    openat(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sfd < 0)
			return fc_error_set(err, errno, "copy `%s`: open", rel);
		char v[2];
		if (exists && fgetxattr(sfd, "trusted.overlay.opaque", v, sizeof(v)) == 1 &&
		    v[0] == 'y') {
			if (fc_rm_rf_at(dst, name, err) < 0)
				return fc_error_wrap(err, "opaque `%s`", rel);
			exists = false;
		}
		if (!exists && mkdirat(dst, name, 0700) < 0)
			return fc_error_set(err, errno, "copy `%s`: mkdir", rel);
		_cleanup_close_ int dfd =
		    openat(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dfd < 0)
			return fc_error_set(err, errno, "copy `%s`: open target", rel);
		if (copy_tree(sfd, dfd, rel, err) < 0)
			return fc_error_code(*err);
		return copy_meta(sfd, dfd, &st, rel, false, dst, name, err);
	}
	if (S_ISLNK(st.st_mode)) {
		char t[4097];
		ssize_t n = readlinkat(src, name, t, sizeof(t) - 1);
		if (n < 0)
			return fc_error_set(err, errno, "copy `%s`: readlink", rel);
		t[n] = 0;
		if (symlinkat(t, dst, name) < 0)
			return fc_error_set(err, errno, "copy `%s`: symlink", rel);
		return copy_meta(-1, -1, &st, rel, true, dst, name, err);
	}
	if (S_ISFIFO(st.st_mode)) {
		if (mkfifoat(dst, name, 0600) < 0)
			return fc_error_set(err, errno, "copy `%s`: mkfifo", rel);
		_cleanup_close_ int dfd = openat(dst, name, O_PATH | O_CLOEXEC);
		fchownat(dst, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW);
		fchmodat(dst, name, st.st_mode & 07777, 0);
		return 0;
	}
	if (!S_ISREG(st.st_mode))
		return 0;
	_cleanup_close_ int sfd = openat(src, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_close_ int dfd =
	    openat(dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (sfd < 0 || dfd < 0)
		return fc_error_set(err, errno, "copy `%s`: open", rel);
	for (off_t left = st.st_size; left > 0;) {
		ssize_t n = copy_file_range(sfd, NULL, dfd, NULL, (size_t)left, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* fall back to read/write (EXDEV on old kernels, ...) */
			char buf[65536];
			ssize_t rn = read(sfd, buf, sizeof(buf));
			if (rn <= 0)
				return fc_error_set(err, rn < 0 ? errno : EIO, "copy `%s`: read",
				                    rel);
			if (fc_write_all(dfd, buf, (size_t)rn) < 0)
				return fc_error_set(err, errno, "copy `%s`: write", rel);
			n = rn;
		}
		left -= n;
	}
	return copy_meta(sfd, dfd, &st, rel, false, dst, name, err);
}

static int copy_tree(int src, int dst, const char *rel, struct fc_error **err)
{
	int fd = fcntl(src, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return fc_error_set(err, errno, "copy `%s`", rel);
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return fc_error_set(err, errno, "copy `%s`", rel);
	}
	rewinddir(d);
	struct dirent *de;
	int r = 0;
	while ((de = readdir(d))) {
		if (FC_STREQ(de->d_name, ".") || FC_STREQ(de->d_name, ".."))
			continue;
		_cleanup_free_ char *sub = fc_asprintf("%s/%s", rel, de->d_name);
		r = copy_entry(src, dst, de->d_name, sub, err);
		if (r < 0)
			break;
	}
	closedir(d);
	return r;
}

int fcsnap_copy_rootfs(const struct fcsnap_image *img, const char *target, struct fc_error **err)
{
	if (fc_mkdir_p_at(AT_FDCWD, target, 0755, err) < 0)
		return fc_error_wrap(err, "rootfs");
	_cleanup_close_ int dfd = open(target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return fc_error_set(err, errno, "open `%s`", target);
	for (size_t i = 0; i < img->n_layers; i++) {
		_cleanup_close_ int sfd =
		    open(img->layer_dirs[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (sfd < 0)
			return fc_error_set(err, errno, "open layer `%s`", img->layer_dirs[i]);
		if (copy_tree(sfd, dfd, "", err) < 0)
			return fc_error_wrap(err, "copy layer %s", img->diff_ids[i]);
		struct stat st;
		if (fstat(sfd, &st) == 0)
			copy_meta(sfd, dfd, &st, "/", false, -1, NULL, err);
	}
	return 0;
}

/* ---- users ---------------------------------------------------------------- */

/* Read a file of the image as the overlay would show it: the top layer that
 * has it (or whites it out) wins. */
static int read_image_file(const struct fcsnap_image *img, const char *path, char **out)
{
	for (size_t i = img->n_layers; i-- > 0;) {
		_cleanup_close_ int root =
		    open(img->layer_dirs[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (root < 0)
			return -errno;
		int fd = snap_openat_in_root(root, path, O_RDONLY | O_NOCTTY, 0);
		if (fd == -ENOENT || fd == -ENOTDIR)
			continue;
		if (fd < 0)
			return fd;
		struct stat st;
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
			close(fd);
			return -ENOENT; /* whiteout or not a file */
		}
		char p[64];
		snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
		int r = fc_read_file_at(AT_FDCWD, p, out, NULL, 4 << 20, NULL);
		close(fd);
		return r;
	}
	return -ENOENT;
}

/* Find name (or numeric id) in a passwd/group style file: field 3 (id) and 4 (gid). */
static int lookup(const char *db, const char *name, unsigned long *id, unsigned long *gid)
{
	char *save = NULL;
	_cleanup_free_ char *copy = fc_strdup(db);
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[5] = {0};
		char *s = line;
		for (int k = 0; k < 5 && s; k++) {
			f[k] = s;
			s = strchr(s, ':');
			if (s)
				*s++ = 0;
		}
		if (!f[0] || !f[2] || !FC_STREQ(f[0], name))
			continue;
		*id = strtoul(f[2], NULL, 10);
		if (gid)
			*gid = f[3] ? strtoul(f[3], NULL, 10) : 0;
		return 0;
	}
	return -ENOENT;
}

static bool numeric(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

int fcsnap_resolve_user(const struct fcsnap_image *img, uid_t *uid, gid_t *gid,
                        struct fc_error **err)
{
	const char *u = img->config.user;
	*uid = 0;
	*gid = 0;
	if (!u || !*u)
		return 0;
	_cleanup_free_ char *user = fc_strdup(u);
	char *group = strchr(user, ':');
	if (group)
		*group++ = 0;
	unsigned long id = 0, g = 0;
	bool have_gid = false;
	if (numeric(user)) {
		id = strtoul(user, NULL, 10);
		_cleanup_free_ char *pw = NULL;
		/* a numeric user's primary group comes from passwd when listed */
		if (read_image_file(img, "/etc/passwd", &pw) == 0) {
			char *save = NULL;
			for (char *line = strtok_r(pw, "\n", &save); line;
			     line = strtok_r(NULL, "\n", &save)) {
				unsigned long lid, lg;
				if (sscanf(line, "%*[^:]:%*[^:]:%lu:%lu", &lid, &lg) == 2 &&
				    lid == id) {
					g = lg;
					have_gid = true;
					break;
				}
			}
		}
	} else {
		_cleanup_free_ char *pw = NULL;
		if (read_image_file(img, "/etc/passwd", &pw) < 0)
			return fc_error_set(err, ENOENT,
			                    "image `%s`: user `%s`: the image has no /etc/passwd",
			                    img->name, user);
		if (lookup(pw, user, &id, &g) < 0)
			return fc_error_set(
			    err, ENOENT, "image `%s`: user `%s` is not in the image's /etc/passwd",
			    img->name, user);
		have_gid = true;
	}
	if (group && *group) {
		if (numeric(group)) {
			g = strtoul(group, NULL, 10);
		} else {
			_cleanup_free_ char *gr = NULL;
			if (read_image_file(img, "/etc/group", &gr) < 0 ||
			    lookup(gr, group, &g, NULL) < 0)
				return fc_error_set(
				    err, ENOENT,
				    "image `%s`: group `%s` is not in the image's /etc/group",
				    img->name, group);
		}
	} else if (!have_gid) {
		g = 0;
	}
	*uid = (uid_t)id;
	*gid = (gid_t)g;
	return 0;
}
