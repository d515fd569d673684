/* SPDX-License-Identifier: MIT */
/* bench-pool.c: `fcstart bench pool`: time from invoke to the first byte of
 * the response for a classic function (/bin/cat of the busybox test image),
 * side by side in one run: a pool hand-over, an on-demand sandbox (empty
 * pool), `fcrun run`, `crun run`, `runc run`; the daemon's hand-over-to-exec
 * latency; sustained refill at a fixed rate; and the memory (PSS) of N waiting
 * sandboxes. Starts a private daemon on a private root, socket and store. */
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "bench-pool.h"
#include "bench.h"
#include "fcpool.h"
#include "fcrt.h"
#include "fcsnap-cmd.h"
#include "fcsnap.h"

struct pcfg {
	int rounds, rt_rounds, waiting, rate, rate_n, http_cold, cli;
	bool ctr, docker;
	bool phases; /* the daemon runs with --debug: its fork servers' steps */
	char **runtimes;
	const char *json;
	const char *daemon; /* the fcstart that serves (default: this one) */
};

struct series {
	const char *name;
	char *note;
	double *v; /* ms */
	size_t n;
	bool failed;
	char *error;
};

struct pstate {
	struct pcfg cfg;
	char *dir, *root, *sock, *store, *self;
	char *image; /* the busybox image (oci-archive with a docker manifest.json) */
	pid_t daemon;
	struct series s[12];
	size_t ns;
	double ho_p50, ho_p95, ho_p99; /* hand-over round trip (the sandbox's answer), us */
	size_t ho_n;
	double ex_p50, ex_p95, ex_p99; /* hand-over to exec (the sandbox's clock), us */
	size_t ex_n;
	struct fcpool_latency create;    /* sandbox creation in the fork server, us */
	struct fcpool_latency create_od; /* the same, of the on-demand path's sandboxes */
	/* pool path: the function's output ended (its EOF) until its exit status
	 * came, ms */
	double *exit_v;
	size_t exit_n;
	double pss_kib, cg_kib, fill_s;
	double slab_kib, avail_kib; /* host memory per waiting sandbox (NAN: unknown) */
	unsigned pss_n;
	unsigned rate_done, rate_ondemand;
	double rate_p50, rate_p99;
	/* the CLI as a whole process (fork to exit), ms: a process start
	 * (/bin/true), `fcstart invoke` from the pool, `fcrun run`, the floor */
	struct series cli[4];
	char *cli_error;
	char *host_note;
	/* --phases: each step of the fork servers' creations (from the
	 * daemon's log), then the teardowns; us */
	struct phase {
		char name[16];
		double *v;
		size_t n;
	} phase[FCRT_PROFILE_MAX + 1];
	size_t n_phase;
};

static int data_fd(const char *data)
{
	int fd = memfd_create("bench-req", MFD_CLOEXEC);
	if (fd < 0 || fc_write_all(fd, data, strlen(data)) < 0 || lseek(fd, 0, SEEK_SET) < 0)
		abort();
	return fd;
}

/* ---- the daemon ---------------------------------------------------------- */

static int failed(const char *what, int r, struct fc_error *e)
{
	fprintf(stderr, "fcstart bench pool: %s: %s\n", what, e ? e->msg : "?");
	fc_error_free(e);
	return r;
}

static int deploy(struct pstate *p, const char *name, enum fcpool_mode mode, unsigned min,
                  char **args)
{
	struct fcpool_fn_spec spec = {
	    .name = (char *)name, .image = "bb", .mode = mode, .args = args};
	fcpool_fn_spec_labels(&spec);
	spec.min = min;
	struct fc_error *e = NULL;
	int r = fcpool_client_deploy(p->sock, &spec, &e);
	return r < 0 ? failed(name, r, e) : 0;
}

static int scale(struct pstate *p, const char *fn, unsigned min, unsigned max)
{
	struct fc_error *e = NULL;
	int r = fcpool_client_scale(p->sock, fn, min, max, &e);
	return r < 0 ? failed("scale", r, e) : 0;
}

/* fn's counters from the daemon's stats; false when they cannot be had. */
static bool fn_stats(struct pstate *p, const char *fn, struct fcpool_fn_status *out)
{
	struct fcpool_fn_list l;
	bool found = false;
	if (fcpool_client_stats(p->sock, &l, NULL) < 0)
		return false;
	for (size_t i = 0; i < l.n && !found; i++)
		if (FC_STREQ(l.fns[i].spec.name, fn)) {
			*out = l.fns[i];
			out->spec = (struct fcpool_fn_spec){0};
			found = true;
		}
	fcpool_fn_list_clear(&l);
	return found;
}

/* Wait (at most secs) until fn's field ("waiting" or "running") equals want. */
static bool wait_stat(struct pstate *p, const char *fn, const char *field, unsigned want,
                      double secs)
{
	uint64_t end = fc_now_ns() + (uint64_t)(secs * 1e9);
	while (fc_now_ns() < end) {
		struct fcpool_fn_status st;
		if (fn_stats(p, fn, &st) &&
		    (FC_STREQ(field, "running") ? st.running : st.waiting) == want)
			return true;
		usleep(2000);
	}
	return false;
}

static int start_daemon(struct pstate *p)
{
	_cleanup_free_ char *log = fc_asprintf("%s/serve.log", p->dir);
	char *argv[] = {(char *)(p->cfg.daemon ? p->cfg.daemon : p->self),
	                "serve",
	                "--root",
	                p->root,
	                "--store",
	                p->store,
	                "--socket",
	                p->sock,
	                "--idle-timeout",
	                "1s",
	                "--queue",
	                "1000",
	                p->cfg.phases ? "--debug" : NULL,
	                NULL};
	pid_t pid = bench_spawn_daemon(argv, log);
	if (pid < 0)
		return pid;
	p->daemon = pid;
	for (int i = 0; i < 1000; i++) {
		if (fcpool_client_ping(p->sock, NULL) == 0)
			return 0;
		if (waitpid(pid, NULL, WNOHANG) == pid) {
			p->daemon = -1;
			return -ESRCH;
		}
		usleep(10000);
	}
	return -ETIMEDOUT;
}

static void stop_daemon(struct pstate *p)
{
	if (p->daemon <= 0)
		return;
	kill(p->daemon, SIGTERM);
	while (waitpid(p->daemon, NULL, 0) < 0 && errno == EINTR)
		;
	p->daemon = -1;
}

int bench_pool_exit_status(int fd)
{
	struct fc_error *e = NULL;
	struct fcpool_event ev = {0};
	while (fcpool_client_event(fd, &ev, &e) >= 0 && ev.kind != FCPOOL_EV_EXIT)
		;
	fc_error_free(e);
	return ev.kind == FCPOOL_EV_EXIT ? ev.status : -1;
}

/* One invocation through the daemon: invoke to the first byte of the echo, ms;
 * *exit_ms (when not NULL): from the end of its output to its exit status. */
