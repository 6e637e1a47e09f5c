"""ASGI middleware (Starlette, FastAPI, any ASGI app): ``request.session``
is a spysession session.

::

    from starlette.applications import Starlette
    from spysession.asgi import SessionMiddleware

    app = Starlette(routes=...)
    app.add_middleware(SessionMiddleware, manager=SessionManager(open_store("redis://cache:6379/0")))

    async def homepage(request):
        request.session["visited"] = request.session.get("visited", 0) + 1

Store calls that wait (on the network, on a disk sync, or on code the
middleware cannot know) never run on the event loop: they run on
spysession's own store threads, up to ``max_threads`` per loop, which never
take the GIL (the result comes back to the loop through a socket it
watches), so a slow Redis or an fsync never blocks other requests and the
session's threads do not compete with the app's own ``run_in_threadpool``
work. Which calls those are, by store:

- ``RedisStore`` and custom stores: every load and commit on a store thread.
- ``DbmStore``: loads on the loop (a lookup in LMDB's memory map, a
  microsecond or two), commits on a store thread when the store is durable
  (each waits for fsync) and on the loop with ``durable=False`` (a write
  into the page cache, about 13 µs; it can wait for another process's
  commit or clean batch, which hold LMDB's writer lock for microseconds to
  a few milliseconds).
- ``MemoryStore``: no I/O, everything on the loop.

The reason is cost: a hop to a Python worker thread and back took about
90 µs of CPU per call on the benchmark machine (the GIL changing hands
twice), ten times what the DbmStore call itself takes and several times a
Redis round trip. ``threads=True`` sends every store call off the loop
whatever the store (a DbmStore on a disk that can stall). A request
without a cookie begins its new session without any I/O. While a commit
runs on a store thread the session cannot be used (``RuntimeError``); it
comes back with its changes whatever the store did. A loop that cannot
watch a socket (trio, Windows' proactor loop) gets anyio's worker threads,
with the middleware's own capacity limiter, instead.

The session is committed when the app sends ``http.response.start`` (its
``Set-Cookie`` and ``Vary: Cookie`` are added to that message) if the app
used it; changes made while the body streams are committed when the app
returns. A session the request never touched is neither committed nor
varied on: no write, no cookie. ``clear()`` empties the session and, at
commit, deletes it with its cookie (Starlette's convention);
``regenerate()`` and ``invalidate()`` work as everywhere. Websocket scopes
get the session too: committed at ``websocket.accept`` (its ``Set-Cookie``
in the accept headers) and again when the app returns if it changed.

Transports: cookie and get (the query string). The post transport needs a
request body, which this middleware does not read.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any, Awaitable, Callable, Optional

import anyio
import anyio.to_thread

from ._loop_store_calls import LoopStoreCalls
from ._proxy import SessionProxy
from ._spysession import DbmStore, MemoryStore, Session, SessionManager, SessionStore

__all__ = ["AsgiSession", "SessionMiddleware"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class AsgiSession(SessionProxy):
    """The request's :class:`~spysession.Session`, noting whether the app used it.

    Every ``Session`` attribute (``id``, ``regenerate()``...) is passed on.
    """

    __slots__ = ("_session", "accessed")

    def __init__(self, session: Session) -> None:
        self._session = session
        #: True once the app read or wrote the session.
        self.accessed = False

    @property
    def session(self) -> Session:
        """The real session (marks it used)."""
        self.accessed = True
        return self._session

    def __repr__(self) -> str:
        return f"AsgiSession({self._session!r})"

    def commit(self) -> list[tuple[str, str]]:
        """Commits (a session emptied by the request is deleted, cookie and all)."""
        return self.to_commit().commit()

    def to_commit(self) -> Session:
        """The real session, ready to commit: one the request emptied is
        invalidated (deleted at commit, cookie and all)."""
        session = self._session
        if not session.is_new and len(session) == 0:
            session.invalidate()
        return session


def _header(scope: Scope, name: bytes) -> Optional[bytes]:
    values = [v for k, v in scope.get("headers", ()) if k.lower() == name]
    return b"; ".join(values) if values else None


def _request_path(scope: Scope) -> str:
    path = scope.get("path") or "/"
    root = scope.get("root_path") or ""
    if root and not path.startswith(root):
        path = root + path
    return path


def _calls_that_wait(store: SessionStore) -> tuple[bool, bool]:
    """Whether a load, and a commit, of `store` can wait (see the module docs)."""
    if type(store) is MemoryStore:
        return False, False
    if type(store) is DbmStore:
        return False, store.durable
    return True, True


def _add_vary_cookie(headers: list[tuple[bytes, bytes]]) -> None:
    for i, (name, value) in enumerate(headers):
        if name.lower() == b"vary":
            fields = [f.strip().lower() for f in value.split(b",")]
            if b"cookie" not in fields and b"*" not in fields:
                headers[i] = (name, value + b", Cookie")
            return
    headers.append((b"vary", b"Cookie"))


class SessionMiddleware:
    """Puts the request's session at ``scope[scope_key]`` (Starlette's
    ``request.session`` reads ``scope["session"]``).

    ``manager`` defaults to ``SessionManager()``, made now from the
    ``configure()`` defaults (whose default store is a MemoryStore: one
    process only). ``max_threads`` bounds the threads doing store I/O for
    this middleware at once (per event loop). ``threads=True`` runs every
    store call off the loop; by default only the calls that can wait do
    (see the module docs).
    """

    def __init__(
        self,
        app: ASGIApp,
        manager: Optional[SessionManager] = None,
        scope_key: str = "session",
        *,
        max_threads: int = 16,
        threads: bool = False,
    ) -> None:
        self.app = app
        self.manager = manager if manager is not None else SessionManager()
        self.scope_key = scope_key
        self.max_threads = max_threads
        self._limiter: Optional[anyio.CapacityLimiter] = None
        self._loop_calls: dict[Any, Optional[LoopStoreCalls]] = {}
        self._load_waits, self._commit_waits = (True, True) if threads else _calls_that_wait(self.manager.store)

    @property
    def limiter(self) -> anyio.CapacityLimiter:
        """The capacity limiter of this middleware's anyio threads (made in
        the event loop; used when the loop is not asyncio's)."""
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.max_threads)
        return self._limiter

    async def _in_thread(self, fn: Callable[[], Any]) -> Any:
        return await anyio.to_thread.run_sync(fn, limiter=self.limiter)

    async def _begin(self, scope: Scope) -> Session:
        cookie = _header(scope, b"cookie")
        query = scope.get("query_string") or None
        path = _request_path(scope)
        if (cookie is None and query is None) or not self._load_waits:
            # Nothing to look up (a new session, no I/O), or a load that
            # cannot wait: on the loop.
            return self.manager.begin(cookie=cookie, query=query, path=path)
        calls = LoopStoreCalls.of(self._loop_calls, self.max_threads)
        if calls is not None:
            return await calls.begin(self.manager, cookie, query, path)
        return await self._in_thread(lambda: self.manager.begin(cookie=cookie, query=query, path=path))

    async def _commit(self, session: AsgiSession) -> list[tuple[str, str]]:
        if not self._commit_waits:
            return session.commit()
        calls = LoopStoreCalls.of(self._loop_calls, self.max_threads)
        if calls is not None:
            return await calls.commit(session.to_commit())
        return await self._in_thread(session.commit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        session = AsgiSession(await self._begin(scope))
        scope[self.scope_key] = session
        committed = False
        start = "http.response.start" if scope["type"] == "http" else "websocket.accept"

        async def send_wrapper(message: Message) -> None:
            nonlocal committed
            if message["type"] == start and session.accessed and not committed:
                committed = True
                cookies = await self._commit(session)
                headers = list(message.get("headers", ()))
                if scope["type"] == "http":
                    _add_vary_cookie(headers)
                for name, value in cookies:
                    headers.append((name.lower().encode("latin-1"), value.encode("latin-1")))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_wrapper)
        if session.accessed and (not committed or session._session.modified):
            # Changed after the headers went (or no response was started):
            # stored, though no cookie can be sent any more.
            await self._commit(session)
