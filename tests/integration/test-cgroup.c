/* SPDX-License-Identifier: MIT */
/* test-cgroup: runtime/cgroup/cgroup*.c against the real cgroupfs (root). Creates a
 * cgroup with limits, checks the files, moves a child in, freezes/thaws it,
 * lists pids, reads stats, updates limits, nests cgroups, destroys it (child
 * killed, directories gone); the device filter (BPF on cgroup2, default-deny
 * on v1). On a hybrid host it runs again as a simulated pure v2 host and a
 * simulated pure v1 host (private mount namespaces). Exit 0/1/77. */
#include "cgroup/cgroup-backend.h" /* cg_v2_devices, to try the BPF filter on hybrid hosts */

#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <poll.h>
#include <signal.h>
#include <sched.h>
#include <dirent.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/xattr.h>
#include <linux/sched.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <yajl/yajl_tree.h>

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

static int failures, checks;
static struct fc_cgroup *g_cg, *g_cg2;
static pid_t g_child = -1;
static char g_path[256];
static enum fc_cgroup_mode g_mode;
static bool g_made_parent;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		checks++;                                                                          \
		if (!(cond)) {                                                                     \
			failures++;                                                                \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                       \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
		}                                                                                  \
	} while (0)

/* Does dir hold a directory (a cgroup)? */
static bool has_subdir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	bool any = false;
	while (d && !any && (de = readdir(d)))
		any = de->d_type == DT_DIR && de->d_name[0] != '.';
	if (d)
		closedir(d);
	return any;
}

/* Remove the /fcrun parent when this test made it (rmdir: only if empty). */
static void remove_parent(void)
{
	const char *ctrls[] = {"memory",  "cpu",     "cpuacct",  "pids",       "freezer",
	                       "devices", "blkio",   "cpuset",   "systemd",    "unified",
	                       "hugetlb", "net_cls", "net_prio", "perf_event", NULL};
	char buf[512];
	if (!g_made_parent)
		return;
	if (g_mode == FC_CGROUP_V2)
		rmdir("/sys/fs/cgroup/fcrun");
	for (size_t i = 0; ctrls[i]; i++) {
		snprintf(buf, sizeof(buf), "/sys/fs/cgroup/%s/fcrun", ctrls[i]);
		rmdir(buf);
	}
}

/* On a hybrid host a hugetlb limit enables hugetlb in cgroup2's
 * subtree_control of the parents (the root's too), where it stays after the
 * cgroup is gone: crun then refuses the host. The test puts back what it
 * found (best effort: a child cgroup of someone else's may still use it). */
static const char *const g_sc_dirs[] = {"/sys/fs/cgroup/unified/fcrun", "/sys/fs/cgroup/unified"};
static char *g_sc_before[2];

static void subtree_save(void)
{
	for (size_t i = 0; i < 2; i++) {
		char p[128];
		snprintf(p, sizeof(p), "%s/cgroup.subtree_control", g_sc_dirs[i]);
		char *t = NULL;
		if (fc_read_file_at(AT_FDCWD, p, &t, NULL, 0, NULL) == 0)
			g_sc_before[i] = t;
	}
}

static void subtree_restore(void)
{
	for (size_t i = 0; i < 2; i++) {
		char p[128], *now = NULL;
		if (!g_sc_before[i])
			continue;
		snprintf(p, sizeof(p), "%s/cgroup.subtree_control", g_sc_dirs[i]);
		if (fc_read_file_at(AT_FDCWD, p, &now, NULL, 0, NULL) == 0 &&
		    strstr(now, "hugetlb") && !strstr(g_sc_before[i], "hugetlb")) {
			struct fc_error *e = NULL;
			fc_write_string_at(AT_FDCWD, p, "-hugetlb", &e);
			fc_error_free(e);
		}
		free(now);
		free(g_sc_before[i]);
		g_sc_before[i] = NULL;
	}
}

static void cleanup(void)
{
	struct fc_error *e = NULL;
	if (g_cg2) {
		if (fc_cgroup_destroy(g_cg2, &e) < 0)
			fprintf(stderr, "cleanup: %s\n", e->msg);
		fc_error_free(e);
		e = NULL;
		fc_cgroup_free(g_cg2);
		g_cg2 = NULL;
	}
	if (g_cg) {
		fc_cgroup_freeze(g_cg, false, &e);
		fc_error_free(e);
		e = NULL;
		if (fc_cgroup_destroy(g_cg, &e) < 0)
			fprintf(stderr, "cleanup: %s\n", e->msg);
		fc_error_free(e);
		fc_cgroup_free(g_cg);
		g_cg = NULL;
	}
	if (g_child > 0) {
		kill(g_child, SIGKILL);
		waitpid(g_child, NULL, 0);
		g_child = -1;
	}
	remove_parent();
	subtree_restore();
}

/* One byte from the child; gives up after a minute (never hang the suite). */
static bool read_answer(int fd, char want)
{
	struct pollfd pfd = {fd, POLLIN, 0};
	char c;
	return poll(&pfd, 1, 60000) == 1 && read(fd, &c, 1) == 1 && c == want;
}

static void on_term(int sig)
{
	(void)sig;
	exit(1); /* run the atexit cleanup (a test, not library code) */
}

static void die(const char *what, struct fc_error *e)
{
	fprintf(stderr, "FAIL: %s: %s\n", what, e ? e->msg : "?");
	exit(1); /* atexit cleanup runs */
}

/* The directory of controller ctrl for our cgroup: v1 hierarchy (also
 * co-mounted ones like "cpu,cpuacct"), or the cgroup2 tree. */
