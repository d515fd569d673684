/* SPDX-License-Identifier: MIT */
/* cgpool.h: a fork server's recycled cgroups, a pool of empty ones per
 * function. A sandbox takes one (a free one, or a new name that its create
 * makes); after its teardown the cgroup is reset (every process killed
 * until it is empty, counters reset) and kept for the function's next
 * sandbox, instead of a mkdir and an rmdir in every hierarchy per sandbox.
 * A redeploy starts a new generation: the old one's cgroups are removed as
 * they come back (a cgroup's device rules are those of the spec it was made
 * for). Names start with the daemon's sandbox prefix, so the recovery after
 * a kill -9 (recover.c) removes them too. */
#ifndef FCPOOL_CGPOOL_H
#define FCPOOL_CGPOOL_H

#include "fcpool.h"

/* Once, before the first take: names are "/fcrun/<prefix><fn>.cg<pid>.<n>". */
void cgpool_init(const char *root);
/* A cgroup for a sandbox of fn (*gen: the generation it belongs to). */
char *cgpool_take(const char *fn, unsigned *gen);
/* After the sandbox's delete: kept when fn is still deployed in that
 * generation and its pool is not full (reset first), else removed. path is
 * consumed. */
void cgpool_give(const char *fn, unsigned gen, char *path);
/* fn redeployed or removed: its free cgroups go, and those in use go when
 * they come back. */
void cgpool_drop(const char *fn);
/* The fork server's exit: every free cgroup goes. */
void cgpool_drop_all(void);
/* Remove the free cgroups unused for a while (a function keeps a few);
 * returns the milliseconds until the next is due, 0 when more are due now,
 * -1 when none is. */
int cgpool_trim(uint64_t now);
/* Free cgroups now (all functions). */
size_t cgpool_free_count(void);

#endif
