#!/bin/sh
# mkimage.sh [OPTIONS] OUT: generate a container image without network from
# Debian's busybox-static, as an OCI image layout dir, an oci-archive or a
# docker-archive tarball. Uses tar, gzip/zstd, sha256sum, jq.
#
#   --format oci|oci-archive|docker-archive   (default oci)
#   --compress gzip|zstd|none                 layer compression (OCI formats; default gzip)
#   --name NAME                               ref name / RepoTags (default test:latest)
#   --cmd JSON --entrypoint JSON              e.g. '["sh","-c","echo hi"]'
#   --add SRC:DEST                            copy the host's file SRC to DEST in the app
#                                             layer (repeatable; the test layers only)
#   --user USER --workdir DIR --env JSON      image config fields
#   --multi-platform                          index with linux/arm64 and linux/amd64 manifests
#   --bench-files N --bench-mb MB --bench-layers L
#                                             instead of the test layers: L layers of small
#                                             files, N files, about MB megabytes in all
#   --bench-large MB                          one layer of a few large files of MB in all
#   --bench-random MB                         one layer of 1 MiB files of random bytes (gzip
#                                             cannot shrink them), MB in all
#   --rootfs DIR                              instead of the test layers: a layer made of DIR
#                                             (again for more layers, lowest first)
#   --hostile KIND                            add a hostile top layer / corruption:
#         traversal symlink-escape hardlink-escape device absurd-size bomb
#         truncated-gzip wrong-digest wrong-diffid
#
# The test image has two layers: the busybox rootfs (with /old/gone.txt and
# /opq/a.txt) and an app layer that whites out /old/gone.txt, makes /opq opaque
# (adding /opq/b.txt) and adds /app/hello.sh. /etc/passwd has app (1000:1000).
set -eu

format=oci comp=gzip name=test:latest
cmd='["/app/hello.sh"]' entrypoint=null user= workdir=/app
env='["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","GREETING=hello-from-image"]'
multi=0 bfiles=0 bmb=0 blayers=5 blarge=0 brandom=0 hostile= adds= rootfs=
while [ $# -gt 1 ]; do
	case "$1" in
	--format) format=$2; shift 2 ;;
	--compress) comp=$2; shift 2 ;;
	--name) name=$2; shift 2 ;;
	--cmd) cmd=$2; shift 2 ;;
	--entrypoint) entrypoint=$2; shift 2 ;;
	--user) user=$2; shift 2 ;;
	--workdir) workdir=$2; shift 2 ;;
	--env) env=$2; shift 2 ;;
	--add) adds="$adds $2"; shift 2 ;;
	--multi-platform) multi=1; shift ;;
	--bench-files) bfiles=$2; shift 2 ;;
	--bench-mb) bmb=$2; shift 2 ;;
	--bench-layers) blayers=$2; shift 2 ;;
	--bench-large) blarge=$2; shift 2 ;;
	--bench-random) brandom=$2; shift 2 ;;
	--hostile) hostile=$2; shift 2 ;;
	--rootfs) rootfs="$rootfs
$2"; shift 2 ;;
	*) echo "mkimage.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
out=${1:?usage: mkimage.sh [OPTIONS] OUT}
here=$(cd "$(dirname "$0")" && pwd)
for t in tar sha256sum jq gzip; do
	command -v $t >/dev/null || { echo "mkimage.sh: $t is missing" >&2; exit 1; }
done
[ "$comp" != zstd ] || command -v zstd >/dev/null || { echo "mkimage.sh: zstd is missing" >&2; exit 1; }

work=$(mktemp -d /tmp/mkimage.XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM
mkdir -p "$work/blobs/sha256"
TAR="tar --sort=name --mtime=@1700000000 --owner=0 --group=0 --numeric-owner --format=pax --pax-option=delete=atime,delete=ctime"

sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }

# add_layer TARFILE: compress into a blob; appends "digest size diffid mediatype" to $work/layers
add_layer() {
	diff=$(sha "$1")
	case "$comp" in
	gzip) gzip -n -6 -c "$1" > "$work/blob"; mt=application/vnd.oci.image.layer.v1.tar+gzip ;;
	zstd) zstd -q -3 -c "$1" > "$work/blob"; mt=application/vnd.oci.image.layer.v1.tar+zstd ;;
	none) cp "$1" "$work/blob"; mt=application/vnd.oci.image.layer.v1.tar ;;
	*) echo "mkimage.sh: unknown compression $comp" >&2; exit 2 ;;
	esac
	d=$(sha "$work/blob")
	mv "$work/blob" "$work/blobs/sha256/$d"
	cp "$1" "$work/raw-$diff.tar"
	echo "$d $(size "$work/blobs/sha256/$d") $diff $mt" >> "$work/layers"
}

