/* SPDX-License-Identifier: MIT */
/* pool.c: the pool core (pool.h): per function, keep min sandboxes waiting
 * (one more per queued invocation), never above max; hand the oldest waiting
 * one to the first queued invocation; queue what finds none, bounded in
 * length and in time; reap what idles above min. Creations go to the least
 * busy creator, and the functions take turns, so a burst of one function does
 * not hold back another's. No I/O: what is to be done goes out through ops,
 * what happened comes in through the entry points, each with the time.
 *
 * A sandbox's life: CREATING -> WAITING -> RUNNING in exec mode (the function
 * is exec'd at the hand-over); CREATING -> STARTING -> READY -> RUNNING in
 * started and fork modes (the creator starts it, the probe says when it is
 * ready, within the function's ready timeout; an HTTP instance goes back to
 * READY after each request). Readiness failures back off: 1, 2, 4 ... 64
 * times retry_ns. In fork mode a template per function (made like an
 * instance, not counted) must be READY before its instances' creations are
 * sent, to its creator; it is remade when it dies, and on redeploy (the old
 * one stays while instances forked from it run).
 *
 * A redeploy replaces the spec at once: the old spec's instances are marked
 * old and counted apart, so the new spec's pool fills right away as if empty;
 * old ones that are not serving a request go at once, and one serving a
 * request finishes it and goes. No new request reaches an old instance. */
#include <math.h>
#include <sys/wait.h>

#include "pool.h"

struct pool {
	struct pool_config cfg;
	char *id_prefix, *id_tag;
	const struct pool_ops *ops;
	void *ctx;
	struct pool_fn *fns;
	uint64_t seq, sends;
	unsigned *inflight; /* creations in each creator's hands */
	unsigned depth;     /* entry points under way (a reply may release) */
};

static unsigned fn_total(const struct pool_fn *f)
{
	return f->n_waiting + f->n_creating + f->n_running + f->n_starting + f->n_ready;
}

static unsigned *state_count(struct pool_fn *f, enum pool_sb_state s)
{
	switch (s) {
	case POOL_SB_CREATING:
		return &f->n_creating;
	case POOL_SB_WAITING:
		return &f->n_waiting;
	case POOL_SB_STARTING:
		return &f->n_starting;
	case POOL_SB_READY:
		return &f->n_ready;
	case POOL_SB_RUNNING:
	default:
		return &f->n_running;
	}
}

/* Started or fork mode: instances are started ahead. */
static bool prestarted(const struct pool_fn *f)
{
	return f->spec.prewarm != FCPOOL_PREWARM_EXEC;
}

/* The count a sandbox is in: templates and instances of a replaced spec are
 * counted apart from the current spec's instances. */
static unsigned *sb_count(struct pool_sb *sb, enum pool_sb_state s)
{
	static unsigned apart; /* not kept */
	return sb->role == POOL_ROLE_TEMPLATE || sb->old ? &apart : state_count(sb->fn, s);
}

static void set_state(struct pool_sb *sb, enum pool_sb_state s, uint64_t now)
{
	(*sb_count(sb, sb->state))--;
	(*sb_count(sb, s))++;
	sb->state = s;
	sb->t_state = now;
}

static bool fork_mode(const struct pool_fn *f)
{
	return f->spec.prewarm == FCPOOL_PREWARM_FORK;
}

static bool template_ready(const struct pool_sb *t)
{
	return t && t->state == POOL_SB_READY && !t->killed;
}

/* ---- entering and leaving: what is settled after each event ------------------ */

static void settle(struct pool *p);

static void enter(struct pool *p)
{
	p->depth++;
}

static void leave(struct pool *p)
{
	if (--p->depth == 0)
		settle(p);
}

/* ---- sandboxes -------------------------------------------------------------- */

static struct pool_sb *sb_new(struct pool *p, struct pool_fn *f, enum pool_sb_role role,
                              uint64_t now)
{
	struct pool_sb *sb = fc_calloc(1, sizeof(*sb));
	snprintf(sb->id, sizeof(sb->id), "%s%s-%s.%llu", p->id_prefix, f->spec.name, p->id_tag,
	         (unsigned long long)++p->seq);
	sb->fn = f;
	sb->role = role;
	sb->state = POOL_SB_CREATING;
	sb->t_state = now;
	sb->next = f->sandboxes;
	f->sandboxes = sb;
	if (role == POOL_ROLE_TEMPLATE) {
		f->tmpl = sb;
		f->templates++;
	} else {
		f->n_creating++;
		f->creates++;
	}
	return sb; /* settle() sends it to a creator */
}

static void sb_kill(struct pool *p, struct pool_sb *sb)
{
	if (sb->killed)
		return;
	sb->killed = true;
	if (sb->state == POOL_SB_CREATING && !sb->sent)
		return; /* it never left the core: settle() drops it */
	p->ops->kill(p->ctx, sb);
}

