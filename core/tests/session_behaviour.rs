//! The behaviours of sessions and their options (README: Options) through the manager, with an injected
//! clock so expiry is exact.

mod common;

use std::sync::Arc;

use common::web::{cookie_pair, request};
use common::{MapStore, TestClock};
use spysession_core::*;

const T0: f64 = 1_700_000_000.0;

fn manager_on(store: Arc<dyn Store>, options: Options) -> (SessionManager, TestClock) {
    let clock = TestClock::at(T0);
    let m = SessionManager::with_clock(store, options, clock.as_clock()).unwrap();
    (m, clock)
}

fn manager(options: Options) -> (SessionManager, TestClock) {
    manager_on(Arc::new(MemoryStore::default()), options)
}

#[test]
fn visit_counter_across_three_requests() {
    let (m, _) = manager(Options::default());
    let mut cookie = String::new();
    for expected in 1..=3 {
        let mut s = m.begin(&request(&cookie)).unwrap();
        assert_eq!(s.is_new(), expected == 1);
        let visited = match s.get("visited") {
            Some(Value::Int(n)) => *n,
            _ => 0,
        };
        s.set("visited", Value::Int(visited + 1));
        let result = s.commit().unwrap();
        assert!(result.committed);
        if let Some(set) = result.set_cookie {
            cookie = cookie_pair(&set);
        }
        assert_eq!(visited + 1, expected);
    }
}

#[test]
fn lazy_creation_stores_nothing_and_sets_no_cookie() {
    let store = Arc::new(MemoryStore::default());
    let (m, _) = manager_on(store.clone(), Options::default());
    let mut s = m.begin(&request("")).unwrap();
    assert_eq!(s.get("anything"), None);
    let result = s.commit().unwrap();
    assert!(result.committed);
    assert_eq!(result.set_cookie, None);
    assert_eq!(store.len().unwrap(), 0);
}

#[test]
fn set_cookie_has_the_configured_attributes() {
    let options = Options {
        path: "/app".into(),
        domain: Some("example.com".into()),
        secure: true,
        samesite: Some(SameSite::Strict),
        expire: 3600.0,
        ..Options::default()
    };
    let (m, _) = manager(options);
    let mut s = m
        .begin(&Request {
            path: "/app/x",
            ..Default::default()
        })
        .unwrap();
    s.set("k", Value::Nil);
    let cookie = s.commit().unwrap().set_cookie.unwrap();
    assert_eq!(
        cookie,
        format!(
            "spysession={}; Path=/app; Domain=example.com; Max-Age=3600; Expires={}; Secure; HttpOnly; SameSite=Strict",
            s.id(),
            http::http_date(T0 + 3600.0)
        )
    );
}

#[test]
fn two_sessions_of_one_id_changing_different_keys_both_keep_their_change() {
    let dir = tempfile::tempdir().unwrap();
    for store in [
        Arc::new(MemoryStore::default()) as Arc<dyn Store>,
        Arc::new(DbmStore::open(dir.path()).unwrap()),
    ] {
        let (m, clock) = manager_on(store.clone(), Options::default());
        let mut s = m.begin(&request("")).unwrap();
        s.set("seed", Value::Int(0));
        let cookie = cookie_pair(&s.commit().unwrap().set_cookie.unwrap());
        clock.advance(1.0);
        let mut a = m.begin(&request(&cookie)).unwrap();
        let mut b = m.begin(&request(&cookie)).unwrap();
        a.set("cart", Value::List(vec![Value::Str("book".into())]));
        b.set("theme", Value::Str("dark".into()));
        assert!(a.commit().unwrap().committed);
        assert!(b.commit().unwrap().committed);
        let c = m.begin(&request(&cookie)).unwrap();
        assert_eq!(
            c.get("cart"),
            Some(&Value::List(vec![Value::Str("book".into())]))
        );
        assert_eq!(c.get("theme"), Some(&Value::Str("dark".into())));
        assert_eq!(c.get("seed"), Some(&Value::Int(0)));
        assert_eq!(store.stats().merges, 1);
    }
}

