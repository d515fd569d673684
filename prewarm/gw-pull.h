/* SPDX-License-Identifier: MIT */
/* gw-pull.h: a deployment's image pulled before the deploy (gw-pull.c). */
#ifndef FCPOOL_GW_PULL_H
#define FCPOOL_GW_PULL_H

#include "gw-http.h"

#ifdef FC_HAVE_MHD
/* Pull ref into the daemon's store (daemon_pulls: a child `fcstart image
 * pull`, or the pull of ref under way), q suspended meanwhile (the daemon
 * serves the rest); q is resumed at the pull's end, its route then asks
 * gw_pull_result. */
int gw_pull_start(struct gw_req *q, const char *ref, struct fc_error **err);
/* q's pull: -1 none, 0 under way, 1 done (*err: why it failed, or NULL). */
int gw_pull_result(struct gw_req *q, struct fc_error **err);
/* The request is over: a pull under way goes on (a deploy tried again
 * finds its image, or joins it). */
void gw_pull_free(struct gw_req *q);

#endif /* FC_HAVE_MHD */
#endif
