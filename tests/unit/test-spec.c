/* SPDX-License-Identifier: MIT */
/* test-spec: config.json / process.json / resources parsing and validation.
 * Usage: test-spec PATH/TO/config-full.json */
#include "spec.h"
#include "tap.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/ioprio.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/stat.h>

#define STREQ_OR_NULL(a, b) ((a) && (b) && strcmp((a), (b)) == 0)

static void check_process(const struct fc_process *p)
{
	ok(p->terminal, "process.terminal");
	ok(p->has_console_size && p->console_height == 25 && p->console_width == 80,
	   "process.consoleSize");
	ok(p->uid == 1000 && p->gid == 4294967295u, "process.user uid/gid (gid 2^32-1)");
	ok(p->has_umask && p->umask == 18, "process.user.umask");
	ok(p->n_additional_gids == 3 && p->additional_gids[0] == 5 && p->additional_gids[2] == 7,
	   "process.user.additionalGids");
	ok(fc_strv_len(p->args) == 3 && STREQ_OR_NULL(p->args[2], "echo hi") && !p->args[3],
	   "process.args");
	ok(fc_strv_len(p->env) == 2 && STREQ_OR_NULL(p->env[1], "TERM=xterm"), "process.env");
	ok(STREQ_OR_NULL(p->cwd, "/home/user"), "process.cwd");
	ok(p->caps.has_caps, "process.capabilities present");
	ok(p->caps.n_bounding == 4 && p->caps.bounding[0] == CAP_CHOWN &&
	       p->caps.bounding[1] == 38 && p->caps.bounding[2] == 39 && p->caps.bounding[3] == 40,
	   "capabilities.bounding incl. PERFMON/BPF/CHECKPOINT_RESTORE");
	ok(p->caps.n_effective == 1 && p->caps.effective[0] == CAP_KILL, "capabilities.effective");
	ok(p->caps.n_inheritable == 0, "capabilities.inheritable empty");
	ok(p->caps.n_permitted == 2 && p->caps.permitted[1] == CAP_NET_BIND_SERVICE,
	   "capabilities.permitted");
	ok(p->caps.n_ambient == 1 && p->caps.ambient[0] == CAP_NET_BIND_SERVICE,
	   "capabilities.ambient");
	ok(p->n_rlimits == 2 && p->rlimits[0].resource == RLIMIT_NOFILE &&
	       p->rlimits[0].soft == 1024 && p->rlimits[0].hard == 4096,
	   "process.rlimits[0]");
	ok(p->rlimits[1].resource == RLIMIT_CORE && p->rlimits[1].soft == UINT64_MAX &&
	       p->rlimits[1].hard == UINT64_MAX,
	   "process.rlimits[1] = 2^64-1");
	ok(p->no_new_privileges, "process.noNewPrivileges");
	ok(STREQ_OR_NULL(p->apparmor_profile, "docker-default"), "process.apparmorProfile");
	ok(p->selinux_label && strstr(p->selinux_label, "svirt_lxc_net_t"), "process.selinuxLabel");
	ok(p->has_oom_score_adj && p->oom_score_adj == -500, "process.oomScoreAdj");
	ok(p->has_io_priority && p->io_priority_class == IOPRIO_CLASS_BE && p->io_priority == 4,
	   "process.ioPriority");
}

static void check_mounts(const struct fc_spec *s)
{
	const struct fc_mount *m;
	ok(s->n_mounts == 5, "mounts: 5 entries");
	if (s->n_mounts != 5)
		return;
	m = &s->mounts[0];
	ok(STREQ_OR_NULL(m->destination, "/proc") && STREQ_OR_NULL(m->type, "proc") &&
	       STREQ_OR_NULL(m->source, "proc") && !m->options && !m->flags && !m->data,
	   "mounts[0] proc");
	m = &s->mounts[1];
	ok(m->flags == (MS_NOSUID | MS_STRICTATIME) && !m->clear_flags && !m->propagation,
	   "mounts[1] flags nosuid|strictatime");
	ok(STREQ_OR_NULL(m->data, "mode=755,size=65536k"), "mounts[1] data `%s`", m->data);
	m = &s->mounts[2];
	ok(m->bind && m->recursive, "mounts[2] rbind");
	ok(m->flags == (MS_BIND | MS_REC | MS_RDONLY), "mounts[2] flags bind|rec|ro (%#lx)",
	   m->flags);
	ok(m->clear_flags == MS_NOSUID, "mounts[2] suid after nosuid clears (%#lx)",
	   m->clear_flags);
	ok(m->propagation == (MS_PRIVATE | MS_REC), "mounts[2] rprivate");
	ok(m->rec_flags == (MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOATIME),
	   "mounts[2] rec_flags rnosuid|rnoatime (%#lx)", m->rec_flags);
	ok(m->rec_clear == (MOUNT_ATTR_RDONLY | MOUNT_ATTR__ATIME),
	   "mounts[2] rec_clear rrw|atime mask (%#lx)", m->rec_clear);
	ok(!m->data, "mounts[2] no data");
	m = &s->mounts[3];
	ok(STREQ_OR_NULL(m->destination, "/relative/dir"), "relative destination made absolute");
	ok(m->bind && !m->recursive && m->tmpcopyup, "mounts[3] bind, tmpcopyup");
	ok(m->flags == (MS_BIND | MS_NOEXEC | MS_NODEV) && m->clear_flags == MS_RDONLY,
	   "mounts[3] flags/clear");
	ok(m->propagation == (MS_SHARED | MS_REC) && !m->data, "mounts[3] rshared");
	ok(s->warnings && s->warnings[0] && strstr(s->warnings[0], "mounts[3].destination"),
	   "warning names mounts[3].destination: %s", s->warnings ? s->warnings[0] : "(none)");
	m = &s->mounts[4];
	ok(m->idmap && m->idmap_recursive && m->propagation == MS_SLAVE, "mounts[4] ridmap, slave");
	ok(m->n_uid_mappings == 1 && m->uid_mappings[0].host_id == 100000 &&
	       m->uid_mappings[0].size == 65536 && m->n_gid_mappings == 1 &&
	       m->gid_mappings[0].size == 1000,
	   "mounts[4] idmapped mount mappings");
}

