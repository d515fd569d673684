/* SPDX-License-Identifier: MIT */
/* callback.c: posting answers to callback URLs (callback.h) with libcurl's
 * multi interface, its sockets watched by the daemon's loop and its timer
 * kept by a loop hook (curl_multi_socket_action). */
#include <curl/curl.h>
#include <dlfcn.h>
#include <strings.h>

#include "callback.h"

#define POST_TIMEOUT_S 60

#define CURL_FUNCS(X)                                                                              \
	X(curl_global_init)                                                                        \
	X(curl_multi_init)                                                                         \
	X(curl_multi_setopt)                                                                       \
	X(curl_multi_socket_action)                                                                \
	X(curl_multi_info_read)                                                                    \
	X(curl_multi_add_handle)                                                                   \
	X(curl_multi_remove_handle)                                                                \
	X(curl_multi_assign)                                                                       \
	X(curl_multi_cleanup)                                                                      \
	X(curl_easy_init)                                                                          \
	X(curl_easy_setopt)                                                                        \
	X(curl_easy_getinfo)                                                                       \
	X(curl_easy_cleanup)                                                                       \
	X(curl_easy_strerror)                                                                      \
	X(curl_slist_append)                                                                       \
	X(curl_slist_free_all)

static struct {
#define X(f) __typeof__(f) *p_##f;
	CURL_FUNCS(X)
#undef X
} cl;

