//! RedisStore on a real Redis Cluster (three primaries, three replicas,
//! started once for this test binary): the shared store suite, and clean's
//! cost counted in commands. Failovers are in redis_failover.rs.
#![cfg(feature = "redis")]

mod common;
mod redis_harness;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use redis_harness::cluster::Cluster;
use spysession_core::{
    clean_store, Data, Inspect, Record, RedisOptions, RedisStore, SessionId, Store, StoreKey,
    StoreUrl, Sweep,
};

static CLUSTER: OnceLock<Cluster> = OnceLock::new();
/// Held shared by every test, and alone by the one that counts commands
/// (the nodes' counters are global).
static COUNTING: parking_lot::RwLock<()> = parking_lot::RwLock::new(());

fn cluster() -> &'static Cluster {
    redis_harness::shared(&CLUSTER, Cluster::start)
}

fn store(pool_size: usize) -> RedisStore {
    let options = RedisOptions {
        prefix: redis_harness::unique_prefix("c"),
        pool_size,
        ..Default::default()
    };
    RedisStore::open_with(&cluster().url(), options).unwrap()
}

store_suite!(
    redis_cluster,
    (Arc::new(crate::store(4)), Box::new(crate::COUNTING.read())),
    inspect: true
);

/// Fills bucket after bucket with `per_bucket` sessions in the store's
/// layout, one script per bucket (its keys share the bucket's slot), the
/// first `expired` of them (across all buckets) expiring at `t0 - 1`, the
/// rest at `t0 + 3600`.
fn fill(prefix: &str, per_bucket: usize, expired: usize, t0: f64) {
    let mut con = redis::cluster::ClusterClient::new(vec![cluster()
        .url()
        .replace("redis+cluster", "redis")
        .split(',')
        .next()
        .unwrap()
        .to_string()])
    .unwrap()
    .get_connection()
    .unwrap();
    let script = redis::Script::new(
        r"
        local prefix, tag, n, dead = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
        for i = 1, n do
          local member = tag .. string.format('%030x', i)
          local expires = ARGV[6]
          if i <= dead then expires = ARGV[5] end
          redis.call('HSET', prefix .. '{' .. tag .. '}' .. member, 'm:v', '1',
                     'm:created', ARGV[5], 'm:accessed', ARGV[5], 'm:expires', expires)
          redis.call('ZADD', KEYS[1], expires, member)
        end
        return n",
    );
    let mut left = expired;
    for bucket in 0..256 {
        let tag = format!("{bucket:02x}");
        let dead = left.div_ceil(256 - bucket).min(per_bucket);
        left -= dead;
        let set = format!("{prefix}{{{tag}}}:exp");
        let _: i64 = script
            .key(set)
            .arg(prefix)
            .arg(&tag)
            .arg(per_bucket)
            .arg(dead)
            .arg(format!("{}", t0 - 1.0))
            .arg(format!("{}", t0 + 3600.0))
            .invoke(&mut con)
            .unwrap();
    }
}

/// Resets the command counters of every primary.
fn reset_stats() {
    let c = cluster();
    for i in c.primaries() {
        let _: () = redis::cmd("CONFIG")
            .arg("RESETSTAT")
            .query(&mut c.nodes[i].connection())
            .unwrap();
    }
}

/// The calls of each session command on every primary since [`reset_stats`]
/// (commands run by scripts included; replicas, which count what they
/// replay, and the cluster's own housekeeping left out).
fn command_counts() -> BTreeMap<String, u64> {
    let c = cluster();
    let mut counts = BTreeMap::new();
    for i in c.primaries() {
        let text = c.info(i, "INFO", Some("commandstats"));
        for line in text.lines() {
            let Some(rest) = line.strip_prefix("cmdstat_") else {
                continue;
            };
            let (name, stats) = rest.split_once(':').unwrap();
            if [
                "info", "config", "cluster", "ping", "client", "command", "readonly",
            ]
            .iter()
            .any(|skip| name.starts_with(skip))
            {
                continue;
            }
            let calls: u64 = stats
                .split(',')
                .find_map(|kv| kv.strip_prefix("calls="))
                .unwrap()
                .parse()
                .unwrap();
            *counts.entry(name.to_string()).or_default() += calls;
        }
    }
    counts
}

#[test]
fn clean_costs_what_expired_not_what_is_stored() {
    const T0: f64 = 1_700_000_000.0;
    let _alone = COUNTING.write();
    let store = store(1);
    let prefix = store.options().prefix.clone();
    store.ping().unwrap();
    fill(&prefix, 390, 1000, T0); // 99,840 sessions, 1,000 of them expired
    assert_eq!(store.len().unwrap(), 99_840);

    reset_stats();
    assert_eq!(store.clean(T0).unwrap(), 1000);
    let with_expired = command_counts();
    reset_stats();
    assert_eq!(store.clean(T0).unwrap(), 0);
    let none_expired = command_counts();

    let total = |c: &BTreeMap<String, u64>| c.values().sum::<u64>();
    // Nothing due: one ZRANGEBYSCORE per bucket, whatever the store holds.
    assert_eq!(total(&none_expired), 256, "{none_expired:?}");
    assert_eq!(none_expired.get("zrangebyscore"), Some(&256));
    // 1,000 due: per bucket with due members one script call (on each of
    // the 3 primaries once more, after NOSCRIPT and SCRIPT LOAD), and per
    // expired session the four commands inside it (TYPE, HGET, DEL, ZREM).
    let n = total(&with_expired);
    assert!(
        n <= 256 + (256 + 3) + 3 + 4 * 1000,
        "{n} commands: {with_expired:?}"
    );
    assert_eq!(with_expired.get("del"), Some(&1000), "{with_expired:?}");
    eprintln!(
        "clean of 1,000 expired among 99,840: {n} commands {with_expired:?}; none expired: 256"
    );
    assert_eq!(store.len().unwrap(), 98_840);
}

#[test]
fn list_and_len_come_from_the_expiry_sets() {
    let _shared = COUNTING.read();
    let store = store(2);
    let ids: Vec<StoreKey> = (0..40)
        .map(|_| StoreKey::of(&SessionId::generate()))
        .collect();
    for (i, id) in ids.iter().enumerate() {
        store
            .save(id, &Record::new(100.0, 200.0 + i as f64, Data::new()))
            .unwrap();
    }
    assert_eq!(store.len().unwrap(), 40);
    let listed = store.list().unwrap();
    let mut want: Vec<(StoreKey, f64)> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (*id, 200.0 + i as f64))
        .collect();
    want.sort_by_key(|(id, _)| *id);
    assert_eq!(listed, want);
    assert_eq!(store.clean(220.0).unwrap(), 21);
    assert_eq!(store.len().unwrap(), 19);
}

#[test]
fn a_store_url_opens_the_cluster_store() {
    let _shared = COUNTING.read();
    let prefix = redis_harness::unique_prefix("u");
    let url = format!("{}?prefix={prefix}", cluster().url());
    let store = StoreUrl::parse(&url).unwrap().open().unwrap();
    let inspect = store.inspect().expect("a RedisStore inspects");
    let ids: Vec<StoreKey> = (0..20)
        .map(|_| StoreKey::of(&SessionId::generate()))
        .collect();
    for id in &ids {
        inspect
            .save(id, &Record::new(100.0, 200.0, Data::new()))
            .unwrap();
    }
    assert_eq!(inspect.len().unwrap(), 20);
    assert_eq!(clean_store(&*store, 200.0).unwrap(), 20);
}
