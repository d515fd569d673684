/* SPDX-License-Identifier: MIT */
/* bench-runtime-out.c: the reports of `fcstart bench runtime`: the table, JSON
 * and CSV.
 *
 * JSON (--json): {"benchmark":"runtime", "time", "rounds" (completed),
 * "rounds_requested", "pause_ms", "seed", "bundle" (null: the built busybox one),
 * "cmd", "host" (what was done to the cgroup mounts, or null), "variants":
 * ["netns","no-netns"], "runtimes":[{"name","path","version","results":{VARIANT:
 * {"ok","error", "run_ms","create_ms","start_ms","delete_ms","rss_run_kib",
 * "rss_create_kib": {"n","median","p95","min","max","ratio_crun","ratio_runc",
 * "ratio_floor","samples":[...]}}, "phases_us" (--phases: {"runs", STEP: median})}],
 * "host_state": {...}, and with --age "aged": {"containers","ran","runtime",
 * "seconds","rounds","host_state","runtimes"}}. Ratios are median over the
 * reference's median (null when the reference is absent or failed).
 * CSV (--csv): variant,runtime,metric,unit,n,median,p95,min,max,ratio_crun,
 * ratio_runc,ratio_floor,status, one line per runtime, variant and metric (the
 * aged host's variants are "aged-netns", "aged-no-netns"). */
#include "bench-runtime.h"

#include <fcntl.h>

const char *const bench_metric_names[BM_COUNT] = {"run",    "create",  "start",
                                                  "delete", "rss_run", "rss_create"};
const char *const bench_variant_names[BENCH_VARIANTS] = {"netns", "no-netns"};

struct sum {
	struct bench_summary s[BM_COUNT];
};

static void summarise(const struct bench_result *r, struct sum *out)
{
	for (int m = 0; m < BM_COUNT; m++) {
		_cleanup_free_ double *copy = fc_calloc(r->n[m] ? r->n[m] : 1, sizeof(double));
		if (r->n[m])
			memcpy(copy, r->samples[m], r->n[m] * sizeof(double));
		bench_summarise(copy, r->n[m], &out->s[m]);
	}
}

static const struct bench_runtime *find_rt(const struct bench_run *b, const char *name)
{
	for (size_t i = 0; i < b->n_rt; i++)
		if (FC_STREQ(b->rt[i].name, name))
			return &b->rt[i];
	return NULL;
}

/* median(x) / median(ref) for metric m, or 0 when either is missing. */
static double ratio(const struct bench_run *b, const struct bench_runtime *x, int v, int m,
                    const char *ref)
{
	const struct bench_runtime *r = find_rt(b, ref);
	if (!r || r->res[v].failed || x->res[v].failed)
		return 0;
	struct sum sx, sr;
	summarise(&x->res[v], &sx);
	summarise(&r->res[v], &sr);
	if (!sx.s[m].n || !sr.s[m].n || sr.s[m].median <= 0)
		return 0;
	return sx.s[m].median / sr.s[m].median;
}

static void fmt_ratio(char *buf, size_t len, double r)
{
	if (r > 0)
		snprintf(buf, len, "%.2fx", r);
	else
		snprintf(buf, len, "-");
}

static const char *floor_name(const struct bench_run *b)
{
	for (size_t i = 0; i < b->n_rt; i++)
		if (b->rt[i].floor)
			return b->rt[i].name;
	return "floor";
}

