/* SPDX-License-Identifier: MIT */
/* httpmsg.h: HTTP/1.1 messages as the gateway relays them, with no I/O:
 * request and response heads parsed, the framing of a body (RFC 9112 6.3),
 * the chunked transfer coding decoded piece by piece, header names in the
 * form Go's net/http gives them (the Http_* variables of OpenFaaS's classic
 * watchdog), and the durations OpenFaaS users write ("70s", "1m30s", "75"). */
#ifndef FCPOOL_HTTPMSG_H
#define FCPOOL_HTTPMSG_H

#include "fc-util.h"

#define HTTP_MAX_HEAD    65536 /* a head longer than this is refused */
#define HTTP_MAX_HEADERS 128

struct http_hdr {
	char *name, *value;
};

struct http_head {
	char *method, *target; /* a request's */
	int status;            /* a response's */
	char *reason;
	int minor; /* HTTP/1.<minor> */
	struct http_hdr *h;
	size_t n;
};

/* The head at the start of buf[0..len): > 0 its length (through the empty
 * line), 0 not complete yet, -EBADMSG malformed (a bad start line, a header
 * without a colon or with a folded line, a NUL, too many headers), -E2BIG
 * longer than HTTP_MAX_HEAD. out is cleared first and set only on > 0. */
ssize_t http_head_parse(const char *buf, size_t len, bool response, struct http_head *out);
void http_head_clear(struct http_head *h);
/* The value of the first header of that name (any case), or NULL. */
const char *http_head_get(const struct http_head *h, const char *name);
/* Whether the comma-separated header name has token tok (any case). */
bool http_head_has_token(const struct http_head *h, const char *name, const char *tok);
/* Connection-level headers a proxy does not forward (RFC 9110 7.6.1), and
 * the framing ones it sets itself. */
bool http_hop_by_hop(const char *name);

enum http_framing {
	HTTP_BODY_NONE = 0,   /* no body */
	HTTP_BODY_LENGTH,     /* Content-Length bytes */
	HTTP_BODY_CHUNKED,    /* the chunked coding */
	HTTP_BODY_UNTIL_CLOSE /* until the connection closes */
};
/* A response's body framing: none for a HEAD request, 1xx, 204, 304;
 * -EBADMSG for a bad or conflicting Content-Length, or a transfer coding
 * other than chunked last. */
int http_response_framing(const struct http_head *h, bool head_request, enum http_framing *f,
                          uint64_t *len);
/* Whether the connection stays open after this response (HTTP/1.1 unless
 * "Connection: close"; HTTP/1.0 only with "keep-alive"). */
bool http_keep_alive(const struct http_head *h);

/* The chunked coding, decoded as it comes. */
struct http_chunked {
	int state;
	uint64_t left; /* bytes of the current chunk still to come */
	unsigned digits, line;
};
/* Decode in[0..len) into out (which may be in: it never runs ahead): returns
 * the bytes of in consumed, *out_len the data written; *done once the last
 * chunk and its trailers are in (nothing after them is consumed). -EBADMSG on
 * a malformed coding. */
ssize_t http_chunked_decode(struct http_chunked *c, const char *in, size_t len, char *out,
                            size_t *out_len, bool *done);

/* A header name as Go canonicalises it ("x-call-id" -> "X-Call-Id"), into
 * out (size at least strlen(name) + 1). */
void http_canonical_name(const char *name, char *out);
/* Whether s is a token (RFC 9110 5.6.2: a header name, a method). */
bool http_token(const char *s);

/* A duration as OpenFaaS's watchdogs read their timeouts: a whole number of
 * seconds ("75"), or Go's form ("70s", "1m30s", "500ms", "1.5h"); at most
 * 1e12 ms. -EINVAL otherwise. */
int http_parse_duration(const char *s, uint64_t *ms);

#endif
