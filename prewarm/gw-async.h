/* SPDX-License-Identifier: MIT */
/* gw-async.h: the gateway's /async-function/NAME[/PATH] and its queue
 * (gw-async.c). */
#ifndef FCPOOL_GW_ASYNC_H
#define FCPOOL_GW_ASYNC_H

#include "gw-http.h"

#ifdef FC_HAVE_MHD
/* The queue under <root>/async, its worker; requests of a previous run. */
void gw_async_start(struct gateway *g);
void gw_async_stop(struct gateway *g);
enum MHD_Result gw_async_begin(struct gw_req *q, const char *method, const char *name,
                               size_t name_len);
enum MHD_Result gw_async_body(struct gw_req *q, const char *data, size_t *size);
/* The body is in: commit it, answer 202 with X-Call-Id. */
enum MHD_Result gw_async_end(struct gw_req *q, const char *method);
void gw_async_free(struct gw_req *q);

#endif /* FC_HAVE_MHD */
#endif
