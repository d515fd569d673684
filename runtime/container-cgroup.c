/* SPDX-License-Identifier: MIT */
/* container-cgroup.c: operations on an existing container through its cgroup: pause,
 * resume, update, the pid list (ps), stats and OOM counts (events). Error
 * texts are runc's, so tools that match on them keep working. */
#include "internal.h"
#include "cgroup/cgroup.h"

#include <fcntl.h>

/* Load the state and open the cgroup; *st and *cg are the caller's. */
static int open_container(const char *root, const char *id, struct fcrt_state **st,
                          struct fc_cgroup **cg, struct fc_error **err)
{
	int r = fcrt_state_load(root, id, st, err);
	if (r < 0)
		return r;
	*cg = NULL;
	if (!*(*st)->cgroup_path) {
		r = fc_error_set(err, ENOENT, "container `%s` has no cgroup", id);
		fcrt_state_free(*st);
		*st = NULL;
		return r;
	}
	r = fc_cgroup_open((*st)->cgroup_path, cg, err);
	if (r < 0) {
		fcrt_state_free(*st);
		*st = NULL;
	}
	return r;
}

static bool is_live(enum fcrt_status s)
{
	return s == FCRT_CREATED || s == FCRT_RUNNING || s == FCRT_PAUSED;
}

int fcrt_pause(const char *root, const char *id, struct fc_error **err)
{
	struct fcrt_state *st = NULL;
	struct fc_cgroup *cg = NULL;
	int r = open_container(root, id, &st, &cg, err);
	if (r < 0)
		return r;
	if (st->status != FCRT_RUNNING && st->status != FCRT_CREATED)
		r = fc_error_set(err, 0, "container not running");
	else
		r = fc_cgroup_freeze(cg, true, err);
	fc_cgroup_free(cg);
	fcrt_state_free(st);
	return r;
}

int fcrt_resume(const char *root, const char *id, struct fc_error **err)
{
	struct fcrt_state *st = NULL;
	struct fc_cgroup *cg = NULL;
	int r = open_container(root, id, &st, &cg, err);
	if (r < 0)
		return r;
	if (st->status != FCRT_PAUSED)
		r = fc_error_set(err, 0, "container not paused");
	else
		r = fc_cgroup_freeze(cg, false, err);
	fc_cgroup_free(cg);
	fcrt_state_free(st);
	return r;
}

int fcrt_update(const char *root, const char *id, const char *resources_json, size_t len,
                struct fc_error **err)
{
	struct fcrt_state *st = NULL;
	struct fc_cgroup *cg = NULL;
	struct fc_resources *res = NULL;
	int r = fc_resources_parse(resources_json, len, &res, err);
	if (r < 0)
		return r;
	r = open_container(root, id, &st, &cg, err);
	if (r >= 0) {
		if (!is_live(st->status))
			r = fc_error_set(err, 0, "container not running");
		else if ((r = fc_cgroup_apply(cg, res, err)) < 0)
			fc_error_wrap(err, "update `%s`", id);
	}
	fc_resources_free(res);
	fc_cgroup_free(cg);
	fcrt_state_free(st);
	return r;
}

int fcrt_pids(const char *root, const char *id, pid_t **pids, size_t *n, struct fc_error **err)
{
	struct fcrt_state *st = NULL;
	struct fc_cgroup *cg = NULL;
	*pids = NULL;
	*n = 0;
	int r = open_container(root, id, &st, &cg, err);
	if (r < 0)
		return r;
	if (st->status != FCRT_STOPPED)
		r = fc_cgroup_pids(cg, pids, n, err);
	fc_cgroup_free(cg);
	fcrt_state_free(st);
	return r;
}

