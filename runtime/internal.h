/* SPDX-License-Identifier: MIT */
/* internal.h (private to runtime/): what create's parent and the container's
 * init process share. The init process is a clone of `fcrun create` (no
 * re-exec), so it reads this struct straight from its copy of memory. */
#ifndef FCRT_INTERNAL_H
#define FCRT_INTERNAL_H

#include "fcrt.h"
#include "spec.h"
#include "security.h"

/* sync-socket.c: messages on the sync socket (SOCK_SEQPACKET: one message per send). */
enum fc_sync_msg {
	FC_SYNC_PID = 1, /* child -> parent: init's pid (double-fork path), payload pid_t */
	FC_SYNC_GO,      /* parent -> child: proceed (id maps written) */
	FC_SYNC_CGROUP,  /* parent -> child: now in the container's cgroups (or: move yourself) */
	FC_SYNC_HOOKS,   /* child -> parent: run prestart + createRuntime hooks now */
	FC_SYNC_HOOKS_DONE, /* parent -> child */
	FC_SYNC_READY,      /* child -> parent: created, waiting for start */
	FC_SYNC_OK,         /* parent -> child: state written, drop the parent-death signal */
	FC_SYNC_ACK,        /* child -> parent */
	FC_SYNC_START,      /* parent -> child (socket wait): start now */
	FC_SYNC_STARTED,    /* child -> parent: about to exec */
	FC_SYNC_ERROR,      /* child -> parent: payload is the message text */
};

/* FC_SYNC_START's value: bit i (0-2) when a descriptor for stdio i comes
 * with it, and this bit when the memory cgroup's `tasks` file comes last. */
#define FC_START_MEMORY (1 << 3)

struct fc_sync {
	uint32_t type;
	int32_t value;
	char text[4000];
};

int fc_sync_send(int fd, uint32_t type, int32_t value, const char *text);
/* Receive one message; -EPIPE when the peer has gone. */
int fc_sync_recv(int fd, struct fc_sync *m);
/* The same with a binary payload of len bytes and up to 4 descriptors. */
int fc_sync_send_fds(int fd, uint32_t type, int32_t value, const void *payload, size_t len,
                     const int *fds, size_t nfds);
/* Receives descriptors (O_CLOEXEC) into fds[0..*nfds); *len: payload bytes. */
int fc_sync_recv_fds(int fd, struct fc_sync *m, size_t *len, int *fds, size_t *nfds);

struct fc_create {
	const struct fcrt_create_opts *opts;
	/* What is created: spec_view, a shallow copy of opts->spec or of
	 * spec_owned (parsed from config.json) with this container's root.path
	 * (absolute). Nothing in it is freed but spec_owned and root_path. */
	struct fc_spec *spec;
	struct fc_spec *spec_owned;
	struct fc_spec spec_view;
	char *root_path;
	char *config_json; /* config.json (raw, or serialised from the view), for the state dir */
	size_t config_len;
	char *bundle;         /* absolute */
	char *state_dir;      /* <root>/<id> */
	int state_dirfd;      /* O_PATH of state_dir (the runtime's; closed in the init) */
	int exec_listen_fd;   /* FCRT_WAIT_EXEC: listening socket <state_dir>/exec.sock, else -1 */
	int sync_fd[2];       /* [0] parent's end, [1] child's end */
	int console_fd;       /* connected --console-socket, or -1 */
	int seccomp_agent_fd; /* connected linux.seccomp.listenerPath, or -1 */
	pid_t host_pid;       /* the init's pid as the runtime sees it (from FC_SYNC_GO) */
	int *idmap_fds;       /* per mount: user namespace of an idmapped mount, or -1 */
	/* per mount: with a user namespace, a detached clone (open_tree) of a
	 * bind mount's source, made by the runtime where it can reach it (as
	 * runc opens them before the init joins the user namespace), or -1 */
	int *tree_fds;
	struct fc_seccomp_prog *seccomp;
	char *exec_path;        /* resolved process.args[0] (in the container's rootfs) */
	char **env;             /* process env + extra */
	int clone_flags;        /* namespaces created at clone time */
	bool double_fork;       /* joining namespaces by path or a new time namespace */
	const int *cg_self_fds; /* v1 `tasks` files the init writes "0" to */
	size_t n_cg_self_fds;
	char *cgroup_path;
	struct fc_cgroup *cgroup;
	uint64_t oom_base; /* a recycled cgroup's OOM kill count before this container */
	/* opts->memory_at_start on a host with a v1 memory hierarchy: the
	 * init waits in its creator's memory cgroup, joins the one the start
	 * gives it and makes its cgroup namespace then */
	bool memory_at_start;
	uint64_t t0;
	size_t profile_cloned; /* opts->profile's marks made before the clone */
};

/* A mark of a create's step (opts->profile; nothing without one). */
static inline void fc_mark(struct fc_create *c, const char *name)
{
	if (c->opts->profile)
		fcrt_profile_mark(c->opts->profile, name, fc_now_ns());
}

