/* SPDX-License-Identifier: MIT */
/* cgroup-v2.c: limits and statistics through cgroup2 (a pure v2 host, or the
 * controllers that only the unified tree holds on a hybrid host). */
#include "cgroup-backend.h"

#include <inttypes.h>

/* Does cgroup2 handle controller c for this container? */
static bool v2_has(const struct fc_cgroup *cg, enum cg_ctrl c)
{
	if (!cg->v2)
		return false;
	if (cg->mode == FC_CGROUP_V2)
		return true;
	return (cg->v2_ctrls & CG_BIT(c)) && !cg_v1_dir(cg, c == CG_IO ? CG_BLKIO : c);
}

static void fmt_max(char *buf, size_t len, int64_t v)
{
	if (v < 0)
		snprintf(buf, len, "max");
	else
		snprintf(buf, len, "%" PRId64, v);
}

static int apply_memory(const char *d, const struct fc_resources *res, struct fc_error **err)
{
	int64_t limit = res->memory.has_limit ? res->memory.limit : 0;
	int64_t swap = res->memory.has_swap ? res->memory.swap : 0;
	char v[32];
	int r;
	if (limit > 0 && res->memory.has_check_before_update && res->memory.check_before_update) {
		uint64_t cur = 0;
		if (cg_read_u64(d, "memory.current", &cur) == 0 && cur > (uint64_t)limit)
			return fc_error_set(err, EBUSY,
			                    "memory.limit = %" PRId64
			                    " is below the current usage %" PRIu64 " of %s",
			                    limit, cur, d);
	}
	if (limit) {
		fmt_max(v, sizeof(v), limit);
		r = cg_write(d, "memory.max", v, err);
		if (r < 0)
			return r;
	}
	if (swap) {
		/* The spec's swap is memory+swap (v1 memsw); v2 limits swap alone. */
		if (swap == -1) {
			snprintf(v, sizeof(v), "max");
		} else if (limit == 0 || limit == -1) {
			return fc_error_set(
			    err, EINVAL,
			    "memory.swap = %" PRId64 ": a swap limit needs a memory limit", swap);
		} else if (swap < limit) {
			return fc_error_set(err, EINVAL,
			                    "memory.swap = %" PRId64
			                    " is below memory.limit = %" PRId64,
			                    swap, limit);
		} else {
			snprintf(v, sizeof(v), "%" PRId64, swap - limit);
		}
		if (!cg_exists(d, "memory.swap.max")) {
			/* No swap accounting: "no limit" and "no swap" are what we get anyway. */
			if (strcmp(v, "max") && strcmp(v, "0"))
				return fc_error_set(err, ENOTSUP,
				                    "memory.swap = %" PRId64
				                    ": %s/memory.swap.max is "
				                    "missing (swap accounting disabled)",
				                    swap, d);
		} else if ((r = cg_write(d, "memory.swap.max", v, err)) < 0) {
			return r;
		}
	}
	if (res->memory.has_reservation && res->memory.reservation) {
		fmt_max(v, sizeof(v), res->memory.reservation);
		r = cg_write(d, "memory.low", v, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int apply_cpu(const char *d, const struct fc_resources *res, struct fc_error **err)
{
	int r;
	if (res->cpu.has_shares && res->cpu.shares) {
		uint64_t s = res->cpu.shares;
		if (s < 2)
			s = 2;
		if (s > 262144)
			s = 262144;
		r = cg_writef(d, "cpu.weight", err, "%" PRIu64, 1 + ((s - 2) * 9999) / 262142);
		if (r < 0)
			return r;
	}
	if ((res->cpu.has_quota && res->cpu.quota) || (res->cpu.has_period && res->cpu.period)) {
		char q[32];
		if (res->cpu.has_quota && res->cpu.quota) {
			fmt_max(q, sizeof(q), res->cpu.quota);
		} else {
			/* Only the period: keep the current quota. */
			_cleanup_free_ char *cur = NULL;
			if (cg_read(d, "cpu.max", &cur) < 0)
				snprintf(q, sizeof(q), "max");
			else
				snprintf(q, sizeof(q), "%.*s", (int)strcspn(cur, " "), cur);
		}
		if (res->cpu.has_period && res->cpu.period)
			r = cg_writef(d, "cpu.max", err, "%s %" PRIu64, q, res->cpu.period);
		else
			r = cg_write(d, "cpu.max", q, err);
		if (r < 0)
			return r;
	}
	if (res->cpu.has_burst) {
		r = cg_writef(d, "cpu.max.burst", err, "%" PRIu64, res->cpu.burst);
		if (r < 0)
			return r;
	}
	if (res->cpu.has_idle) {
		r = cg_writef(d, "cpu.idle", err, "%" PRId64, res->cpu.idle);
		if (r < 0)
			return r;
	}
	if ((res->cpu.has_realtime_period && res->cpu.realtime_period) ||
	    (res->cpu.has_realtime_runtime && res->cpu.realtime_runtime))
		return fc_error_set(err, ENOTSUP, "cpu.realtime*: not supported on cgroup v2");
	return 0;
}

static int io_list(const char *d, const char *key, const struct fc_throttle *t, size_t n,
                   struct fc_error **err)
{
	for (size_t i = 0; i < n; i++) {
		int r = cg_writef(d, "io.max", err, "%" PRId64 ":%" PRId64 " %s=%" PRIu64,
		                  t[i].major, t[i].minor, key, t[i].rate);
		if (r < 0)
			return r;
	}
	return 0;
}

static uint64_t io_weight(uint16_t blkio)
{
	if (blkio < 10)
		blkio = 10;
	if (blkio > 1000)
		blkio = 1000;
	return 1 + ((uint64_t)(blkio - 10) * 9999) / 990;
}

static int apply_io(const char *d, const struct fc_resources *res, struct fc_error **err)
{
	bool bfq = cg_exists(d, "io.bfq.weight");
	int r;
	if (res->blkio.has_weight && res->blkio.weight) {
		if (bfq)
			r = cg_writef(d, "io.bfq.weight", err, "%u", res->blkio.weight);
		else
			r = cg_writef(d, "io.weight", err, "default %" PRIu64,
			              io_weight(res->blkio.weight));
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < res->blkio.n_weight_devices; i++) {
		const struct fc_weight_device *w = &res->blkio.weight_devices[i];
		if (!w->has_weight)
			continue;
		if (bfq)
			r = cg_writef(d, "io.bfq.weight", err, "%" PRId64 ":%" PRId64 " %u",
			              w->major, w->minor, w->weight);
		else
			r = cg_writef(d, "io.weight", err, "%" PRId64 ":%" PRId64 " %" PRIu64,
			              w->major, w->minor, io_weight(w->weight));
		if (r < 0)
			return r;
	}
	r = io_list(d, "rbps", res->blkio.throttle_read_bps, res->blkio.n_throttle_read_bps, err);
	if (r >= 0)
		r = io_list(d, "wbps", res->blkio.throttle_write_bps,
		            res->blkio.n_throttle_write_bps, err);
	if (r >= 0)
		r = io_list(d, "riops", res->blkio.throttle_read_iops,
		            res->blkio.n_throttle_read_iops, err);
	if (r >= 0)
		r = io_list(d, "wiops", res->blkio.throttle_write_iops,
		            res->blkio.n_throttle_write_iops, err);
	return r;
}

static int apply_hugetlb(const char *d, const struct fc_resources *res, struct fc_error **err)
{
	for (size_t i = 0; i < res->n_hugepage_limits; i++) {
		const struct fc_hugepage_limit *h = &res->hugepage_limits[i];
		_cleanup_free_ char *f = fc_asprintf("hugetlb.%s.max", h->page_size);
		_cleanup_free_ char *rsvd = fc_asprintf("hugetlb.%s.rsvd.max", h->page_size);
		int r;
		if (strchr(h->page_size, '/'))
			return fc_error_set(err, EINVAL, "hugepageLimits: bad page size `%s`",
			                    h->page_size);
		r = cg_writef(d, f, err, "%" PRIu64, h->limit);
		if (r < 0)
			return r;
		if (cg_exists(d, rsvd) && (r = cg_writef(d, rsvd, err, "%" PRIu64, h->limit)) < 0)
			return r;
	}
	return 0;
}

int cg_v2_apply(struct fc_cgroup *cg, const struct fc_resources *res, bool devices,
                struct fc_error **err)
{
	const char *d = cg->v2;
	int r;
	if (v2_has(cg, CG_MEMORY) && (r = apply_memory(d, res, err)) < 0)
		return r;
	if (v2_has(cg, CG_CPU) && (r = apply_cpu(d, res, err)) < 0)
		return r;
	if (v2_has(cg, CG_CPUSET)) {
		if (res->cpu.cpus && *res->cpu.cpus &&
		    (r = cg_write(d, "cpuset.cpus", res->cpu.cpus, err)) < 0)
			return r;
		if (res->cpu.mems && *res->cpu.mems &&
		    (r = cg_write(d, "cpuset.mems", res->cpu.mems, err)) < 0)
			return r;
	}
	if (v2_has(cg, CG_PIDS) && res->pids.has_limit) {
		if (res->pids.limit > 0)
			r = cg_writef(d, "pids.max", err, "%" PRId64, res->pids.limit);
		else
			r = cg_write(d, "pids.max", "max", err);
		if (r < 0)
			return r;
	}
	if (v2_has(cg, CG_IO) && (r = apply_io(d, res, err)) < 0)
		return r;
	if (v2_has(cg, CG_HUGETLB) && (r = apply_hugetlb(d, res, err)) < 0)
		return r;
	if (devices && cg->mode == FC_CGROUP_V2 &&
	    (r = cg_v2_devices(d, res->devices, res->n_devices, res->default_devices_off, err)) < 0)
		return r;
	for (size_t i = 0; i < res->n_unified; i++) {
		const char *k = res->unified[i].key;
		if (!*k || strchr(k, '/') || k[0] == '.')
			return fc_error_set(err, EINVAL, "unified: bad key `%s`", k);
		r = cg_write(d, k, res->unified[i].value, err);
		if (r == -ENOENT)
			return fc_error_wrap(err,
			                     "unified.%s: no such cgroup2 file (controller "
			                     "not enabled?)",
			                     k);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- stats ------------------------------------------------------------ */

void cg_v2_stats_cpu(struct fc_buf *b, const char *dir)
{
	_cleanup_free_ char *s = NULL;
	uint64_t v = 0;
	bool first = true;
	bool have = cg_read(dir, "cpu.stat", &s) == 0;
	fc_buf_printf(b, "\"cpu\":{\"usage\":{");
	if (have && !cg_kv_u64(s, "usage_usec", &v))
		cg_json_u64(b, &first, "total", v * 1000, true);
	v = 0;
	if (have)
		cg_kv_u64(s, "system_usec", &v);
	cg_json_u64(b, &first, "kernel", v * 1000, false);
	v = 0;
	if (have)
		cg_kv_u64(s, "user_usec", &v);
	cg_json_u64(b, &first, "user", v * 1000, false);
	fc_buf_printf(b, "},\"throttling\":{");
	first = true;
	if (have && !cg_kv_u64(s, "nr_periods", &v))
		cg_json_u64(b, &first, "periods", v, true);
	if (have && !cg_kv_u64(s, "nr_throttled", &v))
		cg_json_u64(b, &first, "throttledPeriods", v, true);
	if (have && !cg_kv_u64(s, "throttled_usec", &v))
		cg_json_u64(b, &first, "throttledTime", v * 1000, true);
	fc_buf_printf(b, "}}");
}

void cg_v2_stats_memory(struct fc_buf *b, const char *dir)
{
	_cleanup_free_ char *st = NULL, *ev = NULL;
	uint64_t cur = 0, max = 0, peak = 0, fail = 0, scur = 0, smax = 0, speak = 0, file = 0;
	bool have = cg_read(dir, "memory.stat", &st) == 0;
	cg_read_u64(dir, "memory.current", &cur);
	cg_read_u64(dir, "memory.max", &max);
	cg_read_u64(dir, "memory.peak", &peak);
	if (cg_read(dir, "memory.events", &ev) == 0)
		cg_kv_u64(ev, "max", &fail);
	cg_read_u64(dir, "memory.swap.current", &scur);
	cg_read_u64(dir, "memory.swap.max", &smax);
	cg_read_u64(dir, "memory.swap.peak", &speak);
	fc_buf_printf(b, "\"memory\":{");
	if (have && !cg_kv_u64(st, "file", &file) && file)
		fc_buf_printf(b, "\"cache\":%" PRIu64 ",", file);
	fc_buf_printf(b, "\"usage\":{\"limit\":%" PRIu64, max);
	if (cur)
		fc_buf_printf(b, ",\"usage\":%" PRIu64, cur);
	if (peak)
		fc_buf_printf(b, ",\"max\":%" PRIu64, peak);
	fc_buf_printf(b, ",\"failcnt\":%" PRIu64 "}", fail);
	/* As v1's memsw: swap entry counts memory + swap. */
	fc_buf_printf(b, ",\"swap\":{\"limit\":%" PRIu64,
	              (max == UINT64_MAX || smax == UINT64_MAX) ? UINT64_MAX : max + smax);
	if (cur + scur)
		fc_buf_printf(b, ",\"usage\":%" PRIu64, cur + scur);
	if (speak)
		fc_buf_printf(b, ",\"max\":%" PRIu64, speak);
	fc_buf_printf(b, ",\"failcnt\":0},\"kernel\":{\"limit\":0,\"failcnt\":0},"
	                 "\"kernelTCP\":{\"limit\":0,\"failcnt\":0}");
	if (have && *st)
		cg_json_raw(b, st);
	fc_buf_append(b, "}", 1);
}

static void io_entries(struct fc_buf *b, const char *stat, const char *rkey, const char *wkey)
{
	_cleanup_free_ char *s = fc_strdup(stat);
	bool f = true;
	char *save = NULL;
	for (char *line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long long maj, min;
		const char *keys[2] = {rkey, wkey}, *ops[2] = {"Read", "Write"};
		if (sscanf(line, "%llu:%llu", &maj, &min) != 2)
			continue;
		for (int i = 0; i < 2; i++) {
			_cleanup_free_ char *k = fc_asprintf(" %s=", keys[i]);
			char *p = strstr(line, k);
			bool ef = true;
			if (!p)
				continue;
			fc_buf_printf(b, "%s{", f ? "" : ",");
			f = false;
			cg_json_u64(b, &ef, "major", maj, true);
			cg_json_u64(b, &ef, "minor", min, true);
			cg_json_key(b, &ef, "op");
			fc_buf_json_string(b, ops[i]);
			cg_json_u64(b, &ef, "value", strtoull(p + strlen(k), NULL, 10), true);
			fc_buf_append(b, "}", 1);
		}
	}
}

void cg_v2_stats_blkio(struct fc_buf *b, const char *dir)
{
	_cleanup_free_ char *s = NULL;
	fc_buf_printf(b, "\"blkio\":{");
	if (cg_read(dir, "io.stat", &s) == 0 && *s) {
		fc_buf_printf(b, "\"ioServiceBytesRecursive\":[");
		io_entries(b, s, "rbytes", "wbytes");
		fc_buf_printf(b, "],\"ioServicedRecursive\":[");
		io_entries(b, s, "rios", "wios");
		fc_buf_append(b, "]", 1);
	}
	fc_buf_append(b, "}", 1);
}

void cg_v2_stats_hugetlb(struct fc_buf *b, const char *dir)
{
	_cleanup_strv_ char **sizes = cg_hugepage_sizes();
	bool first = true;
	fc_buf_printf(b, "\"hugetlb\":{");
	for (size_t i = 0; sizes[i]; i++) {
		_cleanup_free_ char *c = fc_asprintf("hugetlb.%s.current", sizes[i]);
		_cleanup_free_ char *e = fc_asprintf("hugetlb.%s.events", sizes[i]);
		_cleanup_free_ char *ev = NULL;
		uint64_t use = 0, fail = 0;
		bool ef = true;
		if (cg_read_u64(dir, c, &use) < 0)
			continue;
		if (cg_read(dir, e, &ev) == 0)
			cg_kv_u64(ev, "max", &fail);
		cg_json_key(b, &first, sizes[i]);
		fc_buf_append(b, "{", 1);
		cg_json_u64(b, &ef, "usage", use, true);
		cg_json_u64(b, &ef, "failcnt", fail, false);
		fc_buf_append(b, "}", 1);
	}
	fc_buf_append(b, "}", 1);
}
