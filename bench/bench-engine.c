/* SPDX-License-Identifier: MIT */
/* bench-engine.c: a PRIVATE containerd, and a private dockerd on it, for the
 * benchmarks that compare against `ctr run` and `docker run` (`fcstart bench
 * pool`, `fcstart bench coldstart`), as tests/e2e starts them: containerd
 * with the CRI plugin disabled and its sockets in our directory; dockerd with
 * its unix socket, exec-root and pidfile in our directory, no bridge, no
 * iptables, no NAT. Both are stopped by pid, with the shims of our containerd
 * (found by our socket on their command line); the mounts left under our
 * directories (overlays, netns files) and the cgroups they made are removed,
 * and the cgroup2 tree's subtree_control files are put back as they were
 * (bench_subtree_hold). */
#include "bench.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

/* The cgroups the engines make at the top of each hierarchy: dockerd's
 * cgroupfs driver "docker", containerd one per namespace. */
static void cg_seen(struct bench_engine *e)
{
	DIR *d = opendir("/sys/fs/cgroup");
	struct dirent *de;
	e->n_cg = 0;
	while (d && (de = readdir(d)) && e->n_cg < BENCH_ENGINE_CG_MAX) {
		if (de->d_name[0] == '.' || de->d_type != DT_DIR)
			continue;
		for (size_t k = 0; e->cg_names[k] && e->n_cg < BENCH_ENGINE_CG_MAX; k++) {
			char *p = fc_asprintf("/sys/fs/cgroup/%s/%s", de->d_name, e->cg_names[k]);
			if (access(p, F_OK) == 0) {
				free(p);
				continue;
			}
			e->cg[e->n_cg++] = p;
		}
	}
	if (d)
		closedir(d);
}

/* rmdir a cgroup and its children, deepest first (their files go with them). */
static void cg_rmdir(const char *path, int depth)
{
	DIR *d = depth < 4 ? opendir(path) : NULL;
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' || de->d_type != DT_DIR)
			continue;
		_cleanup_free_ char *sub = fc_asprintf("%s/%s", path, de->d_name);
		cg_rmdir(sub, depth + 1);
	}
	if (d)
		closedir(d);
	/* a cgroup whose last process just exited may still be busy a moment */
	for (int i = 0; i < 50 && rmdir(path) < 0 && errno == EBUSY; i++)
		bench_sleep_ms(20, NULL);
}

int bench_engine_init(struct bench_engine *e, const char *dir, const char *ctd_root,
                      const char *docker_data, const char *ns, struct fc_error **err)
{
	int r;
	memset(e, 0, sizeof(*e));
	e->dir = fc_strdup(dir);
	e->ctd_root = ctd_root ? fc_strdup(ctd_root) : fc_asprintf("%s/ctd-root", dir);
	e->docker_data = docker_data ? fc_strdup(docker_data) : fc_asprintf("%s/docker", dir);
	e->ctd_sock = fc_asprintf("%s/ctd.sock", dir);
	e->docker_sock = fc_asprintf("%s/docker.sock", dir);
	e->docker_host = fc_asprintf("unix://%s", e->docker_sock);
	e->ns = fc_strdup(ns);
	/* the client of the same package as dockerd (another one, e.g. a newer
	 * docker in /usr/local/bin, may come first in PATH) */
	e->docker = access(BENCH_DOCKER, X_OK) == 0 ? fc_strdup(BENCH_DOCKER)
	                                            : bench_find_in_path("docker");
	e->cg_names[0] = "docker";
	e->cg_names[1] = e->ns;
	cg_seen(e);
	if ((r = fc_mkdir_p_at(AT_FDCWD, dir, 0700, err)) < 0)
		return r;
	bench_subtree_hold();
	e->subtree_held = true;
	return 0;
}

const char *bench_engine_missing(bool docker)
{
	const char *need[] = {BENCH_CONTAINERD, BENCH_CTR, BENCH_SHIM,
	                      docker ? BENCH_DOCKERD : NULL};
	for (size_t i = 0; i < FC_ARRAY_SIZE(need); i++)
		if (need[i] && access(need[i], X_OK) != 0)
			return need[i];
	return NULL;
}

char *bench_engine_log_tail(const struct bench_engine *e, const char *name)
{
	_cleanup_free_ char *p = fc_asprintf("%s/%s", e->dir, name);
	return bench_file_tail(p, 500);
}

/* Wait until argv succeeds (the daemon answers), at most secs. */
static int wait_up(struct bench_engine *e, char *const argv[], pid_t pid, int secs)
{
	uint64_t t0 = fc_now_ns();
	while (bench_ms_since(t0) < secs * 1000.0 && !(e->stop && *e->stop)) {
		if (bench_exec_quiet(argv, 10, NULL) == 0)
			return 0;
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return -ESRCH;
		bench_sleep_ms(100, e->stop);
	}
	return -ETIMEDOUT;
}

