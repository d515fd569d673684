/* SPDX-License-Identifier: MIT */
/* cgroup.c: host layout detection (v1, hybrid, v2), cgroup paths, create/open,
 * enter, freeze, pids, stats and destroy. The limits themselves are written by
 * cgroup-v1.c and cgroup-v2.c. */
#include "cgroup-backend.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <pthread.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/xattr.h>
#include <time.h>

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

/* ---- host layout ------------------------------------------------------ */

static struct {
	enum fc_cgroup_mode mode;
	struct {
		char *mount;
		unsigned ctrls;
	} h[CG_MAX_HIER];
	size_t n;
	unsigned v1_ctrls; /* union of the v1 hierarchies' controllers */
	char *v2_mount;    /* NULL when no cgroup2 is mounted */
	unsigned v2_avail; /* cgroup.controllers of the cgroup2 root */
} host;
static pthread_once_t host_once = PTHREAD_ONCE_INIT;

static int ctrl_from_name(const char *s, size_t len)
{
	for (int i = 0; i < CG_NCTRL; i++)
		if (strlen(cg_ctrl_names[i]) == len && !strncmp(cg_ctrl_names[i], s, len))
			return i;
	return -1;
}

/* The controllers named in a list separated by any of seps ("rw,cpu,cpuacct"). */
static unsigned ctrls_from_list(const char *list, const char *seps)
{
	unsigned m = 0;
	while (*list) {
		size_t len = strcspn(list, seps);
		int c = ctrl_from_name(list, len);
		if (c >= 0)
			m |= CG_BIT(c);
		list += len;
		list += strspn(list, seps);
	}
	return m;
}

static void host_detect(void)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	struct statfs sfs;

	host.mode = FC_CGROUP_V1;
	while (f && getline(&line, &cap, f) > 0) {
		/* id parent maj:min root mountpoint opts [optional...] - fstype source superopts */
		char *sep = strstr(line, " - "), *fields[5], *save = NULL, *p;
		char fstype[32], source[256], super[1024];
		size_t i;
		if (!sep)
			continue;
		*sep = '\0';
		p = line;
		for (i = 0; i < 5 && (fields[i] = strtok_r(p, " ", &save)); i++)
			p = NULL;
		if (i < 5)
			continue;
		if (sscanf(sep + 3, "%31s %255s %1023s", fstype, source, super) != 3)
			continue;
		if (FC_STREQ(fstype, "cgroup2")) {
			/* Prefer the canonical places when mounted more than once. */
			if (!host.v2_mount || FC_STREQ(fields[4], "/sys/fs/cgroup") ||
			    FC_STREQ(fields[4], "/sys/fs/cgroup/unified")) {
				free(host.v2_mount);
				host.v2_mount = fc_strdup(fields[4]);
			}
		} else if (FC_STREQ(fstype, "cgroup")) {
			unsigned m = ctrls_from_list(super, ",");
			bool dup = false;
			if (!m)
				continue; /* a hierarchy with only controllers we do not use */
			for (size_t j = 0; j < host.n; j++)
				if (host.h[j].ctrls == m)
					dup = true;
			if (dup || host.n == CG_MAX_HIER)
				continue;
			host.h[host.n].mount = fc_strdup(fields[4]);
			host.h[host.n].ctrls = m;
			host.v1_ctrls |= m;
			host.n++;
		}
	}
	if (statfs("/sys/fs/cgroup", &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC) {
		host.mode = FC_CGROUP_V2;
		free(host.v2_mount);
		host.v2_mount = fc_strdup("/sys/fs/cgroup");
		/* A pure v2 host: ignore stray v1 mounts (for example a named one). */
		for (size_t j = 0; j < host.n; j++)
			free(host.h[j].mount);
		host.n = 0;
		host.v1_ctrls = 0;
	} else if (host.v2_mount) {
		host.mode = FC_CGROUP_HYBRID;
	}
	if (host.v2_mount) {
		_cleanup_free_ char *s = NULL;
		if (cg_read(host.v2_mount, "cgroup.controllers", &s) == 0)
			host.v2_avail = ctrls_from_list(s, " \n");
	}
}

static void host_init(void)
{
	pthread_once(&host_once, host_detect);
}

enum fc_cgroup_mode fc_cgroup_host_mode(void)
{
	host_init();
	return host.mode;
}

/* ---- paths ------------------------------------------------------------ */

/* "a-b-c.slice" -> "/a.slice/a-b.slice/a-b-c.slice"; "-.slice" -> "". */
static int expand_slice(const char *slice, struct fc_buf *b, struct fc_error **err)
{
	size_t len = strlen(slice);
	if (FC_STREQ(slice, "-.slice"))
		return 0;
	if (len < 7 || strcmp(slice + len - 6, ".slice") || strchr(slice, '/') || slice[0] == '-' ||
	    strstr(slice, "--") || slice[len - 7] == '-')
		return fc_error_set(err, EINVAL, "cgroupsPath: invalid systemd slice `%s`", slice);
	for (size_t i = 0; i < len - 6; i++)
		if (slice[i] == '-')
			fc_buf_printf(b, "/%.*s.slice", (int)i, slice);
	fc_buf_printf(b, "/%s", slice);
	return 0;
}

/* The caller's own cgroup, for relative cgroupsPath (memory's on v1). */
static char *own_cgroup(void)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/cgroup", "re");
	_cleanup_free_ char *line = NULL;
	char *best = NULL;
	int best_rank = 99;
	size_t cap = 0;
	while (f && getline(&line, &cap, f) > 0) {
		char *c = strchr(line, ':'), *p = c ? strchr(c + 1, ':') : NULL;
		int rank = 50;
		if (!p)
			continue;
		*p++ = '\0';
		p[strcspn(p, "\n")] = '\0';
		if (host.mode == FC_CGROUP_V2)
			rank = c[1] == '\0' ? 0 : 99;
		else if (ctrls_from_list(c + 1, ",") & CG_BIT(CG_MEMORY))
			rank = 1;
		else if (ctrls_from_list(c + 1, ",") & (CG_BIT(CG_PIDS) | CG_BIT(CG_CPU)))
			rank = 2;
		else if (c[1] == '\0')
			rank = 60;
		if (rank < best_rank) {
			free(best);
			best = fc_strdup(p);
			best_rank = rank;
		}
	}
	return best ? best : fc_strdup("/");
}

/* Normalize: one leading '/', no empty, "." or ".." components, no trailing '/'. */
static char *normalize(const char *p, struct fc_error **err)
{
	struct fc_buf b = {0};
	const char *orig = p;
	while (*p) {
		size_t len;
		p += strspn(p, "/");
		len = strcspn(p, "/");
		if (!len)
			break;
		if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.')) {
			free(b.data);
			return fc_error_relay(
			           err, EINVAL,
			           "linux.cgroupsPath `%s`: `..` and `.` components are not "
			           "allowed",
			           orig),
			       NULL;
		}
		fc_buf_printf(&b, "/%.*s", (int)len, p);
		p += len;
	}
	if (!b.data)
		fc_buf_append(&b, "/", 1);
	return b.data;
}

/* A cgroup that is the host's: the root of a hierarchy, or one holding the
 * runtime itself (in any hierarchy). A container there would put limits on,
 * and a delete would have killed, what is not the container's. */
