//! `SessionManager`: a site's store and options; begins a `Session` per request.

use std::borrow::Cow;
use std::sync::Arc;

use pyo3::exceptions::{PyException, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyList, PyString, PyTuple};
use spysession_core::{
    PageOptions, Request, Session as CoreSession, SessionManager as CoreManager, Store,
    SystemClock, Transport,
};

use crate::clock::{at, PyClock};
use crate::config::{given_from_kwargs, resolve};
use crate::errors::{store_call, OrRaise};
use crate::session::Session;
use crate::signing::PickleKeys;
use crate::stores::{MemoryStore, SessionStore};

/// Form bodies larger than this are not read by `from_environ` (the id is
/// then looked for in the other transports only).
const MAX_FORM_BODY: usize = 1 << 20;

/// A site's session configuration: store, options (README: Options) and clock. Every
/// option not given here takes the value set by `configure()` or the
/// built-in default. Thread-safe; make one per site.
#[pyclass(module = "spysession", frozen)]
pub struct SessionManager {
    core: CoreManager,
    store: Py<SessionStore>,
    clock: Option<PyClock>,
    /// The pickle-signing keys when the manager has `pickle=True`.
    pickle_keys: Option<Arc<PickleKeys>>,
    /// Store calls run without the GIL, except on a MemoryStore: releasing
    /// the GIL for an in-memory lookup cost more than the lookup. (A
    /// Python-written store must release it: its commit holds a per-id lock
    /// while calling Python, and a thread waiting on that lock while holding
    /// the GIL would deadlock.)
    releases_gil: bool,
}

impl SessionManager {
    /// The engine manager.
    pub fn core(&self) -> &CoreManager {
        &self.core
    }

    /// The Python clock, if one was given.
    pub fn py_clock(&self) -> Option<&PyClock> {
        self.clock.as_ref()
    }

    /// Whether store calls release the GIL (see the field).
    pub fn releases_gil(&self) -> bool {
        self.releases_gil
    }

    /// The keys that sign and verify pickles, when `pickle=True`.
    pub fn pickle_keys(&self) -> Option<&PickleKeys> {
        self.pickle_keys.as_deref()
    }
}

/// `str` (UTF-8) or bytes-like as bytes, borrowed where it can be (`str`,
/// `bytes`); None stays None.
fn raw_bytes<'a>(
    value: Option<&'a Bound<'_, PyAny>>,
    what: &str,
) -> PyResult<Option<Cow<'a, [u8]>>> {
    let Some(value) = value.filter(|v| !v.is_none()) else {
        return Ok(None);
    };
    if let Ok(s) = value.cast::<PyString>() {
        return Ok(Some(Cow::Borrowed(s.to_str()?.as_bytes())));
    }
    if let Ok(b) = value.cast::<PyBytes>() {
        return Ok(Some(Cow::Borrowed(b.as_bytes())));
    }
    bytes_like(value)
        .map(|b| Some(Cow::Owned(b)))
        .ok_or_else(|| PyTypeError::new_err(format!("{what} must be str, bytes or None")))
}

/// The bytes of a `bytes` or `bytearray`.
fn bytes_like(value: &Bound<'_, PyAny>) -> Option<Vec<u8>> {
    if let Ok(b) = value.cast::<PyBytes>() {
        Some(b.as_bytes().to_vec())
    } else if let Ok(b) = value.cast::<PyByteArray>() {
        Some(b.to_vec())
    } else {
        None
    }
}

/// A form given as a mapping: the values of `name` (str, bytes, or a list
/// of them) as an urlencoded body.
fn form_from_mapping(form: &Bound<'_, PyAny>, name: &str) -> PyResult<Vec<u8>> {
    let mut body = form_urlencoded::Serializer::new(String::new());
    let value = match form.get_item(name) {
        Ok(v) => v,
        Err(e) if e.is_instance_of::<pyo3::exceptions::PyKeyError>(form.py()) => {
            return Ok(Vec::new())
        }
        Err(e) => return Err(e),
    };
    let items: Vec<Bound<'_, PyAny>> =
        if value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>() {
            value.try_iter()?.collect::<PyResult<_>>()?
        } else {
            vec![value]
        };
    for item in items {
        if let Ok(s) = item.extract::<String>() {
            body.append_pair(name, &s);
        } else if let Ok(b) = item.cast::<PyBytes>() {
            body.append_pair(name, &String::from_utf8_lossy(b.as_bytes()));
        }
    }
    Ok(body.finish().into_bytes())
}

/// The arguments of `SessionManager.begin`, each None when not given.
pub struct BeginArgs<'a, 'py> {
    /// The raw Cookie header (str or bytes-like).
    pub cookie: Option<&'a Bound<'py, PyAny>>,
    /// The raw query string.
    pub query: Option<&'a Bound<'py, PyAny>>,
    /// The urlencoded body, or a mapping of fields.
    pub form: Option<&'a Bound<'py, PyAny>>,
    /// The request path ("/" when None).
    pub path: Option<&'a Bound<'py, PyString>>,
    /// This page's expire.
    pub expire: Option<f64>,
    /// This page's session path.
    pub session_path: Option<String>,
}

