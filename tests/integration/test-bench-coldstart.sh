#!/bin/sh
# test-bench-coldstart.sh: `fcstart bench coldstart -n 1 --tiers tmpfs,disk
# --paths fcrun,runc,pool` on a small generated image writes JSON with the
# expected keys, CSV, and an SVG that parses as XML, and leaves nothing behind
# (mounts, loop devices, cgroups, temp dirs, processes, pool sandboxes). Then a run with the emulated
# SSD tier (loop device + blkio cgroup) is interrupted with SIGINT once its
# tier exists, and must clean up the same way. Last, the containerd and docker
# paths (when installed) on a hybrid cgroup host must leave the cgroup2 tree's
# subtree_control files as they found them (runc under those engines enables
# hugetlb there, and crun then refuses the host), after a run and after SIGINT.
# Environment: FCSTART (the fcstart binary), FCRUN, FC_SOURCE_ROOT.
. "${FC_SOURCE_ROOT:-$(dirname "$0")/../..}/tests/lib/bench-test.sh"
for t in runc jq python3 losetup mkfs.ext4; do
	command -v $t >/dev/null 2>&1 || { echo "SKIP: $t is not installed"; exit 77; }
done
bench_test_begin /var/tmp

# what the harness may leave: mounts and loop devices under our dir, its cgroups
# (other tests on this machine come and go: only ours are compared)
snapshot() {
	{
		echo "== mounts"; awk '{print $5, $9}' /proc/self/mountinfo | grep -F "$work" | sort
		echo "== loop devices"; losetup -a 2>/dev/null | grep -F "$work" | sort
		echo "== cgroups"; find /sys/fs/cgroup -maxdepth 3 -name 'fcb-coldstart-*' 2>/dev/null
		echo "== pool sandboxes"; find /sys/fs/cgroup -maxdepth 4 -name 'fcs-*-cs-*' 2>/dev/null
	} > "$1"
}

left_behind() { # $1: label
	[ -z "$(ls -A "$work/wd")" ] || fail "$1: work dir not removed: $(ls -A "$work/wd")"
	if ! cmp -s "$work/before" "$work/after"; then
		fail "$1: mounts/loop devices/cgroups changed:"; diff "$work/before" "$work/after"
	fi
	bench_test_no_process "$1" "$work/wd"
}

sh "$src/tests/lib/mkimage.sh" --format oci-archive "$work/img.tar" > "$work/mkimage.log" 2>&1 ||
	{ cat "$work/mkimage.log"; echo "FAIL: mkimage.sh"; exit 1; }
mkdir "$work/wd"

snapshot "$work/before"
"$FCSTART" bench coldstart --image "$work/img.tar" -n 1 --tiers tmpfs,disk --paths fcrun,runc,pool \
	--pause-ms 5 --workdir "$work/wd" --out "$work/out" > "$work/stdout" 2> "$work/stderr"
rc=$?
[ $rc = 0 ] || { fail "fcstart bench coldstart exited $rc"; cat "$work/stderr"; }
snapshot "$work/after"

J="$work/out/coldstart.json"
if [ -s "$J" ]; then
	jq -e . "$J" > /dev/null || fail "coldstart.json is not JSON"
	for expr in \
		'.benchmark == "coldstart"' \
		'.rounds == 1 and .rounds_requested == 1' \
		'(.image | endswith("img.tar")) and .image_bytes > 0' \
		'.scenarios == ["uncached", "cached", "warm", "pool"]' \
		'.phases == ["import", "mount", "create", "start", "first_byte", "total"]' \
		'[.tiers[].name] == ["tmpfs", "disk"]' \
		'[.tiers[] | .built == true and .error == null and .limits == null] | all' \
		'[.paths[].name] == ["fcrun", "runc", "pool"]' \
		'[.paths[] | .available and (.binary | startswith("/"))] | all' \
		'(.results | length) == 14' \
		'[.results[] | .ok and .n == 1 and .error == null] | all' \
		'[.results[] | select(.path != "pool") | .phases_ms | .total.median > 0 and .mount.n == 1 and .create.n == 1 and .start.n == 1 and .first_byte.n == 1] | all' \
		'[.results[] | select(.path == "pool") | .scenario == "pool" and .phases_ms.first_byte.n == 1 and .phases_ms.create.n == 0] | all' \
		'[.results[] | select(.scenario == "pool") | .path] == ["pool", "pool"]' \
		'[.results[] | select(.scenario == "uncached") | .phases_ms.import.n == 1] | all' \
		'[.results[] | select(.scenario != "uncached") | .phases_ms.import.n == 0] | all' \
		'[.results[] | .phases_ms.total | .p95 >= .median and .p99 >= .p95 and (.samples | length) == 1] | all' \
		'[.results[] | select(.path == "runc") | .ratio_runc == 1 and .ratio_crun == null] | all' \
		'[.results[] | .phases_ms | .total.median >= .create.median + .first_byte.median - 0.01] | all'
	do
		jq -e "$expr" "$J" > /dev/null || fail "coldstart.json: expected $expr"
	done
else
	fail "no coldstart.json"
