#!/bin/bash
# fcrun against hostile configs and images (issue 9): every check is an
# attempt that must fail without touching the host. Host canaries (files
# outside the container that must stay unread and unchanged), neighbour
# processes in a pre-existing cgroup that must survive, host sysctls read
# before and after (and put back if they changed), nesting bombs.
. "$(dirname "$0")/../lib/common.sh"
require_root
F="$FCRUN --root $ROOT"
# Processes this test starts outside containers (neighbours) and host
# sysctls it may have to put back: on every exit path, before common.sh's
# cleanup removes containers, mounts and cgroups.
neighbours=()
extra_cleanup() {
	# only while still this script's child (a pid is not reused under a live parent)
	for p in "${neighbours[@]}"; do
		[ "$(awk '{print $4}' "/proc/$p/stat" 2>/dev/null)" = "$$" ] && kill -9 "$p" 2>/dev/null
	done
	# gone from their cgroups (exited) before those are removed
	for p in "${neighbours[@]}"; do
		for _ in $(seq 100); do
			grep -q '^State:.*[ZX]' "/proc/$p/status" 2>/dev/null || [ ! -d "/proc/$p" ] && break
			sleep 0.05
		done
	done
	declare -F restore_sysctls >/dev/null && restore_sysctls
	return 0
}
trap 'rc=$?; extra_cleanup; (exit $rc); cleanup' EXIT

# ---- JSON nesting (config.json, process.json, resources, state.json) ------
deep() { # deep N: N '[' then N ']'
	python3 -c "import sys; n=int(sys.argv[1]); sys.stdout.write('['*n + ']'*n)" "$1"
}
bundle "$T/deep" /bin/true
{ printf '{"ociVersion":"1.0.2","x":'; deep 1000000; printf '}'; } >"$T/deep/config.json"
out=$($F run --bundle "$T/deep" deep1 2>&1); rc=$?
expect_eq "config.json nested 1,000,000 deep: refused, not crashed" 1 "$rc"
expect_match "...the error names the file and says why" 'config.json: exceeded max depth' "$out"
check "...and leaves nothing behind" no_leftovers deep1

bundle "$T/live" /bin/sleep 30
check "create a container for the nesting checks" $F create --bundle "$T/live" live
{ printf '{"args":["true"],"cwd":"/","x":'; deep 1000000; printf '}'; } >"$T/process.json"
out=$($F exec --process "$T/process.json" live 2>&1); rc=$?
expect_eq "exec --process nested 1,000,000 deep: refused (255, as runc), not crashed" 255 "$rc"
expect_match "...the error names process.json" 'process.json: exceeded max depth' "$out"
{ printf '{"memory":'; deep 1000000; printf '}'; } >"$T/res.json"
out=$($F update -r "$T/res.json" live 2>&1); rc=$?
expect_eq "update -r nested 1,000,000 deep: refused, not crashed" 1 "$rc"
expect_match "...the error names the resources" 'resources: exceeded max depth' "$out"
check "delete live" $F delete -f live

mkdir -p "$ROOT/deepstate"
{ printf '{"id":"deepstate","x":'; deep 1000000; printf '}'; } >"$ROOT/deepstate/state.json"
out=$($F state deepstate 2>&1); rc=$?
expect_eq "state.json nested 1,000,000 deep: refused, not crashed" 1 "$rc"
expect_match "...the error names state.json" 'state.json: exceeded max depth' "$out"
rm -rf "${ROOT:?}/deepstate"

