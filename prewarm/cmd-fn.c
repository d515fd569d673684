/* SPDX-License-Identifier: MIT */
/* cmd-fn.c: `fcstart fn deploy|ls|rm|scale`: requests to the daemon. */
#include <getopt.h>

#include "fcpool-cmd.h"
#include "fcpool.h"
#include "fcsnap.h"

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: fcstart fn [--socket PATH] COMMAND ...\n"
	    "  deploy NAME --image IMAGE [--mode classic|http] [--env K=V]... [--label K=V]...\n"
	    "         [--memory SIZE] [--cpus N] [--pids N] [--timeout DURATION]\n"
	    "         [--pull always|missing|never] [--userns private|host]\n"
	    "         [--prewarm exec|started|fork] [--readiness PATH] [--ready-timeout D]\n"
	    "         [-- CMD ARG...]\n"
	    "         IMAGE: a name in the daemon's store, or a reference the daemon pulls\n"
	    "         when the store lacks it (--pull, label com.fcstart.pull; default missing)\n"
	    "         labels com.openfaas.scale.min (default 1) and com.openfaas.scale.max "
	    "(default 20)\n"
	    "         limits per sandbox: --memory (default 256m, at least 6m), --pids (default "
	    "256),\n"
	    "         --timeout per invocation (default 1m); --cpus (default none, at least "
	    "0.01)\n"
	    "         --userns private (default: root inside is an unprivileged host user) or "
	    "host\n"
	    "         --prewarm: exec (default: created ahead, the function starts at the "
	    "hand-over),\n"
	    "         started (started ahead until ready: port 8080 accepts, or GET --readiness\n"
	    "         PATH answers 200, within --ready-timeout, default 1m; a classic function\n"
	    "         once it calls fcstart.ready()), fork (Python: forked from a template\n"
	    "         that ran the init once; see docs/initialized.md)\n"
	    "  ls [--json]\n"
	    "  rm NAME...\n"
	    "  scale NAME --min N --max M\n"
	    "Socket: --socket, else $FCSTART_SOCKET, else %s\n",
	    FCPOOL_DEFAULT_SOCKET);
}

static int fail(const char *what, struct fc_error *e)
{
	fprintf(stderr, "fcstart fn %s: %s\n", what, e && e->msg ? e->msg : "failed");
	fc_error_free(e);
	return 1;
}

static void strv_push(char ***v, const char *s)
{
	size_t n = fc_strv_len(*v);
	*v = fc_realloc(*v, (n + 2) * sizeof(char *));
	(*v)[n] = fc_strdup(s);
	(*v)[n + 1] = NULL;
}

