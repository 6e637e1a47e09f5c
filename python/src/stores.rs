//! `SessionStore` (the base class, subclassable in Python) and the built-in
//! `MemoryStore`, `DbmStore` and `RedisStore`.
//!
//! Every store object owns one engine store inside the core's [`Closable`],
//! shared by the managers made over it: counters are per store object, and
//! `close()` closes it for all of them.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use pyo3::exceptions::{PyNotImplementedError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyTuple};
use spysession_core::{
    clean_store, system_now, Closable, CustomStore, DbmOptions, DbmStore as CoreDbm, Inspect,
    MemoryStore as CoreMemory, Record, RedisOptions, RedisStore as CoreRedis, Store, StoreKey,
};

use crate::custom_store::PyRawStore;
use crate::errors::{config_error, unlocked};

fn parse_key(key: &str) -> PyResult<StoreKey> {
    StoreKey::parse(key).map_err(|e| PyValueError::new_err(format!("{e}: {key:?}")))
}

/// Base class of every store. Subclass it in Python and define
/// `load(key) -> bytes | None`, `save(key, record, expires_at)`,
/// `delete(key)` and `clean(now) -> int`; the engine calls them with store
/// keys (`store_key(id)`: 32 hex characters, never a session id; records are
/// the MessagePack bytes documented in the core). An exception raised there
/// reaches the caller as `StoreError`, chained as its `__cause__`.
#[pyclass(module = "spysession", subclass, weakref, frozen)]
pub struct SessionStore {
    /// The engine store, closable; made on first use for a Python subclass.
    engine: OnceLock<Arc<Engine>>,
    /// True for the built-in stores, which take raw records from Python;
    /// a subclass defines its own `load`, `save`, `delete` and `clean`.
    native: bool,
}

/// What a store object holds: its engine store, closable for every manager
/// made over it.
pub type Engine = Closable<dyn Store>;

impl SessionStore {
    pub(crate) fn native(store: Arc<dyn Store>) -> Self {
        SessionStore {
            engine: OnceLock::from(Arc::new(Closable::new(store))),
            native: true,
        }
    }

    /// The engine store of `obj`, made on first use for a Python subclass.
    pub fn engine(obj: &Bound<'_, SessionStore>) -> PyResult<Arc<Engine>> {
        if let Some(engine) = obj.get().engine.get() {
            return Ok(engine.clone());
        }
        let raw = PyRawStore::new(obj.as_any())?;
        let engine: Arc<Engine> = Arc::new(Closable::new(Arc::new(CustomStore::new(raw))));
        Ok(obj.get().engine.get_or_init(|| engine).clone())
    }

    /// The engine store of a built-in store, for the base class's own
    /// `load`, `save`, `delete` and `clean`; a subclass that did not define
    /// `method` is told so.
    fn native_engine(obj: &Bound<'_, SessionStore>, method: &str) -> PyResult<Arc<Engine>> {
        if obj.get().native {
            Self::engine(obj)
        } else {
            Err(PyNotImplementedError::new_err(format!(
                "{}.{method}() is not defined: a SessionStore subclass must define \
                 load, save, delete and clean",
                obj.get_type().name()?
            )))
        }
    }
}

#[pymethods]
impl SessionStore {
    #[new]
    #[pyo3(signature = (*_args, **_kwargs))]
    fn py_new(_args: &Bound<'_, PyTuple>, _kwargs: Option<&Bound<'_, PyDict>>) -> Self {
        SessionStore {
            engine: OnceLock::new(),
            native: false,
        }
    }

