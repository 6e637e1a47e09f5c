"""spysession: server-side web sessions on a Rust engine.

A dictionary per browser: the data lives at the server, only a random id
travels (cookie, query string or form field). Spyce's recipe works as is::

    import spysession
    manager = spysession.SessionManager(spysession.DbmStore("/var/lib/site/sessions"))
    session = manager.begin(cookie=environ.get("HTTP_COOKIE"), path=environ.get("PATH_INFO", "/"))
    session["visited"] = session.get("visited", 0) + 1
    headers = session.commit()     # [("Set-Cookie", "...")]

Several web machines behind a load balancer share sessions through
``spysession.RedisStore("redis://redis-host:6379/0")``; ``open_store(url)``
opens any store from its URL (``memory:``, a directory, ``redis://...``). See
``SessionManager`` for the options, ``spysession.wsgi`` for WSGI apps
(Flask, Bottle) and ``spysession.scheduler`` for cleaning on a timer.
"""

from . import scheduler
from ._spysession import (
    ConfigError,
    DbmStore,
    Ext,
    MemoryStore,
    RedisStore,
    Session,
    SessionError,
    SessionManager,
    SessionStore,
    StoreError,
    __version__,
    clean_store,
    configure,
    open_store,
    store_key,
)

__all__ = [
    "ConfigError",
    "DbmStore",
    "Ext",
    "MemoryStore",
    "RedisStore",
    "Session",
    "SessionError",
    "SessionManager",
    "SessionStore",
    "StoreError",
    "__version__",
    "clean_store",
    "configure",
    "open_store",
    "scheduler",
    "store_key",
]