static int invoke_once(struct pstate *p, const char *fn, int i, double *ms, double *exit_ms)
{
	char data[64];
	snprintf(data, sizeof(data), "request-%d\n", i);
	_cleanup_close_ int in = data_fd(data);
	int out[2];
	if (pipe2(out, O_CLOEXEC) < 0)
		return -errno;
	_cleanup_close_ int rd = out[0];
	_cleanup_close_ int errfd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	struct fcpool_invoke_args a = {.name = fn, .stdio = {in, out[1], errfd}};
	struct fc_error *e = NULL;
	uint64_t t0 = fc_now_ns();
	_cleanup_close_ int fd = fcpool_client_invoke(p->sock, &a, &e);
	close(out[1]);
	if (fd < 0) {
		fc_error_free(e);
		return fd;
	}
	struct bench_output o;
	int r = bench_read_output(rd, t0, 10000, 0, &o);
	uint64_t t_eof = fc_now_ns();
	/* the exit status */
	int status = bench_pool_exit_status(fd);
	if (r < 0 || o.first_ms < 0 || !FC_STREQ(o.buf, data) || status != 0)
		return -EIO;
	*ms = o.first_ms;
	if (exit_ms)
		*exit_ms = bench_ms_since(t_eof);
	return 0;
}

static void add_series(struct pstate *p, const char *name, double *v, size_t n, char *error,
                       char *note)
{
	struct series *s = &p->s[p->ns++];
	s->name = name;
	s->v = v;
	s->n = n;
	s->failed = error != NULL;
	s->error = error;
	s->note = note;
	bench_sort(v, n);
}

static void bench_invoke_path(struct pstate *p, const char *name, const char *fn, bool wait_refill)
{
	double *v = fc_calloc((size_t)p->cfg.rounds, sizeof(double));
	size_t n = 0;
	char *error = NULL;
	for (int i = 0; i < p->cfg.rounds + 5 && !bench_stop; i++) {
		/* a fair start: a full pool (pool path) or no sandbox at all (on demand) */
		if (wait_refill && !wait_stat(p, fn, "waiting", 1, 10)) {
			error = fc_strdup("the pool did not refill within 10 s");
			break;
		}
		if (!wait_refill && !wait_stat(p, fn, "running", 0, 10)) {
			error = fc_strdup("a sandbox did not exit within 10 s");
			break;
		}
		double ms, exit_ms;
		int r = invoke_once(p, fn, i, &ms, &exit_ms);
		if (r < 0) {
			error = fc_asprintf("invocation %d failed: %s", i, strerror(-r));
			break;
		}
		if (i >= 5) /* warm-up */
			v[n++] = ms;
		if (i >= 5 && wait_refill) {
			p->exit_v = fc_realloc(p->exit_v, (p->exit_n + 1) * sizeof(double));
			p->exit_v[p->exit_n++] = exit_ms;
		}
	}
	add_series(p, name, v, n, error, NULL);
}

/* ---- HTTP function ------------------------------------------------------- */

/* One GET / through the daemon; *hold gets the API connection (keeping the
 * instance busy) when non-NULL. Invoke to first byte of the HTTP response. */
static int http_once(struct pstate *p, const char *fn, double *ms, int *hold)
{
	struct fcpool_invoke_args a = {.name = fn, .stdio = {-1, -1, -1}};
	struct fcpool_event ev;
	struct fc_error *e = NULL;
	uint64_t t0 = fc_now_ns();
	int fd = fcpool_client_invoke(p->sock, &a, &e);
	if (fd < 0 || fcpool_client_event(fd, &ev, &e) < 0 || ev.kind != FCPOOL_EV_CONNECTED) {
		fc_error_free(e);
		if (fd >= 0)
			close(fd);
		return -EIO;
	}
	int tcp = ev.sock;
	int fl = fcntl(tcp, F_GETFL);
	fcntl(tcp, F_SETFL, fl & ~O_NONBLOCK);
	static const char req[] = "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n";
	struct bench_output o;
	int r = fc_write_all(tcp, req, sizeof(req) - 1);
	if (r >= 0)
		r = bench_read_output(tcp, t0, 10000, 0, &o);
	close(tcp);
	if (hold)
		*hold = fd;
	else
		close(fd);
	if (r < 0 || o.first_ms < 0 || !strstr(o.buf, "static-ok"))
		return -EIO;
	*ms = o.first_ms;
	return 0;
}

static void bench_http(struct pstate *p)
{
	/* warm: the same instance serves every request */
	double *v = fc_calloc((size_t)p->cfg.rounds, sizeof(double));
	size_t n = 0;
	char *error = NULL;
	double ms = 0;
	for (int i = 0; i < p->cfg.rounds + 5; i++) {
		if (http_once(p, "web", &ms, NULL) < 0) {
			error = fc_asprintf("request %d failed", i);
			break;
		}
		if (i >= 5)
			v[n++] = ms;
	}
	add_series(p, "http warm", v, n, error, NULL);
	/* cold: a waiting sandbox is handed over and httpd starts; the
	 * requests of a cycle hold their instances so that each needs a new
	 * one, then the idle ones are reaped (--idle-timeout 1s) */
	int want = p->cfg.http_cold;
	v = fc_calloc((size_t)want, sizeof(double));
	n = 0;
	error = NULL;
	while ((int)n < want && !error) {
		if (!wait_stat(p, "web", "running", 0, 10) ||
		    !wait_stat(p, "web", "waiting", 1, 10)) {
			error = fc_strdup("instances were not reaped within 10 s");
			break;
		}
		int hold[16];
		size_t nh = 0;
		for (int k = 0; k < 16 && (int)n < want; k++) {
			/* one waiting sandbox: wait for the refill so that this is a
			 * pool hand-over, not an on-demand creation */
			if (!wait_stat(p, "web", "waiting", 1, 10)) {
				error = fc_strdup("the pool did not refill within 10 s");
				break;
			}
			if (http_once(p, "web", &ms, &hold[nh]) < 0) {
				error = fc_asprintf("cold request %zu failed", n);
				break;
			}
			nh++;
			v[n++] = ms;
		}
		for (size_t k = 0; k < nh; k++)
			close(hold[k]);
	}
	add_series(p, "http cold", v, n, error, NULL);
}

/* ---- OCI runtimes -------------------------------------------------------- */

/* Run argv (x is set up here) with input on its stdin; it must exit 0 and
 * print want (NULL: anything). Otherwise *error says why, naming what. */
static int exec_echo(struct bench_exec *x, char **argv, const char *input, const char *want,
                     const char *what, char **error)
{
	*x = (struct bench_exec)BENCH_EXEC_INIT(argv);
	x->input = input;
	x->out = BENCH_EXEC_PIPE;
	x->timeout_s = 30;
	x->stop = &bench_stop;
	int r = bench_exec(x);
	if (r < 0 || x->status != 0 || (want && !FC_STREQ(x->output.buf, want))) {
		*error = fc_asprintf("%s: status %d, output `%s`: %s", what, x->status,
		                     x->output.buf, r < 0 ? strerror(-r) : x->errtext);
		return -EIO;
	}
	return 0;
}

/* One `X run` of /bin/cat with a request on stdin: ms to the first byte of
 * the echo; the run must exit 0 with the request as its whole output. */
static int runtime_once(const char *path, const char *root, const char *bundle, int i, double *ms,
                        char **error)
{
	char data[64], id[64];
	snprintf(data, sizeof(data), "request-%d\n", i);
	snprintf(id, sizeof(id), "bench-pool-%d-%d", (int)getpid(), i);
	char *argv[] = {(char *)path, "--root",       (char *)root, "run",
	                "--bundle",   (char *)bundle, id,           NULL};
	struct bench_exec x;
	_cleanup_free_ char *what = fc_asprintf("run %d", i);
	if (exec_echo(&x, argv, data, data, what, error) < 0 || x.output.first_ms < 0) {
		if (!*error)
			*error = fc_asprintf("run %d: no output", i);
		/* leave nothing behind */
		char *del[] = {(char *)path, "--root", (char *)root, "delete", "-f", id, NULL};
		bench_exec_quiet(del, 30, NULL);
		return -EIO;
	}
	*ms = x.output.first_ms;
	return 0;
}