static char *dir_of(const char *ctrl)
{
	char buf[512];
	struct stat st;
	if (g_mode == FC_CGROUP_V2)
		return fc_asprintf("/sys/fs/cgroup%s", g_path);
	if (!ctrl)
		return fc_asprintf("/sys/fs/cgroup/unified%s", g_path);
	snprintf(buf, sizeof(buf), "/sys/fs/cgroup/%s%s", ctrl, g_path);
	if (stat(buf, &st) == 0)
		return fc_strdup(buf);
	if (!strcmp(ctrl, "cpu") || !strcmp(ctrl, "cpuacct")) {
		snprintf(buf, sizeof(buf), "/sys/fs/cgroup/cpu,cpuacct%s", g_path);
		if (stat(buf, &st) == 0)
			return fc_strdup(buf);
	}
	return NULL;
}

static char *slurp(const char *dir, const char *file)
{
	_cleanup_free_ char *p = fc_asprintf("%s/%s", dir, file);
	char *s = NULL;
	size_t len = 0;
	struct fc_error *e = NULL;
	if (fc_read_file_at(AT_FDCWD, p, &s, &len, 0, &e) < 0) {
		fc_error_free(e);
		return NULL;
	}
	while (len && s[len - 1] == '\n')
		s[--len] = '\0';
	return s;
}

static void expect(const char *ctrl, const char *file, const char *want)
{
	_cleanup_free_ char *d = dir_of(ctrl);
	_cleanup_free_ char *got = d ? slurp(d, file) : NULL;
	CHECK(got && !strcmp(got, want), "%s/%s: got `%s`, want `%s`", d ? d : ctrl, file,
	      got ? got : "(missing)", want);
}

static void expect_has(const char *ctrl, const char *file, const char *want)
{
	_cleanup_free_ char *d = dir_of(ctrl);
	_cleanup_free_ char *got = d ? slurp(d, file) : NULL;
	CHECK(got && strstr(got, want), "%s/%s: `%s` does not contain `%s`", d ? d : ctrl, file,
	      got ? got : "(missing)", want);
}

static bool v1_has(const char *ctrl)
{
	_cleanup_free_ char *d = NULL;
	char buf[256];
	struct stat st;
	snprintf(buf, sizeof(buf), "/sys/fs/cgroup/%s", ctrl);
	if (stat(buf, &st) == 0)
		return true;
	return (!strcmp(ctrl, "cpu") || !strcmp(ctrl, "cpuacct")) &&
	       stat("/sys/fs/cgroup/cpu,cpuacct", &st) == 0;
}

