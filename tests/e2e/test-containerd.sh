#!/bin/bash
# e2e: a private containerd runs containers with fcrun (ctr run --runc-binary)
# and each check gives the same output and exit code as with runc.
# Needs root; installs Debian's containerd/docker.io when missing.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/e2e-lib.sh"
e2e_begin
e2e_start_containerd || { echo "Bail out! containerd did not start"; exit 1; }
ctrp image import "$E2E/image.tar" >"$T/import.log" 2>&1 || { diag <"$T/import.log"; echo "Bail out! ctr image import"; exit 1; }
ok "private containerd up, image imported with ctr image import"

n=0
# ctrrun RUNTIME CTR-RUN-ARGS... -- ARGS: ctr run --rm of the image with a
# fresh id; runc from PATH or fcrun through --runc-binary, own --runc-root.
ctrrun() {
	local r=$1 opts=() rb=()
	shift
	n=$((n + 1))
	[ "$r" = fcrun ] && rb=(--runc-binary "$FCRUN")
	while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
	shift
	timeout -k 10 120 "$CTR" --address "$E2E/ctd.sock" --namespace "$E2E_NS" run --rm --fifo-dir "$E2E/fifo" "${rb[@]}" \
		--runc-root "$E2E/runc-root/$r" "${opts[@]}" "$E2E_IMAGE" "e$n-$r" "$@" </dev/null
}

compare "ctr run --rm: /bin/true exits 0" out '' ctrrun -- true
compare "ctr run --rm: exit code 3 comes through" out 'x' ctrrun -- sh -c 'echo x; exit 3'
compare "ctr run --rm: killed by SIGKILL" rc '' ctrrun -- sh -c 'kill -9 $$'
compare "ctr run --env" out '^bar 1$' ctrrun --env FOO=bar --env N=1 -- sh -c 'echo $FOO $N'
compare "ctr run: args, cwd, hostname, uid" out '^a b c$' ctrrun -- sh -c 'echo "$@"; pwd; id -u' sh a b c
compare "ctr run: mounts and namespaces seen inside" out 'proc' ctrrun -- sh -c 'cut -d" " -f2,3 /proc/self/mounts | sort; ls /dev | sort; ip link 2>/dev/null | grep -c "^[0-9]"'
compare "ctr run: /proc/self/status (caps, NoNewPrivs, Seccomp)" out 'CapEff' ctrrun -- sh -c 'grep -E "^(Cap|NoNewPrivs|Seccomp)" /proc/self/status'
# A tty: ctr run -t needs a terminal on its side; script(1) gives it one.
# timeout must be exec'd: script runs \$SHELL -c, and a shell that forks
# leaves timeout in a background process group of the new terminal, where
# ctr's switch to raw mode stops it with SIGTTOU (CI has no SHELL: dash forks).
ctrtty() {
	local r=$1 rb=
	shift
	n=$((n + 1))
	[ "$r" = fcrun ] && rb="--runc-binary $FCRUN"
	SHELL=/bin/sh script -qec "exec timeout -k 10 120 $CTR --address $E2E/ctd.sock --namespace $E2E_NS run --rm -t --fifo-dir $E2E/fifo $rb --runc-root $E2E/runc-root/$r $E2E_IMAGE t$n-$r $*" /dev/null </dev/null
}
compare "ctr run -t: a terminal inside, exit code 4" out '/dev/pts/0' ctrtty "sh -c 'tty; stty size >/dev/null && echo sized; exit 4'"
for r in runc fcrun; do
	left=$(ls -A "$E2E/runc-root/$r/$E2E_NS" 2>/dev/null)
	expect_eq "ctr run --rm leaves no $r state" "" "$left"
done

# fcrun's own message reaches the user (containerd reads the last JSON log line).
bundle "$T/missing" /nonexistent/binary
"$FCRUN" --root "$T/state" create -b "$T/missing" own-msg >/dev/null 2>"$T/own.err"
own=$(sed -n 's/^fcrun: //p' "$T/own.err" | tail -n1)
compare "ctr run of a missing binary fails the same way" rc 'failed' ctrrun -- /nonexistent/binary
if [ -n "$own" ] && grep -qF -- "$own" "$T/out.fcrun"; then
	ok "ctr shows fcrun's own message: $own"
else
	not_ok "ctr shows fcrun's own message"
	{ echo "fcrun says: $own"; echo "ctr printed:"; cat "$T/out.fcrun"; } | diag
fi

