/* SPDX-License-Identifier: MIT */
/* fncall.c: one invocation of a function for the gateway (fncall.h): an HTTP
 * function through relay.c over the connection the daemon gives, a classic
 * one through two pipes (stdin, stdout; its stderr goes to its log). */
#include <fcntl.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "fncall.h"
#include "relay.h"

#define ENV_BUDGET 3000 /* bytes of Http_* variables (a hand-over carries 3.5 KiB) */

struct fncall {
	struct daemon *d;
	struct loop *l;
	fncall_wake_fn *wake;
	void *owner;
	char *fn;
	bool http, head_request;
	struct daemon_inv *inv;
	uint64_t t0, t_end;
	char call_id[64];
	uint64_t start_ns;
	char *req_ctype; /* the request's Content-Type */
	/* an HTTP function */
	struct fc_buf head; /* the request's head, until connected */
	int64_t body_len;
	struct relay *relay;
	bool wants_room; /* the owner waits to write */
	bool body_end;   /* the owner's body is complete */
	/* a classic function */
	int in_fd, out_fd;
	struct loop_watch *in_w, *out_w;
	struct fc_buf hold; /* its output, held until it exits or passes FNCALL_HOLD */
	size_t hold_off;
	bool streaming, out_eof, exited, timed_out;
	int exit_status;
	/* the answer */
	bool have_resp;
	struct fncall_resp resp;
	char *msg; /* the gateway's own answer's body */
	size_t msg_off;
	bool cold, on_demand, done;
};

/* ---- the answer ------------------------------------------------------------------ */

static void add_hdr(struct fncall_resp *r, const char *name, const char *value)
{
	if (r->n_hdr % 16 == 0)
		r->hdr = fc_realloc(r->hdr, (r->n_hdr + 16) * sizeof(*r->hdr));
	r->hdr[r->n_hdr++] = (struct http_hdr){.name = fc_strdup(name), .value = fc_strdup(value)};
}

static bool has_hdr(const struct fncall_resp *r, const char *name)
{
	for (size_t i = 0; i < r->n_hdr; i++)
		if (strcasecmp(r->hdr[i].name, name) == 0)
			return true;
	return false;
}

double fncall_seconds(const struct fncall *c)
{
	return (double)((c->t_end ? c->t_end : fc_now_ns()) - c->t0) / 1e9;
}

/* What the gateway adds to every answer. */
static void add_ours(struct fncall *c)
{
	struct fncall_resp *r = &c->resp;
	char buf[64];
	if (!has_hdr(r, "Content-Type"))
		add_hdr(r, "Content-Type", c->req_ctype ? c->req_ctype : "text/plain");
	if (!has_hdr(r, "X-Duration-Seconds")) {
		snprintf(buf, sizeof(buf), "%f", fncall_seconds(c));
		add_hdr(r, "X-Duration-Seconds", buf);
	}
	if (!has_hdr(r, "X-Call-Id"))
		add_hdr(r, "X-Call-Id", c->call_id);
	if (!has_hdr(r, "X-Start-Time")) {
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)c->start_ns);
		add_hdr(r, "X-Start-Time", buf);
	}
	add_hdr(r, "X-Fcstart-Start", c->cold ? "cold" : "warm");
	r->cold = c->cold;
	r->on_demand = c->on_demand;
	c->have_resp = true;
}

/* The gateway answers itself (the function could not). */
static void answer_error(struct fncall *c, unsigned status, const char *fmt, ...) FC_PRINTF(3, 4);
static void answer_error(struct fncall *c, unsigned status, const char *fmt, ...)
{
	if (c->have_resp)
		return;
	va_list ap;
	va_start(ap, fmt);
	char *m = fc_vasprintf(fmt, ap);
	va_end(ap);
	c->msg = fc_asprintf("%s\n", m);
	free(m);
	c->resp.status = status;
	c->resp.gateway = true;
	c->resp.length = (int64_t)strlen(c->msg);
	add_hdr(&c->resp, "Content-Type", "text/plain; charset=utf-8");
	add_hdr(&c->resp, "X-OpenFaaS-Internal", "fcstart");
	add_ours(c);
}

/* A classic function's answer, once it exited and its output was read. */
static void answer_classic(struct fncall *c)
{
	if (c->have_resp || !c->exited || !c->out_eof)
		return;
	c->t_end = fc_now_ns();
	c->resp.status = c->exit_status == 0 ? 200 : c->timed_out ? 504 : 500;
	c->resp.length = (int64_t)c->hold.len;
	add_ours(c);
}

