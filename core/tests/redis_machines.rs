//! RedisStore beyond the shared suite, against a real redis-server started
//! per test: two managers standing in for two machines, Redis killed, hung
//! and restarted, the documented layout, prefixes, damaged records.
#![cfg(feature = "redis")]

mod common;
mod redis_harness;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::web::{cookie_pair, request};
use common::TestClock;
use redis_harness::RedisServer;
use spysession_core::*;

const T0: f64 = 1_700_000_000.0;

fn quick(prefix: &str) -> RedisOptions {
    RedisOptions {
        prefix: prefix.into(),
        connect_timeout: Duration::from_millis(300),
        command_timeout: Duration::from_millis(300),
        pool_size: 2,
        ..Default::default()
    }
}

/// A raw connection, to look at (or damage) what the store wrote.
fn raw(server: &RedisServer) -> redis::Connection {
    redis::Client::open(server.url())
        .unwrap()
        .get_connection()
        .unwrap()
}

#[test]
fn two_machines_share_sessions_and_merge_their_changes() {
    let server = RedisServer::start();
    let clock = TestClock::at(T0);
    let machine = || {
        let store = RedisStore::open(&server.url()).unwrap();
        SessionManager::with_clock(Arc::new(store), Options::default(), clock.as_clock()).unwrap()
    };
    let (a, b) = (machine(), machine());

    let mut s = a.begin(&request("")).unwrap();
    s.set("user", Value::Str("ada".into()));
    let set_cookie = s.commit().unwrap().set_cookie.unwrap();
    let cookie = cookie_pair(&set_cookie);

    // The next request lands on the other machine and finds the session.
    let seen = b.begin(&request(&cookie)).unwrap();
    assert_eq!(seen.get("user"), Some(&Value::Str("ada".into())));

    // Two requests at once, one per machine, on different keys: both kept.
    clock.advance(5.0);
    let mut on_a = a.begin(&request(&cookie)).unwrap();
    let mut on_b = b.begin(&request(&cookie)).unwrap();
    on_a.set("cart", Value::List(vec![Value::Str("book".into())]));
    on_b.set("theme", Value::Str("dark".into()));
    assert!(on_a.commit().unwrap().committed);
    assert!(on_b.commit().unwrap().committed);
    assert_eq!(b.store().stats().merges, 1, "b merged into a's write");
    let both = a.begin(&request(&cookie)).unwrap();
    assert_eq!(
        both.get("cart"),
        Some(&Value::List(vec![Value::Str("book".into())]))
    );
    assert_eq!(both.get("theme"), Some(&Value::Str("dark".into())));
    assert_eq!(both.get("user"), Some(&Value::Str("ada".into())));

    // A logout on one machine is not undone by a stale request on the other.
    let mut stale = b.begin(&request(&cookie)).unwrap();
    let mut logout = a.begin(&request(&cookie)).unwrap();
    logout.invalidate();
    logout.commit().unwrap();
    stale.set("late", Value::Bool(true));
    assert!(!stale.commit().unwrap().committed, "no resurrection");
    assert!(b.begin(&request(&cookie)).unwrap().is_new());
    assert_eq!(a.store().inspect().unwrap().len().unwrap(), 0);
}

#[test]
fn a_killed_redis_fails_fast_and_the_store_recovers_after_restart() {
    let mut server = RedisServer::start();
    let store = RedisStore::open_with(&server.url(), quick("s:")).unwrap();
    let id = SessionId::generate().store_key();
    let record = Record::new(T0, T0 + 60.0, Data::new());
    store.save(&id, &record).unwrap();
    assert!(store.load(&id, T0).unwrap().is_some());

    server.kill();
    for _ in 0..3 {
        let started = Instant::now();
        let err = store.load(&id, T0).unwrap_err();
        assert!(matches!(err, Error::Io(_)), "{err:?}");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    }
    assert!(matches!(store.save(&id, &record), Err(Error::Io(_))));

    server.restart();
    // The restarted Redis kept nothing (no persistence), and every call works again.
    assert_eq!(store.load(&id, T0).unwrap(), None);
    store.save(&id, &record).unwrap();
    assert_eq!(store.load(&id, T0).unwrap().as_deref(), Some(&record));
}

