/* SPDX-License-Identifier: MIT */
/* pool-private.h: shared between the daemon, the fork server and recovery. */
#ifndef POOL_PRIVATE_H
#define POOL_PRIVATE_H

#include <yajl/yajl_tree.h>

#include "fcpool.h"

/* Daemon <-> fork server messages (SOCK_SEQPACKET socketpair). */
enum fs_type {
	FS_CREATE = 1, /* daemon: id, fn */
	FS_KILL,       /* daemon: id */
	FS_CREATED,    /* server: id, pid, the sync socket travels with it */
	FS_FAILED,     /* server: id, err, text = message */
	FS_EXITED,     /* server: id, status (wait status) */
};
struct fs_msg {
	uint32_t type;
	int32_t pid;
	int32_t status;
	int32_t err;
	uint64_t ns; /* FS_CREATED: creation time */
	char id[96];
	char fn[128];
	char text[3584];
};

/* The fork server's main loop (never returns). */
void fs_main(int sock, const char *root) __attribute__((noreturn));
int fs_send(int fd, const struct fs_msg *m, int pass_fd);
/* Without blocking and without a descriptor: -EAGAIN when the socket is full. */
int fs_send_nb(int fd, const struct fs_msg *m);
/* Receive; *fd gets a passed descriptor or -1. 0 at EOF. */
ssize_t fs_recv(int fd, struct fs_msg *m, int *pass_fd);

/* <root>/sandboxes/<id> teardown: unmount rootfs and tmpfs, remove the dir. */
void sandbox_dir_remove(const char *root, const char *id);
/* "fcs-<8 hex>-" for a root. */
char *sandbox_prefix(const char *root);

/* Write <root>/functions/<name>/config.json for a spec and its image, and
 * beside it `layers`: the image's layer dirs, a line each, lowest first (the
 * fork server's overlay lower dirs). */
struct fcsnap_store;
int fn_prepare(struct fcsnap_store *st, const char *root, const struct fcpool_fn_spec *s,
               struct fc_error **err);

/* yajl helpers */
/* A JSON object of the API (a request, a gateway body), its nesting checked
 * first (fc_json_check_depth): NULL with *err set ("WHAT: exceeded max depth
 * ..." or "WHAT: not a JSON object"). */
yajl_val js_parse(const char *json, const char *what, struct fc_error **err);
const char *js_str(yajl_val v, const char *key);
bool js_num(yajl_val v, const char *key, double *out);
char **js_strv(yajl_val v, const char *key);

#endif
