/* SPDX-License-Identifier: MIT */
/* test-seccomp: compile filters with fc_seccomp_compile and install them in
 * forked children (after PR_SET_NO_NEW_PRIVS, so no root is needed). */
#include "security.h"

#include <linux/seccomp.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <poll.h>

static int failures;
static char tmpdir[] = "/tmp/fc-test-seccomp-XXXXXX";

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                       \
			fprintf(stderr, __VA_ARGS__);                                              \
			fprintf(stderr, "\n");                                                     \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

static struct fc_seccomp_prog *compile_ok(const struct fc_seccomp *s)
{
	struct fc_seccomp_prog *p = NULL;
	_cleanup_error_ struct fc_error *err = NULL;
	int r = fc_seccomp_compile(s, &p, &err);
	CHECK(r == 0, "compile: %s", err ? err->msg : "?");
	CHECK(p != NULL, "compile returned no program");
	return p;
}

/* Fork; the child sets no_new_privs, installs p and returns the value of
 * fn (its exit status). Returns the raw wait status. */
static int run_child(const struct fc_seccomp_prog *p, int (*fn)(int notify_fd))
{
	pid_t pid = fork();
	int status;

	if (pid < 0) {
		perror("fork");
		exit(1);
	}
	if (pid == 0) {
		struct fc_error *err = NULL;
		int nfd;
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			_exit(90);
		if (fc_seccomp_install(p, &nfd, &err) < 0) {
			fprintf(stderr, "install: %s\n", err->msg);
			_exit(91);
		}
		/* raw exit_group: sanitizer exit hooks would need syscalls the filter denies */
		syscall(SYS_exit_group, fn(nfd));
		_exit(99);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			perror("waitpid");
			exit(1);
		}
	return status;
}

static char mkdir_path[512];

static int child_basic(int nfd)
{
	struct utsname u;
	if (nfd != -1)
		return 10;
	if (syscall(SYS_mkdir, mkdir_path, 0700) == 0 || errno != EPERM)
		return 11;
	if (syscall(SYS_mkdirat, AT_FDCWD, mkdir_path, 0700) == 0 || errno != EPERM)
		return 12;
	/* uname(NULL) hits the rule (arg0 == 0): EPERM instead of EFAULT. */
	if (syscall(SYS_uname, NULL) == 0 || errno != EPERM)
		return 13;
	if (uname(&u) != 0)
		return 14;
	return 0;
}

static void test_basic(void)
{
	char *mkdir_names[] = {"mkdir", "mkdirat", "no_such_syscall_at_all", NULL};
	char *uname_names[] = {"uname", NULL};
	char *allow_names[] = {"getpid", NULL};
	struct fc_seccomp_arg uname_args[] = {{.index = 0, .value = 0, .op = SCMP_CMP_EQ}};
	struct fc_seccomp_syscall sc[] = {
	    {.names = mkdir_names, .action = SCMP_ACT_ERRNO(EPERM)},
	    {.names = uname_names,
	     .action = SCMP_ACT_ERRNO(EPERM),
	     .args = uname_args,
	     .n_args = 1},
	    /* same action as the default: skipped, not an error */
	    {.names = allow_names, .action = SCMP_ACT_ALLOW},
	};
	struct fc_seccomp s = {.default_action = SCMP_ACT_ALLOW, .syscalls = sc, .n_syscalls = 3};
	struct fc_seccomp_prog *p = compile_ok(&s);
	int st;

	if (!p)
		return;
	snprintf(mkdir_path, sizeof(mkdir_path), "%s/d", tmpdir);
	st = run_child(p, child_basic);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "basic child status 0x%x", st);
	/* The parent has no filter: mkdir works there. */
	CHECK(syscall(SYS_mkdir, mkdir_path, 0700) == 0, "mkdir in parent: %s", strerror(errno));
	rmdir(mkdir_path);
	fc_seccomp_prog_free(p);
}

static int child_masked(int nfd)
{
	/* EPERM when O_CREAT or O_TRUNC is set, else allowed. */
	char path[600];
	int fd;
	snprintf(path, sizeof(path), "%s/f", tmpdir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0 || errno != EPERM)
		return 20;
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 21;
	close(fd);
	/* second condition of the OR: O_TRUNC */
	fd = open("/dev/null", O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd >= 0 || errno != EPERM)
		return 22;
	return 0;
}