/* An HTTP function's answer, once its head came. */
static void answer_http(struct fncall *c)
{
	if (c->have_resp || !c->relay)
		return;
	enum http_framing f;
	uint64_t len;
	const struct http_head *h = relay_head(c->relay, &f, &len);
	if (!h) {
		int e = relay_error(c->relay);
		if (e && daemon_inv_timed_out(c->inv))
			answer_error(
			    c, 504,
			    "function `%s` timed out (its timeout: com.fcstart.timeout, or "
			    "exec_timeout and write_timeout in its env)",
			    c->fn);
		else if (e == -EPROTO)
			answer_error(c, 502, "function `%s`: its response is not HTTP/1.x", c->fn);
		else if (e)
			answer_error(c, 502,
			             "function `%s`: the connection closed without a response (%s)",
			             c->fn, strerror(-e));
		return;
	}
	c->resp.status = (unsigned)h->status;
	for (size_t i = 0; i < h->n; i++)
		if (!http_hop_by_hop(h->h[i].name) && strcasecmp(h->h[i].name, "Date") != 0)
			add_hdr(&c->resp, h->h[i].name, h->h[i].value);
	c->resp.length = f == HTTP_BODY_LENGTH ? (int64_t)len : f == HTTP_BODY_NONE ? 0 : -1;
	add_ours(c);
}

const struct fncall_resp *fncall_response(struct fncall *c)
{
	if (c->http)
		answer_http(c);
	return c->have_resp ? &c->resp : NULL;
}

/* ---- the daemon's events, the descriptors ------------------------------------------ */

static void on_relay(void *owner)
{
	struct fncall *c = owner;
	if (c->wants_room)
		c->wants_room = false;
	c->wake(c->owner);
}

static void on_out(void *data, short revents);

static void watch_out(struct fncall *c, bool on)
{
	loop_unwatch(c->out_w);
	c->out_w = on && c->out_fd >= 0 ? loop_watch(c->l, c->out_fd, POLLIN, on_out, c) : NULL;
}

static void close_out(struct fncall *c)
{
	watch_out(c, false);
	if (c->out_fd >= 0)
		close(c->out_fd);
	c->out_fd = -1;
	c->out_eof = true;
}

/* A classic function's output: held while it runs (up to FNCALL_HOLD, then
 * the answer streams); when streaming, the reader is woken to read on. */
