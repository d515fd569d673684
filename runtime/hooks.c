/* SPDX-License-Identifier: MIT */
/* hooks.c: OCI hooks, run as runc runs them. Each gets the container state
 * JSON on stdin, its own args and env (without env: the environment of who
 * runs it), a working directory given by the caller (runc's: the bundle),
 * and its stdout and stderr are collected, not passed on: a failing hook's
 * error carries them. A timeout kills it. A failing hook fails the step
 * that ran it (except poststart/poststop, which the caller only logs). */
#include "internal.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

extern char **environ;

#define HOOK_OUTPUT_MAX (64 * 1024) /* kept of each stream for the message */

const char *fc_hook_kind_name(enum fc_hook_kind kind)
{
	static const char *const n[] = {"prestart",       "createRuntime", "createContainer",
	                                "startContainer", "poststart",     "poststop"};
	return kind < FC_HOOK_KINDS ? n[kind] : "unknown";
}

/* Read what is there (non-blocking); -1 at EOF. */
static int drain(int fd, struct fc_buf *b)
{
	char buf[4096];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n == 0)
			return -1;
		if (n < 0)
			return errno == EINTR ? 0 : (errno == EAGAIN ? 0 : -1);
		if (b->len < HOOK_OUTPUT_MAX)
			fc_buf_append(b, buf, (size_t)n);
	}
}

/* A hook's output in an error message: one line, control characters
 * written as runc's log shows them (\n, \t, \x01). */
static char *one_line(const struct fc_buf *b)
{
	struct fc_buf r = {0};
	for (size_t i = 0; i < b->len; i++) {
		unsigned char c = (unsigned char)b->data[i];
		if (c == '\n')
			fc_buf_append(&r, "\\n", 2);
		else if (c == '\t')
			fc_buf_append(&r, "\\t", 2);
		else if (c < 0x20 || c == 0x7f)
			fc_buf_printf(&r, "\\x%02x", c);
		else
			fc_buf_append(&r, (const char *)&c, 1);
	}
	fc_buf_append(&r, "", 1);
	return r.data;
}

static void close_pair(int p[2])
{
	for (int i = 0; i < 2; i++)
		if (p[i] >= 0)
			close(p[i]);
}

static int run_one(const struct fc_hook *h, size_t idx, const char *state, const char *kind,
                   const char *cwd, char **env, struct fc_error **err)
{
	int in[2] = {-1, -1}, out[2] = {-1, -1}, errp[2] = {-1, -1}, ex[2] = {-1, -1};
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC | O_NONBLOCK) < 0 ||
	    pipe2(errp, O_CLOEXEC | O_NONBLOCK) < 0 || pipe2(ex, O_CLOEXEC) < 0) {
		int e = errno;
		close_pair(in), close_pair(out), close_pair(errp), close_pair(ex);
		return fc_error_set(err, e, "error running %s hook #%zu: `%s`: pipe", kind, idx,
		                    h->path);
	}
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close_pair(in), close_pair(out), close_pair(errp), close_pair(ex);
		return fc_error_set(err, e, "error running %s hook #%zu: `%s`: fork", kind, idx,
		                    h->path);
	}
	if (pid == 0) {
		char *const fallback[] = {(char *)h->path, NULL};
		int e = 0;
		if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 || dup2(errp[1], 2) < 0)
			e = errno;
		/* blocking again for the hook */
		fcntl(1, F_SETFL, fcntl(1, F_GETFL) & ~O_NONBLOCK);
		fcntl(2, F_SETFL, fcntl(2, F_GETFL) & ~O_NONBLOCK);
		if (!e && cwd && chdir(cwd) < 0)
			e = errno;
		if (!e) {
			/* A hook must not inherit the container's sync socket or fifo:
			 * only stdio, and the error pipe until the execve closes it. */
			int fd = ex[1];
			if (fd != 3 && dup3(fd, 3, O_CLOEXEC) == 3)
				fd = 3;
			syscall(SYS_close_range, fd + 1, ~0U, 0);
			if (fd > 3)
				syscall(SYS_close_range, 3, fd - 1, 0);
			ex[1] = fd;
			execve(h->path, h->args ? h->args : fallback,
			       h->env ? h->env
			       : env  ? env
			              : environ);
			e = errno;
		}
		(void)!write(ex[1], &e, sizeof(e));
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	close(errp[1]);
	close(ex[1]);
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

	/* Collect stdout and stderr until the hook exits (a daemon it left
	 * holding the pipes does not keep us), or its timeout kills it. */
	_cleanup_buf_ struct fc_buf o = {0}, e = {0};
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	uint64_t deadline = h->has_timeout ? fc_now_ns() + (uint64_t)h->timeout * 1000000000ull : 0;
	bool timed_out = false, exited = pidfd < 0;
	struct pollfd p[3] = {{.fd = pidfd, .events = POLLIN},
	                      {.fd = out[0], .events = POLLIN},
	                      {.fd = errp[0], .events = POLLIN}};
	while (!exited) {
		int ms = -1;
		if (deadline) {
			uint64_t now = fc_now_ns();
			if (now >= deadline) {
				timed_out = true;
				break;
			}
			ms = (int)((deadline - now) / 1000000) + 1;
		}
		if (poll(p, 3, ms) < 0 && errno != EINTR)
			break;
		if (p[1].revents && drain(out[0], &o) < 0)
			p[1].fd = -1;
		if (p[2].revents && drain(errp[0], &e) < 0)
			p[2].fd = -1;
		if (p[0].revents)
			exited = true;
	}
	if (timed_out)
		kill(pid, SIGKILL);
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	drain(out[0], &o);
	drain(errp[0], &e);
	int exec_errno = 0;
	ssize_t n = read(ex[0], &exec_errno, sizeof(exec_errno));
	if (pidfd >= 0)
		close(pidfd);
	close(out[0]);
	close(errp[0]);
	close(ex[0]);
	if (timed_out)
		return fc_error_set(err, 0,
		                    "error running %s hook #%zu: `%s`: hook ran past specified "
		                    "timeout of %d.0s",
		                    kind, idx, h->path, h->timeout);
	if (n == (ssize_t)sizeof(exec_errno) && exec_errno)
		return fc_error_set(err, exec_errno, "error running %s hook #%zu: `%s`: exec", kind,
		                    idx, h->path);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	_cleanup_free_ char *os = one_line(&o), *es = one_line(&e);
	if (WIFEXITED(st))
		return fc_error_set(err, 0,
		                    "error running %s hook #%zu: `%s`: exit status %d, stdout: %s, "
		                    "stderr: %s",
		                    kind, idx, h->path, WEXITSTATUS(st), os, es);
	return fc_error_set(err, 0,
	                    "error running %s hook #%zu: `%s`: signal: %s, stdout: %s, stderr: %s",
	                    kind, idx, h->path, strsignal(WTERMSIG(st)), os, es);
}

int fc_hook_run_one(const struct fc_spec *s, enum fc_hook_kind kind, size_t i,
                    const char *state_json, const char *cwd, char **env, struct fc_error **err)
{
	return run_one(&s->hooks[kind][i], i, state_json, fc_hook_kind_name(kind), cwd, env, err);
}

int fc_hooks_run(const struct fc_spec *s, enum fc_hook_kind kind, const char *state_json,
                 const char *cwd, char **env, struct fc_error **err)
{
	for (size_t i = 0; i < s->n_hooks[kind]; i++) {
		int r = run_one(&s->hooks[kind][i], i, state_json, fc_hook_kind_name(kind), cwd,
		                env, err);
		if (r < 0)
			return r;
	}
	return 0;
}
