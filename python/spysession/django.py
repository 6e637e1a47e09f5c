"""Django: a session engine on spysession.

settings.py::

    SESSION_ENGINE = "spysession.django"
    SPYSESSION_STORE = "/var/lib/mysite/sessions"   # any store URL, or a store object

Django's ``SESSION_*`` settings keep their meaning (the cookie is Django's:
its middleware sets it); ``SESSION_COOKIE_AGE`` and ``set_expiry()`` give the
expiry the store keeps. ``manage.py clearsessions`` cleans the store.
``SPYSESSION_OPTIONS`` is a dict of further ``SessionManager`` options
(``clock``, ``max_lifetime``...). Without ``SPYSESSION_STORE``, the
``spysession.configure()`` default store is used (a MemoryStore: one
process only).

What the engine adds to Django's backends:

- Concurrent requests merge per key: ``save()`` writes only the keys this
  request changed or removed, diffed against what it loaded, into the
  record as it is stored at that moment.
- No resurrection: saving a session that another request deleted (a
  logout) raises Django's ``UpdateError`` (the middleware answers 400,
  ``SessionInterrupted``) instead of bringing it back.
- Keys are the engine's ids (32 lowercase hex, 128 bits from the OS). A
  key of any other shape is unknown to the store and never looked up;
  ``save(must_create=True)`` and ``create()`` always take a fresh id.
- ``cycle_key()`` is the engine's regenerate: the data moves to a new id
  and the old record is deleted in the same commit.
- An explicit ``save()``/``create()`` stores even an empty session (Django's
  middleware already skips untouched ones); an expiry in the past deletes it.
"""

from __future__ import annotations

import copy
import re
from typing import Any, Optional

from asgiref.sync import sync_to_async
from django import conf as _conf  # type: ignore[import-untyped]
from django.contrib.sessions.backends.base import (  # type: ignore[import-untyped]
    CreateError,
    SessionBase,
    UpdateError,
)
from django.core.signals import setting_changed  # type: ignore[import-untyped]
from django.dispatch import receiver  # type: ignore[import-untyped]

from ._settings import Settings
from ._spysession import Session, SessionManager
from ._spysession import SessionStore as _Store

__all__ = ["SessionStore"]

_ID = re.compile(r"[0-9a-f]{32}")
# The manager is the engine's; its cookie is never sent (Django sends its own),
# the name only frames the id when a session is begun.
_COOKIE = "spysession"
_settings = Settings()


def _store() -> Optional[_Store]:
    return _settings.store("SPYSESSION_STORE", getattr(_conf.settings, "SPYSESSION_STORE", None))


# The manager of the settings as they are, until one it depends on changes.
_manager: Optional[SessionManager] = None
_MANAGER_SETTINGS = frozenset({"SESSION_COOKIE_AGE", "SPYSESSION_STORE", "SPYSESSION_OPTIONS"})


def manager() -> SessionManager:
    """The manager for the settings as they are now (one per distinct setting).

    Made once and kept: reading three settings through Django's lazy
    settings and finding their manager cost more than the store's own read
    per request. ``setting_changed`` (sent by ``override_settings``)
    drops it."""
    global _manager
    found = _manager
    if found is None:
        options: dict[str, Any] = {"expire": float(_conf.settings.SESSION_COOKIE_AGE), "cookie_name": _COOKIE}
        options.update(getattr(_conf.settings, "SPYSESSION_OPTIONS", None) or {})
        found = _manager = _settings.manager(_store(), options)
    return found


@receiver(setting_changed)
def _forget_the_manager(*, setting: str, **kwargs: Any) -> None:
    global _manager
    if setting in _MANAGER_SETTINGS:
        _manager = None


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


_IMMUTABLE = (str, int, float, bool, type(None), bytes)


def _snapshot(data: dict[str, Any]) -> dict[str, Any]:
    """What `data` holds now, unaffected by later changes in place: a deep
    copy of the mutable values only (most values are strings and numbers,
    and deepcopy of a whole dict cost more than the store's commit)."""
    return {k: v if type(v) in _IMMUTABLE else copy.deepcopy(v) for k, v in data.items()}


