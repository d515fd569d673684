/* SPDX-License-Identifier: MIT */
/* bench-coldstart.c: `fcstart bench coldstart`: cold starts of one image on
 * each storage tier (bench-tiers.c) through each start path, side by side.
 *
 * Scenarios per tier:
 *   uncached  an empty store on the tier, the page cache dropped, the image
 *             archive on the tier: import (read, decompress, write, sync: the
 *             import's total, libfcsnap does not report its phases), bundle
 *             (overlay mount), create, start; first_byte runs from the start
 *             command's beginning to the first byte of the container's output
 *             on a pipe (start overlaps it); total = import + mount + create +
 *             first_byte
 *   cached    the layers already in the tier's store, the page cache dropped
 *   warm      the same with everything in the page cache
 *   pool      the hand-over of a pre-created sandbox (the pool path only)
 * Every round visits the tiers in random order, and within a tier and scenario
 * the paths in random order, with a short pause between runs.
 *
 * Paths are pluggable (struct cs_path_ops): the OCI runtimes fcrun, crun and
 * runc on the same bundle; the pool (bench-coldstart-pool.c: a private
 * `fcstart serve` per tier); docker and containerd (bench-coldstart-engines.c:
 * private daemons per tier). */
#include "bench-coldstart.h"
#include "fcsnap-cmd.h"
#include "fcsnap.h"

#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <libgen.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define IMAGE_NAME "coldstart"
#define MAX_PATHS  8

int cs_exec(struct cs_run *R, struct bench_exec *x, const char *what, struct fc_error **err)
{
	x->timeout_s = R->timeout_s;
	int r = bench_exec(x);
	if (r < 0)
		return fc_error_set(err, -r, "%s", what);
	if (x->status != 0)
		return bench_exec_error(x, err, what);
	return 0;
}

