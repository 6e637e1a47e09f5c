//! Where the engine gets the time: injected, so expiry is exact in tests.

use std::time::{SystemTime, UNIX_EPOCH};

/// A source of the current time in Unix seconds.
///
/// Any `Fn() -> f64` is a clock, so tests pass `|| 1000.0` or a closure over
/// a shared cell and move time by hand instead of sleeping.
pub trait Clock: Send + Sync {
    /// Now, in seconds since the Unix epoch.
    fn now(&self) -> f64;
}

/// The operating system's wall clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> f64 {
        system_now()
    }
}

impl<F: Fn() -> f64 + Send + Sync> Clock for F {
    fn now(&self) -> f64 {
        self()
    }
}

/// The wall clock as Unix seconds (0 if the clock is before 1970).
pub fn system_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}
