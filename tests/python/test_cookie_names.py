"""`__Host-` and `__Secure-` cookie names (SPEC §3): a manager without the
attributes the prefix demands is refused at once with a ConfigError naming
cookie_name (a browser would drop the cookie, and every request would get
a new session)."""

from __future__ import annotations

import pytest

import spysession
from conftest import cookie_of


@pytest.mark.parametrize("options,missing", [
    ({"cookie_name": "__Host-sid"}, "secure"),
    ({"cookie_name": "__Host-sid", "secure": True, "domain": "example.com"}, "domain"),
    ({"cookie_name": "__Host-sid", "secure": True, "path": "/shop"}, "path"),
    ({"cookie_name": "__Secure-sid"}, "secure"),
    ({"cookie_name": "__secure-sid"}, "secure"),  # browsers match prefixes ignoring case
])
def test_prefixed_names_need_their_attributes(store, options, missing):
    with pytest.raises(spysession.ConfigError) as info:
        spysession.SessionManager(store, **options)
    assert info.value.option == "cookie_name"
    assert missing in str(info.value)
    with pytest.raises(spysession.ConfigError):
        spysession.configure(**options)


def test_prefixed_names_with_their_attributes_work(store):
    m = spysession.SessionManager(store, cookie_name="__Host-sid", secure=True)
    s = m.begin()
    s["k"] = 1
    (_, header), = s.commit()
    assert header.startswith("__Host-sid=") and "Secure" in header and "Domain" not in header
    assert m.begin(cookie=cookie_of([("Set-Cookie", header)]))["k"] == 1
    spysession.SessionManager(store, cookie_name="__Secure-sid", secure=True,
                              domain="example.com", path="/shop")


def test_a_page_cannot_move_a_host_cookie_off_the_root(store):
    m = spysession.SessionManager(store, cookie_name="__Host-sid", secure=True)
    with pytest.raises(spysession.ConfigError) as info:
        m.begin(session_path="/shop")
    assert info.value.option == "session_path"
