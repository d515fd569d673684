#!/bin/bash
# Fork mode (--prewarm fork, docs/initialized.md): a template of the real
# Python 3 HTTP function (tests/lib/mkfuncimage.sh: ~50 MB built at init)
# runs its init once and waits in fcstart.ready(); each instance is forked
# from it and moved into a sandbox of its own. Checks: instances answer
# initialized, as pid 1 of their own PID namespace with the function's
# capabilities; isolation between two instances (files, processes, network
# namespace, cgroup memory limit enforced per instance); fresh randomness;
# the gateway; a template killed (remade) and a redeploy (a new template); a
# classic (stdin/stdout) function; a hostile template whose instances keep
# every capability of their user namespace and try to escape (a host canary file, the helper's files, their
# cgroup limit, the host's and another function's processes); kill -9 of the
# daemon with the template and instances alive (nothing left). TAP output.
. "$(dirname "$0")/../lib/pool.sh"

image python py
start_daemon --idle-timeout 30s --http "127.0.0.1:$PORT"
# tpid FN: the host pid of FN's template (the fork servers' child running python3)
tpid() {
	local fs c
	for fs in $fspids; do
		for c in $(ps -o pid= --ppid "$fs"); do
			grep -q "python3" "/proc/$c/cmdline" 2>/dev/null || continue
			grep -q "FN_NAME=$1\b" "/proc/$c/environ" 2>/dev/null && echo "$c"
		done
	done
}
about() { "$F" invoke "$1" 2>&1; }
# memlimits FN: "CGROUP LIMIT" of each memory cgroup holding one of FN's python3 processes
memlimits() {
	local p c
	for p in $(procs_left | awk '/python3/ {print $1}'); do
		grep -q "FN_NAME=$1\b" "/proc/$p/environ" 2>/dev/null || continue
		c=$(awk -F: '$2 == "memory" {print $3}' "/proc/$p/cgroup")
		if [ -n "$c" ]; then
			echo "$c $(cat "/sys/fs/cgroup/memory$c/memory.limit_in_bytes")"
		else
			c=$(awk -F: '$1 == "0" {print $3}' "/proc/$p/cgroup")
			echo "$c $(cat "/sys/fs/cgroup$c/memory.max")"
		fi
	done | sort -u
}

# ---- end to end ------------------------------------------------------------------
check "deploy the Python function with --prewarm fork, min 2, --memory 160m" \
	"$F" fn deploy pyf --image py --mode http --prewarm fork --readiness /_/health --memory 160m \
	--env FN_NAME=pyf --label com.openfaas.scale.min=2
check "its template becomes ready" wait_for pyf template.state ready 60
check "two instances are forked and ready" wait_for pyf waiting 2 30
a=$(about pyf)
b=$(about pyf)
expect_eq "a never-used instance answers initialized (~50 MB of objects built once, in the template)" \
	"201649 true" "$(printf '%s' "$a" | jq -r '"\(.entries) \(.forked)"')"
expect_eq "it is pid 1 of its own PID namespace, its hostname the function's" "1 pyf" \
	"$(printf '%s' "$a" | jq -r '"\(.pid) \(.hostname)"')"
[ "$(printf '%s' "$a" | jq -r .netns)" != "$(printf '%s' "$b" | jq -r .netns)" ] &&
	ok "two instances have network namespaces of their own" || not_ok "one network namespace: $a $b"
[ "$(printf '%s' "$a" | jq -r .random)" != "$(printf '%s' "$b" | jq -r .random)" ] &&
	ok "their first random.random() differ (reseeded at the fork)" || not_ok "same random: $a $b"
[ "$(printf '%s' "$a" | jq -r .urandom)" != "$(printf '%s' "$b" | jq -r .urandom)" ] &&
	[ "$(printf '%s' "$a" | jq -r .uuid4)" != "$(printf '%s' "$b" | jq -r .uuid4)" ] &&
	ok "their os.urandom and uuid4 differ" || not_ok "same urandom or uuid4: $a $b"
out=$("$F" invoke pyf --path /exec --data 'grep -E "^Cap(Eff|Bnd)" /proc/self/status | tr "\n\t" "  "; echo $FCSTART_PREWARM')
expect_eq "the function's capabilities only (those of the template), FCSTART_PREWARM=fork" \
	"CapEff: 0000000020000420 CapBnd: 0000000020000420 fork" "$(printf '%s' "$out" | jq -r .out | tr -s ' ' | sed 's/ $//')"
out=$("$F" invoke pyf --path /exec --data 'cat /proc/1/cmdline | tr "\0" " "; echo; ls /.fcstart/python; touch /.fcstart/python/x 2>&1 | grep -c Read-only')
expect_eq "its /proc is its own (pid 1 is its python), the helper is there, read-only" \
	"python3 /app/server.py  fcstart.py 1" "$(printf '%s' "$out" | jq -r .out | tr '\n' ' ' | sed 's/ *$//')"

