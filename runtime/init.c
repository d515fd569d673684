/* SPDX-License-Identifier: MIT */
/* init.c: the container's init process from clone to execve.
 * Before "ready" every failure goes back to `create` over the sync socket;
 * after start, to the starter through its exec.sock connection ("E<message>") or the
 * socket. The last steps follow runc's order: rlimits, seccomp (early only
 * when no_new_privileges is off), identity and capabilities, personality,
 * no_new_privileges, seccomp, close every other descriptor, execve; with
 * startContainer hooks the filter goes in before them, so they run under it
 * as runc's do. */
#include "internal.h"
#include "cgroup/cgroup.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/statfs.h>
#include <net/if.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static __attribute__((noreturn)) void fail_sync(struct fc_create *c, struct fc_error *e)
{
	fc_sync_send(c->sync_fd[1], FC_SYNC_ERROR, e ? e->errnum : EIO,
	             e ? e->msg : "unknown error");
	_exit(1);
}

/* Wait for one message of the given type; the parent's death (EOF) ends us. */
static void expect(struct fc_create *c, uint32_t type)
{
	struct fc_sync m;
	if (fc_sync_recv(c->sync_fd[1], &m) < 0 || m.type != type)
		_exit(1);
	if (type == FC_SYNC_GO)
		c->host_pid = m.value;
}

/* expect() with descriptors (close-on-exec): how many came, at most max. */
static size_t expect_fds(struct fc_create *c, uint32_t type, int *fds, size_t max)
{
	struct fc_sync m;
	size_t len = 0, n = max;
	if (fc_sync_recv_fds(c->sync_fd[1], &m, &len, fds, &n) < 0 || m.type != type)
		_exit(1);
	return n;
}

/* The container's own cgroup namespace (when the spec asks for a new one),
 * rooted at the cgroups the init is in now. */
static int make_cgroupns(struct fc_create *c, struct fc_error **err)
{
	const struct fc_namespace *ns = fc_spec_ns(c->spec, FC_NS_CGROUP);
	if (ns && !ns->path && unshare(CLONE_NEWCGROUP) < 0)
		return fc_error_set(err, errno, "unshare the cgroup namespace");
	return 0;
}

/* Install the filter; a notify fd goes to the seccomp agent with the
 * container process state (runtime-spec "ContainerProcessState"). */
static int install_seccomp(struct fc_create *c, struct fc_error **err)
{
	int nfd = -1;
	if (fc_seccomp_install(c->seccomp, c->seccomp_agent_fd >= 0 ? &nfd : NULL, err) < 0)
		return fc_error_code(*err);
	if (nfd < 0 || c->seccomp_agent_fd < 0)
		return 0;
	const struct fc_spec *s = c->spec;
	_cleanup_free_ char *st =
	    fc_state_hook_json(c->opts->id, "running", c->host_pid, c->bundle, s);
	int r = fc_seccomp_agent_send(c->seccomp_agent_fd, nfd, c->host_pid,
	                              s->seccomp->listener_metadata, st, err);
	close(nfd);
	close(c->seccomp_agent_fd);
	c->seccomp_agent_fd = -1;
	return r;
}