#[test]
fn pooled_connections_survive_a_restart_without_a_failed_request() {
    let mut server = RedisServer::start();
    // One connection, so the request after the restart meets the dead one.
    let options = RedisOptions {
        pool_size: 1,
        ..quick("s:")
    };
    let store = RedisStore::open_with(&server.url(), options).unwrap();
    let id = SessionId::generate().store_key();
    store.ping().unwrap();
    server.restart();
    // The pooled connection is dead: the store notices and retries on a new one.
    let mut c = Changes::default();
    c.set("k", Value::Int(1));
    let update = Update {
        changes: &c,
        now: T0,
        expires_at: T0 + 60.0,
        created: T0,
        create: true,
        base_accessed: None,
    };
    assert_eq!(
        store.commit(&id, &update, &mut None).unwrap().outcome,
        CommitOutcome::Stored { merged: false }
    );
    assert!(store.load(&id, T0).unwrap().is_some());
}

#[test]
fn a_hung_redis_times_out_instead_of_hanging() {
    let server = RedisServer::start();
    let store = RedisStore::open_with(&server.url(), quick("s:")).unwrap();
    let id = SessionId::generate().store_key();
    store.ping().unwrap();
    server.pause();
    // First on the pooled connection (read timeout), then on a new one
    // (the connection handshake times out).
    for _ in 0..2 {
        let started = Instant::now();
        let err = store.load(&id, T0).unwrap_err();
        let elapsed = started.elapsed();
        server_check(&err);
        assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
    }
    server.resume();
    assert_eq!(store.load(&id, T0).unwrap(), None);

    fn server_check(err: &Error) {
        let Error::Io(io) = err else {
            panic!("expected an I/O error, got {err:?}")
        };
        assert_eq!(io.kind(), std::io::ErrorKind::TimedOut, "{io}");
        let cause = io.get_ref().expect("the redis error is kept");
        assert!(cause.downcast_ref::<redis::RedisError>().is_some());
    }
}

#[test]
fn the_layout_is_one_hash_per_session_with_a_ttl() {
    let server = RedisServer::start();
    let store = RedisStore::open(&server.url()).unwrap();
    let id = SessionId::generate().store_key();
    let mut c = Changes::default();
    c.set("m:v", Value::Str("a user key named like metadata".into()));
    c.set("n", Value::Int(7));
    let update = Update {
        changes: &c,
        now: T0,
        expires_at: T0 + 3600.0,
        created: T0,
        create: true,
        base_accessed: None,
    };
    store.commit(&id, &update, &mut None).unwrap();

    let hex = String::from_utf8(id.to_hex().to_vec()).unwrap();
    let key = format!("spysession:{{{}}}{hex}", &hex[..2]);
    assert_eq!(store.key(&id), key.as_bytes());
    let set = format!("spysession:{{{}}}:exp", &hex[..2]);
    let mut con = raw(&server);
    let mut fields: Vec<String> = redis::cmd("HKEYS").arg(&key).query(&mut con).unwrap();
    fields.sort();
    assert_eq!(
        fields,
        [
            "d:m:v",
            "d:n",
            "m:accessed",
            "m:created",
            "m:expires",
            "m:v"
        ]
    );
    let n: Vec<u8> = redis::cmd("HGET")
        .arg(&key)
        .arg("d:n")
        .query(&mut con)
        .unwrap();
    assert_eq!(n, Value::Int(7).to_msgpack());
    let expires: String = redis::cmd("HGET")
        .arg(&key)
        .arg("m:expires")
        .query(&mut con)
        .unwrap();
    assert_eq!(expires.parse::<f64>().unwrap(), T0 + 3600.0);
    let ttl: i64 = redis::cmd("PTTL").arg(&key).query(&mut con).unwrap();
    assert!((3_590_000..=3_600_000).contains(&ttl), "ttl {ttl} ms");
    let score: Option<f64> = redis::cmd("ZSCORE")
        .arg(&set)
        .arg(&hex)
        .query(&mut con)
        .unwrap();
    assert_eq!(score, Some(T0 + 3600.0), "the expiry index has the session");
    let marker: String = redis::cmd("GET")
        .arg("spysession:layout")
        .query(&mut con)
        .unwrap();
    assert_eq!(marker, "2");

    // A commit writes only the fields it changed: a field another writer
    // set meanwhile stays.
    let _: () = redis::cmd("HSET")
        .arg(&key)
        .arg("d:other")
        .arg(Value::Bool(true).to_msgpack())
        .query(&mut con)
        .unwrap();
    let mut c = Changes::default();
    c.remove("n");
    let update = Update {
        changes: &c,
        now: T0 + 1.0,
        expires_at: T0 + 7200.0,
        created: T0,
        create: false,
        base_accessed: Some(T0),
    };
    store.commit(&id, &update, &mut None).unwrap();
    let r = store.load(&id, T0 + 1.0).unwrap().unwrap();
    assert_eq!(r.data.get("other"), Some(&Value::Bool(true)));
    assert_eq!(r.data.get("n"), None);
    assert_eq!(
        (r.created, r.accessed, r.expires_at),
        (T0, T0 + 1.0, T0 + 7200.0)
    );
    let ttl: i64 = redis::cmd("PTTL").arg(&key).query(&mut con).unwrap();
    assert!(ttl > 7_000_000, "the TTL was refreshed: {ttl} ms");
    let score: f64 = redis::cmd("ZSCORE")
        .arg(&set)
        .arg(&hex)
        .query(&mut con)
        .unwrap();
    assert_eq!(score, T0 + 7200.0, "the expiry index moved with it");
    assert!(store.delete(&id).unwrap());
    let card: u64 = redis::cmd("ZCARD").arg(&set).query(&mut con).unwrap();
    assert_eq!(card, 0, "delete leaves nothing in the index");
}

