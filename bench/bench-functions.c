/* SPDX-License-Identifier: MIT */
/* bench-functions.c: `fcstart bench functions`: real Python and Node.js HTTP
 * functions (images of tests/lib/mkfuncimage.sh: an init that imports
 * modules and builds ~50 MB of objects, then a server on 127.0.0.1:8080),
 * side by side in one run: the time from the start of a request to the first
 * byte of the answer of a never-used instance via `docker run`, `fcrun run`
 * (create + start), a pool with exec at the hand-over, a pool in started
 * mode and (Python) a pool in fork mode; rounds in random order. Then the
 * memory (PSS, smaps_rollup) of N waiting instances per pool mode and how
 * fast the pool made them ready; in fork mode, the template's own PSS (alone)
 * and what each instance adds to the function's PSS beyond it. A
 * private daemon, store, fcrun root and dockerd are started here and stopped
 * after. */
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "bench-functions.h"
#include "bench.h"
#include "fcpool.h"
#include "fcrt.h"
#include "fcsnap.h"

static const char functions_usage[] =
    "usage: fcstart bench functions --python LAYOUT --node LAYOUT [--cold N] [--rounds R]\n"
    "                               [--waiting N] [--no-docker] [--svg FILE]\n"
    "  --python LAYOUT  the Python HTTP function's image (an OCI layout or archive:\n"
    "                   tests/lib/mkfuncimage.sh python DIR)\n"
    "  --node LAYOUT    the Node.js HTTP function's image (mkfuncimage.sh node DIR)\n"
    "  --cold N         never-used instances timed per function and path (default 20)\n"
    "  --rounds R       rounds they are split in, each in a random order (default 5)\n"
    "  --waiting N      waiting instances per function and pool mode whose memory is\n"
    "                   measured (default 20; 0: none)\n"
    "  --no-docker      leave `docker run` out\n"
    "  --svg FILE       also a chart of the medians and p99s (log scale)\n";

enum lang { L_PY, L_NODE, L_N };
static const char *const lang_names[L_N] = {"Python", "Node.js"};
static const char *const lang_short[L_N] = {"py", "node"};

enum path { P_DOCKER, P_FCRUN, P_EXEC, P_STARTED, P_FORK, P_N };
static const char *const path_names[P_N] = {"docker run", "fcrun run (create + start)",
                                            "pool, exec at the hand-over", "pool, started mode",
                                            "pool, fork mode"};
/* pool modes whose waiting instances' memory is measured */
#define M_N 3
static const enum fcpool_prewarm mem_modes[M_N] = {FCPOOL_PREWARM_EXEC, FCPOOL_PREWARM_STARTED,
                                                   FCPOOL_PREWARM_FORK};

struct mem {
	bool ran;
	unsigned n;
	double ready_s, pss_kib, cg_kib;
	double template_kib; /* fork mode: the template's PSS, alone */
	char *error;
};

struct fstate {
	int cold, rounds, waiting;
	bool docker;
	const char *layout[L_N], *svg;
	char *dir, *root, *sock, *store, *self, *fcrun, *fcrun_root;
	char *docker_image[L_N];
	pid_t daemon;
	double *v[L_N][P_N];
	size_t nv[L_N][P_N];
	char *err[L_N][P_N];
	struct mem mem[L_N][M_N]; /* [lang][mem_modes] */
	struct bench_engine eng;
	bool eng_up;
	struct bench_host_state h0, h1;
	unsigned serial;
};

static void add_sample(struct fstate *g, enum lang l, enum path p, double ms)
{
	g->v[l][p] = fc_realloc(g->v[l][p], (g->nv[l][p] + 1) * sizeof(double));
	g->v[l][p][g->nv[l][p]++] = ms;
}

static void path_error(struct fstate *g, enum lang l, enum path p, char *msg)
{
	if (!g->err[l][p])
		g->err[l][p] = msg;
	else
		free(msg);
}

/* ---- a socket in a network namespace, an answer --------------------------------------- */

/* A TCP socket connected to 127.0.0.1:8080 in the network namespace ns;
 * -errno (-ECONNREFUSED while nothing listens). */
static int connect_in(int ns)
{
	_cleanup_close_ int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0 || setns(ns, CLONE_NEWNET) < 0)
		return -errno;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), e = errno;
	if (setns(self, CLONE_NEWNET) < 0)
		abort(); /* we would stay in the container's network */
	if (fd < 0)
		return -e;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(8080)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

/* lo up in the network namespace ns (fcrun leaves it down, as runc does;
 * Docker and the pool bring it up). */
static int loopback_up(int ns)
{
	_cleanup_close_ int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0 || setns(ns, CLONE_NEWNET) < 0)
		return -errno;
	int r = 0, fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = {0};
	strcpy(ifr.ifr_name, "lo");
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		r = -errno;
	else if (!(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
			r = -errno;
	}
	if (fd >= 0)
		close(fd);
	if (setns(self, CLONE_NEWNET) < 0)
		abort();
	return r;
}

/* GET / on a connected socket: 0 when a 200 came (first byte timed from t0). */
static int get_root(int fd, uint64_t t0, double *ms)
{
	static const char req[] = "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
	struct bench_output o;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	int r = fc_write_all(fd, req, sizeof(req) - 1);
	if (r >= 0)
		r = bench_read_output(fd, t0, 20000, 0, &o);
	if (r < 0)
		return r;
	if (o.first_ms < 0 || strncmp(o.buf, "HTTP/1.", 7) != 0 || strncmp(o.buf + 8, " 200", 4))
		return -EPROTO;
	*ms = o.first_ms;
	return 0;
}

/* The first answer of the instance whose network namespace is the one of
 * pid, from t0: connects every 0.5 ms until something listens (20 s). */
