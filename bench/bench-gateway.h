/* SPDX-License-Identifier: MIT */
/* bench-gateway.h: `fcstart bench gateway` (bench-gateway.c). */
#ifndef FCSTART_BENCH_GATEWAY_H
#define FCSTART_BENCH_GATEWAY_H

int bench_gateway_cmd(int argc, char **argv);

#endif
