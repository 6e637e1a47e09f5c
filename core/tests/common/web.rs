//! What a browser does between requests: send the cookie back.

use spysession_core::{Request, Session};

/// A request at "/" carrying `cookie` as its Cookie header ("" for none).
pub fn request(cookie: &str) -> Request<'_> {
    Request {
        cookie: Some(cookie.as_bytes()),
        path: "/",
        ..Default::default()
    }
}

/// The `name=value` part of a Set-Cookie value, as a browser sends it back.
pub fn cookie_pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_string()
}

/// Commits `session` (which must set a cookie: a new or renewed session)
/// and returns the cookie a browser would send back.
pub fn commit_for_cookie(session: &mut Session) -> String {
    let outcome = session.commit().unwrap();
    assert!(outcome.committed, "the commit was dropped");
    cookie_pair(&outcome.set_cookie.expect("the commit sets a cookie"))
}
