#!/bin/bash
# e2e: Kubernetes through containerd's CRI, without a kubelet. A private
# containerd with its CRI plugin on has two runtime handlers: "runc" (the
# default) and "fcrun", the RuntimeClass handler of contrib/containerd-config.toml
# (io.containerd.runc.v2 with BinaryName = fcrun). A small CRI client
# (cri/cri-client.py, Debian's python3-grpcio, the CRI messages of
# cri/runtime-v1.proto compiled at test time with python3-grpc-tools) makes
# the kubelet's calls: RunPodSandbox, CreateContainer, StartContainer,
# ExecSync, ContainerStatus, StopContainer, RemoveContainer, StopPodSandbox,
# RemovePodSandbox; one pod per handler, and each check compares the fcrun
# pod with the runc pod (output and exit code).
#
# Offline: the pod sandbox ("pause") image is a busybox image built here that
# sleeps, imported with ctr into the k8s.io namespace and named by
# sandbox_image; the pods use the node's network (NamespaceOption network
# NODE, a hostNetwork pod), so no CNI plugin or network config is needed
# (the CNI dirs are empty private ones). containerd's CRI stream server
# (used by kubectl exec/attach, not by ExecSync) listens on 127.0.0.1 only.
# Needs root; installs Debian's containerd, runc, python3-grpcio and
# python3-grpc-tools when missing.
. "$(dirname "$0")/../lib/common.sh"
PY=/usr/bin/python3
E2E_NEEDS="containerd:/usr/bin/containerd containerd:/usr/bin/ctr
	containerd:/usr/bin/containerd-shim-runc-v2 runc:/usr/sbin/runc python3:$PY"
. "$(dirname "$0")/e2e-lib.sh"
E2E_NEEDS="$E2E_NEEDS python3-grpcio:/usr/lib/python3/dist-packages/grpc/__init__.py
	python3-grpc-tools:/usr/lib/python3/dist-packages/grpc_tools/protoc.py"

PAUSE_IMAGE=fcstart.test/pause:e2e
CRI_DIR=$(dirname "$0")/cri
declare -A SB CT

cri() { timeout -k 10 180 "$PY" "$CRI_DIR/cri-client.py" "$E2E/cri-gen" "$E2E/ctd.sock" "$@"; }

