//! The operators' tools: [`Inspect`] (the record count, every key with its
//! expiry, a record whatever its expiry, raw writes), the map's usage, and
//! damaged writes for tests.

use lmdb::{Cursor, Transaction, WriteFlags};

use super::index::{get, put, split_expiry_key, stored_expiry};
use super::DbmStore;
use crate::error::Result;
use crate::record::Record;
use crate::store::Inspect;
use crate::store_key::StoreKey;

impl DbmStore {
    /// Bytes of the data file in use (pages written), and the map size.
    pub fn usage(&self) -> Result<(u64, u64)> {
        let shared = self.env()?;
        let info = shared.env().info()?;
        let stat = shared.env().stat()?;
        let used = (info.last_pgno() as u64 + 1) * stat.page_size() as u64;
        Ok((used, info.map_size() as u64))
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

/// `len` is LMDB's own count of the records database (no scan); `list`
/// reads the expiry index.
///
/// ```
/// use spysession_core::{DbmStore, Inspect, Record, SessionId, Store};
/// # let dir = tempfile::tempdir()?;
/// let store = DbmStore::open(dir.path())?;
/// let key = SessionId::generate().store_key();
/// store.save(&key, &Record::new(100.0, 200.0, Default::default()))?;
/// assert!(store.load(&key, 300.0)?.is_none(), "expired for a request");
/// assert_eq!(store.get(&key)?.unwrap().expires_at, 200.0);
/// assert_eq!(store.list()?, [(key, 200.0)]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
impl Inspect for DbmStore {
    fn len(&self) -> Result<u64> {
        self.env()?.record_count()
    }

    fn list(&self) -> Result<Vec<(StoreKey, f64)>> {
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

    fn get(&self, key: &StoreKey) -> Result<Option<Record>> {
        let shared = self.env()?;
        let txn = shared.env().begin_ro_txn()?;
        let bytes = get(&txn, &shared, key)?;
        bytes.map(|b| self.decode_counted(b)).transpose()
    }

    fn save(&self, key: &StoreKey, record: &Record) -> Result<()> {
        self.write(|shared, txn| {
            let old_expiry = get(txn, shared, key)?.and_then(stored_expiry);
            put(txn, shared, key, record, old_expiry)
        })
    }
}
