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
	PROTO_LOGS,
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
	long tail;   /* logs: the last lines to send first (-1: all kept) */
	bool follow; /* logs: then the lines as they come */
	bool usage;  /* stats: with the memory and CPU of waiting instances ("usage":true) */
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
/* A batch of log lines: {"ok":true,"event":"log","lines":[{"instance",
 * "time_ns","text"}]}, or the end ({"ok":true,"event":"end"}, lines NULL). */
void proto_log_batch_begin(struct fc_buf *out);
void proto_log_batch_line(struct fc_buf *out, bool first, const char *instance, uint64_t time_ns,
                          const char *text);
void proto_log_batch_end(struct fc_buf *out);
int proto_log_batch_parse(const char *json, struct fcpool_log_batch *out, struct fc_error **err);
/* The answer to ls or stats (fcpool_fn_list_json's document). */
int proto_fn_list_parse(const char *json, bool stats, struct fcpool_fn_list *l,
                        struct fc_error **err);

/* ---- OpenFaaS faas-provider documents (the gateway) ------------------------- */

/* The namespace of every function: NAME and NAME.openfaas-fn are the same. */
#define PROTO_OPENFAAS_NAMESPACE "openfaas-fn"
/* "" or NULL (the default) and openfaas-fn are fine; another is refused. */
int proto_openfaas_namespace(const char *ns, struct fc_error **err);
/* A FunctionDeployment (POST or PUT /system/functions) as a checked spec:
 * service (NAME or NAME.openfaas-fn), namespace, image, envProcess (the
 * env's fprocess), envVars, labels, annotations, secrets,
 * readOnlyRootFilesystem, limits.memory ("64m", "128Mi") and limits.cpu
 * ("500m" = 0.5); limits, requests and constraints kept in meta as given.
 * The mode: the annotation or label com.fcstart.mode (classic, http), else
 * from the image (auto). The timeout: the label com.fcstart.timeout, else
 * the largest of exec_timeout and write_timeout in envVars plus 1 s. *notes:
 * what was accepted without being honoured as given, for the log (a vector;
 * the caller frees it). */
int proto_openfaas_deployment(const char *json, struct fcpool_fn_spec *spec, char ***notes,
                              struct fc_error **err);
/* DELETE /system/functions: {"functionName": N, "namespace": NS}; NULL for
 * a member that is absent. */
int proto_openfaas_delete(const char *json, char **name, char **ns, struct fc_error **err);
/* POST /system/scale-function/NAME: {"replicas": N}; -1 without one. */
int proto_openfaas_scale(const char *json, double *replicas, struct fc_error **err);
/* FunctionStatus documents: an array of l's functions, or (one) the first alone. */
void proto_openfaas_status_json(const struct fcpool_fn_list *l, bool one, struct fc_buf *out);
/* A Secret (POST, PUT, DELETE /system/secrets): name, and value or rawValue
 * (base64, as Go writes []byte); *value is NUL-terminated (freed by the
 * caller). */
int proto_openfaas_secret(const char *json, char **name, char **value, size_t *len,
                          struct fc_error **err);
/* GET /system/secrets: [{"name", "namespace"}]. */
void proto_openfaas_secrets_json(char *const *names, struct fc_buf *out);
/* GET /system/info: the ProviderInfo ({"provider", "orchestration",
 * "version"}), or (gateway_form) the OpenFaaS gateway's GatewayInfo around it
 * ({"provider": {...}, "version", "arch"}), which faas-cli reads. */
void proto_openfaas_info_json(bool gateway_form, const char *version, const char *sha,
                              struct fc_buf *out);
/* One line of GET /system/logs (NDJSON: {name, namespace, instance,
 * timestamp, text} and a newline). */
void proto_openfaas_log_json(const char *fn, const char *instance, uint64_t time_ns,
                             const char *text, struct fc_buf *out);

#endif
