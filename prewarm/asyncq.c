/* SPDX-License-Identifier: MIT */
/* asyncq.c: the durable queue of asynchronous invocations (asyncq.h). Every
 * file is written under a temporary name (".ID.EXT.tmp"), synced, renamed,
 * and the directory synced: a file under its own name is whole. The request
 * is committed by the rename of its head (its body is renamed first). */
#include <dirent.h>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include "asyncq.h"

struct entry {
	char *id;
	enum asyncq_state st;
};

struct asyncq {
	int dir;
	char *path;
	struct entry *e;
	size_t n;
};

struct asyncq_new {
	struct asyncq *q;
	char id[40];
	int fd;
};

static const char *const exts[] = {"req", "body", "run", "res", "out"};

static char *name(const char *id, const char *ext, bool tmp)
{
	return tmp ? fc_asprintf(".%s.%s.tmp", id, ext) : fc_asprintf("%s.%s", id, ext);
}

static bool exists(struct asyncq *q, const char *id, const char *ext)
{
	_cleanup_free_ char *n = name(id, ext, false);
	return faccessat(q->dir, n, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

static struct entry *find(struct asyncq *q, const char *id)
{
	for (size_t i = 0; i < q->n; i++)
		if (FC_STREQ(q->e[i].id, id))
			return &q->e[i];
	return NULL;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->id, ((const struct entry *)b)->id);
}

static void add(struct asyncq *q, const char *id, enum asyncq_state st)
{
	q->e = fc_realloc(q->e, (q->n + 1) * sizeof(*q->e));
	q->e[q->n++] = (struct entry){.id = fc_strdup(id), .st = st};
}

/* An id: the time (ns, so that ids sort as requests came) and randomness. */
static void new_id(char out[40])
{
	struct timespec ts;
	uint32_t r = 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
		r = (uint32_t)getpid() ^ (uint32_t)ts.tv_nsec;
	snprintf(out, 40, "%016llx-%08x",
	         (unsigned long long)ts.tv_sec * 1000000000ULL + (unsigned long long)ts.tv_nsec,
	         (unsigned)r);
}

/* Rename the temporary of id.ext into place, then sync the directory. */
static int settle(struct asyncq *q, const char *id, const char *ext, struct fc_error **err)
{
	_cleanup_free_ char *t = name(id, ext, true), *n = name(id, ext, false);
	if (renameat(q->dir, t, q->dir, n) < 0)
		return fc_error_set(err, errno, "async queue `%s`: rename `%s`", q->path, t);
	if (fsync(q->dir) < 0)
		return fc_error_set(err, errno, "async queue `%s`: sync", q->path);
	return 0;
}

/* Write the temporary of id.ext, synced, then settle it. */
static int write_file(struct asyncq *q, const char *id, const char *ext, const void *data,
                      size_t len, struct fc_error **err)
{
	_cleanup_free_ char *t = name(id, ext, true);
	_cleanup_close_ int fd =
	    openat(q->dir, t, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	int r = fd < 0 ? -errno : fc_write_all(fd, data, len);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (r < 0) {
		unlinkat(q->dir, t, 0);
		return fc_error_set(err, -r, "async queue `%s`: write `%s`", q->path, t);
	}
	return settle(q, id, ext, err);
}

int asyncq_open(const char *path, struct asyncq **out, struct fc_error **err)
{
	/* its parent (the daemon's root) must be there: nothing else is made */
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return fc_error_set(err, errno, "async queue: mkdir `%s`", path);
	int dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (dir < 0)
		return fc_error_set(err, errno, "async queue `%s`", path);
	struct asyncq *q = fc_calloc(1, sizeof(*q));
	q->dir = dir;
	q->path = fc_strdup(path);
	int d2 = fcntl(dir, F_DUPFD_CLOEXEC, 3);
	DIR *d = d2 >= 0 ? fdopendir(d2) : NULL;
	if (!d) {
		if (d2 >= 0)
			close(d2);
		asyncq_free(q);
		return fc_error_set(err, errno, "async queue `%s`: list", path);
	}
	struct dirent *de;
	_cleanup_strv_ char **stray = fc_calloc(1, sizeof(char *));
	size_t nstray = 0;
	while ((de = readdir(d))) {
		const char *n = de->d_name;
		if (FC_STREQ(n, ".") || FC_STREQ(n, ".."))
			continue;
		const char *dot = strrchr(n, '.');
		if (n[0] == '.' || !dot) { /* a temporary: never committed */
			stray = fc_realloc(stray, (nstray + 2) * sizeof(char *));
			stray[nstray++] = fc_strdup(n);
			stray[nstray] = NULL;
			continue;
		}
		if (FC_STREQ(dot, ".req")) {
			_cleanup_free_ char *id = fc_strndup(n, (size_t)(dot - n));
			add(q, id, ASYNCQ_QUEUED);
		}
	}
	closedir(d);
	for (size_t i = 0; i < nstray; i++)
		unlinkat(q->dir, stray[i], 0);
	for (size_t i = 0; i < q->n; i++) {
		struct entry *e = &q->e[i];
		if (!exists(q, e->id, "body")) {
			/* cannot be (the body is renamed first): drop it */
			_cleanup_free_ char *n = name(e->id, "req", false);
			unlinkat(q->dir, n, 0);
			free(e->id);
			*e = q->e[--q->n];
			i--;
			continue;
		}
		e->st = exists(q, e->id, "res")   ? ASYNCQ_ANSWERED
		        : exists(q, e->id, "run") ? ASYNCQ_INTERRUPTED
		                                  : ASYNCQ_QUEUED;
	}
	if (q->n)
		qsort(q->e, q->n, sizeof(*q->e), cmp_entry);
	*out = q;
	return 0;
}

void asyncq_free(struct asyncq *q)
{
	if (!q)
		return;
	for (size_t i = 0; i < q->n; i++)
		free(q->e[i].id);
	free(q->e);
	if (q->dir >= 0)
		close(q->dir);
	free(q->path);
	free(q);
}

size_t asyncq_len(const struct asyncq *q)
{
	return q ? q->n : 0;
}

int asyncq_begin(struct asyncq *q, struct asyncq_new **out, struct fc_error **err)
{
	struct asyncq_new *n = fc_calloc(1, sizeof(*n));
	n->q = q;
	new_id(n->id);
	_cleanup_free_ char *t = name(n->id, "body", true);
	n->fd = openat(q->dir, t, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (n->fd < 0) {
		int e = errno;
		free(n);
		return fc_error_set(err, e, "async queue `%s`: create `%s`", q->path, t);
	}
	*out = n;
	return 0;
}

int asyncq_body(struct asyncq_new *n, const void *data, size_t len, struct fc_error **err)
{
	int r = fc_write_all(n->fd, data, len);
	if (r < 0)
		return fc_error_set(err, -r, "async queue `%s`: write a body", n->q->path);
	return 0;
}

void asyncq_abort(struct asyncq_new *n)
{
	if (!n)
		return;
	close(n->fd);
	for (size_t i = 0; i < 2; i++) {
		_cleanup_free_ char *t = name(n->id, exts[i], true);
		unlinkat(n->q->dir, t, 0);
	}
	free(n);
}

int asyncq_commit(struct asyncq_new *n, const char *head, size_t len, char **id,
                  struct fc_error **err)
{
	struct asyncq *q = n->q;
	int r = fsync(n->fd) < 0 ? fc_error_set(err, errno, "async queue `%s`: sync", q->path) : 0;
	if (r >= 0)
		r = settle(q, n->id, "body", err);
	if (r >= 0)
		r = write_file(q, n->id, "req", head, len, err); /* the commit */
	if (r < 0) {
		_cleanup_free_ char *b = name(n->id, "body", false);
		unlinkat(q->dir, b, 0);
		asyncq_abort(n);
		return r;
	}
	add(q, n->id, ASYNCQ_QUEUED); /* the newest: the order holds */
	*id = fc_strdup(n->id);
	close(n->fd);
	free(n);
	return 0;
}

const char *asyncq_first(struct asyncq *q, enum asyncq_state st)
{
	for (size_t i = 0; q && i < q->n; i++)
		if (q->e[i].st == st)
			return q->e[i].id;
	return NULL;
}

int asyncq_start(struct asyncq *q, const char *id, struct fc_error **err)
{
	struct entry *e = find(q, id);
	if (!e || e->st != ASYNCQ_QUEUED)
		return fc_error_set(err, EINVAL, "async queue: `%s` is not queued", id);
	int r = write_file(q, id, "run", "", 0, err);
	if (r >= 0)
		e->st = ASYNCQ_RUNNING;
	return r;
}

static int read_all(struct asyncq *q, const char *id, const char *ext, char **out,
                    struct fc_error **err)
{
	_cleanup_free_ char *n = name(id, ext, false);
	int r = fc_read_file_at(q->dir, n, out, NULL, 1 << 20, err);
	return r < 0 ? fc_error_wrap(err, "async queue `%s`", q->path) : r;
}

static int open_size(struct asyncq *q, const char *id, const char *ext, int *fd, uint64_t *size,
                     struct fc_error **err)
{
	_cleanup_free_ char *n = name(id, ext, false);
	*fd = openat(q->dir, n, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	if (*fd < 0 || fstat(*fd, &st) < 0) {
		int e = errno;
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		return fc_error_set(err, e, "async queue `%s`: open `%s`", q->path, n);
	}
	*size = (uint64_t)st.st_size;
	return 0;
}

int asyncq_request(struct asyncq *q, const char *id, char **head, int *body, uint64_t *size,
                   struct fc_error **err)
{
	*head = NULL;
	*body = -1;
	int r = read_all(q, id, "req", head, err);
	if (r >= 0)
		r = open_size(q, id, "body", body, size, err);
	if (r < 0) {
		free(*head);
		*head = NULL;
	}
	return r;
}

int asyncq_answer_body(struct asyncq *q, const char *id, struct fc_error **err)
{
	_cleanup_free_ char *t = name(id, "out", true);
	int fd = openat(q->dir, t, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return fc_error_set(err, errno, "async queue `%s`: create `%s`", q->path, t);
	return fd;
}

int asyncq_answer(struct asyncq *q, const char *id, const char *head, size_t len,
                  struct fc_error **err)
{
	struct entry *e = find(q, id);
	if (!e)
		return fc_error_set(err, ENOENT, "async queue: no `%s`", id);
	_cleanup_free_ char *t = name(id, "out", true);
	int r = 0;
	_cleanup_close_ int fd = openat(q->dir, t, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0) {
		if (fsync(fd) < 0)
			r = fc_error_set(err, errno, "async queue `%s`: sync `%s`", q->path, t);
		if (r >= 0)
			r = settle(q, id, "out", err);
	}
	if (r >= 0)
		r = write_file(q, id, "res", head, len, err);
	if (r >= 0)
		e->st = ASYNCQ_ANSWERED;
	return r;
}

int asyncq_answered(struct asyncq *q, const char *id, char **head, int *body, uint64_t *size,
                    struct fc_error **err)
{
	*body = -1;
	*size = 0;
	int r = read_all(q, id, "res", head, err);
	if (r >= 0 && exists(q, id, "out"))
		r = open_size(q, id, "out", body, size, err);
	return r;
}

void asyncq_remove(struct asyncq *q, const char *id)
{
	for (size_t i = 0; i < FC_ARRAY_SIZE(exts); i++) {
		_cleanup_free_ char *n = name(id, exts[i], false), *t = name(id, exts[i], true);
		unlinkat(q->dir, n, 0);
		unlinkat(q->dir, t, 0);
	}
	fsync(q->dir);
	struct entry *e = find(q, id);
	if (!e)
		return;
	free(e->id);
	memmove(e, e + 1, (size_t)(q->e + q->n - e - 1) * sizeof(*e));
	q->n--;
}
