/* SPDX-License-Identifier: MIT */
/* secrets.c: the secrets store and each function's read-only copy
 * (secrets.h). The store's files are read and written by descriptor under
 * the directory's, never through a path a name could lead elsewhere (names
 * are checked: no slash, not . or ..). */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "secrets.h"

static int store_dir(const char *root, bool make, struct fc_error **err)
{
	_cleanup_free_ char *dir = fc_asprintf("%s/secrets", root);
	if (make) {
		int r = fc_mkdir_p_at(AT_FDCWD, dir, 0700, err);
		if (r < 0)
			return r;
	}
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return fc_error_set(err, errno, "secrets: open `%s`", dir);
	return fd;
}

static int check_name(const char *name, struct fc_error **err)
{
	if (!fcpool_secret_name_valid(name))
		return fc_error_set(err, EINVAL,
		                    "secret name `%s`: expected [a-zA-Z0-9_.-], 1 to 253 "
		                    "characters, not . or ..",
		                    name ? name : "");
	return 0;
}

/* Write data to dirfd/name through a temporary name, synced, then renamed. */
static int write_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                    uid_t uid, gid_t gid, const char *what, struct fc_error **err)
{
	_cleanup_free_ char *tmp = fc_asprintf(".%s.tmp", name);
	unlinkat(dirfd, tmp, 0);
	_cleanup_close_ int fd =
	    openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	int r = fd < 0 ? -errno : 0;
	if (r == 0 && (uid != (uid_t)-1) && fchown(fd, uid, gid) < 0)
		r = -errno;
	if (r == 0 && fchmod(fd, mode) < 0)
		r = -errno;
	if (r == 0)
		r = fc_write_all(fd, data, len);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (r == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
		r = -errno;
	if (r < 0) {
		unlinkat(dirfd, tmp, 0);
		return fc_error_set(err, -r, "%s `%s`", what, name);
	}
	return 0;
}

int secrets_set(const char *root, const char *name, const void *value, size_t len,
                enum secret_set_mode mode, struct fc_error **err)
{
	int r = check_name(name, err);
	if (r < 0)
		return r;
	if (len > SECRET_MAX_VALUE)
		return fc_error_set(err, E2BIG, "secret `%s`: value of %zu bytes, at most %u", name,
		                    len, SECRET_MAX_VALUE);
	_cleanup_close_ int dir = store_dir(root, true, err);
	if (dir < 0)
		return dir;
	struct stat st;
	bool exists = fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
	if (mode == SECRET_CREATE && exists)
		return fc_error_relay(err, EEXIST, "secret `%s` exists (update it with PUT)", name);
	if (mode == SECRET_UPDATE && !exists)
		return fc_error_relay(err, ENOENT, "no secret `%s`", name);
	return write_at(dir, name, value, len, 0600, (uid_t)-1, (gid_t)-1, "write secret", err);
}

int secrets_remove(const char *root, const char *name, struct fc_error **err)
{
	int r = check_name(name, err);
	if (r < 0)
		return r;
	_cleanup_close_ int dir = store_dir(root, true, err);
	if (dir < 0)
		return dir;
	if (unlinkat(dir, name, 0) < 0)
		return errno == ENOENT ? fc_error_relay(err, ENOENT, "no secret `%s`", name)
		                       : fc_error_set(err, errno, "remove secret `%s`", name);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int secrets_list(const char *root, char ***names, struct fc_error **err)
{
	*names = fc_calloc(1, sizeof(char *));
	int fd = store_dir(root, true, err);
	if (fd < 0)
		return fd;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return fc_error_set(err, errno, "secrets: list");
	}
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && fcpool_secret_name_valid(de->d_name)) {
			*names = fc_realloc(*names, (n + 2) * sizeof(char *));
			(*names)[n++] = fc_strdup(de->d_name);
			(*names)[n] = NULL;
		}
	closedir(d);
	qsort(*names, n, sizeof(char *), cmp_str);
	return 0;
}

