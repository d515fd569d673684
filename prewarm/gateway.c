/* SPDX-License-Identifier: MIT */
/* gateway.c: an HTTP API compatible with OpenFaaS's faas-provider, so that
 * its gateway, faas-cli and the certifier drive fcstart as they drive faasd:
 * the open routes GET /healthz and ANY /function/NAME[/PATH] (gw-function.c),
 * /async-function/NAME[/PATH] (gw-async.c), and the control routes under
 * /system/ with /metrics (gw-system.c), which need basic auth (auth.c).
 * libmicrohttpd runs without a thread of its own: its epoll descriptor sits
 * in the daemon's poll loop; a request that waits for a function suspends
 * its connection and is resumed when there is something to do. This file:
 * the connections and their limits, auth, and the dispatch; what the routes
 * share (libmicrohttpd's table, answers, suspended requests) is gw-http.c. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "auth.h"
#include "frontends.h"
#include "gw-async.h"
#include "gw-function.h"
#include "gw-pull.h"
#include "gw-system.h"
#include "metrics.h"

#ifdef FC_HAVE_MHD

/* A client connection (libmicrohttpd's socket context). Between requests,
 * from its accept or its last answer, it has header_ns to send a request's
 * head; past that, or when the gateway runs out of connections and it is the
 * one that waited longest, it is shut down (libmicrohttpd then reads its end
 * and closes it). */
struct gw_conn {
	struct MHD_Connection *mc;
	int fd;
	bool busy;      /* a request of its is being read, run or answered */
	bool shut;      /* shut down: libmicrohttpd closes it next */
	uint64_t since; /* when it began to wait for a request */
	struct gw_conn *next, **prevp;
};

/* ---- answers ------------------------------------------------------------------- */

static enum MHD_Result respond_unauthorized(struct MHD_Connection *mc)
{
	static const char msg[] = "unauthorized: /system/... needs basic auth\n";
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(sizeof(msg) - 1, (void *)msg, MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(r, "Content-Type", "text/plain");
	MHD_add_response_header(r, "WWW-Authenticate", "Basic realm=\"fcstart\"");
	enum MHD_Result ret = MHD_queue_response(mc, 401, r);
	MHD_destroy_response(r);
	return ret;
}

/* ---- connections ---------------------------------------------------------------- */

static void conn_unlink(struct gateway *g, struct gw_conn *c)
{
	*c->prevp = c->next;
	if (c->next)
		c->next->prevp = c->prevp;
	else
		g->conns_tail = c->prevp;
}

static void conn_append(struct gateway *g, struct gw_conn *c)
{
	c->next = NULL;
	c->prevp = g->conns_tail;
	*g->conns_tail = c;
	g->conns_tail = &c->next;
}

static void conn_shut(struct gw_conn *c, const char *why)
{
	if (c->shut)
		return;
	c->shut = true;
	fc_log(FC_LOG_DEBUG, "HTTP gateway: connection %d closed: %s", c->fd, why);
	shutdown(c->fd, SHUT_RDWR);
}

/* libmicrohttpd's socket context of mc */
static struct gw_conn *conn_of(struct MHD_Connection *mc)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci ? ci->socket_context : NULL;
}

static void notify_connection(void *cls, struct MHD_Connection *mc, void **socket_context,
                              enum MHD_ConnectionNotificationCode toe)
{
	struct gateway *g = cls;
	if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		struct gw_conn *c = *socket_context;
		if (c) {
			conn_unlink(g, c);
			g->n_conns--;
			free(c);
		}
		*socket_context = NULL;
		return;
	}
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct gw_conn *c = fc_calloc(1, sizeof(*c));
	c->mc = mc;
	c->fd = ci ? ci->connect_fd : -1;
	c->since = fc_now_ns();
	conn_append(g, c);
	g->n_conns++;
	*socket_context = c;
	/* Out of connections: the one that waited longest for a request
	 * goes, so that idle or half-sent connections (slow clients, or an
	 * attacker's) never lock the others out. A few are kept in reserve:
	 * libmicrohttpd stops accepting at the limit itself. */
	if (g->n_conns + 8 > g->max_conns)
		for (struct gw_conn *o = g->conns; o && o != c; o = o->next)
			if (!o->busy && !o->shut) {
				conn_shut(o, "the gateway is out of connections");
				break;
			}
}

