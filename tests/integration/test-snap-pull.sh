#!/bin/bash
# fcstart image pull against private registries (Debian's docker-registry) on
# 127.0.0.1: plain http, TLS with a test CA, htpasswd basic auth, a mirror;
# images pushed with skopeo from OCI layouts built by mkimage.sh. A small
# proxy (regproxy.py) flips a byte, drops a connection mid-layer, or serves
# hostile manifests. Every pull must equal an import of the same layout; a
# failed pull must leave the store as it was. TAP.
set -u
FC_SOURCE_ROOT=${FC_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
FC_BUILD_ROOT=${FC_BUILD_ROOT:-$FC_SOURCE_ROOT/build}
F=${FCSTART:-$FC_BUILD_ROOT/bench/fcstart}
M="$FC_SOURCE_ROOT/tests/lib/mkimage.sh"
. "$FC_SOURCE_ROOT/tests/lib/registry.sh"

[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root (layers keep their owners)"; exit 77; }
if why=$(reg_missing); then echo "1..0 # SKIP missing $why"; exit 77; fi

T=$(mktemp -d /tmp/test-snap-pull.XXXXXX)
chmod 711 "$T" # the pool's sandboxes (user namespaces) pass through to their dirs
REG_DIR=$T/reg
mkdir -p "$REG_DIR"
DPID=
cleanup() {
	local rc=$?
	if [ -n "$DPID" ]; then
		kill -TERM "$DPID" 2>/dev/null
		for _ in $(seq 100); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.05; done
		kill -KILL "$DPID" 2>/dev/null
		"$F" serve --root "$T/serve" --cleanup >/dev/null 2>&1
	fi
	reg_stop_all
	grep " $T" /proc/self/mountinfo | awk '{print $5}' | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
	rm -rf "$T"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
export DOCKER_CONFIG=$T/docker-empty FCSTART_REGISTRY_CONFIG=$T/registries.json
echo '{}' >"$FCSTART_REGISTRY_CONFIG"

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
diag() { sed 's/^/# /'; }
check() { # DESC CMD...
	local d=$1; shift
	if "$@" >"$T/out" 2>&1; then ok "$d"; else not_ok "$d"; diag <"$T/out"; fi
}
# refused DESC WANT-REGEX STORE CMD...: exit 1, message matches, store unchanged
state() { (cd "$1" && find blobs layers images tmp -printf '%p %s\n' 2>/dev/null | sort | sha256sum); }
refused() {
	local d=$1 want=$2 st=$3; shift 3
	local before rc
	before=$(state "$st")
	"$@" >"$T/out" 2>&1
	rc=$?
	if [ $rc = 1 ] && grep -Eq -- "$want" "$T/out" && [ "$(state "$st")" = "$before" ]; then
		ok "$d"
		diag <"$T/out"
	else
		not_ok "$d (exit $rc, want /$want/, store $([ "$(state "$st")" = "$before" ] && echo same || echo changed))"
		diag <"$T/out"
	fi
}
pull() { "$F" image --store "$S" pull --quiet "$@"; }
# same_as_import NAME STORE-NAME LAYOUT [--platform P]: manifest, config,
# diff_ids and the layer trees of the pull equal those of an import
same_as_import() {
	local name=$1 layout=$2
	shift 2
	local is=$T/import-store
	"$F" image --store "$is" import --quiet "$layout" --name ref "$@" || { echo "import failed"; return 1; }
	local a b
	a=$("$F" image --store "$S" inspect "$name" | jq -c '[.manifest, .config, [.layers[].diff_id]]')
	b=$("$F" image --store "$is" inspect ref | jq -c '[.manifest, .config, [.layers[].diff_id]]')
	[ "$a" = "$b" ] || { echo "pull:   $a"; echo "import: $b"; return 1; }
	for l in $("$F" image --store "$is" inspect ref | jq -r '.layers[].diff_id | ltrimstr("sha256:")'); do
		[ "$(tree_sum "$is/layers/$l")" = "$(tree_sum "$S/layers/$l")" ] || { echo "layer $l differs"; return 1; }
	done
	"$F" image --store "$is" rm ref >/dev/null
}
# every entry of a tree: type, mode, owner, size, device, link target, content hash
tree_sum() {
	(cd "$1" && find . -printf '%p %y %m %U %G %s %Hr %l\n' | sort &&
		find . -type f -print0 | sort -z | xargs -0r sha256sum) | sha256sum
}
clean_tmp() { [ -z "$(ls "$S/tmp")" ] || { echo "staging leftovers: $(ls "$S/tmp")"; return 1; }; }

# ---- images ---------------------------------------------------------------
sh "$M" --name a "$T/a" >/dev/null || { echo "Bail out! mkimage"; exit 1; }
# two images that share their base layer (busybox) and differ above it
sh "$M" --bench-files 20 --bench-mb 1 --bench-layers 1 --name c "$T/c" >/dev/null
sh "$M" --bench-files 30 --bench-mb 2 --bench-layers 1 --name d "$T/d" >/dev/null
# a layer of random bytes (hardly compressible) to cut in the middle
sh "$M" --bench-random 6 --compress zstd --name big "$T/big" >/dev/null
sh "$M" --bench-files 10 --bench-mb 1 --bench-layers 2 --name e "$T/e" >/dev/null
# a multi-platform index, nested in the layout's index.json under a ref name
sh "$M" --multi-platform --name mp "$T/mp" >/dev/null
ix=$(sha256sum <"$T/mp/index.json" | cut -d' ' -f1)
cp "$T/mp/index.json" "$T/mp/blobs/sha256/$ix"
jq -n -c --arg d "sha256:$ix" --argjson s "$(stat -c %s "$T/mp/index.json")" '{schemaVersion: 2,
	mediaType: "application/vnd.oci.image.index.v1+json", manifests: [{mediaType:
	"application/vnd.oci.image.index.v1+json", digest: $d, size: $s,
	annotations: {"org.opencontainers.image.ref.name": "mp"}}]}' >"$T/mp/index.json"

# ---- plain http, through the proxy -------------------------------------------
RP=$(reg_start plain) || { echo "Bail out! docker-registry did not start"; exit 1; }
PP=$(proxy_start proxy "http://127.0.0.1:$RP") || { echo "Bail out! proxy did not start"; exit 1; }
R=127.0.0.1:$RP P=127.0.0.1:$PP
echo "# registry $R, proxy $P"
for i in a c d big e; do push "$T/$i" "$i" "$R/test/$i:1" || { echo "Bail out! skopeo push $i"; exit 1; }; done
push "$T/mp" mp "$R/test/mp:1" --all || { echo "Bail out! skopeo push --all mp"; exit 1; }

S=$T/store
check "pull by tag over plain http (a loopback registry without TLS)" pull "$P/test/a:1"
check "the pull equals an import of the same layout" same_as_import "$P/test/a:1" "$T/a"
check "nothing left in the store's tmp/" clean_tmp
if [ -n "${FCRUN:-}" ] && "$FCRUN" --version >/dev/null 2>&1; then
	b=$T/bundle-a
	if "$F" image --store "$S" bundle "$P/test/a:1" "$b" >"$T/out" 2>&1 &&
		out=$("$FCRUN" --root "$T/rt" run -b "$b" pull-a 2>&1) && echo "$out" | grep -q "whiteout: ok"; then
		ok "the pulled image runs (fcrun): whiteouts and opaque dirs as imported"
	else
		not_ok "the pulled image runs"; echo "${out:-}" | diag; diag <"$T/out"
	fi
	"$F" image unmount "$b" >/dev/null 2>&1
fi
mdig=$("$F" image --store "$S" inspect "$P/test/a:1" | jq -r .manifest)
check "pull by digest" pull "$P/test/a@$mdig"
expect=$("$F" image --store "$S" inspect "$P/test/a@$mdig" | jq -r .manifest)
[ "$expect" = "$mdig" ] && ok "by digest: recorded under REF@DIGEST with that manifest" || not_ok "by digest: manifest $expect"
"$F" image --store "$S" pull "$P/test/a:1" >"$T/out" 2>&1
grep -q "2 layers, 0 downloaded" "$T/out" && ok "a second pull downloads no layer" || { not_ok "second pull"; diag <"$T/out"; }
check "--name records another name" pull "$P/test/a:1" --name fn-a
check "fn-a is in the store" "$F" image --store "$S" inspect fn-a

# a shared layer is fetched once
: >"$REG_DIR/proxy.log"
check "pull c" pull "$P/test/c:1"
check "pull d (shares c's base layer)" pull "$P/test/d:1"
base=$(jq -r '.layers[0].digest' "$T/c/blobs/sha256/$(jq -r '.manifests[0].digest' "$T/c/index.json" | cut -d: -f2)")
cnt=$(grep -c "GET /v2/test/[cd]/blobs/$base" "$REG_DIR/proxy.log")
[ "$cnt" = 1 ] && ok "the shared base layer $base was fetched once for c and d" || { not_ok "shared layer fetched $cnt times"; diag <"$REG_DIR/proxy.log"; }
check "c equals its import" same_as_import "$P/test/c:1" "$T/c"
check "d equals its import" same_as_import "$P/test/d:1" "$T/d"

# multi-platform index
check "pull a multi-platform index (default platform linux/amd64)" pull "$P/test/mp:1" --platform linux/amd64
check "the amd64 pull equals its import" same_as_import "$P/test/mp:1" "$T/mp" --platform linux/amd64
check "pull --platform linux/arm64/v8" pull "$P/test/mp:1" --platform linux/arm64/v8 --name mp-arm
check "the arm64 pull equals its import" same_as_import mp-arm "$T/mp" --platform linux/arm64/v8
am=$("$F" image --store "$S" inspect "$P/test/mp:1" | jq -r .manifest)
arm=$("$F" image --store "$S" inspect mp-arm | jq -r .manifest)
[ "$am" != "$arm" ] && ok "the platforms resolve to different manifests" || not_ok "platform manifests $am $arm"
refused "a platform the index lacks is refused, naming those it has" "no manifest for platform linux/s390x in the index.*linux/arm64/v8" "$S" \
	pull "$P/test/mp:1" --platform linux/s390x

# a dropped connection in the middle of a layer is resumed with Range
bigl=$(jq -r '.layers | max_by(.size) | .digest' "$T/big/blobs/sha256/$(jq -r '.manifests[0].digest' "$T/big/index.json" | cut -d: -f2)")
jq -n --arg d "$bigl" '{cut: {($d): 2000000}}' >"$REG_DIR/proxy.rules"
: >"$REG_DIR/proxy.log"
check "a connection cut after 2 MB of a 6 MB layer: the pull resumes" pull "$P/test/big:1"
grep -q "GET /v2/test/big/blobs/$bigl - 200 cut" "$REG_DIR/proxy.log" && grep -Eq "GET /v2/test/big/blobs/$bigl bytes=[0-9]+- 206" "$REG_DIR/proxy.log" &&
	ok "the proxy cut the first GET; the second asked for the rest with Range (206)" || { not_ok "no Range resume in the proxy log"; diag <"$REG_DIR/proxy.log"; }
check "the resumed pull equals its import" same_as_import "$P/test/big:1" "$T/big"

# a corrupt blob (one byte flipped on the way) is refused
el=$(jq -r '.layers[-1].digest' "$T/e/blobs/sha256/$(jq -r '.manifests[0].digest' "$T/e/index.json" | cut -d: -f2)")
jq -n --arg d "$el" '{flip: [$d]}' >"$REG_DIR/proxy.rules"
refused "a blob with a flipped byte is refused (digest mismatch, naming the blob and the reference)" \
	"pull .$P/test/e:1.*$el.*digest mismatch" "$S" pull "$P/test/e:1"
# every answer short: retries run out, nothing is committed
jq -n --arg d "$el" '{truncate: {($d): 1000}}' >"$REG_DIR/proxy.rules"
refused "a body that always ends early: retries exhausted, nothing committed" \
	"$el.*after [0-9]+ of [0-9]+ bytes \(retries exhausted\)" "$S" pull "$P/test/e:1" --retries 2
echo '{}' >"$REG_DIR/proxy.rules"
check "the same image pulls once the proxy behaves" pull "$P/test/e:1"
check "nothing left in tmp/ after the failures" clean_tmp

# hostile or broken answers
refused "404: an unknown tag" "manifest nope of test/a.*not found \(HTTP 404, MANIFEST_UNKNOWN" "$S" pull "$P/test/a:nope"
refused "404: an unknown repository" "not found \(HTTP 404" "$S" pull "$P/test/none:1"
refused "an unreachable registry" "pull .127.0.0.1:1/x:1.*registry http.*127.0.0.1:1.*(refused|connect)" "$S" \
	pull 127.0.0.1:1/x:1 --retries 1
refused "a bad reference" "repository names must be lowercase" "$S" pull "$P/Test/a:1"
serve() { # PATH FILE [TYPE]
	jq -n --arg p "$1" --arg f "$2" --arg t "${3:-application/vnd.oci.image.manifest.v1+json}" \
		'{serve: {($p): {file: $f, type: $t}}}' >"$REG_DIR/proxy.rules"
}
head -c $((5 << 20)) /dev/zero | tr '\0' ' ' >"$T/huge.json"
serve /v2/test/huge/manifests/1 "$T/huge.json"
refused "a manifest over 4 MiB" "manifest 1 of test/huge.*larger than 4194304 bytes" "$S" pull "$P/test/huge:1"
python3 -c 'print("[" * 5000 + "]" * 5000)' >"$T/deep.json"
serve /v2/test/deep/manifests/1 "$T/deep.json"
refused "a manifest nested 5000 levels deep" "exceeded max depth" "$S" pull "$P/test/deep:1"
layer0=$(jq -c '.layers[0]' "$T/a/blobs/sha256/$(jq -r '.manifests[0].digest' "$T/a/index.json" | cut -d: -f2)")
cfg=$(jq -c '.config' "$T/a/blobs/sha256/$(jq -r '.manifests[0].digest' "$T/a/index.json" | cut -d: -f2)")
jq -n -c --argjson l "$layer0" --argjson c "$cfg" '{schemaVersion: 2, mediaType:
	"application/vnd.oci.image.manifest.v1+json", config: $c, layers: [range(501) | $l]}' >"$T/many.json"
serve /v2/test/many/manifests/1 "$T/many.json"
refused "a manifest with 501 layers" "lists 501 layers, more than the 500 allowed" "$S" pull "$P/test/many:1"
echo '{"schemaVersion":1,"name":"test/old","tag":"1","architecture":"amd64","fsLayers":[],"history":[]}' >"$T/s1.json"
serve /v2/test/old/manifests/1 "$T/s1.json" application/vnd.docker.distribution.manifest.v1+prettyjws
refused "a schema 1 manifest" "schema 1, which is not supported" "$S" pull "$P/test/old:1"
jq -n -c --argjson c "$cfg" '{schemaVersion: 2, mediaType: "application/vnd.docker.distribution.manifest.v2+json",
	config: $c, layers: [{mediaType: "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
	digest: ("sha256:" + "1" * 64), size: 100, urls: ["https://example.invalid/layer"]}]}' >"$T/foreign.json"
