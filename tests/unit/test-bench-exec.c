/* SPDX-License-Identifier: MIT */
/* test-bench-exec.c: the benchmarks' "one timed run of X" (bench_exec): exit
 * status, stderr, stdin bytes, the first byte of a piped or a watched output,
 * the deadline (X's whole process group is killed), a failed X not waited
 * for, the hook once enough output came, a missing program; and the output
 * reader of the pool paths (bench_read_output). */
#include "bench.h"
#include "tap.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

/* Gone or a zombie (killed, not yet reaped by its new parent). */
static bool dead(pid_t pid)
{
	for (int i = 0; i < 200; i++) {
		char path[64], st = 0;
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		FILE *f = fopen(path, "re");
		if (!f)
			return true;
		int n = fscanf(f, "%*d (%*[^)]) %c", &st);
		fclose(f);
		if (n == 1 && (st == 'Z' || st == 'X'))
			return true;
		bench_sleep_ms(10, NULL);
	}
	return false;
}

static void close_fd(struct bench_exec *x, void *data)
{
	(void)x;
	int *fd = data;
	close(*fd);
	*fd = -1;
}

int main(void)
{
	/* status, stdout through a pipe, stderr */
	char *sh1[] = {"/bin/sh", "-c", "echo out; echo err >&2; exit 3", NULL};
	struct bench_exec x = BENCH_EXEC_INIT(sh1);
	x.out = BENCH_EXEC_PIPE;
	x.timeout_s = 10;
	ok(bench_exec(&x) == 0, "sh ran");
	ok(x.status == 3, "exit status 3 (%d)", x.status);
	ok(FC_STREQ(x.output.buf, "out\n") && x.output.eof, "stdout read to its end");
	ok(FC_STREQ(x.errtext, "err"), "stderr kept, trailing newline dropped (`%s`)", x.errtext);
	ok(x.output.first_ms >= 0 && x.ms >= x.output.first_ms && !x.timed_out,
	   "first byte %.3f ms, exit %.3f ms", x.output.first_ms, x.ms);
	struct fc_error *e = NULL;
	ok(bench_exec_error(&x, &e, "run") < 0 && FC_STREQ(e->msg, "run: exit status 3: err"),
	   "error names what, the status and stderr (`%s`)", e ? e->msg : "");
	fc_error_free(TAKE_PTR(e));

	/* bytes on stdin */
	char *cat[] = {"cat", NULL};
	x = (struct bench_exec)BENCH_EXEC_INIT(cat);
	x.input = "request-1\n";
	x.out = BENCH_EXEC_PIPE;
	x.timeout_s = 10;
	ok(bench_exec(&x) == 0 && x.status == 0 && FC_STREQ(x.output.buf, "request-1\n"),
	   "cat (found in PATH) echoes its stdin");
	ok(x.maxrss_kib > 0, "peak RSS %ld KiB", x.maxrss_kib);

	/* the deadline kills X's process group */
	char *sh2[] = {"/bin/sh", "-c", "sleep 30 & echo $!; sleep 30", NULL};
	x = (struct bench_exec)BENCH_EXEC_INIT(sh2);
	x.out = BENCH_EXEC_PIPE;
	x.timeout_s = 0.3;
	uint64_t t0 = fc_now_ns();
	ok(bench_exec(&x) == 0, "sh ran");
	double took = bench_ms_since(t0);
	ok(x.timed_out && x.status == 128 + SIGKILL, "timed out, killed (status %d)", x.status);
	ok(took >= 290 && took < 20000, "returned at the deadline, not after sleep 30 (%.0f ms)",
	   took);
	pid_t bg = (pid_t)atoi(x.output.buf);
	ok(bg > 0 && dead(bg), "its background child %d was killed too", (int)bg);
	ok(bench_exec_error(&x, &e, "wait") < 0 && strstr(e->msg, "timed out after"),
	   "error says it timed out (`%s`)", e ? e->msg : "");
	fc_error_free(TAKE_PTR(e));

	/* another output watched while X runs: X exits first, the byte comes later */
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return 1;
	pid_t w = fork();
	if (w == 0) {
		close(p[0]);
		bench_sleep_ms(200, NULL);
		(void)!write(p[1], "late", 4);
		_exit(0);
	}
	close(p[1]);
	char *tr[] = {"/bin/true", NULL};
	x = (struct bench_exec)BENCH_EXEC_INIT(tr);
	x.watch = p[0];
	x.timeout_s = 10;
	ok(bench_exec(&x) == 0 && x.status == 0, "true ran");
	ok(x.output.first_ms >= 190, "first byte after the writer's 200 ms (%.1f ms; exit %.1f ms)",
	   x.output.first_ms, x.ms);
	ok(FC_STREQ(x.output.buf, "late") && x.output.eof, "the watched output read to its end");
	close(p[0]);
	waitpid(w, NULL, 0);

	/* a failed X: its watched output is not waited for */
	if (pipe2(p, O_CLOEXEC) < 0)
		return 1;
	char *fa[] = {"/bin/false", NULL};
	x = (struct bench_exec)BENCH_EXEC_INIT(fa);
	x.watch = p[0];
	x.timeout_s = 10;
	t0 = fc_now_ns();
	ok(bench_exec(&x) == 0 && x.status == 1 && !x.timed_out && bench_ms_since(t0) < 9000,
	   "false: status 1, its output not waited for until the deadline");
	close(p[0]);
	close(p[1]);

	/* want bytes, then the hook (cat never sees EOF until the hook closes its stdin) */
	if (pipe2(p, O_CLOEXEC) < 0)
		return 1;
	(void)!write(p[1], "hello", 5);
	x = (struct bench_exec)BENCH_EXEC_INIT(cat);
	x.in = p[0];
	x.out = BENCH_EXEC_PIPE;
	x.want = 5;
	x.on_output = close_fd;
	x.data = &p[1];
	x.timeout_s = 10;
	ok(bench_exec(&x) == 0 && x.status == 0 && !x.timed_out, "cat ended after the hook");
	ok(p[1] == -1 && FC_STREQ(x.output.buf, "hello"), "the hook ran once 5 bytes came");
	close(p[0]);

	/* a program that is not there */
	char *none[] = {"/nonexistent/prog", NULL};
	x = (struct bench_exec)BENCH_EXEC_INIT(none);
	ok(bench_exec(&x) == 0 && x.status == 127 && strstr(x.errtext, "/nonexistent/prog"),
	   "missing program: status 127, stderr names it (`%s`)", x.errtext);
	char *q[] = {"/bin/sh", "-c", "echo quiet-fail >&2; exit 2", NULL};
	ok(bench_exec_quiet(q, 10, &e) < 0 && strstr(e->msg, "exit status 2: quiet-fail"),
	   "bench_exec_quiet reports status and stderr (`%s`)", e ? e->msg : "");
	fc_error_free(TAKE_PTR(e));
	char *v[] = {"/bin/sh", "-c", "echo 'prog version 1.2'; echo more", NULL};
	ok(bench_exec_quiet(v, 10, NULL) == 0, "bench_exec_quiet: 0 on success");
	char dir[] = "/tmp/test-bench-exec.XXXXXX";
	if (!mkdtemp(dir))
		return 1;
	_cleanup_free_ char *prog = fc_asprintf("%s/prog", dir);
	static const char script[] = "#!/bin/sh\n[ \"$1\" = --version ] || exit 2\n"
	                             "echo 'prog version 1.2'\necho more\n";
	fc_write_file_atomic_at(AT_FDCWD, prog, script, strlen(script), 0755, NULL);
	char *ver = bench_program_version(prog);
	ok(ver && FC_STREQ(ver, "prog version 1.2"), "the first line of --version (`%s`)",
	   ver ? ver : "");
	free(ver);
	fc_rm_rf_at(AT_FDCWD, dir, NULL);

	/* the output reader */
	struct bench_output o;
	if (pipe2(p, O_CLOEXEC) < 0)
		return 1;
	(void)!write(p[1], "abc", 3);
	t0 = fc_now_ns();
	ok(bench_read_output(p[0], t0, 200, 3, &o) == 0 && FC_STREQ(o.buf, "abc") &&
	       o.first_ms >= 0 && !o.eof,
	   "reader: 3 wanted bytes");
	ok(bench_read_output(p[0], fc_now_ns(), 100, 0, &o) == -ETIMEDOUT && o.first_ms < 0,
	   "reader: nothing more within 100 ms");
	close(p[1]);
	ok(bench_read_output(p[0], fc_now_ns(), 1000, 0, &o) == 0 && o.eof && o.total == 0,
	   "reader: EOF");
	close(p[0]);
	return tap_done();
}
