//! spysession's own MessagePack extension types: the byte layout of each
//! value type beyond the native ones (tuple, set, datetime, ...), so that a
//! C program, another language or a later version reads them without
//! Python, and never through a pickle.
//!
//! A value of one of these types is stored as a MessagePack ext value
//! ([`Value::Ext`]) whose type code is one of the `EXT_*` constants below
//! and whose data is laid out as documented on [`ExtValue`]'s variants (all
//! integers big-endian). `docs/format.md` has the same table with a hex
//! example of each. Codes 1 to 31 are reserved for spysession
//! ([`is_reserved`]); any other code is an opaque ext that every binding
//! hands through unchanged.
//!
//! Decoding is strict: a reserved code whose data does not have exactly
//! the documented layout (wrong length, a month 13, a non-minimal big
//! integer, digits that are not digits, ...) is an [`ExtError`], which a
//! binding treats as a corrupt record. Every layout but the containers'
//! has one encoding per value: for data [`ExtValue::decode`] accepts,
//! [`ExtValue::encode`] gives the same bytes back. Tuple and set elements
//! are MessagePack values, which may be written in more than one way (an
//! int in more bytes than it needs, a float 32): they come back as the same
//! values, written the way this crate writes MessagePack.

use std::fmt;

use crate::value::{Value, EXT_PICKLE};

/// A tuple: data is one MessagePack array of the elements.
pub const EXT_TUPLE: i8 = 2;
/// A set: data is one MessagePack array of the elements (writers sort them
/// by their MessagePack bytes; readers accept any order).
pub const EXT_SET: i8 = 3;
/// A frozenset: same layout as [`EXT_SET`].
pub const EXT_FROZENSET: i8 = 4;
/// A datetime: see [`DateTime`].
pub const EXT_DATETIME: i8 = 5;
/// A date: see [`Date`].
pub const EXT_DATE: i8 = 6;
/// A time of day: see [`Time`].
pub const EXT_TIME: i8 = 7;
/// A duration: see [`TimeDelta`].
pub const EXT_TIMEDELTA: i8 = 8;
/// A UUID: its 16 bytes.
pub const EXT_UUID: i8 = 9;
/// A decimal number: see [`Decimal`].
pub const EXT_DECIMAL: i8 = 10;
/// An integer outside the 64-bit range (below `i64::MIN` or above
/// `u64::MAX`): its minimal two's-complement big-endian bytes.
pub const EXT_BIGINT: i8 = 11;

/// Bytes of the HMAC-SHA256 tag that opens a signed pickle ([`EXT_PICKLE`]).
pub const PICKLE_TAG_LEN: usize = 32;

/// Flag bit of [`Time`] and [`DateTime`]: Python's `fold` is 1.
const FOLD: u8 = 1;
/// Flag bit of [`Time`] and [`DateTime`]: a UTC offset follows.
const AWARE: u8 = 2;
/// A UTC offset must be strictly within one day (Python's rule).
const DAY_MICROS: i64 = 86_400_000_000;

/// True for the codes spysession defines or keeps for later (1 to 31).
pub fn is_reserved(code: i8) -> bool {
    (1..=31).contains(&code)
}

/// A calendar date (proleptic Gregorian, as Python's `date`).
///
/// Layout, 4 bytes: year (u16, 1 to 9999), month (u8, 1 to 12), day (u8,
/// valid for that month).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Date {
    /// 1 to 9999.
    pub year: u16,
    /// 1 to 12.
    pub month: u8,
    /// 1 to the month's length.
    pub day: u8,
}

/// A time of day, naive or with a fixed UTC offset.
///
/// Layout, 8 bytes naive or 16 aware: hour (u8, 0 to 23), minute (u8, 0 to
/// 59), second (u8, 0 to 59), microsecond (u32, 0 to 999999), flags (u8: bit
/// 0 fold, bit 1 aware, the others 0), then when aware the UTC offset in
/// microseconds (i64, strictly between -86400000000 and 86400000000).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Time {
    /// 0 to 23.
    pub hour: u8,
    /// 0 to 59.
    pub minute: u8,
    /// 0 to 59.
    pub second: u8,
    /// 0 to 999999.
    pub microsecond: u32,
    /// Python's `fold` (which of two repeated wall times).
    pub fold: bool,
    /// The UTC offset in microseconds, for an aware value.
    pub utc_offset: Option<i64>,
}

/// A date and time: the 4 bytes of [`Date`] followed by the 8 or 16 bytes
/// of [`Time`] (12 bytes naive, 20 aware).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DateTime {
    /// The date part.
    pub date: Date,
    /// The time part (with the offset, if aware).
    pub time: Time,
}

