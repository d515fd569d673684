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
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include "auth.h"
#include "daemon.h"

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
	X(MHD_resume_connection)

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

#define MHD_start_daemon                mhdl.MHD_start_daemon
#define MHD_stop_daemon                 mhdl.MHD_stop_daemon
#define MHD_run                         mhdl.MHD_run
#define MHD_get_timeout                 mhdl.MHD_get_timeout
#define MHD_get_daemon_info             mhdl.MHD_get_daemon_info
#define MHD_create_response_from_buffer mhdl.MHD_create_response_from_buffer
#define MHD_add_response_header         mhdl.MHD_add_response_header
#define MHD_queue_response              mhdl.MHD_queue_response
#define MHD_destroy_response            mhdl.MHD_destroy_response
#define MHD_lookup_connection_value     mhdl.MHD_lookup_connection_value
#define MHD_suspend_connection          mhdl.MHD_suspend_connection
#define MHD_resume_connection           mhdl.MHD_resume_connection

struct gw_req {
	struct MHD_Connection *mc;
	struct fc_buf body, out;
	int out_fd; /* the function's stdout (read end) */
	bool started, exited, ready, suspended;
	bool http;        /* an HTTP-mode function: out_fd is the connection to it */
	bool too_large;   /* the body went past the limit (read and dropped) */
	uint64_t dropped; /* bytes of it dropped */
	char *method, *path, *ctype;
	char *resp_type;
	int status; /* the function's exit status */
	unsigned http_status;
	char *error;
	struct conn *c;
	struct gw_req *next; /* invocations in flight */
};

static struct MHD_Daemon *mhd;
static struct gw_req *inflight;
static struct gw_auth *auth;
static uint64_t max_body; /* bytes of a request body, beyond: 413 */

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

/* The request body as JSON (nesting checked first), or NULL with q->error
 * and q->http_status set. */
static yajl_val body_json(struct gw_req *q, const char *what)
{
	struct fc_error *e = NULL;
	_cleanup_free_ char *w = fc_asprintf("%s request body", what);
	yajl_val v = js_parse(q->body.data ? q->body.data : "", w, &e);
	if (!v) {
		q->error = fc_asprintf("%s\n", e->msg);
		q->http_status = 400;
		fc_error_free(e);
	}
	return v;
}

static enum MHD_Result respond_error(struct gw_req *q)
{
	return respond_text(q->mc, q->http_status, q->error);
}

static enum MHD_Result respond_too_large(struct MHD_Connection *mc)
{
	_cleanup_free_ char *msg =
	    fc_asprintf("request body too large: at most %llu bytes (fcstart serve --max-body)\n",
	                (unsigned long long)max_body);
	return respond_text(mc, 413, msg);
}

static void kv_array(struct fc_buf *b, yajl_val obj, const char *key)
{
	const char *path[] = {key, NULL};
	yajl_val o = obj ? yajl_tree_get(obj, path, yajl_t_object) : NULL;
	fc_buf_printf(b, ",\"%s\":[", key[0] == 'e' ? "env" : "labels");
	for (size_t i = 0; o && i < YAJL_GET_OBJECT(o)->len; i++) {
		yajl_val v = YAJL_GET_OBJECT(o)->values[i];
		_cleanup_free_ char *kv = fc_asprintf("%s=%s", YAJL_GET_OBJECT(o)->keys[i],
		                                      YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : "");
		fc_buf_printf(b, "%s", i ? "," : "");
		fc_buf_json_string(b, kv);
	}
	fc_buf_printf(b, "]");
}

static const char *sub_str(yajl_val v, const char *a, const char *b)
{
	const char *path[] = {a, b, NULL};
	yajl_val x = yajl_tree_get(v, path, yajl_t_string);
	return x ? YAJL_GET_STRING(x) : NULL;
}