/* The value of a secret (at most SECRET_MAX_VALUE bytes). */
static int read_secret(int dir, const char *name, char **data, size_t *len, struct fc_error **err)
{
	_cleanup_close_ int fd = openat(dir, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT
		           ? fc_error_relay(err, ENOENT,
		                            "secret `%s` does not exist (faas-cli secret create)",
		                            name)
		           : fc_error_set(err, errno, "read secret `%s`", name);
	*data = fc_malloc(SECRET_MAX_VALUE + 1);
	ssize_t n = fc_read_all(fd, *data, SECRET_MAX_VALUE + 1);
	if (n < 0 || n > SECRET_MAX_VALUE) {
		free(*data);
		*data = NULL;
		return fc_error_set(err, n < 0 ? (int)-n : E2BIG, "read secret `%s`", name);
	}
	*len = (size_t)n;
	return 0;
}

static char *stage_path(const char *root, const char *fn)
{
	return fc_asprintf("%s/fnsecrets/%s", root, fn);
}

int secrets_stage(const char *root, const char *fn, char *const *names, uid_t uid, gid_t gid,
                  char **dir_out, struct fc_error **err)
{
	_cleanup_close_ int store = store_dir(root, true, err);
	if (store < 0)
		return store;
	/* <root>/fnsecrets is passable (0711): a sandbox's root (an unprivileged
	 * host user) reaches its function's directory, owned by it. The copy is
	 * updated in place, a file at a time (each renamed into place), so the
	 * sandboxes that mount it see the new values. */
	_cleanup_free_ char *top = fc_asprintf("%s/fnsecrets", root);
	_cleanup_free_ char *dir = stage_path(root, fn);
	int r = fc_mkdir_p_at(AT_FDCWD, top, 0711, err);
	if (r < 0)
		return r;
	if (chmod(top, 0711) < 0 || (mkdir(dir, 0500) < 0 && errno != EEXIST))
		return fc_error_set(err, errno, "function `%s`: secrets: mkdir `%s`", fn, dir);
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (dfd < 0 || fchown(dfd, uid, gid) < 0 || fchmod(dfd, 0500) < 0)
		return fc_error_set(err, errno, "function `%s`: secrets: `%s`", fn, dir);
	for (size_t i = 0; names && names[i] && r >= 0; i++) {
		char *data = NULL;
		size_t len = 0;
		r = check_name(names[i], err);
		if (r >= 0)
			r = read_secret(store, names[i], &data, &len, err);
		if (r >= 0)
			r = write_at(dfd, names[i], data, len, 0400, uid, gid, "stage secret", err);
		if (data) {
			explicit_bzero(data, len);
			free(data);
		}
	}
	if (r < 0)
		return fc_error_wrap(err, "function `%s`", fn);
	/* what it no longer asks for goes */
	int dup = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
	DIR *d = dup >= 0 ? fdopendir(dup) : NULL;
	struct dirent *de;
	while (d && (de = readdir(d))) {
		bool keep = FC_STREQ(de->d_name, ".") || FC_STREQ(de->d_name, "..");
		for (size_t i = 0; names && names[i] && !keep; i++)
			keep = FC_STREQ(de->d_name, names[i]);
		if (!keep)
			unlinkat(dfd, de->d_name, 0);
	}
	if (d)
		closedir(d);
	else if (dup >= 0)
		close(dup);
	*dir_out = TAKE_PTR(dir);
	return 0;
}

void secrets_restage(const char *root, const char *fn, const char *name)
{
	_cleanup_free_ char *dir = stage_path(root, fn);
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	if (dfd < 0 || fstat(dfd, &st) < 0 || faccessat(dfd, name, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
		return; /* fn does not use it */
	struct fc_error *e = NULL;
	_cleanup_close_ int store = store_dir(root, false, &e);
	char *data = NULL;
	size_t len = 0;
	if (store >= 0 && read_secret(store, name, &data, &len, &e) >= 0)
		write_at(dfd, name, data, len, 0400, st.st_uid, st.st_gid, "stage secret", &e);
	if (data) {
		explicit_bzero(data, len);
		free(data);
	}
	if (e)
		fc_log(FC_LOG_WARN, "function `%s`: %s", fn, e->msg);
	fc_error_free(e);
}

void secrets_unstage(const char *root, const char *fn)
{
	_cleanup_free_ char *dir = stage_path(root, fn);
	struct fc_error *e = NULL;
	fc_rm_rf_at(AT_FDCWD, dir, &e);
	fc_error_free(e);
}
