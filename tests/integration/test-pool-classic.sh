#!/bin/bash
# Pools of pre-warmed sandboxes, classic functions, end to end: a private
# daemon (own --root, --socket, --store), deploy, invoke (data, exit status,
# per-invocation env), refill, on-demand creation, idle reaping, isolation,
# 50 concurrent invocations, a sandbox killed mid-invocation, the API socket
# refused to non-root, fn rm, kill -9 of the daemon and its fork server then
# a restart that removes every leftover, and a clean stop. TAP output.
set -u
[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root"; exit 77; }
src=${FC_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$src/tests/lib/scratch.sh"
F=${FCSTART:-${FC_BUILD_ROOT:-$src/build}/bench/fcstart}
[ -x "$F" ] || { echo "1..0 # SKIP fcstart not built at $F"; exit 77; }
for t in jq setpriv; do
	command -v $t >/dev/null || { echo "1..0 # SKIP $t is missing"; exit 77; }
done
T=$(mktemp -d /tmp/test-pool-classic.XXXXXX)
chmod 711 "$T" # the sandboxes' root (a user namespace's) passes through to its dir
R=$T/root
SOCK=$T/api.sock
export FCSTART_SOCKET=$SOCK
dpid= fspid=
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
diag() { sed 's/^/# /'; }
expect_eq() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; printf 'expected: %s\n  actual: %s\n' "$2" "$3" | diag; fi; }
check() { local d=$1; shift; if "$@" >"$T/out" 2>&1; then ok "$d"; else not_ok "$d"; diag <"$T/out"; fi; }

cleanup() {
	local rc=$?
	[ -n "$dpid" ] && kill -9 "$dpid" 2>/dev/null
	[ -n "$fspid" ] && kill -9 $fspid 2>/dev/null
	wait 2>/dev/null
	scratch_cleanup
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_daemon() {
	"$F" serve --root "$R" --store "$T/store" --socket "$SOCK" --idle-timeout 1s >>"$T/serve.log" 2>&1 &
	dpid=$!
	for _ in $(seq 500); do
		[ -S "$SOCK" ] && "$F" stats >/dev/null 2>&1 && break
		kill -0 "$dpid" 2>/dev/null || break
		sleep 0.02
	done
	fspid=$(ps -o pid= --ppid "$dpid" | tr -d ' ' | tr '\n' ' ')
}
# stat FN FIELD: one number from `fcstart stats --json`
pstat() { "$F" stats --json | jq -r --arg f "$1" ".functions[] | select(.name == \$f) | .$2"; }
# wait_for FN FIELD VALUE: until the pool reports it (bounded)
wait_for() {
	for _ in $(seq 1000); do
		[ "$(pstat "$1" "$2")" = "$3" ] && return 0
		sleep 0.01
	done
	echo "$1 $2 is $(pstat "$1" "$2"), expected $3" >&2
	return 1
}
# mounts, cgroups and processes of sandbox ids listed in a file
leftovers() {
	local id d left=0
	while read -r id; do
		grep -q "/$id" /proc/self/mountinfo && { echo "mount of $id left"; left=1; }
		for d in /sys/fs/cgroup/*/fcrun/"$id" /sys/fs/cgroup/fcrun/"$id"; do
			[ -d "$d" ] && { echo "cgroup $d left"; left=1; }
		done
		[ -e "$R/runtime/$id" ] && { echo "state of $id left"; left=1; }
		[ -e "$R/sandboxes/$id" ] && { echo "dir of $id left"; left=1; }
	done <"$1"
	return $left
}

sh "$src/tests/lib/mkimage.sh" "$T/img" >/dev/null || { echo "1..0 # SKIP cannot build the test image"; exit 77; }
"$F" image --store "$T/store" import -q "$T/img" --name bb >/dev/null || { echo "Bail out! image import"; exit 1; }
# 64 layers: more lower dirs than mount(2)'s one page of options holds
sh "$src/tests/lib/mkimage.sh" --bench-files 63 --bench-mb 1 --bench-layers 63 "$T/many" >/dev/null &&
	"$F" image --store "$T/store" import -q "$T/many" --name many >/dev/null || { echo "Bail out! 64-layer image"; exit 1; }

start_daemon
check "daemon serves on a private socket" "$F" stats
expect_eq "API socket mode is 0600" "600" "$(stat -c %a "$SOCK")"
if setpriv --reuid 65534 --regid 65534 --clear-groups "$F" fn ls >"$T/out" 2>&1; then
	not_ok "API socket refused to a non-root user"
else
	ok "API socket refused to a non-root user"
fi

check "deploy a function of a 64-layer image" "$F" fn deploy many --image many -- sh -c 'ls /usr/lib/python3/site-packages | wc -l'
expect_eq "its sandbox sees every layer" 63 "$("$F" invoke many </dev/null)"
check "fn rm of the 64-layer function" "$F" fn rm many
check "deploy /bin/cat" "$F" fn deploy cat --image bb -- /bin/cat
check "pool fills to min (1)" wait_for cat waiting 1
printf 'hello\nworld\n' >"$T/req"
out=$("$F" invoke cat --data @"$T/req"); rc=$?
expect_eq "invoke --data @FILE echoes the request" "$(printf 'hello\nworld')" "$out"
expect_eq "exit status 0" 0 "$rc"
check "refill after a hand-over (waiting back to 1)" wait_for cat waiting 1
out=$(echo piped | "$F" invoke cat --data -)
expect_eq "invoke --data - passes stdin" "piped" "$out"
check "refill after hand-overs (waiting back to 1)" wait_for cat waiting 1
expect_eq "stats count 2 hand-overs" 2 "$(pstat cat handovers)"
expect_eq "no on-demand creation while the pool had one" 0 "$(pstat cat on_demand)"
# what the host gave since the daemon started, kernel included (stats with usage)
expect_eq "stats: the host's memory, the sandboxes held" "true true" \
	"$("$F" stats --json | jq -c '(.host.sandboxes >= 1) and (.host.mem_available_kib > 0) and (.host.start.slab_kib > 0)') $("$F" stats | grep -Eq '^host: [0-9]+ sandboxes held; MemAvailable [0-9.]+ GiB' && echo true)"
p50=$(pstat cat handover_us.p50)
[ "$p50" != null ] && ok "hand-over latency reported (p50 ${p50} us)" || not_ok "hand-over latency reported"

check "deploy a function that exits 7" "$F" fn deploy ex --image bb -- /bin/sh -c 'cat; echo "E=$E"; exit 7'
check "ex pool fills" wait_for ex waiting 1
out=$("$F" invoke ex --data 'in:' --env E=per-call); rc=$?
expect_eq "the function's exit status is the invoke's" 7 "$rc"
expect_eq "per-invocation env and data" "in:E=per-call" "$out"

check "deploy an isolation probe" "$F" fn deploy probe --image bb --memory 64m -- /bin/sh -c \
	'echo "pid1=$(cat /proc/1/comm) host=$(hostname) ifaces=$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " " | tr "\n" ,) user=$(id -u) daemon-visible=$(ls /proc | grep -c "^$DPID\$") host-mounts=$(cut -d" " -f5 /proc/self/mountinfo | grep -c -e "$HOSTDIR" -e "^/work" -e "^/run")"'
check "probe pool fills" wait_for probe waiting 1
out=$("$F" invoke probe --env DPID="$dpid" --env HOSTDIR="$T")
expect_eq "isolated: own pid ns, hostname, only lo, host pids and mounts invisible" "pid1=sh host=probe ifaces=lo, user=0 daemon-visible=0 host-mounts=0" "$out"
wait_for probe waiting 1 2>/dev/null # the refill after the invocation, with its cgroup
mem=$(cat /sys/fs/cgroup/memory/fcrun/*probe*/memory.limit_in_bytes 2>/dev/null | head -n1)
expect_eq "cgroup memory limit of a waiting probe sandbox" 67108864 "$mem"

# recycled cgroups: each sandbox of a function takes an empty cgroup of the
# function's pool (kept by its fork server between sandboxes, reset after
# each teardown) instead of making and removing one in every hierarchy
cgdir() { # cgdir CTRL CGPATH: its directory in CTRL's hierarchy (v1, hybrid or v2)
	if [ -d /sys/fs/cgroup/$1 ]; then echo "/sys/fs/cgroup/$1$2"; else echo "/sys/fs/cgroup$2"; fi
}
memfile() { [ -d /sys/fs/cgroup/memory ] && echo memory.limit_in_bytes || echo memory.max; }
# the waiting sandbox of FN (between invocations, the one whose init lives): "ID CGPATH INITPID"
waiting_sb() {
	local id p
	for id in $(ls "$R/runtime"); do
		case $id in *-"$1"-*) ;; *) continue ;; esac
		p=$(jq -r .pid "$R/runtime/$id/state.json" 2>/dev/null) || continue
		[ -n "$p" ] && [ -e /proc/"$p" ] && [ "$(awk '{print $3}' /proc/"$p"/stat 2>/dev/null)" != Z ] || continue
		echo "$id $(jq -r .cgroup_path "$R/runtime/$id/state.json") $p"
		return 0
	done
	return 1
}
mark=86$$
check "deploy a function that leaves a daemonized process" "$F" fn deploy lefty --image bb --memory 64m \
	-- /bin/sh -c "setsid sleep $mark </dev/null >/dev/null 2>&1 & echo ran"
