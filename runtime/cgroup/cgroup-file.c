/* SPDX-License-Identifier: MIT */
/* cgroup-file.c: what every part of the cgroup code reads and writes with:
 * the controllers' names, a v1 hierarchy's directory, cgroup files (errors
 * name the config field a refused value came from), and the JSON pieces of
 * the stats. Below cgroup.c and the v1 and v2 back ends, calling neither. */
#include "cgroup-file.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>

const char *const cg_ctrl_names[CG_NCTRL] = {
    [CG_CPU] = "cpu",
    [CG_CPUACCT] = "cpuacct",
    [CG_CPUSET] = "cpuset",
    [CG_MEMORY] = "memory",
    [CG_DEVICES] = "devices",
    [CG_FREEZER] = "freezer",
    [CG_BLKIO] = "blkio",
    [CG_PIDS] = "pids",
    [CG_HUGETLB] = "hugetlb",
    [CG_NET_CLS] = "net_cls",
    [CG_NET_PRIO] = "net_prio",
    [CG_PERF_EVENT] = "perf_event",
    [CG_SYSTEMD] = "name=systemd",
    [CG_IO] = "io",
    [CG_RDMA] = "rdma",
    [CG_MISC] = "misc",
};

const char *cg_v1_dir(const struct fc_cgroup *cg, enum cg_ctrl c)
{
	for (size_t i = 0; i < cg->n_v1; i++)
		if (cg->v1[i].ctrls & CG_BIT(c))
			return cg->v1[i].path;
	return NULL;
}

/* ---- small file helpers ----------------------------------------------- */

/* The linux.resources field a cgroup file is written for, so a value the
 * kernel refuses is reported against what the config said. */
static const char *field_of(const char *file)
{
	static const struct {
		const char *file, *field;
	} t[] = {
	    {"cpu.shares", "cpu.shares"},
	    {"cpu.weight", "cpu.shares"},
	    {"cpu.cfs_quota_us", "cpu.quota"},
	    {"cpu.cfs_period_us", "cpu.period"},
	    {"cpu.max", "cpu.quota"},
	    {"cpu.cfs_burst_us", "cpu.burst"},
	    {"cpu.max.burst", "cpu.burst"},
	    {"cpu.idle", "cpu.idle"},
	    {"cpu.rt_runtime_us", "cpu.realtimeRuntime"},
	    {"cpu.rt_period_us", "cpu.realtimePeriod"},
	    {"cpuset.cpus", "cpu.cpus"},
	    {"cpuset.mems", "cpu.mems"},
	    {"memory.limit_in_bytes", "memory.limit"},
	    {"memory.max", "memory.limit"},
	    {"memory.memsw.limit_in_bytes", "memory.swap"},
	    {"memory.swap.max", "memory.swap"},
	    {"memory.soft_limit_in_bytes", "memory.reservation"},
	    {"memory.low", "memory.reservation"},
	    {"memory.swappiness", "memory.swappiness"},
	    {"memory.oom_control", "memory.disableOOMKiller"},
	    {"pids.max", "pids.limit"},
	    {"blkio.weight", "blockIO.weight"},
	    {"blkio.bfq.weight", "blockIO.weight"},
	    {"io.weight", "blockIO.weight"},
	    {"io.bfq.weight", "blockIO.weight"},
	    {"blkio.leaf_weight", "blockIO.leafWeight"},
	    {"blkio.weight_device", "blockIO.weightDevice"},
	    {"blkio.leaf_weight_device", "blockIO.weightDevice"},
	    {"blkio.throttle.read_bps_device", "blockIO.throttleReadBpsDevice"},
	    {"blkio.throttle.write_bps_device", "blockIO.throttleWriteBpsDevice"},
	    {"blkio.throttle.read_iops_device", "blockIO.throttleReadIOPSDevice"},
	    {"blkio.throttle.write_iops_device", "blockIO.throttleWriteIOPSDevice"},
	    {"io.max", "blockIO.throttle*"},
	    {"net_cls.classid", "network.classID"},
	    {"net_prio.ifpriomap", "network.priorities"},
	    {"devices.allow", "devices"},
	    {"devices.deny", "devices"},
	    {"rdma.max", "rdma"},
	};
	for (size_t i = 0; i < FC_ARRAY_SIZE(t); i++)
		if (FC_STREQ(file, t[i].file))
			return t[i].field;
	if (strncmp(file, "hugetlb.", 8) == 0)
		return "hugepageLimits";
	return NULL;
}

