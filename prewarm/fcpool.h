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
 *   sandboxes/<id>/        per-sandbox tmpfs: upper, work, rootfs (overlay)
 * Every sandbox id starts with "fcs-<tag>-" where tag is a hash of the root,
 * so its cgroup (/fcrun/<id> in every hierarchy) is found after a crash.
 * Every function returns >= 0 or -errno with *err set. */
#ifndef FCPOOL_H
#define FCPOOL_H

#include <stdbool.h>
#include <stdint.h>

#include "fc-util.h"

#define FCPOOL_DEFAULT_ROOT   "/run/fcstart"
#define FCPOOL_DEFAULT_SOCKET "/run/fcstart/fcstart.sock"
#define FCPOOL_DEFAULT_MIN    1
#define FCPOOL_DEFAULT_MAX    20
#define FCPOOL_MAX_MSG        65536

enum fcpool_mode { FCPOOL_CLASSIC = 0, FCPOOL_HTTP };

/* What `fcstart fn deploy` sends. */
struct fcpool_fn_spec {
	char *name;
	char *image;
	enum fcpool_mode mode;
	char **env;          /* KEY=VALUE */
	char **labels;       /* KEY=VALUE */
	char **args;         /* NULL: the image's entrypoint + cmd */
	uint64_t memory;     /* bytes, 0 = unlimited */
	double cpus;         /* 0 = unlimited */
	uint64_t timeout_ms; /* per invocation, 0 = none */
	unsigned min, max;   /* from the labels com.openfaas.scale.min/max */
	unsigned queue; /* label com.fcstart.queue: invocations that may wait; 0: the daemon's */
};
void fcpool_fn_spec_clear(struct fcpool_fn_spec *s);
/* JSON document of a spec and back. */
void fcpool_fn_spec_json(const struct fcpool_fn_spec *s, struct fc_buf *out);
int fcpool_fn_spec_parse(const char *json, struct fcpool_fn_spec *s, struct fc_error **err);
/* Valid function name: [a-z0-9][a-z0-9_.-]{0,62}. */
bool fcpool_name_valid(const char *name);

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

/* ---- client ------------------------------------------------------------ */

/* Connect to the daemon's socket (NULL: $FCSTART_SOCKET or the default). */
int fcpool_connect(const char *socket_path, struct fc_error **err);
/* Send one request (a JSON document) with up to 3 descriptors. */
int fcpool_send(int fd, const char *json, const int *fds, size_t nfds, struct fc_error **err);
/* Receive one reply (NUL-terminated JSON, caller frees); -ECONNRESET at EOF. */
int fcpool_recv(int fd, char **reply, struct fc_error **err);
/* The same, also taking up to *nfds descriptors that came with it (*nfds is
 * set to the number received). */
int fcpool_recv_fds(int fd, char **reply, int *fds, size_t *nfds, struct fc_error **err);
/* Request and single reply; a reply with "ok":false becomes an error. */
int fcpool_call(const char *socket_path, const char *json, char **reply, struct fc_error **err);

/* Parse "128m", "1g", "65536" (bytes). */
int fcpool_parse_size(const char *s, uint64_t *out);
/* Parse "30s", "500ms", "2m", "1h" into milliseconds. */
int fcpool_parse_duration(const char *s, uint64_t *ms);

#endif
