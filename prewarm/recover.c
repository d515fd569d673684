/* SPDX-License-Identifier: MIT */
/* recover.c: after a crash (kill -9 of the daemon), find and remove what the
 * previous run under the same root left: sandbox processes (through their
 * libfcrt state and their cgroups), cgroups, mounts and directories. */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "fcrt.h"
#include "fsproto.h"

static void kill_cgroup_procs(const char *dir)
{
	_cleanup_free_ char *procs = fc_asprintf("%s/cgroup.procs", dir);
	for (int round = 0; round < 50; round++) {
		char *data = NULL;
		if (fc_read_file_at(AT_FDCWD, procs, &data, NULL, 0, NULL) < 0)
			return;
		bool any = false;
		char *save = NULL;
		for (char *l = strtok_r(data, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
			kill((pid_t)atoi(l), SIGKILL);
			any = true;
		}
		free(data);
		if (!any)
			return;
		usleep(2000);
	}
}

/* Remove cgroup dirs <h>/fcrun/<prefix>* (children first). */
static unsigned remove_cgroups_in(const char *parent, const char *prefix)
{
	unsigned n = 0;
	DIR *d = opendir(parent);
	if (!d)
		return 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || strncmp(de->d_name, prefix, strlen(prefix)) != 0)
			continue;
		_cleanup_free_ char *p = fc_asprintf("%s/%s", parent, de->d_name);
		/* nested cgroups of the container first */
		DIR *sub = opendir(p);
		struct dirent *se;
		while (sub && (se = readdir(sub))) {
			if (se->d_type != DT_DIR || se->d_name[0] == '.')
				continue;
			_cleanup_free_ char *q = fc_asprintf("%s/%s", p, se->d_name);
			kill_cgroup_procs(q);
			rmdir(q);
		}
		if (sub)
			closedir(sub);
		kill_cgroup_procs(p);
		for (int i = 0; i < 100 && rmdir(p) < 0 && errno == EBUSY; i++)
			usleep(5000);
		n++;
	}
	closedir(d);
	return n;
}

static void remove_cgroups(const char *prefix)
{
	const char *base = "/sys/fs/cgroup";
	_cleanup_free_ char *top = fc_asprintf("%s/fcrun", base);
	remove_cgroups_in(top, prefix); /* pure cgroup v2 */
	DIR *d = opendir(base);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		_cleanup_free_ char *p = fc_asprintf("%s/%s/fcrun", base, de->d_name);
		remove_cgroups_in(p, prefix);
	}
	closedir(d);
}

static int cmp_len_desc(const void *a, const void *b)
{
	size_t la = strlen(*(char *const *)a), lb = strlen(*(char *const *)b);
	return la < lb ? 1 : la > lb ? -1 : 0;
}

static void unmount_under(const char *dir)
{
	char *data = NULL;
	if (fc_read_file_at(AT_FDCWD, "/proc/self/mountinfo", &data, NULL, 0, NULL) < 0)
		return;
	size_t dl = strlen(dir), n = 0;
	char **points = NULL;
	char *save = NULL;
	for (char *l = strtok_r(data, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char mp[4096];
		if (sscanf(l, "%*s %*s %*s %*s %4095s", mp) != 1)
			continue;
		if (strncmp(mp, dir, dl) == 0 && mp[dl] == '/') {
			points = fc_realloc(points, (n + 1) * sizeof(char *));
			points[n++] = fc_strdup(mp);
		}
	}
	free(data);
	if (n)
		qsort(points, n, sizeof(char *), cmp_len_desc);
	for (size_t i = 0; i < n; i++) {
		umount2(points[i], MNT_DETACH | UMOUNT_NOFOLLOW);
		free(points[i]);
	}
	free(points);
}

int fcpool_recover(const char *root, unsigned *removed, struct fc_error **err)
{
	_cleanup_free_ char *rt = fc_asprintf("%s/runtime", root);
	_cleanup_free_ char *sb = fc_asprintf("%s/sandboxes", root);
	_cleanup_free_ char *prefix = sandbox_prefix(root);
	char **ids = NULL;
	unsigned n = 0;
	int r = fcrt_list(rt, &ids, err);
	if (r < 0)
		return fc_error_wrap(err, "recover `%s`", root);
	for (size_t i = 0; ids && ids[i]; i++) {
		struct fc_error *e = NULL;
		if (fcrt_delete(rt, ids[i], true, &e) < 0)
			fc_log(FC_LOG_WARN, "recover: delete sandbox `%s`: %s", ids[i],
			       e ? e->msg : "?");
		fc_error_free(e);
		n++;
	}
	fc_strv_free(ids);
	remove_cgroups(prefix);
	_cleanup_free_ char *real = realpath(sb, NULL);
	unmount_under(real ? real : sb);
	DIR *d = opendir(sb);
	if (d) {
		struct dirent *de;
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			sandbox_dir_remove(root, de->d_name);
		}
		closedir(d);
	}
	if (removed)
		*removed = n;
	return 0;
}

int fcpool_cleanup(const char *root, unsigned *removed, struct fc_error **err)
{
	_cleanup_free_ char *lockp = fc_asprintf("%s/lock", root);
	_cleanup_close_ int lock = open(lockp, O_RDWR | O_CLOEXEC);
	if (lock < 0 && errno == ENOENT) {
		if (removed)
			*removed = 0;
		return 0; /* no daemon ever ran here */
	}
	if (lock < 0)
		return fc_error_set(err, errno, "open `%s`", lockp);
	if (flock(lock, LOCK_EX | LOCK_NB) < 0)
		return fc_error_set(err, errno == EWOULDBLOCK ? EBUSY : errno,
		                    "a daemon is running on root `%s`; stop it first", root);
	return fcpool_recover(root, removed, err);
}
