/* SPDX-License-Identifier: MIT */
/* bench-tiers.c: the storage tiers of `fcstart bench coldstart`, built and
 * removed by the harness itself:
 *   tmpfs  a tmpfs mounted under the harness's dir
 *   disk   a dir under the harness's dir (on the root disk, /var/tmp by default)
 *   ssd    ext4 on its own loop device (direct I/O on a file under the harness's
 *   hdd    dir), its I/O limited through the blkio cgroup (v1
 *          blkio.throttle.{read,write}_{bps,iops}_device) or cgroup2 io.max
 *
 * The limits are set in one cgroup the harness makes and moves itself into
 * while it measures (everything it forks, the runtimes included, starts there);
 * the containers get the same limits through their config.json
 * (linux.resources.blockIO), since v1 blkio limits do not reach child cgroups.
 * On v1 the same limits are also set on the root cgroup for the loop device
 * alone: writeback (what the import's syncfs waits for) is issued by the
 * flusher threads and charged to the root cgroup, so without it the writes
 * would escape the tier's limits. Teardown clears them.
 * A limit counts a bio as one I/O: the loop device splits I/O into bios of at
 * most max_sectors_kb (512 KiB here), so sequential reads reach at most
 * IOPS x 512 KiB per second. Each limit is checked with O_DIRECT reads of the
 * loop device from inside the cgroup; the figures go into the report.
 */
#include "bench-coldstart.h"

#include <fcntl.h>
#include <linux/loop.h>
#include <linux/magic.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>

const char *const cs_tier_names[CS_NTIERS] = {"tmpfs", "disk", "ssd", "hdd"};

#define CG_BLKIO "/sys/fs/cgroup/blkio"

int cs_drop_caches(struct fc_error **err)
{
	sync();
	return fc_write_string_at(AT_FDCWD, "/proc/sys/vm/drop_caches", "3", err);
}

/* ---- cgroup ----------------------------------------------------------------- */

/* The cgroup2 mount point whose root lists the io controller, or NULL. */
static char *cg2_with_io(void)
{
	const char *cands[] = {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"};
	for (size_t i = 0; i < FC_ARRAY_SIZE(cands); i++) {
		struct statfs sf;
		if (statfs(cands[i], &sf) < 0 || sf.f_type != CGROUP2_SUPER_MAGIC)
			continue;
		_cleanup_free_ char *p = fc_asprintf("%s/cgroup.controllers", cands[i]);
		_cleanup_free_ char *s = NULL;
		if (fc_read_file_at(AT_FDCWD, p, &s, NULL, 0, NULL) < 0)
			continue;
		for (char *w = strtok(s, " \n"); w; w = strtok(NULL, " \n"))
			if (FC_STREQ(w, "io"))
				return fc_strdup(cands[i]);
	}
	return NULL;
}

/* Where this process is now, as a cgroup.procs path. */
static char *home_procs(int version, const char *mnt)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/cgroup", "re");
	char line[4096];
	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		char *c1 = strchr(line, ':');
		char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c2 = 0;
		const char *ctl = c1 + 1, *path = c2 + 1;
		bool match = false;
		if (version == 2)
			match = *ctl == 0;
		else if (*ctl)
			for (char *sv = NULL, *w = strtok_r((char *)ctl, ",", &sv); w;
			     w = strtok_r(NULL, ",", &sv))
				if (FC_STREQ(w, "blkio"))
					match = true;
		if (match)
			return fc_asprintf("%s%s%scgroup.procs", mnt, path,
			                   path[strlen(path) - 1] == '/' ? "" : "/");
	}
	return NULL;
}

