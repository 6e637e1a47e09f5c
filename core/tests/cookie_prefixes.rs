//! `__Host-` and `__Secure-` cookie names (SPEC §3): refused at manager
//! construction without the attributes browsers demand, and a page cannot
//! move a `__Host-` cookie off `/`.

use std::sync::Arc;

use spysession_core::*;

fn manager(options: Options) -> Result<SessionManager> {
    SessionManager::new(Arc::new(MemoryStore::default()), options)
}

fn refused_option(options: Options) -> &'static str {
    match manager(options) {
        Err(Error::Config { option, .. }) => option,
        Err(other) => panic!("refused for another reason: {other}"),
        Ok(_) => panic!("accepted"),
    }
}

#[test]
fn prefixed_names_without_their_attributes_are_refused() {
    let host = Options {
        cookie_name: "__Host-sid".into(),
        secure: true,
        ..Options::default()
    };
    assert_eq!(
        refused_option(Options {
            secure: false,
            ..host.clone()
        }),
        "cookie_name"
    );
    assert_eq!(
        refused_option(Options {
            domain: Some("example.com".into()),
            ..host.clone()
        }),
        "cookie_name"
    );
    assert_eq!(
        refused_option(Options {
            path: "/shop".into(),
            ..host.clone()
        }),
        "cookie_name"
    );
    assert_eq!(
        refused_option(Options {
            cookie_name: "__Secure-sid".into(),
            ..Options::default()
        }),
        "cookie_name"
    );
}

#[test]
fn a_host_cookie_is_set_with_what_its_prefix_demands() {
    let m = manager(Options {
        cookie_name: "__Host-sid".into(),
        secure: true,
        ..Options::default()
    })
    .unwrap();
    let request = Request {
        path: "/",
        ..Default::default()
    };
    let mut s = m.begin(&request).unwrap();
    s.set("k", Value::Int(1));
    let cookie = s.commit().unwrap().set_cookie.unwrap();
    assert!(cookie.starts_with("__Host-sid="), "{cookie}");
    assert!(
        cookie.contains("; Path=/;") || cookie.contains("; Path=/"),
        "{cookie}"
    );
    assert!(
        cookie.contains("Secure") && !cookie.contains("Domain"),
        "{cookie}"
    );
    // A page may not move it under another path.
    let page = PageOptions {
        session_path: Some("/shop".into()),
        ..Default::default()
    };
    match m.begin_with(&request, &page) {
        Err(Error::Config { option, .. }) => assert_eq!(option, "session_path"),
        other => panic!("not refused: {other:?}"),
    }
}
