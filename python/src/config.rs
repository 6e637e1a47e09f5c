//! Manager options from Python keywords (README: Options), and the site-wide
//! defaults that `configure()` sets (Spyce's config file).
//!
//! Options are resolved in three layers: the built-in defaults, then what
//! `configure()` set, then the keywords given to `SessionManager(...)`. A
//! manager copies the result when it is made, so a later `configure()` does
//! not change it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple};
use spysession_core::{Options, SameSite, Transport};

use crate::clock::PyClock;
use crate::errors::{config_error, OrRaise};
use crate::signing::{PickleKeys, MIN_KEY_LEN};
use crate::stores::{MemoryStore, SessionStore};

/// The options `SessionManager` and `configure` take (besides `store`).
pub const OPTION_NAMES: &[&str] = &[
    "expire",
    "path",
    "cookie_name",
    "param_name",
    "domain",
    "secure",
    "httponly",
    "samesite",
    "transport",
    "strict",
    "max_lifetime",
    "touch_interval",
    "pickle",
    "secret_key",
    "clock",
];

/// A set of option values by name (`store` included), as given from Python.
pub type Given = BTreeMap<&'static str, Py<PyAny>>;

/// Everything a manager is made of, resolved and validated.
pub struct Settings {
    /// The store object.
    pub store: Py<SessionStore>,
    /// The engine options.
    pub options: Options,
    /// The `clock=` callable, if any.
    pub clock: Option<PyClock>,
    /// With `pickle=True`, the keys that sign and verify pickled values.
    pub pickle_keys: Option<Arc<PickleKeys>>,
}

/// What `configure()` has set (unset options are absent).
static CONFIGURED: Mutex<Given> = Mutex::new(BTreeMap::new());
/// The store used when none is given nor configured.
static DEFAULT_STORE: PyOnceLock<Py<SessionStore>> = PyOnceLock::new();

/// The canonical option name of a keyword (Spyce's names included), or None.
fn canonical(name: &str, spyce_names: bool) -> Option<&'static str> {
    match name {
        "session_store" if spyce_names => Some("store"),
        "session_path" if spyce_names => Some("path"),
        "session_expire" if spyce_names => Some("expire"),
        "store" => Some("store"),
        other => OPTION_NAMES.iter().copied().find(|n| *n == other),
    }
}

/// Keyword arguments as [`Given`], refusing unknown names like Python does.
pub fn given_from_kwargs(
    kwargs: Option<&Bound<'_, PyDict>>,
    function: &str,
    spyce_names: bool,
) -> PyResult<Given> {
    let mut given = Given::new();
    for (key, value) in kwargs.into_iter().flat_map(|d| d.iter()) {
        let key: String = key.extract()?;
        let Some(name) = canonical(&key, spyce_names) else {
            return Err(PyTypeError::new_err(format!(
                "{function}() got an unexpected keyword argument {key:?}"
            )));
        };
        if given.insert(name, value.unbind()).is_some() {
            return Err(PyTypeError::new_err(format!(
                "{function}() got option {name:?} twice"
            )));
        }
    }
    Ok(given)
}

/// The store used when none is given or configured: one `MemoryStore` per process.
pub fn default_store(py: Python<'_>) -> PyResult<Py<SessionStore>> {
    DEFAULT_STORE
        .get_or_try_init(py, || {
            let store = Bound::new(py, MemoryStore::py_default())?;
            Ok::<_, PyErr>(store.into_super().unbind())
        })
        .map(|s| s.clone_ref(py))
}

/// The built-in defaults overlaid with what `configure()` set and then with `given`.
pub fn resolve(py: Python<'_>, given: &Given) -> PyResult<Settings> {
    let mut merged: Given = CONFIGURED
        .lock()
        .expect("config lock")
        .iter()
        .map(|(k, v)| (*k, v.clone_ref(py)))
        .collect();
    for (k, v) in given {
        merged.insert(k, v.clone_ref(py));
    }
    settings(py, &merged)
}

/// `configure(**options)`: validates the result, then makes it the site default.
pub fn configure(py: Python<'_>, given: Given) -> PyResult<()> {
    let mut candidate: Given = CONFIGURED
        .lock()
        .expect("config lock")
        .iter()
        .map(|(k, v)| (*k, v.clone_ref(py)))
        .collect();
    for (k, v) in given {
        if v.is_none(py) {
            candidate.remove(k);
        } else {
            candidate.insert(k, v);
        }
    }
    settings(py, &candidate)?;
    *CONFIGURED.lock().expect("config lock") = candidate;
    Ok(())
}

/// The configured store (or the default one).
pub fn configured_store(py: Python<'_>) -> PyResult<Py<SessionStore>> {
    resolve(py, &Given::new()).map(|s| s.store)
}

/// The configured clock, if any.
pub fn configured_clock(py: Python<'_>) -> PyResult<Option<PyClock>> {
    resolve(py, &Given::new()).map(|s| s.clock)
}

