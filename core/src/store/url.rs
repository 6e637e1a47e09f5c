//! Store URLs (SPEC §2): one string names a store everywhere, in Python
//! (`spysession.open_store`), C (`sps_store_open_url`), the command line
//! (`--store`) and the framework settings.
//!
//! | form | store |
//! |---|---|
//! | `memory:` (or `memory://`) | [`MemoryStore`]; option `max_sessions` |
//! | `/a/directory`, `./relative`, any string without a known scheme | [`DbmStore`], the string taken verbatim (no query, no decoding) |
//! | `dbm:///abs/path`, `dbm://localhost/abs/path`, `dbm:relative/path` | [`DbmStore`]; the path percent-decoded; options `durable`, `map_size` |
//! | `redis://[user:pass@]host[:port][/db]`, `rediss://...` (TLS) | `RedisStore` |
//! | `unix:///path/redis.sock`, `redis+unix:///path` | `RedisStore` on a unix socket; `db`, `user`, `pass` in the query as the `redis` crate reads them |
//! | `redis+sentinel://[user:pass@]host[:port][,host[:port]...]/primary[/db]` | a Sentinel-managed primary (port default 26379; `rediss+sentinel://` for TLS) |
//! | `redis+cluster://[user:pass@]host[:port][,host[:port]...]` | a Redis Cluster, from its seed nodes (port default 6379; `rediss+cluster://` for TLS) |
//!
//! Redis URLs take the options `prefix`, `connect_timeout`, `command_timeout`
//! (seconds, fractions allowed), `pool_size` and `tls_root_cert` (the path of
//! a PEM file with the authority that signed the server's certificate; TLS
//! only, read when the store is opened). Options go in the query string
//! (`?durable=false&map_size=1048576`), or beside the URL
//! ([`StoreUrl::parse_with`], Python's keyword arguments), which override the
//! query. Booleans are `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`).
//!
//! Errors are [`Error::Config`]: `option` is the option whose value is bad,
//! or `url` for the URL's shape or an unknown option, and the message names
//! the bad part. No message ever holds the URL's password: URLs are shown
//! through [`redact_url`].
//!
//! Parsing never touches the network or the disk; [`StoreUrl::open`] does.
//!
//! ```
//! use spysession_core::StoreUrl;
//! let url = StoreUrl::parse("memory:?max_sessions=1000")?;
//! assert!(matches!(url, StoreUrl::Memory { max_sessions: Some(1000) }));
//! let err = StoreUrl::parse("dbm:///tmp/x?colour=blue").unwrap_err();
//! assert!(err.to_string().contains("colour"));
//! # Ok::<(), spysession_core::Error>(())
//! ```

use std::borrow::Cow;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
#[cfg(feature = "redis")]
use std::time::Duration;

use super::{DbmOptions, DbmStore, MemoryStore, Store};
#[cfg(feature = "redis")]
use super::{RedisOptions, RedisStore};
use crate::error::{Error, Result};

/// What a store URL names, with its options; [`StoreUrl::open`] opens it.
#[derive(Clone)]
#[non_exhaustive]
pub enum StoreUrl {
    /// `memory:`: a [`MemoryStore`] of this process.
    Memory {
        /// The bound on the sessions kept (`max_sessions`); `None` unbounded.
        max_sessions: Option<usize>,
    },
    /// A directory path or `dbm://`: a [`DbmStore`].
    Dbm {
        /// The LMDB directory (created by `open` when missing).
        path: PathBuf,
        /// `durable`, `map_size`.
        options: DbmOptions,
    },
    /// `redis://`, `rediss://`, `unix://`, `redis+unix://`: a `RedisStore`.
    #[cfg(feature = "redis")]
    Redis {
        /// The connection URL as the `redis` crate reads it, rebuilt from the
        /// parsed parts (our options removed). It holds the password, if any:
        /// show it only through [`redact_url`].
        url: String,
        /// `prefix`, timeouts, `pool_size`.
        options: RedisOptions,
        /// `tls_root_cert`: a PEM file read by `open`.
        tls_root_cert: Option<PathBuf>,
    },
    /// `redis+sentinel://`: the primary that Redis Sentinel names.
    #[cfg(feature = "redis")]
    RedisSentinel {
        /// The sentinels to ask, in order.
        sentinels: Vec<RedisNode>,
        /// The name of the primary the sentinels watch.
        primary: String,
        /// The database number on the primary.
        db: i64,
        /// The user and password of the URL.
        auth: RedisAuth,
        /// `rediss+sentinel://`.
        tls: bool,
        /// `prefix`, timeouts, `pool_size`.
        options: RedisOptions,
        /// `tls_root_cert`.
        tls_root_cert: Option<PathBuf>,
    },
    /// `redis+cluster://`: a Redis Cluster, from its seed nodes.
    #[cfg(feature = "redis")]
    RedisCluster {
        /// The seed nodes.
        nodes: Vec<RedisNode>,
        /// The user and password of the URL.
        auth: RedisAuth,
        /// `rediss+cluster://`.
        tls: bool,
        /// `prefix`, timeouts, `pool_size`.
        options: RedisOptions,
        /// `tls_root_cert`.
        tls_root_cert: Option<PathBuf>,
    },
}