static int join_namespaces(struct fc_create *c, struct fc_error **err)
{
	const struct fc_spec *s = c->spec;
	int unshare_flags = 0;
	/* The user namespace first: the others are then joined or made in it. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < s->n_namespaces; i++) {
			const struct fc_namespace *ns = &s->namespaces[i];
			if ((pass == 0) != (ns->type == FC_NS_USER))
				continue;
			if (!ns->path) {
				if (ns->type != FC_NS_CGROUP)
					unshare_flags |= fc_ns_clone_flag(ns->type);
				continue;
			}
			_cleanup_close_ int fd = open(ns->path, O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				return fc_error_set(err, errno,
				                    "linux.namespaces: open %s namespace `%s`",
				                    fc_ns_name(ns->type), ns->path);
			if (setns(fd, fc_ns_clone_flag(ns->type)) < 0)
				return fc_error_set(err, errno,
				                    "linux.namespaces: join %s namespace `%s`",
				                    fc_ns_name(ns->type), ns->path);
		}
		if (pass == 0 && (unshare_flags & CLONE_NEWUSER)) {
			if (unshare(CLONE_NEWUSER) < 0)
				return fc_error_set(err, errno, "unshare the user namespace");
			unshare_flags &= ~CLONE_NEWUSER;
		}
	}
	if (unshare_flags && unshare(unshare_flags) < 0)
		return fc_error_set(err, errno, "unshare namespaces (flags 0x%x)", unshare_flags);
	if (unshare_flags & CLONE_NEWTIME) {
		_cleanup_free_ char *off = fc_asprintf(
		    "monotonic %lld %u\nboottime %lld %u\n", (long long)s->monotonic_secs,
		    s->monotonic_nsecs, (long long)s->boottime_secs, s->boottime_nsecs);
		if (s->has_time_offsets &&
		    fc_write_string_at(AT_FDCWD, "/proc/self/timens_offsets", off, err) < 0)
			return fc_error_wrap(err, "linux.timeOffsets");
	}
	return 0;
}

/* The intermediate process of the double-fork path: join and make
 * namespaces, fork the init, report its pid, exit. */
static void stage1(struct fc_create *c)
{
	struct fc_error *e = NULL;
	if (join_namespaces(c, &e) < 0)
		fail_sync(c, e);
	pid_t pid = fork();
	if (pid < 0) {
		fc_error_set(&e, errno, "fork the container init");
		fail_sync(c, e);
	}
	if (pid > 0) {
		fc_sync_send(c->sync_fd[1], FC_SYNC_PID, pid, NULL);
		_exit(0);
	}
}

static int setup_console(struct fc_create *c, struct fc_error **err)
{
	_cleanup_close_ int master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return fc_error_set(err, errno, "open /dev/ptmx");
	int unlock = 0;
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
		return fc_error_set(err, errno, "unlock the pty");
	int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
	if (slave < 0)
		return fc_error_set(err, errno, "open the pty peer");
	const struct fc_process *p = c->spec->process;
	if (p->has_console_size) {
		struct winsize ws = {.ws_row = (unsigned short)p->console_height,
		                     .ws_col = (unsigned short)p->console_width};
		ioctl(slave, TIOCSWINSZ, &ws);
	}
	/* /dev/console: the pty peer bind-mounted over a file, as runc does. */
	char peer[64];
	snprintf(peer, sizeof(peer), "/proc/self/fd/%d", slave);
	int cfd = open("/dev/console", O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (cfd < 0) /* a read-only /dev: made before it turned read-only */
		cfd = open("/dev/console", O_PATH | O_CLOEXEC | O_NOFOLLOW);
	if (cfd >= 0) {
		close(cfd);
		mount(peer, "/dev/console", NULL, MS_BIND, NULL);
	}
	/* Hand the master to whoever listens on --console-socket. */
	if (c->console_fd >= 0) {
		char data = 0;
		char cbuf[CMSG_SPACE(sizeof(int))] = {0};
		const char *name = "/dev/ptmx";
		struct iovec iov = {.iov_base = (void *)name, .iov_len = strlen(name)};
		(void)data;
		struct msghdr msg = {.msg_iov = &iov,
		                     .msg_iovlen = 1,
		                     .msg_control = cbuf,
		                     .msg_controllen = sizeof(cbuf)};
		struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &master, sizeof(int));
		if (sendmsg(c->console_fd, &msg, MSG_NOSIGNAL) < 0) {
			close(slave);
			return fc_error_set(err, errno, "send the pty master to --console-socket");
		}
		close(c->console_fd);
		c->console_fd = -1;
	}
	setsid();
	if (ioctl(slave, TIOCSCTTY, 0) < 0) {
		close(slave);
		return fc_error_set(err, errno, "set the controlling terminal");
	}
	for (int fd = 0; fd < 3; fd++)
		if (dup2(slave, fd) < 0)
			return fc_error_set(err, errno, "dup2 the pty onto fd %d", fd);
	if (slave > 2)
		close(slave);
	return 0;
}

/* A new network namespace starts with lo down; bring it up, as runc does. */
static int loopback_up(struct fc_error **err)
{
	struct ifreq ifr = {0};
	_cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fc_error_set(err, errno, "network namespace: socket");
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		return fc_error_set(err, errno, "network namespace: get the flags of lo");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		return fc_error_set(err, errno, "network namespace: bring lo up");
	return 0;
}

static int early_setup(struct fc_create *c, struct fc_error **err)
{
	const struct fc_spec *s = c->spec;
	const struct fc_namespace *net = fc_spec_ns(s, FC_NS_NETWORK);
	if (net && !net->path && loopback_up(err) < 0)
		return fc_error_code(*err);
	if (fc_spec_ns(s, FC_NS_USER)) {
		/* Become root of the new user namespace (it was just mapped). */
		if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
			return fc_error_set(err, errno, "become root in the user namespace");
	}
	if (s->hostname && fc_spec_ns(s, FC_NS_UTS) &&
	    sethostname(s->hostname, strlen(s->hostname)) < 0)
		return fc_error_set(err, errno, "hostname: sethostname `%s`", s->hostname);
	if (s->domainname && fc_spec_ns(s, FC_NS_UTS) &&
	    setdomainname(s->domainname, strlen(s->domainname)) < 0)
		return fc_error_set(err, errno, "domainname: setdomainname `%s`", s->domainname);
	if (!c->opts->no_new_keyring) {
		/* A fresh session keyring, so the host's keys are not reachable. */
		_cleanup_free_ char *name = fc_asprintf("_ses.%s", c->opts->id);
		if (syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, name) < 0 &&
		    errno != ENOSYS && errno != EPERM)
			return fc_error_set(err, errno, "join a new session keyring");
	}
	if (s->process->has_oom_score_adj) {
		char v[16];
		snprintf(v, sizeof(v), "%d", s->process->oom_score_adj);
		if (fc_write_string_at(AT_FDCWD, "/proc/self/oom_score_adj", v, err) < 0)
			return fc_error_wrap(err, "process.oomScoreAdj");
	}
	return 0;
}

