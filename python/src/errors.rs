//! The one place where engine errors become Python exceptions, and the one
//! helper that runs blocking engine work without the GIL.
//!
//! | engine error | Python exception |
//! |---|---|
//! | `Io`, `Lmdb`, `StoreFull`, `Corrupt`, `StoreVersion`, `Closed`, `Unsupported`, `Custom` | `StoreError` (a custom store's own exception is chained as `__cause__`) |
//! | `Config` | `ConfigError` (a `SessionError` and a `ValueError`; `.option` names the option) |
//! | `Type` | `TypeError` |
//! | `InvalidId`, `InvalidStoreKey` | `ValueError` |

use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType};
use spysession_core::Error;

create_exception!(
    spysession,
    SessionError,
    PyException,
    "Base class of every error spysession raises."
);
create_exception!(
    spysession,
    StoreError,
    SessionError,
    "The store failed: I/O, full, corrupt record, closed, or a custom store's own exception (chained as __cause__)."
);

/// `ConfigError(SessionError, ValueError)`: made at import, since
/// `create_exception!` cannot name two bases.
static CONFIG_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// The `ConfigError` class (created on first use).
pub fn config_error_type(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    CONFIG_ERROR
        .get_or_try_init(py, || {
            let bases = PyTuple::new(
                py,
                [
                    py.get_type::<SessionError>().into_any(),
                    py.get_type::<pyo3::exceptions::PyValueError>().into_any(),
                ],
            )?;
            let namespace = PyDict::new(py);
            namespace.set_item("__module__", "spysession")?;
            namespace.set_item(
                "__doc__",
                "A refused option; `option` names it. Also a ValueError.",
            )?;
            let cls = py
                .get_type::<PyType>()
                .call1(("ConfigError", bases, namespace))?;
            Ok::<_, PyErr>(cls.cast_into::<PyType>()?.unbind())
        })
        .map(|t| t.bind(py))
}

/// A `ConfigError` naming `option`.
pub fn config_error(py: Python<'_>, option: &str, message: &str) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let cls = config_error_type(py)?;
        let exc = cls.call1((format!("invalid option {option}: {message}"),))?;
        exc.setattr("option", option)?;
        Ok(PyErr::from_value(exc))
    };
    build().unwrap_or_else(|e| e)
}

/// Turns an engine error into the Python exception of the table above.
pub fn to_py(py: Python<'_>, error: Error) -> PyErr {
    match error {
        Error::Config { option, message } => config_error(py, option, &message),
        Error::Type(why) => PyTypeError::new_err(why),
        e @ (Error::InvalidId | Error::InvalidStoreKey) => PyValueError::new_err(e.to_string()),
        Error::Custom(cause) => {
            let message = format!("custom store error: {cause}");
            let err = StoreError::new_err(message);
            let cause = match cause.downcast::<PyErr>() {
                Ok(py_err) => *py_err,
                Err(other) => PyException::new_err(other.to_string()),
            };
            err.set_cause(py, Some(cause));
            err
        }
        other => StoreError::new_err(other.to_string()),
    }
}

/// Engine results into Python results.
pub trait OrRaise<T> {
    /// Maps the error through [`to_py`].
    fn or_raise(self, py: Python<'_>) -> PyResult<T>;
}

impl<T> OrRaise<T> for Result<T, Error> {
    fn or_raise(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|e| to_py(py, e))
    }
}

/// Runs blocking engine work (store I/O, clean) with the GIL released, and
/// maps its error. Every store call from Python goes through here.
///
/// A custom store written in Python takes the GIL back inside its calls.
pub fn unlocked<T, F>(py: Python<'_>, work: F) -> PyResult<T>
where
    T: Send,
    F: FnOnce() -> Result<T, Error> + Send,
{
    py.detach(work).or_raise(py)
}

/// A store call from the manager or a session: without the GIL when the
/// store does I/O (`releases_gil`), inline otherwise.
pub fn store_call<T, F>(py: Python<'_>, releases_gil: bool, work: F) -> PyResult<T>
where
    T: Send,
    F: FnOnce() -> Result<T, Error> + Send,
{
    if releases_gil {
        unlocked(py, work)
    } else {
        work().or_raise(py)
    }
}
