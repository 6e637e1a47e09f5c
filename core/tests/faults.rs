//! Store faults met by a session: a failed commit or delete leaves the old
//! state, and a retry finishes the job; a damaged LMDB file is an error,
//! never a fresh session.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use common::web::{cookie_pair, request};
use common::TestClock;
use spysession_core::*;

const T0: f64 = 1_700_000_000.0;

/// A MemoryStore whose commits or deletes fail while told to (a full disk,
/// a Redis that is down). It has no [`Sweep`] side, as a store that expires
/// records by itself would not.
#[derive(Default)]
struct Flaky {
    inner: MemoryStore,
    fail_commit: AtomicBool,
    fail_delete: AtomicBool,
}

fn down() -> Error {
    Error::Io(std::io::Error::other("the backend is down"))
}

impl Store for Flaky {
    fn load(&self, key: &StoreKey, now: f64) -> Result<Option<Arc<Record>>> {
        self.inner.load(key, now)
    }
    fn delete(&self, key: &StoreKey) -> Result<bool> {
        if self.fail_delete.load(Ordering::SeqCst) {
            return Err(down());
        }
        self.inner.delete(key)
    }
    fn inspect(&self) -> Option<&dyn Inspect> {
        self.inner.inspect()
    }
    fn counters(&self) -> &Counters {
        self.inner.counters()
    }
    fn commit(
        &self,
        key: &StoreKey,
        update: &Update<'_>,
        loaded: &mut Option<Arc<Record>>,
    ) -> Result<Committed> {
        if self.fail_commit.load(Ordering::SeqCst) {
            return Err(down());
        }
        self.inner.commit(key, update, loaded)
    }
}

/// A manager over a fresh [`Flaky`] store holding one session (`user = 1`);
/// returns the store, the manager and that session's cookie.
fn logged_in() -> (Arc<Flaky>, SessionManager, String) {
    let store = Arc::new(Flaky::default());
    let clock = TestClock::at(T0);
    let manager =
        SessionManager::with_clock(store.clone(), Options::default(), clock.as_clock()).unwrap();
    let mut s = manager.begin(&request("")).unwrap();
    s.set("user", Value::Int(1));
    let cookie = cookie_pair(&s.commit().unwrap().set_cookie.unwrap());
    (store, manager, cookie)
}

fn key_of(cookie: &str) -> StoreKey {
    SessionId::parse(cookie.split_once('=').unwrap().1)
        .unwrap()
        .store_key()
}

#[test]
fn a_failed_commit_after_regenerate_keeps_the_old_session_and_a_retry_finishes() {
    let (store, manager, cookie) = logged_in();
    let mut s = manager.begin(&request(&cookie)).unwrap();
    s.regenerate();
    store.fail_commit.store(true, Ordering::SeqCst);
    assert!(s.commit().is_err());
    // The old session is as it was: the user is still logged in.
    let old = manager.begin(&request(&cookie)).unwrap();
    assert!(!old.is_new());
    assert_eq!(old.get("user"), Some(&Value::Int(1)));
    // The retry stores the new record, then deletes the old one.
    store.fail_commit.store(false, Ordering::SeqCst);
    let set_cookie = s.commit().unwrap().set_cookie.expect("the new id's cookie");
    let new_cookie = cookie_pair(&set_cookie);
    assert_ne!(new_cookie, cookie);
    assert_eq!(store.load(&key_of(&cookie), T0).unwrap(), None);
    let new = manager.begin(&request(&new_cookie)).unwrap();
    assert_eq!(new.get("user"), Some(&Value::Int(1)));
    assert_eq!(store.inspect().unwrap().len().unwrap(), 1);
}

