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

struct fcrt_create_opts {
	const char *root; /* state root, default /run/fcrun */
	const char *id;
	const char *bundle;         /* directory with config.json; NULL = cwd */
	const char *config_path;    /* NULL = <bundle>/config.json */
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
/* Start a container created with FCRT_WAIT_SOCKET by this process. */
int fcrt_start_socket(struct fcrt_container *c, struct fc_error **err);

/* What a hand-over may change at start (the pool's invocations). */
struct fcrt_start_args {
	int stdio[3]; /* new descriptors for the process's 0, 1, 2; -1 keeps create's */
	char **env;   /* extra KEY=VALUE entries, overriding config's (NULL: none) */
	char **argv;  /* replaces process.args when non-NULL */
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
/* How many times the kernel's OOM killer acted in the container's cgroup. */
int fcrt_oom_count(const char *root, const char *id, uint64_t *count, struct fc_error **err);

/* ---- documents (features.c) ------------------------------------------- */

/* The runtime-spec features document, indented as runc prints it. */
void fcrt_features_json(struct fc_buf *out);
/* The starter config.json of `runc spec` (rootless: a user namespace mapping
 * uid/gid to root, no network namespace, /sys bind-mounted, no resources). */
void fcrt_spec_default_json(bool rootless, uid_t uid, gid_t gid, struct fc_buf *out);

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

#endif
