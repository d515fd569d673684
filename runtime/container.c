/* SPDX-License-Identifier: MIT */
/* container.c: create (the runtime's side), start, kill, delete.
 *
 * Create clones the container's init straight into its new namespaces (one
 * clone, or clone3 into the cgroup on cgroup2 hosts). Only when namespaces
 * are joined by path, or a time namespace is made, does an intermediate
 * process setns/unshare and fork the init (pid and time namespaces apply to
 * children only). The init is never re-executed: it is a copy of this
 * process that sets itself up and execs the container's program on start. */
#include "internal.h"
#include "cgroup/cgroup.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

/* The init's marks, from its READY message ("NAME NS\n"...). */
static void profile_merge(struct fc_create *c, const char *text)
{
	for (const char *l = text; l && *l;) {
		char name[16];
		unsigned long long ns;
		if (sscanf(l, "%15s %llu", name, &ns) == 2)
			fcrt_profile_mark(c->opts->profile, name, ns);
		l = strchr(l, '\n');
		l = l ? l + 1 : NULL;
	}
}

void fcrt_container_free(struct fcrt_container *c)
{
	if (!c)
		return;
	if (c->pidfd >= 0)
		close(c->pidfd);
	if (c->sync_fd >= 0)
		close(c->sync_fd);
	free(c->id);
	free(c->root);
	free(c);
}

static void create_cleanup(struct fc_create *c)
{
	if (c->sync_fd[0] >= 0)
		close(c->sync_fd[0]);
	if (c->sync_fd[1] >= 0)
		close(c->sync_fd[1]);
	if (c->console_fd >= 0)
		close(c->console_fd);
	if (c->seccomp_agent_fd >= 0)
		close(c->seccomp_agent_fd);
	for (size_t i = 0; c->idmap_fds && c->spec && i < c->spec->n_mounts; i++)
		if (c->idmap_fds[i] >= 0)
			close(c->idmap_fds[i]);
	free(c->idmap_fds);
	for (size_t i = 0; c->tree_fds && c->spec && i < c->spec->n_mounts; i++)
		if (c->tree_fds[i] >= 0)
			close(c->tree_fds[i]);
	free(c->tree_fds);
	if (c->state_dirfd >= 0)
		close(c->state_dirfd);
	if (c->exec_listen_fd >= 0)
		close(c->exec_listen_fd);
	fc_seccomp_prog_free(c->seccomp);
	fc_cgroup_free(c->cgroup);
	fcrt_spec_free(c->spec_owned);
	free(c->root_path);
	fc_strv_free(c->env);
	free(c->config_json);
	free(c->bundle);
	free(c->state_dir);
	free(c->exec_path);
	free(c->cgroup_path);
}

static int write_id_map(pid_t pid, const char *file, const struct fc_idmap *m, size_t n,
                        struct fc_error **err)
{
	_cleanup_buf_ struct fc_buf b = {0};
	char path[64];
	for (size_t i = 0; i < n; i++)
		fc_buf_printf(&b, "%u %u %u\n", m[i].container_id, m[i].host_id, m[i].size);
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	if (!b.data)
		return 0;
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, b.data, b.len) < 0)
		return fc_error_set(err, errno, "write `%s`", path);
	return 0;
}

