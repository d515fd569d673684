/* SPDX-License-Identifier: MIT */
/* unpack.c: one layer blob -> one directory in overlayfs lower-dir format.
 * The blob is decompressed here (zlib / libzstd) and fed to libarchive's tar
 * reader, so the diff_id is computed over exactly the decompressed stream.
 * Every create goes through a parent opened with openat2(RESOLVE_BENEATH): a
 * layer cannot write outside its directory. */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <zlib.h>
#ifdef FC_HAVE_ISAL
#include <isa-l/igzip_lib.h>
#endif
#define ZSTD_STATIC_LINKING_ONLY /* buffer-less decompression into our ring */
#include <zstd.h>

#include "snap-private.h"

#define IN_BUF  (1u << 20)
#define OUT_BUF (512u << 10)

struct rerr {
	int error; /* positive errno, 0 while fine */
	char msg[160];
};

struct slot {
	unsigned char *buf;
	size_t len;
};

#define NSLOT 4

/* The decompressor, running in its own thread when the layer is large
 * enough to gain from it: slots of decompressed bytes handed to the tar
 * reader, so inflating overlaps with hashing and writing. */
struct reader {
	int fd;
	int comp;
	bool eof_in;
	z_stream z;
	bool z_init, z_end;
#ifdef FC_HAVE_ISAL
	struct inflate_state *isal; /* gzip with ISA-L (5-6x zlib's speed here) */
#endif
	ZSTD_DCtx *zs;
	size_t zs_last;
	unsigned char *in;
	size_t in_len, in_pos;
	struct rerr perr; /* producer side */
	int tee_fd;       /* the blob is copied here while it is read (-1: not) */
	bool ranged;      /* the blob is fd's bytes [off, off + left) (pread) */
	uint64_t off, left;
	bool hash_in;
	struct snap_hash blob; /* digest of the compressed blob */
	uint64_t total_in;
	/* consumer side */
	struct snap_hash diff;
	uint64_t total_out, max_out;
	int error;
	char emsg[160];
	/* hand-over */
	bool threaded, started, have_prev, eof, stop;
	pthread_t th;
	pthread_mutex_t m;
	pthread_cond_t c;
	unsigned head, tail;
	struct slot s[NSLOT];
	unsigned char *ring; /* the slots' memory (threaded) */
	size_t ring_size;
};

static void perr_set(struct rerr *e, int err, const char *msg)
{
	if (!e->error) {
		e->error = err;
		snprintf(e->msg, sizeof(e->msg), "%s", msg);
	}
}

/* Read more of the blob into in[in_len..cap), hashing and copying it on the
 * way: bytes read, 0 at the end, -errno. */
static ssize_t read_more(struct reader *r, size_t cap)
{
	for (;;) {
		size_t want = cap - r->in_len;
		ssize_t n;
		if (r->ranged) {
			/* a file shorter than its range ends the blob early: the
			 * size and digest checks name it */
			if (want > r->left)
				want = (size_t)r->left;
			n = want ? pread(r->fd, r->in + r->in_len, want, (off_t)r->off) : 0;
		} else {
			n = read(r->fd, r->in + r->in_len, want);
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			r->eof_in = true;
		if (r->ranged) {
			r->off += (uint64_t)n;
			r->left -= (uint64_t)n;
		}
		if (n > 0 && r->hash_in)
			snap_hash_update(&r->blob, r->in + r->in_len, (size_t)n);
		if (n > 0 && r->tee_fd >= 0) {
			int w = fc_write_all(r->tee_fd, r->in + r->in_len, (size_t)n);
			if (w < 0)
				return w;
		}
		r->in_len += (size_t)n;
		r->total_in += (uint64_t)n;
		return n;
	}
}

static int fill_in(struct reader *r)
{
	if (r->in_pos < r->in_len || r->eof_in)
		return 0;
	r->in_pos = r->in_len = 0;
	ssize_t n = read_more(r, IN_BUF);
	return n < 0 ? (int)n : 0;
}

/* At least need contiguous bytes at in + in_pos, unless the blob ends first:
 * 0 when they are there, 1 at the end, -errno. */
static int in_ensure(struct reader *r, size_t need)
{
	while (r->in_len - r->in_pos < need) {
		if (r->eof_in)
			return 1;
		if (r->in_pos + need > IN_BUF) {
			memmove(r->in, r->in + r->in_pos, r->in_len - r->in_pos);
			r->in_len -= r->in_pos;
			r->in_pos = 0;
		}
		ssize_t n = read_more(r, IN_BUF);
		if (n < 0)
			return (int)n;
	}
	return 0;
}

/* Fill out (up to cap) with decompressed bytes: > 0 bytes, 0 at the end,
 * -1 on error (r->perr set). */
static ssize_t decomp_into(struct reader *r, unsigned char *out, size_t cap)
{
	size_t got = 0;
	while (got < cap) {
		if (r->perr.error)
			return -1;
		int e = fill_in(r);
		if (e < 0) {
			perr_set(&r->perr, -e, "read or copy layer blob");
			return -1;
		}
		size_t avail = r->in_len - r->in_pos;
		if (r->comp == FCSNAP_COMP_NONE) {
			if (r->eof_in)
				break;
			size_t n = avail < cap - got ? avail : cap - got;
			memcpy(out + got, r->in + r->in_pos, n);
			r->in_pos += n;
			got += n;
		} else if (r->comp == FCSNAP_COMP_GZIP) {
			if (r->eof_in) {
				if (!r->z_end) {
					perr_set(&r->perr, EIO,
					         "truncated gzip stream (unexpected end of data)");
					return -1;
				}
				break;
			}
#ifdef FC_HAVE_ISAL
			if (r->isal) {
				if (r->z_end) {
					isal_inflate_reset(r->isal);
					r->isal->crc_flag = ISAL_GZIP;
				}
				r->z_end = false;
				r->isal->next_in = r->in + r->in_pos;
				r->isal->avail_in = (uint32_t)avail;
				r->isal->next_out = out + got;
				r->isal->avail_out = (uint32_t)(cap - got);
				int ir = isal_inflate(r->isal);
				if (ir < 0) {
					char m[120];
					snprintf(m, sizeof(m), "corrupt gzip stream: %s",
					         ir == ISAL_INCORRECT_CHECKSUM ? "checksum mismatch"
					         : ir == ISAL_INVALID_WRAPPER
					             ? "bad gzip header"
					             : "invalid deflate data");
					perr_set(&r->perr, EIO, m);
					return -1;
				}
				if (r->isal->block_state == ISAL_BLOCK_FINISH)
					r->z_end = true;
				r->in_pos = r->in_len - r->isal->avail_in;
				got = cap - r->isal->avail_out;
				continue;
			}
#endif
			if (r->z_end) {
				/* another gzip member follows (concatenated streams) */
				if (inflateReset(&r->z) != Z_OK) {
					perr_set(&r->perr, EIO, "gzip: reset failed");
					return -1;
				}
				r->z_end = false;
			}
			r->z.next_in = r->in + r->in_pos;
			r->z.avail_in = (uInt)avail;
			r->z.next_out = out + got;
			r->z.avail_out = (uInt)(cap - got);
			int zr = inflate(&r->z, Z_NO_FLUSH);
			if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) {
				char m[120];
				snprintf(m, sizeof(m), "corrupt gzip stream: %s",
				         r->z.msg ? r->z.msg : "inflate failed");
				perr_set(&r->perr, EIO, m);
				return -1;
			}
			if (zr == Z_STREAM_END)
				r->z_end = true;
			r->in_pos = r->in_len - r->z.avail_in;
			got = cap - r->z.avail_out;
		} else {
			if (r->eof_in) {
				if (r->zs_last != 0) {
					perr_set(&r->perr, EIO,
					         "truncated zstd stream (unexpected end of data)");
					return -1;
				}
				break;
			}
			ZSTD_inBuffer ib = {r->in + r->in_pos, avail, 0};
			ZSTD_outBuffer ob = {out, cap, got};
			size_t zr = ZSTD_decompressStream(r->zs, &ob, &ib);
			if (ZSTD_isError(zr)) {
				char m[120];
				snprintf(m, sizeof(m), "corrupt zstd stream: %s",
				         ZSTD_getErrorName(zr));
				perr_set(&r->perr, EIO, m);
				return -1;
			}
			r->zs_last = zr;
			r->in_pos += ib.pos;
			got = ob.pos;
		}
	}
	return (ssize_t)got;
}

