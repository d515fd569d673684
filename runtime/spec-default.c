/* SPDX-License-Identifier: MIT */
/* spec-default.c: the one default config of the project (fcrt_spec_default,
 * what `fcrun spec` writes, after `runc spec`), its rootless form, and the
 * small edits callers make to a typed spec (args, env, annotations, mounts,
 * namespaces). Everything that starts a config starts here: `fcrun spec`,
 * `fcstart image bundle`, the pool's sandboxes. */
#include "spec.h"

#include <linux/capability.h>
#include <sys/resource.h>

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static char **strv_of(const char *const *v, size_t n)
{
	char **r = fc_calloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		r[i] = fc_strdup(v[i]);
	return r;
}

static int *caps_of(const int *v, size_t n)
{
	int *r = fc_calloc(n + 1, sizeof(int));
	memcpy(r, v, n * sizeof(int));
	return r;
}

#define STRV(...)                                                                                  \
	strv_of((const char *const[]){__VA_ARGS__},                                                \
	        FC_ARRAY_SIZE(((const char *const[]){__VA_ARGS__})))

struct fc_spec *fcrt_spec_default(void)
{
	static const int caps[] = {CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE};
	struct fc_spec *s = fc_calloc(1, sizeof(*s));
	struct fc_process *p = s->process = fc_calloc(1, sizeof(*p));

	s->oci_version = fc_strdup(FCRT_OCI_VERSION);
	p->terminal = true;
	p->args = STRV("sh");
	p->env = STRV(DEFAULT_PATH, "TERM=xterm");
	p->cwd = fc_strdup("/");
	p->caps.has_caps = true;
	p->caps.bounding = caps_of(caps, 3);
	p->caps.effective = caps_of(caps, 3);
	p->caps.permitted = caps_of(caps, 3);
	p->caps.ambient = caps_of(caps, 3);
	p->caps.n_bounding = p->caps.n_effective = p->caps.n_permitted = p->caps.n_ambient = 3;
	p->rlimits = fc_calloc(2, sizeof(*p->rlimits));
	p->rlimits[0] = (struct fc_rlimit){.resource = RLIMIT_NOFILE, .soft = 1024, .hard = 1024};
	p->n_rlimits = 1;
	p->no_new_privileges = true;

	s->root_path = fc_strdup("rootfs");
	s->root_readonly = true;
	s->hostname = fc_strdup("fcrun");