#[test]
fn the_later_commit_wins_on_the_same_key() {
    let (m, _) = manager(Options::default());
    let mut s = m.begin(&request("")).unwrap();
    s.set("k", Value::Int(0));
    let cookie = cookie_pair(&s.commit().unwrap().set_cookie.unwrap());
    let mut a = m.begin(&request(&cookie)).unwrap();
    let mut b = m.begin(&request(&cookie)).unwrap();
    a.set("k", Value::Int(1));
    b.set("k", Value::Int(2));
    a.commit().unwrap();
    b.commit().unwrap();
    assert_eq!(
        m.begin(&request(&cookie)).unwrap().get("k"),
        Some(&Value::Int(2))
    );
}

#[test]
fn no_resurrection_after_invalidate_or_expiry() {
    let store = Arc::new(MemoryStore::default());
    let (m, clock) = manager_on(
        store.clone(),
        Options {
            expire: 100.0,
            ..Options::default()
        },
    );
    let mut s = m.begin(&request("")).unwrap();
    s.set("user", Value::Str("ada".into()));
    let cookie = cookie_pair(&s.commit().unwrap().set_cookie.unwrap());

    // A slow request loaded the session; meanwhile the user logs out.
    let mut stale = m.begin(&request(&cookie)).unwrap();
    let mut logout = m.begin(&request(&cookie)).unwrap();
    logout.invalidate();
    let result = logout.commit().unwrap();
    assert!(result.committed);
    let expired_cookie = result.set_cookie.unwrap();
    assert!(
        expired_cookie.starts_with("spysession=;"),
        "{expired_cookie}"
    );
    assert!(expired_cookie.contains("Max-Age=0"));
    assert!(expired_cookie.contains("Expires=Thu, 01 Jan 1970 00:00:00 GMT"));

    stale.set("user", Value::Str("mallory".into()));
    let result = stale.commit().unwrap();
    assert!(!result.committed, "a stale request cannot undo a logout");
    assert_eq!(result.set_cookie, None);
    assert_eq!(store.len().unwrap(), 0);

    // Expiry: the same, through the clock.
    let mut s = m.begin(&request("")).unwrap();
    s.set("k", Value::Int(1));
    let cookie = cookie_pair(&s.commit().unwrap().set_cookie.unwrap());
    let mut slow = m.begin(&request(&cookie)).unwrap();
    clock.advance(100.0);
    slow.set("k", Value::Int(2));
    assert!(!slow.commit().unwrap().committed);
    assert_eq!(store.len().unwrap(), 0);
    assert_eq!(store.stats().dropped, 2);
}

#[test]
fn expired_sessions_are_never_returned() {
    let (m, clock) = manager(Options {
        expire: 60.0,
        ..Options::default()
    });
    let mut s = m.begin(&request("")).unwrap();
    s.set("k", Value::Int(1));
    let cookie = cookie_pair(&s.commit().unwrap().set_cookie.unwrap());
    clock.advance(59.0);
    let live = m.begin(&request(&cookie)).unwrap();
    assert!(!live.is_new());
    clock.advance(1.0);
    let gone = m.begin(&request(&cookie)).unwrap();
    assert!(gone.is_new());
    assert_ne!(gone.id(), s.id(), "strict: the expired id is not adopted");
}

#[test]
fn sliding_expiry_is_touched_only_after_touch_interval() {
    let store = Arc::new(MemoryStore::default());
    let (m, clock) = manager_on(
        store.clone(),
        Options {
            expire: 1000.0,
            ..Options::default()
        },
    );
    let mut s = m.begin(&request("")).unwrap();
    s.set("k", Value::Int(1));
    let cookie = cookie_pair(&s.commit().unwrap().set_cookie.unwrap());
    let commits = store.stats().commits;

    clock.advance(5.0); // below expire/100 = 10 s
    let mut read_only = m.begin(&request(&cookie)).unwrap();
    let result = read_only.commit().unwrap();
    assert!(result.committed);
    assert_eq!(result.set_cookie, None, "no write, no cookie");
    assert_eq!(store.stats().commits, commits);
    assert_eq!(read_only.expires_at(), T0 + 1000.0);

    clock.advance(5.0); // 10 s since the last write: due
    let mut touched = m.begin(&request(&cookie)).unwrap();
    let result = touched.commit().unwrap();
    assert!(
        result.set_cookie.unwrap().contains("Max-Age=1000"),
        "a touch re-sends the cookie"
    );
    assert_eq!(touched.expires_at(), T0 + 10.0 + 1000.0);
    assert_eq!(store.stats().commits, commits + 1);

    // touch_interval = 0 touches on every request, even at the same instant.
    let options = Options {
        touch_interval: Some(0.0),
        ..Options::default()
    };
    let m0 = SessionManager::with_clock(store.clone(), options, clock.as_clock()).unwrap();
    let before = store.stats().commits;
    m0.begin(&request(&cookie)).unwrap().commit().unwrap();
    assert_eq!(store.stats().commits, before + 1);
}

