//! Stores written outside Rust: a Python subclass or a C callback table
//! implements [`RawStore`] (bytes in, bytes out) and [`CustomStore`] makes it
//! a [`Store`].

use super::{Counters, Store};
use crate::error::{Error, Result};
use crate::id::SessionId;
use crate::record::Record;

/// The four calls a custom store provides. Records travel encoded (see
/// [`Record`] for the format); ids are always well-formed.
pub trait RawStore: Send + Sync {
    /// The encoded record for `id`, or `None`.
    fn load(&self, id: &SessionId) -> Result<Option<Vec<u8>>>;
    /// Stores the encoded record; `expires_at` is repeated for stores that
    /// index or expire by time (a TTL, an index column).
    fn save(&self, id: &SessionId, record: &[u8], expires_at: f64) -> Result<()>;
    /// Removes the record (no error when absent).
    fn delete(&self, id: &SessionId) -> Result<()>;
    /// Removes every record expired at `now`; returns how many.
    fn clean(&self, now: f64) -> Result<u64>;
}

/// A [`RawStore`] made into a [`Store`]: decoding, expiry checks and
/// counters are done here, once for every kind of custom store.
///
/// Its commit is the trait's default (load, then save): not atomic.
pub struct CustomStore<R> {
    raw: R,
    counters: Counters,
}

impl<R: RawStore> CustomStore<R> {
    /// Wraps `raw`.
    pub fn new(raw: R) -> Self {
        CustomStore {
            raw,
            counters: Counters::default(),
        }
    }

    /// The wrapped store.
    pub fn raw(&self) -> &R {
        &self.raw
    }
}

impl<R: RawStore> Store for CustomStore<R> {
    fn load(&self, id: &SessionId, now: f64) -> Result<Option<Record>> {
        self.counters.count_load();
        let Some(bytes) = self.raw.load(id)? else {
            return Ok(None);
        };
        let record = Record::decode(&bytes).inspect_err(|_| self.counters.count_corrupt())?;
        Ok((!record.is_expired(now)).then_some(record))
    }

    fn save(&self, id: &SessionId, record: &Record) -> Result<()> {
        self.raw.save(id, &record.encode(), record.expires_at)
    }

    fn delete(&self, id: &SessionId) -> Result<bool> {
        // The raw interface does not say whether a record was there.
        self.raw.delete(id).map(|()| true)
    }

    fn clean(&self, now: f64) -> Result<u64> {
        let n = self.raw.clean(now)?;
        self.counters.count_cleaned(n);
        Ok(n)
    }

    fn len(&self) -> Result<u64> {
        Err(Error::Unsupported("len"))
    }

    fn counters(&self) -> &Counters {
        &self.counters
    }
}
