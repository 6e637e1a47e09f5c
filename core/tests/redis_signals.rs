//! A signal during a Redis read is not a failed request. CPython installs
//! its signal handlers without `SA_RESTART`, and a process that is stopped
//! and continued (job control, a debugger, a sampling profiler such as
//! py-spy) sees the same: with a read timeout on the socket, the kernel
//! ends the blocked `recv` with `EINTR`. A separate test binary, so the
//! handler installed here touches no other test.
#![cfg(feature = "redis")]

mod redis_harness;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use redis_harness::RedisServer;
use spysession_core::*;

const T0: f64 = 1_700_000_000.0;

extern "C" fn ignore(_: libc::c_int) {}

/// SIGUSR1 gets a handler that does nothing, installed as CPython installs
/// its own: without `SA_RESTART`, so a blocked system call it interrupts
/// fails with `EINTR`.
fn install_handler_without_restart() {
    // SAFETY: a zeroed sigaction is a valid "no flags, empty mask" value;
    // the handler is an `extern "C"` function that touches nothing, so it
    // is async-signal-safe.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = ignore as extern "C" fn(libc::c_int) as usize;
        action.sa_flags = 0;
        libc::sigemptyset(&mut action.sa_mask);
        assert_eq!(
            libc::sigaction(libc::SIGUSR1, &action, std::ptr::null_mut()),
            0
        );
    }
}

#[test]
fn a_signal_during_a_redis_read_is_retried_not_reported() {
    install_handler_without_restart();
    let server = RedisServer::start();
    let options = RedisOptions {
        prefix: "sig:".into(),
        command_timeout: Duration::from_secs(5),
        ..Default::default()
    };
    let store = Arc::new(RedisStore::open_with(&server.url(), options).unwrap());
    let key = SessionId::generate().store_key();
    let mut data = Data::new();
    data.insert("n", Value::Int(7));
    store
        .save(&key, &Record::new(T0, T0 + 3600.0, data))
        .unwrap();

    // The server is stopped, so the load's read blocks; signals land on it
    // while it waits (and, once it is retried, on the new attempts).
    server.pause();
    let (tid_tx, tid_rx) = mpsc::channel();
    let done = Arc::new(AtomicBool::new(false));
    let loader = {
        let (store, done) = (store.clone(), done.clone());
        std::thread::spawn(move || {
            // SAFETY: pthread_self has no preconditions.
            tid_tx.send(unsafe { libc::pthread_self() }).unwrap();
            let loaded = store.load(&key, T0 + 1.0);
            done.store(true, Ordering::SeqCst);
            loaded
        })
    };
    let tid = tid_rx.recv().unwrap();
    // Pacing, not a race dodge: the signals are spread over the time the
    // read is blocked; whichever of them interrupt it, the load must
    // succeed once the server runs again.
    for _ in 0..20 {
        if done.load(Ordering::SeqCst) {
            break;
        }
        // SAFETY: `tid` is the loader thread, alive until it is joined below.
        assert_eq!(unsafe { libc::pthread_kill(tid, libc::SIGUSR1) }, 0);
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        !done.load(Ordering::SeqCst),
        "the load returned while the server was stopped: {:?}",
        loader.join().unwrap()
    );
    server.resume();
    let loaded = loader
        .join()
        .unwrap()
        .expect("an interrupted read is retried");
    assert_eq!(loaded.unwrap().data.get("n"), Some(&Value::Int(7)));
}
