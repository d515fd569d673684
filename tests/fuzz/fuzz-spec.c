/* SPDX-License-Identifier: MIT */
/* fuzz-spec: the runtime's readers of the documents a user or an engine hands
 * fcrun: config.json (fcrt_spec_parse, then what `fcrun create` does with it
 * before anything is made: the whole-spec validation and the seccomp filter
 * compiled, not loaded), process.json (`fcrun exec --process`) and a
 * resources document (`fcrun update --resources`). Each input goes to all
 * three readers. An accepted config.json must survive serialisation: its
 * JSON (compact and indented) and a copy of it parse back to the same JSON. */
#include "fuzz.h"
#include "security.h"
#include "spec.h"

/* s written, read back and written again gives the same text */
static void round_trip(const struct fc_spec *s)
{
	struct fc_buf j1 = {0}, j2 = {0}, ji = {0}, jc = {0};
	struct fc_spec *back = NULL, *back_i = NULL, *copy = NULL;
	struct fc_error *err = NULL;
	fcrt_spec_json(s, false, &j1);
	int r = fcrt_spec_parse(j1.data, j1.len, "/fuzz/bundle", &back, &err);
	FUZZ_CHECK(r >= 0, "config.json written as %s does not read back: %s", j1.data,
	           err ? err->msg : "?");
	fcrt_spec_json(back, false, &j2);
	FUZZ_CHECK(FC_STREQ(j1.data, j2.data), "config.json %s read back as %s", j1.data, j2.data);
	fcrt_spec_json(s, true, &ji);
	r = fcrt_spec_parse(ji.data, ji.len, "/fuzz/bundle", &back_i, &err);
	FUZZ_CHECK(r >= 0, "indented config.json does not read back: %s", err ? err->msg : "?");
	free(j2.data);
	j2 = (struct fc_buf){0};
	fcrt_spec_json(back_i, false, &j2);
	FUZZ_CHECK(FC_STREQ(j1.data, j2.data), "indented config.json read back as %s", j2.data);
	r = fcrt_spec_copy(s, &copy, &err);
	FUZZ_CHECK(r >= 0, "copy: %s", err ? err->msg : "?");
	fcrt_spec_json(copy, false, &jc);
	FUZZ_CHECK(FC_STREQ(j1.data, jc.data), "a copy of %s writes %s", j1.data, jc.data);
	fcrt_spec_free(back);
	fcrt_spec_free(back_i);
	fcrt_spec_free(copy);
	free(j1.data);
	free(j2.data);
	free(ji.data);
	free(jc.data);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *json = (const char *)data;
	struct fc_error *err = NULL;
	int r;

	struct fc_spec *s = NULL;
	r = fcrt_spec_parse(json, size, "/fuzz/bundle", &s, &err);
	fuzz_check_result("config.json", r, err);
	err = NULL;
	if (r >= 0) {
		FUZZ_CHECK(s && s->process && s->root_path && s->root_path[0] == '/',
		           "config.json accepted without a process or an absolute root");
		r = fc_spec_validate(s, &err);
		fuzz_check_result("config.json (validation)", r, err);
		err = NULL;
		struct fc_seccomp_prog *prog = NULL;
		r = fc_seccomp_compile(s->seccomp, &prog, &err);
		fuzz_check_result("linux.seccomp", r, err);
		err = NULL;
		fc_seccomp_prog_free(prog);
		round_trip(s);
	}
	fcrt_spec_free(s);

	struct fc_process *p = NULL;
	r = fc_process_parse(json, size, &p, &err);
	fuzz_check_result("process.json", r, err);
	err = NULL;
	fc_process_free(p);

	struct fc_resources *res = NULL;
	r = fc_resources_parse(json, size, &res, &err);
	fuzz_check_result("resources", r, err);
	fc_resources_free(res);
	return 0;
}
