/* SPDX-License-Identifier: MIT */
/* fcrt.h: libfcrt, the OCI runtime as a library. `fcrun` is a thin CLI over
 * it; prewarm/ uses fcrt_create() with a start channel of its own and
 * fcrt_start_*() to hand a created container over without running a binary.
 *
 * Container state lives in <root>/<id>/ (root default /run/fcrun):
 *   state.json  what `fcrun state` reports, plus what delete needs;
 *   exec.sock   present while the container is "created": a unix socket its
 *               init process listens on; `start` connects, the init answers
 *               "0" (about to exec) or "E<message>". The init holds no
 *               descriptor of a host file or directory (it is a socket).
 * Every function returns >= 0 or -errno with *err set. */
#ifndef FCRT_H
#define FCRT_H

#include "fc-util.h"
#include <stdbool.h>
#include <sys/types.h>

struct fc_spec;      /* the typed config.json: see "the typed OCI spec" below */
struct fc_resources; /* its linux.resources, below */

#define FCRT_DEFAULT_ROOT "/run/fcrun"
#define FCRT_OCI_VERSION  "1.0.2-dev"

enum fcrt_status {
	FCRT_CREATING = 0,
	FCRT_CREATED,
	FCRT_RUNNING,
	FCRT_PAUSED,
	FCRT_STOPPED,
};
const char *fcrt_status_name(enum fcrt_status s);

/* How the created container's init waits for "start". */
enum fcrt_wait {
	FCRT_WAIT_EXEC = 0, /* <state>/exec.sock (fcrun create/start) */
	FCRT_WAIT_SOCKET,   /* the sync socket (fcrun run, the pool) */
};

/* Where a create's time goes: marks (CLOCK_MONOTONIC, ns) that the runtime
 * and the container's init make as each step ends, for `fcrun --debug`,
 * the fork servers' profile and `fcstart bench`. The init's marks (names
 * starting "i:") come back with its READY message; fcrt_profile_line()
 * sorts them and names each interval after the step that ends it. */
#define FCRT_PROFILE_MAX 40
struct fcrt_profile {
	size_t n;
	struct fcrt_mark {
		char name[16];
		uint64_t ns;
	} mark[FCRT_PROFILE_MAX];
};
/* Add a mark (name cut to 15 bytes); past FCRT_PROFILE_MAX marks, nothing. */
void fcrt_profile_mark(struct fcrt_profile *p, const char *name, uint64_t ns);
/* "NAME=US NAME=US ...": the marks in time order, each with the
 * microseconds since the one before (the first: since from_ns). */
void fcrt_profile_line(const struct fcrt_profile *p, uint64_t from_ns, struct fc_buf *out);

