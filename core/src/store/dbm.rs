//! [`DbmStore`]: persistent sessions in an LMDB directory, shared by every
//! process and thread of the machine.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use lmdb::{Cursor, RwTransaction, Transaction, WriteFlags};
use parking_lot::RwLock;

use super::env_registry::{self, EnvOptions, SharedEnv};
use super::{expiry_key, merge, Committed, Counters, Store, Update};
use crate::error::{Error, Result};
use crate::record::{Changes, Record};
use crate::store_key::StoreKey;

/// Expired records removed per write transaction by clean: small enough that
/// other processes' writers wait milliseconds, not seconds (a batch holds the
/// write lock ~2.5 ms, plus ~2.5 ms for its sync on a durable store), large
/// enough that a clean is not dominated by its commits. A bound by count,
/// not time, so a clean's batches are the same on every machine; larger
/// batches would not make a durable clean faster (see
/// [`DbmStore::clean_with_progress`]).
const CLEAN_BATCH: usize = 5000;

/// Due index entries a clean reads at once and sorts by id: 24 bytes each,
/// so a clean holds at most 2.4 MB, however many records are due.
const CLEAN_WINDOW: usize = 100_000;

/// Options of a [`DbmStore`].
#[derive(Clone, Copy, Debug)]
pub struct DbmOptions {
    /// The LMDB map size in bytes: the most the store can hold. The file is
    /// sparse, so a large map costs address space, not disk. Default 1 GiB.
    pub map_size: usize,
    /// Sync to disk at every commit (default). `false` skips the sync: a
    /// crashed process still loses nothing, a crashed machine may lose the
    /// last commits (LMDB's `MDB_NOSYNC`).
    pub durable: bool,
}

impl Default for DbmOptions {
    fn default() -> Self {
        DbmOptions {
            map_size: 1 << 30,
            durable: true,
        }
    }
}

/// Sessions in an LMDB directory.
///
/// One records database (id -> record) and one expiry index (expires-at,
/// big-endian, + id), so [`Store::clean`] costs O(expired records), not
/// O(records). Any number of `DbmStore`s may name one directory: the process
/// opens its LMDB environment once (the first opener's `map_size` and
/// `durable` apply to it; a durable store on a non-durable environment syncs
/// after each of its own commits). A forked child reopens the environment on
/// first use. Several processes may use one directory at once.
pub struct DbmStore {
    path: PathBuf,
    options: DbmOptions,
    env: RwLock<Arc<SharedEnv>>,
    counters: Counters,
}

