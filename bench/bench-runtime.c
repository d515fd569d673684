/* SPDX-License-Identifier: MIT */
/* bench-runtime.c: `fcstart bench runtime`, the runtime cold-start benchmark,
 * and its command line (its reports: bench-runtime-out.c).
 * Every round runs each runtime's `run` and its create/start/delete sequence
 * once, in a fresh random order, with a short pause between runs (the first run
 * of a pair pays for the previous container's teardown, so a fixed order is
 * unfair). Each runtime gets a private --root under a temp dir; every container
 * id is unique and is deleted with `delete -f` if anything goes wrong, also on
 * SIGINT/SIGTERM. The floor (fcstart-floor, bench/floor.c) runs beside them:
 * only `run`, it has no create, start or delete.
 *
 * --phases adds profiled runs, interleaved: fcrun's `--debug` profile (each
 * step of its create, run and delete) and the floor's --phases line.
 * --age N measures, then runs N containers (runc's by default, a few at once)
 * to age the host the way a day of work does (dying cgroups, slab, deferred
 * namespace teardown), and measures again. */
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

/* The floor's command line for variant v: [--no-netns] [--phases] ROOTFS ARGS
 * (the strings are b's). */
static char **floor_args(const struct bench_run *b, int v, bool phases)
{
	const struct bench_runtime *x = NULL;
	for (size_t i = 0; i < b->n_rt && !x; i++)
		if (b->rt[i].floor)
			x = &b->rt[i];
	size_t na = fc_strv_len(b->args), n = 0;
	char **argv = fc_calloc(na + 5, sizeof(char *));
	argv[n++] = x ? x->path : (char *)"fcstart-floor";
	if (v == 1)
		argv[n++] = (char *)"--no-netns";
	if (phases)
		argv[n++] = (char *)"--phases";
	argv[n++] = b->rootfs;
	for (size_t i = 0; i < na; i++)
		argv[n++] = b->args[i];
	return argv;
}

/* `X run --bundle B id`: one timed command. */
static void measure_run(struct runner *R, size_t rt, int v, bool record)
{
	struct bench_runtime *x = &R->b->rt[rt];
	_cleanup_free_ char *id = new_id(R, rt, v, "run");
	char *argv[] = {x->path, "--root", x->root, "run", "--bundle", R->b->variant_dir[v],
	                id,      NULL};
	_cleanup_free_ char **floor_argv = x->floor ? floor_args(R->b, v, false) : NULL;
	struct bench_exec res;
	int r;
	if (x->floor) {
		r = exec_cmd(R, floor_argv, &res);
		reap_strays();
		if (!exec_ok(r, &res))
			fail(R, rt, v, "run", r, &res);
		else if (record) {
			add_sample(&x->res[v], BM_RUN, res.ms);
			add_sample(&x->res[v], BM_RSS_RUN, (double)res.maxrss_kib);
		}
		return;
	}
	live_add(R, rt, id);
	r = exec_cmd(R, argv, &res);
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
		x->path = FC_STREQ(spec, "fcrun")   ? bench_default_fcrun()
		          : FC_STREQ(spec, "floor") ? bench_default_floor()
		                                    : bench_find_in_path(spec);
	}
	if (x->path && x->path[0] != '/') {
		char *abs = realpath(x->path, NULL);
		if (abs) {
			free(x->path);
			x->path = abs;
		}
	}
	const char *base = x->path ? strrchr(x->path, '/') : NULL;
	x->floor = FC_STREQ(x->name, "floor") || (base && FC_STREQ(base + 1, "fcstart-floor"));
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
	if ((r = bench_bundle_rootfs(b->bundle_src, &b->rootfs, err)) < 0)
		return r;
	const char *rootfs = b->rootfs;
	if (b->cfg.cmd) {
		size_t n = fc_strv_len(b->cfg.cmd);
		b->args = fc_calloc(n + 1, sizeof(char *));
		for (size_t i = 0; i < n; i++)
			b->args[i] = fc_strdup(b->cfg.cmd[i]);
	} else if ((r = bench_bundle_args(b->bundle_src, &b->args, err)) < 0)
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
		x->version = x->floor ? fc_strdup("the kernel's floor (bench/floor.c)")
		                      : bench_program_version(x->path);
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

