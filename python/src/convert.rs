//! Python values <-> engine [`Value`]s.
//!
//! Native (readable from C): `None`, `bool`, `int` within 64 bits, `float`,
//! `str`, `bytes`, `list`, and `dict` with `str` keys, each of exactly that
//! type (a subclass such as `OrderedDict` or an `IntEnum` is pickled, so it
//! comes back as itself). An [`Ext`] travels as the ext value it holds.
//! Everything else (tuples, sets, datetimes, instances, big ints, dicts with
//! other keys) is pickled into `Ext(EXT_PICKLE, ...)`, or refused with
//! `TypeError` when the manager has `pickle=False`.

use std::collections::BTreeMap;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString};
use spysession_core::{Value, EXT_PICKLE};

/// Deepest nesting of lists and dicts stored natively.
const MAX_DEPTH: usize = 200;

/// The pickle protocol written: 4 is read by every CPython since 3.4, so
/// processes on different Python versions can share a store.
const PICKLE_PROTOCOL: u8 = 4;

static DUMPS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// A MessagePack extension value with a code other than the pickle code
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
    fn new(code: i8, data: Vec<u8>) -> Self {
        Ext { code, data }
    }

    #[getter]
    fn data<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.data)
    }

    fn __repr__(&self) -> String {
        format!("Ext({}, {} bytes)", self.code, self.data.len())
    }
}

/// `obj` as a [`Value`]; `pickle` says whether non-native values may be pickled.
pub fn to_value(obj: &Bound<'_, PyAny>, pickle: bool) -> PyResult<Value> {
    to_value_at(obj, pickle, 0)
}

fn to_value_at(obj: &Bound<'_, PyAny>, pickle: bool, depth: usize) -> PyResult<Value> {
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
            .map(|item| to_value_at(&item, pickle, depth + 1))
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
                map.insert(k.extract::<String>()?, to_value_at(&v, pickle, depth + 1)?);
            }
            return Ok(Value::Map(map));
        }
    } else if let Ok(ext) = obj.cast_exact::<Ext>() {
        let ext = ext.get();
        return Ok(Value::Ext(ext.code, ext.data.clone()));
    }
    if !pickle {
        let kind = obj.get_type().name()?;
        return Err(PyTypeError::new_err(format!(
            "a {kind} is not a native session value (None, bool, int, float, str, bytes, \
             list, dict with str keys) and this manager has pickle=False"
        )));
    }
    let py = obj.py();
    let dumps = DUMPS.import(py, "pickle", "dumps")?;
    let bytes = dumps.call1((obj, PICKLE_PROTOCOL))?;
    Ok(Value::Ext(
        EXT_PICKLE,
        bytes.cast_into::<PyBytes>()?.as_bytes().to_vec(),
    ))
}

/// `value` as a Python object (pickles are loaded).
pub fn to_py<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
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
                list.append(to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Map(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                dict.set_item(k, to_py(py, v)?)?;
            }
            dict.into_any()
        }
        Value::Ext(EXT_PICKLE, data) => {
            let loads = LOADS.import(py, "pickle", "loads")?;
            loads.call1((PyBytes::new(py, data),))?
        }
        Value::Ext(code, data) => Bound::new(
            py,
            Ext {
                code: *code,
                data: data.clone(),
            },
        )?
        .into_any(),
    })
}

/// True for values that Python code can change in place (lists, dicts,
/// pickled objects): the session keeps the object it handed out and
/// compares it at commit.
pub fn is_mutable(value: &Value) -> bool {
    matches!(value, Value::List(_) | Value::Map(_) | Value::Ext(..))
}
