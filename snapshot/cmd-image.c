/* SPDX-License-Identifier: MIT */
/* cmd-image.c: `fcstart image import|ls|inspect|rm|gc|bundle|unmount`. */
#include <fcntl.h>
#include <getopt.h>

#include "fc-util.h"
#include "fcrt.h"
#include "fcsnap-cmd.h"
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
	        "  pull REF [--name NAME] [--platform OS/ARCH[/VARIANT]] [--jobs N]\n"
	        "           [--insecure-registry HOST[:PORT]]... [--registry-config FILE]\n"
	        "           [--retries N] [--max-layer-size BYTES] [--no-uring]\n"
	        "         REF: [REGISTRY/]NAME[:TAG][@sha256:DIGEST], as Docker reads it\n"
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

/* ---- pull --------------------------------------------------------------- */

struct pull_view {
	unsigned n;    /* lines drawn so far */
	uint64_t last; /* last redraw */
	struct pull_line {
		char digest[20];
		enum fcsnap_layer_state state;
		uint64_t bytes, total;
		double rate;
	} * l;
	unsigned layers;
};

static const char *const state_names[] = {
    [FCSNAP_LAYER_WAITING] = "waiting",         [FCSNAP_LAYER_EXISTS] = "already in the store",
    [FCSNAP_LAYER_DOWNLOADING] = "downloading", [FCSNAP_LAYER_RETRYING] = "resuming",
    [FCSNAP_LAYER_VERIFYING] = "verifying",     [FCSNAP_LAYER_DONE] = "done",
};

/* One line per layer, redrawn in place (only on a terminal). */
static void pull_redraw(struct pull_view *v)
{
	if (v->n)
		fprintf(stderr, "\033[%uA", v->n);
	for (unsigned i = 0; i < v->layers; i++) {
		struct pull_line *l = &v->l[i];
		fprintf(stderr, "\r\033[K%-12s  %-20s", l->digest, state_names[l->state]);
		if (l->state == FCSNAP_LAYER_DOWNLOADING || l->state == FCSNAP_LAYER_RETRYING ||
		    l->state == FCSNAP_LAYER_DONE)
			fprintf(stderr, "  %9.2f / %.2f MB  %6.1f MB/s", (double)l->bytes / 1e6,
			        (double)l->total / 1e6, l->rate / 1e6);
		fputc('\n', stderr);
	}
	v->n = v->layers;
	fflush(stderr);
}

static void on_pull_progress(const struct fcsnap_pull_progress *p, void *data)
{
	struct pull_view *v = data;
	if (!v->l) {
		v->layers = p->layers;
		v->l = fc_calloc(p->layers, sizeof(*v->l));
	}
	if (p->layer < 1 || p->layer > v->layers)
		return;
	struct pull_line *l = &v->l[p->layer - 1];
	const char *hex = p->digest ? fcsnap_digest_hex(p->digest) : NULL;
	snprintf(l->digest, sizeof(l->digest), "%.12s", hex ? hex : "?");
	bool changed = l->state != p->state;
	l->state = p->state;
	l->bytes = p->bytes;
	l->total = p->total;
	l->rate = p->rate;
	uint64_t now = fc_now_ns();
	if (changed || now - v->last >= 100000000ull) {
		v->last = now;
		pull_redraw(v);
	}
}

