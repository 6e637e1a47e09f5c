//! `_StoreThreads`: the store calls of an asyncio event loop, run on
//! threads of our own that never take the GIL, their results picked up on
//! the loop (used by `spysession.asgi`).
//!
//! Why: a hop to a Python worker thread and back (anyio's `to_thread`,
//! `run_in_executor`) cost about 90 µs of CPU per store call on the
//! benchmark machine, the GIL changing hands twice, ten times a Redis
//! round trip's own cost. Here the loop submits a job with the GIL (a
//! begin or a commit: the request's bytes, or the engine session lent by
//! the Python one); a store thread runs it without the GIL; when done it
//! queues the result and, if the queue was empty, writes one byte to a
//! socket pair whose other end the loop watches (`loop.add_reader`). The
//! loop's reader calls [`StoreThreads::ready`], which turns each result
//! into a Python object (a `Session`, a commit's headers, an exception) on
//! the loop's thread.
//!
//! Threads are started as jobs need them, up to `max_threads`, and kept
//! until the object is closed or dropped; jobs beyond wait in order. A
//! job's panic is caught on its thread and reported as a `StoreError`; a
//! lent session comes back in every case. On close, the jobs already
//! submitted still run (a commit is never dropped), their results unread.

use std::collections::{HashMap, VecDeque};
use std::io::{ErrorKind, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use parking_lot::{Condvar, Mutex};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use spysession_core::{
    CommitResult, Error, PageOptions, Request, Session as CoreSession,
    SessionManager as CoreManager,
};

use crate::clock::lend;
use crate::errors::{to_py, StoreError};
use crate::manager::SessionManager;
use crate::session::{commit_headers, Session};

/// A request's parts, owned (a job outlives the Python call that made it).
struct OwnedRequest {
    cookie: Option<Vec<u8>>,
    query: Option<Vec<u8>>,
    path: String,
}

impl OwnedRequest {
    fn borrow(&self) -> Request<'_> {
        Request {
            cookie: self.cookie.as_deref(),
            query: self.query.as_deref(),
            form: None,
            path: &self.path,
        }
    }
}

/// Work for a store thread. `now` is a Python clock's reading, lent to the
/// engine on the store thread (None: the manager reads its own clock).
enum Job {
    Begin {
        manager: CoreManager,
        request: OwnedRequest,
        now: Option<f64>,
    },
    Commit {
        session: CoreSession,
        now: f64,
        lent_now: Option<f64>,
    },
}

/// Why a job failed: the engine's error, or a panic (a bug) caught on the
/// store thread.
enum Failure {
    Engine(Error),
    Panicked(String),
}

impl Failure {
    fn into_py(self, py: Python<'_>) -> PyErr {
        match self {
            Failure::Engine(e) => to_py(py, e),
            Failure::Panicked(why) => StoreError::new_err(format!(
                "a spysession store thread panicked (a bug; the session was kept): {why}"
            )),
        }
    }
}

/// What a job made.
enum Outcome {
    Begun(Result<CoreSession, Failure>),
    /// The lent session, back, and how its commit went.
    Committed(CoreSession, Result<CommitResult, Failure>),
}

/// Runs `work`, a panic in it caught and described.
fn guarded<T>(work: impl FnOnce() -> Result<T, Error>) -> Result<T, Failure> {
    match catch_unwind(AssertUnwindSafe(work)) {
        Ok(done) => done.map_err(Failure::Engine),
        Err(panic) => {
            let why = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no message".into());
            Err(Failure::Panicked(why))
        }
    }
}

impl Job {
    fn run(self) -> Outcome {
        match self {
            Job::Begin {
                manager,
                request,
                now,
            } => Outcome::Begun(guarded(|| {
                lend(now, || {
                    manager.begin_with(&request.borrow(), &PageOptions::default())
                })
            })),
            Job::Commit {
                mut session,
                now,
                lent_now,
            } => {
                // The session is borrowed by the guarded call, never moved
                // into it: it comes back whatever happens there.
                let result = guarded(|| lend(lent_now, || session.commit_at(now)));
                Outcome::Committed(session, result)
            }
        }
    }
}

/// The jobs waiting and the threads that run them.
#[derive(Default)]
struct Jobs {
    queue: VecDeque<(u64, Job)>,
    threads: usize,
    idle: usize,
    closing: bool,
}

/// What the loop's side and the store threads share.
struct Shared {
    jobs: Mutex<Jobs>,
    job_waiting: Condvar,
    done: Mutex<Vec<(u64, Outcome)>>,
    /// The end written to when results are waiting (nonblocking).
    wake: UnixStream,
}

