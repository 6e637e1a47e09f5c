//! Typed get/set of session values: str, bytes, int, float, bool, and raw
//! MessagePack for anything else (lists, maps, nil, ext, big unsigned ints).
//!
//! Getters are strict: an int is not a float, a bool is not an int. A value
//! written here is the same value Python reads (and back), for every type.

use std::ffi::c_char;

use spysession_core::Value;

use crate::buf::sps_buf;
use crate::guard::{arg_mut, arg_ref, bytes, guard, text, Out};
use crate::session::sps_session;
use crate::status::{sps_status, FfiError, FfiResult};

/// Value type: nil (Python `None`).
pub const SPS_TYPE_NIL: u32 = 0;
/// Value type: bool.
pub const SPS_TYPE_BOOL: u32 = 1;
/// Value type: integer (int64, or uint64 above INT64_MAX: read it as MessagePack).
pub const SPS_TYPE_INT: u32 = 2;
/// Value type: 64-bit float.
pub const SPS_TYPE_FLOAT: u32 = 3;
/// Value type: UTF-8 string.
pub const SPS_TYPE_STR: u32 = 4;
/// Value type: byte string.
pub const SPS_TYPE_BYTES: u32 = 5;
/// Value type: list.
pub const SPS_TYPE_LIST: u32 = 6;
/// Value type: map with string keys.
pub const SPS_TYPE_MAP: u32 = 7;
/// Value type: MessagePack extension (code 1: a Python pickle).
pub const SPS_TYPE_EXT: u32 = 8;

/// Runs `read` on the value of `key` (NOT_FOUND when unset).
unsafe fn with_value<T>(
    session: *const sps_session,
    key: *const c_char,
    key_len: usize,
    out: *mut T,
    read: impl FnOnce(&Value) -> FfiResult<T>,
) -> sps_status {
    guard(|| {
        // SAFETY: `session` is as the `# Safety` section requires.
        let session = unsafe { arg_ref(session, "session") }?;
        // SAFETY: `key` is as the `# Safety` section requires.
        let key = unsafe { text(key, key_len, "key") }?;
        // SAFETY: `out` is as the `# Safety` section requires.
        let out = unsafe { Out::new(out, "out") }?;
        let value = session
            .inner
            .get(key)
            .ok_or_else(|| FfiError::not_found(format!("no key {key:?}")))?;
        out.write(read(value)?);
        Ok(())
    })
}

fn mismatch(key_type: &str, wanted: &str) -> FfiError {
    FfiError::new(
        sps_status::SPS_TYPE_MISMATCH,
        format!("the value is a {key_type}, not a {wanted}"),
    )
}

/// Sets `key` to `value` after checking the session argument.
unsafe fn set(
    session: *mut sps_session,
    key: *const c_char,
    key_len: usize,
    value: impl FnOnce() -> FfiResult<Value>,
) -> sps_status {
    guard(|| {
        // SAFETY: `session` is as the `# Safety` section requires.
        let session = unsafe { arg_mut(session, "session") }?;
        // SAFETY: `key` is as the `# Safety` section requires.
        let key = unsafe { text(key, key_len, "key") }?;
        let value = value()?;
        session.inner.set(key, value);
        Ok(())
    })
}

/// `*out_type`: the SPS_TYPE_* of the value of `key`; SPS_NOT_FOUND if unset.
///
/// # Safety
/// `session` is NULL or live; `key` points to `key_len` bytes; `out_type` is
/// NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn sps_session_get_type(
    session: *const sps_session,
    key: *const c_char,
    key_len: usize,
    out_type: *mut u32,
) -> sps_status {
    // SAFETY: the pointers passed on are valid as our `# Safety` section requires.
    unsafe {
        with_value(session, key, key_len, out_type, |v| {
            Ok(match v {
                Value::Nil => SPS_TYPE_NIL,
                Value::Bool(_) => SPS_TYPE_BOOL,
                Value::Int(_) | Value::UInt(_) => SPS_TYPE_INT,
                Value::Float(_) => SPS_TYPE_FLOAT,
                Value::Str(_) => SPS_TYPE_STR,
                Value::Bytes(_) => SPS_TYPE_BYTES,
                Value::List(_) => SPS_TYPE_LIST,
                Value::Map(_) => SPS_TYPE_MAP,
                _ => SPS_TYPE_EXT,
            })
        })
    }
}

