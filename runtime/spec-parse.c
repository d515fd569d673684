/* SPDX-License-Identifier: MIT */
/* spec-parse.c: config.json (OCI runtime-spec 1.0.2 / 1.1) and process.json into
 * the typed structs of spec.h, validated field by field as runc does. Unknown
 * keys are ignored (forward compatibility). linux.resources and
 * linux.seccomp live in spec-resources.c, the JSON getters in spec-json.c. */
#include "spec-json.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/ioprio.h>
#include <sys/mount.h>
#include <sys/personality.h>

/* ---- small helpers --------------------------------------------------- */

static void strv_push(char ***v, char *s)
{
	size_t n = fc_strv_len(*v);
	*v = fc_realloc(*v, (n + 2) * sizeof(**v));
	(*v)[n] = s;
	(*v)[n + 1] = NULL;
}

int fcj_idmaps(yajl_val obj, const char *where, const char *key, struct fc_idmap **out, size_t *n,
               struct fc_error **err)
{
	yajl_val a;
	int r = fcj_arr(obj, where, key, &a, err);
	if (r <= 0)
		return r;
	free(*out);
	*out = fc_calloc(a->u.array.len + 1, sizeof(**out));
	*n = a->u.array.len;
	for (size_t i = 0; i < a->u.array.len; i++) {
		OBJ_ELEM(a, where, key, i, e, p, err);
		uint64_t c, h, s;
		TRY(fcj_uint(e, p, "containerID", true, UINT32_MAX, &c, err));
		TRY(fcj_uint(e, p, "hostID", true, UINT32_MAX, &h, err));
		TRY(fcj_uint(e, p, "size", true, UINT32_MAX, &s, err));
		if (s == 0)
			return fcj_err(err, p, "size", "must not be 0");
		(*out)[i] = (struct fc_idmap){(uint32_t)c, (uint32_t)h, (uint32_t)s};
	}
	return 1;
}

/* ---- process --------------------------------------------------------- */

/* A capability name fcrun does not know is left out and recorded in
 * caps->unknown (once), as runc and crun skip it with a warning. */
static int parse_cap_set(yajl_val caps, const char *where, const char *key, struct fc_caps *k,
                         int **out, size_t *n, struct fc_error **err)
{
	_cleanup_strv_ char **names = NULL;
	int r = fcj_strv(caps, where, key, false, &names, err);
	if (r <= 0)
		return r;
	size_t len = fc_strv_len(names);
	*out = fc_calloc(len + 1, sizeof(int));
	*n = 0;
	for (size_t i = 0; i < len; i++) {
		int c = fc_cap_from_name(names[i]);
		if (c >= 0) {
			(*out)[(*n)++] = c;
			continue;
		}
		size_t j = 0;
		while (k->unknown && k->unknown[j] && strcmp(k->unknown[j], names[i]))
			j++;
		if (!k->unknown || !k->unknown[j])
			strv_push(&k->unknown, fc_strdup(names[i]));
	}
	return 1;
}

static int parse_rlimits(yajl_val proc, const char *where, struct fc_process *p,
                         struct fc_error **err)
{
	yajl_val a;
	int r = fcj_arr(proc, where, "rlimits", &a, err);
	if (r <= 0)
		return r;
	p->rlimits = fc_calloc(a->u.array.len + 1, sizeof(*p->rlimits));
	for (size_t i = 0; i < a->u.array.len; i++) {
		OBJ_ELEM(a, where, "rlimits", i, e, path, err);
		_cleanup_free_ char *type = NULL;
		struct fc_rlimit *rl = &p->rlimits[i];
		int res;
		TRY(fcj_str(e, path, "type", true, &type, err));
		res = fc_rlimit_from_name(type);
		if (res < 0)
			return fcj_err(err, path, "type", "unknown rlimit type `%s`", type);
		for (size_t j = 0; j < i; j++)
			if (p->rlimits[j].resource == res)
				return fcj_err(err, path, "type", "duplicate rlimit type `%s`",
				               type);
		rl->resource = res;
		TRY(fcj_uint(e, path, "soft", true, UINT64_MAX, &rl->soft, err));
		TRY(fcj_uint(e, path, "hard", true, UINT64_MAX, &rl->hard, err));
		p->n_rlimits = i + 1;
	}
	return 1;
}

static int parse_process_into(yajl_val v, const char *w, struct fc_process *p,
                              struct fc_error **err)
{
	yajl_val o, a;
	uint64_t u;
	int64_t i64;
	_cleanup_free_ char *wu = fcj_path(w, "user"), *wc = fcj_path(w, "capabilities"),
	                    *ws = fcj_path(w, "consoleSize"), *wi = fcj_path(w, "ioPriority");

