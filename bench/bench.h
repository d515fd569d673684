/* SPDX-License-Identifier: MIT */
/* bench.h (private to bench/): what the harnesses of `fcstart bench` share:
 * statistics, one timed run of a program, the busybox container, config.json
 * variants, the host's cgroup fix-up for crun, a private containerd and
 * dockerd, and the reading of flag values. Each harness has its own header:
 * bench-runtime.h, bench-pool.h, bench-coldstart.h, bench-pull.h. */
#ifndef FCSTART_BENCH_H
#define FCSTART_BENCH_H

#include "fc-util.h"

#include <signal.h>

/* ---- statistics (bench-stats.c) ---------------------------------------- */

struct bench_summary {
	size_t n;
	double median, p95, p99, min, max, mean;
};
/* Sort ascending; the nearest-rank percentile p (0-100] of a sorted array
 * of n >= 1 samples. */
void bench_sort(double *v, size_t n);
double bench_percentile(const double *v, size_t n, double p);
/* Summarise n samples (the array is sorted in place). n == 0 gives all zeros. */
void bench_summarise(double *v, size_t n, struct bench_summary *out);
/* Fisher-Yates shuffle of idx[0..n) with a small xorshift generator. */
void bench_shuffle(size_t *idx, size_t n, uint64_t *state);
uint64_t bench_seed(void);

/* Milliseconds since a fc_now_ns() reading. */
static inline double bench_ms_since(uint64_t t0)
{
	return (double)(fc_now_ns() - t0) / 1e6;
}

/* ---- one timed run of X (bench-exec.c) ---------------------------------- */

/* What came on an output while it was read: the time to its first byte and
 * its first bytes. */
struct bench_output {
	double first_ms; /* from the start of the run to the first byte; -1: none came */
	char buf[1024];  /* the first bytes, NUL-terminated */
	size_t len;      /* bytes in buf */
	size_t total;    /* bytes read */
	bool eof;        /* the output ended (EOF) */
};
void bench_output_reset(struct bench_output *o);
/* Read fd until EOF or want bytes (0: until EOF), at most timeout_ms after t0
 * (fc_now_ns() when the run began): 0, or -ETIMEDOUT / -errno. The time to the
 * first byte counts from t0. */
int bench_read_output(int fd, uint64_t t0, int timeout_ms, size_t want, struct bench_output *o);

#define BENCH_EXEC_PIPE    (-2) /* .out: a pipe that bench_exec reads as the watched output */
#define BENCH_EXEC_CAPTURE (-2) /* .err: into .errtext */

/* One run of X: argv (a path, or a name looked up in PATH) in its own process
 * group; fork to exit timed; the whole group killed at the deadline. Fill in
 * with BENCH_EXEC_INIT(argv), then change what differs. */
struct bench_exec {
	char *const *argv;
	int in;            /* stdin; -1: /dev/null */
	const char *input; /* when set: stdin holds these bytes (then EOF) */
	int out;           /* stdout; -1: /dev/null; BENCH_EXEC_PIPE: a pipe read as .output */
	int err;           /* stderr; -1: /dev/null; BENCH_EXEC_CAPTURE (default): .errtext */
	int watch;         /* another output to read while X runs (e.g. a container's stdout
	                    * while X is `start`); -1: none; ignored with BENCH_EXEC_PIPE */
	size_t want;       /* read the output until want bytes came (0: until EOF) */
	double timeout_s;  /* the deadline from the fork (0: none) */
	volatile sig_atomic_t *stop; /* when it becomes set: X is killed */
	/* called once the output is done while X still runs (`ctr run` does not
	 * pass stdin's EOF on: its task is killed here) */
	void (*on_output)(struct bench_exec *x, void *data);
	void *data;

	/* what happened */
	int status;      /* exit status, 128+signal; 128+SIGKILL when killed at the deadline
	                  * or on *stop: X succeeded when status is 0 */
	bool timed_out;  /* the deadline passed (X killed, or its output cut short) */
	double ms;       /* fork to X's exit */
	long maxrss_kib; /* X's peak RSS (wait4) */
	struct bench_output output; /* the watched output (first_ms counts from the fork) */
	char errtext[2048];         /* the first of X's stderr, trailing blanks dropped */
};
#define BENCH_EXEC_INIT(argv_)                                                                     \
	{                                                                                          \
		.argv = (argv_), .in = -1, .out = -1, .err = BENCH_EXEC_CAPTURE, .watch = -1,      \
	}
