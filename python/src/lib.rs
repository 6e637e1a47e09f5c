//! `spysession._spysession`: the Python binding of the spysession engine.
//!
//! The Python package `spysession` (python/spysession/) re-exports these
//! names and adds the pure-Python parts (`wsgi`, `scheduler`). The README's
//! Python section is the contract (docs/architecture.md: how it fits); the
//! modules here:
//!
//! - [`errors`]: engine errors to exceptions, in one place; the helper that
//!   runs store work without the GIL.
//! - [`convert`]: Python values <-> engine values; [`pyext`]: tuple, set,
//!   datetime and the rest as spysession's ext values; [`signing`]: signed
//!   pickles for `pickle=True`.
//! - [`stores`], [`custom_store`]: `SessionStore`, `MemoryStore`, `DbmStore`,
//!   `RedisStore`, and Python subclasses as engine stores; [`store_url`]:
//!   `open_store(url)`.
//! - [`config`]: options from keywords; `configure()` defaults.
//! - [`manager`], [`session`]: `SessionManager`, `Session`.
//! - `store_threads`: `_StoreThreads`, store calls of an asyncio event loop
//!   on threads that never take the GIL (unix only; `spysession.asgi`).

#![deny(missing_docs)]
// The module is written in safe Rust: pyo3 does every call into CPython.
#![deny(unsafe_code)]

mod clock;
mod config;
mod convert;
mod custom_store;
mod errors;
mod manager;
mod pyext;
mod session;
mod signing;
#[cfg(unix)]
mod store_threads;
mod store_url;
mod stores;

use pyo3::prelude::*;
use pyo3::types::PyDict;
use spysession_core::system_now;

use crate::errors::unlocked;
use crate::stores::SessionStore;

/// Sets the site-wide defaults (Spyce's config file): `session_store`,
/// `session_path`, `session_expire`, and every `SessionManager` option by
/// its own name. Omitted options keep their value; `None` unsets one.
#[pyfunction]
#[pyo3(signature = (**options))]
fn configure(py: Python<'_>, options: Option<&Bound<'_, PyDict>>) -> PyResult<()> {
    let given = config::given_from_kwargs(options, "configure", true)?;
    config::configure(py, given)
}

/// Removes every expired record of `store` (default: the configured store)
/// at the configured clock's time (default: now); returns how many.
#[pyfunction]
#[pyo3(signature = (store=None))]
fn clean_store(py: Python<'_>, store: Option<&Bound<'_, PyAny>>) -> PyResult<u64> {
    let store: Bound<'_, SessionStore> = match store.filter(|s| !s.is_none()) {
        Some(s) => s.cast::<SessionStore>()?.clone(),
        None => config::configured_store(py)?.into_bound(py),
    };
    let now = match config::configured_clock(py)? {
        Some(clock) => clock.read(py)?,
        None => system_now(),
    };
    let engine = SessionStore::engine(&store)?;
    unlocked(py, || spysession_core::clean_store(&*engine, now))
}

/// The store key of session id `id` (32 lowercase hex characters): what
/// every store, a `SessionStore` subclass included, keeps the session under
/// (the first 16 bytes of SHA-256 over the id's raw bytes, in hex). A
/// malformed id: ValueError.
#[pyfunction]
fn store_key(id: &str) -> PyResult<String> {
    let id = spysession_core::SessionId::parse(id)
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(format!("{e}: {id:?}")))?;
    Ok(id.store_key().to_string())
}

/// The `spysession._spysession` module.
#[pymodule]
fn _spysession(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("__version__", spysession_core::VERSION)?;
    m.add("SessionError", py.get_type::<errors::SessionError>())?;
    m.add("StoreError", py.get_type::<errors::StoreError>())?;
    m.add("ConfigError", errors::config_error_type(py)?)?;
    m.add_class::<SessionStore>()?;
    m.add_class::<stores::MemoryStore>()?;
    m.add_class::<stores::DbmStore>()?;
    m.add_class::<stores::RedisStore>()?;
    m.add_class::<manager::SessionManager>()?;
    m.add_class::<session::Session>()?;
    m.add_class::<session::SessionKeys>()?;
    m.add_class::<convert::Ext>()?;
    #[cfg(unix)]
    m.add_class::<store_threads::StoreThreads>()?;
    m.add_function(wrap_pyfunction!(configure, m)?)?;
    m.add_function(wrap_pyfunction!(clean_store, m)?)?;
    m.add_function(wrap_pyfunction!(store_url::open_store, m)?)?;
    m.add_function(wrap_pyfunction!(store_key, m)?)?;
    session::register_abc(py)?;
    Ok(())
}
