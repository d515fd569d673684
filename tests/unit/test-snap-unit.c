/* SPDX-License-Identifier: MIT */
/* test-snap-unit: path cleaning, whiteout names, media types, digests, and
 * (as root) a real unpack: whiteout devices, opaque xattr, refused escapes. */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <zstd.h>

#include "snap-private.h"

static int fails;
static bool use_uring;
#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #c);               \
			fails++;                                                                   \
		}                                                                                  \
	} while (0)

static void clean(const char *in, const char *want)
{
	char *out = NULL;
	struct fc_error *e = NULL;
	int r = fcsnap_clean_path(in, 0, &out, &e);
	if (want) {
		CHECK(r == 0);
		if (r == 0 && strcmp(out, want) != 0) {
			fprintf(stderr, "FAIL clean(%s) = %s, want %s\n", in, out, want);
			fails++;
		}
	} else {
		char pre[21];
		snprintf(pre, sizeof(pre), "%s", in);
		CHECK(r < 0 && e && e->msg && strstr(e->msg, pre));
	}
	free(out);
	fc_error_free(e);
}

static void test_paths(void)
{
	clean("./a/b", "a/b");
	clean("/etc/passwd", "etc/passwd");
	clean("a//b/./c/", "a/b/c");
	clean("./", "");
	clean("../x", NULL);
	clean("a/../../x", NULL);
	clean("a/..", NULL);
	clean("..", NULL);
	clean("a/...", "a/...");
	char longc[300];
	memset(longc, 'x', sizeof(longc) - 1);
	longc[299] = 0;
	clean(longc, NULL);
	char *out = NULL;
	struct fc_error *e = NULL;
	CHECK(fcsnap_clean_path("abcdefghij", 8, &out, &e) == -ENAMETOOLONG);
	fc_error_free(e);
}

static void test_whiteouts(void)
{
	char *t = NULL;
	CHECK(fcsnap_whiteout("a/b/.wh.c", &t) == 1 && FC_STREQ(t, "a/b/c"));
	free(t);
	CHECK(fcsnap_whiteout(".wh.top", &t) == 1 && FC_STREQ(t, "top"));
	free(t);
	CHECK(fcsnap_whiteout("d/.wh..wh..opq", &t) == 2 && FC_STREQ(t, "d"));
	free(t);
	CHECK(fcsnap_whiteout(".wh..wh..opq", &t) == 2 && FC_STREQ(t, ""));
	free(t);
	CHECK(fcsnap_whiteout("d/.wh..wh.plnk", &t) == 3);
	free(t);
	CHECK(fcsnap_whiteout("d/.wh.", &t) < 0);
	CHECK(fcsnap_whiteout("d/x.wh.y", &t) == 0 && t == NULL);
	CHECK(fcsnap_whiteout("a.wh./b", &t) == 0);
}

static void test_media(void)
{
	CHECK(fcsnap_layer_compression("application/vnd.oci.image.layer.v1.tar") ==
	      FCSNAP_COMP_NONE);
	CHECK(fcsnap_layer_compression("application/vnd.oci.image.layer.v1.tar+gzip") ==
	      FCSNAP_COMP_GZIP);
	CHECK(fcsnap_layer_compression("application/vnd.oci.image.layer.v1.tar+zstd") ==
	      FCSNAP_COMP_ZSTD);
	CHECK(fcsnap_layer_compression("application/vnd.docker.image.rootfs.diff.tar.gzip") ==
	      FCSNAP_COMP_GZIP);
	CHECK(fcsnap_layer_compression(
	          "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip") < 0);
	CHECK(fcsnap_layer_compression("application/vnd.oci.image.layer.v1.tar+bzip2") < 0);
	CHECK(fcsnap_layer_compression(NULL) < 0);
}

/* Documents nested a million levels deep are refused before yajl builds (and
 * recursively frees) their trees: without the check the stack overflows. */