/* Run X to its exit (and the end of its watched output). 0 when X ran (see
 * status), -errno when it could not be started. */
int bench_exec(struct bench_exec *x);
/* An error of a failed run: "WHAT: exit status N: STDERR" or "WHAT: timed
 * out after S s: STDERR". Returns -errno. */
int bench_exec_error(const struct bench_exec *x, struct fc_error **err, const char *what);
/* Run argv with no output, at most timeout_s; 0, or -errno with *err naming
 * the program, its status and its stderr. */
int bench_exec_quiet(char *const argv[], double timeout_s, struct fc_error **err);
/* The first line of `path --version`, malloc'd; NULL when it fails. */
char *bench_program_version(const char *path);
/* An executable on $PATH (malloc'd), NULL if none. */
char *bench_find_in_path(const char *name);
/* This fcstart binary's path (/proc/self/exe), malloc'd; NULL with errno set
 * when it cannot be read. */
char *bench_self_exe(void);
/* fcrun to measure: $FCRUN, else fcrun next to this fcstart (installed), else
 * ../runtime/fcrun (a build dir), else $PATH. */
char *bench_default_fcrun(void);
/* fcstart-floor (bench/floor.c) to measure: $FCSTART_FLOOR, else next to this
 * fcstart (a build dir), else where it is installed relative to it
 * (libexecdir/fcstart), else NULL. */
char *bench_default_floor(void);
/* fork + exec argv in its own process group (a ^C reaches only fcstart,
 * which stops it), stdout and stderr appended to log, stdin /dev/null. */
pid_t bench_spawn_daemon(char *const argv[], const char *log);
/* Stop a child of ours: sig, then SIGKILL once secs have passed; reaped, and
 * *pid set to 0. Nothing when *pid <= 0. true when it had to be killed. */
bool bench_stop_pid(pid_t *pid, int sig, int secs);
/* The last max bytes of a file (a daemon's log), trailing blanks dropped,
 * malloc'd; "" when it cannot be read or is empty. */
char *bench_file_tail(const char *path, size_t max);

/* The frame of a harness run: SIGINT, SIGTERM and SIGHUP set bench_stop (to
 * the signal), after which a harness stops measuring, cleans up and ends;
 * with subreaper, orphaned container processes become ours to reap. end
 * puts things back; when a signal came and name is set, it says so (`bench
 * NAME: interrupted by SIGINT after N round(s); cleaned up`) and returns
 * 128+signal, else ret. */
extern volatile sig_atomic_t bench_stop;
struct bench_session {
	struct sigaction old[3];
	bool subreaper;
	bool had_parent; /* fcrun's default parent cgroup (/fcrun) existed at the start */
};
void bench_session_begin(struct bench_session *s, bool subreaper);
int bench_session_end(struct bench_session *s, const char *name, int rounds_done, int ret);
/* Sleep ms milliseconds; cut short once *stop is set (stop may be NULL). */
void bench_sleep_ms(int ms, volatile sig_atomic_t *stop);

/* ---- the busybox container (bench-image.c) ----------------------------- */

/* The host's static busybox (Debian: busybox-static), what the container runs. */
#define BENCH_BUSYBOX "/bin/busybox"
/* A bundle at dir: rootfs/ (busybox, a link per applet, /etc) and the
 * project's default config.json (`fcrun spec`). */
int bench_busybox_bundle(const char *dir, struct fc_error **err);
/* An oci-archive at path of that rootfs (one uncompressed layer), named name
 * ("fcbench/bb:latest"): index.json names it in full for containerd
 * ("docker.io/fcbench/bb:latest"), a docker manifest.json (RepoTags) lets
 * `docker load` read the same file; fcstart's store imports it too. Written
 * to a temporary name and renamed. */
