/* SPDX-License-Identifier: MIT */
/* fuzz-proto: the daemon's wire JSON (prewarm/proto.c). A function spec as
 * `fcstart fn deploy` and the gateway send it is parsed as the daemon does;
 * an accepted spec is written as the client writes it and must read back the
 * same. The size and duration syntaxes of the CLI and the gateway's limits
 * get the input as a string. */
#include "fuzz.h"
#include "fcpool.h"

/* Equal vectors; NULL (absent) reads back as empty. */
static bool strv_eq(char **a, char **b)
{
	static char *none[] = {NULL};
	size_t i;
	a = a ? a : none;
	b = b ? b : none;
	for (i = 0; a[i] && b[i]; i++)
		if (!FC_STREQ(a[i], b[i]))
			return false;
	return !a[i] && !b[i];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_cstr(data, size);
	struct fc_error *err = NULL;
	struct fcpool_fn_spec s, back;

	int r = fcpool_fn_spec_parse(buf, &s, &err);
	fuzz_check_result("function spec", r, err);
	err = NULL;
	if (r >= 0) {
		FUZZ_CHECK(fcpool_name_valid(s.name) && s.image && *s.image,
		           "spec accepted with name `%s`", s.name ? s.name : "(null)");
		FUZZ_CHECK(s.max >= 1 && s.min <= s.max && s.max <= 10000,
		           "spec accepted with min %u max %u", s.min, s.max);
		struct fc_buf b = {0};
		fcpool_fn_spec_json(&s, &b);
		r = fcpool_fn_spec_parse(b.data, &back, &err);
		FUZZ_CHECK(r >= 0, "spec written as %s does not read back: %s", b.data,
		           err ? err->msg : "?");
		FUZZ_CHECK(FC_STREQ(s.name, back.name) && FC_STREQ(s.image, back.image) &&
		               s.mode == back.mode && strv_eq(s.env, back.env) &&
		               strv_eq(s.labels, back.labels) && strv_eq(s.args, back.args) &&
		               s.memory == back.memory && s.cpus == back.cpus &&
		               s.timeout_ms == back.timeout_ms && s.min == back.min &&
		               s.max == back.max && s.queue == back.queue,
		           "spec changed on its way through %s", b.data);
		fcpool_fn_spec_clear(&back);
		free(b.data);
	}
	fcpool_fn_spec_clear(&s);

	if (size < 64) {
		uint64_t v;
		(void)fcpool_parse_size(buf, &v);
		(void)fcpool_parse_duration(buf, &v);
	}
	free(buf);
	return 0;
}