/// One host of a Sentinel or Cluster URL.
#[cfg(feature = "redis")]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedisNode {
    /// Host name or address (an IPv6 address without its brackets).
    pub host: String,
    /// TCP port.
    pub port: u16,
}

/// The user part of a Redis URL, percent-decoded. Its `Debug` hides the password.
#[cfg(feature = "redis")]
#[derive(Clone, Default, PartialEq, Eq)]
pub struct RedisAuth {
    /// The user name (Redis 6 ACL), if given.
    pub username: Option<String>,
    /// The password, if given.
    pub password: Option<String>,
}

#[cfg(feature = "redis")]
impl fmt::Debug for RedisAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisAuth")
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .finish()
    }
}

impl fmt::Debug for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreUrl::Memory { max_sessions } => f
                .debug_struct("Memory")
                .field("max_sessions", max_sessions)
                .finish(),
            StoreUrl::Dbm { path, options } => f
                .debug_struct("Dbm")
                .field("path", path)
                .field("options", options)
                .finish(),
            #[cfg(feature = "redis")]
            StoreUrl::Redis {
                url,
                options,
                tls_root_cert,
            } => f
                .debug_struct("Redis")
                .field("url", &redact_url(url))
                .field("options", options)
                .field("tls_root_cert", tls_root_cert)
                .finish(),
            #[cfg(feature = "redis")]
            StoreUrl::RedisSentinel {
                sentinels,
                primary,
                db,
                auth,
                tls,
                options,
                tls_root_cert,
            } => f
                .debug_struct("RedisSentinel")
                .field("sentinels", sentinels)
                .field("primary", primary)
                .field("db", db)
                .field("auth", auth)
                .field("tls", tls)
                .field("options", options)
                .field("tls_root_cert", tls_root_cert)
                .finish(),
            #[cfg(feature = "redis")]
            StoreUrl::RedisCluster {
                nodes,
                auth,
                tls,
                options,
                tls_root_cert,
            } => f
                .debug_struct("RedisCluster")
                .field("nodes", nodes)
                .field("auth", auth)
                .field("tls", tls)
                .field("options", options)
                .field("tls_root_cert", tls_root_cert)
                .finish(),
        }
    }
}

impl StoreUrl {
    /// Parses every form of a store URL (see the module docs).
    pub fn parse(url: &str) -> Result<StoreUrl> {
        Self::parse_with(url, &[])
    }

