/* SPDX-License-Identifier: MIT */
/* libfcrt: containers created from one parsed spec (fcrt_create_opts.spec),
 * each with its own root filesystem (a relative root.path against its
 * bundle, or fcrt_create_opts.rootfs), as the pool's fork servers do: the
 * spec is parsed once and left as it was. Root only; exits 77 otherwise. */
#include "fcrt.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

static int n_checks, failures;
static void check(bool ok, const char *what)
{
	n_checks++;
	printf("%s %d - %s\n", ok ? "ok" : "not ok", n_checks, what);
	if (!ok)
		failures++;
}

/* create id from spec (bundle, rootfs override), start it with stdout to a
 * pipe, return what it printed (and its exit status in *status). */
static char *run(const char *root, const char *id, const struct fc_spec *spec, const char *bundle,
                 const char *rootfs, int *status)
{
	struct fcrt_create_opts o = {.root = root,
	                             .id = id,
	                             .bundle = bundle,
	                             .spec = spec,
	                             .rootfs = rootfs,
	                             .wait = FCRT_WAIT_SOCKET};
	struct fcrt_container *c = NULL;
	struct fc_error *err = NULL;
	if (fcrt_create(&o, &c, &err) < 0) {
		printf("# create %s: %s\n", id, err->msg);
		fc_error_free(err);
		return NULL;
	}
	int out[2];
	if (pipe2(out, O_CLOEXEC) < 0)
		exit(1);
	struct fcrt_start_args a = {.stdio = {-1, out[1], -1}};
	if (fcrt_start_socket_ex(c, &a, &err) < 0) {
		printf("# start %s: %s\n", id, err->msg);
		fc_error_free(err);
	}
	close(out[1]);
	char buf[256] = {0};
	ssize_t n = fc_read_all(out[0], buf, sizeof(buf) - 1);
	close(out[0]);
	waitpid(c->pid, status, 0);
	fcrt_container_free(c);
	return n >= 0 ? fc_strdup(buf) : NULL;
}

static char *spec_json(const struct fc_spec *s)
{
	struct fc_buf b = {0};
	fcrt_spec_json(s, false, &b);
	return b.data;
}