int bench_print_table(FILE *f, const struct bench_run *b)
{
	static const int time_metrics[] = {BM_RUN, BM_CREATE, BM_START, BM_DELETE};
	_cleanup_buf_ struct fc_buf hs = {0};
	bench_host_state_text(&b->host_before, &hs);
	if (b->age_with) {
		fprintf(f, "\nAGED HOST: after %d containers of %s (%d ran to the end) in %.1f s\n",
		        b->cfg.age, b->age_with, b->aged_ok, b->age_s);
		fprintf(f, "  host when the rounds began: %s\n", hs.data);
	} else {
		fprintf(f,
		        "fcstart bench runtime: %d round(s) in random order, %d ms pause, bundle "
		        "%s\n",
		        b->rounds_done, b->cfg.pause_ms,
		        b->cfg.bundle ? b->cfg.bundle : "busybox (" BENCH_BUSYBOX ")");
		for (size_t i = 0; i < b->n_rt; i++)
			fprintf(f, "  %-8s %s (%s)\n", b->rt[i].name,
			        b->rt[i].path ? b->rt[i].path : "-",
			        b->rt[i].version ? b->rt[i].version : "version unknown");
		if (b->host_note)
			fprintf(f, "  host: %s\n", b->host_note);
		fprintf(f, "  host when the rounds began: %s\n", hs.data);
	}
	const char *fl = floor_name(b);
	for (int v = 0; v < BENCH_VARIANTS; v++) {
		if (!b->variant_on[v])
			continue;
		fprintf(f,
		        "\n%s (times in ms; ratios are medians against crun, runc and the "
		        "floor)\n",
		        v == 0 ? "with a network namespace" : "without a network namespace");
		fprintf(f, "%-8s %-7s %8s %8s %8s %8s %8s %8s\n", "runtime", "metric", "median",
		        "p95", "min", "x crun", "x runc", "x floor");
		for (size_t i = 0; i < b->n_rt; i++) {
			const struct bench_runtime *x = &b->rt[i];
			if (x->res[v].failed) {
				fprintf(f, "%-8s FAILED: %s\n", x->name,
				        x->res[v].error ? x->res[v].error : "?");
				continue;
			}
			struct sum s;
			summarise(&x->res[v], &s);
			for (size_t k = 0; k < FC_ARRAY_SIZE(time_metrics); k++) {
				int m = time_metrics[k];
				char rc[16], rr[16], rf[16];
				if (!s.s[m].n)
					continue; /* the floor has only `run` */
				fmt_ratio(rc, sizeof(rc), ratio(b, x, v, m, "crun"));
				fmt_ratio(rr, sizeof(rr), ratio(b, x, v, m, "runc"));
				fmt_ratio(rf, sizeof(rf), ratio(b, x, v, m, fl));
				fprintf(f, "%-8s %-7s %8.2f %8.2f %8.2f %8s %8s %8s\n",
				        k ? "" : x->name, bench_metric_names[m], s.s[m].median,
				        s.s[m].p95, s.s[m].min, rc, rr, rf);
			}
			char rc[16], rr[16], rf[16];
			fmt_ratio(rc, sizeof(rc), ratio(b, x, v, BM_RSS_RUN, "crun"));
			fmt_ratio(rr, sizeof(rr), ratio(b, x, v, BM_RSS_RUN, "runc"));
			fmt_ratio(rf, sizeof(rf), ratio(b, x, v, BM_RSS_RUN, fl));
			fprintf(f, "%-8s %-7s %7.1fM %7.1fM %7.1fM %8s %8s %8s\n", "", "rss",
			        s.s[BM_RSS_RUN].median / 1024.0, s.s[BM_RSS_RUN].p95 / 1024.0,
			        s.s[BM_RSS_RUN].min / 1024.0, rc, rr, rf);
		}
		/* the headline: run medians side by side */
		fprintf(f, "run medians:");
		for (size_t i = 0; i < b->n_rt; i++) {
			const struct bench_runtime *x = &b->rt[i];
			if (x->res[v].failed) {
				fprintf(f, "  %s failed", x->name);
				continue;
			}
			struct sum s;
			summarise(&x->res[v], &s);
			char rc[16], rf[16];
			fmt_ratio(rc, sizeof(rc), ratio(b, x, v, BM_RUN, "crun"));
			fmt_ratio(rf, sizeof(rf), ratio(b, x, v, BM_RUN, fl));
			if (x->floor)
				fprintf(f, "  %s %.2f ms", x->name, s.s[BM_RUN].median);
			else
				fprintf(f, "  %s %.2f ms (%s crun, %s floor)", x->name,
				        s.s[BM_RUN].median, rc, rf);
		}
		fprintf(f, "\n");
	}
	return 0;
}

static double median_of(const double *v, size_t n)
{
	_cleanup_free_ double *c = fc_calloc(n ? n : 1, sizeof(double));
	memcpy(c, v, n * sizeof(double));
	struct bench_summary s;
	bench_summarise(c, n, &s);
	return s.median;
}

void bench_print_phases(FILE *f, const struct bench_run *b)
{
	if (!b->cfg.phases)
		return;
	for (size_t i = 0; i < b->n_rt; i++) {
		const struct bench_runtime *x = &b->rt[i];
		const struct bench_phases *ph = &x->phases;
		if (!x->floor && !FC_STREQ(x->name, "fcrun"))
			continue;
		fprintf(f, "\nphases of `%s run`%s (%zu profiled runs, medians in us)%s%s\n",
		        x->name, x->floor ? "" : " (--debug)", ph->runs, ph->error ? ": " : "",
		        ph->error ? ph->error : "");
		for (size_t k = 0; k < ph->n; k++)
			fprintf(f, "  %-12s %9.1f\n", ph->step[k].name,
			        median_of(ph->step[k].v, ph->step[k].nv));
	}
}

