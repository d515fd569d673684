/* SPDX-License-Identifier: MIT */
/* prewarm/httpmsg.c without a network: heads of requests and responses,
 * what is refused (smuggling shapes, folded and bare-CR lines), framing,
 * the chunked coding fed byte by byte and in one piece, Go's header names
 * and the durations OpenFaaS users write. TAP output. */
#include "httpmsg.h"
#include "tap.h"

static void heads(void)
{
	struct http_head h;
	const char *req = "POST /fn/x?a=1&b=2 HTTP/1.1\r\nHost: gw\r\nX-Call-Id: abc\r\n"
	                  "Content-Type:  text/plain \r\nX-Multi: 1\r\nx-multi: 2\r\n\r\nBODY";
	ssize_t n = http_head_parse(req, strlen(req), false, &h);
	ok(n == (ssize_t)(strlen(req) - 4) && FC_STREQ(h.method, "POST") &&
	       FC_STREQ(h.target, "/fn/x?a=1&b=2") && h.minor == 1 && h.n == 5 &&
	       FC_STREQ(http_head_get(&h, "content-type"), "text/plain") &&
	       FC_STREQ(http_head_get(&h, "X-MULTI"), "1"),
	   "a request head: method, target, headers (values trimmed, names in any case)");
	http_head_clear(&h);
	ok(http_head_parse(req, 20, false, &h) == 0, "an incomplete head: 0");
	const char *resp = "HTTP/1.1 302 Found\nLocation: http://example.com/\nConnection: "
	                   "keep-alive, close\n\n";
	n = http_head_parse(resp, strlen(resp), true, &h);
	ok(n == (ssize_t)strlen(resp) && h.status == 302 && FC_STREQ(h.reason, "Found") &&
	       FC_STREQ(http_head_get(&h, "location"), "http://example.com/") &&
	       !http_keep_alive(&h),
	   "a response head with bare LFs; Connection: close in a list");
	http_head_clear(&h);
	const char *r10 = "HTTP/1.0 200 OK\r\n\r\n";
	http_head_parse(r10, strlen(r10), true, &h);
	ok(!http_keep_alive(&h), "HTTP/1.0 closes unless keep-alive");
	http_head_clear(&h);
	const char *bad[] = {
	    "HTTP/1.1 200 OK\r\nX: a\r\n folded\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nNo colon\r\n\r\n",
	    "HTTP/1.1 20 OK\r\n\r\n",
	    "HTTP/2.0 200 OK\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nX: a\x01\r\n\r\n",
	};
	for (size_t i = 0; i < FC_ARRAY_SIZE(bad); i++)
		ok(http_head_parse(bad[i], strlen(bad[i]), true, &h) == -EBADMSG,
		   "malformed head %zu refused", i);
	ok(http_head_parse("GET / HTTP/1.1\r\nA:\0b\r\n\r\n", 25, false, &h) == -EBADMSG,
	   "a NUL in a head is refused");
	char *big = fc_malloc(HTTP_MAX_HEAD + 10);
	memset(big, 'a', HTTP_MAX_HEAD + 10);
	ok(http_head_parse(big, HTTP_MAX_HEAD + 10, true, &h) == -E2BIG,
	   "a head over 64 KiB: E2BIG");
	free(big);
	struct fc_buf many = {0};
	fc_buf_printf(&many, "GET / HTTP/1.1\r\n");
	for (int i = 0; i < HTTP_MAX_HEADERS + 1; i++)
		fc_buf_printf(&many, "H%d: x\r\n", i);
	fc_buf_printf(&many, "\r\n");
	ok(http_head_parse(many.data, many.len, false, &h) == -EBADMSG,
	   "more than %d headers: refused", HTTP_MAX_HEADERS);
	free(many.data);
}

