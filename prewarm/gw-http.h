/* SPDX-License-Identifier: MIT */
/* gw-http.h: what the OpenFaaS gateway's routes share, below them all:
 * libmicrohttpd (reached through the table mhd_api, loaded when the gateway
 * starts), the gateway and its requests, answers, a request's name, query,
 * headers and peer, suspending a connection while a function works. Above
 * it: gw-function.c (/function/NAME), gw-async.c (/async-function/NAME),
 * gw-system.c (/system/..., /metrics), and gateway.c, which dispatches to
 * them. */
#ifndef FCPOOL_GW_HTTP_H
#define FCPOOL_GW_HTTP_H

#ifdef FC_HAVE_MHD
#include <microhttpd.h>

#include "daemon.h"
#include "httpmsg.h"

#define MHD_FUNCS(X)                                                                               \
	X(MHD_start_daemon)                                                                        \
	X(MHD_stop_daemon)                                                                         \
	X(MHD_run)                                                                                 \
	X(MHD_get_timeout)                                                                         \
	X(MHD_get_daemon_info)                                                                     \
	X(MHD_create_response_from_buffer)                                                         \
	X(MHD_add_response_header)                                                                 \
	X(MHD_queue_response)                                                                      \
	X(MHD_destroy_response)                                                                    \
	X(MHD_lookup_connection_value)                                                             \
	X(MHD_get_connection_values)                                                               \
	X(MHD_suspend_connection)                                                                  \
	X(MHD_resume_connection)                                                                   \
	X(MHD_get_connection_info)                                                                 \
	X(MHD_create_response_from_callback)                                                       \
	X(MHD_add_connection)

extern struct mhd_api {
#define X(f) __typeof__(f) *p_##f;
	MHD_FUNCS(X)
#undef X
} mhd_api;

#define MHD_start_daemon                  mhd_api.p_MHD_start_daemon
#define MHD_stop_daemon                   mhd_api.p_MHD_stop_daemon
#define MHD_run                           mhd_api.p_MHD_run
#define MHD_get_timeout                   mhd_api.p_MHD_get_timeout
#define MHD_get_daemon_info               mhd_api.p_MHD_get_daemon_info
#define MHD_create_response_from_buffer   mhd_api.p_MHD_create_response_from_buffer
#define MHD_add_response_header           mhd_api.p_MHD_add_response_header
#define MHD_queue_response                mhd_api.p_MHD_queue_response
#define MHD_destroy_response              mhd_api.p_MHD_destroy_response
#define MHD_lookup_connection_value       mhd_api.p_MHD_lookup_connection_value
#define MHD_get_connection_values         mhd_api.p_MHD_get_connection_values
#define MHD_suspend_connection            mhd_api.p_MHD_suspend_connection
#define MHD_resume_connection             mhd_api.p_MHD_resume_connection
#define MHD_get_connection_info           mhd_api.p_MHD_get_connection_info
#define MHD_create_response_from_callback mhd_api.p_MHD_create_response_from_callback
#define MHD_add_connection                mhd_api.p_MHD_add_connection

/* The namespace OpenFaaS puts functions in: NAME and NAME.openfaas-fn are
 * the same function. */
#define GW_NAMESPACE "openfaas-fn"

struct gw_auth;
struct gw_metrics;
struct gw_async;
struct gw_fn;
struct gw_logreq;
struct gw_areq;
struct gw_pull;

struct gateway {
	struct daemon *d;
	struct loop *l;
	struct MHD_Daemon *mhd;
	struct loop_watch *w; /* libmicrohttpd's epoll descriptor */
	struct gw_auth *auth;
	uint64_t max_body;       /* bytes of a request body, beyond: 413 */
	struct gw_req *inflight; /* requests that suspend their connection */
	bool stopping;           /* gateway_stop: no new invocation may suspend a connection */
	/* every connection, the longest waiting for a request first */
	struct gw_conn *conns, **conns_tail;
	unsigned n_conns, max_conns;
	uint64_t header_ns; /* a request's head must come within this */
	struct gw_metrics *metrics;
	struct gw_async *async;
};

/* A request (libmicrohttpd's per-request context). */
struct gw_req {
	struct gateway *g;
	struct MHD_Connection *mc;
	char *target;   /* the request target as sent: the raw path and query */
	bool begun;     /* its head was seen */
	bool too_large; /* its body went past the limit (read and dropped) */
	uint64_t dropped, received;
	struct fc_buf body; /* a control route's body */
	bool suspended, client_gone, inflight;
	struct loop_watch *client_w; /* the client's socket while suspended */
	struct gw_fn *fn;            /* /function/NAME */
	struct gw_areq *async;       /* /async-function/NAME */
	struct gw_logreq *logs;      /* /system/logs */
	struct gw_pull *pull;        /* a deploy's image pulled first */
	/* its route's part when its client leaves while it is suspended (a
	 * classic function is killed, an HTTP instance freed, a follow ends) */
	void (*gone)(struct gw_req *q);
	struct gw_req *next; /* in g->inflight */
};

/* ---- gw-http.c ------------------------------------------------------------------- */

enum MHD_Result gw_respond(struct MHD_Connection *mc, unsigned status, const char *type,
                           const char *data, size_t len);
enum MHD_Result gw_respond_text(struct MHD_Connection *mc, unsigned status, const char *msg);
/* msg: "<e's message>\n" (or "failed"). */
enum MHD_Result gw_respond_error(struct MHD_Connection *mc, unsigned status,
                                 const struct fc_error *e);
enum MHD_Result gw_respond_too_large(struct gw_req *q);
/* Load libmicrohttpd into mhd_api (once). */
int gw_mhd_load(struct fc_error **err);
/* Suspend q's connection (watching its client, who may leave meanwhile:
 * then q->gone), resume it; both idempotent. A suspended request is in
 * g->inflight until gw_req_done. */
void gw_suspend(struct gw_req *q);
void gw_resume(struct gw_req *q);
void gw_req_done(struct gw_req *q);
/* A function name in a route: NAME or NAME.openfaas-fn; NULL for another
 * namespace (the caller answers 404). Freed by the caller. */
char *gw_fn_name(const char *s, size_t len);
/* The query's value of key (unescaped; NULL when absent). Freed by the caller. */
char *gw_query(struct gw_req *q, const char *key);
/* The request's headers as a list (freed with gw_headers_free). */
void gw_headers(struct gw_req *q, struct http_hdr **h, size_t *n);
void gw_headers_free(struct http_hdr *h, size_t n);
/* The client's address ("127.0.0.1"), for X-Forwarded-For. */
void gw_peer(struct gw_req *q, char *buf, size_t len);

#endif /* FC_HAVE_MHD */
#endif
