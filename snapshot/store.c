/* SPDX-License-Identifier: MIT */
/* store.c: the store directory, its locks, names, listing, removal and gc. */
#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>

#include "snap-private.h"

static const char *const store_dirs[] = {"blobs",  "blobs/sha256", "layers",
                                         "images", "locks",        "tmp"};

static void dirp_close(DIR **d)
{
	if (*d)
		closedir(*d);
}
#define _cleanup_dir_ _cleanup_(dirp_close)

/* Mark tmp/ as the top of a directory hierarchy (ext2/3/4's FS_TOPDIR_FL,
 * `chattr +T`): each import's staging dir, where its layers are unpacked, is
 * then placed in a block group of its own choosing (Orlov) instead of next to
 * the last one. On ext4 without a journal (this machine's root disk) a new
 * inode is not taken from the inodes freed in the last 60 s while their inode
 * table block is cached, and the search for one walks past all of them from
 * the start of the group: an import right after another import's layers were
 * removed (gc, or a benchmark's rounds) spent ~10% of its time there. Other
 * filesystems: nothing (the ioctl fails, and that is fine). */
static void tmp_spread(struct fcsnap_store *s)
{
	_cleanup_close_ int fd = openat(s->dirfd, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int fl = 0;
	if (fd < 0 || ioctl(fd, FS_IOC_GETFLAGS, &fl) < 0 || (fl & FS_TOPDIR_FL))
		return;
	fl |= FS_TOPDIR_FL;
	(void)ioctl(fd, FS_IOC_SETFLAGS, &fl);
}

/* Remove staging dirs (tmp/stage-PID-*) whose process is gone. */
static void clean_stale(struct fcsnap_store *s)
{
	int fd = openat(s->dirfd, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	_cleanup_dir_ DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		long pid;
		if (sscanf(de->d_name, "stage-%ld-", &pid) != 1)
			continue;
		if (pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM) && pid != getpid())
			continue;
		if (pid == getpid())
			continue;
		fc_rm_rf_at(dirfd(d), de->d_name, NULL);
	}
}

int fcsnap_store_open(const char *path, struct fcsnap_store **out, struct fc_error **err)
{
	if (!path || !*path)
		path = getenv("FCSTART_STORE");
	if (!path || !*path)
		path = FCSNAP_DEFAULT_STORE;
	if (fc_mkdir_p_at(AT_FDCWD, path, 0700, err) < 0)
		return fc_error_wrap(err, "store `%s`", path);
	struct fcsnap_store *s = fc_calloc(1, sizeof(*s));
	s->path = realpath(path, NULL);
	if (!s->path)
		s->path = fc_strdup(path);
	s->lockfd = -1;
	s->dirfd = open(s->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0) {
		int r = fc_error_set(err, errno, "open store `%s`", s->path);
		fcsnap_store_free(s);
		return r;
	}
	for (size_t i = 0; i < FC_ARRAY_SIZE(store_dirs); i++)
		if (mkdirat(s->dirfd, store_dirs[i], 0700) < 0 && errno != EEXIST) {
			int r = fc_error_set(err, errno, "store `%s`: create `%s`", s->path,
			                     store_dirs[i]);
			fcsnap_store_free(s);
			return r;
		}
	s->lockfd = openat(s->dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->lockfd < 0) {
		int r = fc_error_set(err, errno, "store `%s`: open lock", s->path);
		fcsnap_store_free(s);
		return r;
	}
	tmp_spread(s);
	clean_stale(s);
	*out = s;
	return 0;
}

void fcsnap_store_free(struct fcsnap_store *s)
{
	if (!s)
		return;
	if (s->dirfd >= 0)
		close(s->dirfd);
	if (s->lockfd >= 0)
		close(s->lockfd);
	free(s->path);
	free(s);
}

const char *fcsnap_store_path(const struct fcsnap_store *s)
{
	return s->path;
}

/* Each holder opens the lock file anew: flock belongs to the open file
 * description, so threads of one process do not share (or drop) each
 * other's locks. Returns the fd to give to snap_unlock. */
