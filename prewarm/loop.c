/* SPDX-License-Identifier: MIT */
/* loop.c: the daemon's poll() loop (loop.h). The pollfd array is rebuilt
 * before each poll from the live watchers; a watcher removed during an
 * iteration is only marked, so the iteration's other callbacks never see it,
 * and freed after the iteration. */
#include "loop.h"

struct loop_watch {
	int fd;
	short events;
	loop_fd_fn *fn;
	void *data;
	bool dead;
};

struct hook {
	loop_before_fn *before;
	loop_after_fn *after;
	void *data;
};

struct loop {
	struct loop_watch **w;
	size_t nw, capw;
	struct hook *h;
	size_t nh;
	struct pollfd *pfd;
	size_t cap_pfd;
	bool stop;
};

struct loop *loop_new(void)
{
	return fc_calloc(1, sizeof(struct loop));
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->nw; i++)
		free(l->w[i]);
	free(l->w);
	free(l->h);
	free(l->pfd);
	free(l);
}

struct loop_watch *loop_watch(struct loop *l, int fd, short events, loop_fd_fn *fn, void *data)
{
	struct loop_watch *w = fc_calloc(1, sizeof(*w));
	*w = (struct loop_watch){.fd = fd, .events = events, .fn = fn, .data = data};
	if (l->nw == l->capw) {
		l->capw = l->capw ? 2 * l->capw : 64;
		l->w = fc_realloc(l->w, l->capw * sizeof(*l->w));
	}
	l->w[l->nw++] = w;
	return w;
}

void loop_watch_events(struct loop_watch *w, short events)
{
	w->events = events;
}

void loop_unwatch(struct loop_watch *w)
{
	if (w)
		w->dead = true;
}

void loop_hook(struct loop *l, loop_before_fn *before, loop_after_fn *after, void *data)
{
	l->h = fc_realloc(l->h, (l->nh + 1) * sizeof(*l->h));
	l->h[l->nh++] = (struct hook){.before = before, .after = after, .data = data};
}

void loop_unhook(struct loop *l, void *data)
{
	for (size_t i = 0; i < l->nh; i++)
		if (l->h[i].data == data) {
			memmove(&l->h[i], &l->h[i + 1], (l->nh - i - 1) * sizeof(*l->h));
			l->nh--;
			return;
		}
}

void loop_stop(struct loop *l)
{
	l->stop = true;
}

static void sweep(struct loop *l)
{
	size_t k = 0;
	for (size_t i = 0; i < l->nw; i++) {
		if (l->w[i]->dead)
			free(l->w[i]);
		else
			l->w[k++] = l->w[i];
	}
	l->nw = k;
}

int loop_run(struct loop *l, struct fc_error **err)
{
	while (!l->stop) {
		uint64_t now = fc_now_ns();
		int timeout = -1;
		for (size_t i = 0; i < l->nh; i++) {
			int t = l->h[i].before ? l->h[i].before(l->h[i].data, now) : -1;
			if (t >= 0 && (timeout < 0 || t < timeout))
				timeout = t;
		}
		sweep(l);
		if (l->nw > l->cap_pfd) {
			l->cap_pfd = l->capw;
			l->pfd = fc_realloc(l->pfd, l->cap_pfd * sizeof(*l->pfd));
		}
		size_t n = l->nw;
		for (size_t i = 0; i < n; i++)
			l->pfd[i] = (struct pollfd){.fd = l->w[i]->fd, .events = l->w[i]->events};
		if (poll(l->pfd, n, timeout) < 0 && errno != EINTR)
			return fc_error_set(err, errno, "poll");
		/* watchers added by callbacks go after n: not polled yet */
		for (size_t i = 0; i < n && !l->stop; i++)
			if (l->pfd[i].revents && !l->w[i]->dead)
				l->w[i]->fn(l->w[i]->data, l->pfd[i].revents);
		now = fc_now_ns();
		for (size_t i = 0; i < l->nh && !l->stop; i++)
			if (l->h[i].after)
				l->h[i].after(l->h[i].data, now);
	}
	return 0;
}
