/* SPDX-License-Identifier: MIT */
/* exec.c: run another process in a live container (`fcrun exec`).
 *
 * The caller forks a helper that makes itself undumpable (CVE-2019-5736),
 * enters the container's cgroup and joins the init's namespaces through
 * /proc/<init>/ns/<type> (user first, mount last, then the init's root). The pid
 * and time namespaces apply to children only, so the helper clones the
 * process with CLONE_PARENT: it becomes the caller's child (the caller can
 * wait for it, no subreaper needed), inside every namespace. The helper
 * reports the pid and exits. The process then sets itself up like a
 * container init after start: cwd, terminal, rlimits, seccomp (early when
 * no_new_privileges is off), user and capabilities, no_new_privileges,
 * seccomp, close other descriptors, execve. Every error before execve goes
 * back over the (close-on-exec) sync socket; EOF there means it exec'd. */
#include "internal.h"
#include "cgroup/cgroup.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <strings.h>
#include <sys/wait.h>
#include <termios.h>

/* Message types on the exec socket (beyond enum fc_sync_msg). */
enum { EXEC_MSG_CONSOLE = 100, EXEC_MSG_SECCOMP };

void fcrt_exec_free(struct fcrt_exec *e)
{
	if (!e)
		return;
	if (e->pidfd >= 0)
		close(e->pidfd);
	if (e->pty_master >= 0)
		close(e->pty_master);
	free(e);
}

struct exec_ctx {
	const struct fcrt_exec_opts *o;
	struct fc_spec *spec;     /* the container's config.json */
	struct fc_process *proc;  /* --process, else spec->process */
	struct fc_process *owned; /* proc when parsed from --process */
	struct fc_seccomp_prog *seccomp;
	char **env;
	pid_t init_pid;
	int ns_fds[FC_NS_COUNT];
	int root_fd;    /* /proc/<init>/root */
	int sock[2];    /* [0] caller, [1] helper and process */
	int console_fd; /* connected --console-socket or -1 */
	int agent_fd;   /* the seccomp agent (listenerPath), or -1 */
	char *bundle;
	struct fc_cgroup *cg;
};

static void ctx_free(struct exec_ctx *c)
{
	for (int i = 0; i < FC_NS_COUNT; i++)
		if (c->ns_fds[i] >= 0)
			close(c->ns_fds[i]);
	if (c->root_fd >= 0)
		close(c->root_fd);
	for (int i = 0; i < 2; i++)
		if (c->sock[i] >= 0)
			close(c->sock[i]);
	if (c->console_fd >= 0)
		close(c->console_fd);
	if (c->agent_fd >= 0)
		close(c->agent_fd);
	free(c->bundle);
	fc_seccomp_prog_free(c->seccomp);
	fc_cgroup_free(c->cg);
	fc_process_free(c->owned);
	fcrt_spec_free(c->spec);
	fc_strv_free(c->env);
}

static void caps_add(int **set, size_t *n, int cap)
{
	for (size_t i = 0; i < *n; i++)
		if ((*set)[i] == cap)
			return;
	*set = fc_realloc(*set, (*n + 1) * sizeof(int));
	(*set)[(*n)++] = cap;
}

/* runc's and crun's warning for capability names they skip. */
static void warn_unknown_caps(const struct fc_caps *k)
{
	if (!k->unknown)
		return;
	_cleanup_buf_ struct fc_buf b = {0};
	for (size_t i = 0; k->unknown[i]; i++)
		fc_buf_printf(&b, "%s%s", i ? " " : "", k->unknown[i]);
	fc_log(FC_LOG_WARN, "ignoring unknown or unavailable capabilities: [%s]", b.data);
}

