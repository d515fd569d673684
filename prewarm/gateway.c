/* SPDX-License-Identifier: MIT */
/* gateway.c: an HTTP API compatible with OpenFaaS's faas-provider (so its
 * gateway and faas-cli can drive fcstart): GET /healthz; GET, POST, PUT and
 * DELETE /system/functions; GET /system/function/NAME; POST
 * /system/scale-function/NAME; ANY /function/NAME (classic functions: the
 * body is the request on stdin, the response the function's stdout).
 * libmicrohttpd runs without a thread of its own: its epoll descriptor sits in
 * the daemon's poll loop, and invocations suspend their HTTP connection until
 * the function exits. */
#include <fcntl.h>
#include <math.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include "auth.h"
#include "frontends.h"
#include "proto.h"

#ifdef FC_HAVE_MHD
#include <dlfcn.h>
#include <microhttpd.h>

/* libmicrohttpd is loaded when the gateway starts, not linked: it brings
 * GnuTLS and seven more libraries that every other fcstart command (image
 * import, invoke, ...) would otherwise load at its start for nothing, about
 * 1 ms warm and 20 ms with the page cache dropped. Soname 12 is the ABI of
 * every libmicrohttpd 0.9.x; the unversioned name is the -dev package's. */
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
	X(MHD_suspend_connection)                                                                  \
	X(MHD_resume_connection)                                                                   \
	X(MHD_get_connection_info)                                                                 \
	X(MHD_create_response_from_callback)                                                       \
	X(MHD_add_connection)

static struct {
#define X(f) __typeof__(f) *f;
	MHD_FUNCS(X)
#undef X
} mhdl;

