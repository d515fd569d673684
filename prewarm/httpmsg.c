/* SPDX-License-Identifier: MIT */
/* httpmsg.c: HTTP/1.1 heads, framing, the chunked coding, header names and
 * durations (httpmsg.h). Strict where a lenient reading could let one
 * message be read as two (RFC 9112 11.2): a bad Content-Length, a
 * Content-Length beside a transfer coding, a folded header, a NUL. */
#include <ctype.h>
#include <math.h>
#include <strings.h>

#include "httpmsg.h"

void http_head_clear(struct http_head *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->n; i++) {
		free(h->h[i].name);
		free(h->h[i].value);
	}
	free(h->h);
	free(h->method);
	free(h->target);
	free(h->reason);
	memset(h, 0, sizeof(*h));
}

bool http_token(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (!(isalnum((unsigned char)*s) || strchr("!#$%&'*+-.^_`|~", *s)))
			return false;
	return true;
}

/* "HTTP/1.x" at p: the minor version, or -1. */
static int version(const char *p, size_t n)
{
	if (n != 8 || memcmp(p, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)p[7]))
		return -1;
	return p[7] - '0';
}

static int start_line(const char *l, size_t n, bool response, struct http_head *out)
{
	const char *sp1 = memchr(l, ' ', n);
	if (!sp1)
		return -EBADMSG;
	if (response) {
		/* HTTP/1.1 200 OK */
		out->minor = version(l, (size_t)(sp1 - l));
		const char *st = sp1 + 1, *end = l + n;
		if (out->minor < 0 || end - st < 3 || !isdigit((unsigned char)st[0]) ||
		    !isdigit((unsigned char)st[1]) || !isdigit((unsigned char)st[2]) ||
		    (end - st > 3 && st[3] != ' '))
			return -EBADMSG;
		out->status = (st[0] - '0') * 100 + (st[1] - '0') * 10 + (st[2] - '0');
		if (out->status < 100)
			return -EBADMSG;
		out->reason =
		    end - st > 4 ? fc_strndup(st + 4, (size_t)(end - st - 4)) : fc_strdup("");
		return 0;
	}
	/* GET /path?q HTTP/1.1 */
	const char *sp2 = memchr(sp1 + 1, ' ', (size_t)(l + n - sp1 - 1));
	if (!sp2 || sp2 == sp1 + 1)
		return -EBADMSG;
	out->method = fc_strndup(l, (size_t)(sp1 - l));
	out->target = fc_strndup(sp1 + 1, (size_t)(sp2 - sp1 - 1));
	out->minor = version(sp2 + 1, (size_t)(l + n - sp2 - 1));
	if (out->minor < 0 || !http_token(out->method) || strpbrk(out->target, " \t"))
		return -EBADMSG;
	return 0;
}

static int header_line(const char *l, size_t n, struct http_head *out)
{
	const char *colon = memchr(l, ':', n);
	if (!colon || colon == l || l[0] == ' ' || l[0] == '\t')
		return -EBADMSG; /* no name, or a folded line (obsolete, refused) */
	if (out->n == HTTP_MAX_HEADERS)
		return -EBADMSG;
	char *name = fc_strndup(l, (size_t)(colon - l));
	if (!http_token(name)) {
		free(name);
		return -EBADMSG;
	}
	const char *v = colon + 1, *e = l + n;
	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	for (const char *p = v; p < e; p++)
		if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f) {
			free(name);
			return -EBADMSG;
		}
	if (out->n % 16 == 0)
		out->h = fc_realloc(out->h, (out->n + 16) * sizeof(*out->h));
	out->h[out->n++] = (struct http_hdr){.name = name, .value = fc_strndup(v, (size_t)(e - v))};
	return 0;
}

