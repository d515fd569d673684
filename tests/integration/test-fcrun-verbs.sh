#!/bin/bash
# fcrun exec, ps, pause/resume, update, events, spec and features with real
# containers, compared with runc on the same bundle where runc is installed.
. "$(dirname "$0")/../lib/common.sh"
require_root
F="$FCRUN --root $ROOT"
RUNC_ROOT=$T/runc-root
have_runc=false
command -v runc >/dev/null 2>&1 && have_runc=true
R="runc --root $RUNC_ROOT"

# runc's containers go too, before common.sh's cleanup.
runc_cleanup() {
	$have_runc || return 0
	for id in $($R list -q 2>/dev/null); do $R delete -f "$id" >/dev/null 2>&1; done
}
trap 'rc=$?; runc_cleanup; (exit $rc); cleanup' EXIT

wait_status() { # wait_status ID STATUS
	for _ in $(seq 200); do
		[ "$($F state "$1" 2>/dev/null | jq -r .status)" = "$2" ] && return 0
		sleep 0.05
	done
	return 1
}

id=$CG_PREFIX-a
B=$T/b
bundle "$B" /bin/sleep 1000
check "run -d" $F run -d --bundle "$B" "$id"
init=$($F state "$id" | jq -r .pid)

# ---- exec ----
out=$($F exec "$id" echo hello 2>&1); rc=$?
expect_eq "exec: output" hello "$out"
expect_eq "exec: exit 0" 0 "$rc"
$F exec "$id" sh -c 'exit 3'; expect_eq "exec: exit status passes through" 3 $?
$F exec "$id" sh -c 'kill -9 $$'; expect_eq "exec: killed process gives 128+9" 137 $?
expect_eq "exec: --env" bar "$($F exec -e FOO=bar "$id" sh -c 'echo $FOO')"
expect_eq "exec: container env kept" /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	"$($F exec "$id" sh -c 'echo $PATH')"
expect_eq "exec: --cwd" /tmp "$($F exec --cwd /tmp "$id" pwd)"
expect_eq "exec: default cwd" / "$($F exec "$id" pwd)"
expect_eq "exec: HOME from the container's /etc/passwd (as runc)" "/root /nonexistent /" \
	"$(echo $($F exec "$id" sh -c 'echo $HOME') $($F exec -u 65534 "$id" sh -c 'echo $HOME') $($F exec -u 5 "$id" sh -c 'echo $HOME'))"
expect_eq "exec: --user" "65534 65534" "$($F exec -u 65534:65534 "$id" sh -c 'echo $(id -u) $(id -g)')"
expect_match "exec: --additional-gids" 'Groups:[[:space:]]+10 20' \
	"$($F exec -g 10 -g 20 "$id" grep Groups /proc/self/status)"
# AUDIT_WRITE(29) KILL(5) NET_BIND_SERVICE(10) from config.json; SYS_ADMIN(21) added.
expect_match "exec: config's capabilities" 'CapEff:[[:space:]]+0000000020000420' \
	"$($F exec "$id" grep CapEff /proc/self/status)"
expect_match "exec: --cap adds one" 'CapEff:[[:space:]]+0000000020200420' \
	"$($F exec --cap CAP_SYS_ADMIN "$id" grep CapEff /proc/self/status)"
expect_match "exec: no_new_privileges from the config" 'NoNewPrivs:[[:space:]]+1' \
	"$($F exec "$id" grep NoNewPrivs /proc/self/status)"
for ns in pid mnt net uts ipc; do
	expect_eq "exec: in the init's $ns namespace" "$(readlink /proc/$init/ns/$ns)" \
		"$($F exec "$id" readlink /proc/self/ns/$ns)"
