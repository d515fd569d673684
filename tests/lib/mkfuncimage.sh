#!/bin/sh
# mkfuncimage.sh [--no-cache] python|node OUT: an OCI image layout at OUT
# with a real language runtime and the test functions of tests/lib/functions,
# built offline from the host's own files: busybox-static as the base layer
# (/bin/sh and the tools the tests probe with), then the interpreter (Debian's
# /usr/bin/python3.11 with its standard library, or /usr/bin/node), the
# shared libraries they load (found with ldd) and the functions in /app.
#
#   python: /app/server.py (the default command: python3 /app/server.py), an
#           HTTP function on 127.0.0.1:8080 with /_/health; /app/classic.py,
#           a stdin/stdout function
#   node:   /app/server.js (the default command: node /app/server.js)
#
# Each builds about 50 MB of objects before it serves (FN_INIT_MB). Images are
# cached by a hash of these scripts, the functions and the interpreter under
# $FCSTART_TEST_IMAGE_CACHE (default /var/cache/fcstart/test-images);
# --no-cache builds into OUT only. Packages: python3, nodejs, busybox-static,
# jq (quickstart.sh installs them).
set -eu
cache=${FCSTART_TEST_IMAGE_CACHE:-/var/cache/fcstart/test-images}
if [ "${1:-}" = --no-cache ]; then cache=; shift; fi
kind=${1:?usage: mkfuncimage.sh [--no-cache] python|node OUT}
out=${2:?usage: mkfuncimage.sh [--no-cache] python|node OUT}
here=$(cd "$(dirname "$0")" && pwd)
case "$kind" in
python)
	interp=$(readlink -f /usr/bin/python3 2>/dev/null || true)
	[ -x "$interp" ] || { echo "mkfuncimage.sh: /usr/bin/python3 is missing (apt-get install python3)" >&2; exit 1; }
	ver=$(basename "$interp") # python3.11
	stdlib=/usr/lib/$ver
	[ -d "$stdlib" ] || { echo "mkfuncimage.sh: $stdlib is missing" >&2; exit 1; }
	srcs="functions/py-http.py functions/py-classic.py"
	cmd='["python3","/app/server.py"]' ;;
node)
	interp=$(readlink -f /usr/bin/node 2>/dev/null || true)
	[ -x "$interp" ] || { echo "mkfuncimage.sh: /usr/bin/node is missing (apt-get install nodejs)" >&2; exit 1; }
	srcs="functions/node-http.js"
	cmd='["node","/app/server.js"]' ;;
*) echo "mkfuncimage.sh: unknown kind $kind (python or node)" >&2; exit 2 ;;
esac

key=$( (cd "$here" && cat mkfuncimage.sh mkimage.sh mkbundle.sh $srcs) | sha256sum | cut -c1-16)
key=$key-$(stat -c '%s-%Y' "$interp" | sha256sum | cut -c1-8)
if [ -n "$cache" ] && [ -f "$cache/$kind-$key/index.json" ]; then
	rm -rf "$out"
	cp -a "$cache/$kind-$key" "$out"
	exit 0
fi

work=$(mktemp -d /tmp/mkfuncimage.XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM
sh "$here/mkbundle.sh" "$work/base" >/dev/null
r=$work/rt
mkdir -p "$r/usr/bin" "$r/app" "$r/etc"
# the base's /etc with a user for functions that do not run as root
cp -a "$work/base/rootfs/etc/." "$r/etc/"
printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/app:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$r/etc/passwd"
printf 'root:x:0:\napp:x:1000:\nnogroup:x:65534:\n' >"$r/etc/group"
libs_of() { ldd "$@" 2>/dev/null | awk '/=> \//{print $3} /^\t\/lib/{print $1}' | sort -u; }
case "$kind" in
python)
	cp -a "$interp" "$r/usr/bin/$ver"
	ln -s "$ver" "$r/usr/bin/python3"
	mkdir -p "$r$stdlib"
	# the standard library without its tests, tools and the static libpython
	tar -C "$stdlib" -cf - --exclude=./test --exclude=./idlelib --exclude=./tkinter \
		--exclude=./lib2to3 --exclude=./ensurepip --exclude=./turtledemo \
		--exclude=./pydoc_data --exclude='./config-*' --exclude='./lib-dynload/_test*' \
		--exclude=./site-packages --exclude=./dist-packages . | tar -C "$r$stdlib" -xf -
	libs=$(libs_of "$interp" "$r$stdlib"/lib-dynload/*.so)
	cp "$here/functions/py-http.py" "$r/app/server.py"
	cp "$here/functions/py-classic.py" "$r/app/classic.py" ;;
node)
	cp -a "$interp" "$r/usr/bin/node"
	libs=$(libs_of "$interp")
	cp "$here/functions/node-http.js" "$r/app/server.js" ;;
esac
for l in $libs; do
	mkdir -p "$r$(dirname "$l")"
	cp -L "$l" "$r$l"
done
# the loader at the path binaries ask for
mkdir -p "$r/lib64"
[ -e "$r/lib64/ld-linux-x86-64.so.2" ] || cp -L /lib64/ld-linux-x86-64.so.2 "$r/lib64/"
chmod -R a+rX "$r"
env='["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","PYTHONDONTWRITEBYTECODE=1"]'
dest=$out
[ -n "$cache" ] && dest=$work/image
sh "$here/mkimage.sh" --compress none --name "fcstart-test/$kind:latest" --cmd "$cmd" \
	--workdir /app --env "$env" --rootfs "$work/base/rootfs" --rootfs "$r" "$dest" >/dev/null
if [ -n "$cache" ]; then
	mkdir -p "$cache"
	rm -rf "$cache/$kind-$key.tmp"
	cp -a "$dest" "$cache/$kind-$key.tmp"
	rm -rf "$cache/$kind-$key"
	mv "$cache/$kind-$key.tmp" "$cache/$kind-$key"
	# older builds of this kind go
	for o in "$cache/$kind"-*; do
		[ "$o" = "$cache/$kind-$key" ] || rm -rf "$o"
	done
	rm -rf "$out"
	cp -a "$dest" "$out"
fi