static void test_deep_documents(void)
{
	size_t depth = 1000000;
	char *deep = fc_malloc(2 * depth + 64);
	int n = snprintf(deep, 64, "{\"manifests\":");
	memset(deep + n, '[', depth);
	memset(deep + n + depth, ']', depth);
	snprintf(deep + n + 2 * depth, 8, "}");
	struct fc_error *e = NULL;
	struct snap_index ix;
	CHECK(snap_parse_index(deep, &ix, &e) < 0 && e && strstr(e->msg, "max depth"));
	snap_index_clear(&ix);
	fc_error_free(e);
	e = NULL;
	struct snap_manifest m;
	CHECK(snap_parse_manifest(deep, &m, &e) < 0 && e && strstr(e->msg, "max depth"));
	snap_manifest_clear(&m);
	fc_error_free(e);
	e = NULL;
	struct snap_config_doc c;
	CHECK(snap_parse_config(deep, &c, &e) < 0 && e && strstr(e->msg, "max depth"));
	snap_config_doc_clear(&c);
	fc_error_free(e);
	e = NULL;
	struct snap_image_rec rec;
	CHECK(snap_parse_image_rec(deep, &rec, &e) < 0 && e && strstr(e->msg, "max depth"));
	snap_image_rec_clear(&rec);
	fc_error_free(e);
	e = NULL;
	CHECK(snap_sniff_kind(deep) < 0);
	deep[0] = '[';
	deep[n + 2 * depth] = ']';
	struct snap_docker_manifest dm;
	CHECK(snap_parse_docker_manifest(deep, &dm, &e) < 0 && e && strstr(e->msg, "max depth"));
	snap_docker_manifest_clear(&dm);
	fc_error_free(e);
	free(deep);
}

/* An image record's size is a byte count: a negative one is refused (it would
 * be written back as a number yajl cannot read as an integer). */
static void test_image_record(void)
{
	struct snap_image_rec rec;
	struct fc_error *e = NULL;
	CHECK(snap_parse_image_rec("{\"name\":\"a\",\"manifest\":\"m\",\"config\":\"c\","
	                           "\"diff_ids\":[],\"layers\":[],\"size\":-5}",
	                           &rec, &e) < 0 &&
	      e && strstr(e->msg, "size"));
	snap_image_rec_clear(&rec);
	fc_error_free(e);
}

static void test_digests(void)
{
	char d[80];
	struct snap_hash h;
	snap_hash_init(&h);
	snap_hash_update(&h, "abc", 3);
	snap_hash_final(&h, d);
	CHECK(
	    FC_STREQ(d, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
	CHECK(fcsnap_digest_hex(d) != NULL);
	CHECK(fcsnap_digest_hex(
	          "sha256:BA7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") ==
	      NULL);
	CHECK(fcsnap_digest_hex("sha512:ba78") == NULL);
	CHECK(fcsnap_digest_hex("sha256:ba7816bf") == NULL);
	CHECK(fcsnap_digest_hex(
	          "sha256:../../../../etc/passwd0000000000000000000000000000000000000000") == NULL);
	/* descriptor parsing refuses bad digests and sizes */
	struct snap_manifest m;
	struct fc_error *e = NULL;
	CHECK(snap_parse_manifest(
	          "{\"config\":{\"digest\":\"sha256:../x\",\"size\":1},\"layers\":[]}", &m, &e) <
	      0);
	snap_manifest_clear(&m);
	fc_error_free(e);
	e = NULL;
	CHECK(snap_parse_manifest("{\"config\":{\"digest\":\"sha256:"
	                          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	                          "\"},\"layers\":[]}",
	                          &m, &e) < 0);
	snap_manifest_clear(&m);
	fc_error_free(e);
}

/* ---- a real unpack (root: whiteout devices, trusted xattrs, chown) ---- */

struct ent {
	const char *name;
	mode_t type;
	const char *data; /* file content or link target */
	bool hardlink;
};

static int make_layer(const char *path, const struct ent *ents, size_t n, bool gz)
{
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	if (gz)
		archive_write_add_filter_gzip(a);
	if (archive_write_open_filename(a, path) != ARCHIVE_OK)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, ents[i].name);
		archive_entry_set_filetype(e, ents[i].type);
		archive_entry_set_perm(e, ents[i].type == AE_IFDIR ? 0755 : 0644);
		archive_entry_set_mtime(e, 1700000000, 0);
		if (ents[i].hardlink)
			archive_entry_set_hardlink(e, ents[i].data);
		else if (ents[i].type == AE_IFLNK)
			archive_entry_set_symlink(e, ents[i].data);
		else if (ents[i].type == AE_IFREG)
			archive_entry_set_size(e, (la_int64_t)strlen(ents[i].data));
		archive_write_header(a, e);
		if (ents[i].type == AE_IFREG && !ents[i].hardlink)
			archive_write_data(a, ents[i].data, strlen(ents[i].data));
		archive_entry_free(e);
	}
	archive_write_close(a);
	archive_write_free(a);
	return 0;
}

