//! Shared test support: a hand-moved clock, a custom store, and the one
//! conformance suite every store must pass.
#![allow(dead_code)]

pub mod child;
pub mod web;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use spysession_core::{Error, RawStore, Result, StoreKey};

/// A clock tests move by hand: expiry is exact and nothing sleeps.
#[derive(Clone)]
pub struct TestClock(Arc<AtomicU64>);

impl TestClock {
    pub fn at(t: f64) -> Self {
        TestClock(Arc::new(AtomicU64::new(t.to_bits())))
    }
    pub fn now(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::SeqCst))
    }
    pub fn set(&self, t: f64) {
        self.0.store(t.to_bits(), Ordering::SeqCst)
    }
    pub fn advance(&self, dt: f64) {
        self.set(self.now() + dt)
    }
    pub fn as_clock(&self) -> Arc<dyn spysession_core::Clock> {
        let me = self.clone();
        Arc::new(move || me.now())
    }
}

/// A custom store as a Python or C user would write one: a map of bytes.
#[derive(Default)]
pub struct MapStore {
    pub records: Mutex<HashMap<StoreKey, (Vec<u8>, f64)>>,
    pub fail: std::sync::atomic::AtomicBool,
}

impl MapStore {
    fn check(&self) -> Result<()> {
        if self.fail.load(Ordering::SeqCst) {
            Err(Error::Custom("the backend is down".into()))
        } else {
            Ok(())
        }
    }
}

impl RawStore for MapStore {
    fn load(&self, key: &StoreKey) -> Result<Option<Vec<u8>>> {
        self.check()?;
        Ok(self.records.lock().get(key).map(|(b, _)| b.clone()))
    }
    fn save(&self, key: &StoreKey, record: &[u8], expires_at: f64) -> Result<()> {
        self.check()?;
        self.records
            .lock()
            .insert(*key, (record.to_vec(), expires_at));
        Ok(())
    }
    fn delete(&self, key: &StoreKey) -> Result<()> {
        self.check()?;
        self.records.lock().remove(key);
        Ok(())
    }
    fn clean(&self, now: f64) -> Result<u64> {
        self.check()?;
        let mut map = self.records.lock();
        let before = map.len();
        map.retain(|_, (_, t)| *t > now);
        Ok((before - map.len()) as u64)
    }
}

