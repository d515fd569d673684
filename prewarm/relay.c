/* SPDX-License-Identifier: MIT */
/* relay.c: an HTTP/1.1 exchange with a function's instance (relay.h). The
 * request goes out through a buffer of at most RELAY_OUT_HIGH unsent bytes
 * (the owner is told to wait above it: back-pressure from the instance to
 * the client), the response comes in through one of RELAY_IN_CAP bytes that
 * is read again only as the owner takes the body (back-pressure from the
 * client to the instance). The socket is watched for what is wanted next. */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "relay.h"

#define RELAY_OUT_HIGH (256u << 10)
#define RELAY_IN_CAP   (64u << 10)

struct relay {
	struct loop *l;
	int fd;
	struct loop_watch *w;
	short events;
	relay_wake_fn *wake;
	void *owner;
	/* the request */
	struct fc_buf out;
	size_t out_off;
	int64_t body_left; /* -1: chunked */
	bool body_end;     /* relay_write_end: the body is complete */
	int write_err;     /* the instance no longer reads: -errno */
	bool wants_room;   /* the owner was told to wait for room */
	/* the response */
	char *in;
	size_t in_off, in_len;
	struct http_head head;
	bool have_head, head_request;
	enum http_framing framing;
	uint64_t content_length, left;
	struct http_chunked ch;
	bool resp_done;  /* its body is complete */
	bool eof;        /* the instance closed the connection */
	int err;         /* a failure (-errno) */
	bool wants_data; /* the owner was told to wait for the response */
};

static void update(struct relay *r)
{
	short ev = 0;
	if (r->fd < 0 || !r->w)
		return;
	if (r->out.len > r->out_off && !r->write_err)
		ev |= POLLOUT;
	/* room once what was taken is moved out of the way (on_io does it) */
	if (!r->eof && !r->err && !r->resp_done && r->in_len - r->in_off < RELAY_IN_CAP)
		ev |= POLLIN;
	if (ev != r->events) {
		r->events = ev;
		loop_watch_events(r->w, ev);
	}
}

/* Send what is buffered; 0, or -errno once the instance no longer reads. */
static void flush(struct relay *r)
{
	while (r->out_off < r->out.len && !r->write_err) {
		ssize_t n = send(r->fd, r->out.data + r->out_off, r->out.len - r->out_off,
		                 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0) {
			r->write_err = -errno;
			break;
		}
		r->out_off += (size_t)n;
	}
	if (r->out_off == r->out.len || r->write_err) {
		r->out.len = 0;
		r->out_off = 0;
	}
}

/* Parse the response's head when it is in; skip 1xx interim responses. */
static void parse_head(struct relay *r)
{
	while (!r->have_head && !r->err) {
		struct http_head h;
		ssize_t n = http_head_parse(r->in + r->in_off, r->in_len - r->in_off, true, &h);
		if (n == 0) {
			if (r->in_len - r->in_off >= RELAY_IN_CAP)
				r->err = -EPROTO; /* a head larger than the buffer */
			return;
		}
		if (n < 0) {
			r->err = -EPROTO;
			return;
		}
		r->in_off += (size_t)n;
		if (h.status >= 100 && h.status < 200 && h.status != 101) {
			http_head_clear(&h);
			continue; /* 100 Continue, 103 Early Hints */
		}
		if (http_response_framing(&h, r->head_request, &r->framing, &r->content_length) <
		    0) {
			http_head_clear(&h);
			r->err = -EPROTO;
			return;
		}
		r->head = h;
		r->have_head = true;
		r->left = r->content_length;
		if (r->framing == HTTP_BODY_NONE)
			r->resp_done = true;
	}
}

static void on_io(void *data, short revents)
{
	struct relay *r = data;
	bool wake = false;
	if (revents & POLLOUT) {
		flush(r);
		if (r->wants_room && (r->out.len - r->out_off < RELAY_OUT_HIGH || r->write_err)) {
			r->wants_room = false;
			wake = true;
		}
	}
	if (revents & (POLLIN | POLLHUP | POLLERR)) {
		if (r->in_off && r->in_off == r->in_len)
			r->in_off = r->in_len = 0;
		if (r->in_off && r->in_len == RELAY_IN_CAP) {
			memmove(r->in, r->in + r->in_off, r->in_len - r->in_off);
			r->in_len -= r->in_off;
			r->in_off = 0;
		}
		bool had_head = r->have_head;
		ssize_t n = r->in_len < RELAY_IN_CAP ? recv(r->fd, r->in + r->in_len,
		                                            RELAY_IN_CAP - r->in_len, MSG_DONTWAIT)
		                                     : -1;
		if (n > 0) {
			r->in_len += (size_t)n;
		} else if (n == 0) {
			r->eof = true;
		} else if (r->in_len < RELAY_IN_CAP && errno != EAGAIN && errno != EINTR) {
			if (!r->resp_done)
				r->err = -errno;
			r->eof = true;
		}
		parse_head(r);
		if (!r->have_head && r->eof && !r->err)
			r->err = -ECONNRESET; /* closed before a response */
		if ((r->have_head && !had_head) || r->err || r->eof ||
		    (r->wants_data && r->in_len > r->in_off)) {
			r->wants_data = false;
			wake = true;
		}
		if (r->err || r->eof)
			r->wants_room = false;
	}
	if ((r->eof || r->err) && r->w) {
		/* nothing more comes; POLLHUP would be reported on every poll */
		loop_unwatch(r->w);
		r->w = NULL;
	}
	update(r);
	if (wake)
		r->wake(r->owner);
}