static void bench_runtimes(struct pstate *p, struct fcsnap_store *store)
{
	_cleanup_free_ char *bundle = fc_asprintf("%s/bundle", p->dir);
	char *args[] = {"/bin/cat", NULL};
	struct fcsnap_bundle_opts bo = {.args = args};
	struct fc_error *e = NULL;
	if (cmd_image_bundle(store, "bb", bundle, &bo, &e) < 0) {
		fprintf(stderr, "fcstart bench pool: bundle: %s\n", e->msg);
		fc_error_free(e);
		return;
	}
	struct bench_host_fix host = {0};
	bool fixed = false;
	for (size_t k = 0; p->cfg.runtimes[k] && !bench_stop; k++) {
		const char *name = p->cfg.runtimes[k];
		char *path =
		    FC_STREQ(name, "fcrun") ? bench_default_fcrun() : bench_find_in_path(name);
		const char *label = fc_asprintf("%s run", name);
		if (!path) {
			add_series(p, label, NULL, 0, fc_asprintf("%s is not installed", name),
			           NULL);
			continue;
		}
		if (FC_STREQ(name, "crun") && !fixed) {
			fixed = true;
			if (bench_host_fix_for_crun(&host, &p->host_note) < 0) {
				add_series(p, label, NULL, 0, TAKE_PTR(p->host_note), NULL);
				free(path);
				continue;
			}
		}
		_cleanup_free_ char *root = fc_asprintf("%s/rt-%s", p->dir, name);
		fc_mkdir_p_at(AT_FDCWD, root, 0700, NULL);
		double *v = fc_calloc((size_t)p->cfg.rt_rounds, sizeof(double));
		size_t n = 0;
		char *error = NULL;
		for (int i = 0; i < p->cfg.rt_rounds + 3 && !bench_stop; i++) {
			double ms = 0;
			if (runtime_once(path, root, bundle, i, &ms, &error) < 0)
				break;
			if (i >= 3)
				v[n++] = ms;
		}
		add_series(p, label, v, n, error, path);
	}
	if (fixed && bench_host_fix_restore(&host, &e) < 0) {
		fprintf(stderr, "fcstart bench pool: restore host cgroups: %s\n", e->msg);
		fc_error_free(TAKE_PTR(e));
	}
	fcsnap_unbundle(bundle, NULL);
}

/* ---- ctr run and docker run: a private containerd and dockerd --------------- */

struct engine_run {
	struct bench_engine *e;
	const char *id;
};

/* `ctr run` does not pass stdin's EOF on, so /bin/cat never exits by itself:
 * its task is killed once the echo came. */
static void ctr_kill_task(struct bench_exec *x, void *data)
{
	struct engine_run *er = data;
	(void)x;
	char *argv[] = {BENCH_CTR, "-a", er->e->ctd_sock, "-n",           er->e->ns, "tasks",
	                "kill",    "-s", "SIGKILL",       (char *)er->id, NULL};
	bench_exec_quiet(argv, 20, NULL);
}

/* One `ctr run` (docker == false) or `docker run` of /bin/cat with a request
 * on stdin: ms to the first byte of the echo. */
static int engine_once(struct bench_engine *e, bool docker, int i, double *ms, char **error)
{
	char data[64], id[48];
	snprintf(data, sizeof(data), "request-%d\n", i);
	snprintf(id, sizeof(id), "fcbp-%d-%d", (int)getpid(), i);
	char *ctr[] = {BENCH_CTR, "-a",       e->ctd_sock, "-n",
	               e->ns,     "run",      "--rm",      "docker.io/fcbench/bb:latest",
	               id,        "/bin/cat", NULL};
	char *dk[] = {
	    e->docker, "--host", e->docker_host,      "run",      "--rm", "-i", "--network", "none",
	    "--name",  id,       "fcbench/bb:latest", "/bin/cat", NULL};
	struct engine_run er = {.e = e, .id = id};
	struct bench_exec x = BENCH_EXEC_INIT(docker ? dk : ctr);
	x.input = data;
	x.out = BENCH_EXEC_PIPE;
	x.timeout_s = 30;
	x.stop = &bench_stop;
	if (!docker) {
		x.want = strlen(data);
		x.on_output = ctr_kill_task;
		x.data = &er;
	}
	int r = bench_exec(&x);
	/* ctr run ends with the killed task's status */
	bool ok = r >= 0 && x.output.first_ms >= 0 && FC_STREQ(x.output.buf, data) &&
	          (!docker || x.status == 0);
	if (!ok) {
		*error =
		    fc_asprintf("%s run %d: status %d, output `%s`: %s", docker ? "docker" : "ctr",
		                i, x.status, x.output.buf, r < 0 ? strerror(-r) : x.errtext);
		return -EIO;
	}
	*ms = x.output.first_ms;
	return 0;
}

static void bench_engines(struct pstate *p)
{
	const char *labels[2] = {"ctr run", "docker run"};
	bool want[2] = {p->cfg.ctr, p->cfg.docker};
	char *error[2] = {NULL, NULL};
	double *v[2] = {fc_calloc((size_t)p->cfg.rt_rounds, sizeof(double)),
	                fc_calloc((size_t)p->cfg.rt_rounds, sizeof(double))};
	size_t n[2] = {0, 0};
	for (int k = 0; k < 2; k++) {
		const char *missing = want[k] ? bench_engine_missing(k == 1) : NULL;
		if (missing) {
			error[k] = fc_asprintf("`%s` is not installed", missing);
			want[k] = false;
		}
	}
	struct bench_engine e = {0};
	struct fc_error *err = NULL;
	_cleanup_free_ char *d = fc_asprintf("%s/engines", p->dir);
	_cleanup_free_ char *ns = fc_asprintf("fcbp%d", (int)getpid());
	_cleanup_free_ char *nsdir = fc_asprintf("/run/containerd/runc/%s", ns);
	bool had_run = access("/run/containerd", F_OK) == 0;
	if (!want[0] && !want[1])
		goto out;
	if (bench_engine_init(&e, d, NULL, NULL, ns, &err) < 0)
		goto fail;
	e.stop = &bench_stop;
	if (bench_engine_start(&e, want[1], &err) < 0)
		goto fail;
	/* the same archive for both: containerd reads its index.json, docker its
	 * manifest.json */
	if (want[0]) {
		char *imp[] = {BENCH_CTR, "-a",     e.ctd_sock, "-n", ns,
		               "images",  "import", p->image,   NULL};
		if (bench_exec_quiet(imp, 120, &err) < 0) {
			error[0] = fc_asprintf("import the image into containerd: %s", err->msg);
			fc_error_free(TAKE_PTR(err));
			want[0] = false;
		}
	}
	if (want[1]) {
		char *load[] = {e.docker, "--host", e.docker_host, "load",
		                "-q",     "-i",     p->image,      NULL};
		if (bench_exec_quiet(load, 120, &err) < 0) {
			error[1] = fc_asprintf("load the image into dockerd: %s", err->msg);
			fc_error_free(TAKE_PTR(err));
			want[1] = false;
		}
	}
	/* one warm-up each, then alternate which one goes first */
	for (int i = 0; i < p->cfg.rt_rounds + 1 && !bench_stop && (want[0] || want[1]); i++) {
		for (int j = 0; j < 2; j++) {
			int k = (i + j) % 2;
			double ms = 0;
			if (!want[k])
				continue;
			if (engine_once(&e, k == 1, i, &ms, &error[k]) < 0)
				want[k] = false;
			else if (i >= 1)
				v[k][n[k]++] = ms;
		}
	}
	goto out;
fail:
	for (int k = 0; k < 2; k++)
		if (want[k] && !error[k])
			error[k] = fc_asprintf("private engines: %s", err ? err->msg : "?");
out:
	if (e.dir) {
		bench_engine_stop(&e);
		bench_engine_free(&e);
	}
	/* what our namespace's shims left in containerd's default run dir */
	for (int i = 0; i < 50 && access(nsdir, F_OK) == 0; i++) {
		_cleanup_free_ char *inner = fc_asprintf("%s/%s", nsdir, ns);
		rmdir(inner);
		if (rmdir(nsdir) == 0 || errno != ENOTEMPTY)
			break;
		usleep(20000);
	}
	if (!had_run) {
		rmdir("/run/containerd/runc");
		rmdir("/run/containerd/fifo");
		rmdir("/run/containerd/s");
		rmdir("/run/containerd");
	}
	fc_error_free(err);
	for (int k = 0; k < 2; k++) {
		if (k == 0 ? p->cfg.ctr : p->cfg.docker) {
			add_series(p, fc_strdup(labels[k]), v[k], n[k], error[k], NULL);
		} else {
			free(v[k]);
			free(error[k]);
		}
	}
}