class SessionStore(SessionBase):
    """Django's ``SessionBase`` on a spysession store (see the module docs)."""

    _session_key: Optional[str]  # SessionBase's validating property

    def __init__(self, session_key: Optional[str] = None) -> None:
        super().__init__(session_key)
        # The engine session load() began, kept for save() (one store read
        # per request, not two): save() diffs the data against it.
        self._engine: Optional[Session] = None
        # What an earlier save() of this request wrote, to diff against at
        # the next; None: nothing saved (or loaded) yet.
        self._loaded: Optional[dict[str, Any]] = None

    # The engine -------------------------------------------------------------------

    @staticmethod
    def _begin(key: Optional[str], expire: Optional[float] = None) -> Session:
        # Only a well-formed id is ever framed as a cookie: anything else
        # (a forged key, one holding ';') is no id and reaches no store.
        cookie = f"{_COOKIE}={key}" if key is not None and _ID.fullmatch(key) else None
        return manager().begin(cookie=cookie, expire=expire)

    def _write(self, session: Session, data: dict[str, Any], base: Optional[dict[str, Any]]) -> None:
        """Applies to `session` what `data` changed from `base` (what an
        earlier save wrote; empty for a new record), and commits it. With
        no `base`, `session` is the one load() began, and the diff is
        against it: `data` holds the very objects it handed out, so a value
        changed in place is the session's to find at commit."""
        if base is None:
            for key, value in data.items():
                if key not in session or not _same(session[key], value):
                    session[key] = value
            for key in [key for key in session if key not in data]:
                del session[key]
        else:
            for key, value in data.items():
                if key not in base or not _same(base[key], value):
                    session[key] = value
            for key in base:
                if key not in data and key in session:
                    del session[key]
        session.touch()
        session.commit()
        if not session.committed:
            raise UpdateError
        self._session_key = session.id
        self._loaded = _snapshot(data)

    # SessionBase's backend methods -----------------------------------------------

    def load(self) -> dict[str, Any]:
        session = self._begin(self.session_key)
        if session.is_new:
            # Unknown, expired or malformed: a fresh session, nothing created.
            self._session_key = None
            self._loaded = None
            return {}
        self._engine = session
        self._loaded = None
        return dict(session.items())

    def exists(self, session_key: Optional[str]) -> bool:
        return session_key is not None and not self._begin(session_key).is_new

    def create(self) -> None:
        data = self._get_session(no_load=True)
        age = self.get_expiry_age()
        session = self._begin(None, expire=max(age, 0))
        self.modified = True
        if age <= 0:
            # Expired already: an id, but nothing stored under it.
            self._session_key = session.id
            self._loaded = None
            return
        self._write(session, data, {})

    def save(self, must_create: bool = False) -> None:
        if self.session_key is None:
            return self.create()
        data = self._get_session(no_load=must_create)
        age = self.get_expiry_age()
        session = self._engine
        self._engine = None
        if session is not None and not must_create and session.id == self.session_key:
            if age <= 0:
                session.invalidate()
                session.commit()
                return
            session.expire = age
            return self._write(session, data, None)
        session = self._begin(self.session_key, expire=age)
        if must_create and not session.is_new:
            raise CreateError
        if session.is_new and not must_create:
            raise UpdateError  # deleted (or expired) meanwhile: not brought back
        if age <= 0:
            session.invalidate()
            session.commit()
            return
        base = self._loaded if self._loaded is not None and not session.is_new else {}
        self._write(session, data, base)

    def delete(self, session_key: Optional[str] = None) -> None:
        if session_key is None:
            session_key = self.session_key
            if session_key is None:
                return
        session = self._begin(session_key)
        if not session.is_new:
            session.invalidate()
            session.commit()
        if session_key == self.session_key:
            self._loaded = None
            self._engine = None

    def cycle_key(self) -> None:
        """The engine's regenerate: same data under a new id, old record deleted."""
        data = self._session
        key = self.session_key
        loaded = self._engine if self._engine is not None and self._engine.id == key else None
        self._engine = None
        session: Optional[Session]
        base: Optional[dict[str, Any]]
        if loaded is not None:
            session, base = loaded, None
            loaded.expire = self.get_expiry_age()
        else:
            session = self._begin(key, expire=self.get_expiry_age()) if key else None
            base = self._loaded if self._loaded is not None else {}
        if session is None or session.is_new:
            self.create()
            self._session_cache = data
            return
        session.regenerate()  # every key moves to the new id; only the diff is ours
        self._write(session, data, base)

    async def acycle_key(self) -> None:
        await sync_to_async(self.cycle_key)()

    @classmethod
    def clear_expired(cls) -> None:
        found = manager()
        clock = found.clock
        found.store.clean(clock() if clock is not None else None)


# A store URL in the settings is opened when Django loads the engine (its
# SessionMiddleware does at start-up), so a malformed one fails there.
if _conf.settings.configured and getattr(_conf.settings, "SPYSESSION_STORE", None) is not None:
    _store()
