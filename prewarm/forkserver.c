/* SPDX-License-Identifier: MIT */
/* forkserver.c: the single-threaded process that creates the sandboxes. The
 * daemon starts it before anything else (it never forks once it has threads
 * or clients) and sends it each function's bundle once per deploy, which it
 * keeps parsed; per sandbox it makes the bundle's overlay rootfs as a
 * detached mount, which the sandbox's init attaches in its own mount
 * namespace only, and fcrt_create() from its spec (bundle_create: so it is
 * every sandbox's parent and reaper), passes the sandbox's start socket and
 * pidfd to the daemon, reports exit statuses at once and tears the sandbox
 * down afterwards, between creations. When the daemon's
 * socket closes (the daemon stopped or was killed), it kills and removes every
 * sandbox it made, then exits. */
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>

#include "bundle.h"
#include "cgpool.h"
#include "fcrt.h"
#include "forkserver.h"
#include "memslot.h"
#include "zygote.h"

struct fs_sandbox {
	char id[96];
	pid_t pid;
	/* its mount namespace, held until the teardown: the unmounting of its
	 * tree waits for the teardown, not for the function's exit */
	int mntns;
	/* its recycled cgroup (cgpool.c), given back after its teardown */
	char *cg;
	unsigned cg_gen;
	char fn[128];
};
static struct fs_sandbox *table;
static size_t n_table, cap_table;
static const char *g_root;
static char *g_rt_root, *g_mountpoint;

/* The deployed functions' bundles, parsed once per deploy. */
struct fs_function {
	char name[128];
	struct bundle *b; /* NULL when the last deploy's could not be used: */
	char *error;      /* why */
	struct fs_function *next;
};
static struct fs_function *functions;

static struct fs_function **function_find(const char *name)
{
	struct fs_function **p = &functions;
	while (*p && !FC_STREQ((*p)->name, name))
		p = &(*p)->next;
	return p;
}

/* FS_DEPLOY: the bundle's text in the memfd fd. */
static void function_deploy(const char *name, int fd)
{
	struct stat st;
	_cleanup_free_ char *text = NULL;
	struct bundle *b = NULL;
	struct fc_error *e = NULL;
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size <= 0) {
		fc_log(FC_LOG_ERROR, "fork server: function `%s`: no bundle came", name);
		return;
	}
	text = fc_malloc((size_t)st.st_size + 1);
	struct fs_function **p = function_find(name);
	if (!*p) {
		*p = fc_calloc(1, sizeof(**p));
		snprintf((*p)->name, sizeof((*p)->name), "%s", name);
	}
	bundle_free((*p)->b);
	(*p)->b = NULL;
	cgpool_drop(name); /* a new spec: new cgroups */
	free((*p)->error);
	(*p)->error = NULL;
	if (pread(fd, text, (size_t)st.st_size, 0) != st.st_size ||
	    bundle_parse(text, (size_t)st.st_size, &b, &e) < 0 || bundle_prepare(b, &e) < 0) {
		/* its sandboxes fail with this, not with the previous deploy's */
		(*p)->error = fc_asprintf("bundle: %s", e ? e->msg : strerror(errno));
		fc_log(FC_LOG_ERROR, "fork server: function `%s`: %s", name, (*p)->error);
		fc_error_free(e);
		bundle_free(b);
		return;
	}
	(*p)->b = b;
}

static void function_forget(const char *name)
{
	struct fs_function **p = function_find(name), *f = *p;
	if (!f)
		return;
	*p = f->next;
	cgpool_drop(name);
	bundle_free(f->b);
	free(f->error);
	free(f);
}

