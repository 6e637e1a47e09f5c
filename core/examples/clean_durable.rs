//! Time of a DbmStore clean: 100,000 sessions of five small keys, half of
//! them expired, written through a non-durable store, then cleaned; for
//! each clean its time, CPU time, the bytes of pages it dirtied (the
//! kernel's `write_bytes`: a page counts again each time it is dirtied after
//! being written out) and its batches. The numbers quoted in
//! `DbmStore::clean_in_windows` (core/src/store/dbm/clean.rs) come from here.
//!
//! `cargo run --release -p spysession-core --example clean_durable [DIR] [ROUNDS]`
//!
//! Three setups, each timed from the first batch to the end of the clean,
//! the fill's pages written to disk first (`sync()`, skipped when the
//! environment variable NOPRESYNC is set):
//! - `shared-env`: the durable store opens the directory while the filling
//!   store is still open, so both use the non-durable environment and the
//!   durable store syncs after each of its commits (what bench/backends.py does);
//! - `durable-env`: the filling store is closed first and the durable store
//!   opens its own, durable, environment (LMDB syncs at each commit);
//! - `nosync`: the filling store cleans, without syncs.
//!
//! The expired half all expire at one time (as in bench/backends.py, whose
//! clock stands still while it fills), so their index entries come in id
//! order; with SPREAD set their expiries are spread over 997 times, as on a
//! site, so the index order is not the id order.
//!
//! DIR must be on a real disk (not tmpfs) for the syncs to mean anything.

use std::time::Instant;

use spysession_core::*;

const TOTAL: usize = 100_000;
const NOW: f64 = 1000.0;

fn fill(dir: &std::path::Path) -> DbmStore {
    let spread = std::env::var_os("SPREAD").is_some();
    let nosync = DbmOptions {
        durable: false,
        ..Default::default()
    };
    let store = DbmStore::open_with(dir, nosync).unwrap();
    for i in 0..TOTAL {
        let mut data = Data::new();
        data.insert("user", "ada".into());
        data.insert("lang", "en".into());
        data.insert("cart", 3i64.into());
        data.insert("theme", "dark".into());
        data.insert("counter", 0i64.into());
        let expires = match (i < TOTAL / 2, spread) {
            (true, false) => 500.0,
            (true, true) => (i % 997) as f64,
            (false, _) => 5000.0,
        };
        store
            .save(
                &SessionId::generate().store_key(),
                &Record::new(0.0, expires, data),
            )
            .unwrap();
    }
    store
}

/// Bytes this process has caused to be written to storage so far.
fn written_bytes() -> u64 {
    let io = std::fs::read_to_string("/proc/self/io").unwrap_or_default();
    io.lines()
        .find_map(|l| l.strip_prefix("write_bytes: "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

fn sync_all() {
    if std::env::var_os("NOPRESYNC").is_some() {
        return;
    }
    // SAFETY: sync() takes no arguments and cannot fail.
    unsafe { libc::sync() };
}

/// CPU seconds (user + system) of this process so far.
fn cpu_seconds() -> f64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `usage` is a valid out-pointer that getrusage fills on success.
    let usage = unsafe {
        libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr());
        usage.assume_init()
    };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}

/// Cleans through `store`, printing one line; returns the milliseconds.
fn timed_clean(label: &str, store: &DbmStore) -> f64 {
    let (bytes0, cpu0, t0) = (written_bytes(), cpu_seconds(), Instant::now());
    let mut last = t0;
    let mut batches = Vec::new();
    let removed = store
        .clean_with_progress(NOW, |_| {
            let now = Instant::now();
            batches.push((now - last).as_secs_f64() * 1e3);
            last = now;
        })
        .unwrap();
    let ms = t0.elapsed().as_secs_f64() * 1e3;
    let cpu_ms = (cpu_seconds() - cpu0) * 1e3;
    assert_eq!(removed, (TOTAL / 2) as u64);
    let mib = (written_bytes() - bytes0) as f64 / (1 << 20) as f64;
    let longest = batches.iter().cloned().fold(0.0, f64::max);
    println!(
        "{label:11} {ms:6.1} ms ({cpu_ms:5.1} CPU)  {mib:5.1} MiB dirtied  {} batches, longest {longest:.1} ms",
        batches.len()
    );
    ms
}

fn main() {
    let mut args = std::env::args().skip(1);
    let base = args.next().unwrap_or_else(|| "target/clean-durable".into());
    let rounds: usize = args.next().map_or(3, |r| r.parse().unwrap());
    let base = std::path::PathBuf::from(base);
    let durable = DbmOptions::default();
    let (mut shared, mut own, mut nosync) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let dir = base.join(format!("shared{round}"));
        let _ = std::fs::remove_dir_all(&dir);
        let filler = fill(&dir);
        let store = DbmStore::open_with(&dir, durable).unwrap();
        sync_all(); // the fill's pages are on disk before the clock starts
        shared.push(timed_clean("shared-env", &store));
        drop((store, filler));
        std::fs::remove_dir_all(&dir).unwrap();

        let dir = base.join(format!("own{round}"));
        let _ = std::fs::remove_dir_all(&dir);
        drop(fill(&dir));
        let store = DbmStore::open_with(&dir, durable).unwrap();
        sync_all();
        own.push(timed_clean("durable-env", &store));
        drop(store);
        std::fs::remove_dir_all(&dir).unwrap();

        let dir = base.join(format!("nosync{round}"));
        let _ = std::fs::remove_dir_all(&dir);
        let store = fill(&dir);
        sync_all();
        nosync.push(timed_clean("nosync", &store));
        drop(store);
        std::fs::remove_dir_all(&dir).unwrap();
    }
    for (label, mut v) in [
        ("shared-env", shared),
        ("durable-env", own),
        ("nosync", nosync),
    ] {
        v.sort_by(f64::total_cmp);
        println!(
            "{label:11} median {:5.1} ms, min {:5.1} ms",
            v[v.len() / 2],
            v[0]
        );
    }
}
