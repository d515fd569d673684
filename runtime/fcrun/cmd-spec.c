/* SPDX-License-Identifier: MIT */
/* cmd-spec.c: fcrun spec: write the default config.json (fcrt_spec_default,
 * made rootless with --rootless) into the bundle, indented as runc does. */
#include "cli.h"

#include <fcntl.h>

#define END_OPTS                                                                                   \
	{                                                                                          \
		NULL, 0, 0, NULL, NULL                                                             \
	}

int cmd_spec(struct fc_cli *g, int argc, char **argv)
{
	const char *bundle = NULL;
	bool rootless = false;
	const struct fc_opt opts[] = {
	    {"bundle", 'b', FC_OPT_STR, &bundle, "path to the root of the bundle directory"},
	    {"rootless", 0, FC_OPT_BOOL, &rootless,
	     "generate a configuration for a rootless container"},
	    END_OPTS,
	};
	_cleanup_free_ char **pos = NULL;
	_cleanup_buf_ struct fc_buf b = {0};
	struct fc_error *err = NULL;
	size_t n;
	int rc;
	(void)g;
	if (!fc_cli_verb(argc, argv, opts, false, 0, "spec [command options]",
	                 "Create a new specification file (config.json) for a bundle.", &pos, &n,
	                 &rc))
		return rc;
	_cleanup_close_ int dfd =
	    open(bundle && *bundle ? bundle : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return fc_cli_failf("spec: bundle `%s`: %s", bundle ? bundle : ".",
		                    strerror(errno));
	if (faccessat(dfd, "config.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return fc_cli_failf("File config.json exists. Remove it first");
	_cleanup_spec_ struct fc_spec *spec = fcrt_spec_default();
	if (rootless)
		fcrt_spec_rootless(spec, getuid(), getgid());
	fcrt_spec_json(spec, true, &b);
	_cleanup_close_ int fd =
	    openat(dfd, "config.json", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0)
		return fc_cli_failf("spec: create `%s/config.json`: %s", bundle ? bundle : ".",
		                    strerror(errno));
	int r = fc_write_all(fd, b.data, b.len);
	if (r < 0) {
		fc_error_set(&err, -r, "spec: write `%s/config.json`", bundle ? bundle : ".");
		return fc_cli_fail(err);
	}
	return 0;
}
