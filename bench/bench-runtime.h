/* SPDX-License-Identifier: MIT */
/* bench-runtime.h (private to bench/): `fcstart bench runtime`, cold starts of
 * OCI runtimes side by side on one bundle: the runner (bench-runtime.c) and its
 * reports (bench-runtime-out.c). */
#ifndef FCSTART_BENCH_RUNTIME_H
#define FCSTART_BENCH_RUNTIME_H

#include "bench.h"

/* ---- the runner and its command line (bench-runtime.c) ------------------- */

enum bench_metric {
	BM_RUN = 0,
	BM_CREATE,
	BM_START,
	BM_DELETE,
	BM_RSS_RUN,
	BM_RSS_CREATE,
	BM_COUNT
};
extern const char *const bench_metric_names[BM_COUNT];

struct bench_result { /* one runtime in one variant */
	bool failed;
	char *error;               /* what failed, with the runtime's stderr */
	double *samples[BM_COUNT]; /* ms for times, KiB for RSS */
	size_t n[BM_COUNT];
};

#define BENCH_VARIANTS 2
extern const char *const bench_variant_names[BENCH_VARIANTS]; /* "netns", "no-netns" */

/* Where one run's time went, step by step (`--phases`): fcrun's --debug
 * profile, the floor's --phases line. Each step's samples in us. */
#define BENCH_PHASES_MAX 40
struct bench_phases {
	size_t n;
	struct {
		char *name;
		double *v;
		size_t nv;
	} step[BENCH_PHASES_MAX];
	size_t runs;
	char *error; /* why a profiled run failed, the first time */
};

struct bench_runtime {
	char *name; /* "crun" */
	char *path; /* "/usr/bin/crun" */
	char *version;
	char *root; /* private --root */
	bool floor; /* fcstart-floor: runs only (it has no create, start or delete) */
	struct bench_result res[BENCH_VARIANTS];
	struct bench_phases phases; /* the netns variant's, with --phases */
};

struct bench_config {
	const char *bundle; /* NULL: build a busybox bundle */
	char **runtimes;    /* names or name=path or paths */
	int rounds;
	int pause_ms;
	bool no_netns; /* only the variant without a network namespace */
	char **cmd;    /* container args (default /bin/true) */
	const char *json, *csv;
	double timeout_s;
	int age;                 /* --age N: measure, run N containers, measure again */
	const char *age_runtime; /* which runtime ages the host (default runc, else the first) */
	int age_jobs;            /* containers run at once while ageing */
	bool phases;             /* --phases: profiled runs of fcrun and the floor too */
};

struct bench_run {
	struct bench_config cfg;
	char *tmpdir;
	char *bundle_src; /* the bundle the variants were derived from */
	char *variant_dir[BENCH_VARIANTS];
	bool variant_on[BENCH_VARIANTS];
	struct bench_runtime *rt;
	size_t n_rt;
	struct bench_host_fix host;
	bool host_fixed;
	char *host_note; /* what happened to the host, for the report */
	char *rootfs;    /* the bundle's rootfs (absolute): the floor's */
	char **args;     /* the command every runtime runs: the floor's */
	int rounds_done;
	uint64_t seed;
	struct bench_host_state host_before; /* when the rounds began */
	/* --age: the same measurements after ageing the host (its rt[] are
	 * copies of ours, with their own results; the strings are ours) */
	struct bench_run *aged;
	/* set in the aged run only: */
	double age_s;         /* how long the ageing took */
	const char *age_with; /* the runtime that aged the host */
	int aged_ok;          /* containers that ran to the end while ageing */
};

int bench_runtime_cmd(int argc, char **argv);
int bench_runtime_main(struct bench_run *b);
void bench_run_free(struct bench_run *b);

/* ---- reports (bench-runtime-out.c) --------------------------------------- */
int bench_print_table(FILE *f, const struct bench_run *b);
/* With --phases: the steps of fcrun and of the floor, medians side by side. */
void bench_print_phases(FILE *f, const struct bench_run *b);
int bench_write_json(const char *path, const struct bench_run *b, struct fc_error **err);
int bench_write_csv(const char *path, const struct bench_run *b, struct fc_error **err);

#endif
