#!/bin/bash
# e2e: a private dockerd (on a private containerd) runs containers with
# `--runtime fcrun` (daemon.json "runtimes") and each check gives the same
# output and exit code as `--runtime runc`.
# Needs root; installs Debian's docker.io/containerd when missing.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/e2e-lib.sh"
e2e_begin
e2e_start_containerd || { echo "Bail out! containerd did not start"; exit 1; }
e2e_start_dockerd "fcrun=$FCRUN" || { echo "Bail out! dockerd did not start"; exit 1; }
dk load -i "$E2E/image.tar" >"$T/load.log" 2>&1 || { diag <"$T/load.log"; echo "Bail out! docker load"; exit 1; }
ok "private dockerd up, image loaded with docker load"
expect_match "docker info lists the fcrun runtime" 'fcrun' "$(dk info --format '{{json .Runtimes}}' 2>&1)"

# drun RUNTIME DOCKER-RUN-ARGS...: docker run --rm --network none.
drun() {
	local r=$1
	shift
	timeout -k 10 120 "$DOCKER" --host "unix://$E2E/docker.sock" run --rm --network none --runtime "$r" "$@" </dev/null
}
I=$E2E_IMAGE
compare "docker run --rm true" out '' drun "$I" true
compare "docker run: exit code 3" out '^x$' drun "$I" sh -c 'echo x; exit 3'
compare "docker run -e" out '^bar$' drun -e FOO=bar "$I" sh -c 'echo $FOO'
compare "docker run -w" out '^/tmp$' drun -w /tmp "$I" pwd
compare "docker run -w (created)" out '^/new/dir$' drun -w /new/dir "$I" pwd
compare "docker run -u 65534:65534" out 'uid=65534' drun -u 65534:65534 "$I" id
compare "docker run -u nobody" out 'uid=65534' drun -u nobody "$I" id
# Raising the hard limit above the caller's needs CAP_SYS_RESOURCE; where the
# host lacks it both runtimes must fail alike.
compare "docker run --ulimit nofile=64000:64000" rc 'OCI runtime create failed|^64000' drun --ulimit nofile=64000:64000 "$I" sh -c 'ulimit -n; ulimit -Hn'
compare "docker run --ulimit nofile=1000:2000" out '^1000$' drun --ulimit nofile=1000:2000 "$I" sh -c 'ulimit -n; ulimit -Hn'
if [ -d /sys/fs/cgroup/memory ]; then
	compare "docker run --memory 64m" out '^67108864$' drun --memory 64m "$I" cat /sys/fs/cgroup/memory/memory.limit_in_bytes
	compare "docker run --pids-limit 50" out '^50$' drun --pids-limit 50 "$I" cat /sys/fs/cgroup/pids/pids.max
else
	compare "docker run --memory 64m" out '^67108864$' drun --memory 64m "$I" cat /sys/fs/cgroup/memory.max
	compare "docker run --pids-limit 50" out '^50$' drun --pids-limit 50 "$I" cat /sys/fs/cgroup/pids.max
fi
if [ -d /sys/fs/cgroup/cpu ]; then
	compare "docker run --cpu-shares 512" out '^512$' drun --cpu-shares 512 "$I" cat /sys/fs/cgroup/cpu/cpu.shares
