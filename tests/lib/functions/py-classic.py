# A classic (stdin/stdout) Python 3 function for the tests: the same init as
# py-http.py (imports, about FN_INIT_MB MB of objects), then it reads the
# request on stdin and writes a JSON answer on stdout (with since_init_ms, the
# time from the end of its init to its request: the wait of an instance started
# ahead). An input starting with "exit N" makes it exit with status N.
import base64, collections, datetime, decimal, email.parser, hashlib, json, os, random
import re, socket, sys, time, uuid, zlib
import xml.etree.ElementTree

T0 = time.monotonic()
MB = int(os.environ.get("FN_INIT_MB", "50"))
TABLE = {i: ("item-%08d" % i, i * 0.5, [i, i + 1]) for i in range(MB * 1024 * 1024 // 260)}
T1 = time.monotonic()
INIT_MS = (T1 - T0) * 1000

try:
    import fcstart
except ImportError:
    fcstart = None
if fcstart:
    fcstart.ready()

data = sys.stdin.read()
T2 = time.monotonic()
out = {
    "echo": data,
    "pid": os.getpid(),
    "hostname": socket.gethostname(),
    "random": random.random(),
    "urandom": os.urandom(8).hex(),
    "init_ms": round(INIT_MS, 1),
    "since_init_ms": round((T2 - T1) * 1000, 1),
    "entries": len(TABLE),
    "env": os.environ.get("FN_INVOKE", ""),
    "http": "%s %s %s" % (os.environ.get("Http_Method", "-"), os.environ.get("Http_Path", "-"),
                          os.environ.get("Http_Query", "-")),
}
sys.stdout.write(json.dumps(out) + "\n")
sys.stdout.flush()
if data.startswith("exit "):
    sys.exit(int(data.split()[1]))
