/* SPDX-License-Identifier: MIT */
/* pulls.h: images pulled for deploys by child processes, so that a pull from
 * a registry (seconds to minutes) never holds the daemon's loop (pulls.c).
 * The front ends (the unix-socket API, the gateway) wait on a pull and deploy
 * at its end; one pull per reference at a time, joined by later deploys. */
#ifndef FCPOOL_PULLS_H
#define FCPOOL_PULLS_H

#include "loop.h"

struct pulls;
struct pull_wait;

struct pulls *pulls_new(struct loop *l, const char *store);
/* Pulls under way are stopped (SIGTERM) and reaped; their waits are dropped
 * without a call. */
void pulls_free(struct pulls *ps);
/* err NULL: ref is in the store; else why the pull failed. Called once, from
 * the loop; the wait is over then (not to be cancelled). */
typedef void (*pull_done_fn)(void *owner, const struct fc_error *err);
/* Wait for ref to be pulled into the store: a child `fcstart image pull`
 * started for it, or the one under way joined. */
int pulls_wait(struct pulls *ps, const char *ref, pull_done_fn done, void *owner,
               struct pull_wait **out, struct fc_error **err);
/* The waiter is gone (its client left): no call; the pull goes on to its end
 * (a deploy again finds the image). NULL is fine. */
void pull_wait_cancel(struct pull_wait *w);

#endif