impl Shared {
    /// A store thread's life: run jobs until closed and none is left.
    fn work(&self) {
        loop {
            let job = {
                let mut jobs = self.jobs.lock();
                loop {
                    if let Some(job) = jobs.queue.pop_front() {
                        break job;
                    }
                    if jobs.closing {
                        jobs.threads -= 1;
                        return;
                    }
                    jobs.idle += 1;
                    self.job_waiting.wait(&mut jobs);
                    jobs.idle -= 1;
                }
            };
            let (token, job) = job;
            let outcome = job.run();
            let was_empty = {
                let mut done = self.done.lock();
                done.push((token, outcome));
                done.len() == 1
            };
            // One byte per batch: the loop drains the socket before it
            // takes the results, so a result queued after that take finds
            // the queue empty and writes again. A full socket already has
            // a wake-up waiting.
            if was_empty {
                let _ = (&self.wake).write(&[1]);
            }
        }
    }
}

/// What the loop's side remembers of a job until its result is picked up.
enum Pending {
    Begin {
        manager: Py<SessionManager>,
        path: String,
    },
    Commit {
        session: Py<Session>,
    },
}

/// Store calls of one event loop on spysession's own threads (see the
/// module docs). Private: `spysession.asgi` is its user.
#[pyclass(module = "spysession", name = "_StoreThreads")]
pub struct StoreThreads {
    shared: Arc<Shared>,
    /// The end the loop watches.
    watched: UnixStream,
    max_threads: usize,
    next_token: u64,
    pending: HashMap<u64, Pending>,
}

impl StoreThreads {
    /// Queues `job`, starting a thread if the idle ones are too few and
    /// fewer than `max_threads` run. Refused, the job comes back with the error (a
    /// lent session is given back, not lost).
    fn submit(&mut self, job: Job, pending: Pending) -> Result<u64, Box<(PyErr, Job)>> {
        let token = self.next_token;
        let mut jobs = self.shared.jobs.lock();
        if jobs.closing {
            let closed = PyRuntimeError::new_err("the store threads are closed");
            return Err(Box::new((closed, job)));
        }
        jobs.queue.push_back((token, job));
        // Idle threads take queued jobs one each: start one more while the
        // queue outnumbers them (a burst of jobs, met before any idle
        // thread woke, is spread over threads).
        if jobs.queue.len() > jobs.idle && jobs.threads < self.max_threads {
            let shared = Arc::clone(&self.shared);
            let started = std::thread::Builder::new()
                .name("spysession-store".into())
                .spawn(move || shared.work());
            match started {
                Ok(_) => jobs.threads += 1,
                // Out of threads: the running ones take the job in turn.
                Err(e) if jobs.threads == 0 => {
                    let failed =
                        StoreError::new_err(format!("could not start a store thread: {e}"));
                    let (_, job) = jobs.queue.pop_back().expect("the job just queued");
                    return Err(Box::new((failed, job)));
                }
                Err(_) => {}
            }
        }
        drop(jobs);
        self.shared.job_waiting.notify_one();
        self.next_token += 1;
        self.pending.insert(token, pending);
        Ok(token)
    }

    /// A finished job as (ok, result or exception to raise).
    fn deliver(py: Python<'_>, pending: Pending, outcome: Outcome) -> (bool, Py<PyAny>) {
        match Self::result_of(py, pending, outcome) {
            Ok(value) => (true, value),
            Err(e) => (false, e.into_value(py).into_any()),
        }
    }

    /// The Python result of a finished job.
    fn result_of(py: Python<'_>, pending: Pending, outcome: Outcome) -> PyResult<Py<PyAny>> {
        match (pending, outcome) {
            (Pending::Begin { manager, path }, Outcome::Begun(begun)) => {
                let core = begun.map_err(|f| f.into_py(py))?;
                let session =
                    SessionManager::adopt(manager.bind(py), core, &path, &PageOptions::default())?;
                Ok(Py::new(py, session)?.into_any())
            }
            (Pending::Commit { session }, Outcome::Committed(core, committed)) => {
                session.bind(py).try_borrow_mut()?.give_back(core);
                let result = committed.map_err(|f| f.into_py(py))?;
                Ok(commit_headers(py, result)?.into_any().unbind())
            }
            _ => Err(PyRuntimeError::new_err(
                "a store thread's result does not match its job",
            )),
        }
    }
}

impl Drop for StoreThreads {
    fn drop(&mut self) {
        self.shared.jobs.lock().closing = true;
        self.shared.job_waiting.notify_all();
    }
}

