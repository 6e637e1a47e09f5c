//! The spysession 0.1 Redis layout (one hash per session at `<prefix><id>`,
//! no buckets, no marker): found with `SCAN` so a store can refuse it, or
//! [`super::RedisStore::migrate_v01`] move it.

use redis::RedisResult;

use super::pool::Conn;
use crate::error::Error;

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

#[cfg(test)]
mod tests {
    #[test]
    fn the_pattern_escapes_the_prefix_and_wants_32_hex_digits() {
        let p = super::pattern("a*[b]:");
        assert!(p.starts_with("a\\*\\[b\\]:[0-9a-f][0-9a-f]"));
        assert_eq!(p.matches("[0-9a-f]").count(), 32);
    }
}
