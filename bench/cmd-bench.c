/* SPDX-License-Identifier: MIT */
/* cmd-bench.c: `fcstart bench SUBCOMMAND`. For now: `runtime`, the cold-start
 * benchmark of OCI runtimes side by side (bench-runtime.c), with its table,
 * JSON and CSV reports.
 *
 * JSON (--json): {"benchmark":"runtime", "time", "rounds" (completed),
 * "rounds_requested", "pause_ms", "seed", "bundle" (null: the built busybox one),
 * "cmd", "host" (what was done to the cgroup mounts, or null), "variants":
 * ["netns","no-netns"], "runtimes":[{"name","path","version","results":{VARIANT:
 * {"ok","error", "run_ms","create_ms","start_ms","delete_ms","rss_run_kib",
 * "rss_create_kib": {"n","median","p95","min","max","ratio_crun","ratio_runc",
 * "samples":[...]}}}}]}. Ratios are median over the reference's median (null
 * when the reference is absent or failed).
 * CSV (--csv): variant,runtime,metric,unit,n,median,p95,min,max,ratio_crun,
 * ratio_runc,status, one line per runtime, variant and metric. */
#include "bench.h"
#include "bench-coldstart.h"
#include "bench-pool.h"
#include "commands.h"

#include <fcntl.h>
#include <getopt.h>

static const char runtime_usage[] =
    "usage: fcstart bench runtime [OPTIONS]\n"
    "\n"
    "Time `X run`, and `X create`, `X start`, `X delete` separately, for each OCI runtime\n"
    "on the same bundle, every round in a fresh random order, with and without a network\n"
    "namespace; report median, p95, min, peak RSS and the ratios against crun and runc.\n"
    "\n"
    "  --bundle DIR        the bundle to run (default: a bundle of the host's static busybox\n"
    "                      and the default config.json of `fcrun spec`, made in a temp dir)\n"
    "  --runtimes LIST     comma-separated names, NAME=PATH or paths (default fcrun,crun,runc;\n"
    "                      fcrun is $FCRUN, else the fcrun next to fcstart, else\n"
    "                      ../runtime/fcrun from fcstart (a build dir), else PATH)\n"
    "  -n, --rounds N      rounds (default 30; a warm-up round comes first)\n"
    "  --pause-ms MS       pause between runs (default 20)\n"
    "  --no-netns          only the variant without a network namespace\n"
    "  --cmd \"ARGS\"        the container's command, split on spaces (default /bin/true)\n"
    "  --timeout S         per-command timeout in seconds (default 30)\n"
    "  --json FILE         write the results as JSON\n"
    "  --csv FILE          write the summary as CSV\n"
    "\n"
    "Needs root. crun 1.8 refuses a hybrid cgroup host whose cgroup2 tree holds a\n"
    "controller: for crun's sake such controllers are mounted as v1 hierarchies for the\n"
    "benchmark's duration and the host is put back afterwards.\n";

static char **split(const char *s, char sep)
{
	size_t n = 0;
	char **v = fc_calloc(strlen(s) + 2, sizeof(char *));
	const char *p = s;
	while (*p) {
		while (*p == sep)
			p++;
		if (!*p)
			break;
		const char *e = strchr(p, sep);
		if (!e)
			e = p + strlen(p);
		v[n++] = fc_strndup(p, (size_t)(e - p));
		p = e;
	}
	return v;
}

static int parse_int(const char *s, const char *flag, int min, int *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > 1000000) {
		fprintf(stderr, "fcstart bench runtime: %s: bad number `%s`\n", flag, s);
		return -1;
	}
	*out = (int)v;
	return 0;
}

/* ---- reports ---------------------------------------------------------------- */

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

int bench_print_table(FILE *f, const struct bench_run *b)
{
	static const int time_metrics[] = {BM_RUN, BM_CREATE, BM_START, BM_DELETE};
	fprintf(f, "fcstart bench runtime: %d round(s) in random order, %d ms pause, bundle %s\n",
	        b->rounds_done, b->cfg.pause_ms,
	        b->cfg.bundle ? b->cfg.bundle : "busybox (" BENCH_BUSYBOX ")");
	for (size_t i = 0; i < b->n_rt; i++)
		fprintf(f, "  %-8s %s (%s)\n", b->rt[i].name, b->rt[i].path ? b->rt[i].path : "-",
		        b->rt[i].version ? b->rt[i].version : "version unknown");
	if (b->host_note)
		fprintf(f, "  host: %s\n", b->host_note);
	for (int v = 0; v < BENCH_VARIANTS; v++) {
		if (!b->variant_on[v])
			continue;
		fprintf(f, "\n%s (times in ms; ratios are medians against crun and runc)\n",
		        v == 0 ? "with a network namespace" : "without a network namespace");
		fprintf(f, "%-8s %-7s %8s %8s %8s %8s %8s\n", "runtime", "metric", "median", "p95",
		        "min", "x crun", "x runc");
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
				char rc[16], rr[16];
				fmt_ratio(rc, sizeof(rc), ratio(b, x, v, m, "crun"));
				fmt_ratio(rr, sizeof(rr), ratio(b, x, v, m, "runc"));
				fprintf(f, "%-8s %-7s %8.2f %8.2f %8.2f %8s %8s\n",
				        k ? "" : x->name, bench_metric_names[m], s.s[m].median,
				        s.s[m].p95, s.s[m].min, rc, rr);
			}
			char rc[16], rr[16];
			fmt_ratio(rc, sizeof(rc), ratio(b, x, v, BM_RSS_RUN, "crun"));
			fmt_ratio(rr, sizeof(rr), ratio(b, x, v, BM_RSS_RUN, "runc"));
			fprintf(f, "%-8s %-7s %7.1fM %7.1fM %7.1fM %8s %8s\n", "", "rss",
			        s.s[BM_RSS_RUN].median / 1024.0, s.s[BM_RSS_RUN].p95 / 1024.0,
			        s.s[BM_RSS_RUN].min / 1024.0, rc, rr);
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
			char rc[16];
			fmt_ratio(rc, sizeof(rc), ratio(b, x, v, BM_RUN, "crun"));
			fprintf(f, "  %s %.2f ms (%s crun)", x->name, s.s[BM_RUN].median, rc);
		}
		fprintf(f, "\n");
	}
	return 0;
}

