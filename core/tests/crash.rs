//! Crash safety: writer processes killed with SIGKILL at random moments lose
//! no change they reported committed, the expiry index stays consistent, and
//! the store keeps accepting writes. The test binary re-runs itself as the
//! writers.
//!
//! `make test` runs 8 rounds; the ignored soak test (`make soak`) runs the
//! same harness for 100 rounds and prints its figures.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use common::child::{assert_index_matches, child, role};
use common::web::{commit_for_cookie, request};
use spysession_core::*;

const ROUNDS: usize = 8;
const SOAK_ROUNDS: usize = 100;
const WRITERS: usize = 3;
/// How long a writer may go without confirming a commit before the test
/// calls it hung (a durable commit takes milliseconds, seconds when loaded).
const HUNG: Duration = Duration::from_secs(120);
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
    kill_writers("writers_killed_mid_write_lose_no_committed_change", ROUNDS);
}

/// `make soak`: the same harness, SOAK_ROUNDS rounds.
#[test]
#[ignore = "soak: run by `make soak`"]
fn soak_writers_killed_mid_write_lose_no_committed_change() {
    kill_writers(
        "soak_writers_killed_mid_write_lose_no_committed_change",
        SOAK_ROUNDS,
    );
}

/// `rounds` rounds of WRITERS writer processes, each SIGKILLed after a
/// varying number of confirmed commits; after every round each writer's
/// last confirmed commit is in the store and the expiry index matches the
/// records. `test_name` is the calling test, which the writers re-run.
fn kill_writers(test_name: &str, rounds: usize) {
    if let Some([dir, cookie, n, start]) = role(ROLE) {
        writer(&dir, &cookie, n.parse().unwrap(), start.parse().unwrap());
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
    s.set("shared", Value::Bool(true));
    let cookie = commit_for_cookie(&mut s);
    let request = request(&cookie);

    let mut confirmed = [0i64; WRITERS];
    let mut kills = 0;
    let mut confirmations = 0u64;
    for round in 0..rounds {
        let mut children: Vec<_> = (0..WRITERS)
            .map(|n| {
                let role = [
                    dir.path().display().to_string(),
                    cookie.clone(),
                    n.to_string(),
                    (confirmed[n] + 1).to_string(),
                ];
                child(test_name, &ROLE.into_iter().zip(role).collect::<Vec<_>>())
                    .spawn()
                    .unwrap()
            })
            .collect();
        // Each writer's confirmations, read by a thread of its own so that no
        // writer ever blocks on a full pipe while another one is awaited.
        let confirmations_of: Vec<_> = children
            .iter_mut()
            .map(|child| {
                let (tx, rx) = mpsc::channel();
                let stdout = child.stdout.take().unwrap();
                std::thread::spawn(move || {
                    // The test harness prints its own lines too: keep the numbers.
                    for i in BufReader::new(stdout)
                        .lines()
                        .map_while(Result::ok)
                        .filter_map(|line| line.trim().parse::<i64>().ok())
                    {
                        if tx.send(i).is_err() {
                            break;
                        }
                    }
                });
                rx
            })
            .collect();
        // Read a varying number of confirmations from each writer, then kill
        // it: it is somewhere inside its next commit or between two.
        for (n, rx) in confirmations_of.iter().enumerate() {
            let want = 3 + (round * 7 + n * 5) % 17;
            for _ in 0..want {
                match rx.recv_timeout(HUNG) {
                    Ok(i) => {
                        confirmed[n] = i;
                        confirmations += 1;
                    }
                    // A commit takes milliseconds: turn a hang into a failure
                    // that says where it is, instead of a test that never ends.
                    Err(e) => {
                        let pid = children[n].id();
                        for child in &mut children {
                            let _ = child.kill();
                            let _ = child.wait();
                        }
                        panic!(
                            "round {round}: writer {n} (pid {pid}) confirmed nothing more \
                             after {} ({e:?}): it hung or died",
                            confirmed[n]
                        );
                    }
                }
            }
            children[n].kill().unwrap();
            children[n].wait().unwrap();
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
        assert_index_matches(&store);
    }
    assert_eq!(kills, rounds * WRITERS);
    // And the store still takes writes.
    let mut s = manager.begin(&request).unwrap();
    s.set("after", Value::Int(1));
    assert!(s.commit().unwrap().committed);
    assert_eq!(
        manager.begin(&request).unwrap().get("after"),
        Some(&Value::Int(1))
    );
    eprintln!(
        "crash: {rounds} rounds, {kills} SIGKILLs, {} confirmed durable commits, 0 lost, \
         {} records, index 1:1 after every round, {:.1} s",
        confirmations,
        store.len().unwrap(),
        started.elapsed().as_secs_f64()
    );
}
