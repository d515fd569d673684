/* SPDX-License-Identifier: MIT */
/* spec-json.c: validating getters over yajl's tree API, and the name tables
 * (namespaces, rlimits, capabilities) shared with the rest of the runtime. */
#include "spec-json.h"

#include <ctype.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <sys/resource.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

int fcj_err(struct fc_error **err, const char *where, const char *key, const char *fmt, ...)
{
	va_list ap;
	char *m = NULL;
	_cleanup_free_ char *p = fcj_path(where, key);
	va_start(ap, fmt);
	if (vasprintf(&m, fmt, ap) < 0)
		abort();
	va_end(ap);
	fc_error_set(err, 0, "%s: %s", *p ? p : "config", m);
	free(m);
	return -EINVAL;
}

char *fcj_path(const char *where, const char *key)
{
	if (!where)
		where = "";
	if (!key)
		return fc_strdup(where);
	return fc_asprintf("%s%s%s", where, *where ? "." : "", key);
}

char *fcj_path_idx(const char *where, const char *key, size_t i)
{
	_cleanup_free_ char *p = fcj_path(where, key);
	return fc_asprintf("%s[%zu]", p, i);
}

int fcj_parse(const char *json, size_t len, const char *what, yajl_val *out, struct fc_error **err)
{
	char ebuf[512] = "";
	_cleanup_free_ char *copy = NULL;
	yajl_val v;
	if (memchr(json, '\0', len))
		return fc_error_set(err, 0, "%s: contains a NUL byte", what);
	/* yajl's tree builder and free recurse per level: a document nested a
	 * million levels deep would overflow the stack. */
	if (fc_json_check_depth(json, len, FC_JSON_MAX_DEPTH, what, err) < 0)
		return -EINVAL;
	copy = fc_strndup(json, len);
	v = yajl_tree_parse(copy, ebuf, sizeof(ebuf));
	if (!v) {
		/* yajl's verbose message spans lines; the first one says it all. */
		char *nl = strchr(ebuf, '\n');
		if (nl)
			*nl = '\0';
		return fc_error_set(err, 0, "%s: invalid JSON: %s", what,
		                    *ebuf ? ebuf : "parse error");
	}
	if (!YAJL_IS_OBJECT(v)) {
		yajl_tree_free(v);
		return fc_error_set(err, 0, "%s: expected a JSON object", what);
	}
	*out = v;
	return 0;
}

yajl_val fcj_get(yajl_val obj, const char *key)
{
	yajl_val found = NULL;
	if (!YAJL_IS_OBJECT(obj))
		return NULL;
	/* The last duplicate wins, as with Go's encoding/json. */
	for (size_t i = 0; i < obj->u.object.len; i++)
		if (FC_STREQ(obj->u.object.keys[i], key))
			found = obj->u.object.values[i];
	return YAJL_IS_NULL(found) ? NULL : found;
}

int fcj_obj(yajl_val obj, const char *where, const char *key, yajl_val *out, struct fc_error **err)
{
	yajl_val v = fcj_get(obj, key);
	*out = NULL;
	if (!v)
		return 0;
	if (!YAJL_IS_OBJECT(v))
		return fcj_err(err, where, key, "expected an object");
	*out = v;
	return 1;
}

int fcj_arr(yajl_val obj, const char *where, const char *key, yajl_val *out, struct fc_error **err)
{
	yajl_val v = fcj_get(obj, key);
	*out = NULL;
	if (!v)
		return 0;
	if (!YAJL_IS_ARRAY(v))
		return fcj_err(err, where, key, "expected an array");
	*out = v;
	return 1;
}

int fcj_str(yajl_val obj, const char *where, const char *key, bool required, char **out,
            struct fc_error **err)
{
	yajl_val v = fcj_get(obj, key);
	if (!v)
		return required ? fcj_err(err, where, key, "is required") : 0;
	if (!YAJL_IS_STRING(v))
		return fcj_err(err, where, key, "expected a string");
	free(*out);
	*out = fc_strdup(v->u.string);
	return 1;
}

