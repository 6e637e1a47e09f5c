//! Python's common types beyond the native ones, to and from spysession's
//! ext values (`spysession_core::ext`, where each layout is documented).
//!
//! Only the exact types are taken (a subclass of `datetime` or `tuple` is
//! not one of these, and comes back only through a pickle). What comes back:
//!
//! - tuple, set, frozenset: the same container, elements converted as
//!   session values (so a tuple may hold lists, a set tuples);
//! - datetime, time: naive stays naive; an aware one comes back with a
//!   fixed-offset `datetime.timezone` of the same UTC offset (a `ZoneInfo`
//!   is not kept by name: the instant and the offset are), `fold` kept;
//! - date, timedelta, UUID: themselves;
//! - Decimal: the same sign, digits and exponent (`Decimal("1.10")` stays
//!   `1.10`), NaN, sNaN and infinities included;
//! - ints past 64 bits: the same int.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict, PyFrozenSet, PyInt, PySet, PyString, PyTuple};
use spysession_core::ext::{Date, DateTime, Decimal, ExtValue, Time, TimeDelta};
use spysession_core::Value;

use crate::convert::{to_py_at, to_value_at, Codec};

/// The classes of the standard library taken here, imported once.
struct Classes {
    datetime: Py<PyAny>,
    date: Py<PyAny>,
    time: Py<PyAny>,
    timedelta: Py<PyAny>,
    timezone: Py<PyAny>,
    uuid: Py<PyAny>,
    decimal: Py<PyAny>,
}

static CLASSES: PyOnceLock<Classes> = PyOnceLock::new();

fn classes(py: Python<'_>) -> PyResult<&Classes> {
    CLASSES.get_or_try_init(py, || {
        let dt = py.import("datetime")?;
        let get = |m: &Bound<'_, PyModule>, name: &str| m.getattr(name).map(Bound::unbind);
        Ok(Classes {
            datetime: get(&dt, "datetime")?,
            date: get(&dt, "date")?,
            time: get(&dt, "time")?,
            timedelta: get(&dt, "timedelta")?,
            timezone: get(&dt, "timezone")?,
            uuid: get(&py.import("uuid")?, "UUID")?,
            decimal: get(&py.import("decimal")?, "Decimal")?,
        })
    })
}

/// `obj` as one of spysession's ext values, or None when it is not of a
/// type they cover.
pub fn encode(
    obj: &Bound<'_, PyAny>,
    codec: Codec<'_>,
    depth: usize,
) -> PyResult<Option<ExtValue>> {
    let py = obj.py();
    let items = |iter: Bound<'_, pyo3::types::PyIterator>| -> PyResult<Vec<Value>> {
        iter.map(|item| to_value_at(&item?, codec, depth + 1))
            .collect()
    };
    if let Ok(t) = obj.cast_exact::<PyTuple>() {
        return Ok(Some(ExtValue::Tuple(items(t.try_iter()?)?)));
    }
    if let Ok(s) = obj.cast_exact::<PySet>() {
        let mut elements = items(s.try_iter()?)?;
        ExtValue::sort_set_elements(&mut elements);
        return Ok(Some(ExtValue::Set(elements)));
    }
    if let Ok(s) = obj.cast_exact::<PyFrozenSet>() {
        let mut elements = items(s.try_iter()?)?;
        ExtValue::sort_set_elements(&mut elements);
        return Ok(Some(ExtValue::FrozenSet(elements)));
    }
    if obj.is_exact_instance_of::<PyInt>() {
        // Only ints past 64 bits reach here.
        return big_int(obj).map(Some);
    }
    let c = classes(py)?;
    let kind = obj.get_type();
    let is = |class: &Py<PyAny>| kind.is(class.bind(py));
    Ok(Some(if is(&c.datetime) {
        ExtValue::DateTime(DateTime {
            date: date_of(obj)?,
            time: time_of(obj)?,
        })
    } else if is(&c.date) {
        ExtValue::Date(date_of(obj)?)
    } else if is(&c.time) {
        ExtValue::Time(time_of(obj)?)
    } else if is(&c.timedelta) {
        ExtValue::TimeDelta(TimeDelta {
            days: obj.getattr("days")?.extract()?,
            seconds: obj.getattr("seconds")?.extract()?,
            microseconds: obj.getattr("microseconds")?.extract()?,
        })
    } else if is(&c.uuid) {
        ExtValue::Uuid(obj.getattr("bytes")?.extract()?)
    } else if is(&c.decimal) {
        ExtValue::Decimal(decimal_of(obj)?)
    } else {
        return Ok(None);
    }))
}

