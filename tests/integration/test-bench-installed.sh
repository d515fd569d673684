#!/bin/sh
# test-bench-installed.sh: an installed fcstart runs its benchmarks without the
# source or build tree. `meson install --destdir` into a temp dir; no path of
# either tree in the binaries' read-only data; then, in a private mount
# namespace where both trees are hidden under empty tmpfs mounts, from /, with
# no FC_* or FCRUN in the environment: `fcstart bench runtime` (its own busybox
# bundle, the fcrun installed next to it), `fcstart bench pool` and `fcstart
# bench coldstart` (their own busybox image) each finish without an error,
# and nothing is left behind.
# Environment: FC_SOURCE_ROOT, FC_BUILD_ROOT (the trees to install from and hide).
. "${FC_SOURCE_ROOT:-$(dirname "$0")/../..}/tests/lib/bench-test.sh"
for t in meson unshare jq; do
	command -v $t >/dev/null 2>&1 || { echo "SKIP: $t is not installed"; exit 77; }
done
[ -x /bin/busybox ] || { echo "SKIP: /bin/busybox is missing (busybox-static)"; exit 77; }
[ -f "$build/build.ninja" ] || { echo "FAIL: no build dir at $build"; exit 1; }
SRC=$(realpath "$src")
BUILD=$(realpath "$build")
bench_test_begin /var/tmp

meson install -C "$BUILD" --no-rebuild --destdir "$work/dest" > "$work/install.log" 2>&1 ||
	{ cat "$work/install.log"; echo "FAIL: meson install"; exit 1; }
bin=$(dirname "$(find "$work/dest" -type f -name fcstart | head -n1)")
[ -x "$bin/fcstart" ] && [ -x "$bin/fcrun" ] || { echo "FAIL: no fcstart and fcrun installed"; exit 1; }

# no path of the trees in what the programs read at run time (debug info
# may name them: it is not read); the floor (bench/floor.c) installed in libexec
if command -v objcopy >/dev/null 2>&1; then
	for b in fcstart fcrun; do
		objcopy -O binary --only-section=.rodata "$bin/$b" "$work/$b.rodata"
		for tree in "$SRC" "$BUILD"; do
			! grep -qaF "$tree" "$work/$b.rodata" || fail "$b has \`$tree\` in its .rodata"
		done
	done
else
	echo "objcopy is missing: the .rodata check is skipped"
fi

mkdir "$work/wd"
cat > "$work/run.sh" <<EOF
set -u
mount -t tmpfs -o ro,size=4k hidden "$SRC" || exit 90
[ "$BUILD" = "$SRC" ] || case "$BUILD" in "$SRC"/*) ;; *) mount -t tmpfs -o ro,size=4k hidden "$BUILD" || exit 90 ;; esac
[ -z "\$(ls -A "$SRC")" ] || exit 91
cd /
unset FC_SOURCE_ROOT FC_BUILD_ROOT FCRUN FCSTART
export TMPDIR="$work/wd"
r=0
"$bin/fcstart" bench runtime -n 1 --runtimes fcrun,floor --no-netns --pause-ms 5 \
	--json "$work/runtime.json" > "$work/runtime.out" 2>&1 || r=\$((r | 1))
"$bin/fcstart" bench pool --rounds 3 --runtime-rounds 2 --waiting 2 --rate 0 --http-cold 1 --cli 2 \
	--runtimes fcrun --no-ctr --no-docker --json "$work/pool.json" > "$work/pool.out" 2>&1 || r=\$((r | 2))
"$bin/fcstart" bench coldstart -n 1 --tiers tmpfs --paths fcrun,pool --pause-ms 5 \
	--workdir "$work/wd" --out "$work/cs" > "$work/coldstart.out" 2>&1 || r=\$((r | 4))
exit \$r
EOF
unshare -m --propagation private sh "$work/run.sh"
rc=$?
case $rc in
90 | 91) fail "could not hide the trees in a mount namespace (status $rc)" ;;
*)
	[ $((rc & 1)) = 0 ] || { fail "bench runtime failed:"; cat "$work/runtime.out"; }
	[ $((rc & 2)) = 0 ] || { fail "bench pool failed:"; cat "$work/pool.out"; }
	[ $((rc & 4)) = 0 ] || { fail "bench coldstart failed:"; cat "$work/coldstart.out"; }
	;;
esac

if [ -s "$work/runtime.json" ]; then
	jq -e --arg f "$bin/fcrun" '.bundle == null and .runtimes[0].path == $f and
		.runtimes[0].results["no-netns"].ok and .runtimes[0].results["no-netns"].run_ms.n == 1 and
		.runtimes[1].name == "floor" and (.runtimes[1].path | endswith("libexec/fcstart/fcstart-floor")) and
		.runtimes[1].results["no-netns"].ok' \
		"$work/runtime.json" > /dev/null ||
		fail "runtime.json: the installed fcrun did not run the busybox bundle: $(cat "$work/runtime.json")"
else
	fail "bench runtime wrote no JSON"
fi
if [ -s "$work/pool.json" ]; then
	jq -e '[.paths[] | select(.name == "pool hand-over" or .name == "on-demand" or
		.name == "http warm" or .name == "fcrun run") | .n > 0 and .error == null] |
		length == 4 and all' "$work/pool.json" > /dev/null ||
		fail "pool.json: a path failed: $(cat "$work/pool.json")"
	jq -e '[.cli[] | .n == 2 and .p50 > 0] | length == 4 and all' "$work/pool.json" > /dev/null ||
		fail "pool.json: the CLI's whole-process paths (/bin/true, fcstart invoke, fcrun run, the floor) did not all run: $(jq -c .cli "$work/pool.json")"
else
	fail "bench pool wrote no JSON"
fi
if [ -s "$work/cs/coldstart.json" ]; then
	jq -e '(.image | endswith("busybox.tar")) and [.results[] | .ok] == [true, true, true, true]' \
		"$work/cs/coldstart.json" > /dev/null ||
		fail "coldstart.json: $(jq -c '[.image, (.results[] | [.path, .scenario, .ok, .error])]' "$work/cs/coldstart.json")"
else
	fail "bench coldstart wrote no JSON"
fi
[ -z "$(ls -A "$work/wd")" ] || fail "left behind in TMPDIR/--workdir: $(ls -A "$work/wd")"
bench_test_no_process "installed" "$work/"

[ $fails = 0 ] || exit 1
echo "PASS: the installed fcstart ran bench runtime, pool and coldstart without the source tree"
exit 0
