/* SPDX-License-Identifier: MIT */
/* proto.h: the daemon's wire (docs/api.md), both sides, and the other JSON
 * of libfcpool. The API socket is SOCK_SEQPACKET: one message is one JSON
 * document, descriptors travel beside it (SCM_RIGHTS). proto.c is the only
 * code of libfcpool that sees JSON: yajl stays behind it (it is unmaintained
 * upstream, so it must stay swappable), and every document it reads has its
 * nesting checked first (fc_json_check_depth). */
#ifndef FCPOOL_PROTO_H
#define FCPOOL_PROTO_H

#include "fcpool.h"

/* ---- transport --------------------------------------------------------- */

/* Connect to the daemon's socket (NULL: $FCSTART_SOCKET or the default). */
int proto_connect(const char *socket_path, struct fc_error **err);
/* Send one message with up to 3 descriptors; nonblock: MSG_DONTWAIT. */
int proto_send(int fd, const char *json, const int *fds, size_t nfds, bool nonblock,
               struct fc_error **err);
/* Receive one message (NUL-terminated, the caller frees *msg) and up to *nfds
 * descriptors that came with it (*nfds is set to the number received; more
 * are closed). -ECONNRESET at EOF. */
int proto_recv(int fd, char **msg, int *fds, size_t *nfds, struct fc_error **err);

/* ---- requests (client -> daemon) ---------------------------------------- */

enum proto_op {
	PROTO_PING = 1,
	PROTO_DEPLOY,
	PROTO_LS,
	PROTO_RM,
	PROTO_SCALE,
	PROTO_STATS,
	PROTO_INVOKE,
};
/* A request. The client fills it with borrowed strings and never clears it;
 * the daemon reads one with proto_request_parse and clears it. */
struct proto_request {
	enum proto_op op;
	char *name;                 /* rm, scale, invoke */
	struct fcpool_fn_spec spec; /* deploy */
	char **env;                 /* invoke: KEY=VALUE, or NULL */
	bool has_min, has_max;      /* scale: the bounds given */
	double min, max;
};
void proto_request_json(const struct proto_request *r, struct fc_buf *out);
/* A request's document: -EINVAL naming what is wrong (not JSON, nested too
 * deep, no or an unknown "op", a deploy's spec). */
int proto_request_parse(const char *json, struct proto_request *r, struct fc_error **err);
void proto_request_clear(struct proto_request *r);

/* ---- replies (daemon -> client) ----------------------------------------- */

void proto_reply_ok(struct fc_buf *out);
void proto_reply_error(struct fc_buf *out, int errnum, const char *msg);
/* 0 for {"ok":true,...}; the daemon's refusal as an error with its errno. */
int proto_reply_check(const char *json, struct fc_error **err);
/* An invocation's event (fcpool_event_json's document); ev->sock is -1. */
int proto_event_parse(const char *json, struct fcpool_event *ev, struct fc_error **err);
/* The answer to ls or stats (fcpool_fn_list_json's document). */
int proto_fn_list_parse(const char *json, bool stats, struct fcpool_fn_list *l,
                        struct fc_error **err);

/* ---- OpenFaaS faas-provider documents (the gateway) ------------------------- */

/* A FunctionDeployment (POST or PUT /system/functions) as a checked spec:
 * service, image, envProcess (run as /bin/sh -c), envVars, labels,
 * limits.memory ("64m") and limits.cpu ("500m" = 0.5), the annotation or
 * label com.fcstart.mode. */
int proto_openfaas_deployment(const char *json, struct fcpool_fn_spec *spec, struct fc_error **err);
/* DELETE /system/functions: {"functionName": N}; *name is NULL without one. */
int proto_openfaas_delete(const char *json, char **name, struct fc_error **err);
/* POST /system/scale-function/NAME: {"replicas": N}; -1 without one. */
int proto_openfaas_scale(const char *json, double *replicas, struct fc_error **err);
/* FunctionStatus documents: an array of l's functions, or (one) the first alone. */
void proto_openfaas_status_json(const struct fcpool_fn_list *l, bool one, struct fc_buf *out);

#endif
