/* SPDX-License-Identifier: MIT */
/* gw-function.c: ANY /function/NAME[/PATH][?QUERY], the OpenFaaS invocation
 * route (NAME or NAME.openfaas-fn), over fncall.c. The request's body goes
 * to the function as libmicrohttpd hands it over: when the function takes
 * no more for now, the rest stays in libmicrohttpd's buffer and the
 * connection is suspended until it does (so a 50 MB body never sits in the
 * daemon); the answer streams back as the client takes it. */
#include <strings.h>
#include <time.h>

#include "fncall.h"
#include "gw-function.h"
#include "metrics.h"

#ifdef FC_HAVE_MHD

struct gw_fn {
	struct fncall *call;
	char *name;
	bool body_done; /* the client's body is complete */
	bool dropping;  /* the function takes no more of it: the rest is dropped */
	bool counted;   /* in the metrics */
};

static void wake(void *owner)
{
	gw_resume(owner);
}

static void count(struct gw_req *q, unsigned status)
{
	struct gw_fn *f = q->fn;
	if (!f || f->counted || !f->call)
		return;
	f->counted = true;
	const struct fncall_resp *r = fncall_response(f->call);
	gw_metrics_invocation(q->g->metrics, f->name, r ? r->status : status,
	                      fncall_seconds(f->call), r && r->cold);
}

/* The path and query of the raw target that follow /function/NAME. */
static void split_target(const char *target, char **path, char **query)
{
	const char *p = target, *q = strchr(target, '?');
	size_t plen = q ? (size_t)(q - p) : strlen(p);
	/* skip "/function/" and the name's segment (as sent: maybe escaped) */
	const char *rest = NULL;
	if (plen >= 10 && strncmp(p, "/function/", 10) == 0) {
		const char *slash = memchr(p + 10, '/', plen - 10);
		rest = slash ? slash : p + plen;
	} else {
		rest = p + plen;
	}
	*path = fc_strndup(rest, (size_t)(p + plen - rest));
	*query = q ? fc_strdup(q + 1) : NULL;
}

static void function_gone(struct gw_req *q);

enum MHD_Result gw_function_begin(struct gw_req *q, const char *method, const char *name,
                                  size_t name_len)
{
	struct gateway *g = q->g;
	if (g->stopping)
		return gw_respond_text(q->mc, 503, "the gateway is stopping\n");
	_cleanup_free_ char *fn = gw_fn_name(name, name_len);
	if (!fn) {
		_cleanup_free_ char *msg = fc_asprintf(
		    "no function `%.*s` (fcstart serves the namespace " GW_NAMESPACE ")\n",
		    (int)name_len, name);
		return gw_respond_text(q->mc, 404, msg);
	}
	struct http_hdr *h = NULL;
	size_t n = 0;
	gw_headers(q, &h, &n);
	_cleanup_free_ char *path = NULL, *query = NULL;
	split_target(q->target, &path, &query);
	const char *cl = MHD_lookup_connection_value(q->mc, MHD_HEADER_KIND, "Content-Length");
	const char *te = MHD_lookup_connection_value(q->mc, MHD_HEADER_KIND, "Transfer-Encoding");
	const char *cid = MHD_lookup_connection_value(q->mc, MHD_HEADER_KIND, "X-Call-Id");
	char call_id[37], peer[64];
	if (cid && *cid)
		snprintf(call_id, sizeof(call_id), "%s", cid);
	else
		fncall_new_call_id(call_id);
	gw_peer(q, peer, sizeof(peer));
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct fncall_req r = {
	    .fn = fn,
	    .method = method,
	    .path = path,
	    .query = query,
	    .hdr = h,
	    .n_hdr = n,
	    .body_len = cl          ? (int64_t)strtoull(cl, NULL, 10)
	                : te && *te ? -1
	                            : 0,
	    .peer = peer,
	    .call_id = cid && *cid ? cid : call_id,
	    .start_ns = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec,
	};
	struct gw_fn *f = fc_calloc(1, sizeof(*f));
	f->name = TAKE_PTR(fn);
	struct fc_error *e = NULL;
	int rc = fncall_start(g->d, g->l, &r, wake, q, &f->call, &e);
	gw_headers_free(h, n);
	if (rc < 0) {
		enum MHD_Result res = gw_respond_error(q->mc, rc == -ENOENT ? 404 : 500, e);
		gw_metrics_invocation(g->metrics, f->name, rc == -ENOENT ? 404 : 500, 0, false);
		fc_error_free(e);
		free(f->name);
		free(f);
		return res;
	}
	q->fn = f;
	q->gone = function_gone;
	return MHD_YES; /* the body comes next, or the end */
}

enum MHD_Result gw_function_body(struct gw_req *q, const char *data, size_t *size)
{
	struct gw_fn *f = q->fn;
	if (f->dropping || !f->call) {
		*size = 0;
		return MHD_YES;
	}
	ssize_t n = fncall_write(f->call, data, *size);
	if (n < 0) {
		/* it answered, or left: the rest of the body is dropped */
		f->dropping = true;
		*size = 0;
		return MHD_YES;
	}
	*size -= (size_t)n;
	if (*size)
		gw_suspend(q); /* the rest stays in libmicrohttpd's buffer until there is room */
	return MHD_YES;
}

/* libmicrohttpd asks for the answer's next bytes. */
static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct gw_req *q = cls;
	struct gw_fn *f = q->fn;
	(void)pos;
	if (!f || !f->call || q->client_gone)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	ssize_t n = fncall_read(f->call, buf, max);
	if (n > 0)
		return n;
	if (n == 0) {
		gw_suspend(q); /* as slow as the function is */
		return 0;
	}
	count(q, 0);
	if (n == FNCALL_EOF)
		return MHD_CONTENT_READER_END_OF_STREAM;
	/* cut short: the client sees it (a chunked answer left unfinished) */
	return MHD_CONTENT_READER_END_WITH_ERROR;
}

enum MHD_Result gw_function_end(struct gw_req *q)
{
	struct gw_fn *f = q->fn;
	if (!f->call)
		return MHD_NO;
	if (!f->body_done) {
		f->body_done = true;
		fncall_write_end(f->call);
	}
	const struct fncall_resp *resp = fncall_response(f->call);
	if (!resp) {
		gw_suspend(q); /* resumed when the function answers */
		return MHD_YES;
	}
	struct MHD_Response *r = MHD_create_response_from_callback(
	    resp->length >= 0 ? (uint64_t)resp->length : MHD_SIZE_UNKNOWN, 65536, reader, q, NULL);
	for (size_t i = 0; i < resp->n_hdr; i++)
		MHD_add_response_header(r, resp->hdr[i].name, resp->hdr[i].value);
	enum MHD_Result ret = MHD_queue_response(q->mc, resp->status, r);
	MHD_destroy_response(r);
	if (resp->length == 0)
		count(q, 0);
	return ret;
}

/* The client left while suspended: the invocation ends. */
static void function_gone(struct gw_req *q)
{
	struct gw_fn *f = q->fn;
	if (!f)
		return;
	count(q, 499);
	/* a classic function is killed, an HTTP instance freed */
	fncall_free(TAKE_PTR(f->call));
}

void gw_function_free(struct gw_req *q)
{
	struct gw_fn *f = q->fn;
	if (!f)
		return;
	count(q, 499);
	fncall_free(f->call);
	free(f->name);
	free(f);
	q->fn = NULL;
}

#endif
