/* SPDX-License-Identifier: MIT */
/* cmd-logs.c: `fcstart logs NAME [--tail N] [--follow]`: what a function's
 * instances wrote to stdout and stderr, a line each, as the daemon keeps it
 * (docs/api.md, "Logs"). */
#include <getopt.h>
#include <time.h>

#include "fcpool-cmd.h"
#include "fcpool.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: fcstart logs [--socket PATH] NAME [--tail N] [--follow]\n"
	           "  the lines a function's instances wrote (stdout, stderr), oldest first:\n"
	           "  TIME NAME (SANDBOX) TEXT\n"
	           "  --tail N    only the last N lines (default: all the daemon keeps)\n"
	           "  -f, --follow  then the lines as they come, until interrupted\n");
}

int cmd_logs(int argc, char **argv)
{
	static const struct option lo[] = {{"socket", required_argument, NULL, 'S'},
	                                   {"tail", required_argument, NULL, 't'},
	                                   {"follow", no_argument, NULL, 'f'},
	                                   {"help", no_argument, NULL, 'h'},
	                                   {0}};
	const char *sock = NULL, *name = NULL;
	long tail = -1;
	bool follow = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "ft:h", lo, NULL)) != -1) {
		switch (c) {
		case 'S':
			sock = optarg;
			break;
		case 't': {
			char *end;
			errno = 0;
			tail = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || tail < 0) {
				fprintf(stderr,
				        "fcstart logs: --tail `%s`: expected a number of lines\n",
				        optarg);
				return 2;
			}
			break;
		}
		case 'f':
			follow = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind + 1 != argc) {
		usage(stderr);
		return 2;
	}
	name = argv[optind];
	struct fc_error *e = NULL;
	_cleanup_close_ int conn = fcpool_client_logs(sock, name, tail, follow, &e);
	if (conn < 0) {
		fprintf(stderr, "fcstart logs: %s\n", e ? e->msg : "failed");
		fc_error_free(e);
		return 1;
	}
	for (;;) {
		struct fcpool_log_batch b;
		if (fcpool_client_log_next(conn, &b, &e) < 0) {
			fprintf(stderr, "fcstart logs: %s\n", e ? e->msg : "failed");
			fc_error_free(e);
			return 1;
		}
		for (size_t i = 0; i < b.n; i++) {
			time_t t = (time_t)(b.lines[i].time_ns / 1000000000ULL);
			struct tm tm;
			char ts[32];
			gmtime_r(&t, &tm);
			strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
			printf("%s.%03uZ %s (%s) %s\n", ts,
			       (unsigned)(b.lines[i].time_ns / 1000000 % 1000), name,
			       b.lines[i].instance, b.lines[i].text);
		}
		fflush(stdout);
		bool end = b.end;
		fcpool_log_batch_clear(&b);
		if (end)
			return 0;
	}
}