/* A slot of NSLOT free for the decompressor, or stop. Under m. */
static bool wait_slot(struct reader *r)
{
	while (r->tail - r->head == NSLOT && !r->stop)
		pthread_cond_wait(&r->c, &r->m);
	return !r->stop;
}

/* Hand buf to the consumer as the next slot: false when stopped. */
static bool publish(struct reader *r, unsigned char *buf, size_t len)
{
	pthread_mutex_lock(&r->m);
	if (!wait_slot(r)) {
		pthread_mutex_unlock(&r->m);
		return false;
	}
	struct slot *s = &r->s[r->tail % NSLOT];
	s->buf = buf;
	s->len = len;
	r->tail++;
	pthread_cond_broadcast(&r->c);
	pthread_mutex_unlock(&r->m);
	return true;
}

/* gzip, and zstd with windows too large for the ring: the streaming APIs
 * inflate into fixed slots. */
static void produce_stream(struct reader *r)
{
	for (unsigned i = 0; i < NSLOT; i++)
		r->s[i].buf = r->ring + (size_t)i * OUT_BUF;
	for (;;) {
		pthread_mutex_lock(&r->m);
		bool go = wait_slot(r);
		unsigned idx = r->tail % NSLOT;
		pthread_mutex_unlock(&r->m);
		if (!go)
			return;
		ssize_t n = decomp_into(r, r->ring + (size_t)idx * OUT_BUF, OUT_BUF);
		if (n <= 0)
			return;
		if (!publish(r, r->ring + (size_t)idx * OUT_BUF, (size_t)n))
			return;
	}
}

#define RING_MAX_WINDOW (8u << 20) /* zstd -19 and below */
#define BLOCK_MAX       ((size_t)ZSTD_BLOCKSIZE_MAX)

/* zstd: frames decoded block by block (ZSTD_decompressContinue) straight
 * into a ring that holds the window, so the decompressed bytes are written
 * once (no copy out of libzstd's own window buffer). Slots are published
 * ranges of the ring; a block is decoded only where no unreleased slot is. */
