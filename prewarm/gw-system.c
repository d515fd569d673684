/* SPDX-License-Identifier: MIT */
/* gw-system.c: the gateway's control routes, as faas-provider serves them
 * (they all need the credentials, checked by gateway.c): functions (list,
 * deploy, update, delete), one function's status, scale, info, namespaces,
 * secrets, logs (NDJSON, followed as lines come), and /metrics. The
 * documents are proto.c's; the work is the daemon's (daemon.h). */
#include <strings.h>
#include <time.h>

#include "fc-version.h"
#include "gw-pull.h"
#include "gw-system.h"
#include "metrics.h"
#include "logs.h"
#include "proto.h"

#ifdef FC_HAVE_MHD

/* The request's ?namespace= (as faas-cli 0.16 and 0.17 send it): "" and
 * openfaas-fn are fine; another is answered 400 (*r set). */
static bool namespace_ok(struct gw_req *q, enum MHD_Result *r)
{
	_cleanup_free_ char *ns = gw_query(q, "namespace");
	struct fc_error *e = NULL;
	if (proto_openfaas_namespace(ns, &e) >= 0)
		return true;
	*r = gw_respond_error(q->mc, 400, e);
	fc_error_free(e);
	return false;
}

static enum MHD_Result respond_json(struct gw_req *q, unsigned status, struct fc_buf *b)
{
	enum MHD_Result r =
	    gw_respond(q->mc, status, "application/json", b->data ? b->data : "", b->len);
	free(b->data);
	return r;
}

/* ---- functions --------------------------------------------------------------------- */

/* POST (update false) or PUT (true: the function must exist) /system/functions. */
static enum MHD_Result deploy(struct gw_req *q, bool update)
{
	struct fcpool_fn_spec spec;
	struct fc_error *e = NULL;
	char **notes = NULL;
	enum MHD_Result r;
	struct fcpool_fn_list l;
	if (proto_openfaas_deployment(q->body.data, &spec, &notes, &e) < 0) {
		r = gw_respond_error(q->mc, 400, e);
	} else if (update && daemon_list(q->g->d, spec.name, false, &l, &e) < 0) {
		/* faas-cli updates first, and deploys on a 404 */
		r = gw_respond_error(q->mc, 404, e);
	} else {
		if (update)
			daemon_list_free(&l);
		_cleanup_free_ char *name = fc_strdup(spec.name), *ref = NULL;
		int pulled = gw_pull_result(q, &e);
		for (size_t i = 0; pulled < 0 && notes && notes[i]; i++)
			fc_log(FC_LOG_INFO, "HTTP gateway: function `%s`: %s", name, notes[i]);
		/* an image to pull first: in a child, the request suspended
		 * (then this again, the body parsed again) */
		if (pulled < 0 && !q->g->stopping &&
		    daemon_image_to_pull(q->g->d, &spec, &ref) > 0 &&
		    gw_pull_start(q, ref, &e) == 0)
			pulled = 0;
		if (pulled == 0) {
			gw_suspend(q); /* resumed when the pull ends */
			r = MHD_YES;
		} else if (e) {
			/* a failed pull, or one that could not start */
			fc_error_wrap(&e, "function `%s`", name);
			r = gw_respond_error(q->mc, 400, e);
		} else if ((pulled == 1 ? daemon_deploy_pulled(q->g->d, &spec, &e)
		                        : daemon_deploy(q->g->d, &spec, &e)) < 0) {
			/* an image, a secret that is not there: the request's fault */
			r = gw_respond_error(q->mc, e && e->errnum == EBUSY ? 409 : 400, e);
		} else {
			fc_log(FC_LOG_INFO, "HTTP gateway: function `%s` %s", name,
			       update ? "updated" : "deployed");
			r = gw_respond_text(q->mc, 202, "");
		}
	}
	fc_strv_free(notes);
	fcpool_fn_spec_clear(&spec);
	fc_error_free(e);
	return r;
}

/* GET /system/functions, or one function's status (GET /system/function/NAME):
 * what the OpenFaaS gateway asks before invocations, so it is cheap (no
 * statistics). */
