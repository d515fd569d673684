/* SPDX-License-Identifier: MIT */
/* bench-functions.h: `fcstart bench functions` (bench-functions.c). */
#ifndef FCSTART_BENCH_FUNCTIONS_H
#define FCSTART_BENCH_FUNCTIONS_H

int bench_functions_cmd(int argc, char **argv);

#endif
