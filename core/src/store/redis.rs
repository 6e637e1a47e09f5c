//! [`RedisStore`]: sessions in Redis (or Valkey), shared by every web
//! machine behind a load balancer. Built only with the cargo feature `redis`.
//!
//! The layout, expiry and failure rules are documented on [`RedisStore`].

mod layout;
mod pool;

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use redis::{Connection, Script};

use self::layout::{
    data_field, decode_hash, glob_escape, time_text, ttl_ms, CLEAN_LUA, COMMIT_LUA, LIST_LUA,
};
use self::pool::Pool;
use std::sync::Arc;

use super::{merge_into, CommitOutcome, Committed, Counters, Inspect, Store, Update};
use crate::error::{Error, Result};
use crate::record::{Record, FORMAT_VERSION};
use crate::store_key::{StoreKey, STORE_KEY_LEN};

/// Keys asked of Redis per `SCAN` step (and removed per clean script call).
const SCAN_BATCH: usize = 500;
/// Options of a [`RedisStore`].
#[derive(Clone, Debug)]
pub struct RedisOptions {
    /// Prepended to every session id to make its Redis key. Default
    /// `"spysession:"`. Give each site sharing one Redis its own prefix.
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
}

impl Default for RedisOptions {
    fn default() -> Self {
        RedisOptions {
            prefix: "spysession:".into(),
            connect_timeout: Duration::from_secs(2),
            command_timeout: Duration::from_secs(2),
            pool_size: 8,
            tls_root_cert: None,
        }
    }
}

/// Sessions in Redis (or Valkey), shared by every web machine behind a load
/// balancer: one hash per session, changes merged by a Lua script.
///
/// # Layout
///
/// One Redis hash per session, at key `<prefix><store key>` (default prefix
/// `spysession:`, the session's [`StoreKey`] in its 32-character hex form:
/// the id itself never reaches Redis). Its fields:
///
/// | field | value |
/// |---|---|
/// | `m:v` | record format version, `2` (decimal text) |
/// | `m:created` | created at, Unix seconds (decimal text, Rust's shortest round-trip form) |
/// | `m:accessed` | last written (commit or touch), Unix seconds |
/// | `m:expires` | expires at, Unix seconds; expired when `now >= expires` |
/// | `d:<key>` | one per session key: the MessagePack of its [`crate::Value`] |
///
/// Metadata lives under `m:` and user keys under `d:`, so no user key can
/// collide with metadata whatever bytes it holds. Any other field, a missing
/// metadata field or a key of another Redis type is a damaged record
/// ([`Error::Corrupt`]). A hash whose `m:v` is another format version
/// (`1`: spysession 0.1) is [`Error::StoreVersion`], naming it, when a load
/// or commit meets it. (0.1 named its hashes by the raw id, so a 0.1
/// session is simply not found under its store key: its user starts a new
/// session; `clean` still removes 0.1 hashes once expired.)
///
/// # Expiry
///
/// The expiry in `m:expires` is authoritative and compared with the `now`
/// the caller passes, as in every store, so an injected clock works. The
/// Redis TTL is a safety net set to the same moment, as a *relative* time:
/// `expires_at - now` (for `save`, `expires_at - accessed`), so clock skew
/// between web machines and the Redis host does not shorten sessions. With a
/// wall clock, Redis deletes expired sessions by itself and
/// [`Store::clean`] finds little; clean still removes every record whose
/// `m:expires` has passed at the given `now` (what the TTL cannot know when
/// the caller's clock is not Redis's), by walking the prefix with `SCAN`:
/// its cost is O(records under the prefix), in batches of one short Lua call
/// each, never blocking Redis for long. [`Store::len`] also walks with
/// `SCAN`, O(records).
///
/// # Atomicity
///
/// A commit is one Lua script (`EVALSHA`, loaded again on `NOSCRIPT` after
/// a Redis restart): check existence and expiry (no resurrection unless the
/// session is new), delete the removed keys (all of them on clear), set the
/// set keys, write the metadata and refresh the TTL. Requests on different
/// machines that change different keys of one session therefore both keep
/// their change. `save` replaces the whole hash in one `MULTI`/`EXEC`.
/// Redis Cluster is not supported (clean's script names several keys).
///
/// # Connections and failures
///
/// A small pool of synchronous connections, each behind a `parking_lot`
/// mutex, made lazily. Connecting is bounded by `connect_timeout`, each
/// command by `command_timeout`: a Redis that is down or hung gives
/// [`Error::Io`] (the `redis` crate's error kept inside) within about those
/// bounds, never a hang. A connection that failed is dropped and the next
/// request connects again; a pooled connection found closed (Redis
/// restarted) is replaced and the request retried once on the new one
/// (safe: a commit applied twice writes the same fields). As with any
/// network store, a request that timed out may still have been applied.
///
/// URLs: `redis://[user:password@]host[:port][/db]`, `redis+unix:///path`
/// or `unix:///path` for a unix socket, and `rediss://...` for TLS when
/// built with the feature `redis-tls` (rustls with the `ring` provider, no
/// system library; the server is checked against the system's roots, or
/// against [`RedisOptions::tls_root_cert`] only). Without that feature a
/// `rediss://` URL is refused as a config error. The `redis` feature needs
/// Rust 1.88 (the `redis` crate's minimum).
///
/// # Example
///
/// ```no_run
/// use spysession_core::{RedisOptions, RedisStore};
/// let store = RedisStore::open_with(
///     "redis://127.0.0.1:6379/0",
///     RedisOptions { prefix: "mysite:".into(), ..Default::default() },
/// )?;
/// store.ping()?;
/// # Ok::<(), spysession_core::Error>(())
/// ```
pub struct RedisStore {
    pool: Pool,
    options: RedisOptions,
    commit_script: Script,
    clean_script: Script,
    counters: Counters,
}