/* init.c: the container side; never returns (execs or exits 1 after sending
 * FC_SYNC_ERROR). */
__attribute__((noreturn)) void fc_init_main(struct fc_create *c);

/* mount.c: everything between "new mount namespace" and "pivoted". Called in
 * the container's init. hooks_cb runs between mounting and pivot_root. */
int fc_rootfs_prepare(struct fc_create *c, struct fc_error **err);
/* cgroup mounts (and mounts below them), made once the init is in its
 * cgroups and cgroup namespace. */
int fc_rootfs_mount_cgroups(struct fc_create *c, struct fc_error **err);
int fc_rootfs_pivot(struct fc_create *c, struct fc_error **err);
/* A user namespace holding an idmapped mount's mappings (made by the runtime
 * before the clone: /proc/PID must name the helper in our pid namespace). */
int fc_idmap_userns(const struct fc_mount *m, struct fc_error **err);
int fc_rootfs_finish(struct fc_create *c, struct fc_error **err);

/* hooks.c: run one hook kind with the state JSON on stdin (timeouts kill),
 * as runc runs them: in cwd (NULL: where we are; runc: the bundle for the
 * runtime's hooks), with the hook's env, or without one the environment
 * env (NULL: ours; the container's for createContainer and startContainer),
 * its stdout and stderr collected and given in the error when it fails:
 * "error running KIND hook #I: `PATH`: exit status N, stdout: ..., stderr: ...". */
int fc_hooks_run(const struct fc_spec *s, enum fc_hook_kind kind, const char *state_json,
                 const char *cwd, char **env, struct fc_error **err);
const char *fc_hook_kind_name(enum fc_hook_kind kind);
/* The i-th hook of a kind (poststart and poststop go on after a failure,
 * with a warning). */
int fc_hook_run_one(const struct fc_spec *s, enum fc_hook_kind kind, size_t i,
                    const char *state_json, const char *cwd, char **env, struct fc_error **err);

/* state.c: state.json and a copy of config.json, into c->state_dirfd */
int fc_state_write(struct fc_create *c, pid_t pid, unsigned long long start_time,
                   struct fc_error **err);
/* The state JSON hooks receive on stdin. */
char *fc_state_hook_json(const char *id, const char *status, pid_t pid, const char *bundle,
                         const struct fc_spec *s);
/* Start time (field 22 of /proc/PID/stat), 0 if the process is gone. */
unsigned long long fc_proc_start_time(pid_t pid);
int fc_pidfd_open(pid_t pid);

/* process.c: a + b, entries of b replacing those of a with the same key (new vector);
 * a bare NAME in b takes its value from our environment when
 * names_from_environ (fcrun exec -e NAME), else is ignored. */
char **fc_merge_env(char **a, char *const *b, bool names_from_environ);
/* Connect to a unix socket (SOCK_STREAM, CLOEXEC): --console-socket, the
 * seccomp agent; the error says "failed to connect with WHAT `PATH`". */
int fc_unix_connect(const char *path, const char *what, struct fc_error **err);

/* Exec path lookup in the container: search PATH from env within the rootfs
 * directory fd (after pivot: "/"). */
int fc_find_executable(const char *arg0, char **env, char **out, struct fc_error **err);

/* inroot.c: paths inside the container's root (rootfd), resolved with
 * openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS). fc_in_root_open returns
 * the fd or -1 with errno set; a leading '/' is allowed. */
int fc_in_root_open(int rootfd, const char *path, int flags, mode_t mode);
/* mkdir -p inside the root; returns an O_PATH fd of the directory. A
 * symlink to nothing on the way gets what it points at made (in the root),
 * as runc does. */
int fc_in_root_mkdir_p(int rootfd, const char *path, mode_t mode, struct fc_error **err);
/* The target of path when its last component is a symlink (absolute, or
 * joined to the link's directory), else NULL. */
char *fc_in_root_dangling(int rootfd, const char *path);
/* chdir to path inside our root ("/"): field names the config field in errors
 * ("process.cwd"); magic links and paths leading out are refused. */
int fc_in_root_chdir(const char *field, const char *path, struct fc_error **err);
/* The program a container process is to exec (path, found for arg0), from
 * inside the container's root: it may not be the runtime's own binary, nor
 * reach it through a magic link such as /proc/self/exe, nor have either as
 * its "#!" interpreter (CVE-2019-5736: the container could then open the
 * runtime's binary through /proc/PID/exe and overwrite it). fc_self_exe_init
 * notes which binary that is, on the host side, before the clone or fork. */
void fc_self_exe_init(void);
int fc_exec_check(const char *arg0, const char *path, struct fc_error **err);
/* Close every descriptor but 0-2 and keep[0..n) (values < 0 are skipped). */
int fc_close_fds_except(const int *keep, size_t n);

/* process.c: add HOME from the container's /etc/passwd (else "/") when env has
 * none, as runc does. Call after entering the container's root. */
void fc_env_default_home(char ***env, uint32_t uid);

#endif
