//! The one MessagePack reader of the engine: records (see [`Record`] for the
//! layout), their expiry alone, and single values. Every decode in the
//! engine goes through here; serde is only the oracle the tests and the
//! fuzz targets hold this reader to (`Record::decode_with_serde`).
//!
//! It walks the bytes once, without serde's visitors (which were a fifth of
//! a read-only request from Python to a `DbmStore`), and says where and why
//! it stopped ([`DecodeError`]). It reads what this version writes, plus
//! the encodings of the same values that another MessagePack writer may
//! choose (a wider length, an integer where a time is a float); it refuses
//! other format versions, trailing bytes, keys that are not strings,
//! invalid UTF-8, and nesting deeper than [`MAX_DEPTH`].

use std::fmt;

use crate::data::{CompactString, Data};
use crate::record::{Record, FORMAT_VERSION};
use crate::value::Value;

/// The most lists and maps nested in one value that the reader takes
/// (Python stores at most 200). A bound, because each level costs the
/// reader a stack frame and a record spends only a byte on it.
pub const MAX_DEPTH: usize = 256;

/// Why bytes are not a record (or a value): what was expected, and at which
/// byte offset the reader stopped.
#[derive(Clone, Debug, PartialEq)]
pub struct DecodeError {
    /// Offset of the byte where the reader stopped.
    pub at: usize,
    /// What is wrong there.
    pub kind: DecodeErrorKind,
}

/// The kinds of [`DecodeError`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The input ends inside a value.
    End,
    /// A marker byte that cannot start what is expected there.
    Marker {
        /// The marker byte found.
        byte: u8,
        /// What was expected ("a record array", "a string key", ...).
        expected: &'static str,
    },
    /// The record array has another length than 5.
    ArrayLength(usize),
    /// A format version this build does not read.
    Version(u64),
    /// A time that is not a number (NaN, or an infinite created/accessed).
    Time,
    /// A string that is not UTF-8.
    Utf8(std::str::Utf8Error),
    /// Lists or maps nested deeper than [`MAX_DEPTH`].
    TooDeep,
    /// Bytes left after the record or value.
    Trailing,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = self.at;
        match &self.kind {
            DecodeErrorKind::End => write!(f, "the input ends inside a value (byte {at})"),
            DecodeErrorKind::Marker { byte, expected } => {
                write!(
                    f,
                    "marker 0x{byte:02x} at byte {at} where {expected} was expected"
                )
            }
            DecodeErrorKind::ArrayLength(n) => {
                write!(f, "a record is an array of 5, not {n} (byte {at})")
            }
            DecodeErrorKind::Version(v) => write!(
                f,
                "record format version {v} (this build reads {FORMAT_VERSION})"
            ),
            DecodeErrorKind::Time => write!(f, "a record time is not a number (byte {at})"),
            DecodeErrorKind::Utf8(e) => write!(f, "a string at byte {at} is not UTF-8: {e}"),
            DecodeErrorKind::TooDeep => {
                write!(f, "values nested deeper than {MAX_DEPTH} (byte {at})")
            }
            DecodeErrorKind::Trailing => write!(f, "trailing bytes from byte {at}"),
        }
    }
}

impl std::error::Error for DecodeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            DecodeErrorKind::Utf8(e) => Some(e),
            _ => None,
        }
    }
}

impl From<DecodeError> for crate::Error {
    fn from(e: DecodeError) -> Self {
        crate::Error::Corrupt(Box::new(e))
    }
}

type Read<T> = Result<T, DecodeError>;

/// The record in `bytes`.
pub(crate) fn read_record(bytes: &[u8]) -> Read<Record> {
    let mut r = Reader { bytes, pos: 0 };
    let (created, accessed, expires_at) = r.header()?;
    let len = r.map_len("the data map")?;
    let mut pairs = Vec::with_capacity(len.min(r.remaining()));
    for _ in 0..len {
        let key = CompactString::from(r.str("a string key")?);
        pairs.push((key, r.value(0)?));
    }
    r.end()?;
    Ok(Record {
        version: FORMAT_VERSION,
        created,
        accessed,
        expires_at,
        data: Data::from_pairs(pairs),
    })
}

