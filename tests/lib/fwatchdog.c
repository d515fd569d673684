/* SPDX-License-Identifier: MIT */
/* fwatchdog.c: a small stand-in for OpenFaaS's watchdogs, which are Go
 * binaries and no Debian package, so that the tests and the benchmark can
 * build OpenFaaS-style function images offline. Linked statically; it
 * behaves as the watchdogs do where fcstart meets them:
 *
 *   mode unset ("classic"): OpenFaaS's classic watchdog. Each request forks
 *     fprocess (split on spaces, no shell), the body on its stdin (streamed),
 *     the request as Http_* variables (Http_Method, Http_Path, Http_Query,
 *     Http_ContentLength, a variable per header); its stdout is the answer:
 *     200 with X-Duration-Seconds when it exits 0, 500 "exit status N" when
 *     it fails, 408 "Killed process." when exec_timeout ends it. It logs
 *     "Forking fprocess." and "Wrote N Bytes - Duration: Ds".
 *   mode=http: of-watchdog's HTTP mode: fprocess is started once, an HTTP
 *     server on upstream_url (http://127.0.0.1:8082), and each request is
 *     relayed to it, with X-Duration-Seconds; 504 when exec_timeout passes.
 *   fwatchdog serve (or mode=serve): an HTTP function itself (what the
 *     upstream of mode=http is): it answers each request with what it got
 *     (method, path, query, headers, the body's length); ?echo=1 sends the
 *     body back, ?sleep=S waits S seconds first, ?status=N answers N,
 *     ?header=K:V adds a header, ?redirect=URL answers 302 with Location
 *     (so does every request when $destination is set, as OpenFaaS's
 *     redirector sample function does).
 *
 * Both watchdogs listen on $port (8080), serve GET /_/health (503 until
 * ready: the lock file /tmp/.lock written, and in http mode the upstream
 * accepting; then 200), keep connections alive (HTTP/1.1), read bodies with
 * Content-Length or chunked, and honour read_timeout and write_timeout
 * ("10s", "1m30s" or seconds) on their connections. $port is where they
 * listen ($listen the address, all by default). A thread per connection. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HEAD_MAX 65536
#define MAX_HDRS 100

enum mode { CLASSIC, HTTP, SERVE };

static enum mode mode;
static const char *fprocess;
static int upstream_port = 8082;
static double exec_timeout, read_timeout = 5, write_timeout = 5;
static const char *content_type;
static volatile int ready;
extern char **environ;

/* ---- small things ------------------------------------------------------------ */

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...)
{
	char ts[32], msg[2048];
	time_t t = time(NULL);
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y/%m/%d %H:%M:%S", &tm);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	dprintf(2, "%s %s\n", ts, msg);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* "10s", "1m30s", "500ms", or whole seconds, as the watchdogs read them. */
static double duration(const char *s, double dflt)
{
	if (!s || !*s)
		return dflt;
	char *end;
	double total = 0, v = strtod(s, &end);
	if (!*end)
		return v;
	for (const char *p = s; *p;) {
		v = strtod(p, &end);
		if (end == p)
			return dflt;
		p = end;
		if (!strncmp(p, "ms", 2)) {
			total += v / 1000;
			p += 2;
		} else if (*p == 's') {
			total += v;
			p++;
		} else if (*p == 'm') {
			total += v * 60;
			p++;
		} else if (*p == 'h') {
			total += v * 3600;
			p++;
		} else {
			return dflt;
		}
	}
	return total;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

struct buf {
	char *d;
	size_t len, cap;
};

static void buf_add(struct buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->d = realloc(b->d, b->cap);
		if (!b->d)
			abort();
	}
	memcpy(b->d + b->len, p, n);
	b->len += n;
	b->d[b->len] = 0;
}

static void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf_printf(struct buf *b, const char *fmt, ...)
{
	char tmp[4096];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	buf_add(b, tmp, n < (int)sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* ---- a connection -------------------------------------------------------------- */

struct conn {
	int fd;
	char in[HEAD_MAX];
	size_t off, len; /* unread bytes of in */
};

struct req {
	char head[HEAD_MAX]; /* the head's text, which name and value point into */
	char method[16], target[8192], path[8192], query[8192];
	int minor;
	char *name[MAX_HDRS], *value[MAX_HDRS];
	int n;
	long long clen; /* -1: chunked */
	bool close;
	/* the body as it is read */
	long long left;
	bool chunked_done;
};

static const char *hdr(const struct req *r, const char *name)
{
	for (int i = 0; i < r->n; i++)
		if (!strcasecmp(r->name[i], name))
			return r->value[i];
	return NULL;
}

/* Fill c->in with more bytes; 0 at EOF, -1 on error. */
static ssize_t fill(struct conn *c)
{
	if (c->off && c->off == c->len)
		c->off = c->len = 0;
	if (c->off) {
		memmove(c->in, c->in + c->off, c->len - c->off);
		c->len -= c->off;
		c->off = 0;
	}
	if (c->len == sizeof(c->in))
		return -1;
	ssize_t n;
	do
		n = read(c->fd, c->in + c->len, sizeof(c->in) - c->len);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		c->len += (size_t)n;
	return n;
}

/* The next request's head; 0 at a clean end of the connection. */
static int read_head(struct conn *c, struct req *r)
{
	r->n = 0;
	r->chunked_done = false;
	char *end;
	for (;;) {
		end = memmem(c->in + c->off, c->len - c->off, "\r\n\r\n", 4);
		if (end)
			break;
		ssize_t n = fill(c);
		if (n <= 0)
			return n == 0 && c->len == c->off ? 0 : -1;
	}
	/* a copy: the body is read into c->in over it */
	size_t hl = (size_t)(end - (c->in + c->off));
	memcpy(r->head, c->in + c->off, hl);
	r->head[hl] = 0;
	char *line = r->head, *save = NULL;
	c->off = (size_t)(end + 4 - c->in);
	char *first = strtok_r(line, "\r\n", &save);
	if (!first || sscanf(first, "%15s %8191s HTTP/1.%d", r->method, r->target, &r->minor) != 3)
		return -1;
	char *q = strchr(r->target, '?');
	snprintf(r->path, sizeof(r->path), "%.*s", q ? (int)(q - r->target) : (int)sizeof(r->path),
	         r->target);
	snprintf(r->query, sizeof(r->query), "%s", q ? q + 1 : "");
	for (char *l; (l = strtok_r(NULL, "\r\n", &save)) && r->n < MAX_HDRS;) {
		char *colon = strchr(l, ':');
		if (!colon)
			return -1;
		*colon = 0;
		char *v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		r->name[r->n] = l;
		r->value[r->n++] = v;
	}
	const char *cl = hdr(r, "Content-Length"), *te = hdr(r, "Transfer-Encoding"),
	           *cn = hdr(r, "Connection");
	r->clen = te && strcasestr(te, "chunked") ? -1 : cl ? atoll(cl) : 0;
	r->left = r->clen > 0 ? r->clen : 0;
	r->close = (cn && strcasestr(cn, "close")) || r->minor == 0;
	return 1;
}

/* The next bytes of the request's body: > 0, 0 at its end, -1 on error. */
/* Up to max of the r->left bytes still to come (a body's or a chunk's). */
static ssize_t copy_out(struct conn *c, struct req *r, char *out, size_t max)
{
	if (c->off == c->len && fill(c) <= 0)
		return -1;
	size_t n = c->len - c->off;
	if (n > max)
		n = max;
	if ((long long)n > r->left)
		n = (size_t)r->left;
	memcpy(out, c->in + c->off, n);
	c->off += n;
	r->left -= (long long)n;
	return (ssize_t)n;
}

static ssize_t read_body(struct conn *c, struct req *r, char *out, size_t max)
{
	if (r->clen >= 0)
		return r->left ? copy_out(c, r, out, max) : 0;
	for (;;) {
		if (r->chunked_done)
			return 0;
		if (r->left > 0) {
			ssize_t n = copy_out(c, r, out, max);
			if (n > 0 && !r->left)
				r->left = -2; /* its CRLF */
			return n;
		}
		char *nl;
		while (!(nl = memchr(c->in + c->off, '\n', c->len - c->off)))
			if (fill(c) <= 0)
				return -1;
		char *line = c->in + c->off;
		c->off = (size_t)(nl + 1 - c->in);
		if (r->left == -2) { /* the CRLF after a chunk */
			r->left = 0;
			continue;
		}
		long long size = strtoll(line, NULL, 16);
		if (size < 0)
			return -1;
		if (size == 0) {
			/* trailers, to the empty line */
			for (;;) {
				while (!(nl = memchr(c->in + c->off, '\n', c->len - c->off)))
					if (fill(c) <= 0)
						return -1;
				line = c->in + c->off;
				c->off = (size_t)(nl + 1 - c->in);
				if (line[0] == '\n' || (line[0] == '\r' && line[1] == '\n'))
					break;
			}
			r->chunked_done = true;
			return 0;
		}
		r->left = size;
	}
}

static const char *reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 302:
		return "Found";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 500:
		return "Internal Server Error";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	default:
		return "Status";
	}
}

/* An answer with a known length: the head (with extra, "K: V\r\n" lines)
 * and the body. */
static int respond(struct conn *c, const struct req *r, int status, const char *extra,
                   const char *body, size_t len)
{
	struct buf b = {0};
	buf_printf(&b, "HTTP/1.1 %d %s\r\nContent-Length: %zu\r\n%s%s\r\n", status, reason(status),
	           len, extra ? extra : "", r->close ? "Connection: close\r\n" : "");
	int rc = write_all(c->fd, b.d, b.len);
	if (rc == 0 && len && strcmp(r->method, "HEAD"))
		rc = write_all(c->fd, body, len);
	free(b.d);
	return rc;
}

/* Drop what is left of a body. */
static int drain(struct conn *c, struct req *r)
{
	char tmp[16384];
	ssize_t n;
	while ((n = read_body(c, r, tmp, sizeof(tmp))) > 0)
		;
	return (int)n;
}

/* ---- the classic watchdog -------------------------------------------------------- */

static char **split(const char *s)
{
	char *copy = strdup(s), *save = NULL;
	char **argv = calloc(strlen(s) / 2 + 2, sizeof(char *));
	int n = 0;
	for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save))
		argv[n++] = t;
	return argv;
}

