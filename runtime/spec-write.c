/* SPDX-License-Identifier: MIT */
/* spec-write.c: the typed spec back to config.json text (fcrt_spec_json), in
 * the field order of the runtime-spec's Go types, indented with tabs as runc
 * writes it or compact. The inverse of spec-parse.c and spec-resources.c:
 * names for the numbers they stored (capabilities, rlimits, seccomp actions,
 * architectures and operators, I/O priority classes, personality). */
#include "security.h"
#include "spec.h"

#include <inttypes.h>
#include <linux/ioprio.h>
#include <seccomp.h>
#include <sys/personality.h>

/* ---- a small JSON writer ------------------------------------------------ */

#define JW_MAX_DEPTH 32

struct jw {
	struct fc_buf *b;
	bool indent;
	bool after_key;
	int depth;
	bool first[JW_MAX_DEPTH];
};

static void jw_lit(struct jw *w, const char *s)
{
	fc_buf_append(w->b, s, strlen(s));
}

/* Before a value or a key: the comma and the line break of its container. */
static void jw_sep(struct jw *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (w->depth == 0)
		return;
	if (!w->first[w->depth])
		jw_lit(w, ",");
	w->first[w->depth] = false;
	if (w->indent) {
		jw_lit(w, "\n");
		for (int i = 0; i < w->depth; i++)
			jw_lit(w, "\t");
	}
}

static void jw_open(struct jw *w, const char *c)
{
	jw_sep(w);
	jw_lit(w, c);
	w->depth++;
	w->first[w->depth] = true;
}

static void jw_close(struct jw *w, const char *c)
{
	bool empty = w->first[w->depth];
	w->depth--;
	if (w->indent && !empty) {
		jw_lit(w, "\n");
		for (int i = 0; i < w->depth; i++)
			jw_lit(w, "\t");
	}
	jw_lit(w, c);
}

static void jw_key(struct jw *w, const char *k)
{
	jw_sep(w);
	fc_buf_json_string(w->b, k);
	jw_lit(w, w->indent ? ": " : ":");
	w->after_key = true;
}

static void jw_str(struct jw *w, const char *s)
{
	jw_sep(w);
	fc_buf_json_string(w->b, s);
}

static void jw_u64(struct jw *w, uint64_t v)
{
	char t[24];
	jw_sep(w);
	snprintf(t, sizeof(t), "%" PRIu64, v);
	jw_lit(w, t);
}

static void jw_i64(struct jw *w, int64_t v)
{
	char t[24];
	jw_sep(w);
	snprintf(t, sizeof(t), "%" PRId64, v);
	jw_lit(w, t);
}

static void jw_bool(struct jw *w, bool v)
{
	jw_sep(w);
	jw_lit(w, v ? "true" : "false");
}

/* "key": value, for each type; the _opt forms skip NULL. */
static void kstr(struct jw *w, const char *k, const char *v)
{
	if (!v)
		return;
	jw_key(w, k);
	jw_str(w, v);
}

static void ku64(struct jw *w, const char *k, uint64_t v)
{
	jw_key(w, k);
	jw_u64(w, v);
}

static void ki64(struct jw *w, const char *k, int64_t v)
{
	jw_key(w, k);
	jw_i64(w, v);
}

static void kbool(struct jw *w, const char *k, bool v)
{
	jw_key(w, k);
	jw_bool(w, v);
}

static void kstrv(struct jw *w, const char *k, char *const *v)
{
	if (!v)
		return;
	jw_key(w, k);
	jw_open(w, "[");
	for (size_t i = 0; v[i]; i++)
		jw_str(w, v[i]);
	jw_close(w, "]");
}

static void kkv(struct jw *w, const char *k, const struct fc_kv *kv, size_t n)
{
	if (!kv)
		return;
	jw_key(w, k);
	jw_open(w, "{");
	for (size_t i = 0; i < n; i++)
		kstr(w, kv[i].key, kv[i].value);
	jw_close(w, "}");
}

