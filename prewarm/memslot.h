/* SPDX-License-Identifier: MIT */
/* memslot.h: the daemon's memory slots. A pool sandbox of an exec-mode
 * function waits without a memory cgroup of its own (on hosts with a v1
 * memory hierarchy: fcrt_create_opts.memory_at_start): a memory cgroup is
 * the largest part of what a waiting sandbox costs the host's kernel. At
 * its hand-over it joins a memory slot, a memory cgroup with the
 * function's limits taken from a few kept free per function; after it is
 * gone the slot is used again once empty. A redeploy starts a new
 * generation (new limits); the old one's slots go as they come back. Names
 * start with the daemon's sandbox prefix ("/fcrun/<prefix><fn>.mem<pid>.<n>"),
 * so the recovery after a kill -9 removes them too. */
#ifndef FCPOOL_MEMSLOT_H
#define FCPOOL_MEMSLOT_H

#include "fcrt.h"

struct memslots;
struct memslot;

/* Do an exec-mode function's sandboxes wait without a memory cgroup here?
 * (A v1 memory hierarchy; FCSTART_SANDBOX_MEMCG=own turns it off, for
 * side-by-side benchmarks.) The daemon and its fork servers agree on it. */
bool memslots_wanted(void);

struct memslots *memslots_new(const char *prefix);
/* Remove every slot (the daemon's stop). */
void memslots_free(struct memslots *m);
/* fn deployed (again): its slots get res's memory limits from now on (res
 * may be NULL); a few are made ahead. */
void memslots_deploy(struct memslots *m, const char *fn, const struct fc_resources *res);
/* fn removed: its free slots go, those in use when they come back. */
void memslots_forget(struct memslots *m, const char *fn);
/* An empty slot of fn's (made now when none is free). */
int memslots_take(struct memslots *m, const char *fn, struct memslot **out, struct fc_error **err);
/* The `tasks` file of the slot, open for writing. */
int memslot_fd(const struct memslot *s);
/* The sandbox that used it is gone (NULL is fine). */
void memslots_give(struct memslots *m, struct memslot *s);
/* Remove the free slots unused for a while (a few per call), and make the
 * free slots each function keeps ahead (at most one per call): call when the
 * daemon is idle. */
void memslots_refill(struct memslots *m);

#endif
