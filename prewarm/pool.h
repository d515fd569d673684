/* SPDX-License-Identifier: MIT */
/* pool.h: the pool core. Functions, their sandboxes and invocations, the
 * queue, dispatch, refill, scale and idle reaping, as a state machine with no
 * I/O, no clock and no globals. Whoever drives it (the daemon; a unit test
 * with a fake fork server) feeds it events: a sandbox was created, failed or
 * exited; an invocation arrived or its owner let go; time passed. It answers
 * through a small table of callbacks: create a sandbox, kill one, hand one
 * over, connect to an HTTP instance, reply to an invocation. Every entry point
 * takes the time (CLOCK_MONOTONIC, ns) as an argument.
 *
 * Callbacks run inside the entry point that caused them. From a reply the
 * owner may call pool_release() on that invocation; no callback calls any
 * other pool_* function. The structs below are read-only outside pool.c. */
#ifndef FCPOOL_POOL_H
#define FCPOOL_POOL_H

#include "fcpool.h"

#define POOL_LAT_RING 8192 /* latencies kept per function for the stats */

struct pool;

enum pool_sb_state {
	POOL_SB_CREATING = 0, /* asked for, not yet reported created */
	POOL_SB_WAITING,      /* exec mode: created, its init waits for the hand-over */
	POOL_SB_RUNNING,      /* handed over: the function runs (or serves) */
	POOL_SB_STARTING,     /* started or fork mode: started, its init runs, not ready yet */
	POOL_SB_READY,        /* started or fork mode: initialized and ready, idle */
};

/* Fork mode: a function's template runs its init once; its instances are
 * forked from it. A template goes CREATING -> STARTING -> READY like an
 * instance, is never handed over, reaped or counted in min, max or the
 * states' counts. */
enum pool_sb_role { POOL_ROLE_INSTANCE = 0, POOL_ROLE_TEMPLATE };

struct pool_sb {
	char id[96];
	struct pool_fn *fn;
	enum pool_sb_role role;
	/* fork mode, an instance: the template it was sent to be forked from
	 * (set when its creation is sent; NULL once that template is gone) */
	struct pool_sb *tmpl;
	enum pool_sb_state state;
	unsigned creator;     /* the creator (fork server) that makes it */
	bool sent;            /* its creation went to the creator */
	bool killed;          /* it was told to go */
	bool old;             /* an instance of a replaced spec: counted apart, no new request */
	uint64_t t_state;     /* when it entered its state */
	uint64_t t_created;   /* when it was reported created */
	struct pool_inv *inv; /* the invocation it serves */
	/* an HTTP instance serves one request at a time */
	bool http_ready; /* it accepted a connection once */
	uint64_t last_used;
	void *data; /* the driver's (start socket, ...): freed in ops->sandbox_gone */
	struct pool_sb *next;
};

enum pool_inv_state {
	POOL_INV_NEW = 0,
	POOL_INV_QUEUED,     /* waits for a sandbox */
	POOL_INV_CONNECTING, /* HTTP: an instance is being connected to */
	POOL_INV_RUNNING,    /* classic: the function runs; HTTP: connected */
	POOL_INV_DONE,       /* replied EXIT or ERROR, or released: forgotten */
};

/* An invocation: memory of its owner (embed it; zero it, set t_arrived, pass it
 * to pool_invoke). The core links it while it is queued or running. */
struct pool_inv {
	uint64_t t_arrived; /* when the request came (the owner's) */
	/* the core's */
	enum pool_inv_state state;
	struct pool_fn *fn;
	struct pool_sb *sb;
	uint64_t t_started, deadline, handover_ns;
	bool on_demand, timed_out;
	unsigned tries; /* failed hand-overs */
	struct pool_inv *qnext;
};

