/* SPDX-License-Identifier: MIT */
/* fc-util.h: the small shared toolbox of every fcstart library (libfccommon),
 * one header over files split by topic: errors that gain context as they
 * travel up (error.c), memory and strings (memory.c), cleanup attributes,
 * growing buffers (buf.c), logging (log.c), time (time.c), files (fileio.c),
 * signals (signal.c), JSON nesting (json.c).
 * Library code returns >= 0 or -errno and fills a struct fc_error; only main()
 * and daemon loops print (through fc_log). Out of memory aborts. */
#ifndef FC_UTIL_H
#define FC_UTIL_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#define FC_PRINTF(a, b)  __attribute__((format(printf, a, b)))
#define FC_UNUSED        __attribute__((unused))
#define FC_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define FC_STREQ(a, b)   (strcmp((a), (b)) == 0)

/* ---- errors (error.c) -------------------------------------------------- */

struct fc_error {
	int errnum; /* positive errno, 0 when none applies */
	char *msg;  /* "create container: mount `/proc`: Operation not permitted" */
};

/* Set *err (if err != NULL and *err is NULL) and return -errnum (or -EINVAL
 * when errnum is 0). The errno text is appended when errnum != 0. */
int fc_error_set(struct fc_error **err, int errnum, const char *fmt, ...) FC_PRINTF(3, 4);
/* Set *err to a message that already carries its errno text (relayed from
 * another process), keeping errnum for the return value. */
int fc_error_relay(struct fc_error **err, int errnum, const char *fmt, ...) FC_PRINTF(3, 4);
/* Prefix context: "ctx: old message". Returns -errnum of the error (or -EIO). */
int fc_error_wrap(struct fc_error **err, const char *fmt, ...) FC_PRINTF(2, 3);
void fc_error_free(struct fc_error *e);
/* The negative return value that matches an error, -EIO if none. */
int fc_error_code(const struct fc_error *e);

/* A key and its value (annotations, sysctl-like maps). */
struct fc_kv {
	char *key, *value;
};

/* ---- memory (memory.c) ------------------------------------------------ */

void *fc_malloc(size_t n);
void *fc_calloc(size_t n, size_t m);
void *fc_realloc(void *p, size_t n);
char *fc_strdup(const char *s);
char *fc_strndup(const char *s, size_t n);
char *fc_asprintf(const char *fmt, ...) FC_PRINTF(1, 2);
char *fc_vasprintf(const char *fmt, va_list ap) FC_PRINTF(1, 0);
void fc_strv_free(char **v);
size_t fc_strv_len(char *const *v);

/* ---- cleanup ---------------------------------------------------------- */

static inline void fc_freep(void *p)
{
	free(*(void **)p);
}
static inline void fc_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd); /* no retry on EINTR: the descriptor is gone either way */
}
static inline void fc_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}
static inline void fc_strv_freep(char ***v)
{
	fc_strv_free(*v);
}
/* (error.c) */
void fc_error_freep(struct fc_error **e);
/* A child pid that is killed (SIGKILL) and reaped when it goes out of scope
 * (signal.c). */
void fc_pid_killp(pid_t *pid);

#define _cleanup_(f)     __attribute__((cleanup(f)))
#define _cleanup_free_   _cleanup_(fc_freep)
#define _cleanup_close_  _cleanup_(fc_closep)
#define _cleanup_fclose_ _cleanup_(fc_fclosep)
#define _cleanup_strv_   _cleanup_(fc_strv_freep)
#define _cleanup_error_  _cleanup_(fc_error_freep)
#define _cleanup_pid_    _cleanup_(fc_pid_killp)

#define TAKE_PTR(p)                                                                                \
	({                                                                                         \
		__typeof__(p) _tp_ = (p);                                                          \
		(p) = NULL;                                                                        \
		_tp_;                                                                              \
	})
#define TAKE_FD(fd)                                                                                \
	({                                                                                         \
		int _tf_ = (fd);                                                                   \
		(fd) = -1;                                                                         \
		_tf_;                                                                              \
	})

/* ---- logging (log.c) -------------------------------------------------- */

enum fc_log_level { FC_LOG_ERROR = 0, FC_LOG_WARN, FC_LOG_INFO, FC_LOG_DEBUG };
enum fc_log_format { FC_LOG_TEXT = 0, FC_LOG_JSON };