/* The process to run: --process, else the container's with the overrides. */
static int build_process(struct exec_ctx *c, struct fc_error **err)
{
	const struct fcrt_exec_opts *o = c->o;
	struct fc_process *p;
	if (o->process_json) {
		int r = fc_process_parse(o->process_json, o->process_len, &c->owned, err);
		if (r < 0)
			return r;
		p = c->proc = c->owned;
	} else {
		if (!o->args || !o->args[0])
			return fc_error_set(err, 0, "args must not be empty");
		p = c->proc = c->spec->process;
		fc_strv_free(p->args);
		size_t n = fc_strv_len(o->args);
		p->args = fc_calloc(n + 1, sizeof(char *));
		for (size_t i = 0; i < n; i++)
			p->args[i] = fc_strdup(o->args[i]);
		p->terminal = o->tty;
		if (o->cwd) {
			if (o->cwd[0] != '/')
				return fc_error_set(err, 0, "--cwd `%s`: must be an absolute path",
				                    o->cwd);
			free(p->cwd);
			p->cwd = fc_strdup(o->cwd);
		}
		if (o->has_user) {
			p->uid = o->uid;
			p->gid = o->gid;
		}
		if (o->n_additional_gids) {
			free(p->additional_gids);
			p->additional_gids = fc_calloc(o->n_additional_gids, sizeof(uint32_t));
			memcpy(p->additional_gids, o->additional_gids,
			       o->n_additional_gids * sizeof(uint32_t));
			p->n_additional_gids = o->n_additional_gids;
		}
		if (o->no_new_privs)
			p->no_new_privileges = true;
		p->has_console_size = false;
	}
	for (char **cap = o->caps; cap && *cap; cap++) {
		_cleanup_free_ char *name =
		    strncasecmp(*cap, "CAP_", 4) ? fc_asprintf("CAP_%s", *cap) : fc_strdup(*cap);
		for (char *x = name; *x; x++)
			*x = (char)(*x >= 'a' && *x <= 'z' ? *x - 32 : *x);
		int v = fc_cap_from_name(name);
		if (v < 0) {
			/* as runc: skipped with a warning */
			fc_log(FC_LOG_WARN, "ignoring unknown or unavailable capabilities: [%s]",
			       name);
			continue;
		}
		struct fc_caps *k = &p->caps;
		k->has_caps = true;
		caps_add(&k->bounding, &k->n_bounding, v);
		caps_add(&k->effective, &k->n_effective, v);
		caps_add(&k->permitted, &k->n_permitted, v);
		caps_add(&k->ambient, &k->n_ambient, v);
	}
	warn_unknown_caps(&p->caps);
	c->env = fc_merge_env(p->env, o->env, true);
	return 0;
}

/* Send a descriptor: in an fc_sync message of the given type, or (type 0,
 * the --console-socket protocol) with just the name as payload. */
