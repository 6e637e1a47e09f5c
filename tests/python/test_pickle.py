"""pickle=True: only with a secret_key; pickled values are signed
(HMAC-SHA256 over store key + pickle bytes) and verified before
pickle.loads. A pickle planted by whoever can write to the store (a raw
`store.save`, a C program through sps_session_set_msgpack, a Redis client)
never runs: the record counts as corrupt and the request gets a fresh
session. Each planted pickle would create a marker file when unpickled;
the tests check the file never appears, and one control test shows that a
correctly signed one does run, so the marker would tell."""

from __future__ import annotations

import hashlib
import hmac
import pickle
import socket
import subprocess
import sys
from pathlib import Path

import msgpack
import pytest

import spysession
from conftest import cookie_of
from test_ext_values import C_CLIENT, FORMAT_VERSION, key_of
from test_redis import RedisServer, prefix, redis_server  # noqa: F401 (fixtures)

KEY = "k" * 32
OTHER_KEY = b"o" * 32
SID = "0123456789abcdef0123456789abcdef"


class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y

    def __eq__(self, other):
        return isinstance(other, Point) and (self.x, self.y) == (other.x, other.y)


class Planted:
    """Unpickling this creates the file `path` (what an attacker's
    `os.system` would do, harmlessly)."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def store_key_bytes(session_id: str) -> bytes:
    return hashlib.sha256(bytes.fromhex(session_id)).digest()[:16]


def signed(key: bytes, session_id: str, data: bytes) -> bytes:
    return hmac.new(key, store_key_bytes(session_id) + data, hashlib.sha256).digest() + data


def record(clock, data) -> bytes:
    return msgpack.packb([FORMAT_VERSION, clock.now, clock.now, clock.now + 100, data],
                         use_bin_type=True)


@pytest.fixture
def marker(tmp_path) -> Path:
    return tmp_path / "pickle-ran"


def pickling(store, clock, key=KEY):
    return spysession.SessionManager(store, clock=clock, pickle=True, secret_key=key)


# --- options -------------------------------------------------------------


@pytest.mark.parametrize("options", [
    {"pickle": True},
    {"pickle": True, "secret_key": "short"},
    {"pickle": True, "secret_key": b"x" * 31},
    {"pickle": True, "secret_key": []},
    {"pickle": True, "secret_key": [KEY, "short"]},
    {"pickle": True, "secret_key": 12345},
])
def test_pickle_needs_a_secret_key_of_32_bytes(store, options):
    with pytest.raises(spysession.ConfigError) as info:
        spysession.SessionManager(store, **options)
    assert info.value.option == "secret_key"
    with pytest.raises(spysession.ConfigError):
        spysession.configure(**options)


def test_pickle_is_off_by_default_and_configure_can_turn_it_on(store):
    with pytest.raises(TypeError, match="Point"):
        spysession.SessionManager(store).begin()["p"] = Point(1, 2)
    spysession.configure(pickle=True, secret_key=KEY)
    s = spysession.SessionManager(store).begin()
    s["p"] = Point(1, 2)
    assert s["p"] == Point(1, 2)


@pytest.mark.parametrize("key", [KEY, KEY.encode(), [KEY, OTHER_KEY], (OTHER_KEY,)])
def test_a_pickled_value_round_trips(store, clock, key):
    m = pickling(store, clock, key)
    s = m.begin()
    s["p"] = [Point(1, 2), {"deep": Point(3, 4)}]
    loaded = m.begin(cookie=cookie_of(s.commit()))
    assert loaded["p"] == [Point(1, 2), {"deep": Point(3, 4)}]


def test_the_stored_pickle_is_signed_over_the_store_key(dbm_path, clock):
    with spysession.DbmStore(dbm_path) as store:
        s = pickling(store, clock).begin()
        s["p"] = Point(1, 2)
        s.commit()
        ext = msgpack.unpackb(store.load(key_of(s.id)))[4]["p"]
    assert ext.code == 1
    tag, data = ext.data[:32], ext.data[32:]
    assert pickle.loads(data) == Point(1, 2)
    assert tag == hmac.new(KEY.encode(), store_key_bytes(s.id) + data, hashlib.sha256).digest()


# --- planted pickles -----------------------------------------------------


def planted_variants(marker: Path) -> dict[str, bytes]:
    evil = pickle.dumps(Planted(marker))
    return {
        "unsigned": evil,
        "zero_tag": bytes(32) + evil,
        "short": evil[:10],
        "signed_with_another_key": signed(OTHER_KEY, SID, evil),
        "signed_for_another_session": signed(KEY.encode(), "f" * 32, evil),
    }


@pytest.mark.parametrize("variant", ["unsigned", "zero_tag", "short", "signed_with_another_key",
                                     "signed_for_another_session"])
@pytest.mark.parametrize("pickle_on", [True, False])
def test_a_planted_pickle_from_a_raw_save_never_runs(store, clock, marker, variant, pickle_on):
    planted = planted_variants(marker)[variant]
    store.save(key_of(SID), record(clock, {"n": 1, "p": msgpack.ExtType(1, planted)}), clock.now + 100)
    m = pickling(store, clock) if pickle_on else spysession.SessionManager(store, clock=clock)
    # The same record with a harmless value loads: only the pickle is refused.
    store.save(key_of("f" * 32), record(clock, {"n": 1}), clock.now + 100)
    assert m.begin(cookie=f"spysession={'f' * 32}")["n"] == 1
    before = store.stats()["corrupt"]
    s = m.begin(cookie=f"spysession={SID}")
    assert not marker.exists()
    assert s.is_new and s.id != SID and "n" not in s
    assert store.stats()["corrupt"] == before + 1


def test_control_a_pickle_signed_with_the_site_key_for_this_session_does_run(store, clock, marker):
    """The marker works: the same planted object, correctly signed, runs."""
    evil = pickle.dumps(Planted(marker))
    store.save(key_of(SID), record(clock, {"p": msgpack.ExtType(1, signed(KEY.encode(), SID, evil))}),
               clock.now + 100)
    s = pickling(store, clock).begin(cookie=f"spysession={SID}")
    assert not s.is_new
    assert marker.exists()
    s["p"].close()


def test_a_signed_pickle_is_not_loaded_by_a_manager_without_pickle(store, clock):
    s = pickling(store, clock).begin()
    s["p"] = Point(1, 2)
    cookie = cookie_of(s.commit())
    before = store.stats()["corrupt"]
    assert spysession.SessionManager(store, clock=clock).begin(cookie=cookie).is_new
    assert store.stats()["corrupt"] == before + 1


def test_a_pickle_nested_in_a_tuple_is_checked_too(store, clock, marker):
    evil = msgpack.ExtType(1, pickle.dumps(Planted(marker)))
    tuple_ext = msgpack.ExtType(2, msgpack.packb(["x", evil], use_bin_type=True))
    store.save(key_of(SID), record(clock, {"t": tuple_ext}), clock.now + 100)
    assert pickling(store, clock).begin(cookie=f"spysession={SID}").is_new
    assert not marker.exists()


def test_a_planted_pickle_from_c_never_runs(dbm_path, clock, marker):
    evil = msgpack.packb(msgpack.ExtType(1, pickle.dumps(Planted(marker))))
    cookie = subprocess.run([sys.executable, str(C_CLIENT), "plant", dbm_path, "p", evil.hex()],
                            capture_output=True, text=True, check=True).stdout.strip()
    with spysession.DbmStore(dbm_path) as store:
        for m in (pickling(store, clock), spysession.SessionManager(store, clock=clock)):
            before = store.stats()["corrupt"]
            s = m.begin(cookie=cookie)
            assert s.is_new and cookie.split("=")[1] != s.id
            assert store.stats()["corrupt"] == before + 1
    assert not marker.exists()


def redis_binary(server: RedisServer, *args: bytes):
    """One command with binary arguments; returns the first reply line."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        out = b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)
        s.sendall(out)
        return s.makefile("rb").readline()


