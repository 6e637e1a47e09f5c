//! One LMDB environment per process per directory.
//!
//! LMDB forbids opening the same environment twice in one process (the
//! second open corrupts the lock state), and a child after `fork` must not
//! touch the parent's environment. Every [`super::DbmStore`] therefore gets
//! its environment from this registry, keyed by the canonical path and
//! stamped with the process id that opened it.

use std::collections::HashMap;
use std::mem::ManuallyDrop;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};

use std::ops::{Deref, DerefMut};

use lmdb::{Database, DatabaseFlags, Environment, EnvironmentFlags, RwTransaction, Transaction};
use parking_lot::Mutex;

use super::writer_lock::{WriterGuard, WriterLock};
use crate::error::{Error, Result};

/// An open LMDB environment with the two databases of a session store.
pub(crate) struct SharedEnv {
    env: ManuallyDrop<Environment>,
    /// id (16 bytes) -> encoded record.
    pub records: Database,
    /// expiry key (8 bytes) + id (16 bytes) -> empty: the expiry index.
    pub expiry: Database,
    /// Whether LMDB syncs at every commit (set by the first opener).
    pub durable: bool,
    /// The process that opened it.
    pub pid: u32,
    /// The queue that batches durable commits into shared syncs.
    pub group: super::group_commit::GroupCommit,
    /// Taken around every write transaction (see `writer_lock`).
    writer: ManuallyDrop<WriterLock>,
}

impl SharedEnv {
    pub fn env(&self) -> &Environment {
        &self.env
    }

    /// Begins a write transaction, after this process's turn at the
    /// writer lock; the transaction holds the lock until it is committed or
    /// dropped.
    pub fn begin_write(&self) -> Result<WriteTxn<'_>> {
        let guard = self.writer.lock()?;
        let txn = self.env.begin_rw_txn()?;
        Ok(WriteTxn { txn, _guard: guard })
    }

    /// Entries in the records database.
    pub fn record_count(&self) -> Result<u64> {
        entries(&self.env, self.records)
    }
}

/// The number of entries in `db`.
pub(crate) fn entries(env: &Environment, db: Database) -> Result<u64> {
    let txn = env.begin_ro_txn()?;
    let mut stat = std::mem::MaybeUninit::<lmdb_sys::MDB_stat>::zeroed();
    // SAFETY: `txn` is a live read transaction of `env`, `db` was opened in
    // `env`, and `stat` is a valid out-pointer that mdb_stat fills
    // completely on success.
    let rc = unsafe { lmdb_sys::mdb_stat(txn.txn(), db.dbi(), stat.as_mut_ptr()) };
    if rc != 0 {
        return Err(lmdb::Error::from_err_code(rc).into());
    }
    // SAFETY: rc == 0, so mdb_stat initialised the struct.
    Ok(unsafe { stat.assume_init() }.ms_entries as u64)
}

/// A write transaction that holds the writer lock: fields drop in order,
/// so the transaction ends (aborted unless committed) before the lock is
/// given back.
pub(crate) struct WriteTxn<'env> {
    txn: RwTransaction<'env>,
    _guard: WriterGuard<'env>,
}

impl<'env> WriteTxn<'env> {
    /// Commits, then gives the lock back.
    pub fn commit(self) -> Result<()> {
        let WriteTxn { txn, _guard } = self;
        Ok(txn.commit()?)
    }
}

impl<'env> Deref for WriteTxn<'env> {
    type Target = RwTransaction<'env>;
    fn deref(&self) -> &RwTransaction<'env> {
        &self.txn
    }
}

impl DerefMut for WriteTxn<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.txn
    }
}

impl Drop for SharedEnv {
    fn drop(&mut self) {
        if self.pid == super::pid::current() {
            // SAFETY: each dropped once, here, and never used again.
            unsafe {
                ManuallyDrop::drop(&mut self.env);
                ManuallyDrop::drop(&mut self.writer);
            }
        }
        // In a forked child the parent's environment and writer lock are
        // leaked on purpose: closing a descriptor of a file drops every
        // POSIX lock this process holds on it, so closing the parent's would
        // drop the locks the child's own environment holds on the same files.
    }
}