impl DbmStore {
    /// Opens (creating if needed) the store in directory `path` with default options.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(path, DbmOptions::default())
    }

    /// Opens (creating if needed) the store in directory `path`.
    pub fn open_with(path: impl AsRef<Path>, options: DbmOptions) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let env = env_registry::open(&path, env_options(options))?;
        Ok(DbmStore {
            path,
            options,
            env: RwLock::new(env),
            counters: Counters::default(),
        })
    }

    /// The directory given at open.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The environment, reopened first if this process is a fork of the one
    /// that opened it.
    fn env(&self) -> Result<Arc<SharedEnv>> {
        let env = self.env.read().clone();
        if env.pid == super::pid::current() {
            return Ok(env);
        }
        let fresh = env_registry::open(&self.path, env_options(self.options))?;
        *self.env.write() = fresh.clone();
        Ok(fresh)
    }

    /// Runs `f` in one write transaction and commits it, syncing when this
    /// store is durable and the environment does not sync by itself.
    fn write<T>(
        &self,
        f: impl FnOnce(&SharedEnv, &mut RwTransaction<'_>) -> Result<T>,
    ) -> Result<T> {
        let shared = self.env()?;
        let mut txn = shared.env().begin_rw_txn()?;
        let out = f(&shared, &mut txn)?;
        txn.commit()?;
        if self.options.durable && !shared.durable {
            shared.env().sync(true)?;
        }
        Ok(out)
    }

    /// Every key with its expiry, in key order: for operators' tools.
    pub fn list(&self) -> Result<Vec<(StoreKey, f64)>> {
        let shared = self.env()?;
        let txn = shared.env().begin_ro_txn()?;
        let mut cursor = txn.open_ro_cursor(shared.expiry)?;
        let mut out = Vec::new();
        for item in cursor.iter_start() {
            let (entry, _) = item?;
            if let Some((t, key)) = split_expiry_key(entry) {
                out.push((key, t));
            }
        }
        out.sort_by_key(|(key, _)| *key);
        Ok(out)
    }

    /// Bytes of the data file in use (pages written), and the map size.
    pub fn usage(&self) -> Result<(u64, u64)> {
        let shared = self.env()?;
        let info = shared.env().info()?;
        let stat = shared.env().stat()?;
        let used = (info.last_pgno() as u64 + 1) * stat.page_size() as u64;
        Ok((used, info.map_size() as u64))
    }

    /// The record of `key` whatever its expiry (for operators' tools, which
    /// show expired records too); `None` when there is none.
    ///
    /// ```
    /// use spysession_core::{DbmStore, Record, SessionId, Store};
    /// # let dir = tempfile::tempdir()?;
    /// let store = DbmStore::open(dir.path())?;
    /// let key = SessionId::generate().store_key();
    /// store.save(&key, &Record::new(100.0, 200.0, Default::default()))?;
    /// assert!(store.load(&key, 300.0)?.is_none(), "expired for a request");
    /// assert_eq!(store.load_any(&key)?.unwrap().expires_at, 200.0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn load_any(&self, key: &StoreKey) -> Result<Option<Record>> {
        let shared = self.env()?;
        let txn = shared.env().begin_ro_txn()?;
        let bytes = get(&txn, &shared, key)?;
        bytes.map(|b| self.decode_counted(b)).transpose()
    }

    /// [`Store::clean`], calling `progress` with the running total of records
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
    /// use spysession_core::{DbmOptions, DbmStore, Record, SessionId, Store};
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
    fn clean_in_windows(
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

    /// Writes raw bytes as the record of `key`, bypassing every check. Only
    /// for tests that need a damaged record on disk.
    #[doc(hidden)]
    pub fn put_raw_for_tests(&self, key: &StoreKey, bytes: &[u8]) -> Result<()> {
        self.write(|shared, txn| {
            txn.put(shared.records, key.as_bytes(), &bytes, WriteFlags::empty())?;
            Ok(())
        })
    }
}

fn env_options(options: DbmOptions) -> EnvOptions {
    EnvOptions {
        map_size: options.map_size,
        durable: options.durable,
    }
}

fn index_key(expires_at: f64, key: &StoreKey) -> [u8; 24] {
    let mut out = [0u8; 24];
    out[..8].copy_from_slice(&expiry_key(expires_at));
    out[8..].copy_from_slice(key.as_bytes());
    out
}

fn split_expiry_key(key: &[u8]) -> Option<(f64, StoreKey)> {
    let time: [u8; 8] = key.get(..8)?.try_into().ok()?;
    let id: [u8; 16] = key.get(8..24)?.try_into().ok()?;
    Some((
        f64::from_bits(u64::from_be_bytes(time)),
        StoreKey::from_bytes(id),
    ))
}