static void kidmaps(struct jw *w, const char *k, const struct fc_idmap *m, size_t n)
{
	if (!m)
		return;
	jw_key(w, k);
	jw_open(w, "[");
	for (size_t i = 0; i < n; i++) {
		jw_open(w, "{");
		ku64(w, "containerID", m[i].container_id);
		ku64(w, "hostID", m[i].host_id);
		ku64(w, "size", m[i].size);
		jw_close(w, "}");
	}
	jw_close(w, "]");
}

/* ---- process ------------------------------------------------------------ */

static void kcaps(struct jw *w, const char *k, const int *caps, size_t n)
{
	if (!caps)
		return;
	jw_key(w, k);
	jw_open(w, "[");
	for (size_t i = 0; i < n; i++) {
		const char *name = fc_cap_name(caps[i]);
		if (name) {
			jw_str(w, name);
		} else {
			char t[24];
			snprintf(t, sizeof(t), "CAP_%d", caps[i]);
			jw_str(w, t);
		}
	}
	jw_close(w, "]");
}

static const char *ioprio_class_name(int c)
{
	switch (c) {
	case IOPRIO_CLASS_RT:
		return "IOPRIO_CLASS_RT";
	case IOPRIO_CLASS_BE:
		return "IOPRIO_CLASS_BE";
	case IOPRIO_CLASS_IDLE:
		return "IOPRIO_CLASS_IDLE";
	default:
		return "IOPRIO_CLASS_NONE";
	}
}

static void write_process(struct jw *w, const struct fc_process *p)
{
	jw_key(w, "process");
	jw_open(w, "{");
	kbool(w, "terminal", p->terminal);
	if (p->has_console_size) {
		jw_key(w, "consoleSize");
		jw_open(w, "{");
		ku64(w, "height", p->console_height);
		ku64(w, "width", p->console_width);
		jw_close(w, "}");
	}
	jw_key(w, "user");
	jw_open(w, "{");
	ku64(w, "uid", p->uid);
	ku64(w, "gid", p->gid);
	if (p->has_umask)
		ku64(w, "umask", p->umask);
	if (p->additional_gids) {
		jw_key(w, "additionalGids");
		jw_open(w, "[");
		for (size_t i = 0; i < p->n_additional_gids; i++)
			jw_u64(w, p->additional_gids[i]);
		jw_close(w, "]");
	}
	jw_close(w, "}");
	kstrv(w, "args", p->args);
	kstrv(w, "env", p->env);
	kstr(w, "cwd", p->cwd);
	if (p->caps.has_caps) {
		const struct fc_caps *c = &p->caps;
		jw_key(w, "capabilities");
		jw_open(w, "{");
		kcaps(w, "bounding", c->bounding, c->n_bounding);
		kcaps(w, "effective", c->effective, c->n_effective);
		kcaps(w, "inheritable", c->inheritable, c->n_inheritable);
		kcaps(w, "permitted", c->permitted, c->n_permitted);
		kcaps(w, "ambient", c->ambient, c->n_ambient);
		jw_close(w, "}");
	}
	if (p->rlimits) {
		jw_key(w, "rlimits");
		jw_open(w, "[");
		for (size_t i = 0; i < p->n_rlimits; i++) {
			jw_open(w, "{");
			kstr(w, "type", fc_rlimit_name(p->rlimits[i].resource));
			ku64(w, "hard", p->rlimits[i].hard);
			ku64(w, "soft", p->rlimits[i].soft);
			jw_close(w, "}");
		}
		jw_close(w, "]");
	}
	kbool(w, "noNewPrivileges", p->no_new_privileges);
	kstr(w, "apparmorProfile", p->apparmor_profile);
	if (p->has_oom_score_adj)
		ki64(w, "oomScoreAdj", p->oom_score_adj);
	kstr(w, "selinuxLabel", p->selinux_label);
	if (p->has_io_priority) {
		jw_key(w, "ioPriority");
		jw_open(w, "{");
		kstr(w, "class", ioprio_class_name(p->io_priority_class));
		ki64(w, "priority", p->io_priority);
		jw_close(w, "}");
	}
	jw_close(w, "}");
}