/* ---- profiled runs (--phases) ---------------------------------------------- */

static void phase_add(struct bench_phases *ph, const char *name, double us)
{
	size_t i = 0;
	while (i < ph->n && !FC_STREQ(ph->step[i].name, name))
		i++;
	if (i == ph->n) {
		if (ph->n == BENCH_PHASES_MAX)
			return;
		ph->step[ph->n++].name = fc_strdup(name);
	}
	ph->step[i].v = fc_realloc(ph->step[i].v, (ph->step[i].nv + 1) * sizeof(double));
	ph->step[i].v[ph->step[i].nv++] = us;
}

/* "NAME=US NAME=US ..." up to the end of the line or a quote: each a step;
 * returns their sum. */
static double phases_parse(struct bench_phases *ph, const char *text, const char *skip)
{
	double sum = 0;
	for (const char *p = text; *p && *p != '"' && *p != '\n';) {
		p += strspn(p, " ");
		size_t len = strcspn(p, "= \"\n");
		if (p[len] != '=')
			break;
		char name[32];
		snprintf(name, sizeof(name), "%.*s", (int)len, p);
		double us = strtod(p + len + 1, NULL);
		if (!skip || !FC_STREQ(name, skip)) {
			phase_add(ph, name, us);
			sum += us;
		}
		p += len + 1;
		p += strcspn(p, " \"\n");
	}
	return sum;
}

static void phase_fail(struct bench_phases *ph, const char *what, const struct bench_exec *x)
{
	if (ph->error)
		return;
	_cleanup_error_ struct fc_error *e = NULL;
	bench_exec_error(x, &e, what);
	ph->error = fc_strdup(e ? e->msg : what);
}

/* One profiled `fcrun run`: --debug with a log file, whose "run `ID`: phases
 * (us): ..." line says where its time went from main on; "process" is the
 * rest of the whole process's time (exec, loading, exit). */
static void profile_fcrun(struct runner *R, size_t rt, int v)
{
	struct bench_runtime *x = &R->b->rt[rt];
	_cleanup_free_ char *id = new_id(R, rt, v, "prof");
	_cleanup_free_ char *log = fc_asprintf("%s/prof-%s.log", R->b->tmpdir, id);
	char *argv[] = {x->path,   "--root",   x->root,
	                "--debug", "--log",    log,
	                "run",     "--bundle", R->b->variant_dir[v],
	                id,        NULL};
	struct bench_exec res;
	live_add(R, rt, id);
	int r = exec_cmd(R, argv, &res);
	reap_strays();
	_cleanup_free_ char *text = NULL;
	fc_read_file_at(AT_FDCWD, log, &text, NULL, 0, NULL);
	unlink(log);
	const char *line = text ? strstr(text, "phases (us): ") : NULL;
	if (!exec_ok(r, &res) || !line) {
		phase_fail(&x->phases, "profiled run", &res);
		force_delete(R, rt, id);
		return;
	}
	live_del(R, rt, id);
	double sum = phases_parse(&x->phases, line + 13, NULL);
	phase_add(&x->phases, "process", res.ms * 1e3 - sum);
	phase_add(&x->phases, "whole", res.ms * 1e3);
	x->phases.runs++;
}

/* One profiled floor: its --phases line ("total" is from its main on). */
static void profile_floor(struct runner *R, size_t rt, int v)
{
	struct bench_runtime *x = &R->b->rt[rt];
	_cleanup_free_ char **argv = floor_args(R->b, v, true);
	struct bench_exec res;
	int r = exec_cmd(R, argv, &res);
	reap_strays();
	const char *line = strstr(res.errtext, "phases (us): ");
	if (!exec_ok(r, &res) || !line) {
		phase_fail(&x->phases, "profiled run", &res);
		return;
	}
	double sum = phases_parse(&x->phases, line + 13, "total");
	phase_add(&x->phases, "process", res.ms * 1e3 - sum);
	phase_add(&x->phases, "whole", res.ms * 1e3);
	x->phases.runs++;
}

