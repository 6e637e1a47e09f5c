//! Criterion benchmarks of the engine, each beside a peer measured in the
//! same run: a `Mutex<HashMap>` of MessagePack blobs (what a hand-written
//! in-memory store does) for MemoryStore, and raw LMDB get/put of a
//! MessagePack map (what a hand-written LMDB store does) for DbmStore.
//!
//! `cargo bench -p spysession-core` (or `make bench`). Set SPS_BENCH_1M=1
//! to add the clean of 1M records.

use std::collections::{BTreeMap, HashMap};
use std::hint::black_box;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use lmdb::{Transaction, WriteFlags};
use spysession_core::*;

fn request(cookie: &str) -> Request<'_> {
    Request {
        cookie: Some(cookie.as_bytes()),
        path: "/",
        ..Default::default()
    }
}

/// A manager on `store` and the cookie of one stored session with a counter.
fn site(store: Arc<dyn Store>) -> (SessionManager, String) {
    let manager = SessionManager::new(store, Options::default()).unwrap();
    let mut s = manager.begin(&request("")).unwrap();
    s.set("counter", Value::Int(0));
    s.set("user", Value::Str("ada".into()));
    let cookie = s
        .commit()
        .unwrap()
        .set_cookie
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    (manager, cookie)
}

fn new_cycle(manager: &SessionManager) {
    let mut s = manager.begin(&request("")).unwrap();
    for (i, key) in ["a", "b", "c", "d", "e"].iter().enumerate() {
        s.set(*key, Value::Int(i as i64));
    }
    black_box(s.commit().unwrap());
}

fn returning_cycle(manager: &SessionManager, cookie: &str) {
    let mut s = manager.begin(&request(cookie)).unwrap();
    let n = match s.get("counter") {
        Some(Value::Int(n)) => *n,
        _ => 0,
    };
    s.set("counter", Value::Int(n + 1));
    black_box(s.commit().unwrap());
}

fn read_only_cycle(manager: &SessionManager, cookie: &str) {
    let mut s = manager.begin(&request(cookie)).unwrap();
    black_box(s.get("user"));
    black_box(s.commit().unwrap());
}

type Blob = BTreeMap<String, Value>;

/// Peer: a plain mutex-guarded map of MessagePack blobs.
fn peer_hashmap_returning(map: &Mutex<HashMap<String, Vec<u8>>>, id: &str) {
    let bytes = map.lock().unwrap().get(id).cloned().unwrap();
    let mut data: Blob = rmp_serde::from_slice(&bytes).unwrap();
    let n = match data.get("counter") {
        Some(Value::Int(n)) => *n,
        _ => 0,
    };
    data.insert("counter".to_string(), Value::Int(n + 1));
    map.lock()
        .unwrap()
        .insert(id.to_string(), rmp_serde::to_vec(&data).unwrap());
}