/* The header timeout: connections that did not send a request's head in
 * time go. Returns ms until the next would, or -1. */
static int conns_expire(struct gateway *g, uint64_t now)
{
	for (struct gw_conn *c = g->conns; c; c = c->next) {
		if (c->busy || c->shut)
			continue;
		if (now - c->since < g->header_ns)
			return (int)((c->since + g->header_ns - now) / 1000000 + 1);
		conn_shut(c, "no request head within the header timeout");
	}
	return -1;
}

static int before(void *data, uint64_t now)
{
	struct gateway *g = data;
	MHD_UNSIGNED_LONG_LONG t;
	int timeout = -1;
	if (MHD_get_timeout(g->mhd, &t) == MHD_YES)
		timeout = t > INT32_MAX ? INT32_MAX : (int)t;
	if (g->inflight && (timeout < 0 || timeout > 50))
		timeout = 50; /* a resumed connection is served by the next MHD_run */
	int expire = conns_expire(g, now);
	if (expire >= 0 && (timeout < 0 || expire < timeout))
		timeout = expire;
	return timeout;
}

static void after(void *data, uint64_t now)
{
	struct gateway *g = data;
	conns_expire(g, now);
	MHD_run(g->mhd);
}

static void on_mhd(void *data, short revents)
{
	(void)data; /* MHD_run() in the after hook serves it */
	(void)revents;
}

/* ---- libmicrohttpd's callbacks -------------------------------------------------- */

/* Each request gets its context here, with the request target as the client
 * sent it (libmicrohttpd gives the handler the path unescaped and the query
 * parsed; a function gets them as they came). */
static void *uri_logger(void *cls, const char *uri, struct MHD_Connection *mc)
{
	struct gw_req *q = fc_calloc(1, sizeof(*q));
	q->g = cls;
	q->mc = mc;
	q->target = fc_strdup(uri ? uri : "/");
	return q;
}

static bool prefix(const char *url, const char *p)
{
	return strncmp(url, p, strlen(p)) == 0;
}

/* The head of a request: auth, the routes that stream their body. */
static enum MHD_Result begin(struct gw_req *q, const char *url, const char *method)
{
	struct gateway *g = q->g;
	struct MHD_Connection *mc = q->mc;
	q->begun = true;
	/* its head came: the header timeout is over for this request */
	struct gw_conn *c = conn_of(mc);
	if (c)
		c->busy = true;
	if (g->stopping)
		return MHD_NO; /* a request pipelined behind one that gateway_stop ends */
	/* As OpenFaaS: invocations and the health check are open, the rest
	 * (the /system/... control API, /metrics) needs the credentials.
	 * Answered before any body is read. */
	bool open_route = FC_STREQ(url, "/healthz") || prefix(url, "/function/") ||
	                  prefix(url, "/async-function/");
	if (!open_route && !gw_auth_check(g->auth, MHD_lookup_connection_value(mc, MHD_HEADER_KIND,
	                                                                       "Authorization"))) {
		fc_log(FC_LOG_DEBUG, "HTTP gateway: %s %s without valid credentials: 401", method,
		       url);
		return respond_unauthorized(mc);
	}
	/* a body announced too large is refused before it is read */
	const char *cl = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "Content-Length");
	if (cl && strtoull(cl, NULL, 10) > g->max_body)
		return gw_respond_too_large(q);
	if (prefix(url, "/function/")) {
		const char *name = url + 10;
		return gw_function_begin(q, method, name, strcspn(name, "/"));
	}
	if (prefix(url, "/async-function/")) {
		const char *name = url + 16;
		return gw_async_begin(q, method, name, strcspn(name, "/"));
	}
	return MHD_YES;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *mc, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
	struct gw_req *q = *con_cls;
	(void)cls;
	(void)version;
	if (!q->begun)
		return begin(q, url, method);
	if (*upload_size) {
		/* A body past the limit (chunked: libmicrohttpd cannot answer
		 * before the body ends): the rest is read and dropped, and
		 * answered 413 then; past 4 times the limit the connection is
		 * closed. */
		if (q->too_large || q->received + *upload_size > q->g->max_body) {
			if (!q->too_large && q->fn)
				gw_function_free(q); /* the invocation ends here */
			q->too_large = true;
			q->dropped += *upload_size;
			*upload_size = 0;
			return q->dropped > 4 * q->g->max_body ? MHD_NO : MHD_YES;
		}
		if (q->fn) {
			size_t before_n = *upload_size;
			enum MHD_Result r = gw_function_body(q, upload, upload_size);
			q->received += before_n - *upload_size;
			return r;
		}
		if (q->async) {
			q->received += *upload_size;
			return gw_async_body(q, upload, upload_size);
		}
		fc_buf_append(&q->body, upload, *upload_size);
		q->received += *upload_size;
		*upload_size = 0;
		return MHD_YES;
	}
	if (q->client_gone)
		return MHD_NO; /* it left, or the gateway stops */
	if (q->too_large)
		return gw_respond_too_large(q);
	if (q->fn)
		return gw_function_end(q);
	if (q->async)
		return gw_async_end(q, method);
	if (q->body.data == NULL)
		fc_buf_append(&q->body, "", 0);
	if (FC_STREQ(url, "/healthz"))
		return gw_respond_text(mc, 200, "OK");
	if (prefix(url, "/system/") || FC_STREQ(url, "/metrics"))
		return gw_system(q, url, method);
	return gw_respond_text(mc, 404, "not found\n");
}

