/* SPDX-License-Identifier: MIT */
/* bundle.h: what a function's sandboxes are made from: the typed OCI spec
 * (libfcrt) built from its image and settings, and the image's layers
 * (libfcsnap). bundle.c is the only code of libfcpool that knows both
 * libraries. The daemon makes a function's bundle once per deploy and sends
 * it to every fork server, which keeps it parsed and makes each sandbox
 * from it. */
#ifndef FCPOOL_BUNDLE_H
#define FCPOOL_BUNDLE_H

#include "fcpool.h"

struct fc_spec;
struct fcrt_container;
struct fcrt_profile;
struct fcsnap_store;

/* A function's sandboxes get a user namespace of their own by default: ids
 * 0..BUNDLE_USERNS_SIZE-1 inside are uid_base.. on the host (uids and gids
 * alike). The host ranges of functions start at BUNDLE_USERNS_FIRST (in the
 * range systemd leaves to containers, far from users and /etc/subuid's
 * usual 100000..), BUNDLE_USERNS_SLOTS of them. */
#define BUNDLE_USERNS_SIZE  65536u
#define BUNDLE_USERNS_FIRST 0x40000000u
#define BUNDLE_USERNS_SLOTS 12288u

struct bundle {
	struct fc_spec *spec; /* root.path "rootfs": each sandbox's own overlay */
	char **layers;        /* the image's layer dirs, lowest first */
	size_t n_layers;
	uint32_t uid_base; /* the host id of root inside; 0: no user namespace */
	/* bundle_make's: the mode in force (a spec's mode_auto resolved from
	 * the image), the host ids of the function's process */
	enum fcpool_mode mode;
	uid_t host_uid;
	gid_t host_gid;
	/* how its sandboxes are made ready (the spec's annotation
	 * io.fcstart.prewarm says it to the fork servers): started sandboxes
	 * are started by the fork server once made */
	enum fcpool_prewarm prewarm;
	/* the fork server's (bundle_prepare): with a user namespace, each layer
	 * as a detached idmapped mount (the image's files, owned by the host's
	 * ids, appear owned by the sandbox's), in the order of layers */
	int *layer_fds;
};

/* A function's bundle from its spec and image: fcrt_spec_default() made into
 * a function's sandbox (its command, environment, user, cwd, hostname,
 * limits, /tmp, a cgroup namespace, a read-only root when s->read_only;
 * unless s->userns_host, a user namespace mapping 0..65535 inside to
 * uid_base.. on the host). The command: s->args; else the image's
 * entrypoint and cmd when the image runs an OpenFaaS watchdog (which reads
 * fprocess from the environment); else `/bin/sh -c $fprocess` when the
 * function's env sets fprocess; else the image's entrypoint and cmd. Started
 * and fork modes: FCSTART_PREWARM and FCSTART_MODE in its environment. */
int bundle_make(struct fcsnap_store *st, const struct fcpool_fn_spec *s, uint32_t uid_base,
                struct bundle **out, struct fc_error **err);
/* bundle_make once the image was pulled for this deploy (pulls.c), whatever
 * the label com.fcstart.pull says: not pulled again. */
int bundle_make_pulled(struct fcsnap_store *st, const struct fcpool_fn_spec *s, uint32_t uid_base,
                       struct bundle **out, struct fc_error **err);
/* The pull policy of s's image (enum fcsnap_pull_policy): its label
 * com.fcstart.pull (always, missing, never), missing without one. */
int bundle_pull_policy(const struct fcpool_fn_spec *s, struct fc_error **err);
/* Whether an image runs an OpenFaaS watchdog: its entrypoint (or, without
 * one, its cmd) is a program named *watchdog, or its Env sets fprocess. */
bool bundle_image_has_watchdog(char *const *entrypoint, char *const *cmd, char *const *env);
/* Mount dir read-only at /var/openfaas/secrets in the function's sandboxes. */
void bundle_add_secrets(struct bundle *b, const char *dir);
/* fcstart's Python helper: dir read-only at /.fcstart/python, on PYTHONPATH. */
void bundle_add_helper(struct bundle *b, const char *dir);
/* In the fork server, once per deploy: with a user namespace, the idmapped
 * mounts of the layers (a helper process holds the namespace while they are
 * made). */
int bundle_prepare(struct bundle *b, struct fc_error **err);
void bundle_free(struct bundle *b);

/* As text for a fork server (the layers a line each, an empty line, the
 * spec's config.json) and back. */
void bundle_text(const struct bundle *b, struct fc_buf *out);
int bundle_parse(const char *text, size_t len, struct bundle **out, struct fc_error **err);

/* A sandbox's root filesystem, mounted nowhere (a detached mount, *out): the
 * overlay of the layers (the idmapped ones with a user namespace) over a
 * tmpfs of its own (its upper and work dirs, 64 MiB; with a user namespace,
 * upper belongs to the sandbox's root). It lives as long as a descriptor or a
 * mount namespace holds it. */
int bundle_rootfs(const struct bundle *b, int *out, struct fc_error **err);
/* Make sandbox id: the container (libfcrt state under rt_root) created from
 * the spec with bundle_rootfs() as its root, which its init attaches on
 * mountpoint (an empty directory) in its own mount namespace only: nothing
 * of a sandbox is ever mounted in the caller's. Its init waits on a socket.
 * With prof, each step's time is marked there (fcrt_profile). */
int bundle_create(const struct bundle *b, const char *rt_root, const char *id,
                  const char *mountpoint, struct fcrt_profile *prof, struct fcrt_container **out,
                  struct fc_error **err);
/* The same in a recycled cgroup (fcrt_create_opts.cgroup_recycled; NULL:
 * the spec's cgroup, made and removed with the sandbox); memory_at_start:
 * it waits without a memory cgroup of its own and its start gives it one
 * (fcrt_create_opts.memory_at_start, memslot.h). */
int bundle_create_in(const struct bundle *b, const char *rt_root, const char *id,
                     const char *mountpoint, const char *cgroup, bool memory_at_start,
                     struct fcrt_profile *prof, struct fcrt_container **out, struct fc_error **err);

#endif