/// The string value of `key` (UTF-8, NUL-terminated copy; free with
/// sps_buf_free). SPS_NOT_FOUND if unset, SPS_TYPE_MISMATCH if not a string.
///
/// # Safety
/// `session` is NULL or live; `key` points to `key_len` bytes; `out_value`
/// is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn sps_session_get_str(
    session: *const sps_session,
    key: *const c_char,
    key_len: usize,
    out_value: *mut sps_buf,
) -> sps_status {
    // SAFETY: the pointers passed on are valid as our `# Safety` section requires.
    unsafe {
        with_value(session, key, key_len, out_value, |v| match v {
            Value::Str(s) => Ok(sps_buf::from_vec(s.as_bytes().to_vec())),
            other => Err(mismatch(other.type_name(), "str")),
        })
    }
}

/// The byte-string value of `key` (a copy; free with sps_buf_free).
/// SPS_NOT_FOUND if unset, SPS_TYPE_MISMATCH if not bytes.
///
/// # Safety
/// As sps_session_get_str.
#[no_mangle]
pub unsafe extern "C" fn sps_session_get_bytes(
    session: *const sps_session,
    key: *const c_char,
    key_len: usize,
    out_value: *mut sps_buf,
) -> sps_status {
    // SAFETY: the pointers passed on are valid as our `# Safety` section requires.
    unsafe {
        with_value(session, key, key_len, out_value, |v| match v {
            Value::Bytes(b) => Ok(sps_buf::from_vec(b.clone())),
            other => Err(mismatch(other.type_name(), "bytes")),
        })
    }
}

/// The integer value of `key`. SPS_NOT_FOUND if unset, SPS_TYPE_MISMATCH if
/// not an integer (a bool or float is not) or above INT64_MAX.
///
/// # Safety
/// `session` is NULL or live; `key` points to `key_len` bytes; `out_value`
/// is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn sps_session_get_int(
    session: *const sps_session,
    key: *const c_char,
    key_len: usize,
    out_value: *mut i64,
) -> sps_status {
    // SAFETY: the pointers passed on are valid as our `# Safety` section requires.
    unsafe {
        with_value(session, key, key_len, out_value, |v| match v {
            Value::Int(i) => Ok(*i),
            Value::UInt(u) => Err(FfiError::new(
                sps_status::SPS_TYPE_MISMATCH,
                format!("{u} does not fit an int64 (read it with sps_session_get_msgpack)"),
            )),
            other => Err(mismatch(other.type_name(), "int")),
        })
    }
}

/// The float value of `key`. SPS_NOT_FOUND if unset, SPS_TYPE_MISMATCH if
/// not a float (an integer is not).
///
/// # Safety
/// As sps_session_get_int.
#[no_mangle]
pub unsafe extern "C" fn sps_session_get_float(
    session: *const sps_session,
    key: *const c_char,
    key_len: usize,
    out_value: *mut f64,
) -> sps_status {
    // SAFETY: the pointers passed on are valid as our `# Safety` section requires.
    unsafe {
        with_value(session, key, key_len, out_value, |v| match v {
            Value::Float(f) => Ok(*f),
            other => Err(mismatch(other.type_name(), "float")),
        })
    }
}

/// The boolean value of `key`. SPS_NOT_FOUND if unset, SPS_TYPE_MISMATCH if
/// not a bool.
///
/// # Safety
/// As sps_session_get_int.
#[no_mangle]
pub unsafe extern "C" fn sps_session_get_bool(
    session: *const sps_session,
    key: *const c_char,
    key_len: usize,
    out_value: *mut bool,
) -> sps_status {
    // SAFETY: the pointers passed on are valid as our `# Safety` section requires.
    unsafe {
        with_value(session, key, key_len, out_value, |v| match v {
            Value::Bool(b) => Ok(*b),
            other => Err(mismatch(other.type_name(), "bool")),
        })
    }
}

