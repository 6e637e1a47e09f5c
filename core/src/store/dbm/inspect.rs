//! The operators' tools: every key with its expiry, the map's usage, a
//! record whatever its expiry, and raw writes for tests.

use lmdb::{Cursor, Transaction, WriteFlags};

use super::index::{get, split_expiry_key};
use super::DbmStore;
use crate::error::Result;
use crate::record::Record;
use crate::store_key::StoreKey;

impl DbmStore {
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
