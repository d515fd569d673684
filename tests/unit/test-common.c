/* SPDX-License-Identifier: MIT */
/* test-common: common/ helpers (signals, atomic writes, mkdir -p, rm -rf). */
#include "fc-util.h"
#include "tap.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>

static char tmpdir[] = "/tmp/fc-test-common-XXXXXX";

static void test_signals(void)
{
	ok(fc_parse_signal("KILL") == SIGKILL, "KILL");
	ok(fc_parse_signal("SIGKILL") == SIGKILL, "SIGKILL");
	ok(fc_parse_signal("sigterm") == SIGTERM, "sigterm (case-insensitive)");
	ok(fc_parse_signal("9") == 9, "9");
	ok(fc_parse_signal("15") == SIGTERM, "15");
	ok(fc_parse_signal("HUP") == SIGHUP && fc_parse_signal("SIGWINCH") == SIGWINCH &&
	       fc_parse_signal("USR1") == SIGUSR1 && fc_parse_signal("CHLD") == SIGCHLD,
	   "HUP, SIGWINCH, USR1, CHLD");
	ok(fc_parse_signal("SIGRTMIN") == SIGRTMIN, "SIGRTMIN");
	ok(fc_parse_signal("SIGRTMIN+3") == SIGRTMIN + 3, "SIGRTMIN+3 = %d",
	   fc_parse_signal("SIGRTMIN+3"));
	ok(fc_parse_signal("RTMAX-2") == SIGRTMAX - 2, "RTMAX-2");
	ok(fc_parse_signal("SIGRTMAX") == SIGRTMAX, "SIGRTMAX");
	ok(fc_parse_signal(NULL) == -EINVAL, "NULL");
	ok(fc_parse_signal("") == -EINVAL, "empty");
	ok(fc_parse_signal("0") == -EINVAL, "0");
	ok(fc_parse_signal("-9") == -EINVAL, "-9");
	ok(fc_parse_signal("65") == -EINVAL, "65");
	ok(fc_parse_signal("SIGNOPE") == -EINVAL, "SIGNOPE");
	ok(fc_parse_signal("9x") == -EINVAL, "9x");
	ok(fc_parse_signal("SIGRTMIN+100") == -EINVAL, "SIGRTMIN+100");
	ok(fc_parse_signal("SIGRTMIN-1") == -EINVAL, "SIGRTMIN-1");
	ok(fc_parse_signal("SIGRTMIN+x") == -EINVAL, "SIGRTMIN+x");
	ok(fc_signal_name(SIGKILL) && FC_STREQ(fc_signal_name(SIGKILL), "SIGKILL"),
	   "fc_signal_name(SIGKILL)");
	ok(fc_signal_name(0) == NULL && fc_signal_name(1000) == NULL, "fc_signal_name unknown");
}

static int count_entries(int dfd)
{
	int n = 0, fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	if (!d)
		return -1;
	while ((de = readdir(d)))
		n += !FC_STREQ(de->d_name, ".") && !FC_STREQ(de->d_name, "..");
	closedir(d);
	return n;
}