#[test]
fn prefixes_keep_sites_apart_and_foreign_keys_are_left_alone() {
    let server = RedisServer::start();
    let one = RedisStore::open_with(&server.url(), quick("one:")).unwrap();
    let two = RedisStore::open_with(&server.url(), quick("two:")).unwrap();
    let mut con = raw(&server);
    let _: () = redis::cmd("SET")
        .arg("one:not-a-session")
        .arg("x")
        .query(&mut con)
        .unwrap();
    for _ in 0..3 {
        one.save(
            &SessionId::generate().store_key(),
            &Record::new(0.0, 10.0, Data::new()),
        )
        .unwrap();
    }
    two.save(
        &SessionId::generate().store_key(),
        &Record::new(0.0, 10.0, Data::new()),
    )
    .unwrap();
    assert_eq!((one.len().unwrap(), two.len().unwrap()), (3, 1));
    assert_eq!(one.clean(20.0).unwrap(), 3);
    assert_eq!((one.len().unwrap(), two.len().unwrap()), (0, 1));
    let kept: String = redis::cmd("GET")
        .arg("one:not-a-session")
        .query(&mut con)
        .unwrap();
    assert_eq!(kept, "x");
}

#[test]
fn damaged_records_are_corrupt_and_the_store_stays_usable() {
    let server = RedisServer::start();
    let store = RedisStore::open(&server.url()).unwrap();
    let mut con = raw(&server);
    let (string, foreign, bad_value) = (
        SessionId::generate().store_key(),
        SessionId::generate().store_key(),
        SessionId::generate().store_key(),
    );
    let key = |k: &StoreKey| store.key(k);
    let _: () = redis::cmd("SET")
        .arg(key(&string))
        .arg("x")
        .query(&mut con)
        .unwrap();
    let _: () = redis::cmd("HSET")
        .arg(key(&foreign))
        .arg("f")
        .arg("1")
        .query(&mut con)
        .unwrap();
    store
        .save(&bad_value, &Record::new(T0, T0 + 60.0, Data::new()))
        .unwrap();
    let _: () = redis::cmd("HSET")
        .arg(key(&bad_value))
        .arg("d:k")
        .arg(&[0xc1u8][..])
        .query(&mut con)
        .unwrap();

    for id in [&string, &foreign, &bad_value] {
        assert!(matches!(store.load(id, T0), Err(Error::Corrupt(_))), "{id}");
    }
    let c = Changes::default();
    let update = Update {
        changes: &c,
        now: T0,
        expires_at: T0 + 60.0,
        created: T0,
        create: false,
        base_accessed: None,
    };
    assert!(matches!(
        store.commit(&string, &update, &mut None),
        Err(Error::Corrupt(_))
    ));
    assert!(matches!(
        store.commit(&foreign, &update, &mut None),
        Err(Error::Corrupt(_))
    ));
    assert_eq!(store.stats().corrupt, 5);

    // Saving over a damaged record repairs it; other sessions never noticed.
    let fine = SessionId::generate().store_key();
    store
        .save(&fine, &Record::new(T0, T0 + 60.0, Data::new()))
        .unwrap();
    assert!(store.load(&fine, T0).unwrap().is_some());
    store
        .save(&string, &Record::new(T0, T0 + 60.0, Data::new()))
        .unwrap();
    assert!(store.load(&string, T0).unwrap().is_some());
}

