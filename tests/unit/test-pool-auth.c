/* SPDX-License-Identifier: MIT */
/* test-pool-auth: the gateway's basic-auth file and header check
 * (prewarm/auth.c): base64, the USER:PASSWORD line, refusals that name the
 * file, a file made when absent. No root needed. */
#include <fcntl.h>
#include <sys/stat.h>

#include "auth.h"
#include "tap.h"

static char dir[] = "/tmp/test-pool-auth.XXXXXX";

static char *file(const char *name, const char *content, mode_t mode)
{
	char *p = fc_asprintf("%s/%s", dir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd >= 0) {
		fc_write_all(fd, content, strlen(content));
		fchmod(fd, mode);
		close(fd);
	}
	return p;
}

static bool refused(const char *name, const char *content, mode_t mode, const char *want)
{
	_cleanup_free_ char *p = file(name, content, mode);
	struct gw_auth *a = NULL;
	struct fc_error *e = NULL;
	int r = gw_auth_load(p, false, &a, NULL, &e);
	bool okk = r < 0 && !a && e && strstr(e->msg, p) && strstr(e->msg, want) &&
	           (!strchr(content, ':') || !strstr(e->msg, strchr(content, ':') + 1));
	if (!okk)
		printf("# %s\n", e ? e->msg : "(accepted)");
	fc_error_free(e);
	gw_auth_free(a);
	return okk;
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	char *d = NULL;
	size_t n = 0;
	ok(gw_base64_decode("YWRtaW46c2VjcmV0", &d, &n) == 0 && n == 12 &&
	       memcmp(d, "admin:secret", 12) == 0,
	   "base64 decodes");
	free(d);
	ok(gw_base64_decode("YQ==", &d, &n) == 0 && n == 1 && d[0] == 'a', "base64 with padding");
	free(d);
	ok(gw_base64_decode("YQ", &d, &n) == 0 && n == 1 && d[0] == 'a', "base64 without padding");
	free(d);
	ok(gw_base64_decode("Y", &d, &n) < 0, "base64 of a bad length is refused");
	ok(gw_base64_decode("YW!u", &d, &n) < 0, "base64 with a bad character is refused");

	_cleanup_free_ char *good = file("good", "admin:secret\n", 0600);
	struct gw_auth *a = NULL;
	struct fc_error *e = NULL;
	ok(gw_auth_load(good, false, &a, NULL, &e) == 0 && a && FC_STREQ(gw_auth_user(a), "admin"),
	   "USER:PASSWORD read");
	ok(gw_auth_check(a, "Basic YWRtaW46c2VjcmV0"), "right credentials pass");
	ok(gw_auth_check(a, "basic   YWRtaW46c2VjcmV0  "), "scheme is case-insensitive");
	ok(!gw_auth_check(a, NULL), "no header fails");
	ok(!gw_auth_check(a, "Basic YWRtaW46c2VjcmV"), "a prefix fails");
	ok(!gw_auth_check(a, "Basic YWRtaW46c2VjcmV0eA=="), "a longer password fails");
	ok(!gw_auth_check(a, "Basic cm9vdDpzZWNyZXQ="), "another user fails");
	ok(!gw_auth_check(a, "Bearer YWRtaW46c2VjcmV0"), "another scheme fails");
	ok(!gw_auth_check(a, "BasicYWRtaW46c2VjcmV0"), "no space after Basic fails");
	ok(!gw_auth_check(a, "Basic"), "no token fails");
	gw_auth_free(a);
	a = NULL;

	_cleanup_free_ char *crlf = file("crlf", "u:p:q\r\n\n", 0600);
	ok(gw_auth_load(crlf, false, &a, NULL, &e) == 0 && gw_auth_check(a, "Basic dTpwOnE="),
	   "CRLF line, password with a colon");
	gw_auth_free(a);
	a = NULL;
	ok(refused("loose", "admin:secret\n", 0644, "mode 0644"), "mode 0644 refused");
	ok(refused("empty", "", 0600, "expected one line"), "empty file refused");
	ok(refused("nouser", ":secret\n", 0600, "expected one line"), "empty user refused");
	ok(refused("nopass", "admin:\n", 0600, "expected one line"), "empty password refused");
	ok(refused("two", "admin:a\nroot:b\n", 0600, "expected one line"), "two lines refused");
	ok(refused("ctl", "admin:se\tcret\n", 0600, "control character"),
	   "control character refused");

	_cleanup_free_ char *made = fc_asprintf("%s/made", dir);
	bool created = false;
	ok(gw_auth_load(made, false, &a, &created, &e) < 0 && !created && access(made, F_OK) < 0,
	   "absent file without create: refused, not made");
	fc_error_free(e);
	e = NULL;
	ok(gw_auth_load(made, true, &a, &created, &e) == 0 && created && a &&
	       FC_STREQ(gw_auth_user(a), "admin"),
	   "absent file with create: made with user admin");
	struct stat st;
	ok(stat(made, &st) == 0 && (st.st_mode & 07777) == 0600, "made with mode 0600");
	gw_auth_free(a);
	a = NULL;
	ok(gw_auth_load(made, true, &a, &created, &e) == 0 && !created, "an existing file is kept");
	gw_auth_free(a);

	_cleanup_free_ char *cmd = fc_asprintf("rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# cleanup of %s failed\n", dir);
	return tap_done();
}