static int first_answer(pid_t pid, uint64_t t0, double *ms)
{
	_cleanup_free_ char *p = fc_asprintf("/proc/%d/ns/net", (int)pid);
	_cleanup_close_ int ns = open(p, O_RDONLY | O_CLOEXEC);
	if (ns < 0)
		return -errno;
	while (bench_ms_since(t0) < 20000 && !bench_stop) {
		int fd = connect_in(ns);
		if (fd >= 0) {
			int r = get_root(fd, t0, ms);
			close(fd);
			return r;
		}
		if (fd != -ECONNREFUSED && fd != -ENETUNREACH && fd != -EADDRNOTAVAIL)
			return fd;
		usleep(500);
	}
	return -ETIMEDOUT;
}

/* ---- docker run ------------------------------------------------------------------------------ */

static void docker_once(struct fstate *g, enum lang l)
{
	char *run[] = {g->eng.docker,
	               "--host",
	               g->eng.docker_host,
	               "run",
	               "-d",
	               "--rm",
	               "--network",
	               "none",
	               "--label",
	               "fcbench=functions",
	               g->docker_image[l],
	               NULL};
	struct bench_exec x = BENCH_EXEC_INIT(run);
	x.out = BENCH_EXEC_PIPE;
	x.timeout_s = 60;
	uint64_t t0 = fc_now_ns();
	int r = bench_exec(&x);
	if (r < 0 || x.status != 0) {
		struct fc_error *e = NULL;
		bench_exec_error(&x, &e, "docker run");
		path_error(g, l, P_DOCKER, fc_strdup(e ? e->msg : "docker run failed"));
		fc_error_free(e);
		return;
	}
	char id[80];
	snprintf(id, sizeof(id), "%.*s", (int)strcspn(x.output.buf, "\r\n"), x.output.buf);
	char *insp[] = {
	    g->eng.docker, "--host", g->eng.docker_host, "inspect", "-f", "{{.State.Pid}}", id,
	    NULL};
	struct bench_exec y = BENCH_EXEC_INIT(insp);
	y.out = BENCH_EXEC_PIPE;
	y.timeout_s = 30;
	double ms = 0;
	r = bench_exec(&y);
	pid_t pid = r >= 0 && y.status == 0 ? (pid_t)atoi(y.output.buf) : 0;
	if (pid <= 0)
		path_error(g, l, P_DOCKER, fc_asprintf("docker inspect %s: no pid", id));
	else if ((r = first_answer(pid, t0, &ms)) < 0)
		path_error(g, l, P_DOCKER, fc_asprintf("no answer: %s", strerror(-r)));
	else
		add_sample(g, l, P_DOCKER, ms);
	char *rm[] = {g->eng.docker, "--host", g->eng.docker_host, "rm", "-f", id, NULL};
	bench_exec_quiet(rm, 60, NULL);
}

/* dir/manifest.json: what `docker load` reads (Docker's archive format) of
 * the image in our store, its blobs named as in its OCI layout. */
static int docker_manifest(struct fstate *g, enum lang l, const char *dir, struct fc_error **err)
{
	struct fcsnap_store *st = NULL;
	struct fcsnap_image *img = NULL;
	int r = fcsnap_store_open(g->store, &st, err);
	if (r >= 0)
		r = fcsnap_image_get(st, lang_short[l], &img, err);
	_cleanup_free_ char *text = NULL;
	if (r >= 0) {
		_cleanup_free_ char *mp = fc_asprintf("%s/blobs/sha256/%s", g->store,
		                                      fcsnap_digest_hex(img->manifest_digest));
		r = fc_read_file_at(AT_FDCWD, mp, &text, NULL, 1 << 20, err);
	}
	struct fc_buf b = {0};
	if (r >= 0) {
		/* the manifest's config digest, then its layers' */
		fc_buf_printf(
		    &b,
		    "[{\"Config\":\"blobs/sha256/%s\",\"RepoTags\":[\"fcbench/%s:latest\"],"
		    "\"Layers\":[",
		    fcsnap_digest_hex(img->config_digest), lang_short[l]);
		char *layers = strstr(text, "\"layers\"");
		const char *sep = "";
		for (char *d = layers; d && (d = strstr(d, "\"digest\":\"sha256:")); d += 17) {
			fc_buf_printf(&b, "%s\"blobs/sha256/%.64s\"", sep, d + 17);
			sep = ",";
		}
		fc_buf_printf(&b, "]}]\n");
		if (!layers)
			r = fc_error_set(err, EINVAL, "image %s: no layers in its manifest",
			                 lang_short[l]);
	}
	if (r >= 0 && (mkdir(dir, 0700) < 0 && errno != EEXIST))
		r = fc_error_set(err, errno, "mkdir `%s`", dir);
	if (r >= 0) {
		_cleanup_free_ char *mf = fc_asprintf("%s/manifest.json", dir);
		r = fc_write_file_atomic_at(AT_FDCWD, mf, b.data, b.len, 0600, err);
	}
	free(b.data);
	fcsnap_image_free(img);
	fcsnap_store_free(st);
	return r;
}

