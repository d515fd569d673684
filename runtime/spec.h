/* SPDX-License-Identifier: MIT */
/* spec.h (private to runtime/): config.json as typed C structs.
 * spec-parse.c is the only parser (with spec-json.c and spec-resources.c);
 * nothing here holds a yajl_val.
 * Absent optional values: pointers NULL, counts 0, and a has_* flag false. */
#ifndef FCRT_SPEC_H
#define FCRT_SPEC_H

#include "fc-util.h"
#include <stdint.h>
#include <sys/types.h>

enum fc_ns_type {
	FC_NS_PID = 0,
	FC_NS_NETWORK,
	FC_NS_MOUNT,
	FC_NS_IPC,
	FC_NS_UTS,
	FC_NS_USER,
	FC_NS_CGROUP,
	FC_NS_TIME,
	FC_NS_COUNT
};

struct fc_namespace {
	enum fc_ns_type type;
	char *path; /* join this one when set */
};

struct fc_idmap {
	uint32_t container_id, host_id, size;
};

struct fc_mount {
	char *destination; /* absolute (relative accepted with a warning, as runc does) */
	char *type;        /* may be NULL (bind mounts) */
	char *source;      /* may be NULL */
	char **options;    /* raw option strings, NULL-terminated; may be NULL */
	/* Parsed from options by spec-parse.c: */
	unsigned long flags; /* MS_* set; MS_BIND (| MS_REC for rbind) whenever bind is true */
	unsigned long clear_flags; /* MS_* explicitly cleared ("rw", "suid", ...) */
	unsigned long
	    propagation; /* MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE (| MS_REC), 0 = none */
	unsigned long rec_flags; /* "rro", "rnosuid", ... (mount_setattr attr_set) */
	unsigned long rec_clear; /* "rrw", ... (attr_clr) */
	char *data;           /* the remaining filesystem options joined with ',' (NULL if none) */
	bool bind;            /* "bind" or "rbind" in options, or type "bind" */
	bool recursive;       /* "rbind" */
	bool tmpcopyup;       /* "tmpcopyup" */
	bool idmap;           /* "idmap"/"ridmap" option, or uid/gid mappings given */
	bool idmap_recursive; /* "ridmap" */
	struct fc_idmap *uid_mappings, *gid_mappings; /* idmapped mounts */
	size_t n_uid_mappings, n_gid_mappings;
};

struct fc_device {
	char *path;
	char type; /* 'c', 'b', 'u' (= 'c'), 'p' */
	int64_t major, minor;
	bool has_mode, has_uid, has_gid;
	uint32_t file_mode, uid, gid;
};

struct fc_rlimit {
	int resource; /* RLIMIT_* */
	uint64_t soft, hard;
};

struct fc_caps {
	/* Capability numbers (CAP_*), -1 terminated is NOT used: counts given. */
	int *bounding, *effective, *inheritable, *permitted, *ambient;
	size_t n_bounding, n_effective, n_inheritable, n_permitted, n_ambient;
	bool has_caps; /* process.capabilities present */
};

struct fc_seccomp_arg {
	unsigned index;
	uint64_t value, value_two;
	int op; /* enum scmp_compare values (SCMP_CMP_NE ...) */
};

struct fc_seccomp_syscall {
	char **names;    /* NULL-terminated */
	uint32_t action; /* SCMP_ACT_* value, with errno/ret folded in */
	struct fc_seccomp_arg *args;
	size_t n_args;
};

struct fc_seccomp {
	uint32_t default_action; /* SCMP_ACT_* with errno folded in */
	uint32_t *architectures; /* SCMP_ARCH_* tokens */
	size_t n_architectures;
	char **flags;        /* "SECCOMP_FILTER_FLAG_LOG", ... NULL-terminated, may be NULL */
	char *listener_path; /* listenerPath (notify) */
	char *listener_metadata;
	struct fc_seccomp_syscall *syscalls;
	size_t n_syscalls;
};

struct fc_process {
	bool terminal;
	bool has_console_size;
	unsigned console_height, console_width;
	uint32_t uid, gid;
	bool has_umask;
	uint32_t umask;
	uint32_t *additional_gids;
	size_t n_additional_gids;
	char **args; /* NULL-terminated, at least one element */
	char **env;  /* NULL-terminated, may be NULL */
	char *cwd;   /* absolute */
	struct fc_caps caps;
	struct fc_rlimit *rlimits;
	size_t n_rlimits;
	bool no_new_privileges;
	char *apparmor_profile;
	char *selinux_label;
	bool has_oom_score_adj;
	int oom_score_adj;
	/* process.ioPriority */
	bool has_io_priority;
	int io_priority_class; /* IOPRIO_CLASS_* */
	int io_priority;
	/* process.scheduler is accepted and ignored (documented). */
};