int fcrt_stats_event(const char *root, const char *id, struct fc_buf *out, struct fc_error **err)
{
	struct fcrt_state *st = NULL;
	struct fc_cgroup *cg = NULL;
	int r = open_container(root, id, &st, &cg, err);
	if (r < 0)
		return r;
	if (!is_live(st->status)) {
		r = fc_error_set(err, 0, "container with id %s is not running", id);
	} else {
		_cleanup_buf_ struct fc_buf data = {0};
		r = fc_cgroup_stats_json(cg, &data, err);
		if (r >= 0) {
			fc_buf_printf(out, "{\"type\":\"stats\",\"id\":");
			fc_buf_json_string(out, id);
			fc_buf_printf(out, ",\"data\":%s}", data.data ? data.data : "{}");
		}
	}
	fc_cgroup_free(cg);
	fcrt_state_free(st);
	return r;
}

int fcrt_usage(const char *root, const char *id, uint64_t *memory, uint64_t *cpu_ns,
               struct fc_error **err)
{
	struct fcrt_state *st = NULL;
	struct fc_cgroup *cg = NULL;
	*memory = *cpu_ns = 0;
	int r = open_container(root, id, &st, &cg, err);
	if (r < 0)
		return r;
	r = fc_cgroup_usage(cg, memory, cpu_ns);
	fc_cgroup_free(cg);
	fcrt_state_free(st);
	return r;
}

int fcrt_cgroup_enter(const char *root, const char *id, pid_t pid, struct fc_error **err)
{
	struct fcrt_state *st = NULL;
	struct fc_cgroup *cg = NULL;
	int r = open_container(root, id, &st, &cg, err);
	if (r < 0)
		return r;
	if (!is_live(st->status))
		r = fc_error_set(err, ESRCH, "container `%s` is not running", id);
	else if ((r = fc_cgroup_enter(cg, pid, false, err)) < 0)
		fc_error_wrap(err, "move process %d into the cgroup of `%s`", (int)pid, id);
	fc_cgroup_free(cg);
	fcrt_state_free(st);
	return r;
}

int fcrt_oom_count(const char *root, const char *id, uint64_t *count, struct fc_error **err)
{
	struct fcrt_state *st = NULL;
	struct fc_cgroup *cg = NULL;
	*count = 0;
	int r = open_container(root, id, &st, &cg, err);
	if (r < 0)
		return r;
	r = fc_cgroup_oom_count(cg, count);
	if (r < 0)
		r = fc_error_set(err, -r, "container `%s`: read the OOM kill count", id);
	fc_cgroup_free(cg);
	fcrt_state_free(st);
	return r;
}

int fcrt_cgroup_reset(const char *path, struct fc_error **err)
{
	return fc_cgroup_recycle_reset(path, err);
}

int fcrt_cgroup_remove(const char *path, struct fc_error **err)
{
	return fc_cgroup_recycle_remove(path, err);
}

int fcrt_cgroup_remove_parents(const char *path, struct fc_error **err)
{
	return fc_cgroup_remove_parents(path, err);
}

bool fcrt_memslot_supported(void)
{
	return fc_cgroup_v1_memory();
}

int fcrt_memslot_make(const char *path, const struct fc_resources *res, int *tasks_fd,
                      struct fc_error **err)
{
	struct fc_cgroup *cg = NULL;
	*tasks_fd = -1;
	if (!fc_cgroup_v1_memory())
		return fc_error_set(err, ENOTSUP, "memory slot %s: no v1 memory hierarchy", path);
	int r = fc_cgroup_recycle_sel(path, res, -1, FC_CG_MEMORY_ONLY, &cg, err);
	if (r < 0)
		return r;
	const int *fds = NULL;
	size_t n = 0;
	r = fc_cgroup_self_fds(cg, &fds, &n, err);
	if (r >= 0 && n != 1)
		r = fc_error_set(err, ENOENT, "memory slot %s: no `tasks` file", path);
	if (r >= 0 && (*tasks_fd = fcntl(fds[0], F_DUPFD_CLOEXEC, 3)) < 0)
		r = fc_error_set(err, errno, "memory slot %s: dup", path);
	fc_cgroup_free(cg);
	return r;
}

int fcrt_memslot_reset(const char *path, struct fc_error **err)
{
	return fc_cgroup_recycle_reset_sel(path, FC_CG_MEMORY_ONLY, err);
}

bool fcrt_memslot_empty(const char *path)
{
	return fc_cgroup_memory_empty(path);
}
