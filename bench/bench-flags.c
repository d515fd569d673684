/* SPDX-License-Identifier: MIT */
/* bench-flags.c: the values of flags, read the same way by every subcommand
 * of `fcstart bench`: comma lists and bounded numbers. */
#include "bench.h"

char **bench_split(const char *s, char sep)
{
	size_t n = 0;
	char **v = fc_calloc(strlen(s) + 2, sizeof(char *));
	const char *p = s;
	while (*p) {
		while (*p == sep)
			p++;
		if (!*p)
			break;
		const char *e = strchr(p, sep);
		if (!e)
			e = p + strlen(p);
		v[n++] = fc_strndup(p, (size_t)(e - p));
		p = e;
	}
	return v;
}

int bench_parse_int(const char *cmd, const char *flag, const char *s, int min, int *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > 1000000) {
		fprintf(stderr, "fcstart bench %s: %s: bad number `%s` (%d to 1000000)\n", cmd,
		        flag, s, min);
		return -1;
	}
	*out = (int)v;
	return 0;
}
