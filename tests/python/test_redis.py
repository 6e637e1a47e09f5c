"""RedisStore against real redis-servers that these tests start on free
127.0.0.1 ports (and a unix socket) and stop: the visit counter, two
managers standing in for two web machines, threads merging their changes,
the store methods, options, and a Redis that goes down and comes back."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path
from typing import Optional

import msgpack
import pytest

import spysession
from conftest import cookie_of

SID = "0123456789abcdef0123456789abcdef"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A redis-server without persistence, on `port` or a unix socket."""

    def __init__(self, port: Optional[int] = None, unix: Optional[Path] = None) -> None:
        self.port = free_port() if port is None and unix is None else (port or 0)
        self.unix = unix
        self.process: Optional[subprocess.Popen] = None
        self.url = (f"unix://{unix}" if unix else f"redis://127.0.0.1:{self.port}/0")

    def start(self) -> "RedisServer":
        assert shutil.which("redis-server"), "redis-server is missing (make redis-server-installed)"
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no"]
        if self.unix:
            args += ["--unixsocket", str(self.unix), "--unixsocketperm", "700"]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                if self.command("PING") == "PONG":
                    return self
            except OSError:
                pass
            assert self.process.poll() is None, "redis-server exited at start"
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.02)

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def command(self, *args: str):
        """One command in RESP; returns the decoded reply (str, int, list, None)."""
        family = socket.AF_UNIX if self.unix else socket.AF_INET
        address = str(self.unix) if self.unix else ("127.0.0.1", self.port)
        with socket.socket(family) as s:
            s.settimeout(5)
            s.connect(address)
            out = f"*{len(args)}\r\n".encode()
            for a in args:
                data = a.encode()
                out += b"$%d\r\n%s\r\n" % (len(data), data)
            s.sendall(out)
            return _reply(s.makefile("rb"))


def _reply(f):
    line = f.readline().rstrip(b"\r\n")
    kind, rest = line[:1], line[1:]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise RuntimeError(rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        return None if n < 0 else f.read(n + 2)[:-2].decode("latin-1")
    if kind == b"*":
        return [_reply(f) for _ in range(int(rest))]
    raise AssertionError(f"unexpected reply {line!r}")


@pytest.fixture(scope="module")
def redis_server():
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture
def prefix() -> str:
    """A prefix of its own for each test: tests on one server never meet."""
    return f"t{uuid.uuid4().hex[:12]}:"


@pytest.fixture
def redis_store(redis_server, prefix):
    store = spysession.RedisStore(redis_server.url, prefix)
    yield store
    store.close()


def visit(manager: spysession.SessionManager, cookie: Optional[str]):
    """One request: count, commit; the count seen and the cookie to send next."""
    session = manager.begin(cookie=cookie)
    seen = session.get("visited", 0)
    session["visited"] = seen + 1
    headers = session.commit()
    assert session.committed
    return seen, cookie_of(headers)


def test_visit_counter_across_requests(redis_server, redis_store, prefix):
    manager = spysession.SessionManager(redis_store, expire=600)
    seen, cookie = visit(manager, None)
    assert seen == 0
    for expected in (1, 2, 3):
        seen, cookie = visit(manager, cookie)
        assert seen == expected
    assert visit(manager, None)[0] == 0  # another browser
    assert len(redis_store) == 2
    # One Redis hash per session at <prefix>{bb}<store key> (bb: the store
    # key's first byte), whose TTL is the expiry, and its bucket's expiry index.
    sid = cookie.split("=", 1)[1]
    skey = spysession.store_key(sid)
    key = f"{prefix}{{{skey[:2]}}}{skey}"
    assert redis_server.command("EXISTS", prefix + sid) == 0  # never the id
    assert redis_server.command("TYPE", key) == "hash"
    assert 590 <= redis_server.command("TTL", key) <= 600
    index = f"{prefix}{{{skey[:2]}}}:exp"
    expires = float(redis_server.command("HGET", key, "m:expires"))
    # The index's score is a lower bound of the expiry, rewritten when the
    # expiry moves into another 1/64 of the TTL (one Redis call fewer).
    assert expires - 600 / 64 < float(redis_server.command("ZSCORE", index, skey)) <= expires
    assert redis_server.command("GET", f"{prefix}layout") == "2"
    assert msgpack.unpackb(redis_store.load(skey))[4] == {"visited": 4}
    stats = redis_store.stats()
    assert stats["commits"] == 5 and stats["loads"] >= 4


def test_two_machines_share_sessions(redis_server, prefix):
    machine_a = spysession.SessionManager(spysession.RedisStore(redis_server.url, prefix))
    machine_b = spysession.SessionManager(spysession.RedisStore(redis_server.url, prefix))
    cookie = None
    for i, machine in enumerate([machine_a, machine_b] * 3):
        seen, cookie = visit(machine, cookie)
        assert seen == i
    # Logging out on one machine logs out on the other.
    session = machine_a.begin(cookie=cookie)
    session.invalidate()
    session.commit()
    assert machine_b.begin(cookie=cookie).is_new
    # A regenerated id is known to the other machine, the old one is not.
    session = machine_b.begin()
    session["user"] = "ann"
    old_cookie = cookie_of(session.commit())
    session = machine_a.begin(cookie=old_cookie)
    session.regenerate()
    new_cookie = cookie_of(session.commit())
    assert machine_b.begin(cookie=new_cookie)["user"] == "ann"
    assert machine_b.begin(cookie=old_cookie).is_new


def test_prefixes_keep_sites_apart(redis_server, prefix):
    site = spysession.SessionManager(spysession.RedisStore(redis_server.url, prefix + "a:"))
    other = spysession.SessionManager(spysession.RedisStore(redis_server.url, prefix + "b:"))
    _, cookie = visit(site, None)
    assert other.begin(cookie=cookie).is_new


def test_threads_on_different_keys_merge(redis_server, prefix):
    workers, count = 4, 25
    first = spysession.SessionManager(spysession.RedisStore(redis_server.url, prefix))
    session = first.begin()
    session["start"] = True
    session.commit()
    cookie = f"spysession={session.id}"
    # Each thread is a web machine of its own, with its own store object.
    stores = [spysession.RedisStore(redis_server.url, prefix, pool_size=2) for _ in range(workers)]
    go = threading.Barrier(workers)
    errors = []

    def run(w: int) -> None:
        try:
            manager = spysession.SessionManager(stores[w])
            go.wait(30)
            for i in range(count):
                s = manager.begin(cookie=cookie)
                assert not s.is_new
                s[f"w{w}-{i}"] = i
                s.commit()
                assert s.committed
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(w,)) for w in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
        assert not t.is_alive()
    assert errors == []
    want = {"start": True}
    want.update({f"w{w}-{i}": i for w in range(workers) for i in range(count)})
    assert first.begin(cookie=cookie) == want
    assert sum(s.stats()["commits"] for s in stores) == workers * count