static int start_docker(struct fstate *g, struct fc_error **err)
{
	_cleanup_free_ char *edir = fc_asprintf("%s/engine", g->dir);
	int r = bench_engine_init(&g->eng, edir, NULL, NULL, "fcbench", err);
	if (r < 0)
		return r;
	g->eng.stop = &bench_stop;
	g->eng_up = true;
	if ((r = bench_engine_start(&g->eng, true, err)) < 0)
		return r;
	for (int l = 0; l < L_N; l++) {
		/* an OCI layout goes to `docker load` as a tar of it */
		const char *img = g->layout[l];
		_cleanup_free_ char *tar = NULL;
		struct stat st;
		if (stat(img, &st) == 0 && S_ISDIR(st.st_mode)) {
			_cleanup_free_ char *mdir =
			    fc_asprintf("%s/docker-%s", g->dir, lang_short[l]);
			if ((r = docker_manifest(g, l, mdir, err)) < 0)
				return r;
			tar = fc_asprintf("%s/%s.tar", g->dir, lang_short[l]);
			char *targv[] = {"tar", "-C", (char *)img, "-cf",           tar,
			                 ".",   "-C", mdir,        "manifest.json", NULL};
			if ((r = bench_exec_quiet(targv, 120, err)) < 0)
				return r;
			img = tar;
		}
		char *load[] = {g->eng.docker, "--host", g->eng.docker_host, "load", "-i",
		                (char *)img,   NULL};
		struct bench_exec x = BENCH_EXEC_INIT(load);
		x.out = BENCH_EXEC_PIPE;
		x.timeout_s = 120;
		r = bench_exec(&x);
		if (r < 0 || x.status != 0)
			return bench_exec_error(&x, err, "docker load");
		/* "Loaded image: NAME" or "Loaded image ID: sha256:..." */
		char *s = strstr(x.output.buf, "Loaded image ID: ");
		s = s ? s + 17 : strstr(x.output.buf, "Loaded image: ");
		if (s && s == strstr(x.output.buf, "Loaded image: "))
			s += 14;
		if (!s)
			return fc_error_set(err, EPROTO, "docker load %s: no image named in `%s`",
			                    img, x.output.buf);
		g->docker_image[l] = fc_strndup(s, strcspn(s, "\r\n"));
	}
	return 0;
}

/* ---- fcrun run ----------------------------------------------------------------------------- */

static void fcrun_once(struct fstate *g, enum lang l)
{
	unsigned k = g->serial++;
	_cleanup_free_ char *id = fc_asprintf("fcbench-fn-%s-%u", lang_short[l], k);
	_cleanup_free_ char *bundle = fc_asprintf("%s/bundle-%u", g->dir, k);
	_cleanup_free_ char *pidf = fc_asprintf("%s/pid", bundle);
	char *mk[] = {
	    g->self, "image", "--store", g->store, "--quiet", "bundle", (char *)lang_short[l],
	    bundle,  NULL};
	struct fc_error *e = NULL;
	if (bench_exec_quiet(mk, 60, &e) < 0) {
		path_error(g, l, P_FCRUN, fc_strdup(e->msg));
		fc_error_free(e);
		return;
	}
	/* timed: create, lo up (what Docker's and the pool's network setup
	 * does), start, to the first byte of the answer */
	char *create[] = {g->fcrun, "--root",     g->fcrun_root, "create", "--bundle",
	                  bundle,   "--pid-file", pidf,          id,       NULL};
	char *start[] = {g->fcrun, "--root", g->fcrun_root, "start", id, NULL};
	struct bench_exec x = BENCH_EXEC_INIT(create);
	x.err = -1; /* the container keeps fcrun's stdio: no pipe to wait for */
	x.timeout_s = 60;
	uint64_t t0 = fc_now_ns();
	int r = bench_exec(&x);
	_cleanup_free_ char *pidtext = NULL;
	pid_t pid = 0;
	if (r >= 0 && x.status == 0 &&
	    fc_read_file_at(AT_FDCWD, pidf, &pidtext, NULL, 64, NULL) >= 0)
		pid = (pid_t)atoi(pidtext);
	double ms = 0;
	if (pid <= 0) {
		path_error(g, l, P_FCRUN, fc_asprintf("fcrun create: exit status %d", x.status));
	} else {
		_cleanup_free_ char *p = fc_asprintf("/proc/%d/ns/net", (int)pid);
		_cleanup_close_ int ns = open(p, O_RDONLY | O_CLOEXEC);
		struct bench_exec y = BENCH_EXEC_INIT(start);
		y.err = -1;
		y.timeout_s = 60;
		if (ns < 0 || (r = loopback_up(ns)) < 0)
			path_error(g, l, P_FCRUN, fc_strdup("the container's loopback"));
		else if (bench_exec(&y) < 0 || y.status != 0)
			path_error(g, l, P_FCRUN,
			           fc_asprintf("fcrun start: exit status %d", y.status));
		else if ((r = first_answer(pid, t0, &ms)) < 0)
			path_error(g, l, P_FCRUN, fc_asprintf("no answer: %s", strerror(-r)));
		else
			add_sample(g, l, P_FCRUN, ms);
	}
	char *del[] = {g->fcrun, "--root", g->fcrun_root, "delete", "--force", id, NULL};
	bench_exec_quiet(del, 60, NULL);
	char *um[] = {g->self, "image", "--store", g->store, "--quiet", "unmount", bundle, NULL};
	bench_exec_quiet(um, 60, NULL);
	fc_rm_rf_at(AT_FDCWD, bundle, NULL);
}

/* ---- the pool ------------------------------------------------------------------------------- */

static int start_daemon(struct fstate *g, struct fc_error **err)
{
	_cleanup_free_ char *log = fc_asprintf("%s/serve.log", g->dir);
	char *argv[] = {g->self,   "serve",    "--root", g->root,          "--store",
	                g->store,  "--socket", g->sock,  "--idle-timeout", "1s",
	                "--queue", "1000",     NULL};
	pid_t pid = bench_spawn_daemon(argv, log);
	if (pid < 0)
		return fc_error_set(err, -pid, "start fcstart serve");
	g->daemon = pid;
	for (int i = 0; i < 1000; i++) {
		if (fcpool_client_ping(g->sock, NULL) == 0)
			return 0;
		usleep(10000);
	}
	return fc_error_set(err, ETIMEDOUT, "the daemon did not answer (see %s)", log);
}

