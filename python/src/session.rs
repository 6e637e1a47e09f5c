//! `Session`: one request's data, a `MutableMapping` with `str` keys.
//!
//! Values are converted when they cross: a set converts at once (so
//! `pickle=False` refuses at once), a get converts on first access, except
//! values holding an ext value (tuples, sets, datetimes, pickles...), which
//! convert when the record is loaded, so a damaged or planted one makes the
//! whole record corrupt before the page sees any of it ([`Session::load`]).
//! Lists, dicts and ext values handed to Python are remembered with the
//! encoding they had; at commit each is re-encoded and, if Python changed it
//! in place, stored again. So `session.setdefault("cart", []).append(x)`
//! persists, and `session["cart"] is session["cart"]`. Re-encoding at commit
//! is also what signs every pickle under the store key of the id the record
//! is written under, after `regenerate()` included.

use std::collections::HashMap;

use pyo3::exceptions::{PyKeyError, PyRuntimeError, PyTypeError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyDict, PyList, PyString, PyTuple};
use spysession_core::{CommitResult, Session as CoreSession, Value};

use crate::clock::at;
use crate::convert::{holds_ext, is_mutable, to_py, to_value, Codec};
use crate::errors::store_call;
use crate::manager::SessionManager;

static MAPPING: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// An object handed to Python and the encoding it had then.
struct Handed {
    obj: Py<PyAny>,
    encoded: Vec<u8>,
}

/// One request's session: a dict-like object with `str` keys. Commit it
/// before the response goes out and send the headers `commit()` returns.
#[pyclass(module = "spysession", mapping)]
pub struct Session {
    manager: Py<SessionManager>,
    /// The engine session; lent out (None) while an event loop's store
    /// thread commits it (`_StoreThreads`).
    core: Option<CoreSession>,
    handed: HashMap<String, Handed>,
}

fn key_str(key: &Bound<'_, PyAny>) -> PyResult<String> {
    Ok(key_ref(key)?.to_owned())
}

/// A session key borrowed from its `str` (no copy).
fn key_ref<'a>(key: &'a Bound<'_, PyAny>) -> PyResult<&'a str> {
    match key.cast::<PyString>() {
        Ok(s) => s.to_str(),
        Err(_) => Err(PyTypeError::new_err(format!(
            "session keys must be str, not {}",
            key.get_type().name()?
        ))),
    }
}

impl Session {
    /// The Python session over `core`: for a loaded record, every value that
    /// holds an ext value is converted now (each pickle in it verified).
    /// Err when one fails: the record is damaged or was planted, and the
    /// caller gives a fresh session instead (nothing of it was unpickled).
    pub(crate) fn load(
        py: Python<'_>,
        manager: Py<SessionManager>,
        core: CoreSession,
    ) -> PyResult<Self> {
        let is_new = core.is_new();
        let mut session = Session {
            manager,
            core: Some(core),
            handed: HashMap::new(),
        };
        if !is_new {
            session.hand_out_ext_values(py)?;
        }
        Ok(session)
    }

    /// The engine session; an error while a store thread has it.
    pub(crate) fn core(&self) -> PyResult<&CoreSession> {
        self.core.as_ref().ok_or_else(lent_out)
    }

    /// The engine session to change; an error while a store thread has it.
    fn core_mut(&mut self) -> PyResult<&mut CoreSession> {
        self.core.as_mut().ok_or_else(lent_out)
    }

    /// The manager this session belongs to.
    pub(crate) fn manager(&self) -> &Py<SessionManager> {
        &self.manager
    }

    /// Lends the engine session to a store thread for a commit at `now`,
    /// after taking in the values Python changed in place (so the commit
    /// writes them): the session can then be neither read nor changed
    /// until it is given back with [`Session::give_back`]. None, and
    /// nothing lent, when the commit has nothing to write (no I/O: the
    /// caller commits on its own thread).
    pub(crate) fn lend_for_commit(
        &mut self,
        py: Python<'_>,
        now: f64,
    ) -> PyResult<Option<CoreSession>> {
        self.take_in_place_changes(py)?;
        if !self.core()?.needs_write_at(now) {
            return Ok(None);
        }
        Ok(self.core.take())
    }

