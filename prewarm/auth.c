/* SPDX-License-Identifier: MIT */
/* auth.c: the gateway's basic-auth credentials (one line USER:PASSWORD in a
 * root-only file) and the check of an Authorization header against them. */
#include <ctype.h>
#include <fcntl.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "auth.h"

#define AUTH_FILE_MAX 4096

struct gw_auth {
	char *user;
	char *expected; /* "user:password" */
	size_t len;
};

void gw_auth_free(struct gw_auth *a)
{
	if (!a)
		return;
	if (a->expected)
		explicit_bzero(a->expected, a->len);
	free(a->expected);
	free(a->user);
	free(a);
}

const char *gw_auth_user(const struct gw_auth *a)
{
	return a->user;
}

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int gw_base64_decode(const char *s, char **out, size_t *len)
{
	size_t n = strlen(s);
	while (n && s[n - 1] == '=')
		n--;
	if (n % 4 == 1)
		return -EINVAL;
	char *o = fc_malloc(n / 4 * 3 + 3);
	size_t k = 0;
	uint32_t acc = 0;
	unsigned bits = 0;
	for (size_t i = 0; i < n; i++) {
		int v = b64_value((unsigned char)s[i]);
		if (v < 0) {
			free(o);
			return -EINVAL;
		}
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			o[k++] = (char)(acc >> bits & 0xff);
		}
	}
	o[k] = 0;
	*out = o;
	*len = k;
	return 0;
}

/* Equal in time that depends on the expected length only. */
static bool ct_equal(const char *given, size_t glen, const char *want, size_t wlen)
{
	volatile unsigned char d = glen != wlen;
	for (size_t i = 0; i < wlen; i++)
		d |= (unsigned char)want[i] ^ (unsigned char)(i < glen ? given[i] : 0);
	return d == 0;
}

bool gw_auth_check(const struct gw_auth *a, const char *h)
{
	if (!a || !h)
		return false;
	h += strspn(h, " \t");
	if (strncasecmp(h, "Basic", 5) != 0 || (h[5] != ' ' && h[5] != '\t'))
		return false;
	h += 5;
	h += strspn(h, " \t");
	_cleanup_free_ char *tok = fc_strndup(h, strcspn(h, " \t\r\n"));
	char *dec = NULL;
	size_t n = 0;
	if (gw_base64_decode(tok, &dec, &n) < 0)
		return false;
	bool ok = ct_equal(dec, n, a->expected, a->len);
	explicit_bzero(dec, n);
	free(dec);
	return ok;
}

static int parse(const char *path, char *data, size_t len, struct gw_auth **out,
                 struct fc_error **err)
{
	if (memchr(data, 0, len))
		return fc_error_set(err, EINVAL, "basic-auth file `%s`: holds a NUL byte", path);
	size_t line = strcspn(data, "\n");
	for (size_t i = line; i < len; i++)
		if (!isspace((unsigned char)data[i]))
			return fc_error_set(err, EINVAL,
			                    "basic-auth file `%s`: expected one line USER:PASSWORD",
			                    path);
	if (line && data[line - 1] == '\r')
		line--;
	data[line] = 0;
	char *colon = strchr(data, ':');
	if (!colon || colon == data || !colon[1])
		return fc_error_set(err, EINVAL,
		                    "basic-auth file `%s`: expected one line USER:PASSWORD with "
		                    "neither empty",
		                    path);
	for (size_t i = 0; i < line; i++)
		if (iscntrl((unsigned char)data[i]))
			return fc_error_set(
			    err, EINVAL, "basic-auth file `%s`: control character in USER:PASSWORD",
			    path);
	struct gw_auth *a = fc_calloc(1, sizeof(*a));
	a->user = fc_strndup(data, (size_t)(colon - data));
	a->expected = fc_strndup(data, line);
	a->len = line;
	*out = a;
	return 0;
}

static int create(const char *path, struct fc_error **err)
{
	unsigned char rnd[18];
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return fc_error_set(err, errno ? errno : EIO, "basic-auth file `%s`: getrandom",
		                    path);
	static const char alpha[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char line[64];
	size_t k = (size_t)snprintf(line, sizeof(line), "admin:");
	for (size_t i = 0; i < sizeof(rnd); i += 3) {
		uint32_t v = (uint32_t)rnd[i] << 16 | (uint32_t)rnd[i + 1] << 8 | rnd[i + 2];
		for (int j = 18; j >= 0; j -= 6)
			line[k++] = alpha[v >> j & 63];
	}
	line[k++] = '\n';
	explicit_bzero(rnd, sizeof(rnd));
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		int e = errno;
		explicit_bzero(line, sizeof(line));
		return e == EEXIST ? 0 : fc_error_set(err, e, "create basic-auth file `%s`", path);
	}
	int r = fchmod(fd, 0600) < 0 ? -errno : fc_write_all(fd, line, k);
	if (r >= 0 && fsync(fd) < 0)
		r = -errno;
	explicit_bzero(line, sizeof(line));
	close(fd);
	if (r < 0) {
		unlink(path);
		return fc_error_set(err, -r, "write basic-auth file `%s`", path);
	}
	return 1;
}

int gw_auth_load(const char *path, bool create_missing, struct gw_auth **out, bool *created,
                 struct fc_error **err)
{
	*out = NULL;
	if (created)
		*created = false;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 && errno == ENOENT && create_missing) {
		int r = create(path, err);
		if (r < 0)
			return r;
		if (created)
			*created = r > 0;
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	}
	if (fd < 0)
		return fc_error_set(err, errno, "basic-auth file `%s`", path);
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return fc_error_set(err, e, "basic-auth file `%s`", path);
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return fc_error_set(err, EINVAL, "basic-auth file `%s`: not a regular file", path);
	}
	if (st.st_mode & 077) {
		close(fd);
		return fc_error_set(err, EPERM,
		                    "basic-auth file `%s`: mode %04o lets others read or change it "
		                    "(chmod 600 it)",
		                    path, (unsigned)(st.st_mode & 07777));
	}
	if (st.st_size > AUTH_FILE_MAX) {
		close(fd);
		return fc_error_set(err, EFBIG, "basic-auth file `%s`: larger than %d bytes", path,
		                    AUTH_FILE_MAX);
	}
	char buf[AUTH_FILE_MAX + 1];
	ssize_t n = fc_read_all(fd, buf, AUTH_FILE_MAX);
	close(fd);
	if (n < 0)
		return fc_error_set(err, (int)-n, "read basic-auth file `%s`", path);
	buf[n] = 0;
	int r = parse(path, buf, (size_t)n, out, err);
	explicit_bzero(buf, sizeof(buf));
	return r;
}