static int unpack(const char *tmp, const char *name, const struct ent *ents, size_t n, bool gz,
                  char **errmsg)
{
	char p[512], d[512], dig[80];
	snprintf(p, sizeof(p), "%s/%s.tar", tmp, name);
	snprintf(d, sizeof(d), "%s/%s", tmp, name);
	if (make_layer(p, ents, n, gz) < 0 || mkdir(d, 0755) < 0)
		return -EIO;
	int bfd = open(p, O_RDONLY | O_CLOEXEC), dfd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct snap_limits lim = {1 << 20, 1000, 4096};
	struct fc_error *e = NULL;
	int r = snap_unpack_layer(bfd, gz ? FCSNAP_COMP_GZIP : FCSNAP_COMP_NONE, dfd, &lim,
	                          use_uring, NULL, dig, -1, NULL, NULL, &e);
	if (r < 0 && errmsg)
		*errmsg = fc_strdup(e->msg);
	fc_error_free(e);
	close(bfd);
	close(dfd);
	return r;
}

static void test_unpack(const char *tmp)
{
	static const struct ent good[] = {
	    {"./", AE_IFDIR, NULL, false},           {"d/", AE_IFDIR, NULL, false},
	    {"d/f", AE_IFREG, "hello", false},       {"d/.wh.gone", AE_IFREG, "", false},
	    {"o/.wh..wh..opq", AE_IFREG, "", false}, {"o/new", AE_IFREG, "n", false},
	    {"rel", AE_IFLNK, "d/f", false},         {"abs", AE_IFLNK, "/etc/passwd", false},
	    {"hl", AE_IFREG, "d/f", true},
	};
	char *msg = NULL;
	CHECK(unpack(tmp, "good", good, FC_ARRAY_SIZE(good), true, &msg) == 0);
	if (msg)
		fprintf(stderr, "unpack good: %s\n", msg);
	free(msg);
	char p[512], v[4] = "";
	struct stat st, st2;
	snprintf(p, sizeof(p), "%s/good/d/gone", tmp);
	CHECK(lstat(p, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0));
	snprintf(p, sizeof(p), "%s/good/o", tmp);
	CHECK(getxattr(p, "trusted.overlay.opaque", v, sizeof(v)) == 1 && v[0] == 'y');
	snprintf(p, sizeof(p), "%s/good/o/.wh..wh..opq", tmp);
	CHECK(lstat(p, &st) < 0);
	snprintf(p, sizeof(p), "%s/good/hl", tmp);
	CHECK(stat(p, &st) == 0 && st.st_nlink == 2);
	snprintf(p, sizeof(p), "%s/good/d/f", tmp);
	CHECK(stat(p, &st2) == 0 && st2.st_ino == st.st_ino && st2.st_mtime == 1700000000);
	snprintf(p, sizeof(p), "%s/good/d", tmp);
	CHECK(stat(p, &st) == 0 && st.st_mtime == 1700000000);

	static const struct ent sym_escape[] = {
	    {"esc", AE_IFLNK, "/tmp", false},
	    {"esc/evil", AE_IFREG, "x", false},
	};
	msg = NULL;
	CHECK(unpack(tmp, "sym", sym_escape, 2, false, &msg) < 0 && msg && strstr(msg, "escapes"));
	free(msg);
	static const struct ent rel_escape[] = {
	    {"a/", AE_IFDIR, NULL, false},
	    {"a/up", AE_IFLNK, "../..", false},
	    {"a/up/evil", AE_IFREG, "x", false},
	};
	msg = NULL;
	CHECK(unpack(tmp, "rel", rel_escape, 3, false, &msg) < 0 && msg && strstr(msg, "escapes"));
	free(msg);
	static const struct ent hl_escape[] = {
	    {"h", AE_IFREG, "/etc/passwd", true},
	};
	msg = NULL;
	CHECK(unpack(tmp, "hl", hl_escape, 1, false, &msg) < 0 && msg &&
	      strstr(msg, "not in this layer"));
	if (msg && !strstr(msg, "not in this layer"))
		fprintf(stderr, "hl: %s\n", msg);
	free(msg);
	static const struct ent hl_sym[] = {
	    /* a hardlink through a symlinked dir */
	    {"s", AE_IFLNK, "/etc", false},
	    {"h", AE_IFREG, "s/passwd", true},
	};
	msg = NULL;
	CHECK(unpack(tmp, "hls", hl_sym, 2, false, &msg) < 0 && msg && strstr(msg, "escapes"));
	free(msg);
	static const struct ent dotdot[] = {{"../x", AE_IFREG, "x", false}};
	msg = NULL;
	CHECK(unpack(tmp, "dd", dotdot, 1, false, &msg) < 0 && msg && strstr(msg, "traversal"));
	free(msg);
	/* a later entry replaces a directory that an earlier one made */
	static const struct ent replace[] = {
	    {"x/", AE_IFDIR, NULL, false},   {"x/in", AE_IFREG, "in", false},
	    {"x", AE_IFREG, "file", false},  {"y/", AE_IFDIR, NULL, false},
	    {"y/z/", AE_IFDIR, NULL, false}, {"y", AE_IFLNK, "x", false},
	};
	msg = NULL;
	CHECK(unpack(tmp, "replace", replace, FC_ARRAY_SIZE(replace), false, &msg) == 0);
	if (msg)
		fprintf(stderr, "unpack replace: %s\n", msg);
	free(msg);
	snprintf(p, sizeof(p), "%s/replace/x", tmp);
	CHECK(lstat(p, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 4);
	snprintf(p, sizeof(p), "%s/replace/y", tmp);
	CHECK(lstat(p, &st) == 0 && S_ISLNK(st.st_mode));
	/* nothing escaped */
	CHECK(access("/tmp/evil", F_OK) < 0);
	snprintf(p, sizeof(p), "%s/../evil", tmp);
	CHECK(access(p, F_OK) < 0);
}

/* ---- large zstd layers: the decompressor thread and its ring ----------- */

/* A tar of one file: 6 MiB of noise (so the blob is large enough for the
 * decompressor thread), then 10 MiB copied from 1 to 7.5 MiB back with a
 * byte changed every 4 KiB, so matches reach far back across the ring. */
static unsigned char *big_tar(size_t *len)
{
	const size_t fsz = 16u << 20;
	unsigned char *f = fc_malloc(fsz);
	uint64_t x = 88172645463325252ull;
	for (size_t i = 0; i < (6u << 20); i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		f[i] = (unsigned char)x;
	}
	for (size_t i = 6u << 20; i < fsz;) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		size_t span = i - (1u << 20) < (13u << 19) ? i - (1u << 20) : 13u << 19;
		size_t back = (1u << 20) + (size_t)(x % span), n = 64u << 10;
		if (n > fsz - i)
			n = fsz - i;
		for (size_t k = 0; k < n; k++)
			f[i + k] = k % 4096 ? f[i + k - back] : (unsigned char)(x >> 8);
		i += n;
	}
	size_t cap = fsz + (64u << 10), used = 0;
	unsigned char *t = fc_malloc(cap);
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	archive_write_set_bytes_in_last_block(a, 1);
	archive_write_open_memory(a, t, cap, &used);
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, "big.bin");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)fsz);
	archive_write_header(a, e);
	archive_write_data(a, f, fsz);
	archive_entry_free(e);
	archive_write_close(a);
	archive_write_free(a);
	free(f);
	*len = used;
	return t;
}

