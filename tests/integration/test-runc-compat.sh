#!/bin/bash
# fcrun behaves as runc where users and engines can tell the difference:
# each check runs the same bundle (or command line) under runc and under
# fcrun, each with a root of its own, and compares the results (exit status,
# output, what the container saw). Where runc and crun disagree fcrun
# follows runc (README "fcrun"). Needs root and runc (Debian's).
. "$(dirname "$0")/../lib/common.sh"
require_root
command -v runc >/dev/null 2>&1 || skip_all "runc is not installed"
RUNC=$(command -v runc)
RR=$T/runc-root
mkdir -p "$RR"

# runc's containers go too, before common.sh's cleanup.
runc_cleanup() {
	for id in $("$RUNC" --root "$RR" list -q 2>/dev/null); do
		"$RUNC" --root "$RR" delete -f "$id" >/dev/null 2>&1
	done
	return 0
}
# Helper processes of this test (an agent, a console receiver...), killed by pid.
helpers=()
trap 'rc=$?; for p in "${helpers[@]}"; do kill "$p" 2>/dev/null; done; runc_cleanup; (exit $rc); cleanup' EXIT

# rt NAME ARGS...: the runtime NAME (runc or fcrun) with its own root.
rt() {
	local r=$1
	shift
	if [ "$r" = runc ]; then "$RUNC" --root "$RR" "$@"; else "$FCRUN" --root "$ROOT" "$@"; fi
}

# same DESC MODE REGEX FUNC ARGS...: `FUNC RUNTIME ARGS...` for runc, then for
# fcrun (FUNC prints, returns an exit status). MODE "out": same exit status
# and output, and fcrun's output matches REGEX; "rc": same exit status, and
# fcrun's output matches REGEX. Outputs are normalised first: the runtime's
# name becomes RT, logrus time stamps and container ids of this test go, and
# an error line (runc's logrus one, "RT run failed: MSG", or fcrun's "RT: MSG")
# reads "error: MSG".
same() {
	local desc=$1 mode=$2 re=$3 fn=$4 r why=
	shift 4
	for r in runc fcrun; do
		"$fn" "$r" "$@" >"$T/out.$r" 2>&1
		echo $? >"$T/rc.$r"
		sed -i -e 's/time="[^"]*"/time="T"/' -e "s/\b$r\b/RT/g" -e "s/$CG_PREFIX-[a-z0-9-]*/ID/g" \
			-e 's/^time="T" level=error msg="\(RT [a-z]* failed: \)\{0,1\}\(.*\)"$/error: \2/' \
			-e 's/^RT: /error: /' "$T/out.$r"
	done
	[ "$(cat "$T/rc.runc")" = "$(cat "$T/rc.fcrun")" ] || why="exit status differs"
	if [ "$mode" = out ] && ! cmp -s "$T/out.runc" "$T/out.fcrun"; then why="${why:+$why, }output differs"; fi
	[ -z "$re" ] || grep -Eq -- "$re" "$T/out.fcrun" || why="${why:+$why, }fcrun's output does not match /$re/"
	if [ -z "$why" ]; then
		ok "$desc"
	else
		not_ok "$desc: $why"
		{ echo "runc (exit $(cat "$T/rc.runc")):"; head -c 3000 "$T/out.runc"; echo "fcrun (exit $(cat "$T/rc.fcrun")):"; head -c 3000 "$T/out.fcrun"; } | diag
	fi
}

# wait_state RUNTIME ID STATUS: poll `state` (a bound against hanging).
wait_state() {
	for _ in $(seq 200); do
		[ "$(rt "$1" state "$2" 2>/dev/null | jq -r .status)" = "$3" ] && return 0
		sleep 0.05
	done
	return 1
}

n=0
newid() { n=$((n + 1)); id=$CG_PREFIX-c$n; }

B=$T/b
bundle "$B" sleep 1000

# ---- kill: signal 0, names and numbers ----------------------------------
kills() {
	local r=$1 s
	newid
	rt "$r" run -d --bundle "$B" "$id" >/dev/null 2>&1 || return 1
	for s in 0 USR1 usr1 SIGUSR1 sigusr1 10 99 bogus KILL; do
		rt "$r" kill "$id" "$s"
		echo "kill $s: $?"
	done
	wait_state "$r" "$id" stopped
	rt "$r" kill "$id" 0
	echo "kill 0 when stopped: $?"
	rt "$r" delete "$id"
}
same "kill: 0 checks liveness; names, numbers, a bad number, a bad name" rc \
	'^kill 0: 0$' kills
expect_eq "kill: each status as runc's" "$(grep '^kill' "$T/out.runc")" "$(grep '^kill' "$T/out.fcrun")"

# ---- output people and engines read --------------------------------------
version() { rt "$1" --version | grep -E '^([a-z]+ version|spec:) ' | sed -E 's/^([a-z]+ version|spec:) .*/\1 X/'; rt "$1" -v | head -n1 | cut -d' ' -f1,2; }
same "--version and -v: \"RT version X.Y.Z\" and a \"spec:\" line" out '^RT version X$' version
helps() {
	local r=$1
	rt "$r" --help | sed -n '1,2p;/^USAGE:/,+1p;/^COMMANDS:/p'
	echo "rc $?"
	rt "$r" | head -n 1
	rt "$r" help | head -n 1
	rt "$r" kill --help | sed -n '1,5p;/^OPTIONS:/,+1p' | sed 's/ \{2,\}/  /g'
	rt "$r" help kill | head -n 2
	rt "$r" kill -h | head -n 2
}
same "--help, no command, help, COMMAND --help, help COMMAND, COMMAND -h (runc's layout)" rc \
	'^   RT kill - kill sends the specified signal' helps
