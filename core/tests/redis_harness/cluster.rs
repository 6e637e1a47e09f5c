//! A Redis Cluster for the tests: three primaries with one replica each, on
//! 127.0.0.1 free ports with explicit cluster bus ports, made with
//! `redis-cli --cluster create` and ready once every node says
//! `cluster_state:ok`. Killed when dropped.

use std::process::Command;
use std::time::Duration;

use super::{free_port, wait_until, RedisServer};

/// Three primaries and three replicas.
pub struct Cluster {
    /// The six nodes, in the order given to `redis-cli --cluster create`
    /// (the first three start as primaries).
    pub nodes: Vec<RedisServer>,
}

impl Cluster {
    /// Starts six nodes, joins them and waits for `cluster_state:ok` and
    /// for every replica to be in sync.
    pub fn start() -> Self {
        let nodes: Vec<RedisServer> = (0..6)
            .map(|_| {
                RedisServer::start_args(|_, dir| {
                    vec![
                        "--cluster-enabled".into(),
                        "yes".into(),
                        "--cluster-config-file".into(),
                        dir.join("nodes.conf").display().to_string(),
                        "--cluster-port".into(),
                        free_port().to_string(),
                        "--cluster-node-timeout".into(),
                        "1000".into(),
                        "--cluster-replica-validity-factor".into(),
                        "0".into(),
                    ]
                })
            })
            .collect();
        let mut create = Command::new(redis_cli());
        create.args(["--cluster", "create"]);
        for node in &nodes {
            create.arg(format!("127.0.0.1:{}", node.port()));
        }
        let out = create
            .args(["--cluster-replicas", "1", "--cluster-yes"])
            .output()
            .expect("running redis-cli --cluster create");
        assert!(
            out.status.success(),
            "redis-cli --cluster create: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let cluster = Cluster { nodes };
        cluster.wait_healthy();
        cluster
    }

    /// Moves `slots` hash slots, with their keys, from primary `from` to
    /// primary `to` (`redis-cli --cluster reshard`): clients meanwhile meet
    /// `ASK` (a slot being moved) and then `MOVED` (a slot moved).
    pub fn reshard(&self, from: usize, to: usize, slots: usize) {
        let id = |i: usize| self.info(i, "CLUSTER", Some("MYID"));
        let out = Command::new(redis_cli())
            .args(["--cluster", "reshard"])
            .arg(format!("127.0.0.1:{}", self.nodes[from].port()))
            .args(["--cluster-from", &id(from), "--cluster-to", &id(to)])
            .args(["--cluster-slots", &slots.to_string(), "--cluster-yes"])
            .output()
            .expect("running redis-cli --cluster reshard");
        assert!(
            out.status.success(),
            "redis-cli --cluster reshard: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `redis+cluster://` with every node as a seed.
    pub fn url(&self) -> String {
        let seeds: Vec<String> = self
            .nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port()))
            .collect();
        format!("redis+cluster://{}", seeds.join(","))
    }

    /// Waits until every running node says `cluster_state:ok`, has three
    /// primaries, and every replica's link is up.
    pub fn wait_healthy(&self) {
        wait_until("the cluster is ok", Duration::from_secs(60), || {
            self.running().all(|i| {
                let info = self.info(i, "CLUSTER", Some("INFO"));
                let repl = self.info(i, "INFO", Some("replication"));
                info.contains("cluster_state:ok")
                    && (repl.contains("role:master") || repl.contains("master_link_status:up"))
            }) && self.primaries().len() == 3
        });
    }

    /// The indexes of the running nodes that are primaries now.
    pub fn primaries(&self) -> Vec<usize> {
        self.running()
            .filter(|&i| {
                self.info(i, "INFO", Some("replication"))
                    .contains("role:master")
            })
            .collect()
    }

    /// The indexes of the running nodes.
    pub fn running(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.nodes.len()).filter(|&i| self.nodes[i].is_running())
    }

    /// The text reply of `command [arg]` on node `i` ("" when it does not answer).
    pub fn info(&self, i: usize, command: &str, arg: Option<&str>) -> String {
        let mut cmd = redis::cmd(command);
        if let Some(arg) = arg {
            cmd.arg(arg);
        }
        cmd.query(&mut self.nodes[i].connection())
            .unwrap_or_default()
    }
}

/// The redis-cli executable (Debian's redis-tools, a dependency of redis-server).
fn redis_cli() -> std::path::PathBuf {
    let server = super::redis_server();
    server.with_file_name("redis-cli")
}
