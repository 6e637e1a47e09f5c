//! The shape every exported function has: a panic boundary around the body,
//! then argument checks (NULL, lengths, UTF-8) through the helpers here,
//! then the logic. Out-pointers are written last, so only on success.

use std::any::Any;
use std::ffi::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::status::{record, sps_status, FfiError, FfiResult};

/// Runs the body of an exported function: a panic becomes `SPS_PANIC`, an
/// error becomes its status, and either is recorded for `sps_last_error`.
pub(crate) fn guard(body: impl FnOnce() -> FfiResult) -> sps_status {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => sps_status::SPS_OK,
        Ok(Err(error)) => record(error),
        Err(payload) => record(FfiError::new(
            sps_status::SPS_PANIC,
            format!("panic inside spysession: {}", panic_message(&*payload)),
        )),
    }
}

/// For functions that return nothing (the `_free` functions): a panic is
/// recorded and swallowed, never unwound into C.
pub(crate) fn guard_void(body: impl FnOnce()) {
    let _ = guard(|| {
        body();
        Ok(())
    });
}

fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "(no message)"
    }
}

/// A required pointer to read through.
///
/// # Safety
/// `ptr` is NULL or valid for reads as a `T` for `'a`.
pub(crate) unsafe fn arg_ref<'a, T>(ptr: *const T, name: &str) -> FfiResult<&'a T> {
    ptr.as_ref()
        .ok_or_else(|| FfiError::invalid(format!("{name} is NULL")))
}

/// A required pointer to mutate through (a handle or an out-pointer).
///
/// # Safety
/// `ptr` is NULL or valid for reads and writes as a `T` for `'a`, unaliased.
pub(crate) unsafe fn arg_mut<'a, T>(ptr: *mut T, name: &str) -> FfiResult<&'a mut T> {
    ptr.as_mut()
        .ok_or_else(|| FfiError::invalid(format!("{name} is NULL")))
}

/// An out-pointer, checked for NULL now and written only at the end.
pub(crate) struct Out<T>(*mut T);

impl<T> Out<T> {
    /// # Safety
    /// `ptr` is NULL or valid for writes of a `T` until [`Out::write`].
    pub unsafe fn new(ptr: *mut T, name: &str) -> FfiResult<Self> {
        if ptr.is_null() {
            Err(FfiError::invalid(format!("{name} is NULL")))
        } else {
            Ok(Out(ptr))
        }
    }

    /// Writes the result (without reading or dropping the old contents,
    /// which may be uninitialised C memory).
    pub fn write(self, value: T) {
        // SAFETY: non-NULL checked in `new`; validity is the caller's promise.
        unsafe { self.0.write(value) }
    }
}

/// A pointer + length argument: NULL with length 0 is `None` (absent),
/// NULL with a length is refused.
///
/// # Safety
/// A non-NULL `ptr` is valid for reads of `len` bytes for `'a`.
pub(crate) unsafe fn opt_bytes<'a>(
    ptr: *const c_char,
    len: usize,
    name: &str,
) -> FfiResult<Option<&'a [u8]>> {
    if ptr.is_null() {
        return if len == 0 {
            Ok(None)
        } else {
            Err(FfiError::invalid(format!(
                "{name} is NULL with length {len}"
            )))
        };
    }
    if len > isize::MAX as usize {
        return Err(FfiError::invalid(format!("{name}_len {len} is too large")));
    }
    Ok(Some(std::slice::from_raw_parts(ptr.cast::<u8>(), len)))
}

/// A pointer + length argument where NULL with length 0 is the empty string.
///
/// # Safety
/// As [`opt_bytes`].
pub(crate) unsafe fn bytes<'a>(ptr: *const c_char, len: usize, name: &str) -> FfiResult<&'a [u8]> {
    Ok(opt_bytes(ptr, len, name)?.unwrap_or_default())
}

/// A pointer + length argument that must be UTF-8.
///
/// # Safety
/// As [`opt_bytes`].
pub(crate) unsafe fn text<'a>(ptr: *const c_char, len: usize, name: &str) -> FfiResult<&'a str> {
    std::str::from_utf8(bytes(ptr, len, name)?)
        .map_err(|e| FfiError::invalid(format!("{name} is not valid UTF-8: {e}")))
}

/// Like [`text`], `None` when absent (NULL with length 0).
///
/// # Safety
/// As [`opt_bytes`].
pub(crate) unsafe fn opt_text<'a>(
    ptr: *const c_char,
    len: usize,
    name: &str,
) -> FfiResult<Option<&'a str>> {
    match opt_bytes(ptr, len, name)? {
        None => Ok(None),
        Some(b) => std::str::from_utf8(b)
            .map(Some)
            .map_err(|e| FfiError::invalid(format!("{name} is not valid UTF-8: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_becomes_status_with_message() {
        let status = guard(|| panic!("boom {}", 42));
        assert_eq!(status, sps_status::SPS_PANIC);
        let msg = unsafe { std::ffi::CStr::from_ptr(crate::status::sps_last_error()) };
        assert!(msg.to_str().unwrap().contains("boom 42"), "{msg:?}");
    }

    #[test]
    fn null_with_length_is_refused_and_null_without_is_absent() {
        unsafe {
            assert!(opt_bytes(std::ptr::null(), 0, "x").unwrap().is_none());
            assert_eq!(bytes(std::ptr::null(), 0, "x").unwrap(), b"");
            let e = opt_bytes(std::ptr::null(), 3, "x").unwrap_err();
            assert_eq!(e.status, sps_status::SPS_INVALID_ARGUMENT);
            let bad = [0xffu8, 0xfe];
            let e = text(bad.as_ptr().cast(), 2, "key").unwrap_err();
            assert!(e.message.contains("UTF-8"));
        }
    }
}