/* Is a controller usable for our cgroup (v1 hierarchy or cgroup2 root)? */
static bool have(const char *ctrl)
{
	const char *v2root = g_mode == FC_CGROUP_V2 ? "/sys/fs/cgroup" : "/sys/fs/cgroup/unified";
	_cleanup_free_ char *c =
	    g_mode == FC_CGROUP_V1 ? NULL : slurp(v2root, "cgroup.controllers");
	if (g_mode != FC_CGROUP_V2 && v1_has(ctrl))
		return true;
	if (c) {
		size_t n = strlen(ctrl);
		for (char *p = c; (p = strstr(p, ctrl)); p += n)
			if ((p == c || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
				return true;
	}
	return false;
}

static void test_resolve(void)
{
	struct fc_error *e = NULL;
	char *p;
#define RESOLVE_IS(id, in, sd, want)                                                               \
	do {                                                                                       \
		p = fc_cgroup_resolve_path(id, in, sd, &e);                                        \
		CHECK(p && !strcmp(p, want), "resolve `%s`: got `%s`, want `%s`",                  \
		      in ? in : "NULL", p ? p : e->msg, want);                                     \
		free(p);                                                                           \
		fc_error_free(e);                                                                  \
		e = NULL;                                                                          \
	} while (0)
	RESOLVE_IS("abc", NULL, false, "/fcrun/abc");
	RESOLVE_IS("abc", "/a//b/", false, "/a/b");
	RESOLVE_IS("abc", "system.slice:docker:abc", true, "/system.slice/docker-abc.scope");
	RESOLVE_IS("abc", "user-1000.slice:p:n", true, "/user.slice/user-1000.slice/p-n.scope");
	RESOLVE_IS("abc", ":fcrun:x", true, "/system.slice/fcrun-x.scope");
	p = fc_cgroup_resolve_path("abc", "/a/../b", false, &e);
	CHECK(!p && e && strstr(e->msg, ".."), "`/a/../b` must be refused");
	free(p);
	fc_error_free(e);
	e = NULL;
	p = fc_cgroup_resolve_path("abc", "rel/x", false, &e);
	CHECK(p && p[0] == '/' && strlen(p) >= 6 && !strcmp(p + strlen(p) - 6, "/rel/x"),
	      "relative path: got `%s`", p ? p : e->msg);
	free(p);
	fc_error_free(e);
}

/* Every line of /proc/PID/cgroup of a hierarchy we use shows our path. */
static void check_proc_cgroup(pid_t pid)
{
	char fn[64], *line = NULL;
	size_t cap = 0;
	int seen = 0, v2 = 0;
	FILE *f;
	snprintf(fn, sizeof(fn), "/proc/%d/cgroup", (int)pid);
	f = fopen(fn, "re");
	CHECK(f, "open %s", fn);
	if (!f)
		return;
	while (getline(&line, &cap, f) > 0) {
		char *a = strchr(line, ':'), *b = a ? strchr(a + 1, ':') : NULL;
		if (!b)
			continue;
		*b++ = '\0';
		b[strcspn(b, "\n")] = '\0';
		if (!a[1] && g_mode == FC_CGROUP_V1)
			continue; /* a simulated v1 host: the cgroup2 tree is unmounted, not gone */
		if (!a[1])
			v2++;
		else if (g_mode == FC_CGROUP_V2 || strstr(a + 1, "rdma") || strstr(a + 1, "misc"))
			continue; /* (a simulated v2 host still has v1 lines) */
		CHECK(!strcmp(b, g_path), "/proc/%d/cgroup: `%s` is in `%s`, want `%s`", (int)pid,
		      a + 1, b, g_path);
		seen++;
	}
	free(line);
	fclose(f);
	CHECK(seen > 0, "no cgroup lines");
	CHECK(g_mode == FC_CGROUP_V1 || v2 == 1, "no 0:: line pointing to the cgroup");
}

static bool json_ok(const char *s, bool pids)
{
	char eb[256];
	yajl_val v = yajl_tree_parse(s, eb, sizeof(eb));
	static const char *const keys[] = {"cpu", "memory", "pids", "blkio", "hugetlb"};
	bool ok = v && YAJL_IS_OBJECT(v);
	for (size_t i = 0; ok && i < FC_ARRAY_SIZE(keys); i++) {
		const char *path[] = {keys[i], NULL};
		ok = yajl_tree_get(v, path, yajl_t_object) != NULL;
		CHECK(ok, "stats: no object `%s`", keys[i]);
	}
	if (ok) {
		const char *path[] = {"pids", "current", NULL};
		yajl_val c = yajl_tree_get(v, path, yajl_t_number);
		CHECK(!pids || (c && YAJL_GET_INTEGER(c) == 1), "stats: pids.current is not 1");
		const char *mp[] = {"memory", "usage", "limit", NULL};
		c = yajl_tree_get(v, mp, yajl_t_number);
		CHECK(c, "stats: no memory.usage.limit");
	} else if (!v) {
		fprintf(stderr, "stats JSON: %s\n", eb);
	}
	yajl_tree_free(v);
	return ok;
}

/* Run a child in cg that opens /dev/null (rw) and /dev/kmsg (r); its exit
 * status says which opens worked: bit 0 null, bit 1 kmsg, 8 when kmsg's open
 * failed with something else than EPERM. */
static int device_probe(struct fc_cgroup *cg)
{
	int sp[2], st = 0;
	char c;
	struct fc_error *e = NULL;
	pid_t pid;
	if (pipe2(sp, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		int code = 0, fd;
		close(sp[1]);
		if (read(sp[0], &c, 1) != 1)
			_exit(100);
		fd = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (fd >= 0)
			code |= 1;
		fd = open("/dev/kmsg", O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		if (fd >= 0)
			code |= 2;
		else if (errno != EPERM)
			code |= 8;
		_exit(code);
	}
	close(sp[0]);
	if (pid < 0 || fc_cgroup_enter(cg, pid, false, &e) < 0) {
		fprintf(stderr, "device probe: %s\n", e ? e->msg : "fork");
		fc_error_free(e);
		close(sp[1]);
		if (pid > 0)
			waitpid(pid, NULL, 0);
		return -1;
	}
	(void)!write(sp[1], "g", 1);
	close(sp[1]);
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* The cgroup2 device filter (BPF): on a pure v2 host through apply, on a
 * hybrid host directly on the unified tree (the kernel runs cgroup2 device
 * programs there too). */
static void test_device_filter(void)
{
	struct fc_error *e = NULL;
	char path[256];
	int r;
	struct fc_device_rule deny[] = {{false, 'a', -1, -1, "rwm"}};
	struct fc_device_rule allow_kmsg[] = {{false, 'a', -1, -1, "rwm"}, {true, 'c', 1, 11, "r"}};
	if (access("/dev/kmsg", F_OK) < 0) {
		printf("# no /dev/kmsg: device filter not tried\n");
		return;
	}
	snprintf(path, sizeof(path), "/fcrun/fctest-cgbpf-%d", (int)getpid());
	/* (v1's devices controller, on a hybrid host, allows everything here) */
	struct fc_device_rule all[] = {{true, 'a', -1, -1, "rwm"}};
	struct fc_resources open_res = {.devices = all, .n_devices = 1};
	if (fc_cgroup_create(path, g_mode == FC_CGROUP_V2 ? NULL : &open_res, -1, &g_cg2, &e) < 0)
		die("create (bpf)", e);
	if (g_mode == FC_CGROUP_V2) {
		struct fc_resources res = {0};
		res.devices = deny;
		res.n_devices = 1;
		r = fc_cgroup_apply(g_cg2, &res, &e);
	} else {
		r = cg_v2_devices(g_cg2->v2, deny, 1, 0, &e);
	}
	if (r < 0)
		die("device filter", e);
	r = device_probe(g_cg2);
	CHECK(r == 1, "device filter deny-all+defaults: probe %d, want 1 (null ok, kmsg EPERM)", r);
	if (g_mode == FC_CGROUP_V2) {
		struct fc_resources res = {0};
		res.devices = allow_kmsg;
		res.n_devices = 2;
		r = fc_cgroup_apply(g_cg2, &res, &e);
	} else {
		r = cg_v2_devices(g_cg2->v2, allow_kmsg, 2, 0, &e);
	}
	if (r < 0)
		die("device filter update", e);
	r = device_probe(g_cg2);
	CHECK(r == 3, "device filter with c 1:11 r: probe %d, want 3", r);
	if (fc_cgroup_destroy(g_cg2, &e) < 0)
		die("destroy (bpf)", e);
	fc_cgroup_free(g_cg2);
	g_cg2 = NULL;
}

/* Pure v2 and pure v1 hosts, simulated on a hybrid one: a child in its own
 * mount namespace with cgroup2 mounted on /sys/fs/cgroup (v2), or with the
 * unified mount gone (v1), runs this test again. */
static int run_simulated(const char *self, bool v2)
{
	int st;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (unshare(CLONE_NEWNS) < 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    (v2 ? mount("cgroup2", "/sys/fs/cgroup", "cgroup2", 0, NULL)
		        : umount2("/sys/fs/cgroup/unified", MNT_DETACH)) < 0) {
			perror("simulated host: unshare/mount");
			_exit(77);
		}
		execl(self, self, v2 ? "--simulated-v2" : "--simulated-v1", (char *)NULL);
		_exit(1);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return 1;
	return WEXITSTATUS(st);
}

/* v1: a cgroup made without resources still denies what is not allowed
 * (runc's default devices only). */
static void test_v1_default_devices(void)
{
	struct fc_error *e = NULL;
	char path[256];
	int r;
	if (access("/dev/kmsg", F_OK) < 0)
		return;
	snprintf(path, sizeof(path), "/fcrun/fctest-cgdev-%d", (int)getpid());
	if (fc_cgroup_create(path, NULL, -1, &g_cg2, &e) < 0)
		die("create (devices)", e);
	r = device_probe(g_cg2);
	CHECK(r == 1, "v1 default devices: probe %d, want 1 (null ok, kmsg EPERM)", r);
	if (fc_cgroup_destroy(g_cg2, &e) < 0)
		die("destroy (devices)", e);
	fc_cgroup_free(g_cg2);
	g_cg2 = NULL;
}

/* A process in cg that forked a child and exited (a daemonized one, as a
 * function may leave behind): the child's pid; -1 on failure. */
static pid_t leave_daemon(struct fc_cgroup *cg)
{
	int pp[2], go[2];
	pid_t d = -1;
	if (pipe2(pp, O_CLOEXEC) < 0 || pipe2(go, O_CLOEXEC) < 0)
		return -1;
	pid_t a = fork();
	if (a < 0)
		return -1;
	if (a == 0) {
		char c;
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		pid_t b = fork();
		if (b == 0) {
			setsid();
			for (;;)
				pause();
		}
		(void)!write(pp[1], &b, sizeof(b));
		_exit(0);
	}
	close(go[0]);
	close(pp[1]);
	struct fc_error *e = NULL;
	if (fc_cgroup_enter(cg, a, false, &e) < 0) {
		fprintf(stderr, "enter: %s\n", e ? e->msg : "?");
		fc_error_free(e);
		kill(a, SIGKILL);
	}
	(void)!write(go[1], "g", 1);
	close(go[1]);
	if (read(pp[0], &d, sizeof(d)) != sizeof(d))
		d = -1;
	close(pp[0]);
	waitpid(a, NULL, 0);
	return d;
}

/* Gone, or a zombie waiting for its reaper (not ours). */
static bool dead(pid_t pid)
{
	for (int i = 0; i < 500; i++) {
		char fn[64], *s = NULL;
		snprintf(fn, sizeof(fn), "/proc/%d/stat", (int)pid);
		if (fc_read_file_at(AT_FDCWD, fn, &s, NULL, 0, NULL) < 0)
			return true;
		char *rp = strrchr(s, ')');
		bool z = rp && rp[1] && (rp[2] == 'Z' || rp[2] == 'X');
		free(s);
		if (z)
			return true;
		usleep(2000);
	}
	return false;
}

/* Recycled cgroups (the pool's): only a tagged cgroup is used, kept or
 * reset; one that is not empty is refused; a process left behind is
 * killed before the next use; the limits are written again at each use. */
static void test_recycle(void)
{
	struct fc_error *e = NULL;
	struct fc_cgroup *cg = NULL;
	char path[256];
	pid_t d;
	struct fc_resources res = {0};
	res.memory.has_limit = have("memory");
	res.memory.limit = 64 << 20;
	res.pids.has_limit = have("pids");
	res.pids.limit = 64;
	const char *mem_file = g_mode == FC_CGROUP_V2 ? "memory.max" : "memory.limit_in_bytes";
	const char *mem_ctrl = g_mode == FC_CGROUP_V2 ? NULL : "memory";
	const char *pids_ctrl = g_mode == FC_CGROUP_V2 ? NULL : "pids";
	char saved[256];
	snprintf(saved, sizeof(saved), "%s", g_path);
	snprintf(path, sizeof(path), "/fcrun/fctest-cgrec-%d", (int)getpid());
	snprintf(g_path, sizeof(g_path), "%s", path); /* for dir_of() */

	/* someone else's cgroup of that name: never used, reset or removed */
	if (fc_cgroup_create(path, NULL, -1, &g_cg2, &e) < 0)
		die("create (untagged)", e);
	d = leave_daemon(g_cg2);
	CHECK(d > 0, "a process in the untagged cgroup");
	CHECK(fc_cgroup_recycle(path, &res, -1, &cg, &e) < 0 && e && strstr(e->msg, "not a cgroup"),
	      "recycle of an untagged cgroup: %s", e ? e->msg : "accepted");
	fc_error_free(e);
	e = NULL;
	CHECK(fc_cgroup_recycle_reset(path, &e) < 0, "reset of an untagged cgroup accepted");
	fc_error_free(e);
	e = NULL;
	fc_cgroup_recycle_remove(path, &e);
	fc_error_free(e);
	e = NULL;
	_cleanup_free_ char *pd = dir_of(pids_ctrl);
	CHECK(pd && access(pd, F_OK) == 0, "remove of a recycled cgroup removed an untagged one");
	CHECK(d > 0 && kill(d, 0) == 0, "a process of an untagged cgroup was killed");
	if (fc_cgroup_destroy(g_cg2, &e) < 0)
		die("destroy (untagged)", e);
	fc_cgroup_free(g_cg2);
	g_cg2 = NULL;
	CHECK(d <= 0 || dead(d), "destroy left pid %d", (int)d);

	/* first use: made, tagged, with the limits */
	if (fc_cgroup_recycle(path, &res, -1, &cg, &e) < 0)
		die("recycle (new)", e);
	if (res.memory.has_limit)
		expect(mem_ctrl, mem_file, "67108864");
	if (res.pids.has_limit)
		expect(pids_ctrl, "pids.max", "64");
	CHECK(fc_cgroup_owned(cg), "a recycled cgroup is owned");
	d = leave_daemon(cg);
	CHECK(d > 0 && kill(d, 0) == 0, "a daemonized process in the recycled cgroup");
	/* the container's delete: everything in it is killed, it stays */
	if (fc_cgroup_destroy(cg, &e) < 0)
		die("destroy (recycled)", e);
	fc_cgroup_free(cg);
	cg = NULL;
	CHECK(d <= 0 || dead(d), "the destroy of a recycled cgroup left pid %d", (int)d);
	CHECK(access(pd, F_OK) == 0, "the destroy of a recycled cgroup removed %s", pd);
	/* a process cloned into it afterwards lives (after a write of
	 * cgroup.kill, this kernel kills every later CLONE_INTO_CGROUP child) */
	if (fc_cgroup_open(path, &g_cg2, &e) < 0)
		die("open", e);
	if (fc_cgroup_clone_fd(g_cg2) >= 0) {
		struct clone_args ca = {.flags = CLONE_INTO_CGROUP,
		                        .exit_signal = SIGCHLD,
		                        .cgroup = (uint64_t)fc_cgroup_clone_fd(g_cg2)};
		pid_t c = (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
		if (c == 0) {
			usleep(50000);
			_exit(0);
		}
		int st = 0;
		CHECK(c > 0 && waitpid(c, &st, 0) == c && WIFEXITED(st),
		      "a process cloned into a recycled cgroup after its destroy was killed "
		      "(status %#x)",
		      st);
	}
	fc_cgroup_free(g_cg2);
	g_cg2 = NULL;

	/* a process left in it (the previous tenant's): refused, then killed
	 * by the reset; a limit changed meanwhile is written again */
	if (fc_cgroup_open(path, &g_cg2, &e) < 0)
		die("open", e);
	d = leave_daemon(g_cg2);
	fc_cgroup_free(g_cg2);
	g_cg2 = NULL;
	CHECK(fc_cgroup_recycle(path, &res, -1, &cg, &e) < 0 && e && strstr(e->msg, "not empty"),
	      "recycle of a cgroup with a process: %s", e ? e->msg : "accepted");
	fc_error_free(e);
	e = NULL;
	if (g_mode != FC_CGROUP_V1 || v1_has("freezer")) {
		struct fc_cgroup *f = NULL;
		if (fc_cgroup_open(path, &f, &e) < 0 || fc_cgroup_freeze(f, true, &e) < 0)
			die("freeze (recycled)", e);
		fc_cgroup_free(f);
	}
	if (fc_cgroup_recycle_reset(path, &e) < 0)
		die("reset", e);
	CHECK(d <= 0 || dead(d), "the reset left pid %d (frozen)", (int)d);
	if (res.pids.has_limit) {
		_cleanup_free_ char *pdir = dir_of(pids_ctrl);
		cg_write(pdir, "pids.max", "max", &e);
		fc_error_free(e);
		e = NULL;
	}
	if (fc_cgroup_recycle(path, &res, -1, &cg, &e) < 0)
		die("recycle (reused)", e);
	if (res.pids.has_limit)
		expect(pids_ctrl, "pids.max", "64");
	CHECK(!fc_cgroup_is_frozen(cg), "a reset cgroup is frozen");
	{
		pid_t *pids = NULL;
		size_t n = 9;
		fc_cgroup_pids(cg, &pids, &n, &e);
		CHECK(n == 0, "a recycled cgroup has %zu processes", n);
		free(pids);
	}
	fc_cgroup_free(cg);
	cg = NULL;

	/* removed: processes killed, directories gone */
	if (fc_cgroup_open(path, &g_cg2, &e) < 0)
		die("open", e);
	d = leave_daemon(g_cg2);
	fc_cgroup_free(g_cg2);
	g_cg2 = NULL;
	if (fc_cgroup_recycle_remove(path, &e) < 0)
		die("remove (recycled)", e);
	CHECK(d <= 0 || dead(d), "the removal left pid %d", (int)d);
	CHECK(access(pd, F_OK) < 0, "%s is left after the removal", pd);
	_cleanup_free_ char *ud = g_mode == FC_CGROUP_V1 ? NULL : dir_of(NULL);
	CHECK(!ud || access(ud, F_OK) < 0, "%s is left after the removal", ud);
	snprintf(g_path, sizeof(g_path), "%s", saved);
}

int main(int argc, char **argv)
{
	bool simulated = argc > 1 && !strncmp(argv[1], "--simulated-", 12);
	bool h_mem, h_cpu, h_cpuset, h_pids, h_io, h_huge;
	struct statfs sfs;
	struct fc_error *e = NULL;
	struct fc_resources res = {0};
	char id[64], *p;
	bool huge, memsw, has_weight;
	int sync_pipe[2], sig_pipe[2];

	if (geteuid() != 0) {
		printf("skip: needs root\n");
		return 77;
	}
	if (statfs("/sys/fs/cgroup", &sfs) < 0 ||
	    (sfs.f_type != CGROUP2_SUPER_MAGIC && sfs.f_type != TMPFS_MAGIC)) {
		printf("skip: no cgroup filesystem at /sys/fs/cgroup\n");
		return 77;
	}
	g_mode = fc_cgroup_host_mode();
	printf("# host mode %s%s\n",
	       g_mode == FC_CGROUP_V2       ? "v2"
	       : g_mode == FC_CGROUP_HYBRID ? "hybrid"
	                                    : "v1",
	       simulated ? " (simulated in a mount namespace)" : "");
	if (simulated &&
	    g_mode != (strcmp(argv[1], "--simulated-v2") ? FC_CGROUP_V1 : FC_CGROUP_V2)) {
		printf("FAIL: simulated host detected as mode %d\n", (int)g_mode);
		return 1;
	}
	if (g_mode != FC_CGROUP_V2 && (!v1_has("memory") || !v1_has("cpu") || !v1_has("pids") ||
	                               !v1_has("freezer") || !v1_has("devices"))) {
		printf("skip: a v1 controller (memory, cpu, pids, freezer, devices) is missing\n");
		return 77;
	}
	if (g_mode == FC_CGROUP_HYBRID)
		subtree_save();
	atexit(cleanup);
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	test_resolve();

	snprintf(id, sizeof(id), "fctest-cg-%d", (int)getpid());
	p = fc_cgroup_resolve_path(id, NULL, false, &e);
	if (!p)
		die("resolve", e);
	snprintf(g_path, sizeof(g_path), "%s", p);
	free(p);

	h_mem = have("memory");
	h_cpu = have("cpu");
	h_cpuset = have("cpuset");
	h_pids = have("pids");
	h_io = have(g_mode == FC_CGROUP_V2 ? "io" : "blkio");
	h_huge = have("hugetlb");
	huge = h_huge && access("/sys/kernel/mm/hugepages/hugepages-2048kB", F_OK) == 0;
	memsw = !h_mem ? false
	        : g_mode == FC_CGROUP_V2
	            ? access("/sys/fs/cgroup/memory.swap.max", F_OK) == 0 ||
	                  access("/sys/fs/cgroup/init.scope/memory.swap.max", F_OK) == 0
	            : access("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", F_OK) == 0;
	has_weight = !h_io ? false
	                   : g_mode == FC_CGROUP_V2 ||
	                         access("/sys/fs/cgroup/blkio/blkio.weight", F_OK) == 0;

	struct fc_device_rule devs[] = {
	    {false, 'a', -1, -1, "rwm"},
	    {true, 'c', 1, 3, "rw"},
	    {true, 'b', 7, -1, "r"},
	};
	struct fc_throttle rbps = {7, 0, 1048576};
	struct fc_hugepage_limit hl = {"2MB", 4194304};
	res.devices = devs;
	res.n_devices = FC_ARRAY_SIZE(devs);
	res.memory.has_limit = h_mem;
	res.memory.limit = 64 << 20;
	res.memory.has_reservation = h_mem;
	res.memory.reservation = 32 << 20;
	if (memsw) {
		res.memory.has_swap = true;
		res.memory.swap = 128 << 20;
	}
	res.cpu.has_shares = h_cpu;
	res.cpu.shares = 512;
	res.cpu.has_quota = h_cpu;
	res.cpu.quota = 50000;
	res.cpu.has_period = h_cpu;
	res.cpu.period = 100000;
	res.cpu.cpus = h_cpuset ? "0" : NULL;
	res.cpu.mems = h_cpuset ? "0" : NULL;
	res.pids.has_limit = h_pids;
	res.pids.limit = 64;
	if (has_weight) {
		res.blkio.has_weight = true;
		res.blkio.weight = 500;
	}
	res.blkio.throttle_read_bps = &rbps;
	res.blkio.n_throttle_read_bps = h_io;
	if (huge) {
		res.hugepage_limits = &hl;
		res.n_hugepage_limits = 1;
	}

	g_made_parent =
	    access(g_mode == FC_CGROUP_V2 ? "/sys/fs/cgroup/fcrun" : "/sys/fs/cgroup/pids/fcrun",
	           F_OK) != 0;
	if (fc_cgroup_create(g_path, &res, -1, &g_cg, &e) < 0)
		die("create", e);

	/* The limits are in the files. */
	if (g_mode == FC_CGROUP_V2) {
		if (h_mem) {
			expect(NULL, "memory.max", "67108864");
			expect(NULL, "memory.low", "33554432");
		}
		if (memsw)
			expect(NULL, "memory.swap.max", "67108864");
		if (h_cpu) {
			expect(NULL, "cpu.weight", "20");
			expect(NULL, "cpu.max", "50000 100000");
		}
		if (h_cpuset)
			expect(NULL, "cpuset.cpus", "0");
		if (h_pids)
			expect(NULL, "pids.max", "64");
		if (h_io) {
			expect_has(NULL, "io.max", "7:0 rbps=1048576");
			expect_has(NULL, "io.weight", "default 50");
		}
		CHECK(fc_cgroup_clone_fd(g_cg) >= 0, "no clone fd on a v2 host");
		if (huge)
			expect(NULL, "hugetlb.2MB.max", "4194304");
	} else {
		expect("memory", "memory.limit_in_bytes", "67108864");
		expect("memory", "memory.soft_limit_in_bytes", "33554432");
		if (memsw)
			expect("memory", "memory.memsw.limit_in_bytes", "134217728");
		expect("cpu", "cpu.shares", "512");
		expect("cpu", "cpu.cfs_quota_us", "50000");
		expect("cpu", "cpu.cfs_period_us", "100000");
		if (v1_has("cpuset")) {
			expect("cpuset", "cpuset.cpus", "0");
			expect("cpuset", "cpuset.mems", "0");
		}
		expect("pids", "pids.max", "64");
		if (v1_has("blkio"))
			expect_has("blkio", "blkio.throttle.read_bps_device", "7:0 1048576");
		if (has_weight)
			expect("blkio", "blkio.weight", "500");
		CHECK((fc_cgroup_clone_fd(g_cg) >= 0) ==
		          (fc_cgroup_host_mode() == FC_CGROUP_HYBRID),
		      "clone fd: the unified tree on a hybrid host, none on pure v1");
		if (huge) {
			if (v1_has("hugetlb"))
				expect("hugetlb", "hugetlb.2MB.limit_in_bytes", "4194304");
			else
				expect(NULL, "hugetlb.2MB.max", "4194304");
		}
		/* deny all, then the rules, then runc's defaults */
		_cleanup_free_ char *dl = NULL, *dd = dir_of("devices");
		dl = dd ? slurp(dd, "devices.list") : NULL;
		CHECK(dl && !strstr(dl, "a *:* rwm"), "devices.list still allows all: %s",
		      dl ? dl : "(missing)");
		CHECK(dl && strstr(dl, "c 1:3 rw"), "devices.list: no c 1:3: %s", dl ? dl : "");
		CHECK(dl && strstr(dl, "b 7:* r"), "devices.list: no b 7:* r: %s", dl ? dl : "");
		CHECK(dl && strstr(dl, "c 136:* rwm"), "devices.list: no c 136:*: %s",
		      dl ? dl : "");
		CHECK(dl && strstr(dl, "c *:* m"), "devices.list: no c *:* m: %s", dl ? dl : "");
		CHECK(dl && !strstr(dl, "c 1:1 "), "devices.list allows /dev/mem: %s",
		      dl ? dl : "");
		/* the unified tree has the cgroup as well */
		if (g_mode == FC_CGROUP_HYBRID) {
			_cleanup_free_ char *u = dir_of(NULL);
			CHECK(access(u, F_OK) == 0, "no %s", u);
		}
	}

	/* A child that answers SIGUSR1 on a pipe, placed in the cgroup. */
	if (pipe2(sync_pipe, O_CLOEXEC) < 0 || pipe2(sig_pipe, O_CLOEXEC) < 0)
		die("pipe", NULL);
	/* SIGUSR1 is blocked before the fork, so it waits for sigwait() even if
	 * the child has not run at all before the freeze. */
	sigset_t usr1;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	g_child = fork();
	if (g_child < 0)
		die("fork", NULL);
	if (g_child == 0) {
		char c;
		sigset_t set = usr1;
		int sig;
		close(sync_pipe[1]);
		if (read(sync_pipe[0], &c, 1) != 1 || write(sig_pipe[1], "r", 1) != 1)
			_exit(2);
		for (;;) {
			if (sigwait(&set, &sig) == 0 && write(sig_pipe[1], "u", 1) != 1)
				_exit(3);
		}
	}
	close(sync_pipe[0]);
	if (fc_cgroup_enter(g_cg, g_child, false, &e) < 0)
		die("enter", e);
	sigprocmask(SIG_UNBLOCK, &usr1, NULL);
	if (write(sync_pipe[1], "g", 1) != 1)
		die("sync", NULL);
	close(sync_pipe[1]);
	if (!read_answer(sig_pipe[0], 'r'))
		die("child not ready", NULL);
	check_proc_cgroup(g_child);

	/* pids */
	{
		pid_t *pids = NULL;
		size_t n = 0;
		if (fc_cgroup_pids(g_cg, &pids, &n, &e) < 0)
			die("pids", e);
		CHECK(n == 1 && pids[0] == g_child, "pids: %zu pids, first %d (child %d)", n,
		      n ? (int)pids[0] : -1, (int)g_child);
		free(pids);
	}

	/* freeze: a signal is not handled while frozen, and is once thawed */
	{
		struct pollfd pfd = {sig_pipe[0], POLLIN, 0};
		CHECK(!fc_cgroup_is_frozen(g_cg), "frozen before freeze");
		if (fc_cgroup_freeze(g_cg, true, &e) < 0)
			die("freeze", e);
		CHECK(fc_cgroup_is_frozen(g_cg), "not frozen after freeze");
		if (g_mode == FC_CGROUP_V2)
			expect_has(NULL, "cgroup.events", "frozen 1");
		else
			expect("freezer", "freezer.state", "FROZEN");
		kill(g_child, SIGUSR1);
		CHECK(poll(&pfd, 1, 300) == 0, "frozen child answered a signal");
		if (fc_cgroup_freeze(g_cg, false, &e) < 0)
			die("thaw", e);
		CHECK(!fc_cgroup_is_frozen(g_cg), "frozen after thaw");
		CHECK(read_answer(sig_pipe[0], 'u'), "thawed child did not answer");
	}

	/* stats */
	{
		_cleanup_buf_ struct fc_buf b = {0};
		uint64_t oom = 99;
		if (fc_cgroup_stats_json(g_cg, &b, &e) < 0)
			die("stats", e);
		fc_buf_append(&b, "", 1);
		printf("# stats %s\n", b.data);
		CHECK(json_ok(b.data, h_pids), "stats JSON: %s", b.data);
		if (h_mem)
			CHECK(fc_cgroup_oom_count(g_cg, &oom) == 0 && oom == 0,
			      "oom count %" PRIu64, oom);
	}

	/* update */
	{
		struct fc_resources up = {0};
		up.memory.has_limit = h_mem;
		up.memory.limit = 128 << 20;
		if (memsw) {
			up.memory.has_swap = true;
			up.memory.swap = 256 << 20;
		}
		up.pids.has_limit = h_pids;
		up.pids.limit = 0;
		up.cpu.has_quota = h_cpu;
		up.cpu.quota = -1;
		/* blkio weight: blkio.weight, or blkio.bfq.weight with BFQ (cgroups below
		 * the root only) */
		_cleanup_free_ char *bd = g_mode == FC_CGROUP_V2 ? NULL : dir_of("blkio");
		const char *wf = NULL;
		if (bd && cg_exists(bd, "blkio.weight"))
			wf = "blkio.weight";
		else if (bd && cg_exists(bd, "blkio.bfq.weight"))
			wf = "blkio.bfq.weight";
		if (wf) {
			up.blkio.has_weight = true;
			up.blkio.weight = 300;
		}
		if (fc_cgroup_apply(g_cg, &up, &e) < 0)
			die("update", e);
		if (wf)
			expect("blkio", wf, "300");
		if (g_mode == FC_CGROUP_V2) {
			if (h_mem)
				expect(NULL, "memory.max", "134217728");
			if (memsw)
				expect(NULL, "memory.swap.max", "134217728");
			if (h_pids)
				expect(NULL, "pids.max", "max");
			if (h_cpu)
				expect(NULL, "cpu.max", "max 100000");
		} else {
			expect("memory", "memory.limit_in_bytes", "134217728");
			if (memsw)
				expect("memory", "memory.memsw.limit_in_bytes", "268435456");
			expect("pids", "pids.max", "max");
			expect("cpu", "cpu.cfs_quota_us", "-1");
		}
		/* a refused value names the file and the value */
		struct fc_resources bad = {0};
		bad.cpu.cpus = "99";
		if (h_cpuset)
			CHECK(fc_cgroup_apply(g_cg, &bad, &e) < 0 && e &&
			          strstr(e->msg, "cpuset.cpus") && strstr(e->msg, "99"),
			      "bad cpuset: %s", e ? e->msg : "accepted");
		fc_error_free(e);
		e = NULL;
	}

	/* Nested cgroups (as a container may make): device rules can still be
	 * re-applied, and destroy removes the children first. */
	{
		const char *ctrls[] = {"devices", "memory", NULL};
		struct fc_resources up = {.devices = devs, .n_devices = FC_ARRAY_SIZE(devs)};
		for (size_t i = 0; ctrls[i]; i++) {
			_cleanup_free_ char *d = dir_of(g_mode == FC_CGROUP_V2 ? NULL : ctrls[i]);
			_cleanup_free_ char *sub = d ? fc_asprintf("%s/sub/sub2", d) : NULL;
			CHECK(sub && fc_mkdir_p_at(AT_FDCWD, sub, 0755, &e) == 0, "mkdir %s",
			      sub ? sub : ctrls[i]);
			fc_error_free(e);
			e = NULL;
		}
		CHECK(fc_cgroup_apply(g_cg, &up, &e) == 0, "devices with nested cgroups: %s",
		      e ? e->msg : "");
		fc_error_free(e);
		e = NULL;
	}

	/* destroy while frozen: the child is killed, the directories are gone */
	{
		int st;
		const char *ctrls[] = {"memory",  "cpu",   "pids",   "freezer",
		                       "devices", "blkio", "cpuset", NULL};
		if (fc_cgroup_freeze(g_cg, true, &e) < 0)
			die("freeze", e);
		if (fc_cgroup_destroy(g_cg, &e) < 0)
			die("destroy", e);
		CHECK(waitpid(g_child, &st, 0) == g_child && WIFSIGNALED(st) &&
		          WTERMSIG(st) == SIGKILL,
		      "child not killed by SIGKILL");
		g_child = -1;
		for (size_t i = 0; g_mode != FC_CGROUP_V2 && ctrls[i]; i++) {
			char buf[512];
			if (!v1_has(ctrls[i]))
				continue;
			snprintf(buf, sizeof(buf), "/sys/fs/cgroup/%s%s", ctrls[i], g_path);
			CHECK(access(buf, F_OK) < 0 && errno == ENOENT, "%s still exists", buf);
		}
		_cleanup_free_ char *u = g_mode == FC_CGROUP_V1 ? NULL : dir_of(NULL);
		CHECK(!u || (access(u, F_OK) < 0 && errno == ENOENT), "%s still exists", u);
		fc_cgroup_free(g_cg);
		g_cg = NULL;
	}

	/* the parent stays (as runc's), tagged as fcrun's; fc_cgroup_remove_parents
	 * removes it once empty (another test's container may be in it now) */
	{
		const char *par =
		    g_mode == FC_CGROUP_V2 ? "/sys/fs/cgroup/fcrun" : "/sys/fs/cgroup/pids/fcrun";
		char v[16] = "";
		ssize_t n = lgetxattr(par, "trusted.fcrun", v, sizeof(v) - 1);
		CHECK(n == 6 && !memcmp(v, "parent", 6), "%s not kept with trusted.fcrun=parent",
		      par);
		int r = -EBUSY;
		for (int i = 0; i < 50 && r == -EBUSY; i++) {
			fc_error_free(e);
			e = NULL;
			if ((r = fc_cgroup_remove_parents("/fcrun", &e)) == -EBUSY)
				usleep(20000);
		}
		CHECK(r == 0, "remove the parents: %s", e ? e->msg : "");
		fc_error_free(e);
		e = NULL;
		CHECK(access(par, F_OK) < 0 || has_subdir(par), "%s empty but not removed", par);
	}

	if (g_mode != FC_CGROUP_V1)
		test_device_filter();
	if (g_mode != FC_CGROUP_V2 && v1_has("devices"))
		test_v1_default_devices();

	test_recycle();

	/* destroying a cgroup that does not exist is fine */
	{
		struct fc_cgroup *cg = NULL;
		CHECK(fc_cgroup_open(g_path, &cg, &e) == 0 && fc_cgroup_destroy(cg, &e) == 0,
		      "destroy of a missing cgroup: %s", e ? e->msg : "");
		fc_cgroup_free(cg);
		fc_error_free(e);
	}
	printf("%d checks, %d failures\n", checks, failures);
	if (g_mode == FC_CGROUP_HYBRID && !simulated) {
		int r;
		fflush(stdout);
		for (int v2 = 1; v2 >= 0; v2--) {
			fflush(stdout);
			r = run_simulated("/proc/self/exe", v2);
			if (r == 77)
				printf("# simulated %s run skipped\n", v2 ? "v2" : "v1");
			else if (r != 0)
				failures++;
		}
	}
	return failures ? 1 : 0;
}