static void produce_ring(struct reader *r)
{
	const size_t R = r->ring_size;
	size_t w = 0, start = 0; /* write position, start of the slot being filled */
	bool in_frame = false;
	for (;;) {
		if (!in_frame) {
			int e = in_ensure(r, ZSTD_FRAMEHEADERSIZE_MAX);
			if (e < 0) {
				perr_set(&r->perr, -e, "read or copy layer blob");
				return;
			}
			if (r->in_pos == r->in_len)
				break; /* the blob ends between frames: done */
			ZSTD_frameHeader fh;
			if (ZSTD_getFrameHeader(&fh, r->in + r->in_pos, r->in_len - r->in_pos) ==
			        0 &&
			    fh.frameType != ZSTD_skippableFrame &&
			    fh.windowSize > R - 2 * BLOCK_MAX - 4096) {
				char m[120];
				snprintf(m, sizeof(m),
				         "zstd frame with a window of %llu bytes after frames "
				         "with smaller ones",
				         (unsigned long long)fh.windowSize);
				perr_set(&r->perr, EIO, m);
				return;
			}
			ZSTD_decompressBegin(r->zs);
			in_frame = true;
		}
		size_t need = ZSTD_nextSrcSizeToDecompress(r->zs);
		if (need == 0) { /* frame complete */
			in_frame = false;
			continue;
		}
		int e = in_ensure(r, need);
		if (e < 0) {
			perr_set(&r->perr, -e, "read or copy layer blob");
			return;
		}
		if (e > 0) {
			perr_set(&r->perr, EIO, "truncated zstd stream (unexpected end of data)");
			return;
		}
		if (R - w < BLOCK_MAX) { /* wrap around */
			if (w > start && !publish(r, r->ring + start, w - start))
				return;
			w = start = 0;
		}
		/* room for a block at w: no unreleased slot starts within it */
		size_t room;
		pthread_mutex_lock(&r->m);
		for (;;) {
			bool busy = r->head != r->tail;
			size_t o = busy ? (size_t)(r->s[r->head % NSLOT].buf - r->ring) : start;
			room = o > w ? o - w : o < w ? R - w + o : busy ? 0 : R;
			if ((room >= BLOCK_MAX && r->tail - r->head < NSLOT) || r->stop)
				break;
			pthread_cond_wait(&r->c, &r->m);
		}
		bool stop = r->stop;
		pthread_mutex_unlock(&r->m);
		if (stop)
			return;
		/* libzstd may write a little past a block's end: never into a slot */
		size_t cap = R - w < room ? R - w : room;
		size_t n =
		    ZSTD_decompressContinue(r->zs, r->ring + w, cap, r->in + r->in_pos, need);
		if (ZSTD_isError(n)) {
			char m[120];
			snprintf(m, sizeof(m), "corrupt zstd stream: %s", ZSTD_getErrorName(n));
			perr_set(&r->perr, EIO, m);
			return;
		}
		r->in_pos += need;
		w += n;
		if (w - start >= OUT_BUF) {
			if (!publish(r, r->ring + start, w - start))
				return;
			start = w;
		}
	}
	if (w > start)
		publish(r, r->ring + start, w - start);
}

static void *producer(void *arg)
{
	struct reader *r = arg;
	pthread_setname_np(pthread_self(), "fcsnap-inflate");
	bool ring = false;
	if (r->comp == FCSNAP_COMP_ZSTD) {
		/* the first frame's window decides (later frames must fit it) */
		ZSTD_frameHeader fh;
		int e = in_ensure(r, ZSTD_FRAMEHEADERSIZE_MAX);
		if (e < 0) {
			perr_set(&r->perr, -e, "read or copy layer blob");
			goto done;
		}
		ring = ZSTD_getFrameHeader(&fh, r->in + r->in_pos, r->in_len - r->in_pos) == 0 &&
		       fh.frameType != ZSTD_skippableFrame && fh.windowSize <= RING_MAX_WINDOW;
		if (ring) {
			size_t win = (size_t)fh.windowSize;
			r->ring_size =
			    (win > NSLOT * OUT_BUF ? win : NSLOT * OUT_BUF) + 2 * BLOCK_MAX + 4096;
		}
	}
	if (!ring)
		r->ring_size = NSLOT * OUT_BUF;
	r->ring = fc_malloc(r->ring_size);
	if (ring)
		produce_ring(r);
	else
		produce_stream(r);
done:
	pthread_mutex_lock(&r->m);
	r->eof = true;
	pthread_cond_broadcast(&r->c);
	pthread_mutex_unlock(&r->m);
	return NULL;
}

static void rfail(struct reader *r, int e, const char *msg)
{
	if (!r->error) {
		r->error = e;
		snprintf(r->emsg, sizeof(r->emsg), "%s", msg);
	}
}

/* Next chunk of decompressed bytes for the consumer; 0 at the end, -1 on error. */
static ssize_t produce(struct reader *r, const void **buf)
{
	ssize_t n;
	if (r->error)
		return -1;
	if (!r->threaded) {
		n = decomp_into(r, r->s[0].buf, OUT_BUF);
		*buf = r->s[0].buf;
	} else {
		if (!r->started) {
			if (pthread_create(&r->th, NULL, producer, r) != 0) {
				rfail(r, EAGAIN, "start the decompression thread");
				return -1;
			}
			r->started = true;
		}
		pthread_mutex_lock(&r->m);
		if (r->have_prev) {
			r->head++;
			r->have_prev = false;
			pthread_cond_broadcast(&r->c);
		}
		while (r->head == r->tail && !r->eof)
			pthread_cond_wait(&r->c, &r->m);
		if (r->head == r->tail) {
			n = r->perr.error ? -1 : 0;
		} else {
			unsigned idx = r->head % NSLOT;
			*buf = r->s[idx].buf;
			n = (ssize_t)r->s[idx].len;
			r->have_prev = true;
		}
		pthread_mutex_unlock(&r->m);
	}
	if (n < 0) {
		rfail(r, r->perr.error, r->perr.msg);
		return -1;
	}
	if (n == 0)
		return 0;
	r->total_out += (uint64_t)n;
	if (r->total_out > r->max_out) {
		char m[120];
		snprintf(m, sizeof(m), "expanded size exceeds the limit of %llu bytes",
		         (unsigned long long)r->max_out);
		rfail(r, EFBIG, m);
		return -1;
	}
	snap_hash_update(&r->diff, *buf, (size_t)n);
	return n;
}

static la_ssize_t ar_read(struct archive *a, void *data, const void **buf)
{
	struct reader *r = data;
	ssize_t n = produce(r, buf);
	if (n < 0) {
		archive_set_error(a, r->error, "%s", r->emsg);
		return -1;
	}
	return n;
}

