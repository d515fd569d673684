/* SPDX-License-Identifier: MIT */
/* proto.c: libfcpool's JSON and the daemon's wire, both sides (proto.h):
 * function specs (function.json, the deploy request), the API socket's
 * requests, replies and events, the OpenFaaS faas-provider documents, the
 * transport of one message with its descriptors. yajl is reached from here
 * only. */
#include <ctype.h>
#include <fcntl.h>
#include <math.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <yajl/yajl_tree.h>

#include "auth.h"
#include "httpmsg.h"
#include "proto.h"

/* ---- reading documents ----------------------------------------------------- */

/* Parse a document whose nesting was checked first; NULL with *err set. */
static yajl_val doc_parse(const char *json, const char *what, struct fc_error **err)
{
	if (fc_json_check_depth(json, strlen(json), FC_JSON_MAX_DEPTH, what, err) < 0)
		return NULL;
	char ebuf[256];
	yajl_val v = yajl_tree_parse(json, ebuf, sizeof(ebuf));
	if (!v || !YAJL_IS_OBJECT(v)) {
		yajl_tree_free(v);
		fc_error_set(err, EINVAL, "%s: not a JSON object", what);
		return NULL;
	}
	return v;
}

static yajl_val get(yajl_val v, const char *key, yajl_type t)
{
	const char *path[] = {key, NULL};
	return v ? yajl_tree_get(v, path, t) : NULL;
}

static const char *js_str(yajl_val v, const char *key)
{
	yajl_val x = get(v, key, yajl_t_string);
	return x ? YAJL_GET_STRING(x) : NULL;
}

static bool js_num(yajl_val v, const char *key, double *out)
{
	yajl_val x = get(v, key, yajl_t_number);
	if (!x)
		return false;
	*out = YAJL_IS_INTEGER(x) ? (double)YAJL_GET_INTEGER(x) : YAJL_GET_DOUBLE(x);
	return true;
}

/* A number member in [lo, hi], else dflt (also for NaN and the infinities
 * that JSON numbers out of a double's range become): what is converted to an
 * integer type must be in its range, a double must print as JSON. */
static double js_num_or(yajl_val v, const char *key, double dflt, double lo, double hi)
{
	double d;
	return js_num(v, key, &d) && d >= lo && d <= hi ? d : dflt;
}

#define JS_INT_MAX    2147483647.0
#define JS_UINT_MAX   4294967295.0
#define JS_UINT64_MAX 18446744073709549568.0 /* the largest double below 2^64 */
#define JS_INT64_MAX  9223372036854774784.0  /* the largest double below 2^63 */
#define JS_DBL_MAX    1.7976931348623157e308

static bool js_true(yajl_val v, const char *key)
{
	yajl_val x = get(v, key, yajl_t_any);
	return x && YAJL_IS_TRUE(x);
}

/* The strings of an array (other elements are skipped); NULL when absent. */
static char **js_strv(yajl_val v, const char *key)
{
	yajl_val x = get(v, key, yajl_t_array);
	if (!x)
		return NULL;
	size_t n = YAJL_GET_ARRAY(x)->len;
	char **out = fc_calloc(n + 1, sizeof(char *));
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		yajl_val e = YAJL_GET_ARRAY(x)->values[i];
		if (YAJL_IS_STRING(e))
			out[k++] = fc_strdup(YAJL_GET_STRING(e));
	}
	return out;
}

static void strv_json(struct fc_buf *b, char *const *v)
{
	fc_buf_printf(b, "[");
	for (size_t i = 0; v && v[i]; i++) {
		if (i)
			fc_buf_printf(b, ",");
		fc_buf_json_string(b, v[i]);
	}
	fc_buf_printf(b, "]");
}

/* ---- function specs -------------------------------------------------------- */

void fcpool_fn_spec_json(const struct fcpool_fn_spec *s, struct fc_buf *b)
{
	fc_buf_printf(b, "{\"name\":");
	fc_buf_json_string(b, s->name);
	fc_buf_printf(b, ",\"image\":");
	fc_buf_json_string(b, s->image);
	fc_buf_printf(b, ",\"mode\":\"%s\",", s->mode == FCPOOL_HTTP ? "http" : "classic");
	if (s->mode_auto)
		fc_buf_printf(b, "\"mode_auto\":true,");
	if (s->read_only)
		fc_buf_printf(b, "\"read_only\":true,");
	if (s->created_ms)
		fc_buf_printf(b, "\"created_ms\":%llu,", (unsigned long long)s->created_ms);
	static const char *const lists[] = {"annotations", "secrets", "meta"};
	char **const vals[] = {s->annotations, s->secrets, s->meta};
	for (size_t i = 0; i < FC_ARRAY_SIZE(lists); i++)
		if (vals[i]) {
			fc_buf_printf(b, "\"%s\":", lists[i]);
			strv_json(b, vals[i]);
			fc_buf_printf(b, ",");
		}
	fc_buf_printf(b, "\"env\":");
	strv_json(b, s->env);
	fc_buf_printf(b, ",\"labels\":");
	strv_json(b, s->labels);
	if (s->args) {
		fc_buf_printf(b, ",\"args\":");
		strv_json(b, s->args);
	}
	if (s->userns_host)
		fc_buf_printf(b, ",\"userns\":\"host\"");
	if (s->prewarm)
		fc_buf_printf(b, ",\"prewarm\":\"%s\"", fcpool_prewarm_name(s->prewarm));
	if (s->readiness) {
		fc_buf_printf(b, ",\"readiness\":");
		fc_buf_json_string(b, s->readiness);
	}
	if (s->ready_timeout_ms)
		fc_buf_printf(b, ",\"ready_timeout_ms\":%llu",
		              (unsigned long long)s->ready_timeout_ms);
	fc_buf_printf(b,
	              ",\"memory\":%llu,\"cpus\":%.17g,\"timeout_ms\":%llu,\"pids\":%u,\"min\":%u,"
	              "\"max\":%u}",
	              (unsigned long long)s->memory, s->cpus, (unsigned long long)s->timeout_ms,
	              s->pids, s->min, s->max);
}

/* A number member: 0 when absent, 1 when in [0, max], else an error naming
 * the field (also NaN and infinities, which JSON numbers out of range become):
 * the callers convert it to an integer type. */
static int spec_num(yajl_val v, const char *fn, const char *key, double max, double *out,
                    struct fc_error **err)
{
	if (!js_num(v, key, out))
		return 0;
	if (!(*out >= 0 && *out <= max))
		return fc_error_set(err, EINVAL, "function `%s`: %s %g: expected a number in 0..%g",
		                    fn, key, *out, max);
	return 1;
}

/* A new spec's name, image and mode ("classic", "http" or "auto"; NULL:
 * classic). */
