//! Group commit for durable DbmStores: commits that arrive while another
//! thread is syncing wait, then go to disk together in one LMDB write
//! transaction and one sync. Each caller returns only once its own change
//! is durable, with its own outcome.
//!
//! The first caller to find no commit under way becomes the leader: it
//! takes every queued job (its own among them), applies them in order in
//! one transaction, commits and syncs. Then it passes the lead to the first
//! writer that queued meanwhile, hands each job of its batch its result,
//! and returns: a leader does not go on serving others while its own
//! caller waits (with two writers, that made every batch carry one commit:
//! each writer's next commit arrived while the other led). The others wait
//! on their slot for a result or for the lead.
//!
//! A leader first waits a moment (at most [`GATHER`]) until the writers of
//! the last batch have queued again: they are coming back with their next
//! commits, and on a machine with fewer cores than writers they need a
//! moment to get there. (PostgreSQL's `commit_delay` does the same, for the
//! same reason.) That is the writers queued when the lead was passed plus
//! those the batch answered, or, for the first writer back after a batch
//! that left nobody queued, that batch's writers (for [`RETURNING_FOR`]).
//! A lone writer never waits: it is all its last batch had.
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
    /// Not run yet: the caller leads the next batch, its own job in it,
    /// after waiting for the queue to hold `expect` jobs.
    Lead {
        expect: usize,
    },
}

/// What a waiting writer is told to do.
enum Turn {
    Done(Result<Committed>),
    Lead { expect: usize },
}

#[derive(Default)]
struct Slot {
    answer: Mutex<Option<Answer>>,
    ready: Condvar,
}

impl Slot {
    fn answer_with(&self, answer: Answer) {
        *self.answer.lock() = Some(answer);
        self.ready.notify_one();
    }