void cs_reap_strays(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

/* ---- OCI runtime paths (fcrun, crun, runc) ---------------------------------- */

static int rt_probe(struct cs_run *R, struct cs_path *p, char **why)
{
	p->bin = FC_STREQ(p->name, "fcrun") ? bench_default_fcrun() : bench_find_in_path(p->name);
	if (!p->bin || access(p->bin, X_OK) != 0) {
		*why = fc_asprintf("`%s` not found%s", p->name,
		                   FC_STREQ(p->name, "fcrun")
		                       ? " ($FCRUN, next to fcstart, ../runtime/fcrun, PATH)"
		                       : " in PATH");
		return -ENOENT;
	}
	p->version = bench_program_version(p->bin);
	p->root = fc_asprintf("%s/roots/%s", R->tiers.workdir, p->name);
	struct fc_error *e = NULL;
	if (fc_mkdir_p_at(AT_FDCWD, p->root, 0700, &e) < 0) {
		*why = fc_strdup(e->msg);
		fc_error_free(e);
		return -EIO;
	}
	return 0;
}

static bool rt_has_scenario(const struct cs_path *p, enum cs_scenario sc)
{
	(void)p;
	return sc != CS_POOL;
}

/* The runtime's argv: its global flags, then tail. */
static void rt_argv(const struct cs_path *p, char *out[16], char *const tail[])
{
	int n = 0;
	out[n++] = p->bin;
	out[n++] = "--root";
	out[n++] = p->root;
	for (size_t i = 0; tail[i] && n < 15; i++)
		out[n++] = tail[i];
	out[n] = NULL;
}

static int rt_measure(struct cs_run *R, struct cs_path *p, struct cs_tier *t, enum cs_scenario sc,
                      double ph[PH_COUNT], struct fc_error **err)
{
	unsigned long seq = ++R->seq;
	_cleanup_free_ char *run_dir = fc_asprintf("%s/run-%lu", t->dir, seq);
	_cleanup_free_ char *bundle = fc_asprintf("%s/bundle", run_dir);
	_cleanup_free_ char *rootfs = fc_asprintf("%s/rootfs", bundle);
	_cleanup_free_ char *id = fc_asprintf("fcbcs-%d-%lu", (int)getpid(), seq);
	_cleanup_free_ char *pidfile = fc_asprintf("%s/pid", run_dir);
	struct fcsnap_store *own = NULL, *store = R->stores[t->kind];
	int pipefd[2] = {-1, -1};
	bool bundled = false, created = false;
	int r;

	for (int i = 0; i < PH_COUNT; i++)
		ph[i] = -1;
	if (mkdir(run_dir, 0755) < 0)
		return fc_error_set(err, errno, "mkdir `%s`", run_dir);
	if (sc == CS_UNCACHED) {
		_cleanup_free_ char *sd = fc_asprintf("%s/store", run_dir);
		if ((r = fcsnap_store_open(sd, &own, err)) < 0)
			goto out;
		store = own;
	}
	if (!store) {
		r = fc_error_set(err, ENOENT, "no store with the image on tier %s",
		                 cs_tier_names[t->kind]);
		goto out;
	}
	if (sc != CS_WARM && (r = cs_drop_caches(err)) < 0)
		goto out;

	uint64_t t0 = fc_now_ns();
	if (sc == CS_UNCACHED) {
		struct fcsnap_import_opts o = {.name = IMAGE_NAME};
		if ((r = fcsnap_import(store, t->archive, &o, NULL, err)) < 0) {
			fc_error_wrap(err, "import `%s`", t->archive);
			goto out;
		}
		ph[PH_IMPORT] = bench_ms_since(t0);
	}
	uint64_t t1 = fc_now_ns();
	struct fcsnap_bundle_opts bo = {0};
	if ((r = cmd_image_bundle(store, IMAGE_NAME, bundle, &bo, err)) < 0) {
		fc_error_wrap(err, "bundle");
		goto out;
	}
	bundled = true;
	ph[PH_MOUNT] = bench_ms_since(t1);

	/* not timed: the container prints one line; the tier's limits for its own I/O */
	char *args[] = {"/bin/sh", "-c", "echo ready", NULL};
	struct bench_variant_opts vo = {.rootfs_abs = rootfs, .netns = 1, .args = args};
	if (t->lim_bps || t->lim_iops) {
		vo.blk_major = t->major;
		vo.blk_minor = t->minor;
		vo.blk_bps = t->lim_bps;
		vo.blk_iops = t->lim_iops;
	}
	if ((r = bench_write_variant(bundle, bundle, &vo, err)) < 0) {
		fc_error_wrap(err, "config.json");
		goto out;
	}
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		r = fc_error_set(err, errno, "pipe");
		goto out;
	}
	char *create[16], *start[16];
	rt_argv(p, create,
	        (char *[]){"create", "--bundle", bundle, "--pid-file", pidfile, id, NULL});
	rt_argv(p, start, (char *[]){"start", id, NULL});
	created = true;
	struct bench_exec x = BENCH_EXEC_INIT(create);
	x.out = pipefd[1];
	r = cs_exec(R, &x, "create", err);
	close(pipefd[1]);
	pipefd[1] = -1;
	if (r < 0)
		goto out;
	ph[PH_CREATE] = x.ms;
	/* start, and meanwhile read the container's stdout: its first byte, then to
	 * its end (the container exited) */
	x = (struct bench_exec)BENCH_EXEC_INIT(start);
	x.watch = pipefd[0];
	x.stop = &bench_stop;
	if ((r = cs_exec(R, &x, "start", err)) < 0)
		goto out;
	ph[PH_START] = x.ms;
	ph[PH_FIRST] = x.output.first_ms;
	if (ph[PH_FIRST] < 0) {
		r = x.output.eof
		        ? fc_error_set(err, EPIPE, "the container closed its stdout without output")
		        : fc_error_set(err, ETIMEDOUT, "no output from the container within %d s",
		                       R->timeout_s);
		goto out;
	}
	/* total: to the first byte (the config.json rewrite is not counted) */
	ph[PH_TOTAL] = ph[PH_FIRST];
	for (int i = 0; i < PH_START; i++)
		if (ph[i] >= 0)
			ph[PH_TOTAL] += ph[i];
	r = 0;
out:
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	if (created) {
		char *del[16];
		rt_argv(p, del, (char *[]){"delete", "-f", id, NULL});
		struct bench_exec d = BENCH_EXEC_INIT(del);
		cs_exec(R, &d, "delete", NULL);
		cs_reap_strays();
	}
	if (bundled) {
		struct fc_error *e = NULL;
		if (fcsnap_unbundle(bundle, &e) < 0 && r >= 0)
			r = fc_error_set(err, fc_error_code(e) * -1, "unbundle: %s", e->msg);
		fc_error_free(e);
	}
	fcsnap_store_free(own);
	struct fc_error *e = NULL;
	if (fc_rm_rf_at(AT_FDCWD, run_dir, &e) < 0 && r >= 0)
		r = fc_error_set(err, -fc_error_code(e), "remove `%s`: %s", run_dir, e->msg);
	fc_error_free(e);
	return r;
}