#[test]
fn a_failed_delete_keeps_the_old_id_retired_until_a_retry_deletes_it() {
    let (store, manager, cookie) = logged_in();
    let mut s = manager.begin(&request(&cookie)).unwrap();
    s.regenerate();
    store.fail_delete.store(true, Ordering::SeqCst);
    assert!(s.commit().is_err(), "the delete failed: say so");
    // The new record is stored first, so nothing is lost meanwhile.
    assert!(s.modified(), "the old id is still to be deleted");
    store.fail_delete.store(false, Ordering::SeqCst);
    let result = s.commit().unwrap();
    assert!(result.committed);
    // The browser still learns its new id from the retry.
    let new_cookie = cookie_pair(&result.set_cookie.expect("the new id's cookie"));
    assert_eq!(store.load(&key_of(&cookie), T0).unwrap(), None);
    assert!(manager.begin(&request(&cookie)).unwrap().is_new());
    assert_eq!(
        manager.begin(&request(&new_cookie)).unwrap().get("user"),
        Some(&Value::Int(1))
    );
    assert!(!s.modified());
}

#[test]
fn a_failed_delete_at_logout_is_retried_and_expires_the_cookie() {
    let (store, manager, cookie) = logged_in();
    let mut s = manager.begin(&request(&cookie)).unwrap();
    s.invalidate();
    store.fail_delete.store(true, Ordering::SeqCst);
    assert!(s.commit().is_err());
    assert!(!manager.begin(&request(&cookie)).unwrap().is_new());
    store.fail_delete.store(false, Ordering::SeqCst);
    let expired = s.commit().unwrap().set_cookie.expect("the expired cookie");
    assert!(expired.contains("Max-Age=0"), "{expired}");
    assert!(manager.begin(&request(&cookie)).unwrap().is_new());
    assert_eq!(store.inspect().unwrap().len().unwrap(), 0);
}

#[test]
fn a_damaged_lmdb_file_is_a_store_error_not_a_fresh_session() {
    use std::os::unix::fs::FileExt as _;

    let dir = tempfile::tempdir().unwrap();
    let options = DbmOptions {
        map_size: 1 << 20,
        durable: false,
    };
    let store = Arc::new(DbmStore::open_with(dir.path(), options).unwrap());
    let manager = SessionManager::new(store.clone(), Options::default()).unwrap();
    let mut s = manager.begin(&request("")).unwrap();
    s.set("user", Value::Int(1));
    let cookie = cookie_pair(&s.commit().unwrap().set_cookie.unwrap());
    // Zero the pages holding the session's store key (its records leaf and
    // its expiry index leaf), as a bad sector or a stray write would: the
    // database root and meta pages stay, so LMDB itself reports the damage.
    let path = dir.path().join("data.mdb");
    let bytes = std::fs::read(&path).unwrap();
    let key = key_of(&cookie);
    let page = 4096;
    let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    let mut zeroed = 0;
    for at in memchr::memmem::find_iter(&bytes, key.as_bytes()) {
        let start = at / page * page;
        assert!(start >= 2 * page, "not a meta page");
        file.write_all_at(&vec![0u8; page], start as u64).unwrap();
        zeroed += 1;
    }
    assert!(zeroed > 0, "the key is in the file");
    file.sync_all().unwrap();
    match manager.begin(&request(&cookie)) {
        Err(Error::Lmdb(e)) => assert!(
            matches!(e, lmdb::Error::Corrupted | lmdb::Error::PageNotFound),
            "{e}"
        ),
        Err(other) => panic!("{other:?}"),
        Ok(s) => panic!("a damaged store gave a session (new: {})", s.is_new()),
    }
    assert_eq!(
        store.stats().corrupt,
        0,
        "no record was met, the store is damaged"
    );
}

#[test]
fn clean_store_on_a_store_that_cannot_sweep_is_unsupported_and_removes_nothing() {
    let (store, _manager, cookie) = logged_in();
    assert!(store.sweep().is_none());
    let err = clean_store(&*store, f64::INFINITY).unwrap_err();
    assert!(matches!(err, Error::Unsupported("clean")), "{err:?}");
    assert!(store.inner.load(&key_of(&cookie), T0).unwrap().is_some());
    assert_eq!(store.stats().cleaned, 0);
}
