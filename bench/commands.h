/* SPDX-License-Identifier: MIT */
/* commands.h: the verbs of the `fcstart` CLI that bench/ holds (cmd-bench.c;
 * `image` is snapshot/'s, declared in fcsnap-cmd.h; `serve`, `fn`, `invoke`
 * and `stats` are prewarm/'s, declared in fcpool-cmd.h). Each takes argv
 * starting at its verb and returns the process exit status. */
#ifndef FCSTART_COMMANDS_H
#define FCSTART_COMMANDS_H

int cmd_bench(int argc, char **argv); /* fcstart bench runtime|coldstart|... */

#endif