static void sb_free(struct pool *p, struct pool_sb *sb)
{
	struct pool_fn *f = sb->fn;
	for (struct pool_sb **q = &f->sandboxes; *q; q = &(*q)->next)
		if (*q == sb) {
			*q = sb->next;
			break;
		}
	(*sb_count(sb, sb->state))--;
	if (sb->state == POOL_SB_CREATING && sb->sent && p->inflight[sb->creator])
		p->inflight[sb->creator]--;
	if (sb->inv)
		sb->inv->sb = NULL;
	if (f->tmpl == sb)
		f->tmpl = NULL;
	for (struct pool_sb *o = f->sandboxes; o; o = o->next)
		if (o->tmpl == sb)
			o->tmpl = NULL;
	p->ops->sandbox_gone(p->ctx, sb);
	free(sb);
}

/* The oldest sandbox in state s. */
static struct pool_sb *oldest(struct pool_fn *f, enum pool_sb_state s)
{
	struct pool_sb *best = NULL;
	for (struct pool_sb *sb = f->sandboxes; sb; sb = sb->next)
		if (sb->state == s && sb->role == POOL_ROLE_INSTANCE && !sb->killed && !sb->old &&
		    (!best || sb->t_state < best->t_state))
			best = sb;
	return best;
}

/* The oldest sandbox to hand over: exec mode, a waiting one; started and
 * fork modes, a ready classic instance. */
static struct pool_sb *take_waiting(struct pool_fn *f)
{
	if (!prestarted(f))
		return oldest(f, POOL_SB_WAITING);
	return f->spec.mode == FCPOOL_CLASSIC ? oldest(f, POOL_SB_READY) : NULL;
}

/* A started HTTP instance free for a request: exec mode, one that served
 * before and is idle; started and fork modes, a ready one (the one that was
 * idle longest). */
static struct pool_sb *idle_instance(struct pool_fn *f)
{
	if (f->spec.mode != FCPOOL_HTTP)
		return NULL;
	if (prestarted(f))
		return oldest(f, POOL_SB_READY);
	for (struct pool_sb *sb = f->sandboxes; sb; sb = sb->next)
		if (sb->state == POOL_SB_RUNNING && sb->http_ready && !sb->inv && !sb->killed &&
		    !sb->old && sb->role == POOL_ROLE_INSTANCE)
			return sb;
	return NULL;
}

/* Sandboxes that are (or will be) ready for an invocation. */
static unsigned fn_ready(const struct pool_fn *f)
{
	return f->n_waiting + f->n_creating + f->n_starting + f->n_ready;
}

static void notice(struct pool *p, struct pool_sb *sb, const char *fmt, ...) FC_PRINTF(3, 4);
static void notice(struct pool *p, struct pool_sb *sb, const char *fmt, ...)
{
	struct pool_fn *f = sb->fn;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f->last_error, sizeof(f->last_error), fmt, ap);
	va_end(ap);
	if (p->ops->notice)
		p->ops->notice(p->ctx, f, sb, f->last_error);
}

/* What a classic function started ahead must do to be ready: said with its
 * readiness failures. */
static const char *ready_hint(const struct pool_fn *f)
{
	return f->spec.mode == FCPOOL_CLASSIC && f->spec.prewarm == FCPOOL_PREWARM_STARTED
	           ? "; started mode for a classic function needs fcstart.ready() (see "
	             "docs/initialized.md)"
	           : "";
}

/* A sandbox of f was not ready in time, or died before: counted, reported,
 * and the refill backs off, twice as long with each failure in a row. */
static void ready_failed(struct pool *p, struct pool_fn *f, uint64_t now)
{
	f->ready_failures++;
	unsigned k = f->fail_streak < 6 ? f->fail_streak : 6;
	f->fail_streak++;
	f->retry_after = now + (p->cfg.retry_ns << k);
}

/* Keep min waiting (plus one per queued invocation), never above max. After
 * a failed creation, only queued invocations get one, one at a time. */
static void fill(struct pool *p, struct pool_fn *f, uint64_t now)
{
	if (f->removing)
		return;
	bool backoff = now < f->retry_after;
	if (fork_mode(f) && !f->tmpl && !backoff)
		sb_new(p, f, POOL_ROLE_TEMPLATE, now);
	for (;;) {
		unsigned want = f->spec.min + f->n_queued;
		if (fn_ready(f) >= want || fn_total(f) >= f->spec.max)
			break;
		if (backoff && (f->n_queued == 0 || f->n_creating + f->n_starting > 0))
			break;
		sb_new(p, f, POOL_ROLE_INSTANCE, now);
	}
}

/* The next creation creator c may take: the oldest of the function whose
 * last one was sent longest ago (the functions take turns). A fork-mode
 * instance goes only to its template's creator, once that template is ready. */
