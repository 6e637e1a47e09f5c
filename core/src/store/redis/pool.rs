//! The connections to Redis: a few synchronous connections, each behind a
//! `parking_lot` mutex, made lazily (by the deployment's [`Connector`]) and
//! replaced when they fail.

use std::error::Error as _;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Mutex, MutexGuard};
use redis::cluster::ClusterConnection;
use redis::cluster_routing::{Route, RoutingInfo, SingleNodeRoutingInfo, SlotAddr};
use redis::{Cmd, Connection, ConnectionLike, ErrorKind, RedisError, RedisResult};

use crate::error::{Error, Result};

/// One connection of any deployment: to one server (standalone, or the
/// primary a Sentinel named), or to a whole cluster.
pub(super) enum Conn {
    /// One server.
    Single(Connection),
    /// A Redis Cluster: routes each command by its key's slot, follows
    /// MOVED/ASK and refreshes its slot map after a failover.
    Cluster(Box<ClusterConnection>),
}

impl Conn {
    /// `WAIT replicas timeout_ms` on the primary that holds `key` (the
    /// connection that just wrote it): how many replicas acknowledged
    /// every write this connection made so far.
    pub(super) fn wait(
        &mut self,
        key: &[u8],
        replicas: usize,
        timeout_ms: u64,
    ) -> RedisResult<i64> {
        let mut wait = Cmd::new();
        wait.arg("WAIT").arg(replicas).arg(timeout_ms);
        match self {
            Conn::Single(con) => wait.query(con),
            Conn::Cluster(con) => {
                let route = Route::with_key(key, SlotAddr::Master);
                let routing = RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(route));
                Ok(redis::from_redis_value(con.route_command(&wait, routing)?)?)
            }
        }
    }
}

