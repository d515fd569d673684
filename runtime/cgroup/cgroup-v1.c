/* SPDX-License-Identifier: MIT */
/* cgroup-v1.c: limits and statistics through the cgroup v1 controllers. */
#include "cgroup-backend.h"

#include <fcntl.h>
#include <inttypes.h>
#include <unistd.h>

const struct fc_device_rule cg_default_devices[] = {
    {true, 'c', -1, -1, "m"}, {true, 'b', -1, -1, "m"},    {true, 'c', 1, 3, "rwm"},
    {true, 'c', 1, 5, "rwm"}, {true, 'c', 1, 7, "rwm"},    {true, 'c', 1, 8, "rwm"},
    {true, 'c', 1, 9, "rwm"}, {true, 'c', 5, 0, "rwm"},    {true, 'c', 5, 1, "rwm"},
    {true, 'c', 5, 2, "rwm"}, {true, 'c', 136, -1, "rwm"}, {true, 'c', 10, 200, "rwm"},
};
const size_t cg_n_default_devices = FC_ARRAY_SIZE(cg_default_devices);
/* The default rules runc ties to a device path (the others have none). */
static const char *const default_paths[FC_ARRAY_SIZE(cg_default_devices)] = {
    [2] = "/dev/null",   [3] = "/dev/zero",    [4] = "/dev/full",
    [5] = "/dev/random", [6] = "/dev/urandom", [7] = "/dev/tty",
};

uint32_t fc_cgroup_default_devices_off(const struct fc_device *devs, size_t n)
{
	uint32_t off = 0;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < cg_n_default_devices; j++)
			if (default_paths[j] && devs[i].path &&
			    FC_STREQ(devs[i].path, default_paths[j]))
				off |= 1u << j;
	return off;
}

/* cpuset.cpus/mems must not be empty before a task can join: copy the
 * nearest non-empty ancestor's. */
int cg_v1_init_cpuset(const char *dir, struct fc_error **err)
{
	static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
	for (size_t f = 0; f < FC_ARRAY_SIZE(files); f++) {
		_cleanup_free_ char *cur = NULL, *up = fc_strdup(dir);
		int r = cg_read(dir, files[f], &cur);
		if (r < 0)
			return fc_error_set(err, -r, "read `%s` in %s", files[f], dir);
		if (*cur)
			continue;
		for (;;) {
			_cleanup_free_ char *val = NULL;
			char *slash = strrchr(up, '/');
			if (!slash || slash == up)
				break;
			*slash = '\0';
			if (cg_read(up, files[f], &val) < 0)
				break;
			if (*val) {
				r = cg_write(dir, files[f], val, err);
				if (r < 0)
					return r;
				break;
			}
		}
	}
	return 0;
}

static void rule_string(const struct fc_device_rule *d, char *buf, size_t len)
{
	char maj[24], min[24];
	if (!d->type || d->type == 'a') {
		snprintf(buf, len, "a");
		return;
	}
	if (d->major < 0)
		snprintf(maj, sizeof(maj), "*");
	else
		snprintf(maj, sizeof(maj), "%" PRId64, d->major);
	if (d->minor < 0)
		snprintf(min, sizeof(min), "*");
	else
		snprintf(min, sizeof(min), "%" PRId64, d->minor);
	snprintf(buf, len, "%c %s:%s %s", d->type, maj, min,
	         d->access && *d->access ? d->access : "rwm");
}

/* devices.allow and devices.deny, each opened once for all the rules (a
 * rule is one write). */
struct dev_files {
	const char *dir;
	int fd[2];       /* deny, allow; -1 until opened */
	bool denied_all; /* nothing allowed since the last "a" deny */
};

static int dev_write(struct dev_files *f, bool allow, const char *s, struct fc_error **err)
{
	const char *file = allow ? "devices.allow" : "devices.deny";
	int *fd = &f->fd[allow];
	if (*fd < 0) {
		_cleanup_free_ char *p = fc_asprintf("%s/%s", f->dir, file);
		*fd = open(p, O_WRONLY | O_CLOEXEC | O_NOCTTY);
	}
	if (*fd < 0 || write(*fd, s, strlen(s)) < 0)
		return fc_error_set(err, errno, "linux.resources.devices = %s: write `%s` in %s", s,
		                    file, f->dir);
	return 0;
}

