#!/usr/bin/env python3
"""spysession from Python beside the session stores Python sites use (issue 6, item 2).

Request cycles, each the median of several timed rounds after a warm-up:
  new        begin without a cookie, set 5 small keys, commit (Set-Cookie out)
  returning  begin with the cookie, read a key, increment a counter, commit
  read-only  begin with the cookie and read a key (and commit: a no-op unless due)
  clean      remove the expired half of 100,000 sessions
  bytes      allocated bytes on disk per small session (st_blocks * 512)

Every backend is one small class with the same methods, driven the way its
users drive it. Peers that have no session id or cookie of their own get the
same cheap helpers (secrets.token_hex, str.partition, an f-string header), so
the comparison never charges them for work spysession does in Rust.

    bench/.venv/bin/python bench/python_stores.py [--quick]   (or `make bench-python`)
"""

from __future__ import annotations

import argparse
import dbm
import datetime
import os
import pickle
import platform
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from base64 import b64decode, b64encode
from importlib import metadata

import beaker.container
import cachelib
import cachelib.file
import cachelib.simple
import lmdb
import spysession
from beaker.session import SessionObject

HERE = os.path.dirname(os.path.abspath(__file__))
EXPIRE = 3600
SMALL = (("user", "ada"), ("lang", "en"), ("cart", 3), ("theme", "dark"), ("counter", 0))
PICKLE = pickle.HIGHEST_PROTOCOL


# -- helpers shared by the peers that have no id or cookie handling of their own


def new_sid() -> str:
    return secrets.token_hex(16)


def sid_of(cookie: str) -> str:
    return cookie.partition("=")[2]


def set_cookie(sid: str) -> tuple[str, str]:
    return ("Set-Cookie", f"sid={sid}; Path=/; Max-Age={EXPIRE}; HttpOnly; SameSite=Lax")


def disk_bytes(path: str) -> int:
    """Allocated bytes under path (LMDB files are sparse: st_size would lie)."""
    if os.path.isfile(path):
        return os.stat(path).st_blocks * 512
    total = 0
    for root, _dirs, files in os.walk(path):
        for f in files:
            total += os.stat(os.path.join(root, f)).st_blocks * 512
    return total


class Backend:
    """Each backend: new() -> cookie, returning(cookie), read_only(cookie),
    fill(live, expired) (untimed, on a fresh store), clean() -> removed."""

    name = ""
    on_disk = False
    durable = False
    same_files_as: str | None = None  # bytes measured on this twin (same file format)
    file_per_session = False  # clean and bytes measured on fewer sessions (see --help)

    def __init__(self, path: str):
        self.path = path
        os.makedirs(path, exist_ok=True)

    def close(self) -> None:
        pass


class DictFloor(Backend):
    """The floor: a dict of dicts, no serialization, no I/O."""

    name = "dict (floor)"

    def __init__(self, path):
        super().__init__(path)
        self.d = {}

    def new(self):
        sid, data = new_sid(), {}
        for k, v in SMALL:
            data[k] = v
        data["_expires"] = time.time() + EXPIRE
        self.d[sid] = data
        set_cookie(sid)
        return "sid=" + sid

    def returning(self, cookie):
        sid = sid_of(cookie)
        data = self.d[sid]
        data["user"]
        data["counter"] += 1
        data["_expires"] = time.time() + EXPIRE
        set_cookie(sid)

    def read_only(self, cookie):
        self.d[sid_of(cookie)]["user"]

    def fill(self, live, expired):
        now, self.d = time.time(), {}
        for i in range(live + expired):
            self.d[new_sid()] = dict(SMALL, _expires=now + (EXPIRE if i < live else -EXPIRE))

    def clean(self):
        now = time.time()
        dead = [k for k, v in self.d.items() if v["_expires"] <= now]
        for k in dead:
            del self.d[k]
        return len(dead)


