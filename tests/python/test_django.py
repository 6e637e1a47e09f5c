"""spysession.django: Django's own SessionTestsMixin (vendored from
Django's sdist, tests/python/django_mixin/) against the engine with each
store, then what the engine adds: per-key merge of concurrent saves, no
resurrection, strict keys, cycle_key as regenerate, clearsessions."""

from __future__ import annotations

import shutil
import tempfile

import django
from django.conf import settings

if not settings.configured:
    settings.configure(
        SECRET_KEY="spysession-tests-" + "k" * 40,
        INSTALLED_APPS=["django.contrib.sessions"],
        DATABASES={},
        USE_TZ=True,
        SESSION_ENGINE="spysession.django",
    )
    django.setup()

import pytest  # noqa: E402
from django.contrib.sessions.backends.base import CreateError, UpdateError  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import SimpleTestCase, override_settings  # noqa: E402
from django_mixin.sessions_tests import SessionTestsMixin  # noqa: E402

import spysession  # noqa: E402
from spysession.django import SessionStore  # noqa: E402
from test_redis import RedisServer  # noqa: E402


class OnStore:
    """Runs each test with SPYSESSION_STORE set to the class's store."""

    backend = SessionStore
    store: spysession.SessionStore

    def setUp(self):
        self.enterContext(override_settings(SPYSESSION_STORE=self.store))
        super().setUp()


