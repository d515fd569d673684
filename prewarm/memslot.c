/* SPDX-License-Identifier: MIT */
/* memslot.c: the daemon's memory slots (see memslot.h). */
#include <stdlib.h>
#include <unistd.h>

#include "memslot.h"

/* Free slots made ahead per function: a hand-over finds one without a
 * mkdir (a memory cgroup's mkdir takes 0.1-0.4 ms); a burst beyond them
 * makes its own. */
#define MEMSLOT_AHEAD 2
/* Free slots kept per function at most (each costs the kernel a memory
 * cgroup); more go when they come back, and those unused for
 * MEMSLOT_IDLE_NS go but MEMSLOT_AHEAD (a few per call). */
#define MEMSLOT_KEEP     64
#define MEMSLOT_IDLE_NS  (10ull * 1000000000ull)
#define MEMSLOT_TRIM_MAX 4

struct memslot {
	char *path;
	int fd; /* its `tasks` file */
	struct memslot_fn *fn;
	unsigned gen;
	bool used;      /* by a sandbox now */
	bool clean;     /* free and seen empty since its last use */
	uint64_t since; /* free since */
	struct memslot *next;
};

struct memslot_fn {
	char *name;
	unsigned gen;
	bool deployed;
	bool no_ahead; /* making one ahead failed: the hand-overs make their own */
	bool has_res;
	struct fc_resources res; /* its memory part */
	struct memslot *slots;   /* free and used */
	size_t n_free;
	struct memslot_fn *next;
};

struct memslots {
	char *prefix;
	struct memslot_fn *fns;
	unsigned long long made;
	unsigned gens;
};

bool memslots_wanted(void)
{
	const char *v = getenv("FCSTART_SANDBOX_MEMCG");
	if (v && FC_STREQ(v, "own"))
		return false;
	return fcrt_memslot_supported();
}

struct memslots *memslots_new(const char *prefix)
{
	struct memslots *m = fc_calloc(1, sizeof(*m));
	m->prefix = fc_strdup(prefix ? prefix : "fcs-");
	return m;
}

static struct memslot_fn *find(struct memslots *m, const char *fn, bool add)
{
	struct memslot_fn *f = m->fns;
	while (f && !FC_STREQ(f->name, fn))
		f = f->next;
	if (!f && add) {
		f = fc_calloc(1, sizeof(*f));
		f->name = fc_strdup(fn);
		f->next = m->fns;
		m->fns = f;
	}
	return f;
}

static void slot_remove(struct memslot *s)
{
	struct fc_error *e = NULL;
	if (s->fd >= 0)
		close(s->fd);
	if (fcrt_cgroup_remove(s->path, &e) < 0)
		fc_log(FC_LOG_WARN, "remove memory slot %s: %s", s->path, e ? e->msg : "?");
	fc_error_free(e);
	free(s->path);
	free(s);
}

/* Unlink and remove every slot of f that is free (all: used ones too). */
static void drop(struct memslot_fn *f, bool all)
{
	for (struct memslot **p = &f->slots; *p;) {
		struct memslot *s = *p;
		if (s->used && !all) {
			p = &s->next;
			continue;
		}
		*p = s->next;
		if (!s->used)
			f->n_free--;
		slot_remove(s);
	}
}

void memslots_free(struct memslots *m)
{
	if (!m)
		return;
	while (m->fns) {
		struct memslot_fn *f = m->fns;
		m->fns = f->next;
		drop(f, true);
		free(f->name);
		free(f);
	}
	free(m->prefix);
	free(m);
}

static int make(struct memslots *m, struct memslot_fn *f, struct memslot **out,
                struct fc_error **err)
{
	struct memslot *s = fc_calloc(1, sizeof(*s));
	s->path =
	    fc_asprintf("/fcrun/%s%s.mem%d.%llu", m->prefix, f->name, (int)getpid(), ++m->made);
	s->fn = f;
	s->gen = f->gen;
	int r = fcrt_memslot_make(s->path, f->has_res ? &f->res : NULL, &s->fd, err);
	if (r < 0) {
		fc_error_wrap(err, "function `%s`: memory slot", f->name);
		struct fc_error *e = NULL;
		fcrt_cgroup_remove(s->path, &e); /* what it made of it */
		fc_error_free(e);
		if (s->fd >= 0)
			close(s->fd);
		free(s->path);
		free(s);
		return r;
	}
	s->clean = true;
	s->since = fc_now_ns();
	s->next = f->slots;
	f->slots = s;
	f->n_free++;
	*out = s;
	return 0;
}