int main(void)
{
	if (getuid() != 0) {
		printf("1..0 # SKIP needs root\n");
		return 77;
	}
	const char *src = getenv("FC_SOURCE_ROOT");
	char tmpl[] = "/tmp/fcrun-create-spec.XXXXXX";
	char *dir = mkdtemp(tmpl);
	if (!src || !dir) {
		printf("1..0 # SKIP FC_SOURCE_ROOT not set\n");
		return 77;
	}
	char *root = fc_asprintf("%s/state", dir), *b1 = fc_asprintf("%s/b1", dir),
	     *b2 = fc_asprintf("%s/b2", dir), *other = fc_asprintf("%s/other-rootfs", dir);
	char *cmd = fc_asprintf("%s/tests/lib/mkbundle.sh %s >/dev/null && cp -a %s %s && "
	                        "cp -a %s/rootfs %s && echo one > %s/rootfs/marker && "
	                        "echo two > %s/rootfs/marker && echo three > %s/marker",
	                        src, b1, b1, b2, b1, other, b1, b2, other);
	if (system(cmd) != 0) {
		printf("1..0 # SKIP cannot build a bundle\n");
		fc_rm_rf_at(AT_FDCWD, dir, NULL);
		return 77;
	}
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);

	/* The one default, made to run a command without a terminal. */
	_cleanup_spec_ struct fc_spec *spec = fcrt_spec_default();
	spec->process->terminal = false;
	char *args[] = {"/bin/cat", "/marker", NULL};
	fcrt_spec_set_args(spec, args);
	_cleanup_free_ char *before = spec_json(spec);

	int st = -1;
	_cleanup_free_ char *o1 = run(root, "cs1", spec, b1, NULL, &st);
	check(o1 && FC_STREQ(o1, "one\n") && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "relative root.path resolves against the first bundle");
	_cleanup_free_ char *o2 = run(root, "cs2", spec, b2, NULL, &st);
	check(o2 && FC_STREQ(o2, "two\n"), "the same spec with a second bundle");
	_cleanup_free_ char *o3 = run(root, "cs3", spec, b1, other, &st);
	check(o3 && FC_STREQ(o3, "three\n"), "fcrt_create_opts.rootfs overrides root.path");

	_cleanup_free_ char *after = spec_json(spec);
	check(FC_STREQ(before, after) && FC_STREQ(spec->root_path, "rootfs"),
	      "the caller's spec is left as it was");

	struct fcrt_state *s = NULL;
	struct fc_error *err = NULL;
	check(fcrt_state_load(root, "cs3", &s, &err) == 0 && FC_STREQ(s->rootfs, other),
	      "state: rootfs is the override");
	fcrt_state_free(s);
	/* exec and delete read the state dir's config.json: it names the rootfs used */
	_cleanup_free_ char *cfg_path = fc_asprintf("%s/cs3/config.json", root);
	_cleanup_free_ char *cfg = NULL;
	size_t len = 0;
	struct fc_spec *saved = NULL;
	check(fc_read_file_at(AT_FDCWD, cfg_path, &cfg, &len, 0, &err) == 0 &&
	          fcrt_spec_parse(cfg, len, "/elsewhere", &saved, &err) == 0 &&
	          FC_STREQ(saved->root_path, other) &&
	          FC_STREQ(saved->process->args[0], "/bin/cat"),
	      "the state dir keeps the created spec's config.json");
	fcrt_spec_free(saved);

	/* A parsed config.json (no bundle: root.path stays relative) serves as well. */
	struct fc_spec *parsed = NULL;
	_cleanup_free_ char *b1cfg = fc_asprintf("%s/config.json", b1);
	_cleanup_free_ char *doc = NULL;
	check(fc_read_file_at(AT_FDCWD, b1cfg, &doc, &len, 0, &err) == 0 &&
	          fcrt_spec_parse(doc, len, NULL, &parsed, &err) == 0,
	      "parse the bundle's config.json once");
	if (parsed) {
		fcrt_spec_set_args(parsed, args);
		_cleanup_free_ char *o4 = run(root, "cs4", parsed, b2, NULL, &st);
		check(o4 && FC_STREQ(o4, "two\n"), "create from the parsed config.json");
		fcrt_spec_free(parsed);
	}

	/* A failing create from a spec leaves nothing. */
	struct fcrt_create_opts bad = {.root = root,
	                               .id = "cs-bad",
	                               .bundle = b1,
	                               .spec = spec,
	                               .rootfs = "/nonexistent/rootfs",
	                               .wait = FCRT_WAIT_SOCKET};
	struct fcrt_container *c = NULL;
	int r = fcrt_create(&bad, &c, &err);
	_cleanup_free_ char *bad_dir = fc_asprintf("%s/cs-bad", root);
	struct stat sb;
	check(r < 0 && err && strstr(err->msg, "/nonexistent/rootfs") && stat(bad_dir, &sb) < 0,
	      "a missing rootfs is named in the error and leaves no state");
	if (err)
		printf("# %s\n", err->msg);
	fc_error_free(err);
	err = NULL;

	const char *ids[] = {"cs1", "cs2", "cs3", "cs4"};
	bool deleted = true;
	for (size_t i = 0; i < FC_ARRAY_SIZE(ids); i++) {
		if (fcrt_delete(root, ids[i], true, &err) < 0) {
			printf("# delete %s: %s\n", ids[i], err->msg);
			fc_error_free(err);
			err = NULL;
			deleted = false;
		}
	}
	check(deleted, "delete");
	fc_rm_rf_at(AT_FDCWD, dir, NULL);
	free(root);
	free(b1);
	free(b2);
	free(other);
	free(cmd);
	printf("1..%d\n", n_checks);
	return failures ? 1 : 0;
}
