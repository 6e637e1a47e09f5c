//! Signed pickles: what lets `pickle=True` read a pickle back without
//! letting whoever can write to the store run code in this process.
//!
//! A pickled value is stored as `Ext(EXT_PICKLE, tag || pickle)` (layout in
//! `spysession_core::ext::ExtValue::Pickle`), where `tag` is
//! HMAC-SHA256 under the site's secret key over the session's store key (16
//! bytes) followed by the pickle bytes. Binding the tag to the store key
//! means a signed pickle copied into another session's record does not
//! verify there. The tag is checked in constant time (`verify_slice`)
//! before `pickle.loads` ever sees the bytes; a value that fails is never
//! unpickled.
//!
//! Keys rotate: the first key signs, every key verifies, so a site adds a
//! new key in front, and drops the old one once every session has been
//! rewritten or has expired (a session rewritten under the new key is
//! re-signed whenever it is committed with a change).

use hmac::{Hmac, Mac};
use sha2::Sha256;
use spysession_core::ext::PICKLE_TAG_LEN;

type HmacSha256 = Hmac<Sha256>;

/// Shortest secret key accepted, in bytes (SPEC §3).
pub const MIN_KEY_LEN: usize = 32;

/// The site's pickle-signing keys: the first signs, all verify.
pub struct PickleKeys {
    keys: Vec<Vec<u8>>,
}

impl PickleKeys {
    /// Keys in order (first signs). None when empty or when one is shorter
    /// than [`MIN_KEY_LEN`] (the caller says which option was wrong).
    pub fn new(keys: Vec<Vec<u8>>) -> Option<Self> {
        (!keys.is_empty() && keys.iter().all(|k| k.len() >= MIN_KEY_LEN))
            .then_some(PickleKeys { keys })
    }

    fn mac(key: &[u8], store_key: &[u8; 16], pickle: &[u8]) -> HmacSha256 {
        // HMAC takes keys of any length.
        let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts any key length");
        mac.update(store_key);
        mac.update(pickle);
        mac
    }

    /// The ext data of a signed pickle: tag, then the pickle bytes.
    pub fn sign(&self, store_key: &[u8; 16], pickle: &[u8]) -> Vec<u8> {
        let tag = Self::mac(&self.keys[0], store_key, pickle)
            .finalize()
            .into_bytes();
        let mut out = Vec::with_capacity(PICKLE_TAG_LEN + pickle.len());
        out.extend_from_slice(&tag);
        out.extend_from_slice(pickle);
        out
    }

    /// True when `tag` signs `pickle` for `store_key` under one of the keys.
    pub fn verify(&self, store_key: &[u8; 16], tag: &[u8], pickle: &[u8]) -> bool {
        self.keys
            .iter()
            .any(|key| Self::mac(key, store_key, pickle).verify_slice(tag).is_ok())
    }
}
