//! # spysession-ffi: the C ABI of spysession
//!
//! Built as `libspysession.so` / `libspysession.a`; the header
//! `include/spysession.h` is generated from this crate by cbindgen
//! (`ffi/cbindgen.toml`) and checked by `tests/header.rs`.
//!
//! Every exported function has one shape (see `guard.rs`): a panic boundary
//! (a panic becomes `SPS_PANIC`, never an unwind into C), then argument
//! checks (NULL, lengths, UTF-8) that fail with `SPS_INVALID_ARGUMENT`, then
//! the logic; engine errors become status codes in one place (`status.rs`);
//! out-pointers are written only on success.
//!
//! Ownership: `sps_store` and `sps_manager` are shared (each handle holds an
//! `Arc` of the engine object, so a manager keeps its store alive and a
//! session keeps its manager alive); `sps_session` belongs to one request
//! (a `Box`). Memory handed out (`sps_buf`, `sps_keys`) is freed by the
//! library's own `_free` functions, which all accept NULL.
//!
//! Decisions where the spec is silent:
//! - `sps_last_error` is errno-like: set by failing calls, left alone by
//!   successful ones.
//! - Typed getters are strict (an int is not a float); `sps_session_get_type`
//!   and the MessagePack getter cover the rest.
//! - `sps_session_commit` returns `SPS_NOT_FOUND` when the changes were
//!   dropped (no resurrection).
//! - A request path that is not UTF-8 is matched after lossy conversion.
//! - Options structs carry `struct_size`, set by their `_init` function from
//!   the caller's `sizeof`, so a library and a header that disagree are
//!   caught as `SPS_INVALID_ARGUMENT` rather than misread.

#![deny(missing_docs)]
#![allow(non_camel_case_types)]
// Every `unsafe extern "C" fn` documents its contract in a `# Safety`
// section, which also goes into the header.
#![warn(clippy::missing_safety_doc)]

mod buf;
mod custom;
mod guard;
mod manager;
mod redis;
mod session;
mod status;
mod store;
mod values;

use std::ffi::c_char;

pub use buf::{sps_buf, sps_buf_free, sps_keys, sps_keys_free, sps_keys_get, sps_keys_len};
pub use custom::*;
pub use manager::*;
pub use redis::*;
pub use session::*;
pub use status::{sps_last_error, sps_status, sps_status_name};
pub use store::*;
pub use values::*;

/// Major version of the library this header belongs to.
pub const SPS_VERSION_MAJOR: u32 = 0;
/// Minor version.
pub const SPS_VERSION_MINOR: u32 = 2;
/// Patch version.
pub const SPS_VERSION_PATCH: u32 = 0;
/// The version as one number, `major * 10000 + minor * 100 + patch`, for
/// `#if SPS_VERSION_NUMBER >= ...` tests.
pub const SPS_VERSION_NUMBER: u32 = 200;

/// The library's version, e.g. `"0.2.0"` (compare with SPS_VERSION_MAJOR
/// etc. to detect a header and library that differ). A static string: do
/// not free it.
#[no_mangle]
pub extern "C" fn sps_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_constants_match_cargo_toml() {
        let part = |s: &str| s.parse::<u32>().unwrap();
        let (major, minor, patch) = (
            part(env!("CARGO_PKG_VERSION_MAJOR")),
            part(env!("CARGO_PKG_VERSION_MINOR")),
            part(env!("CARGO_PKG_VERSION_PATCH")),
        );
        assert_eq!(SPS_VERSION_MAJOR, major);
        assert_eq!(SPS_VERSION_MINOR, minor);
        assert_eq!(SPS_VERSION_PATCH, patch);
        assert_eq!(SPS_VERSION_NUMBER, major * 10000 + minor * 100 + patch);
        let v = unsafe { std::ffi::CStr::from_ptr(sps_version()) };
        assert_eq!(v.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
    }
}
