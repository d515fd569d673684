/* SPDX-License-Identifier: MIT */
/* metrics.h: the gateway's counters and their Prometheus exposition
 * (metrics.c). */
#ifndef FCPOOL_METRICS_H
#define FCPOOL_METRICS_H

#include "gw-http.h"

#ifdef FC_HAVE_MHD
struct gw_metrics *gw_metrics_new(void);
void gw_metrics_free(struct gw_metrics *m);
/* An invocation of fn ended with status after seconds. */
void gw_metrics_invocation(struct gw_metrics *m, const char *fn, unsigned status, double seconds,
                           bool cold);
/* The Prometheus text exposition of the counters and the pools. */
void gw_metrics_render(struct gw_metrics *m, struct daemon *d, struct fc_buf *out);

#endif /* FC_HAVE_MHD */
#endif
