/* SPDX-License-Identifier: MIT */
/* libfcrt hand-over: create a container ahead of time (socket wait), then
 * start it with per-invocation stdio, environment and arguments, as the pool
 * does. Root only; exits 77 otherwise. */
#include "fcrt.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

static int failures, n_checks;
static void check(bool ok, const char *what)
{
	printf("%s - %s\n", ok ? "ok" : "not ok", what);
	n_checks++;
	if (!ok)
		failures++;
}

/* Run argv in container id (created with a socket wait, as the pool does);
 * its stdout, or NULL when the create was refused (*err set). */
static char *handover_output(const char *root, const char *id, const char *bundle, char **argv,
                             struct fc_error **err)
{
	struct fcrt_create_opts o = {
	    .root = root, .id = id, .bundle = bundle, .wait = FCRT_WAIT_SOCKET};
	struct fcrt_container *c = NULL;
	if (fcrt_create(&o, &c, err) < 0)
		return NULL;
	int out[2];
	if (pipe2(out, O_CLOEXEC) < 0)
		exit(1);
	struct fcrt_start_args a = {.stdio = {-1, out[1], out[1]}, .argv = argv};
	char *buf = fc_calloc(1, 4096);
	if (fcrt_start_socket_ex(c, &a, err) == 0) {
		close(out[1]);
		fc_read_all(out[0], buf, 4095);
	} else {
		close(out[1]);
	}
	close(out[0]);
	waitpid(c->pid, NULL, 0);
	fcrt_container_free(c);
	struct fc_error *e2 = NULL;
	fcrt_delete(root, id, true, &e2);
	fc_error_free(e2);
	return buf;
}

/* The pool takes process.cwd from an image's WorkingDir: /proc/self/fd/N
 * must not reach a directory the creating process (the pool's fork server)
 * holds open: a host canary stays unread and unchanged. */
static void hostile_cwd(const char *src, const char *dir, const char *root)
{
	_cleanup_free_ char *host = fc_asprintf("%s/host", dir);
	_cleanup_free_ char *canary = fc_asprintf("%s/canary", host);
	_cleanup_free_ char *bundle = fc_asprintf("%s/hb", dir);
	const char secret[] = "handover-canary-4242";
	struct fc_error *err = NULL;
	if (mkdir(host, 0755) < 0 ||
	    fc_write_file_atomic_at(AT_FDCWD, canary, secret, sizeof(secret) - 1, 0644, &err) < 0)
		exit(1);
	/* not close-on-exec or close-on-exec: a clone inherits it either way */
	int hfd = open(host, O_RDONLY | O_DIRECTORY);
	_cleanup_free_ char *cmd =
	    fc_asprintf("%s/tests/lib/mkbundle.sh %s /bin/true >/dev/null", src, bundle);
	if (hfd < 0 || system(cmd) != 0)
		exit(1);
	char *argv[] = {"/bin/sh", "-c",
	                "cat canary ../canary ../../canary 2>/dev/null; echo pwned >>canary", NULL};
	bool leaked = false, refused = true;
	for (int n = 3; n <= 20; n++) {
		_cleanup_free_ char *jq = fc_asprintf(
		    "cd %s && jq '.process.cwd = \"/proc/self/fd/%d\"' config.json >c.new && "
		    "mv c.new config.json",
		    bundle, n);
		if (system(jq) != 0)
			exit(1);
		struct fc_error *e = NULL;
		_cleanup_free_ char *out = handover_output(root, "hx", bundle, argv, &e);
		if (out && strstr(out, secret))
			leaked = true;
		if (n == hfd) {
			refused = !out && e && strstr(e->msg, "process.cwd");
			if (e)
				printf("# cwd /proc/self/fd/%d (the host dir): %s\n", n, e->msg);
		}
		fc_error_free(e);
	}
	char now[64] = {0};
	int cfd = open(canary, O_RDONLY | O_CLOEXEC);
	if (cfd >= 0) {
		fc_read_all(cfd, now, sizeof(now) - 1);
		close(cfd);
	}
	close(hfd);
	check(!leaked, "hand-over: cwd /proc/self/fd/N (N in 3..20) never reads the host canary");
	check(strcmp(now, secret) == 0, "hand-over: the host canary is unchanged");
	check(refused,
	      "hand-over: cwd naming the host dir the creator holds is refused (process.cwd)");
	/* An invocation's argv naming the runtime's binary (CVE-2019-5736). */
	char *exe[] = {"/proc/self/exe", "--version", NULL};
	_cleanup_free_ char *jq =
	    fc_asprintf("cd %s && jq '.process.cwd = \"/\"' config.json >c.new && "
	                "mv c.new config.json",
	                bundle);
	if (system(jq) != 0)
		exit(1);
	struct fc_error *e = NULL;
	_cleanup_free_ char *out = handover_output(root, "hexe", bundle, exe, &e);
	check(e && strstr(e->msg, "process.args[0]") && strstr(e->msg, "refused"),
	      "hand-over: argv /proc/self/exe (the runtime's binary) is refused");
	if (e)
		printf("# %s\n", e->msg);
	fc_error_free(e);
}