static const struct cs_path_ops rt_ops = {
    .name = "oci-runtime",
    .probe = rt_probe,
    .has_scenario = rt_has_scenario,
    .measure = rt_measure,
};

static const struct {
	const char *name;
	const struct cs_path_ops *ops;
} known_paths[] = {
    {"pool", &cs_pool_ops}, {"fcrun", &rt_ops},         {"crun", &rt_ops},
    {"runc", &rt_ops},      {"docker", &cs_engine_ops}, {"containerd", &cs_engine_ops},
};

/* ---- setup -------------------------------------------------------------------- */

static uint64_t g_du;
static int du_cb(const char *p, const struct stat *st, int type, struct FTW *f)
{
	(void)p;
	(void)f;
	if (type == FTW_F)
		g_du += (uint64_t)st->st_size;
	return 0;
}

static int copy_image(struct cs_run *R, struct cs_tier *t, struct fc_error **err)
{
	_cleanup_free_ char *b = fc_strdup(R->image_abs);
	t->archive = fc_asprintf("%s/image-%s", t->dir, basename(b));
	char *cp[] = {"/bin/cp", "-a", "--", R->image_abs, t->archive, NULL};
	struct bench_exec x = BENCH_EXEC_INIT(cp);
	return cs_exec(R, &x, "copy the image onto the tier", err);
}

static int prepare_tier(struct cs_run *R, struct cs_tier *t, struct fc_error **err)
{
	int r;
	if ((r = copy_image(R, t, err)) < 0)
		return r;
	t->store_dir = fc_asprintf("%s/store", t->dir);
	if ((r = fcsnap_store_open(t->store_dir, &R->stores[t->kind], err)) < 0)
		return r;
	struct fcsnap_import_opts o = {.name = IMAGE_NAME};
	if ((r = fcsnap_import(R->stores[t->kind], t->archive, &o, NULL, err)) < 0)
		return fc_error_wrap(err, "import `%s`", t->archive);
	sync();
	return 0;
}