class Spysession(Backend):
    """spysession: SessionManager.begin / Session / commit, as the WSGI middleware does."""

    # Subclasses define make_store(path, durable) -> a spysession store.

    def __init__(self, path):
        super().__init__(path)
        self.store = self.make_store(os.path.join(path, "cycles"), self.durable)
        self.manager = spysession.SessionManager(self.store, expire=EXPIRE, touch_interval=300)
        self.rounds = 0

    def new(self):
        s = self.manager.begin(cookie=None, path="/")
        for k, v in SMALL:
            s[k] = v
        s.commit()
        return "spysession=" + s.id

    def returning(self, cookie):
        s = self.manager.begin(cookie=cookie, path="/")
        s["user"]
        s["counter"] = s["counter"] + 1
        s.commit()

    def read_only(self, cookie):
        s = self.manager.begin(cookie=cookie, path="/")
        s["user"]
        s.commit()

    def fill(self, live, expired):
        # The injected clock makes half the sessions already expired at clean().
        # Durable stores are filled through a nosync twin (same files), then reopened.
        self.rounds += 1
        path = os.path.join(self.path, f"clean{self.rounds}")
        now = [time.time() - 2 * EXPIRE]
        store = self.make_store(path, False)
        m = spysession.SessionManager(store, expire=EXPIRE, clock=lambda: now[0])
        for i in range(live + expired):
            if i == expired:
                now[0] = time.time()
            s = m.begin(cookie=None, path="/")
            for k, v in SMALL:
                s[k] = v
            s.commit()
        if self.durable:
            store.close()
            store = self.make_store(path, True)
        self.clean_store = store

    def clean(self):
        n = self.clean_store.clean(now=time.time())
        self.clean_store.close()
        return n

    def close(self):
        self.store.close()


class SpyMemory(Spysession):
    name = "spysession MemoryStore"

    def make_store(self, path, durable):
        return spysession.MemoryStore()


class SpyDbmNosync(Spysession):
    name = "spysession DbmStore nosync"
    on_disk = True

    def make_store(self, path, durable):
        return spysession.DbmStore(path, durable=durable)


class SpyDbmDurable(SpyDbmNosync):
    name = "spysession DbmStore durable"
    durable = True
    same_files_as = SpyDbmNosync.name


class RedisServer:
    """One redis-server on a free 127.0.0.1 port for the whole run (no
    persistence), started on first use and stopped at exit."""

    proc = None
    url = None

    @classmethod
    def get_url(cls):
        if cls.proc is None:
            import atexit
            import socket
            import subprocess

            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                port = sock.getsockname()[1]
            cls.proc = subprocess.Popen(
                ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                stdout=subprocess.DEVNULL,
            )
            atexit.register(cls.proc.kill)
            cls.url = f"redis://127.0.0.1:{port}/0"
            deadline = time.time() + 10
            while True:
                try:
                    spysession.RedisStore(cls.url).ping()
                    break
                except spysession.StoreError:
                    if time.time() > deadline:
                        raise
                    time.sleep(0.05)
        return cls.url


class SpyRedis(Spysession):
    """RedisStore on a local redis-server (loopback TCP): the store for sites
    with several web machines; each store object gets its own key prefix."""

    name = "spysession RedisStore"

    def make_store(self, path, durable):
        return spysession.RedisStore(RedisServer.get_url(), prefix=f"bench:{os.path.basename(path)}:")


