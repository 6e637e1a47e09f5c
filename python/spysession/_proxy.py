"""The mapping every framework integration hands the app: a stand-in that
passes the mapping protocol and every ``Session`` attribute on to the real
session, which each subclass finds its own way (loaded on first use, or
noted as used)."""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import Any

from ._spysession import Session


class SessionProxy(MutableMapping):  # type: ignore[type-arg]
    """Forwards to :attr:`session`, which subclasses define."""

    __slots__ = ()

    @property
    def session(self) -> Session:
        """The real session."""
        raise NotImplementedError

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)  # no forwarding while a subclass sets itself up
        return getattr(self.session, name)

    def __getitem__(self, key: str) -> Any:
        return self.session[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.session[key] = value

    def __delitem__(self, key: str) -> None:
        del self.session[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.session)

    def __len__(self) -> int:
        return len(self.session)

    def __contains__(self, key: object) -> bool:
        return key in self.session

    def __eq__(self, other: object) -> bool:
        return self.session == other

    __hash__ = None  # type: ignore[assignment]

    def get(self, key: str, default: Any = None) -> Any:
        return self.session.get(key, default)

    def setdefault(self, key: str, default: Any = None) -> Any:
        return self.session.setdefault(key, default)

    def pop(self, key: str, *default: Any) -> Any:
        return self.session.pop(key, *default)

    def clear(self) -> None:
        self.session.clear()
