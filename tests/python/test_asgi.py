"""spysession.asgi with Starlette's TestClient and FastAPI: request.session
is the spysession session, store I/O runs off the event loop, commit before
http.response.start, clear() deletes, websockets get the session."""

from __future__ import annotations

import threading

import anyio.to_thread
import pytest
from fastapi import Depends, FastAPI, Request
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse, StreamingResponse
from starlette.routing import Route
from starlette.testclient import TestClient

import spysession
from examples.asgi_app import ROUTES
import spysession._loop_store_calls
from spysession._loop_store_calls import LoopStoreCalls
from spysession.asgi import AsgiSession, SessionMiddleware


class RecordingStore(spysession.SessionStore):
    """A dict store in Python that notes which thread each call ran on."""

    def __init__(self) -> None:
        self.records: dict[str, bytes] = {}
        self.threads: list[str] = []

    def load(self, key):
        self.threads.append(threading.current_thread().name)
        return self.records.get(key)

    def save(self, key, record, expires_at):
        self.threads.append(threading.current_thread().name)
        self.records[key] = record

    def delete(self, key):
        self.threads.append(threading.current_thread().name)
        self.records.pop(key, None)

    def clean(self, now):
        return 0


def app_on(store, routes=ROUTES, **options) -> Starlette:
    app = Starlette(routes=routes)
    app.add_middleware(SessionMiddleware, manager=spysession.SessionManager(store, **options))
    return app


@pytest.fixture
def store():
    return spysession.MemoryStore()


def test_visit_counter_login_logout(store):
    with TestClient(app_on(store)) as client:
        first = client.get("/")
        assert first.text == "You visited us 1 times."
        assert "Cookie" in first.headers["vary"]
        old = client.cookies["spysession"]
        assert client.get("/").text == "You visited us 2 times."
        client.post("/login", data={"user": "zoe"})
        assert client.cookies["spysession"] != old
        assert client.get("/whoami").text == "zoe"
        assert len(store) == 1
        logout = client.post("/logout")
        assert "Max-Age=0" in logout.headers["set-cookie"]
        assert len(store) == 0


def test_store_io_runs_in_worker_threads_not_on_the_loop():
    store = RecordingStore()
    with TestClient(app_on(store)) as client:
        client.get("/")
        client.get("/")
        client.post("/logout")
        loop_thread = client.portal.call(lambda: threading.current_thread().name)
    assert store.threads, "the store was used"
    assert loop_thread not in store.threads, store.threads


def note_thread_hops(monkeypatch) -> list[tuple[str, str]]:
    """Notes each store call the middleware sends off the loop: (how, what),
    how = "store-thread" (spysession's own) or "anyio"."""
    calls: list[tuple[str, str]] = []
    run_sync = anyio.to_thread.run_sync

    async def through_anyio(fn, *args, **kwargs):
        calls.append(("anyio", "commit" if fn.__name__ == "commit" else "begin"))
        return await run_sync(fn, *args, **kwargs)

    def noting(name):
        real = getattr(LoopStoreCalls, name)

        async def call(self, *args):
            calls.append(("store-thread", name))
            return await real(self, *args)

        return call

    monkeypatch.setattr(anyio.to_thread, "run_sync", through_anyio)
    monkeypatch.setattr(LoopStoreCalls, "begin", noting("begin"))
    monkeypatch.setattr(LoopStoreCalls, "commit", noting("commit"))
    return calls


@pytest.mark.parametrize(
    "kind, threads, expected",
    [
        ("memory", False, []),
        ("dbm-nosync", False, []),
        # A durable commit waits for fsync: on a store thread; its load does not.
        ("dbm-durable", False, ["commit", "commit"]),
        # threads=True: every call that does I/O (the first request has no
        # cookie, so its begin does none).
        ("dbm-nosync", True, ["commit", "begin", "commit"]),
    ],
)
def test_only_store_calls_that_can_wait_go_to_store_threads(tmp_path, monkeypatch, kind, threads, expected):
    calls = note_thread_hops(monkeypatch)
    store = {
        "memory": lambda: spysession.MemoryStore(),
        "dbm-nosync": lambda: spysession.DbmStore(tmp_path / "s", durable=False),
        "dbm-durable": lambda: spysession.DbmStore(tmp_path / "s"),
    }[kind]()
    app = Starlette(routes=ROUTES)
    app.add_middleware(SessionMiddleware, manager=spysession.SessionManager(store), threads=threads)
    with TestClient(app) as client:
        assert client.get("/").text == "You visited us 1 times."
        assert client.get("/").text == "You visited us 2 times."
    assert calls == [("store-thread", call) for call in expected]


