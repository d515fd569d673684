/* SPDX-License-Identifier: MIT */
/* relay.h: one HTTP/1.1 exchange with a function's instance over a connected
 * socket, driven by the daemon's loop and never blocking it: the request's
 * head, then its body as the owner gives it (Content-Length or chunked),
 * with back-pressure; the response's head parsed, its body handed back
 * decoded as the owner asks for it. Both directions at once: the response
 * is read while the body still goes out, and the socket is never half
 * closed (Go's servers, the OpenFaaS watchdogs among them, take a half-close
 * for a client that left). At the end the connection may carry the next
 * request (keep-alive) when both messages were complete. */
#ifndef FCPOOL_RELAY_H
#define FCPOOL_RELAY_H

#include "httpmsg.h"
#include "loop.h"

#define RELAY_EOF (-4096) /* relay_read: the response's body is complete */

struct relay;

/* Something the owner may wait for happened: the response's head came, body
 * bytes to read, room to write, the end, a failure. Called from the loop,
 * never from inside a relay_* call. */
typedef void relay_wake_fn(void *owner);

/* Start the exchange on sock (connected; taken): head is the request's head
 * (taken), body_len the body's bytes (0: none, -1: unknown, sent chunked);
 * head_request: the request is HEAD (its response has no body). */
struct relay *relay_new(struct loop *l, int sock, struct fc_buf *head, int64_t body_len,
                        bool head_request, relay_wake_fn *wake, void *owner);
/* Stop, closing the socket unless relay_take_socket had it. NULL is fine. */
void relay_free(struct relay *r);

/* Body bytes: how many were taken (0: none now, the owner is woken when
 * there is room); -errno when the instance no longer reads (it answered, or
 * left): the rest of the body is then the owner's to drop. */
ssize_t relay_write(struct relay *r, const void *data, size_t len);
/* The body is complete (a chunked one is closed). */
void relay_write_end(struct relay *r);

/* The response's head, once it came (NULL before), with its framing. */
const struct http_head *relay_head(const struct relay *r, enum http_framing *f,
                                   uint64_t *content_length);
/* Response body bytes: > 0 read, 0 none yet (the owner is woken when there
 * are), RELAY_EOF at its end, -errno on a failure (EPROTO: a malformed
 * response; ECONNRESET: the connection closed before the response ended). */
ssize_t relay_read(struct relay *r, void *buf, size_t max);
/* A failure before the response's head came (-errno; 0: none yet). */
int relay_error(const struct relay *r);

/* The socket, when the exchange is over and it can carry another request
 * (both messages complete, keep-alive); else -1. The relay no longer owns it. */
int relay_take_socket(struct relay *r);

#endif
