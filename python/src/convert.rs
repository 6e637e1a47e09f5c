//! Python values <-> engine [`Value`]s.
//!
//! Native (readable from C as plain MessagePack): `None`, `bool`, `int`
//! within 64 bits, `float`, `str`, `bytes`, `list`, and `dict` with `str`
//! keys, each of exactly that type. Python's other common types (tuple, set,
//! frozenset, datetime, date, time, timedelta, UUID, Decimal, ints past 64
//! bits) travel as spysession's own ext values ([`crate::pyext`], layouts in
//! `spysession_core::ext`), never as pickles. An [`Ext`] travels as the ext
//! value it holds.
//!
//! Everything else (instances of user classes, subclasses of the types
//! above such as `OrderedDict` or an `IntEnum`, dicts with other keys) is a
//! `TypeError` naming the type, unless the manager has `pickle=True`: then
//! it is pickled and signed ([`crate::signing`]). Reading a pickle back
//! verifies its signature first; one that fails, or any pickle met by a
//! manager without `pickle=True`, is an error, which the session turns into
//! a corrupt record (fresh session, `corrupt` counter).

use std::collections::BTreeMap;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString};
use spysession_core::ext::{is_reserved, ExtValue};
use spysession_core::{SessionId, Value, EXT_PICKLE};

use crate::signing::PickleKeys;

/// Deepest nesting of containers stored.
const MAX_DEPTH: usize = 200;
/// Deepest nesting read back (deeper than anything written here, so a
/// record from another writer still loads; but bounded, because ext values
/// nest without limit in a record of a few bytes per level).
const MAX_LOAD_DEPTH: usize = 1024;

/// The pickle protocol written: 4 is read by every CPython since 3.4, so
/// processes on different Python versions can share a store.
const PICKLE_PROTOCOL: u8 = 4;

static DUMPS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// What a conversion needs beyond the value: whether (and with which keys)
/// pickles are written and read, and the session whose store key signs them.
#[derive(Clone, Copy)]
pub struct Codec<'a> {
    /// The signing keys when the manager has `pickle=True`.
    pub keys: Option<&'a PickleKeys>,
    /// The session the value belongs to (pickles are bound to its store key).
    pub id: SessionId,
}

/// A MessagePack extension value of a code spysession does not define
/// (written by a C program, say). Stored back as it came.
#[pyclass(module = "spysession", frozen, eq)]
#[derive(Clone, PartialEq)]
pub struct Ext {
    /// The extension type code.
    #[pyo3(get)]
    pub code: i8,
    /// The opaque data.
    pub data: Vec<u8>,
}

#[pymethods]
impl Ext {
    #[new]
    fn new(code: i8, data: Vec<u8>) -> PyResult<Self> {
        if is_reserved(code) {
            return Err(PyValueError::new_err(format!(
                "ext code {code} is reserved for spysession's own types (1 to 31): \
                 store the value itself"
            )));
        }
        Ok(Ext { code, data })
    }

    #[getter]
    fn data<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.data)
    }

    fn __repr__(&self) -> String {
        format!("Ext({}, {} bytes)", self.code, self.data.len())
    }
}

/// `obj` as a [`Value`].
pub fn to_value(obj: &Bound<'_, PyAny>, codec: Codec<'_>) -> PyResult<Value> {
    to_value_at(obj, codec, 0)
}

/// [`to_value`] at nesting `depth` (the ext types recurse through here).
pub fn to_value_at(obj: &Bound<'_, PyAny>, codec: Codec<'_>, depth: usize) -> PyResult<Value> {
    if depth > MAX_DEPTH {
        return Err(PyValueError::new_err(format!(
            "session value nested deeper than {MAX_DEPTH} levels"
        )));
    }
    if obj.is_none() {
        return Ok(Value::Nil);
    }
    if let Ok(b) = obj.cast_exact::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if obj.is_exact_instance_of::<PyInt>() {
        if let Ok(i) = obj.extract::<i64>() {
            return Ok(Value::Int(i));
        }
        if let Ok(u) = obj.extract::<u64>() {
            return Ok(Value::UInt(u));
        }
    } else if let Ok(f) = obj.cast_exact::<PyFloat>() {
        return Ok(Value::Float(f.value()));
    } else if let Ok(s) = obj.cast_exact::<PyString>() {
        return Ok(Value::Str(s.to_str()?.to_owned()));
    } else if let Ok(b) = obj.cast_exact::<PyBytes>() {
        return Ok(Value::Bytes(b.as_bytes().to_vec()));
    } else if let Ok(list) = obj.cast_exact::<PyList>() {
        let items = list
            .iter()
            .map(|item| to_value_at(&item, codec, depth + 1))
            .collect::<PyResult<_>>()?;
        return Ok(Value::List(items));
    } else if let Ok(dict) = obj.cast_exact::<PyDict>() {
        if dict
            .keys()
            .iter()
            .all(|k| k.is_exact_instance_of::<PyString>())
        {
            let mut map = BTreeMap::new();
            for (k, v) in dict.iter() {
                map.insert(k.extract::<String>()?, to_value_at(&v, codec, depth + 1)?);
            }
            return Ok(Value::Map(map));
        }
    } else if let Ok(ext) = obj.cast_exact::<Ext>() {
        let ext = ext.get();
        return Ok(Value::Ext(ext.code, ext.data.clone()));
    }
    if let Some(ext) = crate::pyext::encode(obj, codec, depth)? {
        return Ok(ext.into_value());
    }
    let Some(keys) = codec.keys else {
        let kind = obj.get_type().name()?;
        return Err(PyTypeError::new_err(format!(
            "a {kind} is not a session value (None, bool, int, float, str, bytes, list, \
             dict with str keys, tuple, set, frozenset, datetime, date, time, timedelta, \
             UUID, Decimal) and this manager has pickle=False"
        )));
    };
    let py = obj.py();
    let dumps = DUMPS.import(py, "pickle", "dumps")?;
    let bytes = dumps.call1((obj, PICKLE_PROTOCOL))?;
    let pickle = bytes.cast_into::<PyBytes>()?;
    Ok(Value::Ext(
        EXT_PICKLE,
        keys.sign(codec.id.store_key().as_bytes(), pickle.as_bytes()),
    ))
}

