#!/bin/sh
# kill -9 in the middle of an import leaves no image, no partial layer; the next
# import cleans the leftovers and succeeds. Two concurrent imports of images
# that share layers both succeed and unpack each layer once.
set -u
[ "$(id -u)" = 0 ] || { echo "skip: needs root (file ownership in layers)"; exit 77; }
src=${FC_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
F=${FCSTART:-${FC_BUILD_ROOT:-$src/build}/bench/fcstart}
M="$src/tests/lib/mkimage.sh"
# on disk (not tmpfs): slow enough creates to catch the import mid-way
T=$(mktemp -d /var/tmp/test-snap-crash.XXXXXX)
export FCSTART_STORE="$T/store"
pid=
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT INT TERM
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

sh "$M" --bench-files 6000 --bench-mb 24 --bench-layers 3 --name big "$T/img" || exit 1
"$F" image import -q "$T/img" --jobs 1 &
pid=$!
# wait until a layer is being unpacked (files appear in a staging layer dir)
n=0
while kill -0 "$pid" 2>/dev/null; do
	n=$(find "$T/store/tmp" -path '*/layer-*' -type f 2>/dev/null | head -n 200 | wc -l)
	[ "$n" -ge 100 ] && break
done
if [ "$n" -lt 100 ]; then
	wait "$pid"; pid=
	echo "skip: the import finished before it could be interrupted"; exit 77
fi
kill -9 "$pid"; wait "$pid" 2>/dev/null; pid=
echo "killed the import with $n+ files staged"
[ -z "$(ls "$T/store/images")" ] || fail "an image was recorded by the killed import"
for l in "$T"/store/layers/*; do
	[ -d "$l" ] || continue
	echo "  layer committed before the kill: $(basename "$l")"
done
[ -n "$(ls "$T/store/tmp")" ] || fail "expected leftovers in tmp/ after kill -9"
"$F" image import -q "$T/img" || fail "re-import after kill -9"
[ -z "$(ls "$T/store/tmp")" ] || fail "stale staging dirs were not removed"
"$F" image inspect big | jq -e '.layers | length == 4' >/dev/null || fail "inspect after re-import"
# the layers are complete: same file count as the layer tars
want=0
for b in "$T"/img/blobs/sha256/*; do
	case "$(head -c2 "$b" | od -An -tx1 | tr -d ' ')" in 1f8b) c=$(gzip -dc "$b" | tar -tf - | grep -v '/$' | grep -vc '^\./$');; *) continue;; esac
	want=$((want + c))
done
got=$(find "$T"/store/layers/* -mindepth 1 ! -type d | wc -l)
[ "$got" = "$want" ] || fail "layers hold $got files, the tars $want"

# concurrent imports sharing layers
"$F" image rm big && "$F" image gc -q
"$F" image import -q "$T/img" --name c1 & p1=$!
"$F" image import -q "$T/img" --name c2 & p2=$!
wait $p1 || fail "concurrent import c1"
wait $p2 || fail "concurrent import c2"
[ "$(ls "$T/store/layers" | wc -l)" = 4 ] || fail "concurrent imports: $(ls "$T/store/layers" | wc -l) layer dirs, want 4"
got=$(find "$T"/store/layers/* -mindepth 1 ! -type d | wc -l)
[ "$got" = "$want" ] || fail "after concurrent imports layers hold $got files, want $want"
[ -z "$(ls "$T/store/tmp")" ] || fail "concurrent imports left staging dirs"

[ $fails = 0 ] && echo PASS && exit 0
echo "$fails failures"; exit 1
