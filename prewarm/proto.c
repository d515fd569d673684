/* SPDX-License-Identifier: MIT */
/* proto.c: function specs as JSON, size/duration parsing and the client side
 * of the daemon's API socket. */
#include <ctype.h>
#include <fcntl.h>
#include <math.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "pool-private.h"

void fcpool_fn_spec_clear(struct fcpool_fn_spec *s)
{
	free(s->name);
	free(s->image);
	fc_strv_free(s->env);
	fc_strv_free(s->labels);
	fc_strv_free(s->args);
	memset(s, 0, sizeof(*s));
}

bool fcpool_name_valid(const char *n)
{
	if (!n || !*n || strlen(n) > 63)
		return false;
	if (!(islower((unsigned char)n[0]) || isdigit((unsigned char)n[0])))
		return false;
	for (const char *p = n; *p; p++)
		if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '-' ||
		      *p == '_' || *p == '.'))
			return false;
	return true;
}

static void strv_json(struct fc_buf *b, char **v)
{
	fc_buf_printf(b, "[");
	for (size_t i = 0; v && v[i]; i++) {
		if (i)
			fc_buf_printf(b, ",");
		fc_buf_json_string(b, v[i]);
	}
	fc_buf_printf(b, "]");
}

void fcpool_fn_spec_json(const struct fcpool_fn_spec *s, struct fc_buf *b)
{
	fc_buf_printf(b, "{\"name\":");
	fc_buf_json_string(b, s->name);
	fc_buf_printf(b, ",\"image\":");
	fc_buf_json_string(b, s->image);
	fc_buf_printf(b, ",\"mode\":\"%s\",\"env\":", s->mode == FCPOOL_HTTP ? "http" : "classic");
	strv_json(b, s->env);
	fc_buf_printf(b, ",\"labels\":");
	strv_json(b, s->labels);
	if (s->args) {
		fc_buf_printf(b, ",\"args\":");
		strv_json(b, s->args);
	}
	fc_buf_printf(b, ",\"memory\":%llu,\"cpus\":%g,\"timeout_ms\":%llu,\"min\":%u,\"max\":%u}",
	              (unsigned long long)s->memory, s->cpus, (unsigned long long)s->timeout_ms,
	              s->min, s->max);
}

const char *js_str(yajl_val v, const char *key)
{
	const char *path[] = {key, NULL};
	yajl_val x = yajl_tree_get(v, path, yajl_t_string);
	return x ? YAJL_GET_STRING(x) : NULL;
}

bool js_num(yajl_val v, const char *key, double *out)
{
	const char *path[] = {key, NULL};
	yajl_val x = yajl_tree_get(v, path, yajl_t_number);
	if (!x)
		return false;
	*out = YAJL_IS_INTEGER(x) ? (double)YAJL_GET_INTEGER(x) : YAJL_GET_DOUBLE(x);
	return true;
}

char **js_strv(yajl_val v, const char *key)
{
	const char *path[] = {key, NULL};
	yajl_val x = yajl_tree_get(v, path, yajl_t_array);
	if (!x)
		return NULL;
	size_t n = YAJL_GET_ARRAY(x)->len;
	char **out = fc_calloc(n + 1, sizeof(char *));
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		yajl_val e = YAJL_GET_ARRAY(x)->values[i];
		if (YAJL_IS_STRING(e))
			out[k++] = fc_strdup(YAJL_GET_STRING(e));
	}
	return out;
}

static const char *label(char **labels, const char *key)
{
	size_t kl = strlen(key);
	for (size_t i = 0; labels && labels[i]; i++)
		if (strncmp(labels[i], key, kl) == 0 && labels[i][kl] == '=')
			return labels[i] + kl + 1;
	return NULL;
}

int fcpool_fn_spec_parse(const char *json, struct fcpool_fn_spec *s, struct fc_error **err)
{
	char ebuf[256];
	memset(s, 0, sizeof(*s));
	yajl_val v = yajl_tree_parse(json, ebuf, sizeof(ebuf));
	if (!v || !YAJL_IS_OBJECT(v)) {
		yajl_tree_free(v);
		return fc_error_set(err, EINVAL, "function spec: not a JSON object");
	}
	const char *name = js_str(v, "name"), *image = js_str(v, "image"),
	           *mode = js_str(v, "mode");
	double d;
	int r = 0;
	if (!fcpool_name_valid(name)) {
		r = fc_error_set(err, EINVAL,
		                 "function name `%s`: expected [a-z0-9][a-z0-9_.-]{0,62}",
		                 name ? name : "");
		goto out;
	}
	if (!image || !*image) {
		r = fc_error_set(err, EINVAL, "function `%s`: no image", name);
		goto out;
	}
	s->name = fc_strdup(name);
	s->image = fc_strdup(image);
	if (!mode || FC_STREQ(mode, "classic")) {
		s->mode = FCPOOL_CLASSIC;
	} else if (FC_STREQ(mode, "http")) {
		s->mode = FCPOOL_HTTP;
	} else {
		r = fc_error_set(err, EINVAL, "function `%s`: mode `%s`: expected classic or http",
		                 name, mode);
		goto out;
	}
	s->env = js_strv(v, "env");
	s->labels = js_strv(v, "labels");
	s->args = js_strv(v, "args");
	if (s->args && !s->args[0]) {
		fc_strv_free(s->args);
		s->args = NULL;
	}
	if (js_num(v, "memory", &d) && d > 0)
		s->memory = (uint64_t)d;
	if (js_num(v, "cpus", &d) && d > 0)
		s->cpus = d;
	if (js_num(v, "timeout_ms", &d) && d > 0)
		s->timeout_ms = (uint64_t)d;
	s->min = FCPOOL_DEFAULT_MIN;
	s->max = FCPOOL_DEFAULT_MAX;
	const char *l;
	if ((l = label(s->labels, "com.openfaas.scale.min")))
		s->min = (unsigned)strtoul(l, NULL, 10);
	if ((l = label(s->labels, "com.openfaas.scale.max")))
		s->max = (unsigned)strtoul(l, NULL, 10);
	if ((l = label(s->labels, "com.fcstart.queue")))
		s->queue = (unsigned)strtoul(l, NULL, 10);
	if (js_num(v, "min", &d) && d >= 0)
		s->min = (unsigned)d;
	if (js_num(v, "max", &d) && d >= 1)
		s->max = (unsigned)d;
	if (s->max < 1 || s->min > s->max || s->max > 10000) {
		r = fc_error_set(
		    err, EINVAL,
		    "function `%s`: scale min %u max %u: need 0 <= min <= max, 1 <= max <= 10000",
		    name, s->min, s->max);
		goto out;
	}
out:
	yajl_tree_free(v);
	if (r < 0)
		fcpool_fn_spec_clear(s);
	return r;
}