: > "$work/layers"
if [ -n "$rootfs" ]; then
	# the given directories, a layer each
	k=0
	printf '%s\n' "$rootfs" | while IFS= read -r d; do
		[ -n "$d" ] || continue
		[ -d "$d" ] || { echo "mkimage.sh: --rootfs $d is not a directory" >&2; exit 1; }
		k=$((k + 1))
		$TAR -cf "$work/r$k.tar" -C "$d" .
		add_layer "$work/r$k.tar"
		rm -f "$work/r$k.tar"
	done
elif [ "$bfiles" -gt 0 ] || [ "$blarge" -gt 0 ] || [ "$brandom" -gt 0 ]; then
	# benchmark image: busybox base + generated content
	sh "$here/mkbundle.sh" "$work/b" >/dev/null
	$TAR -cf "$work/l0.tar" -C "$work/b/rootfs" .
	add_layer "$work/l0.tar"
	# source-like text (compresses about 4:1 like a Python image): the host's
	# Python sources, else its docs, else base64 noise
	for c in /usr/lib/python3* /usr/share/perl* /usr/share/doc; do
		[ -d "$c" ] && find "$c" -type f \( -name '*.py' -o -name '*.pm' -o -name '*.txt' -o -name 'copyright' \) \
			-size -200k 2>/dev/null | sort | xargs cat 2>/dev/null | head -c 4194304 >> "$work/text"
		[ "$(stat -c %s "$work/text" 2>/dev/null || echo 0)" -ge 4194304 ] && break
	done
	[ -s "$work/text" ] || base64 -w 76 /dev/urandom | head -c 4194304 > "$work/text"
	head -c 4194304 "$work/text" > "$work/text2" && mv "$work/text2" "$work/text"
	if [ "$bfiles" -gt 0 ]; then
		per=$(( bfiles / blayers )); fsz=$(( bmb * 1048576 / bfiles ))
		i=1
		while [ $i -le "$blayers" ]; do
			d="$work/bl$i/usr/lib/python3/site-packages/pkg$i"
			mkdir -p "$d"
			# one text stream cut into files, 100 files per directory
			need=$(( per * fsz ))
			( while [ "$need" -gt 0 ]; do cat "$work/text"; need=$(( need - $(stat -c %s "$work/text") )); done ) |
				head -c $(( per * fsz )) > "$work/stream"
			left=$per sub=0
			while [ "$left" -gt 0 ]; do
				k=100; [ "$left" -lt 100 ] && k=$left
				mkdir -p "$d/d$sub"
				tail -c +$(( sub * 100 * fsz + 1 )) "$work/stream" | head -c $(( k * fsz )) |
					split -a 3 -d -b "$fsz" --additional-suffix=.py - "$d/d$sub/m_"
				left=$(( left - k )) sub=$(( sub + 1 ))
			done
			$TAR -cf "$work/bl$i.tar" -C "$work/bl$i" .
			rm -rf "$work/bl$i" "$work/stream"
			add_layer "$work/bl$i.tar"
			i=$((i + 1))
		done
	fi
	if [ "$blarge" -gt 0 ]; then
		mkdir -p "$work/big/data"
		per=$(( blarge / 4 ))
		for k in 1 2 3 4; do
			( n=$per; while [ "$n" -gt 0 ]; do cat "$work/text"; n=$(( n - 4 )); done ) |
				head -c $(( per * 1048576 )) > "$work/big/data/blob$k.bin"
		done
		$TAR -cf "$work/big.tar" -C "$work/big" .
		rm -rf "$work/big"
		add_layer "$work/big.tar"
	fi
	if [ "$brandom" -gt 0 ]; then
		mkdir -p "$work/rnd/usr/share/data"
		k=1
		while [ $k -le "$brandom" ]; do
			head -c 1048576 /dev/urandom > "$work/rnd/usr/share/data/r$k.bin"
			k=$((k + 1))
		done
		$TAR -cf "$work/rnd.tar" -C "$work/rnd" .
		rm -rf "$work/rnd"
		add_layer "$work/rnd.tar"
	fi
