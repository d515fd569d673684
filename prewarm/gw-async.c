/* SPDX-License-Identifier: MIT */
/* gw-async.c: ANY /async-function/NAME[/PATH][?QUERY], OpenFaaS's asynchronous
 * invocations, without NATS: the request (head and body) goes into the durable
 * queue (asyncq.h) and is answered 202 with X-Call-Id once it is there; a
 * worker runs the queue's requests in the order they came, a few at once,
 * each through fncall.c as a synchronous one would run (its body read from
 * the queue's file, its answer written to one), and posts the answer to the
 * request's X-Callback-Url with OpenFaaS's headers (callback.h). After a
 * crash: a request that had not started runs, one that had started is
 * reported failed (500, X-Fcstart-Async: interrupted) and is not run again,
 * a kept answer is posted again. */
#include <fcntl.h>
#include <strings.h>
#include <time.h>

#include "asyncq.h"
#include "callback.h"
#include "fncall.h"
#include "gw-async.h"
#include "metrics.h"

#ifdef FC_HAVE_MHD

#define ASYNC_INFLIGHT 4 /* invocations of the queue at once */

struct job {
	struct gw_async *a;
	char *id;
	struct fncall *call;
	struct http_head req; /* the queued request's head */
	char *fn, *url;
	int body_fd, out_fd;
	uint64_t body_size, sent;
	bool body_ended, posting;
	uint64_t t0;
	struct job *next;
};

struct gw_async {
	struct gateway *g;
	struct asyncq *q; /* NULL: off (why: off_msg) */
	char *off_msg;
	struct callbacks *cb;
	struct job *jobs;
	unsigned running;
	bool kicking;
};

/* A request being accepted. */
struct gw_areq {
	struct asyncq_new *n;
	char *fn, *given, *path, *query;
	char call_id[37];
	uint64_t start_ns;
	int error; /* writing its body failed (-errno) */
};

static void kick(struct gw_async *a);

/* ---- accepting ---------------------------------------------------------------------- */

static void split_target(const char *target, char **path, char **query)
{
	const char *q = strchr(target, '?');
	size_t plen = q ? (size_t)(q - target) : strlen(target);
	const char *rest = target + plen;
	if (plen >= 16 && strncmp(target, "/async-function/", 16) == 0) {
		const char *slash = memchr(target + 16, '/', plen - 16);
		if (slash)
			rest = slash;
	}
	*path = fc_strndup(rest, (size_t)(target + plen - rest));
	*query = q ? fc_strdup(q + 1) : NULL;
}

enum MHD_Result gw_async_begin(struct gw_req *q, const char *method, const char *name,
                               size_t name_len)
{
	struct gateway *g = q->g;
	struct gw_async *a = g->async;
	(void)method;
	if (g->stopping)
		return gw_respond_text(q->mc, 503, "the gateway is stopping\n");
	if (!a || !a->q) {
		_cleanup_free_ char *msg = fc_asprintf("asynchronous invocations are off: %s\n",
		                                       a && a->off_msg ? a->off_msg : "no queue");
		return gw_respond_text(q->mc, 503, msg);
	}
	_cleanup_free_ char *fn = gw_fn_name(name, name_len);
	enum fcpool_mode mode;
	if (!fn || daemon_fn_mode(g->d, fn, &mode, NULL) < 0) {
		_cleanup_free_ char *msg = fc_asprintf("no function `%.*s`\n", (int)name_len, name);
		return gw_respond_text(q->mc, 404, msg);
	}
	const char *cb = MHD_lookup_connection_value(q->mc, MHD_HEADER_KIND, "X-Callback-Url");
	if (cb && !callback_url_valid(cb)) {
		_cleanup_free_ char *msg =
		    fc_asprintf("X-Callback-Url `%s`: expected an http:// or https:// URL\n", cb);
		return gw_respond_text(q->mc, 400, msg);
	}
	struct gw_areq *r = fc_calloc(1, sizeof(*r));
	struct fc_error *e = NULL;
	if (asyncq_begin(a->q, &r->n, &e) < 0) {
		enum MHD_Result res = gw_respond_error(q->mc, 500, e);
		fc_error_free(e);
		free(r);
		return res;
	}
	r->fn = TAKE_PTR(fn);
	r->given = fc_strndup(name, name_len);
	split_target(q->target, &r->path, &r->query);
	const char *cid = MHD_lookup_connection_value(q->mc, MHD_HEADER_KIND, "X-Call-Id");
	if (cid && *cid && strlen(cid) < sizeof(r->call_id))
		snprintf(r->call_id, sizeof(r->call_id), "%s", cid);
	else
		fncall_new_call_id(r->call_id);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	r->start_ns = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	q->async = r;
	return MHD_YES;
}

