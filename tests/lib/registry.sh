# tests/lib/registry.sh: sourced by the pull tests and bench/bench-pull.sh.
# Private registries (Debian's docker-registry, distribution 2.8) on
# 127.0.0.1 with a port the kernel picks, images pushed with Debian's skopeo,
# and the fault-injecting proxy (regproxy.py). Everything lives under $REG_DIR
# (set by the caller) and is stopped by pid in reg_stop_all: the pids are
# kept in files ($REG_DIR/*.pid), as the starters run in $(...) subshells.

REG_BIN=/usr/bin/docker-registry

# reg_missing: the first tool the pull tests lack, or nothing.
reg_missing() {
	local t
	for t in "$REG_BIN" /usr/bin/skopeo /usr/bin/htpasswd /usr/bin/openssl /usr/bin/python3 /usr/bin/jq; do
		[ -x "$t" ] || { echo "$t (Debian's ${t##*/} package; quickstart.sh test installs it)"; return 0; }
	done
	return 1
}

# reg_wait_port LOGFILE: the port of "listening on 127.0.0.1:PORT" in a log
reg_wait_port() {
	local i=0 p
	while [ $i -lt 100 ]; do
		p=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$1" 2>/dev/null | head -n1 | sed 's/.*://')
		[ -n "$p" ] && { echo "$p"; return 0; }
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# reg_start NAME [--tls CERT KEY] [--htpasswd FILE] [--token REALM SERVICE ISSUER BUNDLE]
# Starts a registry; prints its port. Its config, data and log are in $REG_DIR/NAME.
reg_start() {
	local name=$1 d tls="" auth=""
	shift
	d=$REG_DIR/$name
	mkdir -p "$d/data"
	while [ $# -gt 0 ]; do
		case "$1" in
		--tls) tls="  tls:
    certificate: $2
    key: $3"; shift 3 ;;
		--htpasswd) auth="auth:
  htpasswd:
    realm: fcstart-test
    path: $2"; shift 2 ;;
		--token) auth="auth:
  token:
    realm: $2
    service: $3
    issuer: $4
    rootcertbundle: $5"; shift 5 ;;
		*) echo "reg_start: unknown option $1" >&2; return 2 ;;
		esac
	done
	cat >"$d/config.yml" <<EOF
version: 0.1
log:
  level: info
  formatter: text
storage:
  filesystem:
    rootdirectory: $d/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:0
$tls
$auth
EOF
	"$REG_BIN" serve "$d/config.yml" >"$d/log" 2>&1 &
	echo $! >"$REG_DIR/$name.pid"
	reg_wait_port "$d/log" || { echo "registry $name did not start:" >&2; tail -n 5 "$d/log" >&2; return 1; }
}

# proxy_start NAME UPSTREAM-URL: regproxy.py in front of a registry; prints its port.
# Rules in $REG_DIR/NAME.rules, requests logged to $REG_DIR/NAME.log.
proxy_start() {
	local name=$1 i=0
	python3 "$FC_SOURCE_ROOT/tests/lib/regproxy.py" --upstream "$2" --rules "$REG_DIR/$name.rules" \
		--log "$REG_DIR/$name.log" --port-file "$REG_DIR/$name.port" >"$REG_DIR/$name.err" 2>&1 &
	echo $! >"$REG_DIR/$name.pid"
	while [ ! -s "$REG_DIR/$name.port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	cat "$REG_DIR/$name.port" 2>/dev/null || { cat "$REG_DIR/$name.err" >&2; return 1; }
}

# token_start NAME USER:PASS: tokenserver.py with a key and certificate of its
# own ($REG_DIR/NAME.key, NAME.crt: the registry's rootcertbundle); prints its port.
token_start() {
	local name=$1 i=0
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=fcstart test token issuer" \
		-keyout "$REG_DIR/$name.key" -out "$REG_DIR/$name.crt" >/dev/null 2>&1 || return 1
	python3 "$FC_SOURCE_ROOT/tests/lib/tokenserver.py" --key "$REG_DIR/$name.key" --cert "$REG_DIR/$name.crt" \
		--issuer fcstart-test-issuer --user "$2" --port-file "$REG_DIR/$name.port" \
		--log "$REG_DIR/$name.log" >"$REG_DIR/$name.err" 2>&1 &
	echo $! >"$REG_DIR/$name.pid"
	while [ ! -s "$REG_DIR/$name.port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	cat "$REG_DIR/$name.port" 2>/dev/null || { cat "$REG_DIR/$name.err" >&2; return 1; }
}

# skopeo with a policy of our own (no /etc/containers needed) and no auth file of the host
sko() {
	[ -f "$REG_DIR/policy.json" ] || echo '{"default":[{"type":"insecureAcceptAnything"}]}' >"$REG_DIR/policy.json"
	REGISTRY_AUTH_FILE=$REG_DIR/skopeo-auth.json skopeo --policy "$REG_DIR/policy.json" "$@"
}

# push LAYOUT REF-IN-LAYOUT DEST [skopeo copy flags...]: push an OCI layout over plain http
push() {
	local src=$1 tag=$2 dst=$3
	shift 3
	sko copy --quiet --dest-tls-verify=false "$@" "oci:$src:$tag" "docker://$dst"
}

# reg_make_ca DIR: a test CA and a server certificate for 127.0.0.1 in DIR
# (ca.crt, server.crt, server.key).
reg_make_ca() {
	local d=$1
	mkdir -p "$d"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=fcstart test CA" \
		-keyout "$d/ca.key" -out "$d/ca.crt" >/dev/null 2>&1 || return 1
	openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
		-keyout "$d/server.key" -out "$d/server.csr" >/dev/null 2>&1 || return 1
	printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' >"$d/ext"
	openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
		-days 2 -extfile "$d/ext" -out "$d/server.crt" >/dev/null 2>&1
}

# reg_stop_all: stop every registry and proxy we started, by pid.
reg_stop_all() {
	local f p n pids=""
	for f in "$REG_DIR"/*.pid; do
		[ -f "$f" ] && pids="$pids $(cat "$f")" && rm -f "$f"
	done
	for p in $pids; do kill -TERM "$p" 2>/dev/null; done
	for p in $pids; do
		n=0
		while kill -0 "$p" 2>/dev/null && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
		kill -KILL "$p" 2>/dev/null
	done
	return 0
}