static void stop_daemon(struct fstate *g)
{
	bench_stop_pid(&g->daemon, SIGTERM, 30);
}

static char *fn_name(enum lang l, enum fcpool_prewarm m, bool mem)
{
	return fc_asprintf("%s%s-%s", mem ? "mem-" : "", lang_short[l], fcpool_prewarm_name(m));
}

static int deploy(struct fstate *g, enum lang l, enum fcpool_prewarm m, bool mem, unsigned min,
                  unsigned max, struct fc_error **err)
{
	_cleanup_free_ char *name = fn_name(l, m, mem);
	struct fcpool_fn_spec spec = {.name = name,
	                              .image = (char *)lang_short[l],
	                              .mode = FCPOOL_HTTP,
	                              .min = min,
	                              .max = max,
	                              .prewarm = m,
	                              .readiness = "/_/health"};
	return fcpool_client_deploy(g->sock, &spec, err);
}

/* Until no instance is being made or started anywhere and name (when set)
 * has want waiting; false after timeout_s. */
static bool settle(struct fstate *g, const char *name, unsigned want, int timeout_s)
{
	uint64_t end = fc_now_ns() + (uint64_t)timeout_s * 1000000000ULL;
	while (fc_now_ns() < end && !bench_stop) {
		struct fcpool_fn_list ls;
		if (fcpool_client_stats(g->sock, &ls, NULL) == 0) {
			bool quiet = true, found = !name;
			for (size_t i = 0; i < ls.n; i++) {
				const struct fcpool_fn_status *f = &ls.fns[i];
				if (f->creating || f->starting)
					quiet = false;
				if (name && FC_STREQ(f->spec.name, name)) {
					found = true;
					if (f->waiting < want || f->running)
						quiet = false;
				}
			}
			fcpool_fn_list_clear(&ls);
			if (quiet && found)
				return true;
		}
		bench_sleep_ms(5, &bench_stop);
	}
	return false;
}

/* A never-used instance: the function is removed and deployed anew, then
 * once its instance waits (exec) or is ready (started), a request. */
static void pool_once(struct fstate *g, enum lang l, enum path p)
{
	enum fcpool_prewarm m = p == P_EXEC      ? FCPOOL_PREWARM_EXEC
	                        : p == P_STARTED ? FCPOOL_PREWARM_STARTED
	                                         : FCPOOL_PREWARM_FORK;
	_cleanup_free_ char *name = fn_name(l, m, false);
	struct fc_error *e = NULL;
	/* removed, then deployed anew: a redeploy would keep the old instances
	 * counted until they are gone */
	fcpool_client_rm(g->sock, name, NULL);
	int r;
	for (int i = 0; (r = deploy(g, l, m, false, 1, 20, &e)) == -EBUSY && i < 3000; i++) {
		fc_error_free(TAKE_PTR(e));
		bench_sleep_ms(5, &bench_stop);
	}
	if (r < 0) {
		path_error(g, l, p, fc_strdup(e ? e->msg : "deploy failed"));
		fc_error_free(e);
		return;
	}
	if (!settle(g, name, 1, 120)) {
		path_error(g, l, p, fc_strdup("no instance was ready within 120 s"));
		return;
	}
	struct fcpool_invoke_args a = {.name = name, .stdio = {-1, -1, -1}};
	struct fcpool_event ev = {.sock = -1};
	uint64_t t0 = fc_now_ns();
	_cleanup_close_ int conn = fcpool_client_invoke(g->sock, &a, &e);
	if (conn < 0 || fcpool_client_event(conn, &ev, &e) < 0 || ev.kind != FCPOOL_EV_CONNECTED) {
		path_error(g, l, p,
		           fc_asprintf("invoke: %s", e          ? e->msg
		                                     : ev.error ? ev.error
		                                                : "no answer"));
		fc_error_free(e);
		return;
	}
	_cleanup_close_ int fd = ev.sock;
	double ms = 0;
	r = get_root(fd, t0, &ms);
	if (r < 0)
		path_error(g, l, p, fc_asprintf("GET /: %s", strerror(-r)));
	else if (!ev.cold)
		path_error(g, l, p, fc_strdup("the instance had served before (not cold)"));
	else
		add_sample(g, l, p, ms);
}

/* ---- memory of waiting instances ---------------------------------------------------------- */

/* Whether pid is a fork-mode template: python, pid 1 of a PID namespace
 * one level below the host's (a forked instance is two levels below). */
static bool is_template(const char *pid)
{
	_cleanup_free_ char *st = fc_asprintf("/proc/%s/status", pid);
	_cleanup_free_ char *cl = fc_asprintf("/proc/%s/cmdline", pid);
	_cleanup_free_ char *text = NULL, *cmd = NULL;
	if (fc_read_file_at(AT_FDCWD, st, &text, NULL, 0, NULL) < 0 ||
	    fc_read_file_at(AT_FDCWD, cl, &cmd, NULL, 0, NULL) < 0 || !strstr(cmd, "python"))
		return false;
	const char *l = strstr(text, "\nNSpid:");
	int fields = 0;
	for (l = l ? l + 7 : NULL; l && *l && *l != '\n'; l++)
		if ((*l == ' ' || *l == '\t') && l[1] && l[1] != ' ' && l[1] != '\t')
			fields++;
	return fields == 2;
}

/* PSS (KiB) of the processes of every sandbox of fn, and their memory
 * cgroups' usage; the count of sandboxes. A fork-mode template's sandbox is
 * counted apart: its PSS in *tmpl (when not NULL). */
