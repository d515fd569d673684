/* SPDX-License-Identifier: MIT */
/* secrets.h: the secrets of `fcstart serve` (OpenFaaS's /system/secrets).
 * Each is a file <root>/secrets/NAME of mode 0600 in a directory of mode
 * 0700, written to a temporary name and renamed. A function that asks for
 * some gets its own read-only copy of them, <root>/fnsecrets/FN/NAME, owned
 * by the function's user in its sandboxes (mode 0400, the directory 0500),
 * which its sandboxes mount read-only at /var/openfaas/secrets: a function
 * sees the secrets it asked for and no other. Nothing here logs a value, and
 * no error message holds one. */
#ifndef FCPOOL_SECRETS_H
#define FCPOOL_SECRETS_H

#include <sys/types.h>

#include "fcpool.h"

#define SECRET_MAX_VALUE (1u << 20) /* bytes of a value (Kubernetes' limit) */

enum secret_set_mode {
	SECRET_CREATE, /* -EEXIST when it exists */
	SECRET_UPDATE, /* -ENOENT when it does not */
};
int secrets_set(const char *root, const char *name, const void *value, size_t len,
                enum secret_set_mode mode, struct fc_error **err);
/* -ENOENT "no secret `NAME`". */
int secrets_remove(const char *root, const char *name, struct fc_error **err);
/* The names, sorted (a NULL-terminated vector the caller frees). */
int secrets_list(const char *root, char ***names, struct fc_error **err);
/* Make (or replace) function fn's copy of the secrets names, owned by
 * uid:gid; *dir is its directory (the caller frees it). -ENOENT "secret
 * `NAME` does not exist" naming the first missing one. */
int secrets_stage(const char *root, const char *fn, char *const *names, uid_t uid, gid_t gid,
                  char **dir, struct fc_error **err);
/* Rewrite secret name in function fn's copy, if it has one (after an update). */
void secrets_restage(const char *root, const char *fn, const char *name);
/* Remove function fn's copy. */
void secrets_unstage(const char *root, const char *fn);

#endif
