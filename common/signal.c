/* SPDX-License-Identifier: MIT */
/* signal.c: signal names and numbers, and the kill-and-reap cleanup of a
 * child pid (_cleanup_pid_). */
#include "fc-util.h"

#include <signal.h>
#include <sys/wait.h>

static const struct {
	const char *name;
	int num;
} signals[] = {
    {"HUP", SIGHUP},       {"INT", SIGINT},   {"QUIT", SIGQUIT},     {"ILL", SIGILL},
    {"TRAP", SIGTRAP},     {"ABRT", SIGABRT}, {"IOT", SIGIOT},       {"BUS", SIGBUS},
    {"FPE", SIGFPE},       {"KILL", SIGKILL}, {"USR1", SIGUSR1},     {"SEGV", SIGSEGV},
    {"USR2", SIGUSR2},     {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},     {"TERM", SIGTERM},
    {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD}, {"CONT", SIGCONT},     {"STOP", SIGSTOP},
    {"TSTP", SIGTSTP},     {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},     {"URG", SIGURG},
    {"XCPU", SIGXCPU},     {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},
    {"WINCH", SIGWINCH},   {"IO", SIGIO},     {"POLL", SIGPOLL},     {"PWR", SIGPWR},
    {"SYS", SIGSYS},
};

int fc_parse_signal(const char *s)
{
	char *end;
	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	long n = strtol(s, &end, 10);
	if (*end == '\0' && errno == 0)
		return n > 0 && n <= SIGRTMAX ? (int)n : -EINVAL;
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (size_t i = 0; i < FC_ARRAY_SIZE(signals); i++)
		if (strcasecmp(s, signals[i].name) == 0)
			return signals[i].num;
	if (strncasecmp(s, "RTMIN", 5) == 0 || strncasecmp(s, "RTMAX", 5) == 0) {
		bool min = strncasecmp(s, "RTMIN", 5) == 0;
		long off = 0;
		if (s[5]) {
			if (s[5] != (min ? '+' : '-'))
				return -EINVAL;
			errno = 0;
			off = strtol(s + 6, &end, 10);
			if (*end || errno || off < 0)
				return -EINVAL;
		}
		long sig = min ? SIGRTMIN + off : SIGRTMAX - off;
		return sig >= SIGRTMIN && sig <= SIGRTMAX ? (int)sig : -EINVAL;
	}
	return -EINVAL;
}

const char *fc_signal_name(int sig)
{
	static const char *names[65];
	for (size_t i = 0; i < FC_ARRAY_SIZE(signals); i++)
		if (signals[i].num == sig) {
			if (sig > 0 && sig < 65 && !names[sig])
				names[sig] = fc_asprintf("SIG%s", signals[i].name);
			return sig > 0 && sig < 65 ? names[sig] : NULL;
		}
	return NULL;
}

void fc_pid_killp(pid_t *pid)
{
	if (*pid > 0) {
		int saved = errno;
		kill(*pid, SIGKILL);
		while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR)
			;
		errno = saved;
	}
}
