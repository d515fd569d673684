#!/bin/bash
# e2e: fcstart as an OpenFaaS provider, with real servers started here on
# loopback and stopped after: a private `fcstart serve --http`, nginx
# (Debian's nginx-light) in front with contrib/nginx/fcstart.conf, hey for
# load, and a callback receiver. The function images are built here, offline:
# a classic-watchdog image and an of-watchdog image (tests/lib/fwatchdog, a
# stand-in for OpenFaaS's Go watchdogs), and the busybox test image.
# Checked: every route with good and bad input (404, 400 naming the field,
# 401, 413), the FunctionStatus fields, classic and HTTP functions, query,
# headers and body both ways, Http_* variables, a 50 MB body through nginx
# hashed right with the daemon's memory bounded, a 70 s function through
# nginx, timeouts (504), async with callbacks and after a kill -9, secrets
# seen only by the functions that ask, logs of two instances, 10,000
# requests at concurrency 50 through nginx with no error, and nothing left
# after (sandboxes, mounts, cgroups, processes, descriptors). TAP output.
set -u
[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root"; exit 77; }
src=${FC_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$src/tests/lib/scratch.sh"
build=${FC_BUILD_ROOT:-$src/build}
F=${FCSTART:-$build/bench/fcstart}
WD=${FC_FWATCHDOG:-$build/tests/lib/fwatchdog}
[ -x "$F" ] || { echo "1..0 # SKIP fcstart not built at $F"; exit 77; }
[ -x "$WD" ] || { echo "1..0 # SKIP tests/lib/fwatchdog not built at $WD"; exit 77; }
# Debian's nginx-light and hey, installed when missing (services not started)
need=
[ -x /usr/sbin/nginx ] || need="$need nginx-light"
command -v hey >/dev/null || need="$need hey"
if [ -n "$need" ] && [ "${FC_E2E_NO_INSTALL:-0}" != 1 ] && command -v apt-get >/dev/null; then
	made_policy=0
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && made_policy=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null 2>&1 ||
		{ apt-get update -qq >/dev/null 2>&1 &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null 2>&1; }
	[ $made_policy = 1 ] && rm -f /usr/sbin/policy-rc.d
fi
for t in jq curl python3 hey /usr/sbin/nginx sha512sum; do
	command -v "$t" >/dev/null || { echo "1..0 # SKIP $t is missing (apt-get install nginx-light hey jq curl python3)"; exit 77; }
done

T=$(mktemp -d /tmp/test-openfaas.XXXXXX)
chmod 711 "$T" # the sandboxes' root (a user namespace's) passes through to its dir
R=$T/root
export FCSTART_SOCKET=$T/api.sock
PORT=$((20000 + $$ % 20000)) NGX=$((20000 + ($$ + 7) % 20000)) CBP=$((20000 + ($$ + 13) % 20000))
U=http://127.0.0.1:$PORT  # fcstart
N=http://127.0.0.1:$NGX   # nginx in front
dpid= npid= cbpid=
. "$src/tests/lib/tap.sh"

# the daemon's fork servers and every process under them: ours to kill
daemon_tree() { [ -n "$dpid" ] && ps -o pid= --ppid "$dpid" 2>/dev/null | tr -d ' '; }
cleanup() {
	local rc=$?
	[ -n "$cbpid" ] && kill "$cbpid" 2>/dev/null
	[ -n "$npid" ] && kill -QUIT "$npid" 2>/dev/null
	if [ -n "$dpid" ]; then
		local fs
		fs=$(daemon_tree)
		kill -9 "$dpid" $fs 2>/dev/null
	fi
	wait 2>/dev/null
	scratch_cleanup
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_daemon() {
	"$F" serve --root "$R" --store "$T/store" --http "127.0.0.1:$PORT" --max-body 50m \
		--idle-timeout 5s "$@" >>"$T/serve.log" 2>&1 &
	dpid=$!
	for _ in $(seq 500); do curl -s "$U/healthz" >/dev/null 2>&1 && return 0; sleep 0.02; done
	return 1
}
stop_daemon() { kill -TERM "$dpid"; wait "$dpid"; local rc=$?; dpid=; return $rc; }
sys() { curl -s -u "$(cat "$R/basic-auth")" "$@"; }
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
scode() { code -u "$(cat "$R/basic-auth")" "$@"; }
deploy() { scode -X POST -H 'Content-Type: application/json' -d "$1" "$U/system/functions"; }
status() { sys "$U/system/function/$1"; }
wait_status() { # wait_status FN JQ-FILTER VALUE [SECONDS]
	local end=$((SECONDS + ${4:-20}))
	while [ "$SECONDS" -le "$end" ]; do [ "$(status "$1" | jq -r "$2")" = "$3" ] && return 0; sleep 0.05; done
	return 1
}
pstat() { "$F" stats --json | jq -r --arg f "$1" '.functions[] | select(.name == $f) | .'"$2"; }

# ---- the images --------------------------------------------------------------------------
PATHV='PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
mk() { sh "$src/tests/lib/mkimage.sh" "$@" >/dev/null && "$F" image --store "$T/store" import -q "${@: -1}" --name "$(basename "${@: -1}")" >/dev/null; }
mk "$T/bb" || { echo "1..0 # SKIP cannot build the test image"; exit 77; }
mk --add "$WD:/usr/bin/fwatchdog" --cmd '["fwatchdog"]' --env "[\"$PATHV\",\"fprocess=cat\"]" "$T/classic-wd" ||
	{ echo "Bail out! the classic-watchdog image"; exit 1; }
mk --add "$WD:/usr/bin/fwatchdog" --cmd '["fwatchdog"]' \
	--env "[\"$PATHV\",\"mode=http\",\"upstream_url=http://127.0.0.1:8082\",\"fprocess=fwatchdog serve\"]" "$T/of-wd" ||
	{ echo "Bail out! the of-watchdog image"; exit 1; }
ok "images built offline: busybox, classic watchdog, of-watchdog"

start_daemon || { echo "Bail out! the daemon does not start"; diag <"$T/serve.log"; exit 1; }
ok "fcstart serve --http on 127.0.0.1:$PORT"
fd_base=$(ls "/proc/$dpid/fd" | wc -l) # the daemon without a function or a client

# nginx in front, from contrib/nginx/fcstart.conf (its addresses made ours)
mkdir -p "$T/nginx/logs" "$T/nginx/tmp"
sed -e "s/127.0.0.1:8081/127.0.0.1:$PORT/" -e "s/listen 127.0.0.1:8080/listen 127.0.0.1:$NGX/" \
	"$src/contrib/nginx/fcstart.conf" >"$T/nginx/fcstart.conf"
cat >"$T/nginx/nginx.conf" <<EOF
daemon off;
worker_processes 2;
pid $T/nginx/nginx.pid;
error_log $T/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $T/nginx/tmp/body;
	proxy_temp_path $T/nginx/tmp/proxy;
	include $T/nginx/fcstart.conf;
}
EOF
/usr/sbin/nginx -p "$T/nginx" -c "$T/nginx/nginx.conf" 2>"$T/nginx/logs/start.log" &
npid=$!
for _ in $(seq 200); do curl -s "$N/healthz" >/dev/null 2>&1 && break; sleep 0.05; done
expect_eq "nginx (contrib/nginx/fcstart.conf) in front: /healthz" "OK" "$(curl -s "$N/healthz")"
python3 "$src/tests/lib/callback-receiver.py" "$CBP" "$(mkdir -p "$T/cb" && echo "$T/cb")" &
cbpid=$!

# ---- routes, auth, bad input ---------------------------------------------------------------
expect_eq "GET /healthz" "OK 200" "$(curl -s -w ' %{http_code}' "$U/healthz")"
expect_eq "/system/functions, /system/info, /metrics without credentials: 401" "401 401 401" \
	"$(code "$U/system/functions") $(code "$U/system/info") $(code "$U/metrics")"
expect_eq "a wrong password: 401" 401 "$(code -u admin:wrong "$U/system/functions")"
expect_match "GET /system/info: the provider's info" '^\{"provider":"fcstart","orchestration":"fcstart","version":\{"sha":"[^"]+","release":"[^"]+"\}\}$' "$(sys "$U/system/info")"
expect_match "... and faas-cli gets a gateway's info around it" '^\{"provider":\{"provider":"fcstart".*"arch":' \
	"$(sys -A faas-cli/0.17.0 "$U/system/info")"
expect_eq "GET /system/namespaces" '["openfaas-fn"]' "$(sys "$U/system/namespaces")"
expect_match "a deploy body that is no JSON: 400" "not a JSON object.* 400$" \
	"$(sys -w ' %{http_code}' -X POST -d '{"service":' "$U/system/functions" | tr '\n' ' ')"
expect_match "a deploy without a service: 400 naming it" "function name ``.* 400$" \
	"$(sys -w ' %{http_code}' -X POST -d '{"image":"bb"}' "$U/system/functions" | tr '\n' ' ')"
expect_match "limits.memory lots: 400 naming it" "limits.memory .lots.* 400$" \
	"$(sys -w ' %{http_code}' -X POST -d '{"service":"x","image":"bb","limits":{"memory":"lots"}}' "$U/system/functions" | tr '\n' ' ')"
expect_match "envVars with a number (not OpenFaaS's map of strings): 400 naming the member" "envVars.n: expected a string.* 400$" \
	"$(sys -w ' %{http_code}' -X POST -d '{"service":"x","image":"bb","envVars":{"n":1}}' "$U/system/functions" | tr '\n' ' ')"
expect_match "secrets as a string (not an array): 400 naming it" "secrets: expected an array.* 400$" \
	"$(sys -w ' %{http_code}' -X POST -d '{"service":"x","image":"bb","secrets":"api-key"}' "$U/system/functions" | tr '\n' ' ')"
expect_match "another namespace: 400 naming it" "namespace .dev.* 400$" \
	"$(sys -w ' %{http_code}' -X POST -d '{"service":"x","image":"bb","namespace":"dev"}' "$U/system/functions" | tr '\n' ' ')"
expect_match "an image that is not there: 400 naming it" "nope.* 400$" \
	"$(sys -w ' %{http_code}' -X POST -d '{"service":"x","image":"nope","labels":{"com.fcstart.pull":"never"}}' "$U/system/functions" | tr '\n' ' ')"
expect_eq "unknown function: status, scale, delete, update, invoke, async all 404" "404 404 404 404 404 404" \
	"$(scode "$U/system/function/nope") $(scode -X POST -d '{"replicas":1}' "$U/system/scale-function/nope") $(scode -X DELETE -d '{"functionName":"nope"}' "$U/system/functions") $(scode -X PUT -d '{"service":"nope","image":"bb"}' "$U/system/functions") $(code "$U/function/nope") $(code -X POST "$U/async-function/nope")"
expect_eq "an unknown route: 404; a route with another method: 405" "404 405" \
	"$(scode "$U/system/nothing") $(scode -X DELETE "$U/system/info")"

# ---- deploy and status ------------------------------------------------------------------------
expect_eq "deploy a classic-watchdog function (202)" 202 \
	"$(deploy '{"service":"env","image":"classic-wd","envProcess":"env","envVars":{"custom_env":"custom_env_value"},"labels":{"team":"a"},"annotations":{"topic":"x"},"namespace":"openfaas-fn"}')"
expect_eq "deploy an of-watchdog function as NAME.openfaas-fn (202)" 202 \
	"$(deploy '{"service":"echo.openfaas-fn","image":"of-wd","labels":{"com.openfaas.scale.min":"2"}}')"
st=$(status env.openfaas-fn)
expect_eq "status: name, image, namespace, envProcess, envVars, labels with faas_function, annotations" \
	'env classic-wd openfaas-fn env {"custom_env":"custom_env_value"} {"team":"a","faas_function":"env"} {"topic":"x"}' \
	"$(echo "$st" | jq -c -r '[.name, .image, .namespace, .envProcess, (.envVars|tojson), (.labels|tojson), (.annotations|tojson)] | join(" ")')"
expect_match "status: createdAt" '^20[0-9][0-9]-[01][0-9]-[0-3][0-9]T' "$(echo "$st" | jq -r .createdAt)"
expect_eq "status: no envVars when none were given; replicas is the desired count (min 2)" "null 2" \
	"$(status echo | jq -c -r '[(.envVars|tojson), .replicas] | join(" ")')"
wait_status echo .availableReplicas 2 && ok "availableReplicas reaches 2" || not_ok "availableReplicas reaches 2 ($(status echo | jq -c .))"
expect_eq "PUT updates a deployed function (202): the annotation changes" "202 y" \
	"$(scode -X PUT -d '{"service":"env","image":"classic-wd","envProcess":"env","envVars":{"custom_env":"custom_env_value"},"annotations":{"topic":"y"}}' "$U/system/functions") $(status env | jq -r .annotations.topic)"
expect_match "GET /system/functions lists both" "echo,env|env,echo" "$(sys "$U/system/functions" | jq -r '[.[].name] | sort | join(",")')"

# ---- invocations ----------------------------------------------------------------------------------
out=$(curl -s -D "$T/h1" "$U/function/env.openfaas-fn/some/path?a=1&b=two" -H 'X-Test: yes' -d 'hi')
expect_match "classic watchdog: Http_* (method, path, query, headers), the function's env" \
	'Http_Method=POST.*|Http_Path=/some/path' "$(echo "$out" | grep -E 'Http_Method|Http_Path' | tr '\n' '|')"
expect_eq "... Http_Query, Http_X_Test, custom_env" "Http_Query=a=1&b=two Http_X_Test=yes custom_env=custom_env_value" \
	"$(echo "$out" | grep -E '^(Http_Query|Http_X_Test|custom_env)=' | sort | tr '\n' ' ' | sed 's/ $//')"
hdr=$(tr -d '\r' <"$T/h1")
expect_match "the answer carries X-Call-Id, X-Start-Time, X-Duration-Seconds" \
	'X-Call-Id: [0-9a-f-]{36}.*X-Start-Time: [0-9]+|X-Start-Time: [0-9]+.*X-Call-Id' "$(echo "$hdr" | tr '\n' ' ')"
expect_match "... X-Duration-Seconds" 'X-Duration-Seconds: [0-9.]+' "$hdr"
expect_match "the first request of an instance is cold" 'X-Fcstart-Start: cold' "$hdr"
hdr=$(curl -s -D - -o /dev/null "$U/function/env" | tr -d '\r')
expect_match "... the next is warm" 'X-Fcstart-Start: warm' "$hdr"
verbs=
for m in GET POST PUT PATCH DELETE; do verbs="$verbs$(curl -s -X "$m" "$U/function/env" | grep '^Http_Method=' | cut -d= -f2) "; done
expect_eq "every verb reaches the watchdog" "GET POST PUT PATCH DELETE " "$verbs"
out=$(curl -s "$U/function/echo/p/q%20r?x=1&y=%2F" -H 'X-Test: yes' -H 'X-Call-Id: my-call' -d 'ping')
expect_eq "of-watchdog: method, path (escapes kept), query, headers, body relayed" \
	"method=POST|path=/p/q%20r|query=x=1&y=%2F|header X-Test=yes|header X-Call-Id=my-call|body-bytes=4|" \
	"$(echo "$out" | grep -E '^(method|path|query|header X-Test|header X-Call-Id|body-bytes)' | tr '\n' '|')"
expect_match "... X-Forwarded-For and X-Forwarded-Host added" 'X-Forwarded-For=127.0.0.1.*X-Forwarded-Host=127.0.0.1' "$(echo "$out" | tr '\n' ' ')"
expect_match "a response header and status pass back" '^HTTP/1.1 418.*X-Custom: abc' \
	"$(curl -s -D - -o /dev/null "$U/function/echo?status=418&header=X-Custom:abc" | tr -d '\r' | tr '\n' ' ')"
expect_match "a redirect passes back, not followed (302, Location)" '^HTTP/1.1 302.*Location: http://example.com/' \
	"$(curl -s -D - -o /dev/null "$U/function/echo?redirect=http://example.com/" | tr -d '\r' | tr '\n' ' ')"
head -c 300000 /dev/urandom >"$T/r300k"
expect_eq "a chunked request body, echoed whole" "$(sha256sum <"$T/r300k")" \
	"$(curl -s -H 'Transfer-Encoding: chunked' --data-binary @"$T/r300k" "$U/function/echo?echo=1" | sha256sum)"
expect_eq "a HEAD request" "200" "$(code -I "$U/function/echo")"
deploy '{"service":"plainenv","image":"bb","envProcess":"env"}' >/dev/null
expect_match "a classic function without a watchdog (stdin/stdout) gets the Http_* variables" \
	'Http_Method=PUT.*Http_Query=k=v|Http_Query=k=v.*Http_Method=PUT' \
	"$(curl -s -X PUT -d x "$U/function/plainenv?k=v" | tr '\n' ' ')"
expect_eq "... and the mode came from the image: classic" "classic true" "$("$F" fn ls --json | jq -r '.functions[] | select(.name == "plainenv") | "\(.spec.mode) \(.spec.mode_auto)"')"

# ---- scale ------------------------------------------------------------------------------------------
expect_eq "scale to 3: replicas 3, available 3" "202 3" \
	"$(scode -X POST -d '{"serviceName":"echo","replicas":3,"namespace":"openfaas-fn"}' "$U/system/scale-function/echo.openfaas-fn") $(status echo | jq .replicas)"
wait_status echo .availableReplicas 3 && ok "... availableReplicas 3" || not_ok "... availableReplicas 3 ($(status echo | jq -c .))"
expect_eq "scale to 0: replicas 0" "202 0" "$(scode -X POST -d '{"replicas":0}' "$U/system/scale-function/echo") $(status echo | jq .replicas)"
expect_eq "... and an invocation still works" 200 "$(code "$U/function/echo")"
expect_eq "scale back to 1 (the certifier's scale from zero): replicas 1" "202 1" \
	"$(scode -X POST -d '{"serviceName":"echo","replicas":1}' "$U/system/scale-function/echo") $(status echo | jq .replicas)"
wait_status echo .availableReplicas 1 && ok "... availableReplicas 1" || not_ok "... availableReplicas 1 ($(status echo | jq -c .))"

# ---- bodies: 413, 50 MB through nginx ---------------------------------------------------------------
deploy '{"service":"sha","image":"classic-wd","envProcess":"sha512sum"}' >/dev/null
head -c $((50 * 1000 * 1000)) /dev/urandom >"$T/50m"
head -c $((51 * 1024 * 1024)) /dev/zero >"$T/51m"
want=$(sha512sum <"$T/50m" | cut -d' ' -f1)
# sha50 [CURL-ARGS]: a 50 MB upload through nginx; the answer and the
# daemon's log are printed when it is not the hash. (A body that stalled in
# the gateway's relay until the watchdog gave up, 502 now and then on the
# first upload to a new function, was a lost wake-up: tests/unit/test-pool-relay.)
sha50() {
	local code
	code=$(curl -s -o "$T/sha.out" -w '%{http_code}' "$@" --data-binary @"$T/50m" "$N/function/sha")
	got=$(cut -d' ' -f1 <"$T/sha.out")
	[ "$got" = "$want" ] ||
		{ echo "HTTP $code: $(head -c 400 "$T/sha.out")"; tail -n 30 "$T/serve.log"; } | diag
}
hwm0=$(awk '/^VmHWM/ {print $2}' "/proc/$dpid/status")
sha50
hwm1=$(awk '/^VmHWM/ {print $2}' "/proc/$dpid/status")
expect_eq "a 50 MB body through nginx to a classic sha512sum function: the hash" "$want" "$got"
if [ "$hwm1" -lt $((hwm0 + 32768)) ]; then ok "... the daemon's peak memory grew by less than 32 MiB (${hwm0} -> ${hwm1} KiB)"
else not_ok "... the daemon's peak memory grew by less than 32 MiB (${hwm0} -> ${hwm1} KiB)"; fi
sha50 -H 'Transfer-Encoding: chunked'
expect_eq "the same, chunked from the client: the hash" "$want" "$got"
expect_eq "51 MiB: 413 from fcstart (announced), from nginx, chunked to fcstart" "413 413 413" \
	"$(code --data-binary @"$T/51m" "$U/function/sha") $(code --data-binary @"$T/51m" "$N/function/sha") $(code -H 'Transfer-Encoding: chunked' --data-binary @"$T/51m" "$U/function/sha")"

# ---- time: 70 s through nginx, the watchdog's and fcstart's timeouts ---------------------------------
deploy '{"service":"long","image":"of-wd","envVars":{"exec_timeout":"90s","write_timeout":"90s","read_timeout":"90s"}}' >/dev/null
curl -s -m 120 -o "$T/long.out" -w '%{http_code} %{time_total}' "$N/function/long?sleep=70" >"$T/long.code" &
lpid=$!
deploy '{"service":"short","image":"of-wd","labels":{"com.fcstart.timeout":"2s"}}' >/dev/null
expect_eq "a function past its time (com.fcstart.timeout 2s): 504" 504 "$(code -m 30 "$U/function/short?sleep=10")"
deploy '{"service":"wdtime","image":"classic-wd","envProcess":"sleep 10","envVars":{"exec_timeout":"1s"}}' >/dev/null
expect_eq "a classic watchdog's own exec_timeout answers first (408), within fcstart's 2 s" 408 "$(code -m 30 "$U/function/wdtime")"
expect_eq "the 70 s function updated (PUT) while it runs: 202" "202 2" \
	"$(scode -X PUT -d '{"service":"long","image":"of-wd","envVars":{"exec_timeout":"90s","write_timeout":"90s","read_timeout":"90s"},"annotations":{"v":"2"}}' "$U/system/functions") $(status long | jq -r .annotations.v)"

# ---- secrets -------------------------------------------------------------------------------------------
expect_eq "create secrets (201): a value, a raw value" "201 201" \
	"$(scode -X POST -d '{"name":"api-key","value":"s3cr3t-v1"}' "$U/system/secrets") $(scode -X POST -d "{\"name\":\"raw\",\"rawValue\":\"$(printf 'raw\001' | base64)\"}" "$U/system/secrets")"
expect_eq "create an existing one: 409; update a missing one: 404; a name with a slash: 400" "409 404 400" \
	"$(scode -X POST -d '{"name":"api-key","value":"x"}' "$U/system/secrets") $(scode -X PUT -d '{"name":"nope","value":"x"}' "$U/system/secrets") $(scode -X POST -d '{"name":"../x","value":"x"}' "$U/system/secrets")"
expect_eq "list: names, no values" '[{"name":"api-key","namespace":"openfaas-fn"},{"name":"raw","namespace":"openfaas-fn"}]' "$(sys "$U/system/secrets")"
expect_eq "stored with mode 0600" "600 600" "$(stat -c %a "$R/secrets/api-key") $(stat -c %a "$R/secrets/raw")"
deploy '{"service":"withsec","image":"classic-wd","envProcess":"cat /var/openfaas/secrets/api-key","secrets":["api-key"]}' >/dev/null
deploy '{"service":"nosec","image":"classic-wd","envProcess":"ls -A /var/openfaas/secrets"}' >/dev/null
expect_eq "a function that asks reads its secret" "s3cr3t-v1 200" "$(curl -s -w ' %{http_code}' "$U/function/withsec")"
expect_eq "a function that did not ask has none" 500 "$(code "$U/function/nosec")"
expect_match "... nor can it write the one it has (read-only)" "Read-only file system" \
	"$(deploy '{"service":"wrsec","image":"bb","envProcess":"exec 2>&1; echo x > /var/openfaas/secrets/api-key","secrets":["api-key"]}' >/dev/null; curl -s "$U/function/wrsec")"
expect_eq "deploying with a missing secret: 400" 400 "$(deploy '{"service":"missec","image":"bb","secrets":["nope"]}')"
expect_eq "an update reaches the function" "202 s3cr3t-v2" \
	"$(scode -X PUT -d '{"name":"api-key","value":"s3cr3t-v2"}' "$U/system/secrets") $(curl -s "$U/function/withsec")"
if grep -q "s3cr3t" "$T/serve.log"; then not_ok "no secret value in the daemon's log"; else ok "no secret value in the daemon's log"; fi
expect_eq "remove (202), then it is no longer listed" "202 raw" \
	"$(scode -X DELETE -d '{"name":"api-key"}' "$U/system/secrets") $(sys "$U/system/secrets" | jq -r '[.[].name] | join(",")')"

# ---- logs of two instances -------------------------------------------------------------------------------
deploy '{"service":"logger","image":"of-wd","envVars":{"log_requests":"1"},"labels":{"com.openfaas.scale.min":"2"}}' >/dev/null
curl -s -o /dev/null "$U/function/logger?sleep=2&n=a" &
l1=$!
sleep 0.3
curl -s -o /dev/null "$U/function/logger?n=b"
wait "$l1"
sys "$U/system/logs?name=logger&tail=100" >"$T/logs.ndjson"
expect_eq "GET /system/logs: NDJSON lines {name, namespace, instance, timestamp, text}" "logger openfaas-fn" \
	"$(head -1 "$T/logs.ndjson" | jq -r '"\(.name) \(.namespace)"')"
expect_eq "... the lines of two instances" 2 "$(grep -E 'GET /\?(sleep=2&)?n=' "$T/logs.ndjson" | jq -r .instance | sort -u | wc -l)"
expect_eq "?tail=1: one line" 1 "$(sys "$U/system/logs?name=logger.openfaas-fn&tail=1" | wc -l)"
expect_eq "?since= in the future: none" 0 "$(sys "$U/system/logs?name=logger&since=2999-01-01T00:00:00Z" | wc -l)"
expect_match "fcstart logs NAME --tail 2" '^[0-9T:.-]+Z logger \(fcs-[^)]+\) ' "$("$F" logs logger --tail 2)"
sys -N "$U/system/logs?name=logger&tail=0&follow=true" >"$T/follow.ndjson" &
fpid=$!
"$F" logs logger --tail 0 --follow >"$T/follow.txt" &
fpid2=$!
sleep 0.5
curl -s -o /dev/null "$U/function/logger?n=followed"
for _ in $(seq 100); do grep -q 'n=followed' "$T/follow.ndjson" && grep -q 'n=followed' "$T/follow.txt" && break; sleep 0.05; done
kill "$fpid" "$fpid2" 2>/dev/null
wait "$fpid" "$fpid2" 2>/dev/null
nf=$(grep -c 'n=followed' "$T/follow.ndjson")
expect_eq "follow=true and fcstart logs --follow get the new lines" "true $nf" "$([ "$nf" -ge 1 ] && echo true) $(grep -c 'n=followed' "$T/follow.txt")"
expect_eq "bad log queries: no name 400, unknown 404, tail not a number 400" "400 404 400" \
	"$(scode "$U/system/logs") $(scode "$U/system/logs?name=nope") $(scode "$U/system/logs?name=logger&tail=x")"

# ---- async: a callback, then a kill -9 -----------------------------------------------------------------------
hdr=$(curl -s -D - -o /dev/null -H "X-Callback-Url: http://127.0.0.1:$CBP/done" -d 'async-body' "$U/async-function/echo.openfaas-fn/a/b?c=d" | tr -d '\r')
cid=$(echo "$hdr" | sed -n 's/^X-Call-Id: //p')
expect_match "POST /async-function: 202 with X-Call-Id" '^HTTP/1.1 202' "$hdr"
for _ in $(seq 200); do [ -e "$T/cb/1.head" ] && break; sleep 0.05; done
expect_eq "the callback: POST with X-Call-Id, X-Function-Status 200, X-Function-Name" \
	"POST /done|X-Call-Id: $cid|X-Function-Name: echo.openfaas-fn|X-Function-Status: 200|" \
	"$(grep -E '^(POST|X-Call-Id|X-Function-Status|X-Function-Name)' "$T/cb/1.head" | sort | tr '\n' '|')"
expect_match "... X-Duration-Seconds, and the function's answer as its body" 'path=/a/b.*query=c=d.*body-bytes=10' \
	"$(grep -c X-Duration-Seconds "$T/cb/1.head") $(tr '\n' ' ' <"$T/cb/1.body")"
expect_eq "an X-Callback-Url that is not http: 400" 400 "$(code -H 'X-Callback-Url: file:///etc/passwd' -X POST "$U/async-function/echo")"
# ---- load: 10,000 requests at concurrency 50 through nginx ---------------------------------------------------------
expect_eq "a warm-up request through nginx" 200 "$(code "$N/function/echo")"
hey -n 10000 -c 50 -m POST -d 'load' "$N/function/echo" >"$T/hey.txt" 2>&1
rps=$(sed -n 's/^ *Requests\/sec:[[:space:]]*//p' "$T/hey.txt")
p50=$(sed -n 's/^ *50% in \([0-9.]*\) secs/\1/p' "$T/hey.txt")
p99=$(sed -n 's/^ *99% in \([0-9.]*\) secs/\1/p' "$T/hey.txt")
expect_eq "hey -n 10000 -c 50 through nginx: 10,000 answers 200, no error" "[200] 10000 responses|" \
	"$(sed -n '/Status code distribution/,$p' "$T/hey.txt" | grep -E '\[[0-9]+\]|Error' | sed 's/^ *//; s/\t/ /g' | tr '\n' '|')"
echo "# hey: $rps requests/s, p50 ${p50}s, p99 ${p99}s (a machine shared with other work)"
# ---- the 70 s function ------------------------------------------------------------------------------------------
wait "$lpid"
expect_match "a function of 70 s through nginx: 200, though updated while it ran" "^200 (7[0-9]|8[0-9])\." "$(cat "$T/long.code")"

# ---- async after a kill -9 -----------------------------------------------------------------------------
# 4 requests run (the worker's share), sleeping, 3 more wait in the queue:
# then the daemon and its fork servers are killed with SIGKILL
deploy '{"service":"slow","image":"of-wd","labels":{"com.openfaas.scale.max":"8"}}' >/dev/null
for i in 1 2 3 4; do code -H "X-Callback-Url: http://127.0.0.1:$CBP/slow" -X POST "$U/async-function/slow?sleep=60&n=$i" >/dev/null; done
for i in 1 2 3; do code -H "X-Callback-Url: http://127.0.0.1:$CBP/queued" -H "X-Call-Id: queued-$i" -d "q$i" "$U/async-function/echo?echo=1" >/dev/null; done
for _ in $(seq 100); do [ "$(ls "$R/async" | grep -c '\.run$')" -ge 4 ] && break; sleep 0.05; done
expect_eq "4 running, 3 queued in the durable queue" "4 7" "$(ls "$R/async" | grep -c '\.run$') $(ls "$R/async" | grep -c '\.req$')"
fs=$(daemon_tree)
kill -9 "$dpid" $fs
wait "$dpid" 2>/dev/null
dpid=
ncb=$(ls "$T/cb" | grep -c '\.head$')
start_daemon || { echo "Bail out! the daemon does not start again"; exit 1; }
for _ in $(seq 300); do [ "$(ls "$T/cb" | grep -c '\.head$')" -ge $((ncb + 7)) ] && break; sleep 0.1; done
expect_eq "after kill -9: the 4 that ran are reported failed (500), not run again" "4" \
	"$(grep -l '^POST /slow' "$T"/cb/*.head | xargs grep -l 'X-Function-Status: 500' | xargs grep -l 'X-Fcstart-Async: interrupted' | wc -l)"
expect_eq "... the 3 queued ran once each (200, their bodies)" "queued-1:q1 queued-2:q2 queued-3:q3" \
	"$(for f in $(grep -l '^POST /queued' "$T"/cb/*.head); do echo "$(sed -n 's/^X-Call-Id: //p' "$f"):$(cat "${f%.head}.body")"; done | sort | tr '\n' ' ' | sed 's/ $//')"
for _ in $(seq 100); do [ -z "$(ls "$R/async")" ] && break; sleep 0.05; done
expect_eq "... and the queue is empty" "" "$(ls "$R/async")"

# the instances idle out (--idle-timeout 5s), the functions go: what is left
for f in echo env plainenv sha long short wdtime withsec nosec wrsec logger slow; do
	scode -X DELETE -d "{\"functionName\":\"$f\"}" "$U/system/functions" >/dev/null
done
kill -QUIT "$npid" 2>/dev/null # nginx goes, and its kept connections
wait "$npid" 2>/dev/null
npid=
# (sandboxes/.rootfs stays: the empty directory every sandbox's root is attached on)
left() { ls -A "$R/sandboxes" | grep -vx '.rootfs'; ls -A "$R/runtime"; }
for _ in $(seq 300); do [ -z "$(left)" ] && break; sleep 0.1; done
expect_eq "every function removed: no sandbox or container state left" "" "$(left)"
# as at its start, but for the socket pair libcurl's multi handle keeps once
# a callback was posted
fd_max=$((fd_base + 2))
for _ in $(seq 100); do [ "$(ls "/proc/$dpid/fd" | wc -l)" -le "$fd_max" ] && break; sleep 0.1; done
fd1=$(ls "/proc/$dpid/fd" | wc -l)
if [ "$fd1" -le "$fd_max" ]; then ok "the daemon's descriptors, all functions gone: $fd1 (at its start: $fd_base, and libcurl's 2)"
else not_ok "the daemon's descriptors, all functions gone: $fd1 (at its start: $fd_base, and libcurl's 2)"; ls -l "/proc/$dpid/fd" | diag; fi
expect_eq "no mount under the root" 0 "$(grep -c " $R/" /proc/self/mountinfo)"
stop_daemon
expect_eq "the daemon stops cleanly" 0 "$?"
# the sandboxes' cgroups are /fcrun/fcs-<hash of the root>-...
pfx=$(head -1 "$T/logs.ndjson" | jq -r .instance | cut -d- -f1,2)
expect_eq "no cgroup of a sandbox left ($pfx-*)" "" "$(ls -d /sys/fs/cgroup/*/fcrun/"$pfx"-* /sys/fs/cgroup/fcrun/"$pfx"-* 2>/dev/null)"
expect_eq "no process of the daemon's left" "" "$(pgrep -f -- "--root $R" || true)"
done_testing