#[test]
fn max_lifetime_caps_expiry_and_max_age() {
    let (m, clock) = manager(Options {
        expire: 100.0,
        max_lifetime: Some(150.0),
        ..Options::default()
    });
    let mut s = m.begin(&request("")).unwrap();
    s.set("k", Value::Int(1));
    let cookie = cookie_pair(&s.commit().unwrap().set_cookie.unwrap());
    clock.advance(90.0);
    let mut again = m.begin(&request(&cookie)).unwrap();
    again.set("k", Value::Int(2));
    let set = again.commit().unwrap().set_cookie.unwrap();
    assert!(set.contains("Max-Age=60"), "{set}");
    assert_eq!(again.expires_at(), T0 + 150.0);
    clock.advance(60.0);
    assert!(m.begin(&request(&cookie)).unwrap().is_new());
}

#[test]
fn strict_mode_refuses_unknown_ids_and_lax_mode_adopts_them() {
    let unknown = SessionId::generate().to_string();
    let header = format!("spysession={unknown}");
    let (strict, _) = manager(Options::default());
    let s = strict.begin(&request(&header)).unwrap();
    assert!(s.is_new());
    assert_ne!(s.id().to_string(), unknown);

    let (lax, _) = manager(Options {
        strict: false,
        ..Options::default()
    });
    let s = lax.begin(&request(&header)).unwrap();
    assert!(s.is_new());
    assert_eq!(s.id().to_string(), unknown);
}

#[test]
fn session_path_keeps_the_session_under_its_path() {
    let (m, _) = manager(Options {
        path: "/myapp".into(),
        ..Options::default()
    });
    let mut s = m
        .begin(&Request {
            path: "/myapp/page",
            ..Default::default()
        })
        .unwrap();
    s.set("k", Value::Int(1));
    let cookie = cookie_pair(&s.commit().unwrap().set_cookie.unwrap());
    let inside = m
        .begin(&Request {
            cookie: Some(cookie.as_bytes()),
            path: "/myapp",
            ..Default::default()
        })
        .unwrap();
    assert_eq!(inside.get("k"), Some(&Value::Int(1)));
    for outside in ["/other", "/myapplication", "/"] {
        let s = m
            .begin(&Request {
                cookie: Some(cookie.as_bytes()),
                path: outside,
                ..Default::default()
            })
            .unwrap();
        assert!(s.is_new(), "{outside} must not see the session");
    }
    // A per-page session_path override.
    let page = PageOptions {
        session_path: Some("/other".into()),
        ..Default::default()
    };
    assert!(m
        .begin_with(
            &Request {
                path: "/other",
                ..Default::default()
            },
            &page
        )
        .unwrap()
        .is_new());
    let bad = PageOptions {
        session_path: Some("/x;y".into()),
        ..Default::default()
    };
    assert!(matches!(
        m.begin_with(&request(""), &bad),
        Err(Error::Config {
            option: "session_path",
            ..
        })
    ));
}