check "lefty pool fills" wait_for lefty waiting 1
: >"$T/cgs"
bad=0 badlim=0 killed=yes
for i in 1 2 3 4 5 6; do
	for _ in $(seq 500); do sb=$(waiting_sb lefty) && break; sleep 0.01; done
	[ -n "$sb" ] || { bad=$((bad + 1)); echo "no waiting lefty sandbox" | diag; "$F" stats | diag; tail -5 "$T/serve.log" | diag; continue; }
	set -- $sb
	echo "$1 $2" >>"$T/cgs"
	# nothing but the waiting sandbox's init in its cgroup (no tenant before it left one)
	procs=$(cat "$(cgdir pids "$2")/cgroup.procs" 2>/dev/null | tr '\n' ' ')
	[ "$procs" = "$3 " ] || { bad=$((bad + 1)); echo "cgroup $2 of $1 (init $3) holds: $procs" | diag; }
	# on a host with a v1 memory hierarchy a waiting sandbox has no memory
	# cgroup of its own (it joins one at its hand-over); elsewhere its own
	# has the function's limit
	if [ -d /sys/fs/cgroup/memory ]; then
		[ ! -e "$(cgdir memory "$2")" ] || badlim=$((badlim + 1))
	else
		[ "$(cat "$(cgdir memory "$2")/$(memfile)")" = 67108864 ] || badlim=$((badlim + 1))
	fi
	# a process outside the sandbox's pid namespace joins its cgroup (as the
	# instances a fork-mode template forks do): it must not outlive the sandbox
	sleep 1000 &
	spid=$!
	for d in /sys/fs/cgroup/*/fcrun/"${2#/fcrun/}" /sys/fs/cgroup/fcrun/"${2#/fcrun/}"; do
		[ -d "$d" ] && echo $spid >"$d/cgroup.procs"
	done
	[ "$("$F" invoke lefty)" = ran ] || bad=$((bad + 1))
	alive() { [ -e /proc/$1 ] && [ "$(awk '{print $3}' /proc/$1/stat 2>/dev/null)" != Z ]; }
	for _ in $(seq 500); do alive $spid || break; sleep 0.02; done
	if alive $spid; then killed=no; kill -9 $spid; wait $spid; else
		wait $spid 2>/dev/null; [ $? = 137 ] || killed=no; fi
	wait_for lefty waiting 1 2>/dev/null
done
expect_eq "a recycled cgroup holds only its sandbox's init (no process a previous one left)" 0 "$bad"
expect_eq "a process left in a sandbox's cgroup is killed at its teardown" yes "$killed"
expect_eq "a waiting sandbox: no memory cgroup of its own (v1 memory) or its own with the limit (v2)" 0 "$badlim"
reused=$(awk '{print $2}' "$T/cgs" | sort | uniq -d | wc -l)
[ "$reused" -ge 1 ] && ok "cgroups recycled: $(awk '{print $2}' "$T/cgs" | sort -u | wc -l) for 6 sandboxes" ||
	{ not_ok "cgroups recycled"; diag <"$T/cgs"; }
for _ in $(seq 500); do grep -lx "sleep.$mark" /proc/[0-9]*/cmdline >/dev/null 2>&1 || break; sleep 0.01; done 2>/dev/null
left=$(for f in /proc/[0-9]*/cmdline; do tr '\0' ' ' <"$f" 2>/dev/null | grep -x "sleep $mark " ; done 2>/dev/null | wc -l)
expect_eq "the daemonized processes were killed with their sandboxes" 0 "$left"
# running_mem FN SECS: "LIMIT CGROUP" of the memory cgroup a running sandbox
# of FN is in, seen from the host while its `sleep SECS` runs; its view
# (/proc/self/cgroup) is printed by the function into $T/run.out
running_mem() {
	"$F" invoke "$1" >"$T/run.out" 2>&1 &
	local ip=$! p="" cg
	for _ in $(seq 1000); do
		# (a bracket, so that grep's own argument does not match)
		p=$(grep -lzx "$(echo "$2" | sed 's/[.]/[.]/g')" /proc/[0-9]*/cmdline 2>/dev/null | head -n1 | cut -d/ -f3)
		[ -n "$p" ] && break
		sleep 0.01
	done
	if [ -z "$p" ]; then
		echo "none none"
		wait $ip
		{ echo "no running \`sleep $2\` of $1 seen; its output:"; cat "$T/run.out"; } | diag
		return
	fi
	cg=$(grep -E '^[0-9]+:([^:]*,)?memory(,[^:]*)?:' /proc/"$p"/cgroup 2>/dev/null | cut -d: -f3)
	if [ -n "$cg" ]; then
		echo "$(cat /sys/fs/cgroup/memory"$cg"/memory.limit_in_bytes 2>/dev/null) $cg"
	else
		cg=$(grep '^0::' /proc/"$p"/cgroup 2>/dev/null | cut -d: -f3)
		echo "$(cat /sys/fs/cgroup"$cg"/memory.max 2>/dev/null) $cg"
	fi
	wait $ip
}
# a redeploy with other limits: new cgroups, the old ones go as they come back
check "redeploy lefty with --memory 32m" "$F" fn deploy lefty --image bb --memory 32m \
	-- /bin/sh -c "grep -c -v ':/\$' /proc/self/cgroup; sleep 0.3$mark; echo ran"
