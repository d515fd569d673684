/* SPDX-License-Identifier: MIT */
/* stage.c: what every way into the store shares (import of a file, pull from
 * a registry): the per-layer locks, the early writeback while layers are
 * unpacked into the staging dir, and the commit that renames the staged
 * layers and blobs into place and records the name last. */
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "snap-private.h"

bool snap_valid_name(const char *n)
{
	if (!n || !*n || strlen(n) > 255)
		return false;
	for (const char *p = n; *p; p++)
		if ((unsigned char)*p < 0x21 || *p == 0x7f)
			return false;
	return true;
}

bool snap_platform_match(const struct snap_desc *d, const char *platform)
{
	char os[32] = "linux", arch[32] = "amd64", var[32] = "";
	if (platform)
		sscanf(platform, "%31[^/]/%31[^/]/%31s", os, arch, var);
	if (!d->os || !d->arch)
		return false;
	if (!FC_STREQ(d->os, os) || !FC_STREQ(d->arch, arch))
		return false;
	return !var[0] || (d->variant && FC_STREQ(d->variant, var));
}

static int cmp_job_diff(const void *a, const void *b)
{
	const struct snap_job *x = *(const struct snap_job *const *)a,
	                      *y = *(const struct snap_job *const *)b;
	return strcmp(x->diff_id, y->diff_id);
}

/* Lock every distinct diff_id (sorted: no deadlock between imports), then
 * decide per layer: reuse, duplicate inside this image, or unpack. */
