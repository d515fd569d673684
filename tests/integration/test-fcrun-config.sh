#!/bin/bash
# What config.json asks for, checked from inside real containers.
. "$(dirname "$0")/../lib/common.sh"
require_root
F="$FCRUN --root $ROOT"

# run_in DIR: run the bundle, output in $out, status in $rc
run_in() { out=$($F run --bundle "$1" "x$tap_n" 2>&1); rc=$?; }

# RLIMIT_NOFILE 64000 needs CAP_SYS_RESOURCE when above our hard limit; some
# sandboxes lack it (runc fails there too): then use our own hard limit.
NOFILE=64000
if ! prlimit --nofile=64000:64000 true 2>/dev/null; then
	NOFILE=$(ulimit -Hn)
	echo "# this host cannot raise RLIMIT_NOFILE to 64000 (no CAP_SYS_RESOURCE): checking $NOFILE"
fi
B=$T/b
bundle "$B" /bin/sh -c 'hostname; cat /proc/sys/kernel/domainname; echo "env=$FOO"; pwd; id; umask; ulimit -n; ulimit -Hn; grep -E "^(CapEff|CapBnd|CapPrm|CapAmb|NoNewPrivs)" /proc/self/status; cat /proc/self/oom_score_adj'
jqedit "$B" '.hostname="box" | .domainname="example.org" | .process.env += ["FOO=bar baz"] | .process.cwd="/tmp"
  | .process.user = {"uid":65534,"gid":65534,"additionalGids":[5,6],"umask":63}
  | .process.rlimits=[{"type":"RLIMIT_NOFILE","soft":'$NOFILE',"hard":'$NOFILE'}]
  | .process.capabilities = {"bounding":["CAP_KILL","CAP_CHOWN"],"effective":["CAP_KILL"],"permitted":["CAP_KILL"],"inheritable":["CAP_KILL"],"ambient":["CAP_KILL"]}
  | .process.oomScoreAdj = 123'
run_in "$B"
expect_eq "process runs" 0 "$rc"
lines() { sed -n "$1p" <<<"$out"; }
expect_eq "hostname" box "$(lines 1)"
expect_eq "domainname" example.org "$(lines 2)"
expect_eq "env" "env=bar baz" "$(lines 3)"
expect_eq "cwd" /tmp "$(lines 4)"
expect_match "uid, gid, additional gids" 'uid=65534\(nobody\) gid=65534\(nogroup\) groups=5,6' "$(lines 5)"
expect_eq "umask" 0077 "$(lines 6)"
expect_eq "RLIMIT_NOFILE soft $NOFILE" "$NOFILE" "$(lines 7)"
expect_eq "RLIMIT_NOFILE hard $NOFILE" "$NOFILE" "$(lines 8)"
expect_match "effective caps = CAP_KILL only" 'CapEff:[[:space:]]+0000000000000020' "$out"
expect_match "bounding = KILL+CHOWN" 'CapBnd:[[:space:]]+0000000000000021' "$out"
expect_match "ambient = CAP_KILL" 'CapAmb:[[:space:]]+0000000000000020' "$out"
expect_match "noNewPrivileges" 'NoNewPrivs:[[:space:]]+1' "$out"
expect_eq "oomScoreAdj" 123 "$(lines 14)"

