"""Stores: raw record methods, stats, close, context managers, DbmStore
errors, and stores written in Python (SessionStore subclasses)."""

from __future__ import annotations

import os

import msgpack
import pytest

import spysession
from conftest import cookie_of

SID = "0123456789abcdef0123456789abcdef"
# Stores keep records by store key; the raw methods take store keys.
KEY = spysession.store_key(SID)


def record(now: float, expires_at: float, data=None) -> bytes:
    return msgpack.packb([2, now, now, expires_at, data or {}], use_bin_type=True)


@pytest.fixture(params=["memory", "dbm"])
def any_store(request, dbm_path):
    if request.param == "memory":
        store = spysession.MemoryStore()
    else:
        store = spysession.DbmStore(dbm_path, map_size=1 << 24, durable=False)
    yield store
    store.close()


def test_raw_methods(any_store):
    assert any_store.load(KEY) is None
    any_store.save(KEY, record(10.0, 20.0, {"a": 1}), 20.0)
    assert msgpack.unpackb(any_store.load(KEY))[4] == {"a": 1}
    assert len(any_store) == 1
    any_store.delete(KEY)
    any_store.delete(KEY)  # absent: no error
    assert any_store.load(KEY) is None and len(any_store) == 0


def test_save_takes_the_expiry_argument(any_store):
    any_store.save(KEY, record(10.0, 20.0), 99.0)
    assert msgpack.unpackb(any_store.load(KEY))[3] == 99.0
    assert any_store.clean(now=50.0) == 0
    assert any_store.clean(now=99.0) == 1


@pytest.mark.parametrize("bad", ["", "x" * 32, KEY.upper(), KEY + "0", "../../etc/passwd"])
def test_malformed_keys_are_value_errors(any_store, bad):
    with pytest.raises(ValueError):
        any_store.load(bad)
    with pytest.raises(ValueError):
        any_store.save(bad, record(1.0, 2.0), 2.0)
    with pytest.raises(ValueError):
        any_store.delete(bad)


def test_bytes_that_are_not_a_record(any_store):
    with pytest.raises(ValueError):
        any_store.save(KEY, b"\xc1garbage", 5.0)


def test_clean_counts_and_removes_only_expired(any_store):
    for i in range(10):
        sid = f"{i:032x}"
        any_store.save(sid, record(0.0, 100.0 + i), 100.0 + i)
    assert any_store.clean(now=104.5) == 5
    assert len(any_store) == 5
    assert any_store.stats()["cleaned"] == 5
    assert any_store.clean() == 5  # now = the current time, long after 110


def test_stats_keys_and_counts(any_store, clock):
    m = spysession.SessionManager(any_store, clock=clock)
    s = m.begin()
    s["a"] = 1
    m.begin(cookie=cookie_of(s.commit()))
    stats = any_store.stats()
    assert set(stats) >= {"loads", "commits", "merges", "dropped", "corrupt", "cleaned", "evicted", "rejected"}
    assert stats["commits"] == 1 and stats["loads"] == 1 and stats["evicted"] == 0


def test_rejected_counts_malformed_and_unknown_ids(any_store, clock):
    m = spysession.SessionManager(any_store, clock=clock)
    assert m.begin(cookie="spysession=../../etc/passwd").is_new
    assert m.begin(cookie="spysession=" + SID).is_new  # unknown, strict
    assert m.begin(cookie="other=1").is_new  # nothing presented
    assert any_store.stats()["rejected"] == 2
    lax = spysession.SessionManager(any_store, clock=clock, strict=False)
    assert lax.begin(cookie="spysession=" + SID).id == SID
    assert any_store.stats()["rejected"] == 2


def test_counters_are_per_store_object(dbm_path):
    a = spysession.DbmStore(dbm_path)
    b = spysession.DbmStore(dbm_path)
    a.save(KEY, record(1.0, 1e12), 1e12)
    b.load(KEY)
    b.load(KEY)
    assert b.stats()["loads"] == 2 and a.stats()["loads"] == 0
    assert a.load(KEY) == b.load(KEY)


def test_closed_store_raises_store_error(any_store):
    m = spysession.SessionManager(any_store)
    any_store.close()
    any_store.close()  # harmless
    assert any_store.closed
    with pytest.raises(spysession.StoreError):
        any_store.load(KEY)
    with pytest.raises(spysession.StoreError):
        len(any_store)
    s = m.begin()
    s["a"] = 1
    with pytest.raises(spysession.StoreError):
        s.commit()
    with pytest.raises(spysession.StoreError):
        m.begin(cookie=f"spysession={SID}")