impl RedisStore {
    /// A store on the Redis at `url`, with default options. Connects lazily:
    /// a Redis that is down now is an error at the first use, not here.
    pub fn open(url: &str) -> Result<Self> {
        Self::open_with(url, RedisOptions::default())
    }

    /// A store on the Redis at `url`. The URL and options are checked here
    /// ([`Error::Config`] naming `url`, `connect_timeout`, `command_timeout`
    /// or `pool_size`); the connection is made at first use.
    pub fn open_with(url: &str, options: RedisOptions) -> Result<Self> {
        let client = pool::client(url, options.tls_root_cert.as_deref())?;
        if options.connect_timeout.is_zero() {
            return Err(Error::config("connect_timeout", "must be more than zero"));
        }
        if options.command_timeout.is_zero() {
            return Err(Error::config("command_timeout", "must be more than zero"));
        }
        if options.pool_size == 0 {
            return Err(Error::config("pool_size", "must be at least 1"));
        }
        Ok(RedisStore {
            pool: Pool::new(
                client,
                options.pool_size,
                options.connect_timeout,
                options.command_timeout,
            ),
            options,
            commit_script: Script::new(COMMIT_LUA),
            clean_script: Script::new(CLEAN_LUA),
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

    /// The Redis key of a session: the prefix followed by its store key in hex.
    pub fn key(&self, key: &StoreKey) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.options.prefix.len() + STORE_KEY_LEN);
        out.extend_from_slice(self.options.prefix.as_bytes());
        out.extend_from_slice(&key.to_hex());
        out
    }

    /// The record of `id` whatever its expiry (for operators' tools, which
    /// show expired records too, as [`crate::DbmStore::load_any`]); `None`
    /// when there is none.
    pub fn load_any(&self, key: &StoreKey) -> Result<Option<Record>> {
        let key = self.key(key);
        let fields: BTreeMap<Vec<u8>, Vec<u8>> =
            self.with_connection(|con| redis::cmd("HGETALL").arg(&key).query(con))?;
        if fields.is_empty() {
            return Ok(None);
        }
        check_version(fields.get(b"m:v".as_slice()).map(Vec::as_slice))?;
        decode_hash(fields)
            .map(Some)
            .map_err(|why| self.corrupt(why))
    }

    /// Every session under the prefix with its expiry (`m:expires`), in id
    /// order, expired ones included: what [`crate::DbmStore::list`] gives,
    /// for operators' tools. Walks the prefix with `SCAN`, O(records). A session deleted while the
    /// walk runs may or may not be listed; one whose `m:expires` is missing
    /// or not a number, or a key under the prefix that is not a hash, is a
    /// damaged record ([`Error::Corrupt`], naming the first such id for a
    /// hash). Each step is one short Lua call, as in [`Store::clean`].
    pub fn list(&self) -> Result<Vec<(StoreKey, f64)>> {
        let mut found = BTreeMap::new();
        let mut damaged: Option<StoreKey> = None;
        let script = Script::new(LIST_LUA);
        self.scan(|con, keys| {
            let mut call = script.prepare_invoke();
            for key in &keys {
                call.key(key);
            }
            let expiries: Vec<Option<String>> = call.invoke(con)?;
            for (key, expires) in keys.iter().zip(expiries) {
                let Some(store_key) = self.key_of(key) else {
                    continue;
                };
                match expires.map(|t| t.parse::<f64>()) {
                    Some(Ok(t)) if !t.is_nan() => {
                        found.insert(store_key, t);
                    }
                    None => {} // deleted since the SCAN
                    Some(_) => {
                        damaged.get_or_insert(store_key);
                    }
                }
            }
            Ok(())
        })?;
        if let Some(key) = damaged {
            return Err(self.corrupt(format!(
                "session {key}: m:expires is missing or not a number"
            )));
        }
        Ok(found.into_iter().collect())
    }

    /// Runs `op` on a pooled connection (see [`Pool::run`]), counting a key
    /// of the wrong Redis type as a damaged record.
    fn with_connection<T>(
        &self,
        op: impl FnMut(&mut Connection) -> redis::RedisResult<T>,
    ) -> Result<T> {
        self.pool.run(op).inspect_err(|e| {
            if matches!(e, Error::Corrupt(_)) {
                self.counters.count_corrupt();
            }
        })
    }

    /// Every session id under the prefix, found with `SCAN` (O(records));
    /// `batch` is called with each step's keys.
    fn scan(
        &self,
        mut batch: impl FnMut(&mut Connection, Vec<Vec<u8>>) -> redis::RedisResult<()>,
    ) -> Result<()> {
        let pattern = glob_escape(&self.options.prefix) + "*";
        let mut cursor: u64 = 0;
        loop {
            let (next, keys): (u64, Vec<Vec<u8>>) = self.with_connection(|con| {
                redis::cmd("SCAN")
                    .arg(cursor)
                    .arg("MATCH")
                    .arg(&pattern)
                    .arg("COUNT")
                    .arg(SCAN_BATCH)
                    .query(con)
            })?;
            let ours: Vec<Vec<u8>> = keys
                .into_iter()
                .filter(|k| self.key_of(k).is_some())
                .collect();
            if !ours.is_empty() {
                self.with_connection(|con| batch(con, ours.clone()))?;
            }
            if next == 0 {
                return Ok(());
            }
            cursor = next;
        }
    }

    /// The store key named by a Redis key under our prefix, if it is one.
    fn key_of(&self, key: &[u8]) -> Option<StoreKey> {
        let rest = key.strip_prefix(self.options.prefix.as_bytes())?;
        StoreKey::parse(rest).ok()
    }

    fn corrupt(&self, why: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Error {
        self.counters.count_corrupt();
        Error::Corrupt(why.into())
    }
}

/// A hash whose `m:v` is a format version other than this build's was
/// written by another version (1: spysession 0.1, which keyed hashes by raw
/// id): [`Error::StoreVersion`], never read as if it were ours. A missing
/// or non-numeric `m:v` is left to the decoder (a damaged record).
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

impl Inspect for RedisStore {
    fn len(&self) -> Result<u64> {
        // SCAN may return a key twice (while Redis rehashes): count keys once.
        let mut seen = HashSet::new();
        self.scan(|_, keys| {
            seen.extend(keys.iter().filter_map(|k| self.key_of(k)));
            Ok(())
        })?;
        Ok(seen.len() as u64)
    }
}

impl Store for RedisStore {
    fn load(&self, key: &StoreKey, now: f64) -> Result<Option<Arc<Record>>> {
        self.counters.count_load();
        let record = self.load_any(key)?;
        Ok(record.filter(|r| !r.is_expired(now)).map(Arc::new))
    }

    fn save(&self, key: &StoreKey, record: &Record) -> Result<()> {
        let key = self.key(key);
        let mut fields: Vec<(Vec<u8>, Vec<u8>)> = vec![
            (b"m:v".to_vec(), record.version.to_string().into_bytes()),
            (
                b"m:created".to_vec(),
                time_text(record.created).into_bytes(),
            ),
            (
                b"m:accessed".to_vec(),
                time_text(record.accessed).into_bytes(),
            ),
            (
                b"m:expires".to_vec(),
                time_text(record.expires_at).into_bytes(),
            ),
        ];
        fields.extend(
            record
                .data
                .iter()
                .map(|(k, v)| (data_field(k), v.to_msgpack())),
        );
        let ttl = ttl_ms(record.expires_at, record.accessed);
        self.with_connection(|con| {
            let mut pipe = redis::pipe();
            pipe.atomic().cmd("DEL").arg(&key).ignore();
            let hset = pipe.cmd("HSET").arg(&key);
            for (field, value) in &fields {
                hset.arg(field).arg(value);
            }
            hset.ignore().cmd("PEXPIRE").arg(&key).arg(ttl).ignore();
            pipe.query::<()>(con)
        })
    }

    fn delete(&self, key: &StoreKey) -> Result<bool> {
        let key = self.key(key);
        let n: i64 = self.with_connection(|con| redis::cmd("DEL").arg(&key).query(con))?;
        Ok(n > 0)
    }

    fn clean(&self, now: f64) -> Result<u64> {
        let mut removed = 0u64;
        let now_text = time_text(now);
        self.scan(|con, keys| {
            let mut call = self.clean_script.prepare_invoke();
            for key in &keys {
                call.key(key);
            }
            let n: u64 = call.arg(&now_text).invoke(con)?;
            removed += n;
            Ok(())
        })?;
        self.counters.count_cleaned(removed);
        Ok(removed)
    }

    fn inspect(&self) -> Option<&dyn Inspect> {
        Some(self)
    }

    fn counters(&self) -> &Counters {
        &self.counters
    }

    fn commit(
        &self,
        store_key: &StoreKey,
        update: &Update<'_>,
        loaded: &mut Option<Arc<Record>>,
    ) -> Result<Committed> {
        let key = self.key(store_key);
        let changes = update.changes;
        let removed: Vec<Vec<u8>> = changes
            .iter()
            .filter(|(_, v)| v.is_none())
            .map(|(k, _)| data_field(k))
            .collect();
        let set: Vec<(Vec<u8>, Vec<u8>)> = changes
            .iter()
            .filter_map(|(k, v)| Some((data_field(k), v?.to_msgpack())))
            .collect();
        let mut call = self.commit_script.prepare_invoke();
        call.key(&key)
            .arg(time_text(update.now))
            .arg(time_text(update.expires_at))
            .arg(time_text(update.created))
            .arg(if update.create { "1" } else { "0" })
            .arg(if changes.clear { "1" } else { "0" })
            .arg(ttl_ms(update.expires_at, update.now))
            .arg(FORMAT_VERSION)
            .arg(removed.len());
        for field in &removed {
            call.arg(field);
        }
        for (field, value) in &set {
            call.arg(field).arg(value);
        }
        let reply: Vec<String> = self.with_connection(|con| call.invoke(con))?;
        // Whether the script wrote into exactly the record this session
        // holds (or, for a new one, into nothing).
        let mut onto_loaded = false;
        let outcome = match reply.first().map(String::as_str) {
            Some("stored") => {
                let before = reply.get(1).and_then(|t| t.parse::<f64>().ok());
                let Some(before) = before else {
                    return Err(self.corrupt("m:accessed is not a number"));
                };
                let merged = update.base_accessed.is_some_and(|base| base != before);
                onto_loaded = match loaded {
                    Some(record) => record.accessed == before,
                    None => update.create && before == update.created,
                };
                CommitOutcome::Stored { merged }
            }
            Some("notfound") => CommitOutcome::NotFound,
            Some("version") => {
                check_version(reply.get(1).map(String::as_bytes))?;
                return Err(self.corrupt("m:v is not a format version"));
            }
            _ => return Err(self.corrupt("metadata fields missing or malformed")),
        };
        self.counters.count_commit(outcome);
        let record = match outcome {
            CommitOutcome::NotFound => None,
            // Nobody wrote since this session loaded (or made) the record:
            // what is stored is that record with this update applied.
            CommitOutcome::Stored { .. } if onto_loaded => {
                let mut record = match loaded.take() {
                    Some(record) => Arc::unwrap_or_clone(record),
                    None => Record::new(update.created, update.expires_at, Default::default()),
                };
                merge_into(&mut record, update);
                Some(Arc::new(record))
            }
            // Merged into another writer's: read back what the script made.
            CommitOutcome::Stored { .. } => self.load_any(store_key)?.map(Arc::new),
        };
        Ok(Committed { outcome, record })
    }
}