/// The conformance suite: `$make` is an expression giving `(Arc<dyn Store>, guard)`
/// where the guard keeps temporary directories alive. `$inspect` says
/// whether the store has an [`Inspect`](spysession_core::Inspect) side
/// (count, list, raw get and save).
#[macro_export]
macro_rules! store_suite {
    ($name:ident, $make:expr, inspect: $inspect:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            use spysession_core::*;
            use std::sync::Arc;

            fn make() -> (Arc<dyn Store>, Box<dyn std::any::Any>) {
                $make
            }

            fn record(now: f64, expires: f64, pairs: &[(&str, Value)]) -> Record {
                Record::new(
                    now,
                    expires,
                    pairs
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.clone()))
                        .collect(),
                )
            }

            fn update(changes: &Changes, now: f64, expires_at: f64, create: bool) -> Update<'_> {
                Update {
                    changes,
                    now,
                    expires_at,
                    created: now,
                    create,
                    base_accessed: None,
                }
            }

            /// Puts `record` under `key` through a creating commit, the one
            /// write every store has (a custom store has no raw save): the
            /// record's data as the changes, its times as the update's. On a
            /// fresh key the stored record is `record` itself.
            fn put(store: &dyn Store, key: &StoreKey, record: &Record) {
                let mut changes = Changes::default();
                for (k, v) in &record.data {
                    changes.set(k, v.clone());
                }
                let update = Update {
                    changes: &changes,
                    now: record.accessed,
                    expires_at: record.expires_at,
                    created: record.created,
                    create: true,
                    base_accessed: None,
                };
                let committed = store.commit(key, &update, &mut None).unwrap();
                assert!(matches!(committed.outcome, CommitOutcome::Stored { .. }));
            }

            /// Commits through the store and checks what every store promises
            /// of the result: the record as stored (what a load then gives)
            /// exactly when the changes were stored.
            fn commit(store: &dyn Store, key: &StoreKey, update: &Update<'_>) -> CommitOutcome {
                let committed = store.commit(key, update, &mut None).unwrap();
                match committed.outcome {
                    CommitOutcome::Stored { .. } => assert_eq!(
                        committed.record.as_deref(),
                        store.load(key, update.now).unwrap().as_deref(),
                        "a commit returns the record as stored"
                    ),
                    CommitOutcome::NotFound => assert_eq!(committed.record, None),
                }
                committed.outcome
            }

            #[test]
            fn a_commit_returns_the_stored_record_merged_with_another_writers() {
                let (store, _g) = make();
                let key = SessionId::generate().store_key();
                let base = record(0.0, 1000.0, &[("a", Value::Int(0)), ("b", Value::Int(0))]);
                put(&*store, &key, &base);
                let mut loaded = store.load(&key, 1.0).unwrap();
                let mut other = Changes::default();
                other.set("a", Value::Int(1));
                commit(
                    &*store,
                    &key,
                    &Update {
                        base_accessed: Some(0.0),
                        ..update(&other, 2.0, 1000.0, false)
                    },
                );
                let mut mine = Changes::default();
                mine.set("b", Value::Int(2));
                let mine = Update {
                    base_accessed: Some(0.0),
                    ..update(&mine, 3.0, 1003.0, false)
                };
                let committed = store.commit(&key, &mine, &mut loaded).unwrap();
                assert_eq!(committed.outcome, CommitOutcome::Stored { merged: true });
                let shown = committed.record.expect("the stored record");
                assert_eq!(
                    shown.data.get("a"),
                    Some(&Value::Int(1)),
                    "the other writer's change"
                );
                assert_eq!(
                    shown.data.get("b"),
                    Some(&Value::Int(2)),
                    "this commit's change"
                );
                assert_eq!((shown.accessed, shown.expires_at), (3.0, 1003.0));
                assert_eq!(Some(shown), store.load(&key, 4.0).unwrap());
            }

            #[test]
            fn create_load_delete() {
                let (store, _g) = make();
                let key = SessionId::generate().store_key();
                assert_eq!(store.load(&key, 100.0).unwrap(), None);
                let r = record(
                    100.0,
                    200.0,
                    &[("a", Value::Int(1)), ("b", Value::Str("x".into()))],
                );
                put(&*store, &key, &r);
                assert_eq!(store.load(&key, 150.0).unwrap().as_deref(), Some(&r));
                assert!(store.delete(&key).unwrap());
                assert_eq!(store.load(&key, 150.0).unwrap(), None);
            }

            #[test]
            fn inspect_reads_and_writes_raw_records_whatever_their_expiry() {
                let (store, _g) = make();
                assert_eq!(store.inspect().is_some(), $inspect, "which stores inspect");
                let Some(inspect) = store.inspect() else {
                    return;
                };
                let mut keys: Vec<_> = (0..3).map(|_| SessionId::generate().store_key()).collect();
                keys.sort();
                let old = record(10.0, 20.0, &[("a", Value::Int(1))]);
                inspect.save(&keys[0], &old).unwrap();
                inspect.save(&keys[1], &record(10.0, 500.0, &[])).unwrap();
                assert_eq!(
                    inspect.get(&keys[0]).unwrap().as_ref(),
                    Some(&old),
                    "expired, still shown"
                );
                assert_eq!(inspect.get(&keys[2]).unwrap(), None);
                let new = record(10.0, 300.0, &[("b", Value::Int(2))]);
                inspect.save(&keys[0], &new).unwrap();
                assert_eq!(
                    inspect.get(&keys[0]).unwrap().as_ref(),
                    Some(&new),
                    "replaced, not merged"
                );
                assert_eq!(
                    inspect.list().unwrap(),
                    [(keys[0], 300.0), (keys[1], 500.0)]
                );
                assert_eq!(inspect.len().unwrap(), 2);
                assert_eq!(
                    store.stats(),
                    StoreStats::default(),
                    "raw access counts nothing"
                );
                assert_eq!(
                    store.load(&keys[0], 400.0).unwrap(),
                    None,
                    "expired for a request"
                );
            }

            #[test]
            fn expired_records_are_never_returned() {
                let (store, _g) = make();
                let key = SessionId::generate().store_key();
                put(&*store, &key, &record(100.0, 200.0, &[]));
                assert!(store.load(&key, 199.999).unwrap().is_some());
                assert_eq!(
                    store.load(&key, 200.0).unwrap(),
                    None,
                    "now >= expires_at is expired"
                );
            }

            #[test]
            fn clean_removes_exactly_the_expired() {
                let (store, _g) = make();
                let keys: Vec<_> = (0..50).map(|_| SessionId::generate().store_key()).collect();
                for (i, key) in keys.iter().enumerate() {
                    put(
                        &*store,
                        key,
                        &record(0.0, 100.0 + i as f64, &[("i", Value::Int(i as i64))]),
                    );
                }
                assert_eq!(clean_store(&*store, 99.0).unwrap(), 0);
                assert_eq!(
                    clean_store(&*store, 119.0).unwrap(),
                    20,
                    "expires 100..=119 are expired at 119"
                );
                for (i, key) in keys.iter().enumerate() {
                    let present = store.load(key, 0.0).unwrap().is_some();
                    assert_eq!(present, i >= 20, "record {i}");
                }
                if let Some(inspect) = store.inspect() {
                    assert_eq!(inspect.len().unwrap(), 30);
                }
                assert_eq!(store.stats().cleaned, 20);
                assert_eq!(
                    clean_store(&*store, 119.0).unwrap(),
                    0,
                    "clean is idempotent"
                );
            }

            #[test]
            fn a_rewritten_expiry_is_honoured_by_clean() {
                let (store, _g) = make();
                let key = SessionId::generate().store_key();
                put(&*store, &key, &record(0.0, 100.0, &[]));
                put(&*store, &key, &record(0.0, 300.0, &[]));
                assert_eq!(
                    clean_store(&*store, 200.0).unwrap(),
                    0,
                    "the old expiry no longer counts"
                );
                assert!(store.load(&key, 200.0).unwrap().is_some());
                assert_eq!(clean_store(&*store, 300.0).unwrap(), 1);
            }

            #[test]
            fn commit_merges_different_keys() {
                let (store, _g) = make();
                let key = SessionId::generate().store_key();
                put(
                    &*store,
                    &key,
                    &record(0.0, 1000.0, &[("a", Value::Int(0)), ("b", Value::Int(0))]),
                );
                let before = store.stats();
                let mut first = Changes::default();
                first.set("a", Value::Int(1));
                let mut second = Changes::default();
                second.set("b", Value::Int(2));
                second.remove("nothing");
                let u1 = Update {
                    base_accessed: Some(0.0),
                    ..update(&first, 10.0, 1010.0, false)
                };
                let u2 = Update {
                    base_accessed: Some(0.0),
                    ..update(&second, 11.0, 1011.0, false)
                };
                assert_eq!(
                    commit(&*store, &key, &u1),
                    CommitOutcome::Stored { merged: false }
                );
                assert_eq!(
                    commit(&*store, &key, &u2),
                    CommitOutcome::Stored { merged: true }
                );
                let r = store.load(&key, 20.0).unwrap().unwrap();
                assert_eq!(r.data.get("a"), Some(&Value::Int(1)));
                assert_eq!(r.data.get("b"), Some(&Value::Int(2)));
                assert_eq!(r.expires_at, 1011.0);
                assert_eq!(r.accessed, 11.0);
                let stats = store.stats();
                assert_eq!(
                    (stats.commits - before.commits, stats.merges - before.merges),
                    (2, 1)
                );
            }

            #[test]
            fn commit_never_resurrects() {
                let (store, _g) = make();
                let key = SessionId::generate().store_key();
                let mut c = Changes::default();
                c.set("k", Value::Bool(true));
                assert_eq!(
                    commit(&*store, &key, &update(&c, 0.0, 100.0, false)),
                    CommitOutcome::NotFound
                );
                assert_eq!(store.load(&key, 0.0).unwrap(), None);
                put(&*store, &key, &record(0.0, 100.0, &[]));
                assert_eq!(
                    commit(&*store, &key, &update(&c, 100.0, 200.0, false)),
                    CommitOutcome::NotFound,
                    "expired"
                );
                assert_eq!(store.load(&key, 100.0).unwrap(), None);
                assert_eq!(store.stats().dropped, 2);
                assert!(matches!(
                    commit(&*store, &key, &update(&c, 100.0, 200.0, true)),
                    CommitOutcome::Stored { .. }
                ));
                assert_eq!(
                    store.load(&key, 150.0).unwrap().unwrap().data.get("k"),
                    Some(&Value::Bool(true))
                );
            }

            #[test]
            fn stats_count_loads() {
                let (store, _g) = make();
                let key = SessionId::generate().store_key();
                store.load(&key, 0.0).unwrap();
                store.load(&key, 0.0).unwrap();
                assert_eq!(store.stats().loads, 2);
            }

            #[test]
            fn commits_from_many_threads_on_different_keys_all_survive() {
                let (store, _g) = make();
                let key = SessionId::generate().store_key();
                put(&*store, &key, &record(0.0, 1e12, &[]));
                std::thread::scope(|s| {
                    for t in 0..4 {
                        let store = &store;
                        s.spawn(move || {
                            for i in 0..50 {
                                let mut c = Changes::default();
                                c.set(format!("t{t}"), Value::Int(i));
                                store
                                    .commit(&key, &update(&c, 1.0, 1e12, false), &mut None)
                                    .unwrap();
                            }
                        });
                    }
                });
                let r = store.load(&key, 2.0).unwrap().unwrap();
                for t in 0..4 {
                    assert_eq!(
                        r.data.get(&format!("t{t}")),
                        Some(&Value::Int(49)),
                        "thread {t}'s last change"
                    );
                }
            }
        }
    };
}
