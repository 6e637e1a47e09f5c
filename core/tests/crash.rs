//! Crash safety: writer processes killed with SIGKILL at random moments lose
//! no change they reported committed, the expiry index stays consistent, and
//! the store keeps accepting writes. The test binary re-runs itself as the
//! writers.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;

use spysession_core::*;

const ROUNDS: usize = 8;
const WRITERS: usize = 3;
const TEST_NAME: &str = "writers_killed_mid_write_lose_no_committed_change";

/// A writer: commits `writerN = i` for i = 1, 2, ... forever, printing each
/// i once its commit returned (durable: fsynced).
fn writer(dir: &str, cookie: &str, n: usize, start: i64) -> ! {
    let store = Arc::new(DbmStore::open(dir).unwrap());
    let manager = SessionManager::new(store, Options::default()).unwrap();
    let request = Request {
        cookie: Some(cookie.as_bytes()),
        path: "/",
        ..Default::default()
    };
    let mut out = std::io::stdout().lock();
    for i in start.. {
        let mut s = manager.begin(&request).unwrap();
        s.set(format!("writer{n}"), Value::Int(i));
        // Each commit also creates a session of its own, so records and the
        // expiry index grow while the kills happen.
        let mut own = manager
            .begin(&Request {
                path: "/",
                ..Default::default()
            })
            .unwrap();
        own.set("i", Value::Int(i));
        own.commit().unwrap();
        assert!(s.commit().unwrap().committed);
        writeln!(out, "{i}").unwrap();
        out.flush().unwrap();
    }
    unreachable!()
}

#[test]
fn writers_killed_mid_write_lose_no_committed_change() {
    if let (Ok(dir), Ok(cookie), Ok(n), Ok(start)) = (
        std::env::var("SPS_CRASH_DIR"),
        std::env::var("SPS_CRASH_COOKIE"),
        std::env::var("SPS_CRASH_N"),
        std::env::var("SPS_CRASH_START"),
    ) {
        writer(&dir, &cookie, n.parse().unwrap(), start.parse().unwrap());
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
    s.set("shared", Value::Bool(true));
    let set_cookie = s.commit().unwrap().set_cookie.unwrap();
    let cookie = set_cookie.split(';').next().unwrap().to_string();
    let request = Request {
        cookie: Some(cookie.as_bytes()),
        path: "/",
        ..Default::default()
    };

    let exe = std::env::current_exe().unwrap();
    let mut confirmed = [0i64; WRITERS];
    let mut kills = 0;
    for round in 0..ROUNDS {
        let mut children: Vec<_> = (0..WRITERS)
            .map(|n| {
                Command::new(&exe)
                    .args([TEST_NAME, "--exact", "--nocapture", "--test-threads=1"])
                    .env("SPS_CRASH_DIR", dir.path())
                    .env("SPS_CRASH_COOKIE", &cookie)
                    .env("SPS_CRASH_N", n.to_string())
                    .env("SPS_CRASH_START", (confirmed[n] + 1).to_string())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap()
            })
            .collect();
        // Read a varying number of confirmations from each writer, then kill
        // it: it is somewhere inside its next commit or between two.
        for (n, child) in children.iter_mut().enumerate() {
            // The test harness prints its own lines too: keep the numbers.
            let numbers = BufReader::new(child.stdout.take().unwrap())
                .lines()
                .map_while(Result::ok)
                .filter_map(|line| line.trim().parse::<i64>().ok());
            let want = 3 + (round * 7 + n * 5) % 17;
            for i in numbers.take(want) {
                confirmed[n] = i;
            }
            child.kill().unwrap();
            child.wait().unwrap();
            kills += 1;
        }
        // Every confirmed change is there (a later, unconfirmed one may be too).
        let s = manager.begin(&request).unwrap();
        for (n, &last) in confirmed.iter().enumerate() {
            match s.get(&format!("writer{n}")) {
                Some(Value::Int(v)) => assert!(
                    *v >= last,
                    "round {round}: writer {n} confirmed {last}, store has {v}"
                ),
                other => panic!("round {round}: writer {n} confirmed {last}, store has {other:?}"),
            }
        }
    }
    assert_eq!(kills, ROUNDS * WRITERS);

    // The expiry index matches the records one to one.
    let index = store.list().unwrap();
    assert_eq!(index.len() as u64, store.len().unwrap());
    let now = system_now();
    for (id, expires) in &index {
        let record = store
            .load(id, now)
            .unwrap()
            .expect("indexed record present");
        assert_eq!(record.expires_at, *expires);
    }
    // And the store still takes writes.
    let mut s = manager.begin(&request).unwrap();
    s.set("after", Value::Int(1));
    assert!(s.commit().unwrap().committed);
    assert_eq!(
        manager.begin(&request).unwrap().get("after"),
        Some(&Value::Int(1))
    );
}