expect_eq "COMMAND --help: NAME, USAGE and OPTIONS as runc prints them" \
	"$(sed '1,/^rc /d' "$T/out.runc" | grep -E '^(NAME|USAGE|OPTIONS):|^   RT kill|^   --all, -a')" \
	"$(sed '1,/^rc /d' "$T/out.fcrun" | grep -E '^(NAME|USAGE|OPTIONS):|^   RT kill|^   --all, -a')"
unknown() { rt "$1" nosuchcommand; }
same "an unknown command: runc's words and exit status 3" rc "No help topic for 'nosuchcommand'" unknown
badflag() { rt "$1" --no-such-flag list; echo "global: $?"; rt "$1" kill --no-such-flag x; echo "kill: $?"; rt "$1" kill; echo "no id: $?"; }
same "an unknown flag, a missing argument: exit status 1, the flag named" rc \
	'flag provided but not defined: -no-such-flag' badflag
debug_text() {
	local r=$1
	newid
	rt "$r" --debug run --bundle "$B" "$id" >/dev/null 2>"$T/dbg.$r" &
	wait_state "$r" "$id" running
	rt "$r" kill "$id" KILL
	wait
	# every line runc's (logrus) text: time="..." level=debug msg="..."
	grep -c . "$T/dbg.$r" | sed 's/^[1-9][0-9]*$/lines/'
	grep -vcE '^time="[^"]+" level=(debug|info|warning) msg=".*"( [a-z]+=.*)?$' "$T/dbg.$r"
}
same "--debug: logrus text lines on stderr (level=debug)" out '^lines$' debug_text
debug_json() {
	local r=$1
	newid
	rm -f "$T/log.$r"
	rt "$r" --debug --log "$T/log.$r" --log-format json run -d --bundle "$B" "$id" 2>&1
	echo "stderr and stdout above: none"
	jq -r .level "$T/log.$r" | sort -u
	jq -e -s 'all(has("level") and has("msg") and has("time"))' "$T/log.$r" >/dev/null && echo "keys level, msg, time"
	rt "$r" --debug --log "$T/log2.$r" delete -f "$id" 2>&1
	grep -c 'level=debug' "$T/log2.$r" | sed 's/^[1-9][0-9]*$/lines/'
	grep -vcE '^time="[^"]+" level=[a-z]+ msg=".*"( [a-z]+=.*)?$' "$T/log2.$r"
}
same "--debug --log FILE: JSON lines, and text lines, in the file only" out '^debug$' debug_json

# ---- capabilities: unknown names are skipped with runc's warning ---------
bundle "$T/bcap" sh -c 'grep -E "^Cap(Eff|Bnd)" /proc/self/status'
jqedit "$T/bcap" '.process.capabilities |= with_entries(.value += ["CAP_NO_SUCH_CAP"])'
capsrun() { newid; rt "$1" run --bundle "$T/bcap" "$id"; }
same "unknown capability names: skipped, warned about (runc and crun)" out \
	'level=warning msg="ignoring unknown or unavailable capabilities: \[CAP_NO_SUCH_CAP\]"' capsrun
capexec() {
	local r=$1
	newid
	rt "$r" run -d --bundle "$B" "$id" >/dev/null 2>&1 || return 1
	rt "$r" exec --cap CAP_NO_SUCH_CAP "$id" grep CapEff /proc/self/status 2>"$T/capw.$r"
	echo "exec --cap: $?"
	cat "$T/capw.$r"
	rt "$r" delete -f "$id"
}
same "exec --cap of an unknown name: skipped with the warning" out 'exec --cap: 0' capexec

# ---- exec --pid-file -------------------------------------------------------
pidfile() {
	local r=$1
	newid
	rt "$r" run -d --bundle "$B" "$id" >/dev/null 2>&1 || return 1
	mkdir -p "$T/pf.$r" && cd "$T/pf.$r" || return 1
	rt "$r" exec --pid-file pid.txt "$id" echo Hello from exec
	echo "exec: $?"
	[ "$(cat pid.txt)" -gt 0 ] && [ "$(cat pid.txt)" != "$(rt "$r" state "$id" | jq .pid)" ] && echo "pid.txt: a pid, not the init's"
	rt "$r" exec -d --pid-file pid2.txt "$id" sleep 100
	echo "exec -d: $?"
	# (runc's process may still be its init for a moment)
	for _ in $(seq 100); do
		[ "$(cat "/proc/$(cat pid2.txt)/comm" 2>/dev/null)" = sleep ] && echo "pid2.txt: the process" && break
		sleep 0.05
	done
	rt "$r" exec --pid-file /non-existent/directory "$id" true 2>/dev/null
	echo "unwritable pid file: $?"
	cd "$T" || return 1
	rt "$r" delete -f "$id"
}
same "exec --pid-file (relative, -d, unwritable: 255)" out 'unwritable pid file: 255' pidfile

# ---- exec and noNewPrivileges ------------------------------------------------
# exec inherits the container's noNewPrivileges; --no-new-privs sets it; a
# process.json says its own (and --no-new-privs is ignored with -p, as runc).
bundle "$T/bnnp" sleep 100
exec_nnp() {
	local r=$1 v
	newid
	rt "$r" run -d --bundle "$T/bnnp" "$id" >/dev/null || return 1
	rt "$r" exec "$id" grep NoNewPrivs /proc/self/status
	rt "$r" exec --no-new-privs "$id" grep NoNewPrivs /proc/self/status
	for v in true false; do
		echo "{\"args\": [\"grep\", \"NoNewPrivs\", \"/proc/self/status\"], \"env\": [\"PATH=/bin\"], \"cwd\": \"/\", \"noNewPrivileges\": $v}" >"$T/pnnp.json"
		rt "$r" exec -p "$T/pnnp.json" "$id"
		rt "$r" exec -p "$T/pnnp.json" --no-new-privs "$id"
	done
	rt "$r" delete -f "$id"
}
for nnp in false true; do
	jqedit "$T/bnnp" ".process.noNewPrivileges = $nnp"
	same "exec with the container's noNewPrivileges $nnp: inherited, --no-new-privs, process.json" out \
		'NoNewPrivs:.1' exec_nnp
