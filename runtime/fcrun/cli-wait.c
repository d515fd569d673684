/* SPDX-License-Identifier: MIT */
/* cli-wait.c: what `fcrun run` and `fcrun exec` do while their process runs
 * in the foreground: forward signals to it, reap (they may be subreapers),
 * and with a pty master proxy our stdin/stdout to it (raw mode on our tty,
 * restored on every exit path; SIGWINCH resizes). */
#include "cli.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>

static int exit_status(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return 1;
}

static void resize(int master)
{
	struct winsize ws;
	if (isatty(0) && ioctl(0, TIOCGWINSZ, &ws) == 0)
		ioctl(master, TIOCSWINSZ, &ws);
}

/* Copy what is readable from one fd to another; false on EOF/error. */
static bool pump(int from, int to)
{
	char buf[16384];
	ssize_t n = read(from, buf, sizeof(buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0)
		return false;
	return fc_write_all(to, buf, (size_t)n) >= 0;
}

static void drain(int master)
{
	char buf[16384];
	ssize_t n;
	while ((n = read(master, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
		if (n > 0 && fc_write_all(1, buf, (size_t)n) < 0)
			return;
}

int fc_cli_wait(pid_t pid, int pidfd, int master, struct fc_notify *notify)
{
	sigset_t all, old;
	struct termios saved;
	bool raw = false, in_open = master >= 0, out_open = master >= 0;
	int status = -1;

	sigfillset(&all);
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGILL);
	sigdelset(&all, SIGFPE);
	sigprocmask(SIG_BLOCK, &all, &old);
	int sfd = signalfd(-1, &all, SFD_CLOEXEC | SFD_NONBLOCK);

	if (master >= 0) {
		if (isatty(0) && tcgetattr(0, &saved) == 0) {
			struct termios t = saved;
			cfmakeraw(&t);
			raw = tcsetattr(0, TCSANOW, &t) == 0;
		}
		resize(master);
		fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
	}
	for (;;) {
		int st;
		pid_t w;
		while ((w = waitpid(-1, &st, WNOHANG)) > 0)
			if (w == pid)
				status = exit_status(st);
		if (status >= 0 || (w < 0 && errno == ECHILD))
			break;
		struct pollfd p[5] = {
		    {.fd = sfd, .events = POLLIN},
		    {.fd = pidfd, .events = POLLIN},
		    {.fd = out_open ? master : -1, .events = POLLIN},
		    {.fd = in_open ? 0 : -1, .events = POLLIN},
		    {.fd = notify ? notify->fd : -1, .events = POLLIN},
		};
		if (poll(p, 5, -1) < 0 && errno != EINTR)
			break;
		if (p[4].revents & POLLIN)
			fc_notify_read(notify, getpid());
		if (p[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGWINCH && master >= 0)
					resize(master);
				else if (si.ssi_signo != SIGCHLD && si.ssi_signo != SIGWINCH &&
				         si.ssi_signo != SIGURG)
					kill(pid, (int)si.ssi_signo);
			}
		}
		if (out_open && (p[2].revents & (POLLIN | POLLHUP | POLLERR)) && !pump(master, 1))
			out_open = false; /* EIO: every peer closed; output is over */
		if (in_open && (p[3].revents & (POLLIN | POLLHUP | POLLERR)) && !pump(0, master)) {
			in_open = false;
			if (!raw) /* end of piped input: end of file for the terminal */
				(void)!write(master, "\x04", 1);
		}
		if (p[1].fd < 0 || !(p[1].revents & POLLIN))
			continue;
		/* Exited: take what it left in the pty, then reap it. */
		if (out_open)
			drain(master);
	}
	if (out_open)
		drain(master); /* what it wrote before it exited */
	if (raw)
		tcsetattr(0, TCSANOW, &saved);
	if (sfd >= 0)
		close(sfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return status < 0 ? 255 : status;
}