static int reader_init(struct reader *r, int fd, int comp, uint64_t max_out, bool threaded,
                       struct fc_error **err)
{
	memset(r, 0, sizeof(*r));
	r->tee_fd = -1;
	r->fd = fd;
	r->comp = comp;
	r->max_out = max_out;
	r->threaded = threaded;
	r->in = fc_malloc(IN_BUF);
	if (!threaded)
		r->s[0].buf = fc_malloc(OUT_BUF);
	pthread_mutex_init(&r->m, NULL);
	pthread_cond_init(&r->c, NULL);
	snap_hash_init(&r->diff);
	if (comp == FCSNAP_COMP_GZIP) {
#ifdef FC_HAVE_ISAL
		r->isal = fc_malloc(sizeof(*r->isal));
		isal_inflate_init(r->isal);
		r->isal->crc_flag = ISAL_GZIP;
		return 0;
#endif
		if (inflateInit2(&r->z, 15 + 16) != Z_OK)
			return fc_error_set(err, ENOMEM, "gzip: init failed");
		r->z_init = true;
	} else if (comp == FCSNAP_COMP_ZSTD) {
		r->zs = ZSTD_createDCtx();
		if (!r->zs)
			abort();
	}
	return 0;
}

static void reader_free(struct reader *r)
{
	if (r->started) {
		pthread_mutex_lock(&r->m);
		r->stop = true;
		pthread_cond_broadcast(&r->c);
		pthread_mutex_unlock(&r->m);
		pthread_join(r->th, NULL);
	}
	pthread_mutex_destroy(&r->m);
	pthread_cond_destroy(&r->c);
	if (r->z_init)
		inflateEnd(&r->z);
#ifdef FC_HAVE_ISAL
	free(r->isal);
#endif
	if (r->zs)
		ZSTD_freeDCtx(r->zs);
	free(r->in);
	if (!r->threaded)
		free(r->s[0].buf);
	free(r->ring);
	snap_hash_free(&r->diff);
	snap_hash_free(&r->blob);
}

/* ---- the writing side -------------------------------------------------- */

struct dirtime {
	char *path;
	struct timespec ts[2];
};

struct unpacker {
	int root;
	const struct snap_limits *lim;
	char *cache_path; /* parent dir cached in cache_fd */
	int cache_fd;
	struct dirtime *dts;
	size_t n_dts, cap_dts;
	bool root_user;
	struct snap_progress_sink *ps;
	uint64_t last_ns, files, bytes;
	struct snap_uring *ur; /* NULL: plain syscalls */
	bool dir_sgid;         /* the cached parent is setgid (or unknown) */
	mode_t umask;
	uid_t euid;
	gid_t egid;
};

static void cache_drop(struct unpacker *u)
{
	if (u->cache_fd >= 0)
		close(u->cache_fd);
	u->cache_fd = -1;
	free(u->cache_path);
	u->cache_path = NULL;
}

static int open_dir(struct unpacker *u, const char *dir, const char *entry, struct fc_error **err)
{
	if (u->cache_path && FC_STREQ(u->cache_path, dir))
		return u->cache_fd;
	cache_drop(u);
	int fd = snap_openat_beneath(u->root, dir, O_RDONLY | O_DIRECTORY, 0);
	if (fd == -ENOENT) {
		/* tar without explicit parent entries: create them (0755 root) */
		struct fc_error *e2 = NULL;
		_cleanup_free_ char *p = fc_strdup(dir);
		for (char *s = p;; s++) {
			if (*s == '/' || *s == 0) {
				char c = *s;
				*s = 0;
				int d = snap_openat_beneath(u->root, p, O_RDONLY | O_DIRECTORY, 0);
				if (d == -ENOENT) {
					_cleanup_free_ char *pp = fc_strdup(p);
					char *sl = strrchr(pp, '/');
					_cleanup_close_ int pfd =
					    snap_openat_beneath(u->root, sl ? (*sl = 0, pp) : "",
					                        O_RDONLY | O_DIRECTORY, 0);
					if (pfd < 0 || mkdirat(pfd, sl ? sl + 1 : p, 0755) < 0) {
						int er = pfd < 0 ? -pfd : errno;
						fc_error_free(e2);
						return fc_error_set(
						    err, er, "entry `%s`: create parent `%s`",
						    entry, p);
					}
				} else if (d >= 0) {
					close(d);
				}
				*s = c;
				if (!c)
					break;
			}
		}
		fd = snap_openat_beneath(u->root, dir, O_RDONLY | O_DIRECTORY, 0);
	}
	if (fd == -EXDEV || fd == -ELOOP)
		return fc_error_set(err, EPERM,
		                    "entry `%s`: parent `%s` escapes the layer through a symlink",
		                    entry, dir);
	if (fd == -ENOTDIR)
		return fc_error_set(err, ENOTDIR, "entry `%s`: parent `%s` is not a directory",
		                    entry, dir);
	if (fd < 0)
		return fc_error_set(err, -fd, "entry `%s`: open parent `%s`", entry, dir);
	u->cache_path = fc_strdup(dir);
	u->cache_fd = fd;
	struct stat dst;
	u->dir_sgid = fstat(fd, &dst) < 0 || (dst.st_mode & S_ISGID);
	return fd;
}

/* Split a cleaned path into its parent (allocated) and base. */
static char *split(const char *path, const char **base)
{
	const char *s = strrchr(path, '/');
	*base = s ? s + 1 : path;
	return s ? fc_strndup(path, (size_t)(s - path)) : fc_strdup("");
}

