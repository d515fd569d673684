/* SPDX-License-Identifier: MIT */
/* test-identity: fc_identity_apply and fc_rlimits_apply in forked children
 * (root needed), checked against /proc/self/status and getrlimit/umask. */
#include "security.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

static int failures;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                       \
			fprintf(stderr, __VA_ARGS__);                                              \
			fprintf(stderr, "\n");                                                     \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

/* In the child: report a failed check on stderr and count it in *bad. */
#define CCHECK(cond, ...)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "FAIL (child) %s:%d: ", __FILE__, __LINE__);               \
			fprintf(stderr, __VA_ARGS__);                                              \
			fprintf(stderr, "\n");                                                     \
			bad++;                                                                     \
		}                                                                                  \
	} while (0)

/* The value after "Key:\t" in /proc/self/status (static buffer). */
static const char *status_field(const char *key)
{
	static char val[512];
	char line[512];
	size_t kl = strlen(key);
	FILE *f = fopen("/proc/self/status", "re");

	val[0] = '\0';
	if (!f)
		return val;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
			char *v = line + kl + 1;
			while (*v == '\t' || *v == ' ')
				v++;
			v[strcspn(v, "\n")] = '\0';
			for (size_t n = strlen(v); n > 0 && v[n - 1] == ' '; n--)
				v[n - 1] = '\0';
			snprintf(val, sizeof(val), "%s", v);
			break;
		}
	}
	fclose(f);
	return val;
}

static uint64_t status_caps(const char *key)
{
	return strtoull(status_field(key), NULL, 16);
}

static uint64_t mask(const int *caps, size_t n)
{
	uint64_t m = 0;
	for (size_t i = 0; i < n; i++)
		m |= 1ULL << caps[i];
	return m;
}

/* The capabilities this test started with (root here may lack some, e.g.
 * CAP_SYS_RESOURCE when run inside a sandbox). */
static uint64_t start_bnd, start_eff;
/* The RLIMIT_NOFILE the full test sets: 64000, or the current hard limit
 * when it is lower and CAP_SYS_RESOURCE is missing. */
static uint64_t nofile = 64000;

typedef int (*child_fn)(const struct fc_process *p);

/* As a container's init does it: the bounding set at create
 * (fc_bounding_apply), the rest at start (fc_identity_apply_rest). */
static bool split;

