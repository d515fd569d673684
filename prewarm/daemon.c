/* SPDX-License-Identifier: MIT */
/* daemon.c: the daemon behind `fcstart serve` (daemon.h): the pool core
 * (pool.c) and what it asks for, done. Sandboxes are made by the fork servers,
 * single-threaded processes started first (the daemon never forks once it
 * serves, and has no thread); messages to them never block (an outbox is
 * flushed when their socket is writable). The daemon hands sandboxes over
 * itself (fcrt_start_socket_ex on the start socket a fork server passed it),
 * so a hand-over never waits behind a creation. A 200 ms tick drives the
 * core's timeouts and reaping. */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include <sys/mman.h>

#include "bundle.h"
#include "daemon.h"
#include "fcrt.h"
#include "fcsnap.h"
#include "forkserver.h"
#include "http.h"
#include "logs.h"
#include "memslot.h"
#include "pool.h"
#include "pulls.h"
#include "secrets.h"

#include "fcstart-py.h"

#define FS_MAX          8 /* fork servers at most */
#define FS_MAX_INFLIGHT 2 /* creations in one fork server's hands at once */
#define TICK_NS         200000000ULL
/* a kept connection to an HTTP instance serves the next request while it is
 * younger than this: well within the idle timeouts of the OpenFaaS watchdogs
 * (their read_timeout, 5 s and 10 s by default), so a request never goes out
 * on a connection the instance is closing */
#define KEEP_NS 2000000000ULL

struct fs_out {
	struct fs_msg m;
	int fd; /* to pass with it (closed once sent), or -1 */
	struct fs_out *next;
};

struct fserver {
	struct daemon *d;
	int fd;
	pid_t pid;
	struct loop_watch *w;
	/* messages that did not fit its socket yet: the daemon never blocks
	 * on a fork server (which blocks on us) */
	struct fs_out *outbox, **outbox_tail;
};

struct daemon {
	char *root, *rt_root, *prefix;
	int lock_fd, sig_fd, self_netns;
	struct loop_watch *sig_w;
	struct fcsnap_store *store;
	struct loop *l;
	struct pool *pool;
	/* memory slots for exec-mode sandboxes (NULL: they wait in their own) */
	struct memslots *slots;
	struct http_connector *http;
	struct logs *logs;
	struct pulls *pulls; /* images pulled for deploys, made at the first */
	struct fserver fs[FS_MAX];
	unsigned nfs;
	uint64_t next_tick;
	/* the host id ranges of functions' user namespaces (bundle.h), kept
	 * for a name while the daemon runs */
	struct userns_range {
		char *name;
		uint32_t base;
	} * ranges;
	size_t n_ranges;
	struct fcpool_host host0; /* /proc/meminfo when the daemon started */
};

/* A sandbox's I/O: its init's pid, start socket (while waiting) and network
 * namespace (an HTTP instance's, once connected to), the connection kept
 * from its last request (keep-alive) and since when; the readiness probe of
 * one started ahead. */
struct sb_io {
	struct daemon *d;
	struct pool_sb *sb;
	pid_t pid;
	int start_fd, netns_fd, keep_sock;
	/* the init's pidfd (from the fork server): once handed over, its exit
	 * is heard here, not after the fork server reaped it */
	int pidfd;
	struct loop_watch *exit_w;
	uint64_t keep_at;
	/* the memory slot it joined at its hand-over (memslot.h), given back
	 * when it is gone */
	struct memslot *slot;
	struct http_probe *probe;
	/* started mode, a classic instance: its channel (start_fd) is watched
	 * for fcstart.ready()'s report */
	struct loop_watch *chan_w;
	char last_probe[96]; /* what the probe found last, once it is stopped */
};

struct daemon_inv {
	struct pool_inv pi;
	struct daemon *d;
	int stdio[3];
	char **env;
	struct http_connect *hc; /* HTTP: connecting to the instance */
	int sock;                /* HTTP: connected, until the owner has it */
	daemon_event_fn *event;
	void *owner;
};

static struct daemon_inv *inv_of(struct pool_inv *pi)
{
	return (struct daemon_inv *)((char *)pi - offsetof(struct daemon_inv, pi));
}

static void close_stdio(struct daemon_inv *inv)
{
	for (size_t i = 0; i < 3; i++)
		if (inv->stdio[i] >= 0)
			close(inv->stdio[i]);
	inv->stdio[0] = inv->stdio[1] = inv->stdio[2] = -1;
}

/* ---- fork servers ------------------------------------------------------------ */

/* Send to a fork server without ever blocking: queue what does not fit. fd
 * (or -1) travels with the message; it is taken. */
static void fs_post_fd(struct fserver *fs, const struct fs_msg *m, int fd)
{
	if (!fs->outbox) {
		int r = fs_send(fs->fd, m, fd, true);
		if (r != -EAGAIN) {
			if (r < 0)
				fc_log(FC_LOG_ERROR, "send to the fork server: %s", strerror(-r));
			if (fd >= 0)
				close(fd);
			return;
		}
	}
	struct fs_out *o = fc_malloc(sizeof(*o));
	o->m = *m;
	o->fd = fd;
	o->next = NULL;
	if (!fs->outbox)
		fs->outbox_tail = &fs->outbox;
	*fs->outbox_tail = o;
	fs->outbox_tail = &o->next;
	loop_watch_events(fs->w, POLLIN | POLLOUT);
}

static void fs_post(struct fserver *fs, const struct fs_msg *m)
{
	fs_post_fd(fs, m, -1);
}

static void fs_out_free(struct fs_out *o)
{
	if (o->fd >= 0)
		close(o->fd);
	free(o);
}

static void fs_flush(struct fserver *fs)
{
	while (fs->outbox) {
		struct fs_out *o = fs->outbox;
		int r = fs_send(fs->fd, &o->m, o->fd, true);
		if (r == -EAGAIN)
			return;
		if (r < 0)
			fc_log(FC_LOG_ERROR, "send to the fork server: %s", strerror(-r));
		fs->outbox = o->next;
		fs_out_free(o);
	}
	loop_watch_events(fs->w, POLLIN);
}

