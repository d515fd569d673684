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
#include <yajl/yajl_tree.h>

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
	fc_buf_printf(b, ",\"mode\":\"%s\",\"env\":", s->mode == FCPOOL_HTTP ? "http" : "classic");
	strv_json(b, s->env);
	fc_buf_printf(b, ",\"labels\":");
	strv_json(b, s->labels);
	if (s->args) {
		fc_buf_printf(b, ",\"args\":");
		strv_json(b, s->args);
	}
	if (s->userns_host)
		fc_buf_printf(b, ",\"userns\":\"host\"");
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

/* A new spec's name, image and mode ("classic" or "http", NULL: classic). */
static int spec_start(struct fcpool_fn_spec *s, const char *name, const char *image,
                      const char *mode, struct fc_error **err)
{
	memset(s, 0, sizeof(*s));
	s->name = name ? fc_strdup(name) : NULL;
	s->image = image ? fc_strdup(image) : NULL;
	s->max = FCPOOL_DEFAULT_MAX;
	int r = fcpool_fn_spec_check(s, err); /* the name and the image: the rest is to come */
	if (r >= 0 && mode && !FC_STREQ(mode, "classic") && !FC_STREQ(mode, "http"))
		r = fc_error_set(err, EINVAL, "function `%s`: mode `%s`: expected classic or http",
		                 name, mode);
	if (r < 0) {
		fcpool_fn_spec_clear(s);
		return r;
	}
	s->mode = mode && FC_STREQ(mode, "http") ? FCPOOL_HTTP : FCPOOL_CLASSIC;
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
    [PROTO_INVOKE] = "invoke",
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
	if (r->has_min)
		fc_buf_printf(b, ",\"min\":%.17g", r->min);
	if (r->has_max)
		fc_buf_printf(b, ",\"max\":%.17g", r->max);
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
	for (k = PROTO_PING; k <= PROTO_INVOKE; k++)
		if (op && FC_STREQ(op, op_names[k]))
			break;
	if (!op) {
		rc = fc_error_set(err, EINVAL, "request is not a JSON object with \"op\"");
		goto out;
	}
	if (k > PROTO_INVOKE) {
		rc = fc_error_set(err, EINVAL, "unknown op `%s`", op);
		goto out;
	}
	r->op = (enum proto_op)k;
	r->name = name ? fc_strdup(name) : NULL;
	if (r->op == PROTO_DEPLOY)
		rc = spec_from_tree(v, &r->spec, err);
	if (r->op == PROTO_INVOKE)
		r->env = js_strv(v, "env");
	r->has_min = js_num(v, "min", &r->min);
	r->has_max = js_num(v, "max", &r->max);
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
	if (stats) {
		fc_buf_printf(b, ",\"create_ms_mean\":%.3f", f->create_ms_mean);
		latency_json(b, "handover_us", &f->handover_us);
		latency_json(b, "exec_us", &f->exec_us);
		latency_json(b, "create_us", &f->create_us);
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
	fc_buf_printf(b, "]}");
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
#undef U
#undef N
	f->create_ms_mean = js_num_or(v, "create_ms_mean", 0, 0, JS_DBL_MAX);
	latency_from_tree(v, "handover_us", &f->handover_us);
	latency_from_tree(v, "exec_us", &f->exec_us);
	latency_from_tree(v, "create_us", &f->create_us);
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
	yajl_tree_free(v);
	if (r < 0)
		fcpool_fn_list_clear(l);
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

int proto_openfaas_deployment(const char *json, struct fcpool_fn_spec *s, struct fc_error **err)
{
	memset(s, 0, sizeof(*s));
	yajl_val v = doc_parse(json, "deploy request body", err);
	if (!v)
		return fc_error_code(*err);
	const char *name = js_str(v, "service"), *image = js_str(v, "image");
	const char *fprocess = js_str(v, "envProcess");
	const char *mode = sub_str(v, "annotations", "com.fcstart.mode");
	if (!mode)
		mode = sub_str(v, "labels", "com.fcstart.mode");
	int r = spec_start(s, name, image, mode, err);
	if (r < 0)
		goto out;
	s->env = kv_strv(v, "envVars");
	s->labels = kv_strv(v, "labels");
	if (fprocess && *fprocess) {
		s->args = fc_calloc(4, sizeof(char *));
		s->args[0] = fc_strdup("/bin/sh");
		s->args[1] = fc_strdup("-c");
		s->args[2] = fc_strdup(fprocess);
	}
	/* limits: a size ("64m", "128Mi", "1G"), CPUs as a Kubernetes quantity
	 * ("0.5", "2", "500m" millicores); anything else is refused */
	const char *m = sub_str(v, "limits", "memory"), *cpu = sub_str(v, "limits", "cpu");
	if (m && fcpool_parse_size(m, &s->memory) < 0) {
		r = fc_error_set(err, EINVAL,
		                 "function `%s`: limits.memory `%s`: expected a size (128Mi, 1G)",
		                 name, m);
		goto out;
	}
	if (cpu) {
		char *end;
		errno = 0;
		double c = strtod(cpu, &end);
		if (*end == 'm') {
			c /= 1000;
			end++;
		}
		if (errno || end == cpu || *end || !isfinite(c) || !(c > 0) || c > 65536) {
			r = fc_error_set(
			    err, EINVAL,
			    "function `%s`: limits.cpu `%s`: expected CPUs (0.5, 2) or "
			    "millicores (500m), at most 65536",
			    name, cpu);
			goto out;
		}
		s->cpus = c;
	}
	fcpool_fn_spec_labels(s);
	r = fcpool_fn_spec_limits(s, err);
	if (r >= 0)
		r = fcpool_fn_spec_check(s, err);
out:
	yajl_tree_free(v);
	if (r < 0)
		fcpool_fn_spec_clear(s);
	return r;
}

int proto_openfaas_delete(const char *json, char **name, struct fc_error **err)
{
	yajl_val v = doc_parse(json, "delete request body", err);
	if (!v)
		return fc_error_code(*err);
	const char *n = js_str(v, "functionName");
	*name = n ? fc_strdup(n) : NULL;
	yajl_tree_free(v);
	return 0;
}

int proto_openfaas_scale(const char *json, double *replicas, struct fc_error **err)
{
	yajl_val v = doc_parse(json, "scale request body", err);
	if (!v)
		return fc_error_code(*err);
	*replicas = js_num_or(v, "replicas", -1, 0, JS_DBL_MAX);
	yajl_tree_free(v);
	return 0;
}

static void status_json(struct fc_buf *b, const struct fcpool_fn_status *f)
{
	const struct fcpool_fn_spec *s = &f->spec;
	fc_buf_printf(b, "{\"name\":");
	fc_buf_json_string(b, s->name);
	fc_buf_printf(b, ",\"image\":");
	fc_buf_json_string(b, s->image);
	fc_buf_printf(b, ",\"namespace\":\"\",\"labels\":{");
	for (size_t i = 0; s->labels && s->labels[i]; i++) {
		const char *eq = strchr(s->labels[i], '=');
		_cleanup_free_ char *k = eq ? fc_strndup(s->labels[i], (size_t)(eq - s->labels[i]))
		                            : fc_strdup(s->labels[i]);
		fc_buf_printf(b, "%s", i ? "," : "");
		fc_buf_json_string(b, k);
		fc_buf_printf(b, ":");
		fc_buf_json_string(b, eq ? eq + 1 : "");
	}
	unsigned replicas = f->waiting + f->running;
	fc_buf_printf(b, "},\"replicas\":%u,\"availableReplicas\":%u,\"invocationCount\":%llu}",
	              replicas, replicas, (unsigned long long)f->requests);
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