static int run_child(const struct fc_process *p, child_fn check)
{
	pid_t pid = fork();
	int st;

	if (pid < 0) {
		perror("fork");
		exit(1);
	}
	if (pid == 0) {
		struct fc_error *err = NULL;
		if (fc_rlimits_apply(p, &err) < 0) {
			fprintf(stderr, "rlimits: %s\n", err->msg);
			_exit(2);
		}
		if (split && fc_bounding_apply(p, &err) < 0) {
			fprintf(stderr, "bounding: %s\n", err->msg);
			_exit(3);
		}
		if ((split ? fc_identity_apply_rest(p, &err) : fc_identity_apply(p, &err)) < 0) {
			fprintf(stderr, "identity: %s\n", err->msg);
			_exit(3);
		}
		_exit(check(p) ? 1 : 0);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			perror("waitpid");
			exit(1);
		}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ---- uid 1000 with capabilities, groups, ambient, rlimit, umask ---- */

static int bnd[] = {CAP_CHOWN, CAP_KILL, CAP_NET_BIND_SERVICE, CAP_NET_RAW};
static int eff[] = {CAP_CHOWN, CAP_NET_BIND_SERVICE};
static int prm[] = {CAP_CHOWN, CAP_KILL, CAP_NET_BIND_SERVICE};
static int inh[] = {CAP_KILL, CAP_NET_BIND_SERVICE};
static int amb[] = {CAP_NET_BIND_SERVICE};
static uint32_t gids[] = {1000, 2000, 3000};

static int check_full(const struct fc_process *p)
{
	int bad = 0;
	struct rlimit rl;
	mode_t old;

	CCHECK(status_caps("CapBnd") == mask(bnd, FC_ARRAY_SIZE(bnd)), "CapBnd %s",
	       status_field("CapBnd"));
	CCHECK(status_caps("CapEff") == mask(eff, FC_ARRAY_SIZE(eff)), "CapEff %s",
	       status_field("CapEff"));
	CCHECK(status_caps("CapPrm") == mask(prm, FC_ARRAY_SIZE(prm)), "CapPrm %s",
	       status_field("CapPrm"));
	CCHECK(status_caps("CapInh") == mask(inh, FC_ARRAY_SIZE(inh)), "CapInh %s",
	       status_field("CapInh"));
	CCHECK(status_caps("CapAmb") == mask(amb, FC_ARRAY_SIZE(amb)), "CapAmb %s",
	       status_field("CapAmb"));
	CCHECK(FC_STREQ(status_field("Uid"), "1000\t1000\t1000\t1000"), "Uid %s",
	       status_field("Uid"));
	CCHECK(FC_STREQ(status_field("Gid"), "1000\t1000\t1000\t1000"), "Gid %s",
	       status_field("Gid"));
	CCHECK(FC_STREQ(status_field("Groups"), "1000 2000 3000"), "Groups '%s'",
	       status_field("Groups"));
	CCHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur == nofile && rl.rlim_max == nofile,
	       "RLIMIT_NOFILE %llu/%llu", (unsigned long long)rl.rlim_cur,
	       (unsigned long long)rl.rlim_max);
	CCHECK(FC_STREQ(status_field("Umask"), "0027"), "Umask %s", status_field("Umask"));
	old = umask(0);
	CCHECK(old == 027, "umask %03o", old);
	return bad;
}

static void test_full(void)
{
	struct fc_rlimit rl[] = {{.resource = RLIMIT_NOFILE, .soft = nofile, .hard = nofile}};
	struct fc_process p = {
	    .uid = 1000,
	    .gid = 1000,
	    .additional_gids = gids,
	    .n_additional_gids = FC_ARRAY_SIZE(gids),
	    .has_umask = true,
	    .umask = 027,
	    .rlimits = rl,
	    .n_rlimits = 1,
	    .caps =
	        {
	            .has_caps = true,
	            .bounding = bnd,
	            .n_bounding = FC_ARRAY_SIZE(bnd),
	            .effective = eff,
	            .n_effective = FC_ARRAY_SIZE(eff),
	            .permitted = prm,
	            .n_permitted = FC_ARRAY_SIZE(prm),
	            .inheritable = inh,
	            .n_inheritable = FC_ARRAY_SIZE(inh),
	            .ambient = amb,
	            .n_ambient = FC_ARRAY_SIZE(amb),
	        },
	};
	int r = run_child(&p, check_full);
	CHECK(r == 0, "uid 1000 with caps: child exit %d", r);
}

/* ---- ambient capability not in inheritable: skipped, like runc ---- */

static int amb_bad[] = {CAP_NET_RAW, CAP_NET_BIND_SERVICE};

static int check_amb_skip(const struct fc_process *p)
{
	int bad = 0;
	CCHECK(status_caps("CapAmb") == (1ULL << CAP_NET_BIND_SERVICE), "CapAmb %s",
	       status_field("CapAmb"));
	CCHECK(FC_STREQ(status_field("Groups"), ""), "Groups '%s'", status_field("Groups"));
	CCHECK(FC_STREQ(status_field("Umask"), "0022"), "Umask %s", status_field("Umask"));
	return bad;
}