int fcpool_parse_size(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return -EINVAL;
	uint64_t mul = 1;
	switch (tolower((unsigned char)*end)) {
	case 0:
		break;
	case 'k':
		mul = 1ULL << 10;
		end++;
		break;
	case 'm':
		mul = 1ULL << 20;
		end++;
		break;
	case 'g':
		mul = 1ULL << 30;
		end++;
		break;
	default:
		return -EINVAL;
	}
	if (*end == 'i' || *end == 'I')
		end++;
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end)
		return -EINVAL;
	*out = (uint64_t)(v * (double)mul);
	return 0;
}

int fcpool_parse_duration(const char *s, uint64_t *ms)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return -EINVAL;
	double mul;
	if (!*end || FC_STREQ(end, "s"))
		mul = 1000;
	else if (FC_STREQ(end, "ms"))
		mul = 1;
	else if (FC_STREQ(end, "m"))
		mul = 60000;
	else if (FC_STREQ(end, "h"))
		mul = 3600000;
	else
		return -EINVAL;
	*ms = (uint64_t)llround(v * mul);
	return 0;
}

/* ---- client ---------------------------------------------------------------- */

int fcpool_connect(const char *path, struct fc_error **err)
{
	if (!path)
		path = getenv("FCSTART_SOCKET");
	if (!path || !*path)
		path = FCPOOL_DEFAULT_SOCKET;
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(a.sun_path))
		return fc_error_set(err, ENAMETOOLONG, "socket `%s`", path);
	strcpy(a.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fc_error_set(err, errno, "socket");
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int e = errno;
		close(fd);
		return fc_error_set(
		    err, e, "connect to the fcstart daemon at `%s` (is `fcstart serve` running?)",
		    path);
	}
	return fd;
}

int fcpool_send(int fd, const char *json, const int *fds, size_t nfds, struct fc_error **err)
{
	struct iovec iov = {.iov_base = (void *)json, .iov_len = strlen(json)};
	union {
		char buf[CMSG_SPACE(sizeof(int) * 3)];
		struct cmsghdr align;
	} u;
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	if (nfds > 3)
		return fc_error_set(err, EINVAL, "too many descriptors");
	if (nfds) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	ssize_t n;
	do
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return fc_error_set(err, errno, "send to the fcstart daemon");
	return 0;
}

int fcpool_recv_fds(int fd, char **reply, int *fds, size_t *nfds, struct fc_error **err)
{
	char *buf = fc_malloc(FCPOOL_MAX_MSG + 1);
	union {
		char b[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = buf, .iov_len = FCPOOL_MAX_MSG};
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof(u.b)};
	size_t want = nfds ? *nfds : 0, got = 0;
	ssize_t n;
	do
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); n > 0 && c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			int in[4];
			memcpy(in, CMSG_DATA(c), k * sizeof(int));
			for (size_t i = 0; i < k; i++) {
				if (got < want)
					fds[got++] = in[i];
				else
					close(in[i]);
			}
		}
	if (nfds)
		*nfds = got;
	if (n <= 0) {
		int e = n < 0 ? errno : ECONNRESET;
		free(buf);
		return fc_error_set(err, e, "receive from the fcstart daemon");
	}
	buf[n] = 0;
	*reply = buf;
	return 0;
}

int fcpool_recv(int fd, char **reply, struct fc_error **err)
{
	return fcpool_recv_fds(fd, reply, NULL, NULL, err);
}

/* A reply {"ok":false,"error":"..."} becomes an error with that text. */
static int reply_error(const char *reply, struct fc_error **err)
{
	yajl_val v = yajl_tree_parse(reply, NULL, 0);
	if (!v)
		return fc_error_set(err, EPROTO, "bad reply from the fcstart daemon");
	const char *path[] = {"ok", NULL};
	yajl_val ok = yajl_tree_get(v, path, yajl_t_any);
	int r = 0;
	if (!ok || !YAJL_IS_TRUE(ok)) {
		const char *e = js_str(v, "error");
		double code = EIO;
		js_num(v, "errno", &code);
		r = fc_error_relay(err, (int)code, "%s", e ? e : "the daemon refused the request");
	}
	yajl_tree_free(v);
	return r;
}

int fcpool_call(const char *socket_path, const char *json, char **reply, struct fc_error **err)
{
	_cleanup_close_ int fd = fcpool_connect(socket_path, err);
	if (fd < 0)
		return fd;
	char *rep = NULL;
	int r = fcpool_send(fd, json, NULL, 0, err);
	if (r >= 0)
		r = fcpool_recv(fd, &rep, err);
	if (r >= 0)
		r = reply_error(rep, err);
	if (r < 0 || !reply)
		free(rep);
	else
		*reply = rep;
	return r;
}