static void test_same_index_or(void)
{
	/* openat(dirfd, path, flags): two conditions on arg 2 (OR). glibc's
	 * open() is openat(). */
	char *names[] = {"openat", NULL};
	struct fc_seccomp_arg args[] = {
	    {.index = 2, .value = O_CREAT, .value_two = O_CREAT, .op = SCMP_CMP_MASKED_EQ},
	    {.index = 2, .value = O_TRUNC, .value_two = O_TRUNC, .op = SCMP_CMP_MASKED_EQ},
	};
	struct fc_seccomp_syscall sc[] = {
	    {.names = names, .action = SCMP_ACT_ERRNO(EPERM), .args = args, .n_args = 2},
	};
	struct fc_seccomp s = {.default_action = SCMP_ACT_ALLOW, .syscalls = sc, .n_syscalls = 1};
	struct fc_seccomp_prog *p = compile_ok(&s);
	int st;

	if (!p)
		return;
	st = run_child(p, child_masked);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "masked/or child status 0x%x", st);
	fc_seccomp_prog_free(p);
}

static void test_arches(void)
{
	char *names[] = {"mkdir", "socketcall", "ipc", NULL};
	uint32_t arches[] = {SCMP_ARCH_X86_64, SCMP_ARCH_X86, SCMP_ARCH_X32};
	struct fc_seccomp_syscall sc[] = {{.names = names, .action = SCMP_ACT_ERRNO(EPERM)}};
	struct fc_seccomp s1 = {.default_action = SCMP_ACT_ALLOW, .syscalls = sc, .n_syscalls = 1};
	struct fc_seccomp s3 = s1;
	struct fc_seccomp_prog *p1, *p3;
	int st;

	s3.architectures = arches;
	s3.n_architectures = 3;
	p1 = compile_ok(&s1);
	p3 = compile_ok(&s3);
	if (!p1 || !p3)
		goto out;
	snprintf(mkdir_path, sizeof(mkdir_path), "%s/d", tmpdir);
	st = run_child(p3, child_basic);
	/* child_basic also checks mkdirat/uname, which this filter does not
	 * block: exit 12 means mkdir was blocked as expected. */
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 12, "arches child status 0x%x", st);
out:
	fc_seccomp_prog_free(p1);
	fc_seccomp_prog_free(p3);
}

static int child_kill_allowed(int nfd)
{
	/* only allowed syscalls */
	syscall(SYS_getpid);
	syscall(SYS_exit_group, 0);
	return 30;
}

static int child_kill_denied(int nfd)
{
	syscall(SYS_getpid);
	syscall(SYS_getppid); /* not allowed: killed with SIGSYS */
	syscall(SYS_exit_group, 31);
	return 31;
}

static void test_kill_default(void)
{
	char *names[] = {"getpid", "exit_group", "exit", "write", NULL};
	struct fc_seccomp_syscall sc[] = {{.names = names, .action = SCMP_ACT_ALLOW}};
	struct fc_seccomp s = {.default_action = SCMP_ACT_KILL, .syscalls = sc, .n_syscalls = 1};
	struct fc_seccomp_prog *p = compile_ok(&s);
	int st;

	if (!p)
		return;
	st = run_child(p, child_kill_allowed);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "kill/allowed child status 0x%x", st);
	st = run_child(p, child_kill_denied);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS, "kill/denied child status 0x%x", st);
	fc_seccomp_prog_free(p);
}

static int child_notify(int nfd)
{
	struct seccomp_notif req;
	struct seccomp_notif_resp resp;
	pid_t pid;
	int st;

	if (nfd < 0)
		return 40;
	if (!(fcntl(nfd, F_GETFD) & FD_CLOEXEC))
		return 41;
	pid = fork();
	if (pid < 0)
		return 42;
	if (pid == 0) {
		/* the supervisor answers 4242 */
		long r = syscall(SYS_getppid);
		_exit(r == 4242 ? 0 : 1);
	}
	/* Guard against a hang when the rule is missing (not a timing check). */
	struct pollfd pfd = {.fd = nfd, .events = POLLIN};
	if (poll(&pfd, 1, 20000) != 1) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		return 48;
	}
	memset(&req, 0, sizeof(req));
	if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0)
		return 43;
	if (req.data.nr != SYS_getppid)
		return 44;
	memset(&resp, 0, sizeof(resp));
	resp.id = req.id;
	resp.val = 4242;
	if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0)
		return 45;
	if (waitpid(pid, &st, 0) != pid)
		return 46;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 47;
}

