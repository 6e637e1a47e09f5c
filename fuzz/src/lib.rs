//! Helpers shared by the fuzz targets.
//!
//! Round-trip checks compare values with floats taken bit for bit: a record
//! may legitimately hold NaN, and `NaN != NaN` would make `PartialEq` report
//! a round trip that lost nothing as a failure.

use spysession_core::{Record, Value};

/// True when `a` and `b` hold the same value, floats compared by their bits.
pub fn same_value(a: &Value, b: &Value) -> bool {
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
pub fn same_record(a: &Record, b: &Record) -> bool {
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
pub fn split_name(data: &[u8]) -> (String, &[u8]) {
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
pub const KNOWN_ID: &str = "0123456789abcdef0123456789abcdef";
