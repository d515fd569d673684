/* SPDX-License-Identifier: MIT */
/* fcsnap.h: the fcstart image store (libfcsnap).
 *
 * Layout of a store directory (default /var/lib/fcstart):
 *   lock                      flock: shared by imports/readers, exclusive for rm/gc
 *   blobs/sha256/<hex>        verified blobs (manifests, configs, compressed layers)
 *   layers/<diff_id-hex>/     each layer unpacked once (overlayfs lower dir format)
 *   images/<escaped name>     JSON: name -> manifest digest, config digest, diff_ids
 *   locks/<diff_id-hex>       per-layer flock while a layer is unpacked
 *   tmp/stage-*               per-import staging (removed when its owner is gone)
 *
 * All functions return >= 0 or -errno with *err set (when err != NULL).
 * Nothing here prints or exits. */
#ifndef FCSNAP_H
#define FCSNAP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "fc-util.h"

#define FCSNAP_DEFAULT_STORE "/var/lib/fcstart"

struct fcsnap_store;

/* Open (creating if needed) the store at path; NULL means $FCSTART_STORE or
 * the default. Stale leftovers of killed imports are removed. */
int fcsnap_store_open(const char *path, struct fcsnap_store **out, struct fc_error **err);
void fcsnap_store_free(struct fcsnap_store *s);
const char *fcsnap_store_path(const struct fcsnap_store *s);

/* ---- import ----------------------------------------------------------- */

struct fcsnap_progress {
	uint64_t bytes_in;      /* compressed bytes read */
	uint64_t bytes_out;     /* bytes written to layer files */
	uint64_t files;         /* entries created */
	unsigned layer, layers; /* current layer (1-based) of all */
};
typedef void (*fcsnap_progress_fn)(const struct fcsnap_progress *p, void *data);

struct fcsnap_import_opts {
	const char *name;            /* name to record; NULL: from the archive's ref name */
	const char *platform;        /* "os/arch[/variant]"; NULL: linux/amd64 */
	uint64_t max_layer_size;     /* expanded bytes per layer; 0: 64 GiB */
	uint64_t max_entries;        /* tar entries per layer; 0: 4,000,000 */
	unsigned max_path;           /* bytes per entry path; 0: 4096 */
	unsigned jobs;               /* layers unpacked in parallel; 0: number of CPUs (<= 4) */
	bool no_uring;               /* write with plain syscalls instead of io_uring */
	fcsnap_progress_fn progress; /* called from the importing threads (serialised) */
	void *progress_data;
};

/* Import an OCI image layout directory, an oci-archive or a docker-archive
 * tarball. On success *name_out (if non-NULL) is the recorded name. On failure
 * the store is as it was (no blob, layer or name added). */
int fcsnap_import(struct fcsnap_store *s, const char *path, const struct fcsnap_import_opts *opts,
                  char **name_out, struct fc_error **err);

/* ---- pull from registries --------------------------------------------- */

/* An image reference as Docker reads it: "alpine" is
 * docker.io/library/alpine:latest. */
struct fcsnap_ref {
	char *domain; /* "docker.io", "ghcr.io", "127.0.0.1:5000" */
	char *path;   /* "library/alpine" */
	char *tag;    /* NULL when only a digest was given */
	char *digest; /* "sha256:<hex>" or NULL */
};
int fcsnap_ref_parse(const char *s, struct fcsnap_ref *out, struct fc_error **err);
void fcsnap_ref_clear(struct fcsnap_ref *r);
/* "docker.io/library/alpine:latest", "host:5000/x@sha256:..." */
char *fcsnap_ref_string(const struct fcsnap_ref *r);

enum fcsnap_layer_state {
	FCSNAP_LAYER_WAITING = 0,
	FCSNAP_LAYER_EXISTS,      /* in the store already: not downloaded */
	FCSNAP_LAYER_DOWNLOADING, /* downloading and unpacking */
	FCSNAP_LAYER_RETRYING,    /* the connection dropped: resuming */
	FCSNAP_LAYER_VERIFYING,   /* all bytes in, the unpack finishing */
	FCSNAP_LAYER_DONE,
};
struct fcsnap_pull_progress {
	unsigned layer, layers; /* this layer (1-based) of all */
	const char *digest;     /* the layer's blob */
	enum fcsnap_layer_state state;
	uint64_t bytes, total; /* compressed bytes received, the blob's size */
	double rate;           /* bytes per second since the layer started */
};
typedef void (*fcsnap_pull_progress_fn)(const struct fcsnap_pull_progress *p, void *data);

