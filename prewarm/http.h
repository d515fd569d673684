/* SPDX-License-Identifier: MIT */
/* http.h: reaching an HTTP function inside its sandbox. The function listens
 * on 127.0.0.1:8080 in its own network namespace (only lo); the daemon
 * creates a TCP socket in that namespace (the socket keeps it: no bridge,
 * veth or NAT) and connects, retrying until the function accepts. */
#ifndef FCPOOL_HTTP_H
#define FCPOOL_HTTP_H

#include "loop.h"

struct http_connector;
struct http_connect;

/* sock: connected (the callee's), or -1 with errnum and msg. Called from the
 * loop, never from inside http_connect(); the connect is over then. */
typedef void http_done_fn(void *data, int sock, int errnum, const char *msg);

/* self_netns: the daemon's own network namespace (to step back into). */
struct http_connector *http_connector_new(struct loop *l, int self_netns);
void http_connector_free(struct http_connector *c);
/* Connect to 127.0.0.1:8080 in the namespace netns_fd (-errno: it could not
 * be opened, a failure to report), for at most 10 s; fn and id name the
 * function and its sandbox in messages. */
struct http_connect *http_connect(struct http_connector *c, int netns_fd, const char *fn,
                                  const char *id, http_done_fn *done, void *data);
/* Give up (done is not called). */
void http_connect_cancel(struct http_connect *hc);

#endif