static void json_num(struct fc_buf *j, double d)
{
	fc_buf_printf(j, "%.4f", d);
}

/* "rounds": N, "host_state": {...}, "runtimes": [...] of one run (fresh or aged). */
static void json_run(struct fc_buf *jp, const struct bench_run *b, const char *ind)
{
	struct fc_buf j = {0};
	fc_buf_printf(&j, "\"rounds\": %d,\n  \"host_state\": ", b->rounds_done);
	bench_host_state_json(&b->host_before, &j);
	fc_buf_printf(&j, ",\n  \"runtimes\": [\n");
	for (size_t i = 0; i < b->n_rt; i++) {
		const struct bench_runtime *x = &b->rt[i];
		fc_buf_printf(&j, "    {\n      \"name\": ");
		fc_buf_json_string(&j, x->name);
		fc_buf_printf(&j, ",\n      \"path\": ");
		if (x->path)
			fc_buf_json_string(&j, x->path);
		else
			fc_buf_printf(&j, "null");
		fc_buf_printf(&j, ",\n      \"version\": ");
		if (x->version)
			fc_buf_json_string(&j, x->version);
		else
			fc_buf_printf(&j, "null");
		fc_buf_printf(&j, ",\n      \"results\": {");
		for (int v = 0, first = 1; v < BENCH_VARIANTS; v++) {
			if (!b->variant_on[v])
				continue;
			const struct bench_result *r = &x->res[v];
			struct sum s;
			summarise(r, &s);
			fc_buf_printf(&j, "%s\n        ", first ? "" : ",");
			first = 0;
			fc_buf_json_string(&j, bench_variant_names[v]);
			fc_buf_printf(&j, ": {\n          \"ok\": %s,\n          \"error\": ",
			              r->failed ? "false" : "true");
			if (r->error)
				fc_buf_json_string(&j, r->error);
			else
				fc_buf_printf(&j, "null");
			for (int m = 0; m < BM_COUNT; m++) {
				bool rss = m == BM_RSS_RUN || m == BM_RSS_CREATE;
				fc_buf_printf(
				    &j, ",\n          \"%s%s\": {\"n\": %zu, \"median\": ",
				    bench_metric_names[m], rss ? "_kib" : "_ms", s.s[m].n);
				json_num(&j, s.s[m].median);
				fc_buf_printf(&j, ", \"p95\": ");
				json_num(&j, s.s[m].p95);
				fc_buf_printf(&j, ", \"min\": ");
				json_num(&j, s.s[m].min);
				fc_buf_printf(&j, ", \"max\": ");
				json_num(&j, s.s[m].max);
				const char *refs[] = {"crun", "runc", "floor"};
				for (int k = 0; k < 3; k++) {
					double q =
					    ratio(b, x, v, m, k == 2 ? floor_name(b) : refs[k]);
					fc_buf_printf(&j, ", \"ratio_%s\": ", refs[k]);
					if (q > 0)
						json_num(&j, q);
					else
						fc_buf_printf(&j, "null");
				}
				fc_buf_printf(&j, ", \"samples\": [");
				for (size_t k = 0; k < r->n[m]; k++)
					fc_buf_printf(&j, "%s%.4f", k ? ", " : "",
					              r->samples[m][k]);
				fc_buf_printf(&j, "]}");
			}
			fc_buf_printf(&j, "\n        }");
		}
		fc_buf_printf(&j, "\n      }");
		if (b->cfg.phases && x->phases.n) {
			fc_buf_printf(&j, ",\n      \"phases_us\": {\"runs\": %zu", x->phases.runs);
			for (size_t k = 0; k < x->phases.n; k++) {
				fc_buf_printf(&j, ", ");
				fc_buf_json_string(&j, x->phases.step[k].name);
				fc_buf_printf(&j, ": %.1f",
				              median_of(x->phases.step[k].v, x->phases.step[k].nv));
			}
			fc_buf_printf(&j, "}");
		}
		fc_buf_printf(&j, "\n    }%s\n", i + 1 < b->n_rt ? "," : "");
	}
	fc_buf_printf(&j, "  ]");
	/* indented as deep as the caller wants it */
	for (const char *p = j.data; p && *p; p++) {
		fc_buf_append(jp, p, 1);
		if (*p == '\n')
			fc_buf_printf(jp, "%s", ind);
	}
	free(j.data);
}