static int mhd_load(struct fc_error **err)
{
	static void *lib;
	if (lib)
		return 0;
	void *h = dlopen("libmicrohttpd.so.12", RTLD_NOW | RTLD_LOCAL);
	if (!h)
		h = dlopen("libmicrohttpd.so", RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return fc_error_set(err, ENOENT, "HTTP gateway: load libmicrohttpd: %s", dlerror());
#define X(f)                                                                                       \
	if (!(*(void **)&mhdl.f = dlsym(h, #f))) {                                                 \
		dlclose(h);                                                                        \
		return fc_error_set(err, ENOENT, "HTTP gateway: libmicrohttpd lacks " #f);         \
	}
	MHD_FUNCS(X)
#undef X
	lib = h;
	return 0;
}

#define MHD_start_daemon                  mhdl.MHD_start_daemon
#define MHD_stop_daemon                   mhdl.MHD_stop_daemon
#define MHD_run                           mhdl.MHD_run
#define MHD_get_timeout                   mhdl.MHD_get_timeout
#define MHD_get_daemon_info               mhdl.MHD_get_daemon_info
#define MHD_create_response_from_buffer   mhdl.MHD_create_response_from_buffer
#define MHD_add_response_header           mhdl.MHD_add_response_header
#define MHD_queue_response                mhdl.MHD_queue_response
#define MHD_destroy_response              mhdl.MHD_destroy_response
#define MHD_lookup_connection_value       mhdl.MHD_lookup_connection_value
#define MHD_suspend_connection            mhdl.MHD_suspend_connection
#define MHD_resume_connection             mhdl.MHD_resume_connection
#define MHD_get_connection_info           mhdl.MHD_get_connection_info
#define MHD_create_response_from_callback mhdl.MHD_create_response_from_callback
#define MHD_add_connection                mhdl.MHD_add_connection

struct gateway {
	struct daemon *d;
	struct loop *l;
	struct MHD_Daemon *mhd;
	struct loop_watch *w; /* libmicrohttpd's epoll descriptor */
	struct gw_auth *auth;
	uint64_t max_body;       /* bytes of a request body, beyond: 413 */
	struct gw_req *inflight; /* invocations under way */
	bool stopping;           /* gateway_stop: no new invocation may suspend a connection */
	/* every connection, the longest waiting for a request first */
	struct gw_conn *conns, **conns_tail;
	unsigned n_conns, max_conns;
	uint64_t header_ns; /* a request's head must come within this */
};

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

struct gw_req {
	struct gateway *g;
	struct MHD_Connection *mc;
	struct fc_buf body, out;
	int out_fd; /* the function's stdout (read end), or the connection to an HTTP function */
	struct loop_watch *out_w;
	struct loop_watch *client_w; /* the client's socket while the connection is suspended */
	bool started, exited, ready, suspended;
	bool client_gone; /* the client closed its connection mid-invocation */
	bool timed_out;   /* the function's timeout killed it */
	bool relaying;    /* the request still goes to an HTTP instance */
	struct fc_buf req;
	size_t req_off;
	enum { GW_HELD = 0, GW_STREAM_PENDING, GW_STREAMING } stream;
	size_t out_off;   /* bytes of out given to libmicrohttpd while streaming */
	bool http;        /* an HTTP-mode function */
	bool too_large;   /* the body went past the limit (read and dropped) */
	uint64_t dropped; /* bytes of it dropped */
	char *method, *path, *ctype;
	char *resp_type;
	int status; /* the function's exit status */
	unsigned http_status;
	char *error;
	struct daemon_inv *inv;
	struct gw_req *next;
};

static enum MHD_Result respond(struct MHD_Connection *mc, unsigned status, const char *type,
                               const char *data, size_t len)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
	if (type)
		MHD_add_response_header(r, "Content-Type", type);
	enum MHD_Result ret = MHD_queue_response(mc, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result respond_text(struct MHD_Connection *mc, unsigned status, const char *msg)
{
	return respond(mc, status, "text/plain", msg, strlen(msg));
}

static enum MHD_Result respond_error(struct MHD_Connection *mc, unsigned status,
                                     const struct fc_error *e)
{
	_cleanup_free_ char *msg = fc_asprintf("%s\n", e && e->msg ? e->msg : "failed");
	return respond_text(mc, status, msg);
}

static enum MHD_Result respond_too_large(struct gw_req *q)
{
	_cleanup_free_ char *msg =
	    fc_asprintf("request body too large: at most %llu bytes (fcstart serve --max-body)\n",
	                (unsigned long long)q->g->max_body);
	return respond_text(q->mc, 413, msg);
}

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

/* ---- the control routes ------------------------------------------------------ */

/* POST/PUT /system/functions: a faas-provider FunctionDeployment. */
static enum MHD_Result deploy(struct gw_req *q)
{
	struct fcpool_fn_spec spec;
	struct fc_error *e = NULL;
	enum MHD_Result r;
	if (proto_openfaas_deployment(q->body.data, &spec, &e) < 0)
		r = respond_error(q->mc, 400, e);
	else if (daemon_deploy(q->g->d, &spec, &e) < 0)
		r = respond_error(q->mc, e && e->errnum == ENOENT ? 404 : 400, e);
	else
		r = respond_text(q->mc, 202, "");
	fcpool_fn_spec_clear(&spec);
	fc_error_free(e);
	return r;
}

/* GET /system/functions, or one function's status (GET /system/function/NAME). */
static enum MHD_Result list(struct gw_req *q, const char *one)
{
	struct fcpool_fn_list l;
	if (daemon_list(q->g->d, one, false, &l, NULL) < 0)
		return respond_text(q->mc, 404, "no such function\n");
	struct fc_buf b = {0};
	proto_openfaas_status_json(&l, one != NULL, &b);
	daemon_list_free(&l);
	enum MHD_Result r = respond(q->mc, 200, "application/json", b.data, b.len);
	free(b.data);
	return r;
}

static enum MHD_Result remove_fn(struct gw_req *q)
{
	_cleanup_free_ char *name = NULL;
	struct fc_error *e = NULL;
	if (proto_openfaas_delete(q->body.data, &name, &e) < 0) {
		enum MHD_Result r = respond_error(q->mc, 400, e);
		fc_error_free(e);
		return r;
	}
	if (daemon_remove(q->g->d, name, &e) < 0) {
		fc_error_free(e);
		return respond_text(q->mc, 404, "no such function\n");
	}
	return respond_text(q->mc, 202, "");
}

/* POST /system/scale-function/NAME {"replicas": N}: N sandboxes kept ready
 * (the pool's min). */
static enum MHD_Result scale(struct gw_req *q, const char *name)
{
	struct fcpool_fn_list l;
	if (daemon_list(q->g->d, name, false, &l, NULL) < 0)
		return respond_text(q->mc, 404, "no such function\n");
	double max = l.fns[0].max;
	daemon_list_free(&l);
	double replicas;
	struct fc_error *e = NULL;
	enum MHD_Result r;
	if (proto_openfaas_scale(q->body.data, &replicas, &e) < 0)
		r = respond_error(q->mc, 400, e);
	else if (replicas < 0)
		r = respond_text(q->mc, 400, "expected {\"replicas\": N}\n");
	else if (daemon_scale(q->g->d, name, replicas,
	                      replicas > max ? replicas
	                      : max < 1      ? 1
	                                     : max,
	                      &e) < 0)
		r = respond_error(q->mc, 400, e);
	else
		r = respond_text(q->mc, 202, "");
	fc_error_free(e);
	return r;
}

/* ---- invocations ------------------------------------------------------------- */

/* A classic function's output is held up to this much while it runs, so that
 * a short answer still gets its status from the exit code (200 or 500); past
 * it, the answer streams (200, chunked) and a function that then fails cuts
 * it short. An HTTP function's response streams once its head is read (at
 * most this much). Either way the daemon holds at most this much of an
 * answer: it reads the function's output only as fast as the client takes
 * it, so a function that writes more blocks on its pipe or socket. */
#define GW_HOLD (1u << 20)

static void release(struct gw_req *q)
{
	daemon_release(q->g->d, TAKE_PTR(q->inv));
}

static void stop_output(struct gw_req *q)
{
	loop_unwatch(q->out_w);
	q->out_w = NULL;
	if (q->out_fd >= 0)
		close(q->out_fd);
	q->out_fd = -1;
}

static void on_output(void *data, short revents);
static void resume(struct gw_req *q);

static void watch_output(struct gw_req *q, short events)
{
	loop_unwatch(q->out_w);
	q->out_w = q->out_fd >= 0 ? loop_watch(q->g->l, q->out_fd, events, on_output, q) : NULL;
}

/* The client's side of a suspended connection: libmicrohttpd does not look
 * at it until it is resumed, so a client that leaves mid-invocation would go
 * unnoticed (and its function run on, to its timeout). */
static void on_client(void *data, short revents)
{
	struct gw_req *q = data;
	if (!(revents & (POLLRDHUP | POLLHUP | POLLERR)))
		return;
	fc_log(FC_LOG_DEBUG, "HTTP gateway: the client of %s %s left; its invocation ends",
	       q->method ? q->method : "?", q->path ? q->path : "?");
	q->client_gone = true;
	release(q); /* a classic function is killed, an HTTP instance freed */
	stop_output(q);
	if (!q->exited) {
		q->error = fc_strdup("the client went away\n");
		q->http_status = 499;
		q->exited = true;
	}
	/* resumed by finish_if_done, or here when it streams: libmicrohttpd
	 * then finds the socket closed and completes the request */
	if (q->stream)
		resume(q);
}

static void suspend(struct gw_req *q)
{
	if (q->suspended)
		return;
	MHD_suspend_connection(q->mc);
	q->suspended = true;
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(q->mc, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci)
		q->client_w = loop_watch(q->g->l, ci->connect_fd, POLLRDHUP, on_client, q);
}

static void resume(struct gw_req *q)
{
	if (!q->suspended)
		return;
	loop_unwatch(q->client_w);
	q->client_w = NULL;
	q->suspended = false;
	MHD_resume_connection(q->mc);
}

/* An HTTP function's response head: 1 parsed (status, Content-Type; the
 * body's start left in q->out), 0 not complete yet, -1 not HTTP. */
static int parse_http_head(struct gw_req *q)
{
	const char *d = q->out.data ? q->out.data : "";
	const char *end = memmem(d, q->out.len, "\r\n\r\n", 4),
	           *lf = memmem(d, q->out.len, "\n\n", 2);
	size_t sep = 4;
	if (lf && (!end || lf < end)) {
		end = lf;
		sep = 2;
	}
	if (!end)
		return q->out.len >= GW_HOLD ? -1 : 0;
	int status = 0;
	if (sscanf(d, "HTTP/%*d.%*d %d", &status) != 1 || status < 100 || status > 999)
		return -1;
	q->http_status = (unsigned)status;
	_cleanup_free_ char *head = fc_strndup(d, (size_t)(end - d));
	for (char *save = NULL, *line = strtok_r(head, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strncasecmp(line, "Content-Type:", 13) == 0 && !q->resp_type) {
			char *v = line + 13;
			v += strspn(v, " \t");
			v[strcspn(v, "\r")] = 0;
			q->resp_type = fc_strdup(v);
		}
	}
	size_t off = (size_t)(end - d) + sep;
	memmove(q->out.data, q->out.data + off, q->out.len - off);
	q->out.len -= off;
	return 1;
}

/* Begin streaming the answer: the handler queues it once resumed. */
static void start_stream(struct gw_req *q)
{
	q->stream = GW_STREAM_PENDING;
	if (!q->http)
		q->http_status = 200;
	loop_unwatch(q->out_w); /* the reader reads on, as fast as the client takes it */
	q->out_w = NULL;
	resume(q);
}

static void on_output(void *data, short revents)
{
	struct gw_req *q = data;
	if (q->relaying) {
		/* the request still goes to the HTTP instance */
		ssize_t n = send(q->out_fd, q->req.data + q->req_off, q->req.len - q->req_off,
		                 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n < 0) {
			q->error =
			    fc_asprintf("send the request to the function: %s\n", strerror(errno));
			q->http_status = 502;
			q->exited = true;
			stop_output(q);
			release(q); /* the instance is free again */
			return;
		}
		q->req_off += (size_t)n;
		if (q->req_off < q->req.len)
			return;
		shutdown(q->out_fd, SHUT_WR);
		q->relaying = false;
		free(q->req.data);
		q->req = (struct fc_buf){0};
		watch_output(q, POLLIN);
		return;
	}
	if (q->stream) {
		/* the reader waits for this: no more watching until it asks */
		loop_unwatch(q->out_w);
		q->out_w = NULL;
		resume(q);
		return;
	}
	(void)revents;
	for (;;) {
		size_t room = GW_HOLD - q->out.len;
		if (!room)
			break;
		char buf[65536];
		ssize_t r = read(q->out_fd, buf, room < sizeof(buf) ? room : sizeof(buf));
		if (r > 0) {
			fc_buf_append(&q->out, buf, (size_t)r);
			continue;
		}
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		stop_output(q); /* end of output */
		break;
	}
	if (q->http) {
		int h = parse_http_head(q);
		if (h > 0) {
			start_stream(q);
		} else if (h < 0 || q->out_fd < 0) {
			q->error = fc_strdup(h < 0 ? "the function's response is not HTTP\n"
			                           : "the function closed the connection "
			                             "without a response\n");
			q->http_status = 502;
			q->exited = true;
			stop_output(q);
			release(q);
		}
	} else if (q->out.len >= GW_HOLD && q->out_fd >= 0) {
		start_stream(q);
	}
}

/* Send the request to an HTTP function's instance (HTTP/1.0, without
 * blocking: a function that does not read it holds only itself up), then read
 * its response. */
static void relay(struct gw_req *q, int sock)
{
	fc_buf_printf(
	    &q->req,
	    "%s %s HTTP/1.0\r\nHost: localhost\r\nConnection: close\r\nContent-Length: %zu\r\n",
	    q->method, q->path, q->body.len);
	if (q->ctype)
		fc_buf_printf(&q->req, "Content-Type: %s\r\n", q->ctype);
	fc_buf_printf(&q->req, "\r\n");
	if (q->body.len)
		fc_buf_append(&q->req, q->body.data, q->body.len);
	fcntl(sock, F_SETFL, fcntl(sock, F_GETFL) | O_NONBLOCK);
	q->out_fd = sock;
	q->relaying = true;
	watch_output(q, POLLOUT);
}

/* libmicrohttpd asks for the next bytes of a streamed answer. */
static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct gw_req *q = cls;
	(void)pos;
	if (q->client_gone)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	if (q->out_off < q->out.len) {
		size_t n = q->out.len - q->out_off < max ? q->out.len - q->out_off : max;
		memcpy(buf, q->out.data + q->out_off, n);
		q->out_off += n;
		if (q->out_off == q->out.len) {
			free(q->out.data);
			q->out = (struct fc_buf){0};
			q->out_off = 0;
		}
		return (ssize_t)n;
	}
	if (q->out_fd >= 0) {
		ssize_t r = read(q->out_fd, buf, max);
		if (r > 0)
			return r;
		if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
			/* nothing yet: wait for the function, as slow as it is */
			watch_output(q, POLLIN);
			suspend(q);
			return 0;
		}
		stop_output(q);
	}
	if (q->http) {
		release(q); /* the instance answered: free for the next request */
		return MHD_CONTENT_READER_END_OF_STREAM;
	}
	if (!q->exited) {
		suspend(q); /* its exit status decides how the answer ends */
		return 0;
	}
	/* a function that failed after its answer began: the client sees it
	 * cut short (the chunked encoding left unfinished) */
	return q->status == 0 ? MHD_CONTENT_READER_END_OF_STREAM
	                      : MHD_CONTENT_READER_END_WITH_ERROR;
}

static enum MHD_Result respond_stream(struct gw_req *q)
{
	q->stream = GW_STREAMING;
	struct MHD_Response *r =
	    MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 65536, reader, q, NULL);
	MHD_add_response_header(r, "Content-Type",
	                        q->resp_type ? q->resp_type : "application/octet-stream");
	enum MHD_Result ret = MHD_queue_response(q->mc, q->http_status, r);
	MHD_destroy_response(r);
	return ret;
}

/* An invocation's events, typed (no JSON inside the daemon). */
static void on_event(void *owner, const struct fcpool_event *ev)
{
	struct gw_req *q = owner;
	switch (ev->kind) {
	case FCPOOL_EV_CONNECTED:
		relay(q, ev->sock);
		return;
	case FCPOOL_EV_EXIT:
		if (!q->http) {
			q->status = ev->status;
			q->timed_out = ev->timeout;
			q->http_status = ev->status == 0 ? 200 : ev->timeout ? 504 : 500;
			q->exited = true;
			if (q->stream)
				resume(q); /* a reader waits for the exit status */
		}
		/* an HTTP instance that died after it accepted: its response
		 * ends where the connection does */
		break;
	case FCPOOL_EV_ERROR:
		q->error = fc_asprintf("%s\n", ev->error ? ev->error : "invocation failed");
		q->http_status = ev->errnum == EBUSY ? 429 : ev->errnum == ENOENT ? 404 : 502;
		q->exited = true;
		break;
	case FCPOOL_EV_STARTED:
	default:
		return;
	}
	release(q);
}

/* ANY /function/NAME: classic functions get the body on stdin (a memfd) and
 * answer on stdout (a pipe); HTTP functions get the request relayed. */
static enum MHD_Result invoke(struct gw_req *q, const char *name)
{
	if (q->g->stopping)
		return respond_text(q->mc, 503, "the gateway is stopping\n");
	enum fcpool_mode mode;
	if (daemon_fn_mode(q->g->d, name, &mode, NULL) < 0)
		return respond_text(q->mc, 404, "no such function\n");
	q->http = mode == FCPOOL_HTTP;
	struct daemon_invoke_args a = {.name = name,
	                               .t_arrived = fc_now_ns(),
	                               .stdio = {-1, -1, -1},
	                               .event = on_event,
	                               .owner = q};
	if (!q->http) {
		int in = memfd_create("fcstart-gw", MFD_CLOEXEC), out[2];
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (in < 0 || null < 0 || pipe2(out, O_CLOEXEC) < 0 ||
		    (q->body.len && fc_write_all(in, q->body.data, q->body.len) < 0) ||
		    lseek(in, 0, SEEK_SET) < 0) {
			if (in >= 0)
				close(in);
			if (null >= 0)
				close(null);
			return respond_text(q->mc, 500, "cannot make the request's pipes\n");
		}
		fcntl(out[0], F_SETFL, O_NONBLOCK);
		a.stdio[0] = in;
		a.stdio[1] = out[1];
		a.stdio[2] = null;
		q->out_fd = out[0];
		watch_output(q, POLLIN);
	}
	q->started = true;
	q->next = q->g->inflight;
	q->g->inflight = q;
	suspend(q);
	if (daemon_invoke(q->g->d, &a, &q->inv, NULL) < 0) {
		q->error = fc_strdup("no such function\n");
		q->http_status = 404;
		q->exited = true;
	}
	return MHD_YES; /* answered once the function is done (the loop's after hook) */
}

/* A held answer, once the function is done and its output read. */
static void finish_if_done(struct gw_req *q)
{
	if (q->stream || !q->exited || q->out_fd >= 0 || q->ready)
		return;
	q->ready = true;
	resume(q);
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
		timeout = 50; /* exits may complete a request without any fd event */
	int expire = conns_expire(g, now);
	if (expire >= 0 && (timeout < 0 || expire < timeout))
		timeout = expire;
	return timeout;
}

static void after(void *data, uint64_t now)
{
	struct gateway *g = data;
	for (struct gw_req *q = g->inflight, *next; q; q = next) {
		next = q->next;
		finish_if_done(q);
	}
	conns_expire(g, now);
	MHD_run(g->mhd);
}

static void on_mhd(void *data, short revents)
{
	(void)data; /* MHD_run() in the after hook serves it */
	(void)revents;
}

/* ---- libmicrohttpd's callbacks -------------------------------------------------- */

static enum MHD_Result handler(void *cls, struct MHD_Connection *mc, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
	struct gateway *g = cls;
	struct gw_req *q = *con_cls;
	if (!q && g->stopping)
		return MHD_NO; /* a request pipelined behind one that gateway_stop ends */
	if (!q) {
		q = fc_calloc(1, sizeof(*q));
		q->g = g;
		q->mc = mc;
		q->out_fd = -1;
		*con_cls = q;
		/* its head came: the header timeout is over for this request */
		struct gw_conn *c = conn_of(mc);
		if (c)
			c->busy = true;
		/* As OpenFaaS: invocations and the health check are open, the
		 * rest (the /system/... control API) needs the credentials.
		 * Answered before any body is read. */
		bool open_route = FC_STREQ(url, "/healthz") || strncmp(url, "/function/", 10) == 0;
		if (!open_route &&
		    !gw_auth_check(g->auth, MHD_lookup_connection_value(mc, MHD_HEADER_KIND,
		                                                        "Authorization"))) {
			fc_log(FC_LOG_DEBUG, "HTTP gateway: %s %s without valid credentials: 401",
			       method, url);
			return respond_unauthorized(mc);
		}
		/* a body announced too large is refused before it is read */
		const char *cl = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "Content-Length");
		if (cl && strtoull(cl, NULL, 10) > g->max_body)
			return respond_too_large(q);
		return MHD_YES;
	}
	if (*upload_size) {
		/* A chunked body past the limit: libmicrohttpd cannot answer
		 * before the body ends, so the rest is read and dropped, and
		 * answered 413 then; past 4 times the limit the connection is
		 * closed. */
		if (q->too_large || q->body.len + *upload_size > g->max_body) {
			q->too_large = true;
			q->dropped += *upload_size;
			*upload_size = 0;
			return q->dropped > 4 * g->max_body ? MHD_NO : MHD_YES;
		}
		fc_buf_append(&q->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	if (q->too_large)
		return respond_too_large(q);
	if (q->started) {
		if (q->stream == GW_STREAM_PENDING && !q->client_gone)
			return respond_stream(q);
		if (!q->ready)
			return MHD_YES; /* spurious: still running */
		if (q->error)
			return respond_text(mc, q->http_status, q->error);
		return respond(mc, q->http_status,
		               q->resp_type ? q->resp_type : "application/octet-stream",
		               q->out.data ? q->out.data : "", q->out.len);
	}
	if (q->body.data == NULL)
		fc_buf_append(&q->body, "", 0);
	if (FC_STREQ(url, "/healthz"))
		return respond_text(mc, 200, "OK");
	if (FC_STREQ(url, "/system/functions")) {
		if (FC_STREQ(method, "GET"))
			return list(q, NULL);
		if (FC_STREQ(method, "POST") || FC_STREQ(method, "PUT"))
			return deploy(q);
		if (FC_STREQ(method, "DELETE"))
			return remove_fn(q);
		return respond_text(mc, 405, "method not allowed\n");
	}
	if (strncmp(url, "/system/function/", 17) == 0 && FC_STREQ(method, "GET"))
		return list(q, url + 17);
	if (strncmp(url, "/system/scale-function/", 23) == 0 && FC_STREQ(method, "POST"))
		return scale(q, url + 23);
	if (strncmp(url, "/function/", 10) == 0) {
		size_t nl = strcspn(url + 10, "/");
		_cleanup_free_ char *name = fc_strndup(url + 10, nl);
		const char *rest = url + 10 + nl;
		q->method = fc_strdup(method);
		q->path = fc_strdup(*rest ? rest : "/");
		const char *ct = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "Content-Type");
		q->ctype = ct ? fc_strdup(ct) : NULL;
		return invoke(q, name);
	}
	return respond_text(mc, 404, "not found\n");
}

static void completed(void *cls, struct MHD_Connection *mc, void **con_cls,
                      enum MHD_RequestTerminationCode tc)
{
	struct gateway *g = cls;
	struct gw_req *q = *con_cls;
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
	for (struct gw_req **p = &g->inflight; *p; p = &(*p)->next)
		if (*p == q) {
			*p = q->next;
			break;
		}
	/* the HTTP client left mid-invocation: a classic function is killed,
	 * an HTTP instance freed */
	release(q);
	stop_output(q);
	loop_unwatch(q->client_w);
	free(q->method);
	free(q->path);
	free(q->ctype);
	free(q->resp_type);
	free(q->body.data);
	free(q->req.data); /* what was still to go to an HTTP instance */
	free(q->out.data);
	free(q->error);
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
	if (mhd_load(err) < 0)
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
	    MHD_OPTION_NOTIFY_CONNECTION, notify_connection, g, MHD_OPTION_CONNECTION_LIMIT,
	    g->max_conns, MHD_OPTION_CONNECTION_TIMEOUT, idle_s,
	    o->http ? MHD_OPTION_SOCK_ADDR : MHD_OPTION_END, (struct sockaddr *)&sa,
	    MHD_OPTION_END);
	if (!g->mhd) {
		r = fc_error_set(err, errno ? errno : EADDRINUSE, "HTTP gateway on `%s`", addr);
		gw_auth_free(g->auth);
		free(g);
		return r;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(g->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	g->w = loop_watch(l, info ? info->epoll_fd : -1, POLLIN, on_mhd, g);
	loop_hook(l, before, after, g);
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
		release(q);
		stop_output(q);
		resume(q);
	}
	MHD_run(g->mhd);
	MHD_stop_daemon(g->mhd); /* completes every request */
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