#[test]
fn transports_are_searched_in_order_and_first_well_formed_id_wins() {
    let options = Options {
        transports: vec![Transport::Get, Transport::Post, Transport::Cookie],
        ..Options::default()
    };
    let (m, _) = manager(options);
    let mut s = m.begin(&request("")).unwrap();
    s.set("k", Value::Int(7));
    let result = s.commit().unwrap();
    assert!(
        result.set_cookie.is_some(),
        "cookie is among the transports"
    );
    let id = s.id().to_string();
    let other = SessionId::generate().to_string();

    let query = format!("a=1&spysession=junk&spysession={id}&spysession={other}");
    let by_query = m
        .begin(&Request {
            query: Some(query.as_bytes()),
            path: "/",
            ..Default::default()
        })
        .unwrap();
    assert_eq!(by_query.id().to_string(), id);

    let form = format!("spysession={id}");
    let cookie = format!("spysession={other}");
    let by_form = m
        .begin(&Request {
            form: Some(form.as_bytes()),
            cookie: Some(cookie.as_bytes()),
            path: "/",
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        by_form.get("k"),
        Some(&Value::Int(7)),
        "post comes before cookie here"
    );

    // get-only transport: no cookie is ever set; url() and form_field() carry the id.
    let (g, _) = manager(Options {
        transports: vec![Transport::Get],
        ..Options::default()
    });
    let mut s = g.begin(&request("")).unwrap();
    s.set("k", Value::Int(1));
    assert_eq!(s.commit().unwrap().set_cookie, None);
    let id = s.id();
    assert_eq!(s.url("/next"), format!("/next?spysession={id}"));
    assert_eq!(
        s.url("/next?a=1#top"),
        format!("/next?a=1&spysession={id}#top")
    );
    assert_eq!(
        s.form_field(),
        format!("<input type=\"hidden\" name=\"spysession\" value=\"{id}\">")
    );
    let query = format!("spysession={id}");
    let back = g
        .begin(&Request {
            query: Some(query.as_bytes()),
            path: "/",
            ..Default::default()
        })
        .unwrap();
    assert_eq!(back.get("k"), Some(&Value::Int(1)));
}

#[test]
fn regenerate_moves_the_data_to_a_new_id_and_deletes_the_old() {
    let store = Arc::new(MemoryStore::default());
    let (m, _) = manager_on(store.clone(), Options::default());
    let mut s = m.begin(&request("")).unwrap();
    s.set("k", Value::Int(1));
    let old_cookie = cookie_pair(&s.commit().unwrap().set_cookie.unwrap());
    let old = s.id();
    let mut s = m.begin(&request(&old_cookie)).unwrap();
    s.regenerate();
    assert_ne!(s.id(), old);
    let new_cookie = cookie_pair(&s.commit().unwrap().set_cookie.unwrap());
    assert_eq!(
        store.load(&old.store_key(), T0).unwrap(),
        None,
        "the old id is deleted"
    );
    assert_eq!(
        m.begin(&request(&new_cookie)).unwrap().get("k"),
        Some(&Value::Int(1))
    );
    assert!(m.begin(&request(&old_cookie)).unwrap().is_new());
    assert_eq!(store.len().unwrap(), 1);
}

#[test]
fn a_damaged_record_is_corrupt_on_load_and_a_fresh_session_through_the_manager() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(DbmStore::open(dir.path()).unwrap());
    let (m, _) = manager_on(store.clone(), Options::default());
    let mut s = m.begin(&request("")).unwrap();
    s.set("k", Value::Int(1));
    let cookie = cookie_pair(&s.commit().unwrap().set_cookie.unwrap());
    let mut other = m.begin(&request("")).unwrap();
    other.set("keep", Value::Int(2));
    let other_cookie = cookie_pair(&other.commit().unwrap().set_cookie.unwrap());

    store
        .put_raw_for_tests(&s.store_key(), b"\x95\x02garbage")
        .unwrap();
    assert!(matches!(
        store.load(&s.store_key(), T0),
        Err(Error::Corrupt(_))
    ));
    let fresh = m.begin(&request(&cookie)).unwrap();
    assert!(fresh.is_new());
    assert_ne!(fresh.id(), s.id());
    assert!(store.stats().corrupt >= 2);
    // The store stays usable and nothing else is lost.
    assert_eq!(
        m.begin(&request(&other_cookie)).unwrap().get("keep"),
        Some(&Value::Int(2))
    );
    assert_eq!(
        store.clean(T0 + 1e9).unwrap(),
        2,
        "clean also removes the damaged record once expired"
    );
}

