//! Every command with `--redis URL` against a real redis-server (started on
//! 127.0.0.1 on a free port by the RedisStore tests' harness, killed after),
//! filled through the library.

mod common;
#[path = "../../core/tests/redis_harness/mod.rs"]
mod redis_harness;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use redis_harness::RedisServer;
use serde_json::json;
use spysession_core::{
    Data, Inspect, Record, RedisOptions, RedisStore, SessionId, Store, StoreKey, Value,
};

const NOW_ARG: &str = "1700000000";

// The tests every store passes, on a RedisStore (default prefix).
cli_suite!(redis_store, {
    let server = RedisServer::start();
    let store = open_redis(&server, "spysession:");
    Site {
        store: Arc::new(store),
        args: vec!["--redis".into(), server.url()],
        _keep: Box::new(server),
    }
});

/// The store the web processes would open on `server` with `prefix`.
fn open_redis(server: &RedisServer, prefix: &str) -> RedisStore {
    let options = RedisOptions {
        prefix: prefix.into(),
        ..RedisOptions::default()
    };
    RedisStore::open_with(&server.url(), options).expect("open the test RedisStore")
}

/// `args` followed by `--redis URL`.
fn run_on(server: &RedisServer, args: &[&str]) -> std::process::Output {
    let url = server.url();
    run(&[args, &["--redis", &url]].concat())
}

/// Sends one command to the server, bypassing RedisStore (to plant keys no
/// RedisStore would write); returns the first line of the reply.
fn raw_command(server: &RedisServer, args: &[&[u8]]) -> String {
    let mut request = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        request.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        request.extend_from_slice(arg);
        request.extend_from_slice(b"\r\n");
    }
    let mut stream = TcpStream::connect(("127.0.0.1", server.port())).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream.write_all(&request).unwrap();
    let mut reply = Vec::new();
    let mut byte = [0u8; 1];
    while !reply.ends_with(b"\r\n") {
        stream.read_exact(&mut byte).unwrap();
        reply.push(byte[0]);
    }
    String::from_utf8(reply).unwrap()
}

/// [`fill`] for Redis: the expired sessions expire within the last second
/// before [`NOW`], each written 100 s before it. RedisStore's TTL is
/// relative (expiry minus last write), so these stay in Redis for ~99 s of
/// real time: expired only for `--now`, which is what `clean` must remove.
fn fill_redis(store: &RedisStore, live: usize, expired: usize) -> (Vec<StoreKey>, Vec<StoreKey>) {
    let mut l: Vec<_> = (0..live)
        .map(|i| put(store, NOW + 3600.0 + i as f64, i as i64))
        .collect();
    let mut e: Vec<_> = (0..expired)
        .map(|i| put(store, NOW - i as f64 / expired as f64, i as i64))
        .collect();
    l.sort();
    e.sort();
    (l, e)
}

fn strings(keys: &[StoreKey]) -> Vec<String> {
    keys.iter().map(|key| key.to_string()).collect()
}