# Detached containers: memory limit, exec, ps, pause/resume, kill.
# detached RUNTIME ID ARGS...
detached() {
	local r=$1 id=$2 rb=()
	shift 2
	[ "$r" = fcrun ] && rb=(--runc-binary "$FCRUN")
	timeout -k 10 120 "$CTR" --address "$E2E/ctd.sock" --namespace "$E2E_NS" run -d --fifo-dir "$E2E/fifo" "${rb[@]}" \
		--runc-root "$E2E/runc-root/$r" --memory-limit 67108864 "$E2E_IMAGE" "$id" "$@"
}
taskpid() { ctrp task ls | awk -v id="$1" '$1 == id { print $2 }'; }
taskstatus() { ctrp task ls | awk -v id="$1" '$1 == id { print $3 }'; }
memlimit() {
	local pid path
	pid=$(taskpid "d-$1")
	path=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ { print $3 }' "/proc/$pid/cgroup")
	cat "/sys/fs/cgroup/memory$path/memory.limit_in_bytes"
}
for r in runc fcrun; do
	detached $r "d-$r" sh -c 'trap "exit 9" TERM; while true; do sleep 0.2; done' >"$T/d-$r.log" 2>&1 ||
		{ diag <"$T/d-$r.log"; }
done
if [ "$(taskstatus d-fcrun)" = RUNNING ] && [ "$(taskstatus d-runc)" = RUNNING ]; then
	ok "ctr run -d: task RUNNING under runc and fcrun"
else
	not_ok "ctr run -d: task RUNNING under runc and fcrun"; ctrp task ls | diag
fi
compare "ctr run --memory-limit 64M: the container's memory cgroup limit" out '^67108864$' memlimit

taskexec() { timeout -k 10 60 "$CTR" --address "$E2E/ctd.sock" --namespace "$E2E_NS" task exec --fifo-dir "$E2E/fifo" --exec-id "x$((++n))" "$@"; }
if fcrun_has exec; then
	x_plain() { taskexec "d-$1" sh -c 'echo hello; exit 5'; }
	x_env() { taskexec --cwd /tmp --user 65534 "d-$1" sh -c 'pwd; id -u'; }
	x_tty() { local r=$1; SHELL=/bin/sh script -qec "exec timeout -k 10 60 $CTR --address $E2E/ctd.sock --namespace $E2E_NS task exec -t --fifo-dir $E2E/fifo --exec-id tx$((++n)) d-$r tty" /dev/null </dev/null | grep -a -o '/dev/pts/[0-9]*'; }
	x_missing() { taskexec "d-$1" /nonexistent; }
	compare "ctr task exec: output and exit code 5" out '^hello$' x_plain
	compare "ctr task exec --cwd --user" out '^65534$' x_env
	compare "ctr task exec -t" out '/dev/pts' x_tty
	compare "ctr task exec of a missing binary" rc '' x_missing
else
	skip "ctr task exec" "fcrun exec is not implemented yet"
fi
if fcrun_has ps; then
	psids() { ctrp task ps "d-$1" | awk 'NR > 1 { n++ } END { print (n > 0) ? "pids" : "none" }'; }
	compare "ctr task ps lists the container's processes" out '^pids$' psids
else
	skip "ctr task ps" "fcrun ps is not implemented yet"
fi
if fcrun_has pause && fcrun_has resume; then
	pr() { ctrp task pause "d-$1" && taskstatus "d-$1" && ctrp task resume "d-$1" && taskstatus "d-$1"; }
	compare "ctr task pause/resume" out 'PAUSED' pr
else
	skip "ctr task pause/resume" "fcrun pause/resume are not implemented yet"
fi
is_stopped() { [ "$(taskstatus "$1")" = STOPPED ]; }
killwait() {
	ctrp task kill -s SIGTERM "d-$1" || return 1
	wait_until 30 is_stopped "d-$1" || return 1
	taskstatus "d-$1"
	timeout -k 10 30 "$CTR" --address "$E2E/ctd.sock" --namespace "$E2E_NS" task rm "d-$1"
}
compare "ctr task kill SIGTERM: stops, task rm" out '^STOPPED$' killwait
for r in runc fcrun; do ctrp container rm "d-$r" >/dev/null 2>&1; done
for r in runc fcrun; do
	left=$(ls -A "$E2E/runc-root/$r/$E2E_NS" 2>/dev/null)
	expect_eq "no $r state left after task rm" "" "$left"
done

# The CRI runtime handler of contrib/containerd-config.toml, and pods run
# through it: test-cri.sh.

left=$(e2e_cg_new)
expect_eq "no container cgroups left" "" "$left"
e2e_stop
left=$(our_shims)
expect_eq "containerd and its shims stopped" "" "$left"
left=$(ls -d /sys/fs/cgroup/*/"$E2E_NS" 2>/dev/null)
expect_eq "no /$E2E_NS parent cgroups left" "" "$left"
done_testing