    /// Takes back the engine session lent by [`Session::lend_for_commit`].
    pub(crate) fn give_back(&mut self, core: CoreSession) {
        self.core = Some(core);
    }

    /// Sets again every value Python changed in place since it was handed out.
    fn take_in_place_changes(&mut self, py: Python<'_>) -> PyResult<()> {
        for (key, value, encoded) in self.changed_in_place(py)? {
            if let Some(h) = self.handed.get_mut(&key) {
                h.encoded = encoded;
            }
            self.core_mut()?.set(key, value);
        }
        Ok(())
    }

    /// Converts every value holding an ext value that is not yet handed out.
    fn hand_out_ext_values(&mut self, py: Python<'_>) -> PyResult<()> {
        // Most records hold no ext value: one look, no key copied.
        let core = self.core()?;
        if !core.iter().any(|(_, v)| holds_ext(v)) {
            return Ok(());
        }
        let keys: Vec<String> = core
            .iter()
            .filter(|(k, v)| holds_ext(v) && !self.handed.contains_key(*k))
            .map(|(k, _)| k.to_owned())
            .collect();
        for key in keys {
            self.lookup(py, &key)?;
        }
        Ok(())
    }

    /// How values of this session convert: the manager's pickle keys and
    /// the current id.
    fn codec<'a>(&self, manager: &'a SessionManager) -> PyResult<Codec<'a>> {
        Ok(Codec {
            keys: manager.pickle_keys(),
            id: self.core()?.id(),
        })
    }

    /// The value of `key` as the Python object handed out for it.
    fn lookup<'py>(&mut self, py: Python<'py>, key: &str) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.core()?; // lent out: no reads, handed-out values included
        if !self.handed.is_empty() {
            if let Some(h) = self.handed.get(key) {
                return Ok(Some(h.obj.bind(py).clone()));
            }
        }
        let manager = self.manager.bind(py).get();
        let codec = self.codec(manager)?;
        let Some(value) = self.core()?.get(key) else {
            return Ok(None);
        };
        let obj = to_py(py, value, codec)?;
        if is_mutable(value) {
            let encoded = value.to_msgpack();
            self.handed.insert(
                key.to_owned(),
                Handed {
                    obj: obj.clone().unbind(),
                    encoded,
                },
            );
        }
        Ok(Some(obj))
    }

    fn store(&mut self, py: Python<'_>, key: &str, obj: &Bound<'_, PyAny>) -> PyResult<()> {
        let value = to_value(obj, self.codec(self.manager.bind(py).get())?)?;
        if is_mutable(&value) {
            let encoded = value.to_msgpack();
            self.handed.insert(
                key.to_owned(),
                Handed {
                    obj: obj.clone().unbind(),
                    encoded,
                },
            );
        } else if !self.handed.is_empty() {
            self.handed.remove(key);
        }
        self.core_mut()?.set(key, value);
        Ok(())
    }

    fn remove(&mut self, key: &str) -> PyResult<bool> {
        let core = self.core.as_mut().ok_or_else(lent_out)?;
        if !self.handed.is_empty() {
            self.handed.remove(key);
        }
        Ok(core.remove(key).is_some())
    }

    /// Values changed in place since they were handed out: (key, new value, encoding).
    fn changed_in_place(&self, py: Python<'_>) -> PyResult<Vec<(String, Value, Vec<u8>)>> {
        let manager = self.manager.bind(py).get();
        let codec = self.codec(manager)?;
        let mut out = Vec::new();
        for (key, h) in &self.handed {
            let value = to_value(h.obj.bind(py), codec)?;
            let encoded = value.to_msgpack();
            if encoded != h.encoded {
                out.push((key.clone(), value, encoded));
            }
        }
        Ok(out)
    }

    fn as_dict<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        let keys: Vec<String> = self.core()?.keys().map(str::to_owned).collect();
        for key in keys {
            if let Some(v) = self.lookup(py, &key)? {
                dict.set_item(key, v)?;
            }
        }
        Ok(dict)
    }
}

