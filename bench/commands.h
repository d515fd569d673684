/* SPDX-License-Identifier: MIT */
/* commands.h: the verbs of the `fcstart` CLI that bench/ holds, one file each
 * (cmd-image.c, cmd-bench.c; `serve`, `fn`, `invoke` and `stats` are
 * prewarm/'s, declared in fcpool-cmd.h). Each takes argv starting at its verb
 * and returns the process exit status. */
#ifndef FCSTART_COMMANDS_H
#define FCSTART_COMMANDS_H

int cmd_image(int argc, char **argv); /* fcstart image import|ls|inspect|rm|gc|bundle|unmount */
int cmd_bench(int argc, char **argv); /* fcstart bench runtime|coldstart|... */

#endif
