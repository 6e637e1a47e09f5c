//! The [`Store`] trait, what commit asks of a store, and the counters every
//! store keeps.
//!
//! Built-in stores: [`MemoryStore`] (one process, fastest) and [`DbmStore`]
//! (LMDB, shared by every process of the machine). Stores written outside
//! Rust (a Python subclass, a C callback table) implement the smaller
//! [`RawStore`] and are wrapped in a [`CustomStore`].

mod closable;
mod counters;
mod custom;
mod dbm;
mod dbm_format;
mod env_registry;
mod group_commit;
mod memory;
mod pid;
#[cfg(feature = "redis")]
mod redis;
mod url;
mod writer_lock;

#[cfg(feature = "redis")]
pub use self::redis::{RedisOptions, RedisStore};
pub use closable::Closable;
pub use counters::{Counters, StoreStats};
pub use custom::{CustomStore, RawStore};
pub use dbm::{DbmOptions, DbmStore};
pub use memory::MemoryStore;
pub use url::{redact_url, StoreUrl};
#[cfg(feature = "redis")]
pub use url::{RedisAuth, RedisNode};

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::record::{Changes, Record};
use crate::store_key::StoreKey;

/// What [`Store::commit`] is asked to do for one session.
#[derive(Debug)]
pub struct Update<'a> {
    /// The keys this request set or removed.
    pub changes: &'a Changes,
    /// The time of the commit (becomes the record's `accessed`).
    pub now: f64,
    /// The record's new expiry.
    pub expires_at: f64,
    /// The creation time to give the record if this commit creates it.
    pub created: f64,
    /// True for a new session: create the record if it is absent. False for
    /// a loaded session: if the record is gone or expired, store nothing
    /// (no resurrection).
    pub create: bool,
    /// The `accessed` stamp of the record when this request loaded it; a
    /// different stamp at commit means another request wrote in between and
    /// this commit merges into its result.
    pub base_accessed: Option<f64>,
}

/// What a commit did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommitOutcome {
    /// The changes were stored; `merged` when another request had written
    /// the record since this one loaded it.
    Stored {
        /// Another writer got there first and the changes were merged.
        merged: bool,
    },
    /// The session no longer exists (deleted or expired): nothing was stored.
    NotFound,
}

/// What [`Store::commit`] returns: what it did, and the record as stored
/// after it (`Some` exactly when the outcome is `Stored`), which the session
/// then shows. So every store gives the same view after a commit: the
/// request's changes merged into whatever another request stored meanwhile.
#[derive(Clone, Debug, PartialEq)]
pub struct Committed {
    /// What the commit did.
    pub outcome: CommitOutcome,
    /// The stored record, when the outcome is `Stored`.
    pub record: Option<Arc<Record>>,
}

/// Where session records live.
///
/// Object-safe and small on purpose: the manager needs only `load`,
/// `commit` (one way in, one way out: records are shared as `Arc`s, so a
/// store that keeps decoded records, `MemoryStore`, hands out its own) and
/// `delete`. Records are kept by [`StoreKey`] (a hash of the session id): a
/// store never sees an id.
pub trait Store: Send + Sync {
    /// The record under `key`, or `None` when there is none or it is
    /// expired at `now`.
    fn load(&self, key: &StoreKey, now: f64) -> Result<Option<Arc<Record>>>;
    /// Removes the record; true when there was one.
    fn delete(&self, key: &StoreKey) -> Result<bool>;
    /// The store's counters (see [`StoreStats`]).
    fn counters(&self) -> &Counters;

    /// A snapshot of the counters.
    fn stats(&self) -> StoreStats {
        self.counters().snapshot()
    }

    /// The store's [`Inspect`] side, when it has one (the built-in stores
    /// do; a custom store, which has only its four raw calls, does not).
    fn inspect(&self) -> Option<&dyn Inspect> {
        None
    }

    /// The store's [`Sweep`] side, when it can remove expired records (every
    /// built-in store and every [`CustomStore`] can; a store that expires
    /// records by itself need not).
    fn sweep(&self) -> Option<&dyn Sweep> {
        None
    }