static enum MHD_Result list(struct gw_req *q, const char *one)
{
	enum MHD_Result r;
	if (!namespace_ok(q, &r))
		return r;
	struct fcpool_fn_list l;
	struct fc_error *e = NULL;
	_cleanup_free_ char *name = one ? gw_fn_name(one, strlen(one)) : NULL;
	if (one && !name)
		return gw_respond_text(q->mc, 404, "no such function\n");
	if (daemon_list(q->g->d, name, false, &l, &e) < 0) {
		r = gw_respond_error(q->mc, 404, e);
		fc_error_free(e);
		return r;
	}
	struct fc_buf b = {0};
	proto_openfaas_status_json(&l, one != NULL, &b);
	daemon_list_free(&l);
	return respond_json(q, 200, &b);
}

static enum MHD_Result remove_fn(struct gw_req *q)
{
	_cleanup_free_ char *given = NULL, *ns = NULL;
	struct fc_error *e = NULL;
	enum MHD_Result r;
	if (proto_openfaas_delete(q->body.data, &given, &ns, &e) < 0 ||
	    proto_openfaas_namespace(ns, &e) < 0) {
		r = gw_respond_error(q->mc, 400, e);
		fc_error_free(e);
		return r;
	}
	if (!given)
		return gw_respond_text(q->mc, 400, "delete request body: no \"functionName\"\n");
	_cleanup_free_ char *name = gw_fn_name(given, strlen(given));
	if (!name || daemon_remove(q->g->d, name, &e) < 0) {
		_cleanup_free_ char *msg = fc_asprintf("no function `%s`\n", given);
		fc_error_free(e);
		return gw_respond_text(q->mc, 404, msg);
	}
	fc_log(FC_LOG_INFO, "HTTP gateway: function `%s` removed", name);
	return gw_respond_text(q->mc, 202, "");
}

/* POST /system/scale-function/NAME {"replicas": N}: N sandboxes kept ready
 * (the pool's min; the max rises to N when below). */
static enum MHD_Result scale(struct gw_req *q, const char *given)
{
	_cleanup_free_ char *name = gw_fn_name(given, strlen(given));
	struct fcpool_fn_list l;
	if (!name || daemon_list(q->g->d, name, false, &l, NULL) < 0)
		return gw_respond_text(q->mc, 404, "no such function\n");
	double max = l.fns[0].max;
	daemon_list_free(&l);
	double replicas;
	struct fc_error *e = NULL;
	enum MHD_Result r;
	if (proto_openfaas_scale(q->body.data, &replicas, &e) < 0)
		r = gw_respond_error(q->mc, 400, e);
	else if (replicas < 0)
		r = gw_respond_text(q->mc, 400, "scale request body: expected {\"replicas\": N}\n");
	else if (daemon_scale(q->g->d, name, replicas,
	                      replicas > max ? replicas
	                      : max < 1      ? 1
	                                     : max,
	                      &e) < 0)
		r = gw_respond_error(q->mc, 400, e);
	else
		r = gw_respond_text(q->mc, 202, "");
	fc_error_free(e);
	return r;
}

/* ---- info, namespaces, secrets ----------------------------------------------------- */

/* The provider's info for the OpenFaaS gateway (which wraps it for its
 * clients); faas-cli talking to fcstart itself gets the gateway's form. */
static enum MHD_Result info(struct gw_req *q)
{
	const char *ua = MHD_lookup_connection_value(q->mc, MHD_HEADER_KIND, "User-Agent");
	struct fc_buf b = {0};
	proto_openfaas_info_json(ua && strncmp(ua, "faas-cli/", 9) == 0, FC_VERSION, FC_COMMIT, &b);
	return respond_json(q, 200, &b);
}