static void test_ambient_skip(void)
{
	struct fc_process p = {
	    .uid = 1000,
	    .gid = 1000,
	    .caps =
	        {
	            .has_caps = true,
	            .bounding = bnd,
	            .n_bounding = FC_ARRAY_SIZE(bnd),
	            .effective = eff,
	            .n_effective = FC_ARRAY_SIZE(eff),
	            .permitted = prm,
	            .n_permitted = FC_ARRAY_SIZE(prm),
	            .inheritable = inh,
	            .n_inheritable = FC_ARRAY_SIZE(inh),
	            .ambient = amb_bad,
	            .n_ambient = FC_ARRAY_SIZE(amb_bad),
	        },
	};
	int r = run_child(&p, check_amb_skip);
	CHECK(r == 0, "ambient skip: child exit %d", r);
}

/* ---- no process.capabilities ---- */

static int check_root_nocaps(const struct fc_process *p)
{
	int bad = 0;
	CCHECK(status_caps("CapEff") == start_eff, "CapEff %s", status_field("CapEff"));
	CCHECK(status_caps("CapBnd") == start_bnd, "CapBnd %s", status_field("CapBnd"));
	CCHECK(FC_STREQ(status_field("Uid"), "0\t0\t0\t0"), "Uid %s", status_field("Uid"));
	return bad;
}

static int check_user_nocaps(const struct fc_process *p)
{
	int bad = 0;
	CCHECK(status_caps("CapEff") == 0, "CapEff %s", status_field("CapEff"));
	CCHECK(status_caps("CapPrm") == 0, "CapPrm %s", status_field("CapPrm"));
	CCHECK(FC_STREQ(status_field("Uid"), "1234\t1234\t1234\t1234"), "Uid %s",
	       status_field("Uid"));
	CCHECK(FC_STREQ(status_field("Gid"), "4321\t4321\t4321\t4321"), "Gid %s",
	       status_field("Gid"));
	return bad;
}

static void test_nocaps(void)
{
	struct fc_process root = {.uid = 0, .gid = 0};
	struct fc_process user = {.uid = 1234, .gid = 4321};
	int r;

	r = run_child(&root, check_root_nocaps);
	CHECK(r == 0, "root without caps: child exit %d", r);
	r = run_child(&user, check_user_nocaps);
	CHECK(r == 0, "user without caps: child exit %d", r);
}

/* ---- root with a reduced set ---- */

static int root_caps[] = {CAP_CHOWN, CAP_SETUID, CAP_SETGID};

static int check_root_caps(const struct fc_process *p)
{
	int bad = 0;
	uint64_t m = mask(root_caps, FC_ARRAY_SIZE(root_caps));
	CCHECK(status_caps("CapBnd") == m, "CapBnd %s", status_field("CapBnd"));
	CCHECK(status_caps("CapEff") == m, "CapEff %s", status_field("CapEff"));
	CCHECK(status_caps("CapPrm") == m, "CapPrm %s", status_field("CapPrm"));
	CCHECK(status_caps("CapInh") == 0, "CapInh %s", status_field("CapInh"));
	CCHECK(status_caps("CapAmb") == 0, "CapAmb %s", status_field("CapAmb"));
	CCHECK(FC_STREQ(status_field("Groups"), "10"), "Groups '%s'", status_field("Groups"));
	return bad;
}

static void test_root_caps(void)
{
	uint32_t g[] = {10};
	struct fc_process p = {
	    .uid = 0,
	    .gid = 0,
	    .additional_gids = g,
	    .n_additional_gids = 1,
	    .caps =
	        {
	            .has_caps = true,
	            .bounding = root_caps,
	            .n_bounding = FC_ARRAY_SIZE(root_caps),
	            .effective = root_caps,
	            .n_effective = FC_ARRAY_SIZE(root_caps),
	            .permitted = root_caps,
	            .n_permitted = FC_ARRAY_SIZE(root_caps),
	        },
	};
	int r = run_child(&p, check_root_caps);
	CHECK(r == 0, "root with reduced caps: child exit %d", r);
}

/* ---- errors name what failed ---- */

static int err_child(const struct fc_process *p, bool rlimits, int fd)
{
	struct fc_error *err = NULL;
	int r = rlimits ? fc_rlimits_apply(p, &err) : fc_identity_apply(p, &err);
	if (r < 0 && err)
		(void)!write(fd, err->msg, strlen(err->msg));
	return r < 0 ? 0 : 1;
}

