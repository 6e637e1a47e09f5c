//! [`RedisStore`]: sessions in Redis (or Valkey), shared by every web
//! machine behind a load balancer. Built only with the cargo feature `redis`.
//!
//! # Layout
//!
//! One Redis hash per session, at key `<prefix><id>` (default prefix
//! `spysession:`, id in its 32-character hex form). Its fields:
//!
//! | field | value |
//! |---|---|
//! | `m:v` | record format version, `1` (decimal text) |
//! | `m:created` | created at, Unix seconds (decimal text, Rust's shortest round-trip form) |
//! | `m:accessed` | last written (commit or touch), Unix seconds |
//! | `m:expires` | expires at, Unix seconds; expired when `now >= expires` |
//! | `d:<key>` | one per session key: the MessagePack of its [`crate::Value`] |
//!
//! Metadata lives under `m:` and user keys under `d:`, so no user key can
//! collide with metadata whatever bytes it holds. Any other field, a missing
//! metadata field or a key of another Redis type is a damaged record
//! ([`Error::Corrupt`]).
//!
//! # Expiry
//!
//! The expiry in `m:expires` is authoritative and compared with the `now`
//! the caller passes, as in every store, so an injected clock works. The
//! Redis TTL is a safety net set to the same moment, as a *relative* time:
//! `expires_at - now` (for `save`, `expires_at - accessed`), so clock skew
//! between web machines and the Redis host does not shorten sessions. With a
//! wall clock, Redis deletes expired sessions by itself and
//! [`Store::clean`] finds little; clean still removes every record whose
//! `m:expires` has passed at the given `now` (what the TTL cannot know when
//! the caller's clock is not Redis's), by walking the prefix with `SCAN`:
//! its cost is O(records under the prefix), in batches of one short Lua call
//! each, never blocking Redis for long. [`Store::len`] also walks with
//! `SCAN`, O(records).
//!
//! # Atomicity
//!
//! A commit is one Lua script (`EVALSHA`, loaded again on `NOSCRIPT` after
//! a Redis restart): check existence and expiry (no resurrection unless the
//! session is new), delete the removed keys (all of them on clear), set the
//! set keys, write the metadata and refresh the TTL. Requests on different
//! machines that change different keys of one session therefore both keep
//! their change. `save` replaces the whole hash in one `MULTI`/`EXEC`.
//! Redis Cluster is not supported (clean's script names several keys).
//!
//! # Connections and failures
//!
//! A small pool of synchronous connections, each behind a `parking_lot`
//! mutex, made lazily. Connecting is bounded by `connect_timeout`, each
//! command by `command_timeout`: a Redis that is down or hung gives
//! [`Error::Io`] (the `redis` crate's error kept inside) within about those
//! bounds, never a hang. A connection that failed is dropped and the next
//! request connects again; a pooled connection found closed (Redis
//! restarted) is replaced and the request retried once on the new one.
//!
//! URLs: `redis://[user:password@]host[:port][/db]`, `redis+unix:///path`
//! or `unix:///path` for a unix socket. `rediss://` (TLS) is not enabled in
//! this build: the `redis` crate's TLS features pull in a TLS stack and a
//! crypto provider we do not ship; such a URL is refused as a config error.
//! The `redis` feature needs Rust 1.88 (the `redis` crate's minimum).

use std::collections::{BTreeMap, HashSet};
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use parking_lot::{Mutex, MutexGuard};
use redis::{Client, Connection, ErrorKind, RedisError, Script};

use super::{CommitOutcome, Counters, Store, Update};
use crate::error::{Error, Result};
use crate::id::{SessionId, ID_LEN};
use crate::record::{Data, Record, FORMAT_VERSION};
use crate::value::Value;

/// Keys asked of Redis per `SCAN` step (and removed per clean script call).
const SCAN_BATCH: usize = 500;
/// The longest TTL set (about 317 years): past it Redis would refuse the
/// expiry time, and the record's own `m:expires` still governs.
const MAX_TTL_MS: f64 = 1e13;

