/* SPDX-License-Identifier: MIT */
/* cli.h (private): fcrun's flag parsing and per-verb entry points.
 * Flags are accepted as --name, -name, --name=value, --name value (as runc's
 * CLI library does), before or after positional arguments; `--` ends flags.
 * Verbs that take a command line (exec) stop at the first positional. */
#ifndef FCRUN_CLI_H
#define FCRUN_CLI_H

#include "fcrt.h"

enum fc_opt_type { FC_OPT_BOOL, FC_OPT_STR, FC_OPT_INT, FC_OPT_STRV };

struct fc_opt {
	const char *name; /* long name without dashes */
	char short_name;  /* 0 = none */
	enum fc_opt_type type;
	void *ptr; /* bool*, const char**, int*, char*** (appended) */
	const char *help;
};

struct fc_cli {
	const char *root;
	const char *log;
	const char *log_format;
	bool debug;
	bool systemd_cgroup;
	const char *rootless;
	uint64_t t0; /* when main began (the --debug profile counts from it) */
};

/* Parse argv[1..] (argv[0] is the verb). Positional arguments are returned
 * in *pos (NULL-terminated, pointing into argv). Prints nothing; errors name
 * the flag. "--help" sets *help. */
int fc_cli_parse(int argc, char **argv, const struct fc_opt *opts, bool stop_at_positional,
                 char ***pos, size_t *npos, bool *help, struct fc_error **err);
void fc_cli_usage(FILE *f, const char *usage, const char *desc, const struct fc_opt *opts);
/* The running verb's one-line summary (main.c's table), for its --help. */
extern const char *fc_cli_summary;

/* Report an error as runc does (log line, stderr), return exit status 1. */
int fc_cli_fail(struct fc_error *e);
int fc_cli_failf(const char *fmt, ...) FC_PRINTF(1, 2);
/* Parse a verb's flags, handle --help (prints usage, *done = 0 returned
 * through *rc) and require at least min_pos positional arguments. Returns
 * true when the verb should go on; otherwise *rc is the exit status. */
bool fc_cli_verb(int argc, char **argv, const struct fc_opt *opts, bool stop_at_positional,
                 size_t min_pos, const char *usage, const char *desc, char ***pos, size_t *npos,
                 int *rc);

/* sd_notify proxying (notify.c), as runc does it with NOTIFY_SOCKET set. */
struct fc_notify {
	int fd;           /* <state>/notify/notify.sock, -1 when none */
	const char *host; /* the host's NOTIFY_SOCKET */
};
/* NOTIFY_SOCKET from our environment, NULL when unset or empty. */
const char *fc_notify_host(void);
/* Listen on the container's notify socket (when NOTIFY_SOCKET is set);
 * returns an exit status >0 after printing the error, else 0. */
int fc_notify_listen(const char *root, const char *id, struct fc_notify *n);
/* Read what came; on READY=... pass it and MAINPID=mainpid to the host,
 * close, return true. */
bool fc_notify_read(struct fc_notify *n, pid_t mainpid);
/* Wait for READY (passed on) or for pidfd (the init) to end. */
void fc_notify_wait(struct fc_notify *n, int pidfd, pid_t mainpid);
void fc_notify_close(struct fc_notify *n);

/* Foreground wait (cli-wait.c): forward signals to pid and reap children
 * until pid exits; master >= 0: proxy stdin/stdout to that pty master;
 * notify (may be NULL): pass the container's READY on, with our own pid as
 * MAINPID (we stay in the foreground). Returns the exit status (128+signal
 * when killed). */
int fc_cli_wait(pid_t pid, int pidfd, int master, struct fc_notify *notify);

int cmd_create(struct fc_cli *g, int argc, char **argv);
int cmd_start(struct fc_cli *g, int argc, char **argv);
int cmd_run(struct fc_cli *g, int argc, char **argv);
int cmd_state(struct fc_cli *g, int argc, char **argv);
int cmd_list(struct fc_cli *g, int argc, char **argv);
int cmd_kill(struct fc_cli *g, int argc, char **argv);
int cmd_delete(struct fc_cli *g, int argc, char **argv);
int cmd_spec(struct fc_cli *g, int argc, char **argv);
int cmd_exec(struct fc_cli *g, int argc, char **argv);
int cmd_ps(struct fc_cli *g, int argc, char **argv);
int cmd_pause(struct fc_cli *g, int argc, char **argv);
int cmd_resume(struct fc_cli *g, int argc, char **argv);
int cmd_update(struct fc_cli *g, int argc, char **argv);
int cmd_events(struct fc_cli *g, int argc, char **argv);
int cmd_features(struct fc_cli *g, int argc, char **argv);

#endif