/* Run the failing call in a child; return its message (malloc'd). */
static char *error_of(const struct fc_process *p, bool rlimits)
{
	int pfd[2];
	char buf[1024];
	ssize_t n;
	pid_t pid;
	int st;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return NULL;
	pid = fork();
	if (pid == 0)
		_exit(err_child(p, rlimits, pfd[1]));
	close(pfd[1]);
	n = fc_read_all(pfd[0], buf, sizeof(buf) - 1);
	close(pfd[0]);
	waitpid(pid, &st, 0);
	if (n < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return NULL;
	buf[n] = '\0';
	printf("# error message: %s\n", buf);
	return fc_strdup(buf);
}

static void test_errors(void)
{
	struct fc_rlimit rl[] = {{.resource = RLIMIT_NOFILE, .soft = 10, .hard = 5}};
	struct fc_process p1 = {.rlimits = rl, .n_rlimits = 1};
	char *m = error_of(&p1, true);
	CHECK(m && strstr(m, "setrlimit RLIMIT_NOFILE soft=10 hard=5"), "rlimit error: %s",
	      m ? m : "(none)");
	free(m);

	if (nofile != 64000) {
		/* Raising the hard limit without CAP_SYS_RESOURCE: EPERM, named. */
		rl[0].soft = rl[0].hard = 64000;
		m = error_of(&p1, true);
		CHECK(m && strstr(m, "setrlimit RLIMIT_NOFILE soft=64000 hard=64000") &&
		          strstr(m, "Operation not permitted"),
		      "rlimit EPERM error: %s", m ? m : "(none)");
		free(m);
	}

	/* effective not in permitted: capset fails, message names the cap */
	int e[] = {CAP_KILL}, pp[] = {CAP_CHOWN};
	struct fc_process p2 = {
	    .uid = 1000,
	    .gid = 1000,
	    .caps = {.has_caps = true,
	             .bounding = pp,
	             .n_bounding = 1,
	             .effective = e,
	             .n_effective = 1,
	             .permitted = pp,
	             .n_permitted = 1},
	};
	m = error_of(&p2, false);
	CHECK(m && strstr(m, "CAP_KILL"), "capset error: %s", m ? m : "(none)");
	free(m);
}

int main(void)
{
	static const int need[] = {CAP_SETUID, CAP_SETGID,           CAP_SETPCAP, CAP_CHOWN,
	                           CAP_KILL,   CAP_NET_BIND_SERVICE, CAP_NET_RAW};
	struct rlimit cur;

	if (geteuid() != 0) {
		printf("SKIP: needs root (setuid, setgroups, bounding set)\n");
		return 77;
	}
	start_bnd = status_caps("CapBnd");
	start_eff = status_caps("CapEff");
	for (size_t i = 0; i < FC_ARRAY_SIZE(need); i++)
		if (!(start_eff & (1ULL << need[i]))) {
			printf("SKIP: the test process lacks capability %d\n", need[i]);
			return 77;
		}
	if (getrlimit(RLIMIT_NOFILE, &cur) == 0 && cur.rlim_max < 64000 &&
	    !(start_eff & (1ULL << CAP_SYS_RESOURCE))) {
		nofile = cur.rlim_max;
		printf(
		    "# no CAP_SYS_RESOURCE and hard RLIMIT_NOFILE %llu: testing %llu, not 64000\n",
		    (unsigned long long)cur.rlim_max, (unsigned long long)nofile);
	}
	for (int k = 0; k < 2; k++) {
		split = k == 1;
		test_full();
		test_ambient_skip();
		test_nocaps();
		test_root_caps();
	}
	split = false;
	test_errors();
	if (failures) {
		fprintf(stderr, "%d check(s) failed\n", failures);
		return 1;
	}
	printf("ok\n");
	return 0;
}