/// The commit as one atomic step. KEYS[1] = the hash. ARGV: 1 now,
/// 2 expires_at, 3 created (for a new record), 4 create ("1"/"0"), 5 clear
/// ("1"/"0"), 6 TTL in ms, 7 format version, 8 number of removed fields,
/// then the removed fields, then (field, value) pairs to set.
/// Returns {"stored", accessed before this commit}, {"notfound"} or {"corrupt"}.
const COMMIT_LUA: &str = r"
local key = KEYS[1]
local now = tonumber(ARGV[1])
local accessed = nil
local created = ARGV[3]
if redis.call('EXISTS', key) == 1 then
  local meta = redis.call('HMGET', key, 'm:v', 'm:expires', 'm:accessed', 'm:created')
  local expires = tonumber(meta[2])
  if meta[1] ~= ARGV[7] or expires == nil or not meta[3] or not meta[4] then
    return {'corrupt'}
  end
  if now >= expires then
    redis.call('DEL', key)
  else
    accessed = meta[3]
    created = meta[4]
  end
end
if accessed == nil then
  if ARGV[4] ~= '1' then return {'notfound'} end
  accessed = ARGV[3]
end
if ARGV[5] == '1' then redis.call('DEL', key) end
local i = 9
for _ = 1, tonumber(ARGV[8]) do
  redis.call('HDEL', key, ARGV[i])
  i = i + 1
end
while i < #ARGV do
  redis.call('HSET', key, ARGV[i], ARGV[i + 1])
  i = i + 2
end
redis.call('HSET', key, 'm:v', ARGV[7], 'm:created', created,
           'm:accessed', ARGV[1], 'm:expires', ARGV[2])
redis.call('PEXPIRE', key, ARGV[6])
return {'stored', accessed}
";

/// Removes the hashes among KEYS whose `m:expires` has passed at ARGV[1];
/// returns how many it removed.
const CLEAN_LUA: &str = r"
local now = tonumber(ARGV[1])
local n = 0
for _, key in ipairs(KEYS) do
  if redis.call('TYPE', key).ok == 'hash' then
    local expires = tonumber(redis.call('HGET', key, 'm:expires'))
    if expires ~= nil and now >= expires then
      n = n + redis.call('DEL', key)
    end
  end
end
return n
";

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
}

impl Default for RedisOptions {
    fn default() -> Self {
        RedisOptions {
            prefix: "spysession:".into(),
            connect_timeout: Duration::from_secs(2),
            command_timeout: Duration::from_secs(2),
            pool_size: 8,
        }
    }
}

/// Sessions in Redis: one hash per session, changes merged by a Lua script.
/// See the [module documentation](self) for the layout, expiry and failures.
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
    client: Client,
    options: RedisOptions,
    slots: Vec<Mutex<Option<Connection>>>,
    next_slot: AtomicUsize,
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
        if url.starts_with("rediss://") || url.starts_with("valkeys://") {
            return Err(Error::config(
                "url",
                "TLS (rediss://) is not enabled in this build",
            ));
        }
        let client = Client::open(url).map_err(|e| Error::config("url", e.to_string()))?;
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
            client,
            slots: (0..options.pool_size).map(|_| Mutex::new(None)).collect(),
            options,
            next_slot: AtomicUsize::new(0),
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

    /// The Redis key of `id`: the prefix followed by the hex id.
    pub fn key(&self, id: &SessionId) -> Vec<u8> {
        let mut key = Vec::with_capacity(self.options.prefix.len() + ID_LEN);
        key.extend_from_slice(self.options.prefix.as_bytes());
        key.extend_from_slice(&id.to_hex());
        key
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
            .get_connection_with_timeout(self.options.connect_timeout)
            .map_err(to_error)?;
        let timeout = Some(self.options.command_timeout);
        con.set_read_timeout(timeout).map_err(to_error)?;
        con.set_write_timeout(timeout).map_err(to_error)?;
        Ok(con)
    }

    /// Runs `op` on a pooled connection (see [`Self::try_connection`]),
    /// counting a key of the wrong Redis type as a damaged record.
    fn with_connection<T>(
        &self,
        op: impl FnMut(&mut Connection) -> redis::RedisResult<T>,
    ) -> Result<T> {
        self.try_connection(op).inspect_err(|e| {
            if matches!(e, Error::Corrupt(_)) {
                self.counters.count_corrupt();
            }
        })
    }

    /// Runs `op` on a pooled connection. A connection that fails with
    /// anything but a server error reply is dropped; when a reused one turns
    /// out closed (not timed out), `op` runs once more on a new connection.
    fn try_connection<T>(
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
                .filter(|k| self.id_of(k).is_some())
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

    /// The id named by a Redis key under our prefix, if it is one.
    fn id_of(&self, key: &[u8]) -> Option<SessionId> {
        let rest = key.strip_prefix(self.options.prefix.as_bytes())?;
        SessionId::parse(rest).ok()
    }

    fn corrupt(&self, why: String) -> Error {
        self.counters.count_corrupt();
        Error::Corrupt(why)
    }
}