static int spec_start(struct fcpool_fn_spec *s, const char *name, const char *image,
                      const char *mode, struct fc_error **err)
{
	memset(s, 0, sizeof(*s));
	s->name = name ? fc_strdup(name) : NULL;
	s->image = image ? fc_strdup(image) : NULL;
	s->max = FCPOOL_DEFAULT_MAX;
	int r = fcpool_fn_spec_check(s, err); /* the name and the image: the rest is to come */
	if (r >= 0 && mode && !FC_STREQ(mode, "classic") && !FC_STREQ(mode, "http") &&
	    !FC_STREQ(mode, "auto"))
		r = fc_error_set(err, EINVAL,
		                 "function `%s`: mode `%s`: expected classic, http or auto", name,
		                 mode);
	if (r < 0) {
		fcpool_fn_spec_clear(s);
		return r;
	}
	s->mode = mode && FC_STREQ(mode, "http") ? FCPOOL_HTTP : FCPOOL_CLASSIC;
	s->mode_auto = mode && FC_STREQ(mode, "auto");
	return 0;
}

static int spec_from_tree(yajl_val v, struct fcpool_fn_spec *s, struct fc_error **err)
{
	const char *name = js_str(v, "name"), *image = js_str(v, "image"),
	           *mode = js_str(v, "mode");
	double d;
	int r = spec_start(s, name, image, mode, err);
	if (r < 0)
		return r;
	s->env = js_strv(v, "env");
	s->labels = js_strv(v, "labels");
	s->args = js_strv(v, "args");
	s->annotations = js_strv(v, "annotations");
	s->secrets = js_strv(v, "secrets");
	s->meta = js_strv(v, "meta");
	s->mode_auto = s->mode_auto || js_true(v, "mode_auto");
	s->read_only = js_true(v, "read_only");
	s->created_ms = (uint64_t)js_num_or(v, "created_ms", 0, 0, 1e15);
	if (s->args && !s->args[0]) {
		fc_strv_free(s->args);
		s->args = NULL;
	}
	/* bytes below 2^63 (a cgroup's int64), at most 65536 CPUs, about 31
	 * years in ms (the daemon's deadlines add it in ns to a uint64) */
	if ((r = spec_num(v, name, "memory", 9223372036854774784.0, &d, err)) < 0)
		goto out;
	if (r)
		s->memory = (uint64_t)d;
	if ((r = spec_num(v, name, "cpus", 65536, &d, err)) < 0)
		goto out;
	if (r)
		s->cpus = d;
	if ((r = spec_num(v, name, "timeout_ms", 1e12, &d, err)) < 0)
		goto out;
	if (r)
		s->timeout_ms = (uint64_t)d;
	if ((r = spec_num(v, name, "pids", FCPOOL_MAX_PIDS, &d, err)) < 0)
		goto out;
	if (r)
		s->pids = (unsigned)d;
	const char *userns = js_str(v, "userns");
	if (userns && !FC_STREQ(userns, "host") && !FC_STREQ(userns, "private")) {
		r = fc_error_set(err, EINVAL,
		                 "function `%s`: userns `%s`: expected private or host", name,
		                 userns);
		goto out;
	}
	s->userns_host = userns && FC_STREQ(userns, "host");
	const char *prewarm = js_str(v, "prewarm"), *readiness = js_str(v, "readiness");
	if (prewarm && fcpool_prewarm_parse(prewarm, &s->prewarm) < 0) {
		r = fc_error_set(err, EINVAL,
		                 "function `%s`: prewarm `%s`: expected exec, started or fork",
		                 name, prewarm);
		goto out;
	}
	if (readiness && *readiness)
		s->readiness = fc_strdup(readiness);
	if ((r = spec_num(v, name, "ready_timeout_ms", 86400000, &d, err)) < 0)
		goto out;
	if (r)
		s->ready_timeout_ms = (uint64_t)d;
	if ((r = fcpool_fn_spec_limits(s, err)) < 0)
		goto out;
	if (userns) /* the field wins over the label */
		s->userns_host = FC_STREQ(userns, "host");
	fcpool_fn_spec_labels(s);
	if ((r = spec_num(v, name, "min", 10000, &d, err)) < 0)
		goto out;
	if (r)
		s->min = (unsigned)d;
	if ((r = spec_num(v, name, "max", 10000, &d, err)) < 0)
		goto out;
	if (r && d >= 1)
		s->max = (unsigned)d;
	r = fcpool_fn_spec_check(s, err);
out:
	if (r < 0)
		fcpool_fn_spec_clear(s);
	return r;
}

int fcpool_fn_spec_parse(const char *json, struct fcpool_fn_spec *s, struct fc_error **err)
{
	memset(s, 0, sizeof(*s));
	yajl_val v = doc_parse(json, "function spec", err);
	if (!v)
		return -EINVAL;
	int r = spec_from_tree(v, s, err);
	yajl_tree_free(v);
	return r;
}

/* ---- requests -------------------------------------------------------------- */

static const char *const op_names[] = {
    [PROTO_PING] = "ping",     [PROTO_DEPLOY] = "deploy", [PROTO_LS] = "ls",
    [PROTO_RM] = "rm",         [PROTO_SCALE] = "scale",   [PROTO_STATS] = "stats",
    [PROTO_INVOKE] = "invoke", [PROTO_LOGS] = "logs",
};

void proto_request_json(const struct proto_request *r, struct fc_buf *b)
{
	if (r->op == PROTO_DEPLOY) {
		/* the spec's document with "op" in front */
		struct fc_buf spec = {0};
		fcpool_fn_spec_json(&r->spec, &spec);
		fc_buf_printf(b, "{\"op\":\"deploy\",%s", spec.data + 1);
		free(spec.data);
		return;
	}
	fc_buf_printf(b, "{\"op\":\"%s\"", op_names[r->op]);
	if (r->name) {
		fc_buf_printf(b, ",\"name\":");
		fc_buf_json_string(b, r->name);
	}
	if (r->op == PROTO_INVOKE) {
		fc_buf_printf(b, ",\"env\":");
		strv_json(b, r->env);
	}
	if (r->op == PROTO_LOGS)
		fc_buf_printf(b, ",\"tail\":%ld,\"follow\":%s", r->tail,
		              r->follow ? "true" : "false");
	if (r->has_min)
		fc_buf_printf(b, ",\"min\":%.17g", r->min);
	if (r->has_max)
		fc_buf_printf(b, ",\"max\":%.17g", r->max);
	if (r->usage)
		fc_buf_printf(b, ",\"usage\":true");
	fc_buf_printf(b, "}");
}

int proto_request_parse(const char *json, struct proto_request *r, struct fc_error **err)
{
	memset(r, 0, sizeof(*r));
	yajl_val v = doc_parse(json, "request", err);
	if (!v)
		return fc_error_code(*err);
	const char *op = js_str(v, "op"), *name = js_str(v, "name");
	int k, rc = 0;
	for (k = PROTO_PING; k <= PROTO_LOGS; k++)
		if (op && FC_STREQ(op, op_names[k]))
			break;
	if (!op) {
		rc = fc_error_set(err, EINVAL, "request is not a JSON object with \"op\"");
		goto out;
	}
	if (k > PROTO_LOGS) {
		rc = fc_error_set(err, EINVAL, "unknown op `%s`", op);
		goto out;
	}
	r->op = (enum proto_op)k;
	r->name = name ? fc_strdup(name) : NULL;
	if (r->op == PROTO_DEPLOY)
		rc = spec_from_tree(v, &r->spec, err);
	if (r->op == PROTO_INVOKE)
		r->env = js_strv(v, "env");
	if (r->op == PROTO_LOGS) {
		r->tail = (long)js_num_or(v, "tail", -1, -1, JS_INT_MAX);
		r->follow = js_true(v, "follow");
	}
	r->has_min = js_num(v, "min", &r->min);
	r->has_max = js_num(v, "max", &r->max);
	r->usage = js_true(v, "usage");
out:
	yajl_tree_free(v);
	if (rc < 0)
		proto_request_clear(r);
	return rc;
}

