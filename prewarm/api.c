/* SPDX-License-Identifier: MIT */
/* api.c: the daemon's unix-socket API (docs/api.md), a front end over the
 * daemon. One request per SOCK_SEQPACKET connection, read and answered
 * through proto.c; invoke carries the caller's stdio (SCM_RIGHTS) and is
 * answered with its events. */
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "daemon.h"
#include "frontends.h"
#include "logs.h"
#include "proto.h"
#include "pulls.h"

struct api {
	struct daemon *d;
	struct loop *l;
	char *path;
	int fd;
	struct loop_watch *w;
	struct api_conn *conns;
};

struct api_conn {
	struct api *api;
	int fd;
	struct loop_watch *w;
	int fds[3]; /* the descriptors that came with the request */
	size_t nfds;
	uint64_t t0;
	bool asked;             /* one request per connection */
	bool http;              /* an HTTP invocation: the client has its socket */
	struct daemon_inv *inv; /* an invocation under way */
	/* logs: the function, the next line, following */
	char *log_fn;
	uint64_t log_seq;
	bool log_follow;
	struct logs_watch *log_w;
	/* a deploy waiting for its image to be pulled */
	struct fcpool_fn_spec spec;
	bool has_spec;
	struct pull_wait *pull;
	struct api_conn *next;
};

