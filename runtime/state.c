/* SPDX-License-Identifier: MIT */
/* state.c: <root>/<id>/state.json (written atomically), live status,
 * runc's state JSON, list. The sync socket's messages are in sync-socket.c. */
#include "internal.h"
#include "cgroup/cgroup.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <yajl/yajl_tree.h>

const char *fcrt_status_name(enum fcrt_status s)
{
	static const char *const n[] = {"creating", "created", "running", "paused", "stopped"};
	return s <= FCRT_STOPPED ? n[s] : "unknown";
}

bool fcrt_id_valid(const char *id)
{
	size_t n = id ? strlen(id) : 0;
	if (n == 0 || n > 1024 || FC_STREQ(id, ".") || FC_STREQ(id, ".."))
		return false;
	for (const char *p = id; *p; p++) {
		char ch = *p;
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '+' || ch == '-' || ch == '.'))
			return false;
	}
	return true;
}

int fc_pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

unsigned long long fc_proc_start_time(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* comm may contain spaces and parentheses: fields start after the last ')' */
	char *p = strrchr(buf, ')');
	if (!p)
		return 0;
	p += 2; /* field 3 (state) */
	if (*p == 'Z' || *p == 'X')
		return 0; /* a zombie is as good as gone */
	for (int field = 3; field < 22 && p; field++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	return p ? strtoull(p, NULL, 10) : 0;
}

char *fc_state_hook_json(const char *id, const char *status, pid_t pid, const char *bundle,
                         const struct fc_spec *s)
{
	struct fc_buf b = {0};
	fc_buf_printf(&b, "{\"ociVersion\":");
	fc_buf_json_string(&b, s && s->oci_version ? s->oci_version : FCRT_OCI_VERSION);
	fc_buf_printf(&b, ",\"id\":");
	fc_buf_json_string(&b, id);
	fc_buf_printf(&b, ",\"status\":\"%s\"", status);
	if (pid > 0)
		fc_buf_printf(&b, ",\"pid\":%d", (int)pid);
	fc_buf_printf(&b, ",\"bundle\":");
	fc_buf_json_string(&b, bundle);
	if (s && s->n_annotations) {
		fc_buf_printf(&b, ",\"annotations\":{");
		for (size_t i = 0; i < s->n_annotations; i++) {
			if (i)
				fc_buf_append(&b, ",", 1);
			fc_buf_json_string(&b, s->annotations[i].key);
			fc_buf_append(&b, ":", 1);
			fc_buf_json_string(&b, s->annotations[i].value);
		}
		fc_buf_append(&b, "}", 1);
	}
	fc_buf_append(&b, "}", 1);
	return b.data;
}

/* state.json: runc's fields plus ours (start_time, cgroup_path). */
int fc_state_write(struct fc_create *c, pid_t pid, unsigned long long start_time,
                   struct fc_error **err)
{
	_cleanup_buf_ struct fc_buf b = {0};
	char created[48];
	const struct fc_spec *s = c->spec;
	fc_rfc3339_now(created, sizeof(created));
	fc_buf_printf(&b, "{\"ociVersion\":");
	fc_buf_json_string(&b, s->oci_version ? s->oci_version : FCRT_OCI_VERSION);
	fc_buf_printf(&b, ",\"id\":");
	fc_buf_json_string(&b, c->opts->id);
	fc_buf_printf(&b, ",\"pid\":%d,\"start_time\":%llu,\"bundle\":", (int)pid, start_time);
	fc_buf_json_string(&b, c->bundle);
	fc_buf_printf(&b, ",\"rootfs\":");
	fc_buf_json_string(&b, s->root_path);
	fc_buf_printf(&b, ",\"created\":\"%s\",\"owner\":\"\",\"cgroup_path\":", created);
	fc_buf_json_string(&b, c->cgroup_path ? c->cgroup_path : "");
	const struct fc_namespace *pidns = fc_spec_ns(s, FC_NS_PID);
	fc_buf_printf(&b,
	              ",\"systemd_cgroup\":%s,\"poststart_hooks\":%zu,\"poststop_hooks\":%zu,"
	              "\"own_pidns\":%s,\"annotations\":{",
	              c->opts->systemd_cgroup ? "true" : "false", s->n_hooks[FC_HOOK_POSTSTART],
	              s->n_hooks[FC_HOOK_POSTSTOP], pidns && !pidns->path ? "true" : "false");
	for (size_t i = 0; i < s->n_annotations; i++) {
		if (i)
			fc_buf_append(&b, ",", 1);
		fc_buf_json_string(&b, s->annotations[i].key);
		fc_buf_append(&b, ":", 1);
		fc_buf_json_string(&b, s->annotations[i].value);
	}
	fc_buf_append(&b, "}}\n", 3);
	/* Through create's O_PATH fd of the state directory; config.json is
	 * copied beside state.json for delete's poststop hooks (and exec). It is
	 * read only once state.json exists, so it is written first and in place
	 * (the state dir is this create's own); state.json with a rename. */
	_cleanup_close_ int fd = openat(c->state_dirfd, "config.json",
	                                O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	int r = fd < 0 ? -errno : fc_write_all(fd, c->config_json, c->config_len);
	if (r < 0)
		fc_error_set(err, -r, "write `config.json`");
	if (r < 0 ||
	    fc_write_file_atomic_at(c->state_dirfd, "state.json", b.data, b.len, 0600, err) < 0)
		return fc_error_wrap(err, "write state of `%s` in `%s`", c->opts->id, c->state_dir);
	return 0;
}

static const char *jstr(yajl_val v, const char *key)
{
	const char *path[] = {key, NULL};
	yajl_val x = yajl_tree_get(v, path, yajl_t_string);
	return x ? YAJL_GET_STRING(x) : NULL;
}

static long long jint(yajl_val v, const char *key)
{
	const char *path[] = {key, NULL};
	yajl_val x = yajl_tree_get(v, path, yajl_t_number);
	return x && YAJL_IS_INTEGER(x) ? YAJL_GET_INTEGER(x) : 0;
}

/* A hook count of state.json; -1 when absent (an older fcrun's state). */
static int hook_count(yajl_val v, const char *key)
{
	const char *path[] = {key, NULL};
	yajl_val x = yajl_tree_get(v, path, yajl_t_number);
	return x && YAJL_IS_INTEGER(x) && YAJL_GET_INTEGER(x) >= 0 && YAJL_GET_INTEGER(x) < 1 << 20
	           ? (int)YAJL_GET_INTEGER(x)
	           : -1;
}

void fcrt_state_free(struct fcrt_state *s)
{
	if (!s)
		return;
	free(s->oci_version);
	free(s->id);
	free(s->bundle);
	free(s->rootfs);
	free(s->created);
	free(s->owner);
	free(s->cgroup_path);
	for (size_t i = 0; i < s->n_annotations; i++) {
		free(s->annotations[i].key);
		free(s->annotations[i].value);
	}
	free(s->annotations);
	free(s);
}

static bool exec_socket_exists(const char *root, const char *id)
{
	_cleanup_free_ char *p = fc_asprintf("%s/%s/exec.sock", root, id);
	return access(p, F_OK) == 0;
}

int fcrt_state_load(const char *root, const char *id, struct fcrt_state **out,
                    struct fc_error **err)
{
	_cleanup_free_ char *path = NULL, *data = NULL;
	char ebuf[256];
	if (!fcrt_id_valid(id))
		return fc_error_set(err, EINVAL, "invalid container id `%s`", id ? id : "");
	path = fc_asprintf("%s/%s/state.json", root, id);
	if (access(path, F_OK) < 0) {
		_cleanup_free_ char *dir = fc_asprintf("%s/%s", root, id);
		if (access(dir, F_OK) == 0)
			return fc_error_set(err, ENOENT,
			                    "container `%s` is being created or deleted", id);
		return fc_error_set(err, 0, "container does not exist"), -ENOENT;
	}
	size_t len = 0;
	if (fc_read_file_at(AT_FDCWD, path, &data, &len, 0, err) < 0)
		return fc_error_wrap(err, "read state of `%s`", id);
	if (fc_json_check_depth(data, len, FC_JSON_MAX_DEPTH, path, err) < 0)
		return -EINVAL;
	yajl_val v = yajl_tree_parse(data, ebuf, sizeof(ebuf));
	if (!v || !YAJL_IS_OBJECT(v)) {
		yajl_tree_free(v);
		return fc_error_set(err, EINVAL, "state file `%s` is corrupt", path);
	}
	struct fcrt_state *s = fc_calloc(1, sizeof(*s));
	s->oci_version =
	    fc_strdup(FCRT_OCI_VERSION); /* the runtime's spec version, as runc reports */
	s->id = fc_strdup(id);
	s->pid = (pid_t)jint(v, "pid");
	s->start_time = (unsigned long long)jint(v, "start_time");
	s->bundle = fc_strdup(jstr(v, "bundle") ? jstr(v, "bundle") : "");
	s->rootfs = fc_strdup(jstr(v, "rootfs") ? jstr(v, "rootfs") : "");
	s->created = fc_strdup(jstr(v, "created") ? jstr(v, "created") : "");
	s->owner = fc_strdup(jstr(v, "owner") ? jstr(v, "owner") : "");
	s->cgroup_path = fc_strdup(jstr(v, "cgroup_path") ? jstr(v, "cgroup_path") : "");
	{
		const char *p[] = {"systemd_cgroup", NULL};
		s->systemd_cgroup = YAJL_IS_TRUE(yajl_tree_get(v, p, yajl_t_true));
	}
	{
		const char *p[] = {"own_pidns", NULL};
		yajl_val o = yajl_tree_get(v, p, yajl_t_any);
		s->own_pidns = YAJL_IS_TRUE(o) ? 1 : YAJL_IS_FALSE(o) ? 0 : -1;
		s->poststart_hooks = hook_count(v, "poststart_hooks");
		s->poststop_hooks = hook_count(v, "poststop_hooks");
	}
	{
		const char *p[] = {"annotations", NULL};
		yajl_val a = yajl_tree_get(v, p, yajl_t_object);
		if (a && a->u.object.len) {
			s->annotations = fc_calloc(a->u.object.len, sizeof(*s->annotations));
			for (size_t i = 0; i < a->u.object.len; i++) {
				yajl_val val = a->u.object.values[i];
				s->annotations[s->n_annotations].key =
				    fc_strdup(a->u.object.keys[i]);
				s->annotations[s->n_annotations].value =
				    fc_strdup(YAJL_IS_STRING(val) ? YAJL_GET_STRING(val) : "");
				s->n_annotations++;
			}
		}
	}
	yajl_tree_free(v);

	/* Live status: the init process is alive (same start time) -> created
	 * while exec.sock exists, else running or paused; gone -> stopped. */
	if (s->pid > 0 && s->start_time && fc_proc_start_time(s->pid) == s->start_time) {
		if (exec_socket_exists(root, id)) {
			s->status = FCRT_CREATED;
		} else {
			s->status = FCRT_RUNNING;
			struct fc_cgroup *cg = NULL;
			struct fc_error *e2 = NULL;
			if (*s->cgroup_path && fc_cgroup_open(s->cgroup_path, &cg, &e2) >= 0) {
				if (fc_cgroup_is_frozen(cg))
					s->status = FCRT_PAUSED;
				fc_cgroup_free(cg);
			}
			fc_error_free(e2);
		}
	} else {
		s->status = FCRT_STOPPED;
		s->pid = 0;
	}
	*out = s;
	return 0;
}

void fcrt_state_json(const struct fcrt_state *s, struct fc_buf *b, bool indent)
{
	const char *nl = indent ? "\n  " : "";
	const char *sp = indent ? " " : "";
	fc_buf_printf(b, "{%s\"ociVersion\":%s", nl, sp);
	fc_buf_json_string(b, s->oci_version);
	fc_buf_printf(b, ",%s\"id\":%s", nl, sp);
	fc_buf_json_string(b, s->id);
	fc_buf_printf(b, ",%s\"pid\":%s%d,%s\"status\":%s\"%s\",%s\"bundle\":%s", nl, sp,
	              (int)s->pid, nl, sp, fcrt_status_name(s->status), nl, sp);
	fc_buf_json_string(b, s->bundle);
	fc_buf_printf(b, ",%s\"rootfs\":%s", nl, sp);
	fc_buf_json_string(b, s->rootfs);
	fc_buf_printf(b, ",%s\"created\":%s", nl, sp);
	fc_buf_json_string(b, s->created);
	if (s->n_annotations) {
		fc_buf_printf(b, ",%s\"annotations\":%s{", nl, sp);
		for (size_t i = 0; i < s->n_annotations; i++) {
			fc_buf_printf(b, "%s%s", i ? "," : "", indent ? "\n    " : "");
			fc_buf_json_string(b, s->annotations[i].key);
			fc_buf_printf(b, ":%s", sp);
			fc_buf_json_string(b, s->annotations[i].value);
		}
		fc_buf_printf(b, "%s}", indent ? "\n  " : "");
	}
	fc_buf_printf(b, ",%s\"owner\":%s", nl, sp);
	fc_buf_json_string(b, s->owner);
	fc_buf_printf(b, "%s}", indent ? "\n" : "");
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int fcrt_list(const char *root, char ***ids, struct fc_error **err)
{
	DIR *d = opendir(root);
	struct dirent *de;
	size_t n = 0, cap = 8;
	char **v = fc_calloc(cap + 1, sizeof(char *));
	if (!d) {
		if (errno == ENOENT) {
			*ids = v;
			return 0;
		}
		free(v);
		return fc_error_set(err, errno, "open `%s`", root);
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || !fcrt_id_valid(de->d_name))
			continue;
		struct stat st;
		if (fstatat(dirfd(d), de->d_name, &st, 0) < 0 || !S_ISDIR(st.st_mode))
			continue;
		if (n == cap) {
			cap *= 2;
			v = fc_realloc(v, (cap + 1) * sizeof(char *));
		}
		v[n++] = fc_strdup(de->d_name);
		v[n] = NULL;
	}
	closedir(d);
	qsort(v, n, sizeof(char *), cmp_str);
	*ids = v;
	return 0;
}