#[test]
fn bad_urls_and_options_are_config_errors() {
    let option = |r: Result<RedisStore>| match r {
        Err(Error::Config { option, .. }) => option,
        Err(other) => panic!("expected a config error, got {other:?}"),
        Ok(_) => panic!("expected a config error, got a store"),
    };
    assert_eq!(option(RedisStore::open("http://localhost/")), "url");
    #[cfg(not(feature = "redis-tls"))]
    assert_eq!(option(RedisStore::open("rediss://localhost/")), "url");
    let ca = RedisOptions {
        tls_root_cert: Some(b"-----BEGIN CERTIFICATE-----".to_vec()),
        ..Default::default()
    };
    assert_eq!(
        option(RedisStore::open_with("redis://127.0.0.1/", ca)),
        "tls_root_cert"
    );
    let zero = |f: fn(&mut RedisOptions)| {
        let mut o = RedisOptions::default();
        f(&mut o);
        option(RedisStore::open_with("redis://127.0.0.1/", o))
    };
    assert_eq!(
        zero(|o| o.connect_timeout = Duration::ZERO),
        "connect_timeout"
    );
    assert_eq!(
        zero(|o| o.command_timeout = Duration::ZERO),
        "command_timeout"
    );
    assert_eq!(zero(|o| o.pool_size = 0), "pool_size");
}

#[cfg(feature = "redis-tls")]
#[test]
fn tls_checks_the_server_certificate() {
    let server = RedisServer::start_tls();
    let trusted = RedisOptions {
        tls_root_cert: Some(server.ca_pem()),
        ..quick("s:")
    };
    let store = RedisStore::open_with(&server.url(), trusted).unwrap();
    let id = SessionId::generate().store_key();
    store
        .save(&id, &Record::new(T0, T0 + 60.0, Data::new()))
        .unwrap();
    assert!(store.load(&id, T0).unwrap().is_some());

    // The system's roots do not know the test CA: refused, quickly.
    let untrusted = RedisStore::open_with(&server.url(), quick("s:")).unwrap();
    let started = Instant::now();
    let err = untrusted.load(&id, T0).unwrap_err();
    assert!(matches!(err, Error::Io(_)), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(2));

    // Plain Redis protocol on the TLS port gets nowhere either.
    let plain =
        RedisStore::open_with(&server.url().replace("rediss", "redis"), quick("s:")).unwrap();
    assert!(matches!(plain.load(&id, T0), Err(Error::Io(_))));
}

#[test]
fn a_prefix_with_braces_is_refused() {
    for prefix in ["a{b", "a}b", "{x}:"] {
        let r = RedisStore::open_with("redis://127.0.0.1/", quick(prefix));
        assert!(
            matches!(
                r,
                Err(Error::Config {
                    option: "prefix",
                    ..
                })
            ),
            "{prefix}"
        );
    }
}

/// Writes a session as spysession 0.1 did: a hash at `<prefix><id>`.
fn write_v01(con: &mut redis::Connection, prefix: &str, id: &SessionId, value: i64) {
    let _: () = redis::cmd("HSET")
        .arg(format!("{prefix}{id}"))
        .arg("m:v")
        .arg("1")
        .arg("m:created")
        .arg(T0.to_string())
        .arg("m:accessed")
        .arg(T0.to_string())
        .arg("m:expires")
        .arg((T0 + 60.0).to_string())
        .arg("d:n")
        .arg(Value::Int(value).to_msgpack())
        .query(con)
        .unwrap();
}

