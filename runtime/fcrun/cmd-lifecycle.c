/* SPDX-License-Identifier: MIT */
/* cmd-lifecycle.c: fcrun create, start, run, state, list, kill, delete. */
#include "cli.h"

#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define END_OPTS                                                                                   \
	{                                                                                          \
		NULL, 0, 0, NULL, NULL                                                             \
	}

/* systemd socket activation: LISTEN_FDS for us become the container's. */
static char **listen_fds_env(int *preserve)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	if (!fds || !pid || atoi(pid) != (int)getpid() || atoi(fds) <= 0)
		return NULL;
	int n = atoi(fds);
	*preserve += n;
	char **env = fc_calloc(3, sizeof(char *));
	env[0] = fc_asprintf("LISTEN_FDS=%d", n);
	env[1] = fc_strdup("LISTEN_PID=1");
	return env;
}

struct create_flags {
	const char *bundle, *pid_file, *console_socket;
	bool no_pivot, no_new_keyring, detach, no_subreaper, keep;
	int preserve_fds;
};

#define CREATE_OPTS(f)                                                                             \
	{"bundle", 'b', FC_OPT_STR, &(f).bundle,                                                   \
	 "path to the root of the bundle directory, defaults to the current directory"},           \
	    {"console-socket", 0, FC_OPT_STR, &(f).console_socket,                                 \
	     "path to an AF_UNIX socket which will receive a file descriptor referencing the "     \
	     "master end of the console's pseudoterminal"},                                        \
	    {"pid-file", 0, FC_OPT_STR, &(f).pid_file,                                             \
	     "specify the file to write the process id to"},                                       \
	    {"no-pivot", 0, FC_OPT_BOOL, &(f).no_pivot,                                            \
	     "do not use pivot root to jail process inside rootfs"},                               \
	    {"no-new-keyring", 0, FC_OPT_BOOL, &(f).no_new_keyring,                                \
	     "do not create a new session keyring for the container"},                             \
	{                                                                                          \
		"preserve-fds", 0, FC_OPT_INT, &(f).preserve_fds,                                  \
		    "pass N additional file descriptors to the container (stdio + $LISTEN_FDS + "  \
		    "N in total)"                                                                  \
	}

/* --debug: where the time went, step by step (fcrt_profile), from main. */
static void log_profile(const struct fc_cli *g, const char *verb, const char *id,
                        const struct fcrt_profile *p)
{
	if (!g->debug || !p->n)
		return;
	_cleanup_buf_ struct fc_buf b = {0};
	fcrt_profile_line(p, g->t0, &b);
	fc_log(FC_LOG_DEBUG, "%s `%s`: phases (us): %s", verb, id, b.data);
}

static int do_create(struct fc_cli *g, const char *id, struct create_flags *f, enum fcrt_wait wait,
                     int console_fd, struct fcrt_profile *prof, struct fcrt_container **out,
                     struct fc_error **err)
{
	_cleanup_strv_ char **extra = listen_fds_env(&f->preserve_fds);
	bool notify = fc_notify_host() != NULL;
	if (notify) {
		size_t n = fc_strv_len(extra);
		extra = fc_realloc(extra, (n + 2) * sizeof(char *));
		extra[n] = fc_strdup("NOTIFY_SOCKET=/run/notify/notify.sock");
		extra[n + 1] = NULL;
	}
	struct fcrt_create_opts o = {
	    .root = g->root,
	    .id = id,
	    .bundle = f->bundle,
	    .pid_file = f->pid_file,
	    .console_socket = f->console_socket,
	    .has_console_fd = console_fd >= 0,
	    .console_fd = console_fd,
	    .no_pivot = f->no_pivot,
	    .no_new_keyring = f->no_new_keyring,
	    .systemd_cgroup = g->systemd_cgroup,
	    .preserve_fds = f->preserve_fds,
	    .wait = wait,
	    .extra_env = extra,
	    .notify_socket = notify,
	    .profile = g->debug ? prof : NULL,
	};
	return fcrt_create(&o, out, err);
}

int cmd_create(struct fc_cli *g, int argc, char **argv)
{
	struct create_flags f = {0};
	const struct fc_opt opts[] = {CREATE_OPTS(f), END_OPTS};
	_cleanup_free_ char **pos = NULL;
	struct fc_error *err = NULL;
	size_t n;
	int rc;
	if (!fc_cli_verb(argc, argv, opts, false, 1, "create [command options] <container-id>",
	                 "Create a container.", &pos, &n, &rc))
		return rc;
	struct fcrt_profile prof = {0};
	if (do_create(g, pos[0], &f, FCRT_WAIT_EXEC, -1, &prof, NULL, &err) < 0)
		return fc_cli_fail(err);
	log_profile(g, "create", pos[0], &prof);
	return 0;
}

