/* SPDX-License-Identifier: MIT */
/* util.c: digests, media types, entry path cleaning, whiteout names, openat2. */
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "snap-private.h"

void snap_hash_init(struct snap_hash *h)
{
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1)
		abort();
}

void snap_hash_update(struct snap_hash *h, const void *p, size_t n)
{
	EVP_DigestUpdate(h->ctx, p, n);
}

void snap_hash_final(struct snap_hash *h, char *out)
{
	unsigned char md[32];
	unsigned int len = 0;
	EVP_DigestFinal_ex(h->ctx, md, &len);
	strcpy(out, "sha256:");
	for (unsigned i = 0; i < 32; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
	snap_hash_free(h);
}

void snap_hash_free(struct snap_hash *h)
{
	if (h->ctx)
		EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
}

int snap_hash_fd(int fd, char *out, uint64_t *size)
{
	struct snap_hash h;
	const size_t bs = 1 << 20;
	_cleanup_free_ char *buf = fc_malloc(bs);
	uint64_t n = 0;
	snap_hash_init(&h);
	for (;;) {
		ssize_t r = read(fd, buf, bs);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			snap_hash_free(&h);
			return -e;
		}
		if (r == 0)
			break;
		snap_hash_update(&h, buf, (size_t)r);
		n += (uint64_t)r;
	}
	snap_hash_final(&h, out);
	if (size)
		*size = n;
	return 0;
}

const char *fcsnap_digest_hex(const char *digest)
{
	if (!digest || strncmp(digest, "sha256:", 7) != 0)
		return NULL;
	const char *h = digest + 7;
	size_t i;
	for (i = 0; h[i]; i++)
		if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
			return NULL;
	return i == 64 ? h : NULL;
}

int fcsnap_layer_compression(const char *mt)
{
	static const struct {
		const char *mt;
		int comp;
	} types[] = {
	    {"application/vnd.oci.image.layer.v1.tar", FCSNAP_COMP_NONE},
	    {"application/vnd.oci.image.layer.v1.tar+gzip", FCSNAP_COMP_GZIP},
	    {"application/vnd.oci.image.layer.v1.tar+zstd", FCSNAP_COMP_ZSTD},
	    {"application/vnd.docker.image.rootfs.diff.tar", FCSNAP_COMP_NONE},
	    {"application/vnd.docker.image.rootfs.diff.tar.gzip", FCSNAP_COMP_GZIP},
	    {"application/vnd.docker.image.rootfs.diff.tar.zstd", FCSNAP_COMP_ZSTD},
	    /* non-distributable layers: same content, different push rules */
	    {"application/vnd.oci.image.layer.nondistributable.v1.tar", FCSNAP_COMP_NONE},
	    {"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", FCSNAP_COMP_GZIP},
	    {"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", FCSNAP_COMP_ZSTD},
	};
	if (!mt)
		return -EPROTONOSUPPORT;
	for (size_t i = 0; i < FC_ARRAY_SIZE(types); i++)
		if (FC_STREQ(mt, types[i].mt))
			return types[i].comp;
	return -EPROTONOSUPPORT;
}

int snap_sniff_compression(int fd)
{
	return snap_sniff_compression_at(fd, 0, 4);
}

int snap_sniff_compression_at(int fd, uint64_t off, uint64_t len)
{
	unsigned char m[4] = {0};
	ssize_t n = pread(fd, m, len < sizeof(m) ? (size_t)len : sizeof(m), (off_t)off);
	if (n < 0)
		return -errno;
	if (n >= 2 && m[0] == 0x1f && m[1] == 0x8b)
		return FCSNAP_COMP_GZIP;
	if (n >= 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd)
		return FCSNAP_COMP_ZSTD;
	return FCSNAP_COMP_NONE;
}

int fcsnap_clean_path(const char *in, unsigned max_path, char **out, struct fc_error **err)
{
	if (!max_path)
		max_path = 4096;
	size_t len = strlen(in);
	if (len == 0)
		return fc_error_set(err, EINVAL, "empty entry name");
	if (len >= max_path)
		return fc_error_set(err, ENAMETOOLONG,
		                    "entry `%.64s...`: name longer than %u bytes", in, max_path);
	struct fc_buf b = {0};
	fc_buf_append(&b, "", 0);
	const char *p = in;
	while (*p) {
		while (*p == '/')
			p++;
		const char *e = strchrnul(p, '/');
		size_t n = (size_t)(e - p);
		if (n == 0)
			break;
		if (n == 1 && p[0] == '.') {
			p = e;
			continue;
		}
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			free(b.data);
			return fc_error_set(err, EPERM,
			                    "entry `%s`: `..` is not allowed (path traversal)", in);
		}
		if (n > 255) {
			free(b.data);
			return fc_error_set(
			    err, ENAMETOOLONG,
			    "entry `%.64s...`: a component is longer than 255 bytes", in);
		}
		if (b.len)
			fc_buf_append(&b, "/", 1);
		fc_buf_append(&b, p, n);
		p = e;
	}
	*out = b.data;
	return 0;
}

