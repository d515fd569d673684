/* SPDX-License-Identifier: MIT */
/* log.c: fc_log(), text to stderr or runc-style JSON lines to a file. */
#include "fc-util.h"

#include <fcntl.h>
#include <time.h>

static int log_fd = 2;
static bool log_owned;
static bool log_also_stderr;
static enum fc_log_format log_format = FC_LOG_TEXT;
static enum fc_log_level log_level = FC_LOG_INFO;
static const char *log_prog = "fcstart";
static bool log_logrus;

static const char *const level_names[] = {"error", "warning", "info", "debug"};

int fc_log_open(const char *path, enum fc_log_format format, enum fc_log_level level)
{
	log_format = format;
	log_level = level;
	if (!path)
		return 0;
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (log_owned)
		close(log_fd);
	log_fd = fd;
	log_owned = true;
	return 0;
}

void fc_log_close(void)
{
	if (log_owned)
		close(log_fd);
	log_fd = 2;
	log_owned = false;
}

void fc_log_also_stderr(bool on)
{
	log_also_stderr = on;
}
void fc_log_set_prog(const char *prog)
{
	log_prog = prog;
}
void fc_log_set_logrus_text(bool on)
{
	log_logrus = on;
}

/* msg="..." as logrus quotes it (Go's %q, printable bytes kept). */
static void logrus_line(struct fc_buf *b, enum fc_log_level level, const char *msg)
{
	char ts[32];
	struct timespec now;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fc_buf_printf(b, "time=\"%s\" level=%s msg=\"", ts, level_names[level]);
	for (const unsigned char *c = (const unsigned char *)msg; *c; c++) {
		if (*c == '"' || *c == '\\')
			fc_buf_printf(b, "\\%c", *c);
		else if (*c == '\n')
			fc_buf_append(b, "\\n", 2);
		else if (*c == '\t')
			fc_buf_append(b, "\\t", 2);
		else if (*c == '\r')
			fc_buf_append(b, "\\r", 2);
		else if (*c < 0x20 || *c == 0x7f)
			fc_buf_printf(b, "\\x%02x", *c);
		else
			fc_buf_append(b, (const char *)c, 1);
	}
	fc_buf_append(b, "\"\n", 2);
}
enum fc_log_level fc_log_level(void)
{
	return log_level;
}

void fc_log(enum fc_log_level level, const char *fmt, ...)
{
	if (level > log_level)
		return;
	int saved = errno;
	va_list ap;
	char *msg;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (!msg)
		return;
	if (log_format == FC_LOG_JSON) {
		_cleanup_buf_ struct fc_buf b = {0};
		char ts[48];
		fc_rfc3339_now(ts, sizeof(ts));
		fc_buf_printf(&b, "{\"level\":\"%s\",\"msg\":", level_names[level]);
		fc_buf_json_string(&b, msg);
		fc_buf_printf(&b, ",\"time\":\"%s\"}\n", ts);
		(void)fc_write_all(log_fd, b.data, b.len);
	} else if (log_logrus && (level != FC_LOG_ERROR || log_fd != 2)) {
		_cleanup_buf_ struct fc_buf b = {0};
		logrus_line(&b, level, msg);
		(void)fc_write_all(log_fd, b.data, b.len);
	} else {
		_cleanup_free_ char *line = fc_asprintf("%s: %s\n", log_prog, msg);
		(void)fc_write_all(log_fd, line, strlen(line));
	}
	if (log_also_stderr && log_fd != 2 && level == FC_LOG_ERROR) {
		_cleanup_free_ char *line = fc_asprintf("%s: %s\n", log_prog, msg);
		(void)fc_write_all(2, line, strlen(line));
	}
	free(msg);
	errno = saved;
}
