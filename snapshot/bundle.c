/* SPDX-License-Identifier: MIT */
/* bundle.c: an OCI runtime bundle from an image: config.json (the image config
 * over a default spec like `runc spec`) and its rootfs. */
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "snap-private.h"

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static char *config_json(const struct fcsnap_image *img, char **args, uid_t uid, gid_t gid)
{
	const struct fcsnap_config *c = &img->config;
	struct fc_buf b = {0};
	bool have_path = false;
	for (size_t i = 0; c->env && c->env[i]; i++)
		if (strncmp(c->env[i], "PATH=", 5) == 0)
			have_path = true;
	fc_buf_printf(
	    &b, "{\n\t\"ociVersion\": \"1.0.2\",\n\t\"process\": {\n\t\t\"terminal\": false,\n");
	fc_buf_printf(&b,
	              "\t\t\"user\": { \"uid\": %u, \"gid\": %u },\n\t\t\"args\": ", (unsigned)uid,
	              (unsigned)gid);
	snap_json_strv(&b, args);
	fc_buf_printf(&b, ",\n\t\t\"env\": [");
	bool first = true;
	if (!have_path) {
		fc_buf_json_string(&b, DEFAULT_PATH);
		first = false;
	}
	for (size_t i = 0; c->env && c->env[i]; i++) {
		if (!first)
			fc_buf_printf(&b, ", ");
		fc_buf_json_string(&b, c->env[i]);
		first = false;
	}
	fc_buf_printf(&b, "],\n\t\t\"cwd\": ");
	fc_buf_json_string(&b, c->workdir && *c->workdir ? c->workdir : "/");
	fc_buf_printf(
	    &b,
	    ",\n"
	    "\t\t\"capabilities\": {\n"
	    "\t\t\t\"bounding\": [ \"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\" ],\n"
	    "\t\t\t\"effective\": [ \"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\" "
	    "],\n"
	    "\t\t\t\"permitted\": [ \"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\" "
	    "],\n"
	    "\t\t\t\"ambient\": [ \"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\" ]\n"
	    "\t\t},\n"
	    "\t\t\"rlimits\": [ { \"type\": \"RLIMIT_NOFILE\", \"hard\": 1024, \"soft\": 1024 } "
	    "],\n"
	    "\t\t\"noNewPrivileges\": true\n"
	    "\t},\n"
	    "\t\"root\": { \"path\": \"rootfs\", \"readonly\": false },\n"
	    "\t\"hostname\": \"fcstart\",\n"
	    "\t\"mounts\": [\n"
	    "\t\t{ \"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\" },\n"
	    "\t\t{ \"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\", "
	    "\"options\": [ \"nosuid\", \"strictatime\", \"mode=755\", \"size=65536k\" ] },\n"
	    "\t\t{ \"destination\": \"/dev/pts\", \"type\": \"devpts\", \"source\": \"devpts\", "
	    "\"options\": [ \"nosuid\", \"noexec\", \"newinstance\", \"ptmxmode=0666\", "
	    "\"mode=0620\", \"gid=5\" ] },\n"
	    "\t\t{ \"destination\": \"/dev/shm\", \"type\": \"tmpfs\", \"source\": \"shm\", "
	    "\"options\": [ \"nosuid\", \"noexec\", \"nodev\", \"mode=1777\", \"size=65536k\" ] "
	    "},\n"
	    "\t\t{ \"destination\": \"/dev/mqueue\", \"type\": \"mqueue\", \"source\": \"mqueue\", "
	    "\"options\": [ \"nosuid\", \"noexec\", \"nodev\" ] },\n"
	    "\t\t{ \"destination\": \"/sys\", \"type\": \"sysfs\", \"source\": \"sysfs\", "
	    "\"options\": [ \"nosuid\", \"noexec\", \"nodev\", \"ro\" ] },\n"
	    "\t\t{ \"destination\": \"/sys/fs/cgroup\", \"type\": \"cgroup\", \"source\": "
	    "\"cgroup\", \"options\": [ \"nosuid\", \"noexec\", \"nodev\", \"relatime\", \"ro\" ] "
	    "}\n"
	    "\t],\n"
	    "\t\"annotations\": {\n\t\t\"io.fcstart.image.name\": ");
	fc_buf_json_string(&b, img->name);
	fc_buf_printf(&b, ",\n\t\t\"io.fcstart.image.manifest\": ");
	fc_buf_json_string(&b, img->manifest_digest);
	if (c->exposed_ports && c->exposed_ports[0]) {
		struct fc_buf p = {0};
		for (size_t i = 0; c->exposed_ports[i]; i++)
			fc_buf_printf(&p, "%s%s", i ? "," : "", c->exposed_ports[i]);
		fc_buf_printf(&b, ",\n\t\t\"org.opencontainers.image.exposedPorts\": ");
		fc_buf_json_string(&b, p.data);
		free(p.data);
	}
	if (c->stop_signal) {
		fc_buf_printf(&b, ",\n\t\t\"org.opencontainers.image.stopSignal\": ");
		fc_buf_json_string(&b, c->stop_signal);
	}
	fc_buf_printf(
	    &b,
	    "\n\t},\n"
	    "\t\"linux\": {\n"
	    "\t\t\"resources\": { \"devices\": [ { \"allow\": false, \"access\": \"rwm\" } ] },\n"
	    "\t\t\"namespaces\": [ { \"type\": \"pid\" }, { \"type\": \"network\" }, { \"type\": "
	    "\"ipc\" }, { \"type\": \"uts\" }, { \"type\": \"mount\" }, { \"type\": \"cgroup\" } "
	    "],\n"
	    "\t\t\"maskedPaths\": [ \"/proc/acpi\", \"/proc/asound\", \"/proc/kcore\", "
	    "\"/proc/keys\", \"/proc/latency_stats\", \"/proc/timer_list\",\n"
	    "\t\t\t\"/proc/timer_stats\", \"/proc/sched_debug\", \"/sys/firmware\", \"/proc/scsi\" "
	    "],\n"
	    "\t\t\"readonlyPaths\": [ \"/proc/bus\", \"/proc/fs\", \"/proc/irq\", \"/proc/sys\", "
	    "\"/proc/sysrq-trigger\" ]\n"
	    "\t}\n}\n");
	return b.data;
}

