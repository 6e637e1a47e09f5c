//! Stores written in Python: a `SessionStore` subclass seen by the engine
//! as a [`RawStore`]. Its methods are given store keys (32 hex characters),
//! never session ids.

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyWeakrefReference};
use spysession_core::{Error, RawStore, Result, StoreKey};

/// Calls a `SessionStore` subclass's `load`/`save`/`delete`/`clean`, taking
/// the GIL for each call. It holds the object weakly (the object holds the
/// engine store that holds this: a strong reference would be a cycle the
/// garbage collector cannot see); managers hold the object strongly.
pub struct PyRawStore {
    target: Py<PyWeakrefReference>,
}

impl PyRawStore {
    /// A raw store calling the methods of `obj`.
    pub fn new(obj: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(PyRawStore {
            target: PyWeakrefReference::new(obj)?.unbind(),
        })
    }

    fn call<T>(&self, work: impl for<'py> FnOnce(Bound<'py, PyAny>) -> PyResult<T>) -> Result<T> {
        Python::attach(|py| {
            let Some(obj) = self.target.bind(py).upgrade() else {
                return Err(Error::Closed);
            };
            work(obj).map_err(|e| Error::Custom(Box::new(e)))
        })
    }
}

impl RawStore for PyRawStore {
    fn load(&self, key: &StoreKey) -> Result<Option<Vec<u8>>> {
        self.call(|obj| {
            let out = obj.call_method1("load", (key.to_string(),))?;
            if out.is_none() {
                return Ok(None);
            }
            // bytes, bytearray or memoryview.
            let bytes = obj.py().get_type::<PyBytes>().call1((out,))?;
            Ok(Some(bytes.cast_into::<PyBytes>()?.as_bytes().to_vec()))
        })
    }

    fn save(&self, key: &StoreKey, record: &[u8], expires_at: f64) -> Result<()> {
        self.call(|obj| {
            let record = PyBytes::new(obj.py(), record);
            obj.call_method1("save", (key.to_string(), record, expires_at))?;
            Ok(())
        })
    }

    fn delete(&self, key: &StoreKey) -> Result<()> {
        self.call(|obj| {
            obj.call_method1("delete", (key.to_string(),))?;
            Ok(())
        })
    }

    fn clean(&self, now: f64) -> Result<u64> {
        self.call(|obj| {
            let out = obj.call_method1("clean", (now,))?;
            if out.is_none() {
                Ok(0)
            } else {
                out.extract::<u64>()
            }
        })
    }
}