# Called by e2e_stop (on every exit): the pods go through the CRI first, then
# the parent cgroups the pods were given (the runtimes make them, nobody
# removes them: a kubelet owns its pod cgroups).
e2e_stop_extra() {
	local r id d
	if [ -n "${CTD_PID:-}" ] && kill -0 "$CTD_PID" 2>/dev/null && [ -d "$E2E/cri-gen" ]; then
		for r in "${!SB[@]}"; do
			id=${SB[$r]}
			[ -n "$id" ] || continue
			cri stopp "$id" >/dev/null 2>&1
			cri rmp "$id" >/dev/null 2>&1
		done
	fi
	return 0
}
rm_pod_cgroups() {
	local d
	for d in /sys/fs/cgroup/*/"$E2E_NS"/cri-* /sys/fs/cgroup/"$E2E_NS"/cri-*; do
		[ -d "$d" ] && rmdir "$d" 2>/dev/null
	done
	return 0
}

e2e_begin
trap 'rc=$?; e2e_stop; rm_pod_cgroups; (exit $rc); cleanup' EXIT
e2e_build_image "$PAUSE_IMAGE" "$E2E/pause.tar" '["sleep", "2147483647"]' ||
	{ echo "Bail out! cannot build the pause image"; exit 1; }

# The CRI messages, compiled now.
mkdir -p "$E2E/cri-gen"
if ! "$PY" -m grpc_tools.protoc -I "$CRI_DIR" --python_out="$E2E/cri-gen" --grpc_python_out="$E2E/cri-gen" \
	"$CRI_DIR/runtime-v1.proto" >"$T/protoc.log" 2>&1; then
	diag <"$T/protoc.log"
	echo "Bail out! protoc (python3-grpc-tools) failed on cri/runtime-v1.proto"
	exit 1
fi
ok "cri/runtime-v1.proto compiled with python3-grpc-tools"

# containerd's CRI configuration: the default handler runc, and fcrun from
# the example config (its path and a private Root put in).
mkdir -p "$E2E/cni/bin" "$E2E/cni/net.d" "$E2E/logs"
restrict=false
[ $(((0x$(awk '/^CapEff/ { print $2 }' /proc/self/status) >> 24) & 1)) = 1 ] || restrict=true
cat >"$E2E/cri.toml" <<EOF
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  # The sandbox's oom_score_adj of -998 needs CAP_SYS_RESOURCE, which this
  # CI's root lacks (runc and fcrun both fail); no lower than containerd's.
  restrict_oom_score_adj = $restrict
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$E2E/cni/bin"
    conf_dir = "$E2E/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "runc"
    snapshotter = "overlayfs"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
      BinaryName = "/usr/sbin/runc"
      Root = "$E2E/runc-root/cri-runc"
EOF
sed -e '/^version *=/d' -e "s|/usr/local/bin/fcrun|$FCRUN|" \
	-e "s|^\( *\)# Root = \"[^\"]*\"|\1Root = \"$E2E/runc-root/cri-fcrun\"|" \
	"$FC_SOURCE_ROOT/contrib/containerd-config.toml" >>"$E2E/cri.toml"
e2e_start_containerd "$E2E/cri.toml" || { echo "Bail out! containerd did not start"; exit 1; }
dump=$("$CONTAINERD" --config "$E2E/containerd.toml" config dump 2>&1)
expect_match "contrib/containerd-config.toml: containerd reads the fcrun runtime handler" \
	"BinaryName = \"$FCRUN\"" "$dump"
out=$(cri version 2>&1)
expect_match "CRI Version answers (runtime.v1)" '"runtime_api_version": "v1' "$out"
ctrk() { "$CTR" --address "$E2E/ctd.sock" --namespace k8s.io "$@"; }
for a in pause image; do
	ctrk image import "$E2E/$a.tar" >"$T/import.log" 2>&1 || { diag <"$T/import.log"; echo "Bail out! ctr image import $a"; exit 1; }
done
if wait_until 30 cri image-status "$PAUSE_IMAGE" && wait_until 30 cri image-status "$E2E_IMAGE"; then
	ok "CRI ImageStatus: the pause and busybox images imported into k8s.io"
else
	not_ok "CRI ImageStatus: the pause and busybox images imported into k8s.io"
fi

# The pod and container configs, the same for both handlers but for names.
podjson() {
	jq -n --arg r "$1" --arg logs "$E2E/logs/$1" --arg cg "/$E2E_NS/cri-$1" '{
		metadata: {name: ("pod-" + $r), uid: ("uid-" + $r), namespace: "fce2e", attempt: 0},
		log_directory: $logs,
		labels: {app: "fce2e"},
		linux: {cgroup_parent: $cg,
			security_context: {namespace_options: {network: "NODE", pid: "CONTAINER", ipc: "POD"}}}}' >"$E2E/pod-$1.json"
}
# ctrjson RUNTIME NAME COMMAND-JSON [SECURITY-CONTEXT-JSON]
ctrjson() {
	jq -n --arg img "$E2E_IMAGE" --arg name "$2" --argjson cmd "$3" --argjson sc "${4:-{\}}" '{
		metadata: {name: $name, attempt: 0},
		image: {image: $img},
		command: $cmd,
		envs: [{key: "FOO", value: "bar"}],
		working_dir: "/tmp",
		log_path: ($name + ".log"),
		linux: {resources: {memory_limit_in_bytes: 67108864, cpu_shares: 512},
			security_context: ({namespace_options: {network: "NODE", pid: "CONTAINER", ipc: "POD"},
				masked_paths: ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware"],
				readonly_paths: ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]} + $sc)}}' \
		>"$E2E/ctr-$1-$2.json"
}
# The runtime's own view of a container: `RUNTIME --root ROOT state ID`.
rtstate() {
	local bin=/usr/sbin/runc
	[ "$1" = fcrun ] && bin=$FCRUN
	"$bin" --root "$E2E/runc-root/cri-$1/k8s.io" state "$2" 2>&1 | jq -r .status
}
cstate() { cri status "$2" | jq -r '.state // "CONTAINER_CREATED"'; }
is_exited() { [ "$(cstate "$1" "$2")" = CONTAINER_EXITED ]; }

# ---- RunPodSandbox ------------------------------------------------------
runp() {
	podjson "$1"
	SB[$1]=$(cri runp "$E2E/pod-$1.json" "$1") || return 1
	echo "${SB[$1]}"
}
compare "RunPodSandbox (handler: the runtime's)" out '^ID$' runp
podstate() { cri podstatus "${SB[$1]}" | jq -r '[.state // "SANDBOX_READY", .metadata.name, .labels.app] | join(" ")'; }
compare "PodSandboxStatus: ready" out '^SANDBOX_READY pod-RUNTIME fce2e$' podstate
expect_eq "PodSandboxStatus: runtime_handler fcrun" fcrun "$(cri podstatus "${SB[fcrun]}" | jq -r .runtime_handler)"
sbrt() { rtstate "$1" "${SB[$1]}"; }
compare "the sandbox (pause) container runs under the handler's runtime" out '^running$' sbrt

# ---- a long-running container: CreateContainer, StartContainer, ExecSync
main_cmd='["sh", "-c", "echo started; echo to-stderr >&2; trap \"echo term; exit 0\" TERM; while :; do sleep 0.2; done"]'
mkmain() {
	ctrjson "$1" main "$main_cmd" '{"run_as_user": {"value": "65534"}, "run_as_group": {"value": "65534"},
		"supplemental_groups": [10, 20], "no_new_privs": true, "readonly_rootfs": true,
		"capabilities": {"drop_capabilities": ["ALL"], "add_capabilities": ["CHOWN", "NET_BIND_SERVICE"]}}'
	CT[$1]=$(cri create "${SB[$1]}" "$E2E/pod-$1.json" "$E2E/ctr-$1-main.json") || return 1
	echo "${CT[$1]}"
	cstate "$1" "${CT[$1]}"
	cri start "${CT[$1]}" || return 1
	cstate "$1" "${CT[$1]}"
}
compare "CreateContainer, StartContainer: created, then running" out '^CONTAINER_RUNNING$' mkmain
ctrrt() { rtstate "$1" "${CT[$1]}"; }
compare "the container runs under the handler's runtime" out '^running$' ctrrt
xs() { local r=$1 to=$2; shift 2; cri exec "${CT[$r]}" "$to" "$@"; }
compare "ExecSync: stdout, stderr, exit code 3" out '^out$' xs 10 sh -c 'echo out; echo err >&2; exit 3'
compare "ExecSync: user, groups, env, cwd" out 'uid=65534' xs 10 sh -c 'id; echo $FOO; pwd'
compare "ExecSync: capabilities, NoNewPrivs, seccomp" out '^NoNewPrivs:[[:space:]]+1$' xs 10 sh -c 'grep -E "^(Cap|NoNewPrivs|Seccomp)" /proc/self/status'
compare "ExecSync: read-only root" out 'Read-only file system' xs 10 sh -c 'touch /x 2>&1; echo $?'
if [ -d /sys/fs/cgroup/memory ]; then
	compare "ExecSync: memory and cpu limits in the container's cgroups" out '^67108864$' xs 10 cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/cpu/cpu.shares
else
	compare "ExecSync: memory and cpu limits in the container's cgroup" out '^67108864$' xs 10 cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/cpu.weight
fi
compare "ExecSync: its own pid namespace (pid CONTAINER), pid 1 the command" out '^sh -c echo started' xs 10 sh -c 'tr "\0" " " </proc/1/cmdline; echo'
compare "ExecSync: mounts, masked and read-only paths, /dev" out '^/proc proc rw$' xs 10 sh -c 'cut -d" " -f2,3,4 /proc/self/mounts | sed "s/,[^ ]*//" | sort; ls /dev | sort; cat /proc/kcore | wc -c'
compare "ExecSync of a missing binary" rc 'nonexistent' xs 10 /nonexistent
compare "ExecSync: a command past its timeout" rc 'DEADLINE_EXCEEDED|timeout' xs 1 sleep 30
logs() { sed -E 's/^[^ ]+ //' "$E2E/logs/$1/$2.log"; }
mainlog() { wait_until 10 grep -q to-stderr "$E2E/logs/$1/main.log"; logs "$1" main; }
compare "the container's log (CRI format)" sorted '^stdout F started$' mainlog
stopmain() {
	cri stop "${CT[$1]}" 10 || return 1
	cri status "${CT[$1]}" | jq -r '[.state, .exit_code // 0, .reason] | join(" ")'
	logs "$1" main | grep term
}
compare "StopContainer (SIGTERM handled): exited 0, Completed" out '^CONTAINER_EXITED 0 Completed$' stopmain

# ---- containers that end by themselves, or cannot start -------------------
exits() {
	ctrjson "$1" exits '["sh", "-c", "echo bye; exit 5"]'
	CT[$1-exits]=$(cri create "${SB[$1]}" "$E2E/pod-$1.json" "$E2E/ctr-$1-exits.json") &&
		cri start "${CT[$1-exits]}" || return 1
	wait_until 30 is_exited "$1" "${CT[$1-exits]}"
	cri status "${CT[$1-exits]}" | jq -r '[.state, .exit_code, .reason] | join(" ")'
	logs "$1" exits
}
compare "a container that exits 5: exited 5, Error, its log" out '^CONTAINER_EXITED 5 Error$' exits
missing() {
	ctrjson "$1" missing '["/nonexistent/binary"]'
	CT[$1-missing]=$(cri create "${SB[$1]}" "$E2E/pod-$1.json" "$E2E/ctr-$1-missing.json") || return 1
	cri start "${CT[$1-missing]}"
}
compare "StartContainer of a missing binary fails" rc 'nonexistent' missing
bundle "$T/missing" /nonexistent/binary
"$FCRUN" --root "$T/state" create -b "$T/missing" own-msg >/dev/null 2>"$T/own.err"
own=$(sed -n 's/^fcrun: //p' "$T/own.err" | tail -n1)
if [ -n "$own" ] && grep -qF -- "$own" "$T/out.fcrun"; then
	ok "the CRI error carries fcrun's own message: $own"
else
	not_ok "the CRI error carries fcrun's own message"
	{ echo "fcrun says: $own"; echo "the CRI said:"; cat "$T/out.fcrun"; } | diag
fi
rmctrs() {
	local k
	for k in "$1" "$1-exits" "$1-missing"; do
		[ -n "${CT[$k]:-}" ] && { cri rm "${CT[$k]}" || return 1; }
	done
	cri status "${CT[$1]}"
}
compare "RemoveContainer: then unknown to the CRI" rc 'NOT_FOUND|not found|does not exist' rmctrs

# ---- StopPodSandbox, RemovePodSandbox ---------------------------------------
stopp() { cri stopp "${SB[$1]}" && cri podstatus "${SB[$1]}" | jq -r '.state // "SANDBOX_READY"'; }
compare "StopPodSandbox: not ready" out '^SANDBOX_NOTREADY$' stopp
rmp() { cri rmp "${SB[$1]}" || return 1; cri podstatus "${SB[$1]}"; }
compare "RemovePodSandbox: then unknown to the CRI" rc 'NOT_FOUND|not found|does not exist' rmp
for r in runc fcrun; do
	SB[$r]=
	left=$(ls -A "$E2E/runc-root/cri-$r/k8s.io" 2>/dev/null)
	expect_eq "no $r state left under the handler's Root" "" "$left"
done
left=$(ctrk task ls -q; ctrk container ls -q)
expect_eq "no containerd task or container left in k8s.io" "" "$left"
rm_pod_cgroups
left=$(e2e_cg_new)
expect_eq "no container cgroups left" "" "$left"
e2e_stop
left=$(our_shims)
expect_eq "containerd and its shims stopped" "" "$left"
left=$(ls -d /sys/fs/cgroup/*/"$E2E_NS" 2>/dev/null)
expect_eq "no /$E2E_NS parent cgroups left" "" "$left"
left=$(grep -c " $E2E" /proc/self/mountinfo)
expect_eq "no mounts left" 0 "$left"
done_testing
