//! [`RedisStore`]: sessions in Redis (or Valkey), shared by every web
//! machine behind a load balancer, on one server, a Sentinel-managed
//! primary or a Redis Cluster. Built only with the cargo feature `redis`.
//!
//! The layout, expiry and failure rules are documented on [`RedisStore`].
//!
//! The store, its options and its connections are here; `commit` has the
//! [`Store`] side (load, commit, delete), `inspect` the [`Inspect`] side
//! (count, list, raw reads and writes), `clean` the [`Sweep`], `layout` the
//! keys, fields and Lua scripts, `v01` the 0.1 layout and its migration.

mod clean;
mod commit;
mod connect;
mod inspect;
mod layout;
mod pool;
mod v01;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use redis::Script;

use self::connect::{Kind, Settings};
use self::layout::{
    hash_key, marker_key, CLEAN_LUA, COMMIT_LUA, DELETE_LUA, EXPIRIES_LUA, LAYOUT_VERSION, SAVE_LUA,
};
use self::pool::{Conn, Pool};

use super::Counters;
#[cfg(doc)]
use super::{Inspect, Store, Sweep};
use crate::error::{Error, Result};
use crate::record::FORMAT_VERSION;
use crate::store_key::StoreKey;

/// Options of a [`RedisStore`].
#[derive(Clone, Debug)]
pub struct RedisOptions {
    /// Starts every key of the store. Default `"spysession:"`. Give each
    /// site sharing one Redis its own prefix; it may not hold `{` or `}`
    /// (they would break the hash tags of the layout).
    pub prefix: String,
    /// How long connecting (TCP connect plus the Redis handshake) may take.
    /// Default 2 seconds.
    pub connect_timeout: Duration,
    /// How long one command may wait to be written and answered. Default 2 seconds.
    pub command_timeout: Duration,
    /// The most connections kept open to Redis (at least 1). Requests beyond
    /// it wait for a free connection. Default 8.
    pub pool_size: usize,
    /// For `rediss://` only: the PEM certificate(s) of the authority that
    /// signed the server's certificate, trusted instead of the system's
    /// roots (a private CA). Default `None`: the system's roots.
    pub tls_root_cert: Option<Vec<u8>>,
    /// How many replicas must confirm each commit, save and delete (Redis
    /// `WAIT`, for up to 3/4 of `command_timeout`) before it is reported done.
    /// Default 0: the primary's answer is enough, as with any Redis client;
    /// a primary that dies before replicating may then lose the last
    /// writes in a failover. With 1 (Sentinel or Cluster with replicas), a
    /// write that no replica confirmed in time is an error to the caller
    /// ([`Error::Io`], `TimedOut`), and every write reported done survives
    /// the failover of its primary.
    pub wait_replicas: usize,
}

impl Default for RedisOptions {
    fn default() -> Self {
        RedisOptions {
            prefix: "spysession:".into(),
            connect_timeout: Duration::from_secs(2),
            command_timeout: Duration::from_secs(2),
            pool_size: 8,
            tls_root_cert: None,
            wait_replicas: 0,
        }
    }
}

