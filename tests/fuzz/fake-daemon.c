/* SPDX-License-Identifier: MIT */
/* fake-daemon.c: see fake-daemon.h. Events come from inside daemon_invoke, as
 * daemon.h allows; nothing of an invocation is touched after its last event. */
#include <fcntl.h>
#include <sys/socket.h>

#include "fake-daemon.h"

#define FAKE_MAX_FNS 16

struct daemon {
	struct loop *l;
	struct fcpool_fn_spec fns[FAKE_MAX_FNS];
	size_t n;
	unsigned controls;
	char *resp;
	size_t resp_len;
};

struct daemon_inv {
	struct daemon *d;
	int peer; /* HTTP: the instance's end of the connection, else -1 */
	/* classic: the function's stdin and stdout while it runs */
	int in, out;
	struct loop_watch *w;
	daemon_event_fn *event;
	void *owner;
};

static struct fcpool_fn_spec *find(struct daemon *d, const char *name)
{
	for (size_t i = 0; name && i < d->n; i++)
		if (FC_STREQ(d->fns[i].name, name))
			return &d->fns[i];
	return NULL;
}

static void deploy_json(struct daemon *d, const char *json)
{
	struct fcpool_fn_spec s;
	struct fc_error *e = NULL;
	if (fcpool_fn_spec_parse(json, &s, &e) < 0) {
		fprintf(stderr, "fake daemon: %s\n", e->msg);
		abort();
	}
	d->fns[d->n++] = s;
}

struct daemon *fake_daemon_new(struct loop *l)
{
	struct daemon *d = fc_calloc(1, sizeof(*d));
	d->l = l;
	deploy_json(d, "{\"name\":\"echo\",\"image\":\"busybox\",\"mode\":\"classic\"}");
	deploy_json(d, "{\"name\":\"web\",\"image\":\"busybox\",\"mode\":\"http\"}");
	return d;
}

void fake_daemon_free(struct daemon *d)
{
	for (size_t i = 0; i < d->n; i++)
		fcpool_fn_spec_clear(&d->fns[i]);
	free(d->resp);
	free(d);
}

unsigned fake_daemon_controls(struct daemon *d)
{
	return d->controls;
}

void fake_daemon_reset(struct daemon *d)
{
	d->controls = 0;
}

void fake_daemon_http_response(struct daemon *d, const void *data, size_t len)
{
	free(d->resp);
	d->resp = NULL;
	d->resp_len = 0;
	if (!data)
		return;
	d->resp = fc_malloc(len + 1);
	memcpy(d->resp, data, len);
	d->resp_len = len;
}

const char *daemon_root(const struct daemon *d)
{
	return "/nonexistent/fuzz-root";
}

const char *daemon_store_path(const struct daemon *d)
{
	return "/nonexistent/fuzz-store";
}

int daemon_image_to_pull(struct daemon *d, const struct fcpool_fn_spec *spec, char **ref)
{
	*ref = NULL;
	return 0;
}

struct pulls *daemon_pulls(struct daemon *d)
{
	return NULL; /* daemon_image_to_pull never asks for a pull */
}

int daemon_deploy(struct daemon *d, struct fcpool_fn_spec *spec, struct fc_error **err)
{
	d->controls++;
	int r = fcpool_fn_spec_check(spec, err);
	if (r < 0)
		return r;
	struct fcpool_fn_spec *f = find(d, spec->name);
	if (!f && d->n == FAKE_MAX_FNS)
		return fc_error_set(err, ENOSPC, "fake daemon: %d functions at most", FAKE_MAX_FNS);
	if (f)
		fcpool_fn_spec_clear(f);
	else
		f = &d->fns[d->n++];
	*f = *spec; /* taken */
	memset(spec, 0, sizeof(*spec));
	return 0;
}

int daemon_deploy_pulled(struct daemon *d, struct fcpool_fn_spec *spec, struct fc_error **err)
{
	return daemon_deploy(d, spec, err);
}

int daemon_remove(struct daemon *d, const char *name, struct fc_error **err)
{
	d->controls++;
	struct fcpool_fn_spec *f = find(d, name);
	if (!f)
		return fc_error_set(err, ENOENT, "no function `%s`", name ? name : "");
	fcpool_fn_spec_clear(f);
	*f = d->fns[--d->n];
	return 0;
}

int daemon_scale(struct daemon *d, const char *name, double min, double max, struct fc_error **err)
{
	d->controls++;
	struct fcpool_fn_spec *f = find(d, name);
	if (!f)
		return fc_error_set(err, ENOENT, "no function `%s`", name ? name : "");
	if (!(min >= 0 && max >= 1 && min <= max && max <= 10000))
		return fc_error_set(err, EINVAL, "function `%s`: scale min %g max %g", name, min,
		                    max);
	f->min = (unsigned)min;
	f->max = (unsigned)max;
	return 0;
}

