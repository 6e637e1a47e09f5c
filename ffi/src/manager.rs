//! Manager handles and their options (the README's Options table), with an optional C clock.

use std::ffi::{c_char, c_void};
use std::sync::Arc;

use spysession_core::{Clock, Options, SameSite, SessionManager, SystemClock, Transport};

use crate::guard::{arg_ref, guard, guard_void, init_size, opt_text, options_ref, Out};
use crate::status::{sps_status, FfiError, FfiResult};
use crate::store::sps_store;

/// `samesite`: no SameSite attribute on the cookie.
pub const SPS_SAMESITE_OMIT: u32 = 0;
/// `samesite`: `SameSite=Strict`.
pub const SPS_SAMESITE_STRICT: u32 = 1;
/// `samesite`: `SameSite=Lax` (the default).
pub const SPS_SAMESITE_LAX: u32 = 2;
/// `samesite`: `SameSite=None` (requires `secure`).
pub const SPS_SAMESITE_NONE: u32 = 3;

/// Transport: the id travels in a cookie (the default).
pub const SPS_TRANSPORT_COOKIE: u32 = 1;
/// Transport: the id travels in the query string (see sps_session_url).
pub const SPS_TRANSPORT_GET: u32 = 2;
/// Transport: the id travels in a form field (see sps_session_form_field).
pub const SPS_TRANSPORT_POST: u32 = 3;

/// A clock: returns the current time in Unix seconds. Called from every
/// thread using the manager, so it must be thread-safe.
pub type sps_clock_fn = Option<unsafe extern "C" fn(user_data: *mut c_void) -> f64>;

/// A site's session options (the README's Options table). Initialise with
/// sps_manager_options_init, then change the fields you need; strings are
/// pointer + length, NULL meaning the default (for `domain`: none). The
/// strings are copied by sps_manager_new.
#[repr(C)]
#[derive(Debug)]
pub struct sps_manager_options {
    /// `sizeof(sps_manager_options)` as the caller compiled it (set by
    /// sps_manager_options_init); lets later versions add fields at the end.
    pub struct_size: usize,
    /// Seconds of inactivity before a session expires. Default 86400.
    pub expire: f64,
    /// Cookie Path; the session exists only under it. NULL: `/`.
    pub path: *const c_char,
    /// Length of `path`.
    pub path_len: usize,
    /// Cookie name. NULL: `spysession`.
    pub cookie_name: *const c_char,
    /// Length of `cookie_name`.
    pub cookie_name_len: usize,
    /// Query / form field name. NULL: `spysession`.
    pub param_name: *const c_char,
    /// Length of `param_name`.
    pub param_name_len: usize,
    /// Cookie Domain. NULL: none.
    pub domain: *const c_char,
    /// Length of `domain`.
    pub domain_len: usize,
    /// Cookie Secure. Default false.
    pub secure: bool,
    /// Cookie HttpOnly. Default true.
    pub httponly: bool,
    /// One of SPS_SAMESITE_*. Default SPS_SAMESITE_LAX.
    pub samesite: u32,
    /// Where to look for the id, in order: SPS_TRANSPORT_* values.
    /// Default { SPS_TRANSPORT_COOKIE }.
    pub transports: [u32; 3],
    /// How many entries of `transports` are used (1 to 3). Default 1.
    pub transports_len: usize,
    /// Refuse ids the store does not know (a new one is issued). Default true.
    pub strict: bool,
    /// Whether `max_lifetime` applies. Default false.
    pub has_max_lifetime: bool,
    /// Absolute cap on a session's age, seconds.
    pub max_lifetime: f64,
    /// Whether `touch_interval` applies. Default false (expire / 100).
    pub has_touch_interval: bool,
    /// Least seconds between two expiry rewrites of an unchanged session;
    /// 0 touches on every request.
    pub touch_interval: f64,
    /// The clock; NULL: the system clock. Lets tests move time by hand.
    pub clock: sps_clock_fn,
    /// Passed to `clock`; must outlive the manager and its sessions.
    pub clock_user_data: *mut c_void,
}

/// Fills `options` with the defaults (the README's Options table). `struct_size` is
/// `sizeof(sps_manager_options)` (at least this library's; see the crate docs).
///
/// # Safety
/// `options` is NULL or writable for `struct_size` bytes.
#[no_mangle]
pub unsafe extern "C" fn sps_manager_options_init(
    options: *mut sps_manager_options,
    struct_size: usize,
) -> sps_status {
    guard(|| {
        // SAFETY: `options` is as the `# Safety` section requires.
        let out = unsafe { Out::new(options, "options") }?;
        // SAFETY: writable for `struct_size` bytes, the `# Safety` contract.
        unsafe { init_size(options, struct_size, "sps_manager_options") }?;
        let d = Options::default();
        out.write(sps_manager_options {
            struct_size,
            expire: d.expire,
            path: std::ptr::null(),
            path_len: 0,
            cookie_name: std::ptr::null(),
            cookie_name_len: 0,
            param_name: std::ptr::null(),
            param_name_len: 0,
            domain: std::ptr::null(),
            domain_len: 0,
            secure: d.secure,
            httponly: d.httponly,
            samesite: SPS_SAMESITE_LAX,
            transports: [SPS_TRANSPORT_COOKIE, 0, 0],
            transports_len: 1,
            strict: d.strict,
            has_max_lifetime: false,
            max_lifetime: 0.0,
            has_touch_interval: false,
            touch_interval: 0.0,
            clock: None,
            clock_user_data: std::ptr::null_mut(),
        });
        Ok(())
    })
}

