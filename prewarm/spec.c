/* SPDX-License-Identifier: MIT */
/* spec.c: a function's OCI config.json from its image and deploy spec. One
 * config per function, shared by its sandboxes; root.path "rootfs" resolves
 * against each sandbox's own bundle dir (its overlay). */
#include <fcntl.h>

#include "fcsnap.h"
#include "spec.h"

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define CAPS         "[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"]"

static void strv(struct fc_buf *b, char *const *v)
{
	fc_buf_printf(b, "[");
	for (size_t i = 0; v && v[i]; i++) {
		if (i)
			fc_buf_printf(b, ",");
		fc_buf_json_string(b, v[i]);
	}
	fc_buf_printf(b, "]");
}

static bool has_key(char *const *v, const char *kv)
{
	size_t kl = strcspn(kv, "=");
	for (size_t i = 0; v && v[i]; i++)
		if (strncmp(v[i], kv, kl) == 0 && v[i][kl] == '=')
			return true;
	return false;
}

static char *config_json(const struct fcsnap_image *img, const struct fcpool_fn_spec *s,
                         char **args, uid_t uid, gid_t gid)
{
	const struct fcsnap_config *c = &img->config;
	struct fc_buf b = {0};
	/* env: the function's entries win over the image's */
	char **env = NULL;
	size_t n = 0;
	env = fc_calloc(fc_strv_len(c->env) + fc_strv_len(s->env) + 3, sizeof(char *));
	for (size_t i = 0; s->env && s->env[i]; i++)
		env[n++] = s->env[i];
	for (size_t i = 0; c->env && c->env[i]; i++)
		if (!has_key(s->env, c->env[i]))
			env[n++] = c->env[i];
	if (!has_key(env, DEFAULT_PATH))
		env[n++] = DEFAULT_PATH;
	fc_buf_printf(&b, "{\"ociVersion\":\"1.0.2\",\"process\":{\"terminal\":false,");
	fc_buf_printf(&b, "\"user\":{\"uid\":%u,\"gid\":%u},\"args\":", (unsigned)uid,
	              (unsigned)gid);
	strv(&b, args);
	fc_buf_printf(&b, ",\"env\":");
	strv(&b, env);
	free(env);
	fc_buf_printf(&b, ",\"cwd\":");
	fc_buf_json_string(&b, c->workdir && *c->workdir ? c->workdir : "/");
	fc_buf_printf(&b, ",\"capabilities\":{\"bounding\":" CAPS ",\"effective\":" CAPS
	                  ",\"permitted\":" CAPS ",\"ambient\":" CAPS "},"
	                  "\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1024,\"soft\":1024}],"
	                  "\"noNewPrivileges\":true},"
	                  "\"root\":{\"path\":\"rootfs\",\"readonly\":false},\"hostname\":");
	fc_buf_json_string(&b, s->name);
	fc_buf_printf(&b, ",\"mounts\":["
	                  "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
	                  "{\"destination\":\"/"
	                  "dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"nosuid\","
	                  "\"strictatime\",\"mode=755\",\"size=65536k\"]},"
	                  "{\"destination\":\"/dev/"
	                  "pts\",\"type\":\"devpts\",\"source\":\"devpts\",\"options\":[\"nosuid\","
	                  "\"noexec\",\"newinstance\",\"ptmxmode=0666\",\"mode=0620\"]},"
	                  "{\"destination\":\"/dev/"
	                  "shm\",\"type\":\"tmpfs\",\"source\":\"shm\",\"options\":[\"nosuid\","
	                  "\"noexec\",\"nodev\",\"mode=1777\",\"size=65536k\"]},"
	                  "{\"destination\":\"/"
	                  "tmp\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"nosuid\","
	                  "\"nodev\",\"mode=1777\",\"size=65536k\"]},"
	                  "{\"destination\":\"/"
	                  "sys\",\"type\":\"sysfs\",\"source\":\"sysfs\",\"options\":[\"nosuid\","
	                  "\"noexec\",\"nodev\",\"ro\"]}"
	                  "],\"annotations\":{\"io.fcstart.function\":");
	fc_buf_json_string(&b, s->name);
	fc_buf_printf(&b, ",\"io.fcstart.image.manifest\":");
	fc_buf_json_string(&b, img->manifest_digest);
	fc_buf_printf(
	    &b, "},\"linux\":{\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}]");
	if (s->memory)
		fc_buf_printf(&b, ",\"memory\":{\"limit\":%llu}", (unsigned long long)s->memory);
	if (s->cpus > 0)
		fc_buf_printf(&b, ",\"cpu\":{\"quota\":%lld,\"period\":100000}",
		              (long long)(s->cpus * 100000));
	if (s->pids)
		fc_buf_printf(&b, ",\"pids\":{\"limit\":%u}", s->pids);
	fc_buf_printf(
	    &b, "},\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\"},{\"type\":\"ipc\"},{"
	        "\"type\":\"uts\"},{\"type\":\"mount\"},{\"type\":\"cgroup\"}],"
	        "\"maskedPaths\":[\"/proc/acpi\",\"/proc/asound\",\"/proc/kcore\",\"/proc/"
	        "keys\",\"/proc/latency_stats\",\"/proc/timer_list\","
	        "\"/proc/timer_stats\",\"/proc/sched_debug\",\"/sys/firmware\",\"/proc/scsi\"],"
	        "\"readonlyPaths\":[\"/proc/bus\",\"/proc/fs\",\"/proc/irq\",\"/proc/sys\",\"/proc/"
	        "sysrq-trigger\"]}}\n");
	return b.data;
}

int fn_prepare(struct fcsnap_store *st, const char *root, const struct fcpool_fn_spec *s,
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
	char **args = s->args;
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
	_cleanup_free_ char *json = NULL, *dir = NULL, *cfg = NULL;
	struct fc_buf lo = {0};
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
	for (size_t i = 0; i < img->n_layers; i++) {
		if (strpbrk(img->layer_dirs[i], ":,\n")) {
			r = fc_error_set(err, EINVAL,
			                 "layer dir `%s` contains `:`, `,` or a newline",
			                 img->layer_dirs[i]);
			goto out;
		}
		fc_buf_printf(&lo, "%s\n", img->layer_dirs[i]);
	}
	json = config_json(img, s, args, uid, gid);
	dir = fc_asprintf("%s/functions/%s", root, s->name);
	cfg = fc_asprintf("%s/config.json", dir);
	r = fc_mkdir_p_at(AT_FDCWD, dir, 0700, err);
	if (r >= 0) {
		_cleanup_free_ char *lp = fc_asprintf("%s/layers", dir);
		r = fc_write_file_atomic_at(AT_FDCWD, lp, lo.data, lo.len, 0600, err);
	}
	if (r >= 0)
		r = fc_write_file_atomic_at(AT_FDCWD, cfg, json, strlen(json), 0600, err);
	if (r >= 0) {
		struct fc_buf sj = {0};
		_cleanup_free_ char *fj = fc_asprintf("%s/function.json", dir);
		fcpool_fn_spec_json(s, &sj);
		r = fc_write_file_atomic_at(AT_FDCWD, fj, sj.data, sj.len, 0600, err);
		free(sj.data);
	}
out:
	free(lo.data);
	fcsnap_image_free(img);
	return r;
}