# isolation between two instances serving at once
iso() { "$F" invoke pyf --path /exec --data "touch /tmp/mark-$1; sleep 1.5; ls /tmp; for p in /proc/[0-9]*; do tr '\\0' ' ' <\$p/cmdline; echo; done" | jq -r .out; }
iso A >"$T/iso.A" & pa=$!
iso B >"$T/iso.B" & pb=$!
wait $pa $pb
grep -q mark-A "$T/iso.A" && ! grep -q mark-B "$T/iso.A" && grep -q mark-B "$T/iso.B" && ! grep -q mark-A "$T/iso.B" &&
	ok "a file written by one instance is not seen by the other (fresh upper dirs)" ||
	{ not_ok "files crossed"; cat "$T/iso.A" "$T/iso.B" | diag; }
! grep -q 'mark-B' "$T/iso.A" && ! grep -q 'mark-A' "$T/iso.B" && ! grep -q 'mark-' <(grep -h python3 "$T/iso.A") &&
	[ "$(grep -c 'python3 /app/server.py' "$T/iso.A")" = 1 ] &&
	ok "neither sees the other's processes, nor the template" || { not_ok "processes visible"; diag <"$T/iso.A"; }
ml=$(memlimits pyf)
n1=$(printf '%s\n' "$ml" | wc -l) n2=$(printf '%s\n' "$ml" | grep -c ' 167772160$')
[ "$n1" -ge 3 ] && [ "$n1" = "$n2" ] && [ "$n1" = "$(procs_left | grep -c python3)" ] &&
	ok "the template and each instance are in cgroups of their own ($n1), each with the function's limit" ||
	{ not_ok "cgroups of the python processes"; printf '%s\n' "$ml" | diag; }
# the memory limit is the instance's own: one that holds more is killed, the other answers
"$F" invoke pyf --path /alloc?mb=300 --data x >"$T/oom" 2>&1; rc=$?
[ "$rc" != 0 ] && ok "an instance that holds 300 MiB more is stopped by its own 160m limit (exit $rc)" ||
	not_ok "300 MiB held under a 160m limit: $(cat "$T/oom")"
out=$("$F" invoke pyf --path /alloc?mb=20 --data x)
expect_eq "another instance still holds 20 MiB (limits per instance, not shared with the template)" 20 "$(printf '%s' "$out" | jq -r .held_mb)"
expect_eq "the template is still the first one" "1 0" "$(pstat pyf template.made) $(pstat pyf template.failures)"
code=$(curl -s -o "$T/gw" -w '%{http_code}' "$U/function/pyf")
expect_eq "the gateway serves a forked instance" "200 true" "$code $(jq -r .forked "$T/gw")"

# ---- template crash, redeploy -----------------------------------------------------
t1=$(tpid pyf)
[ -n "$t1" ] && kill -9 $t1
check "a killed template is remade" wait_for pyf template.made 2 30
check "  ... and counted" wait_for pyf template.failures 1 5
check "  ... its instances went with it, new ones are forked" wait_for pyf waiting 2 60
expect_eq "  ... and answer" "true" "$(about pyf | jq -r .forked)"
t2=$(tpid pyf)
check "redeploy" "$F" fn deploy pyf --image py --mode http --prewarm fork --readiness /_/health \
	--memory 160m --env FN_NAME=pyf --env FN_VERSION=2 --label com.openfaas.scale.min=2
check "  ... makes a new template" wait_for pyf template.made 3 60
check "  ... whose instances are ready" wait_for pyf waiting 2 60
expect_eq "  ... and run the new spec" 2 "$("$F" invoke pyf --path /exec --data 'echo $FN_VERSION' | jq -r .out | tr -d '\n')"
for _ in $(seq 100); do kill -0 "$t2" 2>/dev/null || break; sleep 0.05; done
! kill -0 "$t2" 2>/dev/null && ok "  ... the old template is gone" || not_ok "old template $t2 still runs"

# ---- a hostile template ---------------------------------------------------------------
canary=$T/canary
helper=$(sha256sum "$R/helper/python/fcstart.py")
check "deploy a function whose template keeps every capability of its instances' user namespaces" \
	"$F" fn deploy evil --image py --mode http --prewarm fork --readiness /_/health --memory 160m \
	--env FN_NAME=evil --env FN_HOSTILE=1
check "its instance is ready" wait_for evil waiting 1 60
eff=$("$F" invoke evil --path /exec --data 'grep ^CapEff /proc/self/status' | jq -r .out | awk '{print $2}')
[ -n "$eff" ] && [ $(( 0x$eff >> 21 & 1 )) = 1 ] &&
	ok "its instance holds CAP_SYS_ADMIN (in its own user namespace: CapEff $eff)" || not_ok "no CAP_SYS_ADMIN: $eff"