/* Sysctls, validated against the namespaces before create made anything
 * (fc_spec_validate), are written through the container's /proc/sys
 * (we are in its root), resolved without symlinks or magic links and
 * checked to be procfs: never a file of the image, never the host's. */
static int apply_sysctl(const struct fc_spec *s, struct fc_error **err)
{
	if (!s->n_sysctl)
		return 0;
	struct statfs sfs;
	_cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int sys =
	    root < 0 ? -1 : fc_in_root_open(root, "proc/sys", O_PATH | O_DIRECTORY, 0);
	if (sys < 0 || fstatfs(sys, &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC)
		return fc_error_set(err, sys < 0 ? errno : ENOTSUP,
		                    "linux.sysctl: the container has no procfs at /proc/sys");
	for (size_t i = 0; i < s->n_sysctl; i++) {
		const char *key = s->sysctl[i].key, *val = s->sysctl[i].value;
		_cleanup_free_ char *path = fc_sysctl_path(key);
		if (!path)
			return fc_error_set(err, EINVAL, "linux.sysctl: invalid key \"%s\"", key);
		struct open_how how = {.flags = O_WRONLY | O_CLOEXEC | O_NOCTTY,
		                       .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
		                                  RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV};
		_cleanup_close_ int fd = (int)syscall(SYS_openat2, sys, path, &how, sizeof(how));
		if (fd < 0)
			return fc_error_set(err, errno, "linux.sysctl: \"%s\": open /proc/sys/%s",
			                    key, path);
		if (write(fd, val, strlen(val)) < 0)
			return fc_error_set(err, errno, "linux.sysctl: set \"%s\" = \"%s\"", key,
			                    val);
	}
	return 0;
}

/* The descriptor the init is started through, and how it answers: a
 * connection on exec.sock ("0" or "E<message>"), or the sync socket. */
struct start_channel {
	int fd;
	bool exec; /* the exec socket's connection */
};

static void answer_error(struct fc_create *c, struct start_channel *ch, struct fc_error *e)
{
	const char *msg = e ? e->msg : "unknown error";
	if (ch->exec) {
		_cleanup_free_ char *m = fc_asprintf("E%s", msg);
		(void)!write(ch->fd, m, strlen(m));
	} else {
		fc_sync_send(ch->fd, FC_SYNC_ERROR, e ? e->errnum : EIO, msg);
	}
	/* The starter (fcrun start/run, the pool) reports it; the container's
	 * stderr (Docker's logs) stays the container's, as with runc. */
	_exit(1);
}

static void wait_for_start(struct fc_create *c, struct start_channel *ch)
{
	if (c->opts->wait == FCRT_WAIT_EXEC) {
		/* `fcrun start` connects to <state>/exec.sock and sends "S". */
		ch->exec = true;
		for (;;) {
			char go[8];
			ch->fd = accept4(c->exec_listen_fd, NULL, NULL, SOCK_CLOEXEC);
			if (ch->fd < 0) {
				if (errno == EINTR || errno == ECONNABORTED)
					continue;
				_exit(1);
			}
			ssize_t n;
			do
				n = recv(ch->fd, go, sizeof(go), 0);
			while (n < 0 && errno == EINTR);
			if (n == 1 && go[0] == 'S')
				break;
			close(ch->fd);
		}
		close(c->exec_listen_fd);
		c->exec_listen_fd = -1;
	} else {
		struct fc_sync m;
		int fds[4];
		size_t len = 0, nfds = 4, k = 0;
		ch->exec = false;
		ch->fd = c->sync_fd[1];
		if (fc_sync_recv_fds(ch->fd, &m, &len, fds, &nfds) < 0 || m.type != FC_SYNC_START)
			_exit(1);
		/* Per-invocation stdio */
		for (int i = 0; i < 3; i++)
			if ((m.value & (1 << i)) && k < nfds) {
				if (dup2(fds[k], i) < 0)
					_exit(1);
				close(fds[k++]);
			}
		/* A sandbox that waited without a memory cgroup of its own joins
		 * the one its start gives, then makes its cgroup namespace (so
		 * its view starts at its own cgroups); nothing of the function's
		 * has run yet. Moving itself through `tasks` skips the kernel's
		 * global lock (and its RCU wait). */
		if (c->memory_at_start) {
			struct fc_error *e = NULL;
			if (!(m.value & FC_START_MEMORY) || k >= nfds)
				fc_error_set(&e, EINVAL,
				             "start: the sandbox waits without a memory cgroup and "
				             "its start gave none");
			else if (fc_cgroup_enter_self(&fds[k], 1, &e) < 0)
				fc_error_wrap(&e, "start: join the memory cgroup");
			else if (make_cgroupns(c, &e) < 0)
				fc_error_wrap(&e, "start");
			if (k < nfds)
				close(fds[k++]);
			if (e)
				answer_error(c, ch, e);
		} else if ((m.value & FC_START_MEMORY) && k < nfds) {
			close(fds[k++]); /* not ours to join */
		}
		/* Per-invocation environment and arguments */
		char **extra_env = NULL, **argv = NULL;
		size_t ne = 0, na = 0;
		for (size_t off = 0; off < len;) {
			char kind = m.text[off];
			char *item = m.text + off + 1;
			size_t n = strnlen(item, len - off - 1);
			if (kind == 'e') {
				extra_env = fc_realloc(extra_env, (ne + 2) * sizeof(char *));
				extra_env[ne++] = fc_strndup(item, n);
				extra_env[ne] = NULL;
			} else if (kind == 'a') {
				argv = fc_realloc(argv, (na + 2) * sizeof(char *));
				argv[na++] = fc_strndup(item, n);
				argv[na] = NULL;
			}
			off += n + 2;
		}
		if (extra_env) {
			char **merged = fc_merge_env(c->env, extra_env, false);
			fc_strv_free(c->env);
			fc_strv_free(extra_env);
			c->env = merged;
		}
		if (argv) {
			struct fc_error *e = NULL;
			c->spec->process->args = argv; /* the init's own copy of the spec */
			free(c->exec_path);
			c->exec_path = NULL;
			if (fc_find_executable(argv[0], c->env, &c->exec_path, &e) < 0)
				answer_error(c, ch, e);
		}
	}
}

static int set_personality(const struct fc_spec *s, struct fc_error **err)
{
	if (s->has_personality && personality(s->personality) < 0)
		return fc_error_set(err, errno, "linux.personality");
	return 0;
}

static int keep_fds(int preserve, struct fc_error **err)
{
	unsigned first = 3u + (unsigned)(preserve > 0 ? preserve : 0);
	if (syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
		/* Older kernels: walk /proc/self/fd */
		DIR *d = opendir("/proc/self/fd");
		struct dirent *de;
		if (!d)
			return fc_error_set(err, errno, "mark descriptors close-on-exec");
		while ((de = readdir(d))) {
			int fd = atoi(de->d_name);
			if (fd >= (int)first && fd != dirfd(d))
				fcntl(fd, F_SETFD, FD_CLOEXEC);
		}
		closedir(d);
	}
	for (int fd = 3; fd < (int)first; fd++) {
		int fl = fcntl(fd, F_GETFD);
		if (fl >= 0)
			fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC);
	}
	return 0;
}

