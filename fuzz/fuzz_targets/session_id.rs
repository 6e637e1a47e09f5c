//! `SessionId::parse` on arbitrary bytes: accepted exactly when the input is
//! 32 lowercase hex characters, and an accepted id writes back the same bytes.

#![no_main]

use libfuzzer_sys::fuzz_target;
use spysession_core::{SessionId, ID_LEN};

fuzz_target!(|data: &[u8]| {
    let parsed = SessionId::parse(data);
    let well_formed =
        data.len() == ID_LEN && data.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    assert_eq!(parsed.is_ok(), well_formed, "parse disagrees on {data:?}");
    assert_eq!(SessionId::is_valid(data), well_formed);
    if let Ok(text) = std::str::from_utf8(data) {
        assert_eq!(
            text.parse::<SessionId>().ok(),
            parsed.as_ref().ok().copied()
        );
    }
    if let Ok(id) = parsed {
        assert_eq!(id.to_string().as_bytes(), data);
        assert_eq!(&id.to_hex()[..], data);
        assert_eq!(SessionId::from_bytes(*id.as_bytes()), id);
    }
});