/* Writing "a" (all devices) is refused with EINVAL once the cgroup has
 * children: fine when the cgroup is already in that state. */
static int write_all(struct dev_files *f, bool allow, struct fc_error **err)
{
	if (!allow && f->denied_all)
		return 0; /* the same state: "deny all" twice in a row */
	int r = dev_write(f, allow, "a", err);
	if (r == -EINVAL) {
		_cleanup_free_ char *list = NULL;
		if (cg_read(f->dir, "devices.list", &list) == 0 &&
		    !strstr(list, "a *:* rwm") == !allow) {
			cg_error_clear(err);
			r = 0;
		}
	}
	if (r >= 0)
		f->denied_all = !allow;
	return r;
}

static int write_rule(struct dev_files *f, const struct fc_device_rule *d, struct fc_error **err)
{
	char s[96];
	rule_string(d, s, sizeof(s));
	if (FC_STREQ(s, "a"))
		return write_all(f, d->allow, err);
	int r = dev_write(f, d->allow, s, err);
	if (r >= 0 && d->allow)
		f->denied_all = false;
	return r;
}

static int apply_devices(const char *dir, const struct fc_resources *res, struct fc_error **err)
{
	struct dev_files f = {.dir = dir, .fd = {-1, -1}};
	int r;
	/* As runc: nothing is allowed unless a rule allows it (the usual config
	 * starts with "deny all" anyway); then the rules in order, then runc's
	 * default devices. The BPF filter on cgroup2 has the same semantics. */
	r = write_all(&f, false, err);
	for (size_t i = 0; r >= 0 && i < res->n_devices; i++)
		r = write_rule(&f, &res->devices[i], err);
	for (size_t i = 0; r >= 0 && i < cg_n_default_devices; i++) {
		if (!(res->default_devices_off & (1u << i)))
			r = write_rule(&f, &cg_default_devices[i], err);
	}
	for (int i = 0; i < 2; i++)
		if (f.fd[i] >= 0)
			close(f.fd[i]);
	return r < 0 ? r : 0;
}

static int set_limit(const char *dir, int64_t v, struct fc_error **err)
{
	int r = cg_writef(dir, "memory.limit_in_bytes", err, "%" PRId64, v);
	if (r == -EBUSY) {
		uint64_t use = 0, peak = 0;
		cg_read_u64(dir, "memory.usage_in_bytes", &use);
		cg_read_u64(dir, "memory.max_usage_in_bytes", &peak);
		cg_error_clear(err);
		return fc_error_set(err, EBUSY,
		                    "linux.resources.memory.limit = %" PRId64
		                    ": below the current usage %" PRIu64 " (peak %" PRIu64 ")",
		                    v, use, peak);
	}
	return r;
}

