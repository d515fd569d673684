/* SPDX-License-Identifier: MIT */
/* bench-host.c: the host around a harness run: crun's cgroup fix-up, and the
 * ids and removal of the mounts a harness made.
 *
 * crun 1.8 refuses a hybrid cgroup host while the cgroup2 tree
 * (/sys/fs/cgroup/unified) still holds a controller ("cgroups in hybrid mode
 * not supported, drop all controllers from cgroupv2"). For the benchmark's
 * duration each such controller (hugetlb on Debian 12) is mounted as its own v1
 * hierarchy, which moves it off cgroup2, and the host is put back afterwards.
 *
 * Kernel behaviour this relies on (checked on this host): mounting a v1
 * hierarchy with a controller that no cgroup2 cgroup enables moves it; on
 * umount the hierarchy is destroyed and the controller returns to cgroup2 only
 * if the hierarchy has no child cgroups left, dying ones included (a container
 * cgroup that was just removed can still be dying). So before the umount we wait
 * until /proc/cgroups counts only the root cgroup, and if the controller does
 * not come back we mount the hierarchy again (the kernel reuses it), wait, and
 * retry. */
#include "bench.h"

#include <dirent.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <time.h>

#define CG_BASE "/sys/fs/cgroup"
#define CG2     CG_BASE "/unified"

/* Is word in a space-separated list? */
static bool has_word(const char *list, const char *w)
{
	size_t n = strlen(w);
	for (const char *p = list; (p = strstr(p, w)); p += n)
		if ((p == list || p[-1] == ' ' || p[-1] == '\n') &&
		    (p[n] == 0 || p[n] == ' ' || p[n] == '\n'))
			return true;
	return false;
}

static char *read_trim(const char *path)
{
	char *s = NULL;
	if (fc_read_file_at(AT_FDCWD, path, &s, NULL, 0, NULL) < 0)
		return NULL;
	size_t l = strlen(s);
	while (l && (s[l - 1] == '\n' || s[l - 1] == ' '))
		s[--l] = 0;
	return s;
}

static bool on_cgroup2(const char *ctl)
{
	_cleanup_free_ char *c = read_trim(CG2 "/cgroup.controllers");
	return c && has_word(c, ctl);
}

/* num_cgroups of the controller's hierarchy in /proc/cgroups, -1 if unknown. */
static long hierarchy_cgroups(const char *ctl)
{
	_cleanup_free_ char *s = NULL;
	if (fc_read_file_at(AT_FDCWD, "/proc/cgroups", &s, NULL, 0, NULL) < 0)
		return -1;
	for (char *line = strtok(s, "\n"); line; line = strtok(NULL, "\n")) {
		char name[64];
		int hier, num, en;
		if (sscanf(line, "%63s %d %d %d", name, &hier, &num, &en) == 4 &&
		    FC_STREQ(name, ctl))
			return num;
	}
	return -1;
}

/* ---- the host's state ------------------------------------------------------- */

