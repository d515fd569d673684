/* SPDX-License-Identifier: MIT */
/* The daemon's wire (prewarm/proto.c), both sides, without a daemon: what the
 * typed client writes is what the daemon reads; the daemon's answers and
 * events read back into the same structs and print the same; the OpenFaaS
 * gateway's documents; refusals name what is wrong. TAP output. */
#include "proto.h"
#include "tap.h"

/* The error's text ("" when none; the caller frees it); *e is freed. */
static char *take_msg(struct fc_error **e)
{
	char *m = fc_strdup(*e ? (*e)->msg : "");
	fc_error_free(*e);
	*e = NULL;
	return m;
}

static void requests(void)
{
	char *args[] = {"/bin/cat", NULL}, *labels[] = {"com.openfaas.scale.max=7", NULL};
	struct fcpool_fn_spec spec = {.name = "cat", .image = "bb", .args = args, .labels = labels};
	fcpool_fn_spec_labels(&spec);
	struct proto_request rq = {.op = PROTO_DEPLOY, .spec = spec}, in;
	struct fc_buf b = {0};
	struct fc_error *e = NULL;
	proto_request_json(&rq, &b);
	ok(proto_request_parse(b.data, &in, NULL) == 0 && in.op == PROTO_DEPLOY &&
	       FC_STREQ(in.spec.name, "cat") && in.spec.max == 7 && in.spec.min == 1 &&
	       FC_STREQ(in.spec.args[0], "/bin/cat"),
	   "deploy: the client's request is the daemon's spec (%s)", b.data);
	proto_request_clear(&in);
	free(b.data);

	char *env[] = {"A=1", "B=two", NULL};
	rq = (struct proto_request){.op = PROTO_INVOKE, .name = "cat", .env = env};
	b = (struct fc_buf){0};
	proto_request_json(&rq, &b);
	ok(proto_request_parse(b.data, &in, NULL) == 0 && in.op == PROTO_INVOKE &&
	       FC_STREQ(in.name, "cat") && in.env && FC_STREQ(in.env[1], "B=two") && !in.env[2],
	   "invoke: name and env");
	proto_request_clear(&in);
	free(b.data);

	rq = (struct proto_request){.op = PROTO_SCALE, .name = "cat", .has_max = true, .max = 3};
	b = (struct fc_buf){0};
	proto_request_json(&rq, &b);
	ok(proto_request_parse(b.data, &in, NULL) == 0 && in.op == PROTO_SCALE && !in.has_min &&
	       in.has_max && in.max == 3,
	   "scale: only the bounds given (%s)", b.data);
	proto_request_clear(&in);
	free(b.data);

	char *m;
	int r = proto_request_parse("{\"op\":\"dance\"}", &in, &e);
	m = take_msg(&e);
	ok(r == -EINVAL && strstr(m, "unknown op `dance`"), "an unknown op is refused: %s", m);
	free(m);
	r = proto_request_parse("{\"name\":\"x\"}", &in, &e);
	m = take_msg(&e);
	ok(r == -EINVAL && strstr(m, "\"op\""), "a request without op is refused: %s", m);
	free(m);
	r = proto_request_parse("[[[[]]]]", &in, &e);
	m = take_msg(&e);
	ok(r < 0, "a request that is not an object is refused: %s", m);
	free(m);
	r = proto_request_parse("{\"op\":\"deploy\",\"name\":\"Bad/Name\",\"image\":\"bb\"}", &in,
	                        &e);
	m = take_msg(&e);
	ok(r == -EINVAL && strstr(m, "Bad/Name"), "a deploy's spec is checked as it is read: %s",
	   m);
	free(m);
	struct fc_buf deep = {0};
	fc_buf_printf(&deep, "{\"op\":\"ping\",\"x\":");
	for (int i = 0; i < 2000; i++)
		fc_buf_append(&deep, "[", 1);
	for (int i = 0; i < 2000; i++)
		fc_buf_append(&deep, "]", 1);
	fc_buf_printf(&deep, "}");
	r = proto_request_parse(deep.data, &in, &e);
	m = take_msg(&e);
	ok(r < 0 && strstr(m, "exceeded max depth"),
	   "a request nested 2,000 deep is refused before it is parsed");
	free(m);
	free(deep.data);
}

