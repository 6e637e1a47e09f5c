//! The properties the fuzz targets check, one `check_*` function per target.
//!
//! Each takes the raw fuzz input and panics when a property fails. The
//! libFuzzer targets in `fuzz_targets/` call them, and the core's
//! `tests/fuzz_regressions.rs` includes this file to replay every committed
//! input under `fuzz/corpus/` on the stable toolchain in `make test`: a crash
//! found by fuzzing is kept as a regression test by copying its input there.
//!
//! Round-trip checks compare floats bit for bit: a record may hold NaN, and
//! `NaN != NaN` would make `PartialEq` report a lossless round trip as a
//! failure.

use std::sync::Arc;

use spysession_core::ext::ExtValue;
use spysession_core::http::{cookie_values, form_values, is_token, path_matches};
use spysession_core::{
    Inspect, MemoryStore, Options, Record, Request, SessionId, SessionManager, Transport, Value,
    FORMAT_VERSION, ID_LEN,
};

/// `http::cookie_values` on an arbitrary Cookie header and cookie name.
///
/// Beyond "does not panic": every value is a slice of the header holding no
/// `;`, and a well-formed `name=id` pair appended after any bytes is always
/// found, last.
pub fn check_cookie_header(data: &[u8]) {
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
}

/// `http::form_values` on an arbitrary query string or form body.
///
/// Beyond "does not panic": there are never more values than `&`-separated
/// pairs, and a `name=id` pair appended after any bytes is always found, last.
pub fn check_form_values(data: &[u8]) {
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
}

/// `SessionId::parse` on arbitrary bytes: accepted exactly when the input is
/// 32 lowercase hex characters, and an accepted id writes back the same bytes.
pub fn check_session_id(data: &[u8]) {
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
}

/// `Record::decode` (the engine's one record reader) on arbitrary bytes:
/// refused without panicking, or accepted with times that are numbers and
/// read as serde (the oracle) reads them; then encode followed by decode
/// gives the same record (floats compared bit for bit) and the same bytes.
pub fn check_record_decode(data: &[u8]) {
    let Ok(record) = Record::decode(data) else {
        return;
    };
    let general = Record::decode_with_serde(data).expect("serde refuses what the reader takes");
    assert!(
        same_record(&record, &general),
        "{record:?} but serde {general:?}"
    );
    assert_eq!(record.version, FORMAT_VERSION);
    assert!(record.created.is_finite() && record.accessed.is_finite());
    assert!(!record.expires_at.is_nan());

    let encoded = record.encode();
    let again = Record::decode(&encoded).expect("an encoded record decodes");
    assert!(same_record(&record, &again), "{record:?} became {again:?}");
    assert_eq!(again.encode(), encoded, "encoding is not stable");
}

/// `ExtValue::decode` (spysession's own ext types) on arbitrary data.
///
/// Input layout: the first byte, as a signed byte, remainder by 16, is the
/// ext code (-15 to 15: every defined code and undefined ones around
/// them); the rest is the ext data. Beyond "does not panic": undefined codes are opaque
/// (`Ok(None)`); accepted data has the code it was read under and encodes
/// back to the same bytes; and the elements of tuples and sets, decoded in
/// turn as a reader walking into them would, obey the same rules. (Tuple
/// and set elements are MessagePack, which has more than one encoding of a
/// value: those round-trip as values, the rest byte for byte.)
pub fn check_ext_decode(data: &[u8]) {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    check_ext(first as i8 % 16, rest, 0);
}

fn check_ext(code: i8, data: &[u8], depth: usize) {
    let decoded = ExtValue::decode(code, data);
    let defined = (1..=11).contains(&code);
    let value = match decoded {
        Ok(None) => {
            assert!(!defined, "code {code} is defined but read as opaque");
            return;
        }
        Ok(Some(value)) => value,
        Err(e) => {
            assert!(defined, "code {code} is not defined but refused: {e}");
            assert_eq!(e.code, code);
            return;
        }
    };
    assert_eq!(value.code(), code);
    let encoded = value.encode();
    assert_eq!(
        value.clone().into_value(),
        Value::Ext(code, encoded.clone())
    );
    if let ExtValue::Tuple(items) | ExtValue::Set(items) | ExtValue::FrozenSet(items) = &value {
        // Elements are read as MessagePack, which has several encodings of
        // one value (an int in more bytes than it needs, a float 32): they
        // come back as the same values, in the canonical encoding.
        let again = ExtValue::decode(code, &encoded).expect("an encoded ext decodes");
        let Some(ExtValue::Tuple(again) | ExtValue::Set(again) | ExtValue::FrozenSet(again)) =
            again
        else {
            panic!("{value:?} changed kind");
        };
        assert!(
            items.len() == again.len() && items.iter().zip(&again).all(|(a, b)| same_value(a, b)),
            "{items:?} became {again:?}"
        );
        // Bounded: each level costs input bytes, and fuzz inputs are small.
        if depth < 64 {
            for item in items {
                walk_exts(item, depth + 1);
            }
        }
    } else {
        assert_eq!(encoded, data, "{value:?} does not encode back");
    }
}