/* ---- memory of waiting sandboxes ---------------------------------------- */

static void bench_memory(struct pstate *p)
{
	unsigned want = (unsigned)p->cfg.waiting;
	/* What the host gives for the sandboxes beyond their processes: the
	 * kernel's slab (namespaces, cgroups in every hierarchy, mounts) and
	 * MemAvailable, before and after the pool grows to want. Others' work
	 * on the host moves these too: a quiet machine gives meaningful figures. */
	struct fcpool_fn_status st0 = {0};
	fn_stats(p, "cat", &st0);
	long slab0 = bench_kib_field("/proc/meminfo", "\nSlab:");
	long avail0 = bench_kib_field("/proc/meminfo", "MemAvailable:");
	uint64_t t0 = fc_now_ns();
	if (scale(p, "cat", want, want) < 0 || !wait_stat(p, "cat", "waiting", want, 300)) {
		fprintf(stderr, "fcstart bench pool: %u waiting sandboxes not reached\n", want);
		return;
	}
	p->fill_s = (double)(fc_now_ns() - t0) / 1e9;
	long slab1 = bench_kib_field("/proc/meminfo", "\nSlab:");
	long avail1 = bench_kib_field("/proc/meminfo", "MemAvailable:");
	unsigned added = want > st0.waiting ? want - st0.waiting : 0;
	p->slab_kib = added && slab0 >= 0 && slab1 >= 0 ? (double)(slab1 - slab0) / added : NAN;
	p->avail_kib =
	    added && avail0 >= 0 && avail1 >= 0 ? (double)(avail0 - avail1) / added : NAN;
	_cleanup_free_ char *rt = fc_asprintf("%s/runtime", p->root);
	char **ids = NULL;
	if (fcrt_list(rt, &ids, NULL) < 0 || !ids)
		return;
	double pss = 0, cg = 0;
	unsigned n = 0, ncg = 0;
	for (size_t i = 0; ids[i]; i++) {
		if (!strstr(ids[i], "-cat-"))
			continue;
		/* its init (a waiting sandbox holds no other process) and its
		 * memory cgroup, when it has one of its own (on a host with a v1
		 * memory hierarchy it waits without: memslot.h) */
		struct fcrt_state *st = NULL;
		if (fcrt_state_load(rt, ids[i], &st, NULL) < 0)
			continue;
		_cleanup_free_ char *cgp = fc_asprintf("/sys/fs/cgroup/memory%s", st->cgroup_path);
		if (access(cgp, F_OK) < 0) {
			free(cgp);
			cgp = fc_asprintf("/sys/fs/cgroup%s", st->cgroup_path);
		}
		_cleanup_free_ char *sm = fc_asprintf("/proc/%d/smaps_rollup", (int)st->pid);
		fcrt_state_free(st);
		long k = bench_kib_field(sm, "\nPss:");
		if (k < 0)
			continue;
		pss += (double)k;
		n++;
		_cleanup_free_ char *usage = fc_asprintf("%s/memory.usage_in_bytes", cgp);
		_cleanup_free_ char *usage2 = fc_asprintf("%s/memory.current", cgp);
		char *u = NULL;
		if (fc_read_file_at(AT_FDCWD, usage, &u, NULL, 0, NULL) >= 0 ||
		    fc_read_file_at(AT_FDCWD, usage2, &u, NULL, 0, NULL) >= 0) {
			cg += strtod(u, NULL) / 1024.0;
			ncg++;
		}
		free(u);
	}
	fc_strv_free(ids);
	p->pss_n = n;
	p->pss_kib = n ? pss / n : NAN;
	p->cg_kib = ncg ? cg / ncg : NAN;
	scale(p, "cat", 1, 20);
}

/* ---- the CLI as a whole process --------------------------------------------- */

static const char *const cli_names[4] = {"a process start (/bin/true)",
                                         "fcstart invoke (pool hand-over)", "fcrun run",
                                         "the floor (fcstart-floor)"};

/* One whole process of argv (fork to exit): it must exit 0 with want as its
 * output (want NULL: any). */
static int cli_once(char **argv, const char *input, const char *want, double *ms, char **error)
{
	struct bench_exec x;
	_cleanup_free_ char *what = fc_asprintf("`%s`", argv[0]);
	if (exec_echo(&x, argv, input, want, what, error) < 0)
		return -EIO;
	*ms = x.ms;
	return 0;
}

/* Rounds in a random order of: /bin/true, `fcstart invoke cat --data -` (a
 * waiting sandbox handed over: the pool refilled before each), `fcrun run`
 * of the same image's bundle and the floor, each from fork to exit, each
 * echoing one line of stdin (but /bin/true). */