serve /v2/test/win/manifests/1 "$T/foreign.json" application/vnd.docker.distribution.manifest.v2+json
refused "a foreign layer" "layer 1 \(blob sha256:1+\) is a foreign layer" "$S" pull "$P/test/win:1"
jq -n --arg f "$T/denied.json" '{serve: {"/v2/test/a/manifests/1": {status: 403, file: $f, type: "application/json"}}}' >"$REG_DIR/proxy.rules"
echo '{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}' >"$T/denied.json"
refused "403 on the manifest" "manifest 1 of test/a.*forbidden \(HTTP 403, DENIED: requested access" "$S" pull "$P/test/a:1" --name forbidden
echo '{}' >"$REG_DIR/proxy.rules"

# mirrors of docker.io (registry-mirrors), as in Docker's daemon.json
push "$T/a" a "$R/library/mirrored:1" || echo "# push library/mirrored failed"
jq -n --arg m "http://$P" '{"registry-mirrors": [$m]}' >"$FCSTART_REGISTRY_CONFIG"
: >"$REG_DIR/proxy.log"
check "docker.io references go to the mirror (registry-mirrors)" pull mirrored:1
check "recorded as docker.io/library/mirrored:1" "$F" image --store "$S" inspect docker.io/library/mirrored:1
grep -q "GET /v2/library/mirrored/manifests/1" "$REG_DIR/proxy.log" && ok "the mirror served /v2/library/mirrored" || { not_ok "mirror not asked"; diag <"$REG_DIR/proxy.log"; }
# a first mirror that lacks the image: the next one serves it
echo '{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}' >"$T/unknown.json"
jq -n --arg f "$T/unknown.json" '{serve: {"/v2/library/mirrored/manifests/1": {status: 404, file: $f}}}' >"$REG_DIR/proxy.rules"
jq -n --arg m1 "http://$P" --arg m2 "http://$R" '{"registry-mirrors": [$m1, $m2]}' >"$FCSTART_REGISTRY_CONFIG"
: >"$REG_DIR/proxy.log"
check "a mirror that lacks the image: the next mirror serves it" pull mirrored:1 --name mirrored-2
grep -q "GET /v2/library/mirrored/manifests/1 - 404-served" "$REG_DIR/proxy.log" && ok "the first mirror was asked and answered 404" || { not_ok "first mirror"; diag <"$REG_DIR/proxy.log"; }
echo '{}' >"$REG_DIR/proxy.rules"
echo '{}' >"$FCSTART_REGISTRY_CONFIG"

