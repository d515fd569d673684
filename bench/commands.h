/* SPDX-License-Identifier: MIT */
/* commands.h: the verbs of the `fcstart` CLI, one file each (cmd-image.c,
 * cmd-bench.c, cmd-serve.c, ...). Each takes argv starting at its verb and
 * returns the process exit status. */
#ifndef FCSTART_COMMANDS_H
#define FCSTART_COMMANDS_H

int cmd_image(int argc, char **argv);  /* fcstart image import|ls|inspect|rm|gc|bundle|unmount */
int cmd_bench(int argc, char **argv);  /* fcstart bench runtime|coldstart|... */
int cmd_serve(int argc, char **argv);  /* fcstart serve */
int cmd_fn(int argc, char **argv);     /* fcstart fn deploy|ls|rm|scale */
int cmd_invoke(int argc, char **argv); /* fcstart invoke */
int cmd_stats(int argc, char **argv);  /* fcstart stats */

#endif
