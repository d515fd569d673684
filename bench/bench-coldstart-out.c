/* SPDX-License-Identifier: MIT */
/* bench-coldstart-out.c: the reports of `fcstart bench coldstart`.
 *
 * Table (stdout): per tier, per scenario and path: runs, total to the first byte
 * (median, p95, p99), the ratio of the median to crun's and runc's on the same
 * tier and scenario, and the median of each phase.
 *
 * JSON (--out DIR/coldstart.json): {"benchmark":"coldstart", "time", "command",
 * "image", "image_bytes", "rounds", "rounds_requested", "pause_ms", "seed",
 * "host", "scenarios":[...], "phases":[...], "tiers":[{"name","built","error",
 * "device","direct_io","limits":{"read_write_bps","read_write_iops"}|null,
 * "measured":{"seq_read_mbps","rand_read_iops"}|null,"note","cgroup_io":
 * {"read_bytes","write_bytes","writeback_write_bytes" (v1: charged to the root
 * cgroup; -1 when unknown)}|null}], "paths":[{"name",
 * "available","error","binary","version"}], "results":[{"tier","scenario",
 * "path","ok","error","n","ratio_crun","ratio_runc","phases_ms":{PHASE:{"n","median","p95",
 * "p99","min","max","samples"}}}]}. Times in ms; a phase a scenario does not
 * have (import when cached) has n = 0.
 * CSV (DIR/coldstart.csv): tier,scenario,path,phase,n,median_ms,p95_ms,p99_ms,
 * min_ms,max_ms,ratio_crun,ratio_runc,status. */
#include "bench-coldstart.h"

#include <fcntl.h>

const char *const cs_scenario_names[CS_NSCEN] = {"uncached", "cached", "warm", "pool"};
const char *const cs_scenario_titles[CS_NSCEN] = {
    "uncached: empty store, page cache dropped",
    "layers cached, page cache dropped",
    "all warm",
    "pool hand-over",
};
const char *const cs_phase_names[PH_COUNT] = {"import", "mount",      "create",
                                              "start",  "first_byte", "total"};

void cs_stat_of(const struct cs_cell *c, enum cs_phase ph, struct bench_summary *out)
{
	_cleanup_free_ double *v = fc_calloc(c->n ? c->n : 1, sizeof(double));
	size_t n = 0;
	for (size_t i = 0; i < c->n; i++)
		if (c->s[ph][i] >= 0) /* -1: a phase the path does not have */
			v[n++] = c->s[ph][i];
	bench_summarise(v, n, out);
}

double cs_ratio(const struct cs_run *R, int tier, int sc, size_t path, const char *ref)
{
	for (size_t i = 0; i < R->n_paths; i++) {
		if (!FC_STREQ(R->paths[i].name, ref))
			continue;
		struct bench_summary a, b;
		cs_stat_of(&R->cells[tier][sc][path], PH_TOTAL, &a);
		cs_stat_of(&R->cells[tier][sc == CS_POOL ? CS_WARM : sc][i], PH_TOTAL, &b);
		if (!a.n || !b.n || b.median <= 0)
			return 0;
		return a.median / b.median;
	}
	return 0;
}

static void fmt_ms(char *buf, size_t len, const struct bench_summary *s, double v)
{
	if (!s->n)
		snprintf(buf, len, "-");
	else if (v >= 100)
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%.1f", v);
}

static bool cell_listed(const struct cs_run *R, int k, int sc, size_t i)
{
	const struct cs_cell *c = &R->cells[k][sc][i];
	return !c->skipped ||
	       c->error; /* skipped without a reason: the path has no such scenario */
}

static ssize_t path_index(const struct cs_run *R, const char *name)
{
	for (size_t i = 0; i < R->n_paths; i++)
		if (FC_STREQ(R->paths[i].name, name))
			return (ssize_t)i;
	return -1;
}

