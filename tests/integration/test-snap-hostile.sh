#!/bin/sh
# Hostile layers: each import fails with a clear error naming what is wrong,
# nothing escapes the layer directory, and the store is left as it was.
set -u
[ "$(id -u)" = 0 ] || { echo "skip: needs root (device node fixture, whiteout devices)"; exit 77; }
src=${FC_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
F=${FCSTART:-${FC_BUILD_ROOT:-$src/build}/bench/fcstart}
M="$src/tests/lib/mkimage.sh"
T=$(mktemp -d /tmp/test-snap-hostile.XXXXXX)
export FCSTART_STORE="$T/store"
trap 'rm -rf "$T" /tmp/fcsnap-evil' EXIT INT TERM
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
state() { (cd "$T/store" && find blobs layers images tmp -printf '%p %s %m\n' | sort | sha256sum); }

# a good image first, so the store holds something that must survive
sh "$M" --name good "$T/good" && "$F" image import -q "$T/good" || { echo "FAIL: base import"; exit 1; }
before=$(state)
rm -f /tmp/fcsnap-evil /etc/fcsnap-evil

check() { # kind expected-message [format]
	kind=$1 want=$2 fmt=${3:-oci}
	img="$T/h-$kind-$fmt"
	[ "$fmt" = oci ] || img="$img.tar"
	sh "$M" --format "$fmt" --hostile "$kind" --name "h-$kind" "$img" >/dev/null 2>&1 || { fail "$kind: generator"; return; }
	err=$("$F" image import "$img" --max-layer-size 32M 2>&1)
	rc=$?
	echo "  [$kind/$fmt] $err"
	[ $rc = 1 ] || fail "$kind/$fmt: exit $rc, expected 1"
	echo "$err" | grep -q -- "$want" || fail "$kind/$fmt: message lacks '$want'"
	[ "$(state)" = "$before" ] || fail "$kind/$fmt: the store changed"
	[ ! -e /tmp/fcsnap-evil ] || fail "$kind/$fmt: wrote outside the layer"
	"$F" image inspect "h-$kind" >/dev/null 2>&1 && fail "$kind/$fmt: image was recorded"
}
check traversal 'path traversal'
check symlink-escape 'escapes the layer through a symlink'
check hardlink-escape 'hardlink target'
check device 'device nodes'
check absurd-size 'exceeds the layer limit'
check bomb 'expanded size exceeds the limit'
check truncated-gzip 'truncated gzip stream'
check wrong-digest 'digest mismatch'
check wrong-diffid 'diff_id mismatch'
check traversal 'path traversal' oci-archive
check wrong-digest 'digest mismatch' oci-archive
check truncated-gzip 'diff_id mismatch\|truncated\|tar stream' docker-archive
# an oci-archive whose own tree escapes through a symlink
mkdir -p "$T/o1" "$T/o2/blobs/sha256" && ln -s /tmp/fcsnap-evil "$T/o1/blobs"
echo x > "$T/o2/blobs/sha256/evil"
tar -cf "$T/outer.tar" -C "$T/o1" blobs && tar -rf "$T/outer.tar" -C "$T/o2" --no-recursion blobs/sha256/evil
err=$("$F" image import "$T/outer.tar" --name outer 2>&1); rc=$?
echo "  [outer-symlink] $err"
[ $rc = 1 ] && echo "$err" | grep -q "escapes the archive" || fail "outer symlink escape not refused"
[ ! -e /tmp/fcsnap-evil ] || fail "outer archive wrote outside"
[ "$(state)" = "$before" ] || fail "outer: the store changed"
# a tarball that is no image at all
echo "not a tar" > "$T/junk"
"$F" image import "$T/junk" --name junk 2>&1 | grep -q "not a tar archive\|neither" || fail "junk file"
[ "$(state)" = "$before" ] || fail "junk: the store changed"
# the good image still runs off intact layers
"$F" image inspect good >/dev/null || fail "good image lost"

[ $fails = 0 ] && echo PASS && exit 0
echo "$fails failures"; exit 1
