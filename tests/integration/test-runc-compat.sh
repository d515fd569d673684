#!/bin/bash
# fcrun behaves as runc where users and engines can tell the difference:
# each check runs the same bundle (or command line) under runc and under
# fcrun, each with a root of its own, and compares the results (exit status,
# output, what the container saw). Where runc and crun disagree fcrun
# follows runc (README "fcrun"). Needs root and runc (Debian's).
. "$(dirname "$0")/../lib/common.sh"
require_root
command -v runc >/dev/null 2>&1 || skip_all "runc is not installed"
RUNC=$(command -v runc)
RR=$T/runc-root
mkdir -p "$RR"

# runc's containers go too, before common.sh's cleanup.
runc_cleanup() {
	for id in $("$RUNC" --root "$RR" list -q 2>/dev/null); do
		"$RUNC" --root "$RR" delete -f "$id" >/dev/null 2>&1
	done
	return 0
}
trap 'rc=$?; runc_cleanup; (exit $rc); cleanup' EXIT

# rt NAME ARGS...: the runtime NAME (runc or fcrun) with its own root.
rt() {
	local r=$1
	shift
	if [ "$r" = runc ]; then "$RUNC" --root "$RR" "$@"; else "$FCRUN" --root "$ROOT" "$@"; fi
}

# same DESC MODE REGEX FUNC ARGS...: `FUNC RUNTIME ARGS...` for runc, then for
# fcrun (FUNC prints, returns an exit status). MODE "out": same exit status
# and output, and fcrun's output matches REGEX; "rc": same exit status, and
# fcrun's output matches REGEX. Outputs are normalised first: the runtime's
# name becomes RT, logrus time stamps and container ids of this test go.
same() {
	local desc=$1 mode=$2 re=$3 fn=$4 r why=
	shift 4
	for r in runc fcrun; do
		"$fn" "$r" "$@" >"$T/out.$r" 2>&1
		echo $? >"$T/rc.$r"
		sed -i -e 's/time="[^"]*"/time="T"/' -e "s/\b$r\b/RT/g" -e "s/$CG_PREFIX-[a-z0-9-]*/ID/g" "$T/out.$r"
	done
	[ "$(cat "$T/rc.runc")" = "$(cat "$T/rc.fcrun")" ] || why="exit status differs"
	if [ "$mode" = out ] && ! cmp -s "$T/out.runc" "$T/out.fcrun"; then why="${why:+$why, }output differs"; fi
	[ -z "$re" ] || grep -Eq -- "$re" "$T/out.fcrun" || why="${why:+$why, }fcrun's output does not match /$re/"
	if [ -z "$why" ]; then
		ok "$desc"
	else
		not_ok "$desc: $why"
		{ echo "runc (exit $(cat "$T/rc.runc")):"; head -c 3000 "$T/out.runc"; echo "fcrun (exit $(cat "$T/rc.fcrun")):"; head -c 3000 "$T/out.fcrun"; } | diag
	fi
}

# wait_state RUNTIME ID STATUS: poll `state` (a bound against hanging).
wait_state() {
	for _ in $(seq 200); do
		[ "$(rt "$1" state "$2" 2>/dev/null | jq -r .status)" = "$3" ] && return 0
		sleep 0.05
	done
	return 1
}

n=0
newid() { n=$((n + 1)); id=$CG_PREFIX-c$n; }

B=$T/b
bundle "$B" sleep 1000

# ---- kill: signal 0, names and numbers ----------------------------------
kills() {
	local r=$1 s
	newid
	rt "$r" run -d --bundle "$B" "$id" >/dev/null 2>&1 || return 1
	for s in 0 USR1 usr1 SIGUSR1 sigusr1 10 99 bogus KILL; do
		rt "$r" kill "$id" "$s"
		echo "kill $s: $?"
	done
	wait_state "$r" "$id" stopped
	rt "$r" kill "$id" 0
	echo "kill 0 when stopped: $?"
	rt "$r" delete "$id"
}
same "kill: 0 checks liveness; names, numbers, a bad number, a bad name" rc \
	'^kill 0: 0$' kills
expect_eq "kill: each status as runc's" "$(grep '^kill' "$T/out.runc")" "$(grep '^kill' "$T/out.fcrun")"

done_testing
