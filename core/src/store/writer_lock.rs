//! The lock a DbmStore writer takes before LMDB's own writer mutex.
//!
//! LMDB serialises the writers of every process with a robust pthread mutex
//! in `lock.mdb`. The soak (docs/reliability.md, "Soak") found that when a
//! process waiting for that mutex is SIGKILLed just as it is woken, the
//! wakeup can be lost: the mutex is free and the other waiters sleep for
//! ever, and with them every later writer on the machine.
//!
//! So every write transaction first takes this lock: a POSIX record lock
//! (`fcntl(F_SETLKW)`) on a file of its own, `writer.lock` beside the data.
//! The kernel drops a record lock when its process dies, however it dies,
//! and hands it to the next waiter itself, so a killed waiter cannot strand
//! the others. Behind it at most one process at a time reaches LMDB's
//! mutex, which then never has a waiter in another process to lose (threads
//! of one process die together). A record lock belongs to the process, not
//! the thread, so an in-process mutex admits one thread at a time first.
//!
//! The lock is held only around the transaction (begin to commit); the
//! fsync of a durable commit happens after it, so the next writer does not
//! wait for this one's disk.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use parking_lot::{Mutex, MutexGuard};

use crate::error::Result;

/// The file name of the lock in a DbmStore's directory.
pub(crate) const FILE_NAME: &str = "writer.lock";

/// One environment's writer lock, opened once per process (with the
/// environment, see `env_registry`).
pub(crate) struct WriterLock {
    file: File,
    /// One thread of this process at a time holds the record lock.
    threads: Mutex<()>,
}

/// Held while a write transaction is open; unlocks on drop.
pub(crate) struct WriterGuard<'a> {
    lock: &'a WriterLock,
    _thread: MutexGuard<'a, ()>,
}

impl WriterLock {
    /// Opens (creating it if needed) the lock file in `dir`.
    pub fn open(dir: &Path) -> Result<WriterLock> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            // As LMDB creates its own files.
            .mode(0o644)
            .open(dir.join(FILE_NAME))?;
        Ok(WriterLock {
            file,
            threads: Mutex::new(()),
        })
    }

    /// Waits for the lock; it is held until the guard is dropped.
    pub fn lock(&self) -> Result<WriterGuard<'_>> {
        let thread = self.threads.lock();
        loop {
            match self.fcntl(libc::F_SETLKW, libc::F_WRLCK as libc::c_short) {
                Ok(()) => break,
                // A signal handler ran while we waited: wait again.
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Ok(WriterGuard {
            lock: self,
            _thread: thread,
        })
    }

    /// `fcntl(cmd)` with a lock of `kind` over the whole file.
    fn fcntl(&self, cmd: libc::c_int, kind: libc::c_short) -> io::Result<()> {
        // SAFETY: all-zero is a valid `flock` (a plain C struct of integers);
        // the fields that matter are set below.
        let mut range: libc::flock = unsafe { std::mem::zeroed() };
        range.l_type = kind;
        range.l_whence = libc::SEEK_SET as libc::c_short;
        // l_start 0, l_len 0: the whole file.
        // SAFETY: the descriptor is open for as long as `self.file` lives,
        // and `range` is a valid `flock` that fcntl only reads (F_SETLK and
        // F_SETLKW do not write it back).
        let rc = unsafe { libc::fcntl(self.file.as_raw_fd(), cmd, &mut range) };
        if rc == -1 {
            Err(io::Error::last_os_error())
        } else {
            Ok(())
        }
    }
}

impl Drop for WriterGuard<'_> {
    fn drop(&mut self) {
        // Unlocking a lock this process holds on an open descriptor cannot
        // fail; were it to, the kernel still drops it when the process exits.
        let _ = self
            .lock
            .fcntl(libc::F_SETLK, libc::F_UNLCK as libc::c_short);
    }
}