static int setup(struct cs_run *R, struct fc_error **err)
{
	int r;
	_cleanup_free_ char *tmpl = fc_asprintf("%s/fcstart-coldstart.XXXXXX", R->workdir_parent);
	if (!mkdtemp(tmpl))
		return fc_error_set(err, errno, "mkdtemp `%s`", tmpl);
	chmod(tmpl, 0711); /* the pool's sandboxes (user namespaces) pass through */
	R->tiers.workdir = TAKE_PTR(tmpl);
	if (R->image) {
		R->image_abs = realpath(R->image, NULL);
		if (!R->image_abs)
			return fc_error_set(err, errno, "--image `%s`", R->image);
	} else {
		/* no --image: the busybox one, named as dockerd will know it */
		R->image_abs = fc_asprintf("%s/busybox.tar", R->tiers.workdir);
		if ((r = bench_busybox_image(R->image_abs, CS_DOCKER_TAG, err)) < 0)
			return fc_error_wrap(err, "the busybox image");
	}
	struct stat st;
	if (stat(R->image_abs, &st) < 0)
		return fc_error_set(err, errno, "stat `%s`", R->image_abs);
	if (S_ISDIR(st.st_mode)) {
		g_du = 0;
		nftw(R->image_abs, du_cb, 16, FTW_PHYS);
		R->image_bytes = g_du;
	} else {
		R->image_bytes = (uint64_t)st.st_size;
	}
	/* a filesystem per tier: the image, the cached store, one uncached store */
	R->tiers.size = R->image_bytes * 16 + (512ULL << 20);
	if (R->tiers.size < (2ULL << 30))
		R->tiers.size = 2ULL << 30;
	R->tiers.t[CS_SSD].lim_bps = R->ssd_bps;
	R->tiers.t[CS_SSD].lim_iops = R->ssd_iops;
	R->tiers.t[CS_HDD].lim_bps = R->hdd_bps;
	R->tiers.t[CS_HDD].lim_iops = R->hdd_iops;
	for (size_t i = 0; R->tiers_arg[i]; i++) {
		int k;
		for (k = 0; k < CS_NTIERS; k++)
			if (FC_STREQ(R->tiers_arg[i], cs_tier_names[k]))
				break;
		if (k == CS_NTIERS)
			return fc_error_set(err, EINVAL,
			                    "--tiers: unknown tier `%s` (tmpfs, disk, ssd, "
			                    "hdd)",
			                    R->tiers_arg[i]);
		R->tiers.t[k].wanted = true;
	}
	if ((r = cs_tiers_build(&R->tiers, err)) < 0)
		return r;

	R->n_paths = fc_strv_len(R->paths_arg);
	if (R->n_paths > MAX_PATHS)
		return fc_error_set(err, E2BIG, "--paths: at most %d paths", MAX_PATHS);
	R->paths = fc_calloc(R->n_paths ? R->n_paths : 1, sizeof(*R->paths));
	for (size_t i = 0; i < R->n_paths; i++) {
		struct cs_path *p = &R->paths[i];
		for (size_t k = 0; k < FC_ARRAY_SIZE(known_paths); k++)
			if (FC_STREQ(R->paths_arg[i], known_paths[k].name)) {
				p->ops = known_paths[k].ops;
				p->name = known_paths[k].name;
			}
		if (!p->ops)
			return fc_error_set(err, EINVAL,
			                    "--paths: unknown path `%s` (pool, fcrun, "
			                    "crun, runc, docker, containerd)",
			                    R->paths_arg[i]);
		for (size_t k = 0; k < i; k++)
			if (R->paths[k].name == p->name)
				return fc_error_set(err, EINVAL, "--paths: `%s` twice", p->name);
		p->available = p->ops->probe(R, p, &p->why) == 0;
	}
	for (int k = 0; k < CS_NTIERS; k++) {
		struct cs_tier *t = &R->tiers.t[k];
		if (!t->ok || bench_stop)
			continue;
		struct fc_error *e = NULL;
		if (prepare_tier(R, t, &e) < 0) {
			t->ok = false;
			t->why = fc_asprintf("preparing the image on it: %s", e->msg);
			fc_error_free(e);
		}
	}
	for (int k = 0; k < CS_NTIERS; k++)
		for (int sc = 0; sc < CS_NSCEN; sc++)
			for (size_t i = 0; i < R->n_paths; i++) {
				struct cs_path *p = &R->paths[i];
				struct cs_cell *c = &R->cells[k][sc][i];
				if (!p->ops->has_scenario(p, (enum cs_scenario)sc)) {
					c->skipped = true;
				} else if (!p->available || !R->tiers.t[k].ok) {
					c->skipped = true;
					c->error =
					    fc_strdup(!p->available ? p->why : R->tiers.t[k].why);
				}
			}
	return 0;
}

/* ---- rounds --------------------------------------------------------------------- */

static void progress(const struct cs_run *R, int round, int tier, int sc, size_t path)
{
	if (!isatty(2))
		return;
	if (round < 0)
		fprintf(stderr, "\r\033[K");
	else
		fprintf(stderr, "\r\033[Kround %d/%d  %-5s  %-8s  %s", round + 1, R->rounds,
		        cs_tier_names[tier], cs_scenario_names[sc], R->paths[path].name);
	fflush(stderr);
}

static void add_sample(struct cs_cell *c, const double ph[PH_COUNT])
{
	for (int i = 0; i < PH_COUNT; i++) {
		c->s[i] = fc_realloc(c->s[i], (c->n + 1) * sizeof(double));
		c->s[i][c->n] = ph[i];
	}
	c->n++;
}

