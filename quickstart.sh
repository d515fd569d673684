#!/bin/bash
# quickstart.sh: the two commands of the README, on a fresh Debian 12 machine, as root.
#   ./quickstart.sh demo   install what is missing, build, run the cold-start demo
#   ./quickstart.sh test   install what is missing, build, run every test suite
# Also: build (deps + build only), deps (packages only).
set -euo pipefail
cd "$(dirname "$0")"

PKGS_BUILD="meson ninja-build pkg-config gcc libc6-dev libseccomp-dev libcap-dev libyajl-dev
  libzstd-dev liburing-dev libarchive-dev zlib1g-dev liblzma-dev libbz2-dev libisal-dev
  libmicrohttpd-dev libssl-dev"
PKGS_RUN="busybox-static runc crun jq iproute2 procps util-linux kmod"
PKGS_TEST="python3 curl clang-format docker.io containerd nginx-light umoci wrk"

need_root() {
	if [ "$(id -u)" != 0 ]; then
		echo "quickstart.sh: run as root (containers, mounts and cgroups need it)" >&2
		exit 1
	fi
}

install_missing() {
	local missing=()
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "quickstart.sh: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

build() {
	if [ ! -f build/build.ninja ]; then
		meson setup build --buildtype=debugoptimized >/dev/null
	fi
	ninja -C build >/dev/null
	echo "quickstart.sh: built build/runtime/fcrun and build/bench/fcstart"
}

run_tests() {
	local rc=0
	# The sanitizer build runs the unit suite (no root needed, fast).
	if [ ! -f build-asan/build.ninja ]; then
		meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
	fi
	ninja -C build-asan >/dev/null
	ASAN_OPTIONS=detect_leaks=1 meson test -C build-asan --suite unit --print-errorlogs || rc=1
	# One run for every suite, so testlog.json holds them all.
	meson test -C build --suite unit --suite integration --suite conformance --suite e2e \
		--print-errorlogs || rc=1
	python3 - build-asan/meson-logs/testlog.json build/meson-logs/testlog.json <<'PY'
import json, sys
p = f = s = 0
for path in sys.argv[1:]:
    try:
        lines = open(path).read().splitlines()
    except OSError:
        continue
    for line in lines:
        r = json.loads(line)["result"]
        if r in ("OK", "EXPECTEDFAIL"): p += 1
        elif r == "SKIP": s += 1
        else: f += 1
print(f"{p} passed, {f} failed, {s} skipped")
PY
	return $rc
}

cmd=${1:-demo}
case "$cmd" in
deps)
	need_root
	install_missing $PKGS_BUILD $PKGS_RUN
	;;
build)
	need_root
	install_missing $PKGS_BUILD $PKGS_RUN
	build
	;;
demo)
	need_root
	install_missing $PKGS_BUILD $PKGS_RUN
	build
	exec scripts/demo.sh
	;;
test)
	need_root
	install_missing $PKGS_BUILD $PKGS_RUN $PKGS_TEST
	build
	run_tests
	;;
*)
	echo "usage: $0 demo|test|build|deps" >&2
	exit 2
	;;
esac
