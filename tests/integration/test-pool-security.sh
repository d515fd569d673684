#!/bin/bash
# Security and robustness of `fcstart serve` (issue 9, the daemon part), each
# check made the way an attacker would try it against a private daemon (own
# --root, --socket, --store, port): basic auth on the gateway's /system/...
# routes (unauthenticated and wrong credentials refused, invocations and
# /healthz open as in OpenFaaS, the credentials file made 0600 and never
# logged). TAP output.
set -u
[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root"; exit 77; }
src=${FC_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
F=${FCSTART:-${FC_BUILD_ROOT:-$src/build}/bench/fcstart}
[ -x "$F" ] || { echo "1..0 # SKIP fcstart not built at $F"; exit 77; }
for t in jq curl python3; do command -v $t >/dev/null || { echo "1..0 # SKIP $t is missing"; exit 77; }; done
T=$(mktemp -d /tmp/test-pool-security.XXXXXX)
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
	[ -d "$R" ] && "$F" serve --root "$R" --cleanup >/dev/null 2>&1
	grep " $T" /proc/self/mountinfo | awk '{print $5}' | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
	rm -rf "$T"
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

sh "$src/tests/lib/mkimage.sh" "$T/img" >/dev/null || { echo "1..0 # SKIP cannot build the test image"; exit 77; }
"$F" image --store "$T/store" import -q "$T/img" --name bb >/dev/null || { echo "Bail out! image import"; exit 1; }

# ---- basic auth on /system/... ------------------------------------------------
start_daemon || { echo "Bail out! the daemon does not start"; cat "$T/serve.log" | diag; exit 1; }
A=$R/basic-auth
expect_eq "the credentials file is made at first start, mode 0600" "600 1" \
	"$(stat -c %a "$A" 2>/dev/null) $(wc -l <"$A" 2>/dev/null)"
CRED=$(cat "$A" 2>/dev/null)
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

echo "1..$n"
[ "$failed" = 0 ]
