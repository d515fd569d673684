/* SPDX-License-Identifier: MIT */
/* cgroup.h (private): container cgroups on cgroup v1, v2 and hybrid hosts.
 * The host layout is detected once per process (statfs of /sys/fs/cgroup and
 * /sys/fs/cgroup/unified). A container's cgroup is named by its cgroups path
 * (config linux.cgroupsPath, absolute like "/fcrun/ID", or relative, which is
 * taken below the caller's own cgroup; default "/fcrun/ID"). With
 * --systemd-cgroup a "slice:prefix:name" path is accepted and mapped to
 * "/slice/prefix-name.scope" on cgroupfs (no D-Bus). */
#ifndef FCRT_CGROUP_H
#define FCRT_CGROUP_H

#include "spec.h"

struct fc_cgroup; /* opaque */

enum fc_cgroup_mode { FC_CGROUP_V1 = 1, FC_CGROUP_HYBRID, FC_CGROUP_V2 };
enum fc_cgroup_mode fc_cgroup_host_mode(void);

/* Turn config's linux.cgroupsPath (NULL = default) into the canonical path
 * stored in the state file ("/fcrun/ID"). */
char *fc_cgroup_resolve_path(const char *id, const char *cgroups_path, bool systemd,
                             struct fc_error **err);

/* Create (mkdir) the cgroup in every hierarchy that has a controller we use
 * (and in the v2 tree on hybrid hosts), then apply res (may be NULL).
 * Existing directories are joined, never owned: fc_cgroup_destroy kills in
 * and removes only what this call made. journal_fd (opened O_APPEND, or
 * -1) gets a line per directory before its mkdir and another after it
 * ("? KIND DIR", then "+ KIND DIR" made or "= KIND DIR" found; KIND l for
 * the container's own directory, p for a parent), so fc_cgroup_open_journal
 * knows what a create that was killed part-way made. Parents fcrun makes
 * carry the xattr trusted.fcrun=parent and stay when their containers go
 * (as runc's, Docker's and podman's do): the next create finds them.
 * Creation and fc_cgroup_remove_parents exclude each other (flock on
 * /sys/fs/cgroup): a parent is never removed while another create is
 * between its mkdir and its child's. On failure the container's own
 * directories this call made are removed again. */
/* Which default device rules linux.devices overrides (by path, as runc:
 * /dev/null, /dev/zero, /dev/full, /dev/random, /dev/urandom, /dev/tty), as
 * fc_resources.default_devices_off. */
uint32_t fc_cgroup_default_devices_off(const struct fc_device *devs, size_t n);
int fc_cgroup_create(const char *path, const struct fc_resources *res, int journal_fd,
                     struct fc_cgroup **out, struct fc_error **err);
/* fc_cgroup_create, but the v1 memory hierarchy's directories (when it
 * holds only the memory controller and res sets no memory limit) are left
 * for fc_cgroup_make_late: their mkdir is the costliest of a create on a
 * host that has run for a while (0.4-1.2 ms here, under the kernel's global
 * cgroup lock), which the caller overlaps with the init's first steps. The
 * journal's intents cover them already; fc_cgroup_self_fds leaves them out. */
int fc_cgroup_create_late(const char *path, const struct fc_resources *res, int journal_fd,
                          struct fc_cgroup **out, struct fc_error **err);
/* Make the directories fc_cgroup_create_late left (journalled to journal_fd
 * as create does) and open the memory hierarchy's `tasks` file for the
 * init's fc_cgroup_enter_self (*tasks_fd, the caller's; -1 when nothing was
 * left). */
int fc_cgroup_make_late(struct fc_cgroup *cg, int journal_fd, int *tasks_fd, struct fc_error **err);
/* Are directories left for fc_cgroup_make_late? */
bool fc_cgroup_late(const struct fc_cgroup *cg);
/* A recycled cgroup (the pool's: one per container at a time, kept between
 * containers of one spec). The directories that do not exist are made as
 * fc_cgroup_create makes them, with every limit of res (device rules too)
 * and the tag trusted.fcrun=pool; those that exist must carry that tag and
 * be empty (no process), and get res's limits written again (not the
 * device rules, which only the spec they were made for sets). The journal
 * ends with "k l *": a destroy of this handle (or of one opened from the
 * journal) kills every process in it and leaves the directories. */
int fc_cgroup_recycle(const char *path, const struct fc_resources *res, int journal_fd,
                      struct fc_cgroup **out, struct fc_error **err);
/* The hierarchies a recycled cgroup is made in: every one; every one but
 * the v1 memory hierarchy (a pool sandbox that gets its memory cgroup at
 * its start: it waits without one of its own); the v1 memory hierarchy
 * only (such a memory cgroup). Each gets only its own hierarchies' limits. */
enum fc_cgroup_sel { FC_CG_ALL, FC_CG_NO_MEMORY, FC_CG_MEMORY_ONLY };
int fc_cgroup_recycle_sel(const char *path, const struct fc_resources *res, int journal_fd,
                          enum fc_cgroup_sel sel, struct fc_cgroup **out, struct fc_error **err);
/* Has the host a v1 memory hierarchy (pure v1 and hybrid hosts)? */
bool fc_cgroup_v1_memory(void);
/* Does the v1 memory directory of path exist without a process in it? */
bool fc_cgroup_memory_empty(const char *path);
/* Between two containers: every process left in the recycled cgroup at
 * path is killed (thawed first when frozen) until it is empty, and the
 * counters the kernel lets reset are reset (v1: memory peak and failure
 * counts, CPU usage). Fails when a directory is missing or not tagged as
 * recycled by fcrun (nothing is touched in such a one). */
int fc_cgroup_recycle_reset(const char *path, struct fc_error **err);
/* The same for the hierarchies sel picks; FC_CG_ALL (as above) also takes a
 * missing v1 memory directory for one given at the start. */
