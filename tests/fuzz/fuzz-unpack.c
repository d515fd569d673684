/* SPDX-License-Identifier: MIT */
/* fuzz-unpack: a layer's tar entries (snapshot/unpack.c: path cleaning,
 * whiteouts and opaque directories, hard and symbolic links, replacing what
 * an earlier entry made, devices, sparse files, pax and GNU long names).
 *
 * The input is a tar stream. Header checksums are recomputed first (a walk
 * from header to header by their size fields), so mutations reach the
 * unpacker instead of stopping at the checksum test. The stream is unpacked
 * into a fresh directory `layer` of a scratch directory (inputs of 4k+1
 * bytes write through the io_uring path, the others with plain system calls:
 * a ring and its arenas cost about 15 ms per input under ASan); next
 * to it, `outside` holds a canary file and an empty directory, and is the
 * working directory. After every input nothing outside `layer` may have
 * changed: no new or missing names, the canary's content, mode, owner, link
 * count and times as they were, no extended attributes, and no descriptor
 * left open. */
#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "fuzz.h"
#include "snap-private.h"

#define CANARY "canary file outside the layer\n"

static char *scratch;
static int scratch_fd = -1;
static struct stat canary_st, outside_st, scratch_st;
static unsigned n_fds;

static void cleanup(void)
{
	if (scratch_fd >= 0) {
		fc_rm_rf_at(AT_FDCWD, scratch, NULL);
		close(scratch_fd);
	}
}

/* Open descriptors but pipes (libFuzzer talks to llvm-symbolizer through
 * pipes when it names new functions); with show, what each one is. */