# ---- host escape through process.cwd = /proc/self/fd/N (CVE-2024-21626) ----
# Host canaries: $T/canary (two levels above a state dir: $ROOT/ID/../..) and
# $T/host/canary (a directory fcrun's caller holds open as fd 7). They must
# stay unread and unchanged, whatever N the container names.
secret="host-secret-$RANDOM$RANDOM"
mkdir -p "$T/host"
echo "$secret" >"$T/canary"
echo "$secret" >"$T/host/canary"
canary_sum() { cat "$T/canary" "$T/host/canary" | sha256sum; }
sum0=$(canary_sum)
probe='for p in canary ../canary ../../canary ../../../canary; do cat $p; done 2>/dev/null; echo pwned >>canary; echo pwned >>../../canary; true'
canaries_safe() { # DESC OUTPUT
	if printf '%s' "$2" | grep -q "$secret"; then not_ok "$1: the canary was read"; printf '%s\n' "$2" | diag
	elif [ "$(canary_sum)" != "$sum0" ]; then not_ok "$1: the canary changed"
	else ok "$1"; fi
}
bundle "$T/esc" /bin/sh -c "$probe"
exec 7<"$T/host"
jqedit "$T/esc" '.process.cwd = "/proc/self/fd/7"'
out=$($F run --bundle "$T/esc" esc7 2>&1); rc=$?
canaries_safe "run: cwd /proc/self/fd/7 (a host dir fcrun's caller holds) reaches nothing" "$out"
expect_eq "...run is refused" 1 "$rc"
expect_match "...naming process.cwd" 'process.cwd.*/proc/self/fd/7' "$out"
check "...and leaves nothing behind" no_leftovers esc7
out=""
for n in $(seq 3 20); do
	jqedit "$T/esc" ".process.cwd = \"/proc/self/fd/$n\""
	out="$out$($F run --bundle "$T/esc" "escn$n" 2>&1)"
	$F delete -f "escn$n" >/dev/null 2>&1
done
canaries_safe "run: cwd /proc/self/fd/N for N in 3..20 (the state dir, cgroup files, ...) reaches nothing" "$out"
jqedit "$T/esc" '.process.cwd = "/proc/self/fd/7"'
# (to a file: a created init holds create's stdout until it exits)
$F create --bundle "$T/esc" escc >"$T/escc.out" 2>&1; rc=$?
expect_eq "create: cwd /proc/self/fd/7 is refused" 1 "$rc"
$F start escc >>"$T/escc.out" 2>&1
for _ in $(seq 50); do [ "$($F state escc 2>/dev/null | jq -r .status)" = running ] || break; sleep 0.05; done
canaries_safe "...create/start reach nothing" "$(cat "$T/escc.out")"
$F delete -f escc >/dev/null 2>&1
check "...and leave nothing behind" no_leftovers escc
# A symlink in the image naming a host path is taken inside the container.
jqedit "$T/esc" '.process.cwd = "/hostlink"'
ln -s "$T/host" "$T/esc/rootfs/hostlink"
out=$($F run --bundle "$T/esc" escl 2>&1)
canaries_safe "run: cwd through an image symlink to a host path stays in the container" "$out"
rm -f "$T/esc/rootfs/hostlink"
# exec --cwd and process.json's cwd
bundle "$T/live2" /bin/sleep 30
check "create a container for exec" $F create --bundle "$T/live2" live2
check "start it" $F start live2
out=$($F exec --cwd /proc/self/fd/7 live2 /bin/sh -c "$probe" 2>&1); rc=$?
canaries_safe "exec --cwd /proc/self/fd/7 reaches nothing" "$out"
expect_eq "...exec is refused (255, as runc)" 255 "$rc"
expect_match "...naming --cwd" '\-\-cwd.*/proc/self/fd/7' "$out"
printf '{"args":["/bin/sh","-c","%s"],"cwd":"/proc/self/fd/7"}' "$probe" >"$T/pj.json"
out=$($F exec --process "$T/pj.json" live2 2>&1); rc=$?
canaries_safe "exec --process with cwd /proc/self/fd/7 reaches nothing" "$out"
expect_match "...naming process.cwd" 'process.cwd.*/proc/self/fd/7' "$out"
out=""
for n in $(seq 3 20); do
	out="$out$($F exec --cwd "/proc/self/fd/$n" live2 /bin/sh -c "$probe" 2>&1)"
done
canaries_safe "exec --cwd /proc/self/fd/N for N in 3..20 reaches nothing" "$out"
expect_eq "a normal exec still works" /tmp "$($F exec --cwd /tmp live2 /bin/pwd 2>&1)"
check "delete live2" $F delete -f live2
exec 7<&-

# ---- sysctls that would reach the host --------------------------------------
# Host values are read before and after; any change is put back (also when the
# test dies) and reported.
declare -A host_sysctl
sysctl_file() { echo "/proc/sys/$(echo "$1" | tr . /)"; }
for k in net.ipv4.tcp_keepalive_time kernel.shmmni kernel.domainname vm.swappiness; do
	host_sysctl[$k]=$(cat "$(sysctl_file "$k")")