def test_a_planted_pickle_through_redis_never_runs(redis_server, prefix, clock, marker):  # noqa: F811
    with spysession.RedisStore(redis_server.url, prefix=prefix) as store:
        m = pickling(store, clock)
        s = m.begin()
        s["p"] = "harmless"
        cookie = cookie_of(s.commit())
        # The session's hash, beside its bucket's expiry index and the layout marker.
        (hash_key,) = [k for k in redis_server.command("KEYS", prefix + "*")
                       if not k.endswith(":exp") and k != prefix + "layout"]
        # Another client of the same Redis swaps the value for a pickle.
        evil = msgpack.packb(msgpack.ExtType(1, bytes(32) + pickle.dumps(Planted(marker))))
        assert redis_binary(redis_server, b"HSET", hash_key.encode(), b"d:p", evil) == b":0\r\n"
        before = store.stats()["corrupt"]
        fresh = m.begin(cookie=cookie)
        assert fresh.is_new and "p" not in fresh
        assert store.stats()["corrupt"] == before + 1
    assert not marker.exists()


# --- keys follow the id --------------------------------------------------


def test_regenerate_re_signs_under_the_new_id(store, clock):
    m = pickling(store, clock)
    s = m.begin()
    s["read"] = Point(1, 1)
    s["untouched"] = {"deep": [Point(2, 2)]}
    cookie = cookie_of(s.commit())
    loaded = m.begin(cookie=cookie)
    assert loaded["read"] == Point(1, 1)  # one value read, the other never
    loaded.regenerate()
    new_cookie = cookie_of(loaded.commit())
    assert new_cookie != cookie
    again = m.begin(cookie=new_cookie)
    assert not again.is_new
    assert again["read"] == Point(1, 1) and again["untouched"] == {"deep": [Point(2, 2)]}
    assert store.stats()["corrupt"] == 0


def test_regenerate_of_a_new_session_and_after_invalidate(store, clock):
    m = pickling(store, clock)
    s = m.begin()
    s["p"] = Point(1, 2)
    s.regenerate()
    cookie = cookie_of(s.commit())
    s2 = m.begin(cookie=cookie)
    assert s2["p"] == Point(1, 2)
    s2.invalidate()
    s2["q"] = Point(3, 4)
    after = m.begin(cookie=cookie_of(s2.commit()))
    assert after["q"] == Point(3, 4) and "p" not in after
    assert store.stats()["corrupt"] == 0


def test_keys_rotate_first_signs_every_one_verifies(dbm_path, clock):
    old, new = b"O" * 32, b"N" * 32
    with spysession.DbmStore(dbm_path) as store:
        s = pickling(store, clock, old).begin()
        s["p"] = Point(1, 2)
        cookie = cookie_of(s.commit())
        rotated = pickling(store, clock, [new, old])
        s = rotated.begin(cookie=cookie)
        assert s["p"] == Point(1, 2)
        # A commit that rewrites the value signs it with the first key.
        s["p"].x = 5
        s.commit()
        ext = msgpack.unpackb(store.load(key_of(s.id)))[4]["p"]
        assert ext.data == signed(new, s.id, ext.data[32:])
        assert pickling(store, clock, new).begin(cookie=cookie)["p"] == Point(5, 2)
        # The old key alone no longer verifies it.
        assert pickling(store, clock, old).begin(cookie=cookie).is_new