/* Http_* as the classic watchdog sets them (cgi_headers). */
static char **cgi_env(const struct req *r)
{
	size_t n = 0;
	while (environ[n])
		n++;
	char **env = calloc(n + r->n + 12, sizeof(char *));
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		env[k++] = environ[i];
	for (int i = 0; i < r->n; i++) {
		char name[256];
		snprintf(name, sizeof(name), "%s", r->name[i]);
		bool up = true;
		for (char *p = name; *p; p++) {
			*p = up ? (char)toupper((unsigned char)*p)
			        : (char)tolower((unsigned char)*p);
			up = *p == '-';
			if (*p == '-')
				*p = '_';
		}
		if (asprintf(&env[k], "Http_%s=%s", name, r->value[i]) > 0)
			k++;
	}
	long long cl = r->clen;
	if (asprintf(&env[k], "Http_Method=%s", r->method) > 0)
		k++;
	if (asprintf(&env[k], "Http_ContentLength=%lld", cl) > 0)
		k++;
	if (asprintf(&env[k], "Http_Content_Length=%lld", cl) > 0)
		k++;
	if (cl < 0 && asprintf(&env[k], "Http_Transfer_Encoding=chunked") > 0)
		k++;
	if (r->query[0] && asprintf(&env[k], "Http_Query=%s", r->query) > 0)
		k++;
	if (asprintf(&env[k], "Http_Path=%s", r->path) > 0)
		k++;
	const char *host = hdr(r, "Host");
	if (host && asprintf(&env[k], "Http_Host=%s", host) > 0)
		k++;
	return env;
}