struct fc_hook {
	char *path;
	char **args; /* NULL-terminated, may be NULL */
	char **env;  /* NULL-terminated, may be NULL */
	bool has_timeout;
	int timeout; /* seconds, > 0 */
};

enum fc_hook_kind {
	FC_HOOK_PRESTART = 0,
	FC_HOOK_CREATE_RUNTIME,
	FC_HOOK_CREATE_CONTAINER,
	FC_HOOK_START_CONTAINER,
	FC_HOOK_POSTSTART,
	FC_HOOK_POSTSTOP,
	FC_HOOK_KINDS
};

struct fc_sysctl {
	char *key, *value;
};

/* linux.resources; every field optional (has_* or NULL). Values as the spec. */
struct fc_device_rule {
	bool allow;
	char type;            /* 'a', 'c', 'b' (0 = all) */
	int64_t major, minor; /* -1 = wildcard */
	char *access;         /* "rwm" subset, NULL = all */
};

struct fc_throttle {
	int64_t major, minor;
	uint64_t rate;
};

struct fc_weight_device {
	int64_t major, minor;
	bool has_weight, has_leaf_weight;
	uint16_t weight, leaf_weight;
};

struct fc_hugepage_limit {
	char *page_size; /* "2MB" */
	uint64_t limit;
};

struct fc_resources {
	struct fc_device_rule *devices;
	size_t n_devices;
	struct {
		bool has_limit, has_reservation, has_swap, has_kernel, has_kernel_tcp,
		    has_swappiness, has_disable_oom_killer, has_use_hierarchy,
		    has_check_before_update;
		int64_t limit, reservation, swap, kernel, kernel_tcp; /* -1 = unlimited */
		uint64_t swappiness;
		bool disable_oom_killer, use_hierarchy, check_before_update;
	} memory;
	struct {
		bool has_shares, has_quota, has_burst, has_period, has_realtime_runtime,
		    has_realtime_period, has_idle;
		uint64_t shares, burst, period, realtime_period;
		int64_t quota, realtime_runtime, idle;
		char *cpus, *mems; /* cpuset, NULL = unset */
	} cpu;
	struct {
		bool has_limit;
		int64_t limit; /* <= 0 = unlimited */
	} pids;
	struct {
		bool has_weight, has_leaf_weight;
		uint16_t weight, leaf_weight;
		struct fc_weight_device *weight_devices;
		size_t n_weight_devices;
		struct fc_throttle *throttle_read_bps, *throttle_write_bps, *throttle_read_iops,
		    *throttle_write_iops;
		size_t n_throttle_read_bps, n_throttle_write_bps, n_throttle_read_iops,
		    n_throttle_write_iops;
	} blkio;
	struct fc_hugepage_limit *hugepage_limits;
	size_t n_hugepage_limits;
	struct {
		bool has_class_id;
		uint32_t class_id;
		struct fc_kv *priorities; /* name -> priority (value as decimal string) */
		size_t n_priorities;
	} network;
	struct fc_kv *rdma; /* unused, accepted */
	size_t n_rdma;
	struct fc_kv *unified; /* cgroup v2 "unified" key -> value */
	size_t n_unified;
};

struct fc_spec {
	char *oci_version;
	char *root_path; /* absolute: made so against the bundle dir by fc_spec_parse */
	bool root_readonly;
	char *hostname;
	char *domainname;
	struct fc_process
	    *process; /* NULL allowed only for `create` when spec says so; we require it */
	struct fc_mount *mounts;
	size_t n_mounts;
	struct fc_hook *hooks[FC_HOOK_KINDS];
	size_t n_hooks[FC_HOOK_KINDS];
	struct fc_kv *annotations;
	size_t n_annotations;