done

# ---- refused by runc and crun ----------------------------------------------
bundle "$T/bref" true
jqedit "$T/bref" '.linux.sysctl = {"kernel.hostname": "other"}'
refuse() { newid; rt "$1" run --bundle "$2" "$id"; }
same "sysctl kernel.hostname against the hostname field: refused" rc \
	'sysctl "kernel.hostname" is not allowed as it conflicts with the OCI "hostname" field' refuse "$T/bref"
bundle "$T/bdom" cat /proc/sys/kernel/domainname
jqedit "$T/bdom" '.linux.sysctl = {"kernel.domainname": "dom.example"}'
same "sysctl kernel.domainname in the container's UTS namespace: set" out '^dom.example$' refuse "$T/bdom"
if [ "$(stat -f -c %T /sys/fs/cgroup)" != cgroup2fs ]; then
	bundle "$T/buni" true
	jqedit "$T/buni" '.linux.resources.memory = {"limit": 67108864} | .linux.resources.unified = {"memory.max": "67108864"}'
	same "cgroup v1 resources with unified on a v1/hybrid host: invalid configuration" rc \
		'invalid configuration: cannot use unified on cgroup v1' refuse "$T/buni"
else
	ok "# SKIP unified resources on a v1 host: this host is cgroup v2"
fi
# The image's /proc or /sys a symlink: procfs and sysfs would follow it and
# the masked paths with them.
bundle "$T/bpsym" true
rmdir "$T/bpsym/rootfs/proc" && ln -s /tmp "$T/bpsym/rootfs/proc"
same "maskedPaths with /proc in the rootfs a symlink: refused" rc \
	'filesystem "proc" must be mounted on ordinary directory' refuse "$T/bpsym"
rm "$T/bpsym/rootfs/proc" && mkdir "$T/bpsym/rootfs/proc"
rmdir "$T/bpsym/rootfs/sys" && ln -s /tmp "$T/bpsym/rootfs/sys"
same "/sys in the rootfs a symlink: refused" rc 'filesystem "sysfs" must be mounted on ordinary directory' \
	refuse "$T/bpsym"
# --no-pivot must not leave a bare procfs in the container's mount namespace:
# a user namespace inside could mount a fresh /proc without the masked paths.
bundle "$T/bnpv" unshare -r -m -p -f sh -c 'mount -t proc none /proc && echo MOUNTED || echo REFUSED'
jqedit "$T/bnpv" '.process.capabilities.bounding += ["CAP_SETFCAP"] | .process.capabilities.permitted += ["CAP_SETFCAP"] | .process.capabilities.effective += ["CAP_SETFCAP"]'
nopivot() { newid; rt "$1" run --no-pivot --bundle "$T/bnpv" "$id" 2>/dev/null; }
same "--no-pivot: a nested mount -t proc in a user namespace is refused" out '^REFUSED$' nopivot

# ---- hooks: where and with what they run ------------------------------------
# Each hook appends "KIND cwd=... env=..." to a log; createContainer and
# startContainer run in the container and write to its /hk.log.
hookcmd() {
	printf '{"path": "/bin/sh", "args": ["sh", "-c", "echo %s cwd=$(pwd) env=$(env | grep -E \\"^(FCTEST|PATH|TERM|A)=\\" | sort | tr \\"\\\\n\\" \\" \\") >> %s"]%s}' \
		"$1" "$2" "${3:+, \"env\": $3}"
}
hk() {
	local r=$1
	newid
	rm -f "$T/hook.log" "$T/bh/rootfs/hk.log"
	(cd "$T/elsewhere" && FCTEST=from-runtime rt "$r" run --bundle "$T/bh" "$id") || return 1
	sed "s|$T|T|g" "$T/hook.log" "$T/bh/rootfs/hk.log"
}
bundle "$T/bh" true
mkdir -p "$T/elsewhere"
jqedit "$T/bh" ".root.readonly = false | .hooks = {
	\"prestart\": [$(hookcmd prestart "$T/hook.log")],
	\"createRuntime\": [$(hookcmd createRuntime "$T/hook.log")],
	\"createContainer\": [$(hookcmd createContainer "$T/bh/rootfs/hk.log")],
	\"startContainer\": [$(hookcmd startContainer /hk.log)],
	\"poststart\": [$(hookcmd poststart "$T/hook.log" '["A=1"]')],
	\"poststop\": [$(hookcmd poststop "$T/hook.log")]}"
same "hooks: the bundle as cwd; the runtime's environment, the container's (in it), or their own env" out \
	'^prestart cwd=T/bh env=FCTEST=from-runtime' hk
grep -q '^poststart ' "$T/out.fcrun"
expect_eq "fcrun run runs the poststart hooks (it did not)" 0 $?
bundle "$T/bhf" true
jqedit "$T/bhf" '.hooks = {"createRuntime": [{"path": "/bin/true"}, {"path": "/bin/sh", "args": ["sh", "-c", "echo out; echo err >&2; exit 3"]}]}'
same "a failing hook: its output is collected into the error, not printed" rc \
	'error running createRuntime hook #1: `/bin/sh`: exit status 3, stdout: out\\n, stderr: err\\n$' refuse "$T/bhf"