/// The stored bytes for `key` in `txn`, or `None`.
fn get<'t>(
    txn: &'t impl Transaction,
    shared: &SharedEnv,
    key: &StoreKey,
) -> Result<Option<&'t [u8]>> {
    match txn.get(shared.records, key.as_bytes()) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(lmdb::Error::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The expiry of stored record bytes, from the record's header; `None`
/// when unreadable.
fn stored_expiry(bytes: &[u8]) -> Option<f64> {
    Record::read_expires_at(bytes).ok()
}

/// Removes `key`'s record and its index entry (if the record can be read).
fn remove(txn: &mut RwTransaction<'_>, shared: &SharedEnv, key: &StoreKey) -> Result<bool> {
    let old_expiry = match get(txn, shared, key)? {
        None => return Ok(false),
        Some(bytes) => stored_expiry(bytes),
    };
    txn.del(shared.records, key.as_bytes(), None)?;
    if let Some(t) = old_expiry {
        del_if_present(txn, shared.expiry, &index_key(t, key))?;
    }
    // An unreadable record's index entry, if any, is dropped by clean.
    Ok(true)
}

fn del_if_present(txn: &mut RwTransaction<'_>, db: lmdb::Database, key: &[u8]) -> Result<()> {
    match txn.del(db, &key, None) {
        Ok(()) | Err(lmdb::Error::NotFound) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Writes `record` under `key`, moving its index entry from `old_expiry`.
fn put(
    txn: &mut RwTransaction<'_>,
    shared: &SharedEnv,
    key: &StoreKey,
    record: &Record,
    old_expiry: Option<f64>,
) -> Result<()> {
    txn.put(
        shared.records,
        key.as_bytes(),
        &record.encode(),
        WriteFlags::empty(),
    )?;
    let new_key = index_key(record.expires_at, key);
    if let Some(t) = old_expiry {
        let old_key = index_key(t, key);
        if old_key == new_key {
            return Ok(());
        }
        del_if_present(txn, shared.expiry, &old_key)?;
    }
    txn.put(shared.expiry, &new_key, &[], WriteFlags::empty())?;
    Ok(())
}

impl DbmStore {
    fn decode_counted(&self, bytes: &[u8]) -> Result<Record> {
        Record::decode(bytes).inspect_err(|_| self.counters.count_corrupt())
    }
}

impl Store for DbmStore {
    fn load(&self, key: &StoreKey, now: f64) -> Result<Option<Arc<Record>>> {
        self.counters.count_load();
        let shared = self.env()?;
        let txn = shared.env().begin_ro_txn()?;
        let Some(bytes) = get(&txn, &shared, key)? else {
            return Ok(None);
        };
        let record = self.decode_counted(bytes)?;
        Ok((!record.is_expired(now)).then(|| Arc::new(record)))
    }

    fn save(&self, key: &StoreKey, record: &Record) -> Result<()> {
        self.write(|shared, txn| {
            let old_expiry = get(txn, shared, key)?.and_then(stored_expiry);
            put(txn, shared, key, record, old_expiry)
        })
    }

    fn delete(&self, key: &StoreKey) -> Result<bool> {
        self.write(|shared, txn| remove(txn, shared, key))
    }

    fn clean(&self, now: f64) -> Result<u64> {
        self.clean_with_progress(now, |_| {})
    }

    fn len(&self) -> Result<u64> {
        self.env()?.record_count()
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
        let result = if self.options.durable {
            // Durable: share the transaction and its sync with concurrent commits.
            let shared = self.env()?;
            let (key, owned) = (*key, OwnedUpdate::from(update));
            let job = Box::new(move |shared: &SharedEnv, txn: &mut RwTransaction<'_>| {
                apply_commit(txn, shared, &key, &owned.as_update())
            });
            shared.group.run(&shared, job, !shared.durable)
        } else {
            self.write(|shared, txn| apply_commit(txn, shared, key, update))
        };
        match &result {
            Ok(committed) => self.counters.count_commit(committed.outcome),
            Err(Error::Corrupt(_)) => self.counters.count_corrupt(),
            Err(_) => {}
        }
        result
    }
}

/// An [`Update`] that owns its changes, to travel to the group-commit leader.
struct OwnedUpdate {
    changes: Changes,
    now: f64,
    expires_at: f64,
    created: f64,
    create: bool,
    base_accessed: Option<f64>,
}

impl From<&Update<'_>> for OwnedUpdate {
    fn from(u: &Update<'_>) -> Self {
        OwnedUpdate {
            changes: u.changes.clone(),
            now: u.now,
            expires_at: u.expires_at,
            created: u.created,
            create: u.create,
            base_accessed: u.base_accessed,
        }
    }
}

impl OwnedUpdate {
    fn as_update(&self) -> Update<'_> {
        Update {
            changes: &self.changes,
            now: self.now,
            expires_at: self.expires_at,
            created: self.created,
            create: self.create,
            base_accessed: self.base_accessed,
        }
    }
}