/* Where fc_log writes: path NULL means stderr. In JSON format each line is
 * {"level":"error","msg":"...","time":"2026-11-27T10:00:00.000000000Z"} as runc
 * writes it (containerd reads the last line on failure). */
int fc_log_open(const char *path, enum fc_log_format format, enum fc_log_level level);
void fc_log_close(void);
void fc_log(enum fc_log_level level, const char *fmt, ...) FC_PRINTF(2, 3);
/* Also print the message to stderr even when the log goes to a file (errors
 * that the user of a terminal must see). */
void fc_log_also_stderr(bool on);
/* The program name in text lines ("fcrun"). */
void fc_log_set_prog(const char *prog);
/* Text lines as runc (logrus) writes them: time="2026-11-27T10:00:00Z"
 * level=debug msg="..." for every level but errors on stderr, which stay
 * "prog: message" (runc prints them bare when it logs to a file). */
void fc_log_set_logrus_text(bool on);
enum fc_log_level fc_log_level(void);

/* ---- files (fileio.c) ------------------------------------------------- */

/* Read a whole file (at most max bytes, 0 = 64 MiB) into a NUL-terminated
 * buffer. dirfd may be AT_FDCWD. */
int fc_read_file_at(int dirfd, const char *path, char **out, size_t *len, size_t max,
                    struct fc_error **err);
/* Write data to path through "path.tmp-PID" + fsync-less rename (atomic for
 * readers). mode is the file mode. */
int fc_write_file_atomic_at(int dirfd, const char *path, const void *data, size_t len, mode_t mode,
                            struct fc_error **err);
/* Write a string to an existing file (sysfs, cgroupfs, /proc). */
int fc_write_string_at(int dirfd, const char *path, const char *s, struct fc_error **err);
/* mkdir -p relative to dirfd; existing directories are fine. */
int fc_mkdir_p_at(int dirfd, const char *path, mode_t mode, struct fc_error **err);
/* rm -rf relative to dirfd, not crossing mount points. */
int fc_rm_rf_at(int dirfd, const char *path, struct fc_error **err);
/* write/read all bytes, retrying on EINTR and short counts; -errno on failure. */
int fc_write_all(int fd, const void *buf, size_t len);
ssize_t fc_read_all(int fd, void *buf, size_t len);

/* ---- time (time.c) ---------------------------------------------------- */

/* Monotonic clock in nanoseconds. */
uint64_t fc_now_ns(void);
/* RFC 3339 UTC time with nanoseconds, in buf (>= 40 bytes). */
void fc_rfc3339_now(char *buf, size_t len);

/* ---- signals (signal.c) ------------------------------------------------ */

/* Parse a signal given as "KILL", "SIGKILL", "9" (also "SIGRTMIN+3"). -EINVAL if bad. */
int fc_parse_signal(const char *s);
/* Name ("SIGKILL") of a signal number, NULL when unknown. */
const char *fc_signal_name(int sig);

/* ---- growing buffers (buf.c) ------------------------------------------- */

struct fc_buf {
	char *data;
	size_t len, cap;
};
void fc_buf_append(struct fc_buf *b, const char *s, size_t n);
void fc_buf_printf(struct fc_buf *b, const char *fmt, ...) FC_PRINTF(2, 3);
/* Append a JSON-escaped copy of s (with the quotes). */
void fc_buf_json_string(struct fc_buf *b, const char *s);
static inline void fc_buf_freep(struct fc_buf *b)
{
	free(b->data);
}
#define _cleanup_buf_ _cleanup_(fc_buf_freep)

/* ---- JSON (json.c) ----------------------------------------------------- */

/* The deepest nesting of arrays and objects any reader of the project accepts. */
#define FC_JSON_MAX_DEPTH 1000
/* 0 when json[0..len) nests arrays and objects at most max_depth deep, else
 * -E2BIG with "WHAT: exceeded max depth ...". Every JSON reader calls it
 * before parsing: yajl's trees, and code that walks them, recurse per level. */
int fc_json_check_depth(const char *json, size_t len, unsigned max_depth, const char *what,
                        struct fc_error **err);

#endif
