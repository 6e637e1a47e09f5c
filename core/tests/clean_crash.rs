//! A clean killed with SIGKILL at a random moment: every batch it reported
//! done stays done, no live record is lost, the expiry index stays
//! consistent, and the next clean finishes the work. The test binary re-runs
//! itself as the cleaning process.

mod common;

use std::io::{BufRead, BufReader, Write};

use common::child::{assert_index_matches, child, role};
use spysession_core::*;

const ROUNDS: usize = 4;
const TEST_NAME: &str = "a_clean_killed_mid_way_loses_nothing_and_is_finished_by_the_next";
const NOW: f64 = 1000.0;

/// The cleaning process: a durable clean, printing the running total
/// after each batch (once it is committed and synced).
fn cleaner(dir: &str) -> ! {
    let store = DbmStore::open(dir).unwrap();
    let mut out = std::io::stdout().lock();
    store
        .clean_with_progress(NOW, |n| {
            writeln!(out, "removed {n}").unwrap();
            out.flush().unwrap();
        })
        .unwrap();
    std::process::exit(0)
}

fn record(expires_at: f64) -> Record {
    let mut data = Data::new();
    data.insert("user", "ada".into());
    Record::new(0.0, expires_at, data)
}

#[test]
fn a_clean_killed_mid_way_loses_nothing_and_is_finished_by_the_next() {
    if let Some([dir]) = role(["SPS_CLEAN_CRASH_DIR"]) {
        cleaner(&dir);
    }
    let dir = tempfile::tempdir().unwrap();
    let mut live = Vec::new();
    let mut due_total = 0u64;
    let mut removed_total = 0u64;
    for round in 0..ROUNDS {
        {
            // More due records and live ones beside them, written without
            // sync (then closed: the cleaner opens its own durable files).
            let options = DbmOptions {
                durable: false,
                ..Default::default()
            };
            let store = DbmStore::open_with(dir.path(), options).unwrap();
            for i in 0..24_000 {
                let id = SessionId::generate().store_key();
                if i % 4 == 0 {
                    store.save(&id, &record(NOW + 1.0 + i as f64)).unwrap();
                    live.push((id, NOW + 1.0 + i as f64));
                } else {
                    store.save(&id, &record((i % 500) as f64)).unwrap();
                    due_total += 1;
                }
            }
        }
        let role = [("SPS_CLEAN_CRASH_DIR", dir.path().display().to_string())];
        let mut child = child(TEST_NAME, &role).spawn().unwrap();
        // Wait for a varying number of finished batches, then kill it: it
        // is inside a later batch, between two, or done.
        let want = 1 + round % 3;
        let confirmed = BufReader::new(child.stdout.take().unwrap())
            .lines()
            .map_while(Result::ok)
            // The test harness prints on the same lines: find ours.
            .filter_map(|line| line.rsplit_once("removed ")?.1.trim().parse::<u64>().ok())
            .take(want)
            .last()
            .expect("the cleaner reports its first batch");
        child.kill().unwrap();
        child.wait().unwrap();

        let store = DbmStore::open(dir.path()).unwrap();
        let left = store.len().unwrap() - live.len() as u64;
        assert!(
            left <= due_total - removed_total - confirmed,
            "round {round}: {confirmed} removals confirmed, yet {left} of {} due records remain",
            due_total - removed_total
        );
        removed_total = due_total - left;
        for (id, expires) in &live {
            let r = store
                .load(id, NOW)
                .unwrap()
                .expect("a live record survives");
            assert_eq!(r.expires_at, *expires);
        }
        assert_index_matches(&store);
    }
    // The next clean finishes the work, and leaves exactly the live records.
    let store = DbmStore::open(dir.path()).unwrap();
    assert_eq!(store.clean(NOW).unwrap(), due_total - removed_total);
    let mut want = live.clone();
    want.sort_by_key(|(id, _)| *id);
    assert_eq!(store.list().unwrap(), want);
}
