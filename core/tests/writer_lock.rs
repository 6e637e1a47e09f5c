//! Writers of a DbmStore wait for each other on a lock that the kernel
//! gives back when its holder dies (core/src/store/writer_lock.rs), not on
//! LMDB's robust mutex, whose wakeup the soak saw lost when a woken waiter
//! was SIGKILLed (docs/reliability.md, "Soak"). So a waiting writer killed
//! with SIGKILL cannot strand the others. The test binary re-runs itself as
//! the writers; it reads where they wait from /proc, so it runs on Linux.
#![cfg(target_os = "linux")]

mod common;

use std::fs::OpenOptions;
use std::io::{BufRead, BufReader, Write};
use std::os::fd::AsRawFd;
use std::process::Child;
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use common::child::{child, role};
use spysession_core::*;

/// A writer's role: the store directory and its number.
const ROLE: [&str; 2] = ["SPS_WLOCK_DIR", "SPS_WLOCK_N"];
/// Longer than any writer takes to start or to commit on a loaded machine.
const PATIENCE: Duration = Duration::from_secs(120);
const TEST: &str = "a_writer_killed_while_it_waits_does_not_strand_the_next";

/// A writer: opens the store (a write: the format check), commits one new
/// session, then says so.
fn writer(dir: &str, n: &str) -> ! {
    let store = Arc::new(DbmStore::open(dir).unwrap());
    let manager = SessionManager::new(store, Options::default()).unwrap();
    let mut session = manager.begin(&Request::default()).unwrap();
    session.set("writer", Value::Str(n.into()));
    assert!(session.commit().unwrap().committed);
    let mut out = std::io::stdout().lock();
    writeln!(out, "committed {n}").unwrap();
    out.flush().unwrap();
    std::process::exit(0)
}

/// True when a thread of process `pid` is blocked in system call `call`
/// (the test harness runs the writer on a thread of its own).
fn blocked_in(pid: u32, call: i64) -> bool {
    let Ok(threads) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return false;
    };
    threads.filter_map(Result::ok).any(|thread| {
        std::fs::read_to_string(thread.path().join("syscall"))
            .ok()
            .and_then(|text| text.split_whitespace().next()?.parse().ok())
            == Some(call)
    })
}

/// Waits until `writer` sleeps in fcntl: waiting for the writer lock.
fn wait_until_waiting_for_the_lock(writer: &mut Child) {
    let deadline = Instant::now() + PATIENCE;
    while !blocked_in(writer.id(), libc::SYS_fcntl) {
        let exited = writer.try_wait().unwrap();
        assert!(
            exited.is_none(),
            "writer {} ended ({exited:?}) without waiting for the writer lock held by the test",
            writer.id()
        );
        assert!(
            Instant::now() < deadline,
            "writer {} never waited for the lock",
            writer.id()
        );
        // Polling a state of another process; nothing here depends on timing.
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn a_writer_killed_while_it_waits_does_not_strand_the_next() {
    if let Some([dir, n]) = role(ROLE) {
        writer(&dir, &n);
    }
    let dir = tempfile::tempdir().unwrap();
    // The test holds the writer lock as a writer in the middle of a commit would.
    let held = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(dir.path().join("writer.lock"))
        .unwrap();
    // SAFETY: all-zero is a valid `flock`; the fields used are set below.
    let mut range: libc::flock = unsafe { std::mem::zeroed() };
    range.l_type = libc::F_WRLCK as libc::c_short;
    range.l_whence = libc::SEEK_SET as libc::c_short;
    // SAFETY: `held` is an open descriptor and `range` a valid `flock`.
    assert_eq!(
        unsafe { libc::fcntl(held.as_raw_fd(), libc::F_SETLK, &mut range) },
        0
    );

    let spawn = |n: &str| {
        let role = [dir.path().display().to_string(), n.to_string()];
        child(TEST, &ROLE.into_iter().zip(role).collect::<Vec<_>>())
            .spawn()
            .unwrap()
    };
    let mut doomed = spawn("doomed");
    let mut next = spawn("next");
    wait_until_waiting_for_the_lock(&mut doomed);
    wait_until_waiting_for_the_lock(&mut next);

    doomed.kill().unwrap();
    doomed.wait().unwrap();
    // Closing the descriptor gives the lock back, as the death of its
    // holder would.
    drop(held);

    let (tx, rx) = mpsc::channel();
    let stdout = next.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            // The test harness prints on the same line before the writer.
            if let Some(said) = line.split("committed ").nth(1) {
                let _ = tx.send(said.to_string());
                break;
            }
        }
    });
    let said = rx.recv_timeout(PATIENCE);
    if said.is_err() {
        next.kill().unwrap();
    }
    assert_eq!(
        said.as_deref(),
        Ok("next"),
        "the writer behind the killed one never committed"
    );
    assert!(next.wait().unwrap().success());

    let store = DbmStore::open(dir.path()).unwrap();
    assert_eq!(
        store.len().unwrap(),
        1,
        "only the writer that lived committed"
    );
}
