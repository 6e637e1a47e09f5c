#!/usr/bin/env python3
"""End-to-end HTTP benchmark (issue 15): real servers on loopback, wrk as the
load, spysession beside the session backends a user would pick instead.

Each row: its app served by gunicorn (2 workers, gthread) for Flask and
Django, uvicorn (2 workers) for Starlette, or the C server; a few hundred
sessions made by a warm-up pass (their Set-Cookie kept); then /visit (a
read-modify-write of a counter) and /plain (no session) alternate in short
wrk slices, several rounds, medians reported; then the lost-update test: 64
concurrent /add/k<i> from one browser, and /count. The rows of one framework
run together: all their servers up, each round a slice pair for every row in
turn (see bench_group). The machine is shared: only ratios within one run
count.

    bench/.venv/bin/python bench/http/run.py [--quick] [--only ROW,ROW]   (or `make bench-http`)
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass

import load
import servers
import tables


@dataclass
class Row:
    framework: str
    label: str
    backend: str
    server: str  # gunicorn, uvicorn or c
    app: str  # module of the app (or the C server's store kind)
    redis: bool = False
    needs: str | None = None  # a module that must be importable, else "pending"

    def pending(self) -> str | None:
        if self.server == "c" and not os.path.exists(servers.C_SERVER):
            return "C server not built (make example-c-server, from the C issue)"
        if self.needs:
            try:
                found = importlib.util.find_spec(self.needs) is not None
            except ModuleNotFoundError:
                found = False
            if not found:
                return f"{self.needs} not on this branch yet"
        return None


ROWS = [
    Row("Flask", "spysession DbmStore", "flask-spy-dbm", "gunicorn", "flask_app"),
    Row("Flask", "spysession DbmStore durable", "flask-spy-dbm-durable", "gunicorn", "flask_app"),
    Row("Flask", "spysession RedisStore", "flask-spy-redis", "gunicorn", "flask_app", redis=True),
    Row("Flask", "Flask signed cookie", "flask-cookie", "gunicorn", "flask_app"),
    Row("Flask", "Flask-Session FileSystemCache", "flask-session-fs", "gunicorn", "flask_app"),
    Row("Flask", "Flask-Session Redis", "flask-session-redis", "gunicorn", "flask_app", redis=True),
    Row("Django", "spysession DbmStore", "django-spy-dbm", "gunicorn", "django_app"),
    Row("Django", "spysession RedisStore", "django-spy-redis", "gunicorn", "django_app", redis=True),
    Row("Django", "db (SQLite)", "django-db", "gunicorn", "django_app"),
    Row("Django", "cache (RedisCache)", "django-cache", "gunicorn", "django_app", redis=True),
    Row("Django", "file", "django-file", "gunicorn", "django_app"),
    Row("Django", "cached_db (RedisCache + SQLite)", "django-cached-db", "gunicorn", "django_app", redis=True),
    Row("Django", "signed_cookies", "django-signed-cookies", "gunicorn", "django_app"),
    Row("Starlette", "spysession DbmStore", "asgi-spy-dbm", "uvicorn", "starlette_app", needs="spysession.asgi"),
    Row("Starlette", "spysession RedisStore", "asgi-spy-redis", "uvicorn", "starlette_app", redis=True,
        needs="spysession.asgi"),
    Row("Starlette", "Starlette SessionMiddleware (cookie)", "asgi-cookie", "uvicorn", "starlette_app"),
    Row("Starlette", "starsessions Redis", "asgi-starsessions-redis", "uvicorn", "starlette_app", redis=True),
    Row("C", "spysession DbmStore", "c-spy-dbm", "c", "dbm"),
    Row("C", "spysession RedisStore", "c-spy-redis", "c", "redis", redis=True),
]


def store_url(row: Row, where_dir: str, redis_url: str) -> str:
    """The C server's --store (a store URL, SPEC §2)."""
    if row.app == "redis":
        return f"{redis_url}?prefix=bench:{row.backend}:"
    return f"dbm://{os.path.join(where_dir, 'spysession')}?durable=false"


