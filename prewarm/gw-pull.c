/* SPDX-License-Identifier: MIT */
/* gw-pull.c: a deployment whose image the store lacks gets it pulled by a
 * child, `fcstart image --store STORE --quiet pull REF`, while its request
 * waits suspended: a pull from a registry takes seconds to minutes, and done
 * in the deploy (bundle.c) it would hold the daemon's one loop, every
 * invocation and control request with it. The child's stderr comes back
 * through a pipe (its last lines are the error of a pull that failed); its
 * end is that pipe's end, then it is reaped. Deploys of a reference already
 * being pulled wait for that pull (a client that gave up and tries again, two
 * functions of one image): one pull per reference at a time. */
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include "gw-pull.h"

#ifdef FC_HAVE_MHD

#define ERR_MAX 4096 /* the child's stderr kept: its last bytes */

struct gw_pull {
	struct gateway *g;
	struct gw_req **qs; /* the deploys waiting for it (nq), while they last */
	size_t nq;
	char *ref;
	pid_t pid;
	int fd;
	struct loop_watch *w;
	char err[ERR_MAX];
	size_t err_len;
	bool done;
	int status;           /* waitpid's */
	struct gw_pull *next; /* in g->pulls */
};

static void pull_unlink(struct gw_pull *p)
{
	for (struct gw_pull **pp = &p->g->pulls; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
}

static void pull_reap(struct gw_pull *p)
{
	loop_unwatch(p->w);
	p->w = NULL;
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	while (waitpid(p->pid, &p->status, 0) < 0 && errno == EINTR)
		;
	p->done = true;
	pull_unlink(p);
}

static void pull_free(struct gw_pull *p)
{
	free(p->qs);
	free(p->ref);
	free(p);
}

static void pull_attach(struct gw_pull *p, struct gw_req *q)
{
	p->qs = fc_realloc(p->qs, (p->nq + 1) * sizeof(*p->qs));
	p->qs[p->nq++] = q;
	q->pull = p;
}

static void on_output(void *data, short revents)
{
	struct gw_pull *p = data;
	char buf[4096];
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
	(void)revents;
	/* the child's end */
	pull_reap(p);
	bool ok = WIFEXITED(p->status) && WEXITSTATUS(p->status) == 0;
	fc_log(ok ? FC_LOG_INFO : FC_LOG_WARN, "HTTP gateway: pull `%s` %s", p->ref,
	       ok ? "done" : "failed");
	if (!p->nq) {
		pull_free(p); /* its requests are over */
		return;
	}
	for (size_t i = 0; i < p->nq; i++)
		gw_resume(p->qs[i]); /* its route asks gw_pull_result */
}

int gw_pull_start(struct gw_req *q, const char *ref, struct fc_error **err)
{
	struct gateway *g = q->g;
	for (struct gw_pull *p = g->pulls; p; p = p->next)
		if (FC_STREQ(p->ref, ref)) {
			pull_attach(p, q);
			fc_log(FC_LOG_INFO,
			       "HTTP gateway: `%s` is being pulled (process %d): the deploy waits "
			       "for it",
			       ref, (int)p->pid);
			gw_suspend(q);
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
	const char *store = daemon_store_path(g->d);
	char *argv[] = {"fcstart", "image", "--store",   (char *)store, "--quiet",
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
	struct gw_pull *p = fc_calloc(1, sizeof(*p));
	p->g = g;
	p->ref = fc_strdup(ref);
	p->pid = pid;
	p->fd = pfd[0];
	p->w = loop_watch(g->l, p->fd, POLLIN, on_output, p);
	p->next = g->pulls;
	g->pulls = p;
	pull_attach(p, q);
	fc_log(FC_LOG_INFO, "HTTP gateway: pulling `%s` (process %d) for a deploy", ref, (int)pid);
	gw_suspend(q);
	return 0;
}

int gw_pull_result(struct gw_req *q, struct fc_error **err)
{
	struct gw_pull *p = q->pull;
	if (!p)
		return -1;
	if (!p->done)
		return 0;
	if (WIFEXITED(p->status) && WEXITSTATUS(p->status) == 0)
		return 1;
	/* the child's last line: its error */
	while (p->err_len && (p->err[p->err_len - 1] == '\n' || p->err[p->err_len - 1] == ' '))
		p->err_len--;
	size_t start = p->err_len;
	while (start && p->err[start - 1] != '\n')
		start--;
	if (p->err_len > start)
		fc_error_set(err, EIO, "pull `%s`: %.*s", p->ref, (int)(p->err_len - start),
		             p->err + start);
	else if (WIFEXITED(p->status))
		fc_error_set(err, EIO, "pull `%s`: `fcstart image pull` exited with %d", p->ref,
		             WEXITSTATUS(p->status));
	else
		fc_error_set(err, EIO, "pull `%s`: `fcstart image pull` killed by signal %d",
		             p->ref, WTERMSIG(p->status));
	return 1;
}

void gw_pull_free(struct gw_req *q)
{
	struct gw_pull *p = q->pull;
	if (!p)
		return;
	q->pull = NULL;
	for (size_t i = 0; i < p->nq; i++)
		if (p->qs[i] == q) {
			p->qs[i] = p->qs[--p->nq];
			break;
		}
	if (p->done && !p->nq)
		pull_free(p); /* else freed when it ends, or by its last request */
}

void gw_pull_stop_all(struct gateway *g)
{
	while (g->pulls) {
		struct gw_pull *p = g->pulls;
		kill(p->pid, SIGTERM);
		pull_reap(p); /* unlinks it */
		for (size_t i = 0; i < p->nq; i++)
			p->qs[i]->pull = NULL;
		pull_free(p);
	}
}

#endif /* FC_HAVE_MHD */