static unsigned sandboxes_memory_ex(struct fstate *g, const char *fn, double *pss, double *cg,
                                    double *tmpl)
{
	_cleanup_free_ char *rt = fc_asprintf("%s/runtime", g->root);
	_cleanup_free_ char *needle = fc_asprintf("-%s-", fn);
	char **ids = NULL;
	unsigned n = 0, ncg = 0;
	*pss = *cg = 0;
	if (tmpl)
		*tmpl = 0;
	if (fcrt_list(rt, &ids, NULL) < 0 || !ids)
		return 0;
	for (size_t i = 0; ids[i]; i++) {
		if (!strstr(ids[i], needle))
			continue;
		/* its cgroup, from its state: one of the function's recycled ones */
		struct fcrt_state *st = NULL;
		if (fcrt_state_load(rt, ids[i], &st, NULL) < 0)
			continue;
		_cleanup_free_ char *path = fc_strdup(st->cgroup_path ? st->cgroup_path : "");
		fcrt_state_free(st);
		/* (an exec-mode sandbox waits without a memory cgroup of its own
		 * on a host with a v1 memory hierarchy: its pids one then) */
		static const char *const bases[] = {"/sys/fs/cgroup/memory", "/sys/fs/cgroup/pids",
		                                    "/sys/fs/cgroup"};
		for (size_t b = 0; b < FC_ARRAY_SIZE(bases) && *path; b++) {
			_cleanup_free_ char *cgp = fc_asprintf("%s%s", bases[b], path);
			_cleanup_free_ char *procs = fc_asprintf("%s/cgroup.procs", cgp);
			_cleanup_free_ char *data = NULL;
			if (fc_read_file_at(AT_FDCWD, procs, &data, NULL, 0, NULL) < 0)
				continue;
			char *save = NULL;
			double kib = 0;
			bool t_sb = false;
			for (char *t = strtok_r(data, "\n", &save); t;
			     t = strtok_r(NULL, "\n", &save)) {
				_cleanup_free_ char *sm = fc_asprintf("/proc/%s/smaps_rollup", t);
				long k = bench_kib_field(sm, "\nPss:");
				if (k > 0)
					kib += (double)k;
				if (tmpl && is_template(t))
					t_sb = true;
			}
			if (t_sb) {
				*tmpl += kib;
				break; /* neither counted nor summed with the instances */
			}
			*pss += kib;
			_cleanup_free_ char *u1 =
			    fc_asprintf("/sys/fs/cgroup/memory%s/memory.usage_in_bytes", path);
			_cleanup_free_ char *u2 =
			    fc_asprintf("/sys/fs/cgroup%s/memory.current", path);
			_cleanup_free_ char *u = NULL;
			if (fc_read_file_at(AT_FDCWD, u1, &u, NULL, 0, NULL) >= 0 ||
			    fc_read_file_at(AT_FDCWD, u2, &u, NULL, 0, NULL) >= 0) {
				*cg += strtod(u, NULL) / 1024.0;
				ncg++;
			}
			n++;
			break;
		}
	}
	fc_strv_free(ids);
	if (n && !ncg)
		*cg = NAN; /* no memory cgroup of their own */
	return n;
}

static unsigned sandboxes_memory(struct fstate *g, const char *fn, double *pss, double *cg)
{
	return sandboxes_memory_ex(g, fn, pss, cg, NULL);
}

static void memory_once(struct fstate *g, enum lang l, int mode)
{
	enum fcpool_prewarm m = mem_modes[mode];
	struct mem *out = &g->mem[l][mode];
	unsigned want = (unsigned)g->waiting;
	_cleanup_free_ char *name = fn_name(l, m, true);
	struct fc_error *e = NULL;
	out->ran = true;
	if (deploy(g, l, m, true, 0, want, &e) < 0 || !settle(g, NULL, 0, 120)) {
		out->error = fc_strdup(e ? e->msg : "the pool did not settle");
		fc_error_free(e);
		return;
	}
	if (m == FCPOOL_PREWARM_FORK) {
		/* the template alone first (its PSS then counts its pages once),
		 * once it is ready */
		double p, c, t = 0;
		bool ready = false;
		for (int i = 0; i < 1200 && !ready && !bench_stop; i++) {
			struct fcpool_fn_list ls;
			bench_sleep_ms(100, &bench_stop);
			if (fcpool_client_stats(g->sock, &ls, NULL) < 0)
				continue;
			for (size_t k = 0; k < ls.n; k++)
				if (FC_STREQ(ls.fns[k].spec.name, name) &&
				    FC_STREQ(ls.fns[k].template_state, "ready"))
					ready = true;
			fcpool_fn_list_clear(&ls);
		}
		bench_sleep_ms(500, &bench_stop);
		sandboxes_memory_ex(g, name, &p, &c, &t);
		out->template_kib = t;
	}
	uint64_t t0 = fc_now_ns();
	if (fcpool_client_scale(g->sock, name, want, want, &e) < 0) {
		out->error = fc_strdup(e->msg);
		fc_error_free(e);
	} else if (!settle(g, name, want, 600)) {
		out->error = fc_asprintf("%u waiting instances not reached in 600 s", want);
	} else {
		out->ready_s = (double)(fc_now_ns() - t0) / 1e9;
		bench_sleep_ms(1000, &bench_stop); /* the last ones' init settles */
		double pss, cg, t = 0;
		out->n =
		    sandboxes_memory_ex(g, name, &pss, &cg, m == FCPOOL_PREWARM_FORK ? &t : NULL);
		/* fork mode: what the instances add to the function's PSS beyond
		 * the template alone (the shared pages' PSS moves from the
		 * template to the instances as they are forked) */
		if (m == FCPOOL_PREWARM_FORK)
			pss += t - out->template_kib;
		out->pss_kib = out->n ? pss / out->n : NAN;
		out->cg_kib = out->n ? cg / out->n : NAN;
	}
	fcpool_client_rm(g->sock, name, NULL);
	for (int i = 0; i < 3000; i++) { /* until its sandboxes are gone */
		double p, c;
		if (!sandboxes_memory(g, name, &p, &c))
			break;
		bench_sleep_ms(10, &bench_stop);
	}
}

