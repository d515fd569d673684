/* SPDX-License-Identifier: MIT */
/* main.c: `fcstart`, the user CLI. Dispatches to one file per verb. A verb
 * whose file is not built yet answers with a clear error (weak fallbacks). */
#include "commands.h"
#include "fcpool-cmd.h"
#include "fcsnap-cmd.h"
#include "fc-util.h"
#include "fc-version.h"

#define NOT_BUILT(name)                                                                            \
	__attribute__((weak)) int name(int argc, char **argv)                                      \
	{                                                                                          \
		(void)argc;                                                                        \
		fprintf(stderr, "fcstart: `%s` is not available in this build\n", argv[0]);        \
		return 2;                                                                          \
	}
NOT_BUILT(cmd_image)
NOT_BUILT(cmd_bench)
NOT_BUILT(cmd_serve)
NOT_BUILT(cmd_fn)
NOT_BUILT(cmd_invoke)
NOT_BUILT(cmd_stats)
NOT_BUILT(cmd_logs)

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *help;
} verbs[] = {
    {"image", cmd_image, "import, list, inspect, remove images; make bundles"},
    {"serve", cmd_serve, "run the daemon (pools of pre-warmed sandboxes)"},
    {"fn", cmd_fn, "deploy, list, remove and scale functions"},
    {"invoke", cmd_invoke, "invoke a function"},
    {"stats", cmd_stats, "per-function pool statistics"},
    {"logs", cmd_logs, "what a function's instances wrote (stdout, stderr)"},
    {"bench", cmd_bench, "cold-start benchmarks across runtimes and storage tiers"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: fcstart COMMAND [ARGS...]\n\nCommands:\n");
	for (size_t i = 0; i < FC_ARRAY_SIZE(verbs); i++)
		fprintf(f, "  %-8s %s\n", verbs[i].name, verbs[i].help);
	fprintf(f, "\nRun `fcstart COMMAND --help` for a command's flags.\n");
}

int main(int argc, char **argv)
{
	fc_log_set_prog("fcstart");
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (FC_STREQ(argv[1], "--help") || FC_STREQ(argv[1], "-h") || FC_STREQ(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (FC_STREQ(argv[1], "--version") || FC_STREQ(argv[1], "version")) {
		printf("fcstart version %s\n", FC_VERSION);
		return 0;
	}
	for (size_t i = 0; i < FC_ARRAY_SIZE(verbs); i++)
		if (FC_STREQ(argv[1], verbs[i].name))
			return verbs[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "fcstart: unknown command `%s` (see `fcstart --help`)\n", argv[1]);
	return 2;
}