#[test]
fn stats_counts_records_and_expired_and_has_no_lmdb_figures() {
    let server = RedisServer::start();
    let store = open_redis(&server, "spysession:");
    fill(&store, 5, 3);
    // Another site's sessions (its own prefix) and a foreign key under ours
    // are not counted.
    fill(&open_redis(&server, "othersite:"), 4, 0);
    assert_eq!(
        raw_command(&server, &[b"SET", b"spysession:config", b"x"]),
        "+OK\r\n"
    );

    let out = run_on(&server, &["stats", "--now", NOW_ARG]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with(&format!(
            "store          {} (prefix \"spysession:\")\n",
            server.url()
        )),
        "{text}"
    );
    assert!(text.contains("records        8\n"), "{text}");
    assert!(
        text.contains("expired        3 (at 2023-11-14T22:13:20Z)\n"),
        "{text}"
    );
    assert!(text.contains("live           5\n"), "{text}");
    assert!(
        text.contains("oldest expiry  2023-11-14T22:13:18Z\n"),
        "{text}"
    );
    assert!(
        text.contains("newest expiry  2023-11-14T23:13:24Z\n"),
        "{text}"
    );
    assert!(
        !text.contains("data file") && !text.contains("map "),
        "{text}"
    );

    let doc = json(&run_on(&server, &["stats", "--now", NOW_ARG, "--json"]));
    assert_eq!(doc["store"], server.url());
    assert_eq!(doc["backend"], "redis");
    assert_eq!(doc["prefix"], "spysession:");
    assert_eq!(doc["records"], 8);
    assert_eq!(doc["expired"], 3);
    assert_eq!(doc["live"], 5);
    assert_eq!(doc["oldest_expiry"], json!(NOW - 2.0));
    assert_eq!(doc["newest_expiry"], json!(NOW + 3604.0));
    for lmdb_only in [
        "data_file_bytes",
        "disk_bytes",
        "used_bytes",
        "map_size",
        "map_used_percent",
    ] {
        assert_eq!(doc[lmdb_only], serde_json::Value::Null, "{lmdb_only}");
    }

    let other = json(&run_on(
        &server,
        &["stats", "--prefix", "othersite:", "--json"],
    ));
    assert_eq!(other["records"], 4);
    assert_eq!(other["prefix"], "othersite:");
}

