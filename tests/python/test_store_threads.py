"""spysession's own store threads for an event loop (``_StoreThreads`` and
``LoopStoreCalls``, used by spysession.asgi): a begin or a commit runs on a
thread without the GIL and its result comes back on the loop; a lent session
cannot be used meanwhile and always comes back; faults come back as
exceptions; a commit whose waiter gave up still lands."""

from __future__ import annotations

import asyncio
import select
import socket
import time

import pytest

import spysession
from spysession._loop_store_calls import LoopStoreCalls
from spysession._spysession import _StoreThreads

from conftest import cookie_of


def results_of(threads: _StoreThreads, count: int) -> dict[int, tuple[bool, object]]:
    """Waits on the threads' socket until `count` results were picked up."""
    found: dict[int, tuple[bool, object]] = {}
    while len(found) < count:
        readable, _, _ = select.select([threads.fileno()], [], [], 30)
        assert readable, "no result within 30 s"
        for token, ok, value in threads.ready():
            found[token] = (ok, value)
    return found


@pytest.fixture
def refused_port():
    """A loopback port where nothing listens: connecting is refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield s.getsockname()[1]


def test_a_commit_runs_on_a_store_thread_and_its_cookie_comes_back(dbm_path, clock):
    manager = spysession.SessionManager(spysession.DbmStore(dbm_path), expire=3600, clock=clock)
    threads = _StoreThreads(2)
    session = manager.begin()
    session["n"] = 1
    session["cart"] = ["apple"]
    token = threads.commit(session)
    assert token is not None
    assert threads.pending == 1
    with pytest.raises(RuntimeError, match="being committed"):
        session["n"]
    with pytest.raises(RuntimeError, match="being committed"):
        session["m"] = 2
    with pytest.raises(RuntimeError, match="being committed"):
        session["cart"]  # handed out before the commit: refused too
    (ok, headers), = results_of(threads, 1).values()
    assert ok, headers
    assert threads.pending == 0
    assert cookie_of(headers) == f"spysession={session.id}"
    # The session came back, committed at the manager's (Python) clock.
    assert session.committed and not session.is_new and session["n"] == 1
    assert session.expires_at == clock.now + 3600
    again = manager.begin(cookie=cookie_of(headers))
    assert again["n"] == 1


def test_a_begin_loads_on_a_store_thread_and_none_without_an_id(dbm_path):
    manager = spysession.SessionManager(spysession.DbmStore(dbm_path))
    first = manager.begin()
    first["cart"] = ["apple"]
    cookie = cookie_of(first.commit())
    threads = _StoreThreads(1)
    assert threads.begin(manager, b"other=1", None, "/") is None
    token = threads.begin(manager, cookie.encode(), None, "/")
    ok, loaded = results_of(threads, 1)[token]
    assert ok, loaded
    assert isinstance(loaded, spysession.Session)
    assert loaded.id == first.id and loaded["cart"] == ["apple"] and not loaded.is_new


def test_a_commit_with_nothing_to_write_stays_on_the_callers_thread(dbm_path):
    manager = spysession.SessionManager(spysession.DbmStore(dbm_path))
    threads = _StoreThreads(1)
    session = manager.begin()
    assert threads.commit(session) is None  # a new session, nothing set
    assert session.commit() == []
    assert threads.threads == 0


def test_values_changed_in_place_are_committed(dbm_path):
    manager = spysession.SessionManager(spysession.DbmStore(dbm_path))
    threads = _StoreThreads(1)
    session = manager.begin()
    session["cart"] = []
    cookie = cookie_of(session.commit())
    loaded = manager.begin(cookie=cookie)
    loaded["cart"].append("pear")
    token = threads.commit(loaded)
    assert results_of(threads, 1)[token][0]
    assert manager.begin(cookie=cookie)["cart"] == ["pear"]


def test_a_store_fault_comes_back_as_an_error_and_the_session_is_kept(refused_port):
    store = spysession.RedisStore(f"redis://127.0.0.1:{refused_port}/0", connect_timeout=0.5)
    manager = spysession.SessionManager(store)
    threads = _StoreThreads(1)
    session = manager.begin()
    session["n"] = 1
    token = threads.commit(session)
    ok, error = results_of(threads, 1)[token]
    assert not ok
    assert isinstance(error, spysession.StoreError)
    # Nothing lost: the session holds its change and can commit again.
    assert session["n"] == 1 and not session.committed and session.modified
    with pytest.raises(spysession.StoreError):
        session.commit()


def test_a_load_fault_comes_back_as_an_error(refused_port):
    store = spysession.RedisStore(f"redis://127.0.0.1:{refused_port}/0", connect_timeout=0.5)
    manager = spysession.SessionManager(store)
    threads = _StoreThreads(1)
    token = threads.begin(manager, b"spysession=" + b"a" * 32, None, "/")
    ok, error = results_of(threads, 1)[token]
    assert not ok and isinstance(error, spysession.StoreError)


def test_many_calls_at_once_each_get_their_own_result(dbm_path):
    manager = spysession.SessionManager(spysession.DbmStore(dbm_path))
    threads = _StoreThreads(4)
    sessions = []
    tokens = {}
    for i in range(40):
        s = manager.begin()
        s["i"] = i
        sessions.append(s)
        tokens[threads.commit(s)] = s
    results = results_of(threads, 40)
    assert set(results) == set(tokens)
    assert 1 <= threads.threads <= 4
    for token, (ok, headers) in results.items():
        assert ok
        session = tokens[token]
        assert cookie_of(headers) == f"spysession={session.id}"
        assert manager.begin(cookie=cookie_of(headers))["i"] == session["i"]


def test_a_burst_of_jobs_is_spread_over_threads_though_one_is_idle(dbm_path):
    manager = spysession.SessionManager(spysession.DbmStore(dbm_path))
    threads = _StoreThreads(4)

    def commit_new():
        s = manager.begin()
        s["n"] = 1
        return threads.commit(s)

    commit_new()
    results_of(threads, 1)
    deadline = time.monotonic() + 30
    while threads.idle < 1:  # the thread is back waiting for a job
        assert time.monotonic() < deadline
    for _ in range(3):
        commit_new()
    assert threads.threads >= 3
    assert all(ok for ok, _ in results_of(threads, 3).values())


def test_max_threads_must_be_at_least_one():
    with pytest.raises(spysession.ConfigError):
        _StoreThreads(0)


def test_closed_threads_refuse_new_jobs_but_finish_the_submitted(dbm_path):
    manager = spysession.SessionManager(spysession.DbmStore(dbm_path))
    threads = _StoreThreads(1)
    session = manager.begin()
    session["n"] = 1
    token = threads.commit(session)
    threads.close()
    (ok, headers), = results_of(threads, 1).values()
    assert ok and token is not None
    other = manager.begin()
    other["n"] = 2
    with pytest.raises(RuntimeError, match="closed"):
        threads.commit(other)
    assert other["n"] == 2  # not lent: still usable


def test_a_commit_whose_waiter_was_cancelled_still_lands(dbm_path):
    manager = spysession.SessionManager(spysession.DbmStore(dbm_path))

    async def main():
        calls = LoopStoreCalls(asyncio.get_running_loop(), 1)
        session = manager.begin()
        session["n"] = 1
        cookie = f"spysession={session.id}".encode()
        waiter = asyncio.ensure_future(calls.commit(session))
        await asyncio.sleep(0)  # the commit is submitted
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        # One thread runs jobs in order: this load runs after the commit.
        loaded = await calls.begin(manager, cookie, None, "/")
        calls.close()
        return session, loaded

    session, loaded = asyncio.run(main())
    assert loaded["n"] == 1 and not loaded.is_new
    assert session.committed  # the session came back to its object too


def test_loop_store_calls_resolve_on_the_loop(dbm_path):
    manager = spysession.SessionManager(spysession.DbmStore(dbm_path))

    async def main():
        registry = {}
        calls = LoopStoreCalls.of(registry, 4)
        assert LoopStoreCalls.of(registry, 4) is calls  # one per loop
        sessions = [manager.begin() for _ in range(20)]
        for i, s in enumerate(sessions):
            s["i"] = i
        headers = await asyncio.gather(*(calls.commit(s) for s in sessions))
        cookies = [cookie_of(h).encode() for h in headers]
        loaded = await asyncio.gather(*(calls.begin(manager, c, None, "/") for c in cookies))
        calls.close()
        return [s["i"] for s in loaded]

    assert asyncio.run(main()) == list(range(20))
