/* SPDX-License-Identifier: MIT */
/* daemon.h: the daemon's state (daemon.c: loop, pools; api.c: requests;
 * http.c: HTTP functions and the gateway). */
#ifndef FCPOOL_DAEMON_H
#define FCPOOL_DAEMON_H

#include <poll.h>

#include "pool-private.h"

#define FN_LAT_RING 8192

enum sb_state { SB_CREATING = 0, SB_WAITING, SB_RUNNING };
enum conn_state { C_IDLE = 0, C_QUEUED, C_RUNNING, C_DONE };

struct conn;
struct function;
struct fs_out {
	struct fs_msg m;
	struct fs_out *next;
};
/* FS_CREATE requests in one fork server's hands at once */
#define FS_MAX_INFLIGHT 2
#define FS_MAX          8
struct fserver {
	int fd;
	pid_t pid;
	/* messages that did not fit its socket yet: the daemon never blocks
	 * on a fork server (which blocks on us) */
	struct fs_out *outbox, **outbox_tail;
	unsigned inflight;
};

struct sandbox {
	char id[96];
	struct function *fn;
	pid_t pid;
	int sync_fd; /* start socket while waiting */
	enum sb_state state;
	bool killed;
	bool sent;           /* its FS_CREATE went to the fork server */
	unsigned fs;         /* which fork server made it */
	uint64_t t_state;    /* when it entered its state */
	struct conn *client; /* classic: the invocation it runs */
	/* http mode: a started instance serves one request at a time */
	int http_fd;     /* its network namespace (-1 until first used) */
	bool http_ready; /* accepted a connection once */
	uint64_t last_used;
	struct sandbox *next;
};

struct conn {
	int fd;
	enum conn_state state;
	int fds[3];
	size_t nfds;
	char **env;
	char *body; /* http invocations: request body */
	size_t body_len;
	struct function *fn;
	struct sandbox *sb;
	int tcp_fd; /* http: connecting socket inside the sandbox's netns */
	uint64_t retry_at, connect_deadline, handover_ns;
	uint64_t t0, t_started, deadline;
	bool on_demand, timed_out, dead;
	struct gw_req *gw; /* an invocation through the HTTP gateway */
	int tries;
	struct conn *next, *qnext;
};

struct function {
	struct fcpool_fn_spec spec;
	struct sandbox *sandboxes;
	unsigned n_waiting, n_creating, n_running;
	struct conn *queue;
	unsigned n_queued;
	bool removing;
	uint64_t retry_after;
	/* stats */
	uint64_t handovers, requests, on_demand, creates, create_failures, handover_failures, busy,
	    reaped;
	uint64_t create_ns_sum, last_used;
	/* hand-over latencies, ns: lat until the sandbox's answer reached us
	 * (the round trip), lat_exec until the sandbox's own clock just before
	 * its execve (the hand-over proper; 0 when it did not report one) */
	uint64_t lat[FN_LAT_RING], lat_exec[FN_LAT_RING];
	uint64_t n_lat;
	/* sandbox creation times in the fork server, ns */
	uint64_t lat_create[FN_LAT_RING];
	uint64_t n_create;
	struct function *next;
};

struct daemon {
	char *root, *rt_root, *prefix, *sock_path;
	struct fcsnap_store *store;
	int listen_fd;
	uint64_t seq, idle_ns, queue_wait_ns;
	unsigned queue_max;
	struct function *fns;
	struct conn *conns;
	struct fserver fs[FS_MAX];
	unsigned nfs;
	int self_netns;
	bool stop;
};
extern struct daemon *D;

void conn_reply(struct conn *c, const char *json);
void conn_error(struct conn *c, int errnum, const char *fmt, ...) FC_PRINTF(3, 4);
void conn_finish(struct conn *c);
struct function *fn_find(const char *name);
unsigned fn_total(const struct function *f);
void fn_free(struct function *f);
int fn_deploy(struct fcpool_fn_spec *spec, struct fc_error **err);
void fn_remove(struct function *f);
int fn_scale(struct function *f, double mn, double mx, struct fc_error **err);
void sandbox_kill(struct sandbox *s);
void pool_fill(struct function *f);
void dispatch(struct function *f);
void queue_remove(struct function *f, struct conn *c);
void queue_invocation(struct function *f, struct conn *c);

void api_accept(void);
void api_on_readable(struct conn *c);

int handover(struct function *f, struct sandbox *s, struct conn *c);

/* http.c */
struct sandbox *http_idle_instance(struct function *f);
void http_assign(struct conn *c, struct sandbox *s);
void http_on_writable(struct conn *c);
void http_release(struct conn *c);
void http_on_exit(struct conn *c);
void http_reap_idle(struct function *f, uint64_t now);
/* retries of connections; returns the poll timeout (ms) that they need */
int http_tick(uint64_t now);
/* gateway.c: the OpenFaaS-compatible HTTP API (libmicrohttpd, driven from
 * the daemon's poll loop: no thread) */
/* the gateway on o->http: basic auth of its control routes from
 * o->basic_auth_file, request bodies up to o->max_body */
int http_gateway_start(const struct fcpool_serve_opts *o, struct fc_error **err);
void http_gateway_stop(void);
/* add its descriptors to pfd (at most max); returns how many */
size_t gw_poll_prepare(struct pollfd *pfd, size_t max, int *timeout);
void gw_poll_done(const struct pollfd *pfd, size_t n);
/* an internal invocation's reply (conn_reply of a gateway conn) */
void gw_on_reply(struct conn *c, const char *json);
/* an HTTP instance accepted the gateway's connection (takes the socket) */
void gw_on_connected(struct conn *c, int sock);
/* the conn goes away: forget it */
void gw_detach(struct conn *c);

#endif
