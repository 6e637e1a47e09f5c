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
//!
//! The types are here; `parse` reads a URL's shape, `query` its options,
//! `redis_url` the Redis forms, and `open` opens the store a URL names.

mod open;
mod parse;
mod query;
#[cfg(feature = "redis")]
mod redis_url;
#[cfg(test)]
mod tests;

use std::fmt;
use std::path::PathBuf;

use super::DbmOptions;
#[cfg(feature = "redis")]
use super::RedisOptions;
#[cfg(doc)]
use super::{DbmStore, MemoryStore};
#[cfg(doc)]
use crate::error::Error;

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