struct fcsnap_pull_opts {
	const char *name;            /* name to record; NULL: the full reference */
	const char *platform;        /* "os/arch[/variant]"; NULL: linux and this host's arch */
	const char *const *insecure; /* more insecure registries (host[:port]), NULL-ended */
	const char *config;          /* registries config; NULL: $FCSTART_REGISTRY_CONFIG, else
	                                /etc/fcstart/registries.json when it exists */
	const char *docker_config;   /* dir of config.json; NULL: $DOCKER_CONFIG, else ~/.docker */
	unsigned jobs;               /* layers downloaded in parallel; 0: 4 */
	unsigned retries;            /* per request after the first try; 0: 4 */
	unsigned connect_timeout_s;  /* 0: 30 */
	unsigned stall_timeout_s;    /* a transfer with no byte for this long is retried; 0: 60 */
	unsigned max_layers;         /* 0: 500 */
	uint64_t max_layer_size;     /* expanded bytes per layer; 0: 64 GiB */
	bool no_uring;               /* write with plain syscalls */
	fcsnap_pull_progress_fn progress; /* called from the pulling threads (serialised) */
	void *progress_data;
};

struct fcsnap_pull_result {
	char *name;            /* the name recorded */
	char *manifest_digest; /* of the platform's manifest */
	unsigned layers;       /* of the image */
	unsigned fetched;      /* layers downloaded (the rest were in the store) */
	uint64_t bytes;        /* compressed bytes downloaded */
};
void fcsnap_pull_result_clear(struct fcsnap_pull_result *r);

/* Pull ref from its registry (OCI distribution API v2) into the store: each
 * layer unpacked while it downloads, committed only when its blob digest and
 * diff_id match. On failure the store is as it was. res may be NULL. */
int fcsnap_pull(struct fcsnap_store *s, const char *ref, const struct fcsnap_pull_opts *opts,
                struct fcsnap_pull_result *res, struct fc_error **err);

struct fcsnap_image;
/* When a deploy pulls (Kubernetes' imagePullPolicy, Docker's --pull). */
enum fcsnap_pull_policy {
	FCSNAP_PULL_MISSING = 0, /* pull when the store lacks the image */
	FCSNAP_PULL_ALWAYS,      /* pull every time (the tag may have moved) */
	FCSNAP_PULL_NEVER,       /* use the store only */
};
/* "missing", "always", "never" (also "IfNotPresent", "Always", "Never"). */
int fcsnap_pull_policy_parse(const char *s);

/* The image ref names: a name in the store as it is, else the reference
 * normalised (alpine is docker.io/library/alpine:latest), pulled first when
 * the policy says so (always; missing and not in the store). opts may be
 * NULL (no progress, defaults). */
int fcsnap_image_get_ref(struct fcsnap_store *s, const char *ref, enum fcsnap_pull_policy policy,
                         const struct fcsnap_pull_opts *opts, struct fcsnap_image **out,
                         struct fc_error **err);

/* ---- images ----------------------------------------------------------- */

struct fcsnap_config {
	char **entrypoint; /* NULL-terminated vectors; NULL when absent */
	char **cmd;
	char **env;
	char *workdir;        /* NULL when absent */
	char *user;           /* as written in the image ("1000:1000", "app"), NULL when absent */
	char **exposed_ports; /* "8080/tcp" ... */
	char *stop_signal;
	char **labels; /* "key=value" ... */
	char *os, *arch;
};

struct fcsnap_image {
	char *name;
	char *manifest_digest; /* "sha256:..." */
	char *config_digest;
	size_t n_layers;
	char **diff_ids;   /* n_layers, lowest first ("sha256:...") */
	char **layer_dirs; /* n_layers absolute dirs, lowest first */
	uint64_t size;     /* compressed bytes of the layers */
	int64_t created;   /* import time (unix seconds) */
	struct fcsnap_config config;
};

