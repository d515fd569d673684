/* SPDX-License-Identifier: MIT */
/* rlimit.c: process.rlimits, applied in the container process before the
 * identity change (raising a hard limit needs CAP_SYS_RESOURCE). */
#include "security.h"

#include <sys/resource.h>

static const char *rlimit_name(int resource)
{
	static const struct {
		int resource;
		const char *name;
	} names[] = {
	    {RLIMIT_AS, "RLIMIT_AS"},
	    {RLIMIT_CORE, "RLIMIT_CORE"},
	    {RLIMIT_CPU, "RLIMIT_CPU"},
	    {RLIMIT_DATA, "RLIMIT_DATA"},
	    {RLIMIT_FSIZE, "RLIMIT_FSIZE"},
	    {RLIMIT_LOCKS, "RLIMIT_LOCKS"},
	    {RLIMIT_MEMLOCK, "RLIMIT_MEMLOCK"},
	    {RLIMIT_MSGQUEUE, "RLIMIT_MSGQUEUE"},
	    {RLIMIT_NICE, "RLIMIT_NICE"},
	    {RLIMIT_NOFILE, "RLIMIT_NOFILE"},
	    {RLIMIT_NPROC, "RLIMIT_NPROC"},
	    {RLIMIT_RSS, "RLIMIT_RSS"},
	    {RLIMIT_RTPRIO, "RLIMIT_RTPRIO"},
	    {RLIMIT_RTTIME, "RLIMIT_RTTIME"},
	    {RLIMIT_SIGPENDING, "RLIMIT_SIGPENDING"},
	    {RLIMIT_STACK, "RLIMIT_STACK"},
	};

	for (size_t i = 0; i < FC_ARRAY_SIZE(names); i++)
		if (names[i].resource == resource)
			return names[i].name;
	return NULL;
}

int fc_rlimits_apply(const struct fc_process *p, struct fc_error **err)
{
	for (size_t i = 0; i < p->n_rlimits; i++) {
		const struct fc_rlimit *r = &p->rlimits[i];
		/* uint64_t max is RLIM_INFINITY on Linux: no translation needed. */
		struct rlimit rl = {.rlim_cur = (rlim_t)r->soft, .rlim_max = (rlim_t)r->hard};
		const char *name = rlimit_name(r->resource);

		if (prlimit(0, (__rlimit_resource_t)r->resource, &rl, NULL) < 0) {
			if (name)
				return fc_error_set(err, errno, "setrlimit %s soft=%llu hard=%llu",
				                    name, (unsigned long long)r->soft,
				                    (unsigned long long)r->hard);
			return fc_error_set(err, errno, "setrlimit resource %d soft=%llu hard=%llu",
			                    r->resource, (unsigned long long)r->soft,
			                    (unsigned long long)r->hard);
		}
	}
	return 0;
}
