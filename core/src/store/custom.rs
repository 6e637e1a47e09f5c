//! Stores written outside Rust: a Python subclass or a C callback table
//! implements [`RawStore`] (bytes in, bytes out) and [`CustomStore`] makes it
//! a [`Store`].

use parking_lot::Mutex;

use std::sync::Arc;

use super::{merge, Committed, Counters, Store, Sweep, Update};
use crate::error::Result;
use crate::record::Record;
use crate::store_key::StoreKey;

/// The four calls a custom store provides. Records travel encoded (see
/// [`Record`] for the format), kept by [`StoreKey`]: a custom store never
/// sees a session id.
pub trait RawStore: Send + Sync {
    /// The encoded record under `key`, or `None`.
    fn load(&self, key: &StoreKey) -> Result<Option<Vec<u8>>>;
    /// Stores the encoded record; `expires_at` is repeated for stores that
    /// index or expire by time (a TTL, an index column).
    fn save(&self, key: &StoreKey, record: &[u8], expires_at: f64) -> Result<()>;
    /// Removes the record (no error when absent).
    fn delete(&self, key: &StoreKey) -> Result<()>;
    /// Removes every record expired at `now`; returns how many.
    fn clean(&self, now: f64) -> Result<u64>;
}

/// A [`RawStore`] made into a [`Store`]: decoding, expiry checks and
/// counters are done here, once for every kind of custom store.
///
/// Its commit is a load then a save, made atomic *within this process* by a
/// per-key lock (striped); two processes committing the same session at the
/// same instant through one custom store may still lose one's change.
pub struct CustomStore<R> {
    raw: R,
    counters: Counters,
    commit_locks: Box<[Mutex<()>]>,
}

/// Lock stripes for commits: enough that unrelated sessions rarely share one.
const COMMIT_STRIPES: usize = 64;

impl<R: RawStore> CustomStore<R> {
    /// Wraps `raw`.
    pub fn new(raw: R) -> Self {
        CustomStore {
            raw,
            counters: Counters::default(),
            commit_locks: (0..COMMIT_STRIPES).map(|_| Mutex::new(())).collect(),
        }
    }

    /// The wrapped store.
    pub fn raw(&self) -> &R {
        &self.raw
    }
}

/// The raw store's own `clean`, counted here.
impl<R: RawStore> Sweep for CustomStore<R> {
    fn clean(&self, now: f64) -> Result<u64> {
        let n = self.raw.clean(now)?;
        self.counters.count_cleaned(n);
        Ok(n)
    }
}

impl<R: RawStore> Store for CustomStore<R> {
    fn load(&self, key: &StoreKey, now: f64) -> Result<Option<Arc<Record>>> {
        self.counters.count_load();
        let Some(bytes) = self.raw.load(key)? else {
            return Ok(None);
        };
        let record = Record::decode(&bytes).inspect_err(|_| self.counters.count_corrupt())?;
        Ok((!record.is_expired(now)).then(|| Arc::new(record)))
    }

    fn delete(&self, key: &StoreKey) -> Result<bool> {
        // The raw interface does not say whether a record was there.
        self.raw.delete(key).map(|()| true)
    }

    fn sweep(&self) -> Option<&dyn Sweep> {
        Some(self)
    }

    fn counters(&self) -> &Counters {
        &self.counters
    }

    fn commit(
        &self,
        key: &StoreKey,
        update: &Update<'_>,
        _loaded: &mut Option<Arc<Record>>,
    ) -> Result<Committed> {
        let stripe = key.as_bytes()[0] as usize % COMMIT_STRIPES;
        let _serialised = self.commit_locks[stripe].lock();
        let current = self.load(key, update.now)?.map(Arc::unwrap_or_clone);
        let (record, outcome) = merge(current, update);
        let record = record.map(Arc::new);
        if let Some(record) = &record {
            self.raw.save(key, &record.encode(), record.expires_at)?;
        }
        self.counters.count_commit(outcome);
        Ok(Committed { outcome, record })
    }
}
