/* SPDX-License-Identifier: MIT */
/* zygote.c: fork mode in the fork server (zygote.h, docs/initialized.md).
 *
 * A template is a sandbox of the function like any other (its own user
 * namespace U_T, with the function's host id range, and its own mount,
 * network, IPC, UTS, PID and cgroup namespaces and cgroup), started with a
 * control socket as its stdin. fcstart's Python helper reports on it when the
 * init reached fcstart.ready(), and then forks at each order.
 *
 * An instance: every privileged step happens here, in the fork server (host
 * root), never in the template:
 *  1. a user namespace U_i, a child of U_T owned by the template's uid and
 *     mapping 0..65535 to the same ids of U_T (so to the function's host
 *     range): a helper enters U_T, takes the template's ids and forks a
 *     child that unshares U_i; the helper writes its maps;
 *  2. a sandbox made from the function's bundle that joins U_i and gets new
 *     mount, network, IPC, UTS, PID and cgroup namespaces (owned by U_i),
 *     a fresh overlay rootfs, /proc, /dev, masked paths, its own cgroup with
 *     the function's limits; its init waits (the daemon holds its start
 *     socket) and holds the namespaces;
 *  3. the order to the template: a channel and the namespaces' descriptors;
 *  4. the forked child joins U_i (the kernel's owner rule: capabilities in
 *     U_i and the namespaces it owns, nowhere else), then the mount,
 *     network, IPC and UTS namespaces, and says so on the channel: the
 *     kernel gives its pid (SO_PASSCRED), this code checks its namespaces
 *     and moves it into the sandbox's cgroup in every hierarchy;
 *  5. it joins the cgroup namespace, unshares a PID namespace (nested in
 *     the template's), forks; the grandchild, pid 1 there, mounts its own
 *     /proc, drops back to the template's capability sets and reports ready
 *     (its pid, checked again, is watched with a pidfd).
 * The instance's process lives in the template's PID namespace: when the
 * template dies, its instances die. When the instance's process exits, its
 * sandbox's init is killed, and its exit is reported as the sandbox's. */
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>

#include "bundle.h"
#include "fcrt.h"
#include "zygote.h"

#define ZYGOTE_TIMEOUT_MS 5000 /* a fork order's answers */
#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

struct ztemplate {
	char id[96];
	pid_t pid;
	int ctl;    /* our end of its control socket (its stdin) */
	int userns; /* U_T */
	bool ready;
	struct ztemplate *next;
};

struct zinstance {
	char id[96];
	pid_t holder; /* its sandbox's init */
	pid_t pid;    /* its process (forked from the template) */
	pid_t tpid;   /* the same in the template's PID namespace */
	int pidfd;
	/* a classic instance: its init's start socket (the daemon holds the
	 * instance's channel instead), and its process's wait status once the
	 * template reported it */
	int holder_sync;
	bool has_status;
	int status;
	struct ztemplate *tmpl;
	struct zinstance *next;
};

static struct ztemplate *templates;
static struct zinstance *instances;

static struct ztemplate *template_find(const char *id)
{
	for (struct ztemplate *t = templates; t; t = t->next)
		if (FC_STREQ(t->id, id))
			return t;
	return NULL;
}

int zygote_start(const char *id, struct fcrt_container *c, struct fc_error **err)
{
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return fc_error_set(err, errno, "template `%s`: control socket", id);
	_cleanup_free_ char *p = fc_asprintf("/proc/%d/ns/user", (int)c->pid);
	int userns = open(p, O_RDONLY | O_CLOEXEC);
	if (userns < 0) {
		int e = errno;
		close(sp[0]);
		close(sp[1]);
		return fc_error_set(err, e, "template `%s`: open `%s`", id, p);
	}
	struct fcrt_start_args a = {.stdio = {sp[1], 2, 2}};
	int r = fcrt_start_socket_ex(c, &a, err);
	close(sp[1]);
	if (r < 0) {
		close(sp[0]);
		close(userns);
		return r;
	}
	struct ztemplate *t = fc_calloc(1, sizeof(*t));
	snprintf(t->id, sizeof(t->id), "%s", id);
	t->pid = c->pid;
	t->ctl = sp[0];
	t->userns = userns;
	t->next = templates;
	templates = t;
	return 0;
}