grep -qx 'out' "$T/out.fcrun"
expect_eq "...and its stdout does not reach ours" 1 $?
bundle "$T/bht" true
jqedit "$T/bht" '.hooks = {"prestart": [{"path": "/bin/sleep", "args": ["sleep", "30"], "timeout": 1}]}'
same "a hook past its timeout: killed, and said so" rc 'hook ran past specified timeout of 1.0s' refuse "$T/bht"

# ---- systemd: NOTIFY_SOCKET proxied, LISTEN_FDS passed ----------------------
# A host "systemd": a datagram socket whose messages go to a file, one per line.
host_notify() {
	python3 - "$T/host-notify.sock" "$T/host-notify.log" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(60)
with open(sys.argv[2], "a") as f:
    while True:
        try:
            m = s.recv(4096)
        except socket.timeout:
            break
        f.write(m.decode()); f.flush()
PY
	notifier=$!
	for _ in $(seq 100); do [ -S "$T/host-notify.sock" ] && break; sleep 0.05; done
}
# the MAINPID line, named: the init's pid, or the runtime's own
mainpid_is() { sed -e "s/^MAINPID=$2\$/MAINPID=$1/" "$T/host-notify.log"; }
if cc -static -O2 -o "$T/sd-notify" "$FC_SOURCE_ROOT/tests/lib/sd-notify.c" 2>"$T/cc.log"; then
	host_notify
	helpers+=("$notifier")
	bundle "$T/bsd" sh -c 'sleep 0.5; /sd-notify "STATUS=starting"; /sd-notify "READY=1"; sleep 100'
	cp "$T/sd-notify" "$T/bsd/rootfs/sd-notify"
	sd_detached() {
		local r=$1
		newid
		: >"$T/host-notify.log"
		NOTIFY_SOCKET=$T/host-notify.sock rt "$r" run -d --bundle "$T/bsd" "$id"
		echo "run -d: $?"
		# run -d came back only after READY
		mainpid_is init "$(rt "$r" state "$id" | jq .pid)"
		rt "$r" delete -f "$id"
	}
	same "NOTIFY_SOCKET: run -d waits for the container's READY=1, then passes it on with MAINPID (the init)" out \
		'^MAINPID=init$' sd_detached
	sd_create_start() {
		local r=$1
		newid
		: >"$T/host-notify.log"
		NOTIFY_SOCKET=$T/host-notify.sock rt "$r" create --bundle "$T/bsd" "$id"
		echo "create: $?"
		NOTIFY_SOCKET=$T/host-notify.sock rt "$r" start "$id"
		echo "start: $?"
		mainpid_is init "$(rt "$r" state "$id" | jq .pid)"
		rt "$r" delete -f "$id"
	}
	same "NOTIFY_SOCKET: create + start: start passes READY=1 and the init's MAINPID on" out \
		'^READY=1$' sd_create_start
	bundle "$T/bsdf" sh -c 'echo "NOTIFY_SOCKET=$NOTIFY_SOCKET"; grep " /run/notify " /proc/self/mounts | cut -d" " -f4 | cut -d, -f1; /sd-notify "READY=1"; sleep 0.5; echo done'
	cp "$T/sd-notify" "$T/bsdf/rootfs/sd-notify"
	sd_foreground() {
		local r=$1 bin=$RUNC root=$RR
		[ "$r" = fcrun ] && bin=$FCRUN root=$ROOT
		newid
		: >"$T/host-notify.log"
		(NOTIFY_SOCKET=$T/host-notify.sock exec "$bin" --root "$root" run --bundle "$T/bsdf" "$id") &
		local pid=$!
		wait "$pid"
		echo "run: $?"
		mainpid_is runtime "$pid"
	}
	same "NOTIFY_SOCKET: run in the foreground: READY=1, MAINPID the runtime's own (it stays), the socket at /run/notify (ro)" out \
		'^NOTIFY_SOCKET=/run/notify/notify.sock$' sd_foreground
	kill "$notifier" 2>/dev/null
	wait "$notifier" 2>/dev/null
else
	ok "# SKIP NOTIFY_SOCKET: no static C build here ($(tail -n1 "$T/cc.log"))"
fi
bundle "$T/blf" sh -c 'echo LISTEN_PID=$LISTEN_PID LISTEN_FDS=$LISTEN_FDS; ls /proc/self/fd | tr "\n" " "; echo; cat <&3'
listenfds() {
	local r=$1 bin=$RUNC root=$RR
	[ "$r" = fcrun ] && bin=$FCRUN root=$ROOT
	newid
	bash -c 'exec 3<"$1" 4<"$1"; export LISTEN_FDS=1 LISTEN_PID=$$; shift; exec "$@"' - "$T/blf/config.json" \
		"$bin" --root "$root" run --bundle "$T/blf" "$id" | head -c 100
}
same "socket activation: LISTEN_FDS passed, LISTEN_PID=1 in the container, fd 3 its socket" out \
	'^LISTEN_PID=1 LISTEN_FDS=1$' listenfds
# crun keeps the caller's groups with run.oci.keep_original_groups=1 (podman's
# --group-add keep-groups); runc ignores the annotation, and so does fcrun.
bundle "$T/bkg" grep Groups /proc/self/status
jqedit "$T/bkg" '.annotations = {"run.oci.keep_original_groups": "1"}'
keepgroups() {
	local r=$1 bin=$RUNC root=$RR
	[ "$r" = fcrun ] && bin=$FCRUN root=$ROOT
	newid
	setpriv --groups 10,20 "$bin" --root "$root" run --bundle "$T/bkg" "$id"
}
same "run.oci.keep_original_groups: the caller's groups (10, 20) are not kept (runc; crun keeps them)" out \
	'^Groups:[[:space:]]*$' keepgroups

