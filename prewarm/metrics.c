/* SPDX-License-Identifier: MIT */
/* metrics.c: the gateway's /metrics, in Prometheus' text format: the
 * invocation counters and durations under the OpenFaaS gateway's names
 * (gateway_function_invocation_total, gateway_functions_seconds,
 * gateway_service_count: its Grafana dashboards read them), and fcstart's own:
 * cold and warm starts, the pools' sandboxes and counters, the hand-over's
 * latency. */
#include <math.h>

#include "metrics.h"

#ifdef FC_HAVE_MHD

static const double buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
#define NB FC_ARRAY_SIZE(buckets)

struct series {
	char *fn;
	unsigned code;
	uint64_t count, le[NB];
	double sum;
	struct series *next;
};

struct starts {
	char *fn;
	uint64_t cold, warm;
	struct starts *next;
};

struct gw_metrics {
	struct series *series;
	struct starts *starts;
};

struct gw_metrics *gw_metrics_new(void)
{
	return fc_calloc(1, sizeof(struct gw_metrics));
}

void gw_metrics_free(struct gw_metrics *m)
{
	if (!m)
		return;
	while (m->series) {
		struct series *s = m->series;
		m->series = s->next;
		free(s->fn);
		free(s);
	}
	while (m->starts) {
		struct starts *s = m->starts;
		m->starts = s->next;
		free(s->fn);
		free(s);
	}
	free(m);
}

void gw_metrics_invocation(struct gw_metrics *m, const char *fn, unsigned status, double seconds,
                           bool cold)
{
	struct series *s = m->series;
	while (s && !(s->code == status && FC_STREQ(s->fn, fn)))
		s = s->next;
	if (!s) {
		s = fc_calloc(1, sizeof(*s));
		s->fn = fc_strdup(fn);
		s->code = status;
		s->next = m->series;
		m->series = s;
	}
	s->count++;
	s->sum += seconds;
	for (size_t i = 0; i < NB; i++)
		if (seconds <= buckets[i])
			s->le[i]++;
	if (status >= 400 && status != 404 && status != 413)
		return;
	struct starts *st = m->starts;
	while (st && !FC_STREQ(st->fn, fn))
		st = st->next;
	if (!st) {
		st = fc_calloc(1, sizeof(*st));
		st->fn = fc_strdup(fn);
		st->next = m->starts;
		m->starts = st;
	}
	if (status != 404 && status != 413) {
		if (cold)
			st->cold++;
		else
			st->warm++;
	}
}

/* A label value as the text format escapes it (names are [a-z0-9_.-], but
 * say so in one place). */
static void label(struct fc_buf *b, const char *fn)
{
	fc_buf_printf(b, "function_name=\"");
	for (const char *p = fn; *p; p++)
		fc_buf_printf(b, *p == '"' || *p == '\\' ? "\\%c" : "%c", *p);
	fc_buf_printf(b, "." GW_NAMESPACE "\"");
}

