# tests/e2e/e2e-lib.sh: sourced by the e2e tests and bench/bench-engines.sh.
# Installs Debian's docker.io and containerd when missing, starts PRIVATE
# daemons under a scratch directory ($E2E, set by the caller), builds and
# loads a busybox image, and stops everything again by pid.
#
# The daemons' binaries are always named by full path: another `docker`
# client may come earlier in PATH.
#
# Private means: containerd with its own root, state, gRPC and ttrpc unix
# sockets, no debug/metrics listener, the CRI plugin disabled (it would open a
# TCP stream server); dockerd with its own data-root, exec-root, pidfile and
# unix socket, no TCP, --iptables=false --ip-masq=false --bridge=none
# --ip-forward=false, using the private containerd. Containers get no network
# but loopback (docker --network none; ctr without --net-host or CNI).

DOCKER=/usr/bin/docker
DOCKERD=/usr/sbin/dockerd
CONTAINERD=/usr/bin/containerd
CTR=/usr/bin/ctr
E2E_IMAGE=fcstart.test/busybox:e2e
# The containerd namespace, and the parent cgroup of every container the
# private daemons and podman make (dockerd's cgroup-parent too): one per run,
# so that runs side by side on one host do not see each other's cgroups.
E2E_NS=fce2e-$$

