/* SPDX-License-Identifier: MIT */
/* bench-exec.c: one timed run of a program, the way every harness of `fcstart
 * bench` times "one run of X" (a runtime's run, create, start or delete; `ctr
 * run`; `docker run`; a tool such as mkfs): X in its own process group with
 * the stdio asked for, killed with its group at a deadline, the time from fork
 * to its exit, its peak RSS, and when asked the time to the first byte of an
 * output read while it runs. Also the reader that times the first byte of an
 * invocation's response (the pool paths); finding the programs to run
 * (PATH, the fcrun to measure); daemons started in the background; and the
 * frame of a harness run (its stop signals, reaping orphans). */
#include "bench.h"
#include "fcrt.h"

#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

/* ---- reading an output ------------------------------------------------------ */

void bench_output_reset(struct bench_output *o)
{
	o->first_ms = -1;
	o->len = 0;
	o->total = 0;
	o->eof = false;
	o->buf[0] = 0;
}

/* Read what fd has now: 1 when the output is done (EOF, an error, or want
 * bytes came), 0 when more may come. */
static int output_take(struct bench_output *o, int fd, uint64_t t0, size_t want)
{
	char tmp[4096];
	ssize_t n = read(fd, tmp, sizeof(tmp));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0) {
		o->eof = true;
		return 1;
	}
	if (o->first_ms < 0)
		o->first_ms = bench_ms_since(t0);
	size_t keep = sizeof(o->buf) - 1 - o->len;
	if (keep > (size_t)n)
		keep = (size_t)n;
	memcpy(o->buf + o->len, tmp, keep);
	o->len += keep;
	o->buf[o->len] = 0;
	o->total += (size_t)n;
	return want && o->total >= want ? 1 : 0;
}

int bench_read_output(int fd, uint64_t t0, int timeout_ms, size_t want, struct bench_output *o)
{
	bench_output_reset(o);
	for (;;) {
		int left = timeout_ms - (int)bench_ms_since(t0);
		if (left <= 0)
			return -ETIMEDOUT;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int r = poll(&p, 1, left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r > 0 && output_take(o, fd, t0, want))
			return 0;
	}
}

/* ---- one run of a program ---------------------------------------------------- */

