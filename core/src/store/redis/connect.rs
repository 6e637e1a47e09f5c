//! Where a [`super::RedisStore`] connects: one server (`redis://`,
//! `rediss://`, `unix://`), the primary a Sentinel names
//! (`redis+sentinel://`), or a Redis Cluster (`redis+cluster://`). Each
//! becomes a [`Connector`] that makes one connection within the store's
//! timeouts.

use std::time::Duration;

use redis::cluster::ClusterClientBuilder;
use redis::{Client, Connection, RedisError};

use super::pool::{to_error, Conn, Connector};
use crate::error::{Error, Result};

/// The default port of a Redis (cluster node).
const REDIS_PORT: u16 = 6379;

/// The timeouts and TLS roots a connector needs.
pub(super) struct Settings<'a> {
    pub connect_timeout: Duration,
    pub command_timeout: Duration,
    pub tls_root_cert: Option<&'a [u8]>,
}

/// What kind of deployment a URL names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// One server.
    Single,
    /// A Sentinel-managed primary.
    Sentinel,
    /// A Redis Cluster.
    Cluster,
}

/// The connector for `url`, and the kind of deployment it names.
pub(super) fn connector(url: &str, settings: &Settings<'_>) -> Result<(Connector, Kind)> {
    if let Some(rest) = url.strip_prefix("redis+sentinel://") {
        no_tls(settings)?;
        let spec = SentinelSpec::parse(rest)?;
        let (connect, command) = (settings.connect_timeout, settings.command_timeout);
        let connector: Connector = Box::new(move || spec.connect(connect, command));
        return Ok((connector, Kind::Sentinel));
    }
    if let Some(rest) = url.strip_prefix("redis+cluster://") {
        no_tls(settings)?;
        return Ok((cluster(rest, settings)?, Kind::Cluster));
    }
    let client = single_client(url, settings.tls_root_cert)?;
    let (connect, command) = (settings.connect_timeout, settings.command_timeout);
    let connector: Connector = Box::new(move || open(&client, connect, command).map(Conn::Single));
    Ok((connector, Kind::Single))
}

fn no_tls(settings: &Settings<'_>) -> Result<()> {
    if settings.tls_root_cert.is_some() {
        return Err(Error::config(
            "tls_root_cert",
            "TLS is not supported for redis+sentinel:// and redis+cluster:// (yet)",
        ));
    }
    Ok(())
}

/// A connection made with `client` within `connect`, each command then
/// bounded by `command`.
fn open(client: &Client, connect: Duration, command: Duration) -> Result<Connection> {
    let con = client
        .get_connection_with_timeout(connect)
        .map_err(to_error)?;
    con.set_read_timeout(Some(command)).map_err(to_error)?;
    con.set_write_timeout(Some(command)).map_err(to_error)?;
    Ok(con)
}

fn bad_url(e: impl std::fmt::Display) -> Error {
    Error::config("url", e.to_string())
}

/// The client for a one-server `url`; TLS (`rediss://`) only with the
/// feature `redis-tls`.
fn single_client(url: &str, root_cert: Option<&[u8]>) -> Result<Client> {
    let tls = url.starts_with("rediss://") || url.starts_with("valkeys://");
    if root_cert.is_some() && !tls {
        return Err(Error::config(
            "tls_root_cert",
            "given for a URL without TLS",
        ));
    }
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

/// A URL's user part, its `(host, port)` list and its path.
type Authority<'a> = (Option<&'a str>, Vec<(String, u16)>, &'a str);

/// `[userinfo@]hostlist[/path]` split into its parts.
fn split_authority(rest: &str) -> Result<Authority<'_>> {
    if rest.contains(['?', '#']) {
        return Err(bad_url(
            "a redis+sentinel:// or redis+cluster:// URL takes no query or fragment here \
             (options go in RedisOptions)",
        ));
    }
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (userinfo, hosts) = match authority.rsplit_once('@') {
        Some((user, hosts)) => (Some(user), hosts),
        None => (None, authority),
    };
    let hosts = hosts
        .split(',')
        .map(host_port)
        .collect::<Result<Vec<_>>>()?;
    Ok((userinfo, hosts, path))
}

/// `host:port`, `[v6]:port`; the port may not be left out.
fn host_port(text: &str) -> Result<(String, u16)> {
    let (host, port) = text
        .rsplit_once(':')
        .filter(|(h, _)| !h.is_empty())
        .ok_or_else(|| bad_url(format!("{text:?} is not host:port")))?;
    let port = port
        .parse::<u16>()
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| {
            bad_url(format!(
                "{text:?}: the port is not a number from 1 to 65535"
            ))
        })?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    Ok((host.to_string(), port))
}

/// `redis://[userinfo@]host:port/db` for one server of a deployment.
fn server_url(userinfo: Option<&str>, host: &str, port: u16, db: i64) -> String {
    let host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    };
    match userinfo {
        Some(user) => format!("redis://{user}@{host}:{port}/{db}"),
        None => format!("redis://{host}:{port}/{db}"),
    }
}

/// `redis+sentinel://[user:pass@]host:port[,host:port...]/primary-name[/db]`:
/// the credentials and db are the primary's; the Sentinels are asked
/// without credentials.
struct SentinelSpec {
    userinfo: Option<String>,
    sentinels: Vec<(String, u16)>,
    primary: String,
    db: i64,
}

