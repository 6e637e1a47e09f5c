"""SessionManager: options (README: Options), expiry with an injected clock, cookies,
transports, paths, from_environ, configure() and clean_store()."""

from __future__ import annotations

import io
import re

import pytest

import spysession
from conftest import cookie_of


def new_cookie(manager, **begin):
    s = manager.begin(**begin)
    s["a"] = 1
    return s, cookie_of(s.commit())


@pytest.mark.parametrize(
    "options, option",
    [
        ({"transport": "carrier-pigeon"}, "transport"),
        ({"transport": ["cookie", "smoke"]}, "transport"),
        ({"transport": []}, "transport"),
        ({"samesite": "None"}, "samesite"),
        ({"samesite": "Sometimes"}, "samesite"),
        ({"expire": -1}, "expire"),
        ({"expire": "soon"}, "expire"),
        ({"touch_interval": -0.5}, "touch_interval"),
        ({"max_lifetime": -1}, "max_lifetime"),
        ({"path": "/a;b"}, "path"),
        ({"path": "/a\r\nSet-Cookie: evil=1"}, "path"),
        ({"domain": "x.com; HttpOnly"}, "domain"),
        ({"cookie_name": "bad name"}, "cookie_name"),
        ({"secure": "yes"}, "secure"),
        ({"clock": 5}, "clock"),
    ],
)
def test_bad_options_are_config_errors_naming_the_option(store, options, option):
    with pytest.raises(spysession.ConfigError) as info:
        spysession.SessionManager(store, **options)
    assert info.value.option == option and option in str(info.value)
    assert isinstance(info.value, ValueError) and isinstance(info.value, spysession.SessionError)


def test_unknown_keyword_is_type_error(store):
    with pytest.raises(TypeError):
        spysession.SessionManager(store, expires=5)


def test_good_options(store, clock):
    """Each option given takes effect: seen in the cookie, the transports
    read, the touches and the lifetime cap."""
    m = spysession.SessionManager(store, samesite="None", secure=True, touch_interval=0,
                                  transport=("get", "cookie"), domain="example.com",
                                  max_lifetime=10, clock=clock)
    s = m.begin()
    s["a"] = 1
    (_, value), = s.commit()
    assert "; SameSite=None" in value and "; Secure" in value and "; Domain=example.com" in value
    assert "Max-Age=10" in value  # max_lifetime caps the default expire
    # transport=("get", "cookie"): the query string is read, and comes first.
    other = m.begin()
    other["b"] = 2
    other.commit()
    seen = m.begin(query=f"spysession={s.id}", cookie=f"spysession={other.id}")
    assert seen.id == s.id and seen["a"] == 1
    # touch_interval=0: a request that changes nothing still renews the expiry.
    clock.advance(1)
    touched = m.begin(query=f"spysession={s.id}")
    assert touched.commit() != [] and touched.expires_at == clock.now + 9
    # max_lifetime=10: gone at created + 10, touches or not.
    clock.advance(9)
    assert m.begin(query=f"spysession={s.id}").is_new
    # samesite=None leaves the attribute out.
    plain = spysession.SessionManager(store, samesite=None).begin()
    plain["a"] = 1
    (_, value), = plain.commit()
    assert "SameSite" not in value


def test_cookie_attributes(store, clock):
    m = spysession.SessionManager(store, expire=3600, path="/app", domain="example.com",
                                  secure=True, samesite="Strict", cookie_name="sid", clock=clock)
    s = m.begin(path="/app/page")
    s["a"] = 1
    (name, value), = s.commit()
    assert value.startswith(f"sid={s.id}; Path=/app; Domain=example.com; Max-Age=3600; Expires=")
    assert "; Secure" in value and "; HttpOnly" in value and value.endswith("SameSite=Strict")
    expires = re.search(r"Expires=([^;]+)", value).group(1)
    from email.utils import parsedate_to_datetime
    assert parsedate_to_datetime(expires).timestamp() == clock.now + 3600


def test_httponly_off_and_no_samesite(store):
    s = spysession.SessionManager(store, httponly=False, samesite=None).begin()
    s["a"] = 1
    (_, value), = s.commit()
    assert "HttpOnly" not in value and "SameSite" not in value


def test_expiry_is_exact_with_the_clock(manager, clock):
    s, cookie = new_cookie(manager)
    assert s.expires_at == clock.now + 3600
    clock.advance(3599.5)
    loaded = manager.begin(cookie=cookie)
    assert not loaded.is_new and loaded.expires_at == s.expires_at
    clock.advance(0.5)  # now == expires_at: expired
    gone = manager.begin(cookie=cookie)
    assert gone.is_new and gone.id != s.id and gone == {}


