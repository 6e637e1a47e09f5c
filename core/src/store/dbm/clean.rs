//! Clean: the due entries of the expiry index, read in windows, sorted by
//! key and removed in batches, each its own write transaction.

use lmdb::{Cursor, RwTransaction, Transaction, WriteFlags};

use super::super::env_registry::SharedEnv;
use super::super::expiry_key;
use super::index::{index_key, split_expiry_key, stored_expiry};
use super::DbmStore;
use crate::error::Result;
use crate::record::Record;
use crate::store_key::StoreKey;

/// Expired records removed per write transaction by clean: small enough that
/// other processes' writers wait milliseconds, not seconds (a batch holds the
/// write lock ~2.5 ms, plus ~2.5 ms for its sync on a durable store), large
/// enough that a clean is not dominated by its commits. A bound by count,
/// not time, so a clean's batches are the same on every machine; larger
/// batches would not make a durable clean faster (see
/// [`DbmStore::clean_with_progress`]).
pub(super) const CLEAN_BATCH: usize = 5000;

/// Due index entries a clean reads at once and sorts by id: 24 bytes each,
/// so a clean holds at most 2.4 MB, however many records are due.
const CLEAN_WINDOW: usize = 100_000;
impl DbmStore {
    /// [`Sweep::clean`](crate::Sweep::clean), calling `progress` with the running total of records
    /// removed after each batch (one write transaction of at most 5000
    /// removals), so a tool can show progress on a long clean.
    ///
    /// The clean reads the due entries of the expiry index (up to 100,000 at
    /// a time, in a read transaction: no lock), sorts them by id and removes
    /// them in batches of consecutive ids, each its own write transaction,
    /// committed (and synced, when durable) like any commit. In a batch, a
    /// record goes only if the entry is still its own (its expiry was not
    /// moved since) or it cannot be read; a stale entry is just dropped. So
    /// no live record is ever removed, a crash loses at most the batch under
    /// way (its entries stay for the next clean), and what writers add while
    /// the clean runs waits for the next one once the due entries read are
    /// fewer than 100,000.
    ///
    /// ```
    /// use spysession_core::{DbmOptions, DbmStore, Inspect, Record, SessionId};
    /// # let dir = tempfile::tempdir()?;
    /// let options = DbmOptions { durable: false, ..Default::default() };
    /// let store = DbmStore::open_with(dir.path(), options)?;
    /// for _ in 0..6000 {
    ///     store.save(&SessionId::generate().store_key(), &Record::new(0.0, 10.0, Default::default()))?;
    /// }
    /// let mut seen = Vec::new();
    /// assert_eq!(store.clean_with_progress(10.0, |n| seen.push(n))?, 6000);
    /// assert_eq!(seen, [5000, 6000]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn clean_with_progress(&self, now: f64, progress: impl FnMut(u64)) -> Result<u64> {
        self.clean_in_windows(now, CLEAN_WINDOW, progress)
    }

    /// [`Self::clean_with_progress`], reading at most `window` due entries
    /// at a time (tests make it small).
    pub(super) fn clean_in_windows(
        &self,
        now: f64,
        window: usize,
        mut progress: impl FnMut(u64),
    ) -> Result<u64> {
        // Why batches of consecutive ids (measured with
        // core/examples/clean_durable.rs, 50,000 due of 100,000 records,
        // when the environment still used WRITE_MAP; see env_registry.rs):
        // - A durable clean costs the pages it writes, not its syncs: one
        //   transaction for all 50,000 took as long as ten batches (48.7 vs
        //   49.1 ms). Each page a transaction changes is copied, takes a
        //   write fault (WRITE_MAP pages are write-protected after a sync)
        //   and is written. Batches taken in expiry order, as before, hold
        //   ids from all over the records, so each rewrote most of the
        //   records' pages: with expiries spread over time, 108 MiB written
        //   for a 14 MiB store, 230-280 ms durable, 70-100 ms nosync. In id
        //   order each page is rewritten about once per 100,000 due entries:
        //   31 MiB, 90-105 ms durable, 45-50 ms nosync. (With one expiry time
        //   for all, as in bench/backends.py, expiry order was id order
        //   already; there it went 83 -> 57 ms durable, 46 -> 29 ms nosync,
        //   mostly from the cursors of `clean_batch`.)
        // - Batches are not committed without a sync either: the vendored
        //   LMDB (0.9.24) takes no per-transaction MDB_NOSYNC/MDB_NOMETASYNC
        //   (mdb_txn_begin keeps only MDB_RDONLY), setting them on the
        //   environment would skip other threads' syncs too, and an unsynced
        //   commit with WRITE_MAP can leave a corrupt file after an OS crash.
        let mut total = 0u64;
        loop {
            let mut due = self.due_entries(now, window)?;
            // Stable: two entries of one id stay in index order.
            due.sort_by_key(|(_, id)| *id);
            for batch in due.chunks(CLEAN_BATCH) {
                total += self.write(|shared, txn| clean_batch(txn, shared, batch))?;
                progress(total);
            }
            if due.len() < window {
                break;
            }
        }
        self.counters.count_cleaned(total);
        Ok(total)
    }

    /// The first (at most `window`) entries of the expiry index due at
    /// `now`, in index order. A key that is not an index key is passed over,
    /// as it always was.
    fn due_entries(&self, now: f64, window: usize) -> Result<Vec<(f64, StoreKey)>> {
        let shared = self.env()?;
        let txn = shared.env().begin_ro_txn()?;
        let mut cursor = txn.open_ro_cursor(shared.expiry)?;
        let mut due = Vec::new();
        for item in cursor.iter_start() {
            let (key, _) = item?;
            let Some((t, id)) = split_expiry_key(key) else {
                continue;
            };
            if t > now || due.len() == window {
                break;
            }
            due.push((t, id));
        }
        Ok(due)
    }
}

