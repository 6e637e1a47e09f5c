"""The WSGI middleware, through a real HTTP server on 127.0.0.1 (wsgiref in
a thread) and a cookie-keeping client (http.cookiejar + urllib), with a plain
WSGI app (Spyce's visited counter) and with a Flask app."""

from __future__ import annotations

import contextlib
import http.cookiejar
import threading
import urllib.parse
import urllib.request
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import flask
import pytest

import spysession
from spysession.wsgi import LazySession, SessionMiddleware


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the stdlib's name
        pass


@contextlib.contextmanager
def serve(app):
    server = make_server("127.0.0.1", 0, app, server_class=WSGIServer, handler_class=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


class Browser:
    """urllib with a cookie jar: sends back what the server set, as a browser does."""

    def __init__(self):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, url, data=None):
        with self.opener.open(url, data=data, timeout=30) as response:
            return response.read().decode(), dict(response.headers)


def visited_app(environ, start_response):
    """Spyce's example: session['visited'] = session.get('visited', 0) + 1."""
    session = environ["spysession"]
    session["visited"] = session.get("visited", 0) + 1
    body = f"You visited us {session['visited']} times.".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def test_spyce_visited_counter_over_http(tmp_path):
    manager = spysession.SessionManager(spysession.DbmStore(str(tmp_path / "s")))
    with serve(SessionMiddleware(visited_app, manager)) as base:
        alice, bob = Browser(), Browser()
        for n in (1, 2, 3):
            assert alice.get(base + "/")[0] == f"You visited us {n} times."
        assert bob.get(base + "/")[0] == "You visited us 1 times."
        assert alice.get(base + "/")[0] == "You visited us 4 times."
        (cookie,) = list(alice.jar)
        assert cookie.name == "spysession" and len(cookie.value) == 32
        assert cookie.path == "/" and cookie.expires is not None
    assert len(manager.store) == 2


