/* SPDX-License-Identifier: MIT */
/* callback.h: posting an asynchronous invocation's answer to the caller's
 * X-Callback-Url, as OpenFaaS's queue-worker does: a POST of the function's
 * answer, its headers and the queue-worker's (X-Call-Id, X-Function-Status,
 * X-Duration-Seconds, X-Function-Name). libcurl's multi interface in the
 * daemon's loop (libcurl is loaded at the first post, not linked): http and
 * https only, no redirect followed, at most 60 s a post. */
#ifndef FCPOOL_CALLBACK_H
#define FCPOOL_CALLBACK_H

#include "loop.h"

struct callbacks;

/* The post is over: the receiver's HTTP status, or 0 with the error. From
 * the loop, never from inside callback_post. */
typedef void callback_done_fn(void *data, long status, const char *error);

struct callbacks *callbacks_new(struct loop *l);
/* Posts under way are dropped (their done is not called). */
void callbacks_free(struct callbacks *c);
/* POST to url: headers ("Name: value"), body_fd's size bytes (taken; -1:
 * an empty body). */
int callback_post(struct callbacks *c, const char *url, char *const *headers, int body_fd,
                  uint64_t size, callback_done_fn *done, void *data, struct fc_error **err);
/* Whether url is one to post to: http:// or https://, nothing odd in it. */
bool callback_url_valid(const char *url);

#endif
