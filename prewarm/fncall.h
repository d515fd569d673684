/* SPDX-License-Identifier: MIT */
/* fncall.h: one invocation of a function as the OpenFaaS gateway makes it,
 * whoever gives the request and takes the answer (the gateway's HTTP
 * connection, the async queue): the request's body goes in as the owner
 * gives it, the response comes out as the owner asks for it, both with
 * back-pressure, so no body sits whole in the daemon.
 *
 * An HTTP function (an OpenFaaS watchdog, or any server on 8080) gets the
 * request relayed as HTTP/1.1 (relay.h): method, path, query string and
 * headers, X-Forwarded-For and -Host, X-Call-Id and X-Start-Time as the
 * OpenFaaS gateway adds them; its status and headers come back. A classic
 * function gets the body on stdin, the request as the Http_* environment
 * variables OpenFaaS's classic watchdog sets, and answers on stdout: 200 when
 * it exits 0, 500 when it fails, 504 when its timeout kills it (its first MiB
 * is held for that; past it the answer streams as 200). Either way the
 * answer carries X-Call-Id, X-Start-Time, X-Duration-Seconds and
 * X-Fcstart-Start (cold: a never-used sandbox, warm: an instance that served
 * before). */
#ifndef FCPOOL_FNCALL_H
#define FCPOOL_FNCALL_H

#include "daemon.h"
#include "httpmsg.h"

#define FNCALL_EOF  (-4096) /* fncall_read: the answer is complete */
#define FNCALL_HOLD (1u << 20)

struct fncall;
/* Something the owner may wait for happened (the answer's head, its bytes,
 * room for the body, the end). Always from the loop, never from inside an
 * fncall_* call: after each call, look at what it returned. */
typedef void fncall_wake_fn(void *owner);

struct fncall_req {
	const char *fn;             /* the function's name */
	const char *method, *path;  /* path: what follows /function/NAME ("" or "/...") */
	const char *query;          /* the raw query string, without "?" (NULL: none) */
	const struct http_hdr *hdr; /* the caller's headers */
	size_t n_hdr;
	int64_t body_len;    /* 0: none, > 0: Content-Length, -1: unknown (chunked) */
	const char *peer;    /* the client's address (X-Forwarded-For when it has none) */
	const char *call_id; /* X-Call-Id (the caller's, or made by the gateway) */
	uint64_t start_ns;   /* X-Start-Time: when the request came (unix ns) */
};

struct fncall_resp {
	unsigned status;
	struct http_hdr *hdr; /* the answer's headers (none that frame it) */
	size_t n_hdr;
	int64_t length; /* of the body, -1: unknown (it streams) */
	bool cold, on_demand;
	bool gateway; /* the gateway's own answer (404, 429, 502, 504): the body is its message */
};

/* Start: -ENOENT "no function `NAME`" when fn is not deployed (nothing
 * started). A refusal that comes at once (busy) is an answer: look at
 * fncall_response() before waiting. */
int fncall_start(struct daemon *d, struct loop *l, const struct fncall_req *r, fncall_wake_fn *wake,
                 void *owner, struct fncall **out, struct fc_error **err);
/* Stop: an invocation under way ends (a classic function is killed, an HTTP
 * instance freed); a complete exchange gives its connection back for the
 * next request. NULL is fine. */
void fncall_free(struct fncall *c);

/* Body bytes: taken (0: none now, wake follows); -errno when the function
 * takes no more (it answered, or left): drop the rest. */
ssize_t fncall_write(struct fncall *c, const void *data, size_t len);
void fncall_write_end(struct fncall *c);

/* The answer's status and headers, once known (NULL before). */
const struct fncall_resp *fncall_response(struct fncall *c);
/* The answer's body: > 0 bytes, 0 none yet (wake follows), FNCALL_EOF at its
 * end, -errno when it was cut short (the function failed or died after its
 * answer began). */
ssize_t fncall_read(struct fncall *c, void *buf, size_t max);
/* The time from the request to now, or to the end of the answer. */
double fncall_seconds(const struct fncall *c);

/* A new X-Call-Id (a random UUID). */
void fncall_new_call_id(char out[37]);

#endif
