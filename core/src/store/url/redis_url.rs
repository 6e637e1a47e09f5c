//! The Redis forms of a store URL: `redis://`, `rediss://`, `unix://`,
//! `redis+sentinel://`, `redis+cluster://`. Every error names the bad part
//! and shows the URL only redacted; the user part is never echoed.

use std::path::PathBuf;

use super::query::{parse_count, parse_seconds, percent_decode, Options};
use super::{RedisAuth, RedisNode, StoreUrl};
use crate::error::{Error, Result};
use crate::store::RedisOptions;

/// The options every Redis form takes.
const REDIS_OPTIONS: &[&str] = &[
    "prefix",
    "connect_timeout",
    "command_timeout",
    "pool_size",
    "tls_root_cert",
    "wait_replicas",
];

/// The options of the unix form that go to the `redis` crate as they are.
const UNIX_PASSTHROUGH: &[&str] = &["db", "user", "pass"];

/// `redis://[user:pass@]host[:port][/db]` and `rediss://...`.
pub(super) fn tcp(
    scheme: &str,
    body: &str,
    options: &mut Options<'_>,
    shown: &str,
) -> Result<StoreUrl> {
    let tls = scheme == "rediss" || scheme == "valkeys";
    let (userinfo, hosts, path) = split_authority(scheme, body, shown)?;
    let node = parse_node(hosts, 6379, shown)?;
    let db = match path.trim_start_matches('/') {
        "" => 0,
        db => parse_db(db, shown)?,
    };
    let (options, tls_root_cert) = redis_options(options, tls, &[])?;
    let user = userinfo.map(|u| format!("{u}@")).unwrap_or_default();
    let host = match node.host.contains(':') {
        true => format!("[{}]", node.host),
        false => node.host,
    };
    Ok(StoreUrl::Redis {
        url: format!("{scheme}://{user}{host}:{}/{db}", node.port),
        options,
        tls_root_cert,
    })
}

/// `unix:///path/redis.sock[?db=N&user=U&pass=P]` (and `redis+unix://`).
pub(super) fn unix(
    scheme: &str,
    body: &str,
    options: &mut Options<'_>,
    shown: &str,
) -> Result<StoreUrl> {
    let path = match body.strip_prefix("//") {
        Some(rest) if rest.starts_with('/') => rest,
        Some(rest) if rest.to_ascii_lowercase().starts_with("localhost/") => &rest[9..],
        _ => {
            return Err(Error::config(
                "url",
                format!(
                "{scheme}: needs an absolute socket path, as {scheme}:///run/redis.sock ({shown})"
            ),
            ))
        }
    };
    if path.len() < 2 {
        return Err(Error::config(
            "url",
            format!("{scheme}: needs a socket path ({shown})"),
        ));
    }
    percent_decode(path, "url")?;
    let mut passed = form_urlencoded::Serializer::new(String::new());
    if let Some(db) = options.take("db") {
        passed.append_pair("db", &parse_db(&db, shown)?.to_string());
    }
    for name in &UNIX_PASSTHROUGH[1..] {
        if let Some(value) = options.take(name) {
            passed.append_pair(name, &value);
        }
    }
    // The spelling people know from other clients.
    if let Some(value) = options.take("password") {
        passed.append_pair("pass", &value);
    }
    let (redis, tls_root_cert) = redis_options(options, false, UNIX_PASSTHROUGH)?;
    let query = passed.finish();
    let query = if query.is_empty() {
        query
    } else {
        format!("?{query}")
    };
    Ok(StoreUrl::Redis {
        url: format!("{scheme}://{path}{query}"),
        options: redis,
        tls_root_cert,
    })
}

/// `redis+sentinel://[user:pass@]host[:port][,host[:port]...]/primary[/db]`.
pub(super) fn sentinel(
    tls: bool,
    body: &str,
    options: &mut Options<'_>,
    shown: &str,
) -> Result<StoreUrl> {
    let (userinfo, hosts, path) = split_authority("redis+sentinel", body, shown)?;
    let sentinels = parse_nodes(hosts, 26379, shown)?;
    let mut parts = path.trim_start_matches('/').splitn(2, '/');
    let primary = parts.next().unwrap_or("");
    if primary.is_empty() {
        return Err(Error::config(
            "url",
            format!("redis+sentinel:// needs the primary's name after the hosts: .../mymaster[/db] ({shown})"),
        ));
    }
    let primary = percent_decode(primary, "url")?.into_owned();
    let db = match parts.next().map(|d| d.trim_end_matches('/')) {
        None | Some("") => 0,
        Some(db) => parse_db(db, shown)?,
    };
    let (options, tls_root_cert) = redis_options(options, tls, &[])?;
    Ok(StoreUrl::RedisSentinel {
        sentinels,
        primary,
        db,
        auth: parse_auth(userinfo)?,
        tls,
        options,
        tls_root_cert,
    })
}

