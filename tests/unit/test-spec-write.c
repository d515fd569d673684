/* SPDX-License-Identifier: MIT */
/* test-spec-write: the typed spec's public API (fcrt.h): the one default,
 * serialising (every field), parse -> JSON -> parse round trips, edits, and
 * creating from a parsed spec's view of root.path.
 * Usage: test-spec-write DATA_DIR (tests/unit/data: config-full.json,
 * spec-default.json, spec-rootless.json) */
#include "fcrt.h"
#include "tap.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <sys/mount.h>
#include <yajl/yajl_tree.h>

static const char *g_data;

static char *slurp(const char *name, size_t *len)
{
	_cleanup_free_ char *p = fc_asprintf("%s/%s", g_data, name);
	char *d = NULL;
	struct fc_error *e = NULL;
	if (fc_read_file_at(AT_FDCWD, p, &d, len, 0, &e) < 0) {
		fprintf(stderr, "%s\n", e->msg);
		exit(1);
	}
	return d;
}

static char *to_json(const struct fc_spec *s, bool indent)
{
	struct fc_buf b = {0};
	fcrt_spec_json(s, indent, &b);
	return b.data;
}

/* parse(json) with no bundle, or NULL with the error printed */
static struct fc_spec *parse(const char *json, size_t len)
{
	struct fc_spec *s = NULL;
	struct fc_error *e = NULL;
	if (fcrt_spec_parse(json, len, NULL, &s, &e) < 0) {
		printf("# parse: %s\n", e->msg);
		fc_error_free(e);
		return NULL;
	}
	return s;
}

/* ---- leaves of a JSON document: "path=value" lines --------------------- */

static void leaves(yajl_val v, const char *path, struct fc_buf *out)
{
	if (YAJL_IS_OBJECT(v)) {
		for (size_t i = 0; i < v->u.object.len; i++) {
			_cleanup_free_ char *p = fc_asprintf("%s.%s", path, v->u.object.keys[i]);
			leaves(v->u.object.values[i], p, out);
		}
	} else if (YAJL_IS_ARRAY(v)) {
		for (size_t i = 0; i < v->u.array.len; i++) {
			_cleanup_free_ char *p = fc_asprintf("%s[%zu]", path, i);
			leaves(v->u.array.values[i], p, out);
		}
		if (!v->u.array.len)
			fc_buf_printf(out, "%s=[]\n", path);
	} else if (YAJL_IS_STRING(v)) {
		fc_buf_printf(out, "%s=\"%s\"\n", path, v->u.string);
	} else if (YAJL_IS_NUMBER(v)) {
		fc_buf_printf(out, "%s=%s\n", path, YAJL_GET_NUMBER(v));
	} else if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v)) {
		fc_buf_printf(out, "%s=%s\n", path, YAJL_IS_TRUE(v) ? "true" : "false");
	}
}

static char *leaves_of(const char *json)
{
	char ebuf[256];
	_cleanup_free_ char *copy = fc_strdup(json);
	yajl_val v = yajl_tree_parse(copy, ebuf, sizeof(ebuf));
	struct fc_buf b = {0};
	if (!v)
		return fc_strdup("");
	leaves(v, "", &b);
	yajl_tree_free(v);
	return b.data ? b.data : fc_strdup("");
}

