"""Flask: ``from flask import session`` is a spysession session.

::

    from flask import Flask, session
    import spysession.flask

    app = Flask(__name__)
    app.config["SPYSESSION_STORE"] = "/var/lib/mysite/sessions"   # any store URL, or a store object
    spysession.flask.init_app(app)

    @app.route("/")
    def index():
        session["visited"] = session.get("visited", 0) + 1
        return f"You visited us {session['visited']} times."

What Flask's own settings mean here (read on every request, as Flask's
interface reads them, unless a ``SessionManager`` is given, whose options
then hold):

- ``SESSION_COOKIE_NAME``, ``_DOMAIN``, ``_PATH`` (else ``APPLICATION_ROOT``),
  ``_HTTPONLY``, ``_SECURE``, ``_SAMESITE``, ``_PARTITIONED``: the cookie.
  The session exists only under the cookie path (RFC 6265 path-match).
- ``PERMANENT_SESSION_LIFETIME``: the session's inactivity expiry at the
  server, for every session. ``session.permanent`` (False by default, as in
  Flask) chooses the cookie: True sends ``Max-Age``/``Expires`` (the same
  lifetime), False a browser-session cookie without either.
- ``SESSION_REFRESH_EACH_REQUEST`` (True by default): every request that
  reads the session slides its expiry, and the cookie is re-sent when the
  expiry is rewritten (at most every 1% of the lifetime: one store write
  per read-only request would cost more than it gives). False: only a
  request that changes the session moves its expiry and sends the cookie.
- ``SPYSESSION_STORE``: a store URL (``spysession.open_store``) or a store
  object; without it, the ``spysession.configure()`` default store.
  ``SPYSESSION_OPTIONS``: a dict of further ``SessionManager`` options
  (``clock``, ``strict``, ``max_lifetime``, ``touch_interval``...).

The session is loaded on first use: a request that never reads it costs no
store access and sets no cookie. ``session.modified`` is True when the
request changed something; setting it True makes the commit store again
every value the request read (Flask's idiom after changing a nested value;
spysession sees those changes by itself too). A session the request emptied
(``clear()``, its last key popped) is deleted with its cookie. Call
``session.regenerate()`` at login and ``session.invalidate()`` at logout.
``flask spysession clean`` removes the expired sessions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from flask.sessions import SessionInterface as _FlaskSessionInterface
from flask.sessions import SessionMixin

from ._settings import Settings
from ._spysession import SessionManager, SessionStore
from .wsgi import LazySession

if TYPE_CHECKING:
    from flask import Flask, Request, Response

__all__ = ["FlaskSession", "SessionInterface", "init_app"]

_SCALARS = (str, int, float, bool, type(None))


class FlaskSession(LazySession, SessionMixin):
    """The request's :class:`~spysession.Session`, loaded on first use, with
    Flask's ``SessionMixin`` surface (``permanent``, ``new``, ``accessed``,
    ``modified``). Every ``Session`` attribute (``id``, ``regenerate()``,
    ``invalidate()``...) is passed on to the real session."""

    def __init__(self, manager: SessionManager, environ: dict[str, Any]) -> None:
        super().__init__(manager, environ)
        self._handed: dict[str, Any] = {}
        self._force = False
        self._accessed = False

    # SessionMixin's attributes -------------------------------------------------

    @property
    def new(self) -> bool:  # type: ignore[override]
        """True when the browser brought no live session."""
        return self.session.is_new

    @property  # type: ignore[override]
    def modified(self) -> bool:
        """True when this request changed the session (or set this True)."""
        return self._force or (self._session is not None and self._session.modified)

    @modified.setter
    def modified(self, value: bool) -> None:
        self._force = bool(value)

    @property  # type: ignore[override]
    def accessed(self) -> bool:
        """True when the request used the session (Flask sets it on every
        access through ``flask.session``)."""
        return self._accessed or self._session is not None

    @accessed.setter
    def accessed(self, value: bool) -> None:
        self._accessed = bool(value)

    # The mapping, kept lazy -------------------------------------------------------

    def _hand(self, key: str, value: Any) -> Any:
        if not isinstance(value, _SCALARS):
            self._handed[key] = value
        return value

    def __getitem__(self, key: str) -> Any:
        return self._hand(key, self.session[key])

    def __setitem__(self, key: str, value: Any) -> None:
        self.session[key] = value
        self._handed.pop(key, None)

    def __delitem__(self, key: str) -> None:
        del self.session[key]
        self._handed.pop(key, None)

    def __repr__(self) -> str:
        return f"<FlaskSession {self._session!r}>" if self.loaded else "<FlaskSession (not loaded)>"

    def get(self, key: str, default: Any = None) -> Any:
        if key not in self.session:
            return default
        return self[key]

    def setdefault(self, key: str, default: Any = None) -> Any:
        return self._hand(key, self.session.setdefault(key, default))

    def pop(self, key: str, *default: Any) -> Any:
        self._handed.pop(key, None)
        return self.session.pop(key, *default)

    def clear(self) -> None:
        self.session.clear()
        self._handed.clear()

    # Commit -----------------------------------------------------------------------

    def _commit(self) -> list[tuple[str, str]]:
        session = self.session
        if self._force:
            for key, value in self._handed.items():
                if key in session:
                    session[key] = value
        session.persistent_cookie = bool(session.get("_permanent", False))
        if not session.is_new and len(session) == 0:
            # Emptied by this request: deleted with its cookie, as Flask does.
            session.invalidate()
        return session.commit()


def _samesite(value: Optional[str]) -> Optional[str]:
    # Flask (Werkzeug) takes any case; the engine wants the attribute's own spelling.
    return value.capitalize() if isinstance(value, str) else value


class SessionInterface(_FlaskSessionInterface):
    """Flask's session interface on spysession; set it as
    ``app.session_interface`` (or call :func:`init_app`). With a
    ``manager``, its options are the cookie's and Flask's ``SESSION_*``
    settings are not read; without one, they are, on every request."""

    pickle_based = False

    def __init__(self, manager: Optional[SessionManager] = None) -> None:
        self.manager = manager
        self._settings = Settings()

    def store(self, app: Flask) -> Optional[SessionStore]:
        """The store ``SPYSESSION_STORE`` names (opened once per URL), or
        None for the ``configure()`` default."""
        if self.manager is not None:
            return self.manager.store
        return self._settings.store("SPYSESSION_STORE", app.config.get("SPYSESSION_STORE"))

    def manager_for(self, app: Flask) -> SessionManager:
        """The manager for the app's settings as they are now."""
        if self.manager is not None:
            return self.manager
        store = self.store(app)
        lifetime = app.permanent_session_lifetime.total_seconds()
        refresh = bool(app.config["SESSION_REFRESH_EACH_REQUEST"])
        options: dict[str, Any] = {
            "expire": lifetime,
            "cookie_name": self.get_cookie_name(app),
            "domain": self.get_cookie_domain(app),
            "path": self.get_cookie_path(app),
            "httponly": bool(self.get_cookie_httponly(app)),
            "secure": bool(self.get_cookie_secure(app)),
            "samesite": _samesite(self.get_cookie_samesite(app)),
            # No refresh: a read never rewrites the expiry.
            "touch_interval": None if refresh else lifetime,
        }
        options.update(app.config.get("SPYSESSION_OPTIONS") or {})
        return self._settings.manager(store, options)

    def open_session(self, app: Flask, request: Request) -> FlaskSession:
        return FlaskSession(self.manager_for(app), request.environ)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if session.accessed:
            response.vary.add("Cookie")
        if not isinstance(session, FlaskSession) or not session.loaded:
            return  # never read: no store access, no cookie
        headers = session._commit()
        partitioned = self.manager is None and self.get_cookie_partitioned(app)
        for name, value in headers:
            if partitioned and name == "Set-Cookie":
                value += "; Partitioned"
            response.headers.add(name, value)


def init_app(app: Flask, manager: Optional[SessionManager] = None) -> SessionInterface:
    """Makes spysession the app's sessions and adds ``flask spysession clean``.

    A ``SPYSESSION_STORE`` that is set is opened now, so a malformed URL is a
    ``ConfigError`` at start-up rather than at the first request.
    """
    interface = SessionInterface(manager)
    interface.store(app)
    app.session_interface = interface
    _add_cli(app, interface)
    return interface


def _add_cli(app: Flask, interface: SessionInterface) -> None:
    import click
    from flask.cli import AppGroup

    group = AppGroup("spysession", help="spysession's sessions of this app.")

    @group.command("clean")
    def clean() -> None:
        """Remove every expired session of the app's store."""
        manager = interface.manager_for(app)
        clock = manager.clock
        removed = manager.store.clean(clock() if clock is not None else None)
        click.echo(f"removed {removed} expired sessions")

    app.cli.add_command(group)

