//! The bad-input table (docs/reliability.md): each row is hostile or broken input; each
//! gets the documented error or a fresh session, and nothing stored is lost.

mod common;

use std::sync::Arc;

use common::web::{commit_for_cookie, cookie_pair};
use spysession_core::*;

struct Site {
    store: Arc<DbmStore>,
    manager: SessionManager,
    /// A session stored before any bad input arrives: it must survive all of it.
    keeper: String,
    _dir: tempfile::TempDir,
}

fn site(options: Options) -> Site {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(DbmStore::open(dir.path()).unwrap());
    let manager = SessionManager::new(store.clone(), options).unwrap();
    let mut s = manager
        .begin(&Request {
            path: "/",
            ..Default::default()
        })
        .unwrap();
    s.set("precious", Value::Str("data".into()));
    let keeper = commit_for_cookie(&mut s);
    Site {
        store,
        manager,
        keeper,
        _dir: dir,
    }
}

impl Site {
    fn assert_nothing_lost(&self) {
        let s = self
            .manager
            .begin(&Request {
                cookie: Some(self.keeper.as_bytes()),
                path: "/",
                ..Default::default()
            })
            .unwrap();
        assert_eq!(s.get("precious"), Some(&Value::Str("data".into())));
    }

    /// Begins a session from a hostile request: it must be a fresh one.
    fn assert_fresh(&self, request: Request<'_>, what: &str) {
        let mut s = self
            .manager
            .begin(&request)
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(s.is_new(), "{what}: adopted a session");
        let before = self.store.len().unwrap();
        s.commit().unwrap();
        assert_eq!(
            self.store.len().unwrap(),
            before,
            "{what}: stored something"
        );
        self.assert_nothing_lost();
    }
}

fn cookie(bytes: &[u8]) -> Request<'_> {
    Request {
        cookie: Some(bytes),
        path: "/",
        ..Default::default()
    }
}

#[test]
fn hostile_cookies_give_fresh_sessions() {
    let site = site(Options::default());
    let huge = vec![b'a'; 1 << 20];
    let mut huge_cookie = b"spysession=".to_vec();
    huge_cookie.extend_from_slice(&huge);
    let valid = SessionId::generate().to_string();
    let rows: Vec<(&str, Vec<u8>)> = vec![
        ("empty", b"".to_vec()),
        ("oversized 1 MB", huge_cookie),
        ("binary", (0u8..=255).collect()),
        ("wrong length", b"spysession=0123456789abcdef".to_vec()),
        (
            "uppercase",
            format!("spysession={}", valid.to_uppercase()).into_bytes(),
        ),
        (
            "non-hex",
            b"spysession=0123456789abcdefghijklmnopqrstuv".to_vec(),
        ),
        (
            "with NUL",
            format!("spysession={}\0", &valid[..31]).into_bytes(),
        ),
        (
            "with ;",
            format!("spysession={};{}", &valid[..16], &valid[16..]).into_bytes(),
        ),
        (
            "with CRLF",
            format!("spysession={}\r\n{}", &valid[..16], &valid[16..]).into_bytes(),
        ),
        (
            "unknown well-formed (strict)",
            format!("spysession={valid}").into_bytes(),
        ),
    ];
    for (what, bytes) in &rows {
        site.assert_fresh(cookie(bytes), what);
    }
}

#[test]
fn duplicate_cookies_and_ids_take_the_first_well_formed() {
    let site = site(Options {
        transports: vec![Transport::Get, Transport::Cookie],
        ..Options::default()
    });
    let keeper_id = site.keeper.split('=').nth(1).unwrap().to_string();
    let other = SessionId::generate().to_string();
    // Duplicate cookies: junk first, then the real one, then another.
    let header = format!("spysession=junk; spysession={keeper_id}; spysession={other}");
    let s = site.manager.begin(&cookie(header.as_bytes())).unwrap();
    assert_eq!(s.id().to_string(), keeper_id);
    // A query string with the id twice: the first wins, and here it is unknown.
    let query = format!("spysession={other}&spysession={keeper_id}");
    let s = site
        .manager
        .begin(&Request {
            query: Some(query.as_bytes()),
            path: "/",
            ..Default::default()
        })
        .unwrap();
    assert!(
        s.is_new(),
        "the first id (unknown) wins; strict issues a new one"
    );
    assert_ne!(s.id().to_string(), other);
    site.assert_nothing_lost();
}

#[test]
fn an_expired_id_gives_a_fresh_session() {
    let clock = common::TestClock::at(1000.0);
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(DbmStore::open(dir.path()).unwrap());
    let m = SessionManager::with_clock(
        store,
        Options {
            expire: 10.0,
            ..Options::default()
        },
        clock.as_clock(),
    )
    .unwrap();
    let mut s = m.begin(&Request::default()).unwrap();
    s.set("k", Value::Int(1));
    let c = commit_for_cookie(&mut s);
    clock.advance(10.0);
    let again = m.begin(&cookie(c.as_bytes())).unwrap();
    assert!(again.is_new());
    assert_ne!(again.id(), s.id());
}