#[test]
fn list_prints_every_id_in_order_across_many_scan_steps() {
    let server = RedisServer::start();
    let store = open_redis(&server, "spysession:");
    // More than one SCAN step (500 keys) of the store's walk.
    let (live, expired) = fill_redis(&store, 1100, 150);
    let out = run_on(&server, &["list", "--now", NOW_ARG]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_listed(&stdout(&out), &live, &expired);
}

#[test]
fn list_expired_filters_and_pages_in_json() {
    let server = RedisServer::start();
    let store = open_redis(&server, "site:a*");
    let (_, expired) = fill(&store, 4, 5);
    // A prefix with glob characters does not match this one's keys.
    fill(&open_redis(&server, "site:ab"), 3, 3);
    let base = ["list", "--prefix", "site:a*", "--now", NOW_ARG, "--json"];

    let doc = json(&run_on(&server, &[&base[..], &["--expired"]].concat()));
    assert_eq!(doc["total"], 5);
    assert_eq!(keys_of(&doc), strings(&expired));
    assert!(doc["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["expired"] == true));

    let page = json(&run_on(
        &server,
        &[&base[..], &["--expired", "--offset", "1", "--limit", "2"]].concat(),
    ));
    assert_eq!(page["total"], 5);
    assert_eq!(page["offset"], 1);
    assert_eq!(keys_of(&page), strings(&expired[1..3]));

    let all = json(&run_on(&server, &base));
    assert_eq!(all["total"], 9);
}

#[test]
fn show_decodes_a_session_expired_or_not() {
    let server = RedisServer::start();
    let store = open_redis(&server, "spysession:");
    let id = SessionId::generate();
    let data: Data = [
        ("user".to_string(), Value::Str("ann".into())),
        ("bytes".to_string(), Value::Bytes(vec![0, 0xff])),
        ("pickle".to_string(), Value::Ext(1, vec![0x80, 4])),
    ]
    .into_iter()
    .collect();
    let record = Record {
        accessed: NOW - 50.0,
        ..Record::new(NOW - 100.0, NOW + 60.0, data)
    };
    store.save(&id.store_key(), &record).unwrap();
    let hex = id.to_string();
    let show = |now: &str, json_out: bool| {
        let mut args = vec!["show", &hex, "--now", now];
        if json_out {
            args.push("--json");
        }
        run_on(&server, &args)
    };

    let doc = json(&show(NOW_ARG, true));
    assert_eq!(doc["key"], id.store_key().to_string());
    assert_eq!(doc["created"], json!(NOW - 100.0));
    assert_eq!(doc["accessed"], json!(NOW - 50.0));
    assert_eq!(doc["expires_at"], json!(NOW + 60.0));
    assert_eq!(doc["expired"], false);
    assert_eq!(
        doc["data"],
        json!({
            "user": "ann",
            "bytes": {"$bytes": "00ff"},
            "pickle": {"$ext": 1, "$hex": "8004"},
        })
    );

    let out = show(NOW_ARG, false);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    for want in [
        format!("store key    {}\n", id.store_key()),
        "expires      2023-11-14T22:14:20Z (live)\n".to_string(),
        "keys         3\n".to_string(),
        "  \"user\" = \"ann\"\n".to_string(),
    ] {
        assert!(text.contains(&want), "missing {want:?} in\n{text}");
    }

    // Judged a minute later it is expired for the library, and still shown.
    let later = (NOW + 60.0).to_string();
    assert!(store.load(&id.store_key(), NOW + 60.0).unwrap().is_none());
    let doc = json(&show(&later, true));
    assert_eq!(doc["expired"], true);
    assert_eq!(doc["data"]["user"], "ann");
}

#[test]
fn delete_removes_exactly_that_session_under_that_prefix() {
    let server = RedisServer::start();
    let store = open_redis(&server, "spysession:");
    let other = open_redis(&server, "othersite:");
    let (live, _) = fill(&store, 3, 0);
    // The same key under another prefix is another site's session.
    other
        .save(&live[1], &Record::new(NOW, NOW + 60.0, Data::new()))
        .unwrap();
    let out = run_on(&server, &["delete", "--key", &live[1].to_string()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), format!("deleted session {}\n", live[1]));
    assert!(store.load(&live[1], NOW).unwrap().is_none());
    assert!(store.load(&live[0], NOW).unwrap().is_some());
    assert!(store.load(&live[2], NOW).unwrap().is_some());
    assert!(other.load(&live[1], NOW).unwrap().is_some());
    let again = run_on(&server, &["delete", "--key", &live[1].to_string()]);
    assert_eq!(again.status.code(), Some(1), "a second delete finds none");
}

#[test]
fn clean_removes_exactly_the_expired_while_a_web_process_writes() {
    let server = RedisServer::start();
    let store = open_redis(&server, "spysession:");
    let (live, expired) = fill_redis(&store, 300, 700);
    let writing = std::sync::atomic::AtomicBool::new(true);
    let written = std::thread::scope(|scope| {
        let writer = scope.spawn(|| {
            // A web process saving new sessions during the clean.
            let web = open_redis(&server, "spysession:");
            let mut ids = Vec::new();
            while writing.load(std::sync::atomic::Ordering::Relaxed) || ids.len() < 50 {
                ids.push(put(&web, NOW + 7200.0, ids.len() as i64));
            }
            ids
        });
        let out = run_on(&server, &["clean", "--now", NOW_ARG, "--json"]);
        writing.store(false, std::sync::atomic::Ordering::Relaxed);
        let doc = json(&out);
        assert_eq!(doc["removed"], expired.len());
        assert_eq!(doc["now"], json!(NOW));
        writer.join().unwrap()
    });
    for id in &expired {
        assert!(store.get(id).unwrap().is_none(), "{id} left");
    }
    for id in live.iter().chain(&written) {
        assert!(store.load(id, NOW).unwrap().is_some(), "{id} removed");
    }
    assert_eq!(store.len().unwrap(), (live.len() + written.len()) as u64);

    let out = run_on(&server, &["clean", "--now", NOW_ARG]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with("removed 0 expired sessions in ") && text.lines().count() == 1,
        "{text}"
    );
}

#[test]
fn a_unix_socket_url_works() {
    let server = RedisServer::start();
    let store = open_redis(&server, "spysession:");
    fill(&store, 2, 1);
    let url = server.unix_url();
    let doc = json(&run(&[
        "stats", "--redis", &url, "--now", NOW_ARG, "--json",
    ]));
    assert_eq!(doc["records"], 3);
    assert_eq!(doc["expired"], 1);
}

#[test]
fn damaged_records_are_a_runtime_error_naming_the_session() {
    let server = RedisServer::start();
    let store = open_redis(&server, "spysession:");
    fill(&store, 2, 0);
    let bad = SessionId::generate().store_key();
    let key = store.key(&bad);
    let hex = bad.to_hex();
    let index = format!(
        "spysession:{{{}}}:exp",
        std::str::from_utf8(&hex[..2]).unwrap()
    );
    assert_eq!(
        raw_command(&server, &[b"HSET", &key, b"m:expires", b"soon"]),
        ":1\r\n"
    );
    raw_command(&server, &[b"ZADD", index.as_bytes(), b"1", &hex]);
    let out = run_on(&server, &["show", "--key", &bad.to_string()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("corrupt"), "{}", stderr(&out));
    // `list` reads the expiry index, which names it with its indexed expiry.
    let doc = json(&run_on(&server, &["list", "--json"]));
    assert_eq!(doc["total"], 3);
    // The operator's way out: delete it.
    let out = run_on(&server, &["delete", "--key", &bad.to_string()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc = json(&run_on(&server, &["list", "--json"]));
    assert_eq!(doc["total"], 2);

    // A key of another Redis type where a session belongs is damaged too.
    let other = SessionId::generate().store_key();
    raw_command(&server, &[b"SET", &store.key(&other), b"x"]);
    let out = run_on(&server, &["show", "--key", &other.to_string()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("not a hash"), "{}", stderr(&out));
}

const COMMANDS: [&[&str]; 5] = [
    &["clean"],
    &["stats"],
    &["list"],
    &["show", "0123456789abcdef0123456789abcdef"],
    &["delete", "0123456789abcdef0123456789abcdef"],
];

#[test]
fn a_redis_that_is_down_exits_1_quickly_with_a_clear_message() {
    let mut server = RedisServer::start();
    server.kill();
    for cmd in COMMANDS {
        let start = Instant::now();
        let out = run_on(&server, cmd);
        assert_eq!(out.status.code(), Some(1), "{cmd:?}");
        assert!(out.stdout.is_empty(), "{cmd:?}");
        let err = stderr(&out);
        assert!(
            err.starts_with(&format!(
                "spysession: error: cannot reach Redis at {}: ",
                server.url()
            )) && err.contains("refused"),
            "{cmd:?}: {err}"
        );
        assert!(start.elapsed() < Duration::from_secs(3), "{cmd:?}");
    }
}

#[test]
fn a_hung_redis_exits_1_within_the_timeouts() {
    let server = RedisServer::start();
    server.pause();
    for cmd in [&["stats"][..], &["clean"]] {
        let start = Instant::now();
        let out = run_on(&server, cmd);
        let took = start.elapsed();
        assert_eq!(out.status.code(), Some(1), "{cmd:?}");
        let err = stderr(&out);
        assert!(
            err.contains(&format!(
                "cannot reach Redis at {}: no answer within 2 s",
                server.url()
            )),
            "{cmd:?}: {err}"
        );
        // Connect 2 s plus one command 2 s at most.
        assert!(took < Duration::from_secs(6), "{cmd:?} took {took:?}");
    }
    server.resume();
}

#[test]
fn a_password_in_the_url_is_not_printed() {
    let mut server = RedisServer::start();
    server.kill();
    let url = format!("redis://app:s3cret@127.0.0.1:{}/0", server.port());
    let out = run(&["stats", "--redis", &url]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(!err.contains("s3cret"), "{err}");
    assert!(err.contains("redis://app:***@127.0.0.1:"), "{err}");
}

#[test]
fn store_and_redis_are_exactly_one_of_two() {
    let dir = tempfile::tempdir().unwrap();
    let both = run(&[
        "stats",
        "--store",
        arg(dir.path()),
        "--redis",
        "redis://127.0.0.1:1/",
    ]);
    assert_eq!(both.status.code(), Some(2));
    assert!(
        stderr(&both).contains("cannot be used with"),
        "{}",
        stderr(&both)
    );
    for cmd in COMMANDS {
        let neither = run(cmd);
        assert_eq!(neither.status.code(), Some(2), "{cmd:?}");
        let err = stderr(&neither);
        assert!(err.contains("--store") && err.contains("--redis"), "{err}");
    }
    let prefix_without_redis = run(&["list", "--store", arg(dir.path()), "--prefix", "x:"]);
    assert_eq!(prefix_without_redis.status.code(), Some(2));
    assert!(
        stderr(&prefix_without_redis).contains("--prefix"),
        "{}",
        stderr(&prefix_without_redis)
    );
}

#[test]
fn a_tls_url_is_built_in_and_an_unreachable_one_is_a_clear_error() {
    let out = run(&["stats", "--redis", "rediss://127.0.0.1:1/"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("cannot reach Redis at rediss://127.0.0.1:1/"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn migrate_moves_the_0_1_layout_and_the_store_reads_it_after() {
    let server = RedisServer::start();
    let id = SessionId::generate();
    let key = format!("old:{id}");
    let args: [&[u8]; 10] = [
        b"HSET",
        key.as_bytes(),
        b"m:v",
        b"1",
        b"m:created",
        b"1700000000",
        b"m:accessed",
        b"1700000000",
        b"m:expires",
        b"1700000060",
    ];
    raw_command(&server, &args);
    // Refused, naming the 0.1 layout and the way out.
    let out = run_on(&server, &["list", "--prefix", "old:"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("0.1") && stderr(&out).contains("spysession migrate"),
        "{}",
        stderr(&out)
    );
    let out = run_on(&server, &["migrate", "--prefix", "old:"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("moved 1 sessions"));
    let doc = json(&run_on(&server, &["list", "--prefix", "old:", "--json"]));
    assert_eq!(doc["total"], 1);
}

#[test]
fn store_takes_a_redis_url_with_its_prefix_in_the_query() {
    let server = RedisServer::start();
    let store = open_redis(&server, "urlsite:");
    let (live, expired) = fill(&store, 2, 1);
    let url = format!("{}?prefix=urlsite:", server.url());
    let out = run(&["list", "--store", &url, "--now", NOW_ARG]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_listed(&stdout(&out), &live, &expired);
    // The same server under the default prefix holds none of them.
    let out = run(&["list", "--store", &server.url(), "--now", NOW_ARG]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(live
        .iter()
        .all(|id| !stdout(&out).contains(&id.to_string())));
}

#[test]
fn a_bad_store_url_exits_1_naming_the_part_and_hiding_the_password() {
    for (url, part) in [
        ("redis://app:Sup3rS3cret@127.0.0.1:notaport/0", "notaport"),
        ("redis://app:Sup3rS3cret@127.0.0.1/0?colour=blue", "colour"),
        ("ftp://app:Sup3rS3cret@host/x", "ftp"),
        ("memory:", "memory"),
        ("rediss+cluster://app:Sup3rS3cret@n1:7000", "Cluster"),
        (
            "redis+cluster://app:Sup3rS3cret@127.0.0.1:1",
            "cannot reach",
        ),
    ] {
        let out = run(&["stats", "--store", url]);
        assert_eq!(out.status.code(), Some(1), "{url}: {}", stderr(&out));
        assert!(stderr(&out).contains(part), "{url}: {}", stderr(&out));
        assert!(
            !stderr(&out).contains("Sup3rS3cret"),
            "{url}: {}",
            stderr(&out)
        );
    }
}
