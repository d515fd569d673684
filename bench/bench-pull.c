/* SPDX-License-Identifier: MIT */
/* bench-pull.c: `fcstart bench pull`: uncached cold starts of an image that
 * is in a registry, to the first response, side by side.
 *
 * The registry (Debian's docker-registry, its storage on a tmpfs) runs in a
 * network namespace of our own, reached through a veth pair whose namespace
 * end is shaped with tc (tbf) at each rate asked for, so the link is the
 * bottleneck as it is in real deployments. The addresses are 198.18.0.1/30
 * (ours) and 198.18.0.2/30 (the registry's), from the range set aside for
 * benchmarks (RFC 2544); nothing leaves the veth.
 *
 * Paths, each from an empty store or cache with the page cache dropped:
 *   floor       the same blobs (layers and config) fetched by one curl in
 *               parallel to /dev/null: the transfer alone
 *   fcstart     `fcstart image pull` (layers unpacked while they download),
 *               `fcstart fn deploy` to a private `fcstart serve`, `fcstart
 *               invoke` to the first byte of the response
 *   docker      `docker pull`, `docker run --rm --network none` (private dockerd)
 *   containerd  `ctr image pull --plain-http`, `ctr run --rm` (private containerd)
 *   skopeo      `skopeo copy` to an OCI layout, `umoci unpack`, `crun run`
 * Every round visits the rates in random order and the paths in random order.
 * Everything (daemons, registry, namespace, qdisc, mounts, files) is removed
 * at the end, also after a failure or a signal. */
#include "bench-pull.h"
#include "bench.h"

#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#define HOST_ADDR "198.18.0.1"
#define REG_ADDR  "198.18.0.2"
#define REG_HOST  REG_ADDR ":5000"
#define REPO      "bench/pull"
#define REF       REG_HOST "/" REPO ":1"
#define FN        "bp"
#define NS_CTR    "fcbp"
#define MAX_RATES 4

enum { P_FLOOR = 0, P_FCSTART, P_DOCKER, P_CTR, P_SKOPEO, NPATHS };
static const char *const path_names[NPATHS] = {"floor", "fcstart", "docker", "containerd",
                                               "skopeo"};
static const char *const path_titles[NPATHS] = {
    "transfer floor (curl, blobs in parallel)", "fcstart image pull + pool (deploy, invoke)",
    "docker pull + docker run", "ctr image pull + ctr run",
    "skopeo copy + umoci unpack + crun run"};

struct cell {
	double *total, *pull, *run; /* ms */
	long *rss;                  /* KiB of the pull's process */
	size_t n;
	char *error;
};

struct bp {
	/* options */
	const char *image;
	char **rates; /* "1gbit", "100mbit" */
	size_t n_rates;
	bool want[NPATHS];
	int rounds;
	double timeout_s;
	const char *workdir_parent;
	const char *out;
	/* state */
	char *self, *fcrun;
	char *dir;
	char ns[32], veth_h[16], veth_n[16];
	bool ns_made, veth_made, tmpfs_mounted;
	pid_t reg, serve;
	char *regdata, *store, *serve_root, *sock;
	struct bench_engine eng;
	bool eng_inited, eng_docker_ok;
	struct bench_host_fix host;
	bool host_fixed;
	char *crun;
	char *skopeo_note; /* when runc stood in for crun */
	char *why[NPATHS];
	char **urls;
	uint64_t bytes;
	struct cell cells[MAX_RATES][NPATHS];
	int rounds_done;
	char *started;
	double load0, load1;
};

/* ---- small helpers ------------------------------------------------------- */

static int run_quiet(struct bp *B, struct fc_error **err, char *const argv[])
{
	return bench_exec_quiet(argv, B->timeout_s, err);
}

/* ip netns exec NS ARGV... */
static int in_ns(struct bp *B, struct fc_error **err, char *const argv[])
{
	char *v[24] = {"/usr/sbin/ip", "netns", "exec", B->ns};
	size_t n = 4;
	for (size_t i = 0; argv[i] && n < 23; i++)
		v[n++] = argv[i];
	v[n] = NULL;
	return run_quiet(B, err, v);
}

static double loadavg(void)
{
	double l = -1;
	FILE *f = fopen("/proc/loadavg", "re");
	if (f) {
		if (fscanf(f, "%lf", &l) != 1)
			l = -1;
		fclose(f);
	}
	return l;
}

static int drop_caches(struct fc_error **err)
{
	sync();
	return fc_write_string_at(AT_FDCWD, "/proc/sys/vm/drop_caches", "3", err);
}

/* ---- the registry in its namespace ------------------------------------------ */

static int net_up(struct bp *B, struct fc_error **err)
{
	int r;
	snprintf(B->ns, sizeof(B->ns), "fcbp-%d", (int)getpid());
	snprintf(B->veth_h, sizeof(B->veth_h), "fcbp%dh", (int)getpid() % 100000);
	snprintf(B->veth_n, sizeof(B->veth_n), "fcbp%dn", (int)getpid() % 100000);
	char *add[] = {"/usr/sbin/ip", "netns", "add", B->ns, NULL};
	if ((r = run_quiet(B, err, add)) < 0)
		return r;
	B->ns_made = true;
	char *veth[] = {"/usr/sbin/ip", "link", "add",  B->veth_h, "type",
	                "veth",         "peer", "name", B->veth_n, NULL};
	if ((r = run_quiet(B, err, veth)) < 0)
		return r;
	B->veth_made = true;
	char *mv[] = {"/usr/sbin/ip", "link", "set", B->veth_n, "netns", B->ns, NULL};
	char *a1[] = {"/usr/sbin/ip", "addr", "add", HOST_ADDR "/30", "dev", B->veth_h, NULL};
	char *u1[] = {"/usr/sbin/ip", "link", "set", B->veth_h, "up", NULL};
	char *a2[] = {"ip", "addr", "add", REG_ADDR "/30", "dev", B->veth_n, NULL};
	char *u2[] = {"ip", "link", "set", B->veth_n, "up", NULL};
	char *lo[] = {"ip", "link", "set", "lo", "up", NULL};
	if ((r = run_quiet(B, err, mv)) < 0 || (r = run_quiet(B, err, a1)) < 0 ||
	    (r = run_quiet(B, err, u1)) < 0 || (r = in_ns(B, err, a2)) < 0 ||
	    (r = in_ns(B, err, u2)) < 0 || (r = in_ns(B, err, lo)) < 0)
		return r;
	return 0;
}