#[test]
fn a_full_map_is_store_full_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // The smallest map LMDB takes a few records into.
    let store = Arc::new(
        DbmStore::open_with(
            dir.path(),
            DbmOptions {
                map_size: 64 * 1024,
                durable: false,
            },
        )
        .unwrap(),
    );
    let m = SessionManager::new(store.clone(), Options::default()).unwrap();
    let mut kept = Vec::new();
    let full = loop {
        let mut s = m.begin(&Request::default()).unwrap();
        s.set("blob", Value::Bytes(vec![7; 2000]));
        match s.commit() {
            Ok(r) => kept.push(cookie_pair(&r.set_cookie.unwrap())),
            Err(e) => break e,
        }
        assert!(kept.len() < 10_000, "the map never filled");
    };
    assert!(matches!(full, Error::StoreFull), "{full:?}");
    assert!(full.to_string().contains("map_size"));
    assert!(!kept.is_empty());
    for c in &kept {
        assert_eq!(
            m.begin(&cookie(c.as_bytes())).unwrap().get("blob"),
            Some(&Value::Bytes(vec![7; 2000]))
        );
    }
    // The remedy the error names: reopen with a bigger map; all is still there.
    drop(m);
    drop(store);
    let store = Arc::new(
        DbmStore::open_with(
            dir.path(),
            DbmOptions {
                map_size: 1 << 22,
                durable: false,
            },
        )
        .unwrap(),
    );
    let m = SessionManager::new(store.clone(), Options::default()).unwrap();
    let mut s = m.begin(&Request::default()).unwrap();
    s.set("small", Value::Int(1));
    assert!(s.commit().unwrap().committed);
    for c in &kept {
        assert_eq!(
            m.begin(&cookie(c.as_bytes())).unwrap().get("blob"),
            Some(&Value::Bytes(vec![7; 2000]))
        );
    }
}

#[test]
fn unusable_store_paths_are_io_errors() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"not a directory").unwrap();
    assert!(matches!(DbmStore::open(&file), Err(Error::Io(_))));
    assert!(matches!(
        DbmStore::open(file.join("below-a-file")),
        Err(Error::Io(_))
    ));
    assert_eq!(
        std::fs::read(&file).unwrap(),
        b"not a directory",
        "nothing overwritten"
    );
}

#[test]
fn a_read_only_store_directory_is_an_error_not_a_panic() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let ro = dir.path().join("ro");
    std::fs::create_dir(&ro).unwrap();
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
    let result = DbmStore::open(&ro);
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755)).unwrap();
    // root may write anywhere: then the open succeeds, which is also no panic.
    if !is_root() {
        assert!(
            matches!(result, Err(Error::Lmdb(_)) | Err(Error::Io(_))),
            "{:?}",
            result.err()
        );
    }
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .map(|s| {
            s.lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

#[test]
fn config_values_that_would_split_a_header_are_refused() {
    for (options, option) in [
        (
            Options {
                path: "/\r\nSet-Cookie: admin=1".into(),
                ..Options::default()
            },
            "path",
        ),
        (
            Options {
                domain: Some("a.com\r\nX: y".into()),
                ..Options::default()
            },
            "domain",
        ),
        (
            Options {
                cookie_name: "a\nb".into(),
                ..Options::default()
            },
            "cookie_name",
        ),
        (
            Options {
                path: "/a;Domain=evil.com".into(),
                ..Options::default()
            },
            "path",
        ),
    ] {
        let err = SessionManager::new(Arc::new(MemoryStore::default()), options)
            .err()
            .unwrap();
        assert!(
            matches!(err, Error::Config { option: o, .. } if o == option),
            "{err}"
        );
    }
}

#[test]
fn a_million_generated_ids_are_unique_and_well_formed() {
    let mut seen = std::collections::HashSet::with_capacity(1_000_000);
    for _ in 0..1_000_000 {
        let id = SessionId::generate();
        assert!(SessionId::is_valid(id.to_hex()));
        assert!(seen.insert(id), "duplicate id {id}");
    }
}

#[test]
fn strict_mode_is_on_by_default_and_cookies_are_hardened() {
    let options = Options::default();
    assert!(options.strict);
    assert!(options.httponly);
    assert_eq!(options.samesite, Some(SameSite::Lax));
    let m = SessionManager::new(
        Arc::new(MemoryStore::default()),
        Options {
            secure: true,
            ..options
        },
    )
    .unwrap();
    let mut s = m.begin(&Request::default()).unwrap();
    s.set("k", Value::Int(1));
    let set = s.commit().unwrap().set_cookie.unwrap();
    assert!(
        set.contains("; HttpOnly") && set.contains("; SameSite=Lax") && set.contains("; Secure"),
        "{set}"
    );
}