/// The commit of one session inside `txn`: merge `update` into the record
/// as stored now. Reads and checks everything before its first write, so a
/// damaged record fails this commit alone.
fn apply_commit(
    txn: &mut RwTransaction<'_>,
    shared: &SharedEnv,
    key: &StoreKey,
    update: &Update<'_>,
) -> Result<Committed> {
    let stored = match get(txn, shared, key)? {
        Some(bytes) => Some(Record::decode(bytes)?),
        None => None,
    };
    let old_expiry = stored.as_ref().map(|r| r.expires_at);
    let live = stored.filter(|r| !r.is_expired(update.now));
    let (record, outcome) = merge(live, update);
    match &record {
        Some(record) => put(txn, shared, key, record, old_expiry)?,
        // Expired and not to be revived: remove it now.
        None if old_expiry.is_some() => {
            remove(txn, shared, key)?;
        }
        None => {}
    }
    Ok(Committed {
        outcome,
        record: record.map(Arc::new),
    })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::SessionId;
    use crate::record::Data;

    fn nosync(dir: &Path) -> DbmStore {
        let options = DbmOptions {
            durable: false,
            ..Default::default()
        };
        DbmStore::open_with(dir, options).unwrap()
    }

    fn record(expires_at: f64, n: i64) -> Record {
        let mut data = Data::new();
        data.insert("n", n.into());
        Record::new(0.0, expires_at, data)
    }

    type Filled = (DbmStore, Vec<StoreKey>, Vec<(StoreKey, f64)>);

    /// A store in `dir` with `expired` records due by `NOW` (their expiries
    /// spread over time, so a batch's ids fall all over the records) and
    /// `live` records beside them, written through a non-durable store, then
    /// opened again with `options`; returns (store, expired ids, live ids
    /// with their expiries).
    fn filled(dir: &Path, options: DbmOptions, expired: usize, live: usize) -> Filled {
        let store = nosync(dir);
        let dead: Vec<_> = (0..expired)
            .map(|_| SessionId::generate().store_key())
            .collect();
        let alive: Vec<_> = (0..live)
            .map(|i| {
                (
                    SessionId::generate().store_key(),
                    NOW + 1.0 + (i % 97) as f64,
                )
            })
            .collect();
        for (i, id) in dead.iter().enumerate() {
            store.save(id, &record((i % 89) as f64, i as i64)).unwrap();
        }
        for (i, (id, expires)) in alive.iter().enumerate() {
            store.save(id, &record(*expires, i as i64)).unwrap();
        }
        drop(store); // the last store of `dir`: its environment closes
        (DbmStore::open_with(dir, options).unwrap(), dead, alive)
    }

    const NOSYNC: DbmOptions = DbmOptions {
        map_size: 1 << 30,
        durable: false,
    };

    const NOW: f64 = 1000.0;

    /// The index holds exactly `live` (each with its current expiry) and
    /// the records are exactly those.
    fn assert_exactly(store: &DbmStore, live: &[(StoreKey, f64)]) {
        let mut want = live.to_vec();
        want.sort_by_key(|(id, _)| *id);
        assert_eq!(store.list().unwrap(), want, "index = the live records");
        assert_eq!(store.len().unwrap(), live.len() as u64);
        for (id, expires) in live {
            assert_eq!(store.load(id, NOW).unwrap().unwrap().expires_at, *expires);
        }
    }

    #[test]
    fn clean_removes_exactly_the_expired_over_many_batches() {
        let dir = tempfile::tempdir().unwrap();
        let (store, dead, mut alive) = filled(dir.path(), NOSYNC, 3 * CLEAN_BATCH + 123, 4000);
        // A due stale entry: a record moved from a due expiry to a live one.
        let moved = dead[7];
        store.save(&moved, &record(NOW + 50.0, 0)).unwrap();
        alive.push((moved, NOW + 50.0));
        // Two due entries for one record (its expiry moved, still due).
        store.save(&dead[8], &record(NOW - 1.0, 0)).unwrap();
        // An unreadable record with a due entry: removed with it.
        store.put_raw_for_tests(&dead[9], b"not a record").unwrap();
        // A logout removes the record and its entry; an unreadable record's
        // entry stays, for clean to drop (the record is not there to remove).
        store.delete(&dead[10]).unwrap();
        store.put_raw_for_tests(&dead[11], b"not a record").unwrap();
        store.delete(&dead[11]).unwrap();

        // Windows of 7,000 entries: two and a bit, batches not aligned to them.
        let mut seen = Vec::new();
        let removed = store.clean_in_windows(NOW, 7000, |n| seen.push(n)).unwrap();
        assert_eq!(
            removed,
            dead.len() as u64 - 3,
            "all but the moved and the deleted"
        );
        assert!(seen.windows(2).all(|w| w[0] <= w[1]) && seen.last() == Some(&removed));
        assert!(dead
            .iter()
            .filter(|id| **id != moved)
            .all(|id| store.load_any(id).unwrap().is_none()));
        assert_exactly(&store, &alive);
        assert_eq!(store.clean(NOW).unwrap(), 0, "clean is idempotent");
    }

    #[test]
    fn writes_between_batches_are_kept() {
        // LMDB runs one write transaction at a time: other writers can only
        // come between two batches. Do it there, every time.
        let dir = tempfile::tempdir().unwrap();
        let (store, dead, mut alive) = filled(dir.path(), NOSYNC, 2 * CLEAN_BATCH + 10, 100);
        let (mut added, mut kept, mut moved) = (0u64, Vec::new(), Vec::new());
        let removed = store
            .clean_with_progress(NOW, |_| {
                // A new live session, and a logout of a live one.
                let id = SessionId::generate().store_key();
                store.save(&id, &record(NOW + 10.0, 1)).unwrap();
                alive.push((id, NOW + 10.0));
                let (gone, _) = alive.swap_remove(0);
                assert!(store.delete(&gone).unwrap());
                // A new session already due: the clean read the due entries
                // before, so it is left for the next clean.
                let id = SessionId::generate().store_key();
                store.save(&id, &record(NOW - 5.0, 2)).unwrap();
                added += 1;
                // Due sessions not yet cleaned: one revived by a save, one
                // moved to another time that is due too (so for the next clean).
                let waiting = |kept: &[StoreKey], moved: &[StoreKey]| {
                    let waits = |id: &&StoreKey| {
                        !kept.contains(*id)
                            && !moved.contains(*id)
                            && store.load_any(id).unwrap().is_some()
                    };
                    dead.iter().find(waits).copied()
                };
                if let Some(id) = waiting(&kept, &moved) {
                    store.save(&id, &record(NOW + 20.0, 3)).unwrap();
                    alive.push((id, NOW + 20.0));
                    kept.push(id);
                }
                if let Some(id) = waiting(&kept, &moved) {
                    store.save(&id, &record(NOW - 3.0, 4)).unwrap();
                    moved.push(id);
                }
            })
            .unwrap();
        let stayed = (kept.len() + moved.len()) as u64;
        assert_eq!(removed, dead.len() as u64 - stayed);
        assert_eq!(store.clean(NOW).unwrap(), added + moved.len() as u64);
        assert_exactly(&store, &alive);
    }

    #[test]
    fn clean_beside_writing_threads_removes_exactly_the_expired() {
        let dir = tempfile::tempdir().unwrap();
        let durable = DbmOptions::default();
        let (store, dead, mut alive) = filled(dir.path(), durable, 2 * CLEAN_BATCH + 10, 500);
        let (removed, written) = std::thread::scope(|scope| {
            let writers: Vec<_> = (0..3)
                .map(|t| {
                    let (store, alive) = (&store, &alive);
                    scope.spawn(move || {
                        let mut mine = Vec::new();
                        for i in 0..300 {
                            // New sessions, and rewrites of live ones.
                            let id = SessionId::generate().store_key();
                            store.save(&id, &record(NOW + 30.0, i)).unwrap();
                            mine.push((id, NOW + 30.0));
                            let (id, expires) = alive[(t * 300 + i as usize) % alive.len()];
                            store.save(&id, &record(expires, i)).unwrap();
                        }
                        mine
                    })
                })
                .collect();
            let removed = store.clean(NOW).unwrap();
            let written: Vec<_> = writers
                .into_iter()
                .flat_map(|w| w.join().unwrap())
                .collect();
            (removed, written)
        });
        assert_eq!(removed, dead.len() as u64);
        alive.extend(written);
        assert_exactly(&store, &alive);
    }

    #[test]
    fn a_durable_clean_is_on_disk_after_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let alive = {
            let durable = DbmOptions::default();
            let (store, dead, alive) = filled(dir.path(), durable, CLEAN_BATCH + 10, 300);
            assert_eq!(store.clean(NOW).unwrap(), dead.len() as u64);
            alive
        };
        // Every store of the directory is gone: this opens the files again.
        let store = DbmStore::open(dir.path()).unwrap();
        assert_exactly(&store, &alive);
        assert_eq!(store.clean(NOW).unwrap(), 0);
    }
}