int bench_write_json(const char *path, const struct bench_run *b, struct fc_error **err)
{
	_cleanup_buf_ struct fc_buf j = {0};
	char ts[48];
	fc_rfc3339_now(ts, sizeof(ts));
	fc_buf_printf(&j, "{\n  \"benchmark\": \"runtime\",\n  \"time\": ");
	fc_buf_json_string(&j, ts);
	fc_buf_printf(&j, ",\n  \"rounds_requested\": %d,\n  \"pause_ms\": %d,\n", b->cfg.rounds,
	              b->cfg.pause_ms);
	fc_buf_printf(&j, "  \"seed\": %llu,\n  \"bundle\": ", (unsigned long long)b->seed);
	if (b->cfg.bundle)
		fc_buf_json_string(&j, b->bundle_src ? b->bundle_src : b->cfg.bundle);
	else
		fc_buf_printf(&j, "null");
	fc_buf_printf(&j, ",\n  \"cmd\": [");
	for (size_t i = 0; b->cfg.cmd && b->cfg.cmd[i]; i++) {
		fc_buf_printf(&j, "%s", i ? ", " : "");
		fc_buf_json_string(&j, b->cfg.cmd[i]);
	}
	fc_buf_printf(&j, "],\n  \"host\": ");
	if (b->host_note)
		fc_buf_json_string(&j, b->host_note);
	else
		fc_buf_printf(&j, "null");
	fc_buf_printf(&j, ",\n  \"variants\": [");
	for (int v = 0, first = 1; v < BENCH_VARIANTS; v++) {
		if (!b->variant_on[v])
			continue;
		fc_buf_printf(&j, "%s", first ? "" : ", ");
		fc_buf_json_string(&j, bench_variant_names[v]);
		first = 0;
	}
	fc_buf_printf(&j, "],\n  ");
	json_run(&j, b, "");
	if (b->aged) {
		const struct bench_run *a = b->aged;
		fc_buf_printf(&j,
		              ",\n  \"aged\": {\n    \"containers\": %d, \"ran\": %d, "
		              "\"runtime\": ",
		              b->cfg.age, a->aged_ok);
		fc_buf_json_string(&j, a->age_with);
		fc_buf_printf(&j, ", \"seconds\": %.1f,\n    ", a->age_s);
		json_run(&j, a, "  ");
		fc_buf_printf(&j, "\n  }");
	}
	fc_buf_printf(&j, "\n}\n");
	return fc_write_file_atomic_at(AT_FDCWD, path, j.data, j.len, 0644, err);
}

static void csv_run(struct fc_buf *c, const struct bench_run *b, const char *prefix)
{
	for (int v = 0; v < BENCH_VARIANTS; v++) {
		if (!b->variant_on[v])
			continue;
		for (size_t i = 0; i < b->n_rt; i++) {
			const struct bench_runtime *x = &b->rt[i];
			struct sum s;
			summarise(&x->res[v], &s);
			for (int m = 0; m < BM_COUNT; m++) {
				bool rss = m == BM_RSS_RUN || m == BM_RSS_CREATE;
				double q[3] = {ratio(b, x, v, m, "crun"), ratio(b, x, v, m, "runc"),
				               ratio(b, x, v, m, floor_name(b))};
				char qs[3][32] = {"", "", ""};
				for (int k = 0; k < 3; k++)
					if (q[k] > 0)
						snprintf(qs[k], sizeof(qs[k]), "%.4f", q[k]);
				fc_buf_printf(
				    c, "%s%s,%s,%s,%s,%zu,%.4f,%.4f,%.4f,%.4f,%s,%s,%s,%s\n",
				    prefix, bench_variant_names[v], x->name, bench_metric_names[m],
				    rss ? "KiB" : "ms", s.s[m].n, s.s[m].median, s.s[m].p95,
				    s.s[m].min, s.s[m].max, qs[0], qs[1], qs[2],
				    x->res[v].failed ? "failed" : "ok");
			}
		}
	}
}

int bench_write_csv(const char *path, const struct bench_run *b, struct fc_error **err)
{
	_cleanup_buf_ struct fc_buf c = {0};
	fc_buf_printf(&c, "variant,runtime,metric,unit,n,median,p95,min,max,ratio_crun,ratio_runc,"
	                  "ratio_floor,status\n");
	csv_run(&c, b, "");
	if (b->aged)
		csv_run(&c, b->aged, "aged-");
	return fc_write_file_atomic_at(AT_FDCWD, path, c.data, c.len, 0644, err);
}