#[test]
fn the_0_1_layout_is_refused_by_name_and_migrated_once() {
    let server = RedisServer::start();
    let mut con = raw(&server);
    let ids: Vec<SessionId> = (0..3).map(|_| SessionId::generate()).collect();
    for (i, id) in ids.iter().enumerate() {
        write_v01(&mut con, "old:", id, i as i64);
    }
    let store = RedisStore::open_with(&server.url(), quick("old:")).unwrap();
    let err = store.load(&StoreKey::of(&ids[0]), T0).unwrap_err();
    assert!(
        matches!(&err, Error::Config { option: "prefix", message } if message.contains("0.1")),
        "{err:?}"
    );
    // Nothing was changed by the refusal, and another prefix is not affected.
    let other = RedisStore::open_with(&server.url(), quick("new:")).unwrap();
    assert_eq!(other.len().unwrap(), 0);

    assert_eq!(store.migrate_v01().unwrap(), 3);
    for (i, id) in ids.iter().enumerate() {
        let r = store
            .load(&StoreKey::of(id), T0)
            .unwrap()
            .expect("migrated");
        assert_eq!(r.data.get("n"), Some(&Value::Int(i as i64)));
        assert_eq!(r.expires_at, T0 + 60.0);
        let old: bool = redis::cmd("EXISTS")
            .arg(format!("old:{id}"))
            .query(&mut con)
            .unwrap();
        assert!(!old, "the 0.1 key is gone");
    }
    assert_eq!(store.len().unwrap(), 3);
    // A fresh store on the migrated prefix reads it without complaint.
    let again = RedisStore::open_with(&server.url(), quick("old:")).unwrap();
    assert_eq!(again.len().unwrap(), 3);
    assert_eq!(again.migrate_v01().unwrap(), 0);

    // A marker of another layout version is refused too.
    let _: () = redis::cmd("SET")
        .arg("v9:layout")
        .arg("9")
        .query(&mut con)
        .unwrap();
    let v9 = RedisStore::open_with(&server.url(), quick("v9:")).unwrap();
    assert!(matches!(
        v9.len(),
        Err(Error::Config {
            option: "prefix",
            ..
        })
    ));
}

#[test]
fn clean_keeps_rewritten_sessions_and_forgets_vanished_ones_without_counting_them() {
    let server = RedisServer::start();
    let store = RedisStore::open_with(&server.url(), quick("c:")).unwrap();
    let mut con = raw(&server);
    let (expired, rewritten, vanished, live) = (
        StoreKey::of(&SessionId::generate()),
        StoreKey::of(&SessionId::generate()),
        StoreKey::of(&SessionId::generate()),
        StoreKey::of(&SessionId::generate()),
    );
    for id in [&expired, &rewritten, &vanished] {
        store
            .save(id, &Record::new(T0, T0 + 10.0, Data::new()))
            .unwrap();
    }
    store
        .save(&live, &Record::new(T0, T0 + 100.0, Data::new()))
        .unwrap();
    // Another writer moved `rewritten`'s expiry without the index knowing,
    // and `vanished`'s hash went (its TTL fired) while its index entry stayed.
    let _: () = redis::cmd("HSET")
        .arg(store.key(&rewritten))
        .arg("m:expires")
        .arg((T0 + 500.0).to_string())
        .query(&mut con)
        .unwrap();
    let _: () = redis::cmd("DEL")
        .arg(store.key(&vanished))
        .query(&mut con)
        .unwrap();
    assert_eq!(store.len().unwrap(), 4);

    assert_eq!(
        store.clean(T0 + 20.0).unwrap(),
        1,
        "only `expired` was deleted by clean"
    );
    assert_eq!(store.stats().cleaned, 1);
    assert_eq!(store.load(&expired, T0).unwrap(), None);
    assert!(store.load(&rewritten, T0 + 20.0).unwrap().is_some());
    assert!(store.load(&live, T0 + 20.0).unwrap().is_some());
    assert_eq!(store.len().unwrap(), 2, "the vanished entry left the index");
    let listed: Vec<(StoreKey, f64)> = store.list().unwrap();
    let score = listed.iter().find(|(id, _)| *id == rewritten).unwrap().1;
    assert_eq!(score, T0 + 500.0, "re-scored to its real expiry");
    assert_eq!(store.clean(T0 + 200.0).unwrap(), 1, "live's turn");
}

/// One commit of `changes` at `now`, expiring at `expires_at`.
fn commit_at(store: &RedisStore, key: &StoreKey, changes: &Changes, now: f64, expires_at: f64) {
    let update = Update {
        changes,
        now,
        expires_at,
        created: T0,
        create: now == T0,
        base_accessed: None,
    };
    let done = store.commit(key, &update, &mut None).unwrap();
    assert!(matches!(done.outcome, CommitOutcome::Stored { .. }));
}

/// The expiry index's score of `key`, read from Redis itself.
fn score(server: &RedisServer, store: &RedisStore, key: &StoreKey) -> f64 {
    let hex = String::from_utf8(key.to_hex().to_vec()).unwrap();
    let set = format!("{}{{{}}}:exp", store.options().prefix, &hex[..2]);
    redis::cmd("ZSCORE")
        .arg(set)
        .arg(&hex)
        .query(&mut raw(server))
        .unwrap()
}

