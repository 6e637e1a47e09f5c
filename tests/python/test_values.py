"""Values: native types stored natively (what C reads), Python's other
common types as spysession's own ext values (test_ext_values.py), the rest
refused at once unless pickle=True (test_pickle.py); the raw record is plain
MessagePack."""

from __future__ import annotations

import datetime
import decimal
from collections import OrderedDict

import msgpack
import pytest

import spysession
from conftest import cookie_of

NATIVE = {
    "none": None, "true": True, "false": False, "int": -5, "big": 2**63 + 1,
    "float": 1.5, "str": "héllo", "bytes": b"\x00\xff", "list": [1, "a", [2.5]],
    "dict": {"k": {"n": None}},
}


class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y

    def __eq__(self, other):
        return isinstance(other, Point) and (self.x, self.y) == (other.x, other.y)


def round_trip(manager, value):
    s = manager.begin()
    s["v"] = value
    return manager.begin(cookie=cookie_of(s.commit()))["v"]


@pytest.mark.parametrize("key", sorted(NATIVE))
def test_native_values_round_trip(manager, key):
    out = round_trip(manager, NATIVE[key])
    assert out == NATIVE[key] and type(out) is type(NATIVE[key])


@pytest.mark.parametrize(
    "value",
    [(1, 2), {1, 2}, frozenset({3}), datetime.datetime(2024, 1, 2, 3, 4, 5),
     decimal.Decimal("1.10"), 2**70, -(2**70)],
    ids=lambda v: type(v).__name__,
)
def test_common_types_come_back_as_themselves_without_pickle(manager, value):
    out = round_trip(manager, value)
    assert out == value and type(out) is type(value)


def test_tuple_inside_a_list(manager):
    out = round_trip(manager, [1, (2, 3)])
    assert out == [1, (2, 3)] and isinstance(out[1], tuple)


@pytest.mark.parametrize("value", [Point(0, 0), [1, (2, Point(0, 0))], {"k": {3: 4}}, {1: 2},
                                   OrderedDict(a=1), {("x", 1 + 2j)}, 1j])
def test_pickle_false_refuses_at_once(store, value):
    m = spysession.SessionManager(store)  # pickle=False is the default
    s = m.begin()
    with pytest.raises(TypeError) as info:
        s["v"] = value
    assert "pickle=False" in str(info.value)
    assert "v" not in s


def test_pickle_false_names_the_type(store):
    s = spysession.SessionManager(store, pickle=False).begin()
    with pytest.raises(TypeError, match="OrderedDict"):
        s["v"] = OrderedDict()
    with pytest.raises(TypeError, match="Point"):
        s["v"] = Point(1, 2)


def test_pickle_false_catches_in_place_change_at_commit(store):
    s = spysession.SessionManager(store, pickle=False).begin()
    s["v"] = []
    s["v"].append(Point(1, 2))
    with pytest.raises(TypeError):
        s.commit()


def test_record_is_messagepack_that_c_can_read(dbm_path, clock):
    with spysession.DbmStore(dbm_path) as store:
        m = spysession.SessionManager(store, expire=60, clock=clock)
        s = m.begin()
        s.update(NATIVE)
        s["tuple"] = (1, 2)
        s.commit()
        raw = store.load(spysession.store_key(s.id))
    version, created, accessed, expires_at, data = msgpack.unpackb(raw, raw=False, strict_map_key=False)
    assert version == 2
    assert created == accessed == clock.now and expires_at == clock.now + 60
    native = {k: v for k, v in data.items() if k != "tuple"}
    # msgpack gives lists for arrays, like C would see them.
    assert native == NATIVE
    # A tuple is spysession's ext 2 holding a MessagePack array: no pickle.
    assert data["tuple"] == msgpack.ExtType(2, msgpack.packb([1, 2]))


def test_messagepack_written_outside_is_read(dbm_path, clock):
    """A record made by another program (as C would) reads back natively."""
    sid = "0123456789abcdef0123456789abcdef"
    data = {"n": 7, "s": "x", "b": b"\x01", "l": [1.5, None], "e": msgpack.ExtType(42, b"zz")}
    raw = msgpack.packb([2, clock.now, clock.now, clock.now + 100, data], use_bin_type=True)
    with spysession.DbmStore(dbm_path) as store:
        store.save(spysession.store_key(sid), raw, clock.now + 100)
        s = spysession.SessionManager(store, clock=clock).begin(cookie=f"spysession={sid}")
        assert not s.is_new
        assert s["n"] == 7 and s["s"] == "x" and s["b"] == b"\x01" and s["l"] == [1.5, None]
        assert s["e"] == spysession.Ext(42, b"zz") and s["e"].code == 42 and s["e"].data == b"zz"
        s["n"] = 8
        s.commit()
        out = msgpack.unpackb(store.load(spysession.store_key(sid)), raw=False)[4]
        assert out["e"] == msgpack.ExtType(42, b"zz") and out["n"] == 8


def test_too_deep_nesting_is_refused(manager):
    s = manager.begin()
    value = []
    for _ in range(500):
        value = [value]
    with pytest.raises(ValueError):
        s["deep"] = value
