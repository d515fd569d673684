/* SPDX-License-Identifier: MIT */
/* spec-resources.c: linux.resources (also `fcrun update --resources`) and
 * linux.seccomp of config.json into the structs of spec.h. */
#include "spec-json.h"

#include <ctype.h>
#include <inttypes.h>
#include <seccomp.h>

/* ---- resources ------------------------------------------------------- */

#define OPT_I64(obj, w, key, field, hasfield, min)                                                 \
	do {                                                                                       \
		int64_t _v_;                                                                       \
		if (TRY(fcj_int(obj, w, key, false, min, INT64_MAX, &_v_, err)) > 0) {             \
			(field) = _v_;                                                             \
			(hasfield) = true;                                                         \
		}                                                                                  \
	} while (0)
#define OPT_U64(obj, w, key, field, hasfield, max)                                                 \
	do {                                                                                       \
		uint64_t _v_;                                                                      \
		if (TRY(fcj_uint(obj, w, key, false, max, &_v_, err)) > 0) {                       \
			(field) = _v_;                                                             \
			(hasfield) = true;                                                         \
		}                                                                                  \
	} while (0)
#define OPT_BOOL(obj, w, key, field, hasfield)                                                     \
	do {                                                                                       \
		if (TRY(fcj_bool(obj, w, key, &(field), err)) > 0)                                 \
			(hasfield) = true;                                                         \
	} while (0)

static int parse_device_rules(yajl_val res, const char *w, struct fc_resources *r,
                              struct fc_error **err)
{
	yajl_val a;
	if (TRY(fcj_arr(res, w, "devices", &a, err)) == 0)
		return 0;
	r->devices = fc_calloc(a->u.array.len + 1, sizeof(*r->devices));
	for (size_t i = 0; i < a->u.array.len; i++) {
		OBJ_ELEM(a, w, "devices", i, e, p, err);
		struct fc_device_rule *d = &r->devices[i];
		_cleanup_free_ char *type = NULL;
		r->n_devices = i + 1;
		d->major = d->minor = -1;
		if (!fcj_get(e, "allow"))
			return fcj_err(err, p, "allow", "is required");
		TRY(fcj_bool(e, p, "allow", &d->allow, err));
		if (TRY(fcj_str(e, p, "type", false, &type, err)) > 0) {
			if (strlen(type) != 1 || !strchr("acb", type[0]))
				return fcj_err(err, p, "type", "must be one of a, c, b, got `%s`",
				               type);
			d->type = type[0];
		}
		TRY(fcj_int(e, p, "major", false, -1, INT64_MAX, &d->major, err));
		TRY(fcj_int(e, p, "minor", false, -1, INT64_MAX, &d->minor, err));
		if (TRY(fcj_str(e, p, "access", false, &d->access, err)) > 0) {
			/* As runc: letters other than r, w, m are ignored ("rwa" is
			 * "rw"); one of them must remain. */
			char *o = d->access;
			for (const char *c = d->access; *c; c++)
				if (strchr("rwm", *c) &&
				    !memchr(d->access, *c, (size_t)(o - d->access)))
					*o++ = *c;
			*o = '\0';
			if (!*d->access)
				return fcj_err(err, p, "access", "must contain r, w or m");
		}
	}
	return 0;
}

static int parse_throttle(yajl_val blk, const char *w, const char *key, struct fc_throttle **out,
                          size_t *n, struct fc_error **err)
{
	yajl_val a;
	if (TRY(fcj_arr(blk, w, key, &a, err)) == 0)
		return 0;
	*out = fc_calloc(a->u.array.len + 1, sizeof(**out));
	for (size_t i = 0; i < a->u.array.len; i++) {
		OBJ_ELEM(a, w, key, i, e, p, err);
		struct fc_throttle *t = &(*out)[i];
		*n = i + 1;
		TRY(fcj_int(e, p, "major", true, 0, INT64_MAX, &t->major, err));
		TRY(fcj_int(e, p, "minor", true, 0, INT64_MAX, &t->minor, err));
		TRY(fcj_uint(e, p, "rate", true, UINT64_MAX, &t->rate, err));
	}
	return 0;
}

