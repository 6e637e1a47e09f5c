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

/// The operating system's wall clock, read at the kernel tick's resolution
/// (see [`system_now`]).
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

/// The wall clock as Unix seconds (0 if the clock is before 1970), at the
/// resolution of the kernel tick (`CLOCK_REALTIME_COARSE`: the fine clock as
/// of the last tick, a few milliseconds behind at most, never ahead).
///
/// Why coarse: a request reads the clock twice, and session times need
/// nothing finer than milliseconds (expiry is in seconds, cookies carry
/// seconds). On the benchmark machine a fine read took 27 ns, a coarse one
/// 5 ns. The one thing that notices is the `merges` counter: two writes to
/// one session within a tick look like one writer.
///
/// Off Linux (macOS, the BSDs), or with the cargo feature `portable`, it is
/// `SystemTime::now()`: the same time at full resolution.
pub fn system_now() -> f64 {
    #[cfg(all(
        any(target_os = "linux", target_os = "android"),
        not(feature = "portable")
    ))]
    if let Some(now) = coarse_now() {
        return now;
    }
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// `CLOCK_REALTIME_COARSE` (Linux only); `None` if the call fails.
#[cfg(all(
    any(target_os = "linux", target_os = "android"),
    not(feature = "portable")
))]
fn coarse_now() -> Option<f64> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // clock_gettime straight away: SystemTime's checked subtraction from
    // the epoch costs as much again.
    // SAFETY: `ts` is a valid timespec to write to; the clock exists on
    // every Linux since 2.6.32, and a failure falls back to SystemTime.
    if unsafe { libc::clock_gettime(libc::CLOCK_REALTIME_COARSE, &mut ts) } != 0 {
        return None;
    }
    Some((ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9).max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_now_agrees_with_system_time() {
        let before = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        let now = system_now();
        let after = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        // The coarse clock is the fine one as of the last tick: never ahead
        // (but for float rounding), and behind by ticks, not seconds.
        assert!(now >= before.as_secs_f64() - 1.0, "{now} before {before:?}");
        assert!(now <= after.as_secs_f64() + 1e-6, "{now} after {after:?}");
    }
}
