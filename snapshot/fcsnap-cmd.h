/* SPDX-License-Identifier: MIT */
/* fcsnap-cmd.h: the `fcstart image` verbs (cmd-image.c, built into the fcstart
 * binary from bench/), which use libfcsnap and libfcrt. */
#ifndef FCSNAP_CMD_H
#define FCSNAP_CMD_H

#include "fcsnap.h"

/* fcstart image import|pull|ls|inspect|rm|gc|bundle|unmount: argv starts at
 * "image"; returns the process exit status. */
int cmd_image(int argc, char **argv);

struct fcsnap_bundle_opts {
	bool copy;   /* flatten instead of overlay */
	char **args; /* replaces Entrypoint+Cmd when non-NULL */
};
/* `fcstart image bundle NAME DIR`: an OCI runtime bundle of the image NAME,
 * DIR/rootfs (fcsnap_bundle_rootfs) and DIR/config.json, the project's
 * default spec (fcrt_spec_default) with the image's config: the command,
 * env (with the default PATH when the image sets none), working dir and
 * user, no terminal, a writable rootfs, hostname "fcstart", a cgroup
 * namespace, and the image's name, manifest digest, exposed ports and stop
 * signal as annotations. The benchmarks make their bundles with it. On
 * failure DIR holds nothing of it. */
int cmd_image_bundle(struct fcsnap_store *s, const char *name, const char *dir,
                     const struct fcsnap_bundle_opts *opts, struct fc_error **err);

#endif