class MemorySessionTests(OnStore, SessionTestsMixin, SimpleTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.store = spysession.MemoryStore()


class DbmSessionTests(OnStore, SessionTestsMixin, SimpleTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dir = tempfile.mkdtemp()
        cls.store = spysession.open_store(f"dbm://{cls.dir}/sessions?durable=false")

    @classmethod
    def tearDownClass(cls):
        cls.store.close()
        shutil.rmtree(cls.dir)
        super().tearDownClass()


class RedisSessionTests(OnStore, SessionTestsMixin, SimpleTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.redis = RedisServer().start()
        cls.store = spysession.open_store(cls.redis.url + "?prefix=djangomixin:")

    @classmethod
    def tearDownClass(cls):
        cls.redis.stop()
        super().tearDownClass()


def test_the_mixin_has_the_tests_counted_in_the_docs():
    names = [n for n in dir(SessionTestsMixin) if n.startswith("test_")]
    assert len(names) == 65


@pytest.fixture
def store(clock):
    store = spysession.MemoryStore()
    with override_settings(SPYSESSION_STORE=store, SPYSESSION_OPTIONS={"clock": clock}, SESSION_COOKIE_AGE=600):
        yield store


def saved(**data) -> SessionStore:
    session = SessionStore()
    session.update(data)
    session.save()
    return session


def test_concurrent_saves_merge_per_key(store):
    key = saved(base=0).session_key
    first, second = SessionStore(key), SessionStore(key)
    first["a"] = 1
    second["b"] = 2
    del second["base"]
    first.save()
    second.save()
    assert dict(SessionStore(key).items()) == {"a": 1, "b": 2}


def test_in_place_changes_are_saved(store):
    key = saved(cart=["book"]).session_key
    session = SessionStore(key)
    session["cart"].append("pen")
    session.modified = True
    session.save()
    assert SessionStore(key)["cart"] == ["book", "pen"]


def test_a_session_deleted_meanwhile_raises_update_error(store):
    key = saved(user="ann").session_key
    slow = SessionStore(key)
    assert slow["user"] == "ann"
    SessionStore(key).flush()
    slow["user"] = "mallory"
    with pytest.raises(UpdateError):
        slow.save()
    assert len(store) == 0


def test_must_create_on_an_existing_key_is_create_error(store):
    session = saved(x=1)
    with pytest.raises(CreateError):
        SessionStore(session.session_key).save(must_create=True)


@pytest.mark.parametrize("key", ["12345678", "A" * 32, "0" * 31 + "g", "x; spysession=" + "0" * 32, "0" * 33])
def test_keys_that_are_not_ids_never_reach_the_store(store, key):
    loads = store.stats()["loads"]
    session = SessionStore(key)
    assert session.load() == {}
    assert session.session_key is None
    assert not session.exists(key)
    assert store.stats()["loads"] == loads


def test_unknown_well_formed_key_is_not_adopted(store):
    session = SessionStore("0123456789abcdef0123456789abcdef")
    session["x"] = 1
    session.save()
    assert session.session_key != "0123456789abcdef0123456789abcdef"
    assert len(session.session_key) == 32


def test_cycle_key_moves_the_data_and_deletes_the_old_record(store):
    session = saved(a=1, b=2)
    old = session.session_key
    del session["b"]
    session.cycle_key()
    assert session.session_key != old
    assert not session.exists(old)
    assert dict(SessionStore(session.session_key).items()) == {"a": 1}
    assert len(store) == 1


def test_expiry_follows_the_clock_and_set_expiry(store, clock):
    key = saved(x=1).session_key
    clock.advance(599)
    assert SessionStore(key).get("x") == 1
    clock.advance(2)
    assert SessionStore(key).get("x") is None
    session = saved(x=1)
    session.set_expiry(30)
    session.save()
    clock.advance(31)
    assert not SessionStore().exists(session.session_key)


def test_set_expiry_after_load_is_the_expiry_saved(store, clock):
    key = saved(x=1).session_key
    session = SessionStore(key)
    assert session["x"] == 1
    session.set_expiry(30)
    session.save()
    clock.advance(31)
    assert not SessionStore().exists(key)


def test_a_request_reads_the_store_once(store):
    key = saved(counter=1).session_key
    before = store.stats()["loads"]
    session = SessionStore(key)
    session["counter"] += 1
    session.save()
    assert store.stats()["loads"] - before == 1
    assert SessionStore(key)["counter"] == 2


def test_a_second_save_of_one_request_keeps_a_concurrent_change(store):
    key = saved(a=0, b=0, cart=[]).session_key
    slow = SessionStore(key)
    slow["a"] = 1
    slow.save()
    other = SessionStore(key)
    other["b"] = 2
    other.save()
    slow["cart"].append("book")
    slow.modified = True
    slow.save()
    assert dict(SessionStore(key).items()) == {"a": 1, "b": 2, "cart": ["book"]}


def test_clearsessions_cleans_the_store(store, clock):
    saved(x=1)
    saved(y=2)
    clock.advance(601)
    saved(z=3)
    assert len(store) == 3
    call_command("clearsessions")
    assert len(store) == 1


def test_async_methods(store):
    import asyncio

    async def run():
        session = SessionStore()
        await session.aset("k", "v")
        await session.asave()
        again = SessionStore(session.session_key)
        assert await again.aget("k") == "v"
        await again.acycle_key()
        assert not await again.aexists(session.session_key)
        return again.session_key

    key = asyncio.run(run())
    assert SessionStore(key)["k"] == "v"


def test_a_malformed_store_url_is_a_config_error():
    with override_settings(SPYSESSION_STORE="redis://h:notaport/0"):
        with pytest.raises(spysession.ConfigError, match="notaport"):
            SessionStore().save()


def test_manage_py_clearsessions_of_the_example_site(tmp_path):
    import os
    import subprocess
    import sys
    import time
    from pathlib import Path

    url = f"dbm://{tmp_path / 'sessions'}?durable=false"
    store = spysession.open_store(url)
    # Three sessions written 100 s ago that lived 10 s, and one live one.
    past = spysession.SessionManager(store, expire=10, clock=lambda: time.time() - 100)
    for n in range(3):
        session = past.begin()
        session["n"] = n
        session.commit()
    live = spysession.SessionManager(store).begin()
    live["n"] = 9
    live.commit()
    assert len(store) == 4
    site = Path(__file__).resolve().parents[2] / "examples" / "django_site"
    result = subprocess.run([sys.executable, str(site / "manage.py"), "clearsessions"],
                            env={**os.environ, "SPYSESSION_STORE": url}, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert len(store) == 1