else
	sh "$here/mkbundle.sh" "$work/b" >/dev/null
	r="$work/b/rootfs"
	mkdir -p "$r/old" "$r/opq" "$r/app"
	echo gone > "$r/old/gone.txt"; echo kept > "$r/old/kept.txt"; echo a > "$r/opq/a.txt"
	printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/app:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$r/etc/passwd"
	printf 'root:x:0:\napp:x:1000:\nstaff:x:50:\nnogroup:x:65534:\n' > "$r/etc/group"
	$TAR -cf "$work/l1.tar" -C "$r" .
	add_layer "$work/l1.tar"
	a="$work/app"
	mkdir -p "$a/old" "$a/opq" "$a/app"
	: > "$a/old/.wh.gone.txt"; : > "$a/opq/.wh..wh..opq"; echo b > "$a/opq/b.txt"
	cat > "$a/app/hello.sh" <<'EOS'
#!/bin/sh
echo "$GREETING"
echo "uid=$(id -u) gid=$(id -g) cwd=$(pwd)"
echo "opq: $(ls /opq | tr '\n' ' ')"
[ -e /old/gone.txt ] && echo "whiteout: FAILED" || echo "whiteout: ok"
[ -e /old/kept.txt ] && echo "lower: ok"
EOS
	chmod 755 "$a/app/hello.sh"
	for sd in $adds; do
		mkdir -p "$a$(dirname "${sd#*:}")"
		cp "${sd%%:*}" "$a${sd#*:}"
	done
	$TAR -cf "$work/l2.tar" -C "$a" .
	add_layer "$work/l2.tar"
fi

# hostile layers
h="$work/h"
case "$hostile" in
traversal)
	mkdir -p "$h" && echo evil > "$h/f"
	tar -cPf "$work/h.tar" -C "$h" --transform='s,^f$,../../../tmp/fcsnap-evil,' f ;;
symlink-escape)
	mkdir -p "$h/1" "$h/2/escape" && ln -s /tmp "$h/1/escape" && echo evil > "$h/2/escape/fcsnap-evil"
	tar -cf "$work/h.tar" -C "$h/1" escape
	tar -rf "$work/h.tar" -C "$h/2" --no-recursion escape/fcsnap-evil ;;
hardlink-escape)
	mkdir -p "$h" && echo x > "$h/a" && ln "$h/a" "$h/b"
	tar -cPf "$work/h.tar" -C "$h" --transform='s,^a$,../../../etc/passwd,hSR' a b ;;
device)
	mkdir -p "$h/dev" && mknod "$h/dev/sda" b 8 0
	tar -cf "$work/h.tar" -C "$h" dev ;;
absurd-size)
	mkdir -p "$h" && truncate -s 200G "$h/huge"
	tar -cSf "$work/h.tar" -C "$h" huge ;;
bomb)
	mkdir -p "$h/z" && for i in $(seq 64); do head -c 1048576 /dev/zero > "$h/z/f$i"; done
	tar -cf "$work/h.tar" -C "$h" z ;;
truncated-gzip|wrong-digest|wrong-diffid)
	# a layer of its own (random content), corrupted below
	mkdir -p "$h/junk" && head -c 262144 /dev/urandom > "$h/junk/data"
	tar -cf "$work/h.tar" -C "$h" junk ;;
"") ;;
*) echo "mkimage.sh: unknown hostile kind $hostile" >&2; exit 2 ;;
esac
if [ -f "$work/h.tar" ]; then
	add_layer "$work/h.tar"
fi
if [ "$hostile" = truncated-gzip ] || [ "$hostile" = wrong-digest ]; then
	# corrupt the top layer blob (comp must be gzip for truncated-gzip)
	last=$(tail -n1 "$work/layers")
	set -- $last
	f="$work/blobs/sha256/$1"
	if [ "$hostile" = truncated-gzip ]; then
		head -c $(( $(size "$f") / 2 )) "$f" > "$work/cut"
		nd=$(sha "$work/cut"); mv "$work/cut" "$work/blobs/sha256/$nd"; rm -f "$f"
		sed -i '$d' "$work/layers"; echo "$nd $(size "$work/blobs/sha256/$nd") $3 $4" >> "$work/layers"
	else
		# same size, different content, recorded under the old digest:
		# byte 100 changed (written 'X' it was unchanged once in 256 runs)
		b=$(dd if="$f" bs=1 skip=100 count=1 2>/dev/null | od -An -tu1 | tr -d ' ')
		printf "\\$(printf '%03o' $(( (b + 1) % 256 )))" | dd of="$f" bs=1 seek=100 conv=notrunc 2>/dev/null
	fi
