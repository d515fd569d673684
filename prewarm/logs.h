/* SPDX-License-Identifier: MIT */
/* logs.h: each function's log, what its instances write to their stdout and
 * stderr (an HTTP instance's both, a classic invocation's stderr when its
 * caller keeps none), line by line, with the time a line came and the
 * sandbox that wrote it, in a ring bounded in lines and bytes per function.
 * Readers go through it by sequence number, and may be woken when lines
 * come (following). */
#ifndef FCPOOL_LOGS_H
#define FCPOOL_LOGS_H

#include "loop.h"

#define LOGS_MAX_LINES 2000       /* per function */
#define LOGS_MAX_BYTES (1u << 20) /* of text per function */
#define LOGS_LINE_MAX  8192       /* a longer line is cut into lines of this */

struct logs;
struct logs_watch;

struct logs_line {
	uint64_t seq;
	uint64_t time_ns; /* CLOCK_REALTIME */
	const char *instance, *text;
};

struct logs *logs_new(struct loop *l);
/* Closes every pipe. */
void logs_free(struct logs *lg);
/* A pipe whose lines go to function fn's log as instance's: its write end
 * (the caller passes and closes it), or -errno. */
int logs_pipe(struct logs *lg, const char *fn, const char *instance);
/* Function fn is gone: its log goes (its pipes are read on into nothing). */
void logs_forget(struct logs *lg, const char *fn);
/* The first line of fn's log at or after *seq (lines the ring dropped
 * meanwhile are skipped), and *seq moves past it: 0, or -ENOENT when there
 * is none yet. line's strings live until the log changes. */
int logs_next(struct logs *lg, const char *fn, uint64_t *seq, struct logs_line *line);
/* Where the last n lines of fn's log begin (n 0: the next line to come). */
uint64_t logs_tail(struct logs *lg, const char *fn, uint64_t n);
/* wake(owner) is called from the loop whenever fn's log gets lines. */
struct logs_watch *logs_watch(struct logs *lg, const char *fn, void (*wake)(void *), void *owner);
void logs_unwatch(struct logs_watch *w);

#endif