struct fcrt_create_opts {
	const char *root; /* state root, default /run/fcrun */
	const char *id;
	const char *bundle;      /* directory with config.json; NULL = cwd */
	const char *config_path; /* NULL = <bundle>/config.json */
	/* Create from this parsed spec instead of reading config.json (one
	 * spec may serve many creates: it is neither changed nor freed). A
	 * relative root.path resolves against bundle. The state dir keeps the
	 * spec's JSON (fcrt_spec_json), as it keeps config.json otherwise. */
	const struct fc_spec *spec;
	/* This container's root filesystem, overriding root.path (absolute, or
	 * relative to bundle); NULL = root.path. */
	const char *rootfs;
	const char *pid_file;       /* NULL = none */
	const char *console_socket; /* NULL = none */
	/* process.terminal without console_socket: the pty master is sent
	 * (SCM_RIGHTS, payload "/dev/ptmx") over this connected socket, which
	 * stays the caller's (fcrun run in the foreground proxies it). */
	bool has_console_fd;
	int console_fd;
	bool no_pivot;
	bool no_new_keyring;
	bool systemd_cgroup;
	int preserve_fds; /* extra fds 3..3+n-1 passed to the container */
	enum fcrt_wait wait;
	/* Extra environment for the process (NULL-terminated, may be NULL):
	 * LISTEN_FDS handling is done by the CLI through these. */
	char **extra_env;
	/* sd_notify proxying (fcrun with NOTIFY_SOCKET set, as runc): make
	 * <state>/notify and bind it read-only at /run/notify in the container
	 * (the caller sets NOTIFY_SOCKET=/run/notify/notify.sock in extra_env
	 * and listens there). Not with .spec. */
	bool notify_socket;
	/* When set, the create's steps are marked here (see fcrt_profile). */
	struct fcrt_profile *profile;
	/* The container's root filesystem as a detached mount (fsmount(2),
	 * open_tree(OPEN_TREE_CLONE)): the init attaches it on root.path (an
	 * empty directory) in its own mount namespace, so it is never mounted
	 * in the caller's. It stays the caller's to close. Needs a mount
	 * namespace. */
	bool has_rootfs_mount;
	int rootfs_mount;
	/* A recycled cgroup (canonical path, "/fcrun/NAME"), used instead of
	 * one made for this container and removed at its delete (the pool's:
	 * one container at a time). Made at the first use, with the tag
	 * trusted.fcrun=pool; when it exists it must carry that tag and be
	 * empty, and it gets the spec's limits written again (its device rules
	 * stay those of its first use: keep one per spec). The container's
	 * delete kills every process in it and leaves it; then
	 * fcrt_cgroup_reset() readies it for the next, fcrt_cgroup_remove()
	 * removes it. NULL: the spec's cgroup, made and removed as usual. */
	const char *cgroup_recycled;
	/* With cgroup_recycled and FCRT_WAIT_SOCKET, on a host with a v1 memory
	 * hierarchy (pure v1, hybrid): the container waits without a memory
	 * cgroup of its own (its init stays in its creator's, and the recycled
	 * cgroup has no memory directory), and its start must give it one
	 * (fcrt_start_args.memory_fd, a memory slot: fcrt_memslot_make), which
	 * the init joins before it makes its cgroup namespace and execs. A
	 * memory cgroup costs the host's kernel from ~20 KiB to over 1 MiB
	 * (it grows with the most filesystems ever mounted at once), the
	 * largest part of a waiting sandbox. Ignored elsewhere (pure v2). */
	bool memory_at_start;
};

/* A container created by this process (for run and the pool): it is our
 * child and can be waited for. */
struct fcrt_container {
	char *id;
	char *root;
	pid_t pid;
	int pidfd;   /* pidfd of init, -1 if unavailable */
	int sync_fd; /* FCRT_WAIT_SOCKET: our end of the sync socket, else -1 */
	/* after fcrt_start_socket(_ex): the process's CLOCK_MONOTONIC reading
	 * just before its execve, in ns (0: not reported) */
	uint64_t exec_ns;
	bool poststart; /* the config has poststart hooks (fcrt_poststart) */
};

/* Create the container: namespaces, cgroup, rootfs, pivot_root, /proc, /dev,
 * masked and read-only paths; its init then waits for start. On failure
 * nothing is left (no state dir, mount, cgroup or process). *out may be
 * NULL when the caller does not need the handle. */
int fcrt_create(const struct fcrt_create_opts *o, struct fcrt_container **out,
                struct fc_error **err);
void fcrt_container_free(struct fcrt_container *c);

/* Start a created container through its exec.sock (fcrun start). Runs the
 * poststart hooks. */
int fcrt_start(const char *root, const char *id, struct fc_error **err);
/* Run a started container's poststart hooks (failures are logged warnings,
 * as fcrt_start does): for a start through fcrt_start_socket. */
void fcrt_poststart(const char *root, const char *id);
/* Start a container created with FCRT_WAIT_SOCKET by this process. */
int fcrt_start_socket(struct fcrt_container *c, struct fc_error **err);

/* What a hand-over may change at start (the pool's invocations). */
struct fcrt_start_args {
	int stdio[3]; /* new descriptors for the process's 0, 1, 2; -1 keeps create's */
	char **env;   /* extra KEY=VALUE entries, overriding config's (NULL: none) */
	char **argv;  /* replaces process.args when non-NULL */
	/* A container created with memory_at_start: the `tasks` file of its
	 * memory cgroup (fcrt_memslot_make), opened for writing; the init
	 * moves itself into it. Such a container refuses a start without. */
	bool has_memory;
	int memory_fd;
};
/* Start with per-invocation stdio (passed by SCM_RIGHTS), environment and
 * arguments. env and argv together must fit in 3.5 KiB (-E2BIG otherwise).
 * Returns once the process is about to exec. */
int fcrt_start_socket_ex(struct fcrt_container *c, const struct fcrt_start_args *a,
                         struct fc_error **err);