enum MHD_Result gw_async_body(struct gw_req *q, const char *data, size_t *size)
{
	struct gw_areq *r = q->async;
	struct fc_error *e = NULL;
	if (!r->error && asyncq_body(r->n, data, *size, &e) < 0) {
		fc_log(FC_LOG_ERROR, "HTTP gateway: %s", e->msg);
		r->error = fc_error_code(e);
	}
	fc_error_free(e);
	*size = 0;
	return MHD_YES;
}

enum MHD_Result gw_async_end(struct gw_req *q, const char *method)
{
	struct gw_areq *r = q->async;
	struct gw_async *a = q->g->async;
	if (r->error) {
		asyncq_abort(TAKE_PTR(r->n));
		return gw_respond_text(q->mc, 500, "the request could not be queued\n");
	}
	/* the request as its function will get it, and what the worker needs */
	struct fc_buf h = {0};
	fc_buf_printf(&h, "%s %s%s%s%s HTTP/1.1\r\n", method, r->path[0] == '/' ? "" : "/", r->path,
	              r->query ? "?" : "", r->query ? r->query : "");
	struct http_hdr *hdr = NULL;
	size_t n = 0;
	gw_headers(q, &hdr, &n);
	bool has_cid = false;
	for (size_t i = 0; i < n; i++) {
		if (http_hop_by_hop(hdr[i].name) || strncasecmp(hdr[i].name, "X-Fcstart-", 10) == 0)
			continue;
		has_cid |= strcasecmp(hdr[i].name, "X-Call-Id") == 0;
		fc_buf_printf(&h, "%s: %s\r\n", hdr[i].name, hdr[i].value);
	}
	gw_headers_free(hdr, n);
	char peer[64];
	gw_peer(q, peer, sizeof(peer));
	if (!has_cid)
		fc_buf_printf(&h, "X-Call-Id: %s\r\n", r->call_id);
	fc_buf_printf(&h,
	              "X-Start-Time: %llu\r\nX-Fcstart-Function: %s\r\n"
	              "X-Fcstart-Given: %s\r\nX-Fcstart-Peer: %s\r\n\r\n",
	              (unsigned long long)r->start_ns, r->fn, r->given, peer);
	struct fc_error *e = NULL;
	char *id = NULL;
	int rc = asyncq_commit(TAKE_PTR(r->n), h.data, h.len, &id, &e);
	free(h.data);
	if (rc < 0) {
		enum MHD_Result res = gw_respond_error(q->mc, 500, e);
		fc_error_free(e);
		return res;
	}
	free(id);
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	char start[32];
	snprintf(start, sizeof(start), "%llu", (unsigned long long)r->start_ns);
	MHD_add_response_header(resp, "X-Call-Id", r->call_id);
	MHD_add_response_header(resp, "X-Start-Time", start);
	enum MHD_Result res = MHD_queue_response(q->mc, 202, resp);
	MHD_destroy_response(resp);
	kick(a);
	return res;
}

void gw_async_free(struct gw_req *q)
{
	struct gw_areq *r = q->async;
	if (!r)
		return;
	asyncq_abort(r->n); /* not committed: it never was accepted */
	free(r->fn);
	free(r->given);
	free(r->path);
	free(r->query);
	free(r);
	q->async = NULL;
}

/* ---- the worker ----------------------------------------------------------------------- */

static void job_free(struct job *j)
{
	struct gw_async *a = j->a;
	for (struct job **p = &a->jobs; *p; p = &(*p)->next)
		if (*p == j) {
			*p = j->next;
			break;
		}
	fncall_free(j->call);
	if (j->body_fd >= 0)
		close(j->body_fd);
	if (j->out_fd >= 0)
		close(j->out_fd);
	http_head_clear(&j->req);
	free(j->id);
	free(j->fn);
	free(j->url);
	free(j);
}

static void on_posted(void *data, long status, const char *error)
{
	struct job *j = data;
	struct gw_async *a = j->a;
	if (error || status < 200 || status > 299)
		fc_log(FC_LOG_WARN, "HTTP gateway: async %s of `%s`: the callback to `%s` %s%s",
		       j->id, j->fn, j->url, error ? "failed: " : "answered ",
		       error           ? error
		       : status >= 100 ? "non-2xx"
		                       : "?");
	else
		fc_log(FC_LOG_DEBUG, "HTTP gateway: async %s: posted to `%s` (%ld)", j->id, j->url,
		       status);
	asyncq_remove(a->q, j->id);
	job_free(j);
	a->running--;
	kick(a);
}

