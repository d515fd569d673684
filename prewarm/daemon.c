/* SPDX-License-Identifier: MIT */
/* daemon.c: `fcstart serve`. One single-threaded poll loop: the API socket,
 * the fork server's socket, signals and a 200 ms timer. The daemon never
 * forks after it started the fork server (it has no threads either); it hands
 * sandboxes over itself (fcrt_start_socket_ex on the start socket the fork
 * server passed it), so a hand-over never waits behind a creation. */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "fcrt.h"
#include "fcsnap.h"
#include "daemon.h"

struct daemon *D;

/* ---- replies --------------------------------------------------------------- */

void conn_reply(struct conn *c, const char *json)
{
	if (c->gw) {
		gw_on_reply(c, json);
		return;
	}
	if (c->fd < 0)
		return;
	if (send(c->fd, json, strlen(json), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		fc_log(FC_LOG_DEBUG, "reply to client: %s", strerror(errno));
}

void conn_error(struct conn *c, int errnum, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = NULL;
	if (vasprintf(&msg, fmt, ap) < 0)
		abort();
	va_end(ap);
	struct fc_buf b = {0};
	fc_buf_printf(&b, "{\"ok\":false,\"errno\":%d,\"error\":", errnum);
	fc_buf_json_string(&b, msg);
	fc_buf_printf(&b, "}");
	conn_reply(c, b.data);
	free(b.data);
	free(msg);
}

static void conn_close_fds(struct conn *c)
{
	for (size_t i = 0; i < c->nfds; i++)
		if (c->fds[i] >= 0)
			close(c->fds[i]);
	c->nfds = 0;
}

/* The connection is done: it is freed at the end of the loop iteration. */
void conn_finish(struct conn *c)
{
	if (c->gw)
		gw_detach(c);
	conn_close_fds(c);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->dead = true;
	if (c->fn && c->state == C_QUEUED)
		queue_remove(c->fn, c);
	if (c->sb)
		c->sb->client = NULL;
	c->sb = NULL;
	c->state = C_DONE;
}

/* ---- functions and sandboxes ----------------------------------------------- */

struct function *fn_find(const char *name)
{
	for (struct function *f = D->fns; f; f = f->next)
		if (FC_STREQ(f->spec.name, name))
			return f;
	return NULL;
}

unsigned fn_total(const struct function *f)
{
	return f->n_waiting + f->n_creating + f->n_running;
}

/* Send to a fork server without ever blocking: queue what does not fit. */
static void fs_post(struct fserver *fs, const struct fs_msg *m)
{
	if (!fs->outbox) {
		int r = fs_send_nb(fs->fd, m);
		if (r == 0)
			return;
		if (r != -EAGAIN) {
			fc_log(FC_LOG_ERROR, "send to the fork server: %s", strerror(-r));
			return;
		}
	}
	struct fs_out *o = fc_malloc(sizeof(*o));
	o->m = *m;
	o->next = NULL;
	if (!fs->outbox)
		fs->outbox_tail = &fs->outbox;
	*fs->outbox_tail = o;
	fs->outbox_tail = &o->next;
}

static void fs_flush(struct fserver *fs)
{
	while (fs->outbox) {
		struct fs_out *o = fs->outbox;
		int r = fs_send_nb(fs->fd, &o->m);
		if (r == -EAGAIN)
			return;
		if (r < 0)
			fc_log(FC_LOG_ERROR, "send to the fork server: %s", strerror(-r));
		fs->outbox = o->next;
		free(o);
	}
}

static void sandbox_unlink(struct sandbox *s);
static void fn_maybe_gone(struct function *f);

/* Hand creations to the fork servers, a few at a time each, to the least
 * busy first; between equally busy ones, to the one with fewer running
 * sandboxes: a fork server reaps its sandboxes, and while it creates one
 * (some ms) the exit of a running one, an invocation's result, waits. */
static void fs_pump(void)
{
	unsigned running[FS_MAX];
	memset(running, 0, sizeof(running));
	for (struct function *f = D->fns; f; f = f->next)
		for (struct sandbox *s = f->sandboxes; s; s = s->next)
			if (s->state == SB_RUNNING && s->fs < FS_MAX)
				running[s->fs]++;
	for (;;) {
		struct fserver *fs = NULL;
		for (unsigned i = 0; i < D->nfs; i++) {
			struct fserver *c = &D->fs[i];
			if (c->inflight >= FS_MAX_INFLIGHT)
				continue;
			if (!fs || c->inflight < fs->inflight ||
			    (c->inflight == fs->inflight &&
			     running[i] < running[(unsigned)(fs - D->fs)]))
				fs = c;
		}
		if (!fs)
			return;
		struct sandbox *next = NULL;
		for (struct function *f = D->fns; f; f = f->next)
			for (struct sandbox *s = f->sandboxes; s; s = s->next)
				if (s->state == SB_CREATING && !s->sent && !s->killed &&
				    (!next || s->t_state < next->t_state))
					next = s;
		if (!next)
			return;
		struct fs_msg m = {.type = FS_CREATE};
		snprintf(m.id, sizeof(m.id), "%s", next->id);
		snprintf(m.fn, sizeof(m.fn), "%s", next->fn->spec.name);
		next->sent = true;
		next->fs = (unsigned)(fs - D->fs);
		fs->inflight++;
		fs_post(fs, &m);
	}
}

static void fs_kill(struct sandbox *s)
{
	if (s->killed)
		return;
	s->killed = true;
	if (s->state == SB_CREATING && !s->sent)
		return; /* never left the daemon: sweep() drops it */
	struct fs_msg m = {.type = FS_KILL};
	snprintf(m.id, sizeof(m.id), "%s", s->id);
	fs_post(&D->fs[s->fs], &m);
}

void sandbox_kill(struct sandbox *s)
{
	if (s->state == SB_WAITING && s->sync_fd >= 0) {
		/* closing the start socket makes a waiting init exit by itself */
		close(s->sync_fd);
		s->sync_fd = -1;
	}
	fs_kill(s);
}

static struct sandbox *sandbox_find(const char *id)
{
	for (struct function *f = D->fns; f; f = f->next)
		for (struct sandbox *s = f->sandboxes; s; s = s->next)
			if (FC_STREQ(s->id, id))
				return s;
	return NULL;
}

static void sandbox_unlink(struct sandbox *s)
{
	struct function *f = s->fn;
	for (struct sandbox **p = &f->sandboxes; *p; p = &(*p)->next)
		if (*p == s) {
			*p = s->next;
			break;
		}
	switch (s->state) {
	case SB_CREATING:
		f->n_creating--;
		break;
	case SB_WAITING:
		f->n_waiting--;
		break;
	case SB_RUNNING:
		f->n_running--;
		break;
	default:
		break;
	}
	if (s->sync_fd >= 0)
		close(s->sync_fd);
	if (s->http_fd >= 0)
		close(s->http_fd);
	if (s->client)
		s->client->sb = NULL;
	free(s);
}

static void sandbox_create(struct function *f)
{
	struct sandbox *s = fc_calloc(1, sizeof(*s));
	snprintf(s->id, sizeof(s->id), "%s%s-%x.%llu", D->prefix, f->spec.name, (unsigned)getpid(),
	         (unsigned long long)++D->seq);
	s->fn = f;
	s->state = SB_CREATING;
	s->sync_fd = -1;
	s->http_fd = -1;
	s->t_state = fc_now_ns();
	s->next = f->sandboxes;
	f->sandboxes = s;
	f->n_creating++;
	f->creates++;
	fs_pump();
}

/* Keep min waiting (plus one per queued invocation), never above max. */
void pool_fill(struct function *f)
{
	if (f->removing)
		return;
	uint64_t now = fc_now_ns();
	bool backoff = now < f->retry_after;
	for (;;) {
		unsigned want = f->spec.min + f->n_queued;
		unsigned have = f->n_waiting + f->n_creating;
		if (have >= want || fn_total(f) >= f->spec.max)
			break;
		if (backoff && f->n_queued == 0)
			break;
		if (backoff && f->n_creating > 0)
			break;
		sandbox_create(f);
	}
}

void queue_remove(struct function *f, struct conn *c)
{
	for (struct conn **p = &f->queue; *p; p = &(*p)->qnext)
		if (*p == c) {
			*p = c->qnext;
			f->n_queued--;
			break;
		}
	c->qnext = NULL;
}

static void queue_push(struct function *f, struct conn *c, bool front)
{
	c->state = C_QUEUED;
	c->fn = f;
	if (front) {
		c->qnext = f->queue;
		f->queue = c;
	} else {
		struct conn **p = &f->queue;
		while (*p)
			p = &(*p)->qnext;
		c->qnext = NULL;
		*p = c;
	}
	f->n_queued++;
}

static struct sandbox *take_waiting(struct function *f)
{
	/* the oldest waiting sandbox */
	struct sandbox *best = NULL;
	for (struct sandbox *s = f->sandboxes; s; s = s->next)
		if (s->state == SB_WAITING && s->sync_fd >= 0 &&
		    (!best || s->t_state < best->t_state))
			best = s;
	return best;
}

static void record_latency(struct function *f, uint64_t ns, uint64_t exec_ns)
{
	f->lat[f->n_lat % FN_LAT_RING] = ns;
	f->lat_exec[f->n_lat % FN_LAT_RING] = exec_ns;
	f->n_lat++;
}

/* Hand sandbox s over to the invocation c: its stdio, env and args. An
 * HTTP instance gets /dev/null and the daemon's stderr instead. */
int handover(struct function *f, struct sandbox *s, struct conn *c)
{
	uint64_t t0 = fc_now_ns();
	struct fcrt_container ct = {
	    .id = s->id, .root = D->rt_root, .pid = s->pid, .pidfd = -1, .sync_fd = s->sync_fd};
	struct fcrt_start_args a = {.stdio = {-1, -1, -1}, .env = c->env, .argv = NULL};
	bool http = f->spec.mode == FCPOOL_HTTP;
	_cleanup_close_ int devnull = http ? open("/dev/null", O_RDWR | O_CLOEXEC) : -1;
	if (http) {
		a.stdio[0] = devnull;
		a.stdio[1] = 2;
		a.stdio[2] = 2;
	}
	for (size_t i = 0; !http && i < 3 && i < c->nfds; i++)
		a.stdio[i] = c->fds[i];
	struct fc_error *e = NULL;
	int r = fcrt_start_socket_ex(&ct, &a, &e);
	uint64_t t1 = fc_now_ns();
	s->sync_fd = ct.sync_fd; /* -1 after a successful start */
	if (r < 0) {
		fc_log(FC_LOG_WARN, "function `%s`: hand-over of `%s` failed: %s", f->spec.name,
		       s->id, e ? e->msg : "?");
		fc_error_free(e);
		f->handover_failures++;
		sandbox_kill(s);
		return r;
	}
	f->n_waiting--;
	f->n_running++;
	s->state = SB_RUNNING;
	s->t_state = t1;
	s->client = c;
	c->sb = s;
	c->state = C_RUNNING;
	c->t_started = t1;
	if (f->spec.timeout_ms)
		c->deadline = t1 + f->spec.timeout_ms * 1000000ULL;
	f->handovers++;
	f->last_used = t1;
	/* the sandbox's clock is ours unless it has a time namespace with an
	 * offset: then the reading falls outside [t0, t1] and is not used */
	uint64_t exec = ct.exec_ns >= t0 && ct.exec_ns <= t1 ? ct.exec_ns - t0 : 0;
	record_latency(f, t1 - t0, exec);
	conn_close_fds(c);
	if (http) {
		c->handover_ns = t1 - t0;
		return 0; /* http_assign() answers once the instance accepts */
	}
	char buf[512];
	snprintf(buf, sizeof(buf),
	         "{\"ok\":true,\"event\":\"started\",\"id\":\"%s\",\"handover_us\":%.1f,\"exec_"
	         "us\":%.1f,\"wait_us\":%.1f,\"on_demand\":%s}",
	         s->id, (double)(t1 - t0) / 1e3, (double)exec / 1e3, (double)(t0 - c->t0) / 1e3,
	         c->on_demand ? "true" : "false");
	conn_reply(c, buf);
	return 0;
}

/* Give waiting sandboxes to queued invocations. */
void dispatch(struct function *f)
{
	while (f->queue) {
		bool http = f->spec.mode == FCPOOL_HTTP;
		struct sandbox *s = http ? http_idle_instance(f) : NULL;
		if (s) {
			struct conn *c = f->queue;
			queue_remove(f, c);
			c->state = C_IDLE;
			http_assign(c, s);
			continue;
		}
		s = take_waiting(f);
		if (!s)
			break;
		struct conn *c = f->queue;
		queue_remove(f, c);
		c->state = C_IDLE;
		int r = handover(f, s, c);
		if (r >= 0 && http) {
			http_assign(c, s);
			continue;
		}
		if (r < 0) {
			if (++c->tries >= 3) {
				conn_error(c, EIO, "function `%s`: hand-over failed %d times",
				           f->spec.name, c->tries);
				conn_finish(c);
			} else {
				queue_push(f, c, true);
			}
		}
	}
	pool_fill(f);
}

void fn_free(struct function *f)
{
	for (struct function **p = &D->fns; *p; p = &(*p)->next)
		if (*p == f) {
			*p = f->next;
			break;
		}
	fcpool_fn_spec_clear(&f->spec);
	free(f);
}

static void fn_maybe_gone(struct function *f)
{
	if (f->removing && !f->sandboxes) {
		_cleanup_free_ char *dir = fc_asprintf("%s/functions/%s", D->root, f->spec.name);
		struct fc_error *e = NULL;
		fc_rm_rf_at(AT_FDCWD, dir, &e);
		fc_error_free(e);
		fn_free(f);
	}
}

/* ---- fork server messages -------------------------------------------------- */

static void on_fs_message(struct fserver *fs)
{
	struct fs_msg m;
	int fd = -1;
	ssize_t n = fs_recv(fs->fd, &m, &fd);
	if (n <= 0) {
		fc_log(FC_LOG_ERROR, "the fork server is gone; stopping");
		D->stop = true;
		return;
	}
	struct sandbox *s = sandbox_find(m.id);
	if (!s) {
		if (fd >= 0)
			close(fd);
		return;
	}
	struct function *f = s->fn;
	if (m.type == FS_CREATED || m.type == FS_FAILED) {
		if (fs->inflight)
			fs->inflight--;
		fs_pump();
	}
	switch (m.type) {
	case FS_CREATED:
		f->n_creating--;
		f->n_waiting++;
		s->state = SB_WAITING;
		s->pid = m.pid;
		s->sync_fd = fd;
		s->t_state = fc_now_ns();
		f->create_ns_sum += m.ns;
		f->lat_create[f->n_create++ % FN_LAT_RING] = m.ns;
		f->retry_after = 0;
		if (f->removing || s->killed) {
			sandbox_kill(s);
			break;
		}
		dispatch(f);
		break;
	case FS_FAILED:
		if (fd >= 0)
			close(fd);
		f->create_failures++;
		fc_log(FC_LOG_ERROR, "function `%s`: create sandbox: %s", f->spec.name, m.text);
		sandbox_unlink(s);
		f->retry_after = fc_now_ns() + 1000000000ULL;
		if (f->queue) {
			struct conn *c = f->queue;
			queue_remove(f, c);
			conn_error(c, m.err ? m.err : EIO, "function `%s`: create sandbox: %s",
			           f->spec.name, m.text);
			conn_finish(c);
		}
		if (f->removing)
			fn_maybe_gone(f);
		else
			pool_fill(f);
		break;
	case FS_EXITED: {
		struct conn *c = s->client;
		if (c && f->spec.mode == FCPOOL_CLASSIC) {
			char buf[256];
			int st = m.status;
			if (WIFEXITED(st))
				snprintf(buf, sizeof(buf),
				         "{\"ok\":true,\"event\":\"exit\",\"status\":%d%s}",
				         WEXITSTATUS(st), c->timed_out ? ",\"timeout\":true" : "");
			else
				snprintf(buf, sizeof(buf),
				         "{\"ok\":true,\"event\":\"exit\",\"status\":%d,\"signal\":"
				         "%d%s}",
				         128 + WTERMSIG(st), WTERMSIG(st),
				         c->timed_out ? ",\"timeout\":true" : "");
			conn_reply(c, buf);
			conn_finish(c);
		} else if (c) {
			http_on_exit(c);
		}
		if (s->state == SB_WAITING && !s->killed)
			fc_log(FC_LOG_WARN,
			       "function `%s`: waiting sandbox `%s` died (status 0x%x)",
			       f->spec.name, s->id, m.status);
		sandbox_unlink(s);
		if (f->removing) {
			fn_maybe_gone(f);
		} else {
			dispatch(f);
		}
		break;
	}
	default:
		if (fd >= 0)
			close(fd);
		break;
	}
}

/* Drop killed sandboxes that never reached the fork server; free removed
 * functions whose sandboxes are all gone. */
static void sweep(void)
{
	for (struct function *f = D->fns, *fnext; f; f = fnext) {
		fnext = f->next;
		for (struct sandbox *s = f->sandboxes, *snext; s; s = snext) {
			snext = s->next;
			if (s->state == SB_CREATING && !s->sent && s->killed)
				sandbox_unlink(s);
		}
		fn_maybe_gone(f);
	}
}

/* ---- timer: timeouts, idle reaping, queue waits ----------------------------- */

static void on_timer(void)
{
	uint64_t now = fc_now_ns();
	for (struct conn *c = D->conns; c; c = c->next) {
		if (c->dead)
			continue;
		if (c->state == C_RUNNING && c->deadline && now > c->deadline && c->sb &&
		    !c->timed_out) {
			c->timed_out = true;
			sandbox_kill(c->sb);
		}
		if (c->state == C_QUEUED && now - c->t0 > D->queue_wait_ns) {
			conn_error(
			    c, EBUSY, "function `%s` is busy: no sandbox within %.0f s (max %u)",
			    c->fn->spec.name, (double)D->queue_wait_ns / 1e9, c->fn->spec.max);
			c->fn->busy++;
			conn_finish(c);
		}
	}
	for (struct function *f = D->fns; f; f = f->next) {
		unsigned extra = f->n_waiting > f->spec.min ? f->n_waiting - f->spec.min : 0;
		for (struct sandbox *s = f->sandboxes; s && extra; s = s->next)
			if (s->state == SB_WAITING && !s->killed && now - s->t_state > D->idle_ns) {
				sandbox_kill(s);
				f->reaped++;
				extra--;
			}
		http_reap_idle(f, now);
		pool_fill(f);
	}
}

/* ---- the loop --------------------------------------------------------------- */

static int listen_socket(const char *path, struct fc_error **err)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(a.sun_path))
		return fc_error_set(err, ENAMETOOLONG, "socket `%s`", path);
	strcpy(a.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return fc_error_set(err, errno, "socket");
	unlink(path);
	mode_t old = umask(0177);
	int r = bind(fd, (struct sockaddr *)&a, sizeof(a));
	umask(old);
	if (r < 0 || chmod(path, 0600) < 0 || listen(fd, 128) < 0) {
		int e = errno;
		close(fd);
		return fc_error_set(err, e, "listen on `%s`", path);
	}
	return fd;
}

static void load_functions(void)
{
	_cleanup_free_ char *dir = fc_asprintf("%s/functions", D->root);
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		_cleanup_free_ char *p = fc_asprintf("%s/%s/function.json", dir, de->d_name);
		_cleanup_free_ char *json = NULL;
		struct fc_error *e = NULL;
		struct fcpool_fn_spec spec;
		if (fc_read_file_at(AT_FDCWD, p, &json, NULL, 0, &e) < 0 ||
		    fcpool_fn_spec_parse(json, &spec, &e) < 0 || fn_deploy(&spec, &e) < 0) {
			fc_log(FC_LOG_ERROR, "reload function `%s`: %s", de->d_name,
			       e ? e->msg : "?");
		} else {
			fc_log(FC_LOG_INFO, "function `%s` reloaded", de->d_name);
		}
		fc_error_free(e);
	}
	closedir(d);
}