/* Remove whatever is at parent/name unless it is a directory and keep_dir. */
static int clear_slot(struct unpacker *u, int pfd, const char *name, bool keep_dir,
                      const char *entry, struct fc_error **err)
{
	struct stat st;
	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : fc_error_set(err, errno, "entry `%s`: stat", entry);
	if (S_ISDIR(st.st_mode)) {
		if (keep_dir)
			return 1;
		/* pfd is usually the cached parent: it is dropped only once the
		 * directory is gone (the callers open the parent again), never
		 * before: another thread's open could get its number meanwhile */
		int r = fc_rm_rf_at(pfd, name, err);
		cache_drop(u);
		if (r < 0)
			return fc_error_wrap(err, "entry `%s`: replace directory", entry);
		return 0;
	}
	if (unlinkat(pfd, name, 0) < 0)
		return fc_error_set(err, errno, "entry `%s`: replace", entry);
	return 0;
}

/* fresh: a file this process just created with mode & 0777 in a parent that
 * is not setgid, so chown/chmod are needed only when they change something */
static int set_meta_x(struct unpacker *u, int fd, int pfd, const char *name,
                      struct archive_entry *e, const char *entry, bool is_link, bool fresh,
                      struct fc_error **err)
{
	uid_t uid = (uid_t)archive_entry_uid(e);
	gid_t gid = (gid_t)archive_entry_gid(e);
	mode_t mode = archive_entry_mode(e) & 07777;
	bool chown_needed = !fresh || uid != u->euid || gid != u->egid;
	int r = 0;
	if (chown_needed)
		r = fd >= 0 ? fchown(fd, uid, gid)
		            : fchownat(pfd, name, uid, gid, AT_SYMLINK_NOFOLLOW);
	if (r < 0 && (u->root_user || errno != EPERM))
		return fc_error_set(err, errno, "entry `%s`: chown %u:%u", entry, uid, gid);
	if (!is_link &&
	    (!fresh || chown_needed || (mode & 07000) || (mode & 0777 & ~u->umask) != mode)) {
		r = fd >= 0 ? fchmod(fd, mode) : fchmodat(pfd, name, mode, 0);
		if (r < 0)
			return fc_error_set(err, errno, "entry `%s`: chmod %o", entry, mode);
	}
	/* xattrs (security.capability among them) */
	const char *xn;
	const void *xv;
	size_t xl;
	if (archive_entry_xattr_reset(e) > 0 && !is_link) {
		while (archive_entry_xattr_next(e, &xn, &xv, &xl) == ARCHIVE_OK) {
			if (fd >= 0)
				r = fsetxattr(fd, xn, xv, xl, 0);
			else {
				char p[64 + 4096];
				snprintf(p, sizeof(p), "/proc/self/fd/%d/%s", pfd, name);
				r = lsetxattr(p, xn, xv, xl, 0);
			}
			if (r < 0 && errno != ENOTSUP && (u->root_user || errno != EPERM))
				return fc_error_set(err, errno, "entry `%s`: set xattr `%s`", entry,
				                    xn);
		}
	}
	struct timespec ts[2] = {
	    {archive_entry_atime_is_set(e) ? archive_entry_atime(e) : archive_entry_mtime(e),
	     archive_entry_atime_is_set(e) ? archive_entry_atime_nsec(e)
	                                   : archive_entry_mtime_nsec(e)},
	    {archive_entry_mtime(e), archive_entry_mtime_nsec(e)},
	};
	r = fd >= 0 ? futimens(fd, ts) : utimensat(pfd, name, ts, AT_SYMLINK_NOFOLLOW);
	if (r < 0 && errno != ENOTSUP)
		return fc_error_set(err, errno, "entry `%s`: set times", entry);
	return 0;
}

static int set_meta(struct unpacker *u, int fd, int pfd, const char *name, struct archive_entry *e,
                    const char *entry, bool is_link, struct fc_error **err)
{
	return set_meta_x(u, fd, pfd, name, e, entry, is_link, false, err);
}

/* Write the entry's data to fd (a new file) and set its metadata; closes fd. */
static int write_file(struct unpacker *u, struct archive *a, int fd_in, int pfd, const char *name,
                      struct archive_entry *e, const char *entry, bool fresh, struct fc_error **err)
{
	_cleanup_close_ int fd = fd_in;
	int64_t size = archive_entry_size(e);
	if (size > 0) {
		const void *blk;
		size_t len;
		la_int64_t off;
		int64_t end = 0;
		for (;;) {
			int r = archive_read_data_block(a, &blk, &len, &off);
			if (r == ARCHIVE_EOF)
				break;
			if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
				return fc_error_set(
				    err, archive_errno(a) > 0 ? archive_errno(a) : EIO,
				    "entry `%s`: read data: %s", entry, archive_error_string(a));
			if (len == 0)
				continue;
			if (off != end) { /* sparse hole */
				if (lseek(fd, off, SEEK_SET) < 0)
					return fc_error_set(err, errno, "entry `%s`: seek", entry);
			}
			r = fc_write_all(fd, blk, len);
			if (r < 0)
				return fc_error_set(err, -r, "entry `%s`: write", entry);
			end = off + (int64_t)len;
			u->bytes += len;
		}
		if (end != size && ftruncate(fd, size) < 0)
			return fc_error_set(err, errno, "entry `%s`: truncate", entry);
	}
	return set_meta_x(u, fd, pfd, name, e, entry, false, fresh, err);
}