# e2e_install: install the Debian packages of $E2E_NEEDS ("PACKAGE:PATH"
# words; default: docker.io, containerd and runc) whose PATH is missing, with
# apt-get. Services are not started during the install: a temporary
# policy-rc.d refuses them when none exists.
E2E_NEEDS=${E2E_NEEDS:-"docker.io:$DOCKER docker.io:$DOCKERD containerd:$CONTAINERD containerd:$CTR
	containerd:/usr/bin/containerd-shim-runc-v2 runc:/usr/sbin/runc"}
e2e_install() {
	local pb pkgs=()
	for pb in $E2E_NEEDS; do
		[ -e "${pb#*:}" ] && continue
		case " ${pkgs[*]} " in *" ${pb%%:*} "*) ;; *) pkgs+=("${pb%%:*}") ;; esac
	done
	[ ${#pkgs[@]} = 0 ] && return 0
	[ "${FC_E2E_NO_INSTALL:-0}" = 1 ] && { echo "${pkgs[*]} missing and FC_E2E_NO_INSTALL=1"; return 1; }
	[ "$(id -u)" = 0 ] || { echo "${pkgs[*]} missing and not root"; return 1; }
	command -v apt-get >/dev/null || { echo "${pkgs[*]} missing and no apt-get"; return 1; }
	local made_policy=0 rc=0
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && made_policy=1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y --no-install-recommends "${pkgs[@]}" >"$E2E/apt.log" 2>&1 ||
		{ apt-get update >>"$E2E/apt.log" 2>&1 &&
			apt-get install -y --no-install-recommends "${pkgs[@]}" >>"$E2E/apt.log" 2>&1; } || rc=1
	[ $made_policy = 1 ] && rm -f /usr/sbin/policy-rc.d
	[ $rc = 0 ] || { echo "apt-get install ${pkgs[*]} failed:"; tail -n 20 "$E2E/apt.log"; }
	return $rc
}

# wait_until SECONDS CMD...: poll CMD every 0.2 s; 1 when it never succeeded.
# (A bound against hanging, not a timed assertion.)
wait_until() {
	local n=$(($1 * 5)); shift
	while [ $n -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
		n=$((n - 1))
	done
	return 1
}

CTD_PID=
DOCKERD_PID=
E2E_DOCKER_CG_EXISTED=

# Container cgroups (below /$E2E_NS in every hierarchy): listed at start,
# compared at the end; the parent is removed by e2e_stop.
e2e_cgroups() {
	local d
	for d in /sys/fs/cgroup/*/"$E2E_NS"/* /sys/fs/cgroup/"$E2E_NS"/*; do
		[ -d "$d" ] && echo "$d"
	done | sort
}
e2e_cg_snapshot() {
	e2e_cgroups >"$E2E/cg.before"
	E2E_DOCKER_CG_EXISTED=0
	ls -d /sys/fs/cgroup/*/docker /sys/fs/cgroup/docker >/dev/null 2>&1 && E2E_DOCKER_CG_EXISTED=1
}
# Cgroups made since e2e_cg_snapshot that are still there.
e2e_cg_new() { e2e_cgroups | comm -13 "$E2E/cg.before" -; }

# ctr against the private containerd, in our namespace.
ctrp() { "$CTR" --address "$E2E/ctd.sock" --namespace "$E2E_NS" "$@"; }
# docker against the private dockerd.
dk() { "$DOCKER" --host "unix://$E2E/docker.sock" "$@"; }

# e2e_start_containerd [CRI-TOML]: without an argument the CRI plugin is off;
# with one, it is on and the file's TOML (its plugin section) is added.
e2e_start_containerd() {
	local cri=${1:-}
	mkdir -p "$E2E/ctd/root" "$E2E/ctd/state" "$E2E/ctd/opt" "$E2E/runc-root"
	cat >"$E2E/containerd.toml" <<EOF
version = 2
root = "$E2E/ctd/root"
state = "$E2E/ctd/state"
$([ -n "$cri" ] || echo 'disabled_plugins = ["io.containerd.grpc.v1.cri"]')
[grpc]
  address = "$E2E/ctd.sock"
[ttrpc]
  address = "$E2E/ctd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$E2E/ctd/opt"
EOF
	[ -z "$cri" ] || cat "$cri" >>"$E2E/containerd.toml"
	"$CONTAINERD" --config "$E2E/containerd.toml" --log-level "${FC_E2E_LOG_LEVEL:-info}" >"$E2E/containerd.log" 2>&1 &
	CTD_PID=$!
	if ! wait_until 30 "$CTR" --address "$E2E/ctd.sock" version; then
		echo "containerd did not come up:"; tail -n 20 "$E2E/containerd.log"
		return 1
	fi
}

# e2e_start_dockerd [RUNTIME-NAME=PATH...]: extra runtimes for daemon.json.
e2e_start_dockerd() {
	local rt='{}' kv
	for kv in "$@"; do
		rt=$(jq -c --arg n "${kv%%=*}" --arg p "${kv#*=}" '. + {($n): {path: $p}}' <<<"$rt")
	done
	mkdir -p "$E2E/docker/data" "$E2E/docker/exec"
	jq -n --argjson rt "$rt" --arg cg "/$E2E_NS" '{runtimes: $rt, "storage-driver": "overlay2", "log-driver": "json-file",
		"exec-opts": ["native.cgroupdriver=cgroupfs"], "cgroup-parent": $cg,
		features: {buildkit: false}}' >"$E2E/daemon.json"
	"$DOCKERD" --config-file "$E2E/daemon.json" \
		--host "unix://$E2E/docker.sock" \
		--data-root "$E2E/docker/data" --exec-root "$E2E/docker/exec" \
		--pidfile "$E2E/docker.pid" --containerd "$E2E/ctd.sock" \
		--iptables=false --ip6tables=false --ip-masq=false --bridge=none --ip-forward=false \
		--userland-proxy=false >"$E2E/dockerd.log" 2>&1 &
	DOCKERD_PID=$!
	if ! wait_until 60 dk version; then
		echo "dockerd did not come up:"; tail -n 20 "$E2E/dockerd.log"
		return 1
	fi
}

# e2e_build_image [TAG ARCHIVE CMD-JSON]: a docker-archive (docker save
# format) of a busybox rootfs, made with tar, sha256sum and jq: by default
# $E2E_IMAGE in $E2E/image.tar, running sh.
e2e_build_image() {
	local tag=${1:-$E2E_IMAGE} archive=${2:-$E2E/image.tar} cmd=${3:-'["sh"]'}
	local d=$E2E/img src=${FC_SOURCE_ROOT:?}
	rm -rf "$d"; mkdir -p "$d/out"
	FC_BUNDLE_NETNS=0 "$src/tests/lib/mkbundle.sh" "$d/bundle" >/dev/null || return 1
	tar --numeric-owner --owner=0 --group=0 -C "$d/bundle/rootfs" -cf "$d/layer.tar" . || return 1
	local diff cfg
	diff=$(sha256sum "$d/layer.tar" | cut -d' ' -f1)
	mkdir -p "$d/out/$diff"
	mv "$d/layer.tar" "$d/out/$diff/layer.tar"
	jq -n --arg diff "sha256:$diff" --argjson cmd "$cmd" '{architecture: "amd64", os: "linux", created: "2024-01-01T00:00:00Z",
		config: {Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: $cmd, WorkingDir: "/"},
		rootfs: {type: "layers", diff_ids: [$diff]},
		history: [{created: "2024-01-01T00:00:00Z", created_by: "fcstart tests/e2e: busybox-static"}]}' \
		| jq -c . >"$d/config.json"
	cfg=$(sha256sum "$d/config.json" | cut -d' ' -f1)
	mv "$d/config.json" "$d/out/$cfg.json"
	jq -n -c --arg c "$cfg.json" --arg t "$tag" --arg l "$diff/layer.tar" \
		'[{Config: $c, RepoTags: [$t], Layers: [$l]}]' >"$d/out/manifest.json"
	tar --numeric-owner --owner=0 --group=0 -C "$d/out" -cf "$archive" manifest.json "$cfg.json" "$diff"
}