/// `redis+cluster://[user:pass@]host[:port][,host[:port]...]`.
pub(super) fn cluster(
    tls: bool,
    body: &str,
    options: &mut Options<'_>,
    shown: &str,
) -> Result<StoreUrl> {
    let (userinfo, hosts, path) = split_authority("redis+cluster", body, shown)?;
    let nodes = parse_nodes(hosts, 6379, shown)?;
    if !path.trim_start_matches('/').is_empty() {
        return Err(Error::config(
            "url",
            format!(
                "redis+cluster:// takes no path or database (a cluster has only db 0): {shown}"
            ),
        ));
    }
    let (options, tls_root_cert) = redis_options(options, tls, &[])?;
    Ok(StoreUrl::RedisCluster {
        nodes,
        auth: parse_auth(userinfo)?,
        tls,
        options,
        tls_root_cert,
    })
}

/// `//[userinfo@]hosts[/path]` split into its three parts.
fn split_authority<'b>(
    scheme: &str,
    body: &'b str,
    shown: &str,
) -> Result<(Option<&'b str>, &'b str, &'b str)> {
    let Some(rest) = body.strip_prefix("//") else {
        return Err(Error::config(
            "url",
            format!("{scheme}: must be followed by // and a host ({shown})"),
        ));
    };
    let end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    Ok(match authority.rsplit_once('@') {
        Some((userinfo, hosts)) => (Some(userinfo), hosts, path),
        None => (None, authority, path),
    })
}

fn parse_nodes(hosts: &str, default_port: u16, shown: &str) -> Result<Vec<RedisNode>> {
    hosts
        .split(',')
        .map(|h| parse_node(h, default_port, shown))
        .collect()
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`.
fn parse_node(text: &str, default_port: u16, shown: &str) -> Result<RedisNode> {
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let Some((host, after)) = rest.split_once(']') else {
            return Err(Error::config(
                "url",
                format!("unclosed [ in the host {text:?} ({shown})"),
            ));
        };
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or_else(|| {
                Error::config(
                    "url",
                    format!("junk {p:?} after the host [{host}] ({shown})"),
                )
            })?),
        };
        (host, port)
    } else {
        match text.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (text, None),
        }
    };
    if host.is_empty() {
        return Err(Error::config("url", format!("a host is missing ({shown})")));
    }
    if !host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-._:%".contains(&b))
    {
        return Err(Error::config("url", format!("bad host {host:?} ({shown})")));
    }
    let port = match port {
        None => default_port,
        Some(p) => match p.parse::<u16>() {
            Ok(port) if port > 0 => port,
            _ => {
                return Err(Error::config(
                    "url",
                    format!("bad port {p:?} for host {host:?}: expected 1 to 65535 ({shown})"),
                ))
            }
        },
    };
    Ok(RedisNode {
        host: host.to_owned(),
        port,
    })
}

fn parse_db(text: &str, shown: &str) -> Result<i64> {
    match text.parse::<i64>() {
        Ok(db) if db >= 0 => Ok(db),
        _ => Err(Error::config(
            "url",
            format!("bad database {text:?}: expected a number from 0 ({shown})"),
        )),
    }
}

fn parse_auth(userinfo: Option<&str>) -> Result<RedisAuth> {
    let Some(userinfo) = userinfo else {
        return Ok(RedisAuth::default());
    };
    // Messages here never quote the text: it holds the password.
    let decode = |s: &str| -> Result<Option<String>> {
        match s {
            "" => Ok(None),
            s => percent_decode(s, "url")
                .map(|d| Some(d.into_owned()))
                .map_err(|_| Error::config("url", "bad percent-escape in the user or password")),
        }
    };
    Ok(match userinfo.split_once(':') {
        Some((user, pass)) => RedisAuth {
            username: decode(user)?,
            password: decode(pass)?,
        },
        None => RedisAuth {
            username: decode(userinfo)?,
            password: None,
        },
    })
}

/// The options every Redis form takes, then an error for any other one.
fn redis_options(
    options: &mut Options<'_>,
    tls: bool,
    also: &[&str],
) -> Result<(RedisOptions, Option<PathBuf>)> {
    let mut redis = RedisOptions::default();
    if let Some(prefix) = options.take("prefix") {
        redis.prefix = prefix;
    }
    if let Some(t) = options.parse("connect_timeout", parse_seconds)? {
        redis.connect_timeout = t;
    }
    if let Some(t) = options.parse("command_timeout", parse_seconds)? {
        redis.command_timeout = t;
    }
    if let Some(n) = options.parse("pool_size", parse_count)? {
        if n == 0 {
            return Err(Error::config("pool_size", "must be at least 1"));
        }
        redis.pool_size = n;
    }
    if let Some(n) = options.parse("wait_replicas", parse_count)? {
        redis.wait_replicas = n;
    }
    let root = options.take("tls_root_cert").map(PathBuf::from);
    if root.is_some() && !tls {
        return Err(Error::config(
            "tls_root_cert",
            "given for a URL without TLS (use rediss://)",
        ));
    }
    let known: Vec<&str> = REDIS_OPTIONS.iter().chain(also).copied().collect();
    options.finish(&known)?;
    Ok((redis, root))
}