static void check_resources(const struct fc_resources *r)
{
	ok(r != NULL, "linux.resources present");
	if (!r)
		return;
	ok(r->n_devices == 3 && !r->devices[0].allow && r->devices[0].type == 0 &&
	       r->devices[0].major == -1 && r->devices[0].minor == -1 &&
	       STREQ_OR_NULL(r->devices[0].access, "rwm"),
	   "resources.devices[0] deny all");
	ok(r->devices[1].allow && r->devices[1].type == 'c' && r->devices[1].major == 10 &&
	       r->devices[1].minor == 229 && STREQ_OR_NULL(r->devices[1].access, "rw"),
	   "resources.devices[1]");
	ok(r->devices[2].major == 8 && r->devices[2].minor == -1 && !r->devices[2].access,
	   "resources.devices[2] minor wildcard");
	ok(r->memory.has_limit && r->memory.limit == 536870912 && r->memory.has_reservation &&
	       r->memory.reservation == 268435456 && r->memory.has_swap && r->memory.swap == -1 &&
	       r->memory.has_kernel && r->memory.kernel == -1 && r->memory.has_kernel_tcp &&
	       r->memory.kernel_tcp == 1048576,
	   "resources.memory numbers");
	ok(r->memory.has_swappiness && r->memory.swappiness == 60 &&
	       r->memory.has_disable_oom_killer && r->memory.disable_oom_killer &&
	       r->memory.has_use_hierarchy && !r->memory.use_hierarchy &&
	       r->memory.has_check_before_update && r->memory.check_before_update,
	   "resources.memory flags");
	ok(r->cpu.has_shares && r->cpu.shares == 1024 && r->cpu.has_quota &&
	       r->cpu.quota == 100000 && r->cpu.has_burst && r->cpu.burst == 5000 &&
	       r->cpu.has_period && r->cpu.period == 100000 && r->cpu.has_realtime_runtime &&
	       r->cpu.realtime_runtime == 950000 && r->cpu.has_realtime_period &&
	       r->cpu.realtime_period == 1000000 && r->cpu.has_idle && r->cpu.idle == 1,
	   "resources.cpu numbers");
	ok(STREQ_OR_NULL(r->cpu.cpus, "0-1") && STREQ_OR_NULL(r->cpu.mems, "0"),
	   "resources.cpu cpuset");
	ok(r->pids.has_limit && r->pids.limit == 32, "resources.pids");
	ok(r->blkio.has_weight && r->blkio.weight == 500 && r->blkio.has_leaf_weight &&
	       r->blkio.leaf_weight == 300,
	   "resources.blockIO weights");
	ok(r->blkio.n_weight_devices == 1 && r->blkio.weight_devices[0].has_weight &&
	       r->blkio.weight_devices[0].weight == 200 &&
	       !r->blkio.weight_devices[0].has_leaf_weight,
	   "resources.blockIO.weightDevice");
	ok(r->blkio.n_throttle_read_bps == 1 && r->blkio.throttle_read_bps[0].rate == 1048576 &&
	       r->blkio.n_throttle_write_bps == 1 && r->blkio.throttle_write_bps[0].minor == 16 &&
	       r->blkio.n_throttle_read_iops == 1 && r->blkio.n_throttle_write_iops == 2 &&
	       r->blkio.throttle_write_iops[1].rate == 300,
	   "resources.blockIO throttles");
	ok(r->n_hugepage_limits == 1 && STREQ_OR_NULL(r->hugepage_limits[0].page_size, "2MB") &&
	       r->hugepage_limits[0].limit == 209715200,
	   "resources.hugepageLimits");
	ok(r->network.has_class_id && r->network.class_id == 1048577 &&
	       r->network.n_priorities == 1 &&
	       STREQ_OR_NULL(r->network.priorities[0].key, "eth0") &&
	       STREQ_OR_NULL(r->network.priorities[0].value, "500"),
	   "resources.network");
	ok(r->n_rdma == 1 && STREQ_OR_NULL(r->rdma[0].key, "mlx5_1") &&
	       STREQ_OR_NULL(r->rdma[0].value, "hca_handle=3 hca_object=10000"),
	   "resources.rdma");
	ok(r->n_unified == 2 && STREQ_OR_NULL(r->unified[0].key, "memory.high") &&
	       STREQ_OR_NULL(r->unified[1].value, "50"),
	   "resources.unified");
}

static void check_seccomp(const struct fc_seccomp *sc)
{
	ok(sc != NULL, "linux.seccomp present");
	if (!sc)
		return;
	ok(sc->default_action == SCMP_ACT_ERRNO(38), "seccomp.defaultAction errno 38");
	ok(sc->n_architectures == 3 && sc->architectures[0] == SCMP_ARCH_X86_64 &&
	       sc->architectures[1] == SCMP_ARCH_X86 && sc->architectures[2] == SCMP_ARCH_AARCH64,
	   "seccomp.architectures");
	ok(fc_strv_len(sc->flags) == 1 && STREQ_OR_NULL(sc->flags[0], "SECCOMP_FILTER_FLAG_LOG"),
	   "seccomp.flags");
	ok(STREQ_OR_NULL(sc->listener_path, "/run/seccomp.sock") &&
	       STREQ_OR_NULL(sc->listener_metadata, "meta"),
	   "seccomp.listenerPath/Metadata");
	ok(sc->n_syscalls == 11, "seccomp.syscalls count");
	if (sc->n_syscalls != 11)
		return;
	ok(fc_strv_len(sc->syscalls[0].names) == 2 && sc->syscalls[0].action == SCMP_ACT_ALLOW,
	   "syscalls[0] allow read,write");
	ok(sc->syscalls[1].n_args == 2 && sc->syscalls[1].args[0].op == SCMP_CMP_EQ &&
	       sc->syscalls[1].args[0].value == 8 && sc->syscalls[1].args[1].index == 1 &&
	       sc->syscalls[1].args[1].value_two == 4 &&
	       sc->syscalls[1].args[1].op == SCMP_CMP_MASKED_EQ,
	   "syscalls[1] args");
	ok(sc->syscalls[2].action == SCMP_ACT_ERRNO(EPERM), "ERRNO defaults to EPERM");
	ok(sc->syscalls[3].action == SCMP_ACT_ERRNO(1), "ERRNO with errnoRet");
	ok(sc->syscalls[4].action == SCMP_ACT_KILL_PROCESS, "KILL_PROCESS");
	ok(sc->syscalls[5].action == SCMP_ACT_KILL, "KILL");
	ok(sc->syscalls[6].action == SCMP_ACT_KILL_THREAD, "KILL_THREAD");
	ok(sc->syscalls[7].action == SCMP_ACT_TRAP, "TRAP");
	ok(sc->syscalls[8].action == SCMP_ACT_TRACE(7), "TRACE(7)");
	ok(sc->syscalls[9].action == SCMP_ACT_LOG, "LOG");
	ok(sc->syscalls[10].action == SCMP_ACT_NOTIFY, "NOTIFY");
}

