/* SPDX-License-Identifier: MIT */
/* cmd-update.c: fcrun update: change a live container's cgroup limits, from
 * a resources JSON (-r FILE, or - for stdin) or from flags, as runc does:
 * memory sizes take binary suffixes ("10M", "1.5g", "512KiB"), -1 means
 * unlimited where runc allows it. */
#include "cli.h"

#include <ctype.h>
#include <fcntl.h>

/* runc's RAMInBytes: "<number>[ ][kmgtp][i][b]", case-insensitive, 1024-based. */
static int parse_size(const char *s, int64_t *out)
{
	char *end;
	if (FC_STREQ(s, "-1")) {
		*out = -1;
		return 0;
	}
	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s)
		return -EINVAL;
	if (*end == ' ')
		end++;
	double mul = 1;
	const char *units = "kmgtp";
	const char *u = *end ? strchr(units, tolower((unsigned char)*end)) : NULL;
	if (u && *end) {
		for (const char *x = units; x <= u; x++)
			mul *= 1024;
		end++;
	}
	if (*end == 'i' || *end == 'I')
		end++;
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end || v * mul > 9.2e18)
		return -EINVAL;
	*out = (int64_t)(v * mul);
	return 0;
}

static int parse_int(const char *s, bool allow_negative, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end || (!allow_negative && v < 0))
		return -EINVAL;
	*out = v;
	return 0;
}

struct update_flags {
	const char *resources;
	const char *memory, *memory_reservation, *memory_swap, *kernel_memory, *kernel_memory_tcp;
	const char *cpu_shares, *cpu_period, *cpu_quota, *cpu_rt_period, *cpu_rt_runtime;
	const char *cpuset_cpus, *cpuset_mems, *pids_limit, *blkio_weight;
	const char *l3_cache_schema, *mem_bw_schema;
};

/* One numeric member: "key":value, after a comma when needed. */
static int add_num(struct fc_buf *b, bool *first, const char *flag, const char *key,
                   const char *val, int kind)
{
	int64_t v;
	int r = kind == 0 ? parse_size(val, &v) : parse_int(val, kind == 2, &v);
	if (r < 0)
		return fc_cli_failf("invalid value for %s: %s", flag, val);
	fc_buf_printf(b, "%s\"%s\":%lld", *first ? "" : ",", key, (long long)v);
	*first = false;
	return 0;
}

static void add_str(struct fc_buf *b, bool *first, const char *key, const char *val)
{
	fc_buf_printf(b, "%s\"%s\":", *first ? "" : ",", key);
	fc_buf_json_string(b, val);
	*first = false;
}

/* The flags as a resources JSON document; 0 or an exit status. */
static int flags_json(struct update_flags *f, struct fc_buf *b)
{
	bool first = true, any = false;
	fc_buf_printf(b, "{\"memory\":{");
	if ((f->memory && add_num(b, &first, "--memory", "limit", f->memory, 0)) ||
	    (f->memory_reservation &&
	     add_num(b, &first, "--memory-reservation", "reservation", f->memory_reservation, 0)) ||
	    (f->memory_swap && add_num(b, &first, "--memory-swap", "swap", f->memory_swap, 0)) ||
	    (f->kernel_memory &&
	     add_num(b, &first, "--kernel-memory", "kernel", f->kernel_memory, 0)) ||
	    (f->kernel_memory_tcp &&
	     add_num(b, &first, "--kernel-memory-tcp", "kernelTCP", f->kernel_memory_tcp, 0)))
		return 1;
	any |= !first;
	first = true;
	fc_buf_printf(b, "},\"cpu\":{");
	if ((f->cpu_shares && add_num(b, &first, "--cpu-share", "shares", f->cpu_shares, 1)) ||
	    (f->cpu_period && add_num(b, &first, "--cpu-period", "period", f->cpu_period, 1)) ||
	    (f->cpu_quota && add_num(b, &first, "--cpu-quota", "quota", f->cpu_quota, 2)) ||
	    (f->cpu_rt_period &&
	     add_num(b, &first, "--cpu-rt-period", "realtimePeriod", f->cpu_rt_period, 1)) ||
	    (f->cpu_rt_runtime &&
	     add_num(b, &first, "--cpu-rt-runtime", "realtimeRuntime", f->cpu_rt_runtime, 2)))
		return 1;
	if (f->cpuset_cpus)
		add_str(b, &first, "cpus", f->cpuset_cpus);
	if (f->cpuset_mems)
		add_str(b, &first, "mems", f->cpuset_mems);
	any |= !first;
	first = true;
	fc_buf_printf(b, "},\"pids\":{");
	if (f->pids_limit && add_num(b, &first, "--pids-limit", "limit", f->pids_limit, 2))
		return 1;
	any |= !first;
	first = true;
	fc_buf_printf(b, "},\"blockIO\":{");
	if (f->blkio_weight && add_num(b, &first, "--blkio-weight", "weight", f->blkio_weight, 1))
		return 1;
	any |= !first;
	fc_buf_printf(b, "}}");
	if (f->l3_cache_schema || f->mem_bw_schema)
		return fc_cli_failf("Intel RDT is not supported by fcrun");
	(void)any;
	return 0;
}

