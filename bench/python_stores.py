#!/usr/bin/env python3
"""spysession from Python beside the session stores Python sites use (issue 6, item 2).

Request cycles, each the median of several timed rounds after a warm-up:
  new        begin without a cookie, set 5 small keys, commit (Set-Cookie out)
  returning  begin with the cookie, read a key, increment a counter, commit
  read-only  begin with the cookie and read a key (and commit: a no-op unless due)
  clean      remove the expired half of 100,000 sessions
  bytes      allocated bytes on disk per small session (st_blocks * 512)

The "app" rows (bench/apps.py) are the Flask and Django apps of the HTTP
benchmark (bench/http/) through a test client, no sockets: new = /visit
without a cookie, returning = /visit, read-only = /count; no clean or bytes.

Every backend is one small class with the same methods, driven the way its
users drive it. Peers that have no session id or cookie of their own get the
same cheap helpers (secrets.token_hex, str.partition, an f-string header), so
the comparison never charges them for work spysession does in Rust.

    bench/.venv/bin/python bench/python_stores.py [--quick]   (or `make bench-python`)
"""


from __future__ import annotations

import argparse
import datetime
import os
import shutil
import statistics
import sys
import tempfile
import time

from apps import APPS
from backends import BACKENDS, HERE, disk_bytes
from report import chart, machine, table, targets, versions

# -- measurement


def timed_rounds(op, args, round_s, rounds):
    """Median µs/op over `rounds` rounds, after a warm-up that also sizes a round."""
    k, t0, n = 0, time.perf_counter(), 0
    while True:  # warm-up: at least 3 ops and a third of a round
        op(args[k % len(args)])
        k, n = k + 1, n + 1
        el = time.perf_counter() - t0
        if n >= 3 and el >= round_s / 3:
            break
    iters = max(3, min(200_000, int(round_s / (el / n))))
    per_op = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(iters):
            op(args[k % len(args)])
            k += 1
        per_op.append((time.perf_counter() - t0) / iters * 1e6)
    return statistics.median(per_op)