static void test_full(const char *path)
{
	_cleanup_free_ char *json = NULL;
	_cleanup_error_ struct fc_error *err = NULL;
	_cleanup_spec_ struct fc_spec *s = NULL;
	size_t len;
	int r = fc_read_file_at(AT_FDCWD, path, &json, &len, 0, &err);
	if (!ok(r == 0, "read %s", path))
		return;
	r = fcrt_spec_parse(json, len, "/bundles/b1/", &s, &err);
	if (!ok(r == 0 && s, "full config parses%s%s", err ? ": " : "", err ? err->msg : ""))
		return;
	ok(STREQ_OR_NULL(s->oci_version, "1.1.0"), "ociVersion");
	ok(STREQ_OR_NULL(s->root_path, "/bundles/b1/rootfs"), "root.path absolute: %s",
	   s->root_path);
	ok(s->root_readonly, "root.readonly");
	ok(STREQ_OR_NULL(s->hostname, "box") && STREQ_OR_NULL(s->domainname, "example.org"),
	   "hostname/domainname");
	check_process(s->process);
	check_mounts(s);
	ok(s->n_hooks[FC_HOOK_PRESTART] == 1 &&
	       STREQ_OR_NULL(s->hooks[FC_HOOK_PRESTART][0].path, "/usr/bin/pre") &&
	       fc_strv_len(s->hooks[FC_HOOK_PRESTART][0].args) == 2 &&
	       fc_strv_len(s->hooks[FC_HOOK_PRESTART][0].env) == 1 &&
	       s->hooks[FC_HOOK_PRESTART][0].has_timeout &&
	       s->hooks[FC_HOOK_PRESTART][0].timeout == 5,
	   "hooks.prestart (legacy)");
	ok(s->n_hooks[FC_HOOK_CREATE_RUNTIME] == 2 &&
	       STREQ_OR_NULL(s->hooks[FC_HOOK_CREATE_RUNTIME][1].path, "/bin/cr2") &&
	       !s->hooks[FC_HOOK_CREATE_RUNTIME][1].has_timeout,
	   "hooks.createRuntime");
	ok(s->n_hooks[FC_HOOK_CREATE_CONTAINER] == 1 && s->n_hooks[FC_HOOK_START_CONTAINER] == 1 &&
	       s->n_hooks[FC_HOOK_POSTSTART] == 1 && s->n_hooks[FC_HOOK_POSTSTOP] == 1 &&
	       STREQ_OR_NULL(s->hooks[FC_HOOK_POSTSTOP][0].path, "/bin/pst") &&
	       s->hooks[FC_HOOK_POSTSTOP][0].timeout == 1,
	   "hooks: other kinds");
	ok(STREQ_OR_NULL(fc_spec_annotation(s, "fcstart.pool"), "hot") &&
	       !fc_spec_annotation(s, "nope") && s->n_annotations == 2,
	   "annotations");
	ok(s->n_namespaces == 8, "linux.namespaces: 8");
	ok(fc_spec_ns(s, FC_NS_NETWORK) &&
	       STREQ_OR_NULL(fc_spec_ns(s, FC_NS_NETWORK)->path, "/var/run/netns/x") &&
	       fc_spec_ns(s, FC_NS_TIME) && !fc_spec_ns(s, FC_NS_TIME)->path,
	   "fc_spec_ns network path, time");
	ok(s->n_uid_mappings == 1 && s->uid_mappings[0].size == 32000 && s->n_gid_mappings == 2 &&
	       s->gid_mappings[1].container_id == 40000 && s->gid_mappings[1].host_id == 50000,
	   "linux.uid/gidMappings");
	ok(s->n_devices == 3 && s->devices[0].type == 'c' && s->devices[0].major == 10 &&
	       s->devices[0].minor == 229 && s->devices[0].has_mode &&
	       s->devices[0].file_mode == 438 && s->devices[0].has_uid && s->devices[0].has_gid,
	   "linux.devices[0]");
	ok(s->devices[1].type == 'b' && !s->devices[1].has_mode && s->devices[2].type == 'p',
	   "linux.devices[1..2]");
	ok(STREQ_OR_NULL(s->cgroups_path, "/fcrun/test"), "linux.cgroupsPath");
	check_resources(s->resources);
	ok(STREQ_OR_NULL(s->rootfs_propagation, "rslave") &&
	       s->rootfs_propagation_flags == (MS_SLAVE | MS_REC),
	   "linux.rootfsPropagation");
	ok(fc_strv_len(s->masked_paths) == 2 && fc_strv_len(s->readonly_paths) == 1,
	   "masked/readonlyPaths");
	ok(s->mount_label && strstr(s->mount_label, "svirt_sandbox_file_t"), "linux.mountLabel");
	ok(s->n_sysctl == 2 && STREQ_OR_NULL(s->sysctl[0].key, "net.ipv4.ip_forward") &&
	       STREQ_OR_NULL(s->sysctl[1].value, "65536"),
	   "linux.sysctl");
	check_seccomp(s->seccomp);
	ok(s->has_personality && s->personality == PER_LINUX32 && s->personality_flags &&
	       !s->personality_flags[0],
	   "linux.personality");
	ok(s->has_time_offsets && s->monotonic_secs == -100 && s->monotonic_nsecs == 5 &&
	       s->boottime_secs == 3600 && s->boottime_nsecs == 999999999,
	   "linux.timeOffsets");
}

/* Every truncation of a valid document is refused cleanly (ASan checks the
 * error paths free what they built), and so is every document in which one
 * value is replaced by a value of the wrong JSON type. */
static void test_truncations(const char *path)
{
	_cleanup_free_ char *json = NULL;
	_cleanup_error_ struct fc_error *err = NULL;
	size_t len, bad_ok = 0, total = 0;
	if (fc_read_file_at(AT_FDCWD, path, &json, &len, 0, &err) < 0)
		return;
	for (size_t n = 0; n < len; n++) {
		struct fc_error *e = NULL;
		struct fc_spec *s = NULL;
		int r = fcrt_spec_parse(json, n, "/b", &s, &e);
		/* Trailing whitespace after the last brace still parses. */
		bool complete = strspn(json + n, " \t\r\n") == len - n;
		total++;
		if (complete ? r == 0 : (r < 0 && !s && e && e->msg))
			bad_ok++;
		fcrt_spec_free(s);
		fc_error_free(e);
	}
	ok(bad_ok == total, "%zu of %zu truncations handled", bad_ok, total);
	/* Swap each scalar for an object: `"x"` -> {}, numbers/booleans likewise. */
	size_t accepted = 0;
	total = bad_ok = 0;
	for (size_t i = 0; i < len; i++) {
		size_t j = i;
		if (json[i] == '"') {
			j = i + 1;
			while (j < len && json[j] != '"')
				j++;
			/* Only values (after ':' or in arrays), not keys. */
			size_t k = j + 1;
			while (k < len && strchr(" \t\n", json[k]))
				k++;
			if (k < len && json[k] == ':') {
				i = j;
				continue;
			}
		} else if (strchr("-0123456789tf", json[i]) && i > 0 &&
		           strchr(":[, \t\n", json[i - 1])) {
			while (j + 1 < len && !strchr(",]} \t\n", json[j + 1]))
				j++;
		} else {
			continue;
		}
		_cleanup_free_ char *mut = fc_asprintf("%.*s{}%s", (int)i, json, json + j + 1);
		struct fc_error *e = NULL;
		struct fc_spec *s = NULL;
		int r = fcrt_spec_parse(mut, strlen(mut), "/b", &s, &e);
		total++;
		/* Unknown keys may take anything; everything else must be refused. */
		if (r == 0 || (r < 0 && e && e->msg && !strchr(e->msg, '\n')))
			bad_ok++;
		else
			printf("# mutation at %zu: r=%d\n", i, r);
		accepted += r == 0;
		if (r == 0 && getenv("FC_TEST_VERBOSE"))
			printf("# accepted mutation at %zu: %.40s\n", i, json + i);
		fcrt_spec_free(s);
		fc_error_free(e);
		i = j;
	}
	ok(total > 200 && bad_ok == total, "%zu of %zu wrong-type mutations handled", bad_ok,
	   total);
	/* Only the 7 values under ignored keys (unknownTopLevelKey x3, user.username,
	 * scheduler.policy, linux.futureKey, intelRdt.closID) may change type. */
	ok(accepted == 7, "every known field is type-checked (%zu mutations accepted)", accepted);
}

#define BASE                                                                                       \
	"{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},\"process\":{\"args\":[\"sh\"]," \
	"\"cwd\":\"/\"}"
