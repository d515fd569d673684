/* SPDX-License-Identifier: MIT */
/* snap-private.h: internals shared by the files of libfcsnap. */
#ifndef SNAP_PRIVATE_H
#define SNAP_PRIVATE_H

#include <openssl/evp.h>
#include <pthread.h>

#include "fcsnap.h"

struct fcsnap_store {
	char *path;
	int dirfd;  /* the store directory */
	int lockfd; /* <store>/lock (kept open: the file exists) */
};

/* ---- digests ---------------------------------------------------------- */
struct snap_hash {
	EVP_MD_CTX *ctx;
};
void snap_hash_init(struct snap_hash *h);
void snap_hash_update(struct snap_hash *h, const void *p, size_t n);
/* "sha256:<hex>" into out (>= 72 bytes); frees the context. */
void snap_hash_final(struct snap_hash *h, char *out);
void snap_hash_free(struct snap_hash *h);
/* Hash a whole fd from its current offset; size returned in *size. */
int snap_hash_fd(int fd, char *out, uint64_t *size);

/* ---- JSON (yajl is reached only from json.c) -------------------------- */
struct snap_desc {
	char *media_type;
	char *digest;
	int64_t size;
	char *os, *arch, *variant; /* platform, index entries only */
	char *ref_name;            /* org.opencontainers.image.ref.name */
};
void snap_desc_clear(struct snap_desc *d);

struct snap_index { /* OCI index or Docker manifest list */
	size_t n;
	struct snap_desc *m;
};
struct snap_manifest {
	char *media_type;
	struct snap_desc config;
	size_t n_layers;
	struct snap_desc *layers;
};
struct snap_docker_manifest { /* one entry of docker-archive manifest.json */
	char *config;
	char **repo_tags;
	char **layers;
};
struct snap_config_doc {
	struct fcsnap_config c;
	char **diff_ids;
	size_t n_diff_ids;
};
struct snap_image_rec { /* images/<name> */
	char *name, *manifest, *config;
	char **diff_ids;
	char **layer_digests;
	size_t n;
	uint64_t size;
	int64_t created;
};

int snap_parse_index(const char *buf, struct snap_index *out, struct fc_error **err);
void snap_index_clear(struct snap_index *x);
/* kind: 1 manifest, 2 index (sniffed from mediaType / keys) */
int snap_sniff_kind(const char *buf);
int snap_parse_manifest(const char *buf, struct snap_manifest *out, struct fc_error **err);
void snap_manifest_clear(struct snap_manifest *m);
int snap_parse_docker_manifest(const char *buf, struct snap_docker_manifest *out,
                               struct fc_error **err);
void snap_docker_manifest_clear(struct snap_docker_manifest *m);
int snap_parse_config(const char *buf, struct snap_config_doc *out, struct fc_error **err);
void snap_config_doc_clear(struct snap_config_doc *c);
int snap_parse_image_rec(const char *buf, struct snap_image_rec *out, struct fc_error **err);
void snap_image_rec_clear(struct snap_image_rec *r);
char *snap_image_rec_json(const struct snap_image_rec *r);
void snap_json_strv(struct fc_buf *b, char *const *v);

/* ---- unpacking -------------------------------------------------------- */
struct snap_limits {
	uint64_t max_size, max_entries;
	unsigned max_path;
};
struct snap_progress_sink {
	fcsnap_progress_fn fn;
	void *data;
	pthread_mutex_t *lock;
	struct fcsnap_progress *p;
};
/* Unpack the (compressed) layer blob read from blobfd into the empty directory
 * dirfd, computing the diff_id of the decompressed stream into diff_id_out. */
/* With tee_fd >= 0 the compressed blob is copied there while it is read; with
 * blob_digest_out its digest and size are computed on the way. */
int snap_unpack_layer(int blobfd, int comp, int dirfd, const struct snap_limits *lim,
                      bool use_uring, struct snap_progress_sink *ps, char *diff_id_out, int tee_fd,
                      char *blob_digest_out, uint64_t *blob_size_out, struct fc_error **err);