done
expect_eq "exec: pid 1 is the container's init" "sleep" "$($F exec "$id" cat /proc/1/comm)"
expect_eq "exec: not dumpable trick: process sees its own root" "fcrun" "$($F exec "$id" hostname)"
out=$($F exec "$id" nope 2>&1); rc=$?
expect_eq "exec: missing binary exits 255 (as runc)" 255 "$rc"
expect_match "exec: ...and names it" 'exec: "nope": executable file not found in \$PATH' "$out"
out=$($F exec "$id" /no/such 2>&1); rc=$?
expect_eq "exec: missing absolute path exits 255" 255 "$rc"
expect_match "exec: ...and names it" '/no/such' "$out"
out=$($F exec --cwd /nonexistent "$id" true 2>&1); rc=$?
expect_eq "exec: bad cwd exits 255" 255 "$rc"
expect_match "exec: ...and names it" '/nonexistent' "$out"
out=$($F exec nosuch true 2>&1); rc=$?
expect_eq "exec: unknown container exits 255" 255 "$rc"
expect_match "exec: ...container does not exist" 'container does not exist' "$out"
cat >"$T/proc.json" <<'EOF'
{"terminal":false,"user":{"uid":1,"gid":1},"args":["sh","-c","echo $(id -u):$X:$(pwd)"],
 "env":["PATH=/bin","X=fromjson"],"cwd":"/tmp","noNewPrivileges":true}
EOF
expect_eq "exec: process.oomScoreAdj" 123 "$($F exec -p <(echo '{"args":["cat","/proc/self/oom_score_adj"],"cwd":"/","oomScoreAdj":123}') "$id")"
expect_eq "exec: --process process.json" "1:fromjson:/tmp" "$($F exec -p "$T/proc.json" "$id")"
# detached, with a pid file: in the container's cgroup, seen by ps
$F exec -d --pid-file "$T/exec.pid" "$id" sleep 500 >"$T/out" 2>&1; rc=$?
expect_eq "exec -d: exit 0" 0 "$rc"
expect_eq "exec -d: prints nothing" "" "$(cat "$T/out")"
epid=$(cat "$T/exec.pid" 2>/dev/null)
expect_match "exec -d: pid file" '^[0-9]+$' "$epid"
check "exec -d: the process runs" kill -0 "$epid"
expect_eq "exec -d: in the init's pid namespace" "$(readlink /proc/$init/ns/pid)" "$(readlink /proc/$epid/ns/pid)"
expect_eq "exec -d: in the container's cgroup" "$(grep memory /proc/$init/cgroup)" "$(grep memory /proc/$epid/cgroup)"
# exec --cgroup: existing sub-cgroups of the container's, as runc
while IFS=: read -r _ c p; do
	case $c in
	"") d=/sys/fs/cgroup; [ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ] && d=/sys/fs/cgroup/unified ;;
	name=*) d=/sys/fs/cgroup/${c#name=} ;;
	*) d=/sys/fs/cgroup/$c ;;
	esac
	[ -d "$d$p" ] || continue
	mkdir -p "$d$p/sub"
	for f in cpuset.cpus cpuset.mems; do
		[ -f "$d$p/$f" ] && cat "$d$p/$f" >"$d$p/sub/$f"
	done
done </proc/$init/cgroup
if grep -q ':memory:' /proc/$init/cgroup; then
	expect_match "exec --cgroup memory:sub: the memory hierarchy's sub-cgroup" ':memory:.*/sub$' \
		"$($F exec --cgroup memory:sub "$id" cat /proc/self/cgroup)"
	expect_match "exec --cgroup memory,pids:sub: both" '^2$' \
		"$($F exec --cgroup memory,pids:sub "$id" cat /proc/self/cgroup | grep -cE ':(memory|pids):.*/sub$')"
