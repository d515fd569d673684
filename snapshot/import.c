/* SPDX-License-Identifier: MIT */
/* import.c: OCI image layout / oci-archive / docker-archive -> the store.
 * Everything is prepared in a private staging dir (tmp/stage-PID-N): blobs
 * copied with their digest and size checked, layers unpacked and their
 * diff_id checked; only then are they renamed into place, so a failed import
 * leaves the store as it was. Layers that another import may unpack at the
 * same time are guarded by locks/<diff_id> (taken in sorted order). */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "snap-private.h"

/* An uncompressed oci-archive / docker-archive on a regular file is indexed
 * rather than extracted: entries of at least this size stay in the archive
 * (stage/src holds an empty placeholder of their size) and the layers are
 * read from their byte range; smaller ones (index.json, manifests, configs)
 * are extracted as before. A placeholder that must be read as a file (a
 * large manifest or config) is filled from the archive first. */
#define OUTER_INLINE_MAX (64u << 10)

/* a regular entry left in the outer archive, found by its placeholder */
struct outer_blob {
	dev_t dev;
	ino_t ino;
	uint64_t off, size; /* its data in the archive */
	bool filled;        /* the placeholder has been filled: read it */
};

struct imp {
	struct fcsnap_store *s;
	const struct fcsnap_import_opts *o;
	int srcfd;             /* source root (layout dir or extracted archive) */
	bool src_private;      /* srcfd is stage/src, extracted here: its files can be kept */
	int arfd;              /* the outer archive when it was indexed (-1: not) */
	struct outer_blob *ob; /* its large entries, sorted by dev/ino */
	size_t n_ob;
	pthread_mutex_t fill_lock;
	int stagefd;
	char *stage; /* tmp/stage-... relative to the store */
	struct snap_job *jobs;
	size_t n;
	struct snap_limits lim;
	pthread_mutex_t plock;
	struct fcsnap_progress prog;
	/* parallel unpack */
	size_t next;
	int first_err;
	struct fc_error *err;
};

/* ---- blobs -------------------------------------------------------------- */