/* POST/PUT /system/functions: a faas-provider FunctionDeployment. */
static enum MHD_Result deploy(struct gw_req *q)
{
	yajl_val v = body_json(q, "deploy");
	if (!v)
		return respond_error(q);
	const char *name = js_str(v, "service"), *image = js_str(v, "image");
	const char *fprocess = js_str(v, "envProcess");
	const char *mode = sub_str(v, "annotations", "com.fcstart.mode");
	if (!mode)
		mode = sub_str(v, "labels", "com.fcstart.mode");
	struct fc_buf b = {0};
	fc_buf_printf(&b, "{\"name\":");
	fc_buf_json_string(&b, name ? name : "");
	fc_buf_printf(&b, ",\"image\":");
	fc_buf_json_string(&b, image ? image : "");
	fc_buf_printf(&b, ",\"mode\":");
	fc_buf_json_string(&b, mode ? mode : "classic");
	kv_array(&b, v, "envVars");
	kv_array(&b, v, "labels");
	if (fprocess && *fprocess) {
		fc_buf_printf(&b, ",\"args\":[\"/bin/sh\",\"-c\",");
		fc_buf_json_string(&b, fprocess);
		fc_buf_printf(&b, "]");
	}
	uint64_t mem = 0;
	const char *m = sub_str(v, "limits", "memory");
	if (m && fcpool_parse_size(m, &mem) == 0)
		fc_buf_printf(&b, ",\"memory\":%llu", (unsigned long long)mem);
	const char *cpu = sub_str(v, "limits", "cpu");
	if (cpu) {
		double c = strtod(cpu, NULL);
		if (strchr(cpu, 'm'))
			c /= 1000; /* millicores */
		fc_buf_printf(&b, ",\"cpus\":%g", c);
	}
	fc_buf_printf(&b, "}");
	yajl_tree_free(v);
	struct fcpool_fn_spec spec;
	struct fc_error *e = NULL;
	enum MHD_Result r;
	if (fcpool_fn_spec_parse(b.data, &spec, &e) < 0 || fn_deploy(&spec, &e) < 0) {
		_cleanup_free_ char *msg = fc_asprintf("%s\n", e ? e->msg : "deploy failed");
		r = respond_text(q->mc, e && e->errnum == ENOENT ? 404 : 400, msg);
		fcpool_fn_spec_clear(&spec);
	} else {
		r = respond_text(q->mc, 202, "");
	}
	fc_error_free(e);
	free(b.data);
	return r;
}

static void status_json(struct fc_buf *b, const struct function *f)
{
	fc_buf_printf(b, "{\"name\":");
	fc_buf_json_string(b, f->spec.name);
	fc_buf_printf(b, ",\"image\":");
	fc_buf_json_string(b, f->spec.image);
	fc_buf_printf(b, ",\"namespace\":\"\",\"labels\":{");
	for (size_t i = 0; f->spec.labels && f->spec.labels[i]; i++) {
		const char *eq = strchr(f->spec.labels[i], '=');
		_cleanup_free_ char *k =
		    fc_strndup(f->spec.labels[i], (size_t)(eq - f->spec.labels[i]));
		fc_buf_printf(b, "%s", i ? "," : "");
		fc_buf_json_string(b, k);
		fc_buf_printf(b, ":");
		fc_buf_json_string(b, eq + 1);
	}
	unsigned replicas = f->n_waiting + f->n_running;
	fc_buf_printf(
	    b, "},\"replicas\":%u,\"availableReplicas\":%u,\"invocationCount\":%llu}", replicas,
	    replicas,
	    (unsigned long long)(f->spec.mode == FCPOOL_HTTP ? f->requests : f->handovers));
}

static enum MHD_Result list(struct gw_req *q, const char *one)
{
	struct fc_buf b = {0};
	bool first = true, found = false;
	if (!one)
		fc_buf_printf(&b, "[");
	for (struct function *f = D->fns; f; f = f->next) {
		if (f->removing || (one && !FC_STREQ(one, f->spec.name)))
			continue;
		if (!first)
			fc_buf_printf(&b, ",");
		first = false;
		found = true;
		status_json(&b, f);
	}
	if (!one)
		fc_buf_printf(&b, "]");
	enum MHD_Result r = one && !found ? respond_text(q->mc, 404, "no such function\n")
	                                  : respond(q->mc, 200, "application/json", b.data, b.len);
	free(b.data);
	return r;
}

static struct function *live_fn(const char *name)
{
	struct function *f = name ? fn_find(name) : NULL;
	return f && !f->removing ? f : NULL;
}

static enum MHD_Result remove_fn(struct gw_req *q)
{
	yajl_val v = body_json(q, "delete");
	if (!v)
		return respond_error(q);
	struct function *f = live_fn(js_str(v, "functionName"));
	yajl_tree_free(v);
	if (!f)
		return respond_text(q->mc, 404, "no such function\n");
	fn_remove(f);
	return respond_text(q->mc, 202, "");
}

