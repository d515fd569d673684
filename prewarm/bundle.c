/* SPDX-License-Identifier: MIT */
/* bundle.c: a function's sandboxes from its image and settings (bundle.h).
 * The spec starts from libfcrt's one default (fcrt_spec_default: the
 * capabilities, masked and read-only paths, devices and namespaces every
 * container of the project gets) and only says what makes it a function's:
 * its command, environment, user and cwd, its hostname, a writable root, its
 * limits, a /tmp of its own, a cgroup namespace, no /dev/mqueue and no
 * cgroupfs (functions need neither, and each mount costs every sandbox). */
#include "bundle.h"
#include "fcrt.h"
#include "fcsnap.h"

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static bool has_key(char *const *v, const char *kv)
{
	size_t kl = strcspn(kv, "=");
	for (size_t i = 0; v && v[i]; i++)
		if (strncmp(v[i], kv, kl) == 0 && v[i][kl] == '=')
			return true;
	return false;
}

/* The function's entries, then the image's it does not set, then PATH. */
static char **environment(const struct fcsnap_config *c, char *const *fn_env)
{
	char **env = fc_calloc(fc_strv_len(c->env) + fc_strv_len(fn_env) + 2, sizeof(char *));
	size_t n = 0;
	for (size_t i = 0; fn_env && fn_env[i]; i++)
		env[n++] = fc_strdup(fn_env[i]);
	for (size_t i = 0; c->env && c->env[i]; i++)
		if (!has_key(fn_env, c->env[i]))
			env[n++] = fc_strdup(c->env[i]);
	if (!has_key(env, DEFAULT_PATH))
		env[n++] = fc_strdup(DEFAULT_PATH);
	return env;
}

static struct fc_spec *sandbox_spec(const struct fcsnap_image *img, const struct fcpool_fn_spec *s,
                                    char *const *args, uid_t uid, gid_t gid)
{
	const struct fcsnap_config *c = &img->config;
	struct fc_spec *spec = fcrt_spec_default();
	struct fc_process *p = spec->process;
	p->terminal = false;
	fcrt_spec_set_args(spec, args);
	fc_strv_free(p->env);
	p->env = environment(c, s->env);
	free(p->cwd);
	p->cwd = fc_strdup(c->workdir && *c->workdir ? c->workdir : "/");
	p->uid = (uint32_t)uid;
	p->gid = (uint32_t)gid;
	spec->root_readonly = false;
	free(spec->hostname);
	spec->hostname = fc_strdup(s->name);
	fcrt_spec_remove_mount(spec, "/dev/mqueue");
	fcrt_spec_remove_mount(spec, "/sys/fs/cgroup");
	fcrt_spec_add_mount(
	    spec, "/tmp", "tmpfs", "tmpfs",
	    (const char *const[]){"nosuid", "nodev", "mode=1777", "size=65536k", NULL});
	fcrt_spec_set_namespace(spec, FC_NS_CGROUP, NULL);
	fcrt_spec_annotate(spec, "io.fcstart.function", s->name);
	fcrt_spec_annotate(spec, "io.fcstart.image.manifest", img->manifest_digest);
	struct fc_resources *r = spec->resources;
	if (s->memory) {
		r->memory.has_limit = true;
		r->memory.limit = (int64_t)s->memory;
	}
	if (s->cpus > 0) {
		r->cpu.has_quota = r->cpu.has_period = true;
		r->cpu.quota = (int64_t)(s->cpus * 100000);
		r->cpu.period = 100000;
	}
	if (s->pids) {
		r->pids.has_limit = true;
		r->pids.limit = s->pids;
	}
	return spec;
}

