/* SPDX-License-Identifier: MIT */
/* fcpool.h: libfcpool, pools of pre-warmed sandboxes (created-but-not-started
 * OCI containers) handed over one per invocation; the daemon behind
 * `fcstart serve` and the client side of its unix-socket API (docs/api.md).
 *
 * Live state under the root directory (default /run/fcstart):
 *   lock                   flock held by the running daemon
 *   fcstart.sock           the API socket (SOCK_SEQPACKET, mode 0600)
 *   functions/<name>/      function.json (the deployed spec), config.json
 *   runtime/<id>/          libfcrt container state of each sandbox
 *   sandboxes/.rootfs      empty: where each sandbox's init attaches its
 *                          root filesystem (a detached overlay over its own
 *                          tmpfs), in the sandbox's mount namespace only
 * Every sandbox id starts with "fcs-<tag>-" where tag is a hash of the root,
 * so its cgroup (/fcrun/<id> in every hierarchy) is found after a crash.
 * Every function returns >= 0 or -errno with *err set. */
#ifndef FCPOOL_H
#define FCPOOL_H

#include <stdbool.h>
#include <stdint.h>

#include "fc-util.h"

#define FCPOOL_DEFAULT_ROOT                 "/run/fcstart"
#define FCPOOL_DEFAULT_SOCKET               "/run/fcstart/fcstart.sock"
#define FCPOOL_DEFAULT_MIN                  1
#define FCPOOL_DEFAULT_MAX                  20
#define FCPOOL_MAX_MSG                      65536
#define FCPOOL_DEFAULT_MAX_BODY             (8ull << 20) /* a gateway request body */
#define FCPOOL_DEFAULT_MAX_CONNECTIONS      1024
#define FCPOOL_DEFAULT_HEADER_TIMEOUT_MS    10000
#define FCPOOL_DEFAULT_CONN_IDLE_TIMEOUT_MS 60000
/* Every sandbox of `fcstart serve` has these limits unless its function's
 * spec sets its own (docs/api.md, "Limits"): 256 MiB of memory (an
 * interpreter runtime with its libraries and the 64 MiB tmpfs it may write;
 * 20 sandboxes, the default max, stay within 5 GiB), 256 processes (a fork
 * loop stops there, not at the host's pid_max), a minute per invocation
 * (the timeouts faasd's gateway uses). */
#define FCPOOL_DEFAULT_MEMORY     (256ull << 20)
#define FCPOOL_DEFAULT_PIDS       256
#define FCPOOL_DEFAULT_TIMEOUT_MS 60000
#define FCPOOL_MIN_MEMORY         (6ull << 20) /* as Docker: below, not even a shell runs */
#define FCPOOL_MIN_CPUS           0.01         /* 1 ms per 100 ms period, the kernel's least */
#define FCPOOL_MAX_PIDS           4194304      /* the kernel's PID_MAX_LIMIT */

enum fcpool_mode { FCPOOL_CLASSIC = 0, FCPOOL_HTTP };
/* How a function's instances are made ready ahead of an invocation
 * (docs/api.md, "Initialized instances"): EXEC, created but not started (the
 * function is exec'd at the hand-over); STARTED, started ahead until ready
 * (its port accepts, or its readiness path answers 200); FORK, forked from a
 * template instance that ran the function's init once (Python, through
 * fcstart's helper module). */
enum fcpool_prewarm { FCPOOL_PREWARM_EXEC = 0, FCPOOL_PREWARM_STARTED, FCPOOL_PREWARM_FORK };
#define FCPOOL_DEFAULT_READY_TIMEOUT_MS 60000
const char *fcpool_prewarm_name(enum fcpool_prewarm p);
/* "exec", "started", "fork"; -EINVAL for anything else. */
int fcpool_prewarm_parse(const char *s, enum fcpool_prewarm *out);

