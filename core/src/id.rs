//! Session ids: 128 random bits, written as 32 lowercase hex characters.

use std::fmt;

use crate::error::{Error, Result};

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
        let text = text.as_ref();
        if text.len() != ID_LEN {
            return Err(Error::InvalidId);
        }
        let mut bytes = [0u8; 16];
        for (i, pair) in text.chunks_exact(2).enumerate() {
            bytes[i] = (hex_digit(pair[0])? << 4) | hex_digit(pair[1])?;
        }
        Ok(SessionId(bytes))
    }

    /// True when `text` is a well-formed id.
    pub fn is_valid(text: impl AsRef<[u8]>) -> bool {
        Self::parse(text).is_ok()
    }

    /// The 16 raw bytes (the key a [`crate::DbmStore`] uses on disk).
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// Rebuilds an id from its 16 raw bytes.
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        SessionId(bytes)
    }

    /// The 32-character textual form, without allocating.
    pub fn to_hex(&self) -> [u8; ID_LEN] {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; ID_LEN];
        for (i, b) in self.0.iter().enumerate() {
            out[2 * i] = HEX[(b >> 4) as usize];
            out[2 * i + 1] = HEX[(b & 15) as usize];
        }
        out
    }
}

fn hex_digit(c: u8) -> Result<u8> {
    match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        _ => Err(Error::InvalidId),
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hex = self.to_hex();
        // to_hex only produces ASCII hex digits.
        f.write_str(std::str::from_utf8(&hex).map_err(|_| fmt::Error)?)
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
    }
}
