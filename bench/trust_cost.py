"""What the trust work costs a request: hashing the id into its store key,
and signing a pickled value (issue 13).

A returning request cycle (begin with a cookie, read a key, change a
counter, commit) on a MemoryStore, measured three ways in one process,
alternated round by round, medians reported:

- **plain**: the session holds a tuple (its own ext code: no pickle);
- **signed pickle**: the same, plus an instance of a user class, which
  `pickle=True` stores pickled and HMAC-SHA256-signed, and verifies before
  `pickle.loads` on every load;
- **pickle alone**: `pickle.dumps` + `pickle.loads` of that instance, what
  any pickling session store (Flask-Session, Beaker) pays without signing.

So signing costs (signed pickle - plain) - pickle alone per cycle. Hashing
the id is one SHA-256 of 16 bytes per request: timed here through
`spysession.store_key` (which adds a Python call and a hex string), beside
`hashlib.sha256` of the same 16 bytes as the peer.

Run: `make bench-trust` (bench/.venv, a release wheel).
"""

import hashlib
import pickle
import statistics
import sys
import time

import spysession

ROUNDS = 7
SLICE = 0.25  # seconds per contender per round
SECRET = b"k" * 32


class Point:
    """A user class: only `pickle=True` can store it."""

    def __init__(self, x, y):
        self.x, self.y = x, y


def per_call(fn):
    """Seconds per call of fn(), over a slice of about SLICE seconds."""
    n, start = 0, time.perf_counter()
    while True:
        for _ in range(200):
            fn()
        n += 200
        elapsed = time.perf_counter() - start
        if elapsed >= SLICE:
            return elapsed / n


def cycle(with_object):
    """A returning-request cycle on a fresh MemoryStore session."""
    manager = spysession.SessionManager(
        spysession.MemoryStore(), pickle=True, secret_key=SECRET, touch_interval=300
    )
    s = manager.begin(cookie=None, path="/")
    s["user"] = "alice"
    s["counter"] = 0
    s["pair"] = (1, 2)
    if with_object:
        s["point"] = Point(1, 2)
    s.commit()
    cookie = "spysession=" + s.id

    def run():
        s = manager.begin(cookie=cookie, path="/")
        s["user"]
        s["counter"] = s["counter"] + 1
        s.commit()

    return run


def main():
    sid = spysession.SessionManager(spysession.MemoryStore()).begin(cookie=None, path="/").id
    raw = bytes.fromhex(sid)
    point = Point(1, 2)
    contenders = {
        "cycle, plain": cycle(False),
        "cycle, signed pickle": cycle(True),
        "pickle alone (dumps+loads)": lambda: pickle.loads(pickle.dumps(point)),
        "spysession.store_key(id)": lambda: spysession.store_key(sid),
        "hashlib.sha256(16 bytes)": lambda: hashlib.sha256(raw).digest(),
    }
    times = {name: [] for name in contenders}
    for _ in range(ROUNDS):
        for name, fn in contenders.items():
            times[name].append(per_call(fn))
    median = {name: statistics.median(t) * 1e6 for name, t in times.items()}
    print(f"spysession {spysession.__version__}, Python {sys.version.split()[0]}, "
          f"{ROUNDS} rounds of {SLICE} s per contender, alternated; medians")
    print(f"{'contender':32} {'µs/call':>9}")
    for name, us in median.items():
        print(f"{name:32} {us:9.3f}")
    signing = median["cycle, signed pickle"] - median["cycle, plain"] - median["pickle alone (dumps+loads)"]
    print()
    print(f"signed pickle over plain, per cycle: "
          f"{median['cycle, signed pickle'] - median['cycle, plain']:.3f} µs "
          f"({median['cycle, signed pickle'] / median['cycle, plain']:.2f}x)")
    print(f"of which signing (beyond pickle alone): {signing:.3f} µs")
    key = median["spysession.store_key(id)"]
    print(f"store key from Python: {key:.3f} µs (hashlib peer {median['hashlib.sha256(16 bytes)']:.3f} µs), "
          f"at most {key / median['cycle, plain'] * 100:.1f}% of a plain cycle: the engine hashes in Rust, "
          f"without the Python call and hex string (criterion: piece/store-key/of)")


if __name__ == "__main__":
    main()