impl Store for RedisStore {
    fn load(&self, id: &SessionId, now: f64) -> Result<Option<Record>> {
        self.counters.count_load();
        let key = self.key(id);
        let fields: BTreeMap<Vec<u8>, Vec<u8>> =
            self.with_connection(|con| redis::cmd("HGETALL").arg(&key).query(con))?;
        if fields.is_empty() {
            return Ok(None);
        }
        let record = decode_hash(fields).map_err(|why| self.corrupt(why))?;
        Ok((!record.is_expired(now)).then_some(record))
    }

    fn save(&self, id: &SessionId, record: &Record) -> Result<()> {
        let key = self.key(id);
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

    fn delete(&self, id: &SessionId) -> Result<bool> {
        let key = self.key(id);
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

    fn len(&self) -> Result<u64> {
        // SCAN may return a key twice (while Redis rehashes): count ids once.
        let mut ids = HashSet::new();
        self.scan(|_, keys| {
            ids.extend(keys.iter().filter_map(|k| self.id_of(k)));
            Ok(())
        })?;
        Ok(ids.len() as u64)
    }

    fn counters(&self) -> &Counters {
        &self.counters
    }

    fn commit(&self, id: &SessionId, update: &Update<'_>) -> Result<CommitOutcome> {
        let key = self.key(id);
        let changes = update.changes;
        let removed: Vec<Vec<u8>> = changes
            .keys
            .iter()
            .filter(|(_, v)| v.is_none())
            .map(|(k, _)| data_field(k))
            .collect();
        let set: Vec<(Vec<u8>, Vec<u8>)> = changes
            .keys
            .iter()
            .filter_map(|(k, v)| Some((data_field(k), v.as_ref()?.to_msgpack())))
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
        let outcome = match reply.first().map(String::as_str) {
            Some("stored") => {
                let before = reply.get(1).and_then(|t| t.parse::<f64>().ok());
                let Some(before) = before else {
                    return Err(self.corrupt("m:accessed is not a number".into()));
                };
                let merged = update.base_accessed.is_some_and(|base| base != before);
                CommitOutcome::Stored { merged }
            }
            Some("notfound") => CommitOutcome::NotFound,
            _ => return Err(self.corrupt("metadata fields missing or malformed".into())),
        };
        self.counters.count_commit(outcome);
        Ok(outcome)
    }
}

/// The hash field of session key `key`.
fn data_field(key: &str) -> Vec<u8> {
    let mut field = Vec::with_capacity(key.len() + 2);
    field.extend_from_slice(b"d:");
    field.extend_from_slice(key.as_bytes());
    field
}

/// A time as Redis keeps it: Rust's shortest text that reads back exactly
/// (and that Lua's `tonumber` reads as the same double).
fn time_text(t: f64) -> String {
    format!("{t}")
}

/// The TTL in milliseconds for a record expiring at `expires_at` seen from
/// `now`: at least 1 (an expired record goes at once), at most `MAX_TTL_MS`.
fn ttl_ms(expires_at: f64, now: f64) -> i64 {
    let ms = ((expires_at - now) * 1000.0).ceil();
    if ms.is_nan() {
        1
    } else {
        ms.clamp(1.0, MAX_TTL_MS) as i64
    }
}

/// Rebuilds a record from its hash fields (see the module docs).
fn decode_hash(fields: BTreeMap<Vec<u8>, Vec<u8>>) -> std::result::Result<Record, String> {
    let (mut version, mut created, mut accessed, mut expires) = (None, None, None, None);
    let mut data = Data::new();
    for (field, value) in fields {
        let time = || -> std::result::Result<f64, String> {
            std::str::from_utf8(&value)
                .ok()
                .and_then(|t| t.parse().ok())
                .ok_or_else(|| format!("{} is not a number", String::from_utf8_lossy(&field)))
        };
        match field.as_slice() {
            b"m:v" => version = Some(value.clone()),
            b"m:created" => created = Some(time()?),
            b"m:accessed" => accessed = Some(time()?),
            b"m:expires" => expires = Some(time()?),
            _ => {
                let Some(key) = field.strip_prefix(b"d:") else {
                    return Err(format!("unknown field {}", String::from_utf8_lossy(&field)));
                };
                let key = String::from_utf8(key.to_vec())
                    .map_err(|_| "a session key is not UTF-8".to_string())?;
                let value = Value::from_msgpack(&value).map_err(|e| format!("key {key:?}: {e}"))?;
                data.insert(key, value);
            }
        }
    }
    if version.as_deref() != Some(FORMAT_VERSION.to_string().as_bytes()) {
        return Err(format!(
            "record format version {:?} (this build reads {FORMAT_VERSION})",
            version.map(|v| String::from_utf8_lossy(&v).into_owned())
        ));
    }
    let (Some(created), Some(accessed), Some(expires_at)) = (created, accessed, expires) else {
        return Err("a metadata field is missing".into());
    };
    if !(created.is_finite() && accessed.is_finite() && !expires_at.is_nan()) {
        return Err("record times are not numbers".into());
    }
    Ok(Record {
        version: FORMAT_VERSION,
        created,
        accessed,
        expires_at,
        data,
    })
}

/// `text` with Redis glob characters escaped, for `SCAN MATCH`.
fn glob_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A `redis` crate error as the engine's: a key of another Redis type under
/// our prefix is a damaged record; everything else is I/O, the cause kept.
fn to_error(e: RedisError) -> Error {
    if e.code() == Some("WRONGTYPE") {
        return Error::Corrupt(format!("the session's Redis key is not a hash: {e}"));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_back_exactly() {
        for t in [0.0, 100.5, 1_700_000_000.123_456_7, 1e12, 0.1 + 0.2] {
            assert_eq!(time_text(t).parse::<f64>().unwrap(), t);
        }
    }

    #[test]
    fn ttl_is_clamped() {
        assert_eq!(ttl_ms(200.0, 100.0), 100_000);
        assert_eq!(ttl_ms(100.0, 200.0), 1);
        assert_eq!(ttl_ms(f64::INFINITY, 0.0), MAX_TTL_MS as i64);
        assert_eq!(ttl_ms(100.0005, 100.0), 1);
    }

    #[test]
    fn glob_characters_are_escaped() {
        assert_eq!(glob_escape("a*b?[c]\\:"), "a\\*b\\?\\[c\\]\\\\:");
    }

    #[test]
    fn decode_refuses_foreign_fields_and_bad_versions() {
        let mut fields = BTreeMap::new();
        fields.insert(b"m:v".to_vec(), b"1".to_vec());
        fields.insert(b"m:created".to_vec(), b"1".to_vec());
        fields.insert(b"m:accessed".to_vec(), b"2".to_vec());
        fields.insert(b"m:expires".to_vec(), b"3".to_vec());
        fields.insert(b"d:k".to_vec(), Value::Int(7).to_msgpack());
        let r = decode_hash(fields.clone()).unwrap();
        assert_eq!((r.created, r.accessed, r.expires_at), (1.0, 2.0, 3.0));
        assert_eq!(r.data.get("k"), Some(&Value::Int(7)));
        let mut other = fields.clone();
        other.insert(b"x".to_vec(), b"1".to_vec());
        assert!(decode_hash(other).is_err());
        let mut v2 = fields.clone();
        v2.insert(b"m:v".to_vec(), b"2".to_vec());
        assert!(decode_hash(v2).is_err());
        let mut missing = fields;
        missing.remove(b"m:expires".as_slice());
        assert!(decode_hash(missing).is_err());
    }
}
