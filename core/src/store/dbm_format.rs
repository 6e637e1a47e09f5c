//! The format version of a DbmStore's directory: a `meta` database in the
//! LMDB environment holds `format` = the record format version as decimal
//! text (`2` today, see [`crate::FORMAT_VERSION`]).
//!
//! A directory without it is either new (no records: it is stamped with
//! this version) or was written by spysession 0.1, which kept records by
//! raw session id and wrote no version: it is refused with
//! [`Error::StoreVersion`] (version 1), never read as if its ids were store
//! keys. A directory stamped with another version is refused the same way.

use lmdb::{Database, DatabaseFlags, Environment, Transaction, WriteFlags};

use crate::error::{Error, Result};
use crate::record::FORMAT_VERSION;

/// The key of the format version in the `meta` database.
const FORMAT_KEY: &[u8] = b"format";

/// The version spysession 0.1 wrote (implicitly: it had no `meta` database).
const UNSTAMPED_VERSION: u64 = 1;

/// Checks (and on a new store, writes) the format version of `env`.
pub(crate) fn check(env: &Environment) -> Result<()> {
    let meta = env.create_db(Some("meta"), DatabaseFlags::empty())?;
    let found = match stamped(env, meta)? {
        Some(version) => version,
        None => {
            // Asked before the write transaction: a thread may hold only
            // one transaction at a time.
            let old = holds_records(env)?;
            // One write transaction: two processes opening a new store at
            // once stamp it once, and the second sees the first's stamp.
            let mut txn = env.begin_rw_txn()?;
            let found = match txn.get(meta, &FORMAT_KEY) {
                Ok(text) => parse(text)?,
                Err(lmdb::Error::NotFound) if old => UNSTAMPED_VERSION,
                Err(lmdb::Error::NotFound) => {
                    let text = FORMAT_VERSION.to_string();
                    txn.put(meta, &FORMAT_KEY, &text, WriteFlags::empty())?;
                    u64::from(FORMAT_VERSION)
                }
                Err(e) => return Err(e.into()),
            };
            txn.commit()?;
            found
        }
    };
    if found != u64::from(FORMAT_VERSION) {
        return Err(Error::StoreVersion {
            found,
            expected: FORMAT_VERSION,
        });
    }
    Ok(())
}

/// The stamped version, if any (read without taking the write lock).
fn stamped(env: &Environment, meta: Database) -> Result<Option<u64>> {
    let txn = env.begin_ro_txn()?;
    match txn.get(meta, &FORMAT_KEY) {
        Ok(text) => parse(text).map(Some),
        Err(lmdb::Error::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// True when the environment has a `records` database with entries (a
/// store of spysession 0.1).
fn holds_records(env: &Environment) -> Result<bool> {
    match env.open_db(Some("records")) {
        Ok(records) => Ok(super::env_registry::entries(env, records)? > 0),
        Err(lmdb::Error::NotFound) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

fn parse(text: &[u8]) -> Result<u64> {
    std::str::from_utf8(text)
        .ok()
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| {
            Error::Io(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "the store's meta/format entry is not a version number",
            ))
        })
}