static int send_fd(int sock, uint32_t type, int fd, const char *name)
{
	struct fc_sync m = {.type = type};
	snprintf(m.text, sizeof(m.text), "%s", name);
	char cbuf[CMSG_SPACE(sizeof(int))] = {0};
	struct iovec iov = {.iov_base = &m,
	                    .iov_len = offsetof(struct fc_sync, text) + strlen(m.text) + 1};
	if (!type) {
		iov.iov_base = m.text;
		iov.iov_len = strlen(m.text);
	}
	struct msghdr msg = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

/* Receive an fc_sync message and an optional descriptor (*fd, else -1). */
static int recv_msg(int sock, struct fc_sync *m, int *fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {.iov_base = m, .iov_len = sizeof(*m)};
	struct msghdr msg = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	ssize_t r;
	*fd = -1;
	do
		r = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (r < (ssize_t)offsetof(struct fc_sync, text))
		return -EPIPE; /* EOF: the process exec'd (or died) */
	if (r == (ssize_t)offsetof(struct fc_sync, text))
		m->text[0] = '\0';
	m->text[sizeof(m->text) - 1] = '\0';
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
			memcpy(fd, CMSG_DATA(cm), sizeof(int));
	return 0;
}

static __attribute__((noreturn)) void fail(struct exec_ctx *c, struct fc_error *e)
{
	fc_sync_send(c->sock[1], FC_SYNC_ERROR, e && e->errnum ? e->errnum : EIO,
	             e ? e->msg : "unknown error");
	_exit(1);
}

/* A new pty in the container's devpts; the peer becomes our stdio and
 * controlling terminal, the master goes to the console socket or the caller. */
static int setup_tty(struct exec_ctx *c, struct fc_error **err)
{
	_cleanup_close_ int master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return fc_error_set(err, errno, "open /dev/pts/ptmx in the container");
	int unlock = 0;
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
		return fc_error_set(err, errno, "unlock the pty");
	_cleanup_close_ int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
	if (slave < 0)
		return fc_error_set(err, errno, "open the pty peer");
	const struct fc_process *p = c->proc;
	if (p->has_console_size) {
		struct winsize ws = {.ws_row = (unsigned short)p->console_height,
		                     .ws_col = (unsigned short)p->console_width};
		ioctl(slave, TIOCSWINSZ, &ws);
	}
	int r;
	if (c->console_fd >= 0)
		r = send_fd(c->console_fd, 0, master, "/dev/ptmx");
	else
		r = send_fd(c->sock[1], EXEC_MSG_CONSOLE, master, "/dev/ptmx");
	if (r < 0)
		return fc_error_set(err, -r, "send the pty master%s",
		                    c->console_fd >= 0 ? " to --console-socket" : "");
	if (setsid() < 0)
		return fc_error_set(err, errno, "setsid");
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		return fc_error_set(err, errno, "set the controlling terminal");
	for (int fd = 0; fd < 3; fd++)
		if (dup2(slave, fd) < 0)
			return fc_error_set(err, errno, "dup2 the pty onto fd %d", fd);
	return 0;
}

static int lookup(struct exec_ctx *c, char **path, struct fc_error **err)
{
	const char *a0 = c->proc->args[0];
	struct fc_error *e = NULL;
	if (fc_find_executable(a0, c->env, path, &e) >= 0)
		return 0;
	int errnum = e ? e->errnum : ENOENT;
	if (errnum == EPERM) { /* refused: the runtime's own binary */
		fc_error_relay(err, EPERM, "%s", e->msg);
		fc_error_free(e);
		return -EPERM;
	}
	fc_error_free(e);
	if (strchr(a0, '/'))
		return fc_error_set(err, 0, "exec: \"%s\": stat %s: %s", a0, a0, strerror(errnum));
	return fc_error_set(err, 0, "exec: \"%s\": executable file not found in $PATH", a0);
}

static void keep_fds(int preserve)
{
	unsigned first = 3u + (unsigned)(preserve > 0 ? preserve : 0);
	syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC);
	for (int fd = 3; fd < (int)first; fd++) {
		int fl = fcntl(fd, F_GETFD);
		if (fl >= 0)
			fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC);
	}
}

/* The filter; a notify fd goes to fcrun exec's caller side, which knows the
 * process's pid as the host sees it and hands it to the seccomp agent (as
 * runc does for an exec), so the agent gets the exec's notifications. */
static int install_seccomp(struct exec_ctx *c, struct fc_error **err)
{
	int nfd = -1;
	if (fc_seccomp_install(c->seccomp, fc_seccomp_notifies(c->seccomp) ? &nfd : NULL, err) < 0)
		return fc_error_code(*err);
	if (nfd < 0)
		return 0;
	int r = send_fd(c->sock[1], EXEC_MSG_SECCOMP, nfd, "seccompFd");
	close(nfd);
	if (r < 0)
		return fc_error_set(err, -r, "linux.seccomp: hand the notify fd over");
	return 0;
}

/* The process, in all the container's namespaces. */
static __attribute__((noreturn)) void exec_process(struct exec_ctx *c)
{
	struct fc_error *e = NULL;
	const struct fc_process *p = c->proc;
	_cleanup_free_ char *path = NULL;

	if (p->terminal && setup_tty(c, &e) < 0)
		fail(c, e);
	if (fc_in_root_chdir(c->o->cwd ? "--cwd" : "process.cwd", p->cwd, &e) < 0)
		fail(c, e);
	fc_env_default_home(&c->env, p->uid);
	if (lookup(c, &path, &e) < 0)
		fail(c, e);
	if (p->has_oom_score_adj) {
		char v[16];
		snprintf(v, sizeof(v), "%d", p->oom_score_adj);
		if (fc_write_string_at(AT_FDCWD, "/proc/self/oom_score_adj", v, &e) < 0) {
			fc_error_wrap(&e, "process.oomScoreAdj");
			fail(c, e);
		}
	}
	if (fc_rlimits_apply(p, &e) < 0)
		fail(c, e);
	if (!p->no_new_privileges && c->seccomp && install_seccomp(c, &e) < 0)
		fail(c, e);
	fc_stdio_chown(p->uid, p->terminal);
	if (fc_identity_apply(p, &e) < 0)
		fail(c, e);
	if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		fc_error_set(&e, errno, "process.noNewPrivileges");
		fail(c, e);
	}
	if (p->no_new_privileges && c->seccomp && install_seccomp(c, &e) < 0)
		fail(c, e);
	keep_fds(c->o->preserve_fds);
	execve(path, p->args, c->env);
	fc_error_set(&e, errno, "exec: \"%s\"", p->args[0]);
	fail(c, e);
}