static void test_notify(void)
{
	char *names[] = {"getppid", NULL};
	struct fc_seccomp_syscall sc[] = {{.names = names, .action = SCMP_ACT_NOTIFY}};
	struct fc_seccomp s = {.default_action = SCMP_ACT_ALLOW, .syscalls = sc, .n_syscalls = 1};
	struct fc_seccomp_prog *p;
	int st;

	if (seccomp_api_get() < 5) {
		printf("# notify: libseccomp API level %u < 5, not tested\n", seccomp_api_get());
		return;
	}
	p = compile_ok(&s);
	if (!p)
		return;
	st = run_child(p, child_notify);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "notify child status 0x%x", st);
	fc_seccomp_prog_free(p);
	{
		/* runc's and crun's rule: no notify on write */
		char *w[] = {"read", "write", NULL};
		struct fc_seccomp_syscall wsc[] = {{.names = w, .action = SCMP_ACT_NOTIFY}};
		struct fc_seccomp ws = {
		    .default_action = SCMP_ACT_ALLOW, .syscalls = wsc, .n_syscalls = 1};
		_cleanup_error_ struct fc_error *err = NULL;
		p = NULL;
		CHECK(fc_seccomp_compile(&ws, &p, &err) < 0 && !p && err &&
		          strstr(err->msg, "SCMP_ACT_NOTIFY cannot be used for the write syscall"),
		      "notify on write refused: %s", err ? err->msg : "accepted");
	}
}

static int child_flags(int nfd)
{
	return nfd == -1 ? 0 : 50;
}

static void test_flags_and_errors(void)
{
	char *names[] = {"mkdir", NULL};
	char *ok_flags[] = {"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
	                    "SECCOMP_FILTER_FLAG_TSYNC", NULL};
	char *bad_flags[] = {"SECCOMP_FILTER_FLAG_BOGUS", NULL};
	struct fc_seccomp_arg bad_args[] = {{.index = 6, .value = 0, .op = SCMP_CMP_EQ}};
	uint32_t bad_arch[] = {0x12345678};
	struct fc_seccomp_syscall sc[] = {{.names = names, .action = SCMP_ACT_ERRNO(EPERM)}};
	struct fc_seccomp s = {.default_action = SCMP_ACT_ALLOW, .syscalls = sc, .n_syscalls = 1};
	struct fc_seccomp_prog *p = NULL;
	struct fc_error *err = NULL;
	int r, st;

	s.flags = ok_flags;
	p = compile_ok(&s);
	if (p) {
		st = run_child(p, child_flags);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "flags child status 0x%x", st);
		fc_seccomp_prog_free(p);
	}

	s.flags = bad_flags;
	r = fc_seccomp_compile(&s, &p, &err);
	CHECK(r == -EINVAL && p == NULL && err && strstr(err->msg, "SECCOMP_FILTER_FLAG_BOGUS"),
	      "bad flag: r=%d msg=%s", r, err ? err->msg : "(none)");
	fc_error_free(err);
	err = NULL;
	s.flags = NULL;

	s.architectures = bad_arch;
	s.n_architectures = 1;
	r = fc_seccomp_compile(&s, &p, &err);
	CHECK(r < 0 && p == NULL && err && strstr(err->msg, "architecture"),
	      "bad arch: r=%d msg=%s", r, err ? err->msg : "(none)");
	fc_error_free(err);
	err = NULL;
	s.n_architectures = 0;

	sc[0].args = bad_args;
	sc[0].n_args = 1;
	r = fc_seccomp_compile(&s, &p, &err);
	CHECK(r == -EINVAL && err && strstr(err->msg, "mkdir"), "bad index: r=%d msg=%s", r,
	      err ? err->msg : "(none)");
	fc_error_free(err);
	err = NULL;
	sc[0].args = NULL;
	sc[0].n_args = 0;

	s.default_action = SCMP_ACT_NOTIFY;
	r = fc_seccomp_compile(&s, &p, &err);
	CHECK(r == -EINVAL && err, "notify default: r=%d", r);
	fc_error_free(err);
	err = NULL;

	/* NULL spec: no program, install is a no-op */
	p = (struct fc_seccomp_prog *)1;
	r = fc_seccomp_compile(NULL, &p, &err);
	CHECK(r == 0 && p == NULL, "NULL spec");
	int nfd = 5;
	r = fc_seccomp_install(NULL, &nfd, &err);
	CHECK(r == 0 && nfd == -1, "install NULL");

	/* Without no_new_privs and without CAP_SYS_ADMIN install must fail
	 * with EACCES; only checkable when not root. */
	if (geteuid() != 0) {
		s.default_action = SCMP_ACT_ALLOW;
		p = compile_ok(&s);
		pid_t pid = fork();
		if (pid == 0) {
			struct fc_error *e = NULL;
			int x = fc_seccomp_install(p, NULL, &e);
			_exit(x == -EACCES ? 0 : 1);
		}
		waitpid(pid, &st, 0);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "install without nnp status 0x%x", st);
		fc_seccomp_prog_free(p);
	}
}