static void replies(void)
{
	struct fc_buf b = {0};
	struct fc_error *e = NULL;
	proto_reply_ok(&b);
	ok(proto_reply_check(b.data, NULL) == 0, "ok");
	free(b.data);
	b = (struct fc_buf){0};
	proto_reply_error(&b, EBUSY, "function `x` is busy");
	char *m;
	int r = proto_reply_check(b.data, &e);
	m = take_msg(&e);
	ok(r == -EBUSY && FC_STREQ(m, "function `x` is busy"),
	   "a refusal comes back with its errno and text: %s", m);
	free(m);
	free(b.data);

	struct fcpool_event started = {.kind = FCPOOL_EV_STARTED,
	                               .id = "fcs-1-cat-2.3",
	                               .handover_us = 101.5,
	                               .exec_us = 60,
	                               .wait_us = 20.5,
	                               .on_demand = true,
	                               .sock = -1},
	                    exited = {.kind = FCPOOL_EV_EXIT,
	                              .status = 137,
	                              .signal = 9,
	                              .timeout = true,
	                              .sock = -1},
	                    conn = {.kind = FCPOOL_EV_CONNECTED,
	                            .id = "fcs-1-web-2.4",
	                            .cold = true,
	                            .ready_us = 4000,
	                            .sock = -1},
	                    back;
	const struct fcpool_event *evs[] = {&started, &exited, &conn};
	bool same = true;
	for (size_t i = 0; i < 3; i++) {
		struct fc_buf j1 = {0}, j2 = {0};
		fcpool_event_json(evs[i], &j1);
		same = same && proto_event_parse(j1.data, &back, NULL) == 0 &&
		       back.kind == evs[i]->kind && FC_STREQ(back.id, evs[i]->id) &&
		       back.on_demand == evs[i]->on_demand && back.cold == evs[i]->cold &&
		       back.timeout == evs[i]->timeout && back.sock == -1;
		fcpool_event_json(&back, &j2);
		same = same && FC_STREQ(j1.data, j2.data);
		free(j1.data);
		free(j2.data);
	}
	ok(same, "started, exit and connected events read back and print the same");
	b = (struct fc_buf){0};
	fcpool_event_json(&exited, &b);
	ok(strstr(b.data, "\"status\":137,\"signal\":9,\"timeout\":true") != NULL,
	   "an exit event as docs/api.md shows it: %s", b.data);
	free(b.data);

	struct fcpool_fn_status fns[2] = {
	    {.min = 2,
	     .max = 20,
	     .waiting = 2,
	     .handovers = 7,
	     .requests = 7,
	     .create_ms_mean = 4.25,
	     .handover_us = {.n = 7, .p50 = 100, .p95 = 200, .p99 = 300, .max = 400},
	     .create_us = {.n = 9, .p50 = 4000, .p95 = 5000, .p99 = 6000, .max = 7000}},
	    {.max = 5, .running = 1}};
	/* the specs as the daemon has them: parsed, defaults filled in */
	ok(fcpool_fn_spec_parse("{\"name\":\"cat\",\"image\":\"bb\",\"labels\":[\"com.openfaas."
	                        "scale.min=2\"]}",
	                        &fns[0].spec, NULL) == 0 &&
	       fcpool_fn_spec_parse("{\"name\":\"web\",\"image\":\"bb\",\"mode\":\"http\"}",
	                            &fns[1].spec, NULL) == 0,
	   "two specs");
	for (int stats = 0; stats < 2; stats++) {
		struct fcpool_fn_list l = {.stats = stats, .n = 2, .fns = fns}, l2;
		if (stats) /* stats with usage: the host's memory */
			l.host = (struct fcpool_host){.known = true,
			                              .sandboxes = 3,
			                              .mem_available_kib = 1000,
			                              .slab_kib = 200,
			                              .sunreclaim_kib = 150,
			                              .start_mem_available_kib = 4000,
			                              .start_slab_kib = 100,
			                              .start_sunreclaim_kib = -1};
		struct fc_buf j1 = {0}, j2 = {0};
		fcpool_fn_list_json(&l, &j1);
		bool back_same = proto_fn_list_parse(j1.data, stats, &l2, NULL) == 0 && l2.n == 2 &&
		                 FC_STREQ(l2.fns[1].spec.name, "web") && l2.fns[0].waiting == 2 &&
		                 l2.fns[1].running == 1;
		if (back_same && stats)
			back_same = l2.fns[0].handover_us.p99 == 300 &&
			            l2.fns[0].create_us.n == 9 && l2.fns[1].handover_us.n == 0 &&
			            l2.host.known && l2.host.sandboxes == 3 &&
			            l2.host.start_mem_available_kib == 4000 &&
			            l2.host.start_sunreclaim_kib == -1;
		if (back_same && !stats)
			back_same = !l2.host.known;
		if (back_same && !stats)
			back_same = l2.fns[1].spec.mode == FCPOOL_HTTP &&
			            FC_STREQ(l2.fns[0].spec.image, "bb");
		if (back_same)
			fcpool_fn_list_json(&l2, &j2);
		ok(back_same && FC_STREQ(j1.data, j2.data),
		   "%s: the daemon's answer reads back and prints the same",
		   stats ? "stats" : "ls");
		if (back_same)
			fcpool_fn_list_clear(&l2);
		free(j1.data);
		free(j2.data);
	}
	fcpool_fn_spec_clear(&fns[0].spec);
	fcpool_fn_spec_clear(&fns[1].spec);
}

