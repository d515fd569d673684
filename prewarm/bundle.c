/* SPDX-License-Identifier: MIT */
/* bundle.c: a function's sandboxes from its image and settings (bundle.h).
 * The spec starts from libfcrt's one default (fcrt_spec_default: the
 * capabilities, masked and read-only paths, devices and namespaces every
 * container of the project gets) and only says what makes it a function's:
 * its command, environment, user and cwd, its hostname, a writable root, its
 * limits, a /tmp of its own, a cgroup namespace, no /dev/mqueue and no
 * cgroupfs (functions need neither, and each mount costs every sandbox). */
#include <fcntl.h>
#include <sched.h>
#include <linux/mount.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

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

static struct fc_idmap *idmap(uint32_t base)
{
	struct fc_idmap *m = fc_calloc(1, sizeof(*m));
	*m = (struct fc_idmap){.container_id = 0, .host_id = base, .size = BUNDLE_USERNS_SIZE};
	return m;
}

static struct fc_spec *sandbox_spec(const struct fcsnap_image *img, const struct fcpool_fn_spec *s,
                                    char *const *args, uid_t uid, gid_t gid, uint32_t uid_base)
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
	spec->root_readonly = s->read_only;
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
	if (uid_base) {
		/* root inside is uid_base outside: what escapes the sandbox is
		 * an unprivileged user that owns nothing on the host */
		fcrt_spec_set_namespace(spec, FC_NS_USER, NULL);
		spec->uid_mappings = idmap(uid_base);
		spec->gid_mappings = idmap(uid_base);
		spec->n_uid_mappings = spec->n_gid_mappings = 1;
	}
	return spec;
}

/* The value of KEY in a KEY=VALUE vector, or NULL. */
static const char *getenv_in(char *const *env, const char *key)
{
	size_t kl = strlen(key);
	for (size_t i = 0; env && env[i]; i++)
		if (strncmp(env[i], key, kl) == 0 && env[i][kl] == '=')
			return env[i] + kl + 1;
	return NULL;
}

bool bundle_image_has_watchdog(char *const *entrypoint, char *const *cmd, char *const *env)
{
	const char *prog = entrypoint && entrypoint[0] ? entrypoint[0] : cmd ? cmd[0] : NULL;
	if (prog) {
		const char *base = strrchr(prog, '/');
		base = base ? base + 1 : prog;
		size_t n = strlen(base);
		if (n >= 8 && strcmp(base + n - 8, "watchdog") == 0)
			return true;
	}
	return getenv_in(env, "fprocess") != NULL;
}

void bundle_add_secrets(struct bundle *b, const char *dir)
{
	fcrt_spec_remove_mount(b->spec, "/var/openfaas/secrets");
	fcrt_spec_add_mount(b->spec, "/var/openfaas/secrets", "bind", dir,
	                    (const char *const[]){"bind", "ro", "nosuid", "nodev", "noexec", NULL});
}

void bundle_add_helper(struct bundle *b, const char *dir)
{
	fcrt_spec_remove_mount(b->spec, "/.fcstart/python");
	fcrt_spec_add_mount(b->spec, "/.fcstart/python", "bind", dir,
	                    (const char *const[]){"bind", "ro", "nosuid", "nodev", NULL});
	const char *pp = NULL;
	for (size_t i = 0; b->spec->process && b->spec->process->env && b->spec->process->env[i];
	     i++)
		if (strncmp(b->spec->process->env[i], "PYTHONPATH=", 11) == 0)
			pp = b->spec->process->env[i] + 11;
	_cleanup_free_ char *kv = pp && *pp ? fc_asprintf("PYTHONPATH=%s:/.fcstart/python", pp)
	                                    : fc_strdup("PYTHONPATH=/.fcstart/python");
	if (!pp || !strstr(pp, "/.fcstart/python"))
		fcrt_spec_setenv(b->spec, kv);
}

int bundle_pull_policy(const struct fcpool_fn_spec *s, struct fc_error **err)
{
	int policy = FCSNAP_PULL_MISSING;
	for (size_t i = 0; s->labels && s->labels[i]; i++)
		if (strncmp(s->labels[i], "com.fcstart.pull=", 17) == 0 &&
		    (policy = fcsnap_pull_policy_parse(s->labels[i] + 17)) < 0)
			return fc_error_set(
			    err, EINVAL,
			    "function `%s`: label `%s`: expected always, missing or "
			    "never",
			    s->name, s->labels[i]);
	return policy;
}