# ---- stdio and the terminal belong to the container's user ----------------
# A --console-socket receiver: takes each pty master and drains it.
python3 - "$T/console.sock" <<'PY' &
import array, os, socket, sys, threading
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(16)
def drain(fd):
    try:
        while os.read(fd, 4096): pass
    except OSError: pass
while True:
    c, _ = s.accept()
    fds = array.array("i")
    _, anc, _, _ = c.recvmsg(1024, socket.CMSG_LEN(4 * fds.itemsize))
    for _, _, data in anc:
        fds.frombytes(data[:len(data) - len(data) % fds.itemsize])
    for fd in fds:
        threading.Thread(target=drain, args=(fd,), daemon=True).start()
    c.close()
PY
recvtty=$!
helpers+=("$recvtty")
for _ in $(seq 100); do [ -S "$T/console.sock" ] && break; sleep 0.05; done
bundle "$T/btty" sh -c 'ls -ln $(tty) | cut -c1-10,15-40 >/tmp/run.tty; sleep 100'
jqedit "$T/btty" '.process.terminal = true | .process.user = {"uid": 1000, "gid": 1000} | .root.readonly = false'
ttyown() {
	local r=$1
	newid
	rm -f "$T/btty/rootfs/tmp/"*.tty
	rt "$r" run -d --console-socket "$T/console.sock" --bundle "$T/btty" "$id" || return 1
	for _ in $(seq 100); do [ -s "$T/btty/rootfs/tmp/run.tty" ] && break; sleep 0.05; done
	rt "$r" exec -t -d --console-socket "$T/console.sock" -u 1001:1002 "$id" sh -c 'ls -ln $(tty) | cut -c1-10,15-40 >/tmp/exec.tty'
	rt "$r" exec -t -d --console-socket "$T/console.sock" "$id" sh -c 'ls -ln $(tty) | cut -c1-10,15-40 >/tmp/exec2.tty'
	for _ in $(seq 100); do [ -s "$T/btty/rootfs/tmp/exec.tty" ] && [ -s "$T/btty/rootfs/tmp/exec2.tty" ] && break; sleep 0.05; done
	sed 's/ *[0-9]*, *[0-9]* .*//' "$T/btty/rootfs/tmp/run.tty" "$T/btty/rootfs/tmp/exec.tty" "$T/btty/rootfs/tmp/exec2.tty"
	rt "$r" delete -f "$id"
}
same "a terminal belongs to the process's user (run; exec -u 1001:1002; exec), its group kept" out \
	'^crw--w----1 1001 +5$' ttyown
bundle "$T/bstd" sh -c 'id -u; echo to-stdout >/dev/stdout && echo to-stderr >/dev/stderr'
jqedit "$T/bstd" '.process.user = {"uid": 1000, "gid": 1000}'
stdio_pipes() {
	local r=$1
	newid
	# stdout and stderr: two pipes (runc's own in the foreground; ours)
	rt "$r" run --bundle "$T/bstd" "$id" 2> >(cat >"$T/stderr.$r") | cat
	sleep 0.2
	cat "$T/stderr.$r"
	rt "$r" run -d --bundle "$B" "$id-x" >/dev/null 2>&1 || return 1
	rt "$r" exec -u 1000 "$id-x" sh -c 'echo exec-stdout >/dev/stdout' | cat
	rt "$r" exec -d -u 1000:1000 "$id-x" id </dev/null >/dev/null 2>&1
	stat -c 'host /dev/null %u:%g' /dev/null
	rt "$r" delete -f "$id-x"
}
same "a non-root process can open /dev/stdout on a pipe (run, exec); the host's /dev/null stays root's" out \
	'^host /dev/null 0:0$' stdio_pipes
hostfile() {
	local r=$1
	newid
	rt "$r" run -d --bundle "$B" "$id" >/dev/null 2>&1 || return 1
	rt "$r" exec -d -u 1000 "$id" true >"$T/hostfile.$r" 2>&1
	sleep 0.2
	stat -c '%u' "$T/hostfile.$r"
	rt "$r" delete -f "$id"
}
hostfile fcrun >"$T/hf" 2>&1
expect_eq "a regular host file given as stdio is left alone (runc makes the container user its owner)" 0 "$(cat "$T/hf")"

# ---- update: device rules with letters runc ignores ("rwa") ----------------
bundle "$T/bupd" sh -c 'while true; do head -c 100 /dev/kmsg 2>/dev/null; sleep 0.05; done'
jqedit "$T/bupd" '.linux.resources.devices = [{"allow": false, "access": "rwm"}, {"allow": false, "type": "c", "major": 1, "minor": 11, "access": "rwa"}]
	| .linux.devices = [{"path": "/dev/kmsg", "type": "c", "major": 1, "minor": 11}]
	| .process.capabilities.bounding += ["CAP_SYSLOG"] | .process.capabilities.effective += ["CAP_SYSLOG"]
	| .process.capabilities.permitted += ["CAP_SYSLOG"]'
upd_rwa() {
	local r=$1 i
	newid
	rt "$r" run -d --bundle "$T/bupd" "$id" >"$T/upd.$r" 2>&1
	echo "run -d: $?"
	# each update re-applies the device rules; no read of /dev/kmsg may pass
	for i in $(seq 20); do rt "$r" update --pids-limit 30 "$id" || echo "update $i failed"; done
	sleep 0.3
	echo "container output: $(wc -c <"$T/upd.$r") bytes"
	rt "$r" delete -f "$id"
}
same "device rule access \"rwa\": accepted (runc ignores the a), kmsg stays denied through 20 updates" out \
	'^container output: 0 bytes$' upd_rwa