	TRY(fcj_bool(v, w, "terminal", &p->terminal, err));
	if (TRY(fcj_obj(v, w, "consoleSize", &o, err)) > 0) {
		TRY(fcj_uint(o, ws, "height", true, UINT_MAX, &u, err));
		p->console_height = (unsigned)u;
		TRY(fcj_uint(o, ws, "width", true, UINT_MAX, &u, err));
		p->console_width = (unsigned)u;
		p->has_console_size = true;
	}
	if (TRY(fcj_obj(v, w, "user", &o, err)) > 0) {
		if (TRY(fcj_uint(o, wu, "uid", false, UINT32_MAX, &u, err)) > 0)
			p->uid = (uint32_t)u;
		if (TRY(fcj_uint(o, wu, "gid", false, UINT32_MAX, &u, err)) > 0)
			p->gid = (uint32_t)u;
		if (TRY(fcj_uint(o, wu, "umask", false, UINT32_MAX, &u, err)) > 0) {
			p->umask = (uint32_t)u;
			p->has_umask = true;
		}
		if (TRY(fcj_arr(o, wu, "additionalGids", &a, err)) > 0) {
			p->additional_gids = fc_calloc(a->u.array.len + 1, sizeof(uint32_t));
			for (size_t i = 0; i < a->u.array.len; i++) {
				_cleanup_free_ char *pi = fcj_path_idx(wu, "additionalGids", i);
				TRY(fcj_val_uint(a->u.array.values[i], pi, NULL, UINT32_MAX, &u,
				                 err));
				p->additional_gids[i] = (uint32_t)u;
				p->n_additional_gids = i + 1;
			}
		}
	}
	TRY(fcj_strv(v, w, "args", true, &p->args, err));
	TRY(fcj_strv(v, w, "env", false, &p->env, err));
	TRY(fcj_str(v, w, "cwd", true, &p->cwd, err));
	if (p->cwd[0] != '/')
		return fcj_err(err, w, "cwd", "must be an absolute path, got `%s`", p->cwd);
	if (TRY(fcj_obj(v, w, "capabilities", &o, err)) > 0) {
		struct fc_caps *c = &p->caps;
		c->has_caps = true;
		TRY(parse_cap_set(o, wc, "bounding", c, &c->bounding, &c->n_bounding, err));
		TRY(parse_cap_set(o, wc, "effective", c, &c->effective, &c->n_effective, err));
		TRY(parse_cap_set(o, wc, "inheritable", c, &c->inheritable, &c->n_inheritable,
		                  err));
		TRY(parse_cap_set(o, wc, "permitted", c, &c->permitted, &c->n_permitted, err));
		TRY(parse_cap_set(o, wc, "ambient", c, &c->ambient, &c->n_ambient, err));
	}
	TRY(parse_rlimits(v, w, p, err));
	TRY(fcj_bool(v, w, "noNewPrivileges", &p->no_new_privileges, err));
	TRY(fcj_str(v, w, "apparmorProfile", false, &p->apparmor_profile, err));
	TRY(fcj_str(v, w, "selinuxLabel", false, &p->selinux_label, err));
	if (TRY(fcj_int(v, w, "oomScoreAdj", false, -1000, 1000, &i64, err)) > 0) {
		p->oom_score_adj = (int)i64;
		p->has_oom_score_adj = true;
	}
	if (TRY(fcj_obj(v, w, "ioPriority", &o, err)) > 0) {
		static const char *const classes[] = {"IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE",
		                                      "IOPRIO_CLASS_IDLE"};
		static const int class_vals[] = {IOPRIO_CLASS_RT, IOPRIO_CLASS_BE,
		                                 IOPRIO_CLASS_IDLE};
		_cleanup_free_ char *cls = NULL;
		TRY(fcj_str(o, wi, "class", true, &cls, err));
		p->io_priority_class = -1;
		for (size_t i = 0; i < FC_ARRAY_SIZE(classes); i++)
			if (FC_STREQ(cls, classes[i]))
				p->io_priority_class = class_vals[i];
		if (p->io_priority_class < 0)
			return fcj_err(err, wi, "class", "unknown I/O priority class `%s`", cls);
		if (TRY(fcj_int(o, wi, "priority", false, 0, 7, &i64, err)) > 0)
			p->io_priority = (int)i64;
		p->has_io_priority = true;
	}
	return 0;
}