/* bundle_make with the image's pull policy given */
static int make(struct fcsnap_store *st, const struct fcpool_fn_spec *s, uint32_t uid_base,
                int policy, struct bundle **out, struct fc_error **err)
{
	struct fcsnap_image *img = NULL;
	int r =
	    fcsnap_image_get_ref(st, s->image, (enum fcsnap_pull_policy)policy, NULL, &img, err);
	if (r < 0)
		return fc_error_wrap(err, "function `%s`", s->name);
	_cleanup_strv_ char **own = NULL;
	char *const *args = s->args;
	bool watchdog =
	    bundle_image_has_watchdog(img->config.entrypoint, img->config.cmd, img->config.env);
	const char *fprocess = getenv_in(s->env, "fprocess");
	if (!args && !watchdog && fprocess && *fprocess) {
		own = fc_calloc(4, sizeof(char *));
		own[0] = fc_strdup("/bin/sh");
		own[1] = fc_strdup("-c");
		own[2] = fc_strdup(fprocess);
		args = own;
	} else if (!args) {
		args = own = fcsnap_image_args(img);
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
	if (uid_base && (uid >= BUNDLE_USERNS_SIZE || gid >= BUNDLE_USERNS_SIZE)) {
		r = fc_error_set(err, EINVAL,
		                 "function `%s`: image `%s` runs as %u:%u, outside the sandbox's "
		                 "user namespace (0..%u); deploy it with --userns host",
		                 s->name, s->image, (unsigned)uid, (unsigned)gid,
		                 BUNDLE_USERNS_SIZE - 1);
		goto out;
	}
	for (size_t i = 0; i < img->n_layers; i++)
		if (strpbrk(img->layer_dirs[i], ":,\n")) {
			r = fc_error_set(err, EINVAL,
			                 "layer dir `%s` contains `:`, `,` or a newline",
			                 img->layer_dirs[i]);
			goto out;
		}
	struct bundle *b = fc_calloc(1, sizeof(*b));
	b->spec = sandbox_spec(img, s, args, uid, gid, uid_base);
	b->uid_base = uid_base;
	b->mode = s->mode_auto ? (watchdog ? FCPOOL_HTTP : FCPOOL_CLASSIC) : s->mode;
	b->host_uid = uid_base + uid;
	b->host_gid = uid_base + gid;
	b->prewarm = s->prewarm;
	fcrt_spec_annotate(b->spec, "io.fcstart.mode", b->mode == FCPOOL_HTTP ? "http" : "classic");
	if (s->prewarm != FCPOOL_PREWARM_EXEC) {
		/* the function (and fcstart's helper in it) can tell how it runs */
		_cleanup_free_ char *pw =
		    fc_asprintf("FCSTART_PREWARM=%s", fcpool_prewarm_name(s->prewarm));
		_cleanup_free_ char *md =
		    fc_asprintf("FCSTART_MODE=%s", b->mode == FCPOOL_HTTP ? "http" : "classic");
		fcrt_spec_setenv(b->spec, pw);
		fcrt_spec_setenv(b->spec, md);
		fcrt_spec_annotate(b->spec, "io.fcstart.prewarm", fcpool_prewarm_name(s->prewarm));
	}
	b->layers = fc_calloc(img->n_layers + 1, sizeof(char *));
	for (size_t i = 0; i < img->n_layers; i++)
		b->layers[i] = fc_strdup(img->layer_dirs[i]);
	b->n_layers = img->n_layers;
	*out = b;
out:
	fcsnap_image_free(img);
	return r;
}

int bundle_make(struct fcsnap_store *st, const struct fcpool_fn_spec *s, uint32_t uid_base,
                struct bundle **out, struct fc_error **err)
{
	/* the image: a name in the store, or a reference pulled as the label
	 * com.fcstart.pull says (missing by default; fcstart fn deploy --pull).
	 * A pull here runs in the deploy, other requests waiting for it (the
	 * front ends have the image pulled beforehand, by a child: pulls.c,
	 * then bundle_make_pulled). */
	int policy = bundle_pull_policy(s, err);
	if (policy < 0)
		return policy;
	return make(st, s, uid_base, policy, out, err);
}

int bundle_make_pulled(struct fcsnap_store *st, const struct fcpool_fn_spec *s, uint32_t uid_base,
                       struct bundle **out, struct fc_error **err)
{
	return make(st, s, uid_base, FCSNAP_PULL_MISSING, out, err);
}

void bundle_free(struct bundle *b)
{
	if (!b)
		return;
	for (size_t i = 0; b->layer_fds && i < b->n_layers; i++)
		if (b->layer_fds[i] >= 0)
			close(b->layer_fds[i]);
	free(b->layer_fds);
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
	if (b->spec->n_uid_mappings)
		b->uid_base = b->spec->uid_mappings[0].host_id;
	for (size_t i = 0; i < b->spec->n_annotations; i++) {
		const struct fc_kv *a = &b->spec->annotations[i];
		if (FC_STREQ(a->key, "io.fcstart.prewarm"))
			fcpool_prewarm_parse(a->value, &b->prewarm);
		else if (FC_STREQ(a->key, "io.fcstart.mode"))
			b->mode = FC_STREQ(a->value, "http") ? FCPOOL_HTTP : FCPOOL_CLASSIC;
	}
	*out = b;
	return 0;
}

/* A user namespace mapping 0..SIZE-1 to base.. (uids and gids), for
 * MOUNT_ATTR_IDMAP. The fork server is single-threaded, so it may fork. */
static int userns_fd(uint32_t base, struct fc_error **err)
{
	struct fc_idmap map = {.container_id = 0, .host_id = base, .size = BUNDLE_USERNS_SIZE};
	return fcrt_userns_fd(&map, 1, &map, 1, err);
}

int bundle_prepare(struct bundle *b, struct fc_error **err)
{
	if (!b->uid_base || b->layer_fds)
		return 0;
	_cleanup_close_ int ns = userns_fd(b->uid_base, err);
	if (ns < 0)
		return ns;
	b->layer_fds = fc_calloc(b->n_layers + 1, sizeof(int));
	for (size_t i = 0; i < b->n_layers; i++)
		b->layer_fds[i] = -1;
	for (size_t i = 0; i < b->n_layers; i++) {
		int fd = (int)syscall(SYS_open_tree, AT_FDCWD, b->layers[i],
		                      OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
		if (fd < 0)
			return fc_error_set(err, errno, "idmapped layer `%s`: open_tree",
			                    b->layers[i]);
		b->layer_fds[i] = fd;
		struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP | MOUNT_ATTR_RDONLY,
		                          .userns_fd = (uint64_t)ns};
		if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0)
			return fc_error_set(err, errno,
			                    "idmapped layer `%s` (does its filesystem support "
			                    "idmapped mounts?)",
			                    b->layers[i]);
	}
	return 0;
}