int fcsnap_whiteout(const char *path, char **target)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	size_t dlen = slash ? (size_t)(slash - path) : 0;
	*target = NULL;
	if (strncmp(base, ".wh.", 4) != 0)
		return 0;
	if (FC_STREQ(base, ".wh..wh..opq")) {
		*target = fc_strndup(path, dlen);
		return 2;
	}
	if (base[4] == 0)
		return -EINVAL;
	if (strncmp(base, ".wh..wh.", 8) == 0)
		return 3; /* other AUFS metadata (.wh..wh.plnk etc.): skipped */
	*target = slash ? fc_asprintf("%.*s/%s", (int)dlen, path, base + 4) : fc_strdup(base + 4);
	return 1;
}

static int openat2_flags(int root, const char *path, int flags, mode_t mode, uint64_t resolve)
{
	struct open_how how = {
	    .flags = (uint64_t)(flags | O_CLOEXEC),
	    .mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
	    .resolve = resolve,
	};
	if (!path || !*path)
		path = ".";
	long r = syscall(SYS_openat2, root, path, &how, sizeof(how));
	return r < 0 ? -errno : (int)r;
}

int snap_openat_beneath(int root, const char *path, int flags, mode_t mode)
{
	return openat2_flags(root, path, flags, mode, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS);
}

int snap_openat_in_root(int root, const char *path, int flags, mode_t mode)
{
	return openat2_flags(root, path, flags, mode, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
}

int snap_fsync_dir_at(int dirfd, const char *path)
{
	_cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	return fsync(fd) < 0 ? -errno : 0;
}

char *snap_escape_name(const char *name)
{
	struct fc_buf b = {0};
	fc_buf_append(&b, "", 0);
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if (*p == '/' || *p == '%' || *p < 0x20 ||
		    (p == (const unsigned char *)name && *p == '.')) {
			char e[4];
			snprintf(e, sizeof(e), "%%%02X", *p);
			fc_buf_append(&b, e, 3);
		} else {
			fc_buf_append(&b, (const char *)p, 1);
		}
	}
	return b.data;
}

char *snap_unescape_name(const char *f)
{
	struct fc_buf b = {0};
	fc_buf_append(&b, "", 0);
	for (const char *p = f; *p; p++) {
		if (p[0] == '%' && p[1] && p[2]) {
			char h[3] = {p[1], p[2], 0};
			char c = (char)strtol(h, NULL, 16);
			fc_buf_append(&b, &c, 1);
			p += 2;
		} else {
			fc_buf_append(&b, p, 1);
		}
	}
	return b.data;
}

int snap_mkdir_beneath(int root, const char *path, mode_t mode)
{
	_cleanup_free_ char *p = fc_strdup(path);
	int fd = fcntl(root, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return -errno;
	for (char *save = NULL, *c = strtok_r(p, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (FC_STREQ(c, ".") || FC_STREQ(c, "..")) {
			close(fd);
			return -EXDEV;
		}
		if (mkdirat(fd, c, mode) < 0 && errno != EEXIST) {
			int e = errno;
			close(fd);
			return -e;
		}
		int next = snap_openat_beneath(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
		close(fd);
		if (next < 0)
			return next == -ELOOP ? -EXDEV : next;
		fd = next;
	}
	return fd;
}

int snap_read_in_root(int root, const char *path, char **out, struct fc_error **err)
{
	_cleanup_close_ int fd = snap_openat_in_root(root, path, O_RDONLY | O_NOCTTY, 0);
	if (fd < 0)
		return fc_error_set(err, -fd, "open `%s`", path);
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return fc_error_set(err, EINVAL, "`%s` is not a regular file", path);
	char p[64];
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	return fc_read_file_at(AT_FDCWD, p, out, NULL, 0, err);
}
