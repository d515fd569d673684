/* SPDX-License-Identifier: MIT */
/* http.c: connecting to HTTP functions in their network namespaces (http.h).
 * The daemon, single-threaded, steps into the sandbox's namespace just long
 * enough to create a TCP socket there (setns, socket, setns back); it then
 * connects without blocking, and retries every 0.5 ms while the function is
 * not listening yet, for at most 10 s. An instance's first connection asks
 * GET /_/health (the readiness of OpenFaaS's watchdogs: 503 until their
 * lock file is written) and tries again 1 ms after a 503; the connection of
 * an answer that leaves it open serves the request. */
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>

#include "http.h"
#include "httpmsg.h"

#define PROBE_RETRY_NS 1000000ULL
#define PROBE_MAX      8192 /* bytes of a /_/health answer read */
static const char probe_req[] = "GET /_/health HTTP/1.1\r\nHost: localhost\r\nUser-Agent: "
                                "fcstart\r\nAccept: */*\r\n\r\n";

#define CONNECT_TIMEOUT_NS (10ULL * 1000000000ULL)
#define RETRY_NS           500000ULL

struct http_connect {
	struct http_connector *c;
	int netns_fd, sock;
	bool probe;   /* ask /_/health once connected */
	bool probing; /* the question went; the answer is read */
	struct fc_buf answer;
	char *fn, *id;
	struct loop_watch *w;
	uint64_t retry_at, deadline;
	bool ready; /* connected (a kept connection): reported from the loop */
	int errnum; /* failed: reported from the loop */
	char *msg;
	bool dead;
	http_done_fn *done;
	void *data;
	struct http_connect *next;
};

struct http_connector {
	struct loop *l;
	int self_netns;
	struct http_connect *list;
};

static int netns_socket(struct http_connect *hc, int *out)
{
	if (hc->netns_fd < 0)
		return hc->netns_fd; /* it could not be opened: -errno */
	if (hc->c->self_netns < 0)
		return -ENOTSUP;
	if (setns(hc->netns_fd, CLONE_NEWNET) < 0)
		return -errno;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int e = errno;
	if (setns(hc->c->self_netns, CLONE_NEWNET) < 0)
		abort(); /* the daemon cannot go on in a sandbox's namespace */
	if (fd < 0)
		return -e;
	*out = fd;
	return 0;
}

static void fail(struct http_connect *hc, int errnum, char *msg)
{
	hc->errnum = errnum;
	hc->msg = msg;
	hc->retry_at = 0;
}

/* The connect is over: tell the caller (who may cancel others from there). */
static void over(struct http_connect *hc, int sock)
{
	hc->dead = true;
	loop_unwatch(hc->w);
	hc->w = NULL;
	hc->sock = -1;
	hc->done(hc->data, sock, sock >= 0 ? 0 : hc->errnum, hc->msg);
}

static void probe_read(void *data, short revents);

/* Connected: ask /_/health first, or it is over. */
static void connected(struct http_connect *hc)
{
	if (!hc->probe) {
		over(hc, hc->sock);
		return;
	}
	/* a few dozen bytes into an empty socket buffer: sent at once */
	if (send(hc->sock, probe_req, sizeof(probe_req) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) !=
	    (ssize_t)sizeof(probe_req) - 1) {
		close(hc->sock); /* it left: connect again */
		hc->sock = -1;
		hc->retry_at = fc_now_ns() + PROBE_RETRY_NS;
		return;
	}
	hc->probing = true;
	hc->answer.len = 0;
	hc->w = loop_watch(hc->c->l, hc->sock, POLLIN, probe_read, hc);
}

/* The answer to /_/health: 503 means not ready yet (try again); anything
 * else, or none, means the instance serves (a server without the path).
 * Its connection serves the request when the answer left it open. */
static void probe_read(void *data, short revents)
{
	struct http_connect *hc = data;
	(void)revents;
	if (hc->dead)
		return;
	char buf[4096];
	ssize_t n = recv(hc->sock, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0 && hc->answer.len < PROBE_MAX) {
		fc_buf_append(&hc->answer, buf, (size_t)n);
		if (hc->answer.len < PROBE_MAX) {
			struct http_head h;
			ssize_t hl = http_head_parse(hc->answer.data, hc->answer.len, true, &h);
			if (hl == 0)
				return; /* more to come */
			enum http_framing f = HTTP_BODY_UNTIL_CLOSE;
			uint64_t len = 0;
			bool ready = hl < 0 || h.status != 503;
			bool reuse = hl > 0 && http_response_framing(&h, false, &f, &len) == 0 &&
			             http_keep_alive(&h) &&
			             (f == HTTP_BODY_NONE || (f == HTTP_BODY_LENGTH &&
			                                      hc->answer.len == (size_t)hl + len));
			if (hl > 0 && f == HTTP_BODY_LENGTH && hc->answer.len < (size_t)hl + len &&
			    (size_t)hl + len <= PROBE_MAX) {
				http_head_clear(&h);
				return; /* the rest of its body */
			}
			http_head_clear(&h);
			loop_unwatch(hc->w);
			hc->w = NULL;
			hc->probing = false;
			if (ready && reuse) {
				over(hc, hc->sock);
				return;
			}
			close(hc->sock);
			hc->sock = -1;
			if (ready)
				hc->probe = false; /* connect again for the request */
			hc->retry_at = fc_now_ns() + (ready ? 0 : PROBE_RETRY_NS) + 1;
			return;
		}
	}
	/* closed without an answer, or an answer too large to be one: the
	 * port accepts, so it serves; the request gets a new connection */
	loop_unwatch(hc->w);
	hc->w = NULL;
	hc->probing = false;
	close(hc->sock);
	hc->sock = -1;
	hc->probe = false;
	hc->retry_at = fc_now_ns() + 1;
}