# ---- a cgroup that exists already (linux.cgroupsPath) ----------------------
# The freezer: v1's hierarchy (freezer.state), else cgroup2 (cgroup.freeze).
cgfreezer() {
	if [ -d /sys/fs/cgroup/freezer ]; then echo /sys/fs/cgroup/freezer; else echo /sys/fs/cgroup; fi
}
FZ=$(cgfreezer)
frozen() {
	local r=$1 cg=/$CG_PREFIX-frozen-$1
	newid
	mkdir -p "$FZ$cg"
	if [ "$FZ" != /sys/fs/cgroup ]; then echo FROZEN >"$FZ$cg/freezer.state"; else echo 1 >"$FZ$cg/cgroup.freeze"; fi
	bundle "$T/bfz-$r" true
	jqedit "$T/bfz-$r" ".linux.cgroupsPath = \"$cg\""
	timeout 30 "$(rtbin "$r")" --root "$(rtroot "$r")" run -d --bundle "$T/bfz-$r" "$id"
	echo "run -d: $?"
	timeout 30 "$(rtbin "$r")" --root "$(rtroot "$r")" create --bundle "$T/bfz-$r" "$id-c"
	echo "create: $?"
	if [ "$FZ" != /sys/fs/cgroup ]; then echo THAWED >"$FZ$cg/freezer.state"; else echo 0 >"$FZ$cg/cgroup.freeze"; fi
	rt "$r" delete -f "$id" >/dev/null 2>&1
	rt "$r" delete -f "$id-c" >/dev/null 2>&1
	rmdir "$FZ$cg"
	ls -d /sys/fs/cgroup/*"$cg" /sys/fs/cgroup"$cg" 2>/dev/null
}
rtbin() { if [ "$1" = runc ]; then echo "$RUNC"; else echo "$FCRUN"; fi; }
rtroot() { if [ "$1" = runc ]; then echo "$RR"; else echo "$ROOT"; fi; }
same "a frozen cgroup named by cgroupsPath: refused at once (fcrun hung), nothing left" out \
	"container's cgroup unexpectedly frozen" frozen
shared() {
	local r=$1 cg=/$CG_PREFIX-shared-$1
	newid
	bundle "$T/bsh-$r" sleep 100
	jqedit "$T/bsh-$r" ".linux.cgroupsPath = \"$cg\""
	# (into files: the containers keep what they are given as stdio open)
	rt "$r" run -d --bundle "$T/bsh-$r" "$id-a" >"$T/sh-a.$r" 2>&1 || return 1
	rt "$r" run -d --bundle "$T/bsh-$r" "$id-b" >"$T/sh-b.$r" 2>&1
	echo "second run -d: $?"
	grep 'not empty' "$T/sh-b.$r"
	rt "$r" delete -f "$id-b" >/dev/null 2>&1
	rt "$r" delete -f "$id-a" >/dev/null 2>&1
}
same "a cgroup that is not empty: a warning with the count, as runc 1.1 (1.2 refuses it)" out \
	"level=warning msg=\"container's cgroup is not empty: 1 process\(es\) found\"" shared

# ---- mounts: where runc makes them, read-only /dev and tmpfs, user namespaces
# One bundle per runtime here: a runtime may create files in the rootfs.
dangling() {
	local r=$1 b=$T/bdl-$1
	newid
	rm -rf "$b"
	bundle "$b" sh -c 'readlink /etc/resolv.conf; cat /etc/resolv.conf; grep -E " /var/lib/data " /proc/self/mounts | cut -d" " -f2,3'
	rm -f "$b/rootfs/etc/resolv.conf"
	ln -s /run/systemd/resolve/stub-resolv.conf "$b/rootfs/etc/resolv.conf"
	ln -s /var/lib/data "$b/rootfs/data"
	echo "nameserver 192.0.2.1" >"$T/resolv.src"
	jqedit "$b" ".mounts += [{\"destination\": \"/etc/resolv.conf\", \"type\": \"bind\", \"source\": \"$T/resolv.src\", \"options\": [\"bind\", \"ro\"]},
		{\"destination\": \"/data\", \"type\": \"tmpfs\", \"source\": \"tmpfs\"}]"
	rt "$r" run --bundle "$b" "$id"
	(cd "$b/rootfs" && find run var -newer "$T/resolv.src" | sort)
}
same "a mount destination that is a symlink to nothing (a file, a directory): its target is made in the rootfs" out \
	'^/var/lib/data tmpfs$' dangling
dangling_rel() {
	local r=$1 b=$T/brel-$1
	newid
	rm -rf "$b"
	bundle "$b" sh -c 'readlink /etc/resolv.conf; cat /etc/resolv.conf; readlink /data; grep -E " /srv/x/data " /proc/self/mounts | cut -d" " -f2,3'
	rm -f "$b/rootfs/etc/resolv.conf"
	ln -s ../run/resolve/stub.conf "$b/rootfs/etc/resolv.conf"
	ln -s srv/x/data "$b/rootfs/data"
	echo "nameserver 192.0.2.1" >"$T/resolv.src"
	jqedit "$b" ".mounts += [{\"destination\": \"/etc/resolv.conf\", \"type\": \"bind\", \"source\": \"$T/resolv.src\", \"options\": [\"bind\", \"ro\"]},
		{\"destination\": \"/data\", \"type\": \"tmpfs\", \"source\": \"tmpfs\"}]"
	rt "$r" run --bundle "$b" "$id"
	(cd "$b/rootfs" && find run srv -newer "$T/resolv.src" | sort)
}
same "...and relative links, resolved from the link's directory" out '^/srv/x/data tmpfs$' dangling_rel
# A link leading out of the rootfs (an image's): what it names is made inside.
dangling_out() {
	local r=$1 b=$T/bout-$1
	newid
	rm -rf "$b" "$T/escape-$r"
	bundle "$b" sh -c 'grep -c " /etc/x.conf " /proc/self/mounts'
	ln -s "../../../../../../../../..$T/escape-$r/x.conf" "$b/rootfs/etc/x.conf"
	jqedit "$b" ".mounts += [{\"destination\": \"/etc/x.conf\", \"type\": \"bind\", \"source\": \"$T/resolv.src\", \"options\": [\"bind\", \"ro\"]}]"
	rt "$r" run --bundle "$b" "$id"
	[ -e "$T/escape-$r" ] && echo "made on the host" || echo "not on the host"
	[ -f "$b/rootfs$T/escape-$r/x.conf" ] && echo "made in the rootfs"
}
same "...a link leading out of the rootfs: its target made inside, not on the host" out \
	'^not on the host$' dangling_out
bundle "$T/bdro" sh -c 'grep -E " /dev(/pts|/shm|/mqueue)? " /proc/self/mounts | cut -d" " -f2,4 | cut -d, -f1; ls /dev | tr "\n" " "; echo; touch /dev/x 2>&1; tty'
jqedit "$T/bdro" '.mounts |= map(if .destination == "/dev" then .options += ["ro"] else . end)'
devro() { newid; rt "$1" run --bundle "$T/bdro" "$id"; }
same "a read-only /dev: devices and the mounts below it made first (mkdir /dev/pts failed)" out '^/dev ro$' devro
bundle "$T/bdrot" sleep 100
jqedit "$T/bdrot" '.process.terminal = true | .mounts |= map(if .destination == "/dev" then .options += ["ro"] else . end)'
devro_tty() {
	newid
	rt "$1" run -d --console-socket "$T/console.sock" --bundle "$T/bdrot" "$id" || return 1
	sleep 0.3
	rt "$1" exec "$id" sh -c 'grep " /dev " /proc/self/mounts | cut -d" " -f4 | cut -d, -f1; grep -c " /dev/console " /proc/self/mounts'
	rt "$1" delete -f "$id"
}
same "a read-only /dev with a terminal: /dev/console still bound" out '^ro$' devro_tty
bundle "$T/btro" sh -c 'grep -E " /data(/sub)? " /proc/self/mounts | cut -d" " -f2,4 | cut -d, -f1; touch /data/x 2>&1'
jqedit "$T/btro" '.mounts += [{"destination": "/data", "type": "tmpfs", "source": "tmpfs", "options": ["ro"]},
	{"destination": "/data/sub", "type": "tmpfs", "source": "tmpfs"}]'
tmpfsro() { newid; rt "$1" run --bundle "$T/btro" "$id"; }
same "a read-only tmpfs with a mount below it: read-only at the end, as runc" out '^/data ro$' tmpfsro
if [ -d /sys/fs/cgroup/memory ]; then
	bundle "$T/bcgt" sh -c 'grep " /sys/fs/cgroup" /proc/self/mounts | cut -d" " -f2,4 | cut -d, -f1 | sort; ls /sys/fs/cgroup | tr "\n" " "'
	cgtmpfs() { newid; rt "$1" run --bundle "$T/bcgt" "$id"; }
	same "cgroup v1: the tmpfs at /sys/fs/cgroup read-write, the hierarchies read-only, no cgroup2 tree (runc)" out \
		'^/sys/fs/cgroup rw$' cgtmpfs
fi
# linux.devices: mode and owner as asked; in a user namespace bound from the
# host, owned by whom the host's node belongs to.
devices_owner() {
	local r=$1 b=$T/bdev-$1
	newid
	rm -rf "$b"
	bundle "$b" sh -c 'ls -ln /dev/zero /dev/fuse /dev/loop0 /dev/null | cut -c1-11,15-40'
	jqedit "$b" '.linux.devices = [{"path": "/dev/zero", "type": "c", "major": 1, "minor": 5, "fileMode": 384, "uid": 7, "gid": 8},
		{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "uid": 1000},
		{"path": "/dev/loop0", "type": "b", "major": 7, "minor": 0, "fileMode": 432, "gid": 6}]'
	[ "${2:-}" = userns ] && jqedit "$b" '.linux.namespaces += [{"type": "user"}]
		| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .mounts |= map(select(.destination != "/sys/fs/cgroup"))' && chown -R 100000:100000 "$b/rootfs"
	rt "$r" run --bundle "$b" "$id"
}
chmod 755 "$T"
same "linux.devices: fileMode, uid and gid of each node" out '^crw------- 1 7 +8 +1, ' devices_owner
if [ -e /dev/fuse ] && [ -e /dev/loop0 ]; then
	same "linux.devices in a user namespace: the host's nodes, their owners unmapped" out \
		'^brw------- 1 65534 +65534 +7, ' devices_owner userns
else
	ok "# SKIP linux.devices in a user namespace: the host has no /dev/fuse or /dev/loop0"
fi
# A default device (/dev/zero) named in linux.devices loses its default
# cgroup rule: with "deny all" and no rule of its own, it cannot be opened.
bundle "$T/bdz" sh -c 'head -c 1 /dev/zero | wc -c; head -c 1 /dev/full | wc -c'
jqedit "$T/bdz" '.linux.devices = [{"path": "/dev/zero", "type": "c", "major": 1, "minor": 5, "fileMode": 438}]'
devzero() { newid; rt "$1" run --bundle "$T/bdz" "$id"; }
same "a default device named in linux.devices: its default cgroup rule dropped (runc)" out \
	'/dev/zero: Operation not permitted' devzero
# A bind source below a directory only the host's root may enter: runc opens
# it before the init joins the container's user namespace.
mkdir -p "$T/priv/data"
chmod 700 "$T/priv"
echo reachable >"$T/priv/data/f"
userns_bind() {
	local r=$1 b=$T/bun-$1
	newid
	rm -rf "$b"
	bundle "$b" sh -c 'cat /mnt/f; grep " /mnt " /proc/self/mounts | cut -d" " -f4 | cut -d, -f1'
	jqedit "$b" ".linux.namespaces += [{\"type\": \"user\"}]
		| .linux.uidMappings = [{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}]
		| .linux.gidMappings = [{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}]
		| .mounts |= map(select(.destination != \"/sys/fs/cgroup\"))
		| .mounts += [{\"destination\": \"/mnt\", \"type\": \"bind\", \"source\": \"$T/priv/data\", \"options\": [\"rbind\", \"ro\"]}]"
	chown -R 100000:100000 "$b/rootfs"
	rt "$r" run --bundle "$b" "$id"
}
same "user namespace: a bind source the container's root could not reach is mounted (read-only)" out \
	'^reachable$' userns_bind

# ---- seccomp notify: an agent (tests/lib/seccomp-agent.py) ------------------
agent_log=$T/agent.log
python3 "$FC_SOURCE_ROOT/tests/lib/seccomp-agent.py" "$T/agent.sock" "$agent_log" 2>"$T/agent.err" &
agent=$!
helpers+=("$agent")
for _ in $(seq 100); do [ -S "$T/agent.sock" ] && break; sleep 0.05; done
# notify_bundle DIR NNP SYSCALLS-JSON ARGS...: the agent makes PATH-bar for
# a notified mkdir PATH (listenerMetadata "bar") and fails chmod (ENOMEDIUM).
notify_bundle() {
	local d=$1 nnp=$2 sc=$3
	shift 3
	bundle "$d" "$@"
	jqedit "$d" ".process.noNewPrivileges = $nnp | .linux.seccomp = {\"defaultAction\": \"SCMP_ACT_ALLOW\",
		\"listenerPath\": \"$T/agent.sock\", \"listenerMetadata\": \"bar\",
		\"architectures\": [\"SCMP_ARCH_X86\", \"SCMP_ARCH_X32\", \"SCMP_ARCH_X86_64\"],
		\"syscalls\": [{\"names\": $sc, \"action\": \"SCMP_ACT_NOTIFY\"}]}"
}
for nnp in false true; do
	notify_bundle "$T/sn-$nnp" $nnp '["mkdir", "mkdirat"]' sh -c 'mkdir /dev/shm/foo && ls /dev/shm'
	same "seccomp notify (noNewPrivileges $nnp): the agent answers the container's mkdir" out \
		'^foo-bar$' refuse "$T/sn-$nnp"
	notify_bundle "$T/se-$nnp" $nnp '["mkdir", "mkdirat"]' sleep 1000
	notify_exec() {
		newid
		: >"$agent_log"
		rt "$1" run -d --bundle "$2" "$id" || return 1
		rt "$1" exec "$id" sh -c 'mkdir /dev/shm/foo && ls /dev/shm'
		echo "exec: $?"
		rt "$1" delete -f "$id"
		# one connection for the init, one for the exec (its pid not the init's)
		sleep 0.2
		cut -d' ' -f1,2,5 "$agent_log" | sort
	}
	same "seccomp notify (noNewPrivileges $nnp): the agent gets the exec's notifications" out \
		'^seccompFd bar other$' notify_exec "$T/se-$nnp"
	notify_bundle "$T/si-$nnp" $nnp '["execve", "openat", "open", "read", "close", "fcntl"]' true
	same "seccomp notify (noNewPrivileges $nnp): the runtime's own last system calls notified" out '' \
		refuse "$T/si-$nnp"
done
notify_bundle "$T/sc" false '["chmod", "fchmod", "fchmodat"]' sh -c 'touch /dev/shm/f && chmod 777 /dev/shm/f'
same "seccomp notify: the agent's error reaches the process" out 'No medium found' refuse "$T/sc"
notify_bundle "$T/sw" false '["write"]' true
same "seccomp notify on write: refused (runc and crun)" rc \
	'SCMP_ACT_NOTIFY cannot be used for the write syscall' refuse "$T/sw"
notify_bundle "$T/snl" false '["mkdir"]' true
jqedit "$T/snl" '.linux.seccomp.listenerPath = "/nonexistent/agent.sock"'
same "seccomp notify without an agent on listenerPath: a clear error" rc \
	'failed to connect with seccomp agent' refuse "$T/snl"
jqedit "$T/snl" '.linux.seccomp.listenerPath = ""'
same "seccomp notify with an empty listenerPath: refused" rc 'listenerPath' refuse "$T/snl"
jqedit "$T/snl" '.linux.seccomp.listenerPath = "/nonexistent/agent.sock" | .linux.seccomp.syscalls = []'
same "listenerPath without a notify action: ignored" out '' refuse "$T/snl"
# startContainer hooks run under the container's filter (their mkdir is
# notified) and get no descriptor but stdio.
for nnp in false true; do
	notify_bundle "$T/sh-$nnp" $nnp '["mkdir", "mkdirat"]' ls /dev/shm
	jqedit "$T/sh-$nnp" '.hooks = {"startContainer": [{"path": "/bin/sh", "args": ["sh", "-c",
		"mkdir /dev/shm/hook; [ $(ls /proc/self/fd/ | wc -l) -eq 4 ] || { ls -l /proc/self/fd; exit 1; }"]}]}'
	same "seccomp notify (noNewPrivileges $nnp): a startContainer hook runs under the filter, with stdio only" out \
		'^hook-bar$' refuse "$T/sh-$nnp"
done
kill "$agent" 2>/dev/null
wait "$agent" 2>/dev/null

done_testing