/// The value of `key`, whatever its type, as one MessagePack value (free
/// with sps_buf_free). SPS_NOT_FOUND if unset.
///
/// # Safety
/// As sps_session_get_str.
#[no_mangle]
pub unsafe extern "C" fn sps_session_get_msgpack(
    session: *const sps_session,
    key: *const c_char,
    key_len: usize,
    out_value: *mut sps_buf,
) -> sps_status {
    // SAFETY: the pointers passed on are valid as our `# Safety` section requires.
    unsafe {
        with_value(session, key, key_len, out_value, |v| {
            Ok(sps_buf::from_vec(v.to_msgpack()))
        })
    }
}

/// Sets `key` to a string; `value` must be UTF-8 (else SPS_INVALID_ARGUMENT).
///
/// # Safety
/// `session` is NULL or live; `key` and `value` point to their lengths in bytes.
#[no_mangle]
pub unsafe extern "C" fn sps_session_set_str(
    session: *mut sps_session,
    key: *const c_char,
    key_len: usize,
    value: *const c_char,
    value_len: usize,
) -> sps_status {
    // SAFETY: the pointers passed on are valid as our `# Safety` section requires.
    unsafe {
        set(session, key, key_len, || {
            Ok(Value::Str(text(value, value_len, "value")?.to_owned()))
        })
    }
}

/// Sets `key` to a byte string (copied).
///
/// # Safety
/// As sps_session_set_str.
#[no_mangle]
pub unsafe extern "C" fn sps_session_set_bytes(
    session: *mut sps_session,
    key: *const c_char,
    key_len: usize,
    value: *const u8,
    value_len: usize,
) -> sps_status {
    // SAFETY: the pointers passed on are valid as our `# Safety` section requires.
    unsafe {
        set(session, key, key_len, || {
            Ok(Value::Bytes(
                bytes(value.cast(), value_len, "value")?.to_vec(),
            ))
        })
    }
}

/// Sets `key` to an integer.
///
/// # Safety
/// `session` is NULL or live; `key` points to `key_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn sps_session_set_int(
    session: *mut sps_session,
    key: *const c_char,
    key_len: usize,
    value: i64,
) -> sps_status {
    // SAFETY: the pointers passed on are valid as our `# Safety` section requires.
    unsafe { set(session, key, key_len, || Ok(Value::Int(value))) }
}

/// Sets `key` to a float.
///
/// # Safety
/// As sps_session_set_int.
#[no_mangle]
pub unsafe extern "C" fn sps_session_set_float(
    session: *mut sps_session,
    key: *const c_char,
    key_len: usize,
    value: f64,
) -> sps_status {
    // SAFETY: the pointers passed on are valid as our `# Safety` section requires.
    unsafe { set(session, key, key_len, || Ok(Value::Float(value))) }
}

/// Sets `key` to a boolean.
///
/// # Safety
/// As sps_session_set_int.
#[no_mangle]
pub unsafe extern "C" fn sps_session_set_bool(
    session: *mut sps_session,
    key: *const c_char,
    key_len: usize,
    value: bool,
) -> sps_status {
    // SAFETY: the pointers passed on are valid as our `# Safety` section requires.
    unsafe { set(session, key, key_len, || Ok(Value::Bool(value))) }
}

/// Sets `key` to the value encoded in `value` (exactly one MessagePack
/// value; maps must have string keys). Anything else is SPS_INVALID_ARGUMENT
/// and the session is unchanged.
///
/// # Safety
/// `session` is NULL or live; `key` and `value` point to their lengths in bytes.
#[no_mangle]
pub unsafe extern "C" fn sps_session_set_msgpack(
    session: *mut sps_session,
    key: *const c_char,
    key_len: usize,
    value: *const u8,
    value_len: usize,
) -> sps_status {
    // SAFETY: the pointers passed on are valid as our `# Safety` section requires.
    unsafe {
        set(session, key, key_len, || {
            let bytes = bytes(value.cast(), value_len, "value")?;
            Value::from_msgpack(bytes).map_err(|e| FfiError::invalid(format!("value: {e}")))
        })
    }
}