/// A C clock callback as a core `Clock`.
struct CClock {
    now: unsafe extern "C" fn(*mut c_void) -> f64,
    user_data: *mut c_void,
}

// SAFETY: the header documents that the clock is called from any thread.
unsafe impl Send for CClock {}
// SAFETY: as above.
unsafe impl Sync for CClock {}

impl Clock for CClock {
    fn now(&self) -> f64 {
        // SAFETY: the caller's promise in sps_manager_options.
        unsafe { (self.now)(self.user_data) }
    }
}

fn config(option: &'static str, message: impl Into<String>) -> FfiError {
    spysession_core::Error::config(option, message).into()
}

/// The core options and clock described by `o`.
unsafe fn convert(o: &sps_manager_options) -> FfiResult<(Options, Arc<dyn Clock>)> {
    let d = Options::default();
    let name = |p, len, field: &str, default: String| -> FfiResult<String> {
        // SAFETY: `p` is as the `# Safety` section requires.
        Ok(unsafe { opt_text(p, len, field) }?.map_or(default, str::to_owned))
    };
    let samesite = match o.samesite {
        SPS_SAMESITE_OMIT => None,
        SPS_SAMESITE_STRICT => Some(SameSite::Strict),
        SPS_SAMESITE_LAX => Some(SameSite::Lax),
        SPS_SAMESITE_NONE => Some(SameSite::None),
        other => {
            return Err(config(
                "samesite",
                format!("{other} is not an SPS_SAMESITE_* value"),
            ))
        }
    };
    if o.transports_len > o.transports.len() {
        return Err(FfiError::invalid(format!(
            "transports_len {} is more than {}",
            o.transports_len,
            o.transports.len()
        )));
    }
    let transports = o.transports[..o.transports_len]
        .iter()
        .map(|t| match *t {
            SPS_TRANSPORT_COOKIE => Ok(Transport::Cookie),
            SPS_TRANSPORT_GET => Ok(Transport::Get),
            SPS_TRANSPORT_POST => Ok(Transport::Post),
            other => Err(config(
                "transport",
                format!("{other} is not an SPS_TRANSPORT_* value"),
            )),
        })
        .collect::<FfiResult<Vec<_>>>()?;
    let options = Options {
        expire: o.expire,
        path: name(o.path, o.path_len, "path", d.path)?,
        cookie_name: name(
            o.cookie_name,
            o.cookie_name_len,
            "cookie_name",
            d.cookie_name,
        )?,
        param_name: name(o.param_name, o.param_name_len, "param_name", d.param_name)?,
        // SAFETY: `o.domain` is as the `# Safety` section requires.
        domain: unsafe { opt_text(o.domain, o.domain_len, "domain") }?.map(str::to_owned),
        secure: o.secure,
        httponly: o.httponly,
        samesite,
        transports,
        strict: o.strict,
        max_lifetime: o.has_max_lifetime.then_some(o.max_lifetime),
        touch_interval: o.has_touch_interval.then_some(o.touch_interval),
    };
    let clock: Arc<dyn Clock> = match o.clock {
        Some(now) => Arc::new(CClock {
            now,
            user_data: o.clock_user_data,
        }),
        None => Arc::new(SystemClock),
    };
    Ok((options, clock))
}

/// A site's session configuration: a store, options and a clock. Shared
/// and reference-counted: sessions keep it alive, so it may be freed while
/// sessions are still in use.
///
/// Thread safety: every function taking a `const sps_manager *` (such as
/// sps_session_begin) may be called from any number of threads at once.
pub struct sps_manager {
    pub(crate) inner: SessionManager,
}

/// Makes a manager over `store` (which it keeps alive) with `options` (NULL:
/// every default). A refused option is SPS_CONFIG, with sps_last_error
/// naming it (negative expire, a path or domain with `;` or control
/// characters, samesite None without secure, an unknown transport...).
///
/// # Safety
/// `store` is NULL or live; `options` is NULL or initialised with
/// sps_manager_options_init; `out_manager` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn sps_manager_new(
    store: *const sps_store,
    options: *const sps_manager_options,
    out_manager: *mut *mut sps_manager,
) -> sps_status {
    guard(|| {
        // SAFETY: `store` is as the `# Safety` section requires.
        let store = unsafe { arg_ref(store, "store") }?;
        // SAFETY: `out_manager` is as the `# Safety` section requires.
        let out = unsafe { Out::new(out_manager, "out_manager") }?;
        // SAFETY: `options` is NULL or initialised, as the `# Safety` section requires.
        let (options, clock) = match unsafe { options_ref(options, "sps_manager_options") }? {
            // SAFETY: the pointers passed on are valid as our `# Safety` section requires.
            Some(o) => unsafe { convert(o) }?,
            None => (Options::default(), Arc::new(SystemClock) as Arc<dyn Clock>),
        };
        let inner = SessionManager::with_clock(store.inner.clone(), options, clock)?;
        out.write(Box::into_raw(Box::new(sps_manager { inner })));
        Ok(())
    })
}

/// Releases this handle; sessions begun from it stay usable. NULL is
/// accepted.
///
/// # Safety
/// `manager` is NULL or a handle not yet freed, with no call on it in progress.
#[no_mangle]
pub unsafe extern "C" fn sps_manager_free(manager: *mut sps_manager) {
    guard_void(|| {
        if !manager.is_null() {
            // SAFETY: `manager` came from this library's `Box::into_raw`, and the
            // caller does not use it again (the `# Safety` contract).
            drop(unsafe { Box::from_raw(manager) });
        }
    });
}