def test_activity_slides_the_expiry(manager, clock):
    s, cookie = new_cookie(manager)
    for _ in range(5):
        clock.advance(3000)
        r = manager.begin(cookie=cookie)
        assert r == {"a": 1}
        headers = r.commit()  # touch due (3000 s > expire/100): cookie re-sent
        assert headers and r.expires_at == clock.now + 3600


def test_touch_interval(store, clock):
    m = spysession.SessionManager(store, expire=1000, touch_interval=100, clock=clock)
    s, cookie = new_cookie(m)
    clock.advance(50)
    r = m.begin(cookie=cookie)
    assert r.commit() == [] and r.expires_at == s.expires_at
    clock.advance(60)
    r = m.begin(cookie=cookie)
    assert r.commit() != [] and r.expires_at == clock.now + 1000


def test_touch_interval_zero_touches_every_request(store, clock):
    m = spysession.SessionManager(store, expire=1000, touch_interval=0, clock=clock)
    _, cookie = new_cookie(m)
    commits = store.stats()["commits"]
    r = m.begin(cookie=cookie)
    assert r.commit() != []
    assert store.stats()["commits"] == commits + 1


def test_max_lifetime_caps_the_session(store, clock):
    m = spysession.SessionManager(store, expire=100, max_lifetime=250, clock=clock)
    s, cookie = new_cookie(m)
    clock.advance(90)
    r = m.begin(cookie=cookie)
    r["b"] = 2
    r.commit()
    clock.advance(90)
    r = m.begin(cookie=cookie)
    r["c"] = 3
    (_, value), = r.commit()
    assert r.expires_at == s.expires_at - 100 + 250  # created + max_lifetime
    assert "Max-Age=70" in value
    clock.advance(70)
    assert m.begin(cookie=cookie).is_new


def test_per_page_overrides(manager, clock):
    s = manager.begin(expire=60)
    assert s.expires_at == clock.now + 60
    s["a"] = 1
    (_, value), = s.commit()
    assert "Max-Age=60" in value
    with pytest.raises(spysession.ConfigError):
        manager.begin(expire=-5)
    s = manager.begin(session_path="/shop", path="/shop/cart")
    s["a"] = 1
    assert "Path=/shop;" in s.commit()[0][1]


def test_session_path_keeps_session_away(store):
    m = spysession.SessionManager(store, path="/myapp")
    s, cookie = new_cookie(m, path="/myapp/page")
    assert m.begin(cookie=cookie, path="/myapp").id == s.id
    assert m.begin(cookie=cookie, path="/myapp/deep/er").id == s.id
    for elsewhere in ["/other", "/myapplication", "/", ""]:
        fresh = m.begin(cookie=cookie, path=elsewhere)
        assert fresh.is_new and fresh.id != s.id and fresh == {}


def test_strict_refuses_unknown_ids(store):
    unknown = "0123456789abcdef0123456789abcdef"
    strict = spysession.SessionManager(store)
    assert strict.begin(cookie=f"spysession={unknown}").id != unknown
    lax = spysession.SessionManager(store, strict=False)
    assert lax.begin(cookie=f"spysession={unknown}").id == unknown


def test_cookie_among_transports_sets_the_cookie(store):
    m = spysession.SessionManager(store, transport=["get", "post", "cookie"])
    s = m.begin()
    s["a"] = 1
    assert cookie_of(s.commit()) == f"spysession={s.id}"


def test_get_and_post_set_no_cookie(store):
    m = spysession.SessionManager(store, transport=["get", "post"])
    s = m.begin()
    s["a"] = 1
    assert s.commit() == [] and s.committed
    assert m.begin(query=f"x=1&spysession={s.id}") == {"a": 1}
    assert m.begin(form=f"spysession={s.id}".encode()) == {"a": 1}
    assert m.begin(form={"spysession": s.id}) == {"a": 1}
    assert m.begin(form={"spysession": [s.id]}) == {"a": 1}
    assert m.begin(cookie=f"spysession={s.id}").is_new  # cookie is not a transport here


def test_first_well_formed_id_in_transport_order_wins(store):
    m = spysession.SessionManager(store, transport=["get", "cookie"])
    a, _ = new_cookie(m)
    b, _ = new_cookie(m)
    assert m.begin(query=f"spysession={a.id}", cookie=f"spysession={b.id}").id == a.id
    assert m.begin(query="spysession=junk", cookie=f"spysession={b.id}").id == b.id
    assert m.begin(cookie=f"spysession=bad; spysession={b.id}; spysession={a.id}").id == b.id