# ---- deploy by reference: the daemon pulls what its store lacks -------------------
push "$T/a" a "$R/test/dep:1" && push "$T/a" a "$R/test/dep:2" || echo "# push test/dep failed"
SOCK=$T/serve.sock
GPORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$F" serve --root "$T/serve" --store "$S" --socket "$SOCK" --http "127.0.0.1:$GPORT" >"$T/serve.log" 2>&1 &
DPID=$!
for _ in $(seq 250); do [ -S "$SOCK" ] && "$F" fn --socket "$SOCK" ls >/dev/null 2>&1 && break; sleep 0.02; done
fn() { "$F" fn --socket "$SOCK" "$@"; }
: >"$REG_DIR/proxy.log"
check "fn deploy --image REF pulls the image the store lacks" fn deploy dep --image "$P/test/dep:1"
check "the pulled image is recorded under the reference" "$F" image --store "$S" inspect "$P/test/dep:1"
out=$("$F" invoke --socket "$SOCK" dep 2>&1)
echo "$out" | grep -q hello-from-image && ok "the deployed function answers (invoke)" || { not_ok "invoke dep"; echo "$out" | diag; }
refused "fn deploy --pull never: an image the store lacks is refused" "test/dep:2.*not in store.*pull policy is never" "$S" \
	fn deploy dep2 --image "$P/test/dep:2" --pull never