static pid_t do_clone(struct fc_create *c, bool *into_cgroup)
{
	int cgfd = c->cgroup ? fc_cgroup_clone_fd(c->cgroup) : -1;
	*into_cgroup = false;
	if (cgfd >= 0) {
		struct clone_args ca = {0};
		ca.flags = (uint64_t)(unsigned)c->clone_flags | CLONE_INTO_CGROUP;
		ca.exit_signal = SIGCHLD;
		ca.cgroup = (uint64_t)cgfd;
		pid_t pid = (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
		if (pid >= 0) {
			*into_cgroup = true;
			return pid;
		}
		if (errno != ENOSYS && errno != E2BIG && errno != EINVAL)
			return -1;
	}
	return (pid_t)syscall(SYS_clone, (unsigned long)c->clone_flags | SIGCHLD, NULL, NULL, NULL,
	                      NULL);
}

/* Reap the init if it was our child and describe how it went. A kill by
 * the OOM killer of its cgroup names the memory limit: a limit too low for
 * the init to get ready (a few KiB) shows so, not as a bare SIGKILL. */
static void describe_exit(struct fc_create *c, pid_t pid, struct fc_error **err)
{
	int st = 0;
	bool reaped = false;
	for (int i = 0; i < 1000; i++) {
		pid_t w = waitpid(pid, &st, WNOHANG);
		if (w == pid)
			reaped = true;
		if (w != 0 || fc_proc_start_time(pid) == 0)
			break;
		usleep(100); /* it closed the socket: exiting */
	}
	uint64_t ooms = 0;
	const struct fc_resources *res = c->spec ? c->spec->resources : NULL;
	if (c->cgroup && fc_cgroup_oom_count(c->cgroup, &ooms) == 0 && ooms > c->oom_base)
		fc_error_relay(err, ENOMEM,
		               "linux.resources.memory.limit: the container init was killed by the "
		               "OOM killer before it was ready (a limit of %lld bytes is too low)",
		               res && res->memory.has_limit ? (long long)res->memory.limit : -1LL);
	if (reaped && WIFEXITED(st))
		fc_error_set(err, EIO, "container init exited with status %d before it was ready",
		             WEXITSTATUS(st));
	else if (reaped && WIFSIGNALED(st))
		fc_error_set(err, EIO, "container init was killed by signal %d before it was ready",
		             WTERMSIG(st));
	fc_error_set(err, EIO, "container init exited before it was ready");
}

/* Send to the init (with descriptor fd when >= 0); when it has gone,
 * report what it said before it went. */
static int send_fd_or_collect(struct fc_create *c, pid_t pid, uint32_t type, int fd,
                              struct fc_error **err)
{
	struct fc_sync m;
	/* GO carries the init's pid as we see it (for the seccomp agent) */
	int32_t value = type == FC_SYNC_GO ? pid : 0;
	if ((fd < 0 ? fc_sync_send(c->sync_fd[0], type, value, NULL)
	            : fc_sync_send_fds(c->sync_fd[0], type, value, NULL, 0, &fd, 1)) == 0)
		return 0;
	if (fc_sync_recv(c->sync_fd[0], &m) == 0 && m.type == FC_SYNC_ERROR)
		return fc_error_relay(err, m.value, "%s", m.text);
	describe_exit(c, pid, err);
	return -EIO;
}

static int send_or_collect(struct fc_create *c, pid_t pid, uint32_t type, struct fc_error **err)
{
	return send_fd_or_collect(c, pid, type, -1, err);
}

/* An absolute path with "." and empty components dropped and ".." taken
 * lexically (Go's filepath.Clean). */
static char *lexical_clean(const char *path)
{
	struct fc_buf b = {0};
	_cleanup_free_ char *p = fc_strdup(path);
	for (char *save = NULL, *c = strtok_r(p, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (FC_STREQ(c, "."))
			continue;
		if (FC_STREQ(c, "..")) {
			char *slash = b.data ? strrchr(b.data, '/') : NULL;
			if (slash) {
				*slash = '\0';
				b.len = (size_t)(slash - b.data);
			}
			continue;
		}
		fc_buf_printf(&b, "/%s", c);
	}
	if (!b.len) {
		free(b.data);
		return fc_strdup("/");
	}
	return b.data;
}

static int validate(struct fc_create *c, struct fc_error **err)
{
	struct fc_spec *s = c->spec;
	int r = fc_spec_validate(s, err);
	if (r < 0)
		return r;
	/* runc's rule and words: cgroup v2 files only where cgroup v2 is the
	 * hierarchy (a hybrid host's cgroup2 tree holds no memory or cpu). */
	if (s->resources && s->resources->n_unified && fc_cgroup_host_mode() != FC_CGROUP_V2)
		return fc_error_set(err, 0,
		                    "linux.resources.unified: invalid configuration: cannot use "
		                    "unified on cgroup v1");
	if (c->opts->has_rootfs_mount && (!fc_spec_ns(s, FC_NS_MOUNT) || c->opts->rootfs_mount < 0))
		return fc_error_set(err, EINVAL,
		                    "a detached root filesystem needs a mount namespace");
	if (s->process->terminal && !c->opts->console_socket && !c->opts->has_console_fd)
		return fc_error_set(err, 0,
		                    "cannot allocate tty if fcrun will detach without "
		                    "setting console socket");
	struct stat st;
	if (stat(s->root_path, &st) < 0)
		return fc_error_set(err, errno, "root.path `%s`", s->root_path);
	if (!S_ISDIR(st.st_mode))
		return fc_error_set(err, ENOTDIR, "root.path `%s`", s->root_path);
	/* As runc: the rootfs is named by its own path, not through a symlink
	 * (one in the bundle could lead anywhere on the host). */
	_cleanup_free_ char *real = realpath(s->root_path, NULL);
	_cleanup_free_ char *clean = lexical_clean(s->root_path);
	if (!real || !FC_STREQ(real, clean))
		return fc_error_relay(err, EINVAL,
		                      "root.path `%s`: invalid rootfs: not an absolute path, or a "
		                      "symlink (it resolves to `%s`)",
		                      s->root_path, real ? real : "?");
	return 0;
}

/* <state>/init: the init's pid and start time, from the clone on, so a
 * delete -f after a create that was killed finds it (state.json comes
 * last). */
static unsigned long long record_init(int dirfd, pid_t pid)
{
	char buf[64];
	unsigned long long start = fc_proc_start_time(pid);
	/* a line of the cgroup record (<state>/cgroups, which exists by now): no
	 * file of its own to make and remove */
	int n = snprintf(buf, sizeof(buf), "I %d %llu\n", (int)pid, start);
	_cleanup_close_ int fd = openat(dirfd, "cgroups", O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd >= 0)
		(void)!write(fd, buf, (size_t)n);
	return start;
}

/* <state>/exec.sock, reached through the state directory's descriptor (a
 * state root may be longer than a socket address allows). */
static int exec_socket_addr(int dirfd, struct sockaddr_un *sa)
{
	*sa = (struct sockaddr_un){.sun_family = AF_UNIX};
	snprintf(sa->sun_path, sizeof(sa->sun_path), "/proc/self/fd/%d/exec.sock", dirfd);
	return 0;
}

static int exec_socket_listen(int dirfd, const char *dir, struct fc_error **err)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fc_error_set(err, errno, "create `%s/exec.sock`", dir);
	exec_socket_addr(dirfd, &sa);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    fchmodat(dirfd, "exec.sock", 0600, 0) < 0 || listen(fd, 4) < 0) {
		int e = errno;
		close(fd);
		return fc_error_set(err, e, "create `%s/exec.sock`", dir);
	}
	return fd;
}

/* c->spec: opts->spec, or the bundle's config.json parsed, seen with this
 * container's root.path (opts->rootfs, else root.path; absolute against the
 * bundle). The state dir gets the raw config.json when it is what we
 * create from, else the view's JSON. */