static int curl_load(struct fc_error **err)
{
	static void *lib;
	if (lib)
		return 0;
	void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
	if (!h)
		h = dlopen("libcurl.so", RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return fc_error_set(err, ENOENT, "callbacks: load libcurl: %s", dlerror());
#define X(f)                                                                                       \
	if (!(*(void **)&cl.p_##f = dlsym(h, #f))) {                                               \
		dlclose(h);                                                                        \
		return fc_error_set(err, ENOENT, "callbacks: libcurl lacks " #f);                  \
	}
	CURL_FUNCS(X)
#undef X
	if (cl.p_curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		dlclose(h);
		return fc_error_set(err, EIO, "callbacks: curl_global_init failed");
	}
	lib = h;
	return 0;
}

struct post {
	struct callbacks *c;
	CURL *easy;
	struct curl_slist *hdrs;
	int fd;
	uint64_t left;
	callback_done_fn *done;
	void *data;
	char errbuf[CURL_ERROR_SIZE];
	struct post *next;
};

struct sockw {
	curl_socket_t fd;
	struct loop_watch *w;
	struct callbacks *c;
};

struct callbacks {
	struct loop *l;
	CURLM *multi;
	uint64_t deadline; /* libcurl's timer (0: none) */
	struct post *posts;
};

static void post_free(struct post *p)
{
	struct callbacks *c = p->c;
	for (struct post **q = &c->posts; *q; q = &(*q)->next)
		if (*q == p) {
			*q = p->next;
			break;
		}
	cl.p_curl_multi_remove_handle(c->multi, p->easy);
	cl.p_curl_easy_cleanup(p->easy);
	cl.p_curl_slist_free_all(p->hdrs);
	if (p->fd >= 0)
		close(p->fd);
	free(p);
}

/* Posts that ended: tell their owners. */
static void check_done(struct callbacks *c)
{
	CURLMsg *m;
	int left;
	while ((m = cl.p_curl_multi_info_read(c->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		struct post *p = NULL;
		cl.p_curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&p);
		if (!p)
			continue;
		long status = 0;
		char error[CURL_ERROR_SIZE + 64];
		error[0] = 0;
		if (m->data.result == CURLE_OK)
			cl.p_curl_easy_getinfo(p->easy, CURLINFO_RESPONSE_CODE, &status);
		else
			snprintf(error, sizeof(error), "%s",
			         p->errbuf[0] ? p->errbuf
			                      : cl.p_curl_easy_strerror(m->data.result));
		callback_done_fn *done = p->done;
		void *data = p->data;
		post_free(p);
		done(data, status, error[0] ? error : NULL);
	}
}

static void on_sock(void *data, short revents)
{
	struct sockw *s = data;
	struct callbacks *c = s->c;
	int flags = (revents & POLLIN ? CURL_CSELECT_IN : 0) |
	            (revents & POLLOUT ? CURL_CSELECT_OUT : 0) |
	            (revents & (POLLERR | POLLHUP) ? CURL_CSELECT_ERR : 0);
	int running;
	cl.p_curl_multi_socket_action(c->multi, s->fd, flags, &running);
	check_done(c);
}

static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct callbacks *c = userp;
	struct sockw *s = socketp;
	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (s) {
			loop_unwatch(s->w);
			free(s);
			cl.p_curl_multi_assign(c->multi, fd, NULL);
		}
		return 0;
	}
	short ev = (what & CURL_POLL_IN ? POLLIN : 0) | (what & CURL_POLL_OUT ? POLLOUT : 0);
	if (!s) {
		s = fc_calloc(1, sizeof(*s));
		s->fd = fd;
		s->c = c;
		s->w = loop_watch(c->l, fd, ev, on_sock, s);
		cl.p_curl_multi_assign(c->multi, fd, s);
	} else {
		loop_watch_events(s->w, ev);
	}
	return 0;
}

static int timer_cb(CURLM *multi, long ms, void *userp)
{
	struct callbacks *c = userp;
	(void)multi;
	c->deadline = ms < 0 ? 0 : fc_now_ns() + (uint64_t)ms * 1000000ULL;
	return 0;
}

static int before(void *data, uint64_t now)
{
	struct callbacks *c = data;
	if (!c->deadline)
		return -1;
	return now >= c->deadline ? 0 : (int)((c->deadline - now) / 1000000 + 1);
}

static void after(void *data, uint64_t now)
{
	struct callbacks *c = data;
	if (!c->deadline || now < c->deadline)
		return;
	c->deadline = 0;
	int running;
	cl.p_curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(c);
}

static size_t read_cb(char *buf, size_t size, size_t n, void *userp)
{
	struct post *p = userp;
	size_t max = size * n;
	if (p->fd < 0 || !p->left)
		return 0;
	if (max > p->left)
		max = (size_t)p->left;
	ssize_t r = read(p->fd, buf, max);
	if (r < 0)
		return CURL_READFUNC_ABORT;
	p->left -= (uint64_t)r;
	return (size_t)r;
}

static size_t discard_cb(char *buf, size_t size, size_t n, void *userp)
{
	(void)buf;
	(void)userp;
	return size * n;
}

bool callback_url_valid(const char *url)
{
	if (!url || (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0))
		return false;
	for (const char *p = url; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return false;
	return strlen(url) < 4096;
}

struct callbacks *callbacks_new(struct loop *l)
{
	struct callbacks *c = fc_calloc(1, sizeof(*c));
	c->l = l;
	return c;
}

void callbacks_free(struct callbacks *c)
{
	if (!c)
		return;
	while (c->posts)
		post_free(c->posts);
	if (c->multi) {
		loop_unhook(c->l, c);
		cl.p_curl_multi_cleanup(c->multi);
	}
	free(c);
}

int callback_post(struct callbacks *c, const char *url, char *const *headers, int body_fd,
                  uint64_t size, callback_done_fn *done, void *data, struct fc_error **err)
{
	int r = curl_load(err);
	if (r >= 0 && !callback_url_valid(url))
		r = fc_error_set(err, EINVAL, "callback URL `%s`: expected http:// or https://",
		                 url);
	if (r >= 0 && !c->multi) {
		c->multi = cl.p_curl_multi_init();
		if (!c->multi) {
			r = fc_error_set(err, ENOMEM, "callbacks: curl_multi_init");
		} else {
			cl.p_curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
			cl.p_curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
			cl.p_curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
			cl.p_curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
			loop_hook(c->l, before, after, c);
		}
	}
	if (r < 0) {
		if (body_fd >= 0)
			close(body_fd);
		return r;
	}
	struct post *p = fc_calloc(1, sizeof(*p));
	p->c = c;
	p->fd = body_fd;
	p->left = body_fd >= 0 ? size : 0;
	p->done = done;
	p->data = data;
	p->easy = cl.p_curl_easy_init();
	for (size_t i = 0; headers && headers[i]; i++)
		p->hdrs = cl.p_curl_slist_append(p->hdrs, headers[i]);
	/* no "Expect: 100-continue" wait, as Go's client does not */
	p->hdrs = cl.p_curl_slist_append(p->hdrs, "Expect:");
	CURL *e = p->easy;
	cl.p_curl_easy_setopt(e, CURLOPT_URL, url);
	cl.p_curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	cl.p_curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	cl.p_curl_easy_setopt(e, CURLOPT_POST, 1L);
	cl.p_curl_easy_setopt(e, CURLOPT_HTTPHEADER, p->hdrs);
	cl.p_curl_easy_setopt(e, CURLOPT_READFUNCTION, read_cb);
	cl.p_curl_easy_setopt(e, CURLOPT_READDATA, p);
	cl.p_curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)p->left);
	cl.p_curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard_cb);
	cl.p_curl_easy_setopt(e, CURLOPT_TIMEOUT, (long)POST_TIMEOUT_S);
	cl.p_curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 10L);
	cl.p_curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	/* a callback is rare: its connection is not kept */
	cl.p_curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
	cl.p_curl_easy_setopt(e, CURLOPT_ERRORBUFFER, p->errbuf);
	cl.p_curl_easy_setopt(e, CURLOPT_PRIVATE, p);
	cl.p_curl_easy_setopt(e, CURLOPT_USERAGENT, "fcstart/async");
	p->next = c->posts;
	c->posts = p;
	cl.p_curl_multi_add_handle(c->multi, e);
	return 0;
}
