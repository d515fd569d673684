#!/bin/bash
# HTTP functions in pre-warmed sandboxes: busybox httpd listening on
# 127.0.0.1:8080 inside the sandbox's own network namespace, reached through a
# socket the daemon creates in that namespace. Deploy, GET and POST (CGI),
# warm instance reused, errors, 10 concurrent requests, idle reaping, fn rm,
# clean stop with nothing left. TAP output.
set -u
[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root"; exit 77; }
src=${FC_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$src/tests/lib/scratch.sh"
F=${FCSTART:-${FC_BUILD_ROOT:-$src/build}/bench/fcstart}
[ -x "$F" ] || { echo "1..0 # SKIP fcstart not built at $F"; exit 77; }
command -v jq >/dev/null || { echo "1..0 # SKIP jq is missing"; exit 77; }
T=$(mktemp -d /tmp/test-pool-http.XXXXXX)
chmod 711 "$T" # the sandboxes' root (a user namespace's) passes through to its dir
R=$T/root
export FCSTART_SOCKET=$T/api.sock
dpid=
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
diag() { sed 's/^/# /'; }
expect_eq() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; printf 'expected: %s\n  actual: %s\n' "$2" "$3" | diag; fi; }
check() { local d=$1; shift; if "$@" >"$T/out" 2>&1; then ok "$d"; else not_ok "$d"; diag <"$T/out"; fi; }
cleanup() {
	local rc=$?
	[ -n "$dpid" ] && kill -9 "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null
	scratch_cleanup
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
pstat() { "$F" stats --json | jq -r --arg f "$1" ".functions[] | select(.name == \$f) | .$2"; }
wait_for() {
	for _ in $(seq 1000); do
		[ "$(pstat "$1" "$2")" = "$3" ] && return 0
		sleep 0.01
	done
	echo "$1 $2 is $(pstat "$1" "$2"), expected $3" >&2
	return 1
}

sh "$src/tests/lib/mkimage.sh" "$T/img" >/dev/null || { echo "1..0 # SKIP cannot build the test image"; exit 77; }
"$F" image --store "$T/store" import -q "$T/img" --name bb >/dev/null || { echo "Bail out! image import"; exit 1; }
"$F" serve --root "$R" --store "$T/store" --idle-timeout 1s >"$T/serve.log" 2>&1 &
dpid=$!
for _ in $(seq 500); do "$F" stats >/dev/null 2>&1 && break; sleep 0.02; done

cgi='#!/bin/sh\necho Content-Type: text/plain\necho\necho "method=$REQUEST_METHOD pid1=$(cat /proc/1/comm)"\ncat\n'
check "deploy busybox httpd as an http function" "$F" fn deploy web --image bb --mode http -- /bin/sh -c \
	"mkdir -p /www/cgi-bin && printf '$cgi' >/www/cgi-bin/echo && chmod +x /www/cgi-bin/echo && echo static-ok >/www/index.html && exec httpd -f -p 127.0.0.1:8080 -h /www"
check "pool fills" wait_for web waiting 1
out=$("$F" invoke web); rc=$?
expect_eq "GET / from a cold sandbox" "static-ok" "$out"
expect_eq "exit status 0 for 200" 0 "$rc"
out=$("$F" invoke web --path /cgi-bin/echo --data 'posted body')
expect_eq "POST body through CGI, inside its own pid namespace" "$(printf 'method=POST pid1=httpd\nposted body')" "$out"
expect_eq "the warm instance served both (one hand-over)" 1 "$(pstat web handovers)"
expect_eq "two requests counted" 2 "$(pstat web requests)"
"$F" invoke web --path /missing >/dev/null 2>"$T/err"; rc=$?
expect_eq "404 gives exit status 1" 1 "$rc"
grep -q "HTTP status 404" "$T/err" && ok "404 reported" || not_ok "404 reported"
check "pool refilled next to the running instance" wait_for web waiting 1

pids=
for i in $(seq 10); do
	( "$F" invoke web --path /cgi-bin/echo --data "req-$i" >"$T/c.$i" 2>&1; echo $? >"$T/rc.$i" ) &
	pids="$pids $!"
done
wait $pids
good=0
for i in $(seq 10); do
	[ "$(tail -n1 "$T/c.$i")" = "req-$i" ] && [ "$(cat "$T/rc.$i")" = 0 ] && good=$((good + 1))
done
expect_eq "10 concurrent requests answered" 10 "$good"
r=$(pstat web running)
[ "$r" -ge 1 ] && [ "$r" -le 20 ] && ok "instances scaled within max ($r running)" || not_ok "instances within max ($r)"
check "idle instances reaped (--idle-timeout 1s)" wait_for web running 0
check "waiting sandboxes back to min" wait_for web waiting 1
out=$("$F" invoke web)
expect_eq "works again after reaping" "static-ok" "$out"

# the function has no way out: its namespace has only lo and no route
check "deploy a network probe" "$F" fn deploy netprobe --image bb --mode http -- /bin/sh -c \
	"mkdir -p /w/cgi-bin && printf '#!/bin/sh\necho Content-Type: text/plain\necho\necho \$(ls /sys/class/net) routes=\$(tail -n +2 /proc/net/route | wc -l)\n' >/w/cgi-bin/p && chmod +x /w/cgi-bin/p && exec httpd -f -p 127.0.0.1:8080 -h /w"
out=$("$F" invoke netprobe --path /cgi-bin/p)
expect_eq "only lo and no route in the sandbox" "lo routes=0" "$out"

ls "$R/runtime" | grep -- '-web-' >"$T/web.ids"
check "fn rm web" "$F" fn rm web
# the fork server removes the state, then the cgroups and mounts: wait (bounded)
# until all are gone, as a loaded machine takes its time
for _ in $(seq 1000); do
	left=0
	while read -r id; do
		grep -q "/$id" /proc/self/mountinfo && left=1
		ls -d /sys/fs/cgroup/*/fcrun/"$id" /sys/fs/cgroup/fcrun/"$id" >/dev/null 2>&1 && left=1
		[ -e "$R/runtime/$id" ] && left=1
	done <"$T/web.ids"
	[ "$left" = 0 ] && break
	sleep 0.02
done
expect_eq "fn rm leaves no mount, cgroup or state" 0 "$left"
kill -TERM "$dpid"; wait "$dpid"; rc=$?; dpid=
expect_eq "daemon stops cleanly" 0 "$rc"
expect_eq "no mount left under the root" 0 "$(grep -c " $R/" /proc/self/mountinfo)"
[ -z "$(ls "$R/runtime")" ] && ok "no container state left" || not_ok "no container state left"
echo "1..$n"
[ "$failed" = 0 ]