#define PROC(x)  BASE ",\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\"," x "}}"
#define LINUX(x) BASE ",\"linux\":{" x "}}"
#define USERNS   "\"namespaces\":[{\"type\":\"user\"}],"
#define MAPS                                                                                       \
	"\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}],\"gidMappings\":[{"      \
	"\"containerID\":0,\"hostID\":1000,\"size\":1}]"
#define SECCOMP(x) LINUX("\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\"," x "}")
#define RES(x)     LINUX("\"resources\":{" x "}")

static const struct {
	const char *json, *want;
} bad[] = {
    {"{\"ociVersion\": ", "config.json: invalid JSON"},
    {"{\"a\" x}", "config.json: invalid JSON"},
    {"[1,2]", "config.json: expected a JSON object"},
    {"{\"root\":{\"path\":\"r\"},\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\"}}",
     "ociVersion: is required"},
    {"{\"ociVersion\":1}", "ociVersion: expected a string"},
    {"{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\"}}",
     "root: is required"},
    {"{\"ociVersion\":\"1.0.2\",\"root\":{},\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\"}}",
     "root.path: is required"},
    {"{\"ociVersion\":\"1.0.2\",\"root\":[]}", "root: expected an object"},
    {"{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"r\"}}", "process: is required"},
    {BASE ",\"process\":{\"args\":\"sh\",\"cwd\":\"/\"}}",
     "process.args: expected an array of strings"},
    {BASE ",\"process\":{\"args\":[\"sh\",1],\"cwd\":\"/\"}}",
     "process.args: expected an array of strings"},
    {BASE ",\"process\":{\"args\":[],\"cwd\":\"/\"}}",
     "process.args: must be a non-empty array of strings"},
    {BASE ",\"process\":{\"cwd\":\"/\"}}", "process.args: must be a non-empty"},
    {BASE ",\"process\":{\"args\":[\"sh\"]}}", "process.cwd: is required"},
    {BASE ",\"process\":{\"args\":[\"sh\"],\"cwd\":\"tmp\"}}",
     "process.cwd: must be an absolute path"},
    {PROC("\"terminal\":\"yes\""), "process.terminal: expected a boolean"},
    {PROC("\"user\":{\"uid\":-1}"), "process.user.uid: must be an integer in 0..4294967295"},
    {PROC("\"user\":{\"uid\":4294967296}"), "process.user.uid: must be an integer in 0.."},
    {PROC("\"user\":{\"gid\":1.5}"), "process.user.gid: must be an integer"},
    {PROC("\"user\":{\"uid\":\"0\"}"), "process.user.uid: must be an integer"},
    {PROC("\"user\":{\"additionalGids\":[1,-2]}"), "process.user.additionalGids[1]: must be"},
    {PROC("\"consoleSize\":{\"height\":1}"), "process.consoleSize.width: is required"},
    {PROC("\"rlimits\":[{\"type\":\"RLIMIT_FOO\",\"soft\":1,\"hard\":1}]"),
     "process.rlimits[0].type: unknown rlimit type `RLIMIT_FOO`"},
    {PROC("\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":-1,\"hard\":1}]"),
     "process.rlimits[0].soft: must be an integer in 0..18446744073709551615"},
    {PROC("\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":1,\"hard\":1},"
          "{\"type\":\"RLIMIT_NOFILE\",\"soft\":1,\"hard\":1}]"),
     "process.rlimits[1].type: duplicate rlimit type"},
    {PROC("\"rlimits\":[5]"), "process.rlimits[0]: expected an object"},
    {PROC("\"capabilities\":{\"ambient\":\"CAP_CHOWN\"}"),
     "process.capabilities.ambient: expected an array of strings"},
    {PROC("\"oomScoreAdj\":1001"), "process.oomScoreAdj: must be an integer in -1000..1000"},
    {PROC("\"ioPriority\":{\"class\":\"IOPRIO_CLASS_X\"}"),
     "process.ioPriority.class: unknown I/O priority class"},
    {PROC("\"ioPriority\":{\"class\":\"IOPRIO_CLASS_RT\",\"priority\":8}"),
     "process.ioPriority.priority: must be an integer in 0..7"},
    {BASE ",\"hostname\":5}", "hostname: expected a string"},
    {BASE ",\"mounts\":{}}", "mounts: expected an array"},
    {BASE ",\"mounts\":[{\"type\":\"tmpfs\"}]}", "mounts[0].destination: is required"},
    {BASE ",\"mounts\":[{\"destination\":\"/a\"},{\"destination\":\"/b\",\"options\":\"ro\"}]}",
     "mounts[1].options: expected an array of strings"},
    {BASE ",\"mounts\":[{\"destination\":\"/a\",\"uidMappings\":[{\"containerID\":0,"
          "\"hostID\":1,\"size\":0}]}]}",
     "mounts[0].uidMappings[0].size: must not be 0"},
    {BASE ",\"hooks\":{\"poststop\":[{\"path\":\"rel\"}]}}",
     "hooks.poststop[0].path: must be an absolute path"},
    {BASE ",\"hooks\":{\"createRuntime\":[{\"path\":\"/x\",\"timeout\":0}]}}",
     "hooks.createRuntime[0].timeout: must be an integer in 1.."},
    {BASE ",\"hooks\":{\"prestart\":[{}]}}", "hooks.prestart[0].path: is required"},
    {BASE ",\"annotations\":{\"a\":1}}", "annotations.a: expected a string"},
    {BASE ",\"linux\":[]}", "linux: expected an object"},
    {LINUX("\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"mount\"},{\"type\":\"foo\"}]"),
     "linux.namespaces[2].type: unknown namespace type `foo`"},
    {LINUX("\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"pid\"}]"),
     "linux.namespaces[1].type: duplicate namespace type `pid`"},
    {LINUX("\"namespaces\":[{\"type\":\"pid\",\"path\":\"proc/1/ns/pid\"}]"),
     "linux.namespaces[0].path: must be an absolute path"},
    {LINUX("\"namespaces\":[{}]"), "linux.namespaces[0].type: is required"},
    {LINUX(USERNS "\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":0}]"),
     "linux.uidMappings[0].size: must not be 0"},
    {LINUX(USERNS "\"uidMappings\":[{\"containerID\":0,\"size\":1}]"),
     "linux.uidMappings[0].hostID: is required"},
    {LINUX(MAPS), "linux.uidMappings: given, but linux.namespaces has no user namespace"},
    {LINUX("\"namespaces\":[{\"type\":\"user\"}]"),
     "linux.uidMappings: required with a new user namespace"},
    {LINUX("\"devices\":[{\"path\":\"/dev/x\",\"type\":\"x\",\"major\":1,\"minor\":1}]"),
     "linux.devices[0].type: must be one of c, b, u, p"},
    {LINUX("\"devices\":[{\"path\":\"/dev/x\",\"type\":\"c\",\"minor\":1}]"),
     "linux.devices[0].major: is required"},
    {LINUX("\"devices\":[{\"path\":\"/dev/x\",\"type\":\"c\",\"major\":1,\"minor\":-1}]"),
     "linux.devices[0].minor: must be an integer in 0.."},
    {LINUX("\"devices\":[{\"path\":\"/dev/x\",\"type\":\"p\",\"fileMode\":-1}]"),
     "linux.devices[0].fileMode: must be an integer in 0..4294967295"},
    {LINUX("\"rootfsPropagation\":\"sideways\""),
     "linux.rootfsPropagation: unknown propagation `sideways`"},
    {LINUX("\"maskedPaths\":[1]"), "linux.maskedPaths: expected an array of strings"},
    {LINUX("\"sysctl\":{\"a.b\":1}"), "linux.sysctl.a.b: expected a string"},
    {LINUX("\"seccomp\":{}"), "linux.seccomp.defaultAction: is required"},
    {LINUX("\"seccomp\":{\"defaultAction\":\"SCMP_ACT_EXPLODE\"}"),
     "linux.seccomp.defaultAction: unknown seccomp action `SCMP_ACT_EXPLODE`"},
    {SECCOMP("\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_VAX\"]"),
     "linux.seccomp.architectures[1]: unknown seccomp architecture `SCMP_ARCH_VAX`"},
    {SECCOMP("\"flags\":[\"SECCOMP_FILTER_FLAG_NOPE\"]"),
     "linux.seccomp.flags[0]: unknown seccomp flag"},
    {SECCOMP("\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_NOPE\"}]"),
     "linux.seccomp.syscalls[0].action: unknown seccomp action `SCMP_ACT_NOPE`"},
    {SECCOMP("\"syscalls\":[{\"names\":[],\"action\":\"SCMP_ACT_ALLOW\"}]"),
     "linux.seccomp.syscalls[0].names: must be a non-empty array of strings"},
    {SECCOMP("\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\","
             "\"args\":[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_SOMETIMES\"}]}]"),
     "linux.seccomp.syscalls[0].args[0].op: unknown seccomp operator `SCMP_CMP_SOMETIMES`"},
    {SECCOMP("\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\","
             "\"args\":[{\"index\":6,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}]"),
     "linux.seccomp.syscalls[0].args[0].index: must be an integer in 0..5"},
    {SECCOMP("\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ERRNO\","
             "\"errnoRet\":-1}]"),
     "linux.seccomp.syscalls[0].errnoRet: must be an integer"},
    {LINUX("\"personality\":{\"domain\":\"BSD\"}"),
     "linux.personality.domain: unknown domain `BSD`"},
    {LINUX("\"timeOffsets\":{\"monotonic\":{\"secs\":1}}"),
     "linux.timeOffsets: given, but linux.namespaces has no time namespace"},
    {LINUX("\"namespaces\":[{\"type\":\"time\"}],\"timeOffsets\":{\"boottime\":{\"nanosecs\":"
           "1000000000}}"),
     "linux.timeOffsets.boottime.nanosecs: must be an integer in 0..999999999"},
    {RES("\"memory\":{\"limit\":-2}"), "linux.resources.memory.limit: must be an integer in -1.."},
    {RES("\"memory\":{\"swappiness\":101}"), "linux.resources.memory.swappiness: must be"},
    {RES("\"cpu\":{\"shares\":-5}"), "linux.resources.cpu.shares: must be an integer in 0.."},
    {RES("\"cpu\":{\"cpus\":5}"), "linux.resources.cpu.cpus: expected a string"},
    {RES("\"devices\":[{\"type\":\"c\"}]"), "linux.resources.devices[0].allow: is required"},
    {RES("\"devices\":[{\"allow\":true,\"type\":\"p\"}]"),
     "linux.resources.devices[0].type: must be one of a, c, b"},
    {RES("\"devices\":[{\"allow\":true,\"access\":\"xa\"}]"),
     "linux.resources.devices[0].access: must contain r, w or m"},
    {RES("\"blockIO\":{\"weight\":70000}"),
     "linux.resources.blockIO.weight: must be an integer in 0..65535"},
    {RES("\"blockIO\":{\"throttleReadBpsDevice\":[{\"major\":8,\"minor\":0}]}"),
     "linux.resources.blockIO.throttleReadBpsDevice[0].rate: is required"},
    {RES("\"hugepageLimits\":[{\"limit\":1}]"),
     "linux.resources.hugepageLimits[0].pageSize: is required"},
    {RES("\"pids\":{\"limit\":\"max\"}"), "linux.resources.pids.limit: must be an integer"},
    {RES("\"unified\":{\"memory.max\":5}"),
     "linux.resources.unified.memory.max: expected a string"},
};