class Beaker(Backend):
    """Beaker: a SessionObject per request on a fake environ with the cookie,
    saved and persisted exactly as beaker.middleware.SessionMiddleware does."""

    kind = ""

    def __init__(self, path):
        super().__init__(path)
        self.opts = dict(type=self.kind, timeout=EXPIRE, key="beaker.session.id")
        if self.kind != "memory":
            self.opts["data_dir"] = os.path.join(path, "cycles")
        beaker.container.MemoryNamespaceManager.namespaces.dict.clear()

    def _finish(self, s):  # SessionMiddleware's session_start_response
        if s.accessed():
            s.persist()
            if s.__dict__["_headers"]["set_cookie"]:
                return s.__dict__["_headers"]["cookie_out"]

    def new(self):
        s = SessionObject({}, **self.opts)
        for k, v in SMALL:
            s[k] = v
        s.save()
        self._finish(s)
        return "beaker.session.id=" + s.id

    def returning(self, cookie):
        s = SessionObject({"HTTP_COOKIE": cookie}, **self.opts)
        s["user"]
        s["counter"] = s["counter"] + 1
        s.save()
        self._finish(s)

    def read_only(self, cookie):
        # Beaker's default save_accessed_time=True rewrites the access time here.
        s = SessionObject({"HTTP_COOKIE": cookie}, **self.opts)
        s["user"]
        self._finish(s)

    def _fill_sessions(self, n, opts):
        for _ in range(n):
            s = SessionObject({}, **opts)
            for k, v in SMALL:
                s[k] = v
            s.save()
            self._finish(s)


class BeakerMemory(Beaker):
    name = "Beaker memory"
    kind = "memory"

    def fill(self, live, expired):
        beaker.container.MemoryNamespaceManager.namespaces.dict.clear()
        self._fill_sessions(live + expired, self.opts)
        ns = beaker.container.MemoryNamespaceManager.namespaces.dict
        for i, d in enumerate(ns.values()):  # age the first half (records are base64 pickles)
            if i < expired:
                data = pickle.loads(b64decode(d["session"]))
                data["_accessed_time"] -= 2 * EXPIRE
                d["session"] = b64encode(pickle.dumps(data))

    def clean(self):
        # Beaker never removes memory sessions; the only way is a full scan.
        now, ns = time.time(), beaker.container.MemoryNamespaceManager.namespaces.dict
        dead = [
            k for k, d in ns.items()
            if now - pickle.loads(b64decode(d["session"]))["_accessed_time"] > EXPIRE
        ]
        for k in dead:
            del ns[k]
        return len(dead)


class BeakerFiles(Beaker):
    """Beaker's file and dbm sessions: one file (plus a lock file) per session;
    Beaker's documented clean-up is a cron job removing files by age."""

    on_disk = True
    file_per_session = True

    def fill(self, live, expired):
        self.clean_dir = os.path.join(self.path, "clean")
        shutil.rmtree(self.clean_dir, ignore_errors=True)
        opts = dict(self.opts, data_dir=self.clean_dir)
        self._fill_sessions(expired, opts)
        old = time.time() - 2 * EXPIRE
        for root, _dirs, files in os.walk(self.clean_dir):
            for f in files:
                os.utime(os.path.join(root, f), (old, old))
        self._fill_sessions(live, opts)

    def clean(self):  # find DIR -type f -mmin +60 -delete
        cutoff, n = time.time() - EXPIRE, 0
        for root, _dirs, files in os.walk(self.clean_dir):
            for f in files:
                p = os.path.join(root, f)
                if os.stat(p).st_mtime < cutoff:
                    os.unlink(p)
                    n += p.endswith((".cache", ".dbm"))
        return n


class BeakerFile(BeakerFiles):
    name = "Beaker file"
    kind = "file"


class BeakerDbm(BeakerFiles):
    name = "Beaker dbm"
    kind = "dbm"