static void json_num(struct fc_buf *j, double d)
{
	fc_buf_printf(j, "%.4f", d);
}

int bench_write_json(const char *path, const struct bench_run *b, struct fc_error **err)
{
	_cleanup_buf_ struct fc_buf j = {0};
	char ts[48];
	fc_rfc3339_now(ts, sizeof(ts));
	fc_buf_printf(&j, "{\n  \"benchmark\": \"runtime\",\n  \"time\": ");
	fc_buf_json_string(&j, ts);
	fc_buf_printf(&j,
	              ",\n  \"rounds\": %d,\n  \"rounds_requested\": %d,\n  \"pause_ms\": %d,\n",
	              b->rounds_done, b->cfg.rounds, b->cfg.pause_ms);
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
	fc_buf_printf(&j, "],\n  \"runtimes\": [\n");
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
				const char *refs[] = {"crun", "runc"};
				for (int k = 0; k < 2; k++) {
					double q = ratio(b, x, v, m, refs[k]);
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
		fc_buf_printf(&j, "\n      }\n    }%s\n", i + 1 < b->n_rt ? "," : "");
	}
	fc_buf_printf(&j, "  ]\n}\n");
	return fc_write_file_atomic_at(AT_FDCWD, path, j.data, j.len, 0644, err);
}

int bench_write_csv(const char *path, const struct bench_run *b, struct fc_error **err)
{
	_cleanup_buf_ struct fc_buf c = {0};
	fc_buf_printf(&c, "variant,runtime,metric,unit,n,median,p95,min,max,ratio_crun,ratio_runc,"
	                  "status\n");
	for (int v = 0; v < BENCH_VARIANTS; v++) {
		if (!b->variant_on[v])
			continue;
		for (size_t i = 0; i < b->n_rt; i++) {
			const struct bench_runtime *x = &b->rt[i];
			struct sum s;
			summarise(&x->res[v], &s);
			for (int m = 0; m < BM_COUNT; m++) {
				bool rss = m == BM_RSS_RUN || m == BM_RSS_CREATE;
				double rc = ratio(b, x, v, m, "crun"),
				       rr = ratio(b, x, v, m, "runc");
				char rcs[32] = "", rrs[32] = "";
				if (rc > 0)
					snprintf(rcs, sizeof(rcs), "%.4f", rc);
				if (rr > 0)
					snprintf(rrs, sizeof(rrs), "%.4f", rr);
				fc_buf_printf(&c, "%s,%s,%s,%s,%zu,%.4f,%.4f,%.4f,%.4f,%s,%s,%s\n",
				              bench_variant_names[v], x->name,
				              bench_metric_names[m], rss ? "KiB" : "ms", s.s[m].n,
				              s.s[m].median, s.s[m].p95, s.s[m].min, s.s[m].max,
				              rcs, rrs, x->res[v].failed ? "failed" : "ok");
			}
		}
	}
	return fc_write_file_atomic_at(AT_FDCWD, path, c.data, c.len, 0644, err);
}

/* ---- fcstart bench runtime ---------------------------------------------------- */