done
restore_sysctls() {
	for k in "${!host_sysctl[@]}"; do
		[ "$(cat "$(sysctl_file "$k")")" = "${host_sysctl[$k]}" ] || echo "${host_sysctl[$k]}" >"$(sysctl_file "$k")"
	done
}
host_unchanged() { # DESC KEY
	local now; now=$(cat "$(sysctl_file "$2")")
	if [ "$now" = "${host_sysctl[$2]}" ]; then ok "$1"; else
		not_ok "$1: the host's $2 changed from ${host_sysctl[$2]} to $now (put back)"; restore_sysctls; fi
}
other() { echo $(( $1 == 7201 ? 7202 : 7201 )); }  # a value distinct from the host's
ka=$(other "${host_sysctl[net.ipv4.tcp_keepalive_time]}")
FC_BUNDLE_NETNS=0 bundle "$T/sy1" /bin/cat /proc/sys/net/ipv4/tcp_keepalive_time
jqedit "$T/sy1" ".linux.sysctl = {\"net.ipv4.tcp_keepalive_time\": \"$ka\"}"
out=$($F run --bundle "$T/sy1" sy1 2>&1); rc=$?
host_unchanged "net.* sysctl in the host's network namespace: the host's value is unchanged" net.ipv4.tcp_keepalive_time
expect_eq "...the container is refused" 1 "$rc"
expect_match "...as runc says it" 'linux.sysctl: sysctl "net.ipv4.tcp_keepalive_time" not allowed in host network namespace' "$out"
check "...and nothing is left" no_leftovers sy1
bundle "$T/sy2" /bin/cat /proc/sys/net/ipv4/tcp_keepalive_time
jqedit "$T/sy2" ".linux.sysctl = {\"net.ipv4.tcp_keepalive_time\": \"$ka\"}"
expect_eq "net.* sysctl with a network namespace: set in the container" "$ka" "$($F run --bundle "$T/sy2" sy2 2>&1)"
host_unchanged "...and not on the host" net.ipv4.tcp_keepalive_time
jqedit "$T/sy2" '.linux.namespaces |= map(select(.type != "network")) | .linux.namespaces += [{"type":"network","path":"/proc/self/ns/net"}]'
out=$($F run --bundle "$T/sy2" sy2b 2>&1); rc=$?
expect_eq "net.* sysctl in a joined network namespace that is the host's: refused" 1 "$rc"
host_unchanged "...the host's value is unchanged" net.ipv4.tcp_keepalive_time
shm=$(( ${host_sysctl[kernel.shmmni]} == 1000 ? 1001 : 1000 ))
bundle "$T/sy3" /bin/cat /proc/sys/kernel/shmmni
jqedit "$T/sy3" ".linux.sysctl = {\"kernel.shmmni\": \"$shm\"} | .linux.namespaces |= map(select(.type != \"ipc\"))"
out=$($F run --bundle "$T/sy3" sy3 2>&1); rc=$?
host_unchanged "IPC sysctl without an IPC namespace: the host's value is unchanged" kernel.shmmni
expect_match "...refused, naming the field" 'linux.sysctl: sysctl "kernel.shmmni" is not allowed in the host.s IPC namespace' "$out"
jqedit "$T/sy3" '.linux.namespaces += [{"type":"ipc"}]'
expect_eq "IPC sysctl with an IPC namespace: set in the container" "$shm" "$($F run --bundle "$T/sy3" sy3b 2>&1)"
host_unchanged "...and not on the host" kernel.shmmni
bundle "$T/sy4" /bin/cat /proc/sys/kernel/domainname
jqedit "$T/sy4" '.linux.sysctl = {"kernel.domainname": "fcrun-test-domain"}'
expect_eq "kernel.domainname with a UTS namespace: set in the container" fcrun-test-domain "$($F run --bundle "$T/sy4" sy4 2>&1)"
host_unchanged "...and not on the host" kernel.domainname
jqedit "$T/sy4" '.linux.namespaces |= map(select(.type != "uts")) | del(.hostname)'
out=$($F run --bundle "$T/sy4" sy4b 2>&1); rc=$?
host_unchanged "kernel.domainname without a UTS namespace: the host's is unchanged" kernel.domainname
expect_match "...refused" 'sysctl "kernel.domainname" is not allowed in the host.s UTS namespace' "$out"
jqedit "$T/sy4" '.linux.namespaces += [{"type":"uts"}] | .linux.sysctl = {"kernel.hostname": "x"}'
expect_match "kernel.hostname: refused as runc does (the hostname field says it)" 'conflicts with the OCI "hostname" field' "$($F run --bundle "$T/sy4" sy4c 2>&1)"
sw=$(( ${host_sysctl[vm.swappiness]} == 33 ? 34 : 33 ))
jqedit "$T/sy4" ".linux.sysctl = {\"vm.swappiness\": \"$sw\"}"
out=$($F run --bundle "$T/sy4" sy4d 2>&1)
host_unchanged "a sysctl that is not namespaced (vm.swappiness): the host's is unchanged" vm.swappiness
expect_match "...refused" 'sysctl "vm.swappiness" is not in a separate kernel namespace' "$out"
jqedit "$T/sy4" '.linux.sysctl = {"net/../vm/swappiness": "1"}'
out=$($F run --bundle "$T/sy4" sy4e 2>&1)
host_unchanged "a sysctl key with .. in it: the host is unchanged" vm.swappiness
expect_match "...refused as an invalid key" 'linux.sysctl: invalid key' "$out"
# /proc/sys of the image (no procfs mounted): refused, the image's file untouched
bundle "$T/sy5" /bin/true
jqedit "$T/sy5" ".mounts |= map(select(.type != \"proc\")) | .linux.maskedPaths = [] | .linux.readonlyPaths = [] | .linux.sysctl = {\"net.ipv4.tcp_keepalive_time\": \"$ka\"}"
mkdir -p "$T/sy5/rootfs/proc/sys/net/ipv4"; echo image >"$T/sy5/rootfs/proc/sys/net/ipv4/tcp_keepalive_time"
out=$($F run --bundle "$T/sy5" sy5 2>&1)
expect_match "sysctl without procfs in the container: refused" 'linux.sysctl: the container has no procfs at /proc/sys' "$out"
expect_eq "...the image's file under /proc/sys is untouched" image "$(cat "$T/sy5/rootfs/proc/sys/net/ipv4/tcp_keepalive_time")"
host_unchanged "...and so is the host" net.ipv4.tcp_keepalive_time

