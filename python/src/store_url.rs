//! `spysession.open_store(url, **options)`: a store URL (SPEC §2) to the
//! store object it names, `MemoryStore`, `DbmStore` or `RedisStore`.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyString};
use spysession_core::StoreUrl;

use crate::errors::{to_py, unlocked};
use crate::stores::{DbmStore, MemoryStore, RedisStore, SessionStore};

/// A keyword argument as the text a URL's query would give: booleans as
/// `true`/`false`, numbers in Python's own spelling, paths through `os.fspath`.
fn option_text(name: &str, value: &Bound<'_, PyAny>) -> PyResult<String> {
    if value.is_instance_of::<PyBool>() {
        return Ok(if value.is_truthy()? { "true" } else { "false" }.into());
    }
    if value.is_instance_of::<PyInt>() || value.is_instance_of::<PyFloat>() {
        return Ok(value.str()?.to_string());
    }
    if value.is_instance_of::<PyString>() {
        return value.extract();
    }
    let os = value.py().import("os")?;
    match os.call_method1("fspath", (value,)) {
        Ok(path) => path.str().map(|s| s.to_string()),
        Err(_) => Err(PyTypeError::new_err(format!(
            "open_store option {name}: expected a str, bool, number or path, got {}",
            value.get_type().name()?
        ))),
    }
}

/// Opens the store that `url` names: `memory:`, a directory or
/// `dbm:///path`, `redis://`, `rediss://`, `unix:///path.sock`
/// (`redis+sentinel://` and `redis+cluster://` parse, but cannot be opened
/// yet). Keyword options (`durable=False`, `prefix="site:"`, ...) extend
/// and override the URL's query; `None` leaves an option at its default.
/// A malformed URL or an unknown option is a `ConfigError` naming it.
#[pyfunction]
#[pyo3(signature = (url, **options))]
pub fn open_store(
    py: Python<'_>,
    url: &str,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<Py<PyAny>> {
    let mut extra: Vec<(String, String)> = Vec::new();
    if let Some(options) = options {
        for (name, value) in options.iter() {
            if value.is_none() {
                continue;
            }
            let name: String = name.extract()?;
            let text = option_text(&name, &value)?;
            extra.push((name, text));
        }
    }
    let pairs: Vec<(&str, &str)> = extra
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let parsed = StoreUrl::parse_with(url, &pairs).map_err(|e| to_py(py, e))?;
    Ok(match &parsed {
        StoreUrl::Memory { max_sessions } => {
            Py::new(py, MemoryStore::py_new(*max_sessions))?.into_any()
        }
        StoreUrl::Dbm { path, options } => {
            Py::new(py, DbmStore::opened(py, path.clone(), *options)?)?.into_any()
        }
        StoreUrl::Redis { url, .. } => {
            let store = unlocked(py, || parsed.open_redis())?;
            Py::new(py, RedisStore::wrap(url.clone(), store))?.into_any()
        }
        // Sentinel, Cluster: the engine says what it cannot open yet; a
        // kind it opens without a class of its own here is a plain store.
        _ => {
            let store = unlocked(py, || parsed.open())?;
            Py::new(py, SessionStore::native(store))?.into_any()
        }
    })
}
