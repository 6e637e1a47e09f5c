//! [`MemoryStore`]: records in this process's memory, sharded under
//! `parking_lot` locks.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use parking_lot::RwLock;

use super::{expiry_key, merge, merge_into, Committed, Counters, Inspect, Store, Sweep, Update};
use crate::error::Result;
use crate::record::Record;
use crate::store_key::StoreKey;

/// Number of shards: enough that threads on a many-core server rarely meet
/// on one lock, few enough that a global eviction scan stays cheap.
const SHARDS: usize = 32;

/// Records are shared with the sessions that loaded them (`Arc`): a load
/// costs a reference count instead of a copy, and a commit from the only
/// holder updates the record in place.
#[derive(Default)]
struct Shard {
    records: HashMap<StoreKey, Arc<Record>, foldhash::fast::RandomState>,
    /// (expiry, id) for every record, as integers (compared in an
    /// instruction, where byte arrays take a memcmp call): clean and
    /// eviction take from the front.
    by_expiry: BTreeSet<IndexKey>,
}

/// A record's place in the expiry order: the bits of its expiry (which sort
/// like the time, see `expiry_key`) and its id.
type IndexKey = (u64, u128);

fn index_key(expires_at: f64, key: &StoreKey) -> IndexKey {
    (
        u64::from_be_bytes(expiry_key(expires_at)),
        u128::from_be_bytes(*key.as_bytes()),
    )
}

fn key_of(key: &IndexKey) -> StoreKey {
    StoreKey::from_bytes(key.1.to_be_bytes())
}

impl Shard {
    fn insert(&mut self, key: StoreKey, record: Arc<Record>) -> bool {
        let new_key = index_key(record.expires_at, &key);
        self.by_expiry.insert(new_key);
        match self.records.insert(key, record) {
            Some(old) => {
                let old_key = index_key(old.expires_at, &key);
                if old_key != new_key {
                    self.by_expiry.remove(&old_key);
                }
                false
            }
            None => true,
        }
    }

    fn remove(&mut self, key: &StoreKey) -> Option<Arc<Record>> {
        let old = self.records.remove(key)?;
        self.by_expiry.remove(&index_key(old.expires_at, key));
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

    fn shard(&self, key: &StoreKey) -> &RwLock<Shard> {
        // Ids are uniformly random: any byte picks a shard fairly.
        &self.shards[key.as_bytes()[0] as usize % SHARDS]
    }

    fn insert(&self, key: &StoreKey, record: Arc<Record>) {
        let added = self.shard(key).write().insert(*key, record);
        if added {
            self.len.fetch_add(1, Ordering::Relaxed);
            self.evict_over_bound(key);
        }
    }

    /// Evicts the records nearest to expiry until the bound holds. Never
    /// evicts `keep`, the record just written. Holds one lock at a time.
    fn evict_over_bound(&self, keep: &StoreKey) {
        let Some(max) = self.max_sessions else { return };
        while self.len.load(Ordering::Relaxed) > max {
            let victim = self
                .shards
                .iter()
                .enumerate()
                .filter_map(|(i, shard)| {
                    let shard = shard.read();
                    let first = shard.by_expiry.iter().find(|k| key_of(k) != *keep)?;
                    Some((first.0, i))
                })
                .min();
            let Some((_, index)) = victim else { return };
            let mut shard = self.shards[index].write();
            let first = shard.by_expiry.iter().find(|k| key_of(k) != *keep).copied();
            if let Some(id) = first.as_ref().map(key_of) {
                shard.remove(&id);
                self.len.fetch_sub(1, Ordering::Relaxed);
                self.counters.count_evicted(1);
            }
        }
    }
}

impl Inspect for MemoryStore {
    fn len(&self) -> Result<u64> {
        Ok(self.len.load(Ordering::Relaxed) as u64)
    }

    fn list(&self) -> Result<Vec<(StoreKey, f64)>> {
        let mut out: Vec<_> = self
            .shards
            .iter()
            .flat_map(|shard| {
                let shard = shard.read();
                let entries: Vec<_> = shard
                    .records
                    .iter()
                    .map(|(key, record)| (*key, record.expires_at))
                    .collect();
                entries
            })
            .collect();
        out.sort_by_key(|(key, _)| *key);
        Ok(out)
    }

    fn get(&self, key: &StoreKey) -> Result<Option<Record>> {
        let shard = self.shard(key).read();
        Ok(shard.records.get(key).map(|record| Record::clone(record)))
    }

    fn save(&self, key: &StoreKey, record: &Record) -> Result<()> {
        self.insert(key, Arc::new(record.clone()));
        Ok(())
    }
}

impl Sweep for MemoryStore {
    fn clean(&self, now: f64) -> Result<u64> {
        let mut removed = 0;
        for shard in &self.shards {
            let mut shard = shard.write();
            while let Some(&key) = shard.by_expiry.first() {
                if f64::from_bits(key.0) > now {
                    break;
                }
                shard.remove(&key_of(&key));
                removed += 1;
            }
        }
        self.len.fetch_sub(removed, Ordering::Relaxed);
        self.counters.count_cleaned(removed as u64);
        Ok(removed as u64)
    }
}

impl Store for MemoryStore {
    fn load(&self, key: &StoreKey, now: f64) -> Result<Option<Arc<Record>>> {
        self.counters.count_load();
        let shard = self.shard(key).read();
        Ok(shard
            .records
            .get(key)
            .filter(|r| !r.is_expired(now))
            .cloned())
    }