#[pymethods]
impl StoreThreads {
    /// Store threads (up to `max_threads`, at least 1) for one event loop.
    #[new]
    fn new(py: Python<'_>, max_threads: usize) -> PyResult<Self> {
        if max_threads == 0 {
            return Err(crate::errors::config_error(
                py,
                "max_threads",
                "must be at least 1",
            ));
        }
        let (watched, wake) = UnixStream::pair()?;
        watched.set_nonblocking(true)?;
        wake.set_nonblocking(true)?;
        Ok(StoreThreads {
            shared: Arc::new(Shared {
                jobs: Mutex::new(Jobs::default()),
                job_waiting: Condvar::new(),
                done: Mutex::new(Vec::new()),
                wake,
            }),
            watched,
            max_threads,
            next_token: 0,
            pending: HashMap::new(),
        })
    }

    /// The file descriptor that turns readable when results are waiting
    /// (for `loop.add_reader`; then call `ready()`).
    fn fileno(&self) -> i32 {
        self.watched.as_raw_fd()
    }

    /// Begins the session of a request (the raw Cookie header, the raw
    /// query string, the path) on a store thread: the token its result
    /// comes back with, or None when the request carries no id (no I/O:
    /// call `manager.begin(...)` on the loop).
    #[pyo3(signature = (manager, cookie, query, path))]
    fn begin(
        &mut self,
        manager: &Bound<'_, SessionManager>,
        cookie: Option<&Bound<'_, PyBytes>>,
        query: Option<&Bound<'_, PyBytes>>,
        path: String,
    ) -> PyResult<Option<u64>> {
        let py = manager.py();
        let this = manager.get();
        let request = OwnedRequest {
            cookie: cookie.map(|c| c.as_bytes().to_vec()),
            query: query.map(|q| q.as_bytes().to_vec()),
            path,
        };
        if this.core().find_id(&request.borrow()).is_none() {
            return Ok(None);
        }
        let now = this.py_clock().map(|c| c.read(py)).transpose()?;
        let pending = Pending::Begin {
            manager: manager.clone().unbind(),
            path: request.path.clone(),
        };
        let job = Job::Begin {
            manager: this.core().clone(),
            request,
            now,
        };
        self.submit(job, pending)
            .map(Some)
            .map_err(|refused| refused.0)
    }

    /// Commits `session` on a store thread: the token its headers come back
    /// with, or None when the commit has nothing to write (no I/O: call
    /// `session.commit()` on the loop). Until the result is picked up, the
    /// session can be neither read nor changed (RuntimeError).
    fn commit(&mut self, session: &Bound<'_, Session>) -> PyResult<Option<u64>> {
        let py = session.py();
        let mut this = session.try_borrow_mut()?;
        let manager = this.manager().clone_ref(py);
        let manager = manager.bind(py).get();
        let clock = manager.py_clock();
        let lent_now = clock.map(|c| c.read(py)).transpose()?;
        let now = lent_now.unwrap_or_else(|| manager.core().now());
        let Some(core) = this.lend_for_commit(py, now)? else {
            return Ok(None);
        };
        drop(this);
        let job = Job::Commit {
            session: core,
            now,
            lent_now,
        };
        let pending = Pending::Commit {
            session: session.clone().unbind(),
        };
        match self.submit(job, pending) {
            Ok(token) => Ok(Some(token)),
            Err(refused) => {
                let (e, job) = *refused;
                if let Job::Commit { session: core, .. } = job {
                    session.try_borrow_mut()?.give_back(core);
                }
                Err(e)
            }
        }
    }

    /// The results waiting, each as (token, ok, value): ok True with the
    /// `Session` of a begin or the header list of a commit, False with the
    /// exception to raise.
    fn ready(&mut self, py: Python<'_>) -> PyResult<Vec<(u64, bool, Py<PyAny>)>> {
        // Drain the wake-up bytes; a short read means none is left (one
        // system call in the usual case of one byte).
        let mut buf = [0u8; 256];
        loop {
            match (&self.watched).read(&mut buf) {
                Ok(n) if n == buf.len() => continue,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                _ => break, // short read, end of stream, or WouldBlock
            }
        }
        let done = std::mem::take(&mut *self.shared.done.lock());
        let mut out = Vec::with_capacity(done.len());
        for (token, outcome) in done {
            let Some(pending) = self.pending.remove(&token) else {
                continue;
            };
            let (ok, value) = Self::deliver(py, pending, outcome);
            out.push((token, ok, value));
        }
        Ok(out)
    }

    /// How many jobs were submitted and not yet picked up by `ready()`.
    #[getter]
    fn pending(&self) -> usize {
        self.pending.len()
    }

    /// How many store threads are running.
    #[getter]
    fn threads(&self) -> usize {
        self.shared.jobs.lock().threads
    }

    /// How many store threads wait for a job.
    #[getter]
    fn idle(&self) -> usize {
        self.shared.jobs.lock().idle
    }

    /// Stops the threads once the jobs already submitted are done (their
    /// results are not picked up). Further submissions are refused.
    fn close(&self) {
        self.shared.jobs.lock().closing = true;
        self.shared.job_waiting.notify_all();
    }
}
