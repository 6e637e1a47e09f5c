//! `SessionManager.begin` as a vectorcall (`METH_FASTCALL | METH_KEYWORDS`)
//! method.
//!
//! Why by hand: `begin` runs once per request, and is called with keywords
//! (`begin(cookie=..., path=...)`). In an `abi3-py39` build pyo3 can only make
//! `METH_VARARGS | METH_KEYWORDS` methods: every call with keywords builds a
//! dict, and pyo3 copies each keyword's name into a bytes object to compare
//! it, about a tenth of a request cycle from Python. Here the arguments are
//! read from the caller's own array, and keyword names, interned by CPython
//! in the caller's code, are matched by identity first.
//!
//! `METH_FASTCALL` joined the limited API in 3.10, but CPython has dispatched
//! it the same way since 3.7, so the one abi3 wheel keeps working on 3.9.

use std::ffi::CStr;
use std::os::raw::c_int;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use pyo3::exceptions::PyTypeError;
use pyo3::ffi;
use pyo3::panic::PanicException;
use pyo3::prelude::*;
use pyo3::types::{PyString, PyTuple};

use crate::manager::{BeginArgs, SessionManager};

/// Vectorcall calling convention flag (not in pyo3's abi3-py39 ffi).
const METH_FASTCALL: c_int = 0x0080;

/// Set in `nargsf` when the caller lets the callee use `args[-1]`.
const PY_VECTORCALL_ARGUMENTS_OFFSET: usize = 1 << (usize::BITS - 1);

/// The parameters, in order; the first four may be positional.
const PARAMETERS: [&str; 6] = ["cookie", "query", "form", "path", "expire", "session_path"];
const POSITIONAL: usize = 4;

/// The docstring, its first line being the signature `inspect` shows.
const DOC: &CStr =
    c"begin($self, cookie=None, query=None, form=None, path='/', *, expire=None, session_path=None)
--

The session of one request.

`cookie`: the raw Cookie header; `query`: the raw query string;
`form`: the urlencoded body (str/bytes) or a mapping of fields;
`path`: the request path (for path-match against the session path;
None means \"/\"). `expire` and `session_path` override the manager's
for this page.";

type FastCallWithKeywords = unsafe extern "C" fn(
    *mut ffi::PyObject,
    *const *mut ffi::PyObject,
    ffi::Py_ssize_t,
    *mut ffi::PyObject,
) -> *mut ffi::PyObject;

/// Installs `begin` on the `SessionManager` type (at module import).
pub fn install(py: Python<'_>) -> PyResult<()> {
    let fast: FastCallWithKeywords = begin_fastcall;
    let def = Box::leak(Box::new(ffi::PyMethodDef {
        ml_name: c"begin".as_ptr(),
        ml_meth: ffi::PyMethodDefPointer {
            // SAFETY: CPython calls `ml_meth` with the signature that
            // `ml_flags` names (FASTCALL | KEYWORDS), which is `fast`'s; the
            // union only lacks that variant in pyo3's abi3-py39 declarations.
            PyCFunction: unsafe {
                std::mem::transmute::<FastCallWithKeywords, ffi::PyCFunction>(fast)
            },
        },
        ml_flags: METH_FASTCALL | ffi::METH_KEYWORDS,
        ml_doc: DOC.as_ptr(),
    }));
    let ty = py.get_type::<SessionManager>();
    // SAFETY: `ty` is a live type object and `def` lives for the rest of the
    // process (leaked above), as a method definition must.
    let descriptor =
        unsafe { Bound::from_owned_ptr_or_err(py, ffi::PyDescr_NewMethod(ty.as_type_ptr(), def))? };
    ty.setattr("begin", descriptor)
}

/// The C entry point: never unwinds into CPython.
unsafe extern "C" fn begin_fastcall(
    slf: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargsf: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: CPython calls methods with the GIL held.
    let py = unsafe { Python::assume_attached() };
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the vectorcall protocol: `slf` is the bound object, `args`
        // holds the positional then the keyword values, `kwnames` is NULL or
        // a tuple of their names; all borrowed for the call.
        unsafe { begin_from_vectorcall(py, slf, args, nargsf, kwnames) }
    }));
    let result = outcome.unwrap_or_else(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic in SessionManager.begin".to_owned());
        Err(PanicException::new_err(message))
    });
    match result {
        Ok(session) => session.into_ptr(),
        Err(e) => {
            e.restore(py);
            ptr::null_mut()
        }
    }
}