    /// [`StoreUrl::parse`] with options given beside the URL (Python's
    /// keyword arguments): they extend the query and override it.
    pub fn parse_with(url: &str, extra: &[(&str, &str)]) -> Result<StoreUrl> {
        if url.trim().is_empty() {
            return Err(Error::config("url", "the store URL is empty"));
        }
        let shown = redact_url(url);
        let Some((scheme, rest)) = split_scheme(url) else {
            // A bare directory path, verbatim: directory names may hold `?`.
            let mut options = Options::new(None, extra, &shown)?;
            return dbm(PathBuf::from(url), &mut options);
        };
        let (body, query) = match rest.split_once('?') {
            Some((body, query)) => (body, Some(query)),
            None => (rest, None),
        };
        if body.contains('#') || query.is_some_and(|q| q.contains('#')) {
            return Err(Error::config(
                "url",
                format!("a store URL has no #fragment: {shown}"),
            ));
        }
        let mut options = Options::new(query, extra, &shown)?;
        match scheme.as_str() {
            "memory" => {
                if !body.is_empty() && body != "//" {
                    return Err(Error::config(
                        "url",
                        format!("memory: takes no path or host (got {body:?})"),
                    ));
                }
                let max_sessions = options.parse("max_sessions", parse_count)?;
                if max_sessions == Some(0) {
                    return Err(Error::config("max_sessions", "must be at least 1"));
                }
                options.finish(&["max_sessions"])?;
                Ok(StoreUrl::Memory { max_sessions })
            }
            "dbm" => dbm(dbm_path(body, &shown)?, &mut options),
            #[cfg(feature = "redis")]
            "redis" | "rediss" | "valkey" | "valkeys" => {
                redis_url::tcp(&scheme, body, &mut options, &shown)
            }
            #[cfg(feature = "redis")]
            "unix" | "redis+unix" | "valkey+unix" => {
                redis_url::unix(&scheme, body, &mut options, &shown)
            }
            #[cfg(feature = "redis")]
            "redis+sentinel" | "rediss+sentinel" => {
                redis_url::sentinel(scheme.starts_with("rediss"), body, &mut options, &shown)
            }
            #[cfg(feature = "redis")]
            "redis+cluster" | "rediss+cluster" => {
                redis_url::cluster(scheme.starts_with("rediss"), body, &mut options, &shown)
            }
            #[cfg(not(feature = "redis"))]
            s if REDIS_SCHEMES.contains(&s) => Err(Error::config(
                "url",
                format!("{s}:// needs spysession-core built with the feature redis"),
            )),
            other => Err(Error::config(
                "url",
                format!(
                    "unknown scheme {other:?} in {shown} (known: memory, dbm, redis, rediss, \
                     unix, redis+unix, redis+sentinel, redis+cluster, or a directory path)"
                ),
            )),
        }
    }

    /// Opens the store: a DbmStore directory is created when missing; a
    /// RedisStore connects at first use. `rediss+sentinel://` and
    /// `rediss+cluster://` (TLS to Sentinel or Cluster) parse but cannot be
    /// opened yet ([`Error::Unsupported`]).
    pub fn open(&self) -> Result<Arc<dyn Store>> {
        match self {
            StoreUrl::Memory { max_sessions } => Ok(Arc::new(MemoryStore::new(*max_sessions))),
            StoreUrl::Dbm { path, options } => Ok(Arc::new(DbmStore::open_with(path, *options)?)),
            #[cfg(feature = "redis")]
            StoreUrl::Redis { .. } => Ok(Arc::new(self.open_redis()?)),
            #[cfg(feature = "redis")]
            StoreUrl::RedisSentinel { .. } | StoreUrl::RedisCluster { .. } => {
                Ok(Arc::new(self.open_redis()?))
            }
        }
    }

    /// For a `Redis` URL, the `RedisStore` it names (its `tls_root_cert`
    /// file read now); any other kind is [`Error::Unsupported`].
    #[cfg(feature = "redis")]
    pub fn open_redis(&self) -> Result<RedisStore> {
        match self {
            StoreUrl::Redis {
                url,
                options,
                tls_root_cert,
            } => {
                let mut options = options.clone();
                if let Some(file) = tls_root_cert {
                    let pem = std::fs::read(file).map_err(|e| {
                        Error::config(
                            "tls_root_cert",
                            format!("cannot read {}: {e}", file.display()),
                        )
                    })?;
                    options.tls_root_cert = Some(pem);
                }
                RedisStore::open_with(url, options).map_err(|e| match e {
                    // The redis crate's words about a URL it refuses, never the URL itself.
                    Error::Config { option, message } => Error::Config {
                        option,
                        message: format!("{message} ({})", redact_url(url)),
                    },
                    other => other,
                })
            }
            StoreUrl::RedisSentinel { tls: true, .. } | StoreUrl::RedisCluster { tls: true, .. } => {
                Err(Error::Unsupported(
                    "TLS to Redis Sentinel or Cluster (rediss+sentinel://, rediss+cluster://) in this version",
                ))
            }
            StoreUrl::RedisSentinel {
                sentinels,
                primary,
                db,
                auth,
                options,
                ..
            } => {
                let url = format!(
                    "redis+sentinel://{}{}/{}/{db}",
                    auth.userinfo(),
                    nodes_text(sentinels),
                    primary
                );
                RedisStore::open_with(&url, options.clone())
            }
            StoreUrl::RedisCluster {
                nodes,
                auth,
                options,
                ..
            } => {
                let url = format!("redis+cluster://{}{}", auth.userinfo(), nodes_text(nodes));
                RedisStore::open_with(&url, options.clone())
            }
            _ => Err(Error::Unsupported(
                "open_redis on a store URL that is not redis://",
            )),
        }
    }
}

