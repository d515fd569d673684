/* SPDX-License-Identifier: MIT */
/* cmd-ps.c: fcrun ps: the processes in a container's cgroup, as a JSON array
 * of pids or as the host's `ps` output (default `ps -ef`) filtered to them. */
#include "cli.h"

#include <fcntl.h>
#include <sys/wait.h>

/* Run ps with args; its whole stdout in *out. */
static int run_ps(char **args, size_t nargs, char **out)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return fc_cli_failf("ps: pipe: %s", strerror(errno));
	char **argv = fc_calloc(nargs + 2, sizeof(char *));
	argv[0] = "ps";
	for (size_t i = 0; i < nargs; i++)
		argv[i + 1] = args[i];
	pid_t pid = fork();
	if (pid < 0) {
		free(argv);
		close(p[0]);
		close(p[1]);
		return fc_cli_failf("ps: fork: %s", strerror(errno));
	}
	if (pid == 0) {
		dup2(p[1], 1);
		execvp("ps", argv);
		dprintf(2, "fcrun: exec ps: %s\n", strerror(errno));
		_exit(127);
	}
	free(argv);
	close(p[1]);
	struct fc_buf b = {0};
	char buf[65536];
	ssize_t n;
	while ((n = read(p[0], buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
		if (n > 0)
			fc_buf_append(&b, buf, (size_t)n);
	close(p[0]);
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	fc_buf_append(&b, "", 1);
	*out = b.data;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		int r = fc_cli_failf("ps: exit status %d: %s",
		                     WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), b.data);
		return r;
	}
	return 0;
}

static bool has_pid(const pid_t *pids, size_t n, long pid)
{
	for (size_t i = 0; i < n; i++)
		if (pids[i] == pid)
			return true;
	return false;
}

int cmd_ps(struct fc_cli *g, int argc, char **argv)
{
	const char *format = "table";
	const struct fc_opt opts[] = {
	    {"format", 'f', FC_OPT_STR, &format,
	     "select one of: table or json (default: \"table\")"},
	    {NULL, 0, 0, NULL, NULL},
	};
	_cleanup_free_ char **pos = NULL;
	_cleanup_free_ pid_t *pids = NULL;
	_cleanup_free_ char *text = NULL;
	struct fc_error *err = NULL;
	size_t n, npids;
	int rc;
	/* Everything after the id goes to ps. */
	if (!fc_cli_verb(argc, argv, opts, true, 1,
	                 "ps [command options] <container-id> [ps options]",
	                 "Display the processes running inside a container.", &pos, &n, &rc))
		return rc;
	if (!FC_STREQ(format, "table") && !FC_STREQ(format, "json"))
		return fc_cli_failf("invalid format option");
	if (fcrt_pids(g->root, pos[0], &pids, &npids, &err) < 0)
		return fc_cli_fail(err);
	if (FC_STREQ(format, "json")) {
		if (!npids) {
			printf("null\n");
			return 0;
		}
		for (size_t i = 0; i < npids; i++)
			printf("%s%d", i ? "," : "[", (int)pids[i]);
		printf("]\n");
		return 0;
	}
	char *def[] = {"-ef"};
	rc = n > 1 ? run_ps(pos + 1, n - 1, &text) : run_ps(def, 1, &text);
	if (rc)
		return rc;
	/* The header names the PID column. */
	char *save = NULL, *line = strtok_r(text, "\n", &save);
	if (!line)
		return fc_cli_failf("ps: no output");
	int col = -1, k = 0;
	{
		_cleanup_free_ char *h = fc_strdup(line);
		char *s2 = NULL;
		for (char *f = strtok_r(h, " \t", &s2); f; f = strtok_r(NULL, " \t", &s2), k++)
			if (FC_STREQ(f, "PID"))
				col = k;
	}
	if (col < 0)
		return fc_cli_failf("couldn't find PID field in ps output");
	printf("%s\n", line);
	while ((line = strtok_r(NULL, "\n", &save))) {
		_cleanup_free_ char *l = fc_strdup(line);
		char *s2 = NULL, *f = strtok_r(l, " \t", &s2);
		for (k = 0; f && k < col; k++)
			f = strtok_r(NULL, " \t", &s2);
		if (f && has_pid(pids, npids, strtol(f, NULL, 10)))
			printf("%s\n", line);
	}
	return 0;
}