# Read-only rootfs, masked and read-only paths, /dev contents
B=$T/ro
bundle "$B" /bin/sh -c 'touch /x 2>/dev/null && echo rootfs-rw || echo rootfs-ro; echo 1 > /proc/sys/kernel/domainname 2>/dev/null && echo procsys-rw || echo procsys-ro; wc -c < /proc/kcore; ls /proc/acpi 2>/dev/null | wc -l; ls /dev; ls -l /dev/null; grep -E " /dev/(pts|shm|mqueue) " /proc/self/mountinfo | wc -l; touch /tmp/x 2>/dev/null && echo tmp-rw || echo tmp-ro'
jqedit "$B" '.mounts += [{"destination":"/tmp","type":"tmpfs","source":"tmpfs","options":["size=1m","mode=1777"]}]'
run_in "$B"
expect_eq "run" 0 "$rc"
expect_match "root.readonly" '^rootfs-ro' "$out"
expect_match "readonlyPaths: /proc/sys" 'procsys-ro' "$out"
expect_match "maskedPaths: /proc/kcore is empty" $'\n0\n' "$out"
expect_match "default devices" 'full.*null.*ptmx.*pts.*random.*shm.*stderr.*stdin.*stdout.*tty.*urandom.*zero' "$(tr '\n' ' ' <<<"$out")"
expect_match "/dev/null is char 1,3 mode 666" 'crw-rw-rw- +1 root +root +1, +3' "$out"
expect_match "devpts, shm, mqueue mounted" $'\n3\n' "$out"
expect_match "tmpfs mount with options is writable" 'tmp-rw' "$out"