static int create_spec(struct fc_create *c, struct fc_error **err)
{
	const struct fcrt_create_opts *o = c->opts;
	const struct fc_spec *from = o->spec;
	const char *root;
	if (!from) {
		_cleanup_free_ char *cfg = o->config_path
		                               ? fc_strdup(o->config_path)
		                               : fc_asprintf("%s/config.json", c->bundle);
		int r = fc_read_file_at(AT_FDCWD, cfg, &c->config_json, &c->config_len, 0, err);
		if (r < 0)
			return r;
		r = fcrt_spec_parse(c->config_json, c->config_len, c->bundle, &c->spec_owned, err);
		if (r < 0)
			return fc_error_wrap(err, "%s", cfg);
		from = c->spec_owned;
	}
	if (!from->process)
		return fc_error_set(err, EINVAL, "process: is required");
	root = o->rootfs ? o->rootfs : from->root_path;
	if (!root || !*root)
		return fc_error_set(err, EINVAL, "root.path: must not be empty");
	c->root_path = fc_spec_root_path(c->bundle, root);
	c->spec_view = *from;
	c->spec_view.root_path = c->root_path;
	c->spec = &c->spec_view;
	if (o->spec || o->rootfs) {
		struct fc_buf b = {0};
		free(c->config_json);
		fcrt_spec_json(c->spec, false, &b);
		c->config_json = b.data;
		c->config_len = b.len;
	}
	return 0;
}

/* A cgroup the config names that existed already (linux.cgroupsPath), as
 * runc 1.1 checks it: frozen is refused (the init would hang in it), not
 * empty is a warning (runc 1.2 refuses that too). */
static int check_existing_cgroup(struct fc_cgroup *cg, struct fc_error **err)
{
	if (!cg || fc_cgroup_owned(cg))
		return 0;
	if (fc_cgroup_is_frozen(cg))
		return fc_error_set(err, 0, "container's cgroup unexpectedly frozen");
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0;
	struct fc_error *e = NULL;
	if (fc_cgroup_pids(cg, &pids, &n, &e) >= 0 && n > 0)
		fc_log(FC_LOG_WARN, "container's cgroup is not empty: %zu process(es) found", n);
	fc_error_free(e);
	return 0;
}

int fcrt_create(const struct fcrt_create_opts *o, struct fcrt_container **out,
                struct fc_error **err)
{
	struct fc_create c = {.opts = o,
	                      .sync_fd = {-1, -1},
	                      .console_fd = -1,
	                      .state_dirfd = -1,
	                      .exec_listen_fd = -1,
	                      .seccomp_agent_fd = -1};
	const char *root = o->root ? o->root : FCRT_DEFAULT_ROOT;
	pid_t child = -1, init_pid = -1;
	unsigned long long init_start = 0; /* its start time (/proc/PID/stat) */
	bool state_made = false, into_cgroup = false;
	int r;

	c.t0 = fc_now_ns();
	fc_self_exe_init();
	if (!fcrt_id_valid(o->id))
		return fc_error_set(err, EINVAL, "invalid container id `%s`", o->id ? o->id : "");
	c.bundle = realpath(o->bundle ? o->bundle : ".", NULL);
	if (!c.bundle)
		return fc_error_set(err, errno, "bundle `%s`", o->bundle ? o->bundle : ".");
	r = create_spec(&c, err);
	if (r < 0)
		goto fail;
	r = validate(&c, err);
	if (r < 0)
		goto fail;
	/* The cgroup is known (and a host cgroup refused) before anything is made. */
	c.cgroup_path = o->cgroup_recycled ? fc_strdup(o->cgroup_recycled)
	                                   : fc_cgroup_resolve_path(o->id, c.spec->cgroups_path,
	                                                            o->systemd_cgroup, err);
	if (!c.cgroup_path) {
		r = fc_error_code(*err);
		goto fail;
	}
	fc_mark(&c, "spec");
	fc_log(FC_LOG_DEBUG, "create `%s`: parsed config at %.3f ms", o->id,
	       (double)(fc_now_ns() - c.t0) / 1e6);
	for (char **w = c.spec->warnings; w && *w; w++)
		fc_log(FC_LOG_WARN, "%s", *w);
	if (c.spec->process->caps.unknown) {
		/* runc's and crun's warning: the names are skipped, not refused */
		_cleanup_buf_ struct fc_buf b = {0};
		for (char **u = c.spec->process->caps.unknown; *u; u++)
			fc_buf_printf(&b, "%s%s", u == c.spec->process->caps.unknown ? "" : " ",
			              *u);
		fc_log(FC_LOG_WARN, "ignoring unknown or unavailable capabilities: [%s]", b.data);
	}

	if (o->notify_socket && c.spec_owned) {
		/* runc's sd_notify mount: the state's notify dir at /run/notify */
		_cleanup_free_ char *src = fc_asprintf("%s/%s/notify", root, o->id);
		fcrt_spec_add_mount(
		    c.spec_owned, "/run/notify", "bind", src,
		    (const char *const[]){"bind", "nosuid", "noexec", "nodev", "ro", NULL});
		c.spec_view.mounts = c.spec_owned->mounts;
		c.spec_view.n_mounts = c.spec_owned->n_mounts;
	}

