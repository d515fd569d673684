/* SPDX-License-Identifier: MIT */
/* gw-function.h: the gateway's /function/NAME[/PATH] (gw-function.c). */
#ifndef FCPOOL_GW_FUNCTION_H
#define FCPOOL_GW_FUNCTION_H

#include "gw-http.h"

#ifdef FC_HAVE_MHD
/* The head came: start the invocation (answers 404 itself, or suspends). */
enum MHD_Result gw_function_begin(struct gw_req *q, const char *method, const char *name,
                                  size_t name_len);
enum MHD_Result gw_function_body(struct gw_req *q, const char *data, size_t *size);
/* The body is complete (or dropped): answer once the function does. */
enum MHD_Result gw_function_end(struct gw_req *q);
void gw_function_free(struct gw_req *q);

#endif /* FC_HAVE_MHD */
#endif