class Cachelib(Backend):
    """cachelib as Flask-Session uses it: get/set of the session dict
    (pickled by cachelib) under "session:<id>" with a timeout."""

    def new(self):
        sid, data = new_sid(), {}
        for k, v in SMALL:
            data[k] = v
        self.cache.set("session:" + sid, data, EXPIRE)
        set_cookie(sid)
        return "session=" + sid

    def returning(self, cookie):
        sid = sid_of(cookie)
        data = self.cache.get("session:" + sid)
        data["user"]
        data["counter"] += 1
        self.cache.set("session:" + sid, data, EXPIRE)
        set_cookie(sid)

    def read_only(self, cookie):
        self.cache.get("session:" + sid_of(cookie))["user"]

    def fill(self, live, expired):
        # cachelib reads time() from its module: shift it to write the expired half.
        self.clean_cache = self.make(os.path.join(self.path, "clean"))
        mod = sys.modules[type(self.clean_cache).__module__]
        real = mod.time
        mod.time = lambda: real() - 2 * EXPIRE
        try:
            for i in range(live + expired):
                if i == expired:
                    mod.time = real
                self.clean_cache.set("session:" + new_sid(), dict(SMALL), EXPIRE)
        finally:
            mod.time = real

    def clean(self):
        # cachelib's own expiry pass (what its prune runs when over threshold).
        c = self.clean_cache
        def count():
            return len(c._cache) if hasattr(c, "_cache") else sum(1 for _ in c._list_dir())

        before = count()
        c._remove_expired(time.time())
        return before - count()


class CachelibSimple(Cachelib):
    name = "cachelib SimpleCache"

    def make(self, path):
        return cachelib.SimpleCache(threshold=10**8, default_timeout=EXPIRE)

    def __init__(self, path):
        super().__init__(path)
        self.cache = self.make(path)


class CachelibFS(Cachelib):
    name = "cachelib FileSystemCache"
    on_disk = True
    file_per_session = True

    def make(self, path):
        return cachelib.FileSystemCache(path, threshold=0, default_timeout=EXPIRE)

    def __init__(self, path):
        super().__init__(path)
        self.cache = self.make(os.path.join(path, "cycles"))


class PickleKV(Backend):
    """A record = pickle of the session dict with its expiry, one key per id."""

    on_disk = True

    def _record(self, data):
        data["_expires"] = time.time() + EXPIRE
        return pickle.dumps(data, PICKLE)

    @staticmethod
    def _expired(raw, now):
        return pickle.loads(raw)["_expires"] <= now


class SpyceDbm(PickleKV):
    """Spyce's own recipe: one dbm file (here gdbm), key = id, value = pickle."""

    name = "dbm + pickle (Spyce)"

    def __init__(self, path):
        super().__init__(path)
        os.makedirs(path, exist_ok=True)
        self.db = dbm.open(os.path.join(path, "sessions"), "c")

    def new(self):
        sid, data = new_sid(), {}
        for k, v in SMALL:
            data[k] = v
        self.db[sid] = self._record(data)
        set_cookie(sid)
        return "sid=" + sid

    def returning(self, cookie):
        sid = sid_of(cookie)
        data = pickle.loads(self.db[sid])
        data["user"]
        data["counter"] += 1
        self.db[sid] = self._record(data)
        set_cookie(sid)

    def read_only(self, cookie):
        pickle.loads(self.db[sid_of(cookie)])["user"]

    def fill(self, live, expired):
        self.clean_db = dbm.open(os.path.join(self.path, "clean"), "n")
        for i in range(live + expired):
            d = dict(SMALL, _expires=time.time() + (EXPIRE if i >= expired else -EXPIRE))
            self.clean_db[new_sid()] = pickle.dumps(d, PICKLE)

    def clean(self):  # full scan: unpickle every record
        now, db = time.time(), self.clean_db
        dead = [k for k in db.keys() if self._expired(db[k], now)]
        for k in dead:
            del db[k]
        db.close()
        return len(dead)

    def close(self):
        self.db.close()