void fcsnap_config_clear(struct fcsnap_config *c);
void fcsnap_image_free(struct fcsnap_image *img);
/* Resolve a name: ordered layer dirs (lowest first) and the parsed config. */
int fcsnap_image_get(struct fcsnap_store *s, const char *name, struct fcsnap_image **out,
                     struct fc_error **err);
/* All recorded names, sorted; NULL-terminated. */
int fcsnap_image_list(struct fcsnap_store *s, char ***names, struct fc_error **err);
int fcsnap_image_remove(struct fcsnap_store *s, const char *name, struct fc_error **err);
/* Remove blobs and layers no name refers to. Counts may be NULL. */
int fcsnap_gc(struct fcsnap_store *s, unsigned *blobs_removed, unsigned *layers_removed,
              struct fc_error **err);
/* Inspect document (JSON) of an image. */
int fcsnap_image_json(const struct fcsnap_image *img, char **json, struct fc_error **err);

/* ---- rootfs and bundles ----------------------------------------------- */

/* Mount an overlay of the image's layer dirs at target with the given upper
 * and work dirs (created if missing; same filesystem). upper == NULL makes a
 * read-only overlay (no work dir needed). */
int fcsnap_mount_rootfs(const struct fcsnap_image *img, const char *target, const char *upper,
                        const char *work, struct fc_error **err);
int fcsnap_unmount_rootfs(const char *target, struct fc_error **err);
/* Mount an overlay of layers (dirs, bottom first) at target; upper == NULL
 * makes it read-only. mount(2) where the options fit in a page (about 40
 * layers), else the new mount API one lower dir at a time (Linux 6.8+). */
int fcsnap_mount_overlay(char *const *layers, size_t n, const char *upper, const char *work,
                         const char *target, struct fc_error **err);
/* Flatten the layers into target (an empty or missing dir), applying whiteouts. */
int fcsnap_copy_rootfs(const struct fcsnap_image *img, const char *target, struct fc_error **err);

/* Resolve the image's user ("name", "uid", "name:group", "uid:gid") against the
 * image's /etc/passwd and /etc/group. */
int fcsnap_resolve_user(const struct fcsnap_image *img, uid_t *uid, gid_t *gid,
                        struct fc_error **err);

/* The image's command: Entrypoint then Cmd, NULL-terminated (empty when it
 * has neither). */
char **fcsnap_image_args(const struct fcsnap_image *img);
/* A bundle's root filesystem: dir (created if missing) gets rootfs, an
 * overlay of the image's layers with dir/upper and dir/work, or a flattened
 * copy with copy. An existing dir/rootfs is refused; on failure nothing is
 * left in dir. The bundle's config.json is the caller's to write (`fcstart
 * image bundle` builds it from the image's config and libfcrt's spec). */
int fcsnap_bundle_rootfs(const struct fcsnap_image *img, const char *dir, bool copy,
                         struct fc_error **err);
/* Undo a bundle: unmount dir/rootfs, remove rootfs, upper, work and
 * config.json. */
int fcsnap_unbundle(const char *dir, struct fc_error **err);

/* ---- helpers (exposed for tests) -------------------------------------- */

enum fcsnap_compression {
	FCSNAP_COMP_NONE,
	FCSNAP_COMP_GZIP,
	FCSNAP_COMP_ZSTD,
	FCSNAP_COMP_UNKNOWN
};
/* Media type of a layer to its compression; -EPROTONOSUPPORT for foreign or unknown. */
int fcsnap_layer_compression(const char *media_type);
/* Validate "sha256:<64 lowercase hex>"; returns the hex part or NULL. */
const char *fcsnap_digest_hex(const char *digest);
/* Clean a tar entry path: strip "./" and leading "/", refuse "..", empty,
 * over-long names. out gets the cleaned path ("" for the root). */
int fcsnap_clean_path(const char *in, unsigned max_path, char **out, struct fc_error **err);
/* Whiteout classification of a cleaned path: 0 none, 1 whiteout of *target
 * (".wh.NAME" -> "dir/NAME"), 2 opaque marker of directory *target. */
int fcsnap_whiteout(const char *path, char **target);

#endif
