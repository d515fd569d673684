#!/usr/bin/python3
# tokenserver.py: a small token server for docker-registry's token auth (the
# Docker Hub flow), for the pull tests. Loopback only.
#
#   tokenserver.py --key KEY.pem --cert CERT.pem --issuer ISS --user U:P --port-file F --log F
#
# GET /token?service=S&scope=repository:NAME:ACTIONS with basic auth U:P
# answers {"token": JWT, "access_token": JWT} granting the scope; without
# credentials or with wrong ones, 401. The JWT is RS256, signed with
# openssl(1), its header carrying the certificate (x5c) that the registry's
# rootcertbundle holds.
import argparse
import base64
import http.server
import json
import os
import subprocess
import time
import urllib.parse

ap = argparse.ArgumentParser()
ap.add_argument("--key", required=True)
ap.add_argument("--cert", required=True)
ap.add_argument("--issuer", required=True)
ap.add_argument("--user", required=True)
ap.add_argument("--port-file", required=True)
ap.add_argument("--log", required=True)
args = ap.parse_args()

with open(args.cert) as f:
    pem = f.read()
der = base64.b64decode("".join(l for l in pem.splitlines() if "CERTIFICATE" not in l))


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def jwt(service, scopes):
    now = int(time.time())
    access = []
    for sc in scopes:
        parts = sc.split(":")
        if len(parts) == 3:
            access.append({"type": parts[0], "name": parts[1], "actions": parts[2].split(",")})
    header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(der).decode()]}
    claims = {"iss": args.issuer, "sub": args.user.split(":")[0], "aud": service,
              "exp": now + 300, "nbf": now - 10, "iat": now, "jti": os.urandom(8).hex(),
              "access": access}
    signing = b64u(json.dumps(header).encode()) + "." + b64u(json.dumps(claims).encode())
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", args.key], input=signing.encode(),
                         capture_output=True, check=True).stdout
    return signing + "." + b64u(sig)


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_GET(self):
        u = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(u.query)
        auth = self.headers.get("Authorization", "")
        good = "Basic " + base64.b64encode(args.user.encode()).decode()
        with open(args.log, "a") as f:
            f.write(f"GET {u.path} scope={q.get('scope', [''])} auth={'yes' if auth else 'no'}\n")
        if u.path != "/token" or auth != good:
            self.send_response(401)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        tok = jwt(q.get("service", [""])[0], q.get("scope", []))
        body = json.dumps({"token": tok, "access_token": tok, "expires_in": 300}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(args.port_file + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(args.port_file + ".tmp", args.port_file)
srv.serve_forever()