/* ---- mounts and hooks --------------------------------------------------- */

static void write_mounts(struct jw *w, const struct fc_spec *s)
{
	if (!s->mounts)
		return;
	jw_key(w, "mounts");
	jw_open(w, "[");
	for (size_t i = 0; i < s->n_mounts; i++) {
		const struct fc_mount *m = &s->mounts[i];
		jw_open(w, "{");
		kstr(w, "destination", m->destination);
		kstr(w, "type", m->type);
		kstr(w, "source", m->source);
		kstrv(w, "options", m->options);
		kidmaps(w, "uidMappings", m->uid_mappings, m->n_uid_mappings);
		kidmaps(w, "gidMappings", m->gid_mappings, m->n_gid_mappings);
		jw_close(w, "}");
	}
	jw_close(w, "]");
}

static void write_hooks(struct jw *w, const struct fc_spec *s)
{
	bool any = false;
	for (int k = 0; k < FC_HOOK_KINDS; k++)
		any |= s->hooks[k] != NULL;
	if (!any)
		return;
	jw_key(w, "hooks");
	jw_open(w, "{");
	for (int k = 0; k < FC_HOOK_KINDS; k++) {
		if (!s->hooks[k])
			continue;
		jw_key(w, fc_hook_key((enum fc_hook_kind)k));
		jw_open(w, "[");
		for (size_t i = 0; i < s->n_hooks[k]; i++) {
			const struct fc_hook *h = &s->hooks[k][i];
			jw_open(w, "{");
			kstr(w, "path", h->path);
			kstrv(w, "args", h->args);
			kstrv(w, "env", h->env);
			if (h->has_timeout)
				ki64(w, "timeout", h->timeout);
			jw_close(w, "}");
		}
		jw_close(w, "]");
	}
	jw_close(w, "}");
}

/* ---- linux.resources ---------------------------------------------------- */

static void kthrottle(struct jw *w, const char *k, const struct fc_throttle *t, size_t n)
{
	if (!t)
		return;
	jw_key(w, k);
	jw_open(w, "[");
	for (size_t i = 0; i < n; i++) {
		jw_open(w, "{");
		ki64(w, "major", t[i].major);
		ki64(w, "minor", t[i].minor);
		ku64(w, "rate", t[i].rate);
		jw_close(w, "}");
	}
	jw_close(w, "]");
}

/* "hca_handle=N hca_object=M" (how spec-resources.c keeps linux.resources.rdma). */
static void write_rdma_entry(struct jw *w, const char *text)
{
	jw_open(w, "{");
	for (const char *p = text; p && *p;) {
		size_t n = strcspn(p, " ");
		unsigned long long v = 0;
		if (sscanf(p, "hca_handle=%llu", &v) == 1)
			ku64(w, "hcaHandles", v);
		else if (sscanf(p, "hca_object=%llu", &v) == 1)
			ku64(w, "hcaObjects", v);
		p += n;
		p += strspn(p, " ");
	}
	jw_close(w, "}");
}