static int child_enosys(int nfd)
{
	/* below the profile's highest syscall (openat, 257): default action */
	if (syscall(SYS_getppid) != -1 || errno != EPERM)
		return 60;
	/* above it: ENOSYS, as runc does for syscalls newer than the profile */
	if (syscall(SYS_io_uring_setup, 1, NULL) != -1 || errno != ENOSYS)
		return 61;
	if (syscall(1000) != -1 || errno != ENOSYS)
		return 62;
	/* listed and allowed */
	if (syscall(SYS_getpid) <= 0)
		return 63;
	return 0;
}

static void test_enosys(void)
{
	char *names[] = {"getpid", "exit_group", "exit", "openat", "write", NULL};
	uint32_t arches[] = {SCMP_ARCH_X86_64, SCMP_ARCH_X86, SCMP_ARCH_X32};
	struct fc_seccomp_syscall sc[] = {{.names = names, .action = SCMP_ACT_ALLOW}};
	struct fc_seccomp s = {
	    .default_action = SCMP_ACT_ERRNO(EPERM), .syscalls = sc, .n_syscalls = 1};
	struct fc_seccomp_prog *p;
	int st;

	p = compile_ok(&s);
	if (p) {
		st = run_child(p, child_enosys);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "enosys child status 0x%x", st);
		fc_seccomp_prog_free(p);
	}
	s.architectures = arches;
	s.n_architectures = 3;
	p = compile_ok(&s);
	if (p) {
		st = run_child(p, child_enosys);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "enosys/3 arches child status 0x%x",
		      st);
		fc_seccomp_prog_free(p);
	}
}

static bool strv_has(const char *const *v, const char *s)
{
	for (; v && *v; v++)
		if (FC_STREQ(*v, s))
			return true;
	return false;
}

static void test_known(void)
{
	CHECK(strv_has(fc_seccomp_known_actions(), "SCMP_ACT_ALLOW"), "actions");
	CHECK(strv_has(fc_seccomp_known_actions(), "SCMP_ACT_NOTIFY"), "actions notify");
	CHECK(strv_has(fc_seccomp_known_operators(), "SCMP_CMP_MASKED_EQ"), "operators");
	CHECK(strv_has(fc_seccomp_known_archs(), "SCMP_ARCH_X86_64"), "archs");
	CHECK(strv_has(fc_seccomp_known_archs(), "SCMP_ARCH_AARCH64"), "archs aarch64");
	CHECK(strv_has(fc_seccomp_known_flags(), "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"),
	      "flags");
	char **caps = fc_caps_known();
	CHECK(caps && strv_has((const char *const *)caps, "CAP_CHOWN") &&
	          strv_has((const char *const *)caps, "CAP_SYS_ADMIN"),
	      "caps known");
	fc_strv_free(caps);
}

int main(void)
{
#if !defined(__x86_64__)
	printf("SKIP: test written for x86_64 (syscall names and arch list)\n");
	return 77;
#endif
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	test_known();
	test_basic();
	test_same_index_or();
	test_arches();
	test_kill_default();
	test_notify();
	test_enosys();
	test_flags_and_errors();
	fc_rm_rf_at(AT_FDCWD, tmpdir, NULL);
	if (failures) {
		fprintf(stderr, "%d check(s) failed\n", failures);
		return 1;
	}
	printf("ok\n");
	return 0;
}
