//! RedisStore through Sentinel (a primary, a replica, one Sentinel, started
//! once for this test binary): the shared store suite, writes confirmed by
//! the replica, and sentinel URLs that name nothing usable. Failovers are
//! in redis_failover.rs.
#![cfg(feature = "redis")]

mod common;
mod redis_harness;

use std::sync::OnceLock;
use std::time::Duration;

use redis_harness::sentinel::SentinelSet;
use spysession_core::{
    Data, Error, Inspect, Record, RedisOptions, RedisStore, SessionId, Store, StoreKey, StoreUrl,
};

static SET: OnceLock<SentinelSet> = OnceLock::new();

fn set() -> &'static SentinelSet {
    redis_harness::shared(&SET, SentinelSet::start)
}

fn store(wait_replicas: usize) -> RedisStore {
    let options = RedisOptions {
        prefix: redis_harness::unique_prefix("s"),
        pool_size: 4,
        wait_replicas,
        ..Default::default()
    };
    RedisStore::open_with(&set().url(), options).unwrap()
}

store_suite!(
    redis_sentinel,
    (Arc::new(crate::store(1)), Box::new(())),
    inspect: true
);

#[test]
fn writes_confirmed_by_the_replica_are_on_the_replica() {
    let store = store(1);
    let id = StoreKey::of(&SessionId::generate());
    store
        .save(&id, &Record::new(100.0, 200.0, Data::new()))
        .unwrap();
    let key = store.key(&id);
    let exists: bool = redis::cmd("EXISTS")
        .arg(&key)
        .query(&mut set().servers[1].connection())
        .unwrap();
    assert!(
        exists,
        "WAIT 1 returned only once the replica had the write"
    );
}

#[test]
fn more_replicas_than_there_are_is_an_error_not_a_silent_success() {
    let options = RedisOptions {
        prefix: redis_harness::unique_prefix("s"),
        command_timeout: Duration::from_millis(200),
        wait_replicas: 2,
        ..Default::default()
    };
    let store = RedisStore::open_with(&set().url(), options).unwrap();
    let err = store
        .save(
            &StoreKey::of(&SessionId::generate()),
            &Record::new(100.0, 200.0, Data::new()),
        )
        .unwrap_err();
    let Error::Io(io) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(io.kind(), std::io::ErrorKind::TimedOut, "{io}");
    assert!(io.to_string().contains("wait_replicas"), "{io}");
}

#[test]
fn an_unknown_primary_name_or_dead_sentinels_are_io_errors() {
    let url = set().url().replace("/mymaster", "/nosuch");
    let store = RedisStore::open(&url).unwrap();
    let err = store.ping().unwrap_err();
    assert!(err.to_string().contains("nosuch"), "{err}");
    let dead = format!(
        "redis+sentinel://127.0.0.1:{}/mymaster",
        redis_harness::free_port()
    );
    let store = RedisStore::open(&dead).unwrap();
    assert!(matches!(store.ping(), Err(Error::Io(_))));
}

#[test]
fn a_store_url_opens_the_sentinel_store() {
    let prefix = redis_harness::unique_prefix("u");
    let url = format!("{}?prefix={prefix}&wait_replicas=1", set().url());
    let store = StoreUrl::parse(&url).unwrap().open().unwrap();
    let inspect = store.inspect().expect("a RedisStore inspects");
    let id = StoreKey::of(&SessionId::generate());
    inspect
        .save(&id, &Record::new(100.0, 200.0, Data::new()))
        .unwrap();
    assert!(store.load(&id, 150.0).unwrap().is_some());
    assert_eq!(inspect.len().unwrap(), 1);
}
