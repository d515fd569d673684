/* SPDX-License-Identifier: MIT */
/* http.h: reaching an HTTP function inside its sandbox. The function listens
 * on 127.0.0.1:8080 in its own network namespace (only lo); the daemon
 * creates a TCP socket in that namespace (the socket keeps it: no bridge,
 * veth or NAT) and connects, retrying until the function accepts and, on an
 * instance's first connection, until it says it is ready; instances started
 * ahead are probed the same way until they are ready. */
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
struct http_connect_opts {
	int netns_fd; /* the instance's network namespace (-errno: it could not be opened) */
	/* >= 0: a connection kept from an earlier request (taken), reported as
	 * it is; -1: connect */
	int sock;
	/* the instance's first connection: ask GET /_/health (the OpenFaaS
	 * watchdogs' readiness) until it answers other than 503; a server
	 * without it (404, anything) is ready once it accepts */
	bool probe;
	const char *fn, *id; /* the function and its sandbox, in messages */
};
/* Connect to 127.0.0.1:8080 in the namespace o->netns_fd, for at most 10 s. */
struct http_connect *http_connect(struct http_connector *c, const struct http_connect_opts *o,
                                  http_done_fn *done, void *data);
/* Give up (done is not called). */
void http_connect_cancel(struct http_connect *hc);

/* Readiness of an instance started ahead: probe 127.0.0.1:8080 in the
 * namespace netns_fd (taken) until it accepts and, with path, until `GET
 * path` answers 200; then done(data) is called, once, from the loop. A probe
 * never gives up by itself (the pool core has the deadline): tries come 1 ms
 * apart at first, then further apart, up to 20 ms. */
struct http_probe;
typedef void http_probe_fn(void *data);
struct http_probe *http_probe(struct http_connector *c, int netns_fd, const char *path,
                              http_probe_fn *done, void *data);
/* What the last try found ("connection refused", "HTTP 503", ...), for
 * reports; "" before the first. */
const char *http_probe_last(const struct http_probe *p);
/* Stop probing (done is not called); NULL is fine. */
void http_probe_cancel(struct http_probe *p);

#endif