static int apply_memory(const char *dir, const struct fc_resources *res, struct fc_error **err)
{
	int64_t limit = res->memory.has_limit ? res->memory.limit : 0;
	int64_t swap = res->memory.has_swap ? res->memory.swap : 0;
	bool memsw = cg_exists(dir, "memory.memsw.limit_in_bytes");
	int r;

	if (limit == -1 && swap == 0)
		swap = -1; /* unlimited memory means unlimited swap as well */
	if (swap && !memsw) {
		if (swap != -1)
			return fc_error_set(err, ENOTSUP,
			                    "memory.swap = %" PRId64
			                    ": %s/memory.memsw.limit_in_bytes "
			                    "is missing (swap accounting disabled)",
			                    swap, dir);
		swap = 0;
	}
	if (limit && swap) {
		uint64_t cur = 0;
		cg_read_u64(dir, "memory.limit_in_bytes", &cur);
		/* Keep memsw >= limit at every step. */
		if (swap == -1 || cur < (uint64_t)swap) {
			r = cg_writef(dir, "memory.memsw.limit_in_bytes", err, "%" PRId64, swap);
			if (r >= 0)
				r = set_limit(dir, limit, err);
		} else {
			r = set_limit(dir, limit, err);
			if (r >= 0)
				r = cg_writef(dir, "memory.memsw.limit_in_bytes", err, "%" PRId64,
				              swap);
		}
	} else {
		r = limit ? set_limit(dir, limit, err) : 0;
		if (r >= 0 && swap)
			r = cg_writef(dir, "memory.memsw.limit_in_bytes", err, "%" PRId64, swap);
	}
	if (r < 0)
		return r;
	if (res->memory.has_reservation && res->memory.reservation) {
		r = cg_writef(dir, "memory.soft_limit_in_bytes", err, "%" PRId64,
		              res->memory.reservation);
		if (r < 0)
			return r;
	}
	/* Kernel memory limits are deprecated (the kernel refuses them since 6.1):
	 * best effort, as runc which ignores them. */
	if (res->memory.has_kernel && res->memory.kernel &&
	    cg_exists(dir, "memory.kmem.limit_in_bytes")) {
		_cleanup_error_ struct fc_error *ign = NULL;
		cg_writef(dir, "memory.kmem.limit_in_bytes", &ign, "%" PRId64, res->memory.kernel);
	}
	if (res->memory.has_kernel_tcp && res->memory.kernel_tcp &&
	    cg_exists(dir, "memory.kmem.tcp.limit_in_bytes")) {
		_cleanup_error_ struct fc_error *ign = NULL;
		cg_writef(dir, "memory.kmem.tcp.limit_in_bytes", &ign, "%" PRId64,
		          res->memory.kernel_tcp);
	}
	if (res->memory.has_swappiness) {
		if (res->memory.swappiness > 100)
			return fc_error_set(err, EINVAL,
			                    "memory.swappiness = %" PRIu64 ": must be 0..100",
			                    res->memory.swappiness);
		r = cg_writef(dir, "memory.swappiness", err, "%" PRIu64, res->memory.swappiness);
		if (r < 0)
			return r;
	}
	if (res->memory.has_disable_oom_killer && res->memory.disable_oom_killer) {
		r = cg_write(dir, "memory.oom_control", "1", err);
		if (r < 0)
			return r;
	}
	if (res->memory.has_use_hierarchy && res->memory.use_hierarchy) {
		_cleanup_error_ struct fc_error *ign = NULL;
		cg_write(dir, "memory.use_hierarchy", "1", &ign); /* always 1 on new kernels */
	}
	return 0;
}

static int apply_cpu(const char *dir, const struct fc_resources *res, struct fc_error **err)
{
	int r;
	bool period_pending = false;
	if (res->cpu.has_shares && res->cpu.shares) {
		uint64_t got = 0;
		r = cg_writef(dir, "cpu.shares", err, "%" PRIu64, res->cpu.shares);
		if (r < 0)
			return r;
		/* The kernel clamps to [2, 262144]: say so instead of silently differing. */
		if (cg_read_u64(dir, "cpu.shares", &got) == 0 && got != res->cpu.shares)
			return fc_error_set(
			    err, EINVAL, "cpu.shares = %" PRIu64 ": the %s allowed is %" PRIu64,
			    res->cpu.shares, res->cpu.shares > got ? "maximum" : "minimum", got);
	}
	if (res->cpu.has_period && res->cpu.period) {
		r = cg_writef(dir, "cpu.cfs_period_us", err, "%" PRIu64, res->cpu.period);
		if (r == -EINVAL && res->cpu.has_quota && res->cpu.quota) {
			/* old quota / new period may exceed the parent's: retry after the quota */
			cg_error_clear(err);
			period_pending = true;
		} else if (r < 0) {
			return r;
		}
	}
	if (res->cpu.has_quota && res->cpu.quota) {
		r = cg_writef(dir, "cpu.cfs_quota_us", err, "%" PRId64, res->cpu.quota);
		if (r < 0)
			return r;
		if (period_pending) {
			r = cg_writef(dir, "cpu.cfs_period_us", err, "%" PRIu64, res->cpu.period);
			if (r < 0)
				return r;
		}
	}
	if (res->cpu.has_burst) {
		r = cg_writef(dir, "cpu.cfs_burst_us", err, "%" PRIu64, res->cpu.burst);
		if (r < 0)
			return r;
	}
	if (res->cpu.has_idle) {
		r = cg_writef(dir, "cpu.idle", err, "%" PRId64, res->cpu.idle);
		if (r < 0)
			return r;
	}
	if (res->cpu.has_realtime_period && res->cpu.realtime_period) {
		r = cg_writef(dir, "cpu.rt_period_us", err, "%" PRIu64, res->cpu.realtime_period);
		if (r < 0)
			return r;
	}
	if (res->cpu.has_realtime_runtime && res->cpu.realtime_runtime) {
		r = cg_writef(dir, "cpu.rt_runtime_us", err, "%" PRId64, res->cpu.realtime_runtime);
		if (r < 0)
			return r;
	}
	return 0;
}

