//! The current process id, without a system call on every store operation.
//!
//! A DbmStore checks on every call whether it runs in the process that
//! opened its LMDB environment (a forked child must reopen it). glibc does
//! not cache `getpid()`, and the syscall was ~15% of a read-only request in
//! `perf`. So the id is cached and a `pthread_atfork` child handler clears
//! the cache in every forked child (POSIX: Linux, macOS, the BSDs). Off
//! Unix, or with the cargo feature `portable`, the id is asked every time.

#[cfg(all(unix, not(feature = "portable")))]
use std::sync::atomic::{AtomicU32, Ordering};
#[cfg(all(unix, not(feature = "portable")))]
use std::sync::Once;

/// 0 = not known (never read, or cleared in a forked child).
#[cfg(all(unix, not(feature = "portable")))]
static CACHED: AtomicU32 = AtomicU32::new(0);
#[cfg(all(unix, not(feature = "portable")))]
static REGISTER: Once = Once::new();

#[cfg(all(unix, not(feature = "portable")))]
extern "C" fn forget_in_child() {
    CACHED.store(0, Ordering::SeqCst);
}

/// The id of the calling process.
#[cfg(any(not(unix), feature = "portable"))]
pub(crate) fn current() -> u32 {
    std::process::id()
}

/// The id of the calling process.
#[cfg(all(unix, not(feature = "portable")))]
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