static void test_errors(void)
{
	for (size_t i = 0; i < FC_ARRAY_SIZE(bad); i++) {
		_cleanup_error_ struct fc_error *err = NULL;
		_cleanup_spec_ struct fc_spec *s = NULL;
		int r = fcrt_spec_parse(bad[i].json, strlen(bad[i].json), "/b", &s, &err);
		bool good = r == -EINVAL && !s && err && err->msg && strstr(err->msg, bad[i].want);
		ok(good, "error %zu: `%s`", i, err && err->msg ? err->msg : "(no error)");
		if (!good)
			printf("#   wanted `%s`, r=%d\n", bad[i].want, r);
		if (err && err->msg)
			ok(!strchr(err->msg, '\n'), "error %zu is one line", i);
	}
}

static void test_accepts(void)
{
	/* Forward compatibility and lenient cases that must parse. */
	static const char *const good[] = {
	    BASE ",\"somethingNew\":{\"x\":[1]},\"linux\":{\"somethingNewToo\":1}}",
	    BASE ",\"hostname\":null,\"mounts\":null}",
	    LINUX("\"namespaces\":[{\"type\":\"user\",\"path\":\"/proc/1/ns/user\"}]"),
	    LINUX(USERNS MAPS),
	    BASE ",\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\",\"user\":{\"uid\":0,\"gid\":0}}"
	         ",\"process\":{\"args\":[\"true\"],\"cwd\":\"/tmp\"}}",
	};
	for (size_t i = 0; i < FC_ARRAY_SIZE(good); i++) {
		_cleanup_error_ struct fc_error *err = NULL;
		_cleanup_spec_ struct fc_spec *s = NULL;
		int r = fcrt_spec_parse(good[i], strlen(good[i]), "/b", &s, &err);
		ok(r == 0 && s, "accepts %zu%s%s", i, err ? ": " : "", err ? err->msg : "");
		if (i == 4 && s)
			ok(STREQ_OR_NULL(s->process->cwd, "/tmp") && !s->process->caps.has_caps &&
			       !s->seccomp && !s->resources && !s->n_mounts && !s->warnings,
			   "duplicate key: last wins; absent sections are NULL");
	}
	{
		/* Unknown capability names are left out and listed, once (runc and
		 * crun skip them with a warning). */
		static const char j[] = PROC("\"capabilities\":{\"bounding\":[\"CAP_CHOWN\","
		                             "\"CAP_FLY\"],\"effective\":[\"CAP_FLY\",\"CAP_KILL\","
		                             "\"CAP_SWIM\"]}");
		_cleanup_error_ struct fc_error *err = NULL;
		_cleanup_spec_ struct fc_spec *s = NULL;
		int r = fcrt_spec_parse(j, strlen(j), "/b", &s, &err);
		const struct fc_caps *k = s ? &s->process->caps : NULL;
		ok(r == 0 && k && k->n_bounding == 1 && k->bounding[0] == CAP_CHOWN &&
		       k->n_effective == 1 && k->effective[0] == CAP_KILL && k->unknown &&
		       STREQ_OR_NULL(k->unknown[0], "CAP_FLY") &&
		       STREQ_OR_NULL(k->unknown[1], "CAP_SWIM") && !k->unknown[2],
		   "unknown capabilities skipped and listed once");
	}
	{
		/* Device rules: letters other than r, w, m are ignored, as runc does. */
		static const char j[] =
		    BASE ",\"linux\":{\"resources\":{\"devices\":[{\"allow\":false,"
		         "\"type\":\"c\",\"major\":1,\"minor\":11,\"access\":\"rwaw\"}]}}}";
		_cleanup_error_ struct fc_error *err = NULL;
		_cleanup_spec_ struct fc_spec *s = NULL;
		int r = fcrt_spec_parse(j, strlen(j), "/b", &s, &err);
		ok(r == 0 && s && s->resources && s->resources->n_devices == 1 &&
		       STREQ_OR_NULL(s->resources->devices[0].access, "rw"),
		   "device access \"rwaw\" is \"rw\"%s%s", err ? ": " : "", err ? err->msg : "");
	}
	{
		/* A JSON document with a NUL byte inside is refused. */
		static const char nul[] = "{\"ociVersion\":\"1\"}\0xx";
		_cleanup_error_ struct fc_error *err = NULL;
		_cleanup_spec_ struct fc_spec *s = NULL;
		int r = fcrt_spec_parse(nul, sizeof(nul) - 1, "/b", &s, &err);
		ok(r < 0 && err && strstr(err->msg, "NUL"), "NUL byte refused");
	}
}