/// One batch of clean: removes the records of `batch` (due entries sorted
/// by key) that are still current, and the entries themselves; returns how
/// many records it removed.
fn clean_batch(
    txn: &mut RwTransaction<'_>,
    shared: &SharedEnv,
    batch: &[(f64, StoreKey)],
) -> Result<u64> {
    let removed = remove_current_records(txn, shared, batch)?;
    // The entries, in index order with one cursor: after a delete it is on
    // the next entry, often the next one to go, which then needs no search.
    let mut keys: Vec<[u8; 24]> = batch.iter().map(|(t, key)| index_key(*t, key)).collect();
    keys.sort_unstable();
    let mut cursor = txn.open_rw_cursor(shared.expiry)?;
    let mut after_delete = false;
    for key in &keys {
        let next = if after_delete {
            match cursor.get(None, None, lmdb_sys::MDB_NEXT) {
                Ok((Some(k), _)) => k == &key[..],
                Ok((None, _)) | Err(lmdb::Error::NotFound) => false,
                Err(e) => return Err(e.into()),
            }
        } else {
            false
        };
        let found = next
            || match cursor.get(Some(&key[..]), None, lmdb_sys::MDB_SET) {
                Ok(_) => true,
                Err(lmdb::Error::NotFound) => false,
                Err(e) => return Err(e.into()),
            };
        if found {
            cursor.del(WriteFlags::empty())?;
        }
        after_delete = found;
    }
    Ok(removed)
}

/// Removes the record of each of `due` (sorted by key) whose current expiry
/// is that entry's, or that cannot be read; returns how many it removed.
///
/// One cursor walks the records in key order: a lookup first tries the page
/// the cursor is on, and only searches from the root when the key is not in
/// that page's range. A miss from such a lookup is confirmed by a fresh
/// cursor (a full search) before the key is passed over, so a record is
/// never left behind on the word of the shortcut alone.
fn remove_current_records(
    txn: &mut RwTransaction<'_>,
    shared: &SharedEnv,
    due: &[(f64, StoreKey)],
) -> Result<u64> {
    let mut removed = 0;
    let mut next = 0;
    while next < due.len() {
        let mut cursor = txn.open_rw_cursor(shared.records)?;
        let first = next;
        while let Some((t, key)) = due.get(next) {
            let bytes = match cursor.get(Some(key.as_bytes()), None, lmdb_sys::MDB_SET) {
                Ok((_, bytes)) => bytes,
                // A fresh cursor's first lookup is a full search: a true miss.
                Err(lmdb::Error::NotFound) if next == first => {
                    next += 1;
                    continue;
                }
                Err(lmdb::Error::NotFound) => break, // retried with a fresh cursor
                Err(e) => return Err(e.into()),
            };
            let current = match stored_expiry(bytes) {
                Some(expires) if expiry_key(expires) == expiry_key(*t) => true,
                // Another expiry: rewritten since (its own entry is elsewhere),
                // unless damaged past its header (a rare case: read it all).
                Some(_) => Record::decode(bytes).is_err(),
                None => true, // unreadable: removed with its index entry
            };
            if current {
                cursor.del(WriteFlags::empty())?;
                removed += 1;
            }
            next += 1;
        }
    }
    Ok(removed)
}
