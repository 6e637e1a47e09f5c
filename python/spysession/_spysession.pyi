"""Type stubs of the compiled module spysession._spysession."""

from collections.abc import Callable, Iterable, Mapping, MutableMapping
from os import PathLike
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Optional, Sequence, TypedDict, TypeVar, Union, final

from _typeshed import SupportsKeysAndGetItem
from typing_extensions import Self, disjoint_base

# pyo3 classes: construction is `__new__` (pyo3's `#[new]`), `__init__` is
# object's. Classes without pyo3's `subclass` are `@final`; the others are
# `@disjoint_base` (PEP 800): each has its own instance layout, so no class can
# inherit from two of them.

__all__ = [
    "__version__",
    "SessionError",
    "StoreError",
    "ConfigError",
    "SessionStore",
    "MemoryStore",
    "DbmStore",
    "RedisStore",
    "SessionManager",
    "Session",
    "SessionKeys",
    "Ext",
    "configure",
    "clean_store",
    "open_store",
    "store_key",
    "_StoreThreads",
]

__version__: str

_S = TypeVar("_S", bound="SessionStore")
_Transport = Literal["cookie", "get", "post"]
_Bytes = Union[str, bytes, bytearray]

class SessionError(Exception): ...
class StoreError(SessionError): ...

class ConfigError(SessionError, ValueError):
    option: str

class StoreStats(TypedDict):
    loads: int
    commits: int
    merges: int
    dropped: int
    corrupt: int
    cleaned: int
    evicted: int
    rejected: int

@final
class Ext:
    """A MessagePack extension value of a code spysession does not define
    (codes 1 to 31 are reserved: ValueError)."""

    @property
    def code(self) -> int: ...
    @property
    def data(self) -> bytes: ...
    def __new__(cls, code: int, data: bytes) -> Self: ...

@disjoint_base
class SessionStore:
    """Base class of every store; subclass it to write one in Python."""

    # Takes and ignores any arguments, so a Python subclass's __init__ decides.
    def __new__(cls, *_args: Any, **_kwargs: Any) -> Self: ...
    # `key` is a store key (store_key(id)), never a session id.
    def load(self, key: str) -> Optional[bytes]: ...
    def save(self, key: str, record: bytes, expires_at: float) -> None: ...
    def delete(self, key: str) -> None: ...
    def clean(self, now: Optional[float] = None) -> int: ...
    def __len__(self) -> int: ...
    def stats(self) -> StoreStats: ...
    def close(self) -> None: ...
    @property
    def closed(self) -> bool: ...
    def __enter__(self: _S) -> _S: ...
    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> bool: ...

@disjoint_base
class MemoryStore(SessionStore):
    def __new__(cls, max_sessions: Optional[int] = None) -> Self: ...
    @property
    def max_sessions(self) -> Optional[int]: ...

@disjoint_base
class DbmStore(SessionStore):
    def __new__(
        cls, path: Union[str, PathLike[str]], *, map_size: int = 1 << 30, durable: bool = True
    ) -> Self: ...
    @property
    def path(self) -> Path: ...
    @property
    def durable(self) -> bool: ...

@disjoint_base
class RedisStore(SessionStore):
    """Sessions in Redis (or Valkey), shared by every web machine."""

    def __new__(
        cls,
        url: str,
        prefix: str = "spysession:",
        *,
        connect_timeout: float = 2.0,
        command_timeout: float = 2.0,
        pool_size: int = 8,
        tls_ca_file: str | PathLike[str] | None = None,
        wait_replicas: int = 0,
    ) -> Self: ...
    def ping(self) -> None: ...
    @property
    def url(self) -> str: ...
    @property
    def prefix(self) -> str: ...

