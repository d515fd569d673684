/* SPDX-License-Identifier: MIT */
/* libfcrt hand-over: create a container ahead of time (socket wait), then
 * start it with per-invocation stdio, environment and arguments, as the pool
 * does. Root only; exits 77 otherwise. */
#include "fcrt.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>

static int failures;
static void check(bool ok, const char *what)
{
	printf("%s - %s\n", ok ? "ok" : "not ok", what);
	if (!ok)
		failures++;
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
	fc_rm_rf_at(AT_FDCWD, dir, &err);
	printf("1..5\n");
	return failures ? 1 : 0;
}
