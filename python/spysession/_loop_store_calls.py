"""Store calls of one asyncio event loop on spysession's own store threads.

``_StoreThreads`` (python/src/store_threads.rs) runs a begin or a commit on
a thread that never takes the GIL and, when results are waiting, makes a
socket readable; this module watches that socket with ``loop.add_reader``
and resolves each call's future on the loop. One per event loop (a future
belongs to its loop): see :meth:`LoopStoreCalls.of`.
"""

from __future__ import annotations

import asyncio
from typing import Any, Optional

from . import _spysession
from ._spysession import Session, SessionManager

#: The compiled store threads; None where the module has none (not unix):
#: the caller then uses anyio's threads.
_StoreThreads: Optional[type[_spysession._StoreThreads]] = getattr(_spysession, "_StoreThreads", None)


class LoopStoreCalls:
    """Begins and commits of one event loop, run on store threads."""

    __slots__ = ("_loop", "_threads", "_waiting", "_fd")

    def __init__(self, loop: asyncio.AbstractEventLoop, max_threads: int) -> None:
        if _StoreThreads is None:
            raise NotImplementedError("store threads need a unix socket pair")
        self._loop = loop
        self._threads = _StoreThreads(max_threads)
        self._waiting: dict[int, asyncio.Future[Any]] = {}
        self._fd = self._threads.fileno()
        loop.add_reader(self._fd, self._on_ready)

    @classmethod
    def of(cls, registry: dict[Any, Optional["LoopStoreCalls"]], max_threads: int) -> Optional["LoopStoreCalls"]:
        """The calls of the running asyncio loop, made on first use and kept
        in `registry`; None when the loop is not asyncio's (trio) or cannot
        watch a socket (Windows' proactor): the caller then uses anyio's
        worker threads."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None
        try:
            return registry[loop]
        except KeyError:
            pass
        for old in [old for old in registry if old.is_closed()]:
            stale = registry.pop(old)
            if stale is not None:
                stale.close()
        calls: Optional[LoopStoreCalls]
        try:
            calls = cls(loop, max_threads)
        except NotImplementedError:
            calls = None
        registry[loop] = calls
        return calls

    async def begin(self, manager: SessionManager, cookie: Optional[bytes], query: Optional[bytes], path: str) -> Session:
        """The request's session, loaded on a store thread when it carries an id."""
        token = self._threads.begin(manager, cookie, query, path)
        if token is None:
            return manager.begin(cookie=cookie, query=query, path=path)
        return await self._result(token)

    async def commit(self, session: Session) -> list[tuple[str, str]]:
        """``session.commit()`` on a store thread when it has something to write."""
        token = self._threads.commit(session)
        if token is None:
            return session.commit()
        return await self._result(token)

    def _result(self, token: int) -> asyncio.Future[Any]:
        # A caller cancelled while waiting gets CancelledError at once; the
        # job still runs to its end (a commit is kept) and its result is
        # dropped when it arrives.
        future = self._loop.create_future()
        self._waiting[token] = future
        return future

    def _on_ready(self) -> None:
        for token, ok, value in self._threads.ready():
            future = self._waiting.pop(token, None)
            if future is None or future.done():
                continue
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)

    def close(self) -> None:
        """Stops watching the socket and lets the threads end (jobs already
        submitted still run)."""
        if not self._loop.is_closed():
            self._loop.remove_reader(self._fd)
        self._threads.close()
