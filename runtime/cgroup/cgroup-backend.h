/* SPDX-License-Identifier: MIT */
/* cgroup-backend.h (private to cgroup*.c): what cgroup.c asks of the v1
 * (cgroup-v1.c) and v2 (cgroup-v2.c, cgroup-bpf.c) back ends. */
#ifndef FCRT_CGROUP_BACKEND_H
#define FCRT_CGROUP_BACKEND_H

#include "cgroup-file.h"

/* Back ends. */
/* devices: (re)write the device rules; true at creation, and on update only
 * when rules are given (an update without rules keeps the container's). */
int cg_v1_apply(struct fc_cgroup *cg, const struct fc_resources *res, bool devices,
                struct fc_error **err);
int cg_v1_init_cpuset(const char *dir, struct fc_error **err);
int cg_v2_apply(struct fc_cgroup *cg, const struct fc_resources *res, bool devices,
                struct fc_error **err);
/* Devices on pure v2: a BPF_PROG_TYPE_CGROUP_DEVICE program; off: default
 * rules left out (fc_resources.default_devices_off). */
int cg_v2_devices(const char *dir, const struct fc_device_rule *rules, size_t n, uint32_t off,
                  struct fc_error **err);

/* The default device rules runc always adds after the config's. */
extern const struct fc_device_rule cg_default_devices[];
extern const size_t cg_n_default_devices;

/* Stats sections, appended as "key":{...} (no leading comma). */
void cg_v1_stats_cpu(struct fc_buf *b, const char *cpuacct, const char *cpu);
void cg_v1_stats_memory(struct fc_buf *b, const char *dir);
void cg_v1_stats_blkio(struct fc_buf *b, const char *dir);
void cg_v1_stats_hugetlb(struct fc_buf *b, const char *dir);
void cg_v2_stats_cpu(struct fc_buf *b, const char *dir);
void cg_v2_stats_memory(struct fc_buf *b, const char *dir);
void cg_v2_stats_blkio(struct fc_buf *b, const char *dir);
void cg_v2_stats_hugetlb(struct fc_buf *b, const char *dir);
#endif
