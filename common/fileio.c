/* SPDX-License-Identifier: MIT */
/* fileio.c: whole-file reads, atomic writes, mkdir -p, rm -rf. */
#include "fc-util.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

int fc_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

ssize_t fc_read_all(int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t got = 0;
	while (got < len) {
		ssize_t n = read(fd, p + got, len - got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

int fc_read_file_at(int dirfd, const char *path, char **out, size_t *len, size_t max,
                    struct fc_error **err)
{
	_cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	_cleanup_free_ char *buf = NULL;
	size_t n = 0, cap = 0;
	if (fd < 0)
		return fc_error_set(err, errno, "open `%s`", path);
	if (!max)
		max = 64u << 20;
	for (;;) {
		if (n + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			buf = fc_realloc(buf, cap);
		}
		ssize_t r = read(fd, buf + n, cap - n - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return fc_error_set(err, errno, "read `%s`", path);
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max)
			return fc_error_set(err, EFBIG, "read `%s`: larger than %zu bytes", path,
			                    max);
	}
	if (!buf)
		buf = fc_calloc(1, 1);
	buf[n] = '\0';
	if (len)
		*len = n;
	*out = TAKE_PTR(buf);
	return 0;
}

int fc_write_file_atomic_at(int dirfd, const char *path, const void *data, size_t len, mode_t mode,
                            struct fc_error **err)
{
	_cleanup_free_ char *tmp = fc_asprintf("%s.tmp-%d", path, (int)getpid());
	_cleanup_close_ int fd =
	    openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	int r;
	if (fd < 0)
		return fc_error_set(err, errno, "create `%s`", tmp);
	r = fc_write_all(fd, data, len);
	if (r < 0) {
		unlinkat(dirfd, tmp, 0);
		return fc_error_set(err, -r, "write `%s`", tmp);
	}
	if (renameat(dirfd, tmp, dirfd, path) < 0) {
		r = errno;
		unlinkat(dirfd, tmp, 0);
		return fc_error_set(err, r, "rename `%s` to `%s`", tmp, path);
	}
	return 0;
}

int fc_write_string_at(int dirfd, const char *path, const char *s, struct fc_error **err)
{
	_cleanup_close_ int fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return fc_error_set(err, errno, "open `%s`", path);
	ssize_t n = write(fd, s, strlen(s));
	if (n < 0)
		return fc_error_set(err, errno, "write `%s` to `%s`", s, path);
	return 0;
}

int fc_mkdir_p_at(int dirfd, const char *path, mode_t mode, struct fc_error **err)
{
	_cleanup_free_ char *p = fc_strdup(path);
	for (char *s = p + (p[0] == '/');; s++) {
		bool end = *s == '\0';
		if (*s == '/' || end) {
			char c = *s;
			*s = '\0';
			if (*p && mkdirat(dirfd, p, mode) < 0 && errno != EEXIST)
				return fc_error_set(err, errno, "mkdir `%s`", p);
			*s = c;
		}
		if (end)
			break;
	}
	return 0;
}

static int rm_rf_children(int fd, dev_t dev, struct fc_error **err)
{
	DIR *d = fdopendir(fd);
	struct dirent *de;
	int r = 0;
	if (!d) {
		close(fd);
		return fc_error_set(err, errno, "opendir");
	}
	while ((de = readdir(d))) {
		struct stat st;
		if (FC_STREQ(de->d_name, ".") || FC_STREQ(de->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			if (st.st_dev != dev)
				continue; /* a mount point: never cross it */
			int cfd = openat(dirfd(d), de->d_name,
			                 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (cfd >= 0 && rm_rf_children(cfd, dev, err) < 0)
				r = -1;
			if (unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) < 0 && !r)
				r = fc_error_set(err, errno, "rmdir `%s`", de->d_name);
		} else if (unlinkat(dirfd(d), de->d_name, 0) < 0 && !r) {
			r = fc_error_set(err, errno, "unlink `%s`", de->d_name);
		}
	}
	closedir(d);
	return r;
}

int fc_rm_rf_at(int dirfd, const char *path, struct fc_error **err)
{
	struct stat st;
	if (fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : fc_error_set(err, errno, "stat `%s`", path);
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(dirfd, path, 0) < 0)
			return fc_error_set(err, errno, "unlink `%s`", path);
		return 0;
	}
	int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return fc_error_set(err, errno, "open `%s`", path);
	if (rm_rf_children(fd, st.st_dev, err) < 0)
		return fc_error_wrap(err, "remove `%s`", path);
	if (unlinkat(dirfd, path, AT_REMOVEDIR) < 0)
		return fc_error_set(err, errno, "rmdir `%s`", path);
	return 0;
}