/* The helper: undumpable, in the cgroup, joins the namespaces, clones the
 * process as the caller's child, reports its pid. */
static __attribute__((noreturn)) void helper(struct exec_ctx *c)
{
	struct fc_error *e = NULL;
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* Only what the helper and the process use: every other descriptor of
	 * fcrun exec's caller (a host directory, say) would otherwise be
	 * reachable from the container as /proc/self/fd/N (CVE-2024-21626). */
	{
		int keep[FC_NS_COUNT + 8];
		size_t n = 0;
		for (int i = 0; i < FC_NS_COUNT; i++)
			keep[n++] = c->ns_fds[i];
		keep[n++] = c->root_fd;
		keep[n++] = c->sock[1];
		keep[n++] = c->console_fd;
		_cleanup_free_ int *all = fc_calloc(
		    n + (size_t)(c->o->preserve_fds > 0 ? c->o->preserve_fds : 0) + 1, sizeof(int));
		memcpy(all, keep, n * sizeof(int));
		for (int i = 0; i < c->o->preserve_fds; i++)
			all[n++] = 3 + i;
		if (fc_close_fds_except(all, n) < 0) {
			fc_error_set(&e, errno, "close inherited descriptors");
			fail(c, e);
		}
	}
	if (c->cg && fc_cgroup_enter(c->cg, getpid(), false, &e) < 0) {
		fc_error_wrap(&e, "join the container's cgroup");
		fail(c, e);
	}
	static const enum fc_ns_type order[] = {FC_NS_USER,   FC_NS_IPC, FC_NS_UTS,  FC_NS_NETWORK,
	                                        FC_NS_CGROUP, FC_NS_PID, FC_NS_TIME, FC_NS_MOUNT};
	for (size_t i = 0; i < FC_ARRAY_SIZE(order); i++) {
		int fd = c->ns_fds[order[i]];
		if (fd >= 0 && setns(fd, fc_ns_clone_flag(order[i])) < 0) {
			fc_error_set(&e, errno, "join the container's %s namespace",
			             fc_ns_name(order[i]));
			fail(c, e);
		}
	}
	/* The container's root, also for a container without a mount namespace. */
	if (fchdir(c->root_fd) < 0 || chroot(".") < 0 || chdir("/") < 0) {
		fc_error_set(&e, errno, "enter the container's root");
		fail(c, e);
	}
	close(c->root_fd);
	c->root_fd = -1;
	for (int i = 0; i < FC_NS_COUNT; i++)
		if (c->ns_fds[i] >= 0) {
			close(c->ns_fds[i]);
			c->ns_fds[i] = -1;
		}
	if (c->ns_fds[FC_NS_USER] >= 0 && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)) {
		fc_error_set(&e, errno, "become root in the container's user namespace");
		fail(c, e);
	}
	pid_t pid = (pid_t)syscall(SYS_clone, (unsigned long)(CLONE_PARENT | SIGCHLD), NULL, NULL,
	                           NULL, NULL);
	if (pid < 0) {
		fc_error_set(&e, errno, "clone the process");
		fail(c, e);
	}
	if (pid == 0)
		exec_process(c);
	fc_sync_send(c->sock[1], FC_SYNC_PID, pid, NULL);
	_exit(0);
}