#[test]
fn store_errors_reach_the_caller() {
    let raw = MapStore::default();
    let store = Arc::new(CustomStore::new(raw));
    let (m, _) = manager_on(store.clone(), Options::default());
    let mut s = m.begin(&request("")).unwrap();
    s.set("k", Value::Int(1));
    let cookie = cookie_pair(&s.commit().unwrap().set_cookie.unwrap());
    store
        .raw()
        .fail
        .store(true, std::sync::atomic::Ordering::SeqCst);
    assert!(matches!(m.begin(&request(&cookie)), Err(Error::Custom(_))));
    store
        .raw()
        .fail
        .store(false, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(
        m.begin(&request(&cookie)).unwrap().get("k"),
        Some(&Value::Int(1))
    );
}

#[test]
fn bounded_memory_store_evicts_nearest_to_expiry_first() {
    let store = Arc::new(MemoryStore::new(Some(3)));
    let ids: Vec<_> = (0..5).map(|_| SessionId::generate().store_key()).collect();
    for (i, id) in ids.iter().enumerate() {
        // Expiries out of insertion order: 40, 10, 50, 20, 30
        let expires = [40.0, 10.0, 50.0, 20.0, 30.0][i];
        store
            .save(id, &Record::new(0.0, expires, Data::new()))
            .unwrap();
    }
    assert_eq!(store.len().unwrap(), 3);
    assert_eq!(store.stats().evicted, 2);
    let alive: Vec<bool> = ids
        .iter()
        .map(|id| store.load(id, 0.0).unwrap().is_some())
        .collect();
    // 10 went when the 4th arrived; then 20 (the nearest) when the 5th arrived.
    assert_eq!(alive, vec![true, false, true, false, true]);
}

#[test]
fn clear_and_remove_are_committed_per_key() {
    let (m, _) = manager(Options::default());
    let mut s = m.begin(&request("")).unwrap();
    s.set("a", Value::Int(1));
    s.set("b", Value::Int(2));
    let cookie = cookie_pair(&s.commit().unwrap().set_cookie.unwrap());
    let mut r = m.begin(&request(&cookie)).unwrap();
    assert_eq!(r.remove("a"), Some(Value::Int(1)));
    assert_eq!(r.remove("zzz"), None);
    assert!(r.modified());
    r.commit().unwrap();
    let mut r = m.begin(&request(&cookie)).unwrap();
    assert_eq!(r.keys().collect::<Vec<_>>(), vec!["b"]);
    r.clear();
    r.set("c", Value::Int(3));
    r.commit().unwrap();
    let r = m.begin(&request(&cookie)).unwrap();
    assert_eq!(r.keys().collect::<Vec<_>>(), vec!["c"]);
}

#[test]
fn bad_options_are_refused_when_the_manager_is_made() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::default());
    let err = SessionManager::new(
        store,
        Options {
            expire: -1.0,
            ..Options::default()
        },
    )
    .err()
    .unwrap();
    assert!(err.to_string().contains("expire"), "{err}");
}

#[test]
fn needs_write_says_whether_commit_would_write() {
    let (m, clock) = manager(Options {
        expire: 1000.0,
        ..Options::default()
    });
    let mut s = m.begin(&request("")).unwrap();
    assert!(!s.needs_write(), "a new untouched session is not stored");
    s.set("k", Value::Int(1));
    assert!(s.needs_write());
    let cookie = cookie_pair(&s.commit().unwrap().set_cookie.unwrap());
    assert!(!s.needs_write(), "nothing left after the commit");
    clock.advance(5.0);
    let loaded = m.begin(&request(&cookie)).unwrap();
    assert!(
        !loaded.needs_write(),
        "touch not yet due (expire/100 = 10 s)"
    );
    clock.advance(5.0);
    assert!(loaded.needs_write(), "touch due");
    let mut regenerated = m
        .begin(&Request {
            cookie: Some(cookie.as_bytes()),
            path: "/",
            ..Default::default()
        })
        .unwrap();
    regenerated.regenerate();
    assert!(regenerated.needs_write(), "the old id must be deleted");
}

#[test]
fn after_commit_a_session_shows_the_stored_record_on_every_store() {
    let dir = tempfile::tempdir().unwrap();
    let stores: [Arc<dyn Store>; 3] = [
        Arc::new(MemoryStore::default()),
        Arc::new(DbmStore::open(dir.path()).unwrap()),
        Arc::new(CustomStore::new(MapStore::default())),
    ];
    for store in stores {
        let (m, clock) = manager_on(store, Options::default());
        let mut first = m.begin(&request("")).unwrap();
        first.set("n", Value::Int(1));
        let cookie = cookie_pair(&first.commit().unwrap().set_cookie.unwrap());
        clock.advance(1.0);
        let mut a = m.begin(&request(&cookie)).unwrap();
        let mut b = m.begin(&request(&cookie)).unwrap();
        b.set("x", Value::Int(2));
        assert!(b.commit().unwrap().committed);
        a.set("y", Value::Int(3));
        assert!(a.commit().unwrap().committed);
        // Its own change, and what it loaded, whatever the store.
        assert_eq!(a.get("y"), Some(&Value::Int(3)));
        assert_eq!(a.get("n"), Some(&Value::Int(1)));
        // B's key, merged in by the store: every store returns the stored
        // record from a commit, so A shows it too.
        assert_eq!(a.get("x"), Some(&Value::Int(2)));
        let stored = m.begin(&request(&cookie)).unwrap();
        assert_eq!(stored.keys().collect::<Vec<_>>(), ["n", "x", "y"]);
        // A later change on A still commits only its own key.
        a.set("z", Value::Int(4));
        assert!(a.commit().unwrap().committed);
        assert_eq!(m.begin(&request(&cookie)).unwrap().len(), 4);
    }
}

