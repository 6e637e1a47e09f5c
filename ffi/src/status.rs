//! Status codes, the one mapping from engine errors to them, and the
//! thread-local last error message.

use std::cell::RefCell;
use std::ffi::{c_char, CString};

use spysession_core::Error;

/// The result of every fallible function. `SPS_OK` (0) is success.
///
/// Values are stable: a code is never renumbered, and a retired code is
/// never reused. New codes may be added; treat an unknown one as an error.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum sps_status {
    /// Success.
    SPS_OK = 0,
    /// No such key, record or session; for sps_session_commit: the session
    /// was gone (invalidated or expired meanwhile) and the changes were dropped.
    SPS_NOT_FOUND = 1,
    /// A NULL where a pointer is required, a bad length, invalid UTF-8, a
    /// malformed session id, an out-of-range index.
    SPS_INVALID_ARGUMENT = 2,
    /// The value under the key has another type than the one asked for.
    SPS_TYPE_MISMATCH = 3,
    /// An I/O or LMDB error, or a custom store callback that failed with a
    /// status that is not one of these codes.
    SPS_IO = 4,
    /// The store has no room left (raise the LMDB map size).
    SPS_STORE_FULL = 5,
    /// A stored record (or given MessagePack) could not be decoded, or the
    /// store's files are damaged (LMDB reports corruption: an error for
    /// every call, never a fresh session).
    SPS_CORRUPT = 6,
    /// A panic inside the library (a bug): the message says where.
    SPS_PANIC = 7,
    /// A manager option was refused; the message names the option.
    SPS_CONFIG = 8,
    /// The store does not support the call (sps_store_len on a custom
    /// store), or was written in a format this version does not read (a
    /// DbmStore directory of spysession 0.1: the message names the version).
    SPS_UNSUPPORTED = 9,
    /// The store was closed.
    SPS_CLOSED = 10,
}

impl sps_status {
    /// The code's name, e.g. `"SPS_OK"`.
    pub fn name(self) -> &'static str {
        match self {
            sps_status::SPS_OK => "SPS_OK",
            sps_status::SPS_NOT_FOUND => "SPS_NOT_FOUND",
            sps_status::SPS_INVALID_ARGUMENT => "SPS_INVALID_ARGUMENT",
            sps_status::SPS_TYPE_MISMATCH => "SPS_TYPE_MISMATCH",
            sps_status::SPS_IO => "SPS_IO",
            sps_status::SPS_STORE_FULL => "SPS_STORE_FULL",
            sps_status::SPS_CORRUPT => "SPS_CORRUPT",
            sps_status::SPS_PANIC => "SPS_PANIC",
            sps_status::SPS_CONFIG => "SPS_CONFIG",
            sps_status::SPS_UNSUPPORTED => "SPS_UNSUPPORTED",
            sps_status::SPS_CLOSED => "SPS_CLOSED",
        }
    }

    /// The status with numeric value `code`, if there is one.
    pub fn from_code(code: u32) -> Option<Self> {
        const ALL: [sps_status; 11] = [
            sps_status::SPS_OK,
            sps_status::SPS_NOT_FOUND,
            sps_status::SPS_INVALID_ARGUMENT,
            sps_status::SPS_TYPE_MISMATCH,
            sps_status::SPS_IO,
            sps_status::SPS_STORE_FULL,
            sps_status::SPS_CORRUPT,
            sps_status::SPS_PANIC,
            sps_status::SPS_CONFIG,
            sps_status::SPS_UNSUPPORTED,
            sps_status::SPS_CLOSED,
        ];
        ALL.into_iter().find(|s| *s as u32 == code)
    }
}

/// A failed call: the status to return and the message for sps_last_error.
#[derive(Debug)]
pub(crate) struct FfiError {
    pub status: sps_status,
    pub message: String,
}

/// What the body of every exported function returns.
pub(crate) type FfiResult<T = ()> = Result<T, FfiError>;

impl FfiError {
    pub fn new(status: sps_status, message: impl Into<String>) -> Self {
        FfiError {
            status,
            message: message.into(),
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(sps_status::SPS_INVALID_ARGUMENT, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(sps_status::SPS_NOT_FOUND, message)
    }
}

/// The error a C store callback returned, kept as the cause of an
/// [`Error::Custom`] so its status comes back out unchanged.
#[derive(Debug)]
pub(crate) struct CallbackError {
    pub callback: &'static str,
    pub code: u32,
}

impl std::fmt::Display for CallbackError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = sps_status::from_code(self.code).map_or("an unknown status", |s| s.name());
        write!(
            f,
            "the {} callback returned {} ({name})",
            self.callback, self.code
        )
    }
}