/* Compress src as frames (split at the given offsets, each with its window
 * log), optionally after a skippable frame. */
static size_t zframes(const unsigned char *src, size_t len, unsigned char *dst, size_t cap,
                      const int *wlog, size_t nframes, bool skippable)
{
	size_t out = 0, per = len / nframes;
	if (skippable) {
		/* magic 0x184D2A50, 16 bytes of content */
		static const unsigned char skip[24] = {0x50, 0x2a, 0x4d, 0x18, 16,
		                                       0,    0,    0,    's',  'k'};
		memcpy(dst, skip, sizeof(skip));
		out += sizeof(skip);
	}
	for (size_t i = 0; i < nframes; i++) {
		size_t off = i * per, n = i + 1 == nframes ? len - off : per;
		ZSTD_CCtx *c = ZSTD_createCCtx();
		ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, 3);
		ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, wlog[i]);
		ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
		ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 0);
		ZSTD_CCtx_setPledgedSrcSize(c, ZSTD_CONTENTSIZE_UNKNOWN);
		size_t r = ZSTD_compress2(c, dst + out, cap - out, src + off, n);
		ZSTD_freeCCtx(c);
		if (ZSTD_isError(r))
			return 0;
		out += r;
	}
	return out;
}

static int unpack_blob(const char *tmp, const char *name, const unsigned char *blob, size_t len,
                       char *dig, char **errmsg)
{
	char p[512], d[512];
	snprintf(p, sizeof(p), "%s/%s.zst", tmp, name);
	snprintf(d, sizeof(d), "%s/%s", tmp, name);
	int bfd = open(p, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (bfd < 0 || fc_write_all(bfd, blob, len) < 0 || lseek(bfd, 0, SEEK_SET) != 0 ||
	    mkdir(d, 0755) < 0)
		return -EIO;
	int dfd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct snap_limits lim = {1u << 30, 1000, 4096};
	struct fc_error *e = NULL;
	int r = snap_unpack_layer(bfd, FCSNAP_COMP_ZSTD, dfd, &lim, use_uring, NULL, dig, -1, NULL,
	                          NULL, &e);
	if (r < 0 && errmsg)
		*errmsg = fc_strdup(e->msg);
	fc_error_free(e);
	close(bfd);
	close(dfd);
	fc_rm_rf_at(AT_FDCWD, d, NULL);
	unlink(p);
	return r;
}

static void test_zstd_large(const char *tmp)
{
	size_t tlen;
	unsigned char *tar = big_tar(&tlen);
	char want[80], got[80];
	struct snap_hash h;
	snap_hash_init(&h);
	snap_hash_update(&h, tar, tlen);
	snap_hash_final(&h, want);
	size_t cap = ZSTD_compressBound(tlen) + 4096;
	unsigned char *z = fc_malloc(cap);
	static const struct {
		const char *name;
		int wlog[3];
		size_t n;
		bool skippable;
		const char *err; /* NULL: unpacks with the right diff_id */
	} cases[] = {
	    {"w21", {21}, 1, false, NULL},            /* the ring, window below the slots */
	    {"w23", {23}, 1, false, NULL},            /* the ring sized by an 8 MiB window */
	    {"w24", {24}, 1, false, NULL},            /* too large for the ring: streaming */
	    {"frames", {22, 20, 22}, 3, false, NULL}, /* several frames, one ring */
	    {"skip", {21}, 1, true, NULL},            /* a skippable frame first */
	    {"grow", {20, 23}, 2, false, "window"},   /* a later frame outgrows the ring */
	};
	for (size_t i = 0; i < FC_ARRAY_SIZE(cases); i++) {
		size_t zl =
		    zframes(tar, tlen, z, cap, cases[i].wlog, cases[i].n, cases[i].skippable);
		CHECK(zl > (4u << 20));
		char *msg = NULL;
		int r = unpack_blob(tmp, cases[i].name, z, zl, got, &msg);
		if (!cases[i].err) {
			CHECK(r == 0 && FC_STREQ(got, want));
			if (r < 0 || !FC_STREQ(got, want))
				fprintf(stderr, "zstd case %s: %s\n", cases[i].name,
				        msg ? msg : got);
		} else {
			CHECK(r < 0 && msg && strstr(msg, cases[i].err));
		}
		free(msg);
		/* a flipped byte fails (the frame checksum at the latest); a cut
		 * stream fails as truncated */
		if (!cases[i].err) {
			z[zl / 2] ^= 0x40;
			msg = NULL;
			CHECK(unpack_blob(tmp, cases[i].name, z, zl, got, &msg) < 0 && msg &&
			      strstr(msg, "zstd"));
			free(msg);
			z[zl / 2] ^= 0x40;
			msg = NULL;
			CHECK(unpack_blob(tmp, cases[i].name, z, zl - 1000, got, &msg) < 0 && msg &&
			      strstr(msg, "truncated"));
			free(msg);
		}
	}
	free(z);
	free(tar);
}

/* gc stops at an image record it cannot read, and nothing is removed */
static void test_gc_bad_record(void)
{
	char tmp[] = "/tmp/test-snap-gc.XXXXXX";
	CHECK(mkdtemp(tmp) != NULL);
	char p[128];
	snprintf(p, sizeof(p), "%s/store", tmp);
	struct fcsnap_store *st = NULL;
	struct fc_error *e = NULL;
	CHECK(fcsnap_store_open(p, &st, &e) == 0);
	if (st) {
		snprintf(p, sizeof(p), "%s/store/images/broken", tmp);
		CHECK(fc_write_file_atomic_at(AT_FDCWD, p, "{\"name\":", 8, 0644, NULL) == 0);
		snprintf(p, sizeof(p), "%s/store/blobs/sha256/keep", tmp);
		CHECK(fc_write_file_atomic_at(AT_FDCWD, p, "x", 1, 0644, NULL) == 0);
		unsigned b = 0, l = 0;
		CHECK(fcsnap_gc(st, &b, &l, &e) < 0 && e && strstr(e->msg, "broken"));
		CHECK(access(p, F_OK) == 0);
		fcsnap_store_free(st);
	}
	fc_error_free(e);
	fc_rm_rf_at(AT_FDCWD, tmp, NULL);
}

int main(void)
{
	test_paths();
	test_gc_bad_record();
	test_whiteouts();
	test_media();
	test_digests();
	test_deep_documents();
	test_image_record();
	if (geteuid() == 0) {
		char tmp[] = "/tmp/test-snap-unit.XXXXXX";
		if (!mkdtemp(tmp))
			return 1;
		char sub[64];
		for (int k = 0; k < 2; k++) {
			use_uring = k;
			snprintf(sub, sizeof(sub), "%s/%s", tmp, k ? "uring" : "plain");
			mkdir(sub, 0755);
			test_unpack(sub);
			test_zstd_large(sub);
		}
		fc_rm_rf_at(AT_FDCWD, tmp, NULL);
	} else {
		printf("# not root: unpack checks skipped\n");
	}
	if (fails) {
		printf("%d failures\n", fails);
		return 1;
	}
	printf("PASS\n");
	return 0;
}