/* A function as deployed: what `fcstart fn deploy` sends, function.json. */
struct fcpool_fn_spec {
	char *name;
	char *image;
	enum fcpool_mode mode;
	char **env;          /* KEY=VALUE */
	char **labels;       /* KEY=VALUE */
	char **args;         /* NULL: the image's entrypoint + cmd */
	uint64_t memory;     /* bytes; 0 = FCPOOL_DEFAULT_MEMORY */
	double cpus;         /* 0 = unlimited */
	uint64_t timeout_ms; /* per invocation; 0 = FCPOOL_DEFAULT_TIMEOUT_MS */
	unsigned pids;       /* processes at once; 0 = FCPOOL_DEFAULT_PIDS */
	/* false (the default): its sandboxes run in a user namespace of their own,
	 * root inside mapped to an unprivileged host range of the function's;
	 * true ("userns":"host", label com.fcstart.userns=host): as the host's
	 * root, for images that need real root */
	bool userns_host;
	unsigned min, max; /* from the labels com.openfaas.scale.min/max */
	unsigned queue;    /* label com.fcstart.queue: invocations that may wait; 0: the daemon's */
	/* mode from the image at each deploy ("mode":"auto"): http when the image
	 * runs an OpenFaaS watchdog (its entrypoint or cmd is a *watchdog, or its
	 * Env sets fprocess), else classic; mode is then the one in force */
	bool mode_auto;
	bool read_only;     /* a read-only root filesystem (writes go to /tmp) */
	char **annotations; /* KEY=VALUE: kept and shown back, not interpreted */
	char **secrets;     /* mounted read-only at /var/openfaas/secrets/NAME */
	/* KEY=VALUE a front end keeps with the function and shows back, not
	 * interpreted (the OpenFaaS gateway: limits and requests as given,
	 * constraints); a key may repeat */
	char **meta;
	uint64_t created_ms; /* when first deployed (unix ms; the daemon sets it) */
	/* "prewarm" (label com.fcstart.prewarm): exec, started or fork */
	enum fcpool_prewarm prewarm;
	/* started and fork modes, HTTP functions: the path whose 200 makes an
	 * instance ready (label com.openfaas.health.http.path); NULL: ready once
	 * 127.0.0.1:8080 accepts */
	char *readiness;
	/* an instance (or a template) that is not ready within this is killed,
	 * reported and retried with back-off (label com.fcstart.ready-timeout);
	 * 0 = FCPOOL_DEFAULT_READY_TIMEOUT_MS */
	uint64_t ready_timeout_ms;
};
void fcpool_fn_spec_clear(struct fcpool_fn_spec *s);
/* min, max and queue from the labels com.openfaas.scale.min and .max
 * (default 1 and 20) and com.fcstart.queue (default 0). */
void fcpool_fn_spec_labels(struct fcpool_fn_spec *s);
/* pids and timeout_ms from the labels com.fcstart.pids and
 * com.fcstart.timeout where the spec has none, userns_host from the label
 * com.fcstart.userns (host or private), prewarm, readiness and
 * ready_timeout_ms from com.fcstart.prewarm, com.openfaas.health.http.path
 * and com.fcstart.ready-timeout where the spec has none, then the defaults
 * (FCPOOL_DEFAULT_MEMORY, _PIDS, _TIMEOUT_MS) for what is still 0; a label
 * that is not a count or a duration is refused, naming it. The daemon does it
 * for every deployed spec. */
int fcpool_fn_spec_limits(struct fcpool_fn_spec *s, struct fc_error **err);
/* Refuse, naming the field, what the daemon refuses: a bad name, no image,
 * scale bounds out of 0 <= min <= max, 1 <= max <= 10000, a memory limit
 * below FCPOOL_MIN_MEMORY, cpus below FCPOOL_MIN_CPUS, pids above
 * FCPOOL_MAX_PIDS (0 in memory, timeout_ms and pids: the default), fork mode
 * with userns_host, a readiness path that is not an absolute URL path. */
int fcpool_fn_spec_check(const struct fcpool_fn_spec *s, struct fc_error **err);
/* JSON document of a spec and back (labels, then explicit "min"/"max", then
 * the checks above; the parsed spec has the defaults filled in, and the
 * labels com.fcstart.pids and com.fcstart.timeout set pids and timeout_ms
 * where the document does not). */
void fcpool_fn_spec_json(const struct fcpool_fn_spec *s, struct fc_buf *out);
int fcpool_fn_spec_parse(const char *json, struct fcpool_fn_spec *s, struct fc_error **err);
/* Valid function name: [a-z0-9][a-z0-9_.-]{0,62}. */
bool fcpool_name_valid(const char *name);
/* Valid secret name (a file name under /var/openfaas/secrets, as Kubernetes
 * allows it): [a-zA-Z0-9_.-]{1,253}, not . or .. */
bool fcpool_secret_name_valid(const char *name);