/* Post the kept answer of job j's request (or just drop it without a URL). */
static void post(struct job *j)
{
	struct gw_async *a = j->a;
	char *head = NULL;
	int body = -1;
	uint64_t size = 0;
	struct fc_error *e = NULL;
	if (asyncq_answered(a->q, j->id, &head, &body, &size, &e) < 0 || !j->url) {
		if (e)
			fc_log(FC_LOG_ERROR, "HTTP gateway: async %s: %s", j->id, e->msg);
		fc_error_free(e);
		free(head);
		if (body >= 0)
			close(body);
		asyncq_remove(a->q, j->id);
		job_free(j);
		a->running--;
		kick(a);
		return;
	}
	/* the function's headers, then the queue-worker's */
	struct http_head res;
	char **hv = NULL;
	size_t nh = 0;
	if (http_head_parse(head, strlen(head), true, &res) > 0) {
		hv = fc_calloc(res.n + 1, sizeof(char *));
		for (size_t i = 0; i < res.n; i++)
			if (!http_hop_by_hop(res.h[i].name))
				hv[nh++] = fc_asprintf("%s: %s", res.h[i].name, res.h[i].value);
		http_head_clear(&res);
	}
	free(head);
	j->posting = true;
	if (callback_post(a->cb, j->url, hv, body, size, on_posted, j, &e) < 0) {
		fc_log(FC_LOG_WARN, "HTTP gateway: async %s: %s", j->id, e ? e->msg : "?");
		fc_error_free(e);
		asyncq_remove(a->q, j->id);
		job_free(j);
		a->running--;
		kick(a);
	}
	fc_strv_free(hv);
}

/* Keep the answer (status, the function's headers, the queue-worker's),
 * then post it. */
static void answered(struct job *j, unsigned status, const struct http_hdr *h, size_t n)
{
	struct gw_async *a = j->a;
	struct fc_buf b = {0};
	fc_buf_printf(&b, "HTTP/1.1 %u Status\r\n", status);
	bool has_cid = false;
	for (size_t i = 0; i < n; i++) {
		if (http_hop_by_hop(h[i].name) || strcasecmp(h[i].name, "X-Function-Status") == 0 ||
		    strcasecmp(h[i].name, "X-Function-Name") == 0 ||
		    strcasecmp(h[i].name, "X-Duration-Seconds") == 0)
			continue;
		has_cid |= strcasecmp(h[i].name, "X-Call-Id") == 0;
		fc_buf_printf(&b, "%s: %s\r\n", h[i].name, h[i].value);
	}
	const char *cid = http_head_get(&j->req, "X-Call-Id"),
	           *given = http_head_get(&j->req, "X-Fcstart-Given");
	if (j->t0 && j->fn[0])
		gw_metrics_invocation(a->g->metrics, j->fn, status,
		                      (double)(fc_now_ns() - j->t0) / 1e9, false);
	if (!has_cid && cid)
		fc_buf_printf(&b, "X-Call-Id: %s\r\n", cid);
	fc_buf_printf(
	    &b, "X-Function-Status: %u\r\nX-Function-Name: %s\r\nX-Duration-Seconds: %f\r\n\r\n",
	    status, given ? given : j->fn, (double)(fc_now_ns() - j->t0) / 1e9);
	if (j->out_fd >= 0)
		close(j->out_fd);
	j->out_fd = -1;
	fncall_free(TAKE_PTR(j->call));
	struct fc_error *e = NULL;
	if (asyncq_answer(a->q, j->id, b.data, b.len, &e) < 0) {
		fc_log(FC_LOG_ERROR, "HTTP gateway: async %s: %s", j->id, e ? e->msg : "?");
		fc_error_free(e);
	}
	free(b.data);
	post(j);
}

static void answered_text(struct job *j, unsigned status, const char *why, const char *text)
{
	struct fc_error *e = NULL;
	if (j->out_fd < 0)
		j->out_fd = asyncq_answer_body(j->a->q, j->id, &e);
	if (j->out_fd >= 0)
		fc_write_all(j->out_fd, text, strlen(text));
	fc_error_free(e);
	struct http_hdr h[] = {{.name = "Content-Type", .value = "text/plain; charset=utf-8"},
	                       {.name = "X-Fcstart-Async", .value = (char *)why}};
	answered(j, status, h, FC_ARRAY_SIZE(h));
}

/* Move job j's invocation on: its body from the queue's file, its answer to
 * the answer's file. */
