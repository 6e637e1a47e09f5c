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
//!   the caller's `sizeof`. New fields are only ever added at the end, with
//!   zero as their default. A library accepts its own size, and a larger
//!   one (a program built against a newer header) as long as the bytes past
//!   its own are zero (the `_init` function zeroes them): a newer field that
//!   the program set is `SPS_INVALID_ARGUMENT`, never silently ignored
//!   (Linux's rule for `openat2`'s struct). A smaller size is refused.

#![deny(missing_docs)]
#![allow(non_camel_case_types)]
// Every `unsafe extern "C" fn` documents its contract in a `# Safety`
// section, which also goes into the header.
#![warn(clippy::missing_safety_doc)]
// Each unsafe operation sits in its own `unsafe` block with the argument
// for it (`// SAFETY:`), inside unsafe functions too.
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

mod buf;
mod custom;
mod guard;
mod manager;
mod redis;
mod session;
mod status;
mod store;
mod url;
mod values;

use std::ffi::c_char;

pub use buf::{sps_buf, sps_buf_free, sps_keys, sps_keys_free, sps_keys_get, sps_keys_len};
pub use custom::*;
pub use manager::*;
pub use redis::*;
pub use session::*;
pub use status::{sps_last_error, sps_status, sps_status_name};
pub use store::*;
pub use url::sps_store_open_url;
pub use values::*;

/// The library's version, e.g. `"0.2.0"` (compare with SPS_VERSION_STRING
/// to detect a header and library that differ; the header's version macros
/// are written by ffi/tests/header.rs from the same Cargo.toml). A static string: do
/// not free it.
#[no_mangle]
pub extern "C" fn sps_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_is_cargo_toml_s() {
        // SAFETY: sps_version returns a static NUL-terminated string.
        let v = unsafe { std::ffi::CStr::from_ptr(sps_version()) };
        assert_eq!(v.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
    }
}