static int cmp_outer_blob(const void *a, const void *b)
{
	const struct outer_blob *x = a, *y = b;
	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

/* The entry left in the archive whose placeholder fd is, or NULL. */
static struct outer_blob *outer_find(struct imp *im, int fd)
{
	struct stat st;
	if (!im->n_ob || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return NULL;
	struct outer_blob key = {.dev = st.st_dev, .ino = st.st_ino};
	return bsearch(&key, im->ob, im->n_ob, sizeof(*im->ob), cmp_outer_blob);
}

/* Hash len bytes at off of fd: 0 or -errno (-EIO when the file is shorter). */
static int hash_range(int fd, uint64_t off, uint64_t len, char *out)
{
	const size_t bs = 1 << 20;
	_cleanup_free_ char *buf = fc_malloc(bs);
	struct snap_hash h;
	snap_hash_init(&h);
	while (len > 0) {
		ssize_t n = pread(fd, buf, len < bs ? (size_t)len : bs, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;
			snap_hash_free(&h);
			return -e;
		}
		snap_hash_update(&h, buf, (size_t)n);
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	snap_hash_final(&h, out);
	return 0;
}

/* Make the file path of the source root readable as a file: when it is the
 * placeholder of an entry left in the archive, copy the entry's bytes into
 * it (once). Anything else is left to the caller's open and read. */
static int src_fill(struct imp *im, const char *path, struct fc_error **err)
{
	if (!im->n_ob)
		return 0;
	_cleanup_close_ int fd = snap_openat_in_root(im->srcfd, path, O_RDWR | O_NOCTTY, 0);
	if (fd < 0)
		return 0;
	struct outer_blob *b = outer_find(im, fd);
	if (!b)
		return 0;
	int r = 0;
	pthread_mutex_lock(&im->fill_lock);
	if (!b->filled) {
		const size_t bs = 1 << 20;
		_cleanup_free_ char *buf = fc_malloc(bs);
		uint64_t done = 0;
		while (r == 0 && done < b->size) {
			size_t want = b->size - done < bs ? (size_t)(b->size - done) : bs;
			ssize_t n = pread(im->arfd, buf, want, (off_t)(b->off + done));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				r = n < 0 ? -errno : -EIO;
			else if ((r = fc_write_all(fd, buf, (size_t)n)) == 0)
				done += (uint64_t)n;
		}
		if (r == 0)
			b->filled = true;
	}
	pthread_mutex_unlock(&im->fill_lock);
	if (r < 0)
		return fc_error_set(err, -r, "read `%s` from the archive", path);
	return 0;
}

/* Copy src (below srcfd) into stagefd/dst while hashing; check digest and size. */
static int copy_blob(struct imp *im, const char *src, const char *want, int64_t want_size,
                     const char *dst, char *digest, uint64_t *size, struct fc_error **err)
{
	if (src_fill(im, src, err) < 0)
		return fc_error_code(*err);
	_cleanup_close_ int in = snap_openat_in_root(im->srcfd, src, O_RDONLY | O_NOCTTY, 0);
	if (in < 0)
		return fc_error_set(err, -in, "blob `%s`%s%s", src, want ? " " : "",
		                    want ? want : "");
	struct stat st;
	if (fstat(in, &st) < 0 || !S_ISREG(st.st_mode))
		return fc_error_set(err, EINVAL, "blob `%s` is not a regular file", src);
	if (want_size >= 0 && st.st_size != want_size)
		return fc_error_set(err, EINVAL,
		                    "blob %s: size %lld does not match the descriptor's %lld",
		                    want ? want : src, (long long)st.st_size, (long long)want_size);
	_cleanup_close_ int out =
	    openat(im->stagefd, dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0)
		return fc_error_set(err, errno, "create staged blob `%s`", dst);
	const size_t bs = 1 << 20;
	_cleanup_free_ char *buf = fc_malloc(bs);
	struct snap_hash h;
	uint64_t n = 0;
	snap_hash_init(&h);
	for (;;) {
		ssize_t r = read(in, buf, bs);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			snap_hash_free(&h);
			return fc_error_set(err, e, "read blob `%s`", src);
		}
		if (r == 0)
			break;
		snap_hash_update(&h, buf, (size_t)r);
		int w = fc_write_all(out, buf, (size_t)r);
		if (w < 0) {
			snap_hash_free(&h);
			return fc_error_set(err, -w, "write staged blob `%s`", dst);
		}
		n += (uint64_t)r;
		if (im->o->progress) {
			pthread_mutex_lock(&im->plock);
			im->prog.bytes_in += (uint64_t)r;
			pthread_mutex_unlock(&im->plock);
		}
	}
	snap_hash_final(&h, digest);
	if (want_size >= 0 && (int64_t)n != want_size)
		return fc_error_set(err, EINVAL, "blob %s: read %llu bytes, descriptor says %lld",
		                    want ? want : src, (unsigned long long)n, (long long)want_size);
	if (want && !FC_STREQ(digest, want))
		return fc_error_set(err, EINVAL,
		                    "blob `%s`: digest mismatch: content is %s, descriptor says %s",
		                    src, digest, want);
	if (size)
		*size = n;
	return 0;
}

/* Read a small blob (manifest, index, config) with its digest checked, and
 * stage it as blob-<hex> for the commit. */
static int read_blob(struct imp *im, const struct snap_desc *d, char **buf, struct fc_error **err)
{
	const char *hex = fcsnap_digest_hex(d->digest);
	_cleanup_free_ char *src = fc_asprintf("blobs/sha256/%s", hex);
	_cleanup_free_ char *dst = fc_asprintf("blob-%s", hex);
	char dg[80];
	if (d->size > (64 << 20))
		return fc_error_set(err, EFBIG,
		                    "blob %s: %lld bytes is too large for a manifest or config",
		                    d->digest, (long long)d->size);
	if (copy_blob(im, src, d->digest, d->size, dst, dg, NULL, err) < 0)
		return fc_error_code(*err);
	return fc_read_file_at(im->stagefd, dst, buf, NULL, 0, err);
}

/* Stage an in-memory document (synthesised manifest, docker config) as a blob. */
static int stage_doc(struct imp *im, const char *data, char *digest, struct fc_error **err)
{
	struct snap_hash h;
	snap_hash_init(&h);
	snap_hash_update(&h, data, strlen(data));
	snap_hash_final(&h, digest);
	_cleanup_free_ char *dst = fc_asprintf("blob-%s", fcsnap_digest_hex(digest));
	return fc_write_file_atomic_at(im->stagefd, dst, data, strlen(data), 0600, err);
}

/* ---- outer archives ----------------------------------------------------- */

/* Extract an oci-archive / docker-archive tarball (optionally compressed) into
 * stagefd/src: only directories, regular files and symlinks, every create
 * below the root.
 * With index, entries of OUTER_INLINE_MAX bytes or more are not extracted:
 * libarchive skips their data (it seeks on a regular file), each gets an
 * empty placeholder of its size and an outer_blob with its data's offset in
 * the archive, and the archive stays open in im->arfd. The offset is what
 * libarchive consumed up to the end of the entry's headers, and must be
 * where its next header starts less the entry's 512-padded size; a wrong one
 * still ends as a digest or diff_id error, as the blob is checked while it is
 * read. Returns 1 (with *why) when the archive cannot be indexed safely: not
 * a regular file, compressed, hard links, an entry stored twice, sparse
 * entries, offsets that do not agree; the caller then extracts it. */
static int extract_outer(struct imp *im, const char *path, bool index, const char **why,
                         struct fc_error **err)
{
	if (mkdirat(im->stagefd, "src", 0700) < 0)
		return fc_error_set(err, errno, "create staging source dir");
	_cleanup_close_ int root = openat(im->stagefd, "src", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (root < 0 || fd < 0)
		return fc_error_set(err, errno, "open `%s`", path);
	const size_t bs = 1 << 20;
	_cleanup_free_ char *buf = fc_malloc(bs);
	struct archive *a = archive_read_new();
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	/* an archive as saved, or compressed as people do */
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_zstd(a);
	int ret = 0;
	struct stat ast;
	struct outer_blob *ob = NULL;
	size_t n_ob = 0;
	int64_t next_hdr = -1; /* where the next header must start (index) */
#define DOUBT(w)                                                                                   \
	do {                                                                                       \
		*why = (w);                                                                        \
		ret = 1;                                                                           \
		goto out;                                                                          \
	} while (0)
	if (index && (fstat(fd, &ast) < 0 || !S_ISREG(ast.st_mode)))
		DOUBT("not a regular file");
	/* small reads when indexing: the data of large entries is skipped */
	if (archive_read_open_fd(a, fd, index ? 64 << 10 : 1 << 20) != ARCHIVE_OK) {
		ret = fc_error_set(err, EINVAL, "`%s` is not a tar archive: %s", path,
		                   archive_error_string(a));
		goto out;
	}
	if (index &&
	    (archive_filter_count(a) != 1 || archive_filter_code(a, 0) != ARCHIVE_FILTER_NONE))
		DOUBT("compressed");
	for (unsigned count = 0;; count++) {
		struct archive_entry *e;
		int r = archive_read_next_header(a, &e);
		if (index && next_hdr >= 0 && archive_read_header_position(a) != next_hdr)
			DOUBT("an entry's data is not where its header says");
		next_hdr = -1;
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
			ret = fc_error_set(err, EINVAL, "read archive `%s`: %s", path,
			                   archive_error_string(a));
			goto out;
		}
		if (count > 100000) {
			ret = fc_error_set(err, EFBIG, "archive `%s`: too many entries", path);
			goto out;
		}
		_cleanup_free_ char *p = NULL;
		if (fcsnap_clean_path(archive_entry_pathname(e) ? archive_entry_pathname(e) : "",
		                      4096, &p, err) < 0) {
			ret = fc_error_wrap(err, "archive `%s`", path);
			goto out;
		}
		if (!*p)
			continue;
		_cleanup_free_ char *dir = NULL;
		const char *sl = strrchr(p, '/');
		const char *base = sl ? sl + 1 : p;
		dir = sl ? fc_strndup(p, (size_t)(sl - p)) : fc_strdup("");
		_cleanup_close_ int pfd = snap_mkdir_beneath(root, dir, 0700);
		if (pfd < 0) {
			ret = fc_error_set(err, pfd == -EXDEV ? EPERM : -pfd,
			                   "archive `%s`: entry `%s`: parent escapes the archive "
			                   "or cannot be created",
			                   path, p);
			goto out;
		}
		mode_t t = archive_entry_filetype(e);
		if (index && archive_entry_hardlink(e))
			DOUBT("hard links");
		if (index && t == AE_IFREG && archive_entry_sparse_count(e) > 0)
			DOUBT("sparse entries");
		if (t == AE_IFDIR) {
			if (mkdirat(pfd, base, 0700) < 0 && errno != EEXIST) {
				ret = fc_error_set(err, errno, "archive `%s`: mkdir `%s`", path, p);
				goto out;
			}
		} else if (t == AE_IFLNK) {
			/* indexing: an entry stored twice would free a placeholder */
			if (!index)
				unlinkat(pfd, base, 0);
			else if (faccessat(pfd, base, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
				DOUBT("an entry stored twice");
			if (symlinkat(archive_entry_symlink(e), pfd, base) < 0) {
				ret =
				    fc_error_set(err, errno, "archive `%s`: symlink `%s`", path, p);
				goto out;
			}
		} else if (archive_entry_hardlink(e)) {
			/* a hard link to an earlier entry (a layer stored once) */
			_cleanup_free_ char *tp = NULL, *tdir = NULL;
			if (fcsnap_clean_path(archive_entry_hardlink(e), 4096, &tp, err) < 0) {
				ret = fc_error_wrap(err, "archive `%s`: entry `%s`", path, p);
				goto out;
			}
			const char *ts = strrchr(tp, '/');
			tdir = ts ? fc_strndup(tp, (size_t)(ts - tp)) : fc_strdup("");
			_cleanup_close_ int tfd =
			    snap_openat_beneath(root, tdir, O_RDONLY | O_DIRECTORY, 0);
			unlinkat(pfd, base, 0);
			if (tfd < 0 || linkat(tfd, ts ? ts + 1 : tp, pfd, base, 0) < 0) {
				ret = fc_error_set(err, tfd < 0 ? -tfd : errno,
				                   "archive `%s`: link `%s` to `%s`", path, p, tp);
				goto out;
			}
		} else if (t == AE_IFREG) {
			if (!index)
				unlinkat(pfd, base, 0);
			_cleanup_close_ int out = openat(
			    pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
			if (out < 0 && index && errno == EEXIST)
				DOUBT("an entry stored twice");
			if (out < 0) {
				ret =
				    fc_error_set(err, errno, "archive `%s`: create `%s`", path, p);
				goto out;
			}
			int64_t size = archive_entry_size(e);
			if (index && archive_entry_size_is_set(e) && size >= OUTER_INLINE_MAX) {
				/* data from here to here + size, then the next header */
				int64_t off = archive_filter_bytes(a, 0);
				struct stat pst;
				if (off < archive_read_header_position(a) + 512 ||
				    off + size > ast.st_size)
					DOUBT("an entry's data offset does not check out");
				if (ftruncate(out, size) < 0 || fstat(out, &pst) < 0) {
					ret = fc_error_set(err, errno, "archive `%s`: create `%s`",
					                   path, p);
					goto out;
				}
				if (n_ob % 64 == 0)
					ob = fc_realloc(ob, (n_ob + 64) * sizeof(*ob));
				ob[n_ob++] = (struct outer_blob){.dev = pst.st_dev,
				                                 .ino = pst.st_ino,
				                                 .off = (uint64_t)off,
				                                 .size = (uint64_t)size};
				next_hdr = off + ((size + 511) & ~(int64_t)511);
				continue;
			}
			for (;;) {
				la_ssize_t n = archive_read_data(a, buf, bs);
				if (n < 0) {
					ret = fc_error_set(err, EIO, "archive `%s`: entry `%s`: %s",
					                   path, p, archive_error_string(a));
					goto out;
				}
				if (n == 0)
					break;
				int w = fc_write_all(out, buf, (size_t)n);
				if (w < 0) {
					ret = fc_error_set(err, -w, "archive `%s`: write `%s`",
					                   path, p);
					goto out;
				}
			}
		}
	}
	im->srcfd = TAKE_FD(root);
	im->src_private = true;
	if (index) {
		qsort(ob, n_ob, sizeof(*ob), cmp_outer_blob);
		im->ob = TAKE_PTR(ob);
		im->n_ob = n_ob;
		im->arfd = TAKE_FD(fd);
	}
out:
#undef DOUBT
	free(ob);
	archive_read_free(a);
	return ret;
}

/* ---- manifests ---------------------------------------------------------- */

/* From an index document to a manifest document (nested indexes allowed). */
static int resolve_manifest(struct imp *im, char *buf, char **manifest, char *mdigest,
                            char **ref_name, int depth, struct fc_error **err)
{
	if (depth > 4)
		return fc_error_set(err, ELOOP, "index nesting is too deep");
	if (snap_sniff_kind(buf) == 1) {
		*manifest = buf;
		return 0;
	}
	struct snap_index ix;
	int r = snap_parse_index(buf, &ix, err);
	free(buf);
	if (r < 0) {
		snap_index_clear(&ix);
		return r;
	}
	const struct snap_desc *pick = NULL;
	for (size_t i = 0; i < ix.n && !pick; i++)
		if (snap_platform_match(&ix.m[i], im->o->platform))
			pick = &ix.m[i];
	if (!pick) {
		size_t cand = 0;
		for (size_t i = 0; i < ix.n; i++)
			if (!ix.m[i].os) {
				cand++;
				pick = &ix.m[i];
			}
		if (cand != 1)
			pick = NULL;
	}
	if (!pick) {
		r = fc_error_set(err, ENOENT,
		                 "no manifest for platform %s in the index (%zu entries)",
		                 im->o->platform ? im->o->platform : "linux/amd64", ix.n);
		snap_index_clear(&ix);
		return r;
	}
	if (pick->ref_name && !*ref_name)
		*ref_name = fc_strdup(pick->ref_name);
	char *next = NULL;
	r = read_blob(im, pick, &next, err);
	snprintf(mdigest, 80, "%s", pick->digest);
	snap_index_clear(&ix);
	if (r < 0)
		return r;
	return resolve_manifest(im, next, manifest, mdigest, ref_name, depth + 1, err);
}

static void jobs_free(struct imp *im)
{
	for (size_t i = 0; i < im->n; i++) {
		free(im->jobs[i].src);
		free(im->jobs[i].want_digest);
		free(im->jobs[i].media_type);
		free(im->jobs[i].diff_id);
		if (im->jobs[i].lockfd >= 0)
			close(im->jobs[i].lockfd);
	}
	free(im->jobs);
	im->jobs = NULL;
	im->n = 0;
}

static int plan_oci(struct imp *im, char *mdigest, char *cdigest, struct snap_config_doc *cfg,
                    char **ref_name, struct fc_error **err)
{
	_cleanup_free_ char *ibuf = NULL, *mbuf = NULL, *cbuf = NULL;
	int r = src_fill(im, "index.json", err);
	if (r >= 0)
		r = snap_read_in_root(im->srcfd, "index.json", &ibuf, err);
	if (r < 0)
		return fc_error_wrap(err, "OCI layout");
	r = resolve_manifest(im, TAKE_PTR(ibuf), &mbuf, mdigest, ref_name, 0, err);
	if (r < 0)
		return r;
	struct snap_manifest m;
	r = snap_parse_manifest(mbuf, &m, err);
	if (r < 0) {
		snap_manifest_clear(&m);
		return fc_error_wrap(err, "manifest %s", mdigest);
	}
	r = read_blob(im, &m.config, &cbuf, err);
	if (r >= 0)
		r = snap_parse_config(cbuf, cfg, err);
	if (r >= 0 && cfg->n_diff_ids != m.n_layers)
		r = fc_error_set(err, EINVAL,
		                 "manifest %s has %zu layers but its config lists %zu diff_ids",
		                 mdigest, m.n_layers, cfg->n_diff_ids);
	snprintf(cdigest, 80, "%s", m.config.digest);
	im->jobs = fc_calloc(m.n_layers + 1, sizeof(*im->jobs));
	for (size_t i = 0; r >= 0 && i < m.n_layers; i++) {
		struct snap_job *j = &im->jobs[im->n++];
		j->lockfd = -1;
		j->comp = fcsnap_layer_compression(m.layers[i].media_type);
		if (j->comp < 0) {
			r = fc_error_set(err, EPROTONOSUPPORT,
			                 "layer %s: unsupported media type `%s`",
			                 m.layers[i].digest,
			                 m.layers[i].media_type ? m.layers[i].media_type : "");
			break;
		}
		j->src = fc_asprintf("blobs/sha256/%s", fcsnap_digest_hex(m.layers[i].digest));
		j->want_digest = fc_strdup(m.layers[i].digest);
		j->want_size = m.layers[i].size;
		j->media_type = fc_strdup(m.layers[i].media_type);
		j->diff_id = fc_strdup(cfg->diff_ids[i]);
	}
	snap_manifest_clear(&m);
	return r;
}

static int plan_docker(struct imp *im, char *cdigest, struct snap_config_doc *cfg, char **ref_name,
                       struct fc_error **err)
{
	_cleanup_free_ char *mbuf = NULL, *cbuf = NULL;
	struct snap_docker_manifest dm;
	int r = src_fill(im, "manifest.json", err);
	if (r >= 0)
		r = snap_read_in_root(im->srcfd, "manifest.json", &mbuf, err);
	if (r < 0)
		return fc_error_wrap(err, "docker-archive");
	r = snap_parse_docker_manifest(mbuf, &dm, err);
	if (r < 0)
		goto out;
	r = src_fill(im, dm.config, err);
	if (r >= 0)
		r = snap_read_in_root(im->srcfd, dm.config, &cbuf, err);
	if (r < 0) {
		fc_error_wrap(err, "docker-archive: config");
		goto out;
	}
	r = stage_doc(im, cbuf, cdigest, err);
	if (r >= 0)
		r = snap_parse_config(cbuf, cfg, err);
	if (r < 0)
		goto out;
	if (cfg->n_diff_ids != fc_strv_len(dm.layers)) {
		r = fc_error_set(err, EINVAL,
		                 "docker-archive: %zu layers but the config lists %zu diff_ids",
		                 fc_strv_len(dm.layers), cfg->n_diff_ids);
		goto out;
	}
	if (dm.repo_tags && dm.repo_tags[0] && !*ref_name)
		*ref_name = fc_strdup(dm.repo_tags[0]);
	im->jobs = fc_calloc(cfg->n_diff_ids + 1, sizeof(*im->jobs));
	for (size_t i = 0; i < cfg->n_diff_ids; i++) {
		struct snap_job *j = &im->jobs[im->n++];
		j->lockfd = -1;
		j->comp = -1;
		j->src = fc_strdup(dm.layers[i]);
		j->want_size = -1;
		j->diff_id = fc_strdup(cfg->diff_ids[i]);
	}
out:
	snap_docker_manifest_clear(&dm);
	return r;
}

/* ---- layers ------------------------------------------------------------- */

static void report(struct imp *im, unsigned layer)
{
	if (!im->o->progress)
		return;
	pthread_mutex_lock(&im->plock);
	im->prog.layer = layer;
	im->o->progress(&im->prog, im->o->progress_data);
	pthread_mutex_unlock(&im->plock);
}

static const char *docker_media_type(int comp)
{
	return comp == FCSNAP_COMP_GZIP   ? "application/vnd.docker.image.rootfs.diff.tar.gzip"
	       : comp == FCSNAP_COMP_ZSTD ? "application/vnd.docker.image.rootfs.diff.tar.zstd"
	                                  : "application/vnd.docker.image.rootfs.diff.tar";
}

static int check_diff_id(struct imp *im, size_t i, const char *got, struct fc_error **err)
{
	struct snap_job *j = &im->jobs[i];
	if (!FC_STREQ(got, j->diff_id))
		return fc_error_set(
		    err, EINVAL,
		    "layer %zu (blob %s): diff_id mismatch: content is %s, config says %s", i + 1,
		    j->digest, got, j->diff_id);
	return 0;
}

/* Stage a layer blob that came in an archive (extracted into stage/src) as a
 * hard link to the file the layer was just unpacked from, instead of a copy
 * written while unpacking: its bytes are written, and synced, once. Copies
 * (and checks again) when the link cannot be made (no /proc). */
static int stage_blob_link(struct imp *im, struct snap_job *j, int fd, const char *dst,
                           struct fc_error **err)
{
	char p[64];
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	if (linkat(AT_FDCWD, p, im->stagefd, dst, AT_SYMLINK_FOLLOW) == 0)
		return 0;
	char dg[80];
	uint64_t n;
	if (copy_blob(im, j->src, j->want_digest, j->want_size, dst, dg, &n, err) < 0)
		return fc_error_code(*err);
	if (!FC_STREQ(dg, j->digest) || n != j->size)
		return fc_error_set(err, EIO, "blob `%s` changed while it was imported", j->src);
	return 0;
}

/* One layer: its blob verified (digest and size, while it is read) and staged
 * unless the store has it; its directory unpacked and the diff_id checked
 * unless the store has it. */
static int do_layer(struct imp *im, size_t i, struct fc_error **err)
{
	struct snap_job *j = &im->jobs[i];
	const char *dhex = fcsnap_digest_hex(j->diff_id);
	char blobname[100], layername[100], got[80];
	bool need_unpack = !j->reuse_layer && !j->dup;
	bool stream = false; /* the blob is hashed from the source while it is unpacked */
	snprintf(blobname, sizeof(blobname), "layerblob-%zu", i);
	snprintf(layername, sizeof(layername), "layer-%s", dhex);
	report(im, (unsigned)i + 1);
	_cleanup_free_ char *inplace =
	    j->want_digest ? fc_asprintf("blobs/sha256/%s", fcsnap_digest_hex(j->want_digest))
	                   : NULL;
	_cleanup_close_ int bfd = -1, tee = -1, arfd = -1;
	struct stat st;
	struct outer_blob *ob = NULL; /* the blob is read from the outer archive */
	if (inplace && fstatat(im->s->dirfd, inplace, &st, 0) == 0 && S_ISREG(st.st_mode) &&
	    st.st_size == j->want_size) {
		/* the store verified this blob when it was added */
		j->blob_in_store = true;
		snprintf(j->digest, sizeof(j->digest), "%s", j->want_digest);
		j->size = (uint64_t)st.st_size;
		if (!need_unpack)
			return 0;
		bfd = openat(im->s->dirfd, inplace, O_RDONLY | O_CLOEXEC);
	} else if (!need_unpack) {
		/* a blob we do not have for a layer we have: copy it, and it must
		 * still be that layer, or the record would lie */
		if (copy_blob(im, j->src, j->want_digest, j->want_size, blobname, j->digest,
		              &j->size, err) < 0)
			return fc_error_wrap(err, "layer %zu", i + 1);
		j->blob_staged = true;
		bfd = openat(im->stagefd, blobname, O_RDONLY | O_CLOEXEC);
		if (bfd < 0)
			return fc_error_set(err, errno, "layer %zu: open staged blob %s", i + 1,
			                    j->digest);
		int comp = j->comp >= 0 ? j->comp : snap_sniff_compression(bfd);
		if (comp < 0)
			return fc_error_set(err, -comp, "layer %zu: read blob %s", i + 1,
			                    j->digest);
		if (j->comp < 0)
			j->media_type = fc_strdup(docker_media_type(comp));
		if (snap_verify_layer(bfd, comp, &im->lim, got, err) < 0)
			return fc_error_wrap(err, "layer %zu (blob %s, diff_id %s)", i + 1,
			                     j->digest, j->diff_id);
		return check_diff_id(im, i, got, err);
	} else {
		/* stream: hash and unpack in one pass; the blob is copied on the way
		 * (tee) from a layout dir, linked afterwards from an archive */
		stream = true;
		bfd = snap_openat_in_root(im->srcfd, j->src, O_RDONLY | O_NOCTTY, 0);
		if (bfd < 0)
			return fc_error_set(err, -bfd, "layer %zu: blob `%s`", i + 1, j->src);
		if (fstat(bfd, &st) < 0 || !S_ISREG(st.st_mode))
			return fc_error_set(err, EINVAL,
			                    "layer %zu: blob `%s` is not a regular file", i + 1,
			                    j->src);
		if (j->want_size >= 0 && st.st_size != j->want_size)
			return fc_error_set(
			    err, EINVAL, "blob %s: size %lld does not match the descriptor's %lld",
			    j->want_digest, (long long)st.st_size, (long long)j->want_size);
		ob = outer_find(im, bfd);
		if (ob) {
			pthread_mutex_lock(&im->fill_lock);
			if (ob->filled)
				ob = NULL; /* read the filled placeholder instead */
			pthread_mutex_unlock(&im->fill_lock);
		}
		if (ob) {
			/* a file of its own: readahead for this range only */
			char pp[64];
			snprintf(pp, sizeof(pp), "/proc/self/fd/%d", im->arfd);
			arfd = open(pp, O_RDONLY | O_CLOEXEC);
			if (arfd < 0)
				arfd = fcntl(im->arfd, F_DUPFD_CLOEXEC, 3);
			if (arfd < 0)
				return fc_error_set(err, errno, "layer %zu: open the archive",
				                    i + 1);
			posix_fadvise(arfd, (off_t)ob->off, (off_t)ob->size, POSIX_FADV_SEQUENTIAL);
		}
		if (!im->src_private || ob) {
			tee = openat(im->stagefd, blobname,
			             O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
			if (tee < 0)
				return fc_error_set(err, errno, "layer %zu: create staged blob",
				                    i + 1);
			j->blob_staged = true;
		}
	}
	if (bfd < 0)
		return fc_error_set(err, errno, "layer %zu: open blob", i + 1);
	int comp = j->comp >= 0 ? j->comp
	           : ob         ? snap_sniff_compression_at(arfd, ob->off, ob->size)
	                        : snap_sniff_compression(bfd);
	if (comp < 0)
		return fc_error_set(err, -comp, "layer %zu: read blob `%s`", i + 1, j->src);
	if (j->comp < 0) {
		j->comp = comp;
		j->media_type = fc_strdup(docker_media_type(comp));
	}
	if (mkdirat(im->stagefd, layername, 0755) < 0)
		return fc_error_set(err, errno, "layer %s: create staging dir", j->diff_id);
	_cleanup_close_ int dfd =
	    openat(im->stagefd, layername, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return fc_error_set(err, errno, "layer %s: open staging dir", j->diff_id);
	struct snap_progress_sink ps = {im->o->progress, im->o->progress_data, &im->plock,
	                                &im->prog};
	char bdig[80] = "";
	uint64_t bsize = 0;
	const char *what = j->want_digest ? j->want_digest : j->src;
	int r = snap_unpack_layer_at(ob ? arfd : bfd, ob ? (int64_t)ob->off : -1, ob ? ob->size : 0,
	                             comp, dfd, &im->lim, !im->o->no_uring, &ps, got, tee,
	                             stream ? bdig : NULL, stream ? &bsize : NULL, err);
	if (stream) {
		/* a wrong blob is reported as such, whatever its content did */
		if (r == 0 || bsize == (uint64_t)st.st_size) {
			if (j->want_size >= 0 && bsize != (uint64_t)j->want_size) {
				fc_error_free(*err);
				*err = NULL;
				return fc_error_set(
				    err, EINVAL, "blob %s: read %llu bytes, descriptor says %lld",
				    what, (unsigned long long)bsize, (long long)j->want_size);
			}
		}
		if (r == 0 && j->want_digest && !FC_STREQ(bdig, j->want_digest))
			return fc_error_set(
			    err, EINVAL,
			    "blob `%s`: digest mismatch: content is %s, descriptor says %s", j->src,
			    bdig, j->want_digest);
		if (r == 0) {
			snprintf(j->digest, sizeof(j->digest), "%s", bdig);
			j->size = bsize;
			if (im->o->progress) {
				pthread_mutex_lock(&im->plock);
				im->prog.bytes_in += bsize;
				pthread_mutex_unlock(&im->plock);
			}
		}
	}
	if (r < 0) {
		/* a corrupt blob shows up as a broken stream: name the digest check */
		if (stream && j->want_digest) {
			char full[80];
			_cleanup_close_ int again =
			    ob ? -1
			       : snap_openat_in_root(im->srcfd, j->src, O_RDONLY | O_NOCTTY, 0);
			int h = ob           ? hash_range(arfd, ob->off, ob->size, full)
			        : again >= 0 ? snap_hash_fd(again, full, NULL)
			                     : -1;
			if (h == 0 && !FC_STREQ(full, j->want_digest)) {
				fc_error_free(*err);
				*err = NULL;
				return fc_error_set(
				    err, EINVAL,
				    "blob `%s`: digest mismatch: content is %s, descriptor says %s",
				    j->src, full, j->want_digest);
			}
		}
		return fc_error_wrap(err, "layer %zu (blob %s, diff_id %s)", i + 1, what,
		                     j->diff_id);
	}
	if (stream && tee < 0) {
		if (stage_blob_link(im, j, bfd, blobname, err) < 0)
			return fc_error_wrap(err, "layer %zu: stage blob %s", i + 1, j->digest);
		j->blob_staged = true;
	}
	return check_diff_id(im, i, got, err);
}

static void *worker(void *arg)
{
	struct imp *im = arg;
	for (;;) {
		pthread_mutex_lock(&im->plock);
		size_t i = im->next++;
		bool stop = im->first_err != 0;
		pthread_mutex_unlock(&im->plock);
		if (stop || i >= im->n)
			return NULL;
		struct fc_error *e = NULL;
		if (do_layer(im, i, &e) < 0) {
			pthread_mutex_lock(&im->plock);
			if (!im->first_err) {
				im->first_err = fc_error_code(e);
				im->err = TAKE_PTR(e);
			}
			pthread_mutex_unlock(&im->plock);
			fc_error_free(e);
		}
	}
}

/* Synthesise a Docker schema2 manifest for a docker-archive. */
static char *docker_manifest(struct imp *im, const char *cdigest, const char *cbuf_digest_unused)
{
	struct fc_buf b = {0};
	struct stat st;
	_cleanup_free_ char *cp = fc_asprintf("blob-%s", fcsnap_digest_hex(cdigest));
	(void)cbuf_digest_unused;
	fstatat(im->stagefd, cp, &st, 0);
	fc_buf_printf(
	    &b,
	    "{\"schemaVersion\":2,\"mediaType\":\"application/"
	    "vnd.docker.distribution.manifest.v2+json\","
	    "\"config\":{\"mediaType\":\"application/"
	    "vnd.docker.container.image.v1+json\",\"digest\":\"%s\",\"size\":%lld},\"layers\":[",
	    cdigest, (long long)st.st_size);
	for (size_t i = 0; i < im->n; i++)
		fc_buf_printf(
		    &b, "%s{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%llu}", i ? "," : "",
		    im->jobs[i].media_type ? im->jobs[i].media_type
		                           : "application/vnd.docker.image.rootfs.diff.tar",
		    im->jobs[i].digest, (unsigned long long)im->jobs[i].size);
	fc_buf_printf(&b, "]}");
	return b.data;
}

int fcsnap_import(struct fcsnap_store *s, const char *path, const struct fcsnap_import_opts *opts,
                  char **name_out, struct fc_error **err)
{
	static const struct fcsnap_import_opts defaults = {0};
	struct imp im = {
	    .s = s, .o = opts ? opts : &defaults, .srcfd = -1, .stagefd = -1, .arfd = -1};
	struct snap_config_doc cfg = {0};
	char mdigest[80] = "", cdigest[80] = "";
	_cleanup_free_ char *ref_name = NULL;
	int r;
	static unsigned counter;

	im.lim.max_size = im.o->max_layer_size ? im.o->max_layer_size : (64ull << 30);
	im.lim.max_entries = im.o->max_entries ? im.o->max_entries : 4000000;
	im.lim.max_path = im.o->max_path ? im.o->max_path : 4096;
	pthread_mutex_init(&im.plock, NULL);
	pthread_mutex_init(&im.fill_lock, NULL);
	if (im.o->name && !snap_valid_name(im.o->name))
		return fc_error_set(err, EINVAL, "invalid image name `%s`", im.o->name);
	int lk = snap_lock_shared(s, err);
	if (lk < 0)
		return lk;
	im.stage = fc_asprintf("tmp/stage-%d-%u-%llx", (int)getpid(),
	                       __atomic_fetch_add(&counter, 1, __ATOMIC_SEQ_CST),
	                       (unsigned long long)fc_now_ns());
	if (mkdirat(s->dirfd, im.stage, 0700) < 0 ||
	    (im.stagefd = openat(s->dirfd, im.stage, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		r = fc_error_set(err, errno, "create staging dir `%s/%s`", s->path, im.stage);
		goto out;
	}
	struct stat st;
	if (stat(path, &st) < 0) {
		r = fc_error_set(err, errno, "import `%s`", path);
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		im.srcfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (im.srcfd < 0) {
			r = fc_error_set(err, errno, "open `%s`", path);
			goto out;
		}
	} else {
		/* FCSTART_IMPORT_OUTER (tests, measurements): "extract" always
		 * extracts the archive; "index" makes an archive that cannot be
		 * indexed an error instead of extracting it */
		const char *mode = getenv("FCSTART_IMPORT_OUTER");
		const char *why = NULL;
		r = 1;
		if (!mode || !FC_STREQ(mode, "extract"))
			r = extract_outer(&im, path, true, &why, err);
		if (r > 0 && mode && FC_STREQ(mode, "index")) {
			r = fc_error_set(err, EINVAL, "`%s` cannot be read in place: %s", path,
			                 why);
			goto out;
		}
		if (r > 0) {
			fc_rm_rf_at(im.stagefd, "src", NULL);
			r = extract_outer(&im, path, false, &why, err);
		}
		if (r < 0)
			goto out;
	}
	bool oci = faccessat(im.srcfd, "index.json", F_OK, 0) == 0;
	bool docker = !oci && faccessat(im.srcfd, "manifest.json", F_OK, 0) == 0;
	if (oci)
		r = plan_oci(&im, mdigest, cdigest, &cfg, &ref_name, err);
	else if (docker)
		r = plan_docker(&im, cdigest, &cfg, &ref_name, err);
	else
		r = fc_error_set(err, EINVAL,
		                 "`%s` is neither an OCI image layout (index.json) nor a "
		                 "docker-archive (manifest.json)",
		                 path);
	if (r < 0)
		goto wrap;
	const char *name = im.o->name ? im.o->name : ref_name;
	if (!snap_valid_name(name)) {
		r = fc_error_set(err, EINVAL, "`%s` names no image; give one with --name", path);
		goto out;
	}
	r = snap_lock_layers(s, im.jobs, im.n, err);
	if (r < 0)
		goto out;
	im.prog.layers = (unsigned)im.n;
	unsigned jobs = im.o->jobs ? im.o->jobs : (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
	if (jobs > 4)
		jobs = 4;
	if (jobs > im.n)
		jobs = (unsigned)im.n;
	struct snap_writeback wb;
	snap_writeback_start(&wb, im.stagefd);
	if (jobs <= 1) {
		worker(&im);
	} else {
		pthread_t t[4];
		for (unsigned i = 0; i < jobs; i++)
			pthread_create(&t[i], NULL, worker, &im);
		for (unsigned i = 0; i < jobs; i++)
			pthread_join(t[i], NULL);
	}
	snap_writeback_stop(&wb);
	if (im.first_err) {
		*err = TAKE_PTR(im.err);
		r = im.first_err;
		goto wrap;
	}
	if (docker) {
		_cleanup_free_ char *m = docker_manifest(&im, cdigest, NULL);
		r = stage_doc(&im, m, mdigest, err);
		if (r < 0)
			goto out;
	}
	/* the rest of the extracted archive is not kept (its layer blobs are
	 * linked): removed before the sync, its dirty pages are never written */
	if (im.src_private)
		fc_rm_rf_at(im.stagefd, "src", NULL);
	r = snap_commit(s, im.stagefd, im.jobs, im.n, name, mdigest, cdigest, err);
	if (r >= 0 && name_out)
		*name_out = fc_strdup(name);
	goto out;
wrap:
	fc_error_wrap(err, "import `%s`", path);
out:
	if (im.err)
		fc_error_free(im.err);
	jobs_free(&im);
	snap_config_doc_clear(&cfg);
	if (im.srcfd >= 0)
		close(im.srcfd);
	if (im.arfd >= 0)
		close(im.arfd);
	free(im.ob);
	if (im.stagefd >= 0)
		close(im.stagefd);
	fc_rm_rf_at(s->dirfd, im.stage, NULL);
	free(im.stage);
	snap_unlock(lk);
	pthread_mutex_destroy(&im.plock);
	pthread_mutex_destroy(&im.fill_lock);
	return r;
}