for _ in $(seq 500); do sb=$(waiting_sb lefty) && break; sleep 0.02; done
set -- $sb
echo "$1 $2" >>"$T/cgs"
prefix0=$(echo "$1" | cut -c1-13)
set -- $(running_mem lefty 0.3$mark)
expect_eq "after a redeploy a running sandbox's memory cgroup has the new limit" 33554432 "$1"
expect_eq "its view of its cgroups starts at its own (/proc/self/cgroup: / in every hierarchy)" "0
ran" "$(cat "$T/run.out")"
if [ -d /sys/fs/cgroup/memory ]; then
	case $2 in */"$prefix0"lefty.mem*) ok "it runs in a memory slot of its function ($2)" ;;
	*) not_ok "it runs in a memory slot of its function"; echo "memory cgroup: $2" | diag ;; esac
fi
set -- $sb
check "fn rm lefty" "$F" fn rm lefty
slots_left() { ls -d /sys/fs/cgroup/memory/fcrun/"$prefix0"lefty.mem* 2>/dev/null; }
for _ in $(seq 500); do [ -z "$(slots_left)" ] && break; sleep 0.02; done
expect_eq "fn rm removes the function's memory slots" "" "$(slots_left)"
cgleft() { local c n=0; for c in $(awk '{print $2}' "$T/cgs" | sort -u); do
	[ -d "$(cgdir pids "$c")" ] && { echo "$c left"; n=$((n + 1)); }; done; [ $n = 0 ]; }
