"""The backends of the Python benchmark: spysession's stores and the peers
Python sites use, one small class each with the same methods (new,
returning, read_only, fill, clean), driven the way their users drive them.
Used by python_stores.py."""

from __future__ import annotations

import dbm
import os
import pickle
import secrets
import shutil
import sys
import tempfile
import time
from base64 import b64decode, b64encode

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


def _free_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _redis_cli(*args):
    import subprocess

    return subprocess.run(["redis-cli", *args], check=True, capture_output=True, text=True).stdout


def _wait(what, check, limit=60.0):
    deadline = time.time() + limit
    while not check():
        if time.time() > deadline:
            raise RuntimeError(f"{what}: not within {limit:.0f} s")
        time.sleep(0.05)


def _start_redis(*args, cwd=None):
    """A redis-server on a free loopback port (no persistence), killed at exit."""
    import atexit
    import subprocess

    port = _free_port()
    # Its own directory: a replica writes the RDB of its first sync there.
    cwd = cwd or tempfile.mkdtemp(prefix="bench-redis-")
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", cwd, *args],
        stdout=subprocess.DEVNULL, cwd=cwd,
    )
    atexit.register(proc.kill)

    def answers():
        try:
            return _redis_cli("-p", str(port), "PING").strip() == "PONG"
        except Exception:
            return False

    _wait(f"redis-server on {port}", answers, 10)
    return port


class SentinelServers:
    """A primary, one replica and one Sentinel on loopback, for the whole run."""

    url = None

    @classmethod
    def get_url(cls):
        if cls.url is None:
            import atexit
            import subprocess

            primary = _start_redis()
            replica = _start_redis("--replicaof", "127.0.0.1", str(primary))
            _wait("the replica's sync",
                  lambda: "master_link_status:up" in _redis_cli("-p", str(replica), "INFO", "replication"))
            port = _free_port()
            conf_dir = tempfile.mkdtemp(prefix="bench-sentinel-")
            conf = os.path.join(conf_dir, "sentinel.conf")
            with open(conf, "w") as f:
                f.write(f"port {port}\nbind 127.0.0.1\ndir {conf_dir}\n"
                        f"sentinel monitor mymaster 127.0.0.1 {primary} 1\n"
                        "sentinel down-after-milliseconds mymaster 1000\n")
            proc = subprocess.Popen(["redis-server", conf, "--sentinel"], stdout=subprocess.DEVNULL)
            atexit.register(proc.kill)
            cls.url = f"redis+sentinel://127.0.0.1:{port}/mymaster"
            _wait("the sentinel", lambda: _ping(cls.url))
        return cls.url


class ClusterServers:
    """A Redis Cluster of three primaries with a replica each, on loopback."""

    url = None

    @classmethod
    def get_url(cls):
        if cls.url is None:
            ports = []
            for _ in range(6):
                d = tempfile.mkdtemp(prefix="bench-cluster-")
                ports.append(_start_redis("--cluster-enabled", "yes", "--cluster-port", str(_free_port()),
                                          "--cluster-config-file", os.path.join(d, "nodes.conf"), cwd=d))
            _redis_cli("--cluster", "create", *[f"127.0.0.1:{p}" for p in ports],
                       "--cluster-replicas", "1", "--cluster-yes")
            _wait("cluster_state:ok",
                  lambda: all("cluster_state:ok" in _redis_cli("-p", str(p), "CLUSTER", "INFO") for p in ports))
            cls.url = "redis+cluster://" + ",".join(f"127.0.0.1:{p}" for p in ports)
            _wait("the cluster", lambda: _ping(cls.url))
        return cls.url


def _ping(url):
    try:
        spysession.RedisStore(url).ping()
        return True
    except spysession.StoreError:
        return False


class SpyRedisSentinel(Spysession):
    """RedisStore through Sentinel (primary + replica + one Sentinel on
    loopback): the same commands as SpyRedis, to the primary it names."""

    name = "spysession RedisStore Sentinel"

    def make_store(self, path, durable):
        return spysession.RedisStore(SentinelServers.get_url(), prefix=f"bench:{os.path.basename(path)}:")


class SpyRedisCluster(Spysession):
    """RedisStore on a 3-primary Redis Cluster (with replicas) on loopback:
    each command routed by its bucket's slot."""

    name = "spysession RedisStore Cluster"

    def make_store(self, path, durable):
        return spysession.RedisStore(ClusterServers.get_url(), prefix=f"bench:{os.path.basename(path)}:")


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
    SpyRedisSentinel,
    SpyRedisCluster,
    BeakerMemory,
    BeakerFile,
    BeakerDbm,
    CachelibSimple,
    CachelibFS,
    SpyceDbm,
    LmdbNosync,
    LmdbSync,
]
