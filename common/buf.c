/* SPDX-License-Identifier: MIT */
/* buf.c: struct fc_buf, a growing NUL-terminated buffer, and JSON string
 * escaping into it. */
#include "fc-util.h"

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
	m = fc_vasprintf(fmt, ap);
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