int snap_lock_layers(struct fcsnap_store *s, struct snap_job *jobs, size_t n, struct fc_error **err)
{
	_cleanup_free_ struct snap_job **v = fc_calloc(n + 1, sizeof(*v));
	for (size_t i = 0; i < n; i++)
		v[i] = &jobs[i];
	qsort(v, n, sizeof(*v), cmp_job_diff);
	for (size_t i = 0; i < n; i++) {
		struct snap_job *j = v[i];
		if (i > 0 && FC_STREQ(v[i - 1]->diff_id, j->diff_id)) {
			j->dup = true;
			continue;
		}
		const char *h = fcsnap_digest_hex(j->diff_id);
		_cleanup_free_ char *lp = fc_asprintf("locks/%s", h);
		_cleanup_free_ char *ld = fc_asprintf("layers/%s", h);
		j->lockfd = openat(s->dirfd, lp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (j->lockfd < 0)
			return fc_error_set(err, errno, "lock layer %s", j->diff_id);
		while (flock(j->lockfd, LOCK_EX) < 0)
			if (errno != EINTR)
				return fc_error_set(err, errno, "lock layer %s", j->diff_id);
		struct stat st;
		j->reuse_layer =
		    fstatat(s->dirfd, ld, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
	}
	return 0;
}

/* ---- early writeback ---------------------------------------------------- */

/* While the layers are unpacked, a thread syncs the store's filesystem every
 * WRITEBACK_MS, so the disk writes what the extraction and the unpack have put
 * in the page cache while the CPUs keep unpacking, and the sync in commit()
 * finds little left to wait for. Durability does not depend on it: commit()
 * syncs everything before the first rename, as before. Slower, measured:
 * a sync only when a layer is done; sync_file_range(SYNC_FILE_RANGE_WRITE) on
 * each file from the threads that wrote it (the extraction's blobs, the
 * unpacked files), which puts the writeback's CPU time on the critical path;
 * fsync of every file and directory instead of syncfs (5-10x slower for the
 * 3,100 entries of the benchmark image). */
#define WRITEBACK_MS 50

static void *writeback_loop(void *arg)
{
	struct snap_writeback *w = arg;
	struct timespec t;
	pthread_mutex_lock(&w->m);
	clock_gettime(CLOCK_MONOTONIC, &t);
	while (!w->stop) {
		t.tv_nsec += WRITEBACK_MS * 1000000L;
		if (t.tv_nsec >= 1000000000L) {
			t.tv_sec++;
			t.tv_nsec -= 1000000000L;
		}
		if (pthread_cond_timedwait(&w->c, &w->m, &t) != ETIMEDOUT || w->stop)
			continue;
		pthread_mutex_unlock(&w->m);
		syncfs(w->fd); /* an error here shows again in commit()'s sync */
		pthread_mutex_lock(&w->m);
		clock_gettime(CLOCK_MONOTONIC, &t);
	}
	pthread_mutex_unlock(&w->m);
	return NULL;
}

void snap_writeback_start(struct snap_writeback *w, int fd)
{
	pthread_condattr_t ca;
	*w = (struct snap_writeback){.fd = fd};
	pthread_mutex_init(&w->m, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->c, &ca);
	pthread_condattr_destroy(&ca);
	w->started = pthread_create(&w->th, NULL, writeback_loop, w) == 0;
}

void snap_writeback_stop(struct snap_writeback *w)
{
	if (w->started) {
		pthread_mutex_lock(&w->m);
		w->stop = true;
		pthread_cond_signal(&w->c);
		pthread_mutex_unlock(&w->m);
		pthread_join(w->th, NULL);
	}
	pthread_cond_destroy(&w->c);
	pthread_mutex_destroy(&w->m);
}

int snap_commit(struct fcsnap_store *s, int stagefd, const struct snap_job *jobs, size_t n,
                const char *name, const char *mdigest, const char *cdigest, struct fc_error **err)
{
	if (syncfs(stagefd) < 0)
		return fc_error_set(err, errno, "sync staged files");
	for (size_t i = 0; i < n; i++) {
		const struct snap_job *j = &jobs[i];
		const char *dh = fcsnap_digest_hex(j->diff_id);
		if (!j->reuse_layer && !j->dup) {
			char from[100], to[100];
			snprintf(from, sizeof(from), "layer-%s", dh);
			snprintf(to, sizeof(to), "layers/%s", dh);
			if (renameat(stagefd, from, s->dirfd, to) < 0)
				return fc_error_set(err, errno, "commit layer %s", j->diff_id);
		}
		if (j->blob_staged) {
			char from[100], to[100];
			snprintf(from, sizeof(from), "layerblob-%zu", i);
			snprintf(to, sizeof(to), "blobs/sha256/%s", fcsnap_digest_hex(j->digest));
			if (renameat(stagefd, from, s->dirfd, to) < 0)
				return fc_error_set(err, errno, "commit blob %s", j->digest);
		}
	}
	const char *docs[] = {mdigest, cdigest};
	for (size_t i = 0; i < 2; i++) {
		char from[100], to[100];
		snprintf(from, sizeof(from), "blob-%s", fcsnap_digest_hex(docs[i]));
		snprintf(to, sizeof(to), "blobs/sha256/%s", fcsnap_digest_hex(docs[i]));
		if (renameat(stagefd, from, s->dirfd, to) < 0 && errno != ENOENT)
			return fc_error_set(err, errno, "commit blob %s", docs[i]);
	}
	snap_fsync_dir_at(s->dirfd, "layers");
	snap_fsync_dir_at(s->dirfd, "blobs/sha256");
	struct snap_image_rec rec = {.name = (char *)name,
	                             .manifest = (char *)mdigest,
	                             .config = (char *)cdigest,
	                             .n = n,
	                             .created = (int64_t)time(NULL)};
	rec.diff_ids = fc_calloc(n + 1, sizeof(char *));
	rec.layer_digests = fc_calloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		rec.diff_ids[i] = jobs[i].diff_id;
		rec.layer_digests[i] = (char *)jobs[i].digest;
		rec.size += jobs[i].size;
	}
	_cleanup_free_ char *json = snap_image_rec_json(&rec);
	free(rec.diff_ids);
	free(rec.layer_digests);
	_cleanup_free_ char *f = snap_escape_name(name);
	_cleanup_free_ char *p = fc_asprintf("images/%s", f);
	int r = fc_write_file_atomic_at(s->dirfd, p, json, strlen(json), 0600, err);
	if (r < 0)
		return fc_error_wrap(err, "record image `%s`", name);
	snap_fsync_dir_at(s->dirfd, "images");
	return 0;
}
