#!/bin/sh
# demo.sh [ROUNDS]: the README's demo. `fcstart bench runtime` builds a busybox
# OCI bundle (Debian's busybox-static, the default config.json of `fcrun spec`)
# and runs /bin/true in it with fcrun, crun and runc side by side (ROUNDS
# rounds, default 30, each in a random order), then this prints the three
# medians with their ratios. Needs root and a build (meson setup build && ninja
# -C build).
# Environment: FC_BUILD_ROOT (default ./build), FCSTART, FCRUN, RUNTIMES.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${FC_BUILD_ROOT:-$here/build}
fcstart=${FCSTART:-$build/bench/fcstart}
export FCRUN="${FCRUN:-$build/runtime/fcrun}"
rounds=${1:-30}
runtimes=${RUNTIMES:-fcrun,crun,runc}

[ "$(id -u)" = 0 ] || { echo "demo.sh: run as root (containers need it)" >&2; exit 1; }
[ -x "$fcstart" ] || { echo "demo.sh: $fcstart is missing: meson setup build && ninja -C build" >&2; exit 1; }

work=$(mktemp -d /tmp/fcstart-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

echo "== fcstart bench runtime -n $rounds --runtimes $runtimes (a busybox bundle running /bin/true)"
"$fcstart" bench runtime -n "$rounds" --runtimes "$runtimes" --json "$work/bench.json"

if command -v jq >/dev/null 2>&1; then
	echo
	echo "== median \`X run\` (cold start of /bin/true in a busybox container), ms"
	for v in netns no-netns; do
		jq -r --arg v "$v" '
			def r(x): if x == null then "-" else (x * 100 | round / 100 | tostring) + "x" end;
			($v + (if $v == "netns" then " (new network namespace)" else " (host network)" end) + ":"),
			(.runtimes[] | .name as $n | .results[$v] |
			 if .ok then "  \($n): run \(.run_ms.median * 100 | round / 100) ms (\(r(.run_ms.ratio_crun)) crun, \(r(.run_ms.ratio_runc)) runc)  create \(.create_ms.median * 100 | round / 100) ms  peak RSS \(.rss_run_kib.median / 1024 * 10 | round / 10) MiB"
			 else "  \($n): failed: \(.error | split("\n")[0])" end)' "$work/bench.json"
	done
fi
