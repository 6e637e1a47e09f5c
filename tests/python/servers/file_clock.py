"""A clock the test process moves by writing a file: the servers under test
run in other processes, and expiry must still be exact without sleeping."""

from __future__ import annotations

import os
from typing import Any, Optional


class FileClock:
    """``clock()`` is the float in the file."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __call__(self) -> float:
        with open(self.path) as f:
            return float(f.read())


def test_options() -> dict[str, Any]:
    """The SessionManager options the test harness asks for by environment."""
    options: dict[str, Any] = {}
    clock: Optional[str] = os.environ.get("SPYSESSION_TEST_CLOCK")
    if clock:
        options["clock"] = FileClock(clock)
    return options