fi
C="$work/out/coldstart.csv"
[ "$(head -n1 "$C" 2>/dev/null | cut -d, -f1-4)" = "tier,scenario,path,phase" ] || fail "CSV header"
[ "$(grep -c ',ok$' "$C" 2>/dev/null)" = 84 ] || fail "CSV: expected 84 ok rows ((2 tiers x 3 scenarios x 2 paths + 2 pool) x 6 phases)"
S="$work/out/coldstart.svg"
python3 -c 'import sys, xml.dom.minidom
d = xml.dom.minidom.parse(sys.argv[1])
r = d.documentElement
assert r.tagName == "svg", r.tagName
texts = " ".join(t.firstChild.data for t in d.getElementsByTagName("text") if t.firstChild)
for w in ("tmpfs", "disk", "fcrun", "runc", " ms"):
    assert w in texts, w
assert len(d.getElementsByTagName("rect")) >= 12
' "$S" || fail "coldstart.svg does not parse as the expected XML"
grep -q '^uncached  fcrun ' "$work/stdout" || fail "table on stdout has no uncached fcrun row"
left_behind "run"

# SIGINT while the emulated SSD tier (loop device, cgroup) exists
snapshot "$work/before"
"$FCSTART" bench coldstart --image "$work/img.tar" -n 1000 --tiers tmpfs,ssd --paths runc \
	--pause-ms 5 --workdir "$work/wd" > "$work/stdout2" 2> "$work/stderr2" &
bg=$!
seen=0
for i in $(seq 600); do
	if grep -q "$work/wd/fcstart-coldstart.*/ssd" /proc/self/mountinfo &&
		[ -n "$(find /sys/fs/cgroup -maxdepth 3 -name "fcb-coldstart-$bg" 2>/dev/null)" ]; then
		seen=1
		break
	fi
	kill -0 "$bg" 2>/dev/null || break
	sleep 0.1
done
if [ $seen = 1 ]; then
	sleep 1 # into the rounds
	bench_test_sigint "SIGINT" "$work/stderr2"
	snapshot "$work/after"
	left_behind "SIGINT"
else
	wait "$bg"
	bg=
	if grep -q "tier ssd could not be built" "$work/stderr2"; then
		echo "ssd tier could not be built here, SIGINT part skipped: $(grep 'tier ssd' "$work/stderr2")"
	else
		fail "the ssd tier never appeared: $(cat "$work/stderr2")"
	fi
fi

# The engine paths: the cgroup2 tree's subtree_control files (the root's and
# one level below, as the harness saves them) are as they were, in those that
# exist before and after (other tests on this machine make and remove theirs)
SC=/sys/fs/cgroup/unified
sc_snapshot() {
	for f in "$SC/cgroup.subtree_control" "$SC"/*/cgroup.subtree_control; do
		[ -f "$f" ] && echo "$f: $(cat "$f")"
	done > "$1"
}
sc_same() { # $1: label
	changed=$(awk -F': ' 'NR == FNR { b[$1] = $0; next } ($1 in b) && b[$1] != $0 {
		print "was \"" b[$1] "\", is \"" $0 "\"" }' "$work/sc.before" "$work/sc.after")
	[ -z "$changed" ] || fail "$1: a cgroup2 subtree_control file changed: $changed"
}
engines=
[ -x /usr/bin/containerd ] && [ -x /usr/bin/ctr ] && [ -x /usr/bin/containerd-shim-runc-v2 ] &&
	engines=containerd
[ -n "$engines" ] && [ -x /usr/sbin/dockerd ] && engines="$engines,docker"
if [ ! -f "$SC/cgroup.subtree_control" ]; then
	echo "SKIP (engine paths' subtree_control): not a hybrid cgroup host ($SC)"
elif [ -z "$engines" ]; then
	echo "SKIP (engine paths' subtree_control): containerd is not installed"
else
	snapshot "$work/before"
	sc_snapshot "$work/sc.before"
	"$FCSTART" bench coldstart --image "$work/img.tar" -n 1 --tiers tmpfs --paths "$engines" \
		--pause-ms 5 --workdir "$work/wd" > "$work/stdout3" 2> "$work/stderr3"
	rc=$?
	sc_snapshot "$work/sc.after"
	snapshot "$work/after"
	[ $rc = 0 ] || { fail "bench coldstart --paths $engines exited $rc"; cat "$work/stderr3"; }
	grep -q '^warm      containerd ' "$work/stdout3" || fail "no warm containerd row: $(cat "$work/stdout3")"
	sc_same "engines ($engines)"
	left_behind "engines ($engines)"

	snapshot "$work/before"
	sc_snapshot "$work/sc.before"
	"$FCSTART" bench coldstart --image "$work/img.tar" -n 1000 --tiers tmpfs --paths containerd \
		--pause-ms 5 --workdir "$work/wd" > "$work/stdout4" 2> "$work/stderr4" &
	bg=$!
	for i in $(seq 600); do
		grep -q 'round 2/' "$work/stderr4" && break
		kill -0 "$bg" 2>/dev/null || break
		sleep 0.1
	done
	bench_test_sigint "containerd, SIGINT" "$work/stderr4"
	sc_snapshot "$work/sc.after"
	snapshot "$work/after"
	sc_same "containerd, SIGINT"
	left_behind "containerd, SIGINT"
fi

[ $fails = 0 ] || exit 1
echo "PASS: bench coldstart JSON/CSV/SVG/table ok, nothing left behind (also after SIGINT; engine paths: subtree_control as it was)"
exit 0