static enum MHD_Result secrets(struct gw_req *q, const char *method)
{
	struct daemon *d = q->g->d;
	struct fc_error *e = NULL;
	enum MHD_Result r;
	if (FC_STREQ(method, "GET")) {
		char **names = NULL;
		if (!namespace_ok(q, &r))
			return r;
		if (daemon_secret_list(d, &names, &e) < 0) {
			r = gw_respond_error(q->mc, 500, e);
		} else {
			struct fc_buf b = {0};
			proto_openfaas_secrets_json(names, &b);
			r = respond_json(q, 200, &b);
		}
		fc_strv_free(names);
		fc_error_free(e);
		return r;
	}
	if (!FC_STREQ(method, "POST") && !FC_STREQ(method, "PUT") && !FC_STREQ(method, "DELETE"))
		return gw_respond_text(q->mc, 405, "method not allowed\n");
	_cleanup_free_ char *name = NULL, *value = NULL;
	size_t len = 0;
	if (proto_openfaas_secret(q->body.data, &name, &value, &len, &e) < 0) {
		r = gw_respond_error(q->mc, 400, e);
		fc_error_free(e);
		return r;
	}
	int rc = FC_STREQ(method, "DELETE")
	             ? daemon_secret_remove(d, name, &e)
	             : daemon_secret_set(d, name, value, len, FC_STREQ(method, "PUT"), &e);
	if (value)
		explicit_bzero(value, len);
	if (rc < 0) {
		r = gw_respond_error(q->mc,
		                     rc == -ENOENT                   ? 404
		                     : rc == -EEXIST                 ? 409
		                     : rc == -EINVAL || rc == -E2BIG ? 400
		                                                     : 500,
		                     e);
		fc_error_free(e);
		return r;
	}
	/* names only: a value is never logged */
	fc_log(FC_LOG_INFO, "HTTP gateway: secret `%s` %s", name,
	       FC_STREQ(method, "DELETE") ? "removed"
	       : FC_STREQ(method, "PUT")  ? "updated"
	                                  : "created");
	return gw_respond_text(q->mc, FC_STREQ(method, "POST") ? 201 : 202, "");
}

/* ---- logs -------------------------------------------------------------------------- */

struct gw_logreq {
	char *fn, *instance;
	uint64_t seq, since_ns;
	bool follow;
	struct logs_watch *w;
	struct fc_buf out;
	size_t off;
};

static void log_wake(void *owner)
{
	gw_resume(owner);
}

/* libmicrohttpd asks for more: the next lines, as NDJSON. */
static ssize_t log_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct gw_req *q = cls;
	struct gw_logreq *lr = q->logs;
	(void)pos;
	if (!lr || q->client_gone)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	while (lr->out.len - lr->off < max) {
		struct logs_line line;
		if (daemon_log_next(q->g->d, lr->fn, &lr->seq, &line) < 0)
			break;
		if (line.time_ns < lr->since_ns ||
		    (lr->instance && !FC_STREQ(lr->instance, line.instance)))
			continue;
		proto_openfaas_log_json(lr->fn, line.instance, line.time_ns, line.text, &lr->out);
	}
	size_t n = lr->out.len - lr->off;
	if (n) {
		if (n > max)
			n = max;
		memcpy(buf, lr->out.data + lr->off, n);
		lr->off += n;
		if (lr->off == lr->out.len)
			lr->off = lr->out.len = 0;
		return (ssize_t)n;
	}
	if (!lr->follow)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (!lr->w)
		lr->w = daemon_log_watch(q->g->d, lr->fn, log_wake, q);
	gw_suspend(q); /* until lines come, or the client leaves */
	return 0;
}

/* GET /system/logs?name=NAME[&namespace=][&instance=][&since=RFC3339]
 * [&tail=N][&follow=true]. */
static void logs_gone(struct gw_req *q);

