#!/usr/bin/python3
# regproxy.py: a small HTTP proxy in front of a test registry that can break
# things on purpose (the pull tests' hostile registry). Loopback only.
#
#   regproxy.py --upstream http://127.0.0.1:PORT --rules FILE --log FILE --port-file FILE
#
# The rules file (JSON, read again on every request; missing means none):
#   {"flip":     ["sha256:..."],            a blob's bytes with one byte flipped
#    "cut":      {"sha256:...": N},          the first full GET of a blob stops after N
#                                            bytes (the connection is dropped)
#    "truncate": {"sha256:...": N},          every answer for a blob stops after N bytes
#    "serve":    {"/v2/REPO/manifests/REF": {"file": PATH, "type": MEDIA-TYPE, "status": N}},
#                                            answer with a file (and a status, default 200)
#                                            instead of the registry
#    "hold":     {"/v2/REPO/manifests/REF": PATH}}
#                                            the request waits (up to 60 s) until the file
#                                            PATH exists, then goes on (a slow registry)
# Each request is logged as "METHOD PATH RANGE STATUS".
import argparse
import http.client
import http.server
import json
import os
import socket
import threading
import time
import urllib.parse

ap = argparse.ArgumentParser()
ap.add_argument("--upstream", required=True)
ap.add_argument("--rules", required=True)
ap.add_argument("--log", required=True)
ap.add_argument("--port-file", required=True)
args = ap.parse_args()
up = urllib.parse.urlparse(args.upstream)
lock = threading.Lock()
cut_done = set()


def rules():
    try:
        with open(args.rules) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def log(line):
    with lock:
        with open(args.log, "a") as f:
            f.write(line + "\n")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_HEAD(self):
        self.forward(head=True)

    def do_GET(self):
        self.forward(head=False)

    def forward(self, head):
        r = rules()
        rng = self.headers.get("Range", "-")
        gate = r.get("hold", {}).get(self.path)
        if gate:
            log(f"{self.command} {self.path} {rng} held")
            for _ in range(600):
                if os.path.exists(gate):
                    break
                time.sleep(0.1)
        serve = r.get("serve", {}).get(self.path)
        if serve:
            body = b""
            if "file" in serve:
                with open(serve["file"], "rb") as f:
                    body = f.read()
            status = int(serve.get("status", 200))
            log(f"{self.command} {self.path} {rng} {status}-served")
            self.send_response(status)
            self.send_header("Content-Type", serve.get("type", "application/json"))
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head:
                self.wfile.write(body)
            return
        conn = http.client.HTTPConnection(up.hostname, up.port, timeout=60)
        hdrs = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        conn.request(self.command, self.path, headers=hdrs)
        resp = conn.getresponse()
        digest = self.path.rsplit("/", 1)[-1] if "/blobs/" in self.path else None
        limit = None
        if digest and resp.status in (200, 206) and not head:
            if digest in r.get("truncate", {}):
                limit = int(r["truncate"][digest])
            elif digest in r.get("cut", {}) and rng == "-":
                with lock:
                    if digest not in cut_done:
                        cut_done.add(digest)
                        limit = int(r["cut"][digest])
        flip = digest in r.get("flip", []) and resp.status in (200, 206) and not head
        log(f"{self.command} {self.path} {rng} {resp.status}{' cut' if limit is not None else ''}")
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("connection", "transfer-encoding", "keep-alive"):
                self.send_header(k, v)
        self.end_headers()
        if head:
            conn.close()
            return
        sent = 0
        total = int(resp.getheader("Content-Length") or 0)
        while True:
            chunk = resp.read(65536)
            if not chunk:
                break
            if flip and sent <= total // 2 < sent + len(chunk):
                i = total // 2 - sent
                chunk = chunk[:i] + bytes([chunk[i] ^ 0x01]) + chunk[i + 1:]
            if limit is not None and sent + len(chunk) > limit:
                chunk = chunk[: limit - sent]
                self.wfile.write(chunk)
                self.wfile.flush()
                conn.close()
                # drop the connection in the middle of the body
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
                return
            self.wfile.write(chunk)
            sent += len(chunk)
        conn.close()


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
srv.daemon_threads = True
with open(args.port_file + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(args.port_file + ".tmp", args.port_file)
srv.serve_forever()
