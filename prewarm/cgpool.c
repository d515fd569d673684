/* SPDX-License-Identifier: MIT */
/* cgpool.c: a fork server's recycled cgroups (see cgpool.h). */
#include <unistd.h>

#include "cgpool.h"
#include "fcrt.h"
#include "fsproto.h"

/* Free cgroups kept per function: enough for the sandboxes that run and
 * wait at once under a burst (each holds one meanwhile); the rest go. Each
 * holds a memory cgroup (about 1 MiB of kernel memory on a v1 host), so
 * those left unused for CGPOOL_IDLE_NS go too, but CGPOOL_KEEP. */
#define CGPOOL_FREE_MAX 64
#define CGPOOL_KEEP     2
#define CGPOOL_IDLE_NS  (10ull * 1000000000ull)
#define CGPOOL_TRIM_MAX 4 /* removals per call: the fork server has other work */

struct cgpool_free {
	char *path;
	uint64_t since; /* when it came back */
};

struct cgpool_fn {
	char *name;
	unsigned gen;
	struct cgpool_free *free; /* empty, reset cgroups, the oldest first */
	size_t n_free, cap_free;
	struct cgpool_fn *next;
};
static struct cgpool_fn *fns;
static char *prefix;
static unsigned long long made;
static unsigned gens;

void cgpool_init(const char *root)
{
	free(prefix);
	prefix = sandbox_prefix(root);
}

static struct cgpool_fn *find(const char *fn, bool add)
{
	struct cgpool_fn *f = fns;
	while (f && !FC_STREQ(f->name, fn))
		f = f->next;
	if (!f && add) {
		f = fc_calloc(1, sizeof(*f));
		f->name = fc_strdup(fn);
		f->gen = ++gens;
		f->next = fns;
		fns = f;
	}
	return f;
}

static void remove_one(char *path)
{
	struct fc_error *e = NULL;
	if (fcrt_cgroup_remove(path, &e) < 0)
		fc_log(FC_LOG_WARN, "fork server: remove cgroup %s: %s", path, e ? e->msg : "?");
	fc_error_free(e);
	free(path);
}

char *cgpool_take(const char *fn, unsigned *gen)
{
	struct cgpool_fn *f = find(fn, true);
	*gen = f->gen;
	if (f->n_free)
		return f->free[--f->n_free].path; /* the newest: the oldest may go */
	/* a new one, made by the sandbox's create */
	return fc_asprintf("/fcrun/%s%s.cg%d.%llu", prefix ? prefix : "fcs-", fn, (int)getpid(),
	                   ++made);
}

void cgpool_give(const char *fn, unsigned gen, char *path)
{
	struct cgpool_fn *f = find(fn, false);
	if (!path)
		return;
	if (!f || f->gen != gen || f->n_free >= CGPOOL_FREE_MAX) {
		remove_one(path);
		return;
	}
	struct fc_error *e = NULL;
	if (fcrt_cgroup_reset(path, &e) < 0) {
		fc_log(FC_LOG_WARN, "fork server: %s: removed instead",
		       e ? e->msg : "reset failed");
		fc_error_free(e);
		remove_one(path);
		return;
	}
	if (f->n_free == f->cap_free) {
		f->cap_free = f->cap_free ? f->cap_free * 2 : 16;
		f->free = fc_realloc(f->free, f->cap_free * sizeof(*f->free));
	}
	f->free[f->n_free++] = (struct cgpool_free){path, fc_now_ns()};
}

void cgpool_drop(const char *fn)
{
	struct cgpool_fn **p = &fns;
	while (*p && !FC_STREQ((*p)->name, fn))
		p = &(*p)->next;
	struct cgpool_fn *f = *p;
	if (!f)
		return;
	*p = f->next;
	while (f->n_free)
		remove_one(f->free[--f->n_free].path);
	free(f->free);
	free(f->name);
	free(f);
}

void cgpool_drop_all(void)
{
	while (fns)
		cgpool_drop(fns->name);
}

int cgpool_trim(uint64_t now)
{
	int next = -1, done = 0;
	for (struct cgpool_fn *f = fns; f; f = f->next) {
		while (f->n_free > CGPOOL_KEEP) {
			uint64_t due = f->free[0].since + CGPOOL_IDLE_NS;
			if (due > now) {
				int ms = (int)((due - now) / 1000000) + 1;
				if (next < 0 || ms < next)
					next = ms;
				break;
			}
			if (done == CGPOOL_TRIM_MAX)
				return 0; /* more at once: again after a poll */
			remove_one(f->free[0].path);
			memmove(f->free, f->free + 1, --f->n_free * sizeof(*f->free));
			done++;
		}
	}
	return next;
}

size_t cgpool_free_count(void)
{
	size_t n = 0;
	for (struct cgpool_fn *f = fns; f; f = f->next)
		n += f->n_free;
	return n;
}
