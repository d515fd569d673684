/* SPDX-License-Identifier: MIT */
/* cmd-stats.c: `fcstart stats [--json]`: per-function pool statistics, with
 * the memory and CPU time of the instances that wait (and of templates). */
#include "fcpool-cmd.h"
#include "fcpool.h"

/* What the host gave since the daemon started, kernel included: the
 * sandboxes' namespaces, cgroups and mounts are mostly slab, outside their
 * processes' memory (WAIT-MEM). Other work on the host counts too. */
static void print_host(const struct fcpool_host *h)
{
	if (!h->known || h->mem_available_kib < 0)
		return;
	double used = (double)(h->start_mem_available_kib - h->mem_available_kib) / 1024.0;
	printf("host: %u sandboxes held; MemAvailable %.2f GiB (%+.1f MiB since the daemon "
	       "started)",
	       h->sandboxes, (double)h->mem_available_kib / 1048576.0, -used);
	if (h->slab_kib >= 0 && h->start_slab_kib >= 0)
		printf(", slab %.1f MiB (%+.1f MiB, unreclaimable %+.1f MiB)",
		       (double)h->slab_kib / 1024.0,
		       (double)(h->slab_kib - h->start_slab_kib) / 1024.0,
		       (double)(h->sunreclaim_kib - h->start_sunreclaim_kib) / 1024.0);
	if (h->sandboxes && used > 0)
		printf(
		    "; per sandbox held: %.2f MiB of MemAvailable, %.2f MiB of unreclaimable slab "
		    "(other work on the host included)",
		    used / h->sandboxes,
		    (double)(h->sunreclaim_kib - h->start_sunreclaim_kib) / 1024.0 / h->sandboxes);
	else if (h->sandboxes)
		printf("; MemAvailable rose: other work on the host outweighs the sandboxes");
	printf("\n");
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
	struct fcpool_fn_list l;
	struct fc_error *e = NULL;
	if (fcpool_client_usage(sock, &l, &e) < 0) {
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
	printf("%-24s %7s %7s %7s %9s %9s %8s %9s %9s %9s %10s %9s\n", "NAME", "WAITING", "RUNNING",
	       "QUEUED", "HANDOVERS", "ON-DEMAND", "BUSY", "P50(us)", "P95(us)", "P99(us)",
	       "WAIT-MEM", "WAIT-CPU");
	for (size_t i = 0; i < l.n; i++) {
		const struct fcpool_fn_status *f = &l.fns[i];
		printf("%-24s %7u %7u %7u %9llu %9llu %8llu", f->spec.name, f->waiting, f->running,
		       f->queued, (unsigned long long)f->handovers,
		       (unsigned long long)f->on_demand, (unsigned long long)f->busy);
		if (f->handover_us.n)
			printf(" %9.1f %9.1f %9.1f", f->handover_us.p50, f->handover_us.p95,
			       f->handover_us.p99);
		else
			printf(" %9s %9s %9s", "-", "-", "-");
		printf(" %8.1fMi %8.2fs\n", (double)f->waiting_memory / 1048576.0,
		       (double)f->waiting_cpu_ms / 1000.0);
		if (f->starting || f->ready_failures)
			printf("  %u starting, %llu not ready in time or died starting\n",
			       f->starting, (unsigned long long)f->ready_failures);
		if (f->template_state[0])
			printf("  template: %s (%llu made, %llu failed), %.1f MiB, %.2f s of CPU\n",
			       f->template_state, (unsigned long long)f->templates,
			       (unsigned long long)f->template_failures,
			       (double)f->template_memory / 1048576.0,
			       (double)f->template_cpu_ms / 1000.0);
		if (f->last_error[0])
			printf("  last failure: %s\n", f->last_error);
	}
	print_host(&l.host);
	fcpool_fn_list_clear(&l);
	return 0;
}
