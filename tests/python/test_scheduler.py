"""scheduler: schedule(interval, fn) and schedule_daily(hour, minute, fn)
on daemon threads, cancel(); Spyce's recipe with clean_store."""

from __future__ import annotations

import datetime
import threading

import pytest

import spysession
from spysession import scheduler


def test_schedule_runs_repeatedly_until_cancelled():
    ran = threading.Event()
    count = []

    def job():
        count.append(1)
        if len(count) == 3:
            ran.set()

    handle = scheduler.schedule(0.01, job)
    assert ran.wait(30)
    handle.cancel()
    handle.join(30)
    assert not handle._thread.is_alive() and handle.cancelled
    assert handle._thread.daemon
    runs = len(count)
    assert runs >= 3 and handle.runs == runs
    handle.cancel()  # twice is harmless


def test_first_run_is_after_one_interval():
    started = threading.Event()
    handle = scheduler.schedule(3600, started.set)
    try:
        assert not started.wait(0.2)
    finally:
        handle.cancel()
        handle.join(30)
    assert handle.runs == 0


def test_an_exception_does_not_stop_the_schedule(monkeypatch):
    hooked = []
    monkeypatch.setattr(threading, "excepthook", lambda args: hooked.append(args.exc_type))
    done = threading.Event()
    calls = []

    def job():
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("first run fails")
        done.set()

    handle = scheduler.schedule(0.01, job)
    assert done.wait(30)
    handle.cancel()
    handle.join(30)
    assert hooked[0] is RuntimeError


def test_bad_arguments():
    with pytest.raises(ValueError):
        scheduler.schedule(0, print)
    with pytest.raises(ValueError):
        scheduler.schedule_daily(24, 0, print)
    with pytest.raises(ValueError):
        scheduler.schedule_daily(0, 60, print)


@pytest.mark.parametrize(
    "now, hour, minute, seconds",
    [
        (datetime.datetime(2024, 5, 1, 23, 0, 0), 0, 0, 3600),
        (datetime.datetime(2024, 5, 1, 0, 0, 0), 0, 0, 86400),  # exactly now: next day
        (datetime.datetime(2024, 5, 1, 12, 30, 30), 12, 31, 30),
        (datetime.datetime(2024, 12, 31, 23, 59, 0), 0, 0, 60),
    ],
)
def test_daily_delay(now, hour, minute, seconds):
    assert scheduler.seconds_until(hour, minute, now) == seconds


def test_schedule_daily_with_clean_store_as_spyce_does(clock):
    store = spysession.MemoryStore()
    spysession.configure(session_store=store, session_expire=1, clock=clock)
    s = spysession.SessionManager().begin()
    s["a"] = 1
    s.commit()
    clock.advance(2)
    handle = scheduler.schedule_daily(0, 0, spysession.clean_store)
    handle.cancel()
    handle.join(30)
    assert not handle._thread.is_alive()
    # The scheduled function itself, run once by hand:
    done = threading.Event()
    h = scheduler.schedule(0.01, lambda: (spysession.clean_store(), done.set()))
    assert done.wait(30)
    h.cancel()
    h.join(30)
    assert len(store) == 0 and store.stats()["cleaned"] == 1