static void help(struct fc_buf *b, const char *name, const char *type, const char *text)
{
	fc_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

void gw_metrics_render(struct gw_metrics *m, struct daemon *d, struct fc_buf *b)
{
	help(b, "gateway_function_invocation_total", "counter",
	     "Invocations of functions through the gateway, by status code");
	for (struct series *s = m->series; s; s = s->next) {
		fc_buf_printf(b, "gateway_function_invocation_total{");
		label(b, s->fn);
		fc_buf_printf(b, ",code=\"%u\"} %llu\n", s->code, (unsigned long long)s->count);
	}
	help(b, "gateway_functions_seconds", "histogram",
	     "Time from a request to the end of its function's answer, in seconds");
	for (struct series *s = m->series; s; s = s->next) {
		for (size_t i = 0; i <= NB; i++) {
			fc_buf_printf(b, "gateway_functions_seconds_bucket{");
			label(b, s->fn);
			if (i < NB)
				fc_buf_printf(b, ",code=\"%u\",le=\"%g\"} %llu\n", s->code,
				              buckets[i], (unsigned long long)s->le[i]);
			else
				fc_buf_printf(b, ",code=\"%u\",le=\"+Inf\"} %llu\n", s->code,
				              (unsigned long long)s->count);
		}
		fc_buf_printf(b, "gateway_functions_seconds_sum{");
		label(b, s->fn);
		fc_buf_printf(b, ",code=\"%u\"} %.9g\n", s->code, s->sum);
		fc_buf_printf(b, "gateway_functions_seconds_count{");
		label(b, s->fn);
		fc_buf_printf(b, ",code=\"%u\"} %llu\n", s->code, (unsigned long long)s->count);
	}
	help(b, "fcstart_invocation_starts_total", "counter",
	     "Invocations answered by a never-used sandbox (cold) or an instance that served "
	     "before (warm)");
	for (struct starts *s = m->starts; s; s = s->next) {
		fc_buf_printf(b, "fcstart_invocation_starts_total{");
		label(b, s->fn);
		fc_buf_printf(b, ",start=\"cold\"} %llu\nfcstart_invocation_starts_total{",
		              (unsigned long long)s->cold);
		label(b, s->fn);
		fc_buf_printf(b, ",start=\"warm\"} %llu\n", (unsigned long long)s->warm);
	}
	struct fcpool_fn_list l;
	if (daemon_list(d, NULL, true, &l, NULL) < 0)
		return;
	help(b, "gateway_service_count", "gauge", "Desired replicas of each function");
	for (size_t i = 0; i < l.n; i++) {
		fc_buf_printf(b, "gateway_service_count{");
		label(b, l.fns[i].spec.name);
		fc_buf_printf(b, "} %u\n", l.fns[i].min);
	}
	help(b, "fcstart_pool_sandboxes", "gauge", "Sandboxes of each function, by state");
	for (size_t i = 0; i < l.n; i++) {
		const struct fcpool_fn_status *f = &l.fns[i];
		const char *states[] = {"waiting", "creating", "running"};
		unsigned v[] = {f->waiting, f->creating, f->running};
		for (size_t k = 0; k < 3; k++) {
			fc_buf_printf(b, "fcstart_pool_sandboxes{");
			label(b, f->spec.name);
			fc_buf_printf(b, ",state=\"%s\"} %u\n", states[k], v[k]);
		}
	}
	help(b, "fcstart_pool_queued", "gauge", "Invocations waiting for a sandbox");
	for (size_t i = 0; i < l.n; i++) {
		fc_buf_printf(b, "fcstart_pool_queued{");
		label(b, l.fns[i].spec.name);
		fc_buf_printf(b, "} %u\n", l.fns[i].queued);
	}
	static const struct {
		const char *name, *help;
		size_t off;
	} counters[] = {
	    {"fcstart_pool_handovers_total", "Sandboxes handed over to an invocation",
	     offsetof(struct fcpool_fn_status, handovers)},
	    {"fcstart_pool_on_demand_total", "Invocations that found no waiting sandbox",
	     offsetof(struct fcpool_fn_status, on_demand)},
	    {"fcstart_pool_creates_total", "Sandboxes created",
	     offsetof(struct fcpool_fn_status, creates)},
	    {"fcstart_pool_create_failures_total", "Sandboxes that could not be created",
	     offsetof(struct fcpool_fn_status, create_failures)},
	    {"fcstart_pool_busy_total",
	     "Invocations refused because the queue was full or too slow",
	     offsetof(struct fcpool_fn_status, busy)},
	    {"fcstart_pool_reaped_total", "Idle sandboxes reaped",
	     offsetof(struct fcpool_fn_status, reaped)},
	};
	for (size_t c = 0; c < FC_ARRAY_SIZE(counters); c++) {
		help(b, counters[c].name, "counter", counters[c].help);
		for (size_t i = 0; i < l.n; i++) {
			fc_buf_printf(b, "%s{", counters[c].name);
			label(b, l.fns[i].spec.name);
			fc_buf_printf(
			    b, "} %llu\n",
			    (unsigned long long)*(const uint64_t *)((const char *)&l.fns[i] +
			                                            counters[c].off));
		}
	}
	help(b, "fcstart_pool_handover_seconds", "summary",
	     "A sandbox's hand-over, to its function's exec (the last 8192)");
	for (size_t i = 0; i < l.n; i++) {
		const struct fcpool_latency *h = &l.fns[i].exec_us;
		const double q[] = {0.5, 0.95, 0.99}, v[] = {h->p50, h->p95, h->p99};
		for (size_t k = 0; k < 3; k++) {
			fc_buf_printf(b, "fcstart_pool_handover_seconds{");
			label(b, l.fns[i].spec.name);
			fc_buf_printf(b, ",quantile=\"%g\"} %.9g\n", q[k], v[k] / 1e6);
		}
		fc_buf_printf(b, "fcstart_pool_handover_seconds_count{");
		label(b, l.fns[i].spec.name);
		fc_buf_printf(b, "} %zu\n", h->n);
	}
	daemon_list_free(&l);
}

#endif