struct fcrt_state {
	char *oci_version;
	char *id;
	pid_t pid; /* 0 when stopped */
	enum fcrt_status status;
	char *bundle;
	char *rootfs;
	char *created; /* RFC 3339 */
	char *owner;
	char *cgroup_path;
	unsigned long long start_time; /* init's start time (clock ticks since boot) */
	struct fc_kv *annotations;
	size_t n_annotations;
	bool systemd_cgroup;
	bool rootless;
	/* Facts of the container's spec, recorded at create so that start and
	 * delete need not parse config.json again: its poststart and poststop
	 * hooks, and whether it has a pid namespace of its own (-1: unknown,
	 * a state.json of an older fcrun). */
	int poststart_hooks, poststop_hooks, own_pidns;
};
/* Read a container's state and compute its live status. */
int fcrt_state_load(const char *root, const char *id, struct fcrt_state **out,
                    struct fc_error **err);
void fcrt_state_free(struct fcrt_state *s);
/* runc's `state` JSON document (indented like runc). */
void fcrt_state_json(const struct fcrt_state *s, struct fc_buf *out, bool indent);
/* All container ids under root (sorted); empty if root does not exist. */
int fcrt_list(const char *root, char ***ids, struct fc_error **err);

int fcrt_kill(const char *root, const char *id, int sig, bool all, struct fc_error **err);
/* Delete: runs poststop hooks, removes cgroup and state. force kills a
 * running container first. */
int fcrt_delete(const char *root, const char *id, bool force, struct fc_error **err);

/* Is this a valid container id ([A-Za-z0-9_+.-], 1..1024, not "." or "..")? */
bool fcrt_id_valid(const char *id);

/* ---- operations on an existing container (container-cgroup.c) --------- */

/* Freeze / thaw every process (runc: "container not running" /
 * "container not paused"). A created container may be paused. */
int fcrt_pause(const char *root, const char *id, struct fc_error **err);
int fcrt_resume(const char *root, const char *id, struct fc_error **err);
/* Apply a linux.resources JSON document (runc's `update -r` format) to a
 * live container's cgroup. */
int fcrt_update(const char *root, const char *id, const char *resources_json, size_t len,
                struct fc_error **err);
/* The pids in the container's cgroup, sorted (none when stopped). */
int fcrt_pids(const char *root, const char *id, pid_t **pids, size_t *n, struct fc_error **err);
/* runc's stats event {"type":"stats","id":ID,"data":{...}} appended to out. */
int fcrt_stats_event(const char *root, const char *id, struct fc_buf *out, struct fc_error **err);
/* The memory the container's processes use (bytes) and the CPU time they
 * used (ns), from its cgroup; 0 where the host does not say. */
int fcrt_usage(const char *root, const char *id, uint64_t *memory, uint64_t *cpu_ns,
               struct fc_error **err);
/* Move pid into the live container's cgroup (every hierarchy): the pool's
 * forked instances join the cgroup of the sandbox made for them. */
int fcrt_cgroup_enter(const char *root, const char *id, pid_t pid, struct fc_error **err);
/* A user namespace with these uid and gid mappings, for MOUNT_ATTR_IDMAP
 * (idmapped mounts): an O_RDONLY descriptor of it, or -errno. A child process
 * unshares it and waits while the maps are written, so the caller must be
 * allowed to fork (single-threaded, or not holding locks). */
struct fc_idmap;
int fcrt_userns_fd(const struct fc_idmap *uids, size_t n_uids, const struct fc_idmap *gids,
                   size_t n_gids, struct fc_error **err);
/* How many times the kernel's OOM killer acted in the container's cgroup. */
int fcrt_oom_count(const char *root, const char *id, uint64_t *count, struct fc_error **err);
/* Recycled cgroups (fcrt_create_opts.cgroup_recycled), after the delete of
 * the container that used one: reset kills anything left in it until it is
 * empty, thaws it, and resets the counters the kernel lets reset; remove
 * kills in and removes it (its parents stay). Both touch only
 * directories tagged as recycled by fcrun. */
int fcrt_cgroup_reset(const char *path, struct fc_error **err);
int fcrt_cgroup_remove(const char *path, struct fc_error **err);
/* The parents fcrun makes above containers' cgroups (/fcrun by default) stay
 * when the containers go, as runc's do. This removes those at path and
 * above that are empty and tagged as fcrun's, in every hierarchy (for
 * benchmarks and tools that clean up after them); EBUSY while another
 * create is making its directories. */