static void conn_free(struct api_conn *c)
{
	struct api *a = c->api;
	for (struct api_conn **p = &a->conns; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	daemon_release(a->d, c->inv);
	daemon_log_unwatch(a->d, c->log_w);
	pull_wait_cancel(c->pull);
	if (c->has_spec)
		fcpool_fn_spec_clear(&c->spec);
	free(c->log_fn);
	for (size_t i = 0; i < c->nfds; i++)
		close(c->fds[i]);
	loop_unwatch(c->w);
	close(c->fd);
	free(c);
}

static void send_doc(struct api_conn *c, const struct fc_buf *b, const int *fds, size_t nfds)
{
	struct fc_error *e = NULL;
	if (proto_send(c->fd, b->data, fds, nfds, true, &e) < 0)
		fc_log(FC_LOG_DEBUG, "reply to client: %s", e->msg);
	fc_error_free(e);
}

static void reply_ok(struct api_conn *c)
{
	struct fc_buf b = {0};
	proto_reply_ok(&b);
	send_doc(c, &b, NULL, 0);
	free(b.data);
}

static void reply_error(struct api_conn *c, int errnum, const char *fmt, ...) FC_PRINTF(3, 4);
static void reply_error(struct api_conn *c, int errnum, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	_cleanup_free_ char *msg = fc_vasprintf(fmt, ap);
	va_end(ap);
	struct fc_buf b = {0};
	proto_reply_error(&b, errnum, msg);
	send_doc(c, &b, NULL, 0);
	free(b.data);
}

static void reply_err(struct api_conn *c, struct fc_error *e)
{
	reply_error(c, e ? e->errnum : EIO, "%s", e ? e->msg : "failed");
	fc_error_free(e);
}

/* ---- requests ---------------------------------------------------------------- */

static void op_list(struct api_conn *c, bool stats, bool usage)
{
	struct fcpool_fn_list l;
	daemon_list(c->api->d, NULL, stats, &l, NULL);
	if (stats && usage)
		daemon_list_usage(c->api->d, &l);
	struct fc_buf b = {0};
	fcpool_fn_list_json(&l, &b);
	daemon_list_free(&l);
	if (b.len > FCPOOL_MAX_MSG)
		reply_error(c, E2BIG, "reply too large (%zu functions?)", b.len / 200);
	else
		send_doc(c, &b, NULL, 0);
	free(b.data);
}

/* An invocation's events, as the client reads them (fcpool_client_event). */
static void on_event(void *owner, const struct fcpool_event *ev)
{
	struct api_conn *c = owner;
	struct fc_buf b = {0};
	fcpool_event_json(ev, &b);
	if (ev->kind == FCPOOL_EV_CONNECTED) {
		/* the client speaks HTTP itself; closing its connection frees
		 * the instance */
		struct fc_error *e = NULL;
		int r = proto_send(c->fd, b.data, &ev->sock, 1, false, &e);
		close(ev->sock);
		free(b.data);
		fc_error_free(e);
		c->http = true;
		if (r < 0)
			conn_free(c); /* the client left: the instance is free again */
		return;
	}
	/* an HTTP instance that exits after it accepted: the client has its socket */
	if (!(c->http && ev->kind == FCPOOL_EV_EXIT))
		send_doc(c, &b, NULL, 0);
	free(b.data);
	if (ev->kind == FCPOOL_EV_EXIT || ev->kind == FCPOOL_EV_ERROR)
		conn_free(c);
}

static void op_invoke(struct api_conn *c, struct proto_request *rq)
{
	enum fcpool_mode mode;
	struct fc_error *e = NULL;
	if (daemon_fn_mode(c->api->d, rq->name, &mode, &e) < 0) {
		reply_err(c, e);
		conn_free(c);
		return;
	}
	bool classic = mode == FCPOOL_CLASSIC;
	size_t bytes = 0;
	for (size_t i = 0; rq->env && rq->env[i]; i++) {
		bytes += strlen(rq->env[i]) + 2;
		if (!strchr(rq->env[i], '=')) {
			reply_error(c, EINVAL, "invoke `%s`: env entry `%s` is not KEY=VALUE",
			            rq->name, rq->env[i]);
			conn_free(c);
			return;
		}
	}
	if (bytes > 3000) {
		reply_error(c, E2BIG,
		            "invoke `%s`: environment too large (%zu bytes, at most 3000)",
		            rq->name, bytes);
		conn_free(c);
		return;
	}
	if (classic && c->nfds != 3) {
		reply_error(
		    c, EINVAL,
		    "invoke `%s`: a classic invocation passes 3 descriptors (stdin, stdout, "
		    "stderr), got %zu",
		    rq->name, c->nfds);
		conn_free(c);
		return;
	}
	struct daemon_invoke_args a = {.name = rq->name,
	                               .t_arrived = c->t0,
	                               .stdio = {-1, -1, -1},
	                               .env = TAKE_PTR(rq->env),
	                               .event = on_event,
	                               .owner = c};
	if (classic) {
		memcpy(a.stdio, c->fds, sizeof(a.stdio));
		c->nfds = 0;
	}
	if (daemon_invoke(c->api->d, &a, &c->inv, &e) < 0) {
		reply_err(c, e);
		fc_strv_free(a.env);
		conn_free(c);
	}
	/* the events answer it (maybe already) */
}

/* Send the log's lines from c->log_seq in messages below FCPOOL_MAX_MSG;
 * without follow, then the end and the connection goes. A client that reads
 * slowly is sent what is still kept when it reads again (the socket's
 * POLLOUT). */
static void send_logs(struct api_conn *c)
{
	struct daemon *d = c->api->d;
	for (;;) {
		uint64_t from = c->log_seq;
		struct fc_buf b = {0};
		proto_log_batch_begin(&b);
		size_t n = 0;
		struct logs_line line;
		while (b.len < FCPOOL_MAX_MSG - 2 * LOGS_LINE_MAX - 256 &&
		       daemon_log_next(d, c->log_fn, &c->log_seq, &line) == 0)
			proto_log_batch_line(&b, n++ == 0, line.instance, line.time_ns, line.text);
		proto_log_batch_end(&b);
		if (!n) {
			free(b.data);
			break;
		}
		struct fc_error *e = NULL;
		int r = proto_send(c->fd, b.data, NULL, 0, true, &e);
		free(b.data);
		fc_error_free(e);
		if (r == -EAGAIN) {
			c->log_seq = from; /* again when it reads */
			loop_watch_events(c->w, POLLIN | POLLOUT);
			return;
		}
		if (r < 0) {
			conn_free(c);
			return;
		}
	}
	loop_watch_events(c->w, POLLIN);
	if (c->log_follow)
		return;
	struct fc_buf b = {0};
	fc_buf_printf(&b, "{\"ok\":true,\"event\":\"end\"}");
	send_doc(c, &b, NULL, 0);
	free(b.data);
	conn_free(c);
}

static void on_log_lines(void *owner)
{
	send_logs(owner);
}

static void op_logs(struct api_conn *c, struct proto_request *rq)
{
	struct fcpool_fn_list l;
	struct fc_error *e = NULL;
	if (daemon_list(c->api->d, rq->name, false, &l, &e) < 0) {
		reply_err(c, e);
		conn_free(c);
		return;
	}
	daemon_list_free(&l);
	c->log_fn = fc_strdup(rq->name);
	c->log_follow = rq->follow;
	c->log_seq = rq->tail >= 0 ? daemon_log_tail(c->api->d, c->log_fn, (uint64_t)rq->tail) : 0;
	if (c->log_follow)
		c->log_w = daemon_log_watch(c->api->d, c->log_fn, on_log_lines, c);
	send_logs(c);
}

/* The image of a deploy that waited is in the store, or could not be pulled. */
static void on_pulled(void *owner, const struct fc_error *err)
{
	struct api_conn *c = owner;
	struct fc_error *e = NULL;
	c->pull = NULL;
	if (err) {
		fc_error_set(&e, err->errnum, "function `%s`: %s", c->spec.name, err->msg);
		reply_err(c, e);
	} else if (daemon_deploy_pulled(c->api->d, &c->spec, &e) < 0) {
		reply_err(c, e);
	} else {
		c->has_spec = false; /* the daemon's now */
		fc_log(FC_LOG_INFO, "function deployed");
		reply_ok(c);
	}
	conn_free(c);
}

/* A deploy whose image a child pulls first (daemon_image_to_pull): answered
 * at the pull's end, the daemon serving the rest meanwhile. */
static bool deploy_after_pull(struct api_conn *c, struct proto_request *rq)
{
	struct daemon *d = c->api->d;
	_cleanup_free_ char *ref = NULL;
	struct fc_error *e = NULL;
	if (daemon_image_to_pull(d, &rq->spec, &ref) <= 0)
		return false;
	c->spec = rq->spec;
	memset(&rq->spec, 0, sizeof(rq->spec));
	c->has_spec = true;
	if (pulls_wait(daemon_pulls(d), ref, on_pulled, c, &c->pull, &e) < 0) {
		reply_err(c, e);
		conn_free(c);
	}
	return true;
}

static void on_request(struct api_conn *c, const char *buf)
{
	struct daemon *d = c->api->d;
	struct proto_request rq;
	struct fc_error *e = NULL;
	if (proto_request_parse(buf, &rq, &e) < 0) {
		reply_err(c, e);
		conn_free(c);
		return;
	}
	int r = 0;
	switch (rq.op) {
	case PROTO_PING:
		reply_ok(c);
		break;
	case PROTO_DEPLOY:
		if (deploy_after_pull(c, &rq)) {
			proto_request_clear(&rq);
			return;
		}
		r = daemon_deploy(d, &rq.spec, &e);
		if (r >= 0)
			fc_log(FC_LOG_INFO, "function deployed");
		break;
	case PROTO_LS:
	case PROTO_STATS:
		op_list(c, rq.op == PROTO_STATS, rq.usage);
		break;
	case PROTO_RM:
		r = daemon_remove(d, rq.name, &e);
		break;
	case PROTO_SCALE: {
		struct fcpool_fn_list l;
		r = daemon_list(d, rq.name, false, &l, &e);
		if (r < 0)
			break;
		double mn = rq.has_min ? rq.min : l.fns[0].min,
		       mx = rq.has_max ? rq.max : l.fns[0].max;
		daemon_list_free(&l);
		r = daemon_scale(d, rq.name, mn, mx, &e);
		break;
	}
	case PROTO_LOGS:
		op_logs(c, &rq);
		proto_request_clear(&rq);
		return;
	case PROTO_INVOKE:
	default:
		op_invoke(c, &rq);
		proto_request_clear(&rq);
		return;
	}
	if (r < 0)
		reply_err(c, e);
	else if (rq.op == PROTO_DEPLOY || rq.op == PROTO_RM || rq.op == PROTO_SCALE)
		reply_ok(c);
	proto_request_clear(&rq);
	conn_free(c);
}

static void on_readable(void *data, short revents)
{
	struct api_conn *c = data;
	if (c->log_fn && (revents & POLLOUT)) {
		send_logs(c); /* it reads again */
		return;
	}
	char *buf = fc_malloc(FCPOOL_MAX_MSG + 1);
	union {
		char b[CMSG_SPACE(sizeof(int) * 8)];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = buf, .iov_len = FCPOOL_MAX_MSG};
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof(u.b)};
	(void)revents;
	ssize_t n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		free(buf);
		return;
	}
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); n > 0 && cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
			size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			int fds[8];
			memcpy(fds, CMSG_DATA(cm), k * sizeof(int));
			for (size_t i = 0; i < k; i++) {
				if (c->nfds < 3 && !c->asked)
					c->fds[c->nfds++] = fds[i];
				else
					close(fds[i]);
			}
		}
	if (n <= 0) {
		/* the client went away: its invocation is released (a running
		 * classic function is killed, an HTTP instance freed) */
		free(buf);
		conn_free(c);
		return;
	}
	if (c->asked) {
		free(buf); /* one request per connection */
		return;
	}
	c->asked = true;
	if (mh.msg_flags & MSG_TRUNC) {
		/* never act on the first 64 KiB of a larger request */
		reply_error(c, E2BIG, "request larger than %d bytes", FCPOOL_MAX_MSG);
		free(buf);
		conn_free(c);
		return;
	}
	buf[n] = 0;
	on_request(c, buf);
	free(buf);
}

