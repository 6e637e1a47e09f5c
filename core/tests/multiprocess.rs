//! Several OS processes, each with several threads, committing to one
//! DbmStore directory at once lose no change, while a clean runs beside them
//! and removes only the expired records. The test re-runs its own binary as
//! the workers.
//!
//! `make test` runs 2,400 commits; the ignored soak test (`make soak`) runs
//! the same harness with 100,000 and prints its figures.

mod common;

use std::process::Stdio;
use std::sync::Arc;
use std::time::Instant;

use common::child::{child, role};
use common::web::{commit_for_cookie, request};
use spysession_core::*;

const WORKERS: usize = 4;
const THREADS: usize = 4;
const COMMITS: i64 = 150;
/// Commits per thread in the soak: 4 × 4 × 6,250 = 100,000.
const SOAK_COMMITS: i64 = 6_250;
const EXPIRED: usize = 3000;
/// A worker's role: the store directory, the cookie, its number, its
/// commits per thread.
const ROLE: [&str; 4] = [
    "SPS_WORKER_DIR",
    "SPS_WORKER_COOKIE",
    "SPS_WORKER_N",
    "SPS_WORKER_COMMITS",
];

/// One worker process: THREADS threads, each committing its own key
/// `commits` times to the shared session.
fn worker(dir: &str, cookie: &str, n: usize, commits: i64) {
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
                for i in 1..=commits {
                    let mut s = manager.begin(&request(cookie)).unwrap();
                    assert!(!s.is_new(), "worker {n}.{t} lost the shared session");
                    let key = format!("worker{n}.{t}");
                    // Only this thread writes its key: its previous commit
                    // must be there, whatever the others committed since.
                    let previous = (i > 1).then_some(Value::Int(i - 1));
                    assert_eq!(
                        s.get(&key),
                        previous.as_ref(),
                        "worker {n}.{t}: commit {} lost",
                        i - 1
                    );
                    s.set(key, Value::Int(i));
                    assert!(s.commit().unwrap().committed);
                }
            });
        }
    });
}

#[test]
fn processes_commit_to_one_dbm_store_without_losing_a_change() {
    commit_from_processes(
        "processes_commit_to_one_dbm_store_without_losing_a_change",
        COMMITS,
    );
}

/// `make soak`: the same harness, SOAK_COMMITS commits per thread.
#[test]
#[ignore = "soak: run by `make soak`"]
fn soak_processes_commit_to_one_dbm_store_without_losing_a_change() {
    commit_from_processes(
        "soak_processes_commit_to_one_dbm_store_without_losing_a_change",
        SOAK_COMMITS,
    );
}

/// WORKERS processes × THREADS threads × `commits` commits to one session
/// while a clean removes EXPIRED expired records beside them; every
/// thread's last value is there and only the expired records are gone.
/// `test_name` is the calling test, which the workers re-run.
fn commit_from_processes(test_name: &str, commits: i64) {
    if let Some([dir, cookie, n, commits]) = role(ROLE) {
        worker(&dir, &cookie, n.parse().unwrap(), commits.parse().unwrap());
        return;
    }
    let started = Instant::now();
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
                commits.to_string(),
            ];
            child(test_name, &ROLE.into_iter().zip(role).collect::<Vec<_>>())
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
                Some(&Value::Int(commits)),
                "worker {n}.{t}'s last change"
            );
        }
    }
    assert_eq!(s.get("owner"), Some(&Value::Str("parent".into())));
    assert_eq!(store.len().unwrap(), 1);
    assert!(expired.iter().all(|id| store.get(id).unwrap().is_none()));
    eprintln!(
        "multiprocess: {WORKERS} processes × {THREADS} threads × {commits} = {} commits \
         on one session, 0 lost, {cleaned} expired records cleaned beside them, {:.1} s",
        WORKERS as i64 * THREADS as i64 * commits,
        started.elapsed().as_secs_f64()
    );
}