/* fcrun's and the floor's profiled runs of a round, in a random order, on
 * the variant with a network namespace (else the one without). */
static void profile_round(struct runner *R, uint64_t *rng)
{
	struct bench_run *b = R->b;
	int v = b->variant_on[0] ? 0 : 1;
	size_t n = b->n_rt;
	_cleanup_free_ size_t *items = fc_calloc(n ? n : 1, sizeof(size_t));
	for (size_t i = 0; i < n; i++)
		items[i] = i;
	bench_shuffle(items, n, rng);
	for (size_t i = 0; i < n && !bench_stop; i++) {
		struct bench_runtime *x = &b->rt[items[i]];
		if (x->res[v].failed)
			continue;
		if (x->floor)
			profile_floor(R, items[i], v);
		else if (FC_STREQ(x->name, "fcrun"))
			profile_fcrun(R, items[i], v);
		else
			continue;
		bench_sleep_ms(b->cfg.pause_ms, &bench_stop);
	}
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
				if (b->rt[rt].res[v].failed || (!run && b->rt[rt].floor))
					continue;
				progress(b, round, v, rt, run);
				if (run)
					measure_run(R, rt, v, round > 0);
				else
					measure_lifecycle(R, rt, v, round > 0);
				bench_sleep_ms(b->cfg.pause_ms, &bench_stop);
			}
		}
		if (b->cfg.phases && round > 0)
			profile_round(R, &rng);
		if (round > 0 && !bench_stop)
			b->rounds_done = round;
	}
	progress(b, -1, 0, 0, false);
}

/* ---- ageing the host (--age) ---------------------------------------------- */

/* Run n containers with runtime x (its own --root below tmpdir), jobs at a
 * time, untimed; each `run` removes its container, a failed one is removed
 * with `delete -f`. Returns how many ran to the end. */
static int age_host(struct runner *R, const struct bench_runtime *x, int v, int n, int jobs)
{
	struct bench_run *b = R->b;
	struct slot {
		pid_t pid;
		char *id;
	} *slots = fc_calloc((size_t)jobs, sizeof(*slots));
	int started = 0, done = 0, ok = 0;
	_cleanup_close_ int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
	while ((done < started || started < n) && !bench_stop) {
		for (int j = 0; j < jobs && started < n && !bench_stop; j++) {
			if (slots[j].pid > 0)
				continue;
			char *id = fc_asprintf("fcb-%d-age-%d", (int)getpid(), started);
			char *argv[] = {x->path,    "--root",          x->root, "run",
			                "--bundle", b->variant_dir[v], id,      NULL};
			pid_t pid = fork();
			if (pid == 0) {
				setpgid(0, 0);
				dup2(nul, 0);
				dup2(nul, 1);
				dup2(nul, 2);
				execv(argv[0], argv);
				_exit(127);
			}
			if (pid < 0) {
				free(id);
				break;
			}
			slots[j] = (struct slot){.pid = pid, .id = id};
			started++;
		}
		if (isatty(2) && done % 100 == 0)
			fprintf(stderr, "\r\033[Kageing the host: %d/%d containers", done, n);
		int st;
		pid_t pid = waitpid(-1, &st, 0);
		if (pid < 0 && errno == ECHILD)
			break;
		for (int j = 0; j < jobs; j++) {
			if (slots[j].pid != pid || pid <= 0)
				continue;
			done++;
			if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
				ok++;
			} else {
				char *del[] = {x->path, "--root",    x->root, "delete",
				               "-f",    slots[j].id, NULL};
				struct bench_exec res;
				exec_cmd(R, del, &res);
			}
			free(slots[j].id);
			slots[j] = (struct slot){0};
		}
	}
	for (int j = 0; j < jobs; j++)
		if (slots[j].pid > 0) {
			kill(-slots[j].pid, SIGKILL);
			waitpid(slots[j].pid, NULL, 0);
			char *del[] = {x->path, "--root",    x->root, "delete",
			               "-f",    slots[j].id, NULL};
			struct bench_exec res;
			exec_cmd(R, del, &res);
			free(slots[j].id);
		}
	free(slots);
	reap_strays();
	if (isatty(2))
		fprintf(stderr, "\r\033[K");
	return ok;
}