static int cg_make(struct cs_tiers *ts, struct fc_error **err)
{
	struct cs_cgroup *cg = &ts->cg;
	_cleanup_free_ char *mnt = NULL;
	if (access(CG_BLKIO "/blkio.throttle.read_bps_device", W_OK) == 0) {
		cg->version = 1;
		mnt = fc_strdup(CG_BLKIO);
	} else if ((mnt = cg2_with_io())) {
		cg->version = 2;
		_cleanup_free_ char *sc = fc_asprintf("%s/cgroup.subtree_control", mnt);
		_cleanup_free_ char *cur = NULL;
		if (fc_read_file_at(AT_FDCWD, sc, &cur, NULL, 0, NULL) < 0 || !strstr(cur, "io"))
			return fc_error_set(
			    err, ENOTSUP,
			    "the io controller is not enabled in `%s` (the harness does "
			    "not change the host's subtree_control)",
			    sc);
	} else {
		return fc_error_set(err, ENOTSUP,
		                    "neither v1 blkio throttling (`%s`) nor a cgroup2 "
		                    "io controller is available",
		                    CG_BLKIO);
	}
	cg->home = home_procs(cg->version, mnt);
	if (!cg->home)
		return fc_error_set(err, ENOENT,
		                    "cannot tell this process's %s cgroup from "
		                    "/proc/self/cgroup",
		                    cg->version == 1 ? "blkio" : "cgroup2");
	char *path = fc_asprintf("%s/fcb-coldstart-%d", mnt, (int)getpid());
	if (mkdir(path, 0755) < 0) {
		int e = errno;
		free(path);
		return fc_error_set(err, e, "mkdir cgroup `%s/fcb-coldstart-%d`", mnt,
		                    (int)getpid());
	}
	cg->path = path;
	return 0;
}

static const char *const v1_files[] = {
    "blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device",
    "blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device"};

static int v1_write_limits(const char *dir, const struct cs_tier *t, bool clear,
                           struct fc_error **err)
{
	int r = 0;
	for (size_t i = 0; i < 4 && r >= 0; i++) {
		_cleanup_free_ char *p = fc_asprintf("%s/%s", dir, v1_files[i]);
		_cleanup_free_ char *v = fc_asprintf(
		    "%u:%u %llu", t->major, t->minor,
		    clear ? 0ULL : (unsigned long long)(i < 2 ? t->lim_bps : t->lim_iops));
		r = fc_write_string_at(AT_FDCWD, p, v, err);
	}
	return r;
}

/* v1: the limits go on our cgroup (our own reads and writes, the runtimes') and
 * on the root cgroup for this device only (nobody else uses it): writeback,
 * which the import's syncfs waits for, is issued by the flusher and charged to
 * the root cgroup on v1. cgroup2 charges writeback to the writer's cgroup. */
static int cg_limit(struct cs_tiers *ts, struct cs_tier *t, struct fc_error **err)
{
	struct cs_cgroup *cg = &ts->cg;
	int r;
	if (cg->version == 1) {
		r = v1_write_limits(cg->path, t, false, err);
		if (r >= 0) {
			t->root_limited = true;
			r = v1_write_limits(CG_BLKIO, t, false, err);
		}
		return r;
	}
	_cleanup_free_ char *p = fc_asprintf("%s/io.max", cg->path);
	_cleanup_free_ char *v =
	    fc_asprintf("%u:%u rbps=%llu wbps=%llu riops=%llu wiops=%llu", t->major, t->minor,
	                (unsigned long long)t->lim_bps, (unsigned long long)t->lim_bps,
	                (unsigned long long)t->lim_iops, (unsigned long long)t->lim_iops);
	return fc_write_string_at(AT_FDCWD, p, v, err);
}

int cs_cgroup_enter(struct cs_tiers *ts, struct fc_error **err)
{
	if (!ts->cg.path || ts->cg.joined)
		return 0;
	_cleanup_free_ char *p = fc_asprintf("%s/cgroup.procs", ts->cg.path);
	int r = fc_write_string_at(AT_FDCWD, p, "0", err);
	if (r >= 0)
		ts->cg.joined = true;
	return r;
}

int cs_cgroup_leave(struct cs_tiers *ts, struct fc_error **err)
{
	if (!ts->cg.joined)
		return 0;
	int r = fc_write_string_at(AT_FDCWD, ts->cg.home, "0", err);
	if (r >= 0)
		ts->cg.joined = false;
	return r;
}

/* ---- the limit check --------------------------------------------------------- */

static double now_s(void)
{
	return (double)fc_now_ns() / 1e9;
}

/* O_DIRECT reads of the device from inside the cgroup: sequential 1 MiB reads
 * for about a second at the limit, then 4 KiB reads at scattered offsets
 * for about a second at the limit. The throttle lets a short burst through at
 * first, so the figures run a little above the limits. */