static int bench_runtime_cmd(int argc, char **argv)
{
	enum { O_BUNDLE = 256, O_RUNTIMES, O_PAUSE, O_NONETNS, O_JSON, O_CSV, O_CMD, O_TIMEOUT };
	static const struct option opts[] = {
	    {"bundle", required_argument, NULL, O_BUNDLE},
	    {"runtimes", required_argument, NULL, O_RUNTIMES},
	    {"rounds", required_argument, NULL, 'n'},
	    {"pause-ms", required_argument, NULL, O_PAUSE},
	    {"no-netns", no_argument, NULL, O_NONETNS},
	    {"json", required_argument, NULL, O_JSON},
	    {"csv", required_argument, NULL, O_CSV},
	    {"cmd", required_argument, NULL, O_CMD},
	    {"timeout", required_argument, NULL, O_TIMEOUT},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct bench_run b = {0};
	_cleanup_strv_ char **runtimes = NULL;
	_cleanup_strv_ char **cmd = NULL;
	int timeout = 30;
	b.cfg.rounds = 30;
	b.cfg.pause_ms = 20;
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "n:h", opts, NULL)) != -1) {
		switch (c) {
		case O_BUNDLE:
			b.cfg.bundle = optarg;
			break;
		case O_RUNTIMES:
			fc_strv_free(runtimes);
			runtimes = split(optarg, ',');
			break;
		case 'n':
			if (parse_int(optarg, "--rounds", 1, &b.cfg.rounds) < 0)
				return 2;
			break;
		case O_PAUSE:
			if (parse_int(optarg, "--pause-ms", 0, &b.cfg.pause_ms) < 0)
				return 2;
			break;
		case O_NONETNS:
			b.cfg.no_netns = true;
			break;
		case O_JSON:
			b.cfg.json = optarg;
			break;
		case O_CSV:
			b.cfg.csv = optarg;
			break;
		case O_CMD:
			fc_strv_free(cmd);
			cmd = split(optarg, ' ');
			break;
		case O_TIMEOUT:
			if (parse_int(optarg, "--timeout", 1, &timeout) < 0)
				return 2;
			break;
		case 'h':
			fputs(runtime_usage, stdout);
			return 0;
		default:
			fputs(runtime_usage, stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "fcstart bench runtime: unexpected argument `%s`\n", argv[optind]);
		return 2;
	}
	if (!runtimes)
		runtimes = split("fcrun,crun,runc", ',');
	if (!runtimes[0]) {
		fprintf(stderr, "fcstart bench runtime: --runtimes: empty list\n");
		return 2;
	}
	if (cmd && !cmd[0]) {
		fprintf(stderr, "fcstart bench runtime: --cmd: empty command\n");
		return 2;
	}
	if (geteuid() != 0)
		fprintf(stderr, "fcstart bench runtime: warning: not root; runtimes will likely "
		                "fail\n");
	_cleanup_strv_ char **default_cmd = NULL;
	if (!cmd && !b.cfg.bundle)
		default_cmd = split("/bin/true", ' ');
	b.cfg.runtimes = runtimes;
	b.cfg.cmd = cmd ? cmd : default_cmd;
	b.cfg.timeout_s = timeout;
	b.cfg.bundle = b.cfg.bundle;

	int r = bench_runtime_main(&b);
	/* A problem putting the host back (reported above) does not void the
	 * measurements: they are printed whenever the rounds ran. */
	if (r == 0 || (r == 1 && b.rounds_done > 0)) {
		bench_print_table(stdout, &b);
		fflush(stdout);
		_cleanup_error_ struct fc_error *err = NULL;
		if (b.cfg.json && bench_write_json(b.cfg.json, &b, &err) < 0) {
			fprintf(stderr, "fcstart bench runtime: --json: %s\n", err->msg);
			r = 1;
		}
		fc_error_free(TAKE_PTR(err));
		if (b.cfg.csv && bench_write_csv(b.cfg.csv, &b, &err) < 0) {
			fprintf(stderr, "fcstart bench runtime: --csv: %s\n", err->msg);
			r = 1;
		}
		bool any_ok = false;
		for (size_t i = 0; i < b.n_rt; i++)
			for (int v = 0; v < BENCH_VARIANTS; v++)
				if (b.variant_on[v] && !b.rt[i].res[v].failed)
					any_ok = true;
		if (!any_ok) {
			fprintf(stderr, "fcstart bench runtime: every runtime failed\n");
			r = 1;
		}
	}
	bench_run_free(&b);
	return r;
}

int cmd_bench(int argc, char **argv)
{
	if (argc < 2 || FC_STREQ(argv[1], "--help") || FC_STREQ(argv[1], "-h")) {
		FILE *f = argc < 2 ? stderr : stdout;
		fprintf(f,
		        "usage: fcstart bench SUBCOMMAND [OPTIONS]\n\n"
		        "Subcommands:\n"
		        "  runtime   cold starts of OCI runtimes side by side (fcrun, crun, runc)\n"
		        "  pool      pre-warmed pool hand-over vs on-demand vs OCI runtimes\n"
		        "  coldstart cold starts of an image across storage tiers and start paths\n"
		        "  pull      uncached cold starts from a registry behind a shaped link\n");
		return argc < 2 ? 2 : 0;
	}
	if (FC_STREQ(argv[1], "runtime"))
		return bench_runtime_cmd(argc - 1, argv + 1);
	if (FC_STREQ(argv[1], "pool"))
		return bench_pool_cmd(argc - 1, argv + 1);
	if (FC_STREQ(argv[1], "coldstart"))
		return bench_coldstart_cmd(argc - 1, argv + 1);
	if (FC_STREQ(argv[1], "pull"))
		return bench_pull_cmd(argc - 1, argv + 1);
	fprintf(stderr, "fcstart bench: unknown subcommand `%s` (see `fcstart bench --help`)\n",
	        argv[1]);
	return 2;
}
