//! The `rejected` counter (SPEC §2 Stats): ids a request presented that
//! were malformed or, in strict mode, unknown.

use std::sync::Arc;

use spysession_core::*;

fn begin(manager: &SessionManager, cookie: &str, query: &str) -> Session {
    manager
        .begin(&Request {
            cookie: Some(cookie.as_bytes()),
            query: Some(query.as_bytes()),
            path: "/",
            ..Default::default()
        })
        .unwrap()
}

fn rejected(store: &MemoryStore) -> u64 {
    store.stats().rejected
}

#[test]
fn malformed_and_unknown_ids_are_counted_once_per_request() {
    let store = Arc::new(MemoryStore::default());
    let options = Options {
        transports: vec![Transport::Cookie, Transport::Get],
        ..Options::default()
    };
    let manager = SessionManager::new(store.clone(), options).unwrap();
    let mut s = begin(&manager, "", "");
    s.set("k", Value::Int(1));
    s.commit().unwrap();
    let live = s.id().to_string();
    let unknown = SessionId::generate().to_string();

    // Nothing presented, an empty value, another cookie, a known id: not counted.
    for (cookie, query) in [
        ("", ""),
        ("spysession=", ""),
        ("other=zzz", "a=1"),
        (&*format!("spysession={live}"), ""),
        ("", &*format!("spysession={live}")),
    ] {
        begin(&manager, cookie, query);
        assert_eq!(rejected(&store), 0, "{cookie:?} {query:?}");
    }
    // Malformed: counted, whatever the transport.
    begin(&manager, "spysession=../../etc/passwd", "");
    assert_eq!(rejected(&store), 1);
    begin(&manager, "", "spysession=ABCDEF");
    assert_eq!(rejected(&store), 2);
    // Several bad ones in one request count once.
    begin(&manager, "spysession=x; spysession=y", "spysession=z");
    assert_eq!(rejected(&store), 3);
    // Well-formed but unknown, strict: counted (a fixation or guessing attempt).
    assert!(begin(&manager, &format!("spysession={unknown}"), "").is_new());
    assert_eq!(rejected(&store), 4);
    // A malformed value before the live id: the session is found, the bad id counted.
    let s = begin(&manager, &format!("spysession=bad; spysession={live}"), "");
    assert!(!s.is_new());
    assert_eq!(rejected(&store), 5);
}

#[test]
fn an_unknown_id_is_not_rejected_when_not_strict() {
    let store = Arc::new(MemoryStore::default());
    let options = Options {
        strict: false,
        ..Options::default()
    };
    let manager = SessionManager::new(store.clone(), options).unwrap();
    let unknown = SessionId::generate().to_string();
    let s = begin(&manager, &format!("spysession={unknown}"), "");
    assert_eq!(s.id().to_string(), unknown, "adopted");
    assert_eq!(rejected(&store), 0);
    begin(&manager, "spysession=nothex", "");
    assert_eq!(rejected(&store), 1, "malformed is rejected in every mode");
}