/* A process's effective uid and gid, as the host sees them. */
static int host_ids(pid_t pid, uid_t *uid, gid_t *gid)
{
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d/status", (int)pid);
	_cleanup_fclose_ FILE *f = fopen(p, "re");
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	int got = 0;
	unsigned a, b;
	while (f && getline(&line, &cap, f) > 0) {
		if (sscanf(line, "Uid: %u %u", &a, &b) == 2) {
			*uid = b;
			got |= 1;
		} else if (sscanf(line, "Gid: %u %u", &a, &b) == 2) {
			*gid = b;
			got |= 2;
		}
	}
	return got == 3 ? 0 : -ESRCH;
}

/* Step 1: U_i, a child of t's user namespace owned by uid (ids inside U_T). */
static int make_userns(struct ztemplate *t, uid_t uid, gid_t gid, struct fc_error **err)
{
	int up[2], down[2];
	if (pipe2(up, O_CLOEXEC) < 0)
		return fc_error_set(err, errno, "pipe");
	if (pipe2(down, O_CLOEXEC) < 0) {
		int e = errno;
		close(up[0]);
		close(up[1]);
		return fc_error_set(err, e, "pipe");
	}
	pid_t h = fork();
	if (h == 0) {
		close(up[0]);
		close(down[1]);
		int step[2];
		if (setns(t->userns, CLONE_NEWUSER) < 0 || setgroups(0, NULL) < 0 ||
		    setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0 ||
		    pipe2(step, O_CLOEXEC) < 0)
			_exit(10);
		/* the id change made it undumpable: its child's /proc files (the
		 * maps it writes) would be the host root's */
		if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
			_exit(10);
		pid_t h2 = fork();
		if (h2 == 0) {
			close(step[0]);
			char c;
			if (unshare(CLONE_NEWUSER) < 0)
				_exit(11);
			if (write(step[1], "u", 1) != 1)
				_exit(12);
			/* holds U_i until the fork server opened it */
			while (read(down[0], &c, 1) > 0)
				;
			_exit(0);
		}
		close(step[1]);
		char c = 0, map[64];
		if (h2 < 0 || read(step[0], &c, 1) != 1)
			_exit(13);
		snprintf(map, sizeof(map), "0 0 %u\n", BUNDLE_USERNS_SIZE);
		for (int i = 0; i < 2; i++) {
			char p[64];
			snprintf(p, sizeof(p), "/proc/%d/%s", (int)h2, i ? "gid_map" : "uid_map");
			int fd = open(p, O_WRONLY | O_CLOEXEC);
			if (fd < 0 || write(fd, map, strlen(map)) != (ssize_t)strlen(map))
				_exit(14 + i);
			close(fd);
		}
		if (write(up[1], &h2, sizeof(h2)) != sizeof(h2))
			_exit(16);
		while (read(down[0], &c, 1) > 0)
			;
		_exit(0);
	}
	int e = errno;
	close(up[1]);
	close(down[0]);
	if (h < 0) {
		close(up[0]);
		close(down[1]);
		return fc_error_set(err, e, "fork");
	}
	pid_t h2 = -1;
	int ns = -1;
	struct pollfd p = {.fd = up[0], .events = POLLIN};
	if (poll(&p, 1, ZYGOTE_TIMEOUT_MS) == 1 && read(up[0], &h2, sizeof(h2)) == sizeof(h2)) {
		_cleanup_free_ char *path = fc_asprintf("/proc/%d/ns/user", (int)h2);
		ns = open(path, O_RDONLY | O_CLOEXEC);
		e = errno;
	}
	close(up[0]);
	close(down[1]); /* h and h2 exit */
	int st = 0;
	while (waitpid(h, &st, 0) < 0 && errno == EINTR)
		;
	if (h2 > 0)
		while (waitpid(h2, NULL, 0) < 0 && errno == EINTR)
			;
	if (ns < 0)
		return fc_error_set(
		    err, h2 > 0 ? e : EPERM,
		    "the instance's user namespace in template `%s`'s (helper status "
		    "0x%x)",
		    t->id, (unsigned)st);
	return ns;
}

