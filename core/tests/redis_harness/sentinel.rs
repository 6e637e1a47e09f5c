//! A Sentinel-managed primary for the tests: a primary, one replica and one
//! Sentinel (quorum 1, `down-after-milliseconds` 1000), all on 127.0.0.1
//! free ports, killed when dropped.

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::{free_port, redis_server, wait_until, RedisServer};

/// The name the Sentinel knows the primary by.
pub const PRIMARY: &str = "mymaster";

/// A primary, its replica and a Sentinel watching them.
pub struct SentinelSet {
    /// The servers: `[0]` starts as the primary, `[1]` as its replica.
    pub servers: Vec<RedisServer>,
    sentinel: Child,
    sentinel_port: u16,
    _dir: tempfile::TempDir,
}

impl SentinelSet {
    /// Starts the three and waits until the Sentinel knows the replica and
    /// the replica is in sync.
    pub fn start() -> Self {
        let primary = RedisServer::start_args(|_, _| Vec::new());
        let primary_port = primary.port();
        let replica = RedisServer::start_args(|_, _| {
            vec![
                "--replicaof".into(),
                "127.0.0.1".into(),
                primary_port.to_string(),
            ]
        });
        let dir = tempfile::tempdir().unwrap();
        let sentinel_port = free_port();
        let conf = dir.path().join("sentinel.conf");
        std::fs::write(
            &conf,
            format!(
                "port {sentinel_port}\nbind 127.0.0.1\ndaemonize no\ndir {}\n\
                 sentinel monitor {PRIMARY} 127.0.0.1 {primary_port} 1\n\
                 sentinel down-after-milliseconds {PRIMARY} 1000\n\
                 sentinel failover-timeout {PRIMARY} 10000\n",
                dir.path().display()
            ),
        )
        .unwrap();
        let mut command = Command::new(redis_server());
        command
            .arg(&conf)
            .arg("--sentinel")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // SAFETY: prctl is async-signal-safe; the kernel kills the sentinel
        // if the test process dies without dropping it.
        unsafe {
            command.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let sentinel = command.spawn().expect("starting redis-server --sentinel");
        let set = SentinelSet {
            servers: vec![primary, replica],
            sentinel,
            sentinel_port,
            _dir: dir,
        };
        wait_until("the replica is in sync", Duration::from_secs(20), || {
            set.link_up(1)
        });
        wait_until(
            "the sentinel knows the replica",
            Duration::from_secs(30),
            || set.sentinel_replicas() == 1,
        );
        set
    }

    /// `redis+sentinel://127.0.0.1:PORT/mymaster`
    pub fn url(&self) -> String {
        format!(
            "redis+sentinel://127.0.0.1:{}/{PRIMARY}",
            self.sentinel_port
        )
    }

    /// The port the Sentinel names as the primary's now.
    pub fn primary_port(&self) -> Option<u16> {
        let mut con = self.sentinel_connection()?;
        let addr: Option<(String, u16)> = redis::cmd("SENTINEL")
            .arg("get-master-addr-by-name")
            .arg(PRIMARY)
            .query(&mut con)
            .ok()?;
        addr.map(|(_, port)| port)
    }

    /// Asks the Sentinel to fail over now (`SENTINEL FAILOVER`).
    pub fn failover(&self) {
        let mut con = self.sentinel_connection().expect("the sentinel answers");
        let _: () = redis::cmd("SENTINEL")
            .arg("FAILOVER")
            .arg(PRIMARY)
            .query(&mut con)
            .unwrap();
    }

    /// True when server `i` is a replica whose link to its primary is up.
    pub fn link_up(&self, i: usize) -> bool {
        let info: String = redis::cmd("INFO")
            .arg("replication")
            .query(&mut self.servers[i].connection())
            .unwrap_or_default();
        info.contains("role:slave") && info.contains("master_link_status:up")
    }

    fn sentinel_replicas(&self) -> usize {
        let Some(mut con) = self.sentinel_connection() else {
            return 0;
        };
        let replicas: Vec<redis::Value> = redis::cmd("SENTINEL")
            .arg("REPLICAS")
            .arg(PRIMARY)
            .query(&mut con)
            .unwrap_or_default();
        replicas.len()
    }

    fn sentinel_connection(&self) -> Option<redis::Connection> {
        let client =
            redis::Client::open(format!("redis://127.0.0.1:{}/", self.sentinel_port)).ok()?;
        let con = client
            .get_connection_with_timeout(Duration::from_secs(2))
            .ok()?;
        con.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        Some(con)
    }
}

impl Drop for SentinelSet {
    fn drop(&mut self) {
        let _ = self.sentinel.kill();
        let _ = self.sentinel.wait();
    }
}