esc="echo pwned > $canary 2>/dev/null; mkdir -p $T 2>/dev/null && echo pwned > $canary 2>/dev/null
mount -o remount,rw,bind /.fcstart/python 2>/dev/null; echo pwned >> /.fcstart/python/fcstart.py 2>/dev/null
mkdir /tmp/cg; mount -t cgroup -o memory cgroup /tmp/cg 2>/dev/null || mount -t cgroup2 cgroup /tmp/cg 2>/dev/null
echo -1 > /tmp/cg/memory.limit_in_bytes 2>/dev/null; echo max > /tmp/cg/memory.max 2>/dev/null
kill -9 $t2 $dpid $fspids $(tpid pyf) 2>/dev/null
mkdir /tmp/h && mount -t proc proc /tmp/h 2>/dev/null; ls /tmp/h 2>/dev/null | grep -c '^[0-9]'
nsenter -t 1 -m -n true 2>/dev/null; wget -q -T 1 -O - http://127.0.0.1:$PORT/healthz 2>/dev/null
echo done"
out=$("$F" invoke evil --path /exec --data "$esc" | jq -r .out)
expect_eq "its escape attempts end" "done" "$(printf '%s' "$out" | tail -n1)"
[ ! -e "$canary" ] && ok "it cannot write a host canary file" || not_ok "the host canary was written"
expect_eq "nor fcstart's helper on the host" "$helper" "$(sha256sum "$R/helper/python/fcstart.py")"
n1=$(memlimits evil | wc -l) n2=$(memlimits evil | grep -c ' 167772160$')
[ "$n1" -ge 2 ] && [ "$n1" = "$n2" ] && ok "nor raise its cgroup's memory limit (through a cgroup file system it mounts)" ||
	{ not_ok "evil's memory limits"; memlimits evil | diag; }
expect_match "it sees only its own PID namespace's processes in a /proc it mounts" "^[1-6]$" "$(printf '%s' "$out" | head -n1)"
kill -0 "$dpid" && ok "the daemon lives" || not_ok "the daemon was killed"
expect_eq "the other function's instances still answer, its template unharmed" "true 3" \
	"$(about pyf | jq -r .forked) $(pstat pyf template.made)"
check "remove it" "$F" fn rm evil

# ---- a classic (stdin/stdout) function -------------------------------------------------
check "deploy the classic Python function with --prewarm fork" \
	"$F" fn deploy pyc --image py --mode classic --prewarm fork --env FN_NAME=pyc -- python3 /app/classic.py
check "its instance is forked and waits in fcstart.ready()" wait_for pyc waiting 1 60
out=$("$F" invoke pyc --data "hello" --env FN_INVOKE=v1); rc=$?
expect_eq "an invocation gets its stdin, stdout and environment (initialized once, in the template)" \
	"0 hello v1 201649 1" "$rc $(printf '%s' "$out" | jq -r '"\(.echo) \(.env) \(.entries) \(.pid)"')"
"$F" invoke pyc --data "exit 3" >/dev/null; rc=$?
expect_eq "its exit status is the invocation's" 3 "$rc"
out2=$("$F" invoke pyc --data "again")
[ "$(printf '%s' "$out" | jq -r .random)" != "$(printf '%s' "$out2" | jq -r .random)" ] &&
	ok "each invocation is a new instance with its own random state" || not_ok "same random: $out $out2"
check "remove it" "$F" fn rm pyc

# ---- kill -9 of the daemon with the template and instances alive ------------------
check "the template and 2 instances are alive" wait_for pyf waiting 2 30
tp=$(tpid pyf)
kill -9 "$dpid"
wait "$dpid" 2>/dev/null
dpid=
for _ in $(seq 250); do
	alive=
	for p in $fspids $tp; do kill -0 "$p" 2>/dev/null && alive="$alive $p"; done
	[ -z "$alive" ] && break
	sleep 0.02
done
expect_eq "after kill -9 of the daemon its fork servers, the template and its instances end" "" "$alive"
fspids=
check "nothing is left: no process, mount, cgroup or state" wait_clean

# ---- kill -9 of the daemon and its fork servers: serve --cleanup -----------------------
start_daemon --idle-timeout 30s
check "the restarted daemon reloads the function: a template and 2 instances" wait_for pyf waiting 2 60
{ kill -9 "$dpid" $fspids; wait "$dpid"; } 2>/dev/null
dpid= fspids=
check "serve --cleanup after kill -9 of the daemon and its fork servers" "$F" serve --root "$R" --cleanup
check "  ... leaves nothing: the template and its instances are gone too" wait_clean
done_testing
