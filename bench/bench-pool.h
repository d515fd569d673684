/* SPDX-License-Identifier: MIT */
/* bench-pool.h: `fcstart bench pool` (bench-pool.c). */
#ifndef FCSTART_BENCH_POOL_H
#define FCSTART_BENCH_POOL_H

int bench_pool_cmd(int argc, char **argv);

#endif
