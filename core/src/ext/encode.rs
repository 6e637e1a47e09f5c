//! Writing ext data: [`ExtValue::encode`], each layout as documented on
//! its variant of [`ExtValue`].

use super::{Date, Decimal, ExtValue, Time, AWARE, FOLD};
use crate::value::Value;

impl ExtValue {
    /// The ext data of this value, laid out as documented on its variant.
    /// (Encoding does not validate: a value built by hand with a month 13
    /// encodes, and then fails [`ExtValue::decode`].)
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            ExtValue::Pickle { tag, pickle } => {
                out.extend_from_slice(tag);
                out.extend_from_slice(pickle);
            }
            ExtValue::Tuple(items) | ExtValue::Set(items) | ExtValue::FrozenSet(items) => {
                // The elements go as they are: `Value::List`'s encoding
                // without copying them into one.
                write_array(&mut out, items);
            }
            ExtValue::DateTime(dt) => {
                put_date(&mut out, &dt.date);
                put_time(&mut out, &dt.time);
            }
            ExtValue::Date(d) => put_date(&mut out, d),
            ExtValue::Time(t) => put_time(&mut out, t),
            ExtValue::TimeDelta(td) => {
                out.extend_from_slice(&td.days.to_be_bytes());
                out.extend_from_slice(&td.seconds.to_be_bytes());
                out.extend_from_slice(&td.microseconds.to_be_bytes());
            }
            ExtValue::Uuid(bytes) => out.extend_from_slice(bytes),
            ExtValue::Decimal(d) => put_decimal(&mut out, d),
            ExtValue::BigInt(bytes) => out.extend_from_slice(bytes),
        }
        out
    }
}

fn write_array(out: &mut Vec<u8>, items: &[Value]) {
    // The MessagePack array header: fixarray, array 16 or array 32.
    let len = items.len();
    if len < 16 {
        out.push(0x90 | len as u8);
    } else if let Ok(len) = u16::try_from(len) {
        out.push(0xdc);
        out.extend_from_slice(&len.to_be_bytes());
    } else {
        let len = u32::try_from(len).expect("fewer than 2^32 elements");
        out.push(0xdd);
        out.extend_from_slice(&len.to_be_bytes());
    }
    // Writing a Value into a Vec cannot fail.
    for item in items {
        rmp_serde::encode::write(out, item).expect("a Value always encodes");
    }
}

fn put_date(out: &mut Vec<u8>, d: &Date) {
    out.extend_from_slice(&d.year.to_be_bytes());
    out.push(d.month);
    out.push(d.day);
}

fn put_time(out: &mut Vec<u8>, t: &Time) {
    out.extend_from_slice(&[t.hour, t.minute, t.second]);
    out.extend_from_slice(&t.microsecond.to_be_bytes());
    let flags = (u8::from(t.fold) * FOLD) | (u8::from(t.utc_offset.is_some()) * AWARE);
    out.push(flags);
    if let Some(offset) = t.utc_offset {
        out.extend_from_slice(&offset.to_be_bytes());
    }
}

fn put_decimal(out: &mut Vec<u8>, d: &Decimal) {
    let (negative, kind, exponent, digits) = match d {
        Decimal::Finite {
            negative,
            exponent,
            digits,
        } => (*negative, 0, *exponent, digits.as_str()),
        Decimal::Infinity { negative } => (*negative, 1, 0, ""),
        Decimal::NaN {
            negative,
            signaling,
            payload,
        } => (*negative, 2 + u8::from(*signaling), 0, payload.as_str()),
    };
    out.push(u8::from(negative));
    out.push(kind);
    out.extend_from_slice(&exponent.to_be_bytes());
    out.extend_from_slice(digits.as_bytes());
}
