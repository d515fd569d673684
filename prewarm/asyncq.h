/* SPDX-License-Identifier: MIT */
/* asyncq.h: the durable queue of asynchronous invocations (the gateway's
 * /async-function/NAME), files in a directory of its own (<root>/async). An
 * accepted request is its head (ID.req: the request's head as HTTP/1.1 text)
 * and its body (ID.body), each written under a temporary name, synced, and
 * renamed into place (then the directory synced) before the caller answers
 * 202. Before a request is run, the marker ID.run is made and synced; once it
 * has run, its answer is kept (ID.res: the answer's head, ID.out: its body)
 * until its callback is posted, then every file goes. So after a crash, even
 * kill -9, an accepted request is run once, or reported failed when it had
 * started (its marker is there without an answer), and a kept answer is
 * posted (again). IDs sort in the order requests came. No file holds more
 * than what the request and the answer carried. */
#ifndef FCPOOL_ASYNCQ_H
#define FCPOOL_ASYNCQ_H

#include "fc-util.h"

enum asyncq_state {
	ASYNCQ_QUEUED = 0,  /* accepted, not run yet */
	ASYNCQ_RUNNING,     /* its marker made: it runs (or ran when the daemon died) */
	ASYNCQ_INTERRUPTED, /* a previous daemon started it and kept no answer */
	ASYNCQ_ANSWERED,    /* its answer is kept, to be posted */
};

struct asyncq;
struct asyncq_new;

/* Open (make) the queue in dir; temporaries of a previous run are removed,
 * and what it left is read: queued requests, interrupted ones, answers. */
int asyncq_open(const char *dir, struct asyncq **out, struct fc_error **err);
void asyncq_free(struct asyncq *q);
/* How many requests it holds (every state). */
size_t asyncq_len(const struct asyncq *q);

/* ---- accepting ----------------------------------------------------------------- */

/* A new request: its body is written as it comes, then its head commits it. */
int asyncq_begin(struct asyncq *q, struct asyncq_new **out, struct fc_error **err);
int asyncq_body(struct asyncq_new *n, const void *data, size_t len, struct fc_error **err);
/* Write the head, sync, rename into place; *id is the request's (the caller
 * frees it). n is gone either way. */
int asyncq_commit(struct asyncq_new *n, const char *head, size_t len, char **id,
                  struct fc_error **err);
void asyncq_abort(struct asyncq_new *n);

/* ---- running --------------------------------------------------------------------- */

/* The oldest request in state st (its id, the queue's), or NULL. */
const char *asyncq_first(struct asyncq *q, enum asyncq_state st);
/* Make (and sync) the marker: st QUEUED -> RUNNING. */
int asyncq_start(struct asyncq *q, const char *id, struct fc_error **err);
/* The request's head (NUL-terminated; the caller frees it) and its body (a
 * descriptor the caller closes, and its size). */
int asyncq_request(struct asyncq *q, const char *id, char **head, int *body, uint64_t *size,
                   struct fc_error **err);
/* A file for the answer's body (the caller writes, and closes it). */
int asyncq_answer_body(struct asyncq *q, const char *id, struct fc_error **err);
/* Keep the answer: its head, and the body written to asyncq_answer_body's
 * file (or none); RUNNING or INTERRUPTED -> ANSWERED. */
int asyncq_answer(struct asyncq *q, const char *id, const char *head, size_t len,
                  struct fc_error **err);
/* The kept answer: head (freed by the caller), body (a descriptor; -1 when
 * there is none) and its size. */
int asyncq_answered(struct asyncq *q, const char *id, char **head, int *body, uint64_t *size,
                    struct fc_error **err);
/* The request is over: its files go. */
void asyncq_remove(struct asyncq *q, const char *id);

#endif
