# tests/lib/pool.sh: sourced by the pool's shell tests of initialized
# instances (test-pool-started.sh, test-pool-fork.sh): TAP helpers, a private
# daemon (own --root, --socket, --store under a scratch dir), the pool's
# stats, the function images of mkfuncimage.sh, and the leak checks (mounts,
# cgroups, state, processes) run after kill -9 and at the end. Sets T (the
# scratch dir), R (the daemon's root), F (fcstart).
set -u
[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root"; exit 77; }
src=${FC_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$src/tests/lib/scratch.sh"
F=${FCSTART:-${FC_BUILD_ROOT:-$src/build}/bench/fcstart}
[ -x "$F" ] || { echo "1..0 # SKIP fcstart not built at $F"; exit 77; }
for t in jq curl; do command -v $t >/dev/null || { echo "1..0 # SKIP $t is missing"; exit 77; }; done
T=$(mktemp -d "/tmp/$(basename "$0" .sh).XXXXXX")
chmod 711 "$T" # the sandboxes' root (a user namespace's) passes through to its dir
R=$T/root
SOCK=$T/api.sock
export FCSTART_SOCKET=$SOCK
PORT=$((20000 + $$ % 20000))
U=http://127.0.0.1:$PORT
dpid= fspids=
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
diag() { sed 's/^/# /'; }
expect_eq() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; printf 'expected: %s\n  actual: %s\n' "$2" "$3" | diag; fi; }
expect_match() { if printf '%s' "$3" | grep -Eq -- "$2"; then ok "$1"; else not_ok "$1"; printf 'expected /%s/ in:\n%s\n' "$2" "$3" | diag; fi; }
check() { local d=$1; shift; if "$@" >"$T/out" 2>&1; then ok "$d"; else not_ok "$d"; diag <"$T/out"; fi; }
done_testing() { echo "1..$n"; [ "$failed" = 0 ]; }

pool_cleanup() {
	local rc=$?
	[ -n "$dpid" ] && kill -9 "$dpid" 2>/dev/null
	for p in $fspids; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	scratch_cleanup
	exit $rc
}
trap pool_cleanup EXIT
trap 'exit 130' INT TERM

# start_daemon [FLAGS...]: a daemon on our root, socket and store
start_daemon() {
	"$F" serve --root "$R" --store "$T/store" --socket "$SOCK" "$@" >>"$T/serve.log" 2>&1 &
	dpid=$!
	for _ in $(seq 1000); do
		[ -S "$SOCK" ] && "$F" fn ls >/dev/null 2>&1 && break
		kill -0 "$dpid" 2>/dev/null || break
		sleep 0.02
	done
	fspids=$(ps -o pid= --ppid "$dpid" | tr -d ' ' | tr '\n' ' ')
}
stop_daemon() { kill -TERM "$dpid"; wait "$dpid"; local rc=$?; dpid=; fspids=; return $rc; }
# pstat FN FIELD: one value of `fcstart stats --json` (jq path after the function)
pstat() { "$F" stats --json | jq -r --arg f "$1" ".functions[] | select(.name == \$f) | .$2"; }
# wait_for FN FIELD VALUE [SECONDS]: until the pool reports it (bounded)
wait_for() {
	local i end=$(( ${4:-60} * 50 ))
	for i in $(seq "$end"); do
		[ "$(pstat "$1" "$2")" = "$3" ] && return 0
		sleep 0.02
	done
	echo "$1 $2 is $(pstat "$1" "$2"), expected $3" >&2
	return 1
}
# wait_ge FN FIELD MIN [SECONDS]
wait_ge() {
	local i v end=$(( ${4:-60} * 50 ))
	for i in $(seq "$end"); do
		v=$(pstat "$1" "$2")
		[ -n "$v" ] && [ "$v" != null ] && [ "$v" -ge "$3" ] 2>/dev/null && return 0
		sleep 0.02
	done
	echo "$1 $2 is $(pstat "$1" "$2"), expected at least $3" >&2
	return 1
}
# image KIND NAME: a function image of mkfuncimage.sh in our store (or SKIP)
image() {
	sh "$src/tests/lib/mkfuncimage.sh" "$1" "$T/img-$1" >"$T/mkimg.log" 2>&1 ||
		{ echo "1..0 # SKIP cannot build the $1 function image: $(tail -n1 "$T/mkimg.log")"; exit 77; }
	"$F" image --store "$T/store" import -q "$T/img-$1" --name "$2" >/dev/null ||
		{ echo "Bail out! image import of $1"; exit 1; }
	rm -rf "$T/img-$1"
}
# sandboxes FN: the ids of FN's sandboxes (its libfcrt state)
sandboxes() { ls "$R/runtime" 2>/dev/null | grep -- "-$1-" || true; }
# init_pid ID: the host pid of a sandbox's init (its function process once started)
init_pid() { jq -r .pid "$R/runtime/$1/state.json" 2>/dev/null; }
# live_sandboxes FN: those of FN's sandboxes whose init runs
live_sandboxes() {
	local id p
	for id in $(sandboxes "$1"); do
		p=$(init_pid "$id")
		[ -n "$p" ] && [ "$p" != 0 ] && kill -0 "$p" 2>/dev/null && echo "$id"
	done
}
# CGP: the prefix of our daemon's sandbox ids and cgroups, fcs-<FNV-1a of
# the root's real path>- (fsproto.c, sandbox_prefix)
mkdir -p "$R"
CGP=$(printf %s "$(realpath "$R")" | od -An -v -tu1 | tr -s ' ' '\n' | grep . | {
	h=2166136261
	while read -r b; do h=$(( ((h ^ b) * 16777619) & 0xffffffff )); done
	printf 'fcs-%08x-' "$h"
})
# procs_left: processes in a cgroup of our daemon's sandboxes
procs_left() {
	grep -l "/fcrun/$CGP" /proc/[0-9]*/cgroup 2>/dev/null | cut -d/ -f3 | while read -r p; do
		echo "$p $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)"
	done
}
# leftovers: anything of our root's sandboxes (mounts, cgroups, state,
# dirs, processes)
leftovers() {
	local left=0 d p
	grep -q " $R/" /proc/self/mountinfo && { echo "mounts left:"; grep " $R/" /proc/self/mountinfo | head -3; left=1; }
	for d in /sys/fs/cgroup/*/fcrun/"$CGP"* /sys/fs/cgroup/fcrun/"$CGP"*; do
		[ -d "$d" ] && { echo "cgroup $d left"; left=1; }
	done
	[ -z "$(ls "$R/runtime" 2>/dev/null)" ] || { echo "state left: $(ls "$R/runtime")"; left=1; }
	[ -z "$(ls "$R/sandboxes" 2>/dev/null)" ] || { echo "sandbox dirs left: $(ls "$R/sandboxes")"; left=1; }
	p=$(procs_left)
	[ -z "$p" ] || { echo "processes left: $p"; left=1; }
	return $left
}
# wait_clean: leftovers, given a few seconds to go (a loaded machine)
wait_clean() {
	for _ in $(seq 250); do leftovers >/dev/null 2>&1 && return 0; sleep 0.02; done
	leftovers
}