/// Sessions in Redis (or Valkey), shared by every web machine behind a load
/// balancer: one hash per session, changes merged by a Lua script; on one
/// server, a Sentinel-managed primary or a Redis Cluster alike.
///
/// # Layout (version 2)
///
/// Sessions are spread over 256 buckets by the first byte of their store
/// key (its first two hex digits, `bb`). The bucket is a Redis hash tag, so
/// a cluster keeps each bucket in one slot:
///
/// | key | type | holds |
/// |---|---|---|
/// | `<prefix>{bb}<store key hex>` | hash | one session (fields below), with a TTL |
/// | `<prefix>{bb}:exp` | sorted set | the bucket's expiry index: member = store key hex, score = `m:expires` or a little earlier (a lower bound, see below) |
/// | `<prefix>layout` | string | the layout version, `2` |
///
/// The session hash's fields:
///
/// | field | value |
/// |---|---|
/// | `m:v` | record format version, `2` (decimal text; another version is [`Error::StoreVersion`]) |
/// | `m:created` | created at, Unix seconds (decimal text, Rust's shortest round-trip form) |
/// | `m:accessed` | last written (commit or touch), Unix seconds |
/// | `m:expires` | expires at, Unix seconds; expired when `now >= expires` |
/// | `d:<key>` | one per session key: the MessagePack of its [`crate::Value`] |
///
/// Metadata lives under `m:` and user keys under `d:`, so no user key can
/// collide with metadata whatever bytes it holds. Any other field, a missing
/// metadata field or a key of another Redis type is a damaged record
/// ([`Error::Corrupt`]). The default prefix is `spysession:`; a prefix
/// holding `{` or `}` is refused ([`Error::Config`] naming `prefix`).
///
/// The 0.1 layout (a hash at `<prefix><id>`, no buckets, no marker) is
/// detected the first time a store meets a prefix without a marker (one
/// `SCAN` of the database for keys of that shape; a cluster is not
/// scanned, 0.1 never ran on one) and refused with an [`Error::Config`]
/// naming `prefix` and the 0.1 layout; [`RedisStore::migrate_v01`] moves
/// such sessions into this layout once.
///
/// # Expiry and clean
///
/// The expiry in `m:expires` is authoritative and compared with the `now`
/// the caller passes, as in every store, so an injected clock works. The
/// Redis TTL is a safety net set to the same moment, as a *relative* time:
/// `expires_at - now` (for `save`, `expires_at - accessed`), so clock skew
/// between web machines and the Redis host does not shorten sessions.
/// [`Sweep::clean`] asks each bucket's expiry set for its due members
/// (`ZRANGEBYSCORE`, in batches of 500) and deletes, in one short script
/// per batch, only those whose `m:expires` has really passed (a session
/// re-written since keeps living, and gets its real expiry as its score);
/// members whose hash is gone (its TTL fired) leave the set without being
/// counted. A commit rewrites the score only when the expiry moves into
/// another 1/64 of the TTL, or earlier (one Redis call fewer per request
/// for a session in use), so the score can lag `m:expires` by less than
/// 1/64 of the TTL, never run ahead of it: a clean meets a live session
/// only in that last stretch of its life. Its cost is 256 small commands
/// plus O(expired), never a walk of every key. [`Inspect::len`] is the sum of the buckets' `ZCARD`s;
/// [`Inspect::list`] reads the sets.
///
/// # Atomicity
///
/// A commit is one Lua script (`EVALSHA`, loaded again on `NOSCRIPT` after
/// a Redis restart) on the session's hash and its bucket's set, which share
/// a slot: check existence and expiry (no resurrection unless the session
/// is new), delete the removed keys (all of them on clear), set the set
/// keys, write the metadata, refresh the TTL and the expiry index. Requests
/// on different machines that change different keys of one session
/// therefore both keep their change. `save` and `delete` are one script each too.
///
/// # Deployments, connections and failures
///
/// URLs: `redis://[user:password@]host[:port][/db]`, `redis+unix:///path`
/// or `unix:///path` for a unix socket, `rediss://...` for TLS when built
/// with the feature `redis-tls` (rustls with the `ring` provider, no system
/// library; the server is checked against the system's roots, or against
/// [`RedisOptions::tls_root_cert`] only);
/// `redis+sentinel://[user:password@]host:port[,host:port...]/primary-name[/db]`
/// (the credentials and db are the primary's; the Sentinels are asked
/// without); `redis+cluster://[user:password@]host:port[,host:port...]`
/// (seed nodes). TLS is for one server only, for now.
///
/// A small pool of synchronous connections, each behind a `parking_lot`
/// mutex, made lazily. Connecting is bounded by `connect_timeout`, each
/// command by `command_timeout`: a Redis that is down or hung gives
/// [`Error::Io`] (the `redis` crate's error kept inside) within about those
/// bounds, never a hang. A connection that failed is dropped and the next
/// request connects again; a pooled connection found closed (Redis
/// restarted) is replaced and the request retried once on the new one
/// (safe: a commit applied twice writes the same fields).
///
/// With Sentinel, each new connection asks the Sentinels in turn for the
/// primary's address (`SENTINEL get-master-addr-by-name`, with our own
/// timeouts) and checks that the server there is a primary (`ROLE`); a
/// connection that meets `READONLY` (its server was demoted by a failover)
/// or an I/O error is dropped, so the next attempt resolves the primary
/// again. With Cluster, the `redis` crate's cluster client routes each
/// command by slot and follows `MOVED`/`ASK` and failovers, retrying for
/// about 2 seconds before the caller gets the error. In every case a write
/// that cannot be confirmed is an error, never silently dropped; see
/// [`RedisOptions::wait_replicas`] for writes that must survive a failover.
/// As with any network store, a request that timed out may still have been applied.
///
/// # Example
///
/// ```no_run
/// use spysession_core::{RedisOptions, RedisStore};
/// let store = RedisStore::open_with(
///     "redis+sentinel://10.0.0.1:26379,10.0.0.2:26379/mymaster",
///     RedisOptions { prefix: "mysite:".into(), wait_replicas: 1, ..Default::default() },
/// )?;
/// store.ping()?;
/// # Ok::<(), spysession_core::Error>(())
/// ```
pub struct RedisStore {
    pool: Pool,
    kind: Kind,
    options: RedisOptions,
    commit_script: Script,
    save_script: Script,
    delete_script: Script,
    clean_script: Script,
    expiries_script: Script,
    layout_checked: AtomicBool,
    counters: Counters,
}