static double median_of(const struct cs_run *R, int k, int sc, const char *name)
{
	ssize_t i = path_index(R, name);
	struct bench_summary s;
	if (i < 0)
		return 0;
	cs_stat_of(&R->cells[k][sc][i], PH_TOTAL, &s);
	return s.n ? s.median : 0;
}

/* The targets, per tier, from the medians of this run. */
static void print_headlines(FILE *f, const struct cs_run *R)
{
	fprintf(f, "\nheadlines (medians of this run):\n");
	for (int k = 0; k < CS_NTIERS; k++) {
		if (!R->tiers.t[k].ok)
			continue;
		fprintf(f, "  %-5s", cs_tier_names[k]);
		double fu = median_of(R, k, CS_UNCACHED, "fcrun");
		if (fu > 0)
			fprintf(f, "  uncached fcrun %.0f ms%s;", fu,
			        k == CS_DISK
			            ? (fu < 300 ? " (< 300 ms)" : " (target < 300 ms missed)")
			        : k == CS_SSD ? (fu < 1000 ? " (< 1 s)" : " (target < 1 s missed)")
			                      : "");
		double pool = median_of(R, k, CS_POOL, "pool");
		double dw = median_of(R, k, CS_WARM, "docker");
		if (pool > 0 && dw > 0)
			fprintf(f,
			        "  pool %.1f ms = %.0fx faster than docker run (warm, %.0f ms)%s;",
			        pool, dw / pool, dw, dw / pool >= 50 ? "" : " (target 50x missed)");
		else if (pool > 0)
			fprintf(f, "  pool %.1f ms;", pool);
		const char *ref = median_of(R, k, CS_WARM, "crun") > 0 ? "crun" : "runc";
		fprintf(f, "  fcrun/%s:", ref);
		for (int sc = 0; sc < CS_POOL; sc++) {
			double a = median_of(R, k, sc, "fcrun"), b = median_of(R, k, sc, ref);
			if (a > 0 && b > 0)
				fprintf(f, " %s %.2fx", cs_scenario_names[sc], a / b);
			else
				fprintf(f, " %s -", cs_scenario_names[sc]);
		}
		fprintf(f, "\n");
	}
}