static int parse_blkio(yajl_val blk, const char *w, struct fc_resources *r, struct fc_error **err)
{
	yajl_val a;
	uint64_t u = 0;
	bool has = false;
	OPT_U64(blk, w, "weight", u, has, UINT16_MAX);
	r->blkio.weight = (uint16_t)u;
	r->blkio.has_weight = has;
	has = false;
	OPT_U64(blk, w, "leafWeight", u, has, UINT16_MAX);
	r->blkio.leaf_weight = (uint16_t)u;
	r->blkio.has_leaf_weight = has;
	if (TRY(fcj_arr(blk, w, "weightDevice", &a, err)) > 0) {
		r->blkio.weight_devices =
		    fc_calloc(a->u.array.len + 1, sizeof(struct fc_weight_device));
		for (size_t i = 0; i < a->u.array.len; i++) {
			OBJ_ELEM(a, w, "weightDevice", i, e, p, err);
			struct fc_weight_device *d = &r->blkio.weight_devices[i];
			r->blkio.n_weight_devices = i + 1;
			TRY(fcj_int(e, p, "major", true, 0, INT64_MAX, &d->major, err));
			TRY(fcj_int(e, p, "minor", true, 0, INT64_MAX, &d->minor, err));
			has = false;
			OPT_U64(e, p, "weight", u, has, UINT16_MAX);
			d->weight = (uint16_t)u;
			d->has_weight = has;
			has = false;
			OPT_U64(e, p, "leafWeight", u, has, UINT16_MAX);
			d->leaf_weight = (uint16_t)u;
			d->has_leaf_weight = has;
		}
	}
	TRY(parse_throttle(blk, w, "throttleReadBpsDevice", &r->blkio.throttle_read_bps,
	                   &r->blkio.n_throttle_read_bps, err));
	TRY(parse_throttle(blk, w, "throttleWriteBpsDevice", &r->blkio.throttle_write_bps,
	                   &r->blkio.n_throttle_write_bps, err));
	TRY(parse_throttle(blk, w, "throttleReadIOPSDevice", &r->blkio.throttle_read_iops,
	                   &r->blkio.n_throttle_read_iops, err));
	TRY(parse_throttle(blk, w, "throttleWriteIOPSDevice", &r->blkio.throttle_write_iops,
	                   &r->blkio.n_throttle_write_iops, err));
	return 0;
}

static int parse_resources_into(yajl_val res, const char *w, struct fc_resources *r,
                                struct fc_error **err)
{
	yajl_val o, a;
	_cleanup_free_ char *wm = fcj_path(w, "memory"), *wc = fcj_path(w, "cpu"),
	                    *wp = fcj_path(w, "pids"), *wb = fcj_path(w, "blockIO"),
	                    *wn = fcj_path(w, "network"), *wr = fcj_path(w, "rdma");

