#!/bin/bash
# fcrun against hostile configs and images (issue 9): every check is an
# attempt that must fail without touching the host. Host canaries (files
# outside the container that must stay unread and unchanged), neighbour
# processes in a pre-existing cgroup that must survive, host sysctls read
# before and after (and put back if they changed), nesting bombs.
. "$(dirname "$0")/../lib/common.sh"
require_root
F="$FCRUN --root $ROOT"

# ---- JSON nesting (config.json, process.json, resources, state.json) ------
deep() { # deep N: N '[' then N ']'
	python3 -c "import sys; n=int(sys.argv[1]); sys.stdout.write('['*n + ']'*n)" "$1"
}
bundle "$T/deep" /bin/true
{ printf '{"ociVersion":"1.0.2","x":'; deep 1000000; printf '}'; } >"$T/deep/config.json"
out=$($F run --bundle "$T/deep" deep1 2>&1); rc=$?
expect_eq "config.json nested 1,000,000 deep: refused, not crashed" 1 "$rc"
expect_match "...the error names the file and says why" 'config.json: exceeded max depth' "$out"
check "...and leaves nothing behind" no_leftovers deep1

bundle "$T/live" /bin/sleep 30
check "create a container for the nesting checks" $F create --bundle "$T/live" live
{ printf '{"args":["true"],"cwd":"/","x":'; deep 1000000; printf '}'; } >"$T/process.json"
out=$($F exec --process "$T/process.json" live 2>&1); rc=$?
expect_eq "exec --process nested 1,000,000 deep: refused (255, as runc), not crashed" 255 "$rc"
expect_match "...the error names process.json" 'process.json: exceeded max depth' "$out"
{ printf '{"memory":'; deep 1000000; printf '}'; } >"$T/res.json"
out=$($F update -r "$T/res.json" live 2>&1); rc=$?
expect_eq "update -r nested 1,000,000 deep: refused, not crashed" 1 "$rc"
expect_match "...the error names the resources" 'resources: exceeded max depth' "$out"
check "delete live" $F delete -f live

mkdir -p "$ROOT/deepstate"
{ printf '{"id":"deepstate","x":'; deep 1000000; printf '}'; } >"$ROOT/deepstate/state.json"
out=$($F state deepstate 2>&1); rc=$?
expect_eq "state.json nested 1,000,000 deep: refused, not crashed" 1 "$rc"
expect_match "...the error names state.json" 'state.json: exceeded max depth' "$out"
rm -rf "${ROOT:?}/deepstate"

# ---- host escape through process.cwd = /proc/self/fd/N (CVE-2024-21626) ----
# Host canaries: $T/canary (two levels above a state dir: $ROOT/ID/../..) and
# $T/host/canary (a directory fcrun's caller holds open as fd 7). They must
# stay unread and unchanged, whatever N the container names.
secret="host-secret-$RANDOM$RANDOM"
mkdir -p "$T/host"
echo "$secret" >"$T/canary"
echo "$secret" >"$T/host/canary"
canary_sum() { cat "$T/canary" "$T/host/canary" | sha256sum; }
sum0=$(canary_sum)
probe='for p in canary ../canary ../../canary ../../../canary; do cat $p; done 2>/dev/null; echo pwned >>canary; echo pwned >>../../canary; true'
canaries_safe() { # DESC OUTPUT
	if printf '%s' "$2" | grep -q "$secret"; then not_ok "$1: the canary was read"; printf '%s\n' "$2" | diag
	elif [ "$(canary_sum)" != "$sum0" ]; then not_ok "$1: the canary changed"
	else ok "$1"; fi
}
bundle "$T/esc" /bin/sh -c "$probe"
exec 7<"$T/host"
jqedit "$T/esc" '.process.cwd = "/proc/self/fd/7"'
out=$($F run --bundle "$T/esc" esc7 2>&1); rc=$?
canaries_safe "run: cwd /proc/self/fd/7 (a host dir fcrun's caller holds) reaches nothing" "$out"
expect_eq "...run is refused" 1 "$rc"
expect_match "...naming process.cwd" 'process.cwd.*/proc/self/fd/7' "$out"
check "...and leaves nothing behind" no_leftovers esc7
out=""
for n in $(seq 3 20); do
	jqedit "$T/esc" ".process.cwd = \"/proc/self/fd/$n\""
	out="$out$($F run --bundle "$T/esc" "escn$n" 2>&1)"
	$F delete -f "escn$n" >/dev/null 2>&1
done
canaries_safe "run: cwd /proc/self/fd/N for N in 3..20 (the state dir, cgroup files, ...) reaches nothing" "$out"
jqedit "$T/esc" '.process.cwd = "/proc/self/fd/7"'
# (to a file: a created init holds create's stdout until it exits)
$F create --bundle "$T/esc" escc >"$T/escc.out" 2>&1; rc=$?
expect_eq "create: cwd /proc/self/fd/7 is refused" 1 "$rc"
$F start escc >>"$T/escc.out" 2>&1
for _ in $(seq 50); do [ "$($F state escc 2>/dev/null | jq -r .status)" = running ] || break; sleep 0.05; done
canaries_safe "...create/start reach nothing" "$(cat "$T/escc.out")"
$F delete -f escc >/dev/null 2>&1
check "...and leave nothing behind" no_leftovers escc
# A symlink in the image naming a host path is taken inside the container.
jqedit "$T/esc" '.process.cwd = "/hostlink"'
ln -s "$T/host" "$T/esc/rootfs/hostlink"
out=$($F run --bundle "$T/esc" escl 2>&1)
canaries_safe "run: cwd through an image symlink to a host path stays in the container" "$out"
rm -f "$T/esc/rootfs/hostlink"
# exec --cwd and process.json's cwd
bundle "$T/live2" /bin/sleep 30
check "create a container for exec" $F create --bundle "$T/live2" live2
check "start it" $F start live2
out=$($F exec --cwd /proc/self/fd/7 live2 /bin/sh -c "$probe" 2>&1); rc=$?
canaries_safe "exec --cwd /proc/self/fd/7 reaches nothing" "$out"
expect_eq "...exec is refused (255, as runc)" 255 "$rc"
expect_match "...naming --cwd" '\-\-cwd.*/proc/self/fd/7' "$out"
printf '{"args":["/bin/sh","-c","%s"],"cwd":"/proc/self/fd/7"}' "$probe" >"$T/pj.json"
out=$($F exec --process "$T/pj.json" live2 2>&1); rc=$?
canaries_safe "exec --process with cwd /proc/self/fd/7 reaches nothing" "$out"
expect_match "...naming process.cwd" 'process.cwd.*/proc/self/fd/7' "$out"
out=""
for n in $(seq 3 20); do
	out="$out$($F exec --cwd "/proc/self/fd/$n" live2 /bin/sh -c "$probe" 2>&1)"
done
canaries_safe "exec --cwd /proc/self/fd/N for N in 3..20 reaches nothing" "$out"
expect_eq "a normal exec still works" /tmp "$($F exec --cwd /tmp live2 /bin/pwd 2>&1)"
check "delete live2" $F delete -f live2
exec 7<&-

done_testing
