/* SPDX-License-Identifier: MIT */
/* daemon.h: the daemon behind `fcstart serve` as its front ends (api.c, the
 * unix-socket API; gateway.c, the OpenFaaS gateway) see it: functions to
 * deploy, remove, scale and list, and invocations whose events come back
 * through a callback. daemon.c drives the pool core (pool.c) and does its I/O:
 * the fork servers that make and tear down sandboxes, hand-overs, connections
 * to HTTP instances, function.json. */
#ifndef FCPOOL_DAEMON_H
#define FCPOOL_DAEMON_H

#include "fcpool.h"
#include "loop.h"

struct daemon;
struct daemon_inv;

/* Take the root's lock, remove what a previous run left, start the fork
 * servers (before anything else: the daemon never forks once it serves),
 * open the store and reload the deployed functions. */
int daemon_new(const struct fcpool_serve_opts *o, struct loop *l, struct daemon **out,
               struct fc_error **err);
/* Stop: every sandbox is killed and removed, the root left clean. */
void daemon_free(struct daemon *d);
const char *daemon_root(const struct daemon *d);
const char *daemon_store_path(const struct daemon *d);

/* Whether deploying spec would pull its image (a reference whose pull policy
 * is always, or missing, the default, and the store lacks it): 1 and *ref
 * (freed by the caller), else 0, so that a front end can have it pulled
 * beforehand without holding the loop up (daemon_pulls), then deploy with
 * daemon_deploy_pulled. */
int daemon_image_to_pull(struct daemon *d, const struct fcpool_fn_spec *spec, char **ref);
/* The pulls of images for deploys (pulls.h), shared by the front ends. */
struct pulls *daemon_pulls(struct daemon *d);
/* Deploy spec (taken on success), or replace a deployed function's. */
int daemon_deploy(struct daemon *d, struct fcpool_fn_spec *spec, struct fc_error **err);
/* daemon_deploy once spec's image was pulled for it: not pulled again. */
int daemon_deploy_pulled(struct daemon *d, struct fcpool_fn_spec *spec, struct fc_error **err);
/* -ENOENT "no function `NAME`" when it is not deployed. */
int daemon_remove(struct daemon *d, const char *name, struct fc_error **err);
int daemon_scale(struct daemon *d, const char *name, double min, double max, struct fc_error **err);
/* One function (name) or all (NULL), with the stats or not. The specs are
 * borrowed: free the list with daemon_list_free, and before anything else is
 * asked of the daemon. */
int daemon_list(struct daemon *d, const char *name, bool stats, struct fcpool_fn_list *out,
                struct fc_error **err);
void daemon_list_free(struct fcpool_fn_list *l);
/* Fill in the memory and CPU of l's waiting and starting instances (and
 * templates) from their cgroups (l from daemon_list with stats). */
void daemon_list_usage(struct daemon *d, struct fcpool_fn_list *l);
/* A deployed function's mode; -ENOENT "no function `NAME`". */
int daemon_fn_mode(struct daemon *d, const char *name, enum fcpool_mode *mode,
                   struct fc_error **err);

/* An invocation's events, in order: STARTED then EXIT (classic), or
 * CONNECTED (HTTP: ev->sock is the owner's now); or ERROR. No event comes
 * after EXIT or ERROR. */
typedef void daemon_event_fn(void *owner, const struct fcpool_event *ev);
struct daemon_invoke_args {
	const char *name;
	uint64_t t_arrived; /* when the request came */
	/* classic: the function's stdin, stdout, stderr (taken); a stderr of -1
	 * goes to the function's log (stdin -1: /dev/null) */
	int stdio[3];
	char **env; /* KEY=VALUE for this invocation (taken), or NULL */
	daemon_event_fn *event;
	void *owner;
};
/* -ENOENT "no function `NAME`" when it is not deployed. *inv is set before
 * the first event, which may come from inside. */
int daemon_invoke(struct daemon *d, struct daemon_invoke_args *a, struct daemon_inv **inv,
                  struct fc_error **err);
/* The owner lets go, once, also after EXIT or ERROR (from an event too): a
 * queued invocation leaves the queue, a running classic function is killed,
 * an HTTP instance is freed for the next request. No event follows. */
void daemon_release(struct daemon *d, struct daemon_inv *inv);
/* daemon_release, giving back the connection to the HTTP instance (taken) for
 * its next request: the exchange on it is complete and it stays open. */
void daemon_release_conn(struct daemon *d, struct daemon_inv *inv, int sock);
/* Whether the invocation's timeout ended it (its sandbox is being killed). */
bool daemon_inv_timed_out(const struct daemon_inv *inv);

/* ---- functions' logs (logs.h): what their instances write ---------------- */

struct logs_line;
/* The next line of fn's log at or after *seq; -ENOENT none yet. */
int daemon_log_next(struct daemon *d, const char *fn, uint64_t *seq, struct logs_line *line);
/* Where the last n lines of fn's log begin (0: the next line to come). */
uint64_t daemon_log_tail(struct daemon *d, const char *fn, uint64_t n);
/* wake(owner) from the loop when fn's log gets lines, until daemon_log_unwatch. */
struct logs_watch *daemon_log_watch(struct daemon *d, const char *fn, void (*wake)(void *),
                                    void *owner);
void daemon_log_unwatch(struct daemon *d, struct logs_watch *w);

/* ---- secrets (secrets.h) -------------------------------------------------- */

/* Create (update: false; -EEXIST when it exists) or update (true; -ENOENT
 * when it does not) a secret; an update reaches the functions that use it. */
int daemon_secret_set(struct daemon *d, const char *name, const void *value, size_t len,
                      bool update, struct fc_error **err);
int daemon_secret_remove(struct daemon *d, const char *name, struct fc_error **err);
/* The secrets' names (a vector the caller frees). */
int daemon_secret_list(struct daemon *d, char ***names, struct fc_error **err);

#endif
