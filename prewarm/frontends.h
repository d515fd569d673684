/* SPDX-License-Identifier: MIT */
/* frontends.h: the daemon's front ends, each over daemon.h: the unix-socket
 * API (api.c, docs/api.md) and the OpenFaaS faas-provider HTTP gateway
 * (gateway.c, libmicrohttpd driven from the daemon's loop: no thread). */
#ifndef FCPOOL_FRONTENDS_H
#define FCPOOL_FRONTENDS_H

#include "daemon.h"

struct api;
/* Listen on path (mode 0600) and serve its requests. */
int api_start(struct daemon *d, struct loop *l, const char *path, struct api **out,
              struct fc_error **err);
/* Close every connection (their invocations are released), remove the socket. */
void api_stop(struct api *a);

struct gateway;
/* Serve the OpenFaaS routes on o->http ("127.0.0.1:8081"): basic auth of the
 * control routes from o->basic_auth_file (NULL: <root>/basic-auth, created
 * when absent), request bodies up to o->max_body. o->http NULL: no listening
 * socket; connections come from gateway_add_connection (tests, fuzzing). */
int gateway_start(struct daemon *d, struct loop *l, const struct fcpool_serve_opts *o,
                  struct gateway **out, struct fc_error **err);
/* Serve one more connection, any stream socket (taken, also on failure). */
int gateway_add_connection(struct gateway *g, int fd, struct fc_error **err);
void gateway_stop(struct gateway *g);

#endif
