/* SPDX-License-Identifier: MIT */
/* http.c: connecting to HTTP functions in their network namespaces (http.h).
 * The daemon, single-threaded, steps into the sandbox's namespace just long
 * enough to create a TCP socket there (setns, socket, setns back); it then
 * connects without blocking, and retries every 0.5 ms while the function is
 * not listening yet, for at most 10 s. An instance's first connection asks
 * GET /_/health (the readiness of OpenFaaS's watchdogs: 503 until their
 * lock file is written) and tries again 1 ms after a 503; the connection of
 * an answer that leaves it open serves the request. Readiness probes of
 * instances started ahead connect the same way (and GET their readiness
 * path), tries further apart. */
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
	struct http_probe *probes;
};

/* A TCP socket in the namespace netns_fd (-errno: it could not be opened). */
static int socket_in(struct http_connector *c, int netns_fd, int *out)
{
	if (netns_fd < 0)
		return netns_fd; /* it could not be opened: -errno */
	if (c->self_netns < 0)
		return -ENOTSUP;
	if (setns(netns_fd, CLONE_NEWNET) < 0)
		return -errno;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int e = errno;
	if (setns(c->self_netns, CLONE_NEWNET) < 0)
		abort(); /* the daemon cannot go on in a sandbox's namespace */
	if (fd < 0)
		return -e;
	*out = fd;
	return 0;
}