/* tbf on the registry's side: what it sends (the blobs) goes at rate */
static int shape(struct bp *B, const char *rate, struct fc_error **err)
{
	/* a bucket of 4 ms of the rate, at least 64 KB (the timer's granularity) */
	uint64_t bps = 0;
	char unit[16] = "";
	double v = 0;
	if (sscanf(rate, "%lf%15s", &v, unit) >= 1) {
		double m = !strcasecmp(unit, "gbit")   ? 1e9
		           : !strcasecmp(unit, "mbit") ? 1e6
		           : !strcasecmp(unit, "kbit") ? 1e3
		                                       : 1;
		bps = (uint64_t)(v * m);
	}
	uint64_t burst = bps / 8 / 250;
	if (burst < 65536)
		burst = 65536;
	char b[32];
	snprintf(b, sizeof(b), "%llu", (unsigned long long)burst);
	char *tc[] = {"tc",   "qdisc",      "replace", "dev", B->veth_n, "root", "tbf",
	              "rate", (char *)rate, "burst",   b,     "latency", "50ms", NULL};
	return in_ns(B, err, tc);
}

static int registry_up(struct bp *B, struct fc_error **err)
{
	int r;
	B->regdata = fc_asprintf("%s/registry", B->dir);
	if ((r = fc_mkdir_p_at(AT_FDCWD, B->regdata, 0700, err)) < 0)
		return r;
	if (mount("tmpfs", B->regdata, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700") < 0)
		return fc_error_set(err, errno, "mount a tmpfs on `%s`", B->regdata);
	B->tmpfs_mounted = true;
	_cleanup_free_ char *cfg = fc_asprintf("%s/registry.yml", B->dir);
	_cleanup_free_ char *yml = fc_asprintf("version: 0.1\nlog:\n  level: warn\n"
	                                       "storage:\n  filesystem:\n    rootdirectory: %s\n"
	                                       "http:\n  addr: " REG_HOST "\n",
	                                       B->regdata);
	if ((r = fc_write_file_atomic_at(AT_FDCWD, cfg, yml, strlen(yml), 0600, err)) < 0)
		return r;
	_cleanup_free_ char *log = fc_asprintf("%s/registry.log", B->dir);
	char *argv[] = {"/usr/sbin/ip", "netns", "exec", B->ns, "/usr/bin/docker-registry",
	                "serve",        cfg,     NULL};
	B->reg = bench_spawn_daemon(argv, log);
	if (B->reg < 0)
		return fc_error_set(err, -B->reg, "start docker-registry");
	char *curl[] = {"/usr/bin/curl", "-sf", "-o", "/dev/null", "http://" REG_HOST "/v2/", NULL};
	for (int i = 0; i < 100 && !bench_stop; i++) {
		if (bench_exec_quiet(curl, 5, NULL) == 0)
			return 0;
		bench_sleep_ms(100, &bench_stop);
	}
	return fc_error_set(err, ETIMEDOUT, "docker-registry did not answer at %s", REG_HOST);
}

/* push the image, and list its blobs for the floor */
static int registry_fill(struct bp *B, struct fc_error **err)
{
	int r;
	struct stat st;
	if (stat(B->image, &st) < 0)
		return fc_error_set(err, errno, "--image `%s`", B->image);
	_cleanup_free_ char *src =
	    fc_asprintf("%s:%s", S_ISDIR(st.st_mode) ? "oci" : "oci-archive", B->image);
	_cleanup_free_ char *pol = fc_asprintf("%s/policy.json", B->dir);
	const char *pj = "{\"default\":[{\"type\":\"insecureAcceptAnything\"}]}\n";
	if ((r = fc_write_file_atomic_at(AT_FDCWD, pol, pj, strlen(pj), 0600, err)) < 0)
		return r;
	char *cp[] = {
	    "/usr/bin/skopeo", "--policy", pol, "copy", "--quiet", "--dest-tls-verify=false", src,
	    "docker://" REF,   NULL};
	if ((r = bench_exec_quiet(cp, 300, err)) < 0)
		return fc_error_wrap(err, "push the image");
	/* the platform manifest's blobs */
	_cleanup_close_ int mfd = memfd_create("bp-manifest", MFD_CLOEXEC);
	char *get[] = {"/usr/bin/curl",
	               "-sf",
	               "-H",
	               "Accept: application/vnd.oci.image.manifest.v1+json, "
	               "application/vnd.docker.distribution.manifest.v2+json",
	               "http://" REG_HOST "/v2/" REPO "/manifests/1",
	               NULL};
	struct bench_exec x = BENCH_EXEC_INIT(get);
	x.out = mfd;
	x.timeout_s = 30;
	if (bench_exec(&x) < 0 || x.status != 0)
		return bench_exec_error(&x, err, "read the pushed manifest");
	char *jq[] = {"/usr/bin/jq", "-r",
	              ".config.digest, .config.size, (.layers[] | .digest, .size)", NULL};
	lseek(mfd, 0, SEEK_SET);
	_cleanup_close_ int lfd = memfd_create("bp-blobs", MFD_CLOEXEC);
	struct bench_exec y = BENCH_EXEC_INIT(jq);
	y.in = mfd;
	y.out = lfd;
	y.timeout_s = 30;
	if (bench_exec(&y) < 0 || y.status != 0)
		return bench_exec_error(
		    &y, err, "jq of the manifest (an index? use a single-platform image)");
	char buf[8192];
	ssize_t n = pread(lfd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = 0;
	size_t k = 0;
	B->urls = fc_calloc(130, sizeof(char *));
	for (char *save = NULL, *d = strtok_r(buf, "\n", &save); d && k < 128;
	     d = strtok_r(NULL, "\n", &save)) {
		char *sz = strtok_r(NULL, "\n", &save);
		if (!sz)
			break;
		B->urls[k++] = fc_asprintf("http://" REG_HOST "/v2/" REPO "/blobs/%s", d);
		B->bytes += strtoull(sz, NULL, 10);
	}
	if (k < 2)
		return fc_error_set(err, EINVAL, "the pushed manifest lists no layers");
	return 0;
}

/* ---- the paths' daemons ---------------------------------------------------------- */

static int serve_up(struct bp *B, struct fc_error **err)
{
	B->serve_root = fc_asprintf("%s/serve", B->dir);
	B->store = fc_asprintf("%s/store", B->dir);
	B->sock = fc_asprintf("%s/serve/fcstart.sock", B->dir);
	_cleanup_free_ char *log = fc_asprintf("%s/serve.log", B->dir);
	char *argv[] = {B->self,  "serve",    "--root", B->serve_root, "--store",
	                B->store, "--socket", B->sock,  NULL};
	B->serve = bench_spawn_daemon(argv, log);
	if (B->serve < 0)
		return fc_error_set(err, -B->serve, "start fcstart serve");
	char *ls[] = {B->self, "fn", "--socket", B->sock, "ls", NULL};
	for (int i = 0; i < 100 && !bench_stop; i++) {
		if (bench_exec_quiet(ls, 5, NULL) == 0)
			return 0;
		bench_sleep_ms(100, &bench_stop);
	}
	return fc_error_set(err, ETIMEDOUT, "fcstart serve did not answer on `%s`", B->sock);
}

/* ---- one measurement ---------------------------------------------------------------- */

struct sample {
	double total, pull, run;
	long rss;
};

/* argv timed to its exit; 0 or -errno with err */
static int timed(struct bp *B, char *const argv[], const char *what, double *ms, long *rss,
                 struct fc_error **err)
{
	struct bench_exec x = BENCH_EXEC_INIT(argv);
	x.timeout_s = B->timeout_s;
	x.stop = &bench_stop;
	if (bench_exec(&x) < 0 || x.status != 0)
		return bench_exec_error(&x, err, what);
	*ms = x.ms;
	if (rss)
		*rss = x.maxrss_kib;
	return 0;
}

/* argv timed to the first byte of its stdout */
static int first_byte(struct bp *B, char *const argv[], const char *what, double *ms,
                      struct fc_error **err)
{
	struct bench_exec x = BENCH_EXEC_INIT(argv);
	x.out = BENCH_EXEC_PIPE;
	x.timeout_s = B->timeout_s;
	x.stop = &bench_stop;
	if (bench_exec(&x) < 0 || x.status != 0 || x.output.first_ms < 0)
		return bench_exec_error(&x, err, what);
	if (!strstr(x.output.buf, "ready"))
		return fc_error_set(err, EPROTO, "%s: unexpected output `%.60s`", what,
		                    x.output.buf);
	*ms = x.output.first_ms;
	return 0;
}

/* untimed: back to an empty store / cache for the path */
static void reset_path(struct bp *B, int p)
{
	if (p == P_FCSTART) {
		char *rm[] = {B->self, "fn", "--socket", B->sock, "rm", FN, NULL};
		bench_exec_quiet(rm, 30, NULL);
		char *irm[] = {B->self, "image", "--store", B->store, "rm", REF, NULL};
		bench_exec_quiet(irm, 30, NULL);
		/* the function's sandboxes go in the background, and gc keeps the
		 * layers of a mounted rootfs: until the store is empty */
		char *gc[] = {B->self, "image", "--store", B->store, "gc", NULL};
		_cleanup_free_ char *layers = fc_asprintf("%s/layers", B->store);
		for (int i = 0; i < 200 && !bench_stop; i++) {
			bench_exec_quiet(gc, 60, NULL);
			DIR *d = opendir(layers);
			bool empty = true;
			struct dirent *de;
			while (d && (de = readdir(d)))
				empty &= de->d_name[0] == '.';
			if (d)
				closedir(d);
			if (empty)
				break;
			bench_sleep_ms(100, &bench_stop);
		}
	} else if (p == P_DOCKER) {
		char *rmi[] = {B->eng.docker, "--host", B->eng.docker_host, "rmi", "-f", REF, NULL};
		bench_exec_quiet(rmi, 60, NULL);
	} else if (p == P_CTR) {
		char *rmi[] = {BENCH_CTR, "--address", B->eng.ctd_sock, "-n", NS_CTR,
		               "images",  "rm",        "--sync",        REF,  NULL};
		bench_exec_quiet(rmi, 60, NULL);
	} else if (p == P_SKOPEO) {
		_cleanup_free_ char *d = fc_asprintf("%s/skopeo", B->dir);
		fc_rm_rf_at(AT_FDCWD, d, NULL);
	}
}

static int measure(struct bp *B, int p, struct sample *s, struct fc_error **err)
{
	int r;
	*s = (struct sample){.run = -1, .rss = -1};
	reset_path(B, p);
	if ((r = drop_caches(err)) < 0)
		return r;
	unsigned long seq = (unsigned long)fc_now_ns();
	_cleanup_free_ char *id = fc_asprintf("fcbp-%d-%lu", (int)getpid(), seq % 1000000);
	if (p == P_FLOOR) {
		char *v[300] = {"/usr/bin/curl",  "-sf", "--no-progress-meter", "--parallel",
		                "--parallel-max", "8"};
		size_t n = 6;
		for (size_t i = 0; B->urls[i] && n < 296; i++) {
			v[n++] = "-o";
			v[n++] = "/dev/null";
			v[n++] = B->urls[i];
		}
		v[n] = NULL;
		if ((r = timed(B, v, "curl", &s->pull, NULL, err)) < 0)
			return r;
		s->total = s->pull;
		return 0;
	}
	if (p == P_FCSTART) {
		char *pull[] = {B->self,
		                "image",
		                "--store",
		                B->store,
		                "pull",
		                "--quiet",
		                "--insecure-registry",
		                REG_HOST,
		                REF,
		                NULL};
		double dep;
		char *deploy[] = {B->self, "fn", "--socket", B->sock, "deploy",     FN,  "--image",
		                  REF,     "--", "/bin/sh",  "-c",    "echo ready", NULL};
		char *inv[] = {B->self, "invoke", "--socket", B->sock, FN, NULL};
		if ((r = timed(B, pull, "fcstart image pull", &s->pull, &s->rss, err)) < 0 ||
		    (r = timed(B, deploy, "fcstart fn deploy", &dep, NULL, err)) < 0 ||
		    (r = first_byte(B, inv, "fcstart invoke", &s->run, err)) < 0)
			return r;
		s->run += dep;
	} else if (p == P_DOCKER) {
		char *pull[] = {B->eng.docker, "--host", B->eng.docker_host, "pull", "-q",
		                REF,           NULL};
		char *run[] = {
		    B->eng.docker, "--host", B->eng.docker_host, "run", "--rm",       "--network",
		    "none",        REF,      "/bin/sh",          "-c",  "echo ready", NULL};
		if ((r = timed(B, pull, "docker pull", &s->pull, &s->rss, err)) < 0 ||
		    (r = first_byte(B, run, "docker run", &s->run, err)) < 0)
			return r;
	} else if (p == P_CTR) {
		char *pull[] = {BENCH_CTR, "--address", B->eng.ctd_sock, "-n", NS_CTR,
		                "images",  "pull",      "--plain-http",  REF,  NULL};
		char *run[] = {
		    BENCH_CTR, "--address", B->eng.ctd_sock, "-n", NS_CTR,       "run", "--rm",
		    REF,       id,          "/bin/sh",       "-c", "echo ready", NULL};
		if ((r = timed(B, pull, "ctr images pull", &s->pull, &s->rss, err)) < 0 ||
		    (r = first_byte(B, run, "ctr run", &s->run, err)) < 0)
			return r;
	} else {
		_cleanup_free_ char *d = fc_asprintf("%s/skopeo", B->dir);
		_cleanup_free_ char *layout = fc_asprintf("oci:%s/layout:bench", d);
		_cleanup_free_ char *img = fc_asprintf("%s/layout:bench", d);
		_cleanup_free_ char *bundle = fc_asprintf("%s/bundle", d);
		_cleanup_free_ char *rootfs = fc_asprintf("%s/bundle/rootfs", d);
		_cleanup_free_ char *pol = fc_asprintf("%s/policy.json", B->dir);
		_cleanup_free_ char *croot = fc_asprintf("%s/crun-root", B->dir);
		fc_mkdir_p_at(AT_FDCWD, d, 0700, NULL);
		char *cp[] = {"/usr/bin/skopeo",        "--policy",      pol,    "copy", "--quiet",
		              "--src-tls-verify=false", "docker://" REF, layout, NULL};
		char *un[] = {"/usr/bin/umoci", "unpack", "--image", img, bundle, NULL};
		double t1, t2;
		if ((r = timed(B, cp, "skopeo copy", &t1, &s->rss, err)) < 0 ||
		    (r = timed(B, un, "umoci unpack", &t2, NULL, err)) < 0)
			return r;
		s->pull = t1 + t2;
		/* not timed: the container prints one line, no terminal */
		char *args[] = {"/bin/sh", "-c", "echo ready", NULL};
		struct bench_variant_opts vo = {.rootfs_abs = rootfs, .netns = 1, .args = args};
		if ((r = bench_write_variant(bundle, bundle, &vo, err)) < 0)
			return r;
		char *run[] = {B->crun, "--root", croot, "run", "--bundle", bundle, id, NULL};
		r = first_byte(B, run, "crun run", &s->run, err);
		char *del[] = {B->crun, "--root", croot, "delete", "-f", id, NULL};
		bench_exec_quiet(del, 30, NULL);
		if (r < 0 && strstr((*err)->msg, "hybrid") && !B->skopeo_note) {
			/* crun 1.8 refuses a hybrid host whose cgroup2 holds a
			 * controller that could not be moved: runc runs the bundle */
			_cleanup_free_ char *runc = bench_find_in_path("runc");
			if (runc) {
				B->skopeo_note =
				    fc_asprintf("crun refused this host (%s); runc ran "
				                "the bundle instead",
				                (*err)->msg);
				fc_error_free(*err);
				*err = NULL;
				free(B->crun);
				B->crun = TAKE_PTR(runc);
				run[0] = del[0] = B->crun;
				r = first_byte(B, run, "runc run", &s->run, err);
				bench_exec_quiet(del, 30, NULL);
			}
		}
		if (r < 0)
			return r;
	}
	s->total = s->pull + s->run;
	return 0;
}

/* ---- setup and teardown ------------------------------------------------------------------ */

static void teardown(struct bp *B)
{
	bench_stop_pid(&B->serve, SIGTERM, 5);
	if (B->serve_root) {
		char *cl[] = {B->self, "serve", "--root", B->serve_root, "--cleanup", NULL};
		bench_exec_quiet(cl, 60, NULL);
	}
	if (B->eng_inited) {
		bench_engine_stop(&B->eng);
		bench_engine_free(&B->eng);
		B->eng_inited = false;
	}
	if (B->dir) {
		_cleanup_free_ char *croot = fc_asprintf("%s/crun-root", B->dir);
		char *ls[] = {B->crun ? B->crun : "crun", "--root", croot, "list", "-q", NULL};
		(void)ls; /* each run deleted its container */
	}
	bench_stop_pid(&B->reg, SIGTERM, 5);
	if (B->veth_made) {
		char *del[] = {"/usr/sbin/ip", "link", "del", B->veth_h, NULL};
		bench_exec_quiet(del, 30, NULL); /* the peer and its qdisc go with it */
		B->veth_made = false;
	}
	if (B->ns_made) {
		char *del[] = {"/usr/sbin/ip", "netns", "del", B->ns, NULL};
		bench_exec_quiet(del, 30, NULL);
		B->ns_made = false;
	}
	if (B->dir)
		bench_unmount_under(B->dir);
	B->tmpfs_mounted = false;
	if (B->host_fixed) {
		bench_host_fix_restore(&B->host, NULL);
		B->host_fixed = false;
	}
	if (B->dir)
		fc_rm_rf_at(AT_FDCWD, B->dir, NULL);
}

static void probe_paths(struct bp *B)
{
	if (!(B->self = bench_self_exe()))
		B->why[P_FCSTART] =
		    fc_asprintf("cannot find this fcstart binary: %s", strerror(errno));
	if (access("/usr/bin/curl", X_OK) != 0)
		B->why[P_FLOOR] = fc_strdup("curl is missing");
	if (access("/usr/bin/skopeo", X_OK) != 0 || access("/usr/bin/umoci", X_OK) != 0)
		B->why[P_SKOPEO] = fc_strdup("skopeo or umoci is missing");
	B->crun = bench_find_in_path("crun");
	if (!B->crun && !B->why[P_SKOPEO])
		B->why[P_SKOPEO] = fc_strdup("crun is missing");
	const char *m = bench_engine_missing(true);
	if (m) {
		B->why[P_DOCKER] = fc_asprintf("%s is missing", m);
		if (bench_engine_missing(false))
			B->why[P_CTR] = fc_asprintf("%s is missing", bench_engine_missing(false));
	}
	for (int p = 0; p < NPATHS; p++)
		if (!B->want[p] && !B->why[p])
			B->why[p] = fc_strdup("not asked for");
}

static int setup(struct bp *B, struct fc_error **err)
{
	int r;
	_cleanup_free_ char *tmpl = fc_asprintf("%s/fcstart-pull.XXXXXX", B->workdir_parent);
	if (!mkdtemp(tmpl))
		return fc_error_set(err, errno, "mkdtemp `%s`", tmpl);
	chmod(tmpl, 0711); /* the pool's sandboxes (user namespaces) pass through */
	B->dir = TAKE_PTR(tmpl);
	if ((r = net_up(B, err)) < 0)
		return fc_error_wrap(err, "network namespace");
	if ((r = registry_up(B, err)) < 0 || (r = registry_fill(B, err)) < 0)
		return r;
	if (!B->why[P_FCSTART] && (r = serve_up(B, err)) < 0)
		return r;
	/* crun refuses a hybrid host while cgroup2 holds a controller: moved to
	 * v1 hierarchies for the run (and back), before runc under containerd
	 * enables one there */
	if (!B->why[P_SKOPEO]) {
		struct fc_error *e = NULL;
		int h = bench_host_fix_apply(&B->host, &e);
		if (h > 0)
			B->host_fixed = true;
		fc_error_free(e);
	}
	if (!B->why[P_DOCKER] || !B->why[P_CTR]) {
		_cleanup_free_ char *ed = fc_asprintf("%s/engines", B->dir);
		if ((r = bench_engine_init(&B->eng, ed, NULL, NULL, NS_CTR, err)) < 0)
			return r;
		B->eng_inited = true;
		B->eng.stop = &bench_stop;
		B->eng.insecure_registry = REG_HOST;
		struct fc_error *e = NULL;
		bool docker = !B->why[P_DOCKER];
		if (bench_engine_start(&B->eng, docker, &e) < 0) {
			for (int p = P_DOCKER; p <= P_CTR; p++)
				if (!B->why[p])
					B->why[p] =
					    fc_asprintf("could not start the engines: %s", e->msg);
			fc_error_free(e);
		}
	}
	return 0;
}

/* ---- report ---------------------------------------------------------------------------- */

static double stat_of(const double *v, size_t n, double pct)
{
	if (!n)
		return 0;
	double *c = fc_malloc(n * sizeof(double));
	memcpy(c, v, n * sizeof(double));
	bench_sort(c, n);
	double r = bench_percentile(c, n, pct);
	free(c);
	return r;
}

static void report(FILE *f, struct bp *B)
{
	fprintf(f,
	        "fcstart bench pull: %d round(s), image %s (%.1f MB of blobs), started %s; "
	        "load average %.2f before, %.2f after\n",
	        B->rounds_done, B->image, (double)B->bytes / 1e6, B->started, B->load0, B->load1);
	for (size_t ri = 0; ri < B->n_rates; ri++) {
		fprintf(f,
		        "\nrate %s: ms from the start to the first response (pull = the fetch "
		        "and unpack part)\n",
		        B->rates[ri]);
		fprintf(f, "%-11s %4s %9s %9s %9s %9s %9s %9s\n", "path", "n", "total p50",
		        "total p99", "pull p50", "pull p99", "run p50", "RSS MiB");
		double fl = 0, fc = 0, fcp = 0;
		for (int p = 0; p < NPATHS; p++) {
			struct cell *c = &B->cells[ri][p];
			if (!c->n) {
				fprintf(f, "%-11s %4s %s\n", path_names[p], "-",
				        c->error    ? c->error
				        : B->why[p] ? B->why[p]
				                    : "no sample");
				continue;
			}
			long rss = 0;
			for (size_t i = 0; i < c->n; i++)
				if (c->rss[i] > rss)
					rss = c->rss[i];
			double t50 = stat_of(c->total, c->n, 50), t99 = stat_of(c->total, c->n, 99);
			double p50 = stat_of(c->pull, c->n, 50), p99 = stat_of(c->pull, c->n, 99);
			double r50 = p == P_FLOOR ? 0 : stat_of(c->run, c->n, 50);
			fprintf(f, "%-11s %4zu %9.0f %9.0f %9.0f %9.0f %9.1f %9.1f\n",
			        path_names[p], c->n, t50, t99, p50, p99, r50,
			        rss > 0 ? (double)rss / 1024 : 0);
			if (p == P_FLOOR)
				fl = t50;
			if (p == P_FCSTART) {
				fc = t50;
				fcp = p50;
			}
		}
		if (fl > 0 && fcp > 0)
			fprintf(f,
			        "fcstart pull+unpack / floor: %.2fx (target <= 1.2x at 1 Gbit/s)\n",
			        fcp / fl);
		for (int p = P_DOCKER; p < NPATHS; p++)
			if (fc > 0 && B->cells[ri][p].n)
				fprintf(f, "%s / fcstart (to the first response): %.2fx%s\n",
				        path_names[p],
				        stat_of(B->cells[ri][p].total, B->cells[ri][p].n, 50) / fc,
				        p == P_DOCKER ? " (target >= 2x)" : "");
		for (int p = 0; p < NPATHS; p++)
			if (B->cells[ri][p].n && B->cells[ri][p].error)
				fprintf(f, "%s stopped after %zu sample(s): %s\n", path_names[p],
				        B->cells[ri][p].n, B->cells[ri][p].error);
		if (fl > 0)
			fprintf(f, "transfer floor: %.0f Mbit/s of blobs\n",
			        (double)B->bytes * 8 / 1e6 / (fl / 1e3));
	}
	if (B->skopeo_note)
		fprintf(f, "\nskopeo: %s\n", B->skopeo_note);
	fprintf(f, "\npaths: ");
	for (int p = 0; p < NPATHS; p++)
		fprintf(f, "%s%s = %s", p ? "; " : "", path_names[p], path_titles[p]);
	fprintf(f, "\n");
}

static int write_json(const char *path, struct bp *B, struct fc_error **err)
{
	struct fc_buf b = {0};
	fc_buf_printf(&b, "{\"benchmark\":\"pull\",\"started\":\"%s\",\"rounds\":%d,\"image\":",
	              B->started, B->rounds_done);
	fc_buf_json_string(&b, B->image);
	fc_buf_printf(&b, ",\"bytes\":%llu,\"load\":[%.2f,%.2f],\"rates\":{",
	              (unsigned long long)B->bytes, B->load0, B->load1);
	for (size_t ri = 0; ri < B->n_rates; ri++) {
		fc_buf_printf(&b, "%s\"%s\":{", ri ? "," : "", B->rates[ri]);
		bool first = true;
		for (int p = 0; p < NPATHS; p++) {
			struct cell *c = &B->cells[ri][p];
			fc_buf_printf(&b, "%s\"%s\":{\"n\":%zu", first ? "" : ",", path_names[p],
			              c->n);
			first = false;
			if (c->n) {
				long rss = 0;
				for (size_t i = 0; i < c->n; i++)
					rss = c->rss[i] > rss ? c->rss[i] : rss;
				fc_buf_printf(
				    &b,
				    ",\"total_p50\":%.1f,\"total_p99\":%.1f,\"pull_p50\":%.1f,"
				    "\"pull_p99\":%.1f,\"run_p50\":%.1f,\"rss_kib\":%ld",
				    stat_of(c->total, c->n, 50), stat_of(c->total, c->n, 99),
				    stat_of(c->pull, c->n, 50), stat_of(c->pull, c->n, 99),
				    stat_of(c->run, c->n, 50), rss);
			}
			if (c->error || (!c->n && B->why[p])) {
				fc_buf_printf(&b, ",\"error\":");
				fc_buf_json_string(&b, c->error ? c->error : B->why[p]);
			}
			fc_buf_printf(&b, "}");
		}
		fc_buf_printf(&b, "}");
	}
	fc_buf_printf(&b, "}}\n");
	int r = fc_write_file_atomic_at(AT_FDCWD, path, b.data, b.len, 0644, err);
	free(b.data);
	return r;
}

/* pull.svg: per rate, a bar per path (median to the first response, the
 * pull part darker), the floor as a line across */
static int write_svg(const char *path, struct bp *B, struct fc_error **err)
{
	static const char *const colours[NPATHS] = {"#888888", "#1b9e77", "#d95f02", "#7570b3",
	                                            "#e7298a"};
	const int W = 820, LEFT = 150, RIGHT = 90, BAR = 18, GAP = 6, PANEL_TOP = 70;
	const int panel_h = NPATHS * (BAR + GAP) + 40;
	int height = PANEL_TOP + (int)B->n_rates * panel_h + 10;
	struct fc_buf b = {0};
	fc_buf_printf(&b,
	              "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	              "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
	              "viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, Helvetica, Arial, "
	              "sans-serif\" font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" "
	              "fill=\"white\"/>\n",
	              W, height, W, height);
	fc_buf_printf(&b,
	              "<text x=\"%d\" y=\"24\" font-size=\"17\" font-weight=\"bold\" "
	              "text-anchor=\"middle\">Uncached cold start from a registry to the first "
	              "response</text>\n<text x=\"%d\" y=\"44\" text-anchor=\"middle\" "
	              "fill=\"#444\">%.1f MB of blobs behind a tc-shaped veth, %d round(s), %s; "
	              "median, the pull part darker</text>\n",
	              W / 2, W / 2, (double)B->bytes / 1e6, B->rounds_done, B->started);
	for (size_t ri = 0; ri < B->n_rates; ri++) {
		int y0 = PANEL_TOP + (int)ri * panel_h;
		double hi = 1;
		for (int p = 0; p < NPATHS; p++)
			if (B->cells[ri][p].n)
				hi =
				    fmax(hi, stat_of(B->cells[ri][p].total, B->cells[ri][p].n, 50));
		double scale = (W - LEFT - RIGHT) / hi;
		fc_buf_printf(&b, "<text x=\"10\" y=\"%d\" font-weight=\"bold\">link %s</text>\n",
		              y0 + 12, B->rates[ri]);
		double floor_ms = 0;
		for (int p = 0; p < NPATHS; p++) {
			struct cell *c = &B->cells[ri][p];
			int y = y0 + 22 + p * (BAR + GAP);
			fc_buf_printf(&b, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n",
			              LEFT - 8, y + 13, path_names[p]);
			if (!c->n) {
				fc_buf_printf(
				    &b,
				    "<text x=\"%d\" y=\"%d\" fill=\"#888\">not measured</text>\n",
				    LEFT, y + 13);
				continue;
			}
			double t = stat_of(c->total, c->n, 50), pl = stat_of(c->pull, c->n, 50);
			if (p == P_FLOOR)
				floor_ms = t;
			fc_buf_printf(
			    &b,
			    "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\" "
			    "fill-opacity=\"0.45\"/>\n<rect x=\"%d\" y=\"%d\" width=\"%.1f\" "
			    "height=\"%d\" fill=\"%s\"/>\n<text x=\"%.1f\" y=\"%d\">%.0f "
			    "ms</text>\n",
			    LEFT, y, t * scale, BAR, colours[p], LEFT, y, pl * scale, BAR,
			    colours[p], LEFT + t * scale + 6, y + 13, t);
		}
		if (floor_ms > 0)
			fc_buf_printf(
			    &b,
			    "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#444\" "
			    "stroke-dasharray=\"4 3\"/>\n",
			    LEFT + floor_ms * scale, y0 + 18, LEFT + floor_ms * scale,
			    y0 + 22 + NPATHS * (BAR + GAP));
	}
	fc_buf_printf(&b, "</svg>\n");
	int r = fc_write_file_atomic_at(AT_FDCWD, path, b.data, b.len, 0644, err);
	free(b.data);
	return r;
}

/* ---- the command ------------------------------------------------------------------------ */

static const char usage[] =
    "usage: fcstart bench pull --image IMG [OPTIONS]\n"
    "\n"
    "Uncached cold starts of an image that is in a registry, to the first response: the\n"
    "registry (docker-registry) in a network namespace behind a veth shaped with tc.\n"
    "\n"
    "  --image IMG        a single-platform OCI layout dir or oci-archive (pushed with skopeo)\n"
    "  --rates LIST       link rates for tc (default 1gbit,100mbit)\n"
    "  --paths LIST       floor,fcstart,docker,containerd,skopeo (default all)\n"
    "  -n, --rounds N     rounds (default 5)\n"
    "  --out DIR          write pull.json and pull.svg (a chart) there\n"
    "  --workdir DIR      where the harness makes its dir (default /var/tmp)\n"
    "  --timeout S        per-command timeout (default 300)\n"
    "\n"
    "Needs root, docker-registry, skopeo, curl, jq; docker.io, containerd, umoci and crun\n"
    "for their paths. Drops the page cache of the whole machine before each run.\n";

int bench_pull_cmd(int argc, char **argv)
{
	enum { O_IMAGE = 256, O_RATES, O_PATHS, O_OUT, O_WORKDIR, O_TIMEOUT };
	static const struct option opts[] = {
	    {"image", required_argument, NULL, O_IMAGE},
	    {"rates", required_argument, NULL, O_RATES},
	    {"paths", required_argument, NULL, O_PATHS},
	    {"rounds", required_argument, NULL, 'n'},
	    {"out", required_argument, NULL, O_OUT},
	    {"workdir", required_argument, NULL, O_WORKDIR},
	    {"timeout", required_argument, NULL, O_TIMEOUT},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct bp B = {.rounds = 5, .timeout_s = 300, .workdir_parent = "/var/tmp"};
	_cleanup_strv_ char **paths = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "n:h", opts, NULL)) != -1) {
		switch (c) {
		case O_IMAGE:
			B.image = optarg;
			break;
		case O_RATES:
			fc_strv_free(B.rates);
			B.rates = bench_split(optarg, ',');
			break;
		case O_PATHS:
			fc_strv_free(paths);
			paths = bench_split(optarg, ',');
			break;
		case 'n':
			if (bench_parse_int("pull", "--rounds", optarg, 1, &B.rounds) < 0)
				return 2;
			break;
		case O_OUT:
			B.out = optarg;
			break;
		case O_WORKDIR:
			B.workdir_parent = optarg;
			break;
		case O_TIMEOUT:
			B.timeout_s = atof(optarg);
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (optind < argc || !B.image) {
		fputs(usage, stderr);
		return 2;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "fcstart bench pull: needs root (network namespace, tc, mounts)\n");
		return 1;
	}
	if (!B.rates)
		B.rates = bench_split("1gbit,100mbit", ',');
	B.n_rates = fc_strv_len(B.rates);
	if (B.n_rates == 0 || B.n_rates > MAX_RATES) {
		fprintf(stderr, "fcstart bench pull: --rates: 1 to %d rates\n", MAX_RATES);
		return 2;
	}
	if (!paths)
		paths = bench_split("floor,fcstart,docker,containerd,skopeo", ',');
	for (size_t i = 0; paths[i]; i++) {
		int k;
		for (k = 0; k < NPATHS; k++)
			if (FC_STREQ(paths[i], path_names[k]))
				break;
		if (k == NPATHS) {
			fprintf(stderr, "fcstart bench pull: --paths: unknown path `%s`\n",
			        paths[i]);
			return 2;
		}
		B.want[k] = true;
	}
	static const char *const tools[] = {"/usr/bin/docker-registry",
	                                    "/usr/bin/skopeo",
	                                    "/usr/bin/jq",
	                                    "/usr/bin/curl",
	                                    "/usr/sbin/tc",
	                                    "/usr/sbin/ip"};
	for (size_t i = 0; i < FC_ARRAY_SIZE(tools); i++)
		if (access(tools[i], X_OK) != 0) {
			fprintf(stderr, "fcstart bench pull: %s is missing\n", tools[i]);
			return 1;
		}
	struct bench_session session;
	bench_session_begin(&session, false);
	char ts[48];
	fc_rfc3339_now(ts, sizeof(ts));
	B.started = fc_strdup(ts);
	B.load0 = loadavg();
	int ret = 0;
	struct fc_error *err = NULL;
	probe_paths(&B);
	if (setup(&B, &err) < 0) {
		fprintf(stderr, "fcstart bench pull: %s\n", err->msg);
		fc_error_free(err);
		ret = 1;
		goto out;
	}
	uint64_t seed = bench_seed();
	for (int round = 0; round < B.rounds && !bench_stop; round++) {
		size_t rorder[MAX_RATES], porder[NPATHS];
		for (size_t i = 0; i < B.n_rates; i++)
			rorder[i] = i;
		bench_shuffle(rorder, B.n_rates, &seed);
		for (size_t ri = 0; ri < B.n_rates && !bench_stop; ri++) {
			size_t rate = rorder[ri];
			struct fc_error *e = NULL;
			if (shape(&B, B.rates[rate], &e) < 0) {
				fprintf(stderr, "fcstart bench pull: tc %s: %s\n", B.rates[rate],
				        e->msg);
				fc_error_free(e);
				ret = 1;
				goto out;
			}
			for (size_t i = 0; i < NPATHS; i++)
				porder[i] = i;
			bench_shuffle(porder, NPATHS, &seed);
			for (size_t pi = 0; pi < NPATHS && !bench_stop; pi++) {
				int p = (int)porder[pi];
				struct cell *cl = &B.cells[rate][p];
				if (B.why[p] || cl->error)
					continue;
				if (isatty(2))
					fprintf(stderr, "\r\033[Kround %d/%d  %-8s %s", round + 1,
					        B.rounds, B.rates[rate], path_names[p]);
				struct sample s;
				e = NULL;
				if (measure(&B, p, &s, &e) < 0) {
					if (!bench_stop)
						cl->error = fc_strdup(e ? e->msg : "failed");
					fc_error_free(e);
					continue;
				}
				cl->total = fc_realloc(cl->total, (cl->n + 1) * sizeof(double));
				cl->pull = fc_realloc(cl->pull, (cl->n + 1) * sizeof(double));
				cl->run = fc_realloc(cl->run, (cl->n + 1) * sizeof(double));
				cl->rss = fc_realloc(cl->rss, (cl->n + 1) * sizeof(long));
				cl->total[cl->n] = s.total;
				cl->pull[cl->n] = s.pull;
				cl->run[cl->n] = s.run;
				cl->rss[cl->n] = s.rss;
				cl->n++;
				bench_sleep_ms(200, &bench_stop);
			}
		}
		if (!bench_stop)
			B.rounds_done = round + 1;
	}
	if (isatty(2))
		fprintf(stderr, "\r\033[K");
	B.load1 = loadavg();
out:
	teardown(&B);
	if (!ret && !bench_stop) {
		report(stdout, &B);
		if (B.out) {
			struct fc_error *e = NULL;
			_cleanup_free_ char *p = fc_asprintf("%s/pull.json", B.out);
			_cleanup_free_ char *sv = fc_asprintf("%s/pull.svg", B.out);
			if (fc_mkdir_p_at(AT_FDCWD, B.out, 0755, &e) < 0 ||
			    write_json(p, &B, &e) < 0 || write_svg(sv, &B, &e) < 0) {
				fprintf(stderr, "fcstart bench pull: %s\n", e->msg);
				ret = 1;
			}
			fc_error_free(e);
		}
	}
	ret = bench_session_end(&session, "pull", B.rounds_done, ret);
	for (size_t ri = 0; ri < MAX_RATES; ri++)
		for (int p = 0; p < NPATHS; p++) {
			free(B.cells[ri][p].total);
			free(B.cells[ri][p].pull);
			free(B.cells[ri][p].run);
			free(B.cells[ri][p].rss);
			free(B.cells[ri][p].error);
		}
	for (int p = 0; p < NPATHS; p++)
		free(B.why[p]);
	fc_strv_free(B.urls);
	fc_strv_free(B.rates);
	free(B.self);
	free(B.crun);
	free(B.skopeo_note);
	free(B.dir);
	free(B.regdata);
	free(B.store);
	free(B.serve_root);
	free(B.sock);
	free(B.started);
	return ret;
}