static int lock(struct fcsnap_store *s, int op, struct fc_error **err)
{
	int fd = openat(s->dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return fc_error_set(err, errno, "open lock of store `%s`", s->path);
	while (flock(fd, op) < 0)
		if (errno != EINTR) {
			int r = fc_error_set(err, errno, "lock store `%s`", s->path);
			close(fd);
			return r;
		}
	return fd;
}

int snap_lock_shared(struct fcsnap_store *s, struct fc_error **err)
{
	return lock(s, LOCK_SH, err);
}

int snap_lock_exclusive(struct fcsnap_store *s, struct fc_error **err)
{
	return lock(s, LOCK_EX, err);
}

void snap_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

int snap_read_image_rec(struct fcsnap_store *s, const char *name, struct snap_image_rec *r,
                        struct fc_error **err)
{
	_cleanup_free_ char *f = snap_escape_name(name);
	_cleanup_free_ char *p = fc_asprintf("images/%s", f);
	_cleanup_free_ char *buf = NULL;
	int ret = fc_read_file_at(s->dirfd, p, &buf, NULL, 0, err);
	if (ret == -ENOENT) {
		fc_error_free(*err);
		*err = NULL;
		return fc_error_set(err, ENOENT, "image `%s` not found in store `%s`", name,
		                    s->path);
	}
	if (ret < 0)
		return ret;
	if (snap_parse_image_rec(buf, r, err) < 0)
		return fc_error_wrap(err, "image `%s`", name);
	return 0;
}

void fcsnap_image_free(struct fcsnap_image *img)
{
	if (!img)
		return;
	free(img->name);
	free(img->manifest_digest);
	free(img->config_digest);
	fc_strv_free(img->diff_ids);
	fc_strv_free(img->layer_dirs);
	fcsnap_config_clear(&img->config);
	free(img);
}

static int image_get(struct fcsnap_store *s, const char *name, struct fcsnap_image **out,
                     struct fc_error **err);

int fcsnap_image_get(struct fcsnap_store *s, const char *name, struct fcsnap_image **out,
                     struct fc_error **err)
{
	int lk = snap_lock_shared(s, err);
	if (lk < 0)
		return lk;
	int r = image_get(s, name, out, err);
	snap_unlock(lk);
	return r;
}

static int image_get(struct fcsnap_store *s, const char *name, struct fcsnap_image **out,
                     struct fc_error **err)
{
	struct snap_image_rec rec;
	struct snap_config_doc cfg;
	_cleanup_free_ char *buf = NULL, *cpath = NULL;
	int r = snap_read_image_rec(s, name, &rec, err);
	if (r < 0)
		return r;
	cpath = fc_asprintf("blobs/sha256/%s",
	                    fcsnap_digest_hex(rec.config) ? fcsnap_digest_hex(rec.config) : "-");
	r = fc_read_file_at(s->dirfd, cpath, &buf, NULL, 0, err);
	if (r < 0) {
		snap_image_rec_clear(&rec);
		return fc_error_wrap(err, "image `%s`: config %s", name, rec.config);
	}
	if (snap_parse_config(buf, &cfg, err) < 0) {
		snap_image_rec_clear(&rec);
		return fc_error_wrap(err, "image `%s`", name);
	}
	struct fcsnap_image *img = fc_calloc(1, sizeof(*img));
	img->name = TAKE_PTR(rec.name);
	img->manifest_digest = TAKE_PTR(rec.manifest);
	img->config_digest = TAKE_PTR(rec.config);
	img->n_layers = rec.n;
	img->diff_ids = TAKE_PTR(rec.diff_ids);
	img->size = rec.size;
	img->created = rec.created;
	img->config = cfg.c;
	memset(&cfg.c, 0, sizeof(cfg.c));
	snap_config_doc_clear(&cfg);
	snap_image_rec_clear(&rec);
	img->layer_dirs = fc_calloc(img->n_layers + 1, sizeof(char *));
	for (size_t i = 0; i < img->n_layers; i++) {
		img->layer_dirs[i] =
		    fc_asprintf("%s/layers/%s", s->path, fcsnap_digest_hex(img->diff_ids[i]));
		struct stat st;
		if (stat(img->layer_dirs[i], &st) < 0) {
			r = fc_error_set(
			    err, errno,
			    "image `%s`: layer %s (`%s`) is missing; import the image again", name,
			    img->diff_ids[i], img->layer_dirs[i]);
			fcsnap_image_free(img);
			return r;
		}
	}
	*out = img;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int fcsnap_image_list(struct fcsnap_store *s, char ***names, struct fc_error **err)
{
	int fd = openat(s->dirfd, "images", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return fc_error_set(err, errno, "store `%s`: open images", s->path);
	_cleanup_dir_ DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return fc_error_set(err, errno, "store `%s`: read images", s->path);
	}
	size_t n = 0, cap = 16;
	char **v = fc_calloc(cap, sizeof(char *));
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || strstr(de->d_name, ".tmp-"))
			continue;
		if (n + 2 > cap)
			v = fc_realloc(v, (cap *= 2) * sizeof(char *));
		v[n++] = snap_unescape_name(de->d_name);
		v[n] = NULL;
	}
	qsort(v, n, sizeof(char *), cmp_str);
	*names = v;
	return (int)n;
}