# Stop a process we started: SIGTERM, wait up to SECONDS, then SIGKILL.
stop_pid() {
	local pid=$1 secs=${2:-20}
	[ -n "$pid" ] || return 0
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null
	wait_until "$secs" sh -c "! kill -0 $pid" || kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# The containerd shims of our containerd (they outlive it): found by our
# socket address on their command line, killed by pid.
our_shims() {
	local p
	for p in /proc/[0-9]*; do
		tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -q -- "-address $E2E/ctd.sock" && echo "${p#/proc/}"
	done
}

# e2e_stop: remove containers, stop dockerd, containerd and the shims, unmount
# everything under $E2E. Safe to call more than once.
e2e_stop() {
	local id p
	# A test's own engine (podman) goes first.
	if declare -F e2e_stop_extra >/dev/null; then e2e_stop_extra; fi
	if [ -n "$DOCKERD_PID" ] && kill -0 "$DOCKERD_PID" 2>/dev/null; then
		for id in $(timeout -k 5 20 "$DOCKER" --host "unix://$E2E/docker.sock" ps -aq 2>/dev/null); do timeout -k 5 30 "$DOCKER" --host "unix://$E2E/docker.sock" rm -f "$id" >/dev/null 2>&1; done
	fi
	stop_pid "$DOCKERD_PID" 30
	DOCKERD_PID=
	if [ -n "$CTD_PID" ] && kill -0 "$CTD_PID" 2>/dev/null &&
		timeout -k 5 10 "$CTR" --address "$E2E/ctd.sock" version >/dev/null 2>&1; then
		for ns in "$E2E_NS" moby k8s.io; do
			for id in $(timeout -k 5 20 "$CTR" --address "$E2E/ctd.sock" -n $ns task ls -q 2>/dev/null); do
				timeout -k 5 20 "$CTR" --address "$E2E/ctd.sock" -n $ns task kill -s SIGKILL "$id" >/dev/null 2>&1
				timeout -k 5 20 "$CTR" --address "$E2E/ctd.sock" -n $ns task rm -f "$id" >/dev/null 2>&1
			done
			for id in $(timeout -k 5 20 "$CTR" --address "$E2E/ctd.sock" -n $ns container ls -q 2>/dev/null); do
				timeout -k 5 20 "$CTR" --address "$E2E/ctd.sock" -n $ns container rm "$id" >/dev/null 2>&1
			done
		done
	fi
	stop_pid "$CTD_PID" 20
	CTD_PID=
	for p in $(our_shims); do kill -KILL "$p" 2>/dev/null; done
	# Containers the killed shims left behind, by the runtimes' own roots.
	local root rt
	for root in "$E2E"/runc-root/*/* "$E2E"/docker/exec/runtime-*/*; do
		[ -d "$root" ] || continue
		# Docker keeps every runtime's containers under runtime-runc.
		for rt in runc ${FCRUN:-}; do
			for id in $("$rt" --root "$root" list -q 2>/dev/null); do
				timeout -k 5 20 "$rt" --root "$root" delete -f "$id" >/dev/null 2>&1
			done
		done
	done
	local cg
	for cg in /sys/fs/cgroup/*/"$E2E_NS" /sys/fs/cgroup/"$E2E_NS"; do
		[ -d "$cg" ] && rmdir "$cg" 2>/dev/null
	done
	if [ "$E2E_DOCKER_CG_EXISTED" = 0 ]; then
		for cg in /sys/fs/cgroup/*/docker /sys/fs/cgroup/docker; do
			[ -d "$cg" ] && rmdir "$cg" 2>/dev/null
		done
	fi
	grep " $E2E" /proc/self/mountinfo | awk '{print $5}' | sort -r | while read -r m; do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
	done
	e2e_subtree_restore
	return 0
}

# On a hybrid host, runc under containerd and Docker enables controllers
# (hugetlb) in the cgroup2 tree's subtree_control, the root's included, where
# they stay: crun then refuses the host. What the run enabled is disabled again
# at the end (tests/lib/cg2-subtree.sh).
. "$(dirname "${BASH_SOURCE[0]}")/../lib/cg2-subtree.sh"
e2e_subtree_save() { cg2_subtree_save; }
e2e_subtree_restore() { cg2_subtree_restore; }

# ---- for the TAP tests (after tests/lib/common.sh) ------------------------

# fcrun_has VERB: false while fcrun answers "not implemented yet" for VERB.
fcrun_has() {
	! "$FCRUN" --root "$E2E/probe" "$1" fce2e-probe fce2e-probe 2>&1 | grep -q "not implemented"
}

# compare DESC MODE REGEX FUNC ARGS...: run `FUNC RUNTIME ARGS...` for the
# reference runtime ($E2E_REF, runc unless a test says otherwise) and fcrun
# (FUNC prints the output, returns the exit code). MODE "out":
# same exit code and output, and the output matches REGEX; "rc": same exit
# code, and fcrun's output matches REGEX. "sorted": like out on sorted lines.
compare() {
	local desc=$1 mode=$2 re=$3 fn=$4 r ref=${E2E_REF:-runc}
	shift 4
	for r in "$ref" fcrun; do
		"$fn" "$r" "$@" >"$T/out.$r" 2>&1
		echo $? >"$T/rc.$r"
		# ctr's and docker's log lines carry a time stamp; names carry the
		# runtime's name; podman's and docker's ids differ; a terminal may
		# add a NUL byte where its timing puts it.
		sed -i -e 's/^time="[^"]*" //' -e "s/\([-_]\)$r\b/\1RUNTIME/g" -e 's/\b[0-9a-f]\{64\}\b/ID/g' -e 's/\x00//g' "$T/out.$r"
		if [ "$mode" = sorted ]; then sort "$T/out.$r" >"$T/out.$r.s" && mv "$T/out.$r.s" "$T/out.$r"; fi
	done
	local why=
	[ "$(cat "$T/rc.$ref")" = "$(cat "$T/rc.fcrun")" ] || why="exit code differs"
	if [ "$mode" != rc ] && ! cmp -s "$T/out.$ref" "$T/out.fcrun"; then why="${why:+$why, }output differs"; fi
	[ -z "$re" ] || grep -Eq -- "$re" "$T/out.fcrun" || why="${why:+$why, }fcrun output does not match /$re/"
	if [ -z "$why" ]; then
		ok "$desc"
	else
		not_ok "$desc: $why"
		# A known difference (TAP "# TODO") does not fail the test.
		case $desc in *"# TODO"*) tap_failed=$((tap_failed - 1)) ;; esac
		{ echo "$ref (exit $(cat "$T/rc.$ref")):"; head -c 2000 "$T/out.$ref"; echo "fcrun (exit $(cat "$T/rc.fcrun")):"; head -c 2000 "$T/out.fcrun"; } | diag
	fi
}

skip() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $1 # SKIP $2"; }

# e2e_begin: root, daemons' binaries, scratch dir, cleanup on every exit.
e2e_begin() {
	require_root
	E2E=$T/e2e
	mkdir -p "$E2E"
	trap 'rc=$?; e2e_stop; (exit $rc); cleanup' EXIT
	local why
	why=$(e2e_install) || skip_all "$why"
	for b in $E2E_NEEDS util-linux:/usr/bin/script; do
		[ -e "${b#*:}" ] || skip_all "${b#*:} missing"
	done
	e2e_build_image || { echo "Bail out! cannot build the busybox image"; exit 1; }
	e2e_cg_snapshot
	e2e_subtree_save
}