struct relay *relay_new(struct loop *l, int sock, struct fc_buf *head, int64_t body_len,
                        bool head_request, relay_wake_fn *wake, void *owner)
{
	struct relay *r = fc_calloc(1, sizeof(*r));
	r->l = l;
	r->fd = sock;
	r->wake = wake;
	r->owner = owner;
	r->out = *head;
	memset(head, 0, sizeof(*head));
	r->body_left = body_len;
	r->head_request = head_request;
	r->in = fc_malloc(RELAY_IN_CAP);
	int one = 1;
	setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	r->w = loop_watch(l, sock, 0, on_io, r);
	if (body_len == 0)
		r->body_end = true;
	if (body_len <= 0 && body_len != -1)
		r->body_left = 0;
	if (r->body_end)
		flush(r);
	update(r);
	return r;
}

void relay_free(struct relay *r)
{
	if (!r)
		return;
	loop_unwatch(r->w);
	if (r->fd >= 0)
		close(r->fd);
	free(r->out.data);
	free(r->in);
	http_head_clear(&r->head);
	free(r);
}

ssize_t relay_write(struct relay *r, const void *data, size_t len)
{
	if (r->write_err)
		return r->write_err;
	if (r->err)
		return r->err;
	if (r->body_end || len == 0)
		return 0;
	/* Take bytes until they are all taken or the buffer holds RELAY_OUT_HIGH
	 * unsent ones: only then is the owner told to wait, so the socket is
	 * watched for room (POLLOUT) whenever the owner waits. A flush that
	 * empties the buffer is no reason to stop: nothing would wake the owner. */
	size_t done = 0;
	while (done < len && !r->write_err) {
		size_t pending = r->out.len - r->out_off;
		if (pending >= RELAY_OUT_HIGH)
			break;
		size_t n =
		    len - done < RELAY_OUT_HIGH - pending ? len - done : RELAY_OUT_HIGH - pending;
		const char *p = (const char *)data + done;
		if (r->body_left >= 0) {
			if ((uint64_t)r->body_left < n)
				n = (size_t)
				        r->body_left; /* more than announced: the rest is dropped */
			if (n == 0) {
				done = len;
				break;
			}
			r->body_left -= (int64_t)n;
			fc_buf_append(&r->out, p, n);
		} else {
			fc_buf_printf(&r->out, "%zx\r\n", n);
			fc_buf_append(&r->out, p, n);
			fc_buf_append(&r->out, "\r\n", 2);
		}
		done += n;
		flush(r);
	}
	if (r->write_err)
		return r->write_err;
	if (done < len)
		r->wants_room = true; /* the buffer is full: woken when it drains */
	update(r);
	return (ssize_t)done;
}

void relay_write_end(struct relay *r)
{
	if (r->body_end)
		return;
	r->body_end = true;
	if (r->body_left < 0 && !r->write_err)
		fc_buf_append(&r->out, "0\r\n\r\n", 5);
	flush(r);
	update(r);
}

const struct http_head *relay_head(const struct relay *r, enum http_framing *f,
                                   uint64_t *content_length)
{
	if (!r->have_head)
		return NULL;
	if (f)
		*f = r->framing;
	if (content_length)
		*content_length = r->content_length;
	return &r->head;
}

int relay_error(const struct relay *r)
{
	return r->have_head ? 0 : r->err;
}

static ssize_t need_more(struct relay *r)
{
	if (r->err)
		return r->err;
	if (r->eof)
		return -ECONNRESET; /* closed before the body ended */
	r->wants_data = true;
	update(r);
	return 0;
}

ssize_t relay_read(struct relay *r, void *buf, size_t max)
{
	if (!r->have_head)
		return r->err ? r->err : need_more(r);
	for (;;) {
		if (r->resp_done)
			return RELAY_EOF;
		size_t avail = r->in_len - r->in_off;
		switch (r->framing) {
		case HTTP_BODY_LENGTH: {
			if (!avail)
				return need_more(r);
			size_t n = avail < max ? avail : max;
			if (n > r->left)
				n = (size_t)r->left;
			memcpy(buf, r->in + r->in_off, n);
			r->in_off += n;
			r->left -= n;
			if (!r->left)
				r->resp_done = true;
			update(r);
			return (ssize_t)n;
		}
		case HTTP_BODY_CHUNKED: {
			if (!avail)
				return need_more(r);
			size_t olen = 0;
			bool done = false;
			ssize_t c =
			    http_chunked_decode(&r->ch, r->in + r->in_off,
			                        avail < max ? avail : max, buf, &olen, &done);
			if (c < 0) {
				r->err = -EPROTO;
				return r->err;
			}
			r->in_off += (size_t)c;
			if (done)
				r->resp_done = true;
			update(r);
			if (olen)
				return (ssize_t)olen;
			continue;
		}
		case HTTP_BODY_UNTIL_CLOSE: {
			if (!avail) {
				if (r->eof && !r->err) {
					r->resp_done = true;
					return RELAY_EOF;
				}
				return need_more(r);
			}
			size_t n = avail < max ? avail : max;
			memcpy(buf, r->in + r->in_off, n);
			r->in_off += n;
			update(r);
			return (ssize_t)n;
		}
		case HTTP_BODY_NONE:
		default:
			r->resp_done = true;
			return RELAY_EOF;
		}
	}
}

int relay_take_socket(struct relay *r)
{
	if (r->fd < 0 || !r->have_head || !r->resp_done || !r->body_end || r->write_err || r->err ||
	    r->eof || r->out.len > r->out_off || r->in_off != r->in_len ||
	    r->framing == HTTP_BODY_UNTIL_CLOSE || r->body_left > 0 || !http_keep_alive(&r->head))
		return -1;
	loop_unwatch(r->w);
	r->w = NULL;
	int fd = r->fd;
	r->fd = -1;
	return fd;
}