fi
out=$($F exec --cgroup sub "$id" cat /proc/self/cgroup 2>&1); rc=$?
expect_eq "exec --cgroup sub: exit 0" 0 "$rc"
expect_eq "exec --cgroup sub: every hierarchy's sub-cgroup" "" "$(grep -v '/sub$' <<<"$out")"
out=$($F exec --cgroup memory:nosub "$id" true 2>&1); rc=$?
expect_eq "exec --cgroup of a missing sub-cgroup exits 255 (as runc)" 255 "$rc"
expect_match "...and names its directory" '/nosub: No such file' "$out"
out=$($F exec --cgroup ../up "$id" true 2>&1); rc=$?
expect_eq "exec --cgroup ../up exits 255" 255 "$rc"
expect_match "...not a sub cgroup path" 'not a sub cgroup path' "$out"
out=$($F exec --cgroup bogus:sub "$id" true 2>&1); rc=$?
expect_match "exec --cgroup bogus:sub: unknown controller" 'unknown controller bogus' "$rc $out"
out=$($F exec --cgroup sub --cgroup pids:sub "$id" true 2>&1)
expect_match "exec --cgroup PATH with another --cgroup: missing prefix" 'missing <controller>: prefix' "$out"
exec 7</etc/hostname
expect_match "exec: --preserve-fds 1 passes fd 3" '^3$' "$($F exec --preserve-fds 1 "$id" sh -c 'ls /proc/self/fd | grep -x 3')" 3<&7
exec 7<&-
# terminal
expect_match "exec -t: a pty inside" '^/dev/pts/[0-9]+' "$($F exec -t "$id" tty </dev/null | tr -d '\r')"
$F exec -t "$id" sh -c 'exit 6' </dev/null >/dev/null; expect_eq "exec -t: exit status" 6 $?
out=$($F exec -t -d "$id" true 2>&1); rc=$?
expect_eq "exec -t -d without console socket fails" 255 "$rc"
expect_match "...and says why" 'console socket' "$out"

# ---- ps ----
ps_out=$($F ps "$id")
expect_match "ps: header" '^UID +PID +PPID' "$(head -n1 <<<"$ps_out")"
expect_match "ps: the init" "^[^ ]+ +$init .*sleep 1000" "$ps_out"
expect_match "ps: the exec'd process" "^[^ ]+ +$epid .*sleep 500" "$ps_out"
expect_eq "ps: nothing else" 3 "$(wc -l <<<"$ps_out")"
expect_eq "ps -f json" "[$(printf '%s\n' "$init" "$epid" | sort -n | paste -sd,)]" "$($F ps -f json "$id" | jq -c 'sort')"
expect_match "ps: ps options after the id" "^ *$init +sleep$" "$($F ps "$id" -o pid,comm)"
$F ps -f yaml "$id" >/dev/null 2>&1; expect_eq "ps: bad format fails" 1 $?

# ---- pause / resume ----
check "pause" $F pause "$id"
expect_eq "state: paused" paused "$($F state "$id" | jq -r .status)"
fz=$(cat /sys/fs/cgroup/freezer/fcrun/"$id"/freezer.state 2>/dev/null || cat /sys/fs/cgroup/fcrun/"$id"/cgroup.freeze 2>/dev/null)
expect_match "pause: the cgroup is frozen" '^(FROZEN|1)$' "$fz"
expect_match "pause: the init is stopped in the kernel" '^State:[[:space:]]+[DT]' "$(grep State /proc/$init/status)"
out=$($F pause "$id" 2>&1); rc=$?
expect_eq "pause twice fails" 1 "$rc"
expect_match "...container not running (as runc)" 'container not running' "$out"
out=$($F exec "$id" true 2>&1); rc=$?
expect_eq "exec into a paused container fails" 255 "$rc"
expect_match "...and says so" 'paused' "$out"
check "resume" $F resume "$id"
expect_eq "state: running" running "$($F state "$id" | jq -r .status)"
out=$($F resume "$id" 2>&1); rc=$?
expect_eq "resume twice fails" 1 "$rc"
expect_match "...container not paused (as runc)" 'container not paused' "$out"