	TRY(parse_device_rules(res, w, r, err));
	if (TRY(fcj_obj(res, w, "memory", &o, err)) > 0) {
		typeof(r->memory) *m = &r->memory;
		OPT_I64(o, wm, "limit", m->limit, m->has_limit, -1);
		OPT_I64(o, wm, "reservation", m->reservation, m->has_reservation, -1);
		OPT_I64(o, wm, "swap", m->swap, m->has_swap, -1);
		OPT_I64(o, wm, "kernel", m->kernel, m->has_kernel, -1);
		OPT_I64(o, wm, "kernelTCP", m->kernel_tcp, m->has_kernel_tcp, -1);
		OPT_U64(o, wm, "swappiness", m->swappiness, m->has_swappiness, 100);
		OPT_BOOL(o, wm, "disableOOMKiller", m->disable_oom_killer,
		         m->has_disable_oom_killer);
		OPT_BOOL(o, wm, "useHierarchy", m->use_hierarchy, m->has_use_hierarchy);
		OPT_BOOL(o, wm, "checkBeforeUpdate", m->check_before_update,
		         m->has_check_before_update);
	}
	if (TRY(fcj_obj(res, w, "cpu", &o, err)) > 0) {
		typeof(r->cpu) *c = &r->cpu;
		OPT_U64(o, wc, "shares", c->shares, c->has_shares, UINT64_MAX);
		OPT_I64(o, wc, "quota", c->quota, c->has_quota, -1);
		OPT_U64(o, wc, "burst", c->burst, c->has_burst, UINT64_MAX);
		OPT_U64(o, wc, "period", c->period, c->has_period, UINT64_MAX);
		OPT_I64(o, wc, "realtimeRuntime", c->realtime_runtime, c->has_realtime_runtime,
		        INT64_MIN);
		OPT_U64(o, wc, "realtimePeriod", c->realtime_period, c->has_realtime_period,
		        UINT64_MAX);
		OPT_I64(o, wc, "idle", c->idle, c->has_idle, INT64_MIN);
		TRY(fcj_str(o, wc, "cpus", false, &c->cpus, err));
		TRY(fcj_str(o, wc, "mems", false, &c->mems, err));
	}
	if (TRY(fcj_obj(res, w, "pids", &o, err)) > 0)
		OPT_I64(o, wp, "limit", r->pids.limit, r->pids.has_limit, INT64_MIN);
	if (TRY(fcj_obj(res, w, "blockIO", &o, err)) > 0)
		TRY(parse_blkio(o, wb, r, err));
	if (TRY(fcj_arr(res, w, "hugepageLimits", &a, err)) > 0) {
		r->hugepage_limits = fc_calloc(a->u.array.len + 1, sizeof(*r->hugepage_limits));
		for (size_t i = 0; i < a->u.array.len; i++) {
			OBJ_ELEM(a, w, "hugepageLimits", i, e, p, err);
			struct fc_hugepage_limit *h = &r->hugepage_limits[i];
			r->n_hugepage_limits = i + 1;
			TRY(fcj_str(e, p, "pageSize", true, &h->page_size, err));
			TRY(fcj_uint(e, p, "limit", true, UINT64_MAX, &h->limit, err));
		}
	}
	if (TRY(fcj_obj(res, w, "network", &o, err)) > 0) {
		uint64_t u = 0;
		OPT_U64(o, wn, "classID", u, r->network.has_class_id, UINT32_MAX);
		r->network.class_id = (uint32_t)u;
		if (TRY(fcj_arr(o, wn, "priorities", &a, err)) > 0) {
			r->network.priorities = fc_calloc(a->u.array.len + 1, sizeof(struct fc_kv));
			for (size_t i = 0; i < a->u.array.len; i++) {
				OBJ_ELEM(a, wn, "priorities", i, e, p, err);
				struct fc_kv *kv = &r->network.priorities[i];
				r->network.n_priorities = i + 1;
				TRY(fcj_str(e, p, "name", true, &kv->key, err));
				TRY(fcj_uint(e, p, "priority", true, UINT32_MAX, &u, err));
				kv->value = fc_asprintf("%" PRIu64, u);
			}
		}
	}
	if (TRY(fcj_obj(res, w, "rdma", &o, err)) > 0) {
		/* name -> {hcaHandles, hcaObjects}, kept as cgroup v2 rdma.max text. */
		r->rdma = fc_calloc(o->u.object.len + 1, sizeof(*r->rdma));
		for (size_t i = 0; i < o->u.object.len; i++) {
			const char *name = o->u.object.keys[i];
			yajl_val e = o->u.object.values[i];
			_cleanup_free_ char *p = fcj_path(wr, name);
			_cleanup_buf_ struct fc_buf b = {0};
			uint64_t u;
			r->n_rdma = i + 1;
			r->rdma[i].key = fc_strdup(name);
			if (!YAJL_IS_OBJECT(e))
				return fcj_err(err, p, NULL, "expected an object");
			if (TRY(fcj_uint(e, p, "hcaHandles", false, UINT32_MAX, &u, err)) > 0)
				fc_buf_printf(&b, "hca_handle=%" PRIu64, u);
			if (TRY(fcj_uint(e, p, "hcaObjects", false, UINT32_MAX, &u, err)) > 0)
				fc_buf_printf(&b, "%shca_object=%" PRIu64, b.len ? " " : "", u);
			r->rdma[i].value = b.data ? TAKE_PTR(b.data) : fc_strdup("");
		}
	}
	TRY(fcj_kv(res, w, "unified", &r->unified, &r->n_unified, err));
	return 0;
}

int fcj_resources(yajl_val v, const char *where, struct fc_resources **out, struct fc_error **err)
{
	struct fc_resources *r = fc_calloc(1, sizeof(*r));
	int ret = parse_resources_into(v, where, r, err);
	if (ret < 0) {
		fc_resources_free(r);
		return ret;
	}
	*out = r;
	return 0;
}