static void bench_cli(struct pstate *p, struct fcsnap_store *store)
{
	_cleanup_free_ char *bundle = fc_asprintf("%s/cli-bundle", p->dir);
	_cleanup_free_ char *rootfs = fc_asprintf("%s/rootfs", bundle);
	_cleanup_free_ char *rt = fc_asprintf("%s/rt-cli", p->dir);
	_cleanup_free_ char *fcrun = bench_default_fcrun();
	_cleanup_free_ char *floor = bench_default_floor();
	char *args[] = {"/bin/cat", NULL};
	struct fcsnap_bundle_opts bo = {.args = args};
	struct fc_error *e = NULL;
	if (!fcrun || !floor) {
		p->cli_error = fc_strdup("fcrun or fcstart-floor is missing");
		return;
	}
	if (cmd_image_bundle(store, "bb", bundle, &bo, &e) < 0) {
		p->cli_error = fc_asprintf("bundle: %s", e->msg);
		fc_error_free(e);
		return;
	}
	fc_mkdir_p_at(AT_FDCWD, rt, 0700, NULL);
	const char *me = p->cfg.daemon ? p->cfg.daemon : p->self;
	for (int k = 0; k < 4; k++) {
		p->cli[k].name = cli_names[k];
		p->cli[k].v = fc_calloc((size_t)p->cfg.cli, sizeof(double));
	}
	uint64_t seed = (uint64_t)fc_now_ns() | 1;
	const char *line = "request\n";
	for (int i = 0; i < p->cfg.cli + 3 && !bench_stop && !p->cli_error; i++) {
		size_t order[4] = {0, 1, 2, 3};
		bench_shuffle(order, 4, &seed);
		for (int j = 0; j < 4 && !p->cli_error; j++) {
			size_t k = order[j];
			char id[64];
			snprintf(id, sizeof(id), "bench-cli-%d-%d", (int)getpid(), i);
			char *t[] = {"/bin/true", NULL};
			char *inv[] = {(char *)me, "invoke", "--socket", p->sock,
			               "cat",      "--data", "-",        NULL};
			char *run[] = {fcrun, "--root", rt, "run", "--bundle", bundle, id, NULL};
			char *fl[] = {floor, rootfs, "/bin/cat", NULL};
			char **argv = k == 0 ? t : k == 1 ? inv : k == 2 ? run : fl;
			if (k == 1 && !wait_stat(p, "cat", "waiting", 1, 10)) {
				p->cli_error = fc_strdup("the pool did not refill within 10 s");
				break;
			}
			double ms = 0;
			if (cli_once(argv, k ? line : NULL, k ? line : NULL, &ms, &p->cli_error) <
			    0) {
				char *del[] = {fcrun, "--root", rt, "delete", "-f", id, NULL};
				if (k == 2)
					bench_exec_quiet(del, 30, NULL);
				break;
			}
			if (i >= 3) /* warm-up */
				p->cli[k].v[p->cli[k].n++] = ms;
		}
	}
	for (int k = 0; k < 4; k++)
		bench_sort(p->cli[k].v, p->cli[k].n);
	fcsnap_unbundle(bundle, NULL);
}

/* ---- sustained rate -------------------------------------------------------- */

static void bench_rate(struct pstate *p)
{
	struct fcpool_fn_status st = {0};
	scale(p, "cat", 4, 40);
	wait_stat(p, "cat", "waiting", 4, 30);
	fn_stats(p, "cat", &st);
	uint64_t od0 = st.on_demand;
	double *v = fc_calloc((size_t)p->cfg.rate_n, sizeof(double));
	size_t n = 0;
	uint64_t period = 1000000000ULL / (uint64_t)p->cfg.rate, next = fc_now_ns();
	for (int i = 0; i < p->cfg.rate_n && !bench_stop; i++) {
		uint64_t now = fc_now_ns();
		if (now < next) {
			struct timespec ts = {0, (long)(next - now)};
			nanosleep(&ts, NULL);
		}
		next += period;
		double ms;
		if (invoke_once(p, "cat", i, &ms, NULL) == 0)
			v[n++] = ms;
	}
	p->rate_done = (unsigned)n;
	if (fn_stats(p, "cat", &st))
		p->rate_ondemand = (unsigned)(st.on_demand - od0);
	bench_sort(v, n);
	p->rate_p50 = n ? bench_percentile(v, n, 50) : NAN;
	p->rate_p99 = n ? bench_percentile(v, n, 99) : NAN;
	free(v);
	scale(p, "cat", 1, 20);
}

/* ---- report ------------------------------------------------------------------ */

static const struct series *find_series(const struct pstate *p, const char *name)
{
	for (size_t i = 0; i < p->ns; i++)
		if (FC_STREQ(p->s[i].name, name) && p->s[i].n)
			return &p->s[i];
	return NULL;
}

static void report(FILE *f, const struct pstate *p)
{
	const struct series *refs[5] = {find_series(p, "crun run"), find_series(p, "runc run"),
	                                find_series(p, "fcrun run"), find_series(p, "ctr run"),
	                                find_series(p, "docker run")};
	fprintf(f, "fcstart bench pool: classic function /bin/cat and HTTP function busybox httpd "
	           "(GET /), busybox image;\n"
	           "invoke to first byte of the response. http warm: a started instance; http "
	           "cold: a waiting\n"
	           "sandbox handed over, httpd started and accepting. x R: how many times faster "
	           "than R (medians)\n");
	fprintf(f, "%-16s %5s %9s %9s %9s %9s %7s %7s %7s %7s %8s\n", "path", "n", "p50(ms)",
	        "p95(ms)", "p99(ms)", "mean(ms)", "x crun", "x runc", "x fcrun", "x ctr",
	        "x docker");
	for (size_t i = 0; i < p->ns; i++) {
		const struct series *s = &p->s[i];
		if (!s->n) {
			fprintf(f, "%-16s %5s  failed: %s\n", s->name, "-",
			        s->error ? s->error : "?");
			continue;
		}
		double mean = 0;
		for (size_t k = 0; k < s->n; k++)
			mean += s->v[k];
		mean /= (double)s->n;
		fprintf(f, "%-16s %5zu %9.3f %9.3f %9.3f %9.3f", s->name, s->n,
		        bench_percentile(s->v, s->n, 50), bench_percentile(s->v, s->n, 95),
		        bench_percentile(s->v, s->n, 99), mean);
		/* ratios of medians: how many times faster than the reference */
		for (int k = 0; k < 5; k++) {
			int w = k == 4 ? 7 : 6;
			if (refs[k])
				fprintf(f, " %*.1fx", w,
				        bench_percentile(refs[k]->v, refs[k]->n, 50) /
				            bench_percentile(s->v, s->n, 50));
			else
				fprintf(f, " %*s", w + 1, "-");
		}
		fprintf(f, "%s%s\n", s->error ? "  " : "", s->error ? s->error : "");
	}
	fprintf(f,
	        "hand-over to exec (daemon's start to the sandbox's clock before execve, %zu "
	        "hand-overs of the pool path): p50 %.1f us, p95 %.1f us, p99 %.1f us\n",
	        p->ex_n, p->ex_p50, p->ex_p95, p->ex_p99);
	fprintf(f,
	        "hand-over round trip (until the sandbox's answer woke the daemon, %zu): p50 "
	        "%.1f us, p95 %.1f us, p99 %.1f us\n",
	        p->ho_n, p->ho_p50, p->ho_p95, p->ho_p99);
	if (p->create.n)
		fprintf(
		    f,
		    "sandbox creation in the fork server (%zu, the pool path's refills): p50 %.2f "
		    "ms, p95 %.2f ms, p99 %.2f ms\n",
		    p->create.n, p->create.p50 / 1e3, p->create.p95 / 1e3, p->create.p99 / 1e3);
	if (p->create_od.n)
		fprintf(f,
		        "sandbox creation in the fork server (%zu, the on-demand path's): p50 %.2f "
		        "ms, p95 %.2f ms, p99 %.2f ms\n",
		        p->create_od.n, p->create_od.p50 / 1e3, p->create_od.p95 / 1e3,
		        p->create_od.p99 / 1e3);
	if (p->exit_n) {
		_cleanup_free_ double *c = fc_calloc(p->exit_n, sizeof(double));
		memcpy(c, p->exit_v, p->exit_n * sizeof(double));
		bench_sort(c, p->exit_n);
		fprintf(f,
		        "exit status after the output's end (%zu, the pool path): p50 %.3f ms, p95 "
		        "%.3f ms, p99 %.3f ms\n",
		        p->exit_n, bench_percentile(c, p->exit_n, 50),
		        bench_percentile(c, p->exit_n, 95), bench_percentile(c, p->exit_n, 99));
	}
	const struct series *pool = find_series(p, "pool hand-over");
	if (pool && refs[4])
		fprintf(
		    f,
		    "pool hand-over vs docker run (invoke to first byte, medians): %.1fx faster "
		    "(target: 50x; p99 %.3f ms against %.3f ms)\n",
		    bench_percentile(refs[4]->v, refs[4]->n, 50) /
		        bench_percentile(pool->v, pool->n, 50),
		    bench_percentile(pool->v, pool->n, 99),
		    bench_percentile(refs[4]->v, refs[4]->n, 99));
	if (p->rate_done)
		fprintf(f,
		        "sustained %d invocations/s (%d in all, min 4 waiting): %u answered, %u "
		        "needed an on-demand sandbox; "
		        "first byte p50 %.3f ms, p99 %.3f ms\n",
		        p->cfg.rate, p->cfg.rate_n, p->rate_done, p->rate_ondemand, p->rate_p50,
		        p->rate_p99);
	if (p->pss_n) {
		char cg[96];
		if (isnan(p->cg_kib))
			snprintf(cg, sizeof(cg),
			         "no memory cgroup of their own (one is joined at "
			         "the hand-over)");
		else
			snprintf(cg, sizeof(cg), "cgroup memory charge %.1f KiB per sandbox",
			         p->cg_kib);
		fprintf(f,
		        "%u waiting sandboxes (filled in %.2f s, %.0f/s): PSS %.1f KiB per "
		        "sandbox, %s; the host per sandbox: kernel slab %.1f KiB, MemAvailable "
		        "%.1f KiB\n",
		        p->pss_n, p->fill_s, p->pss_n / p->fill_s, p->pss_kib, cg, p->slab_kib,
		        p->avail_kib);
	}
	if (p->cli[0].n || p->cli_error) {
		fprintf(f,
		        "the CLI as a whole process (fork to exit, %zu rounds in random order, one "
		        "line echoed by /bin/cat):\n",
		        p->cli[0].n);
		for (int k = 0; k < 4; k++)
			if (p->cli[k].n)
				fprintf(f, "  %-34s p50 %7.3f ms  p99 %7.3f ms\n", p->cli[k].name,
				        bench_percentile(p->cli[k].v, p->cli[k].n, 50),
				        bench_percentile(p->cli[k].v, p->cli[k].n, 99));
		if (p->cli_error)
			fprintf(f, "  failed: %s\n", p->cli_error);
		if (p->cli[1].n && p->cli[2].n && p->cli[3].n) {
			double inv = bench_percentile(p->cli[1].v, p->cli[1].n, 50);
			fprintf(f,
			        "  fcstart invoke: %.2fx the floor (target <= 3x), %.2fx fcrun run "
			        "(target <= 0.25x); a process start alone is %.2fx fcrun run\n",
			        inv / bench_percentile(p->cli[3].v, p->cli[3].n, 50),
			        inv / bench_percentile(p->cli[2].v, p->cli[2].n, 50),
			        bench_percentile(p->cli[0].v, p->cli[0].n, 50) /
			            bench_percentile(p->cli[2].v, p->cli[2].n, 50));
		}
	}
	if (p->host_note)
		fprintf(f, "note: %s\n", p->host_note);
}

