/* SPDX-License-Identifier: MIT */
/* spec.h (private to runtime/): what the runtime shares about the typed spec
 * beyond fcrt.h (which has its structs and public functions): process.json
 * and resources documents, name tables, derived mount fields.
 * spec-parse.c is the only parser (with spec-json.c and spec-resources.c);
 * spec-write.c the only writer; nothing here holds a yajl_val. */
#ifndef FCRT_SPEC_H
#define FCRT_SPEC_H

#include "fcrt.h"
#include <stdint.h>
#include <sys/types.h>

/* The types of the spec (struct fc_spec and its parts) are public: fcrt.h. */

/* Parse a process.json (`fcrun exec --process`): the "process" object alone. */
int fc_process_parse(const char *json, size_t len, struct fc_process **out, struct fc_error **err);
void fc_process_free(struct fc_process *p);

/* Parse a resources JSON (`fcrun update --resources`). */
int fc_resources_parse(const char *json, size_t len, struct fc_resources **out,
                       struct fc_error **err);
void fc_resources_free(struct fc_resources *r);

/* spec-validate.c: the config as a whole, before anything is made (runc's
 * validator, stricter where the host is at stake): hostname and domainname
 * need a UTS namespace, maskedPaths and readonlyPaths a mount namespace,
 * each sysctl a namespace of the container's own that it lives in (net.*:
 * network; kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*: IPC;
 * kernel.domainname: UTS; kernel.hostname is refused, the hostname field
 * says it; anything else is not namespaced and refused). Errors name the
 * field. */
int fc_spec_validate(const struct fc_spec *s, struct fc_error **err);
/* A sysctl key as a path below /proc/sys ("net/ipv4/ip_forward"; '/' for
 * '.' is accepted as sysctl(8) does), NULL when a component is empty, "."
 * or "..". */
char *fc_sysctl_path(const char *key);

/* Helpers shared with the rest of the runtime. */
const char *fc_ns_name(enum fc_ns_type t);      /* "pid", "network", ... (spec names) */
int fc_ns_clone_flag(enum fc_ns_type t);        /* CLONE_NEWPID, ... */
const char *fc_ns_proc_name(enum fc_ns_type t); /* "pid", "net", "mnt", ... (/proc/PID/ns) */
const struct fc_namespace *fc_spec_ns(const struct fc_spec *s, enum fc_ns_type t);
/* "RLIMIT_NOFILE" -> RLIMIT_NOFILE, -EINVAL if unknown. */
int fc_rlimit_from_name(const char *name);
/* RLIMIT_NOFILE -> "RLIMIT_NOFILE", NULL if unknown. */
const char *fc_rlimit_name(int resource);
/* "CAP_SYS_ADMIN" -> CAP_SYS_ADMIN, -EINVAL if unknown. */
int fc_cap_from_name(const char *name);
/* "network" -> FC_NS_NETWORK, -EINVAL if unknown. */
int fc_ns_from_name(const char *name);
/* CAP_SYS_ADMIN -> "CAP_SYS_ADMIN", NULL if unknown. */
const char *fc_cap_name(int cap);
/* The i-th mount option name spec-parse.c understands (for `fcrun features`), NULL past the end. */
const char *fc_mount_option_name(size_t i);
/* Fill a mount's derived fields (flags, propagation, data, bind, idmap...)
 * from its type, options and mappings, as parse does. */
void fc_mount_derive(struct fc_mount *m);
void fc_mount_free(struct fc_mount *m);
/* root.path made absolute against bundle (relative: against the cwd). */
char *fc_spec_root_path(const char *bundle, const char *path);
/* The hooks object's keys ("prestart", ...). */
const char *fc_hook_key(enum fc_hook_kind kind);
/* Annotation lookup, NULL if absent. */
const char *fc_spec_annotation(const struct fc_spec *s, const char *key);

#endif
