/* SPDX-License-Identifier: MIT */
/* forkserver.h: the fork servers, single-threaded processes the daemon
 * starts before anything else, which make every sandbox (and are its parent
 * and reaper) and tear it down (their messages with the daemon: fsproto.h). */
#ifndef FCPOOL_FORKSERVER_H
#define FCPOOL_FORKSERVER_H

#include "fsproto.h"

/* The fork server's main loop (never returns). */
void fs_main(int sock, const char *root) __attribute__((noreturn));

#endif