/* ---- the report --------------------------------------------------------------------------------
 */

static void report(struct fstate *g)
{
	_cleanup_buf_ struct fc_buf h0 = {0}, h1 = {0};
	bench_host_state_text(&g->h0, &h0);
	bench_host_state_text(&g->h1, &h1);
	printf("fcstart bench functions: real HTTP functions (init: imports and ~50 MB of\n"
	       "objects), first byte of the answer of a never-used instance in ms, from the\n"
	       "start of docker run / fcrun create / the invoke; %d rounds in random order\n"
	       "host at the start: %s\nhost at the end:   %s\n\n",
	       g->rounds, h0.data ? h0.data : "?", h1.data ? h1.data : "?");
	printf("| function | path | n | p50 | p99 | min | max |\n"
	       "| --- | --- | ---: | ---: | ---: | ---: | ---: |\n");
	struct bench_summary sum[L_N][P_N];
	for (int l = 0; l < L_N; l++)
		for (int p = 0; p < P_N; p++) {
			bench_summarise(g->v[l][p], g->nv[l][p], &sum[l][p]);
			if (p == P_DOCKER && !g->docker)
				printf(
				    "| %s | %s | 0 | | | | |\n|   (left out: %s) | | | | | | |\n",
				    lang_names[l], path_names[p],
				    g->err[l][p] ? g->err[l][p] : "--no-docker");
			else if (g->nv[l][p])
				printf("| %s | %s | %zu | %.1f | %.1f | %.1f | %.1f |\n",
				       lang_names[l], path_names[p], sum[l][p].n, sum[l][p].median,
				       sum[l][p].p99, sum[l][p].min, sum[l][p].max);
			else
				printf("| %s | %s | 0 | | | | |\n", lang_names[l], path_names[p]);
			if (g->err[l][p] && (p != P_DOCKER || g->docker))
				printf("|   (%s) | | | | | | |\n", g->err[l][p]);
		}
	if (g->waiting > 0) {
		printf("\n| function | pool mode | waiting instances | made ready in s | per s | "
		       "PSS per instance MiB | cgroup memory per instance MiB |\n"
		       "| --- | --- | ---: | ---: | ---: | ---: | ---: |\n");
		for (int l = 0; l < L_N; l++)
			for (int m = 0; m < M_N; m++) {
				const struct mem *x = &g->mem[l][m];
				const char *mode = fcpool_prewarm_name(mem_modes[m]);
				if (!x->ran)
					continue;
				if (x->error || !x->n)
					printf("| %s | %s | 0 | | | | (%s) |\n", lang_names[l],
					       mode, x->error ? x->error : "no sandbox found");
				else {
					char cg[48];
					if (isnan(x->cg_kib))
						snprintf(cg, sizeof(cg),
						         "none (joined at the hand-over)");
					else
						snprintf(cg, sizeof(cg), "%.2f", x->cg_kib / 1024);
					printf("| %s | %s | %u | %.2f | %.1f | %.2f | %s |\n",
					       lang_names[l], mode, x->n, x->ready_s,
					       x->n / x->ready_s, x->pss_kib / 1024, cg);
				}
				if (x->ran && !x->error && x->n &&
				    mem_modes[m] == FCPOOL_PREWARM_FORK)
					printf(
					    "| %s | fork: the template alone | 1 | | | %.2f | |\n",
					    lang_names[l], x->template_kib / 1024);
			}
	}
	printf("\nagainst the targets:\n");
	for (int l = 0; l < L_N; l++) {
		if (g->nv[l][P_STARTED])
			printf(
			    "- %s, started mode, p99 %.1f ms to the first answer of a never-used "
			    "instance: %s (target <= 10 ms); exec at the hand-over p50 %.1f ms\n",
			    lang_names[l], sum[l][P_STARTED].p99,
			    sum[l][P_STARTED].p99 <= 10 ? "met" : "missed", sum[l][P_EXEC].median);
		if (g->nv[l][P_FORK])
			printf("- %s, fork mode, p99 %.1f ms to the first answer of a never-used "
			       "instance: %s (target <= 10 ms)\n",
			       lang_names[l], sum[l][P_FORK].p99,
			       sum[l][P_FORK].p99 <= 10 ? "met" : "missed");
		for (int m = 1; m < M_N; m++) {
			const struct mem *x = &g->mem[l][m];
			const char *mode = fcpool_prewarm_name(mem_modes[m]);
			if (!x->ran || !x->n || x->error)
				continue;
			printf("- %s, %s mode: %.1f instances made ready per s (refill; target "
			       ">= 50/s: %s)\n",
			       lang_names[l], mode, x->n / x->ready_s,
			       x->n / x->ready_s >= 50 ? "met" : "missed");
			if (mem_modes[m] == FCPOOL_PREWARM_FORK)
				printf(
				    "- %s, fork mode: %.2f MiB of PSS per waiting instance beyond "
				    "the template (%.1f MiB alone): %s (target <= 4 MiB)\n",
				    lang_names[l], x->pss_kib / 1024, x->template_kib / 1024,
				    x->pss_kib <= 4096 ? "met" : "missed");
		}
	}
}

/* ---- the chart --------------------------------------------------------------------------------
 */

/* x of ms on a log scale from 0.1 ms to 10 s over [x0, x0 + w] */
static double xlog(double ms, double x0, double w)
{
	double v = log10(ms < 0.1 ? 0.1 : ms > 10000 ? 10000 : ms);
	return x0 + (v + 1) / 5 * w;
}

