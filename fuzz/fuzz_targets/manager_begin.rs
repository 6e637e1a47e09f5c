//! `SessionManager::begin` on arbitrary request parts, against an empty
//! MemoryStore, with a strict and a non-strict manager that both read the id
//! from cookie, query string and form body.
//!
//! Input layout: one flag byte, then cookie, query, form and path separated
//! by NUL bytes (the path takes everything after the third NUL, read as
//! lossy UTF-8). Flag bits 0-2 say whether cookie, query and form are present
//! at all (`None` and an empty header are different inputs); bit 3 puts the
//! session under `/app` instead of `/`; bit 4 reverses the transport order.
//!
//! Whatever the request, begin succeeds; the strict manager never adopts an
//! id it does not know, so its session is new and its id is not the
//! request's; the non-strict one adopts the first well-formed id under the
//! session path; and committing an untouched session stores nothing and sets
//! no cookie.

#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use spysession_core::http::path_matches;
use spysession_core::{MemoryStore, Options, Request, SessionManager, Store, Transport};

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let mut parts = rest.splitn(4, |&b| b == 0);
    let (cookie, query, form) = (parts.next(), parts.next(), parts.next());
    let path = String::from_utf8_lossy(parts.next().unwrap_or_default());
    let request = Request {
        cookie: cookie.filter(|_| flags & 1 != 0),
        query: query.filter(|_| flags & 2 != 0),
        form: form.filter(|_| flags & 4 != 0),
        path: &path,
    };
    let session_path = if flags & 8 != 0 { "/app" } else { "/" };
    let mut transports = vec![Transport::Cookie, Transport::Get, Transport::Post];
    if flags & 16 != 0 {
        transports.reverse();
    }

    for strict in [true, false] {
        let store = Arc::new(MemoryStore::default());
        let options = Options {
            path: session_path.into(),
            transports: transports.clone(),
            strict,
            ..Options::default()
        };
        let manager = SessionManager::new(store.clone(), options).expect("valid options");
        let found = manager.find_id(&request);
        let mut session = manager.begin(&request).expect("begin never fails on input");

        assert!(session.is_new(), "an empty store gave a stored session");
        assert!(session.data().is_empty() && !session.modified());
        if strict {
            assert_ne!(
                Some(session.id()),
                found,
                "strict mode adopted an unknown id"
            );
        } else if path_matches(request.path, session_path) {
            if let Some(id) = found {
                assert_eq!(session.id(), id, "non-strict mode did not adopt the id");
            }
        }

        let result = session.commit().expect("commit of an untouched session");
        assert!(result.committed);
        assert_eq!(result.set_cookie, None, "an untouched session set a cookie");
        assert_eq!(
            store.len().expect("MemoryStore len"),
            0,
            "commit stored a record"
        );
    }
});