static void test_process_json(void)
{
	static const char pj[] =
	    "{\"terminal\":false,\"user\":{\"uid\":33,\"gid\":33,\"additionalGids\":[4]},"
	    "\"args\":[\"/bin/ls\",\"-l\"],\"env\":[\"A=B\"],\"cwd\":\"/srv\","
	    "\"capabilities\":{\"bounding\":[\"CAP_SYS_ADMIN\"],\"effective\":[\"cap_bpf\"]},"
	    "\"rlimits\":[{\"type\":\"RLIMIT_NPROC\",\"soft\":10,\"hard\":20}],"
	    "\"noNewPrivileges\":true,\"oomScoreAdj\":100}";
	_cleanup_error_ struct fc_error *err = NULL;
	struct fc_process *p = NULL;
	int r = fc_process_parse(pj, strlen(pj), &p, &err);
	if (ok(r == 0 && p, "process.json parses%s%s", err ? ": " : "", err ? err->msg : "")) {
		ok(p->uid == 33 && p->gid == 33 && p->n_additional_gids == 1 && !p->terminal,
		   "process.json user");
		ok(fc_strv_len(p->args) == 2 && STREQ_OR_NULL(p->cwd, "/srv") &&
		       fc_strv_len(p->env) == 1,
		   "process.json args/cwd/env");
		ok(p->caps.n_bounding == 1 && p->caps.bounding[0] == CAP_SYS_ADMIN &&
		       p->caps.n_effective == 1 && p->caps.effective[0] == 39,
		   "process.json capabilities (case-insensitive name)");
		ok(p->n_rlimits == 1 && p->rlimits[0].resource == RLIMIT_NPROC &&
		       p->rlimits[0].hard == 20,
		   "process.json rlimits");
		ok(p->no_new_privileges && p->has_oom_score_adj && p->oom_score_adj == 100 &&
		       !p->has_umask && !p->has_io_priority && !p->has_console_size,
		   "process.json flags");
	}
	fc_process_free(p);
	p = NULL;
	static const char bad1[] = "{\"args\":[\"x\"],\"cwd\":\"rel\"}";
	fc_error_free(err);
	err = NULL;
	r = fc_process_parse(bad1, strlen(bad1), &p, &err);
	ok(r < 0 && !p && err && strstr(err->msg, "process.cwd: must be an absolute path"),
	   "process.json relative cwd: %s", err ? err->msg : "");
	fc_error_free(err);
	err = NULL;
	r = fc_process_parse("{", 1, &p, &err);
	ok(r < 0 && !p && err && strstr(err->msg, "process.json: invalid JSON"),
	   "process.json invalid JSON: %s", err ? err->msg : "");
}

static void test_resources_json(void)
{
	static const char rj[] = "{\"memory\":{\"limit\":1048576,\"swap\":-1},"
	                         "\"cpu\":{\"quota\":-1,\"cpus\":\"0\"},\"pids\":{\"limit\":-1}}";
	_cleanup_error_ struct fc_error *err = NULL;
	struct fc_resources *r = NULL;
	int ret = fc_resources_parse(rj, strlen(rj), &r, &err);
	if (ok(ret == 0 && r, "resources JSON parses%s%s", err ? ": " : "", err ? err->msg : ""))
		ok(r->memory.has_limit && r->memory.limit == 1048576 && r->memory.swap == -1 &&
		       r->cpu.has_quota && r->cpu.quota == -1 && !r->cpu.has_shares &&
		       r->pids.has_limit && r->pids.limit == -1 && !r->n_devices,
		   "resources JSON values");
	fc_resources_free(r);
	r = NULL;
	static const char bad1[] = "{\"memory\":{\"limit\":true}}";
	ret = fc_resources_parse(bad1, strlen(bad1), &r, &err);
	ok(ret < 0 && !r && err && strstr(err->msg, "memory.limit: must be an integer") &&
	       err->msg[0] == 'm',
	   "resources JSON error names the field: %s", err ? err->msg : "");
}

static void test_helpers(void)
{
	static const char *const ns[] = {"pid", "network", "mount",  "ipc",
	                                 "uts", "user",    "cgroup", "time"};
	static const char *const proc[] = {"pid", "net",  "mnt",    "ipc",
	                                   "uts", "user", "cgroup", "time"};
	static const int flags[] = {CLONE_NEWPID, CLONE_NEWNET,  CLONE_NEWNS,     CLONE_NEWIPC,
	                            CLONE_NEWUTS, CLONE_NEWUSER, CLONE_NEWCGROUP, 0x80};
	bool all = true;
	for (int i = 0; i < FC_NS_COUNT; i++)
		all &= STREQ_OR_NULL(fc_ns_name(i), ns[i]) &&
		       STREQ_OR_NULL(fc_ns_proc_name(i), proc[i]) &&
		       fc_ns_clone_flag(i) == flags[i] && fc_ns_from_name(ns[i]) == i;
	ok(all, "namespace names, /proc names, clone flags");
	ok(!fc_ns_name(FC_NS_COUNT) && fc_ns_from_name("net") == -EINVAL, "bad namespace");
	ok(fc_rlimit_from_name("RLIMIT_NOFILE") == RLIMIT_NOFILE &&
	       fc_rlimit_from_name("RLIMIT_RTTIME") == RLIMIT_RTTIME &&
	       fc_rlimit_from_name("RLIMIT_MSGQUEUE") == RLIMIT_MSGQUEUE &&
	       fc_rlimit_from_name("NOFILE") == -EINVAL && fc_rlimit_from_name(NULL) == -EINVAL,
	   "fc_rlimit_from_name");
	ok(fc_cap_from_name("CAP_CHOWN") == 0 &&
	       fc_cap_from_name("CAP_SYS_ADMIN") == CAP_SYS_ADMIN &&
	       fc_cap_from_name("CAP_PERFMON") == 38 && fc_cap_from_name("CAP_BPF") == 39 &&
	       fc_cap_from_name("CAP_CHECKPOINT_RESTORE") == 40 &&
	       fc_cap_from_name("CAP_NOPE") == -EINVAL && fc_cap_from_name("SYS_ADMIN") == -EINVAL,
	   "fc_cap_from_name");
	all = true;
	for (int c = 0; c <= CAP_LAST_CAP; c++)
		all &= fc_cap_name(c) && fc_cap_from_name(fc_cap_name(c)) == c;
	ok(all && !fc_cap_name(CAP_LAST_CAP + 1) && !fc_cap_name(-1),
	   "fc_cap_name round-trips 0..CAP_LAST_CAP (%d)", CAP_LAST_CAP);
}