impl SessionManager {
    /// `SessionManager.begin(cookie=None, query=None, form=None, path="/",
    /// *, expire=None, session_path=None)`: the session of one request.
    pub fn begin_with_args(slf: &Bound<'_, Self>, args: BeginArgs<'_, '_>) -> PyResult<Session> {
        let BeginArgs {
            cookie,
            query,
            form,
            path,
            expire,
            session_path,
        } = args;
        let py = slf.py();
        let this = slf.get();
        let cookie = raw_bytes(cookie, "cookie")?;
        let query = raw_bytes(query, "query")?;
        let form = match form.filter(|f| !f.is_none()) {
            Some(f) if f.is_instance_of::<PyString>() || bytes_like(f).is_some() => {
                raw_bytes(Some(f), "form")?
            }
            Some(f) => Some(Cow::Owned(form_from_mapping(
                f,
                &this.core.options().param_name,
            )?)),
            None => None,
        };
        let path = match path {
            Some(p) => p.to_str()?,
            None => "/",
        };
        let request = Request {
            cookie: cookie.as_deref(),
            query: query.as_deref(),
            form: form.as_deref(),
            path,
        };
        let page = PageOptions {
            expire,
            session_path,
        };
        let core = &this.core;
        let session = at(py, this.clock.as_ref(), || {
            store_call(py, this.releases_gil, || core.begin_with(&request, &page))
        })??;
        Self::adopt(slf, session, path, &page)
    }

    /// The Python session over `session`, which the engine began for a
    /// request to `path` (see [`Session::load`]).
    pub fn adopt(
        slf: &Bound<'_, Self>,
        session: CoreSession,
        path: &str,
        page: &PageOptions,
    ) -> PyResult<Session> {
        let py = slf.py();
        let this = slf.get();
        let core = &this.core;
        match Session::load(py, slf.clone().unbind(), session) {
            Ok(session) => Ok(session),
            // KeyboardInterrupt and the like are not about the record.
            Err(e) if !e.is_instance_of::<PyException>(py) => Err(e),
            Err(_) => {
                // A value of the record is damaged, or a pickle in it does
                // not verify (planted by whoever can write to the store):
                // the record is corrupt, as one that does not decode is. A
                // fresh session, as the engine gives for those; nothing
                // that failed was unpickled.
                core.store().counters().count_corrupt();
                let fresh = Request {
                    cookie: None,
                    query: None,
                    form: None,
                    path,
                };
                let session =
                    at(py, this.clock.as_ref(), || core.begin_with(&fresh, page))?.or_raise(py)?;
                Session::load(py, slf.clone().unbind(), session)
            }
        }
    }
}

