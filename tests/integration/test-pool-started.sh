#!/bin/bash
# Started mode (--prewarm started, label com.fcstart.prewarm=started): the
# pool keeps min instances of real Python 3 and Node.js HTTP functions
# (tests/lib/mkfuncimage.sh: ~50 MB built at init) started, initialized and
# ready, so a never-used instance answers without a hand-over; readiness by
# port or by path (200), an init that fails and a path that never answers
# (killed, reported, retried with back-off), the memory and CPU of waiting
# instances in fcstart stats, redeploy (also while a request runs: it ends on
# the old spec, the next request gets the new one), idle reaping and on-demand starts, a
# ready instance killed, the OpenFaaS gateway, a classic (stdin/stdout) Python
# function started ahead (it waits in fcstart.ready() for its invocation's
# stdio and environment; one instance per invocation) and classic functions
# that never call fcstart.ready() (reported, saying so), kill -9 of the daemon
# with started instances alive, and a clean stop. TAP output.
. "$(dirname "$0")/../lib/pool.sh"

image python py
image node node
start_daemon --idle-timeout 2s --http "127.0.0.1:$PORT"

# ---- Python, readiness by path ------------------------------------------------
check "deploy a Python HTTP function, --prewarm started --readiness /_/health" \
	"$F" fn deploy pyweb --image py --mode http --prewarm started --readiness /_/health
check "one instance becomes ready (its init done)" wait_for pyweb waiting 1
expect_eq "none starting once ready" 0 "$(pstat pyweb starting)"
out=$("$F" invoke -v pyweb 2>"$T/ev"); rc=$?
expect_eq "the never-used instance answers (exit 0)" 0 "$rc"
expect_eq "it was initialized before the request: ~50 MB of objects built" 201649 "$(printf '%s' "$out" | jq -r .entries)"
ev=$(grep '"connected"' "$T/ev" | sed 's/^fcstart invoke: //')
expect_eq "connected to a never-used started instance: no hand-over, none made for it" "true 0 false" \
	"$(printf '%s' "$ev" | jq -r '"\(.cold) \(.handover_us) \(.on_demand)"')"
expect_eq "no hand-over at all (started ahead)" 0 "$(pstat pyweb handovers)"
check "the refill keeps min 1 ready next to nothing running" wait_for pyweb waiting 1
out=$("$F" invoke pyweb --path /exec --data 'cat /proc/1/cmdline | tr "\0" " "; hostname')
expect_eq "the function is pid 1 of its sandbox, its hostname the function's" \
	"python3 /app/server.py pyweb" "$(printf '%s' "$out" | jq -r .out | tr '\n' ' ' | sed 's/ *$//')"
# (read in a child, which has the function's mask: CPython blocks every
# signal in itself while it vforks the child, so /proc/1 may show that)
expect_eq "no signal is blocked in the function (the fork server's mask is not its)" \
	"SigBlk:	0000000000000000" "$("$F" invoke pyweb --path /exec --data 'grep SigBlk /proc/self/status' | jq -r .out | tr -d '\n')"
expect_eq "the environment says how it runs" "started http" \
	"$("$F" invoke pyweb --path /exec --data 'echo $FCSTART_PREWARM $FCSTART_MODE' | jq -r .out | tr -d '\n')"
mem=$("$F" stats --json | jq '.functions[] | select(.name == "pyweb") | .waiting_memory')
cpu=$("$F" stats --json | jq '.functions[] | select(.name == "pyweb") | .waiting_cpu_ms')
[ "$mem" -gt $((40 << 20)) ] && ok "stats: the waiting instance's memory ($((mem >> 20)) MiB)" ||
	not_ok "stats: the waiting instance's memory ($mem)"
[ "$cpu" -gt 50 ] && ok "stats: its CPU time, mostly its init ($cpu ms)" || not_ok "stats: its CPU time ($cpu)"
expect_match "fcstart stats shows them" 'pyweb +[0-9]+ .* [0-9]+\.[0-9]Mi +[0-9.]+s' "$("$F" stats)"
expect_match "fn ls says started" 'pyweb .* http +started' "$("$F" fn ls)"

# concurrent requests: more instances start, each ready before it serves
pids=
for i in 1 2 3 4 5; do
	("$F" invoke pyweb --data "req-$i" >"$T/c.$i" 2>&1; echo $? >"$T/rc.$i") &
	pids="$pids $!"
done
wait $pids
good=0
for i in 1 2 3 4 5; do
	[ "$(jq -r .echo "$T/c.$i" 2>/dev/null)" = "req-$i" ] && [ "$(cat "$T/rc.$i")" = 0 ] && good=$((good + 1))