void proto_request_clear(struct proto_request *r)
{
	free(r->name);
	fcpool_fn_spec_clear(&r->spec);
	fc_strv_free(r->env);
	memset(r, 0, sizeof(*r));
}

/* ---- replies --------------------------------------------------------------- */

void proto_reply_ok(struct fc_buf *b)
{
	fc_buf_printf(b, "{\"ok\":true}");
}

void proto_reply_error(struct fc_buf *b, int errnum, const char *msg)
{
	fc_buf_printf(b, "{\"ok\":false,\"errno\":%d,\"error\":", errnum);
	fc_buf_json_string(b, msg);
	fc_buf_printf(b, "}");
}

/* A reply's document, or the daemon's refusal as an error. */
static yajl_val reply_parse(const char *json, struct fc_error **err)
{
	struct fc_error *e = NULL;
	yajl_val v = doc_parse(json, "reply of the fcstart daemon", &e);
	if (!v) {
		fc_error_relay(err, EPROTO, "bad reply from the fcstart daemon: %s", e->msg);
		fc_error_free(e);
		return NULL;
	}
	if (!js_true(v, "ok")) {
		const char *msg = js_str(v, "error");
		fc_error_relay(err, (int)js_num_or(v, "errno", EIO, 1, JS_INT_MAX), "%s",
		               msg && *msg ? msg : "the daemon refused the request");
		yajl_tree_free(v);
		return NULL;
	}
	return v;
}

int proto_reply_check(const char *json, struct fc_error **err)
{
	yajl_val v = reply_parse(json, err);
	if (!v)
		return fc_error_code(*err);
	yajl_tree_free(v);
	return 0;
}

void fcpool_event_json(const struct fcpool_event *ev, struct fc_buf *b)
{
	switch (ev->kind) {
	case FCPOOL_EV_STARTED:
		fc_buf_printf(b, "{\"ok\":true,\"event\":\"started\",\"id\":");
		fc_buf_json_string(b, ev->id);
		fc_buf_printf(b,
		              ",\"handover_us\":%.1f,\"exec_us\":%.1f,\"wait_us\":%.1f,"
		              "\"on_demand\":%s}",
		              ev->handover_us, ev->exec_us, ev->wait_us,
		              ev->on_demand ? "true" : "false");
		break;
	case FCPOOL_EV_CONNECTED:
		fc_buf_printf(b, "{\"ok\":true,\"event\":\"connected\",\"id\":");
		fc_buf_json_string(b, ev->id);
		fc_buf_printf(
		    b,
		    ",\"cold\":%s,\"handover_us\":%.1f,\"ready_us\":%.1f,\"wait_us\":%.1f,"
		    "\"on_demand\":%s}",
		    ev->cold ? "true" : "false", ev->handover_us, ev->ready_us, ev->wait_us,
		    ev->on_demand ? "true" : "false");
		break;
	case FCPOOL_EV_EXIT:
		fc_buf_printf(b, "{\"ok\":true,\"event\":\"exit\",\"status\":%d", ev->status);
		if (ev->signal)
			fc_buf_printf(b, ",\"signal\":%d", ev->signal);
		fc_buf_printf(b, "%s}", ev->timeout ? ",\"timeout\":true" : "");
		break;
	case FCPOOL_EV_ERROR:
	default:
		proto_reply_error(b, ev->errnum, ev->error ? ev->error : "failed");
		break;
	}
}

int proto_event_parse(const char *json, struct fcpool_event *ev, struct fc_error **err)
{
	memset(ev, 0, sizeof(*ev));
	ev->sock = -1;
	yajl_val v = reply_parse(json, err);
	if (!v)
		return fc_error_code(*err);
	const char *kind = js_str(v, "event"), *id = js_str(v, "id");
	int r = 0;
	if (kind && FC_STREQ(kind, "started"))
		ev->kind = FCPOOL_EV_STARTED;
	else if (kind && FC_STREQ(kind, "connected"))
		ev->kind = FCPOOL_EV_CONNECTED;
	else if (kind && FC_STREQ(kind, "exit"))
		ev->kind = FCPOOL_EV_EXIT;
	else
		r = fc_error_set(err, EPROTO, "reply of the fcstart daemon: event `%s`",
		                 kind ? kind : "");
	snprintf(ev->id, sizeof(ev->id), "%s", id ? id : "");
	ev->handover_us = js_num_or(v, "handover_us", 0, 0, JS_DBL_MAX);
	ev->exec_us = js_num_or(v, "exec_us", 0, 0, JS_DBL_MAX);
	ev->wait_us = js_num_or(v, "wait_us", 0, 0, JS_DBL_MAX);
	ev->ready_us = js_num_or(v, "ready_us", 0, 0, JS_DBL_MAX);
	ev->on_demand = js_true(v, "on_demand");
	ev->cold = js_true(v, "cold");
	ev->status = (int)js_num_or(v, "status", 125, -JS_INT_MAX - 1, JS_INT_MAX);
	ev->signal = (int)js_num_or(v, "signal", 0, 0, JS_INT_MAX);
	ev->timeout = js_true(v, "timeout");
	yajl_tree_free(v);
	return r;
}

/* ---- function lists (ls, stats) -------------------------------------------- */

void fcpool_fn_list_clear(struct fcpool_fn_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		fcpool_fn_spec_clear(&l->fns[i].spec);
	free(l->fns);
	memset(l, 0, sizeof(*l));
}

static void latency_json(struct fc_buf *b, const char *key, const struct fcpool_latency *l)
{
	if (l->n)
		fc_buf_printf(
		    b, ",\"%s\":{\"n\":%zu,\"p50\":%.1f,\"p95\":%.1f,\"p99\":%.1f,\"max\":%.1f}",
		    key, l->n, l->p50, l->p95, l->p99, l->max);
	else
		fc_buf_printf(b, ",\"%s\":null", key);
}

