"""What the Flask and Django integrations share: a store named by a
setting (a store URL, opened once per URL, or a store object), and one
manager per distinct set of options, since both read their framework's
settings on every request."""

from __future__ import annotations

import os
from typing import Any, Optional

from ._spysession import ConfigError, SessionManager, SessionStore, open_store

_SCALARS = (str, int, float, bool, type(None))
_MOST_MANAGERS = 32  # settings that keep changing must not grow the cache forever


class Settings:
    """The stores and managers one integration made from its settings."""

    def __init__(self) -> None:
        self._stores: dict[str, SessionStore] = {}
        self._managers: dict[tuple[Any, ...], SessionManager] = {}

    def store(self, name: str, given: Any) -> Optional[SessionStore]:
        """The store setting `name` holds (None: the ``configure()`` default)."""
        if given is None or isinstance(given, SessionStore):
            return given
        if not isinstance(given, (str, os.PathLike)):
            error = ConfigError(
                f"invalid option {name}: expected a store URL or a store, got {type(given).__name__}"
            )
            error.option = name
            raise error
        url = os.fspath(given)
        store = self._stores.get(url)
        if store is None:
            store = self._stores[url] = open_store(url)
        return store

    def manager(self, store: Optional[SessionStore], options: dict[str, Any]) -> SessionManager:
        """The manager for `store` and `options`, made once per distinct set."""
        key = (id(store), *sorted((k, v if isinstance(v, _SCALARS) else id(v)) for k, v in options.items()))
        manager = self._managers.get(key)
        if manager is None:
            if len(self._managers) >= _MOST_MANAGERS:
                self._managers.clear()
            manager = self._managers[key] = SessionManager(store, **options)
        return manager
