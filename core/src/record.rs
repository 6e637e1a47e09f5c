//! What a store keeps for one session, its MessagePack encoding, and the
//! per-key change set that commit merges into it.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::value::Value;

/// The record format this version writes (and the only one it reads).
///
/// Version history: `1` (spysession 0.1) kept records by raw session id;
/// `2` keeps them by [`crate::StoreKey`] (SHA-256 of the id), with the same
/// record layout. A store of version 1 is refused, never misread (see
/// [`crate::Error::StoreVersion`]).
pub const FORMAT_VERSION: u8 = 2;

pub use crate::data::{CompactString, Data};

/// What a store keeps for one session, under its [`crate::StoreKey`] (the
/// first 16 bytes of SHA-256 over the id's 16 raw bytes: no store holds an id).
///
/// On disk a record is one MessagePack array of five elements, in order:
///
/// | # | field | MessagePack type |
/// |---|---|---|
/// | 0 | format version, currently `2` | positive int |
/// | 1 | created at, Unix seconds | float 64 |
/// | 2 | last written (commit or touch), Unix seconds | float 64 |
/// | 3 | expires at, Unix seconds; expired when `now >= expires_at` | float 64 |
/// | 4 | data | map of str to value (see [`Value`]) |
///
/// A reader must refuse any other format version. (This one, in
/// `reader.rs`, also takes the other encodings of the same values that a
/// MessagePack writer may choose: wider lengths, integers where times are
/// floats; what it writes is always the array above.)
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Format version byte ([`FORMAT_VERSION`]).
    pub version: u8,
    /// When the session was first stored.
    pub created: f64,
    /// When the record was last written (a commit or an expiry touch).
    pub accessed: f64,
    /// When the session expires (`now >= expires_at` is expired).
    pub expires_at: f64,
    /// The session's key/value data.
    pub data: Data,
}

impl Record {
    /// A new record created at `now`.
    pub fn new(now: f64, expires_at: f64, data: Data) -> Self {
        Record {
            version: FORMAT_VERSION,
            created: now,
            accessed: now,
            expires_at,
            data,
        }
    }

    /// True when the record is expired at `now`.
    pub fn is_expired(&self, now: f64) -> bool {
        now >= self.expires_at
    }

    /// Encodes the record as documented on [`Record`].
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        self.encode_into(&mut out);
        out
    }

    /// Encodes into `out` (cleared first), reusing its allocation.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        out.clear();
        // Writing a Record (plain numbers and Values) into memory cannot fail.
        rmp_serde::encode::write(out, self).expect("a Record always encodes");
    }

    /// The expiry of an encoded record, read from its header alone (clean
    /// and the expiry index need nothing else; the data is not checked).
    pub fn read_expires_at(bytes: &[u8]) -> Result<f64> {
        Ok(crate::reader::read_expires_at(bytes)?)
    }

    /// Decodes a record, refusing other format versions, trailing bytes and
    /// times that are not numbers; the error says where and why
    /// ([`crate::DecodeError`] as the cause of [`Error::Corrupt`]).
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        Ok(crate::reader::read_record(bytes)?)
    }

    /// serde's reading of `bytes`: the oracle the tests and fuzz targets
    /// hold [`Record::decode`] to (whatever `decode` takes, serde reads the
    /// same), never used by the engine. It is more lenient (it also takes
    /// the record as a map keyed by field name).
    #[doc(hidden)]
    pub fn decode_with_serde(bytes: &[u8]) -> Result<Self> {
        // Reading from the slice itself: strings are copied once, into
        // their String, instead of first into a scratch buffer (what the
        // io::Read path does, and half the cost of a decode).
        let mut de = rmp_serde::Deserializer::from_read_ref(bytes);
        let record = Record::deserialize(&mut de).map_err(|e| Error::Corrupt(Box::new(e)))?;
        if !at_end(&mut de) {
            return Err(Error::Corrupt("trailing bytes after the record".into()));
        }
        if record.version != FORMAT_VERSION {
            return Err(Error::Corrupt(
                format!(
                    "record format version {} (this build reads {FORMAT_VERSION})",
                    record.version
                )
                .into(),
            ));
        }
        if !(record.created.is_finite()
            && record.accessed.is_finite()
            && !record.expires_at.is_nan())
        {
            return Err(Error::Corrupt("record times are not numbers".into()));
        }
        Ok(record)
    }
}

/// True when `de` has nothing left to read. (The slice reader does not say
/// where it stopped, so one more value is asked for: only the end of the
/// input makes that fail with an end-of-file marker read.)
fn at_end<'de>(
    de: &mut rmp_serde::Deserializer<rmp_serde::decode::ReadRefReader<'de, [u8]>>,
) -> bool {
    match serde::de::IgnoredAny::deserialize(de) {
        Err(rmp_serde::decode::Error::InvalidMarkerRead(e)) => {
            e.kind() == std::io::ErrorKind::UnexpectedEof
        }
        _ => false,
    }
}