static void fn_status_json(struct fc_buf *b, const struct fcpool_fn_status *f, bool stats)
{
	fc_buf_printf(b, "{\"name\":");
	fc_buf_json_string(b, f->spec.name);
	if (!stats) {
		fc_buf_printf(b, ",\"spec\":");
		fcpool_fn_spec_json(&f->spec, b);
	}
	fc_buf_printf(
	    b,
	    ",\"min\":%u,\"max\":%u,\"waiting\":%u,\"creating\":%u,\"running\":%u,\"queued\":%u,"
	    "\"handovers\":%llu,\"requests\":%llu,\"on_demand\":%llu,\"creates\":%llu,"
	    "\"create_failures\":%llu,\"handover_failures\":%llu,\"busy\":%llu,\"reaped\":%llu",
	    f->min, f->max, f->waiting, f->creating, f->running, f->queued,
	    (unsigned long long)f->handovers, (unsigned long long)f->requests,
	    (unsigned long long)f->on_demand, (unsigned long long)f->creates,
	    (unsigned long long)f->create_failures, (unsigned long long)f->handover_failures,
	    (unsigned long long)f->busy, (unsigned long long)f->reaped);
	fc_buf_printf(b, ",\"starting\":%u,\"ready_failures\":%llu", f->starting,
	              (unsigned long long)f->ready_failures);
	if (f->last_error[0]) {
		fc_buf_printf(b, ",\"last_error\":");
		fc_buf_json_string(b, f->last_error);
	}
	if (f->template_state[0])
		fc_buf_printf(b, ",\"template\":{\"state\":\"%s\",\"made\":%llu,\"failures\":%llu}",
		              f->template_state, (unsigned long long)f->templates,
		              (unsigned long long)f->template_failures);
	if (stats) {
		fc_buf_printf(
		    b,
		    ",\"waiting_memory\":%llu,\"waiting_cpu_ms\":%llu,\"template_memory\":%"
		    "llu,\"template_cpu_ms\":%llu",
		    (unsigned long long)f->waiting_memory, (unsigned long long)f->waiting_cpu_ms,
		    (unsigned long long)f->template_memory, (unsigned long long)f->template_cpu_ms);
		fc_buf_printf(b, ",\"create_ms_mean\":%.3f", f->create_ms_mean);
		latency_json(b, "handover_us", &f->handover_us);
		latency_json(b, "exec_us", &f->exec_us);
		latency_json(b, "create_us", &f->create_us);
		latency_json(b, "ready_us", &f->ready_us);
	}
	fc_buf_printf(b, "}");
}

void fcpool_fn_list_json(const struct fcpool_fn_list *l, struct fc_buf *b)
{
	fc_buf_printf(b, "{\"ok\":true,\"functions\":[");
	for (size_t i = 0; i < l->n; i++) {
		if (i)
			fc_buf_printf(b, ",");
		fn_status_json(b, &l->fns[i], l->stats);
	}
	fc_buf_printf(b, "]");
	const struct fcpool_host *h = &l->host;
	if (l->stats && h->known)
		fc_buf_printf(
		    b,
		    ",\"host\":{\"sandboxes\":%u,\"mem_available_kib\":%lld,\"slab_kib\":%lld,"
		    "\"sunreclaim_kib\":%lld,\"start\":{\"mem_available_kib\":%lld,"
		    "\"slab_kib\":%lld,\"sunreclaim_kib\":%lld}}",
		    h->sandboxes, (long long)h->mem_available_kib, (long long)h->slab_kib,
		    (long long)h->sunreclaim_kib, (long long)h->start_mem_available_kib,
		    (long long)h->start_slab_kib, (long long)h->start_sunreclaim_kib);
	fc_buf_printf(b, "}");
}

static void latency_from_tree(yajl_val v, const char *key, struct fcpool_latency *l)
{
	yajl_val o = get(v, key, yajl_t_object);
	memset(l, 0, sizeof(*l));
	if (!o)
		return;
	l->n = (size_t)js_num_or(o, "n", 0, 0, JS_UINT_MAX);
	l->p50 = js_num_or(o, "p50", 0, 0, JS_DBL_MAX);
	l->p95 = js_num_or(o, "p95", 0, 0, JS_DBL_MAX);
	l->p99 = js_num_or(o, "p99", 0, 0, JS_DBL_MAX);
	l->max = js_num_or(o, "max", 0, 0, JS_DBL_MAX);
}

static int fn_status_from_tree(yajl_val v, bool stats, struct fcpool_fn_status *f,
                               struct fc_error **err)
{
	const char *name = js_str(v, "name");
	if (!name)
		return fc_error_set(err, EPROTO,
		                    "reply of the fcstart daemon: a function without a name");
	if (!stats) {
		yajl_val spec = get(v, "spec", yajl_t_object);
		int r = spec ? spec_from_tree(spec, &f->spec, err)
		             : fc_error_set(err, EPROTO,
		                            "reply of the fcstart daemon: function `%s` "
		                            "without a spec",
		                            name);
		if (r < 0)
			return r;
	} else {
		f->spec.name = fc_strdup(name);
	}
#define U(k) (unsigned)js_num_or(v, #k, 0, 0, JS_UINT_MAX)
#define N(k) (uint64_t) js_num_or(v, #k, 0, 0, JS_UINT64_MAX)
	f->min = U(min);
	f->max = U(max);
	f->waiting = U(waiting);
	f->creating = U(creating);
	f->running = U(running);
	f->queued = U(queued);
	f->handovers = N(handovers);
	f->requests = N(requests);
	f->on_demand = N(on_demand);
	f->creates = N(creates);
	f->create_failures = N(create_failures);
	f->handover_failures = N(handover_failures);
	f->busy = N(busy);
	f->reaped = N(reaped);
	f->starting = U(starting);
	f->ready_failures = N(ready_failures);
	f->waiting_memory = N(waiting_memory);
	f->waiting_cpu_ms = N(waiting_cpu_ms);
	f->template_memory = N(template_memory);
	f->template_cpu_ms = N(template_cpu_ms);
	const char *le = js_str(v, "last_error");
	snprintf(f->last_error, sizeof(f->last_error), "%s", le ? le : "");
	yajl_val t = get(v, "template", yajl_t_object);
	if (t) {
		const char *ts = js_str(t, "state");
		snprintf(f->template_state, sizeof(f->template_state), "%s", ts ? ts : "");
		f->templates = (uint64_t)js_num_or(t, "made", 0, 0, JS_UINT64_MAX);
		f->template_failures = (uint64_t)js_num_or(t, "failures", 0, 0, JS_UINT64_MAX);
	}
#undef U
#undef N
	f->create_ms_mean = js_num_or(v, "create_ms_mean", 0, 0, JS_DBL_MAX);
	latency_from_tree(v, "handover_us", &f->handover_us);
	latency_from_tree(v, "exec_us", &f->exec_us);
	latency_from_tree(v, "create_us", &f->create_us);
	latency_from_tree(v, "ready_us", &f->ready_us);
	return 0;
}

