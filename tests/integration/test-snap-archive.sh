#!/bin/sh
# oci-archive and docker-archive tarballs read in place: an uncompressed
# archive on a regular file is indexed and its layer blobs are unpacked from
# their byte range (FCSTART_IMPORT_OUTER=index makes a fallback to extraction
# an error). The result is the same as from an OCI layout of the same image;
# a corrupted byte inside the archive is a digest error; archives that cannot
# be indexed (compressed, an entry stored twice, hard links, a pipe) are
# extracted as before.
set -u
[ "$(id -u)" = 0 ] || { echo "skip: needs root (layer files of any owner)"; exit 77; }
command -v jq >/dev/null || { echo "skip: needs jq"; exit 77; }
src=${FC_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
F=${FCSTART:-${FC_BUILD_ROOT:-$src/build}/bench/fcstart}
M="$src/tests/lib/mkimage.sh"
T=$(mktemp -d /tmp/test-snap-archive.XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# tree STORE: every layer file with its type, mode, owner, size and content
tree() {
	(cd "$1/layers" && find . -printf '%p %y %m %U:%G %s %l\n' | sort &&
		find . -type f -print0 | sort -z | xargs -0 -r sha256sum)
}
# summary STORE NAME: the image as inspect shows it, without time and paths
summary() {
	FCSTART_STORE=$1 "$F" image inspect "$2" |
		jq -S 'del(.imported, .name) | .layers |= map(del(.dir))'
}
# imp STORE IMAGE [MODE]: import under the name img
imp() {
	FCSTART_STORE=$1 FCSTART_IMPORT_OUTER=${3:-} "$F" image import --quiet "$2" --name img
}
# offset ARCHIVE: byte offset of the data of the archive's largest entry
offset() {
	tar -tvRf "$1" | awk '$1 == "block" { s = $5 + 0; if (s > max) { max = s; b = $2 + 0 } }
		END { print (b + 1) * 512 }'
}
flip() { # FILE OFFSET: invert one byte in place
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "$(printf '\\%03o' $((255 - b)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

for comp in gzip zstd none; do
	sh "$M" --format oci --compress $comp --name t "$T/lay-$comp" >/dev/null || exit 1
	sh "$M" --format oci-archive --compress $comp --name t "$T/oa-$comp.tar" >/dev/null || exit 1
	imp "$T/s-lay-$comp" "$T/lay-$comp" || fail "import OCI layout ($comp)"
	imp "$T/s-oa-$comp" "$T/oa-$comp.tar" index || fail "oci-archive ($comp) read in place"
	[ "$(ls "$T/s-oa-$comp/layers")" = "$(ls "$T/s-lay-$comp/layers")" ] ||
		fail "oci-archive ($comp): other layers than the layout's"
	[ "$(tree "$T/s-oa-$comp")" = "$(tree "$T/s-lay-$comp")" ] ||
		fail "oci-archive ($comp): layer files differ from the layout's"
	[ "$(summary "$T/s-oa-$comp" img)" = "$(summary "$T/s-lay-$comp" img)" ] ||
		fail "oci-archive ($comp): inspect differs from the layout's"
	[ "$(ls "$T/s-oa-$comp/blobs/sha256")" = "$(ls "$T/s-lay-$comp/blobs/sha256")" ] ||
		fail "oci-archive ($comp): other blobs than the layout's"
	for b in "$T/s-oa-$comp"/blobs/sha256/*; do
		[ "$(sha256sum < "$b" | cut -d' ' -f1)" = "$(basename "$b")" ] ||
			fail "oci-archive ($comp): blob $(basename "$b") is not its digest"
	done
	[ -z "$(ls "$T/s-oa-$comp/tmp")" ] || fail "oci-archive ($comp): staging leftovers"
done

sh "$M" --format docker-archive --name t "$T/da.tar" >/dev/null || exit 1
imp "$T/s-da" "$T/da.tar" index || fail "docker-archive read in place"
[ "$(ls "$T/s-da/layers")" = "$(ls "$T/s-lay-gzip/layers")" ] ||
	fail "docker-archive: other layers than the layout's"
[ "$(tree "$T/s-da")" = "$(tree "$T/s-lay-gzip")" ] ||
	fail "docker-archive: layer files differ from the layout's"
d=$(summary "$T/s-da" img | jq -c '[.config, .layers, .config_summary]')
l=$(summary "$T/s-lay-gzip" img | jq -c '[.config, .layers, .config_summary]')
[ "$d" = "$l" ] || fail "docker-archive: config or layers differ from the layout's"
imp "$T/s-da-x" "$T/da.tar" extract || fail "docker-archive extracted"
[ "$(tree "$T/s-da-x")" = "$(tree "$T/s-da")" ] || fail "docker-archive: extraction differs"
[ "$(summary "$T/s-da-x" img)" = "$(summary "$T/s-da" img)" ] ||
	fail "docker-archive: inspect differs between extraction and in place"

# an index.json of more than 64 KiB stays in the archive too: read from there
mkdir "$T/big" && tar -xf "$T/oa-gzip.tar" -C "$T/big" || exit 1
pad=$(head -c 100000 /dev/zero | tr '\0' x)
jq -c --arg p "$pad" '.annotations = {"pad": $p}' "$T/big/index.json" > "$T/big/i" &&
	mv "$T/big/i" "$T/big/index.json" && tar -cf "$T/big.tar" -C "$T/big" oci-layout index.json blobs || exit 1
imp "$T/s-big" "$T/big.tar" index || fail "an archive with a large index.json"
[ "$(tree "$T/s-big")" = "$(tree "$T/s-lay-gzip")" ] || fail "large index.json: layers differ"

# a byte of a layer blob flipped inside the archive: a digest error (oci),
# a diff_id or tar error (docker: no blob digests); nothing recorded
cp "$T/oa-gzip.tar" "$T/bad-oa.tar"
flip "$T/bad-oa.tar" $(($(offset "$T/bad-oa.tar") + 4096))
err=$(imp "$T/s-bad" "$T/bad-oa.tar" index 2>&1) && fail "corrupt oci-archive imported"
echo "  [corrupt oci-archive] $err"
echo "$err" | grep -q "digest mismatch" || fail "corrupt oci-archive: no digest error"
cp "$T/oa-none.tar" "$T/bad-oa.tar"
flip "$T/bad-oa.tar" $(($(offset "$T/bad-oa.tar") + 600000))
err=$(imp "$T/s-bad" "$T/bad-oa.tar" index 2>&1) && fail "corrupt oci-archive (none) imported"
echo "$err" | grep -q "digest mismatch" || fail "corrupt oci-archive (none): no digest error: $err"
cp "$T/da.tar" "$T/bad-da.tar"
flip "$T/bad-da.tar" $(($(offset "$T/bad-da.tar") + 1048576 + 100))
err=$(imp "$T/s-bad" "$T/bad-da.tar" index 2>&1) && fail "corrupt docker-archive imported"
echo "  [corrupt docker-archive] $err"
echo "$err" | grep -q "diff_id mismatch\|tar stream" || fail "corrupt docker-archive: no diff_id error"
FCSTART_STORE="$T/s-bad" "$F" image inspect img >/dev/null 2>&1 && fail "a corrupt image was recorded"
[ -z "$(find "$T/s-bad/layers" "$T/s-bad/blobs/sha256" "$T/s-bad/tmp" -mindepth 1)" ] ||
	fail "a failed import left data in the store"

# archives that cannot be indexed: refused with FCSTART_IMPORT_OUTER=index,
# extracted (same result) without it
check_fallback() { # what ARCHIVE why
	err=$(imp "$T/s-fb" "$2" index 2>&1) && fail "$1: read in place"
	echo "$err" | grep -q "cannot be read in place: $3" || fail "$1: message lacks '$3': $err"
	rm -rf "$T/s-fb"
	imp "$T/s-fb" "$2" || fail "$1: not imported by extraction"
	[ "$(tree "$T/s-fb")" = "$(tree "$T/s-lay-gzip")" ] || fail "$1: layers differ"
	rm -rf "$T/s-fb"
}
gzip -c "$T/oa-gzip.tar" > "$T/oa.tar.gz"
check_fallback "compressed archive" "$T/oa.tar.gz" compressed
mkdir "$T/x" && tar -xf "$T/oa-gzip.tar" -C "$T/x" || exit 1
big=$(cd "$T/x" && ls -S blobs/sha256 | head -1)
tar -cf "$T/twice.tar" -C "$T/x" oci-layout index.json blobs && tar -rf "$T/twice.tar" -C "$T/x" "blobs/sha256/$big" || exit 1
check_fallback "an entry stored twice" "$T/twice.tar" "an entry stored twice"
ln "$T/x/blobs/sha256/$big" "$T/x/hl" && tar -cf "$T/hl.tar" -C "$T/x" oci-layout index.json blobs hl || exit 1
check_fallback "hard links" "$T/hl.tar" "hard links"
err=$(cat "$T/oa-gzip.tar" | imp "$T/s-fb" /dev/stdin index 2>&1) && fail "a pipe read in place"
echo "$err" | grep -q "not a regular file" || fail "pipe: message: $err"
rm -rf "$T/s-fb"
cat "$T/oa-gzip.tar" | imp "$T/s-fb" /dev/stdin || fail "pipe: not imported by extraction"
[ "$(tree "$T/s-fb")" = "$(tree "$T/s-lay-gzip")" ] || fail "pipe: layers differ"

[ $fails = 0 ] && echo PASS && exit 0
echo "$fails failures"; exit 1