static void write_memory(struct jw *w, const struct fc_resources *r)
{
	typeof(r->memory) *m = &r->memory;
	if (!(m->has_limit || m->has_reservation || m->has_swap || m->has_kernel ||
	      m->has_kernel_tcp || m->has_swappiness || m->has_disable_oom_killer ||
	      m->has_use_hierarchy || m->has_check_before_update))
		return;
	jw_key(w, "memory");
	jw_open(w, "{");
	if (m->has_limit)
		ki64(w, "limit", m->limit);
	if (m->has_reservation)
		ki64(w, "reservation", m->reservation);
	if (m->has_swap)
		ki64(w, "swap", m->swap);
	if (m->has_kernel)
		ki64(w, "kernel", m->kernel);
	if (m->has_kernel_tcp)
		ki64(w, "kernelTCP", m->kernel_tcp);
	if (m->has_swappiness)
		ku64(w, "swappiness", m->swappiness);
	if (m->has_disable_oom_killer)
		kbool(w, "disableOOMKiller", m->disable_oom_killer);
	if (m->has_use_hierarchy)
		kbool(w, "useHierarchy", m->use_hierarchy);
	if (m->has_check_before_update)
		kbool(w, "checkBeforeUpdate", m->check_before_update);
	jw_close(w, "}");
}

static void write_cpu(struct jw *w, const struct fc_resources *r)
{
	typeof(r->cpu) *c = &r->cpu;
	if (!(c->has_shares || c->has_quota || c->has_burst || c->has_period ||
	      c->has_realtime_runtime || c->has_realtime_period || c->has_idle || c->cpus ||
	      c->mems))
		return;
	jw_key(w, "cpu");
	jw_open(w, "{");
	if (c->has_shares)
		ku64(w, "shares", c->shares);
	if (c->has_quota)
		ki64(w, "quota", c->quota);
	if (c->has_burst)
		ku64(w, "burst", c->burst);
	if (c->has_period)
		ku64(w, "period", c->period);
	if (c->has_realtime_runtime)
		ki64(w, "realtimeRuntime", c->realtime_runtime);
	if (c->has_realtime_period)
		ku64(w, "realtimePeriod", c->realtime_period);
	kstr(w, "cpus", c->cpus);
	kstr(w, "mems", c->mems);
	if (c->has_idle)
		ki64(w, "idle", c->idle);
	jw_close(w, "}");
}

static void write_blkio(struct jw *w, const struct fc_resources *r)
{
	typeof(r->blkio) *b = &r->blkio;
	if (!(b->has_weight || b->has_leaf_weight || b->weight_devices || b->throttle_read_bps ||
	      b->throttle_write_bps || b->throttle_read_iops || b->throttle_write_iops))
		return;
	jw_key(w, "blockIO");
	jw_open(w, "{");
	if (b->has_weight)
		ku64(w, "weight", b->weight);
	if (b->has_leaf_weight)
		ku64(w, "leafWeight", b->leaf_weight);
	if (b->weight_devices) {
		jw_key(w, "weightDevice");
		jw_open(w, "[");
		for (size_t i = 0; i < b->n_weight_devices; i++) {
			const struct fc_weight_device *d = &b->weight_devices[i];
			jw_open(w, "{");
			ki64(w, "major", d->major);
			ki64(w, "minor", d->minor);
			if (d->has_weight)
				ku64(w, "weight", d->weight);
			if (d->has_leaf_weight)
				ku64(w, "leafWeight", d->leaf_weight);
			jw_close(w, "}");
		}
		jw_close(w, "]");
	}
	kthrottle(w, "throttleReadBpsDevice", b->throttle_read_bps, b->n_throttle_read_bps);
	kthrottle(w, "throttleWriteBpsDevice", b->throttle_write_bps, b->n_throttle_write_bps);
	kthrottle(w, "throttleReadIOPSDevice", b->throttle_read_iops, b->n_throttle_read_iops);
	kthrottle(w, "throttleWriteIOPSDevice", b->throttle_write_iops, b->n_throttle_write_iops);
	jw_close(w, "}");
}

