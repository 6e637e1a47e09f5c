//! Failovers in the middle of concurrent commits, on real servers: a
//! Sentinel failover (`SENTINEL FAILOVER`), a cluster primary killed (its
//! replica promoted) and a cluster resharding (`ASK`, then `MOVED`). Every
//! commit that reported success is there afterwards, the others reported
//! errors, and the store works again.
#![cfg(feature = "redis")]

mod common;
mod redis_harness;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use redis_harness::cluster::Cluster;
use redis_harness::sentinel::SentinelSet;
use redis_harness::wait_until;
use spysession_core::*;

const T0: f64 = 1_700_000_000.0;
const WRITERS: usize = 4;

fn options() -> RedisOptions {
    RedisOptions {
        connect_timeout: Duration::from_millis(500),
        command_timeout: Duration::from_millis(1000),
        pool_size: WRITERS,
        wait_replicas: 1,
        ..Default::default()
    }
}

/// What the writers saw.
#[derive(Default)]
struct Tally {
    stored: Mutex<Vec<(StoreKey, i64)>>,
    ok: AtomicU64,
    failed: AtomicU64,
}

/// Runs `WRITERS` threads committing new sessions through `store` while
/// `failover` runs and until `settled` says the deployment is whole again
/// and 100 more commits succeeded; then checks every reported success.
fn commits_survive(store: Arc<RedisStore>, failover: impl FnOnce(), settled: impl Fn() -> bool) {
    let tally = Arc::new(Tally::default());
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (store, tally, stop) = (store.clone(), tally.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut n = 0i64;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let value = (w as i64) << 32 | n;
                    let id = StoreKey::of(&SessionId::generate());
                    let mut changes = Changes::default();
                    changes.set("n", Value::Int(value));
                    let update = Update {
                        changes: &changes,
                        now: T0,
                        expires_at: T0 + 3600.0,
                        created: T0,
                        create: true,
                        base_accessed: None,
                    };
                    match store.commit(&id, &update, &mut None).map(|c| c.outcome) {
                        Ok(CommitOutcome::Stored { .. }) => {
                            tally.stored.lock().unwrap().push((id, value));
                            tally.ok.fetch_add(1, Ordering::SeqCst);
                        }
                        Ok(CommitOutcome::NotFound) => panic!("a new session was refused"),
                        Err(_) => {
                            tally.failed.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                }
            })
        })
        .collect();
    let limit = Duration::from_secs(60);
    wait_until("commits before the failover", limit, || {
        tally.ok.load(Ordering::SeqCst) >= 100
    });
    failover();
    wait_until("the failover ends", limit, &settled);
    let before = tally.ok.load(Ordering::SeqCst);
    wait_until("commits after the failover", limit, || {
        tally.ok.load(Ordering::SeqCst) >= before + 100
    });
    stop.store(true, Ordering::SeqCst);
    for w in writers {
        w.join().unwrap();
    }
    let stored = tally.stored.lock().unwrap();
    for (id, value) in stored.iter() {
        let record = store.load(id, T0).unwrap();
        let record = record.unwrap_or_else(|| panic!("a commit reported done was lost: {id}"));
        assert_eq!(record.data.get("n"), Some(&Value::Int(*value)));
    }
    eprintln!(
        "{} commits reported done, all found; {} reported errors",
        stored.len(),
        tally.failed.load(Ordering::SeqCst)
    );
    // And the store works as before.
    let id = StoreKey::of(&SessionId::generate());
    store
        .save(&id, &Record::new(T0, T0 + 60.0, Data::new()))
        .unwrap();
    assert!(store.load(&id, T0).unwrap().is_some());
    assert!(store.len().unwrap() >= stored.len() as u64);
}

#[test]
fn a_sentinel_failover_loses_no_reported_commit() {
    let set = SentinelSet::start();
    let store = Arc::new(RedisStore::open_with(&set.url(), options()).unwrap());
    let new_primary = set.servers[1].port();
    commits_survive(
        store,
        || set.failover(),
        || set.primary_port() == Some(new_primary) && set.link_up(0),
    );
}

#[test]
fn a_killed_cluster_primary_loses_no_reported_commit() {
    let cluster = Mutex::new(Cluster::start());
    let url = cluster.lock().unwrap().url();
    let store = Arc::new(RedisStore::open_with(&url, options()).unwrap());
    let victim = cluster.lock().unwrap().primaries()[0];
    commits_survive(
        store,
        || cluster.lock().unwrap().nodes[victim].kill(),
        || {
            let mut c = cluster.lock().unwrap();
            if c.primaries().len() < 3 {
                return false; // the replica is not promoted yet
            }
            // Back as a replica of the promoted one, so wait_replicas can
            // be met again on that shard.
            if !c.nodes[victim].is_running() {
                c.nodes[victim].restart();
            }
            c.wait_healthy();
            true
        },
    );
}

#[test]
fn a_resharding_cluster_loses_no_reported_commit() {
    let cluster = Cluster::start();
    let store = Arc::new(RedisStore::open_with(&cluster.url(), options()).unwrap());
    let primaries = cluster.primaries();
    let moved = std::cell::Cell::new(false);
    commits_survive(
        store,
        || {
            cluster.reshard(primaries[0], primaries[1], 1500);
            moved.set(true);
        },
        || moved.get(),
    );
    cluster.wait_healthy();
}
