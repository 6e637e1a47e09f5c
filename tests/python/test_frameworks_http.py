"""Every framework integration through a real server on 127.0.0.1
(gunicorn for Flask and Django, uvicorn for ASGI) and a cookie-keeping
client: the visit counter, login with regenerate, logout, a session path,
an expired session, a request that never reads the session, the lost
update (64 concurrent requests on one cookie, DbmStore and RedisStore), and
bad input."""

from __future__ import annotations

import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

import spysession
from http_servers import ClockFile, Server, cookie_value, log_path, set_cookies
from test_redis import RedisServer

LIFETIME = 600

FRAMEWORKS = {
    "flask": ("gunicorn", "flask_server:app", "session"),
    "django": ("gunicorn", "django_server:application", "sessionid"),
    "asgi": ("uvicorn", "asgi_server:app", "spysession"),
}

ID = re.compile(r"^[0-9a-f]{32}$")


@dataclass
class Site:
    server: Server
    store: spysession.SessionStore
    cookie: str
    clock: ClockFile

    def client(self) -> httpx.Client:
        return self.server.client()


def start(framework: str, tmp: Path, store_url: str, **env: str) -> tuple[Server, ClockFile]:
    kind, app, _ = FRAMEWORKS[framework]
    clock = ClockFile(tmp / "clock")
    env = {"SPYSESSION_STORE": store_url, "SPYSESSION_TEST_CLOCK": str(clock.path),
           "SPYSESSION_TEST_LIFETIME": str(LIFETIME), **env}
    name = "-".join([framework, *env.get("SPYSESSION_TEST_PATH", "").split("/")])
    return Server(kind, app, env, log_path(tmp, name)), clock