static void on_out(void *data, short revents)
{
	struct fncall *c = data;
	(void)revents;
	if (c->streaming) {
		watch_out(c, false);
		c->wake(c->owner);
		return;
	}
	for (;;) {
		size_t room = FNCALL_HOLD - c->hold.len;
		if (!room) {
			/* past the hold: 200, streamed; a later failure cuts it */
			c->streaming = true;
			c->resp.status = 200;
			c->resp.length = -1;
			add_ours(c);
			watch_out(c, false);
			break;
		}
		char buf[65536];
		ssize_t n = read(c->out_fd, buf, room < sizeof(buf) ? room : sizeof(buf));
		if (n > 0) {
			fc_buf_append(&c->hold, buf, (size_t)n);
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		close_out(c);
		answer_classic(c);
		if (!c->have_resp)
			return; /* its exit is to come */
		break;
	}
	c->wake(c->owner);
}

static void on_in(void *data, short revents)
{
	struct fncall *c = data;
	(void)revents;
	loop_unwatch(c->in_w);
	c->in_w = NULL;
	c->wake(c->owner);
}

static void on_event(void *owner, const struct fcpool_event *ev)
{
	struct fncall *c = owner;
	switch (ev->kind) {
	case FCPOOL_EV_STARTED:
		c->cold = true; /* a classic function runs in a never-used sandbox */
		c->on_demand = ev->on_demand;
		return;
	case FCPOOL_EV_CONNECTED:
		c->cold = ev->cold;
		c->on_demand = ev->on_demand;
		c->relay =
		    relay_new(c->l, ev->sock, &c->head, c->body_len, c->head_request, on_relay, c);
		if (c->body_end)
			relay_write_end(c->relay);
		c->wants_room = false;
		c->wake(c->owner);
		return;
	case FCPOOL_EV_EXIT:
		if (!c->http) {
			c->exited = true;
			c->exit_status = ev->status;
			c->timed_out = ev->timeout;
			answer_classic(c);
		} else if (ev->timeout) {
			answer_error(
			    c, 504,
			    "function `%s` timed out (its timeout: com.fcstart.timeout, or "
			    "exec_timeout and write_timeout in its env)",
			    c->fn);
		} else {
			answer_error(c, 502, "function `%s`: its instance exited", c->fn);
		}
		break;
	case FCPOOL_EV_ERROR:
		answer_error(c,
		             ev->errnum == EBUSY       ? 429
		             : ev->errnum == ENOENT    ? 404
		             : ev->errnum == ETIMEDOUT ? 504
		                                       : 502,
		             "%s", ev->error ? ev->error : "invocation failed");
		break;
	default:
		return;
	}
	if (c->inv) /* from inside daemon_invoke: fncall_start owns it */
		c->wake(c->owner);
}

/* ---- the request ------------------------------------------------------------------ */

static const char *req_get(const struct fncall_req *r, const char *name)
{
	for (size_t i = 0; i < r->n_hdr; i++)
		if (strcasecmp(r->hdr[i].name, name) == 0)
			return r->hdr[i].value;
	return NULL;
}

/* The request line and headers for an HTTP instance. */
static void build_head(struct fncall *c, const struct fncall_req *r)
{
	struct fc_buf *b = &c->head;
	const char *host = req_get(r, "Host");
	fc_buf_printf(b, "%s %s%s%s%s HTTP/1.1\r\nHost: %s\r\n", r->method,
	              r->path[0] == '/' ? "" : "/", r->path, r->query ? "?" : "",
	              r->query ? r->query : "", host ? host : "localhost");
	for (size_t i = 0; i < r->n_hdr; i++)
		if (!http_hop_by_hop(r->hdr[i].name) && strcasecmp(r->hdr[i].name, "Host") != 0)
			fc_buf_printf(b, "%s: %s\r\n", r->hdr[i].name, r->hdr[i].value);
	if (!req_get(r, "X-Forwarded-For") && r->peer)
		fc_buf_printf(b, "X-Forwarded-For: %s\r\n", r->peer);
	if (!req_get(r, "X-Forwarded-Host") && host)
		fc_buf_printf(b, "X-Forwarded-Host: %s\r\n", host);
	if (!req_get(r, "X-Call-Id"))
		fc_buf_printf(b, "X-Call-Id: %s\r\n", c->call_id);
	if (!req_get(r, "X-Start-Time"))
		fc_buf_printf(b, "X-Start-Time: %llu\r\n", (unsigned long long)c->start_ns);
	if (r->body_len > 0)
		fc_buf_printf(b, "Content-Length: %lld\r\n", (long long)r->body_len);
	else if (r->body_len < 0)
		fc_buf_printf(b, "Transfer-Encoding: chunked\r\n");
	fc_buf_printf(b, "\r\n");
}

static void env_add(char ***env, size_t *n, size_t *bytes, const char *key, const char *value)
{
	size_t len = strlen(key) + strlen(value) + 2;
	if (*bytes + len > ENV_BUDGET || strchr(key, '='))
		return;
	*env = fc_realloc(*env, (*n + 2) * sizeof(char *));
	(*env)[(*n)++] = fc_asprintf("%s=%s", key, value);
	(*env)[*n] = NULL;
	*bytes += len;
}

/* The Http_* variables of OpenFaaS's classic watchdog (cgi_headers): the
 * method, path, query, content length, host, then every header as
 * Http_Canonical_Name (the first value), within ENV_BUDGET bytes. */
static char **classic_env(struct fncall *c, const struct fncall_req *r)
{
	char **env = NULL;
	size_t n = 0, bytes = 0;
	char len[32];
	snprintf(len, sizeof(len), "%lld", (long long)(r->body_len < 0 ? -1 : r->body_len));
	const char *host = req_get(r, "Host");
	env_add(&env, &n, &bytes, "Http_Method", r->method);
	env_add(&env, &n, &bytes, "Http_Path", r->path[0] ? r->path : "/");
	if (r->query && *r->query)
		env_add(&env, &n, &bytes, "Http_Query", r->query);
	env_add(&env, &n, &bytes, "Http_ContentLength", len);
	env_add(&env, &n, &bytes, "Http_Content_Length", len);
	if (r->body_len < 0)
		env_add(&env, &n, &bytes, "Http_Transfer_Encoding", "chunked");
	if (host)
		env_add(&env, &n, &bytes, "Http_Host", host);
	if (!req_get(r, "X-Call-Id"))
		env_add(&env, &n, &bytes, "Http_X_Call_Id", c->call_id);
	char start[32];
	snprintf(start, sizeof(start), "%llu", (unsigned long long)c->start_ns);
	if (!req_get(r, "X-Start-Time"))
		env_add(&env, &n, &bytes, "Http_X_Start_Time", start);
	for (size_t i = 0; i < r->n_hdr; i++) {
		const char *name = r->hdr[i].name;
		if (strcasecmp(name, "Host") == 0 || strcasecmp(name, "Content-Length") == 0 ||
		    strcasecmp(name, "Transfer-Encoding") == 0)
			continue;
		bool seen = false; /* the first value, as Go's Header.Get */
		for (size_t k = 0; k < i && !seen; k++)
			seen = strcasecmp(r->hdr[k].name, name) == 0;
		if (seen)
			continue;
		char *key = fc_malloc(strlen(name) + 6);
		memcpy(key, "Http_", 5);
		http_canonical_name(name, key + 5);
		for (char *p = key; *p; p++)
			if (*p == '-')
				*p = '_';
		env_add(&env, &n, &bytes, key, r->hdr[i].value);
		free(key);
	}
	return env;
}

void fncall_new_call_id(char out[37])
{
	unsigned char b[16];
	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
		uint64_t t = fc_now_ns() ^ ((uint64_t)getpid() << 32);
		for (size_t i = 0; i < sizeof(b); i++)
			b[i] = (unsigned char)(t >> (8 * (i % 8))) ^ (unsigned char)(i * 37);
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
	         b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
	         b[13], b[14], b[15]);
}