int cg_write(const char *dir, const char *file, const char *val, struct fc_error **err)
{
	_cleanup_free_ char *p = fc_asprintf("%s/%s", dir, file);
	_cleanup_close_ int fd = open(p, O_WRONLY | O_CLOEXEC | O_NOCTTY);
	const char *f = field_of(file);
	if (fd < 0 || write(fd, val, strlen(val)) < 0) {
		if (f)
			return fc_error_set(err, errno, "linux.resources.%s = %s: write `%s` in %s",
			                    f, val, file, dir);
		return fc_error_set(err, errno, "write `%s` = %s in %s", file, val, dir);
	}
	return 0;
}

int cg_writef(const char *dir, const char *file, struct fc_error **err, const char *fmt, ...)
{
	va_list ap;
	_cleanup_free_ char *v = NULL;
	va_start(ap, fmt);
	if (vasprintf(&v, fmt, ap) < 0)
		abort();
	va_end(ap);
	return cg_write(dir, file, v, err);
}

bool cg_exists(const char *dir, const char *file)
{
	_cleanup_free_ char *p = fc_asprintf("%s/%s", dir, file);
	return access(p, F_OK) == 0;
}

int cg_read(const char *dir, const char *file, char **out)
{
	_cleanup_free_ char *p = fc_asprintf("%s/%s", dir, file);
	_cleanup_error_ struct fc_error *e = NULL;
	size_t len = 0;
	int r = fc_read_file_at(AT_FDCWD, p, out, &len, 0, &e);
	if (r < 0)
		return r;
	while (len > 0 && (*out)[len - 1] == '\n')
		(*out)[--len] = '\0';
	return 0;
}

int cg_read_u64(const char *dir, const char *file, uint64_t *out)
{
	_cleanup_free_ char *s = NULL;
	char *end;
	int r = cg_read(dir, file, &s);
	if (r < 0)
		return r;
	if (FC_STREQ(s, "max")) {
		*out = UINT64_MAX;
		return 0;
	}
	errno = 0;
	*out = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	return 0;
}

int cg_kv_u64(const char *text, const char *key, uint64_t *out)
{
	size_t kl = strlen(key);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (!strncmp(p, key, kl) && p[kl] == ' ') {
			*out = strtoull(p + kl + 1, NULL, 10);
			return 0;
		}
	}
	return -ENOENT;
}

char **cg_hugepage_sizes(void)
{
	DIR *d = opendir("/sys/kernel/mm/hugepages");
	struct dirent *de;
	char **v = fc_calloc(1, sizeof(char *));
	size_t n = 0;
	if (!d)
		return v;
	while ((de = readdir(d))) {
		unsigned long kb;
		char *s;
		if (sscanf(de->d_name, "hugepages-%lukB", &kb) != 1)
			continue;
		if (kb >= (1ul << 20) && !(kb & ((1ul << 20) - 1)))
			s = fc_asprintf("%luGB", kb >> 20);
		else if (kb >= 1024 && !(kb & 1023))
			s = fc_asprintf("%luMB", kb >> 10);
		else
			s = fc_asprintf("%luKB", kb);
		v = fc_realloc(v, (n + 2) * sizeof(char *));
		v[n++] = s;
		v[n] = NULL;
	}
	closedir(d);
	return v;
}

void cg_json_key(struct fc_buf *b, bool *first, const char *key)
{
	if (!*first)
		fc_buf_append(b, ",", 1);
	*first = false;
	fc_buf_json_string(b, key);
	fc_buf_append(b, ":", 1);
}

void cg_json_u64(struct fc_buf *b, bool *first, const char *key, uint64_t v, bool omitempty)
{
	if (omitempty && v == 0)
		return;
	cg_json_key(b, first, key);
	fc_buf_printf(b, "%" PRIu64, v);
}

void cg_stats_pids(struct fc_buf *b, const char *dir)
{
	uint64_t cur = 0, max = 0;
	bool first = true;
	cg_read_u64(dir, "pids.current", &cur);
	if (cg_read_u64(dir, "pids.max", &max) < 0 || max == UINT64_MAX)
		max = 0;
	fc_buf_printf(b, "\"pids\":{");
	cg_json_u64(b, &first, "current", cur, true);
	cg_json_u64(b, &first, "limit", max, true);
	fc_buf_append(b, "}", 1);
}

void cg_json_raw(struct fc_buf *b, char *text)
{
	bool first = true;
	fc_buf_printf(b, ",\"raw\":{");
	for (char *p = text; p && *p;) {
		char *nl = strchr(p, '\n'), *sp = strchr(p, ' ');
		if (nl)
			*nl = '\0';
		if (sp) {
			*sp = '\0';
			cg_json_u64(b, &first, p, strtoull(sp + 1, NULL, 10), false);
		}
		p = nl ? nl + 1 : NULL;
	}
	fc_buf_append(b, "}", 1);
}