#[pymethods]
impl SessionManager {
    /// The session of one request.
    ///
    /// `cookie`: the raw Cookie header; `query`: the raw query string;
    /// `form`: the urlencoded body (str/bytes) or a mapping of fields;
    /// `path`: the request path (for path-match against the session path;
    /// None means "/"). `expire` and `session_path` override the manager's
    /// for this page.
    #[pyo3(
        signature = (cookie=None, query=None, form=None, path=None, *, expire=None, session_path=None),
        text_signature = "($self, cookie=None, query=None, form=None, path='/', *, expire=None, session_path=None)"
    )]
    #[allow(clippy::too_many_arguments)]
    fn begin<'py>(
        slf: &Bound<'py, Self>,
        cookie: Option<&Bound<'py, PyAny>>,
        query: Option<&Bound<'py, PyAny>>,
        form: Option<&Bound<'py, PyAny>>,
        path: Option<&Bound<'py, PyAny>>,
        expire: Option<&Bound<'py, PyAny>>,
        session_path: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Session> {
        // Typed here rather than by pyo3, for messages that name the
        // argument and what it must be, as a Python function's would.
        let path = match path.filter(|p| !p.is_none()) {
            Some(p) => Some(p.cast::<PyString>().map_err(|_| {
                PyTypeError::new_err("begin() argument 'path' must be str or None")
            })?),
            None => None,
        };
        let expire = match expire.filter(|e| !e.is_none()) {
            Some(e) => Some(e.extract::<f64>().map_err(|_| {
                PyTypeError::new_err("begin() argument 'expire' must be a number or None")
            })?),
            None => None,
        };
        let session_path = match session_path.filter(|p| !p.is_none()) {
            Some(p) => Some(p.extract::<String>().map_err(|_| {
                PyTypeError::new_err("begin() argument 'session_path' must be str or None")
            })?),
            None => None,
        };
        let args = BeginArgs {
            cookie,
            query,
            form,
            path,
            expire,
            session_path,
        };
        Self::begin_with_args(slf, args)
    }

    #[new]
    #[pyo3(signature = (store=None, **options))]
    fn py_new(
        py: Python<'_>,
        store: Option<&Bound<'_, PyAny>>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let mut given = given_from_kwargs(options, "SessionManager", false)?;
        if let Some(store) = store.filter(|s| !s.is_none()) {
            given.insert("store", store.clone().unbind());
        }
        let settings = resolve(py, &given)?;
        let engine_store: Arc<dyn Store> = SessionStore::engine(settings.store.bind(py))?;
        let clock = match &settings.clock {
            Some(c) => c.engine_clock(py),
            None => Arc::new(SystemClock),
        };
        let core = CoreManager::with_clock(engine_store, settings.options, clock).or_raise(py)?;
        let releases_gil = !settings.store.bind(py).is_instance_of::<MemoryStore>();
        Ok(SessionManager {
            core,
            store: settings.store,
            clock: settings.clock,
            pickle_keys: settings.pickle_keys,
            releases_gil,
        })
    }

    /// The store.
    #[getter]
    fn store(&self, py: Python<'_>) -> Py<SessionStore> {
        self.store.clone_ref(py)
    }

    /// The clock given (or configured), if any.
    #[getter]
    fn clock(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        self.clock.as_ref().map(|c| c.func().clone_ref(py))
    }

    /// The session of a WSGI request: Cookie header, query string, the path
    /// (SCRIPT_NAME + PATH_INFO), and, only when the transports include
    /// post, an urlencoded POST body (up to 1 MiB), after which
    /// `environ["wsgi.input"]` is replaced by a buffer holding the same body.
    fn from_environ(slf: &Bound<'_, Self>, environ: &Bound<'_, PyAny>) -> PyResult<Session> {
        let py = slf.py();
        let this = slf.get();
        let get = |key: &str| -> PyResult<Option<Bound<'_, PyAny>>> {
            match environ.get_item(key) {
                Ok(v) => Ok(Some(v)),
                Err(e) if e.is_instance_of::<pyo3::exceptions::PyKeyError>(py) => Ok(None),
                Err(e) => Err(e),
            }
        };
        let wsgi_bytes = |key: &str| -> PyResult<Option<Vec<u8>>> {
            // WSGI strings are latin-1 decodings of the raw bytes.
            match get(key)? {
                Some(v) if v.is_instance_of::<PyString>() => {
                    let s: String = v.extract()?;
                    Ok(Some(
                        s.chars()
                            .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
                            .collect(),
                    ))
                }
                Some(v) => Ok(raw_bytes(Some(&v), key)?.map(Cow::into_owned)),
                None => Ok(None),
            }
        };
        let mut path = String::new();
        for key in ["SCRIPT_NAME", "PATH_INFO"] {
            if let Some(part) = wsgi_bytes(key)? {
                path.push_str(&String::from_utf8_lossy(&part));
            }
        }
        if path.is_empty() {
            path.push('/');
        }
        let form = if this.core.options().transports.contains(&Transport::Post) {
            read_form_body(environ, &get)?
        } else {
            None
        };
        let cookie = wsgi_bytes("HTTP_COOKIE")?;
        let query = wsgi_bytes("QUERY_STRING")?;
        let to_any = |b: Option<Vec<u8>>| b.map(|b| PyBytes::new(py, &b).into_any());
        let (cookie, query, form) = (to_any(cookie), to_any(query), to_any(form));
        let path = PyString::new(py, &path);
        Self::begin_with_args(
            slf,
            BeginArgs {
                cookie: cookie.as_ref(),
                query: query.as_ref(),
                form: form.as_ref(),
                path: Some(&path),
                expire: None,
                session_path: None,
            },
        )
    }

    fn __repr__(&self) -> String {
        let o = self.core.options();
        format!("SessionManager(expire={}, path={:?})", o.expire, o.path)
    }
}

/// The urlencoded POST body of a WSGI request, if there is one to read;
/// `wsgi.input` is replaced by a buffer holding what was read.
fn read_form_body<'py>(
    environ: &Bound<'py, PyAny>,
    get: &dyn Fn(&str) -> PyResult<Option<Bound<'py, PyAny>>>,
) -> PyResult<Option<Vec<u8>>> {
    let py = environ.py();
    let text = |key: &str| -> PyResult<String> {
        Ok(match get(key)? {
            Some(v) => v.str()?.to_string(),
            None => String::new(),
        })
    };
    if !text("REQUEST_METHOD")?.eq_ignore_ascii_case("POST")
        || !text("CONTENT_TYPE")?
            .to_ascii_lowercase()
            .starts_with("application/x-www-form-urlencoded")
    {
        return Ok(None);
    }
    let Ok(length) = text("CONTENT_LENGTH")?.trim().parse::<usize>() else {
        return Ok(None);
    };
    if length == 0 || length > MAX_FORM_BODY {
        return Ok(None);
    }
    let Some(input) = get("wsgi.input")? else {
        return Ok(None);
    };
    let read = input.call_method1("read", (length,))?;
    let Some(body) = bytes_like(&read) else {
        return Ok(None);
    };
    let buffer = py
        .import("io")?
        .getattr("BytesIO")?
        .call1((PyBytes::new(py, &body),))?;
    environ.set_item("wsgi.input", buffer)?;
    Ok(Some(body))
}
