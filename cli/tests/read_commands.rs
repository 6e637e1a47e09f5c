//! `stats`, `list`, `show` and `delete` against a store filled by the library.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use common::*;
use serde_json::json;
use spysession_core::{Data, Inspect, Record, SessionId, Store, StoreKey, Value};

const NOW_ARG: &str = "1700000000";

// The tests every store passes, on a DbmStore directory.
cli_suite!(dbm, {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path());
    Site {
        store: Arc::new(store),
        args: vec!["--store".into(), arg(dir.path()).into()],
        _keep: Box::new(dir),
    }
});

#[test]
fn stats_counts_records_and_expired_and_reports_the_stores_map_size() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path());
    fill(&store, 5, 3);
    let out = run(&["stats", "--store", arg(dir.path()), "--now", NOW_ARG]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("records        8\n"), "{text}");
    assert!(
        text.contains("expired        3 (at 2023-11-14T22:13:20Z)\n"),
        "{text}"
    );
    assert!(text.contains("live           5\n"), "{text}");
    assert!(text.contains("of 64.0 MiB"), "{text}");
    assert!(
        text.contains("oldest expiry  2023-11-14T22:13:18Z\n"),
        "{text}"
    );
    assert!(
        text.contains("newest expiry  2023-11-14T23:13:24Z\n"),
        "{text}"
    );

    let doc = json(&run(&[
        "stats",
        "--store",
        arg(dir.path()),
        "--now",
        NOW_ARG,
        "--json",
    ]));
    assert_eq!(doc["records"], 8);
    assert_eq!(doc["expired"], 3);
    assert_eq!(doc["live"], 5);
    assert_eq!(doc["map_size"], MAP_SIZE as u64);
    assert_eq!(doc["oldest_expiry"], json!(NOW - 2.0));
    assert_eq!(doc["newest_expiry"], json!(NOW + 3604.0));
    let used = doc["used_bytes"].as_u64().unwrap();
    let file = doc["data_file_bytes"].as_u64().unwrap();
    let disk = doc["disk_bytes"].as_u64().unwrap();
    assert!(used > 0 && used <= file, "used {used}, file {file}");
    assert!(disk > 0 && disk <= file, "disk {disk}, file {file}");
}

#[test]
fn list_prints_every_store_key_in_order_with_its_state() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path());
    let (live, expired) = fill(&store, 3, 2);
    let out = run(&["list", "--store", arg(dir.path()), "--now", NOW_ARG]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 5, "{text}");
    assert_listed(&text, &live, &expired);
}

/// A record holding one value of every kind.
fn every_kind() -> Record {
    let mut inner = BTreeMap::new();
    inner.insert("n".to_string(), Value::Nil);
    let data: Data = [
        ("nil", Value::Nil),
        ("bool", Value::Bool(true)),
        ("int", Value::Int(-7)),
        ("uint", Value::UInt(u64::MAX)),
        ("float", Value::Float(2.5)),
        ("str", Value::Str("café \"q\"".into())),
        ("bytes", Value::Bytes(vec![0, 0xff])),
        (
            "list",
            Value::List(vec![Value::Int(1), Value::Str("b".into())]),
        ),
        ("map", Value::Map(inner)),
        ("pickle", Value::Ext(1, vec![0x80, 4])),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    Record {
        accessed: NOW - 50.0,
        ..Record::new(NOW - 100.0, NOW + 60.0, data)
    }
}

#[test]
fn show_decodes_every_kind_of_value_in_json() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path());
    let id = SessionId::generate();
    store.save(&id.store_key(), &every_kind()).unwrap();
    let doc = json(&run(&[
        "show",
        &id.to_string(),
        "--store",
        arg(dir.path()),
        "--json",
        "--now",
        NOW_ARG,
    ]));
    assert_eq!(doc["key"], id.store_key().to_string());
    assert!(doc.get("id").is_none(), "the id is not printed");
    assert_eq!(doc["created"], json!(NOW - 100.0));
    assert_eq!(doc["accessed"], json!(NOW - 50.0));
    assert_eq!(doc["expires_at"], json!(NOW + 60.0));
    assert_eq!(doc["expired"], false);
    assert_eq!(
        doc["data"],
        json!({
            "nil": null,
            "bool": true,
            "int": -7,
            "uint": u64::MAX,
            "float": 2.5,
            "str": "café \"q\"",
            "bytes": {"$bytes": "00ff"},
            "list": [1, "b"],
            "map": {"n": null},
            "pickle": {"$ext": 1, "$hex": "8004"},
        })
    );
}