static void openfaas(void)
{
	struct fcpool_fn_spec s;
	struct fc_error *e = NULL;
	char **notes = NULL;
	ok(proto_openfaas_deployment(
	       "{\"service\":\"echo\",\"image\":\"bb\",\"envProcess\":\"cat\",\"labels\":{\"com."
	       "openfaas.scale.min\":\"2\"},\"envVars\":{\"GREETING\":\"hi\"},\"limits\":{"
	       "\"memory\":\"64m\",\"cpu\":\"500m\"},\"annotations\":{\"com.fcstart.mode\":"
	       "\"http\"}}",
	       &s, &notes, &e) == 0 &&
	       FC_STREQ(s.name, "echo") && s.mode == FCPOOL_HTTP && !s.mode_auto && s.min == 2 &&
	       s.memory == 64ULL << 20 && s.cpus == 0.5 && !s.args &&
	       FC_STREQ(s.env[0], "GREETING=hi") && FC_STREQ(s.env[1], "fprocess=cat") && !notes,
	   "a FunctionDeployment becomes a spec: service, envProcess (fprocess), labels, envVars, "
	   "limits, mode");
	fcpool_fn_spec_clear(&s);
	ok(proto_openfaas_deployment(
	       "{\"service\":\"x.openfaas-fn\",\"namespace\":\"openfaas-fn\",\"image\":\"bb\","
	       "\"secrets\":[\"api-key\"],\"readOnlyRootFilesystem\":true,\"annotations\":{"
	       "\"a\":\"1\"},\"constraints\":[\"node=a\"],\"limits\":{\"memory\":\"5Mi\"},"
	       "\"requests\":{\"cpu\":\"100m\"},\"envVars\":{\"write_timeout\":\"70s\","
	       "\"exec_timeout\":\"65\"}}",
	       &s, &notes, &e) == 0 &&
	       FC_STREQ(s.name, "x") && s.mode_auto && s.read_only &&
	       FC_STREQ(s.secrets[0], "api-key") && FC_STREQ(s.annotations[0], "a=1") &&
	       s.memory == FCPOOL_MIN_MEMORY && s.timeout_ms == 71000 && fc_strv_len(notes) == 3,
	   "NAME.openfaas-fn, secrets, read-only root, annotations, the mode from the image, "
	   "5Mi raised to 6 MiB, the watchdog's timeouts, three notes for the log");
	struct fcpool_fn_status st1 = {.spec = s, .min = 1, .waiting = 1, .requests = 3};
	struct fcpool_fn_list l1 = {.n = 1, .fns = &st1};
	struct fc_buf b1 = {0};
	st1.spec.created_ms = 1700000000123ULL;
	proto_openfaas_status_json(&l1, true, &b1);
	ok(strstr(b1.data, "\"namespace\":\"openfaas-fn\"") &&
	       strstr(b1.data, "\"limits\":{\"memory\":\"5Mi\"}") &&
	       strstr(b1.data, "\"requests\":{\"cpu\":\"100m\"}") &&
	       strstr(b1.data, "\"constraints\":[\"node=a\"]") &&
	       strstr(b1.data, "\"secrets\":[\"api-key\"]") &&
	       strstr(b1.data, "\"readOnlyRootFilesystem\":true") &&
	       strstr(b1.data, "\"labels\":{\"faas_function\":\"x\"}") &&
	       strstr(b1.data, "\"createdAt\":\"2023-11-14T22:13:20.123Z\"") &&
	       strstr(b1.data, "\"envVars\":{\"write_timeout\":\"70s\",\"exec_timeout\":\"65\"}") &&
	       !strstr(b1.data, "envProcess"),
	   "FunctionStatus echoes limits, requests, constraints, secrets, the read-only root, "
	   "createdAt: %s",
	   b1.data);
	free(b1.data);
	fcpool_fn_spec_clear(&s);
	fc_strv_free(notes);
	char *m;
	int r = proto_openfaas_deployment("{\"image\":\"bb\"}", &s, &notes, &e);
	m = take_msg(&e);
	ok(r == -EINVAL && strstr(m, "function name ``"), "without a service: %s", m);
	free(m);
	r = proto_openfaas_deployment(
	    "{\"service\":\"a\",\"image\":\"bb\",\"labels\":{\"com.fcstart.mode\":\"grpc\"}}", &s,
	    &notes, &e);
	m = take_msg(&e);
	ok(r == -EINVAL && strstr(m, "grpc"), "an unknown mode: %s", m);
	free(m);
	r = proto_openfaas_deployment("{\"service\":\"a\",\"image\":\"bb\",\"namespace\":\"dev\"}",
	                              &s, &notes, &e);
	m = take_msg(&e);
	ok(r == -EINVAL && strstr(m, "namespace `dev`"), "another namespace: %s", m);
	free(m);
	r = proto_openfaas_deployment(
	    "{\"service\":\"a\",\"image\":\"bb\",\"envVars\":{\"exec_timeout\":\"soon\"}}", &s,
	    &notes, &e);
	m = take_msg(&e);
	ok(r == -EINVAL && strstr(m, "envVars.exec_timeout `soon`"), "a bad timeout: %s", m);
	free(m);
	r = proto_openfaas_deployment(
	    "{\"service\":\"a\",\"image\":\"bb\",\"secrets\":[\"../etc\"]}", &s, &notes, &e);
	m = take_msg(&e);
	ok(r == -EINVAL && strstr(m, "secret `../etc`"), "a secret name with a slash: %s", m);
	free(m);
	/* members of other types than OpenFaaS's Go types: refused, named */
	static const char *const bad[][2] = {
	    {"\"service\":5,\"image\":\"bb\"", "service: expected a string"},
	    {"\"service\":\"a\",\"image\":[\"bb\"]", "image: expected a string"},
	    {"\"service\":\"a\",\"image\":\"bb\",\"envProcess\":{}", "envProcess: expected"},
	    {"\"service\":\"a\",\"image\":\"bb\",\"envVars\":{\"n\":1}",
	     "envVars.n: expected a string"},
	    {"\"service\":\"a\",\"image\":\"bb\",\"envVars\":[\"n=1\"]",
	     "envVars: expected an object"},
	    {"\"service\":\"a\",\"image\":\"bb\",\"labels\":[1]", "labels: expected an object"},
	    {"\"service\":\"a\",\"image\":\"bb\",\"annotations\":{\"t\":true}",
	     "annotations.t: expected"},
	    {"\"service\":\"a\",\"image\":\"bb\",\"secrets\":\"key\"",
	     "secrets: expected an array"},
	    {"\"service\":\"a\",\"image\":\"bb\",\"constraints\":[\"x\",2]",
	     "constraints[1]: expected a string"},
	    {"\"service\":\"a\",\"image\":\"bb\",\"limits\":\"1G\"", "limits: expected an object"},
	    {"\"service\":\"a\",\"image\":\"bb\",\"requests\":{\"memory\":128}",
	     "requests.memory: expected a string"},
	    {"\"service\":\"a\",\"image\":\"bb\",\"readOnlyRootFilesystem\":\"yes\"",
	     "readOnlyRootFilesystem: expected true or false"},
	};
	for (size_t i = 0; i < FC_ARRAY_SIZE(bad); i++) {
		char *doc = fc_asprintf("{%s}", bad[i][0]);
		r = proto_openfaas_deployment(doc, &s, &notes, &e);
		m = take_msg(&e);
		ok(r == -EINVAL && strstr(m, bad[i][1]), "%s: refused (%s)", doc, m);
		free(m);
		free(doc);
	}
	/* null is an absent member, as Go reads it */
	ok(proto_openfaas_deployment("{\"service\":\"a\",\"image\":\"bb\",\"envProcess\":null,"
	                             "\"envVars\":null,\"labels\":{\"x\":null},\"secrets\":null,"
	                             "\"limits\":null,\"readOnlyRootFilesystem\":null}",
	                             &s, &notes, &e) == 0,
	   "null members are absent ones");
	fc_error_free(e);
	e = NULL;
	fcpool_fn_spec_clear(&s);
	fc_strv_free(notes);
	notes = NULL;
	char *name = NULL, *ns = NULL;
	double replicas = 0;
	ok(proto_openfaas_delete("{\"functionName\":\"echo\",\"namespace\":\"openfaas-fn\"}", &name,
	                         &ns, NULL) == 0 &&
	       FC_STREQ(name, "echo") && FC_STREQ(ns, "openfaas-fn"),
	   "delete: functionName, namespace");
	free(name);
	free(ns);
	ok(proto_openfaas_scale("{\"replicas\":4}", &replicas, NULL) == 0 && replicas == 4 &&
	       proto_openfaas_scale("{}", &replicas, NULL) == 0 && replicas == -1,
	   "scale: replicas, -1 without");
	char *labels[] = {"com.openfaas.scale.min=2", NULL};
	struct fcpool_fn_status st = {
	    .spec = {.name = "echo", .image = "bb", .labels = labels, .mode = FCPOOL_HTTP},
	    .min = 2,
	    .waiting = 2,
	    .running = 1,
	    .requests = 5};
	struct fcpool_fn_list l = {.n = 1, .fns = &st};
	struct fc_buf b = {0};
	proto_openfaas_status_json(&l, false, &b);
	ok(FC_STREQ(b.data, "[{\"name\":\"echo\",\"image\":\"bb\",\"namespace\":\"openfaas-fn\","
	                    "\"labels\":{\"com.openfaas.scale.min\":\"2\",\"faas_function\":"
	                    "\"echo\"},\"annotations\":{},\"invocationCount\":5,\"replicas\":2,"
	                    "\"availableReplicas\":3}]"),
	   "FunctionStatus: replicas desired, available ready: %s", b.data);
	free(b.data);
	char *value = NULL;
	size_t len = 0;
	ok(proto_openfaas_secret("{\"name\":\"k\",\"rawValue\":\"AAEC/w==\"}", &name, &value, &len,
	                         NULL) == 0 &&
	       FC_STREQ(name, "k") && len == 4 && memcmp(value, "\x00\x01\x02\xff", 4) == 0,
	   "a secret's rawValue is base64");
	free(name);
	free(value);
	r = proto_openfaas_secret("{\"value\":\"v\"}", &name, &value, &len, &e);
	m = take_msg(&e);
	ok(r == -EINVAL && strstr(m, "\"name\""), "a secret without a name: %s", m);
	free(m);
	char *names[] = {"a", "b", NULL};
	b = (struct fc_buf){0};
	proto_openfaas_secrets_json(names, &b);
	ok(FC_STREQ(b.data, "[{\"name\":\"a\",\"namespace\":\"openfaas-fn\"},{\"name\":\"b\","
	                    "\"namespace\":\"openfaas-fn\"}]"),
	   "secrets: %s", b.data);
	free(b.data);
	b = (struct fc_buf){0};
	proto_openfaas_info_json(false, "1.0", "abc", &b);
	ok(FC_STREQ(b.data, "{\"provider\":\"fcstart\",\"orchestration\":\"fcstart\",\"version\":{"
	                    "\"sha\":\"abc\",\"release\":\"1.0\"}}"),
	   "ProviderInfo: %s", b.data);
	free(b.data);
	b = (struct fc_buf){0};
	proto_openfaas_info_json(true, "1.0", "abc", &b);
	ok(strncmp(b.data, "{\"provider\":{\"provider\":\"fcstart\"", 33) == 0 &&
	       strstr(b.data, "\"arch\":"),
	   "GatewayInfo for faas-cli: %s", b.data);
	free(b.data);
	b = (struct fc_buf){0};
	proto_openfaas_log_json("echo", "fcs-1", 1700000000123456789ULL, "a \"line\"", &b);
	ok(FC_STREQ(b.data, "{\"name\":\"echo\",\"namespace\":\"openfaas-fn\",\"instance\":"
	                    "\"fcs-1\",\"timestamp\":\"2023-11-14T22:13:20.123456789Z\",\"text\":"
	                    "\"a \\\"line\\\"\"}\n"),
	   "a log line: %s", b.data);
	free(b.data);
}

int main(void)
{
	requests();
	replies();
	openfaas();
	return tap_done();
}