struct fcpool_serve_opts {
	const char *root;        /* NULL: FCPOOL_DEFAULT_ROOT */
	const char *store;       /* NULL: $FCSTART_STORE or the snapshot default */
	const char *socket;      /* NULL: <root>/fcstart.sock */
	unsigned idle_timeout_s; /* reap waiting sandboxes above min after this; 0: 300 */
	unsigned queue_max;      /* pending invocations per function beyond max; 0: 64 */
	const char *http;        /* "127.0.0.1:8081" or NULL: no HTTP gateway */
	/* USER:PASSWORD of the gateway's /system/... routes; NULL: <root>/basic-auth,
	 * created (user admin, a random password, mode 0600) when absent */
	const char *basic_auth_file;
	uint64_t max_body; /* bytes of a gateway request body, beyond: 413; 0: 8 MiB */
	/* gateway connections at once (0: FCPOOL_DEFAULT_MAX_CONNECTIONS); when
	 * they run out, the one that waited longest for a request goes */
	unsigned max_connections;
	/* a request's head must come within this of a connection's accept or its
	 * last answer (0: FCPOOL_DEFAULT_HEADER_TIMEOUT_MS) */
	uint64_t header_timeout_ms;
	/* a connection that sends or takes nothing for this long is closed
	 * (0: FCPOOL_DEFAULT_CONN_IDLE_TIMEOUT_MS) */
	uint64_t conn_idle_timeout_ms;
	unsigned fork_servers; /* processes creating sandboxes in parallel; 0: 2 */
};
/* Run the daemon until SIGTERM or SIGINT: recover what a previous run under
 * root left, start the fork server, serve the API. */
int fcpool_serve(const struct fcpool_serve_opts *o, struct fc_error **err);

/* Remove every sandbox, mount, cgroup and process a previous daemon under
 * root left behind. *removed counts the sandboxes. */
int fcpool_recover(const char *root, unsigned *removed, struct fc_error **err);
/* The same for `fcstart serve --cleanup`: refuses (-EBUSY) while a daemon
 * holds the root's lock. */
int fcpool_cleanup(const char *root, unsigned *removed, struct fc_error **err);

/* ---- client: typed calls to the daemon's socket (docs/api.md) -------------
 * socket_path NULL: $FCSTART_SOCKET, else FCPOOL_DEFAULT_SOCKET. A refusal of
 * the daemon comes back as an error with the daemon's errno and message. */

int fcpool_client_ping(const char *socket_path, struct fc_error **err);
/* Deploy a function, or replace the spec of a deployed one (its waiting
 * sandboxes are remade, running ones finish). */
int fcpool_client_deploy(const char *socket_path, const struct fcpool_fn_spec *spec,
                         struct fc_error **err);
/* Remove a function: queued invocations fail, every sandbox is killed. */
int fcpool_client_rm(const char *socket_path, const char *name, struct fc_error **err);
/* New pool bounds; a negative min or max keeps that one. */
int fcpool_client_scale(const char *socket_path, const char *name, long min, long max,
                        struct fc_error **err);

/* A latency distribution in microseconds; n == 0: no sample. */
struct fcpool_latency {
	size_t n;
	double p50, p95, p99, max;
};
/* One function as `fcstart fn ls` and `fcstart stats` show it. */
struct fcpool_fn_status {
	struct fcpool_fn_spec spec; /* ls: the deployed spec; stats: its name only */
	/* waiting: sandboxes ready for an invocation (exec mode: created, not
	 * started; started and fork modes: started, ready and idle); starting:
	 * started or forked, not ready yet */
	unsigned min, max, waiting, creating, running, queued, starting;
	uint64_t handovers, requests, on_demand, creates, create_failures, handover_failures, busy,
	    reaped;
	/* instances (and templates) that were not ready within the deadline or
	 * exited before; the last such failure, "" if none */
	uint64_t ready_failures;
	char last_error[384];
	/* fork mode: the template ("none", "creating", "starting", "ready"),
	 * how many were made and how many failed or crashed */
	char template_state[16];
	uint64_t templates, template_failures;
	/* stats only: memory (bytes of their cgroups) and CPU time (ms, since
	 * each was made) of the waiting and starting instances, and of the
	 * template; 0 when unknown */
	uint64_t waiting_memory, waiting_cpu_ms, template_memory, template_cpu_ms;
	/* stats only: the mean creation time, and over the last 8192: the
	 * hand-over round trip, hand-over to exec, creation in the fork server */
	double create_ms_mean;
	struct fcpool_latency handover_us, exec_us, create_us;
	/* started and fork modes: from an instance's creation until it was ready */
	struct fcpool_latency ready_us;
};
/* stats with usage: what the host gives, kernel included (/proc/meminfo, in
 * KiB), now and when the daemon started, and how many sandboxes the daemon
 * holds (every state, templates too). The change since the start divided by
 * the sandboxes held is the host's cost of a sandbox, other work on the host
 * included. */