	/* State directory: mkdir is the lock against a second create of the id. */
	if (mkdir(root, 0700) < 0 && errno != EEXIST) {
		if (errno != ENOENT || fc_mkdir_p_at(AT_FDCWD, root, 0700, err) < 0) {
			r = fc_error_set(err, errno, "create state root `%s`", root);
			goto fail;
		}
	}
	c.state_dir = fc_asprintf("%s/%s", root, o->id);
	if (mkdir(c.state_dir, 0711) < 0) {
		r = errno == EEXIST ? fc_error_set(err, 0, "container with id exists: %s", o->id)
		                    : fc_error_set(err, errno, "create `%s`", c.state_dir);
		if (errno == EEXIST)
			r = -EEXIST;
		goto fail;
	}
	state_made = true;
	c.state_dirfd = open(c.state_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (c.state_dirfd < 0) {
		r = fc_error_set(err, errno, "open `%s`", c.state_dir);
		goto fail;
	}
	if (o->notify_socket && c.spec_owned && mkdirat(c.state_dirfd, "notify", 0755) < 0) {
		r = fc_error_set(err, errno, "create `%s/notify`", c.state_dir);
		goto fail;
	}
	if (o->wait == FCRT_WAIT_EXEC) {
		r = c.exec_listen_fd = exec_socket_listen(c.state_dirfd, c.state_dir, err);
		if (r < 0)
			goto fail;
	}

	fc_mark(&c, "state");
	c.env = fc_merge_env(c.spec->process->env, o->extra_env, false);
	r = fc_seccomp_compile(c.spec->seccomp, &c.seccomp, err);
	if (r < 0) {
		fc_error_wrap(err, "linux.seccomp");
		goto fail;
	}
	fc_mark(&c, "seccomp");
	c.idmap_fds = fc_calloc(c.spec->n_mounts + 1, sizeof(int));
	c.tree_fds = fc_calloc(c.spec->n_mounts + 1, sizeof(int));
	bool userns = fc_spec_ns(c.spec, FC_NS_USER) != NULL;
	for (size_t i = 0; i < c.spec->n_mounts; i++) {
		const struct fc_mount *m = &c.spec->mounts[i];
		c.idmap_fds[i] = c.tree_fds[i] = -1;
		if (m->n_uid_mappings || m->n_gid_mappings) {
			r = c.idmap_fds[i] = fc_idmap_userns(m, err);
			if (r < 0)
				goto fail;
		} else if (userns && m->source &&
		           (m->bind || (m->type && FC_STREQ(m->type, "bind")))) {
			/* The init, in the user namespace, may not be able to reach
			 * the source (a 0700 directory on the way): cloned here. A
			 * source that cannot be cloned is left to the init, which
			 * says why. */
			_cleanup_free_ char *src = m->source[0] == '/'
			                               ? fc_strdup(m->source)
			                               : fc_asprintf("%s/%s", c.bundle, m->source);
			c.tree_fds[i] = (int)syscall(SYS_open_tree, AT_FDCWD, src,
			                             OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
			                                 (m->recursive ? AT_RECURSIVE : 0));
		}
	}
	/* As runc: the agent is needed (and connected) only when the filter
	 * notifies; listenerPath alone is ignored. */
	if (fc_seccomp_notifies(c.seccomp) &&
	    (!c.spec->seccomp->listener_path || !*c.spec->seccomp->listener_path)) {
		r = fc_error_set(err, 0,
		                 "linux.seccomp: SCMP_ACT_NOTIFY needs a seccomp agent "
		                 "(linux.seccomp.listenerPath is empty)");
		goto fail;
	}
	if (fc_seccomp_notifies(c.seccomp)) {
		/* Connected here, in the runtime's namespaces; the init sends the
		 * notify fd through it once its filter is in place. */
		r = c.seccomp_agent_fd =
		    fc_unix_connect(c.spec->seccomp->listener_path, "seccomp agent", err);
		if (r < 0) {
			fc_error_wrap(err, "linux.seccomp.listenerPath");
			goto fail;
		}
	}
	if (c.spec->process->terminal && o->console_socket) {
		r = c.console_fd = fc_unix_connect(o->console_socket, "console socket", err);
		if (r < 0)
			goto fail;
	}
	if (c.spec->process->terminal && !o->console_socket && o->has_console_fd) {
		c.console_fd = fcntl(o->console_fd, F_DUPFD_CLOEXEC, 3);
		if (c.console_fd < 0) {
			r = fc_error_set(err, errno, "console fd %d", o->console_fd);
			goto fail;
		}
	}

	{
		/* What the cgroup module makes is recorded in the state dir before it
		 * is made, so delete -f removes it whatever the point a kill of
		 * create hit (see fc_cgroup_create). */
		_cleanup_close_ int journal = openat(
		    c.state_dirfd, "cgroups", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (journal < 0) {
			r = fc_error_set(err, errno, "create `%s/cgroups`", c.state_dir);
			goto fail;
		}
		/* As runc: a default device linux.devices names loses its rule. */
		const struct fc_resources *res = c.spec->resources;
		struct fc_resources own = {0};
		uint32_t off = fc_cgroup_default_devices_off(c.spec->devices, c.spec->n_devices);
		if (off) {
			if (res)
				own = *res;
			own.default_devices_off = off;
			res = &own;
		}
		c.memory_at_start = o->memory_at_start && o->cgroup_recycled &&
		                    o->wait == FCRT_WAIT_SOCKET && fc_cgroup_v1_memory();
		r = o->cgroup_recycled
		        ? fc_cgroup_recycle_sel(c.cgroup_path, res, journal,
		                                c.memory_at_start ? FC_CG_NO_MEMORY : FC_CG_ALL,
		                                &c.cgroup, err)
		        : fc_cgroup_create_late(c.cgroup_path, res, journal, &c.cgroup, err);
		if (r < 0)
			goto fail;
		if (o->cgroup_recycled)
			fc_cgroup_oom_count(c.cgroup, &c.oom_base);
		r = check_existing_cgroup(c.cgroup, err);
		if (r < 0)
			goto fail;
	}
	r = fc_cgroup_self_fds(c.cgroup, &c.cg_self_fds, &c.n_cg_self_fds, err);
	if (r < 0)
		goto fail;
	fc_mark(&c, "cgroup");
	fc_log(FC_LOG_DEBUG, "create `%s`: cgroup created at %.3f ms", o->id,
	       (double)(fc_now_ns() - c.t0) / 1e6);

	for (size_t i = 0; i < c.spec->n_namespaces; i++) {
		const struct fc_namespace *ns = &c.spec->namespaces[i];
		if (ns->path)
			c.double_fork = true;
		else if (ns->type == FC_NS_TIME)
			c.double_fork = true;
		else if (ns->type != FC_NS_CGROUP)
			c.clone_flags |= fc_ns_clone_flag(ns->type);
	}
	if (c.double_fork)
		c.clone_flags = 0; /* the intermediate process sets up namespaces itself */

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, c.sync_fd) < 0) {
		r = fc_error_set(err, errno, "socketpair");
		goto fail;
	}

