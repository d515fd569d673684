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
struct fcsnap_store;

struct bundle {
	struct fc_spec *spec; /* root.path "rootfs": each sandbox's own overlay */
	char **layers;        /* the image's layer dirs, lowest first */
	size_t n_layers;
};

/* A function's bundle from its spec and image: fcrt_spec_default() made into
 * a function's sandbox (its command, environment, user, cwd, hostname,
 * limits, /tmp, a cgroup namespace). */
int bundle_make(struct fcsnap_store *st, const struct fcpool_fn_spec *s, struct bundle **out,
                struct fc_error **err);
void bundle_free(struct bundle *b);

/* As text for a fork server (the layers a line each, an empty line, the
 * spec's config.json) and back. */
void bundle_text(const struct bundle *b, struct fc_buf *out);
int bundle_parse(const char *text, size_t len, struct bundle **out, struct fc_error **err);

/* Make sandbox id in dir (holding the empty dirs upper, work and rootfs):
 * the overlay of the layers on dir/rootfs, then the container (libfcrt state
 * under rt_root) created from the spec, its init waiting on a socket. */
int bundle_create(const struct bundle *b, const char *rt_root, const char *id, const char *dir,
                  struct fcrt_container **out, struct fc_error **err);

#endif