static int write_json(const char *path, const struct pstate *p)
{
	struct fc_buf b = {0};
	fc_buf_printf(
	    &b, "{\"benchmark\":\"pool\",\"function\":\"/bin/cat\",\"unit\":\"ms\",\"paths\":[");
	for (size_t i = 0; i < p->ns; i++) {
		const struct series *s = &p->s[i];
		fc_buf_printf(&b, "%s{\"name\":", i ? "," : "");
		fc_buf_json_string(&b, s->name);
		if (s->n)
			fc_buf_printf(&b,
			              ",\"n\":%zu,\"p50\":%.4f,\"p95\":%.4f,\"p99\":%.4f,\"min\":%."
			              "4f,\"max\":%.4f",
			              s->n, bench_percentile(s->v, s->n, 50),
			              bench_percentile(s->v, s->n, 95),
			              bench_percentile(s->v, s->n, 99), s->v[0], s->v[s->n - 1]);
		if (s->error) {
			fc_buf_printf(&b, ",\"error\":");
			fc_buf_json_string(&b, s->error);
		}
		fc_buf_printf(&b, "}");
	}
	fc_buf_printf(&b, "],\"handover_us\":{\"n\":%zu,\"p50\":%.1f,\"p95\":%.1f,\"p99\":%.1f}",
	              p->ho_n, p->ho_p50, p->ho_p95, p->ho_p99);
	fc_buf_printf(&b, ",\"exec_us\":{\"n\":%zu,\"p50\":%.1f,\"p95\":%.1f,\"p99\":%.1f}",
	              p->ex_n, p->ex_p50, p->ex_p95, p->ex_p99);
	fc_buf_printf(&b, ",\"create_us\":{\"n\":%zu,\"p50\":%.1f,\"p95\":%.1f,\"p99\":%.1f}",
	              p->create.n, p->create.p50, p->create.p95, p->create.p99);
	fc_buf_printf(&b,
	              ",\"create_on_demand_us\":{\"n\":%zu,\"p50\":%.1f,\"p95\":%.1f,\"p99\":%.1f}",
	              p->create_od.n, p->create_od.p50, p->create_od.p95, p->create_od.p99);
	if (p->exit_n) {
		_cleanup_free_ double *c = fc_calloc(p->exit_n, sizeof(double));
		memcpy(c, p->exit_v, p->exit_n * sizeof(double));
		bench_sort(c, p->exit_n);
		fc_buf_printf(&b, ",\"exit_after_output_ms\":{\"n\":%zu,\"p50\":%.4f,\"p99\":%.4f}",
		              p->exit_n, bench_percentile(c, p->exit_n, 50),
		              bench_percentile(c, p->exit_n, 99));
	}
	if (p->rate_done)
		fc_buf_printf(&b,
		              ",\"rate\":{\"per_s\":%d,\"n\":%d,\"answered\":%u,\"on_demand\":%u,"
		              "\"p50\":%.4f,\"p99\":%.4f}",
		              p->cfg.rate, p->cfg.rate_n, p->rate_done, p->rate_ondemand,
		              p->rate_p50, p->rate_p99);
	bool cli_open = false;
	for (int k = 0; k < 4; k++)
		if (p->cli[k].n) {
			fc_buf_printf(&b, "%s{\"name\":\"%s\",\"n\":%zu,\"p50\":%.3f,\"p99\":%.3f}",
			              cli_open ? "," : ",\"cli\":[", p->cli[k].name, p->cli[k].n,
			              bench_percentile(p->cli[k].v, p->cli[k].n, 50),
			              bench_percentile(p->cli[k].v, p->cli[k].n, 99));
			cli_open = true;
		}
	if (cli_open)
		fc_buf_printf(&b, "]");
	if (p->pss_n)
		fc_buf_printf(
		    &b,
		    ",\"waiting\":{\"n\":%u,\"fill_s\":%.3f,\"pss_kib\":%.1f,\"cgroup_kib\":%.1f,"
		    "\"host_slab_kib\":%.1f,\"host_memavailable_kib\":%.1f}",
		    p->pss_n, p->fill_s, p->pss_kib, isnan(p->cg_kib) ? -1 : p->cg_kib,
		    isnan(p->slab_kib) ? -1 : p->slab_kib, isnan(p->avail_kib) ? -1 : p->avail_kib);
	fc_buf_printf(&b, "}\n");
	struct fc_error *e = NULL;
	int r = fc_write_file_atomic_at(AT_FDCWD, path, b.data, b.len, 0644, &e);
	if (r < 0)
		fprintf(stderr, "fcstart bench pool: --json: %s\n", e->msg);
	fc_error_free(e);
	free(b.data);
	return r;
}

