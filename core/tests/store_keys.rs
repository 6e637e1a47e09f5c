//! Stores keep records by store key (SHA-256 of the id), never by id; a
//! store of the previous format is refused, not misread.

mod common;

use std::sync::Arc;

use common::MapStore;
use lmdb::Transaction as _;
use spysession_core::*;

fn request(cookie: &str) -> Request<'_> {
    Request {
        cookie: Some(cookie.as_bytes()),
        path: "/",
        ..Default::default()
    }
}

/// Commits one session with `k = 1` through a manager on `store`; returns its id.
fn commit_one(store: Arc<dyn Store>) -> SessionId {
    let manager = SessionManager::new(store, Options::default()).unwrap();
    let mut session = manager.begin(&request("")).unwrap();
    session.set("k", Value::Int(1));
    assert!(session.commit().unwrap().committed);
    assert_eq!(session.store_key(), session.id().store_key());
    session.id()
}

#[test]
fn every_store_keeps_the_record_under_the_store_key_only() {
    let dir = tempfile::tempdir().unwrap();
    let stores: Vec<Arc<dyn Store>> = vec![
        Arc::new(MemoryStore::default()),
        Arc::new(DbmStore::open(dir.path()).unwrap()),
        Arc::new(CustomStore::new(MapStore::default())),
    ];
    for store in stores {
        let id = commit_one(store.clone());
        let record = store.load(&id.store_key(), 0.0).unwrap().unwrap();
        assert_eq!(record.data.get("k"), Some(&Value::Int(1)));
        // No fallback: the raw id, taken as a key, finds nothing.
        let raw = StoreKey::from_bytes(*id.as_bytes());
        assert_eq!(store.load(&raw, 0.0).unwrap(), None);
    }
}

#[test]
fn a_custom_store_is_given_store_keys_never_ids() {
    let store = Arc::new(CustomStore::new(MapStore::default()));
    let id = commit_one(store.clone());
    let keys: Vec<StoreKey> = store.raw().records.lock().keys().copied().collect();
    assert_eq!(keys, [id.store_key()]);
}

#[test]
fn the_data_file_holds_no_session_id() {
    let dir = tempfile::tempdir().unwrap();
    let options = DbmOptions {
        map_size: 1 << 20,
        durable: false,
    };
    let store = Arc::new(DbmStore::open_with(dir.path(), options).unwrap());
    let ids: Vec<SessionId> = (0..20).map(|_| commit_one(store.clone())).collect();
    let (used, _) = store.usage().unwrap();
    drop(store);
    let mut file = std::fs::read(dir.path().join("data.mdb")).unwrap();
    file.truncate(used as usize); // the pages in use; the rest is never written
    let holds = |needle: &[u8]| memchr::memmem::find(&file, needle).is_some();
    for id in &ids {
        assert!(holds(id.store_key().as_bytes()), "the store key is the key");
        assert!(!holds(id.as_bytes()), "raw id {id} in the file");
        assert!(!holds(&id.to_hex()), "hex id {id} in the file");
    }
}

/// Writes a directory as spysession 0.1 did: records under raw ids, no
/// format stamp.
fn write_version_1_store(dir: &std::path::Path) {
    let env = lmdb::Environment::new()
        .set_max_dbs(4)
        .set_map_size(1 << 20)
        .open(dir)
        .unwrap();
    let records = env
        .create_db(Some("records"), lmdb::DatabaseFlags::empty())
        .unwrap();
    let mut txn = env.begin_rw_txn().unwrap();
    let id = SessionId::generate();
    let mut bytes = Record::new(0.0, 1e12, Data::new()).encode();
    bytes[1] = 1; // format version 1
    txn.put(records, id.as_bytes(), &bytes, lmdb::WriteFlags::empty())
        .unwrap();
    txn.commit().unwrap();
}

#[test]
fn a_store_written_by_version_0_1_is_refused_naming_its_version() {
    let dir = tempfile::tempdir().unwrap();
    write_version_1_store(dir.path());
    let err = DbmStore::open(dir.path()).err().expect("refused");
    assert!(
        matches!(
            err,
            Error::StoreVersion {
                found: 1,
                expected: FORMAT_VERSION
            }
        ),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains("format version 1"), "{message}");
    assert!(message.contains("spysession 0.1"), "{message}");
    // Refused every time, and nothing was changed on disk by the refusal.
    assert!(DbmStore::open(dir.path()).is_err());
}

#[test]
fn a_new_store_is_stamped_and_opens_again() {
    let dir = tempfile::tempdir().unwrap();
    let id = commit_one(Arc::new(DbmStore::open(dir.path()).unwrap()));
    // Every DbmStore of the directory is gone: this opens the files again.
    let store = DbmStore::open(dir.path()).unwrap();
    assert!(store.load(&id.store_key(), 0.0).unwrap().is_some());
}