static char *refuse_host_cgroup(char *path, const char *given, struct fc_error **err)
{
	if (!path)
		return NULL;
	if (FC_STREQ(path, "/")) {
		fc_error_relay(err, EPERM,
		               "linux.cgroupsPath `%s`: the root of the cgroup hierarchy is the "
		               "host's, refused",
		               given);
		free(path);
		return NULL;
	}
	_cleanup_fclose_ FILE *f = fopen("/proc/self/cgroup", "re");
	_cleanup_free_ char *line = NULL;
	size_t cap = 0, n = strlen(path);
	while (f && getline(&line, &cap, f) > 0) {
		char *c = strchr(line, ':'), *own = c ? strchr(c + 1, ':') : NULL;
		if (!own)
			continue;
		own++;
		own[strcspn(own, "\n")] = '\0';
		if (strncmp(own, path, n) == 0 && (own[n] == '\0' || own[n] == '/')) {
			fc_error_relay(
			    err, EPERM,
			    "linux.cgroupsPath `%s`: holds the runtime's own cgroup `%s` "
			    "(the host's), refused",
			    given, own);
			free(path);
			return NULL;
		}
	}
	return path;
}

static char *resolve_path(const char *id, const char *cgroups_path, bool systemd,
                          struct fc_error **err);

char *fc_cgroup_resolve_path(const char *id, const char *cgroups_path, bool systemd,
                             struct fc_error **err)
{
	return refuse_host_cgroup(resolve_path(id, cgroups_path, systemd, err),
	                          cgroups_path ? cgroups_path : "", err);
}

static char *resolve_path(const char *id, const char *cgroups_path, bool systemd,
                          struct fc_error **err)
{
	_cleanup_buf_ struct fc_buf b = {0};
	host_init();
	if (!cgroups_path || !*cgroups_path) {
		fc_buf_printf(&b, "/fcrun/%s", id);
		return normalize(b.data, err);
	}
	if (systemd && strchr(cgroups_path, ':')) {
		_cleanup_strv_ char **parts = fc_calloc(4, sizeof(char *));
		const char *s = cgroups_path;
		for (int i = 0; i < 3; i++) {
			size_t len = strcspn(s, ":");
			if (i < 2 && s[len] != ':')
				break;
			parts[i] = fc_strndup(s, len);
			s += len + (s[len] == ':');
		}
		if (!parts[2] || strchr(parts[2], ':') || strchr(parts[2], '/')) {
			fc_error_set(err, EINVAL,
			             "cgroupsPath `%s`: expected \"slice:prefix:name\" with "
			             "--systemd-cgroup",
			             cgroups_path);
			return NULL;
		}
		if (expand_slice(*parts[0] ? parts[0] : "system.slice", &b, err) < 0)
			return NULL;
		if (strlen(parts[2]) > 6 && FC_STREQ(parts[2] + strlen(parts[2]) - 6, ".slice"))
			fc_buf_printf(&b, "/%s", parts[2]);
		else if (*parts[1])
			fc_buf_printf(&b, "/%s-%s.scope", parts[1], parts[2]);
		else
			fc_buf_printf(&b, "/%s.scope", parts[2]);
		return normalize(b.data, err);
	}
	if (cgroups_path[0] != '/') {
		_cleanup_free_ char *own = own_cgroup();
		fc_buf_printf(&b, "%s/%s", own, cgroups_path);
		return normalize(b.data, err);
	}
	return normalize(cgroups_path, err);
}

/* ---- handles ---------------------------------------------------------- */

static char *join(const char *mount, const char *path)
{
	return FC_STREQ(path, "/") ? fc_strdup(mount) : fc_asprintf("%s%s", mount, path);
}

/* A handle on the hierarchies sel picks (FC_CG_ALL: every one). */
static struct fc_cgroup *cg_new_sel(const char *path, enum fc_cgroup_sel sel)
{
	struct fc_cgroup *cg = fc_calloc(1, sizeof(*cg));
	host_init();
	cg->path = fc_strdup(path);
	cg->mode = host.mode;
	cg->v2_fd = -1;
	cg->journal_fd = -1;
	for (size_t i = 0; i < host.n; i++) {
		bool mem = host.h[i].ctrls & CG_BIT(CG_MEMORY);
		if ((sel == FC_CG_NO_MEMORY && mem) || (sel == FC_CG_MEMORY_ONLY && !mem))
			continue;
		cg->v1[cg->n_v1].path = join(host.h[i].mount, path);
		cg->v1[cg->n_v1].mount = host.h[i].mount;
		cg->v1[cg->n_v1].ctrls = host.h[i].ctrls;
		cg->n_v1++;
	}
	if (host.v2_mount && sel != FC_CG_MEMORY_ONLY) {
		cg->v2_mount = fc_strdup(host.v2_mount);
		cg->v2 = join(host.v2_mount, path);
		cg->v2_ctrls = host.v2_avail & ~host.v1_ctrls;
	}
	return cg;
}

static struct fc_cgroup *cg_new(const char *path)
{
	return cg_new_sel(path, FC_CG_ALL);
}

bool fc_cgroup_v1_memory(void)
{
	host_init();
	for (size_t i = 0; i < host.n; i++)
		if (host.h[i].ctrls & CG_BIT(CG_MEMORY))
			return true;
	return false;
}

void fc_cgroup_free(struct fc_cgroup *cg)
{
	if (!cg)
		return;
	for (size_t i = 0; i < cg->n_v1; i++)
		free(cg->v1[i].path);
	free(cg->v2);
	free(cg->v2_mount);
	free(cg->path);
	if (cg->v2_fd >= 0)
		close(cg->v2_fd);
	for (size_t i = 0; i < cg->n_tasks_fds; i++)
		close(cg->tasks_fds[i]);
	fc_strv_free(cg->parents);
	free(cg);
}

static int check_path(const char *path, struct fc_error **err)
{
	if (!path || path[0] != '/' || strstr(path, "/../") || strstr(path, "/./"))
		return fc_error_set(err, EINVAL, "cgroup path `%s` must be absolute and canonical",
		                    path ? path : "(null)");
	return 0;
}

/* ---- what fcrun made ---------------------------------------------------- */

#define MARK_XATTR  "trusted.fcrun"
#define MARK_POOL   "pool"   /* a recycled leaf (fc_cgroup_recycle) */
#define MARK_PARENT "parent" /* a directory above containers' */

static bool marked(const char *dir)
{
	char v[16];
	return lgetxattr(dir, MARK_XATTR, v, sizeof(v)) > 0;
}

static bool marked_as(const char *dir, const char *what)
{
	char v[16];
	ssize_t n = lgetxattr(dir, MARK_XATTR, v, sizeof(v));
	return n == (ssize_t)strlen(what) && !memcmp(v, what, (size_t)n);
}

static bool marked_pool(const char *dir)
{
	return marked_as(dir, MARK_POOL);
}

static bool marked_parent(const char *dir)
{
	return marked_as(dir, MARK_PARENT);
}

/* An existing leaf to recycle: fcrun's (tagged) and without a process (a
 * v2 directory: not populated, its subtree included). */
static int pool_leaf_check(const char *dir, struct fc_error **err)
{
	_cleanup_free_ char *s = NULL;
	uint64_t pop = 0;
	if (!marked_pool(dir))
		return fc_error_set(err, EEXIST, "`%s` exists and is not a cgroup fcrun recycles",
		                    dir);
	if (cg_read(dir, "cgroup.events", &s) == 0) {
		if (cg_kv_u64(s, "populated", &pop) == 0 && pop)
			return fc_error_set(err, EBUSY, "recycled cgroup `%s` is not empty", dir);
		return 0;
	}
	int r = cg_read(dir, "cgroup.procs", &s);
	if (r < 0)
		return fc_error_set(err, -r, "read `cgroup.procs` in %s", dir);
	if (*s)
		return fc_error_set(err, EBUSY, "recycled cgroup `%s` is not empty", dir);
	return 0;
}