# ---- update ----
check "update --memory 64M" $F update --memory 64M "$id"
mem=$(cat /sys/fs/cgroup/memory/fcrun/"$id"/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/fcrun/"$id"/memory.max)
expect_eq "update: memory limit in the cgroup" 67108864 "$mem"
check "update -r - (pids limit)" sh -c "echo '{\"pids\":{\"limit\":77}}' | $F update -r - $id"
pids=$(cat /sys/fs/cgroup/pids/fcrun/"$id"/pids.max 2>/dev/null || cat /sys/fs/cgroup/fcrun/"$id"/pids.max)
expect_eq "update: pids.max" 77 "$pids"
$F update --memory lots "$id" >/dev/null 2>&1; expect_eq "update: bad value fails" 1 $?

# ---- events ----
ev=$($F events --stats "$id")
expect_eq "events --stats: JSON stats event" "stats $id" "$(jq -r '.type + " " + .id' <<<"$ev")"
expect_eq "events --stats: memory limit in the data" 67108864 "$(jq -r .data.memory.usage.limit <<<"$ev")"
check "events --stats: pids counted" jq -e '.data.pids.current >= 2' <<<"$ev"
# a stream until the container stops (timeout only guards a hang)
timeout 60 $F events --interval 100ms "$id" >"$T/events" 2>&1 &
evpid=$!
for _ in $(seq 100); do [ -s "$T/events" ] && break; sleep 0.05; done
kill -9 "$init"
wait "$evpid"; rc=$?
expect_eq "events: ends with exit 0 when the container stops" 0 "$rc"
check "events: every line is a stats event" jq -s -e 'length > 0 and all(.type == "stats")' "$T/events"
check "events: at least one" test -s "$T/events"

# ---- events: the OOM killer ----
ido=$CG_PREFIX-o
bundle "$T/bo" /bin/sleep 1000
jqedit "$T/bo" '.linux.resources.memory = {"limit": 16777216, "swap": 16777216}'
check "run -d (16M memory)" $F run -d --bundle "$T/bo" "$ido"
timeout 60 $F events --interval 10s "$ido" >"$T/oom-events" 2>&1 &
evpid=$!
for _ in $(seq 100); do [ -s "$T/oom-events" ] && break; sleep 0.05; done
# The hog waits a moment: until fcrun's exec helper (in the same cgroup) has
# reported and exited, the OOM killer could pick the helper on a busy machine.
$F exec "$ido" sh -c 'sleep 0.2; x=$(head -c 100000000 /dev/zero | tr "\0" a); echo ${#x}' >/dev/null 2>&1
expect_eq "a memory hog is OOM-killed (137)" 137 $?
$F kill "$ido" KILL
wait "$evpid"
check "events: an oom event" grep -qx "{\"type\":\"oom\",\"id\":\"$ido\"}" "$T/oom-events"
wait_status "$ido" stopped
check "delete (oom)" $F delete "$ido"
check "nothing left (oom)" no_leftovers "$ido"

# ---- a stopped container ----
wait_status "$id" stopped
out=$($F exec "$id" true 2>&1); rc=$?
expect_eq "exec into a stopped container fails" 255 "$rc"
expect_match "...cannot exec in a stopped container" 'cannot exec in a stopped container' "$out"
expect_eq "ps -f json of a stopped container" null "$($F ps -f json "$id")"
out=$($F pause "$id" 2>&1); expect_match "pause a stopped container" 'container not running' "$out"
out=$($F update --memory 1M "$id" 2>&1); expect_match "update a stopped container" 'container not running' "$out"
out=$($F events --stats "$id" 2>&1); rc=$?
expect_eq "events --stats of a stopped container fails" 1 "$rc"
check "delete" $F delete "$id"
check "nothing left" no_leftovers "$id"

# ---- exec into a created container (runc allows it) ----
id2=$CG_PREFIX-c
check "create" $F create --bundle "$B" "$id2"
expect_eq "exec into a created container" created-ok "$($F exec "$id2" echo created-ok)"
check "delete -f" $F delete -f "$id2"
check "nothing left (created)" no_leftovers "$id2"