static int do_pull(const struct gopts *g, int argc, char **argv)
{
	enum { O_INSECURE = 256, O_CONFIG, O_RETRIES, O_MAXSIZE, O_NOURING };
	static const struct option lo[] = {
	    {"name", required_argument, NULL, 'n'},
	    {"platform", required_argument, NULL, 'p'},
	    {"jobs", required_argument, NULL, 'j'},
	    {"insecure-registry", required_argument, NULL, O_INSECURE},
	    {"registry-config", required_argument, NULL, O_CONFIG},
	    {"retries", required_argument, NULL, O_RETRIES},
	    {"max-layer-size", required_argument, NULL, O_MAXSIZE},
	    {"no-uring", no_argument, NULL, O_NOURING},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	struct fcsnap_pull_opts o = {0};
	_cleanup_free_ const char **insecure = fc_calloc((size_t)argc + 1, sizeof(char *));
	size_t n_insecure = 0;
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
			if (o.jobs < 1 || o.jobs > 16) {
				fprintf(stderr, "fcstart image pull: --jobs: 1 to 16, not `%s`\n",
				        optarg);
				return 2;
			}
			break;
		case O_INSECURE:
			insecure[n_insecure++] = optarg;
			break;
		case O_CONFIG:
			o.config = optarg;
			break;
		case O_RETRIES:
			o.retries = (unsigned)atoi(optarg);
			break;
		case O_MAXSIZE:
			o.max_layer_size = parse_size(optarg);
			break;
		case O_NOURING:
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
	o.insecure = insecure;
	struct fcsnap_store *s = NULL;
	if (open_store(g, &s, "pull"))
		return 1;
	struct pull_view v = {0};
	if (!g->quiet && isatty(2)) {
		o.progress = on_pull_progress;
		o.progress_data = &v;
	}
	struct fc_error *e = NULL;
	struct fcsnap_pull_result res;
	uint64_t t0 = fc_now_ns();
	int r = fcsnap_pull(s, argv[optind], &o, &res, &e);
	if (v.l && r >= 0)
		pull_redraw(&v);
	free(v.l);
	fcsnap_store_free(s);
	if (r < 0)
		return fail(e, "pull");
	if (!g->quiet)
		printf("pulled %s (%s, %u layers, %u downloaded, %.1f MB in %.2f s)\n", res.name,
		       res.manifest_digest, res.layers, res.fetched, (double)res.bytes / 1e6,
		       (double)(fc_now_ns() - t0) / 1e9);
	fcsnap_pull_result_clear(&res);
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

/* The bundle's config: the default spec with the image's config over it. */
static struct fc_spec *image_spec(const struct fcsnap_image *img, char *const *args, uid_t uid,
                                  gid_t gid)
{
	const struct fcsnap_config *c = &img->config;
	struct fc_spec *s = fcrt_spec_default();
	struct fc_process *p = s->process;
	char **env = TAKE_PTR(p->env);
	bool have_path = false;
	for (size_t i = 0; c->env && c->env[i]; i++)
		have_path |= strncmp(c->env[i], "PATH=", 5) == 0;
	/* the image's environment, after the default PATH when it has none */
	for (size_t i = 0; env && env[i]; i++)
		if (!have_path && strncmp(env[i], "PATH=", 5) == 0)
			fcrt_spec_setenv(s, env[i]);
	fc_strv_free(env);
	for (size_t i = 0; c->env && c->env[i]; i++)
		fcrt_spec_setenv(s, c->env[i]);
	if (!p->env)
		p->env = fc_calloc(1, sizeof(char *));
	p->terminal = false;
	p->uid = (uint32_t)uid;
	p->gid = (uint32_t)gid;
	fcrt_spec_set_args(s, args);
	free(p->cwd);
	p->cwd = fc_strdup(c->workdir && *c->workdir ? c->workdir : "/");
	s->root_readonly = false;
	free(s->hostname);
	s->hostname = fc_strdup("fcstart");
	fcrt_spec_set_namespace(s, FC_NS_CGROUP, NULL);
	fcrt_spec_annotate(s, "io.fcstart.image.name", img->name);
	fcrt_spec_annotate(s, "io.fcstart.image.manifest", img->manifest_digest);
	if (c->exposed_ports && c->exposed_ports[0]) {
		_cleanup_buf_ struct fc_buf ports = {0};
		for (size_t i = 0; c->exposed_ports[i]; i++)
			fc_buf_printf(&ports, "%s%s", i ? "," : "", c->exposed_ports[i]);
		fcrt_spec_annotate(s, "org.opencontainers.image.exposedPorts", ports.data);
	}
	if (c->stop_signal)
		fcrt_spec_annotate(s, "org.opencontainers.image.stopSignal", c->stop_signal);
	return s;
}

int cmd_image_bundle(struct fcsnap_store *s, const char *name, const char *dir,
                     const struct fcsnap_bundle_opts *opts, struct fc_error **err)
{
	static const struct fcsnap_bundle_opts defaults = {0};
	struct fcsnap_image *img = NULL;
	_cleanup_strv_ char **own = NULL;
	_cleanup_spec_ struct fc_spec *spec = NULL;
	_cleanup_buf_ struct fc_buf json = {0};
	_cleanup_free_ char *cpath = fc_asprintf("%s/config.json", dir);
	uid_t uid;
	gid_t gid;
	if (!opts)
		opts = &defaults;
	int r = fcsnap_image_get(s, name, &img, err);
	if (r < 0)
		return r;
	char **args = opts->args ? opts->args : (own = fcsnap_image_args(img));
	if (!args[0]) {
		r = fc_error_set(err, EINVAL, "image `%s` has no Entrypoint or Cmd; give a command",
		                 name);
		goto out;
	}
	r = fcsnap_resolve_user(img, &uid, &gid, err);
	if (r < 0)
		goto out;
	spec = image_spec(img, args, uid, gid);
	fcrt_spec_json(spec, true, &json);
	fc_buf_append(&json, "\n", 1);
	r = fcsnap_bundle_rootfs(img, dir, opts->copy, err);
	if (r < 0)
		goto out;
	r = fc_write_file_atomic_at(AT_FDCWD, cpath, json.data, json.len, 0644, err);
	if (r < 0)
		fcsnap_unbundle(dir, NULL);
out:
	fcsnap_image_free(img);
	return r;
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
	int r = cmd_image_bundle(s, pos[0], pos[1], &o, &e);
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
	    {"import", do_import}, {"pull", do_pull},       {"ls", do_ls},
	    {"list", do_ls},       {"inspect", do_inspect}, {"rm", do_rm},
	    {"gc", do_gc},         {"bundle", do_bundle},   {"unmount", do_unmount},
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
