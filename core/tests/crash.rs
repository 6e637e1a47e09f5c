//! Crash safety: writer processes killed with SIGKILL at random moments lose
//! no change they reported committed, the expiry index stays consistent, and
//! the store keeps accepting writes. The test binary re-runs itself as the
//! writers.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::sync::Arc;

use common::child::{assert_index_matches, child, role};
use common::web::{commit_for_cookie, request};
use spysession_core::*;

const ROUNDS: usize = 8;
const WRITERS: usize = 3;
const TEST_NAME: &str = "writers_killed_mid_write_lose_no_committed_change";
/// A writer's role: the store directory, the cookie, its number, its first i.
const ROLE: [&str; 4] = [
    "SPS_CRASH_DIR",
    "SPS_CRASH_COOKIE",
    "SPS_CRASH_N",
    "SPS_CRASH_START",
];

/// A writer: commits `writerN = i` for i = 1, 2, ... forever, printing each
/// i once its commit returned (durable: fsynced).
fn writer(dir: &str, cookie: &str, n: usize, start: i64) -> ! {
    let store = Arc::new(DbmStore::open(dir).unwrap());
    let manager = SessionManager::new(store, Options::default()).unwrap();
    let request = request(cookie);
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
    if let Some([dir, cookie, n, start]) = role(ROLE) {
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
    let cookie = commit_for_cookie(&mut s);
    let request = request(&cookie);

    let mut confirmed = [0i64; WRITERS];
    let mut kills = 0;
    for round in 0..ROUNDS {
        let mut children: Vec<_> = (0..WRITERS)
            .map(|n| {
                let role = [
                    dir.path().display().to_string(),
                    cookie.clone(),
                    n.to_string(),
                    (confirmed[n] + 1).to_string(),
                ];
                child(TEST_NAME, &ROLE.into_iter().zip(role).collect::<Vec<_>>())
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

    assert_index_matches(&store);
    // And the store still takes writes.
    let mut s = manager.begin(&request).unwrap();
    s.set("after", Value::Int(1));
    assert!(s.commit().unwrap().committed);
    assert_eq!(
        manager.begin(&request).unwrap().get("after"),
        Some(&Value::Int(1))
    );
}
