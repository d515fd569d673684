/* SPDX-License-Identifier: MIT */
/* features.c: the runtime-spec "features" document (`fcrun features`) and the
 * starter config.json (`fcrun spec`), both written by hand in the layout runc
 * prints (features: 4-space indent; spec: tabs, no trailing newline). */
#include "internal.h"
#include "fc-version.h"

#include <seccomp.h>

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void indent(struct fc_buf *b, int level)
{
	for (int i = 0; i < level; i++)
		fc_buf_append(b, "    ", 4);
}

/* "key": [ "a", "b" ] over several lines, sorted when asked. */
static void str_array(struct fc_buf *b, int level, const char *key, const char *const *v, size_t n,
                      bool sort, bool last)
{
	const char **c = fc_calloc(n + 1, sizeof(char *));
	memcpy(c, v, n * sizeof(char *));
	if (sort)
		qsort(c, n, sizeof(char *), cmp_str);
	indent(b, level);
	fc_buf_printf(b, "\"%s\": [", key);
	for (size_t i = 0; i < n; i++) {
		fc_buf_append(b, "\n", 1);
		indent(b, level + 1);
		fc_buf_json_string(b, c[i]);
		if (i + 1 < n)
			fc_buf_append(b, ",", 1);
	}
	if (n) {
		fc_buf_append(b, "\n", 1);
		indent(b, level);
	}
	fc_buf_printf(b, "]%s\n", last ? "" : ",");
	free(c);
}