/* What parse ignores (documented in fcrt.h and README): not in the output. */
static bool ignored(const char *line)
{
	static const char *const prefixes[] = {
	    ".process.user.username", ".process.scheduler",  ".linux.intelRdt",
	    ".linux.futureKey",       ".unknownTopLevelKey",
	};
	for (size_t i = 0; i < FC_ARRAY_SIZE(prefixes); i++)
		if (strncmp(line, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return false;
}

/* What parse normalises (the same meaning, another spelling): a relative
 * mount destination is taken from "/" (as runc 1.1 does), and
 * SCMP_ACT_KILL_THREAD is SCMP_ACT_KILL. NULL when l has neither. */
static char *normalised(const char *l)
{
	const char *eq = strchr(l, '=');
	if (!eq)
		return NULL;
	if (strstr(l, ".destination=\"") && eq[2] != '/')
		return fc_asprintf("%.*s=\"/%s", (int)(eq - l), l, eq + 2);
	if (FC_STREQ(eq, "=\"SCMP_ACT_KILL_THREAD\""))
		return fc_asprintf("%.*s=\"SCMP_ACT_KILL\"", (int)(eq - l), l);
	return NULL;
}

/* Every leaf of the original (but the ignored ones) is in the serialised
 * document with the same value (or its normalised spelling). */
static void check_every_field(const char *what, const char *orig, const char *written)
{
	_cleanup_free_ char *a = leaves_of(orig), *b = leaves_of(written);
	size_t n = 0, missing = 0;
	for (char *save = NULL, *l = strtok_r(a, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (ignored(l))
			continue;
		n++;
		_cleanup_free_ char *needle = fc_asprintf("\n%s\n", l);
		_cleanup_free_ char *hay = fc_asprintf("\n%s", b);
		_cleanup_free_ char *norm = normalised(l);
		_cleanup_free_ char *needle2 = norm ? fc_asprintf("\n%s\n", norm) : NULL;
		if (!strstr(hay, needle) && !(needle2 && strstr(hay, needle2))) {
			printf("#   %s: not written: %s\n", what, l);
			missing++;
		}
	}
	ok(n > 0 && missing == 0, "%s: all %zu fields written with their values (%zu missing)",
	   what, n, missing);
}

static void round_trip(const char *what, const char *json, size_t len)
{
	_cleanup_spec_ struct fc_spec *s1 = parse(json, len);
	ok(s1 != NULL, "%s: parses", what);
	if (!s1)
		return;
	for (int indent = 0; indent < 2; indent++) {
		_cleanup_free_ char *j1 = to_json(s1, indent);
		_cleanup_spec_ struct fc_spec *s2 = parse(j1, strlen(j1));
		_cleanup_free_ char *j2 = s2 ? to_json(s2, indent) : NULL;
		ok(s2 && FC_STREQ(j1, j2), "%s: JSON -> parse -> JSON is the same (%s)", what,
		   indent ? "indented" : "compact");
	}
	_cleanup_free_ char *j = to_json(s1, false);
	check_every_field(what, json, j);
}

/* ---- the default ------------------------------------------------------- */

static void test_default(void)
{
	size_t len;
	_cleanup_free_ char *golden = slurp("spec-default.json", &len);
	_cleanup_free_ char *golden_rl = slurp("spec-rootless.json", &len);
	_cleanup_spec_ struct fc_spec *s = fcrt_spec_default();
	_cleanup_free_ char *j = to_json(s, true);
	ok(FC_STREQ(j, golden),
	   "fcrt_spec_default: the config.json `fcrun spec` wrote before, byte "
	   "for byte (runc's layout)");
	ok(s->process && s->process->terminal && FC_STREQ(s->process->args[0], "sh") &&
	       s->root_readonly && FC_STREQ(s->root_path, "rootfs"),
	   "default: sh on a terminal, rootfs read-only");
	ok(s->process->caps.n_bounding == 3 && s->process->caps.bounding[0] == CAP_AUDIT_WRITE &&
	       !s->process->caps.inheritable,
	   "default: capabilities, no inheritable set");
	ok(s->n_mounts == 7 && (s->mounts[1].flags & MS_NOSUID) &&
	       FC_STREQ(s->mounts[1].data, "mode=755,size=65536k") &&
	       (s->mounts[5].flags & MS_RDONLY),
	   "default: mounts carry their derived flags and data");
	round_trip("default", j, strlen(j));

	_cleanup_spec_ struct fc_spec *r = fcrt_spec_default();
	fcrt_spec_rootless(r, 0, 0);
	_cleanup_free_ char *jr = to_json(r, true);
	ok(FC_STREQ(jr, golden_rl),
	   "fcrt_spec_rootless: what `fcrun spec --rootless` wrote before");
	ok(r->n_mounts == 7 && FC_STREQ(r->mounts[5].type, "none") && r->mounts[5].bind &&
	       r->mounts[5].recursive && !r->resources,
	   "rootless: /sys is an rbind mount, no resources");
	round_trip("rootless", jr, strlen(jr));
}

/* ---- every field ------------------------------------------------------- */

/* What config-full.json leaves out: the fields that are absent there. */
static const char extra_doc[] =
    "{\"ociVersion\":\"1.1.0\",\"process\":{\"terminal\":false,\"user\":{\"uid\":0,\"gid\":0},"
    "\"args\":[\"true\"],\"cwd\":\"/\",\"capabilities\":{\"inheritable\":[\"CAP_CHOWN\"],"
    "\"bounding\":[]},\"rlimits\":[],\"noNewPrivileges\":false},"
    "\"root\":{\"path\":\"/abs/rootfs\"},"
    "\"mounts\":[{\"destination\":\"/x\",\"type\":\"bind\",\"source\":\"/y\"},"
    "{\"destination\":\"/t\",\"type\":\"tmpfs\",\"options\":[]}],"
    "\"hooks\":{\"poststop\":[]},"
    "\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"time\"}],"
    "\"devices\":[{\"path\":\"/dev/fifo\",\"type\":\"p\",\"major\":0,\"minor\":0}],"
    "\"resources\":{\"blockIO\":{\"weightDevice\":[{\"major\":8,\"minor\":0,"
    "\"leafWeight\":10}]},\"devices\":[{\"allow\":true}]},"
    "\"seccomp\":{\"defaultAction\":\"SCMP_ACT_TRACE\",\"defaultErrnoRet\":7,"
    "\"syscalls\":[{\"names\":[\"kill\"],\"action\":\"SCMP_ACT_NOTIFY\"},"
    "{\"names\":[\"ptrace\"],\"action\":\"SCMP_ACT_KILL_PROCESS\"},"
    "{\"names\":[\"mount\"],\"action\":\"SCMP_ACT_LOG\"},"
    "{\"names\":[\"umount2\"],\"action\":\"SCMP_ACT_TRAP\"},"
    "{\"names\":[\"reboot\"],\"action\":\"SCMP_ACT_KILL\"},"
    "{\"names\":[\"getpid\"],\"action\":\"SCMP_ACT_ALLOW\"}]},"
    "\"personality\":{\"domain\":\"LINUX32\",\"flags\":[\"ADDR_NO_RANDOMIZE\"]},"
    "\"timeOffsets\":{\"monotonic\":{\"secs\":-5,\"nanosecs\":7}}}}";

static void test_every_field(void)
{
	size_t len;
	_cleanup_free_ char *full = slurp("config-full.json", &len);
	round_trip("config-full.json", full, len);
	round_trip("the fields config-full.json leaves out", extra_doc, strlen(extra_doc));

	/* empty and absent differ */
	_cleanup_spec_ struct fc_spec *s = parse(extra_doc, strlen(extra_doc));
	_cleanup_free_ char *j = s ? to_json(s, false) : fc_strdup("");
	ok(strstr(j, "\"bounding\":[]") && !strstr(j, "\"effective\"") &&
	       strstr(j, "\"rlimits\":[]"),
	   "an empty set is written, an absent one is not");
	ok(strstr(j, "\"path\":\"/abs/rootfs\"") && !strstr(j, "\"readonly\""),
	   "root.path as written; readonly false is left out, as runc does");
}

/* ---- parse: bundle, nesting ------------------------------------------- */

static void test_parse(void)
{
	static const char doc[] = "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"./rfs\"},"
	                          "\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\"}}";
	struct fc_spec *s = NULL;
	struct fc_error *e = NULL;
	ok(fcrt_spec_parse(doc, strlen(doc), NULL, &s, &e) == 0 && FC_STREQ(s->root_path, "./rfs"),
	   "parse without a bundle keeps root.path as written");
	fcrt_spec_free(s);
	s = NULL;
	ok(fcrt_spec_parse(doc, strlen(doc), "/b/x/", &s, &e) == 0 &&
	       FC_STREQ(s->root_path, "/b/x/rfs"),
	   "parse with a bundle makes root.path absolute");
	fcrt_spec_free(s);
	s = NULL;

	size_t n = 100000;
	char *deep = fc_malloc(2 * n + 64);
	size_t k = (size_t)sprintf(deep, "{\"ociVersion\":\"1\",\"x\":");
	for (size_t i = 0; i < n; i++)
		deep[k++] = '[';
	for (size_t i = 0; i < n; i++)
		deep[k++] = ']';
	deep[k++] = '}';
	int r = fcrt_spec_parse(deep, k, NULL, &s, &e);
	ok(r < 0 && e && strstr(e->msg, "depth"), "a document 100000 deep is refused (%s)",
	   e ? e->msg : "no error");
	fc_error_free(e);
	e = NULL;
	free(deep);

	static const char bad[] = "{\"ociVersion\":\"1\",\"root\":{\"path\":\"r\"},"
	                          "\"process\":{\"args\":[],\"cwd\":\"/\"}}";
	r = fcrt_spec_parse(bad, strlen(bad), NULL, &s, &e);
	ok(r < 0 && e && strstr(e->msg, "process.args"), "errors name the field (%s)",
	   e ? e->msg : "no error");
	fc_error_free(e);
}

/* ---- edits -------------------------------------------------------------- */

static void test_edits(void)
{
	_cleanup_spec_ struct fc_spec *s = fcrt_spec_default();
	char *args[] = {"/bin/echo", "hi", NULL};
	fcrt_spec_set_args(s, args);
	ok(fc_strv_len(s->process->args) == 2 && s->process->args[0] != args[0] &&
	       FC_STREQ(s->process->args[1], "hi"),
	   "set_args copies");
	fcrt_spec_setenv(s, "TERM=dumb");
	fcrt_spec_setenv(s, "A=1");
	ok(fc_strv_len(s->process->env) == 3 && FC_STREQ(s->process->env[1], "TERM=dumb") &&
	       FC_STREQ(s->process->env[2], "A=1"),
	   "setenv replaces a key, appends a new one");
	fcrt_spec_annotate(s, "k", "1");
	fcrt_spec_annotate(s, "k", "2");
	ok(s->n_annotations == 1 && FC_STREQ(s->annotations[0].value, "2"),
	   "annotate sets and replaces");
	ok(fcrt_spec_remove_mount(s, "/dev/mqueue") == 1 && s->n_mounts == 6,
	   "remove_mount removes one");
	fcrt_spec_add_mount(s, "/data", "bind", "/srv/data",
	                    (const char *const[]){"rbind", "ro", "rslave", "x-opt=1", NULL});
	const struct fc_mount *m = &s->mounts[s->n_mounts - 1];
	ok(m->bind && m->recursive && (m->flags & MS_RDONLY) && (m->flags & MS_BIND) &&
	       m->propagation == (MS_SLAVE | MS_REC) && FC_STREQ(m->data, "x-opt=1"),
	   "add_mount derives flags, propagation and data as parse does");
	fcrt_spec_set_namespace(s, FC_NS_CGROUP, NULL);
	fcrt_spec_set_namespace(s, FC_NS_NETWORK, "/proc/1/ns/net");
	fcrt_spec_remove_namespace(s, FC_NS_IPC);
	ok(s->n_namespaces == 5 && s->namespaces[4].type == FC_NS_CGROUP &&
	       FC_STREQ(s->namespaces[1].path, "/proc/1/ns/net"),
	   "set_namespace adds or sets a path; remove_namespace removes");

	_cleanup_free_ char *j = to_json(s, false);
	struct fc_spec *c = NULL;
	struct fc_error *e = NULL;
	ok(fcrt_spec_copy(s, &c, &e) == 0, "copy");
	_cleanup_free_ char *jc = c ? to_json(c, false) : NULL;
	ok(jc && FC_STREQ(j, jc), "the copy writes the same JSON");
	fcrt_spec_free(c);
	round_trip("an edited default", j, strlen(j));
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s DATA_DIR\n", argv[0]);
		return 1;
	}
	g_data = argv[1];
	test_default();
	test_every_field();
	test_parse();
	test_edits();
	return tap_done();
}