#[test]
fn a_browser_session_cookie_has_no_max_age_nor_expires() {
    let (m, clock) = manager(Options {
        expire: 600.0,
        touch_interval: Some(0.0),
        ..Options::default()
    });
    let mut s = m.begin(&request("")).unwrap();
    assert!(s.persistent_cookie(), "persistent by default");
    s.set_persistent_cookie(false);
    s.set("k", Value::Int(1));
    let set = s
        .commit()
        .unwrap()
        .set_cookie
        .expect("a new session sets a cookie");
    assert!(
        !set.contains("Max-Age") && !set.contains("Expires"),
        "{set}"
    );
    assert!(set.contains("; Path=/"), "{set}");
    // The server still expires it after `expire` seconds.
    let cookie = cookie_pair(&set);
    clock.advance(599.0);
    let mut s = m.begin(&request(&cookie)).unwrap();
    assert!(!s.is_new());
    // A touch re-sends it in the form the request asks for.
    let set = s
        .commit()
        .unwrap()
        .set_cookie
        .expect("a touch re-sends the cookie");
    assert!(set.contains("Max-Age=600"), "{set}");
    let mut s = m.begin(&request(&cookie)).unwrap();
    s.set_persistent_cookie(false);
    s.invalidate();
    let set = s
        .commit()
        .unwrap()
        .set_cookie
        .expect("invalidation expires the cookie");
    assert!(
        set.contains("Max-Age=0"),
        "the expiring cookie keeps Max-Age=0: {set}"
    );
}

#[test]
fn touch_stores_an_empty_new_session_and_never_resurrects() {
    let store = Arc::new(MemoryStore::default());
    let (m, _) = manager_on(store.clone(), Options::default());
    let mut s = m.begin(&request("")).unwrap();
    assert!(!s.needs_write());
    s.touch();
    assert!(s.needs_write());
    let set = s
        .commit()
        .unwrap()
        .set_cookie
        .expect("stored, so the cookie is set");
    assert_eq!(store.len().unwrap(), 1);
    let cookie = cookie_pair(&set);
    let loaded = m.begin(&request(&cookie)).unwrap();
    assert!(!loaded.is_new() && loaded.is_empty());
    // Once only: the next commit of an unchanged session writes nothing.
    let mut s = m.begin(&request(&cookie)).unwrap();
    s.touch();
    s.commit().unwrap();
    assert!(!s.needs_write());
    // Deleted meanwhile: a touch does not bring it back.
    let mut stale = m.begin(&request(&cookie)).unwrap();
    let mut other = m.begin(&request(&cookie)).unwrap();
    other.invalidate();
    other.commit().unwrap();
    stale.touch();
    assert!(!stale.commit().unwrap().committed);
    assert_eq!(store.len().unwrap(), 0);
}

#[test]
fn set_expire_after_begin_is_the_expiry_the_commit_stores() {
    let (m, clock) = manager(Options {
        expire: 3600.0,
        ..Default::default()
    });
    let mut s = m.begin(&request("")).unwrap();
    assert!(matches!(
        s.set_expire(f64::NAN),
        Err(Error::Config {
            option: "expire",
            ..
        })
    ));
    assert_eq!(s.expire(), 3600.0, "a refused expire changes nothing");
    s.set_expire(30.0).unwrap();
    assert_eq!(s.expires_at(), T0 + 30.0);
    s.set("k", Value::Int(1));
    let cookie = cookie_pair(&s.commit().unwrap().set_cookie.unwrap());
    clock.advance(31.0);
    assert!(
        m.begin(&request(&cookie)).unwrap().is_new(),
        "expired after 30 s"
    );
}
