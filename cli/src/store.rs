//! Which store a command works on, and opening it without ever creating one:
//! `--store URL`, any store URL (SPEC §2: a bare directory or `dbm:///path`
//! is a [`DbmStore`], `redis://...` a [`RedisStore`]), or the older
//! `--redis URL [--prefix PREFIX]`; exactly one of the two.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use clap::{ArgGroup, Args};
use spysession_core::{
    redact_url, system_now, DbmOptions, DbmStore, Error, Inspect, RedisOptions, RedisStore, Store,
    StoreUrl,
};

use crate::failure::Failure;

/// The LMDB data file every DbmStore directory holds.
const DATA_FILE: &str = "data.mdb";

/// The key prefix of `--redis` when `--prefix` is not given (RedisStore's own default).
pub const DEFAULT_PREFIX: &str = "spysession:";

/// Where the sessions are.
#[derive(Args, Debug)]
#[command(group(ArgGroup::new("backend").args(["store", "redis"]).required(true)))]
pub struct StoreArgs {
    /// The store URL: a DbmStore directory (the path given to `DbmStore(...)`
    /// or `sps_store_open_dbm`) or `dbm:///path`, which must already hold a
    /// store (this command never creates one), or a Redis URL
    /// (`redis://[user:password@]host[:port][/db]?prefix=site:`, `rediss://`,
    /// `unix:///path/redis.sock`).
    #[arg(long, value_name = "URL")]
    pub store: Option<String>,
    /// The Redis of a RedisStore, instead of --store: `redis://[user:password@]host[:port][/db]`,
    /// `rediss://...` (TLS), `redis+unix:///path/to/socket`,
    /// `redis+sentinel://host:port[,...]/primary-name[/db]` or `redis+cluster://host:port[,...]`
    /// (with --prefix; `--store URL?prefix=...` says the same).
    #[arg(long, value_name = "URL")]
    pub redis: Option<String>,
    /// With --redis: the key prefix the web processes give RedisStore.
    #[arg(long, value_name = "PREFIX", default_value = DEFAULT_PREFIX, requires = "redis", conflicts_with = "store")]
    pub prefix: String,
}

/// The time by which expiry is judged.
#[derive(Args, Debug)]
pub struct TimeArgs {
    /// Judge expiry at this time (Unix seconds) instead of the system clock.
    #[arg(long, value_name = "SECONDS", value_parser = parse_now)]
    pub now: Option<f64>,
}

impl TimeArgs {
    /// `--now`, or the system clock.
    pub fn now(&self) -> f64 {
        self.now.unwrap_or_else(system_now)
    }
}

fn parse_now(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(t) if t.is_finite() && t >= 0.0 => Ok(t),
        _ => Err("expected Unix seconds, a non-negative number".into()),
    }
}

/// An opened store of either kind.
pub enum Opened {
    /// `--store DIR`
    Dbm(DbmStore, PathBuf),
    /// `--redis URL`: the store, and its URL with any password hidden.
    Redis(Box<RedisStore>, String),
}

impl Opened {
    /// The store as a request sees it (`delete`).
    pub fn store(&self) -> &dyn Store {
        match self {
            Opened::Dbm(store, _) => store,
            Opened::Redis(store, _) => &**store,
        }
    }

    /// The store's operators' side: `list` (every store key with its
    /// expiry, in key order, expired ones included) and `get` (a record
    /// whatever its expiry).
    pub fn inspect(&self) -> &dyn Inspect {
        match self {
            Opened::Dbm(store, _) => store,
            Opened::Redis(store, _) => &**store,
        }
    }

    /// The store as the operator named it: the directory, or the Redis URL
    /// without its password.
    pub fn name(&self) -> String {
        match self {
            Opened::Dbm(_, dir) => dir.display().to_string(),
            Opened::Redis(_, url) => url.clone(),
        }
    }
}

/// Opens the existing store named by `args`.
///
/// A DbmStore path that is missing, is not a directory, or holds no
/// `data.mdb` is refused: opening a DbmStore creates one, and a typo in a
/// cron line must fail loudly instead of cleaning an empty new store
/// forever. A Redis is asked for `PING` first, so a Redis that is down or
/// hung is one clear error within the connect and command timeouts (2 s
/// each), never a hang.
pub fn open(args: &StoreArgs) -> Result<Opened, Failure> {
    match (&args.store, &args.redis) {
        (Some(url), _) => open_url(url),
        (None, Some(url)) => {
            let parsed = StoreUrl::parse_with(url, &[("prefix", &args.prefix)]).map_err(|e| {
                Failure::caused(
                    format!("cannot use the Redis URL {}", hide_password(url)),
                    e,
                )
            })?;
            match parsed {
                StoreUrl::Redis { .. }
                | StoreUrl::RedisSentinel { .. }
                | StoreUrl::RedisCluster { .. } => open_redis(parsed, hide_password(url)),
                _ => Err(Failure::new(format!(
                    "--redis takes a Redis URL, not {}",
                    hide_password(url)
                ))),
            }
        }
        // clap's group requires one of the two.
        (None, None) => Err(Failure::new("give --store DIR or --redis URL")),
    }
}