static struct pool_sb *next_creation(struct pool *p, unsigned c)
{
	struct pool_sb *next = NULL;
	for (struct pool_fn *f = p->fns; f; f = f->next) {
		bool forks = fork_mode(f);
		if (forks && !(template_ready(f->tmpl) && f->tmpl->creator == c)) {
			/* only its template may be sent, to anyone */
			if (!f->tmpl || f->tmpl->sent || f->tmpl->killed)
				continue;
		}
		struct pool_sb *oldest = NULL;
		for (struct pool_sb *sb = f->sandboxes; sb; sb = sb->next) {
			if (sb->state != POOL_SB_CREATING || sb->sent || sb->killed)
				continue;
			if (forks && sb->role == POOL_ROLE_INSTANCE &&
			    !(template_ready(f->tmpl) && f->tmpl->creator == c))
				continue;
			/* a template first: its instances wait for it */
			if (!oldest || (sb->role == POOL_ROLE_TEMPLATE) ||
			    (oldest->role != POOL_ROLE_TEMPLATE && sb->t_state < oldest->t_state))
				oldest = sb;
		}
		if (oldest &&
		    (!next || f->last_sent < next->fn->last_sent ||
		     (f->last_sent == next->fn->last_sent && oldest->t_state < next->t_state)))
			next = oldest;
	}
	return next;
}

/* Hand creations to the creators, to the least busy first (between equally
 * busy ones, to the one with fewer running sandboxes: a fork server reaps
 * its sandboxes, and while it creates one, the exit of a running one waits);
 * a creation that must go to a given creator (a fork-mode instance) waits
 * for a slot there. */
static void pump(struct pool *p)
{
	unsigned n = p->cfg.creators;
	unsigned running[n], order[n];
	memset(running, 0, sizeof(running));
	for (struct pool_fn *f = p->fns; f; f = f->next)
		for (struct pool_sb *sb = f->sandboxes; sb; sb = sb->next)
			if ((sb->state == POOL_SB_RUNNING || sb->role == POOL_ROLE_TEMPLATE) &&
			    sb->creator < n)
				running[sb->creator]++;
	for (;;) {
		/* the creators with a free slot, least busy first */
		unsigned k = 0;
		for (unsigned i = 0; i < n; i++) {
			if (p->inflight[i] >= p->cfg.creator_slots)
				continue;
			unsigned j = k++;
			while (j > 0 && (p->inflight[i] < p->inflight[order[j - 1]] ||
			                 (p->inflight[i] == p->inflight[order[j - 1]] &&
			                  running[i] < running[order[j - 1]]))) {
				order[j] = order[j - 1];
				j--;
			}
			order[j] = i;
		}
		struct pool_sb *next = NULL;
		unsigned c = 0;
		for (unsigned i = 0; i < k && !next; i++)
			if ((next = next_creation(p, order[i])))
				c = order[i];
		if (!next)
			return;
		next->sent = true;
		next->creator = c;
		if (next->role == POOL_ROLE_INSTANCE && fork_mode(next->fn))
			next->tmpl = next->fn->tmpl;
		next->fn->last_sent = ++p->sends;
		p->inflight[c]++;
		p->ops->create(p->ctx, next);
	}
}

/* Drop killed creations that never left the core, forget removed functions
 * whose sandboxes are all gone, send creations. */
static void settle(struct pool *p)
{
	for (struct pool_fn **fp = &p->fns; *fp;) {
		struct pool_fn *f = *fp;
		for (struct pool_sb *sb = f->sandboxes, *next; sb; sb = next) {
			next = sb->next;
			if (sb->state == POOL_SB_CREATING && !sb->sent && sb->killed)
				sb_free(p, sb);
		}
		/* a template of an older spec goes once nothing forked from it runs */
		for (struct pool_sb *t = f->sandboxes; t; t = t->next) {
			if (t->role != POOL_ROLE_TEMPLATE || t == f->tmpl || t->killed)
				continue;
			bool used = false;
			for (struct pool_sb *sb = f->sandboxes; sb && !used; sb = sb->next)
				used = sb->tmpl == t && !sb->killed;
			if (!used)
				sb_kill(p, t);
		}
		if (f->removing && !f->sandboxes) {
			*fp = f->next;
			p->ops->function_gone(p->ctx, f);
			fcpool_fn_spec_clear(&f->spec);
			free(f);
			continue;
		}
		fp = &f->next;
	}
	pump(p);
}

/* ---- invocations ------------------------------------------------------------ */

static void queue_push(struct pool_fn *f, struct pool_inv *inv, bool front)
{
	inv->state = POOL_INV_QUEUED;
	inv->fn = f;
	if (front) {
		inv->qnext = f->queue;
		f->queue = inv;
		if (!inv->qnext)
			f->queue_tail = &inv->qnext;
	} else {
		inv->qnext = NULL;
		if (!f->queue)
			f->queue_tail = &f->queue;
		*f->queue_tail = inv;
		f->queue_tail = &inv->qnext;
	}
	f->n_queued++;
}

static void queue_remove(struct pool_fn *f, struct pool_inv *inv)
{
	for (struct pool_inv **q = &f->queue; *q; q = &(*q)->qnext)
		if (*q == inv) {
			*q = inv->qnext;
			if (!*q)
				f->queue_tail = q;
			f->n_queued--;
			break;
		}
	inv->qnext = NULL;
}