int fcpool_serve(const struct fcpool_serve_opts *o, struct fc_error **err)
{
	struct daemon d = {.self_netns = -1, .listen_fd = -1};
	D = &d;
	const char *root = o->root ? o->root : FCPOOL_DEFAULT_ROOT;
	d.idle_ns = (uint64_t)(o->idle_timeout_s ? o->idle_timeout_s : 300) * 1000000000ULL;
	d.queue_max = o->queue_max ? o->queue_max : 64;
	d.queue_wait_ns = 30ULL * 1000000000ULL;
	int r = fc_mkdir_p_at(AT_FDCWD, root, 0700, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *lockp = fc_asprintf("%s/lock", root);
	_cleanup_close_ int lock = open(lockp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lock < 0)
		return fc_error_set(err, errno, "open `%s`", lockp);
	if (flock(lock, LOCK_EX | LOCK_NB) < 0)
		return fc_error_set(err, errno == EWOULDBLOCK ? EBUSY : errno,
		                    "another fcstart daemon runs on root `%s`", root);
	_cleanup_free_ char *real = realpath(root, NULL);
	if (!real)
		return fc_error_set(err, errno, "root `%s`", root);
	d.root = real;
	d.rt_root = fc_asprintf("%s/runtime", d.root);
	d.prefix = sandbox_prefix(d.root);
	unsigned removed = 0;
	r = fcpool_recover(d.root, &removed, err);
	if (r < 0)
		return r;
	if (removed)
		fc_log(FC_LOG_INFO, "removed %u sandboxes of a previous run under `%s`", removed,
		       d.root);
	_cleanup_free_ char *sbd = fc_asprintf("%s/sandboxes", d.root);
	_cleanup_free_ char *fnd = fc_asprintf("%s/functions", d.root);
	if (fc_mkdir_p_at(AT_FDCWD, sbd, 0700, err) < 0 ||
	    fc_mkdir_p_at(AT_FDCWD, fnd, 0700, err) < 0 ||
	    fc_mkdir_p_at(AT_FDCWD, d.rt_root, 0700, err) < 0)
		return fc_error_code(*err);

	/* The fork servers first, while this process has nothing else. */
	d.nfs = o->fork_servers ? o->fork_servers : 2;
	if (d.nfs > FS_MAX)
		d.nfs = FS_MAX;
	fflush(NULL);
	for (unsigned i = 0; i < d.nfs; i++) {
		int sp[2];
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
			r = fc_error_set(err, errno, "socketpair");
			d.nfs = i;
			goto out;
		}
		pid_t fs = fork();
		if (fs < 0) {
			r = fc_error_set(err, errno, "fork a fork server");
			close(sp[0]);
			close(sp[1]);
			d.nfs = i;
			goto out;
		}
		if (fs == 0) {
			for (unsigned k = 0; k < i; k++)
				close(d.fs[k].fd);
			close(sp[0]);
			close(lock);
			fs_main(sp[1], d.root);
		}
		close(sp[1]);
		d.fs[i] = (struct fserver){.fd = sp[0], .pid = fs};
	}

	r = fcsnap_store_open(o->store, &d.store, err);
	if (r < 0)
		goto out;
	d.sock_path = o->socket ? fc_strdup(o->socket) : fc_asprintf("%s/fcstart.sock", d.root);
	r = d.listen_fd = listen_socket(d.sock_path, err);
	if (r < 0)
		goto out;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	signal(SIGPIPE, SIG_IGN);
	d.self_netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	load_functions();
	if (o->http && http_gateway_start(o, err) < 0) {
		r = fc_error_code(*err);
		goto out;
	}
	fc_log(FC_LOG_INFO, "serving on `%s` (root `%s`, store `%s`)", d.sock_path, d.root,
	       fcsnap_store_path(d.store));
	uint64_t next_tick = fc_now_ns();
	struct pollfd *pfd = NULL;
	struct conn **pconn = NULL;
	size_t cap = 0;
	while (!d.stop) {
		size_t n = 0, nc = 0;
		for (struct conn *c = d.conns; c; c = c->next)
			nc++;
		if (2 * nc + 8 + FS_MAX + 64 > cap) {
			cap = (2 * nc + 8 + FS_MAX + 64) * 2;
			pfd = fc_realloc(pfd, cap * sizeof(*pfd));
			pconn = fc_realloc(pconn, cap * sizeof(*pconn));
		}
		pfd[n++] = (struct pollfd){.fd = d.listen_fd, .events = POLLIN};
		pfd[n++] = (struct pollfd){.fd = sfd, .events = POLLIN};
		for (unsigned i = 0; i < d.nfs; i++)
			pfd[n++] = (struct pollfd){
			    .fd = d.fs[i].fd, .events = POLLIN | (d.fs[i].outbox ? POLLOUT : 0)};
		size_t first = n;
		for (struct conn *c = d.conns; c; c = c->next) {
			pconn[n] = c;
			pfd[n++] = (struct pollfd){.fd = c->fd, .events = POLLIN};
		}
		size_t first_tcp = n;
		for (struct conn *c = d.conns; c; c = c->next) {
			if (c->tcp_fd < 0 || n >= cap)
				continue;
			pconn[n] = c;
			pfd[n++] = (struct pollfd){.fd = c->tcp_fd, .events = POLLOUT};
		}
		int timeout = http_tick(fc_now_ns());
		size_t first_gw = n;
		size_t ngw = gw_poll_prepare(pfd + n, cap - n, &timeout);
		n += ngw;
		r = poll(pfd, n, timeout);
		if (r < 0 && errno != EINTR) {
			r = fc_error_set(err, errno, "poll");
			break;
		}
		r = 0;
		if (pfd[1].revents & POLLIN) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
					d.stop = true;
				for (unsigned i = 0; si.ssi_signo == SIGCHLD && i < d.nfs; i++)
					if (d.fs[i].pid > 0 &&
					    waitpid(d.fs[i].pid, NULL, WNOHANG) == d.fs[i].pid) {
						fc_log(FC_LOG_ERROR,
						       "fork server %d exited; stopping",
						       (int)d.fs[i].pid);
						d.fs[i].pid = -1;
						d.stop = true;
					}
			}
		}
		for (unsigned i = 0; i < d.nfs; i++) {
			if (pfd[2 + i].revents & POLLOUT)
				fs_flush(&d.fs[i]);
			if (pfd[2 + i].revents & (POLLIN | POLLHUP | POLLERR))
				on_fs_message(&d.fs[i]);
		}
		if (pfd[0].revents & POLLIN)
			api_accept();
		for (size_t i = first; i < first_tcp; i++)
			if (pfd[i].revents && !pconn[i]->dead)
				api_on_readable(pconn[i]);
		for (size_t i = first_tcp; i < first_gw; i++)
			if (pfd[i].revents && !pconn[i]->dead && pconn[i]->tcp_fd == pfd[i].fd)
				http_on_writable(pconn[i]);
		if (ngw)
			gw_poll_done(pfd + first_gw, ngw);
		if (fc_now_ns() >= next_tick) {
			on_timer();
			next_tick = fc_now_ns() + 200000000ULL;
		}
		sweep();
		fs_pump();
		for (struct conn **p = &d.conns; *p;) {
			struct conn *c = *p;
			if (c->dead) {
				*p = c->next;
				if (c->tcp_fd >= 0)
					close(c->tcp_fd);
				fc_strv_free(c->env);
				free(c->body);
				free(c);
			} else {
				p = &c->next;
			}
		}
	}
	free(pfd);
	free(pconn);
	if (sfd >= 0)
		close(sfd);
	fc_log(FC_LOG_INFO, "stopping: removing every sandbox");
