/* SPDX-License-Identifier: MIT */
/* cmd-serve.c: `fcstart serve`, the daemon (serve.c). */
#include <getopt.h>

#include "fcpool-cmd.h"
#include "fcpool.h"
#include "fcsnap.h"

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: fcstart serve [--root DIR] [--store DIR] [--socket PATH] [--idle-timeout "
	    "DURATION]\n"
	    "                     [--queue N] [--fork-servers N] [--http ADDR:PORT] "
	    "[--basic-auth-file FILE]\n"
	    "                     [--max-body SIZE] [--max-connections N] [--header-timeout D]\n"
	    "                     [--conn-idle-timeout D]\n"
	    "                     [--log FILE] [--log-format text|json] [--debug]\n"
	    "  --root DIR          live state (default %s)\n"
	    "  --store DIR         image store (default $FCSTART_STORE, else %s)\n"
	    "  --socket PATH       API socket (default $FCSTART_SOCKET, else ROOT/fcstart.sock)\n"
	    "  --idle-timeout D    reap waiting sandboxes above min after D (default 5m)\n"
	    "  --queue N           invocations that may wait for a sandbox per function (default "
	    "64)\n"
	    "  --http ADDR:PORT    OpenFaaS-compatible HTTP gateway (e.g. 127.0.0.1:8081)\n"
	    "  --basic-auth-file F USER:PASSWORD for the gateway's /system/* routes (default\n"
	    "                      ROOT/basic-auth, created with user admin and a random "
	    "password)\n"
	    "  --max-body SIZE     largest gateway request body, beyond: 413 (default 8m)\n"
	    "  --max-connections N gateway connections at once (default 1024); when they run\n"
	    "                      out, the one that waited longest for a request is closed\n"
	    "  --header-timeout D  a gateway request's head must come within D (default 10s)\n"
	    "  --conn-idle-timeout D  a gateway connection idle for D is closed (default 1m)\n"
	    "  --fork-servers N    processes that create sandboxes in parallel (default 2, at most "
	    "8)\n"
	    "  --cleanup           only remove what a killed daemon left under ROOT, then exit\n",
	    FCPOOL_DEFAULT_ROOT, FCSNAP_DEFAULT_STORE);
}

int cmd_serve(int argc, char **argv)
{
	static const struct option lo[] = {{"root", required_argument, NULL, 'r'},
	                                   {"store", required_argument, NULL, 's'},
	                                   {"socket", required_argument, NULL, 'S'},
	                                   {"idle-timeout", required_argument, NULL, 'i'},
	                                   {"queue", required_argument, NULL, 'q'},
	                                   {"http", required_argument, NULL, 'H'},
	                                   {"log", required_argument, NULL, 'l'},
	                                   {"log-format", required_argument, NULL, 'f'},
	                                   {"debug", no_argument, NULL, 'd'},
	                                   {"help", no_argument, NULL, 'h'},
	                                   {"cleanup", no_argument, NULL, 'C'},
	                                   {"fork-servers", required_argument, NULL, 'F'},
	                                   {"basic-auth-file", required_argument, NULL, 'A'},
	                                   {"max-body", required_argument, NULL, 'B'},
	                                   {"max-connections", required_argument, NULL, 'N'},
	                                   {"header-timeout", required_argument, NULL, 'T'},
	                                   {"conn-idle-timeout", required_argument, NULL, 'I'},
	                                   {0}};
	struct fcpool_serve_opts o = {0};
	const char *log = NULL;
	enum fc_log_format fmt = FC_LOG_TEXT;
	enum fc_log_level level = FC_LOG_INFO;
	int c;
	uint64_t ms;
	bool cleanup = false;
	o.socket = getenv("FCSTART_SOCKET");
	if (o.socket && !*o.socket)
		o.socket = NULL;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'r':
			o.root = optarg;
			break;
		case 's':
			o.store = optarg;
			break;
		case 'S':
			o.socket = optarg;
			break;
		case 'q':
			o.queue_max = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'H':
			o.http = optarg;
			break;
		case 'A':
			o.basic_auth_file = optarg;
			break;
		case 'N': {
			char *end;
			unsigned long n = strtoul(optarg, &end, 10);
			if (end == optarg || *end || optarg[0] == '-' || n < 16 || n > 1000000) {
				fprintf(stderr,
				        "fcstart serve: --max-connections `%s`: expected a number "
				        "in 16..1000000\n",
				        optarg);
				return 2;
			}
			o.max_connections = (unsigned)n;
			break;
		}
		case 'T':
		case 'I':
			if (fcpool_parse_duration(optarg, &ms) < 0 || ms < 1000) {
				fprintf(stderr,
				        "fcstart serve: --%s `%s`: expected a duration >= 1s\n",
				        c == 'T' ? "header-timeout" : "conn-idle-timeout", optarg);
				return 2;
			}
			if (c == 'T')
				o.header_timeout_ms = ms;
			else
				o.conn_idle_timeout_ms = ms;
			break;
		case 'B':
			if (fcpool_parse_size(optarg, &o.max_body) < 0 || o.max_body == 0) {
				fprintf(
				    stderr,
				    "fcstart serve: --max-body `%s`: expected a size (8m, 64k)\n",
				    optarg);
				return 2;
			}
			break;
		case 'l':
			log = optarg;
			break;
		case 'f':
			fmt = FC_STREQ(optarg, "json") ? FC_LOG_JSON : FC_LOG_TEXT;
			break;
		case 'd':
			level = FC_LOG_DEBUG;
			break;
		case 'C':
			cleanup = true;
			break;
		case 'F':
			o.fork_servers = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'i':
			if (fcpool_parse_duration(optarg, &ms) < 0 || ms < 1000) {
				fprintf(stderr,
				        "fcstart serve: --idle-timeout `%s`: expected a duration "
				        ">= 1s\n",
				        optarg);
				return 2;
			}
			o.idle_timeout_s = (unsigned)(ms / 1000);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	if (getuid() != 0) {
		fprintf(stderr, "fcstart serve: needs root (namespaces, mounts, cgroups)\n");
		return 1;
	}
	fc_log_set_prog("fcstart serve");
	if (fc_log_open(log, fmt, level) < 0) {
		fprintf(stderr, "fcstart serve: cannot open log `%s`\n", log);
		return 1;
	}
	struct fc_error *e = NULL;
	int r;
	if (cleanup) {
		unsigned n = 0;
		r = fcpool_cleanup(o.root ? o.root : FCPOOL_DEFAULT_ROOT, &n, &e);
		if (r >= 0)
			printf("removed %u sandboxes\n", n);
	} else {
		r = fcpool_serve(&o, &e);
	}
	if (r < 0) {
		fc_log(FC_LOG_ERROR, "%s", e ? e->msg : "failed");
		fprintf(stderr, "fcstart serve: %s\n", e ? e->msg : "failed");
		fc_error_free(e);
		return 1;
	}
	return 0;
}