static size_t strv_count(const char *const *v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

void fcrt_features_json(struct fc_buf *b)
{
	static const char *const hooks[] = {"prestart",       "createRuntime", "createContainer",
	                                    "startContainer", "poststart",     "poststop"};
	const char *mopts[128];
	size_t nm = 0;
	const char *ns[FC_NS_COUNT];
	_cleanup_strv_ char **caps = fc_caps_known();
	const struct scmp_version *sv = seccomp_version();

	for (const char *o; nm < FC_ARRAY_SIZE(mopts) && (o = fc_mount_option_name(nm));)
		mopts[nm++] = o;
	for (int t = 0; t < FC_NS_COUNT; t++)
		ns[t] = fc_ns_name((enum fc_ns_type)t);

	fc_buf_printf(b, "{\n    \"ociVersionMin\": \"1.0.0\",\n    \"ociVersionMax\": \"%s\",\n",
	              FCRT_OCI_VERSION);
	str_array(b, 1, "hooks", hooks, FC_ARRAY_SIZE(hooks), false, false);
	str_array(b, 1, "mountOptions", mopts, nm, true, false);
	fc_buf_printf(b, "    \"linux\": {\n");
	str_array(b, 2, "namespaces", ns, FC_NS_COUNT, true, false);
	str_array(b, 2, "capabilities", (const char *const *)caps, fc_strv_len(caps), false, false);
	fc_buf_printf(
	    b, "        \"cgroup\": {\n            \"v1\": true,\n            \"v2\": true,\n"
	       "            \"systemd\": false,\n            \"systemdUser\": false\n"
	       "        },\n");
	fc_buf_printf(b, "        \"seccomp\": {\n            \"enabled\": true,\n");
	const char *const *v = fc_seccomp_known_actions();
	str_array(b, 3, "actions", v, strv_count(v), true, false);
	v = fc_seccomp_known_operators();
	str_array(b, 3, "operators", v, strv_count(v), true, false);
	v = fc_seccomp_known_archs();
	str_array(b, 3, "archs", v, strv_count(v), true, false);
	v = fc_seccomp_known_flags();
	str_array(b, 3, "knownFlags", v, strv_count(v), false, false);
	str_array(b, 3, "supportedFlags", v, strv_count(v), false, true);
	fc_buf_printf(b, "        },\n"
	                 "        \"apparmor\": {\n            \"enabled\": false\n        },\n"
	                 "        \"selinux\": {\n            \"enabled\": false\n        },\n"
	                 "        \"intelRdt\": {\n            \"enabled\": false\n        },\n"
	                 "        \"mountExtensions\": {\n            \"idmap\": {\n"
	                 "                \"enabled\": true\n            }\n        }\n"
	                 "    },\n");
	fc_buf_printf(b,
	              "    \"annotations\": {\n"
	              "        \"io.github.seccomp.libseccomp.version\": \"%u.%u.%u\",\n"
	              "        \"org.fcstart.fcrun.version\": \"%s\"\n    }\n}",
	              sv->major, sv->minor, sv->micro, FC_VERSION);
}

/* ---- fcrun spec ------------------------------------------------------- */

static const char spec_head[] =
    "{\n"
    "\t\"ociVersion\": \"" FCRT_OCI_VERSION "\",\n"
    "\t\"process\": {\n"
    "\t\t\"terminal\": true,\n"
    "\t\t\"user\": {\n\t\t\t\"uid\": 0,\n\t\t\t\"gid\": 0\n\t\t},\n"
    "\t\t\"args\": [\n\t\t\t\"sh\"\n\t\t],\n"
    "\t\t\"env\": [\n"
    "\t\t\t\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\n"
    "\t\t\t\"TERM=xterm\"\n\t\t],\n"
    "\t\t\"cwd\": \"/\",\n"
    "\t\t\"capabilities\": {\n";

static void spec_caps(struct fc_buf *b)
{
	static const char *const sets[] = {"bounding", "effective", "permitted", "ambient"};
	for (size_t i = 0; i < FC_ARRAY_SIZE(sets); i++)
		fc_buf_printf(
		    b,
		    "\t\t\t\"%s\": [\n\t\t\t\t\"CAP_AUDIT_WRITE\",\n\t\t\t\t\"CAP_KILL\",\n"
		    "\t\t\t\t\"CAP_NET_BIND_SERVICE\"\n\t\t\t]%s\n",
		    sets[i], i + 1 < FC_ARRAY_SIZE(sets) ? "," : "");
}

/* One mount: options NULL-terminated. */
static void spec_mount(struct fc_buf *b, const char *dest, const char *type, const char *src,
                       const char *const *opts, bool last)
{
	fc_buf_printf(b,
	              "\t\t{\n\t\t\t\"destination\": \"%s\",\n\t\t\t\"type\": \"%s\",\n"
	              "\t\t\t\"source\": \"%s\"",
	              dest, type, src);
	if (opts && opts[0]) {
		fc_buf_printf(b, ",\n\t\t\t\"options\": [\n");
		for (size_t i = 0; opts[i]; i++)
			fc_buf_printf(b, "\t\t\t\t\"%s\"%s\n", opts[i], opts[i + 1] ? "," : "");
		fc_buf_printf(b, "\t\t\t]");
	}
	fc_buf_printf(b, "\n\t\t}%s\n", last ? "" : ",");
}

static void spec_idmap(struct fc_buf *b, const char *key, unsigned host)
{
	fc_buf_printf(b,
	              "\t\t\"%s\": [\n\t\t\t{\n\t\t\t\t\"containerID\": 0,\n"
	              "\t\t\t\t\"hostID\": %u,\n\t\t\t\t\"size\": 1\n\t\t\t}\n\t\t],\n",
	              key, host);
}

void fcrt_spec_default_json(bool rootless, uid_t uid, gid_t gid, struct fc_buf *b)
{
	static const char *const o_dev[] = {"nosuid", "strictatime", "mode=755", "size=65536k",
	                                    NULL};
	static const char *const o_pts[] = {"nosuid",    "noexec", "newinstance", "ptmxmode=0666",
	                                    "mode=0620", "gid=5",  NULL};
	static const char *const o_pts_rl[] = {"nosuid",        "noexec",    "newinstance",
	                                       "ptmxmode=0666", "mode=0620", NULL};
	static const char *const o_shm[] = {"nosuid",    "noexec",      "nodev",
	                                    "mode=1777", "size=65536k", NULL};
	static const char *const o_mq[] = {"nosuid", "noexec", "nodev", NULL};
	static const char *const o_sys[] = {"nosuid", "noexec", "nodev", "ro", NULL};
	static const char *const o_sys_rl[] = {"rbind", "nosuid", "noexec", "nodev", "ro", NULL};
	static const char *const o_cg[] = {"nosuid", "noexec", "nodev", "relatime", "ro", NULL};
	static const char *const masked[] = {
	    "/proc/acpi",          "/proc/asound",     "/proc/kcore",       "/proc/keys",
	    "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
	    "/sys/firmware",       "/proc/scsi"};
	static const char *const ro[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
	                                 "/proc/sysrq-trigger"};

	fc_buf_printf(b, "%s", spec_head);
	spec_caps(b);
	fc_buf_printf(b,
	              "\t\t},\n\t\t\"rlimits\": [\n\t\t\t{\n\t\t\t\t\"type\": \"RLIMIT_NOFILE\",\n"
	              "\t\t\t\t\"hard\": 1024,\n\t\t\t\t\"soft\": 1024\n\t\t\t}\n\t\t],\n"
	              "\t\t\"noNewPrivileges\": true\n\t},\n"
	              "\t\"root\": {\n\t\t\"path\": \"rootfs\",\n\t\t\"readonly\": true\n\t},\n"
	              "\t\"hostname\": \"fcrun\",\n\t\"mounts\": [\n");
	spec_mount(b, "/proc", "proc", "proc", NULL, false);
	spec_mount(b, "/dev", "tmpfs", "tmpfs", o_dev, false);
	spec_mount(b, "/dev/pts", "devpts", "devpts", rootless ? o_pts_rl : o_pts, false);
	spec_mount(b, "/dev/shm", "tmpfs", "shm", o_shm, false);
	spec_mount(b, "/dev/mqueue", "mqueue", "mqueue", o_mq, false);
	if (rootless)
		spec_mount(b, "/sys", "none", "/sys", o_sys_rl, false);
	else
		spec_mount(b, "/sys", "sysfs", "sysfs", o_sys, false);
	spec_mount(b, "/sys/fs/cgroup", "cgroup", "cgroup", o_cg, true);
	fc_buf_printf(b, "\t],\n\t\"linux\": {\n");
	if (rootless) {
		spec_idmap(b, "uidMappings", (unsigned)uid);
		spec_idmap(b, "gidMappings", (unsigned)gid);
	} else {
		fc_buf_printf(b, "\t\t\"resources\": {\n\t\t\t\"devices\": [\n\t\t\t\t{\n"
		                 "\t\t\t\t\t\"allow\": false,\n\t\t\t\t\t\"access\": \"rwm\"\n"
		                 "\t\t\t\t}\n\t\t\t]\n\t\t},\n");
	}
	fc_buf_printf(b, "\t\t\"namespaces\": [\n");
	const char *nss[] = {"pid", "network", "ipc", "uts", "mount", rootless ? "user" : NULL};
	bool first = true;
	for (size_t i = 0; i < FC_ARRAY_SIZE(nss); i++) {
		if (!nss[i] || (rootless && FC_STREQ(nss[i], "network")))
			continue;
		fc_buf_printf(b, "%s\t\t\t{\n\t\t\t\t\"type\": \"%s\"\n\t\t\t}", first ? "" : ",\n",
		              nss[i]);
		first = false;
	}
	fc_buf_printf(b, "\n\t\t],\n\t\t\"maskedPaths\": [\n");
	for (size_t i = 0; i < FC_ARRAY_SIZE(masked); i++)
		fc_buf_printf(b, "\t\t\t\"%s\"%s\n", masked[i],
		              i + 1 < FC_ARRAY_SIZE(masked) ? "," : "");
	fc_buf_printf(b, "\t\t],\n\t\t\"readonlyPaths\": [\n");
	for (size_t i = 0; i < FC_ARRAY_SIZE(ro); i++)
		fc_buf_printf(b, "\t\t\t\"%s\"%s\n", ro[i], i + 1 < FC_ARRAY_SIZE(ro) ? "," : "");
	fc_buf_printf(b, "\t\t]\n\t}\n}");
}