/* The same for a blob stored as len bytes at offset off of fd (read with
 * pread; off < 0: read fd from its offset to its end, as above). */
int snap_unpack_layer_at(int blobfd, int64_t off, uint64_t len, int comp, int dirfd,
                         const struct snap_limits *lim, bool use_uring,
                         struct snap_progress_sink *ps, char *diff_id_out, int tee_fd,
                         char *blob_digest_out, uint64_t *blob_size_out, struct fc_error **err);
/* Only decompress and hash (a new blob of a layer that is already unpacked). */
int snap_verify_layer(int blobfd, int comp, const struct snap_limits *lim, char *diff_id_out,
                      struct fc_error **err);
/* io_uring batches of small files (uring.c) */
struct snap_uring;
int snap_uring_new(struct snap_uring **out);
void snap_uring_free(struct snap_uring *u);
bool snap_uring_fits(struct snap_uring *u, size_t len);
/* Queue a new file dir/name of len bytes; *data is where to put its content. */
int snap_uring_add(struct snap_uring *u, int dirfd, const char *dir, const char *name,
                   const char *entry, size_t len, mode_t mode, uid_t uid, gid_t gid,
                   const struct timespec ts[2], void **data, struct fc_error **err);
int snap_uring_flush(struct snap_uring *u, struct fc_error **err);
mode_t snap_umask(void);
/* Sniff compression from the first bytes of a file. */
int snap_sniff_compression(int fd);
/* The same for the len bytes at offset off of fd. */
int snap_sniff_compression_at(int fd, uint64_t off, uint64_t len);

/* ---- staging (stage.c): shared by import and pull ---------------------- */
/* One layer of an image on its way into the store. */
struct snap_job {
	char *src;         /* import: blob path inside the source root */
	char *want_digest; /* NULL when unknown (docker-archive) */
	int64_t want_size; /* -1 when unknown */
	int comp;          /* -1: sniff */
	char *media_type;
	char *diff_id;   /* expected, from the config */
	char digest[80]; /* verified blob digest */
	uint64_t size;
	bool reuse_layer, blob_in_store, dup, blob_staged;
	int lockfd;
};
/* An image name the store accepts (printable, no spaces, <= 255 bytes). */
bool snap_valid_name(const char *n);
/* An index entry for "os/arch[/variant]" (NULL: linux/amd64). */
bool snap_platform_match(const struct snap_desc *d, const char *platform);
/* Lock every distinct diff_id of jobs (sorted: no deadlock between imports),
 * then mark each job: the layer is in the store (reuse_layer), a duplicate
 * inside this image (dup), or to be unpacked into stage/layer-<hex>. */
int snap_lock_layers(struct fcsnap_store *s, struct snap_job *jobs, size_t n,
                     struct fc_error **err);
/* A thread that syncs the staging filesystem every 50 ms while layers are
 * unpacked (see stage.c). */
struct snap_writeback {
	int fd;
	bool started, stop;
	pthread_t th;
	pthread_mutex_t m;
	pthread_cond_t c;
};
void snap_writeback_start(struct snap_writeback *w, int fd);
void snap_writeback_stop(struct snap_writeback *w);
/* Sync the staging dir, rename stage/layer-<diff_id hex> (unless reused or a
 * duplicate), stage/layerblob-<i> (blob_staged) and stage/blob-<hex> of the
 * manifest and config into place, then record name. */
int snap_commit(struct fcsnap_store *s, int stagefd, const struct snap_job *jobs, size_t n,
                const char *name, const char *mdigest, const char *cdigest, struct fc_error **err);

/* ---- registries (json.c, registry.c, pull.c) --------------------------- */
/* The kind of a manifest document (1 manifest, 2 index), its schemaVersion
 * (-1 when absent) and mediaType (NULL when absent). */
int snap_doc_head(const char *buf, size_t len, int *schema_version, char **media_type,
                  struct fc_error **err);
