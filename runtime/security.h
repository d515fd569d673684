/* SPDX-License-Identifier: MIT */
/* security.h (private): the last per-process settings, applied in the
 * container process right before execve (and in `exec`):
 *   fc_rlimits_apply -> fc_identity_apply (bounding set, groups, gid, uid,
 *   capability sets, ambient) -> no_new_privileges -> fc_seccomp_install.
 * Compiling the seccomp filter is done before fork (in the parent), so the
 * container process only installs a ready BPF program. */
#ifndef FCRT_SECURITY_H
#define FCRT_SECURITY_H

#include "spec.h"

int fc_rlimits_apply(const struct fc_process *p, struct fc_error **err);

/* Drop the bounding set to p->caps.bounding, set supplementary groups, gid
 * and uid (keeping capabilities across the uid change), then set
 * effective/permitted/inheritable and raise ambient capabilities, as runc
 * does. With no process.capabilities, all capabilities are dropped for a
 * non-root uid and kept for root. Also applies process.umask (default 0022). */
int fc_identity_apply(const struct fc_process *p, struct fc_error **err);
/* The bounding set alone, the first step of fc_identity_apply (about 2 system
 * calls per capability): a container's init drops it at create, before it
 * waits for the start, as runc does; the start then calls
 * fc_identity_apply_rest, the other steps (a handful of calls). The bounding
 * set only limits what an execve or capset may gain, so dropping it early
 * takes nothing from the steps between. */
int fc_bounding_apply(const struct fc_process *p, struct fc_error **err);
int fc_identity_apply_rest(const struct fc_process *p, struct fc_error **err);

/* The container user owns its stdio, as runc makes it (so a non-root
 * process can open /dev/stdout, and owns its terminal): each of fds 0-2
 * that is a pipe, a FIFO or a socket, or the terminal the runtime made
 * (own_tty), and not owned by uid, gets uid as owner (the group is kept).
 * Regular files, directories and other devices (a host terminal,
 * /dev/null) are left alone, where runc would chown them too. Failures are
 * ignored, as runc ignores EPERM/EINVAL/EROFS. */
void fc_stdio_chown(uint32_t uid, bool own_tty);

/* A compiled filter: BPF program plus seccomp(2) flags. */
struct fc_seccomp_prog;
/* Compile with libseccomp (names resolved for the given architectures).
 * Like runc, syscall names unknown to libseccomp are skipped, not an error;
 * rules with the default action are skipped; conditions repeating an argument
 * index become separate rules (OR). Unknown flags are an error naming the
 * flag. NULL spec -> *out = NULL. */
int fc_seccomp_compile(const struct fc_seccomp *s, struct fc_seccomp_prog **out,
                       struct fc_error **err);
/* Install in the calling process (seccomp(SECCOMP_SET_MODE_FILTER)). If the
 * filter has SCMP_ACT_NOTIFY rules, *notify_fd receives the listener fd
 * (O_CLOEXEC; else -1). The caller must have set PR_SET_NO_NEW_PRIVS or hold
 * CAP_SYS_ADMIN in its user namespace (else EACCES). Only the seccomp system
 * call on success; the error path allocates the message. NULL p: no-op. */
int fc_seccomp_install(const struct fc_seccomp_prog *p, int *notify_fd, struct fc_error **err);
void fc_seccomp_prog_free(struct fc_seccomp_prog *p);
/* Does the filter have SCMP_ACT_NOTIFY rules (then an agent is needed)? */
bool fc_seccomp_notifies(const struct fc_seccomp_prog *p);
/* Hand a notify fd to the seccomp agent connected on agent_fd, with the
 * runtime-spec "ContainerProcessState": pid (the process's, as the host
 * sees it), metadata (listenerMetadata) and state (the container's state
 * JSON). */
int fc_seccomp_agent_send(int agent_fd, int notify_fd, pid_t pid, const char *metadata,
                          const char *state_json, struct fc_error **err);

/* Names for `fcrun features`: NULL-terminated static arrays. */
const char *const *fc_seccomp_known_actions(void);
const char *const *fc_seccomp_known_operators(void);
const char *const *fc_seccomp_known_archs(void);
const char *const *fc_seccomp_known_flags(void);
/* All capability names the running kernel knows ("CAP_CHOWN", ...), malloc'd. */
char **fc_caps_known(void);

#endif