	if (o->profile) {
		fc_mark(&c, "prepare");
		c.profile_cloned = o->profile->n;
	}
	child = do_clone(&c, &into_cgroup);
	if (child < 0) {
		r = fc_error_set(err, errno, "clone the container init (flags 0x%x)",
		                 c.clone_flags);
		goto fail;
	}
	if (child == 0) {
		close(c.sync_fd[0]);
		c.sync_fd[0] = -1;
		fc_init_main(&c);
	}
	close(c.sync_fd[1]);
	c.sync_fd[1] = -1;
	if (c.exec_listen_fd >= 0) {
		close(c.exec_listen_fd); /* the init's now */
		c.exec_listen_fd = -1;
	}
	fc_mark(&c, "clone");
	fc_log(FC_LOG_DEBUG, "create `%s`: cloned at %.3f ms", o->id,
	       (double)(fc_now_ns() - c.t0) / 1e6);

	init_pid = child;
	if (c.double_fork) {
		struct fc_sync m;
		r = fc_sync_recv(c.sync_fd[0], &m);
		if (r == 0 && m.type == FC_SYNC_ERROR) {
			r = fc_error_relay(err, m.value, "%s", m.text);
			goto fail;
		}
		if (r < 0 || m.type != FC_SYNC_PID) {
			describe_exit(&c, child, err);
			r = -EIO;
			goto fail;
		}
		init_pid = m.value;
		init_start = record_init(c.state_dirfd, init_pid);
		while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
			;
		child = -1;
	}
	if (fc_spec_ns(c.spec, FC_NS_USER) && !fc_spec_ns(c.spec, FC_NS_USER)->path) {
		if (write_id_map(init_pid, "uid_map", c.spec->uid_mappings, c.spec->n_uid_mappings,
		                 err) < 0 ||
		    write_id_map(init_pid, "gid_map", c.spec->gid_mappings, c.spec->n_gid_mappings,
		                 err) < 0) {
			r = fc_error_code(*err);
			goto fail;
		}
	}
	r = send_or_collect(&c, init_pid, FC_SYNC_GO, err);
	if (r < 0)
		goto fail;
	fc_mark(&c, "go");
	/* The init moves itself into the v1 hierarchies (see cgroup.h); the
	 * cgroup2 tree was joined by clone3, else we move it there, while it
	 * builds its rootfs (see init.c). */
	if (!into_cgroup && fc_cgroup_clone_fd(c.cgroup) >= 0) {
		/* no clone3: cgroup2 the slow way, v1 still by the init itself */
		r = fc_cgroup_enter_v2(c.cgroup, init_pid, err);
		if (r < 0)
			goto fail;
	}
	{
		/* The memory cgroup's directories, while the init makes its
		 * rootfs; it joins through the `tasks` file that comes with
		 * FC_SYNC_CGROUP (fc_cgroup_create_late). */
		_cleanup_close_ int tasks = -1;
		if (fc_cgroup_late(c.cgroup)) {
			_cleanup_close_ int journal =
			    openat(c.state_dirfd, "cgroups", O_WRONLY | O_APPEND | O_CLOEXEC);
			r = journal < 0 ? fc_error_set(err, errno, "open `%s/cgroups`", c.state_dir)
			                : fc_cgroup_make_late(c.cgroup, journal, &tasks, err);
			if (r < 0)
				goto fail;
			fc_mark(&c, "memcg");
		}
		r = send_fd_or_collect(&c, init_pid, FC_SYNC_CGROUP, tasks, err);
		if (r < 0)
			goto fail;
	}
	/* Recorded once the init has what it waits for (until it is ready it
	 * dies with us: a kill of create before this leaves no init). */
	if (!c.double_fork)
		init_start = record_init(c.state_dirfd, init_pid);
	fc_log(FC_LOG_DEBUG, "create `%s`: entered cgroup at %.3f ms", o->id,
	       (double)(fc_now_ns() - c.t0) / 1e6);
	for (;;) {
		struct fc_sync m;
		r = fc_sync_recv(c.sync_fd[0], &m);
		if (r < 0) {
			describe_exit(&c, init_pid, err);
			goto fail;
		}
		if (m.type == FC_SYNC_ERROR) {
			r = fc_error_relay(err, m.value, "%s", m.text);
			goto fail;
		}
		if (m.type == FC_SYNC_HOOKS) {
			_cleanup_free_ char *st =
			    fc_state_hook_json(o->id, "created", init_pid, c.bundle, c.spec);
			/* As runc: in the bundle, with our environment. */
			r = fc_hooks_run(c.spec, FC_HOOK_PRESTART, st, c.bundle, NULL, err);
			if (r >= 0)
				r = fc_hooks_run(c.spec, FC_HOOK_CREATE_RUNTIME, st, c.bundle, NULL,
				                 err);
			if (r < 0)
				goto fail;
			r = send_or_collect(&c, init_pid, FC_SYNC_HOOKS_DONE, err);
			if (r < 0)
				goto fail;
			continue;
		}
		if (m.type == FC_SYNC_READY) {
			if (o->profile) {
				profile_merge(&c, m.text);
				fc_mark(&c, "ready");
			}
			fc_log(FC_LOG_DEBUG, "create `%s`: init ready at %.3f ms", o->id,
			       (double)(fc_now_ns() - c.t0) / 1e6);
			break;
		}
		r = fc_error_set(err, EPROTO, "unexpected message %u from the container init",
		                 m.type);
		goto fail;
	}

