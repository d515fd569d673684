/* SPDX-License-Identifier: MIT */
/* fcrun's flag parsing (runc's forms: --flag v, --flag=v, -flag, bools,
 * repeated values, `--`, stop at the first positional for exec) and state
 * files: container ids, the state JSON of `fcrun state`, status from a state
 * file whose process is gone. No root needed. */
#include "cli.h"
#include "tap.h"

#include <fcntl.h>
#include <sys/stat.h>

static void test_flags(void)
{
	const char *bundle = NULL, *pidf = NULL;
	bool detach = false;
	int nfds = 0;
	char **env = NULL;
	const struct fc_opt opts[] = {
	    {"bundle", 'b', FC_OPT_STR, &bundle, ""},  {"pid-file", 0, FC_OPT_STR, &pidf, ""},
	    {"detach", 'd', FC_OPT_BOOL, &detach, ""}, {"preserve-fds", 0, FC_OPT_INT, &nfds, ""},
	    {"env", 'e', FC_OPT_STRV, &env, ""},       {NULL, 0, 0, NULL, NULL},
	};
	char *argv[] = {
	    "run", "--bundle", "/b",  "-pid-file=/p", "-d", "id1",          "--preserve-fds",
	    "3",   "-e",       "A=1", "--env=B=2",    "--", "--not-a-flag", NULL};
	char **pos = NULL;
	size_t n = 0;
	bool help = false;
	struct fc_error *err = NULL;
	int r = fc_cli_parse(13, argv, opts, false, &pos, &n, &help, &err);
	ok(r == 0, "parse runc-style flags");
	ok(bundle && !strcmp(bundle, "/b"), "--bundle VALUE");
	ok(pidf && !strcmp(pidf, "/p"), "-pid-file=VALUE (one dash, =)");
	ok(detach, "-d short bool");
	ok(nfds == 3, "--preserve-fds integer");
	ok(fc_strv_len(env) == 2 && !strcmp(env[0], "A=1") && !strcmp(env[1], "B=2"),
	   "repeated -e and --env=");
	ok(n == 2 && !strcmp(pos[0], "id1") && !strcmp(pos[1], "--not-a-flag"),
	   "positionals, and `--` ends flags");
	free(pos);
	fc_strv_free(env);
	env = NULL;

	char *argv2[] = {"exec", "-e", "X=1", "cid", "sh", "-c", "echo", NULL};
	r = fc_cli_parse(7, argv2, opts, true, &pos, &n, &help, &err);
	ok(r == 0 && n == 4 && !strcmp(pos[0], "cid") && !strcmp(pos[2], "-c"),
	   "stop at the first positional (exec's command keeps its flags)");
	free(pos);
	fc_strv_free(env);

	char *argv3[] = {"create", "--bogus", NULL};
	r = fc_cli_parse(2, argv3, opts, false, &pos, &n, &help, &err);
	ok(r < 0 && err && strstr(err->msg, "bogus"), "unknown flag names the flag");
	fc_error_free(err);
	err = NULL;

	char *argv4[] = {"create", "--bundle", NULL};
	r = fc_cli_parse(2, argv4, opts, false, &pos, &n, &help, &err);
	ok(r < 0 && err && strstr(err->msg, "bundle"), "missing value names the flag");
	fc_error_free(err);
	err = NULL;

	char *argv5[] = {"run", "--preserve-fds", "x", NULL};
	r = fc_cli_parse(3, argv5, opts, false, &pos, &n, &help, &err);
	ok(r < 0 && err && strstr(err->msg, "preserve-fds"), "bad integer names the flag");
	fc_error_free(err);
	err = NULL;

	char *argv6[] = {"run", "--detach=false", "-h", NULL};
	detach = true;
	r = fc_cli_parse(3, argv6, opts, false, &pos, &n, &help, &err);
	ok(r == 0 && !detach && help, "--flag=false and -h");
	free(pos);
}

static void test_ids(void)
{
	ok(fcrt_id_valid("abc-DEF_1.2+x"), "valid id");
	ok(!fcrt_id_valid(""), "empty id is invalid");
	ok(!fcrt_id_valid("a/b"), "slash is invalid");
	ok(!fcrt_id_valid(".."), "`..` is invalid");
	ok(!fcrt_id_valid("a b"), "space is invalid");
}

static void test_state(void)
{
	char tmpl[] = "/tmp/fcrun-unit.XXXXXX";
	char *root = mkdtemp(tmpl);
	struct fc_error *err = NULL;
	struct fcrt_state *st = NULL;
	ok(root != NULL, "temp root");
	_cleanup_free_ char *dir = fc_asprintf("%s/c1", root);
	mkdir(dir, 0711);
	const char *doc =
	    "{\"ociVersion\":\"1.0.2\",\"id\":\"c1\",\"pid\":999999,\"start_time\":1,"
	    "\"bundle\":\"/b\",\"rootfs\":\"/b/rootfs\",\"created\":\"2026-01-01T00:00:00Z\","
	    "\"owner\":\"\",\"cgroup_path\":\"\",\"annotations\":{\"k\":\"v\"}}";
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	ok(fc_write_file_atomic_at(dfd, "state.json", doc, strlen(doc), 0600, &err) == 0,
	   "write a state file atomically");
	ok(fcrt_state_load(root, "c1", &st, &err) == 0, "load it");
	if (st) {
		ok(st->status == FCRT_STOPPED && st->pid == 0,
		   "a gone process reads as stopped, pid 0");
		ok(!strcmp(st->bundle, "/b") && !strcmp(st->rootfs, "/b/rootfs"),
		   "bundle and rootfs");
		ok(st->n_annotations == 1 && !strcmp(st->annotations[0].value, "v"), "annotations");
		struct fc_buf b = {0};
		fcrt_state_json(st, &b, true);
		ok(strstr(b.data, "\"status\": \"stopped\"") &&
		       strstr(b.data, "\"ociVersion\": \"1.0.2-dev\"") &&
		       strstr(b.data, "\"annotations\": {") && b.data[0] == '{',
		   "runc's indented state JSON");
		free(b.data);
		fcrt_state_free(st);
	}
	st = NULL;
	ok(fcrt_state_load(root, "nope", &st, &err) == -ENOENT && err &&
	       strstr(err->msg, "does not exist"),
	   "a missing container: ENOENT, `container does not exist`");
	fc_error_free(err);
	err = NULL;
	_cleanup_free_ char *bad = fc_asprintf("%s/c2", root);
	mkdir(bad, 0711);
	_cleanup_close_ int bfd = open(bad, O_RDONLY | O_DIRECTORY);
	fc_write_file_atomic_at(bfd, "state.json", "{nope", 5, 0600, &err);
	ok(fcrt_state_load(root, "c2", &st, &err) < 0 && err && strstr(err->msg, "corrupt"),
	   "a corrupt state file is an error naming it");
	fc_error_free(err);
	err = NULL;
	char **ids = NULL;
	ok(fcrt_list(root, &ids, &err) == 0 && fc_strv_len(ids) == 2 && !strcmp(ids[0], "c1"),
	   "list: sorted ids");
	fc_strv_free(ids);
	fc_rm_rf_at(AT_FDCWD, root, &err);
	fc_error_free(err);
}

int main(void)
{
	test_flags();
	test_ids();
	test_state();
	return tap_done();
}