int fncall_start(struct daemon *d, struct loop *l, const struct fncall_req *r, fncall_wake_fn *wake,
                 void *owner, struct fncall **out, struct fc_error **err)
{
	enum fcpool_mode mode;
	int rc = daemon_fn_mode(d, r->fn, &mode, err);
	if (rc < 0)
		return rc;
	struct fncall *c = fc_calloc(1, sizeof(*c));
	c->d = d;
	c->l = l;
	c->wake = wake;
	c->owner = owner;
	c->fn = fc_strdup(r->fn);
	c->http = mode == FCPOOL_HTTP;
	c->head_request = FC_STREQ(r->method, "HEAD");
	c->t0 = fc_now_ns();
	c->in_fd = c->out_fd = -1;
	c->body_len = r->body_len;
	c->start_ns = r->start_ns;
	snprintf(c->call_id, sizeof(c->call_id), "%s", r->call_id);
	const char *ct = req_get(r, "Content-Type");
	c->req_ctype = ct ? fc_strdup(ct) : NULL;
	struct daemon_invoke_args a = {.name = r->fn,
	                               .t_arrived = c->t0,
	                               .stdio = {-1, -1, -1},
	                               .event = on_event,
	                               .owner = c};
	if (c->http) {
		build_head(c, r);
	} else {
		int in[2], o[2];
		if (pipe2(in, O_CLOEXEC) < 0) {
			rc = fc_error_set(err, errno, "function `%s`: pipe", r->fn);
			goto fail;
		}
		if (pipe2(o, O_CLOEXEC) < 0) {
			rc = fc_error_set(err, errno, "function `%s`: pipe", r->fn);
			close(in[0]);
			close(in[1]);
			goto fail;
		}
		fcntl(in[1], F_SETFL, O_NONBLOCK);
		fcntl(o[0], F_SETFL, O_NONBLOCK);
		a.stdio[0] = in[0];
		a.stdio[1] = o[1];
		c->in_fd = in[1];
		c->out_fd = o[0];
		a.env = classic_env(c, r);
		watch_out(c, true);
	}
	*out = c;
	struct daemon_inv *inv = NULL;
	rc = daemon_invoke(d, &a, &inv, err);
	fc_strv_free(a.env); /* taken unless it failed */
	if (rc < 0) {
		for (size_t i = 0; i < 3; i++)
			if (a.stdio[i] >= 0)
				close(a.stdio[i]);
		*out = NULL;
		goto fail;
	}
	c->inv = inv;
	return 0;
fail:
	fncall_free(c);
	return rc;
}