static int init_close_fds(struct fc_create *c)
{
	size_t n = 0, max = 8 + c->n_cg_self_fds + (c->spec ? 2 * c->spec->n_mounts : 0) +
	                    (size_t)(c->opts->preserve_fds > 0 ? c->opts->preserve_fds : 0);
	_cleanup_free_ int *keep = fc_calloc(max, sizeof(int));
	for (int i = 0; i < c->opts->preserve_fds; i++)
		keep[n++] = 3 + i;
	keep[n++] = c->sync_fd[1];
	keep[n++] = c->exec_listen_fd;
	keep[n++] = c->console_fd;
	keep[n++] = c->seccomp_agent_fd;
	keep[n++] = c->opts->has_rootfs_mount ? c->opts->rootfs_mount : -1;
	for (size_t i = 0; i < c->n_cg_self_fds; i++)
		keep[n++] = c->cg_self_fds[i];
	for (size_t i = 0; c->idmap_fds && i < c->spec->n_mounts; i++)
		keep[n++] = c->idmap_fds[i];
	for (size_t i = 0; c->tree_fds && i < c->spec->n_mounts; i++)
		keep[n++] = c->tree_fds[i];
	c->state_dirfd = -1; /* closed below: a host directory */
	return fc_close_fds_except(keep, n);
}

