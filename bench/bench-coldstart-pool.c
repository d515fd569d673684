/* SPDX-License-Identifier: MIT */
/* bench-coldstart-pool.c: the pool path of `fcstart bench coldstart`: one
 * private `fcstart serve` daemon per tier (its own root, socket and log under
 * the harness's dir, the tier's store with the image), started on first use
 * from inside the limits' cgroup; a classic function that prints one line is
 * deployed with min 1. A measurement waits until the pool holds a waiting
 * sandbox, then times invoke (connect, request with the caller's stdio) to
 * the first byte on the stdout pipe it handed over. The daemons are stopped
 * (SIGTERM) and their roots cleaned (fcpool_cleanup) at the end. */
#include "bench-coldstart.h"
#include "bench-pool.h"
#include "fcpool.h"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define FN_NAME "cs"

struct pool_tier {
	pid_t pid; /* the daemon, 0: not started */
	char *dir, *root, *sock, *log;
	bool failed;
};

struct pool_priv {
	char *self; /* this fcstart binary */
	struct pool_tier t[CS_NTIERS];
};

static int pool_probe(struct cs_run *R, struct cs_path *p, char **why)
{
	(void)R;
	_cleanup_free_ char *self = bench_self_exe();
	if (!self) {
		*why = fc_asprintf("cannot find this fcstart binary: %s", strerror(errno));
		return -ENOENT;
	}
	struct pool_priv *pp = fc_calloc(1, sizeof(*pp));
	pp->self = fc_strdup(self);
	p->priv = pp;
	p->bin = fc_strdup(self);
	p->version = fc_strdup("fcstart serve (this build)");
	return 0;
}

static bool pool_has_scenario(const struct cs_path *p, enum cs_scenario sc)
{
	(void)p;
	return sc == CS_POOL;
}

/* The fn's "waiting" count from the daemon's stats, -1 if absent. */
static int waiting_of(const char *sock)
{
	struct fcpool_fn_list l;
	int w = -1;
	if (fcpool_client_stats(sock, &l, NULL) < 0)
		return -1;
	for (size_t i = 0; i < l.n; i++)
		if (FC_STREQ(l.fns[i].spec.name, FN_NAME))
			w = (int)l.fns[i].waiting;
	fcpool_fn_list_clear(&l);
	return w;
}

static int wait_waiting(struct pool_tier *pt, int secs, struct fc_error **err)
{
	uint64_t t0 = fc_now_ns();
	while (bench_ms_since(t0) < secs * 1000.0) {
		if (waiting_of(pt->sock) >= 1)
			return 0;
		if (waitpid(pt->pid, NULL, WNOHANG) == pt->pid) {
			pt->pid = 0;
			_cleanup_free_ char *t = bench_file_tail(pt->log, 600);
			return fc_error_set(err, ESRCH, "the daemon exited: %s", t);
		}
		bench_sleep_ms(2, NULL);
	}
	_cleanup_free_ char *t = bench_file_tail(pt->log, 600);
	return fc_error_set(err, ETIMEDOUT, "no waiting sandbox within %d s (log: %s)", secs, t);
}

static int start_daemon(struct cs_run *R, struct pool_priv *pp, struct cs_tier *t,
                        struct fc_error **err)
{
	struct pool_tier *pt = &pp->t[t->kind];
	pt->dir = fc_asprintf("%s/pool-%s", R->tiers.workdir, cs_tier_names[t->kind]);
	pt->root = fc_asprintf("%s/root", pt->dir);
	pt->sock = fc_asprintf("%s/api.sock", pt->dir);
	pt->log = fc_asprintf("%s/serve.log", pt->dir);
	if (fc_mkdir_p_at(AT_FDCWD, pt->dir, 0711, err) < 0)
		return -EIO;
	char *argv[] = {pp->self,   "serve",  "--root",         pt->root, "--store", t->store_dir,
	                "--socket", pt->sock, "--idle-timeout", "1h",     NULL};
	pid_t pid = bench_spawn_daemon(argv, pt->log);
	if (pid < 0)
		return fc_error_set(err, -pid, "fork");
	pt->pid = pid;
	uint64_t t0 = fc_now_ns();
	while (fcpool_client_ping(pt->sock, NULL) < 0) {
		if (waitpid(pid, NULL, WNOHANG) == pid || bench_ms_since(t0) > 10000) {
			_cleanup_free_ char *tl = bench_file_tail(pt->log, 600);
			return fc_error_set(err, ESRCH, "`fcstart serve` did not come up: %s", tl);
		}
		bench_sleep_ms(10, NULL);
	}
	struct fc_error *e = NULL;
	char *args[] = {"/bin/sh", "-c", "echo ready", NULL};
	struct fcpool_fn_spec spec = {.name = FN_NAME, .image = "coldstart", .args = args};
	fcpool_fn_spec_labels(&spec);
	spec.min = 1;
	spec.max = 2;
	if (fcpool_client_deploy(pt->sock, &spec, &e) < 0) {
		int r = fc_error_set(err, fc_error_code(e) * -1, "deploy: %s", e ? e->msg : "?");
		fc_error_free(e);
		return r;
	}
	return 0;
}