/* One bar per function and path: the median, a whisker to the p99. */
static int write_svg(struct fstate *g, const char *path, struct fc_error **err)
{
	const double x0 = 330, w = 520, bh = 16, gap = 6, top = 50;
	int rows = L_N * P_N;
	double height = top + rows * (bh + gap) + 50;
	struct fc_buf b = {0};
	fc_buf_printf(&b,
	              "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"900\" height=\"%.0f\" "
	              "font-family=\"sans-serif\" font-size=\"12\">\n"
	              "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
	              "<text x=\"10\" y=\"20\" font-size=\"14\">First answer of a never-used "
	              "instance, ms (bar: median, line: p99; log scale)</text>\n",
	              height);
	for (int t = 0; t <= 5; t++) {
		double ms = pow(10, t - 1), x = xlog(ms, x0, w);
		fc_buf_printf(&b,
		              "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" "
		              "stroke=\"#ddd\"/>\n<text x=\"%.1f\" y=\"%.0f\" "
		              "text-anchor=\"middle\">%g</text>\n",
		              x, top - 8, x, height - 40, x, height - 25, ms);
	}
	static const char *const colour[P_N] = {"#888888", "#5b8bd0", "#e0a030", "#3a9a50",
	                                        "#9a3ab0"};
	int row = 0;
	for (int l = 0; l < L_N; l++)
		for (int p = 0; p < P_N; p++, row++) {
			double y = top + row * (bh + gap);
			fc_buf_printf(
			    &b, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%s, %s</text>\n",
			    x0 - 8, y + bh - 4, lang_names[l], path_names[p]);
			if (!g->nv[l][p])
				continue;
			struct bench_summary s;
			double *v = fc_malloc(g->nv[l][p] * sizeof(double));
			memcpy(v, g->v[l][p], g->nv[l][p] * sizeof(double));
			bench_summarise(v, g->nv[l][p], &s);
			free(v);
			double xm = xlog(s.median, x0, w), x9 = xlog(s.p99, x0, w);
			fc_buf_printf(
			    &b,
			    "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.0f\" "
			    "fill=\"%s\"/>\n<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
			    "y2=\"%.1f\" stroke=\"black\"/>\n<text x=\"%.1f\" y=\"%.1f\">%.1f"
			    "</text>\n",
			    x0, y, xm - x0, bh, colour[p], xm, y + bh / 2, x9, y + bh / 2, x9 + 4,
			    y + bh - 4, s.median);
		}
	fc_buf_printf(&b, "</svg>\n");
	int r = fc_write_file_atomic_at(AT_FDCWD, path, b.data, b.len, 0644, err);
	free(b.data);
	return r;
}

/* ---- the command ----------------------------------------------------------------------------- */

