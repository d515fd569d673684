/* SPDX-License-Identifier: MIT */
/* bench-coldstart.h (private to bench/): `fcstart bench coldstart`, cold starts
 * of an image across storage tiers (bench-tiers.c) and start paths
 * (bench-coldstart.c), reported as a table, JSON, CSV (bench-coldstart-out.c)
 * and an SVG chart (bench-chart.c). */
#ifndef FCSTART_BENCH_COLDSTART_H
#define FCSTART_BENCH_COLDSTART_H

#include "bench.h"

#include <signal.h>

/* ---- tiers (bench-tiers.c) ------------------------------------------------ */

enum cs_tier_kind { CS_TMPFS = 0, CS_DISK, CS_SSD, CS_HDD, CS_NTIERS };
extern const char *const cs_tier_names[CS_NTIERS];

struct cs_tier {
	enum cs_tier_kind kind;
	bool wanted;           /* asked for with --tiers */
	bool ok;               /* built (and, when limited, the limit checked) */
	char *why;             /* why it could not be built */
	char *dir;             /* where its files live (a mount point except for disk) */
	char *backing;         /* ssd/hdd: the loop device's backing file */
	char *loopdev;         /* "/dev/loop7" */
	unsigned major, minor; /* the device the limits name (loop) */
	bool mounted;          /* dir is our mount */
	int mnt_id;            /* its id in mountinfo */
	bool dio;              /* the loop device does direct I/O on its backing file */
	uint64_t lim_bps;      /* read and write bytes/s, 0: none */
	uint64_t lim_iops;     /* read and write I/Os per second, 0: none */
	double meas_mbps;      /* O_DIRECT 1 MiB sequential reads, MB/s (0: not measured) */
	double meas_iops;      /* O_DIRECT 4 KiB random reads per second */
	char *note;            /* what the check saw */
	/* bytes the limits' cgroup saw on the device over the whole run (-1: unknown) */
	int64_t cg_read_bytes, cg_write_bytes;
	int64_t root_write_bytes; /* v1: writeback, charged to the root cgroup */
	int64_t root_write_base;  /* the root's counter when the limits were set */
	bool root_limited;        /* v1: the root cgroup has limits for the device */
	/* filled by the runner */
	char *archive;   /* the image copied onto the tier */
	char *store_dir; /* the store with the image imported (scenarios 2, 3) */
};

struct cs_cgroup {
	char *path;  /* /sys/fs/cgroup/blkio/fcb-coldstart-PID or cgroup2 dir */
	char *home;  /* cgroup.procs of where we came from */
	int version; /* 1: blkio, 2: io.max */
	bool joined;
};

struct cs_tiers {
	struct cs_tier t[CS_NTIERS];
	char *workdir; /* the harness's own dir: tiers, runs, bundles */
	struct cs_cgroup cg;
	uint64_t size; /* bytes per tmpfs / loop filesystem */
};

/* Build the wanted tiers under tiers->workdir (which exists). A tier that
 * cannot be built gets ok = false and why; the function fails only when the
 * harness itself cannot go on. The caller joins the limits' cgroup with
 * cs_cgroup_enter before measuring. */
int cs_tiers_build(struct cs_tiers *ts, struct fc_error **err);
/* Move the calling process into / out of the limits' cgroup (no-op when none). */
int cs_cgroup_enter(struct cs_tiers *ts, struct fc_error **err);
int cs_cgroup_leave(struct cs_tiers *ts, struct fc_error **err);
/* Read what the limits' cgroup counted for each limited tier's device. */
void cs_tiers_io_stats(struct cs_tiers *ts);
/* Remove everything cs_tiers_build made: umount, detach loops, rmdir the cgroup,
 * remove the files. Safe to call twice; collects the first error. */
int cs_tiers_teardown(struct cs_tiers *ts, struct fc_error **err);
/* sync, then drop the page cache, dentries and inodes. */
int cs_drop_caches(struct fc_error **err);

/* ---- the runner (bench-coldstart.c) --------------------------------------- */

