# An OpenFaaS-style Python 3 HTTP function for the tests: an init phase that
# imports modules and builds about FN_INIT_MB (default 50) MB of objects (a
# stand-in for loading a framework or a model), then an HTTP server on
# 127.0.0.1:8080 with a readiness path, /_/health.
#
# Routes: GET /_/health (200 once initialized), GET / (a JSON document about
# this instance), POST /exec (the body run by /bin/sh; its output and status:
# what the tests probe a sandbox with), POST /alloc?mb=N (hold N MiB more).
# With fcstart's helper in reach (fork mode), fcstart.ready() marks the end of
# the init: the template waits there and each instance returns from it.
import base64, collections, datetime, decimal, email.parser, hashlib, json, os, random
import re, socket, socketserver, subprocess, sys, time, urllib.parse, uuid, zlib
import xml.etree.ElementTree
from http.server import BaseHTTPRequestHandler

T0 = time.monotonic()
MB = int(os.environ.get("FN_INIT_MB", "50"))


def build(mb):
    # about 260 bytes an entry: a dict slot, a tuple, a str, a float, a list
    n = mb * 1024 * 1024 // 260
    table = {}
    for i in range(n):
        table[i] = ("item-%08d" % i, i * 0.5, [i, i + 1])
    return table


TABLE = build(MB)
if os.environ.get("FN_INIT_FAIL"):
    sys.exit("init failed on purpose (FN_INIT_FAIL)")
if os.environ.get("FN_INIT_SLEEP"):
    time.sleep(float(os.environ["FN_INIT_SLEEP"]))
INIT_MS = (time.monotonic() - T0) * 1000

try:
    import fcstart
except ImportError:
    fcstart = None
if fcstart and os.environ.get("FN_HOSTILE"):
    # a hostile template (test-pool-fork.sh): its instances keep every
    # capability the join gave them in their own user namespace
    fcstart._set_caps = lambda *args: None
if fcstart:
    fcstart.ready()
HELD = []


def about():
    return {
        "pid": os.getpid(),
        "ppid": os.getppid(),
        "hostname": socket.gethostname(),
        "random": random.random(),
        "urandom": os.urandom(8).hex(),
        "uuid4": str(uuid.uuid4()),
        "init_ms": round(INIT_MS, 1),
        "entries": len(TABLE),
        "forked": bool(fcstart and fcstart.forked()),
        "netns": os.readlink("/proc/self/ns/net"),
    }


class Handler(BaseHTTPRequestHandler):
    def reply(self, status, body, ctype="application/json"):
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path
        if path == "/_/health":
            self.reply(200, "OK", "text/plain")
        elif path == "/":
            self.reply(200, about())
        else:
            self.reply(404, "not found\n", "text/plain")

    def do_POST(self):
        u = urllib.parse.urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if u.path == "/exec":
            p = subprocess.run(["/bin/sh", "-c", body.decode()], capture_output=True, timeout=30)
            self.reply(200, {"status": p.returncode, "out": p.stdout.decode(errors="replace"),
                             "err": p.stderr.decode(errors="replace")})
        elif u.path == "/alloc":
            mb = int(urllib.parse.parse_qs(u.query).get("mb", ["1"])[0])
            HELD.append(bytearray(mb * 1024 * 1024))
            for b in HELD[-1:]:
                for k in range(0, len(b), 4096):
                    b[k] = 1
            self.reply(200, {"held_mb": sum(len(b) for b in HELD) >> 20})
        else:
            self.reply(200, {"echo": body.decode(errors="replace"), **about()})

    def log_message(self, *args):
        pass


class Server(socketserver.TCPServer):
    allow_reuse_address = True


with Server(("127.0.0.1", 8080), Handler) as srv:
    srv.serve_forever()