/// The changes one request made to a session: which keys it set or removed,
/// and whether it cleared the whole session first.
///
/// Commit applies these to the record *as it is in the store at that moment*,
/// so two requests that change different keys both keep their change.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Changes {
    /// Start from an empty map instead of the stored data.
    pub clear: bool,
    /// Keys set (`Some`) or removed (`None`), last write wins; sorted by key
    /// and unique. A sorted vector rather than a map: a request changes a
    /// few keys, and this costs one small allocation instead of a tree node.
    keys: Vec<(CompactString, Option<Value>)>,
}

impl Changes {
    /// True when nothing was changed.
    pub fn is_empty(&self) -> bool {
        !self.clear && self.keys.is_empty()
    }

    /// Records `key = value`.
    pub fn set(&mut self, key: impl Into<CompactString>, value: Value) {
        self.put(key.into(), Some(value));
    }

    /// Records the removal of `key`.
    pub fn remove(&mut self, key: impl Into<CompactString>) {
        self.put(key.into(), None);
    }

    fn put(&mut self, key: CompactString, change: Option<Value>) {
        match self.position(&key) {
            Ok(i) => self.keys[i].1 = change,
            Err(i) => self.keys.insert(i, (key, change)),
        }
    }

    fn position(&self, key: &str) -> std::result::Result<usize, usize> {
        self.keys.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    /// Where `key` is (a scan while few, as in [`Data`]).
    fn find(&self, key: &str) -> Option<usize> {
        if self.keys.len() > crate::data::SCAN_UP_TO {
            return self.position(key).ok();
        }
        self.keys.iter().position(|(k, _)| k.as_str() == key)
    }

    /// The change recorded for `key`: `Some(Some(value))` set,
    /// `Some(None)` removed, `None` untouched.
    pub fn get(&self, key: &str) -> Option<Option<&Value>> {
        let i = self.find(key)?;
        Some(self.keys[i].1.as_ref())
    }

    /// The change recorded for `key`, to change it in place.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Option<Value>> {
        let i = self.find(key)?;
        Some(&mut self.keys[i].1)
    }

    /// The changed keys in key order, with their new value (`None`: removed).
    pub fn iter(&self) -> impl Iterator<Item = (&str, Option<&Value>)> {
        self.keys.iter().map(|(k, v)| (k.as_str(), v.as_ref()))
    }

    /// The changes as stored: (key, new value or `None`) in key order.
    pub fn as_slice(&self) -> &[(CompactString, Option<Value>)] {
        &self.keys
    }

    /// Records a clear: every stored key goes, then later sets apply.
    pub fn clear(&mut self) {
        self.clear = true;
        self.keys.clear();
    }

    /// Applies the changes to `data`, moving the values (for a change set
    /// that is done with).
    pub fn apply_owned(self, data: &mut Data) {
        if self.clear {
            data.clear();
        }
        for (key, change) in self.keys {
            match change {
                Some(value) => {
                    data.insert(key, value);
                }
                None => {
                    data.remove(&key);
                }
            }
        }
    }