static long meminfo_kib(const char *text, const char *key)
{
	const char *p = strstr(text, key);
	return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

long bench_kib_field(const char *file, const char *field)
{
	_cleanup_free_ char *data = NULL;
	if (fc_read_file_at(AT_FDCWD, file, &data, NULL, 0, NULL) < 0)
		return -1;
	return meminfo_kib(data, field);
}

static long count_dirs(const char *dir, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	long n = 1;
	if (!d)
		return 0;
	while (depth < 16 && (de = readdir(d)))
		if (de->d_type == DT_DIR && de->d_name[0] != '.') {
			_cleanup_free_ char *sub = fc_asprintf("%s/%s", dir, de->d_name);
			n += count_dirs(sub, depth + 1);
		}
	closedir(d);
	return n;
}

void bench_host_state(struct bench_host_state *s)
{
	_cleanup_free_ char *mi = NULL, *up = NULL, *la = NULL, *mnt = NULL;
	*s = (struct bench_host_state){.mem_available_kib = -1,
	                               .slab_kib = -1,
	                               .sunreclaim_kib = -1,
	                               .memcg_all = -1,
	                               .memcg_live = -1,
	                               .mounts = -1};
	if (fc_read_file_at(AT_FDCWD, "/proc/meminfo", &mi, NULL, 0, NULL) >= 0) {
		s->mem_available_kib = meminfo_kib(mi, "\nMemAvailable:");
		s->slab_kib = meminfo_kib(mi, "\nSlab:");
		s->sunreclaim_kib = meminfo_kib(mi, "\nSUnreclaim:");
	}
	if (fc_read_file_at(AT_FDCWD, "/proc/uptime", &up, NULL, 0, NULL) >= 0)
		s->uptime_s = strtod(up, NULL);
	if (fc_read_file_at(AT_FDCWD, "/proc/loadavg", &la, NULL, 0, NULL) >= 0)
		s->load1 = strtod(la, NULL);
	if (fc_read_file_at(AT_FDCWD, "/proc/self/mountinfo", &mnt, NULL, 0, NULL) >= 0) {
		s->mounts = 0;
		for (const char *p = mnt; (p = strchr(p, '\n')); p++)
			s->mounts++;
	}
	struct stat st;
	if (stat(CG_BASE "/memory", &st) == 0) {
		s->memcg_all = hierarchy_cgroups("memory");
		s->memcg_live = count_dirs(CG_BASE "/memory", 0);
	} else {
		/* pure cgroup2: the root's descendants (each holds a memory css
		 * when the controller is on), plus the root */
		_cleanup_free_ char *cs = NULL;
		if (fc_read_file_at(AT_FDCWD, CG_BASE "/cgroup.stat", &cs, NULL, 0, NULL) >= 0) {
			char *l = strstr(cs, "nr_descendants "),
			     *dd = strstr(cs, "nr_dying_descendants ");
			long live = l ? strtol(l + 15, NULL, 10) : -1;
			long dying = dd ? strtol(dd + 21, NULL, 10) : 0;
			if (live >= 0) {
				s->memcg_live = live + 1;
				s->memcg_all = live + 1 + dying;
			}
		}
	}
}

void bench_host_state_text(const struct bench_host_state *s, struct fc_buf *out)
{
	long up = (long)s->uptime_s;
	fc_buf_printf(out, "up %ldh%02ldm, load %.1f", up / 3600, up / 60 % 60, s->load1);
	if (s->memcg_all >= 0)
		fc_buf_printf(out, ", memory cgroups %ld (%ld dying)", s->memcg_all,
		              s->memcg_all - s->memcg_live);
	if (s->slab_kib >= 0)
		fc_buf_printf(out, ", slab %.1f MiB (%.1f unreclaimable)", s->slab_kib / 1024.0,
		              s->sunreclaim_kib / 1024.0);
	if (s->mem_available_kib >= 0)
		fc_buf_printf(out, ", MemAvailable %.2f GiB", s->mem_available_kib / 1048576.0);
	if (s->mounts >= 0)
		fc_buf_printf(out, ", %ld mounts", s->mounts);
}

void bench_host_state_json(const struct bench_host_state *s, struct fc_buf *out)
{
	fc_buf_printf(out,
	              "{\"uptime_s\": %.0f, \"load1\": %.2f, \"mem_available_kib\": %ld, "
	              "\"slab_kib\": %ld, \"sunreclaim_kib\": %ld, \"memcg_all\": %ld, "
	              "\"memcg_live\": %ld, \"mounts\": %ld}",
	              s->uptime_s, s->load1, s->mem_available_kib, s->slab_kib, s->sunreclaim_kib,
	              s->memcg_all, s->memcg_live, s->mounts);
}

/* Is a v1 hierarchy with this controller mounted anywhere? */
static bool v1_mounted(const char *ctl)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		char *sep = strstr(line, " - ");
		char fstype[64], src[256], opts[2048];
		if (!sep || sscanf(sep + 3, "%63s %255s %2047s", fstype, src, opts) != 3)
			continue;
		if (!FC_STREQ(fstype, "cgroup"))
			continue;
		for (char *o = strtok(opts, ","); o; o = strtok(NULL, ","))
			if (FC_STREQ(o, ctl))
				return true;
	}
	return false;
}