: >"$REG_DIR/proxy.log"
check "fn deploy --pull missing: an image in the store is not pulled" fn deploy dep3 --image "$P/test/dep:1"
grep -q "manifests" "$REG_DIR/proxy.log" && not_ok "the registry was asked" || ok "the registry was not asked"
check "fn deploy --pull always pulls again" fn deploy dep4 --image "$P/test/dep:1" --pull always
grep -q "GET /v2/test/dep/manifests/1" "$REG_DIR/proxy.log" && ok "the registry served the manifest again" || { not_ok "no manifest GET"; diag <"$REG_DIR/proxy.log"; }
"$F" fn --socket "$SOCK" deploy dep5 --image "$P/test/dep:1" --pull sometimes >"$T/out" 2>&1
[ $? = 2 ] && grep -q "expected always, missing or never" "$T/out" && ok "--pull with a bad value: exit 2" || { not_ok "--pull sometimes"; diag <"$T/out"; }
# the OpenFaaS gateway's deploy (what faas-cli deploy --image REF sends)
G=http://127.0.0.1:$GPORT
code=$(curl -s -o "$T/out" -w '%{http_code}' -u "$(cat "$T/serve/basic-auth" 2>/dev/null)" -X POST \
	-d "{\"service\":\"gw\",\"image\":\"$P/test/dep:2\",\"envProcess\":\"/app/hello.sh\"}" "$G/system/functions")
