#include "cli.h"
int cmd_exec(struct fc_cli *g, int argc, char **argv)
{ (void)g; (void)argc; (void)argv; return fc_cli_failf("`exec` is not implemented yet"); }
