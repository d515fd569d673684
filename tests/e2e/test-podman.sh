#!/bin/bash
# e2e: rootful podman runs containers with fcrun (`--runtime fcrun`, named in
# containers.conf's [engine.runtimes]) and each check gives the same output
# and exit code as podman's default runtime, crun. crun 1.8 refuses a cgroup
# v1 hybrid host while cgroup2 holds a controller (README "Host notes"): then
# every check compares with runc through podman instead, and the test says so.
#
# Private: podman's storage root and runroot, its tmp dir, events log,
# network config dir and containers.conf/storage.conf/registries.conf are
# under the scratch dir (CONTAINERS_CONF & co.); images come from an archive
# the test builds (podman load); containers have no network (netns "none")
# and live below the cgroup /$E2E_NS. Each runtime keeps its state in a root
# of its own under the scratch dir: podman 4.3 does not hand --runtime-flag
# to its cleanup process, so each runtime is named by a two-line wrapper that
# execs it with `--root DIR` and podman's arguments unchanged.
# Needs root; installs Debian's podman when missing.
. "$(dirname "$0")/../lib/common.sh"
PODMAN=/usr/bin/podman
E2E_NEEDS="podman:$PODMAN conmon:/usr/bin/conmon runc:/usr/sbin/runc crun:/usr/bin/crun"
. "$(dirname "$0")/e2e-lib.sh"

CGP=/$E2E_NS
# Every command of this test goes to the private podman.
pm() { timeout -k 10 120 "$PODMAN" "$@"; }

