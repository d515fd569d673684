/* SPDX-License-Identifier: MIT */
/* zygote.h: fork mode in the fork server (docs/initialized.md): a
 * function's template, started with a control socket as its stdin, and the
 * instances forked from it, each moved into a sandbox the fork server made
 * for it. */
#ifndef FCPOOL_ZYGOTE_H
#define FCPOOL_ZYGOTE_H

#include <poll.h>

#include "fsproto.h"

struct bundle;
struct fcrt_container;
struct fcrt_profile;

/* Start the template sandbox c (made from its function's bundle, waiting):
 * its process gets a control socket as stdin, the fork server's stderr as
 * stdout and stderr. */
int zygote_start(const char *id, struct fcrt_container *c, struct fc_error **err);
/* FS_FORK: make the instance's sandbox (its init, *out, holds its
 * namespaces and waits: the daemon holds its start socket), have the
 * template m->text fork a process that joins it, move that into the
 * instance's cgroup. */
int zygote_fork(const struct fs_msg *m, struct bundle *b, const char *rt_root,
                const char *mountpoint, struct fcrt_profile *prof, struct fcrt_container **out,
                struct fc_error **err);
/* How many descriptors zygote_pollfds gives at most. */
size_t zygote_nfds(void);
/* The descriptors to poll (templates' control sockets, instances'
 * pidfds): at most max from p; returns how many. */
size_t zygote_pollfds(struct pollfd *p, size_t max);
/* After poll: a template that reached ready() is reported to the daemon
 * (FS_READY); an instance's process that exited has its sandbox's init
 * killed (its exit is reported as the sandbox's). */
void zygote_events(int sock, const struct pollfd *p, size_t n);
/* A sandbox's init pid was reaped with *status: an instance's is its
 * process's, when its template reported it. */
void zygote_status(pid_t pid, int *status);
/* A sandbox's init was reaped: a template is forgotten, an instance's
 * process is killed. */
void zygote_reaped(pid_t pid);

#endif