# ---- cgroups fcrun did not make (linux.cgroupsPath naming an existing one) ----
# Every hierarchy's directory of cgroup path $1, made by the test.
cg_dirs() {
	if [ -e /sys/fs/cgroup/cgroup.procs ]; then echo "/sys/fs/cgroup$1"; return; fi
	for h in /sys/fs/cgroup/*/; do [ -e "${h}cgroup.procs" ] && echo "${h%/}$1"; done
}
mk_cgroup() {
	for d in $(cg_dirs "$1"); do
		mkdir -p "$d"
		# cpuset (v1) needs cpus and mems before a task may join
		[ -e "$d/cpuset.cpus" ] && cat "$(dirname "$d")/cpuset.cpus" >"$d/cpuset.cpus" && cat "$(dirname "$d")/cpuset.mems" >"$d/cpuset.mems"
	done
}
cg_exists() { for d in $(cg_dirs "$1"); do [ -d "$d" ] || return 1; done; }
# A neighbour: a process the test starts in cgroup $1 (every hierarchy); its
# pid in $nb.
neighbour() {
	sleep 1000 >/dev/null 2>&1 </dev/null &
	nb=$!
	disown "$nb"
	neighbours+=("$nb")
	for d in $(cg_dirs "$1"); do echo "$nb" >"$d/cgroup.procs"; done
}
alive() { [ -d "/proc/$1" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
NB="/$CG_PREFIX-nb"
mk_cgroup "$NB"
neighbour "$NB"
bundle "$T/cg1" /no/such/binary
jqedit "$T/cg1" ".linux.cgroupsPath = \"$NB\""
out=$($F run --bundle "$T/cg1" cgfail 2>&1); rc=$?
expect_eq "a failed create in an existing cgroup fails" 1 "$rc"
check "...its neighbour process survives" alive "$nb"
check "...and the existing cgroup is not removed" cg_exists "$NB"
check "...and nothing of the container is left" no_leftovers cgfail
jqedit "$T/cg1" '.process.args = ["/bin/sh", "-c", "sleep 100 & exec sleep 100"]'
check "run -d in the existing cgroup" $F run -d --bundle "$T/cg1" cgk
check "kill --all KILL" $F kill --all cgk KILL
for _ in $(seq 50); do [ "$($F state cgk | jq -r .status)" = stopped ] && break; sleep 0.05; done
expect_eq "...stops the container" stopped "$($F state cgk | jq -r .status)"
check "...and its neighbour survives" alive "$nb"
check "delete of it" $F delete cgk
check "...leaves the neighbour alive" alive "$nb"
check "...and the existing cgroup in place" cg_exists "$NB"
check "run -d again" $F run -d --bundle "$T/cg1" cgd
check "delete -f of a running container in the existing cgroup" $F delete -f cgd
check "...leaves the neighbour alive" alive "$nb"
check "...and the cgroup in place" cg_exists "$NB"
$F create --bundle "$T/cg1" cgc >/dev/null 2>&1
check "delete of a created one: the neighbour survives" sh -c "$F delete cgc && [ -d /proc/$nb ]"
# sharing the host's pid namespace, kill --all and delete -f may only kill the init
jqedit "$T/cg1" '.linux.namespaces |= map(select(.type != "pid")) | .process.args = ["/bin/sleep", "100"]'
check "run -d without a pid namespace in the existing cgroup" $F run -d --bundle "$T/cg1" cgp
initp=$($F state cgp | jq -r .pid)
check "kill --all KILL" $F kill --all cgp KILL
for _ in $(seq 50); do alive "$initp" || break; sleep 0.05; done
check "...kills the init" sh -c "! [ -d /proc/$initp ] || grep -q '^State:.*Z' /proc/$initp/status"
check "...and not the neighbour" alive "$nb"
check "delete -f: the neighbour survives" sh -c "$F delete -f cgp && [ -d /proc/$nb ]"
# In a cgroup fcrun made, kill --all reaches every process of the container.
bundle "$T/cg2" /bin/sh -c 'sleep 100 & exec sleep 100'
check "run -d in a cgroup fcrun makes" $F run -d --bundle "$T/cg2" cgo
kids=$(cat /sys/fs/cgroup/pids/fcrun/cgo/cgroup.procs 2>/dev/null || cat /sys/fs/cgroup/fcrun/cgo/cgroup.procs)
check "kill --all KILL there" $F kill --all cgo KILL
sleep 0.2
left=""; for p in $kids; do alive "$p" && left="$left $p"; done
expect_eq "...kills every process in it" "" "$left"
check "delete it" $F delete -f cgo
check "...nothing is left" no_leftovers cgo

# host cgroups are refused, naming the field, before anything is made
bundle "$T/cg3" /bin/true
jqedit "$T/cg3" '.linux.cgroupsPath = "/" | .process.terminal = true'
# (--console-socket to nowhere: a runtime that accepted "/" stops there, before it makes
# or kills anything in the root cgroup)
out=$($F create --console-socket "$T/nosock" --bundle "$T/cg3" cgroot 2>&1)
expect_match 'linux.cgroupsPath "/": refused as the host'"'"'s root cgroup' 'linux.cgroupsPath `/`: the root of the cgroup hierarchy is the host.s, refused' "$out"
jqedit "$T/cg3" '.linux.cgroupsPath = "/a/../b"'
expect_match 'linux.cgroupsPath with ..: refused' 'linux.cgroupsPath `/a/../b`: `..` and `.` components are not allowed' "$($F create --console-socket "$T/nosock" --bundle "$T/cg3" cgdot 2>&1)"
own=$(awk -F: '$3 != "/" {print $3; exit}' /proc/self/cgroup)
if [ -n "$own" ]; then
	jqedit "$T/cg3" ".linux.cgroupsPath = \"$own\""
	expect_match "linux.cgroupsPath of the runtime's own cgroup: refused" "holds the runtime.s own cgroup" "$($F create --console-socket "$T/nosock" --bundle "$T/cg3" cgown 2>&1)"
fi

# ---- values the kernel refuses: nothing left, the field named ------------------
refused_value() { # DESC ID JSON-RESOURCES REGEX
	bundle "$T/$2" /bin/true
	python3 - "$T/$2/config.json" "$3" <<'PY'
import json, sys
p, res = sys.argv[1], sys.argv[2]
c = json.load(open(p))
c["linux"]["resources"] = {"@@": 0}
open(p, "w").write(json.dumps(c).replace('{"@@": 0}', res))
PY
	local out; out=$($F run --bundle "$T/$2" "$2" 2>&1)
	expect_match "$1: refused, naming the field" "$4" "$out"
	check "...and no cgroup (or anything) is left" no_leftovers "$2"
}
refused_value "cpu.shares 2^64-1" "$CG_PREFIX-rv1" '{"cpu":{"shares":18446744073709551615}}' 'linux.resources.cpu.shares'
refused_value "cpuset.cpus 0-9999999" "$CG_PREFIX-rv2" '{"cpu":{"cpus":"0-9999999"}}' 'linux.resources.cpu.cpus'
refused_value "a 4 KiB memory limit" "$CG_PREFIX-rv3" '{"memory":{"limit":4096}}' 'linux.resources.memory.limit.*(OOM|too low)'
refused_value "cpu.quota 2^63-1" "$CG_PREFIX-rv4" '{"cpu":{"quota":9223372036854775807,"period":100000}}' 'linux.resources.cpu.quota'
refused_value "cpu.quota 1e300" "$CG_PREFIX-rv5" '{"cpu":{"quota":1e300}}' 'linux.resources.cpu.quota: must be an integer'

# ---- the shared parent: creates and removals of it do not race -----------------
# Two fcrun loops create and delete containers below one parent that fcrun
# makes (and keeps, as runc keeps its parents); a third removes it whenever
# it is empty, as cleanup tools may (under the lock fcrun's creates take).
PAR="/$CG_PREFIX-par"
python3 - "$T/stop-remover" $(cg_dirs "$PAR") <<'PY' &
import fcntl, os, sys
stop, dirs = sys.argv[1], sys.argv[2:]
lock = os.open("/sys/fs/cgroup", os.O_RDONLY | os.O_DIRECTORY)
while not os.path.exists(stop):
    fcntl.flock(lock, fcntl.LOCK_EX)
    for d in dirs:
        try:
            os.rmdir(d)
        except OSError:
            pass
    fcntl.flock(lock, fcntl.LOCK_UN)
PY
rpid=$!
neighbours+=("$rpid")
race_loop() {
	bundle "$T/race$1" /bin/true
	for i in $(seq 25); do
		jqedit "$T/race$1" ".linux.cgroupsPath = \"$PAR/r$1-$i\""
		$F create --bundle "$T/race$1" "race$1-$i" >/dev/null 2>>"$T/race.err" || echo "create race$1-$i failed" >>"$T/race.err"
		$F delete -f "race$1-$i" >/dev/null 2>>"$T/race.err"
	done
}
: >"$T/race.err"
race_loop a & ra=$!
race_loop b & rb=$!
wait "$ra" "$rb"
touch "$T/stop-remover"; wait "$rpid" 2>/dev/null
expect_eq "creates below a parent that is removed whenever empty never fail" "" "$(cat "$T/race.err")"
# The delete of the parent's last container keeps it (tagged as fcrun's),
# the next create reuses it, cleanup (cg_parents_cleanup) removes it.
parent_state() {
	local d out=""
	for d in $(cg_dirs "$PAR"); do
		[ -d "$d" ] && out="$out $(python3 -c 'import os, sys; print(os.getxattr(sys.argv[1], "trusted.fcrun").decode())' "$d" 2>/dev/null || echo untagged)"
	done
	[ -n "$out" ] || out=gone
	tr ' ' '\n' <<<"$out" | sort -u | xargs
}
leaf_dir() { [ -e /sys/fs/cgroup/cgroup.procs ] && echo "/sys/fs/cgroup$1" || echo "/sys/fs/cgroup/pids$1"; }
jqedit "$T/racea" ".linux.cgroupsPath = \"$PAR/last1\""
$F create --bundle "$T/racea" race-last1 >/dev/null 2>&1 && $F delete -f race-last1 >/dev/null 2>&1
expect_eq "a parent fcrun made stays after the delete that empties it (as runc's), tagged trusted.fcrun=parent" parent "$(parent_state)"
jqedit "$T/racea" ".linux.cgroupsPath = \"$PAR/last2\""
$F create --bundle "$T/racea" race-last2 >/dev/null 2>&1
check "...a later create makes its cgroup in it" test -d "$(leaf_dir "$PAR/last2")"
cg_parents_cleanup "$PAR"
expect_eq "...cleanup leaves it while a container is in it" parent "$(parent_state)"
$F delete -f race-last2 >/dev/null 2>&1
for i in 1 2 3 4 5; do
	cg_parents_cleanup "$PAR"
	[ "$(parent_state)" = gone ] && break
	sleep 0.2
done
expect_eq "...and cleanup removes it once empty" gone "$(parent_state)"

# ---- state of a dead init ------------------------------------------------------
bundle "$T/dead" /bin/sleep 100
D="$CG_PREFIX-dead"
$F create --bundle "$T/dead" "$D" >/dev/null 2>&1
ip=$($F state "$D" | jq -r .pid)
expect_eq "created: its state says so" created "$($F state "$D" | jq -r .status)"
[ "$ip" -gt 1 ] 2>/dev/null && kill -9 "$ip"
for _ in $(seq 50); do alive "$ip" || break; sleep 0.02; done
expect_eq "state of a created container whose init died: stopped (as runc)" stopped "$($F state "$D" | jq -r .status)"
$F start "$D" >/dev/null 2>&1; expect_eq "...start of it fails" 1 $?
check "...delete of it works" $F delete "$D"
check "...and leaves nothing" no_leftovers "$D"

# ---- root.path through a symlink out of the bundle ----------------------------
bundle "$T/rs" /bin/sh -c 'echo pwned >/canary; cat /canary'
jqedit "$T/rs" '.root.readonly = false'
mv "$T/rs/rootfs" "$T/outside"
echo "$secret" >"$T/outside/canary"
ln -s "$T/outside" "$T/rs/rootfs"
out=$($F run --bundle "$T/rs" rs1 2>&1); rc=$?
expect_eq "root.path that is a symlink (out of the bundle): refused, as runc" 1 "$rc"
expect_match "...naming the field" 'root.path `[^`]*`: invalid rootfs: not an absolute path, or a symlink' "$out"
expect_eq "...and the directory it leads to is untouched" "$secret" "$(cat "$T/outside/canary")"
rm "$T/rs/rootfs"; mv "$T/outside" "$T/rs/rootfs"
jqedit "$T/rs" '.root.path = "./rootfs/." | .process.args = ["/bin/true"]'
check "root.path ./rootfs/. (no symlink) still runs" $F run --bundle "$T/rs" rs2

# ---- /proc of the image a symlink ------------------------------------------------
bundle "$T/ps" /bin/true
rmdir "$T/ps/rootfs/proc"; ln -s /tmp "$T/ps/rootfs/proc"
out=$($F run --bundle "$T/ps" ps1 2>&1); rc=$?
expect_eq "/proc in the rootfs a symlink: refused, as runc" 1 "$rc"
expect_match "...saying procfs must be mounted on ordinary directory" 'filesystem "proc" must be mounted on ordinary directory' "$out"
check "...and nothing is left" no_leftovers ps1
rm "$T/ps/rootfs/proc"; mkdir "$T/ps/rootfs/proc"; rmdir "$T/ps/rootfs/sys"; ln -s /tmp "$T/ps/rootfs/sys"
expect_match "/sys in the rootfs a symlink: refused too" 'filesystem "sysfs" must be mounted on ordinary directory' "$($F run --bundle "$T/ps" ps2 2>&1)"

# ---- --no-pivot must not leave a bare /proc in the container's mount namespace ----
# (a fully visible procfs there lets a user namespace inside mount a new
# /proc without the masked paths)
bundle "$T/np" unshare -r -m -p -f sh -c 'mount -t proc none /proc && echo MOUNTED || echo REFUSED'
jqedit "$T/np" '.process.capabilities.bounding += ["CAP_SETFCAP"] | .process.capabilities.permitted += ["CAP_SETFCAP"] | .process.capabilities.effective += ["CAP_SETFCAP"]'
expect_eq "a nested mount -t proc (in a user namespace) is refused with pivot_root" REFUSED "$($F run --bundle "$T/np" np1 2>/dev/null)"
expect_eq "...and with --no-pivot, as runc and crun" REFUSED "$($F run --no-pivot --bundle "$T/np" np2 2>/dev/null)"
check "...--no-pivot leaves nothing" no_leftovers np2
bundle "$T/np3" /bin/cat /proc/self/cgroup
check "--no-pivot still runs a container" $F run --no-pivot --bundle "$T/np3" np3

# ---- linux.devices in a user namespace: bound from the host only if the device ----
B=$T/udev
bundle "$B" /bin/sh -c "cat $T/host/canary; echo pwned >>$T/host/canary"
chown -R 100000:100000 "$B/rootfs"
chmod 755 "$T" "$T/host"; chmod 666 "$T/host/canary"
jqedit "$B" '.linux.namespaces += [{"type":"user"}] | .linux.uidMappings=[{"containerID":0,"hostID":100000,"size":65536}] | .linux.gidMappings=[{"containerID":0,"hostID":100000,"size":65536}]
  | .mounts |= map(select(.destination != "/sys" and .destination != "/sys/fs/cgroup")) | .root.readonly=false
  | .linux.devices = [{"path": "'"$T/host/canary"'", "type": "c", "major": 1, "minor": 3}]'
out=$($F run --bundle "$B" udev1 2>&1)
canaries_safe "a \"device\" naming a host file, in a user namespace: the file is not bound in" "$out"
expect_match "...refused, saying it is not the device" "devices: .*canary. on the host is not the device c 1:3" "$out"
chmod 700 "$T"; chmod 600 "$T/host/canary"

# ---- the container's program may not be the runtime's binary (CVE-2019-5736) ----
# (running it, the container could open it through /proc/PID/exe and, once
# it exits, write the host's fcrun)
not_runtime() { # DESC OUTPUT
	if printf '%s' "$2" | grep -q '^fcrun version'; then not_ok "$1: the host's fcrun ran in the container"
	elif printf '%s' "$2" | grep -Eq 'process.args\[0\].*(magic link|runtime.s own binary)'; then ok "$1"
	else not_ok "$1"; printf '%s\n' "$2" | diag; fi
}
bundle "$T/ex" /proc/self/exe --version
not_runtime "process.args[0] = /proc/self/exe: refused" "$($F run --bundle "$T/ex" ex1 2>&1)"
printf '#!/proc/self/exe\n' >"$T/ex/rootfs/bin/evil"; chmod 755 "$T/ex/rootfs/bin/evil"
printf '#!/bin/evil\n' >"$T/ex/rootfs/bin/evil2"; chmod 755 "$T/ex/rootfs/bin/evil2"
jqedit "$T/ex" '.process.args = ["/bin/evil", "--version"]'
not_runtime "a script with #!/proc/self/exe: refused" "$($F run --bundle "$T/ex" ex2 2>&1)"
jqedit "$T/ex" '.process.args = ["evil2", "--version"]'
not_runtime "...two levels of #! down, found in PATH: refused" "$($F run --bundle "$T/ex" ex3 2>&1)"
jqedit "$T/ex" '.process.args = ["/bin/fcrun-host", "--version"] | .mounts += [{"destination": "/bin/fcrun-host", "type": "bind", "source": "'"$FCRUN"'", "options": ["bind"]}]'
not_runtime "the host's fcrun bound into the container: refused" "$($F run --bundle "$T/ex" ex4 2>&1)"
bundle "$T/ex5" /bin/sh -c 'printf "#!/proc/self/exe\n" >/tmp/evil; chmod 755 /tmp/evil; exec sleep 100'
jqedit "$T/ex5" '.root.readonly = false'
check "a container for exec" $F run -d --bundle "$T/ex5" ex5
sleep 0.2
not_runtime "exec /proc/self/exe: refused" "$($F exec ex5 /proc/self/exe --version 2>&1)"
not_runtime "exec of a #!/proc/self/exe script: refused" "$($F exec ex5 /tmp/evil --version 2>&1)"
expect_eq "a normal exec still works" ok "$($F exec ex5 /bin/echo ok 2>&1)"
check "delete it" $F delete -f ex5

done_testing