static void on_fs_message(struct daemon *d, struct fserver *fs)
{
	struct fs_msg m;
	int fd = -1, fd2 = -1;
	ssize_t n = fs_recv2(fs->fd, &m, &fd, &fd2);
	if (n <= 0) {
		fc_log(FC_LOG_ERROR, "the fork server is gone; stopping");
		loop_stop(d->l);
		return;
	}
	struct pool_sb *sb = pool_sandbox_find(d->pool, m.id);
	if (!sb || (m.type != FS_CREATED && (fd >= 0 || fd2 >= 0))) {
		if (fd >= 0)
			close(fd);
		if (fd2 >= 0)
			close(fd2);
		if (!sb)
			return;
	}
	uint64_t now = fc_now_ns();
	switch (m.type) {
	case FS_CREATED: {
		struct sb_io *io = fc_calloc(1, sizeof(*io));
		*io = (struct sb_io){.d = d,
		                     .sb = sb,
		                     .pid = m.pid,
		                     .start_fd = fd,
		                     .netns_fd = -1,
		                     .keep_sock = -1,
		                     .pidfd = fd2};
		sb->data = io;
		pool_sandbox_created(d->pool, sb, m.ns, now);
		break;
	}
	case FS_FAILED:
		fc_log(FC_LOG_ERROR, "function `%s`: create sandbox: %s", sb->fn->spec.name,
		       m.text);
		pool_sandbox_failed(d->pool, sb, m.err, m.text, now);
		break;
	case FS_READY: /* a template reached fcstart.ready() */
		pool_sandbox_ready(d->pool, sb, now);
		break;
	case FS_EXITED:
		if (sb->state == POOL_SB_WAITING && !sb->killed)
			fc_log(FC_LOG_WARN,
			       "function `%s`: waiting sandbox `%s` died (status 0x%x)",
			       sb->fn->spec.name, sb->id, m.status);
		pool_sandbox_exited(d->pool, sb, m.status, now);
		break;
	default:
		break;
	}
}

static void on_fs(void *data, short revents)
{
	struct fserver *fs = data;
	if (revents & POLLOUT)
		fs_flush(fs);
	if (revents & (POLLIN | POLLHUP | POLLERR))
		on_fs_message(fs->d, fs);
}

/* Fork the fork servers, while this process has nothing else. */
static int fs_start(struct daemon *d, unsigned n, struct fc_error **err)
{
	fflush(NULL);
	for (unsigned i = 0; i < n; i++) {
		int sp[2];
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
			return fc_error_set(err, errno, "socketpair");
		pid_t pid = fork();
		if (pid < 0) {
			int e = errno;
			close(sp[0]);
			close(sp[1]);
			return fc_error_set(err, e, "fork a fork server");
		}
		if (pid == 0) {
			for (unsigned k = 0; k < i; k++)
				close(d->fs[k].fd);
			close(sp[0]);
			close(d->lock_fd);
			fs_main(sp[1], d->root);
		}
		close(sp[1]);
		d->fs[i] = (struct fserver){.d = d, .fd = sp[0], .pid = pid};
		d->fs[i].w = loop_watch(d->l, sp[0], POLLIN, on_fs, &d->fs[i]);
		d->nfs = i + 1;
	}
	return 0;
}

/* ---- what the core asks for ---------------------------------------------------- */

static void op_create(void *ctx, struct pool_sb *sb)
{
	struct daemon *d = ctx;
	struct fs_msg m = {.type = FS_CREATE};
	snprintf(m.id, sizeof(m.id), "%s", sb->id);
	snprintf(m.fn, sizeof(m.fn), "%s", sb->fn->spec.name);
	if (sb->role == POOL_ROLE_TEMPLATE) {
		m.type = FS_TEMPLATE;
	} else if (sb->fn->spec.prewarm == FCPOOL_PREWARM_FORK && sb->tmpl) {
		/* forked from its template, by the template's fork server */
		m.type = FS_FORK;
		snprintf(m.text, sizeof(m.text), "%s", sb->tmpl->id);
	}
	fs_post(&d->fs[sb->creator], &m);
}

static void op_kill(void *ctx, struct pool_sb *sb)
{
	struct daemon *d = ctx;
	struct sb_io *io = sb->data;
	if (io && io->probe) {
		snprintf(io->last_probe, sizeof(io->last_probe), "%s", http_probe_last(io->probe));
		http_probe_cancel(io->probe);
		io->probe = NULL;
	}
	if (io) {
		loop_unwatch(io->chan_w);
		io->chan_w = NULL;
	}
	if (io && io->start_fd >= 0) {
		/* closing the start socket makes a waiting init exit by itself */
		close(io->start_fd);
		io->start_fd = -1;
	}
	struct fs_msg m = {.type = FS_KILL};
	snprintf(m.id, sizeof(m.id), "%s", sb->id);
	fs_post(&d->fs[sb->creator], &m);
}

/* The exit status of a process that exited and is not reaped yet (its
 * parent, the fork server, reaps it), as waitpid gives it: /proc/PID/stat's
 * exit_code, read while the pidfd still names a process (a zombie is one;
 * a reaped pid may be another's by now). -1 when it cannot be had: then the
 * fork server's report tells. */
static int zombie_status(pid_t pid, int pidfd)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	/* after the command's ")": field 3 on; exit_code is field 52 */
	char *p = strrchr(buf, ')');
	for (int field = 2; p && field < 52; field++)
		p = strchr(p + 1, ' ');
	if (!p || syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0)
		return -1;
	return atoi(p + 1);
}

/* A handed-over sandbox's init exited: tell the core now. */
static void on_sb_exit(void *data, short revents)
{
	struct sb_io *io = data;
	(void)revents;
	loop_unwatch(io->exit_w);
	io->exit_w = NULL;
	int st = zombie_status(io->pid, io->pidfd);
	if (st >= 0 && io->sb)
		pool_sandbox_exited(io->d->pool, io->sb, st, fc_now_ns()); /* frees io */
}

/* A classic instance started ahead (started or fork mode) waiting in
 * fcstart.ready(): its invocation's stdio and environment ("S" and
 * KEY=VALUE entries, NUL-separated) on its channel. */
static bool on_channel(const struct pool_sb *sb)
{
	return sb->fn->spec.mode == FCPOOL_CLASSIC && sb->fn->spec.prewarm != FCPOOL_PREWARM_EXEC;
}