static void pump(void *owner)
{
	struct job *j = owner;
	char buf[65536];
	while (j->call && !j->body_ended) {
		if (j->sent == j->body_size) {
			fncall_write_end(j->call);
			j->body_ended = true;
			break;
		}
		size_t want = j->body_size - j->sent < sizeof(buf)
		                  ? (size_t)(j->body_size - j->sent)
		                  : sizeof(buf);
		ssize_t r = pread(j->body_fd, buf, want, (off_t)j->sent);
		if (r <= 0) {
			fncall_write_end(j->call);
			j->body_ended = true;
			break;
		}
		ssize_t n = fncall_write(j->call, buf, (size_t)r);
		if (n < 0) { /* it takes no more of it */
			j->body_ended = true;
			break;
		}
		if (n == 0)
			return; /* woken when it takes more */
		j->sent += (uint64_t)n;
	}
	const struct fncall_resp *resp = j->call ? fncall_response(j->call) : NULL;
	if (!resp)
		return;
	for (;;) {
		ssize_t n = fncall_read(j->call, buf, sizeof(buf));
		if (n == 0)
			return;
		if (n > 0) {
			if (j->out_fd >= 0 && fc_write_all(j->out_fd, buf, (size_t)n) < 0) {
				close(j->out_fd);
				j->out_fd = -1;
			}
			continue;
		}
		/* the end (cut short: the function failed after its answer began) */
		answered(j, n == FNCALL_EOF ? resp->status : 500, resp->hdr, resp->n_hdr);
		return;
	}
}

/* Run the request id (QUEUED). */
static void run(struct gw_async *a, const char *qid)
{
	struct gateway *g = a->g;
	struct job *j = fc_calloc(1, sizeof(*j));
	j->a = a;
	j->id = fc_strdup(qid);
	j->body_fd = j->out_fd = -1;
	j->t0 = fc_now_ns();
	j->next = a->jobs;
	a->jobs = j;
	a->running++;
	struct fc_error *e = NULL;
	char *head = NULL;
	/* the marker first: from here on, a crash reports it failed, never
	 * runs it again */
	if (asyncq_start(a->q, j->id, &e) < 0 ||
	    asyncq_request(a->q, j->id, &head, &j->body_fd, &j->body_size, &e) < 0 ||
	    http_head_parse(head, strlen(head), false, &j->req) <= 0) {
		fc_log(FC_LOG_ERROR, "HTTP gateway: async %s: %s", j->id,
		       e ? e->msg : "a malformed request");
		fc_error_free(e);
		free(head);
		asyncq_remove(a->q, j->id);
		job_free(j);
		a->running--;
		return;
	}
	free(head);
	const char *fn = http_head_get(&j->req, "X-Fcstart-Function"),
	           *url = http_head_get(&j->req, "X-Callback-Url"),
	           *peer = http_head_get(&j->req, "X-Fcstart-Peer"),
	           *cid = http_head_get(&j->req, "X-Call-Id"),
	           *start = http_head_get(&j->req, "X-Start-Time");
	j->fn = fc_strdup(fn ? fn : "");
	j->url = url && callback_url_valid(url) ? fc_strdup(url) : NULL;
	j->out_fd = asyncq_answer_body(a->q, j->id, &e);
	if (j->out_fd < 0) {
		fc_log(FC_LOG_ERROR, "HTTP gateway: async %s: %s", j->id, e ? e->msg : "?");
		fc_error_free(e);
		e = NULL;
	}
	/* the function gets the request as a synchronous one */
	const char *target = j->req.target, *qm = strchr(target, '?');
	_cleanup_free_ char *path = fc_strndup(target, qm ? (size_t)(qm - target) : strlen(target));
	struct http_hdr *h = fc_calloc(j->req.n + 1, sizeof(*h));
	size_t n = 0;
	for (size_t i = 0; i < j->req.n; i++)
		if (strncasecmp(j->req.h[i].name, "X-Fcstart-", 10) != 0)
			h[n++] = j->req.h[i];
	struct fncall_req r = {.fn = j->fn,
	                       .method = j->req.method,
	                       .path = path,
	                       .query = qm ? qm + 1 : NULL,
	                       .hdr = h,
	                       .n_hdr = n,
	                       .body_len = (int64_t)j->body_size,
	                       .peer = peer,
	                       .call_id = cid ? cid : "",
	                       .start_ns = start ? strtoull(start, NULL, 10) : 0};
	int rc = fncall_start(g->d, g->l, &r, pump, j, &j->call, &e);
	free(h);
	if (rc < 0) {
		_cleanup_free_ char *msg = fc_asprintf("%s\n", e ? e->msg : "invocation failed");
		fc_error_free(e);
		answered_text(j, rc == -ENOENT ? 404 : 500, "failed", msg);
		return;
	}
	pump(j);
}

