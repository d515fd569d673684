#!/bin/bash
# Security and robustness of `fcstart serve` (issue 9, the daemon part), each
# check made the way an attacker would try it against a private daemon (own
# --root, --socket, --store, port): basic auth on the gateway's /system/...
# routes (unauthenticated and wrong credentials refused, invocations and
# /healthz open as in OpenFaaS, the credentials file made 0600 and never
# logged); JSON nested a million levels deep in a deploy body, in a request on
# the unix socket and in a reply to the CLI; request bodies over the limit
# answered 413 (announced or chunked), not cut and run; default memory, pids
# and timeout limits for every function, overridable per function, with
# senseless values refused naming the field, and a fork loop that stays
# within its function's pids limit; an HTTP client that leaves mid-invocation
# ends its invocation (the sandbox killed, a queued one dropped); answers
# streamed with back-pressure (1 GiB to a slow reader with the daemon's memory
# bounded, a function failing mid-stream, an HTTP function that never reads
# its request); 1,200 slow clients holding half-sent requests neither lock
# /healthz out nor outlive the header timeout; sandboxes in a user namespace
# of their own (root inside is an unprivileged host range per function, the
# image's files shared through idmapped mounts), so a host directory leaked
# into a sandbox cannot be written through (a host canary), with the opt-out
# for images that need real root. TAP output.
set -u
[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root"; exit 77; }
src=${FC_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$src/tests/lib/scratch.sh"
F=${FCSTART:-${FC_BUILD_ROOT:-$src/build}/bench/fcstart}
[ -x "$F" ] || { echo "1..0 # SKIP fcstart not built at $F"; exit 77; }
for t in jq curl python3; do command -v $t >/dev/null || { echo "1..0 # SKIP $t is missing"; exit 77; }; done
T=$(mktemp -d /tmp/test-pool-security.XXXXXX)
chmod 711 "$T" # the sandboxes' root (a user namespace's) passes through to its dir
R=$T/root
SOCK=$T/api.sock
export FCSTART_SOCKET=$SOCK
PORT=$((20000 + ($$ + 7) % 20000))
U=http://127.0.0.1:$PORT
dpid=
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
diag() { sed 's/^/# /'; }
expect_eq() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; printf 'expected: %s\n  actual: %s\n' "$2" "$3" | diag; fi; }
expect_match() { if printf '%s' "$3" | grep -Eq -- "$2"; then ok "$1"; else not_ok "$1"; printf 'expected /%s/ in:\n%s\n' "$2" "$3" | diag; fi; }

cleanup() {
	local rc=$?
	[ -n "$dpid" ] && kill -9 "$dpid" 2>/dev/null
	wait 2>/dev/null
	scratch_cleanup
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_daemon [ARGS...]: a daemon with the gateway; 0 once /healthz answers
start_daemon() {
	"$F" serve --root "$R" --store "$T/store" --socket "$SOCK" --http "127.0.0.1:$PORT" "$@" >"$T/serve.log" 2>&1 &
	dpid=$!
	for _ in $(seq 500); do
		curl -s -o /dev/null "$U/healthz" 2>/dev/null && return 0
		kill -0 "$dpid" 2>/dev/null || break
		sleep 0.02
	done
	wait "$dpid" 2>/dev/null
	dpid=
	return 1
}
stop_daemon() {
	[ -n "$dpid" ] || return 0
	kill -TERM "$dpid"
	wait "$dpid"
	local rc=$?
	dpid=
	return $rc
}
# code ARGS...: the HTTP status curl gets
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
# deep N [PREFIX SUFFIX]: PREFIX + N '[' + N ']' + SUFFIX on stdout
deep() { python3 -c 'import sys; n=int(sys.argv[1]); sys.stdout.write(sys.argv[2] + "["*n + "]"*n + sys.argv[3])' "$1" "${2:-}" "${3:-}"; }
# api_raw FILE: send FILE's bytes as one request on the API socket, print the reply
api_raw() {
	python3 - "$SOCK" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
s.send(open(sys.argv[2], 'rb').read())
s.settimeout(10)
try:
    print(s.recv(65536).decode(errors='replace'))
except Exception as e:
    print('no reply:', e)
PY
}
# fake_daemon SOCKET FILE: answer one request on SOCKET with FILE's bytes (background)
fake_daemon() {
	python3 - "$1" "$2" <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(sys.argv[1]); s.listen(1)
open(sys.argv[1] + '.ready', 'w').close()
s.settimeout(20)
c, _ = s.accept(); c.recv(65536)
c.send(open(sys.argv[2], 'rb').read())
c.close()
PY
	for _ in $(seq 500); do [ -e "$1.ready" ] && return 0; sleep 0.02; done
}

sh "$src/tests/lib/mkimage.sh" "$T/img" >/dev/null || { echo "1..0 # SKIP cannot build the test image"; exit 77; }
"$F" image --store "$T/store" import -q "$T/img" --name bb >/dev/null || { echo "Bail out! image import"; exit 1; }

# pstat FN FIELD: one number from `fcstart stats --json`
pstat() { "$F" stats --json | jq -r --arg f "$1" '.functions[] | select(.name == $f) | .'"$2"; }
# wait_stat FN FIELD VALUE [SECONDS]: until the pool reports it (at most 5 s, or SECONDS)
wait_stat() {
	local end=$((SECONDS + ${4:-5}))
	while [ "$SECONDS" -le "$end" ]; do [ "$(pstat "$1" "$2")" = "$3" ] && return 0; sleep 0.02; done
	return 1
}
# sandbox_of FN: the id of one of FN's sandboxes (waiting or running)
sandbox_of() {
	local id
	for _ in $(seq 500); do
		id=$(ls "$R/runtime" 2>/dev/null | grep -- "-$1-" | head -1)
		[ -n "$id" ] && [ -e "$R/runtime/$id/state.json" ] && { echo "$id"; return 0; }
		sleep 0.02
	done
	return 1
}
# cg_value ID v1-CONTROLLER v1-FILE v2-FILE: a sandbox's cgroup setting (its
# cgroup is one of the function's recycled ones: the path is in its state)
# On a host with a v1 memory hierarchy a waiting sandbox has no memory cgroup
# of its own: the memory limit is that of the function's memory slots, one
# of which it joins at its hand-over (every slot of it has the same).
cg_value() {
	local f c fn
	c=$(jq -r .cgroup_path "$R/runtime/$1/state.json" 2>/dev/null)
	for f in "/sys/fs/cgroup/$2$c/$3" "/sys/fs/cgroup$c/$4" "/sys/fs/cgroup/unified$c/$4"; do
		[ -r "$f" ] && { cat "$f"; return 0; }
	done
	if [ "$2" = memory ] && [ -d /sys/fs/cgroup/memory ]; then
		fn=${c#/fcrun/}
		fn=${fn%.cg*}
		for _ in $(seq 250); do
			f=$(cat /sys/fs/cgroup/memory/fcrun/"$fn".mem*/"$3" 2>/dev/null | sort -u)
			[ -n "$f" ] && { echo "$f"; return 0; }
			sleep 0.02
		done
	fi
	echo none
}
# in_pidns PID: how many host processes share PID's pid namespace
in_pidns() {
	local ns n=0 p
	ns=$(readlink "/proc/$1/ns/pid") || { echo 0; return; }
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/ns/pid" 2>/dev/null)" = "$ns" ] && n=$((n + 1))
	done
	echo $n
}

# ---- basic auth on /system/... ------------------------------------------------
start_daemon || { echo "Bail out! the daemon does not start"; cat "$T/serve.log" | diag; exit 1; }
A=$R/basic-auth
expect_eq "the credentials file is made at first start, mode 0600" "600 1" \
	"$(stat -c %a "$A" 2>/dev/null) $(wc -l <"$A" 2>/dev/null)"
CRED=$(cat "$A" 2>/dev/null); CRED=${CRED:-none:none}
PASS=${CRED#admin:}
expect_match "user admin and a random password of 20+ characters" '^admin:[A-Za-z0-9_-]{20,}$' "$CRED"
expect_match "the log names the credentials file" "credentials in \`$A\`" "$(cat "$T/serve.log")"
if [ -n "$PASS" ] && grep -qF -- "$PASS" "$T/serve.log"; then not_ok "the password is not logged"; else ok "the password is not logged"; fi
hdr=$(curl -s -D - -o /dev/null "$U/system/functions" | tr -d '\r')
expect_match "GET /system/functions without credentials: 401" '^HTTP/1.1 401' "$hdr"
expect_match "401 carries WWW-Authenticate: Basic realm" '^WWW-Authenticate: Basic realm="[^"]+"' "$hdr"
expect_eq "wrong password: 401" 401 "$(code -u "admin:${PASS}x" "$U/system/functions")"
expect_eq "a prefix of the password: 401" 401 "$(code -u "admin:${PASS%?}" "$U/system/functions")"
expect_eq "wrong user: 401" 401 "$(code -u "root:$PASS" "$U/system/functions")"
expect_eq "an Authorization header that is not Basic: 401" 401 "$(code -H 'Authorization: Bearer x' "$U/system/functions")"
expect_eq "a Basic header that is not base64: 401" 401 "$(code -H 'Authorization: Basic !!!' "$U/system/functions")"
expect_eq "deploy without credentials: 401" 401 \
	"$(code -X POST -d '{"service":"evil","image":"bb","envProcess":"cat"}' "$U/system/functions")"
expect_eq "... and nothing was deployed" "" "$("$F" fn ls --json | jq -r '.functions[].name')"
expect_eq "GET /system/functions with the credentials: 200" "[] 200" "$(curl -s -w ' %{http_code}' -u "$CRED" "$U/system/functions")"
expect_eq "deploy with the credentials: 202" 202 \
	"$(code -u "$CRED" -X POST -d '{"service":"echo","image":"bb","envProcess":"cat"}' "$U/system/functions")"
expect_eq "scale without credentials: 401" 401 "$(code -d '{"replicas":3}' "$U/system/scale-function/echo")"
expect_eq "status of a function without credentials: 401" 401 "$(code "$U/system/function/echo")"
expect_eq "delete without credentials: 401" 401 "$(code -X DELETE -d '{"functionName":"echo"}' "$U/system/functions")"
expect_eq "unknown /system/ route without credentials: 401" 401 "$(code "$U/system/info")"
expect_eq "... the function is still there" echo "$("$F" fn ls --json | jq -r '.functions[].name')"
expect_eq "invocations stay open, as in OpenFaaS (200)" "hi 200" "$(curl -s -w ' %{http_code}' -d hi "$U/function/echo")"
expect_eq "/healthz stays open (200)" 200 "$(code "$U/healthz")"
stop_daemon
start_daemon
expect_eq "a restart keeps the credentials" "$CRED 200" "$(cat "$A") $(code -u "$CRED" "$U/system/functions")"
stop_daemon

printf 'tester:s3cret:with:colons\n' >"$T/auth"
chmod 600 "$T/auth"
start_daemon --basic-auth-file "$T/auth"
expect_eq "--basic-auth-file: its credentials are the ones (password with colons)" "200 401" \
	"$(code -u 'tester:s3cret:with:colons' "$U/system/functions") $(code -u "$CRED" "$U/system/functions")"
stop_daemon
chmod 644 "$T/auth"
start_daemon --basic-auth-file "$T/auth"
expect_match "a credentials file others can read is refused, naming it" "basic-auth file \`$T/auth\`.*mode 0644" "$(cat "$T/serve.log")"
stop_daemon
printf 'no-colon\n' >"$T/auth"
chmod 600 "$T/auth"
start_daemon --basic-auth-file "$T/auth"
expect_match "a file without USER:PASSWORD is refused, naming it" "basic-auth file \`$T/auth\`: expected one line USER:PASSWORD" "$(cat "$T/serve.log")"
stop_daemon
start_daemon --basic-auth-file "$T/missing"
expect_match "a given file that does not exist is refused (not created)" "basic-auth file \`$T/missing\`.*No such file" "$(cat "$T/serve.log")$([ -e "$T/missing" ] && echo created)"
stop_daemon

# ---- JSON nesting ---------------------------------------------------------------
start_daemon
CRED=$(cat "$A" 2>/dev/null); CRED=${CRED:-none:none}
deep 1000000 >"$T/deep.json"
out=$(curl -s -w ' %{http_code}' -u "$CRED" -X POST --data-binary @"$T/deep.json" "$U/system/functions" | tr '\n' ' ')
expect_match "a deploy body nested 1,000,000 deep: 400, exceeded max depth" "exceeded max depth.* 400$" "$out"
expect_eq "... and the daemon still answers" 200 "$(code "$U/healthz")"
deep 1000000 '{"service":"x","image":"bb","labels":' '}' >"$T/deep.json"
expect_match "a deploy whose labels nest 1,000,000 deep: 400" "exceeded max depth.* 400$" \
	"$(curl -s -w ' %{http_code}' -u "$CRED" -X POST --data-binary @"$T/deep.json" "$U/system/functions" | tr '\n' ' ')"
expect_eq "a scale body nested 1,000,000 deep: 400" 400 \
	"$(code -u "$CRED" --data-binary @"$T/deep.json" "$U/system/scale-function/echo")"
expect_eq "a delete body nested 1,000,000 deep: 400" 400 \
	"$(code -u "$CRED" -X DELETE --data-binary @"$T/deep.json" "$U/system/functions")"
deep 32000 '{"op":"deploy","name":"x","image":"bb","labels":' '}' >"$T/deep.json"
expect_match "a socket request nested 32,000 deep (64 KiB): exceeded max depth" '"ok":false.*exceeded max depth' "$(api_raw "$T/deep.json")"
deep 1001 '{"op":"deploy","name":"x","image":"bb","env":' '}' >"$T/deep.json"
expect_match "1,001 levels are refused" '"ok":false.*exceeded max depth' "$(api_raw "$T/deep.json")"
deep 998 '{"op":"deploy","name":"x","image":"nope","env":' '}' >"$T/deep.json"
expect_match "1,000 levels are parsed (and the request judged on its content)" '"ok":false.*nope' "$(api_raw "$T/deep.json")"
expect_eq "the daemon still serves its socket" echo "$("$F" fn ls --json | jq -r '.functions[].name')"
stop_daemon
deep 30000 '{"ok":true,"functions":' '}' >"$T/deep.json"
fake_daemon "$T/fake.sock" "$T/deep.json"
out=$("$F" fn --socket "$T/fake.sock" ls 2>&1)
expect_match "the CLI refuses a reply nested 30,000 deep" "reply .*exceeded max depth" "$out"
wait
fake_daemon "$T/fake2.sock" "$T/deep.json"
out=$(FCSTART_SOCKET=$T/fake2.sock "$F" stats 2>&1)
expect_match "... fcstart stats too" "exceeded max depth" "$out"
wait

# ---- request body limit ----------------------------------------------------------
start_daemon
CRED=$(cat "$A" 2>/dev/null); CRED=${CRED:-none:none}
code -u "$CRED" -X POST -d '{"service":"wc","image":"bb","envProcess":"wc -c"}' "$U/system/functions" >/dev/null
head -c $((8 << 20)) /dev/zero >"$T/8m"
head -c $(((8 << 20) + 1)) /dev/zero >"$T/8m1"
expect_eq "a body of exactly 8 MiB is taken whole" "$((8 << 20)) 200" \
	"$(curl -s -w ' %{http_code}' --data-binary @"$T/8m" "$U/function/wc" | tr -s ' \n' ' ' | sed 's/^ //')"
h0=$("$F" stats --json | jq '.functions[] | select(.name == "wc") | .handovers')
expect_match "8 MiB + 1 byte: 413, the limit named" "at most 8388608 bytes.* 413$" \
	"$(curl -s -w ' %{http_code}' --data-binary @"$T/8m1" "$U/function/wc" | tr '\n' ' ')"
expect_eq "... and the function never ran for it" "$h0" "$("$F" stats --json | jq '.functions[] | select(.name == "wc") | .handovers')"
# a chunked body streams to its function as it comes (it is never held whole):
# the function is stopped when the body passes the limit
expect_eq "8 MiB + 1 byte, chunked (no Content-Length): 413" 413 \
	"$(code -H 'Transfer-Encoding: chunked' --data-binary @"$T/8m1" "$U/function/wc")"
if wait_stat wc running 0; then ok "... and its function's sandbox is gone"
else not_ok "... and its function's sandbox is gone (running: $(pstat wc running))"; fi
expect_eq "a deploy body over the limit: 413" 413 "$(code -u "$CRED" -X POST --data-binary @"$T/8m1" "$U/system/functions")"
python3 -c 'import sys; sys.stdout.write("{\"op\":\"ping\"}" + " " * 70000 + "x")' >"$T/big.json"
expect_match "a socket request over 64 KiB is refused, not cut to its first 64 KiB" '"ok":false.*larger than 65536' "$(api_raw "$T/big.json")"
stop_daemon
start_daemon --max-body 1k
head -c 1024 /dev/zero >"$T/1k"
head -c 1025 /dev/zero >"$T/1k1"
expect_eq "--max-body 1k: 1024 bytes pass, 1025 get 413" "200 413" \
	"$(code --data-binary @"$T/1k" "$U/function/wc") $(code --data-binary @"$T/1k1" "$U/function/wc")"
stop_daemon

# ---- limits of functions ------------------------------------------------------------
start_daemon
CRED=$(cat "$A" 2>/dev/null); CRED=${CRED:-none:none}
"$F" fn deploy plain --image bb -- cat >/dev/null
id=$(sandbox_of plain)
expect_eq "default memory limit: 256 MiB" $((256 << 20)) "$(cg_value "$id" memory memory.limit_in_bytes memory.max)"
expect_eq "default pids limit: 256" 256 "$(cg_value "$id" pids pids.max pids.max)"
expect_eq "default timeout: 60 s (fn ls)" "268435456 256 60000" \
	"$("$F" fn ls --json | jq -r '.functions[] | select(.name == "plain") | "\(.spec.memory) \(.spec.pids) \(.spec.timeout_ms)"')"
"$F" fn deploy small --image bb --memory 64m --pids 32 --timeout 1s -- sleep 30 >/dev/null
id=$(sandbox_of small)
expect_eq "--memory 64m --pids 32 set the sandbox's cgroup" "$((64 << 20)) 32" \
	"$(cg_value "$id" memory memory.limit_in_bytes memory.max) $(cg_value "$id" pids pids.max pids.max)"
t0=$(date +%s%N)
"$F" invoke small </dev/null >/dev/null 2>&1
rc=$?
expect_eq "--timeout 1s: the invocation is killed, exit 124" 124 "$rc"
code -u "$CRED" -X POST -d '{"service":"gw","image":"bb","envProcess":"cat","labels":{"com.fcstart.pids":"16"},"limits":{"memory":"32Mi","cpu":"250m"}}' "$U/system/functions" >/dev/null
id=$(sandbox_of gw)
expect_eq "gateway: limits.memory 32Mi and label com.fcstart.pids=16" "$((32 << 20)) 16" \
	"$(cg_value "$id" memory memory.limit_in_bytes memory.max) $(cg_value "$id" pids pids.max pids.max)"
code -u "$CRED" -X POST -d '{"service":"gwdef","image":"bb","envProcess":"cat"}' "$U/system/functions" >/dev/null
id=$(sandbox_of gwdef)
expect_eq "gateway: a function deployed without limits gets the defaults" "$((256 << 20)) 256" \
	"$(cg_value "$id" memory memory.limit_in_bytes memory.max) $(cg_value "$id" pids pids.max pids.max)"
# senseless values: refused, naming the field, nothing deployed
refused() { # DESC REGEX CMD...
	local d=$1 re=$2 out
	shift 2
	out=$("$@" 2>&1 | tr '\n' ' ')
	expect_match "$d" "$re" "$out"
}
refused "--memory 4k refused, naming memory" "memory 4096 bytes: at least" "$F" fn deploy bad --image bb --memory 4k -- cat
refused "--cpus 1e300 refused, naming cpus" "cpus" "$F" fn deploy bad --image bb --cpus 1e300 -- cat
refused "--cpus 0.001 refused, naming cpus" "cpus 0.001" "$F" fn deploy bad --image bb --cpus 0.001 -- cat
refused "--pids 0 refused, naming pids" "pids" "$F" fn deploy bad --image bb --pids 0 -- cat
refused "label com.fcstart.pids=lots refused, naming it" "com.fcstart.pids" "$F" fn deploy bad --image bb --label com.fcstart.pids=lots -- cat
# OpenFaaS users (and its certifier) ask for as little as 5Mi: the gateway
# takes it, and the sandbox gets the least it runs with, 6 MiB, as the log says
expect_eq "gateway: limits.memory 4Ki is raised to 6 MiB (202)" "202 6291456" \
	"$(code -u "$CRED" -X POST -d '{"service":"small","image":"bb","limits":{"memory":"4Ki"}}' "$U/system/functions") $("$F" fn ls --json | jq '.functions[] | select(.name == "small") | .spec.memory')"
expect_match "... and the log says so" "function .small.: limits.memory .4Ki. is below" "$(cat "$T/serve.log")"
refused "gateway: limits.memory lots refused (400), naming it" "limits.memory .lots.* 400" \
	curl -s -w ' %{http_code}' -u "$CRED" -X POST -d '{"service":"bad","image":"bb","limits":{"memory":"lots"}}' "$U/system/functions"
refused "gateway: limits.cpu 1e300 refused (400), naming it" "limits.cpu .1e300.* 400" \
	curl -s -w ' %{http_code}' -u "$CRED" -X POST -d '{"service":"bad","image":"bb","limits":{"cpu":"1e300"}}' "$U/system/functions"
refused "gateway: limits.cpu -1 refused (400)" "limits.cpu.* 400" \
	curl -s -w ' %{http_code}' -u "$CRED" -X POST -d '{"service":"bad","image":"bb","limits":{"cpu":"-1"}}' "$U/system/functions"
expect_eq "... and none of them was deployed" "" "$("$F" fn ls --json | jq -r '.functions[] | select(.name == "bad") | .name')"
# a fork loop: 600 background sleeps in a function with the default limits
"$F" fn deploy forker --image bb -- sh -c '(i=0; while [ $i -lt 600 ]; do sleep 60 & i=$((i+1)); done) 2>/dev/null; echo spawned; exec sleep 60' >/dev/null
sandbox_of forker >/dev/null
"$F" invoke forker </dev/null >"$T/fork.out" 2>&1 &
ipid=$!
for _ in $(seq 1500); do grep -q spawned "$T/fork.out" && break; sleep 0.02; done
# the running sandbox: of the function's sandboxes, the one with most processes
np=0 fpid=0
for i in $(ls "$R/runtime" | grep -- "-forker-"); do
	p=$(jq -r .pid "$R/runtime/$i/state.json" 2>/dev/null)
	c=$(in_pidns "${p:-0}")
	[ "$c" -gt "$np" ] && { np=$c; fpid=$p; }
done
if grep -q spawned "$T/fork.out" && [ "$np" -ge 200 ] && [ "$np" -le 256 ]; then
	ok "a fork loop of 600 stops at the pids limit (256 processes on the host: $np)"
else
	not_ok "a fork loop of 600 stops at the pids limit (256 processes on the host: $np)"
	cat "$T/fork.out" | diag
fi
kill "$ipid" 2>/dev/null
wait "$ipid" 2>/dev/null
for _ in $(seq 500); do [ "$(in_pidns "${fpid:-0}")" = 0 ] && break; sleep 0.02; done
expect_eq "... and they all go when the invocation's client leaves" 0 "$(in_pidns "${fpid:-0}")"
stop_daemon

# ---- clients that leave -------------------------------------------------------------
start_daemon
"$F" fn deploy sleeper --image bb --label com.openfaas.scale.max=1 -- sleep 1000 >/dev/null
wait_stat sleeper waiting 1 20
curl -s -o /dev/null --max-time 1 -d x "$U/function/sleeper"
if wait_stat sleeper running 0; then ok "a client that leaves mid-invocation: its sandbox is killed"
else not_ok "a client that leaves mid-invocation: its sandbox is killed (running: $(pstat sleeper running))"; fi
"$F" fn deploy holder --image bb --label com.openfaas.scale.max=1 -- sleep 1000 >/dev/null
wait_stat holder waiting 1 20
curl -s -o /dev/null -d x "$U/function/holder" &
c1=$!
wait_stat holder running 1
curl -s -o /dev/null --max-time 1 -d x "$U/function/holder"
if wait_stat holder queued 0; then ok "a queued invocation whose client left leaves the queue"
else not_ok "a queued invocation whose client left leaves the queue (queued: $(pstat holder queued))"; fi
kill "$c1" 2>/dev/null
wait "$c1" 2>/dev/null
if wait_stat holder running 0; then ok "... and the running one goes with its client too"
else not_ok "... and the running one goes with its client too"; fi
curl -s -o /dev/null -d x "$U/function/holder" &
c1=$!
wait_stat holder running 1
stop_daemon
expect_eq "the daemon stops cleanly while a gateway invocation runs" 0 "$?"
wait "$c1" 2>/dev/null

# ---- streaming with back-pressure ---------------------------------------------------
start_daemon --max-body 64m
"$F" fn deploy big --image bb -- sh -c 'head -c 3145728 /dev/zero' >/dev/null
"$F" fn deploy gig --image bb -- sh -c 'head -c 1073741824 /dev/zero' >/dev/null
"$F" fn deploy halfway --image bb -- sh -c 'head -c 2097152 /dev/zero; exit 3' >/dev/null
"$F" fn deploy small-fail --image bb -- sh -c 'echo oops; exit 3' >/dev/null
"$F" fn deploy webfile --image bb --mode http -- sh -c 'mkdir -p /w && head -c 16777216 /dev/zero >/w/f && exec httpd -f -p 127.0.0.1:8080 -h /w' >/dev/null
"$F" fn deploy deaf --image bb --mode http -- nc -l -p 8080 -e sleep 1000 >/dev/null
for f in big gig halfway small-fail webfile deaf; do wait_stat "$f" waiting 1 20; done
expect_eq "a 3 MiB answer comes whole (200)" "3145728 200" "$(curl -s -o /dev/null -w '%{size_download} %{http_code}' "$U/function/big")"
expect_eq "a short answer still takes its status from the exit code (500)" "oops 500" \
	"$(curl -s -w ' %{http_code}' "$U/function/small-fail" | tr -d '\n')"
curl -s -o /dev/null "$U/function/halfway"
expect_eq "a function failing after 2 MiB of its answer: the client sees it cut short" 18 "$?"
expect_eq "an HTTP function's 16 MiB file streams whole" "16777216 200" "$(curl -s -o /dev/null -w '%{size_download} %{http_code}' "$U/function/webfile/f")"
dpid_rss() { awk '/^VmHWM/ {print $2}' "/proc/$dpid/status"; }
hwm0=$(dpid_rss)
out=$(curl -s -o /dev/null --limit-rate 128M -w '%{size_download} %{http_code}' "$U/function/gig")
hwm1=$(dpid_rss)
expect_eq "1 GiB to a reader of 128 MB/s comes whole" "1073741824 200" "$out"
if [ "$hwm1" -lt $((hwm0 + 65536)) ]; then ok "... and the daemon's peak memory grew by less than 64 MiB (${hwm0} -> ${hwm1} KiB)"
else not_ok "... and the daemon's peak memory grew by less than 64 MiB (${hwm0} -> ${hwm1} KiB)"; fi
head -c $((32 << 20)) /dev/zero >"$T/32m"
curl -s -o /dev/null --max-time 20 --data-binary @"$T/32m" "$U/function/deaf" &
c1=$!
wait_stat deaf running 1
sleep 1
expect_eq "an HTTP function that never reads a 32 MiB request holds only itself up (/healthz 200)" 200 \
	"$(curl -s -o /dev/null --max-time 5 -w '%{http_code}' "$U/healthz")"
kill "$c1" 2>/dev/null
wait "$c1" 2>/dev/null
stop_daemon

# ---- slow clients -------------------------------------------------------------------
# slow_clients N SECONDS STATUS: N connections that each send half a request
# head and then a byte every half second; STATUS says how many connected and
# how many the daemon closed (rewritten every half second)
slow_clients() {
	python3 - "$PORT" "$1" "$2" "$3" <<'PY' &
import os, select, socket, sys, time
port, n, secs, status = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
socks, closed = [], set()
for i in range(n):
    s = socket.socket(); s.setblocking(False)
    try: s.connect(('127.0.0.1', port))
    except BlockingIOError: pass
    socks.append(s)
time.sleep(0.2)
connected = 0
for s in socks:
    try: s.send(b'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: '); connected += 1
    except OSError: closed.add(s)
end = time.time() + secs
def write():
    with open(status + '.tmp', 'w') as f: f.write('%d %d\n' % (connected, len(closed)))
    os.rename(status + '.tmp', status)
byfd = {s.fileno(): s for s in socks}
while time.time() < end and len(closed) < len(socks):
    write()
    live = [s for s in socks if s not in closed]
    p = select.poll()
    for s in live: p.register(s, select.POLLIN)
    for fd, ev in p.poll(500):
        try:
            if not byfd[fd].recv(4096): closed.add(byfd[fd])
        except OSError: closed.add(byfd[fd])
    for s in live:
        if s in closed: continue
        try: s.send(b'x')
        except OSError: closed.add(s)
write()
PY
}
ulimit -n 8192 2>/dev/null
start_daemon --header-timeout 3s
slow_clients 1200 20 "$T/slow.status"
spid=$!
for _ in $(seq 100); do [ -s "$T/slow.status" ] && break; sleep 0.05; done
sleep 0.5
expect_eq "with 1,200 half-sent requests open, /healthz answers" "OK 200" "$(curl -s --max-time 5 -w ' %{http_code}' "$U/healthz")"
for _ in $(seq 200); do [ "$(cut -d' ' -f2 "$T/slow.status")" = 1200 ] && break; sleep 0.05; done
read -r nconn nclosed <"$T/slow.status"
expect_eq "the daemon closed all 1,200 (trickling a byte every 0.5 s) after the 3 s header timeout" "1200 1200" "$nconn $nclosed"
kill "$spid" 2>/dev/null
wait "$spid" 2>/dev/null
stop_daemon
expect_eq "... and stops cleanly after" 0 "$?"

# ---- user namespaces ------------------------------------------------------------------
sh "$src/tests/lib/mkimage.sh" --user 70000 "$T/img-hi" >/dev/null &&
	"$F" image --store "$T/store" import -q "$T/img-hi" --name hiuid >/dev/null
mkdir -m 700 "$T/hostdir"
echo safe >"$T/hostdir/canary"
chmod 600 "$T/hostdir/canary"
start_daemon
CRED=$(cat "$A" 2>/dev/null); CRED=${CRED:-none:none}
"$F" fn deploy who --image bb -- sh -c 'cat /proc/self/uid_map /proc/self/gid_map | tr -s " " | sed "s/^ //"; id -u; stat -c %u:%g /bin/busybox /app/hello.sh; echo w >/written && stat -c %u /written' >/dev/null
"$F" fn deploy who2 --image bb -- sh -c 'cat /proc/self/uid_map | tr -s " " | sed "s/^ //"' >/dev/null
"$F" fn deploy sleepy --image bb -- sleep 1000 >/dev/null
"$F" fn deploy leak --image bb -- sh -c 'echo pwned >/proc/self/fd/0/canary; cat /proc/self/fd/0/canary' >/dev/null
"$F" fn deploy leak-host --image bb --userns host -- sh -c 'echo pwned >/proc/self/fd/0/canary; cat /proc/self/fd/0/canary' >/dev/null
"$F" fn deploy asroot --image bb --userns host -- sh -c 'cat /proc/self/uid_map | tr -s " " | sed "s/^ //"' >/dev/null
for f in who who2 sleepy leak leak-host asroot; do wait_stat "$f" waiting 1 20; done
out=$("$F" invoke who)
base=$(echo "$out" | head -1 | cut -d' ' -f2)
expect_eq "root inside maps to an unprivileged host range of 65536 (uids and gids)" "0 $base 65536|0 $base 65536" \
	"$(echo "$out" | sed -n 1,2p | tr '\n' '|' | sed 's/|$//')"
if [ -n "$base" ] && [ "$base" -ge 1073741824 ] && [ "$base" -lt 2147483648 ]; then ok "... from 0x40000000 up (host uid $base)"; else not_ok "... from 0x40000000 up (host uid $base)"; fi
expect_eq "inside it is root, the image's files owned by root (idmapped layers), / writable" "0|0:0|0:0|0" \
	"$(echo "$out" | sed -n 3,6p | tr '\n' '|' | sed 's/|$//')"
other=$("$F" invoke who2 | cut -d' ' -f2)
if [ -n "$other" ] && [ "$other" != "$base" ]; then ok "another function gets another range ($other)"; else not_ok "another function gets another range ($other, $base)"; fi
"$F" invoke sleepy </dev/null >/dev/null 2>&1 &
ipid=$!
wait_stat sleepy running 1
spid=
for i in $(ls "$R/runtime" | grep -- "-sleepy-"); do
	p=$(jq -r .pid "$R/runtime/$i/state.json" 2>/dev/null)
	[ "$(cat /proc/"$p"/comm 2>/dev/null)" = sleep ] && spid=$p
done
uids=$(awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/${spid:-0}/status" 2>/dev/null)
sbase=$(awk '$1 == 0 {print $2}' "/proc/${spid:-0}/uid_map" 2>/dev/null)
if [ "${sbase:-0}" -ge 1073741824 ] && [ "$uids" = "$sbase $sbase $sbase $sbase" ]; then ok "the function's process is that unprivileged user on the host ($uids)"
else not_ok "the function's process is that unprivileged user on the host (uids $uids, map $sbase)"; fi
if [ -n "$spid" ] && [ "$(readlink "/proc/$spid/ns/user")" != "$(readlink /proc/self/ns/user)" ]; then ok "... in a user namespace of its own"; else not_ok "... in a user namespace of its own"; fi
kill "$ipid" 2>/dev/null
wait "$ipid" 2>/dev/null
out=$("$F" invoke leak --data - <"$T/hostdir" 2>&1)
expect_eq "a host dir leaked into a sandbox: its root-only canary cannot be written or read through it" "safe" "$(cat "$T/hostdir/canary")"
expect_match "... (Permission denied inside)" "Permission denied" "$out"
expect_eq "--userns host: root inside is the host's root (uid_map 0 0 4294967295)" "0 0 4294967295" "$("$F" invoke asroot)"
"$F" invoke leak-host --data - <"$T/hostdir" >/dev/null 2>&1
expect_eq "... which is what the user namespace keeps out (the same leak writes the canary)" "pwned" "$(cat "$T/hostdir/canary")"
expect_eq "gateway: label com.fcstart.userns=host" "0 0 4294967295 200" \
	"$(code -u "$CRED" -X POST -d '{"service":"gwroot","image":"bb","envProcess":"cat /proc/self/uid_map | tr -s \" \" | sed \"s/^ //\"","labels":{"com.fcstart.userns":"host"}}' "$U/system/functions" >/dev/null; wait_stat gwroot waiting 1 20; curl -s -w ' %{http_code}' "$U/function/gwroot" | tr -d '\n')"
refused() { local d=$1 re=$2 out; shift 2; out=$("$@" 2>&1 | tr '\n' ' '); expect_match "$d" "$re" "$out"; }
refused "label com.fcstart.userns=maybe refused, naming it" "com.fcstart.userns .maybe." "$F" fn deploy bad --image bb --label com.fcstart.userns=maybe -- cat
refused "an image user outside 0..65535 is refused, naming the way out" "70000:.*outside the sandbox's user namespace.*--userns host" "$F" fn deploy hi --image hiuid -- id
stop_daemon
# a descriptor per idmapped layer: 20 functions of a 64-layer image under the
# usual soft limit of 1024 descriptors
sh "$src/tests/lib/mkimage.sh" --bench-files 63 --bench-mb 1 --bench-layers 63 "$T/many" >/dev/null &&
	"$F" image --store "$T/store" import -q "$T/many" --name many >/dev/null
( ulimit -S -n 1024 && exec "$F" serve --root "$R" --store "$T/store" --socket "$SOCK" --http "127.0.0.1:$PORT" ) >"$T/serve.log" 2>&1 &
dpid=$!
for _ in $(seq 500); do curl -s -o /dev/null "$U/healthz" 2>/dev/null && break; sleep 0.02; done
for i in $(seq 20); do "$F" fn deploy "many$i" --image many --label com.openfaas.scale.min=0 -- sh -c 'ls /usr/lib/python3/site-packages | wc -l' >/dev/null; done
expect_eq "20 functions of a 64-layer image, daemon started with a soft limit of 1024 descriptors: the last one runs" 63 "$("$F" invoke many20 </dev/null 2>&1)"
stop_daemon
mkdir -m 700 "$T/closed"
R0=$R
R=$T/closed/root
start_daemon
refused "a root whose parent others cannot pass through: refused, naming the dir" "cannot pass through .$T/closed. \(mode 0700\)" "$F" fn deploy blocked --image bb -- cat
expect_eq "... and --userns host still deploys there" "deployed ok" "$("$F" fn deploy blocked --image bb --userns host -- cat 2>&1 | cut -d' ' -f1) ok"
stop_daemon
"$F" serve --root "$R" --cleanup >/dev/null 2>&1
R=$R0

echo "1..$n"
[ "$failed" = 0 ]
