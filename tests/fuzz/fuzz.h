/* SPDX-License-Identifier: MIT */
/* fuzz.h: what the libFuzzer targets of tests/fuzz share. Each target is one
 * LLVMFuzzerTestOneInput; a failed FUZZ_CHECK aborts, which libFuzzer reports
 * as a crash with the input saved (see README.md). */
#ifndef FC_FUZZ_H
#define FC_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fc-util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_CHECK(cond, ...)                                                                      \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz check failed: %s: ", #cond);                         \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* The input as a NUL-terminated string (the readers that take C strings). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = fc_malloc(size + 1);
	memcpy(s, data, size);
	s[size] = 0;
	return s;
}

/* A reader's result and its error agree: failure comes with a message that
 * says something, success with none. Frees the error. With FC_FUZZ_VERBOSE
 * set, each result is printed (to see what a seed or a crash input reaches). */
static inline void fuzz_check_result(const char *what, int r, struct fc_error *err)
{
	if (getenv("FC_FUZZ_VERBOSE"))
		fprintf(stderr, "%s: %s\n", what, r < 0 ? (err ? err->msg : "(no message)") : "ok");
	if (r < 0) {
		FUZZ_CHECK(err && err->msg && *err->msg, "%s failed (%d) without a message", what,
		           r);
	} else {
		FUZZ_CHECK(!err, "%s succeeded (%d) with an error set: %s", what, r, err->msg);
	}
	fc_error_free(err);
}

#endif
