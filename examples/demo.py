"""The spysession quick start: Python and C counting visits in one session.

Run it with `make demo`. It
  1. opens the embedded default store: an LMDB directory (./demo-data/sessions),
  2. serves a Spyce-style page on 127.0.0.1 through the WSGI middleware,
  3. visits it three times with a cookie-keeping HTTP client,
  4. runs the C example (a CGI program) with the same cookie on the same
     store, which reads and increments the same counter,
  5. visits the Python page once more to show the C increment.
"""

from __future__ import annotations

import http.cookiejar
import os
import subprocess
import sys
import threading
import urllib.request
from wsgiref.simple_server import WSGIRequestHandler, make_server

import spysession
from spysession.wsgi import SessionMiddleware


def visits_page(session) -> str:
    """The Spyce page, as it was written for Spyce's session module."""
    session["visited"] = session.get("visited", 0) + 1
    return f"You visited us {session['visited']} times."


def app(environ, start_response):
    """A plain WSGI app: the middleware puts the session in the environ."""
    body = visits_page(environ["spysession"]).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):  # keep the demo's output to its steps
        pass


def main() -> int:
    if len(sys.argv) != 3:
        print("usage: demo.py STORE_DIR C_EXAMPLE_BINARY", file=sys.stderr)
        return 2
    store_dir, c_example = sys.argv[1], sys.argv[2]

    store = spysession.DbmStore(store_dir)
    manager = spysession.SessionManager(store, expire=3600)
    server = make_server("127.0.0.1", 0, SessionMiddleware(app, manager), handler_class=QuietHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/"
    print(f"[python] serving the visit counter at {url}, sessions in {store_dir}")

    jar = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def visit() -> str:
        with browser.open(url, timeout=10) as response:
            return response.read().decode()

    try:
        for _ in range(3):
            print(f"[python] GET / -> {visit()}")
        cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
        print(f"[browser] cookie: {cookie}")

        cgi_env = dict(os.environ, HTTP_COOKIE=cookie, PATH_INFO="/", SPYSESSION_STORE=store_dir)
        out = subprocess.run([c_example], env=cgi_env, capture_output=True, text=True, timeout=30, check=True)
        c_line = out.stdout.strip().splitlines()[-1]
        print(f"[c] {c_line}")

        after = visit()
        print(f"[python] GET / -> {after}")
    finally:
        server.shutdown()
        server.server_close()

    # The demo checks itself: it must have counted 1, 2, 3 in Python, 3 -> 4 in C, then 5.
    ok = c_line == "C sees visited=3, now 4" and after == "You visited us 5 times."
    print("demo: OK, Python and C shared one session" if ok else "demo: FAILED")
    store.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
