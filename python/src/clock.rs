//! A Python `clock=` callable as the engine's clock.
//!
//! The engine reads its clock from inside work that runs without the GIL.
//! Rather than take the GIL back there (and lose the callable's exception),
//! the binding calls the Python clock *before* each engine call, with the GIL,
//! and lends the value to the engine through a thread-local for the length
//! of that call ([`at`]).

use std::cell::Cell;
use std::sync::Arc;

use pyo3::prelude::*;
use spysession_core::{system_now, Clock};

thread_local! {
    static LENT_NOW: Cell<Option<f64>> = const { Cell::new(None) };
}

/// A user's clock: any callable returning Unix seconds.
pub struct PyClock {
    func: Py<PyAny>,
}

impl PyClock {
    /// Wraps `func` (must be callable).
    pub fn new(func: Py<PyAny>) -> Self {
        PyClock { func }
    }

    /// The callable.
    pub fn func(&self) -> &Py<PyAny> {
        &self.func
    }

    /// Calls the clock.
    pub fn read(&self, py: Python<'_>) -> PyResult<f64> {
        self.func.call0(py)?.extract::<f64>(py)
    }

    /// The engine-side clock: the lent value, or (outside [`at`], which the
    /// binding never does) a direct call, reporting a failure as unraisable.
    pub fn engine_clock(&self, py: Python<'_>) -> Arc<dyn Clock> {
        let func = self.func.clone_ref(py);
        Arc::new(move || {
            LENT_NOW.with(Cell::get).unwrap_or_else(|| {
                Python::attach(|py| match func.call0(py).and_then(|t| t.extract(py)) {
                    Ok(t) => t,
                    Err(e) => {
                        e.write_unraisable(py, Some(func.bind(py)));
                        system_now()
                    }
                })
            })
        })
    }
}

/// Reads `clock` (if any) and runs `work` with that time lent to the engine.
pub fn at<T>(py: Python<'_>, clock: Option<&PyClock>, work: impl FnOnce() -> T) -> PyResult<T> {
    let now = clock.map(|c| c.read(py)).transpose()?;
    Ok(lend(now, work))
}

/// Runs `work` with `now` (a Python clock's reading, if any) lent to the
/// engine on this thread: how work on another thread than the one that
/// read the clock, without the GIL, sees that reading.
pub fn lend<T>(now: Option<f64>, work: impl FnOnce() -> T) -> T {
    let Some(now) = now else {
        return work();
    };
    let previous = LENT_NOW.with(|c| c.replace(Some(now)));
    let out = work();
    LENT_NOW.with(|c| c.set(previous));
    out
}