class Running:
    """One row's server, up, with its sessions made and its slices so far."""

    def __init__(self, row: Row, cfg, workdir: str, redis_url: str):
        self.row, self.cfg = row, cfg
        where_dir = os.path.join(workdir, row.backend)
        os.makedirs(where_dir, exist_ok=True)
        env = {"BENCH_BACKEND": row.backend, "BENCH_DIR": where_dir, "BENCH_REDIS_URL": redis_url,
               "BENCH_PREFIX": f"bench:{row.backend}:", "PYTHONDONTWRITEBYTECODE": "1"}
        self.log = open(os.path.join(workdir, row.backend + ".log"), "w")
        if row.app == "django_app" and row.backend in ("django-db", "django-cached-db"):
            import subprocess

            subprocess.run([sys.executable, os.path.join(servers.HERE, "django_app.py"), "migrate", "-v", "0"],
                           env={**os.environ, **env}, cwd=servers.HERE, check=True, stdout=self.log,
                           stderr=self.log)
        self.proc, self.port = servers.start(row.server, row.app, env, store_url(row, where_dir, redis_url),
                                             cfg.server_threads, self.log)
        try:
            load.check_counter(self.port)
            cookies = load.make_sessions(self.port, cfg.sessions)
            self.cookies_file = os.path.join(where_dir, "cookies.txt")
            with open(self.cookies_file, "w") as f:
                f.write("\n".join(cookies) + "\n")
        except Exception:
            self.stop()
            raise
        self.slices: dict[str, list[dict]] = {"/visit": [], "/plain": []}

    def slice(self, path: str, seconds: float, keep: bool = True) -> None:
        r = load.wrk(self.port, path, seconds, self.cookies_file, self.cfg.wrk_threads, self.cfg.connections)
        if keep:
            self.slices[path].append(r)

    def finish(self) -> dict:
        """The lost-update test, the server stopped, and the row's result."""
        try:
            # The C server's /count counts every key, its visit counter too;
            # the apps count only the test's keys.
            kept = load.lost_update(self.port) - (1 if self.row.server == "c" else 0)
        finally:
            self.stop()
        visits, plains = self.slices["/visit"], self.slices["/plain"]

        def med(xs, key):
            return statistics.median(x[key] for x in xs)

        row = self.row
        return {
            "framework": row.framework, "label": row.label, "backend": row.backend, "server": row.server,
            "visit_rps": med(visits, "rps"), "visit_p50_ms": med(visits, "p50_ms"),
            "visit_p99_ms": med(visits, "p99_ms"), "plain_rps": med(plains, "rps"),
            "plain_p50_ms": med(plains, "p50_ms"),
            "ratio": statistics.median(v["rps"] / p["rps"] for v, p in zip(visits, plains)),
            "errors": sum(x["errors"] for x in visits + plains),
            "requests": sum(x["requests"] for x in visits + plains),
            "kept": kept,
            "rounds": [{"visit": v["rps"], "plain": p["rps"]} for v, p in zip(visits, plains)],
        }

    def stop(self) -> None:
        servers.stop(self.proc)
        self.log.close()


