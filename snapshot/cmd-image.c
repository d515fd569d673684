/* SPDX-License-Identifier: MIT */
/* cmd-image.c: `fcstart image import|ls|inspect|rm|gc|bundle|unmount`. */
#include <getopt.h>

#include "fcsnap-cmd.h"
#include "fc-util.h"
#include "fcsnap.h"

struct gopts {
	const char *store;
	bool quiet;
};

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: fcstart image [--store DIR] [--quiet] COMMAND ...\n"
	        "  import PATH [--name NAME] [--platform OS/ARCH[/VARIANT]] [--jobs N]\n"
	        "              [--max-layer-size BYTES] [--max-entries N] [--no-uring]\n"
	        "         PATH: OCI image layout dir, oci-archive or docker-archive tarball\n"
	        "  ls                       list image names\n"
	        "  inspect NAME             JSON description of an image\n"
	        "  rm NAME...               forget images (their data goes with `gc`)\n"
	        "  gc                       remove blobs and layers no image refers to\n"
	        "  bundle NAME DIR [--copy] [-- ARGS...]\n"
	        "                           OCI bundle: DIR/config.json + DIR/rootfs (overlay)\n"
	        "  unmount DIR              undo `bundle`\n"
	        "Store: --store, else $FCSTART_STORE, else %s\n",
	        FCSNAP_DEFAULT_STORE);
}

static int fail(struct fc_error *e, const char *what)
{
	fprintf(stderr, "fcstart image %s: %s\n", what, e && e->msg ? e->msg : "failed");
	fc_error_free(e);
	return 1;
}

static int open_store(const struct gopts *g, struct fcsnap_store **s, const char *what)
{
	struct fc_error *e = NULL;
	if (fcsnap_store_open(g->store, s, &e) < 0)
		return fail(e, what);
	return 0;
}

struct prog_state {
	uint64_t t0;
	bool shown;
};

static void on_progress(const struct fcsnap_progress *p, void *data)
{
	struct prog_state *st = data;
	double secs = (double)(fc_now_ns() - st->t0) / 1e9;
	if (secs <= 0)
		secs = 1e-9;
	fprintf(
	    stderr,
	    "\r\033[Klayer %u/%u  %.1f MB read  %.1f MB written (%.1f MB/s)  %llu files (%.0f/s)",
	    p->layer, p->layers, (double)p->bytes_in / 1e6, (double)p->bytes_out / 1e6,
	    (double)p->bytes_out / 1e6 / secs, (unsigned long long)p->files,
	    (double)p->files / secs);
	st->shown = true;
}

static uint64_t parse_size(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	switch (*end) {
	case 'k':
	case 'K':
		v <<= 10;
		break;
	case 'm':
	case 'M':
		v <<= 20;
		break;
	case 'g':
	case 'G':
		v <<= 30;
		break;
	default:
		break;
	}
	return v;
}

