/* SPDX-License-Identifier: MIT */
/* libfcpool without a daemon: function specs to JSON and back, OpenFaaS
 * scale labels, the queue label, refusals that name the field, sizes and
 * durations. No root needed. TAP output. */
#include "fcpool.h"
#include "proto.h"

static int n, failures;
static void check(bool ok, const char *what)
{
	printf("%s %d - %s\n", ok ? "ok" : "not ok", ++n, what);
	if (!ok)
		failures++;
}

static int parse(const char *json, struct fcpool_fn_spec *s, char **msg)
{
	struct fc_error *e = NULL;
	int r = fcpool_fn_spec_parse(json, s, &e);
	if (msg)
		*msg = e ? fc_strdup(e->msg) : NULL;
	fc_error_free(e);
	return r;
}

int main(void)
{
	struct fcpool_fn_spec s;
	char *msg = NULL;
	check(parse("{\"name\":\"echo\",\"image\":\"bb\"}", &s, NULL) == 0 && s.min == 1 &&
	          s.max == 20 && s.mode == FCPOOL_CLASSIC && !s.args && s.queue == 0,
	      "defaults: min 1, max 20, classic, image's command");
	fcpool_fn_spec_clear(&s);
	check(parse("{\"name\":\"echo\",\"image\":\"bb\",\"memory\":0,\"timeout_ms\":0,\"pids\":0}",
	            &s, NULL) == 0 &&
	          s.memory == 256 << 20 && s.pids == 256 && s.timeout_ms == 60000 && s.cpus == 0,
	      "default limits: 256 MiB, 256 processes, 60 s per invocation (also for 0)");
	fcpool_fn_spec_clear(&s);
	check(parse("{\"name\":\"a\",\"image\":\"bb\"}", &s, NULL) == 0 && !s.userns_host,
	      "a user namespace by default");
	fcpool_fn_spec_clear(&s);
	check(parse("{\"name\":\"a\",\"image\":\"bb\",\"userns\":\"host\"}", &s, NULL) == 0 &&
	          s.userns_host,
	      "\"userns\":\"host\" opts out");
	struct fc_buf ub = {0};
	fcpool_fn_spec_json(&s, &ub);
	fcpool_fn_spec_clear(&s);
	check(parse(ub.data, &s, NULL) == 0 && s.userns_host, "... and reads back");
	free(ub.data);
	fcpool_fn_spec_clear(&s);
	check(parse("{\"name\":\"a\",\"image\":\"bb\",\"labels\":[\"com.fcstart.userns=host\"]}",
	            &s, NULL) == 0 &&
	          s.userns_host,
	      "label com.fcstart.userns=host opts out");
	fcpool_fn_spec_clear(&s);
	check(parse("{\"name\":\"a\",\"image\":\"bb\",\"userns\":\"private\",\"labels\":["
	            "\"com.fcstart.userns=host\"]}",
	            &s, NULL) == 0 &&
	          !s.userns_host,
	      "the field wins over the label");
	fcpool_fn_spec_clear(&s);
	check(parse("{\"name\":\"a\",\"image\":\"bb\",\"userns\":\"none\"}", &s, &msg) < 0 && msg &&
	          strstr(msg, "userns `none`"),
	      "an unknown userns is refused, naming it");
	free(msg);
	check(parse("{\"name\":\"a\",\"image\":\"bb\",\"labels\":[\"com.fcstart.pids=64\","
	            "\"com.fcstart.timeout=2s\"]}",
	            &s, NULL) == 0 &&
	          s.pids == 64 && s.timeout_ms == 2000,
	      "labels com.fcstart.pids and com.fcstart.timeout");
	fcpool_fn_spec_clear(&s);
	check(parse("{\"name\":\"a\",\"image\":\"bb\",\"pids\":9,\"timeout_ms\":5,\"labels\":["
	            "\"com.fcstart.pids=64\",\"com.fcstart.timeout=2s\"]}",
	            &s, NULL) == 0 &&
	          s.pids == 9 && s.timeout_ms == 5,
	      "explicit pids and timeout_ms win over the labels");
	fcpool_fn_spec_clear(&s);
	static const char *const senseless[][2] = {
	    {"\"memory\":4096", "memory 4096 bytes: at least"},
	    {"\"memory\":6291455", "memory 6291455"},
	    {"\"cpus\":0.001", "cpus 0.001: at least 0.01"},
	    {"\"pids\":4194305", "pids"},
	    {"\"labels\":[\"com.fcstart.pids=0\"]", "label com.fcstart.pids `0`"},
	    {"\"labels\":[\"com.fcstart.pids=-1\"]", "label com.fcstart.pids `-1`"},
	    {"\"labels\":[\"com.fcstart.pids=12x\"]", "label com.fcstart.pids `12x`"},
	    {"\"labels\":[\"com.fcstart.timeout=soon\"]", "label com.fcstart.timeout `soon`"},
	    {"\"labels\":[\"com.fcstart.timeout=0s\"]", "label com.fcstart.timeout `0s`"},
	};
	for (size_t i = 0; i < FC_ARRAY_SIZE(senseless); i++) {
		_cleanup_free_ char *j =
		    fc_asprintf("{\"name\":\"a\",\"image\":\"bb\",%s}", senseless[i][0]);
		msg = NULL;
		bool refused = parse(j, &s, &msg) < 0 && msg && strstr(msg, senseless[i][1]);
		check(refused, senseless[i][0]);
		if (!refused)
			printf("# %s\n", msg ? msg : "accepted");
		free(msg);
	}
	check(parse("{\"name\":\"a\",\"image\":\"bb\",\"memory\":6291456,\"cpus\":0.01,\"pids\":1}",
	            &s, NULL) == 0 &&
	          s.memory == 6 << 20 && s.cpus == 0.01 && s.pids == 1,
	      "the least limits that make sense are taken");
	fcpool_fn_spec_clear(&s);
	check(parse("{\"name\":\"web\",\"image\":\"bb\",\"mode\":\"http\",\"labels\":[\"com."
	            "openfaas.scale.min=3\","
	            "\"com.openfaas.scale.max=7\",\"com.fcstart.queue=2\"],\"env\":[\"A=b\"],"
	            "\"args\":[\"httpd\"],"
	            "\"memory\":67108864,\"cpus\":0.5,\"timeout_ms\":1500,\"pids\":32}",
	            &s, NULL) == 0 &&
	          s.mode == FCPOOL_HTTP && s.min == 3 && s.max == 7 && s.queue == 2 &&
	          s.memory == 67108864 && s.cpus == 0.5 && s.timeout_ms == 1500 && s.pids == 32 &&
	          s.args && FC_STREQ(s.args[0], "httpd") && s.env && FC_STREQ(s.env[0], "A=b"),
	      "labels set min, max and queue; mode, env, args, limits");
	struct fc_buf b = {0};
	fcpool_fn_spec_json(&s, &b);
	struct fcpool_fn_spec t;
	check(parse(b.data, &t, NULL) == 0 && t.min == 3 && t.max == 7 && t.mode == FCPOOL_HTTP &&
	          t.memory == s.memory && t.timeout_ms == s.timeout_ms && t.pids == s.pids &&
	          FC_STREQ(t.image, "bb"),
	      "JSON round trip");
	free(b.data);
	fcpool_fn_spec_clear(&s);
	fcpool_fn_spec_clear(&t);
	check(parse("{\"name\":\"x\",\"image\":\"bb\",\"labels\":[\"com.openfaas.scale.min=1\"],"
	            "\"min\":4,\"max\":9}",
	            &s, NULL) == 0 &&
	          s.min == 4 && s.max == 9,
	      "explicit min/max (fn scale) win over labels");
	fcpool_fn_spec_clear(&s);
	check(parse("{\"name\":\"Bad/Name\",\"image\":\"bb\"}", &s, &msg) < 0 && msg &&
	          strstr(msg, "Bad/Name"),
	      "bad name refused, message names it");
	free(msg);
	check(parse("{\"name\":\"a\",\"image\":\"bb\",\"mode\":\"grpc\"}", &s, &msg) < 0 && msg &&
	          strstr(msg, "grpc"),
	      "unknown mode refused");
	free(msg);
	check(parse("{\"name\":\"a\",\"image\":\"bb\",\"labels\":[\"com.openfaas.scale.min=5\","
	            "\"com.openfaas.scale.max=2\"]}",
	            &s, &msg) < 0 &&
	          msg && strstr(msg, "min 5 max 2"),
	      "min above max refused");
	free(msg);
	static const char *const out_of_range[] = {
	    "\"memory\":1e300",     "\"memory\":-1",
	    "\"cpus\":1e999",       "\"cpus\":-0.5",
	    "\"timeout_ms\":1e300", "\"min\":1e30",
	    "\"max\":4294967297",   "\"memory\":9223372036854775808",
	};
	for (size_t i = 0; i < FC_ARRAY_SIZE(out_of_range); i++) {
		_cleanup_free_ char *j =
		    fc_asprintf("{\"name\":\"a\",\"image\":\"bb\",%s}", out_of_range[i]);
		_cleanup_free_ char *field =
		    fc_strndup(out_of_range[i] + 1, strcspn(out_of_range[i] + 1, "\""));
		msg = NULL;
		bool refused = parse(j, &s, &msg) < 0 && msg && strstr(msg, field);
		check(refused, out_of_range[i]);
		if (!refused)
			printf("# %s\n", msg ? msg : "accepted");
		free(msg);
	}
	check(parse("{\"name\":\"a\",\"image\":\"bb\",\"cpus\":0.123456789}", &s, NULL) == 0,
	      "cpus 0.123456789");
	b = (struct fc_buf){0};
	fcpool_fn_spec_json(&s, &b);
	fcpool_fn_spec_clear(&s);
	check(parse(b.data, &t, NULL) == 0 && t.cpus == 0.123456789,
	      "cpus read back exactly after the client wrote them");
	free(b.data);
	fcpool_fn_spec_clear(&t);
	/* the client's side: numbers out of their type's range in a reply */
	struct fcpool_event ev;
	struct fc_error *re = NULL;
	check(proto_event_parse("{\"ok\":true,\"event\":\"exit\",\"status\":1e300,"
	                        "\"signal\":-1e300,\"exec_us\":1e999}",
	                        &ev, &re) == 0 &&
	          ev.status == 125 && ev.signal == 0 && ev.exec_us == 0,
	      "event figures out of range read as unknown");
	fc_error_free(re);
	re = NULL;
	check(proto_reply_check("{\"ok\":false,\"errno\":1e300,\"error\":\"no\"}", &re) == -EIO,
	      "a refusal with an errno out of range reads as EIO");
	fc_error_free(re);
	re = NULL;
	struct fcpool_fn_list fl;
	check(proto_fn_list_parse("{\"ok\":true,\"functions\":[{\"name\":\"x\",\"min\":1e30,"
	                          "\"handovers\":-1,\"handover_us\":{\"n\":-5}}]}",
	                          true, &fl, &re) == 0 &&
	          fl.n == 1 && fl.fns[0].min == 0 && fl.fns[0].handovers == 0 &&
	          fl.fns[0].handover_us.n == 0,
	      "stats figures out of range read as 0");
	fcpool_fn_list_clear(&fl);
	fc_error_free(re);
	check(parse("{\"name\":\"a\"}", &s, &msg) < 0 && msg && strstr(msg, "no image"),
	      "missing image refused");
	free(msg);
	check(parse("[1,2]", &s, NULL) < 0, "not an object refused");
	check(fcpool_name_valid("fn-1.v2_x") && !fcpool_name_valid("") &&
	          !fcpool_name_valid("-a") && !fcpool_name_valid("a/b") && !fcpool_name_valid("A"),
	      "function names");
	uint64_t v = 0;
	check(fcpool_parse_size("128m", &v) == 0 && v == 128ULL << 20 &&
	          fcpool_parse_size("1Gi", &v) == 0 && v == 1ULL << 30 &&
	          fcpool_parse_size("4096", &v) == 0 && v == 4096 &&
	          fcpool_parse_size("12q", &v) < 0 && fcpool_parse_size("-1m", &v) < 0,
	      "sizes");
	check(fcpool_parse_size("nan", &v) < 0 && fcpool_parse_size("inf", &v) < 0 &&
	          fcpool_parse_size("1e300", &v) < 0 && fcpool_parse_size("8589934592g", &v) < 0 &&
	          fcpool_parse_size("8589934591g", &v) == 0 && v == 8589934591ULL << 30,
	      "sizes that are not a number or reach 2^63 bytes refused");
	check(fcpool_parse_duration("nan", &v) < 0 && fcpool_parse_duration("inf", &v) < 0 &&
	          fcpool_parse_duration("1e300h", &v) < 0 && fcpool_parse_duration("1e9s", &v) == 0,
	      "durations that are not a number or exceed 1e12 ms refused");
	check(fcpool_parse_duration("30s", &v) == 0 && v == 30000 &&
	          fcpool_parse_duration("500ms", &v) == 0 && v == 500 &&
	          fcpool_parse_duration("2m", &v) == 0 && v == 120000 &&
	          fcpool_parse_duration("1.5", &v) == 0 && v == 1500 &&
	          fcpool_parse_duration("3d", &v) < 0,
	      "durations");
	struct fc_error *e = NULL;
	check(fcpool_client_ping("/nonexistent/fcstart.sock", &e) < 0 && e &&
	          strstr(e->msg, "/nonexistent/fcstart.sock"),
	      "connect error names the socket");
	fc_error_free(e);
	printf("1..%d\n", n);
	return failures ? 1 : 0;
}