static void test_load(void)
{
	char dir[] = "/tmp/fc-test-spec-XXXXXX";
	static const char cfg[] = BASE "}";
	_cleanup_error_ struct fc_error *err = NULL;
	_cleanup_spec_ struct fc_spec *s = NULL;
	_cleanup_free_ char *path = NULL, *want = NULL, *cwd = NULL;
	int r;
	if (!ok(mkdtemp(dir) != NULL, "mkdtemp"))
		return;
	path = fc_asprintf("%s/config.json", dir);
	r = fc_write_file_atomic_at(AT_FDCWD, path, cfg, strlen(cfg), 0644, &err);
	ok(r == 0, "write config.json");
	r = fcrt_spec_load(dir, &s, &err);
	want = fc_asprintf("%s/rootfs", dir);
	ok(r == 0 && s && STREQ_OR_NULL(s->root_path, want), "fcrt_spec_load: root %s",
	   s ? s->root_path : (err ? err->msg : "?"));
	fcrt_spec_free(s);
	s = NULL;
	/* A relative bundle is made absolute against the cwd. */
	cwd = getcwd(NULL, 0);
	if (cwd && chdir("/tmp") == 0) {
		r = fcrt_spec_load(dir + 5, &s, &err);
		ok(r == 0 && s && STREQ_OR_NULL(s->root_path, want), "relative bundle: %s",
		   s ? s->root_path : (err ? err->msg : "?"));
		if (chdir(cwd) < 0)
			perror("chdir");
	}
	fcrt_spec_free(s);
	s = NULL;
	unlink(path);
	r = fcrt_spec_load(dir, &s, &err);
	ok(r == -ENOENT && err && strstr(err->msg, path), "missing config.json names the path: %s",
	   err ? err->msg : "");
	rmdir(dir);
}

/* The default configs of runc and crun (`spec`, `spec --rootless`) parse. */
static void test_tool_specs(void)
{
	static const char *const cmds[] = {"runc spec", "runc spec --rootless", "crun spec",
	                                   "crun spec --rootless"};
	for (size_t i = 0; i < FC_ARRAY_SIZE(cmds); i++) {
		char dir[] = "/tmp/fc-test-spec-tool-XXXXXX";
		_cleanup_free_ char *cmd = NULL, *cfg = NULL;
		_cleanup_error_ struct fc_error *err = NULL;
		_cleanup_spec_ struct fc_spec *s = NULL;
		int r;
		if (!mkdtemp(dir))
			continue;
		cmd = fc_asprintf("cd %s && %s >/dev/null 2>&1", dir, cmds[i]);
		if (system(cmd) != 0) {
			printf("ok %d - # SKIP `%s` not available\n", ++tap_n, cmds[i]);
			rmdir(dir);
			continue;
		}
		r = fcrt_spec_load(dir, &s, &err);
		if (FC_STREQ(cmds[i], "crun spec --rootless")) {
			/* crun fills in the caller's ids at run time; runc (our reference)
			 * refuses a new user namespace without mappings, and so do we. */
			ok(r < 0 && err && strstr(err->msg, "linux.uidMappings: required"),
			   "`%s` refused as runc does: %s", cmds[i], err ? err->msg : "");
		} else {
			ok(r == 0 && s && s->process && s->n_mounts > 0 && s->n_namespaces > 0,
			   "`%s` config parses%s%s", cmds[i], err ? ": " : "", err ? err->msg : "");
		}
		if (s && strstr(cmds[i], "rootless"))
			ok(fc_spec_ns(s, FC_NS_USER) && s->n_uid_mappings == 1,
			   "`%s`: user namespace with mappings", cmds[i]);
		cfg = fc_asprintf("%s/config.json", dir);
		unlink(cfg);
		rmdir(dir);
	}
}

/* Documents nested a million levels deep are refused before yajl builds its
 * tree (which, with the code that frees it, recurses per level: SIGSEGV). */
static char *deep_doc(const char *prefix, size_t depth, const char *suffix)
{
	size_t pl = strlen(prefix), sl = strlen(suffix);
	char *d = fc_malloc(pl + 2 * depth + sl + 1);
	memcpy(d, prefix, pl);
	memset(d + pl, '[', depth);
	memset(d + pl + depth, ']', depth);
	memcpy(d + pl + 2 * depth, suffix, sl + 1);
	return d;
}

static void test_depth(void)
{
	static const size_t deep = 1000000;
	{
		_cleanup_free_ char *doc = deep_doc(BASE ",\"x\":", deep, "}");
		_cleanup_error_ struct fc_error *err = NULL;
		_cleanup_spec_ struct fc_spec *s = NULL;
		int r = fcrt_spec_parse(doc, strlen(doc), "/b", &s, &err);
		ok(r < 0 && !s && err && strstr(err->msg, "config.json: exceeded max depth"),
		   "config.json nested 1,000,000 deep: %s", err ? err->msg : "(no error)");
	}
	{
		/* 999 arrays inside the top-level object: 1000 levels, accepted. */
		_cleanup_free_ char *doc = deep_doc(BASE ",\"x\":", FC_JSON_MAX_DEPTH - 1, "}");
		_cleanup_error_ struct fc_error *err = NULL;
		_cleanup_spec_ struct fc_spec *s = NULL;
		int r = fcrt_spec_parse(doc, strlen(doc), "/b", &s, &err);
		ok(r == 0 && s, "config.json nested %d deep parses%s%s", FC_JSON_MAX_DEPTH,
		   err ? ": " : "", err ? err->msg : "");
	}
	{
		_cleanup_free_ char *doc =
		    deep_doc("{\"args\":[\"x\"],\"cwd\":\"/\",\"x\":", deep, "}");
		_cleanup_error_ struct fc_error *err = NULL;
		struct fc_process *p = NULL;
		int r = fc_process_parse(doc, strlen(doc), &p, &err);
		ok(r < 0 && !p && err && strstr(err->msg, "process.json: exceeded max depth"),
		   "process.json nested 1,000,000 deep: %s", err ? err->msg : "(no error)");
		fc_process_free(p);
	}
	{
		_cleanup_free_ char *doc = deep_doc("{\"memory\":", deep, "}");
		_cleanup_error_ struct fc_error *err = NULL;
		struct fc_resources *res = NULL;
		int r = fc_resources_parse(doc, strlen(doc), &res, &err);
		ok(r < 0 && !res && err && strstr(err->msg, "resources: exceeded max depth"),
		   "resources JSON nested 1,000,000 deep: %s", err ? err->msg : "(no error)");
		fc_resources_free(res);
	}
}