out:
	http_gateway_stop();
	for (struct conn *c = d.conns; c; c = c->next)
		if (!c->dead)
			conn_finish(c);
	for (struct function *f = d.fns; f; f = f->next)
		for (struct sandbox *s = f->sandboxes; s; s = s->next)
			if (s->sync_fd >= 0) {
				close(s->sync_fd);
				s->sync_fd = -1;
			}
	/* closing its socket makes a fork server kill and remove every sandbox */
	for (unsigned i = 0; i < d.nfs; i++) {
		while (d.fs[i].outbox) {
			struct fs_out *ob = d.fs[i].outbox;
			d.fs[i].outbox = ob->next;
			free(ob);
		}
		close(d.fs[i].fd);
	}
	for (unsigned i = 0; i < d.nfs; i++)
		if (d.fs[i].pid > 0)
			while (waitpid(d.fs[i].pid, NULL, 0) < 0 && errno == EINTR)
				;
	while (d.fns) {
		struct function *f = d.fns;
		while (f->sandboxes) {
			struct sandbox *s = f->sandboxes;
			f->sandboxes = s->next;
			if (s->http_fd >= 0)
				close(s->http_fd);
			free(s);
		}
		fn_free(f);
	}
	while (d.conns) {
		struct conn *c = d.conns;
		d.conns = c->next;
		fc_strv_free(c->env);
		free(c->body);
		free(c);
	}
	if (d.listen_fd >= 0) {
		close(d.listen_fd);
		unlink(d.sock_path);
	}
	{
		struct fc_error *e = NULL;
		fcpool_recover(d.root, NULL, &e); /* anything the fork server could not remove */
		fc_error_free(e);
	}
	fcsnap_store_free(d.store);
	if (d.self_netns >= 0)
		close(d.self_netns);
	free(d.sock_path);
	free(d.rt_root);
	free(d.prefix);
	D = NULL;
	return r;
}