def test_without_store_threads_the_calls_go_to_anyio_threads(tmp_path, monkeypatch):
    # As on a loop that cannot watch a socket (trio, Windows' proactor).
    monkeypatch.setattr(spysession._loop_store_calls, "_StoreThreads", None)
    calls = note_thread_hops(monkeypatch)
    store = spysession.DbmStore(tmp_path / "s")
    with TestClient(app_on(store)) as client:
        assert client.get("/").text == "You visited us 1 times."
        assert client.get("/").text == "You visited us 2 times."
    assert calls == [("anyio", "commit"), ("anyio", "commit")]


def test_untouched_sessions_are_not_committed_nor_varied(store):
    with TestClient(app_on(store)) as client:
        client.get("/")
        commits = store.stats()["commits"]
        response = client.get("/health")
        assert "set-cookie" not in response.headers and "vary" not in response.headers
        assert store.stats()["commits"] == commits
    with TestClient(app_on(store)) as fresh:
        assert "set-cookie" not in fresh.get("/health").headers
        assert store.stats()["loads"] == 1, "only the request with a cookie loaded"


def test_clear_empties_and_deletes_with_the_cookie(store):
    async def clear(request):
        request.session.clear()
        return PlainTextResponse("cleared")

    with TestClient(app_on(store, [*ROUTES, Route("/clear", clear)])) as client:
        client.get("/")
        assert len(store) == 1
        response = client.get("/clear")
        assert "Max-Age=0" in response.headers["set-cookie"]
        assert len(store) == 0


def test_changes_while_the_body_streams_are_kept(store):
    async def stream(request):
        request.session["early"] = 1

        async def body():
            yield b"a"
            request.session["late"] = 2
            yield b"b"

        return StreamingResponse(body())

    async def read(request):
        return PlainTextResponse(repr(sorted(request.session.items())))

    with TestClient(app_on(store, [Route("/stream", stream), Route("/read", read)])) as client:
        response = client.get("/stream")
        assert response.text == "ab" and "set-cookie" in response.headers
        assert client.get("/read").text == "[('early', 1), ('late', 2)]"


def test_websockets_get_the_session(store):
    with TestClient(app_on(store)) as client:
        client.post("/login", data={"user": "ws-user"})
        with client.websocket_connect("/ws") as ws:
            assert ws.receive_text() == "ws-user"
        sid = client.cookies["spysession"]
    assert spysession.SessionManager(store).begin(cookie=f"spysession={sid}")["ws_visits"] == 1


def test_fastapi_dependencies_see_the_session(store):
    api = FastAPI()
    api.add_middleware(SessionMiddleware, manager=spysession.SessionManager(store))

    def current_user(request: Request) -> str:
        return request.session.get("user", "anonymous")

    @api.get("/me")
    def me(user: str = Depends(current_user)):
        return {"user": user}

    @api.post("/login/{name}")
    def login(name: str, request: Request):
        request.session.regenerate()
        request.session["user"] = name
        return {"ok": True}

    with TestClient(api) as client:
        assert client.get("/me").json() == {"user": "anonymous"}
        client.post("/login/fay")
        assert client.get("/me").json() == {"user": "fay"}
        assert isinstance(api, FastAPI)


def test_without_a_manager_the_configured_defaults_apply(clock):
    store = spysession.MemoryStore()
    spysession.configure(session_store=store, cookie_name="conf", clock=clock)
    app = Starlette(routes=ROUTES)
    app.add_middleware(SessionMiddleware)
    with TestClient(app) as client:
        client.get("/")
        assert "conf" in client.cookies and len(store) == 1


def test_scope_key_and_session_type(store):
    seen = {}

    async def inner(scope, receive, send):
        seen["session"] = scope["spy"]
        await PlainTextResponse("ok")(scope, receive, send)

    client = TestClient(SessionMiddleware(inner, spysession.SessionManager(store), scope_key="spy"))
    assert client.get("/").text == "ok"
    assert isinstance(seen["session"], AsgiSession) and not seen["session"].accessed


def test_a_malformed_store_url_is_a_config_error_at_start(monkeypatch):
    from examples.asgi_app import create_app

    monkeypatch.setenv("SPYSESSION_STORE", "redis://user:Sup3rS3cret@h:notaport/0")
    with pytest.raises(spysession.ConfigError, match="notaport") as info:
        create_app()
    assert "Sup3rS3cret" not in str(info.value)


def test_a_store_fault_is_an_error_response_not_a_hang():
    # Redis is down (nothing listens on the port): the store thread's error
    # comes back to the request as a StoreError, never a hang or a crash.
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"redis://127.0.0.1:{s.getsockname()[1]}/0"
        store = spysession.RedisStore(url, connect_timeout=0.5)
        with TestClient(app_on(store), raise_server_exceptions=False) as client:
            assert client.get("/").status_code == 500  # the commit failed
            client.cookies.set("spysession", "a" * 32)
            assert client.get("/").status_code == 500  # the load failed
        with TestClient(app_on(store)) as client:
            with pytest.raises(spysession.StoreError, match="refused"):
                client.get("/")