int bench_busybox_image(const char *path, const char *name, struct fc_error **err);
/* The same with a static program of the host's at dest ("usr/bin/x") and the
 * config's Cmd (a JSON array) and more Env entries (JSON strings, comma
 * separated); NULL members: none, busybox's ["sh"]. */
struct bench_image_extra {
	const char *file, *dest;
	const char *cmd_json, *env_json;
};
int bench_busybox_image_with(const char *path, const char *name, const struct bench_image_extra *x,
                             struct fc_error **err);

/* ---- config.json variants (bench-config.c) ------------------------------ */

struct bench_variant_opts {
	const char *rootfs_abs; /* the absolute rootfs path written as root.path */
	int netns;              /* 1: make sure a new network namespace is asked for, 0: drop it */
	char **args;            /* replace process.args when non-NULL */
	/* when blk_bps or blk_iops: linux.resources.blockIO throttles (read and
	 * write) of device blk_major:blk_minor (fcstart bench coldstart's tiers) */
	unsigned blk_major, blk_minor;
	uint64_t blk_bps, blk_iops;
};
/* Read bundle_dir/config.json, write out_dir/config.json changed as opts says
 * (terminal forced off). The rootfs is the original's (opts->rootfs_abs). */
int bench_write_variant(const char *bundle_dir, const char *out_dir,
                        const struct bench_variant_opts *opts, struct fc_error **err);
/* The bundle's process.args (NULL-terminated, malloc'd). */
int bench_bundle_args(const char *bundle_dir, char ***out, struct fc_error **err);
/* The absolute path of the bundle's rootfs (root.path resolved against the bundle). */
int bench_bundle_rootfs(const char *bundle_dir, char **out, struct fc_error **err);

/* ---- the host: crun's cgroup fix-up, mounts (bench-host.c) ------------- */

#define BENCH_HOST_MAX 8
struct bench_host_fix {
	size_t n;
	struct {
		char *name; /* controller, e.g. "hugetlb" */
		char *path; /* /sys/fs/cgroup/hugetlb */
		bool made_dir;
		int mnt_id; /* our mount's id in mountinfo: never umount someone else's */
	} m[BENCH_HOST_MAX];
	bool parent_was_ro; /* /sys/fs/cgroup was read-only and was remounted for mkdir/rmdir */
};
/* When root and cgroup2 (/sys/fs/cgroup/unified) holds controllers on a hybrid
 * host, mount each as its own v1 hierarchy so crun accepts the host. Returns 1
 * when something was changed, 0 when nothing had to be, -errno on failure (the
 * host is put back before returning). */
int bench_host_fix_apply(struct bench_host_fix *f, struct fc_error **err);
/* Put the host back as it was: wait for dying cgroups, umount, check that the
 * controller is back on cgroup2, rmdir. Safe to call twice. */
int bench_host_fix_restore(struct bench_host_fix *f, struct fc_error **err);
/* bench_host_fix_apply for a harness that runs crun: *note (malloc'd) says
 * what was done, or why crun cannot run here; NULL when nothing had to be. */
int bench_host_fix_for_crun(struct bench_host_fix *f, char **note);
/* On a hybrid host, runc under containerd and Docker may enable controllers
 * (hugetlb) in the cgroup2 tree's subtree_control files, the root's included,
 * where they stay after the engines are gone: crun then refuses the host (and
 * bench_host_fix_apply cannot move them), so every later crun figure is
 * missing. hold saves /sys/fs/cgroup/unified/cgroup.subtree_control and those
 * one level below it (the first holder does); when the last holder releases,
 * or at exit while one still holds, what was enabled since in those files is
 * disabled again, deepest first (best effort: a warning names the file when a
 * cgroup of someone else's still uses it). Root only; no-op elsewhere. */
void bench_subtree_hold(void);
void bench_subtree_release(void);
/* The id of the topmost mount at path (mountinfo's first field), -1 if none. */
int bench_mount_id(const char *path);
/* Detach every mount at or below dir (deepest first). */
void bench_unmount_under(const char *dir);

/* ---- the host's state (bench-host.c) ------------------------------------ */

/* What the kernel holds that grows with a host's age, and its memory: read
 * before and after a harness ages the host, and per waiting sandbox. */