/// A duration, normalised as Python's `timedelta` is.
///
/// Layout, 12 bytes: days (i32, -999999999 to 999999999), seconds (u32, 0
/// to 86399), microseconds (u32, 0 to 999999).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeDelta {
    /// Whole days, negative for a negative duration.
    pub days: i32,
    /// 0 to 86399.
    pub seconds: u32,
    /// 0 to 999999.
    pub microseconds: u32,
}

/// A decimal number, exactly as Python's `Decimal` keeps it.
///
/// Layout: sign (u8: 0 positive, 1 negative), kind (u8: 0 finite, 1
/// infinity, 2 quiet NaN, 3 signalling NaN), exponent (i64; 0 unless
/// finite), then the coefficient as ASCII digits: for a finite number at
/// least one digit and no leading zero (except the single digit `0`); none
/// for an infinity; a NaN's diagnostic payload, possibly empty, likewise
/// without leading zeros. The value is `(-1)^sign × digits × 10^exponent`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decimal {
    /// A finite number: `digits × 10^exponent`, negative when `negative`.
    Finite {
        /// The sign (true for `-0` as well).
        negative: bool,
        /// The exponent.
        exponent: i64,
        /// The coefficient's decimal digits.
        digits: String,
    },
    /// Plus or minus infinity.
    Infinity {
        /// Minus infinity.
        negative: bool,
    },
    /// Not a number.
    NaN {
        /// The sign Python keeps on a NaN.
        negative: bool,
        /// A signalling NaN (`sNaN`).
        signaling: bool,
        /// The diagnostic payload digits (often empty).
        payload: String,
    },
}

/// The value an ext of a spysession code holds, decoded into its parts.
#[derive(Clone, Debug, PartialEq)]
pub enum ExtValue {
    /// [`EXT_PICKLE`]: a signed pickle, the HMAC-SHA256 tag
    /// ([`PICKLE_TAG_LEN`] bytes) then the pickle bytes. The tag is
    /// computed over the session's store key (16 bytes) followed by the
    /// pickle bytes, under the site's secret key; only the Python binding
    /// checks it, and it never unpickles bytes whose tag fails.
    Pickle {
        /// The HMAC-SHA256 tag.
        tag: [u8; PICKLE_TAG_LEN],
        /// The pickle bytes.
        pickle: Vec<u8>,
    },
    /// [`EXT_TUPLE`]: the elements.
    Tuple(Vec<Value>),
    /// [`EXT_SET`]: the elements.
    Set(Vec<Value>),
    /// [`EXT_FROZENSET`]: the elements.
    FrozenSet(Vec<Value>),
    /// [`EXT_DATETIME`].
    DateTime(DateTime),
    /// [`EXT_DATE`].
    Date(Date),
    /// [`EXT_TIME`].
    Time(Time),
    /// [`EXT_TIMEDELTA`].
    TimeDelta(TimeDelta),
    /// [`EXT_UUID`]: the 16 bytes (RFC 9562 order, as Python's `UUID.bytes`).
    Uuid([u8; 16]),
    /// [`EXT_DECIMAL`].
    Decimal(Decimal),
    /// [`EXT_BIGINT`]: minimal two's-complement big-endian bytes of an
    /// integer outside `i64::MIN..=u64::MAX`.
    BigInt(Vec<u8>),
}

/// Why the data of a reserved ext code is not a value of its type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtError {
    /// The ext type code.
    pub code: i8,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for ExtError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "malformed ext value (code {}): {}",
            self.code, self.reason
        )
    }
}

impl std::error::Error for ExtError {}

impl From<ExtError> for crate::Error {
    fn from(e: ExtError) -> Self {
        crate::Error::Corrupt(Box::new(e))
    }
}

