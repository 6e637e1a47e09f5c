"""spysession.flask with Flask's test client: the SessionMixin surface,
Flask's settings read per request, permanent and browser-session cookies,
lazy loading, emptied sessions, regenerate/invalidate, the CLI command and
configuration errors."""

from __future__ import annotations

from datetime import timedelta

import flask
import pytest
from flask import Flask, session

import spysession
import spysession.flask
from examples.flask_app import create_app


@pytest.fixture
def store():
    return spysession.MemoryStore()


@pytest.fixture
def app(store, clock):
    app = create_app(SPYSESSION_STORE=store, SPYSESSION_OPTIONS={"clock": clock}, PERMANENT_SESSION_LIFETIME=600)

    @app.route("/probe")
    def probe():
        return {"new": session.new, "permanent": session.permanent, "len": len(session)}

    @app.route("/nested")
    def nested():
        session.setdefault("cart", []).append("book")
        return "ok"

    @app.route("/force")
    def force():
        cart = session["cart"]
        cart.append("pen")
        session.modified = True
        return str(session.modified)

    @app.route("/empty")
    def empty():
        session.pop("visited")
        return str(session.modified)

    @app.route("/clear")
    def clear():
        session.clear()
        return "cleared"

    @app.route("/flag")
    def flag():
        return str(session.accessed)

    return app


def session_cookie(response) -> str:
    (value,) = [v for v in response.headers.getlist("Set-Cookie") if v.startswith("session=")]
    return value


def test_visit_counter_and_browser_session_cookie(app, store):
    client = app.test_client()
    first = client.get("/")
    assert first.text == "You visited us 1 times."
    cookie = session_cookie(first)
    assert "Max-Age" not in cookie and "Expires" not in cookie, cookie
    assert "Path=/" in cookie and "HttpOnly" in cookie
    assert "Cookie" in first.headers["Vary"]
    assert client.get("/").text == "You visited us 2 times."
    assert len(store) == 1


def test_permanent_sessions_get_max_age_from_the_lifetime(app):
    client = app.test_client()
    login = client.post("/login", data={"user": "bob", "remember": "1"})
    assert "Max-Age=600" in session_cookie(login)
    assert client.get("/probe").json == {"new": False, "permanent": True, "len": 2}


def test_new_session_and_lazy_loading(app, store):
    client = app.test_client()
    assert client.get("/probe").json["new"] is True
    loads = store.stats()["loads"]
    response = client.get("/health")
    assert response.headers.getlist("Set-Cookie") == []
    assert "Vary" not in response.headers
    assert store.stats()["loads"] == loads, "a request that never reads the session loads nothing"
    assert len(store) == 0


def test_accessed_alone_adds_vary_but_loads_nothing(app, store):
    response = app.test_client().get("/flag")
    assert response.text == "True"
    assert "Cookie" in response.headers["Vary"]
    assert store.stats()["loads"] == 0
    assert response.headers.getlist("Set-Cookie") == []


def test_nested_changes_and_modified_true_are_saved(app):
    client = app.test_client()
    client.get("/nested")
    client.get("/nested")
    assert client.get("/force").text == "True"
    with client.session_transaction() as s:
        assert s["cart"] == ["book", "book", "pen"]


def test_an_emptied_session_is_deleted_with_its_cookie(app, store):
    client = app.test_client()
    client.get("/")
    assert len(store) == 1
    response = client.get("/empty")
    assert response.text == "True"
    assert "Max-Age=0" in session_cookie(response)
    assert len(store) == 0
    client.get("/")
    response = client.get("/clear")
    assert "Max-Age=0" in session_cookie(response)
    assert len(store) == 0


def test_login_regenerates_and_logout_invalidates(app, store):
    client = app.test_client()
    old = session_cookie(client.get("/")).split(";")[0]
    new = session_cookie(client.post("/login", data={"user": "ann"})).split(";")[0]
    assert new != old
    assert client.get("/whoami").text == "ann"
    assert len(store) == 1
    assert "Max-Age=0" in session_cookie(client.post("/logout"))
    assert len(store) == 0
    assert client.get("/whoami").text == "nobody"


def test_settings_are_read_on_every_request(app):
    client = app.test_client()
    app.config.update(SESSION_COOKIE_NAME="site", SESSION_COOKIE_SECURE=True, SESSION_COOKIE_SAMESITE="strict",
                      SESSION_COOKIE_DOMAIN="example.test", SESSION_COOKIE_PARTITIONED=True)
    response = client.get("/")
    (cookie,) = response.headers.getlist("Set-Cookie")
    assert cookie.startswith("site=")
    for part in ("Secure", "SameSite=Strict", "Domain=example.test", "Partitioned"):
        assert part in cookie, cookie
    app.config.update(SESSION_COOKIE_NAME="other")
    assert client.get("/", headers={"Cookie": cookie.split(";")[0]}).text == "You visited us 1 times."


def test_the_lifetime_expires_sessions_and_refresh_slides_them(app, clock):
    client = app.test_client()
    client.get("/")
    clock.advance(599)
    assert client.get("/").text == "You visited us 2 times."
    clock.advance(599)
    assert client.get("/").text == "You visited us 3 times.", "each request slid the expiry"
    clock.advance(601)
    assert client.get("/").text == "You visited us 1 times."


def test_no_refresh_each_request_means_reads_do_not_slide(app, clock):
    app.config.update(SESSION_REFRESH_EACH_REQUEST=False)
    client = app.test_client()
    client.get("/")
    for _ in range(3):
        clock.advance(200)
        assert client.get("/whoami").text == "nobody"
    assert client.get("/").text == "You visited us 1 times.", "600 s after its last change it expired"


def test_flask_spysession_clean(app, store, clock):
    client = app.test_client()
    client.get("/")
    other = app.test_client()
    other.get("/")
    clock.advance(601)
    result = app.test_cli_runner().invoke(args=["spysession", "clean"])
    assert result.exit_code == 0, result.output
    assert "removed 2 expired sessions" in result.output
    assert len(store) == 0


def test_a_manager_given_to_init_app_is_used(store, clock):
    app = Flask(__name__)
    manager = spysession.SessionManager(store, cookie_name="mine", expire=60, clock=clock)
    spysession.flask.init_app(app, manager)

    @app.route("/")
    def index():
        flask.session["n"] = 1
        flask.session.permanent = True
        return "ok"

    cookie = session_cookie_named(app.test_client().get("/"), "mine")
    assert "Max-Age=60" in cookie


def session_cookie_named(response, name):
    (value,) = [v for v in response.headers.getlist("Set-Cookie") if v.startswith(name + "=")]
    return value


@pytest.mark.parametrize("url", ["redis://h:notaport/0", "dbm:///x?colour=blue", "ftp://x"])
def test_a_malformed_store_url_is_a_config_error_at_start(url):
    with pytest.raises(spysession.ConfigError):
        create_app(SPYSESSION_STORE=url)


def test_a_store_setting_of_the_wrong_type_is_a_config_error():
    with pytest.raises(spysession.ConfigError, match="SPYSESSION_STORE"):
        create_app(SPYSESSION_STORE=42)


def test_interface_as_session_interface_attribute(store):
    app = Flask(__name__)
    app.config["SPYSESSION_STORE"] = store
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(minutes=5)
    app.session_interface = spysession.flask.SessionInterface()

    @app.route("/")
    def index():
        session["x"] = session.get("x", 0) + 1
        return str(session["x"])

    client = app.test_client()
    assert [client.get("/").text for _ in range(2)] == ["1", "2"]
