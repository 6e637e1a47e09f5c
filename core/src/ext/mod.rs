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
//!
//! The types and the table of codes are here; `decode` reads ext data
//! (strictly, with the checks above), `encode` writes it.

mod decode;
mod encode;
#[cfg(test)]
mod tests;

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