static int make_sandbox(const struct fs_msg *req, struct fcrt_profile *prof, struct fs_sandbox *sb,
                        struct fcrt_container **out, struct fc_error **err)
{
	struct fs_function *f = *function_find(req->fn);
	if (!f)
		return fc_error_set(err, ENOENT, "function `%s`: no bundle in the fork server",
		                    req->fn);
	if (!f->b)
		return fc_error_relay(err, EINVAL, "%s", f->error);
	if (req->type == FS_FORK) /* fork mode: an instance forked from a template */
		return zygote_fork(req, f->b, g_rt_root, g_mountpoint, prof, out, err);
	/* the root filesystem is mounted in the sandbox's mount namespace only
	 * (on this empty dir there): nothing to mount or unmount here; its
	 * cgroup is one of the function's recycled ones */
	snprintf(sb->fn, sizeof(sb->fn), "%s", req->fn);
	sb->cg = cgpool_take(req->fn, &sb->cg_gen);
	/* an exec-mode sandbox waits without a memory cgroup of its own: the
	 * daemon gives it one at its hand-over (memslot.h) */
	bool mem_later = f->b->prewarm == FCPOOL_PREWARM_EXEC && memslots_wanted();
	int r = bundle_create_in(f->b, g_rt_root, req->id, g_mountpoint, sb->cg, mem_later, prof,
	                         out, err);
	if (r < 0) {
		cgpool_give(sb->fn, sb->cg_gen, sb->cg); /* reset, or removed */
		sb->cg = NULL;
	}
	return r;
}

/* Started mode: the sandbox starts once it is made (its process reads
 * /dev/null and writes to the daemon's stderr) and the daemon probes it;
 * the start socket goes (c->sync_fd is -1 after it). A classic function's
 * stdin is instead its channel (a socketpair), whose other end goes to the
 * daemon in place of the start socket: the function reports ready on it in
 * fcstart.ready() and gets its invocation's stdio there. */
static int started_now(const struct fs_msg *req, struct fcrt_container *c, struct fc_error **err)
{
	struct fs_function *f = *function_find(req->fn);
	if (req->type == FS_TEMPLATE)
		return zygote_start(req->id, c, err);
	if (!f || !f->b || f->b->prewarm != FCPOOL_PREWARM_STARTED)
		return 0;
	_cleanup_close_ int in = open("/dev/null", O_RDWR | O_CLOEXEC), chan = -1;
	if (f->b->mode == FCPOOL_CLASSIC) {
		int sp[2];
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
			return fc_error_set(err, errno, "socketpair for the instance's channel");
		close(in);
		in = sp[1];
		chan = sp[0];
	}
	struct fcrt_start_args a = {.stdio = {in, 2, 2}};
	setpriority(PRIO_PROCESS, (id_t)c->pid, 0);
	int r = fcrt_start_socket_ex(c, &a, err);
	if (r >= 0 && chan >= 0 && c->sync_fd < 0)
		c->sync_fd = TAKE_FD(chan); /* to the daemon, as the start socket */
	return r;
}

static void table_add(const char *id, pid_t pid, const struct fs_sandbox *sb)
{
	if (n_table == cap_table) {
		cap_table = cap_table ? cap_table * 2 : 64;
		table = fc_realloc(table, cap_table * sizeof(*table));
	}
	char ns[64];
	snprintf(ns, sizeof(ns), "/proc/%d/ns/mnt", (int)pid);
	table[n_table] = *sb;
	snprintf(table[n_table].id, sizeof(table[n_table].id), "%s", id);
	table[n_table].mntns = open(ns, O_RDONLY | O_CLOEXEC);
	table[n_table++].pid = pid;
}

static struct fs_sandbox *table_find_id(const char *id)
{
	for (size_t i = 0; i < n_table; i++)
		if (FC_STREQ(table[i].id, id))
			return &table[i];
	return NULL;
}

static void teardown(const char *id, int mntns, struct fs_sandbox *sb)
{
	uint64_t t0 = fc_log_level() >= FC_LOG_DEBUG ? fc_now_ns() : 0;
	struct fc_error *e = NULL;
	if (fcrt_delete(g_rt_root, id, true, &e) < 0)
		fc_log(FC_LOG_WARN, "fork server: delete sandbox `%s`: %s", id, e ? e->msg : "?");
	fc_error_free(e);
	uint64_t t1 = t0 ? fc_now_ns() : 0;
	if (mntns >= 0)
		close(mntns); /* its mounts go now */
	uint64_t t2 = t0 ? fc_now_ns() : 0;
	if (sb && sb->cg) {
		/* emptied by the delete: reset for the function's next sandbox */
		cgpool_give(sb->fn, sb->cg_gen, sb->cg);
		sb->cg = NULL;
	}
	if (t0) {
		uint64_t t3 = fc_now_ns();
		fc_log(FC_LOG_DEBUG,
		       "fork server: teardown `%s`: %llu us (libfcrt delete %llu us, mount "
		       "namespace %llu us, cgroup reset %llu us)",
		       id, (unsigned long long)(t3 - t0) / 1000,
		       (unsigned long long)(t1 - t0) / 1000, (unsigned long long)(t2 - t1) / 1000,
		       (unsigned long long)(t3 - t2) / 1000);
	}
}