static int parse_process(yajl_val v, const char *w, struct fc_process **out, struct fc_error **err)
{
	struct fc_process *p = fc_calloc(1, sizeof(*p));
	int r = parse_process_into(v, w, p, err);
	if (r < 0) {
		fc_process_free(p);
		return r;
	}
	*out = p;
	return 0;
}

void fc_process_free(struct fc_process *p)
{
	if (!p)
		return;
	free(p->additional_gids);
	fc_strv_free(p->args);
	fc_strv_free(p->env);
	free(p->cwd);
	free(p->caps.bounding);
	free(p->caps.effective);
	free(p->caps.inheritable);
	free(p->caps.permitted);
	free(p->caps.ambient);
	fc_strv_free(p->caps.unknown);
	free(p->rlimits);
	free(p->apparmor_profile);
	free(p->selinux_label);
	free(p);
}

int fc_process_parse(const char *json, size_t len, struct fc_process **out, struct fc_error **err)
{
	_cleanup_(fcj_tree_freep) yajl_val v = NULL;
	*out = NULL;
	TRY(fcj_parse(json, len, "process.json", &v, err));
	return parse_process(v, "process", out, err);
}

/* ---- mounts ---------------------------------------------------------- */

enum opt_kind {
	OPT_SET,       /* flags |= f */
	OPT_CLEAR,     /* clear_flags |= f */
	OPT_PROP,      /* propagation = f */
	OPT_REC_SET,   /* rec_flags |= f */
	OPT_REC_CLEAR, /* rec_clear |= f */
	OPT_REC_ATIME, /* rec_flags: atime mode f, rec_clear |= MOUNT_ATTR__ATIME */
	OPT_BIND,
	OPT_RBIND,
	OPT_TMPCOPYUP,
	OPT_IDMAP,
	OPT_RIDMAP,
};

static const struct {
	const char *name;
	enum opt_kind kind;
	unsigned long flag;
} mount_opts[] = {
    {"defaults", OPT_SET, 0},
    {"ro", OPT_SET, MS_RDONLY},
    {"rw", OPT_CLEAR, MS_RDONLY},
    {"nosuid", OPT_SET, MS_NOSUID},
    {"suid", OPT_CLEAR, MS_NOSUID},
    {"nodev", OPT_SET, MS_NODEV},
    {"dev", OPT_CLEAR, MS_NODEV},
    {"noexec", OPT_SET, MS_NOEXEC},
    {"exec", OPT_CLEAR, MS_NOEXEC},
    {"sync", OPT_SET, MS_SYNCHRONOUS},
    {"async", OPT_CLEAR, MS_SYNCHRONOUS},
    {"dirsync", OPT_SET, MS_DIRSYNC},
    {"remount", OPT_SET, MS_REMOUNT},
    {"mand", OPT_SET, MS_MANDLOCK},
    {"nomand", OPT_CLEAR, MS_MANDLOCK},
    {"noatime", OPT_SET, MS_NOATIME},
    {"atime", OPT_CLEAR, MS_NOATIME},
    {"nodiratime", OPT_SET, MS_NODIRATIME},
    {"diratime", OPT_CLEAR, MS_NODIRATIME},
    {"relatime", OPT_SET, MS_RELATIME},
    {"norelatime", OPT_CLEAR, MS_RELATIME},
    {"strictatime", OPT_SET, MS_STRICTATIME},
    {"nostrictatime", OPT_CLEAR, MS_STRICTATIME},
    {"lazytime", OPT_SET, MS_LAZYTIME},
    {"nolazytime", OPT_CLEAR, MS_LAZYTIME},
    {"iversion", OPT_SET, MS_I_VERSION},
    {"noiversion", OPT_CLEAR, MS_I_VERSION},
    {"silent", OPT_SET, MS_SILENT},
    {"loud", OPT_CLEAR, MS_SILENT},
    {"nosymfollow", OPT_SET, MS_NOSYMFOLLOW},
    {"symfollow", OPT_CLEAR, MS_NOSYMFOLLOW},
    {"bind", OPT_BIND, MS_BIND},
    {"rbind", OPT_RBIND, MS_BIND | MS_REC},
    {"private", OPT_PROP, MS_PRIVATE},
    {"rprivate", OPT_PROP, MS_PRIVATE | MS_REC},
    {"shared", OPT_PROP, MS_SHARED},
    {"rshared", OPT_PROP, MS_SHARED | MS_REC},
    {"slave", OPT_PROP, MS_SLAVE},
    {"rslave", OPT_PROP, MS_SLAVE | MS_REC},
    {"unbindable", OPT_PROP, MS_UNBINDABLE},
    {"runbindable", OPT_PROP, MS_UNBINDABLE | MS_REC},
    {"rro", OPT_REC_SET, MOUNT_ATTR_RDONLY},
    {"rrw", OPT_REC_CLEAR, MOUNT_ATTR_RDONLY},
    {"rnosuid", OPT_REC_SET, MOUNT_ATTR_NOSUID},
    {"rsuid", OPT_REC_CLEAR, MOUNT_ATTR_NOSUID},
    {"rnodev", OPT_REC_SET, MOUNT_ATTR_NODEV},
    {"rdev", OPT_REC_CLEAR, MOUNT_ATTR_NODEV},
    {"rnoexec", OPT_REC_SET, MOUNT_ATTR_NOEXEC},
    {"rexec", OPT_REC_CLEAR, MOUNT_ATTR_NOEXEC},
    {"rnodiratime", OPT_REC_SET, MOUNT_ATTR_NODIRATIME},
    {"rdiratime", OPT_REC_CLEAR, MOUNT_ATTR_NODIRATIME},
    {"rnosymfollow", OPT_REC_SET, MOUNT_ATTR_NOSYMFOLLOW},
    {"rsymfollow", OPT_REC_CLEAR, MOUNT_ATTR_NOSYMFOLLOW},
    {"rnoatime", OPT_REC_ATIME, MOUNT_ATTR_NOATIME},
    {"ratime", OPT_REC_CLEAR, MOUNT_ATTR_NOATIME},
    {"rrelatime", OPT_REC_ATIME, MOUNT_ATTR_RELATIME},
    {"rnorelatime", OPT_REC_CLEAR, MOUNT_ATTR_RELATIME},
    {"rstrictatime", OPT_REC_ATIME, MOUNT_ATTR_STRICTATIME},
    {"rnostrictatime", OPT_REC_CLEAR, MOUNT_ATTR_STRICTATIME},
    {"tmpcopyup", OPT_TMPCOPYUP, 0},
    {"idmap", OPT_IDMAP, 0},
    {"ridmap", OPT_RIDMAP, 0},
};