int daemon_list(struct daemon *d, const char *name, bool stats, struct fcpool_fn_list *out,
                struct fc_error **err)
{
	memset(out, 0, sizeof(*out));
	out->stats = stats;
	out->fns = fc_calloc(d->n + 1, sizeof(*out->fns));
	for (size_t i = 0; i < d->n; i++) {
		if (name && !FC_STREQ(name, d->fns[i].name))
			continue;
		struct fcpool_fn_status *s = &out->fns[out->n++];
		s->spec = d->fns[i]; /* borrowed, as the daemon's are */
		s->min = d->fns[i].min;
		s->max = d->fns[i].max;
		s->waiting = 1;
	}
	if (name && !out->n) {
		free(out->fns);
		memset(out, 0, sizeof(*out));
		return fc_error_set(err, ENOENT, "no function `%s`", name);
	}
	return 0;
}

int daemon_fn_mode(struct daemon *d, const char *name, enum fcpool_mode *mode,
                   struct fc_error **err)
{
	struct fcpool_fn_spec *s = find(d, name);
	if (!s)
		return fc_error_set(err, ENOENT, "no function `%s`", name ? name : "");
	*mode = s->mode;
	return 0;
}

void daemon_list_free(struct fcpool_fn_list *l)
{
	free(l->fns);
	memset(l, 0, sizeof(*l));
}

static void close_fn(struct daemon_inv *v)
{
	loop_unwatch(v->w);
	v->w = NULL;
	if (v->in >= 0)
		close(v->in);
	if (v->out >= 0)
		close(v->out);
	v->in = v->out = -1;
}

/* The classic function: its stdin to its stdout as it comes (the gateway
 * keeps bodies small here, so the pipe holds them), then it exits 0. */
static void echo(void *data, short revents)
{
	struct daemon_inv *v = data;
	char buf[4096];
	ssize_t n = read(v->in, buf, sizeof(buf));
	(void)revents;
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0) {
		if (fc_write_all(v->out, buf, (size_t)n) < 0)
			abort();
		return;
	}
	close_fn(v);
	struct fcpool_event ev = {.kind = FCPOOL_EV_EXIT, .sock = -1};
	v->event(v->owner, &ev); /* may release v */
}

int daemon_invoke(struct daemon *d, struct daemon_invoke_args *a, struct daemon_inv **inv,
                  struct fc_error **err)
{
	struct fcpool_fn_spec *f = find(d, a->name);
	if (!f) /* as the daemon: nothing taken */
		return fc_error_set(err, ENOENT, "no function `%s`", a->name);
	struct daemon_inv *v = fc_calloc(1, sizeof(*v));
	v->d = d;
	v->peer = v->in = v->out = -1;
	*inv = v;
	fc_strv_free(TAKE_PTR(a->env));
	struct fcpool_event ev = {.sock = -1};
	snprintf(ev.id, sizeof(ev.id), "fake-%s", f->name);
	if (f->mode == FCPOOL_HTTP) {
		int sp[2];
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
			abort();
		static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nhi\n";
		const char *resp = d->resp ? d->resp : ok;
		size_t len = d->resp ? d->resp_len : sizeof(ok) - 1;
		if (fc_write_all(sp[1], resp, len) < 0)
			abort();
		shutdown(sp[1], SHUT_WR);
		v->peer = sp[1];
		fcntl(sp[0], F_SETFL, O_NONBLOCK);
		ev.kind = FCPOOL_EV_CONNECTED;
		ev.sock = sp[0];
		a->event(a->owner, &ev); /* the owner has the socket now */
		return 0;
	}
	v->in = a->stdio[0];
	v->out = a->stdio[1];
	if (a->stdio[2] >= 0)
		close(a->stdio[2]);
	a->stdio[0] = a->stdio[1] = a->stdio[2] = -1; /* taken */
	fcntl(v->in, F_SETFL, O_NONBLOCK);
	v->event = a->event;
	v->owner = a->owner;
	v->w = loop_watch(d->l, v->in, POLLIN, echo, v);
	ev.kind = FCPOOL_EV_STARTED;
	a->event(a->owner, &ev);
	return 0;
}

void daemon_release(struct daemon *d, struct daemon_inv *inv)
{
	if (!inv)
		return;
	if (inv->peer >= 0)
		close(inv->peer);
	close_fn(inv);
	free(inv);
}

bool daemon_inv_timed_out(const struct daemon_inv *inv)
{
	return false;
}

void daemon_release_conn(struct daemon *d, struct daemon_inv *inv, int sock)
{
	if (sock >= 0)
		close(sock);
	daemon_release(d, inv);
}

int daemon_log_next(struct daemon *d, const char *fn, uint64_t *seq, struct logs_line *line)
{
	return -ENOENT;
}

uint64_t daemon_log_tail(struct daemon *d, const char *fn, uint64_t n)
{
	return 1;
}

struct logs_watch *daemon_log_watch(struct daemon *d, const char *fn, void (*wake)(void *),
                                    void *owner)
{
	return fc_calloc(1, 16);
}

void daemon_log_unwatch(struct daemon *d, struct logs_watch *w)
{
	free(w);
}

int daemon_secret_set(struct daemon *d, const char *name, const void *value, size_t len,
                      bool update, struct fc_error **err)
{
	d->controls++;
	return 0;
}

int daemon_secret_remove(struct daemon *d, const char *name, struct fc_error **err)
{
	d->controls++;
	return fc_error_set(err, ENOENT, "no secret `%s`", name);
}

int daemon_secret_list(struct daemon *d, char ***names, struct fc_error **err)
{
	*names = fc_calloc(1, sizeof(char *));
	return 0;
}