done
expect_eq "5 concurrent requests answered" 5 "$good"
check "idle instances above min are reaped (--idle-timeout 2s)" wait_for pyweb waiting 1 30

# redeploy: ready instances of the old spec go, new ones start
old=$(sandboxes pyweb | sort | tr '\n' ' ')
check "redeploy with a new environment" \
	"$F" fn deploy pyweb --image py --mode http --prewarm started --readiness /_/health --env FN_VERSION=2
check "a new instance is ready" wait_for pyweb waiting 1
expect_eq "it runs the new spec" 2 "$("$F" invoke pyweb --path /exec --data 'echo $FN_VERSION' | jq -r .out | tr -d '\n')"
new=$(sandboxes pyweb | sort | tr '\n' ' ')
[ "$old" != "$new" ] && ok "the old instances are gone ($old-> $new)" || not_ok "old instances still there: $new"

# redeploy while a request runs, at max 1: the request finishes on the old
# spec; the new spec's instance is started at once (the old one does not count
# towards its max), and the first request after the redeploy gets the new spec
# (before, it waited for the old request to end, then took the old instance)
deploy_v() {
	"$F" fn deploy pyweb --image py --mode http --prewarm started --readiness /_/health \
		--label com.openfaas.scale.max=1 --env FN_VERSION="$1"
}
check "max 1, FN_VERSION=3" deploy_v 3
check "one ready instance of it" wait_for pyweb waiting 1
check "... none starting" wait_for pyweb starting 0
("$F" invoke pyweb --path /exec --data 'sleep 15; echo "v$FN_VERSION"' >"$T/inflight" 2>&1
	echo $? >"$T/inflight.rc") &
inflight=$!
check "a long request runs on it" wait_for pyweb running 1
oldid=$(live_sandboxes pyweb)
check "redeploy with FN_VERSION=4 while it runs" deploy_v 4
expect_eq "the first request after the redeploy is answered by the new spec" 4 \
	"$("$F" invoke pyweb --path /exec --data 'echo $FN_VERSION' | jq -r .out | tr -d '\n')"
kill -0 "$inflight" 2>/dev/null && ok "... while the old spec's request still runs" ||
	not_ok "the new spec's request waited for the old one to end"
wait "$inflight"
expect_eq "the request in flight finished on the old spec" "0 v3" \
	"$(cat "$T/inflight.rc") $(jq -r .out "$T/inflight" | tr -d '\n')"
gone() {
	local i
	for i in $(seq 1500); do
		sandboxes pyweb | grep -qx -- "$1" || return 0
		sleep 0.02
	done
	echo "$1 is still there" >&2
	return 1
}
check "the old instance ($oldid) goes after its request" gone "$oldid"

# a ready instance killed: reported and replaced
"$F" fn scale pyweb --min 1 --max 1 >/dev/null
check "one ready instance (max 1)" wait_for pyweb waiting 1
check "... and none starting (every live one is ready)" wait_for pyweb starting 0
id=$(live_sandboxes pyweb | head -n1)
c=$(pstat pyweb creates)
kill -9 "$(init_pid "$id")"
check "a killed ready instance is replaced" wait_ge pyweb creates $((c + 1))
check "... and its replacement is ready" wait_for pyweb waiting 1
expect_match "it is reported" "ready sandbox .$id. died" "$(pstat pyweb last_error)"
"$F" fn scale pyweb --max 20 >/dev/null

# min 0: after the idle timeout nothing waits; a request starts one on demand
"$F" fn scale pyweb --min 0 >/dev/null
check "min 0: the ready instance is reaped once idle" wait_for pyweb waiting 0 30
out=$("$F" invoke -v pyweb 2>"$T/ev")
expect_eq "a request then starts one on demand and waits for it" "true 201649" \
	"$(grep '"connected"' "$T/ev" | sed 's/^fcstart invoke: //' | jq -r .on_demand) $(printf '%s' "$out" | jq -r .entries)"

# ---- failures: killed, reported, retried with back-off --------------------------
check "deploy a function whose readiness path never answers 200 (timeout 2s)" \
	"$F" fn deploy pynever --image py --mode http --prewarm started --readiness /nope --ready-timeout 2s
check "it is killed and counted" wait_ge pynever ready_failures 1 30
expect_match "stats say why" "not ready within 2 s" "$(pstat pynever last_error)"
expect_match "the log has the last probe's answer" "the last readiness probe found: HTTP 404 on /nope" "$(cat "$T/serve.log")"
expect_eq "it never counted as waiting" 0 "$(pstat pynever waiting)"
check "deploy a function whose init fails" \
	"$F" fn deploy pyfail --image py --mode http --prewarm started --env FN_INIT_FAIL=1