for _ in $(seq 500); do cgleft >/dev/null && break; sleep 0.02; done
check "fn rm removes the function's recycled cgroups" cgleft
prefix=$(echo "$1" | cut -c1-13)
recycled_left() { ls -d /sys/fs/cgroup/*/fcrun/"$prefix"*.cg* /sys/fs/cgroup/fcrun/"$prefix"*.cg* 2>/dev/null; }

# 50 concurrent invocations (max 20: the rest wait in the queue)
pids=
for i in $(seq 50); do
	( "$F" invoke cat --data "req-$i" >"$T/c.$i" 2>&1; echo $? >"$T/rc.$i" ) &
	pids="$pids $!"
done
wait $pids
good=0
for i in $(seq 50); do
	[ "$(cat "$T/c.$i")" = "req-$i" ] && [ "$(cat "$T/rc.$i")" = 0 ] && good=$((good + 1))
done
expect_eq "50 concurrent invocations all answered" 50 "$good"
check "pool back to min after the burst" wait_for cat waiting 1
od=$(pstat cat on_demand)
[ "$od" -ge 1 ] && ok "burst made on-demand sandboxes ($od)" || not_ok "burst made on-demand sandboxes ($od)"

# a sustained load (300 invocations, 20 at a time): the sandboxes that ended
# are torn down while creations go on, not after the load (a backlog of dead
# sandboxes, each with its cgroups, state and mount namespace, grew with every
# request): live state dirs stay near what runs and waits
seq 300 | xargs -P 20 -I{} sh -c '"$0" invoke cat --data x >/dev/null 2>&1' "$F" &
xpid=$!
most=0
while kill -0 $xpid 2>/dev/null; do
	k=$(ls "$R/runtime" | wc -l)
	[ "$k" -gt "$most" ] && most=$k
	sleep 0.05
done
wait $xpid
# 20 running + 20 waiting at most (max 20) + 4 per fork server to tear down, and slack
[ "$most" -le 70 ] && ok "sustained load: at most $most sandboxes' state at once" ||
	not_ok "sustained load: $most sandboxes' state at once (dead ones waiting for their teardown)"
check "no creation in flight after the load" wait_for cat creating 0
check "pool back to min after the load" wait_for cat waiting 1
# the free recycled cgroups (each with a memory cgroup) unused for 10 s go,
# but 2 per function and fork server: at most 1 waiting + 2 x 2 are left
catcgs() { ls -d "$(cgdir pids /fcrun/"$prefix")"cat.cg* 2>/dev/null | wc -l; }
before=$(catcgs)
for _ in $(seq 200); do [ "$(catcgs)" -le 5 ] && break; sleep 0.1; done
[ "$(catcgs)" -le 5 ] && ok "unused recycled cgroups removed after a while ($before -> $(catcgs))" ||
	not_ok "unused recycled cgroups removed after a while ($before -> $(catcgs))"

# idle reaping and on-demand with an empty pool
check "scale cat to min 0" "$F" fn scale cat --min 0 --max 5
check "idle waiting sandbox reaped (--idle-timeout 1s)" wait_for cat waiting 0
before=$(pstat cat on_demand)
out=$("$F" invoke cat --data empty-pool)
expect_eq "invoke with an empty pool creates on demand" "empty-pool" "$out"
expect_eq "on-demand counted" $((before + 1)) "$(pstat cat on_demand)"
expect_eq "min 0: nothing refilled" 0 "$(pstat cat waiting)"
"$F" fn scale cat --min 1 --max 20 >/dev/null

# bursts beyond max: a bounded queue, then a clear "busy" error
check "deploy with max 1 and a queue of 1" "$F" fn deploy one --image bb --label com.openfaas.scale.max=1 \
	--label com.fcstart.queue=1 -- /bin/sh -c 'read x; echo "got $x"'
check "one: pool fills" wait_for one waiting 1
mkfifo "$T/fa" "$T/fb"
"$F" invoke one --data - <"$T/fa" >"$T/a.out" 2>&1 &
apid=$!
exec 7>"$T/fa"
check "first invocation runs (max reached)" wait_for one running 1
"$F" invoke one --data - <"$T/fb" >"$T/b.out" 2>&1 &
bpid=$!
exec 8>"$T/fb"
check "second invocation waits in the queue" wait_for one queued 1
"$F" invoke one --data third >"$T/c.out" 2>&1; rc=$?
expect_eq "third invocation refused (125)" 125 "$rc"
grep -q "is busy" "$T/c.out" && ok "refusal says busy: $(cat "$T/c.out")" || { not_ok "refusal says busy"; diag <"$T/c.out"; }
echo first >&7; exec 7>&-
wait "$apid"
expect_eq "first invocation answered" "got first" "$(cat "$T/a.out")"
echo second >&8; exec 8>&-
wait "$bpid"
expect_eq "queued invocation answered once a sandbox was free" "got second" "$(cat "$T/b.out")"
expect_eq "busy counted" 1 "$(pstat one busy)"
"$F" fn rm one >/dev/null

# a sandbox killed in the middle of an invocation
check "deploy a slow function" "$F" fn deploy slow --image bb -- /bin/sh -c 'echo started; exec sleep 1000'
check "slow pool fills" wait_for slow waiting 1
"$F" invoke slow >"$T/slow.out" 2>&1 &
ipid=$!
for _ in $(seq 500); do grep -q started "$T/slow.out" && break; sleep 0.01; done
spid=
for id in $(ls "$R/runtime"); do
	case $id in *slow*) st=$(jq -r .status "$R/runtime/$id/state.json" 2>/dev/null); p=$(jq -r .pid "$R/runtime/$id/state.json")
		[ "$(cat /proc/"$p"/comm 2>/dev/null)" = sleep ] && spid=$p ;;
	esac
done
[ -n "$spid" ] && kill -9 "$spid"
wait "$ipid"; rc=$?
expect_eq "caller of a killed sandbox gets 137" 137 "$rc"
check "slow pool refills after the kill" wait_for slow waiting 1

check "fn rm" "$F" fn rm slow
ls "$R/runtime" | grep slow >"$T/slow.ids"
# the fork server removes the state, then unmounts and removes the dir: wait
# (bounded) until nothing is left, as a loaded machine takes its time
for _ in $(seq 1000); do leftovers "$T/slow.ids" >/dev/null && break; sleep 0.02; done
check "fn rm leaves nothing of its sandboxes" leftovers "$T/slow.ids"
# a sandbox's mounts live in its mount namespace, which its fork server holds
# until the teardown: one per live sandbox, none for one torn down
held_mntns() { local p n=0; for p in $fspid; do n=$((n + $(ls -l /proc/"$p"/fd 2>/dev/null | grep -c 'mnt:\['))); done; echo $n; }
for _ in $(seq 500); do [ "$(held_mntns)" = "$(ls "$R/runtime" | wc -l)" ] && break; sleep 0.02; done
expect_eq "fork servers hold a mount namespace per live sandbox, no more" "$(ls "$R/runtime" | wc -l)" "$(held_mntns)"
for _ in $(seq 500); do "$F" fn ls --json | jq -e '.functions | length == 3' >/dev/null && break; sleep 0.01; done
names=$("$F" fn ls --json | jq -r '[.functions[].name] | sort | join(",")')
expect_eq "fn ls after rm" "cat,ex,probe" "$names"

# kill -9 of the daemon and its fork servers together: leftovers, then a restart removes them
ls "$R/runtime" >"$T/run1.ids"
nmounts=$(grep -c " $R/sandboxes/" /proc/self/mountinfo)
kill -9 "$dpid" $fspid
wait "$dpid" 2>/dev/null
dpid= fspid=
left=$(grep -c " $R/sandboxes/" /proc/self/mountinfo)
# a sandbox's root filesystem is mounted in its own mount namespace only:
# nothing of it is in the host's, before or after the kill
expect_eq "no sandbox mount in the host's mount namespace (before and after kill -9)" "0 0" "$nmounts $left"
start_daemon
grep -q "removed .* sandboxes of a previous run" "$T/serve.log" && ok "restart reports the recovery" || not_ok "restart reports the recovery"
check "nothing of the first run is left (mounts, cgroups, state, dirs)" leftovers "$T/run1.ids"
ls "$R/runtime" >"$T/now.ids"
recycled_left | grep -v -F -f <(for id in $(cat "$T/now.ids"); do jq -r .cgroup_path "$R/runtime/$id/state.json" 2>/dev/null; done | sed 's|^/fcrun/||') >"$T/cgleft"
check "no recycled cgroup of the first run is left" test ! -s "$T/cgleft"
alive=0
for id in $(cat "$T/run1.ids"); do
	for f in $(grep -lF "/$id" /proc/[0-9]*/cgroup 2>/dev/null); do
		p=${f#/proc/}; p=${p%/cgroup}
		[ "$p" = "$$" ] || [ "$p" = "$BASHPID" ] && continue
		# a zombie is dead; it waits for its new parent (pid 1) to reap it
		[ "$(awk '{print $3}' /proc/"$p"/stat 2>/dev/null)" = Z ] && continue
		echo "pid $p: $(tr '\0' ' ' </proc/"$p"/cmdline 2>/dev/null) in $(grep -F "/$id" "$f")" | diag
		alive=$((alive + 1))
	done
done
expect_eq "no process of the first run is alive" 0 "$alive"
check "functions reloaded and refilled after the restart" wait_for cat waiting 1
out=$("$F" invoke cat --data after-restart)
expect_eq "invoke after the restart" "after-restart" "$out"

# kill -9 of the daemon alone: its fork server removes everything and exits
ls "$R/runtime" >"$T/run2.ids"
fs=$fspid
kill -9 "$dpid"; wait "$dpid" 2>/dev/null; dpid=
for _ in $(seq 500); do kill -0 $fs 2>/dev/null || break; sleep 0.01; done
alive=0
for p in $fs; do kill -0 "$p" 2>/dev/null && alive=1; done
[ -n "$fs" ] && [ "$alive" = 0 ] && ok "fork servers ($fs) exit after the daemon's kill -9" || not_ok "fork servers ($fs) exit after the daemon's kill -9"
fspid=
check "the fork server removed every sandbox" leftovers "$T/run2.ids"
check "the fork server removed its recycled cgroups" test -z "$(recycled_left)"

# clean stop by pid
start_daemon
check "third start" wait_for cat waiting 1
ls "$R/runtime" >"$T/run3.ids"
kill -TERM "$dpid"; wait "$dpid"; rc=$?; dpid= fspid=
expect_eq "SIGTERM stops the daemon with status 0" 0 "$rc"
check "a stopped daemon leaves nothing" leftovers "$T/run3.ids"
check "a stopped daemon leaves no recycled cgroup" test -z "$(recycled_left)"
[ -z "$(ls "$R/runtime")" ] && [ -z "$(ls "$R/sandboxes")" ] && ok "runtime and sandboxes dirs empty" || not_ok "runtime and sandboxes dirs empty"
[ -S "$SOCK" ] && not_ok "socket removed on stop" || ok "socket removed on stop"

echo "1..$n"
[ "$failed" = 0 ]