static int classic(struct conn *c, struct req *r)
{
	double t0 = now();
	int in[2], out[2];
	if (pipe(in) < 0 || pipe(out) < 0)
		return -1;
	logf_("Forking fprocess.");
	char **argv = split(fprocess), **env = cgi_env(r);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		for (int fd = 3; fd < 1024; fd++)
			close(fd);
		execvpe(argv[0], argv, env);
		dprintf(2, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	free(argv[0]);
	free(argv);
	free(env);
	close(in[0]);
	close(out[1]);
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	struct buf o = {0};
	char chunk[65536];
	size_t pend_off = 0, pend_len = 0;
	bool body_done = false, out_done = false, killed = false;
	int wfd = in[1];
	while (!out_done) {
		if (!body_done && pend_off == pend_len) {
			ssize_t n = read_body(c, r, chunk, sizeof(chunk));
			if (n < 0) {
				kill(pid, SIGKILL);
				waitpid(pid, NULL, 0);
				close(out[0]);
				if (wfd >= 0)
					close(wfd);
				free(o.d);
				return -1;
			}
			if (n == 0) {
				body_done = true;
				close(wfd);
				wfd = -1;
			}
			pend_off = 0;
			pend_len = (size_t)n;
		}
		struct pollfd p[2] = {{.fd = out[0], .events = POLLIN},
		                      {.fd = wfd, .events = POLLOUT}};
		int wait = exec_timeout > 0 ? (int)((t0 + exec_timeout - now()) * 1000) : -1;
		if (exec_timeout > 0 && wait <= 0) {
			logf_("Killing process: %s", fprocess);
			kill(pid, SIGKILL);
			killed = true;
			break;
		}
		if (poll(p, wfd >= 0 && pend_off < pend_len ? 2 : 1, wait) < 0 && errno != EINTR)
			break;
		if (p[0].revents) {
			ssize_t n = read(out[0], chunk + 0, 0);
			(void)n;
			char tmp[65536];
			n = read(out[0], tmp, sizeof(tmp));
			if (n > 0)
				buf_add(&o, tmp, (size_t)n);
			else if (n == 0 || errno != EINTR)
				out_done = true;
		}
		if (wfd >= 0 && pend_off < pend_len && (p[1].revents & (POLLOUT | POLLERR))) {
			ssize_t n = write(wfd, chunk + pend_off, pend_len - pend_off);
			if (n > 0) {
				pend_off += (size_t)n;
			} else if (n < 0 && errno == EPIPE) {
				/* it reads no more: the rest of the body is dropped */
				close(wfd);
				wfd = -1;
				pend_off = pend_len;
			}
		}
		if (wfd < 0 && !body_done && pend_off == pend_len) {
			if (drain(c, r) < 0)
				break;
			body_done = true;
		}
	}
	int st = 0;
	waitpid(pid, &st, 0);
	close(out[0]);
	if (wfd >= 0)
		close(wfd);
	if (!body_done && drain(c, r) < 0)
		r->close = true;
	double d = now() - t0;
	int rc;
	if (killed) {
		rc = respond(c, r, 408, NULL, "Killed process.\n", 16);
	} else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		struct buf b = {0};
		buf_printf(&b, "exit status %d\n",
		           WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
		if (o.len)
			buf_add(&b, o.d, o.len);
		rc = respond(c, r, 500, NULL, b.d, b.len);
		free(b.d);
	} else {
		char extra[512];
		const char *ct = content_type ? content_type : hdr(r, "Content-Type");
		snprintf(extra, sizeof(extra), "X-Duration-Seconds: %f\r\n%s%s%s", d,
		         ct ? "Content-Type: " : "", ct ? ct : "", ct ? "\r\n" : "");
		rc = respond(c, r, 200, extra, o.d ? o.d : "", o.len);
		logf_("Wrote %zu Bytes - Duration: %fs", o.len, d);
	}
	free(o.d);
	return rc;
}

/* ---- of-watchdog's HTTP mode: a relay to the upstream --------------------------------- */

static int upstream_connect(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)upstream_port)};
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
		return fd;
	if (fd >= 0)
		close(fd);
	return -1;
}

