/* SPDX-License-Identifier: MIT */
/* bench-pull.h: `fcstart bench pull` (bench-pull.c). */
#ifndef FCSTART_BENCH_PULL_H
#define FCSTART_BENCH_PULL_H

int bench_pull_cmd(int argc, char **argv);

#endif