static int load_container(struct exec_ctx *c, struct fc_error **err)
{
	const struct fcrt_exec_opts *o = c->o;
	const char *root = o->root ? o->root : FCRT_DEFAULT_ROOT;
	struct fcrt_state *st = NULL;
	int r = fcrt_state_load(root, o->id, &st, err);
	if (r < 0)
		return r;
	if (st->status == FCRT_STOPPED)
		r = fc_error_set(err, 0, "cannot exec in a stopped container");
	else if (st->status == FCRT_PAUSED && !o->ignore_paused)
		r = fc_error_set(
		    err, 0, "cannot exec in a paused container (use --ignore-paused to override)");
	if (r < 0) {
		fcrt_state_free(st);
		return r;
	}
	c->init_pid = st->pid;
	c->bundle = fc_strdup(st->bundle);
	{
		_cleanup_free_ char *path = fc_asprintf("%s/%s/config.json", root, o->id);
		_cleanup_free_ char *data = NULL;
		size_t len;
		r = fc_read_file_at(AT_FDCWD, path, &data, &len, 0, err);
		if (r >= 0)
			r = fcrt_spec_parse(data, len, st->bundle, &c->spec, err);
	}
	if (r >= 0 && *st->cgroup_path)
		r = fc_cgroup_open(st->cgroup_path, &c->cg, err);
	if (r >= 0 && c->cg && o->cgroups)
		r = fc_cgroup_descend(c->cg, o->cgroups, err);
	/* Pin the namespaces and root now, then check the init is still ours. */
	for (size_t i = 0; r >= 0 && i < c->spec->n_namespaces; i++) {
		enum fc_ns_type t = c->spec->namespaces[i].type;
		_cleanup_free_ char *p =
		    fc_asprintf("/proc/%d/ns/%s", (int)st->pid, fc_ns_proc_name(t));
		if (c->ns_fds[t] >= 0)
			continue;
		c->ns_fds[t] = open(p, O_RDONLY | O_CLOEXEC);
		if (c->ns_fds[t] < 0) {
			r = fc_error_set(err, errno, "open `%s`", p);
			break;
		}
		/* Already ours (a namespace joined by path that is the host's):
		 * nothing to join, and setns would refuse our own user namespace. */
		_cleanup_free_ char *self = fc_asprintf("/proc/self/ns/%s", fc_ns_proc_name(t));
		struct stat a, b;
		if (fstat(c->ns_fds[t], &a) == 0 && stat(self, &b) == 0 && a.st_ino == b.st_ino &&
		    a.st_dev == b.st_dev) {
			close(c->ns_fds[t]);
			c->ns_fds[t] = -1;
		}
	}
	if (r >= 0) {
		_cleanup_free_ char *p = fc_asprintf("/proc/%d/root", (int)st->pid);
		c->root_fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (c->root_fd < 0)
			r = fc_error_set(err, errno, "open `%s`", p);
	}
	if (r >= 0 && fc_proc_start_time(st->pid) != st->start_time)
		r = fc_error_set(err, 0, "cannot exec in a stopped container");
	fcrt_state_free(st);
	return r;
}