int proto_fn_list_parse(const char *json, bool stats, struct fcpool_fn_list *l,
                        struct fc_error **err)
{
	memset(l, 0, sizeof(*l));
	l->stats = stats;
	yajl_val v = reply_parse(json, err);
	if (!v)
		return fc_error_code(*err);
	yajl_val fns = get(v, "functions", yajl_t_array);
	size_t n = fns ? YAJL_GET_ARRAY(fns)->len : 0;
	l->fns = fc_calloc(n ? n : 1, sizeof(*l->fns));
	int r = 0;
	for (size_t i = 0; i < n && r >= 0; i++) {
		r = fn_status_from_tree(YAJL_GET_ARRAY(fns)->values[i], stats, &l->fns[i], err);
		l->n = i + 1;
	}
	yajl_val h = get(v, "host", yajl_t_object);
	yajl_val hs = h ? get(h, "start", yajl_t_object) : NULL;
	if (stats && h && hs) {
#define K(o, k) (int64_t) js_num_or(o, k, -1, -1, JS_INT64_MAX)
		l->host = (struct fcpool_host){
		    .known = true,
		    .sandboxes = (unsigned)js_num_or(h, "sandboxes", 0, 0, JS_UINT_MAX),
		    .mem_available_kib = K(h, "mem_available_kib"),
		    .slab_kib = K(h, "slab_kib"),
		    .sunreclaim_kib = K(h, "sunreclaim_kib"),
		    .start_mem_available_kib = K(hs, "mem_available_kib"),
		    .start_slab_kib = K(hs, "slab_kib"),
		    .start_sunreclaim_kib = K(hs, "sunreclaim_kib"),
		};
#undef K
	}
	yajl_tree_free(v);
	if (r < 0)
		fcpool_fn_list_clear(l);
	return r;
}

/* ---- log batches ------------------------------------------------------------ */

void proto_log_batch_begin(struct fc_buf *b)
{
	fc_buf_printf(b, "{\"ok\":true,\"event\":\"log\",\"lines\":[");
}

void proto_log_batch_line(struct fc_buf *b, bool first, const char *instance, uint64_t time_ns,
                          const char *text)
{
	fc_buf_printf(b, "%s{\"instance\":", first ? "" : ",");
	fc_buf_json_string(b, instance);
	fc_buf_printf(b, ",\"time_ns\":%llu,\"text\":", (unsigned long long)time_ns);
	fc_buf_json_string(b, text);
	fc_buf_printf(b, "}");
}

void proto_log_batch_end(struct fc_buf *b)
{
	fc_buf_printf(b, "]}");
}

void fcpool_log_batch_clear(struct fcpool_log_batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		free(b->lines[i].instance);
		free(b->lines[i].text);
	}
	free(b->lines);
	memset(b, 0, sizeof(*b));
}

int proto_log_batch_parse(const char *json, struct fcpool_log_batch *out, struct fc_error **err)
{
	memset(out, 0, sizeof(*out));
	yajl_val v = reply_parse(json, err);
	if (!v)
		return fc_error_code(*err);
	const char *ev = js_str(v, "event");
	int r = 0;
	if (ev && FC_STREQ(ev, "end")) {
		out->end = true;
	} else if (ev && FC_STREQ(ev, "log")) {
		yajl_val lines = get(v, "lines", yajl_t_array);
		size_t n = lines ? YAJL_GET_ARRAY(lines)->len : 0;
		out->lines = fc_calloc(n ? n : 1, sizeof(*out->lines));
		for (size_t i = 0; i < n; i++) {
			yajl_val l = YAJL_GET_ARRAY(lines)->values[i];
			const char *inst = js_str(l, "instance"), *text = js_str(l, "text");
			struct fcpool_log_line *o = &out->lines[out->n++];
			o->instance = fc_strdup(inst ? inst : "");
			o->text = fc_strdup(text ? text : "");
			/* ns since 1970 pass 2^53: read as an integer */
			yajl_val t = get(l, "time_ns", yajl_t_number);
			o->time_ns = t && YAJL_IS_INTEGER(t) && YAJL_GET_INTEGER(t) > 0
			                 ? (uint64_t)YAJL_GET_INTEGER(t)
			                 : 0;
		}
	} else {
		r = fc_error_set(err, EPROTO, "reply of the fcstart daemon: not a log batch");
	}
	yajl_tree_free(v);
	if (r < 0)
		fcpool_log_batch_clear(out);
	return r;
}

/* ---- OpenFaaS faas-provider documents ---------------------------------------- */

/* An object member as KEY=VALUE strings (a value that is no string is ""). */
static char **kv_strv(yajl_val v, const char *key)
{
	yajl_val o = get(v, key, yajl_t_object);
	size_t n = o ? YAJL_GET_OBJECT(o)->len : 0;
	char **out = fc_calloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		yajl_val x = YAJL_GET_OBJECT(o)->values[i];
		out[i] = fc_asprintf("%s=%s", YAJL_GET_OBJECT(o)->keys[i],
		                     YAJL_IS_STRING(x) ? YAJL_GET_STRING(x) : "");
	}
	return out;
}

static const char *sub_str(yajl_val v, const char *a, const char *b)
{
	const char *path[] = {a, b, NULL};
	yajl_val x = yajl_tree_get(v, path, yajl_t_string);
	return x ? YAJL_GET_STRING(x) : NULL;
}

static void strv_push(char ***v, char *s)
{
	size_t n = fc_strv_len(*v);
	*v = fc_realloc(*v, (n + 2) * sizeof(char *));
	(*v)[n] = s;
	(*v)[n + 1] = NULL;
}

static const char *kv_get(char *const *v, const char *key)
{
	size_t kl = strlen(key);
	for (size_t i = 0; v && v[i]; i++)
		if (strncmp(v[i], key, kl) == 0 && v[i][kl] == '=')
			return v[i] + kl + 1;
	return NULL;
}

/* Set KEY=VALUE in v, replacing an entry with KEY. */
static void kv_set(char ***v, const char *key, const char *value)
{
	size_t kl = strlen(key);
	for (size_t i = 0; *v && (*v)[i]; i++)
		if (strncmp((*v)[i], key, kl) == 0 && (*v)[i][kl] == '=') {
			free((*v)[i]);
			(*v)[i] = fc_asprintf("%s=%s", key, value);
			return;
		}
	strv_push(v, fc_asprintf("%s=%s", key, value));
}

int proto_openfaas_namespace(const char *ns, struct fc_error **err)
{
	if (!ns || !*ns || FC_STREQ(ns, PROTO_OPENFAAS_NAMESPACE))
		return 0;
	return fc_error_set(
	    err, EINVAL,
	    "namespace `%s`: fcstart serves functions in " PROTO_OPENFAAS_NAMESPACE " only", ns);
}

/* CPUs as a Kubernetes quantity ("0.5", "2", "500m" millicores). */
static int parse_cpus(const char *cpu, double *out)
{
	char *end;
	errno = 0;
	double c = strtod(cpu, &end);
	if (*end == 'm') {
		c /= 1000;
		end++;
	}
	if (errno || end == cpu || *end || !isfinite(c) || !(c > 0) || c > 65536)
		return -EINVAL;
	*out = c;
	return 0;
}

/* The largest of the watchdog's exec_timeout and write_timeout in env, in
 * ms (0: none). */
static int watchdog_timeout(const struct fcpool_fn_spec *s, uint64_t *ms, struct fc_error **err)
{
	static const char *const keys[] = {"exec_timeout", "write_timeout"};
	*ms = 0;
	for (size_t i = 0; i < FC_ARRAY_SIZE(keys); i++) {
		const char *v = kv_get(s->env, keys[i]);
		uint64_t t;
		if (!v)
			continue;
		if (http_parse_duration(v, &t) < 0)
			return fc_error_set(err, EINVAL,
			                    "function `%s`: envVars.%s `%s`: expected a duration "
			                    "(70s, 1m30s) or seconds",
			                    s->name, keys[i], v);
		if (t > *ms)
			*ms = t;
	}
	return 0;
}

