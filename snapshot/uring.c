/* SPDX-License-Identifier: MIT */
/* uring.c: the io_uring write path of the unpacker. Small regular files of
 * one directory are collected (data copied into an arena) and written as a
 * batch of linked open (into a registered file slot) -> write -> close
 * requests; one io_uring_enter submits the batch while the decompressor
 * thread keeps going. The previous batch completes while the next one is
 * filled (two arenas). Owners, modes and times are set once the data is
 * written (utimensat after the write, or the write would change mtime). */
#include <fcntl.h>
#include <liburing.h>
#include <sys/stat.h>

#include "snap-private.h"

#define BATCH_FILES 64
#define ARENA       (4u << 20)

struct ufile {
	char *name;
	char *entry;
	size_t off, len;
	mode_t mode;
	uid_t uid;
	gid_t gid;
	struct timespec ts[2];
	int res; /* first failing CQE result, 0 if none */
};

struct batch {
	int dirfd; /* dup of the parent, -1 when empty */
	char *dir;
	gid_t dir_gid; /* a setgid parent hands its group to new files */
	bool dir_sgid;
	unsigned n, inflight;
	size_t used;
	unsigned char *arena;
	struct ufile f[BATCH_FILES];
};

struct snap_uring {
	struct io_uring ring;
	struct batch b[2];
	unsigned cur; /* batch being filled */
	bool pending; /* the other batch is submitted and not reaped */
	mode_t umask;
	uid_t euid;
	gid_t egid;
};

mode_t snap_umask(void)
{
	_cleanup_free_ char *s = NULL;
	if (fc_read_file_at(AT_FDCWD, "/proc/self/status", &s, NULL, 0, NULL) == 0) {
		char *p = strstr(s, "\nUmask:");
		if (p)
			return (mode_t)strtoul(p + 7, NULL, 8);
	}
	return 022;
}

int snap_uring_new(struct snap_uring **out)
{
	struct snap_uring *u = fc_calloc(1, sizeof(*u));
	struct io_uring_params p = {0};
	int r = io_uring_queue_init_params(BATCH_FILES * 3 * 2, &u->ring, &p);
	if (r < 0) {
		free(u);
		return r;
	}
	r = io_uring_register_files_sparse(&u->ring, BATCH_FILES * 2);
	if (r < 0) {
		io_uring_queue_exit(&u->ring);
		free(u);
		return r;
	}
	for (unsigned i = 0; i < 2; i++) {
		u->b[i].dirfd = -1;
		u->b[i].arena = fc_malloc(ARENA);
	}
	u->umask = snap_umask();
	u->euid = geteuid();
	u->egid = getegid();
	*out = u;
	return 0;
}

static void batch_reset(struct batch *b)
{
	for (unsigned i = 0; i < b->n; i++) {
		free(b->f[i].name);
		free(b->f[i].entry);
	}
	if (b->dirfd >= 0)
		close(b->dirfd);
	b->dirfd = -1;
	free(b->dir);
	b->dir = NULL;
	b->n = b->inflight = 0;
	b->used = 0;
}