/* An invocation wants a sandbox: queue it (bounded), then dispatch. */
void queue_invocation(struct function *f, struct conn *c)
{
	if (f->n_waiting == 0 && (f->spec.mode == FCPOOL_CLASSIC || !http_idle_instance(f))) {
		c->on_demand = true;
		unsigned qmax = f->spec.queue ? f->spec.queue : D->queue_max;
		if (f->n_queued >= qmax) {
			f->busy++;
			conn_error(c, EBUSY,
			           "function `%s` is busy: %u running, %u waiting to start (max "
			           "%u, queue %u)",
			           f->spec.name, f->n_running, f->n_queued, f->spec.max, qmax);
			conn_finish(c);
			return;
		}
		f->on_demand++;
	}
	queue_push(f, c, false);
	dispatch(f);
}

int fn_deploy(struct fcpool_fn_spec *spec, struct fc_error **err)
{
	struct function *f = fn_find(spec->name);
	if (f && f->removing)
		return fc_error_set(err, EBUSY, "function `%s` is being removed; try again",
		                    spec->name);
	int r = fn_prepare(D->store, D->root, spec, err);
	if (r < 0)
		return r;
	if (f) {
		/* waiting sandboxes were made from the old config */
		for (struct sandbox *s = f->sandboxes; s; s = s->next)
			if (s->state != SB_RUNNING)
				sandbox_kill(s);
		fcpool_fn_spec_clear(&f->spec);
	} else {
		f = fc_calloc(1, sizeof(*f));
		f->next = D->fns;
		D->fns = f;
	}
	f->spec = *spec;
	memset(spec, 0, sizeof(*spec));
	pool_fill(f);
	return 0;
}