/* The invocation is over: unlink it, then tell its owner. */
static void finish(struct pool *p, struct pool_inv *inv, const struct fcpool_event *ev)
{
	if (inv->state == POOL_INV_QUEUED)
		queue_remove(inv->fn, inv);
	if (inv->sb)
		inv->sb->inv = NULL;
	inv->sb = NULL;
	inv->state = POOL_INV_DONE;
	p->ops->reply(p->ctx, inv, ev);
}

static void fail(struct pool *p, struct pool_inv *inv, int errnum, const char *fmt, ...)
    FC_PRINTF(4, 5);
static void fail(struct pool *p, struct pool_inv *inv, int errnum, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	_cleanup_free_ char *msg = fc_vasprintf(fmt, ap);
	va_end(ap);
	struct fcpool_event ev = {
	    .kind = FCPOOL_EV_ERROR, .errnum = errnum, .error = msg, .sock = -1};
	finish(p, inv, &ev);
}

static void assign_instance(struct pool *p, struct pool_sb *sb, struct pool_inv *inv, uint64_t now)
{
	if (sb->state == POOL_SB_READY)
		set_state(sb, POOL_SB_RUNNING, now);
	sb->inv = inv;
	inv->sb = sb;
	inv->fn = sb->fn;
	inv->state = POOL_INV_CONNECTING;
	if (!inv->t_started)
		inv->t_started = now;
	if (sb->fn->spec.timeout_ms)
		inv->deadline = now + sb->fn->spec.timeout_ms * 1000000ULL;
	p->ops->connect(p->ctx, sb, inv);
}

/* Hand the waiting sb over to inv: a classic function runs (STARTED), an
 * HTTP instance starts and is connected to. */
static int handover(struct pool *p, struct pool_sb *sb, struct pool_inv *inv)
{
	struct pool_fn *f = sb->fn;
	struct pool_handover h = {0};
	int r = p->ops->handover(p->ctx, sb, inv, &h);
	if (r < 0) {
		f->handover_failures++;
		sb_kill(p, sb);
		return r;
	}
	uint64_t t0 = h.t_start, t1 = h.t_done;
	set_state(sb, POOL_SB_RUNNING, t1);
	sb->inv = inv;
	inv->sb = sb;
	inv->state = POOL_INV_RUNNING;
	inv->t_started = t1;
	if (f->spec.timeout_ms)
		inv->deadline = t1 + f->spec.timeout_ms * 1000000ULL;
	f->handovers++;
	/* the sandbox's clock is ours unless it has a time namespace with an
	 * offset: then the reading falls outside [t0, t1] and is not used */
	uint64_t exec = h.exec_ns >= t0 && h.exec_ns <= t1 ? h.exec_ns - t0 : 0;
	f->lat[f->n_lat % POOL_LAT_RING] = t1 - t0;
	f->lat_exec[f->n_lat % POOL_LAT_RING] = exec;
	f->n_lat++;
	if (f->spec.mode == FCPOOL_HTTP) {
		inv->handover_ns = t1 - t0;
		assign_instance(p, sb, inv, t1);
		return 0;
	}
	struct fcpool_event ev = {.kind = FCPOOL_EV_STARTED,
	                          .handover_us = (double)(t1 - t0) / 1e3,
	                          .exec_us = (double)exec / 1e3,
	                          .wait_us = (double)(t0 - inv->t_arrived) / 1e3,
	                          .on_demand = inv->on_demand,
	                          .sock = -1};
	snprintf(ev.id, sizeof(ev.id), "%s", sb->id);
	p->ops->reply(p->ctx, inv, &ev);
	return 0;
}

/* Give waiting sandboxes (or free HTTP instances) to queued invocations. */
static void dispatch(struct pool *p, struct pool_fn *f, uint64_t now)
{
	while (f->queue && !f->removing) {
		struct pool_sb *sb = idle_instance(f);
		if (sb) {
			struct pool_inv *inv = f->queue;
			queue_remove(f, inv);
			assign_instance(p, sb, inv, now);
			continue;
		}
		sb = take_waiting(f);
		if (!sb)
			break;
		struct pool_inv *inv = f->queue;
		queue_remove(f, inv);
		inv->state = POOL_INV_NEW;
		if (handover(p, sb, inv) < 0) {
			if (++inv->tries >= 3)
				fail(p, inv, EIO, "function `%s`: hand-over failed %u times",
				     f->spec.name, inv->tries);
			else
				queue_push(f, inv, true);
		}
	}
	fill(p, f, now);
}

void pool_invoke(struct pool *p, struct pool_fn *f, struct pool_inv *inv, uint64_t now)
{
	enter(p);
	inv->fn = f;
	if ((prestarted(f) ? f->n_ready == 0 : f->n_waiting == 0) && !idle_instance(f)) {
		inv->on_demand = true;
		unsigned qmax = f->spec.queue ? f->spec.queue : p->cfg.queue_max;
		if (f->n_queued >= qmax) {
			f->busy++;
			fail(
			    p, inv, EBUSY,
			    "function `%s` is busy: %u running, %u waiting to start (max %u, queue "
			    "%u)",
			    f->spec.name, f->n_running, f->n_queued, f->spec.max, qmax);
			leave(p);
			return;
		}
		f->on_demand++;
	}
	queue_push(f, inv, false);
	dispatch(p, f, now);
	leave(p);
}