check "the failed init is counted" wait_ge pyfail ready_failures 2 30
expect_match "and reported with its status" "exited with status 1 before it was ready" "$(pstat pyfail last_error)"
sleep 3
c=$(pstat pyfail creates)
[ "$c" -le 5 ] && ok "retried with back-off (1, 2, 4 s: $c tries in ~6 s)" || not_ok "too many tries: $c"
"$F" fn rm pynever pyfail >/dev/null

# ---- a classic (stdin/stdout) Python function -----------------------------------------
check "deploy the classic Python function with --prewarm started" \
	"$F" fn deploy pyc --image py --mode classic --prewarm started --env FN_SPEC=1 -- python3 /app/classic.py
# (and two classic functions that never call fcstart.ready(), failing meanwhile:
# one blocks reading its stdin, one exits at once)
check "deploy a classic function without fcstart.ready() that reads stdin (ready timeout 2s)" \
	"$F" fn deploy pycat --image py --mode classic --prewarm started --ready-timeout 2s -- /bin/cat
check "deploy one that exits at once" "$F" fn deploy pytrue --image py --mode classic --prewarm started -- /bin/true
check "its instance runs its init and waits in fcstart.ready()" wait_for pyc waiting 1 60
expect_eq "none starting, no hand-over yet" "0 0" "$(pstat pyc starting) $(pstat pyc handovers)"
sleep 1
out=$("$F" invoke -v pyc --data "hello" --env FN_INVOKE=v1 2>"$T/ev"); rc=$?
expect_eq "the ready instance answers: stdin in, stdout out, the invocation's environment, exit 0" \
	"0 hello v1" "$rc $(printf '%s' "$out" | jq -r '"\(.echo) \(.env)"')"
expect_eq "it ran its init before the request (~50 MB of objects), as pid 1 of its sandbox" \
	"201649 1 pyc" "$(printf '%s' "$out" | jq -r '"\(.entries) \(.pid) \(.hostname)"')"
since=$(printf '%s' "$out" | jq -r '.since_init_ms | floor')
[ "$since" -ge 1000 ] 2>/dev/null && ok "its init ended before the request came ($since ms before it; init $(printf '%s' "$out" | jq -r .init_ms) ms)" ||
	not_ok "its init ended $since ms before the request (expected >= 1000: it was ready 1 s before)"
id1=$(grep '"started"' "$T/ev" | sed 's/^fcstart invoke: //' | jq -r .id)
expect_eq "handed over on its channel, not made for the request" false \
	"$(grep '"started"' "$T/ev" | sed 's/^fcstart invoke: //' | jq -r .on_demand)"
out2=$("$F" invoke -v pyc --data "exit 3" 2>"$T/ev"); rc=$?
expect_eq "its exit status is the invocation's" 3 "$rc"
id2=$(grep '"started"' "$T/ev" | sed 's/^fcstart invoke: //' | jq -r .id)
[ -n "$id2" ] && [ "$id1" != "$id2" ] && [ "$(printf '%s' "$out" | jq -r .random)" != "$(printf '%s' "$out2" | jq -r .random)" ] &&
	ok "a second request gets a fresh instance ($id1, then $id2)" || not_ok "same instance: $id1 $id2"
check "the refill starts another to keep min 1 ready" wait_for pyc waiting 1
out=$(curl -s -w ' %{http_code}' -X POST -d 'via the gateway' "$U/function/pyc/a/b?q=1")
expect_eq "through the gateway: the body on stdin, Http_Method, Http_Path, Http_Query in its environment" \
	"via the gateway|POST /a/b q=1|1 200" \
	"$(printf '%s' "${out% *}" | jq -r '"\(.echo)|\(.http)|\(.entries > 0 | if . then 1 else 0 end)"') ${out##* }"
check "redeploy with FN_INVOKE=spec2 in its spec" \
	"$F" fn deploy pyc --image py --mode classic --prewarm started --env FN_INVOKE=spec2 -- python3 /app/classic.py
expect_eq "the next request is answered by the new spec's instance" spec2 \
	"$("$F" invoke pyc --data x | jq -r .env)"
"$F" fn scale pyc --min 0 >/dev/null
# (none being made or started either: one that becomes ready would take the request)
check "min 0: its ready instance is reaped once idle, none is made" \
	wait_for pyc 'creating + .starting + .waiting' 0 30
out=$("$F" invoke -v pyc --data "on demand" 2>"$T/ev"); rc=$?
expect_eq "a request then starts one, waits for its fcstart.ready() and is answered" "0 true on demand" \
	"$rc $(grep '"started"' "$T/ev" | sed 's/^fcstart invoke: //' | jq -r .on_demand) $(printf '%s' "$out" | jq -r .echo)"