static bool same_ns(pid_t pid, const char *name, const struct stat *want)
{
	char p[64];
	struct stat st;
	snprintf(p, sizeof(p), "/proc/%d/ns/%s", (int)pid, name);
	return stat(p, &st) == 0 && st.st_ino == want->st_ino && st.st_dev == want->st_dev;
}

/* pid is in the user namespace uns and in holder's mount and network
 * namespaces. */
static int check_ns(pid_t pid, pid_t holder, int uns, struct fc_error **err)
{
	struct stat u, m, n;
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d/ns/mnt", (int)holder);
	int ok = fstat(uns, &u) == 0 && stat(p, &m) == 0;
	snprintf(p, sizeof(p), "/proc/%d/ns/net", (int)holder);
	ok = ok && stat(p, &n) == 0;
	if (!ok || pid <= 0 || pid == holder || !same_ns(pid, "user", &u) ||
	    !same_ns(pid, "mnt", &m) || !same_ns(pid, "net", &n))
		return fc_error_set(err, EPERM,
		                    "process %d is not in the instance's namespaces: not moved",
		                    (int)pid);
	return 0;
}

/* The cgroup2 tree: /sys/fs/cgroup/unified on a hybrid host. */
static const char *unified_dir(void)
{
	struct statfs sf;
	if (statfs("/sys/fs/cgroup/unified", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC)
		return "/sys/fs/cgroup/unified";
	return "/sys/fs/cgroup";
}

/* Move pid into holder's cgroup of every hierarchy. */
static int move_cgroups(pid_t holder, pid_t pid, struct fc_error **err)
{
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d/cgroup", (int)holder);
	_cleanup_fclose_ FILE *f = fopen(p, "re");
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	if (!f)
		return fc_error_set(err, errno, "open `%s`", p);
	char num[32];
	snprintf(num, sizeof(num), "%d", (int)pid);
	while (getline(&line, &cap, f) > 0) {
		line[strcspn(line, "\n")] = '\0';
		char *c1 = strchr(line, ':');
		char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2 || strstr(c2 + 1, ".."))
			continue;
		*c2 = '\0';
		const char *ctrl = c1 + 1;
		_cleanup_free_ char *dir =
		    !*ctrl ? fc_strdup(unified_dir())
		           : fc_asprintf("/sys/fs/cgroup/%s",
		                         strncmp(ctrl, "name=", 5) == 0 ? ctrl + 5 : ctrl);
		struct stat st;
		if (stat(dir, &st) < 0)
			continue; /* a hierarchy not mounted there */
		_cleanup_free_ char *procs = fc_asprintf("%s%s/cgroup.procs", dir, c2 + 1);
		if (fc_write_string_at(AT_FDCWD, procs, num, err) < 0)
			return fc_error_wrap(err, "move the instance's process into its cgroup");
	}
	return 0;
}

/* A message on the channel, with the sender's pid (in ours) from the
 * kernel; descriptors sent with it are closed. */
static ssize_t chan_recv(int fd, char *buf, size_t len, pid_t *pid, int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int r = poll(&p, 1, timeout_ms);
	if (r <= 0)
		return r == 0 ? -ETIMEDOUT : -errno;
	union {
		char b[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(16 * sizeof(int))];
		struct cmsghdr align;
	} cb;
	struct iovec iov = {.iov_base = buf, .iov_len = len - 1};
	struct msghdr msg = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cb.b, .msg_controllen = sizeof(cb.b)};
	ssize_t n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (n < 0)
		return -errno;
	*pid = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET)
			continue;
		if (c->cmsg_type == SCM_CREDENTIALS) {
			struct ucred u;
			memcpy(&u, CMSG_DATA(c), sizeof(u));
			*pid = u.pid;
		} else if (c->cmsg_type == SCM_RIGHTS) {
			size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (size_t i = 0; i < k; i++) {
				int x;
				memcpy(&x, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
				close(x);
			}
		}
	}
	buf[n] = '\0';
	return n;
}

