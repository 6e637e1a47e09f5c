//! Read-only throughput of one DbmStore from 1 and 2 processes: LMDB readers
//! take no lock, so two processes should read nearly twice as fast as one
//! (the target in the README's Speed section: at least 1.7x). Each process runs read-only request
//! cycles (begin with the cookie, read a key, commit without a write) for a
//! fixed time and reports its count.
//!
//! `cargo run --release -p spysession-core --example read_scaling [SECONDS]`

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use spysession_core::*;

fn reader(dir: &str, cookie: &str, seconds: f64) -> u64 {
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
    let manager = SessionManager::new(store, Options::default()).unwrap();
    let request = Request {
        cookie: Some(cookie.as_bytes()),
        path: "/",
        ..Default::default()
    };
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let mut cycles = 0u64;
    while Instant::now() < deadline {
        for _ in 0..1000 {
            let mut s = manager.begin(&request).unwrap();
            assert!(s.get("user").is_some());
            s.commit().unwrap();
        }
        cycles += 1000;
    }
    cycles
}

fn run(processes: usize, dir: &str, cookie: &str, seconds: f64) -> f64 {
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..processes)
        .map(|_| {
            Command::new(&exe)
                .args(["--reader", dir, cookie, &seconds.to_string()])
                .stdout(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let total: u64 = children
        .into_iter()
        .map(|c| {
            String::from_utf8(c.wait_with_output().unwrap().stdout)
                .unwrap()
                .trim()
                .parse::<u64>()
                .unwrap()
        })
        .sum();
    total as f64 / seconds
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--reader") {
        println!("{}", reader(&args[2], &args[3], args[4].parse().unwrap()));
        return;
    }
    let seconds: f64 = args.get(1).map_or(3.0, |s| s.parse().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(DbmStore::open(dir.path()).unwrap());
    let manager = SessionManager::new(store, Options::default()).unwrap();
    let mut s = manager.begin(&Request::default()).unwrap();
    s.set("user", Value::Str("ada".into()));
    let cookie = s
        .commit()
        .unwrap()
        .set_cookie
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let dir = dir.path().to_str().unwrap();

    let one = run(1, dir, &cookie, seconds);
    let two = run(2, dir, &cookie, seconds);
    println!("| processes | read-only cycles/s | µs/cycle per process |");
    println!("|---:|---:|---:|");
    println!("| 1 | {one:.0} | {:.3} |", 1e6 / one);
    println!("| 2 | {two:.0} | {:.3} |", 2e6 / two);
    println!(
        "2 processes / 1 process = {:.2}x (target >= 1.7x, {} cores)",
        two / one,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
}