int fcj_bool(yajl_val obj, const char *where, const char *key, bool *out, struct fc_error **err)
{
	yajl_val v = fcj_get(obj, key);
	if (!v)
		return 0;
	if (!YAJL_IS_TRUE(v) && !YAJL_IS_FALSE(v))
		return fcj_err(err, where, key, "expected a boolean");
	*out = YAJL_IS_TRUE(v);
	return 1;
}

/* The number's text as written: yajl keeps it, which lets us read integers
 * beyond INT64_MAX (uint64 fields) and reject 1.5 or 1e3. */
static int number_text(yajl_val v, const char **out)
{
	const char *s;
	if (!YAJL_IS_NUMBER(v))
		return -EINVAL;
	s = v->u.number.r;
	for (const char *p = s + (*s == '-');; p++) {
		if (!*p)
			break;
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
	}
	*out = s;
	return 0;
}

int fcj_val_int(yajl_val v, const char *where, const char *key, int64_t min, int64_t max,
                int64_t *out, struct fc_error **err)
{
	const char *s;
	char *end;
	long long n;
	if (number_text(v, &s) < 0)
		goto bad;
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno || *end || n < min || n > max)
		goto bad;
	*out = n;
	return 1;
bad:
	return fcj_err(err, where, key, "must be an integer in %" PRId64 "..%" PRId64 "%s%s", min,
	               max, YAJL_IS_NUMBER(v) ? ", got " : "",
	               YAJL_IS_NUMBER(v) ? v->u.number.r : "");
}

int fcj_val_uint(yajl_val v, const char *where, const char *key, uint64_t max, uint64_t *out,
                 struct fc_error **err)
{
	const char *s;
	char *end;
	unsigned long long n;
	if (number_text(v, &s) < 0 || *s == '-')
		goto bad;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno || *end || n > max)
		goto bad;
	*out = n;
	return 1;
bad:
	return fcj_err(err, where, key, "must be an integer in 0..%" PRIu64 "%s%s", max,
	               YAJL_IS_NUMBER(v) ? ", got " : "", YAJL_IS_NUMBER(v) ? v->u.number.r : "");
}

int fcj_int(yajl_val obj, const char *where, const char *key, bool required, int64_t min,
            int64_t max, int64_t *out, struct fc_error **err)
{
	yajl_val v = fcj_get(obj, key);
	if (!v)
		return required ? fcj_err(err, where, key, "is required") : 0;
	return fcj_val_int(v, where, key, min, max, out, err);
}

int fcj_uint(yajl_val obj, const char *where, const char *key, bool required, uint64_t max,
             uint64_t *out, struct fc_error **err)
{
	yajl_val v = fcj_get(obj, key);
	if (!v)
		return required ? fcj_err(err, where, key, "is required") : 0;
	return fcj_val_uint(v, where, key, max, out, err);
}

int fcj_strv(yajl_val obj, const char *where, const char *key, bool nonempty, char ***out,
             struct fc_error **err)
{
	yajl_val v = fcj_get(obj, key);
	char **r;
	size_t n;
	if (!v)
		return nonempty ? fcj_err(err, where, key, "must be a non-empty array of strings")
		                : 0;
	if (!YAJL_IS_ARRAY(v))
		goto bad;
	n = v->u.array.len;
	if (nonempty && n == 0)
		return fcj_err(err, where, key, "must be a non-empty array of strings");
	for (size_t i = 0; i < n; i++)
		if (!YAJL_IS_STRING(v->u.array.values[i]))
			goto bad;
	r = fc_calloc(n + 1, sizeof(*r));
	for (size_t i = 0; i < n; i++)
		r[i] = fc_strdup(v->u.array.values[i]->u.string);
	fc_strv_free(*out);
	*out = r;
	return 1;
bad:
	return fcj_err(err, where, key, "expected an array of strings");
}