static int write_dev_list(const char *dir, const char *file, const struct fc_throttle *t, size_t n,
                          struct fc_error **err)
{
	for (size_t i = 0; i < n; i++) {
		int r = cg_writef(dir, file, err, "%" PRId64 ":%" PRId64 " %" PRIu64, t[i].major,
		                  t[i].minor, t[i].rate);
		if (r < 0)
			return r;
	}
	return 0;
}

static int apply_blkio(const char *dir, const struct fc_resources *res, struct fc_error **err)
{
	/* With the BFQ scheduler the weights live in blkio.bfq.*. */
	bool bfq = !cg_exists(dir, "blkio.weight") && cg_exists(dir, "blkio.bfq.weight");
	const char *weight = bfq ? "blkio.bfq.weight" : "blkio.weight";
	const char *weight_dev = bfq ? "blkio.bfq.weight_device" : "blkio.weight_device";
	int r;
	if (res->blkio.has_weight && res->blkio.weight) {
		r = cg_writef(dir, weight, err, "%u", res->blkio.weight);
		if (r < 0)
			return r;
	}
	if (res->blkio.has_leaf_weight && res->blkio.leaf_weight) {
		r = cg_writef(dir, "blkio.leaf_weight", err, "%u", res->blkio.leaf_weight);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < res->blkio.n_weight_devices; i++) {
		const struct fc_weight_device *w = &res->blkio.weight_devices[i];
		if (w->has_weight) {
			r = cg_writef(dir, weight_dev, err, "%" PRId64 ":%" PRId64 " %u", w->major,
			              w->minor, w->weight);
			if (r < 0)
				return r;
		}
		if (w->has_leaf_weight) {
			r = cg_writef(dir, "blkio.leaf_weight_device", err,
			              "%" PRId64 ":%" PRId64 " %u", w->major, w->minor,
			              w->leaf_weight);
			if (r < 0)
				return r;
		}
	}
	r = write_dev_list(dir, "blkio.throttle.read_bps_device", res->blkio.throttle_read_bps,
	                   res->blkio.n_throttle_read_bps, err);
	if (r >= 0)
		r = write_dev_list(dir, "blkio.throttle.write_bps_device",
		                   res->blkio.throttle_write_bps, res->blkio.n_throttle_write_bps,
		                   err);
	if (r >= 0)
		r = write_dev_list(dir, "blkio.throttle.read_iops_device",
		                   res->blkio.throttle_read_iops, res->blkio.n_throttle_read_iops,
		                   err);
	if (r >= 0)
		r = write_dev_list(dir, "blkio.throttle.write_iops_device",
		                   res->blkio.throttle_write_iops, res->blkio.n_throttle_write_iops,
		                   err);
	return r;
}

