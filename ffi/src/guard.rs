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
    // SAFETY: NULL or valid for reads for `'a`, the caller's promise.
    unsafe { ptr.as_ref() }.ok_or_else(|| FfiError::invalid(format!("{name} is NULL")))
}

/// A required pointer to mutate through (a handle or an out-pointer).
///
/// # Safety
/// `ptr` is NULL or valid for reads and writes as a `T` for `'a`, unaliased.
pub(crate) unsafe fn arg_mut<'a, T>(ptr: *mut T, name: &str) -> FfiResult<&'a mut T> {
    // SAFETY: NULL or valid and unaliased for `'a`, the caller's promise.
    unsafe { ptr.as_mut() }.ok_or_else(|| FfiError::invalid(format!("{name} is NULL")))
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

/// An options struct (`struct_size` its first field) sized by the caller's
/// header. This library's size is always accepted; a larger one too (a
/// caller built against a newer header, whose fields are added at the end
/// and read zero at their defaults) when every byte past ours is zero, so a
/// newer field that was set is refused rather than silently ignored (the
/// rule of Linux's extensible structs, `openat2(2)`). A smaller one is
/// refused: no older layout exists. Returns `None` for NULL.
///
/// # Safety
/// `ptr` is NULL or points to a `T` whose first field is the `usize`
/// `struct_size`, readable for `struct_size` bytes, for `'a`.
pub(crate) unsafe fn options_ref<'a, T>(ptr: *const T, what: &str) -> FfiResult<Option<&'a T>> {
    if ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: non-NULL, and `struct_size` is its first field (the promise).
    let given = unsafe { ptr.cast::<usize>().read() };
    // SAFETY: readable for `given` bytes (the promise), which is checked
    // against `size_of::<T>()` before a byte past ours is read.
    unsafe { check_struct_size(ptr.cast::<u8>(), given, std::mem::size_of::<T>(), what) }?;
    // SAFETY: non-NULL, and at least a whole `T` is readable (just checked).
    Ok(Some(unsafe { &*ptr }))
}

/// For an `_init` function: the caller's `struct_size` is at least ours
/// (else refused, as [`options_ref`] would), and the bytes past ours (a
/// newer header's fields) are zeroed, so that [`options_ref`] accepts the
/// struct until the caller sets a field this library lacks.
///
/// # Safety
/// `ptr` is non-NULL and writable for `given` bytes.
pub(crate) unsafe fn init_size<T>(ptr: *mut T, given: usize, what: &str) -> FfiResult {
    let ours = std::mem::size_of::<T>();
    if given < ours {
        return Err(too_small(given, ours, what));
    }
    // SAFETY: `ours..given` lies inside the caller's writable struct.
    unsafe { ptr.cast::<u8>().add(ours).write_bytes(0, given - ours) };
    Ok(())
}

/// `given` (the caller's `struct_size`) against `ours`: see [`options_ref`].
///
/// # Safety
/// When `given > ours`, `ptr` is readable for `given` bytes.
pub(crate) unsafe fn check_struct_size(
    ptr: *const u8,
    given: usize,
    ours: usize,
    what: &str,
) -> FfiResult {
    if given < ours {
        return Err(too_small(given, ours, what));
    }
    if given > ours {
        // SAFETY: readable for `given` bytes, the promise.
        let tail = unsafe { std::slice::from_raw_parts(ptr.add(ours), given - ours) };
        if let Some(at) = tail.iter().position(|b| *b != 0) {
            return Err(FfiError::invalid(format!(
                "{what} sets a field at byte {} that this library (sizeof {ours}) does not know: \
                 a newer header than the library?",
                ours + at
            )));
        }
    }
    Ok(())
}

fn too_small(given: usize, ours: usize, what: &str) -> FfiError {
    FfiError::invalid(format!(
        "struct_size {given} is smaller than sizeof({what}) = {ours} (an older header?)"
    ))
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
    // SAFETY: non-NULL, valid for `len` bytes (the caller's promise), and
    // `len` fits an `isize` (checked above), as a slice requires.
    Ok(Some(unsafe {
        std::slice::from_raw_parts(ptr.cast::<u8>(), len)
    }))
}

/// A pointer + length argument where NULL with length 0 is the empty string.
///
/// # Safety
/// As [`opt_bytes`].
pub(crate) unsafe fn bytes<'a>(ptr: *const c_char, len: usize, name: &str) -> FfiResult<&'a [u8]> {
    // SAFETY: the same promise as ours.
    Ok(unsafe { opt_bytes(ptr, len, name) }?.unwrap_or_default())
}

/// A pointer + length argument that must be UTF-8.
///
/// # Safety
/// As [`opt_bytes`].
pub(crate) unsafe fn text<'a>(ptr: *const c_char, len: usize, name: &str) -> FfiResult<&'a str> {
    // SAFETY: the same promise as ours.
    std::str::from_utf8(unsafe { bytes(ptr, len, name) }?)
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
    // SAFETY: the same promise as ours.
    match unsafe { opt_bytes(ptr, len, name) }? {
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
        // SAFETY: sps_last_error returns a NUL-terminated string.
        let msg = unsafe { std::ffi::CStr::from_ptr(crate::status::sps_last_error()) };
        assert!(msg.to_str().unwrap().contains("boom 42"), "{msg:?}");
    }

    #[test]
    fn null_with_length_is_refused_and_null_without_is_absent() {
        // SAFETY: NULL pointers and a live two-byte array, as promised.
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

    #[repr(C)]
    #[derive(Debug)]
    struct Opts {
        struct_size: usize,
        a: u32,
    }

    #[test]
    fn a_larger_struct_is_accepted_while_its_tail_is_zero() {
        let ours = std::mem::size_of::<Opts>();
        let given = ours + 8; // a caller's struct with one newer field
        let mut memory = [0u64; 8];
        let ptr = memory.as_mut_ptr().cast::<Opts>();
        // SAFETY: 64 writable bytes aligned for `Opts`, more than `given`.
        unsafe {
            ptr.cast::<u8>().add(ours).write(0xaa);
            init_size(ptr, given, "opts").unwrap();
            assert_eq!(
                *ptr.cast::<u8>().add(ours),
                0,
                "init zeroes the newer fields"
            );
            ptr.write(Opts {
                struct_size: given,
                a: 7,
            });
            assert_eq!(options_ref(ptr, "opts").unwrap().unwrap().a, 7);
            ptr.cast::<u8>().add(ours + 3).write(1);
            let e = options_ref(ptr, "opts").unwrap_err();
            assert!(e.message.contains("does not know"), "{}", e.message);
            (*ptr).struct_size = ours - 1;
            assert!(options_ref(ptr, "opts")
                .unwrap_err()
                .message
                .contains("smaller"));
            assert!(init_size(ptr, ours - 1, "opts").is_err());
            assert!(options_ref(std::ptr::null::<Opts>(), "opts")
                .unwrap()
                .is_none());
        }
    }
}