/* The runtime that ages the host: --age-runtime, else runc, else the first
 * that works; NULL when none does. */
static const struct bench_runtime *age_runtime(const struct bench_run *b)
{
	const char *want = b->cfg.age_runtime;
	for (int pass = want ? 0 : 1; pass < 3; pass++)
		for (size_t i = 0; i < b->n_rt; i++) {
			const struct bench_runtime *x = &b->rt[i];
			bool works = !x->floor && !x->res[0].failed && !x->res[1].failed;
			if (pass == 0 && FC_STREQ(x->name, want))
				return works ? x : NULL;
			if (pass == 1 && works && FC_STREQ(x->name, "runc"))
				return x;
			if (pass == 2 && works)
				return x;
		}
	return NULL;
}

/* The same measurements again on the aged host: b->aged, a copy of b with
 * results of its own. */
static void measure_aged(struct runner *R)
{
	struct bench_run *b = R->b;
	const struct bench_runtime *x = age_runtime(b);
	if (!x) {
		fc_log(FC_LOG_WARN, "bench runtime: --age: no runtime to age the host with%s%s",
		       b->cfg.age_runtime ? ": " : "",
		       b->cfg.age_runtime ? b->cfg.age_runtime : "");
		return;
	}
	struct bench_run *a = fc_calloc(1, sizeof(*a));
	*a = *b;
	a->aged = NULL;
	a->rounds_done = 0;
	a->rt = fc_calloc(b->n_rt, sizeof(*a->rt));
	for (size_t i = 0; i < b->n_rt; i++) {
		a->rt[i] = b->rt[i];
		memset(a->rt[i].res, 0, sizeof(a->rt[i].res));
		memset(&a->rt[i].phases, 0, sizeof(a->rt[i].phases));
		for (int v = 0; v < BENCH_VARIANTS; v++)
			if (b->rt[i].res[v].failed) {
				a->rt[i].res[v].failed = true;
				a->rt[i].res[v].error = fc_strdup(b->rt[i].res[v].error);
			}
	}
	b->aged = a;
	a->age_with = x->name;
	uint64_t t0 = fc_now_ns();
	int v = b->variant_on[0] ? 0 : 1;
	a->aged_ok = age_host(R, x, v, b->cfg.age, b->cfg.age_jobs);
	a->age_s = (double)(fc_now_ns() - t0) / 1e9;
	if (bench_stop)
		return;
	R->b = a;
	bench_host_state(&a->host_before);
	rounds(R);
	R->b = b;
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
	bench_host_state(&b->host_before);
	if (!bench_stop)
		rounds(&R);
	if (b->cfg.age > 0 && !bench_stop && b->rounds_done > 0)
		measure_aged(&R);
out:
	if (cleanup(&R, &err) < 0) {
		fc_log(FC_LOG_ERROR, "bench runtime: cleanup: %s", err->msg);
		ret = 1;
	}
	return bench_session_end(&session, "runtime", b->rounds_done, ret);
}

static void results_free(struct bench_runtime *x)
{
	for (int v = 0; v < BENCH_VARIANTS; v++) {
		free(x->res[v].error);
		for (int m = 0; m < BM_COUNT; m++)
			free(x->res[v].samples[m]);
	}
	for (size_t k = 0; k < x->phases.n; k++) {
		free(x->phases.step[k].name);
		free(x->phases.step[k].v);
	}
	free(x->phases.error);
}

