/* SPDX-License-Identifier: MIT */
/* http.c: connecting to HTTP functions in their network namespaces (http.h).
 * The daemon, single-threaded, steps into the sandbox's namespace just long
 * enough to create a TCP socket there (setns, socket, setns back); it then
 * connects without blocking, and retries every 0.5 ms while the function is
 * not listening yet, for at most 10 s. */
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>

#include "http.h"

#define CONNECT_TIMEOUT_NS (10ULL * 1000000000ULL)
#define RETRY_NS           500000ULL

struct http_connect {
	struct http_connector *c;
	int netns_fd, sock;
	char *fn, *id;
	struct loop_watch *w;
	uint64_t retry_at, deadline;
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
		over(hc, hc->sock);
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

struct http_connect *http_connect(struct http_connector *c, int netns_fd, const char *fn,
                                  const char *id, http_done_fn *done, void *data)
{
	struct http_connect *hc = fc_calloc(1, sizeof(*hc));
	hc->c = c;
	hc->netns_fd = netns_fd;
	hc->sock = -1;
	hc->fn = fc_strdup(fn);
	hc->id = fc_strdup(id);
	hc->deadline = fc_now_ns() + CONNECT_TIMEOUT_NS;
	hc->done = done;
	hc->data = data;
	hc->next = c->list;
	c->list = hc;
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
	free(hc);
}

/* While a connect retries or waits, poll again within 1 ms. */
static int before(void *data, uint64_t now)
{
	struct http_connector *c = data;
	for (struct http_connect *hc = c->list; hc; hc = hc->next)
		if (!hc->dead)
			return hc->errnum ? 0 : 1;
	return -1;
}

/* Failures to report, timeouts, retries that are due; then free what is over. */
static void after(void *data, uint64_t now)
{
	struct http_connector *c = data;
	for (struct http_connect *hc = c->list; hc; hc = hc->next) {
		if (hc->dead)
			continue;
		if (!hc->errnum && now > hc->deadline) {
			if (hc->sock >= 0)
				close(hc->sock);
			hc->sock = -1;
			fail(hc, ETIMEDOUT,
			     fc_asprintf("function `%s`: sandbox `%s` did not accept on "
			                 "127.0.0.1:8080 within %llu s",
			                 hc->fn, hc->id, CONNECT_TIMEOUT_NS / 1000000000ULL));
		}
		if (hc->errnum)
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