void cs_print_table(FILE *f, const struct cs_run *R)
{
	fprintf(f, "fcstart bench coldstart: %d round(s), image %s (%.1f MB), %s\n", R->rounds_done,
	        R->image_abs ? R->image_abs : R->image, (double)R->image_bytes / 1e6, R->started);
	for (size_t i = 0; i < R->n_paths; i++) {
		const struct cs_path *p = &R->paths[i];
		if (p->available)
			fprintf(f, "  %-10s %s (%s)\n", p->name, p->bin ? p->bin : "-",
			        p->version ? p->version : "version unknown");
		else
			fprintf(f, "  %-10s %s\n", p->name, p->why);
	}
	if (R->host_note)
		fprintf(f, "  host: %s\n", R->host_note);
	for (int k = 0; k < CS_NTIERS; k++) {
		const struct cs_tier *t = &R->tiers.t[k];
		if (!t->wanted)
			continue;
		if (!t->ok) {
			fprintf(f, "\ntier %s: could not be built: %s\n", cs_tier_names[k], t->why);
			continue;
		}
		fprintf(f, "\ntier %s%s%s%s\n", cs_tier_names[k], t->note ? " (" : "",
		        t->note ? t->note : "", t->note ? ")" : "");
		if (t->cg_read_bytes >= 0 || t->cg_write_bytes >= 0)
			fprintf(f,
			        "  I/O counted on the device: the harness's cgroup %.1f MB read, "
			        "%.1f MB written%s; writeback (root cgroup, same limits) %.1f MB "
			        "written; the containers' own I/O is limited in their cgroups\n",
			        (double)t->cg_read_bytes / 1e6, (double)t->cg_write_bytes / 1e6,
			        t->meas_mbps > 0 ? " (the O_DIRECT check included)" : "",
			        t->root_write_bytes >= 0 ? (double)t->root_write_bytes / 1e6 : 0.0);
		fprintf(f, "%-9s %-10s %3s %8s %8s %8s %7s %7s | %7s %6s %7s %6s %7s\n", "scenario",
		        "path", "n", "median", "p95", "p99", "x crun", "x runc", "import", "mount",
		        "create", "start", "1stbyte");
		for (int sc = 0; sc < CS_NSCEN; sc++) {
			for (size_t i = 0; i < R->n_paths; i++) {
				const struct cs_cell *c = &R->cells[k][sc][i];
				if (!cell_listed(R, k, sc, i))
					continue;
				const char *pn = R->paths[i].name;
				if (c->skipped || (c->failed && !c->n)) {
					fprintf(f, "%-9s %-10s %s: %s\n", cs_scenario_names[sc], pn,
					        c->failed ? "FAILED" : "n/a",
					        c->error ? c->error : "");
					continue;
				}
				struct bench_summary s[PH_COUNT];
				for (int ph = 0; ph < PH_COUNT; ph++)
					cs_stat_of(c, (enum cs_phase)ph, &s[ph]);
				char med[16], p95[16], p99[16], rc[16], rr[16], phs[PH_TOTAL][16];
				fmt_ms(med, sizeof(med), &s[PH_TOTAL], s[PH_TOTAL].median);
				fmt_ms(p95, sizeof(p95), &s[PH_TOTAL], s[PH_TOTAL].p95);
				fmt_ms(p99, sizeof(p99), &s[PH_TOTAL], s[PH_TOTAL].p99);
				double q = cs_ratio(R, k, sc, i, "crun");
				snprintf(rc, sizeof(rc), q > 0 ? "%.2fx" : "-", q);
				q = cs_ratio(R, k, sc, i, "runc");
				snprintf(rr, sizeof(rr), q > 0 ? "%.2fx" : "-", q);
				for (int ph = 0; ph < PH_TOTAL; ph++)
					fmt_ms(phs[ph], sizeof(phs[ph]), &s[ph], s[ph].median);
				fprintf(
				    f,
				    "%-9s %-10s %3zu %8s %8s %8s %7s %7s | %7s %6s %7s %6s %7s%s\n",
				    cs_scenario_names[sc], pn, c->n, med, p95, p99, rc, rr,
				    phs[PH_IMPORT], phs[PH_MOUNT], phs[PH_CREATE], phs[PH_START],
				    phs[PH_FIRST], c->failed ? "  (then failed)" : "");
			}
		}
	}
	print_headlines(f, R);
	fprintf(f,
	        "\ntimes in ms; total = import + mount + create + 1stbyte (from the start "
	        "command's beginning\nto the container's first byte of output; start, the command "
	        "alone, overlaps it); medians per phase;\npool: invoke to the first byte, page "
	        "cache warm, its ratios against the runtimes' warm starts\n");
}

static void jstr(struct fc_buf *j, const char *s)
{
	if (s)
		fc_buf_json_string(j, s);
	else
		fc_buf_printf(j, "null");
}