int bench_functions_cmd(int argc, char **argv)
{
	static const struct option lo[] = {{"python", required_argument, NULL, 'p'},
	                                   {"node", required_argument, NULL, 'j'},
	                                   {"cold", required_argument, NULL, 'c'},
	                                   {"rounds", required_argument, NULL, 'r'},
	                                   {"waiting", required_argument, NULL, 'w'},
	                                   {"no-docker", no_argument, NULL, 'D'},
	                                   {"svg", required_argument, NULL, 's'},
	                                   {"help", no_argument, NULL, 'h'},
	                                   {0}};
	struct fstate g = {.cold = 20, .rounds = 5, .waiting = 20, .docker = true, .daemon = -1};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'p':
			g.layout[L_PY] = optarg;
			break;
		case 'j':
			g.layout[L_NODE] = optarg;
			break;
		case 'c':
			if (bench_parse_int("functions", "--cold", optarg, 1, &g.cold) < 0)
				return 2;
			break;
		case 'r':
			if (bench_parse_int("functions", "--rounds", optarg, 1, &g.rounds) < 0)
				return 2;
			break;
		case 'w':
			if (bench_parse_int("functions", "--waiting", optarg, 0, &g.waiting) < 0)
				return 2;
			break;
		case 'D':
			g.docker = false;
			break;
		case 's':
			g.svg = optarg;
			break;
		case 'h':
			fputs(functions_usage, stdout);
			return 0;
		default:
			fputs(functions_usage, stderr);
			return 2;
		}
	}
	if (optind < argc || !g.layout[L_PY] || !g.layout[L_NODE]) {
		fputs(functions_usage, stderr);
		return 2;
	}
	if (getuid() != 0) {
		fprintf(stderr, "fcstart bench functions: needs root\n");
		return 1;
	}
	if (!(g.self = bench_self_exe())) {
		fprintf(stderr, "fcstart bench functions: cannot find this fcstart binary: %s\n",
		        strerror(errno));
		return 1;
	}
	g.fcrun = bench_default_fcrun();
	if (!g.fcrun) {
		fprintf(stderr, "fcstart bench functions: no fcrun found ($FCRUN)\n");
		free(g.self);
		return 1;
	}
	if (g.docker && bench_engine_missing(true)) {
		fprintf(stderr, "fcstart bench functions: no %s: docker run is left out\n",
		        bench_engine_missing(true));
		g.docker = false;
		for (int l = 0; l < L_N; l++)
			g.err[l][P_DOCKER] = fc_asprintf("no %s", bench_engine_missing(true));
	}
	const char *tmp = getenv("TMPDIR");
	_cleanup_free_ char *tmpl =
	    fc_asprintf("%s/fcstart-bench-functions.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(tmpl)) {
		fprintf(stderr, "fcstart bench functions: mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	g.dir = TAKE_PTR(tmpl);
	chmod(g.dir, 0711); /* the sandboxes' roots pass through */
	g.root = fc_asprintf("%s/root", g.dir);
	g.sock = fc_asprintf("%s/api.sock", g.dir);
	g.store = fc_asprintf("%s/store", g.dir);
	g.fcrun_root = fc_asprintf("%s/fcrun", g.dir);
	bench_host_state(&g.h0);
	struct bench_session session;
	bench_session_begin(&session, true);
	int rc = 1, rounds_done = 0;
	struct fc_error *e = NULL;
	struct fcsnap_store *store = NULL;
	if (fcsnap_store_open(g.store, &store, &e) < 0)
		goto fail;
	for (int l = 0; l < L_N; l++) {
		struct fcsnap_import_opts io = {.name = lang_short[l]};
		if (fcsnap_import(store, g.layout[l], &io, NULL, &e) < 0) {
			fc_error_wrap(&e, "import `%s`", g.layout[l]);
			goto fail;
		}
	}
	if (start_daemon(&g, &e) < 0)
		goto fail;
	for (int l = 0; l < L_N; l++)
		if (deploy(&g, l, FCPOOL_PREWARM_EXEC, false, 1, 20, &e) < 0 ||
		    deploy(&g, l, FCPOOL_PREWARM_STARTED, false, 1, 20, &e) < 0 ||
		    (l == L_PY && deploy(&g, l, FCPOOL_PREWARM_FORK, false, 1, 20, &e) < 0))
			goto fail;
	/* fork mode is for Python (fcstart's helper module) */
	g.err[L_NODE][P_FORK] = fc_strdup("left out: fork mode is for Python");
	if (g.docker && start_docker(&g, &e) < 0) {
		fprintf(stderr, "fcstart bench functions: docker run is left out: %s\n", e->msg);
		for (int l = 0; l < L_N; l++)
			g.err[l][P_DOCKER] = fc_strdup(e->msg);
		fc_error_free(TAKE_PTR(e));
		g.docker = false;
	}
	uint64_t seed = bench_seed();
	fprintf(stderr, "functions: %d rounds, %d never-used instances per function and path...\n",
	        g.rounds, g.cold);
	for (int r = 0; r < g.rounds && !bench_stop; r++, rounds_done++) {
		size_t idx[L_N * P_N];
		for (size_t i = 0; i < L_N * P_N; i++)
			idx[i] = i;
		bench_shuffle(idx, L_N * P_N, &seed);
		int k = g.cold / g.rounds + (r < g.cold % g.rounds);
		for (size_t i = 0; i < L_N * P_N && !bench_stop; i++) {
			enum lang l = (enum lang)(idx[i] / P_N);
			enum path p = (enum path)(idx[i] % P_N);
			for (int j = 0; j < k && !bench_stop; j++) {
				settle(&g, NULL, 0, 120); /* no init running beside the sample */
				if (p == P_DOCKER && g.docker)
					docker_once(&g, l);
				else if (p == P_FCRUN)
					fcrun_once(&g, l);
				else if (p == P_EXEC || p == P_STARTED ||
				         (p == P_FORK && l == L_PY))
					pool_once(&g, l, p);
			}
		}
	}
	if (g.waiting > 0 && !bench_stop) {
		fprintf(stderr, "functions: the memory of %d waiting instances per mode...\n",
		        g.waiting);
		size_t idx[L_N * M_N];
		for (size_t i = 0; i < L_N * M_N; i++)
			idx[i] = i;
		bench_shuffle(idx, L_N * M_N, &seed);
		for (size_t i = 0; i < L_N * M_N && !bench_stop; i++) {
			enum lang l = (enum lang)(idx[i] / M_N);
			int m = (int)(idx[i] % M_N);
			if (mem_modes[m] != FCPOOL_PREWARM_FORK || l == L_PY)
				memory_once(&g, l, m);
		}
	}
	bench_host_state(&g.h1);
	if (!bench_stop)
		report(&g);
	if (!bench_stop && g.svg && write_svg(&g, g.svg, &e) < 0) {
		fprintf(stderr, "fcstart bench functions: %s\n", e->msg);
		fc_error_free(TAKE_PTR(e));
	}
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "fcstart bench functions: %s\n", e ? e->msg : "?");
out:
	if (g.eng_up) {
		char *ps[] = {g.eng.docker, "--host",   g.eng.docker_host,         "ps",
		              "-aq",        "--filter", "label=fcbench=functions", NULL};
		struct bench_exec x = BENCH_EXEC_INIT(ps);
		x.out = BENCH_EXEC_PIPE;
		x.timeout_s = 30;
		if (bench_exec(&x) == 0 && x.output.len) {
			char *save = NULL;
			for (char *t = strtok_r(x.output.buf, "\n", &save); t;
			     t = strtok_r(NULL, "\n", &save)) {
				char *rm[] = {
				    g.eng.docker, "--host", g.eng.docker_host, "rm", "-f", t, NULL};
				bench_exec_quiet(rm, 60, NULL);
			}
		}
		bench_engine_stop(&g.eng);
		bench_engine_free(&g.eng);
	}
	stop_daemon(&g);
	fcsnap_store_free(store);
	fc_error_free(TAKE_PTR(e));
	bench_unmount_under(g.dir);
	if (fc_rm_rf_at(AT_FDCWD, g.dir, &e) < 0)
		fprintf(stderr, "fcstart bench functions: %s\n", e->msg);
	fc_error_free(e);
	for (int l = 0; l < L_N; l++) {
		free(g.docker_image[l]);
		for (int p = 0; p < P_N; p++) {
			free(g.v[l][p]);
			free(g.err[l][p]);
		}
		for (int m = 0; m < M_N; m++)
			free(g.mem[l][m].error);
	}
	free(g.dir);
	free(g.root);
	free(g.sock);
	free(g.store);
	free(g.self);
	free(g.fcrun);
	free(g.fcrun_root);
	return bench_session_end(&session, "functions", rounds_done, rc);
}