class Lmdb(PickleKV):
    """py-lmdb: one write transaction per commit, a read transaction per read."""

    sync = False

    def _open(self, path):
        return lmdb.open(path, map_size=1 << 30, sync=self.sync, metasync=self.sync)

    def __init__(self, path):
        super().__init__(path)
        self.env = self._open(os.path.join(path, "cycles"))

    def new(self):
        sid, data = new_sid(), {}
        for k, v in SMALL:
            data[k] = v
        with self.env.begin(write=True) as txn:
            txn.put(sid.encode(), self._record(data))
        set_cookie(sid)
        return "sid=" + sid

    def returning(self, cookie):
        sid = sid_of(cookie)
        key = sid.encode()
        with self.env.begin(write=True) as txn:
            data = pickle.loads(txn.get(key))
            data["user"]
            data["counter"] += 1
            txn.put(key, self._record(data))
        set_cookie(sid)

    def read_only(self, cookie):
        with self.env.begin() as txn:
            pickle.loads(txn.get(sid_of(cookie).encode()))["user"]

    def fill(self, live, expired):
        self.clean_env = self._open(os.path.join(self.path, "clean"))
        with self.clean_env.begin(write=True) as txn:
            for i in range(live + expired):
                d = dict(SMALL, _expires=time.time() + (EXPIRE if i >= expired else -EXPIRE))
                txn.put(new_sid().encode(), pickle.dumps(d, PICKLE))

    def clean(self):  # full scan in one write transaction: unpickle every record
        now, n = time.time(), 0
        with self.clean_env.begin(write=True) as txn:
            cur = txn.cursor()
            ok = cur.first()
            while ok:
                if self._expired(cur.value(), now):
                    ok = cur.delete() and bool(cur.key())
                    n += 1
                else:
                    ok = cur.next()
        self.clean_env.close()
        return n

    def close(self):
        self.env.close()


class LmdbNosync(Lmdb):
    name = "py-lmdb + pickle nosync"


class LmdbSync(Lmdb):
    name = "py-lmdb + pickle sync"
    durable = True
    sync = True
    same_files_as = LmdbNosync.name