fn settings(py: Python<'_>, given: &Given) -> PyResult<Settings> {
    let mut options = Options::default();
    let mut clock = None;
    let mut pickle = false;
    let mut secret = None;
    let mut store = None;
    for (&name, value) in given {
        let value = value.bind(py);
        let bad = |why: &str| config_error(py, name, why);
        let seconds = |v: &Bound<'_, PyAny>| {
            v.extract::<f64>()
                .map_err(|_| bad("must be a number of seconds"))
        };
        let opt_seconds = |v: &Bound<'_, PyAny>| -> PyResult<Option<f64>> {
            if v.is_none() {
                Ok(None)
            } else {
                seconds(v).map(Some)
            }
        };
        let string = |v: &Bound<'_, PyAny>| v.extract::<String>().map_err(|_| bad("must be a str"));
        let flag = |v: &Bound<'_, PyAny>| v.extract::<bool>().map_err(|_| bad("must be a bool"));
        match name {
            "store" => {
                if !value.is_none() {
                    let s = value.cast::<SessionStore>().map_err(|_| {
                        PyTypeError::new_err(format!(
                            "store must be a SessionStore (MemoryStore, DbmStore or a subclass), not {}",
                            value.get_type().name().map(|n| n.to_string()).unwrap_or_default()
                        ))
                    })?;
                    store = Some(s.clone().unbind());
                }
            }
            "expire" => options.expire = seconds(value)?,
            "path" => options.path = string(value)?,
            "cookie_name" => options.cookie_name = string(value)?,
            "param_name" => options.param_name = string(value)?,
            "domain" => {
                options.domain = if value.is_none() {
                    None
                } else {
                    Some(string(value)?)
                }
            }
            "secure" => options.secure = flag(value)?,
            "httponly" => options.httponly = flag(value)?,
            "strict" => options.strict = flag(value)?,
            "pickle" => pickle = flag(value)?,
            "secret_key" => {
                if !value.is_none() {
                    secret = Some(secret_keys(py, value)?);
                }
            }
            "samesite" => {
                options.samesite = if value.is_none() {
                    None
                } else {
                    Some(string(value)?.parse::<SameSite>().or_raise(py)?)
                }
            }
            "transport" => options.transports = transports(py, value)?,
            "max_lifetime" => options.max_lifetime = opt_seconds(value)?,
            "touch_interval" => options.touch_interval = opt_seconds(value)?,
            "clock" => {
                if !value.is_none() {
                    if !value.is_callable() {
                        return Err(bad("must be a callable returning Unix seconds"));
                    }
                    clock = Some(PyClock::new(value.clone().unbind()));
                }
            }
            other => unreachable!("option {other} is filtered by given_from_kwargs"),
        }
    }
    options.validate().or_raise(py)?;
    let pickle_keys = match (pickle, secret) {
        (false, _) => None,
        (true, Some(keys)) => Some(Arc::new(keys)),
        (true, None) => {
            return Err(config_error(
                py,
                "secret_key",
                "pickle=True needs a secret_key (str or bytes of at least 32 bytes, or a list \
                 of them: the first signs, every one verifies), so that a pickle planted in \
                 the store is never loaded",
            ))
        }
    };
    let store = match store {
        Some(s) => s,
        None => default_store(py)?,
    };
    Ok(Settings {
        store,
        options,
        clock,
        pickle_keys,
    })
}

/// `secret_key`: a str (its UTF-8 bytes) or bytes, or a non-empty list or
/// tuple of them, each at least [`MIN_KEY_LEN`] bytes.
fn secret_keys(py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<PickleKeys> {
    let one = |v: &Bound<'_, PyAny>| -> PyResult<Vec<u8>> {
        if let Ok(s) = v.cast::<PyString>() {
            Ok(s.to_str()?.as_bytes().to_vec())
        } else if let Ok(b) = v.cast::<PyBytes>() {
            Ok(b.as_bytes().to_vec())
        } else {
            Err(config_error(
                py,
                "secret_key",
                "must be a str or bytes, or a list of them",
            ))
        }
    };
    let keys = if value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>() {
        value
            .try_iter()?
            .map(|k| one(&k?))
            .collect::<PyResult<Vec<_>>>()?
    } else {
        vec![one(value)?]
    };
    PickleKeys::new(keys).ok_or_else(|| {
        config_error(
            py,
            "secret_key",
            &format!("every key must be at least {MIN_KEY_LEN} bytes (and a list not empty)"),
        )
    })
}

/// `"cookie"`, or an ordered list of transports.
fn transports(py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<Vec<Transport>> {
    let names: Vec<String> = if value.is_instance_of::<PyString>() {
        vec![value.extract()?]
    } else if value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>() {
        value
            .extract()
            .map_err(|_| config_error(py, "transport", "must be a str or a list of str"))?
    } else {
        return Err(config_error(
            py,
            "transport",
            "must be a str or a list of str",
        ));
    };
    names
        .iter()
        .map(|n| n.parse::<Transport>().or_raise(py))
        .collect()
}