int main(void)
{
	if (getuid() != 0) {
		printf("1..0 # SKIP needs root\n");
		return 77;
	}
	const char *src = getenv("FC_SOURCE_ROOT");
	char tmpl[] = "/tmp/fcrun-handover.XXXXXX";
	char *dir = mkdtemp(tmpl);
	if (!src || !dir) {
		printf("1..0 # SKIP FC_SOURCE_ROOT not set\n");
		return 77;
	}
	char *root = fc_asprintf("%s/state", dir), *bundle = fc_asprintf("%s/b", dir);
	char *cmd = fc_asprintf("%s/tests/lib/mkbundle.sh %s /bin/false >/dev/null", src, bundle);
	if (system(cmd) != 0) {
		printf("1..0 # SKIP cannot build a bundle\n");
		return 77;
	}
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	struct fcrt_create_opts o = {
	    .root = root, .id = "h1", .bundle = bundle, .wait = FCRT_WAIT_SOCKET};
	struct fcrt_container *c = NULL;
	struct fc_error *err = NULL;
	int r = fcrt_create(&o, &c, &err);
	check(r == 0, "create with a socket wait");
	if (r < 0) {
		printf("# %s\n", err->msg);
		return 1;
	}
	int in[2], out[2];
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
		return 1;
	char *env[] = {"GREETING=hello from the pool", NULL};
	char *argv[] = {"/bin/sh", "-c", "read line; echo \"$GREETING: $line\"; exit 5", NULL};
	struct fcrt_start_args a = {.stdio = {in[0], out[1], -1}, .env = env, .argv = argv};
	r = fcrt_start_socket_ex(c, &a, &err);
	check(r == 0, "start with stdio, env and argv");
	if (r < 0)
		printf("# %s\n", err->msg);
	close(in[0]);
	close(out[1]);
	(void)!write(in[1], "request\n", 8);
	close(in[1]);
	char buf[256] = {0};
	ssize_t n = fc_read_all(out[0], buf, sizeof(buf) - 1);
	check(n > 0 && strcmp(buf, "hello from the pool: request\n") == 0,
	      "response from the function");
	if (n > 0)
		printf("# got: %s", buf);
	int st = 0;
	check(waitpid(c->pid, &st, 0) == c->pid && WIFEXITED(st) && WEXITSTATUS(st) == 5,
	      "exit status reaches the creator");
	fcrt_container_free(c);
	r = fcrt_delete(root, "h1", true, &err);
	check(r == 0, "delete");
	hostile_cwd(src, dir, root);
	fc_rm_rf_at(AT_FDCWD, dir, &err);
	fc_error_free(err);
	free(root);
	free(bundle);
	free(cmd);
	printf("1..%d\n", n_checks);
	return failures ? 1 : 0;
}
