/* SPDX-License-Identifier: MIT */
/* loop.h: the daemon's one poll() loop. Descriptors are watched with a
 * callback each; hooks run around every poll (before: the most it may wait;
 * after: work that is due). Single-threaded: everything of the daemon runs in
 * these callbacks. */
#ifndef FCPOOL_LOOP_H
#define FCPOOL_LOOP_H

#include <poll.h>

#include "fc-util.h"

struct loop;
struct loop_watch;

typedef void loop_fd_fn(void *data, short revents);
/* The longest the next poll may wait, in ms (-1: no limit). */
typedef int loop_before_fn(void *data, uint64_t now);
typedef void loop_after_fn(void *data, uint64_t now);

struct loop *loop_new(void);
void loop_free(struct loop *l);

/* Call fn(data, revents) when fd has one of events (POLLIN, POLLOUT; POLLHUP
 * and POLLERR always count). */
struct loop_watch *loop_watch(struct loop *l, int fd, short events, loop_fd_fn *fn, void *data);
void loop_watch_events(struct loop_watch *w, short events);
/* Stop watching (from anywhere, also a callback; NULL is fine). The fd is
 * the caller's to close. */
void loop_unwatch(struct loop_watch *w);

/* Hooks run in the order they were added; either may be NULL. */
void loop_hook(struct loop *l, loop_before_fn *before, loop_after_fn *after, void *data);
void loop_unhook(struct loop *l, void *data);

/* Poll and dispatch until loop_stop(). */
int loop_run(struct loop *l, struct fc_error **err);
void loop_stop(struct loop *l);

#endif