/* The members of a FunctionDeployment have the types OpenFaaS's Go types
 * give them (null is an absent member, as Go reads it; members it does not
 * know are ignored, as Go does): a member of another type is refused naming
 * it, where it was dropped (a number in envVars, a string for secrets). */
static int deployment_types(yajl_val v, struct fc_error **err)
{
	static const char *const strs[] = {"service", "image", "namespace", "envProcess"};
	static const char *const maps[] = {"envVars", "labels", "annotations"};
	static const char *const lists[] = {"constraints", "secrets"};
	static const char *const res[] = {"limits", "requests"};
	static const char *const res_keys[] = {"memory", "cpu"};
	const char *what = "deploy request body";
	for (size_t i = 0; i < FC_ARRAY_SIZE(strs); i++) {
		yajl_val x = get(v, strs[i], yajl_t_any);
		if (x && !YAJL_IS_NULL(x) && !YAJL_IS_STRING(x))
			return fc_error_set(err, EINVAL, "%s: %s: expected a string", what,
			                    strs[i]);
	}
	for (size_t i = 0; i < FC_ARRAY_SIZE(maps); i++) {
		yajl_val x = get(v, maps[i], yajl_t_any);
		if (!x || YAJL_IS_NULL(x))
			continue;
		if (!YAJL_IS_OBJECT(x))
			return fc_error_set(err, EINVAL,
			                    "%s: %s: expected an object of strings ({\"KEY\": "
			                    "\"VALUE\"})",
			                    what, maps[i]);
		for (size_t k = 0; k < YAJL_GET_OBJECT(x)->len; k++) {
			yajl_val e = YAJL_GET_OBJECT(x)->values[k];
			if (!YAJL_IS_NULL(e) && !YAJL_IS_STRING(e))
				return fc_error_set(err, EINVAL, "%s: %s.%s: expected a string",
				                    what, maps[i], YAJL_GET_OBJECT(x)->keys[k]);
		}
	}
	for (size_t i = 0; i < FC_ARRAY_SIZE(lists); i++) {
		yajl_val x = get(v, lists[i], yajl_t_any);
		if (!x || YAJL_IS_NULL(x))
			continue;
		if (!YAJL_IS_ARRAY(x))
			return fc_error_set(err, EINVAL, "%s: %s: expected an array of strings",
			                    what, lists[i]);
		for (size_t k = 0; k < YAJL_GET_ARRAY(x)->len; k++) {
			yajl_val e = YAJL_GET_ARRAY(x)->values[k];
			if (!YAJL_IS_NULL(e) && !YAJL_IS_STRING(e))
				return fc_error_set(err, EINVAL, "%s: %s[%zu]: expected a string",
				                    what, lists[i], k);
		}
	}
	for (size_t i = 0; i < FC_ARRAY_SIZE(res); i++) {
		yajl_val x = get(v, res[i], yajl_t_any);
		if (!x || YAJL_IS_NULL(x))
			continue;
		if (!YAJL_IS_OBJECT(x))
			return fc_error_set(err, EINVAL,
			                    "%s: %s: expected an object ({\"memory\": \"128Mi\", "
			                    "\"cpu\": \"500m\"})",
			                    what, res[i]);
		for (size_t k = 0; k < FC_ARRAY_SIZE(res_keys); k++) {
			yajl_val e = get(x, res_keys[k], yajl_t_any);
			if (e && !YAJL_IS_NULL(e) && !YAJL_IS_STRING(e))
				return fc_error_set(err, EINVAL, "%s: %s.%s: expected a string",
				                    what, res[i], res_keys[k]);
		}
	}
	yajl_val ro = get(v, "readOnlyRootFilesystem", yajl_t_any);
	if (ro && !YAJL_IS_NULL(ro) && !YAJL_IS_TRUE(ro) && !YAJL_IS_FALSE(ro))
		return fc_error_set(err, EINVAL,
		                    "%s: readOnlyRootFilesystem: expected true or false", what);
	return 0;
}

int proto_openfaas_deployment(const char *json, struct fcpool_fn_spec *s, char ***notes,
                              struct fc_error **err)
{
	memset(s, 0, sizeof(*s));
	*notes = NULL;
	yajl_val v = doc_parse(json, "deploy request body", err);
	if (!v)
		return fc_error_code(*err);
	if (deployment_types(v, err) < 0) {
		yajl_tree_free(v);
		return -EINVAL;
	}
	const char *service = js_str(v, "service"), *image = js_str(v, "image");
	const char *fprocess = js_str(v, "envProcess");
	const char *mode = sub_str(v, "annotations", "com.fcstart.mode");
	if (!mode)
		mode = sub_str(v, "labels", "com.fcstart.mode");
	/* NAME or NAME.openfaas-fn, as faas-cli 0.16 and 0.17 send it */
	_cleanup_free_ char *name = NULL;
	const char *suffix = "." PROTO_OPENFAAS_NAMESPACE;
	if (service && strlen(service) > strlen(suffix) &&
	    FC_STREQ(service + strlen(service) - strlen(suffix), suffix))
		name = fc_strndup(service, strlen(service) - strlen(suffix));
	else
		name = service ? fc_strdup(service) : NULL;
	int r = proto_openfaas_namespace(js_str(v, "namespace"), err);
	if (r < 0)
		goto out;
	r = spec_start(s, name, image, mode ? mode : "auto", err);
	if (r < 0)
		goto out;
	s->env = kv_strv(v, "envVars");
	s->labels = kv_strv(v, "labels");
	s->annotations = kv_strv(v, "annotations");
	s->secrets = js_strv(v, "secrets");
	s->read_only = js_true(v, "readOnlyRootFilesystem");
	/* the watchdog's process: the image's entrypoint and cmd run the
	 * watchdog, which runs fprocess (bundle.h) */
	if (fprocess && *fprocess)
		kv_set(&s->env, "fprocess", fprocess);
	/* limits: a size ("64m", "128Mi", "1G"), CPUs ("0.5", "500m"); anything
	 * else is refused. They and the requests are kept as given, to be shown. */
	static const char *const res[] = {"limits", "requests"};
	for (size_t i = 0; i < 2 && r >= 0; i++) {
		const char *m = sub_str(v, res[i], "memory"), *cpu = sub_str(v, res[i], "cpu");
		uint64_t bytes = 0;
		double cpus = 0;
		if (m && *m && fcpool_parse_size(m, &bytes) < 0)
			r = fc_error_set(
			    err, EINVAL,
			    "function `%s`: %s.memory `%s`: expected a size (128Mi, 1G)", name,
			    res[i], m);
		else if (cpu && *cpu && parse_cpus(cpu, &cpus) < 0)
			r = fc_error_set(err, EINVAL,
			                 "function `%s`: %s.cpu `%s`: expected CPUs (0.5, 2) or "
			                 "millicores (500m), at most 65536",
			                 name, res[i], cpu);
		if (r < 0)
			break;
		if (m && *m)
			strv_push(&s->meta, fc_asprintf("%s.memory=%s", res[i], m));
		if (cpu && *cpu)
			strv_push(&s->meta, fc_asprintf("%s.cpu=%s", res[i], cpu));
		if (i == 0) {
			s->cpus = cpus;
			s->memory = bytes;
			if (bytes && bytes < FCPOOL_MIN_MEMORY) {
				s->memory = FCPOOL_MIN_MEMORY;
				strv_push(notes,
				          fc_asprintf("limits.memory `%s` is below the least a "
				                      "sandbox runs with: 6 MiB",
				                      m));
			}
		} else if (m || cpu) {
			strv_push(notes, fc_strdup("requests are kept and shown; fcstart reserves "
			                           "nothing for them"));
		}
	}
	if (r < 0)
		goto out;
	yajl_val cons = get(v, "constraints", yajl_t_array);
	for (size_t i = 0; cons && i < YAJL_GET_ARRAY(cons)->len; i++) {
		yajl_val c = YAJL_GET_ARRAY(cons)->values[i];
		if (YAJL_IS_STRING(c))
			strv_push(&s->meta, fc_asprintf("constraint=%s", YAJL_GET_STRING(c)));
	}
	if (cons && YAJL_GET_ARRAY(cons)->len)
		strv_push(notes, fc_strdup("constraints are kept and shown; one machine has no "
		                           "placement to constrain"));
	fcpool_fn_spec_labels(s);
	r = fcpool_fn_spec_limits(s, err);
	if (r >= 0 && !kv_get(s->labels, "com.fcstart.timeout")) {
		/* OpenFaaS users give their functions time in their env, as the
		 * watchdogs read it; the daemon's deadline comes a second after
		 * the watchdog's, whose own answer (504) then passes through */
		uint64_t ms;
		r = watchdog_timeout(s, &ms, err);
		if (r >= 0 && ms)
			s->timeout_ms = ms + 1000;
	}
	if (r >= 0)
		r = fcpool_fn_spec_check(s, err);
out:
	yajl_tree_free(v);
	if (r < 0) {
		fcpool_fn_spec_clear(s);
		fc_strv_free(*notes);
		*notes = NULL;
	}
	return r;
}