	fcrt_spec_add_mount(s, "/proc", "proc", "proc", NULL);
	fcrt_spec_add_mount(
	    s, "/dev", "tmpfs", "tmpfs",
	    (const char *const[]){"nosuid", "strictatime", "mode=755", "size=65536k", NULL});
	fcrt_spec_add_mount(s, "/dev/pts", "devpts", "devpts",
	                    (const char *const[]){"nosuid", "noexec", "newinstance",
	                                          "ptmxmode=0666", "mode=0620", "gid=5", NULL});
	fcrt_spec_add_mount(
	    s, "/dev/shm", "tmpfs", "shm",
	    (const char *const[]){"nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL});
	fcrt_spec_add_mount(s, "/dev/mqueue", "mqueue", "mqueue",
	                    (const char *const[]){"nosuid", "noexec", "nodev", NULL});
	fcrt_spec_add_mount(s, "/sys", "sysfs", "sysfs",
	                    (const char *const[]){"nosuid", "noexec", "nodev", "ro", NULL});
	fcrt_spec_add_mount(
	    s, "/sys/fs/cgroup", "cgroup", "cgroup",
	    (const char *const[]){"nosuid", "noexec", "nodev", "relatime", "ro", NULL});

	/* every device denied; the default ones are allowed by the runtime */
	s->resources = fc_calloc(1, sizeof(*s->resources));
	s->resources->devices = fc_calloc(2, sizeof(*s->resources->devices));
	s->resources->devices[0] =
	    (struct fc_device_rule){.allow = false, .major = -1, .minor = -1};
	s->resources->devices[0].access = fc_strdup("rwm");
	s->resources->n_devices = 1;

	fcrt_spec_set_namespace(s, FC_NS_PID, NULL);
	fcrt_spec_set_namespace(s, FC_NS_NETWORK, NULL);
	fcrt_spec_set_namespace(s, FC_NS_IPC, NULL);
	fcrt_spec_set_namespace(s, FC_NS_UTS, NULL);
	fcrt_spec_set_namespace(s, FC_NS_MOUNT, NULL);
	s->masked_paths = STRV("/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
	                       "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
	                       "/proc/sched_debug", "/sys/firmware", "/proc/scsi");
	s->readonly_paths =
	    STRV("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger");
	return s;
}

static struct fc_idmap *idmap_root(uint32_t host)
{
	struct fc_idmap *m = fc_calloc(2, sizeof(*m));
	m[0] = (struct fc_idmap){.container_id = 0, .host_id = host, .size = 1};
	return m;
}

/* Give m a new type, source and options (taken), keeping its destination. */
static void mount_replace(struct fc_mount *m, const char *type, const char *source, char **options)
{
	struct fc_mount n = {.destination = TAKE_PTR(m->destination),
	                     .type = fc_strdup(type),
	                     .source = fc_strdup(source),
	                     .options = options};
	fc_mount_free(m);
	*m = n;
	fc_mount_derive(m);
}

void fcrt_spec_rootless(struct fc_spec *s, uid_t uid, gid_t gid)
{
	fcrt_spec_remove_namespace(s, FC_NS_NETWORK);
	fcrt_spec_set_namespace(s, FC_NS_USER, NULL);
	free(s->uid_mappings);
	free(s->gid_mappings);
	s->uid_mappings = idmap_root((uint32_t)uid);
	s->gid_mappings = idmap_root((uint32_t)gid);
	s->n_uid_mappings = s->n_gid_mappings = 1;
	/* No gid=5 on devpts: the group is not mapped. /sys: sysfs cannot be
	 * mounted without a network namespace of our own; bind the host's. */
	for (size_t i = 0; i < s->n_mounts; i++) {
		struct fc_mount *m = &s->mounts[i];
		if (FC_STREQ(m->destination, "/dev/pts")) {
			size_t n = fc_strv_len(m->options), k = 0;
			char **opts = fc_calloc(n + 1, sizeof(char *));
			for (size_t j = 0; j < n; j++)
				if (strncmp(m->options[j], "gid=", 4) != 0)
					opts[k++] = fc_strdup(m->options[j]);
			mount_replace(m, m->type, m->source, opts);
		} else if (FC_STREQ(m->destination, "/sys")) {
			mount_replace(m, "none", "/sys",
			              STRV("rbind", "nosuid", "noexec", "nodev", "ro"));
		}
	}
	fc_resources_free(s->resources);
	s->resources = NULL;
}

/* ---- edits -------------------------------------------------------------- */

void fcrt_spec_set_args(struct fc_spec *s, char *const *args)
{
	fc_strv_free(s->process->args);
	s->process->args = strv_of((const char *const *)args, fc_strv_len(args));
}

void fcrt_spec_setenv(struct fc_spec *s, const char *kv)
{
	size_t kl = strcspn(kv, "="), n = fc_strv_len(s->process->env);
	for (size_t i = 0; i < n; i++) {
		char *e = s->process->env[i];
		if (strncmp(e, kv, kl) == 0 && (e[kl] == '=' || e[kl] == '\0')) {
			free(e);
			s->process->env[i] = fc_strdup(kv);
			return;
		}
	}
	s->process->env = fc_realloc(s->process->env, (n + 2) * sizeof(char *));
	s->process->env[n] = fc_strdup(kv);
	s->process->env[n + 1] = NULL;
}

void fcrt_spec_annotate(struct fc_spec *s, const char *key, const char *value)
{
	for (size_t i = 0; i < s->n_annotations; i++) {
		if (FC_STREQ(s->annotations[i].key, key)) {
			free(s->annotations[i].value);
			s->annotations[i].value = fc_strdup(value);
			return;
		}
	}
	s->annotations =
	    fc_realloc(s->annotations, (s->n_annotations + 2) * sizeof(*s->annotations));
	s->annotations[s->n_annotations++] = (struct fc_kv){fc_strdup(key), fc_strdup(value)};
	s->annotations[s->n_annotations] = (struct fc_kv){NULL, NULL};
}

void fcrt_spec_add_mount(struct fc_spec *s, const char *destination, const char *type,
                         const char *source, const char *const *options)
{
	s->mounts = fc_realloc(s->mounts, (s->n_mounts + 2) * sizeof(*s->mounts));
	struct fc_mount *m = &s->mounts[s->n_mounts++];
	*m = (struct fc_mount){
	    .destination = fc_strdup(destination),
	    .type = fc_strdup(type),
	    .source = fc_strdup(source),
	};
	memset(&s->mounts[s->n_mounts], 0, sizeof(*m));
	size_t n = 0;
	while (options && options[n])
		n++;
	if (options)
		m->options = strv_of(options, n);
	fc_mount_derive(m);
}

size_t fcrt_spec_remove_mount(struct fc_spec *s, const char *destination)
{
	size_t k = 0, removed = 0;
	for (size_t i = 0; i < s->n_mounts; i++) {
		if (FC_STREQ(s->mounts[i].destination, destination)) {
			fc_mount_free(&s->mounts[i]);
			removed++;
		} else {
			s->mounts[k++] = s->mounts[i];
		}
	}
	s->n_mounts = k;
	if (s->mounts)
		memset(&s->mounts[k], 0, sizeof(*s->mounts));
	return removed;
}

void fcrt_spec_set_namespace(struct fc_spec *s, enum fc_ns_type t, const char *path)
{
	for (size_t i = 0; i < s->n_namespaces; i++) {
		if (s->namespaces[i].type == t) {
			free(s->namespaces[i].path);
			s->namespaces[i].path = fc_strdup(path);
			return;
		}
	}
	s->namespaces = fc_realloc(s->namespaces, (s->n_namespaces + 2) * sizeof(*s->namespaces));
	s->namespaces[s->n_namespaces++] = (struct fc_namespace){t, fc_strdup(path)};
	memset(&s->namespaces[s->n_namespaces], 0, sizeof(*s->namespaces));
}

void fcrt_spec_remove_namespace(struct fc_spec *s, enum fc_ns_type t)
{
	size_t k = 0;
	for (size_t i = 0; i < s->n_namespaces; i++) {
		if (s->namespaces[i].type == t)
			free(s->namespaces[i].path);
		else
			s->namespaces[k++] = s->namespaces[i];
	}
	s->n_namespaces = k;
}
