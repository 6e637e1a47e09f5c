//! Memory handed out to C: byte buffers ([`sps_buf`]) and key lists
//! ([`sps_keys`]), freed only by the library.

use std::ffi::c_char;
use std::ptr;

use crate::guard::{arg_ref, guard, guard_void, Out};
use crate::status::{sps_status, FfiError};

/// Bytes handed out by the library (a string value, a Set-Cookie header, a
/// MessagePack value, a record).
///
/// `data[len]` is always a NUL byte (not counted in `len`), so a string can
/// be printed with `%s` (it may hold NULs of its own: `len` is the truth).
/// `data` is NULL only for "nothing" (no Set-Cookie to send). Release it with
/// sps_buf_free, never free(). A zero-initialised `sps_buf` (`{0}`) is
/// always safe to pass to sps_buf_free.
#[repr(C)]
#[derive(Debug)]
pub struct sps_buf {
    /// The bytes, followed by one NUL byte; NULL only for "nothing".
    pub data: *mut u8,
    /// The number of bytes, the trailing NUL not counted.
    pub len: usize,
}

impl sps_buf {
    /// Hands `bytes` to C (with the trailing NUL).
    pub(crate) fn from_vec(mut bytes: Vec<u8>) -> Self {
        let len = bytes.len();
        bytes.push(0);
        let data = Box::into_raw(bytes.into_boxed_slice()).cast::<u8>();
        sps_buf { data, len }
    }

    /// "Nothing": data NULL, len 0.
    pub(crate) fn none() -> Self {
        sps_buf {
            data: ptr::null_mut(),
            len: 0,
        }
    }
}

/// Frees the bytes of `buf` and resets it to `{NULL, 0}`, so freeing twice
/// is harmless. NULL, and a buf whose data is NULL, are accepted.
///
/// # Safety
/// `buf` is NULL or points to an `sps_buf` filled by this library (or
/// zero-initialised) whose fields the caller did not change.
#[no_mangle]
pub unsafe extern "C" fn sps_buf_free(buf: *mut sps_buf) {
    guard_void(|| {
        // SAFETY: `buf` is NULL or valid, as the `# Safety` section requires.
        let Some(buf) = (unsafe { buf.as_mut() }) else {
            return;
        };
        if !buf.data.is_null() {
            // SAFETY: made by `from_vec`, a boxed slice of len + 1 bytes.
            drop(unsafe { Box::from_raw(ptr::slice_from_raw_parts_mut(buf.data, buf.len + 1)) });
        }
        *buf = sps_buf::none();
    });
}

/// A snapshot of a session's keys, in sorted order (sps_session_keys).
/// Owned by the caller; free it with sps_keys_free. Independent of the
/// session: it stays valid after the session changes or is freed.
pub struct sps_keys {
    /// Each key with a trailing NUL.
    keys: Vec<Box<[u8]>>,
}

impl sps_keys {
    pub(crate) fn new<'a>(keys: impl Iterator<Item = &'a str>) -> Self {
        let keys = keys
            .map(|k| {
                let mut v = Vec::with_capacity(k.len() + 1);
                v.extend_from_slice(k.as_bytes());
                v.push(0);
                v.into_boxed_slice()
            })
            .collect();
        sps_keys { keys }
    }
}

/// The number of keys in `keys`.
///
/// # Safety
/// `keys` is NULL or a live list from sps_session_keys; `out_len` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn sps_keys_len(keys: *const sps_keys, out_len: *mut usize) -> sps_status {
    guard(|| {
        // SAFETY: `keys` is as the `# Safety` section requires.
        let keys = unsafe { arg_ref(keys, "keys") }?;
        // SAFETY: `out_len` is as the `# Safety` section requires.
        let out = unsafe { Out::new(out_len, "out_len") }?;
        out.write(keys.keys.len());
        Ok(())
    })
}

/// Key number `index` (0-based, sorted order): `*out_key` points to its
/// UTF-8 bytes, NUL-terminated, owned by `keys` (valid until sps_keys_free),
/// and `*out_len` is its length. An index past the end is
/// SPS_INVALID_ARGUMENT.
///
/// # Safety
/// `keys` is NULL or a live list; `out_key` and `out_len` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn sps_keys_get(
    keys: *const sps_keys,
    index: usize,
    out_key: *mut *const c_char,
    out_len: *mut usize,
) -> sps_status {
    guard(|| {
        // SAFETY: `keys` is as the `# Safety` section requires.
        let keys = unsafe { arg_ref(keys, "keys") }?;
        // SAFETY: `out_key` is as the `# Safety` section requires.
        let out_key = unsafe { Out::new(out_key, "out_key") }?;
        // SAFETY: `out_len` is as the `# Safety` section requires.
        let out_len = unsafe { Out::new(out_len, "out_len") }?;
        let key = keys.keys.get(index).ok_or_else(|| {
            FfiError::invalid(format!(
                "index {index} is past the {} keys",
                keys.keys.len()
            ))
        })?;
        out_key.write(key.as_ptr().cast());
        out_len.write(key.len() - 1);
        Ok(())
    })
}

/// Frees a key list. NULL is accepted.
///
/// # Safety
/// `keys` is NULL or a list from sps_session_keys not yet freed.
#[no_mangle]
pub unsafe extern "C" fn sps_keys_free(keys: *mut sps_keys) {
    guard_void(|| {
        if !keys.is_null() {
            // SAFETY: `keys` came from this library's `Box::into_raw`, and the
            // caller does not use it again (the `# Safety` contract).
            drop(unsafe { Box::from_raw(keys) });
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buf_has_trailing_nul_and_frees_twice() {
        let mut buf = sps_buf::from_vec(b"abc".to_vec());
        assert_eq!(buf.len, 3);
        // SAFETY: `from_vec` allocates len + 1 bytes.
        assert_eq!(unsafe { *buf.data.add(3) }, 0);
        // SAFETY: `buf` is ours, filled by `from_vec`; freeing resets it.
        unsafe {
            sps_buf_free(&mut buf);
            assert!(buf.data.is_null());
            sps_buf_free(&mut buf);
            sps_buf_free(ptr::null_mut());
        }
    }
}
