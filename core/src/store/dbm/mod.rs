//! [`DbmStore`]: persistent sessions in an LMDB directory, shared by every
//! process and thread of the machine.
//!
//! The store and its commit live here; `index` keeps the records and the
//! expiry index in step, `clean` removes expired records in batches, and
//! `inspect` has the operators' tools ([`Inspect`], usage).

mod clean;
mod index;
mod inspect;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use lmdb::RwTransaction;
use parking_lot::RwLock;

use self::index::{get, put, remove};
use super::env_registry::{self, EnvOptions, SharedEnv};
use super::{merge, Committed, Counters, Inspect, Store, Sweep, Update};
use crate::error::{Error, Result};
use crate::record::{Changes, Record};
use crate::store_key::StoreKey;

/// Options of a [`DbmStore`].
#[derive(Clone, Copy, Debug)]
pub struct DbmOptions {
    /// The LMDB map size in bytes: the most the store can hold. The file is
    /// sparse, so a large map costs address space, not disk. Default 1 GiB.
    pub map_size: usize,
    /// Sync to disk at every commit (default). `false` skips the sync: a
    /// crashed process still loses nothing, a crashed machine may lose the
    /// last commits (LMDB's `MDB_NOSYNC`).
    pub durable: bool,
}

impl Default for DbmOptions {
    fn default() -> Self {
        DbmOptions {
            map_size: 1 << 30,
            durable: true,
        }
    }
}

/// Sessions in an LMDB directory.
///
/// One records database (id -> record) and one expiry index (expires-at,
/// big-endian, + id), so [`Sweep::clean`](crate::Sweep::clean) costs O(expired records), not
/// O(records). Any number of `DbmStore`s may name one directory: the process
/// opens its LMDB environment once (the first opener's `map_size` and
/// `durable` apply to it; a durable store on a non-durable environment syncs
/// after each of its own commits). A forked child reopens the environment on
/// first use. Several processes may use one directory at once.
pub struct DbmStore {
    path: PathBuf,
    options: DbmOptions,
    env: RwLock<Arc<SharedEnv>>,
    counters: Counters,
}

impl DbmStore {
    /// Opens (creating if needed) the store in directory `path` with default options.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(path, DbmOptions::default())
    }

    /// Opens (creating if needed) the store in directory `path`.
    pub fn open_with(path: impl AsRef<Path>, options: DbmOptions) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let env = env_registry::open(&path, env_options(options))?;
        Ok(DbmStore {
            path,
            options,
            env: RwLock::new(env),
            counters: Counters::default(),
        })
    }

    /// The directory given at open.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The environment, reopened first if this process is a fork of the one
    /// that opened it.
    fn env(&self) -> Result<Arc<SharedEnv>> {
        let env = self.env.read().clone();
        if env.pid == super::pid::current() {
            return Ok(env);
        }
        let fresh = env_registry::open(&self.path, env_options(self.options))?;
        *self.env.write() = fresh.clone();
        Ok(fresh)
    }

    /// Runs `f` in one write transaction and commits it, syncing when this
    /// store is durable and the environment does not sync by itself.
    fn write<T>(
        &self,
        f: impl FnOnce(&SharedEnv, &mut RwTransaction<'_>) -> Result<T>,
    ) -> Result<T> {
        let shared = self.env()?;
        let mut txn = shared.begin_write()?;
        let out = f(&shared, &mut txn)?;
        txn.commit()?;
        if self.options.durable && !shared.durable {
            shared.env().sync(true)?;
        }
        Ok(out)
    }
}

fn env_options(options: DbmOptions) -> EnvOptions {
    EnvOptions {
        map_size: options.map_size,
        durable: options.durable,
    }
}
impl DbmStore {
    fn decode_counted(&self, bytes: &[u8]) -> Result<Record> {
        Record::decode(bytes).inspect_err(|_| self.counters.count_corrupt())
    }
}

/// Through the expiry index, in bounded batches (see
/// [`DbmStore::clean_with_progress`]).
impl Sweep for DbmStore {
    fn clean(&self, now: f64) -> Result<u64> {
        self.clean_with_progress(now, |_| {})
    }
}

impl Store for DbmStore {
    fn load(&self, key: &StoreKey, now: f64) -> Result<Option<Arc<Record>>> {
        self.counters.count_load();
        let shared = self.env()?;
        let txn = shared.env().begin_ro_txn()?;
        let Some(bytes) = get(&txn, &shared, key)? else {
            return Ok(None);
        };
        let record = self.decode_counted(bytes)?;
        Ok((!record.is_expired(now)).then(|| Arc::new(record)))
    }

    fn delete(&self, key: &StoreKey) -> Result<bool> {
        self.write(|shared, txn| remove(txn, shared, key))
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
        _loaded: &mut Option<Arc<Record>>,
    ) -> Result<Committed> {
        let result = if self.options.durable {
            // Durable: share the transaction and its sync with concurrent commits.
            let shared = self.env()?;
            let (key, owned) = (*key, OwnedUpdate::from(update));
            let job = Box::new(move |shared: &SharedEnv, txn: &mut RwTransaction<'_>| {
                apply_commit(txn, shared, &key, &owned.as_update())
            });
            shared.group.run(&shared, job, !shared.durable)
        } else {
            self.write(|shared, txn| apply_commit(txn, shared, key, update))
        };
        match &result {
            Ok(committed) => self.counters.count_commit(committed.outcome),
            Err(Error::Corrupt(_)) => self.counters.count_corrupt(),
            Err(_) => {}
        }
        result
    }
}

/// An [`Update`] that owns its changes, to travel to the group-commit leader.
struct OwnedUpdate {
    changes: Changes,
    now: f64,
    expires_at: f64,
    created: f64,
    create: bool,
    base_accessed: Option<f64>,
}

impl From<&Update<'_>> for OwnedUpdate {
    fn from(u: &Update<'_>) -> Self {
        OwnedUpdate {
            changes: u.changes.clone(),
            now: u.now,
            expires_at: u.expires_at,
            created: u.created,
            create: u.create,
            base_accessed: u.base_accessed,
        }
    }
}

impl OwnedUpdate {
    fn as_update(&self) -> Update<'_> {
        Update {
            changes: &self.changes,
            now: self.now,
            expires_at: self.expires_at,
            created: self.created,
            create: self.create,
            base_accessed: self.base_accessed,
        }
    }
}

/// The commit of one session inside `txn`: merge `update` into the record
/// as stored now. Reads and checks everything before its first write, so a
/// damaged record fails this commit alone.
fn apply_commit(
    txn: &mut RwTransaction<'_>,
    shared: &SharedEnv,
    key: &StoreKey,
    update: &Update<'_>,
) -> Result<Committed> {
    let stored = match get(txn, shared, key)? {
        Some(bytes) => Some(Record::decode(bytes)?),
        None => None,
    };
    let old_expiry = stored.as_ref().map(|r| r.expires_at);
    let live = stored.filter(|r| !r.is_expired(update.now));
    let (record, outcome) = merge(live, update);
    match &record {
        Some(record) => put(txn, shared, key, record, old_expiry)?,
        // Expired and not to be revived: remove it now.
        None if old_expiry.is_some() => {
            remove(txn, shared, key)?;
        }
        None => {}
    }
    Ok(Committed {
        outcome,
        record: record.map(Arc::new),
    })
}
