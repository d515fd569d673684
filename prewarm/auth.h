/* SPDX-License-Identifier: MIT */
/* auth.h: HTTP basic auth of the gateway's /system/... routes, as OpenFaaS's
 * gateway and faas-provider do. The credentials file holds one line
 * USER:PASSWORD. No I/O beyond reading (or creating) that file. */
#ifndef FCPOOL_AUTH_H
#define FCPOOL_AUTH_H

#include <stdbool.h>

#include "fc-util.h"

struct gw_auth;

/* Read the credentials from path. When path is absent and create is true,
 * make it first (O_EXCL, mode 0600) with user "admin" and a random password
 * (*created is set then). Errors name the file and never hold its content. */
int gw_auth_load(const char *path, bool create, struct gw_auth **out, bool *created,
                 struct fc_error **err);
void gw_auth_free(struct gw_auth *a);
const char *gw_auth_user(const struct gw_auth *a);
/* Whether an Authorization header value ("Basic base64(user:password)", or
 * NULL when the request had none) carries the credentials. The comparison
 * takes the same time whatever the given and expected bytes are. */
bool gw_auth_check(const struct gw_auth *a, const char *authorization);
/* Decode standard base64 (with or without padding); -EINVAL when s is not
 * base64. *out is NUL-terminated; the caller frees it. */
int gw_base64_decode(const char *s, char **out, size_t *len);

#endif
