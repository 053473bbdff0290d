#!/usr/bin/python3
"""A small HTTP server for the pib-init fetch tests, with scripted faults.

flaky_http.py ROOT PORTFILE [--bind ADDR] [--chunked] [--fail-first N] [--truncate-first]
  serves files below ROOT on ADDR (default 127.0.0.1; port written to PORTFILE);
  --chunked         every 200 body in chunked transfer coding (no Content-Length)
  --fail-first N    the first N requests of each path get 503
  --truncate-first  the first 200 of each path announces the full length but
                    sends half the body and closes
  POST .../report   bodies are appended to ROOT/reports.log, answered 204
"""
import http.server
import os
import sys
import threading

ROOT, PORTFILE = sys.argv[1], sys.argv[2]
CHUNKED = "--chunked" in sys.argv
FAIL_FIRST = int(sys.argv[sys.argv.index("--fail-first") + 1]) if "--fail-first" in sys.argv else 0
TRUNCATE_FIRST = "--truncate-first" in sys.argv
BIND = sys.argv[sys.argv.index("--bind") + 1] if "--bind" in sys.argv else "127.0.0.1"
seen = {}
lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        with lock:
            n = seen.get(self.path, 0)
            seen[self.path] = n + 1
        if n < FAIL_FIRST:
            body = b"busy\n"
            self.send_response(503)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
            return
        path = os.path.normpath(os.path.join(ROOT, self.path.lstrip("/")))
        if not path.startswith(ROOT) or not os.path.isfile(path):
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.send_header("Connection", "close")
            self.end_headers()
            return
        with open(path, "rb") as f:
            data = f.read()
        self.send_response(200)
        self.send_header("Connection", "close")
        if TRUNCATE_FIRST and n == FAIL_FIRST:
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        if CHUNKED:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(0, len(data), 7000):
                piece = data[i : i + 7000]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        with lock, open(os.path.join(ROOT, "reports.log"), "ab") as f:
            f.write(self.path.encode() + b" " + body + b"\n")
        self.send_response(204)
        self.send_header("Connection", "close")
        self.end_headers()


server = http.server.ThreadingHTTPServer((BIND, 0), Handler)
with open(PORTFILE + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(PORTFILE + ".tmp", PORTFILE)
server.serve_forever()