static void on_accept(void *data, short revents)
{
	struct api *a = data;
	(void)revents;
	for (;;) {
		int fd = accept4(a->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;
		struct api_conn *c = fc_calloc(1, sizeof(*c));
		c->api = a;
		c->fd = fd;
		c->t0 = fc_now_ns();
		c->w = loop_watch(a->l, fd, POLLIN, on_readable, c);
		c->next = a->conns;
		a->conns = c;
	}
}

/* ---- start and stop ----------------------------------------------------------- */

static int listen_socket(const char *path, struct fc_error **err)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(a.sun_path))
		return fc_error_set(err, ENAMETOOLONG, "socket `%s`", path);
	strcpy(a.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return fc_error_set(err, errno, "socket");
	unlink(path);
	mode_t old = umask(0177);
	int r = bind(fd, (struct sockaddr *)&a, sizeof(a));
	umask(old);
	if (r < 0 || chmod(path, 0600) < 0 || listen(fd, 128) < 0) {
		int e = errno;
		close(fd);
		return fc_error_set(err, e, "listen on `%s`", path);
	}
	return fd;
}

int api_start(struct daemon *d, struct loop *l, const char *path, struct api **out,
              struct fc_error **err)
{
	int fd = listen_socket(path, err);
	if (fd < 0)
		return fd;
	struct api *a = fc_calloc(1, sizeof(*a));
	a->d = d;
	a->l = l;
	a->path = fc_strdup(path);
	a->fd = fd;
	a->w = loop_watch(l, fd, POLLIN, on_accept, a);
	*out = a;
	return 0;
}

void api_stop(struct api *a)
{
	if (!a)
		return;
	while (a->conns)
		conn_free(a->conns);
	loop_unwatch(a->w);
	close(a->fd);
	unlink(a->path);
	free(a->path);
	free(a);
}
