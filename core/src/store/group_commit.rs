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
//!
//! A job that panics (a bug) fails its own caller with that panic, resumed
//! on the caller's thread; the rest of its batch fails with an error (the
//! transaction is abandoned, as its state is unknown) and may be retried.
//! The leader flag is reset by a drop guard, so the queue goes on serving
//! later commits whatever happens to a leader.

use std::any::Any;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::{Duration, Instant};

use lmdb::RwTransaction;
use parking_lot::{Condvar, Mutex};

use super::env_registry::SharedEnv;
use super::Committed;
use crate::error::{Error, Result};

/// One commit to apply inside a shared write transaction.
pub(crate) type Job =
    Box<dyn FnOnce(&SharedEnv, &mut RwTransaction<'_>) -> Result<Committed> + Send>;

/// What a job's caller gets back.
enum Answer {
    Done(Result<Committed>),
    /// The job panicked: the payload, to resume on the caller's thread.
    Panicked(Box<dyn Any + Send>),
}

#[derive(Default)]
struct Slot {
    answer: Mutex<Option<Answer>>,
    ready: Condvar,
}

impl Slot {
    fn fill(&self, result: Result<Committed>) {
        self.answer_with(Answer::Done(result));
    }

    fn answer_with(&self, answer: Answer) {
        *self.answer.lock() = Some(answer);
        self.ready.notify_one();
    }

    fn wait(&self) -> Result<Committed> {
        let mut answer = self.answer.lock();
        loop {
            match answer.take() {
                Some(Answer::Done(result)) => return result,
                Some(Answer::Panicked(payload)) => {
                    drop(answer);
                    resume_unwind(payload)
                }
                None => self.ready.wait(&mut answer),
            }
        }
    }
}

/// Clears `leader_active` when the leader stops leading, by return or by
/// unwinding, so a later commit can lead (as std's `Once` resets its state
/// when an initialiser panics). The leader never runs code that can panic
/// while it holds the queue lock (jobs run in `execute`, unlocked), so the
/// lock is free when this runs.
struct Leading<'a>(&'a GroupCommit);

impl Drop for Leading<'_> {
    fn drop(&mut self) {
        self.0.queue.lock().leader_active = false;
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
        let leading = Leading(self);
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
                // Stop leading under the same lock that found nothing
                // queued, so no job is left without a leader.
                queue.leader_active = false;
                std::mem::forget(leading);
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
    let mut txn = match shared.begin_write() {
        Ok(txn) => txn,
        Err(e) => return fail_all(batch, e),
    };
    let mut done = Vec::with_capacity(batch.len());
    let mut jobs = batch.into_iter();
    while let Some((job, slot)) = jobs.next() {
        let result = match catch_unwind(AssertUnwindSafe(|| job(shared, &mut txn))) {
            Ok(result) => result,
            Err(payload) => {
                // What the job wrote is unknown: abandon the transaction.
                drop(txn);
                slot.answer_with(Answer::Panicked(payload));
                let others = done.into_iter().map(|(_, slot)| slot);
                for slot in others.chain(jobs.map(|(_, slot)| slot)) {
                    slot.fill(Err(panicked_in_batch()));
                }
                return;
            }
        };
        if let Err(Error::StoreFull) = result {
            // The transaction cannot take more writes: give up on the batch.
            drop(txn);
            slot.fill(Err(Error::StoreFull));
            return fail_all(done, lmdb::Error::MapFull.into());
        }
        done.push((result, slot));
    }
    // The commit gives the writer lock back; the sync does not need it.
    let committed = txn.commit().and_then(|()| {
        if sync_after {
            Ok(shared.env().sync(true)?)
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

/// The error of the other commits of a batch in which a job panicked.
fn panicked_in_batch() -> Error {
    Error::Io(std::io::Error::other(
        "another commit in the same write transaction panicked; nothing was written, retry",
    ))
}

fn fail_all<T>(batch: Vec<(T, Arc<Slot>)>, error: Error) {
    for (_, slot) in batch {
        slot.fill(Err(copy_of(&error)));
    }
}

/// The same failure again, for the next job of a failed batch (the
/// engine's errors are not `Clone`: an I/O error is copied by its kind and
/// message).
fn copy_of(error: &Error) -> Error {
    match error {
        Error::Lmdb(e) => Error::Lmdb(*e),
        Error::StoreFull => Error::StoreFull,
        Error::Io(e) => Error::Io(std::io::Error::new(e.kind(), e.to_string())),
        other => Error::Io(std::io::Error::other(other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::env_registry::{self, EnvOptions};
    use crate::store::CommitOutcome;
    use std::panic::AssertUnwindSafe;
    use std::sync::mpsc;

    fn env(dir: &std::path::Path) -> Arc<SharedEnv> {
        let options = EnvOptions {
            map_size: 1 << 20,
            durable: true,
        };
        env_registry::open(dir, options).unwrap()
    }

    fn stored() -> Job {
        Box::new(|_, _| {
            Ok(Committed {
                outcome: CommitOutcome::Stored { merged: false },
                record: None,
            })
        })
    }

    #[test]
    fn a_panicking_job_fails_its_caller_and_later_commits_proceed() {
        let dir = tempfile::tempdir().unwrap();
        let shared = env(dir.path());
        let group = Arc::new(GroupCommit::default());
        let panicked = std::panic::catch_unwind(AssertUnwindSafe(|| {
            group.run(&shared, Box::new(|_, _| panic!("a bug in a commit")), false)
        }));
        let payload = panicked.expect_err("the panic reaches the job's own caller");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"a bug in a commit"));
        // The queue recovered: the next commits (from other threads, as a
        // web server's would be) are led and finish. A wedged queue would
        // never answer; the channel turns that into a failure, not a hang.
        let (tx, rx) = mpsc::channel();
        for _ in 0..3 {
            let (group, shared, tx) = (group.clone(), shared.clone(), tx.clone());
            std::thread::spawn(move || tx.send(group.run(&shared, stored(), false)));
        }
        for _ in 0..3 {
            let result = rx
                .recv_timeout(Duration::from_secs(20))
                .expect("a later commit never finished: the queue is wedged");
            let outcome = result.unwrap().outcome;
            assert_eq!(outcome, CommitOutcome::Stored { merged: false });
        }
    }
}