static enum MHD_Result scale(struct gw_req *q, const char *name)
{
	struct function *f = live_fn(name);
	if (!f)
		return respond_text(q->mc, 404, "no such function\n");
	yajl_val v = body_json(q, "scale");
	if (!v)
		return respond_error(q);
	double replicas = -1;
	js_num(v, "replicas", &replicas);
	yajl_tree_free(v);
	if (replicas < 0)
		return respond_text(q->mc, 400, "expected {\"replicas\": N}\n");
	/* replicas: sandboxes kept ready (the pool's min) */
	struct fc_error *e = NULL;
	double mx = replicas > f->spec.max ? replicas : f->spec.max;
	if (fn_scale(f, replicas, mx < 1 ? 1 : mx, &e) < 0) {
		_cleanup_free_ char *msg = fc_asprintf("%s\n", e->msg);
		fc_error_free(e);
		return respond_text(q->mc, 400, msg);
	}
	return respond_text(q->mc, 202, "");
}

/* ANY /function/NAME: an internal classic invocation with pipes. */
static enum MHD_Result invoke(struct gw_req *q, const char *name)
{
	struct function *f = live_fn(name);
	if (!f)
		return respond_text(q->mc, 404, "no such function\n");
	if (f->spec.mode == FCPOOL_HTTP) {
		struct conn *c = fc_calloc(1, sizeof(*c));
		c->fd = -1;
		c->tcp_fd = -1;
		c->t0 = fc_now_ns();
		c->gw = q;
		c->next = D->conns;
		D->conns = c;
		q->c = c;
		q->http = true;
		q->started = true;
		q->next = inflight;
		inflight = q;
		MHD_suspend_connection(q->mc);
		q->suspended = true;
		queue_invocation(f, c);
		return MHD_YES;
	}
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
	struct conn *c = fc_calloc(1, sizeof(*c));
	c->fd = -1;
	c->tcp_fd = -1;
	c->t0 = fc_now_ns();
	c->fds[0] = in;
	c->fds[1] = out[1];
	c->fds[2] = null;
	c->nfds = 3;
	c->gw = q;
	c->next = D->conns;
	D->conns = c;
	q->c = c;
	q->out_fd = out[0];
	q->started = true;
	q->next = inflight;
	inflight = q;
	MHD_suspend_connection(q->mc);
	q->suspended = true;
	queue_invocation(f, c);
	return MHD_YES;
}

void gw_on_reply(struct conn *c, const char *json)
{
	struct gw_req *q = c->gw;
	yajl_val v = js_parse(json, "invocation event", NULL);
	const char *path[] = {"ok", NULL};
	yajl_val ok = v ? yajl_tree_get(v, path, yajl_t_any) : NULL;
	const char *ev = v ? js_str(v, "event") : NULL;
	double d;
	if (!ok || !YAJL_IS_TRUE(ok)) {
		const char *msg = v ? js_str(v, "error") : NULL;
		double en = 0;
		if (v)
			js_num(v, "errno", &en);
		q->error = fc_asprintf("%s\n", msg ? msg : "invocation failed");
		q->http_status = en == EBUSY ? 429 : en == ENOENT ? 404 : 502;
		q->exited = true;
		c->gw = NULL;
		q->c = NULL;
	} else if (ev && FC_STREQ(ev, "exit")) {
		q->status = v && js_num(v, "status", &d) ? (int)d : -1;
		q->http_status = q->status == 0 ? 200 : 500;
		q->exited = true;
		c->gw = NULL;
		q->c = NULL;
	}
	yajl_tree_free(v);
}

void gw_detach(struct conn *c)
{
	struct gw_req *q = c->gw;
	c->gw = NULL;
	if (!q)
		return;
	q->c = NULL;
	if (!q->exited && !(q->http && q->out_fd >= 0)) {
		/* gone without an answer (the daemon stops, the instance died) */
		q->error = fc_strdup("the function went away\n");
		q->http_status = 502;
		q->exited = true;
	}
}

void gw_on_connected(struct conn *c, int sock)
{
	struct gw_req *q = c->gw;
	struct fc_buf req = {0};
	fc_buf_printf(
	    &req,
	    "%s %s HTTP/1.0\r\nHost: localhost\r\nConnection: close\r\nContent-Length: %zu\r\n",
	    q->method, q->path, q->body.len);
	if (q->ctype)
		fc_buf_printf(&req, "Content-Type: %s\r\n", q->ctype);
	fc_buf_printf(&req, "\r\n");
	if (q->body.len)
		fc_buf_append(&req, q->body.data, q->body.len);
	int fl = fcntl(sock, F_GETFL);
	fcntl(sock, F_SETFL, fl & ~O_NONBLOCK);
	int r = fc_write_all(sock, req.data, req.len);
	free(req.data);
	shutdown(sock, SHUT_WR);
	fcntl(sock, F_SETFL, fl | O_NONBLOCK);
	if (r < 0) {
		close(sock);
		q->error = fc_asprintf("send the request to the function: %s\n", strerror(-r));
		q->http_status = 502;
		q->exited = true;
		http_release(c); /* detaches q */
		return;
	}
	q->out_fd = sock; /* read like a classic function's stdout */
}