void pool_http_connected(struct pool *p, struct pool_inv *inv, uint64_t now)
{
	struct pool_sb *sb = inv->sb;
	if (inv->state != POOL_INV_CONNECTING || !sb)
		return;
	enter(p);
	bool first = !sb->http_ready;
	sb->http_ready = true;
	sb->last_used = now;
	sb->fn->requests++;
	inv->state = POOL_INV_RUNNING;
	struct fcpool_event ev = {
	    .kind = FCPOOL_EV_CONNECTED,
	    .cold = first,
	    .handover_us = (double)inv->handover_ns / 1e3,
	    .ready_us = first ? (double)(now - inv->t_started) / 1e3 : 0.0,
	    .wait_us = (double)(now - inv->t_arrived) / 1e3,
	    .on_demand = inv->on_demand,
	    .sock = -1,
	};
	snprintf(ev.id, sizeof(ev.id), "%s", sb->id);
	p->ops->reply(p->ctx, inv, &ev); /* the owner may release inv from here */
	leave(p);
}

void pool_http_failed(struct pool *p, struct pool_inv *inv, int errnum, const char *msg,
                      uint64_t now)
{
	(void)now;
	if (inv->state != POOL_INV_CONNECTING)
		return;
	enter(p);
	if (inv->sb)
		sb_kill(p, inv->sb);
	fail(p, inv, errnum, "%s", msg);
	leave(p);
}

void pool_release(struct pool *p, struct pool_inv *inv, uint64_t now)
{
	struct pool_sb *sb = inv->sb;
	struct pool_fn *f = inv->fn;
	enter(p);
	switch (inv->state) {
	case POOL_INV_QUEUED:
		queue_remove(f, inv);
		break;
	case POOL_INV_CONNECTING:
		if (sb)
			sb_kill(p, sb); /* the client left before the instance was ready */
		break;
	case POOL_INV_RUNNING:
		if (sb && f->spec.mode == FCPOOL_CLASSIC) {
			sb_kill(p, sb);
		} else if (sb) {
			sb->inv = NULL;
			inv->sb = NULL;
			sb->last_used = now;
			if (sb->old)
				sb_kill(p, sb); /* of a replaced spec: its last request is done */
			else if (prestarted(f) && sb->state == POOL_SB_RUNNING && !sb->killed)
				set_state(sb, POOL_SB_READY, now); /* idle since now */
			inv->state = POOL_INV_DONE;
			dispatch(p, f, now); /* the instance is free for the next */
		}
		break;
	default:
		break;
	}
	if (inv->sb)
		inv->sb->inv = NULL;
	inv->sb = NULL;
	inv->state = POOL_INV_DONE;
	leave(p);
}

/* ---- the creators' answers --------------------------------------------------- */

struct pool_sb *pool_sandbox_find(struct pool *p, const char *id)
{
	for (struct pool_fn *f = p->fns; f; f = f->next)
		for (struct pool_sb *sb = f->sandboxes; sb; sb = sb->next)
			if (FC_STREQ(sb->id, id))
				return sb;
	return NULL;
}

void pool_sandbox_created(struct pool *p, struct pool_sb *sb, uint64_t create_ns, uint64_t now)
{
	struct pool_fn *f = sb->fn;
	if (sb->state != POOL_SB_CREATING)
		return;
	enter(p);
	if (sb->sent && p->inflight[sb->creator])
		p->inflight[sb->creator]--;
	sb->t_created = now;
	if (sb->role == POOL_ROLE_TEMPLATE) {
		/* made and started: ready once its helper says so */
		set_state(sb, POOL_SB_STARTING, now);
		if (f->removing)
			sb_kill(p, sb);
		leave(p);
		return;
	}
	set_state(sb, prestarted(f) ? POOL_SB_STARTING : POOL_SB_WAITING, now);
	f->create_ns_sum += create_ns;
	f->lat_create[f->n_create++ % POOL_LAT_RING] = create_ns;
	if (!prestarted(f))
		f->retry_after = 0; /* started: once it is ready */
	if (f->removing) {
		sb_kill(p, sb);
	} else if (sb->killed) {
		/* it goes */
	} else if (prestarted(f)) {
		if (p->ops->probe(p->ctx, sb) > 0)
			pool_sandbox_ready(p, sb, now);
	} else {
		dispatch(p, f, now);
	}
	leave(p);
}

void pool_sandbox_ready(struct pool *p, struct pool_sb *sb, uint64_t now)
{
	struct pool_fn *f = sb->fn;
	if (sb->state != POOL_SB_STARTING)
		return;
	enter(p);
	set_state(sb, POOL_SB_READY, now);
	if (sb->old) {
		leave(p); /* of a replaced spec: it was killed and goes */
		return;
	}
	if (sb->role == POOL_ROLE_INSTANCE)
		f->lat_ready[f->n_ready_lat++ % POOL_LAT_RING] = now - sb->t_created;
	f->fail_streak = 0;
	f->retry_after = 0;
	if (!sb->killed && !f->removing)
		dispatch(p, f, now);
	leave(p);
}

