#!/usr/bin/env python3
"""Loopback fixture server for the `copydesk track` tests (standard library only).

Serves tests/track/fixtures on 127.0.0.1, on a free port it writes to PORT_FILE,
with "{BASE}" in every file replaced by http://127.0.0.1:PORT. Every file answers
with an ETag and honours If-None-Match (304). Routes with behaviour:

  /lm/NAME          Last-Modified only, honours If-Modified-Since (304)
  /novalidators/NAME  no ETag, no Last-Modified: always 200
  /flaky/NAME       500 for the first two requests, then the file
  /slow/NAME        waits SLOW seconds (default 5) before answering
  /pause/NAME       waits 0.3 s; the log's "in_flight" counts the /pause/
                    requests being served at the time (per-host limit test)
  /big/NAME         a 3 MiB body with Content-Length
  /big-chunked/NAME a 3 MiB body without Content-Length (ends at close)
  /gzip/NAME        the file gzip-compressed (Content-Encoding: gzip) when the
                    client accepts gzip; logged as "gzip": true
  /gzip-bomb        3 MiB of feed compressed to a few KiB (Content-Encoding: gzip)
  /loop/a, /loop/b  redirect to each other forever
  /to-file          redirects to file:///etc/passwd
  /missing          404
  /robots.txt       tests/track/fixtures/robots.txt

Each request is logged to LOG_FILE as one JSON line {"path","status","ua",
"if_none_match","if_modified_since"}.
  usage: server.py FIXTURES_DIR PORT_FILE LOG_FILE
"""
import email.utils
import gzip
import hashlib
import http.server
import json
import os
import sys
import threading
import time

FIXTURES, PORT_FILE, LOG_FILE = os.path.abspath(sys.argv[1]), sys.argv[2], sys.argv[3]
SLOW = float(os.environ.get("SLOW", "5"))
MTIME = "Fri, 27 Nov 2026 12:00:00 GMT"
lock = threading.Lock()
counters = {}
in_flight = 0
base = ""


def count(key):
    with lock:
        counters[key] = counters.get(key, 0) + 1
        return counters[key]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # no 40 ms delayed-ACK stall between headers and body

    def log_message(self, *args):
        pass

    def record(self, status):
        with lock, open(LOG_FILE, "a") as log:
            log.write(json.dumps({
                "path": self.path, "status": status, "in_flight": getattr(self, "in_flight", 0),
                "gzip": getattr(self, "gzipped", False),
                "ua": self.headers.get("User-Agent"),
                "if_none_match": self.headers.get("If-None-Match"),
                "if_modified_since": self.headers.get("If-Modified-Since"),
            }) + "\n")

    def send(self, status, body=b"", headers=(), length=True, gzipped=False):
        self.gzipped = gzipped
        self.record(status)
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        if length:
            self.send_header("Content-Length", str(len(body)))
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def file(self, name):
        path = os.path.normpath(os.path.join(FIXTURES, name))
        if not path.startswith(os.path.abspath(FIXTURES)) or not os.path.isfile(path):
            return None
        with open(path, "rb") as f:
            return f.read().replace(b"{BASE}", base.encode())

    def content_type(self, name):
        if name.endswith(".json"):
            return "application/feed+json"
        if name.endswith(".html"):
            return "text/html; charset=utf-8"
        if name.endswith(".txt"):
            return "text/plain"
        return "application/xml"

    def do_GET(self):
        path = self.path.split("?")[0]
        try:
            self.route(path)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def route(self, path):
        parts = path.lstrip("/").split("/", 1)
        mode, rest = (parts[0], parts[1]) if len(parts) == 2 else ("", parts[0])
        if path == "/robots.txt":
            mode, rest = "", "robots.txt"
        if path in ("/loop/a", "/loop/b"):
            other = "/loop/b" if path == "/loop/a" else "/loop/a"
            return self.send(302, headers=[("Location", base + other)])
        if path == "/to-file":
            return self.send(302, headers=[("Location", "file:///etc/passwd")])
        if mode in ("big", "big-chunked"):
            body = b"<rss><channel>" + b"<!-- padding -->" * (3 * 1024 * 1024 // 16) + b"</channel></rss>"
            return self.send(200, body, [("Content-Type", "application/xml")], length=(mode == "big"))
        if path == "/gzip-bomb":
            body = gzip.compress(b"<rss><channel>" + b" " * (3 * 1024 * 1024) + b"</channel></rss>")
            return self.send(200, body, [("Content-Type", "application/xml"),
                                         ("Content-Encoding", "gzip")], gzipped=True)
        if mode == "slow":
            time.sleep(SLOW)
        if mode == "pause":
            global in_flight
            with lock:
                in_flight += 1
                self.in_flight = in_flight
            time.sleep(0.3)
            with lock:
                in_flight -= 1
        if mode == "flaky" and count(path) <= 2:
            return self.send(500, b"try again", [("Content-Type", "text/plain")])
        name = rest if mode in ("lm", "novalidators", "flaky", "slow", "pause", "gzip") else path.lstrip("/")
        body = self.file(name)
        if body is None:
            return self.send(404, b"not found", [("Content-Type", "text/plain")])
        headers = [("Content-Type", self.content_type(name))]
        if mode == "lm":
            headers.append(("Last-Modified", MTIME))
            since = self.headers.get("If-Modified-Since")
            if since and email.utils.parsedate_to_datetime(since) >= email.utils.parsedate_to_datetime(MTIME):
                return self.send(304, headers=headers)
        elif mode != "novalidators":
            etag = '"%s"' % hashlib.sha1(body).hexdigest()[:16]
            headers.append(("ETag", etag))
            if self.headers.get("If-None-Match") == etag:
                return self.send(304, headers=headers)
        if mode == "gzip" and "gzip" in self.headers.get("Accept-Encoding", ""):
            headers.append(("Content-Encoding", "gzip"))
            return self.send(200, gzip.compress(body, mtime=0), headers, gzipped=True)
        self.send(200, body, headers)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default 5 drops SYNs under parallel connects (1 s stalls)

    def handle_error(self, request, client_address):
        pass  # clients that time out or give up close their connections: expected here


def main():
    global base
    server = Server(("127.0.0.1", 0), Handler)
    port = server.server_address[1]
    base = "http://127.0.0.1:%d" % port
    tmp = PORT_FILE + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, PORT_FILE)
    server.serve_forever()


if __name__ == "__main__":
    main()