int fc_cgroup_recycle_reset_sel(const char *path, enum fc_cgroup_sel sel, struct fc_error **err);
/* Remove a recycled cgroup: its processes killed, its tagged directories
 * removed (the parents stay). Directories without the tag are left
 * alone. Missing ones are fine. */
int fc_cgroup_recycle_remove(const char *path, struct fc_error **err);
/* Open an existing container cgroup (for state, kill --all, ps, pause, update,
 * delete); missing directories are tolerated. Nothing is owned: destroy of
 * such a handle removes nothing. */
int fc_cgroup_open(const char *path, struct fc_cgroup **out, struct fc_error **err);
/* Open with the ownership a create recorded in its journal (the text of the
 * file; NULL or empty: nothing owned, *out NULL when no path is recorded). */
int fc_cgroup_open_journal(const char *journal, struct fc_cgroup **out, struct fc_error **err);
/* Did the container's create make its own directory (in every hierarchy
 * where it exists)? Only then are all the processes in it the container's. */
bool fc_cgroup_owned(const struct fc_cgroup *cg);
void fc_cgroup_free(struct fc_cgroup *cg);

/* Point cg at existing sub-cgroups of the container's cgroup, for exec
 * --cgroup (as runc): subs is one "PATH" for every hierarchy, or any number
 * of "CTRL[,CTRL]:PATH" for the hierarchies holding those controllers (the
 * others keep the container's cgroup). PATH is relative to the container's
 * cgroup and may not leave it. Nothing is created; entering a missing one
 * fails naming its directory. */
int fc_cgroup_descend(struct fc_cgroup *cg, char *const *subs, struct fc_error **err);
/* O_PATH|O_DIRECTORY fd of the container's cgroup2 directory, for clone3
 * CLONE_INTO_CGROUP (pure v2 hosts, and the unified tree of hybrid ones),
 * or -1. Owned by cg. */
int fc_cgroup_clone_fd(struct fc_cgroup *cg);
/* Descriptors of the v1 hierarchies' `tasks` files, opened for writing, so
 * the container's init can move itself with fc_cgroup_enter_self(): a thread
 * moving itself through `tasks` skips the kernel's global threadgroup lock,
 * whose first taker waits for an RCU grace period (10-15 ms). Owned by cg;
 * *n may be 0 (pure v2). */
int fc_cgroup_self_fds(struct fc_cgroup *cg, const int **fds, size_t *n, struct fc_error **err);
/* A hierarchy the container's cgroup lives in, for its cgroup mounts. */
struct fc_cgroup_mount {
	const char *mountpoint; /* the host's (/sys/fs/cgroup/memory); owned by the module */
	const char *path;       /* the container's directory in it; owned by cg */
	char options[128];      /* v1 subsystems to mount it with ("cpu,cpuacct", "name=systemd") */
	bool v2;
};
/* The container's hierarchies (v1 first, then cgroup2); returns how many. */
size_t fc_cgroup_mounts(const struct fc_cgroup *cg, struct fc_cgroup_mount *out, size_t max);
/* Move pid into the cgroup2 directory only. */
int fc_cgroup_enter_v2(struct fc_cgroup *cg, pid_t pid, struct fc_error **err);
/* In the process to move (single-threaded): write "0" to each fd. */
int fc_cgroup_enter_self(const int *fds, size_t n, struct fc_error **err);
/* Move pid into every hierarchy (cgroup.procs). skip_v2: already placed there
 * by CLONE_INTO_CGROUP. */
int fc_cgroup_enter(struct fc_cgroup *cg, pid_t pid, bool skip_v2, struct fc_error **err);
/* Apply (or update) limits. */
int fc_cgroup_apply(struct fc_cgroup *cg, const struct fc_resources *res, struct fc_error **err);
/* Freeze / thaw (freezer v1, cgroup.freeze v2); waits until the state is reached. */
int fc_cgroup_freeze(struct fc_cgroup *cg, bool frozen, struct fc_error **err);
/* Is it frozen now? */
bool fc_cgroup_is_frozen(struct fc_cgroup *cg);
/* All pids in the container's cgroup (sorted). */
int fc_cgroup_pids(struct fc_cgroup *cg, pid_t **pids, size_t *n, struct fc_error **err);
/* Append runc's `events --stats` "data" object (cpu, memory, pids, blkio,
 * hugetlb) as JSON to out. */
int fc_cgroup_stats_json(struct fc_cgroup *cg, struct fc_buf *out, struct fc_error **err);
/* What fcrun made goes: every process left in a directory the container's
 * create made is killed (SIGKILL, thawing if frozen), those directories are
 * removed; the parents stay. A directory fcrun did not make is never
 * killed in or removed. Missing directories are fine. */
int fc_cgroup_destroy(struct fc_cgroup *cg, struct fc_error **err);
/* Remove the empty parents fcrun made (tagged trusted.fcrun=parent) at path
 * and above it ("/fcrun", the default parent), deepest first, in every
 * hierarchy: for tests, benchmarks and tools that clean the host after
 * them. Directories without the tag, or with a cgroup in them, stay. Fails
 * with EBUSY, removing nothing, while another create holds the lock. */
int fc_cgroup_remove_parents(const char *path, struct fc_error **err);
/* The memory its processes use (bytes: v1 memory.usage_in_bytes, v2
 * memory.current) and the CPU time they used (ns); 0 where unknown. */
int fc_cgroup_usage(struct fc_cgroup *cg, uint64_t *memory, uint64_t *cpu_ns);
/* v1 memory OOM events / v2 memory.events oom_kill count (for events). */
int fc_cgroup_oom_count(struct fc_cgroup *cg, uint64_t *out);

#endif