def bench_group(rows: list[Row], cfg, workdir: str, redis_url: str, pending: dict[str, str]) -> list[dict]:
    """The rows of one framework, measured together: every server is up at
    once (idle ones sleep), and each round gives every row its /visit and
    /plain slices in turn, the order rotated each round. So the machine's
    drift over the minutes a group takes falls on all of its rows alike,
    and the ratios between them (the targets) are not at its mercy."""
    running: list[Running] = []
    results = []
    t0 = time.time()
    try:
        for row in rows:
            try:
                running.append(Running(row, cfg, workdir, redis_url))
            except Exception as e:  # one broken row must not lose the others
                pending[f"{row.framework}: {row.label}"] = f"failed: {e} (log in {workdir})"
                print(f"  {row.framework}: {row.label}: FAILED {e}", file=sys.stderr, flush=True)
        for r in running:  # warm-up: imports, pools, page cache
            r.slice("/visit", cfg.warmup_s, keep=False)
            r.slice("/plain", cfg.warmup_s, keep=False)
        for n in range(cfg.rounds):
            turn = running[n % len(running):] + running[:n % len(running)] if running else []
            for r in turn:
                for path in (("/visit", "/plain") if n % 2 == 0 else ("/plain", "/visit")):
                    r.slice(path, cfg.slice_s)
        while running:
            r = running.pop(0)
            try:
                result = r.finish()
            except Exception as e:
                pending[f"{r.row.framework}: {r.row.label}"] = f"failed: {e} (log in {workdir})"
                print(f"  {r.row.framework}: {r.row.label}: FAILED {e}", file=sys.stderr, flush=True)
                continue
            results.append(result)
            print(f"  {r.row.framework}: {r.row.label}: {result['visit_rps']:,.0f} /visit req/s, "
                  f"x{result['ratio']:.2f} of /plain, kept {result['kept']}/64", file=sys.stderr, flush=True)
    finally:
        for r in running:
            r.stop()
    print(f"  ({rows[0].framework if rows else ''}: {time.time() - t0:.0f} s)", file=sys.stderr, flush=True)
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="1 s slices, 3 rounds (about 3 minutes)")
    ap.add_argument("--only", help="comma-separated row backends (e.g. flask-spy-dbm,flask-cookie)")
    ap.add_argument("--rounds", type=int, help="rounds of /visit and /plain slices")
    ap.add_argument("--slice", type=int, dest="slice_s", help="whole seconds per wrk slice (wrk takes no fractions)")
    ap.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    ap.add_argument("--wrk-threads", type=int, default=2, help="wrk threads (default 2)")
    ap.add_argument("--server-threads", type=int, default=4, help="gunicorn gthread threads per worker")
    ap.add_argument("--sessions", type=int, default=300, help="pre-made sessions (default 300)")
    ap.add_argument("--work-dir", default=os.path.join(servers.HERE, ".work"),
                    help="where stores and logs are written (a real disk, not a tmpfs)")
    ap.add_argument("--out", default=os.path.join(servers.HERE, "RESULTS.md"))
    ap.add_argument("--chart", default=os.path.join(servers.HERE, "results.png"))
    ap.add_argument("--json", default=os.path.join(servers.HERE, ".work", "results.json"))
    cfg = ap.parse_args()
    cfg.rounds = cfg.rounds or (3 if cfg.quick else 7)
    cfg.slice_s = cfg.slice_s or (1 if cfg.quick else 2)
    cfg.warmup_s = 1 if cfg.quick else 2
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: `make bench-http` installs it (apt-get install wrk)")

    os.makedirs(cfg.work_dir, exist_ok=True)
    workdir = tempfile.mkdtemp(prefix="run-", dir=cfg.work_dir)
    started = time.time()
    results, pending = [], {}
    redis = servers.Redis(workdir)
    try:
        groups: dict[str, list[Row]] = {}
        for row in ROWS:
            if cfg.only and row.backend not in cfg.only.split(","):
                continue
            why = row.pending()
            if why:
                pending[f"{row.framework}: {row.label}"] = why
                print(f"  {row.framework}: {row.label}: pending ({why})", file=sys.stderr, flush=True)
                continue
            groups.setdefault(row.framework, []).append(row)
        for rows in groups.values():
            results += bench_group(rows, cfg, workdir, redis.url, pending)
        redis_version = redis.version()
    finally:
        redis.close()
    failed = any(v.startswith("failed") for v in pending.values())
    if not failed:
        shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(os.path.dirname(cfg.json), exist_ok=True)
    with open(cfg.json, "w") as f:
        json.dump({"results": results, "pending": pending}, f, indent=1)

    tbl = tables.table(results, pending)
    tgt = tables.targets(results)
    print(tbl)
    print()
    print(tgt)
    if cfg.only:
        return
    tables.chart(results, cfg.chart)
    cmd = " ".join([os.path.relpath(sys.executable, servers.ROOT),
                    os.path.relpath(os.path.abspath(sys.argv[0]), servers.ROOT)] + sys.argv[1:])
    with open(cfg.out, "w") as f:
        f.write(tables.results_md(tbl, tgt, cfg, cmd, time.time() - started, redis_version,
                                  datetime.datetime.now().astimezone()))
    print(f"\nwrote {cfg.out} and {cfg.chart}", file=sys.stderr)
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