static unsigned count_fds(bool show)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned n = 0;
	struct dirent *de;
	FUZZ_CHECK(d, "open /proc/self/fd");
	while ((de = readdir(d))) {
		char p[300], l[300] = "";
		snprintf(p, sizeof(p), "/proc/self/fd/%s", de->d_name);
		if (readlink(p, l, sizeof(l) - 1) < 0 || strncmp(l, "pipe:", 5) == 0)
			continue;
		if (show)
			fprintf(stderr, "fd %s: %s\n", de->d_name, l);
		n++;
	}
	closedir(d);
	return n;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");
	scratch = fc_asprintf("%s/fcstart-fuzz-unpack.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	FUZZ_CHECK(mkdtemp(scratch), "mkdtemp %s", scratch);
	scratch_fd = open(scratch, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	FUZZ_CHECK(scratch_fd >= 0, "open %s", scratch);
	atexit(cleanup);
	FUZZ_CHECK(mkdirat(scratch_fd, "outside", 0755) == 0, "mkdir outside");
	FUZZ_CHECK(mkdirat(scratch_fd, "outside/dir", 0755) == 0, "mkdir outside/dir");
	int fd =
	    openat(scratch_fd, "outside/canary", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	FUZZ_CHECK(fd >= 0 && fc_write_all(fd, CANARY, strlen(CANARY)) == 0, "write canary");
	close(fd);
	FUZZ_CHECK(fstatat(scratch_fd, "outside/canary", &canary_st, AT_SYMLINK_NOFOLLOW) == 0,
	           "stat canary");
	FUZZ_CHECK(fstatat(scratch_fd, "outside", &outside_st, AT_SYMLINK_NOFOLLOW) == 0,
	           "stat outside");
	FUZZ_CHECK(fstat(scratch_fd, &scratch_st) == 0, "stat scratch");
	FUZZ_CHECK(fchdir(scratch_fd) == 0 && chdir("outside") == 0, "chdir outside");
	n_fds = count_fds(false);
	return 0;
}

static uint64_t tar_number(const unsigned char *p, size_t n)
{
	uint64_t v = 0;
	if (p[0] & 0x80) { /* base-256 */
		for (size_t i = 1; i < n; i++)
			v = (v << 8) | p[i];
		return v;
	}
	size_t i = 0;
	while (i < n && p[i] == ' ')
		i++;
	for (; i < n && p[i] >= '0' && p[i] <= '7'; i++)
		v = (v << 3) | (uint64_t)(p[i] - '0');
	return v;
}

static bool all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* Recompute every header's checksum, walking from header to header. */
static void fix_checksums(unsigned char *t, size_t len)
{
	size_t off = 0;
	while (off + 512 <= len) {
		unsigned char *h = t + off;
		if (all_zero(h, 512)) { /* end-of-archive blocks stay zero */
			off += 512;
			continue;
		}
		memset(h + 148, ' ', 8);
		unsigned sum = 0;
		for (size_t i = 0; i < 512; i++)
			sum += h[i];
		char ck[8];
		snprintf(ck, sizeof(ck), "%06o", sum & 0777777);
		memcpy(h + 148, ck, 7); /* six digits, NUL, the space stays */
		uint64_t size = tar_number(h + 124, 12);
		bool ext = h[156] == 'S' && h[482];
		off += 512;
		while (ext && off + 512 <= len) { /* old GNU sparse extension blocks */
			ext = t[off + 504] != 0;
			off += 512;
		}
		if (size > len) /* also the sparse entries' data: it is in the input */
			break;
		off += (size + 511) & ~(uint64_t)511;
	}
}

static void check_names(int dfd, const char *what, const char *const *want, size_t n)
{
	int fd = openat(dfd, what, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	FUZZ_CHECK(fd >= 0, "`%s` is gone or not a directory any more", what);
	DIR *d = fdopendir(fd);
	size_t seen = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (FC_STREQ(de->d_name, ".") || FC_STREQ(de->d_name, ".."))
			continue;
		size_t i = 0;
		while (i < n && !FC_STREQ(de->d_name, want[i]))
			i++;
		FUZZ_CHECK(i < n, "`%s/%s` was created outside the layer", what, de->d_name);
		seen++;
	}
	closedir(d);
	FUZZ_CHECK(seen == n, "something in `%s` was removed", what);
}

static void check_no_xattrs(const char *path)
{
	char buf[256];
	ssize_t n = llistxattr(path, buf, sizeof(buf));
	FUZZ_CHECK(n <= 0, "`%s` got extended attributes (%.*s)", path, (int)(n > 0 ? n : 0), buf);
}

static void check_outside(void)
{
	static const char *const top[] = {"outside"}, *const out[] = {"canary", "dir"};
	check_names(scratch_fd, ".", top, 1);
	check_names(scratch_fd, "outside", out, 2);
	check_names(scratch_fd, "outside/dir", NULL, 0);
	struct stat st;
	FUZZ_CHECK(fstatat(scratch_fd, "outside/canary", &st, AT_SYMLINK_NOFOLLOW) == 0,
	           "stat canary");
	FUZZ_CHECK(st.st_ino == canary_st.st_ino && st.st_mode == canary_st.st_mode &&
	               st.st_uid == canary_st.st_uid && st.st_gid == canary_st.st_gid &&
	               st.st_nlink == 1 && st.st_size == (off_t)strlen(CANARY) &&
	               st.st_mtim.tv_sec == canary_st.st_mtim.tv_sec &&
	               st.st_mtim.tv_nsec == canary_st.st_mtim.tv_nsec,
	           "the canary outside the layer changed (mode %o uid %u nlink %lu size %lld)",
	           st.st_mode, st.st_uid, (unsigned long)st.st_nlink, (long long)st.st_size);
	char buf[sizeof(CANARY)] = "";
	int fd = openat(scratch_fd, "outside/canary", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	FUZZ_CHECK(fd >= 0 && read(fd, buf, sizeof(buf)) == (ssize_t)strlen(CANARY) &&
	               memcmp(buf, CANARY, strlen(CANARY)) == 0,
	           "the canary's content changed");
	close(fd);
	FUZZ_CHECK(fstatat(scratch_fd, "outside", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	               st.st_mode == outside_st.st_mode && st.st_uid == outside_st.st_uid &&
	               st.st_gid == outside_st.st_gid,
	           "the directory outside the layer changed");
	FUZZ_CHECK(fstat(scratch_fd, &st) == 0 && st.st_mode == scratch_st.st_mode &&
	               st.st_uid == scratch_st.st_uid && st.st_gid == scratch_st.st_gid,
	           "the scratch directory changed");
	check_no_xattrs(scratch);
	check_no_xattrs(".");
	check_no_xattrs("canary");
	check_no_xattrs("dir");
}

/* Give every directory below dfd/name (never following a symlink) rwx for
 * its owner, so an unprivileged run can remove what it unpacked. */
static void make_removable(int dfd, const char *name)
{
	if (fchmodat(dfd, name, 0700, 0) < 0)
		return;
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	DIR *d = fdopendir(fd);
	struct dirent *de;
	while ((de = readdir(d)))
		if (de->d_type == DT_DIR && !FC_STREQ(de->d_name, ".") &&
		    !FC_STREQ(de->d_name, ".."))
			make_removable(dirfd(d), de->d_name);
	closedir(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *t = fc_malloc(size ? size : 1);
	memcpy(t, data, size);
	fix_checksums(t, size);
	int blob = memfd_create("fuzz-layer", MFD_CLOEXEC);
	FUZZ_CHECK(blob >= 0 && fc_write_all(blob, t, size) == 0 && lseek(blob, 0, SEEK_SET) == 0,
	           "memfd");
	free(t);

	FUZZ_CHECK(mkdirat(scratch_fd, "layer", 0755) == 0, "mkdir layer");
	int dir = openat(scratch_fd, "layer", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	FUZZ_CHECK(dir >= 0, "open layer");
	struct snap_limits lim = {.max_size = 16u << 20, .max_entries = 4096, .max_path = 4096};
	char diff_id[80];
	struct fc_error *err = NULL;
	int r = snap_unpack_layer(blob, FCSNAP_COMP_NONE, dir, &lim, size % 4 == 1, NULL, diff_id,
	                          -1, NULL, NULL, &err);
	fuzz_check_result("unpack", r, err);
	close(dir);
	close(blob);

	/* what the layer holds may be anything: make it removable, remove it */
	err = NULL;
	int rr = fc_rm_rf_at(scratch_fd, "layer", &err);
	if (rr < 0 && geteuid() != 0) { /* directories without search permission */
		fc_error_free(err);
		err = NULL;
		make_removable(scratch_fd, "layer");
		rr = fc_rm_rf_at(scratch_fd, "layer", &err);
	}
	FUZZ_CHECK(rr == 0, "remove the layer: %s", err ? err->msg : "?");
	check_outside();
	unsigned fds = count_fds(false);
	FUZZ_CHECK(fds == n_fds, "descriptors leaked (%u open, %u before; now %u)", fds, n_fds,
	           count_fds(true));
	return 0;
}
