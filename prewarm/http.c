/* SPDX-License-Identifier: MIT */
/* http.c: HTTP-mode functions. The function listens on 127.0.0.1:8080 in its
 * own network namespace (only lo). The daemon, single-threaded, steps into
 * that namespace just long enough to create a TCP socket there (setns, socket,
 * setns back): the socket keeps its namespace, so no bridge, veth or NAT is
 * needed. It connects (retrying until the server accepts), then passes the
 * connected socket to the invoking client, which speaks HTTP itself. An
 * instance serves one request at a time and stays warm until it is idle for
 * the idle timeout. */
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>

#include "daemon.h"
#include "proto.h"

#define CONNECT_TIMEOUT_NS (10ULL * 1000000000ULL)
#define RETRY_NS           500000ULL

struct sandbox *http_idle_instance(struct function *f)
{
	for (struct sandbox *s = f->sandboxes; s; s = s->next)
		if (s->state == SB_RUNNING && s->http_ready && !s->client && !s->killed)
			return s;
	return NULL;
}

static int netns_socket(struct sandbox *s, int *out)
{
	if (s->http_fd < 0) {
		char p[64];
		snprintf(p, sizeof(p), "/proc/%d/ns/net", (int)s->pid);
		s->http_fd = open(p, O_RDONLY | O_CLOEXEC);
		if (s->http_fd < 0)
			return -errno;
	}
	if (D->self_netns < 0)
		return -ENOTSUP;
	if (setns(s->http_fd, CLONE_NEWNET) < 0)
		return -errno;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int e = errno;
	if (setns(D->self_netns, CLONE_NEWNET) < 0)
		abort(); /* the daemon cannot go on in a sandbox's namespace */
	if (fd < 0)
		return -e;
	*out = fd;
	return 0;
}

static void connected(struct conn *c)
{
	struct sandbox *s = c->sb;
	struct function *f = s->fn;
	uint64_t now = fc_now_ns();
	bool first = !s->http_ready;
	s->http_ready = true;
	s->last_used = now;
	if (c->gw) {
		/* the HTTP gateway relays the request itself */
		f->requests++;
		gw_on_connected(c, TAKE_FD(c->tcp_fd));
		return;
	}
	char buf[512];
	snprintf(buf, sizeof(buf),
	         "{\"ok\":true,\"event\":\"connected\",\"id\":\"%s\",\"cold\":%s,\"handover_us\":%."
	         "1f,\"ready_us\":%.1f,\"wait_us\":%.1f,\"on_demand\":%s}",
	         s->id, first ? "true" : "false", (double)c->handover_ns / 1e3,
	         first ? (double)(now - c->t_started) / 1e3 : 0.0, (double)(now - c->t0) / 1e3,
	         c->on_demand ? "true" : "false");
	int fds[1] = {c->tcp_fd};
	struct fc_error *e = NULL;
	if (proto_send(c->fd, buf, fds, 1, false, &e) < 0) {
		fc_error_free(e);
		conn_finish(c); /* the client left; the instance is free again */
		dispatch(f);
		return;
	}
	close(c->tcp_fd);
	c->tcp_fd = -1;
	f->requests++;
}

static void try_connect(struct conn *c)
{
	struct sandbox *s = c->sb;
	c->retry_at = 0;
	int fd = -1, r = netns_socket(s, &fd);
	if (r < 0) {
		conn_error(c, -r, "function `%s`: socket in sandbox `%s`: %s", s->fn->spec.name,
		           s->id, strerror(-r));
		sandbox_kill(s);
		conn_finish(c);
		return;
	}
	struct sockaddr_in a = {.sin_family = AF_INET,
	                        .sin_port = htons(8080),
	                        .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
		c->tcp_fd = fd;
		connected(c);
		return;
	}
	if (errno == EINPROGRESS) {
		c->tcp_fd = fd;
		return;
	}
	close(fd);
	c->retry_at = fc_now_ns() + RETRY_NS; /* not listening yet */
}

void http_assign(struct conn *c, struct sandbox *s)
{
	c->sb = s;
	c->fn = s->fn;
	s->client = c;
	c->state = C_RUNNING;
	if (!c->t_started)
		c->t_started = fc_now_ns();
	c->connect_deadline = fc_now_ns() + CONNECT_TIMEOUT_NS;
	if (s->fn->spec.timeout_ms)
		c->deadline = fc_now_ns() + s->fn->spec.timeout_ms * 1000000ULL;
	try_connect(c);
}

void http_on_writable(struct conn *c)
{
	int err = 0;
	socklen_t l = sizeof(err);
	getsockopt(c->tcp_fd, SOL_SOCKET, SO_ERROR, &err, &l);
	if (err == 0) {
		connected(c);
		return;
	}
	close(c->tcp_fd);
	c->tcp_fd = -1;
	c->retry_at = fc_now_ns() + RETRY_NS;
}

int http_tick(uint64_t now)
{
	int timeout = 200;
	for (struct conn *c = D->conns; c; c = c->next) {
		if (c->dead || !c->sb || c->state != C_RUNNING ||
		    c->sb->fn->spec.mode != FCPOOL_HTTP)
			continue;
		if (c->tcp_fd < 0 && !c->retry_at)
			continue; /* connected: the client has the socket */
		if (now > c->connect_deadline) {
			struct sandbox *s = c->sb;
			conn_error(c, ETIMEDOUT,
			           "function `%s`: sandbox `%s` did not accept on 127.0.0.1:8080 "
			           "within %llu s",
			           s->fn->spec.name, s->id, CONNECT_TIMEOUT_NS / 1000000000ULL);
			sandbox_kill(s);
			conn_finish(c);
			continue;
		}
		if (c->retry_at && now >= c->retry_at)
			try_connect(c);
		if (c->retry_at || c->tcp_fd >= 0)
			timeout = 1;
	}
	return timeout;
}

void http_release(struct conn *c)
{
	struct sandbox *s = c->sb;
	struct function *f = s ? s->fn : NULL;
	if (s)
		s->last_used = fc_now_ns();
	if (c->sb && (c->tcp_fd >= 0 || c->retry_at))
		sandbox_kill(c->sb); /* the client left before the instance was ready */
	conn_finish(c);
	if (f)
		dispatch(f);
}

void http_on_exit(struct conn *c)
{
	if (c->tcp_fd >= 0 || c->retry_at) {
		struct sandbox *s = c->sb;
		conn_error(c, ECONNREFUSED,
		           "function `%s`: sandbox `%s` exited before accepting on 127.0.0.1:8080",
		           s ? s->fn->spec.name : "?", s ? s->id : "?");
	}
	conn_finish(c);
}

void http_reap_idle(struct function *f, uint64_t now)
{
	if (f->spec.mode != FCPOOL_HTTP)
		return;
	for (struct sandbox *s = f->sandboxes; s; s = s->next)
		if (s->state == SB_RUNNING && s->http_ready && !s->client && !s->killed &&
		    now - s->last_used > D->idle_ns) {
			sandbox_kill(s);
			f->reaped++;
		}
}
