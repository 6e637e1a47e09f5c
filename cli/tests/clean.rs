//! `spysession clean`: exactly the expired records go, one summary line,
//! and web processes may keep writing meanwhile.

mod common;

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use common::*;
use spysession_core::{Inspect, Record, Store, StoreKey};

const NOW_ARG: &str = "1700000000";

#[test]
fn clean_removes_exactly_the_expired_and_prints_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path());
    let (live, expired) = fill(&store, 7, 5);
    let out = run(&["clean", "--store", arg(dir.path()), "--now", NOW_ARG]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.starts_with("removed 5 expired sessions in "), "{text}");
    assert!(text.ends_with(" ms\n"), "{text}");
    assert!(
        out.stderr.is_empty(),
        "no progress bar off a terminal: {}",
        stderr(&out)
    );
    for id in &expired {
        assert!(store.get(id).unwrap().is_none(), "{id} survived");
    }
    for id in &live {
        assert!(store.load(id, NOW).unwrap().is_some(), "{id} was removed");
    }
    assert_eq!(store.len().unwrap(), 7);

    let again = run(&[
        "clean",
        "--store",
        arg(dir.path()),
        "--now",
        NOW_ARG,
        "--json",
    ]);
    let doc = json(&again);
    assert_eq!(doc["removed"], 0, "a second clean finds nothing");
    assert_eq!(doc["now"], NOW);
}

#[test]
fn clean_without_now_uses_the_system_clock() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path());
    // Relative to the real clock: one long expired, one far in the future.
    let old = put(&store, 1000.0, 1);
    let future = put(&store, 4e9, 2);
    let doc = json(&run(&["clean", "--store", arg(dir.path()), "--json"]));
    assert_eq!(doc["removed"], 1);
    assert!(
        doc["now"].as_f64().unwrap() > NOW,
        "the clock is after 2023"
    );
    assert!(store.get(&old).unwrap().is_none());
    assert!(store.get(&future).unwrap().is_some());
}

#[test]
fn clean_in_many_batches_is_exact_while_another_writer_is_busy() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path());
    // 12000 expired: three write transactions of at most 5000 removals.
    let (live, expired) = fill(&store, 300, 12000);

    let stop = AtomicBool::new(false);
    let (started, first_write) = mpsc::channel();
    let written: Vec<StoreKey> = std::thread::scope(|scope| {
        // A web process's work: new sessions, and existing live ones
        // re-saved (their expiry index entry moves), until clean is done.
        let writer = scope.spawn(|| {
            let mut written = Vec::new();
            let mut i = 0i64;
            while !stop.load(Ordering::Relaxed) {
                written.push(put(&store, NOW + 7200.0, i));
                let again = &live[i as usize % live.len()];
                let mut record =
                    Record::clone(&store.load(again, NOW).unwrap().expect("live record"));
                record.expires_at += 1.0;
                store.save(again, &record).unwrap();
                if i == 0 {
                    started.send(()).unwrap();
                }
                i += 1;
            }
            written
        });
        first_write.recv().unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_spysession"))
            .args(["clean", "--store", arg(dir.path()), "--now", NOW_ARG])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out = child.wait_with_output().unwrap();
        stop.store(true, Ordering::Relaxed);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert!(
            stdout(&out).starts_with("removed 12000 expired sessions in "),
            "{}",
            stdout(&out)
        );
        writer.join().unwrap()
    });

    assert!(!written.is_empty());
    for id in &expired {
        assert!(store.get(id).unwrap().is_none(), "expired {id} survived");
    }
    for id in live.iter().chain(&written) {
        assert!(store.load(id, NOW).unwrap().is_some(), "{id} was lost");
    }
    assert_eq!(store.len().unwrap(), (live.len() + written.len()) as u64);
    let index = store.list().unwrap();
    assert_eq!(
        index.len(),
        live.len() + written.len(),
        "the expiry index matches"
    );
    assert!(index.iter().all(|(_, t)| *t > NOW));
}

#[test]
fn a_long_clean_on_a_terminal_shows_a_progress_bar_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path());
    fill(&store, 10, 4500);
    // script(1) gives the command a pseudo-terminal; its output is the
    // terminal's, stdout and stderr together.
    let command = format!(
        "{} clean --store {} --now {NOW_ARG} --progress-after-ms 0",
        env!("CARGO_BIN_EXE_spysession"),
        arg(dir.path())
    );
    let out = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .expect("script(1) from util-linux");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let screen = stdout(&out);
    assert!(
        screen.contains("expired sessions removed"),
        "no bar in {screen:?}"
    );
    assert!(
        screen.contains("/4500 expired sessions removed"),
        "{screen:?}"
    );
    assert!(
        screen.contains("removed 4500 expired sessions in "),
        "{screen:?}"
    );
    assert_eq!(store.len().unwrap(), 10);
}