static int deploy(const char *sock, int argc, char **argv)
{
	static const struct option lo[] = {{"image", required_argument, NULL, 'i'},
	                                   {"mode", required_argument, NULL, 'm'},
	                                   {"env", required_argument, NULL, 'e'},
	                                   {"label", required_argument, NULL, 'l'},
	                                   {"memory", required_argument, NULL, 'M'},
	                                   {"cpus", required_argument, NULL, 'c'},
	                                   {"timeout", required_argument, NULL, 't'},
	                                   {"pids", required_argument, NULL, 'p'},
	                                   {"userns", required_argument, NULL, 'U'},
	                                   {"pull", required_argument, NULL, 'P'},
	                                   {"prewarm", required_argument, NULL, 'W'},
	                                   {"readiness", required_argument, NULL, 'R'},
	                                   {"ready-timeout", required_argument, NULL, 'T'},
	                                   {"help", no_argument, NULL, 'h'},
	                                   {0}};
	struct fcpool_fn_spec spec = {0};
	int c;
	if (argc < 2 || argv[1][0] == '-') {
		fprintf(stderr, "fcstart fn deploy: need NAME first (fcstart fn deploy NAME "
		                "--image IMAGE ...)\n");
		return 2;
	}
	const char *name = argv[1];
	argc--;
	argv++;
	optind = 1;
	int rc = 2;
	while ((c = getopt_long(argc, argv, "+h", lo, NULL)) != -1) {
		switch (c) {
		case 'i':
			free(spec.image);
			spec.image = fc_strdup(optarg);
			break;
		case 'm':
			if (FC_STREQ(optarg, "classic") || FC_STREQ(optarg, "http")) {
				spec.mode = FC_STREQ(optarg, "http") ? FCPOOL_HTTP : FCPOOL_CLASSIC;
				break;
			}
			fprintf(stderr,
			        "fcstart fn deploy: --mode `%s`: expected classic or http\n",
			        optarg);
			goto out;
		case 'e':
		case 'l':
			if (!strchr(optarg, '=')) {
				fprintf(stderr,
				        "fcstart fn deploy: --%s `%s`: expected KEY=VALUE\n",
				        c == 'e' ? "env" : "label", optarg);
				goto out;
			}
			strv_push(c == 'e' ? &spec.env : &spec.labels, optarg);
			break;
		case 'M':
			if (fcpool_parse_size(optarg, &spec.memory) < 0) {
				fprintf(stderr,
				        "fcstart fn deploy: --memory `%s`: expected a size (128m, "
				        "1g)\n",
				        optarg);
				goto out;
			}
			break;
		case 'U':
			if (!FC_STREQ(optarg, "host") && !FC_STREQ(optarg, "private")) {
				fprintf(stderr,
				        "fcstart fn deploy: --userns `%s`: expected private or "
				        "host\n",
				        optarg);
				goto out;
			}
			spec.userns_host = FC_STREQ(optarg, "host");
			break;
		case 'p': {
			char *end;
			errno = 0;
			unsigned long n = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || optarg[0] == '-' || n == 0 ||
			    n > FCPOOL_MAX_PIDS) {
				fprintf(stderr,
				        "fcstart fn deploy: --pids `%s`: expected a number of "
				        "processes in 1..%u\n",
				        optarg, FCPOOL_MAX_PIDS);
				goto out;
			}
			spec.pids = (unsigned)n;
			break;
		}
		case 'c': {
			char *end;
			spec.cpus = strtod(optarg, &end);
			if (end == optarg || *end || !(spec.cpus > 0)) {
				fprintf(
				    stderr,
				    "fcstart fn deploy: --cpus `%s`: expected a positive number\n",
				    optarg);
				goto out;
			}
			break;
		}
		case 't':
			if (fcpool_parse_duration(optarg, &spec.timeout_ms) < 0) {
				fprintf(stderr,
				        "fcstart fn deploy: --timeout `%s`: expected a duration "
				        "(30s, 500ms)\n",
				        optarg);
				goto out;
			}
			break;
		case 'P': {
			/* carried to the daemon as a label (OpenFaaS deploys can set it too) */
			if (fcsnap_pull_policy_parse(optarg) < 0) {
				fprintf(
				    stderr,
				    "fcstart fn deploy: --pull `%s`: expected always, missing or "
				    "never\n",
				    optarg);
				goto out;
			}
			_cleanup_free_ char *l = fc_asprintf("com.fcstart.pull=%s", optarg);
			strv_push(&spec.labels, l);
			break;
		}
		case 'W':
			if (fcpool_prewarm_parse(optarg, &spec.prewarm) < 0) {
				fprintf(
				    stderr,
				    "fcstart fn deploy: --prewarm `%s`: expected exec, started or "
				    "fork\n",
				    optarg);
				goto out;
			}
			break;
		case 'R':
			free(spec.readiness);
			spec.readiness = fc_strdup(optarg);
			break;
		case 'T':
			if (fcpool_parse_duration(optarg, &spec.ready_timeout_ms) < 0 ||
			    !spec.ready_timeout_ms) {
				fprintf(
				    stderr,
				    "fcstart fn deploy: --ready-timeout `%s`: expected a duration "
				    "(30s, 2m)\n",
				    optarg);
				goto out;
			}
			break;
		case 'h':
			usage(stdout);
			rc = 0;
			goto out;
		default:
			usage(stderr);
			goto out;
		}
	}
	if (!spec.image) {
		fprintf(stderr, "fcstart fn deploy: need --image IMAGE\n");
		goto out;
	}
	if (optind < argc && FC_STREQ(argv[optind], "--"))
		optind++;
	for (int i = optind; i < argc; i++)
		strv_push(&spec.args, argv[i]);
	spec.name = fc_strdup(name);
	fcpool_fn_spec_labels(&spec);
	struct fc_error *e = NULL;
	if (fcpool_client_deploy(sock, &spec, &e) < 0) {
		rc = fail("deploy", e);
		goto out;
	}
	printf("deployed %s\n", name);
	rc = 0;