static void completed(void *cls, struct MHD_Connection *mc, void **con_cls,
                      enum MHD_RequestTerminationCode tc)
{
	struct gateway *g = cls;
	struct gw_req *q = *con_cls;
	(void)tc;
	/* answered: the connection waits for its next request, and is the
	 * newest to do so */
	struct gw_conn *c = conn_of(mc);
	if (c && c->busy) {
		c->busy = false;
		c->since = fc_now_ns();
		conn_unlink(g, c);
		conn_append(g, c);
	}
	if (!q)
		return;
	gw_req_done(q);
	gw_function_free(q);
	gw_logs_free(q);
	gw_async_free(q);
	gw_pull_free(q);
	free(q->target);
	free(q->body.data);
	free(q);
	*con_cls = NULL;
}

/* ---- start and stop ----------------------------------------------------------- */

int gateway_start(struct daemon *d, struct loop *l, const struct fcpool_serve_opts *o,
                  struct gateway **out, struct fc_error **err)
{
	const char *addr = o->http ? o->http : "(no listening socket)",
	           *auth_file = o->basic_auth_file;
	struct sockaddr_in sa = {.sin_family = AF_INET};
	if (o->http) {
		_cleanup_free_ char *host = fc_strdup(addr);
		char *colon = strrchr(host, ':');
		if (!colon)
			return fc_error_set(err, EINVAL, "--http `%s`: expected ADDR:PORT", addr);
		*colon = 0;
		sa.sin_port = htons((uint16_t)atoi(colon + 1));
		if (inet_pton(AF_INET, host, &sa.sin_addr) != 1 || !sa.sin_port)
			return fc_error_set(err, EINVAL, "--http `%s`: expected an IPv4 ADDR:PORT",
			                    addr);
	}
	if (gw_mhd_load(err) < 0)
		return -ENOENT;
	struct gateway *g = fc_calloc(1, sizeof(*g));
	g->d = d;
	g->l = l;
	g->max_body = o->max_body ? o->max_body : FCPOOL_DEFAULT_MAX_BODY;
	_cleanup_free_ char *def = auth_file ? NULL : fc_asprintf("%s/basic-auth", daemon_root(d));
	const char *af = auth_file ? auth_file : def;
	bool created = false;
	int r = gw_auth_load(af, !auth_file, &g->auth, &created, err);
	if (r < 0) {
		free(g);
		return r;
	}
	if (created)
		fc_log(
		    FC_LOG_INFO,
		    "HTTP gateway: created `%s` (mode 0600) with user `%s` and a random password",
		    af, gw_auth_user(g->auth));
	fc_log(FC_LOG_INFO,
	       "HTTP gateway: /system/... needs basic auth: user `%s`, credentials in `%s`",
	       gw_auth_user(g->auth), af);
	g->conns_tail = &g->conns;
	g->metrics = gw_metrics_new();
	g->max_conns = o->max_connections ? o->max_connections : FCPOOL_DEFAULT_MAX_CONNECTIONS;
	g->header_ns =
	    (o->header_timeout_ms ? o->header_timeout_ms : FCPOOL_DEFAULT_HEADER_TIMEOUT_MS) *
	    1000000ULL;
	unsigned idle_s = o->conn_idle_timeout_ms
	                      ? (unsigned)((o->conn_idle_timeout_ms + 999) / 1000)
	                      : FCPOOL_DEFAULT_CONN_IDLE_TIMEOUT_MS / 1000;
	/* a descriptor per connection, besides the sandboxes' and the rest */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)g->max_conns + 1024) {
		rl.rlim_cur = rl.rlim_max < (rlim_t)g->max_conns + 1024
		                  ? rl.rlim_max
		                  : (rlim_t)g->max_conns + 1024;
		setrlimit(RLIMIT_NOFILE, &rl);
		if (rl.rlim_cur < (rlim_t)g->max_conns + 1024) {
			unsigned m = rl.rlim_cur > 1024 + 64 ? (unsigned)(rl.rlim_cur - 1024) : 64;
			fc_log(FC_LOG_WARN,
			       "HTTP gateway: %u connections at most (RLIMIT_NOFILE %llu), not %u",
			       m, (unsigned long long)rl.rlim_cur, g->max_conns);
			g->max_conns = m;
		}
	}
	/* without o->http: no listening socket (MHD_OPTION_SOCK_ADDR is then
	 * the end of the options), connections from gateway_add_connection */
	g->mhd = MHD_start_daemon(
	    MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | (o->http ? 0 : MHD_USE_NO_LISTEN_SOCKET), 0,
	    NULL, NULL, handler, g, MHD_OPTION_NOTIFY_COMPLETED, completed, g,
	    MHD_OPTION_URI_LOG_CALLBACK, uri_logger, g, MHD_OPTION_NOTIFY_CONNECTION,
	    notify_connection, g, MHD_OPTION_CONNECTION_LIMIT, g->max_conns,
	    MHD_OPTION_CONNECTION_TIMEOUT, idle_s, o->http ? MHD_OPTION_SOCK_ADDR : MHD_OPTION_END,
	    (struct sockaddr *)&sa, MHD_OPTION_END);
	if (!g->mhd) {
		r = fc_error_set(err, errno ? errno : EADDRINUSE, "HTTP gateway on `%s`", addr);
		gw_metrics_free(g->metrics);
		gw_auth_free(g->auth);
		free(g);
		return r;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(g->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	g->w = loop_watch(l, info ? info->epoll_fd : -1, POLLIN, on_mhd, g);
	loop_hook(l, before, after, g);
	gw_async_start(g);
	fc_log(FC_LOG_INFO, "HTTP gateway (OpenFaaS faas-provider API) on http://%s", addr);
	*out = g;
	return 0;
}

int gateway_add_connection(struct gateway *g, int fd, struct fc_error **err)
{
	struct sockaddr_in peer = {.sin_family = AF_INET,
	                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (MHD_add_connection(g->mhd, fd, (struct sockaddr *)&peer, sizeof(peer)) != MHD_YES)
		return fc_error_set(err, errno ? errno : EIO, "HTTP gateway: add connection %d",
		                    fd);
	return 0;
}

void gateway_stop(struct gateway *g)
{
	if (!g)
		return;
	loop_unhook(g->l, g);
	loop_unwatch(g->w);
	/* libmicrohttpd aborts the process when it is stopped with suspended
	 * connections: end the invocations under way, resume theirs, let it
	 * take them back; a request pipelined behind one of them is refused
	 * then, not invoked (and suspended) by this last MHD_run */
	g->stopping = true;
	for (struct gw_req *q = g->inflight; q; q = q->next) {
		q->client_gone = true;
		gw_function_free(q);
		gw_logs_free(q);
		gw_resume(q);
	}
	MHD_run(g->mhd);
	MHD_stop_daemon(g->mhd); /* completes every request */
	gw_async_stop(g);
	gw_metrics_free(g->metrics);
	gw_auth_free(g->auth);
	free(g);
}

#else /* !FC_HAVE_MHD */

int gateway_start(struct daemon *d, struct loop *l, const struct fcpool_serve_opts *o,
                  struct gateway **out, struct fc_error **err)
{
	return fc_error_set(err, ENOTSUP, "HTTP gateway `%s`: built without libmicrohttpd",
	                    o->http);
}
int gateway_add_connection(struct gateway *g, int fd, struct fc_error **err)
{
	close(fd);
	return fc_error_set(err, ENOTSUP, "HTTP gateway: built without libmicrohttpd");
}
void gateway_stop(struct gateway *g) {}
#endif