#[cfg(feature = "redis")]
impl RedisAuth {
    /// `user:password@`, percent-encoded, as a URL's user part ("" for none).
    fn userinfo(&self) -> String {
        fn encode(text: &str) -> String {
            let mut out = String::new();
            for b in text.bytes() {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    out.push(b as char);
                } else {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
            out
        }
        match (&self.username, &self.password) {
            (None, None) => String::new(),
            (user, pass) => format!(
                "{}:{}@",
                encode(user.as_deref().unwrap_or("")),
                encode(pass.as_deref().unwrap_or(""))
            ),
        }
    }
}

/// The store as its URL names it, with any password hidden.
impl fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreUrl::Memory { .. } => f.write_str("memory:"),
            StoreUrl::Dbm { path, .. } => write!(f, "{}", path.display()),
            #[cfg(feature = "redis")]
            StoreUrl::Redis { url, .. } => f.write_str(&redact_url(url)),
            #[cfg(feature = "redis")]
            StoreUrl::RedisSentinel {
                sentinels,
                primary,
                db,
                tls,
                ..
            } => {
                let scheme = if *tls { "rediss" } else { "redis" };
                write!(
                    f,
                    "{scheme}+sentinel://{}/{primary}/{db}",
                    nodes_text(sentinels)
                )
            }
            #[cfg(feature = "redis")]
            StoreUrl::RedisCluster { nodes, tls, .. } => {
                let scheme = if *tls { "rediss" } else { "redis" };
                write!(f, "{scheme}+cluster://{}", nodes_text(nodes))
            }
        }
    }
}

#[cfg(feature = "redis")]
fn nodes_text(nodes: &[RedisNode]) -> String {
    let text: Vec<String> = nodes
        .iter()
        .map(|n| match n.host.contains(':') {
            true => format!("[{}]:{}", n.host, n.port),
            false => format!("{}:{}", n.host, n.port),
        })
        .collect();
    text.join(",")
}

#[cfg(not(feature = "redis"))]
const REDIS_SCHEMES: &[&str] = &[
    "redis",
    "rediss",
    "valkey",
    "valkeys",
    "unix",
    "redis+unix",
    "valkey+unix",
    "redis+sentinel",
    "rediss+sentinel",
    "redis+cluster",
    "rediss+cluster",
];

/// The scheme (lowercased) and the rest, when `url` starts with
/// `scheme:` where the scheme is a known one or is followed by `//`.
/// Anything else is a bare path.
fn split_scheme(url: &str) -> Option<(String, &str)> {
    let colon = url.find(':')?;
    let scheme = &url[..colon];
    let rest = &url[colon + 1..];
    let well_formed = scheme
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b));
    if !well_formed {
        return None;
    }
    let scheme = scheme.to_ascii_lowercase();
    let known = matches!(scheme.as_str(), "memory" | "dbm") || scheme.contains("redis");
    (known || scheme == "unix" || rest.starts_with("//")).then_some((scheme, rest))
}

fn dbm(path: PathBuf, options: &mut Options<'_>) -> Result<StoreUrl> {
    let mut dbm = DbmOptions::default();
    if let Some(durable) = options.parse("durable", parse_bool)? {
        dbm.durable = durable;
    }
    if let Some(map_size) = options.parse("map_size", parse_count)? {
        dbm.map_size = map_size;
    }
    options.finish(&["durable", "map_size"])?;
    Ok(StoreUrl::Dbm { path, options: dbm })
}

/// The directory of a `dbm:` URL body: `///abs`, `//localhost/abs` or `relative`.
fn dbm_path(body: &str, shown: &str) -> Result<PathBuf> {
    let path = match body.strip_prefix("//") {
        Some(rest) => {
            let slash = rest.find('/').unwrap_or(rest.len());
            let host = &rest[..slash];
            if !host.is_empty() && !host.eq_ignore_ascii_case("localhost") {
                return Err(Error::config(
                    "url",
                    format!("dbm:// names a local directory, not host {host:?}: write dbm:///path ({shown})"),
                ));
            }
            &rest[slash..]
        }
        None => body,
    };
    if path.is_empty() {
        return Err(Error::config(
            "url",
            format!("dbm: needs a directory path ({shown})"),
        ));
    }
    Ok(PathBuf::from(percent_decode(path, "url")?.into_owned()))
}

