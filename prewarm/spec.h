/* SPDX-License-Identifier: MIT */
/* spec.h: what a function's sandboxes are made from. */
#ifndef FCPOOL_SPEC_H
#define FCPOOL_SPEC_H

#include "fcpool.h"

/* Write <root>/functions/<name>/config.json for a spec and its image, and
 * beside it `layers`: the image's layer dirs, a line each, lowest first (the
 * fork server's overlay lower dirs), and function.json (the spec). */
struct fcsnap_store;
int fn_prepare(struct fcsnap_store *st, const char *root, const struct fcpool_fn_spec *s,
               struct fc_error **err);

#endif