const char *fc_mount_option_name(size_t i)
{
	return i < FC_ARRAY_SIZE(mount_opts) ? mount_opts[i].name : NULL;
}

/* Apply one option to m; unknown ones are filesystem data. Later options win. */
static void mount_option(struct fc_mount *m, const char *o, struct fc_buf *data)
{
	for (size_t i = 0; i < FC_ARRAY_SIZE(mount_opts); i++) {
		unsigned long f = mount_opts[i].flag;
		if (!FC_STREQ(o, mount_opts[i].name))
			continue;
		switch (mount_opts[i].kind) {
		case OPT_SET:
			m->flags |= f;
			m->clear_flags &= ~f;
			break;
		case OPT_CLEAR:
			m->clear_flags |= f;
			m->flags &= ~f;
			break;
		case OPT_PROP:
			m->propagation = f;
			break;
		case OPT_REC_SET:
			m->rec_flags |= f;
			m->rec_clear &= ~f;
			break;
		case OPT_REC_CLEAR:
			m->rec_clear |= f;
			m->rec_flags &= ~f;
			break;
		case OPT_REC_ATIME:
			m->rec_flags = (m->rec_flags & ~(unsigned long)MOUNT_ATTR__ATIME) | f;
			m->rec_clear |= MOUNT_ATTR__ATIME;
			break;
		case OPT_RBIND:
			m->recursive = true;
			/* fall through */
		case OPT_BIND:
			m->bind = true;
			m->flags |= f;
			break;
		case OPT_TMPCOPYUP:
			m->tmpcopyup = true;
			break;
		case OPT_RIDMAP:
			m->idmap_recursive = true;
			/* fall through */
		case OPT_IDMAP:
			m->idmap = true;
			break;
		default:
			break;
		}
		return;
	}
	if (data->len)
		fc_buf_append(data, ",", 1);
	fc_buf_append(data, o, strlen(o));
}

static void spec_warn(struct fc_spec *s, char *msg)
{
	strv_push(&s->warnings, msg);
}

void fc_mount_derive(struct fc_mount *m)
{
	struct fc_buf data = {0};
	if (m->n_uid_mappings || m->n_gid_mappings)
		m->idmap = true;
	if (m->type && FC_STREQ(m->type, "bind")) {
		m->bind = true;
		m->flags |= MS_BIND;
	}
	for (char **o = m->options; o && *o; o++)
		mount_option(m, *o, &data);
	if (data.len)
		m->data = data.data; /* NUL-terminated by fc_buf_append */
}

