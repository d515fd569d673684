/* SPDX-License-Identifier: MIT */
/* main.c: fcrun, a runc-compatible OCI runtime. Global flags, then a verb. */
#include "cli.h"
#include "fc-version.h"

#include <seccomp.h>

static const struct {
	const char *name;
	int (*fn)(struct fc_cli *, int, char **);
	const char *help;
} verbs[] = {
    {"create", cmd_create, "create a container"},
    {"start", cmd_start, "executes the user defined process in a created container"},
    {"run", cmd_run, "create and run a container"},
    {"state", cmd_state, "output the state of a container"},
    {"list", cmd_list, "lists containers started by fcrun with the given root"},
    {"kill", cmd_kill,
     "kill sends the specified signal (default: SIGTERM) to the container's init process"},
    {"delete", cmd_delete,
     "delete any resources held by the container often used with detached containers"},
    {"exec", cmd_exec, "execute new process inside the container"},
    {"ps", cmd_ps, "ps displays the processes running inside a container"},
    {"pause", cmd_pause, "pause suspends all processes inside the container"},
    {"resume", cmd_resume, "resumes all processes that have been previously paused"},
    {"update", cmd_update, "update container resource constraints"},
    {"events", cmd_events,
     "display container events such as OOM notifications, cpu, memory, and IO usage statistics"},
    {"spec", cmd_spec, "create a new specification file"},
    {"features", cmd_features, "show the enabled features"},
};

static void usage(FILE *f)
{
	fprintf(f, "NAME:\n   fcrun - a fast runc-compatible OCI runtime\n\n"
	           "USAGE:\n   fcrun [global options] command [command options] [arguments...]\n\n"
	           "COMMANDS:\n");
	for (size_t i = 0; i < FC_ARRAY_SIZE(verbs); i++)
		fprintf(f, "   %-10s %s\n", verbs[i].name, verbs[i].help);
	fprintf(
	    f,
	    "\nGLOBAL OPTIONS:\n"
	    "   --debug               enable debug logging\n"
	    "   --log value           set the log file to write fcrun logs to (default is stderr)\n"
	    "   --log-format value    set the log format ('text' (default), or 'json')\n"
	    "   --root value          root directory for storage of container state (default: "
	    "\"/run/fcrun\")\n"
	    "   --systemd-cgroup      accept systemd cgroup paths (slice:prefix:name); they are "
	    "mapped to\n"
	    "                         /slice/prefix-name.scope on cgroupfs (no D-Bus)\n"
	    "   --rootless value      ignore cgroup permission errors ('true', 'false', or 'auto') "
	    "(default: \"auto\")\n"
	    "   --criu value          accepted for compatibility; checkpoint/restore is not "
	    "supported\n"
	    "   --help, -h            show help\n"
	    "   --version, -v         print the version\n");
}

static void version(void)
{
	const struct scmp_version *v = seccomp_version();
	printf("fcrun version %s\nspec: 1.0.2-dev\nlibseccomp: %u.%u.%u\n", FC_VERSION, v->major,
	       v->minor, v->micro);
}

int main(int argc, char **argv)
{
	struct fc_cli g = {.root = FCRT_DEFAULT_ROOT, .log_format = "text", .t0 = fc_now_ns()};
	const char *criu = NULL;
	bool help = false, ver = false;
	const struct fc_opt gopts[] = {
	    {"root", 0, FC_OPT_STR, &g.root, ""},
	    {"log", 0, FC_OPT_STR, &g.log, ""},
	    {"log-format", 0, FC_OPT_STR, &g.log_format, ""},
	    {"debug", 0, FC_OPT_BOOL, &g.debug, ""},
	    {"systemd-cgroup", 0, FC_OPT_BOOL, &g.systemd_cgroup, ""},
	    {"rootless", 0, FC_OPT_STR, &g.rootless, ""},
	    {"criu", 0, FC_OPT_STR, &criu, ""},
	    {"version", 'v', FC_OPT_BOOL, &ver, ""},
	    {NULL, 0, 0, NULL, NULL},
	};
	int i;
	fc_log_set_prog("fcrun");
	fc_log_set_logrus_text(true);
	/* Global flags end at the verb. */
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *name = argv[i] + (argv[i][1] == '-' ? 2 : 1);
		const char *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);
		const struct fc_opt *o = NULL;
		if ((len == 4 && !strncmp(name, "help", 4)) || (len == 1 && name[0] == 'h')) {
			help = true;
			continue;
		}
		for (const struct fc_opt *x = gopts; x->name; x++)
			if ((strlen(x->name) == len && !strncmp(x->name, name, len)) ||
			    (len == 1 && x->short_name == name[0]))
				o = x;
		if (!o) {
			fprintf(stderr, "fcrun: flag provided but not defined: -%.*s\n", (int)len,
			        name);
			return 1;
		}
		if (o->type == FC_OPT_BOOL) {
			*(bool *)o->ptr = !eq || !FC_STREQ(eq + 1, "false");
		} else if (eq) {
			*(const char **)o->ptr = eq + 1;
		} else if (i + 1 < argc) {
			*(const char **)o->ptr = argv[++i];
		} else {
			fprintf(stderr, "fcrun: flag needs an argument: -%s\n", o->name);
			return 1;
		}
	}
	if (ver) {
		version();
		return 0;
	}
	/* No command: the help, as runc prints it (exit 0). */
	if (i >= argc) {
		usage(stdout);
		return 0;
	}
	enum fc_log_format fmt = FC_LOG_TEXT;
	if (FC_STREQ(g.log_format, "json"))
		fmt = FC_LOG_JSON;
	else if (!FC_STREQ(g.log_format, "text")) {
		fprintf(stderr, "fcrun: --log-format: unknown format `%s` (text or json)\n",
		        g.log_format);
		return 1;
	}
	if (g.log && *g.log) {
		int r = fc_log_open(g.log, fmt, g.debug ? FC_LOG_DEBUG : FC_LOG_WARN);
		if (r < 0) {
			fprintf(stderr, "fcrun: --log `%s`: %s\n", g.log, strerror(-r));
			return 1;
		}
		fc_log_also_stderr(true);
	} else {
		fc_log_open(NULL, FC_LOG_TEXT, g.debug ? FC_LOG_DEBUG : FC_LOG_WARN);
	}
	/* `fcrun help [COMMAND]` and `fcrun --help` as runc's: the app's help,
	 * or the command's. */
	char *help_argv[] = {NULL, "--help", NULL};
	if (FC_STREQ(argv[i], "help") || FC_STREQ(argv[i], "h") || help) {
		if (!FC_STREQ(argv[i], "help") && !FC_STREQ(argv[i], "h"))
			help_argv[0] = argv[i];
		else if (i + 1 < argc)
			help_argv[0] = argv[i + 1];
		if (!help_argv[0]) {
			usage(stdout);
			return 0;
		}
		argv = help_argv;
		argc = 2;
		i = 0;
	}
	for (size_t v = 0; v < FC_ARRAY_SIZE(verbs); v++)
		if (FC_STREQ(argv[i], verbs[v].name)) {
			fc_cli_summary = verbs[v].help;
			return verbs[v].fn(&g, argc - i, argv + i);
		}
	/* runc's words and exit status for a command it does not have. */
	fc_log(FC_LOG_ERROR, "No help topic for '%s'", argv[i]);
	return 3;
}
