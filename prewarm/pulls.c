/* SPDX-License-Identifier: MIT */
/* pulls.c: a deployment whose image the store lacks gets it pulled by a child,
 * `fcstart image --store STORE --quiet pull REF`, while the deploy waits: done
 * in the deploy itself (bundle.c) a pull would hold the daemon's one loop,
 * every invocation and control request with it. The child's stderr comes
 * back through a pipe (its last line is the error of a pull that failed); its
 * end is that pipe's end, then it is reaped. Deploys of a reference already
 * being pulled wait for that pull (a client that gave up and tries again, two
 * functions of one image): one pull per reference at a time. */
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include "pulls.h"

#define ERR_MAX 4096 /* the child's stderr kept: its last bytes */

struct pull;

struct pull_wait {
	struct pull *p;
	pull_done_fn done;
	void *owner;
	struct pull_wait *next;
};

struct pull {
	struct pulls *ps;
	char *ref;
	pid_t pid;
	int fd;
	struct loop_watch *w;
	char err[ERR_MAX];
	size_t err_len;
	struct pull_wait *waits;
	struct pull *next;
};

struct pulls {
	struct loop *l;
	char *store;
	struct pull *list;
};

struct pulls *pulls_new(struct loop *l, const char *store)
{
	struct pulls *ps = fc_calloc(1, sizeof(*ps));
	ps->l = l;
	ps->store = fc_strdup(store);
	return ps;
}

/* Unlinked from the list, its child reaped (*status); its waits stay. */
static void pull_end(struct pull *p, int *status)
{
	for (struct pull **pp = &p->ps->list; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	loop_unwatch(p->w);
	p->w = NULL;
	close(p->fd);
	while (waitpid(p->pid, status, 0) < 0 && errno == EINTR)
		;
}

static void pull_free(struct pull *p)
{
	while (p->waits) {
		struct pull_wait *w = p->waits;
		p->waits = w->next;
		free(w);
	}
	free(p->ref);
	free(p);
}

void pulls_free(struct pulls *ps)
{
	if (!ps)
		return;
	while (ps->list) {
		struct pull *p = ps->list;
		int status;
		kill(p->pid, SIGTERM);
		pull_end(p, &status);
		pull_free(p);
	}
	free(ps->store);
	free(ps);
}

/* Why the child failed: its last line, else its exit. */
static void pull_error(struct pull *p, int status, struct fc_error **err)
{
	while (p->err_len && (p->err[p->err_len - 1] == '\n' || p->err[p->err_len - 1] == ' '))
		p->err_len--;
	size_t start = p->err_len;
	while (start && p->err[start - 1] != '\n')
		start--;
	if (p->err_len > start)
		fc_error_set(err, EIO, "pull `%s`: %.*s", p->ref, (int)(p->err_len - start),
		             p->err + start);
	else if (WIFEXITED(status))
		fc_error_set(err, EIO, "pull `%s`: `fcstart image pull` exited with %d", p->ref,
		             WEXITSTATUS(status));
	else
		fc_error_set(err, EIO, "pull `%s`: `fcstart image pull` killed by signal %d",
		             p->ref, WTERMSIG(status));
}

static void on_output(void *data, short revents)
{
	struct pull *p = data;
	char buf[4096];
	(void)revents;
	ssize_t n = read(p->fd, buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0) {
		/* keep the last ERR_MAX bytes */
		if ((size_t)n >= ERR_MAX) {
			memcpy(p->err, buf + n - ERR_MAX, ERR_MAX);
			p->err_len = ERR_MAX;
		} else {
			if (p->err_len + (size_t)n > ERR_MAX) {
				size_t drop = p->err_len + (size_t)n - ERR_MAX;
				memmove(p->err, p->err + drop, p->err_len - drop);
				p->err_len -= drop;
			}
			memcpy(p->err + p->err_len, buf, (size_t)n);
			p->err_len += (size_t)n;
		}
		return;
	}
	/* the child's end */
	int status = 0;
	pull_end(p, &status);
	bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	fc_log(ok ? FC_LOG_INFO : FC_LOG_WARN, "pull `%s` %s", p->ref, ok ? "done" : "failed");
	struct fc_error *e = NULL;
	if (!ok)
		pull_error(p, status, &e);
	/* each wait is over before its owner hears (it may free itself then) */
	while (p->waits) {
		struct pull_wait *w = p->waits;
		p->waits = w->next;
		w->p = NULL;
		w->done(w->owner, e);
		free(w);
	}
	fc_error_free(e);
	pull_free(p);
}

static struct pull_wait *attach(struct pull *p, pull_done_fn done, void *owner)
{
	struct pull_wait *w = fc_calloc(1, sizeof(*w));
	w->p = p;
	w->done = done;
	w->owner = owner;
	w->next = p->waits;
	p->waits = w;
	return w;
}

int pulls_wait(struct pulls *ps, const char *ref, pull_done_fn done, void *owner,
               struct pull_wait **out, struct fc_error **err)
{
	for (struct pull *p = ps->list; p; p = p->next)
		if (FC_STREQ(p->ref, ref)) {
			*out = attach(p, done, owner);
			fc_log(FC_LOG_INFO,
			       "`%s` is being pulled (process %d): the deploy waits for it", ref,
			       (int)p->pid);
			return 0;
		}
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC | O_NONBLOCK) < 0)
		return fc_error_set(err, errno, "pull `%s`: pipe", ref);
	/* the child's end blocks; only the daemon's end is non-blocking */
	fcntl(pfd[1], F_SETFL, 0);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 2);
	posix_spawnattr_t at;
	posix_spawnattr_init(&at);
	sigset_t none, all;
	sigemptyset(&none);
	sigfillset(&all);
	/* the daemon blocks SIGCHLD, SIGTERM, SIGINT (its signalfd) and
	 * ignores SIGPIPE: none of that for the child */
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &all);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	char *argv[] = {"fcstart", "image", "--store",   ps->store, "--quiet",
	                "pull",    "--",    (char *)ref, NULL};
	extern char **environ;
	pid_t pid;
	int r = posix_spawn(&pid, "/proc/self/exe", &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(pfd[1]);
	if (r != 0) {
		close(pfd[0]);
		return fc_error_set(err, r, "pull `%s`: start `fcstart image pull`", ref);
	}
	struct pull *p = fc_calloc(1, sizeof(*p));
	p->ps = ps;
	p->ref = fc_strdup(ref);
	p->pid = pid;
	p->fd = pfd[0];
	p->w = loop_watch(ps->l, p->fd, POLLIN, on_output, p);
	p->next = ps->list;
	ps->list = p;
	*out = attach(p, done, owner);
	fc_log(FC_LOG_INFO, "pulling `%s` (process %d) for a deploy", ref, (int)pid);
	return 0;
}

void pull_wait_cancel(struct pull_wait *w)
{
	if (!w || !w->p)
		return;
	for (struct pull_wait **pp = &w->p->waits; *pp; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	free(w);
}