unsafe fn begin_from_vectorcall<'py>(
    py: Python<'py>,
    slf: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargsf: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> PyResult<Bound<'py, PyAny>> {
    // SAFETY (whole function): see the caller; every pointer read here is a
    // borrowed reference valid for the call.
    let slf = unsafe { Bound::from_borrowed_ptr(py, slf) };
    let manager = slf.cast::<SessionManager>()?;
    let nargs = (nargsf as usize) & !PY_VECTORCALL_ARGUMENTS_OFFSET;
    if nargs > POSITIONAL {
        return Err(PyTypeError::new_err(format!(
            "begin() takes at most {POSITIONAL} positional arguments ({nargs} given)"
        )));
    }
    let mut slots: [Option<Bound<'py, PyAny>>; PARAMETERS.len()] = Default::default();
    for (i, slot) in slots.iter_mut().enumerate().take(nargs) {
        *slot = Some(unsafe { Bound::from_borrowed_ptr(py, *args.add(i)) });
    }
    if !kwnames.is_null() {
        let names = unsafe { Bound::from_borrowed_ptr(py, kwnames) };
        let names = names.cast::<PyTuple>()?;
        for (k, name) in names.iter().enumerate() {
            let index = parameter_index(py, &name)?;
            if slots[index].is_some() {
                return Err(PyTypeError::new_err(format!(
                    "begin() got multiple values for argument '{}'",
                    PARAMETERS[index]
                )));
            }
            slots[index] = Some(unsafe { Bound::from_borrowed_ptr(py, *args.add(nargs + k)) });
        }
    }
    let [cookie, query, form, path, expire, session_path] = slots;
    let given = |v: Option<Bound<'py, PyAny>>| v.filter(|v| !v.is_none());
    let path = match given(path) {
        Some(p) => Some(p.cast_into::<PyString>().map_err(|e| {
            PyTypeError::new_err(format!("begin() argument 'path' must be str or None: {e}"))
        })?),
        None => None,
    };
    let expire = match given(expire) {
        Some(e) => Some(e.extract::<f64>().map_err(|_| {
            PyTypeError::new_err("begin() argument 'expire' must be a number or None")
        })?),
        None => None,
    };
    let session_path = match given(session_path) {
        Some(p) => Some(p.extract::<String>().map_err(|_| {
            PyTypeError::new_err("begin() argument 'session_path' must be str or None")
        })?),
        None => None,
    };
    let (cookie, query, form) = (given(cookie), given(query), given(form));
    let args = BeginArgs {
        cookie: cookie.as_ref(),
        query: query.as_ref(),
        form: form.as_ref(),
        path: path.as_ref(),
        expire,
        session_path,
    };
    Ok(Bound::new(py, SessionManager::begin_with_args(manager, args)?)?.into_any())
}

/// The index in [`PARAMETERS`] of the keyword `name`: by identity with the
/// interned names first (CPython interns the keywords written in code), by
/// text otherwise.
fn parameter_index(py: Python<'_>, name: &Bound<'_, PyAny>) -> PyResult<usize> {
    let interned = [
        pyo3::intern!(py, "cookie"),
        pyo3::intern!(py, "query"),
        pyo3::intern!(py, "form"),
        pyo3::intern!(py, "path"),
        pyo3::intern!(py, "expire"),
        pyo3::intern!(py, "session_path"),
    ];
    if let Some(i) = interned.iter().position(|n| n.is(name)) {
        return Ok(i);
    }
    let Some(text) = name
        .cast::<PyString>()
        .ok()
        .and_then(|s| crate::text::utf8(s).ok())
    else {
        return Err(PyTypeError::new_err("keywords must be strings"));
    };
    PARAMETERS.iter().position(|p| *p == text).ok_or_else(|| {
        PyTypeError::new_err(format!(
            "begin() got an unexpected keyword argument '{text}'"
        ))
    })
}