# Bind mounts (rw and ro, file and dir), a configured device, sysctl
mkdir -p "$T/host-dir"; echo hello > "$T/host-dir/f"; echo filedata > "$T/host-file"
B=$T/bind
bundle "$B" /bin/sh -c 'cat /mnt/rw/f; echo new > /mnt/rw/g; cat /mnt/ro/f; echo no > /mnt/ro/h 2>/dev/null || echo ro-denied; cat /etc/hostfile; ls -ln /dev/mydev; cat /proc/sys/net/ipv4/ip_unprivileged_port_start'
jqedit "$B" ".mounts += [{\"destination\":\"/mnt/rw\",\"type\":\"bind\",\"source\":\"$T/host-dir\",\"options\":[\"rbind\",\"rw\"]},
  {\"destination\":\"/mnt/ro\",\"source\":\"$T/host-dir\",\"options\":[\"bind\",\"ro\"]},
  {\"destination\":\"/etc/hostfile\",\"source\":\"$T/host-file\",\"options\":[\"bind\",\"ro\"]}]
  | .linux.devices = [{\"path\":\"/dev/mydev\",\"type\":\"c\",\"major\":1,\"minor\":3,\"fileMode\":384,\"uid\":7,\"gid\":8}]
  | .linux.resources.devices += [{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":3,\"access\":\"rwm\"}]
  | .linux.sysctl = {\"net.ipv4.ip_unprivileged_port_start\":\"42\"}"
run_in "$B"
expect_eq "run" 0 "$rc"
expect_match "rbind rw: read" '^hello' "$out"
expect_eq "rbind rw: written through to the host" new "$(cat "$T/host-dir/g" 2>/dev/null)"
expect_match "bind ro: write denied" 'ro-denied' "$out"
expect_match "file bind mount" 'filedata' "$out"
expect_match "configured device: mode, owner, numbers" 'crw------- +1 7 +8 +1, +3 .*/dev/mydev' "$out"
expect_match "sysctl in the network namespace" $'\n42$' "$out"
check "nothing mounted on the host by the container" sh -c "! grep -q ' $T/bind/rootfs' /proc/self/mountinfo"

# tmpcopyup: a tmpfs over /etc starts with the image's /etc
B=$T/copyup
bundle "$B" /bin/sh -c 'grep -c root /etc/passwd; echo new > /etc/x && echo writable; grep " /etc " /proc/self/mountinfo | sed "s/.* - //" | cut -d" " -f1'
jqedit "$B" '.mounts += [{"destination":"/etc","type":"tmpfs","source":"tmpfs","options":["tmpcopyup","mode=755"]}]'
run_in "$B"
expect_eq "tmpcopyup: the image's files, writable, on a tmpfs" "1 writable tmpfs" "$(echo $out)"
check "tmpcopyup: the image is untouched" test ! -e "$B/rootfs/etc/x"

# An idmapped bind mount: root-owned host files appear owned by 1000
mkdir -p "$T/idm"; echo x > "$T/idm/f"; chown 0:0 "$T/idm/f"
B=$T/idmap
bundle "$B" /bin/sh -c 'stat -c "%u:%g" /mnt/idm/f'
jqedit "$B" ".mounts += [{\"destination\":\"/mnt/idm\",\"type\":\"bind\",\"source\":\"$T/idm\",\"options\":[\"bind\",\"idmap\"],
  \"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}],\"gidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}]}]"
run_in "$B"
expect_eq "idmapped mount: file owner seen through the mapping" "1000:1000" "$out"
check "the host file keeps its owner" test "$(stat -c %u:%g "$T/idm/f")" = 0:0

# Namespaces: pid, net (only lo), user with mappings, joined by path
B=$T/ns
bundle "$B" /bin/sh -c 'echo pid=$$; ls /sys/class/net | tr "\n" " "; echo; readlink /proc/self/ns/net'
run_in "$B"
expect_match "pid namespace: the process is pid 1" '^pid=1' "$out"
expect_match "network namespace: only lo" $'\nlo \n' "$out"
expect_match "network namespace differs from the host's" "net:" "$out"
[ "$(sed -n 3p <<<"$out")" != "$(readlink /proc/self/ns/net)" ]; expect_eq "...new net namespace" 0 $?
bundle "$T/lo" /bin/sh -c 'cat /sys/class/net/lo/operstate /sys/class/net/lo/flags'
run_in "$T/lo"
expect_match "network namespace: lo is up (flags has IFF_UP), as with runc" $'\n0x[0-9a-f]*[13579bdf]$' "$out"

bundle "$T/holder" /bin/sleep 60
check "create a namespace holder" $F run -d --bundle "$T/holder" holder
hpid=$($F state holder | jq -r .pid)
B=$T/join
bundle "$B" /bin/sh -c 'readlink /proc/self/ns/net; readlink /proc/self/ns/uts; hostname'
jqedit "$B" "del(.hostname) | .linux.namespaces = [{\"type\":\"pid\"},{\"type\":\"mount\"},{\"type\":\"network\",\"path\":\"/proc/$hpid/ns/net\"},{\"type\":\"uts\",\"path\":\"/proc/$hpid/ns/uts\"}]"
run_in "$B"
expect_eq "run joining by path" 0 "$rc"
expect_eq "joined the holder's network namespace" "$(readlink /proc/$hpid/ns/net)" "$(sed -n 1p <<<"$out")"
expect_eq "joined the holder's uts namespace" "fcrun" "$(sed -n 3p <<<"$out")"
check "delete holder" $F delete -f holder

B=$T/user
bundle "$B" /bin/sh -c 'id -u; cat /proc/self/uid_map; cat /proc/self/gid_map'
chown -R 100000:100000 "$B/rootfs"
chmod 755 "$T" # the mapped root must reach the bundle
jqedit "$B" '.linux.namespaces += [{"type":"user"}] | .linux.uidMappings=[{"containerID":0,"hostID":100000,"size":65536}] | .linux.gidMappings=[{"containerID":0,"hostID":100000,"size":65536}]
  | .mounts |= map(select(.destination != "/sys" and .destination != "/sys/fs/cgroup")) | .mounts += [{"destination":"/sys","type":"bind","source":"/sys","options":["rbind","nosuid","noexec","nodev","ro"]}] | .root.readonly=false'
run_in "$B"
expect_eq "run in a user namespace" 0 "$rc"
expect_match "uid 0 inside, mapped to 100000" '^0' "$out"
expect_match "uid_map" '0 +100000 +65536' "$out"

# Seccomp: mkdir denied with EPERM, everything else allowed
B=$T/sec
bundle "$B" /bin/sh -c 'mkdir /tmp/d && echo made || echo denied; echo alive'
jqedit "$B" '.root.readonly=false | .linux.seccomp = {"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86","SCMP_ARCH_X32"],
  "syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":1}]}'
run_in "$B"
expect_match "seccomp: mkdir denied" 'denied' "$out"
expect_match "seccomp: the rest allowed" 'alive' "$out"

# Personality and a time namespace with offsets (made by an intermediate process)
B=$T/pers
bundle "$B" /bin/sh -c 'uname -m; cut -d. -f1 /proc/uptime'
jqedit "$B" '.linux.personality = {"domain":"LINUX32"}'
run_in "$B"
expect_match "personality LINUX32: uname -m says i686" '^i686' "$out"
host_up=$(cut -d. -f1 /proc/uptime)
if [ -e /proc/self/timens_offsets ]; then
	jqedit "$B" 'del(.linux.personality) | .linux.namespaces += [{"type":"time"}] | .linux.timeOffsets = {"boottime":{"secs":86400,"nanosecs":0}}'
	run_in "$B"
	expect_eq "run in a new time namespace" 0 "$rc"
	up=$(sed -n 2p <<<"$out")
	[ "${up:-0}" -ge $((host_up + 86000)) ]; expect_eq "boottime offset: uptime $up is a day ahead of $host_up" 0 $?
else
	ok "# SKIP the kernel has no time namespaces"
fi

# Seccomp notify: the listener fd and the process state reach the agent on
# linux.seccomp.listenerPath; the agent here takes it and closes it, so the
# notified syscall then fails (ENOSYS) while the rest runs.
if command -v python3 >/dev/null; then
	python3 - "$T/agent.sock" "$T/agent.out" <<'PY' &
import socket, sys, json
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(1); s.settimeout(20)
c, _ = s.accept()
msg, fds, _, _ = socket.recv_fds(c, 65536, 4)
st = json.loads(msg)
open(sys.argv[2], "w").write("%d %s %s %s\n" % (len(fds), st["fds"][0], st["metadata"], st["state"]["id"]))
for fd in fds:
    import os; os.close(fd)
PY
	agent=$!
	for _ in $(seq 50); do [ -S "$T/agent.sock" ] && break; sleep 0.05; done
	B=$T/notify
	bundle "$B" /bin/sh -c 'mkdir /tmp/n 2>/dev/null && echo made || echo refused; echo alive'
	jqedit "$B" ".root.readonly=false | .linux.seccomp = {\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"$T/agent.sock\",\"listenerMetadata\":\"meta1\",
	  \"syscalls\":[{\"names\":[\"mkdir\",\"mkdirat\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}"
	out=$($F run --bundle "$B" notify1 2>&1); rc=$?
	wait "$agent"
	expect_eq "seccomp notify: the container runs" 0 "$rc"
	expect_match "seccomp notify: the notified mkdir fails once the agent lets go" 'refused' "$out"
	expect_eq "seccomp notify: the agent got one fd, \"seccompFd\", the metadata and the id" "1 seccompFd meta1 notify1" "$(cat "$T/agent.out" 2>/dev/null)"
else
	ok "# SKIP python3 is missing (the seccomp agent is written in it)"
fi

# Cgroup limits seen from inside (cgroup namespace)
B=$T/cg
bundle "$B" /bin/sh -c 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max; cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max'
jqedit "$B" ".linux.resources.memory = {\"limit\": 67108864} | .linux.resources.pids = {\"limit\": 42} | .linux.cgroupsPath = \"/$CG_PREFIX-cg\""
run_in "$B"
expect_eq "run with limits" 0 "$rc"
expect_match "memory limit inside" '^67108864' "$out"
expect_match "pids limit inside" $'\n42' "$out"
check "its cgroup is removed after run" sh -c "! ls -d /sys/fs/cgroup/*/$CG_PREFIX-cg 2>/dev/null | grep -q ."

# Hooks: every kind runs, in order, with the state on stdin
B=$T/hooks
bundle "$B" /bin/true
H=$T/hooklog
hook() { printf '{"path":"/bin/sh","args":["sh","-c","read -r s; echo %s $(echo \\"$s\\" | grep -o \\"\\\\\\"status\\\\\\":\\\\\\"[a-z]*\\"), >> %s"]}' "$1" "$H"; }
jqedit "$B" ".hooks = {\"prestart\":[$(hook prestart)],\"createRuntime\":[$(hook createRuntime)],\"createContainer\":[$(hook createContainer)],\"startContainer\":[$(hook startContainer)],\"poststart\":[$(hook poststart)],\"poststop\":[$(hook poststop)]}"
mkdir -p "$B/rootfs$T" # createContainer/startContainer run in the container: make the log reachable
mount --bind "$T" "$B/rootfs$T"
check "create with hooks" $F create --bundle "$B" hk
check "start with hooks" $F start hk
sleep 0.2
check "delete with hooks" $F delete -f hk
order=$(awk '{print $1}' "$H" 2>/dev/null | tr '\n' ' ')
expect_eq "hook order" "prestart createRuntime createContainer startContainer poststart poststop " "$order"
expect_match "hooks get the state on stdin (prestart sees created, as the OCI validation suite checks)" '^prestart "status":"created' "$(head -n1 "$H")"
# state.json records the spec's poststart/poststop hook counts, so start and
# delete parse config.json only when there is one to run; a state.json of an
# older fcrun (without them) still runs them
check "create with hooks (again)" $F create --bundle "$B" hk2
sdir=$ROOT/hk2
expect_eq "state.json records the hook counts" "1 1 true" "$(jq -r '"\(.poststart_hooks) \(.poststop_hooks) \(.own_pidns)"' "$sdir/state.json" 2>&1)"
jq -c 'del(.poststart_hooks, .poststop_hooks, .own_pidns)' "$sdir/state.json" >"$T/st" && cat "$T/st" >"$sdir/state.json"
: >"$H"
check "start (an older state.json)" $F start hk2
sleep 0.2
check "delete (an older state.json)" $F delete -f hk2
umount "$B/rootfs$T"
expect_eq "...its poststart and poststop hooks run" "poststart poststop " "$(grep -o '^post[a-z]*' "$H" 2>/dev/null | tr '\n' ' ')"

# A failing hook fails create and leaves nothing
B=$T/badhook
bundle "$B" /bin/true
jqedit "$B" '.hooks = {"createRuntime":[{"path":"/bin/false"}]}'
out=$($F create --bundle "$B" bh 2>&1); rc=$?
expect_eq "failing createRuntime hook fails create" 1 "$rc"
expect_match "...naming the hook (runc's words)" 'error running createRuntime hook #0: `/bin/false`: exit status 1' "$out"
check "...and leaves nothing" no_leftovers bh

# Host descriptors and the fcrun binary are out of reach (CVE-2019-5736, CVE-2024-21626)
exec 7</etc/hostname
B=$T/fds
bundle "$B" /bin/sh -c 'ls /proc/self/fd | tr "\n" " "; echo; readlink /proc/1/exe; cat /proc/1/cmdline | tr "\0" " "'
run_in "$B"
expect_match "only stdio reaches the container (host fd 7 does not)" '^0 1 2 3 $' "$(sed -n 1p <<<"$out")"
expect_match "/proc/1/exe is the container's program, not fcrun" '^/bin/busybox' "$(sed -n 2p <<<"$out")"
out=$($F run --preserve-fds 5 --bundle "$B" pf 2>&1)
expect_match "--preserve-fds 5 passes fd 7" '(^| )7( |$)' "$(sed -n 1p <<<"$out")"
exec 7<&-
bundle "$T/cr" /bin/sleep 30
check "create (init waits for start)" $F create --bundle "$T/cr" cr
cpid=$($F state cr | jq -r .pid)
expect_eq "a created container's init is not dumpable (its /proc/PID/exe is root-only)" "0" "$(stat -c %u /proc/$cpid/exe 2>/dev/null || echo gone)"
check "start" $F start cr
# start returns once the init has its go (as runc's), maybe before its execve:
# wait for it, bounded.
for _ in $(seq 100); do
	case $(readlink /proc/$cpid/exe) in *busybox*) break ;; esac
	sleep 0.05
done
expect_match "after start, /proc/1/exe is the container's binary" 'busybox' "$(readlink /proc/$cpid/exe)"
n=$(ls /proc/$cpid/fd | wc -l)
expect_eq "after start the process holds only stdio" 3 "$n"
check "delete cr" $F delete -f cr

done_testing