impl SentinelSpec {
    fn parse(rest: &str) -> Result<Self> {
        let (userinfo, sentinels, path) = split_authority(rest)?;
        let (primary, db) = path.split_once('/').unwrap_or((path, ""));
        if primary.is_empty() {
            return Err(bad_url(
                "redis+sentinel:// needs the primary's name: redis+sentinel://host:port/NAME",
            ));
        }
        let db = match db {
            "" => 0,
            db => db
                .parse::<i64>()
                .ok()
                .filter(|d| *d >= 0)
                .ok_or_else(|| bad_url(format!("{db:?} is not a database number")))?,
        };
        // Parse the primary's URL once here, so a bad one fails at open.
        Client::open(server_url(userinfo, "127.0.0.1", REDIS_PORT, db)).map_err(bad_url)?;
        Ok(SentinelSpec {
            userinfo: userinfo.map(str::to_owned),
            sentinels,
            primary: primary.to_string(),
            db,
        })
    }

    /// A connection to the primary: each Sentinel is asked in turn (within
    /// the timeouts) which address the primary has, and the server there
    /// must say it is a primary (`ROLE`), since a Sentinel that has not yet
    /// seen a failover still names the old one.
    fn connect(&self, connect: Duration, command: Duration) -> Result<Conn> {
        let mut last = None;
        for (host, port) in &self.sentinels {
            let found = self.ask(host, *port, connect, command);
            match found.and_then(|(h, p)| self.primary_at(&h, p, connect, command)) {
                Ok(con) => return Ok(Conn::Single(con)),
                Err(e) => last = Some(e),
            }
        }
        Err(last.expect("a sentinel URL names at least one sentinel"))
    }

    /// The primary's address as the Sentinel at `host:port` knows it.
    fn ask(
        &self,
        host: &str,
        port: u16,
        connect: Duration,
        command: Duration,
    ) -> Result<(String, u16)> {
        let client = Client::open(server_url(None, host, port, 0)).map_err(bad_url)?;
        let mut con = open(&client, connect, command)?;
        let addr: Option<(String, u16)> = redis::cmd("SENTINEL")
            .arg("get-master-addr-by-name")
            .arg(&self.primary)
            .query(&mut con)
            .map_err(to_error)?;
        addr.ok_or_else(|| {
            io_error(format!(
                "the sentinel at {host}:{port} knows no primary named {:?}",
                self.primary
            ))
        })
    }

    fn primary_at(
        &self,
        host: &str,
        port: u16,
        connect: Duration,
        command: Duration,
    ) -> Result<Connection> {
        let url = server_url(self.userinfo.as_deref(), host, port, self.db);
        let client = Client::open(url).map_err(bad_url)?;
        let mut con = open(&client, connect, command)?;
        let role: Vec<redis::Value> = redis::cmd("ROLE").query(&mut con).map_err(to_error)?;
        match role.first() {
            Some(redis::Value::BulkString(r)) if r == b"master" => Ok(con),
            Some(redis::Value::SimpleString(r)) if r == "master" => Ok(con),
            _ => Err(io_error(format!(
                "{host}:{port}, named by the sentinels as primary {:?}, is not a primary (a failover is under way)",
                self.primary
            ))),
        }
    }
}

fn io_error(message: String) -> Error {
    Error::Io(std::io::Error::new(
        std::io::ErrorKind::NotConnected,
        message,
    ))
}

/// `redis+cluster://[user:pass@]host:port[,host:port...]` (seed nodes): a
/// cluster client with the store's timeouts and a short, bounded retry of
/// redirections and failovers (about 2 s in all), after which the caller
/// gets the error.
fn cluster(rest: &str, settings: &Settings<'_>) -> Result<Connector> {
    let (userinfo, seeds, path) = split_authority(rest)?;
    if !path.is_empty() {
        return Err(bad_url("a Redis Cluster has only database 0: give no /db"));
    }
    let seeds: Vec<String> = seeds
        .iter()
        .map(|(h, p)| server_url(userinfo, h, *p, 0))
        .collect();
    let client = ClusterClientBuilder::new(seeds)
        .connection_timeout(settings.connect_timeout)
        .response_timeout(settings.command_timeout)
        .retries(5)
        .min_retry_wait(20)
        .max_retry_wait(1000)
        .retry_wait_formula(50, 2)
        .build()
        .map_err(|e: RedisError| bad_url(e))?;
    Ok(Box::new(move || {
        client
            .get_connection()
            .map(|c| Conn::Cluster(Box::new(c)))
            .map_err(to_error)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentinel_urls_name_sentinels_a_primary_and_a_db() {
        let s = SentinelSpec::parse("u:p@127.0.0.1:26379,[::1]:26380/mymaster/3").unwrap();
        assert_eq!(s.userinfo.as_deref(), Some("u:p"));
        assert_eq!(
            s.sentinels,
            [("127.0.0.1".to_string(), 26379), ("::1".to_string(), 26380)]
        );
        assert_eq!((s.primary.as_str(), s.db), ("mymaster", 3));
        let s = SentinelSpec::parse("h:1/m").unwrap();
        assert_eq!((s.primary.as_str(), s.db, s.userinfo), ("m", 0, None));
        for bad in [
            "h:1",
            "h:1/",
            "h/m",
            "h:x/m",
            "h:0/m",
            "h:1/m/x",
            "h:1/m?db=1",
            ":1/m",
        ] {
            assert!(
                matches!(
                    SentinelSpec::parse(bad),
                    Err(Error::Config { option: "url", .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn server_urls_bracket_v6_hosts() {
        assert_eq!(server_url(None, "::1", 7000, 0), "redis://[::1]:7000/0");
        assert_eq!(server_url(Some("a:b"), "h", 1, 2), "redis://a:b@h:1/2");
    }
}
