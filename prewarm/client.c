/* SPDX-License-Identifier: MIT */
/* client.c: the typed client of the daemon's API socket (fcpool.h): one
 * connection per request, the request and its replies through proto.c. */
#include "proto.h"

/* Send a request (with descriptors) on a new connection; returns it. */
static int request(const char *sock, const struct proto_request *rq, const int *fds, size_t nfds,
                   struct fc_error **err)
{
	int fd = proto_connect(sock, err);
	if (fd < 0)
		return fd;
	struct fc_buf b = {0};
	proto_request_json(rq, &b);
	int r = proto_send(fd, b.data, fds, nfds, false, err);
	free(b.data);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

/* A request and its one reply, {"ok":true} or a refusal. */
static int call(const char *sock, const struct proto_request *rq, struct fc_error **err)
{
	_cleanup_close_ int fd = request(sock, rq, NULL, 0, err);
	if (fd < 0)
		return fd;
	_cleanup_free_ char *reply = NULL;
	int r = proto_recv(fd, &reply, NULL, NULL, err);
	return r < 0 ? r : proto_reply_check(reply, err);
}

int fcpool_client_ping(const char *sock, struct fc_error **err)
{
	struct proto_request rq = {.op = PROTO_PING};
	return call(sock, &rq, err);
}

int fcpool_client_deploy(const char *sock, const struct fcpool_fn_spec *spec, struct fc_error **err)
{
	int r = fcpool_fn_spec_check(spec, err);
	if (r < 0)
		return r;
	struct proto_request rq = {.op = PROTO_DEPLOY, .spec = *spec};
	return call(sock, &rq, err);
}

int fcpool_client_rm(const char *sock, const char *name, struct fc_error **err)
{
	struct proto_request rq = {.op = PROTO_RM, .name = (char *)name};
	return call(sock, &rq, err);
}

int fcpool_client_scale(const char *sock, const char *name, long min, long max,
                        struct fc_error **err)
{
	struct proto_request rq = {.op = PROTO_SCALE,
	                           .name = (char *)name,
	                           .has_min = min >= 0,
	                           .has_max = max >= 0,
	                           .min = (double)min,
	                           .max = (double)max};
	return call(sock, &rq, err);
}

static int list(const char *sock, bool stats, bool usage, struct fcpool_fn_list *out,
                struct fc_error **err)
{
	struct proto_request rq = {.op = stats ? PROTO_STATS : PROTO_LS, .usage = usage};
	memset(out, 0, sizeof(*out));
	_cleanup_close_ int fd = request(sock, &rq, NULL, 0, err);
	if (fd < 0)
		return fd;
	_cleanup_free_ char *reply = NULL;
	int r = proto_recv(fd, &reply, NULL, NULL, err);
	return r < 0 ? r : proto_fn_list_parse(reply, stats, out, err);
}

int fcpool_client_ls(const char *sock, struct fcpool_fn_list *out, struct fc_error **err)
{
	return list(sock, false, false, out, err);
}

int fcpool_client_stats(const char *sock, struct fcpool_fn_list *out, struct fc_error **err)
{
	return list(sock, true, false, out, err);
}

int fcpool_client_usage(const char *sock, struct fcpool_fn_list *out, struct fc_error **err)
{
	return list(sock, true, true, out, err);
}

int fcpool_client_invoke(const char *sock, const struct fcpool_invoke_args *a,
                         struct fc_error **err)
{
	struct proto_request rq = {.op = PROTO_INVOKE, .name = (char *)a->name, .env = a->env};
	bool stdio = a->stdio[0] >= 0 && a->stdio[1] >= 0 && a->stdio[2] >= 0;
	return request(sock, &rq, a->stdio, stdio ? 3 : 0, err);
}

int fcpool_client_event(int conn, struct fcpool_event *ev, struct fc_error **err)
{
	_cleanup_free_ char *reply = NULL;
	int sock = -1;
	size_t n = 1;
	int r = proto_recv(conn, &reply, &sock, &n, err);
	if (r < 0)
		return r;
	r = proto_event_parse(reply, ev, err);
	if (r >= 0 && ev->kind == FCPOOL_EV_CONNECTED && n == 1) {
		ev->sock = sock;
		return 0;
	}
	if (n == 1)
		close(sock);
	if (r >= 0 && ev->kind == FCPOOL_EV_CONNECTED)
		r = fc_error_set(err, EPROTO, "function `%s`: connected without a socket", ev->id);
	return r;
}

int fcpool_client_logs(const char *sock, const char *name, long tail, bool follow,
                       struct fc_error **err)
{
	struct proto_request rq = {
	    .op = PROTO_LOGS, .name = (char *)name, .tail = tail, .follow = follow};
	return request(sock, &rq, NULL, 0, err);
}

int fcpool_client_log_next(int conn, struct fcpool_log_batch *b, struct fc_error **err)
{
	_cleanup_free_ char *reply = NULL;
	int r = proto_recv(conn, &reply, NULL, NULL, err);
	return r < 0 ? r : proto_log_batch_parse(reply, b, err);
}