int cs_write_json(const char *path, const struct cs_run *R, struct fc_error **err)
{
	_cleanup_buf_ struct fc_buf j = {0};
	fc_buf_printf(&j, "{\n  \"benchmark\": \"coldstart\",\n  \"time\": ");
	jstr(&j, R->started);
	fc_buf_printf(&j, ",\n  \"command\": ");
	jstr(&j, R->cmdline);
	fc_buf_printf(&j, ",\n  \"image\": ");
	jstr(&j, R->image_abs);
	fc_buf_printf(&j,
	              ",\n  \"image_bytes\": %llu,\n  \"rounds\": %d,\n  \"rounds_requested\": "
	              "%d,\n  \"pause_ms\": %d,\n  \"seed\": %llu,\n  \"host\": ",
	              (unsigned long long)R->image_bytes, R->rounds_done, R->rounds, R->pause_ms,
	              (unsigned long long)R->seed);
	jstr(&j, R->host_note);
	fc_buf_printf(&j, ",\n  \"scenarios\": [");
	for (int sc = 0; sc < CS_NSCEN; sc++)
		fc_buf_printf(&j, "%s\"%s\"", sc ? ", " : "", cs_scenario_names[sc]);
	fc_buf_printf(&j, "],\n  \"phases\": [");
	for (int ph = 0; ph < PH_COUNT; ph++)
		fc_buf_printf(&j, "%s\"%s\"", ph ? ", " : "", cs_phase_names[ph]);
	fc_buf_printf(&j, "],\n  \"tiers\": [");
	bool first = true;
	for (int k = 0; k < CS_NTIERS; k++) {
		const struct cs_tier *t = &R->tiers.t[k];
		if (!t->wanted)
			continue;
		fc_buf_printf(&j, "%s\n    {\"name\": \"%s\", \"built\": %s, \"error\": ",
		              first ? "" : ",", cs_tier_names[k], t->ok ? "true" : "false");
		first = false;
		jstr(&j, t->why);
		fc_buf_printf(&j, ", \"device\": ");
		if (t->major || t->minor)
			fc_buf_printf(&j, "\"%u:%u\"", t->major, t->minor);
		else
			fc_buf_printf(&j, "null");
		fc_buf_printf(&j, ", \"direct_io\": %s, \"limits\": ", t->dio ? "true" : "false");
		if (t->lim_bps || t->lim_iops)
			fc_buf_printf(&j, "{\"read_write_bps\": %llu, \"read_write_iops\": %llu}",
			              (unsigned long long)t->lim_bps,
			              (unsigned long long)t->lim_iops);
		else
			fc_buf_printf(&j, "null");
		fc_buf_printf(&j, ", \"measured\": ");
		if (t->meas_mbps > 0)
			fc_buf_printf(&j, "{\"seq_read_mbps\": %.1f, \"rand_read_iops\": %.1f}",
			              t->meas_mbps, t->meas_iops);
		else
			fc_buf_printf(&j, "null");
		fc_buf_printf(&j, ", \"note\": ");
		jstr(&j, t->note);
		fc_buf_printf(&j, ", \"cgroup_io\": ");
		if (t->cg_read_bytes >= 0 || t->cg_write_bytes >= 0)
			fc_buf_printf(&j,
			              "{\"read_bytes\": %lld, \"write_bytes\": %lld, "
			              "\"writeback_write_bytes\": %lld}",
			              (long long)t->cg_read_bytes, (long long)t->cg_write_bytes,
			              (long long)t->root_write_bytes);
		else
			fc_buf_printf(&j, "null");
		fc_buf_printf(&j, "}");
	}
	fc_buf_printf(&j, "\n  ],\n  \"paths\": [");
	for (size_t i = 0; i < R->n_paths; i++) {
		const struct cs_path *p = &R->paths[i];
		fc_buf_printf(&j, "%s\n    {\"name\": \"%s\", \"available\": %s, \"error\": ",
		              i ? "," : "", p->name, p->available ? "true" : "false");
		jstr(&j, p->available ? NULL : p->why);
		fc_buf_printf(&j, ", \"binary\": ");
		jstr(&j, p->bin);
		fc_buf_printf(&j, ", \"version\": ");
		jstr(&j, p->version);
		fc_buf_printf(&j, "}");
	}
	fc_buf_printf(&j, "\n  ],\n  \"results\": [");
	first = true;
	for (int k = 0; k < CS_NTIERS; k++) {
		if (!R->tiers.t[k].wanted)
			continue;
		for (int sc = 0; sc < CS_NSCEN; sc++)
			for (size_t i = 0; i < R->n_paths; i++) {
				const struct cs_cell *c = &R->cells[k][sc][i];
				if (!cell_listed(R, k, sc, i))
					continue;
				fc_buf_printf(&j,
				              "%s\n    {\"tier\": \"%s\", \"scenario\": \"%s\", "
				              "\"path\": \"%s\", \"ok\": %s, \"error\": ",
				              first ? "" : ",", cs_tier_names[k],
				              cs_scenario_names[sc], R->paths[i].name,
				              !c->skipped && !c->failed && c->n ? "true" : "false");
				first = false;
				jstr(&j, c->error);
				fc_buf_printf(&j, ", \"n\": %zu", c->n);
				static const char *refs[] = {"crun", "runc"};
				for (int x = 0; x < 2; x++) {
					double q = cs_ratio(R, k, sc, i, refs[x]);
					fc_buf_printf(&j, ", \"ratio_%s\": ", refs[x]);
					if (q > 0)
						fc_buf_printf(&j, "%.4f", q);
					else
						fc_buf_printf(&j, "null");
				}
				fc_buf_printf(&j, ",\n     \"phases_ms\": {");
				for (int ph = 0; ph < PH_COUNT; ph++) {
					struct bench_summary s;
					cs_stat_of(c, (enum cs_phase)ph, &s);
					fc_buf_printf(
					    &j,
					    "%s\n       \"%s\": {\"n\": %zu, \"median\": "
					    "%.4f, \"p95\": %.4f, \"p99\": %.4f, "
					    "\"min\": %.4f, \"max\": %.4f, \"samples\": [",
					    ph ? "," : "", cs_phase_names[ph], s.n, s.median, s.p95,
					    s.p99, s.min, s.max);
					bool f1 = true;
					for (size_t x = 0; x < c->n; x++) {
						if (c->s[ph][x] < 0)
							continue;
						fc_buf_printf(&j, "%s%.4f", f1 ? "" : ", ",
						              c->s[ph][x]);
						f1 = false;
					}
					fc_buf_printf(&j, "]}");
				}
				fc_buf_printf(&j, "}}");
			}
	}
	fc_buf_printf(&j, "\n  ]\n}\n");
	return fc_write_file_atomic_at(AT_FDCWD, path, j.data, j.len, 0644, err);
}