static int do_import(const struct gopts *g, int argc, char **argv)
{
	static const struct option lo[] = {
	    {"name", required_argument, NULL, 'n'},
	    {"platform", required_argument, NULL, 'p'},
	    {"jobs", required_argument, NULL, 'j'},
	    {"max-layer-size", required_argument, NULL, 'S'},
	    {"max-entries", required_argument, NULL, 'E'},
	    {"no-uring", no_argument, NULL, 'U'},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	struct fcsnap_import_opts o = {0};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "n:p:j:h", lo, NULL)) != -1) {
		switch (c) {
		case 'n':
			o.name = optarg;
			break;
		case 'p':
			o.platform = optarg;
			break;
		case 'j':
			o.jobs = (unsigned)atoi(optarg);
			break;
		case 'S':
			o.max_layer_size = parse_size(optarg);
			break;
		case 'E':
			o.max_entries = strtoull(optarg, NULL, 10);
			break;
		case 'U':
			o.no_uring = true;
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
	struct fcsnap_store *s = NULL;
	if (open_store(g, &s, "import"))
		return 1;
	struct prog_state ps = {.t0 = fc_now_ns()};
	if (!g->quiet && isatty(2)) {
		o.progress = on_progress;
		o.progress_data = &ps;
	}
	struct fc_error *e = NULL;
	char *name = NULL;
	int r = fcsnap_import(s, argv[optind], &o, &name, &e);
	if (ps.shown)
		fprintf(stderr, "\r\033[K");
	fcsnap_store_free(s);
	if (r < 0)
		return fail(e, "import");
	if (!g->quiet)
		printf("imported %s\n", name);
	free(name);
	return 0;
}

static int do_ls(const struct gopts *g, int argc, char **argv)
{
	struct fcsnap_store *s = NULL;
	struct fc_error *e = NULL;
	char **names = NULL;
	(void)argc;
	(void)argv;
	if (open_store(g, &s, "ls"))
		return 1;
	if (fcsnap_image_list(s, &names, &e) < 0) {
		fcsnap_store_free(s);
		return fail(e, "ls");
	}
	bool tty = isatty(1);
	if (tty)
		printf("%-40s %-19s %6s %10s\n", "NAME", "MANIFEST", "LAYERS", "SIZE");
	for (size_t i = 0; names[i]; i++) {
		struct fcsnap_image *img = NULL;
		if (!tty) {
			printf("%s\n", names[i]);
			continue;
		}
		if (fcsnap_image_get(s, names[i], &img, &e) < 0) {
			printf("%-40s (broken: %s)\n", names[i], e->msg);
			fc_error_free(e);
			e = NULL;
			continue;
		}
		printf("%-40s %-19.19s %6zu %9.1fM\n", names[i], img->manifest_digest,
		       img->n_layers, (double)img->size / 1e6);
		fcsnap_image_free(img);
	}
	fc_strv_free(names);
	fcsnap_store_free(s);
	return 0;
}

static int do_inspect(const struct gopts *g, int argc, char **argv)
{
	if (argc != 2) {
		usage(stderr);
		return 2;
	}
	struct fcsnap_store *s = NULL;
	struct fcsnap_image *img = NULL;
	struct fc_error *e = NULL;
	char *json = NULL;
	if (open_store(g, &s, "inspect"))
		return 1;
	int r = fcsnap_image_get(s, argv[1], &img, &e);
	if (r >= 0)
		r = fcsnap_image_json(img, &json, &e);
	fcsnap_image_free(img);
	fcsnap_store_free(s);
	if (r < 0)
		return fail(e, "inspect");
	fputs(json, stdout);
	free(json);
	return 0;
}

static int do_rm(const struct gopts *g, int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	struct fcsnap_store *s = NULL;
	int ret = 0;
	if (open_store(g, &s, "rm"))
		return 1;
	for (int i = 1; i < argc; i++) {
		struct fc_error *e = NULL;
		if (fcsnap_image_remove(s, argv[i], &e) < 0)
			ret = fail(e, "rm");
	}
	fcsnap_store_free(s);
	return ret;
}

static int do_gc(const struct gopts *g, int argc, char **argv)
{
	struct fcsnap_store *s = NULL;
	struct fc_error *e = NULL;
	unsigned b = 0, l = 0;
	(void)argc;
	(void)argv;
	if (open_store(g, &s, "gc"))
		return 1;
	int r = fcsnap_gc(s, &b, &l, &e);
	fcsnap_store_free(s);
	if (r < 0)
		return fail(e, "gc");
	if (!g->quiet)
		printf("removed %u blobs, %u layers\n", b, l);
	return 0;
}

static int do_bundle(const struct gopts *g, int argc, char **argv)
{
	struct fcsnap_bundle_opts o = {0};
	const char *pos[2] = {0};
	int np = 0, i;
	for (i = 1; i < argc; i++) {
		if (FC_STREQ(argv[i], "--copy"))
			o.copy = true;
		else if (FC_STREQ(argv[i], "--")) {
			i++;
			break;
		} else if (argv[i][0] == '-') {
			usage(stderr);
			return 2;
		} else if (np < 2)
			pos[np++] = argv[i];
		else {
			usage(stderr);
			return 2;
		}
	}
	if (np != 2) {
		usage(stderr);
		return 2;
	}
	if (i < argc)
		o.args = argv + i;
	struct fcsnap_store *s = NULL;
	struct fc_error *e = NULL;
	if (open_store(g, &s, "bundle"))
		return 1;
	int r = fcsnap_bundle(s, pos[0], pos[1], &o, &e);
	fcsnap_store_free(s);
	if (r < 0)
		return fail(e, "bundle");
	return 0;
}

static int do_unmount(const struct gopts *g, int argc, char **argv)
{
	struct fc_error *e = NULL;
	(void)g;
	if (argc != 2) {
		usage(stderr);
		return 2;
	}
	if (fcsnap_unbundle(argv[1], &e) < 0)
		return fail(e, "unmount");
	return 0;
}

int cmd_image(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(const struct gopts *, int, char **);
	} subs[] = {
	    {"import", do_import}, {"ls", do_ls}, {"list", do_ls},       {"inspect", do_inspect},
	    {"rm", do_rm},         {"gc", do_gc}, {"bundle", do_bundle}, {"unmount", do_unmount},
	};
	struct gopts g = {0};
	/* global flags may appear anywhere before `--` */
	_cleanup_free_ char **av = fc_calloc((size_t)argc + 1, sizeof(char *));
	int ac = 0;
	bool dashdash = false;
	for (int i = 1; i < argc; i++) {
		if (!dashdash && FC_STREQ(argv[i], "--"))
			dashdash = true;
		if (!dashdash && FC_STREQ(argv[i], "--store") && i + 1 < argc) {
			g.store = argv[++i];
		} else if (!dashdash && strncmp(argv[i], "--store=", 8) == 0) {
			g.store = argv[i] + 8;
		} else if (!dashdash && (FC_STREQ(argv[i], "--quiet") || FC_STREQ(argv[i], "-q"))) {
			g.quiet = true;
		} else {
			av[ac++] = argv[i];
		}
	}
	if (ac == 0) {
		usage(stderr);
		return 2;
	}
	if (FC_STREQ(av[0], "--help") || FC_STREQ(av[0], "-h") || FC_STREQ(av[0], "help")) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < FC_ARRAY_SIZE(subs); i++)
		if (FC_STREQ(av[0], subs[i].name))
			return subs[i].fn(&g, ac, av);
	fprintf(stderr, "fcstart image: unknown command `%s`\n", av[0]);
	usage(stderr);
	return 2;
}
