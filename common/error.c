/* SPDX-License-Identifier: MIT */
/* error.c: fc_error, memory helpers, string vectors, growing buffers. */
#include "fc-util.h"

#include <signal.h>
#include <sys/wait.h>

static void oom(void)
{
	static const char m[] = "fcstart: out of memory\n";
	(void)!write(2, m, sizeof(m) - 1);
	abort();
}

void *fc_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *fc_calloc(size_t n, size_t m)
{
	void *p = calloc(n ? n : 1, m ? m : 1);
	if (!p)
		oom();
	return p;
}

void *fc_realloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

char *fc_strdup(const char *s)
{
	char *r;
	if (!s)
		return NULL;
	r = strdup(s);
	if (!r)
		oom();
	return r;
}

char *fc_strndup(const char *s, size_t n)
{
	char *r = strndup(s, n);
	if (!r)
		oom();
	return r;
}

static char *vasprintf_or_die(const char *fmt, va_list ap)
{
	char *r;
	if (vasprintf(&r, fmt, ap) < 0)
		oom();
	return r;
}

char *fc_asprintf(const char *fmt, ...)
{
	va_list ap;
	char *r;
	va_start(ap, fmt);
	r = vasprintf_or_die(fmt, ap);
	va_end(ap);
	return r;
}

void fc_strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

size_t fc_strv_len(char *const *v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

int fc_error_set(struct fc_error **err, int errnum, const char *fmt, ...)
{
	va_list ap;
	char *m;
	if (errnum < 0)
		errnum = -errnum;
	if (!err || *err)
		return errnum ? -errnum : -EINVAL;
	va_start(ap, fmt);
	m = vasprintf_or_die(fmt, ap);
	va_end(ap);
	*err = fc_calloc(1, sizeof(**err));
	(*err)->errnum = errnum;
	if (errnum) {
		(*err)->msg = fc_asprintf("%s: %s", m, strerror(errnum));
		free(m);
	} else {
		(*err)->msg = m;
	}
	return errnum ? -errnum : -EINVAL;
}

int fc_error_relay(struct fc_error **err, int errnum, const char *fmt, ...)
{
	va_list ap;
	if (errnum < 0)
		errnum = -errnum;
	if (!err || *err)
		return errnum ? -errnum : -EINVAL;
	*err = fc_calloc(1, sizeof(**err));
	va_start(ap, fmt);
	(*err)->msg = vasprintf_or_die(fmt, ap);
	va_end(ap);
	(*err)->errnum = errnum;
	return errnum ? -errnum : -EINVAL;
}

int fc_error_wrap(struct fc_error **err, const char *fmt, ...)
{
	va_list ap;
	char *ctx, *m;
	if (!err || !*err)
		return -EIO;
	va_start(ap, fmt);
	ctx = vasprintf_or_die(fmt, ap);
	va_end(ap);
	m = fc_asprintf("%s: %s", ctx, (*err)->msg);
	free(ctx);
	free((*err)->msg);
	(*err)->msg = m;
	return fc_error_code(*err);
}

void fc_error_free(struct fc_error *e)
{
	if (!e)
		return;
	free(e->msg);
	free(e);
}

void fc_pid_killp(pid_t *pid)
{
	if (*pid > 0) {
		int saved = errno;
		kill(*pid, SIGKILL);
		while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR)
			;
		errno = saved;
	}
}

void fc_buf_append(struct fc_buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t c = b->cap ? b->cap * 2 : 256;
		while (c < b->len + n + 1)
			c *= 2;
		b->data = fc_realloc(b->data, c);
		b->cap = c;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void fc_buf_printf(struct fc_buf *b, const char *fmt, ...)
{
	va_list ap;
	char *m;
	va_start(ap, fmt);
	m = vasprintf_or_die(fmt, ap);
	va_end(ap);
	fc_buf_append(b, m, strlen(m));
	free(m);
}

void fc_buf_json_string(struct fc_buf *b, const char *s)
{
	fc_buf_append(b, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
		char esc[8];
		switch (*p) {
		case '"':
			fc_buf_append(b, "\\\"", 2);
			break;
		case '\\':
			fc_buf_append(b, "\\\\", 2);
			break;
		case '\n':
			fc_buf_append(b, "\\n", 2);
			break;
		case '\r':
			fc_buf_append(b, "\\r", 2);
			break;
		case '\t':
			fc_buf_append(b, "\\t", 2);
			break;
		default:
			if (*p < 0x20) {
				snprintf(esc, sizeof(esc), "\\u%04x", *p);
				fc_buf_append(b, esc, 6);
			} else {
				fc_buf_append(b, (const char *)p, 1);
			}
		}
	}
	fc_buf_append(b, "\"", 1);
}
