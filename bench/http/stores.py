"""What the bench apps share: where a row keeps its sessions, read from the
environment the harness sets (or passed in by the in-process benchmark).

    BENCH_BACKEND    the row's backend key (see each app's BACKENDS)
    BENCH_DIR        a directory on a real disk for this row's files
    BENCH_REDIS_URL  the shared redis-server (redis://127.0.0.1:PORT/0)
    BENCH_PREFIX     a Redis key prefix of this row's own
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

#: Keys the lost-update test sets (/add/k0../add/k63) and /count counts.
ADDED_KEY = re.compile(r"k\d+\Z")
#: Session lifetime of every backend: one day, spysession's default.
EXPIRE = 86400
#: The secret of the signing backends (Flask, Starlette, Django cookies).
SECRET = "bench-http-not-a-secret-0123456789abcdef"


@dataclass
class Where:
    """Where one row keeps its sessions."""

    backend: str
    dir: str
    redis_url: str
    prefix: str

    @classmethod
    def from_env(cls) -> "Where":
        return cls(
            backend=os.environ["BENCH_BACKEND"],
            dir=os.environ.get("BENCH_DIR", ""),
            redis_url=os.environ.get("BENCH_REDIS_URL", ""),
            prefix=os.environ.get("BENCH_PREFIX", "bench:"),
        )

    def path(self, name: str) -> str:
        p = os.path.join(self.dir, name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        return p


def spysession_store(where: Where):
    """The spysession store of a row: spy-dbm, spy-dbm-durable or spy-redis.

    (Once spysession.open_store(url) is on main, each becomes its URL:
    dbm:///dir?durable=false, redis://...?prefix=...)
    """
    import spysession

    if where.backend.endswith("spy-redis"):
        return spysession.RedisStore(where.redis_url, prefix=where.prefix)
    durable = where.backend.endswith("spy-dbm-durable")
    path = where.path("spysession-durable" if durable else "spysession")
    return spysession.DbmStore(path, durable=durable)


def count_added(keys) -> int:
    """How many of the lost-update test's keys a session holds."""
    return sum(1 for k in keys if ADDED_KEY.match(k))
