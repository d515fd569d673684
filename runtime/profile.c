/* SPDX-License-Identifier: MIT */
/* profile.c: the marks a create leaves in its caller's struct fcrt_profile
 * (fcrt_create_opts.profile: `fcstart bench --phases`, the fork servers'
 * timing), and the line they print as. */
#include "fcrt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fcrt_profile_mark(struct fcrt_profile *p, const char *name, uint64_t ns)
{
	if (!p || p->n >= FCRT_PROFILE_MAX)
		return;
	snprintf(p->mark[p->n].name, sizeof(p->mark[p->n].name), "%s", name);
	p->mark[p->n++].ns = ns;
}

static int mark_cmp(const void *a, const void *b)
{
	const struct fcrt_mark *x = a, *y = b;
	return x->ns < y->ns ? -1 : x->ns > y->ns;
}

void fcrt_profile_line(const struct fcrt_profile *p, uint64_t from_ns, struct fc_buf *out)
{
	struct fcrt_mark m[FCRT_PROFILE_MAX];
	size_t n = p->n < FCRT_PROFILE_MAX ? p->n : FCRT_PROFILE_MAX;
	memcpy(m, p->mark, n * sizeof(m[0]));
	qsort(m, n, sizeof(m[0]), mark_cmp);
	uint64_t prev = from_ns;
	for (size_t i = 0; i < n; i++) {
		double us = m[i].ns >= prev ? (double)(m[i].ns - prev) / 1e3 : 0;
		fc_buf_printf(out, "%s%s=%.1f", i ? " " : "", m[i].name, us);
		prev = m[i].ns > prev ? m[i].ns : prev;
	}
}
