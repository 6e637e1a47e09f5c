//! Session ids: 128 random bits, written as 32 lowercase hex characters.

use std::fmt;

use crate::error::{Error, Result};
use crate::store_key::StoreKey;

/// A validated session id.
///
/// The only ways to get one are [`SessionId::generate`] (from the operating
/// system's CSPRNG) and [`SessionId::parse`] (which accepts exactly 32
/// lowercase hex characters), so any `SessionId` is well-formed and may be
/// given to a store.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId([u8; 16]);

/// Length of the textual form of an id.
pub const ID_LEN: usize = 32;

impl SessionId {
    /// A new id with 128 bits from the OS CSPRNG.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 16];
        // OsRng reads getrandom(2); a failure there means the OS cannot give
        // randomness at all, and issuing a guessable id would be worse than
        // stopping.
        rand::TryRngCore::try_fill_bytes(&mut rand::rngs::OsRng, &mut bytes)
            .expect("the operating system's random number generator failed");
        SessionId(bytes)
    }

    /// Parses the textual form; anything but 32 lowercase hex characters is
    /// [`Error::InvalidId`].
    pub fn parse(text: impl AsRef<[u8]>) -> Result<Self> {
        parse_hex16(text.as_ref())
            .map(SessionId)
            .ok_or(Error::InvalidId)
    }

    /// True when `text` is a well-formed id.
    pub fn is_valid(text: impl AsRef<[u8]>) -> bool {
        Self::parse(text).is_ok()
    }

    /// The 16 raw bytes (hashed into the [`StoreKey`]; never stored).
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// Rebuilds an id from its 16 raw bytes.
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        SessionId(bytes)
    }

    /// The 32-character textual form, without allocating.
    pub fn to_hex(&self) -> [u8; ID_LEN] {
        hex16(&self.0)
    }

    /// The key a store keeps this session's record under (see [`StoreKey`]).
    pub fn store_key(&self) -> StoreKey {
        StoreKey::of(self)
    }
}

/// 16 bytes as 32 lowercase hex characters (ids and store keys).
pub(crate) fn hex16(bytes: &[u8; 16]) -> [u8; 32] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 32];
    for (i, b) in bytes.iter().enumerate() {
        out[2 * i] = HEX[(b >> 4) as usize];
        out[2 * i + 1] = HEX[(b & 15) as usize];
    }
    out
}

/// Exactly 32 lowercase hex characters as their 16 bytes; `None` for
/// anything else.
pub(crate) fn parse_hex16(text: &[u8]) -> Option<[u8; 16]> {
    if text.len() != 32 {
        return None;
    }
    let mut bytes = [0u8; 16];
    // Every digit is looked up, and one check at the end says whether
    // any was not hex (a table lookup per byte, no early exits).
    let mut bad = 0u8;
    for (i, pair) in text.chunks_exact(2).enumerate() {
        let (hi, lo) = (HEX_VALUE[pair[0] as usize], HEX_VALUE[pair[1] as usize]);
        bad |= hi | lo;
        bytes[i] = (hi << 4) | (lo & 0x0f);
    }
    (bad & NOT_HEX == 0).then_some(bytes)
}

/// Marks a byte that is not a lowercase hex digit in [`HEX_VALUE`].
const NOT_HEX: u8 = 0x10;

/// The value of each lowercase hex digit; [`NOT_HEX`] for every other byte.
const HEX_VALUE: [u8; 256] = {
    let mut table = [NOT_HEX; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};

impl SessionId {
    /// Appends the textual form (32 lowercase hex characters) to `out`.
    pub fn push_to(&self, out: &mut String) {
        // to_hex writes only ASCII hex digits.
        out.push_str(std::str::from_utf8(&self.to_hex()).unwrap_or_default());
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = String::with_capacity(ID_LEN);
        self.push_to(&mut text);
        f.write_str(&text)
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({self})")
    }
}

impl std::str::FromStr for SessionId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_round_trip_and_differ() {
        let a = SessionId::generate();
        let b = SessionId::generate();
        assert_ne!(a, b);
        let text = a.to_string();
        assert_eq!(text.len(), 32);
        assert!(text
            .bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)));
        assert_eq!(SessionId::parse(&text).unwrap(), a);
    }

    #[test]
    fn malformed_ids_are_refused() {
        let good = "0123456789abcdef0123456789abcdef";
        assert!(SessionId::is_valid(good));
        for bad in [
            "",
            "0123456789abcdef0123456789abcde",
            "0123456789abcdef0123456789abcdef0",
            "0123456789ABCDEF0123456789abcdef",
            "0123456789abcdeg0123456789abcdef",
            "0123456789abcdef0123456789abcd\0f",
            "0123456789abcdef0123456789abc;ef",
            "0123456789abcdef0123456789abc\r\nf",
            "é123456789abcdef0123456789abcde",
        ] {
            assert!(!SessionId::is_valid(bad), "{bad:?} accepted");
        }
        // Every byte value in every position: only lowercase hex passes.
        for pos in 0..32 {
            for byte in 0..=255u8 {
                let mut text = good.as_bytes().to_vec();
                text[pos] = byte;
                let hex = byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte);
                assert_eq!(SessionId::is_valid(&text), hex, "byte {byte} at {pos}");
            }
        }
    }
}