/* Sandboxes whose init was reaped, to tear down: after every exit status
 * went out, and between creations (a creation waits for none of them). Under
 * a sustained rate creations never stop, so past FS_DOOMED_MAX waiting
 * teardowns each creation is followed by one: the backlog (each with its
 * cgroups in every hierarchy, its state and its mount namespace) stays
 * bounded instead of growing with every request until the load stops. */
#define FS_DOOMED_MAX 4
static struct fs_sandbox *doomed;
static size_t n_doomed, cap_doomed;

static void doom(const struct fs_sandbox *s)
{
	if (n_doomed == cap_doomed) {
		cap_doomed = cap_doomed ? cap_doomed * 2 : 64;
		doomed = fc_realloc(doomed, cap_doomed * sizeof(*doomed));
	}
	doomed[n_doomed++] = *s;
}

/* The oldest reaped sandbox's teardown; false when there is none. */
static bool teardown_next(void)
{
	if (!n_doomed)
		return false;
	struct fs_sandbox s = doomed[0];
	memmove(doomed, doomed + 1, --n_doomed * sizeof(*doomed));
	teardown(s.id, s.mntns, &s);
	return true;
}

/* Reap every init that exited and report each, before any teardown: the
 * exit status of one function never waits for the teardown of another. */
static void reap(int sock, bool report)
{
	for (;;) {
		int st;
		pid_t pid = waitpid(-1, &st, WNOHANG);
		if (pid <= 0)
			return;
		for (size_t i = 0; i < n_table; i++) {
			if (table[i].pid != pid)
				continue;
			struct fs_msg m = {.type = FS_EXITED, .pid = pid, .status = st};
			memcpy(m.id, table[i].id, sizeof(m.id));
			zygote_status(pid, &m.status); /* fork mode: the instance's own */
			if (report)
				fs_send(sock, &m, -1, false);
			zygote_reaped(pid);
			doom(&table[i]);
			table[i] = table[--n_table];
			break;
		}
	}
}

