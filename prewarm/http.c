/* SPDX-License-Identifier: MIT */
/* http.c: HTTP-mode functions and the OpenFaaS-compatible gateway. */
#include "daemon.h"

void http_dispatch(struct function *f, struct sandbox *s, struct conn *c)
{
	(void)s;
	conn_error(c, ENOTSUP, "function `%s`: http mode is not implemented yet", f->spec.name);
	conn_finish(c);
}
void http_on_netsock(const struct fs_msg *m, int fd)
{
	(void)m;
	if (fd >= 0)
		close(fd);
}
void http_on_created(struct function *f, struct sandbox *s) { (void)f; (void)s; }
void http_on_exit(struct conn *c) { conn_finish(c); }
void http_reap_idle(struct function *f, uint64_t now) { (void)f; (void)now; }
int http_gateway_start(const char *addr, struct fc_error **err)
{
	return fc_error_set(err, ENOTSUP, "HTTP gateway `%s` is not implemented yet", addr);
}
void http_gateway_stop(void) {}
void http_poll_gateway(void) {}
