/* SPDX-License-Identifier: MIT */
/* cmd-stats.c: `fcstart stats [--json]`: per-function pool statistics. */
#include <yajl/yajl_tree.h>

#include "fcpool-cmd.h"
#include "fcpool.h"

static double num(yajl_val v, const char *k1, const char *k2)
{
	const char *p[] = {k1, k2, NULL};
	yajl_val x = yajl_tree_get(v, p, yajl_t_number);
	if (!x)
		return -1;
	return YAJL_IS_INTEGER(x) ? (double)YAJL_GET_INTEGER(x) : YAJL_GET_DOUBLE(x);
}

int cmd_stats(int argc, char **argv)
{
	const char *sock = NULL;
	bool json = false;
	for (int i = 1; i < argc; i++) {
		if (FC_STREQ(argv[i], "--json")) {
			json = true;
		} else if (FC_STREQ(argv[i], "--socket") && i + 1 < argc) {
			sock = argv[++i];
		} else {
			fprintf(stderr, "usage: fcstart stats [--socket PATH] [--json]\n");
			return FC_STREQ(argv[i], "--help") ? 0 : 2;
		}
	}
	char *reply = NULL;
	struct fc_error *e = NULL;
	if (fcpool_call(sock, "{\"op\":\"stats\"}", &reply, &e) < 0) {
		fprintf(stderr, "fcstart stats: %s\n", e && e->msg ? e->msg : "failed");
		fc_error_free(e);
		return 1;
	}
	if (json) {
		printf("%s\n", reply);
		free(reply);
		return 0;
	}
	yajl_val v = yajl_tree_parse(reply, NULL, 0);
	const char *p[] = {"functions", NULL};
	yajl_val fns = v ? yajl_tree_get(v, p, yajl_t_array) : NULL;
	printf("%-24s %7s %7s %7s %9s %9s %8s %9s %9s %9s\n", "NAME", "WAITING", "RUNNING",
	       "QUEUED", "HANDOVERS", "ON-DEMAND", "BUSY", "P50(us)", "P95(us)", "P99(us)");
	for (size_t i = 0; fns && i < YAJL_GET_ARRAY(fns)->len; i++) {
		yajl_val f = YAJL_GET_ARRAY(fns)->values[i];
		const char *np[] = {"name", NULL};
		yajl_val n = yajl_tree_get(f, np, yajl_t_string);
		printf("%-24s %7.0f %7.0f %7.0f %9.0f %9.0f %8.0f", n ? YAJL_GET_STRING(n) : "?",
		       num(f, "waiting", NULL), num(f, "running", NULL), num(f, "queued", NULL),
		       num(f, "handovers", NULL), num(f, "on_demand", NULL), num(f, "busy", NULL));
		if (num(f, "handover_us", "p50") >= 0)
			printf(" %9.1f %9.1f %9.1f\n", num(f, "handover_us", "p50"),
			       num(f, "handover_us", "p95"), num(f, "handover_us", "p99"));
		else
			printf(" %9s %9s %9s\n", "-", "-", "-");
	}
	yajl_tree_free(v);
	free(reply);
	return 0;
}