static int relay(struct conn *c, struct req *r)
{
	double t0 = now();
	struct buf body = {0}, req = {0};
	char tmp[65536];
	ssize_t n;
	while ((n = read_body(c, r, tmp, sizeof(tmp))) > 0)
		buf_add(&body, tmp, (size_t)n);
	if (n < 0) {
		free(body.d);
		return -1;
	}
	int u = upstream_connect();
	if (u < 0) {
		free(body.d);
		return respond(c, r, 502, "X-OpenFaaS-Internal: of-watchdog\r\n", "", 0);
	}
	if (exec_timeout > 0) {
		struct timeval tv = {
		    .tv_sec = (time_t)exec_timeout,
		    .tv_usec = (suseconds_t)((exec_timeout - (time_t)exec_timeout) * 1e6)};
		setsockopt(u, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	buf_printf(&req, "%s %s HTTP/1.1\r\n", r->method, r->target);
	for (int i = 0; i < r->n; i++)
		if (strcasecmp(r->name[i], "Content-Length") &&
		    strcasecmp(r->name[i], "Transfer-Encoding") &&
		    strcasecmp(r->name[i], "Connection"))
			buf_printf(&req, "%s: %s\r\n", r->name[i], r->value[i]);
	buf_printf(&req, "Content-Length: %zu\r\nConnection: close\r\n\r\n", body.len);
	if (body.len)
		buf_add(&req, body.d, body.len);
	free(body.d);
	struct buf resp = {0};
	if (write_all(u, req.d, req.len) == 0)
		while ((n = read(u, tmp, sizeof(tmp))) > 0)
			buf_add(&resp, tmp, (size_t)n);
	bool timed_out = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
	close(u);
	free(req.d);
	char *end = resp.d ? strstr(resp.d, "\r\n\r\n") : NULL;
	int status = 0;
	if (timed_out || !end || sscanf(resp.d, "HTTP/1.%*d %d", &status) != 1) {
		free(resp.d);
		logf_("Upstream HTTP %s",
		      timed_out ? "killed due to exec_timeout" : "request error");
		return respond(c, r, timed_out ? 504 : 500, "X-OpenFaaS-Internal: of-watchdog\r\n",
		               "", 0);
	}
	/* the upstream's headers but its framing (it closed: the body is the rest) */
	struct buf extra = {0};
	char *save = NULL;
	*end = 0;
	strtok_r(resp.d, "\r\n", &save);
	for (char *l; (l = strtok_r(NULL, "\r\n", &save));)
		if (strncasecmp(l, "Content-Length:", 15) && strncasecmp(l, "Connection:", 11) &&
		    strncasecmp(l, "Transfer-Encoding:", 18))
			buf_printf(&extra, "%s\r\n", l);
	double d = now() - t0;
	buf_printf(&extra, "X-Duration-Seconds: %f\r\n", d);
	size_t blen = resp.len - (size_t)(end + 4 - resp.d);
	int rc = respond(c, r, status, extra.d, end + 4, blen);
	logf_("%s %s - %d - ContentLength: %zuB (%.4fs)", r->method, r->target, status, blen, d);
	free(extra.d);
	free(resp.d);
	return rc;
}

/* ---- the function server (serve) ------------------------------------------------------ */

static const char *arg(const struct req *r, const char *key, char *out, size_t len)
{
	size_t kl = strlen(key);
	for (const char *p = r->query; p && *p;) {
		if (!strncmp(p, key, kl) && p[kl] == '=') {
			size_t n = strcspn(p + kl + 1, "&");
			snprintf(out, len, "%.*s", (int)n, p + kl + 1);
			for (char *s = out; *s; s++)
				if (*s == '+')
					*s = ' ';
			return out;
		}
		p = strchr(p, '&');
		if (p)
			p++;
	}
	return NULL;
}

static int serve(struct conn *c, struct req *r)
{
	char v[1024];
	struct buf body = {0}, out = {0};
	char tmp[65536];
	ssize_t n;
	while ((n = read_body(c, r, tmp, sizeof(tmp))) > 0)
		buf_add(&body, tmp, (size_t)n);
	if (n < 0) {
		free(body.d);
		return -1;
	}
	if (arg(r, "sleep", v, sizeof(v)))
		usleep((useconds_t)(atof(v) * 1e6));
	int status = arg(r, "status", v, sizeof(v)) ? atoi(v) : 200;
	struct buf extra = {0};
	buf_printf(&extra, "Content-Type: text/plain\r\n");
	if (arg(r, "header", v, sizeof(v))) {
		char *colon = strchr(v, ':');
		if (colon) {
			*colon = 0;
			buf_printf(&extra, "%s: %s\r\n", v, colon + 1);
		}
	}
	const char *dest = getenv("destination"); /* as OpenFaaS's redirector sample */
	if (arg(r, "redirect", v, sizeof(v)) || (dest && snprintf(v, sizeof(v), "%s", dest) > 0)) {
		status = 302;
		buf_printf(&extra, "Location: %s\r\n", v);
	}
	if (arg(r, "echo", v, sizeof(v))) {
		buf_add(&out, body.d ? body.d : "", body.len);
	} else {
		buf_printf(&out, "method=%s\npath=%s\nquery=%s\n", r->method, r->path, r->query);
		for (int i = 0; i < r->n; i++)
			buf_printf(&out, "header %s=%s\n", r->name[i], r->value[i]);
		buf_printf(&out, "body-bytes=%zu\n", body.len);
	}
	int rc = respond(c, r, status, extra.d, out.d ? out.d : "", out.len);
	if (getenv("log_requests"))
		logf_("%s %s %d", r->method, r->target, status);
	free(extra.d);
	free(out.d);
	free(body.d);
	return rc;
}

/* ---- the server ------------------------------------------------------------------------ */

static void *conn_main(void *data)
{
	struct conn *c = data;
	struct timeval rt = {.tv_sec = (time_t)read_timeout},
	               wt = {.tv_sec = (time_t)write_timeout};
	if (mode != SERVE) {
		setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &rt, sizeof(rt));
		setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &wt, sizeof(wt));
	}
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	struct req *r = malloc(sizeof(*r));
	for (;;) {
		if (read_head(c, r) <= 0)
			break;
		int rc;
		if (mode != SERVE && !strcmp(r->path, "/_/health")) {
			drain(c, r);
			rc = ready ? respond(c, r, 200, NULL, "OK", 2)
			           : respond(c, r, 503, NULL, "", 0);
		} else if (mode == CLASSIC) {
			rc = classic(c, r);
		} else if (mode == HTTP) {
			rc = relay(c, r);
		} else {
			rc = serve(c, r);
		}
		if (rc < 0 || r->close)
			break;
	}
	free(r);
	close(c->fd);
	free(c);
	return NULL;
}