/* READY's text: our profile marks ("NAME NS" lines), when asked for. */
static const char *ready_text(struct fc_create *c)
{
	static char text[sizeof(((struct fc_sync *)0)->text)];
	const struct fcrt_profile *p = c->opts->profile;
	size_t len = 0;
	text[0] = '\0';
	for (size_t i = c->profile_cloned; p && i < p->n && len + 48 < sizeof(text); i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%s %llu\n",
		                        p->mark[i].name, (unsigned long long)p->mark[i].ns);
	return p ? text : NULL;
}

void fc_init_main(struct fc_create *c)
{
	struct fc_error *e = NULL;
	const struct fc_spec *s = c->spec;
	const struct fc_process *p = s->process;
	struct start_channel ch = {.fd = -1};

	/* No one in the container may open this process's /proc/PID/exe (the
	 * fcrun binary) or ptrace it before it execs (CVE-2019-5736). */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* Until we are ready, we die with create: a create killed at any point
	 * leaves no process behind (an exit of the creator before this, or
	 * after READY, shows as EOF on the sync socket). In the
	 * double-fork path this is the intermediate process; the init it forks
	 * does not inherit it and is recorded by create (<state>/init). */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	/* We are a copy of the runtime (fcrun, or the pool's fork server):
	 * every descriptor it had is ours too, close-on-exec or not. Keep only
	 * what the init uses, so nothing resolved in the container (the cwd, a
	 * path through /proc/self/fd/N) can reach a host directory or file
	 * (CVE-2024-21626). */
	if (init_close_fds(c) < 0)
		_exit(1);
	fc_mark(c, "i:start");
	if (c->double_fork)
		stage1(c);
	expect(c, FC_SYNC_GO);
	fc_mark(c, "i:go");

	if (early_setup(c, &e) < 0)
		fail_sync(c, e);
	fc_mark(c, "i:early");
	/* The parent moves us into the cgroups meanwhile: on cgroup v1 the
	 * first move waits for an RCU grace period (10-15 ms here), which the
	 * rootfs work below overlaps. */
	if (fc_spec_ns(s, FC_NS_MOUNT) && fc_rootfs_prepare(c, &e) < 0)
		fail_sync(c, e);
	fc_mark(c, "i:rootfs");
	/* the bind sources' clones are mounted (and closed) by now */
	for (size_t i = 0; c->tree_fds && i < s->n_mounts; i++)
		if (c->tree_fds[i] >= 0) {
			close(c->tree_fds[i]);
			c->tree_fds[i] = -1;
		}
	/* FC_SYNC_CGROUP may bring the memory hierarchy's `tasks` file, made
	 * meanwhile (fc_cgroup_create_late) */
	int late = -1;
	size_t n_late = expect_fds(c, FC_SYNC_CGROUP, &late, 1);
	if (fc_cgroup_enter_self(c->cg_self_fds, c->n_cg_self_fds, &e) < 0 ||
	    fc_cgroup_enter_self(&late, n_late, &e) < 0)
		fail_sync(c, e);
	for (size_t i = 0; i < c->n_cg_self_fds; i++)
		close(c->cg_self_fds[i]); /* host cgroupfs files: not kept a moment longer */
	c->n_cg_self_fds = 0;
	if (n_late)
		close(late);
	if (!c->memory_at_start && make_cgroupns(c, &e) < 0)
		fail_sync(c, e); /* else at the start, once it has its memory cgroup */
	if (fc_spec_ns(s, FC_NS_MOUNT) && fc_rootfs_mount_cgroups(c, &e) < 0)
		fail_sync(c, e);
	fc_mark(c, "i:cgroup");
	for (size_t i = 0; c->idmap_fds && i < s->n_mounts; i++)
		if (c->idmap_fds[i] >= 0) {
			close(c->idmap_fds[i]);
			c->idmap_fds[i] = -1;
		}
	if (s->n_hooks[FC_HOOK_PRESTART] || s->n_hooks[FC_HOOK_CREATE_RUNTIME]) {
		fc_sync_send(c->sync_fd[1], FC_SYNC_HOOKS, 0, NULL);
		expect(c, FC_SYNC_HOOKS_DONE);
	}
	if (s->n_hooks[FC_HOOK_CREATE_CONTAINER]) {
		_cleanup_free_ char *st =
		    fc_state_hook_json(c->opts->id, "created", getpid(), c->bundle, s);
		/* runc's: in the root filesystem, with the container's environment */
		if (fc_hooks_run(s, FC_HOOK_CREATE_CONTAINER, st, s->root_path, c->env, &e) < 0)
			fail_sync(c, e);
	}
	if (fc_spec_ns(s, FC_NS_MOUNT)) {
		/* sysctl before readonlyPaths make /proc/sys read-only */
		if (fc_rootfs_pivot(c, &e) < 0 || apply_sysctl(s, &e) < 0)
			fail_sync(c, e);
		fc_mark(c, "i:pivot");
		if (fc_rootfs_finish(c, &e) < 0)
			fail_sync(c, e);
		fc_mark(c, "i:paths");
	} else if (chroot(s->root_path) < 0 || chdir("/") < 0 || apply_sysctl(s, &e) < 0) {
		if (!e)
			fc_error_set(&e, errno, "chroot to `%s`", s->root_path);
		fail_sync(c, e);
	}
	if (p->terminal && setup_console(c, &e) < 0)
		fail_sync(c, e);
	if (fc_in_root_chdir("process.cwd", p->cwd, &e) < 0)
		fail_sync(c, e);
	fc_env_default_home(&c->env, p->uid);
	if (fc_find_executable(p->args[0], c->env, &c->exec_path, &e) < 0)
		fail_sync(c, e);
	/* rlimits at create, as runc does: a failure after start leaves the
	 * shim's task "created" while the init exits, and Docker then cannot
	 * delete it (the state dir stays behind). */
	if (fc_rlimits_apply(p, &e) < 0)
		fail_sync(c, e);
	/* The bounding set now too (about 80 system calls, the bulk of the
	 * identity work): the start is then only what must wait for it. */
	if (fc_bounding_apply(p, &e) < 0)
		fail_sync(c, e);

	fc_mark(c, "i:process");

	/* From here on we only wait on the sync socket, where create's death
	 * reads as EOF; once created we must outlive it. */
	prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
	fc_sync_send(c->sync_fd[1], FC_SYNC_READY, 0, ready_text(c));
	expect(c, FC_SYNC_OK);

	wait_for_start(c, &ch);

	/* First, while no seccomp filter can refuse close_range. */
	if (keep_fds(c->opts->preserve_fds, &e) < 0)
		answer_error(c, &ch, e);
	if (!p->no_new_privileges && c->seccomp && install_seccomp(c, &e) < 0)
		answer_error(c, &ch, e);
	fc_stdio_chown(p->uid, p->terminal);
	if (fc_identity_apply_rest(p, &e) < 0)
		answer_error(c, &ch, e);
	if (set_personality(s, &e) < 0)
		answer_error(c, &ch, e);
	if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		fc_error_set(&e, errno, "process.noNewPrivileges");
		answer_error(c, &ch, e);
	}
	/* startContainer hooks run under the container's filter, as runc's
	 * (its filter is in before it waits for the start): with
	 * no_new_privileges it then goes in before them, not last. */
	bool hooks = s->n_hooks[FC_HOOK_START_CONTAINER] > 0;
	if (hooks && p->no_new_privileges && c->seccomp && install_seccomp(c, &e) < 0)
		answer_error(c, &ch, e);
	if (hooks) {
		_cleanup_free_ char *st =
		    fc_state_hook_json(c->opts->id, "running", getpid(), c->bundle, s);
		if (fc_hooks_run(s, FC_HOOK_START_CONTAINER, st, NULL, c->env, &e) < 0)
			answer_error(c, &ch, e);
	}
	/* The process starts with no signal blocked, as runc's do: its
	 * creator's mask is not its own (the pool's fork servers block SIGCHLD
	 * for their signalfd: a function's SIGCHLD handler never ran). */
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Tell the starter we are about to exec: from here on only execve. The
	 * socket's starter (the pool) gets our clock too: the hand-over's end,
	 * which its own wake-up on this message would otherwise be part of. */
	if (ch.exec) {
		(void)!write(ch.fd, "0", 1);
	} else {
		char now[24];
		snprintf(now, sizeof(now), "%llu", (unsigned long long)fc_now_ns());
		fc_sync_send(ch.fd, FC_SYNC_STARTED, 0, now);
	}
	if (!hooks && p->no_new_privileges && c->seccomp && install_seccomp(c, &e) < 0) {
		dprintf(2, "fcrun: %s\n", e->msg);
		_exit(1);
	}
	execve(c->exec_path, p->args, c->env);
	dprintf(2, "fcrun: exec `%s`: %s\n", c->exec_path, strerror(errno));
	_exit(127);
}
