/* SPDX-License-Identifier: MIT */
/* fuzz-proto: the daemon's wire JSON (prewarm/proto.c), both directions.
 * Daemon side: requests (proto_request_parse) and a function spec as
 * `fcstart fn deploy` and the gateway send it (also as an OpenFaaS
 * FunctionDeployment, delete and scale body); an accepted spec must read back
 * identical after the client writes it, also as a deploy request. Client side: replies, invocation
 * events and the answers to ls and stats; what was read must be written the same way after one more
 * trip (the writers round some figures once). The size and duration syntaxes of the CLI and the
 * gateway's limits get the input as a string. */
#include <math.h>

#include "fuzz.h"
#include "proto.h"

/* Equal vectors; NULL (absent) reads back as empty. */
static bool strv_eq(char **a, char **b)
{
	static char *none[] = {NULL};
	size_t i;
	a = a ? a : none;
	b = b ? b : none;
	for (i = 0; a[i] && b[i]; i++)
		if (!FC_STREQ(a[i], b[i]))
			return false;
	return !a[i] && !b[i];
}

static bool spec_eq(const struct fcpool_fn_spec *s, const struct fcpool_fn_spec *t)
{
	return FC_STREQ(s->name, t->name) && FC_STREQ(s->image, t->image) && s->mode == t->mode &&
	       strv_eq(s->env, t->env) && strv_eq(s->labels, t->labels) &&
	       strv_eq(s->args, t->args) && s->memory == t->memory && s->cpus == t->cpus &&
	       s->timeout_ms == t->timeout_ms && s->min == t->min && s->max == t->max &&
	       s->queue == t->queue && s->mode_auto == t->mode_auto &&
	       s->read_only == t->read_only && s->created_ms == t->created_ms &&
	       strv_eq(s->annotations, t->annotations) && strv_eq(s->secrets, t->secrets) &&
	       strv_eq(s->meta, t->meta);
}

static void spec_round_trip(const char *buf)
{
	struct fc_error *err = NULL;
	struct fcpool_fn_spec s, back;
	int r = fcpool_fn_spec_parse(buf, &s, &err);
	fuzz_check_result("function spec", r, err);
	if (r < 0)
		return;
	err = NULL;
	FUZZ_CHECK(fcpool_name_valid(s.name) && s.image && *s.image, "spec accepted with name `%s`",
	           s.name ? s.name : "(null)");
	FUZZ_CHECK(s.max >= 1 && s.min <= s.max && s.max <= 10000,
	           "spec accepted with min %u max %u", s.min, s.max);
	struct fc_buf b = {0};
	fcpool_fn_spec_json(&s, &b);
	r = fcpool_fn_spec_parse(b.data, &back, &err);
	FUZZ_CHECK(r >= 0, "spec written as %s does not read back: %s", b.data,
	           err ? err->msg : "?");
	FUZZ_CHECK(spec_eq(&s, &back), "spec changed on its way through %s", b.data);
	fcpool_fn_spec_clear(&back);
	free(b.data);
	/* the deploy request carries the same document */
	struct proto_request req = {.op = PROTO_DEPLOY, .spec = s};
	b = (struct fc_buf){0};
	proto_request_json(&req, &b);
	r = fcpool_fn_spec_parse(b.data, &back, &err);
	FUZZ_CHECK(r >= 0 && spec_eq(&s, &back), "deploy request %s does not read back", b.data);
	fcpool_fn_spec_clear(&back);
	free(b.data);
	fcpool_fn_spec_clear(&s);
}

static void event_round_trip(const char *buf)
{
	struct fc_error *err = NULL;
	struct fcpool_event ev, ev2;
	int r = proto_event_parse(buf, &ev, &err);
	fuzz_check_result("event", r, err);
	if (r < 0)
		return;
	err = NULL;
	struct fc_buf j1 = {0}, j2 = {0};
	fcpool_event_json(&ev, &j1);
	r = proto_event_parse(j1.data, &ev2, &err);
	FUZZ_CHECK(r >= 0, "event written as %s does not read back: %s", j1.data,
	           err ? err->msg : "?");
	fcpool_event_json(&ev2, &j2);
	FUZZ_CHECK(FC_STREQ(j1.data, j2.data), "event %s read back as %s", j1.data, j2.data);
	free(j1.data);
	free(j2.data);
}