int cmd_start(struct fc_cli *g, int argc, char **argv)
{
	const struct fc_opt opts[] = {END_OPTS};
	_cleanup_free_ char **pos = NULL;
	struct fc_error *err = NULL;
	size_t n;
	int rc;
	if (!fc_cli_verb(argc, argv, opts, false, 1, "start <container-id>",
	                 "Start a created container.", &pos, &n, &rc))
		return rc;
	/* sd_notify (NOTIFY_SOCKET): listen before the start when create made
	 * the notify dir, then wait for READY and pass it on with the init's
	 * pid, as runc start does. */
	struct fc_notify nt = {.fd = -1};
	_cleanup_free_ char *ndir = fc_asprintf("%s/%s/notify", g->root, pos[0]);
	struct stat sb;
	if (fc_notify_host() && stat(ndir, &sb) == 0 &&
	    (rc = fc_notify_listen(g->root, pos[0], &nt)))
		return rc;
	if (fcrt_start(g->root, pos[0], &err) < 0) {
		fc_notify_close(&nt);
		return fc_cli_fail(err);
	}
	if (nt.fd >= 0) {
		struct fcrt_state *st = NULL;
		if (fcrt_state_load(g->root, pos[0], &st, &err) < 0) {
			fc_notify_close(&nt);
			return fc_cli_fail(err);
		}
		_cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, st->pid, 0);
		if (pidfd >= 0)
			fc_notify_wait(&nt, pidfd, st->pid);
		fc_notify_close(&nt);
		fcrt_state_free(st);
	}
	return 0;
}

/* The pty master the init sent over our end of the console socketpair
 * (process.terminal), or -1. It was sent before create returned. */
static int recv_console(int fd)
{
	char name[64], cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {.iov_base = name, .iov_len = sizeof(name)};
	struct msghdr msg = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	int master = -1;
	if (recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) <= 0)
		return -1;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
			memcpy(&master, CMSG_DATA(cm), sizeof(int));
	return master;
}

int cmd_run(struct fc_cli *g, int argc, char **argv)
{
	struct create_flags f = {0};
	const struct fc_opt opts[] = {
	    CREATE_OPTS(f),
	    {"detach", 'd', FC_OPT_BOOL, &f.detach, "detach from the container's process"},
	    {"no-subreaper", 0, FC_OPT_BOOL, &f.no_subreaper,
	     "disable the use of the subreaper used to reap reparented processes"},
	    {"keep", 0, FC_OPT_BOOL, &f.keep, "do not delete the container after it exits"},
	    END_OPTS,
	};
	_cleanup_free_ char **pos = NULL;
	struct fc_error *err = NULL;
	struct fcrt_container *c = NULL;
	size_t n;
	int r, rc;
	if (!fc_cli_verb(argc, argv, opts, false, 1, "run [command options] <container-id>",
	                 "Create and run a container; exits with the container's exit status.",
	                 &pos, &n, &rc))
		return rc;
	if (!f.detach && !f.no_subreaper)
		prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	/* In the foreground without --console-socket a terminal is ours to proxy. */
	int csock[2] = {-1, -1}, master = -1;
	if (!f.detach && !f.console_socket &&
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, csock) < 0)
		return fc_cli_failf("run: socketpair: %s", strerror(errno));
	struct fcrt_profile prof = {0};
	r = do_create(g, pos[0], &f, FCRT_WAIT_SOCKET, csock[1], &prof, &c, &err);
	if (csock[1] >= 0)
		close(csock[1]);
	if (csock[0] >= 0) {
		master = recv_console(csock[0]);
		close(csock[0]);
	}
	if (r < 0)
		return fc_cli_fail(err);
	struct fc_notify nt = {.fd = -1};
	if ((rc = fc_notify_listen(g->root, pos[0], &nt))) {
		struct fc_error *e2 = NULL;
		if (master >= 0)
			close(master);
		fcrt_delete(g->root, pos[0], true, &e2);
		fc_error_free(e2);
		fcrt_container_free(c);
		return rc;
	}
	if (fcrt_start_socket(c, &err) < 0) {
		fc_notify_close(&nt);
		struct fc_error *e2 = NULL;
		if (master >= 0)
			close(master);
		fcrt_delete(g->root, pos[0], true, &e2);
		fc_error_free(e2);
		fcrt_container_free(c);
		return fc_cli_fail(err);
	}
	if (c->exec_ns)
		fcrt_profile_mark(&prof, "exec", c->exec_ns);
	fcrt_profile_mark(&prof, "started", fc_now_ns());
	if (c->poststart)
		fcrt_poststart(g->root, pos[0]);
	if (f.detach) {
		log_profile(g, "run", pos[0], &prof);
		/* as runc run -d: back once the container said READY (or ended) */
		if (nt.fd >= 0)
			fc_notify_wait(&nt, c->pidfd, c->pid);
		fcrt_container_free(c);
		return 0;
	}
	int status = fc_cli_wait(c->pid, c->pidfd, master, nt.fd >= 0 ? &nt : NULL);
	fc_notify_close(&nt);
	if (master >= 0)
		close(master);
	fcrt_container_free(c);
	fcrt_profile_mark(&prof, "exited", fc_now_ns());
	if (!f.keep && fcrt_delete(g->root, pos[0], true, &err) < 0)
		fc_cli_fail(err);
	fcrt_profile_mark(&prof, "deleted", fc_now_ns());
	log_profile(g, "run", pos[0], &prof);
	return status;
}