static void release(struct fncall *c, int sock)
{
	if (sock >= 0)
		daemon_release_conn(c->d, TAKE_PTR(c->inv), sock);
	else
		daemon_release(c->d, TAKE_PTR(c->inv));
}

void fncall_free(struct fncall *c)
{
	if (!c)
		return;
	int sock = c->relay ? relay_take_socket(c->relay) : -1;
	if (c->inv)
		release(c, sock);
	else if (sock >= 0)
		close(sock);
	relay_free(c->relay);
	loop_unwatch(c->in_w);
	if (c->in_fd >= 0)
		close(c->in_fd);
	watch_out(c, false);
	if (c->out_fd >= 0)
		close(c->out_fd);
	for (size_t i = 0; i < c->resp.n_hdr; i++) {
		free(c->resp.hdr[i].name);
		free(c->resp.hdr[i].value);
	}
	free(c->resp.hdr);
	free(c->head.data);
	free(c->hold.data);
	free(c->msg);
	free(c->req_ctype);
	free(c->fn);
	free(c);
}

/* ---- the body, the answer's bytes --------------------------------------------------- */

ssize_t fncall_write(struct fncall *c, const void *data, size_t len)
{
	if (c->resp.gateway)
		return -EPIPE; /* the gateway answered: the rest is dropped */
	if (c->http) {
		if (!c->relay) {
			c->wants_room = true; /* not connected yet */
			return 0;
		}
		ssize_t n = relay_write(c->relay, data, len);
		if (n >= 0 && (size_t)n < len)
			c->wants_room = true; /* the relay wakes us when there is room */
		return n;
	}
	if (c->in_fd < 0)
		return -EPIPE;
	ssize_t n = write(c->in_fd, data, len);
	if (n >= 0 || errno == EAGAIN || errno == EINTR) {
		/* the pipe is full: woken when the function has read some */
		if ((n < 0 || (size_t)n < len) && !c->in_w)
			c->in_w = loop_watch(c->l, c->in_fd, POLLOUT, on_in, c);
		return n < 0 ? 0 : n;
	}
	int e = errno; /* EPIPE: it does not read its stdin (any more) */
	loop_unwatch(c->in_w);
	c->in_w = NULL;
	close(c->in_fd);
	c->in_fd = -1;
	return -e;
}

void fncall_write_end(struct fncall *c)
{
	c->body_end = true;
	if (c->relay)
		relay_write_end(c->relay);
	loop_unwatch(c->in_w);
	c->in_w = NULL;
	if (c->in_fd >= 0)
		close(c->in_fd); /* EOF on the function's stdin */
	c->in_fd = -1;
}

static ssize_t read_msg(struct fncall *c, void *buf, size_t max)
{
	size_t left = strlen(c->msg) - c->msg_off;
	if (!left)
		return FNCALL_EOF;
	size_t n = left < max ? left : max;
	memcpy(buf, c->msg + c->msg_off, n);
	c->msg_off += n;
	return (ssize_t)n;
}

ssize_t fncall_read(struct fncall *c, void *buf, size_t max)
{
	if (!fncall_response(c))
		return 0;
	if (c->resp.gateway)
		return read_msg(c, buf, max);
	if (c->http) {
		ssize_t n = relay_read(c->relay, buf, max);
		if (n == RELAY_EOF) {
			c->t_end = c->t_end ? c->t_end : fc_now_ns();
			if (c->inv) /* the instance is free for the next request now */
				release(c, relay_take_socket(c->relay));
			return FNCALL_EOF;
		}
		return n;
	}
	if (c->hold_off < c->hold.len) {
		size_t n = c->hold.len - c->hold_off < max ? c->hold.len - c->hold_off : max;
		memcpy(buf, c->hold.data + c->hold_off, n);
		c->hold_off += n;
		return (ssize_t)n;
	}
	if (c->out_fd >= 0) {
		ssize_t n = read(c->out_fd, buf, max);
		if (n > 0)
			return n;
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			watch_out(c, true); /* woken when it writes */
			return 0;
		}
		close_out(c);
	}
	if (!c->exited)
		return 0; /* its exit status decides how the answer ends: woken then */
	c->t_end = c->t_end ? c->t_end : fc_now_ns();
	return c->exit_status == 0 ? FNCALL_EOF : -EIO;
}