int proto_openfaas_delete(const char *json, char **name, char **ns, struct fc_error **err)
{
	*name = *ns = NULL;
	yajl_val v = doc_parse(json, "delete request body", err);
	if (!v)
		return fc_error_code(*err);
	const char *n = js_str(v, "functionName"), *nsv = js_str(v, "namespace");
	*name = n ? fc_strdup(n) : NULL;
	*ns = nsv ? fc_strdup(nsv) : NULL;
	yajl_tree_free(v);
	return 0;
}

int proto_openfaas_scale(const char *json, double *replicas, struct fc_error **err)
{
	yajl_val v = doc_parse(json, "scale request body", err);
	if (!v)
		return fc_error_code(*err);
	*replicas = js_num_or(v, "replicas", -1, 0, JS_DBL_MAX);
	int r = proto_openfaas_namespace(js_str(v, "namespace"), err);
	yajl_tree_free(v);
	return r;
}

/* KEY=VALUE entries as a JSON object (a key that repeats: its last value). */
static void kv_json(struct fc_buf *b, char *const *v, const char *skip, const char *add_key,
                    const char *add_value)
{
	fc_buf_printf(b, "{");
	bool first = true;
	for (size_t i = 0; v && v[i]; i++) {
		const char *eq = strchr(v[i], '=');
		_cleanup_free_ char *k =
		    eq ? fc_strndup(v[i], (size_t)(eq - v[i])) : fc_strdup(v[i]);
		if ((skip && FC_STREQ(k, skip)) || (add_key && FC_STREQ(k, add_key)))
			continue;
		bool later = false;
		for (size_t j = i + 1; v[j] && !later; j++)
			later = strncmp(v[j], k, strlen(k)) == 0 && v[j][strlen(k)] == '=';
		if (later)
			continue;
		fc_buf_printf(b, "%s", first ? "" : ",");
		first = false;
		fc_buf_json_string(b, k);
		fc_buf_printf(b, ":");
		fc_buf_json_string(b, eq ? eq + 1 : "");
	}
	if (add_key) {
		fc_buf_printf(b, "%s", first ? "" : ",");
		fc_buf_json_string(b, add_key);
		fc_buf_printf(b, ":");
		fc_buf_json_string(b, add_value);
	}
	fc_buf_printf(b, "}");
}

/* An RFC 3339 time with milliseconds, UTC. */
static void rfc3339_ms(struct fc_buf *b, uint64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	char buf[64];
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	fc_buf_printf(b, "\"%s.%03uZ\"", buf, (unsigned)(ms % 1000));
}

static void status_json(struct fc_buf *b, const struct fcpool_fn_status *f)
{
	const struct fcpool_fn_spec *s = &f->spec;
	fc_buf_printf(b, "{\"name\":");
	fc_buf_json_string(b, s->name);
	fc_buf_printf(b, ",\"image\":");
	fc_buf_json_string(b, s->image);
	fc_buf_printf(b, ",\"namespace\":\"" PROTO_OPENFAAS_NAMESPACE "\"");
	const char *fprocess = kv_get(s->env, "fprocess");
	if (fprocess) {
		fc_buf_printf(b, ",\"envProcess\":");
		fc_buf_json_string(b, fprocess);
	}
	/* envVars: what was given, without fprocess (envProcess); none given, none shown */
	size_t nenv = 0;
	for (size_t i = 0; s->env && s->env[i]; i++)
		nenv += strncmp(s->env[i], "fprocess=", 9) != 0;
	if (nenv) {
		fc_buf_printf(b, ",\"envVars\":");
		kv_json(b, s->env, "fprocess", NULL, NULL);
	}
	bool cons = false;
	for (size_t i = 0; s->meta && s->meta[i]; i++)
		if (strncmp(s->meta[i], "constraint=", 11) == 0) {
			fc_buf_printf(b, "%s", cons ? "," : ",\"constraints\":[");
			fc_buf_json_string(b, s->meta[i] + 11);
			cons = true;
		}
	if (cons)
		fc_buf_printf(b, "]");
	if (s->secrets && s->secrets[0]) {
		fc_buf_printf(b, ",\"secrets\":");
		strv_json(b, s->secrets);
	}
	fc_buf_printf(b, ",\"labels\":");
	kv_json(b, s->labels, NULL, "faas_function", s->name);
	fc_buf_printf(b, ",\"annotations\":");
	kv_json(b, s->annotations, NULL, NULL, NULL);
	static const char *const res[] = {"limits", "requests"};
	for (size_t i = 0; i < 2; i++) {
		_cleanup_free_ char *mk = fc_asprintf("%s.memory", res[i]);
		_cleanup_free_ char *ck = fc_asprintf("%s.cpu", res[i]);
		const char *m = kv_get(s->meta, mk), *c = kv_get(s->meta, ck);
		if (!m && !c)
			continue;
		fc_buf_printf(b, ",\"%s\":{", res[i]);
		if (m) {
			fc_buf_printf(b, "\"memory\":");
			fc_buf_json_string(b, m);
		}
		if (c) {
			fc_buf_printf(b, "%s\"cpu\":", m ? "," : "");
			fc_buf_json_string(b, c);
		}
		fc_buf_printf(b, "}");
	}
	if (s->read_only)
		fc_buf_printf(b, ",\"readOnlyRootFilesystem\":true");
	/* replicas: the desired count (scale.min, or the last scale request);
	 * availableReplicas: the sandboxes ready to serve (waiting ones, and an
	 * HTTP function's started instances) */
	unsigned avail = f->waiting + (s->mode == FCPOOL_HTTP ? f->running : 0);
	fc_buf_printf(b, ",\"invocationCount\":%llu,\"replicas\":%u,\"availableReplicas\":%u",
	              (unsigned long long)f->requests, f->min, avail);
	if (s->created_ms) {
		fc_buf_printf(b, ",\"createdAt\":");
		rfc3339_ms(b, s->created_ms);
	}
	fc_buf_printf(b, "}");
}

