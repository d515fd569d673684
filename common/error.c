/* SPDX-License-Identifier: MIT */
/* error.c: struct fc_error, an errno and a message that gains context as it
 * travels up. */
#include "fc-util.h"

int fc_error_set(struct fc_error **err, int errnum, const char *fmt, ...)
{
	va_list ap;
	char *m;
	if (errnum < 0)
		errnum = -errnum;
	if (!err || *err)
		return errnum ? -errnum : -EINVAL;
	va_start(ap, fmt);
	m = fc_vasprintf(fmt, ap);
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
	(*err)->msg = fc_vasprintf(fmt, ap);
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
	ctx = fc_vasprintf(fmt, ap);
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

int fc_error_code(const struct fc_error *e)
{
	return e && e->errnum ? -e->errnum : -EIO;
}

void fc_error_freep(struct fc_error **e)
{
	fc_error_free(*e);
}