ssize_t http_head_parse(const char *buf, size_t len, bool response, struct http_head *out)
{
	memset(out, 0, sizeof(*out));
	size_t lim = len < HTTP_MAX_HEAD ? len : HTTP_MAX_HEAD;
	/* the head ends at an empty line (CRLF CRLF, or bare LFs) */
	size_t end = 0;
	for (size_t i = 0; i < lim; i++)
		if (buf[i] == '\n' && ((i >= 1 && buf[i - 1] == '\n') ||
		                       (i >= 2 && buf[i - 1] == '\r' && buf[i - 2] == '\n'))) {
			end = i + 1;
			break;
		}
	if (!end)
		return len >= HTTP_MAX_HEAD ? -E2BIG : 0;
	if (memchr(buf, '\0', end))
		return -EBADMSG;
	int r = 0;
	bool first = true;
	for (size_t p = 0; p < end && r == 0;) {
		const char *nl = memchr(buf + p, '\n', end - p);
		size_t n = (size_t)(nl - (buf + p));
		if (n && buf[p + n - 1] == '\r')
			n--;
		if (n == 0)
			break; /* the empty line */
		for (size_t i = 0; i < n; i++)
			if (buf[p + i] == '\r')
				r = -EBADMSG; /* a bare CR */
		if (r == 0)
			r = first ? start_line(buf + p, n, response, out)
			          : header_line(buf + p, n, out);
		first = false;
		p = (size_t)(nl - buf) + 1;
	}
	if (first && r == 0)
		r = -EBADMSG; /* only an empty line */
	if (r < 0) {
		http_head_clear(out);
		return r;
	}
	return (ssize_t)end;
}

const char *http_head_get(const struct http_head *h, const char *name)
{
	for (size_t i = 0; i < h->n; i++)
		if (strcasecmp(h->h[i].name, name) == 0)
			return h->h[i].value;
	return NULL;
}

/* Whether the comma-separated list v has token tok. */
static bool list_has(const char *v, const char *tok)
{
	size_t tl = strlen(tok);
	for (const char *p = v; p && *p;) {
		p += strspn(p, " \t,");
		size_t n = strcspn(p, ",");
		size_t m = n;
		while (m && (p[m - 1] == ' ' || p[m - 1] == '\t'))
			m--;
		if (m == tl && strncasecmp(p, tok, tl) == 0)
			return true;
		p += n;
	}
	return false;
}

bool http_head_has_token(const struct http_head *h, const char *name, const char *tok)
{
	for (size_t i = 0; i < h->n; i++)
		if (strcasecmp(h->h[i].name, name) == 0 && list_has(h->h[i].value, tok))
			return true;
	return false;
}

bool http_hop_by_hop(const char *name)
{
	static const char *const hop[] = {
	    "Connection", "Keep-Alive",     "Proxy-Connection",   "Proxy-Authenticate",
	    "TE",         "Trailer",        "Transfer-Encoding",  "Upgrade",
	    "Expect",     "Content-Length", "Proxy-Authorization"};
	for (size_t i = 0; i < FC_ARRAY_SIZE(hop); i++)
		if (strcasecmp(name, hop[i]) == 0)
			return true;
	return false;
}

int http_response_framing(const struct http_head *h, bool head_request, enum http_framing *f,
                          uint64_t *len)
{
	*len = 0;
	if (head_request || h->status < 200 || h->status == 204 || h->status == 304) {
		*f = HTTP_BODY_NONE;
		return 0;
	}
	const char *te = NULL, *cl = NULL;
	for (size_t i = 0; i < h->n; i++) {
		if (strcasecmp(h->h[i].name, "Transfer-Encoding") == 0) {
			if (te)
				return -EBADMSG;
			te = h->h[i].value;
		} else if (strcasecmp(h->h[i].name, "Content-Length") == 0) {
			if (cl && !FC_STREQ(cl, h->h[i].value))
				return -EBADMSG;
			cl = h->h[i].value;
		}
	}
	if (te) {
		/* chunked must be the last coding; a Content-Length beside it
		 * is a smuggling attempt */
		const char *last = strrchr(te, ',');
		last = last ? last + 1 : te;
		last += strspn(last, " \t");
		if (cl || strcasecmp(last, "chunked") != 0)
			return -EBADMSG;
		*f = HTTP_BODY_CHUNKED;
		return 0;
	}
	if (cl) {
		if (!*cl || strspn(cl, "0123456789") != strlen(cl) || strlen(cl) > 18)
			return -EBADMSG;
		*len = strtoull(cl, NULL, 10);
		*f = *len ? HTTP_BODY_LENGTH : HTTP_BODY_NONE;
		return 0;
	}
	*f = HTTP_BODY_UNTIL_CLOSE;
	return 0;
}

bool http_keep_alive(const struct http_head *h)
{
	if (http_head_has_token(h, "Connection", "close"))
		return false;
	return h->minor >= 1 || http_head_has_token(h, "Connection", "keep-alive");
}

/* ---- the chunked coding --------------------------------------------------------- */