fn walk_exts(value: &Value, depth: usize) {
    match value {
        Value::Ext(code, data) => check_ext(*code, data, depth),
        Value::List(items) => items.iter().for_each(|v| walk_exts(v, depth)),
        Value::Map(map) => map.values().for_each(|v| walk_exts(v, depth)),
        _ => {}
    }
}

/// `Value::from_msgpack` on arbitrary bytes: refused without panicking, or
/// accepted and then `to_msgpack` followed by `from_msgpack` gives the same
/// value (floats compared bit for bit) and the same bytes.
pub fn check_value_msgpack(data: &[u8]) {
    let Ok(value) = Value::from_msgpack(data) else {
        return;
    };
    let encoded = value.to_msgpack();
    let again = Value::from_msgpack(&encoded).expect("an encoded value decodes");
    assert!(same_value(&value, &again), "{value:?} became {again:?}");
    assert_eq!(again.to_msgpack(), encoded, "encoding is not stable");
}

/// `SessionManager::begin` on arbitrary request parts, against an empty
/// MemoryStore, with a strict and a non-strict manager that both read the id
/// from cookie, query string and form body.
///
/// Input layout: one flag byte, then cookie, query, form and path separated
/// by NUL bytes (the path takes everything after the third NUL, read as
/// lossy UTF-8). Flag bits 0-2 say whether cookie, query and form are present
/// at all (`None` and an empty header are different inputs); bit 3 puts the
/// session under `/app` instead of `/`; bit 4 reverses the transport order.
///
/// Whatever the request, begin succeeds; the strict manager never adopts an
/// id it does not know, so its session is new and its id is not the
/// request's; the non-strict one adopts the first well-formed id under the
/// session path; and committing an untouched session stores nothing and sets
/// no cookie.
pub fn check_manager_begin(data: &[u8]) {
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
        assert!(session.is_empty() && !session.modified());
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
}

/// True when `a` and `b` hold the same value, floats compared by their bits.
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
        (Value::List(x), Value::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_value(x, y))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((kx, vx), (ky, vy))| kx == ky && same_value(vx, vy))
        }
        _ => a == b,
    }
}

/// True when `a` and `b` are the same record, floats compared by their bits.
fn same_record(a: &Record, b: &Record) -> bool {
    a.version == b.version
        && a.created.to_bits() == b.created.to_bits()
        && a.accessed.to_bits() == b.accessed.to_bits()
        && a.expires_at.to_bits() == b.expires_at.to_bits()
        && a.data.len() == b.data.len()
        && a.data
            .iter()
            .zip(&b.data)
            .all(|((ka, va), (kb, vb))| ka == kb && same_value(va, vb))
}

/// A name to look for, taken from the input so that names other than the
/// default are tried too: a first byte below 0x80 means the default
/// `spysession`; otherwise its low four bits give how many of the following
/// bytes form the name. Returns the name and the rest of the input.
fn split_name(data: &[u8]) -> (String, &[u8]) {
    match data.split_first() {
        Some((&first, rest)) if first >= 0x80 => {
            let len = usize::from(first & 0x0f).min(rest.len());
            let (name, rest) = rest.split_at(len);
            (String::from_utf8_lossy(name).into_owned(), rest)
        }
        Some((_, rest)) => ("spysession".to_owned(), rest),
        None => ("spysession".to_owned(), data),
    }
}

/// A well-formed session id used to check that a pair appended after
/// arbitrary bytes is still found.
const KNOWN_ID: &str = "0123456789abcdef0123456789abcdef";