/* of-watchdog's upstream: fprocess, started once; the watchdog ends with it. */
static void *upstream_main(void *data)
{
	(void)data;
	char **argv = split(fprocess);
	logf_("Forking: %s", argv[0]);
	pid_t pid = fork();
	if (pid == 0) {
		execvp(argv[0], argv);
		dprintf(2, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	for (int i = 0; i < 100000 && !ready; i++) {
		int fd = upstream_connect();
		if (fd >= 0) {
			close(fd);
			ready = 1;
			break;
		}
		usleep(1000);
	}
	int st;
	waitpid(pid, &st, 0);
	logf_("Forked function has terminated");
	exit(1);
}

int main(int argc, char **argv)
{
	const char *m = getenv("mode");
	mode = argc > 1 && !strcmp(argv[1], "serve") ? SERVE
	       : m && !strcmp(m, "http")             ? HTTP
	       : m && !strcmp(m, "serve")            ? SERVE
	                                             : CLASSIC;
	fprocess = getenv("fprocess");
	if (mode != SERVE && (!fprocess || !*fprocess)) {
		logf_("Provide a valid process via fprocess environmental variable.");
		return 1;
	}
	exec_timeout = duration(getenv("exec_timeout"), mode == HTTP ? 10 : 0);
	read_timeout = duration(getenv("read_timeout"), mode == HTTP ? 10 : 5);
	write_timeout = duration(getenv("write_timeout"), mode == HTTP ? 10 : 5);
	content_type = getenv("content_type");
	const char *up =
	    getenv("upstream_url") ? getenv("upstream_url") : getenv("http_upstream_url");
	if (up && strrchr(up, ':'))
		upstream_port = atoi(strrchr(up, ':') + 1);
	int port = getenv("port") ? atoi(getenv("port")) : mode == SERVE ? upstream_port : 8080;
	if (argc > 2 && mode == SERVE)
		port = atoi(argv[2]);
	signal(SIGPIPE, SIG_IGN);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	/* $listen: an address to listen on (the benchmark's container on the
	 * host's network: 127.0.0.1); all of them by default */
	if (getenv("listen") && inet_pton(AF_INET, getenv("listen"), &a.sin_addr) != 1) {
		logf_("listen `%s`: not an IPv4 address", getenv("listen"));
		return 1;
	}
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 1024) < 0) {
		logf_("listen on %d: %s", port, strerror(errno));
		return 1;
	}
	if (mode != SERVE)
		logf_("Timeouts: read: %gs write: %gs hard: %gs.", read_timeout, write_timeout,
		      exec_timeout);
	logf_("Listening on port: %d", port);
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&at, 256 << 10);
	if (mode == HTTP) {
		pthread_t t;
		pthread_create(&t, &at, upstream_main, NULL);
	}
	if (mode != SERVE) {
		/* the lock file: healthy from here on (http mode: once the upstream accepts) */
		int fd = open("/tmp/.lock", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0660);
		if (fd < 0) {
			logf_("Cannot write /tmp/.lock: %s", strerror(errno));
			return 1;
		}
		close(fd);
		logf_("Writing lock-file to: /tmp/.lock");
		if (mode == CLASSIC)
			ready = 1;
	}
	for (;;) {
		int fd = accept4(s, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE)
				continue;
			break;
		}
		struct conn *c = calloc(1, sizeof(*c));
		c->fd = fd;
		pthread_t t;
		if (pthread_create(&t, &at, conn_main, c) != 0) {
			close(fd);
			free(c);
		}
	}
	return 1;
}