fi

# config and manifest
diffs=$(cut -d' ' -f3 "$work/layers" | sed 's/^/sha256:/' | jq -R . | jq -s -c .)
if [ "$hostile" = wrong-diffid ]; then
	diffs=$(echo "$diffs" | jq -c '.[-1] = "sha256:" + ("0" * 64)')
fi
jq -n -c --argjson cmd "$cmd" --argjson ep "$entrypoint" --arg user "$user" --arg wd "$workdir" \
	--argjson env "$env" --argjson diffs "$diffs" '{
	architecture: "amd64", os: "linux", created: "2026-01-01T00:00:00Z",
	config: ({Env: $env, Cmd: $cmd, WorkingDir: $wd, ExposedPorts: {"8080/tcp": {}},
		  Labels: {"org.example.test": "yes"}, StopSignal: "SIGTERM"}
		 + (if $ep == null then {} else {Entrypoint: $ep} end)
		 + (if $user == "" then {} else {User: $user} end)),
	rootfs: {type: "layers", diff_ids: $diffs}, history: []}' > "$work/config"
cd_=$(sha "$work/config"); cp "$work/config" "$work/blobs/sha256/$cd_"
layers_json=$(while read -r d s df mt; do
	jq -n -c --arg d "sha256:$d" --argjson s "$s" --arg mt "$mt" '{mediaType: $mt, digest: $d, size: $s}'
done < "$work/layers" | jq -s -c .)
mkman() {
	jq -n -c --arg cd "sha256:$cd_" --argjson cs "$(size "$work/config")" --argjson l "$layers_json" --arg extra "$1" '{
		schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
		config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $cd, size: $cs},
		layers: $l} + (if $extra == "" then {} else {annotations: {"org.example.variant": $extra}} end)' > "$work/manifest"
	md=$(sha "$work/manifest"); cp "$work/manifest" "$work/blobs/sha256/$md"
	echo "$md $(size "$work/manifest")"
}

case "$format" in
oci|oci-archive)
	set -- $(mkman "")
	amd="{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:$1\",\"size\":$2,\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"},\"annotations\":{\"org.opencontainers.image.ref.name\":\"$name\"}}"
	manifests="[$amd]"
	if [ "$multi" = 1 ]; then
		set -- $(mkman arm64)
		arm="{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:$1\",\"size\":$2,\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\"}}"
		manifests="[$arm,$amd]"
	fi
	jq -n -c --argjson m "$manifests" '{schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: $m}' > "$work/index.json"
	L="$work/layout"; mkdir -p "$L/blobs"
	mv "$work/blobs/sha256" "$L/blobs/sha256"; mv "$work/index.json" "$L/index.json"
	printf '{"imageLayoutVersion":"1.0.0"}' > "$L/oci-layout"
	if [ "$format" = oci ]; then
		rm -rf "$out"; mkdir -p "$out"; cp -a "$L/." "$out/"
	else
		tar -cf "$out" -C "$L" oci-layout index.json blobs
	fi ;;
docker-archive)
	D="$work/docker"; mkdir -p "$D"
	cp "$work/config" "$D/$cd_.json"
	ls_=""
	while read -r d s df mt; do
		mkdir -p "$D/$df"; cp "$work/raw-$df.tar" "$D/$df/layer.tar"
		if [ "$hostile" = wrong-digest ] || [ "$hostile" = truncated-gzip ]; then
			# docker-archive has no blob digests: corrupt the layer itself
			head -c $(( $(size "$D/$df/layer.tar") / 2 )) "$D/$df/layer.tar" > "$work/cut"
			mv "$work/cut" "$D/$df/layer.tar"
		fi
		ls_="$ls_${ls_:+,}\"$df/layer.tar\""
	done < "$work/layers"
	printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":[%s]}]\n' "$cd_" "$name" "$ls_" > "$D/manifest.json"
	printf '{}' > "$D/repositories"
	tar -cf "$out" -C "$D" . ;;
*) echo "mkimage.sh: unknown format $format" >&2; exit 2 ;;
esac