int bench_engine_start(struct bench_engine *e, bool docker, struct fc_error **err)
{
	int r;
	if (!e->ctd) {
		_cleanup_free_ char *conf = fc_asprintf(
		    "version = 2\nroot = \"%s\"\nstate = \"%s/ctd-state\"\n"
		    "disabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n"
		    "[grpc]\n  address = \"%s\"\n[ttrpc]\n  address = \"%s.ttrpc\"\n"
		    "[debug]\n  address = \"\"\n[metrics]\n  address = \"\"\n"
		    "[plugins.\"io.containerd.internal.v1.opt\"]\n  path = \"%s/ctd-opt\"\n",
		    e->ctd_root, e->dir, e->ctd_sock, e->ctd_sock, e->dir);
		_cleanup_free_ char *cp = fc_asprintf("%s/containerd.toml", e->dir);
		_cleanup_free_ char *log = fc_asprintf("%s/containerd.log", e->dir);
		if ((r = fc_write_file_atomic_at(AT_FDCWD, cp, conf, strlen(conf), 0600, err)) < 0)
			return r;
		char *argv[] = {BENCH_CONTAINERD, "--config", cp, NULL};
		pid_t pid = bench_spawn_daemon(argv, log);
		if (pid < 0)
			return fc_error_set(err, -pid, "start containerd");
		e->ctd = pid;
		char *ping[] = {BENCH_CTR, "--address", e->ctd_sock, "version", NULL};
		if (wait_up(e, ping, pid, 30) < 0) {
			_cleanup_free_ char *tl = bench_engine_log_tail(e, "containerd.log");
			return fc_error_set(err, ETIMEDOUT, "containerd did not come up: %s", tl);
		}
	}
	if (docker && !e->dockerd) {
		if (!e->docker)
			return fc_error_set(err, ENOENT, "no docker client (%s, PATH)",
			                    BENCH_DOCKER);
		_cleanup_free_ char *dj = fc_asprintf("%s/daemon.json", e->dir);
		_cleanup_free_ char *json =
		    fc_asprintf("{\"storage-driver\":\"overlay2\",\"log-driver\":\"json-file\","
		                "\"exec-opts\":[\"native.cgroupdriver=cgroupfs\"],"
		                "\"features\":{\"buildkit\":false}%s%s%s}\n",
		                e->insecure_registry ? ",\"insecure-registries\":[\"" : "",
		                e->insecure_registry ? e->insecure_registry : "",
		                e->insecure_registry ? "\"]" : "");
		if ((r = fc_write_file_atomic_at(AT_FDCWD, dj, json, strlen(json), 0600, err)) < 0)
			return r;
		_cleanup_free_ char *exec = fc_asprintf("%s/dexec", e->dir);
		_cleanup_free_ char *pidf = fc_asprintf("%s/docker.pid", e->dir);
		_cleanup_free_ char *log = fc_asprintf("%s/dockerd.log", e->dir);
		char *argv[] = {BENCH_DOCKERD,
		                "--config-file",
		                dj,
		                "--host",
		                e->docker_host,
		                "--data-root",
		                e->docker_data,
		                "--exec-root",
		                exec,
		                "--pidfile",
		                pidf,
		                "--containerd",
		                e->ctd_sock,
		                "--iptables=false",
		                "--ip6tables=false",
		                "--ip-masq=false",
		                "--bridge=none",
		                "--ip-forward=false",
		                "--userland-proxy=false",
		                NULL};
		pid_t pid = bench_spawn_daemon(argv, log);
		if (pid < 0)
			return fc_error_set(err, -pid, "start dockerd");
		e->dockerd = pid;
		char *ping[] = {e->docker, "--host", e->docker_host, "version", NULL};
		if (wait_up(e, ping, pid, 60) < 0) {
			_cleanup_free_ char *tl = bench_engine_log_tail(e, "dockerd.log");
			return fc_error_set(err, ETIMEDOUT, "dockerd did not come up: %s", tl);
		}
	}
	return 0;
}

/* The shims of our containerd outlive it: found by our socket on their command
 * line, killed, and waited for (at most 2 s; they are not our children). */
static void kill_shims(const char *sock)
{
	pid_t killed[64];
	_cleanup_free_ char *needle = fc_asprintf("-address%c%s", 0, sock);
	size_t nlen = strlen("-address") + 1 + strlen(sock);
	int n = 0;
	DIR *d = opendir("/proc");
	struct dirent *de;
	while (d && (de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		if (*end || pid <= 1)
			continue;
		_cleanup_free_ char *path = fc_asprintf("/proc/%ld/cmdline", pid);
		_cleanup_free_ char *s = NULL;
		size_t len = 0;
		if (fc_read_file_at(AT_FDCWD, path, &s, &len, 8192, NULL) < 0)
			continue;
		for (size_t i = 0; i + nlen <= len; i++)
			if (memcmp(s + i, needle, nlen) == 0) {
				if (kill((pid_t)pid, SIGKILL) == 0 && n < 64)
					killed[n++] = (pid_t)pid;
				break;
			}
	}
	if (d)
		closedir(d);
	for (int i = 0; i < n; i++) {
		_cleanup_close_ int pfd = (int)syscall(SYS_pidfd_open, killed[i], 0);
		struct pollfd p = {.fd = pfd, .events = POLLIN};
		if (pfd >= 0)
			poll(&p, 1, 2000);
	}
}

void bench_engine_stop(struct bench_engine *e)
{
	bench_stop_pid(&e->dockerd, SIGTERM, 30);
	if (e->ctd > 0) {
		bench_stop_pid(&e->ctd, SIGTERM, 20);
		kill_shims(e->ctd_sock);
	}
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	bench_unmount_under(e->dir);
	bench_unmount_under(e->ctd_root);
	bench_unmount_under(e->docker_data);
	for (size_t i = 0; i < e->n_cg; i++)
		if (access(e->cg[i], F_OK) == 0)
			cg_rmdir(e->cg[i], 0);
	/* after the cgroups they made are gone: those enable what runc enabled */
	if (e->subtree_held) {
		bench_subtree_release();
		e->subtree_held = false;
	}
}

void bench_engine_free(struct bench_engine *e)
{
	if (e->subtree_held)
		bench_subtree_release();
	for (size_t i = 0; i < e->n_cg; i++)
		free(e->cg[i]);
	free(e->dir);
	free(e->ctd_root);
	free(e->docker_data);
	free(e->ctd_sock);
	free(e->docker_sock);
	free(e->docker_host);
	free(e->docker);
	free(e->ns);
	memset(e, 0, sizeof(*e));
}