static void test_write_atomic(int dfd)
{
	_cleanup_error_ struct fc_error *err = NULL;
	_cleanup_free_ char *buf = NULL;
	_cleanup_close_ int sub = -1;
	struct stat st;
	size_t len = 0;
	int r;

	ok(mkdirat(dfd, "w", 0755) == 0, "mkdir w");
	sub = openat(dfd, "w", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	r = fc_write_file_atomic_at(sub, "state.json", "{\"a\":1}", 7, 0600, &err);
	ok(r == 0, "write state.json");
	r = fc_read_file_at(sub, "state.json", &buf, &len, 0, &err);
	ok(r == 0 && len == 7 && FC_STREQ(buf, "{\"a\":1}"), "content read back");
	ok(fstatat(sub, "state.json", &st, 0) == 0 && (st.st_mode & 07777) == 0600, "mode 0600");
	free(buf);
	buf = NULL;
	r = fc_write_file_atomic_at(sub, "state.json", "xyz", 3, 0600, &err);
	r |= fc_read_file_at(sub, "state.json", &buf, &len, 0, &err);
	ok(r == 0 && len == 3 && FC_STREQ(buf, "xyz"), "overwrite replaces the content");
	ok(count_entries(sub) == 1, "no temporary file left behind");
	r = fc_write_file_atomic_at(sub, "empty", "", 0, 0644, &err);
	ok(r == 0 && fstatat(sub, "empty", &st, 0) == 0 && st.st_size == 0, "empty file");
	r = fc_write_file_atomic_at(sub, "missing/dir/file", "x", 1, 0644, &err);
	ok(r == -ENOENT && err && strstr(err->msg, "missing/dir/file"),
	   "missing directory: error names the path: %s", err ? err->msg : "");
	ok(count_entries(sub) == 2, "still only the two files");
	fc_error_free(err);
	err = NULL;
	ok(mkdirat(sub, "adir", 0755) == 0, "mkdir adir");
	r = fc_write_file_atomic_at(sub, "adir", "x", 1, 0644, &err);
	ok(r < 0 && err && count_entries(sub) == 3,
	   "rename over a directory fails, tmp removed: %s", err ? err->msg : "");
}

static void test_mkdir_p(int dfd)
{
	_cleanup_error_ struct fc_error *err = NULL;
	struct stat st;
	int r = fc_mkdir_p_at(dfd, "m/a/b/c", 0750, &err);
	ok(r == 0 && fstatat(dfd, "m/a/b/c", &st, 0) == 0 && S_ISDIR(st.st_mode),
	   "mkdir -p m/a/b/c");
	ok(r == 0 && (st.st_mode & 0777) == (0750 & ~(mode_t)umask(022)), "mode with umask");
	umask(022);
	r = fc_mkdir_p_at(dfd, "m/a/b/c", 0755, &err);
	ok(r == 0, "existing directories are fine");
	r = fc_mkdir_p_at(dfd, "m//a/./b/d/", 0755, &err);
	ok(r == 0 && fstatat(dfd, "m/a/b/d", &st, 0) == 0, "double slashes, dot, trailing slash");
	ok(fc_write_file_atomic_at(dfd, "m/file", "x", 1, 0644, &err) == 0, "make m/file");
	r = fc_mkdir_p_at(dfd, "m/file/sub", 0755, &err);
	ok(r == -ENOTDIR && err && strstr(err->msg, "m/file/sub"),
	   "file in the way: error names the path: %s", err ? err->msg : "");
	fc_error_free(err);
	err = NULL;
	{
		_cleanup_free_ char *abs = fc_asprintf("%s/abs/x/y", tmpdir);
		r = fc_mkdir_p_at(AT_FDCWD, abs, 0755, &err);
		ok(r == 0 && fstatat(dfd, "abs/x/y", &st, 0) == 0, "absolute path with AT_FDCWD");
	}
}

static void test_rm_rf(int dfd)
{
	_cleanup_error_ struct fc_error *err = NULL;
	struct stat st;
	int r;
	/* r/{f1, d1/{f2, d2/f3}, link -> ../keep (must not be followed)} */
	fc_mkdir_p_at(dfd, "r/d1/d2", 0755, &err);
	fc_mkdir_p_at(dfd, "keep", 0755, &err);
	fc_write_file_atomic_at(dfd, "keep/precious", "p", 1, 0644, &err);
	fc_write_file_atomic_at(dfd, "r/f1", "1", 1, 0644, &err);
	fc_write_file_atomic_at(dfd, "r/d1/f2", "2", 1, 0644, &err);
	fc_write_file_atomic_at(dfd, "r/d1/d2/f3", "3", 1, 0000, &err);
	ok(symlinkat("../keep", dfd, "r/link") == 0 && symlinkat("../../keep", dfd, "r/d1/l2") == 0,
	   "tree with symlinks built");
	ok(mkfifoat(dfd, "r/d1/fifo", 0600) == 0, "fifo in the tree");
	if (geteuid() == 0) /* root removes entries of a 0500 directory */
		ok(fchmodat(dfd, "r/d1/d2", 0500, 0) == 0, "read-only subdirectory");
	r = fc_rm_rf_at(dfd, "r", &err);
	ok(r == 0 && fstatat(dfd, "r", &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT,
	   "rm -rf r: %s", err ? err->msg : "");
	ok(fstatat(dfd, "keep/precious", &st, 0) == 0, "symlink targets untouched");
	r = fc_rm_rf_at(dfd, "r", &err);
	ok(r == 0, "missing path is fine");
	r = fc_rm_rf_at(dfd, "keep/precious", &err);
	ok(r == 0 && fstatat(dfd, "keep/precious", &st, 0) < 0, "a single file");
	ok(symlinkat("keep", dfd, "klink") == 0, "symlink to a directory");
	r = fc_rm_rf_at(dfd, "klink", &err);
	ok(r == 0 && fstatat(dfd, "klink", &st, AT_SYMLINK_NOFOLLOW) < 0 &&
	       fstatat(dfd, "keep", &st, 0) == 0,
	   "removing a symlink removes the link only");
}

static void test_json_depth(void)
{
	_cleanup_error_ struct fc_error *err = NULL;
	const char *ok_doc = "{\"a\":[{\"b\":\"[[[[\\\"[[\"}]}";
	ok(fc_json_check_depth(ok_doc, strlen(ok_doc), 3, "doc", &err) == 0,
	   "brackets inside strings (and escaped quotes) do not count");
	ok(fc_json_check_depth(ok_doc, strlen(ok_doc), 2, "doc", &err) == -E2BIG && err &&
	       strstr(err->msg, "doc: exceeded max depth"),
	   "one level too deep is refused with the document's name: %s", err ? err->msg : "");
	size_t n = 1000000;
	char *deep = fc_malloc(n);
	memset(deep, '[', n);
	fc_error_free(err);
	err = NULL;
	ok(fc_json_check_depth(deep, n, FC_JSON_MAX_DEPTH, NULL, &err) == -E2BIG,
	   "a million levels: refused");
	free(deep);
}

int main(void)
{
	_cleanup_close_ int dfd = -1;
	_cleanup_error_ struct fc_error *err = NULL;
	umask(022);
	test_signals();
	test_json_depth();
	if (!mkdtemp(tmpdir)) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	dfd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	test_write_atomic(dfd);
	test_mkdir_p(dfd);
	test_rm_rf(dfd);
	ok(fc_rm_rf_at(AT_FDCWD, tmpdir, &err) == 0, "clean up %s", tmpdir);
	return tap_done();
}
