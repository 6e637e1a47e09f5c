//! Per-store counters, readable at any time without a lock.
//!
//! The list of counters is written once, in [`counters!`] below: the
//! snapshot struct, the atomics and [`StoreStats::fields`] (what Python's
//! `stats()` and any other renderer iterate) all come from it. The C struct
//! `sps_stats` is spelled out for cbindgen, and a test of the ffi crate
//! holds its fields to [`StoreStats::NAMES`].

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use super::CommitOutcome;

/// Declares the counters: the snapshot, the atomics, the name list.
macro_rules! counters {
    ($( #[doc = $doc:literal] $name:ident, )*) => {
        /// What a store has done since it was opened (per store object).
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        pub struct StoreStats {
            $( #[doc = $doc] pub $name: u64, )*
        }

        /// Atomic counters behind [`StoreStats`].
        #[derive(Debug, Default)]
        pub struct Counters {
            $( $name: AtomicU64, )*
        }

        impl StoreStats {
            /// The counters' names, in order: the one list every binding
            /// renders (Python's `stats()` keys, C's `sps_stats` fields).
            pub const NAMES: &'static [&'static str] = &[$( stringify!($name) ),*];

            /// Each counter with its name, in the order of [`StoreStats::NAMES`].
            pub fn fields(&self) -> impl Iterator<Item = (&'static str, u64)> {
                [$( (stringify!($name), self.$name) ),*].into_iter()
            }
        }

        impl Counters {
            /// A consistent-enough copy of every counter.
            pub fn snapshot(&self) -> StoreStats {
                StoreStats { $( $name: self.$name.load(Relaxed), )* }
            }
        }
    };
}

counters! {
    /// Records looked up.
    loads,
    /// Commits that stored changes or a touch.
    commits,
    /// Commits that merged into a record another request had written meanwhile.
    merges,
    /// Commits dropped because the session was gone (no resurrection).
    dropped,
    /// Damaged records met.
    corrupt,
    /// Expired records removed by clean.
    cleaned,
    /// Records evicted to respect `max_sessions` (bounded MemoryStore).
    evicted,
    /// Requests that presented an id that was malformed or, in strict mode, unknown (or expired): a guessing or fixation attempt shows up here. Counted by the manager, once per request.
    rejected,
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_follow_the_names_and_the_counts() {
        let c = Counters::default();
        c.count_load();
        c.count_commit(CommitOutcome::Stored { merged: true });
        c.count_cleaned(3);
        let s = c.snapshot();
        let fields: Vec<_> = s.fields().collect();
        let names: Vec<_> = fields.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, StoreStats::NAMES);
        let get = |name| fields.iter().find(|(n, _)| *n == name).unwrap().1;
        assert_eq!((get("loads"), get("commits"), get("merges")), (1, 1, 1));
        assert_eq!((get("cleaned"), get("dropped")), (3, 0));
    }
}