[ "$code" = 202 ] && ok "POST /system/functions with an image reference: 202 (the daemon pulled it)" || { not_ok "gateway deploy: HTTP $code"; diag <"$T/out"; }
out=$(curl -s -d x "$G/function/gw")
echo "$out" | grep -q hello-from-image && ok "the function deployed through the gateway answers" || { not_ok "POST /function/gw"; echo "$out" | diag; }
refused "fn deploy of a reference whose registry lacks it" "test/nope:1.*not found" "$S" fn deploy dep6 --image "$P/test/nope:1"
# The gateway pulls in a child while the deploy waits: the daemon goes on
# serving (a registry held by the proxy until a file exists stands for a slow one).
AUTH=$(cat "$T/serve/basic-auth" 2>/dev/null)
gdeploy() { # NAME REF [curl flags]: the HTTP status of POST /system/functions
	local name=$1 ref=$2
	shift 2
	curl -s -o "$T/deploy-$name.out" -w '%{http_code}' -u "$AUTH" -X POST "$@" \
		-d "{\"service\":\"$name\",\"image\":\"$ref\",\"envProcess\":\"/app/hello.sh\"}" "$G/system/functions"
}
held() { # REF-PATH: the proxy holds a request for it
	for _ in $(seq 200); do grep -q "$1 - held" "$REG_DIR/proxy.log" && return 0; sleep 0.05; done
	return 1
}
pull_pid() { # REF: the pid of the gateway's pull child for it
	sed -n "s|.*pulling \`$1\` (process \([0-9]*\)).*|\1|p" "$T/serve.log" | tail -n1
}
no_pull_child() { # no `fcstart image pull` child of the daemon (running or a zombie)
	local c
	for c in $(grep -l "^PPid:[[:space:]]*$DPID\$" /proc/[0-9]*/status 2>/dev/null | cut -d/ -f3); do
		grep -q '^State:.*Z' "/proc/$c/status" 2>/dev/null && { echo "zombie child $c"; return 1; }
		tr '\0' ' ' <"/proc/$c/cmdline" 2>/dev/null | grep -q "image.*pull" && { echo "child $c: $(tr '\0' ' ' <"/proc/$c/cmdline")"; return 1; }
	done
	return 0
}
for t in 3 4 5 6 7; do push "$T/a" a "$R/test/dep:$t" || echo "# push test/dep:$t failed"; done
pull "$P/test/dep:7" >/dev/null 2>&1 || echo "# pull test/dep:7 failed" # in the store: for --pull always
jq -n --arg g "$T/gate3" --arg g4 "$T/gate4" --arg g5 "$T/gate5" --arg g6 "$T/gate6" --arg g7 "$T/gate7" '{hold: {"/v2/test/dep/manifests/3": $g,
	"/v2/test/dep/manifests/4": $g4, "/v2/test/dep/manifests/5": $g5, "/v2/test/dep/manifests/6": $g6,
	"/v2/test/dep/manifests/7": $g7}}' >"$REG_DIR/proxy.rules"