enum cs_scenario { CS_UNCACHED = 0, CS_CACHED, CS_WARM, CS_POOL, CS_NSCEN };
extern const char *const cs_scenario_names[CS_NSCEN];
extern const char *const cs_scenario_titles[CS_NSCEN];

enum cs_phase { PH_IMPORT = 0, PH_MOUNT, PH_CREATE, PH_START, PH_FIRST, PH_TOTAL, PH_COUNT };
extern const char *const cs_phase_names[PH_COUNT];

struct cs_cell {      /* one path in one scenario on one tier */
	bool skipped; /* not measured (path not available or scenario n/a) */
	bool failed;
	char *error;
	double *s[PH_COUNT]; /* ms */
	size_t n;
};

struct cs_path;
struct cs_run;
struct fcsnap_store;
/* A start path. Pluggable: a path says whether it is available and which
 * scenarios it runs, and measures one cold start. */
struct cs_path_ops {
	const char *name;
	/* 0: available, else -errno with *why set */
	int (*probe)(struct cs_run *R, struct cs_path *p, char **why);
	bool (*has_scenario)(const struct cs_path *p, enum cs_scenario sc);
	/* one measurement: fills ph[PH_COUNT] (ms, -1 for phases it does not have) */
	int (*measure)(struct cs_run *R, struct cs_path *p, struct cs_tier *t, enum cs_scenario sc,
	               double ph[PH_COUNT], struct fc_error **err);
	void (*cleanup)(struct cs_run *R, struct cs_path *p);
};

struct cs_path {
	const struct cs_path_ops *ops;
	const char *name;
	bool available;
	char *why; /* why not available */
	char *bin; /* the runtime binary */
	char *version;
	char *root; /* private --root */
	void *priv; /* the path's own state */
};

/* The name dockerd knows the image by (and the busybox image's own name). */
#define CS_DOCKER_TAG "fcstart-coldstart:bench"

extern const struct cs_path_ops cs_pool_ops;   /* bench-coldstart-pool.c */
extern const struct cs_path_ops cs_engine_ops; /* bench-coldstart-engines.c: docker, containerd */

struct cs_run {
	/* config */
	const char *image;
	char *image_abs;
	uint64_t image_bytes;
	char **tiers_arg, **paths_arg;
	int rounds;
	int pause_ms;
	const char *out;
	int timeout_s;
	char *cmdline;
	uint64_t ssd_bps, ssd_iops, hdd_bps, hdd_iops;
	const char *workdir_parent;
	/* state */
	struct cs_tiers tiers;
	struct fcsnap_store *stores[CS_NTIERS]; /* the image imported (scenarios 2, 3) */
	struct cs_path *paths;
	size_t n_paths;
	struct cs_cell cells[CS_NTIERS][CS_NSCEN][8];
	int rounds_done;
	uint64_t seed;
	struct bench_host_fix host;
	bool host_fixed;
	char *host_note;
	unsigned long seq;
	char *started; /* RFC 3339 */
};

int bench_coldstart_cmd(int argc, char **argv);

/* Helpers for the paths (bench-coldstart.c). cs_exec runs X (bench_exec) with
 * the run's --timeout: 0, or -errno with *err saying what failed, how, and
 * X's stderr. */
int cs_exec(struct cs_run *R, struct bench_exec *x, const char *what, struct fc_error **err);
void cs_reap_strays(void);

/* ---- output (bench-coldstart-out.c, bench-chart.c) ------------------------- */

void cs_stat_of(const struct cs_cell *c, enum cs_phase ph, struct bench_summary *out);
/* median total of path over ref's (crun, runc) on the same tier and scenario
 * (for the pool: over the reference's warm start); 0 if none */
double cs_ratio(const struct cs_run *R, int tier, int sc, size_t path, const char *ref);
void cs_print_table(FILE *f, const struct cs_run *R);
int cs_write_json(const char *path, const struct cs_run *R, struct fc_error **err);
int cs_write_csv(const char *path, const struct cs_run *R, struct fc_error **err);
int cs_write_svg(const char *path, const struct cs_run *R, struct fc_error **err);

#endif