int cmd_state(struct fc_cli *g, int argc, char **argv)
{
	const struct fc_opt opts[] = {END_OPTS};
	_cleanup_free_ char **pos = NULL;
	struct fc_error *err = NULL;
	struct fcrt_state *st = NULL;
	size_t n;
	int rc;
	if (!fc_cli_verb(argc, argv, opts, false, 1, "state <container-id>",
	                 "Output the state of a container.", &pos, &n, &rc))
		return rc;
	if (fcrt_state_load(g->root, pos[0], &st, &err) < 0)
		return fc_cli_fail(err);
	_cleanup_buf_ struct fc_buf b = {0};
	fcrt_state_json(st, &b, true);
	printf("%s\n", b.data);
	fcrt_state_free(st);
	return 0;
}

static char *owner_of(const char *root, const char *id)
{
	_cleanup_free_ char *p = fc_asprintf("%s/%s", root, id);
	struct stat s;
	if (stat(p, &s) < 0)
		return fc_strdup("");
	/* /etc/passwd read directly: fcrun is static, without NSS */
	_cleanup_fclose_ FILE *f = fopen("/etc/passwd", "re");
	char line[512];
	while (f && fgets(line, sizeof(line), f)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (c2 && (uid_t)strtoul(c2 + 1, NULL, 10) == s.st_uid && c2[1] != ':') {
			*c1 = '\0';
			return fc_strdup(line);
		}
	}
	return fc_asprintf("#%u", s.st_uid);
}