void pool_sandbox_failed(struct pool *p, struct pool_sb *sb, int errnum, const char *msg,
                         uint64_t now)
{
	struct pool_fn *f = sb->fn;
	enter(p);
	if (sb->old) {
		/* of a replaced spec, killed while being made: says nothing of
		 * the current spec (no back-off, no queued request fails) */
		sb_free(p, sb);
		fill(p, f, now);
		leave(p);
		return;
	}
	if (sb->role == POOL_ROLE_TEMPLATE) {
		f->template_failures++;
		bool current = sb == f->tmpl;
		sb_free(p, sb);
		if (current)
			ready_failed(p, f, now);
	} else {
		f->create_failures++;
		sb_free(p, sb);
		f->retry_after = now + p->cfg.retry_ns;
	}
	if (f->queue)
		fail(p, f->queue, errnum ? errnum : EIO, "function `%s`: create sandbox: %s",
		     f->spec.name, msg);
	fill(p, f, now);
	leave(p);
}

void pool_sandbox_exited(struct pool *p, struct pool_sb *sb, int st, uint64_t now)
{
	struct pool_fn *f = sb->fn;
	struct pool_inv *inv = sb->inv;
	enter(p);
	if (sb->role == POOL_ROLE_TEMPLATE && !sb->killed) {
		f->template_failures++;
		ready_failed(p, f, now);
		bool was_ready = sb->state == POOL_SB_READY;
		if (WIFEXITED(st))
			notice(
			    p, sb,
			    "function `%s`: template `%s` exited with status %d%s; its instances "
			    "go with it, a new template follows",
			    f->spec.name, sb->id, WEXITSTATUS(st),
			    was_ready ? "" : " before it was ready");
		else
			notice(p, sb,
			       "function `%s`: template `%s` was killed by signal %d%s; its "
			       "instances go with it, a new template follows",
			       f->spec.name, sb->id, WTERMSIG(st),
			       was_ready ? "" : " before it was ready");
	} else if (sb->role == POOL_ROLE_TEMPLATE) {
		/* told to go */
	} else if (sb->state == POOL_SB_STARTING && !sb->killed) {
		ready_failed(p, f, now);
		if (WIFEXITED(st))
			notice(p, sb,
			       "function `%s`: sandbox `%s` exited with status %d before it was "
			       "ready%s",
			       f->spec.name, sb->id, WEXITSTATUS(st), ready_hint(f));
		else
			notice(p, sb,
			       "function `%s`: sandbox `%s` was killed by signal %d before it was "
			       "ready%s",
			       f->spec.name, sb->id, WTERMSIG(st), ready_hint(f));
	} else if (sb->state == POOL_SB_READY && !sb->killed) {
		notice(p, sb, "function `%s`: ready sandbox `%s` died (status 0x%x); replacing it",
		       f->spec.name, sb->id, (unsigned)st);
	}
	if (inv && inv->state == POOL_INV_CONNECTING) {
		fail(p, inv, ECONNREFUSED,
		     "function `%s`: sandbox `%s` exited before accepting on 127.0.0.1:8080",
		     f->spec.name, sb->id);
	} else if (inv) {
		struct fcpool_event ev = {.kind = FCPOOL_EV_EXIT,
		                          .status =
		                              WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st),
		                          .signal = WIFEXITED(st) ? 0 : WTERMSIG(st),
		                          .timeout = inv->timed_out,
		                          .sock = -1};
		finish(p, inv, &ev);
	}
	sb_free(p, sb);
	dispatch(p, f, now);
	leave(p);
}

/* ---- functions -------------------------------------------------------------- */

struct pool_fn *pool_fn_find(struct pool *p, const char *name)
{
	for (struct pool_fn *f = p->fns; f; f = f->next)
		if (!f->removing && FC_STREQ(f->spec.name, name))
			return f;
	return NULL;
}

static struct pool_fn *live(struct pool_fn *f)
{
	while (f && f->removing)
		f = f->next;
	return f;
}

struct pool_fn *pool_fn_first(struct pool *p)
{
	return live(p->fns);
}

struct pool_fn *pool_fn_next(struct pool_fn *f)
{
	return live(f->next);
}

int pool_deploy_check(struct pool *p, const char *name, struct fc_error **err)
{
	for (struct pool_fn *f = p->fns; f; f = f->next)
		if (f->removing && FC_STREQ(f->spec.name, name))
			return fc_error_set(err, EBUSY, "function `%s` is being removed; try again",
			                    name);
	return 0;
}

