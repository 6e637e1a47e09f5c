//! Group commit for durable DbmStores: commits that arrive while another
//! thread is syncing wait, then go to disk together in one LMDB write
//! transaction and one sync. Each caller returns only once its own change
//! is durable, with its own outcome.
//!
//! The first caller to find no commit under way becomes the leader: it
//! takes every queued job, applies them in order in one transaction,
//! commits, hands each job its result, and repeats while jobs keep
//! arriving. The others wait on their result slot.
//!
//! Before each batch after the first, the leader waits a moment (at most
//! [`GATHER`]) until as many commits are queued as the last batch carried
//! from other writers:
//! the writers that batch released are coming back with their next commits,
//! and on a machine with fewer cores than writers they need a moment to get
//! there. (PostgreSQL's `commit_delay` does the same, for the same reason.)
//! A lone writer never waits: its batches carry one commit.

use std::sync::Arc;
use std::time::{Duration, Instant};

use lmdb::{RwTransaction, Transaction};
use parking_lot::{Condvar, Mutex};

use super::env_registry::SharedEnv;
use super::Committed;
use crate::error::{Error, Result};

/// One commit to apply inside a shared write transaction.
pub(crate) type Job =
    Box<dyn FnOnce(&SharedEnv, &mut RwTransaction<'_>) -> Result<Committed> + Send>;

#[derive(Default)]
struct Slot {
    result: Mutex<Option<Result<Committed>>>,
    ready: Condvar,
}

impl Slot {
    fn fill(&self, result: Result<Committed>) {
        *self.result.lock() = Some(result);
        self.ready.notify_one();
    }

    fn wait(&self) -> Result<Committed> {
        let mut result = self.result.lock();
        loop {
            if let Some(r) = result.take() {
                return r;
            }
            self.ready.wait(&mut result);
        }
    }
}

/// The longest a leader waits for the writers of its last batch to queue
/// again: a fraction of a sync (hundreds of microseconds on a disk, far more
/// on many), so a batch never waits longer than a share of what it saves.
const GATHER: Duration = Duration::from_micros(100);

#[derive(Default)]
struct Queue {
    jobs: Vec<(Job, Arc<Slot>)>,
    leader_active: bool,
}

/// The queue of one LMDB environment (shared by every store on it).
#[derive(Default)]
pub(crate) struct GroupCommit {
    queue: Mutex<Queue>,
    /// Signalled when a commit is queued while a leader is at work.
    arrived: Condvar,
}

impl GroupCommit {
    /// Applies `job` durably, together with whatever other jobs are queued.
    /// `sync_after`: the environment does not sync at commit by itself.
    pub fn run(&self, shared: &SharedEnv, job: Job, sync_after: bool) -> Result<Committed> {
        let slot = Arc::new(Slot::default());
        let mut queue = self.queue.lock();
        queue.jobs.push((job, slot.clone()));
        if queue.leader_active {
            drop(queue);
            self.arrived.notify_one();
            return slot.wait();
        }
        queue.leader_active = true;
        // Other writers' commits in the last batch: they are the ones coming
        // back (this caller's own, in the first batch, will not while it leads).
        let mut others = 0;
        let mut first = true;
        loop {
            if others > 0 && queue.jobs.len() < others {
                let deadline = Instant::now() + GATHER;
                while queue.jobs.len() < others
                    && !self.arrived.wait_until(&mut queue, deadline).timed_out()
                {}
            }
            let batch = std::mem::take(&mut queue.jobs);
            others = batch.len() - usize::from(first && !batch.is_empty());
            first = false;
            if batch.is_empty() {
                queue.leader_active = false;
                break;
            }
            drop(queue);
            execute(shared, batch, sync_after);
            queue = self.queue.lock();
        }
        drop(queue);
        slot.wait()
    }
}

/// Runs a batch in one transaction and fills every slot. A job that fails
/// before writing (a damaged record) fails alone; a failure of the
/// transaction itself (map full, I/O) fails the whole batch.
fn execute(shared: &SharedEnv, batch: Vec<(Job, Arc<Slot>)>, sync_after: bool) {
    let mut txn = match shared.env().begin_rw_txn() {
        Ok(txn) => txn,
        Err(e) => return fail_all(batch, e),
    };
    let mut done = Vec::with_capacity(batch.len());
    for (job, slot) in batch {
        let result = job(shared, &mut txn);
        if let Err(Error::StoreFull) = result {
            // The transaction cannot take more writes: give up on the batch.
            drop(txn);
            slot.fill(Err(Error::StoreFull));
            return fail_all(done, lmdb::Error::MapFull);
        }
        done.push((result, slot));
    }
    let committed = txn.commit().and_then(|()| {
        if sync_after {
            shared.env().sync(true)
        } else {
            Ok(())
        }
    });
    match committed {
        Ok(()) => done
            .into_iter()
            .for_each(|(result, slot)| slot.fill(result)),
        Err(e) => fail_all(done, e),
    }
}

fn fail_all<T>(batch: Vec<(T, Arc<Slot>)>, error: lmdb::Error) {
    for (_, slot) in batch {
        slot.fill(Err(error.into()));
    }
}