static void list_round_trip(const char *buf, bool stats)
{
	struct fc_error *err = NULL;
	struct fcpool_fn_list l, l2;
	int r = proto_fn_list_parse(buf, stats, &l, &err);
	fuzz_check_result(stats ? "stats" : "ls", r, err);
	if (r < 0)
		return;
	err = NULL;
	struct fc_buf j1 = {0}, j2 = {0};
	fcpool_fn_list_json(&l, &j1);
	r = proto_fn_list_parse(j1.data, stats, &l2, &err);
	FUZZ_CHECK(r >= 0, "function list written as %s does not read back: %s", j1.data,
	           err ? err->msg : "?");
	fcpool_fn_list_json(&l2, &j2);
	FUZZ_CHECK(FC_STREQ(j1.data, j2.data), "function list %s read back as %s", j1.data,
	           j2.data);
	fcpool_fn_list_clear(&l);
	fcpool_fn_list_clear(&l2);
	free(j1.data);
	free(j2.data);
}

/* The daemon's side: a request read, written as the client writes one and
 * read again gives the same document (bounds that are not finite aside: no
 * client writes them, and the daemon's scale refuses them). */
static void request_round_trip(const char *buf)
{
	struct fc_error *err = NULL;
	struct proto_request r, r2;
	int rc = proto_request_parse(buf, &r, &err);
	fuzz_check_result("request", rc, err);
	if (rc < 0)
		return;
	err = NULL;
	FUZZ_CHECK(r.op >= PROTO_PING && r.op <= PROTO_INVOKE, "request with op %d", (int)r.op);
	if ((!r.has_min || isfinite(r.min)) && (!r.has_max || isfinite(r.max))) {
		struct fc_buf j1 = {0}, j2 = {0};
		proto_request_json(&r, &j1);
		rc = proto_request_parse(j1.data, &r2, &err);
		FUZZ_CHECK(rc >= 0, "request written as %s does not read back: %s", j1.data,
		           err ? err->msg : "?");
		proto_request_json(&r2, &j2);
		FUZZ_CHECK(FC_STREQ(j1.data, j2.data), "request %s read back as %s", j1.data,
		           j2.data);
		proto_request_clear(&r2);
		free(j1.data);
		free(j2.data);
	}
	proto_request_clear(&r);
}

/* The gateway's OpenFaaS documents: an accepted FunctionDeployment is a spec
 * the daemon accepts, and it reads back from its JSON. */
static void openfaas(const char *buf)
{
	struct fc_error *err = NULL;
	struct fcpool_fn_spec s, back;
	char **notes = NULL;
	int r = proto_openfaas_deployment(buf, &s, &notes, &err);
	fc_strv_free(notes);
	fuzz_check_result("FunctionDeployment", r, err);
	err = NULL;
	if (r >= 0) {
		FUZZ_CHECK(fcpool_fn_spec_check(&s, &err) >= 0,
		           "deployment accepted, spec refused: %s", err ? err->msg : "?");
		struct fc_buf b = {0};
		fcpool_fn_spec_json(&s, &b);
		r = fcpool_fn_spec_parse(b.data, &back, &err);
		FUZZ_CHECK(r >= 0 && spec_eq(&s, &back), "deployment's spec %s does not read back",
		           b.data);
		fcpool_fn_spec_clear(&back);
		free(b.data);
		fcpool_fn_spec_clear(&s);
	}
	char *name = NULL, *ns = NULL;
	r = proto_openfaas_delete(buf, &name, &ns, &err);
	fuzz_check_result("delete body", r, err);
	err = NULL;
	free(name);
	free(ns);
	char *value = NULL;
	size_t len = 0;
	r = proto_openfaas_secret(buf, &name, &value, &len, &err);
	fuzz_check_result("secret body", r, err);
	err = NULL;
	FUZZ_CHECK(r < 0 || (name && *name), "secret accepted without a name");
	free(name);
	free(value);
	double replicas = 0;
	r = proto_openfaas_scale(buf, &replicas, &err);
	fuzz_check_result("scale body", r, err);
	FUZZ_CHECK(r < 0 || replicas == -1 || (replicas >= 0 && isfinite(replicas)), "replicas %g",
	           replicas);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_cstr(data, size);
	struct fc_error *err = NULL;

	spec_round_trip(buf);
	request_round_trip(buf);
	openfaas(buf);
	fuzz_check_result("reply", proto_reply_check(buf, &err), err);
	event_round_trip(buf);
	list_round_trip(buf, false);
	list_round_trip(buf, true);
	if (size < 64) {
		uint64_t v;
		(void)fcpool_parse_size(buf, &v);
		(void)fcpool_parse_duration(buf, &v);
	}
	free(buf);
	return 0;
}
