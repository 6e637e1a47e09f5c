//! Several OS processes, each with several threads, committing to one
//! DbmStore directory at once lose no change, while a clean runs beside them
//! and removes only the expired records. The test re-runs its own binary as
//! the workers.

use std::process::Command;
use std::sync::Arc;

use spysession_core::*;

const WORKERS: usize = 4;
const THREADS: usize = 4;
const COMMITS: i64 = 150;
const EXPIRED: usize = 3000;
const TEST_NAME: &str = "processes_commit_to_one_dbm_store_without_losing_a_change";

fn begin_request(cookie: &str) -> Request<'_> {
    Request {
        cookie: Some(cookie.as_bytes()),
        path: "/",
        ..Default::default()
    }
}

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
                    let mut s = manager.begin(&begin_request(cookie)).unwrap();
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
    if let (Ok(dir), Ok(cookie), Ok(n)) = (
        std::env::var("SPS_WORKER_DIR"),
        std::env::var("SPS_WORKER_COOKIE"),
        std::env::var("SPS_WORKER_N"),
    ) {
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
    let set_cookie = s.commit().unwrap().set_cookie.unwrap();
    let cookie = set_cookie.split(';').next().unwrap().to_string();
    // Records that expired long ago, for the concurrent clean to remove.
    let expired: Vec<_> = (0..EXPIRED)
        .map(|_| SessionId::generate().store_key())
        .collect();
    for id in &expired {
        store.save(id, &Record::new(0.0, 1.0, Data::new())).unwrap();
    }

    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..WORKERS)
        .map(|n| {
            Command::new(&exe)
                .args([TEST_NAME, "--exact", "--nocapture", "--test-threads=1"])
                .env("SPS_WORKER_DIR", dir.path())
                .env("SPS_WORKER_COOKIE", &cookie)
                .env("SPS_WORKER_N", n.to_string())
                .stdout(std::process::Stdio::null())
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
    let s = manager.begin(&begin_request(&cookie)).unwrap();
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