static int parse_mount(yajl_val e, const char *p, struct fc_spec *s, struct fc_mount *m,
                       struct fc_error **err)
{
	TRY(fcj_str(e, p, "destination", true, &m->destination, err));
	if (!m->destination[0])
		return fcj_err(err, p, "destination", "must not be empty");
	if (m->destination[0] != '/') {
		/* runc 1.1: warn, and take it relative to the container's "/". */
		char *abs = fc_asprintf("/%s", m->destination);
		spec_warn(s, fc_asprintf("%s.destination: `%s` is not absolute, using `%s`", p,
		                         m->destination, abs));
		free(m->destination);
		m->destination = abs;
	}
	TRY(fcj_str(e, p, "type", false, &m->type, err));
	TRY(fcj_str(e, p, "source", false, &m->source, err));
	TRY(fcj_strv(e, p, "options", false, &m->options, err));
	TRY(fcj_idmaps(e, p, "uidMappings", &m->uid_mappings, &m->n_uid_mappings, err));
	TRY(fcj_idmaps(e, p, "gidMappings", &m->gid_mappings, &m->n_gid_mappings, err));
	fc_mount_derive(m);
	return 0;
}

void fc_mount_free(struct fc_mount *m)
{
	free(m->destination);
	free(m->type);
	free(m->source);
	fc_strv_free(m->options);
	free(m->data);
	free(m->uid_mappings);
	free(m->gid_mappings);
}

static int parse_mounts(yajl_val root, struct fc_spec *s, struct fc_error **err)
{
	yajl_val a;
	if (TRY(fcj_arr(root, "", "mounts", &a, err)) == 0)
		return 0;
	s->mounts = fc_calloc(a->u.array.len + 1, sizeof(*s->mounts));
	for (size_t i = 0; i < a->u.array.len; i++) {
		OBJ_ELEM(a, "", "mounts", i, e, p, err);
		s->n_mounts = i + 1;
		TRY(parse_mount(e, p, s, &s->mounts[i], err));
	}
	return 0;
}

/* ---- hooks ------------------------------------------------------------- */

static const char *const hook_keys[FC_HOOK_KINDS] = {
    [FC_HOOK_PRESTART] = "prestart",
    [FC_HOOK_CREATE_RUNTIME] = "createRuntime",
    [FC_HOOK_CREATE_CONTAINER] = "createContainer",
    [FC_HOOK_START_CONTAINER] = "startContainer",
    [FC_HOOK_POSTSTART] = "poststart",
    [FC_HOOK_POSTSTOP] = "poststop",
};

const char *fc_hook_key(enum fc_hook_kind kind)
{
	return (unsigned)kind < FC_HOOK_KINDS ? hook_keys[kind] : NULL;
}

static int parse_hooks(yajl_val root, struct fc_spec *s, struct fc_error **err)
{
	yajl_val h, a;
	if (TRY(fcj_obj(root, "", "hooks", &h, err)) == 0)
		return 0;
	for (int k = 0; k < FC_HOOK_KINDS; k++) {
		_cleanup_free_ char *wk = fcj_path("hooks", hook_keys[k]);
		if (TRY(fcj_arr(h, "hooks", hook_keys[k], &a, err)) == 0)
			continue;
		s->hooks[k] = fc_calloc(a->u.array.len + 1, sizeof(struct fc_hook));
		for (size_t i = 0; i < a->u.array.len; i++) {
			OBJ_ELEM(a, "hooks", hook_keys[k], i, e, p, err);
			struct fc_hook *hk = &s->hooks[k][i];
			int64_t t;
			s->n_hooks[k] = i + 1;
			TRY(fcj_str(e, p, "path", true, &hk->path, err));
			if (hk->path[0] != '/')
				return fcj_err(err, p, "path", "must be an absolute path, got `%s`",
				               hk->path);
			TRY(fcj_strv(e, p, "args", false, &hk->args, err));
			TRY(fcj_strv(e, p, "env", false, &hk->env, err));
			if (TRY(fcj_int(e, p, "timeout", false, 1, INT32_MAX, &t, err)) > 0) {
				hk->timeout = (int)t;
				hk->has_timeout = true;
			}
		}
	}
	return 0;
}

/* ---- linux ----------------------------------------------------------- */