/* A small regular file queued on the io_uring batch (data copied now). */
static int queue_file(struct unpacker *u, struct archive *a, int pfd, const char *dir,
                      const char *name, struct archive_entry *e, const char *entry,
                      struct fc_error **err)
{
	size_t size = (size_t)archive_entry_size(e);
	struct timespec ts[2] = {
	    {archive_entry_atime_is_set(e) ? archive_entry_atime(e) : archive_entry_mtime(e),
	     archive_entry_atime_is_set(e) ? archive_entry_atime_nsec(e)
	                                   : archive_entry_mtime_nsec(e)},
	    {archive_entry_mtime(e), archive_entry_mtime_nsec(e)},
	};
	void *data;
	if (snap_uring_add(u->ur, pfd, dir, name, entry, size, archive_entry_mode(e) & 07777,
	                   (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e), ts, &data,
	                   err) < 0)
		return fc_error_code(*err);
	size_t got = 0;
	while (got < size) {
		la_ssize_t n = archive_read_data(a, (char *)data + got, size - got);
		if (n < 0)
			return fc_error_set(err, archive_errno(a) > 0 ? archive_errno(a) : EIO,
			                    "entry `%s`: read data: %s", entry,
			                    archive_error_string(a));
		if (n == 0)
			return fc_error_set(err, EIO,
			                    "entry `%s`: data ends after %zu of %zu bytes", entry,
			                    got, size);
		got += (size_t)n;
	}
	u->bytes += size;
	return 0;
}

static void progress(struct unpacker *u, bool force)
{
	if (!u->ps || !u->ps->fn)
		return;
	uint64_t now = fc_now_ns();
	if (!force && now - u->last_ns < 100000000ull)
		return;
	u->last_ns = now;
	pthread_mutex_lock(u->ps->lock);
	u->ps->p->files += u->files;
	u->ps->p->bytes_out += u->bytes;
	u->files = u->bytes = 0;
	u->ps->fn(u->ps->p, u->ps->data);
	pthread_mutex_unlock(u->ps->lock);
}

static void add_dirtime(struct unpacker *u, const char *path, struct archive_entry *e)
{
	if (u->n_dts == u->cap_dts) {
		u->cap_dts = u->cap_dts ? 2 * u->cap_dts : 256;
		u->dts = fc_realloc(u->dts, u->cap_dts * sizeof(*u->dts));
	}
	u->dts[u->n_dts++] =
	    (struct dirtime){fc_strdup(path),
	                     {{archive_entry_mtime(e), archive_entry_mtime_nsec(e)},
	                      {archive_entry_mtime(e), archive_entry_mtime_nsec(e)}}};
}

static int do_entry(struct unpacker *u, struct archive *a, struct archive_entry *e,
                    struct fc_error **err)
{
	const char *raw = archive_entry_pathname(e);
	_cleanup_free_ char *path = NULL, *wt = NULL, *dir = NULL;
	if (!raw)
		return fc_error_set(err, EINVAL, "entry without a name");
	if (fcsnap_clean_path(raw, u->lim->max_path, &path, err) < 0)
		return fc_error_code(*err);
	mode_t type = archive_entry_filetype(e);
	bool simple_file = u->ur && type == AE_IFREG && !archive_entry_hardlink(e) &&
	                   archive_entry_sparse_count(e) == 0 &&
	                   archive_entry_xattr_count(e) == 0 && archive_entry_size(e) >= 0 &&
	                   snap_uring_fits(u->ur, (size_t)archive_entry_size(e));
	if (u->ur && !simple_file && snap_uring_flush(u->ur, err) < 0)
		return fc_error_code(*err);
	if (archive_entry_size(e) > (int64_t)u->lim->max_size)
		return fc_error_set(
		    err, EFBIG, "entry `%s`: size %lld exceeds the layer limit of %llu bytes", path,
		    (long long)archive_entry_size(e), (unsigned long long)u->lim->max_size);
	if (!*path) { /* the layer root itself */
		if (type != AE_IFDIR)
			return fc_error_set(err, EINVAL, "entry `%s`: the root must be a directory",
			                    raw);
		if (set_meta(u, u->root, -1, NULL, e, "/", false, err) < 0)
			return fc_error_code(*err);
		add_dirtime(u, "", e);
		return 0;
	}
	int wk = fcsnap_whiteout(path, &wt);
	if (wk < 0)
		return fc_error_set(err, EINVAL, "entry `%s`: empty whiteout name", path);
	if (wk == 3)
		return 0;
	const char *base;
	if (wk == 2) { /* opaque directory */
		int fd = *wt ? snap_openat_beneath(u->root, wt, O_RDONLY | O_DIRECTORY, 0) : -1;
		if (*wt && fd == -ENOENT) {
			dir = split(wt, &base);
			int pfd = open_dir(u, dir, path, err);
			if (pfd < 0)
				return pfd;
			if (mkdirat(pfd, base, 0755) < 0)
				return fc_error_set(err, errno,
				                    "entry `%s`: create opaque directory", path);
			fd = snap_openat_beneath(u->root, wt, O_RDONLY | O_DIRECTORY, 0);
		}
		if (!*wt)
			fd = fcntl(u->root, F_DUPFD_CLOEXEC, 3);
		if (fd < 0)
			return fc_error_set(err, -fd, "entry `%s`: open opaque directory `%s`",
			                    path, wt);
		int r = fsetxattr(fd, "trusted.overlay.opaque", "y", 1, 0);
		int er = errno;
		close(fd);
		if (r < 0)
			return fc_error_set(
			    err, er, "entry `%s`: set trusted.overlay.opaque on `%s`", path, wt);
		u->files++;
		return 0;
	}
	if (wk == 1) { /* whiteout: 0/0 character device */
		dir = split(wt, &base);
		int pfd = open_dir(u, dir, path, err);
		if (pfd < 0)
			return pfd;
		if (clear_slot(u, pfd, base, false, path, err) < 0)
			return fc_error_code(*err);
		pfd = open_dir(u, dir, path, err);
		if (pfd < 0)
			return pfd;
		if (mknodat(pfd, base, S_IFCHR | 0, makedev(0, 0)) < 0)
			return fc_error_set(err, errno, "entry `%s`: create whiteout `%s`", path,
			                    wt);
		u->files++;
		return 0;
	}

