"""Many threads and many processes (fork and spawn) on one DbmStore: no
committed change is lost. Workers start together on an event, not a sleep."""

from __future__ import annotations

import multiprocessing
import threading
import time

import pytest

import spysession
from workers import write_keys

WORKERS = 4
COUNT = 40


def shared_session(path: str) -> str:
    manager = spysession.SessionManager(spysession.DbmStore(path, map_size=1 << 26))
    s = manager.begin()
    s["start"] = True
    s.commit()
    return s.id


def expected() -> dict:
    out = {"start": True}
    out.update({f"w{w}-{i}": i for w in range(WORKERS) for i in range(COUNT)})
    return out


def final(path: str, sid: str):
    store = spysession.DbmStore(path)
    return spysession.SessionManager(store).begin(cookie=f"spysession={sid}"), store


def test_threads_lose_no_change(dbm_path):
    sid = shared_session(dbm_path)
    ready = [threading.Event() for _ in range(WORKERS)]
    go = threading.Event()
    errors = []

    def run(w):
        try:
            write_keys(dbm_path, sid, w, COUNT, ready[w], go)
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(w,)) for w in range(WORKERS)]
    for t in threads:
        t.start()
    for r in ready:
        assert r.wait(30)
    go.set()
    for t in threads:
        t.join(60)
        assert not t.is_alive()
    assert errors == []
    session, store = final(dbm_path, sid)
    assert session == expected()


def test_threads_share_one_manager_without_the_gil(dbm_path):
    """One manager, many threads at once: commits run without the GIL."""
    manager = spysession.SessionManager(spysession.DbmStore(dbm_path))
    barrier = threading.Barrier(WORKERS)
    ids = []

    def run():
        barrier.wait()
        for _ in range(25):
            s = manager.begin()
            s["n"] = 1
            s.commit()
            ids.append(s.id)

    threads = [threading.Thread(target=run) for _ in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(set(ids)) == WORKERS * 25
    assert len(manager.store) == WORKERS * 25


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_processes_lose_no_change(dbm_path, method):
    sid = shared_session(dbm_path)  # the parent has the environment open before forking
    ctx = multiprocessing.get_context(method)
    go = ctx.Event()
    ready = [ctx.Event() for _ in range(WORKERS)]
    procs = [ctx.Process(target=write_keys, args=(dbm_path, sid, w, COUNT, ready[w], go))
             for w in range(WORKERS)]
    for p in procs:
        p.start()
    for r in ready:
        assert r.wait(60)
    go.set()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    session, _ = final(dbm_path, sid)
    assert session == expected()


def test_forked_child_uses_the_parents_store_object(dbm_path):
    """A DbmStore opened before fork works in the child (it reopens LMDB)."""
    store = spysession.DbmStore(dbm_path)
    manager = spysession.SessionManager(store)
    s = manager.begin()
    s["parent"] = 1
    s.commit()
    ctx = multiprocessing.get_context("fork")
    p = ctx.Process(target=_child_writes, args=(manager, s.id))
    p.start()
    p.join(60)
    assert p.exitcode == 0
    assert manager.begin(cookie=f"spysession={s.id}") == {"parent": 1, "child": 2}


def _child_writes(manager, sid):
    s = manager.begin(cookie=f"spysession={sid}")
    assert s == {"parent": 1}
    s["child"] = 2
    s.commit()


class SlowDictStore(spysession.SessionStore):
    """A Python-written store whose calls give up the GIL (as a store doing
    network I/O would), so threads interleave inside the engine's commit."""

    def __init__(self):
        super().__init__()
        self.records = {}
        self.lock = threading.Lock()

    def load(self, sid):
        time.sleep(0)  # releases the GIL
        with self.lock:
            return self.records.get(sid)

    def save(self, sid, record, expires_at):
        time.sleep(0)
        with self.lock:
            self.records[sid] = record

    def delete(self, sid):
        with self.lock:
            self.records.pop(sid, None)

    def clean(self, now):
        return 0


def test_threads_on_a_python_store_that_releases_the_gil():
    manager = spysession.SessionManager(SlowDictStore())
    s = manager.begin()
    s["start"] = True
    s.commit()
    cookie = f"spysession={s.id}"
    go = threading.Barrier(WORKERS)
    errors = []

    def run(w):
        try:
            go.wait(30)
            for i in range(COUNT):
                session = manager.begin(cookie=cookie)
                session[f"w{w}-{i}"] = i
                session.commit()
                assert session.committed
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(w,)) for w in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
        assert not t.is_alive(), "a thread is stuck (GIL / commit-lock deadlock)"
    assert errors == []
    assert manager.begin(cookie=cookie) == expected()