/// A hash whose `m:v` is a format version other than this build's was
/// written by another version: [`Error::StoreVersion`], never read as if
/// it were ours. A missing or non-numeric `m:v` is left to the decoder (a
/// damaged record).
fn check_version(version: Option<&[u8]>) -> Result<()> {
    let found = version
        .and_then(|v| std::str::from_utf8(v).ok())
        .and_then(|v| v.parse::<u64>().ok());
    match found {
        Some(found) if found != u64::from(FORMAT_VERSION) => Err(Error::StoreVersion {
            found,
            expected: FORMAT_VERSION,
        }),
        _ => Ok(()),
    }
}

impl RedisStore {
    /// A store on the Redis at `url`, with default options. Connects lazily:
    /// a Redis that is down now is an error at the first use, not here.
    pub fn open(url: &str) -> Result<Self> {
        Self::open_with(url, RedisOptions::default())
    }

    /// A store on the Redis at `url`. The URL and options are checked here
    /// ([`Error::Config`] naming `url`, `prefix`, `connect_timeout`,
    /// `command_timeout`, `pool_size` or `tls_root_cert`); the connection
    /// is made at first use.
    pub fn open_with(url: &str, options: RedisOptions) -> Result<Self> {
        if options.prefix.contains(['{', '}']) {
            return Err(Error::config(
                "prefix",
                "may not hold '{' or '}' (the layout's hash tags use them)",
            ));
        }
        if options.connect_timeout.is_zero() {
            return Err(Error::config("connect_timeout", "must be more than zero"));
        }
        if options.command_timeout.is_zero() {
            return Err(Error::config("command_timeout", "must be more than zero"));
        }
        if options.pool_size == 0 {
            return Err(Error::config("pool_size", "must be at least 1"));
        }
        let settings = Settings {
            connect_timeout: options.connect_timeout,
            command_timeout: options.command_timeout,
            tls_root_cert: options.tls_root_cert.as_deref(),
        };
        let (connector, kind) = connect::connector(url, &settings)?;
        Ok(RedisStore {
            pool: Pool::new(connector, options.pool_size, options.command_timeout),
            kind,
            options,
            commit_script: Script::new(COMMIT_LUA),
            save_script: Script::new(SAVE_LUA),
            delete_script: Script::new(DELETE_LUA),
            clean_script: Script::new(CLEAN_LUA),
            expiries_script: Script::new(EXPIRIES_LUA),
            layout_checked: AtomicBool::new(false),
            counters: Counters::default(),
        })
    }