    fn delete(&self, key: &StoreKey) -> Result<bool> {
        let removed = self.shard(key).write().remove(key).is_some();
        if removed {
            self.len.fetch_sub(1, Ordering::Relaxed);
        }
        Ok(removed)
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
        key: &StoreKey,
        update: &Update<'_>,
        loaded: &mut Option<Arc<Record>>,
    ) -> Result<Committed> {
        let mut guard = self.shard(key).write();
        let shard = &mut *guard;
        match shard.records.get_mut(key) {
            Some(record) if !record.is_expired(update.now) => {
                // The session's copy is the stored record itself: let it go,
                // so the record is changed in place instead of copied.
                if loaded.as_ref().is_some_and(|l| Arc::ptr_eq(l, record)) {
                    *loaded = None;
                }
                let old_key = index_key(record.expires_at, key);
                let outcome = merge_into(Arc::make_mut(record), update);
                let new_key = index_key(record.expires_at, key);
                let shared = Arc::clone(record);
                if old_key != new_key {
                    shard.by_expiry.remove(&old_key);
                    shard.by_expiry.insert(new_key);
                }
                drop(guard);
                self.counters.count_commit(outcome);
                return Ok(Committed {
                    outcome,
                    record: Some(shared),
                });
            }
            // An expired record met at commit is removed now rather than at
            // the next clean (and a new session under its id starts afresh).
            Some(_) => {
                shard.remove(key);
                self.len.fetch_sub(1, Ordering::Relaxed);
            }
            None => {}
        }
        let (record, outcome) = merge(None, update);
        let shared = record.map(Arc::new);
        let added = shared
            .as_ref()
            .is_some_and(|record| shard.insert(*key, Arc::clone(record)));
        drop(guard);
        if added {
            self.len.fetch_add(1, Ordering::Relaxed);
            self.evict_over_bound(key);
        }
        self.counters.count_commit(outcome);
        Ok(Committed {
            outcome,
            record: shared,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::SessionId;
    use crate::record::{Changes, Data};
    use crate::store::CommitOutcome;

    fn move_expiry(store: &MemoryStore, key: &StoreKey, now: f64, expires_at: f64) {
        let changes = Changes::default();
        let update = Update {
            changes: &changes,
            now,
            expires_at,
            created: 0.0,
            create: false,
            base_accessed: None,
        };
        assert_eq!(
            store.commit(key, &update, &mut None).unwrap().outcome,
            CommitOutcome::Stored { merged: false }
        );
    }

    #[test]
    fn moved_expiries_keep_one_index_pair_and_an_exact_clean() {
        let store = MemoryStore::new(None);
        let ids: Vec<StoreKey> = (0..10).map(|_| SessionId::generate().store_key()).collect();
        for id in &ids {
            store
                .save(id, &Record::new(0.0, 100.0, Data::new()))
                .unwrap();
        }
        for i in 0..1000 {
            move_expiry(&store, &ids[0], f64::from(i), 100.0 + f64::from(i));
        }
        for shard in &store.shards {
            let shard = shard.read();
            assert_eq!(
                shard.by_expiry.len(),
                shard.records.len(),
                "one pair per record"
            );
        }
        assert_eq!(store.clean(150.0).unwrap(), 9, "only the untouched nine");
        assert_eq!(store.len().unwrap(), 1);
        assert!(store.load(&ids[0], 150.0).unwrap().is_some());
        assert_eq!(store.clean(1099.0).unwrap(), 1);
        assert_eq!(store.len().unwrap(), 0);
        assert!(store.shards.iter().all(|s| s.read().by_expiry.is_empty()));
    }

    #[test]
    fn eviction_takes_the_nearest_expiry_after_moves() {
        let store = MemoryStore::new(Some(2));
        let (a, b, c) = (
            SessionId::generate().store_key(),
            SessionId::generate().store_key(),
            SessionId::generate().store_key(),
        );
        store
            .save(&a, &Record::new(0.0, 100.0, Data::new()))
            .unwrap();
        store
            .save(&b, &Record::new(0.0, 200.0, Data::new()))
            .unwrap();
        // a now expires last.
        move_expiry(&store, &a, 1.0, 300.0);
        store
            .save(&c, &Record::new(0.0, 400.0, Data::new()))
            .unwrap();
        assert!(
            store.load(&b, 2.0).unwrap().is_none(),
            "b was nearest to expiry"
        );
        assert!(store.load(&a, 2.0).unwrap().is_some());
        assert!(store.load(&c, 2.0).unwrap().is_some());
        assert_eq!(store.stats().evicted, 1);
    }
}