# ---- run with a terminal, in the foreground: the pty is proxied ----
id3=$CG_PREFIX-t
bundle "$T/bt" sh -c 'tty; exit 4'
jqedit "$T/bt" '.process.terminal = true'
out=$($F run --bundle "$T/bt" "$id3" </dev/null 2>&1); rc=$?
expect_eq "run (terminal): exit status" 4 "$rc"
expect_match "run (terminal): the process has a pty" '/dev/pts/[0-9]+' "$out"
check "nothing left (terminal)" no_leftovers "$id3"
out=$($F run -d --bundle "$T/bt" "$id3" 2>&1); rc=$?
expect_eq "run -d (terminal) without console socket fails" 1 "$rc"
expect_match "...and says why" 'console socket' "$out"
check "nothing left (terminal -d)" no_leftovers "$id3"

# ---- spec ----
mkdir -p "$T/s" "$T/sr"
check "spec" $F spec --bundle "$T/s"
check "spec: valid JSON" jq -e '.ociVersion and .process.terminal == true and (.linux.namespaces | length) == 5' "$T/s/config.json"
out=$($F spec --bundle "$T/s" 2>&1); rc=$?
expect_eq "spec: refuses to overwrite" 1 "$rc"
expect_match "...with runc's message" 'File config.json exists. Remove it first' "$out"
check "spec --rootless" $F spec --rootless -b "$T/sr"
expect_eq "spec --rootless: user ns, own uid mapped" "user $(id -u) $(id -g) false" \
	"$(jq -r '[(.linux.namespaces | map(.type) | map(select(. == "user")) | .[0]), .linux.uidMappings[0].hostID, .linux.gidMappings[0].hostID, (.linux.namespaces | map(.type) | index("network") != null)] | join(" ")' "$T/sr/config.json")"
if $have_runc; then
	mkdir -p "$T/rs" "$T/rsr"
	(cd "$T/rs" && runc spec) && (cd "$T/rsr" && runc spec --rootless)
	expect_eq "spec: same document as runc spec (but hostname)" "$(jq -S 'del(.hostname)' "$T/rs/config.json")" "$(jq -S 'del(.hostname)' "$T/s/config.json")"
	expect_eq "spec --rootless: same as runc's" "$(jq -S 'del(.hostname)' "$T/rsr/config.json")" "$(jq -S 'del(.hostname)' "$T/sr/config.json")"
fi
# the generated spec runs
cp -a "$B/rootfs" "$T/s/rootfs"
jqedit "$T/s" '.process.terminal = false | .process.args = ["sh", "-c", "echo spec-ok"]'
expect_eq "spec: the starter config runs with fcrun" spec-ok "$($F run --bundle "$T/s" "$CG_PREFIX-s" 2>&1)"
check "nothing left (spec)" no_leftovers "$CG_PREFIX-s"

# ---- features ----
$F features >"$T/features.json"; expect_eq "features: exit 0" 0 $?
check "features: runtime-spec document" jq -e '.ociVersionMin == "1.0.0" and (.hooks | index("poststop"))
	and (.mountOptions | index("rbind")) and (.linux.namespaces | index("pid"))
	and (.linux.capabilities | index("CAP_SYS_ADMIN")) and .linux.seccomp.enabled
	and (.linux.seccomp.actions | index("SCMP_ACT_ERRNO")) and .linux.cgroup.v1' "$T/features.json"
if $have_runc && runc features >"$T/runc-features.json" 2>/dev/null; then
	expect_eq "features: same capabilities as runc" "$(jq -c .linux.capabilities "$T/runc-features.json")" "$(jq -c .linux.capabilities "$T/features.json")"
	expect_eq "features: same seccomp actions and operators as runc" \
		"$(jq -c '.linux.seccomp | [.actions, .operators]' "$T/runc-features.json")" \
		"$(jq -c '.linux.seccomp | [.actions, .operators]' "$T/features.json")"
