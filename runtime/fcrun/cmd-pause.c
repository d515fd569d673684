/* SPDX-License-Identifier: MIT */
/* cmd-pause.c: fcrun pause / resume (the cgroup freezer). */
#include "cli.h"

static int pause_or_resume(struct fc_cli *g, int argc, char **argv, bool pause)
{
	const struct fc_opt opts[] = {{NULL, 0, 0, NULL, NULL}};
	_cleanup_free_ char **pos = NULL;
	struct fc_error *err = NULL;
	size_t n;
	int rc;
	if (!fc_cli_verb(argc, argv, opts, false, 1,
	                 pause ? "pause <container-id>" : "resume <container-id>",
	                 pause ? "Suspend all processes inside the container."
	                       : "Resume all processes that were previously paused.",
	                 &pos, &n, &rc))
		return rc;
	if ((pause ? fcrt_pause : fcrt_resume)(g->root, pos[0], &err) < 0)
		return fc_cli_fail(err);
	return 0;
}

int cmd_pause(struct fc_cli *g, int argc, char **argv)
{
	return pause_or_resume(g, argc, argv, true);
}

int cmd_resume(struct fc_cli *g, int argc, char **argv)
{
	return pause_or_resume(g, argc, argv, false);
}