int fcsnap_bundle(struct fcsnap_store *s, const char *name, const char *dir,
                  const struct fcsnap_bundle_opts *opts, struct fc_error **err)
{
	struct fcsnap_image *img = NULL;
	static const struct fcsnap_bundle_opts defaults = {0};
	if (!opts)
		opts = &defaults;
	int r = fcsnap_image_get(s, name, &img, err);
	if (r < 0)
		return r;
	char **args = opts->args;
	_cleanup_strv_ char **own = NULL;
	if (!args) {
		size_t ne = fc_strv_len(img->config.entrypoint), nc = fc_strv_len(img->config.cmd);
		own = fc_calloc(ne + nc + 1, sizeof(char *));
		for (size_t i = 0; i < ne; i++)
			own[i] = fc_strdup(img->config.entrypoint[i]);
		for (size_t i = 0; i < nc; i++)
			own[ne + i] = fc_strdup(img->config.cmd[i]);
		args = own;
	}
	_cleanup_free_ char *json = NULL, *rootfs = NULL, *upper = NULL, *work = NULL,
	                    *cpath = NULL;
	uid_t uid;
	gid_t gid;
	if (!args[0]) {
		r = fc_error_set(err, EINVAL, "image `%s` has no Entrypoint or Cmd; give a command",
		                 name);
		goto out;
	}
	r = fcsnap_resolve_user(img, &uid, &gid, err);
	if (r < 0)
		goto out;
	r = fc_mkdir_p_at(AT_FDCWD, dir, 0711, err);
	if (r < 0)
		goto out;
	rootfs = fc_asprintf("%s/rootfs", dir);
	upper = fc_asprintf("%s/upper", dir);
	work = fc_asprintf("%s/work", dir);
	struct stat st;
	if (stat(rootfs, &st) == 0) {
		r = fc_error_set(err, EEXIST, "bundle `%s` already has a rootfs", dir);
		goto out;
	}
	if (opts->copy) {
		r = fcsnap_copy_rootfs(img, rootfs, err);
		if (r < 0) {
			fc_rm_rf_at(AT_FDCWD, rootfs, NULL);
			goto out;
		}
	} else {
		r = fcsnap_mount_rootfs(img, rootfs, upper, work, err);
		if (r < 0) {
			rmdir(rootfs);
			fc_rm_rf_at(AT_FDCWD, upper, NULL);
			fc_rm_rf_at(AT_FDCWD, work, NULL);
			goto out;
		}
	}
	json = config_json(img, args, uid, gid);
	cpath = fc_asprintf("%s/config.json", dir);
	r = fc_write_file_atomic_at(AT_FDCWD, cpath, json, strlen(json), 0644, err);
	if (r < 0) {
		struct fc_error *e2 = NULL;
		fcsnap_unbundle(dir, &e2);
		fc_error_free(e2);
	}
out:
	fcsnap_image_free(img);
	return r;
}

int fcsnap_unbundle(const char *dir, struct fc_error **err)
{
	_cleanup_free_ char *rootfs = fc_asprintf("%s/rootfs", dir);
	_cleanup_free_ char *upper = fc_asprintf("%s/upper", dir);
	_cleanup_free_ char *work = fc_asprintf("%s/work", dir);
	_cleanup_free_ char *cfg = fc_asprintf("%s/config.json", dir);
	struct stat st, pst;
	_cleanup_free_ char *parent = fc_asprintf("%s/..", rootfs);
	if (stat(rootfs, &st) < 0)
		return fc_error_set(err, errno, "bundle `%s`: rootfs", dir);
	/* a mount point has another device than its parent (or is listed busy) */
	if (stat(dir, &pst) == 0 && (st.st_dev != pst.st_dev)) {
		if (fcsnap_unmount_rootfs(rootfs, err) < 0)
			return fc_error_code(*err);
	} else if (umount2(rootfs, UMOUNT_NOFOLLOW) < 0 && errno != EINVAL) {
		return fc_error_set(err, errno, "unmount `%s`", rootfs);
	}
	if (fc_rm_rf_at(AT_FDCWD, rootfs, err) < 0 || fc_rm_rf_at(AT_FDCWD, upper, err) < 0 ||
	    fc_rm_rf_at(AT_FDCWD, work, err) < 0)
		return fc_error_wrap(err, "bundle `%s`", dir);
	unlink(cfg);
	return 0;
}