	{
		r = fc_state_write(&c, init_pid, init_start, err);
		if (r < 0)
			goto fail;
		fc_mark(&c, "state.json");
	}
	if (o->pid_file) {
		char pidbuf[32];
		int n = snprintf(pidbuf, sizeof(pidbuf), "%d", (int)init_pid);
		r = fc_write_file_atomic_at(AT_FDCWD, o->pid_file, pidbuf, (size_t)n, 0644, err);
		if (r < 0) {
			fc_error_wrap(err, "--pid-file");
			goto fail;
		}
	}
	r = send_or_collect(&c, init_pid, FC_SYNC_OK, err);
	if (r < 0)
		goto fail;
	fc_mark(&c, "created");
	if (out) {
		struct fcrt_container *ct = fc_calloc(1, sizeof(*ct));
		ct->id = fc_strdup(o->id);
		ct->root = fc_strdup(root);
		ct->pid = init_pid;
		ct->pidfd = fc_pidfd_open(init_pid);
		ct->sync_fd = -1;
		if (o->wait == FCRT_WAIT_SOCKET)
			ct->sync_fd = TAKE_FD(c.sync_fd[0]);
		ct->poststart = c.spec->n_hooks[FC_HOOK_POSTSTART] > 0;
		*out = ct;
	}
	fc_log(FC_LOG_DEBUG, "created `%s` (pid %d) in %.3f ms", o->id, (int)init_pid,
	       (double)(fc_now_ns() - c.t0) / 1e6);
	create_cleanup(&c);
	return 0;

fail:
	if (init_pid > 0 && init_pid != child)
		kill(init_pid, SIGKILL);
	if (child > 0) {
		kill(child, SIGKILL);
		while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
			;
	}
	if (c.cgroup) {
		struct fc_error *e2 = NULL;
		fc_cgroup_destroy(c.cgroup, &e2);
		fc_error_free(e2);
	}
	if (state_made) {
		struct fc_error *e2 = NULL;
		fc_rm_rf_at(AT_FDCWD, c.state_dir, &e2);
		fc_error_free(e2);
	}
	if (o->pid_file && init_pid > 0)
		unlink(o->pid_file);
	create_cleanup(&c);
	return r < 0 ? r : -EIO;
}

static int load_spec_from_state(const char *root, const char *id, struct fc_spec **spec,
                                struct fcrt_state *st, struct fc_error **err)
{
	_cleanup_free_ char *path = fc_asprintf("%s/%s/config.json", root, id);
	_cleanup_free_ char *data = NULL;
	size_t len;
	if (fc_read_file_at(AT_FDCWD, path, &data, &len, 0, err) < 0)
		return fc_error_code(*err);
	return fcrt_spec_parse(data, len, st->bundle, spec, err);
}

static void run_hooks_logged(const struct fc_spec *spec, enum fc_hook_kind kind,
                             const struct fcrt_state *st, const char *status)
{
	if (!spec || !spec->n_hooks[kind])
		return;
	_cleanup_free_ char *json = fc_state_hook_json(st->id, status, st->pid, st->bundle, spec);
	/* A failing poststart or poststop hook is a warning; the rest still run. */
	for (size_t i = 0; i < spec->n_hooks[kind]; i++) {
		struct fc_error *e = NULL;
		if (fc_hook_run_one(spec, kind, i, json, st->bundle, NULL, &e) < 0)
			fc_log(FC_LOG_WARN, "%s", e->msg);
		fc_error_free(e);
	}
}