impl ConnectionLike for Conn {
    fn req_packed_command(&mut self, cmd: &[u8]) -> RedisResult<redis::Value> {
        match self {
            Conn::Single(c) => c.req_packed_command(cmd),
            Conn::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands(
        &mut self,
        cmd: &[u8],
        offset: usize,
        count: usize,
    ) -> RedisResult<Vec<redis::Value>> {
        match self {
            Conn::Single(c) => c.req_packed_commands(cmd, offset, count),
            Conn::Cluster(c) => c.req_packed_commands(cmd, offset, count),
        }
    }

    fn req_command(&mut self, cmd: &Cmd) -> RedisResult<redis::Value> {
        match self {
            Conn::Single(c) => c.req_command(cmd),
            Conn::Cluster(c) => c.req_command(cmd),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Single(c) => c.get_db(),
            Conn::Cluster(c) => c.get_db(),
        }
    }

    fn check_connection(&mut self) -> bool {
        match self {
            Conn::Single(c) => c.check_connection(),
            Conn::Cluster(c) => c.check_connection(),
        }
    }

    fn is_open(&self) -> bool {
        match self {
            Conn::Single(c) => c.is_open(),
            Conn::Cluster(c) => c.is_open(),
        }
    }
}

/// Makes a new connection, bounded by the store's timeouts (a standalone
/// server, a Sentinel-resolved primary, or a cluster).
pub(super) type Connector = Box<dyn Fn() -> Result<Conn> + Send + Sync>;

/// Up to `size` connections made by one connector.
pub(super) struct Pool {
    connector: Connector,
    slots: Vec<Mutex<Option<Conn>>>,
    next_slot: AtomicUsize,
    /// How long an operation interrupted by signals is tried again.
    retry_interrupted_for: Duration,
}

impl Pool {
    /// A pool of `size` (at least 1) connections, none made yet. An
    /// operation that a signal interrupts is tried again, on a new
    /// connection, for up to `retry_interrupted_for`.
    pub(super) fn new(connector: Connector, size: usize, retry_interrupted_for: Duration) -> Self {
        Pool {
            connector,
            slots: (0..size).map(|_| Mutex::new(None)).collect(),
            next_slot: AtomicUsize::new(0),
            retry_interrupted_for,
        }
    }

    /// A free pooled connection slot, or (all busy) a wait for one.
    fn slot(&self) -> MutexGuard<'_, Option<Conn>> {
        let start = self.next_slot.fetch_add(1, Ordering::Relaxed);
        let n = self.slots.len();
        (0..n)
            .find_map(|i| self.slots[(start + i) % n].try_lock())
            .unwrap_or_else(|| self.slots[start % n].lock())
    }

    /// Runs `op` on a connection (see [`Self::run_once`]). A system call
    /// that a signal interrupted (`EINTR`: a handler installed without
    /// `SA_RESTART`, as CPython installs its own, or the process stopped
    /// and continued, since the sockets have read timeouts) is not a fault
    /// of the store: `op` runs again on a new connection, as Python's own
    /// calls do (PEP 475), until `retry_interrupted_for` has passed. The
    /// interrupted attempt may have been applied, so every `op` given here
    /// must be safe to apply twice: reads, and the scripts, which set
    /// fields to given values and delete given keys.
    pub(super) fn run<T>(&self, mut op: impl FnMut(&mut Conn) -> RedisResult<T>) -> Result<T> {
        let started = Instant::now();
        loop {
            match self.run_once(&mut op) {
                Err(Error::Io(e))
                    if e.kind() == io::ErrorKind::Interrupted
                        && started.elapsed() < self.retry_interrupted_for => {}
                done => return done,
            }
        }
    }

    /// Runs `op` on a connection. A connection that fails with anything but
    /// a server error reply, or that finds itself on a replica (`READONLY`:
    /// the primary failed over), is dropped, so the next use connects (and
    /// re-resolves the primary) again. When a reused connection turns out
    /// closed (not timed out) or read-only, `op` runs once more on a new
    /// connection: nothing was applied by the failed attempt.
    fn run_once<T>(&self, op: &mut impl FnMut(&mut Conn) -> RedisResult<T>) -> Result<T> {
        let mut slot = self.slot();
        if let Some(con) = slot.as_mut() {
            match op(con) {
                Ok(value) => return Ok(value),
                Err(e) => {
                    if must_reconnect(&e) {
                        *slot = None;
                    }
                    let retry = (e.is_connection_dropped() && !e.is_timeout()) || is_readonly(&e);
                    if !retry {
                        return Err(to_error(e));
                    }
                }
            }
        }
        let con = slot.insert((self.connector)()?);
        op(con).map_err(|e| {
            if must_reconnect(&e) {
                *slot = None;
            }
            to_error(e)
        })
    }
}

/// True for an error after which the connection is not to be used again.
fn must_reconnect(e: &RedisError) -> bool {
    !matches!(e.kind(), ErrorKind::Server(_)) || is_readonly(e)
}

/// True when the server refused a write because it is a replica (now): a
/// Sentinel failover demoted the primary this connection was made to.
fn is_readonly(e: &RedisError) -> bool {
    e.code() == Some("READONLY") || e.to_string().contains("READONLY")
}

/// True when a system call under `e` was interrupted by a signal (`EINTR`).
fn is_interrupted(e: &RedisError) -> bool {
    // The crate keeps an I/O error as an `Arc<dyn Error>` and hands that
    // out as the source: look through the `Arc` too.
    let Some(cause) = e.source() else {
        return false;
    };
    let io = cause.downcast_ref::<io::Error>().or_else(|| {
        cause
            .downcast_ref::<Arc<dyn std::error::Error + Send + Sync>>()
            .and_then(|inner| inner.downcast_ref::<io::Error>())
    });
    io.is_some_and(|io| io.kind() == io::ErrorKind::Interrupted)
}

/// A `redis` crate error as the engine's: a key of another Redis type under
/// our prefix is a damaged record; everything else is I/O, the cause kept.
pub(super) fn to_error(e: RedisError) -> Error {
    if e.code() == Some("WRONGTYPE") {
        return Error::Corrupt(format!("the session's Redis key is not a hash: {e}").into());
    }
    let kind = if e.is_timeout() {
        io::ErrorKind::TimedOut
    } else if e.is_connection_refusal() {
        io::ErrorKind::ConnectionRefused
    } else if e.is_connection_dropped() {
        io::ErrorKind::ConnectionAborted
    } else if is_interrupted(&e) {
        io::ErrorKind::Interrupted
    } else {
        io::ErrorKind::Other
    };
    Error::Io(io::Error::new(kind, e))
}
