//! The current process id, without a system call on every store operation.
//!
//! A DbmStore checks on every call whether it runs in the process that
//! opened its LMDB environment (a forked child must reopen it). glibc does
//! not cache `getpid()`, and the syscall was ~15% of a read-only request in
//! `perf`. So the id is cached and a `pthread_atfork` child handler clears
//! the cache in every forked child.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Once;

/// 0 = not known (never read, or cleared in a forked child).
static CACHED: AtomicU32 = AtomicU32::new(0);
static REGISTER: Once = Once::new();

extern "C" fn forget_in_child() {
    CACHED.store(0, Ordering::SeqCst);
}

/// The id of the calling process.
pub(crate) fn current() -> u32 {
    REGISTER.call_once(|| {
        // SAFETY: registers a plain function that only stores to an atomic,
        // which is async-signal-safe as a fork handler must be. The return
        // value only reports ENOMEM; then the cache is simply never used.
        let rc = unsafe { libc::pthread_atfork(None, None, Some(forget_in_child)) };
        if rc != 0 {
            CACHED.store(u32::MAX, Ordering::SeqCst);
        }
    });
    match CACHED.load(Ordering::Relaxed) {
        u32::MAX => std::process::id(),
        0 => {
            let pid = std::process::id();
            CACHED.store(pid, Ordering::Relaxed);
            pid
        }
        pid => pid,
    }
}
