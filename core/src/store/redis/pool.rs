//! The connections to Redis: a few synchronous connections, each behind a
//! `parking_lot` mutex, made lazily and replaced when they fail.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use parking_lot::{Mutex, MutexGuard};
use redis::{Client, Connection, ErrorKind, RedisError};

use crate::error::{Error, Result};

/// Up to `size` connections to one Redis.
pub(super) struct Pool {
    client: Client,
    slots: Vec<Mutex<Option<Connection>>>,
    next_slot: AtomicUsize,
    connect_timeout: Duration,
    command_timeout: Duration,
}

impl Pool {
    /// A pool of `size` (at least 1) connections, none made yet.
    pub(super) fn new(
        client: Client,
        size: usize,
        connect_timeout: Duration,
        command_timeout: Duration,
    ) -> Self {
        Pool {
            client,
            slots: (0..size).map(|_| Mutex::new(None)).collect(),
            next_slot: AtomicUsize::new(0),
            connect_timeout,
            command_timeout,
        }
    }

    /// A free pooled connection slot, or (all busy) a wait for one.
    fn slot(&self) -> MutexGuard<'_, Option<Connection>> {
        let start = self.next_slot.fetch_add(1, Ordering::Relaxed);
        let n = self.slots.len();
        (0..n)
            .find_map(|i| self.slots[(start + i) % n].try_lock())
            .unwrap_or_else(|| self.slots[start % n].lock())
    }

    fn connect(&self) -> Result<Connection> {
        let con = self
            .client
            .get_connection_with_timeout(self.connect_timeout)
            .map_err(to_error)?;
        let timeout = Some(self.command_timeout);
        con.set_read_timeout(timeout).map_err(to_error)?;
        con.set_write_timeout(timeout).map_err(to_error)?;
        Ok(con)
    }

    /// Runs `op` on a connection. A connection that fails with
    /// anything but a server error reply is dropped; when a reused one turns
    /// out closed (not timed out), `op` runs once more on a new connection.
    pub(super) fn run<T>(
        &self,
        mut op: impl FnMut(&mut Connection) -> redis::RedisResult<T>,
    ) -> Result<T> {
        let mut slot = self.slot();
        if let Some(con) = slot.as_mut() {
            match op(con) {
                Ok(value) => return Ok(value),
                Err(e) => {
                    if !matches!(e.kind(), ErrorKind::Server(_)) {
                        *slot = None;
                    }
                    if !e.is_connection_dropped() || e.is_timeout() {
                        return Err(to_error(e));
                    }
                }
            }
        }
        let con = slot.insert(self.connect()?);
        op(con).map_err(|e| {
            if !matches!(e.kind(), ErrorKind::Server(_)) {
                *slot = None;
            }
            to_error(e)
        })
    }
}

/// The client for `url`; TLS (`rediss://`) only with the feature `redis-tls`.
pub(super) fn client(url: &str, root_cert: Option<&[u8]>) -> Result<Client> {
    let tls = url.starts_with("rediss://") || url.starts_with("valkeys://");
    if root_cert.is_some() && !tls {
        return Err(Error::config(
            "tls_root_cert",
            "given for a URL without TLS",
        ));
    }
    let bad_url = |e: RedisError| Error::config("url", e.to_string());
    if !tls {
        return Client::open(url).map_err(bad_url);
    }
    #[cfg(feature = "redis-tls")]
    {
        // rustls needs a process-wide crypto provider; if the program (or
        // another library) installed one already, that one is used.
        let _ = rustls::crypto::ring::default_provider().install_default();
        match root_cert {
            Some(pem) => {
                let certs = redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(pem.to_vec()),
                };
                Client::build_with_tls(url, certs).map_err(bad_url)
            }
            None => Client::open(url).map_err(bad_url),
        }
    }
    #[cfg(not(feature = "redis-tls"))]
    Err(Error::config(
        "url",
        "TLS (rediss://) needs spysession-core built with the feature redis-tls",
    ))
}

/// A `redis` crate error as the engine's: a key of another Redis type under
/// our prefix is a damaged record; everything else is I/O, the cause kept.
fn to_error(e: RedisError) -> Error {
    if e.code() == Some("WRONGTYPE") {
        return Error::Corrupt(format!("the session's Redis key is not a hash: {e}").into());
    }
    let kind = if e.is_timeout() {
        io::ErrorKind::TimedOut
    } else if e.is_connection_refusal() {
        io::ErrorKind::ConnectionRefused
    } else if e.is_connection_dropped() {
        io::ErrorKind::ConnectionAborted
    } else {
        io::ErrorKind::Other
    };
    Error::Io(io::Error::new(kind, e))
}