void memslots_deploy(struct memslots *m, const char *fn, const struct fc_resources *res)
{
	struct memslot_fn *f = find(m, fn, true);
	drop(f, false); /* the old limits' free ones; used ones go when back */
	f->gen = ++m->gens;
	f->deployed = true;
	f->no_ahead = false;
	f->has_res = res != NULL;
	memset(&f->res, 0, sizeof(f->res));
	if (res)
		f->res.memory = res->memory;
}

void memslots_forget(struct memslots *m, const char *fn)
{
	struct memslot_fn *f = find(m, fn, false);
	if (!f)
		return;
	f->deployed = false;
	drop(f, false);
}

int memslots_take(struct memslots *m, const char *fn, struct memslot **out, struct fc_error **err)
{
	struct memslot_fn *f = find(m, fn, false);
	if (!f || !f->deployed)
		return fc_error_set(err, ENOENT, "function `%s`: no memory slots", fn);
	/* a free one seen empty since its last use (no read on this path),
	 * else one that is empty now (what ran in it before is gone) */
	unsigned looked = 0; /* reads of dirty ones: a few, then a new slot */
	struct memslot *s = NULL;
	for (int pass = 0; pass < 2 && !s; pass++)
		for (s = f->slots; s; s = s->next)
			if (!s->used &&
			    (s->clean || (pass && looked++ < 4 && fcrt_memslot_empty(s->path))))
				break;
	if (!s) {
		int r = make(m, f, &s, err);
		if (r < 0)
			return r;
	}
	s->used = true;
	s->clean = false;
	f->n_free--;
	*out = s;
	return 0;
}

int memslot_fd(const struct memslot *s)
{
	return s->fd;
}

void memslots_give(struct memslots *m, struct memslot *s)
{
	if (!s)
		return;
	struct memslot_fn *f = s->fn;
	s->used = false;
	s->since = fc_now_ns();
	f->n_free++;
	if (f->deployed && s->gen == f->gen && f->n_free <= MEMSLOT_KEEP) {
		/* used again once empty: its sandbox is gone, its processes
		 * mostly too (a hand-over checks again those that were not) */
		s->clean = fcrt_memslot_empty(s->path);
		return;
	}
	for (struct memslot **p = &f->slots; *p; p = &(*p)->next)
		if (*p == s) {
			*p = s->next;
			break;
		}
	f->n_free--;
	slot_remove(s);
	(void)m;
}

void memslots_refill(struct memslots *m)
{
	/* the free slots unused for a while go, but those kept ahead */
	uint64_t now = fc_now_ns();
	unsigned trimmed = 0;
	for (struct memslot_fn *f = m->fns; f && trimmed < MEMSLOT_TRIM_MAX; f = f->next)
		for (struct memslot **p = &f->slots; *p && trimmed < MEMSLOT_TRIM_MAX;) {
			struct memslot *s = *p;
			if (s->used || f->n_free <= MEMSLOT_AHEAD ||
			    now - s->since < MEMSLOT_IDLE_NS) {
				p = &s->next;
				continue;
			}
			*p = s->next;
			f->n_free--;
			slot_remove(s);
			trimmed++;
		}
	for (struct memslot_fn *f = m->fns; f; f = f->next) {
		if (!f->deployed || f->no_ahead || f->n_free >= MEMSLOT_AHEAD)
			continue;
		struct memslot *s = NULL;
		struct fc_error *e = NULL;
		if (make(m, f, &s, &e) < 0) {
			fc_log(FC_LOG_WARN, "%s", e ? e->msg : "memory slot");
			fc_error_free(e);
			f->no_ahead = true; /* no retry loop */
		}
		return;
	}
}