    /// Applies `update` to the record as it is stored now, and returns the
    /// outcome with the stored record. `loaded` is the record this session
    /// got from [`Store::load`] (or `None`): a store that shares its records
    /// takes it back when it is still the stored one, so the record is
    /// changed in place rather than copied.
    ///
    /// Built-in stores do this atomically (one lock, one LMDB write
    /// transaction, one Redis script); a [`CustomStore`] serialises its
    /// commits in this process, around a load and a save.
    fn commit(
        &self,
        key: &StoreKey,
        update: &Update<'_>,
        loaded: &mut Option<Arc<Record>>,
    ) -> Result<Committed>;
}

/// What operators' tools (the command line, Python's `store.save`, tests)
/// may ask of a store beyond what a request needs: counting, listing, and
/// raw reads and writes that bypass expiry and merging. A separate trait, so
/// a store that cannot do these (a custom store, which has only its four raw
/// calls) simply lacks it rather than failing at run time.
pub trait Inspect: Send + Sync {
    /// The number of records held (expired but not yet cleaned included).
    fn len(&self) -> Result<u64>;
    /// True when the store holds no record.
    fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }
    /// Every record's store key with its expiry, in store key order,
    /// expired ones included.
    fn list(&self) -> Result<Vec<(StoreKey, f64)>>;
    /// The record under `key` whatever its expiry (tools show expired
    /// records too), or `None`. Not counted as a load; an undecodable
    /// record is [`Error::Corrupt`], counted as `corrupt`.
    fn get(&self, key: &StoreKey) -> Result<Option<Record>>;
    /// Stores `record` under `key` as it is, replacing whatever was there:
    /// no merge, no counter (a raw put, for tools and tests).
    fn save(&self, key: &StoreKey, record: &Record) -> Result<()>;
}

/// Removing expired records, apart from what a request needs (tower-sessions'
/// `ExpiredDeletion`): run from a scheduler through [`clean_store`].
pub trait Sweep: Send + Sync {
    /// Removes every record expired at `now`; returns how many, and counts
    /// them in the store's `cleaned` counter.
    fn clean(&self, now: f64) -> Result<u64>;
}

/// The merge every store's commit performs: `current` is the stored record
/// (already `None` when expired). Returns the record to write, if any.
pub fn merge(current: Option<Record>, update: &Update<'_>) -> (Option<Record>, CommitOutcome) {
    let mut record = match current {
        Some(record) => record,
        None if update.create => Record::new(update.created, update.expires_at, Default::default()),
        None => return (None, CommitOutcome::NotFound),
    };
    let outcome = merge_into(&mut record, update);
    (Some(record), outcome)
}

/// [`merge`] into a live record in place.
pub fn merge_into(record: &mut Record, update: &Update<'_>) -> CommitOutcome {
    let merged = match update.base_accessed {
        Some(base) => base != record.accessed,
        None => false,
    };
    update.changes.apply_to(&mut record.data);
    record.accessed = update.now;
    record.expires_at = update.expires_at;
    CommitOutcome::Stored { merged }
}

/// Removes every expired record of `store` (Spyce's `clean_store`); returns
/// how many were removed. A store without a [`Sweep`] side is
/// [`Error::Unsupported`]`("clean")`.
///
/// ```
/// use spysession_core::{clean_store, Inspect, MemoryStore, Record, SessionId};
/// let store = MemoryStore::default();
/// store.save(&SessionId::generate().store_key(), &Record::new(0.0, 10.0, Default::default()))?;
/// assert_eq!(clean_store(&store, 5.0)?, 0);
/// assert_eq!(clean_store(&store, 10.0)?, 1);
/// # Ok::<(), spysession_core::Error>(())
/// ```
pub fn clean_store<S: Store + ?Sized>(store: &S, now: f64) -> Result<u64> {
    store.sweep().ok_or(Error::Unsupported("clean"))?.clean(now)
}

/// Turns an expiry time into a key that sorts by time (big-endian bits of a
/// non-negative float sort like the float).
pub(crate) fn expiry_key(expires_at: f64) -> [u8; 8] {
    let t = if expires_at.is_nan() || expires_at < 0.0 {
        0.0
    } else {
        expires_at
    };
    t.to_bits().to_be_bytes()
}