/* Metadata and the fallback for files whose batched create failed. */
static int batch_finish(struct snap_uring *u, struct batch *b, struct fc_error **err)
{
	int ret = 0;
	for (unsigned i = 0; i < b->n && ret >= 0; i++) {
		struct ufile *f = &b->f[i];
		bool force = false;
		if (f->res == -EEXIST) {
			/* a name given twice in the layer: the later entry wins */
			struct stat st;
			if (fstatat(b->dirfd, f->name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISDIR(st.st_mode))
				fc_rm_rf_at(b->dirfd, f->name, NULL);
			else
				unlinkat(b->dirfd, f->name, 0);
			_cleanup_close_ int fd =
			    openat(b->dirfd, f->name,
			           O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
			if (fd < 0) {
				ret = fc_error_set(err, errno, "entry `%s`: create", f->entry);
				break;
			}
			int w = fc_write_all(fd, b->arena + f->off, f->len);
			if (w < 0) {
				ret = fc_error_set(err, -w, "entry `%s`: write", f->entry);
				break;
			}
			f->res = 0;
			force = true; /* created with 0600: owner and mode below */
		} else if (f->res < 0) {
			ret = fc_error_set(err, -f->res, "entry `%s`: create or write", f->entry);
			break;
		}
		gid_t born_gid = b->dir_sgid ? b->dir_gid : u->egid;
		bool chowned = false;
		if (force || f->uid != u->euid || f->gid != born_gid) {
			if (fchownat(b->dirfd, f->name, f->uid, f->gid, AT_SYMLINK_NOFOLLOW) < 0) {
				if (u->euid == 0 || errno != EPERM) {
					ret = fc_error_set(err, errno, "entry `%s`: chown %u:%u",
					                   f->entry, f->uid, f->gid);
					break;
				}
			} else {
				chowned = true;
			}
		}
		mode_t born = f->mode & 0777 & ~u->umask;
		if (force || chowned || (f->mode & 07777) != born || (f->mode & 07000)) {
			if (fchmodat(b->dirfd, f->name, f->mode & 07777, 0) < 0) {
				ret = fc_error_set(err, errno, "entry `%s`: chmod %o", f->entry,
				                   f->mode);
				break;
			}
		}
		if (utimensat(b->dirfd, f->name, f->ts, AT_SYMLINK_NOFOLLOW) < 0 &&
		    errno != ENOTSUP) {
			ret = fc_error_set(err, errno, "entry `%s`: set times", f->entry);
			break;
		}
	}
	batch_reset(b);
	return ret;
}

/* Wait for the submitted batch (if any) and finish it. */
static int reap(struct snap_uring *u, struct fc_error **err)
{
	if (!u->pending)
		return 0;
	struct batch *b = &u->b[u->cur ^ 1];
	while (b->inflight > 0) {
		struct io_uring_cqe *cqe;
		int r = io_uring_wait_cqe(&u->ring, &cqe);
		if (r == -EINTR)
			continue;
		if (r < 0)
			return fc_error_set(err, -r, "io_uring: wait");
		unsigned i = (unsigned)(io_uring_cqe_get_data64(cqe) >> 2);
		unsigned op = (unsigned)(io_uring_cqe_get_data64(cqe) & 3);
		int res = cqe->res;
		io_uring_cqe_seen(&u->ring, cqe);
		b->inflight--;
		if (i < b->n && res < 0 && !b->f[i].res && !(res == -ECANCELED && op != 0))
			b->f[i].res = res;
		else if (i < b->n && op == 1 && res >= 0 && (size_t)res != b->f[i].len &&
		         !b->f[i].res)
			b->f[i].res = -EIO; /* short write */
	}
	u->pending = false;
	return batch_finish(u, b, err);
}

static int submit(struct snap_uring *u, struct fc_error **err)
{
	struct batch *b = &u->b[u->cur];
	if (b->n == 0)
		return 0;
	/* the other batch must be done: its file slots get reused */
	if (reap(u, err) < 0)
		return fc_error_code(*err);
	unsigned base = u->cur * BATCH_FILES;
	for (unsigned i = 0; i < b->n; i++) {
		struct ufile *f = &b->f[i];
		unsigned slot = base + i;
		struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
		io_uring_prep_openat_direct(sqe, b->dirfd, f->name,
		                            O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW,
		                            f->mode & 0777, slot);
		io_uring_sqe_set_data64(sqe, ((uint64_t)i << 2) | 0);
		sqe->flags |= IOSQE_IO_LINK;
		b->inflight++;
		if (f->len) {
			sqe = io_uring_get_sqe(&u->ring);
			io_uring_prep_write(sqe, (int)slot, b->arena + f->off, (unsigned)f->len, 0);
			sqe->flags |= IOSQE_FIXED_FILE | IOSQE_IO_LINK;
			io_uring_sqe_set_data64(sqe, ((uint64_t)i << 2) | 1);
			b->inflight++;
		}
		sqe = io_uring_get_sqe(&u->ring);
		io_uring_prep_close_direct(sqe, slot);
		io_uring_sqe_set_data64(sqe, ((uint64_t)i << 2) | 2);
		b->inflight++;
	}
	int r = io_uring_submit(&u->ring);
	if (r < 0) {
		/* nothing went out: finish by hand */
		b->inflight = 0;
		return fc_error_set(err, -r, "io_uring: submit");
	}
	u->pending = true;
	u->cur ^= 1;
	return 0;
}

int snap_uring_flush(struct snap_uring *u, struct fc_error **err)
{
	if (!u)
		return 0;
	if (submit(u, err) < 0)
		return fc_error_code(*err);
	return reap(u, err);
}

bool snap_uring_fits(struct snap_uring *u, size_t len)
{
	return len <= ARENA / 8;
}

int snap_uring_add(struct snap_uring *u, int dirfd, const char *dir, const char *name,
                   const char *entry, size_t len, mode_t mode, uid_t uid, gid_t gid,
                   const struct timespec ts[2], void **data, struct fc_error **err)
{
	struct batch *b = &u->b[u->cur];
	bool same_dir = b->dir && FC_STREQ(b->dir, dir);
	bool dup_name = false;
	for (unsigned i = 0; same_dir && i < b->n && !dup_name; i++)
		dup_name = FC_STREQ(b->f[i].name, name);
	if (b->n && (!same_dir || dup_name || b->n == BATCH_FILES || b->used + len > ARENA)) {
		if (submit(u, err) < 0)
			return fc_error_code(*err);
		b = &u->b[u->cur];
	}
	if (b->dirfd < 0) {
		b->dirfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
		if (b->dirfd < 0)
			return fc_error_set(err, errno, "entry `%s`: dup parent", entry);
		b->dir = fc_strdup(dir);
		struct stat st;
		b->dir_sgid = fstat(b->dirfd, &st) == 0 && (st.st_mode & S_ISGID);
		b->dir_gid = st.st_gid;
	}
	struct ufile *f = &b->f[b->n++];
	*f = (struct ufile){.name = fc_strdup(name),
	                    .entry = fc_strdup(entry),
	                    .off = b->used,
	                    .len = len,
	                    .mode = mode,
	                    .uid = uid,
	                    .gid = gid,
	                    .ts = {ts[0], ts[1]}};
	*data = b->arena + b->used;
	b->used += (len + 63) & ~(size_t)63;
	return 0;
}

void snap_uring_free(struct snap_uring *u)
{
	if (!u)
		return;
	if (u->pending) {
		/* drain whatever is in flight before the arenas go */
		struct batch *b = &u->b[u->cur ^ 1];
		while (b->inflight > 0) {
			struct io_uring_cqe *cqe;
			if (io_uring_wait_cqe(&u->ring, &cqe) < 0)
				break;
			io_uring_cqe_seen(&u->ring, cqe);
			b->inflight--;
		}
	}
	for (unsigned i = 0; i < 2; i++) {
		batch_reset(&u->b[i]);
		free(u->b[i].arena);
	}
	io_uring_queue_exit(&u->ring);
	free(u);
}
