"""Shared fixtures: a hand-moved clock, managers on fresh stores, and a
clean slate for the site-wide ``configure()`` defaults."""

from __future__ import annotations

import pytest

import spysession

OPTIONS = [
    "session_store", "session_path", "session_expire", "cookie_name", "param_name",
    "domain", "secure", "httponly", "samesite", "transport", "strict",
    "max_lifetime", "touch_interval", "pickle", "secret_key", "clock",
]


class Clock:
    """A clock the test moves by hand: expiry is exact, nothing sleeps."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(autouse=True)
def reset_configuration():
    yield
    spysession.configure(**{name: None for name in OPTIONS})


@pytest.fixture
def store():
    return spysession.MemoryStore()


@pytest.fixture
def manager(store, clock):
    return spysession.SessionManager(store, expire=3600, clock=clock)


def cookie_of(headers) -> str:
    """The `name=value` part of the one Set-Cookie header."""
    (name, value), = headers
    assert name == "Set-Cookie"
    return value.split(";", 1)[0]


@pytest.fixture
def dbm_path(tmp_path):
    return str(tmp_path / "sessions")