int cmd_update(struct fc_cli *g, int argc, char **argv)
{
	struct update_flags f = {0};
	const struct fc_opt opts[] = {
	    {"resources", 'r', FC_OPT_STR, &f.resources,
	     "path to the file containing the resources to update or '-' to read from the standard "
	     "input"},
	    {"blkio-weight", 0, FC_OPT_STR, &f.blkio_weight,
	     "Specifies per cgroup weight, range is from 10 to 1000"},
	    {"cpu-period", 0, FC_OPT_STR, &f.cpu_period,
	     "CPU CFS period to be used for hardcapping (in usecs). 0 to use system default"},
	    {"cpu-quota", 0, FC_OPT_STR, &f.cpu_quota,
	     "CPU CFS hardcap limit (in usecs). Allowed cpu time in a given period"},
	    {"cpu-share", 0, FC_OPT_STR, &f.cpu_shares,
	     "CPU shares (relative weight vs. other containers)"},
	    {"cpu-shares", 0, FC_OPT_STR, &f.cpu_shares, "same as --cpu-share"},
	    {"cpu-rt-period", 0, FC_OPT_STR, &f.cpu_rt_period,
	     "CPU realtime period to be used for hardcapping (in usecs). 0 to use system default"},
	    {"cpu-rt-runtime", 0, FC_OPT_STR, &f.cpu_rt_runtime,
	     "CPU realtime hardcap limit (in usecs). Allowed cpu time in a given period"},
	    {"cpuset-cpus", 0, FC_OPT_STR, &f.cpuset_cpus, "CPU(s) to use"},
	    {"cpuset-mems", 0, FC_OPT_STR, &f.cpuset_mems, "Memory node(s) to use"},
	    {"memory", 0, FC_OPT_STR, &f.memory,
	     "Memory limit (in bytes, suffixes k/m/g/t/p accepted)"},
	    {"memory-reservation", 0, FC_OPT_STR, &f.memory_reservation,
	     "Memory reservation or soft_limit (in bytes)"},
	    {"memory-swap", 0, FC_OPT_STR, &f.memory_swap,
	     "Total memory usage (memory + swap); set '-1' to enable unlimited swap"},
	    {"kernel-memory", 0, FC_OPT_STR, &f.kernel_memory,
	     "Kernel memory limit (in bytes; deprecated, as in runc)"},
	    {"kernel-memory-tcp", 0, FC_OPT_STR, &f.kernel_memory_tcp,
	     "Kernel memory limit for tcp buffer (in bytes)"},
	    {"pids-limit", 0, FC_OPT_STR, &f.pids_limit,
	     "Maximum number of pids allowed in the container"},
	    {"l3-cache-schema", 0, FC_OPT_STR, &f.l3_cache_schema,
	     "The string of Intel RDT/CAT L3 cache schema (not supported)"},
	    {"mem-bw-schema", 0, FC_OPT_STR, &f.mem_bw_schema,
	     "The string of Intel RDT/MBA memory bandwidth schema (not supported)"},
	    {NULL, 0, 0, NULL, NULL},
	};
	_cleanup_free_ char **pos = NULL;
	_cleanup_buf_ struct fc_buf b = {0};
	struct fc_error *err = NULL;
	size_t n;
	int rc;
	if (!fc_cli_verb(argc, argv, opts, false, 1, "update [command options] <container-id>",
	                 "Update container resource constraints.", &pos, &n, &rc))
		return rc;
	if (f.resources) {
		/* As in runc, the other flags are ignored when a document is given. */
		char *data = NULL;
		size_t len = 0;
		int r = FC_STREQ(f.resources, "-")
		            ? fc_read_file_at(AT_FDCWD, "/dev/stdin", &data, &len, 0, &err)
		            : fc_read_file_at(AT_FDCWD, f.resources, &data, &len, 0, &err);
		if (r < 0)
			return fc_cli_fail(err);
		b.data = data;
		b.len = len;
	} else if ((rc = flags_json(&f, &b))) {
		return rc;
	}
	if (fcrt_update(g->root, pos[0], b.data, b.len, &err) < 0)
		return fc_cli_fail(err);
	return 0;
}