int cs_write_csv(const char *path, const struct cs_run *R, struct fc_error **err)
{
	_cleanup_buf_ struct fc_buf c = {0};
	fc_buf_printf(&c, "tier,scenario,path,phase,n,median_ms,p95_ms,p99_ms,min_ms,max_ms,"
	                  "ratio_crun,ratio_runc,status\n");
	for (int k = 0; k < CS_NTIERS; k++) {
		if (!R->tiers.t[k].wanted)
			continue;
		for (int sc = 0; sc < CS_NSCEN; sc++)
			for (size_t i = 0; i < R->n_paths; i++) {
				const struct cs_cell *cell = &R->cells[k][sc][i];
				if (!cell_listed(R, k, sc, i))
					continue;
				const char *status = cell->skipped  ? "unavailable"
				                     : cell->failed ? "failed"
				                                    : "ok";
				double q = cs_ratio(R, k, sc, i, "crun");
				double q2 = cs_ratio(R, k, sc, i, "runc");
				char qs[32] = "", qs2[32] = "";
				if (q > 0)
					snprintf(qs, sizeof(qs), "%.4f", q);
				if (q2 > 0)
					snprintf(qs2, sizeof(qs2), "%.4f", q2);
				for (int ph = 0; ph < PH_COUNT; ph++) {
					struct bench_summary s;
					cs_stat_of(cell, (enum cs_phase)ph, &s);
					fc_buf_printf(
					    &c,
					    "%s,%s,%s,%s,%zu,%.4f,%.4f,%.4f,%.4f,%.4f,%s,%s,%s\n",
					    cs_tier_names[k], cs_scenario_names[sc],
					    R->paths[i].name, cs_phase_names[ph], s.n, s.median,
					    s.p95, s.p99, s.min, s.max, ph == PH_TOTAL ? qs : "",
					    ph == PH_TOTAL ? qs2 : "", status);
				}
			}
	}
	return fc_write_file_atomic_at(AT_FDCWD, path, c.data, c.len, 0644, err);
}