/* Wait for the message `want` from the instance's process: its pid. */
static pid_t chan_expect(int fd, char want, const char *step, struct fc_error **err)
{
	char buf[1024];
	pid_t pid = 0;
	ssize_t n = chan_recv(fd, buf, sizeof(buf), &pid, ZYGOTE_TIMEOUT_MS);
	if (n > 0 && buf[0] == want)
		return pid;
	if (n > 1 && buf[0] == 'E')
		return fc_error_set(err, EPROTO, "the forked instance failed to %s: %s", step,
		                    buf + 1);
	return fc_error_set(err, n < 0 ? (int)-n : EPROTO, "the forked instance did not %s%s", step,
	                    n == -ETIMEDOUT ? " within 5 s"
	                    : n == 0        ? " (it exited)"
	                                    : "");
}

/* Steps 3-5 for the sandbox c: the order, the joining, the cgroup. */
static pid_t fork_into(struct ztemplate *t, struct fcrt_container *c, int uns, int *chan,
                       struct fc_error **err)
{
	static const char *const names[] = {"mnt", "net", "ipc", "uts", "cgroup"};
	int fds[7] = {-1, -1, -1, -1, -1, -1, -1}, ch[2];
	pid_t r = 0;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ch) < 0)
		return fc_error_set(err, errno, "socketpair");
	int on = 1;
	setsockopt(ch[0], SOL_SOCKET, SO_PASSCRED, &on, sizeof(on));
	fds[0] = ch[1];
	fds[1] = uns;
	for (size_t i = 0; i < 5 && r == 0; i++) {
		char p[64];
		snprintf(p, sizeof(p), "/proc/%d/ns/%s", (int)c->pid, names[i]);
		if ((fds[2 + i] = open(p, O_RDONLY | O_CLOEXEC)) < 0)
			r = fc_error_set(err, errno, "open `%s`", p);
	}
	if (r == 0) {
		union {
			char b[CMSG_SPACE(sizeof(fds))];
			struct cmsghdr align;
		} cb = {0};
		struct iovec iov = {.iov_base = "F", .iov_len = 1};
		struct msghdr msg = {.msg_iov = &iov,
		                     .msg_iovlen = 1,
		                     .msg_control = cb.b,
		                     .msg_controllen = sizeof(cb.b)};
		struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(fds));
		memcpy(CMSG_DATA(cm), fds, sizeof(fds));
		/* a template that does not read its orders is not waited for */
		if (sendmsg(t->ctl, &msg, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			r = fc_error_set(err, errno, "send the fork order to template `%s`", t->id);
	}
	for (size_t i = 2; i < 7; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	close(ch[1]);
	pid_t pid = 0;
	if (r == 0 && (pid = chan_expect(ch[0], 'J', "join its sandbox", err)) > 0 &&
	    check_ns(pid, c->pid, uns, err) == 0 && move_cgroups(c->pid, pid, err) == 0 &&
	    send(ch[0], "C", 1, MSG_NOSIGNAL) == 1 &&
	    (pid = chan_expect(ch[0], 'R', "become ready", err)) > 0 &&
	    check_ns(pid, c->pid, uns, err) == 0)
		r = pid;
	else if (r == 0 && !*err)
		r = fc_error_set(err, EPIPE, "the forked instance left its channel");
	else if (r == 0)
		r = fc_error_code(*err);
	if (r < 0 && pid > 0)
		kill(pid, SIGKILL);
	if (r > 0 && chan)
		*chan = ch[0]; /* a classic instance's: its invocation's stdio goes on it */
	else
		close(ch[0]);
	return r;
}

/* pid's pid in the PID namespace level below the host's (0: none). */
static pid_t ns_pid(pid_t pid, int level)
{
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d/status", (int)pid);
	_cleanup_fclose_ FILE *f = fopen(p, "re");
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	while (f && getline(&line, &cap, f) > 0) {
		if (strncmp(line, "NSpid:", 6) != 0)
			continue;
		char *s = line + 6, *end;
		for (int i = 0; i <= level; i++) {
			long v = strtol(s, &end, 10);
			if (end == s)
				return 0;
			if (i == level)
				return (pid_t)v;
			s = end;
		}
	}
	return 0;
}

int zygote_fork(const struct fs_msg *m, struct bundle *b, const char *rt_root,
                const char *mountpoint, struct fcrt_profile *prof, struct fcrt_container **out,
                struct fc_error **err)
{
	struct ztemplate *t = template_find(m->text);
	if (!t || !t->ready || t->ctl < 0)
		return fc_error_set(err, ESRCH, "template `%s` is gone", m->text);
	if (!b->uid_base)
		return fc_error_set(err, EINVAL, "fork mode needs a user namespace");
	uid_t uid = 0;
	gid_t gid = 0;
	if (host_ids(t->pid, &uid, &gid) < 0 || uid < b->uid_base || gid < b->uid_base ||
	    uid - b->uid_base >= BUNDLE_USERNS_SIZE || gid - b->uid_base >= BUNDLE_USERNS_SIZE)
		return fc_error_set(err, ESRCH, "template `%s`: its ids are not the function's",
		                    t->id);
	uint64_t t0 = fc_now_ns();
	_cleanup_close_ int uns = make_userns(t, uid - b->uid_base, gid - b->uid_base, err);
	if (uns < 0)
		return uns;
	uint64_t t1 = fc_now_ns();
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)getpid(), uns);
	fcrt_spec_set_namespace(b->spec, FC_NS_USER, path);
	struct fcrt_container *c = NULL;
	int r = bundle_create(b, rt_root, m->id, mountpoint, prof, &c, err);
	fcrt_spec_set_namespace(b->spec, FC_NS_USER, NULL);
	if (r < 0)
		return r;
	uint64_t t2 = fc_now_ns();
	bool classic = b->mode == FCPOOL_CLASSIC;
	int chan = -1;
	pid_t pid = fork_into(t, c, uns, classic ? &chan : NULL, err);
	int pidfd = pid > 0 ? (int)syscall(SYS_pidfd_open, pid, 0) : -1;
	if (pid > 0 && pidfd < 0)
		pid = fc_error_set(err, errno, "pidfd of the instance's process %d", (int)pid);
	if (pid < 0) {
		struct fc_error *e = NULL;
		kill(c->pid, SIGKILL);
		while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
			;
		fcrt_container_free(c);
		if (fcrt_delete(rt_root, m->id, true, &e) < 0)
			fc_log(FC_LOG_WARN, "fork server: delete sandbox `%s`: %s", m->id,
			       e ? e->msg : "?");
		fc_error_free(e);
		return fc_error_wrap(err, "fork from template `%s`", t->id);
	}
	if (fc_log_level() >= FC_LOG_DEBUG)
		fc_log(FC_LOG_DEBUG,
		       "fork server: fork `%s`: %llu us (user namespace %llu us, sandbox %llu us, "
		       "fork and join %llu us)",
		       m->id, (unsigned long long)(fc_now_ns() - t0) / 1000,
		       (unsigned long long)(t1 - t0) / 1000, (unsigned long long)(t2 - t1) / 1000,
		       (unsigned long long)(fc_now_ns() - t2) / 1000);
	struct zinstance *z = fc_calloc(1, sizeof(*z));
	snprintf(z->id, sizeof(z->id), "%s", m->id);
	z->holder = c->pid;
	z->pid = pid;
	z->tpid = ns_pid(pid, 1);
	z->pidfd = pidfd;
	z->holder_sync = -1;
	z->tmpl = t;
	if (classic) {
		/* the daemon gets the channel as the sandbox's start socket */
		z->holder_sync = c->sync_fd;
		c->sync_fd = chan;
	}
	z->next = instances;
	instances = z;
	*out = c;
	return 0;
}

