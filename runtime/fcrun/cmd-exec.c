/* SPDX-License-Identifier: MIT */
/* cmd-exec.c: fcrun exec: run a new process inside a container. Like runc,
 * failures exit with 255 ("exec failed: ..."); otherwise the exit status is
 * the process's (128+signal when killed), or 0 with --detach. */
#include "cli.h"

#include <fcntl.h>

#define EXEC_FAIL 255

static int failf(const char *what, struct fc_error *e)
{
	fc_cli_failf("exec failed: %s%s", what ? what : "", e ? e->msg : "");
	fc_error_free(e);
	return EXEC_FAIL;
}

static int parse_u32(const char *s, uint32_t *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > UINT32_MAX || *s == '-')
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

int cmd_exec(struct fc_cli *g, int argc, char **argv)
{
	const char *process = NULL, *cwd = NULL, *user = NULL, *pid_file = NULL,
	           *console_socket = NULL, *process_label = NULL, *apparmor = NULL;
	_cleanup_strv_ char **env = NULL, **gids = NULL, **caps = NULL, **cgroups = NULL;
	bool tty = false, nnp = false, detach = false, ignore_paused = false;
	int preserve_fds = 0;
	const struct fc_opt opts[] = {
	    {"console-socket", 0, FC_OPT_STR, &console_socket,
	     "path to an AF_UNIX socket which will receive a file descriptor referencing the "
	     "master end of the console's pseudoterminal"},
	    {"cwd", 0, FC_OPT_STR, &cwd, "current working directory in the container"},
	    {"env", 'e', FC_OPT_STRV, &env, "set environment variables"},
	    {"tty", 't', FC_OPT_BOOL, &tty, "allocate a pseudo-TTY"},
	    {"user", 'u', FC_OPT_STR, &user, "UID (format: <uid>[:<gid>])"},
	    {"additional-gids", 'g', FC_OPT_STRV, &gids, "additional gids"},
	    {"process", 'p', FC_OPT_STR, &process, "path to the process.json"},
	    {"detach", 'd', FC_OPT_BOOL, &detach, "detach from the container's process"},
	    {"pid-file", 0, FC_OPT_STR, &pid_file, "specify the file to write the process id to"},
	    {"process-label", 0, FC_OPT_STR, &process_label,
	     "set the asm process label for the process commonly used with selinux (not supported: "
	     "ignored)"},
	    {"apparmor", 0, FC_OPT_STR, &apparmor,
	     "set the apparmor profile for the process (not supported: ignored)"},
	    {"no-new-privs", 0, FC_OPT_BOOL, &nnp,
	     "set the no new privileges value for the process"},
	    {"cap", 'c', FC_OPT_STRV, &caps,
	     "add a capability to the bounding set for the process"},
	    {"preserve-fds", 0, FC_OPT_INT, &preserve_fds,
	     "Pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in "
	     "total)"},
	    {"cgroup", 0, FC_OPT_STRV, &cgroups,
	     "run the process in an (existing) sub-cgroup(s): [CONTROLLER[,CONTROLLER]:]PATH"},
	    {"ignore-paused", 0, FC_OPT_BOOL, &ignore_paused, "allow exec in a paused container"},
	    {NULL, 0, 0, NULL, NULL},
	};
	_cleanup_free_ char **pos = NULL;
	_cleanup_free_ char *pjson = NULL;
	_cleanup_free_ uint32_t *gidv = NULL;
	struct fc_error *err = NULL;
	struct fcrt_exec *x = NULL;
	size_t n, plen = 0;
	int rc;

	/* Flags end at the container id; the rest is the command. */
	if (!fc_cli_verb(argc, argv, opts, true, 1,
	                 "exec [command options] <container-id> <command> [command options]  || "
	                 "-p process.json <container-id>",
	                 "Execute a new process inside the container.", &pos, &n, &rc))
		return rc ? EXEC_FAIL : 0;
	struct fcrt_exec_opts o = {
	    .root = g->root,
	    .id = pos[0],
	    .args = pos + 1,
	    .env = env,
	    .cwd = cwd,
	    .caps = caps,
	    .no_new_privs = nnp,
	    .tty = tty,
	    .console_socket = console_socket,
	    .detach = detach,
	    .ignore_paused = ignore_paused,
	    .preserve_fds = preserve_fds,
	    .pid_file = pid_file,
	};
	if (process) {
		if (fc_read_file_at(AT_FDCWD, process, &pjson, &plen, 0, &err) < 0)
			return failf("--process: ", err);
		o.process_json = pjson;
		o.process_len = plen;
	} else if (n < 2) {
		return failf("args must not be empty", NULL);
	}
	if (user) {
		char *colon = strchr(user, ':');
		if (colon)
			*colon = '\0';
		if (parse_u32(user, &o.uid) < 0 || (colon && parse_u32(colon + 1, &o.gid) < 0))
			return fc_cli_failf("exec failed: parsing %s%s%s as int for uid/gid failed",
			                    user, colon ? ":" : "", colon ? colon + 1 : ""),
			       EXEC_FAIL;
		o.has_user = true;
	}
	if (gids) {
		size_t k = fc_strv_len(gids);
		gidv = fc_calloc(k, sizeof(uint32_t));
		for (size_t i = 0; i < k; i++)
			if (parse_u32(gids[i], &gidv[i]) < 0)
				return fc_cli_failf("exec failed: invalid additional gid `%s`",
				                    gids[i]),
				       EXEC_FAIL;
		o.additional_gids = gidv;
		o.n_additional_gids = k;
	}
	o.cgroups = cgroups;
	if ((process_label && *process_label) || (apparmor && *apparmor))
		fc_log(FC_LOG_DEBUG, "exec: --process-label/--apparmor ignored (no LSM support)");

	if (fcrt_exec(&o, &x, &err) < 0)
		return failf(NULL, err);
	if (detach) {
		fcrt_exec_free(x);
		return 0;
	}
	rc = fc_cli_wait(x->pid, x->pidfd, x->pty_master, NULL);
	fcrt_exec_free(x);
	return rc;
}
