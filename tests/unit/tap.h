/* SPDX-License-Identifier: MIT */
/* tap.h: minimal TAP output for unit tests. ok() prints one line per check;
 * tap_done() prints the plan and returns the exit code (0 pass, 1 fail). */
#ifndef FC_TAP_H
#define FC_TAP_H

#include <stdio.h>

static int tap_n, tap_failed;

#define ok(cond, ...)                                                                              \
	({                                                                                         \
		int _c_ = !!(cond);                                                                \
		tap_n++;                                                                           \
		if (!_c_)                                                                          \
			tap_failed++;                                                              \
		printf("%s %d - ", _c_ ? "ok" : "not ok", tap_n);                                  \
		printf(__VA_ARGS__);                                                               \
		printf("\n");                                                                      \
		if (!_c_)                                                                          \
			printf("#   failed at %s:%d: %s\n", __FILE__, __LINE__, #cond);            \
		fflush(stdout);                                                                    \
		_c_;                                                                               \
	})

static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	if (tap_failed)
		printf("# %d of %d checks failed\n", tap_failed, tap_n);
	return tap_failed ? 1 : 0;
}

#endif