int fcsnap_image_remove(struct fcsnap_store *s, const char *name, struct fc_error **err)
{
	_cleanup_free_ char *f = snap_escape_name(name);
	_cleanup_free_ char *p = fc_asprintf("images/%s", f);
	int lk = snap_lock_exclusive(s, err);
	if (lk < 0)
		return lk;
	int r = unlinkat(s->dirfd, p, 0);
	int e = errno;
	snap_unlock(lk);
	if (r < 0)
		return e == ENOENT ? fc_error_set(err, ENOENT, "image `%s` not found in store `%s`",
		                                  name, s->path)
		                   : fc_error_set(err, e, "remove image `%s`", name);
	return 0;
}

static bool in_set(char **set, size_t n, const char *hex)
{
	for (size_t i = 0; i < n; i++)
		if (FC_STREQ(set[i], hex))
			return true;
	return false;
}

/* skip: text in which a name that appears is kept (mount table), or NULL */
static unsigned sweep(struct fcsnap_store *s, const char *sub, char **keep, size_t n,
                      const char *skip)
{
	unsigned removed = 0;
	int fd = openat(s->dirfd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return 0;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (FC_STREQ(de->d_name, ".") || FC_STREQ(de->d_name, ".."))
			continue;
		if (in_set(keep, n, de->d_name))
			continue;
		if (skip && strlen(de->d_name) == 64) {
			/* a mounted rootfs (overlay lowerdir=) still uses it */
			_cleanup_free_ char *full =
			    fc_asprintf("%s/%s/%s", s->path, sub, de->d_name);
			const char *m = skip;
			bool used = false;
			size_t fl = strlen(full);
			while ((m = strstr(m, full)) && !used) {
				char c = m[fl];
				used = c == ':' || c == ',' || c == ' ' || c == '\n' || c == 0;
				m += fl;
			}
			if (used)
				continue;
		}
		if (fc_rm_rf_at(dirfd(d), de->d_name, NULL) == 0)
			removed++;
	}
	closedir(d);
	return removed;
}