fi
compare "docker run --init (docker-init as pid 1)" out 'docker-init' drun --init "$I" sh -c 'cat /proc/1/cmdline | tr "\0" " "; echo'
doom() {
	dk run -d --name "oom-$1" --network none --runtime "$1" --memory 16m --memory-swap 16m "$I" \
		sh -c 'x=$(head -c 100000000 /dev/zero | tr "\0" a); echo survived' >/dev/null || return 1
	dk wait "oom-$1"
	dk inspect -f '{{.State.OOMKilled}}' "oom-$1"
	dk rm "oom-$1" >/dev/null
}
compare "docker run --memory 16m: OOM killed, reported" out '^true$' doom
compare "docker run --read-only" out 'Read-only file system' drun --read-only "$I" sh -c 'touch /x 2>&1; echo $?; touch /dev/shm/y && echo shm-rw'
compare "docker run --cap-drop ALL --cap-add CHOWN" out '^CapEff:[[:space:]]+0000000000000001$' drun --cap-drop ALL --cap-add CHOWN "$I" sh -c 'grep ^Cap /proc/self/status'
compare "docker run --cap-drop CHOWN: chown fails" out 'Operation not permitted' drun --cap-drop CHOWN "$I" sh -c 'chown 65534 /tmp 2>&1; echo $?'
compare "docker run default capabilities" out 'CapBnd' drun "$I" sh -c 'grep ^Cap /proc/self/status'
compare "docker run --security-opt no-new-privileges" out '^NoNewPrivs:[[:space:]]+1$' drun --security-opt no-new-privileges "$I" grep NoNewPrivs /proc/self/status
cat >"$T/seccomp.json" <<'EOF'
{"defaultAction": "SCMP_ACT_ALLOW",
 "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}
EOF
compare "docker run --security-opt seccomp=profile (mkdir denied)" out "can't create directory" drun --security-opt "seccomp=$T/seccomp.json" "$I" sh -c 'grep ^Seccomp: /proc/self/status; mkdir /tmp/d 2>&1; echo $?'
compare "docker run default seccomp profile" out '^Seccomp:[[:space:]]+2$' drun "$I" grep ^Seccomp: /proc/self/status
compare "docker run -t" out '/dev/pts/0' drun -t "$I" sh -c 'tty; test -t 1 && echo stdout-is-tty'
dpipe() { echo piped | timeout -k 10 120 "$DOCKER" --host "unix://$E2E/docker.sock" run --rm -i --network none --runtime "$1" "$I" cat; }
compare "docker run -i (stdin)" out '^piped$' dpipe
dmounts() { drun "$1" -h host1 "$I" sh -c 'hostname; cut -d" " -f2,3 /proc/self/mounts | sort; ls /dev | sort'; }
compare "docker run: hostname, mounts, /dev" out 'proc' dmounts
dunified() { drun "$1" "$I" grep -c ' /sys/fs/cgroup/unified ' /proc/self/mounts; }
compare "docker run: /sys/fs/cgroup/unified mounted (or not) as with runc (a hybrid host's cgroup2 tree is not shown)" out '' dunified
compare "docker run: sysctl from docker (ip_unprivileged_port_start)" out '^0$' drun "$I" cat /proc/sys/net/ipv4/ip_unprivileged_port_start
compare "docker run --sysctl" out '^1$' drun --sysctl kernel.msgmni=1 "$I" cat /proc/sys/kernel/msgmni
compare "docker run of a missing binary: exit code" rc '' drun "$I" /nonexistent/binary
bundle "$T/missing" /nonexistent/binary
"$FCRUN" --root "$T/state" create -b "$T/missing" own-msg >/dev/null 2>"$T/own.err"
own=$(sed -n 's/^fcrun: //p' "$T/own.err" | tail -n1)
drun fcrun "$I" /nonexistent/binary >"$T/missing.out" 2>&1
if [ -n "$own" ] && grep -qF -- "$own" "$T/missing.out"; then
	ok "docker shows fcrun's own message: $own"
else
	not_ok "docker shows fcrun's own message"
	{ echo "fcrun says: $own"; echo "docker printed:"; cat "$T/missing.out"; } | diag
fi

# Long-running containers: exec, top, pause/unpause, stats, logs, stop, kill.
for r in runc fcrun; do
	dk run -d --name "c-$r" --network none --runtime "$r" "$I" \
		sh -c 'echo out; trap "echo term; exit 7" TERM; while true; do sleep 0.2; done' >"$T/c-$r.log" 2>&1 || diag <"$T/c-$r.log"
	dk run -d --name "i-$r" --network none --runtime "$r" "$I" \
		sh -c 'trap "" TERM; while true; do sleep 0.2; done' >"$T/i-$r.log" 2>&1 || diag <"$T/i-$r.log"
done
status() { dk inspect -f '{{.State.Status}}' "$1" 2>&1; }
both_running() { [ "$(status "$1-runc")" = running ] && [ "$(status "$1-fcrun")" = running ]; }
if wait_until 30 both_running c && wait_until 30 both_running i; then
	ok "docker run -d: running under runc and fcrun"
else
	not_ok "docker run -d: running under runc and fcrun"; dk ps -a | diag
fi
dexec() { local r=$1; shift; timeout -k 10 60 "$DOCKER" --host "unix://$E2E/docker.sock" exec "${@/@/c-$r}" </dev/null; }
if fcrun_has exec; then
	compare "docker exec: output and exit code 5" out '^hi$' dexec @ sh -c 'echo hi; exit 5'
	compare "docker exec -u -w -e" out '^65534$' dexec -u 65534 -w /tmp -e X=1 @ sh -c 'id -u; pwd; echo $X'
	compare "docker exec -t" out '/dev/pts' dexec -t @ tty
	compare "docker exec of a missing binary" rc '' dexec @ /nonexistent
else
	skip "docker exec" "fcrun exec is not implemented yet"
fi
if fcrun_has ps; then
	# UID and CMD columns, without the short-lived sleeps; once each (the shell's loop forks a copy of itself before each sleep runs).
	dtop() { dk top "c-$1" | awk 'NR > 1 { s = $1; for (i = 8; i <= NF; i++) s = s " " $i; print s }' | grep -v '^root sleep' | sort -u; }
	compare "docker top" out '^root sh -c echo out' dtop
else
	skip "docker top" "fcrun ps is not implemented yet"
fi
if fcrun_has pause && fcrun_has resume; then
	dpause() { dk pause "c-$1" && status "c-$1" && dk unpause "c-$1" && status "c-$1"; }
	compare "docker pause/unpause" out '^paused$' dpause
else
	skip "docker pause/unpause" "fcrun pause/resume are not implemented yet"
fi
if fcrun_has update; then
	dupdate() {
		dk update --memory 128m --memory-swap 256m --pids-limit 77 "c-$1" >/dev/null || return 1
		dk exec "c-$1" sh -c 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max' 2>&1 ||
			dk inspect -f '{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}}' "c-$1"
	}
	compare "docker update --memory --pids-limit" out '^134217728$' dupdate
else
	skip "docker update" "fcrun update is not implemented yet"
fi
dstats() { dk stats --no-stream --format '{{.Name}} {{if .MemUsage}}mem{{end}}' "c-$1" | sed "s/c-$1/c-R/"; }
compare "docker stats --no-stream" out '^c-R mem$' dstats
dstop() { timeout -k 10 120 "$DOCKER" --host "unix://$E2E/docker.sock" stop -t 20 "c-$1" >/dev/null && dk inspect -f '{{.State.ExitCode}}' "c-$1"; }
compare "docker stop: SIGTERM handled (exit 7)" out '^7$' dstop
dlogs() { dk logs "c-$1"; }
compare "docker logs" out '^term$' dlogs
dstopkill() { timeout -k 10 120 "$DOCKER" --host "unix://$E2E/docker.sock" stop -t 1 "i-$1" >/dev/null && dk inspect -f '{{.State.ExitCode}}' "i-$1"; }
compare "docker stop: SIGTERM ignored, killed after the grace time (137)" out '^137$' dstopkill
for r in runc fcrun; do dk rm "c-$r" "i-$r" >/dev/null 2>&1; done
dkill() {
	dk run -d --name "k-$1" --network none --runtime "$1" "$I" sleep 1000 >/dev/null || return 1
	wait_until 30 sh -c "[ \"\$($DOCKER --host unix://$E2E/docker.sock inspect -f '{{.State.Status}}' k-$1)\" = running ]"
	dk kill "k-$1" >/dev/null && dk wait "k-$1"
	dk rm "k-$1" >/dev/null
}
compare "docker kill (137)" out '^137$' dkill
dkillsig() {
	dk run -d --name "s-$1" --network none --runtime "$1" "$I" sh -c 'trap "echo usr1; exit 3" USR1; while true; do sleep 0.2; done' >/dev/null || return 1
	wait_until 30 sh -c "[ \"\$($DOCKER --host unix://$E2E/docker.sock inspect -f '{{.State.Status}}' s-$1)\" = running ]"
	sleep 0.5 # let the shell set its trap
	dk kill -s USR1 "s-$1" >/dev/null && dk wait "s-$1" && dk logs "s-$1"
	dk rm "s-$1" >/dev/null
}
compare "docker kill -s USR1" out '^usr1$' dkillsig
drestart() {
	dk run -d --name "r-$1" --network none --runtime "$1" --restart on-failure:2 "$I" sh -c 'echo run; exit 3' >/dev/null || return 1
	wait_until 120 sh -c "[ \"\$($DOCKER --host unix://$E2E/docker.sock inspect -f '{{.RestartCount}} {{.State.Status}}' r-$1)\" = '2 exited' ]"
	dk inspect -f '{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}' "r-$1"
	dk logs "r-$1"
	dk rm "r-$1" >/dev/null
}
compare "docker run --restart on-failure:2" out '^2 exited 3$' drestart

left=$(dk ps -aq)
expect_eq "no containers left in docker" "" "$left"
# Docker 20.10 gives every runtime the same --root: <exec-root>/runtime-runc.
for r in runc fcrun; do
	rt=runc
	[ $r = fcrun ] && rt=$FCRUN
	left=$("$rt" --root "$E2E/docker/exec/runtime-runc/moby" list -q 2>&1)
	expect_eq "no $r containers left under docker's exec-root" "" "$left"
done
left=$(ls -A "$E2E/docker/exec/runtime-runc/moby" 2>/dev/null)
expect_eq "no state dirs left under docker's exec-root" "" "$left"
[ -z "$left" ] || for d in $left; do { head -c 300 "$E2E/docker/exec/runtime-runc/moby/$d/state.json"; echo; } | diag; done
left=$(e2e_cg_new)
expect_eq "no container cgroups left" "" "$left"
e2e_stop
left=$(our_shims)
expect_eq "dockerd, containerd and the shims stopped" "" "$left"
left=$(ls -d /sys/fs/cgroup/*/"$E2E_NS" 2>/dev/null)
expect_eq "no /$E2E_NS parent cgroups left" "" "$left"
done_testing