: >"$REG_DIR/proxy.log"
CPID2=
gdeploy slow "$P/test/dep:3" >"$T/slow.code" &
CPID=$!
if held /v2/test/dep/manifests/3; then
	ok "a deploy by reference through the gateway: its pull waits on the registry"
	# a second deploy of the same reference joins that pull
	gdeploy slow2 "$P/test/dep:3" >"$T/slow2.code" &
	CPID2=$!
	for _ in $(seq 100); do grep -q "\`$P/test/dep:3\` is being pulled" "$T/serve.log" && break; sleep 0.05; done
	[ "$(grep -c "pulling \`$P/test/dep:3\`" "$T/serve.log")" = 1 ] && grep -q "\`$P/test/dep:3\` is being pulled" "$T/serve.log" &&
		ok "a second deploy of the same reference waits for that pull (one pull)" ||
		{ not_ok "second deploy of test/dep:3"; diag <"$T/serve.log"; }
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$G/healthz")
	[ "$code" = 200 ] && ok "meanwhile /healthz answers 200" || not_ok "/healthz during a pull: HTTP $code"
	out=$(curl -s --max-time 5 -d x "$G/function/gw")
	echo "$out" | grep -q hello-from-image && ok "meanwhile a deployed function answers" || { not_ok "invoke during a pull"; echo "$out" | diag; }
	code=$(curl -s -o "$T/out" -w '%{http_code}' --max-time 5 -u "$AUTH" "$G/system/functions")
	[ "$code" = 200 ] && ok "meanwhile GET /system/functions answers" || { not_ok "list during a pull: HTTP $code"; diag <"$T/out"; }
	check "meanwhile the unix-socket API answers (fn ls)" timeout 5 "$F" fn --socket "$SOCK" ls
	kill -0 "$CPID" 2>/dev/null && [ ! -s "$T/slow.code" ] && ok "the deploy has not answered before its image is there" ||
		not_ok "the deploy answered during its pull: $(cat "$T/slow.code")"
else
	not_ok "the registry was not asked for test/dep:3"; diag <"$REG_DIR/proxy.log"; diag <"$T/serve.log"
fi
touch "$T/gate3"
wait "$CPID" $CPID2
[ "$(cat "$T/slow.code") $(cat "$T/slow2.code")" = "202 202" ] && ok "once pulled, both deploys answer 202" ||
	{ not_ok "deploys after a pull: HTTP $(cat "$T/slow.code") $(cat "$T/slow2.code")"; diag <"$T/deploy-slow.out"; diag <"$T/deploy-slow2.out"; }
out=$(curl -s --max-time 10 -d x "$G/function/slow")$(curl -s --max-time 10 -d x "$G/function/slow2")
[ "$(echo "$out" | grep -c hello-from-image)" = 2 ] && ok "the functions deployed after the pull answer" || { not_ok "POST /function/slow, slow2"; echo "$out" | diag; }
[ "$(grep -Ec "(GET|HEAD) /v2/test/dep/manifests/3 - [0-9]" "$REG_DIR/proxy.log")" = 1 ] && ok "the registry was asked for the manifest once" ||
	{ not_ok "manifest requests"; diag <"$REG_DIR/proxy.log"; }
check "the gateway's pull recorded the image under its reference" "$F" image --store "$S" inspect "$P/test/dep:3"
check "nothing left in the store's tmp/ after the gateway's pull" clean_tmp
check "the pull's process was reaped" no_pull_child
before=$(state "$S")
code=$(gdeploy nope "$P/test/nope:1" --max-time 30)
if [ "$code" = 400 ] && grep -q "function \`nope\`.*test/nope:1.*not found" "$T/deploy-nope.out" && [ "$(state "$S")" = "$before" ]; then
	ok "a gateway deploy of a reference the registry lacks: 400 naming the function and the reference, the store unchanged"
else
	not_ok "gateway deploy of test/nope:1: HTTP $code"; diag <"$T/deploy-nope.out"
fi
code=$(curl -s -o /dev/null -w '%{http_code}' -u "$AUTH" "$G/system/function/nope")
[ "$code" = 404 ] && ok "the function whose pull failed is not deployed" || not_ok "GET /system/function/nope: HTTP $code"
# a client that leaves during the pull: the pull ends, is reaped; a deploy again
# finds the image without asking the registry
gdeploy gone "$P/test/dep:4" --max-time 1 >/dev/null &
CPID=$!
held /v2/test/dep/manifests/4 || not_ok "the registry was not asked for test/dep:4"
wait "$CPID"
touch "$T/gate4"
for _ in $(seq 200); do grep -q "pull \`$P/test/dep:4\` done" "$T/serve.log" && break; sleep 0.05; done
grep -q "pull \`$P/test/dep:4\` done" "$T/serve.log" && ok "a pull whose client left goes on to its end" || { not_ok "pull of test/dep:4"; diag <"$T/serve.log"; }
check "and its process was reaped" no_pull_child
: >"$REG_DIR/proxy.log"
code=$(gdeploy gone "$P/test/dep:4" --max-time 10)
[ "$code" = 202 ] && ! grep -q manifests "$REG_DIR/proxy.log" && ok "deployed again: 202 without asking the registry" || { not_ok "deploy gone again: HTTP $code"; diag <"$REG_DIR/proxy.log"; }
# the same through the unix socket (fcstart fn deploy): a child pulls, the
# daemon serves meanwhile; a gateway deploy of the same reference joins it
fn deploy cli --image "$P/test/dep:6" >"$T/cli.out" 2>&1 &
CPID=$!
if held /v2/test/dep/manifests/6; then
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$G/healthz")
	if [ "$code" = 200 ] && timeout 5 "$F" fn --socket "$SOCK" ls >/dev/null 2>&1 && kill -0 "$CPID" 2>/dev/null; then
		ok "fn deploy --image REF: while its pull waits on the registry, the gateway and fn ls answer"
	else
		not_ok "fn deploy's pull held the daemon (/healthz: HTTP $code)"; diag <"$T/serve.log"
	fi
	gdeploy cli2 "$P/test/dep:6" >"$T/cli2.code" &
	CPID2=$!
	for _ in $(seq 100); do grep -q "\`$P/test/dep:6\` is being pulled" "$T/serve.log" && break; sleep 0.05; done
	[ "$(grep -c "pulling \`$P/test/dep:6\`" "$T/serve.log")" = 1 ] && grep -q "\`$P/test/dep:6\` is being pulled" "$T/serve.log" &&
		ok "a gateway deploy of the same reference joins fn deploy's pull" || { not_ok "joined pull of test/dep:6"; diag <"$T/serve.log"; }
else
	not_ok "the registry was not asked for test/dep:6"; diag <"$REG_DIR/proxy.log"; diag <"$T/serve.log"
fi
touch "$T/gate6"
wait "$CPID"
rc=$?
wait $CPID2
[ $rc = 0 ] && [ "$(cat "$T/cli2.code")" = 202 ] && ok "then fn deploy exits 0 and the gateway's deploy answers 202" ||
	{ not_ok "fn deploy exit $rc, gateway HTTP $(cat "$T/cli2.code")"; diag <"$T/cli.out"; }
out=$("$F" invoke --socket "$SOCK" cli 2>&1)
echo "$out" | grep -q hello-from-image && ok "the function deployed after the pull answers (invoke)" || { not_ok "invoke cli"; echo "$out" | diag; }
check "the pulls' processes were reaped" no_pull_child
# --pull always (an image the store has): pulled again by a child too, the
# deploy not pulling it a second time
: >"$REG_DIR/proxy.log"
CPID2=
fn deploy al --image "$P/test/dep:7" --pull always >"$T/al.out" 2>&1 &
CPID=$!
if held /v2/test/dep/manifests/7; then
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$G/healthz")
	if [ "$code" = 200 ] && timeout 5 "$F" fn --socket "$SOCK" ls >/dev/null 2>&1 && kill -0 "$CPID" 2>/dev/null; then
		ok "fn deploy --pull always: while the registry holds the pull, the gateway and fn ls answer"
	else
		not_ok "fn deploy --pull always held the daemon (/healthz: HTTP $code)"; diag <"$T/serve.log"
	fi
	curl -s -o /dev/null -w '%{http_code}' -u "$AUTH" -X POST \
		-d "{\"service\":\"al2\",\"image\":\"$P/test/dep:7\",\"labels\":{\"com.fcstart.pull\":\"always\"}}" \
		"$G/system/functions" >"$T/al2.code" &
	CPID2=$!
	for _ in $(seq 100); do grep -q "\`$P/test/dep:7\` is being pulled" "$T/serve.log" && break; sleep 0.05; done
	grep -q "\`$P/test/dep:7\` is being pulled" "$T/serve.log" && ok "a gateway deploy with com.fcstart.pull=always joins it" ||
		{ not_ok "gateway deploy of test/dep:7 did not join"; diag <"$T/serve.log"; }
else
	not_ok "fn deploy --pull always: the registry was not asked for test/dep:7"; diag <"$REG_DIR/proxy.log"; diag <"$T/serve.log"
fi
touch "$T/gate7"
wait "$CPID"
rc=$?
wait $CPID2
[ $rc = 0 ] && [ "$(cat "$T/al2.code")" = 202 ] && ok "then fn deploy --pull always exits 0 and the gateway answers 202" ||
	{ not_ok "fn deploy --pull always: exit $rc, gateway HTTP $(cat "$T/al2.code")"; diag <"$T/al.out"; }
[ "$(grep -Ec "(GET|HEAD) /v2/test/dep/manifests/7 - [0-9]" "$REG_DIR/proxy.log")" = 1 ] && ok "... the manifest asked once (one pull, none in the deploys)" ||
	{ not_ok "manifest requests for test/dep:7"; diag <"$REG_DIR/proxy.log"; }
for f in dep dep3 dep4 gw slow slow2 gone cli cli2 al al2; do fn rm "$f" >/dev/null 2>&1; done
# the daemon stopped during a pull: the pull's process is stopped and reaped
gdeploy stopped "$P/test/dep:5" >"$T/stopped.code" &
CPID=$!
held /v2/test/dep/manifests/5 || not_ok "the registry was not asked for test/dep:5"
ppid=$(pull_pid "$P/test/dep:5")
kill -TERM "$DPID" 2>/dev/null
for _ in $(seq 200); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.05; done
if ! kill -0 "$DPID" 2>/dev/null && [ -n "$ppid" ] && ! kill -0 "$ppid" 2>/dev/null; then
	ok "the daemon stopped during a pull: it exited and its pull's process is gone"
else
	not_ok "daemon $DPID or pull process '$ppid' still there"; diag <"$T/serve.log"
fi
touch "$T/gate5"
wait "$CPID"
[ "$(cat "$T/stopped.code")" != 202 ] && ok "that deploy was not answered 202" || not_ok "a deploy cut by the daemon's stop answered 202"
echo '{}' >"$REG_DIR/proxy.rules"
DPID=

# ---- TLS with a test CA --------------------------------------------------------
reg_make_ca "$T/ca" || { echo "Bail out! openssl"; exit 1; }
TP=$(reg_start tls --tls "$T/ca/server.crt" "$T/ca/server.key") || { echo "Bail out! TLS registry"; exit 1; }
TR=127.0.0.1:$TP
mkdir -p "$T/certs.d/$TR" && cp "$T/ca/ca.crt" "$T/certs.d/$TR/ca.crt"
sko copy --quiet --dest-cert-dir "$T/certs.d/$TR" "oci:$T/a:a" "docker://$TR/test/a:1" || echo "# skopeo push over TLS failed"
refused "TLS: a certificate from an unknown CA is refused" "certificate problem.*certs.d" "$S" pull "$TR/test/a:1" --retries 1
jq -n --arg d "$T/certs.d" '{"certs-dir": $d}' >"$FCSTART_REGISTRY_CONFIG"
check "TLS: with the CA in certs-dir/HOST:PORT/ca.crt" pull "$TR/test/a:1"
check "TLS: the pull equals the import" same_as_import "$TR/test/a:1" "$T/a"
echo '{}' >"$FCSTART_REGISTRY_CONFIG"
check "TLS: --insecure-registry skips the verification" pull "$TR/test/a:1" --insecure-registry "$TR" --name tls-insecure
jq -n --arg r "$TR" '{"insecure-registries": [$r]}' >"$FCSTART_REGISTRY_CONFIG"
check "TLS: insecure-registries in the config file" pull "$TR/test/a:1" --name tls-insecure2
echo '{}' >"$FCSTART_REGISTRY_CONFIG"

# ---- basic auth (htpasswd) --------------------------------------------------------
htpasswd -Bbc "$T/htpasswd" tester 's3cret-Pa55' >/dev/null 2>&1
AP=$(reg_start auth --htpasswd "$T/htpasswd") || { echo "Bail out! auth registry"; exit 1; }
AR=127.0.0.1:$AP
push "$T/e" e "$AR/test/e:1" --dest-creds 'tester:s3cret-Pa55' || echo "# push with creds failed"
refused "basic auth: no credentials" "authentication required and no credentials" "$S" pull "$AR/test/e:1" --name auth-e
mkdir -p "$T/docker-bad" "$T/docker-good" "$T/docker-plain"
jq -n --arg r "$AR" --arg a "$(printf 'tester:wrong-Pa55word' | base64 -w0)" '{auths: {($r): {auth: $a}}}' >"$T/docker-bad/config.json"
DOCKER_CONFIG=$T/docker-bad refused "basic auth: wrong credentials are refused" "credentials of the docker config were refused" "$S" \
	pull "$AR/test/e:1" --name auth-e
grep -q "wrong-Pa55word" "$T/out" && not_ok "the password appears in the message" || ok "the message does not show the password"
jq -n --arg r "http://$AR" --arg a "$(printf 'tester:s3cret-Pa55' | base64 -w0)" '{auths: {($r): {auth: $a}}}' >"$T/docker-good/config.json"
DOCKER_CONFIG=$T/docker-good check "basic auth: config.json auths (base64 auth, key with scheme)" pull "$AR/test/e:1" --name auth-e
jq -n --arg r "$AR" '{auths: {($r): {username: "tester", password: "s3cret-Pa55"}}}' >"$T/docker-plain/config.json"
DOCKER_CONFIG=$T/docker-plain check "basic auth: username and password fields" pull "$AR/test/e:1" --name auth-e2
echo '{"auths": {"x": {"auth": "!!notbase64"}}' >"$T/docker-bad/config.json"
DOCKER_CONFIG=$T/docker-bad refused "a broken docker config.json is named" "docker config|config.json" "$S" pull "$AR/test/e:1" --name auth-e3

# ---- token auth (the Docker Hub flow): a token server of our own -----------------
if KP=$(token_start tok 'tester:t0ken-Pa55'); then
	KR=$(reg_start token --token "http://127.0.0.1:$KP/token" fcstart-test fcstart-test-issuer "$REG_DIR/tok.crt")
	KR=127.0.0.1:$KR
	push "$T/e" e "$KR/test/e:1" --dest-creds 'tester:t0ken-Pa55' || echo "# push with a token failed"
	refused "token auth: the token server refuses a pull without credentials" \
		"authentication failed: the token server 127.0.0.1:$KP answered 401 without credentials" "$S" \
		pull "$KR/test/e:1" --name tok-e
	mkdir -p "$T/docker-tok"
	jq -n --arg r "$KR" --arg a "$(printf 'tester:t0ken-Pa55' | base64 -w0)" '{auths: {($r): {auth: $a}}}' >"$T/docker-tok/config.json"
	: >"$REG_DIR/tok.log"
	DOCKER_CONFIG=$T/docker-tok check "token auth: Bearer token from the realm with the config's credentials" \
		pull "$KR/test/e:1" --name tok-e
	grep -q "scope=\['repository:test/e:pull'\] auth=yes" "$REG_DIR/tok.log" && ok "the token was asked for repository:test/e:pull, with credentials" ||
		{ not_ok "token request"; diag <"$REG_DIR/tok.log"; }
else
	n=$((n + 1)); echo "ok $n - token auth # SKIP the token server did not start"
fi

check "nothing left in tmp/ at the end" clean_tmp
echo "1..$n"
[ $failed = 0 ]