/// The expiry of the record in `bytes`, read from its header alone (clean
/// and the expiry index need nothing else; the data is not checked).
pub(crate) fn read_expires_at(bytes: &[u8]) -> Read<f64> {
    Reader { bytes, pos: 0 }
        .header()
        .map(|(_, _, expires_at)| expires_at)
}

/// One value, alone in `bytes`.
pub(crate) fn read_value(bytes: &[u8]) -> Read<Value> {
    let mut r = Reader { bytes, pos: 0 };
    let value = r.value(0)?;
    r.end()?;
    Ok(value)
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn fail<T>(&self, at: usize, kind: DecodeErrorKind) -> Read<T> {
        Err(DecodeError { at, kind })
    }

    fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    fn end(&self) -> Read<()> {
        if self.remaining() == 0 {
            Ok(())
        } else {
            self.fail(self.pos, DecodeErrorKind::Trailing)
        }
    }

    fn take(&mut self, n: usize) -> Read<&'a [u8]> {
        let out = self
            .pos
            .checked_add(n)
            .and_then(|end| self.bytes.get(self.pos..end));
        match out {
            Some(out) => {
                self.pos += n;
                Ok(out)
            }
            None => self.fail(self.bytes.len(), DecodeErrorKind::End),
        }
    }

    fn byte(&mut self) -> Read<u8> {
        Ok(self.take(1)?[0])
    }

    fn array<const N: usize>(&mut self) -> Read<[u8; N]> {
        Ok(self.take(N)?.try_into().expect("take gave N bytes"))
    }

    /// The marker just read was not `expected`.
    fn unexpected<T>(&self, expected: &'static str) -> Read<T> {
        let at = self.pos - 1;
        self.fail(
            at,
            DecodeErrorKind::Marker {
                byte: self.bytes[at],
                expected,
            },
        )
    }

    /// Version, created, accessed, expires-at: the fixed part of a record.
    fn header(&mut self) -> Read<(f64, f64, f64)> {
        let start = self.pos;
        let len = match self.byte()? {
            m @ 0x90..=0x9f => usize::from(m & 0x0f),
            0xdc => self.len(2)?,
            0xdd => self.len(4)?,
            _ => return self.unexpected("a record array"),
        };
        if len != 5 {
            return self.fail(start, DecodeErrorKind::ArrayLength(len));
        }
        let at = self.pos;
        match self.value(0)? {
            Value::Int(v) if v == i64::from(FORMAT_VERSION) => {}
            Value::Int(v) => return self.fail(at, DecodeErrorKind::Version(v as u64)),
            Value::UInt(v) => return self.fail(at, DecodeErrorKind::Version(v)),
            _ => {
                return self.fail(
                    at,
                    DecodeErrorKind::Marker {
                        byte: self.bytes[at],
                        expected: "the format version",
                    },
                )
            }
        }
        let (created, accessed, expires_at) = (self.time()?, self.time()?, self.time()?);
        if !(created.is_finite() && accessed.is_finite() && !expires_at.is_nan()) {
            return self.fail(start, DecodeErrorKind::Time);
        }
        Ok((created, accessed, expires_at))
    }

    /// A time: a float, or an integer (which another writer may choose).
    fn time(&mut self) -> Read<f64> {
        let at = self.pos;
        match self.value(0)? {
            Value::Float(f) => Ok(f),
            Value::Int(i) => Ok(i as f64),
            Value::UInt(u) => Ok(u as f64),
            _ => self.fail(
                at,
                DecodeErrorKind::Marker {
                    byte: self.bytes[at],
                    expected: "a time",
                },
            ),
        }
    }

    /// A length written in 1, 2 or 4 big-endian bytes.
    fn len(&mut self, width: usize) -> Read<usize> {
        Ok(match width {
            1 => usize::from(self.byte()?),
            2 => usize::from(u16::from_be_bytes(self.array()?)),
            _ => u32::from_be_bytes(self.array()?) as usize,
        })
    }

    fn map_len(&mut self, expected: &'static str) -> Read<usize> {
        match self.byte()? {
            m @ 0x80..=0x8f => Ok(usize::from(m & 0x0f)),
            0xde => self.len(2),
            0xdf => self.len(4),
            _ => self.unexpected(expected),
        }
    }

    fn str(&mut self, expected: &'static str) -> Read<&'a str> {
        let len = match self.byte()? {
            m @ 0xa0..=0xbf => usize::from(m & 0x1f),
            0xd9 => self.len(1)?,
            0xda => self.len(2)?,
            0xdb => self.len(4)?,
            _ => return self.unexpected(expected),
        };
        let at = self.pos;
        std::str::from_utf8(self.take(len)?).or_else(|e| self.fail(at, DecodeErrorKind::Utf8(e)))
    }

    fn ext(&mut self, len: usize) -> Read<Value> {
        let code = i8::from_be_bytes(self.array()?);
        Ok(Value::Ext(code, self.take(len)?.to_vec()))
    }

    fn value(&mut self, depth: usize) -> Read<Value> {
        if depth > MAX_DEPTH {
            return self.fail(self.pos, DecodeErrorKind::TooDeep);
        }
        let marker = self.byte()?;
        Ok(match marker {
            0x00..=0x7f => Value::Int(i64::from(marker)),
            0xe0..=0xff => Value::Int(i64::from(marker as i8)),
            0xc0 => Value::Nil,
            0xc2 => Value::Bool(false),
            0xc3 => Value::Bool(true),
            0xcc => Value::Int(i64::from(self.byte()?)),
            0xcd => Value::Int(i64::from(u16::from_be_bytes(self.array()?))),
            0xce => Value::Int(i64::from(u32::from_be_bytes(self.array()?))),
            0xcf => {
                let v = u64::from_be_bytes(self.array()?);
                i64::try_from(v).map_or(Value::UInt(v), Value::Int)
            }
            0xd0 => Value::Int(i64::from(i8::from_be_bytes(self.array()?))),
            0xd1 => Value::Int(i64::from(i16::from_be_bytes(self.array()?))),
            0xd2 => Value::Int(i64::from(i32::from_be_bytes(self.array()?))),
            0xd3 => Value::Int(i64::from_be_bytes(self.array()?)),
            0xca => Value::Float(f64::from(f32::from_be_bytes(self.array()?))),
            0xcb => Value::Float(f64::from_be_bytes(self.array()?)),
            0xa0..=0xbf | 0xd9..=0xdb => {
                self.pos -= 1;
                Value::Str(self.str("a string")?.to_owned())
            }
            0xc4..=0xc6 => {
                let len = self.len(1 << (marker - 0xc4))?;
                Value::Bytes(self.take(len)?.to_vec())
            }
            0x90..=0x9f | 0xdc | 0xdd => {
                let len = match marker {
                    0xdc => self.len(2)?,
                    0xdd => self.len(4)?,
                    _ => usize::from(marker & 0x0f),
                };
                let mut items = Vec::with_capacity(len.min(self.remaining()));
                for _ in 0..len {
                    items.push(self.value(depth + 1)?);
                }
                Value::List(items)
            }
            0x80..=0x8f | 0xde | 0xdf => {
                self.pos -= 1;
                let len = self.map_len("a map")?;
                let mut pairs = Vec::with_capacity(len.min(self.remaining()));
                for _ in 0..len {
                    let key = self.str("a string key")?.to_owned();
                    pairs.push((key, self.value(depth + 1)?));
                }
                Value::Map(pairs.into_iter().collect())
            }
            0xd4..=0xd8 => self.ext(1 << (marker - 0xd4))?,
            0xc7..=0xc9 => {
                let len = self.len(1 << (marker - 0xc7))?;
                self.ext(len)?
            }
            // 0xc1 is never used.
            _ => return self.unexpected("a value"),
        })
    }
}