/* Requests of a previous run: interrupted ones are reported, kept answers
 * posted. */
static void recover(struct gw_async *a)
{
	const char *id;
	while (a->running < 64 && (id = asyncq_first(a->q, ASYNCQ_INTERRUPTED))) {
		struct job *j = fc_calloc(1, sizeof(*j));
		j->a = a;
		j->id = fc_strdup(id);
		j->body_fd = j->out_fd = -1;
		j->t0 = fc_now_ns();
		j->next = a->jobs;
		a->jobs = j;
		a->running++;
		char *head = NULL;
		struct fc_error *e = NULL;
		if (asyncq_request(a->q, j->id, &head, &j->body_fd, &j->body_size, &e) >= 0)
			http_head_parse(head, strlen(head), false, &j->req);
		fc_error_free(e);
		free(head);
		const char *fn = http_head_get(&j->req, "X-Fcstart-Function"),
		           *url = http_head_get(&j->req, "X-Callback-Url");
		j->fn = fc_strdup(fn ? fn : "");
		j->url = url && callback_url_valid(url) ? fc_strdup(url) : NULL;
		fc_log(FC_LOG_WARN,
		       "HTTP gateway: async %s of `%s`: a previous daemon stopped while it ran; "
		       "it is reported failed, not run again",
		       j->id, j->fn);
		answered_text(j, 500, "interrupted",
		              "fcstart: the daemon stopped while this invocation ran; it was not "
		              "run again\n");
	}
}

static void kick(struct gw_async *a)
{
	if (!a || !a->q || a->kicking || a->g->stopping)
		return;
	a->kicking = true;
	recover(a);
	const char *id;
	while (a->running < 64 && (id = asyncq_first(a->q, ASYNCQ_ANSWERED))) {
		bool taken = false;
		for (struct job *j = a->jobs; j && !taken; j = j->next)
			taken = FC_STREQ(j->id, id);
		if (taken)
			break;
		struct job *j = fc_calloc(1, sizeof(*j));
		j->a = a;
		j->id = fc_strdup(id);
		j->body_fd = j->out_fd = -1;
		j->next = a->jobs;
		a->jobs = j;
		a->running++;
		char *head = NULL;
		int body = -1;
		uint64_t size;
		struct fc_error *e = NULL;
		if (asyncq_request(a->q, j->id, &head, &body, &size, &e) >= 0)
			http_head_parse(head, strlen(head), false, &j->req);
		if (body >= 0)
			close(body);
		fc_error_free(e);
		free(head);
		const char *fn = http_head_get(&j->req, "X-Fcstart-Function"),
		           *url = http_head_get(&j->req, "X-Callback-Url");
		j->fn = fc_strdup(fn ? fn : "");
		j->url = url && callback_url_valid(url) ? fc_strdup(url) : NULL;
		post(j);
	}
	while (a->running < ASYNC_INFLIGHT && (id = asyncq_first(a->q, ASYNCQ_QUEUED)))
		run(a, id);
	a->kicking = false;
}

/* ---- start and stop ---------------------------------------------------------------------- */

void gw_async_start(struct gateway *g)
{
	struct gw_async *a = fc_calloc(1, sizeof(*a));
	a->g = g;
	g->async = a;
	_cleanup_free_ char *dir = fc_asprintf("%s/async", daemon_root(g->d));
	struct fc_error *e = NULL;
	if (asyncq_open(dir, &a->q, &e) < 0) {
		a->off_msg = fc_strdup(e ? e->msg : "?");
		fc_log(FC_LOG_WARN, "HTTP gateway: asynchronous invocations are off: %s",
		       a->off_msg);
		fc_error_free(e);
		return;
	}
	a->cb = callbacks_new(g->l);
	if (asyncq_len(a->q))
		fc_log(FC_LOG_INFO, "HTTP gateway: %zu asynchronous invocations of a previous run",
		       asyncq_len(a->q));
	kick(a);
}

void gw_async_stop(struct gateway *g)
{
	struct gw_async *a = g->async;
	if (!a)
		return;
	/* invocations under way end (they are reported failed at the next
	 * start), posts under way go (they are posted again then) */
	while (a->jobs)
		job_free(a->jobs);
	callbacks_free(a->cb);
	asyncq_free(a->q);
	free(a->off_msg);
	free(a);
	g->async = NULL;
}

#endif
