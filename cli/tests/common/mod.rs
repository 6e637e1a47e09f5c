//! Helpers shared by the command's tests: a store (DbmStore or RedisStore)
//! filled through the core library, and runs of the built `spysession` binary.

#![allow(dead_code)] // each test file uses a different part of this module

pub mod suite;

use std::path::Path;
use std::process::{Command, Output};

use spysession_core::{Data, DbmOptions, DbmStore, Inspect, Record, SessionId, StoreKey, Value};

/// The time every test judges expiry by (`--now`).
pub const NOW: f64 = 1_700_000_000.0;
/// Map size of the test stores: small, and different from the default so
/// `stats` proves it reports the store's own size.
pub const MAP_SIZE: usize = 64 << 20;

/// Opens (creating) a store the way a web process would.
pub fn open_store(dir: &Path) -> DbmStore {
    let options = DbmOptions {
        map_size: MAP_SIZE,
        durable: false,
    };
    DbmStore::open_with(dir, options).expect("open the test store")
}

/// Saves a record expiring at `expires_at` holding `visited = n` under a
/// new session id; returns its store key (what `list` shows).
pub fn put(store: &(impl Inspect + ?Sized), expires_at: f64, n: i64) -> StoreKey {
    put_id(store, expires_at, n).store_key()
}

/// [`put`], returning the session id (what `show ID` takes).
pub fn put_id(store: &(impl Inspect + ?Sized), expires_at: f64, n: i64) -> SessionId {
    let id = SessionId::generate();
    let mut data = Data::new();
    data.insert("visited".to_string(), Value::Int(n));
    store
        .save(&id.store_key(), &Record::new(NOW - 100.0, expires_at, data))
        .expect("save");
    id
}

/// Fills `store` with `live` sessions expiring after [`NOW`] and `expired`
/// ones expired at it; returns their store keys, each list sorted.
pub fn fill(
    store: &(impl Inspect + ?Sized),
    live: usize,
    expired: usize,
) -> (Vec<StoreKey>, Vec<StoreKey>) {
    let mut l: Vec<_> = (0..live)
        .map(|i| put(store, NOW + 3600.0 + i as f64, i as i64))
        .collect();
    // The last expired one expires exactly at NOW: expired (now >= expires_at).
    let mut e: Vec<_> = (0..expired)
        .map(|i| put(store, NOW - i as f64, i as i64))
        .collect();
    l.sort();
    e.sort();
    (l, e)
}

/// Runs the built binary with `args`.
pub fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spysession"))
        .args(args)
        .output()
        .expect("run spysession")
}

/// Stdout as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("utf-8 stdout")
}

/// Stderr as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("utf-8 stderr")
}

/// Stdout parsed as JSON, after checking the run succeeded.
pub fn json(output: &Output) -> serde_json::Value {
    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(output));
    serde_json::from_slice(&output.stdout).expect("stdout is JSON")
}

/// `path` as a `&str` argument.
pub fn arg(path: &Path) -> &str {
    path.to_str().expect("utf-8 temp path")
}

/// Checks `list` output: one line per store key, in key order, each ending
/// in its state (`live` or `expired`).
pub fn assert_listed(text: &str, live: &[StoreKey], expired: &[StoreKey]) {
    let lines: Vec<&str> = text.lines().collect();
    let mut all: Vec<StoreKey> = live.iter().chain(expired).copied().collect();
    all.sort();
    assert_eq!(lines.len(), all.len(), "{text}");
    for (line, id) in lines.iter().zip(&all) {
        let state = if expired.contains(id) {
            "expired"
        } else {
            "live"
        };
        assert!(line.starts_with(&id.to_string()), "{line}");
        assert!(line.ends_with(state), "{line} should be {state}");
    }
}

/// The store keys of a `list --json` document, in order.
pub fn keys_of(doc: &serde_json::Value) -> Vec<String> {
    doc["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["key"].as_str().unwrap().to_string())
        .collect()
}
