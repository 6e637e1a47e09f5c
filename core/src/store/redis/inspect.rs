//! [`Inspect`] for [`RedisStore`]: the count and the list from the
//! buckets' expiry sets, a record whatever its expiry, and raw writes.

use std::collections::BTreeMap;

use super::layout::{
    bucket_of, bucket_prefix, data_field, decode_hash, hash_key, set_key, time_text, ttl_ms,
    BUCKETS,
};
use super::{check_version, RedisStore};
use crate::error::Result;
use crate::record::Record;
use crate::store::Inspect;
use crate::store_key::StoreKey;

/// Members whose expiry one script reads.
const LIST_BATCH: usize = 500;

impl Inspect for RedisStore {
    /// The sum of the buckets' expiry-set sizes: no SCAN.
    fn len(&self) -> Result<u64> {
        self.check_layout()?;
        let mut total = 0;
        for bucket in 0..BUCKETS {
            let set = set_key(&self.options.prefix, bucket);
            total += self.with_connection(|con| redis::cmd("ZCARD").arg(&set).query::<u64>(con))?;
        }
        Ok(total)
    }

    /// Read from the buckets' expiry sets (256 commands), each member with
    /// its real `m:expires` (one script per bucket and 500 members: the
    /// sets' scores lag it). A member whose hash is gone keeps its score; a
    /// member that is not a well-formed store key is left out.
    fn list(&self) -> Result<Vec<(StoreKey, f64)>> {
        self.check_layout()?;
        let mut found = Vec::new();
        for bucket in 0..BUCKETS {
            let set = set_key(&self.options.prefix, bucket);
            let members: Vec<(Vec<u8>, f64)> = self.with_connection(|con| {
                redis::cmd("ZRANGE")
                    .arg(&set)
                    .arg(0)
                    .arg(-1)
                    .arg("WITHSCORES")
                    .query(con)
            })?;
            let hashes = bucket_prefix(&self.options.prefix, bucket);
            for chunk in members.chunks(LIST_BATCH) {
                let mut call = self.expiries_script.prepare_invoke();
                for (member, _) in chunk {
                    let mut key = hashes.clone();
                    key.extend_from_slice(member);
                    call.key(key);
                }
                let expiries: Vec<Option<String>> = self.with_connection(|con| call.invoke(con))?;
                found.extend(chunk.iter().zip(expiries).filter_map(|((m, score), real)| {
                    let real = real.and_then(|t| t.parse::<f64>().ok());
                    Some((StoreKey::parse(m).ok()?, real.unwrap_or(*score)))
                }));
            }
        }
        found.sort_by_key(|(id, _)| *id);
        Ok(found)
    }

    /// One `HGETALL`.
    fn get(&self, key: &StoreKey) -> Result<Option<Record>> {
        self.check_layout()?;
        let key = self.key(key);
        let fields: BTreeMap<Vec<u8>, Vec<u8>> =
            self.with_connection(|con| redis::cmd("HGETALL").arg(&key).query(con))?;
        if fields.is_empty() {
            return Ok(None);
        }
        check_version(fields.get(b"m:v".as_slice()).map(Vec::as_slice))?;
        decode_hash(fields)
            .map(Some)
            .map_err(|why| self.corrupt(why))
    }

    fn save(&self, key: &StoreKey, record: &Record) -> Result<()> {
        self.check_layout()?;
        self.write_record(key, record)
    }
}

impl RedisStore {
    /// [`Inspect::save`] without the layout check.
    pub(super) fn write_record(&self, key: &StoreKey, record: &Record) -> Result<()> {
        let hex = key.to_hex();
        let key = hash_key(&self.options.prefix, &hex);
        let mut call = self.save_script.prepare_invoke();
        call.key(&key)
            .key(set_key(&self.options.prefix, bucket_of(&hex)))
            .arg(&hex[..])
            .arg(time_text(record.expires_at))
            .arg(ttl_ms(record.expires_at, record.accessed))
            .arg("m:v")
            .arg(record.version.to_string())
            .arg("m:created")
            .arg(time_text(record.created))
            .arg("m:accessed")
            .arg(time_text(record.accessed))
            .arg("m:expires")
            .arg(time_text(record.expires_at));
        for (k, v) in record.data.iter() {
            call.arg(data_field(k)).arg(v.to_msgpack());
        }
        self.write::<i64>(&key, &call).map(drop)
    }
}
