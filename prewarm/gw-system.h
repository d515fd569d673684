/* SPDX-License-Identifier: MIT */
/* gw-system.h: the gateway's control routes, /system/... and /metrics
 * (gw-system.c). */
#ifndef FCPOOL_GW_SYSTEM_H
#define FCPOOL_GW_SYSTEM_H

#include "gw-http.h"

#ifdef FC_HAVE_MHD
/* GET/POST/PUT/DELETE /system/..., once the body is in (q->body). */
enum MHD_Result gw_system(struct gw_req *q, const char *url, const char *method);
void gw_logs_free(struct gw_req *q);

#endif /* FC_HAVE_MHD */
#endif