/// The Python object of a decoded ext value (not a pickle: see `convert`).
pub fn decode<'py>(
    py: Python<'py>,
    ext: ExtValue,
    codec: Codec<'_>,
    depth: usize,
) -> PyResult<Bound<'py, PyAny>> {
    let elements = |items: Vec<Value>| -> PyResult<Vec<Bound<'py, PyAny>>> {
        items
            .iter()
            .map(|v| to_py_at(py, v, codec, depth + 1))
            .collect()
    };
    let c = classes(py)?;
    Ok(match ext {
        ExtValue::Tuple(items) => PyTuple::new(py, elements(items)?)?.into_any(),
        ExtValue::Set(items) => PySet::new(py, elements(items)?)?.into_any(),
        ExtValue::FrozenSet(items) => PyFrozenSet::new(py, elements(items)?)?.into_any(),
        ExtValue::DateTime(DateTime { date, time }) => {
            let args = (
                date.year,
                date.month,
                date.day,
                time.hour,
                time.minute,
                time.second,
                time.microsecond,
                tzinfo(py, c, time.utc_offset)?,
            );
            call_with_fold(c.datetime.bind(py), args, time.fold)?
        }
        ExtValue::Date(d) => c.date.bind(py).call1((d.year, d.month, d.day))?,
        ExtValue::Time(t) => {
            let args = (
                t.hour,
                t.minute,
                t.second,
                t.microsecond,
                tzinfo(py, c, t.utc_offset)?,
            );
            call_with_fold(c.time.bind(py), args, t.fold)?
        }
        ExtValue::TimeDelta(td) => {
            c.timedelta
                .bind(py)
                .call1((td.days, td.seconds, td.microseconds))?
        }
        ExtValue::Uuid(bytes) => {
            let kwargs = PyDict::new(py);
            kwargs.set_item("bytes", PyBytes::new(py, &bytes))?;
            c.uuid.bind(py).call((), Some(&kwargs))?
        }
        ExtValue::Decimal(d) => c.decimal.bind(py).call1((decimal_text(&d),))?,
        ExtValue::BigInt(bytes) => {
            let kwargs = PyDict::new(py);
            kwargs.set_item("signed", true)?;
            py.get_type::<PyInt>().call_method(
                "from_bytes",
                (PyBytes::new(py, &bytes), "big"),
                Some(&kwargs),
            )?
        }
        ExtValue::Pickle { .. } => {
            return Err(PyValueError::new_err("a pickle is read by convert::to_py"))
        }
    })
}

fn call_with_fold<'py>(
    class: &Bound<'py, PyAny>,
    args: impl pyo3::call::PyCallArgs<'py>,
    fold: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let kwargs = PyDict::new(class.py());
    kwargs.set_item("fold", u8::from(fold))?;
    class.call(args, Some(&kwargs))
}

/// A fixed-offset timezone, or None for a naive value.
fn tzinfo<'py>(py: Python<'py>, c: &Classes, offset: Option<i64>) -> PyResult<Bound<'py, PyAny>> {
    match offset {
        None => Ok(py.None().into_bound(py)),
        Some(micros) => {
            let kwargs = PyDict::new(py);
            kwargs.set_item("microseconds", micros)?;
            let delta = c.timedelta.bind(py).call((), Some(&kwargs))?;
            c.timezone.bind(py).call1((delta,))
        }
    }
}

fn date_of(obj: &Bound<'_, PyAny>) -> PyResult<Date> {
    Ok(Date {
        year: obj.getattr("year")?.extract()?,
        month: obj.getattr("month")?.extract()?,
        day: obj.getattr("day")?.extract()?,
    })
}

fn time_of(obj: &Bound<'_, PyAny>) -> PyResult<Time> {
    let offset = obj.call_method0("utcoffset")?;
    let utc_offset = if offset.is_none() {
        None
    } else {
        let days: i64 = offset.getattr("days")?.extract()?;
        let seconds: i64 = offset.getattr("seconds")?.extract()?;
        let micros: i64 = offset.getattr("microseconds")?.extract()?;
        Some((days * 86_400 + seconds) * 1_000_000 + micros)
    };
    Ok(Time {
        hour: obj.getattr("hour")?.extract()?,
        minute: obj.getattr("minute")?.extract()?,
        second: obj.getattr("second")?.extract()?,
        microsecond: obj.getattr("microsecond")?.extract()?,
        fold: obj.getattr("fold")?.extract::<u8>()? != 0,
        utc_offset,
    })
}

fn decimal_of(obj: &Bound<'_, PyAny>) -> PyResult<Decimal> {
    let parts = obj.call_method0("as_tuple")?;
    let (sign, digits, exponent): (u8, Bound<'_, PyAny>, Bound<'_, PyAny>) = parts.extract()?;
    let negative = sign != 0;
    let mut text = String::new();
    for digit in digits.try_iter()? {
        let d: u8 = digit?.extract()?;
        text.push(char::from(b'0' + d));
    }
    if let Ok(letter) = exponent.cast::<PyString>() {
        return Ok(match letter.to_str()? {
            "F" => Decimal::Infinity { negative },
            signal => Decimal::NaN {
                negative,
                signaling: signal == "N",
                payload: text,
            },
        });
    }
    let exponent: i64 = exponent
        .extract()
        .map_err(|_| PyValueError::new_err("Decimal exponent past 64 bits"))?;
    Ok(Decimal::Finite {
        negative,
        exponent,
        digits: text,
    })
}

/// The string `Decimal()` parses back into exactly `d`.
fn decimal_text(d: &Decimal) -> String {
    match d {
        Decimal::Finite {
            negative,
            exponent,
            digits,
        } => format!("{}{digits}E{exponent}", if *negative { "-" } else { "" }),
        Decimal::Infinity { negative } => format!("{}Infinity", if *negative { "-" } else { "" }),
        Decimal::NaN {
            negative,
            signaling,
            payload,
        } => format!(
            "{}{}NaN{payload}",
            if *negative { "-" } else { "" },
            if *signaling { "s" } else { "" }
        ),
    }
}

/// An int past 64 bits as its minimal two's-complement bytes.
fn big_int(obj: &Bound<'_, PyAny>) -> PyResult<ExtValue> {
    // Bits of n, or of ~n when negative, plus the sign bit, rounded up.
    let negative = obj.lt(0)?;
    let magnitude = if negative {
        obj.call_method0("__invert__")?
    } else {
        obj.clone()
    };
    let bits: usize = magnitude.call_method0("bit_length")?.extract()?;
    let len = (bits + 8) / 8;
    let kwargs = PyDict::new(obj.py());
    kwargs.set_item("signed", true)?;
    let bytes = obj.call_method("to_bytes", (len, "big"), Some(&kwargs))?;
    Ok(ExtValue::BigInt(bytes.extract()?))
}