#[test]
fn show_prints_times_and_keys_as_text() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path());
    let id = SessionId::generate();
    store.save(&id.store_key(), &every_kind()).unwrap();
    let out = run(&[
        "show",
        &id.to_string(),
        "--store",
        arg(dir.path()),
        "--now",
        NOW_ARG,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    for want in [
        format!("store key    {}\n", id.store_key()),
        "created      2023-11-14T22:11:40Z\n".to_string(),
        "last access  2023-11-14T22:12:30Z\n".to_string(),
        "expires      2023-11-14T22:14:20Z (live)\n".to_string(),
        "keys         10\n".to_string(),
        "  \"bytes\" = b\"\\x00\\xff\"\n".to_string(),
        "  \"str\" = \"café \\\"q\\\"\"\n".to_string(),
        "  \"list\" = [1, \"b\"]\n".to_string(),
        "  \"pickle\" = <python pickle, 2 bytes>\n".to_string(),
    ] {
        assert!(text.contains(&want), "missing {want:?} in\n{text}");
    }
}

#[test]
fn show_finds_an_expired_session_and_says_it_is_expired() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path());
    let id = put_id(&store, NOW - 1.0, 1);
    assert!(
        store.load(&id.store_key(), NOW).unwrap().is_none(),
        "expired for the library"
    );
    let out = run(&[
        "show",
        &id.to_string(),
        "--store",
        arg(dir.path()),
        "--now",
        NOW_ARG,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("(expired)"), "{}", stdout(&out));
    let doc = json(&run(&[
        "show",
        &id.to_string(),
        "--store",
        arg(dir.path()),
        "--json",
        "--now",
        NOW_ARG,
    ]));
    assert_eq!(doc["expired"], true);
    assert_eq!(doc["data"]["visited"], 1);
}

#[test]
fn a_malformed_id_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let _store = open_store(dir.path());
    for bad in [
        "xyz",
        "0123456789ABCDEF0123456789abcdef",
        "0123456789abcdef0123456789abcdef0",
    ] {
        for cmd in ["show", "delete"] {
            let out = run(&[cmd, bad, "--store", arg(dir.path())]);
            assert_eq!(out.status.code(), Some(2), "{cmd} {bad}");
            assert!(
                stderr(&out).contains("not a session id"),
                "{}",
                stderr(&out)
            );
            let out = run(&[cmd, "--key", bad, "--store", arg(dir.path())]);
            assert_eq!(out.status.code(), Some(2), "{cmd} --key {bad}");
            assert!(stderr(&out).contains("not a store key"), "{}", stderr(&out));
        }
    }
    // Neither, or both: a usage error.
    let key = SessionId::generate().store_key().to_string();
    let id = SessionId::generate().to_string();
    for cmd in ["show", "delete"] {
        let neither = run(&[cmd, "--store", arg(dir.path())]);
        assert_eq!(neither.status.code(), Some(2), "{cmd}");
        let both = run(&[cmd, &id, "--key", &key, "--store", arg(dir.path())]);
        assert_eq!(both.status.code(), Some(2), "{cmd}");
    }
}

#[test]
fn show_and_delete_by_id_hash_it_into_its_store_key() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path());
    let ids: Vec<SessionId> = (0..3).map(|i| put_id(&store, NOW + 60.0, i)).collect();
    let (id, key): (String, StoreKey) = (ids[1].to_string(), ids[1].store_key());
    // The id is not what the store holds: as a --key it finds nothing.
    let as_key = run(&["show", "--key", &id, "--store", arg(dir.path())]);
    assert_eq!(as_key.status.code(), Some(1), "{}", stderr(&as_key));
    let doc = json(&run(&["show", &id, "--store", arg(dir.path()), "--json"]));
    assert_eq!(doc["key"], key.to_string());
    assert_eq!(doc["data"]["visited"], 1);
    let out = run(&["delete", &id, "--store", arg(dir.path())]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), format!("deleted session {key}\n"));
    assert!(store.load(&key, NOW).unwrap().is_none());
    assert!(store.load(&ids[0].store_key(), NOW).unwrap().is_some());
    assert!(store.load(&ids[2].store_key(), NOW).unwrap().is_some());
}

#[test]
fn a_damaged_record_is_a_runtime_error_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path());
    let id = SessionId::generate();
    store
        .put_raw_for_tests(&id.store_key(), b"not a record")
        .unwrap();
    let out = run(&["show", &id.to_string(), "--store", arg(dir.path())]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("corrupt session record"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_reader_that_leaves_early_is_not_an_error() {
    // `spysession list | head -1`: the pipe closes while list still writes.
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path());
    fill(&store, 3000, 0); // ~200 KB of output, more than a pipe buffers
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_spysession"))
        .args(["list", "--store", arg(dir.path())])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(out.stderr.is_empty(), "{}", stderr(&out));
}