void proto_openfaas_status_json(const struct fcpool_fn_list *l, bool one, struct fc_buf *b)
{
	if (one) {
		if (l->n)
			status_json(b, &l->fns[0]);
		return;
	}
	fc_buf_printf(b, "[");
	for (size_t i = 0; i < l->n; i++) {
		if (i)
			fc_buf_printf(b, ",");
		status_json(b, &l->fns[i]);
	}
	fc_buf_printf(b, "]");
}

int proto_openfaas_secret(const char *json, char **name, char **value, size_t *len,
                          struct fc_error **err)
{
	*name = *value = NULL;
	*len = 0;
	yajl_val v = doc_parse(json, "secret request body", err);
	if (!v)
		return fc_error_code(*err);
	const char *n = js_str(v, "name"), *val = js_str(v, "value"), *raw = js_str(v, "rawValue");
	int r = proto_openfaas_namespace(js_str(v, "namespace"), err);
	if (r >= 0 && (!n || !*n))
		r = fc_error_set(err, EINVAL, "secret request body: no \"name\"");
	if (r >= 0 && raw && *raw) {
		/* []byte in Go's JSON: base64 */
		if (gw_base64_decode(raw, value, len) < 0)
			r = fc_error_set(err, EINVAL, "secret `%s`: rawValue: expected base64", n);
	} else if (r >= 0) {
		*value = fc_strdup(val ? val : "");
		*len = strlen(*value);
	}
	if (r >= 0)
		*name = fc_strdup(n);
	yajl_tree_free(v);
	return r;
}

void proto_openfaas_secrets_json(char *const *names, struct fc_buf *b)
{
	fc_buf_printf(b, "[");
	for (size_t i = 0; names && names[i]; i++) {
		fc_buf_printf(b, "%s{\"name\":", i ? "," : "");
		fc_buf_json_string(b, names[i]);
		fc_buf_printf(b, ",\"namespace\":\"" PROTO_OPENFAAS_NAMESPACE "\"}");
	}
	fc_buf_printf(b, "]");
}

void proto_openfaas_info_json(bool gateway_form, const char *version, const char *sha,
                              struct fc_buf *b)
{
	struct fc_buf p = {0};
	fc_buf_printf(&p, "{\"provider\":\"fcstart\",\"orchestration\":\"fcstart\",\"version\":{"
	                  "\"sha\":");
	fc_buf_json_string(&p, sha);
	fc_buf_printf(&p, ",\"release\":");
	fc_buf_json_string(&p, version);
	fc_buf_printf(&p, "}}");
	if (!gateway_form) {
		fc_buf_append(b, p.data, p.len);
	} else {
		/* as the OpenFaaS gateway answers faas-cli: the provider's info
		 * inside, the gateway's (here the same) beside it */
		fc_buf_printf(b, "{\"provider\":%s,\"version\":{\"sha\":", p.data);
		fc_buf_json_string(b, sha);
		fc_buf_printf(b, ",\"release\":");
		fc_buf_json_string(b, version);
		fc_buf_printf(b, "},\"arch\":\"%s\"}",
#if defined(__x86_64__)
		              "x86_64"
#elif defined(__aarch64__)
		              "aarch64"
#else
		              "unknown"
#endif
		);
	}
	free(p.data);
}

void proto_openfaas_log_json(const char *fn, const char *instance, uint64_t time_ns,
                             const char *text, struct fc_buf *b)
{
	time_t t = (time_t)(time_ns / 1000000000ULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	char ts[64];
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	fc_buf_printf(b, "{\"name\":");
	fc_buf_json_string(b, fn);
	fc_buf_printf(b, ",\"namespace\":\"" PROTO_OPENFAAS_NAMESPACE "\",\"instance\":");
	fc_buf_json_string(b, instance);
	fc_buf_printf(b, ",\"timestamp\":\"%s.%09lluZ\",\"text\":", ts,
	              (unsigned long long)(time_ns % 1000000000ULL));
	fc_buf_json_string(b, text);
	fc_buf_printf(b, "}\n");
}

/* ---- transport ------------------------------------------------------------- */

int proto_connect(const char *path, struct fc_error **err)
{
	if (!path)
		path = getenv("FCSTART_SOCKET");
	if (!path || !*path)
		path = FCPOOL_DEFAULT_SOCKET;
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(a.sun_path))
		return fc_error_set(err, ENAMETOOLONG, "socket `%s`", path);
	strcpy(a.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fc_error_set(err, errno, "socket");
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int e = errno;
		close(fd);
		return fc_error_set(
		    err, e, "connect to the fcstart daemon at `%s` (is `fcstart serve` running?)",
		    path);
	}
	return fd;
}

int proto_send(int fd, const char *json, const int *fds, size_t nfds, bool nonblock,
               struct fc_error **err)
{
	struct iovec iov = {.iov_base = (void *)json, .iov_len = strlen(json)};
	union {
		char buf[CMSG_SPACE(sizeof(int) * 3)];
		struct cmsghdr align;
	} u;
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	if (nfds > 3)
		return fc_error_set(err, EINVAL, "too many descriptors");
	if (nfds) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	ssize_t n;
	do
		n = sendmsg(fd, &mh, MSG_NOSIGNAL | (nonblock ? MSG_DONTWAIT : 0));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return fc_error_set(err, errno, "send a message of the fcstart API");
	return 0;
}

int proto_recv(int fd, char **msg, int *fds, size_t *nfds, struct fc_error **err)
{
	char *buf = fc_malloc(FCPOOL_MAX_MSG + 1);
	union {
		char b[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = buf, .iov_len = FCPOOL_MAX_MSG};
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof(u.b)};
	size_t want = nfds ? *nfds : 0, got = 0;
	ssize_t n;
	do
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); n > 0 && c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			int in[4];
			memcpy(in, CMSG_DATA(c), k * sizeof(int));
			for (size_t i = 0; i < k; i++) {
				if (got < want)
					fds[got++] = in[i];
				else
					close(in[i]);
			}
		}
	if (nfds)
		*nfds = got;
	if (n <= 0) {
		int e = n < 0 ? errno : ECONNRESET;
		free(buf);
		return fc_error_set(err, e, "receive from the fcstart daemon");
	}
	buf[n] = 0;
	*msg = buf;
	return 0;
}