int fcrt_cgroup_remove_parents(const char *path, struct fc_error **err);
/* Memory slots, for containers created with memory_at_start: a memory
 * cgroup (v1 memory hierarchy only, canonical path "/fcrun/NAME", tagged
 * trusted.fcrun=pool) with the memory limits of res (may be NULL); *tasks_fd its `tasks`
 * file opened for writing (fcrt_start_args.memory_fd). Made at the first
 * use; when it exists it must carry the tag and be empty. After the
 * container that used it is deleted, reset it (anything left in it killed,
 * its peak and failure counts reset), then use it again, or remove it
 * (fcrt_cgroup_remove). supported: the host has a v1 memory hierarchy. */
bool fcrt_memslot_supported(void);
int fcrt_memslot_make(const char *path, const struct fc_resources *res, int *tasks_fd,
                      struct fc_error **err);
int fcrt_memslot_reset(const char *path, struct fc_error **err);
/* Is it empty (no process in it)? */
bool fcrt_memslot_empty(const char *path);

/* ---- the features document (features.c) ------------------------------ */

/* The runtime-spec features document, indented as runc prints it. */
void fcrt_features_json(struct fc_buf *out);

/* ---- exec (exec.c) ----------------------------------------------------- */

struct fcrt_exec_opts {
	const char *root; /* NULL = /run/fcrun */
	const char *id;
	/* The process: a process.json document (runtime-spec "process"), or
	 * else the container's process with args and the overrides below. */
	const char *process_json;
	size_t process_len;
	char **args;     /* NULL-terminated */
	char **env;      /* "K=V" added/overriding ("K" alone: our value); also with process_json */
	const char *cwd; /* NULL = the container's */
	bool has_user;
	uint32_t uid, gid;
	const uint32_t *additional_gids;
	size_t n_additional_gids;
	char **caps; /* added to bounding/effective/permitted/ambient; also with process_json */
	bool no_new_privs;          /* force on (else the process's setting) */
	bool tty;                   /* process.terminal (ignored with process_json) */
	const char *console_socket; /* receives the pty master; NULL: returned in pty_master */
	bool detach;                /* only validates: a tty needs a console socket then */
	bool ignore_paused;
	int preserve_fds; /* fds 3..3+n-1 are passed on */
	const char *pid_file;
	char **cgroups; /* --cgroup: sub-cgroups to run in ("PATH", "CTRL[,CTRL]:PATH"), or NULL */
};

struct fcrt_exec {
	pid_t pid;      /* our child (waitpid works), running in the container */
	int pidfd;      /* -1 if unavailable */
	int pty_master; /* tty without console socket: the master, else -1 */
};

/* Start the process in a created, running (or, with ignore_paused, paused)
 * container. Returns after the process exec'd; errors before execve (bad
 * cwd, "exec: \"x\": executable file not found in $PATH", ...) are
 * returned here ("unable to start container process: ..."). */
int fcrt_exec(const struct fcrt_exec_opts *o, struct fcrt_exec **out, struct fc_error **err);
void fcrt_exec_free(struct fcrt_exec *e);

/* ---- the typed OCI spec (spec-parse.c, spec-write.c, spec-default.c) -- */

/* The one config.json model of the project: `fcrun spec`, `fcstart image
 * bundle` and the pool's sandboxes all start from fcrt_spec_default(), and
 * fcrt_create() takes either a bundle's config.json or a parsed spec
 * (fcrt_create_opts.spec). The pool's way: build a function's spec once per
 * deploy (fcrt_spec_default() and the edits below), hand it to each fork
 * server as text (fcrt_spec_json), parse it there once (fcrt_spec_parse with
 * no bundle, so root.path stays relative), and create every sandbox from it
 * with its own fcrt_create_opts.bundle or .rootfs.
 *
 * Absent optional values: pointers NULL, counts 0, and a has_* flag false.
 * A NULL array and a present but empty one differ (capability sets,
 * rlimits, ...: an empty one is non-NULL with a count of 0). Change mounts
 * through fcrt_spec_add_mount/_remove_mount (they have derived fields);
 * plain fields (process args, env, cwd, uid, hostname, resources, ...) may
 * be set directly, with malloc'd strings and vectors (fc_strdup), which
 * fcrt_spec_free() frees. The types keep the fc_ prefix they have inside
 * libfcrt; the functions are fcrt_spec_*. */

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
	/* Derived from type and options by parse and fcrt_spec_add_mount: */
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
	/* Names fcrun does not know, left out of the sets (NULL-terminated,
	 * may be NULL): runc and crun skip them with a warning, so newer
	 * engines work with older runtimes; create and exec log it. */
	char **unknown;
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
	/* Default device rules left out, bit i for the i-th (see
	 * fc_cgroup_default_devices_off): as runc, a device linux.devices names
	 * by a default one's path loses that default rule. Not from JSON. */
	uint32_t default_devices_off;
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
	char *root_path; /* as written, or absolute against the bundle given to parse */
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