/* An HTTP function's whole response: status, Content-Type, body. */
static void parse_http_response(struct gw_req *q)
{
	const char *d = q->out.data ? q->out.data : "";
	const char *end = memmem(d, q->out.len, "\r\n\r\n", 4),
	           *lf = memmem(d, q->out.len, "\n\n", 2);
	size_t sep = 4;
	if (lf && (!end || lf < end)) {
		end = lf;
		sep = 2;
	}
	int status = 0;
	if (!end || sscanf(d, "HTTP/%*d.%*d %d", &status) != 1) {
		q->error = fc_strdup("the function's response is not HTTP\n");
		q->http_status = 502;
		return;
	}
	q->http_status = (unsigned)status;
	_cleanup_free_ char *head = fc_strndup(d, (size_t)(end - d));
	for (char *line = strtok(head, "\n"); line; line = strtok(NULL, "\n")) {
		if (strncasecmp(line, "Content-Type:", 13) == 0) {
			char *v = line + 13;
			v += strspn(v, " \t");
			v[strcspn(v, "\r")] = 0;
			q->resp_type = fc_strdup(v);
		}
	}
	size_t off = (size_t)(end - d) + sep;
	memmove(q->out.data, q->out.data + off, q->out.len - off);
	q->out.len -= off;
}

static void finish_if_done(struct gw_req *q)
{
	if (q->http && q->started && q->out_fd < 0 && !q->exited && q->out.len) {
		/* the function closed its response: free the instance */
		parse_http_response(q);
		q->exited = true;
		if (q->c)
			http_release(q->c); /* detaches q */
	} else if (q->http && q->started && q->out_fd < 0 && !q->exited && !q->c) {
		q->error = fc_strdup("the function closed the connection without a response\n");
		q->http_status = 502;
		q->exited = true;
	}
	if (!q->exited || q->out_fd >= 0 || q->ready)
		return;
	q->ready = true;
	for (struct gw_req **p = &inflight; *p; p = &(*p)->next)
		if (*p == q) {
			*p = q->next;
			break;
		}
	if (q->suspended) {
		q->suspended = false;
		MHD_resume_connection(q->mc);
	}
}

size_t gw_poll_prepare(struct pollfd *pfd, size_t max, int *timeout)
{
	if (!mhd || max == 0)
		return 0;
	size_t n = 0;
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(mhd, MHD_DAEMON_INFO_EPOLL_FD);
	pfd[n++] = (struct pollfd){.fd = info ? info->epoll_fd : -1, .events = POLLIN};
	for (struct gw_req *q = inflight; q && n < max; q = q->next)
		if (q->out_fd >= 0)
			pfd[n++] = (struct pollfd){.fd = q->out_fd, .events = POLLIN};
	MHD_UNSIGNED_LONG_LONG t;
	if (MHD_get_timeout(mhd, &t) == MHD_YES && (long long)t < *timeout)
		*timeout = (int)t;
	if (inflight && *timeout > 50)
		*timeout = 50; /* exits may complete a request without any fd event */
	return n;
}