int cmd_list(struct fc_cli *g, int argc, char **argv)
{
	const char *format = "table";
	bool quiet = false;
	const struct fc_opt opts[] = {
	    {"format", 'f', FC_OPT_STR, &format,
	     "select one of: table or json (default: \"table\")"},
	    {"quiet", 'q', FC_OPT_BOOL, &quiet, "display only container IDs"},
	    END_OPTS,
	};
	_cleanup_free_ char **pos = NULL;
	_cleanup_strv_ char **ids = NULL;
	struct fc_error *err = NULL;
	size_t n;
	int rc;
	if (!fc_cli_verb(argc, argv, opts, false, 0, "list [command options]", "List containers.",
	                 &pos, &n, &rc))
		return rc;
	if (!FC_STREQ(format, "table") && !FC_STREQ(format, "json"))
		return fc_cli_failf("invalid format option: %s", format);
	if (fcrt_list(g->root, &ids, &err) < 0)
		return fc_cli_fail(err);
	size_t k = fc_strv_len(ids);
	struct fcrt_state **sts = fc_calloc(k + 1, sizeof(*sts));
	size_t m = 0;
	for (size_t i = 0; i < k; i++) {
		struct fc_error *e = NULL;
		if (fcrt_state_load(g->root, ids[i], &sts[m], &e) >= 0) {
			free(sts[m]->owner);
			sts[m]->owner = owner_of(g->root, ids[i]);
			m++;
		}
		fc_error_free(e);
	}
	if (quiet) {
		for (size_t i = 0; i < m; i++)
			printf("%s\n", sts[i]->id);
	} else if (FC_STREQ(format, "json")) {
		_cleanup_buf_ struct fc_buf b = {0};
		if (!m)
			fc_buf_printf(&b, "null");
		for (size_t i = 0; i < m; i++) {
			fc_buf_append(&b, i ? "," : "[", 1);
			fcrt_state_json(sts[i], &b, false);
		}
		if (m)
			fc_buf_append(&b, "]", 1);
		printf("%s\n", b.data);
	} else {
		/* runc's tabwriter: minimum width 12, padding 3 */
		size_t w[4] = {12, 12, 12, 12};
		char pidbuf[32];
		for (size_t i = 0; i < m; i++) {
			snprintf(pidbuf, sizeof(pidbuf), "%d", (int)sts[i]->pid);
			size_t l[4] = {strlen(sts[i]->id), strlen(pidbuf),
			               strlen(fcrt_status_name(sts[i]->status)),
			               strlen(sts[i]->bundle)};
			for (int j = 0; j < 4; j++)
				if (l[j] + 3 > w[j])
					w[j] = l[j] + 3;
		}
		size_t wc = 33;
		for (size_t i = 0; i < m; i++)
			if (strlen(sts[i]->created) + 3 > wc)
				wc = strlen(sts[i]->created) + 3;
		printf("%-*s%-*s%-*s%-*s%-*s%s\n", (int)w[0], "ID", (int)w[1], "PID", (int)w[2],
		       "STATUS", (int)w[3], "BUNDLE", (int)wc, "CREATED", "OWNER");
		for (size_t i = 0; i < m; i++) {
			snprintf(pidbuf, sizeof(pidbuf), "%d", (int)sts[i]->pid);
			printf("%-*s%-*s%-*s%-*s%-*s%s\n", (int)w[0], sts[i]->id, (int)w[1], pidbuf,
			       (int)w[2], fcrt_status_name(sts[i]->status), (int)w[3],
			       sts[i]->bundle, (int)wc, sts[i]->created, sts[i]->owner);
		}
	}
	for (size_t i = 0; i < m; i++)
		fcrt_state_free(sts[i]);
	free(sts);
	return 0;
}

int cmd_kill(struct fc_cli *g, int argc, char **argv)
{
	bool all = false;
	const struct fc_opt opts[] = {
	    {"all", 'a', FC_OPT_BOOL, &all,
	     "send the specified signal to all processes inside the container"},
	    END_OPTS,
	};
	_cleanup_free_ char **pos = NULL;
	struct fc_error *err = NULL;
	size_t n;
	int rc;
	if (!fc_cli_verb(
	        argc, argv, opts, false, 1, "kill [command options] <container-id> [signal]",
	        "Send a signal (default: SIGTERM) to the container's init process.", &pos, &n, &rc))
		return rc;
	if (n > 2)
		return fc_cli_failf("\"kill\" requires a maximum of 2 argument(s)");
	int sig = SIGTERM;
	if (n == 2) {
		/* A number goes to the kernel as it is, as runc sends it: 0 checks
		 * that the container is running, a number past the last signal
		 * fails there (EINVAL). */
		char *end;
		errno = 0;
		long num = strtol(pos[1], &end, 10);
		if (*pos[1] && !*end && !errno && num >= 0 && num <= INT_MAX)
			sig = (int)num;
		else if ((sig = fc_parse_signal(pos[1])) < 0)
			return fc_cli_failf("unknown signal \"%s\"", pos[1]);
	}
	if (fcrt_kill(g->root, pos[0], sig, all, &err) < 0)
		return fc_cli_fail(err);
	return 0;
}

int cmd_delete(struct fc_cli *g, int argc, char **argv)
{
	bool force = false;
	const struct fc_opt opts[] = {
	    {"force", 'f', FC_OPT_BOOL, &force,
	     "Forcibly deletes the container if it is still running (uses SIGKILL)"},
	    END_OPTS,
	};
	_cleanup_free_ char **pos = NULL;
	struct fc_error *err = NULL;
	size_t n;
	int rc;
	if (!fc_cli_verb(argc, argv, opts, false, 1, "delete [command options] <container-id>",
	                 "Delete a container and everything it holds.", &pos, &n, &rc))
		return rc;
	int r = fcrt_delete(g->root, pos[0], force, &err);
	if (r == -ENOENT && force) {
		fc_error_free(err);
		return 0;
	}
	if (r < 0)
		return fc_cli_fail(err);
	return 0;
}