/* The one default config of the project: what `fcrun spec` writes (runc's
 * `runc spec`): `sh` on a terminal as root in "rootfs" (read-only), the
 * PATH and TERM environment, CAP_AUDIT_WRITE, CAP_KILL and
 * CAP_NET_BIND_SERVICE, RLIMIT_NOFILE 1024, noNewPrivileges, hostname
 * "fcrun", /proc, /dev, /dev/pts, /dev/shm, /dev/mqueue, /sys and
 * /sys/fs/cgroup, every device denied, new pid, network, ipc, uts and mount
 * namespaces, runc's masked and read-only paths. Out of memory aborts. */
struct fc_spec *fcrt_spec_default(void);
/* Make s rootless as `runc spec --rootless` does: a user namespace mapping
 * uid and gid to root, no network namespace, /sys bind-mounted, devpts
 * without gid=5, no resources. */
void fcrt_spec_rootless(struct fc_spec *s, uid_t uid, gid_t gid);

/* Parse a config.json document (nesting checked first, FC_JSON_MAX_DEPTH).
 * Errors name the field: "process.args: must be a non-empty array of
 * strings". bundle non-NULL: root.path is made absolute against it; NULL:
 * root.path stays as written (a relative one is resolved against
 * fcrt_create_opts.bundle at create). Unknown keys are ignored. */
int fcrt_spec_parse(const char *json, size_t len, const char *bundle, struct fc_spec **out,
                    struct fc_error **err);
/* Read <bundle>/config.json (NULL: ./config.json) and parse it against bundle. */
int fcrt_spec_load(const char *bundle, struct fc_spec **out, struct fc_error **err);
/* Serialise: config.json text appended to out. indent: tab-indented as runc
 * writes it (no trailing newline); else compact. Every field of the typed
 * spec is written; what parse ignores (unknown keys, process.scheduler,
 * linux.intelRdt) is not. fcrt_spec_parse() of the text gives the same
 * spec. */
void fcrt_spec_json(const struct fc_spec *s, bool indent, struct fc_buf *out);
/* A deep copy, through the JSON text (root.path as in s); fails as parse
 * does when s was edited into something parse refuses. */
int fcrt_spec_copy(const struct fc_spec *s, struct fc_spec **out, struct fc_error **err);
void fcrt_spec_free(struct fc_spec *s);
static inline void fcrt_spec_freep(struct fc_spec **s)
{
	fcrt_spec_free(*s);
}
#define _cleanup_spec_ _cleanup_(fcrt_spec_freep)

/* Editing (out of memory aborts). Those on the process need s->process,
 * which fcrt_spec_default() and fcrt_spec_parse() always set. */
/* process.args = a copy of args (NULL-terminated, non-empty). */
void fcrt_spec_set_args(struct fc_spec *s, char *const *args);
/* Set "KEY=VALUE" in process.env, replacing an entry with the same KEY. */
void fcrt_spec_setenv(struct fc_spec *s, const char *kv);
/* Set (or replace) an annotation. */
void fcrt_spec_annotate(struct fc_spec *s, const char *key, const char *value);
/* Add a mount at the end; options (NULL-terminated, may be NULL) are read as
 * config.json's are (flags, propagation, bind, filesystem data). */
void fcrt_spec_add_mount(struct fc_spec *s, const char *destination, const char *type,
                         const char *source, const char *const *options);
/* Remove the mounts at destination; returns how many. */
size_t fcrt_spec_remove_mount(struct fc_spec *s, const char *destination);
/* Add a namespace of type t (path NULL: a new one) or, if s has one, set its
 * path; remove it. */
void fcrt_spec_set_namespace(struct fc_spec *s, enum fc_ns_type t, const char *path);
void fcrt_spec_remove_namespace(struct fc_spec *s, enum fc_ns_type t);

#endif