#[test]
fn the_expiry_index_lags_by_less_than_a_64th_of_the_ttl_and_never_leads() {
    let server = RedisServer::start();
    let store = RedisStore::open_with(&server.url(), quick("lag:")).unwrap();
    let key = StoreKey::of(&SessionId::generate());
    let mut changes = Changes::default();
    changes.set("n", Value::Int(1));
    // A TTL of 6,400 s: the index is rewritten when the expiry moves into
    // another 100 s (T0 is a multiple of 100).
    let ttl = 6400.0;
    commit_at(&store, &key, &changes, T0, T0 + ttl);
    assert_eq!(
        score(&server, &store, &key),
        T0 + ttl,
        "a new session is indexed exactly"
    );
    commit_at(&store, &key, &changes, T0 + 50.0, T0 + 50.0 + ttl);
    assert_eq!(
        score(&server, &store, &key),
        T0 + ttl,
        "within the same 100 s: not rewritten"
    );
    commit_at(&store, &key, &changes, T0 + 120.0, T0 + 120.0 + ttl);
    assert_eq!(
        score(&server, &store, &key),
        T0 + 120.0 + ttl,
        "into the next 100 s: rewritten"
    );
    commit_at(&store, &key, &changes, T0 + 130.0, T0 + 130.0 + ttl);
    assert_eq!(score(&server, &store, &key), T0 + 120.0 + ttl);
    // A shorter expiry (a page with its own `expire`) moves it earlier at once.
    commit_at(&store, &key, &changes, T0 + 140.0, T0 + 140.0 + 100.0);
    assert_eq!(
        score(&server, &store, &key),
        T0 + 240.0,
        "an earlier expiry is indexed at once"
    );
    // (A TTL of 100 s: 1.5625 s intervals, and 240.5 is in the same as 240.)
    commit_at(&store, &key, &changes, T0 + 140.5, T0 + 140.5 + 100.0);
    assert_eq!(score(&server, &store, &key), T0 + 240.0);
    let stored = store.get(&key).unwrap().unwrap();
    assert_eq!(stored.expires_at, T0 + 240.5, "m:expires is always exact");
    assert_eq!(
        store.list().unwrap(),
        [(key, T0 + 240.5)],
        "the list gives the real expiry, not the score"
    );

    // A clean between the lagging score and the real expiry keeps the
    // session and re-scores it; after the real expiry it goes.
    assert_eq!(store.clean(T0 + 240.2).unwrap(), 0);
    assert_eq!(score(&server, &store, &key), T0 + 240.5);
    assert!(store.load(&key, T0 + 240.2).unwrap().is_some());
    assert_eq!(store.clean(T0 + 240.5).unwrap(), 1);
    assert_eq!(store.len().unwrap(), 0);
}

#[test]
fn a_commit_of_thousands_of_keys_is_stored_whole() {
    // The script hands fields to HSET and HDEL in chunks (Lua's unpack is
    // bounded by its C stack): more than one chunk each way.
    let server = RedisServer::start();
    let store = RedisStore::open_with(&server.url(), quick("big:")).unwrap();
    let key = StoreKey::of(&SessionId::generate());
    let mut changes = Changes::default();
    for i in 0..2500 {
        changes.set(format!("k{i}"), Value::Int(i));
    }
    commit_at(&store, &key, &changes, T0, T0 + 3600.0);
    let stored = store.get(&key).unwrap().unwrap();
    assert_eq!(stored.data.len(), 2500);
    assert_eq!(stored.data.get("k2499"), Some(&Value::Int(2499)));

    let mut changes = Changes::default();
    for i in 0..2400 {
        changes.remove(format!("k{i}"));
    }
    changes.set("new", Value::Bool(true));
    commit_at(&store, &key, &changes, T0 + 1.0, T0 + 3601.0);
    let stored = store.get(&key).unwrap().unwrap();
    assert_eq!(stored.data.len(), 101, "100 kept and the new one");
    assert_eq!(stored.data.get("k2400"), Some(&Value::Int(2400)));
    assert_eq!(stored.data.get("k0"), None);
    assert_eq!(stored.data.get("new"), Some(&Value::Bool(true)));
    assert_eq!((stored.created, stored.accessed), (T0, T0 + 1.0));
}