static void rounds(struct cs_run *R)
{
	size_t tiers[CS_NTIERS], order[MAX_PATHS];
	R->seed = bench_seed();
	uint64_t rng = R->seed;
	for (int round = 0; round < R->rounds && !bench_stop; round++) {
		for (size_t k = 0; k < CS_NTIERS; k++)
			tiers[k] = k;
		bench_shuffle(tiers, CS_NTIERS, &rng);
		for (size_t ki = 0; ki < CS_NTIERS && !bench_stop; ki++) {
			struct cs_tier *t = &R->tiers.t[tiers[ki]];
			if (!t->ok)
				continue;
			/* scenarios in order: warm follows the runs that warmed the cache */
			for (int sc = 0; sc < CS_NSCEN && !bench_stop; sc++) {
				for (size_t i = 0; i < R->n_paths; i++)
					order[i] = i;
				bench_shuffle(order, R->n_paths, &rng);
				for (size_t i = 0; i < R->n_paths && !bench_stop; i++) {
					struct cs_path *p = &R->paths[order[i]];
					struct cs_cell *c = &R->cells[t->kind][sc][order[i]];
					if (c->skipped || c->failed)
						continue;
					progress(R, round, t->kind, sc, order[i]);
					double ph[PH_COUNT];
					struct fc_error *e = NULL;
					int r =
					    p->ops->measure(R, p, t, (enum cs_scenario)sc, ph, &e);
					if (r < 0 && !bench_stop) {
						c->failed = true;
						c->error = fc_strdup(e ? e->msg : "failed");
						fc_log(FC_LOG_WARN, "bench coldstart: %s %s %s: %s",
						       cs_tier_names[t->kind],
						       cs_scenario_names[sc], p->name, c->error);
					} else if (r >= 0) {
						add_sample(c, ph);
					}
					fc_error_free(e);
					cs_reap_strays(); /* e.g. containerd's exited shim starters
					                   */
					bench_sleep_ms(R->pause_ms, &bench_stop);
				}
			}
		}
		if (!bench_stop)
			R->rounds_done = round + 1;
	}
	progress(R, -1, 0, 0, 0);
}

static int cleanup(struct cs_run *R, struct fc_error **err)
{
	int ret = 0;
	for (size_t i = 0; i < R->n_paths; i++)
		if (R->paths[i].available && R->paths[i].ops->cleanup)
			R->paths[i].ops->cleanup(R, &R->paths[i]);
	for (int k = 0; k < CS_NTIERS; k++) {
		fcsnap_store_free(R->stores[k]);
		R->stores[k] = NULL;
	}
	cs_reap_strays();
	struct fc_error *e = NULL;
	if (cs_tiers_teardown(&R->tiers, &e) < 0) {
		ret = fc_error_code(e);
		if (err && !*err)
			*err = TAKE_PTR(e);
	}
	fc_error_free(e);
	if (R->host_fixed) {
		e = NULL;
		if (bench_host_fix_restore(&R->host, &e) < 0) {
			ret = fc_error_code(e);
			if (err && !*err)
				*err = TAKE_PTR(e);
		}
		fc_error_free(e);
		R->host_fixed = false;
	}
	return ret;
}

static void run_free(struct cs_run *R)
{
	for (int k = 0; k < CS_NTIERS; k++) {
		struct cs_tier *t = &R->tiers.t[k];
		free(t->why);
		free(t->dir);
		free(t->backing);
		free(t->loopdev);
		free(t->note);
		free(t->archive);
		free(t->store_dir);
		for (int sc = 0; sc < CS_NSCEN; sc++)
			for (size_t i = 0; i < MAX_PATHS; i++) {
				struct cs_cell *c = &R->cells[k][sc][i];
				free(c->error);
				for (int p = 0; p < PH_COUNT; p++)
					free(c->s[p]);
			}
	}
	free(R->tiers.cg.home);
	for (size_t i = 0; i < R->n_paths; i++) {
		free(R->paths[i].why);
		free(R->paths[i].bin);
		free(R->paths[i].version);
		free(R->paths[i].root);
	}
	free(R->paths);
	free(R->image_abs);
	free(R->host_note);
	free(R->cmdline);
	free(R->started);
}

static bool wants_crun(const struct cs_run *R)
{
	for (size_t i = 0; i < R->n_paths; i++)
		if (FC_STREQ(R->paths[i].name, "crun") && R->paths[i].available)
			return true;
	return false;
}