    /// Applies the changes to `data`.
    pub fn apply_to(&self, data: &mut Data) {
        if self.clear {
            data.clear();
        }
        for (key, change) in &self.keys {
            match change {
                // An existing key keeps its String: only the value is copied.
                Some(value) => match data.get_mut(key) {
                    Some(slot) => *slot = value.clone(),
                    None => {
                        data.insert(key.clone(), value.clone());
                    }
                },
                None => {
                    data.remove(key);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> Record {
        let mut data = Data::new();
        data.insert("visited", Value::Int(3));
        data.insert("name", Value::Str("ada".into()));
        Record::new(1000.0, 2000.0, data)
    }

    #[test]
    fn encode_decode_round_trip() {
        let r = record();
        assert_eq!(Record::decode(&r.encode()).unwrap(), r);
    }

    #[test]
    fn trailing_or_missing_bytes_are_corrupt() {
        let bytes = record().encode();
        // A whole value after the record, a reserved marker, a lone byte.
        for tail in [&[0x00][..], &[0xc1], &[0x91, 0x01], &[0xd9]] {
            let mut longer = bytes.clone();
            longer.extend_from_slice(tail);
            assert!(
                matches!(Record::decode(&longer), Err(Error::Corrupt(_))),
                "tail {tail:?} accepted"
            );
        }
        for cut in 0..bytes.len() {
            assert!(
                Record::decode(&bytes[..cut]).is_err(),
                "cut at {cut} accepted"
            );
        }
    }

    #[test]
    fn layout_is_a_five_element_array_starting_with_the_version() {
        let bytes = record().encode();
        assert_eq!(bytes[0], 0x95, "fixarray of 5");
        assert_eq!(bytes[1], FORMAT_VERSION);
        assert_eq!(bytes[2], 0xcb, "created is a float 64");
    }

    #[test]
    fn the_header_alone_gives_the_expiry() {
        let r = record();
        assert_eq!(Record::read_expires_at(&r.encode()).unwrap(), r.expires_at);
        assert!(Record::read_expires_at(b"garbage").is_err());
        assert!(Record::read_expires_at(&r.encode()[..20]).is_err());
    }

    /// The error says what and where, as a `DecodeError` kept as the cause.
    fn decode_error(bytes: &[u8]) -> crate::DecodeError {
        match Record::decode(bytes) {
            Err(Error::Corrupt(cause)) => *cause.downcast::<crate::DecodeError>().unwrap(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn decoding_errors_keep_their_cause() {
        use crate::DecodeErrorKind as Kind;
        let mut bytes = record().encode();
        bytes[1] = 9;
        assert_eq!(decode_error(&bytes).kind, Kind::Version(9));
        let e = decode_error(b"garbage");
        assert_eq!(
            (e.at, e.kind),
            (
                0,
                Kind::Marker {
                    byte: b'g',
                    expected: "a record array"
                }
            )
        );
        let mut long = record().encode();
        long.push(0);
        assert_eq!(decode_error(&long).kind, Kind::Trailing);
        let mut bad = record().encode();
        let name = bad.windows(3).position(|w| w == b"ada").unwrap();
        bad[name] = 0xff;
        let e = decode_error(&bad);
        assert!(matches!(e.kind, Kind::Utf8(_)) && e.at == name, "{e:?}");
        assert!(std::error::Error::source(&Record::decode(&bad).unwrap_err()).is_some());
    }

    #[test]
    fn other_encodings_of_the_same_record_are_read() {
        // An integer expiry and an array16 header, as another writer may write.
        let mut bytes = vec![0xdc, 0x00, 0x05, FORMAT_VERSION];
        bytes.extend_from_slice(&[0xcd, 0x03, 0xe8, 0xcd, 0x03, 0xe8, 0xcd, 0x07, 0xd0]);
        bytes.extend_from_slice(&[0x81, 0xa1, b'k', 0x07]);
        let r = Record::decode(&bytes).unwrap();
        assert_eq!(
            (r.created, r.accessed, r.expires_at),
            (1000.0, 1000.0, 2000.0)
        );
        assert_eq!(r.data.get("k"), Some(&Value::Int(7)));
        assert_eq!(
            Record::decode_with_serde(&bytes).unwrap(),
            r,
            "serde reads it the same"
        );
    }

    #[test]
    fn nesting_is_bounded() {
        let mut deep = record();
        let mut v = Value::Nil;
        for _ in 0..crate::MAX_DEPTH {
            v = Value::List(vec![v]);
        }
        deep.data.insert("deep", v.clone());
        assert_eq!(
            Record::decode(&deep.encode()).unwrap(),
            deep,
            "MAX_DEPTH is read"
        );
        deep.data.insert("deep", Value::List(vec![v]));
        let e = decode_error(&deep.encode());
        assert_eq!(e.kind, crate::DecodeErrorKind::TooDeep);
    }

    #[test]
    fn damaged_or_foreign_bytes_are_corrupt() {
        let mut bytes = record().encode();
        bytes[1] = 9;
        assert!(matches!(Record::decode(&bytes), Err(Error::Corrupt(_))));
        assert!(matches!(Record::decode(b"garbage"), Err(Error::Corrupt(_))));
        assert!(matches!(Record::decode(&[]), Err(Error::Corrupt(_))));
        let mut long = record().encode();
        long.push(0);
        assert!(matches!(Record::decode(&long), Err(Error::Corrupt(_))));
    }

    #[test]
    fn changes_apply_sets_removes_and_clear() {
        let mut data = record().data;
        let mut c = Changes::default();
        c.set("a", Value::Int(1));
        c.remove("name");
        c.apply_to(&mut data);
        assert_eq!(data.get("a"), Some(&Value::Int(1)));
        assert!(!data.contains_key("name"));
        assert!(data.contains_key("visited"));

        let mut c = Changes::default();
        c.set("x", Value::Nil);
        c.clear();
        c.set("y", Value::Bool(true));
        c.apply_to(&mut data);
        assert_eq!(data.len(), 1);
        assert_eq!(data.get("y"), Some(&Value::Bool(true)));
    }
}
