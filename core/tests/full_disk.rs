//! A DbmStore on a disk that fills up: commits fail with an error, the
//! process lives, every earlier commit stays readable, and writes work again
//! once space is freed.
//!
//! The disk is a 4 MiB tmpfs (mounting needs root, as CI runs; without it
//! the test says so on stderr and passes without running). The store runs
//! in a child process (this test binary again, told by an environment
//! variable), so a SIGBUS from a memory-mapped write kills the child and
//! fails the test instead of killing the test runner.

// tmpfs and mount(8): Linux.
#![cfg(target_os = "linux")]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use spysession_core::*;

/// Set in the child: the directory (on the small tmpfs) to fill.
const CHILD_DIR: &str = "SPYSESSION_FULL_DISK_DIR";

/// Unmounts the tmpfs when the test ends, however it ends.
struct Mounted(PathBuf);

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

fn mount_small_tmpfs(dir: &Path) -> Option<Mounted> {
    let status = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=4m", "tmpfs"])
        .arg(dir)
        .status();
    match status {
        Ok(s) if s.success() => Some(Mounted(dir.to_path_buf())),
        other => {
            eprintln!(
                "\n*** full_disk: SKIPPED: cannot mount a 4 MiB tmpfs at {} ({other:?}); \
                 run as root (CI does) to test a full disk ***\n",
                dir.display()
            );
            None
        }
    }
}

#[test]
fn a_full_disk_is_a_store_error_and_the_process_lives() {
    let mount_point = tempfile::tempdir().unwrap();
    let Some(_mounted) = mount_small_tmpfs(mount_point.path()) else {
        return;
    };
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_fills_the_disk",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_DIR, mount_point.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    print!("{stdout}");
    assert!(
        out.status.success(),
        "the child died or failed ({:?}; a signal means the process was killed, \
         SIGBUS being a write through a memory map onto a full disk)\n{stdout}\n{stderr}",
        out.status
    );
    assert!(
        stdout.contains("full_disk child: ok"),
        "the child ran: {stdout}"
    );
}

/// The child's part: only runs when the parent set [`CHILD_DIR`].
#[test]
fn child_fills_the_disk() {
    let Some(dir) = std::env::var_os(CHILD_DIR).map(PathBuf::from) else {
        return;
    };
    // Ballast: freed later, so the store can write again.
    let ballast = dir.join("ballast");
    std::fs::write(&ballast, vec![1u8; 1 << 20]).unwrap();
    let options = DbmOptions {
        map_size: 64 << 20,
        durable: true,
    };
    let store = Arc::new(DbmStore::open_with(dir.join("sessions"), options).unwrap());
    let manager = SessionManager::new(store.clone(), Options::default()).unwrap();
    let value = Value::Str("x".repeat(2048));
    let mut committed = Vec::new();
    let error = loop {
        let mut s = manager
            .begin(&Request {
                path: "/",
                ..Default::default()
            })
            .unwrap();
        s.set("payload", value.clone());
        s.set("n", Value::Int(committed.len() as i64));
        match s.commit() {
            Ok(result) => {
                assert!(result.committed);
                committed.push(s.id());
            }
            Err(e) => break e,
        }
        assert!(committed.len() < 100_000, "a 4 MiB disk never filled");
    };
    println!(
        "full_disk child: {} commits, then: {error}",
        committed.len()
    );
    assert!(
        matches!(error, Error::StoreFull | Error::Io(_) | Error::Lmdb(_)),
        "{error:?}"
    );
    assert!(
        committed.len() > 100,
        "the disk held only {}",
        committed.len()
    );
    // Every earlier commit is intact.
    let check_all = |committed: &[SessionId]| {
        for (n, id) in committed.iter().enumerate() {
            let record = store.load(&id.store_key(), system_now()).unwrap();
            let record = record.unwrap_or_else(|| panic!("commit {n} was lost"));
            assert_eq!(record.data.get("n"), Some(&Value::Int(n as i64)));
        }
    };
    check_all(&committed);
    // Space freed: writes work again.
    std::fs::remove_file(&ballast).unwrap();
    for _ in 0..20 {
        let mut s = manager
            .begin(&Request {
                path: "/",
                ..Default::default()
            })
            .unwrap();
        s.set("payload", value.clone());
        s.set("n", Value::Int(committed.len() as i64));
        assert!(s.commit().expect("a write after space was freed").committed);
        committed.push(s.id());
    }
    check_all(&committed);
    println!("full_disk child: ok");
}
