/* SPDX-License-Identifier: MIT */
/* fake-daemon.h: daemon.h without a pool, for fuzz-gateway. Functions live in
 * memory; a classic function echoes its stdin (from the loop, as it comes)
 * and exits 0 at its end, an HTTP function's instance answers
 * fake_http_response (taken as it is) and closes. Secrets count as control
 * operations and are kept nowhere; logs are empty. */
#ifndef FC_FAKE_DAEMON_H
#define FC_FAKE_DAEMON_H

#include "daemon.h"
#include "loop.h"

struct daemon *fake_daemon_new(struct loop *l);
void fake_daemon_free(struct daemon *d);
/* The control operations (deploy, remove, scale) asked since the last reset. */
unsigned fake_daemon_controls(struct daemon *d);
void fake_daemon_reset(struct daemon *d);
/* What the next HTTP instance answers (NULL: a short 200 response). */
void fake_daemon_http_response(struct daemon *d, const void *data, size_t len);

#endif
