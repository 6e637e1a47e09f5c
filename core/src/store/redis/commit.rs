//! [`Store`] for [`RedisStore`]: load, delete, and the commit, one Lua
//! script that merges the changed keys into the session as stored.

use std::sync::Arc;

use super::layout::{bucket_of, data_field, hash_key, set_key, time_text, ttl_ms};
use super::{check_version, RedisStore};
use crate::error::Result;
use crate::record::{Record, FORMAT_VERSION};
use crate::store::{merge_into, CommitOutcome, Committed, Counters, Inspect, Store, Sweep, Update};
use crate::store_key::StoreKey;

impl Store for RedisStore {
    fn load(&self, key: &StoreKey, now: f64) -> Result<Option<Arc<Record>>> {
        self.counters.count_load();
        let record = self.get(key)?;
        Ok(record.filter(|r| !r.is_expired(now)).map(Arc::new))
    }

    fn delete(&self, key: &StoreKey) -> Result<bool> {
        self.check_layout()?;
        let hex = key.to_hex();
        let key = hash_key(&self.options.prefix, &hex);
        let mut call = self.delete_script.prepare_invoke();
        call.key(&key)
            .key(set_key(&self.options.prefix, bucket_of(&hex)))
            .arg(&hex[..]);
        let n: i64 = self.write(&key, &call)?;
        Ok(n > 0)
    }

    fn inspect(&self) -> Option<&dyn Inspect> {
        Some(self)
    }

    fn sweep(&self) -> Option<&dyn Sweep> {
        Some(self)
    }

    fn counters(&self) -> &Counters {
        &self.counters
    }

    fn commit(
        &self,
        store_key: &StoreKey,
        update: &Update<'_>,
        loaded: &mut Option<Arc<Record>>,
    ) -> Result<Committed> {
        self.check_layout()?;
        let hex = store_key.to_hex();
        let key = hash_key(&self.options.prefix, &hex);
        let changes = update.changes;
        let removed: Vec<Vec<u8>> = changes
            .iter()
            .filter(|(_, v)| v.is_none())
            .map(|(k, _)| data_field(k))
            .collect();
        let mut call = self.commit_script.prepare_invoke();
        call.key(&key)
            .key(set_key(&self.options.prefix, bucket_of(&hex)))
            .arg(time_text(update.now))
            .arg(time_text(update.expires_at))
            .arg(time_text(update.created))
            .arg(if update.create { "1" } else { "0" })
            .arg(if changes.clear { "1" } else { "0" })
            .arg(ttl_ms(update.expires_at, update.now))
            .arg(FORMAT_VERSION)
            .arg(&hex[..])
            .arg(removed.len());
        for field in &removed {
            call.arg(field);
        }
        for (k, v) in changes.iter() {
            if let Some(v) = v {
                call.arg(data_field(k)).arg(v.to_msgpack());
            }
        }
        let reply: Vec<String> = self.write(&key, &call)?;
        // Whether the script wrote into exactly the record this session
        // holds (or, for a new one, into nothing).
        let mut onto_loaded = false;
        let outcome = match reply.first().map(String::as_str) {
            Some("stored") => {
                let before = reply.get(1).and_then(|t| t.parse::<f64>().ok());
                let Some(before) = before else {
                    return Err(self.corrupt("m:accessed is not a number"));
                };
                let merged = update.base_accessed.is_some_and(|base| base != before);
                onto_loaded = match loaded {
                    Some(record) => record.accessed == before,
                    None => update.create && before == update.created,
                };
                CommitOutcome::Stored { merged }
            }
            Some("notfound") => CommitOutcome::NotFound,
            Some("version") => {
                check_version(reply.get(1).map(String::as_bytes))?;
                return Err(self.corrupt("m:v is not a format version"));
            }
            _ => return Err(self.corrupt("metadata fields missing or malformed")),
        };
        self.counters.count_commit(outcome);
        let record = match outcome {
            CommitOutcome::NotFound => None,
            // Nobody wrote since this session loaded (or made) the record:
            // what is stored is that record with this update applied.
            CommitOutcome::Stored { .. } if onto_loaded => {
                let mut record = match loaded.take() {
                    Some(record) => Arc::unwrap_or_clone(record),
                    None => Record::new(update.created, update.expires_at, Default::default()),
                };
                merge_into(&mut record, update);
                Some(Arc::new(record))
            }
            // Merged into another writer's: read back what the script made.
            CommitOutcome::Stored { .. } => self.get(store_key)?.map(Arc::new),
        };
        Ok(Committed { outcome, record })
    }
}
