/* SPDX-License-Identifier: MIT */
/* fuzz-spec: the runtime's readers of the documents a user or an engine hands
 * fcrun: config.json (fcrt_spec_parse, then its seccomp filter compiled as
 * `fcrun create` does, without loading it), process.json (`fcrun exec
 * --process`) and a resources document (`fcrun update --resources`). Each
 * input goes to all three readers. */
#include "fuzz.h"
#include "security.h"
#include "spec.h"

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
		struct fc_seccomp_prog *prog = NULL;
		r = fc_seccomp_compile(s->seccomp, &prog, &err);
		fuzz_check_result("linux.seccomp", r, err);
		err = NULL;
		fc_seccomp_prog_free(prog);
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
