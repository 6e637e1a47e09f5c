"""Session behaves like a dict with str keys (README: Python)."""

from __future__ import annotations

import collections.abc

import pytest

import spysession
from conftest import cookie_of


def reload(manager, session):
    headers = session.commit()
    cookie = cookie_of(headers) if headers else f"spysession={session.id}"
    return manager.begin(cookie=cookie)


def test_is_a_mutable_mapping(manager):
    s = manager.begin()
    assert isinstance(s, collections.abc.MutableMapping)
    assert isinstance(s, spysession.Session)


def test_dict_operations(manager):
    s = manager.begin()
    with pytest.raises(KeyError):
        s["missing"]
    s["a"] = 1
    s["b"] = "two"
    assert s["a"] == 1 and len(s) == 2 and "a" in s and "z" not in s
    assert s.get("a") == 1 and s.get("z") is None and s.get("z", 5) == 5
    assert s.setdefault("a", 9) == 1
    assert s.setdefault("c", 3) == 3 and s["c"] == 3
    assert s.pop("c") == 3 and "c" not in s
    assert s.pop("c", "dflt") == "dflt"
    with pytest.raises(KeyError):
        s.pop("c")
    del s["b"]
    with pytest.raises(KeyError):
        del s["b"]
    s.update({"x": 1}, y=2)
    s.update([("z", 3)])
    assert s == {"a": 1, "x": 1, "y": 2, "z": 3}
    assert sorted(s) == ["a", "x", "y", "z"]
    assert set(s.keys()) == {"a", "x", "y", "z"}
    assert sorted(s.values()) == [1, 1, 2, 3]
    assert ("y", 2) in s.items()
    key, value = s.popitem()
    assert key not in s and len(s) == 3 and value in (1, 2, 3)
    s.clear()
    assert len(s) == 0 and s == {}
    with pytest.raises(KeyError):
        s.popitem()


def test_update_takes_other_as_a_key_like_dict(manager):
    s = manager.begin()
    d = {}
    s.update(other=5, self=6)
    d.update(other=5, self=6)
    assert s == d == {"other": 5, "self": 6}


def test_equality_and_repr(manager):
    s = manager.begin()
    s.update(a=1, b=[1, 2])
    assert s == {"a": 1, "b": [1, 2]}
    assert s != {"a": 1}
    assert not (s == {"a": 2, "b": [1, 2]})
    assert s == s
    assert (s == 5) is False
    assert repr(s) == "Session({'a': 1, 'b': [1, 2]})"
    with pytest.raises(TypeError):
        hash(s)


def test_keys_must_be_str(manager):
    s = manager.begin()
    for bad in (1, b"a", None, ("t",)):
        with pytest.raises(TypeError):
            s[bad] = 1
        with pytest.raises(TypeError):
            s[bad]
        assert bad not in s
    with pytest.raises(TypeError):
        s.update({1: 2})


def test_properties_of_a_new_session(manager, clock):
    s = manager.begin()
    assert s.is_new and not s.modified and not s.committed
    assert isinstance(s.expires_at, float) and s.expires_at == clock.now + 3600
    assert len(s.id) == 32 and int(s.id, 16) >= 0 and s.id == s.id.lower()
    s["k"] = "v"
    assert s.modified


def test_lazy_creation_sets_no_cookie(manager, store):
    s = manager.begin()
    assert s.commit() == []
    assert s.committed and len(store) == 0


def test_round_trip_through_cookie(manager, store):
    s = manager.begin()
    s["visited"] = 1
    s2 = reload(manager, s)
    assert not s2.is_new and s2.id == s.id and s2 == {"visited": 1}
    assert len(store) == 1


def test_nested_change_in_place_is_saved(manager):
    s = manager.begin()
    s.setdefault("cart", []).append("book")
    s2 = reload(manager, s)
    assert s2["cart"] == ["book"]
    s2["cart"].append("pen")
    s2.setdefault("prefs", {})["lang"] = "fr"
    assert s2["cart"] is s2["cart"]
    assert s2.modified
    s3 = reload(manager, s2)
    assert s3 == {"cart": ["book", "pen"], "prefs": {"lang": "fr"}}


def test_object_set_then_changed_is_saved(manager):
    s = manager.begin()
    items = []
    s["items"] = items
    items.append(1)
    assert reload(manager, s)["items"] == [1]