fi

# ---- side by side with runc on the same bundle ----
if $have_runc; then
	rid=$CG_PREFIX-r
	fid=$CG_PREFIX-f
	$R run -d --bundle "$B" "$rid" >/dev/null 2>&1
	$F run -d --bundle "$B" "$fid" >/dev/null 2>&1
	for cmd in "sh -c 'exit 5'" "nope" "/no/such" "sh -c 'kill -TERM \$\$'"; do
		eval "$R exec $rid $cmd" >/dev/null 2>&1; r_rc=$?
		eval "$F exec $fid $cmd" >/dev/null 2>&1; f_rc=$?
		expect_eq "exec $cmd: same exit code as runc ($r_rc)" "$r_rc" "$f_rc"
	done
	expect_eq "exec output as runc" "$($R exec "$rid" sh -c 'id; pwd; echo $PATH' 2>&1)" "$($F exec "$fid" sh -c 'id; pwd; echo $PATH' 2>&1)"
	expect_eq "exec caps as runc" "$($R exec "$rid" grep Cap /proc/self/status)" "$($F exec "$fid" grep Cap /proc/self/status)"
	expect_eq "exec --cap as runc" "$($R exec --cap CAP_NET_RAW "$rid" grep Cap /proc/self/status)" \
		"$($F exec --cap CAP_NET_RAW "$fid" grep Cap /proc/self/status)"
	expect_eq "ps -f json: same length as runc" "$($R ps -f json "$rid" | jq length)" "$($F ps -f json "$fid" | jq length)"
	expect_eq "ps header as runc" "$($R ps "$rid" | head -n1)" "$($F ps "$fid" | head -n1)"
	$R pause "$rid"; $F pause "$fid"
	$R pause "$rid" >/dev/null 2>&1; r_rc=$?; $F pause "$fid" >/dev/null 2>&1; f_rc=$?
	expect_eq "pause twice: same exit code as runc" "$r_rc" "$f_rc"
	$R exec "$rid" true >/dev/null 2>&1; r_rc=$?; $F exec "$fid" true >/dev/null 2>&1; f_rc=$?
	expect_eq "exec when paused: same exit code as runc" "$r_rc" "$f_rc"
	$R resume "$rid"; $F resume "$fid"
	$R resume "$rid" >/dev/null 2>&1; r_rc=$?; $F resume "$fid" >/dev/null 2>&1; f_rc=$?
	expect_eq "resume twice: same exit code as runc" "$r_rc" "$f_rc"
	expect_eq "events --stats: same top-level keys of data as runc" \
		"$($R events --stats "$rid" | jq -c '.data | keys - ["cpuset", "intel_rdt", "network_interfaces"]')" \
		"$($F events --stats "$fid" | jq -c '.data | keys - ["cpuset", "intel_rdt", "network_interfaces"]')"
	$R kill "$rid" KILL; $F kill "$fid" KILL
	for _ in $(seq 200); do [ "$($R state "$rid" | jq -r .status)" = stopped ] && break; sleep 0.05; done
	wait_status "$fid" stopped
	$R exec "$rid" true >/dev/null 2>&1; r_rc=$?; $F exec "$fid" true >/dev/null 2>&1; f_rc=$?
	expect_eq "exec when stopped: same exit code as runc" "$r_rc" "$f_rc"
	$R update --memory 1M "$rid" >/dev/null 2>&1; r_rc=$?; $F update --memory 1M "$fid" >/dev/null 2>&1; f_rc=$?
	expect_eq "update when stopped: same exit code as runc" "$r_rc" "$f_rc"
	$R delete "$rid"
	check "delete" $F delete "$fid"
	check "nothing left (side by side)" no_leftovers "$fid"
fi

done_testing