int bench_mount_id(const char *path)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096], mp[PATH_MAX];
	int id = -1, cur, parent;
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char dev[64], root[PATH_MAX];
		if (sscanf(line, "%d %d %63s %4095s %4095s", &cur, &parent, dev, root, mp) == 5 &&
		    FC_STREQ(mp, path))
			id = cur;
	}
	return id;
}

static int set_parent_rw(bool rw, struct fc_error **err)
{
	struct statvfs sv;
	if (statvfs(CG_BASE, &sv) < 0)
		return fc_error_set(err, errno, "statvfs `%s`", CG_BASE);
	unsigned long fl = MS_REMOUNT;
	if (sv.f_flag & ST_NOSUID)
		fl |= MS_NOSUID;
	if (sv.f_flag & ST_NODEV)
		fl |= MS_NODEV;
	if (sv.f_flag & ST_NOEXEC)
		fl |= MS_NOEXEC;
	if (!rw)
		fl |= MS_RDONLY;
	if (mount(NULL, CG_BASE, NULL, fl, NULL) < 0)
		return fc_error_set(err, errno, "remount `%s` %s", CG_BASE, rw ? "rw" : "ro");
	return 0;
}

/* Umount one hierarchy and see its controller back on cgroup2. */
/* fcrun keeps the parent cgroup it makes (/fcrun, tagged trusted.fcrun=parent),
 * as runc keeps its own. In a hierarchy the benchmark mounted it was made
 * during the run, and it would keep the controller from going back to
 * cgroup2: removed once empty, not while a create holds fcrun's lock. */