def test_store_methods(redis_store):
    record = msgpack.packb([2, 10.0, 10.0, 20.0, {"a": 1}], use_bin_type=True)
    assert redis_store.load(SID) is None
    redis_store.save(SID, record, 99.0)
    stored = msgpack.unpackb(redis_store.load(SID))
    assert stored[3] == 99.0 and stored[4] == {"a": 1}
    assert len(redis_store) == 1
    assert redis_store.clean(now=50.0) == 0
    assert redis_store.clean(now=99.0) == 1  # the stored expiry decides, whatever the TTL
    assert len(redis_store) == 0 and redis_store.stats()["cleaned"] == 1
    redis_store.save(SID, record, 99.0)
    redis_store.delete(SID)
    redis_store.delete(SID)  # absent: no error
    assert redis_store.load(SID) is None
    assert redis_store.clean() == 0
    redis_store.ping()
    with pytest.raises(ValueError):
        redis_store.load("not-an-id")
    with pytest.raises(ValueError):
        redis_store.save(SID, b"\xc1garbage", 5.0)
    assert set(redis_store.stats()) >= {
        "loads", "commits", "merges", "dropped", "corrupt", "cleaned", "evicted"}


def test_close_and_context_manager(redis_server, prefix):
    with spysession.RedisStore(redis_server.url, prefix) as store:
        assert not store.closed
        manager = spysession.SessionManager(store)
        _, cookie = visit(manager, None)
    assert store.closed
    for call in (lambda: len(store), lambda: store.load(SID), store.ping, store.clean,
                 lambda: manager.begin(cookie=cookie)):
        with pytest.raises(spysession.StoreError):
            call()
    store.close()  # twice is harmless


def test_configured_store_and_clean_store(redis_server, prefix, clock):
    store = spysession.RedisStore(redis_server.url, prefix)
    spysession.configure(session_store=store, session_expire=60, clock=clock)
    visit(spysession.SessionManager(), None)
    assert spysession.clean_store() == 0
    clock.advance(60)
    assert spysession.clean_store() == 1
    assert len(store) == 0


def test_options_and_repr(redis_server):
    store = spysession.RedisStore(redis_server.url)
    assert store.prefix == "spysession:" and store.url == redis_server.url
    assert repr(store) == f'RedisStore("{redis_server.url}", prefix="spysession:")'  # as DbmStore
    secret = spysession.RedisStore("redis://ann:s3cret@127.0.0.1:1/0", "x:")
    assert "s3cret" not in repr(secret) and "ann" not in repr(secret)
    assert repr(secret) == 'RedisStore("redis://***@127.0.0.1:1/0", prefix="x:")'
    assert isinstance(store, spysession.SessionStore)


@pytest.mark.parametrize("url", ["", "localhost:6379", "http://127.0.0.1/",
                                 "redis+sentinel://127.0.0.1:1", "redis+cluster://127.0.0.1"])
