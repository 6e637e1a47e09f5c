//! [`Sweep`] for [`RedisStore`]: each bucket's due members, in batches,
//! checked and deleted by one short script per batch.

use super::layout::{bucket_prefix, set_key, time_text, BUCKETS};
use super::RedisStore;
use crate::error::Result;
use crate::store::Sweep;

/// Due members taken from a bucket's expiry set per clean step.
const CLEAN_BATCH: usize = 500;

/// One pass over the buckets' expiry sets (see `clean_bucket`).
impl Sweep for RedisStore {
    fn clean(&self, now: f64) -> Result<u64> {
        self.check_layout()?;
        let now_text = time_text(now);
        let mut removed = 0u64;
        for bucket in 0..BUCKETS {
            removed += self.clean_bucket(bucket, now, &now_text)?;
        }
        self.counters.count_cleaned(removed);
        Ok(removed)
    }
}

impl RedisStore {
    /// One bucket's clean: due members in batches, each batch checked and
    /// deleted by one script. Returns how many hashes it deleted.
    fn clean_bucket(&self, bucket: usize, now: f64, now_text: &str) -> Result<u64> {
        let prefix = &self.options.prefix;
        let set = set_key(prefix, bucket);
        let hashes = bucket_prefix(prefix, bucket);
        let mut removed = 0;
        loop {
            let due: Vec<Vec<u8>> = self.with_connection(|con| {
                redis::cmd("ZRANGEBYSCORE")
                    .arg(&set)
                    .arg("-inf")
                    .arg(now)
                    .arg("LIMIT")
                    .arg(0)
                    .arg(CLEAN_BATCH)
                    .query(con)
            })?;
            if due.is_empty() {
                return Ok(removed);
            }
            let mut call = self.clean_script.prepare_invoke();
            call.key(&set).arg(now_text);
            for member in &due {
                let mut key = hashes.clone();
                key.extend_from_slice(member);
                call.key(key).arg(member);
            }
            // Every due member leaves the due range in the script (deleted,
            // dropped from the set, or re-scored to its real, later
            // expiry), so the loop ends.
            removed += self.with_connection(|con| call.invoke::<u64>(con))?;
            if due.len() < CLEAN_BATCH {
                return Ok(removed);
            }
        }
    }
}