# Our conmons (they outlive a killed podman): found by our scratch dir on
# their command line, killed by pid.
our_conmons() {
	local p
	for p in /proc/[0-9]*; do
		case $(tr '\0' ' ' 2>/dev/null <"$p/comm") in conmon*) ;; *) continue ;; esac
		tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -q -- " -b $PM/" && echo "${p#/proc/}"
	done
}
# Called by e2e_stop (on every exit): containers, conmons, runtime state,
# podman's own cgroups below /$E2E_NS.
e2e_stop_extra() {
	[ -n "${PM:-}" ] && [ -f "$PM/containers.conf" ] || return 0
	local id p r rt
	for id in $(pm ps -aq 2>/dev/null); do pm rm -f -t 0 "$id" >/dev/null 2>&1; done
	for p in $(our_conmons); do kill -KILL "$p" 2>/dev/null; done
	for r in fcrun runc crun; do
		rt=$r
		[ $r = fcrun ] && rt=$FCRUN
		[ -d "$PM/rt/$r" ] || continue
		for id in $("$rt" --root "$PM/rt/$r" list -q 2>/dev/null); do
			timeout -k 5 20 "$rt" --root "$PM/rt/$r" delete -f "$id" >/dev/null 2>&1
		done
	done
	# podman puts conmon in <cgroup parent>/conmon and never removes it.
	for p in /sys/fs/cgroup/*$CGP/conmon /sys/fs/cgroup$CGP/conmon; do
		[ -d "$p" ] && rmdir "$p" 2>/dev/null
	done
	return 0
}

e2e_begin
PM=$E2E/podman
mkdir -p "$PM/bin" "$PM/rt/fcrun" "$PM/rt/runc" "$PM/rt/crun" "$PM/tmp" "$PM/net"
declare -A RT_PATH=([fcrun]=$FCRUN [runc]=/usr/sbin/runc [crun]=/usr/bin/crun)
for r in fcrun runc crun; do
	printf '#!/bin/sh\nexec %s --root %s "$@"\n' "${RT_PATH[$r]}" "$PM/rt/$r" >"$PM/bin/$r"
	chmod 755 "$PM/bin/$r"
done
cat >"$PM/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$PM/root"
runroot = "$PM/run"
EOF
printf 'unqualified-search-registries = []\n' >"$PM/registries.conf"
# write_conf [ULIMITS]: the private containers.conf.
write_conf() {
	cat >"$PM/containers.conf" <<EOF
[containers]
netns = "none"
${1:+default_ulimits = [$1]}
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$PM/events.log"
tmp_dir = "$PM/tmp"
static_dir = "$PM/root/libpod"
volume_path = "$PM/root/volumes"
[engine.runtimes]
fcrun = ["$PM/bin/fcrun"]
runc = ["$PM/bin/runc"]
crun = ["$PM/bin/crun"]
[network]
network_config_dir = "$PM/net"
EOF
}
write_conf
export CONTAINERS_CONF=$PM/containers.conf CONTAINERS_STORAGE_CONF=$PM/storage.conf \
	CONTAINERS_REGISTRIES_CONF=$PM/registries.conf
pm load -i "$E2E/image.tar" >"$T/load.log" 2>&1 || { diag <"$T/load.log"; echo "Bail out! podman load"; exit 1; }
ok "private podman: image loaded with podman load"
# The example configuration (contrib/podman-containers.conf) names fcrun.
sed "s|/usr/local/bin/fcrun|$FCRUN|" "$FC_SOURCE_ROOT/contrib/podman-containers.conf" >"$T/example.conf"
expect_eq "contrib/podman-containers.conf: podman finds fcrun by its name" "$FCRUN" \
	"$(CONTAINERS_CONF=$T/example.conf pm --runtime fcrun info --format '{{.Host.OCIRuntime.Path}}' 2>&1)"
I=$E2E_IMAGE

# podman asks for nofile and nproc of 1048576 by default; raising a hard
# limit needs CAP_SYS_RESOURCE, which this CI's root lacks. Then every runtime
# fails alike (setrlimit: Operation not permitted), so the containers get
# the limits the runtime inherits from podman's conmon, found by a probe.
NPROC=()
capeff=$(awk '/^CapEff/ { print $2 }' /proc/self/status)
if [ $(((0x$capeff >> 24) & 1)) = 0 ]; then
	printf '#!/bin/sh\ngrep -E "^Max (processes|open files)" /proc/self/limits >%s\nexit 1\n' "$PM/limits" >"$PM/bin/probe"
	chmod 755 "$PM/bin/probe"
	pm --runtime "$PM/bin/probe" run --rm --cgroup-parent $CGP "$I" true >/dev/null 2>&1
	np=$(awk '/^Max processes/ { print $4 }' "$PM/limits" 2>/dev/null)
	nf=$(awk '/^Max open files/ { print $5 }' "$PM/limits" 2>/dev/null)
	if [ -n "$np" ] && [ -n "$nf" ]; then
		write_conf "\"nofile=$nf:$nf\", \"nproc=$np:$np\""
		# A --ulimit replaces the defaults: runs with one give nproc too.
		NPROC=(--ulimit "nproc=$np:$np")
		echo "# no CAP_SYS_RESOURCE here: default_ulimits nofile=$nf nproc=$np (what podman's conmon has)"
	fi
fi

# podman's default runtime, or runc when crun refuses this host.
def=$(pm info --format '{{.Host.OCIRuntime.Name}}' 2>&1)
expect_eq "podman's default runtime is crun" crun "$def"
E2E_REF=crun
if ! pm --runtime crun run --rm --cgroup-parent $CGP "$I" true >"$T/crun.out" 2>&1; then
	E2E_REF=runc
	skip "compare with crun" "crun cannot run here ($(tail -n1 "$T/crun.out")): every check compares fcrun with runc through podman"
else
	ok "crun runs here: every check compares fcrun with crun"
fi

n=0
# prun RUNTIME PODMAN-RUN-ARGS...: podman run --rm with a fresh name.
prun() {
	local r=$1
	shift
	n=$((n + 1))
	pm --runtime "$r" run --rm --cgroup-parent $CGP --name "p$n-$r" "$@" </dev/null
}
compare "podman run --rm true" out '' prun "$I" true
compare "podman run: exit code 3" out '^x$' prun "$I" sh -c 'echo x; exit 3'
compare "podman run: killed by SIGKILL (137)" out '' prun "$I" sh -c 'kill -9 $$'
compare "podman run -e -w -u -h" out '^bar /tmp 65534 h1$' prun -e FOO=bar -w /tmp -u 65534:65534 -h h1 "$I" sh -c 'echo $FOO $(pwd) $(id -u) $(hostname)'
compare "podman run -w of a directory the image lacks (podman refuses)" out 'workdir "/new/dir" does not exist' prun -w /new/dir "$I" pwd
compare "podman run: default rlimits" out '^[0-9]+$' prun "$I" sh -c 'ulimit -n; ulimit -Hn; ulimit -u'
compare "podman run --ulimit nofile=1000:2000" out '^1000$' prun --ulimit nofile=1000:2000 "${NPROC[@]}" "$I" sh -c 'ulimit -n; ulimit -Hn'
if [ -d /sys/fs/cgroup/memory ]; then
	compare "podman run --memory 64m" out '^67108864$' prun --memory 64m "$I" cat /sys/fs/cgroup/memory/memory.limit_in_bytes
	compare "podman run --pids-limit 50" out '^50$' prun --pids-limit 50 "$I" cat /sys/fs/cgroup/pids/pids.max
	compare "podman run: default pids limit" out '^[0-9]+$' prun "$I" cat /sys/fs/cgroup/pids/pids.max
else
	compare "podman run --memory 64m" out '^67108864$' prun --memory 64m "$I" cat /sys/fs/cgroup/memory.max
	compare "podman run --pids-limit 50" out '^50$' prun --pids-limit 50 "$I" cat /sys/fs/cgroup/pids.max
	compare "podman run: default pids limit" out '^[0-9]+$' prun "$I" cat /sys/fs/cgroup/pids.max
fi
if [ -d /sys/fs/cgroup/cpu ]; then
	compare "podman run --cpu-shares 512" out '^512$' prun --cpu-shares 512 "$I" cat /sys/fs/cgroup/cpu/cpu.shares
fi
compare "podman run --read-only" out 'Read-only file system' prun --read-only "$I" sh -c 'touch /x 2>&1; echo $?; touch /tmp/y /dev/shm/y && echo tmp-rw'
compare "podman run --cap-drop ALL --cap-add CHOWN" out '^CapEff:[[:space:]]+0000000000000001$' prun --cap-drop ALL --cap-add CHOWN "$I" sh -c 'grep ^Cap /proc/self/status'
compare "podman run --cap-drop CHOWN: chown fails" out 'Operation not permitted' prun --cap-drop CHOWN "$I" sh -c 'chown 65534 /tmp 2>&1; echo $?'
compare "podman run: default capabilities" out 'CapBnd' prun "$I" sh -c 'grep ^Cap /proc/self/status'
compare "podman run --security-opt no-new-privileges" out '^NoNewPrivs:[[:space:]]+1$' prun --security-opt no-new-privileges "$I" grep NoNewPrivs /proc/self/status
cat >"$T/seccomp.json" <<'EOF'
{"defaultAction": "SCMP_ACT_ALLOW",
 "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}
EOF
compare "podman run --security-opt seccomp=profile (mkdir denied)" out "can't create directory" prun --security-opt "seccomp=$T/seccomp.json" "$I" sh -c 'grep ^Seccomp: /proc/self/status; mkdir /tmp/d 2>&1; echo $?'
compare "podman run: default seccomp profile" out '^Seccomp:[[:space:]]+2$' prun "$I" sh -c 'grep ^Seccomp: /proc/self/status; unshare -U true 2>&1 | sed "s/:.*//"'
compare "podman run --security-opt seccomp=unconfined" out '^Seccomp:[[:space:]]+0$' prun --security-opt seccomp=unconfined "$I" grep ^Seccomp: /proc/self/status
ppipe() { echo piped | pm --runtime "$1" run --rm -i --cgroup-parent $CGP "$I" cat; }
compare "podman run -i (stdin)" out '^piped$' ppipe
# fcrun also mounts the cgroup2 hierarchy at /sys/fs/cgroup/unified on a
# hybrid host, runc does not (crun refuses such hosts): compared apart.
# crun masks a file with the host's /dev/null (devtmpfs) and adds /dev/core;
# runc and fcrun mask with the container's /dev/null (on its /dev tmpfs) and
# make no /dev/core: both differences are left out when crun is the reference.
pmounts() {
	prun "$1" "$I" sh -c 'cut -d" " -f2,3 /proc/self/mounts | sort; ls /dev | sort' |
		grep -v '^/sys/fs/cgroup/unified ' | sed 's|^\(/proc/[a-z_]*\) devtmpfs$|\1 tmpfs|' | grep -vx core
}
compare "podman run: mounts, /dev" out 'proc' pmounts
# A tty: podman run -it needs a terminal on its side; script(1) gives it one.
# in_tty CMD: CMD (a line for sh) on a new terminal. script's stdin is held
# open: at its end script hands the terminal an end of file, and podman then
# lost the container's output now and then (runc and fcrun alike). script -e
# answers 0 while its stdin is open, so the status comes through a file;
# timeout --foreground stays in the terminal's foreground process group.
in_tty() {
	local p rc
	exec 9< <(exec sleep 300)
	p=$!
	rm -f "$T/tty.rc"
	SHELL=/bin/sh script -qec "timeout --foreground -k 10 120 $1; echo \$? >$T/tty.rc" /dev/null <&9 >"$T/tty.raw"
	exec 9<&-
	kill "$p" 2>/dev/null
	tr -d '\r' <"$T/tty.raw"
	rc=$(cat "$T/tty.rc" 2>/dev/null) || rc=255
	return "$rc"
}
pmtty() {
	n=$((n + 1))
	in_tty "$PODMAN --runtime $1 run --rm -it --cgroup-parent $CGP --name t$n-$1 $I sh -c 'tty; stty size >/dev/null && echo sized; exit 4'"
}
compare "podman run -it: a terminal inside, exit code 4" out '/dev/pts/0' pmtty
compare "podman run of a missing binary: exit code" rc '' prun "$I" /nonexistent/binary
bundle "$T/missing" /nonexistent/binary
"$FCRUN" --root "$T/state" create -b "$T/missing" own-msg >/dev/null 2>"$T/own.err"
own=$(sed -n 's/^fcrun: //p' "$T/own.err" | tail -n1)
prun fcrun "$I" /nonexistent/binary >"$T/missing.out" 2>&1
if [ -n "$own" ] && grep -qF -- "$own" "$T/missing.out"; then
	ok "podman shows fcrun's own message: $own"
else
	not_ok "podman shows fcrun's own message"
	{ echo "fcrun says: $own"; echo "podman printed:"; cat "$T/missing.out"; } | diag
fi
for r in "$E2E_REF" fcrun; do
	left=$(ls -A "$PM/rt/$r")
	expect_eq "podman run --rm leaves no $r state" "" "$left"
done

# Long-running containers: exec, pause/unpause, stop, kill, logs.
for r in "$E2E_REF" fcrun; do
	pm --runtime "$r" run -d --name "c-$r" --cgroup-parent $CGP "$I" \
		sh -c 'echo out; trap "echo term; exit 7" TERM; while true; do sleep 0.2; done' >"$T/c-$r.log" 2>&1 || diag <"$T/c-$r.log"
	pm --runtime "$r" run -d --name "i-$r" --cgroup-parent $CGP "$I" \
		sh -c 'trap "" TERM; while true; do sleep 0.2; done' >"$T/i-$r.log" 2>&1 || diag <"$T/i-$r.log"
done
status() { pm inspect -f '{{.State.Status}}' "$1" 2>&1; }
both_running() { [ "$(status "$1-$E2E_REF")" = running ] && [ "$(status "$1-fcrun")" = running ]; }
if wait_until 30 both_running c && wait_until 30 both_running i; then
	ok "podman run -d: running under $E2E_REF and fcrun"
else
	not_ok "podman run -d: running under $E2E_REF and fcrun"; pm ps -a | diag
fi
pexec() { local r=$1; shift; pm exec "${@/@/c-$r}" </dev/null; }
compare "podman exec: output and exit code 5" out '^hi$' pexec @ sh -c 'echo hi; exit 5'
compare "podman exec -u -w -e" out '^65534$' pexec -u 65534 -w /tmp -e X=1 @ sh -c 'id -u; pwd; echo $X'
compare "podman exec: in the container's namespaces and cgroup" out '^same$' pexec @ sh -c 'ns() { for n in pid mnt uts ipc net cgroup; do readlink /proc/$1/ns/$n; done; cat /proc/$1/cgroup; }; [ "$(ns 1)" = "$(ns self)" ] && echo same'
compare "podman exec --privileged: all capabilities" out '^CapEff' pexec --privileged @ grep ^CapEff /proc/self/status
compare "podman exec of a missing binary" rc '' pexec @ /nonexistent
pexectty() { in_tty "$PODMAN exec -it c-$1 sh -c 'tty; exit 6'"; }
compare "podman exec -it: a terminal, exit code 6" out '/dev/pts/' pexectty
pexecd() { pm exec -d "c-$1" sh -c 'echo detached >/tmp/d' >/dev/null && wait_until 10 pm exec "c-$1" test -s /tmp/d && pm exec "c-$1" cat /tmp/d; }
compare "podman exec -d" out '^detached$' pexecd
ppause() {
	pm pause "c-$1" >/dev/null && status "c-$1" &&
		{ pm exec "c-$1" true 2>&1 | sed 's/[0-9a-f]\{64\}/ID/g'; } &&
		pm unpause "c-$1" >/dev/null && status "c-$1"
}
compare "podman pause/unpause" out '^paused$' ppause
pstop() { pm stop -t 20 "c-$1" >/dev/null && pm inspect -f '{{.State.ExitCode}}' "c-$1"; }
compare "podman stop: SIGTERM handled (exit 7)" out '^7$' pstop
plogs() { pm logs "c-$1"; }
compare "podman logs" out '^term$' plogs
pstopkill() { pm stop -t 1 "i-$1" >/dev/null && pm inspect -f '{{.State.ExitCode}}' "i-$1"; }
compare "podman stop: SIGTERM ignored, killed after the grace time (137)" out '^137$' pstopkill
pstart() { pm start "c-$1" >/dev/null && status "c-$1" && pm stop -t 20 "c-$1" >/dev/null && pm logs "c-$1"; }
compare "podman start of a stopped container" out '^running$' pstart
for r in "$E2E_REF" fcrun; do pm rm "c-$r" "i-$r" >/dev/null 2>&1; done
pmkill() {
	pm --runtime "$1" run -d --name "k-$1" --cgroup-parent $CGP "$I" sleep 1000 >/dev/null || return 1
	wait_until 30 sh -c "[ \"\$($PODMAN inspect -f '{{.State.Status}}' k-$1)\" = running ]"
	pm kill "k-$1" >/dev/null && pm wait "k-$1"
	pm rm "k-$1" >/dev/null
}
compare "podman kill (137)" out '^137$' pmkill
pkillsig() {
	pm --runtime "$1" run -d --name "s-$1" --cgroup-parent $CGP "$I" sh -c 'trap "echo usr1; exit 3" USR1; while true; do sleep 0.2; done' >/dev/null || return 1
	wait_until 30 sh -c "[ \"\$($PODMAN inspect -f '{{.State.Status}}' s-$1)\" = running ]"
	sleep 0.5 # let the shell set its trap
	pm kill -s USR1 "s-$1" >/dev/null && pm wait "s-$1" && pm logs "s-$1"
	pm rm "s-$1" >/dev/null
}
compare "podman kill -s USR1" out '^usr1$' pkillsig
prmf() {
	pm --runtime "$1" run -d --name "f-$1" --cgroup-parent $CGP "$I" sleep 1000 >/dev/null || return 1
	pm rm -f -t 0 "f-$1" >/dev/null && pm ps -a --format '{{.Names}}' | grep -c "f-$1"
}
compare "podman rm -f of a running container" out '^0$' prmf

left=$(pm ps -aq)
expect_eq "no containers left in podman" "" "$left"
for r in "$E2E_REF" fcrun; do
	left=$(ls -A "$PM/rt/$r")
	expect_eq "no $r state left" "" "$left"
done
left=$(our_conmons)
expect_eq "no conmon left" "" "$left"
e2e_stop_extra
left=$(e2e_cg_new)
expect_eq "no container cgroups left" "" "$left"
e2e_stop
left=$(ls -d /sys/fs/cgroup/*/"$E2E_NS" 2>/dev/null)
expect_eq "no /$E2E_NS parent cgroups left" "" "$left"
left=$(grep -c " $E2E" /proc/self/mountinfo)
expect_eq "no podman storage mounts left" 0 "$left"
done_testing