/* ---- --phases: the fork servers' steps, from the daemon's debug log --------- */

static void phase_add(struct pstate *p, const char *name, size_t len, double us)
{
	size_t i = 0;
	if (len > 15)
		len = 15;
	while (i < p->n_phase &&
	       (strlen(p->phase[i].name) != len || memcmp(p->phase[i].name, name, len) != 0))
		i++;
	if (i == p->n_phase) {
		if (i == sizeof(p->phase) / sizeof(p->phase[0]))
			return;
		memcpy(p->phase[i].name, name, len);
		p->phase[i].name[len] = '\0';
		p->n_phase++;
	}
	struct phase *x = &p->phase[i];
	x->v = fc_realloc(x->v, (x->n + 1) * sizeof(double));
	x->v[x->n++] = us;
}

/* "fork server: create `ID`: phases (us): NAME=US ..." and "fork server:
 * teardown `ID`: US us" lines of serve.log. */
static void phases_read(struct pstate *p)
{
	_cleanup_free_ char *log = fc_asprintf("%s/serve.log", p->dir);
	_cleanup_fclose_ FILE *f = fopen(log, "re");
	char line[4096];
	while (f && fgets(line, sizeof(line), f)) {
		const char *c = strstr(line, "fork server: create `");
		const char *t = strstr(line, "fork server: teardown `");
		if (c && (c = strstr(c, "phases (us): "))) {
			c += strlen("phases (us): ");
			while (*c && *c != '\n') {
				const char *eq = strchr(c, '=');
				if (!eq)
					break;
				char *end;
				double us = strtod(eq + 1, &end);
				if (end == eq + 1)
					break;
				phase_add(p, c, (size_t)(eq - c), us);
				c = end;
				while (*c == ' ' || *c == '"')
					c++;
			}
		} else if (t && (t = strstr(t, "`: "))) {
			phase_add(p, "teardown", strlen("teardown"), strtod(t + 3, NULL));
			const char *d = strstr(t, "(libfcrt delete "), *m = strstr(t, "namespace ");
			if (d && m) {
				phase_add(p, "td:delete", strlen("td:delete"),
				          strtod(d + strlen("(libfcrt delete "), NULL));
				phase_add(p, "td:mntns", strlen("td:mntns"),
				          strtod(m + strlen("namespace "), NULL));
			}
			const char *cr = strstr(t, "cgroup reset ");
			if (cr) /* the recycled cgroup made ready for the next sandbox */
				phase_add(p, "td:cgreset", strlen("td:cgreset"),
				          strtod(cr + strlen("cgroup reset "), NULL));
		}
	}
}

static void phases_print(FILE *f, struct pstate *p)
{
	if (!p->cfg.phases)
		return;
	fprintf(f,
	        "\nsandbox creation in the fork server, step by step (`fcstart serve --debug`; "
	        "every creation of the run; us):\n  %-15s %6s %9s %9s\n",
	        "step", "n", "p50", "p95");
	for (size_t i = 0; i < p->n_phase; i++) {
		struct phase *x = &p->phase[i];
		bench_sort(x->v, x->n);
		fprintf(f, "  %-15s %6zu %9.1f %9.1f\n", x->name, x->n,
		        bench_percentile(x->v, x->n, 50), bench_percentile(x->v, x->n, 95));
	}
	if (!p->n_phase)
		fprintf(f, "  none in the daemon's log (a daemon without --debug phases?)\n");
}

/* ---- main ------------------------------------------------------------------ */

static const char pool_usage[] =
    "usage: fcstart bench pool [OPTIONS]\n"
    "Invoke-to-first-byte of a classic function (/bin/cat, busybox image) through a pool\n"
    "hand-over, an on-demand sandbox and `X run` of OCI runtimes, side by side; the\n"
    "daemon's hand-over-to-exec latency; a sustained rate; PSS of waiting sandboxes and\n"
    "what the host gives for them (kernel slab, MemAvailable).\n"
    "  --rounds N           invocations per pool path (default 200)\n"
    "  --runtime-rounds N   runs per OCI runtime (default 50)\n"
    "  --runtimes LIST      comma-separated (default fcrun,crun,runc; '' for none)\n"
    "  --waiting N          waiting sandboxes for the memory measurement (default 200, 0: skip)\n"
    "  --rate R --rate-n N  sustained invocations per second and how many (default 100, 200; 0: "
    "skip)\n"
    "  --http-cold N        cold requests to the HTTP function (busybox httpd; default 64, 0: "
    "skip)\n"
    "  --no-ctr             skip `ctr run` (a private containerd on a unix socket; first byte,\n"
    "                       then the task is killed: ctr run does not pass stdin's EOF on)\n"
    "  --no-docker          skip `docker run --rm -i --network none` (a private dockerd on\n"
    "                       that containerd, on a unix socket; no bridge, no iptables)\n"
    "  --cli N              rounds of the CLI as a whole process, in random order: /bin/true,\n"
    "                       `fcstart invoke` from the pool, `fcrun run`, the floor (default\n"
    "                       40, 0: skip)\n"
    "  --json FILE          write the results as JSON\n"
    "  --daemon PATH        the fcstart binary that serves (default: this one; to put two\n"
    "                       builds side by side)\n"
    "  --phases             the daemon runs with --debug: each step of its fork servers'\n"
    "                       creations and their teardowns (medians; debug logging costs a\n"
    "                       little)\n";