def test_unchanged_session_writes_nothing(manager, store):
    s = manager.begin()
    s["cart"] = ["a"]
    s2 = reload(manager, s)
    s2["cart"]  # handed out, not changed
    commits = store.stats()["commits"]
    assert s2.commit() == [] and s2.committed
    assert store.stats()["commits"] == commits


def test_regenerate_keeps_data_and_deletes_old_id(manager, store):
    s = manager.begin()
    s["user"] = "ada"
    s.commit()
    old = s.id
    s2 = manager.begin(cookie=f"spysession={old}")
    s2.regenerate()
    assert s2.id != old and s2 == {"user": "ada"}
    headers = s2.commit()
    assert s2.id in headers[0][1]
    assert store.load(spysession.store_key(old)) is None
    assert manager.begin(cookie=f"spysession={old}").is_new
    assert manager.begin(cookie=cookie_of(headers)) == {"user": "ada"}


def test_invalidate_deletes_and_expires_cookie(manager, store):
    s = manager.begin()
    s["user"] = "ada"
    s.commit()
    s2 = manager.begin(cookie=f"spysession={s.id}")
    s2.invalidate()
    assert s2 == {}
    (name, value), = s2.commit()
    assert name == "Set-Cookie" and "Max-Age=0" in value and "Expires=Thu, 01 Jan 1970" in value
    assert store.load(spysession.store_key(s.id)) is None and len(store) == 0


def test_no_resurrection(manager, store):
    s = manager.begin()
    s["a"] = 1
    s.commit()
    stale = manager.begin(cookie=f"spysession={s.id}")
    logout = manager.begin(cookie=f"spysession={s.id}")
    logout.invalidate()
    logout.commit()
    stale["a"] = 2
    assert stale.commit() == []
    assert stale.committed is False
    assert store.load(spysession.store_key(s.id)) is None
    assert store.stats()["dropped"] == 1


def test_concurrent_requests_merge_different_keys(manager, store, clock):
    s = manager.begin()
    s["base"] = 0
    s.commit()
    r1 = manager.begin(cookie=f"spysession={s.id}")
    r2 = manager.begin(cookie=f"spysession={s.id}")
    r1["one"] = 1
    r2["two"] = 2
    clock.advance(1)
    r1.commit()
    r2.commit()
    assert manager.begin(cookie=f"spysession={s.id}") == {"base": 0, "one": 1, "two": 2}
    assert store.stats()["merges"] == 1


def test_url_and_form_field(store):
    m = spysession.SessionManager(store, transport=["get", "post"])
    s = m.begin()
    assert s.url("/page") == f"/page?spysession={s.id}"
    assert s.url("/page?a=1#top") == f"/page?a=1&spysession={s.id}#top"
    assert s.form_field() == f'<input type="hidden" name="spysession" value="{s.id}">'


def test_iteration_is_over_a_snapshot(manager):
    s = manager.begin()
    s.update(a=1, b=2)
    it = iter(s)
    assert next(it) == "a"
    s["c"] = 3
    assert list(it) == ["b"]


def test_persistent_cookie_false_sends_a_browser_session_cookie(manager, clock):
    session = manager.begin()
    assert session.persistent_cookie is True
    session.persistent_cookie = False
    session["k"] = 1
    (name, value), = session.commit()
    assert "Max-Age" not in value and "Expires" not in value, value
    again = manager.begin(cookie=value.split(";")[0])
    assert again["k"] == 1
    clock.advance(3600)
    assert manager.begin(cookie=value.split(";")[0]).is_new, "the server still expires it"
    persistent = manager.begin()
    persistent["k"] = 1
    (_, value), = persistent.commit()
    assert "Max-Age=3600" in value


def test_expire_set_after_begin_is_what_the_commit_stores(manager, clock):
    session = manager.begin()
    assert session.expire == 3600
    session["k"] = 1
    session.expire = 30
    assert session.expires_at == clock() + 30
    (_, value), = session.commit()
    assert "Max-Age=30" in value
    cookie = value.split(";")[0]
    clock.advance(29)
    returning = manager.begin(cookie=cookie)
    assert returning["k"] == 1 and returning.expire == 3600
    returning.expire = 7200
    returning.touch()
    returning.commit()
    clock.advance(7199)
    assert manager.begin(cookie=cookie)["k"] == 1


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf")])
def test_expire_refuses_what_begin_refuses(manager, bad):
    session = manager.begin()
    with pytest.raises(spysession.ConfigError, match="expire"):
        session.expire = bad
    assert session.expire == 3600