enum {
	CH_SIZE = 0, /* hex digits of a chunk's size */
	CH_EXT,      /* a chunk extension, up to its LF */
	CH_DATA,     /* the chunk's bytes */
	CH_DATA_CR,  /* the CRLF after them */
	CH_DATA_LF,
	CH_TRAILER,      /* a trailer line (or the final empty line) */
	CH_TRAILER_LINE, /* inside a trailer line */
	CH_DONE,
};

ssize_t http_chunked_decode(struct http_chunked *c, const char *in, size_t len, char *out,
                            size_t *out_len, bool *done)
{
	size_t i = 0, o = 0;
	*done = c->state == CH_DONE;
	while (i < len && c->state != CH_DONE) {
		char ch = in[i];
		switch (c->state) {
		case CH_SIZE:
			if (isxdigit((unsigned char)ch)) {
				if (++c->digits > 15)
					return -EBADMSG;
				c->left = c->left * 16 +
				          (uint64_t)(isdigit((unsigned char)ch)
				                         ? ch - '0'
				                         : tolower((unsigned char)ch) - 'a' + 10);
				i++;
				break;
			}
			if (!c->digits ||
			    (ch != '\r' && ch != '\n' && ch != ';' && ch != ' ' && ch != '\t'))
				return -EBADMSG;
			c->state = CH_EXT;
			break;
		case CH_EXT:
			i++;
			if (ch == '\n') {
				c->digits = 0;
				c->line = 0;
				c->state = c->left ? CH_DATA : CH_TRAILER;
			} else if (++c->line > 4096) {
				return -EBADMSG;
			}
			break;
		case CH_DATA: {
			size_t n = len - i < c->left ? len - i : (size_t)c->left;
			memmove(out + o, in + i, n);
			o += n;
			i += n;
			c->left -= n;
			if (!c->left)
				c->state = CH_DATA_CR;
			break;
		}
		case CH_DATA_CR:
			i++;
			if (ch == '\r')
				c->state = CH_DATA_LF;
			else if (ch == '\n')
				c->state = CH_SIZE;
			else
				return -EBADMSG;
			break;
		case CH_DATA_LF:
			i++;
			if (ch != '\n')
				return -EBADMSG;
			c->state = CH_SIZE;
			break;
		case CH_TRAILER:
			i++;
			if (ch == '\n') {
				c->state = CH_DONE;
				*done = true;
			} else if (ch != '\r') {
				c->line = 1;
				c->state = CH_TRAILER_LINE;
			}
			break;
		case CH_TRAILER_LINE:
			i++;
			if (ch == '\n')
				c->state = CH_TRAILER;
			else if (++c->line > 8192)
				return -EBADMSG;
			break;
		default:
			return -EBADMSG;
		}
	}
	*out_len = o;
	return (ssize_t)i;
}

/* ---- names and durations ---------------------------------------------------------- */

void http_canonical_name(const char *name, char *out)
{
	bool up = true;
	for (; *name; name++) {
		*out++ =
		    up ? (char)toupper((unsigned char)*name) : (char)tolower((unsigned char)*name);
		up = *name == '-';
	}
	*out = 0;
}

int http_parse_duration(const char *s, uint64_t *ms)
{
	if (!s || !*s)
		return -EINVAL;
	if (strspn(s, "0123456789") == strlen(s)) {
		if (strlen(s) > 10)
			return -EINVAL;
		*ms = strtoull(s, NULL, 10) * 1000;
		return 0;
	}
	/* Go: a sequence of decimal numbers, each with a unit */
	static const struct {
		const char *unit;
		double ms;
	} units[] = {{"ns", 1e-6}, {"us", 1e-3}, {"\xc2\xb5s", 1e-3}, {"ms", 1},
	             {"s", 1000},  {"m", 60000}, {"h", 3600000}};
	double total = 0;
	const char *p = s;
	while (*p) {
		char *end;
		if (!isdigit((unsigned char)*p) && *p != '.')
			return -EINVAL;
		errno = 0;
		double v = strtod(p, &end);
		if (errno || end == p || !isfinite(v))
			return -EINVAL;
		p = end;
		size_t best = 0;
		double mul = 0;
		for (size_t i = 0; i < FC_ARRAY_SIZE(units); i++) {
			size_t ul = strlen(units[i].unit);
			if (strncmp(p, units[i].unit, ul) == 0 && ul > best) {
				best = ul;
				mul = units[i].ms;
			}
		}
		if (!best)
			return -EINVAL;
		p += best;
		total += v * mul;
	}
	if (!(total >= 0) || total > 1e12)
		return -EINVAL;
	*ms = (uint64_t)llround(total);
	return 0;
}