    fn wait(&self) -> Turn {
        let mut answer = self.answer.lock();
        loop {
            match answer.take() {
                Some(Answer::Done(result)) => return Turn::Done(result),
                Some(Answer::Lead { expect }) => return Turn::Lead { expect },
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

/// The longest a leader waits for the writers of the last batch to queue
/// again: a fraction of a sync (hundreds of microseconds on a disk, far more
/// on many), so a batch never waits longer than a share of what it saves.
const GATHER: Duration = Duration::from_micros(100);

/// How soon after a batch that left nobody queued its writers still count
/// as coming back (each needs a moment of CPU to make its next commit).
const RETURNING_FOR: Duration = Duration::from_millis(1);

#[derive(Default)]
struct Queue {
    jobs: Vec<(Job, Arc<Slot>)>,
    leader_active: bool,
    /// The last batch that left nobody queued: how many writers it
    /// answered, and when.
    last_alone: Option<(usize, Instant)>,
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
        let expect = if queue.leader_active {
            drop(queue);
            self.arrived.notify_one();
            match slot.wait() {
                Turn::Done(result) => return result,
                Turn::Lead { expect } => expect,
            }
        } else {
            queue.leader_active = true;
            // The writers of a batch that just ended are coming back; after
            // a lone writer's, or a while, nobody is: no wait.
            let expect = match queue.last_alone {
                Some((writers, ended)) if ended.elapsed() < RETURNING_FOR => writers,
                _ => 0,
            };
            drop(queue);
            expect
        };
        self.lead(shared, sync_after, expect);
        match slot.wait() {
            Turn::Done(result) => result,
            // The lead goes to a job still queued, and ours ran.
            Turn::Lead { .. } => unreachable!("a leader's own job is in its batch"),
        }
    }

    /// One batch, led by a caller whose own job is queued: waits (at most
    /// [`GATHER`]) for `expect` queued jobs, runs them all, passes the lead
    /// to the first job queued meanwhile, then answers the batch.
    fn lead(&self, shared: &SharedEnv, sync_after: bool, expect: usize) {
        let leading = Leading(self);
        let mut queue = self.queue.lock();
        if queue.jobs.len() < expect {
            let deadline = Instant::now() + GATHER;
            while queue.jobs.len() < expect
                && !self.arrived.wait_until(&mut queue, deadline).timed_out()
            {}
        }
        let batch = std::mem::take(&mut queue.jobs);
        drop(queue);
        let answers = execute(shared, batch, sync_after);
        let mut queue = self.queue.lock();
        // Passed on under the same lock that sees who queued, so no job is
        // left without a leader. Before the batch is answered, so `expect`
        // counts its writers as not yet back.
        match queue.jobs.first() {
            Some((_, next)) => next.answer_with(Answer::Lead {
                expect: queue.jobs.len() + answers.len(),
            }),
            None => {
                queue.leader_active = false;
                queue.last_alone = Some((answers.len(), Instant::now()));
            }
        }
        drop(queue);
        std::mem::forget(leading);
        for (slot, answer) in answers {
            slot.answer_with(answer);
        }
    }
}

/// Runs a batch in one transaction and gives every slot's answer. A job
/// that fails before writing (a damaged record) fails alone; a failure of
/// the transaction itself (map full, I/O) fails the whole batch.
fn execute(
    shared: &SharedEnv,
    batch: Vec<(Job, Arc<Slot>)>,
    sync_after: bool,
) -> Vec<(Arc<Slot>, Answer)> {
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
                let others = done.into_iter().map(|(_, slot)| slot);
                let others = others.chain(jobs.map(|(_, slot)| slot));
                let mut answers: Vec<_> = others
                    .map(|slot| (slot, Answer::Done(Err(panicked_in_batch()))))
                    .collect();
                answers.push((slot, Answer::Panicked(payload)));
                return answers;
            }
        };
        if let Err(Error::StoreFull) = result {
            // The transaction cannot take more writes: give up on the batch.
            drop(txn);
            let mut answers = fail_all(done, lmdb::Error::MapFull.into());
            answers.push((slot, Answer::Done(Err(Error::StoreFull))));
            return answers;
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
            .map(|(result, slot)| (slot, Answer::Done(result)))
            .collect(),
        Err(e) => fail_all(done, e),
    }
}

/// The error of the other commits of a batch in which a job panicked.
fn panicked_in_batch() -> Error {
    Error::Io(std::io::Error::other(
        "another commit in the same write transaction panicked; nothing was written, retry",
    ))
}

fn fail_all<T>(batch: Vec<(T, Arc<Slot>)>, error: Error) -> Vec<(Arc<Slot>, Answer)> {
    batch
        .into_iter()
        .map(|(_, slot)| (slot, Answer::Done(Err(copy_of(&error)))))
        .collect()
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

    #[test]
    fn a_leader_returns_once_its_own_commit_is_durable() {
        // The leader's own job holds its batch open until another writer
        // has queued; that writer's job then waits until the leader's call
        // has returned. A leader that went on to lead the next batch
        // before returning would wait for that job forever.
        let dir = tempfile::tempdir().unwrap();
        let shared = env(dir.path());
        let group = Arc::new(GroupCommit::default());
        let (leader_started_tx, leader_started) = mpsc::channel();
        let (go_leader, go_leader_rx) = mpsc::channel::<()>();
        let leader = {
            let (group, shared) = (group.clone(), shared.clone());
            std::thread::spawn(move || {
                let job: Job = Box::new(move |_, _| {
                    leader_started_tx.send(()).unwrap();
                    go_leader_rx.recv().unwrap();
                    Ok(Committed {
                        outcome: CommitOutcome::Stored { merged: false },
                        record: None,
                    })
                });
                group.run(&shared, job, false)
            })
        };
        leader_started.recv().unwrap();
        let (go_other, go_other_rx) = mpsc::channel::<()>();
        let other = {
            let (group, shared) = (group.clone(), shared.clone());
            std::thread::spawn(move || {
                let job: Job = Box::new(move |_, _| {
                    go_other_rx.recv().unwrap();
                    Ok(Committed {
                        outcome: CommitOutcome::Stored { merged: false },
                        record: None,
                    })
                });
                group.run(&shared, job, false)
            })
        };
        // Polling a condition, not sleeping: the other writer is queued.
        while group.queue.lock().jobs.is_empty() {
            std::thread::yield_now();
        }
        go_leader.send(()).unwrap();
        let (done_tx, done) = mpsc::channel();
        std::thread::spawn(move || done_tx.send(leader.join().unwrap()));
        let led = done
            .recv_timeout(Duration::from_secs(10))
            .expect("the leader did not return while the next batch was open");
        assert_eq!(
            led.unwrap().outcome,
            CommitOutcome::Stored { merged: false }
        );
        go_other.send(()).unwrap();
        let theirs = other.join().unwrap().unwrap();
        assert_eq!(theirs.outcome, CommitOutcome::Stored { merged: false });
    }
}