static int netns_socket(struct http_connect *hc, int *out)
{
	return socket_in(hc->c, hc->netns_fd, out);
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

/* ---- readiness probes ---------------------------------------------------- */

#define PROBE_FIRST_NS 1000000ULL  /* 1 ms */
#define PROBE_MAX_NS   20000000ULL /* 20 ms */

struct http_probe {
	struct http_connector *c;
	int netns_fd, sock;
	char *path;
	struct loop_watch *w;
	uint64_t retry_at, delay;
	bool sent, dead;
	char buf[64]; /* the answer's status line */
	size_t len, total;
	char last[96];
	http_probe_fn *done;
	void *data;
	struct http_probe *next;
};

/* This try failed: close, say why, try again later. */
static void probe_again(struct http_probe *p, const char *why)
{
	loop_unwatch(p->w);
	p->w = NULL;
	if (p->sock >= 0)
		close(p->sock);
	p->sock = -1;
	snprintf(p->last, sizeof(p->last), "%s", why);
	p->retry_at = fc_now_ns() + p->delay;
	p->delay = p->delay * 2 > PROBE_MAX_NS ? PROBE_MAX_NS : p->delay * 2;
}

static void probe_ready(struct http_probe *p)
{
	loop_unwatch(p->w);
	p->w = NULL;
	if (p->sock >= 0)
		close(p->sock);
	p->sock = -1;
	p->dead = true;
	p->done(p->data);
}

/* Connected: without a path, ready; with one, send the GET. */
static void probe_connected(struct http_probe *p)
{
	int err = 0;
	socklen_t l = sizeof(err);
	getsockopt(p->sock, SOL_SOCKET, SO_ERROR, &err, &l);
	if (err) {
		probe_again(p, strerror(err));
		return;
	}
	if (!p->path) {
		probe_ready(p);
		return;
	}
	char req[1200];
	int n = snprintf(req, sizeof(req),
	                 "GET %s HTTP/1.0\r\nHost: localhost\r\nUser-Agent: fcstart-probe\r\n\r\n",
	                 p->path);
	if (send(p->sock, req, (size_t)n, MSG_NOSIGNAL) != n) {
		probe_again(p, "the request could not be sent");
		return;
	}
	p->sent = true;
	p->len = p->total = 0;
	loop_watch_events(p->w, POLLIN);
}

static void on_probe(void *data, short revents)
{
	struct http_probe *p = data;
	(void)revents;
	if (p->dead)
		return;
	if (!p->sent) {
		probe_connected(p);
		return;
	}
	/* the whole (small) answer is read before the socket is closed: closing
	 * it with the body unread would reset the connection under the
	 * function's feet */
	char sink[512];
	bool room = p->len < sizeof(p->buf) - 1;
	ssize_t k = recv(p->sock, room ? p->buf + p->len : sink,
	                 room ? sizeof(p->buf) - 1 - p->len : sizeof(sink), 0);
	if (k < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (k > 0) {
		if (room)
			p->len += (size_t)k;
		p->total += (size_t)k;
		if (p->total < 65536)
			return; /* until EOF */
	}
	p->buf[p->len] = '\0';
	int status = 0;
	if (sscanf(p->buf, "HTTP/%*d.%*d %d", &status) == 1 && status == 200) {
		probe_ready(p);
		return;
	}
	char why[64];
	if (status)
		snprintf(why, sizeof(why), "HTTP %d on %.40s", status, p->path);
	else
		snprintf(why, sizeof(why), "no HTTP answer on %.40s", p->path);
	probe_again(p, why);
}

static void probe_try(struct http_probe *p)
{
	p->retry_at = 0;
	p->sent = false;
	int fd = -1, r = socket_in(p->c, p->netns_fd, &fd);
	if (r < 0) {
		char why[64];
		snprintf(why, sizeof(why), "socket in its network namespace: %s", strerror(-r));
		probe_again(p, why);
		return;
	}
	p->sock = fd;
	struct sockaddr_in a = {.sin_family = AF_INET,
	                        .sin_port = htons(8080),
	                        .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 && errno != EINPROGRESS) {
		probe_again(p, strerror(errno));
		return;
	}
	p->w = loop_watch(p->c->l, fd, POLLOUT, on_probe, p);
}

struct http_probe *http_probe(struct http_connector *c, int netns_fd, const char *path,
                              http_probe_fn *done, void *data)
{
	struct http_probe *p = fc_calloc(1, sizeof(*p));
	p->c = c;
	p->netns_fd = netns_fd;
	p->sock = -1;
	p->path = path ? fc_strdup(path) : NULL;
	p->delay = PROBE_FIRST_NS;
	p->done = done;
	p->data = data;
	p->next = c->probes;
	c->probes = p;
	p->retry_at = fc_now_ns(); /* the first try from the loop */
	return p;
}

const char *http_probe_last(const struct http_probe *p)
{
	return p ? p->last : "";
}

void http_probe_cancel(struct http_probe *p)
{
	if (!p || p->dead)
		return;
	p->dead = true;
	loop_unwatch(p->w);
	p->w = NULL;
	if (p->sock >= 0)
		close(p->sock);
	p->sock = -1;
}

static void probe_free(struct http_probe *p)
{
	if (p->sock >= 0)
		close(p->sock);
	if (p->netns_fd >= 0)
		close(p->netns_fd);
	loop_unwatch(p->w);
	free(p->path);
	free(p);
}

/* ---- the loop's hooks ------------------------------------------------------ */

/* While a connect retries or waits, poll again within 1 ms; at once when
 * one is to be reported; a probe, when its next try is due. */
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
	for (struct http_probe *p = c->probes; p; p = p->next) {
		if (p->dead || !p->retry_at)
			continue;
		int ms = p->retry_at <= now ? 0 : (int)((p->retry_at - now + 999999) / 1000000);
		if (t < 0 || ms < t)
			t = ms;
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
	for (struct http_probe *p = c->probes; p; p = p->next)
		if (!p->dead && p->retry_at && now >= p->retry_at)
			probe_try(p);
	for (struct http_probe **pp = &c->probes; *pp;) {
		struct http_probe *p = *pp;
		if (p->dead) {
			*pp = p->next;
			probe_free(p);
		} else {
			pp = &p->next;
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
	while (c->probes) {
		struct http_probe *p = c->probes;
		c->probes = p->next;
		probe_free(p);
	}
	free(c);
}