int bundle_make(struct fcsnap_store *st, const struct fcpool_fn_spec *s, struct bundle **out,
                struct fc_error **err)
{
	struct fcsnap_image *img = NULL;
	/* the image: a name in the store, or a reference pulled as the label
	 * com.fcstart.pull says (missing by default; fcstart fn deploy --pull).
	 * The pull runs here, in the deploy: other requests wait for it. */
	int policy = FCSNAP_PULL_MISSING;
	for (size_t i = 0; s->labels && s->labels[i]; i++)
		if (strncmp(s->labels[i], "com.fcstart.pull=", 17) == 0 &&
		    (policy = fcsnap_pull_policy_parse(s->labels[i] + 17)) < 0)
			return fc_error_set(
			    err, EINVAL,
			    "function `%s`: label `%s`: expected always, missing or "
			    "never",
			    s->name, s->labels[i]);
	int r =
	    fcsnap_image_get_ref(st, s->image, (enum fcsnap_pull_policy)policy, NULL, &img, err);
	if (r < 0)
		return fc_error_wrap(err, "function `%s`", s->name);
	_cleanup_strv_ char **own = NULL;
	char *const *args = s->args;
	if (!args) {
		size_t ne = fc_strv_len(img->config.entrypoint), nc = fc_strv_len(img->config.cmd);
		own = fc_calloc(ne + nc + 1, sizeof(char *));
		for (size_t i = 0; i < ne; i++)
			own[i] = fc_strdup(img->config.entrypoint[i]);
		for (size_t i = 0; i < nc; i++)
			own[ne + i] = fc_strdup(img->config.cmd[i]);
		args = own;
	}
	uid_t uid = 0;
	gid_t gid = 0;
	if (!args[0]) {
		r = fc_error_set(
		    err, EINVAL,
		    "function `%s`: image `%s` has no Entrypoint or Cmd; give a command", s->name,
		    s->image);
		goto out;
	}
	r = fcsnap_resolve_user(img, &uid, &gid, err);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < img->n_layers; i++)
		if (strpbrk(img->layer_dirs[i], ":,\n")) {
			r = fc_error_set(err, EINVAL,
			                 "layer dir `%s` contains `:`, `,` or a newline",
			                 img->layer_dirs[i]);
			goto out;
		}
	struct bundle *b = fc_calloc(1, sizeof(*b));
	b->spec = sandbox_spec(img, s, args, uid, gid);
	b->layers = fc_calloc(img->n_layers + 1, sizeof(char *));
	for (size_t i = 0; i < img->n_layers; i++)
		b->layers[i] = fc_strdup(img->layer_dirs[i]);
	b->n_layers = img->n_layers;
	*out = b;
out:
	fcsnap_image_free(img);
	return r;
}

void bundle_free(struct bundle *b)
{
	if (!b)
		return;
	fcrt_spec_free(b->spec);
	fc_strv_free(b->layers);
	free(b);
}

void bundle_text(const struct bundle *b, struct fc_buf *out)
{
	for (size_t i = 0; i < b->n_layers; i++)
		fc_buf_printf(out, "%s\n", b->layers[i]);
	fc_buf_printf(out, "\n");
	fcrt_spec_json(b->spec, false, out);
}

int bundle_parse(const char *text, size_t len, struct bundle **out, struct fc_error **err)
{
	/* the layers end at the first empty line */
	const char *end = text[0] == '\n' ? text : memmem(text, len, "\n\n", 2);
	if (!end)
		return fc_error_set(err, EPROTO, "a function's bundle without its spec");
	const char *json = end + (text[0] == '\n' ? 1 : 2);
	struct bundle *b = fc_calloc(1, sizeof(*b));
	b->layers = fc_calloc((size_t)(end - text) / 2 + 2, sizeof(char *));
	for (const char *l = text; l < end;) {
		const char *nl = memchr(l, '\n', (size_t)(end - l));
		if (!nl)
			nl = end;
		b->layers[b->n_layers++] = fc_strndup(l, (size_t)(nl - l));
		l = nl + 1;
	}
	int r = fcrt_spec_parse(json, len - (size_t)(json - text), NULL, &b->spec, err);
	if (r < 0) {
		bundle_free(b);
		return r;
	}
	*out = b;
	return 0;
}

int bundle_create(const struct bundle *b, const char *rt_root, const char *id, const char *dir,
                  struct fcrt_container **out, struct fc_error **err)
{
	_cleanup_free_ char *rootfs = fc_asprintf("%s/rootfs", dir);
	_cleanup_free_ char *upper = fc_asprintf("%s/upper", dir);
	_cleanup_free_ char *work = fc_asprintf("%s/work", dir);
	int r = fcsnap_mount_overlay(b->layers, b->n_layers, upper, work, rootfs, err);
	if (r < 0)
		return r;
	struct fcrt_create_opts o = {
	    .root = rt_root, .id = id, .bundle = dir, .spec = b->spec, .wait = FCRT_WAIT_SOCKET};
	return fcrt_create(&o, out, err);
}