static int pidfd_open_(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static int input_memfd(const char *data)
{
	int fd = memfd_create("fcstart-bench-in", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fc_write_all(fd, data, strlen(data)) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

static void kill_group(pid_t pid)
{
	kill(-pid, SIGKILL); /* its process group: X and its helpers */
	kill(pid, SIGKILL);
}

int bench_exec(struct bench_exec *x)
{
	_cleanup_close_ int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
	_cleanup_close_ int in_mem = -1, err_mem = -1, pipe_rd = -1, pidfd = -1;
	int pipe_wr = -1;

	x->status = -1;
	x->timed_out = false;
	x->ms = -1;
	x->maxrss_kib = 0;
	x->errtext[0] = 0;
	bench_output_reset(&x->output);
	if (nul < 0)
		return -errno;
	if (x->input && (in_mem = input_memfd(x->input)) < 0)
		return in_mem;
	if (x->err == BENCH_EXEC_CAPTURE &&
	    (err_mem = memfd_create("fcstart-bench-err", MFD_CLOEXEC)) < 0)
		return -errno;
	if (x->out == BENCH_EXEC_PIPE) {
		int p[2];
		if (pipe2(p, O_CLOEXEC) < 0)
			return -errno;
		pipe_rd = p[0];
		pipe_wr = p[1];
	}
	int in = in_mem >= 0 ? in_mem : x->in >= 0 ? x->in : nul;
	int out = pipe_wr >= 0 ? pipe_wr : x->out >= 0 ? x->out : nul;
	int errfd = err_mem >= 0 ? err_mem : x->err >= 0 ? x->err : nul;
	int watch = pipe_rd >= 0 ? pipe_rd : x->watch;

	uint64_t t0 = fc_now_ns();
	pid_t pid = fork();
	if (pid < 0) {
		int r = -errno;
		if (pipe_wr >= 0)
			close(pipe_wr);
		return r;
	}
	if (pid == 0) {
		setpgid(0, 0); /* a ^C reaches only fcstart, which stops X and cleans up */
		dup2(in, 0);
		dup2(out, 1);
		dup2(errfd, 2);
		execvp(x->argv[0], x->argv);
		dprintf(2, "exec `%s`: %s\n", x->argv[0], strerror(errno));
		_exit(127);
	}
	if (pipe_wr >= 0)
		close(pipe_wr);
	pidfd = pidfd_open_(pid);
	if (pidfd < 0) {
		int r = -errno;
		kill_group(pid);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		return r;
	}

	/* until X exited and the watched output is done; a failed X has no
	 * output left to wait for */
	bool exited = false, killed = false;
	bool out_done = watch < 0, watching = !out_done; /* done; still waited for */
	int st = 0;
	struct rusage ru = {0};
	while (!exited || watching) {
		double elapsed = bench_ms_since(t0);
		bool stop = x->stop && *x->stop;
		if (stop || (x->timeout_s > 0 && elapsed >= x->timeout_s * 1000)) {
			x->timed_out = !stop;
			if (!exited) { /* never once reaped: the pid could be another's */
				kill_group(pid);
				killed = true;
			}
			break; /* reaped below */
		}
		struct pollfd pf[2] = {{.fd = exited ? -1 : pidfd, .events = POLLIN},
		                       {.fd = watching ? watch : -1, .events = POLLIN}};
		int left = x->timeout_s > 0 ? (int)(x->timeout_s * 1000 - elapsed) + 1 : -1;
		if (x->stop && (left < 0 || left > 100))
			left = 100; /* look at *stop now and then */
		int r = poll(pf, 2, left);
		if (r < 0 && errno != EINTR)
			break;
		if (r <= 0)
			continue;
		if (pf[1].revents && output_take(&x->output, watch, t0, x->want)) {
			out_done = true;
			watching = false;
			if (x->on_output && !exited)
				x->on_output(x, x->data);
		}
		if (pf[0].revents) {
			while (wait4(pid, &st, 0, &ru) < 0 && errno == EINTR)
				;
			x->ms = bench_ms_since(t0);
			exited = true;
			if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0))
				watching = false;
		}
	}
	if (!exited) {
		while (wait4(pid, &st, 0, &ru) < 0)
			if (errno != EINTR)
				return -errno;
		x->ms = bench_ms_since(t0);
	}
	/* not waited for any longer, but what is already there is kept (a failed
	 * X's last words may be on its stdout) */
	for (struct pollfd pf = {.fd = watch, .events = POLLIN}; !out_done && poll(&pf, 1, 0) > 0;)
		out_done = output_take(&x->output, watch, t0, x->want);
	x->maxrss_kib = ru.ru_maxrss;
	x->status = killed ? 128 + SIGKILL : WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	if (err_mem >= 0) {
		ssize_t n = pread(err_mem, x->errtext, sizeof(x->errtext) - 1, 0);
		n = n < 0 ? 0 : n;
		x->errtext[n] = 0;
		while (n > 0 && (x->errtext[n - 1] == '\n' || x->errtext[n - 1] == ' ' ||
		                 x->errtext[n - 1] == '\r'))
			x->errtext[--n] = 0;
	}
	return 0;
}

int bench_exec_error(const struct bench_exec *x, struct fc_error **err, const char *what)
{
	const char *sep = x->errtext[0] ? ": " : "";
	if (x->timed_out && x->status == 128 + SIGKILL)
		return fc_error_relay(err, ETIMEDOUT, "%s: timed out after %g s%s%s", what,
		                      x->timeout_s, sep, x->errtext);
	return fc_error_relay(err, x->status == 127 ? ENOENT : EIO, "%s: exit status %d%s%s", what,
	                      x->status, sep, x->errtext);
}

int bench_exec_quiet(char *const argv[], double timeout_s, struct fc_error **err)
{
	struct bench_exec x = BENCH_EXEC_INIT(argv);
	x.timeout_s = timeout_s;
	int r = bench_exec(&x);
	if (r < 0)
		return fc_error_set(err, -r, "run `%s`", argv[0]);
	if (x.status != 0)
		return bench_exec_error(&x, err, argv[0]);
	return 0;
}

char *bench_program_version(const char *path)
{
	char *argv[] = {(char *)path, "--version", NULL};
	struct bench_exec x = BENCH_EXEC_INIT(argv);
	x.out = BENCH_EXEC_PIPE;
	x.timeout_s = 10;
	if (bench_exec(&x) < 0 || x.status != 0)
		return NULL;
	x.output.buf[strcspn(x.output.buf, "\n")] = 0;
	return x.output.buf[0] ? fc_strdup(x.output.buf) : NULL;
}

/* ---- programs to run, daemons, waiting ------------------------------------------ */

char *bench_find_in_path(const char *name)
{
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	_cleanup_free_ char *dup = fc_strdup(path);
	char *save = NULL;
	for (char *d = strtok_r(dup, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		char *p = fc_asprintf("%s/%s", d, name);
		if (access(p, X_OK) == 0)
			return p;
		free(p);
	}
	return NULL;
}

#ifndef FC_FLOOR_REL
#define FC_FLOOR_REL "" /* built outside bench/meson.build (unit tests) */
#endif

char *bench_self_exe(void)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0) {
		if (n == 0)
			errno = ENOENT;
		return NULL;
	}
	self[n] = 0;
	return fc_strdup(self);
}

char *bench_default_floor(void)
{
	const char *env = getenv("FCSTART_FLOOR");
	if (env && *env) {
		char *abs = realpath(env, NULL);
		return abs ? abs : fc_strdup(env);
	}
	_cleanup_free_ char *self = bench_self_exe();
	if (!self)
		return NULL;
	const char *rel[] = {"fcstart-floor", FC_FLOOR_REL};
	const char *dir = dirname(self);
	for (size_t i = 0; i < FC_ARRAY_SIZE(rel); i++) {
		if (!*rel[i])
			continue;
		_cleanup_free_ char *p = fc_asprintf("%s/%s", dir, rel[i]);
		char *abs = realpath(p, NULL);
		if (abs && access(abs, X_OK) == 0)
			return abs;
		free(abs);
	}
	return NULL;
}