static void write_resources(struct jw *w, const struct fc_resources *r)
{
	jw_key(w, "resources");
	jw_open(w, "{");
	if (r->devices) {
		jw_key(w, "devices");
		jw_open(w, "[");
		for (size_t i = 0; i < r->n_devices; i++) {
			const struct fc_device_rule *d = &r->devices[i];
			char t[2] = {d->type, 0};
			jw_open(w, "{");
			kbool(w, "allow", d->allow);
			if (d->type)
				kstr(w, "type", t);
			if (d->major != -1)
				ki64(w, "major", d->major);
			if (d->minor != -1)
				ki64(w, "minor", d->minor);
			kstr(w, "access", d->access);
			jw_close(w, "}");
		}
		jw_close(w, "]");
	}
	write_memory(w, r);
	write_cpu(w, r);
	if (r->pids.has_limit) {
		jw_key(w, "pids");
		jw_open(w, "{");
		ki64(w, "limit", r->pids.limit);
		jw_close(w, "}");
	}
	write_blkio(w, r);
	if (r->hugepage_limits) {
		jw_key(w, "hugepageLimits");
		jw_open(w, "[");
		for (size_t i = 0; i < r->n_hugepage_limits; i++) {
			jw_open(w, "{");
			kstr(w, "pageSize", r->hugepage_limits[i].page_size);
			ku64(w, "limit", r->hugepage_limits[i].limit);
			jw_close(w, "}");
		}
		jw_close(w, "]");
	}
	if (r->network.has_class_id || r->network.priorities) {
		jw_key(w, "network");
		jw_open(w, "{");
		if (r->network.has_class_id)
			ku64(w, "classID", r->network.class_id);
		if (r->network.priorities) {
			jw_key(w, "priorities");
			jw_open(w, "[");
			for (size_t i = 0; i < r->network.n_priorities; i++) {
				jw_open(w, "{");
				kstr(w, "name", r->network.priorities[i].key);
				ku64(w, "priority",
				     strtoull(r->network.priorities[i].value, NULL, 10));
				jw_close(w, "}");
			}
			jw_close(w, "]");
		}
		jw_close(w, "}");
	}
	if (r->rdma) {
		jw_key(w, "rdma");
		jw_open(w, "{");
		for (size_t i = 0; i < r->n_rdma; i++) {
			jw_key(w, r->rdma[i].key);
			write_rdma_entry(w, r->rdma[i].value);
		}
		jw_close(w, "}");
	}
	kkv(w, "unified", r->unified, r->n_unified);
	jw_close(w, "}");
}

/* ---- linux.seccomp ------------------------------------------------------ */

/* The action's name; its errno or trace value in *ret (has_ret). */
static const char *seccomp_action_name(uint32_t a, bool *has_ret, uint32_t *ret)
{
	*has_ret = false;
	switch (a & 0xffff0000u) {
	case SCMP_ACT_ERRNO(0):
		*has_ret = true;
		*ret = a & 0xffffu;
		return "SCMP_ACT_ERRNO";
	case SCMP_ACT_TRACE(0):
		*has_ret = true;
		*ret = a & 0xffffu;
		return "SCMP_ACT_TRACE";
	default:
		break;
	}
	switch (a) {
	case SCMP_ACT_KILL_PROCESS:
		return "SCMP_ACT_KILL_PROCESS";
	case SCMP_ACT_TRAP:
		return "SCMP_ACT_TRAP";
	case SCMP_ACT_ALLOW:
		return "SCMP_ACT_ALLOW";
	case SCMP_ACT_LOG:
		return "SCMP_ACT_LOG";
	case SCMP_ACT_NOTIFY:
		return "SCMP_ACT_NOTIFY";
	default:
		return "SCMP_ACT_KILL"; /* SCMP_ACT_KILL_THREAD */
	}
}

static void kaction(struct jw *w, const char *akey, const char *rkey, uint32_t action)
{
	bool has_ret;
	uint32_t ret = 0;
	kstr(w, akey, seccomp_action_name(action, &has_ret, &ret));
	if (has_ret)
		ku64(w, rkey, ret);
}