void fcj_kv_free(struct fc_kv *kv, size_t n)
{
	for (size_t i = 0; kv && i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

int fcj_kv(yajl_val obj, const char *where, const char *key, struct fc_kv **out, size_t *n,
           struct fc_error **err)
{
	yajl_val v;
	int r = fcj_obj(obj, where, key, &v, err);
	struct fc_kv *kv;
	size_t len;
	if (r <= 0)
		return r;
	len = v->u.object.len;
	for (size_t i = 0; i < len; i++)
		if (!YAJL_IS_STRING(v->u.object.values[i])) {
			_cleanup_free_ char *p = fcj_path(where, key);
			return fcj_err(err, p, v->u.object.keys[i], "expected a string");
		}
	kv = fc_calloc(len ? len : 1, sizeof(*kv));
	for (size_t i = 0; i < len; i++) {
		kv[i].key = fc_strdup(v->u.object.keys[i]);
		kv[i].value = fc_strdup(v->u.object.values[i]->u.string);
	}
	fcj_kv_free(*out, *n);
	*out = kv;
	*n = len;
	return 1;
}

/* ---- name tables ---------------------------------------------------- */

static const struct {
	const char *spec, *proc;
	int flag;
} ns_names[FC_NS_COUNT] = {
    [FC_NS_PID] = {"pid", "pid", CLONE_NEWPID},
    [FC_NS_NETWORK] = {"network", "net", CLONE_NEWNET},
    [FC_NS_MOUNT] = {"mount", "mnt", CLONE_NEWNS},
    [FC_NS_IPC] = {"ipc", "ipc", CLONE_NEWIPC},
    [FC_NS_UTS] = {"uts", "uts", CLONE_NEWUTS},
    [FC_NS_USER] = {"user", "user", CLONE_NEWUSER},
    [FC_NS_CGROUP] = {"cgroup", "cgroup", CLONE_NEWCGROUP},
    [FC_NS_TIME] = {"time", "time", CLONE_NEWTIME},
};

const char *fc_ns_name(enum fc_ns_type t)
{
	return (unsigned)t < FC_NS_COUNT ? ns_names[t].spec : NULL;
}

int fc_ns_clone_flag(enum fc_ns_type t)
{
	return (unsigned)t < FC_NS_COUNT ? ns_names[t].flag : 0;
}

const char *fc_ns_proc_name(enum fc_ns_type t)
{
	return (unsigned)t < FC_NS_COUNT ? ns_names[t].proc : NULL;
}

int fc_ns_from_name(const char *name)
{
	for (int i = 0; i < FC_NS_COUNT; i++)
		if (FC_STREQ(ns_names[i].spec, name))
			return i;
	return -EINVAL;
}

#define RL(x)                                                                                      \
	{                                                                                          \
		"RLIMIT_" #x, RLIMIT_##x                                                           \
	}
static const struct {
	const char *name;
	int num;
} rlimits[] = {
    RL(CPU),      RL(FSIZE),  RL(DATA),    RL(STACK),  RL(CORE),  RL(RSS),
    RL(NPROC),    RL(NOFILE), RL(MEMLOCK), RL(AS),     RL(LOCKS), RL(SIGPENDING),
    RL(MSGQUEUE), RL(NICE),   RL(RTPRIO),  RL(RTTIME),
};

int fc_rlimit_from_name(const char *name)
{
	for (size_t i = 0; name && i < FC_ARRAY_SIZE(rlimits); i++)
		if (FC_STREQ(rlimits[i].name, name))
			return rlimits[i].num;
	return -EINVAL;
}

const char *fc_rlimit_name(int resource)
{
	for (size_t i = 0; i < FC_ARRAY_SIZE(rlimits); i++)
		if (rlimits[i].num == resource)
			return rlimits[i].name;
	return NULL;
}

/* Capability numbers are kernel ABI; spelled out so that names newer than the
 * build host's headers (CAP_PERFMON 38, CAP_BPF 39, CAP_CHECKPOINT_RESTORE 40)
 * are known everywhere. */
static const char *const cap_names[] = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};

int fc_cap_from_name(const char *name)
{
	for (size_t i = 0; name && i < FC_ARRAY_SIZE(cap_names); i++)
		if (strcasecmp(cap_names[i], name) == 0)
			return (int)i;
	return -EINVAL;
}

const char *fc_cap_name(int cap)
{
	return cap >= 0 && (size_t)cap < FC_ARRAY_SIZE(cap_names) ? cap_names[cap] : NULL;
}