/* A template's messages: R (ready), X PID STATUS (a forked child of it, its
 * pid in the template's PID namespace, ended: a classic instance's exit
 * status); EOF: it is going. */
static void template_read(int sock, struct ztemplate *t)
{
	for (;;) {
		char buf[64];
		ssize_t k = recv(t->ctl, buf, sizeof(buf) - 1, MSG_DONTWAIT);
		if (k < 0 && errno == EAGAIN)
			return;
		if (k <= 0) {
			close(t->ctl); /* its exit is reported when it is reaped */
			t->ctl = -1;
			return;
		}
		buf[k] = '\0';
		int pid, st;
		if (buf[0] == 'R' && !t->ready) {
			struct fs_msg m = {.type = FS_READY};
			memcpy(m.id, t->id, sizeof(m.id));
			t->ready = true;
			fs_send(sock, &m, -1, false);
		} else if (sscanf(buf, "X %d %d", &pid, &st) == 2 && pid > 0) {
			for (struct zinstance *z = instances; z; z = z->next)
				if (z->tmpl == t && z->tpid == pid && !z->has_status) {
					z->has_status = true;
					z->status = st;
				}
		}
	}
}

size_t zygote_nfds(void)
{
	size_t n = 0;
	for (struct ztemplate *t = templates; t; t = t->next)
		n++;
	for (struct zinstance *z = instances; z; z = z->next)
		n++;
	return n;
}