/* fsconfig's own words for a failure (its log: "e overlay: ..."), else step. */
static const char *fs_log(int fs, char *buf, size_t len, const char *step)
{
	ssize_t k = fs >= 0 ? read(fs, buf, len - 1) : -1;
	if (k > 2 && buf[1] == ' ') {
		buf[k - (buf[k - 1] == '\n')] = '\0';
		return buf + 2;
	}
	return step;
}

/* The sandbox's tmpfs (the overlay's upper and work dirs, its size cap), as
 * a detached mount (*tmpfs: it must stay open until the overlay is made,
 * which clones it); with a user namespace, upper belongs to its root. */
static int sandbox_tmpfs(const struct bundle *b, int *tmpfs, int *up, int *wk,
                         struct fc_error **err)
{
	char num[32], log[256];
	const char *step = "fsopen";
	_cleanup_close_ int fs = (int)syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC);
	int t = -1;
	int r = fs < 0 ? -errno : 0;
	if (r == 0 && (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "size", "64m", 0) < 0 ||
	               syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "mode", "0700", 0) < 0))
		r = -errno;
	snprintf(num, sizeof(num), "%u", b->uid_base);
	if (r == 0 && b->uid_base &&
	    (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "uid", num, 0) < 0 ||
	     syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "gid", num, 0) < 0))
		r = -errno;
	if (r == 0 && syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
		step = "create";
		r = -errno;
	}
	if (r == 0 && (t = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC,
	                                MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV)) < 0) {
		step = "fsmount";
		r = -errno;
	}
	if (r < 0)
		return fc_error_set(err, -r, "the sandbox's tmpfs: %s",
		                    fs_log(fs, log, sizeof(log), step));
	*tmpfs = t;
	if (mkdirat(t, "upper", 0755) < 0 || mkdirat(t, "work", 0700) < 0)
		return fc_error_set(err, errno, "the sandbox's tmpfs: upper and work dirs");
	/* the overlay's root is its upper dir: root's inside */
	if (b->uid_base && fchownat(t, "upper", b->uid_base, b->uid_base, AT_SYMLINK_NOFOLLOW) < 0)
		return fc_error_set(err, errno, "the sandbox's tmpfs: chown upper");
	*up = openat(t, "upper", O_PATH | O_DIRECTORY | O_CLOEXEC);
	*wk = openat(t, "work", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (*up < 0 || *wk < 0)
		return fc_error_set(err, errno, "the sandbox's tmpfs: open upper and work dirs");
	return 0;
}