static void nap(unsigned i);
/* Is everything in a directory of this kind the container's? */
static inline bool owns(enum cg_made m)
{
	return m == CG_MADE || m == CG_KEPT;
}
static int apply(struct fc_cgroup *cg, const struct fc_resources *res, bool create,
                 struct fc_error **err);

/* Creation and the removal of parents (fc_cgroup_remove_parents, cleanup
 * scripts) exclude each other across every fcrun (and pool) on the host:
 * creators hold this shared from their first mkdir until their own
 * directories exist, a remover of parents holds it alone.
 * -1 when it cannot be had (then the retries below still cope). */
static int cg_lock(bool exclusive)
{
	int fd = open("/sys/fs/cgroup", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	for (;;) {
		/* A remover does not wait: a create holding the lock shared is
		 * between its mkdirs, so the parents are in use anyway. */
		if (flock(fd, exclusive ? LOCK_EX | LOCK_NB : LOCK_SH) == 0)
			return fd;
		if (errno != EINTR)
			break;
	}
	close(fd);
	return -1;
}

static void cg_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

static void journal(int fd, const char *lines)
{
	if (fd >= 0 && lines)
		(void)!write(fd, lines, strlen(lines)); /* O_APPEND: one write, one record */
}

/* The directories below mount that make up path, top first. */
static char **levels(const char *mount, const char *path)
{
	char **v = NULL;
	_cleanup_free_ char *dir = fc_strdup(mount);
	size_t n = 0;
	for (const char *p = path; *p;) {
		p += strspn(p, "/");
		size_t len = strcspn(p, "/");
		if (!len)
			break;
		char *next = fc_asprintf("%s/%.*s", dir, (int)len, p);
		free(dir);
		dir = fc_strdup(next);
		v = fc_realloc(v, (n + 2) * sizeof(char *));
		v[n++] = next;
		v[n] = NULL;
		p += len;
	}
	return v;
}

static void parents_add(struct fc_cgroup *cg, const char *dir)
{
	size_t n = fc_strv_len(cg->parents);
	for (size_t i = 0; i < n; i++)
		if (FC_STREQ(cg->parents[i], dir))
			return;
	cg->parents = fc_realloc(cg->parents, (n + 2) * sizeof(char *));
	cg->parents[n] = fc_strdup(dir);
	cg->parents[n + 1] = NULL;
}

static enum cg_made *leaf_made(struct fc_cgroup *cg, const char *dir)
{
	for (size_t i = 0; i < cg->n_v1; i++)
		if (FC_STREQ(cg->v1[i].path, dir))
			return &cg->v1[i].made;
	if (cg->v2 && FC_STREQ(cg->v2, dir))
		return &cg->v2_made;
	return NULL;
}

/* mkdir every component of path below mount, recording what was made; v1
 * cpuset levels get cpus/mems; on cgroup2 each parent gets the controllers
 * enabled in cgroup.subtree_control. */
static int make_dirs(struct fc_cgroup *cg, const char *mount, unsigned ctrls, bool v2,
                     unsigned v2_ctrls, struct fc_buf *done, struct fc_error **err)
{
	_cleanup_strv_ char **lv = levels(mount, cg->path);
	for (size_t i = 0; lv && lv[i]; i++) {
		const char *dir = lv[i], *up = i ? lv[i - 1] : mount;
		bool leaf = !lv[i + 1];
		if (v2 && v2_ctrls) {
			_cleanup_free_ char *avail = NULL;
			unsigned have = 0;
			if (cg_read(up, "cgroup.controllers", &avail) == 0)
				have = ctrls_from_list(avail, " \n");
			for (int c = 0; c < CG_NCTRL; c++) {
				if (!(v2_ctrls & have & CG_BIT(c)))
					continue;
				/* Best effort: a parent with processes in it refuses (no internal
				 * processes rule); the limit write reports it later. */
				_cleanup_error_ struct fc_error *ign = NULL;
				cg_writef(up, "cgroup.subtree_control", &ign, "+%s",
				          cg_ctrl_names[c]);
			}
		}
		if (mkdir(dir, 0755) == 0) {
			fc_buf_printf(done, "+ %c %s\n", leaf ? 'l' : 'p', dir);
			if (leaf) {
				*leaf_made(cg, dir) = CG_MADE;
				if (cg->recycle &&
				    lsetxattr(dir, MARK_XATTR, MARK_POOL, strlen(MARK_POOL), 0) < 0)
					return fc_error_set(err, errno, "tag `%s` (%s)", dir,
					                    MARK_XATTR);
			} else {
				parents_add(cg, dir);
				lsetxattr(dir, MARK_XATTR, MARK_PARENT, strlen(MARK_PARENT),
				          0); /* best effort */
			}
		} else if (errno != EEXIST) {
			return fc_error_set(err, errno, "mkdir `%s`", dir);
		} else if (leaf && cg->recycle) {
			int r = pool_leaf_check(dir, err);
			if (r < 0)
				return r;
			*leaf_made(cg, dir) = CG_KEPT;
		}
		if (!v2 && (ctrls & CG_BIT(CG_CPUSET))) {
			int r = cg_v1_init_cpuset(dir, err);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* Every directory create may make: one record line each ("? KIND DIR"). */
static void intents(struct fc_cgroup *cg, struct fc_buf *b)
{
	for (size_t h = 0; h <= cg->n_v1; h++) {
		const char *mount = h < cg->n_v1 ? cg->v1[h].mount : cg->v2 ? cg->v2_mount : NULL;
		if (!mount)
			continue;
		_cleanup_strv_ char **lv = levels(mount, cg->path);
		for (size_t i = 0; lv && lv[i]; i++)
			if (access(lv[i], F_OK) < 0)
				fc_buf_printf(b, "? %c %s\n", lv[i + 1] ? 'p' : 'l', lv[i]);
	}
}

/* ---- create and open ------------------------------------------------------- */

static int destroy(struct fc_cgroup *cg, struct fc_error **err);

/* Every leaf of a recycled cgroup exists (and is tagged, empty): nothing to
 * make, no lock to take. */
static bool recycle_all_kept(struct fc_cgroup *cg, struct fc_error **err, int *r)
{
	for (size_t i = 0; i <= cg->n_v1; i++) {
		const char *dir = i < cg->n_v1 ? cg->v1[i].path : cg->v2;
		if (dir && access(dir, F_OK) < 0)
			return false;
	}
	*r = 0;
	for (size_t i = 0; i <= cg->n_v1 && *r >= 0; i++) {
		const char *dir = i < cg->n_v1 ? cg->v1[i].path : cg->v2;
		if (dir && (*r = pool_leaf_check(dir, err)) >= 0)
			*leaf_made(cg, dir) = CG_KEPT;
	}
	return true;
}

/* The v1 memory hierarchy fc_cgroup_create_late leaves (1 + its index), or 0:
 * it holds only memory, res limits nothing there, and other hierarchies are
 * made meanwhile. */
static size_t pick_late(const struct fc_cgroup *cg, const struct fc_resources *res)
{
	if (res &&
	    (res->memory.has_limit || res->memory.has_swap || res->memory.has_reservation ||
	     res->memory.has_swappiness || res->memory.has_disable_oom_killer ||
	     res->memory.has_kernel || res->memory.has_kernel_tcp || res->memory.has_use_hierarchy))
		return 0;
	if (cg->recycle || cg->n_v1 + (cg->v2 ? 1 : 0) < 2 || FC_STREQ(cg->path, "/"))
		return 0;
	for (size_t h = 0; h < cg->n_v1; h++)
		if (cg->v1[h].ctrls == CG_BIT(CG_MEMORY) &&
		    strlen(cg->v1[h].path) > strlen(cg->path))
			return h + 1;
	return 0;
}

static int create(const char *path, const struct fc_resources *res, int journal_fd, bool recycle,
                  bool late, enum fc_cgroup_sel sel, struct fc_cgroup **out, struct fc_error **err)
{
	struct fc_cgroup *cg;
	int r = 0, lock;
	r = check_path(path, err);
	if (r < 0)
		return r;
	cg = cg_new_sel(path, sel);
	/* The limits of the hierarchies picked only (a memory cgroup given at
	 * the start has the memory limits, the rest the others). */
	struct fc_resources picked;
	if (res && sel == FC_CG_NO_MEMORY) {
		picked = *res;
		memset(&picked.memory, 0, sizeof(picked.memory));
		res = &picked;
	} else if (res && sel == FC_CG_MEMORY_ONLY) {
		memset(&picked, 0, sizeof(picked));
		picked.memory = res->memory;
		res = &picked;
	}
	cg->journal_fd = journal_fd;
	cg->recycle = recycle;
	cg->late = late ? pick_late(cg, res) : 0;
	if (!cg->n_v1 && !cg->v2) {
		fc_cgroup_free(cg);
		return fc_error_set(err, ENOENT, "create cgroup %s: no cgroup filesystem mounted",
		                    path);
	}
	/* On a hybrid host the cgroup2 tree gets a controller enabled only when
	 * the container limits it: an enabled controller pins it to cgroup2, and
	 * crun (and anyone moving it to a v1 hierarchy) then refuses the host. */
	unsigned enable = cg->v2_ctrls;
	if (cg->mode == FC_CGROUP_HYBRID) {
		enable = 0;
		if (res && res->n_hugepage_limits)
			enable |= cg->v2_ctrls & CG_BIT(CG_HUGETLB);
	}
	_cleanup_buf_ struct fc_buf intent = {0}, done = {0};
	fc_buf_printf(&intent, "P %s\n", path);
	if (recycle && recycle_all_kept(cg, err, &r)) {
		/* nothing made: the limits again, not the device rules */
		if (r >= 0) {
			journal(journal_fd, intent.data);
			journal(journal_fd, "k l *\n");
			r = apply(cg, res, false, err);
		}
		if (r < 0) {
			fc_error_wrap(err, "recycle cgroup %s", path);
			fc_cgroup_free(cg);
			return r;
		}
		cg->journal_fd = -1;
		*out = cg;
		return 0;
	}
	lock = cg_lock(false);
	intents(cg, &intent);
	journal(journal_fd, intent.data);
	/* A parent removed under us (by a runtime that does not take the lock)
	 * shows as ENOENT, or ENODEV in a directory being removed: again. */
	for (size_t h = 0; h <= cg->n_v1 && r >= 0; h++) {
		if (h == cg->n_v1 && !cg->v2)
			break;
		if (h + 1 == cg->late)
			continue; /* fc_cgroup_make_late's */
		for (int t = 0; t < 10; t++) {
			if (t)
				cg_error_clear(err);
			r = h < cg->n_v1 ? make_dirs(cg, cg->v1[h].mount, cg->v1[h].ctrls, false, 0,
			                             &done, err)
			                 : make_dirs(cg, cg->v2_mount, 0, true, enable, &done, err);
			if (r != -ENOENT && r != -ENODEV)
				break;
		}
	}
	journal(journal_fd, done.data);
	cg_unlock(lock); /* our own directories exist: the parents are in use */
	if (r >= 0)
		r = apply(cg, res, true, err);
	if (r < 0) {
		_cleanup_error_ struct fc_error *e2 = NULL;
		destroy(cg, &e2);
		fc_error_wrap(err, "create cgroup %s", path);
		fc_cgroup_free(cg);
		return r;
	}
	if (recycle) {
		/* made or found tagged: kept from now on */
		for (size_t i = 0; i < cg->n_v1; i++)
			cg->v1[i].made = CG_KEPT;
		cg->v2_made = CG_KEPT;
		journal(journal_fd, "k l *\n");
	}
	cg->journal_fd = -1;
	*out = cg;
	return 0;
}

int fc_cgroup_create(const char *path, const struct fc_resources *res, int journal_fd,
                     struct fc_cgroup **out, struct fc_error **err)
{
	return create(path, res, journal_fd, false, false, FC_CG_ALL, out, err);
}

int fc_cgroup_create_late(const char *path, const struct fc_resources *res, int journal_fd,
                          struct fc_cgroup **out, struct fc_error **err)
{
	return create(path, res, journal_fd, false, true, FC_CG_ALL, out, err);
}

bool fc_cgroup_late(const struct fc_cgroup *cg)
{
	return cg && cg->late;
}

int fc_cgroup_make_late(struct fc_cgroup *cg, int journal_fd, int *tasks_fd, struct fc_error **err)
{
	*tasks_fd = -1;
	if (!cg->late)
		return 0;
	struct cg_dir *d = &cg->v1[cg->late - 1];
	cg->late = 0;
	_cleanup_buf_ struct fc_buf done = {0};
	_cleanup_free_ char *mount = fc_strndup(d->path, strlen(d->path) - strlen(cg->path));
	int r = 0, lock = cg_lock(false);
	for (int t = 0; t < 10; t++) {
		if (t)
			cg_error_clear(err);
		r = make_dirs(cg, mount, d->ctrls, false, 0, &done, err);
		if (r != -ENOENT && r != -ENODEV)
			break;
	}
	journal(journal_fd, done.data);
	cg_unlock(lock);
	if (r < 0)
		return fc_error_wrap(err, "create cgroup %s", cg->path);
	_cleanup_free_ char *p = fc_asprintf("%s/tasks", d->path);
	*tasks_fd = open(p, O_WRONLY | O_CLOEXEC);
	if (*tasks_fd < 0)
		return fc_error_set(err, errno, "open `%s`", p);
	return 0;
}

int fc_cgroup_recycle(const char *path, const struct fc_resources *res, int journal_fd,
                      struct fc_cgroup **out, struct fc_error **err)
{
	return create(path, res, journal_fd, true, false, FC_CG_ALL, out, err);
}

int fc_cgroup_recycle_sel(const char *path, const struct fc_resources *res, int journal_fd,
                          enum fc_cgroup_sel sel, struct fc_cgroup **out, struct fc_error **err)
{
	return create(path, res, journal_fd, true, false, sel, out, err);
}

int fc_cgroup_open(const char *path, struct fc_cgroup **out, struct fc_error **err)
{
	int r = check_path(path, err);
	if (r < 0)
		return r;
	*out = cg_new(path);
	return 0;
}

int fc_cgroup_open_journal(const char *journal_text, struct fc_cgroup **out, struct fc_error **err)
{
	struct fc_cgroup *cg = NULL;
	_cleanup_free_ char *text = fc_strdup(journal_text ? journal_text : "");
	*out = NULL;
	for (char *save = NULL, *l = strtok_r(text, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		if (l[0] == 'P' && l[1] == ' ') {
			if (cg)
				continue;
			int r = check_path(l + 2, err);
			if (r < 0)
				return r;
			cg = cg_new(l + 2);
			continue;
		}
		if (!cg || strlen(l) < 5 || l[1] != ' ' || l[3] != ' ' || !strchr("?+=k", l[0]))
			continue;
		const char *dir = l + 4;
		enum cg_made m = l[0] == '+'   ? CG_MADE
		                 : l[0] == '?' ? CG_MAYBE
		                 : l[0] == 'k' ? CG_KEPT
		                               : CG_FOUND;
		if (m == CG_KEPT && l[2] != 'l')
			continue;
		if (l[2] == 'l' && FC_STREQ(dir, "*")) {
			/* every one of the container's own directories */
			for (size_t i = 0; i < cg->n_v1; i++)
				cg->v1[i].made = m;
			cg->v2_made = m;
		} else if (l[2] == 'l') {
			enum cg_made *lm = leaf_made(cg, dir);
			if (lm)
				*lm = m;
		} else if (m != CG_FOUND) {
			parents_add(cg, dir);
		}
	}
	*out = cg;
	return 0;
}

bool fc_cgroup_owned(const struct fc_cgroup *cg)
{
	bool any = false;
	for (size_t i = 0; i < cg->n_v1; i++) {
		if (cg->v1[i].made == CG_MADE || cg->v1[i].made == CG_KEPT)
			any = true;
		else if (access(cg->v1[i].path, F_OK) == 0)
			return false;
	}
	if (cg->v2) {
		if (cg->v2_made == CG_MADE || cg->v2_made == CG_KEPT)
			any = true;
		else if (access(cg->v2, F_OK) == 0)
			return false;
	}
	return any;
}

/* The back ends' own messages start with the field inside linux.resources
 * ("cpu.shares = ...: the maximum allowed is 262144"): say where it is. */
static int name_field(int r, struct fc_error **err)
{
	static const char *const fields[] = {"memory.", "cpu.",    "pids.",   "blockIO", "hugepage",
	                                     "unified", "network", "devices", "rdma"};
	if (r >= 0 || !err || !*err || !(*err)->msg)
		return r;
	for (size_t i = 0; i < FC_ARRAY_SIZE(fields); i++)
		if (strncmp((*err)->msg, fields[i], strlen(fields[i])) == 0) {
			char *m = fc_asprintf("linux.resources.%s", (*err)->msg);
			free((*err)->msg);
			(*err)->msg = m;
			break;
		}
	return r;
}

static int apply(struct fc_cgroup *cg, const struct fc_resources *res, bool create,
                 struct fc_error **err)
{
	static const struct fc_resources none;
	bool devices = create || (res && res->n_devices);
	int r;
	if (!res)
		res = &none; /* still the default device rules at creation */
	if (res->n_unified && !cg->v2)
		return fc_error_set(
		    err, ENOTSUP,
		    "linux.resources.unified: cgroup v2 resources given but this host has no "
		    "cgroup2");
	if (cg->n_v1) {
		r = cg_v1_apply(cg, res, devices, err);
		if (r < 0)
			return name_field(r, err);
	}
	if (cg->v2) {
		r = cg_v2_apply(cg, res, devices, err);
		if (r < 0)
			return name_field(r, err);
	}
	return 0;
}

int fc_cgroup_apply(struct fc_cgroup *cg, const struct fc_resources *res, struct fc_error **err)
{
	return apply(cg, res, false, err);
}

/* One --cgroup argument's path below the container's cgroup: relative (a
 * leading '/' is allowed), no "." or ".." component. */
static int sub_path_ok(const char *p)
{
	for (const char *c = p + strspn(p, "/"); *c;) {
		size_t len = strcspn(c, "/");
		if ((len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.'))
			return -1;
		c += len;
		c += strspn(c, "/");
	}
	return 0;
}

static void descend(char **dir, const char *sub)
{
	while (*sub == '/')
		sub++;
	if (*sub) {
		char *d = fc_asprintf("%s/%s", *dir, sub);
		free(*dir);
		*dir = d;
	}
}

int fc_cgroup_descend(struct fc_cgroup *cg, char *const *subs, struct fc_error **err)
{
	const char *all = NULL, *per[CG_NCTRL] = {0};
	size_t n = 0;
	while (subs && subs[n])
		n++;
	for (size_t i = 0; i < n; i++) {
		const char *a = subs[i], *colon = strchr(a, ':'), *path = colon ? colon + 1 : a;
		if (colon && strchr(path, ':'))
			return fc_error_set(err, 0, "invalid --cgroup argument: %s", a);
		if (sub_path_ok(path) < 0)
			return fc_error_set(err, 0, "--cgroup %s: not a sub cgroup path", a);
		if (!colon) {
			if (n != 1)
				return fc_error_set(
				    err, 0,
				    "invalid --cgroup argument: %s (missing <controller>: prefix)",
				    a);
			all = path;
			continue;
		}
		for (const char *c = a; c < colon;) {
			size_t len = strcspn(c, ",:");
			int ctrl = ctrl_from_name(c, len);
			bool known = false;
			for (size_t h = 0; ctrl >= 0 && h < cg->n_v1; h++)
				known |= !!(cg->v1[h].ctrls & CG_BIT(ctrl));
			if (ctrl >= 0 && cg->v2 && (cg->v2_ctrls & CG_BIT(ctrl)))
				known = true;
			if (!known)
				return fc_error_set(err, 0, "--cgroup %s: unknown controller %.*s",
				                    a, (int)len, c);
			per[ctrl] = path;
			c += len + (c[len] == ',');
		}
	}
	if (!n)
		return 0;
	/* A hierarchy takes its controllers' path (they must agree), else the
	 * prefix-less one. */
	for (size_t h = 0; h <= cg->n_v1; h++) {
		unsigned ctrls = h < cg->n_v1 ? cg->v1[h].ctrls : cg->v2_ctrls;
		char **dir = h < cg->n_v1 ? &cg->v1[h].path : &cg->v2;
		const char *sub = all;
		if (!*dir)
			continue;
		for (int c = 0; c < CG_NCTRL; c++) {
			if (!(ctrls & CG_BIT(c)) || !per[c])
				continue;
			if (sub && strcmp(sub, per[c]))
				return fc_error_set(err, 0,
				                    "--cgroup: %s and %s name one hierarchy (%s) "
				                    "with two paths",
				                    sub, per[c], *dir);
			sub = per[c];
		}
		if (sub)
			descend(dir, sub);
	}
	return 0;
}

int fc_cgroup_self_fds(struct fc_cgroup *cg, const int **fds, size_t *n, struct fc_error **err)
{
	if (!cg->n_tasks_fds) {
		for (size_t i = 0; i < cg->n_v1; i++) {
			if (i + 1 == cg->late)
				continue; /* not made yet */
			_cleanup_free_ char *p = fc_asprintf("%s/tasks", cg->v1[i].path);
			int fd = open(p, O_WRONLY | O_CLOEXEC);
			if (fd < 0) {
				int e = errno;
				for (size_t j = 0; j < cg->n_tasks_fds; j++)
					close(cg->tasks_fds[j]);
				cg->n_tasks_fds = 0;
				return fc_error_set(err, e, "open `%s`", p);
			}
			cg->tasks_fds[cg->n_tasks_fds++] = fd;
		}
	}
	*fds = cg->tasks_fds;
	*n = cg->n_tasks_fds;
	return 0;
}

int fc_cgroup_enter_self(const int *fds, size_t n, struct fc_error **err)
{
	for (size_t i = 0; i < n; i++)
		if (write(fds[i], "0", 1) < 0)
			return fc_error_set(err, errno, "join the container's v1 cgroups");
	return 0;
}

size_t fc_cgroup_mounts(const struct fc_cgroup *cg, struct fc_cgroup_mount *out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < cg->n_v1 && n < max; i++, n++) {
		struct fc_cgroup_mount *m = &out[n];
		size_t len = 0;
		m->mountpoint = cg->v1[i].mount;
		m->path = cg->v1[i].path;
		m->v2 = false;
		m->options[0] = '\0';
		for (int c = 0; c < CG_NCTRL; c++)
			if ((cg->v1[i].ctrls & CG_BIT(c)) && len < sizeof(m->options))
				len += (size_t)snprintf(m->options + len, sizeof(m->options) - len,
				                        "%s%s", len ? "," : "", cg_ctrl_names[c]);
	}
	if (cg->v2 && n < max) {
		out[n] = (struct fc_cgroup_mount){
		    .mountpoint = cg->v2_mount, .path = cg->v2, .v2 = true};
		n++;
	}
	return n;
}

int fc_cgroup_enter_v2(struct fc_cgroup *cg, pid_t pid, struct fc_error **err)
{
	return cg->v2 ? cg_writef(cg->v2, "cgroup.procs", err, "%d", (int)pid) : 0;
}

int fc_cgroup_clone_fd(struct fc_cgroup *cg)
{
	if (!cg->v2)
		return -1;
	if (cg->v2_fd < 0)
		cg->v2_fd = open(cg->v2, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return cg->v2_fd;
}

int fc_cgroup_enter(struct fc_cgroup *cg, pid_t pid, bool skip_v2, struct fc_error **err)
{
	int r;
	for (size_t i = 0; i < cg->n_v1; i++) {
		r = cg_writef(cg->v1[i].path, "cgroup.procs", err, "%d", (int)pid);
		if (r < 0)
			return r;
	}
	if (cg->v2 && !skip_v2) {
		r = cg_writef(cg->v2, "cgroup.procs", err, "%d", (int)pid);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- freezer ---------------------------------------------------------- */

static void nap(unsigned i)
{
	struct timespec ts = {0, i < 10 ? 100000 : i < 100 ? 1000000 : 10000000};
	nanosleep(&ts, NULL);
}

static int freeze_v1(const char *dir, bool frozen, struct fc_error **err)
{
	const char *want = frozen ? "FROZEN" : "THAWED";
	_cleanup_free_ char *state = NULL;
	int r;
	/* About 10 s in all; the state is written again now and then, because a
	 * freeze can stall on a task that cannot be frozen at that moment. */
	for (unsigned i = 0; i < 1100; i++) {
		if (i % 50 == 0) {
			r = cg_write(dir, "freezer.state", want, err);
			if (r < 0)
				return r;
		}
		free(state);
		state = NULL;
		r = cg_read(dir, "freezer.state", &state);
		if (r < 0)
			return fc_error_set(err, -r, "read `freezer.state` in %s", dir);
		if (FC_STREQ(state, want))
			return 0;
		nap(i);
	}
	if (frozen) {
		_cleanup_error_ struct fc_error *ign = NULL;
		cg_write(dir, "freezer.state", "THAWED", &ign);
	}
	return fc_error_set(err, EBUSY, "%s %s: timed out, `freezer.state` is %s",
	                    frozen ? "freeze" : "thaw", dir, state);
}

static int freeze_v2(const char *dir, bool frozen, struct fc_error **err)
{
	uint64_t v = 2;
	int r = cg_write(dir, "cgroup.freeze", frozen ? "1" : "0", err);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < 1100; i++) {
		_cleanup_free_ char *ev = NULL;
		r = cg_read(dir, "cgroup.events", &ev);
		if (r < 0)
			return fc_error_set(err, -r, "read `cgroup.events` in %s", dir);
		if (cg_kv_u64(ev, "frozen", &v) == 0 && v == (frozen ? 1 : 0))
			return 0;
		nap(i);
	}
	if (frozen) {
		_cleanup_error_ struct fc_error *ign = NULL;
		cg_write(dir, "cgroup.freeze", "0", &ign);
	}
	return fc_error_set(err, EBUSY, "%s %s: timed out waiting for `cgroup.events` frozen %d",
	                    frozen ? "freeze" : "thaw", dir, frozen);
}

int fc_cgroup_freeze(struct fc_cgroup *cg, bool frozen, struct fc_error **err)
{
	const char *d = cg_v1_dir(cg, CG_FREEZER);
	if (d)
		return freeze_v1(d, frozen, err);
	if (cg->v2)
		return freeze_v2(cg->v2, frozen, err);
	return fc_error_set(err, ENOTSUP, "%s cgroup %s: no freezer on this host",
	                    frozen ? "freeze" : "thaw", cg->path);
}

bool fc_cgroup_is_frozen(struct fc_cgroup *cg)
{
	_cleanup_free_ char *s = NULL;
	const char *d = cg_v1_dir(cg, CG_FREEZER);
	if (d)
		return cg_read(d, "freezer.state", &s) == 0 && !FC_STREQ(s, "THAWED");
	if (cg->v2)
		return cg_read(cg->v2, "cgroup.freeze", &s) == 0 && FC_STREQ(s, "1");
	return false;
}

/* ---- pids ------------------------------------------------------------- */

static const char *procs_dir(const struct fc_cgroup *cg)
{
	static const enum cg_ctrl pref[] = {CG_PIDS, CG_FREEZER, CG_MEMORY, CG_CPU, CG_DEVICES};
	if (cg->mode == FC_CGROUP_V2)
		return cg->v2;
	for (size_t i = 0; i < FC_ARRAY_SIZE(pref); i++) {
		const char *d = cg_v1_dir(cg, pref[i]);
		if (d)
			return d;
	}
	return cg->n_v1 ? cg->v1[0].path : cg->v2;
}

static void collect_pids(const char *dir, pid_t **v, size_t *n, int depth)
{
	_cleanup_free_ char *s = NULL;
	DIR *d;
	struct dirent *de;
	if (cg_read(dir, "cgroup.procs", &s) == 0) {
		for (char *p = s; *p;) {
			char *end;
			long pid = strtol(p, &end, 10);
			if (end == p)
				break;
			*v = fc_realloc(*v, (*n + 1) * sizeof(pid_t));
			(*v)[(*n)++] = (pid_t)pid;
			p = end + strspn(end, "\n");
		}
	}
	if (depth > 32 || !(d = opendir(dir)))
		return;
	while ((de = readdir(d))) {
		if (de->d_type == DT_DIR && de->d_name[0] != '.') {
			_cleanup_free_ char *sub = fc_asprintf("%s/%s", dir, de->d_name);
			collect_pids(sub, v, n, depth + 1);
		}
	}
	closedir(d);
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
	return x < y ? -1 : x > y;
}

int fc_cgroup_pids(struct fc_cgroup *cg, pid_t **pids, size_t *n, struct fc_error **err)
{
	const char *d = procs_dir(cg);
	pid_t *v = NULL;
	size_t k = 0, j = 0;
	*pids = NULL;
	*n = 0;
	if (!d)
		return 0;
	collect_pids(d, &v, &k, 0);
	if (k) {
		qsort(v, k, sizeof(pid_t), cmp_pid);
		for (size_t i = 0; i < k; i++)
			if (!j || v[j - 1] != v[i])
				v[j++] = v[i];
	}
	*pids = v;
	*n = j;
	return 0;
}

/* ---- stats ------------------------------------------------------------ */

int fc_cgroup_stats_json(struct fc_cgroup *cg, struct fc_buf *out, struct fc_error **err)
{
	const char *d;
	bool v2 = cg->mode == FC_CGROUP_V2;
	fc_buf_append(out, "{", 1);
	if ((d = cg_v1_dir(cg, CG_CPUACCT)))
		cg_v1_stats_cpu(out, d, cg_v1_dir(cg, CG_CPU));
	else if (v2)
		cg_v2_stats_cpu(out, cg->v2);
	else
		fc_buf_printf(out,
		              "\"cpu\":{\"usage\":{\"kernel\":0,\"user\":0},\"throttling\":{}}");
	fc_buf_append(out, ",", 1);
	if ((d = cg_v1_dir(cg, CG_MEMORY)))
		cg_v1_stats_memory(out, d);
	else if (v2)
		cg_v2_stats_memory(out, cg->v2);
	else
		fc_buf_printf(out, "\"memory\":{\"usage\":{\"limit\":0,\"failcnt\":0},"
		                   "\"swap\":{\"limit\":0,\"failcnt\":0},"
		                   "\"kernel\":{\"limit\":0,\"failcnt\":0},"
		                   "\"kernelTCP\":{\"limit\":0,\"failcnt\":0}}");
	fc_buf_append(out, ",", 1);
	if ((d = cg_v1_dir(cg, CG_PIDS)))
		cg_stats_pids(out, d);
	else if (v2)
		cg_stats_pids(out, cg->v2);
	else
		fc_buf_printf(out, "\"pids\":{}");
	fc_buf_append(out, ",", 1);
	if ((d = cg_v1_dir(cg, CG_BLKIO)))
		cg_v1_stats_blkio(out, d);
	else if (v2)
		cg_v2_stats_blkio(out, cg->v2);
	else
		fc_buf_printf(out, "\"blkio\":{}");
	fc_buf_append(out, ",", 1);
	if ((d = cg_v1_dir(cg, CG_HUGETLB)))
		cg_v1_stats_hugetlb(out, d);
	else if (cg->v2 && (cg->v2_ctrls & CG_BIT(CG_HUGETLB)))
		cg_v2_stats_hugetlb(out, cg->v2);
	else
		fc_buf_printf(out, "\"hugetlb\":{}");
	fc_buf_append(out, "}", 1);
	return 0;
}

int fc_cgroup_usage(struct fc_cgroup *cg, uint64_t *memory, uint64_t *cpu_ns)
{
	const char *d;
	uint64_t us = 0;
	*memory = *cpu_ns = 0;
	if ((d = cg_v1_dir(cg, CG_MEMORY)))
		cg_read_u64(d, "memory.usage_in_bytes", memory);
	else if (cg->v2)
		cg_read_u64(cg->v2, "memory.current", memory);
	if ((d = cg_v1_dir(cg, CG_CPUACCT))) {
		cg_read_u64(d, "cpuacct.usage", cpu_ns);
	} else if (cg->v2) {
		_cleanup_free_ char *s = NULL;
		if (cg_read(cg->v2, "cpu.stat", &s) >= 0 && cg_kv_u64(s, "usage_usec", &us) >= 0)
			*cpu_ns = us * 1000;
	}
	return 0;
}

int fc_cgroup_oom_count(struct fc_cgroup *cg, uint64_t *out)
{
	_cleanup_free_ char *s = NULL;
	const char *d = cg_v1_dir(cg, CG_MEMORY);
	int r;
	*out = 0;
	if (d)
		r = cg_read(d, "memory.oom_control", &s);
	else if (cg->v2)
		r = cg_read(cg->v2, "memory.events", &s);
	else
		return -ENOTSUP;
	if (r < 0)
		return r;
	return cg_kv_u64(s, "oom_kill", out);
}

/* ---- destroy ---------------------------------------------------------- */

static int rmdir_tree(const char *dir, int depth)
{
	/* Most have no child cgroup: no need to list them first. */
	if (rmdir(dir) == 0 || errno == ENOENT)
		return 0;
	if (errno != EBUSY && errno != ENOTEMPTY)
		return -errno;
	DIR *d = opendir(dir);
	struct dirent *de;
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while (depth < 32 && (de = readdir(d))) {
		if (de->d_type == DT_DIR && de->d_name[0] != '.') {
			_cleanup_free_ char *sub = fc_asprintf("%s/%s", dir, de->d_name);
			rmdir_tree(sub, depth + 1);
		}
	}
	closedir(d);
	if (rmdir(dir) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

static int rmdir_retry(const char *dir, struct fc_error **err)
{
	int r = 0;
	for (unsigned i = 0; i < 300; i++) {
		r = rmdir_tree(dir, 0);
		if (r != -EBUSY)
			break;
		nap(i);
	}
	if (r < 0)
		return fc_error_set(err, -r, "rmdir `%s`", dir);
	return 0;
}

/* The pids in the directories the container's create made (not the
 * maybes: nothing of ours was ever put there). */
static void owned_pids(struct fc_cgroup *cg, pid_t **v, size_t *n)
{
	/* Every process of the container is in its directory of every
	 * hierarchy: one v1 hierarchy (preferring those procs_dir does) and the
	 * cgroup2 one (an init cloned into it and killed before it moved itself
	 * into the v1 ones is only there) are enough. */
	static const enum cg_ctrl pref[] = {CG_PIDS, CG_FREEZER, CG_MEMORY, CG_CPU, CG_DEVICES};
	const char *d = NULL;
	for (size_t k = 0; k < FC_ARRAY_SIZE(pref) && !d; k++)
		for (size_t i = 0; i < cg->n_v1 && !d; i++)
			if ((cg->v1[i].ctrls & CG_BIT(pref[k])) && owns(cg->v1[i].made))
				d = cg->v1[i].path;
	for (size_t i = 0; i < cg->n_v1 && !d; i++)
		if (owns(cg->v1[i].made))
			d = cg->v1[i].path;
	if (d)
		collect_pids(d, v, n, 0);
	if (cg->v2 && owns(cg->v2_made))
		collect_pids(cg->v2, v, n, 0);
}

/* Kill every process in the directories the container owns, until none is
 * left. */
static int kill_owned(struct fc_cgroup *cg, struct fc_error **err)
{
	/* Not in a recycled cgroup: after a write of cgroup.kill, this
	 * kernel (6.18) kills every process cloned into the cgroup later
	 * (CLONE_INTO_CGROUP compares the cgroup's kill count with the
	 * parent's), so a recycled one would be unusable. */
	bool kill_file = cg->v2 && cg->v2_made == CG_MADE && cg_exists(cg->v2, "cgroup.kill");
	for (unsigned i = 0; i < 500; i++) {
		_cleanup_free_ pid_t *pids = NULL;
		size_t n = 0;
		owned_pids(cg, &pids, &n);
		if (!n)
			break;
		if (kill_file) {
			_cleanup_error_ struct fc_error *ign = NULL;
			if (cg_write(cg->v2, "cgroup.kill", "1", &ign) < 0)
				kill_file = false;
		}
		if (!kill_file)
			for (size_t k = 0; k < n; k++)
				kill(pids[k], SIGKILL);
		/* A frozen task only dies once thawed (v1). */
		if (fc_cgroup_is_frozen(cg)) {
			_cleanup_error_ struct fc_error *ign = NULL;
			fc_cgroup_freeze(cg, false, &ign);
		}
		nap(i);
		if (i == 499)
			return fc_error_set(err, EBUSY, "destroy cgroup %s: %zu processes left",
			                    cg->path, n);
	}
	return 0;
}

static int destroy(struct fc_cgroup *cg, struct fc_error **err)
{
	int r = kill_owned(cg, err);
	bool kept = false;
	if (r < 0)
		return r;
	for (size_t i = 0; i <= cg->n_v1 && r >= 0; i++) {
		const char *dir = i < cg->n_v1 ? cg->v1[i].path : cg->v2;
		enum cg_made m = i < cg->n_v1 ? cg->v1[i].made : cg->v2_made;
		kept |= dir && m == CG_KEPT;
		if (!dir || m == CG_FOUND || m == CG_KEPT)
			continue;
		if (m == CG_MADE)
			r = rmdir_retry(dir, err);
		else if (rmdir(dir) < 0 && errno != ENOENT && errno != EBUSY && errno != ENOTEMPTY)
			r = fc_error_set(err, errno, "rmdir `%s`", dir);
	}
	if (r < 0)
		return fc_error_wrap(err, "destroy cgroup %s", cg->path);
	if (kept)
		return 0; /* its parents hold the kept directories */
	/* The parents stay (as runc, Docker and podman keep theirs): the next
	 * create finds them, which saves a mkdir in every hierarchy, and a v1
	 * memory cgroup's mkdir is the costliest of a create on an aged host. A
	 * create killed between the mkdir of a parent and its tag left it
	 * untagged: tagged now, so that fc_cgroup_remove_parents knows it. */
	for (char **p = cg->parents; p && *p; p++)
		if (!marked(*p) && access(*p, F_OK) == 0)
			lsetxattr(*p, MARK_XATTR, MARK_PARENT, strlen(MARK_PARENT),
			          0); /* best effort */
	return 0;
}

/* Remove the empty parents fcrun made at path and above it, deepest first. */
static void remove_parents(const char *mount, const char *path)
{
	_cleanup_strv_ char **lv = levels(mount, path);
	for (size_t n = fc_strv_len(lv); n-- > 0;) {
		if (!marked_parent(lv[n]))
			break;
		if (rmdir(lv[n]) < 0 && errno != ENOENT)
			break; /* in use: busy */
	}
}

int fc_cgroup_remove_parents(const char *path, struct fc_error **err)
{
	int r = check_path(path, err);
	if (r < 0)
		return r;
	struct fc_cgroup *cg = cg_new(path);
	/* Not while a create is between the mkdir of a parent and of its own
	 * directory (it holds the lock shared). */
	int lock = cg_lock(true);
	if (lock < 0) {
		r = fc_error_set(err, EBUSY, "remove cgroup parents %s: a create is under way",
		                 path);
	} else {
		for (size_t i = 0; i < cg->n_v1; i++)
			remove_parents(cg->v1[i].mount, path);
		if (cg->v2)
			remove_parents(cg->v2_mount, path);
	}
	cg_unlock(lock);
	fc_cgroup_free(cg);
	return r;
}

int fc_cgroup_destroy(struct fc_cgroup *cg, struct fc_error **err)
{
	return destroy(cg, err);
}

/* ---- recycled cgroups --------------------------------------------------- */

int fc_cgroup_recycle_reset(const char *path, struct fc_error **err)
{
	return fc_cgroup_recycle_reset_sel(path, FC_CG_ALL, err);
}

int fc_cgroup_recycle_reset_sel(const char *path, enum fc_cgroup_sel sel, struct fc_error **err)
{
	int r = check_path(path, err);
	if (r < 0)
		return r;
	struct fc_cgroup *cg = cg_new_sel(path, sel);
	for (size_t i = 0; i <= cg->n_v1 && r >= 0; i++) {
		const char *dir = i < cg->n_v1 ? cg->v1[i].path : cg->v2;
		if (!dir)
			continue;
		/* a sandbox given its memory cgroup at the start has none here */
		if (sel == FC_CG_ALL && i < cg->n_v1 && (cg->v1[i].ctrls & CG_BIT(CG_MEMORY)) &&
		    access(dir, F_OK) < 0 && errno == ENOENT)
			continue;
		if (access(dir, F_OK) < 0)
			r = fc_error_set(err, errno, "recycled cgroup `%s`", dir);
		else if (!marked_pool(dir))
			r = fc_error_set(err, EPERM, "`%s` is not a cgroup fcrun recycles", dir);
		else
			*leaf_made(cg, dir) = CG_KEPT;
	}
	if (r >= 0 && fc_cgroup_is_frozen(cg))
		r = fc_cgroup_freeze(cg, false, err);
	if (r >= 0)
		r = kill_owned(cg, err);
	if (r >= 0) {
		/* The counters the kernel lets reset (best effort: a file the
		 * host's kernel lacks is fine). v2 has no such file; its
		 * memory.peak resets per open file only. */
		static const char *const files[][2] = {
		    {"memory", "memory.max_usage_in_bytes"},
		    {"memory", "memory.failcnt"},
		    {"memory", "memory.memsw.max_usage_in_bytes"},
		    {"memory", "memory.memsw.failcnt"},
		    {"memory", "memory.kmem.max_usage_in_bytes"},
		    {"memory", "memory.kmem.failcnt"},
		    {"cpuacct", "cpuacct.usage"},
		};
		for (size_t i = 0; i < FC_ARRAY_SIZE(files); i++) {
			const char *d =
			    cg_v1_dir(cg, FC_STREQ(files[i][0], "memory") ? CG_MEMORY : CG_CPUACCT);
			_cleanup_error_ struct fc_error *ign = NULL;
			if (d)
				cg_write(d, files[i][1], "0", &ign);
		}
	}
	if (r < 0)
		fc_error_wrap(err, "reset cgroup %s", path);
	fc_cgroup_free(cg);
	return r;
}

int fc_cgroup_recycle_remove(const char *path, struct fc_error **err)
{
	int r = check_path(path, err);
	if (r < 0)
		return r;
	struct fc_cgroup *cg = cg_new(path);
	/* only the tagged directories are ours (CG_FOUND: never touched) */
	for (size_t i = 0; i <= cg->n_v1; i++) {
		const char *dir = i < cg->n_v1 ? cg->v1[i].path : cg->v2;
		if (dir && marked_pool(dir))
			*leaf_made(cg, dir) = CG_MADE;
	}
	if (fc_cgroup_owned(cg) && fc_cgroup_is_frozen(cg)) {
		_cleanup_error_ struct fc_error *ign = NULL;
		fc_cgroup_freeze(cg, false, &ign);
	}
	r = destroy(cg, err);
	fc_cgroup_free(cg);
	return r;
}

bool fc_cgroup_memory_empty(const char *path)
{
	if (check_path(path, NULL) < 0)
		return false;
	struct fc_cgroup *cg = cg_new_sel(path, FC_CG_MEMORY_ONLY);
	_cleanup_free_ char *s = NULL;
	bool empty = cg->n_v1 == 1 && cg_read(cg->v1[0].path, "cgroup.procs", &s) == 0 && !*s;
	fc_cgroup_free(cg);
	return empty;
}