int fc_resources_parse(const char *json, size_t len, struct fc_resources **out,
                       struct fc_error **err)
{
	_cleanup_(fcj_tree_freep) yajl_val v = NULL;
	*out = NULL;
	TRY(fcj_parse(json, len, "resources", &v, err));
	return fcj_resources(v, "", out, err);
}

void fc_resources_free(struct fc_resources *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_devices; i++)
		free(r->devices[i].access);
	free(r->devices);
	free(r->cpu.cpus);
	free(r->cpu.mems);
	free(r->blkio.weight_devices);
	free(r->blkio.throttle_read_bps);
	free(r->blkio.throttle_write_bps);
	free(r->blkio.throttle_read_iops);
	free(r->blkio.throttle_write_iops);
	for (size_t i = 0; i < r->n_hugepage_limits; i++)
		free(r->hugepage_limits[i].page_size);
	free(r->hugepage_limits);
	fcj_kv_free(r->network.priorities, r->network.n_priorities);
	fcj_kv_free(r->rdma, r->n_rdma);
	fcj_kv_free(r->unified, r->n_unified);
	free(r);
}

/* ---- seccomp ------------------------------------------------------------ */

/* An action name with its errnoRet (nr, has_nr) into a libseccomp action. */
static int seccomp_action(const char *name, bool has_nr, uint64_t nr, uint32_t *out)
{
	uint32_t ret = has_nr ? (uint32_t)nr : EPERM;
	if (FC_STREQ(name, "SCMP_ACT_KILL") || FC_STREQ(name, "SCMP_ACT_KILL_THREAD"))
		*out = SCMP_ACT_KILL_THREAD;
	else if (FC_STREQ(name, "SCMP_ACT_KILL_PROCESS"))
		*out = SCMP_ACT_KILL_PROCESS;
	else if (FC_STREQ(name, "SCMP_ACT_TRAP"))
		*out = SCMP_ACT_TRAP;
	else if (FC_STREQ(name, "SCMP_ACT_ERRNO"))
		*out = SCMP_ACT_ERRNO(ret);
	else if (FC_STREQ(name, "SCMP_ACT_TRACE"))
		*out = SCMP_ACT_TRACE(ret);
	else if (FC_STREQ(name, "SCMP_ACT_ALLOW"))
		*out = SCMP_ACT_ALLOW;
	else if (FC_STREQ(name, "SCMP_ACT_LOG"))
		*out = SCMP_ACT_LOG;
	else if (FC_STREQ(name, "SCMP_ACT_NOTIFY"))
		*out = SCMP_ACT_NOTIFY;
	else
		return -EINVAL;
	return 0;
}

static int parse_action(yajl_val o, const char *w, const char *akey, const char *rkey,
                        uint32_t *out, struct fc_error **err)
{
	_cleanup_free_ char *name = NULL;
	uint64_t nr = 0;
	int has = TRY(fcj_uint(o, w, rkey, false, UINT16_MAX, &nr, err));
	TRY(fcj_str(o, w, akey, true, &name, err));
	if (seccomp_action(name, has > 0, nr, out) < 0)
		return fcj_err(err, w, akey, "unknown seccomp action `%s`", name);
	return 0;
}