static const char *seccomp_arch_name(uint32_t token)
{
	for (const char *const *n = fc_seccomp_known_archs(); *n; n++) {
		char low[32];
		size_t i = 0;
		for (const char *c = *n + strlen("SCMP_ARCH_"); *c && i + 1 < sizeof(low); c++)
			low[i++] = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
		low[i] = '\0';
		if (seccomp_arch_resolve_name(low) == token)
			return *n;
	}
	return NULL;
}

static const char *seccomp_op_name(int op)
{
	static const char *const names[] = {
	    [SCMP_CMP_NE] = "SCMP_CMP_NE",
	    [SCMP_CMP_LT] = "SCMP_CMP_LT",
	    [SCMP_CMP_LE] = "SCMP_CMP_LE",
	    [SCMP_CMP_EQ] = "SCMP_CMP_EQ",
	    [SCMP_CMP_GE] = "SCMP_CMP_GE",
	    [SCMP_CMP_GT] = "SCMP_CMP_GT",
	    [SCMP_CMP_MASKED_EQ] = "SCMP_CMP_MASKED_EQ",
	};
	return op >= 0 && (size_t)op < FC_ARRAY_SIZE(names) && names[op] ? names[op]
	                                                                 : "SCMP_CMP_EQ";
}

static void write_seccomp(struct jw *w, const struct fc_seccomp *sc)
{
	jw_key(w, "seccomp");
	jw_open(w, "{");
	kaction(w, "defaultAction", "defaultErrnoRet", sc->default_action);
	if (sc->architectures) {
		jw_key(w, "architectures");
		jw_open(w, "[");
		for (size_t i = 0; i < sc->n_architectures; i++) {
			const char *n = seccomp_arch_name(sc->architectures[i]);
			if (n)
				jw_str(w, n);
		}
		jw_close(w, "]");
	}
	kstrv(w, "flags", sc->flags);
	kstr(w, "listenerPath", sc->listener_path);
	kstr(w, "listenerMetadata", sc->listener_metadata);
	if (sc->syscalls) {
		jw_key(w, "syscalls");
		jw_open(w, "[");
		for (size_t i = 0; i < sc->n_syscalls; i++) {
			const struct fc_seccomp_syscall *c = &sc->syscalls[i];
			jw_open(w, "{");
			kstrv(w, "names", c->names);
			kaction(w, "action", "errnoRet", c->action);
			if (c->args) {
				jw_key(w, "args");
				jw_open(w, "[");
				for (size_t j = 0; j < c->n_args; j++) {
					jw_open(w, "{");
					ku64(w, "index", c->args[j].index);
					ku64(w, "value", c->args[j].value);
					ku64(w, "valueTwo", c->args[j].value_two);
					kstr(w, "op", seccomp_op_name(c->args[j].op));
					jw_close(w, "}");
				}
				jw_close(w, "]");
			}
			jw_close(w, "}");
		}
		jw_close(w, "]");
	}
	jw_close(w, "}");
}

/* ---- linux -------------------------------------------------------------- */

static void write_devices(struct jw *w, const struct fc_spec *s)
{
	jw_key(w, "devices");
	jw_open(w, "[");
	for (size_t i = 0; i < s->n_devices; i++) {
		const struct fc_device *d = &s->devices[i];
		char t[2] = {d->type, 0};
		jw_open(w, "{");
		kstr(w, "path", d->path);
		kstr(w, "type", t);
		ki64(w, "major", d->major);
		ki64(w, "minor", d->minor);
		if (d->has_mode)
			ku64(w, "fileMode", d->file_mode);
		if (d->has_uid)
			ku64(w, "uid", d->uid);
		if (d->has_gid)
			ku64(w, "gid", d->gid);
		jw_close(w, "}");
	}
	jw_close(w, "]");
}

static void write_time_offset(struct jw *w, const char *k, int64_t secs, uint32_t nsecs)
{
	jw_key(w, k);
	jw_open(w, "{");
	ki64(w, "secs", secs);
	ku64(w, "nanosecs", nsecs);
	jw_close(w, "}");
}

