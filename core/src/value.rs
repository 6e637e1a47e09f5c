//! The values a session holds, and their MessagePack form.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};

/// The extension type code under which the Python binding stores signed
/// pickles (layout: [`crate::ext::ExtValue::Pickle`]).
pub const EXT_PICKLE: i8 = 1;

/// A session value: what C, Python and the record format all agree on.
///
/// Each variant maps to one MessagePack type: `Nil` to nil, `Bool` to bool,
/// `Int`/`UInt` to int (`UInt` only for values above `i64::MAX`), `Float` to
/// float 64, `Str` to str, `Bytes` to bin, `List` to array, `Map` to map with
/// str keys, and `Ext` to an ext value (type code + bytes; the codes
/// spysession defines, tuple, set, datetime and the rest, and their
/// layouts are in [`crate::ext`]).
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// No value (Python `None`, MessagePack nil).
    Nil,
    /// A boolean.
    Bool(bool),
    /// A signed integer.
    Int(i64),
    /// An unsigned integer above `i64::MAX`.
    UInt(u64),
    /// A 64-bit float.
    Float(f64),
    /// A UTF-8 string.
    Str(String),
    /// A byte string.
    Bytes(Vec<u8>),
    /// A list of values.
    List(Vec<Value>),
    /// A map with string keys.
    Map(BTreeMap<String, Value>),
    /// An extension value: a type code and opaque bytes.
    Ext(i8, Vec<u8>),
}

impl Value {
    /// The name of the variant, for type-mismatch messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Nil => "nil",
            Value::Bool(_) => "bool",
            Value::Int(_) | Value::UInt(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "str",
            Value::Bytes(_) => "bytes",
            Value::List(_) => "list",
            Value::Map(_) => "map",
            Value::Ext(..) => "ext",
        }
    }

    /// Encodes this value alone as MessagePack (what `sps_session_get_msgpack` hands out).
    pub fn to_msgpack(&self) -> Vec<u8> {
        // Serializing a Value into a Vec cannot fail: every variant has a
        // MessagePack form and writing to memory has no I/O error.
        rmp_serde::to_vec(self).expect("a Value always encodes")
    }

    /// Decodes one MessagePack value (with the record reader); trailing
    /// bytes are an error.
    pub fn from_msgpack(bytes: &[u8]) -> crate::Result<Self> {
        Ok(crate::reader::read_value(bytes)?)
    }
}

macro_rules! from_impls {
    ($($t:ty => $variant:ident),* $(,)?) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Self { Value::$variant(v.into()) }
        }
    )*};
}
from_impls!(bool => Bool, i64 => Int, i32 => Int, f64 => Float, String => Str, &str => Str, Vec<u8> => Bytes);

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Nil => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int(i) => s.serialize_i64(*i),
            Value::UInt(u) => s.serialize_u64(*u),
            Value::Float(f) => s.serialize_f64(*f),
            Value::Str(t) => s.serialize_str(t),
            Value::Bytes(b) => s.serialize_bytes(b),
            Value::List(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Value::Map(entries) => {
                let mut map = s.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
            // rmp-serde writes a newtype struct with this reserved name as a
            // MessagePack ext value (code, data).
            Value::Ext(code, data) => s.serialize_newtype_struct(
                rmp_serde::MSGPACK_EXT_STRUCT_NAME,
                &(code, serde_bytes::Bytes::new(data)),
            ),
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

/// Reads a map of string keys: the pairs are collected, then the tree is
/// built in one pass (the encoder writes keys in order, so sorting them is
/// a single run), instead of a search and insert per key. A repeated key
/// keeps its last value, as inserting would.
pub(crate) fn map_from<'de, A: MapAccess<'de>>(
    mut map: A,
) -> Result<BTreeMap<String, Value>, A::Error> {
    let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(0).min(256));
    while let Some(pair) = map.next_entry::<String, Value>()? {
        pairs.push(pair);
    }
    Ok(pairs.into_iter().collect())
}

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a MessagePack value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Nil)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Nil)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(i64::try_from(v).map_or(Value::UInt(v), Value::Int))
    }
    fn visit_f32<E>(self, v: f32) -> Result<Value, E> {
        Ok(Value::Float(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }
    fn visit_bytes<E>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::Bytes(v.to_vec()))
    }
    fn visit_byte_buf<E>(self, v: Vec<u8>) -> Result<Value, E> {
        Ok(Value::Bytes(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        // The size hint comes from the input: cap it so a hostile length
        // prefix cannot make us allocate gigabytes up front.
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::List(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Value, A::Error> {
        Ok(Value::Map(map_from(map)?))
    }
    // rmp-serde hands an ext value to a visitor as a newtype struct holding
    // the sequence (code, data).
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        let (code, data): (i8, serde_bytes::ByteBuf) = Deserialize::deserialize(d)?;
        Ok(Value::Ext(code, data.into_vec()))
    }
    fn visit_enum<A: de::EnumAccess<'de>>(self, _: A) -> Result<Value, A::Error> {
        Err(de::Error::custom("enums are not session values"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Value {
        let mut map = BTreeMap::new();
        map.insert("n".to_string(), Value::Nil);
        map.insert("big".to_string(), Value::UInt(u64::MAX));
        Value::List(vec![
            Value::Bool(true),
            Value::Int(-5),
            Value::Float(1.5),
            Value::Str("héllo".into()),
            Value::Bytes(vec![0, 255]),
            Value::Map(map),
            Value::Ext(EXT_PICKLE, vec![0x80, 4, 0x95]),
        ])
    }

    #[test]
    fn msgpack_round_trip_keeps_every_variant() {
        let v = sample();
        assert_eq!(Value::from_msgpack(&v.to_msgpack()).unwrap(), v);
    }

    #[test]
    fn ext_is_a_real_msgpack_ext() {
        // fixext1: 0xd4, type, one byte of data
        let bytes = Value::Ext(7, vec![42]).to_msgpack();
        assert_eq!(bytes, vec![0xd4, 7, 42]);
        // bin8 for bytes, not an array of ints
        assert_eq!(Value::Bytes(vec![1, 2]).to_msgpack(), vec![0xc4, 2, 1, 2]);
    }

    #[test]
    fn maps_written_by_others_sort_and_keep_the_last_repeat() {
        // {"b": 1, "a": 2, "b": 3}, as a C or Python writer might send it.
        let bytes = [0x83, 0xa1, b'b', 0x01, 0xa1, b'a', 0x02, 0xa1, b'b', 0x03];
        let Value::Map(map) = Value::from_msgpack(&bytes).unwrap() else {
            panic!("not a map")
        };
        let pairs: Vec<_> = map.into_iter().collect();
        assert_eq!(
            pairs,
            vec![("a".into(), Value::Int(2)), ("b".into(), Value::Int(3))]
        );
        // The same holds for a record's data.
        let mut record = crate::Record::new(1.0, 2.0, Default::default()).encode();
        let last = record.len() - 1;
        assert_eq!(record[last], 0x80, "empty data map at the end");
        record.truncate(last);
        record.extend_from_slice(&bytes);
        let data = crate::Record::decode(&record).unwrap().data;
        assert_eq!(data.get("b"), Some(&Value::Int(3)));
        assert_eq!(data.len(), 2);
    }

    #[test]
    fn garbage_is_corrupt_not_panic() {
        assert!(Value::from_msgpack(&[0xc1]).is_err());
        assert!(Value::from_msgpack(&[0xdd, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(Value::from_msgpack(&[0x01, 0x02]).is_err());
    }
}