fn cycles(c: &mut Criterion) {
    let mut group = c.benchmark_group("cycle");
    group
        .measurement_time(Duration::from_secs(3))
        .sample_size(30);

    let (memory, mem_cookie) = site(Arc::new(MemoryStore::default()));
    group.bench_function("memory/new", |b| b.iter(|| new_cycle(&memory)));
    group.bench_function("memory/returning", |b| {
        b.iter(|| returning_cycle(&memory, &mem_cookie))
    });
    group.bench_function("memory/read-only", |b| {
        b.iter(|| read_only_cycle(&memory, &mem_cookie))
    });

    let peer = Mutex::new(HashMap::new());
    let mut seed = Blob::new();
    seed.insert("counter".to_string(), Value::Int(0));
    peer.lock()
        .unwrap()
        .insert("id".to_string(), rmp_serde::to_vec(&seed).unwrap());
    group.bench_function("peer-mutex-hashmap/returning", |b| {
        b.iter(|| peer_hashmap_returning(&peer, "id"))
    });

    for durable in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let store = DbmStore::open_with(
            dir.path(),
            DbmOptions {
                durable,
                ..Default::default()
            },
        )
        .unwrap();
        let (dbm, cookie) = site(Arc::new(store));
        let name = if durable { "dbm-durable" } else { "dbm-nosync" };
        group.bench_function(format!("{name}/new"), |b| b.iter(|| new_cycle(&dbm)));
        group.bench_function(format!("{name}/returning"), |b| {
            b.iter(|| returning_cycle(&dbm, &cookie))
        });
        group.bench_function(format!("{name}/read-only"), |b| {
            b.iter(|| read_only_cycle(&dbm, &cookie))
        });

        // Peer: raw LMDB, same flags, one get + one put of a MessagePack map.
        let peer_dir = tempfile::tempdir().unwrap();
        let mut flags = lmdb::EnvironmentFlags::NO_TLS;
        if !durable {
            flags |= lmdb::EnvironmentFlags::NO_SYNC;
        }
        let env = lmdb::Environment::new()
            .set_flags(flags)
            .set_map_size(1 << 30)
            .open(peer_dir.path())
            .unwrap();
        let db = env.open_db(None).unwrap();
        let mut txn = env.begin_rw_txn().unwrap();
        txn.put(
            db,
            b"id",
            &rmp_serde::to_vec(&seed).unwrap(),
            WriteFlags::empty(),
        )
        .unwrap();
        txn.commit().unwrap();
        group.bench_function(
            format!(
                "peer-raw-lmdb-{}/returning",
                if durable { "sync" } else { "nosync" }
            ),
            |b| {
                b.iter(|| {
                    let mut txn = env.begin_rw_txn().unwrap();
                    let mut data: Blob =
                        rmp_serde::from_slice(txn.get(db, b"id").unwrap()).unwrap();
                    let n = match data.get("counter") {
                        Some(Value::Int(n)) => *n,
                        _ => 0,
                    };
                    data.insert("counter".to_string(), Value::Int(n + 1));
                    txn.put(
                        db,
                        b"id",
                        &rmp_serde::to_vec(&data).unwrap(),
                        WriteFlags::empty(),
                    )
                    .unwrap();
                    txn.commit().unwrap();
                })
            },
        );
        group.bench_function(
            format!(
                "peer-raw-lmdb-{}/read-only",
                if durable { "sync" } else { "nosync" }
            ),
            |b| {
                b.iter(|| {
                    let txn = env.begin_ro_txn().unwrap();
                    let data: Blob = rmp_serde::from_slice(txn.get(db, b"id").unwrap()).unwrap();
                    black_box(data);
                })
            },
        );
    }
    group.finish();
}

fn pieces(c: &mut Criterion) {
    let mut group = c.benchmark_group("piece");
    group.bench_function("id/generate", |b| {
        b.iter(|| black_box(SessionId::generate()))
    });
    let mut data = Data::new();
    for (i, key) in ["a", "b", "c", "d", "e"].iter().enumerate() {
        data.insert(key.to_string(), Value::Int(i as i64));
    }
    let record = Record::new(1.7e9, 1.7e9 + 86400.0, data);
    let bytes = record.encode();
    group.bench_function("record/encode", |b| b.iter(|| black_box(record.encode())));
    group.bench_function("record/decode", |b| {
        b.iter(|| black_box(Record::decode(&bytes).unwrap()))
    });
    let id = SessionId::generate();
    // Once per request that presents an id: SHA-256 of its 16 bytes.
    group.bench_function("store-key/of", |b| {
        b.iter(|| black_box(StoreKey::of(black_box(&id))))
    });
    let header = format!("_ga=GA1.2.3; theme=dark; spysession={id}; csrftoken=abcdef");
    group.bench_function("cookie/find-id", |b| {
        b.iter(|| {
            black_box(
                http::cookie_values(header.as_bytes(), "spysession")
                    .find_map(|v| SessionId::parse(v).ok()),
            )
        })
    });
    group.finish();
}

/// A DbmStore (no sync) holding `total` records, `expired` of them expired at t = 1000.
fn filled_store(total: usize, expired: usize) -> (DbmStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = DbmStore::open_with(
        dir.path(),
        DbmOptions {
            durable: false,
            map_size: 4 << 30,
        },
    )
    .unwrap();
    for i in 0..total {
        let expires = if i < expired { 500.0 } else { 5000.0 };
        store
            .save(
                &SessionId::generate().store_key(),
                &Record::new(0.0, expires, Data::new()),
            )
            .unwrap();
    }
    (store, dir)
}

