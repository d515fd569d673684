/* SPDX-License-Identifier: MIT */
/* floor.c: `fcstart-floor`, the kernel's floor for a container: the least a
 * runtime must do to run a program in a container, made with raw system
 * calls and nothing else, so `fcstart bench` can put every runtime beside it.
 *
 *   fcstart-floor [--no-netns] [--phases] [--work DIR] ROOTFS [CMD [ARG...]]
 *
 * One clone into new pid, mount, UTS, IPC and (unless --no-netns) network
 * namespaces; in the child: / made private, a tmpfs on DIR (default /tmp; in
 * the child's mount namespace only) for the overlay's upper and work dirs,
 * an overlay of ROOTFS on it, pivot_root into it, the old root detached,
 * /proc mounted, exec CMD (default /bin/true). The parent waits for it and
 * exits with its status. No cgroup, no seccomp, no state, no user namespace:
 * each of those is what a runtime adds on top.
 *
 * --phases prints one line on stderr with the time of each step in
 * microseconds: clone (from the parent's clone call to the child's first
 * step), private, tmpfs, overlay,
 * pivot, proc (the child's steps), exec (from the child's execve to the
 * parent's wait returning: the program's run, its exit and the namespaces'
 * teardown) and total (from main to the wait returning).
 *
 * Linked statically with nothing but libc, so that its start costs what a
 * process start costs. */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { T_CHILD, T_PRIVATE, T_TMPFS, T_OVERLAY, T_PIVOT, T_PROC, T_EXEC, T_N };

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "fcstart-floor: %s: %s\n", what, strerror(errno));
	_exit(125);
}

static void usage(void)
{
	fprintf(
	    stderr,
	    "usage: fcstart-floor [--no-netns] [--phases] [--work DIR] ROOTFS [CMD [ARG...]]\n");
	exit(125);
}

int main(int argc, char **argv)
{
	uint64_t t_main = now_ns();
	const char *work = "/tmp";
	int netns = 1, phases = 0, i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--no-netns"))
			netns = 0;
		else if (!strcmp(argv[i], "--phases"))
			phases = 1;
		else if (!strcmp(argv[i], "--work") && i + 1 < argc)
			work = argv[++i];
		else
			usage();
	}
	if (i >= argc)
		usage();
	const char *rootfs = argv[i++];
	char *true_argv[] = {"/bin/true", NULL};
	char **cmd = i < argc ? argv + i : true_argv;

	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0)
		die("pipe");
	unsigned long flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | SIGCHLD;
	if (netns)
		flags |= CLONE_NEWNET;
	uint64_t t_clone = now_ns();
	pid_t pid = (pid_t)syscall(SYS_clone, flags, NULL, NULL, NULL, NULL);
	if (pid < 0)
		die("clone");
	if (pid == 0) {
		uint64_t t[T_N];
		t[T_CHILD] = now_ns();
		char opts[PATH_MAX + 256], lower[64], up[PATH_MAX], root[PATH_MAX];
		close(pfd[0]);
		if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
			die("make / private");
		/* the rootfs by descriptor (of this mount namespace): the tmpfs
		 * may cover its path */
		int rfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (rfd < 0)
			die(rootfs);
		t[T_PRIVATE] = now_ns();
		if (mount("tmpfs", work, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700,size=64m") < 0)
			die("mount tmpfs");
		snprintf(up, sizeof(up), "%s/upper", work);
		snprintf(opts, sizeof(opts), "%s/work", work);
		snprintf(root, sizeof(root), "%s/root", work);
		if (mkdir(up, 0755) < 0 || mkdir(opts, 0700) < 0 || mkdir(root, 0755) < 0)
			die("mkdir in the tmpfs");
		t[T_TMPFS] = now_ns();
		snprintf(lower, sizeof(lower), "/proc/self/fd/%d", rfd);
		snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s/upper,workdir=%s/work", lower,
		         work, work);
		if (mount("overlay", root, "overlay", 0, opts) < 0)
			die("mount overlay");
		t[T_OVERLAY] = now_ns();
		if (chdir(root) < 0 || syscall(SYS_pivot_root, ".", ".") < 0 ||
		    umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
			die("pivot_root");
		t[T_PIVOT] = now_ns();
		if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
			die("mount /proc");
		t[T_PROC] = now_ns();
		t[T_EXEC] = now_ns();
		if (write(pfd[1], t, sizeof(t)) != (ssize_t)sizeof(t))
			die("report");
		execv(cmd[0], cmd);
		die(cmd[0]);
	}
	close(pfd[1]);
	uint64_t t[T_N];
	ssize_t n;
	do
		n = read(pfd[0], t, sizeof(t));
	while (n < 0 && errno == EINTR);
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			die("waitpid");
	uint64_t t_end = now_ns();
	if (phases && n == (ssize_t)sizeof(t)) {
		fprintf(stderr,
		        "fcstart-floor phases (us): clone=%.1f private=%.1f tmpfs=%.1f "
		        "overlay=%.1f pivot=%.1f proc=%.1f exec=%.1f total=%.1f\n",
		        (double)(t[T_CHILD] - t_clone) / 1e3,
		        (double)(t[T_PRIVATE] - t[T_CHILD]) / 1e3,
		        (double)(t[T_TMPFS] - t[T_PRIVATE]) / 1e3,
		        (double)(t[T_OVERLAY] - t[T_TMPFS]) / 1e3,
		        (double)(t[T_PIVOT] - t[T_OVERLAY]) / 1e3,
		        (double)(t[T_PROC] - t[T_PIVOT]) / 1e3, (double)(t_end - t[T_EXEC]) / 1e3,
		        (double)(t_end - t_main) / 1e3);
	}
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return 128 + WTERMSIG(st);
}
