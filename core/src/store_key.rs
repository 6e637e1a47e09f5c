//! Store keys: what a store keeps a session's record under, instead of the
//! session id itself.
//!
//! A store key is the first 16 bytes of SHA-256 over the id's 16 raw bytes
//! (written as 32 lowercase hex characters where a string is needed: Redis
//! keys, custom stores, the command line). So a leaked store file, backup or
//! Redis dump holds nothing a browser could present as a session id, and a
//! store's lookup (a B-tree search, a hash probe) cannot leak an id through
//! its timing: what it compares is a hash the attacker cannot steer (Rack's
//! `private_id`, CVE-2019-16782). There is no fallback to lookups by raw id.
//!
//! ```
//! use spysession_core::{SessionId, StoreKey};
//!
//! let id = SessionId::parse("000102030405060708090a0b0c0d0e0f")?;
//! let key = id.store_key();
//! assert_eq!(key, StoreKey::of(&id));
//! assert_eq!(&key.to_hex(), b"be45cb2605bf36bebde684841a28f0fd");
//! assert_eq!(StoreKey::parse(key.to_hex())?, key);
//! # Ok::<(), spysession_core::Error>(())
//! ```

use std::fmt;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::id::{hex16, parse_hex16, SessionId};

/// The key a store keeps one session's record under: the first 16 bytes of
/// SHA-256 over the session id's 16 raw bytes (see the module docs).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StoreKey([u8; 16]);

/// Length of the textual form of a store key.
pub const STORE_KEY_LEN: usize = 32;

impl StoreKey {
    /// The store key of `id`.
    pub fn of(id: &SessionId) -> StoreKey {
        let digest = Sha256::digest(id.as_bytes());
        let mut key = [0u8; 16];
        key.copy_from_slice(&digest[..16]);
        StoreKey(key)
    }

    /// Parses the textual form; anything but exactly 32 lowercase hex
    /// characters is [`Error::InvalidStoreKey`].
    pub fn parse(hex: impl AsRef<[u8]>) -> Result<StoreKey> {
        parse_hex16(hex.as_ref())
            .map(StoreKey)
            .ok_or(Error::InvalidStoreKey)
    }

    /// A store key from its 16 raw bytes (as a store reads it back).
    pub fn from_bytes(bytes: [u8; 16]) -> StoreKey {
        StoreKey(bytes)
    }

    /// The 16 raw bytes (the key a `DbmStore` uses on disk).
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// The 32-character textual form, without allocating.
    pub fn to_hex(&self) -> [u8; STORE_KEY_LEN] {
        hex16(&self.0)
    }
}

impl fmt::Display for StoreKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // to_hex writes only ASCII hex digits.
        f.write_str(std::str::from_utf8(&self.to_hex()).unwrap_or_default())
    }
}

impl fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoreKey({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_the_first_half_of_sha256_of_the_raw_id() {
        // SHA-256 of the 16 bytes 00 01 .. 0f, computed independently
        // (Python: `hashlib.sha256(bytes(range(16))).hexdigest()`).
        let id = SessionId::from_bytes(std::array::from_fn(|i| i as u8));
        let full = "be45cb2605bf36bebde684841a28f0fd43c69850a3dce5fedba69928ee3a8991";
        assert_eq!(StoreKey::of(&id).to_string(), full[..32]);
        assert_eq!(id.store_key(), StoreKey::of(&id));
    }

    #[test]
    fn keys_differ_from_their_ids_and_from_each_other() {
        let (a, b) = (SessionId::generate(), SessionId::generate());
        assert_ne!(a.store_key(), b.store_key());
        assert_ne!(a.store_key().as_bytes(), a.as_bytes());
        assert_ne!(a.store_key().to_hex(), a.to_hex());
    }

    #[test]
    fn parse_takes_exactly_32_lowercase_hex() {
        let key = SessionId::generate().store_key();
        assert_eq!(StoreKey::parse(key.to_hex()).unwrap(), key);
        assert_eq!(StoreKey::from_bytes(*key.as_bytes()), key);
        let good = key.to_string();
        for bad in [
            String::new(),
            good[..31].to_owned(),
            format!("{good}0"),
            good.to_uppercase(),
            format!("{}g", &good[..31]),
            format!("{} ", &good[..31]),
        ] {
            assert!(
                matches!(StoreKey::parse(&bad), Err(Error::InvalidStoreKey)),
                "{bad:?} accepted"
            );
        }
    }
}
