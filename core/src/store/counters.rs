//! Per-store counters, readable at any time without a lock.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use super::CommitOutcome;

/// What a store has done since it was opened (per store object).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StoreStats {
    /// Records looked up.
    pub loads: u64,
    /// Commits that stored changes or a touch.
    pub commits: u64,
    /// Commits that merged into a record another request had written meanwhile.
    pub merges: u64,
    /// Commits dropped because the session was gone (no resurrection).
    pub dropped: u64,
    /// Damaged records met.
    pub corrupt: u64,
    /// Expired records removed by clean.
    pub cleaned: u64,
    /// Records evicted to respect `max_sessions` (bounded MemoryStore).
    pub evicted: u64,
    /// Requests that presented an id that was malformed or, in strict mode,
    /// unknown (or expired): a guessing or fixation attempt shows up here.
    /// Counted by the manager, once per request.
    pub rejected: u64,
}

/// Atomic counters behind [`StoreStats`].
#[derive(Debug, Default)]
pub struct Counters {
    loads: AtomicU64,
    commits: AtomicU64,
    merges: AtomicU64,
    dropped: AtomicU64,
    corrupt: AtomicU64,
    cleaned: AtomicU64,
    evicted: AtomicU64,
    rejected: AtomicU64,
}

impl Counters {
    /// Counts one load.
    pub fn count_load(&self) {
        self.loads.fetch_add(1, Relaxed);
    }
    /// Counts one damaged record.
    pub fn count_corrupt(&self) {
        self.corrupt.fetch_add(1, Relaxed);
    }
    /// Counts `n` cleaned records.
    pub fn count_cleaned(&self, n: u64) {
        self.cleaned.fetch_add(n, Relaxed);
    }
    /// Counts `n` evicted records.
    pub fn count_evicted(&self, n: u64) {
        self.evicted.fetch_add(n, Relaxed);
    }
    /// Counts one request that presented a rejected id.
    pub fn count_rejected(&self) {
        self.rejected.fetch_add(1, Relaxed);
    }
    /// Counts a commit by its outcome.
    pub fn count_commit(&self, outcome: CommitOutcome) {
        match outcome {
            CommitOutcome::Stored { merged } => {
                self.commits.fetch_add(1, Relaxed);
                if merged {
                    self.merges.fetch_add(1, Relaxed);
                }
            }
            CommitOutcome::NotFound => {
                self.dropped.fetch_add(1, Relaxed);
            }
        }
    }
    /// A consistent-enough copy of every counter.
    pub fn snapshot(&self) -> StoreStats {
        StoreStats {
            loads: self.loads.load(Relaxed),
            commits: self.commits.load(Relaxed),
            merges: self.merges.load(Relaxed),
            dropped: self.dropped.load(Relaxed),
            corrupt: self.corrupt.load(Relaxed),
            cleaned: self.cleaned.load(Relaxed),
            evicted: self.evicted.load(Relaxed),
            rejected: self.rejected.load(Relaxed),
        }
    }
}