def test_session_path_keeps_session_away_from_other(tmp_path):
    def app(environ, start_response):
        if environ["PATH_INFO"].startswith("/myapp"):
            return visited_app(environ, start_response)
        session = environ["spysession"]  # read only here
        body = f"new={session.is_new} visited={session.get('visited')}".encode()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [body]

    manager = spysession.SessionManager(spysession.MemoryStore(), path="/myapp")
    with serve(SessionMiddleware(app, manager)) as base:
        browser = Browser()
        assert browser.get(base + "/myapp/page")[0].endswith("1 times.")
        assert browser.get(base + "/myapp/other-page")[0].endswith("2 times.")
        assert [c.path for c in browser.jar] == ["/myapp"]
        # The browser does not send the cookie to /other ...
        assert browser.get(base + "/other")[0] == "new=True visited=None"
        # ... and a client that sends it anyway gets a fresh session there.
        (cookie,) = list(browser.jar)
        request = urllib.request.Request(base + "/other", headers={"Cookie": f"spysession={cookie.value}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.read() == b"new=True visited=None"
        assert browser.get(base + "/myapp")[0].endswith("3 times.")


def test_untouched_session_costs_nothing():
    store = spysession.MemoryStore()
    seen = {}

    def app(environ, start_response):
        seen["session"] = environ["spysession"]
        start_response("200 OK", [])
        return [b"ok"]

    mw = SessionMiddleware(app, spysession.SessionManager(store))
    headers = []
    body = mw({"PATH_INFO": "/", "HTTP_COOKIE": "spysession=" + "a" * 32}, lambda s, h, e=None: headers.extend(h))
    assert list(body) == [b"ok"]
    body.close()
    assert isinstance(seen["session"], LazySession) and not seen["session"].loaded
    assert headers == [] and store.stats()["loads"] == 0


def test_commit_happens_before_headers_and_late_changes_are_kept():
    store = spysession.MemoryStore()
    manager = spysession.SessionManager(store)

    def app(environ, start_response):
        session = environ["spysession"]
        session["early"] = 1
        start_response("200 OK", [("Content-Type", "text/plain")])
        yield b"part"
        session["late"] = 2  # while the body is produced
        yield b"end"

    sent = []
    body = SessionMiddleware(app, manager)({"PATH_INFO": "/"}, lambda s, h, e=None: sent.append(h))
    out = b"".join(body)
    body.close()
    assert out == b"partend"
    (headers,) = sent
    assert headers[:2] == [("Content-Type", "text/plain"), ("Vary", "Cookie")]
    assert headers[2][0] == "Set-Cookie"
    cookie = headers[2][1].split(";")[0]
    assert manager.begin(cookie=cookie) == {"early": 1, "late": 2}


@pytest.mark.parametrize(
    "given, expected",
    [([], [("Vary", "Cookie")]), ([("Vary", "Accept")], [("Vary", "Accept, Cookie")]),
     ([("vary", "Accept, cookie")], [("vary", "Accept, cookie")]), ([("Vary", "*")], [("Vary", "*")])],
)
def test_a_read_session_adds_vary_cookie(given, expected):
    def app(environ, start_response):
        environ["spysession"].get("anything")  # read, not written: no cookie
        start_response("200 OK", list(given))
        return [b"ok"]

    sent = []
    body = SessionMiddleware(app, spysession.SessionManager(spysession.MemoryStore()))(
        {"PATH_INFO": "/"}, lambda s, h, e=None: sent.append(h))
    body.close()
    assert sent == [expected]


def test_configured_manager_and_custom_environ_key(clock):
    store = spysession.MemoryStore()
    spysession.configure(session_store=store, clock=clock)

    def app(environ, start_response):
        environ["sess"]["x"] = 1
        start_response("200 OK", [])
        return []

    sent = []
    SessionMiddleware(app, environ_key="sess")({"PATH_INFO": "/"}, lambda s, h, e=None: sent.append(h))
    assert len(store) == 1 and [name for name, _ in sent[0]] == ["Vary", "Set-Cookie"]


@pytest.fixture
def flask_app():
    app = flask.Flask("spysession_test")

    @app.route("/")
    def index():
        session = flask.request.environ["spysession"]
        session["visited"] = session.get("visited", 0) + 1
        return f"visited {session['visited']}"

    @app.route("/cart/add", methods=["POST"])
    def add():
        session = flask.request.environ["spysession"]
        session.setdefault("cart", []).append(flask.request.form["item"])
        return ",".join(session["cart"])

    @app.route("/logout")
    def logout():
        flask.request.environ["spysession"].invalidate()
        return "bye"

    return app


def test_flask_app_with_middleware(flask_app, tmp_path):
    manager = spysession.SessionManager(spysession.DbmStore(str(tmp_path / "flask")))
    flask_app.wsgi_app = SessionMiddleware(flask_app.wsgi_app, manager)
    with serve(flask_app) as base:
        browser = Browser()
        assert browser.get(base + "/")[0] == "visited 1"
        assert browser.get(base + "/")[0] == "visited 2"
        for item, expect in [("book", "book"), ("pen", "book,pen")]:
            data = urllib.parse.urlencode({"item": item}).encode()
            assert browser.get(base + "/cart/add", data=data)[0] == expect
        assert browser.get(base + "/")[0] == "visited 3"
        assert browser.get(base + "/logout")[0] == "bye"
        assert list(browser.jar) == []  # the cookie was expired
        assert browser.get(base + "/")[0] == "visited 1"
    assert len(manager.store) == 1


def test_flask_test_client_with_post_transport(flask_app):
    """The post transport reads the form body and leaves it to Flask."""
    manager = spysession.SessionManager(spysession.MemoryStore(), transport=["post", "cookie"])
    flask_app.wsgi_app = SessionMiddleware(flask_app.wsgi_app, manager)
    s = manager.begin()
    s["cart"] = ["x"]
    s.commit()
    client = flask_app.test_client(use_cookies=False)
    response = client.post("/cart/add", data={"item": "y", "spysession": s.id})
    assert response.get_data(as_text=True) == "x,y"