/* {"token": ...} or {"access_token": ...} of a token server. */
int snap_parse_token(const char *buf, size_t len, char **token, struct fc_error **err);
/* One entry of a Docker config.json's `auths` (secrets zeroed on free). */
struct snap_cred {
	char *key;  /* "registry.example.com", "https://index.docker.io/v1/" */
	char *auth; /* base64 of "user:password", NULL when absent */
	char *user, *pass;
	bool identity_token; /* an OAuth2 refresh token we do not use */
};
int snap_parse_docker_auths(const char *buf, size_t len, struct snap_cred **out, size_t *n,
                            struct fc_error **err);
void snap_creds_free(struct snap_cred *c, size_t n);
/* The registry config file: the keys of Docker's daemon.json that matter. */
struct snap_reg_conf {
	char **mirrors;  /* registry-mirrors: base URLs for docker.io */
	char **insecure; /* insecure-registries: host[:port] or CIDR */
	char *certs_dir; /* certs-dir: <dir>/<host[:port]>/ca.crt ... */
};
int snap_parse_reg_conf(const char *buf, size_t len, struct snap_reg_conf *out,
                        struct fc_error **err);
void snap_reg_conf_clear(struct snap_reg_conf *c);
/* "CODE: message" of a registry's error body, NULL when it has none. */
char *snap_reg_error_text(const char *buf, size_t len);

/* A registry endpoint for one repository (registry.c), shared by the
 * threads of a pull. */
struct snap_reg;
struct snap_reg_opts {
	const struct fcsnap_ref *ref;
	const struct snap_reg_conf *conf;
	const char *const *insecure; /* more insecure registries (--insecure-registry) */
	const char *docker_config;   /* dir holding config.json */
	unsigned retries;
	unsigned connect_timeout_s, stall_timeout_s;
	volatile int *cancel; /* set: transfers stop */
};
/* Find the endpoint (mirrors first for docker.io; https, or http where the
 * registry is insecure) and authenticate: the registry answers /v2/. */
int snap_reg_open(const struct snap_reg_opts *o, struct snap_reg **out, struct fc_error **err);
void snap_reg_free(struct snap_reg *r);
/* "https://host:port" of the endpoint in use (for messages). */
const char *snap_reg_base(const struct snap_reg *r);
/* GET a manifest or index by tag or digest, at most max bytes: body,
 * Content-Type and the sha256 of the body. */
int snap_reg_manifest(struct snap_reg *r, const char *tag_or_digest, size_t max, char **body,
                      size_t *len, char **content_type, char *digest, struct fc_error **err);
/* GET a small blob whose digest and size the caller knows, verified. */
int snap_reg_blob(struct snap_reg *r, const char *digest, int64_t size, size_t max, char **body,
                  struct fc_error **err);
/* Stream a blob of size bytes into fd (a pipe), resuming with Range after a
 * dropped connection; progress(data, bytes so far) is called as it comes. */
int snap_reg_stream(struct snap_reg *r, const char *digest, uint64_t size, int fd,
                    void (*progress)(void *data, uint64_t bytes, bool retrying), void *data,
                    struct fc_error **err);

/* ---- store internals -------------------------------------------------- */
int snap_lock_shared(struct fcsnap_store *s, struct fc_error **err);
int snap_lock_exclusive(struct fcsnap_store *s, struct fc_error **err);
void snap_unlock(int lockfd);
char *snap_escape_name(const char *name);
char *snap_unescape_name(const char *file);
int snap_read_image_rec(struct fcsnap_store *s, const char *name, struct snap_image_rec *r,
                        struct fc_error **err);
/* open a path below root with openat2(RESOLVE_BENEATH|NO_MAGICLINKS) */
int snap_openat_beneath(int root, const char *path, int flags, mode_t mode);
int snap_openat_in_root(int root, const char *path, int flags, mode_t mode);
int snap_fsync_dir_at(int dirfd, const char *path);
/* mkdir -p below root, never following a symlink; returns the dir's fd. */
int snap_mkdir_beneath(int root, const char *path, mode_t mode);
/* Read a file of an image source (symlinks resolved inside root). */
int snap_read_in_root(int root, const char *path, char **out, struct fc_error **err);

#endif