void fn_remove(struct function *f)
{
	f->removing = true;
	while (f->queue) {
		struct conn *q = f->queue;
		queue_remove(f, q);
		conn_error(q, ENOENT, "function `%s` was removed", f->spec.name);
		conn_finish(q);
	}
	for (struct sandbox *s = f->sandboxes; s; s = s->next)
		sandbox_kill(s);
	/* freed by sweep() once its sandboxes are gone */
}

int fn_scale(struct function *f, double mn, double mx, struct fc_error **err)
{
	if (mn < 0 || mx < 1 || mn > mx || mx > 10000)
		return fc_error_set(
		    err, EINVAL,
		    "function `%s`: scale min %g max %g: need 0 <= min <= max, 1 <= max <= 10000",
		    f->spec.name, mn, mx);
	f->spec.min = (unsigned)mn;
	f->spec.max = (unsigned)mx;
	/* above the new max: waiting sandboxes go now (running ones finish) */
	unsigned live = 0;
	for (struct sandbox *s = f->sandboxes; s; s = s->next)
		if (!s->killed)
			live++;
	for (struct sandbox *s = f->sandboxes; s && live > f->spec.max; s = s->next)
		if (s->state == SB_WAITING && !s->killed) {
			sandbox_kill(s);
			f->reaped++;
			live--;
		}
	struct fc_buf b = {0};
	fcpool_fn_spec_json(&f->spec, &b);
	_cleanup_free_ char *p =
	    fc_asprintf("%s/functions/%s/function.json", D->root, f->spec.name);
	fc_write_file_atomic_at(AT_FDCWD, p, b.data, b.len, 0600, NULL);
	free(b.data);
	pool_fill(f);
	return 0;
}