impl ExtValue {
    /// The value an ext of `code` holds: `Ok(None)` for a code spysession
    /// does not define (an opaque ext), an [`ExtError`] when the data does
    /// not have the layout of its code.
    pub fn decode(code: i8, data: &[u8]) -> Result<Option<ExtValue>, ExtError> {
        let bad = |reason: &str| ExtError {
            code,
            reason: reason.to_owned(),
        };
        let mut r = Bytes { data, bad: &bad };
        let value = match code {
            EXT_PICKLE => {
                let tag = r.array::<PICKLE_TAG_LEN>()?;
                ExtValue::Pickle {
                    tag,
                    pickle: r.rest().to_vec(),
                }
            }
            EXT_TUPLE => ExtValue::Tuple(elements(r.rest(), &bad)?),
            EXT_SET => ExtValue::Set(elements(r.rest(), &bad)?),
            EXT_FROZENSET => ExtValue::FrozenSet(elements(r.rest(), &bad)?),
            EXT_DATETIME => {
                let date = r.date()?;
                ExtValue::DateTime(DateTime {
                    date,
                    time: r.time()?,
                })
            }
            EXT_DATE => ExtValue::Date(r.date()?),
            EXT_TIME => ExtValue::Time(r.time()?),
            EXT_TIMEDELTA => {
                let days = i32::from_be_bytes(r.array()?);
                let seconds = u32::from_be_bytes(r.array()?);
                let microseconds = u32::from_be_bytes(r.array()?);
                if !(-999_999_999..=999_999_999).contains(&days) {
                    return Err(bad("days out of range"));
                }
                if seconds >= 86_400 || microseconds >= 1_000_000 {
                    return Err(bad("seconds or microseconds out of range"));
                }
                ExtValue::TimeDelta(TimeDelta {
                    days,
                    seconds,
                    microseconds,
                })
            }
            EXT_UUID => ExtValue::Uuid(r.array()?),
            EXT_DECIMAL => ExtValue::Decimal(r.decimal()?),
            EXT_BIGINT => {
                check_bigint(data).map_err(bad)?;
                ExtValue::BigInt(r.rest().to_vec())
            }
            _ => return Ok(None),
        };
        if !r.data.is_empty() {
            return Err(bad("trailing bytes"));
        }
        Ok(Some(value))
    }

    /// The ext type code of this value.
    pub fn code(&self) -> i8 {
        match self {
            ExtValue::Pickle { .. } => EXT_PICKLE,
            ExtValue::Tuple(_) => EXT_TUPLE,
            ExtValue::Set(_) => EXT_SET,
            ExtValue::FrozenSet(_) => EXT_FROZENSET,
            ExtValue::DateTime(_) => EXT_DATETIME,
            ExtValue::Date(_) => EXT_DATE,
            ExtValue::Time(_) => EXT_TIME,
            ExtValue::TimeDelta(_) => EXT_TIMEDELTA,
            ExtValue::Uuid(_) => EXT_UUID,
            ExtValue::Decimal(_) => EXT_DECIMAL,
            ExtValue::BigInt(_) => EXT_BIGINT,
        }
    }

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

    /// This value as a session [`Value`] (`Value::Ext(code, data)`).
    pub fn into_value(self) -> Value {
        let data = self.encode();
        Value::Ext(self.code(), data)
    }

    /// A set's elements in the order writers use: sorted by their
    /// MessagePack bytes, so that one set always has one encoding (and a
    /// session can tell an unchanged set from a changed one).
    pub fn sort_set_elements(items: &mut [Value]) {
        items.sort_by_cached_key(Value::to_msgpack);
    }
}

