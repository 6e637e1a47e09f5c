"""Python's common types beyond the native ones (tuple, set, frozenset,
datetime, date, time, timedelta, UUID, Decimal, big ints) as spysession's
own MessagePack ext values: exact round trips through MemoryStore and
DbmStore, the documented bytes (docs/format.md) built here independently
with struct, what C reads, and malformed ones planted in a store giving a
fresh session and a `corrupt` count, never an error or a crash."""

from __future__ import annotations

import datetime as dt
import decimal
import struct
import subprocess
import sys
import uuid
from pathlib import Path

import msgpack
import pytest

import spysession
from conftest import cookie_of

D = decimal.Decimal
PLUS_0530 = dt.timezone(dt.timedelta(hours=5, minutes=30))
ODD = dt.timezone(-dt.timedelta(hours=3, seconds=7, microseconds=9))
C_CLIENT = Path(__file__).with_name("c_client.py")

VALUES = {
    "tuple": (1, "a", [2, (3,)], {"k": (4, None)}),
    "empty_tuple": (),
    "set": {1, "a", (2, 3), frozenset({4}), b"x", dt.date(2020, 1, 1)},
    "frozenset": frozenset({1.5, (None,)}),
    "empty_set": set(),
    "datetime": dt.datetime(2024, 2, 29, 13, 5, 9, 123456),
    "datetime_fold": dt.datetime(2021, 11, 7, 1, 30, fold=1),
    "datetime_utc": dt.datetime(1, 1, 1, tzinfo=dt.timezone.utc),
    "datetime_aware": dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=PLUS_0530),
    "datetime_odd_offset": dt.datetime(2000, 1, 1, tzinfo=ODD),
    "date": dt.date(2024, 2, 29),
    "date_min": dt.date.min,
    "date_max": dt.date.max,
    "time": dt.time(23, 59, 59, 999999),
    "time_aware": dt.time(1, 2, 3, tzinfo=ODD),
    "timedelta": dt.timedelta(days=-1, microseconds=1),
    "timedelta_max": dt.timedelta.max,
    "timedelta_min": dt.timedelta.min,
    "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "decimal": D("1.10"),
    "decimal_negative_zero": D("-0.00"),
    "decimal_long": D("-123456789012345678901234567890.5E+300"),
    "decimal_tiny": D("1E-999999999999999999"),
    "decimal_infinity": D("-Infinity"),
    "decimal_nan": D("NaN123"),
    "decimal_snan": D("-sNaN"),
    "int_2_64": 2**64,
    "int_below_i64": -(2**63) - 1,
    "int_minus_2_64": -(2**64),
    "int_huge": 3**200,
    "int_huge_negative": -(3**200),
    "in_a_list": [dt.date(2020, 1, 1), {"s": {1}}, D("2.5")],
}