static void on_writable(void *data, short revents)
{
	struct http_connect *hc = data;
	int err = 0;
	socklen_t l = sizeof(err);
	(void)revents;
	if (hc->dead)
		return;
	getsockopt(hc->sock, SOL_SOCKET, SO_ERROR, &err, &l);
	loop_unwatch(hc->w);
	hc->w = NULL;
	if (err == 0) {
		connected(hc);
		return;
	}
	close(hc->sock);
	hc->sock = -1;
	hc->retry_at = fc_now_ns() + RETRY_NS; /* not listening yet */
}

static void try_connect(struct http_connect *hc)
{
	hc->retry_at = 0;
	int fd = -1, r = netns_socket(hc, &fd);
	if (r < 0) {
		fail(hc, -r,
		     fc_asprintf("function `%s`: socket in sandbox `%s`: %s", hc->fn, hc->id,
		                 strerror(-r)));
		return;
	}
	struct sockaddr_in a = {.sin_family = AF_INET,
	                        .sin_port = htons(8080),
	                        .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 || errno == EINPROGRESS) {
		/* even when connected at once: reported from the loop */
		hc->sock = fd;
		hc->w = loop_watch(hc->c->l, fd, POLLOUT, on_writable, hc);
		return;
	}
	close(fd);
	hc->retry_at = fc_now_ns() + RETRY_NS;
}

struct http_connect *http_connect(struct http_connector *c, const struct http_connect_opts *o,
                                  http_done_fn *done, void *data)
{
	struct http_connect *hc = fc_calloc(1, sizeof(*hc));
	hc->c = c;
	hc->netns_fd = o->netns_fd;
	hc->sock = -1;
	hc->probe = o->probe;
	hc->fn = fc_strdup(o->fn);
	hc->id = fc_strdup(o->id);
	hc->deadline = fc_now_ns() + CONNECT_TIMEOUT_NS;
	hc->done = done;
	hc->data = data;
	hc->next = c->list;
	c->list = hc;
	if (o->sock >= 0) {
		/* a kept connection: reported from the loop, as a connect is */
		hc->sock = o->sock;
		hc->probe = false;
		hc->ready = true;
		return hc;
	}
	try_connect(hc);
	return hc;
}

void http_connect_cancel(struct http_connect *hc)
{
	if (!hc || hc->dead)
		return;
	hc->dead = true;
	loop_unwatch(hc->w);
	hc->w = NULL;
	if (hc->sock >= 0)
		close(hc->sock);
	hc->sock = -1;
}

static void hc_free(struct http_connect *hc)
{
	if (hc->sock >= 0)
		close(hc->sock);
	loop_unwatch(hc->w);
	free(hc->fn);
	free(hc->id);
	free(hc->msg);
	free(hc->answer.data);
	free(hc);
}

/* While a connect retries or waits, poll again within 1 ms; at once when
 * one is to be reported. */
static int before(void *data, uint64_t now)
{
	struct http_connector *c = data;
	int t = -1;
	for (struct http_connect *hc = c->list; hc; hc = hc->next)
		if (!hc->dead) {
			if (hc->errnum || hc->ready)
				return 0;
			t = 1;
		}
	return t;
}

/* Failures to report, timeouts, retries that are due; then free what is over. */
static void after(void *data, uint64_t now)
{
	struct http_connector *c = data;
	for (struct http_connect *hc = c->list; hc; hc = hc->next) {
		if (hc->dead)
			continue;
		if (!hc->errnum && !hc->ready && now > hc->deadline) {
			loop_unwatch(hc->w);
			hc->w = NULL;
			if (hc->sock >= 0)
				close(hc->sock);
			hc->sock = -1;
			fail(hc, ETIMEDOUT,
			     fc_asprintf("function `%s`: sandbox `%s` did not accept on "
			                 "127.0.0.1:8080 within %llu s",
			                 hc->fn, hc->id, CONNECT_TIMEOUT_NS / 1000000000ULL));
		}
		if (hc->ready)
			over(hc, hc->sock);
		else if (hc->errnum)
			over(hc, -1);
		else if (hc->retry_at && now >= hc->retry_at)
			try_connect(hc);
	}
	for (struct http_connect **p = &c->list; *p;) {
		struct http_connect *hc = *p;
		if (hc->dead) {
			*p = hc->next;
			hc_free(hc);
		} else {
			p = &hc->next;
		}
	}
}

struct http_connector *http_connector_new(struct loop *l, int self_netns)
{
	struct http_connector *c = fc_calloc(1, sizeof(*c));
	c->l = l;
	c->self_netns = self_netns;
	loop_hook(l, before, after, c);
	return c;
}

void http_connector_free(struct http_connector *c)
{
	if (!c)
		return;
	loop_unhook(c->l, c);
	while (c->list) {
		struct http_connect *hc = c->list;
		c->list = hc->next;
		hc_free(hc);
	}
	free(c);
}
