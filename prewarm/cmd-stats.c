/* SPDX-License-Identifier: MIT */
/* cmd-stats.c: `fcstart stats [--json]`: per-function pool statistics. */
#include "fcpool-cmd.h"
#include "fcpool.h"

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
	struct fcpool_fn_list l;
	struct fc_error *e = NULL;
	if (fcpool_client_stats(sock, &l, &e) < 0) {
		fprintf(stderr, "fcstart stats: %s\n", e && e->msg ? e->msg : "failed");
		fc_error_free(e);
		return 1;
	}
	if (json) {
		struct fc_buf b = {0};
		fcpool_fn_list_json(&l, &b);
		printf("%s\n", b.data);
		free(b.data);
		fcpool_fn_list_clear(&l);
		return 0;
	}
	printf("%-24s %7s %7s %7s %9s %9s %8s %9s %9s %9s\n", "NAME", "WAITING", "RUNNING",
	       "QUEUED", "HANDOVERS", "ON-DEMAND", "BUSY", "P50(us)", "P95(us)", "P99(us)");
	for (size_t i = 0; i < l.n; i++) {
		const struct fcpool_fn_status *f = &l.fns[i];
		printf("%-24s %7u %7u %7u %9llu %9llu %8llu", f->spec.name, f->waiting, f->running,
		       f->queued, (unsigned long long)f->handovers,
		       (unsigned long long)f->on_demand, (unsigned long long)f->busy);
		if (f->handover_us.n)
			printf(" %9.1f %9.1f %9.1f\n", f->handover_us.p50, f->handover_us.p95,
			       f->handover_us.p99);
		else
			printf(" %9s %9s %9s\n", "-", "-", "-");
	}
	fcpool_fn_list_clear(&l);
	return 0;
}