static int parse_namespaces(yajl_val lx, struct fc_spec *s, struct fc_error **err)
{
	yajl_val a;
	if (TRY(fcj_arr(lx, "linux", "namespaces", &a, err)) == 0)
		return 0;
	s->namespaces = fc_calloc(a->u.array.len + 1, sizeof(*s->namespaces));
	for (size_t i = 0; i < a->u.array.len; i++) {
		OBJ_ELEM(a, "linux", "namespaces", i, e, p, err);
		_cleanup_free_ char *type = NULL;
		struct fc_namespace *ns = &s->namespaces[i];
		int t;
		s->n_namespaces = i + 1;
		TRY(fcj_str(e, p, "type", true, &type, err));
		t = fc_ns_from_name(type);
		if (t < 0)
			return fcj_err(err, p, "type", "unknown namespace type `%s`", type);
		for (size_t j = 0; j < i; j++)
			if ((int)s->namespaces[j].type == t)
				return fcj_err(err, p, "type", "duplicate namespace type `%s`",
				               type);
		ns->type = (enum fc_ns_type)t;
		TRY(fcj_str(e, p, "path", false, &ns->path, err));
		if (ns->path && ns->path[0] != '/')
			return fcj_err(err, p, "path", "must be an absolute path, got `%s`",
			               ns->path);
	}
	return 0;
}

static int parse_devices(yajl_val lx, struct fc_spec *s, struct fc_error **err)
{
	yajl_val a;
	if (TRY(fcj_arr(lx, "linux", "devices", &a, err)) == 0)
		return 0;
	s->devices = fc_calloc(a->u.array.len + 1, sizeof(*s->devices));
	for (size_t i = 0; i < a->u.array.len; i++) {
		OBJ_ELEM(a, "linux", "devices", i, e, p, err);
		_cleanup_free_ char *type = NULL;
		struct fc_device *d = &s->devices[i];
		uint64_t u;
		bool need_num;
		s->n_devices = i + 1;
		TRY(fcj_str(e, p, "path", true, &d->path, err));
		if (d->path[0] != '/')
			return fcj_err(err, p, "path", "must be an absolute path, got `%s`",
			               d->path);
		TRY(fcj_str(e, p, "type", true, &type, err));
		if (strlen(type) != 1 || !strchr("cbup", type[0]))
			return fcj_err(err, p, "type", "must be one of c, b, u, p, got `%s`", type);
		d->type = type[0];
		need_num = d->type != 'p';
		TRY(fcj_int(e, p, "major", need_num, 0, INT64_MAX, &d->major, err));
		TRY(fcj_int(e, p, "minor", need_num, 0, INT64_MAX, &d->minor, err));
		if (TRY(fcj_uint(e, p, "fileMode", false, UINT32_MAX, &u, err)) > 0) {
			d->file_mode = (uint32_t)u;
			d->has_mode = true;
		}
		if (TRY(fcj_uint(e, p, "uid", false, UINT32_MAX, &u, err)) > 0) {
			d->uid = (uint32_t)u;
			d->has_uid = true;
		}
		if (TRY(fcj_uint(e, p, "gid", false, UINT32_MAX, &u, err)) > 0) {
			d->gid = (uint32_t)u;
			d->has_gid = true;
		}
	}
	return 0;
}

