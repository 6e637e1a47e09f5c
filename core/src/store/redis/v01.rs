//! The spysession 0.1 Redis layout (one hash per session at `<prefix><id>`,
//! no buckets, no marker): found with `SCAN` so a store can refuse it, or
//! [`RedisStore::migrate_v01`] (here) move it.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use redis::RedisResult;

use super::connect::Kind;
use super::layout::{decode_hash, marker_key, LAYOUT_VERSION};
use super::pool::Conn;
use super::RedisStore;
use crate::error::{Error, Result};
use crate::id::SessionId;
use crate::record::FORMAT_VERSION;
use crate::store_key::StoreKey;

/// Keys asked of Redis per `SCAN` step.
const SCAN_BATCH: usize = 1000;

/// The `SCAN MATCH` pattern of 0.1 session keys: the prefix (glob
/// characters escaped) and 32 lowercase hex digits.
fn pattern(prefix: &str) -> String {
    let mut out = String::with_capacity(prefix.len() + 32 * 8);
    for c in prefix.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    for _ in 0..32 {
        out.push_str("[0-9a-f]");
    }
    out
}

/// Walks the 0.1 keys under `prefix`, giving each to `found` until it
/// returns false.
fn walk(con: &mut Conn, prefix: &str, mut found: impl FnMut(Vec<u8>) -> bool) -> RedisResult<()> {
    let pattern = pattern(prefix);
    let mut cursor: u64 = 0;
    loop {
        let (next, keys): (u64, Vec<Vec<u8>>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(SCAN_BATCH)
            .query(con)?;
        for key in keys {
            if !found(key) {
                return Ok(());
            }
        }
        if next == 0 {
            return Ok(());
        }
        cursor = next;
    }
}

/// One 0.1 session key under `prefix`, if there is any.
pub(super) fn find_one(con: &mut Conn, prefix: &str) -> RedisResult<Option<Vec<u8>>> {
    let mut first = None;
    walk(con, prefix, |key| {
        first = Some(key);
        false
    })?;
    Ok(first)
}

/// Every 0.1 session key under `prefix` (SCAN may name one twice: deduplicated).
pub(super) fn find_all(con: &mut Conn, prefix: &str) -> RedisResult<Vec<Vec<u8>>> {
    let mut all = Vec::new();
    walk(con, prefix, |key| {
        all.push(key);
        true
    })?;
    all.sort();
    all.dedup();
    Ok(all)
}

/// The error for a prefix that holds 0.1 sessions.
pub(super) fn refusal(prefix: &str, key: &[u8]) -> Error {
    Error::config(
        "prefix",
        format!(
            "the keys under prefix {prefix:?} are in spysession 0.1's Redis layout (one hash \
             per session at <prefix><id>, e.g. {}), which this version does not read: stop \
             the 0.1 servers and run `spysession migrate --redis URL --prefix PREFIX` (or \
             RedisStore::migrate_v01) once, or \
             give this version another prefix",
            String::from_utf8_lossy(key)
        ),
    )
}

impl RedisStore {
    /// Moves every session of the spysession 0.1 layout under the prefix
    /// (`<prefix><id>` hashes) into this layout, once, and marks the prefix
    /// as layout 2; returns how many sessions it moved. Run it with the web
    /// servers of the old version stopped (a 0.1 server writing meanwhile
    /// would write where this version no longer looks). Walks the database
    /// with `SCAN`; one server or a Sentinel primary only. A session that
    /// is moved twice (two migrations at once) is written twice, identically.
    pub fn migrate_v01(&self) -> Result<u64> {
        if self.kind == Kind::Cluster {
            return Err(Error::Unsupported(
                "the 0.1 layout never ran on a Redis Cluster: nothing to migrate",
            ));
        }
        let prefix = self.options.prefix.clone();
        let keys = self.with_connection(|con| find_all(con, &prefix))?;
        let mut moved = 0;
        for old in keys {
            let Some(hex) = old.strip_prefix(prefix.as_bytes()) else {
                continue;
            };
            let mut fields: BTreeMap<Vec<u8>, Vec<u8>> =
                self.with_connection(|con| redis::cmd("HGETALL").arg(&old).query(con))?;
            if fields.is_empty() {
                continue; // expired since the SCAN
            }
            // 0.1 (format version 1) named the hash by the raw id; the
            // unbucketed store-key layout between them (format version 2)
            // by the store key. The fields are the same otherwise.
            let key = if fields.get(b"m:v".as_slice()).map(Vec::as_slice) == Some(b"1") {
                fields.insert(b"m:v".to_vec(), FORMAT_VERSION.to_string().into_bytes());
                SessionId::parse(hex).map(|id| StoreKey::of(&id))
            } else {
                StoreKey::parse(hex)
            };
            let Ok(key) = key else { continue };
            let record = decode_hash(fields)
                .map_err(|why| self.corrupt(format!("0.1 session under {key}: {why}")))?;
            self.write_record(&key, &record)?;
            self.with_connection(|con| redis::cmd("DEL").arg(&old).query::<()>(con))?;
            moved += 1;
        }
        let marker = marker_key(&prefix);
        self.with_connection(|con| {
            redis::cmd("SET")
                .arg(&marker)
                .arg(LAYOUT_VERSION)
                .query::<()>(con)
        })?;
        self.layout_checked.store(true, Ordering::Release);
        Ok(moved)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_pattern_escapes_the_prefix_and_wants_32_hex_digits() {
        let p = super::pattern("a*[b]:");
        assert!(p.starts_with("a\\*\\[b\\]:[0-9a-f][0-9a-f]"));
        assert_eq!(p.matches("[0-9a-f]").count(), 32);
    }
}
