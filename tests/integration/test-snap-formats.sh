#!/bin/sh
# Each archive format (OCI layout gzip/none, oci-archive zstd, docker-archive,
# multi-platform index) imported, made into a bundle (overlay and --copy) and
# run by a runtime: $FCRUN when it is a working runtime, else runc.
set -u
[ "$(id -u)" = 0 ] || { echo "skip: needs root (overlay mounts, containers)"; exit 77; }
src=${FC_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
F=${FCSTART:-${FC_BUILD_ROOT:-$src/build}/bench/fcstart}
M="$src/tests/lib/mkimage.sh"
RT=runc
if [ -n "${FCRUN:-}" ] && "$FCRUN" --version 2>/dev/null | grep -q version; then RT=$FCRUN; fi
command -v "$RT" >/dev/null || { echo "skip: no runtime ($RT)"; exit 77; }
T=$(mktemp -d /tmp/test-snap-formats.XXXXXX)
export FCSTART_STORE="$T/store"
cleanup() {
	for b in "$T"/b-*; do [ -d "$b" ] || continue
		"$RT" --root "$T/rt" delete -f "$(basename "$b")" >/dev/null 2>&1
		mountpoint -q "$b/rootfs" && umount "$b/rootfs"; done
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
echo "runtime: $RT"

# run_bundle NAME [--copy]: bundle, run, check output, unmount
run_bundle() {
	n=$1; shift
	b="$T/b-$(echo "$n" | tr ':/' '__')"
	if ! "$F" image bundle "$n" "$b" "$@"; then fail "bundle $n"; return; fi
	out=$("$RT" --root "$T/rt" run -b "$b" "$(basename "$b")" 2>&1)
	rc=$?
	echo "$out" | sed "s|^|  [$n] |"
	[ $rc = 0 ] || fail "$n: runtime exit $rc"
	for want in hello-from-image "opq: b.txt" "whiteout: ok" "lower: ok" "$EXPECT_ID"; do
		echo "$out" | grep -q "$want" || fail "$n: output lacks '$want'"
	done
	"$F" image unmount "$b" || fail "unmount $n"
	if mountpoint -q "$b/rootfs" 2>/dev/null; then fail "$n: still mounted"; fi
	rm -rf "$b"
}

EXPECT_ID="uid=0 gid=0 cwd=/app"
sh "$M" --format oci --compress gzip --name oci-gz "$T/oci-gz" || exit 1
"$F" image import --quiet "$T/oci-gz" || fail "import oci layout (gzip)"
run_bundle oci-gz
run_bundle oci-gz --copy

# The bundle's config.json: the project's default spec (what `fcrun spec`
# writes) with the image's config over it.
b="$T/b-config"
if "$F" image bundle oci-gz "$b" -- /bin/true; then
	jq -e '.process.terminal == false and .process.args == ["/bin/true"] and
		.process.cwd == "/app" and (.process.env[0] | startswith("PATH=")) and
		(.process.env | index("GREETING=hello-from-image")) != null and
		.hostname == "fcstart" and (.root.readonly // false) == false and
		([.linux.namespaces[].type] | index("cgroup")) != null and
		.annotations["io.fcstart.image.name"] == "oci-gz" and
		(.annotations["io.fcstart.image.manifest"] | startswith("sha256:")) and
		.annotations["org.opencontainers.image.exposedPorts"] == "8080/tcp" and
		.annotations["org.opencontainers.image.stopSignal"] == "SIGTERM"' \
		"$b/config.json" >/dev/null || fail "bundle config.json: the image's config"
	if [ -n "${FCRUN:-}" ] && mkdir "$T/spec" && "$FCRUN" spec -b "$T/spec"; then
		same='{m: .mounts, c: .process.capabilities, r: .process.rlimits,
			n: .process.noNewPrivileges, d: .linux.resources.devices,
			mp: .linux.maskedPaths, ro: .linux.readonlyPaths}'
		[ "$(jq -cS "$same" "$b/config.json")" = "$(jq -cS "$same" "$T/spec/config.json")" ] ||
			fail "bundle config.json: mounts, capabilities, devices, masked paths are fcrun spec's"
	fi
	"$F" image unmount "$b" || fail "unmount the config bundle"
	rm -rf "$b"
else
	fail "bundle oci-gz -- /bin/true"
fi

EXPECT_ID="uid=1000 gid=1000 cwd=/app"
sh "$M" --format oci-archive --compress zstd --user app --name oa-zstd "$T/oa.tar" || exit 1
"$F" image import "$T/oa.tar" >/dev/null || fail "import oci-archive (zstd)"
run_bundle oa-zstd

EXPECT_ID="uid=1000 gid=50 cwd=/app"
sh "$M" --format docker-archive --user app:staff --name docker.io/lib/da:1 "$T/da.tar" || exit 1
"$F" image import "$T/da.tar" >/dev/null || fail "import docker-archive"
run_bundle docker.io/lib/da:1

EXPECT_ID="uid=1000 gid=1000 cwd=/tmp"
sh "$M" --format oci --compress none --user 1000 --workdir /tmp --name plain "$T/plain" || exit 1
"$F" image import "$T/plain" --name plain2 >/dev/null || fail "import uncompressed"
run_bundle plain2

# 64 layers: more lower dirs than mount(2)'s one page of options holds
# (the new mount API takes them one at a time)
sh "$M" --bench-files 63 --bench-mb 1 --bench-layers 63 --name many "$T/many" >/dev/null || exit 1
"$F" image import --quiet "$T/many" || fail "import a 64-layer image"
b="$T/b-many"
if "$F" image bundle many "$b" -- sh -c 'ls /usr/lib/python3/site-packages | wc -l'; then
	out=$("$RT" --root "$T/rt" run -b "$b" b-many 2>&1)
	[ "$out" = 63 ] || fail "64 layers: every layer's files in the rootfs (got: $out)"
	"$F" image unmount "$b" || fail "unmount many"
else
	fail "bundle of a 64-layer image"
fi
"$F" image rm many && "$F" image gc --quiet || fail "rm/gc of the 64-layer image"

sh "$M" --multi-platform --name mp "$T/mp" || exit 1
"$F" image import "$T/mp" --name mp-arm --platform linux/arm64/v8 >/dev/null || fail "import --platform arm64"
"$F" image import "$T/mp" --name mp-amd >/dev/null || fail "import multi-platform default"
a=$("$F" image inspect mp-arm | jq -r .manifest); d=$("$F" image inspect mp-amd | jq -r .manifest)
[ "$a" != "$d" ] && [ -n "$a" ] || fail "platform selection: arm64 $a, amd64 $d"
"$F" image import "$T/mp" --name x --platform linux/s390x 2>/dev/null && fail "s390x should not resolve"

# every image shares the same two base layers: each unpacked once
nl=$(ls "$T/store/layers" | wc -l)
[ "$nl" = 2 ] || fail "expected 2 shared layers, found $nl"
"$F" image ls | grep -qx oci-gz || fail "ls lacks oci-gz"
"$F" image inspect docker.io/lib/da:1 | jq -e '.layers | length == 2' >/dev/null || fail "inspect JSON"
"$F" image inspect oci-gz | jq -e '.config_summary.ExposedPorts == ["8080/tcp"]' >/dev/null || fail "inspect ports"

# every stored blob (copied from a layout, linked from an archive) is its digest
for b in "$T"/store/blobs/sha256/*; do
	[ "$(sha256sum < "$b" | cut -d' ' -f1)" = "$(basename "$b")" ] || fail "blob $(basename "$b"): content does not match its name"
done
[ -z "$(ls "$T/store/tmp")" ] || fail "staging leftovers in tmp/: $(ls "$T/store/tmp")"

# rm + gc: nothing removed while referenced, everything once no name is left
for n in oci-gz oa-zstd docker.io/lib/da:1 plain2 mp-arm; do "$F" image rm "$n" || fail "rm $n"; done
"$F" image gc --quiet || fail gc
[ "$(ls "$T/store/layers" | wc -l)" = 2 ] || fail "gc removed layers still used by mp-amd"
# a mounted rootfs keeps its layers through rm + gc
"$F" image bundle mp-amd "$T/b-kept" -- true || fail "bundle mp-amd"
"$F" image rm mp-amd && "$F" image gc --quiet || fail "rm/gc"
[ "$(ls "$T/store/layers" | wc -l)" = 2 ] || fail "gc removed layers of a mounted rootfs"
[ -x "$T/b-kept/rootfs/bin/busybox" ] || fail "mounted rootfs lost its files"
"$F" image unmount "$T/b-kept" || fail "unmount b-kept"
"$F" image gc --quiet || fail "gc"
left=$(find "$T/store/layers" "$T/store/blobs/sha256" "$T/store/images" -mindepth 1 -maxdepth 1); [ -z "$left" ] || fail "gc left data behind: $left"
"$F" image inspect oci-gz 2>/dev/null && fail "inspect of a removed image succeeded"

[ $fails = 0 ] && echo PASS && exit 0
echo "$fails failures"; exit 1