/// Options fixed when an environment is first opened in a process.
#[derive(Clone, Copy, Debug)]
pub(crate) struct EnvOptions {
    pub map_size: usize,
    pub durable: bool,
}

struct Registry {
    pid: u32,
    envs: HashMap<PathBuf, Weak<SharedEnv>>,
}

static REGISTRY: Mutex<Option<Registry>> = Mutex::new(None);

/// The environment for `dir` (created if missing), opened at most once per process.
pub(crate) fn open(dir: &Path, options: EnvOptions) -> Result<Arc<SharedEnv>> {
    if dir.exists() && !dir.is_dir() {
        return Err(Error::Io(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!("{} exists and is not a directory", dir.display()),
        )));
    }
    std::fs::create_dir_all(dir)?;
    let path = dir.canonicalize()?;
    let pid = super::pid::current();

    let mut guard = REGISTRY.lock();
    let registry = guard.get_or_insert_with(|| Registry {
        pid,
        envs: HashMap::new(),
    });
    if registry.pid != pid {
        // We are a forked child: nothing the parent opened may be reused.
        registry.pid = pid;
        registry.envs.clear();
    }
    if let Some(env) = registry.envs.get(&path).and_then(Weak::upgrade) {
        return Ok(env);
    }
    let env = Arc::new(open_env(&path, options, pid)?);
    registry.envs.insert(path, Arc::downgrade(&env));
    Ok(env)
}

fn open_env(path: &Path, options: EnvOptions, pid: u32) -> Result<SharedEnv> {
    // Not NO_TLS: each thread keeps its own reader slot, so a read takes no
    // lock (with NO_TLS every read transaction locked the shared reader
    // table: 2 processes read 1.05x as fast as one, see
    // core/examples/read_scaling.rs). Every read transaction here begins
    // and ends inside one call on one thread, never nested, as that
    // requires. NO_READAHEAD: sessions are read at
    // random; readahead only evicts useful pages.
    //
    // Not WRITE_MAP: with it LMDB writes new pages straight into a shared
    // map of a sparse file, and when the disk cannot give a page the kernel
    // kills the process with SIGBUS (core/tests/full_disk.rs: a web worker
    // dies on a full disk). Without it dirty pages go out by pwrite(), whose
    // ENOSPC is an error the commit returns, the store intact. The cost,
    // measured in docs/reliability.md: a no-sync commit cycle about 2x
    // slower (5 -> 12 us), durable commits unchanged within the fsync's noise.
    // (Allocating the file ahead with fallocate could keep WRITE_MAP safe
    // only for transactions that grow the file by less than the headroom;
    // a clean batch or a large record can grow it by more.)
    let mut flags = EnvironmentFlags::NO_READAHEAD;
    if !options.durable {
        flags |= EnvironmentFlags::NO_SYNC;
    }
    let env = Environment::new()
        .set_flags(flags)
        .set_max_dbs(4)
        // One slot per reading thread of every process (a slot is freed when
        // its thread exits): room for large thread pools.
        .set_max_readers(4096)
        .set_map_size(options.map_size)
        .open(path)?;
    // Free the reader slots of processes that died holding a read
    // transaction (a killed web worker), so they cannot fill the table.
    let mut dead = 0;
    // SAFETY: `env` is open; `dead` is a valid out-pointer.
    unsafe { lmdb_sys::mdb_reader_check(env.env(), &mut dead) };
    // The format check and create_db write (the stamp, the database
    // names): under the writer lock like every write. No other thread of
    // this process uses `env` yet, so the record lock alone is enough.
    let writer = WriterLock::open(path)?;
    let (records, expiry) = {
        let _turn = writer.lock()?;
        super::dbm_format::check(&env)?;
        (
            env.create_db(Some("records"), DatabaseFlags::empty())?,
            env.create_db(Some("expiry"), DatabaseFlags::empty())?,
        )
    };
    Ok(SharedEnv {
        env: ManuallyDrop::new(env),
        records,
        expiry,
        durable: options.durable,
        pid,
        group: Default::default(),
        writer: ManuallyDrop::new(writer),
    })
}