static int apply_hugetlb(const char *dir, const struct fc_resources *res, struct fc_error **err)
{
	for (size_t i = 0; i < res->n_hugepage_limits; i++) {
		const struct fc_hugepage_limit *h = &res->hugepage_limits[i];
		_cleanup_free_ char *f = fc_asprintf("hugetlb.%s.limit_in_bytes", h->page_size);
		_cleanup_free_ char *rsvd =
		    fc_asprintf("hugetlb.%s.rsvd.limit_in_bytes", h->page_size);
		int r;
		if (strchr(h->page_size, '/'))
			return fc_error_set(err, EINVAL, "hugepageLimits: bad page size `%s`",
			                    h->page_size);
		r = cg_writef(dir, f, err, "%" PRIu64, h->limit);
		if (r < 0)
			return r;
		if (cg_exists(dir, rsvd)) {
			r = cg_writef(dir, rsvd, err, "%" PRIu64, h->limit);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* Is controller c (v1 name) handled by the cgroup2 tree instead (hybrid)? */
static bool on_v2(const struct fc_cgroup *cg, enum cg_ctrl c)
{
	return cg->v2 && (cg->v2_ctrls & CG_BIT(c));
}

#define NEED(cg, dir, ctrl, v2ctrl, what)                                                          \
	do {                                                                                       \
		if (!(dir) && !on_v2(cg, v2ctrl))                                                  \
			return fc_error_set(                                                       \
			    err, ENOTSUP,                                                          \
			    "%s limits given but no %s cgroup controller is mounted", what, what); \
	} while (0)

int cg_v1_apply(struct fc_cgroup *cg, const struct fc_resources *res, bool devices,
                struct fc_error **err)
{
	const char *d;
	int r = 0;
	bool mem = (res->memory.has_limit && res->memory.limit) ||
	           (res->memory.has_swap && res->memory.swap) ||
	           (res->memory.has_reservation && res->memory.reservation) ||
	           res->memory.has_swappiness || res->memory.has_disable_oom_killer;
	bool cpu =
	    (res->cpu.has_shares && res->cpu.shares) || (res->cpu.has_quota && res->cpu.quota) ||
	    (res->cpu.has_period && res->cpu.period) || res->cpu.has_burst || res->cpu.has_idle ||
	    (res->cpu.has_realtime_period && res->cpu.realtime_period) ||
	    (res->cpu.has_realtime_runtime && res->cpu.realtime_runtime);
	bool blk = res->blkio.has_weight || res->blkio.has_leaf_weight ||
	           res->blkio.n_weight_devices || res->blkio.n_throttle_read_bps ||
	           res->blkio.n_throttle_write_bps || res->blkio.n_throttle_read_iops ||
	           res->blkio.n_throttle_write_iops;

	if (devices && (d = cg_v1_dir(cg, CG_DEVICES)) && (r = apply_devices(d, res, err)) < 0)
		return r;
	d = cg_v1_dir(cg, CG_MEMORY);
	if (mem)
		NEED(cg, d, CG_MEMORY, CG_MEMORY, "memory");
	if (d && (r = apply_memory(d, res, err)) < 0)
		return r;
	d = cg_v1_dir(cg, CG_CPU);
	if (cpu)
		NEED(cg, d, CG_CPU, CG_CPU, "cpu");
	if (d && (r = apply_cpu(d, res, err)) < 0)
		return r;
	d = cg_v1_dir(cg, CG_CPUSET);
	if (res->cpu.cpus || res->cpu.mems)
		NEED(cg, d, CG_CPUSET, CG_CPUSET, "cpuset");
	if (d && res->cpu.cpus && *res->cpu.cpus &&
	    (r = cg_write(d, "cpuset.cpus", res->cpu.cpus, err)) < 0)
		return r;
	if (d && res->cpu.mems && *res->cpu.mems &&
	    (r = cg_write(d, "cpuset.mems", res->cpu.mems, err)) < 0)
		return r;
	d = cg_v1_dir(cg, CG_PIDS);
	if (res->pids.has_limit) {
		NEED(cg, d, CG_PIDS, CG_PIDS, "pids");
		if (d && res->pids.limit > 0)
			r = cg_writef(d, "pids.max", err, "%" PRId64, res->pids.limit);
		else if (d)
			r = cg_write(d, "pids.max", "max", err);
		if (r < 0)
			return r;
	}
	d = cg_v1_dir(cg, CG_BLKIO);
	if (blk)
		NEED(cg, d, CG_BLKIO, CG_IO, "blkio");
	if (d && blk && (r = apply_blkio(d, res, err)) < 0)
		return r;
	d = cg_v1_dir(cg, CG_HUGETLB);
	if (res->n_hugepage_limits)
		NEED(cg, d, CG_HUGETLB, CG_HUGETLB, "hugetlb");
	if (d && (r = apply_hugetlb(d, res, err)) < 0)
		return r;
	if (res->network.has_class_id) {
		d = cg_v1_dir(cg, CG_NET_CLS);
		NEED(cg, d, CG_NET_CLS, CG_NET_CLS, "net_cls");
		if ((r = cg_writef(d, "net_cls.classid", err, "%" PRIu32, res->network.class_id)) <
		    0)
			return r;
	}
	if (res->network.n_priorities) {
		d = cg_v1_dir(cg, CG_NET_PRIO);
		NEED(cg, d, CG_NET_PRIO, CG_NET_PRIO, "net_prio");
		for (size_t i = 0; i < res->network.n_priorities; i++) {
			r = cg_writef(d, "net_prio.ifpriomap", err, "%s %s",
			              res->network.priorities[i].key,
			              res->network.priorities[i].value);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* ---- stats ------------------------------------------------------------ */

static void u64_array(struct fc_buf *b, bool *first, const char *key, const char *dir,
                      const char *file)
{
	_cleanup_free_ char *s = NULL;
	bool f = true;
	if (cg_read(dir, file, &s) < 0 || !*s)
		return;
	cg_json_key(b, first, key);
	fc_buf_append(b, "[", 1);
	for (char *p = s; *p;) {
		char *end;
		unsigned long long v = strtoull(p, &end, 10);
		if (end == p) {
			p++; /* header words ("cpu user system") or separators */
			while (*p && (*p < '0' || *p > '9'))
				p++;
			continue;
		}
		fc_buf_printf(b, "%s%llu", f ? "" : ",", v);
		f = false;
		p = end;
	}
	fc_buf_append(b, "]", 1);
}

void cg_v1_stats_cpu(struct fc_buf *b, const char *cpuacct, const char *cpu)
{
	_cleanup_free_ char *st = NULL, *cs = NULL;
	uint64_t total = 0, user = 0, sys = 0, v = 0;
	long hz = sysconf(_SC_CLK_TCK);
	bool first = true;
	if (hz <= 0)
		hz = 100;
	cg_read_u64(cpuacct, "cpuacct.usage", &total);
	if (cg_read(cpuacct, "cpuacct.stat", &st) == 0) {
		cg_kv_u64(st, "user", &user);
		cg_kv_u64(st, "system", &sys);
	}
	fc_buf_printf(b, "\"cpu\":{\"usage\":{");
	cg_json_u64(b, &first, "total", total, true);
	u64_array(b, &first, "percpu", cpuacct, "cpuacct.usage_percpu");
	u64_array(b, &first, "percpu_kernel", cpuacct, "cpuacct.usage_percpu_sys");
	u64_array(b, &first, "percpu_user", cpuacct, "cpuacct.usage_percpu_user");
	cg_json_u64(b, &first, "kernel", sys * (1000000000ull / (uint64_t)hz), false);
	cg_json_u64(b, &first, "user", user * (1000000000ull / (uint64_t)hz), false);
	fc_buf_printf(b, "},\"throttling\":{");
	first = true;
	if (cpu && cg_read(cpu, "cpu.stat", &cs) == 0) {
		if (!cg_kv_u64(cs, "nr_periods", &v))
			cg_json_u64(b, &first, "periods", v, true);
		if (!cg_kv_u64(cs, "nr_throttled", &v))
			cg_json_u64(b, &first, "throttledPeriods", v, true);
		if (!cg_kv_u64(cs, "throttled_time", &v))
			cg_json_u64(b, &first, "throttledTime", v, true);
	}
	fc_buf_printf(b, "}}");
}

static void mem_entry(struct fc_buf *b, const char *key, const char *dir, const char *prefix,
                      bool comma)
{
	static const char *const names[] = {"limit", "usage", "max", "failcnt"};
	static const char *const files[] = {"limit_in_bytes", "usage_in_bytes",
	                                    "max_usage_in_bytes", "failcnt"};
	bool first = true;
	fc_buf_printf(b, "%s\"%s\":{", comma ? "," : "", key);
	for (size_t i = 0; i < 4; i++) {
		_cleanup_free_ char *f = fc_asprintf("%s%s", prefix, files[i]);
		uint64_t v = 0;
		cg_read_u64(dir, f, &v);
		cg_json_u64(b, &first, names[i], v, i == 1 || i == 2);
	}
	fc_buf_append(b, "}", 1);
}

void cg_v1_stats_memory(struct fc_buf *b, const char *dir)
{
	_cleanup_free_ char *st = NULL;
	uint64_t cache = 0;
	bool have = cg_read(dir, "memory.stat", &st) == 0;
	fc_buf_printf(b, "\"memory\":{");
	if (have && cg_kv_u64(st, "cache", &cache) == 0 && cache)
		fc_buf_printf(b, "\"cache\":%" PRIu64 ",", cache);
	mem_entry(b, "usage", dir, "memory.", false);
	mem_entry(b, "swap", dir, "memory.memsw.", true);
	mem_entry(b, "kernel", dir, "memory.kmem.", true);
	mem_entry(b, "kernelTCP", dir, "memory.kmem.tcp.", true);
	if (have && *st)
		cg_json_raw(b, st);
	fc_buf_append(b, "}", 1);
}

/* "8:0 Read 4096" lines (a "Total N" line has no device: skipped). */
static void blkio_list(struct fc_buf *b, bool *first, const char *key, const char *dir,
                       const char *file)
{
	_cleanup_free_ char *s = NULL;
	bool f = true;
	if (cg_read(dir, file, &s) < 0)
		return;
	for (char *line = strtok(s, "\n"); line; line = strtok(NULL, "\n")) {
		unsigned long long maj, min, v;
		char op[32];
		if (sscanf(line, "%llu:%llu %31s %llu", &maj, &min, op, &v) != 4)
			continue;
		if (f) {
			cg_json_key(b, first, key);
			fc_buf_append(b, "[", 1);
		}
		fc_buf_printf(b, "%s{", f ? "" : ",");
		f = false;
		bool ef = true;
		cg_json_u64(b, &ef, "major", maj, true);
		cg_json_u64(b, &ef, "minor", min, true);
		cg_json_key(b, &ef, "op");
		fc_buf_json_string(b, op);
		cg_json_u64(b, &ef, "value", v, true);
		fc_buf_append(b, "}", 1);
	}
	if (!f)
		fc_buf_append(b, "]", 1);
}

void cg_v1_stats_blkio(struct fc_buf *b, const char *dir)
{
	bool first = true;
	bool cfq = cg_exists(dir, "blkio.io_service_bytes_recursive");
	fc_buf_printf(b, "\"blkio\":{");
	if (cfq) {
		blkio_list(b, &first, "ioServiceBytesRecursive", dir,
		           "blkio.io_service_bytes_recursive");
		blkio_list(b, &first, "ioServicedRecursive", dir, "blkio.io_serviced_recursive");
		blkio_list(b, &first, "ioQueueRecursive", dir, "blkio.io_queued_recursive");
		blkio_list(b, &first, "ioServiceTimeRecursive", dir,
		           "blkio.io_service_time_recursive");
		blkio_list(b, &first, "ioWaitTimeRecursive", dir, "blkio.io_wait_time_recursive");
		blkio_list(b, &first, "ioMergedRecursive", dir, "blkio.io_merged_recursive");
		blkio_list(b, &first, "ioTimeRecursive", dir, "blkio.time_recursive");
		blkio_list(b, &first, "sectorsRecursive", dir, "blkio.sectors_recursive");
	} else {
		blkio_list(b, &first, "ioServiceBytesRecursive", dir,
		           "blkio.throttle.io_service_bytes_recursive");
		blkio_list(b, &first, "ioServicedRecursive", dir,
		           "blkio.throttle.io_serviced_recursive");
	}
	fc_buf_append(b, "}", 1);
}

void cg_v1_stats_hugetlb(struct fc_buf *b, const char *dir)
{
	_cleanup_strv_ char **sizes = cg_hugepage_sizes();
	bool first = true;
	fc_buf_printf(b, "\"hugetlb\":{");
	for (size_t i = 0; sizes[i]; i++) {
		_cleanup_free_ char *u = fc_asprintf("hugetlb.%s.usage_in_bytes", sizes[i]);
		_cleanup_free_ char *m = fc_asprintf("hugetlb.%s.max_usage_in_bytes", sizes[i]);
		_cleanup_free_ char *f = fc_asprintf("hugetlb.%s.failcnt", sizes[i]);
		uint64_t use = 0, max = 0, fail = 0;
		bool ef = true;
		cg_read_u64(dir, u, &use);
		cg_read_u64(dir, m, &max);
		cg_read_u64(dir, f, &fail);
		cg_json_key(b, &first, sizes[i]);
		fc_buf_append(b, "{", 1);
		cg_json_u64(b, &ef, "usage", use, true);
		cg_json_u64(b, &ef, "max", max, true);
		cg_json_u64(b, &ef, "failcnt", fail, false);
		fc_buf_append(b, "}", 1);
	}
	fc_buf_append(b, "}", 1);
}