    /// The options given at open.
    pub fn options(&self) -> &RedisOptions {
        &self.options
    }

    /// Checks that Redis answers (`PING`), within the timeouts.
    pub fn ping(&self) -> Result<()> {
        self.with_connection(|con| redis::cmd("PING").query::<String>(con).map(drop))
    }

    /// The Redis key of a session's hash: `<prefix>{bb}<store key hex>`
    /// (the id itself never reaches Redis).
    pub fn key(&self, key: &StoreKey) -> Vec<u8> {
        hash_key(&self.options.prefix, &key.to_hex())
    }

    /// Runs `op` on a pooled connection (see [`Pool::run`]), counting a key
    /// of the wrong Redis type as a damaged record.
    fn with_connection<T>(&self, op: impl FnMut(&mut Conn) -> redis::RedisResult<T>) -> Result<T> {
        self.pool.run(op).inspect_err(|e| {
            if matches!(e, Error::Corrupt(_)) {
                self.counters.count_corrupt();
            }
        })
    }

    /// Runs a write script on the session's hash and, when
    /// [`RedisOptions::wait_replicas`] asks for it, waits on the same
    /// connection for that many replicas to confirm it.
    fn write<T: redis::FromRedisValue>(
        &self,
        key: &[u8],
        call: &redis::ScriptInvocation<'_>,
    ) -> Result<T> {
        let replicas = self.options.wait_replicas;
        // WAIT must give up before the connection's read timeout does, or
        // its answer (how many confirmed) would be lost.
        let timeout = u64::try_from(self.options.command_timeout.as_millis() * 3 / 4)
            .unwrap_or(u64::MAX)
            .max(1);
        let (reply, acked) = self.with_connection(|con| {
            let reply: T = call.invoke(con)?;
            let acked = match replicas {
                0 => 0,
                n => con.wait(key, n, timeout)?,
            };
            Ok((reply, acked))
        })?;
        if (acked as u64) < replicas as u64 {
            return Err(Error::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!(
                    "the write reached the primary but {acked} of the {replicas} replicas \
                     asked for (wait_replicas) confirmed it within command_timeout"
                ),
            )));
        }
        Ok(reply)
    }

    /// Checks once per store that the prefix holds layout 2 (or nothing):
    /// see the type's docs.
    fn check_layout(&self) -> Result<()> {
        if self.layout_checked.load(Ordering::Acquire) {
            return Ok(());
        }
        let prefix = &self.options.prefix;
        let marker = marker_key(prefix);
        let found: Option<String> =
            self.with_connection(|con| redis::cmd("GET").arg(&marker).query(con))?;
        match found.as_deref() {
            Some(LAYOUT_VERSION) => {}
            Some(other) => {
                return Err(Error::config(
                    "prefix",
                    format!(
                        "the keys under prefix {prefix:?} are in spysession's Redis layout \
                         version {other:?} ({marker} says so); this build reads version \
                         {LAYOUT_VERSION}"
                    ),
                ))
            }
            None => {
                if self.kind != Kind::Cluster {
                    if let Some(key) = self.with_connection(|con| v01::find_one(con, prefix))? {
                        return Err(v01::refusal(prefix, &key));
                    }
                }
                self.with_connection(|con| {
                    redis::cmd("SET")
                        .arg(&marker)
                        .arg(LAYOUT_VERSION)
                        .arg("NX")
                        .query::<()>(con)
                })?;
            }
        }
        self.layout_checked.store(true, Ordering::Release);
        Ok(())
    }

    fn corrupt(&self, why: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Error {
        self.counters.count_corrupt();
        Error::Corrupt(why.into())
    }
}
