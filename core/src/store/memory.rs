//! [`MemoryStore`]: records in this process's memory, sharded under
//! `parking_lot` locks.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};

use parking_lot::RwLock;

use super::{expiry_key, merge, CommitOutcome, Counters, Store, Update};
use crate::error::Result;
use crate::id::SessionId;
use crate::record::Record;

/// Number of shards: enough that threads on a many-core server rarely meet
/// on one lock, few enough that a global eviction scan stays cheap.
const SHARDS: usize = 32;

#[derive(Default)]
struct Shard {
    records: HashMap<SessionId, Record>,
    /// (expiry key, id) for every record: clean and eviction take from the front.
    by_expiry: BTreeSet<([u8; 8], SessionId)>,
}

impl Shard {
    fn insert(&mut self, id: SessionId, record: Record) -> bool {
        self.by_expiry.insert((expiry_key(record.expires_at), id));
        match self.records.insert(id, record) {
            Some(old) => {
                let old_key = (expiry_key(old.expires_at), id);
                if old_key.0 != expiry_key(self.records[&id].expires_at) {
                    self.by_expiry.remove(&old_key);
                }
                false
            }
            None => true,
        }
    }

    fn remove(&mut self, id: &SessionId) -> Option<Record> {
        let old = self.records.remove(id)?;
        self.by_expiry.remove(&(expiry_key(old.expires_at), *id));
        Some(old)
    }
}

/// Sessions kept in this process's memory: the fastest store, volatile, and
/// visible to one process only.
///
/// With `max_sessions`, inserting a session past the bound evicts the
/// sessions nearest to expiry first.
pub struct MemoryStore {
    shards: Vec<RwLock<Shard>>,
    len: AtomicUsize,
    max_sessions: Option<usize>,
    counters: Counters,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new(None)
    }
}

impl MemoryStore {
    /// A store holding at most `max_sessions` records (`None`: unbounded).
    pub fn new(max_sessions: Option<usize>) -> Self {
        MemoryStore {
            shards: (0..SHARDS).map(|_| RwLock::default()).collect(),
            len: AtomicUsize::new(0),
            max_sessions,
            counters: Counters::default(),
        }
    }

    /// The bound given at construction.
    pub fn max_sessions(&self) -> Option<usize> {
        self.max_sessions
    }

    fn shard(&self, id: &SessionId) -> &RwLock<Shard> {
        // Ids are uniformly random: any byte picks a shard fairly.
        &self.shards[id.as_bytes()[0] as usize % SHARDS]
    }

    fn insert(&self, id: &SessionId, record: Record) {
        let added = self.shard(id).write().insert(*id, record);
        if added {
            self.len.fetch_add(1, Ordering::Relaxed);
            self.evict_over_bound(id);
        }
    }

    /// Evicts the records nearest to expiry until the bound holds. Never
    /// evicts `keep`, the record just written. Holds one lock at a time.
    fn evict_over_bound(&self, keep: &SessionId) {
        let Some(max) = self.max_sessions else { return };
        while self.len.load(Ordering::Relaxed) > max {
            let victim = self
                .shards
                .iter()
                .enumerate()
                .filter_map(|(i, shard)| {
                    let shard = shard.read();
                    let first = shard.by_expiry.iter().find(|(_, id)| id != keep)?;
                    Some((first.0, i))
                })
                .min();
            let Some((_, index)) = victim else { return };
            let mut shard = self.shards[index].write();
            let first = shard.by_expiry.iter().find(|(_, id)| id != keep).copied();
            if let Some((_, id)) = first {
                shard.remove(&id);
                self.len.fetch_sub(1, Ordering::Relaxed);
                self.counters.count_evicted(1);
            }
        }
    }
}

impl Store for MemoryStore {
    fn load(&self, id: &SessionId, now: f64) -> Result<Option<Record>> {
        self.counters.count_load();
        let shard = self.shard(id).read();
        Ok(shard
            .records
            .get(id)
            .filter(|r| !r.is_expired(now))
            .cloned())
    }

    fn save(&self, id: &SessionId, record: &Record) -> Result<()> {
        self.insert(id, record.clone());
        Ok(())
    }

    fn delete(&self, id: &SessionId) -> Result<bool> {
        let removed = self.shard(id).write().remove(id).is_some();
        if removed {
            self.len.fetch_sub(1, Ordering::Relaxed);
        }
        Ok(removed)
    }

    fn clean(&self, now: f64) -> Result<u64> {
        let mut removed = 0;
        for shard in &self.shards {
            let mut shard = shard.write();
            while let Some(&(key, id)) = shard.by_expiry.first() {
                if f64::from_bits(u64::from_be_bytes(key)) > now {
                    break;
                }
                shard.remove(&id);
                removed += 1;
            }
        }
        self.len.fetch_sub(removed, Ordering::Relaxed);
        self.counters.count_cleaned(removed as u64);
        Ok(removed as u64)
    }

    fn len(&self) -> Result<u64> {
        Ok(self.len.load(Ordering::Relaxed) as u64)
    }

    fn counters(&self) -> &Counters {
        &self.counters
    }

    fn commit(&self, id: &SessionId, update: &Update<'_>) -> Result<CommitOutcome> {
        let mut shard = self.shard(id).write();
        // Take the record out rather than clone it: the merge rewrites it.
        let stored = shard.remove(id);
        let existed = stored.is_some();
        let current = stored.filter(|r| !r.is_expired(update.now));
        let (record, outcome) = merge(current, update);
        let mut added = false;
        match record {
            Some(record) => {
                shard.insert(*id, record);
                added = !existed;
            }
            // An expired record met at commit is removed now rather than at
            // the next clean.
            None if existed => {
                self.len.fetch_sub(1, Ordering::Relaxed);
            }
            None => {}
        }
        drop(shard);
        if added {
            self.len.fetch_add(1, Ordering::Relaxed);
            self.evict_over_bound(id);
        }
        self.counters.count_commit(outcome);
        Ok(outcome)
    }
}