/// `%XX` escapes decoded (`+` kept: this is a path, not a form).
fn percent_decode<'a>(text: &'a str, option: &'static str) -> Result<Cow<'a, str>> {
    if !text.contains('%') {
        return Ok(Cow::Borrowed(text));
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok());
            match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                Some(b) => out.push(b),
                None => return Err(Error::config(option, "a % not followed by two hex digits")),
            }
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out)
        .map(Cow::Owned)
        .map_err(|_| Error::config(option, "percent-escapes that are not UTF-8"))
}

fn parse_bool(text: &str) -> std::result::Result<bool, String> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(format!("expected true or false, got {text:?}")),
    }
}

fn parse_count(text: &str) -> std::result::Result<usize, String> {
    text.parse::<usize>()
        .map_err(|_| format!("expected a whole number, got {text:?}"))
}

#[cfg(feature = "redis")]
fn parse_seconds(text: &str) -> std::result::Result<Duration, String> {
    match text.parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 => {
            Duration::try_from_secs_f64(s).map_err(|_| format!("{text:?} seconds is too long"))
        }
        _ => Err(format!(
            "expected a number of seconds more than zero, got {text:?}"
        )),
    }
}

/// The options of one URL: its query, then the ones given beside it.
struct Options<'a> {
    pairs: Vec<(String, String)>,
    shown: &'a str,
}

impl<'a> Options<'a> {
    fn new(query: Option<&str>, extra: &[(&str, &str)], shown: &'a str) -> Result<Self> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (name, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            if pairs.iter().any(|(n, _)| *n == name) {
                return Err(Error::config(
                    "url",
                    format!("option {name:?} given twice in {shown}"),
                ));
            }
            pairs.push((name.into_owned(), value.into_owned()));
        }
        for (name, value) in extra {
            match pairs.iter_mut().find(|(n, _)| n == name) {
                Some(pair) => pair.1 = (*value).to_owned(),
                None => pairs.push(((*name).to_owned(), (*value).to_owned())),
            }
        }
        Ok(Options { pairs, shown })
    }

    /// Takes option `name` out, parsed by `parse`; a bad value is an error naming it.
    fn parse<T>(
        &mut self,
        name: &'static str,
        parse: impl FnOnce(&str) -> std::result::Result<T, String>,
    ) -> Result<Option<T>> {
        match self.take(name) {
            Some(text) => parse(&text)
                .map(Some)
                .map_err(|why| Error::config(name, why)),
            None => Ok(None),
        }
    }

    fn take(&mut self, name: &str) -> Option<String> {
        let i = self.pairs.iter().position(|(n, _)| n == name)?;
        Some(self.pairs.remove(i).1)
    }

    /// An error naming the first option nobody took.
    fn finish(&self, known: &[&str]) -> Result<()> {
        match self.pairs.first() {
            Some((name, _)) => Err(Error::config(
                "url",
                format!(
                    "unknown option {name:?} for {} (known: {})",
                    self.shown,
                    known.join(", ")
                ),
            )),
            None => Ok(()),
        }
    }
}

#[cfg(feature = "redis")]
mod redis_url;

/// `url` with the password of its user part (`user:password@`), and any
/// `pass`/`password` query value, replaced by `***`: for error messages,
/// reprs and logs.
pub fn redact_url(url: &str) -> String {
    let (head, query) = match url.split_once('?') {
        Some((head, query)) => (head, Some(query)),
        None => (url, None),
    };
    let mut out = match head.split_once("://") {
        Some((scheme, rest)) => {
            let authority_end = rest.find('/').unwrap_or(rest.len());
            let (authority, path) = rest.split_at(authority_end);
            match authority.rsplit_once('@') {
                Some((user, host)) => {
                    let user = match user.split_once(':') {
                        Some((name, _)) => format!("{name}:***"),
                        None => user.to_string(),
                    };
                    format!("{scheme}://{user}@{host}{path}")
                }
                None => head.to_string(),
            }
        }
        None => head.to_string(),
    };
    if let Some(query) = query {
        let params: Vec<String> = query
            .split('&')
            .map(|p| match p.split_once('=') {
                Some((k, _)) if k == "pass" || k == "password" => format!("{k}=***"),
                _ => p.to_string(),
            })
            .collect();
        out.push('?');
        out.push_str(&params.join("&"));
    }
    out
}

#[cfg(test)]
#[path = "url_tests.rs"]
mod tests;