fn clean(c: &mut Criterion) {
    let mut group = c.benchmark_group("clean-100k");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(5));
    for percent in [0usize, 1, 50] {
        group.bench_function(format!("{percent}%-expired"), |b| {
            b.iter_batched(
                || filled_store(100_000, 100_000 * percent / 100),
                |(store, dir)| {
                    black_box(store.clean(1000.0).unwrap());
                    (store, dir)
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
    if std::env::var_os("SPS_BENCH_1M").is_some() {
        let (store, _dir) = filled_store(1_000_000, 0);
        c.bench_function("clean-1M/0%-expired", |b| {
            b.iter(|| black_box(store.clean(1000.0).unwrap()))
        });
    }
}

fn threads(c: &mut Criterion) {
    let mut group = c.benchmark_group("threads-read-only");
    group
        .measurement_time(Duration::from_secs(3))
        .sample_size(20);
    let dir = tempfile::tempdir().unwrap();
    let stores: Vec<(&str, Arc<dyn Store>)> = vec![
        ("memory", Arc::new(MemoryStore::default())),
        (
            "dbm",
            Arc::new(
                DbmStore::open_with(
                    dir.path(),
                    DbmOptions {
                        durable: false,
                        ..Default::default()
                    },
                )
                .unwrap(),
            ),
        ),
    ];
    for (name, store) in stores {
        let (manager, cookie) = site(store);
        for n in [1usize, 2, 4] {
            // Time per cycle with n threads sharing the work: lower is better.
            group.bench_function(format!("{name}/{n}-threads"), |b| {
                b.iter_custom(|iters| {
                    let per_thread = iters.div_ceil(n as u64);
                    let start = Instant::now();
                    std::thread::scope(|s| {
                        for _ in 0..n {
                            s.spawn(|| {
                                for _ in 0..per_thread {
                                    read_only_cycle(&manager, &cookie);
                                }
                            });
                        }
                    });
                    start.elapsed()
                })
            });
        }
    }
    group.finish();
}

/// Durable commits from 1-8 threads, each on its own session: group commit
/// lets concurrent commits share one write transaction and one sync. The
/// peer is raw LMDB in sync mode, one transaction (one sync) per commit.
fn durable_throughput(c: &mut Criterion) {
    let mut group = c.benchmark_group("durable-commit");
    group
        .measurement_time(Duration::from_secs(4))
        .sample_size(10);
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(DbmStore::open(dir.path()).unwrap());
    for n in [1usize, 2, 4, 8] {
        let sites: Vec<_> = (0..n).map(|_| site(store.clone())).collect();
        group.bench_function(format!("dbm-group-commit/{n}-threads"), |b| {
            b.iter_custom(|iters| {
                let per_thread = iters.div_ceil(n as u64);
                let start = Instant::now();
                std::thread::scope(|s| {
                    for (manager, cookie) in &sites {
                        s.spawn(move || {
                            (0..per_thread).for_each(|_| returning_cycle(manager, cookie))
                        });
                    }
                });
                start.elapsed()
            })
        });
    }
    let peer_dir = tempfile::tempdir().unwrap();
    let env = lmdb::Environment::new()
        .set_flags(lmdb::EnvironmentFlags::NO_TLS)
        .set_map_size(1 << 30)
        .open(peer_dir.path())
        .unwrap();
    let db = env.open_db(None).unwrap();
    for n in [1usize, 8] {
        group.bench_function(format!("peer-raw-lmdb-sync/{n}-threads"), |b| {
            b.iter_custom(|iters| {
                let per_thread = iters.div_ceil(n as u64);
                let start = Instant::now();
                std::thread::scope(|s| {
                    for t in 0..n {
                        let env = &env;
                        s.spawn(move || {
                            for i in 0..per_thread {
                                let mut txn = env.begin_rw_txn().unwrap();
                                txn.put(
                                    db,
                                    &(t as u64).to_be_bytes(),
                                    &i.to_be_bytes(),
                                    WriteFlags::empty(),
                                )
                                .unwrap();
                                txn.commit().unwrap();
                            }
                        });
                    }
                });
                start.elapsed()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, pieces, cycles, clean, threads, durable_throughput);
criterion_main!(benches);