impl std::error::Error for CallbackError {}

/// The one place engine errors become status codes.
impl From<Error> for FfiError {
    fn from(error: Error) -> Self {
        let status = match &error {
            // LMDB's reports of a damaged file: the store is corrupt.
            e if e.is_store_damage() => sps_status::SPS_CORRUPT,
            Error::Io(_) | Error::Lmdb(_) => sps_status::SPS_IO,
            Error::StoreFull => sps_status::SPS_STORE_FULL,
            Error::Corrupt(_) => sps_status::SPS_CORRUPT,
            Error::InvalidId | Error::InvalidStoreKey => sps_status::SPS_INVALID_ARGUMENT,
            Error::StoreVersion { .. } => sps_status::SPS_UNSUPPORTED,
            Error::Config { .. } => sps_status::SPS_CONFIG,
            Error::Type(_) => sps_status::SPS_TYPE_MISMATCH,
            Error::Closed => sps_status::SPS_CLOSED,
            Error::Unsupported(_) => sps_status::SPS_UNSUPPORTED,
            Error::Custom(cause) => cause
                .downcast_ref::<CallbackError>()
                .and_then(|c| sps_status::from_code(c.code))
                .filter(|s| *s != sps_status::SPS_OK)
                .unwrap_or(sps_status::SPS_IO),
            _ => sps_status::SPS_IO,
        };
        FfiError::new(status, error.to_string())
    }
}

thread_local! {
    static LAST_ERROR: RefCell<Option<CString>> = const { RefCell::new(None) };
}

/// Records `error` as this thread's last error and returns its status.
pub(crate) fn record(error: FfiError) -> sps_status {
    let text = format!("{}: {}", error.status.name(), error.message).replace('\0', "\\0");
    let text = CString::new(text).unwrap_or_default();
    LAST_ERROR.with(|cell| *cell.borrow_mut() = Some(text));
    error.status
}

/// The message of the most recent call on this thread that did not return
/// SPS_OK, e.g. `"SPS_CONFIG: invalid option expire: ..."`; `""` when no call
/// on this thread has failed yet.
///
/// Successful calls leave it unchanged, so read it right after a failure.
/// The pointer is NUL-terminated, owned by the library, never NULL, and valid
/// until the next failing call on this thread; do not free it.
#[no_mangle]
pub extern "C" fn sps_last_error() -> *const c_char {
    LAST_ERROR.with(|cell| match &*cell.borrow() {
        Some(text) => text.as_ptr(),
        None => c"".as_ptr(),
    })
}

/// The name of a status code (`"SPS_NOT_FOUND"`), or `"SPS_UNKNOWN"` for a
/// value that is not one. A static string: do not free it.
#[no_mangle]
pub extern "C" fn sps_status_name(status: u32) -> *const c_char {
    match sps_status::from_code(status) {
        // Every name is a literal without NUL; the table below keeps the
        // NUL-terminated copies.
        Some(s) => STATUS_NAMES[s as usize].as_ptr(),
        None => c"SPS_UNKNOWN".as_ptr(),
    }
}

const STATUS_NAMES: [&std::ffi::CStr; 11] = [
    c"SPS_OK",
    c"SPS_NOT_FOUND",
    c"SPS_INVALID_ARGUMENT",
    c"SPS_TYPE_MISMATCH",
    c"SPS_IO",
    c"SPS_STORE_FULL",
    c"SPS_CORRUPT",
    c"SPS_PANIC",
    c"SPS_CONFIG",
    c"SPS_UNSUPPORTED",
    c"SPS_CLOSED",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_table_matches_enum() {
        for (i, name) in STATUS_NAMES.iter().enumerate() {
            let status = sps_status::from_code(i as u32).unwrap();
            assert_eq!(name.to_str().unwrap(), status.name());
        }
        assert_eq!(sps_status::from_code(STATUS_NAMES.len() as u32), None);
    }

    #[test]
    fn callback_status_comes_back_unchanged() {
        let err = Error::Custom(Box::new(CallbackError {
            callback: "save",
            code: sps_status::SPS_STORE_FULL as u32,
        }));
        assert_eq!(FfiError::from(err).status, sps_status::SPS_STORE_FULL);
        let err = Error::Custom(Box::new(CallbackError {
            callback: "save",
            code: 999,
        }));
        assert_eq!(FfiError::from(err).status, sps_status::SPS_IO);
    }
}