static enum MHD_Result logs(struct gw_req *q)
{
	enum MHD_Result r;
	if (!namespace_ok(q, &r))
		return r;
	_cleanup_free_ char *given = gw_query(q, "name"), *tail = gw_query(q, "tail"),
	                    *since = gw_query(q, "since"), *follow = gw_query(q, "follow"),
	                    *instance = gw_query(q, "instance");
	if (!given || !*given)
		return gw_respond_text(q->mc, 400, "logs: the query needs name=FUNCTION\n");
	_cleanup_free_ char *fn = gw_fn_name(given, strlen(given));
	struct fcpool_fn_list l;
	if (!fn || daemon_list(q->g->d, fn, false, &l, NULL) < 0) {
		_cleanup_free_ char *msg = fc_asprintf("no function `%s`\n", given);
		return gw_respond_text(q->mc, 404, msg);
	}
	daemon_list_free(&l);
	long n = -1;
	if (tail && *tail) {
		char *end;
		errno = 0;
		n = strtol(tail, &end, 10);
		if (errno || *end || end == tail)
			return gw_respond_text(q->mc, 400,
			                       "logs: tail: expected a number of lines\n");
	}
	uint64_t since_ns = 0;
	if (since && *since) {
		struct tm tm = {0};
		char *end = strptime(since, "%Y-%m-%dT%H:%M:%S", &tm);
		if (end && *end == '.')
			end += 1 + strspn(end + 1, "0123456789");
		int off = 0;
		if (end && (*end == '+' || *end == '-') && strlen(end) == 6) {
			int hh = atoi(end + 1), mm = atoi(end + 4);
			off = (*end == '-' ? -1 : 1) * (hh * 3600 + mm * 60);
			end += 6;
		} else if (end && *end == 'Z') {
			end++;
		}
		if (!end || *end)
			return gw_respond_text(q->mc, 400,
			                       "logs: since: expected an RFC 3339 time "
			                       "(2006-01-02T15:04:05Z)\n");
		since_ns = (uint64_t)(timegm(&tm) - off) * 1000000000ULL;
	}
	struct gw_logreq *lr = fc_calloc(1, sizeof(*lr));
	lr->fn = TAKE_PTR(fn);
	lr->instance = instance && *instance ? fc_strdup(instance) : NULL;
	lr->since_ns = since_ns;
	lr->follow = follow && (FC_STREQ(follow, "true") || FC_STREQ(follow, "1"));
	lr->seq = n >= 0 ? daemon_log_tail(q->g->d, lr->fn, (uint64_t)n) : 0;
	q->logs = lr;
	q->gone = logs_gone;
	struct MHD_Response *resp =
	    MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, log_reader, q, NULL);
	MHD_add_response_header(resp, "Content-Type", "application/x-ndjson");
	r = MHD_queue_response(q->mc, 200, resp);
	MHD_destroy_response(resp);
	return r;
}

/* The client left while following: no more lines wake it. */
static void logs_gone(struct gw_req *q)
{
	if (q->logs) {
		daemon_log_unwatch(q->g->d, q->logs->w);
		q->logs->w = NULL;
	}
}

void gw_logs_free(struct gw_req *q)
{
	struct gw_logreq *lr = q->logs;
	if (!lr)
		return;
	daemon_log_unwatch(q->g->d, lr->w);
	free(lr->fn);
	free(lr->instance);
	free(lr->out.data);
	free(lr);
	q->logs = NULL;
}

/* ---- the dispatch ------------------------------------------------------------------ */

static bool prefix(const char *url, const char *p)
{
	return strncmp(url, p, strlen(p)) == 0;
}

enum MHD_Result gw_system(struct gw_req *q, const char *url, const char *method)
{
	struct MHD_Connection *mc = q->mc;
	bool get = FC_STREQ(method, "GET") || FC_STREQ(method, "HEAD");
	if (FC_STREQ(url, "/system/functions")) {
		if (get)
			return list(q, NULL);
		if (FC_STREQ(method, "POST"))
			return deploy(q, false);
		if (FC_STREQ(method, "PUT"))
			return deploy(q, true);
		if (FC_STREQ(method, "DELETE"))
			return remove_fn(q);
	} else if (prefix(url, "/system/function/") && url[17]) {
		if (get)
			return list(q, url + 17);
	} else if (prefix(url, "/system/scale-function/") && url[23]) {
		if (FC_STREQ(method, "POST"))
			return scale(q, url + 23);
	} else if (FC_STREQ(url, "/system/info")) {
		if (get)
			return info(q);
	} else if (FC_STREQ(url, "/system/namespaces")) {
		if (get)
			return gw_respond(mc, 200, "application/json", "[\"" GW_NAMESPACE "\"]",
			                  strlen(GW_NAMESPACE) + 4);
	} else if (FC_STREQ(url, "/system/secrets")) {
		return secrets(q, method);
	} else if (FC_STREQ(url, "/system/logs")) {
		if (get)
			return logs(q);
	} else if (FC_STREQ(url, "/metrics")) {
		if (get) {
			struct fc_buf b = {0};
			gw_metrics_render(q->g->metrics, q->g->d, &b);
			enum MHD_Result r = gw_respond(mc, 200, "text/plain; version=0.0.4",
			                               b.data ? b.data : "", b.len);
			free(b.data);
			return r;
		}
	} else {
		return gw_respond_text(mc, 404, "not found\n");
	}
	return gw_respond_text(mc, 405, "method not allowed\n");
}

#endif