# Not a subclass of MutableMapping at runtime: registered with it
# (collections.abc.MutableMapping.register), which isinstance() and type
# checkers both honour.
@final
class Session(MutableMapping[str, Any]):
    """One request's session: a dict with str keys."""

    def __getitem__(self, key: str, /) -> Any: ...
    def __setitem__(self, key: str, value: Any, /) -> None: ...
    def __delitem__(self, key: str, /) -> None: ...
    def __iter__(self) -> SessionKeys: ...
    def __len__(self) -> int: ...
    def __contains__(self, key: object, /) -> bool: ...
    # Written in Rust, not inherited from MutableMapping: the arguments can be
    # given by keyword too, and a non-str key is simply absent for get().
    def get(self, key: object, default: Any = None) -> Any: ...
    def setdefault(self, key: str, default: Any = None) -> Any: ...
    def pop(self, key: str, *default: Any) -> Any: ...
    def update(
        self,
        other: Union[SupportsKeysAndGetItem[str, Any], Iterable[tuple[str, Any]], None] = None,
        /,
        **kwargs: Any,
    ) -> None: ...
    @property
    def id(self) -> str: ...
    @property
    def is_new(self) -> bool: ...
    @property
    def modified(self) -> bool: ...
    @property
    def expires_at(self) -> float: ...
    @property
    def committed(self) -> bool: ...
    @property
    def persistent_cookie(self) -> bool: ...
    @persistent_cookie.setter
    def persistent_cookie(self, persistent: bool) -> None: ...
    @property
    def expire(self) -> float: ...
    @expire.setter
    def expire(self, seconds: float) -> None: ...
    def commit(self) -> list[tuple[str, str]]: ...
    def touch(self) -> None: ...
    def regenerate(self) -> None: ...
    def invalidate(self) -> None: ...
    def url(self, href: str) -> str: ...
    def form_field(self) -> str: ...

@final
class SessionKeys:
    """Iterator over a session's keys (a snapshot taken when iteration began)."""

    def __iter__(self) -> Self: ...
    def __next__(self) -> str: ...

@final
class SessionManager:
    """A site's store, options and clock; begins a Session per request."""

    def __new__(
        cls,
        store: Optional[SessionStore] = None,
        *,
        expire: float = ...,
        path: str = ...,
        cookie_name: str = ...,
        param_name: str = ...,
        domain: Optional[str] = ...,
        secure: bool = ...,
        httponly: bool = ...,
        samesite: Optional[Literal["Strict", "Lax", "None"]] = ...,
        transport: Union[_Transport, Sequence[_Transport]] = ...,
        strict: bool = ...,
        max_lifetime: Optional[float] = ...,
        touch_interval: Optional[float] = ...,
        pickle: bool = ...,
        secret_key: Union[str, bytes, Sequence[Union[str, bytes]], None] = ...,
        clock: Optional[Callable[[], float]] = ...,
    ) -> Self: ...
    @property
    def store(self) -> SessionStore: ...
    @property
    def clock(self) -> Optional[Callable[[], float]]: ...
    def begin(
        self,
        cookie: Optional[_Bytes] = None,
        query: Optional[_Bytes] = None,
        form: Union[_Bytes, Mapping[str, Any], None] = None,
        path: str = "/",
        *,
        expire: Optional[float] = None,
        session_path: Optional[str] = None,
    ) -> Session: ...
    def from_environ(self, environ: MutableMapping[str, Any]) -> Session: ...

def configure(
    *,
    session_store: Optional[SessionStore] = ...,
    session_path: Optional[str] = ...,
    session_expire: Optional[float] = ...,
    store: Optional[SessionStore] = ...,
    path: Optional[str] = ...,
    expire: Optional[float] = ...,
    cookie_name: Optional[str] = ...,
    param_name: Optional[str] = ...,
    domain: Optional[str] = ...,
    secure: Optional[bool] = ...,
    httponly: Optional[bool] = ...,
    samesite: Optional[Literal["Strict", "Lax", "None"]] = ...,
    transport: Union[_Transport, Sequence[_Transport], None] = ...,
    strict: Optional[bool] = ...,
    max_lifetime: Optional[float] = ...,
    touch_interval: Optional[float] = ...,
    pickle: Optional[bool] = ...,
    secret_key: Union[str, bytes, Sequence[Union[str, bytes]], None] = ...,
    clock: Optional[Callable[[], float]] = ...,
) -> None: ...
def clean_store(store: Optional[SessionStore] = None) -> int: ...
def open_store(
    url: str, **options: Union[str, bool, int, float, PathLike[str], None]
) -> Union[MemoryStore, DbmStore, RedisStore, SessionStore]: ...
def store_key(id: str) -> str: ...

@final
class _StoreThreads:
    """Store calls of one event loop on spysession's own threads (no GIL);
    private, for spysession.asgi (unix only)."""

    def __new__(cls, max_threads: int) -> Self: ...
    def fileno(self) -> int: ...
    def begin(
        self, manager: SessionManager, cookie: Optional[bytes], query: Optional[bytes], path: str
    ) -> Optional[int]: ...
    def commit(self, session: Session) -> Optional[int]: ...
    def ready(self) -> list[tuple[int, bool, Any]]: ...
    @property
    def pending(self) -> int: ...
    @property
    def threads(self) -> int: ...
    @property
    def idle(self) -> int: ...
    def close(self) -> None: ...