struct fcpool_host {
	bool known;
	int64_t mem_available_kib, slab_kib, sunreclaim_kib;
	int64_t start_mem_available_kib, start_slab_kib, start_sunreclaim_kib;
	unsigned sandboxes;
};
struct fcpool_fn_list {
	bool stats; /* the answer to stats, else to ls */
	size_t n;
	struct fcpool_fn_status *fns;
	struct fcpool_host host;
};
void fcpool_fn_list_clear(struct fcpool_fn_list *l);
/* The daemon's answer: {"ok":true,"functions":[...]} (docs/api.md). */
void fcpool_fn_list_json(const struct fcpool_fn_list *l, struct fc_buf *out);
int fcpool_client_ls(const char *socket_path, struct fcpool_fn_list *out, struct fc_error **err);
int fcpool_client_stats(const char *socket_path, struct fcpool_fn_list *out, struct fc_error **err);
/* stats with the memory and CPU of each function's waiting and starting
 * instances and its template (the daemon reads every such sandbox's cgroup:
 * the benchmarks poll with fcpool_client_stats instead). */
int fcpool_client_usage(const char *socket_path, struct fcpool_fn_list *out, struct fc_error **err);

/* An invocation. A classic function needs stdio, its stdin, stdout and
 * stderr; an HTTP function ignores them. */
struct fcpool_invoke_args {
	const char *name;
	char **env;   /* KEY=VALUE for this invocation only, or NULL */
	int stdio[3]; /* all three, or -1 each: none sent */
};
/* What happens to an invocation, in order: STARTED then EXIT (classic), or
 * CONNECTED (HTTP); or ERROR. */
enum fcpool_event_kind {
	FCPOOL_EV_STARTED = 1, /* a classic function was handed over and runs */
	FCPOOL_EV_CONNECTED,   /* an HTTP instance accepted: sock is connected to it */
	FCPOOL_EV_EXIT,        /* the classic function ended */
	FCPOOL_EV_ERROR,       /* refused or failed (a client gets an error instead) */
};
struct fcpool_event {
	enum fcpool_event_kind kind;
	char id[96]; /* STARTED, CONNECTED: the sandbox */
	double
	    handover_us;   /* STARTED, CONNECTED: the hand-over's round trip (0: a warm instance) */
	double exec_us;    /* STARTED: from the hand-over to the function's execve (0: unknown) */
	double wait_us;    /* STARTED, CONNECTED: from the request to the hand-over */
	double ready_us;   /* CONNECTED: from the hand-over until the instance accepted (0: warm) */
	bool on_demand;    /* no sandbox was waiting: one was made for it */
	bool cold;         /* CONNECTED: the instance's first request */
	int status;        /* EXIT: the exit status, 128+N when killed by signal N */
	int signal;        /* EXIT: N, or 0 */
	bool timeout;      /* EXIT: the function's timeout killed it */
	int errnum;        /* ERROR */
	const char *error; /* ERROR: the message (the sender's) */
	int sock;          /* CONNECTED: the receiver's to use and close; else -1 */
};
/* The event as the daemon sends it (docs/api.md). */
void fcpool_event_json(const struct fcpool_event *ev, struct fc_buf *out);
/* Send an invocation; returns its connection (the caller closes it), from
 * which fcpool_client_event reads its events. Closing it ends the
 * invocation: a running classic function is killed, an HTTP instance freed. */
int fcpool_client_invoke(const char *socket_path, const struct fcpool_invoke_args *a,
                         struct fc_error **err);
/* The next event of an invocation; -ECONNRESET when the daemon closed the
 * connection first. */
int fcpool_client_event(int conn, struct fcpool_event *ev, struct fc_error **err);

/* ---- logs: what a function's instances wrote (stdout and stderr) ---------- */

struct fcpool_log_line {
	char *instance;   /* the sandbox */
	uint64_t time_ns; /* when the line came (CLOCK_REALTIME) */
	char *text;
};
struct fcpool_log_batch {
	bool end; /* no more lines (without follow: after the last) */
	size_t n;
	struct fcpool_log_line *lines;
};
void fcpool_log_batch_clear(struct fcpool_log_batch *b);
/* Ask for a function's log: the last tail lines (-1: all the daemon keeps),
 * then, with follow, the lines as they come. Returns the connection (the
 * caller closes it: that ends a follow) to read with fcpool_client_log_next. */
int fcpool_client_logs(const char *socket_path, const char *name, long tail, bool follow,
                       struct fc_error **err);
/* The next batch of lines (b->end once there are no more). */
int fcpool_client_log_next(int conn, struct fcpool_log_batch *b, struct fc_error **err);

/* Parse "128m", "1g", "65536" (bytes, below 2^63; -EINVAL otherwise). */
int fcpool_parse_size(const char *s, uint64_t *out);
/* Parse "30s", "500ms", "2m", "1h" into milliseconds (at most 1e12). */
int fcpool_parse_duration(const char *s, uint64_t *ms);

#endif