/// The elements of a tuple or set: exactly one MessagePack array.
fn elements(data: &[u8], bad: &dyn Fn(&str) -> ExtError) -> Result<Vec<Value>, ExtError> {
    match Value::from_msgpack(data) {
        Ok(Value::List(items)) => Ok(items),
        Ok(_) => Err(bad("not an array")),
        Err(e) => Err(bad(&e.to_string())),
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

/// Minimal two's complement, and outside what MessagePack ints hold.
fn check_bigint(data: &[u8]) -> Result<(), &'static str> {
    if data.len() < 9 {
        return Err("fits in 64 bits (store it as a MessagePack int)");
    }
    let (first, second) = (data[0], data[1]);
    let redundant = (first == 0x00 && second & 0x80 == 0) || (first == 0xff && second & 0x80 != 0);
    if redundant {
        return Err("not minimal (a redundant leading byte)");
    }
    if data.len() == 9 && first == 0x00 {
        return Err("fits in 64 bits unsigned (store it as a MessagePack int)");
    }
    Ok(())
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        _ => 28,
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

/// A cursor over ext data that turns running short into an [`ExtError`].
struct Bytes<'a, 'b> {
    data: &'a [u8],
    bad: &'b dyn Fn(&str) -> ExtError,
}

impl<'a> Bytes<'a, '_> {
    fn array<const N: usize>(&mut self) -> Result<[u8; N], ExtError> {
        if self.data.len() < N {
            return Err((self.bad)("too short"));
        }
        let (head, rest) = self.data.split_at(N);
        self.data = rest;
        Ok(head.try_into().expect("N bytes"))
    }

    fn byte(&mut self) -> Result<u8, ExtError> {
        Ok(self.array::<1>()?[0])
    }

    fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.data)
    }

    fn date(&mut self) -> Result<Date, ExtError> {
        let year = u16::from_be_bytes(self.array()?);
        let (month, day) = (self.byte()?, self.byte()?);
        if !(1..=9999).contains(&year) || !(1..=12).contains(&month) {
            return Err((self.bad)("year or month out of range"));
        }
        if day == 0 || day > days_in_month(year, month) {
            return Err((self.bad)("no such day in that month"));
        }
        Ok(Date { year, month, day })
    }

    fn time(&mut self) -> Result<Time, ExtError> {
        let [hour, minute, second] = self.array()?;
        let microsecond = u32::from_be_bytes(self.array()?);
        let flags = self.byte()?;
        if hour > 23 || minute > 59 || second > 59 || microsecond > 999_999 {
            return Err((self.bad)("time of day out of range"));
        }
        if flags & !(FOLD | AWARE) != 0 {
            return Err((self.bad)("unknown flag bits"));
        }
        let utc_offset = if flags & AWARE != 0 {
            let offset = i64::from_be_bytes(self.array()?);
            if offset <= -DAY_MICROS || offset >= DAY_MICROS {
                return Err((self.bad)("UTC offset of a day or more"));
            }
            Some(offset)
        } else {
            None
        };
        Ok(Time {
            hour,
            minute,
            second,
            microsecond,
            fold: flags & FOLD != 0,
            utc_offset,
        })
    }

    fn decimal(&mut self) -> Result<Decimal, ExtError> {
        let sign = self.byte()?;
        let kind = self.byte()?;
        let exponent = i64::from_be_bytes(self.array()?);
        let digits = self.rest();
        if sign > 1 {
            return Err((self.bad)("sign is neither 0 nor 1"));
        }
        if !digits.iter().all(u8::is_ascii_digit) {
            return Err((self.bad)("a coefficient byte is not an ASCII digit"));
        }
        if digits.len() > 1 && digits[0] == b'0' {
            return Err((self.bad)("leading zero in the digits"));
        }
        // ASCII digits are UTF-8.
        let digits = String::from_utf8(digits.to_vec()).expect("ASCII digits");
        let negative = sign == 1;
        if kind != 0 && exponent != 0 {
            return Err((self.bad)("an exponent on an infinity or NaN"));
        }
        Ok(match kind {
            0 if digits.is_empty() => return Err((self.bad)("a finite number with no digits")),
            0 => Decimal::Finite {
                negative,
                exponent,
                digits,
            },
            1 if !digits.is_empty() => return Err((self.bad)("digits on an infinity")),
            1 => Decimal::Infinity { negative },
            2 | 3 if digits == "0" => return Err((self.bad)("a NaN payload of 0")),
            2 | 3 => Decimal::NaN {
                negative,
                signaling: kind == 3,
                payload: digits,
            },
            _ => return Err((self.bad)("unknown kind")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(value: ExtValue) -> Vec<u8> {
        let data = value.encode();
        assert_eq!(
            ExtValue::decode(value.code(), &data).unwrap(),
            Some(value.clone())
        );
        data
    }

    #[test]
    fn layouts_are_the_documented_bytes() {
        let dt = DateTime {
            date: Date {
                year: 2024,
                month: 2,
                day: 29,
            },
            time: Time {
                hour: 13,
                minute: 5,
                second: 9,
                microsecond: 123_456,
                fold: false,
                utc_offset: Some(3_600_000_000),
            },
        };
        assert_eq!(
            round_trip(ExtValue::DateTime(dt)),
            [
                0x07, 0xe8, 2, 29, 13, 5, 9, 0x00, 0x01, 0xe2, 0x40, 0x02, 0, 0, 0, 0, 0xd6, 0x93,
                0xa4, 0x00
            ]
        );
        let td = TimeDelta {
            days: -1,
            seconds: 86_399,
            microseconds: 1,
        };
        assert_eq!(
            round_trip(ExtValue::TimeDelta(td)),
            [0xff, 0xff, 0xff, 0xff, 0, 1, 0x51, 0x7f, 0, 0, 0, 1]
        );
        let d = Decimal::Finite {
            negative: true,
            exponent: -2,
            digits: "150".into(),
        };
        assert_eq!(
            round_trip(ExtValue::Decimal(d)),
            [1, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, b'1', b'5', b'0']
        );
        let tuple = ExtValue::Tuple(vec![Value::Int(1), Value::Str("a".into())]);
        assert_eq!(round_trip(tuple), [0x92, 0x01, 0xa1, b'a']);
        // -(2**64): 0xff followed by eight zero bytes.
        assert_eq!(
            round_trip(ExtValue::BigInt(vec![0xff, 0, 0, 0, 0, 0, 0, 0, 0])),
            [0xff, 0, 0, 0, 0, 0, 0, 0, 0]
        );
    }

    #[test]
    fn every_kind_round_trips() {
        let naive = Time {
            hour: 0,
            minute: 0,
            second: 0,
            microsecond: 0,
            fold: true,
            utc_offset: None,
        };
        for value in [
            ExtValue::Date(Date {
                year: 1,
                month: 1,
                day: 1,
            }),
            ExtValue::Time(naive),
            ExtValue::Time(Time {
                utc_offset: Some(-DAY_MICROS + 1),
                ..naive
            }),
            ExtValue::Uuid([7; 16]),
            ExtValue::Set(vec![]),
            ExtValue::FrozenSet(vec![Value::Ext(EXT_TUPLE, vec![0x90])]),
            ExtValue::Decimal(Decimal::Infinity { negative: true }),
            ExtValue::Decimal(Decimal::NaN {
                negative: false,
                signaling: true,
                payload: "12".into(),
            }),
            ExtValue::Decimal(Decimal::Finite {
                negative: true,
                exponent: 0,
                digits: "0".into(),
            }),
            ExtValue::BigInt(vec![0x01, 0, 0, 0, 0, 0, 0, 0, 0]),
            ExtValue::Pickle {
                tag: [9; 32],
                pickle: vec![0x80, 4],
            },
        ] {
            round_trip(value);
        }
    }

    #[test]
    fn malformed_data_is_an_error() {
        let cases: &[(i8, &[u8])] = &[
            (EXT_DATE, &[0x07, 0xe7, 2, 29]), // 2023 is no leap year
            (EXT_DATE, &[0, 0, 1, 1]),        // year 0
            (EXT_DATE, &[0x07, 0xe8, 2]),     // short
            (EXT_TIME, &[24, 0, 0, 0, 0, 0, 0, 0]),
            (EXT_TIME, &[0, 0, 0, 0, 0x0f, 0x42, 0x40, 0]), // 1000000 µs
            (EXT_TIME, &[0, 0, 0, 0, 0, 0, 0, 4]),          // unknown flag
            (EXT_TIME, &[0, 0, 0, 0, 0, 0, 0, 2]),          // aware, no offset
            (EXT_TIME, &[0, 0, 0, 0, 0, 0, 0, 0, 0]),       // trailing byte
            (EXT_TIMEDELTA, &[0, 0, 0, 0, 0, 1, 0x51, 0x80, 0, 0, 0, 0]),
            (EXT_UUID, &[0; 15]),
            (EXT_DECIMAL, &[2, 0, 0, 0, 0, 0, 0, 0, 0, 0, b'1']),
            (EXT_DECIMAL, &[0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            (EXT_DECIMAL, &[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, b'0', b'1']),
            (EXT_DECIMAL, &[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, b'x']),
            (EXT_DECIMAL, &[0, 1, 0, 0, 0, 0, 0, 0, 0, 0, b'1']),
            (EXT_DECIMAL, &[0, 4, 0, 0, 0, 0, 0, 0, 0, 0]),
            (EXT_BIGINT, &[1, 2, 3]),
            (EXT_BIGINT, &[0, 0x7f, 0, 0, 0, 0, 0, 0, 0, 0]),
            (EXT_BIGINT, &[0, 0xff, 0, 0, 0, 0, 0, 0, 0]), // a u64
            (EXT_TUPLE, &[0xc1]),
            (EXT_TUPLE, &[0x01]),
            (EXT_SET, &[0x91]),
            (EXT_PICKLE, &[0; 31]),
        ];
        for (code, data) in cases {
            let err = ExtValue::decode(*code, data).unwrap_err();
            assert_eq!(err.code, *code, "{data:?}");
        }
    }

    #[test]
    fn other_codes_are_opaque() {
        assert_eq!(ExtValue::decode(42, &[1, 2]).unwrap(), None);
        assert_eq!(ExtValue::decode(-1, &[]).unwrap(), None);
        assert!(!is_reserved(42) && is_reserved(EXT_BIGINT) && is_reserved(31));
    }

    #[test]
    fn set_elements_sort_by_their_bytes() {
        let mut items = vec![Value::Str("b".into()), Value::Int(2), Value::Int(1)];
        ExtValue::sort_set_elements(&mut items);
        assert_eq!(
            items,
            vec![Value::Int(1), Value::Int(2), Value::Str("b".into())]
        );
    }
}
