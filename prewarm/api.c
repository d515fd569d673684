/* SPDX-License-Identifier: MIT */
/* api.c: the daemon's requests on its unix socket (docs/api.md). One JSON
 * request per SOCK_SEQPACKET connection; invoke carries the caller's stdio. */
#include <fcntl.h>
#include <math.h>
#include <sys/socket.h>

#include "daemon.h"

void api_accept(void)
{
	for (;;) {
		int fd = accept4(D->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;
		struct conn *c = fc_calloc(1, sizeof(*c));
		c->fd = fd;
		c->tcp_fd = -1;
		c->t0 = fc_now_ns();
		c->next = D->conns;
		D->conns = c;
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The distribution in us of the nonzero values of ring[0..n). */
static void latency(const uint64_t *ring, size_t n, struct fcpool_latency *out)
{
	uint64_t *v = fc_malloc((n ? n : 1) * sizeof(*v));
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (ring[i])
			v[k++] = ring[i];
	memset(out, 0, sizeof(*out));
	if (k) {
		qsort(v, k, sizeof(*v), cmp_u64);
#define PCT(p) ((double)v[(size_t)ceil((p) / 100.0 * (double)k) - 1] / 1e3)
		*out = (struct fcpool_latency){.n = k,
		                               .p50 = PCT(50),
		                               .p95 = PCT(95),
		                               .p99 = PCT(99),
		                               .max = (double)v[k - 1] / 1e3};
#undef PCT
	}
	free(v);
}

static void fn_status(struct function *f, struct fcpool_fn_status *st, bool stats)
{
	st->spec = f->spec; /* borrowed */
	st->min = f->spec.min;
	st->max = f->spec.max;
	st->waiting = f->n_waiting;
	st->creating = f->n_creating;
	st->running = f->n_running;
	st->queued = f->n_queued;
	st->handovers = f->handovers;
	st->requests = f->spec.mode == FCPOOL_HTTP ? f->requests : f->handovers;
	st->on_demand = f->on_demand;
	st->creates = f->creates;
	st->create_failures = f->create_failures;
	st->handover_failures = f->handover_failures;
	st->busy = f->busy;
	st->reaped = f->reaped;
	if (stats) {
		size_t n = f->n_lat < FN_LAT_RING ? f->n_lat : FN_LAT_RING;
		uint64_t created = f->creates - f->create_failures;
		st->create_ms_mean =
		    created ? (double)f->create_ns_sum / (double)created / 1e6 : 0.0;
		latency(f->lat, n, &st->handover_us);
		latency(f->lat_exec, n, &st->exec_us);
		latency(f->lat_create, f->n_create < FN_LAT_RING ? f->n_create : FN_LAT_RING,
		        &st->create_us);
	}
}

static void op_list(struct conn *c, bool stats)
{
	struct fcpool_fn_list l = {.stats = stats};
	for (struct function *f = D->fns; f; f = f->next)
		l.n++;
	l.fns = fc_calloc(l.n ? l.n : 1, sizeof(*l.fns));
	l.n = 0;
	for (struct function *f = D->fns; f; f = f->next)
		if (!f->removing)
			fn_status(f, &l.fns[l.n++], stats);
	struct fc_buf b = {0};
	fcpool_fn_list_json(&l, &b);
	free(l.fns); /* the specs were borrowed */
	if (b.len > FCPOOL_MAX_MSG)
		conn_error(c, E2BIG, "reply too large (%zu functions?)", b.len / 200);
	else
		conn_reply(c, b.data);
	free(b.data);
}

static void op_deploy(struct conn *c, const char *json)
{
	struct fcpool_fn_spec spec;
	struct fc_error *e = NULL;
	if (fcpool_fn_spec_parse(json, &spec, &e) < 0 || fn_deploy(&spec, &e) < 0) {
		conn_error(c, e ? e->errnum : EINVAL, "%s", e ? e->msg : "deploy failed");
		fcpool_fn_spec_clear(&spec);
	} else {
		conn_reply(c, "{\"ok\":true}");
		fc_log(FC_LOG_INFO, "function deployed");
	}
	fc_error_free(e);
}

static void op_rm(struct conn *c, struct function *f)
{
	conn_reply(c, "{\"ok\":true}");
	fn_remove(f);
}

static void op_scale(struct conn *c, struct function *f, yajl_val v)
{
	double mn = f->spec.min, mx = f->spec.max;
	js_num(v, "min", &mn);
	js_num(v, "max", &mx);
	struct fc_error *e = NULL;
	if (fn_scale(f, mn, mx, &e) < 0)
		conn_error(c, e->errnum, "%s", e->msg);
	else
		conn_reply(c, "{\"ok\":true}");
	fc_error_free(e);
}

static void op_invoke(struct conn *c, struct function *f, yajl_val v)
{
	c->env = js_strv(v, "env");
	size_t bytes = 0;
	for (size_t i = 0; c->env && c->env[i]; i++) {
		bytes += strlen(c->env[i]) + 2;
		if (!strchr(c->env[i], '=')) {
			conn_error(c, EINVAL, "invoke `%s`: env entry `%s` is not KEY=VALUE",
			           f->spec.name, c->env[i]);
			conn_finish(c);
			return;
		}
	}
	if (bytes > 3000) {
		conn_error(c, E2BIG, "invoke `%s`: environment too large (%zu bytes, at most 3000)",
		           f->spec.name, bytes);
		conn_finish(c);
		return;
	}
	if (f->spec.mode == FCPOOL_CLASSIC && c->nfds != 3) {
		conn_error(c, EINVAL,
		           "invoke `%s`: a classic invocation passes 3 descriptors (stdin, stdout, "
		           "stderr), got %zu",
		           f->spec.name, c->nfds);
		conn_finish(c);
		return;
	}
	queue_invocation(f, c);
}

void api_on_readable(struct conn *c)
{
	char *buf = fc_malloc(FCPOOL_MAX_MSG + 1);
	union {
		char b[CMSG_SPACE(sizeof(int) * 8)];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = buf, .iov_len = FCPOOL_MAX_MSG};
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof(u.b)};
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
				if (c->nfds < 3 && c->state == C_IDLE)
					c->fds[c->nfds++] = fds[i];
				else
					close(fds[i]);
			}
		}
	if (n <= 0) {
		/* the client went away: a running classic invocation is killed,
		 * an HTTP instance is free for the next request */
		if (c->state == C_RUNNING && c->sb && c->sb->fn->spec.mode == FCPOOL_CLASSIC)
			sandbox_kill(c->sb);
		else if (c->sb && c->sb->fn->spec.mode == FCPOOL_HTTP) {
			http_release(c);
			free(buf);
			return;
		}
		conn_finish(c);
		free(buf);
		return;
	}
	if (c->state != C_IDLE || c->fn) {
		free(buf); /* one request per connection */
		return;
	}
	if (mh.msg_flags & MSG_TRUNC) {
		/* never act on the first 64 KiB of a larger request */
		conn_error(c, E2BIG, "request larger than %d bytes", FCPOOL_MAX_MSG);
		free(buf);
		conn_finish(c);
		return;
	}
	buf[n] = 0;
	struct fc_error *e = NULL;
	yajl_val v = js_parse(buf, "request", &e);
	if (!v) {
		conn_error(c, e->errnum, "%s", e->msg);
		fc_error_free(e);
		free(buf);
		conn_finish(c);
		return;
	}
	const char *op = js_str(v, "op");
	const char *name = v ? js_str(v, "name") : NULL;
	struct function *f = name ? fn_find(name) : NULL;
	if (f && f->removing)
		f = NULL;
	if (!op) {
		conn_error(c, EINVAL, "request is not a JSON object with \"op\"");
	} else if (FC_STREQ(op, "deploy")) {
		op_deploy(c, buf);
	} else if (FC_STREQ(op, "ls")) {
		op_list(c, false);
	} else if (FC_STREQ(op, "stats")) {
		op_list(c, true);
	} else if (FC_STREQ(op, "ping")) {
		conn_reply(c, "{\"ok\":true}");
	} else if (!FC_STREQ(op, "rm") && !FC_STREQ(op, "scale") && !FC_STREQ(op, "invoke")) {
		conn_error(c, EINVAL, "unknown op `%s`", op);
	} else if (!f) {
		conn_error(c, ENOENT, "no function `%s`", name ? name : "");
	} else if (FC_STREQ(op, "rm")) {
		op_rm(c, f);
	} else if (FC_STREQ(op, "scale")) {
		op_scale(c, f, v);
	} else {
		op_invoke(c, f, v);
		yajl_tree_free(v);
		free(buf);
		return;
	}
	yajl_tree_free(v);
	free(buf);
	conn_finish(c);
}