void fs_main(int sock, const char *root)
{
	prctl(PR_SET_NAME, "fcstart-fork", 0, 0, 0);
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	/* Creating and tearing down is background work: it must not take the
	 * CPU from functions that run. Each sandbox gets priority 0 back once
	 * it waits (below), so the function runs at normal priority. */
	if (setpriority(PRIO_PROCESS, 0, 10) < 0)
		fc_log(FC_LOG_DEBUG, "fork server: setpriority: %s", strerror(errno));
	/* It keeps a descriptor per layer of every deployed function (the
	 * idmapped layers of user namespaces): the usual soft limit of 1024 ran
	 * out at 16 functions of a 64-layer image. Each sandbox gets its own
	 * RLIMIT_NOFILE from its spec. */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	g_root = root;
	cgpool_init(root);
	g_rt_root = fc_asprintf("%s/runtime", root);
	/* where each sandbox's init attaches its root filesystem, in its own
	 * mount namespace (empty here, always) */
	g_mountpoint = fc_asprintf("%s/sandboxes/.rootfs", root);
	if (mkdir(g_mountpoint, 0755) < 0 && errno != EEXIST)
		fc_log(FC_LOG_ERROR, "fork server: create `%s`: %s", g_mountpoint, strerror(errno));
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_IGN);
	struct pollfd *pv = NULL;
	size_t n_pv = 0;
	for (;;) {
		/* and fork mode's templates' control sockets, instances' pidfds */
		size_t nz = zygote_nfds();
		if (2 + nz > n_pv) {
			n_pv = 2 + nz + 64;
			pv = fc_realloc(pv, n_pv * sizeof(*pv));
		}
		struct pollfd *p = pv;
		p[0] = (struct pollfd){.fd = sock, .events = POLLIN};
		p[1] = (struct pollfd){.fd = sfd, .events = POLLIN};
		nz = zygote_pollfds(p + 2, nz);
		/* teardowns wait while a message (a creation) is there */
		/* and the free cgroups unused for a while go when due */
		int tmo = cgpool_trim(fc_now_ns());
		if (poll(p, 2 + nz, n_doomed ? 0 : tmo) < 0 && errno != EINTR)
			break;
		zygote_events(sock, p + 2, nz);
		if (p[1].revents & POLLIN) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) > 0)
				;
			reap(sock, true);
		}
		if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			if (!(p[1].revents & POLLIN))
				teardown_next();
			continue;
		}
		struct fs_msg m;
		int pfd = -1;
		ssize_t n = fs_recv(sock, &m, &pfd);
		if (n <= 0)
			break;
		if (m.type == FS_DEPLOY)
			function_deploy(m.fn, pfd);
		if (pfd >= 0)
			close(pfd);
		if (m.type == FS_FORGET) {
			function_forget(m.fn);
		} else if (m.type == FS_CREATE || m.type == FS_TEMPLATE || m.type == FS_FORK) {
			struct fcrt_container *c = NULL;
			struct fc_error *e = NULL;
			uint64_t t0 = fc_now_ns();
			/* --debug: each step's time (`phases` in the log) */
			struct fcrt_profile prof = {0};
			bool profiled = fc_log_level() >= FC_LOG_DEBUG;
			struct fs_msg a = {0};
			struct fs_sandbox sb = {.mntns = -1};
			memcpy(a.id, m.id, sizeof(a.id));
			if (make_sandbox(&m, profiled ? &prof : NULL, &sb, &c, &e) < 0) {
				a.type = FS_FAILED;
				a.err = e ? e->errnum : EIO;
				snprintf(a.text, sizeof(a.text), "%s",
				         e ? e->msg : "create failed");
				fs_send(sock, &a, -1, false);
			} else if (started_now(&m, c, &e) < 0) {
				/* made, not started: it goes */
				a.type = FS_FAILED;
				a.err = e ? e->errnum : EIO;
				snprintf(a.text, sizeof(a.text), "start: %s",
				         e ? e->msg : "failed");
				fs_send(sock, &a, -1, false);
				teardown(m.id, -1, &sb);
			} else {
				setpriority(PRIO_PROCESS, (id_t)c->pid, 0);
				a.type = FS_CREATED;
				a.pid = c->pid;
				a.ns = fc_now_ns() - t0;
				table_add(m.id, c->pid, &sb);
				/* the pidfd: the daemon hears of the exit itself */
				fs_send2(sock, &a, c->sync_fd, c->pidfd, false);
				if (profiled) {
					_cleanup_buf_ struct fc_buf b = {0};
					fcrt_profile_line(&prof, t0, &b);
					fc_log(FC_LOG_DEBUG,
					       "fork server: create `%s`: phases (us): %s", m.id,
					       b.data ? b.data : "");
				}
			}
			fc_error_free(e);
			fcrt_container_free(c); /* closes our copy of the start socket */
			if (n_doomed > FS_DOOMED_MAX)
				teardown_next(); /* after the answer went out */
		} else if (m.type == FS_KILL) {
			struct fs_sandbox *s = table_find_id(m.id);
			if (s)
				kill(s->pid, SIGKILL);
		}
	}
	/* The daemon is gone: remove everything we made (the cgroups too, as
	 * they come back). */
	cgpool_drop_all();
	while (teardown_next())
		;
	for (size_t i = 0; i < n_table; i++)
		kill(table[i].pid, SIGKILL);
	while (n_table > 0) {
		int st;
		pid_t pid = waitpid(-1, &st, 0);
		if (pid < 0)
			break;
		for (size_t i = 0; i < n_table; i++)
			if (table[i].pid == pid) {
				zygote_reaped(pid);
				teardown(table[i].id, table[i].mntns, &table[i]);
				table[i] = table[--n_table];
				break;
			}
	}
	cgpool_drop_all();
	_exit(0);
}
