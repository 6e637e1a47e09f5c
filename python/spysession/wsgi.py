"""WSGI middleware: any WSGI app (Flask, Bottle, plain) gets a session.

::

    from spysession import SessionManager, DbmStore
    from spysession.wsgi import SessionMiddleware

    app.wsgi_app = SessionMiddleware(app.wsgi_app, SessionManager(DbmStore("/var/lib/site/sessions")))

    # in a view:
    session = request.environ["spysession"]
    session["visited"] = session.get("visited", 0) + 1

``environ[environ_key]`` is a :class:`LazySession`: the session is loaded
from the store on first use only (a request that never touches it costs no
store access), committed when the app calls ``start_response``, and its
``Set-Cookie`` header is added to the response, with ``Vary: Cookie`` when
the session was used. Changes made after
``start_response`` (while the body is being produced) are committed when
the response body is closed.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator, Optional

from ._proxy import SessionProxy
from ._spysession import Session, SessionManager

__all__ = ["LazySession", "SessionMiddleware", "vary_cookie"]


class LazySession(SessionProxy):
    """A :class:`~spysession.Session` that is loaded on first use.

    Every ``Session`` attribute (``id``, ``commit()``, ``url()``...) and the
    whole mapping protocol are passed on to the real session.
    """

    __slots__ = ("_manager", "_environ", "_session")

    def __init__(self, manager: SessionManager, environ: dict[str, Any]) -> None:
        self._manager = manager
        self._environ = environ
        self._session: Optional[Session] = None

    @property
    def loaded(self) -> bool:
        """True once the session was loaded (something used it)."""
        return self._session is not None

    @property
    def session(self) -> Session:
        """The real session, loaded now if it was not yet."""
        if self._session is None:
            self._session = self._manager.from_environ(self._environ)
        return self._session

    def __repr__(self) -> str:
        return repr(self.session) if self._session is not None else "LazySession(<not loaded>)"


class _ClosingBody:
    """The app's response body; on close, commits what the body changed late."""

    def __init__(self, body: Iterable[bytes], on_close: Callable[[], None]) -> None:
        self._body = body
        self._on_close = on_close

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._body)

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            self._on_close()


def vary_cookie(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """``headers`` with ``Cookie`` in its ``Vary`` (a response that used the
    session differs per cookie: no shared cache may serve it to another)."""
    for i, (name, value) in enumerate(headers):
        if name.lower() == "vary":
            fields = [f.strip().lower() for f in value.split(",")]
            if "cookie" not in fields and "*" not in fields:
                headers[i] = (name, f"{value}, Cookie")
            return headers
    headers.append(("Vary", "Cookie"))
    return headers


class SessionMiddleware:
    """Wraps a WSGI app so ``environ[environ_key]`` is the request's session.

    ``manager`` defaults to ``SessionManager()``, made now from the
    ``configure()`` defaults.
    """

    def __init__(
        self,
        app: Callable[..., Iterable[bytes]],
        manager: Optional[SessionManager] = None,
        environ_key: str = "spysession",
    ) -> None:
        self.app = app
        self.manager = manager if manager is not None else SessionManager()
        self.environ_key = environ_key

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        lazy = LazySession(self.manager, environ)
        environ[self.environ_key] = lazy

        def session_start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if lazy.loaded and exc_info is None:
                headers = vary_cookie(list(headers)) + lazy.session.commit()
            return start_response(status, headers, exc_info)

        def commit_late() -> None:
            # Changes made while the body was produced: stored, although the
            # headers (and any new cookie) are already gone.
            if lazy.loaded and lazy.session.modified:
                lazy.session.commit()

        body = self.app(environ, session_start_response)
        return _ClosingBody(body, commit_late)