def bench_backend(cls, data_dir, cfg):
    b = cls(os.path.join(data_dir, cls.__name__))
    out = {}
    cookies = []
    out["new"] = timed_rounds(lambda _: cookies.append(b.new()), [None], cfg.round_s, cfg.rounds)
    pool = cookies[-1000:]
    out["returning"] = timed_rounds(b.returning, pool, cfg.round_s, cfg.rounds)
    out["read_only"] = timed_rounds(b.read_only, pool, cfg.round_s, cfg.rounds)
    b.close()
    out["clean_ms"] = out["bytes"] = None
    out["clean_scaled"] = 1
    if getattr(cls, "cycles_only", False):  # an app row: request cycles only
        shutil.rmtree(os.path.join(data_dir, cls.__name__), ignore_errors=True)
        return out

    # A store with one file per session takes minutes to fill with 100k files:
    # its clean is timed on clean_n / scale sessions and multiplied by scale.
    scale = cfg.file_scale if cls.file_per_session else 1
    n = cfg.clean_n // scale
    times = []
    for _ in range(1 if cls.file_per_session else cfg.clean_rounds):
        b = cls(os.path.join(data_dir, cls.__name__ + "-clean"))
        b.fill(n - n // 2, n // 2)
        # Every clean starts with the fill on disk: a store filled without
        # sync would otherwise pay for writing back the fill's pages (py-lmdb
        # sync's fill already syncs; the others are filled nosync).
        os.sync()
        t0 = time.perf_counter()
        removed = b.clean()
        times.append(time.perf_counter() - t0)
        b.close()
        if removed != n // 2:
            raise SystemExit(f"{cls.name}: clean removed {removed}, expected {n // 2}")
        shutil.rmtree(os.path.join(data_dir, cls.__name__ + "-clean"), ignore_errors=True)
    out["clean_ms"] = statistics.median(times) * 1e3 * scale
    out["clean_scaled"] = scale

    out["bytes"] = None
    if cls.on_disk and cls.same_files_as is None:
        path = os.path.join(data_dir, cls.__name__ + "-bytes")
        b = cls(path)
        n = cfg.bytes_n // scale
        for _ in range(n):
            b.new()
        b.close()
        out["bytes"] = disk_bytes(path) / n
    shutil.rmtree(os.path.join(data_dir, cls.__name__), ignore_errors=True)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", help="comma-separated class names, for trying one backend")
    ap.add_argument("--quick", action="store_true", help="short rounds, 10k-session clean (about 1 min)")
    ap.add_argument("--out", default=os.path.join(HERE, "RESULTS.md"), help="markdown report to write")
    ap.add_argument("--chart", default=os.path.join(HERE, "results.png"), help="PNG chart to write")
    ap.add_argument("--data-dir", default=os.path.join(HERE, ".data"),
                    help="where stores are written (a real disk: fsync is measured)")
    cfg = ap.parse_args()
    if cfg.quick:
        cfg.round_s, cfg.rounds, cfg.clean_n, cfg.clean_rounds, cfg.bytes_n = 0.03, 3, 10_000, 1, 1_000
    else:
        cfg.round_s, cfg.rounds, cfg.clean_n, cfg.clean_rounds, cfg.bytes_n = 0.2, 5, 100_000, 3, 10_000
    cfg.file_scale = 10 if cfg.quick else 20

    os.makedirs(cfg.data_dir, exist_ok=True)
    data_dir = tempfile.mkdtemp(prefix="run-", dir=cfg.data_dir)
    results = {}
    started = time.time()
    try:
        for cls in BACKENDS + APPS:
            if cfg.only and cls.__name__ not in cfg.only.split(","):
                continue
            t0 = time.time()
            r = bench_backend(cls, data_dir, cfg)
            r["same_files_as"] = cls.same_files_as
            results[cls.name] = r
            print(f"  {cls.name}: {time.time() - t0:.1f}s", file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    if cfg.only:
        print(table(results))
        return
    tbl, tgt = table(results), targets(results)
    print(tbl)
    print()
    print(tgt)
    chart(results, cfg.chart)

    cmd = " ".join([os.path.relpath(sys.executable, os.path.dirname(HERE)),
                    os.path.relpath(os.path.abspath(sys.argv[0]), os.path.dirname(HERE))] + sys.argv[1:])
    vers = "\n".join(f"- {k}: {v}" for k, v in versions().items())
    report = f"""# Python benchmark: spysession beside its peers

Written by `bench/python_stores.py`; do not edit by hand, run `make bench-python` (or `make bench`).

- Date: {datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")}
- Command: `{cmd}` ({'quick' if cfg.quick else 'full'} run, {time.time() - started:.0f} s)
- Machine: {machine()}; stores on {os.path.relpath(cfg.data_dir, os.path.dirname(HERE))}/ (a real disk, so fsync costs what it costs)
{vers}

Each cycle is the median of {cfg.rounds} rounds of about {cfg.round_s} s after a warm-up.
clean: {cfg.clean_n:,} sessions, half of them expired, median of {cfg.clean_rounds} run(s); the fill is flushed
(`os.sync()`) before the clock starts, so no store pays for writing back its fill.
bytes/session: allocated blocks (`st_blocks * 512`) of the store after {cfg.bytes_n:,} new sessions, divided by {cfg.bytes_n:,};
durable rows use the same files as their nosync twin.
† one file per session: clean timed on {cfg.clean_n // cfg.file_scale:,} sessions (half expired) and multiplied
by {cfg.file_scale} (filling 100,000 files takes minutes), one run; bytes measured on {cfg.bytes_n // cfg.file_scale:,} sessions.

{tbl}

## Targets (issue 6), from this run

{tgt}

![µs per request cycle, log scale](results.png)

## How each backend is driven

- **dict (floor)**: a dict of dicts, no serialization, no I/O; the cookie split with `str.partition`.
- **spysession**: `SessionManager(store, expire=3600, touch_interval=300)`, `begin(cookie=..., path="/")`,
  `session[...]`, `commit()` (read-only commits too, which writes nothing when no touch is due).
  clean: `store.clean(now)` on sessions written with an injected clock.
- **Beaker**: a `SessionObject` per request on an environ with `HTTP_COOKIE`, `save()`, then `persist()` and
  the Set-Cookie as `SessionMiddleware` does (default `save_accessed_time=True`, so read-only rewrites too).
  Beaker never removes memory sessions (clean = a full scan of its namespaces); file and dbm store one file
  per session plus a lock file, cleaned as its docs say, by age (`find -mmin +60 -delete` in Python).
- **cachelib** (what Flask-Session uses): `get`/`set("session:<id>", dict, timeout)`; clean = cachelib's own
  `_remove_expired` pass (what its prune runs).
- **dbm + pickle (Spyce)**: one `dbm` file (gdbm), key = id, value = pickle of the dict with its expiry;
  clean = full scan unpickling every record.
- **Flask app / Django app**: the apps of `bench/http/` (the same backends, configured the same way as in
  [the HTTP benchmark](http/RESULTS.md)) through a test client, no sockets: new = `/visit` without a cookie,
  returning = `/visit` (a counter read, incremented, saved), read-only = `/count`; the `/plain` rows are the
  framework alone. Flask through its test client; Django's WSGI application through werkzeug's test client
  (the spysession row wraps that application with the WSGI middleware until `spysession.django` lands).
- **py-lmdb + pickle**: a write transaction per commit, a read transaction per read; `sync`/`metasync` on or off;
  clean = full scan in one write transaction, unpickling every record.
"""
    with open(cfg.out, "w") as f:
        f.write(report)
    print(f"\nwrote {cfg.out} and {cfg.chart}", file=sys.stderr)


if __name__ == "__main__":
    main()
