/* SPDX-License-Identifier: MIT */
/* cmd-events.c: fcrun events: stats of a container every interval, and an
 * {"type":"oom"} event whenever the OOM killer acts in its cgroup, one JSON
 * object per line, until the container stops. --stats prints one and exits. */
#include "cli.h"

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>

static int pidfd_of(pid_t pid)
{
	return pid > 0 ? (int)syscall(SYS_pidfd_open, pid, 0) : -1;
}

/* A Go duration as runc's flag takes it: "5s", "500ms", "1m30s", "1.5h". */
static int parse_duration_ms(const char *s, uint64_t *out)
{
	static const struct {
		const char *unit;
		double ms;
	} units[] = {{"ns", 1e-6}, {"us", 1e-3}, {"µs", 1e-3}, {"ms", 1},
	             {"s", 1e3},   {"m", 60e3},  {"h", 3600e3}};
	double total = 0;
	if (!*s)
		return -EINVAL;
	if (FC_STREQ(s, "0")) {
		*out = 0;
		return 0;
	}
	while (*s) {
		char *end;
		double v = strtod(s, &end);
		if (end == s || v < 0)
			return -EINVAL;
		size_t best = 0, bl = 0;
		for (size_t i = 0; i < FC_ARRAY_SIZE(units); i++) {
			size_t l = strlen(units[i].unit);
			if (strncmp(end, units[i].unit, l) == 0 && l > bl) {
				best = i;
				bl = l;
			}
		}
		if (!bl)
			return -EINVAL;
		total += v * units[best].ms;
		s = end + bl;
	}
	*out = (uint64_t)total;
	return 0;
}

static void oom_event(const char *id)
{
	_cleanup_buf_ struct fc_buf b = {0};
	fc_buf_printf(&b, "{\"type\":\"oom\",\"id\":");
	fc_buf_json_string(&b, id);
	printf("%s}\n", b.data);
	fflush(stdout);
}

int cmd_events(struct fc_cli *g, int argc, char **argv)
{
	const char *interval = "5s";
	bool stats = false;
	const struct fc_opt opts[] = {
	    {"interval", 0, FC_OPT_STR, &interval,
	     "set the stats collection interval (default: 5s)"},
	    {"stats", 0, FC_OPT_BOOL, &stats, "display the container's stats then exit"},
	    {NULL, 0, 0, NULL, NULL},
	};
	_cleanup_free_ char **pos = NULL;
	struct fc_error *err = NULL;
	struct fcrt_state *st = NULL;
	uint64_t ms, ooms = 0;
	size_t n;
	int rc;
	if (!fc_cli_verb(argc, argv, opts, false, 1, "events [command options] <container-id>",
	                 "Display container events such as OOM notifications, cpu, memory, and IO "
	                 "usage statistics.",
	                 &pos, &n, &rc))
		return rc;
	const char *id = pos[0];
	if (parse_duration_ms(interval, &ms) < 0)
		return fc_cli_failf("invalid value \"%s\" for flag -interval: parse error",
		                    interval);
	if (!ms)
		return fc_cli_failf("duration interval must be greater than 0");
	if (fcrt_state_load(g->root, id, &st, &err) < 0)
		return fc_cli_fail(err);
	if (st->status == FCRT_STOPPED) {
		fcrt_state_free(st);
		return fc_cli_failf("container with id %s is not running", id);
	}
	int pidfd = pidfd_of(st->pid);
	fcrt_state_free(st);
	if (stats) {
		_cleanup_buf_ struct fc_buf b = {0};
		if (pidfd >= 0)
			close(pidfd);
		if (fcrt_stats_event(g->root, id, &b, &err) < 0)
			return fc_cli_fail(err);
		printf("%s\n", b.data);
		return 0;
	}
	if (fcrt_oom_count(g->root, id, &ooms, &err) < 0) {
		fc_error_free(err); /* no memory controller: no OOM events */
		err = NULL;
	}
	signal(SIGPIPE, SIG_IGN);
	uint64_t next = fc_now_ns();
	for (;;) {
		uint64_t now = fc_now_ns(), c;
		if (now >= next) {
			_cleanup_buf_ struct fc_buf b = {0};
			if (fcrt_stats_event(g->root, id, &b, &err) < 0)
				break; /* stopped or deleted */
			if (printf("%s\n", b.data) < 0 || fflush(stdout) == EOF)
				break;
			next = now + ms * 1000000ull;
		}
		struct fc_error *e2 = NULL;
		if (fcrt_oom_count(g->root, id, &c, &e2) >= 0 && c > ooms) {
			ooms = c;
			oom_event(id);
		}
		fc_error_free(e2);
		/* Wake for the next stats, an OOM check (200 ms), or the init's exit. */
		uint64_t wait = (next - fc_now_ns()) / 1000000ull;
		if (fc_now_ns() >= next)
			wait = 0;
		struct pollfd p = {.fd = pidfd, .events = POLLIN};
		int t = (int)(wait < 200 ? wait : 200);
		if (pidfd >= 0 ? poll(&p, 1, t) > 0 : (poll(NULL, 0, t), false)) {
			/* The init exited: report what the OOM killer did, then stop. */
			if (fcrt_oom_count(g->root, id, &c, &e2) >= 0 && c > ooms)
				oom_event(id);
			fc_error_free(e2);
			break;
		}
	}
	fc_error_free(err);
	if (pidfd >= 0)
		close(pidfd);
	return 0;
}