static void framing(void)
{
	struct {
		const char *head;
		bool head_req;
		int r;
		enum http_framing f;
		uint64_t len;
	} t[] = {
	    {"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n", false, 0, HTTP_BODY_LENGTH, 12},
	    {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false, 0, HTTP_BODY_NONE, 0},
	    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", false, 0,
	     HTTP_BODY_CHUNKED, 0},
	    {"HTTP/1.1 200 OK\r\n\r\n", false, 0, HTTP_BODY_UNTIL_CLOSE, 0},
	    {"HTTP/1.1 204 No Content\r\n\r\n", false, 0, HTTP_BODY_NONE, 0},
	    {"HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n", false, 0, HTTP_BODY_NONE, 0},
	    {"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n", true, 0, HTTP_BODY_NONE, 0},
	    {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", false,
	     -EBADMSG, 0, 0},
	    {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", false, -EBADMSG,
	     0, 0},
	    {"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", false, -EBADMSG, 0, 0},
	    {"HTTP/1.1 200 OK\r\nContent-Length: 1 2\r\n\r\n", false, -EBADMSG, 0, 0},
	    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", false, -EBADMSG, 0, 0},
	};
	for (size_t i = 0; i < FC_ARRAY_SIZE(t); i++) {
		struct http_head h;
		enum http_framing f = 99;
		uint64_t len = 77;
		http_head_parse(t[i].head, strlen(t[i].head), true, &h);
		int r = http_response_framing(&h, t[i].head_req, &f, &len);
		ok(r == t[i].r && (r < 0 || (f == t[i].f && len == t[i].len)),
		   "framing %zu: %d %d %llu%s", i, r, (int)f, (unsigned long long)len,
		   t[i].head_req ? " (HEAD)" : "");
		http_head_clear(&h);
	}
}

static void chunked(void)
{
	const char *enc =
	    "5\r\nhello\r\n1;ext=1\r\n \r\nA\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\nNEXT";
	const char *want = "hello 0123456789";
	size_t enc_len = strlen(enc) - 4;
	/* all at once, in place */
	char *buf = fc_strdup(enc);
	struct http_chunked c = {0};
	size_t olen;
	bool done;
	ssize_t n = http_chunked_decode(&c, buf, strlen(buf), buf, &olen, &done);
	ok(n == (ssize_t)enc_len && done && olen == strlen(want) && memcmp(buf, want, olen) == 0,
	   "chunked in one piece, decoded in place; what follows is left");
	free(buf);
	/* byte by byte */
	c = (struct http_chunked){0};
	char out[64];
	size_t total = 0;
	done = false;
	bool okay = true;
	for (size_t i = 0; i < enc_len && okay; i++) {
		n = http_chunked_decode(&c, enc + i, 1, out + total, &olen, &done);
		okay = n == 1 && (done == (i == enc_len - 1));
		total += olen;
	}
	ok(okay && total == strlen(want) && memcmp(out, want, total) == 0,
	   "chunked byte by byte: the same data, done at the last byte");
	const char *bad[] = {"x\r\n", "5\r\nhelloXX", "11111111111111111\r\n", "\r\n"};
	for (size_t i = 0; i < FC_ARRAY_SIZE(bad); i++) {
		c = (struct http_chunked){0};
		char tmp[64];
		ok(http_chunked_decode(&c, bad[i], strlen(bad[i]), tmp, &olen, &done) == -EBADMSG,
		   "a bad chunked coding is refused (%zu)", i);
	}
}

static void names(void)
{
	char out[64];
	http_canonical_name("x-call-id", out);
	ok(FC_STREQ(out, "X-Call-Id"), "x-call-id -> %s", out);
	http_canonical_name("CONTENT-TYPE", out);
	ok(FC_STREQ(out, "Content-Type"), "CONTENT-TYPE -> %s", out);
	ok(http_hop_by_hop("connection") && http_hop_by_hop("Transfer-Encoding") &&
	       !http_hop_by_hop("X-Call-Id"),
	   "hop-by-hop headers");
	ok(http_token("X-Foo_1") && !http_token("a b") && !http_token("a:b") && !http_token(""),
	   "tokens");
}

static void durations(void)
{
	struct {
		const char *s;
		int r;
		uint64_t ms;
	} t[] = {{"75", 0, 75000},    {"70s", 0, 70000},      {"1m30s", 0, 90000},
	         {"500ms", 0, 500},   {"1.5h", 0, 5400000},   {"2m", 0, 120000},
	         {"", -EINVAL, 0},    {"10x", -EINVAL, 0},    {"s", -EINVAL, 0},
	         {"-5s", -EINVAL, 0}, {"1e400s", -EINVAL, 0}, {"99999999999999", -EINVAL, 0}};
	for (size_t i = 0; i < FC_ARRAY_SIZE(t); i++) {
		uint64_t ms = 0;
		int r = http_parse_duration(t[i].s, &ms);
		ok(r == t[i].r && (r < 0 || ms == t[i].ms), "duration `%s`: %d %llu", t[i].s, r,
		   (unsigned long long)ms);
	}
}

int main(void)
{
	heads();
	framing();
	chunked();
	names();
	durations();
	return tap_done();
}
