//! A Python `str` read as `&str` in place, without a copy.
//!
//! Why not pyo3's own conversions: in an `abi3-py39` build pyo3 cannot name
//! `PyUnicode_AsUTF8AndSize` (it joined the limited API in 3.10), so every
//! `&str` it hands out goes through a new `bytes` object. That function is
//! exported by every CPython 3 with the same signature and semantics, and
//! `str` objects cache their UTF-8 form (an ASCII `str` *is* its UTF-8), so
//! session keys, the Cookie header and the request path are read where they
//! lie.

use std::os::raw::c_char;

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyString;

extern "C" {
    fn PyUnicode_AsUTF8AndSize(
        unicode: *mut ffi::PyObject,
        size: *mut ffi::Py_ssize_t,
    ) -> *const c_char;
}

/// The UTF-8 text of `s`, borrowed for as long as `s` is. A `str` that is
/// not valid UTF-8 (a lone surrogate) is the `UnicodeEncodeError` Python
/// raises for it.
pub fn utf8<'a>(s: &'a Bound<'_, PyString>) -> PyResult<&'a str> {
    let mut size: ffi::Py_ssize_t = 0;
    // SAFETY: `s` is a live str (the type is checked by `Bound<PyString>`).
    // The buffer returned belongs to `s` and lives as long as `s` does, which
    // the lifetime `'a` ties the result to; NULL means an exception is set.
    unsafe {
        let data = PyUnicode_AsUTF8AndSize(s.as_ptr(), &mut size);
        if data.is_null() {
            return Err(PyErr::fetch(s.py()));
        }
        let bytes = std::slice::from_raw_parts(data.cast::<u8>(), size as usize);
        // CPython wrote valid UTF-8 (it refuses surrogates above).
        Ok(std::str::from_utf8_unchecked(bytes))
    }
}
