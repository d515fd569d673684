/* Verbs not written yet: each answers with a clear error. */
#include "cli.h"
#define TODO(fn, verb) \
	int fn(struct fc_cli *g, int argc, char **argv) \
	{ (void)g; (void)argc; (void)argv; return fc_cli_failf("`%s` is not implemented yet", verb); }
TODO(cmd_exec, "exec")
TODO(cmd_ps, "ps")
TODO(cmd_pause, "pause")
TODO(cmd_resume, "resume")
TODO(cmd_update, "update")
TODO(cmd_events, "events")
TODO(cmd_spec, "spec")
TODO(cmd_features, "features")