    /// The encoded record under store key `key`, or None (expired records
    /// too, until cleaned). A malformed key: ValueError.
    fn load<'py>(slf: &Bound<'py, Self>, key: &str) -> PyResult<Option<Bound<'py, PyBytes>>> {
        let py = slf.py();
        let store = Self::native_engine(slf, "load")?;
        let key = parse_key(key)?;
        let record = unlocked(py, || store.load(&key, f64::NEG_INFINITY))?;
        Ok(record.map(|r| PyBytes::new(py, &r.encode())))
    }

    /// Stores an encoded record under store key `key`; `expires_at`
    /// replaces the expiry written inside it. Bytes that are not a record,
    /// or a malformed key: ValueError.
    fn save(slf: &Bound<'_, Self>, key: &str, record: &[u8], expires_at: f64) -> PyResult<()> {
        let store = Self::native_engine(slf, "save")?;
        let key = parse_key(key)?;
        let mut record = Record::decode(record)
            .map_err(|e| PyValueError::new_err(format!("not a session record: {e}")))?;
        record.expires_at = expires_at;
        unlocked(slf.py(), || store.save(&key, &record))
    }

    /// Removes the record under store key `key` (no error when absent). A
    /// malformed key: ValueError.
    fn delete(slf: &Bound<'_, Self>, key: &str) -> PyResult<()> {
        let store = Self::native_engine(slf, "delete")?;
        let key = parse_key(key)?;
        unlocked(slf.py(), || store.delete(&key).map(|_| ()))
    }

    /// Removes every record expired at `now` (default: the current time);
    /// returns how many.
    #[pyo3(signature = (now=None))]
    fn clean(slf: &Bound<'_, Self>, now: Option<f64>) -> PyResult<u64> {
        let store = Self::native_engine(slf, "clean")?;
        let now = now.unwrap_or_else(system_now);
        unlocked(slf.py(), || clean_store(&*store, now))
    }

    /// The number of records held (expired ones not yet cleaned included).
    fn __len__(slf: &Bound<'_, Self>) -> PyResult<usize> {
        let store = Self::engine(slf)?;
        let Some(inspect) = store.inspect() else {
            let name = slf.get_type().name()?;
            return Err(PyTypeError::new_err(format!(
                "object of type '{name}' has no len()"
            )));
        };
        let n = unlocked(slf.py(), || inspect.len())?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    /// The store's counters: loads, commits, merges, dropped, corrupt,
    /// cleaned, evicted, rejected (the core's one list, `StoreStats::NAMES`).
    fn stats<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(slf.py());
        for (k, v) in Self::engine(slf)?.stats().fields() {
            d.set_item(k, v)?;
        }
        Ok(d)
    }

    /// Closes the store: later use raises StoreError. Closing twice is harmless.
    fn close(slf: &Bound<'_, Self>) -> PyResult<()> {
        Self::engine(slf)?.close();
        Ok(())
    }

    /// True once `close()` was called.
    #[getter]
    fn closed(slf: &Bound<'_, Self>) -> PyResult<bool> {
        Ok(Self::engine(slf)?.is_closed())
    }

    fn __enter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(slf: &Bound<'_, Self>, _exc: &Bound<'_, PyTuple>) -> PyResult<bool> {
        Self::close(slf)?;
        Ok(false)
    }
}

/// Sessions in this process's memory: fastest, volatile, one process only.
/// With `max_sessions`, the sessions nearest to expiry are evicted first.
#[pyclass(module = "spysession", extends = SessionStore, subclass, frozen)]
pub struct MemoryStore {
    max_sessions: Option<usize>,
}

impl MemoryStore {
    /// An unbounded store, as `MemoryStore()` makes.
    pub fn py_default() -> PyClassInitializer<Self> {
        Self::py_new(None)
    }
}

#[pymethods]
impl MemoryStore {
    #[new]
    #[pyo3(signature = (max_sessions=None))]
    pub fn py_new(max_sessions: Option<usize>) -> PyClassInitializer<Self> {
        let store = Arc::new(CoreMemory::new(max_sessions));
        PyClassInitializer::from(SessionStore::native(store))
            .add_subclass(MemoryStore { max_sessions })
    }

    /// The bound given at construction (None: unbounded).
    #[getter]
    fn max_sessions(&self) -> Option<usize> {
        self.max_sessions
    }

    fn __repr__(&self) -> String {
        match self.max_sessions {
            Some(n) => format!("MemoryStore(max_sessions={n})"),
            None => "MemoryStore()".into(),
        }
    }
}

/// Persistent sessions in an LMDB directory (created if missing), shared by
/// every process and thread of the machine. `durable=False` skips fsync at
/// commit: a crashed process loses nothing, a crashed machine may lose the
/// last seconds.
#[pyclass(module = "spysession", extends = SessionStore, subclass, frozen)]
pub struct DbmStore {
    path: PathBuf,
    durable: bool,
}

impl DbmStore {
    /// The store at `path` with `options`, opened without the GIL.
    pub fn opened(
        py: Python<'_>,
        path: PathBuf,
        options: DbmOptions,
    ) -> PyResult<PyClassInitializer<Self>> {
        let open_path = path.clone();
        let durable = options.durable;
        let store = unlocked(py, || CoreDbm::open_with(&open_path, options))?;
        Ok(
            PyClassInitializer::from(SessionStore::native(Arc::new(store)))
                .add_subclass(DbmStore { path, durable }),
        )
    }
}

