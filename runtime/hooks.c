/* SPDX-License-Identifier: MIT */
/* hooks.c: OCI hooks. Each runs with the container state JSON on stdin and
 * its own args and env; a timeout kills it. A failing hook fails the step
 * that ran it (except poststart/poststop, which the caller only logs). */
#include "internal.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

const char *fc_hook_kind_name(enum fc_hook_kind kind)
{
	static const char *const n[] = {"prestart",       "createRuntime", "createContainer",
	                                "startContainer", "poststart",     "poststop"};
	return kind < FC_HOOK_KINDS ? n[kind] : "unknown";
}

static int run_one(const struct fc_hook *h, const char *state, const char *kind,
                   struct fc_error **err)
{
	int in[2];
	if (pipe2(in, O_CLOEXEC) < 0)
		return fc_error_set(err, errno, "%s hook `%s`: pipe", kind, h->path);
	pid_t pid = fork();
	if (pid < 0) {
		close(in[0]);
		close(in[1]);
		return fc_error_set(err, errno, "%s hook `%s`: fork", kind, h->path);
	}
	if (pid == 0) {
		static char *const noenv[] = {NULL};
		char *const fallback[] = {(char *)h->path, NULL};
		dup2(in[0], 0);
		/* A hook must not inherit the container's sync socket or fifo. */
		syscall(SYS_close_range, 3, ~0U, 0);
		execve(h->path, h->args ? h->args : fallback, h->env ? h->env : noenv);
		_exit(127);
	}
	close(in[0]);
	/* The state is small (< pipe buffer); a hook that never reads it must
	 * not block us, so write without blocking. */
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	/* A hook that exits without reading (/bin/false) must not kill us with
	 * SIGPIPE: block it for the write and discard one it raised. */
	sigset_t pipe_set, old_set, pending;
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigprocmask(SIG_BLOCK, &pipe_set, &old_set);
	sigpending(&pending);
	bool was_pending = sigismember(&pending, SIGPIPE);
	if (write(in[1], state, strlen(state)) < 0 && errno == EPIPE && !was_pending) {
		struct timespec zero = {0, 0};
		sigtimedwait(&pipe_set, NULL, &zero);
	}
	sigprocmask(SIG_SETMASK, &old_set, NULL);
	close(in[1]);

	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	int st = 0;
	if (h->has_timeout && pidfd >= 0) {
		struct pollfd p = {.fd = pidfd, .events = POLLIN};
		int n;
		do
			n = poll(&p, 1, h->timeout * 1000);
		while (n < 0 && errno == EINTR);
		if (n == 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			close(pidfd);
			return fc_error_set(err, ETIMEDOUT, "%s hook `%s` timed out after %d s",
			                    kind, h->path, h->timeout);
		}
	}
	if (pidfd >= 0)
		close(pidfd);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
		return fc_error_set(err, ENOENT, "%s hook `%s`: could not be executed", kind,
		                    h->path);
	if (WIFEXITED(st))
		return fc_error_set(err, 0, "%s hook `%s` failed with exit status %d", kind,
		                    h->path, WEXITSTATUS(st));
	return fc_error_set(err, 0, "%s hook `%s` was killed by signal %d", kind, h->path,
	                    WTERMSIG(st));
}

int fc_hook_run_one(const struct fc_hook *h, const char *state_json, enum fc_hook_kind kind,
                    struct fc_error **err)
{
	return run_one(h, state_json, fc_hook_kind_name(kind), err);
}

int fc_hooks_run(const struct fc_spec *s, enum fc_hook_kind kind, const char *state_json,
                 struct fc_error **err)
{
	for (size_t i = 0; i < s->n_hooks[kind]; i++) {
		int r = run_one(&s->hooks[kind][i], state_json, fc_hook_kind_name(kind), err);
		if (r < 0)
			return r;
	}
	return 0;
}
