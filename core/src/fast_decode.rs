//! A direct MessagePack reader for records in the exact layout this version
//! writes (see [`Record`]), used before the serde decoder.
//!
//! Why: on a read-only request from Python to a `DbmStore`, serde's generic
//! machinery (visitors, a deserializer per value, a UTF-8 check per call
//! site) was a fifth of the whole request. This reader walks the bytes once.
//! It takes only what it recognises exactly and returns `None` for anything
//! else (a record as a map, integer times, a key that is not a string, bad
//! UTF-8, trailing bytes, deep nesting): [`Record::decode`] then asks the
//! serde decoder, which is lenient where it should be and says what is
//! wrong. So for any input this reader either agrees with serde or stays
//! out (property tests in core/tests/properties.rs check both, on records
//! we write and on arbitrary bytes).

use crate::data::{CompactString, Data};
use crate::record::{Record, FORMAT_VERSION};
use crate::value::Value;

/// Nesting beyond this is left to the serde decoder (which has its own limit).
pub(crate) const MAX_DEPTH: usize = 64;

/// The record in `bytes`, if it has exactly the layout this version writes.
pub(crate) fn decode_record(bytes: &[u8]) -> Option<Record> {
    let mut r = Reader { bytes, pos: 0 };
    if r.byte()? != 0x95 || r.byte()? != FORMAT_VERSION {
        return None;
    }
    let (created, accessed, expires_at) = (r.f64()?, r.f64()?, r.f64()?);
    if !(created.is_finite() && accessed.is_finite() && !expires_at.is_nan()) {
        return None;
    }
    let len = r.map_len()?;
    let mut pairs = Vec::with_capacity(len.min(r.remaining()));
    for _ in 0..len {
        let key = CompactString::from(r.str()?);
        pairs.push((key, r.value(0)?));
    }
    if r.remaining() != 0 {
        return None;
    }
    Some(Record {
        version: FORMAT_VERSION,
        created,
        accessed,
        expires_at,
        data: Data::from_pairs(pairs),
    })
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let out = self.bytes.get(self.pos..end)?;
        self.pos = end;
        Some(out)
    }

    fn byte(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }

    fn f64(&mut self) -> Option<f64> {
        if self.byte()? != 0xcb {
            return None;
        }
        Some(f64::from_be_bytes(self.array()?))
    }

    /// A length written in 1, 2 or 4 big-endian bytes.
    fn len(&mut self, width: usize) -> Option<usize> {
        Some(match width {
            1 => usize::from(self.byte()?),
            2 => usize::from(u16::from_be_bytes(self.array()?)),
            _ => u32::from_be_bytes(self.array()?) as usize,
        })
    }

    fn map_len(&mut self) -> Option<usize> {
        match self.byte()? {
            m @ 0x80..=0x8f => Some(usize::from(m & 0x0f)),
            0xde => self.len(2),
            0xdf => self.len(4),
            _ => None,
        }
    }

    fn str(&mut self) -> Option<&'a str> {
        let len = match self.byte()? {
            m @ 0xa0..=0xbf => usize::from(m & 0x1f),
            0xd9 => self.len(1)?,
            0xda => self.len(2)?,
            0xdb => self.len(4)?,
            _ => return None,
        };
        std::str::from_utf8(self.take(len)?).ok()
    }

    fn ext(&mut self, len: usize) -> Option<Value> {
        let code = i8::from_be_bytes(self.array()?);
        Some(Value::Ext(code, self.take(len)?.to_vec()))
    }

    fn value(&mut self, depth: usize) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        let marker = self.byte()?;
        Some(match marker {
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
                Value::Str(self.str()?.to_owned())
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
                let len = self.map_len()?;
                let mut pairs = Vec::with_capacity(len.min(self.remaining()));
                for _ in 0..len {
                    let key = self.str()?.to_owned();
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
            _ => return None,
        })
    }
}
