//! Records damaged in the store, as a torn write, a stray tool or another
//! program would leave them: every prefix of a real record and a record of
//! another format version are `Corrupt` when loaded directly and a fresh
//! session through the manager, and the other sessions of the store are
//! untouched (docs/reliability.md, "bad inputs").

mod common;

use std::sync::Arc;

use common::web::{commit_for_cookie, request};
use spysession_core::*;

/// A DbmStore with two committed sessions: (store, manager, victim, keeper).
fn two_sessions(dir: &std::path::Path) -> (Arc<DbmStore>, SessionManager, Session, String) {
    let store = Arc::new(
        DbmStore::open_with(
            dir,
            DbmOptions {
                durable: false,
                ..Default::default()
            },
        )
        .unwrap(),
    );
    let manager = SessionManager::new(store.clone(), Options::default()).unwrap();
    let mut victim = manager.begin(&request("")).unwrap();
    victim.set("user", Value::Str("ada".into()));
    victim.set("n", Value::Int(7));
    commit_for_cookie(&mut victim);
    let mut keeper = manager.begin(&request("")).unwrap();
    keeper.set("keep", Value::Int(2));
    let keeper_cookie = commit_for_cookie(&mut keeper);
    (store, manager, victim, keeper_cookie)
}

/// The victim's stored record replaced by `bytes` must be Corrupt on a
/// direct load and a fresh session (counted) through the manager, with the
/// keeper's session intact.
fn assert_refused(
    store: &DbmStore,
    manager: &SessionManager,
    victim: &Session,
    keeper: &str,
    bytes: &[u8],
    what: &str,
) {
    let key = victim.store_key();
    store.put_raw_for_tests(&key, bytes).unwrap();
    assert!(
        matches!(store.load(&key, system_now()), Err(Error::Corrupt(_))),
        "{what}: not Corrupt"
    );
    let corrupt = store.stats().corrupt;
    let cookie = format!("spysession={}", victim.id());
    let fresh = manager.begin(&request(&cookie)).unwrap();
    assert!(fresh.is_new(), "{what}: not a fresh session");
    assert_ne!(fresh.id(), victim.id(), "{what}: the damaged id adopted");
    assert!(store.stats().corrupt > corrupt, "{what}: not counted");
    assert_eq!(
        manager.begin(&request(keeper)).unwrap().get("keep"),
        Some(&Value::Int(2)),
        "{what}: another session lost"
    );
}

#[test]
fn every_truncation_of_a_stored_record_is_corrupt_and_a_fresh_session() {
    let dir = tempfile::tempdir().unwrap();
    let (store, manager, victim, keeper) = two_sessions(dir.path());
    let whole = store
        .get(&victim.store_key())
        .unwrap()
        .expect("the victim is stored")
        .encode();
    // Control: the whole record, put back raw, loads.
    store
        .put_raw_for_tests(&victim.store_key(), &whole)
        .unwrap();
    assert!(store
        .load(&victim.store_key(), system_now())
        .unwrap()
        .is_some());
    for cut in 0..whole.len() {
        assert_refused(
            &store,
            &manager,
            &victim,
            &keeper,
            &whole[..cut],
            &format!("cut at {cut} of {}", whole.len()),
        );
    }
}

#[test]
fn a_record_of_another_format_version_is_corrupt_and_a_fresh_session() {
    let dir = tempfile::tempdir().unwrap();
    let (store, manager, victim, keeper) = two_sessions(dir.path());
    let whole = store.get(&victim.store_key()).unwrap().unwrap().encode();
    assert_eq!(whole[0], 0x95, "a 5-array");
    assert_eq!(whole[1], FORMAT_VERSION, "the version follows");
    for version in [0u8, 1, FORMAT_VERSION + 1, 0x7f] {
        let mut other = whole.clone();
        other[1] = version;
        assert_refused(
            &store,
            &manager,
            &victim,
            &keeper,
            &other,
            &format!("version {version}"),
        );
    }
}
