#!/bin/bash
# The OpenFaaS-compatible HTTP gateway of `fcstart serve --http`: /healthz,
# deploy (POST /system/functions), list, invoke (/function/NAME), scale,
# a failing function (500), 20 concurrent invocations, delete; /system/...
# with the basic-auth credentials the daemon makes. TAP output.
set -u
[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root"; exit 77; }
src=${FC_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$src/tests/lib/scratch.sh"
F=${FCSTART:-${FC_BUILD_ROOT:-$src/build}/bench/fcstart}
[ -x "$F" ] || { echo "1..0 # SKIP fcstart not built at $F"; exit 77; }
for t in jq curl; do command -v $t >/dev/null || { echo "1..0 # SKIP $t is missing"; exit 77; }; done
T=$(mktemp -d /tmp/test-pool-gateway.XXXXXX)
chmod 711 "$T" # the sandboxes' root (a user namespace's) passes through to its dir
R=$T/root
export FCSTART_SOCKET=$T/api.sock
PORT=$((20000 + $$ % 20000))
U=http://127.0.0.1:$PORT
dpid=
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
diag() { sed 's/^/# /'; }
expect_eq() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; printf 'expected: %s\n  actual: %s\n' "$2" "$3" | diag; fi; }
cleanup() {
	local rc=$?
	[ -n "$dpid" ] && kill -9 "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null
	scratch_cleanup
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# the /system/... routes need the credentials the daemon made at its first start
sys() { curl -s -u "$(cat "$R/basic-auth")" "$@"; }
waiting() { sys "$U/system/function/$1" | jq -r .replicas; }
wait_replicas() { for _ in $(seq 1000); do [ "$(waiting "$1")" = "$2" ] && return 0; sleep 0.01; done; return 1; }

sh "$src/tests/lib/mkimage.sh" "$T/img" >/dev/null || { echo "1..0 # SKIP cannot build the test image"; exit 77; }
"$F" image --store "$T/store" import -q "$T/img" --name bb >/dev/null || { echo "Bail out! image import"; exit 1; }
"$F" serve --root "$R" --store "$T/store" --http "127.0.0.1:$PORT" >"$T/serve.log" 2>&1 &
dpid=$!
for _ in $(seq 500); do curl -s "$U/healthz" >/dev/null 2>&1 && break; sleep 0.02; done

expect_eq "GET /healthz" "OK 200" "$(curl -s -w ' %{http_code}' "$U/healthz")"
expect_eq "/system/... without credentials: 401" 401 "$(curl -s -o /dev/null -w '%{http_code}' "$U/system/functions")"
code=$(sys -o /dev/null -w '%{http_code}' -X POST -d '{"service":"echo","image":"bb","envProcess":"cat","labels":{"com.openfaas.scale.min":"2"},"envVars":{"GREETING":"hi"},"limits":{"memory":"64m","cpu":"500m"}}' "$U/system/functions")
expect_eq "POST /system/functions deploys (202)" 202 "$code"
wait_replicas echo 2 && ok "min 2 from com.openfaas.scale.min" || not_ok "min 2 from com.openfaas.scale.min"
expect_eq "GET /system/functions" "echo bb" "$(sys "$U/system/functions" | jq -r '.[] | "\(.name) \(.image)"')"
expect_eq "the function is visible to fcstart fn ls" "echo" "$("$F" fn ls --json | jq -r '.functions[].name')"
expect_eq "POST /function/echo echoes (200)" "hello gateway 200" "$(curl -s -w ' %{http_code}' -d 'hello gateway' "$U/function/echo")"
sys -X POST -d '{"service":"fail","image":"bb","envProcess":"cat >/dev/null; echo oops; exit 3"}' "$U/system/functions" >/dev/null
expect_eq "a function exiting 3 gives 500 with its output" "oops 500" "$(curl -s -w ' %{http_code}' -d x "$U/function/fail" | tr '\n' ' ' | sed 's/  */ /')"
pids=
for i in $(seq 20); do curl -s -d "req-$i" "$U/function/echo" >"$T/g.$i" & pids="$pids $!"; done
wait $pids
good=0
for i in $(seq 20); do [ "$(cat "$T/g.$i")" = "req-$i" ] && good=$((good + 1)); done
expect_eq "20 concurrent invocations" 20 "$good"
expect_eq "scale-function (202)" 202 "$(sys -o /dev/null -w '%{http_code}' -d '{"serviceName":"echo","replicas":4}' "$U/system/scale-function/echo")"
wait_replicas echo 4 && ok "4 replicas ready after scaling" || not_ok "4 replicas ready after scaling"
code=$(sys -o /dev/null -w '%{http_code}' -X POST -d '{"service":"web","image":"bb","envProcess":"mkdir -p /www && echo static-ok >/www/index.html && exec httpd -f -p 127.0.0.1:8080 -h /www","annotations":{"com.fcstart.mode":"http"}}' "$U/system/functions")
expect_eq "deploy an HTTP-mode function (busybox httpd)" 202 "$code"
expect_eq "GET /function/web relayed to httpd in its netns" "static-ok 200" "$(curl -s -w ' %{http_code}' "$U/function/web" | tr -d '\n')"
expect_eq "the function's own status passes through (404)" 404 "$(curl -s -o /dev/null -w '%{http_code}' "$U/function/web/missing")"
expect_eq "the HTTP instance stays warm (one hand-over)" 1 "$("$F" stats --json | jq '.functions[] | select(.name == "web") | .handovers')"
expect_eq "unknown function: 404" 404 "$(curl -s -o /dev/null -w '%{http_code}' "$U/function/nope")"
expect_eq "DELETE /system/functions (202)" 202 "$(sys -o /dev/null -w '%{http_code}' -X DELETE -d '{"functionName":"echo"}' "$U/system/functions")"
expect_eq "deleted function: 404" 404 "$(curl -s -o /dev/null -w '%{http_code}' -d x "$U/function/echo")"
kill -TERM "$dpid"; wait "$dpid"; rc=$?; dpid=
expect_eq "daemon stops cleanly" 0 "$rc"
expect_eq "no mount left" 0 "$(grep -c " $R/" /proc/self/mountinfo)"
echo "1..$n"
[ "$failed" = 0 ]