def same(a, b) -> bool:
    """Equal, of the same type all the way down, with offsets, fold and
    Decimal digits compared too (NaN != NaN, so Decimals by their parts)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, D):
        return a.as_tuple() == b.as_tuple()
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (dt.datetime, dt.time)):
        return a == b and a.utcoffset() == b.utcoffset() and a.fold == b.fold
    return a == b


def key_of(session_id: str) -> str:
    """What the raw store methods take for a session: its store key."""
    return spysession.store_key(session_id)


# The record format version this build writes and reads (core's FORMAT_VERSION).
FORMAT_VERSION = 2


@pytest.fixture(params=["memory", "dbm"])
def any_store(request, tmp_path):
    if request.param == "memory":
        yield spysession.MemoryStore()
    else:
        with spysession.DbmStore(str(tmp_path / "sessions")) as store:
            yield store


@pytest.mark.parametrize("name", sorted(VALUES))
def test_round_trips_exactly(any_store, clock, name):
    m = spysession.SessionManager(any_store, clock=clock)
    s = m.begin()
    s["v"] = VALUES[name]
    cookie = cookie_of(s.commit())
    loaded = m.begin(cookie=cookie)
    assert not loaded.is_new
    assert same(loaded["v"], VALUES[name]), (loaded["v"], VALUES[name])
    # Read back and unchanged, it is not rewritten (one encoding per value,
    # sets sorted): the session reports nothing to commit.
    assert not loaded.modified


def test_all_at_once_and_changed_in_place(manager):
    s = manager.begin()
    s.update(VALUES)
    cookie = cookie_of(s.commit())
    loaded = manager.begin(cookie=cookie)
    assert all(same(loaded[k], v) for k, v in VALUES.items())
    loaded["set"].add("new")
    loaded["tuple"][2].append("in place")
    assert loaded.modified
    loaded.commit()
    again = manager.begin(cookie=cookie)
    assert "new" in again["set"] and again["tuple"][2][-1] == "in place"


def ext(code: int, data: bytes) -> msgpack.ExtType:
    return msgpack.ExtType(code, data)


def naive_time(h, m, s, us, fold=0) -> bytes:
    return struct.pack(">BBBIB", h, m, s, us, fold)


def aware_time(h, m, s, us, offset_us, fold=0) -> bytes:
    return struct.pack(">BBBIBq", h, m, s, us, fold | 2, offset_us)


# (value, the ext it is stored as), each built from the layout in docs/format.md.
LAYOUTS = [
    ((1, "a"), ext(2, msgpack.packb([1, "a"]))),
    ({"b", 2, 1}, ext(3, msgpack.packb([1, 2, "b"]))),  # sorted by their bytes
    (frozenset({True}), ext(4, msgpack.packb([True]))),
    (dt.datetime(2024, 2, 29, 13, 5, 9, 123456, tzinfo=dt.timezone(dt.timedelta(hours=1))),
     ext(5, struct.pack(">HBB", 2024, 2, 29) + aware_time(13, 5, 9, 123456, 3_600_000_000))),
    (dt.datetime(2021, 11, 7, 1, 30, fold=1),
     ext(5, struct.pack(">HBB", 2021, 11, 7) + naive_time(1, 30, 0, 0, fold=1))),
    (dt.date(1999, 12, 31), ext(6, struct.pack(">HBB", 1999, 12, 31))),
    (dt.time(1, 2, 3, 4, tzinfo=ODD), ext(7, aware_time(1, 2, 3, 4, -(3 * 3600 + 7) * 10**6 - 9))),
    (dt.timedelta(days=-1, seconds=86399, microseconds=1), ext(8, struct.pack(">iII", -1, 86399, 1))),
    (uuid.UUID(int=0x0102030405060708090A0B0C0D0E0F10), ext(9, bytes(range(1, 17)))),
    (D("-1.50"), ext(10, struct.pack(">BBq", 1, 0, -2) + b"150")),
    (D("Infinity"), ext(10, struct.pack(">BBq", 0, 1, 0))),
    (D("-sNaN7"), ext(10, struct.pack(">BBq", 1, 3, 0) + b"7")),
    (D("NaN"), ext(10, struct.pack(">BBq", 0, 2, 0))),
    (2**64, ext(11, b"\x01" + bytes(8))),
    (-(2**64), ext(11, b"\xff" + bytes(8))),
    (-(2**63) - 1, ext(11, b"\xff\x7f" + b"\xff" * 7)),
]


@pytest.mark.parametrize("value,stored", LAYOUTS, ids=lambda v: type(v).__name__)
def test_stored_bytes_are_the_documented_layout(dbm_path, clock, value, stored):
    with spysession.DbmStore(dbm_path) as store:
        s = spysession.SessionManager(store, clock=clock).begin()
        s["v"] = value
        s.commit()
        record = msgpack.unpackb(store.load(key_of(s.id)), raw=False)
    assert record[4]["v"] == stored


def test_c_reads_what_python_wrote_as_the_documented_messagepack(dbm_path, clock):
    with spysession.DbmStore(dbm_path) as store:
        s = spysession.SessionManager(store).begin()
        for i, (value, _) in enumerate(LAYOUTS):
            s[f"v{i}"] = value
        cookie = cookie_of(s.commit())
        s.clear()
    for i, (_, stored) in enumerate(LAYOUTS):
        out = subprocess.run([sys.executable, str(C_CLIENT), "get", dbm_path, cookie, f"v{i}"],
                             capture_output=True, text=True, check=True).stdout.strip()
        assert bytes.fromhex(out) == msgpack.packb(stored), i


def test_a_value_c_wrote_as_the_layout_reads_as_the_python_type(dbm_path):
    value = dt.datetime(2024, 2, 29, 13, 5, 9, 123456, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    stored = msgpack.packb(ext(2, msgpack.packb([ext(5, struct.pack(">HBB", 2024, 2, 29)
                                                         + aware_time(13, 5, 9, 123456, 3_600_000_000)),
                                                 ext(11, b"\x01" + bytes(8))])))
    cookie = subprocess.run([sys.executable, str(C_CLIENT), "plant", dbm_path, "v", stored.hex()],
                            capture_output=True, text=True, check=True).stdout.strip()
    with spysession.DbmStore(dbm_path) as store:
        s = spysession.SessionManager(store).begin(cookie=cookie)
        assert not s.is_new
        assert same(s["v"], (value, 2**64))


SID = "0123456789abcdef0123456789abcdef"
OTHER_SID = "fedcba9876543210fedcba9876543210"

MALFORMED = {
    "month_13": ext(6, struct.pack(">HBB", 2024, 13, 1)),
    "february_30": ext(5, struct.pack(">HBB", 2024, 2, 30) + naive_time(0, 0, 0, 0)),
    "offset_of_a_day": ext(7, aware_time(0, 0, 0, 0, 86_400_000_000)),
    "unknown_flags": ext(7, struct.pack(">BBBIB", 0, 0, 0, 0, 0x80)),
    "short_uuid": ext(9, b"\x00" * 15),
    "tuple_not_an_array": ext(2, msgpack.packb({"a": 1})),
    "tuple_of_garbage": ext(2, b"\xc1"),
    "unhashable_in_a_set": ext(3, msgpack.packb([[1, 2]])),
    "bigint_not_minimal": ext(11, b"\x00\x00" + b"\x01" * 8),
    "bigint_that_fits": ext(11, b"\x05"),
    "decimal_letters": ext(10, struct.pack(">BBq", 0, 0, 0) + b"12a"),
    "decimal_no_digits": ext(10, struct.pack(">BBq", 0, 0, 0)),
    "deep_in_a_list": [[ext(8, b"\x00")]],
}


def deep_tuples(levels: int) -> msgpack.ExtType:
    value = msgpack.packb([])
    for _ in range(levels):
        value = msgpack.packb(ext(2, value))
    return msgpack.unpackb(value)


MALFORMED["nested_past_the_limit"] = deep_tuples(5000)


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_a_malformed_ext_in_the_store_is_a_corrupt_record(any_store, clock, name):
    data = {"ok": 1, "bad": MALFORMED[name]}
    raw = msgpack.packb([FORMAT_VERSION, clock.now, clock.now, clock.now + 100, data],
                       use_bin_type=True)
    any_store.save(key_of(SID), raw, clock.now + 100)
    before = any_store.stats()["corrupt"]
    # The same record without the bad value loads: what makes it corrupt
    # is the value, nothing else about the record.
    good = msgpack.packb([FORMAT_VERSION, clock.now, clock.now, clock.now + 100, {"ok": 1}])
    any_store.save(key_of(OTHER_SID), good, clock.now + 100)
    m = spysession.SessionManager(any_store, clock=clock)
    assert m.begin(cookie=f"spysession={OTHER_SID}")["ok"] == 1
    s = m.begin(cookie=f"spysession={SID}")
    assert s.is_new and s.id != SID and len(s) == 0
    assert any_store.stats()["corrupt"] == before + 1
    # The store is still usable, and the damaged record was left for clean().
    s["n"] = 1
    assert s.commit()
    assert msgpack.unpackb(any_store.load(key_of(SID))) == msgpack.unpackb(raw)


def test_reserved_ext_codes_cannot_be_made_by_hand():
    for code in (1, 2, 11, 31):
        with pytest.raises(ValueError, match="reserved"):
            spysession.Ext(code, b"")
    assert spysession.Ext(32, b"x").code == 32 and spysession.Ext(-1, b"").code == -1


def test_subclasses_are_not_taken_as_their_base(store):
    class Stamp(dt.datetime):
        pass

    class Pair(tuple):
        pass

    s = spysession.SessionManager(store).begin()
    for value in (Stamp(2024, 1, 1), Pair((1, 2)), D.__new__(type("MyDecimal", (D,), {}), "1")):
        with pytest.raises(TypeError, match=type(value).__name__):
            s["v"] = value
