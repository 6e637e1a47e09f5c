"""Run a function on a timer, on a daemon thread (Spyce's scheduler recipe)::

    from spysession import scheduler, clean_store
    scheduler.schedule_daily(0, 0, clean_store)      # every midnight, local time
    handle = scheduler.schedule(3600, clean_store)   # every hour, first run in an hour
    handle.cancel()

An exception raised by ``fn`` is reported through ``threading.excepthook``
and the schedule goes on.
"""

from __future__ import annotations

import datetime
import sys
import threading
from typing import Any, Callable

__all__ = ["Handle", "schedule", "schedule_daily"]


class Handle:
    """A running schedule; ``cancel()`` stops it (the current run, if any, finishes)."""

    def __init__(self, fn: Callable[[], Any], next_delay: Callable[[], float], name: str) -> None:
        self._fn = fn
        self._next_delay = next_delay
        self._cancelled = threading.Event()
        self.runs = 0
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._cancelled.wait(self._next_delay()):
            try:
                self._fn()
            except Exception:
                threading.excepthook(threading.ExceptHookArgs((*sys.exc_info(), self._thread)))
            self.runs += 1

    def cancel(self) -> None:
        """Stops the schedule; calling it again is harmless."""
        self._cancelled.set()

    @property
    def cancelled(self) -> bool:
        """True once ``cancel()`` was called."""
        return self._cancelled.is_set()

    def join(self, timeout: float | None = None) -> None:
        """Waits for the thread to end (after ``cancel()``)."""
        self._thread.join(timeout)


def schedule(interval: float, fn: Callable[[], Any]) -> Handle:
    """Runs ``fn()`` every ``interval`` seconds (float allowed); first run after one interval."""
    interval = float(interval)
    if not interval > 0:
        raise ValueError(f"interval must be a positive number of seconds, not {interval}")
    return Handle(fn, lambda: interval, f"spysession.schedule({interval}, {_name(fn)})")


def schedule_daily(hour: int, minute: int, fn: Callable[[], Any]) -> Handle:
    """Runs ``fn()`` every day at ``hour:minute``, local time, like cron."""
    if not (0 <= hour < 24 and 0 <= minute < 60):
        raise ValueError(f"no such time of day: {hour:02}:{minute:02}")
    return Handle(
        fn,
        lambda: seconds_until(hour, minute, datetime.datetime.now()),
        f"spysession.schedule_daily({hour:02}:{minute:02}, {_name(fn)})",
    )


def seconds_until(hour: int, minute: int, now: datetime.datetime) -> float:
    """Seconds from ``now`` (naive local time) to the next ``hour:minute`` strictly after it."""
    target = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if target <= now:
        target += datetime.timedelta(days=1)
    return (target - now).total_seconds()


def _name(fn: Callable[..., Any]) -> str:
    return getattr(fn, "__qualname__", None) or repr(fn)