static const struct {
	const char *name;
	unsigned long flags;
} propagations[] = {
    {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
    {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
    {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

static int parse_time_offset(yajl_val to, const char *key, int64_t *secs, uint32_t *nsecs,
                             struct fc_error **err)
{
	yajl_val o;
	uint64_t u;
	_cleanup_free_ char *w = fcj_path("linux.timeOffsets", key);
	if (TRY(fcj_obj(to, "linux.timeOffsets", key, &o, err)) == 0)
		return 0;
	TRY(fcj_int(o, w, "secs", false, INT64_MIN, INT64_MAX, secs, err));
	if (TRY(fcj_uint(o, w, "nanosecs", false, 999999999, &u, err)) > 0)
		*nsecs = (uint32_t)u;
	return 1;
}

static int parse_linux(yajl_val lx, struct fc_spec *s, struct fc_error **err)
{
	yajl_val o;
	struct fc_kv *kv = NULL;
	size_t n = 0;
	const struct fc_namespace *userns;

	TRY(parse_namespaces(lx, s, err));
	TRY(fcj_idmaps(lx, "linux", "uidMappings", &s->uid_mappings, &s->n_uid_mappings, err));
	TRY(fcj_idmaps(lx, "linux", "gidMappings", &s->gid_mappings, &s->n_gid_mappings, err));
	userns = fc_spec_ns(s, FC_NS_USER);
	if (!userns && (s->n_uid_mappings || s->n_gid_mappings))
		return fcj_err(err, "linux", s->n_uid_mappings ? "uidMappings" : "gidMappings",
		               "given, but linux.namespaces has no user namespace");
	if (userns && !userns->path && (!s->n_uid_mappings || !s->n_gid_mappings))
		return fcj_err(err, "linux", !s->n_uid_mappings ? "uidMappings" : "gidMappings",
		               "required with a new user namespace");
	TRY(parse_devices(lx, s, err));
	TRY(fcj_str(lx, "linux", "cgroupsPath", false, &s->cgroups_path, err));
	if (TRY(fcj_obj(lx, "linux", "resources", &o, err)) > 0)
		TRY(fcj_resources(o, "linux.resources", &s->resources, err));
	if (TRY(fcj_str(lx, "linux", "rootfsPropagation", false, &s->rootfs_propagation, err)) >
	    0) {
		for (size_t i = 0; i < FC_ARRAY_SIZE(propagations); i++)
			if (FC_STREQ(s->rootfs_propagation, propagations[i].name))
				s->rootfs_propagation_flags = propagations[i].flags;
		if (!s->rootfs_propagation_flags)
			return fcj_err(err, "linux", "rootfsPropagation",
			               "unknown propagation `%s`", s->rootfs_propagation);
	}
	TRY(fcj_strv(lx, "linux", "maskedPaths", false, &s->masked_paths, err));
	TRY(fcj_strv(lx, "linux", "readonlyPaths", false, &s->readonly_paths, err));
	TRY(fcj_str(lx, "linux", "mountLabel", false, &s->mount_label, err));
	if (TRY(fcj_kv(lx, "linux", "sysctl", &kv, &n, err)) > 0) {
		/* struct fc_sysctl and struct fc_kv have the same members. */
		s->sysctl = fc_calloc(n + 1, sizeof(*s->sysctl));
		for (size_t i = 0; i < n; i++)
			s->sysctl[i] = (struct fc_sysctl){kv[i].key, kv[i].value};
		s->n_sysctl = n;
		free(kv);
	}
	if (TRY(fcj_obj(lx, "linux", "seccomp", &o, err)) > 0)
		TRY(fcj_seccomp(o, "linux.seccomp", &s->seccomp, err));
	if (TRY(fcj_obj(lx, "linux", "personality", &o, err)) > 0) {
		_cleanup_free_ char *dom = NULL;
		TRY(fcj_str(o, "linux.personality", "domain", true, &dom, err));
		if (FC_STREQ(dom, "LINUX"))
			s->personality = PER_LINUX;
		else if (FC_STREQ(dom, "LINUX32"))
			s->personality = PER_LINUX32;
		else
			return fcj_err(err, "linux.personality", "domain",
			               "unknown domain `%s` (LINUX or LINUX32)", dom);
		s->has_personality = true;
		TRY(fcj_strv(o, "linux.personality", "flags", false, &s->personality_flags, err));
	}
	if (TRY(fcj_obj(lx, "linux", "timeOffsets", &o, err)) > 0) {
		s->has_time_offsets = true;
		TRY(parse_time_offset(o, "monotonic", &s->monotonic_secs, &s->monotonic_nsecs,
		                      err));
		TRY(parse_time_offset(o, "boottime", &s->boottime_secs, &s->boottime_nsecs, err));
		if (!fc_spec_ns(s, FC_NS_TIME))
			return fcj_err(err, "linux", "timeOffsets",
			               "given, but linux.namespaces has no time namespace");
	}
	return 0;
}

/* ---- the document -------------------------------------------------- */

char *fc_spec_root_path(const char *bundle, const char *path)
{
	_cleanup_free_ char *cwd = NULL, *b = NULL;
	size_t n;
	if (path[0] == '/')
		return fc_strdup(path);
	while (path[0] == '.' && path[1] == '/')
		path += 2;
	if (!bundle || !*bundle)
		bundle = ".";
	if (bundle[0] != '/') {
		cwd = getcwd(NULL, 0);
		if (!cwd)
			cwd = fc_strdup("/");
		while (bundle[0] == '.' && (bundle[1] == '/' || !bundle[1]))
			bundle += bundle[1] ? 2 : 1;
		b = *bundle ? fc_asprintf("%s/%s", cwd, bundle) : fc_strdup(cwd);
	} else {
		b = fc_strdup(bundle);
	}
	n = strlen(b);
	while (n > 1 && b[n - 1] == '/')
		b[--n] = '\0';
	return fc_asprintf("%s%s%s", b, FC_STREQ(b, "/") ? "" : "/", path);
}

static int parse_spec(yajl_val v, const char *bundle, struct fc_spec *s, struct fc_error **err)
{
	yajl_val o;
	TRY(fcj_str(v, "", "ociVersion", true, &s->oci_version, err));
	if (TRY(fcj_obj(v, "", "root", &o, err)) == 0)
		return fcj_err(err, "", "root", "is required");
	TRY(fcj_str(o, "root", "path", true, &s->root_path, err));
	if (!s->root_path[0])
		return fcj_err(err, "root", "path", "must not be empty");
	TRY(fcj_bool(o, "root", "readonly", &s->root_readonly, err));
	if (bundle) {
		char *abs = fc_spec_root_path(bundle, s->root_path);
		free(s->root_path);
		s->root_path = abs;
	}
	if (TRY(fcj_obj(v, "", "process", &o, err)) == 0)
		return fcj_err(err, "", "process", "is required");
	TRY(parse_process(o, "process", &s->process, err));
	TRY(fcj_str(v, "", "hostname", false, &s->hostname, err));
	TRY(fcj_str(v, "", "domainname", false, &s->domainname, err));
	TRY(parse_mounts(v, s, err));
	TRY(parse_hooks(v, s, err));
	TRY(fcj_kv(v, "", "annotations", &s->annotations, &s->n_annotations, err));
	if (TRY(fcj_obj(v, "", "linux", &o, err)) > 0)
		TRY(parse_linux(o, s, err));
	return 0;
}

int fcrt_spec_parse(const char *json, size_t len, const char *bundle, struct fc_spec **out,
                    struct fc_error **err)
{
	_cleanup_(fcj_tree_freep) yajl_val v = NULL;
	struct fc_spec *s;
	int r;
	*out = NULL;
	TRY(fcj_parse(json, len, "config.json", &v, err));
	s = fc_calloc(1, sizeof(*s));
	r = parse_spec(v, bundle, s, err);
	if (r < 0) {
		fcrt_spec_free(s);
		return r;
	}
	*out = s;
	return 0;
}

int fcrt_spec_load(const char *bundle, struct fc_spec **out, struct fc_error **err)
{
	if (!bundle || !*bundle)
		bundle = ".";
	_cleanup_free_ char *path = fc_asprintf("%s/config.json", bundle);
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	*out = NULL;
	TRY(fc_read_file_at(AT_FDCWD, path, &buf, &len, 0, err));
	return fcrt_spec_parse(buf, len, bundle, out, err);
}

void fcrt_spec_free(struct fc_spec *s)
{
	if (!s)
		return;
	free(s->oci_version);
	free(s->root_path);
	free(s->hostname);
	free(s->domainname);
	fc_process_free(s->process);
	for (size_t i = 0; i < s->n_mounts; i++)
		fc_mount_free(&s->mounts[i]);
	free(s->mounts);
	for (int k = 0; k < FC_HOOK_KINDS; k++) {
		for (size_t i = 0; i < s->n_hooks[k]; i++) {
			free(s->hooks[k][i].path);
			fc_strv_free(s->hooks[k][i].args);
			fc_strv_free(s->hooks[k][i].env);
		}
		free(s->hooks[k]);
	}
	fcj_kv_free(s->annotations, s->n_annotations);
	for (size_t i = 0; i < s->n_namespaces; i++)
		free(s->namespaces[i].path);
	free(s->namespaces);
	free(s->uid_mappings);
	free(s->gid_mappings);
	for (size_t i = 0; i < s->n_devices; i++)
		free(s->devices[i].path);
	free(s->devices);
	free(s->cgroups_path);
	fc_resources_free(s->resources);
	free(s->rootfs_propagation);
	fc_strv_free(s->masked_paths);
	fc_strv_free(s->readonly_paths);
	free(s->mount_label);
	for (size_t i = 0; i < s->n_sysctl; i++) {
		free(s->sysctl[i].key);
		free(s->sysctl[i].value);
	}
	free(s->sysctl);
	fcj_seccomp_free(s->seccomp);
	fc_strv_free(s->personality_flags);
	fc_strv_free(s->warnings);
	free(s);
}

const struct fc_namespace *fc_spec_ns(const struct fc_spec *s, enum fc_ns_type t)
{
	for (size_t i = 0; s && i < s->n_namespaces; i++)
		if (s->namespaces[i].type == t)
			return &s->namespaces[i];
	return NULL;
}

const char *fc_spec_annotation(const struct fc_spec *s, const char *key)
{
	for (size_t i = 0; s && i < s->n_annotations; i++)
		if (FC_STREQ(s->annotations[i].key, key))
			return s->annotations[i].value;
	return NULL;
}
