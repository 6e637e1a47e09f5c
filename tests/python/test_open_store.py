"""spysession.open_store(url, **options): every store URL form to its store
object, options from the query and from keywords, and errors that name the
bad part without echoing a password."""

from __future__ import annotations

import pytest

import spysession
from test_redis import redis_server  # noqa: F401  (the module's redis-server fixture)

SECRET = "Sup3rS3cret"


def test_memory():
    store = spysession.open_store("memory:")
    assert type(store) is spysession.MemoryStore
    assert store.max_sessions is None
    assert spysession.open_store("memory:?max_sessions=10").max_sessions == 10
    assert spysession.open_store("memory:", max_sessions=3).max_sessions == 3


def test_bare_directory_and_dbm_url(tmp_path):
    bare = spysession.open_store(str(tmp_path / "a"))
    assert type(bare) is spysession.DbmStore
    assert (tmp_path / "a" / "data.mdb").is_file()
    url = spysession.open_store(f"dbm://{tmp_path / 'b'}?durable=false&map_size=1048576")
    assert type(url) is spysession.DbmStore
    assert str(url.path) == str(tmp_path / "b")
    # A path object as a keyword value, and the store works.
    manager = spysession.SessionManager(spysession.open_store(f"dbm://{tmp_path / 'c'}", durable=False))
    session = manager.begin()
    session["k"] = 1
    session.commit()
    assert len(manager.store) == 1


def test_keywords_override_the_query(tmp_path):
    store = spysession.open_store("memory:?max_sessions=10", max_sessions=20, durable=None)
    assert store.max_sessions == 20


def test_redis_url_opens_a_redis_store(redis_server):  # noqa: F811
    store = spysession.open_store(redis_server.url + "?prefix=openstore:", pool_size=2, command_timeout=1.5)
    assert type(store) is spysession.RedisStore
    assert store.prefix == "openstore:"
    store.ping()
    manager = spysession.SessionManager(store)
    session = manager.begin()
    session["n"] = 1
    session.commit()
    assert len(store) == 1
    store.delete(session.id)


@pytest.mark.parametrize(
    "url, option, part",
    [
        ("", "url", "empty"),
        ("ftp://host/x", "url", "ftp"),
        ("memory:?max_sessions=lots", "max_sessions", "lots"),
        ("dbm:///x?durable=maybe", "durable", "maybe"),
        ("dbm:///x?colour=blue", "url", "colour"),
        ("redis://h:notaport/0", "url", "notaport"),
        ("redis://h/notadb", "url", "notadb"),
        ("redis://h?pool_size=0", "pool_size", "at least 1"),
        (f"redis://app:{SECRET}@h:99999/0", "url", "99999"),
        (f"redis://app:{SECRET}@h?nope=1", "url", "nope"),
    ],
)
def test_bad_urls_are_config_errors_naming_the_part(url, option, part):
    with pytest.raises(spysession.ConfigError) as info:
        spysession.open_store(url)
    assert info.value.option == option
    assert part in str(info.value)
    assert SECRET not in str(info.value)
    assert isinstance(info.value, ValueError)


def test_unknown_keyword_is_a_config_error():
    with pytest.raises(spysession.ConfigError, match="frobnicate"):
        spysession.open_store("memory:", frobnicate=True)
    with pytest.raises(TypeError, match="durable"):
        spysession.open_store("memory:", durable=object())


@pytest.mark.parametrize("url", ["redis+sentinel://127.0.0.1:1/mymaster/0", "redis+cluster://127.0.0.1:1"])
def test_sentinel_and_cluster_urls_open_redis_stores_whose_faults_are_store_errors(url):
    """Nothing listens on port 1: the store opens (it connects at first
    use, or at once), and reaching it is a StoreError, never a crash."""
    with pytest.raises(spysession.StoreError):
        store = spysession.open_store(url)
        store.load(spysession.store_key("0" * 32))


def test_a_dbm_path_that_is_a_file_is_a_store_error(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(spysession.StoreError):
        spysession.open_store(str(tmp_path / "f"))