static int check_limit(struct cs_tiers *ts, struct cs_tier *t, struct fc_error **err)
{
	_cleanup_close_ int fd = open(t->loopdev, O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (fd < 0)
		return fc_error_set(err, errno, "open `%s` O_DIRECT", t->loopdev);
	uint64_t devsize = ts->size;
	void *buf = NULL;
	if (posix_memalign(&buf, 4096, 1 << 20) != 0)
		abort();
	int r = cs_cgroup_enter(ts, err);
	if (r < 0) {
		free(buf);
		return r;
	}
	uint64_t want = t->lim_bps;
	if (want > devsize - (1 << 20))
		want = devsize - (1 << 20);
	want &= ~(uint64_t)((1 << 20) - 1);
	double t0 = now_s();
	uint64_t done = 0;
	while (done < want) {
		ssize_t n = pread(fd, buf, 1 << 20, (off_t)done);
		if (n <= 0) {
			r = fc_error_set(err, n < 0 ? errno : EIO, "read `%s` at %llu", t->loopdev,
			                 (unsigned long long)done);
			break;
		}
		done += (uint64_t)n;
	}
	double t1 = now_s();
	unsigned nio = (unsigned)t->lim_iops;
	if (nio < 20)
		nio = 20;
	uint64_t x = 0x9e3779b97f4a7c15ULL ^ (uint64_t)getpid();
	for (unsigned i = 0; i < nio && r >= 0; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		off_t off = (off_t)((x % (devsize / 4096 - 1)) * 4096);
		if (pread(fd, buf, 4096, off) != 4096)
			r = fc_error_set(err, errno ? errno : EIO, "read `%s`", t->loopdev);
	}
	double t2 = now_s();
	free(buf);
	struct fc_error *e2 = NULL;
	cs_cgroup_leave(ts, &e2);
	fc_error_free(e2);
	if (r < 0)
		return r;
	t->meas_mbps = (double)done / 1e6 / (t1 - t0);
	t->meas_iops = (double)nio / (t2 - t1);
	double lim_mbps = (double)t->lim_bps / 1e6;
	/* sequential reads are bounded by both: IOPS x 512 KiB bios */
	double seq_bound = lim_mbps;
	if ((double)t->lim_iops * 0.524288 < seq_bound)
		seq_bound = (double)t->lim_iops * 0.524288;
	t->note =
	    fc_asprintf("limits %.0f MB/s, %llu IOPS (read and write); O_DIRECT check: "
	                "%.0f MB/s sequential (1 MiB reads), %.0f IOPS (4 KiB random reads)%s",
	                lim_mbps, (unsigned long long)t->lim_iops, t->meas_mbps, t->meas_iops,
	                t->dio ? "" : "; the loop device does buffered I/O on its file");
	if (t->meas_mbps > seq_bound * 1.5 || t->meas_iops > (double)t->lim_iops * 1.5)
		return fc_error_set(err, 0, "the limit did not take effect: %s", t->note);
	return 0;
}

static void io_stats_of(struct cs_tiers *ts, const char *dir, bool root);

/* ---- building ---------------------------------------------------------------- */

static int loop_attach(struct cs_tier *t, struct fc_error **err)
{
	_cleanup_close_ int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return fc_error_set(err, errno, "open /dev/loop-control");
	_cleanup_close_ int bfd = open(t->backing, O_RDWR | O_CLOEXEC);
	if (bfd < 0)
		return fc_error_set(err, errno, "open `%s`", t->backing);
	for (int attempt = 0; attempt < 10; attempt++) {
		int nr = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (nr < 0)
			return fc_error_set(err, errno, "LOOP_CTL_GET_FREE");
		char dev[32];
		snprintf(dev, sizeof(dev), "/dev/loop%d", nr);
		_cleanup_close_ int lfd = open(dev, O_RDWR | O_CLOEXEC);
		if (lfd < 0)
			return fc_error_set(err, errno, "open `%s`", dev);
		struct loop_config cfg = {.fd = (unsigned)bfd};
		/* autoclear: the device goes away with the last user (our mount) */
		cfg.info.lo_flags = LO_FLAGS_DIRECT_IO | LO_FLAGS_AUTOCLEAR;
		snprintf((char *)cfg.info.lo_file_name, LO_NAME_SIZE, "%s", t->backing);
		if (ioctl(lfd, LOOP_CONFIGURE, &cfg) < 0) {
			if (errno == EBUSY)
				continue;
			return fc_error_set(err, errno, "LOOP_CONFIGURE `%s` on `%s`", t->backing,
			                    dev);
		}
		struct stat st;
		if (fstat(lfd, &st) < 0)
			return fc_error_set(err, errno, "stat `%s`", dev);
		t->loopdev = fc_strdup(dev);
		t->major = major(st.st_rdev);
		t->minor = minor(st.st_rdev);
		_cleanup_free_ char *dio = fc_asprintf("/sys/block/loop%d/loop/dio", nr);
		_cleanup_free_ char *s = NULL;
		t->dio = fc_read_file_at(AT_FDCWD, dio, &s, NULL, 0, NULL) >= 0 && s[0] == '1';
		if (mount(dev, t->dir, "ext4", MS_NOATIME, NULL) < 0) {
			int e = errno;
			ioctl(lfd, LOOP_CLR_FD, 0);
			return fc_error_set(err, e, "mount `%s` (ext4 on `%s`) on `%s`", dev,
			                    t->backing, t->dir);
		}
		t->mounted = true;
		t->mnt_id = bench_mount_id(t->dir);
		return 0; /* lfd closes: the mount keeps the device */
	}
	return fc_error_set(err, EBUSY, "no free loop device");
}

static int build_one(struct cs_tiers *ts, struct cs_tier *t, struct fc_error **err)
{
	int r;
	t->dir = fc_asprintf("%s/%s", ts->workdir, cs_tier_names[t->kind]);
	if (mkdir(t->dir, 0755) < 0)
		return fc_error_set(err, errno, "mkdir `%s`", t->dir);
	switch (t->kind) {
	case CS_TMPFS: {
		_cleanup_free_ char *o =
		    fc_asprintf("size=%llu,mode=0755", (unsigned long long)ts->size);
		if (mount("tmpfs", t->dir, "tmpfs", MS_NOSUID | MS_NODEV, o) < 0)
			return fc_error_set(err, errno, "mount tmpfs on `%s`", t->dir);
		t->mounted = true;
		t->mnt_id = bench_mount_id(t->dir);
		return 0;
	}
	case CS_DISK: {
		struct statfs sf;
		if (statfs(t->dir, &sf) < 0)
			return fc_error_set(err, errno, "statfs `%s`", t->dir);
		if (sf.f_type == TMPFS_MAGIC || sf.f_type == RAMFS_MAGIC)
			return fc_error_set(err, ENOTSUP,
			                    "`%s` is on tmpfs, not on a disk (use "
			                    "--workdir on a disk)",
			                    t->dir);
		return 0;
	}
	default:
		break;
	}
	if (!ts->cg.path)
		return fc_error_set(err, ENOTSUP, "no cgroup to limit its I/O");
	t->backing = fc_asprintf("%s/%s.img", ts->workdir, cs_tier_names[t->kind]);
	_cleanup_close_ int fd = open(t->backing, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return fc_error_set(err, errno, "create `%s`", t->backing);
	if (ftruncate(fd, (off_t)ts->size) < 0)
		return fc_error_set(err, errno, "truncate `%s`", t->backing);
	char *mkfs[] = {
	    "mkfs.ext4", "-q", "-F", "-m", "0", "-E", "lazy_itable_init=0,lazy_journal_init=0",
	    t->backing,  NULL};
	if ((r = bench_exec_quiet(mkfs, 600, err)) < 0)
		return r;
	if ((r = loop_attach(t, err)) < 0)
		return r;
	if ((r = cg_limit(ts, t, err)) < 0)
		return fc_error_wrap(err, "set the limits");
	if (ts->cg.version == 1) {
		t->root_write_base = 0;
		io_stats_of(ts, CG_BLKIO, true);
		t->root_write_base = t->root_write_bytes > 0 ? t->root_write_bytes : 0;
	}
	if ((r = check_limit(ts, t, err)) < 0)
		return r;
	return 0;
}

int cs_tiers_build(struct cs_tiers *ts, struct fc_error **err)
{
	bool limited = ts->t[CS_SSD].wanted || ts->t[CS_HDD].wanted;
	struct fc_error *cgerr = NULL;
	if (limited && cg_make(ts, &cgerr) < 0) {
		for (int k = CS_SSD; k <= CS_HDD; k++)
			if (ts->t[k].wanted)
				ts->t[k].why = fc_asprintf("no I/O limits: %s", cgerr->msg);
		fc_error_free(cgerr);
	}
	for (int k = 0; k < CS_NTIERS; k++) {
		struct cs_tier *t = &ts->t[k];
		t->kind = (enum cs_tier_kind)k;
		if (!t->wanted || t->why)
			continue;
		struct fc_error *e = NULL;
		if (build_one(ts, t, &e) < 0) {
			t->why = fc_strdup(e->msg);
			fc_error_free(e);
			continue;
		}
		t->ok = true;
	}
	(void)err;
	return 0;
}

/* ---- what the cgroup counted ------------------------------------------------- */

static void io_stats_of(struct cs_tiers *ts, const char *dir, bool root)
{
	_cleanup_free_ char *p = fc_asprintf(
	    "%s/%s", dir, ts->cg.version == 1 ? "blkio.throttle.io_service_bytes" : "io.stat");
	_cleanup_free_ char *s = NULL;
	if (fc_read_file_at(AT_FDCWD, p, &s, NULL, 0, NULL) < 0)
		return;
	char *save = NULL;
	for (char *line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned ma, mi;
		int off = 0;
		if (sscanf(line, "%u:%u %n", &ma, &mi, &off) != 2)
			continue;
		for (int k = 0; k < CS_NTIERS; k++) {
			struct cs_tier *t = &ts->t[k];
			if (!t->loopdev || t->major != ma || t->minor != mi)
				continue;
			const char *rest = line + off;
			unsigned long long v;
			if (ts->cg.version == 1 && root) {
				/* the root's counters outlive a loop device: count from the build
				 */
				if (sscanf(rest, "Write %llu", &v) == 1)
					t->root_write_bytes = (int64_t)v - t->root_write_base;
			} else if (ts->cg.version == 1) {
				if (sscanf(rest, "Read %llu", &v) == 1)
					t->cg_read_bytes = (int64_t)v;
				else if (sscanf(rest, "Write %llu", &v) == 1)
					t->cg_write_bytes = (int64_t)v;
			} else {
				const char *r = strstr(rest, "rbytes="),
				           *w = strstr(rest, "wbytes=");
				if (r)
					t->cg_read_bytes = strtoll(r + 7, NULL, 10);
				if (w)
					t->cg_write_bytes = strtoll(w + 7, NULL, 10);
			}
		}
	}
}

void cs_tiers_io_stats(struct cs_tiers *ts)
{
	for (int k = 0; k < CS_NTIERS; k++)
		ts->t[k].cg_read_bytes = ts->t[k].cg_write_bytes = ts->t[k].root_write_bytes = -1;
	if (!ts->cg.path)
		return;
	io_stats_of(ts, ts->cg.path, false);
	if (ts->cg.version == 1)
		io_stats_of(ts, CG_BLKIO, true);
}

/* ---- teardown ---------------------------------------------------------------- */

static void keep_first(struct fc_error **err, int *ret, struct fc_error *e)
{
	if (!e)
		return;
	if (*ret == 0) {
		*ret = fc_error_code(e);
		if (err && !*err) {
			*err = e;
			return;
		}
	}
	fc_error_free(e);
}

static int teardown_one(struct cs_tier *t, struct fc_error **err)
{
	int ret = 0;
	if (t->root_limited) {
		struct fc_error *e = NULL;
		if (v1_write_limits(CG_BLKIO, t, true, &e) < 0)
			keep_first(err, &ret, e);
		t->root_limited = false;
	}
	if (t->mounted) {
		struct fc_error *e = NULL;
		if (bench_mount_id(t->dir) != t->mnt_id) {
			fc_error_set(&e, EBUSY,
			             "the mount at `%s` is not ours any more: left alone", t->dir);
			keep_first(err, &ret, e);
		} else {
			int r = -1;
			for (int i = 0;
			     i < 50 && (r = umount2(t->dir, UMOUNT_NOFOLLOW)) < 0 && errno == EBUSY;
			     i++)
				bench_sleep_ms(100, NULL);
			if (r < 0 && errno != EINVAL) {
				fc_error_set(&e, errno, "umount `%s` (detached lazily)", t->dir);
				umount2(t->dir, MNT_DETACH | UMOUNT_NOFOLLOW);
				keep_first(err, &ret, e);
			}
			t->mounted = false;
		}
	}
	if (t->loopdev) {
		/* autoclear detaches it with the umount; make sure (losetup -d) */
		_cleanup_free_ char *bf =
		    fc_asprintf("/sys/block/%s/loop/backing_file", t->loopdev + 5);
		_cleanup_free_ char *s = NULL;
		for (int i = 0; i < 20 && fc_read_file_at(AT_FDCWD, bf, &s, NULL, 0, NULL) >= 0 &&
		                strstr(s, t->backing);
		     i++) {
			free(TAKE_PTR(s));
			if (i == 10) {
				int fd = open(t->loopdev, O_RDONLY | O_CLOEXEC);
				if (fd >= 0) {
					ioctl(fd, LOOP_CLR_FD, 0);
					close(fd);
				}
			}
			bench_sleep_ms(50, NULL);
		}
		free(TAKE_PTR(t->loopdev));
	}
	if (t->backing && unlink(t->backing) < 0 && errno != ENOENT) {
		struct fc_error *e = NULL;
		fc_error_set(&e, errno, "unlink `%s`", t->backing);
		keep_first(err, &ret, e);
	}
	return ret;
}

static int cmp_len_desc(const void *a, const void *b)
{
	size_t x = strlen(*(char *const *)a), y = strlen(*(char *const *)b);
	return x < y ? 1 : x > y ? -1 : 0;
}

/* Whatever is still mounted below the harness's dir and is not a tier (an
 * engine's overlay, a bundle a failure left): unmounted, deepest first. */
static void umount_strays(struct cs_tiers *ts)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[8192];
	char **v = NULL;
	size_t n = 0, plen = strlen(ts->workdir);
	while (f && fgets(line, sizeof(line), f)) {
		char mp[4096];
		if (sscanf(line, "%*d %*d %*s %*s %4095s", mp) != 1)
			continue;
		if (strncmp(mp, ts->workdir, plen) != 0 || mp[plen] != '/')
			continue;
		bool tier = false;
		for (int k = 0; k < CS_NTIERS; k++)
			if (ts->t[k].mounted && FC_STREQ(ts->t[k].dir, mp))
				tier = true;
		if (tier)
			continue;
		v = fc_realloc(v, (n + 1) * sizeof(char *));
		v[n++] = fc_strdup(mp);
	}
	if (n)
		qsort(v, n, sizeof(char *), cmp_len_desc);
	for (size_t i = 0; i < n; i++) {
		if (umount2(v[i], UMOUNT_NOFOLLOW) < 0 && errno != EINVAL && errno != ENOENT)
			umount2(v[i], MNT_DETACH | UMOUNT_NOFOLLOW);
		free(v[i]);
	}
	free(v);
}

int cs_tiers_teardown(struct cs_tiers *ts, struct fc_error **err)
{
	int ret = 0;
	struct fc_error *e = NULL;
	if (cs_cgroup_leave(ts, &e) < 0)
		keep_first(err, &ret, TAKE_PTR(e));
	if (ts->workdir)
		umount_strays(ts);
	for (int k = 0; k < CS_NTIERS; k++) {
		struct cs_tier *t = &ts->t[k];
		teardown_one(t, &e);
		keep_first(err, &ret, TAKE_PTR(e));
	}
	if (ts->cg.path) {
		int r = -1;
		for (int i = 0; i < 100 && (r = rmdir(ts->cg.path)) < 0 && errno == EBUSY; i++)
			bench_sleep_ms(50, NULL);
		if (r < 0 && errno != ENOENT) {
			fc_error_set(&e, errno, "rmdir cgroup `%s`", ts->cg.path);
			keep_first(err, &ret, TAKE_PTR(e));
		}
		free(TAKE_PTR(ts->cg.path));
	}
	if (ts->workdir) {
		bool busy = false;
		for (int k = 0; k < CS_NTIERS; k++)
			busy |= ts->t[k].mounted;
		if (!busy && fc_rm_rf_at(AT_FDCWD, ts->workdir, &e) < 0)
			keep_first(err, &ret, TAKE_PTR(e));
		else if (busy)
			fc_log(FC_LOG_WARN,
			       "bench coldstart: `%s` left in place: a tier is still mounted",
			       ts->workdir);
		free(TAKE_PTR(ts->workdir));
	}
	return ret;
}
