/* SPDX-License-Identifier: MIT */
/* cmd-bench.c: `fcstart bench SUBCOMMAND`: runtime (bench-runtime.c), pool
 * (bench-pool.c), coldstart (bench-coldstart.c), pull (bench-pull.c), gateway
 * (bench-gateway.c), functions (bench-functions.c). */
#include "bench-coldstart.h"
#include "bench-functions.h"
#include "bench-gateway.h"
#include "bench-pool.h"
#include "bench-pull.h"
#include "bench-runtime.h"
#include "commands.h"

int cmd_bench(int argc, char **argv)
{
	if (argc < 2 || FC_STREQ(argv[1], "--help") || FC_STREQ(argv[1], "-h")) {
		FILE *f = argc < 2 ? stderr : stdout;
		fprintf(
		    f,
		    "usage: fcstart bench SUBCOMMAND [OPTIONS]\n\n"
		    "Subcommands:\n"
		    "  runtime   cold starts of OCI runtimes side by side (fcrun, crun, runc)\n"
		    "  pool      pre-warmed pool hand-over vs on-demand vs OCI runtimes\n"
		    "  coldstart cold starts of an image across storage tiers and start paths\n"
		    "  pull      uncached cold starts from a registry behind a shaped link\n"
		    "  gateway   an HTTP function behind the OpenFaaS gateway, nginx and Docker\n"
		    "  functions Python and Node.js functions: docker run, fcrun run, pool "
		    "modes\n");
		return argc < 2 ? 2 : 0;
	}
	if (FC_STREQ(argv[1], "runtime"))
		return bench_runtime_cmd(argc - 1, argv + 1);
	if (FC_STREQ(argv[1], "pool"))
		return bench_pool_cmd(argc - 1, argv + 1);
	if (FC_STREQ(argv[1], "coldstart"))
		return bench_coldstart_cmd(argc - 1, argv + 1);
	if (FC_STREQ(argv[1], "pull"))
		return bench_pull_cmd(argc - 1, argv + 1);
	if (FC_STREQ(argv[1], "gateway"))
		return bench_gateway_cmd(argc - 1, argv + 1);
	if (FC_STREQ(argv[1], "functions"))
		return bench_functions_cmd(argc - 1, argv + 1);
	fprintf(stderr, "fcstart bench: unknown subcommand `%s` (see `fcstart bench --help`)\n",
	        argv[1]);
	return 2;
}
