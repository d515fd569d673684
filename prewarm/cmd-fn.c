/* SPDX-License-Identifier: MIT */
/* cmd-fn.c: `fcstart fn deploy|ls|rm|scale`: requests to the daemon. */
#include <getopt.h>
#include <yajl/yajl_tree.h>

#include "fcpool-cmd.h"
#include "fcpool.h"

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: fcstart fn [--socket PATH] COMMAND ...\n"
	    "  deploy NAME --image IMAGE [--mode classic|http] [--env K=V]... [--label K=V]...\n"
	    "         [--memory SIZE] [--cpus N] [--timeout DURATION] [-- CMD ARG...]\n"
	    "         labels com.openfaas.scale.min (default 1) and com.openfaas.scale.max "
	    "(default 20)\n"
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

static void json_strv(struct fc_buf *b, const char *key, char **v)
{
	fc_buf_printf(b, ",\"%s\":[", key);
	for (size_t i = 0; v && v[i]; i++) {
		if (i)
			fc_buf_printf(b, ",");
		fc_buf_json_string(b, v[i]);
	}
	fc_buf_printf(b, "]");
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
	                                   {"help", no_argument, NULL, 'h'},
	                                   {0}};
	const char *image = NULL, *mode = "classic";
	_cleanup_strv_ char **env = NULL, **labels = NULL;
	uint64_t memory = 0, timeout = 0;
	double cpus = 0;
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
	while ((c = getopt_long(argc, argv, "+h", lo, NULL)) != -1) {
		switch (c) {
		case 'i':
			image = optarg;
			break;
		case 'm':
			mode = optarg;
			break;
		case 'e':
		case 'l':
			if (!strchr(optarg, '=')) {
				fprintf(stderr,
				        "fcstart fn deploy: --%s `%s`: expected KEY=VALUE\n",
				        c == 'e' ? "env" : "label", optarg);
				return 2;
			}
			strv_push(c == 'e' ? &env : &labels, optarg);
			break;
		case 'M':
			if (fcpool_parse_size(optarg, &memory) < 0) {
				fprintf(stderr,
				        "fcstart fn deploy: --memory `%s`: expected a size (128m, "
				        "1g)\n",
				        optarg);
				return 2;
			}
			break;
		case 'c':
			cpus = strtod(optarg, NULL);
			if (cpus <= 0) {
				fprintf(
				    stderr,
				    "fcstart fn deploy: --cpus `%s`: expected a positive number\n",
				    optarg);
				return 2;
			}
			break;
		case 't':
			if (fcpool_parse_duration(optarg, &timeout) < 0) {
				fprintf(stderr,
				        "fcstart fn deploy: --timeout `%s`: expected a duration "
				        "(30s, 500ms)\n",
				        optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!image) {
		fprintf(stderr, "fcstart fn deploy: need --image IMAGE\n");
		return 2;
	}
	if (optind < argc && FC_STREQ(argv[optind], "--"))
		optind++;
	struct fc_buf b = {0};
	fc_buf_printf(&b, "{\"op\":\"deploy\",\"name\":");
	fc_buf_json_string(&b, name);
	fc_buf_printf(&b, ",\"image\":");
	fc_buf_json_string(&b, image);
	fc_buf_printf(&b, ",\"mode\":");
	fc_buf_json_string(&b, mode);
	json_strv(&b, "env", env);
	json_strv(&b, "labels", labels);
	if (optind < argc)
		json_strv(&b, "args", argv + optind);
	fc_buf_printf(&b, ",\"memory\":%llu,\"cpus\":%g,\"timeout_ms\":%llu}",
	              (unsigned long long)memory, cpus, (unsigned long long)timeout);
	struct fc_error *e = NULL;
	int r = fcpool_call(sock, b.data, NULL, &e);
	free(b.data);
	if (r < 0)
		return fail("deploy", e);
	printf("deployed %s\n", name);
	return 0;
}

static long long num(yajl_val v, const char *key)
{
	const char *p[] = {key, NULL};
	yajl_val x = yajl_tree_get(v, p, yajl_t_number);
	return x && YAJL_IS_INTEGER(x) ? YAJL_GET_INTEGER(x) : 0;
}

static const char *str(yajl_val v, const char *k1, const char *k2)
{
	const char *p[] = {k1, k2, NULL};
	yajl_val x = yajl_tree_get(v, p, yajl_t_string);
	return x ? YAJL_GET_STRING(x) : "";
}

static int list(const char *sock, int argc, char **argv)
{
	bool json = argc > 1 && FC_STREQ(argv[1], "--json");
	char *reply = NULL;
	struct fc_error *e = NULL;
	if (fcpool_call(sock, "{\"op\":\"ls\"}", &reply, &e) < 0)
		return fail("ls", e);
	if (json) {
		printf("%s\n", reply);
		free(reply);
		return 0;
	}
	yajl_val v = yajl_tree_parse(reply, NULL, 0);
	const char *p[] = {"functions", NULL};
	yajl_val fns = v ? yajl_tree_get(v, p, yajl_t_array) : NULL;
	printf("%-24s %-24s %-8s %5s %5s %8s %8s\n", "NAME", "IMAGE", "MODE", "MIN", "MAX",
	       "WAITING", "RUNNING");
	for (size_t i = 0; fns && i < YAJL_GET_ARRAY(fns)->len; i++) {
		yajl_val f = YAJL_GET_ARRAY(fns)->values[i];
		printf("%-24s %-24s %-8s %5lld %5lld %8lld %8lld\n", str(f, "name", NULL),
		       str(f, "spec", "image"), str(f, "spec", "mode"), num(f, "min"),
		       num(f, "max"), num(f, "waiting"), num(f, "running"));
	}
	yajl_tree_free(v);
	free(reply);
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
		struct fc_buf b = {0};
		fc_buf_printf(&b, "{\"op\":\"rm\",\"name\":");
		fc_buf_json_string(&b, argv[i]);
		fc_buf_printf(&b, "}");
		struct fc_error *e = NULL;
		if (fcpool_call(sock, b.data, NULL, &e) < 0)
			rc = fail("rm", e);
		free(b.data);
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
	struct fc_buf b = {0};
	fc_buf_printf(&b, "{\"op\":\"scale\",\"name\":");
	fc_buf_json_string(&b, argv[optind]);
	if (mn >= 0)
		fc_buf_printf(&b, ",\"min\":%ld", mn);
	if (mx >= 0)
		fc_buf_printf(&b, ",\"max\":%ld", mx);
	fc_buf_printf(&b, "}");
	struct fc_error *e = NULL;
	int r = fcpool_call(sock, b.data, NULL, &e);
	free(b.data);
	return r < 0 ? fail("scale", e) : 0;
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