def test_cookie_values_are_not_percent_decoded(manager):
    s, cookie = new_cookie(manager)
    encoded = "spysession=" + "".join(f"%{ord(c):02x}" for c in s.id)
    assert manager.begin(cookie=encoded).is_new
    assert manager.begin(cookie=cookie.encode()).id == s.id


def test_hostile_input_never_raises(manager):
    for junk in ["", ";;;", "spysession", "spysession=\x00\xff", "=" * 1000, "a=b" * 10000, "spysession=" + "a" * 10**6]:
        assert manager.begin(cookie=junk, query=junk, form=junk, path=junk or "/").is_new
    assert manager.begin(cookie=b"\xff\xfe spysession=\x80").is_new


def test_damaged_record_through_manager_gives_fresh_session(clock):
    class Store(spysession.SessionStore):
        def load(self, sid):
            return b"\x95\x02garbage"

        def save(self, sid, record, expires_at):
            pass

        def delete(self, sid):
            pass

        def clean(self, now):
            return 0

    store = Store()
    sid = "ab" * 16
    s = spysession.SessionManager(store, clock=clock).begin(cookie=f"spysession={sid}")
    assert s.is_new and s.id != sid
    assert store.stats()["corrupt"] == 1


def test_clock_errors_propagate(store):
    def broken():
        raise RuntimeError("clock broke")

    m = spysession.SessionManager(store, clock=broken)
    with pytest.raises(RuntimeError, match="clock broke"):
        m.begin()


def environ(**extra):
    env = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "SCRIPT_NAME": "", "QUERY_STRING": "",
           "wsgi.input": io.BytesIO(b"")}
    env.update(extra)
    return env


def test_from_environ_cookie_query_and_path(store):
    m = spysession.SessionManager(store, path="/app", transport=["cookie", "get"])
    s, cookie = new_cookie(m, path="/app")
    assert m.from_environ(environ(HTTP_COOKIE=cookie, PATH_INFO="/app/x")).id == s.id
    assert m.from_environ(environ(SCRIPT_NAME="/app", PATH_INFO="/x", QUERY_STRING=f"spysession={s.id}")).id == s.id
    assert m.from_environ(environ(HTTP_COOKIE=cookie, PATH_INFO="/elsewhere")).is_new


def test_from_environ_reads_post_body_only_for_post_transport(store):
    post = spysession.SessionManager(store, transport=["post"])
    s = post.begin()
    s["a"] = 1
    s.commit()
    body = f"name=ada&spysession={s.id}".encode()
    env = environ(REQUEST_METHOD="POST", CONTENT_TYPE="application/x-www-form-urlencoded",
                  CONTENT_LENGTH=str(len(body)), **{"wsgi.input": io.BytesIO(body)})
    assert post.from_environ(env) == {"a": 1}
    assert env["wsgi.input"].read() == body  # still readable by the app

    cookie_only = spysession.SessionManager(store)
    stream = io.BytesIO(body)
    env = environ(REQUEST_METHOD="POST", CONTENT_TYPE="application/x-www-form-urlencoded",
                  CONTENT_LENGTH=str(len(body)), **{"wsgi.input": stream})
    assert cookie_only.from_environ(env).is_new
    assert env["wsgi.input"] is stream and stream.tell() == 0


def test_configure_sets_defaults(tmp_path, clock):
    store = spysession.DbmStore(str(tmp_path / "site"))
    spysession.configure(session_store=store, session_path="/myapp", session_expire=120,
                         secure=True, clock=clock)
    m = spysession.SessionManager()
    assert m.store is store and m.clock is clock
    s = m.begin(path="/myapp/x")
    s["a"] = 1
    (_, value), = s.commit()
    assert "Path=/myapp;" in value and "Max-Age=120" in value and "Secure" in value
    # An option omitted keeps its value; None unsets it.
    spysession.configure(session_expire=60)
    m2 = spysession.SessionManager()
    s2 = m2.begin(path="/myapp")
    assert s2.expires_at == clock.now + 60 and m2.store is store
    spysession.configure(session_path=None)
    assert spysession.SessionManager().begin(path="/other").expires_at == clock.now + 60
    s3 = spysession.SessionManager().begin(path="/")
    s3["a"] = 1
    assert "Path=/;" in s3.commit()[0][1]
    # Managers copied the defaults when made.
    s4 = m.begin(path="/myapp")
    assert s4.expires_at == clock.now + 120
    # Keywords beat the defaults.
    assert spysession.SessionManager(expire=5).begin().expires_at == clock.now + 5