/// `value` as a Python object. An ext of spysession's that is malformed, a
/// pickle whose signature fails (or any pickle without `pickle=True`), and
/// nesting past [`MAX_LOAD_DEPTH`] are a `ValueError`: the value is damaged
/// or planted, and nothing of it has run.
pub fn to_py<'py>(py: Python<'py>, value: &Value, codec: Codec<'_>) -> PyResult<Bound<'py, PyAny>> {
    to_py_at(py, value, codec, 0)
}

/// [`to_py`] at nesting `depth`.
pub fn to_py_at<'py>(
    py: Python<'py>,
    value: &Value,
    codec: Codec<'_>,
    depth: usize,
) -> PyResult<Bound<'py, PyAny>> {
    if depth > MAX_LOAD_DEPTH {
        return Err(PyValueError::new_err(format!(
            "stored value nested deeper than {MAX_LOAD_DEPTH} levels"
        )));
    }
    Ok(match value {
        Value::Nil => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Int(i) => i.into_pyobject(py)?.into_any(),
        Value::UInt(u) => u.into_pyobject(py)?.into_any(),
        Value::Float(f) => PyFloat::new(py, *f).into_any(),
        Value::Str(s) => PyString::new(py, s).into_any(),
        Value::Bytes(b) => PyBytes::new(py, b).into_any(),
        Value::List(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(to_py_at(py, item, codec, depth + 1)?)?;
            }
            list.into_any()
        }
        Value::Map(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                dict.set_item(k, to_py_at(py, v, codec, depth + 1)?)?;
            }
            dict.into_any()
        }
        Value::Ext(code, data) => {
            match ExtValue::decode(*code, data).map_err(|e| PyValueError::new_err(e.to_string()))? {
                Some(ExtValue::Pickle { tag, pickle }) => unpickle(py, &tag, &pickle, codec)?,
                Some(ext) => crate::pyext::decode(py, ext, codec, depth)?,
                None => Bound::new(
                    py,
                    Ext {
                        code: *code,
                        data: data.clone(),
                    },
                )?
                .into_any(),
            }
        }
    })
}

/// The object a signed pickle holds, once its tag verifies.
fn unpickle<'py>(
    py: Python<'py>,
    tag: &[u8],
    pickle: &[u8],
    codec: Codec<'_>,
) -> PyResult<Bound<'py, PyAny>> {
    let Some(keys) = codec.keys else {
        return Err(PyValueError::new_err(
            "a pickled value, and this manager has pickle=False: not loaded",
        ));
    };
    if !keys.verify(codec.id.store_key().as_bytes(), tag, pickle) {
        return Err(PyValueError::new_err(
            "a pickled value whose signature does not verify: not loaded",
        ));
    }
    let loads = LOADS.import(py, "pickle", "loads")?;
    loads.call1((PyBytes::new(py, pickle),))
}

/// True for values that Python code can change in place (lists, dicts, and
/// the ext values: sets, pickled objects, tuples holding lists): the
/// session keeps the object it handed out and compares it at commit.
pub fn is_mutable(value: &Value) -> bool {
    matches!(value, Value::List(_) | Value::Map(_) | Value::Ext(..))
}

/// True when `value` holds an ext value anywhere: such a value is
/// converted (and any pickle in it verified) when its record is loaded.
pub fn holds_ext(value: &Value) -> bool {
    match value {
        Value::Ext(..) => true,
        Value::List(items) => items.iter().any(holds_ext),
        Value::Map(map) => map.values().any(holds_ext),
        _ => false,
    }
}
