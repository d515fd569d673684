/* SPDX-License-Identifier: MIT */
/* bench-runtime.c: `fcstart bench runtime`, the runtime cold-start benchmark,
 * and its command line (its reports: bench-runtime-out.c).
 * Every round runs each runtime's `run` and its create/start/delete sequence
 * once, in a fresh random order, with a short pause between runs (the first run
 * of a pair pays for the previous container's teardown, so a fixed order is
 * unfair). Each runtime gets a private --root under a temp dir; every container
 * id is unique and is deleted with `delete -f` if anything goes wrong, also on
 * SIGINT/SIGTERM. */
#include "bench-runtime.h"

#include <getopt.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

static int pidfd_open_(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

struct runner {
	struct bench_run *b;
	/* ids that may exist, per runtime */
	char ***live;
	size_t *n_live;
	unsigned long seq;
};

/* One run of argv (see bench_exec): stdio /dev/null, stderr kept. */
static int exec_cmd(struct runner *R, char *const argv[], struct bench_exec *x)
{
	*x = (struct bench_exec)BENCH_EXEC_INIT(argv);
	x->timeout_s = R->b->cfg.timeout_s;
	return bench_exec(x);
}

static bool exec_ok(int r, const struct bench_exec *x)
{
	return r >= 0 && x->status == 0;
}

static void reap_strays(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

/* ---- container bookkeeping ---------------------------------------------- */

static void live_add(struct runner *R, size_t rt, const char *id)
{
	R->live[rt] = fc_realloc(R->live[rt], (R->n_live[rt] + 1) * sizeof(char *));
	R->live[rt][R->n_live[rt]++] = fc_strdup(id);
}

static void live_del(struct runner *R, size_t rt, const char *id)
{
	for (size_t i = 0; i < R->n_live[rt]; i++)
		if (FC_STREQ(R->live[rt][i], id)) {
			free(R->live[rt][i]);
			R->live[rt][i] = R->live[rt][--R->n_live[rt]];
			return;
		}
}

static void force_delete(struct runner *R, size_t rt, const char *id)
{
	struct bench_runtime *x = &R->b->rt[rt];
	char *argv[] = {x->path, "--root", x->root, "delete", "-f", (char *)id, NULL};
	struct bench_exec res;
	exec_cmd(R, argv, &res);
	reap_strays();
	live_del(R, rt, id);
}

/* ---- measurements --------------------------------------------------------- */

static void add_sample(struct bench_result *r, enum bench_metric m, double v)
{
	r->samples[m] = fc_realloc(r->samples[m], (r->n[m] + 1) * sizeof(double));
	r->samples[m][r->n[m]++] = v;
}

/* The first failure of a runtime in a variant: what failed and why (its
 * stderr); x == NULL when it was not a command. */
static void fail(struct runner *R, size_t rt, int v, const char *what, int r,
                 const struct bench_exec *x)
{
	struct bench_result *res = &R->b->rt[rt].res[v];
	if (res->failed)
		return;
	res->failed = true;
	if (!x) {
		res->error = fc_strdup(what);
		return;
	}
	_cleanup_error_ struct fc_error *e = NULL;
	if (r < 0)
		fc_error_set(&e, -r, "%s", what);
	else
		bench_exec_error(x, &e, what);
	res->error = fc_strdup(e->msg);
}

static char *new_id(struct runner *R, size_t rt, int v, const char *kind)
{
	return fc_asprintf("fcb-%d-%s-%s-%zu-%lu", (int)getpid(), kind, v ? "n" : "N", rt,
	                   ++R->seq);
}

/* `X run --bundle B id`: one timed command. */
static void measure_run(struct runner *R, size_t rt, int v, bool record)
{
	struct bench_runtime *x = &R->b->rt[rt];
	_cleanup_free_ char *id = new_id(R, rt, v, "run");
	char *argv[] = {x->path, "--root", x->root, "run", "--bundle", R->b->variant_dir[v],
	                id,      NULL};
	struct bench_exec res;
	live_add(R, rt, id);
	int r = exec_cmd(R, argv, &res);
	reap_strays();
	if (!exec_ok(r, &res)) {
		fail(R, rt, v, "run", r, &res);
		force_delete(R, rt, id);
		return;
	}
	/* runc, crun delete the container at the end of `run`; make sure */
	live_del(R, rt, id);
	if (record) {
		add_sample(&x->res[v], BM_RUN, res.ms);
		add_sample(&x->res[v], BM_RSS_RUN, (double)res.maxrss_kib);
	}
}

static pid_t read_pidfile(const char *path)
{
	_cleanup_free_ char *s = NULL;
	if (fc_read_file_at(AT_FDCWD, path, &s, NULL, 64, NULL) < 0)
		return -1;
	long p = strtol(s, NULL, 10);
	return p > 0 ? (pid_t)p : -1;
}

/* create, start, wait for the container's exit, delete: three timed commands. */
static void measure_lifecycle(struct runner *R, size_t rt, int v, bool record)
{
	struct bench_runtime *x = &R->b->rt[rt];
	_cleanup_free_ char *id = new_id(R, rt, v, "cs");
	_cleanup_free_ char *pidfile = fc_asprintf("%s/pid-%s", R->b->tmpdir, id);
	char *create[] = {
	    x->path,      "--root", x->root, "create", "--bundle", R->b->variant_dir[v],
	    "--pid-file", pidfile,  id,      NULL};
	char *start[] = {x->path, "--root", x->root, "start", id, NULL};
	char *del[] = {x->path, "--root", x->root, "delete", id, NULL};
	struct bench_exec rc, rs, rd;
	_cleanup_close_ int pfd = -1;

	live_add(R, rt, id);
	int r = exec_cmd(R, create, &rc);
	if (!exec_ok(r, &rc)) {
		fail(R, rt, v, "create", r, &rc);
		goto out_force;
	}
	pid_t pid = read_pidfile(pidfile);
	unlink(pidfile);
	if (pid <= 0) {
		fail(R, rt, v, "create: no container pid in --pid-file", 0, NULL);
		goto out_force;
	}
	pfd = pidfd_open_(pid);
	if (pfd < 0) {
		fail(R, rt, v, "create: the container process is already gone", 0, NULL);
		goto out_force;
	}
	r = exec_cmd(R, start, &rs);
	if (!exec_ok(r, &rs)) {
		fail(R, rt, v, "start", r, &rs);
		goto out_force;
	}
	/* wait for the container to exit */
	uint64_t t0 = fc_now_ns();
	for (;;) {
		struct pollfd p = {.fd = pfd, .events = POLLIN};
		int left = (int)(R->b->cfg.timeout_s * 1000) - (int)((fc_now_ns() - t0) / 1000000);
		if (left <= 0) {
			fail(R, rt, v, "start: the container did not exit", 0, NULL);
			goto out_force;
		}
		int pr = poll(&p, 1, left);
		if (pr > 0)
			break;
		if (pr < 0 && errno != EINTR)
			break;
	}
	waitpid(pid, NULL, WNOHANG); /* ours when we are its subreaper */
	r = exec_cmd(R, del, &rd);
	reap_strays();
	if (!exec_ok(r, &rd)) {
		fail(R, rt, v, "delete", r, &rd);
		goto out_force;
	}
	live_del(R, rt, id);
	if (record) {
		add_sample(&x->res[v], BM_CREATE, rc.ms);
		add_sample(&x->res[v], BM_START, rs.ms);
		add_sample(&x->res[v], BM_DELETE, rd.ms);
		add_sample(&x->res[v], BM_RSS_CREATE, (double)rc.maxrss_kib);
	}
	return;
out_force:
	unlink(pidfile);
	force_delete(R, rt, id);
}

/* ---- setup ------------------------------------------------------------------ */

static void resolve_runtime(struct bench_runtime *x, const char *spec)
{
	const char *eq = strchr(spec, '=');
	if (eq) {
		x->name = fc_strndup(spec, (size_t)(eq - spec));
		x->path = fc_strdup(eq + 1);
	} else if (strchr(spec, '/')) {
		const char *slash = strrchr(spec, '/');
		x->name = fc_strdup(slash + 1);
		x->path = fc_strdup(spec);
	} else {
		x->name = fc_strdup(spec);
		x->path =
		    FC_STREQ(spec, "fcrun") ? bench_default_fcrun() : bench_find_in_path(spec);
	}
	if (x->path && x->path[0] != '/') {
		char *abs = realpath(x->path, NULL);
		if (abs) {
			free(x->path);
			x->path = abs;
		}
	}
}

static int setup(struct runner *R, struct fc_error **err)
{
	struct bench_run *b = R->b;
	int r;
	const char *tmp = getenv("TMPDIR");
	_cleanup_free_ char *tmpl =
	    fc_asprintf("%s/fcstart-bench.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(tmpl))
		return fc_error_set(err, errno, "mkdtemp `%s`", tmpl);
	b->tmpdir = TAKE_PTR(tmpl);

	if (b->cfg.bundle) {
		b->bundle_src = realpath(b->cfg.bundle, NULL);
		if (!b->bundle_src)
			return fc_error_set(err, errno, "bundle `%s`", b->cfg.bundle);
	} else {
		/* busybox and the default config; the variants set the command */
		b->bundle_src = fc_asprintf("%s/bundle", b->tmpdir);
		if ((r = bench_busybox_bundle(b->bundle_src, err)) < 0)
			return fc_error_wrap(err, "the busybox bundle");
	}
	_cleanup_free_ char *rootfs = NULL;
	if ((r = bench_bundle_rootfs(b->bundle_src, &rootfs, err)) < 0)
		return r;
	for (int v = 0; v < BENCH_VARIANTS; v++) {
		b->variant_on[v] = v == 1 || !b->cfg.no_netns;
		if (!b->variant_on[v])
			continue;
		b->variant_dir[v] = fc_asprintf("%s/%s", b->tmpdir, bench_variant_names[v]);
		struct bench_variant_opts o = {
		    .rootfs_abs = rootfs,
		    .netns = v == 0,
		    .args = b->cfg.bundle && !b->cfg.cmd ? NULL : b->cfg.cmd,
		};
		if ((r = bench_write_variant(b->bundle_src, b->variant_dir[v], &o, err)) < 0)
			return fc_error_wrap(err, "bundle variant `%s`", bench_variant_names[v]);
	}

	b->n_rt = fc_strv_len(b->cfg.runtimes);
	b->rt = fc_calloc(b->n_rt, sizeof(*b->rt));
	R->live = fc_calloc(b->n_rt, sizeof(*R->live));
	R->n_live = fc_calloc(b->n_rt, sizeof(*R->n_live));
	for (size_t i = 0; i < b->n_rt; i++) {
		struct bench_runtime *x = &b->rt[i];
		resolve_runtime(x, b->cfg.runtimes[i]);
		x->root = fc_asprintf("%s/root-%zu-%s", b->tmpdir, i, x->name);
		if (!x->path || access(x->path, X_OK) != 0) {
			for (int v = 0; v < BENCH_VARIANTS; v++) {
				x->res[v].failed = true;
				x->res[v].error = fc_asprintf("`%s` not found%s%s", x->name,
				                              x->path ? " at " : " in PATH",
				                              x->path ? x->path : "");
			}
			continue;
		}
		x->version = bench_program_version(x->path);
		if ((r = fc_mkdir_p_at(AT_FDCWD, x->root, 0700, err)) < 0)
			return r;
	}
	return 0;
}

static bool wants_host_fix(const struct bench_run *b)
{
	for (size_t i = 0; i < b->n_rt; i++)
		if (FC_STREQ(b->rt[i].name, "crun") && !b->rt[i].res[0].failed)
			return true;
	return false;
}

/* ---- the rounds ----------------------------------------------------------- */

static void progress(const struct bench_run *b, int round, int v, size_t rt, bool run)
{
	if (!isatty(2))
		return;
	if (round < 0) {
		fprintf(stderr, "\r\033[K");
		return;
	}
	if (round == 0)
		fprintf(stderr, "\r\033[Kwarm-up: %s %s %s", bench_variant_names[v], b->rt[rt].name,
		        run ? "run" : "create/start/delete");
	else
		fprintf(stderr, "\r\033[Kround %d/%d: %s %s %s", round, b->cfg.rounds,
		        bench_variant_names[v], b->rt[rt].name,
		        run ? "run" : "create/start/delete");
	fflush(stderr);
}

static void rounds(struct runner *R)
{
	struct bench_run *b = R->b;
	size_t n_items = b->n_rt * 2;
	_cleanup_free_ size_t *items = fc_calloc(n_items ? n_items : 1, sizeof(size_t));
	b->seed = bench_seed();
	uint64_t rng = b->seed;
	/* round 0 is a warm-up (page cache, dentries) that also checks each runtime works */
	for (int round = 0; round <= b->cfg.rounds && !bench_stop; round++) {
		for (int v = 0; v < BENCH_VARIANTS && !bench_stop; v++) {
			if (!b->variant_on[v])
				continue;
			for (size_t i = 0; i < n_items; i++)
				items[i] = i;
			bench_shuffle(items, n_items, &rng);
			for (size_t i = 0; i < n_items && !bench_stop; i++) {
				size_t rt = items[i] / 2;
				bool run = items[i] % 2 == 0;
				if (b->rt[rt].res[v].failed)
					continue;
				progress(b, round, v, rt, run);
				if (run)
					measure_run(R, rt, v, round > 0);
				else
					measure_lifecycle(R, rt, v, round > 0);
				bench_sleep_ms(b->cfg.pause_ms, &bench_stop);
			}
		}
		if (round > 0 && !bench_stop)
			b->rounds_done = round;
	}
	progress(b, -1, 0, 0, false);
}

static int cleanup(struct runner *R, struct fc_error **err)
{
	struct bench_run *b = R->b;
	int ret = 0;
	for (size_t rt = 0; R->live && rt < b->n_rt; rt++) {
		while (R->n_live[rt] > 0) {
			_cleanup_free_ char *id = fc_strdup(R->live[rt][R->n_live[rt] - 1]);
			force_delete(R, rt, id);
		}
		free(R->live[rt]);
	}
	free(R->live);
	free(R->n_live);
	R->live = NULL;
	/* container processes killed by `delete -f` were reparented to us: reap them
	 * all (nothing else of ours is running now), at most ~2 s */
	for (int i = 0; i < 200; i++) {
		pid_t p = waitpid(-1, NULL, WNOHANG);
		if (p < 0 && errno == ECHILD)
			break;
		if (p == 0) {
			struct timespec ts = {0, 10000000L};
			nanosleep(&ts, NULL);
		}
	}
	if (b->tmpdir) {
		struct fc_error *e = NULL;
		if (fc_rm_rf_at(AT_FDCWD, b->tmpdir, &e) < 0) {
			ret = fc_error_code(e);
			if (err && !*err)
				*err = TAKE_PTR(e);
			fc_error_free(e);
		}
	}
	if (b->host_fixed) {
		struct fc_error *e = NULL;
		if (bench_host_fix_restore(&b->host, &e) < 0) {
			ret = fc_error_code(e);
			if (err && !*err)
				*err = TAKE_PTR(e);
			fc_error_free(e);
		}
		b->host_fixed = false;
	}
	return ret;
}

int bench_runtime_main(struct bench_run *b)
{
	struct runner R = {.b = b};
	struct bench_session session;
	_cleanup_error_ struct fc_error *err = NULL;
	int ret = 0;

	/* orphaned container processes (after `create` returns) become our children */
	bench_session_begin(&session, true);
	if (setup(&R, &err) < 0) {
		fc_log(FC_LOG_ERROR, "bench runtime: %s", err->msg);
		ret = 1;
		goto out;
	}
	if (wants_host_fix(b)) {
		b->host_fixed = true; /* restored in cleanup, whatever was done */
		if (bench_host_fix_for_crun(&b->host, &b->host_note) < 0)
			fc_log(FC_LOG_WARN, "bench runtime: %s; running crun anyway", b->host_note);
	}
	if (!bench_stop)
		rounds(&R);
out:
	if (cleanup(&R, &err) < 0) {
		fc_log(FC_LOG_ERROR, "bench runtime: cleanup: %s", err->msg);
		ret = 1;
	}
	return bench_session_end(&session, "runtime", b->rounds_done, ret);
}

void bench_run_free(struct bench_run *b)
{
	for (size_t i = 0; i < b->n_rt; i++) {
		struct bench_runtime *x = &b->rt[i];
		free(x->name);
		free(x->path);
		free(x->version);
		free(x->root);
		for (int v = 0; v < BENCH_VARIANTS; v++) {
			free(x->res[v].error);
			for (int m = 0; m < BM_COUNT; m++)
				free(x->res[v].samples[m]);
		}
	}
	free(b->rt);
	free(b->tmpdir);
	free(b->bundle_src);
	for (int v = 0; v < BENCH_VARIANTS; v++)
		free(b->variant_dir[v]);
	free(b->host_note);
}

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

/* ---- fcstart bench runtime ---------------------------------------------------- */

int bench_runtime_cmd(int argc, char **argv)
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
			runtimes = bench_split(optarg, ',');
			break;
		case 'n':
			if (bench_parse_int("runtime", "--rounds", optarg, 1, &b.cfg.rounds) < 0)
				return 2;
			break;
		case O_PAUSE:
			if (bench_parse_int("runtime", "--pause-ms", optarg, 0, &b.cfg.pause_ms) <
			    0)
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
			cmd = bench_split(optarg, ' ');
			break;
		case O_TIMEOUT:
			if (bench_parse_int("runtime", "--timeout", optarg, 1, &timeout) < 0)
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
		runtimes = bench_split("fcrun,crun,runc", ',');
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
		default_cmd = bench_split("/bin/true", ' ');
	b.cfg.runtimes = runtimes;
	b.cfg.cmd = cmd ? cmd : default_cmd;
	b.cfg.timeout_s = timeout;

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