def test_configure_validates(store):
    with pytest.raises(spysession.ConfigError):
        spysession.configure(session_expire=-1)
    with pytest.raises(spysession.ConfigError):
        spysession.configure(samesite="None")
    with pytest.raises(TypeError):
        spysession.configure(bogus=1)
    with pytest.raises(TypeError):
        spysession.configure(session_store="not a store")
    # nothing half-applied
    assert spysession.SessionManager(store).begin().expires_at > 0
    spysession.configure(secure=True, samesite="None")
    with pytest.raises(spysession.ConfigError):
        spysession.configure(secure=False)


def test_clean_store_after_configure(tmp_path, clock):
    store = spysession.DbmStore(str(tmp_path / "site"))
    spysession.configure(session_store=store, session_expire=10, clock=clock)
    m = spysession.SessionManager()
    cookies = [new_cookie(m)[1] for _ in range(3)]
    clock.advance(5)
    keep = new_cookie(m)[1]
    assert spysession.clean_store() == 0
    clock.advance(5)  # the first three expire now
    assert spysession.clean_store() == 3
    assert len(store) == 1 and store.stats()["cleaned"] == 3
    assert m.begin(cookie=keep) == {"a": 1}
    assert all(m.begin(cookie=c).is_new for c in cookies)


def test_clean_store_without_configure_uses_the_default_store():
    m = spysession.SessionManager(expire=0)
    s = m.begin()
    s["a"] = 1
    s.commit()
    assert spysession.clean_store() >= 1


def test_request_parts_in_every_accepted_form(manager):
    """The Cookie header and path are read in place from str, bytes or
    bytearray; path=None is the root; a str that is not UTF-8 (a lone
    surrogate) is Python's UnicodeEncodeError, and a bad type a TypeError."""
    s = manager.begin()
    s["n"] = 1
    s.commit()
    header = "spysession=" + s.id
    for cookie in (header, header.encode(), bytearray(header.encode())):
        assert manager.begin(cookie=cookie, path=None).id == s.id
    with pytest.raises(UnicodeEncodeError):
        manager.begin(cookie=header, path="/\ud800")
    with pytest.raises(UnicodeEncodeError):
        manager.begin(cookie="spysession=\ud800")
    with pytest.raises(TypeError):
        manager.begin(cookie=header, path=b"/")
    again = manager.begin(cookie=header)
    with pytest.raises(UnicodeEncodeError):
        again["\ud800"] = 1
    assert "\ud800" not in again and again.get("\ud800") is None
    assert dict(again) == {"n": 1}


def test_begin_arguments_are_checked_like_a_python_function(manager):
    """begin's argument errors are the TypeErrors a Python function gives,
    and its signature is the stub's."""
    import inspect

    sig = inspect.signature(spysession.SessionManager.begin)
    assert list(sig.parameters) == ["self", "cookie", "query", "form", "path", "expire", "session_path"]
    assert sig.parameters["path"].default == "/"
    assert sig.parameters["expire"].kind is inspect.Parameter.KEYWORD_ONLY
    with pytest.raises(TypeError, match="4 positional arguments but 5 were given"):
        manager.begin(None, None, None, "/", 10)
    with pytest.raises(TypeError, match="unexpected keyword argument 'cokie'"):
        manager.begin(cokie="x")
    with pytest.raises(TypeError, match="multiple values for argument 'cookie'"):
        manager.begin(None, cookie=None)
    with pytest.raises(TypeError, match="'path' must be str"):
        manager.begin(path=1)
    with pytest.raises(TypeError, match="'expire' must be a number"):
        manager.begin(expire="soon")
    with pytest.raises(TypeError, match="'session_path' must be str"):
        manager.begin(session_path=3)
    with pytest.raises(TypeError):
        spysession.SessionManager.begin(object())
    # Keywords built at run time (not interned) are matched by text.
    name = "".join(["pa", "th"])
    s = manager.begin(**{name: "/x", "expire": 5})
    assert s.is_new and s.expires_at > 0
    # Positional, keyword and mixed calls find the same session.
    s["k"] = 1
    header = dict(s.commit())["Set-Cookie"].split(";")[0]
    assert manager.begin(header).id == s.id
    assert manager.begin(header, None, None, "/").id == s.id
    assert manager.begin(cookie=header, path="/").id == s.id
