"""Functions run in other processes by test_concurrency (importable by name,
as multiprocessing's spawn start method needs)."""

from __future__ import annotations

import spysession


def write_keys(path: str, sid: str, worker: int, count: int, ready, go) -> None:
    """Commits `count` distinct keys to session `sid`, one request each."""
    manager = spysession.SessionManager(spysession.DbmStore(path, map_size=1 << 26))
    ready.set()
    go.wait()
    for i in range(count):
        session = manager.begin(cookie=f"spysession={sid}")
        assert not session.is_new, "the session must exist"
        session[f"w{worker}-{i}"] = i
        session.commit()
        assert session.committed