int fcsnap_gc(struct fcsnap_store *s, unsigned *blobs_removed, unsigned *layers_removed,
              struct fc_error **err)
{
	_cleanup_strv_ char **names = NULL;
	_cleanup_free_ char *mounts = NULL;
	char **blobs = NULL, **layers = NULL;
	size_t nb = 0, nl = 0;
	int r;
	int lk = snap_lock_exclusive(s, err);
	if (lk < 0)
		return lk;
	r = fcsnap_image_list(s, &names, err);
	if (r < 0)
		goto out;
	for (size_t i = 0; names[i]; i++) {
		struct snap_image_rec rec;
		struct fc_error *e2 = NULL;
		if (snap_read_image_rec(s, names[i], &rec, &e2) < 0) {
			/* an unreadable record keeps nothing alive, but we must not
			 * delete what it may refer to: stop */
			r = fc_error_set(err, fc_error_code(e2) * -1, "gc: %s", e2->msg);
			fc_error_free(e2);
			goto out;
		}
		blobs = fc_realloc(blobs, (nb + rec.n + 3) * sizeof(char *));
		layers = fc_realloc(layers, (nl + rec.n + 1) * sizeof(char *));
		blobs[nb++] = fc_strdup(
		    fcsnap_digest_hex(rec.manifest) ? fcsnap_digest_hex(rec.manifest) : "");
		blobs[nb++] =
		    fc_strdup(fcsnap_digest_hex(rec.config) ? fcsnap_digest_hex(rec.config) : "");
		for (size_t j = 0; j < rec.n; j++) {
			const char *h = fcsnap_digest_hex(rec.layer_digests[j]);
			blobs[nb++] = fc_strdup(h ? h : "");
			h = fcsnap_digest_hex(rec.diff_ids[j]);
			layers[nl++] = fc_strdup(h ? h : "");
		}
		snap_image_rec_clear(&rec);
	}
	fc_read_file_at(AT_FDCWD, "/proc/self/mountinfo", &mounts, NULL, 0, NULL);
	unsigned b = sweep(s, "blobs/sha256", blobs, nb, NULL);
	unsigned l = sweep(s, "layers", layers, nl, mounts);
	/* no import runs while gc holds the store exclusively: lock files can go */
	sweep(s, "locks", NULL, 0, NULL);
	clean_stale(s);
	if (blobs_removed)
		*blobs_removed = b;
	if (layers_removed)
		*layers_removed = l;
	r = 0;
out:
	for (size_t i = 0; i < nb; i++)
		free(blobs[i]);
	for (size_t i = 0; i < nl; i++)
		free(layers[i]);
	free(blobs);
	free(layers);
	snap_unlock(lk);
	return r;
}

static void json_opt_str(struct fc_buf *b, const char *k, const char *v)
{
	fc_buf_printf(b, ",\"%s\":", k);
	if (v)
		fc_buf_json_string(b, v);
	else
		fc_buf_printf(b, "null");
}

int fcsnap_image_json(const struct fcsnap_image *img, char **json, struct fc_error **err)
{
	struct fc_buf b = {0};
	const struct fcsnap_config *c = &img->config;
	char t[64];
	time_t ct = (time_t)img->created;
	struct tm tm;
	gmtime_r(&ct, &tm);
	strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fc_buf_printf(&b, "{\n  \"name\":");
	fc_buf_json_string(&b, img->name);
	fc_buf_printf(&b, ",\n  \"manifest\":");
	fc_buf_json_string(&b, img->manifest_digest);
	fc_buf_printf(&b, ",\n  \"config\":");
	fc_buf_json_string(&b, img->config_digest);
	fc_buf_printf(&b, ",\n  \"imported\":\"%s\",\n  \"size\":%llu,\n  \"layers\":[", t,
	              (unsigned long long)img->size);
	for (size_t i = 0; i < img->n_layers; i++) {
		fc_buf_printf(&b, "%s\n    {\"diff_id\":", i ? "," : "");
		fc_buf_json_string(&b, img->diff_ids[i]);
		fc_buf_printf(&b, ",\"dir\":");
		fc_buf_json_string(&b, img->layer_dirs[i]);
		fc_buf_printf(&b, "}");
	}
	fc_buf_printf(&b, "\n  ],\n  \"os\":");
	fc_buf_json_string(&b, c->os ? c->os : "");
	fc_buf_printf(&b, ",\"architecture\":");
	fc_buf_json_string(&b, c->arch ? c->arch : "");
	fc_buf_printf(&b, ",\n  \"config_summary\":{\"Entrypoint\":");
	snap_json_strv(&b, c->entrypoint);
	fc_buf_printf(&b, ",\"Cmd\":");
	snap_json_strv(&b, c->cmd);
	fc_buf_printf(&b, ",\"Env\":");
	snap_json_strv(&b, c->env);
	json_opt_str(&b, "WorkingDir", c->workdir);
	json_opt_str(&b, "User", c->user);
	fc_buf_printf(&b, ",\"ExposedPorts\":");
	snap_json_strv(&b, c->exposed_ports);
	json_opt_str(&b, "StopSignal", c->stop_signal);
	fc_buf_printf(&b, ",\"Labels\":");
	snap_json_strv(&b, c->labels);
	fc_buf_printf(&b, "}\n}\n");
	*json = b.data;
	(void)err;
	return 0;
}
