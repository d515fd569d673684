/* SPDX-License-Identifier: MIT */
/* cmd-features.c: fcrun features: the runtime-spec features document. */
#include "cli.h"

int cmd_features(struct fc_cli *g, int argc, char **argv)
{
	const struct fc_opt opts[] = {{NULL, 0, 0, NULL, NULL}};
	_cleanup_free_ char **pos = NULL;
	_cleanup_buf_ struct fc_buf b = {0};
	size_t n;
	int rc;
	(void)g;
	if (!fc_cli_verb(argc, argv, opts, false, 0, "features",
	                 "Show the enabled features (runtime-spec features.md).", &pos, &n, &rc))
		return rc;
	fcrt_features_json(&b);
	printf("%s\n", b.data);
	return 0;
}
