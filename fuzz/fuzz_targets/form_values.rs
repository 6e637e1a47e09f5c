//! `http::form_values` on an arbitrary query string or form body.
//!
//! Beyond "does not panic": there are never more values than `&`-separated
//! pairs, and a `name=id` pair appended after any bytes is always found, last.

#![no_main]

use libfuzzer_sys::fuzz_target;
use spysession_core::http::form_values;
use spysession_fuzz::{split_name, KNOWN_ID};

fuzz_target!(|data: &[u8]| {
    let (name, body) = split_name(data);
    let values = form_values(body, &name);
    assert!(values.len() <= body.iter().filter(|&&b| b == b'&').count() + 1);

    // Names that need no percent-encoding can be appended literally.
    let plain = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.');
    if plain {
        let mut with_pair = body.to_vec();
        with_pair.extend_from_slice(format!("&{name}={KNOWN_ID}").as_bytes());
        let found = form_values(&with_pair, &name);
        assert_eq!(found.len(), values.len() + 1);
        assert_eq!(found.last().map(String::as_str), Some(KNOWN_ID));
    }
});