"$F" fn scale pyc --min 1 >/dev/null
check "a readiness failure of the one reading stdin: killed and counted" wait_ge pycat ready_failures 1 30
expect_match "reported: not ready, started mode for a classic function needs fcstart.ready()" \
	"pycat.* was not ready within 2 s; started mode for a classic function needs fcstart.ready\(\)" \
	"$("$F" fn ls)"
check "the one that exits at once is counted" wait_ge pytrue ready_failures 1 30
expect_match "reported: exited before it was ready, needs fcstart.ready()" \
	"exited with status 0 before it was ready; started mode for a classic function needs fcstart.ready\(\)" \
	"$(pstat pytrue last_error)"
expect_eq "neither ever counted as waiting" "0 0" "$(pstat pycat waiting) $(pstat pytrue waiting)"
"$F" fn rm pycat pytrue >/dev/null

# ---- Node.js, readiness by port ---------------------------------------------------
check "deploy a Node.js HTTP function, --prewarm started (ready when the port accepts)" \
	"$F" fn deploy nodeweb --image node --mode http --prewarm started
check "its instance becomes ready" wait_for nodeweb waiting 1
out=$("$F" invoke -v nodeweb 2>"$T/ev")
expect_eq "the never-used Node.js instance answers, initialized" "true $(( (50 << 20) / 120 ))" \
	"$(grep '"connected"' "$T/ev" | sed 's/^fcstart invoke: //' | jq -r .cold) $(printf '%s' "$out" | jq -r .entries)"
expect_eq "no hand-over" 0 "$(pstat nodeweb handovers)"
expect_eq "Node.js runs a child process and sees it end (child_process)" "0 hi" \
	"$(timeout 20 "$F" invoke nodeweb --path /exec --data 'echo hi' | jq -r '"\(.status) \(.out)"' | tr -d '\n')"

# ---- the OpenFaaS gateway ---------------------------------------------------------
sys() { curl -s -u "$(cat "$R/basic-auth")" "$@"; }
code=$(sys -o /dev/null -w '%{http_code}' -X POST -d '{"service":"gwpy","image":"py","labels":{"com.fcstart.mode":"http"},"annotations":{"com.fcstart.prewarm":"started","com.openfaas.health.http.path":"/_/health"}}' "$U/system/functions")
expect_eq "deploy through the gateway with the prewarm and health path annotations" 202 "$code"
expect_eq "the spec says started, its readiness path /_/health" "started /_/health" \
	"$("$F" fn ls --json | jq -r '.functions[] | select(.name == "gwpy") | "\(.spec.prewarm) \(.spec.readiness)"')"
check "ready" wait_for gwpy waiting 1
expect_eq "GET /function/gwpy answers from the ready instance" "201649 200" \
	"$(curl -s -w ' %{http_code}' "$U/function/gwpy" | sed 's/^.*"entries": \([0-9]*\).*} /\1 /')"

# ---- kill -9 of the daemon with started instances alive ---------------------------
expect_eq "bad prewarm values are refused, naming them" \
	"fcstart fn deploy: --prewarm \`later\`: expected exec, started or fork" \
	"$("$F" fn deploy x --image py --prewarm later 2>&1)"
out=$("$F" fn deploy x --image py --mode http --prewarm fork --userns host 2>&1); rc=$?
expect_match "fork mode without the function's own user namespace is refused, saying so" \
	"prewarm fork needs the function's own user namespace" "$rc $out"
[ "$rc" != 0 ] && ok "  ... with a non-zero exit ($rc)" || not_ok "  ... exit 0"
expect_eq "nothing of it is deployed" "" "$("$F" fn ls --json | jq -r '.functions[] | select(.name == "x") | .name')"
out=$("$F" fn deploy x --image py --mode http --readiness health 2>&1)
expect_match "a readiness path must be absolute" "readiness path .health.: expected an absolute URL path" "$out"
{ kill -9 "$dpid" $fspids; wait "$dpid"; } 2>/dev/null
dpid= fspids=
procs_left | wc -l | sed 's/^/processes left by the kill -9 of the daemon and its fork servers: /' | diag
check "serve --cleanup removes every started instance, mount, cgroup and state" "$F" serve --root "$R" --cleanup
check "nothing of the sandboxes is left" wait_clean

start_daemon --idle-timeout 2s
check "the restarted daemon reloads the started functions" wait_for nodeweb waiting 1
check "... and Python's" wait_for pyweb waiting 0
check "... and the classic one's, ready in fcstart.ready()" wait_for pyc waiting 1
out=$("$F" invoke pyc --data again); rc=$?
expect_eq "which answers" "0 again" "$rc $(printf '%s' "$out" | jq -r .echo)"
check "stop" stop_daemon
check "a clean stop leaves nothing" wait_clean
done_testing
