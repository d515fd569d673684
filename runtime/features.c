/* SPDX-License-Identifier: MIT */
/* features.c: the runtime-spec "features" document (`fcrun features`),
 * written by hand in the layout runc prints (4-space indent). The starter
 * config.json of `fcrun spec` is the typed default (spec-default.c). */
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