def test_context_manager_closes(dbm_path):
    with spysession.DbmStore(dbm_path) as store:
        assert not store.closed
    assert store.closed
    with pytest.raises(spysession.StoreError):
        store.clean()


def test_dbm_path_that_is_a_file(tmp_path):
    path = tmp_path / "file"
    path.write_text("not a directory")
    with pytest.raises(spysession.StoreError):
        spysession.DbmStore(str(path))


def test_dbm_path_that_cannot_be_created(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(spysession.StoreError):
        spysession.DbmStore(str(tmp_path / "file" / "sub"))


def test_dbm_creates_the_directory_and_accepts_pathlike(tmp_path):
    path = tmp_path / "a" / "b"
    store = spysession.DbmStore(path)
    assert os.path.isdir(path) and store.path == path


def test_dbm_persists_across_store_objects(dbm_path, clock):
    s = spysession.SessionManager(spysession.DbmStore(dbm_path), clock=clock).begin()
    s["a"] = [1, 2]
    cookie = cookie_of(s.commit())
    again = spysession.SessionManager(spysession.DbmStore(dbm_path), clock=clock)
    assert again.begin(cookie=cookie) == {"a": [1, 2]}


def test_records_of_another_format_are_refused(any_store):
    for version in (1, 3):  # 1: spysession 0.1
        with pytest.raises(ValueError):
            any_store.save(KEY, msgpack.packb([version, 1.0, 1.0, 1e12, {}]), 1e12)
    with pytest.raises(ValueError):
        any_store.save(KEY, msgpack.packb([2, 1.0, 1.0, 1e12, {}]) + b"\x00", 1e12)
    assert any_store.load(KEY) is None


def test_bounded_memory_store_evicts_nearest_expiry(clock):
    store = spysession.MemoryStore(max_sessions=2)
    assert store.max_sessions == 2
    m = spysession.SessionManager(store, expire=100, clock=clock)
    ids = []
    for _ in range(3):
        s = m.begin()
        s["x"] = 1
        s.commit()
        ids.append(s.id)
        clock.advance(1)
    assert len(store) == 2 and store.stats()["evicted"] == 1
    keys = [spysession.store_key(i) for i in ids]
    assert store.load(keys[0]) is None and store.load(keys[2]) is not None


class DictStore(spysession.SessionStore):
    """A store written in Python, as a site would for its own database."""

    def __init__(self):
        self.records = {}
        self.calls = []

    def load(self, key):
        self.calls.append("load")
        entry = self.records.get(key)
        return entry[0] if entry else None

    def save(self, key, record, expires_at):
        self.calls.append("save")
        assert isinstance(record, bytes) and isinstance(expires_at, float)
        self.records[key] = (record, expires_at)

    def delete(self, key):
        self.calls.append("delete")
        self.records.pop(key, None)

    def clean(self, now):
        dead = [key for key, (_, t) in self.records.items() if t <= now]
        for key in dead:
            del self.records[key]
        return len(dead)


def test_custom_store_is_called(clock):
    store = DictStore()
    m = spysession.SessionManager(store, expire=10, clock=clock)
    s = m.begin()
    s["user"] = "ada"
    cookie = cookie_of(s.commit())
    # The store is given the store key, never the id.
    assert list(store.records) == [spysession.store_key(s.id)] and "save" in store.calls
    assert msgpack.unpackb(store.records[spysession.store_key(s.id)][0])[4] == {"user": "ada"}
    assert m.begin(cookie=cookie) == {"user": "ada"}
    clock.advance(10)
    assert m.begin(cookie=cookie).is_new  # expired: never returned
    assert store.clean(clock.now - 1) == 0 and len(store.records) == 1
    assert spysession.clean_store(store) == 1 and store.records == {}
    assert store.stats()["cleaned"] == 1
    s2 = m.begin()
    s2["a"] = 1
    s2.commit()
    s2.invalidate()
    s2.commit()
    assert "delete" in store.calls and store.records == {}
    assert store.stats()["commits"] == 2


def test_a_custom_store_has_no_len_as_python_objects_without_one():
    """A store written in Python keeps no record count: len() is the
    TypeError Python gives any object without a length, not a store error;
    the built-in stores count."""
    with pytest.raises(TypeError, match="object of type 'DictStore' has no len"):
        len(DictStore())
    assert len(spysession.MemoryStore()) == 0


def test_custom_store_exception_is_chained(clock):
    class Broken(DictStore):
        def load(self, sid):
            raise ConnectionError("database down")

    m = spysession.SessionManager(Broken(), clock=clock)
    with pytest.raises(spysession.StoreError) as info:
        m.begin(cookie="spysession=" + SID)
    assert isinstance(info.value.__cause__, ConnectionError)
    assert "database down" in str(info.value.__cause__)
    assert isinstance(info.value, spysession.SessionError)


def test_custom_store_bad_return_is_store_error(clock):
    class Wrong(DictStore):
        def load(self, sid):
            return "not bytes"

    m = spysession.SessionManager(Wrong(), clock=clock)
    with pytest.raises(spysession.StoreError) as info:
        m.begin(cookie="spysession=" + SID)
    assert isinstance(info.value.__cause__, TypeError)


def test_custom_store_missing_method():
    class Half(spysession.SessionStore):
        def load(self, sid):
            return None

    store = Half()
    s = spysession.SessionManager(store).begin()
    s["a"] = 1
    with pytest.raises(spysession.StoreError) as info:
        s.commit()
    assert isinstance(info.value.__cause__, NotImplementedError)


def test_custom_store_damaged_record_gives_fresh_session(clock):
    store = DictStore()
    store.records[KEY] = (b"\xc1\xc1", 1e12)
    s = spysession.SessionManager(store, clock=clock).begin(cookie="spysession=" + SID)
    assert s.is_new and s.id != SID
    assert store.stats()["corrupt"] == 1


def test_custom_store_only_sees_well_formed_ids():
    store = DictStore()
    m = spysession.SessionManager(store)
    for cookie in ["spysession=../x", "spysession=" + "A" * 32, "spysession=" + SID + "00"]:
        assert m.begin(cookie=cookie).is_new
    assert store.calls == []


def test_store_key_is_the_first_half_of_sha256_of_the_raw_id():
    import hashlib

    assert KEY == hashlib.sha256(bytes.fromhex(SID)).hexdigest()[:32]
    assert KEY != SID and len(KEY) == 32
    assert spysession.store_key(KEY) != KEY  # a key is hashed again if given as an id
    for bad in ["", SID.upper(), SID + "0", SID[:31], "g" * 32, "../../etc/passwd"]:
        with pytest.raises(ValueError):
            spysession.store_key(bad)


def test_raw_methods_find_nothing_under_the_id(any_store, clock):
    m = spysession.SessionManager(any_store, clock=clock)
    s = m.begin()
    s["a"] = 1
    s.commit()
    assert any_store.load(s.id) is None  # no lookup by raw id
    assert msgpack.unpackb(any_store.load(spysession.store_key(s.id)))[4] == {"a": 1}


def test_a_dbm_store_of_version_0_1_is_refused(tmp_path):
    """A directory written by spysession 0.1 (records by raw id, no format
    stamp) is refused with a StoreError naming the version."""
    import lmdb  # installed by mk/python.mk

    env = lmdb.open(str(tmp_path), max_dbs=4, map_size=1 << 20)
    records = env.open_db(b"records")
    with env.begin(write=True) as txn:
        txn.put(bytes.fromhex(SID), msgpack.packb([1, 1.0, 1.0, 1e12, {}]), db=records)
    env.close()
    with pytest.raises(spysession.StoreError, match="format version 1"):
        spysession.DbmStore(tmp_path)


def test_store_must_be_a_session_store():
    with pytest.raises(TypeError):
        spysession.SessionManager(object())


def test_a_damaged_dbm_file_is_a_store_error_not_a_fresh_session(tmp_path, clock):
    """LMDB's own corruption report is a StoreError for the request, never
    a fresh session (that would log every user out silently)."""
    store = spysession.DbmStore(tmp_path, map_size=1 << 20, durable=False)
    m = spysession.SessionManager(store, clock=clock)
    s = m.begin()
    s["user"] = 1
    cookie = cookie_of(s.commit())
    key = bytes.fromhex(spysession.store_key(s.id))
    data = (tmp_path / "data.mdb").read_bytes()
    page, at, zeroed = 4096, data.find(key), 0
    with open(tmp_path / "data.mdb", "r+b") as f:
        while at >= 0:
            assert at >= 2 * page  # never a meta page
            f.seek(at // page * page)
            f.write(bytes(page))
            zeroed += 1
            at = data.find(key, at + 1)
    assert zeroed > 0
    with pytest.raises(spysession.StoreError, match="(?i)corrupt|page not found"):
        m.begin(cookie=cookie)
    assert store.stats()["corrupt"] == 0