#[pymethods]
impl DbmStore {
    #[new]
    #[pyo3(signature = (path, *, map_size=1 << 30, durable=true))]
    fn py_new(
        py: Python<'_>,
        path: PathBuf,
        map_size: usize,
        durable: bool,
    ) -> PyResult<PyClassInitializer<Self>> {
        Self::opened(py, path, DbmOptions { map_size, durable })
    }

    /// The directory given at construction.
    #[getter]
    fn path(&self) -> PathBuf {
        self.path.clone()
    }

    /// True when each commit is synced to disk before it returns (the
    /// default); False for `durable=False`.
    #[getter]
    fn durable(&self) -> bool {
        self.durable
    }

    fn __repr__(&self) -> String {
        format!("DbmStore({:?})", self.path.display().to_string())
    }
}

/// Sessions in Redis (or Valkey), shared by every web machine behind a load
/// balancer. `url`: `redis://[user:password@]host[:port][/db]`,
/// `redis+unix:///path` / `unix:///path` for a unix socket, `rediss://...`
/// for TLS (the system's roots, or the PEM CA file `tls_ca_file`),
/// `redis+sentinel://host:port[,host:port...]/primary-name[/db]`, or
/// `redis+cluster://host:port[,host:port...]`. `wait_replicas=N` makes each
/// write wait for N replicas (errors when they do not confirm in time).
/// Connects at first use; a Redis that is down raises StoreError within
/// about the timeouts (seconds), and the next call after it is back works.
#[pyclass(module = "spysession", extends = SessionStore, subclass, frozen)]
pub struct RedisStore {
    url: String,
    store: Arc<CoreRedis>,
}

/// A timeout option in seconds, as a duration (zero is refused by the core).
fn timeout(py: Python<'_>, option: &'static str, seconds: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(seconds).map_err(|_| {
        config_error(
            py,
            option,
            &format!("{seconds} is not a number of seconds more than zero"),
        )
    })
}

/// `url` with any user and password replaced by `***`, for reprs and logs.
fn redacted(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let rest = &url[scheme_end..];
    let authority = rest.find('/').map_or(rest, |i| &rest[..i]);
    match authority.rfind('@') {
        Some(at) => format!("{}***{}", &url[..scheme_end], &rest[at..]),
        None => url.to_owned(),
    }
}

impl RedisStore {
    /// The Python object over an opened engine store; `url` as the `url` property shows it.
    pub fn wrap(url: String, store: CoreRedis) -> PyClassInitializer<Self> {
        let store = Arc::new(store);
        PyClassInitializer::from(SessionStore::native(store.clone()))
            .add_subclass(RedisStore { url, store })
    }
}

#[pymethods]
impl RedisStore {
    #[new]
    #[pyo3(signature = (url, prefix="spysession:", *, connect_timeout=2.0, command_timeout=2.0, pool_size=8, tls_ca_file=None, wait_replicas=0))]
    #[allow(clippy::too_many_arguments)]
    fn py_new(
        py: Python<'_>,
        url: String,
        prefix: &str,
        connect_timeout: f64,
        command_timeout: f64,
        pool_size: usize,
        tls_ca_file: Option<std::path::PathBuf>,
        wait_replicas: usize,
    ) -> PyResult<PyClassInitializer<Self>> {
        let tls_root_cert = match tls_ca_file {
            None => None,
            Some(path) => Some(std::fs::read(&path).map_err(|e| {
                config_error(
                    py,
                    "tls_ca_file",
                    &format!("cannot read {}: {e}", path.display()),
                )
            })?),
        };
        let options = RedisOptions {
            prefix: prefix.to_owned(),
            connect_timeout: timeout(py, "connect_timeout", connect_timeout)?,
            command_timeout: timeout(py, "command_timeout", command_timeout)?,
            pool_size,
            tls_root_cert,
            wait_replicas,
        };
        let store = unlocked(py, || CoreRedis::open_with(&url, options))?;
        Ok(Self::wrap(url, store))
    }

    /// Checks that Redis answers (`PING`); StoreError when it does not.
    fn ping(slf: &Bound<'_, Self>) -> PyResult<()> {
        let engine = SessionStore::engine(slf.as_super())?;
        let store = slf.get().store.clone();
        unlocked(slf.py(), || engine.inner().and_then(|_| store.ping()))
    }

    /// The URL given at construction.
    #[getter]
    fn url(&self) -> &str {
        &self.url
    }

    /// The key prefix: a session's Redis key is the prefix and its id.
    #[getter]
    fn prefix(&self) -> &str {
        &self.store.options().prefix
    }

    fn __repr__(&self) -> String {
        format!(
            "RedisStore({:?}, prefix={:?})",
            redacted(&self.url),
            self.store.options().prefix
        )
    }
}