static int chan_handover(struct sb_io *io, const struct fcrt_start_args *a, struct fc_error **err)
{
	struct fc_buf b = {0};
	fc_buf_printf(&b, "S");
	for (size_t i = 0; a->env && a->env[i]; i++) {
		fc_buf_printf(&b, "%s", a->env[i]);
		fc_buf_append(&b, "", 1);
	}
	union {
		char c[CMSG_SPACE(3 * sizeof(int))];
		struct cmsghdr align;
	} cb = {0};
	struct iovec iov = {.iov_base = b.data, .iov_len = b.len};
	struct msghdr msg = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cb.c, .msg_controllen = sizeof(cb.c)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(3 * sizeof(int));
	memcpy(CMSG_DATA(cm), a->stdio, 3 * sizeof(int));
	ssize_t n =
	    io->start_fd >= 0 ? sendmsg(io->start_fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT) : -1;
	int e = io->start_fd >= 0 ? errno : EBADF;
	free(b.data);
	if (n < 0)
		return fc_error_set(err, e, "hand the invocation to the instance on its channel");
	close(io->start_fd);
	io->start_fd = -1;
	return 0;
}

/* Hand sandbox sb over to the invocation: its stdio, env. An HTTP instance
 * gets /dev/null and its function's log for stdout and stderr; a classic
 * invocation without a stderr of its own, the log for it. */
static int op_handover(void *ctx, struct pool_sb *sb, struct pool_inv *pi, struct pool_handover *h)
{
	struct daemon *d = ctx;
	struct daemon_inv *inv = inv_of(pi);
	struct sb_io *io = sb->data;
	bool http = sb->fn->spec.mode == FCPOOL_HTTP;
	h->t_start = fc_now_ns();
	struct fcrt_container ct = {
	    .id = sb->id, .root = d->rt_root, .pid = io->pid, .pidfd = -1, .sync_fd = io->start_fd};
	struct fcrt_start_args a = {.stdio = {-1, -1, -1}, .env = inv->env, .argv = NULL};
	_cleanup_close_ int devnull = -1, log = -1;
	if (http || inv->stdio[0] < 0)
		devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (http || inv->stdio[2] < 0) {
		log = logs_pipe(d->logs, sb->fn->spec.name, sb->id);
		if (log < 0)
			log = open("/dev/null", O_WRONLY | O_CLOEXEC);
	}
	if (http) {
		a.stdio[0] = devnull;
		a.stdio[1] = log;
		a.stdio[2] = log;
	} else {
		memcpy(a.stdio, inv->stdio, sizeof(a.stdio));
		if (a.stdio[0] < 0)
			a.stdio[0] = devnull;
		if (a.stdio[2] < 0)
			a.stdio[2] = log;
	}
	struct fc_error *e = NULL;
	bool forked = sb->fn->spec.prewarm == FCPOOL_PREWARM_FORK, chan = on_channel(sb);
	int r = 0;
	/* it waited without a memory cgroup of its own: it joins a slot now */
	if (d->slots && sb->fn->spec.prewarm == FCPOOL_PREWARM_EXEC && !io->slot) {
		r = memslots_take(d->slots, sb->fn->spec.name, &io->slot, &e);
		if (r >= 0) {
			a.has_memory = true;
			a.memory_fd = memslot_fd(io->slot);
		}
	}
	if (r >= 0)
		r = chan ? chan_handover(io, &a, &e) : fcrt_start_socket_ex(&ct, &a, &e);
	h->t_done = fc_now_ns();
	h->exec_ns = ct.exec_ns;
	if (!chan)
		io->start_fd = ct.sync_fd; /* -1 after a successful start */
	if (r < 0) {
		fc_log(FC_LOG_WARN, "function `%s`: hand-over of `%s` failed: %s",
		       sb->fn->spec.name, sb->id, e ? e->msg : "?");
		fc_error_free(e);
		return r;
	}
	close_stdio(inv);
	/* a forked instance's exit (its own status, which its template reaps)
	 * is reported by the fork server */
	if (io->pidfd >= 0 && !io->exit_w && !forked)
		io->exit_w = loop_watch(d->l, io->pidfd, POLLIN, on_sb_exit, io);
	return 0;
}

static void on_connected(void *data, int sock, int errnum, const char *msg)
{
	struct daemon_inv *inv = data;
	inv->hc = NULL;
	if (sock < 0) {
		pool_http_failed(inv->d->pool, &inv->pi, errnum, msg, fc_now_ns());
		return;
	}
	if (inv->pi.state != POOL_INV_CONNECTING) {
		close(sock); /* it timed out or its instance died meanwhile */
		return;
	}
	inv->sock = sock; /* op_reply hands it to the owner */
	pool_http_connected(inv->d->pool, &inv->pi, fc_now_ns());
}

/* The kept connection of an instance, if it is young and still open. */
static int take_kept(struct sb_io *io)
{
	int fd = io->keep_sock;
	io->keep_sock = -1;
	if (fd < 0)
		return -1;
	char c;
	if (fc_now_ns() - io->keep_at < KEEP_NS && recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) < 0 &&
	    errno == EAGAIN)
		return fd; /* open, and nothing unasked-for on it */
	close(fd);
	return -1;
}

static void op_connect(void *ctx, struct pool_sb *sb, struct pool_inv *pi)
{
	struct daemon *d = ctx;
	struct daemon_inv *inv = inv_of(pi);
	struct sb_io *io = sb->data;
	if (io->netns_fd < 0) {
		_cleanup_free_ char *p = fc_asprintf("/proc/%d/ns/net", (int)io->pid);
		io->netns_fd = open(p, O_RDONLY | O_CLOEXEC);
	}
	struct http_connect_opts o = {.netns_fd = io->netns_fd >= 0 ? io->netns_fd : -errno,
	                              .sock = take_kept(io),
	                              /* an instance started ahead was probed */
	                              .probe = !sb->http_ready &&
	                                       sb->fn->spec.prewarm == FCPOOL_PREWARM_EXEC,
	                              .fn = sb->fn->spec.name,
	                              .id = sb->id};
	inv->hc = http_connect(d->http, &o, on_connected, inv);
}

static void op_reply(void *ctx, struct pool_inv *pi, const struct fcpool_event *e)
{
	struct daemon_inv *inv = inv_of(pi);
	struct fcpool_event ev = *e;
	if (ev.kind == FCPOOL_EV_CONNECTED) {
		ev.sock = inv->sock;
		inv->sock = -1;
	} else if (ev.kind == FCPOOL_EV_EXIT || ev.kind == FCPOOL_EV_ERROR) {
		http_connect_cancel(inv->hc);
		inv->hc = NULL;
		close_stdio(inv);
	}
	if (inv->event)
		inv->event(inv->owner, &ev);
}

