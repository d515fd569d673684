/* SPDX-License-Identifier: MIT */
/* fcpool-cmd.h: the `fcstart serve`, `fn`, `invoke`, `stats` and `logs`
 * verbs (cmd-serve.c, cmd-fn.c, cmd-invoke.c, cmd-stats.c, cmd-logs.c, built
 * into the fcstart binary from bench/). Each takes argv starting at its verb and returns the
 * process exit status. */
#ifndef FCPOOL_CMD_H
#define FCPOOL_CMD_H

int cmd_serve(int argc, char **argv);  /* fcstart serve */
int cmd_fn(int argc, char **argv);     /* fcstart fn deploy|ls|rm|scale */
int cmd_invoke(int argc, char **argv); /* fcstart invoke */
int cmd_stats(int argc, char **argv);  /* fcstart stats */
int cmd_logs(int argc, char **argv);   /* fcstart logs */

#endif