int pool_deploy(struct pool *p, struct fcpool_fn_spec *spec, uint64_t now, struct fc_error **err)
{
	int r = pool_deploy_check(p, spec->name, err);
	if (r < 0)
		return r;
	enter(p);
	struct pool_fn *f = pool_fn_find(p, spec->name);
	if (f) {
		/* Every instance was made from the old spec: from now on it is
		 * counted apart (not in the new spec's min, max or states, so the
		 * new spec's pool fills at once) and never handed a new request.
		 * Those that wait, start, are being made or idle go now; a request
		 * in flight finishes on its instance, which then goes. The old
		 * template goes once nothing forked from it runs (settle). */
		for (struct pool_sb *sb = f->sandboxes; sb; sb = sb->next) {
			if (sb->role != POOL_ROLE_INSTANCE || sb->old)
				continue;
			(*sb_count(sb, sb->state))--;
			sb->old = true;
			(*sb_count(sb, sb->state))++;
			if (sb->state != POOL_SB_RUNNING || !sb->inv)
				sb_kill(p, sb);
		}
		f->tmpl = NULL;
		f->retry_after = 0; /* the old spec's back-off is not the new one's */
		f->fail_streak = 0;
		fcpool_fn_spec_clear(&f->spec);
	} else {
		f = fc_calloc(1, sizeof(*f));
		f->queue_tail = &f->queue;
		f->next = p->fns;
		p->fns = f;
	}
	f->spec = *spec;
	memset(spec, 0, sizeof(*spec));
	fill(p, f, now);
	leave(p);
	return 0;
}

void pool_remove(struct pool *p, struct pool_fn *f, uint64_t now)
{
	(void)now;
	enter(p);
	f->removing = true;
	while (f->queue)
		fail(p, f->queue, ENOENT, "function `%s` was removed", f->spec.name);
	for (struct pool_sb *sb = f->sandboxes; sb; sb = sb->next)
		sb_kill(p, sb);
	leave(p); /* forgotten by settle() once its sandboxes are gone */
}