static void remove_fcrun_parent(const char *path)
{
	_cleanup_free_ char *dir = fc_asprintf("%s/fcrun", path);
	char v[16];
	ssize_t n = lgetxattr(dir, "trusted.fcrun", v, sizeof(v));
	if (n != 6 || memcmp(v, "parent", 6))
		return;
	_cleanup_close_ int lock = open("/sys/fs/cgroup", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (lock >= 0 && flock(lock, LOCK_EX | LOCK_NB) == 0)
		rmdir(dir);
}

static int undo_one(const char *name, const char *path, int mnt_id, struct fc_error **err)
{
	for (int attempt = 0; attempt < 4; attempt++) {
		/* wait (up to 10 s) for dying child cgroups to be freed */
		for (int i = 0; i < 200 && hierarchy_cgroups(name) > 1; i++) {
			remove_fcrun_parent(path);
			if (hierarchy_cgroups(name) > 1)
				bench_sleep_ms(50, NULL);
		}
		if (hierarchy_cgroups(name) > 1)
			return fc_error_set(
			    err, EBUSY,
			    "`%s` still holds %ld cgroups (in use by someone else?): "
			    "left mounted",
			    path, hierarchy_cgroups(name) - 1);
		if (bench_mount_id(path) != mnt_id)
			return fc_error_set(err, EBUSY,
			                    "the mount at `%s` is no longer the one the benchmark "
			                    "made: left alone",
			                    path);
		if (umount2(path, 0) < 0 && errno != EINVAL)
			return fc_error_set(err, errno, "umount `%s`", path);
		for (int i = 0; i < 40 && !on_cgroup2(name); i++)
			bench_sleep_ms(50, NULL);
		if (on_cgroup2(name))
			return 0;
		/* the hierarchy outlived its mount (a child cgroup was still dying):
		 * mount it again so it can be destroyed properly */
		if (mount(name, path, "cgroup", 0, name) < 0)
			return fc_error_set(err, errno, "mount `%s` again to release it", path);
		mnt_id = bench_mount_id(path);
		bench_sleep_ms(200, NULL);
	}
	return fc_error_set(err, EBUSY,
	                    "controller `%s` did not return to cgroup2; left mounted at `%s`", name,
	                    path);
}

int bench_host_fix_restore(struct bench_host_fix *f, struct fc_error **err)
{
	int ret = 0;
	bool need_rw = false;
	while (f->n > 0) {
		size_t i = f->n - 1;
		struct fc_error *e = NULL;
		int r = undo_one(f->m[i].name, f->m[i].path, f->m[i].mnt_id, &e);
		if (r < 0) {
			if (ret == 0 && err && !*err) {
				*err = TAKE_PTR(e);
				ret = r;
			}
			fc_error_free(e);
			f->m[i].made_dir = false; /* still mounted: keep the dir */
		}
		if (f->m[i].made_dir) {
			if (f->parent_was_ro && !need_rw) {
				if (set_parent_rw(true, NULL) == 0)
					need_rw = true;
			}
			if (rmdir(f->m[i].path) < 0 && ret == 0)
				ret = fc_error_set(err, errno, "rmdir `%s`", f->m[i].path);
		}
		free(f->m[i].name);
		free(f->m[i].path);
		f->n--;
	}
	if (need_rw)
		set_parent_rw(false, NULL);
	return ret;
}

int bench_host_fix_apply(struct bench_host_fix *f, struct fc_error **err)
{
	memset(f, 0, sizeof(*f));
	if (geteuid() != 0)
		return 0;
	_cleanup_free_ char *ctls = read_trim(CG2 "/cgroup.controllers");
	if (!ctls || !*ctls)
		return 0; /* no cgroup2 tree here, or it holds nothing */
	_cleanup_free_ char *used = read_trim(CG2 "/cgroup.subtree_control");
	int r = 0;
	char *save = NULL;
	for (char *c = strtok_r(ctls, " ", &save); c; c = strtok_r(NULL, " ", &save)) {
		if (v1_mounted(c))
			continue;
		if (used && has_word(used, c)) {
			r = fc_error_set(
			    err, EBUSY,
			    "`%s` is enabled in `%s/cgroup.subtree_control`: cannot move it "
			    "to a v1 hierarchy",
			    c, CG2);
			break;
		}
		if (f->n >= BENCH_HOST_MAX)
			break;
		_cleanup_free_ char *path = fc_asprintf("%s/%s", CG_BASE, c);
		bool made = false;
		if (mkdir(path, 0755) == 0) {
			made = true;
		} else if (errno == EROFS) {
			if ((r = set_parent_rw(true, err)) < 0)
				break;
			f->parent_was_ro = true;
			if (mkdir(path, 0755) < 0) {
				r = fc_error_set(err, errno, "mkdir `%s`", path);
				set_parent_rw(false, NULL);
				break;
			}
			made = true;
			if ((r = set_parent_rw(false, err)) < 0) {
				rmdir(path);
				break;
			}
		} else if (errno != EEXIST) {
			r = fc_error_set(err, errno, "mkdir `%s`", path);
			break;
		}
		if (mount(c, path, "cgroup", 0, c) < 0) {
			r = fc_error_set(err, errno, "mount -t cgroup -o %s %s", c, path);
			if (made) {
				if (f->parent_was_ro)
					set_parent_rw(true, NULL);
				rmdir(path);
				if (f->parent_was_ro)
					set_parent_rw(false, NULL);
			}
			break;
		}
		f->m[f->n].name = fc_strdup(c);
		f->m[f->n].path = TAKE_PTR(path);
		f->m[f->n].made_dir = made;
		f->m[f->n].mnt_id = bench_mount_id(f->m[f->n].path);
		f->n++;
		if (on_cgroup2(c)) {
			r = fc_error_set(err, EBUSY,
			                 "`%s` is still listed in `%s/cgroup.controllers` "
			                 "after mounting it at `%s`",
			                 c, CG2, f->m[f->n - 1].path);
			break;
		}
	}
	if (r < 0) {
		bench_host_fix_restore(f, NULL);
		return r;
	}
	return f->n > 0 ? 1 : 0;
}

int bench_host_fix_for_crun(struct bench_host_fix *f, char **note)
{
	struct fc_error *e = NULL;
	int r = bench_host_fix_apply(f, &e);
	if (r > 0) {
		struct fc_buf list = {0};
		for (size_t i = 0; i < f->n; i++)
			fc_buf_printf(&list, "%s%s", i ? ", " : "", f->m[i].path);
		*note = fc_asprintf("mounted the cgroup2 controller(s) as v1 hierarchies for crun "
		                    "at %s (undone afterwards)",
		                    list.data);
		free(list.data);
	} else if (r < 0) {
		*note = fc_asprintf("could not move cgroup2 controllers for crun: %s", e->msg);
	}
	fc_error_free(e);
	return r;
}

/* ---- mounts ---------------------------------------------------------------- */

void bench_unmount_under(const char *dir)
{
	char *data = NULL;
	if (!dir || fc_read_file_at(AT_FDCWD, "/proc/self/mountinfo", &data, NULL, 0, NULL) < 0)
		return;
	char **pts = NULL;
	size_t n = 0, dl = strlen(dir);
	char *save = NULL;
	for (char *l = strtok_r(data, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char mp[4096];
		if (sscanf(l, "%*s %*s %*s %*s %4095s", mp) == 1 && strncmp(mp, dir, dl) == 0 &&
		    (mp[dl] == '/' || mp[dl] == 0)) {
			pts = fc_realloc(pts, (n + 1) * sizeof(char *));
			pts[n++] = fc_strdup(mp);
		}
	}
	free(data);
	while (n-- > 0) { /* mountinfo lists parents first */
		umount2(pts[n], MNT_DETACH);
		free(pts[n]);
	}
	free(pts);
}

/* ---- the cgroup2 tree's subtree_control ------------------------------------ */

/* The files saved by the first holder: the root's and those one level below
 * it (where runc enables controllers for the engines' parents), as in the
 * tests (tests/e2e/e2e-lib.sh). */
static struct {
	int holders;
	bool at_exit; /* bench_subtree_restore_at_exit is registered */
	size_t n;
	struct {
		char *path; /* .../cgroup.subtree_control */
		char *ctls; /* what it held */
	} * f;
} g_sc;

static void sc_add(const char *path)
{
	char *ctls = read_trim(path);
	if (!ctls)
		return;
	g_sc.f = fc_realloc(g_sc.f, (g_sc.n + 1) * sizeof(*g_sc.f));
	g_sc.f[g_sc.n].path = fc_strdup(path);
	g_sc.f[g_sc.n].ctls = ctls;
	g_sc.n++;
}

/* Disable what was enabled since the save, in the files that existed then,
 * deepest first (the root last: a child that still enables a controller
 * keeps it busy in its parent). */
static void sc_restore(void)
{
	for (size_t i = g_sc.n; i-- > 0;) {
		_cleanup_free_ char *now = read_trim(g_sc.f[i].path);
		char *save = NULL;
		for (char *c = now ? strtok_r(now, " ", &save) : NULL; c;
		     c = strtok_r(NULL, " ", &save)) {
			if (has_word(g_sc.f[i].ctls, c))
				continue;
			_cleanup_free_ char *minus = fc_asprintf("-%s", c);
			struct fc_error *e = NULL;
			if (fc_write_string_at(AT_FDCWD, g_sc.f[i].path, minus, &e) < 0)
				fc_log(FC_LOG_WARN,
				       "bench: cannot disable `%s` again in `%s` (a cgroup "
				       "still uses it?): %s; crun refuses this host until "
				       "it is",
				       c, g_sc.f[i].path, e->msg);
			fc_error_free(e);
		}
		free(g_sc.f[i].path);
		free(g_sc.f[i].ctls);
	}
	free(g_sc.f);
	g_sc.f = NULL;
	g_sc.n = 0;
}

static void bench_subtree_restore_at_exit(void)
{
	if (g_sc.holders > 0) {
		g_sc.holders = 0;
		sc_restore();
	}
}

void bench_subtree_hold(void)
{
	if (geteuid() != 0 || g_sc.holders++ > 0)
		return;
	if (!g_sc.at_exit) {
		atexit(bench_subtree_restore_at_exit);
		g_sc.at_exit = true;
	}
	sc_add(CG2 "/cgroup.subtree_control");
	DIR *d = opendir(CG2);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' || de->d_type != DT_DIR)
			continue;
		_cleanup_free_ char *p =
		    fc_asprintf("%s/%s/cgroup.subtree_control", CG2, de->d_name);
		sc_add(p);
	}
	if (d)
		closedir(d);
}

void bench_subtree_release(void)
{
	if (g_sc.holders > 0 && --g_sc.holders == 0)
		sc_restore();
}