static const struct {
	const char *name;
	int op;
} seccomp_ops[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE},
    {"SCMP_CMP_LT", SCMP_CMP_LT},
    {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ},
    {"SCMP_CMP_GE", SCMP_CMP_GE},
    {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

static const char *const seccomp_flags[] = {
    "SECCOMP_FILTER_FLAG_TSYNC",
    "SECCOMP_FILTER_FLAG_LOG",
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
};

static int parse_syscall(yajl_val e, const char *p, struct fc_seccomp_syscall *sc,
                         struct fc_error **err)
{
	yajl_val a;
	TRY(fcj_strv(e, p, "names", true, &sc->names, err));
	TRY(parse_action(e, p, "action", "errnoRet", &sc->action, err));
	if (TRY(fcj_arr(e, p, "args", &a, err)) == 0)
		return 0;
	sc->args = fc_calloc(a->u.array.len + 1, sizeof(*sc->args));
	sc->n_args = a->u.array.len;
	for (size_t i = 0; i < a->u.array.len; i++) {
		OBJ_ELEM(a, p, "args", i, ea, pa, err);
		struct fc_seccomp_arg *arg = &sc->args[i];
		_cleanup_free_ char *op = NULL;
		uint64_t idx;
		TRY(fcj_uint(ea, pa, "index", true, 5, &idx, err));
		arg->index = (unsigned)idx;
		TRY(fcj_uint(ea, pa, "value", true, UINT64_MAX, &arg->value, err));
		TRY(fcj_uint(ea, pa, "valueTwo", false, UINT64_MAX, &arg->value_two, err));
		TRY(fcj_str(ea, pa, "op", true, &op, err));
		arg->op = -1;
		for (size_t k = 0; k < FC_ARRAY_SIZE(seccomp_ops); k++)
			if (FC_STREQ(op, seccomp_ops[k].name))
				arg->op = seccomp_ops[k].op;
		if (arg->op < 0)
			return fcj_err(err, pa, "op", "unknown seccomp operator `%s`", op);
	}
	return 0;
}

static int parse_seccomp_into(yajl_val v, const char *w, struct fc_seccomp *s,
                              struct fc_error **err)
{
	_cleanup_strv_ char **archs = NULL;
	yajl_val a;
	TRY(parse_action(v, w, "defaultAction", "defaultErrnoRet", &s->default_action, err));
	if (TRY(fcj_strv(v, w, "architectures", false, &archs, err)) > 0) {
		s->n_architectures = fc_strv_len(archs);
		s->architectures = fc_calloc(s->n_architectures + 1, sizeof(uint32_t));
		for (size_t i = 0; i < s->n_architectures; i++) {
			_cleanup_free_ char *tok = NULL;
			const char *n = archs[i];
			if (strncmp(n, "SCMP_ARCH_", 10) == 0)
				n += 10;
			tok = fc_strdup(n);
			for (char *c = tok; *c; c++)
				*c = (char)tolower((unsigned char)*c);
			s->architectures[i] = *tok ? seccomp_arch_resolve_name(tok) : 0;
			if (!s->architectures[i]) {
				_cleanup_free_ char *p = fcj_path_idx(w, "architectures", i);
				return fcj_err(err, p, NULL, "unknown seccomp architecture `%s`",
				               archs[i]);
			}
		}
	}
	TRY(fcj_strv(v, w, "flags", false, &s->flags, err));
	for (size_t i = 0; s->flags && s->flags[i]; i++) {
		bool ok = false;
		for (size_t k = 0; k < FC_ARRAY_SIZE(seccomp_flags); k++)
			ok |= FC_STREQ(s->flags[i], seccomp_flags[k]);
		if (!ok) {
			_cleanup_free_ char *p = fcj_path_idx(w, "flags", i);
			return fcj_err(err, p, NULL, "unknown seccomp flag `%s`", s->flags[i]);
		}
	}
	TRY(fcj_str(v, w, "listenerPath", false, &s->listener_path, err));
	TRY(fcj_str(v, w, "listenerMetadata", false, &s->listener_metadata, err));
	if (TRY(fcj_arr(v, w, "syscalls", &a, err)) == 0)
		return 0;
	s->syscalls = fc_calloc(a->u.array.len + 1, sizeof(*s->syscalls));
	for (size_t i = 0; i < a->u.array.len; i++) {
		OBJ_ELEM(a, w, "syscalls", i, e, p, err);
		s->n_syscalls = i + 1;
		TRY(parse_syscall(e, p, &s->syscalls[i], err));
	}
	return 0;
}

int fcj_seccomp(yajl_val v, const char *where, struct fc_seccomp **out, struct fc_error **err)
{
	struct fc_seccomp *s = fc_calloc(1, sizeof(*s));
	int r = parse_seccomp_into(v, where, s, err);
	if (r < 0) {
		fcj_seccomp_free(s);
		return r;
	}
	*out = s;
	return 0;
}

void fcj_seccomp_free(struct fc_seccomp *s)
{
	if (!s)
		return;
	free(s->architectures);
	fc_strv_free(s->flags);
	free(s->listener_path);
	free(s->listener_metadata);
	for (size_t i = 0; i < s->n_syscalls; i++) {
		fc_strv_free(s->syscalls[i].names);
		free(s->syscalls[i].args);
	}
	free(s->syscalls);
	free(s);
}
