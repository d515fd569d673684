/* SPDX-License-Identifier: MIT */
/* gw-http.c: what the gateway's routes share (gw-http.h): libmicrohttpd's
 * table, answers, a request's parts, suspending its connection while a
 * function works and noticing its client leave meanwhile. */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "gw-http.h"

#ifdef FC_HAVE_MHD

/* libmicrohttpd is loaded when the gateway starts, not linked: it brings
 * GnuTLS and seven more libraries that every other fcstart command (image
 * import, invoke, ...) would otherwise load at its start for nothing, about
 * 1 ms warm and 20 ms with the page cache dropped. Soname 12 is the ABI of
 * every libmicrohttpd 0.9.x; the unversioned name is the -dev package's. */
struct mhd_api mhd_api;

int gw_mhd_load(struct fc_error **err)
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
	if (!(*(void **)&mhd_api.p_##f = dlsym(h, #f))) {                                          \
		dlclose(h);                                                                        \
		return fc_error_set(err, ENOENT, "HTTP gateway: libmicrohttpd lacks " #f);         \
	}
	MHD_FUNCS(X)
#undef X
	lib = h;
	return 0;
}

/* ---- answers ------------------------------------------------------------------- */

enum MHD_Result gw_respond(struct MHD_Connection *mc, unsigned status, const char *type,
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

enum MHD_Result gw_respond_text(struct MHD_Connection *mc, unsigned status, const char *msg)
{
	return gw_respond(mc, status, "text/plain; charset=utf-8", msg, strlen(msg));
}

enum MHD_Result gw_respond_error(struct MHD_Connection *mc, unsigned status,
                                 const struct fc_error *e)
{
	_cleanup_free_ char *msg = fc_asprintf("%s\n", e && e->msg ? e->msg : "failed");
	return gw_respond_text(mc, status, msg);
}

enum MHD_Result gw_respond_too_large(struct gw_req *q)
{
	_cleanup_free_ char *msg =
	    fc_asprintf("request body too large: at most %llu bytes (fcstart serve --max-body)\n",
	                (unsigned long long)q->g->max_body);
	return gw_respond_text(q->mc, 413, msg);
}

/* ---- requests ------------------------------------------------------------------- */

char *gw_fn_name(const char *s, size_t len)
{
	const char *dot = memchr(s, '.', len);
	/* NAME.NAMESPACE (faas-cli 0.16 and 0.17, the OpenFaaS gateway): the
	 * last dot, since a name may hold dots */
	for (const char *p = dot; p && p < s + len;
	     p = memchr(p + 1, '.', (size_t)(s + len - p - 1)))
		dot = p;
	if (dot) {
		size_t nl = (size_t)(dot - s);
		if ((size_t)(s + len - dot - 1) == strlen(GW_NAMESPACE) &&
		    memcmp(dot + 1, GW_NAMESPACE, strlen(GW_NAMESPACE)) == 0)
			return fc_strndup(s, nl);
	}
	_cleanup_free_ char *n = fc_strndup(s, len);
	if (fcpool_name_valid(n))
		return TAKE_PTR(n);
	return NULL;
}

char *gw_query(struct gw_req *q, const char *key)
{
	const char *v = MHD_lookup_connection_value(q->mc, MHD_GET_ARGUMENT_KIND, key);
	return v ? fc_strdup(v) : NULL;
}

struct hdr_list {
	struct http_hdr *h;
	size_t n;
};

static enum MHD_Result add_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
	struct hdr_list *l = cls;
	(void)kind;
	if (!key)
		return MHD_YES;
	if (l->n % 16 == 0)
		l->h = fc_realloc(l->h, (l->n + 16) * sizeof(*l->h));
	l->h[l->n++] =
	    (struct http_hdr){.name = fc_strdup(key), .value = fc_strdup(value ? value : "")};
	return MHD_YES;
}

void gw_headers(struct gw_req *q, struct http_hdr **h, size_t *n)
{
	struct hdr_list l = {0};
	MHD_get_connection_values(q->mc, MHD_HEADER_KIND, add_header, &l);
	*h = l.h;
	*n = l.n;
}

void gw_headers_free(struct http_hdr *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(h[i].name);
		free(h[i].value);
	}
	free(h);
}

void gw_peer(struct gw_req *q, char *buf, size_t len)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(q->mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	snprintf(buf, len, "127.0.0.1");
	if (!ci || !ci->client_addr)
		return;
	if (ci->client_addr->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ci->client_addr)->sin_addr, buf,
		          (socklen_t)len);
	else if (ci->client_addr->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ci->client_addr)->sin6_addr, buf,
		          (socklen_t)len);
}

/* ---- suspended requests ------------------------------------------------------------- */

static void inflight_add(struct gw_req *q)
{
	if (q->inflight)
		return;
	q->inflight = true;
	q->next = q->g->inflight;
	q->g->inflight = q;
}

void gw_req_done(struct gw_req *q)
{
	loop_unwatch(q->client_w);
	q->client_w = NULL;
	if (!q->inflight)
		return;
	for (struct gw_req **p = &q->g->inflight; *p; p = &(*p)->next)
		if (*p == q) {
			*p = q->next;
			break;
		}
	q->inflight = false;
}

/* The client's side of a suspended connection: libmicrohttpd does not look
 * at it until it is resumed, so a client that leaves meanwhile would go
 * unnoticed (and its function run on, to its timeout). */
static void on_client(void *data, short revents)
{
	struct gw_req *q = data;
	if (!(revents & (POLLRDHUP | POLLHUP | POLLERR)))
		return;
	fc_log(FC_LOG_DEBUG, "HTTP gateway: the client of %s left; its request ends",
	       q->target ? q->target : "?");
	q->client_gone = true;
	loop_unwatch(q->client_w);
	q->client_w = NULL;
	if (q->gone)
		q->gone(q);
	/* libmicrohttpd then finds the socket closed and completes the request */
	gw_resume(q);
}

void gw_suspend(struct gw_req *q)
{
	if (q->suspended || q->g->stopping)
		return;
	MHD_suspend_connection(q->mc);
	q->suspended = true;
	inflight_add(q);
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(q->mc, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci && !q->client_gone)
		q->client_w = loop_watch(q->g->l, ci->connect_fd, POLLRDHUP, on_client, q);
}

void gw_resume(struct gw_req *q)
{
	if (!q->suspended)
		return;
	loop_unwatch(q->client_w);
	q->client_w = NULL;
	q->suspended = false;
	MHD_resume_connection(q->mc);
}

#endif /* FC_HAVE_MHD */