int fcrt_start(const char *root, const char *id, struct fc_error **err)
{
	struct fcrt_state *st = NULL;
	int r = fcrt_state_load(root, id, &st, err);
	if (r < 0)
		return r;
	if (st->status != FCRT_CREATED) {
		r = fc_error_set(err, 0, "cannot start a container that has %s",
		                 st->status == FCRT_STOPPED ? "stopped" : "already been started");
		fcrt_state_free(st);
		return r;
	}
	_cleanup_free_ char *dir = fc_asprintf("%s/%s", root, id);
	_cleanup_close_ int dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa;
	char buf[4096];
	ssize_t n = -1;
	if (dirfd < 0 || fd < 0) {
		r = fc_error_set(err, errno, "start `%s`: open `%s`", id, dir);
		goto out;
	}
	exec_socket_addr(dirfd, &sa);
	/* The init answers "0" (then execs) or "E<message>"; if it dies
	 * first, the connection is refused or reads EOF. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    send(fd, "S", 1, MSG_NOSIGNAL) == 1) {
		do
			n = recv(fd, buf, sizeof(buf) - 1, 0);
		while (n < 0 && errno == EINTR);
	}
	if (n <= 0) {
		r = fc_error_set(err, ESRCH, "start `%s`: the container process has exited", id);
		goto out;
	}
	unlinkat(dirfd, "exec.sock", 0);
	buf[n] = '\0';
	if (buf[0] != '0') {
		r = fc_error_set(err, 0, "start `%s`: %s", id, buf[0] == 'E' ? buf + 1 : buf);
		goto out;
	}
	{
		struct fc_spec *spec = NULL;
		struct fc_error *e = NULL;
		if (st->poststart_hooks != 0 && load_spec_from_state(root, id, &spec, st, &e) >= 0)
			run_hooks_logged(spec, FC_HOOK_POSTSTART, st, "running");
		fcrt_spec_free(spec);
		fc_error_free(e);
	}
out:
	fcrt_state_free(st);
	return r;
}

void fcrt_poststart(const char *root, const char *id)
{
	struct fcrt_state *st = NULL;
	struct fc_spec *spec = NULL;
	struct fc_error *e = NULL;
	if (fcrt_state_load(root, id, &st, &e) >= 0 && st->poststart_hooks != 0 &&
	    load_spec_from_state(root, id, &spec, st, &e) >= 0)
		run_hooks_logged(spec, FC_HOOK_POSTSTART, st, "running");
	fcrt_spec_free(spec);
	fcrt_state_free(st);
	fc_error_free(e);
}

int fcrt_start_socket(struct fcrt_container *c, struct fc_error **err)
{
	return fcrt_start_socket_ex(c, NULL, err);
}

/* START payload: "e" KEY=VALUE NUL ... "a" ARG NUL ...; value: bit i set when
 * descriptor for stdio i travels with it (in order). */
int fcrt_start_socket_ex(struct fcrt_container *c, const struct fcrt_start_args *a,
                         struct fc_error **err)
{
	struct fc_sync m;
	char payload[sizeof(m.text)];
	size_t len = 0, nfds = 0;
	int fds[4], mask = 0, r;
	for (int pass = 0; a && pass < 2; pass++) {
		char **v = pass == 0 ? a->env : a->argv;
		for (size_t i = 0; v && v[i]; i++) {
			size_t n = strlen(v[i]);
			if (len + n + 2 > sizeof(payload))
				return fc_error_set(
				    err, E2BIG, "start `%s`: environment and arguments too large",
				    c->id);
			payload[len++] = pass == 0 ? 'e' : 'a';
			memcpy(payload + len, v[i], n + 1);
			len += n + 1;
		}
	}
	for (int i = 0; a && i < 3; i++)
		if (a->stdio[i] >= 0) {
			fds[nfds++] = a->stdio[i];
			mask |= 1 << i;
		}
	if (a && a->has_memory) {
		fds[nfds++] = a->memory_fd;
		mask |= FC_START_MEMORY;
	}
	if (fc_sync_send_fds(c->sync_fd, FC_SYNC_START, mask, payload, len, fds, nfds) < 0)
		return fc_error_set(err, ESRCH, "start `%s`: the container process has exited",
		                    c->id);
	r = fc_sync_recv(c->sync_fd, &m);
	if (r < 0)
		return fc_error_set(err, ESRCH, "start `%s`: the container process has exited",
		                    c->id);
	if (m.type == FC_SYNC_ERROR)
		return fc_error_relay(err, m.value, "start `%s`: %s", c->id, m.text);
	c->exec_ns = strtoull(m.text, NULL, 10);
	close(c->sync_fd);
	c->sync_fd = -1;
	return 0;
}

static int signal_init(const struct fcrt_state *st, int sig, struct fc_error **err)
{
	_cleanup_close_ int pidfd = fc_pidfd_open(st->pid);
	if (pidfd < 0)
		return fc_error_set(err, ESRCH, "container `%s` is not running", st->id);
	/* The pidfd pins the process; re-check it is still our init. */
	if (fc_proc_start_time(st->pid) != st->start_time)
		return fc_error_set(err, ESRCH, "container `%s` is not running", st->id);
	if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
		return fc_error_set(err, errno, "kill container `%s`", st->id);
	return 0;
}

/* The container's cgroup with what its create made (<state>/cgroups);
 * NULL when it has none. A container made before that record existed
 * owns its default /fcrun/ID, nothing else. */
static struct fc_cgroup *open_cgroup(const char *dir, const char *id, const char *path,
                                     struct fc_error **err)
{
	_cleanup_free_ char *jpath = fc_asprintf("%s/cgroups", dir);
	_cleanup_free_ char *text = NULL, *def = fc_asprintf("/fcrun/%s", id);
	struct fc_cgroup *cg = NULL;
	if (fc_read_file_at(AT_FDCWD, jpath, &text, NULL, 1 << 20, NULL) < 0) {
		if (!path || !*path)
			return NULL;
		text = FC_STREQ(path, def) ? fc_asprintf("P %s\n+ l *\n", path)
		                           : fc_asprintf("P %s\n", path);
	}
	if (fc_cgroup_open_journal(text, &cg, err) < 0)
		return NULL;
	return cg;
}

/* Does the container have a pid namespace of its own (new, not joined)?
 * Then every process in it is the container's, and only the container's. */
static bool own_pidns(const char *root, const char *id, const struct fcrt_state *st)
{
	struct fc_spec *spec = NULL;
	struct fc_error *e = NULL;
	bool own = false;
	if (st->own_pidns >= 0)
		return st->own_pidns; /* recorded at create */
	if (load_spec_from_state(root, id, &spec, (struct fcrt_state *)st, &e) >= 0) {
		const struct fc_namespace *ns = fc_spec_ns(spec, FC_NS_PID);
		own = ns && !ns->path;
	}
	fcrt_spec_free(spec);
	fc_error_free(e);
	return own;
}

static ino_t pidns_of(pid_t pid)
{
	char p[64];
	struct stat s;
	snprintf(p, sizeof(p), "/proc/%d/ns/pid", (int)pid);
	return stat(p, &s) == 0 ? s.st_ino : 0;
}

/* Signal every process of the container. In a cgroup its create made, that
 * is everything in the cgroup (frozen meanwhile, so nothing forks away). In
 * a cgroup it joined (linux.cgroupsPath naming an existing one) the
 * neighbours are not ours: only the init, and with a pid namespace of the
 * container's own the cgroup's processes in it. Returns how many. */
static size_t signal_all(const char *root, const struct fcrt_state *st, struct fc_cgroup *cg,
                         int sig, struct fc_error **err)
{
	pid_t *pids = NULL;
	size_t n = 0, sent = 0;
	if (cg && fc_cgroup_owned(cg)) {
		bool freeze = sig == SIGKILL || st->status == FCRT_PAUSED;
		if (freeze)
			fc_cgroup_freeze(cg, true, err);
		fc_cgroup_pids(cg, &pids, &n, err);
		for (size_t i = 0; i < n; i++)
			sent += kill(pids[i], sig) == 0;
		if (freeze)
			fc_cgroup_freeze(cg, st->status == FCRT_PAUSED && sig != SIGKILL, err);
		free(pids);
		return sent;
	}
	ino_t ns = 0;
	if (st->status != FCRT_STOPPED && own_pidns(root, st->id, st))
		ns = pidns_of(st->pid);
	if (ns && cg)
		fc_cgroup_pids(cg, &pids, &n, err);
	for (size_t i = 0; i < n; i++)
		if (pids[i] != st->pid && pidns_of(pids[i]) == ns)
			sent += kill(pids[i], sig) == 0;
	free(pids);
	if (st->status != FCRT_STOPPED) {
		struct fc_error *e = NULL;
		sent += signal_init(st, sig, &e) == 0;
		fc_error_free(e);
	}
	if (cg && !ns)
		fc_log(FC_LOG_DEBUG,
		       "container `%s`: cgroup %s was not made by fcrun and the container "
		       "shares a pid namespace: only its init is signalled",
		       st->id, st->cgroup_path);
	return sent;
}

int fcrt_kill(const char *root, const char *id, int sig, bool all, struct fc_error **err)
{
	struct fcrt_state *st = NULL;
	int r = fcrt_state_load(root, id, &st, err);
	if (r < 0)
		return r;
	if (all && *st->cgroup_path) {
		_cleanup_free_ char *dir = fc_asprintf("%s/%s", root, id);
		struct fc_error *e = NULL;
		struct fc_cgroup *cg = open_cgroup(dir, id, st->cgroup_path, &e);
		size_t n = signal_all(root, st, cg, sig, &e);
		fc_error_free(e);
		fc_cgroup_free(cg);
		if (n == 0 && st->status == FCRT_STOPPED)
			r = fc_error_set(err, 0, "container not running");
	} else if (st->status == FCRT_STOPPED) {
		r = fc_error_set(err, 0, "container not running");
	} else {
		r = signal_init(st, sig, err);
	}
	fcrt_state_free(st);
	return r;
}

static void wait_gone(pid_t pid, unsigned long long start_time)
{
	/* The init may not be our child: wait until /proc says it is gone. */
	_cleanup_close_ int pidfd = fc_pidfd_open(pid);
	if (pidfd >= 0) {
		struct pollfd p = {.fd = pidfd, .events = POLLIN};
		if (fc_proc_start_time(pid) != start_time)
			return;
		poll(&p, 1, 2000);
	}
}

/* The init a create recorded: "I PID START" in <state>/cgroups (before
 * that: the file <state>/init, "PID START"). */
static bool recorded_init(const char *dir, int *pid, unsigned long long *start)
{
	_cleanup_free_ char *ipath = fc_asprintf("%s/init", dir), *text = NULL;
	if (fc_read_file_at(AT_FDCWD, ipath, &text, NULL, 4096, NULL) >= 0)
		return sscanf(text, "%d %llu", pid, start) == 2;
	_cleanup_free_ char *jpath = fc_asprintf("%s/cgroups", dir);
	if (fc_read_file_at(AT_FDCWD, jpath, &text, NULL, 1 << 20, NULL) < 0)
		return false;
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (l[0] == 'I' && l[1] == ' ')
			return sscanf(l + 2, "%d %llu", pid, start) == 2;
	return false;
}

/* What a create that was killed left: the record of its init (once
 * cloned) and of its cgroups, no state.json. Each is undone, whatever the
 * point. */
static int delete_partial(const char *dir, const char *id, struct fc_error **err)
{
	struct fc_error *e = NULL;
	{
		int pid = 0;
		unsigned long long start = 0;
		if (recorded_init(dir, &pid, &start) && pid > 0 && start) {
			struct fcrt_state st = {.id = (char *)id, .pid = pid, .start_time = start};
			signal_init(&st, SIGKILL, &e);
			wait_gone(pid, start);
		}
	}
	struct fc_cgroup *cg = open_cgroup(dir, id, NULL, &e);
	if (cg && fc_cgroup_destroy(cg, &e) < 0)
		fc_log(FC_LOG_WARN, "delete `%s`: %s", id, e->msg);
	fc_cgroup_free(cg);
	fc_error_free(e);
	return fc_rm_rf_at(AT_FDCWD, dir, err);
}

int fcrt_delete(const char *root, const char *id, bool force, struct fc_error **err)
{
	struct fcrt_state *st = NULL;
	struct fc_spec *spec = NULL;
	struct fc_error *e = NULL;
	int r = fcrt_state_load(root, id, &st, err);
	if (r < 0) {
		/* A directory without state.json is what a create that was
		 * killed leaves: --force removes it and all it made. */
		_cleanup_free_ char *dir = fc_asprintf("%s/%s", root, id ? id : "");
		if (force && r == -ENOENT && fcrt_id_valid(id) && access(dir, F_OK) == 0) {
			fc_error_free(*err);
			*err = NULL;
			return delete_partial(dir, id, err);
		}
		return r;
	}
	if (st->status == FCRT_RUNNING || st->status == FCRT_PAUSED) {
		if (!force) {
			r = fc_error_set(err, 0,
			                 "cannot delete container %s that is not stopped: %s", id,
			                 fcrt_status_name(st->status));
			fcrt_state_free(st);
			return r;
		}
	}
	_cleanup_free_ char *dir = fc_asprintf("%s/%s", root, id);
	struct fc_cgroup *cg = open_cgroup(dir, id, st->cgroup_path, &e);
	if (st->status != FCRT_STOPPED) {
		/* created (waiting for start) or forced: kill it */
		if (cg && st->status == FCRT_PAUSED && fc_cgroup_owned(cg))
			fc_cgroup_freeze(cg, false, &e);
		signal_all(root, st, cg, SIGKILL, &e);
		wait_gone(st->pid, st->start_time);
	}
	if (cg && fc_cgroup_destroy(cg, &e) < 0)
		fc_log(FC_LOG_WARN, "delete `%s`: %s", id, e->msg);
	fc_cgroup_free(cg);
	if (st->poststop_hooks != 0 && load_spec_from_state(root, id, &spec, st, &e) >= 0) {
		st->pid = 0;
		run_hooks_logged(spec, FC_HOOK_POSTSTOP, st, "stopped");
	}
	fcrt_spec_free(spec);
	fc_error_free(e);
	r = fc_rm_rf_at(AT_FDCWD, dir, err);
	fcrt_state_free(st);
	return r;
}