out:
	fcpool_fn_spec_clear(&spec);
	return rc;
}

static int list(const char *sock, int argc, char **argv)
{
	bool json = argc > 1 && FC_STREQ(argv[1], "--json");
	struct fcpool_fn_list l;
	struct fc_error *e = NULL;
	if (fcpool_client_ls(sock, &l, &e) < 0)
		return fail("ls", e);
	if (json) {
		struct fc_buf b = {0};
		fcpool_fn_list_json(&l, &b);
		printf("%s\n", b.data);
		free(b.data);
		fcpool_fn_list_clear(&l);
		return 0;
	}
	printf("%-24s %-24s %-8s %-8s %5s %5s %8s %8s\n", "NAME", "IMAGE", "MODE", "PREWARM", "MIN",
	       "MAX", "WAITING", "RUNNING");
	for (size_t i = 0; i < l.n; i++) {
		const struct fcpool_fn_status *f = &l.fns[i];
		printf("%-24s %-24s %-8s %-8s %5u %5u %8u %8u\n", f->spec.name, f->spec.image,
		       f->spec.mode == FCPOOL_HTTP ? "http" : "classic",
		       fcpool_prewarm_name(f->spec.prewarm), f->min, f->max, f->waiting,
		       f->running);
		if (f->last_error[0])
			printf("  last failure: %s\n", f->last_error);
	}
	fcpool_fn_list_clear(&l);
	return 0;
}

static int rm(const char *sock, int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "fcstart fn rm: need NAME\n");
		return 2;
	}
	int rc = 0;
	for (int i = 1; i < argc; i++) {
		struct fc_error *e = NULL;
		if (fcpool_client_rm(sock, argv[i], &e) < 0)
			rc = fail("rm", e);
	}
	return rc;
}

static int scale(const char *sock, int argc, char **argv)
{
	static const struct option lo[] = {
	    {"min", required_argument, NULL, 'n'}, {"max", required_argument, NULL, 'x'}, {0}};
	long mn = -1, mx = -1;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (c == 'n')
			mn = strtol(optarg, NULL, 10);
		else if (c == 'x')
			mx = strtol(optarg, NULL, 10);
		else
			return 2;
	}
	if (optind >= argc || (mn < 0 && mx < 0)) {
		fprintf(stderr, "fcstart fn scale: need NAME and --min N and/or --max M\n");
		return 2;
	}
	struct fc_error *e = NULL;
	return fcpool_client_scale(sock, argv[optind], mn, mx, &e) < 0 ? fail("scale", e) : 0;
}

int cmd_fn(int argc, char **argv)
{
	const char *sock = NULL;
	int i = 1;
	while (i < argc && argv[i][0] == '-') {
		if (FC_STREQ(argv[i], "--socket") && i + 1 < argc) {
			sock = argv[i + 1];
			i += 2;
		} else if (FC_STREQ(argv[i], "--help") || FC_STREQ(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	const char *verb = argv[i];
	if (FC_STREQ(verb, "deploy"))
		return deploy(sock, argc - i, argv + i);
	if (FC_STREQ(verb, "ls"))
		return list(sock, argc - i, argv + i);
	if (FC_STREQ(verb, "rm"))
		return rm(sock, argc - i, argv + i);
	if (FC_STREQ(verb, "scale"))
		return scale(sock, argc - i, argv + i);
	fprintf(stderr, "fcstart fn: unknown command `%s`\n", verb);
	usage(stderr);
	return 2;
}
