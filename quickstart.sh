#!/bin/bash
# quickstart.sh: the two commands of the README, on a fresh Debian 12 machine, as root.
#   ./quickstart.sh demo   install what is missing, build, run the cold-start demo
#   ./quickstart.sh test   install what is missing, build, run every test suite
# Also: build (deps + build only), deps (packages only).
set -euo pipefail
cd "$(dirname "$0")"

PKGS_BUILD="meson ninja-build pkg-config gcc libc6-dev libseccomp-dev libcap-dev libyajl-dev
  libzstd-dev liburing-dev libarchive-dev zlib1g-dev liblzma-dev libbz2-dev libisal-dev
  libmicrohttpd-dev libssl-dev libcurl4-openssl-dev"
PKGS_RUN="busybox-static runc crun jq iproute2 procps util-linux kmod"
# clang with its libFuzzer and sanitizer runtimes (libclang-rt-dev: clang's own
# package only recommends them) and llvm's llvm-symbolizer for the reports:
# the fuzz targets and the sanitizer build. docker-registry, skopeo,
# apache2-utils (htpasswd) and openssl: the registry tests of image pull.
# podman: the podman e2e; python3-grpcio and python3-grpc-tools: the e2e's
# CRI client (Kubernetes' runtime API against containerd). nginx-light and
# hey: the OpenFaaS e2e (nginx in front of the gateway, load). python3 and
# nodejs: the language runtimes of the pool's function images
# (tests/lib/mkfuncimage.sh).
PKGS_TEST="python3 nodejs curl clang-format docker.io containerd podman python3-grpcio python3-grpc-tools
  nginx-light umoci wrk hey
  clang libclang-rt-dev llvm docker-registry skopeo apache2-utils openssl"

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

# A build step's output only when it fails (then its last 40 lines).
quiet() {
	local log rc=0
	log=$(mktemp)
	"$@" >"$log" 2>&1 || rc=$?
	if [ $rc -ne 0 ]; then
		echo "quickstart.sh: '$*' failed (exit $rc):" >&2
		tail -n 40 "$log" >&2
	fi
	rm -f "$log"
	return $rc
}

build() {
	if [ ! -f build/build.ninja ]; then
		meson setup build --buildtype=debugoptimized >/dev/null
	fi
	quiet ninja -C build
	echo "quickstart.sh: built build/runtime/fcrun and build/bench/fcstart"
}

# The sanitizer build (ASan + UBSan): with clang when it is installed, so the
# fuzz targets are built too (tests/fuzz/README.md), else with gcc (the fuzz
# tests then say SKIP). A build-asan made by the other compiler is redone.
san_build() {
	local cc=gcc
	command -v clang >/dev/null 2>&1 && cc=clang
	if [ -f build-asan/build.ninja ] &&
		! grep -q "^C compiler for the host machine: .*($cc " build-asan/meson-logs/meson-log.txt; then
		rm -rf build-asan
	fi
	if [ ! -f build-asan/build.ninja ]; then
		CC=$cc meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
	fi
	quiet ninja -C build-asan
}

run_tests() {
	local rc=0
	san_build
	# Under the sanitizers undefined behaviour fails a test as a memory error
	# does: the unit suite (no root needed, fast) and a short run of each
	# fuzz target.
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C build-asan --suite unit --suite fuzz --logbase sanitizers \
		--print-errorlogs || rc=1
	# The integration suite once more in the sanitizer build: fcrun (not
	# static there; its container init is a clone of it), the daemon and its
	# fork servers, the test programs. Reports go to files, so one from a
	# daemon or a background process fails the run even if its test passed.
	local reports=$PWD/build-asan/meson-logs/sanitizer-reports
	rm -rf "$reports"
	mkdir -p "$reports"
	chmod 1777 "$reports"
	ASAN_OPTIONS=detect_leaks=1:log_path=$reports/asan \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:log_path=$reports/ubsan \
		meson test -C build-asan --suite integration --logbase sanitizers-integration \
		--print-errorlogs || rc=1
	if [ -n "$(ls -A "$reports")" ]; then
		echo "quickstart.sh: sanitizer reports of the integration suite:"
		cat "$reports"/*
		rc=1
	fi
	# One run for every suite, so testlog.json holds them all.
	meson test -C build --suite unit --suite integration --suite conformance --suite e2e \
		--print-errorlogs || rc=1
	python3 - build-asan/meson-logs/sanitizers.json \
		build-asan/meson-logs/sanitizers-integration.json build/meson-logs/testlog.json <<'PY'
import json, sys
total = [0, 0, 0]
for path, how in zip(sys.argv[1:], (" (ASan+UBSan)", " (ASan+UBSan)", "")):
    counts = {}
    try:
        lines = open(path).read().splitlines()
    except OSError:
        continue
    for line in lines:
        t = json.loads(line)
        r = t["result"]
        k = 0 if r in ("OK", "EXPECTEDFAIL") else 2 if r == "SKIP" else 1
        suite = t["name"].split(" / ")[0].split(":")[-1]  # "fcstart:unit / spec"
        counts.setdefault(suite, [0, 0, 0])[k] += 1
        total[k] += 1
    for suite, c in sorted(counts.items()):
        print(f"  {suite}{how}: {c[0]} passed, {c[1]} failed, {c[2]} skipped")
print(f"{total[0]} passed, {total[1]} failed, {total[2]} skipped")
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