static int coldstart_main(struct cs_run *R)
{
	struct bench_session session;
	_cleanup_error_ struct fc_error *err = NULL;
	int ret = 0;
	bench_session_begin(&session, true);
	char ts[48];
	fc_rfc3339_now(ts, sizeof(ts));
	char *dot = strchr(ts, '.');
	if (dot) /* to the second */
		strcpy(dot, "Z");
	R->started = fc_strdup(ts);
	for (int k = 0; k < CS_NTIERS; k++)
		R->tiers.t[k].cg_read_bytes = R->tiers.t[k].cg_write_bytes = -1;
	if (setup(R, &err) < 0) {
		fc_log(FC_LOG_ERROR, "bench coldstart: %s", err->msg);
		ret = 1;
		goto out;
	}
	for (int k = 0; k < CS_NTIERS; k++)
		if (R->tiers.t[k].wanted && !R->tiers.t[k].ok)
			fc_log(FC_LOG_WARN, "bench coldstart: tier %s could not be built: %s",
			       cs_tier_names[k], R->tiers.t[k].why);
	if (wants_crun(R)) {
		R->host_fixed = true; /* restored in cleanup, whatever was done */
		bench_host_fix_for_crun(&R->host, &R->host_note);
	}
	if (!bench_stop) {
		struct fc_error *e = NULL;
		if (cs_cgroup_enter(&R->tiers, &e) < 0) {
			fc_log(FC_LOG_ERROR, "bench coldstart: join the limits' cgroup: %s",
			       e->msg);
			fc_error_free(e);
			ret = 1;
			goto out;
		}
		rounds(R);
		cs_cgroup_leave(&R->tiers, NULL);
		cs_tiers_io_stats(&R->tiers);
	}
out:
	if (cleanup(R, &err) < 0) {
		fc_log(FC_LOG_ERROR, "bench coldstart: cleanup: %s", err->msg);
		ret = 1;
	}
	return bench_session_end(&session, "coldstart", R->rounds_done, ret);
}

/* ---- the command ------------------------------------------------------------------ */

static const char usage[] =
    "usage: fcstart bench coldstart [--image IMG] [OPTIONS]\n"
    "\n"
    "Cold starts of one image (an OCI layout dir, oci-archive or docker-archive) on each\n"
    "storage tier through each start path, side by side: uncached (empty store, page cache\n"
    "dropped, the archive on the tier), layers cached (page cache dropped), all warm, and\n"
    "the pool's hand-over. Reports each phase (import, mount, create, start, first byte).\n"
    "\n"
    "  --image IMG         the image (default: one of the host's static busybox, made in\n"
    "                      the harness's dir)\n"
    "  --tiers LIST        tmpfs,disk,ssd,hdd (default all): ssd and hdd are ext4 on a loop\n"
    "                      device whose I/O the blkio cgroup (or cgroup2 io.max) limits\n"
    "  --paths LIST        pool,fcrun,crun,runc,docker,containerd (default all)\n"
    "  -n, --rounds N      rounds (default 10)\n"
    "  --out DIR           write coldstart.json, coldstart.csv and coldstart.svg there\n"
    "  --pause-ms MS       pause between runs (default 50)\n"
    "  --ssd MBPS,IOPS     the emulated SSD's limits (default 500,10000)\n"
    "  --hdd MBPS,IOPS     the emulated HDD's limits (default 150,300: one I/O is a bio of\n"
    "                      up to 512 KiB on a loop device, so 300 lets 150 MB/s through)\n"
    "  --workdir DIR       where the harness makes its own dir (default /var/tmp: the disk tier)\n"
    "  --timeout S         per-command timeout (default 60)\n"
    "\n"
    "Needs root. Drops the page cache of the whole machine before each cold run.\n";

static int parse_limits(const char *s, const char *flag, uint64_t *bps, uint64_t *iops)
{
	double mb;
	unsigned long long io;
	char extra;
	if (sscanf(s, "%lf,%llu%c", &mb, &io, &extra) != 2 || mb <= 0 || io == 0) {
		fprintf(stderr, "fcstart bench coldstart: %s: expected MBPS,IOPS, got `%s`\n", flag,
		        s);
		return -1;
	}
	*bps = (uint64_t)(mb * 1e6);
	*iops = io;
	return 0;
}

