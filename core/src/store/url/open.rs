//! Opening the store a URL names: [`StoreUrl::open`], and the Redis
//! URL handed to the `redis` crate.

use std::sync::Arc;

use super::StoreUrl;
#[cfg(feature = "redis")]
use super::{nodes_text, redact_url, RedisAuth};
#[cfg(any(doc, feature = "redis"))]
use crate::error::Error;
use crate::error::Result;
#[cfg(feature = "redis")]
use crate::store::RedisStore;
use crate::store::{DbmStore, MemoryStore, Store};

impl StoreUrl {
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
