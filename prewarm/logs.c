/* SPDX-License-Identifier: MIT */
/* logs.c: functions' logs (logs.h). A log is a ring of lines; a pipe is read
 * as its lines come (a partial line waits for its end, or for the pipe's),
 * and every watch on the function is woken once per read. */
#include <fcntl.h>
#include <time.h>

#include "logs.h"

struct entry {
	uint64_t seq, time_ns;
	char *instance, *text;
	size_t bytes;
};

struct fnlog {
	char *name;
	struct entry ring[LOGS_MAX_LINES];
	uint64_t first, next; /* seqs: the oldest kept, the next to come */
	size_t bytes;
	struct fnlog *next_log;
};

struct logpipe {
	struct logs *lg;
	char *fn, *instance;
	int fd;
	struct loop_watch *w;
	char buf[LOGS_LINE_MAX];
	size_t len;
	struct logpipe *next;
};

struct logs_watch {
	struct logs *lg;
	char *fn;
	void (*wake)(void *);
	void *owner;
	bool dead;
	struct logs_watch *next;
};

struct logs {
	struct loop *l;
	struct fnlog *logs;
	struct logpipe *pipes;
	struct logs_watch *watches;
	unsigned waking; /* wake calls under way: a watch removed meanwhile is only marked */
};

static struct fnlog *find(struct logs *lg, const char *fn, bool make)
{
	for (struct fnlog *f = lg->logs; f; f = f->next_log)
		if (FC_STREQ(f->name, fn))
			return f;
	if (!make)
		return NULL;
	struct fnlog *f = fc_calloc(1, sizeof(*f));
	f->name = fc_strdup(fn);
	f->first = f->next = 1;
	f->next_log = lg->logs;
	lg->logs = f;
	return f;
}

static void drop_oldest(struct fnlog *f)
{
	struct entry *e = &f->ring[f->first % LOGS_MAX_LINES];
	f->bytes -= e->bytes;
	free(e->instance);
	free(e->text);
	memset(e, 0, sizeof(*e));
	f->first++;
}

static void append(struct logs *lg, const char *fn, const char *instance, const char *text,
                   size_t len)
{
	struct fnlog *f = find(lg, fn, true);
	size_t bytes = len + strlen(instance) + 32;
	while (f->next > f->first &&
	       (f->next - f->first >= LOGS_MAX_LINES || f->bytes + bytes > LOGS_MAX_BYTES))
		drop_oldest(f);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct entry *e = &f->ring[f->next % LOGS_MAX_LINES];
	*e = (struct entry){.seq = f->next,
	                    .time_ns = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec,
	                    .instance = fc_strdup(instance),
	                    .text = fc_strndup(text, len),
	                    .bytes = bytes};
	f->bytes += bytes;
	f->next++;
}

static void wake_watches(struct logs *lg, const char *fn)
{
	lg->waking++;
	for (struct logs_watch *w = lg->watches; w; w = w->next)
		if (!w->dead && FC_STREQ(w->fn, fn))
			w->wake(w->owner);
	if (--lg->waking)
		return;
	for (struct logs_watch **p = &lg->watches; *p;) {
		struct logs_watch *w = *p;
		if (w->dead) {
			*p = w->next;
			free(w->fn);
			free(w);
		} else {
			p = &w->next;
		}
	}
}

static void pipe_free(struct logpipe *p)
{
	struct logs *lg = p->lg;
	for (struct logpipe **q = &lg->pipes; *q; q = &(*q)->next)
		if (*q == p) {
			*q = p->next;
			break;
		}
	loop_unwatch(p->w);
	close(p->fd);
	free(p->fn);
	free(p->instance);
	free(p);
}

/* Lines of buf[0..len) to the log; the rest (a partial line) stays, unless
 * flush. A trailing CR is dropped. */
static bool take_lines(struct logpipe *p, bool flush)
{
	bool any = false;
	size_t start = 0;
	for (size_t i = 0; i < p->len; i++)
		if (p->buf[i] == '\n') {
			size_t n = i - start;
			if (n && p->buf[start + n - 1] == '\r')
				n--;
			if (p->fn)
				append(p->lg, p->fn, p->instance, p->buf + start, n);
			any = true;
			start = i + 1;
		}
	if ((flush || (start == 0 && p->len == sizeof(p->buf))) && start < p->len) {
		if (p->fn)
			append(p->lg, p->fn, p->instance, p->buf + start, p->len - start);
		any = true;
		start = p->len;
	}
	memmove(p->buf, p->buf + start, p->len - start);
	p->len -= start;
	return any && p->fn;
}

