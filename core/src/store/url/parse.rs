//! The shape of a store URL: its scheme, then the memory and DBM forms
//! (the Redis forms are in `redis_url`).

use std::path::PathBuf;

use super::query::{parse_bool, parse_count, percent_decode, Options};
#[cfg(feature = "redis")]
use super::redis_url;
use super::{redact_url, StoreUrl};
use crate::error::{Error, Result};
use crate::store::DbmOptions;

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