/// `--store URL`: the store the URL names, when this command can reach it.
fn open_url(url: &str) -> Result<Opened, Failure> {
    let parsed = StoreUrl::parse(url)
        .map_err(|e| Failure::caused(format!("bad store URL {}", hide_password(url)), e))?;
    match parsed {
        StoreUrl::Dbm { path, options } => {
            open_dbm(&path, options.durable).map(|store| Opened::Dbm(store, path))
        }
        StoreUrl::Redis { .. } | StoreUrl::RedisSentinel { .. } | StoreUrl::RedisCluster { .. } => {
            open_redis(parsed, hide_password(url))
        }
        StoreUrl::Memory { .. } => Err(Failure::new(
            "a memory: store lives inside one web process; the command line cannot reach it",
        )),
        other => Err(Failure::caused(
            format!("cannot open {other}"),
            other
                .open()
                .err()
                .unwrap_or(Error::Unsupported("this store URL")),
        )),
    }
}

fn open_dbm(dir: &Path, durable: bool) -> Result<DbmStore, Failure> {
    check_exists(dir)?;
    // map_size 0: LMDB keeps the map size recorded in the store, so this
    // tool never changes the size the web processes chose.
    let options = DbmOptions {
        map_size: 0,
        durable,
    };
    DbmStore::open_with(dir, options)
        .map_err(|e| Failure::caused(format!("cannot open the store {}", dir.display()), e))
}

/// A Redis store URL (one server, Sentinel or Cluster), with one
/// connection, checked by `PING`; `shown` is the URL as the operator gave
/// it, password hidden.
fn open_redis(mut parsed: StoreUrl, shown: String) -> Result<Opened, Failure> {
    match &mut parsed {
        StoreUrl::Redis { options, .. }
        | StoreUrl::RedisSentinel { options, .. }
        | StoreUrl::RedisCluster { options, .. } => {
            // One command at a time: one connection is all it needs.
            options.pool_size = 1;
        }
        _ => return Err(Failure::new(format!("{shown} is not a Redis URL"))),
    }
    let store = parsed
        .open_redis()
        .map_err(|e| Failure::caused(format!("cannot use the Redis URL {shown}"), e))?;
    store.ping().map_err(|e| {
        let timed_out = matches!(&e, Error::Io(io) if io.kind() == ErrorKind::TimedOut);
        let why = if timed_out {
            // The OS says "resource temporarily unavailable": say what it means.
            format!(
                "cannot reach Redis at {shown}: no answer within {} s",
                RedisOptions::default().command_timeout.as_secs()
            )
        } else {
            format!("cannot reach Redis at {shown}")
        };
        Failure::caused(why, e)
    })?;
    Ok(Opened::Redis(Box::new(store), shown))
}

/// `url` with any password replaced by `***` (error messages and `stats`
/// end up in cron mail and logs): the core's [`redact_url`].
pub fn hide_password(url: &str) -> String {
    redact_url(url)
}

fn check_exists(dir: &Path) -> Result<(), Failure> {
    let shown = dir.display();
    match std::fs::metadata(dir) {
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return Err(Failure::new(format!(
                "no session store at {shown}: the directory does not exist"
            )))
        }
        Err(e) => return Err(Failure::caused(format!("cannot read {shown}"), e)),
        Ok(meta) if !meta.is_dir() => {
            return Err(Failure::new(format!(
                "no session store at {shown}: not a directory"
            )))
        }
        Ok(_) => {}
    }
    match std::fs::metadata(dir.join(DATA_FILE)) {
        Ok(meta) if meta.is_file() => Ok(()),
        Ok(_) | Err(_) => Err(Failure::new(format!(
            "no session store at {shown}: the directory holds no {DATA_FILE}"
        ))),
    }
}

/// The store's data file: its length, and the bytes the file system has
/// allocated to it (LMDB's file may be sparse, as long as the map).
pub fn data_file_sizes(dir: &Path) -> Result<(u64, u64), Failure> {
    let path = dir.join(DATA_FILE);
    std::fs::metadata(&path)
        .map(|m| (m.len(), allocated(&m)))
        .map_err(|e| Failure::caused(format!("cannot read {}", path.display()), e))
}

#[cfg(unix)]
fn allocated(meta: &std::fs::Metadata) -> u64 {
    use std::os::unix::fs::MetadataExt;
    meta.blocks() * 512
}

#[cfg(not(unix))]
fn allocated(meta: &std::fs::Metadata) -> u64 {
    meta.len()
}

#[cfg(test)]
mod tests {
    use super::hide_password;

    #[test]
    fn passwords_are_hidden_and_the_rest_kept() {
        for (url, shown) in [
            ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
            (
                "redis://app:s3cr@t@db.example:6379/2",
                "redis://app:***@db.example:6379/2",
            ),
            ("redis://:hunter2@host", "redis://:***@host"),
            ("redis://user@host/1", "redis://user@host/1"),
            (
                "redis+unix:///run/redis.sock?db=1&pass=x",
                "redis+unix:///run/redis.sock?db=1&pass=***",
            ),
        ] {
            assert_eq!(hide_password(url), shown, "{url}");
        }
    }
}
