/* SPDX-License-Identifier: MIT */
/* cgroup-file.h (private to cgroup*.c; with cgroup-file.c): the container
 * cgroup handle, the controllers, and the helpers every cgroup file reads and
 * writes with. */
#ifndef FCRT_CGROUP_FILE_H
#define FCRT_CGROUP_FILE_H

#include "cgroup.h"

enum cg_ctrl {
	CG_CPU = 0,
	CG_CPUACCT,
	CG_CPUSET,
	CG_MEMORY,
	CG_DEVICES,
	CG_FREEZER,
	CG_BLKIO,
	CG_PIDS,
	CG_HUGETLB,
	CG_NET_CLS,
	CG_NET_PRIO,
	CG_PERF_EVENT,
	CG_SYSTEMD, /* the named "name=systemd" hierarchy */
	/* v2-only controllers */
	CG_IO,
	CG_RDMA,
	CG_MISC,
	CG_NCTRL
};
#define CG_BIT(c)   (1u << (c))
#define CG_MAX_HIER 16

extern const char *const cg_ctrl_names[CG_NCTRL];

/* Who made a directory (see fc_cgroup_create): only what fcrun made is
 * killed in and removed. */
enum cg_made {
	CG_FOUND = 0, /* existed before, or unknown: never killed in, never removed */
	CG_MADE,      /* made by this container's create */
	CG_MAYBE,     /* its create was killed between the intent and the mkdir's result:
	               * removed when empty, nothing in it is killed */
	CG_KEPT,      /* a recycled cgroup (fc_cgroup_recycle): fcrun made it (tagged
	               * trusted.fcrun=pool), everything in it is killed as in CG_MADE,
	               * but destroy leaves the directory for the next container */
};

struct cg_dir {
	char *path;        /* /sys/fs/cgroup/memory/fcrun/ID */
	const char *mount; /* /sys/fs/cgroup/memory (the host layout's) */
	unsigned ctrls;    /* CG_BIT()s held by this hierarchy */
	enum cg_made made; /* the container's own directory: made by it? */
};

struct fc_cgroup {
	char *path; /* canonical "/fcrun/ID" */
	enum fc_cgroup_mode mode;
	struct cg_dir v1[CG_MAX_HIER];
	size_t n_v1;
	char *v2;                   /* cgroup2 directory of the container, NULL on a pure v1 host */
	char *v2_mount;             /* where cgroup2 is mounted */
	unsigned v2_ctrls;          /* controllers handled through cgroup2 (CG_BIT()s) */
	int v2_fd;                  /* O_PATH fd for CLONE_INTO_CGROUP, lazily opened */
	int tasks_fds[CG_MAX_HIER]; /* v1 `tasks` files for fc_cgroup_self_fds */
	size_t n_tasks_fds;
	enum cg_made v2_made;
	char **parents; /* directories above the container's that its create made (or
	                 * may have), NULL-terminated, may be NULL */
	int journal_fd; /* fc_cgroup_create's record, -1 when none */
	bool recycle;   /* fc_cgroup_recycle: leaves made are tagged, existing ones kept */
	size_t late;    /* 1 + the v1 memory hierarchy whose directories fc_cgroup_create_late
	                 * left to fc_cgroup_make_late, 0 when none */
};

/* The v1 directory holding controller c, NULL when none. */
const char *cg_v1_dir(const struct fc_cgroup *cg, enum cg_ctrl c);

/* dir/file helpers; errors read "write `file` = value in dir: strerror". */
int cg_write(const char *dir, const char *file, const char *val, struct fc_error **err);
int cg_writef(const char *dir, const char *file, struct fc_error **err, const char *fmt, ...)
    FC_PRINTF(4, 5);
bool cg_exists(const char *dir, const char *file);
/* Forget an error that was handled. */
static inline void cg_error_clear(struct fc_error **err)
{
	if (err) {
		fc_error_free(*err);
		*err = NULL;
	}
}
/* Read a file, trailing newline stripped; -errno. */
int cg_read(const char *dir, const char *file, char **out);
/* A file holding one number ("max" reads as UINT64_MAX); -errno. */
int cg_read_u64(const char *dir, const char *file, uint64_t *out);
/* Value of "key N" in a flat keyed text ("key value\n" lines); -ENOENT if absent. */
int cg_kv_u64(const char *text, const char *key, uint64_t *out);
/* Hugepage sizes of the host as cgroup names ("2MB", "1GB"), NULL-terminated. */
char **cg_hugepage_sizes(void);

/* JSON pieces: "key":N, skipped when omitempty and N == 0 (Go's omitempty). */
void cg_json_u64(struct fc_buf *b, bool *first, const char *key, uint64_t v, bool omitempty);
void cg_json_key(struct fc_buf *b, bool *first, const char *key);

/* `"pids":{"current":N,"limit":N}` of the directory holding pids.* (v1 or v2). */
void cg_stats_pids(struct fc_buf *b, const char *dir);
/* `,"raw":{...}` from "key value" lines (memory.stat); text is consumed. */
void cg_json_raw(struct fc_buf *b, char *text);
#endif