#[pymethods]
impl Session {
    fn __getitem__<'py>(
        &mut self,
        py: Python<'py>,
        key: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let k = key_ref(key)?;
        self.lookup(py, k)?
            .ok_or_else(|| PyKeyError::new_err(k.to_owned()))
    }

    fn __setitem__(
        &mut self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        self.store(py, key_ref(key)?, value)
    }

    fn __delitem__(&mut self, key: &Bound<'_, PyAny>) -> PyResult<()> {
        let k = key_str(key)?;
        if self.remove(&k)? {
            Ok(())
        } else {
            Err(PyKeyError::new_err(k))
        }
    }

    fn __len__(&self) -> PyResult<usize> {
        Ok(self.core()?.len())
    }

    fn __contains__(&self, key: &Bound<'_, PyAny>) -> PyResult<bool> {
        let core = self.core()?;
        Ok(key
            .cast::<PyString>()
            .ok()
            .and_then(|s| s.to_str().ok().map(|k| core.contains(k)))
            .unwrap_or(false))
    }

    fn __iter__(&self) -> PyResult<SessionKeys> {
        Ok(SessionKeys {
            keys: self
                .core()?
                .keys()
                .map(str::to_owned)
                .collect::<Vec<_>>()
                .into_iter(),
        })
    }

    /// `session[key]` if present, else `default` (a non-str key is absent).
    #[pyo3(signature = (key, default=None))]
    fn get<'py>(
        &mut self,
        py: Python<'py>,
        key: &Bound<'py, PyAny>,
        default: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let found = match key.cast::<PyString>() {
            // A str that cannot be a key (a lone surrogate) is absent, as in `in`.
            Ok(s) => match s.to_str() {
                Ok(k) => self.lookup(py, k)?,
                Err(_) => None,
            },
            Err(_) => None,
        };
        Ok(found
            .or(default)
            .unwrap_or_else(|| py.None().into_bound(py)))
    }

    /// `session[key]`, setting it to `default` first if absent.
    #[pyo3(signature = (key, default=None))]
    fn setdefault<'py>(
        &mut self,
        py: Python<'py>,
        key: &Bound<'py, PyAny>,
        default: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let k = key_str(key)?;
        if let Some(v) = self.lookup(py, &k)? {
            return Ok(v);
        }
        let default = default.unwrap_or_else(|| py.None().into_bound(py));
        self.store(py, &k, &default)?;
        Ok(default)
    }

    /// Removes `key` and returns its value; `default` if absent, else KeyError.
    #[pyo3(signature = (key, *default))]
    fn pop<'py>(
        &mut self,
        py: Python<'py>,
        key: &Bound<'py, PyAny>,
        default: &Bound<'py, PyTuple>,
    ) -> PyResult<Bound<'py, PyAny>> {
        if default.len() > 1 {
            return Err(PyTypeError::new_err(format!(
                "pop expected at most 2 arguments, got {}",
                default.len() + 1
            )));
        }
        let k = key_str(key)?;
        match self.lookup(py, &k)? {
            Some(v) => {
                self.remove(&k)?;
                Ok(v)
            }
            None if default.len() == 1 => default.get_item(0),
            None => Err(PyKeyError::new_err(k)),
        }
    }

    /// Removes and returns a (key, value) pair (the last key in sorted order).
    fn popitem<'py>(&mut self, py: Python<'py>) -> PyResult<(String, Bound<'py, PyAny>)> {
        let Some(k) = self.core()?.keys().last().map(str::to_owned) else {
            return Err(PyKeyError::new_err("popitem(): session is empty"));
        };
        let v = self
            .lookup(py, &k)?
            .unwrap_or_else(|| py.None().into_bound(py));
        self.remove(&k)?;
        Ok((k, v))
    }

    /// Like `dict.update`: from a mapping (anything with `keys()`), an
    /// iterable of pairs, and keywords. `other` is positional-only, as in
    /// `dict`, so `update(other=1)` sets the key "other".
    #[pyo3(signature = (other=None, /, **kwargs))]
    fn update(
        &mut self,
        py: Python<'_>,
        other: Option<&Bound<'_, PyAny>>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        if let Some(other) = other {
            if other.hasattr("keys")? {
                for key in other.call_method0("keys")?.try_iter()? {
                    let key = key?;
                    let value = other.get_item(&key)?;
                    self.store(py, key_ref(&key)?, &value)?;
                }
            } else {
                for item in other.try_iter()? {
                    let (key, value): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item?.extract()?;
                    self.store(py, key_ref(&key)?, &value)?;
                }
            }
        }
        for (key, value) in kwargs.into_iter().flat_map(|d| d.iter()) {
            self.store(py, key_ref(&key)?, &value)?;
        }
        Ok(())
    }

    /// A view of the keys (sorted).
    fn keys<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        view(slf, "KeysView")
    }

    /// A view of the values.
    fn values<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        view(slf, "ValuesView")
    }

    /// A view of the (key, value) pairs.
    fn items<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        view(slf, "ItemsView")
    }

    /// Removes every key (at commit, every key stored by then goes too).
    fn clear(&mut self) -> PyResult<()> {
        self.core_mut()?.clear();
        self.handed.clear();
        Ok(())
    }

    fn __eq__<'py>(slf: &Bound<'py, Self>, other: &Bound<'py, PyAny>) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        let mapping = MAPPING.import(py, "collections.abc", "Mapping")?;
        if !other.is_instance(mapping)? {
            return Ok(py.NotImplemented());
        }
        let equal = if other.is(slf) {
            true
        } else {
            let mine = slf.borrow_mut().as_dict(py)?;
            let theirs = match other.cast::<Session>() {
                Ok(s) => s.borrow_mut().as_dict(py)?.into_any(),
                Err(_) => py.get_type::<PyDict>().call1((other,))?,
            };
            mine.eq(theirs)?
        };
        Ok(PyBool::new(py, equal).to_owned().into_any().unbind())
    }

    fn __repr__(&mut self, py: Python<'_>) -> PyResult<String> {
        Ok(format!("Session({})", self.as_dict(py)?.repr()?))
    }

    /// The session id (32 lowercase hex characters).
    #[getter]
    fn id(&self) -> PyResult<String> {
        Ok(self.core()?.id().to_string())
    }

    /// True until the session is first stored.
    #[getter]
    fn is_new(&self) -> PyResult<bool> {
        Ok(self.core()?.is_new())
    }

    /// True when this request changed something not yet committed
    /// (values changed in place included).
    #[getter]
    fn modified(&self, py: Python<'_>) -> PyResult<bool> {
        Ok(self.core()?.modified() || !self.changed_in_place(py)?.is_empty())
    }

    /// When the session expires, Unix seconds (float).
    #[getter]
    fn expires_at(&self) -> PyResult<f64> {
        Ok(self.core()?.expires_at())
    }

    /// False before commit and when a commit was dropped because the
    /// session is gone (no resurrection); True otherwise.
    #[getter]
    fn committed(&self) -> PyResult<bool> {
        Ok(self.core()?.committed())
    }

    /// Stores what changed; returns the response headers to add, as a list
    /// of (name, value) pairs (a Set-Cookie when the browser must be told).
    fn commit<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        self.take_in_place_changes(py)?;
        let manager = self.manager.bind(py).get();
        let core = self.core.as_mut().ok_or_else(lent_out)?;
        let releases_gil = manager.releases_gil();
        let result = at(py, manager.py_clock(), || {
            // A commit with nothing to write does no I/O: keep the GIL.
            // One clock read for both questions.
            let now = core.manager().now();
            let blocking = releases_gil && core.needs_write_at(now);
            store_call(py, blocking, || core.commit_at(now))
        })??;
        commit_headers(py, result)
    }

    /// True (the default): the Set-Cookie of this session carries Max-Age
    /// and Expires. False: a browser-session cookie, without either (Flask's
    /// `session.permanent = False`); the server expires it all the same.
    #[getter]
    fn persistent_cookie(&self) -> PyResult<bool> {
        Ok(self.core()?.persistent_cookie())
    }

    #[setter]
    fn set_persistent_cookie(&mut self, persistent: bool) -> PyResult<()> {
        self.core_mut()?.set_persistent_cookie(persistent);
        Ok(())
    }

    /// Seconds of inactivity this session lives for: the page's or the
    /// manager's `expire` until set. Setting it (Django's `set_expiry`) is
    /// what the next commit that writes stores as now + expire; a
    /// `ConfigError` unless a finite number >= 0.
    #[getter]
    fn expire(&self) -> PyResult<f64> {
        Ok(self.core()?.expire())
    }

    #[setter]
    fn set_expire(&mut self, py: Python<'_>, expire: f64) -> PyResult<()> {
        self.core_mut()?
            .set_expire(expire)
            .map_err(|e| crate::errors::to_py(py, e))
    }

    /// Makes the next commit write even when nothing changed: a new session
    /// is stored (empty, if no key was set), a loaded one has its expiry
    /// rewritten. A session deleted meanwhile is still not brought back.
    fn touch(&mut self) -> PyResult<()> {
        self.core_mut()?.touch();
        Ok(())
    }

    /// A new id, same data; the old id is deleted at commit (call at login).
    fn regenerate(&mut self, py: Python<'_>) -> PyResult<()> {
        // Pickles are signed for the store key of the id: every value that
        // may hold one is handed out (read under the old id) so that commit
        // re-encodes it, and so re-signs it, under the new one.
        self.hand_out_ext_values(py)?;
        self.core_mut()?.regenerate();
        Ok(())
    }

    /// Drops the session: at commit the record is deleted and the cookie
    /// expired. Keys set afterwards start a new session.
    fn invalidate(&mut self, py: Python<'_>) -> PyResult<()> {
        let manager = self.manager.bind(py).get();
        let core = self.core.as_mut().ok_or_else(lent_out)?;
        at(py, manager.py_clock(), || core.invalidate())?;
        self.handed.clear();
        Ok(())
    }

    /// `href` with the session id added as a query parameter (get transport).
    fn url(&self, href: &str) -> PyResult<String> {
        Ok(self.core()?.url(href))
    }

    /// An HTML hidden input carrying the id (post transport).
    fn form_field(&self) -> PyResult<String> {
        Ok(self.core()?.form_field())
    }
}