	/* linux */
	struct fc_namespace *namespaces;
	size_t n_namespaces;
	struct fc_idmap *uid_mappings, *gid_mappings;
	size_t n_uid_mappings, n_gid_mappings;
	struct fc_device *devices;
	size_t n_devices;
	char *cgroups_path;             /* NULL = default */
	struct fc_resources *resources; /* NULL = none given */
	char
	    *rootfs_propagation; /* "private", "rslave", ... NULL = default (rslave-like as runc) */
	unsigned long rootfs_propagation_flags; /* parsed, 0 = default */
	char **masked_paths;                    /* NULL-terminated, may be NULL */
	char **readonly_paths;                  /* NULL-terminated, may be NULL */
	char *mount_label;
	struct fc_sysctl *sysctl;
	size_t n_sysctl;
	struct fc_seccomp *seccomp; /* NULL = none */
	bool has_personality;
	unsigned long personality; /* PER_LINUX / PER_LINUX32 */
	char **personality_flags;
	/* linux.intelRdt, linux.timeOffsets etc.: accepted, ignored where unsupported. */
	bool has_time_offsets;
	int64_t monotonic_secs, boottime_secs;
	uint32_t monotonic_nsecs, boottime_nsecs;
	/* Accepted oddities the caller should log (relative mount destinations),
	 * NULL-terminated, may be NULL. Library code does not print. */
	char **warnings;
};

/* Parse a config.json document. Errors name the field: "process.args: must be
 * a non-empty array of strings". bundle is used to make root.path absolute. */
int fc_spec_parse(const char *json, size_t len, const char *bundle, struct fc_spec **out,
                  struct fc_error **err);
/* Read <bundle>/config.json and parse it. */
int fc_spec_load(const char *bundle, struct fc_spec **out, struct fc_error **err);
void fc_spec_free(struct fc_spec *s);
static inline void fc_spec_freep(struct fc_spec **s)
{
	fc_spec_free(*s);
}
#define _cleanup_spec_ _cleanup_(fc_spec_freep)

/* Parse a process.json (`fcrun exec --process`): the "process" object alone. */
int fc_process_parse(const char *json, size_t len, struct fc_process **out, struct fc_error **err);
void fc_process_free(struct fc_process *p);

/* Parse a resources JSON (`fcrun update --resources`). */
int fc_resources_parse(const char *json, size_t len, struct fc_resources **out,
                       struct fc_error **err);
void fc_resources_free(struct fc_resources *r);

/* spec-validate.c: the config as a whole, before anything is made (runc's
 * validator, stricter where the host is at stake): hostname and domainname
 * need a UTS namespace, maskedPaths and readonlyPaths a mount namespace,
 * each sysctl a namespace of the container's own that it lives in (net.*:
 * network; kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*: IPC;
 * kernel.domainname: UTS; kernel.hostname is refused, the hostname field
 * says it; anything else is not namespaced and refused). Errors name the
 * field. */
int fc_spec_validate(const struct fc_spec *s, struct fc_error **err);
/* A sysctl key as a path below /proc/sys ("net/ipv4/ip_forward"; '/' for
 * '.' is accepted as sysctl(8) does), NULL when a component is empty, "."
 * or "..". */
char *fc_sysctl_path(const char *key);

/* Helpers shared with the rest of the runtime. */
const char *fc_ns_name(enum fc_ns_type t);      /* "pid", "network", ... (spec names) */
int fc_ns_clone_flag(enum fc_ns_type t);        /* CLONE_NEWPID, ... */
const char *fc_ns_proc_name(enum fc_ns_type t); /* "pid", "net", "mnt", ... (/proc/PID/ns) */
const struct fc_namespace *fc_spec_ns(const struct fc_spec *s, enum fc_ns_type t);
/* "RLIMIT_NOFILE" -> RLIMIT_NOFILE, -EINVAL if unknown. */
int fc_rlimit_from_name(const char *name);
/* "CAP_SYS_ADMIN" -> CAP_SYS_ADMIN, -EINVAL if unknown. */
int fc_cap_from_name(const char *name);
/* "network" -> FC_NS_NETWORK, -EINVAL if unknown. */
int fc_ns_from_name(const char *name);
/* CAP_SYS_ADMIN -> "CAP_SYS_ADMIN", NULL if unknown. */
const char *fc_cap_name(int cap);
/* The i-th mount option name spec-parse.c understands (for `fcrun features`), NULL past the end. */
const char *fc_mount_option_name(size_t i);
/* Annotation lookup, NULL if absent. */
const char *fc_spec_annotation(const struct fc_spec *s, const char *key);

#endif