int bench_pool_cmd(int argc, char **argv)
{
	static const struct option lo[] = {{"rounds", required_argument, NULL, 'r'},
	                                   {"runtime-rounds", required_argument, NULL, 'R'},
	                                   {"runtimes", required_argument, NULL, 't'},
	                                   {"waiting", required_argument, NULL, 'w'},
	                                   {"rate", required_argument, NULL, 'a'},
	                                   {"rate-n", required_argument, NULL, 'n'},
	                                   {"json", required_argument, NULL, 'j'},
	                                   {"phases", no_argument, NULL, 'P'},
	                                   {"help", no_argument, NULL, 'h'},
	                                   {"http-cold", required_argument, NULL, 'c'},
	                                   {"no-ctr", no_argument, NULL, 'C'},
	                                   {"no-docker", no_argument, NULL, 'D'},
	                                   {"daemon", required_argument, NULL, 'E'},
	                                   {"cli", required_argument, NULL, 'L'},
	                                   {0}};
	struct pstate p = {.daemon = -1};
	p.cfg = (struct pcfg){.rounds = 200,
	                      .rt_rounds = 50,
	                      .waiting = 200,
	                      .rate = 100,
	                      .rate_n = 200,
	                      .http_cold = 64,
	                      .cli = 40,
	                      .ctr = true,
	                      .docker = true};
	_cleanup_strv_ char **rts = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (bench_parse_int("pool", "--rounds", optarg, 1, &p.cfg.rounds) < 0)
				return 2;
			break;
		case 'R':
			if (bench_parse_int("pool", "--runtime-rounds", optarg, 1,
			                    &p.cfg.rt_rounds) < 0)
				return 2;
			break;
		case 't':
			fc_strv_free(rts);
			rts = bench_split(optarg, ',');
			break;
		case 'w':
			if (bench_parse_int("pool", "--waiting", optarg, 0, &p.cfg.waiting) < 0)
				return 2;
			break;
		case 'a':
			if (bench_parse_int("pool", "--rate", optarg, 0, &p.cfg.rate) < 0)
				return 2;
			break;
		case 'n':
			if (bench_parse_int("pool", "--rate-n", optarg, 0, &p.cfg.rate_n) < 0)
				return 2;
			break;
		case 'P':
			p.cfg.phases = true;
			break;
		case 'j':
			p.cfg.json = optarg;
			break;
		case 'c':
			if (bench_parse_int("pool", "--http-cold", optarg, 0, &p.cfg.http_cold) < 0)
				return 2;
			break;
		case 'C':
			p.cfg.ctr = false;
			break;
		case 'D':
			p.cfg.docker = false;
			break;
		case 'E':
			p.cfg.daemon = optarg;
			break;
		case 'L':
			if (bench_parse_int("pool", "--cli", optarg, 0, &p.cfg.cli) < 0)
				return 2;
			break;
		case 'h':
			fputs(pool_usage, stdout);
			return 0;
		default:
			fputs(pool_usage, stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "fcstart bench pool: unexpected argument `%s`\n", argv[optind]);
		return 2;
	}
	if (!rts)
		rts = bench_split("fcrun,crun,runc", ',');
	p.cfg.runtimes = rts;
	if (getuid() != 0) {
		fprintf(stderr, "fcstart bench pool: needs root\n");
		return 1;
	}
	if (!(p.self = bench_self_exe())) {
		fprintf(stderr, "fcstart bench pool: cannot find this fcstart binary: %s\n",
		        strerror(errno));
		return 1;
	}
	const char *tmp = getenv("TMPDIR");
	_cleanup_free_ char *tmpl =
	    fc_asprintf("%s/fcstart-bench-pool.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(tmpl)) {
		fprintf(stderr, "fcstart bench pool: mkdtemp `%s`: %s\n", tmpl, strerror(errno));
		return 1;
	}
	p.dir = TAKE_PTR(tmpl);
	/* the root of a sandbox in a user namespace (an unprivileged host
	 * user) passes through it to the daemon's root */
	chmod(p.dir, 0711);
	p.root = fc_asprintf("%s/root", p.dir);
	p.sock = fc_asprintf("%s/api.sock", p.dir);
	p.store = fc_asprintf("%s/store", p.dir);
	/* SIGINT, SIGTERM, SIGHUP: stop measuring, clean up, report what we have */
	struct bench_session session;
	bench_session_begin(&session, false);
	int rc = 1;
	struct fcsnap_store *store = NULL;
	struct fc_error *e = NULL;
	p.image = fc_asprintf("%s/busybox.tar", p.dir);
	struct fcsnap_import_opts io = {.name = "bb"};
	if (bench_busybox_image(p.image, "fcbench/bb:latest", &e) < 0 ||
	    fcsnap_store_open(p.store, &store, &e) < 0 ||
	    fcsnap_import(store, p.image, &io, NULL, &e) < 0) {
		fprintf(stderr, "fcstart bench pool: image: %s\n", e->msg);
		goto out;
	}
	if (start_daemon(&p) < 0) {
		fprintf(stderr, "fcstart bench pool: the daemon did not start (see %s/serve.log)\n",
		        p.dir);
		goto out;
	}
	char *cat[] = {"/bin/cat", NULL};
	char *httpd[] = {"/bin/sh", "-c",
	                 "mkdir -p /www && echo static-ok >/www/index.html && exec httpd -f -p "
	                 "127.0.0.1:8080 -h /www",
	                 NULL};
	if (deploy(&p, "cat", FCPOOL_CLASSIC, 1, cat) < 0 ||
	    deploy(&p, "od", FCPOOL_CLASSIC, 0, cat) < 0 ||
	    deploy(&p, "web", FCPOOL_HTTP, 1, httpd) < 0)
		goto out;
	fprintf(stderr, "pool hand-over: %d invocations...\n", p.cfg.rounds);
	bench_invoke_path(&p, "pool hand-over", "cat", true);
	struct fcpool_fn_status cs;
	if (fn_stats(&p, "cat", &cs)) {
		p.ho_p50 = cs.handover_us.p50;
		p.ho_p95 = cs.handover_us.p95;
		p.ho_p99 = cs.handover_us.p99;
		p.ho_n = cs.handover_us.n;
		p.ex_p50 = cs.exec_us.p50;
		p.ex_p95 = cs.exec_us.p95;
		p.ex_p99 = cs.exec_us.p99;
		p.ex_n = cs.exec_us.n;
		p.create = cs.create_us;
	}
	fprintf(stderr, "on-demand sandbox: %d invocations...\n", p.cfg.rounds);
	bench_invoke_path(&p, "on-demand", "od", false);
	if (fn_stats(&p, "od", &cs))
		p.create_od = cs.create_us;
	if (p.cfg.http_cold > 0) {
		fprintf(stderr, "http function: %d warm, %d cold requests...\n", p.cfg.rounds,
		        p.cfg.http_cold);
		bench_http(&p);
	}
	if (p.cfg.rate > 0 && p.cfg.rate_n > 0) {
		fprintf(stderr, "sustained rate: %d/s...\n", p.cfg.rate);
		bench_rate(&p);
	}
	if (p.cfg.cli > 0) {
		fprintf(stderr, "the CLI as a whole process: %d rounds...\n", p.cfg.cli);
		bench_cli(&p, store);
	}
	if (p.cfg.waiting > 0) {
		fprintf(stderr, "memory: %d waiting sandboxes...\n", p.cfg.waiting);
		bench_memory(&p);
	}
	stop_daemon(&p);
	if (p.cfg.phases)
		phases_read(&p);
	if (rts[0]) {
		fprintf(stderr, "OCI runtimes: %d runs each...\n", p.cfg.rt_rounds);
		bench_runtimes(&p, store);
	}
	if ((p.cfg.ctr || p.cfg.docker) && !bench_stop) {
		fprintf(stderr,
		        "ctr run, docker run (private containerd, dockerd): %d runs each...\n",
		        p.cfg.rt_rounds);
		bench_engines(&p);
	}
	report(stdout, &p);
	phases_print(stdout, &p);
	rc = 0;
	if (p.cfg.json && write_json(p.cfg.json, &p) < 0)
		rc = 1;
out:
	stop_daemon(&p);
	fc_error_free(TAKE_PTR(e));
	fcsnap_store_free(store);
	if (p.dir && fc_rm_rf_at(AT_FDCWD, p.dir, &e) < 0)
		fprintf(stderr, "fcstart bench pool: %s\n", e->msg);
	fc_error_free(TAKE_PTR(e));
	for (size_t i = 0; i < p.ns; i++) {
		free(p.s[i].v);
		free(p.s[i].error);
		free(p.s[i].note);
		free((char *)(p.s[i].name[0] && strstr(p.s[i].name, " run") ? p.s[i].name : NULL));
	}
	free(p.exit_v);
	for (int k = 0; k < 4; k++)
		free(p.cli[k].v);
	free(p.cli_error);
	for (size_t i = 0; i < p.n_phase; i++)
		free(p.phase[i].v);
	free(p.dir);
	free(p.root);
	free(p.sock);
	free(p.store);
	free(p.self);
	free(p.image);
	free(p.host_note);
	return bench_session_end(&session, NULL, 0, rc);
}