char *bench_default_fcrun(void)
{
	const char *env = getenv("FCRUN");
	if (env && *env) {
		char *abs = realpath(env, NULL);
		return abs ? abs : fc_strdup(env);
	}
	_cleanup_free_ char *self = bench_self_exe();
	if (self) {
		/* installed: fcrun next to fcstart; in a build dir: ../runtime/fcrun */
		const char *rel[] = {"fcrun", "../runtime/fcrun"};
		const char *dir = dirname(self);
		for (size_t i = 0; i < FC_ARRAY_SIZE(rel); i++) {
			_cleanup_free_ char *p = fc_asprintf("%s/%s", dir, rel[i]);
			char *abs = realpath(p, NULL);
			if (abs && access(abs, X_OK) == 0)
				return abs;
			free(abs);
		}
	}
	return bench_find_in_path("fcrun");
}

pid_t bench_spawn_daemon(char *const argv[], const char *log)
{
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		setpgid(0, 0); /* a ^C reaches only fcstart, which stops it */
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (nul >= 0)
			dup2(nul, 0);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

bool bench_stop_pid(pid_t *pid, int sig, int secs)
{
	bool killed = false;
	if (*pid <= 0)
		return false;
	kill(*pid, sig);
	uint64_t t0 = fc_now_ns();
	pid_t w;
	while ((w = waitpid(*pid, NULL, WNOHANG)) == 0 || (w < 0 && errno == EINTR)) {
		if (bench_ms_since(t0) > secs * 1000.0) {
			kill(*pid, SIGKILL);
			while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR)
				;
			killed = true;
			break;
		}
		bench_sleep_ms(10, NULL);
	}
	*pid = 0;
	return killed;
}

char *bench_file_tail(const char *path, size_t max)
{
	_cleanup_free_ char *s = NULL;
	size_t len = 0;
	if (!path || fc_read_file_at(AT_FDCWD, path, &s, &len, 0, NULL) < 0 || !len)
		return fc_strdup("");
	while (len && (s[len - 1] == '\n' || s[len - 1] == ' '))
		s[--len] = 0;
	return fc_strdup(len > max ? s + len - max : s);
}

void bench_sleep_ms(int ms, volatile sig_atomic_t *stop)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while ((!stop || !*stop) && nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ---- the frame of a harness run --------------------------------------------------- */

volatile sig_atomic_t bench_stop;

static void on_stop_signal(int sig)
{
	bench_stop = sig;
}

static const int stop_signals[3] = {SIGINT, SIGTERM, SIGHUP};

/* fcrun keeps its parent cgroups (/fcrun), as runc does; a run that made
 * /fcrun removes it at its end (when empty: fcrun's parent, not a cgroup). */
static bool fcrun_parent_exists(void)
{
	static const char *const dirs[] = {"/sys/fs/cgroup/pids/fcrun",
	                                   "/sys/fs/cgroup/memory/fcrun",
	                                   "/sys/fs/cgroup/unified/fcrun", "/sys/fs/cgroup/fcrun"};
	for (size_t i = 0; i < FC_ARRAY_SIZE(dirs); i++)
		if (access(dirs[i], F_OK) == 0)
			return true;
	return false;
}

static void fcrun_parent_remove(void)
{
	if (geteuid() != 0)
		return;
	for (int i = 0; i < 50; i++) { /* EBUSY: a create is under way, 1 s at most */
		_cleanup_error_ struct fc_error *e = NULL;
		if (fcrt_cgroup_remove_parents("/fcrun", &e) == 0 || fc_error_code(e) != EBUSY)
			return;
		bench_sleep_ms(20, NULL);
	}
}

void bench_session_begin(struct bench_session *s, bool subreaper)
{
	struct sigaction sa = {.sa_handler = on_stop_signal};
	sigemptyset(&sa.sa_mask);
	bench_stop = 0;
	s->had_parent = fcrun_parent_exists();
	for (int i = 0; i < 3; i++)
		sigaction(stop_signals[i], &sa, &s->old[i]);
	s->subreaper = subreaper;
	if (subreaper)
		prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
}

int bench_session_end(struct bench_session *s, const char *name, int rounds_done, int ret)
{
	if (s->subreaper)
		prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
	if (!s->had_parent)
		fcrun_parent_remove();
	for (int i = 0; i < 3; i++)
		sigaction(stop_signals[i], &s->old[i], NULL);
	if (!bench_stop || !name)
		return ret;
	fc_log(FC_LOG_ERROR, "bench %s: interrupted by %s after %d round(s); cleaned up", name,
	       fc_signal_name(bench_stop) ? fc_signal_name(bench_stop) : "a signal", rounds_done);
	return 128 + bench_stop;
}