struct bench_host_state {
	double uptime_s;
	long mem_available_kib, slab_kib, sunreclaim_kib; /* /proc/meminfo */
	long memcg_all;  /* memory cgroups, dying ones included (/proc/cgroups; v2: cgroup.stat) */
	long memcg_live; /* of them, those with a directory */
	long mounts;     /* our mount namespace's mounts */
	double load1;    /* the 1-minute load average */
};
void bench_host_state(struct bench_host_state *s);
/* The number after field (e.g. "\nPss:", "MemAvailable:") in file (a
 * /proc file in kB), -1 when it cannot be read or has none. */
long bench_kib_field(const char *file, const char *field);
/* "up 2h48m, load 13.2, memory cgroups 59 (49 dying), slab 67.1 MiB (40.6
 * unreclaimable), MemAvailable 23.1 GiB, 59 mounts" */
void bench_host_state_text(const struct bench_host_state *s, struct fc_buf *out);
/* {"uptime_s":...,"load1":...,"mem_available_kib":...,...} */
void bench_host_state_json(const struct bench_host_state *s, struct fc_buf *out);

/* ---- flag values (bench-flags.c) ------------------------------------------ */

/* s split at sep, empty pieces dropped; NULL-terminated, malloc'd. */
char **bench_split(const char *s, char sep);
/* An integer flag value from min to 1000000; -1 with a message naming `fcstart
 * bench CMD` and the flag when it is not. */
int bench_parse_int(const char *cmd, const char *flag, const char *s, int min, int *out);

/* ---- a private containerd and dockerd (bench-engine.c) ---------------- */

#define BENCH_CONTAINERD    "/usr/bin/containerd"
#define BENCH_CTR           "/usr/bin/ctr"
#define BENCH_SHIM          "/usr/bin/containerd-shim-runc-v2"
#define BENCH_DOCKERD       "/usr/sbin/dockerd" /* Debian's docker.io */
#define BENCH_DOCKER        "/usr/bin/docker"   /* its client */
#define BENCH_ENGINE_CG_MAX 32

struct bench_engine {
	char *dir;         /* ours: configs, sockets, exec-root, state, logs */
	char *ctd_root;    /* containerd's root (images, snapshots) */
	char *docker_data; /* dockerd's data-root */
	char *ctd_sock, *docker_sock, *docker_host; /* docker_host: unix://docker_sock */
	char *docker;                               /* the docker client */
	char *ns;                                   /* the containerd namespace we use */
	pid_t ctd, dockerd;
	volatile sig_atomic_t *stop;   /* when set, waits are cut short */
	const char *insecure_registry; /* dockerd's insecure-registries (host:port), or NULL */
	const char *cg_names[3];
	char *cg[BENCH_ENGINE_CG_MAX]; /* cgroups that did not exist before: ours to remove */
	size_t n_cg;
	bool subtree_held; /* bench_subtree_hold: released by bench_engine_stop */
};
/* Fill e (no daemon started yet): dir is made; ctd_root / docker_data NULL
 * put them under dir; ns is the containerd namespace the caller uses (its
 * cgroups, like dockerd's "docker", are removed by bench_engine_stop when
 * they did not exist before). */
int bench_engine_init(struct bench_engine *e, const char *dir, const char *ctd_root,
                      const char *docker_data, const char *ns, struct fc_error **err);
/* The first binary of containerd (and dockerd when docker) that is missing, or NULL. */
const char *bench_engine_missing(bool docker);
/* Start containerd unless running, and dockerd on it when docker; wait until they answer. */
int bench_engine_start(struct bench_engine *e, bool docker, struct fc_error **err);
/* The last 500 bytes of dir/name (a daemon's log), malloc'd. */
char *bench_engine_log_tail(const struct bench_engine *e, const char *name);
/* Stop dockerd and containerd by pid, kill our containerd's shims; unmount
 * what is left under dir, ctd_root and docker_data; remove the cgroups they
 * made; put back the cgroup2 subtree_control files as bench_engine_init found
 * them (bench_subtree_hold). Safe to call twice and after a failed start. */
void bench_engine_stop(struct bench_engine *e);
void bench_engine_free(struct bench_engine *e);

#endif
