#!/bin/bash
# fcstart bench pull on a small image (the floor and fcstart paths, one round
# at 100mbit): the table, pull.json and pull.svg are written, and nothing is
# left behind (network namespace, veth, qdisc, registry, daemon, mounts,
# the harness's dir), also when SIGINT stops it in the middle. Speed is not
# judged here: that is what the benchmark is for.
. "${FC_SOURCE_ROOT:-$(dirname "$0")/../..}/tests/lib/bench-test.sh"
for t in /usr/bin/docker-registry /usr/bin/skopeo /usr/bin/jq /usr/bin/curl /usr/sbin/tc /usr/sbin/ip /usr/bin/python3; do
	[ -x "$t" ] || { echo "SKIP: $t is not installed"; exit 77; }
done
bench_test_begin /tmp
netns_before=$(ip netns list | sort)
links_before=$(ip -o link | awk -F': ' '{print $2}' | sort)
left_behind() {
	[ "$(ip netns list | sort)" = "$netns_before" ] || fail "$1: a network namespace is left: $(ip netns list)"
	[ "$(ip -o link | awk -F': ' '{print $2}' | sort)" = "$links_before" ] || fail "$1: a link is left"
	! grep -q "$work/wd" /proc/self/mountinfo || fail "$1: a mount is left under $work/wd"
	[ -z "$(ls "$work/wd")" ] || fail "$1: the harness's dir is left: $(ls "$work/wd")"
	! pgrep -f "docker-registry serve $work/wd" >/dev/null || fail "$1: the registry still runs"
	! pgrep -f "serve --root $work/wd" >/dev/null || fail "$1: fcstart serve still runs"
}

sh "$src/tests/lib/mkimage.sh" --name small:1 "$work/img" >/dev/null || { echo "FAIL: mkimage"; exit 1; }
mkdir -p "$work/wd"
"$FCSTART" bench pull --image "$work/img" --paths floor,fcstart --rates 100mbit -n 1 --workdir "$work/wd" \
	--out "$work/out" >"$work/stdout" 2>"$work/stderr" || fail "bench pull exited $?: $(tail -n 5 "$work/stderr")"
cat "$work/stdout"
grep -Eq "^fcstart +1 " "$work/stdout" || fail "no fcstart row in the table"
jq -e '.rates["100mbit"].fcstart.n == 1 and .rates["100mbit"].floor.n == 1 and
	.rates["100mbit"].fcstart.rss_kib > 0' "$work/out/pull.json" >/dev/null || fail "pull.json: $(cat "$work/out/pull.json")"
python3 -c "import xml.dom.minidom, sys; xml.dom.minidom.parse(sys.argv[1])" "$work/out/pull.svg" || fail "pull.svg is not XML"
left_behind "after a run"

# SIGINT once the registry runs in its namespace
"$FCSTART" bench pull --image "$work/img" --paths floor,fcstart --rates 100mbit -n 50 --workdir "$work/wd" \
	>"$work/stdout2" 2>"$work/stderr2" &
bg=$!
for _ in $(seq 300); do
	pgrep -f "docker-registry serve $work/wd" >/dev/null && break
	kill -0 "$bg" 2>/dev/null || break
	sleep 0.1
done
sleep 1
bench_test_sigint "SIGINT" "$work/stderr2"
left_behind "after SIGINT"

[ $fails = 0 ] && echo "PASS: bench pull table, JSON and SVG; nothing left behind (also after SIGINT)" && exit 0
echo "$fails failures"; exit 1