static int pool_measure(struct cs_run *R, struct cs_path *p, struct cs_tier *t, enum cs_scenario sc,
                        double ph[PH_COUNT], struct fc_error **err)
{
	struct pool_priv *pp = p->priv;
	struct pool_tier *pt = &pp->t[t->kind];
	int r;
	(void)sc;
	for (int i = 0; i < PH_COUNT; i++)
		ph[i] = -1;
	if (pt->failed)
		return fc_error_set(err, EIO, "the pool on this tier failed before");
	if (!pt->pid && (r = start_daemon(R, pp, t, err)) < 0) {
		pt->failed = true;
		return r;
	}
	if ((r = wait_waiting(pt, 30, err)) < 0)
		return r;

	_cleanup_close_ int in = memfd_create("fcstart-cs-in", MFD_CLOEXEC);
	_cleanup_close_ int errfd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	int out[2];
	if (in < 0 || errfd < 0 || pipe2(out, O_CLOEXEC) < 0)
		return fc_error_set(err, errno, "memfd, /dev/null or pipe");
	_cleanup_close_ int rd = out[0];
	struct fc_error *e = NULL;
	uint64_t t0 = fc_now_ns();
	struct fcpool_invoke_args a = {.name = FN_NAME, .stdio = {in, out[1], errfd}};
	_cleanup_close_ int fd = r = fcpool_client_invoke(pt->sock, &a, &e);
	close(out[1]);
	if (r < 0) {
		r = fc_error_set(err, -r, "invoke: %s", e ? e->msg : "?");
		fc_error_free(e);
		return r;
	}
	/* the first byte, the rest of the output, then the exit status */
	struct bench_output o;
	r = bench_read_output(rd, t0, R->timeout_s * 1000, 0, &o);
	if (o.first_ms < 0)
		return fc_error_set(err, r < 0 ? -r : EPIPE, "invoke: no output from the function");
	ph[PH_FIRST] = o.first_ms;
	ph[PH_TOTAL] = ph[PH_FIRST];
	int status = bench_pool_exit_status(fd);
	if (status != 0)
		return fc_error_set(err, EIO, "the function exited with status %d", status);
	return 0;
}

static void pool_cleanup(struct cs_run *R, struct cs_path *p)
{
	struct pool_priv *pp = p->priv;
	(void)R;
	if (!pp)
		return;
	for (int k = 0; k < CS_NTIERS; k++) {
		struct pool_tier *pt = &pp->t[k];
		if (bench_stop_pid(&pt->pid, SIGTERM, 15))
			fc_log(FC_LOG_WARN,
			       "bench coldstart: the %s pool daemon ignored SIGTERM for 15 s: "
			       "killed",
			       cs_tier_names[k]);
		if (pt->root) {
			unsigned removed = 0;
			struct fc_error *e = NULL;
			struct stat st;
			if (stat(pt->root, &st) == 0 && fcpool_cleanup(pt->root, &removed, &e) < 0)
				fc_log(FC_LOG_WARN, "bench coldstart: clean the %s pool's root: %s",
				       cs_tier_names[k], e ? e->msg : "?");
			else if (removed)
				fc_log(FC_LOG_WARN,
				       "bench coldstart: the %s pool left %u sandbox(es): "
				       "removed",
				       cs_tier_names[k], removed);
			fc_error_free(e);
		}
		free(pt->dir);
		free(pt->root);
		free(pt->sock);
		free(pt->log);
	}
	free(pp->self);
	free(pp);
	p->priv = NULL;
}

const struct cs_path_ops cs_pool_ops = {
    .name = "pool",
    .probe = pool_probe,
    .has_scenario = pool_has_scenario,
    .measure = pool_measure,
    .cleanup = pool_cleanup,
};
