#!/usr/bin/env python3
"""callback-receiver.py PORT DIR: an HTTP server on 127.0.0.1:PORT that keeps
every request it gets as DIR/N.head (method, path, then the headers, one a
line, "Name: value") and DIR/N.body, N counting from 1, and answers 200. The
e2e tests use it as the X-Callback-Url of asynchronous invocations."""
import http.server
import os
import sys
import threading

port, out = int(sys.argv[1]), sys.argv[2]
lock = threading.Lock()
count = [0]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        with lock:
            count[0] += 1
            k = count[0]
        head = "%s %s\n" % (self.command, self.path)
        head += "".join("%s: %s\n" % (h, v) for h, v in self.headers.items())
        with open(os.path.join(out, "%d.body" % k), "wb") as f:
            f.write(body)
        # the head last: its presence says the request is whole
        with open(os.path.join(out, ".%d.head" % k), "w") as f:
            f.write(head)
        os.rename(os.path.join(out, ".%d.head" % k), os.path.join(out, "%d.head" % k))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_POST = do_PUT = do_GET = do_any

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