int bench_coldstart_cmd(int argc, char **argv)
{
	enum {
		O_IMAGE = 256,
		O_TIERS,
		O_PATHS,
		O_OUT,
		O_PAUSE,
		O_SSD,
		O_HDD,
		O_WORKDIR,
		O_TIMEOUT
	};
	static const struct option opts[] = {
	    {"image", required_argument, NULL, O_IMAGE},
	    {"tiers", required_argument, NULL, O_TIERS},
	    {"paths", required_argument, NULL, O_PATHS},
	    {"rounds", required_argument, NULL, 'n'},
	    {"out", required_argument, NULL, O_OUT},
	    {"pause-ms", required_argument, NULL, O_PAUSE},
	    {"ssd", required_argument, NULL, O_SSD},
	    {"hdd", required_argument, NULL, O_HDD},
	    {"workdir", required_argument, NULL, O_WORKDIR},
	    {"timeout", required_argument, NULL, O_TIMEOUT},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct cs_run R = {
	    .rounds = 10, .pause_ms = 50, .timeout_s = 60, .workdir_parent = "/var/tmp"};
	_cleanup_strv_ char **tiers = NULL, **paths = NULL;
	R.ssd_bps = 500000000;
	R.ssd_iops = 10000;
	R.hdd_bps = 150000000;
	R.hdd_iops = 300;
	struct fc_buf cl = {0};
	fc_buf_printf(&cl, "fcstart bench");
	for (int i = 0; i < argc; i++)
		fc_buf_printf(&cl, " %s", argv[i]);
	R.cmdline = cl.data;
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "n:h", opts, NULL)) != -1) {
		switch (c) {
		case O_IMAGE:
			R.image = optarg;
			break;
		case O_TIERS:
			fc_strv_free(tiers);
			tiers = bench_split(optarg, ',');
			break;
		case O_PATHS:
			fc_strv_free(paths);
			paths = bench_split(optarg, ',');
			break;
		case 'n':
			if (bench_parse_int("coldstart", "--rounds", optarg, 1, &R.rounds) < 0)
				goto bad;
			break;
		case O_OUT:
			R.out = optarg;
			break;
		case O_PAUSE:
			if (bench_parse_int("coldstart", "--pause-ms", optarg, 0, &R.pause_ms) < 0)
				goto bad;
			break;
		case O_SSD:
			if (parse_limits(optarg, "--ssd", &R.ssd_bps, &R.ssd_iops) < 0)
				goto bad;
			break;
		case O_HDD:
			if (parse_limits(optarg, "--hdd", &R.hdd_bps, &R.hdd_iops) < 0)
				goto bad;
			break;
		case O_WORKDIR:
			R.workdir_parent = optarg;
			break;
		case O_TIMEOUT:
			if (bench_parse_int("coldstart", "--timeout", optarg, 1, &R.timeout_s) < 0)
				goto bad;
			break;
		case 'h':
			fputs(usage, stdout);
			free(R.cmdline);
			return 0;
		default:
			fputs(usage, stderr);
			goto bad;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "fcstart bench coldstart: unexpected argument `%s`\n",
		        argv[optind]);
		goto bad;
	}
	if (!tiers)
		tiers = bench_split("tmpfs,disk,ssd,hdd", ',');
	if (!paths)
		paths = bench_split("pool,fcrun,crun,runc,docker,containerd", ',');
	if (!tiers[0] || !paths[0]) {
		fprintf(stderr, "fcstart bench coldstart: --tiers/--paths: empty list\n");
		goto bad;
	}
	if (geteuid() != 0) {
		fprintf(stderr,
		        "fcstart bench coldstart: needs root (loop devices, mounts, cgroups, "
		        "drop_caches)\n");
		free(R.cmdline);
		return 1;
	}
	if (R.out) {
		struct fc_error *e = NULL;
		if (fc_mkdir_p_at(AT_FDCWD, R.out, 0755, &e) < 0) {
			fprintf(stderr, "fcstart bench coldstart: --out: %s\n", e->msg);
			fc_error_free(e);
			free(R.cmdline);
			return 1;
		}
	}
	R.tiers_arg = tiers;
	R.paths_arg = paths;

	int r = coldstart_main(&R);
	if (r == 0) {
		cs_print_table(stdout, &R);
		fflush(stdout);
		if (R.out) {
			static const char *names[] = {"coldstart.json", "coldstart.csv",
			                              "coldstart.svg"};
			int (*writers[])(const char *, const struct cs_run *,
			                 struct fc_error **) = {cs_write_json, cs_write_csv,
			                                        cs_write_svg};
			for (size_t i = 0; i < 3; i++) {
				_cleanup_free_ char *p = fc_asprintf("%s/%s", R.out, names[i]);
				struct fc_error *e = NULL;
				if (writers[i](p, &R, &e) < 0) {
					fprintf(stderr, "fcstart bench coldstart: %s\n", e->msg);
					r = 1;
				}
				fc_error_free(e);
			}
		}
		bool any = false;
		for (int k = 0; k < CS_NTIERS; k++)
			for (int sc = 0; sc < CS_NSCEN; sc++)
				for (size_t i = 0; i < R.n_paths; i++)
					any |= R.cells[k][sc][i].n > 0;
		if (!any) {
			fprintf(stderr, "fcstart bench coldstart: nothing was measured\n");
			r = 1;
		}
	}
	run_free(&R);
	return r;
bad:
	free(R.cmdline);
	return 2;
}