def test_bad_url_is_config_error(url):
    with pytest.raises(spysession.ConfigError) as info:
        spysession.RedisStore(url)
    assert info.value.option == "url"


@pytest.mark.parametrize("option, value", [
    ("connect_timeout", 0.0), ("connect_timeout", -1.0), ("connect_timeout", float("nan")),
    ("command_timeout", 0.0), ("command_timeout", float("inf")), ("pool_size", 0),
])
def test_bad_options_are_config_errors(option, value):
    with pytest.raises(spysession.ConfigError) as info:
        spysession.RedisStore("redis://127.0.0.1:1/0", **{option: value})
    assert info.value.option == option


def test_unix_socket(tmp_path, prefix):
    server = RedisServer(unix=tmp_path / "redis.sock").start()
    try:
        manager = spysession.SessionManager(spysession.RedisStore(server.url, prefix))
        _, cookie = visit(manager, None)
        assert visit(manager, cookie)[0] == 1
    finally:
        server.stop()


def fails_quickly(call, bound: float) -> None:
    start = time.monotonic()
    with pytest.raises(spysession.StoreError):
        call()
    took = time.monotonic() - start
    assert took < bound, f"took {took:.2f} s"


def test_down_then_back_up(prefix):
    server = RedisServer().start()
    try:
        store = spysession.RedisStore(server.url, prefix, connect_timeout=0.3,
                                      command_timeout=0.3)
        manager = spysession.SessionManager(store)
        _, cookie = visit(manager, None)
        assert visit(manager, cookie)[0] == 1

        server.stop()
        fails_quickly(lambda: manager.begin(cookie=cookie), 1.5)
        fails_quickly(lambda: visit(manager, None), 1.5)  # the commit needs Redis
        fails_quickly(lambda: len(store), 1.5)
        fails_quickly(store.ping, 1.5)

        server.start()  # same port, no persistence: the old session is gone
        store.ping()
        seen, cookie = visit(manager, cookie)
        assert seen == 0
        assert visit(manager, cookie)[0] == 1
    finally:
        server.stop()


def test_hung_redis_is_store_error_within_the_timeouts(prefix):
    # A socket that accepts connections (the kernel does) but never answers.
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(64)
        url = f"redis://127.0.0.1:{hung.getsockname()[1]}/0"
        store = spysession.RedisStore(url, prefix, connect_timeout=0.2, command_timeout=0.2)
        fails_quickly(lambda: spysession.SessionManager(store).begin(cookie=f"spysession={SID}"),
                      2.0)
        fails_quickly(store.ping, 2.0)


def test_nothing_listening_is_store_error_quickly(prefix):
    store = spysession.RedisStore(f"redis://127.0.0.1:{free_port()}/0", prefix)
    fails_quickly(lambda: len(store), 1.0)  # refused at once, default timeouts


def make_certificates(d: Path) -> None:
    """A CA and a certificate for 127.0.0.1 signed by it, made with openssl."""
    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", "ca.key", "-out", "ca.crt", "-subj", "/CN=spysession test CA")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key",
            "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    (d / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-out", "server.crt", "-extfile", "ext.cnf")


def test_rediss_with_a_ca_file(tmp_path, prefix):
    """TLS is in every build: rediss:// with a private CA works, and the
    system's roots (which do not know that CA) refuse the server."""
    assert shutil.which("openssl"), "openssl is missing (make redis-server-installed)"
    make_certificates(tmp_path)
    port = free_port()
    unix = tmp_path / "redis.sock"
    process = subprocess.Popen(
        ["redis-server", "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1",
         "--tls-cert-file", str(tmp_path / "server.crt"),
         "--tls-key-file", str(tmp_path / "server.key"),
         "--tls-ca-cert-file", str(tmp_path / "ca.crt"), "--tls-auth-clients", "no",
         "--unixsocket", str(unix), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        plain = RedisServer(unix=unix)
        deadline = time.monotonic() + 10
        while True:
            try:
                if plain.command("PING") == "PONG":
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the TLS redis-server did not start"
            time.sleep(0.02)
        url = f"rediss://127.0.0.1:{port}/0"
        store = spysession.RedisStore(url, prefix, tls_ca_file=tmp_path / "ca.crt")
        manager = spysession.SessionManager(store)
        _, cookie = visit(manager, None)
        assert visit(manager, cookie)[0] == 1
        assert len(store) == 1
        untrusted = spysession.RedisStore(url, prefix, connect_timeout=1.0)
        with pytest.raises(spysession.StoreError):
            untrusted.ping()
        with pytest.raises(spysession.ConfigError) as info:
            spysession.RedisStore(url, prefix, tls_ca_file=tmp_path / "missing.crt")
        assert info.value.option == "tls_ca_file"
    finally:
        process.kill()
        process.wait()
