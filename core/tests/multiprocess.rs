//! Several OS processes, each with several threads, committing to one
//! DbmStore directory at once lose no change, while a clean runs beside them
//! and removes only the expired records. The test re-runs its own binary as
//! the workers.

mod common;

use std::process::Stdio;
use std::sync::Arc;

use common::child::{child, role};
use common::web::{commit_for_cookie, request};
use spysession_core::*;

const WORKERS: usize = 4;
const THREADS: usize = 4;
const COMMITS: i64 = 150;
const EXPIRED: usize = 3000;
const TEST_NAME: &str = "processes_commit_to_one_dbm_store_without_losing_a_change";
/// A worker's role: the store directory, the cookie, its number.
const ROLE: [&str; 3] = ["SPS_WORKER_DIR", "SPS_WORKER_COOKIE", "SPS_WORKER_N"];

/// One worker process: THREADS threads, each committing its own key
/// COMMITS times to the shared session.
fn worker(dir: &str, cookie: &str, n: usize) {
    let store = Arc::new(
        DbmStore::open_with(
            dir,
            DbmOptions {
                durable: false,
                ..Default::default()
            },
        )
        .unwrap(),
    );
    let manager = SessionManager::new(
        store,
        Options {
            touch_interval: Some(0.0),
            ..Options::default()
        },
    )
    .unwrap();
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let manager = &manager;
            scope.spawn(move || {
                for i in 1..=COMMITS {
                    let mut s = manager.begin(&request(cookie)).unwrap();
                    assert!(!s.is_new(), "worker {n}.{t} lost the shared session");
                    s.set(format!("worker{n}.{t}"), Value::Int(i));
                    assert!(s.commit().unwrap().committed);
                }
            });
        }
    });
}

#[test]
fn processes_commit_to_one_dbm_store_without_losing_a_change() {
    if let Some([dir, cookie, n]) = role(ROLE) {
        worker(&dir, &cookie, n.parse().unwrap());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(DbmStore::open(dir.path()).unwrap());
    let manager = SessionManager::new(store.clone(), Options::default()).unwrap();
    let mut s = manager
        .begin(&Request {
            path: "/",
            ..Default::default()
        })
        .unwrap();
    s.set("owner", Value::Str("parent".into()));
    let cookie = commit_for_cookie(&mut s);
    // Records that expired long ago, for the concurrent clean to remove.
    let expired: Vec<_> = (0..EXPIRED)
        .map(|_| SessionId::generate().store_key())
        .collect();
    for id in &expired {
        store.save(id, &Record::new(0.0, 1.0, Data::new())).unwrap();
    }

    let children: Vec<_> = (0..WORKERS)
        .map(|n| {
            let role = [
                dir.path().display().to_string(),
                cookie.clone(),
                n.to_string(),
            ];
            child(TEST_NAME, &ROLE.into_iter().zip(role).collect::<Vec<_>>())
                .stdout(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    // Clean while the workers write: it must remove exactly the expired.
    let cleaned = store.clean(system_now()).unwrap();
    for mut child in children {
        assert!(child.wait().unwrap().success(), "a worker failed");
    }
    assert_eq!(cleaned, EXPIRED as u64);
    let s = manager.begin(&request(&cookie)).unwrap();
    for n in 0..WORKERS {
        for t in 0..THREADS {
            assert_eq!(
                s.get(&format!("worker{n}.{t}")),
                Some(&Value::Int(COMMITS)),
                "worker {n}.{t}'s last change"
            );
        }
    }
    assert_eq!(s.get("owner"), Some(&Value::Str("parent".into())));
    assert_eq!(store.len().unwrap(), 1);
    assert!(expired
        .iter()
        .all(|id| store.load_any(id).unwrap().is_none()));
}