void gw_poll_done(const struct pollfd *pfd, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		if (!pfd[i].revents)
			continue;
		for (struct gw_req *q = inflight; q; q = q->next) {
			if (q->out_fd != pfd[i].fd)
				continue;
			char buf[65536];
			ssize_t r;
			while ((r = read(q->out_fd, buf, sizeof(buf))) > 0)
				fc_buf_append(&q->out, buf, (size_t)r);
			if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
				close(q->out_fd);
				q->out_fd = -1;
			}
			break;
		}
	}
	for (struct gw_req *q = inflight, *next; q; q = next) {
		next = q->next;
		finish_if_done(q);
	}
	MHD_run(mhd);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *mc, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
	struct gw_req *q = *con_cls;
	if (!q) {
		q = fc_calloc(1, sizeof(*q));
		q->mc = mc;
		q->out_fd = -1;
		*con_cls = q;
		/* As OpenFaaS: invocations and the health check are open, the
		 * rest (the /system/... control API) needs the credentials.
		 * Answered before any body is read. */
		bool open_route = FC_STREQ(url, "/healthz") || strncmp(url, "/function/", 10) == 0;
		if (!open_route &&
		    !gw_auth_check(
		        auth, MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "Authorization"))) {
			fc_log(FC_LOG_DEBUG, "HTTP gateway: %s %s without valid credentials: 401",
			       method, url);
			return respond_unauthorized(mc);
		}
		/* a body announced too large is refused before it is read */
		const char *cl = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "Content-Length");
		if (cl && strtoull(cl, NULL, 10) > max_body)
			return respond_too_large(mc);
		return MHD_YES;
	}
	if (*upload_size) {
		/* A chunked body past the limit: libmicrohttpd cannot answer
		 * before the body ends, so the rest is read and dropped, and
		 * answered 413 then; past 4 times the limit the connection is
		 * closed. */
		if (q->too_large || q->body.len + *upload_size > max_body) {
			q->too_large = true;
			q->dropped += *upload_size;
			*upload_size = 0;
			return q->dropped > 4 * max_body ? MHD_NO : MHD_YES;
		}
		fc_buf_append(&q->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	if (q->too_large)
		return respond_too_large(mc);
	if (q->started) {
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
		const char *query = MHD_lookup_connection_value(mc, MHD_GET_ARGUMENT_KIND, NULL);
		(void)query;
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
	struct gw_req *q = *con_cls;
	if (!q)
		return;
	for (struct gw_req **p = &inflight; *p; p = &(*p)->next)
		if (*p == q) {
			*p = q->next;
			break;
		}
	if (q->c) {
		/* the HTTP client left mid-invocation: a classic function is
		 * killed, an HTTP instance freed */
		struct conn *c = q->c;
		gw_detach(c);
		if (q->http) {
			http_release(c);
		} else {
			if (c->sb)
				sandbox_kill(c->sb);
			conn_finish(c);
		}
	}
	if (q->out_fd >= 0)
		close(q->out_fd);
	free(q->method);
	free(q->path);
	free(q->ctype);
	free(q->resp_type);
	free(q->body.data);
	free(q->out.data);
	free(q->error);
	free(q);
	*con_cls = NULL;
}

int http_gateway_start(const struct fcpool_serve_opts *o, struct fc_error **err)
{
	const char *addr = o->http, *auth_file = o->basic_auth_file;
	max_body = o->max_body ? o->max_body : FCPOOL_DEFAULT_MAX_BODY;
	_cleanup_free_ char *host = fc_strdup(addr);
	char *colon = strrchr(host, ':');
	if (!colon)
		return fc_error_set(err, EINVAL, "--http `%s`: expected ADDR:PORT", addr);
	*colon = 0;
	struct sockaddr_in sa = {.sin_family = AF_INET,
	                         .sin_port = htons((uint16_t)atoi(colon + 1))};
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1 || !sa.sin_port)
		return fc_error_set(err, EINVAL, "--http `%s`: expected an IPv4 ADDR:PORT", addr);
	if (mhd_load(err) < 0)
		return -ENOENT;
	_cleanup_free_ char *def = auth_file ? NULL : fc_asprintf("%s/basic-auth", D->root);
	const char *af = auth_file ? auth_file : def;
	bool created = false;
	int r = gw_auth_load(af, !auth_file, &auth, &created, err);
	if (r < 0)
		return r;
	if (created)
		fc_log(
		    FC_LOG_INFO,
		    "HTTP gateway: created `%s` (mode 0600) with user `%s` and a random password",
		    af, gw_auth_user(auth));
	fc_log(FC_LOG_INFO,
	       "HTTP gateway: /system/... needs basic auth: user `%s`, credentials in `%s`",
	       gw_auth_user(auth), af);
	mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME, 0, NULL, NULL, handler,
	                       NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	                       MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
	                       MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)300, MHD_OPTION_END);
	if (!mhd) {
		gw_auth_free(TAKE_PTR(auth));
		return fc_error_set(err, errno ? errno : EADDRINUSE, "HTTP gateway on `%s`", addr);
	}
	fc_log(FC_LOG_INFO, "HTTP gateway (OpenFaaS faas-provider API) on http://%s", addr);
	return 0;
}

void http_gateway_stop(void)
{
	if (mhd)
		MHD_stop_daemon(mhd);
	mhd = NULL;
	gw_auth_free(TAKE_PTR(auth));
}

#else /* !FC_HAVE_MHD */

int http_gateway_start(const struct fcpool_serve_opts *o, struct fc_error **err)
{
	return fc_error_set(err, ENOTSUP, "HTTP gateway `%s`: built without libmicrohttpd",
	                    o->http);
}
void http_gateway_stop(void) {}
size_t gw_poll_prepare(struct pollfd *pfd, size_t max, int *timeout)
{
	return 0;
}
void gw_poll_done(const struct pollfd *pfd, size_t n) {}
void gw_on_reply(struct conn *c, const char *json) {}
void gw_on_connected(struct conn *c, int sock)
{
	close(sock);
}
void gw_detach(struct conn *c) {}
#endif