int pool_scale(struct pool *p, struct pool_fn *f, double mn, double mx, uint64_t now,
               struct fc_error **err)
{
	if (mn < 0 || mx < 1 || mn > mx || mx > 10000)
		return fc_error_set(
		    err, EINVAL,
		    "function `%s`: scale min %g max %g: need 0 <= min <= max, 1 <= max <= 10000",
		    f->spec.name, mn, mx);
	enter(p);
	f->spec.min = (unsigned)mn;
	f->spec.max = (unsigned)mx;
	/* above the new max: waiting sandboxes go now (running ones finish) */
	unsigned live_n = 0;
	for (struct pool_sb *sb = f->sandboxes; sb; sb = sb->next)
		if (!sb->killed && !sb->old && sb->role == POOL_ROLE_INSTANCE)
			live_n++;
	for (struct pool_sb *sb = f->sandboxes; sb && live_n > f->spec.max; sb = sb->next)
		if ((sb->state == POOL_SB_WAITING || sb->state == POOL_SB_READY) && !sb->killed &&
		    !sb->old && sb->role == POOL_ROLE_INSTANCE) {
			sb_kill(p, sb);
			f->reaped++;
			live_n--;
		}
	fill(p, f, now);
	leave(p);
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The distribution in us of the nonzero values among the last n of ring. */
static void latency(const uint64_t *ring, uint64_t n, struct fcpool_latency *out)
{
	size_t m = n < POOL_LAT_RING ? (size_t)n : POOL_LAT_RING, k = 0;
	uint64_t *v = fc_malloc((m ? m : 1) * sizeof(*v));
	for (size_t i = 0; i < m; i++)
		if (ring[i])
			v[k++] = ring[i];
	memset(out, 0, sizeof(*out));
	if (k) {
		qsort(v, k, sizeof(*v), cmp_u64);
#define PCT(q) ((double)v[(size_t)ceil((q) / 100.0 * (double)k) - 1] / 1e3)
		*out = (struct fcpool_latency){.n = k,
		                               .p50 = PCT(50),
		                               .p95 = PCT(95),
		                               .p99 = PCT(99),
		                               .max = (double)v[k - 1] / 1e3};
#undef PCT
	}
	free(v);
}

void pool_fn_status(const struct pool_fn *f, bool stats, struct fcpool_fn_status *st)
{
	memset(st, 0, sizeof(*st));
	st->spec = f->spec;
	st->min = f->spec.min;
	st->max = f->spec.max;
	st->waiting = f->n_waiting + f->n_ready;
	if (fork_mode(f) || f->tmpl) {
		static const char *const names[] = {[POOL_SB_CREATING] = "creating",
		                                    [POOL_SB_STARTING] = "starting",
		                                    [POOL_SB_READY] = "ready"};
		const char *n = f->tmpl && (size_t)f->tmpl->state < FC_ARRAY_SIZE(names)
		                    ? names[f->tmpl->state]
		                    : NULL;
		snprintf(st->template_state, sizeof(st->template_state), "%s", n ? n : "none");
	}
	st->templates = f->templates;
	st->template_failures = f->template_failures;
	st->starting = f->n_starting;
	st->ready_failures = f->ready_failures;
	snprintf(st->last_error, sizeof(st->last_error), "%s", f->last_error);
	st->creating = f->n_creating;
	st->running = f->n_running;
	st->queued = f->n_queued;
	st->handovers = f->handovers;
	st->requests = f->spec.mode == FCPOOL_HTTP ? f->requests : f->handovers;
	st->on_demand = f->on_demand;
	st->creates = f->creates;
	st->create_failures = f->create_failures;
	st->handover_failures = f->handover_failures;
	st->busy = f->busy;
	st->reaped = f->reaped;
	if (!stats)
		return;
	uint64_t created = f->creates - f->create_failures;
	st->create_ms_mean = created ? (double)f->create_ns_sum / (double)created / 1e6 : 0.0;
	latency(f->lat, f->n_lat, &st->handover_us);
	latency(f->lat_exec, f->n_lat, &st->exec_us);
	latency(f->lat_create, f->n_create, &st->create_us);
	latency(f->lat_ready, f->n_ready_lat, &st->ready_us);
}

/* ---- time ------------------------------------------------------------------- */

void pool_tick(struct pool *p, uint64_t now)
{
	enter(p);
	for (struct pool_fn *f = p->fns; f; f = f->next) {
		for (struct pool_inv *inv = f->queue, *next; inv; inv = next) {
			next = inv->qnext;
			if (now - inv->t_arrived <= p->cfg.queue_wait_ns)
				continue;
			f->busy++;
			fail(p, inv, EBUSY,
			     "function `%s` is busy: no sandbox within %.0f s (max %u)",
			     f->spec.name, (double)p->cfg.queue_wait_ns / 1e9, f->spec.max);
		}
		unsigned idle = prestarted(f) ? f->n_ready : f->n_waiting;
		unsigned extra = idle > f->spec.min ? idle - f->spec.min : 0;
		uint64_t ready_ns = f->spec.ready_timeout_ms
		                        ? f->spec.ready_timeout_ms * 1000000ULL
		                        : FCPOOL_DEFAULT_READY_TIMEOUT_MS * 1000000ULL;
		for (struct pool_sb *sb = f->sandboxes; sb; sb = sb->next) {
			struct pool_inv *inv = sb->inv;
			if (inv && inv->deadline && now > inv->deadline && !inv->timed_out) {
				inv->timed_out = true;
				sb_kill(p, sb);
			}
			if (sb->killed)
				continue;
			if (sb->state == POOL_SB_STARTING && now - sb->t_state > ready_ns) {
				sb_kill(p, sb);
				ready_failed(p, f, now);
				if (sb->role == POOL_ROLE_TEMPLATE)
					f->template_failures++;
				notice(p, sb,
				       sb->role == POOL_ROLE_TEMPLATE
				           ? "function `%s`: template `%s` did not reach "
				             "fcstart.ready() "
				             "within %.3g s (does the function call it?)"
				           : "function `%s`: sandbox `%s` was not ready within "
				             "%.3g s%s",
				       f->spec.name, sb->id, (double)ready_ns / 1e9,
				       sb->role == POOL_ROLE_TEMPLATE ? "" : ready_hint(f));
				continue;
			}
			if (sb->role == POOL_ROLE_TEMPLATE)
				continue;
			if (extra && (sb->state == POOL_SB_WAITING || sb->state == POOL_SB_READY) &&
			    now - sb->t_state > p->cfg.idle_ns) {
				sb_kill(p, sb);
				f->reaped++;
				extra--;
			} else if (sb->state == POOL_SB_RUNNING && sb->http_ready && !inv &&
			           now - sb->last_used > p->cfg.idle_ns) {
				sb_kill(p, sb);
				f->reaped++;
			}
		}
		fill(p, f, now);
	}
	leave(p);
}

/* ---- the context ------------------------------------------------------------ */

struct pool *pool_new(const struct pool_config *cfg, const struct pool_ops *ops, void *ctx)
{
	struct pool *p = fc_calloc(1, sizeof(*p));
	p->cfg = *cfg;
	if (!p->cfg.creators)
		p->cfg.creators = 1;
	if (!p->cfg.creator_slots)
		p->cfg.creator_slots = 1;
	p->id_prefix = fc_strdup(cfg->id_prefix ? cfg->id_prefix : "");
	p->id_tag = fc_strdup(cfg->id_tag ? cfg->id_tag : "0");
	p->inflight = fc_calloc(p->cfg.creators, sizeof(*p->inflight));
	p->ops = ops;
	p->ctx = ctx;
	return p;
}

void pool_free(struct pool *p)
{
	if (!p)
		return;
	while (p->fns) {
		struct pool_fn *f = p->fns;
		p->fns = f->next;
		while (f->sandboxes) {
			struct pool_sb *sb = f->sandboxes;
			f->sandboxes = sb->next;
			p->ops->sandbox_gone(p->ctx, sb);
			free(sb);
		}
		fcpool_fn_spec_clear(&f->spec);
		free(f);
	}
	free(p->inflight);
	free(p->id_prefix);
	free(p->id_tag);
	free(p);
}
