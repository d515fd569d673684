/* SPDX-License-Identifier: MIT */
/* bench-pool.h: `fcstart bench pool` (bench-pool.c). */
#ifndef FCSTART_BENCH_POOL_H
#define FCSTART_BENCH_POOL_H

int bench_pool_cmd(int argc, char **argv);
/* After a classic invocation on the API connection fd: read the daemon's
 * replies up to the "exit" event (or an error) and return the function's exit
 * status, -1 when none came. */
int bench_pool_exit_status(int fd);

#endif