/// The error of a session used while a store thread commits it.
fn lent_out() -> PyErr {
    PyRuntimeError::new_err(
        "the session is being committed (a store thread has it until the commit's await returns)",
    )
}

/// The headers a commit's result asks for: a Set-Cookie, or none.
pub(crate) fn commit_headers(py: Python<'_>, result: CommitResult) -> PyResult<Bound<'_, PyList>> {
    let headers = result
        .set_cookie
        .map(|c| PyTuple::new(py, [intern!(py, "Set-Cookie"), &PyString::new(py, &c)]))
        .transpose()?;
    PyList::new(py, headers)
}

fn view<'py>(slf: &Bound<'py, Session>, name: &str) -> PyResult<Bound<'py, PyAny>> {
    slf.py()
        .import("collections.abc")?
        .getattr(name)?
        .call1((slf,))
}

/// Iterator over a session's keys (a snapshot taken when iteration began).
#[pyclass(module = "spysession")]
pub struct SessionKeys {
    keys: std::vec::IntoIter<String>,
}

#[pymethods]
impl SessionKeys {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&mut self) -> Option<String> {
        self.keys.next()
    }
}

/// Registers `Session` as a `collections.abc.MutableMapping`.
pub fn register_abc(py: Python<'_>) -> PyResult<()> {
    let abc = py.import("collections.abc")?;
    abc.getattr("MutableMapping")?
        .call_method1("register", (py.get_type::<Session>(),))?;
    Ok(())
}