int bundle_rootfs(const struct bundle *b, int *out, struct fc_error **err)
{
	_cleanup_close_ int tmpfs = -1, up = -1, wk = -1;
	char log[256];
	int r = sandbox_tmpfs(b, &tmpfs, &up, &wk, err);
	if (r < 0)
		return r;
	if (!b->n_layers)
		return fc_error_set(err, EINVAL, "the sandbox's overlay: no layers");
	_cleanup_close_ int fs = (int)syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC);
	const char *step = "fsopen";
	r = fs < 0 ? -errno : 0;
	/* overlay stacks the top layer first: the idmapped layers as
	 * descriptors, the others by path */
	for (size_t i = b->n_layers; r == 0 && i-- > 0;) {
		step = b->layers[i];
		if ((b->layer_fds ? syscall(SYS_fsconfig, fs, FSCONFIG_SET_FD, "lowerdir+", NULL,
		                            b->layer_fds[i])
		                  : syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "lowerdir+",
		                            b->layers[i], 0)) < 0)
			r = -errno;
	}
	if (r == 0 && (syscall(SYS_fsconfig, fs, FSCONFIG_SET_FD, "upperdir", NULL, up) < 0 ||
	               syscall(SYS_fsconfig, fs, FSCONFIG_SET_FD, "workdir", NULL, wk) < 0)) {
		step = "upperdir/workdir";
		r = -errno;
	}
	if (r == 0 && syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
		step = "create";
		r = -errno;
	}
	int mnt = -1;
	if (r == 0 && (mnt = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, 0)) < 0) {
		step = "fsmount";
		r = -errno;
	}
	if (r < 0)
		return fc_error_set(err, -r, "the sandbox's overlay of %zu layers%s: %s",
		                    b->n_layers, b->layer_fds ? " (idmapped)" : "",
		                    fs_log(fs, log, sizeof(log), step));
	*out = mnt;
	return 0;
}

int bundle_create(const struct bundle *b, const char *rt_root, const char *id,
                  const char *mountpoint, struct fcrt_profile *prof, struct fcrt_container **out,
                  struct fc_error **err)
{
	return bundle_create_in(b, rt_root, id, mountpoint, NULL, false, prof, out, err);
}

int bundle_create_in(const struct bundle *b, const char *rt_root, const char *id,
                     const char *mountpoint, const char *cgroup, bool memory_at_start,
                     struct fcrt_profile *prof, struct fcrt_container **out, struct fc_error **err)
{
	int mnt = -1;
	int r = bundle_rootfs(b, &mnt, err);
	if (r < 0)
		return r;
	if (prof)
		fcrt_profile_mark(prof, "rootfs", fc_now_ns());
	_cleanup_free_ char *dir = fc_strdup(mountpoint);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir)
		*slash = '\0';
	struct fcrt_create_opts o = {.root = rt_root,
	                             .id = id,
	                             .bundle = dir,
	                             .rootfs = mountpoint,
	                             .spec = b->spec,
	                             .wait = FCRT_WAIT_SOCKET,
	                             .has_rootfs_mount = true,
	                             .rootfs_mount = mnt,
	                             .profile = prof,
	                             .cgroup_recycled = cgroup,
	                             .memory_at_start = memory_at_start};
	r = fcrt_create(&o, out, err);
	close(mnt);
	return r;
}