static void on_pipe(void *data, short revents)
{
	struct logpipe *p = data;
	struct logs *lg = p->lg;
	(void)revents;
	bool any = false, end = false;
	for (int k = 0; k < 16; k++) { /* a fair share of the loop per pipe */
		ssize_t n = read(p->fd, p->buf + p->len, sizeof(p->buf) - p->len);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n <= 0) {
			end = true;
			break;
		}
		p->len += (size_t)n;
		any |= take_lines(p, false);
	}
	if (end)
		any |= take_lines(p, true);
	_cleanup_free_ char *fn = any ? fc_strdup(p->fn) : NULL;
	if (end)
		pipe_free(p);
	if (fn)
		wake_watches(lg, fn);
}

int logs_pipe(struct logs *lg, const char *fn, const char *instance)
{
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	struct logpipe *p = fc_calloc(1, sizeof(*p));
	p->lg = lg;
	p->fn = fc_strdup(fn);
	p->instance = fc_strdup(instance);
	p->fd = fds[0];
	p->w = loop_watch(lg->l, fds[0], POLLIN, on_pipe, p);
	p->next = lg->pipes;
	lg->pipes = p;
	return fds[1];
}

void logs_forget(struct logs *lg, const char *fn)
{
	for (struct logpipe *p = lg->pipes; p; p = p->next)
		if (p->fn && FC_STREQ(p->fn, fn)) {
			free(p->fn);
			p->fn = NULL; /* read on into nothing until it closes */
		}
	for (struct fnlog **q = &lg->logs; *q; q = &(*q)->next_log)
		if (FC_STREQ((*q)->name, fn)) {
			struct fnlog *f = *q;
			*q = f->next_log;
			while (f->first < f->next)
				drop_oldest(f);
			free(f->name);
			free(f);
			return;
		}
}

int logs_next(struct logs *lg, const char *fn, uint64_t *seq, struct logs_line *line)
{
	struct fnlog *f = find(lg, fn, false);
	if (!f)
		return -ENOENT;
	if (*seq < f->first)
		*seq = f->first;
	if (*seq >= f->next)
		return -ENOENT;
	struct entry *e = &f->ring[*seq % LOGS_MAX_LINES];
	*line = (struct logs_line){
	    .seq = e->seq, .time_ns = e->time_ns, .instance = e->instance, .text = e->text};
	(*seq)++;
	return 0;
}

uint64_t logs_tail(struct logs *lg, const char *fn, uint64_t n)
{
	struct fnlog *f = find(lg, fn, false);
	if (!f)
		return 1;
	return f->next - f->first > n ? f->next - n : f->first;
}

struct logs_watch *logs_watch(struct logs *lg, const char *fn, void (*wake)(void *), void *owner)
{
	struct logs_watch *w = fc_calloc(1, sizeof(*w));
	*w = (struct logs_watch){.lg = lg, .fn = fc_strdup(fn), .wake = wake, .owner = owner};
	w->next = lg->watches;
	lg->watches = w;
	return w;
}

void logs_unwatch(struct logs_watch *w)
{
	if (!w)
		return;
	struct logs *lg = w->lg;
	if (lg->waking) {
		w->dead = true;
		return;
	}
	for (struct logs_watch **p = &lg->watches; *p; p = &(*p)->next)
		if (*p == w) {
			*p = w->next;
			break;
		}
	free(w->fn);
	free(w);
}

struct logs *logs_new(struct loop *l)
{
	struct logs *lg = fc_calloc(1, sizeof(*lg));
	lg->l = l;
	return lg;
}

void logs_free(struct logs *lg)
{
	if (!lg)
		return;
	while (lg->pipes)
		pipe_free(lg->pipes);
	while (lg->logs)
		logs_forget(lg, lg->logs->name);
	while (lg->watches) {
		struct logs_watch *w = lg->watches;
		lg->watches = w->next;
		free(w->fn);
		free(w);
	}
	free(lg);
}