	dir = split(path, &base);
	int pfd = open_dir(u, dir, path, err);
	if (pfd < 0)
		return pfd;
	const char *hl = archive_entry_hardlink(e);
	if (hl) {
		_cleanup_free_ char *tp = NULL, *tdir = NULL;
		const char *tbase;
		if (fcsnap_clean_path(hl, u->lim->max_path, &tp, err) < 0)
			return fc_error_wrap(err, "entry `%s`: hardlink target", path);
		tdir = split(tp, &tbase);
		_cleanup_close_ int tfd =
		    snap_openat_beneath(u->root, tdir, O_RDONLY | O_DIRECTORY, 0);
		if (tfd == -EXDEV || tfd == -ELOOP)
			return fc_error_set(err, EPERM,
			                    "entry `%s`: hardlink target `%s` escapes the layer",
			                    path, hl);
		if (tfd == -ENOENT || tfd == -ENOTDIR)
			return fc_error_set(err, -tfd,
			                    "entry `%s`: hardlink target `%s` is not in this layer",
			                    path, hl);
		if (tfd < 0)
			return fc_error_set(err, -tfd, "entry `%s`: hardlink target `%s`", path,
			                    hl);
		struct stat st;
		if (fstatat(tfd, tbase, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return fc_error_set(err, errno,
			                    "entry `%s`: hardlink target `%s` is not in this layer",
			                    path, hl);
		if (S_ISDIR(st.st_mode))
			return fc_error_set(err, EPERM, "entry `%s`: hardlink to directory `%s`",
			                    path, hl);
		if (FC_STREQ(tp, path))
			return 0;
		if (clear_slot(u, pfd, base, false, path, err) < 0)
			return fc_error_code(*err);
		pfd = open_dir(u, dir, path, err);
		if (pfd < 0)
			return pfd;
		if (linkat(tfd, tbase, pfd, base, 0) < 0)
			return fc_error_set(err, errno, "entry `%s`: link to `%s`", path, hl);
		u->files++;
		return 0;
	}
	int r;
	switch (type) {
	case AE_IFDIR:
		r = clear_slot(u, pfd, base, true, path, err);
		if (r < 0)
			return r;
		if (r == 0 && mkdirat(pfd, base, 0700) < 0)
			return fc_error_set(err, errno, "entry `%s`: mkdir", path);
		{
			_cleanup_close_ int dfd =
			    openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (dfd < 0)
				return fc_error_set(err, errno, "entry `%s`: open directory", path);
			if (set_meta(u, dfd, pfd, base, e, path, false, err) < 0)
				return fc_error_code(*err);
		}
		add_dirtime(u, path, e);
		break;
	case AE_IFREG:
		if (simple_file) {
			if (queue_file(u, a, pfd, dir, base, e, path, err) < 0)
				return fc_error_code(*err);
			break;
		}
		{
			/* most entries are new names: try that first, replace on EEXIST */
			bool fresh = !u->dir_sgid;
			mode_t m = fresh ? (archive_entry_mode(e) & 0777) : 0600;
			int fd = openat(pfd, base,
			                O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, m);
			if (fd < 0 && errno == EEXIST) {
				if (clear_slot(u, pfd, base, false, path, err) < 0)
					return fc_error_code(*err);
				pfd = open_dir(u, dir, path, err);
				if (pfd < 0)
					return pfd;
				fresh = !u->dir_sgid;
				m = fresh ? (archive_entry_mode(e) & 0777) : 0600;
				fd =
				    openat(pfd, base,
				           O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, m);
			}
			if (fd < 0)
				return fc_error_set(err, errno, "entry `%s`: create", path);
			if (write_file(u, a, fd, pfd, base, e, path, fresh, err) < 0)
				return fc_error_code(*err);
			break;
		}
	case AE_IFLNK: {
		const char *target = archive_entry_symlink(e);
		if (!target)
			return fc_error_set(err, EINVAL, "entry `%s`: symlink without target",
			                    path);
		if (clear_slot(u, pfd, base, false, path, err) < 0)
			return fc_error_code(*err);
		pfd = open_dir(u, dir, path, err);
		if (pfd < 0)
			return pfd;
		if (symlinkat(target, pfd, base) < 0)
			return fc_error_set(err, errno, "entry `%s`: symlink", path);
		if (set_meta(u, -1, pfd, base, e, path, true, err) < 0)
			return fc_error_code(*err);
		break;
	}
	case AE_IFIFO:
		if (clear_slot(u, pfd, base, false, path, err) < 0)
			return fc_error_code(*err);
		pfd = open_dir(u, dir, path, err);
		if (pfd < 0)
			return pfd;
		if (mkfifoat(pfd, base, 0600) < 0)
			return fc_error_set(err, errno, "entry `%s`: mkfifo", path);
		if (set_meta(u, -1, pfd, base, e, path, false, err) < 0)
			return fc_error_code(*err);
		break;
	case AE_IFCHR:
	case AE_IFBLK:
		return fc_error_set(
		    err, EPERM, "entry `%s`: device nodes (%u:%u) are not allowed in a layer", path,
		    (unsigned)archive_entry_rdevmajor(e), (unsigned)archive_entry_rdevminor(e));
	case AE_IFSOCK:
		return 0;
	default:
		return fc_error_set(err, EINVAL, "entry `%s`: unknown file type %o", path,
		                    (unsigned)type);
	}
	u->files++;
	return 0;
}

int snap_unpack_layer(int blobfd, int comp, int dirfd, const struct snap_limits *lim,
                      bool use_uring, struct snap_progress_sink *ps, char *diff_id_out, int tee_fd,
                      char *blob_digest_out, uint64_t *blob_size_out, struct fc_error **err)
{
	return snap_unpack_layer_at(blobfd, -1, 0, comp, dirfd, lim, use_uring, ps, diff_id_out,
	                            tee_fd, blob_digest_out, blob_size_out, err);
}

int snap_unpack_layer_at(int blobfd, int64_t off, uint64_t len, int comp, int dirfd,
                         const struct snap_limits *lim, bool use_uring,
                         struct snap_progress_sink *ps, char *diff_id_out, int tee_fd,
                         char *blob_digest_out, uint64_t *blob_size_out, struct fc_error **err)
{
	struct reader r;
	struct unpacker u = {
	    .root = dirfd, .lim = lim, .cache_fd = -1, .root_user = geteuid() == 0, .ps = ps};
	struct archive *a = NULL;
	uint64_t entries = 0;
	int ret = 0;
	struct stat bst;
	u.umask = snap_umask();
	u.euid = geteuid();
	u.egid = getegid();
	if (use_uring && snap_uring_new(&u.ur) < 0)
		u.ur = NULL; /* io_uring unavailable (seccomp, old kernel): plain syscalls */

	/* a thread of its own for the decompressor when there is enough to do;
	 * a pipe (a blob streaming in from a registry) has no size to go by:
	 * the decompressor then overlaps with the download and the writes */
	bool threaded = comp != FCSNAP_COMP_NONE &&
	                (off >= 0 ? len > (4 << 20)
	                          : fstat(blobfd, &bst) == 0 &&
	                                (S_ISFIFO(bst.st_mode) || S_ISSOCK(bst.st_mode) ||
	                                 bst.st_size > (4 << 20)));
	ret = reader_init(&r, blobfd, comp, lim->max_size, threaded, err);
	if (ret < 0)
		goto out;
	r.tee_fd = tee_fd;
	if (off >= 0) {
		r.ranged = true;
		r.off = (uint64_t)off;
		r.left = len;
	}
	if (blob_digest_out) {
		r.hash_in = true;
		snap_hash_init(&r.blob);
	}
	a = archive_read_new();
	if (!a)
		abort();
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	archive_read_support_filter_none(a);
	if (archive_read_open(a, &r, NULL, ar_read, NULL) != ARCHIVE_OK) {
		ret = fc_error_set(err, r.error ? r.error : EINVAL, "open tar stream: %s",
		                   r.error ? r.emsg : archive_error_string(a));
		goto out;
	}
	for (;;) {
		struct archive_entry *e;
		int ar = archive_read_next_header(a, &e);
		if (ar == ARCHIVE_EOF)
			break;
		if (ar != ARCHIVE_OK && ar != ARCHIVE_WARN) {
			ret = fc_error_set(err, r.error ? r.error : EINVAL,
			                   "tar stream after %llu entries: %s",
			                   (unsigned long long)entries,
			                   r.error ? r.emsg : archive_error_string(a));
			goto out;
		}
		if (++entries > lim->max_entries) {
			ret = fc_error_set(err, EFBIG, "more than %llu entries in the layer",
			                   (unsigned long long)lim->max_entries);
			goto out;
		}
		ret = do_entry(&u, a, e, err);
		if (ret < 0) {
			if (r.error) { /* the stream broke while reading the entry's data */
				fc_error_free(*err);
				*err = NULL;
				ret = fc_error_set(err, r.error, "%s (in entry `%s`)", r.emsg,
				                   archive_entry_pathname(e));
			}
			goto out;
		}
		progress(&u, false);
	}
	/* drain what libarchive did not need (end-of-archive padding), so the
	 * diff_id covers the whole stream and truncation is noticed */
	for (;;) {
		const void *b;
		ssize_t n = produce(&r, &b);
		if (n < 0) {
			ret = fc_error_set(err, r.error, "%s", r.emsg);
			goto out;
		}
		if (n == 0)
			break;
	}
	if (entries == 0 && r.total_out == 0) {
		ret = fc_error_set(err, EINVAL, "empty layer stream");
		goto out;
	}
	if (snap_uring_flush(u.ur, err) < 0) {
		ret = fc_error_code(*err);
		goto out;
	}
	/* directory times last: creating children changed them */
	cache_drop(&u);
	for (size_t i = u.n_dts; i-- > 0;) {
		_cleanup_close_ int fd =
		    snap_openat_beneath(dirfd, u.dts[i].path, O_RDONLY | O_DIRECTORY, 0);
		if (fd >= 0)
			futimens(fd, u.dts[i].ts);
	}
	snap_hash_final(&r.diff, diff_id_out);
	if (blob_digest_out)
		snap_hash_final(&r.blob, blob_digest_out);
	if (blob_size_out)
		*blob_size_out = r.total_in;
	progress(&u, true);
out:
	snap_uring_free(u.ur);
	if (a)
		archive_read_free(a);
	cache_drop(&u);
	for (size_t i = 0; i < u.n_dts; i++)
		free(u.dts[i].path);
	free(u.dts);
	reader_free(&r);
	return ret;
}

int snap_verify_layer(int blobfd, int comp, const struct snap_limits *lim, char *diff_id_out,
                      struct fc_error **err)
{
	struct reader r;
	int ret = reader_init(&r, blobfd, comp, lim->max_size, false, err);
	if (ret < 0)
		goto out;
	for (;;) {
		const void *b;
		ssize_t n = produce(&r, &b);
		if (n < 0) {
			ret = fc_error_set(err, r.error, "%s", r.emsg);
			goto out;
		}
		if (n == 0)
			break;
	}
	snap_hash_final(&r.diff, diff_id_out);
out:
	reader_free(&r);
	return ret;
}