struct pool_fn {
	struct fcpool_fn_spec spec;
	struct pool_sb *sandboxes;
	unsigned n_waiting, n_creating, n_running, n_starting, n_ready;
	struct pool_inv *queue, **queue_tail;
	unsigned n_queued;
	bool removing;
	uint64_t retry_after; /* after a failed creation: refill only for queued invocations */
	/* fork mode: the template of the current spec (NULL: none yet, or it
	 * died); a template made for an older spec stays while instances of it
	 * run, then goes */
	struct pool_sb *tmpl;
	uint64_t templates, template_failures; /* made; failed, or died unasked */
	uint64_t last_sent; /* when a creation of its went to a creator (a sequence number) */
	/* counters */
	uint64_t handovers, requests, on_demand, creates, create_failures, handover_failures, busy,
	    reaped, create_ns_sum, ready_failures;
	unsigned fail_streak; /* readiness failures in a row: the back-off doubles with each */
	char last_error[384]; /* the last readiness failure, as reported */
	/* ns: hand-over round trip, hand-over to exec (0: unknown), creation,
	 * creation to ready (started and fork modes) */
	uint64_t lat[POOL_LAT_RING], lat_exec[POOL_LAT_RING], lat_create[POOL_LAT_RING],
	    lat_ready[POOL_LAT_RING];
	uint64_t n_lat, n_create, n_ready_lat;
	struct pool_fn *next;
};

/* The times of a hand-over, measured by the driver. */
struct pool_handover {
	uint64_t t_start, t_done; /* around the start of the sandbox */
	uint64_t exec_ns;         /* the sandbox's clock before its execve, 0: not reported */
};

struct pool_ops {
	/* Make sb (sb->id, of sb->fn) on creator sb->creator; the answer comes
	 * back as pool_sandbox_created() or pool_sandbox_failed(). A template
	 * (sb->role) is made and started; a fork-mode instance is forked from
	 * sb->tmpl, whose creator sb->creator is. */
	void (*create)(void *ctx, struct pool_sb *sb);
	/* Kill sb, whose creation was sent (it may still be under way); the
	 * answer comes back as pool_sandbox_exited(). */
	void (*kill)(void *ctx, struct pool_sb *sb);
	/* Start the waiting sb for inv, now; 0 or -errno (then sb is killed). */
	int (*handover)(void *ctx, struct pool_sb *sb, struct pool_inv *inv,
	                struct pool_handover *h);
	/* Connect inv to the started HTTP instance sb; the answer comes back as
	 * pool_http_connected() or pool_http_failed(), never from inside. */
	void (*connect)(void *ctx, struct pool_sb *sb, struct pool_inv *inv);
	/* Tell inv's owner: STARTED, CONNECTED (ev->sock is -1: the driver
	 * adds the socket), EXIT or ERROR. After EXIT and ERROR the core has
	 * forgotten inv. */
	void (*reply)(void *ctx, struct pool_inv *inv, const struct fcpool_event *ev);
	/* The core forgets sb (free sb->data). */
	void (*sandbox_gone)(void *ctx, struct pool_sb *sb);
	/* A removed function's last sandbox is gone: the core forgets it. */
	void (*function_gone)(void *ctx, struct pool_fn *f);
	/* Started and fork modes: sb was made and started; find out when it is
	 * ready (its port accepts, its readiness path answers 200, its helper
	 * says so). 1: it is now; 0: the answer comes back as
	 * pool_sandbox_ready(), never from inside. Not ready within the
	 * function's ready timeout, it is killed. */
	int (*probe)(void *ctx, struct pool_sb *sb);
	/* What the operator should hear of (a sandbox, sb or NULL, that was not
	 * ready in time, or died): the driver logs it. */
	void (*notice)(void *ctx, struct pool_fn *f, struct pool_sb *sb, const char *msg);
};