static void write_linux(struct jw *w, const struct fc_spec *s)
{
	jw_key(w, "linux");
	jw_open(w, "{");
	kidmaps(w, "uidMappings", s->uid_mappings, s->n_uid_mappings);
	kidmaps(w, "gidMappings", s->gid_mappings, s->n_gid_mappings);
	if (s->sysctl) {
		jw_key(w, "sysctl");
		jw_open(w, "{");
		for (size_t i = 0; i < s->n_sysctl; i++)
			kstr(w, s->sysctl[i].key, s->sysctl[i].value);
		jw_close(w, "}");
	}
	if (s->resources)
		write_resources(w, s->resources);
	kstr(w, "cgroupsPath", s->cgroups_path);
	if (s->namespaces) {
		jw_key(w, "namespaces");
		jw_open(w, "[");
		for (size_t i = 0; i < s->n_namespaces; i++) {
			jw_open(w, "{");
			kstr(w, "type", fc_ns_name(s->namespaces[i].type));
			kstr(w, "path", s->namespaces[i].path);
			jw_close(w, "}");
		}
		jw_close(w, "]");
	}
	if (s->devices)
		write_devices(w, s);
	if (s->seccomp)
		write_seccomp(w, s->seccomp);
	kstr(w, "rootfsPropagation", s->rootfs_propagation);
	kstrv(w, "maskedPaths", s->masked_paths);
	kstrv(w, "readonlyPaths", s->readonly_paths);
	kstr(w, "mountLabel", s->mount_label);
	if (s->has_personality) {
		jw_key(w, "personality");
		jw_open(w, "{");
		kstr(w, "domain", s->personality == PER_LINUX32 ? "LINUX32" : "LINUX");
		kstrv(w, "flags", s->personality_flags);
		jw_close(w, "}");
	}
	if (s->has_time_offsets) {
		jw_key(w, "timeOffsets");
		jw_open(w, "{");
		write_time_offset(w, "monotonic", s->monotonic_secs, s->monotonic_nsecs);
		write_time_offset(w, "boottime", s->boottime_secs, s->boottime_nsecs);
		jw_close(w, "}");
	}
	jw_close(w, "}");
}

static bool has_linux(const struct fc_spec *s)
{
	return s->uid_mappings || s->gid_mappings || s->sysctl || s->resources || s->cgroups_path ||
	       s->namespaces || s->devices || s->seccomp || s->rootfs_propagation ||
	       s->masked_paths || s->readonly_paths || s->mount_label || s->has_personality ||
	       s->has_time_offsets;
}

void fcrt_spec_json(const struct fc_spec *s, bool indent, struct fc_buf *out)
{
	struct jw w = {.b = out, .indent = indent};
	jw_open(&w, "{");
	kstr(&w, "ociVersion", s->oci_version ? s->oci_version : FCRT_OCI_VERSION);
	if (s->process)
		write_process(&w, s->process);
	jw_key(&w, "root");
	jw_open(&w, "{");
	kstr(&w, "path", s->root_path ? s->root_path : "rootfs");
	if (s->root_readonly)
		kbool(&w, "readonly", true);
	jw_close(&w, "}");
	kstr(&w, "hostname", s->hostname);
	kstr(&w, "domainname", s->domainname);
	write_mounts(&w, s);
	write_hooks(&w, s);
	kkv(&w, "annotations", s->annotations, s->n_annotations);
	if (has_linux(s))
		write_linux(&w, s);
	jw_close(&w, "}");
}

int fcrt_spec_copy(const struct fc_spec *s, struct fc_spec **out, struct fc_error **err)
{
	_cleanup_buf_ struct fc_buf b = {0};
	fcrt_spec_json(s, false, &b);
	return fcrt_spec_parse(b.data, b.len, NULL, out, err);
}