@pytest.fixture(scope="module", params=list(FRAMEWORKS))
def framework(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def site(framework, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(framework)
    url = f"dbm://{tmp / 'sessions'}?durable=false"
    server, clock = start(framework, tmp, url)
    yield Site(server, spysession.open_store(url), FRAMEWORKS[framework][2], clock)
    server.stop()


@pytest.fixture(scope="module")
def redis_site(framework, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(framework + "-redis")
    redis = RedisServer().start()
    url = f"{redis.url}?prefix={framework}:"
    server, clock = start(framework, tmp, url)
    yield Site(server, spysession.open_store(url), FRAMEWORKS[framework][2], clock)
    server.stop()
    redis.stop()


def visits(response: httpx.Response) -> int:
    assert response.status_code == 200, response.text
    return int(re.search(r"visited us (\d+) times", response.text).group(1))


def the_cookie(site: Site, response: httpx.Response) -> str:
    """The value of the one session Set-Cookie of `response`."""
    mine = [c for c in set_cookies(response) if c.startswith(site.cookie + "=")]
    assert len(mine) == 1, set_cookies(response)
    return cookie_value(mine[0])


def test_visit_counter(site):
    before = len(site.store)
    with site.client() as client:
        first = client.get("/")
        assert visits(first) == 1
        sid = the_cookie(site, first)
        assert ID.match(sid)
        assert "cookie" in first.headers.get("vary", "").lower()
        assert visits(client.get("/")) == 2
        assert visits(client.get("/")) == 3
    assert len(site.store) == before + 1


def test_login_regenerates_the_id_and_logout_ends_the_session(site):
    with site.client() as client:
        old = the_cookie(site, client.get("/"))
        login = client.post("/login", data={"user": "alice"})
        assert login.status_code == 200, login.text
        new = the_cookie(site, login)
        assert new != old and ID.match(new)
        assert client.get("/whoami").text == "alice"
        # The id from before the login is worth nothing now.
        with site.client() as stale:
            stale.cookies.set(site.cookie, old)
            assert stale.get("/whoami").text == "nobody"
        before = len(site.store)
        logout = client.post("/logout")
        assert logout.status_code == 200
        (expired,) = [c for c in set_cookies(logout) if c.startswith(site.cookie + "=")]
        assert re.search(r"max-age=0", expired, re.I) or "1970" in expired, expired
        assert len(site.store) == before - 1
        with site.client() as replay:
            replay.cookies.set(site.cookie, new)
            assert replay.get("/whoami").text == "nobody"


def test_a_request_that_never_reads_the_session_writes_nothing(site):
    before = len(site.store)
    with site.client() as client:
        response = client.get("/health")
        assert response.status_code == 200
        assert set_cookies(response) == []
        assert "cookie" not in response.headers.get("vary", "").lower()
        # Also with a live session's cookie.
        client.get("/")
        response = client.get("/health")
        assert set_cookies(response) == []
    assert len(site.store) == before + 1


def test_an_expired_session_is_a_fresh_one(site):
    with site.client() as client:
        assert visits(client.get("/")) == 1
        site.clock.advance(LIFETIME - 1)
        assert visits(client.get("/")) == 2
        site.clock.advance(LIFETIME + 1)
        fresh = client.get("/")
        assert visits(fresh) == 1
        assert ID.match(the_cookie(site, fresh))


def lost_update(site: Site) -> None:
    with site.client() as client:
        sid = the_cookie(site, client.get("/"))
        names = [f"k{i}" for i in range(64)]

        def set_one(name: str) -> int:
            return client.post(f"/set/{name}", data={"value": name}).status_code

        with ThreadPoolExecutor(max_workers=64) as pool:
            assert list(pool.map(set_one, names)) == [200] * 64
        keys = client.get("/keys").json()
        assert the_cookie_unchanged(client, site, sid)
    assert [n for n in names if n not in keys] == [], "lost updates"
    assert len([k for k in keys if k in names]) == 64


def the_cookie_unchanged(client: httpx.Client, site: Site, sid: str) -> bool:
    return client.cookies.get(site.cookie) == sid


def test_lost_update_dbm(site):
    lost_update(site)


def test_lost_update_redis(redis_site):
    lost_update(redis_site)
    with redis_site.client() as client:
        assert visits(client.get("/")) == 1
        assert visits(client.get("/")) == 2


@pytest.mark.parametrize("value", ["junk", "../../etc/passwd", "0" * 31 + "g", "A" * 32, uuid.uuid4().hex,
                                   "x" * 4000])
def test_junk_and_forged_cookies_get_a_fresh_session(site, value):
    before = len(site.store)
    with site.client() as client:
        client.cookies.set(site.cookie, value)
        response = client.get("/")
        assert visits(response) == 1
        sid = the_cookie(site, response)
        assert sid != value and ID.match(sid)
    assert len(site.store) == before + 1


def test_a_one_megabyte_cookie_is_refused_without_a_500(site):
    before = len(site.store)
    with site.client() as client:
        try:
            response = client.get("/", headers={"Cookie": f"{site.cookie}=" + "a" * (1 << 20)})
        except httpx.TransportError:
            pass  # the server hung up on it (uvicorn): refused, not a 500
        else:
            assert 400 <= response.status_code < 500, response.status_code
    assert len(site.store) == before
    with site.client() as client:  # and the server is still well
        assert visits(client.get("/")) == 1


@pytest.fixture(scope="module")
def path_site(framework, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(framework + "-path")
    url = f"dbm://{tmp / 'sessions'}?durable=false"
    server, clock = start(framework, tmp, url, SPYSESSION_TEST_PATH="/app")
    yield Site(server, spysession.open_store(url), FRAMEWORKS[framework][2], clock)
    server.stop()


def test_a_session_path(path_site, framework):
    site = path_site
    with site.client() as client:
        first = client.get("/app/")
        assert visits(first) == 1
        (set_cookie,) = set_cookies(first)
        assert re.search(r"path=/app(;|$)", set_cookie, re.I), set_cookie
        sid = cookie_value(set_cookie)
        assert visits(client.get("/app/")) == 2
        if framework == "django":
            # Django's SESSION_COOKIE_PATH is the cookie's Path only: a session
            # begun outside it would set a cookie for /app (docs/frameworks.md).
            return
        # The browser does not send it outside the path: there, another
        # session, which sets no cookie that could replace the one of /app.
        outside = client.get("/")
        assert visits(outside) == 1 and set_cookies(outside) == []
        assert visits(client.get("/app/")) == 3
    # Sent anyway outside the path, it is not that session (the engine's path-match).
    with site.client() as outside:
        response = outside.get("/", headers={"Cookie": f"{site.cookie}={sid}"})
        assert visits(response) == 1
    with site.client() as inside:
        assert visits(inside.get("/app/", headers={"Cookie": f"{site.cookie}={sid}"})) == 4