int fcrt_exec(const struct fcrt_exec_opts *o, struct fcrt_exec **out, struct fc_error **err)
{
	struct exec_ctx c = {
	    .o = o, .root_fd = -1, .sock = {-1, -1}, .console_fd = -1, .agent_fd = -1};
	pid_t helper_pid = -1, pid = -1;
	int r, master = -1;
	for (int i = 0; i < FC_NS_COUNT; i++)
		c.ns_fds[i] = -1;
	*out = NULL;
	fc_self_exe_init();

	if (!fcrt_id_valid(o->id)) {
		r = fc_error_set(err, EINVAL, "invalid container id `%s`", o->id ? o->id : "");
		goto done;
	}
	if ((r = load_container(&c, err)) < 0 || (r = build_process(&c, err)) < 0)
		goto done;
	if (c.proc->terminal && !o->console_socket && o->detach) {
		r = fc_error_set(
		    err, 0,
		    "cannot allocate tty if fcrun will detach without setting console socket");
		goto done;
	}
	if (!c.proc->terminal && o->console_socket) {
		r = fc_error_set(
		    err, 0, "cannot use console socket if fcrun will not detach or allocate tty");
		goto done;
	}
	if (c.proc->terminal && o->console_socket &&
	    (r = c.console_fd = fc_unix_connect(o->console_socket, "console socket", err)) < 0)
		goto done;
	if ((r = fc_seccomp_compile(c.spec->seccomp, &c.seccomp, err)) < 0) {
		fc_error_wrap(err, "linux.seccomp");
		goto done;
	}
	if (fc_seccomp_notifies(c.seccomp) &&
	    (r = c.agent_fd =
	         fc_unix_connect(c.spec->seccomp->listener_path, "seccomp agent", err)) < 0) {
		fc_error_wrap(err, "linux.seccomp.listenerPath");
		goto done;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, c.sock) < 0) {
		r = fc_error_set(err, errno, "socketpair");
		goto done;
	}
	helper_pid = fork();
	if (helper_pid < 0) {
		r = fc_error_set(err, errno, "fork");
		goto done;
	}
	if (helper_pid == 0) {
		close(c.sock[0]);
		c.sock[0] = -1;
		helper(&c);
	}
	close(c.sock[1]);
	c.sock[1] = -1;

	/* The helper's answer: the pid, or an error. The process it cloned
	 * writes on the same socket and may come first: its pty master or
	 * notify fd waits for the pid here. */
	struct fc_sync m;
	int fd, early_console = -1, early_notify = -1;
	for (;;) {
		r = recv_msg(c.sock[0], &m, &fd);
		if (r == 0 && fd >= 0 && m.type == EXEC_MSG_CONSOLE && early_console < 0) {
			early_console = fd;
			continue;
		}
		if (r == 0 && fd >= 0 && m.type == EXEC_MSG_SECCOMP && early_notify < 0) {
			early_notify = fd;
			continue;
		}
		if (fd >= 0)
			close(fd);
		break;
	}
	while (waitpid(helper_pid, NULL, 0) < 0 && errno == EINTR)
		;
	master = early_console;
	if (early_notify >= 0) {
		_cleanup_free_ char *st =
		    fc_state_hook_json(o->id, "running", c.init_pid, c.bundle, c.spec);
		if (r == 0 && m.type == FC_SYNC_PID &&
		    fc_seccomp_agent_send(c.agent_fd, early_notify, m.value,
		                          c.spec->seccomp->listener_metadata, st, err) < 0) {
			close(early_notify);
			pid = m.value;
			kill(pid, SIGKILL);
			r = -EIO;
			goto done;
		}
		close(early_notify);
	}
	if (r == 0 && m.type == FC_SYNC_ERROR) {
		r = fc_error_set(err, 0, "unable to start container process: %s", m.text);
		goto done;
	}
	if (r < 0 || m.type != FC_SYNC_PID) {
		r = fc_error_set(err, EIO, "the exec helper exited before it reported");
		goto done;
	}
	pid = m.value;
	/* Then the process: a pty master perhaps, an error, or EOF (exec'd). */
	for (;;) {
		r = recv_msg(c.sock[0], &m, &fd);
		if (r == -EPIPE) {
			r = 0;
			break;
		}
		if (r < 0) {
			r = fc_error_set(err, -r, "read from the exec'd process");
			goto done;
		}
		if (m.type == EXEC_MSG_SECCOMP && fd >= 0) {
			_cleanup_free_ char *st =
			    fc_state_hook_json(o->id, "running", c.init_pid, c.bundle, c.spec);
			r = fc_seccomp_agent_send(c.agent_fd, fd, pid,
			                          c.spec->seccomp->listener_metadata, st, err);
			close(fd);
			if (r < 0)
				goto done;
			continue;
		}
		if (m.type == EXEC_MSG_CONSOLE && fd >= 0) {
			if (master >= 0)
				close(master);
			master = fd;
			continue;
		}
		if (fd >= 0)
			close(fd);
		if (m.type == FC_SYNC_ERROR) {
			r = fc_error_set(err, 0, "unable to start container process: %s", m.text);
			goto done;
		}
	}
	if (o->pid_file) {
		char buf[32];
		int n = snprintf(buf, sizeof(buf), "%d", (int)pid);
		r = fc_write_file_atomic_at(AT_FDCWD, o->pid_file, buf, (size_t)n, 0644, err);
		if (r < 0) {
			fc_error_wrap(err, "--pid-file");
			kill(pid, SIGKILL);
			goto done;
		}
	}
	struct fcrt_exec *x = fc_calloc(1, sizeof(*x));
	x->pid = pid;
	x->pidfd = fc_pidfd_open(pid);
	x->pty_master = TAKE_FD(master);
	*out = x;
	pid = -1;
done:
	if (pid > 0) {
		/* It failed before execve and exits by itself: reap it. */
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	if (master >= 0)
		close(master);
	ctx_free(&c);
	return r < 0 ? r : 0;
}
