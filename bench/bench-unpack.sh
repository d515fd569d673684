#!/bin/sh
# bench-unpack.sh: layer unpacking side by side, in one run: `fcstart image
# import` (io_uring and plain writes) against GNU tar and `umoci unpack`, on
# generated images (tests/lib/mkimage.sh, no network), on tmpfs and on disk.
# Runs are interleaved; medians are reported. The "decompress" row is the
# layers decompressed alone to /dev/null with the libraries the import uses
# (zstd's CLI on libzstd; igzip, ISA-L, for gzip when installed): the rest of
# an import's time is tar parsing, hashing and writing (the import overlaps
# them with decompressing on two threads). Its vs_fc column is the share of
# the import that decompressing alone takes.
#
#   bench-unpack.sh [-n RUNS] [--files N] [--mb MB] [--large MB] [--targets "DIR..."] [--cold]
#
# Environment: FCSTART (the binary), BENCH_IMAGES (reuse a dir of generated images).
set -eu
runs=5 files=20000 mb=200 large=0 targets="/dev/shm /var/tmp" cold=0
while [ $# -gt 0 ]; do
	case "$1" in
	-n) runs=$2; shift 2 ;;
	--files) files=$2; shift 2 ;;
	--mb) mb=$2; shift 2 ;;
	--large) large=$2; shift 2 ;;
	--targets) targets=$2; shift 2 ;;
	--cold) cold=1; shift ;;
	*) echo "usage: bench-unpack.sh [-n RUNS] [--files N] [--mb MB] [--large MB] [--targets DIRS] [--cold]" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "bench-unpack.sh: needs root (ownership, drop_caches)" >&2; exit 1; }
src=$(cd "$(dirname "$0")/.." && pwd)
F=${FCSTART:-$src/build/bench/fcstart}
[ -x "$F" ] || { echo "bench-unpack.sh: build fcstart first ($F)" >&2; exit 1; }
have_umoci=0; command -v umoci >/dev/null && have_umoci=1
imgs=${BENCH_IMAGES:-/var/tmp/fcstart-bench-images}
mkdir -p "$imgs"
gen() { # name args...
	n=$1; shift
	[ -f "$imgs/$n/index.json" ] || sh "$src/tests/lib/mkimage.sh" --name latest "$@" "$imgs/$n"
}
gen "small-gz-$files-$mb" --compress gzip --bench-files "$files" --bench-mb "$mb" --bench-layers 5
gen "small-zst-$files-$mb" --compress zstd --bench-files "$files" --bench-mb "$mb" --bench-layers 5
images="small-gz-$files-$mb small-zst-$files-$mb"
if [ "$large" -gt 0 ]; then
	gen "large-gz-$large" --compress gzip --bench-large "$large"
	gen "large-zst-$large" --compress zstd --bench-large "$large"
	images="$images large-gz-$large large-zst-$large"
fi

res=$(mktemp /tmp/bench-unpack.XXXXXX)
trap 'rm -f "$res"' EXIT
echo "# $(date -u +%FT%TZ) $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), kernel $(uname -r), runs $runs"

# one timed run: tool image target -> "tool image target secs rssKB"
one() {
	tool=$1 img=$2 t=$3
	out="$t/bench-unpack-out"
	rm -rf "$out"; mkdir -p "$out"
	sync
	[ "$cold" = 1 ] && echo 3 > /proc/sys/vm/drop_caches
	L="$imgs/$img"
	case "$tool" in
	fcstart) cmd="$F image import -q --store $out/store $L" ;;
	fcstart-plain) cmd="$F image import -q --no-uring --store $out/store $L" ;;
	fcstart-1job) cmd="$F image import -q --jobs 1 --store $out/store $L" ;;
	decompress)
		dz="gzip -dc"; command -v igzip >/dev/null && dz="igzip -dc"
		case "$img" in *zst*) dz="zstd -qdc" ;; esac
		cmd="sh -c 'for d in \$(jq -r \".layers[].digest\" $L/blobs/sha256/\$(jq -r \".manifests[0].digest\" $L/index.json | cut -d: -f2) | cut -d: -f2); do $dz $L/blobs/sha256/\$d >/dev/null || exit 1; done'" ;;
	tar)
		z=-z; case "$img" in *zst*) z=--zstd ;; esac
		# the layers in order into one fresh dir (what an unpacker without overlay does)
		cmd="sh -c 'for d in \$(jq -r \".layers[].digest\" $L/blobs/sha256/\$(jq -r \".manifests[0].digest\" $L/index.json | cut -d: -f2) | cut -d: -f2); do tar $z -xf $L/blobs/sha256/\$d -C $out --numeric-owner || exit 1; done'" ;;
	umoci) cmd="umoci unpack --image $L:latest $out/bundle" ;;
	esac
	/usr/bin/time -f "%e %M" -o "$out.time" sh -c "$cmd" >/dev/null 2>"$out.err" || { echo "$tool failed on $img: $(tail -n2 "$out.err")" >&2; rm -rf "$out"; return; }
	echo "$tool $img $t $(cat "$out.time")" >> "$res"
	rm -rf "$out" "$out.time" "$out.err"
}

tools="fcstart fcstart-plain fcstart-1job tar decompress"
[ $have_umoci = 1 ] && tools="$tools umoci"
# umoci (Debian 0.4.7) does not know zstd layers: it runs on the gzip images only
for img in $images; do
	# size and files of the unpacked image (from one fcstart run)
	rm -rf /dev/shm/bench-unpack-probe
	"$F" image import -q --store /dev/shm/bench-unpack-probe "$imgs/$img"
	bytes=$(du -sb /dev/shm/bench-unpack-probe/layers | cut -f1)
	nfiles=$(find /dev/shm/bench-unpack-probe/layers -type f | wc -l)
	rm -rf /dev/shm/bench-unpack-probe
	echo "$img: $((bytes / 1048576)) MiB, $nfiles files, compressed $(du -sm "$imgs/$img" | cut -f1) MiB" >> "$res.info"
	for t in $targets; do
		i=0
		while [ $i -lt "$runs" ]; do
			for tool in $tools; do
				case "$tool/$img" in umoci/*zst*) continue ;; esac
				one "$tool" "$img" "$t"
			done
			i=$((i + 1))
		done
		echo "$img $t $bytes $nfiles" >> "$res.sizes"
	done
done
cat "$res.info"; rm -f "$res.info"
printf '%-20s %-9s %-14s %8s %9s %9s %8s %7s\n' image target tool median_s MB/s files/s rss_MiB vs_fc
median() { sort -n | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]}'; }
while read -r img t bytes nfiles; do
	fc=$(awk -v i="$img" -v t="$t" '$1=="fcstart" && $2==i && $3==t {print $4}' "$res" | median)
	for tool in $tools; do
		m=$(awk -v tool="$tool" -v i="$img" -v t="$t" '$1==tool && $2==i && $3==t {print $4}' "$res" | median)
		[ -n "$m" ] || continue
		rss=$(awk -v tool="$tool" -v i="$img" -v t="$t" '$1==tool && $2==i && $3==t {print $5}' "$res" | sort -n | tail -n1)
		awk -v i="$img" -v t="$t" -v tool="$tool" -v m="$m" -v b="$bytes" -v n="$nfiles" -v r="$rss" -v fc="$fc" 'BEGIN {
			if (m <= 0) m = 0.001
			printf "%-20s %-9s %-14s %8.3f %9.0f %9.0f %8.1f %6.2fx\n", i, t, tool, m, b/1048576/m, n/m, r/1024, m/fc }'
	done
done < "$res.sizes"
rm -f "$res.sizes"
