/* SPDX-License-Identifier: MIT */
/* test-snap-ref: image references normalised as Docker does, and refused
 * with a message that names what is wrong. TAP. */
#include "fcsnap.h"

static int n, failed;

static void ok(bool c, const char *what, const char *detail)
{
	n++;
	printf("%s %d - %s%s%s\n", c ? "ok" : "not ok", n, what, detail ? ": " : "",
	       detail ? detail : "");
	failed += !c;
}

static void good(const char *in, const char *want)
{
	struct fcsnap_ref r;
	struct fc_error *e = NULL;
	int ret = fcsnap_ref_parse(in, &r, &e);
	char *s = ret == 0 ? fcsnap_ref_string(&r) : NULL;
	char what[300];
	snprintf(what, sizeof(what), "`%s` is %s", in, want);
	ok(ret == 0 && s && FC_STREQ(s, want), what, ret ? e->msg : s);
	free(s);
	fcsnap_ref_clear(&r);
	fc_error_free(e);
}

static void bad(const char *in, const char *msg)
{
	struct fcsnap_ref r;
	struct fc_error *e = NULL;
	int ret = fcsnap_ref_parse(in, &r, &e);
	char what[300];
	snprintf(what, sizeof(what), "`%.60s` refused (%s)", in, msg);
	ok(ret < 0 && e && e->msg && strstr(e->msg, msg), what, e ? e->msg : "accepted");
	fcsnap_ref_clear(&r);
	fc_error_free(e);
}

int main(void)
{
	const char *d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	char buf[400];
	good("alpine", "docker.io/library/alpine:latest");
	good("alpine:3.19", "docker.io/library/alpine:3.19");
	good("functions/alpine", "docker.io/functions/alpine:latest");
	good("docker.io/functions/alpine:latest", "docker.io/functions/alpine:latest");
	good("index.docker.io/library/busybox", "docker.io/library/busybox:latest");
	good("ghcr.io/acme/fn:1.2", "ghcr.io/acme/fn:1.2");
	good("localhost/fn", "localhost/fn:latest");
	good("localhost:5000/fn:v1", "localhost:5000/fn:v1");
	good("127.0.0.1:5000/a/b/c:tag_1.0-rc", "127.0.0.1:5000/a/b/c:tag_1.0-rc");
	good("[::1]:5000/fn", "[::1]:5000/fn:latest");
	good("registry.example.com/a__b/c-d--e/f.g", "registry.example.com/a__b/c-d--e/f.g:latest");
	snprintf(buf, sizeof(buf), "alpine@%s", d);
	char want[400];
	snprintf(want, sizeof(want), "docker.io/library/alpine@%s", d);
	good(buf, want);
	snprintf(buf, sizeof(buf), "ghcr.io/x/y:1@%s", d);
	snprintf(want, sizeof(want), "ghcr.io/x/y:1@%s", d);
	good(buf, want);

	bad("", "empty");
	bad("Alpine", "lowercase");
	bad("docker.io/Library/x", "lowercase");
	bad("a b", "spaces");
	bad("alpine:", "bad tag");
	bad("alpine:-x", "bad tag");
	bad("alpine:.x", "bad tag");
	bad("a/../b", "bad repository name component");
	bad("a//b", "bad repository name component");
	bad("-a", "bad repository name component");
	bad("a_-b", "bad repository name component");
	bad("a___b", "bad repository name component");
	bad("host:99999999/x", "bad registry");
	bad("-host.com/x", "bad registry");
	bad("alpine@sha256:abc", "64 lowercase hex");
	bad("alpine@md5:0123", "unsupported digest algorithm");
	bad("alpine@", "bad digest");
	bad("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "image id");
	char longname[400];
	memset(longname, 'a', 300);
	longname[300] = 0;
	bad(longname, "longer than 255");
	char longtag[200];
	snprintf(longtag, sizeof(longtag), "x:%0129d", 0);
	bad(longtag, "bad tag");
	printf("1..%d\n", n);
	return failed ? 1 : 0;
}