size_t zygote_pollfds(struct pollfd *p, size_t max)
{
	size_t n = 0;
	for (struct ztemplate *t = templates; t && n < max; t = t->next)
		if (t->ctl >= 0)
			p[n++] = (struct pollfd){.fd = t->ctl, .events = POLLIN};
	for (struct zinstance *z = instances; z && n < max; z = z->next)
		if (z->pidfd >= 0)
			p[n++] = (struct pollfd){.fd = z->pidfd, .events = POLLIN};
	return n;
}

void zygote_events(int sock, const struct pollfd *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!p[i].revents)
			continue;
		for (struct ztemplate *t = templates; t; t = t->next) {
			if (t->ctl != p[i].fd)
				continue;
			template_read(sock, t);
			break;
		}
		for (struct zinstance *z = instances; z; z = z->next) {
			if (z->pidfd != p[i].fd)
				continue;
			/* its process is gone: its sandbox goes; a classic one's
			 * exit status comes from the template (which reaps it) */
			for (int w = 0; w < 20 && !z->has_status && z->holder_sync >= 0 &&
			                z->tmpl && z->tmpl->ctl >= 0;
			     w++) {
				struct pollfd q = {.fd = z->tmpl->ctl, .events = POLLIN};
				if (poll(&q, 1, 5) > 0)
					template_read(sock, z->tmpl);
			}
			close(z->pidfd);
			z->pidfd = -1;
			kill(z->holder, SIGKILL);
			break;
		}
	}
}

void zygote_status(pid_t pid, int *status)
{
	for (struct zinstance *z = instances; z; z = z->next)
		if (z->holder == pid && z->has_status)
			*status = z->status;
}

void zygote_reaped(pid_t pid)
{
	for (struct ztemplate **pt = &templates; *pt; pt = &(*pt)->next) {
		struct ztemplate *t = *pt;
		if (t->pid != pid)
			continue;
		*pt = t->next;
		for (struct zinstance *z = instances; z; z = z->next)
			if (z->tmpl == t)
				z->tmpl = NULL;
		if (t->ctl >= 0)
			close(t->ctl);
		close(t->userns);
		free(t);
		return;
	}
	for (struct zinstance **pz = &instances; *pz; pz = &(*pz)->next) {
		struct zinstance *z = *pz;
		if (z->holder != pid)
			continue;
		*pz = z->next;
		if (z->holder_sync >= 0)
			close(z->holder_sync);
		if (z->pidfd >= 0) {
			syscall(SYS_pidfd_send_signal, z->pidfd, SIGKILL, NULL, 0);
			close(z->pidfd);
		}
		free(z);
		return;
	}
}