void bench_run_free(struct bench_run *b)
{
	if (b->aged) {
		for (size_t i = 0; i < b->aged->n_rt; i++)
			results_free(&b->aged->rt[i]);
		free(b->aged->rt);
		free(b->aged);
	}
	for (size_t i = 0; i < b->n_rt; i++) {
		struct bench_runtime *x = &b->rt[i];
		free(x->name);
		free(x->path);
		free(x->version);
		free(x->root);
		results_free(x);
	}
	free(b->rt);
	free(b->rootfs);
	fc_strv_free(b->args);
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
    "  --runtimes LIST     comma-separated names, NAME=PATH or paths (default\n"
    "                      fcrun,crun,runc,floor; fcrun is $FCRUN, else the fcrun next to\n"
    "                      fcstart, else ../runtime/fcrun from fcstart (a build dir), else\n"
    "                      PATH; floor is fcstart-floor, the kernel's floor: a container\n"
    "                      made with raw system calls, `run` only)\n"
    "  -n, --rounds N      rounds (default 30; a warm-up round comes first)\n"
    "  --pause-ms MS       pause between runs (default 20)\n"
    "  --no-netns          only the variant without a network namespace\n"
    "  --cmd \"ARGS\"        the container's command, split on spaces (default /bin/true)\n"
    "  --timeout S         per-command timeout in seconds (default 30)\n"
    "  --json FILE         write the results as JSON\n"
    "  --csv FILE          write the summary as CSV\n"
    "  --phases            also profiled runs of fcrun (--debug) and the floor (--phases),\n"
    "                      interleaved: each step's median, side by side\n"
    "  --age N             measure, then age the host with N containers, then measure\n"
    "                      again (a fresh and an aged host side by side)\n"
    "  --age-runtime NAME  the runtime that ages the host (default runc, else the first)\n"
    "  --age-jobs N        containers run at once while ageing (default: the CPUs)\n"
    "\n"
    "Needs root. crun 1.8 refuses a hybrid cgroup host whose cgroup2 tree holds a\n"
    "controller: for crun's sake such controllers are mounted as v1 hierarchies for the\n"
    "benchmark's duration and the host is put back afterwards.\n";

/* ---- fcstart bench runtime ---------------------------------------------------- */

int bench_runtime_cmd(int argc, char **argv)
{
	enum {
		O_BUNDLE = 256,
		O_RUNTIMES,
		O_PAUSE,
		O_NONETNS,
		O_JSON,
		O_CSV,
		O_CMD,
		O_TIMEOUT,
		O_PHASES,
		O_AGE,
		O_AGE_RT,
		O_AGE_JOBS
	};
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
	    {"phases", no_argument, NULL, O_PHASES},
	    {"age", required_argument, NULL, O_AGE},
	    {"age-runtime", required_argument, NULL, O_AGE_RT},
	    {"age-jobs", required_argument, NULL, O_AGE_JOBS},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct bench_run b = {0};
	_cleanup_strv_ char **runtimes = NULL;
	_cleanup_strv_ char **cmd = NULL;
	int timeout = 30;
	b.cfg.rounds = 30;
	b.cfg.pause_ms = 20;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	b.cfg.age_jobs = ncpu > 0 ? (int)ncpu : 2;
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
		case O_PHASES:
			b.cfg.phases = true;
			break;
		case O_AGE:
			if (bench_parse_int("runtime", "--age", optarg, 0, &b.cfg.age) < 0)
				return 2;
			break;
		case O_AGE_RT:
			b.cfg.age_runtime = optarg;
			break;
		case O_AGE_JOBS:
			if (bench_parse_int("runtime", "--age-jobs", optarg, 1, &b.cfg.age_jobs) <
			    0)
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
		runtimes = bench_split("fcrun,crun,runc,floor", ',');
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
		bench_print_phases(stdout, &b);
		if (b.aged) {
			bench_print_table(stdout, b.aged);
			bench_print_phases(stdout, b.aged);
		}
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