BACKENDS = [
    DictFloor,
    SpyMemory,
    SpyDbmNosync,
    SpyDbmDurable,
    SpyRedis,
    BeakerMemory,
    BeakerFile,
    BeakerDbm,
    CachelibSimple,
    CachelibFS,
    SpyceDbm,
    LmdbNosync,
    LmdbSync,
]


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

    # A store with one file per session takes minutes to fill with 100k files:
    # its clean is timed on clean_n / scale sessions and multiplied by scale.
    scale = cfg.file_scale if cls.file_per_session else 1
    n = cfg.clean_n // scale
    times = []
    for _ in range(1 if cls.file_per_session else cfg.clean_rounds):
        b = cls(os.path.join(data_dir, cls.__name__ + "-clean"))
        b.fill(n - n // 2, n // 2)
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


# -- report


def fmt_us(us):
    return f"{us:,.2f}" if us < 100 else f"{us:,.0f}"


def fmt_ops(us):
    ops = 1e6 / us
    return f"{ops / 1e3:,.0f}k" if ops >= 10_000 else f"{ops:,.0f}"


def table(results):
    lines = [
        "| backend | new µs/op | new ops/s | returning µs/op | returning ops/s "
        "| read-only µs/op | read-only ops/s | clean ms | bytes/session |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for name, r in results.items():
        if r["bytes"] is not None:
            by = f"{r['bytes']:,.0f}"
        elif r["same_files_as"]:
            by = f"= {r['same_files_as'].split()[-1]}"
        else:
            by = "in memory"
        cells = [name]
        for c in ("new", "returning", "read_only"):
            cells += [fmt_us(r[c]), fmt_ops(r[c])]
        cells += [f"{r['clean_ms']:,.1f}" + (" †" if r["clean_scaled"] > 1 else ""), by]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def targets(results):
    R = results
    mem, floor, simple = R[SpyMemory.name], R[DictFloor.name], R[CachelibSimple.name]
    dbm_ns, lmdb_ns = R[SpyDbmNosync.name], R[LmdbNosync.name]
    dbm_d, lmdb_s = R[SpyDbmDurable.name], R[LmdbSync.name]
    checks = [
        ("MemoryStore returning ≤ 2.5× dict floor", mem["returning"] / floor["returning"], "×", "≤", 2.5),
        ("MemoryStore returning ≥ 3× faster than cachelib SimpleCache",
         simple["returning"] / mem["returning"], "× faster", "≥", 3.0),
        ("DbmStore nosync returning faster than py-lmdb nosync",
         lmdb_ns["returning"] / dbm_ns["returning"], "× faster", ">", 1.0),
        ("DbmStore nosync read-only no slower than py-lmdb nosync",
         dbm_ns["read_only"] / lmdb_ns["read_only"], "× its time", "≤", 1.0),
        ("DbmStore nosync clean ≤ ½ py-lmdb nosync full scan",
         dbm_ns["clean_ms"] / lmdb_ns["clean_ms"], "× its time", "≤", 0.5),
        ("DbmStore durable clean ≤ ½ py-lmdb sync full scan",
         dbm_d["clean_ms"] / lmdb_s["clean_ms"], "× its time", "≤", 0.5),
        ("DbmStore bytes/session ≤ 250", dbm_ns["bytes"], " bytes", "≤", 250),
    ]
    ops = {"≤": float.__le__, "≥": float.__ge__, ">": float.__gt__}
    lines = []
    for what, value, unit, op, bound in checks:
        ok = ops[op](float(value), float(bound))
        shown = f"{value:,.0f}" if unit == " bytes" else f"{value:.2f}"
        lines.append(f"- {'PASS' if ok else 'MISS'}: {what}: {shown}{unit} (target {op} {bound})")
    return "\n".join(lines)


def chart(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(results)
    cycles = [("new", "new"), ("returning", "returning"), ("read_only", "read-only")]
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(14, 6.5), gridspec_kw={"width_ratios": [3, 1.4]})
    h = 0.27
    for i, (key, label) in enumerate(cycles):
        ys = [j + (i - 1) * h for j in range(len(names))]
        ax.barh(ys, [results[n][key] for n in names], height=h, label=label)
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("µs per request cycle (log scale, lower is better)")
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=3, frameon=False)
    ax.grid(axis="x", which="both", alpha=0.3)
    ax2.barh(range(len(names)), [results[n]["clean_ms"] for n in names], color="tab:gray")
    ax2.set_yticks(range(len(names)), [""] * len(names))
    ax2.invert_yaxis()
    ax2.set_xscale("log")
    ax2.set_xlabel("ms to clean, half expired (log scale)")
    ax2.grid(axis="x", which="both", alpha=0.3)
    fig.suptitle("spysession from Python beside its peers (one run, same machine)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def versions():
    out = {"Python": f"{platform.python_implementation()} {platform.python_version()}"}
    for pkg in ("spysession", "Beaker", "cachelib", "lmdb", "matplotlib"):
        out[pkg] = metadata.version(pkg)
    try:
        rev = subprocess.run(["git", "-C", HERE, "describe", "--always", "--dirty"],
                             capture_output=True, text=True, check=True).stdout.strip()
        out["spysession"] += f" (built from git {rev})"
    except (OSError, subprocess.CalledProcessError):
        pass
    out["lmdb"] += f" (LMDB {'.'.join(map(str, lmdb.version()))})"
    for name in dbm._names:  # the module dbm.open() picks
        try:
            __import__(name)
            out["dbm"] = name
            break
        except ImportError:
            pass
    return out


def machine():
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}"


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
        for cls in BACKENDS:
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
clean: {cfg.clean_n:,} sessions, half of them expired, median of {cfg.clean_rounds} run(s).
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
- **py-lmdb + pickle**: a write transaction per commit, a read transaction per read; `sync`/`metasync` on or off;
  clean = full scan in one write transaction, unpickling every record.
"""
    with open(cfg.out, "w") as f:
        f.write(report)
    print(f"\nwrote {cfg.out} and {cfg.chart}", file=sys.stderr)


if __name__ == "__main__":
    main()
