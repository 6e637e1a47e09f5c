//! Records and the expiry index kept in step: every write of a record
//! moves its index entry in the same transaction.

use lmdb::{RwTransaction, Transaction, WriteFlags};

use super::super::env_registry::SharedEnv;
use super::super::expiry_key;
use crate::error::Result;
use crate::record::Record;
use crate::store_key::StoreKey;

pub(super) fn index_key(expires_at: f64, key: &StoreKey) -> [u8; 24] {
    let mut out = [0u8; 24];
    out[..8].copy_from_slice(&expiry_key(expires_at));
    out[8..].copy_from_slice(key.as_bytes());
    out
}

pub(super) fn split_expiry_key(key: &[u8]) -> Option<(f64, StoreKey)> {
    let time: [u8; 8] = key.get(..8)?.try_into().ok()?;
    let id: [u8; 16] = key.get(8..24)?.try_into().ok()?;
    Some((
        f64::from_bits(u64::from_be_bytes(time)),
        StoreKey::from_bytes(id),
    ))
}

/// The stored bytes for `key` in `txn`, or `None`.
pub(super) fn get<'t>(
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
pub(super) fn stored_expiry(bytes: &[u8]) -> Option<f64> {
    Record::read_expires_at(bytes).ok()
}

/// Removes `key`'s record and its index entry (if the record can be read).
pub(super) fn remove(
    txn: &mut RwTransaction<'_>,
    shared: &SharedEnv,
    key: &StoreKey,
) -> Result<bool> {
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

pub(super) fn del_if_present(
    txn: &mut RwTransaction<'_>,
    db: lmdb::Database,
    key: &[u8],
) -> Result<()> {
    match txn.del(db, &key, None) {
        Ok(()) | Err(lmdb::Error::NotFound) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Writes `record` under `key`, moving its index entry from `old_expiry`.
pub(super) fn put(
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
