/* SPDX-License-Identifier: MIT */
/* fsproto.h: what the daemon, the fork servers and recovery share about
 * sandboxes: the daemon <-> fork server messages, the sandbox directories
 * (which recovery also removes) and their ids, a sandbox's loopback. */
#ifndef FCPOOL_FSPROTO_H
#define FCPOOL_FSPROTO_H

#include <sys/types.h>

#include "fcpool.h"

/* Daemon <-> fork server messages (SOCK_SEQPACKET socketpair). */
enum fs_type {
	FS_CREATE = 1, /* daemon: id, fn */
	FS_KILL,       /* daemon: id */
	FS_CREATED,    /* server: id, pid; the sync socket (or a started instance's
	                * channel) and the init's pidfd travel with it */
	FS_FAILED,     /* server: id, err, text = message */
	FS_EXITED,     /* server: id, status (wait status) */
	FS_DEPLOY,     /* daemon: fn; a memfd with the bundle's text (bundle.h) travels with it */
	FS_FORGET,     /* daemon: fn (removed) */
	FS_TEMPLATE,   /* daemon: id, fn: make and start fn's template (fork mode) */
	FS_FORK,       /* daemon: id, fn, text = the template's id: fork an instance */
	FS_READY,      /* server: id (a template reached fcstart.ready()) */
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

/* Send m with pass_fd (-1: none); nonblock: -EAGAIN when the socket is full
 * (the daemon never blocks on a fork server, which may block on it). */
int fs_send(int fd, const struct fs_msg *m, int pass_fd, bool nonblock);
/* The same with two descriptors (pass_fd2 -1: one). */
int fs_send2(int fd, const struct fs_msg *m, int pass_fd, int pass_fd2, bool nonblock);
/* Receive; *fd gets a passed descriptor or -1. 0 at EOF. */
ssize_t fs_recv(int fd, struct fs_msg *m, int *pass_fd);
/* The same, a second passed descriptor in *pass_fd2 (or -1); more are closed. */
ssize_t fs_recv2(int fd, struct fs_msg *m, int *pass_fd, int *pass_fd2);

/* <root>/sandboxes/<id> (an older fcstart's mounts of a sandbox) teardown:
 * unmount rootfs and tmpfs, remove the dir. */
void sandbox_dir_remove(const char *root, const char *id);
/* "fcs-<8 hex>-" for a root. */
char *sandbox_prefix(const char *root);
/* Bring lo up in the network namespace of pid (the runtime leaves it down). */
int fs_loopback_up(pid_t pid, struct fc_error **err);

#endif