/* fc_spec_validate: the config as a whole. want NULL: accepted. */
#define NS(...)   "\"namespaces\":[" __VA_ARGS__ "]"
#define SYSCTL(k) ",\"sysctl\":{\"" k "\":\"1\"}"
static void test_validate(void)
{
	static const struct {
		const char *json, *want;
	} cases[] = {
	    /* sysctls: each in a namespace of the container's own */
	    {LINUX(NS("{\"type\":\"network\"}") SYSCTL("net.ipv4.tcp_keepalive_time")), NULL},
	    {LINUX(NS("{\"type\":\"ipc\"}") SYSCTL("net.ipv4.tcp_keepalive_time")),
	     "linux.sysctl: sysctl \"net.ipv4.tcp_keepalive_time\" not allowed in host network "
	     "namespace"},
	    {LINUX(NS("{\"type\":\"network\",\"path\":\"/proc/self/ns/net\"}")
	               SYSCTL("net.ipv4.ip_forward")),
	     "not allowed in host network namespace"},
	    {LINUX(NS("{\"type\":\"network\"}") SYSCTL("net/ipv4/conf/eth0.100/rp_filter")), NULL},
	    {LINUX(NS("{\"type\":\"ipc\"}") SYSCTL("kernel.shmmax")), NULL},
	    {LINUX(NS("{\"type\":\"ipc\"}") SYSCTL("fs.mqueue.msg_max")), NULL},
	    {LINUX(NS("{\"type\":\"network\"}") SYSCTL("kernel.shmmni")),
	     "linux.sysctl: sysctl \"kernel.shmmni\" is not allowed in the host's IPC namespace"},
	    {LINUX(NS("{\"type\":\"network\"}") SYSCTL("kernel.sem")), "host's IPC namespace"},
	    {LINUX(NS("{\"type\":\"network\"}") SYSCTL("fs.mqueue.queues_max")),
	     "host's IPC namespace"},
	    {LINUX(NS("{\"type\":\"ipc\",\"path\":\"/proc/self/ns/ipc\"}") SYSCTL("kernel.msgmax")),
	     "host's IPC namespace"},
	    {LINUX(NS("{\"type\":\"uts\"}") SYSCTL("kernel.domainname")), NULL},
	    {LINUX(NS("{\"type\":\"network\"}") SYSCTL("kernel.domainname")),
	     "sysctl \"kernel.domainname\" is not allowed in the host's UTS namespace"},
	    {LINUX(NS("{\"type\":\"uts\"}") SYSCTL("kernel.hostname")),
	     "conflicts with the OCI \"hostname\" field"},
	    {LINUX(NS("{\"type\":\"network\"},{\"type\":\"ipc\"},{\"type\":\"uts\"}")
	               SYSCTL("vm.swappiness")),
	     "linux.sysctl: sysctl \"vm.swappiness\" is not in a separate kernel namespace"},
	    {LINUX(NS("{\"type\":\"network\"},{\"type\":\"ipc\"}") SYSCTL("kernel.sysrq")),
	     "not in a separate kernel namespace"},
	    {LINUX(NS("{\"type\":\"network\"}") SYSCTL("net/../kernel/sysrq")),
	     "linux.sysctl: invalid key \"net/../kernel/sysrq\""},
	    {LINUX(NS("{\"type\":\"network\"}") SYSCTL("net.ipv4..ip_forward")), "invalid key"},
	    {LINUX(NS("{\"type\":\"network\",\"path\":\"/nonexistent/ns\"}") SYSCTL("net.x")),
	     "linux.namespaces: network namespace path `/nonexistent/ns`"},
	    /* the UTS fields */
	    {BASE ",\"hostname\":\"h\"}", "hostname: unable to set hostname without a private UTS"},
	    {BASE ",\"domainname\":\"d\"}", "domainname: unable to set domainname"},
	    {BASE
	     ",\"hostname\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\","
	     "\"linux\":{" NS("{\"type\":\"uts\"}") "}}",
	     "hostname: must be at most 64 bytes, got 65"},
	    /* masked and read-only paths need a mount namespace */
	    {LINUX("\"maskedPaths\":[\"/proc/kcore\"]"),
	     "linux.maskedPaths: unable to restrict paths without a private mount namespace"},
	    {LINUX(NS("{\"type\":\"mount\"}") ",\"readonlyPaths\":[\"/proc/sys\"]"), NULL},
	};
	for (size_t i = 0; i < FC_ARRAY_SIZE(cases); i++) {
		_cleanup_error_ struct fc_error *err = NULL;
		_cleanup_spec_ struct fc_spec *s = NULL;
		int r = fcrt_spec_parse(cases[i].json, strlen(cases[i].json), "/b", &s, &err);
		if (r == 0)
			r = fc_spec_validate(s, &err);
		if (!cases[i].want)
			ok(r == 0, "validate %zu accepted%s%s", i, err ? ": " : "",
			   err ? err->msg : "");
		else
			ok(r < 0 && err && strstr(err->msg, cases[i].want), "validate %zu: %s", i,
			   err ? err->msg : "(accepted)");
	}
	/* A 10,000-character hostname names the field, not sethostname's EINVAL. */
	_cleanup_buf_ struct fc_buf b = {0};
	fc_buf_printf(&b, "%s,\"hostname\":\"", BASE);
	for (int i = 0; i < 10000; i++)
		fc_buf_append(&b, "h", 1);
	fc_buf_printf(&b, "\",\"linux\":{" NS("{\"type\":\"uts\"}") "}}");
	_cleanup_error_ struct fc_error *err = NULL;
	_cleanup_spec_ struct fc_spec *s = NULL;
	int r = fcrt_spec_parse(b.data, b.len, "/b", &s, &err);
	if (r == 0)
		r = fc_spec_validate(s, &err);
	ok(r < 0 && err && strstr(err->msg, "hostname: must be at most 64 bytes, got 10000"),
	   "10,000-character hostname: %s", err ? err->msg : "(accepted)");
	_cleanup_free_ char *p1 = fc_sysctl_path("net.ipv4.ip_forward");
	_cleanup_free_ char *p2 = fc_sysctl_path("net/ipv4/conf/eth0.100/rp_filter");
	_cleanup_free_ char *p3 = fc_sysctl_path("net.ipv4.conf.eth0/100.rp_filter");
	ok(p1 && p2 && p3 && FC_STREQ(p1, "net/ipv4/ip_forward") &&
	       FC_STREQ(p2, "net/ipv4/conf/eth0.100/rp_filter") &&
	       FC_STREQ(p3, "net/ipv4/conf/eth0.100/rp_filter") && !fc_sysctl_path("a/../b") &&
	       !fc_sysctl_path(".a") && !fc_sysctl_path("a.") && !fc_sysctl_path(""),
	   "sysctl keys as /proc/sys paths");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s config-full.json\n", argv[0]);
		return 1;
	}
	test_full(argv[1]);
	test_errors();
	test_truncations(argv[1]);
	test_accepts();
	test_process_json();
	test_resources_json();
	test_depth();
	test_validate();
	test_helpers();
	test_load();
	test_tool_specs();
	return tap_done();
}