struct pool_config {
	/* sandbox ids: <id_prefix><function>-<id_tag>.<n> */
	const char *id_prefix, *id_tag;
	unsigned creators;      /* creators (fork servers) making sandboxes in parallel */
	unsigned creator_slots; /* creations in one creator's hands at once */
	uint64_t idle_ns;       /* waiting sandboxes above min, idle HTTP instances: reaped after */
	uint64_t queue_wait_ns; /* a queued invocation fails "busy" after this */
	unsigned queue_max;     /* queued invocations per function, unless its spec says */
	uint64_t retry_ns;      /* after a failed creation, refill waits this long; after
	                         * readiness failures in a row, 1, 2, 4 ... 64 times it */
};

struct pool *pool_new(const struct pool_config *cfg, const struct pool_ops *ops, void *ctx);
/* Forget everything (ops->sandbox_gone for each sandbox; no reply). */
void pool_free(struct pool *p);

/* ---- functions --------------------------------------------------------- */

/* A deployed function, not being removed; NULL if none. */
struct pool_fn *pool_fn_find(struct pool *p, const char *name);
/* The deployed functions (not being removed): first, then next. */
struct pool_fn *pool_fn_first(struct pool *p);
struct pool_fn *pool_fn_next(struct pool_fn *f);
/* -EBUSY while a function of that name is being removed. */
int pool_deploy_check(struct pool *p, const char *name, struct fc_error **err);
/* Deploy spec (taken on success), or replace a deployed function's: the new
 * spec's sandboxes are asked for at once (the old ones are not counted in its
 * min, max or states); old sandboxes not serving a request go, those serving
 * one finish it, then go; no new request reaches an old one. */
int pool_deploy(struct pool *p, struct fcpool_fn_spec *spec, uint64_t now, struct fc_error **err);
/* Queued invocations fail (ENOENT), every sandbox is killed; the function is
 * forgotten (ops->function_gone) once they are all gone. */
void pool_remove(struct pool *p, struct pool_fn *f, uint64_t now);
/* New bounds: waiting sandboxes above max go at once, above min once idle. */
int pool_scale(struct pool *p, struct pool_fn *f, double min, double max, uint64_t now,
               struct fc_error **err);
/* Its state and counters (out->spec is borrowed: do not clear it); with
 * stats, the latency distributions too. */
void pool_fn_status(const struct pool_fn *f, bool stats, struct fcpool_fn_status *out);

/* ---- sandboxes: the creators' answers ---------------------------------- */

struct pool_sb *pool_sandbox_find(struct pool *p, const char *id);
void pool_sandbox_created(struct pool *p, struct pool_sb *sb, uint64_t create_ns, uint64_t now);
void pool_sandbox_failed(struct pool *p, struct pool_sb *sb, int errnum, const char *msg,
                         uint64_t now);
/* wait_status as waitpid(2) gives it. */
void pool_sandbox_exited(struct pool *p, struct pool_sb *sb, int wait_status, uint64_t now);
/* Started and fork modes: the probe found sb ready; a template: its helper
 * reached fcstart.ready(). */
void pool_sandbox_ready(struct pool *p, struct pool_sb *sb, uint64_t now);

/* ---- invocations ------------------------------------------------------- */

/* inv wants a sandbox of f: handed one now, queued (bounded), or refused
 * (ERROR, EBUSY). */
void pool_invoke(struct pool *p, struct pool_fn *f, struct pool_inv *inv, uint64_t now);
void pool_http_connected(struct pool *p, struct pool_inv *inv, uint64_t now);
/* The instance could not be reached: it is killed, inv fails with msg. */
void pool_http_failed(struct pool *p, struct pool_inv *inv, int errnum, const char *msg,
                      uint64_t now);
/* inv's owner lets go (its client left, its HTTP request is done): a queued
 * invocation leaves the queue, a running classic function is killed, an HTTP
 * instance is free for the next request (killed if it never accepted). No
 * reply follows. */
void pool_release(struct pool *p, struct pool_inv *inv, uint64_t now);

/* ---- time -------------------------------------------------------------- */

/* Invocation timeouts, queue waits, readiness deadlines, idle reaping, refill
 * after a back-off. */
void pool_tick(struct pool *p, uint64_t now);

#endif
