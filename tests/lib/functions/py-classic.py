# A classic (stdin/stdout) Python 3 function for the tests: the same init as
# py-http.py (imports, about FN_INIT_MB MB of objects), then it reads the
# request on stdin and writes a JSON answer on stdout. An input starting
# with "exit N" makes it exit with status N.
import base64, collections, datetime, decimal, email.parser, hashlib, json, os, random
import re, socket, sys, time, uuid, zlib
import xml.etree.ElementTree

T0 = time.monotonic()
MB = int(os.environ.get("FN_INIT_MB", "50"))
TABLE = {i: ("item-%08d" % i, i * 0.5, [i, i + 1]) for i in range(MB * 1024 * 1024 // 260)}
INIT_MS = (time.monotonic() - T0) * 1000

try:
    import fcstart
except ImportError:
    fcstart = None
if fcstart:
    fcstart.ready()

data = sys.stdin.read()
out = {
    "echo": data,
    "pid": os.getpid(),
    "hostname": socket.gethostname(),
    "random": random.random(),
    "urandom": os.urandom(8).hex(),
    "init_ms": round(INIT_MS, 1),
    "entries": len(TABLE),
    "env": os.environ.get("FN_INVOKE", ""),
}
sys.stdout.write(json.dumps(out) + "\n")
sys.stdout.flush()
if data.startswith("exit "):
    sys.exit(int(data.split()[1]))