static void on_ready(void *data)
{
	struct sb_io *io = data;
	io->probe = NULL; /* over: the connector frees it */
	pool_sandbox_ready(io->d->pool, io->sb, fc_now_ns());
}

/* Started mode, a classic instance: fcstart.ready() reports "R" on its
 * channel (its stdin). Anything else (the channel closed: its process
 * ended) is noted for the report of its failure, which its exit or the ready
 * timeout brings. */
static void on_chan(void *data, short revents)
{
	struct sb_io *io = data;
	char buf[64];
	(void)revents;
	ssize_t k = recv(io->start_fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	if (k < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	loop_unwatch(io->chan_w);
	io->chan_w = NULL;
	if (k == 1 && buf[0] == 'R') {
		pool_sandbox_ready(io->d->pool, io->sb, fc_now_ns());
		return;
	}
	/* its exit, or the ready timeout, fails it */
	snprintf(io->last_probe, sizeof(io->last_probe), "%s",
	         k == 0 ? "its channel (stdin) closed, no fcstart.ready()"
	                : "not fcstart.ready()'s report on its channel");
}

/* Started mode: an HTTP instance is ready when 127.0.0.1:8080 accepts in its
 * namespace and, with a readiness path, GET of it answers 200; a classic one
 * once fcstart.ready() reports on its channel. */
static int op_probe(void *ctx, struct pool_sb *sb)
{
	struct daemon *d = ctx;
	struct sb_io *io = sb->data;
	if (io && sb->fn->spec.mode == FCPOOL_CLASSIC &&
	    sb->fn->spec.prewarm == FCPOOL_PREWARM_STARTED && io->start_fd >= 0) {
		io->chan_w = loop_watch(d->l, io->start_fd, POLLIN, on_chan, io);
		return 0;
	}
	if (!io || sb->fn->spec.mode != FCPOOL_HTTP)
		return 1;
	_cleanup_free_ char *p = fc_asprintf("/proc/%d/ns/net", (int)io->pid);
	int ns = open(p, O_RDONLY | O_CLOEXEC);
	io->probe =
	    http_probe(d->http, ns >= 0 ? ns : -errno, sb->fn->spec.readiness, on_ready, io);
	return 0;
}

static void op_notice(void *ctx, struct pool_fn *f, struct pool_sb *sb, const char *msg)
{
	struct sb_io *io = sb ? sb->data : NULL;
	(void)ctx;
	(void)f;
	if (io && io->last_probe[0])
		fc_log(FC_LOG_WARN, "%s (the last readiness probe found: %s)", msg, io->last_probe);
	else
		fc_log(FC_LOG_WARN, "%s", msg);
}

static void op_sandbox_gone(void *ctx, struct pool_sb *sb)
{
	struct sb_io *io = sb->data;
	if (!io)
		return;
	http_probe_cancel(io->probe);
	loop_unwatch(io->exit_w);
	loop_unwatch(io->chan_w);
	if (io->pidfd >= 0)
		close(io->pidfd);
	if (io->start_fd >= 0)
		close(io->start_fd);
	if (io->netns_fd >= 0)
		close(io->netns_fd);
	if (io->keep_sock >= 0)
		close(io->keep_sock);
	memslots_give(io->d->slots, io->slot);
	free(io);
	sb->data = NULL;
}

static void op_function_gone(void *ctx, struct pool_fn *f)
{
	struct daemon *d = ctx;
	struct fs_msg m = {.type = FS_FORGET};
	snprintf(m.fn, sizeof(m.fn), "%s", f->spec.name);
	for (unsigned i = 0; i < d->nfs; i++)
		fs_post(&d->fs[i], &m);
	if (d->slots)
		memslots_forget(d->slots, f->spec.name);
	_cleanup_free_ char *dir = fc_asprintf("%s/functions/%s", d->root, f->spec.name);
	struct fc_error *e = NULL;
	fc_rm_rf_at(AT_FDCWD, dir, &e);
	fc_error_free(e);
	secrets_unstage(d->root, f->spec.name);
	logs_forget(d->logs, f->spec.name);
}

static const struct pool_ops pool_ops = {
    .create = op_create,
    .kill = op_kill,
    .handover = op_handover,
    .connect = op_connect,
    .reply = op_reply,
    .sandbox_gone = op_sandbox_gone,
    .function_gone = op_function_gone,
    .probe = op_probe,
    .notice = op_notice,
};

/* ---- functions ---------------------------------------------------------------- */

static int no_function(const char *name, struct fc_error **err)
{
	return fc_error_set(err, ENOENT, "no function `%s`", name ? name : "");
}

static int save_spec(struct daemon *d, const struct fcpool_fn_spec *spec, struct fc_error **err)
{
	_cleanup_free_ char *dir = fc_asprintf("%s/functions/%s", d->root, spec->name);
	_cleanup_free_ char *p = fc_asprintf("%s/function.json", dir);
	struct fc_buf b = {0};
	fcpool_fn_spec_json(spec, &b);
	int r = fc_mkdir_p_at(AT_FDCWD, dir, 0700, err);
	if (r >= 0)
		r = fc_write_file_atomic_at(AT_FDCWD, p, b.data, b.len, 0600, err);
	free(b.data);
	return r;
}

/* Every fork server gets the function's bundle, to parse once: it comes
 * before any creation of the function's sandboxes (messages keep their
 * order). */
static int send_bundle(struct daemon *d, const char *name, const struct bundle *b,
                       struct fc_error **err)
{
	struct fc_buf text = {0};
	bundle_text(b, &text);
	_cleanup_close_ int fd = memfd_create("fcstart-bundle", MFD_CLOEXEC);
	int r = fd < 0 ? -errno : fc_write_all(fd, text.data, text.len);
	free(text.data);
	if (r < 0)
		return fc_error_set(err, -r, "function `%s`: the bundle for the fork servers",
		                    name);
	struct fs_msg m = {.type = FS_DEPLOY};
	snprintf(m.fn, sizeof(m.fn), "%s", name);
	for (unsigned i = 0; i < d->nfs; i++) {
		int dup = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		if (dup < 0)
			return fc_error_set(err, errno, "function `%s`: dup", name);
		fs_post_fd(&d->fs[i], &m, dup);
	}
	return 0;
}

/* The host ids of root in a function's sandboxes: its own range of 65536,
 * picked by a hash of the root and its name, the next free one on a clash
 * with a deployed function's; kept on redeploys. */
static uint32_t userns_base(struct daemon *d, const char *name)
{
	for (size_t i = 0; i < d->n_ranges; i++)
		if (FC_STREQ(d->ranges[i].name, name))
			return d->ranges[i].base;
	uint32_t h = 2166136261u;
	for (const char *p = d->prefix; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	for (const char *p = name; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	uint32_t base = 0;
	for (uint32_t k = 0; k < BUNDLE_USERNS_SLOTS && !base; k++) {
		base = BUNDLE_USERNS_FIRST + (h + k) % BUNDLE_USERNS_SLOTS * BUNDLE_USERNS_SIZE;
		for (size_t i = 0; i < d->n_ranges; i++)
			if (d->ranges[i].base == base && pool_fn_find(d->pool, d->ranges[i].name))
				base = 0;
	}
	if (base) {
		d->ranges = fc_realloc(d->ranges, (d->n_ranges + 1) * sizeof(*d->ranges));
		d->ranges[d->n_ranges++] =
		    (struct userns_range){.name = fc_strdup(name), .base = base};
	}
	return base;
}

/* The root of a sandbox in a user namespace is an unprivileged host user: it
 * must pass through every directory above its own (as with runc and
 * Docker's userns-remap). The daemon's root and sandboxes/ are made so; the
 * root's parents are the host's, left as they are, and checked. */
static int userns_reachable(struct daemon *d, const char *name, struct fc_error **err)
{
	_cleanup_free_ char *p = fc_strdup(d->root);
	for (char *s = p + strlen(p); s > p; s = strrchr(p, '/')) {
		*s = 0;
		struct stat st;
		const char *dir = *p ? p : "/";
		if (stat(dir, &st) == 0 && !(st.st_mode & S_IXOTH))
			return fc_error_set(
			    err, EACCES,
			    "function `%s`: its sandboxes run in a user namespace, whose root "
			    "(an unprivileged host user) cannot pass through `%s` (mode %04o) to "
			    "the daemon's root `%s`: chmod o+x `%s`, run the daemon with a --root "
			    "whose parents others can pass through (the default %s can), or "
			    "deploy it with --userns host",
			    name, dir, (unsigned)(st.st_mode & 07777), d->root, dir,
			    FCPOOL_DEFAULT_ROOT);
	}
	return 0;
}

int daemon_image_to_pull(struct daemon *d, const struct fcpool_fn_spec *spec, char **ref)
{
	struct fc_error *e = NULL;
	struct fcsnap_image *img = NULL;
	*ref = NULL;
	int policy = spec->image ? bundle_pull_policy(spec, &e) : -EINVAL;
	if (policy != FCSNAP_PULL_MISSING && policy != FCSNAP_PULL_ALWAYS) {
		fc_error_free(e);
		return 0;
	}
	int r = -ENOENT;
	if (policy == FCSNAP_PULL_MISSING) {
		r = fcsnap_image_get_ref(d->store, spec->image, FCSNAP_PULL_NEVER, NULL, &img, &e);
		fc_error_free(e);
		e = NULL;
	}
	if (r >= 0) {
		fcsnap_image_free(img);
		return 0;
	}
	struct fcsnap_ref pr;
	if (r != -ENOENT || fcsnap_ref_parse(spec->image, &pr, &e) < 0) {
		fc_error_free(e);
		return 0; /* the deploy says what is wrong */
	}
	fcsnap_ref_clear(&pr);
	*ref = fc_strdup(spec->image);
	return 1;
}

struct pulls *daemon_pulls(struct daemon *d)
{
	if (!d->pulls)
		d->pulls = pulls_new(d->l, daemon_store_path(d));
	return d->pulls;
}

static int deploy(struct daemon *d, struct fcpool_fn_spec *spec, bool pulled, struct fc_error **err)
{
	struct bundle *b = NULL;
	int r = pool_deploy_check(d->pool, spec->name, err);
	/* every front end's spec gets the default limits (a no-op for one
	 * that was parsed: it has them) */
	if (r >= 0)
		r = fcpool_fn_spec_limits(spec, err);
	if (r >= 0)
		r = fcpool_fn_spec_check(spec, err);
	if (r >= 0 && spec->prewarm == FCPOOL_PREWARM_FORK && spec->userns_host)
		r = fc_error_set(err, EINVAL,
		                 "function `%s`: prewarm fork needs the function's own user "
		                 "namespace (not --userns host)",
		                 spec->name);
	uint32_t base = r >= 0 && !spec->userns_host ? userns_base(d, spec->name) : 0;
	if (r >= 0 && !spec->userns_host && !base)
		r = fc_error_set(err, ENOSPC,
		                 "function `%s`: every user namespace range is taken (%u)",
		                 spec->name, BUNDLE_USERNS_SLOTS);
	if (r >= 0 && !spec->userns_host)
		r = userns_reachable(d, spec->name, err);
	if (r >= 0)
		r = pulled ? bundle_make_pulled(d->store, spec, base, &b, err)
		           : bundle_make(d->store, spec, base, &b, err);
	if (r >= 0 && spec->mode_auto)
		spec->mode = b->mode; /* from the image: http when it runs a watchdog */
	/* a classic function in started mode is accepted: it is ready once it
	 * reports so on its channel (fcstart.ready()); one that never does
	 * fails readiness, saying it needs fcstart.ready() (pool.c) */
	if (r >= 0 && spec->prewarm != FCPOOL_PREWARM_EXEC) {
		/* fcstart's Python helper, read-only at /.fcstart/python */
		_cleanup_free_ char *dir = fc_asprintf("%s/helper/python", d->root);
		bundle_add_helper(b, dir);
	}
	if (r >= 0 && spec->secrets && spec->secrets[0]) {
		_cleanup_free_ char *dir = NULL;
		r = secrets_stage(d->root, spec->name, spec->secrets, b->host_uid, b->host_gid,
		                  &dir, err);
		if (r >= 0)
			bundle_add_secrets(b, dir);
		else if (!pool_fn_find(d->pool, spec->name))
			secrets_unstage(d->root, spec->name); /* a new function's */
	} else if (r >= 0) {
		secrets_unstage(d->root, spec->name);
	}
	if (r >= 0 && !spec->created_ms) {
		/* a redeploy keeps when the function was first deployed */
		struct pool_fn *old = pool_fn_find(d->pool, spec->name);
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		spec->created_ms = old && old->spec.created_ms ? old->spec.created_ms
		                                               : (uint64_t)ts.tv_sec * 1000 +
		                                                     (uint64_t)ts.tv_nsec / 1000000;
	}
	if (r >= 0)
		r = save_spec(d, spec, err);
	if (r >= 0)
		r = send_bundle(d, spec->name, b, err);
	/* the memory limits of its sandboxes' memory slots */
	struct fc_resources res = {0};
	bool has_res = r >= 0 && b->spec && b->spec->resources;
	if (has_res)
		res.memory = b->spec->resources->memory;
	bundle_free(b);
	/* pool_deploy takes the spec's members */
	_cleanup_free_ char *name = fc_strdup(spec->name);
	bool exec_mode = spec->prewarm == FCPOOL_PREWARM_EXEC;
	if (r >= 0)
		r = pool_deploy(d->pool, spec, fc_now_ns(), err);
	if (r >= 0 && d->slots && exec_mode)
		memslots_deploy(d->slots, name, has_res ? &res : NULL);
	else if (r >= 0 && d->slots)
		memslots_forget(d->slots, name);
	return r;
}

int daemon_deploy(struct daemon *d, struct fcpool_fn_spec *spec, struct fc_error **err)
{
	return deploy(d, spec, false, err);
}

int daemon_deploy_pulled(struct daemon *d, struct fcpool_fn_spec *spec, struct fc_error **err)
{
	return deploy(d, spec, true, err);
}

int daemon_remove(struct daemon *d, const char *name, struct fc_error **err)
{
	struct pool_fn *f = name ? pool_fn_find(d->pool, name) : NULL;
	if (!f)
		return no_function(name, err);
	pool_remove(d->pool, f, fc_now_ns());
	return 0;
}

int daemon_scale(struct daemon *d, const char *name, double min, double max, struct fc_error **err)
{
	struct pool_fn *f = name ? pool_fn_find(d->pool, name) : NULL;
	if (!f)
		return no_function(name, err);
	int r = pool_scale(d->pool, f, min, max, fc_now_ns(), err);
	if (r < 0)
		return r;
	struct fc_buf b = {0};
	fcpool_fn_spec_json(&f->spec, &b);
	_cleanup_free_ char *p = fc_asprintf("%s/functions/%s/function.json", d->root, name);
	fc_write_file_atomic_at(AT_FDCWD, p, b.data, b.len, 0600, NULL);
	free(b.data);
	return 0;
}

int daemon_list(struct daemon *d, const char *name, bool stats, struct fcpool_fn_list *l,
                struct fc_error **err)
{
	memset(l, 0, sizeof(*l));
	l->stats = stats;
	for (struct pool_fn *f = pool_fn_first(d->pool); f; f = pool_fn_next(f))
		l->n++;
	l->fns = fc_calloc(l->n ? l->n : 1, sizeof(*l->fns));
	l->n = 0;
	for (struct pool_fn *f = pool_fn_first(d->pool); f; f = pool_fn_next(f))
		if (!name || FC_STREQ(name, f->spec.name))
			pool_fn_status(f, stats, &l->fns[l->n++]);
	if (name && !l->n) {
		daemon_list_free(l);
		return no_function(name, err);
	}
	return 0;
}

int daemon_fn_mode(struct daemon *d, const char *name, enum fcpool_mode *mode,
                   struct fc_error **err)
{
	struct pool_fn *f = name ? pool_fn_find(d->pool, name) : NULL;
	if (!f)
		return no_function(name, err);
	*mode = f->spec.mode;
	return 0;
}

/* MemAvailable, Slab and SUnreclaim of /proc/meminfo, in KiB (-1: unknown). */
static void host_meminfo(int64_t *avail, int64_t *slab, int64_t *sunreclaim)
{
	*avail = *slab = *sunreclaim = -1;
	_cleanup_free_ char *mi = NULL;
	if (fc_read_file_at(AT_FDCWD, "/proc/meminfo", &mi, NULL, 0, NULL) < 0)
		return;
	const struct {
		const char *key;
		int64_t *v;
	} f[] = {{"\nMemAvailable:", avail}, {"\nSlab:", slab}, {"\nSUnreclaim:", sunreclaim}};
	for (size_t i = 0; i < FC_ARRAY_SIZE(f); i++) {
		const char *s = strstr(mi, f[i].key);
		if (s)
			*f[i].v = strtoll(s + strlen(f[i].key), NULL, 10);
	}
}

void daemon_list_usage(struct daemon *d, struct fcpool_fn_list *l)
{
	struct fcpool_host *h = &l->host;
	*h = d->host0;
	h->known = d->host0.known;
	host_meminfo(&h->mem_available_kib, &h->slab_kib, &h->sunreclaim_kib);
	for (struct pool_fn *f = pool_fn_first(d->pool); f; f = pool_fn_next(f))
		for (struct pool_sb *sb = f->sandboxes; sb; sb = sb->next)
			h->sandboxes++;
	for (size_t i = 0; i < l->n; i++) {
		struct pool_fn *f = pool_fn_find(d->pool, l->fns[i].spec.name);
		for (struct pool_sb *sb = f ? f->sandboxes : NULL; sb; sb = sb->next) {
			if (sb->state != POOL_SB_WAITING && sb->state != POOL_SB_STARTING &&
			    sb->state != POOL_SB_READY)
				continue;
			uint64_t mem = 0, cpu = 0;
			if (fcrt_usage(d->rt_root, sb->id, &mem, &cpu, NULL) < 0)
				continue;
			l->fns[i].waiting_memory += mem;
			l->fns[i].waiting_cpu_ms += cpu / 1000000;
		}
	}
}

void daemon_list_free(struct fcpool_fn_list *l)
{
	free(l->fns); /* the specs are the core's */
	memset(l, 0, sizeof(*l));
}

/* ---- invocations -------------------------------------------------------------- */

int daemon_invoke(struct daemon *d, struct daemon_invoke_args *a, struct daemon_inv **out,
                  struct fc_error **err)
{
	struct pool_fn *f = a->name ? pool_fn_find(d->pool, a->name) : NULL;
	if (!f)
		return no_function(a->name, err);
	struct daemon_inv *inv = fc_calloc(1, sizeof(*inv));
	inv->d = d;
	inv->pi.t_arrived = a->t_arrived;
	memcpy(inv->stdio, a->stdio, sizeof(inv->stdio));
	a->stdio[0] = a->stdio[1] = a->stdio[2] = -1;
	inv->env = TAKE_PTR(a->env);
	inv->sock = -1;
	inv->event = a->event;
	inv->owner = a->owner;
	*out = inv;
	pool_invoke(d->pool, f, &inv->pi, fc_now_ns());
	return 0;
}

void daemon_release(struct daemon *d, struct daemon_inv *inv)
{
	if (!inv)
		return;
	inv->event = NULL;
	http_connect_cancel(inv->hc);
	inv->hc = NULL;
	pool_release(d->pool, &inv->pi, fc_now_ns());
	close_stdio(inv);
	if (inv->sock >= 0)
		close(inv->sock);
	fc_strv_free(inv->env);
	free(inv);
}

bool daemon_inv_timed_out(const struct daemon_inv *inv)
{
	return inv && inv->pi.timed_out;
}

void daemon_release_conn(struct daemon *d, struct daemon_inv *inv, int sock)
{
	struct pool_sb *sb = inv ? inv->pi.sb : NULL;
	struct sb_io *io = sb ? sb->data : NULL;
	if (sock >= 0 && io && !sb->killed && inv->pi.state == POOL_INV_RUNNING) {
		/* before the release: it may hand the instance on at once */
		if (io->keep_sock >= 0)
			close(io->keep_sock);
		io->keep_sock = sock;
		io->keep_at = fc_now_ns();
	} else if (sock >= 0) {
		close(sock);
	}
	daemon_release(d, inv);
}

/* ---- logs and secrets ------------------------------------------------------------ */

int daemon_log_next(struct daemon *d, const char *fn, uint64_t *seq, struct logs_line *line)
{
	return logs_next(d->logs, fn, seq, line);
}

uint64_t daemon_log_tail(struct daemon *d, const char *fn, uint64_t n)
{
	return logs_tail(d->logs, fn, n);
}

struct logs_watch *daemon_log_watch(struct daemon *d, const char *fn, void (*wake)(void *),
                                    void *owner)
{
	return logs_watch(d->logs, fn, wake, owner);
}

void daemon_log_unwatch(struct daemon *d, struct logs_watch *w)
{
	logs_unwatch(w);
}

int daemon_secret_set(struct daemon *d, const char *name, const void *value, size_t len,
                      bool update, struct fc_error **err)
{
	int r = secrets_set(d->root, name, value, len, update ? SECRET_UPDATE : SECRET_CREATE, err);
	if (r < 0 || !update)
		return r;
	/* the functions that use it see the new value */
	for (struct pool_fn *f = pool_fn_first(d->pool); f; f = pool_fn_next(f))
		for (size_t i = 0; f->spec.secrets && f->spec.secrets[i]; i++)
			if (FC_STREQ(f->spec.secrets[i], name))
				secrets_restage(d->root, f->spec.name, name);
	return 0;
}

int daemon_secret_remove(struct daemon *d, const char *name, struct fc_error **err)
{
	return secrets_remove(d->root, name, err);
}

int daemon_secret_list(struct daemon *d, char ***names, struct fc_error **err)
{
	return secrets_list(d->root, names, err);
}

/* ---- signals and the tick ---------------------------------------------------- */

static void on_signal(void *data, short revents)
{
	struct daemon *d = data;
	struct signalfd_siginfo si;
	(void)revents;
	while (read(d->sig_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
			loop_stop(d->l);
		for (unsigned i = 0; si.ssi_signo == SIGCHLD && i < d->nfs; i++)
			if (d->fs[i].pid > 0 &&
			    waitpid(d->fs[i].pid, NULL, WNOHANG) == d->fs[i].pid) {
				fc_log(FC_LOG_ERROR, "fork server %d exited; stopping",
				       (int)d->fs[i].pid);
				d->fs[i].pid = -1;
				loop_stop(d->l);
			}
	}
}

static int tick_before(void *data, uint64_t now)
{
	struct daemon *d = data;
	return now >= d->next_tick ? 0 : (int)((d->next_tick - now + 999999) / 1000000);
}

static void tick_after(void *data, uint64_t now)
{
	struct daemon *d = data;
	if (d->slots)
		memslots_refill(d->slots);
	if (now < d->next_tick)
		return;
	pool_tick(d->pool, now);
	d->next_tick = now + TICK_NS;
}

/* ---- start and stop ----------------------------------------------------------- */

static void load_functions(struct daemon *d)
{
	_cleanup_free_ char *dir = fc_asprintf("%s/functions", d->root);
	DIR *dp = opendir(dir);
	if (!dp)
		return;
	struct dirent *de;
	while ((de = readdir(dp))) {
		if (de->d_name[0] == '.')
			continue;
		_cleanup_free_ char *p = fc_asprintf("%s/%s/function.json", dir, de->d_name);
		_cleanup_free_ char *json = NULL;
		struct fc_error *e = NULL;
		struct fcpool_fn_spec spec = {0};
		if (fc_read_file_at(AT_FDCWD, p, &json, NULL, 0, &e) < 0 ||
		    fcpool_fn_spec_parse(json, &spec, &e) < 0 || daemon_deploy(d, &spec, &e) < 0) {
			fc_log(FC_LOG_ERROR, "reload function `%s`: %s", de->d_name,
			       e ? e->msg : "?");
			fcpool_fn_spec_clear(&spec);
		} else {
			fc_log(FC_LOG_INFO, "function `%s` reloaded", de->d_name);
		}
		fc_error_free(e);
	}
	closedir(dp);
}

/* fcstart's Python helper (prewarm/python/fcstart.py) at ROOT/helper/python,
 * which started and fork mode sandboxes mount read-only. */
static int write_helper(const char *root, struct fc_error **err)
{
	_cleanup_free_ char *dir = fc_asprintf("%s/helper/python", root);
	_cleanup_free_ char *tmp = fc_asprintf("%s/.fcstart.py.tmp", dir);
	_cleanup_free_ char *path = fc_asprintf("%s/fcstart.py", dir);
	_cleanup_free_ char *parent = fc_asprintf("%s/helper", root);
	if (fc_mkdir_p_at(AT_FDCWD, dir, 0755, err) < 0)
		return fc_error_code(*err);
	if (chmod(parent, 0755) < 0 || chmod(dir, 0755) < 0)
		return fc_error_set(err, errno, "chmod `%s`", dir);
	_cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	size_t len = strlen(fcstart_py);
	if (fd < 0 || write(fd, fcstart_py, len) != (ssize_t)len || fchmod(fd, 0644) < 0 ||
	    rename(tmp, path) < 0)
		return fc_error_set(err, errno, "write `%s`", path);
	return 0;
}

int daemon_new(const struct fcpool_serve_opts *o, struct loop *l, struct daemon **out,
               struct fc_error **err)
{
	struct daemon *d = fc_calloc(1, sizeof(*d));
	d->lock_fd = d->sig_fd = d->self_netns = -1;
	d->l = l;
	*out = d;
	const char *root = o->root ? o->root : FCPOOL_DEFAULT_ROOT;
	int r = fc_mkdir_p_at(AT_FDCWD, root, 0700, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *lockp = fc_asprintf("%s/lock", root);
	d->lock_fd = open(lockp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (d->lock_fd < 0)
		return fc_error_set(err, errno, "open `%s`", lockp);
	if (flock(d->lock_fd, LOCK_EX | LOCK_NB) < 0)
		return fc_error_set(err, errno == EWOULDBLOCK ? EBUSY : errno,
		                    "another fcstart daemon runs on root `%s`", root);
	d->root = realpath(root, NULL);
	if (!d->root)
		return fc_error_set(err, errno, "root `%s`", root);
	d->rt_root = fc_asprintf("%s/runtime", d->root);
	d->prefix = sandbox_prefix(d->root);
	if (memslots_wanted())
		d->slots = memslots_new(d->prefix);
	unsigned removed = 0;
	r = fcpool_recover(d->root, &removed, err);
	if (r < 0)
		return r;
	if (removed)
		fc_log(FC_LOG_INFO, "removed %u sandboxes of a previous run under `%s`", removed,
		       d->root);
	/* the host before any sandbox of this daemon: `fcstart stats` shows the change */
	host_meminfo(&d->host0.start_mem_available_kib, &d->host0.start_slab_kib,
	             &d->host0.start_sunreclaim_kib);
	d->host0.known = d->host0.start_mem_available_kib >= 0;
	_cleanup_free_ char *sbd = fc_asprintf("%s/sandboxes", d->root);
	_cleanup_free_ char *fnd = fc_asprintf("%s/functions", d->root);
	if (fc_mkdir_p_at(AT_FDCWD, sbd, 0700, err) < 0 ||
	    fc_mkdir_p_at(AT_FDCWD, fnd, 0700, err) < 0 ||
	    fc_mkdir_p_at(AT_FDCWD, d->rt_root, 0700, err) < 0)
		return fc_error_code(*err);
	/* The root of a sandbox in a user namespace is an unprivileged host
	 * user that must reach its own dir (owned by it, mode 0700) through the
	 * root and sandboxes/: they can be passed through, not listed. */
	r = write_helper(d->root, err);
	if (r < 0)
		return r;
	const char *const walk[] = {d->root, sbd};
	for (size_t i = 0; i < FC_ARRAY_SIZE(walk); i++) {
		struct stat st;
		if (stat(walk[i], &st) == 0 && (st.st_mode & 0011) != 0011 &&
		    chmod(walk[i], (st.st_mode & 07777) | 0011) < 0)
			return fc_error_set(err, errno, "chmod `%s`", walk[i]);
	}
	unsigned nfs = o->fork_servers ? o->fork_servers : 2;
	r = fs_start(d, nfs > FS_MAX ? FS_MAX : nfs, err);
	if (r < 0)
		return r;
	r = fcsnap_store_open(o->store, &d->store, err);
	if (r < 0)
		return r;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	d->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (d->sig_fd < 0)
		return fc_error_set(err, errno, "signalfd");
	d->sig_w = loop_watch(l, d->sig_fd, POLLIN, on_signal, d);
	signal(SIGPIPE, SIG_IGN);
	d->self_netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	d->http = http_connector_new(l, d->self_netns);
	d->logs = logs_new(l);
	_cleanup_free_ char *tag = fc_asprintf("%x", (unsigned)getpid());
	struct pool_config cfg = {
	    .id_prefix = d->prefix,
	    .id_tag = tag,
	    .creators = d->nfs,
	    .creator_slots = FS_MAX_INFLIGHT,
	    .idle_ns = (uint64_t)(o->idle_timeout_s ? o->idle_timeout_s : 300) * 1000000000ULL,
	    .queue_wait_ns = 30ULL * 1000000000ULL,
	    .queue_max = o->queue_max ? o->queue_max : 64,
	    .retry_ns = 1000000000ULL,
	};
	d->pool = pool_new(&cfg, &pool_ops, d);
	loop_hook(l, tick_before, tick_after, d);
	d->next_tick = fc_now_ns();
	load_functions(d);
	return 0;
}

const char *daemon_root(const struct daemon *d)
{
	return d->root;
}

const char *daemon_store_path(const struct daemon *d)
{
	return fcsnap_store_path(d->store);
}

void daemon_free(struct daemon *d)
{
	if (!d)
		return;
	if (d->l)
		loop_unhook(d->l, d);
	pulls_free(d->pulls);
	/* closes every start socket: waiting inits exit */
	pool_free(d->pool);
	http_connector_free(d->http);
	logs_free(d->logs);
	/* closing its socket makes a fork server kill and remove every sandbox */
	for (unsigned i = 0; i < d->nfs; i++) {
		while (d->fs[i].outbox) {
			struct fs_out *ob = d->fs[i].outbox;
			d->fs[i].outbox = ob->next;
			fs_out_free(ob);
		}
		loop_unwatch(d->fs[i].w);
		close(d->fs[i].fd);
	}
	for (unsigned i = 0; i < d->nfs; i++)
		if (d->fs[i].pid > 0)
			while (waitpid(d->fs[i].pid, NULL, 0) < 0 && errno == EINTR)
				;
	memslots_free(d->slots); /* their sandboxes are gone */
	if (d->root) {
		struct fc_error *e = NULL;
		fcpool_recover(d->root, NULL, &e); /* anything the fork servers could not remove */
		fc_error_free(e);
	}
	loop_unwatch(d->sig_w);
	if (d->sig_fd >= 0)
		close(d->sig_fd);
	if (d->self_netns >= 0)
		close(d->self_netns);
	if (d->lock_fd >= 0)
		close(d->lock_fd);
	fcsnap_store_free(d->store);
	for (size_t i = 0; i < d->n_ranges; i++)
		free(d->ranges[i].name);
	free(d->ranges);
	free(d->root);
	free(d->rt_root);
	free(d->prefix);
	free(d);
}
