//! `http::cookie_values` on an arbitrary Cookie header and cookie name.
//!
//! Beyond "does not panic": every value is a slice of the header holding no
//! `;`, and a well-formed `name=id` pair appended after any bytes is always
//! found, last.

#![no_main]

use libfuzzer_sys::fuzz_target;
use spysession_core::http::{cookie_values, is_token};
use spysession_fuzz::{split_name, KNOWN_ID};

fuzz_target!(|data: &[u8]| {
    let (name, header) = split_name(data);
    let bounds = header.as_ptr_range();
    let mut count = 0;
    for value in cookie_values(header, &name) {
        let inside = value.as_ptr_range();
        assert!(bounds.start <= inside.start && inside.end <= bounds.end);
        assert!(!value.contains(&b';'), "a value runs past a ';'");
        count += 1;
    }
    assert!(count <= header.iter().filter(|&&b| b == b';').count() + 1);

    if is_token(&name) && !name.contains('=') {
        let mut with_pair = header.to_vec();
        with_pair.extend_from_slice(format!("; {name}={KNOWN_ID}").as_bytes());
        let found: Vec<&[u8]> = cookie_values(&with_pair, &name).collect();
        assert_eq!(found.len(), count + 1);
        assert_eq!(found.last().copied(), Some(KNOWN_ID.as_bytes()));
    }
});
