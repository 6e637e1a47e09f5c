//! Custom stores written in C: a table of callbacks plus a user-data
//! pointer, made a core `RawStore` (the core's `CustomStore` then does the
//! record decoding, expiry checks, counters and per-id commit locking).

use std::ffi::{c_char, c_void};
use std::sync::Arc;

use spysession_core::{CustomStore, Error, RawStore, Result, StoreKey};

use crate::guard::{arg_mut, arg_ref, bytes, guard, Out};
use crate::status::{sps_status, CallbackError, FfiError};
use crate::store::sps_store;

/// Where a load callback puts the record it found: it calls
/// sps_record_sink_set, which copies the bytes. Only valid during the call.
pub struct sps_record_sink {
    record: Option<Vec<u8>>,
}

/// Hands the record found by a load callback to the library, which copies
/// it (so the callback keeps ownership of `record`). Calling it again
/// replaces the bytes. NULL `record` with length 0 is an empty record.
///
/// # Safety
/// `sink` is NULL or the sink given to the running load callback; `record`
/// points to `record_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn sps_record_sink_set(
    sink: *mut sps_record_sink,
    record: *const u8,
    record_len: usize,
) -> sps_status {
    guard(|| {
        // SAFETY: `sink` is as the `# Safety` section requires.
        let sink = unsafe { arg_mut(sink, "sink") }?;
        // SAFETY: `record.cast(` is as the `# Safety` section requires.
        let record = unsafe { bytes(record.cast(), record_len, "record") }?;
        sink.record = Some(record.to_vec());
        Ok(())
    })
}

/// Load callback: look up the record stored under `key` (the session's store
/// key, see sps_store_key: 32 lowercase hex characters plus a NUL; a custom
/// store never sees a session id) and, if there is one, hand it over with
/// sps_record_sink_set.
/// Return SPS_OK (found or not: not calling the sink means "none"), or
/// SPS_NOT_FOUND, or any other status for an error.
pub type sps_load_fn = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        key: *const c_char,
        sink: *mut sps_record_sink,
    ) -> u32,
>;

/// Save callback: store `record` (copy it: it is only valid during the
/// call) under `key` (a store key, as for load), replacing any; `expires_at` (Unix seconds) is given for
/// stores that index or expire by time. Return SPS_OK or an error status.
pub type sps_save_fn = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        key: *const c_char,
        record: *const u8,
        record_len: usize,
        expires_at: f64,
    ) -> u32,
>;

/// Remove callback: delete the record under `key` (a store key); absent is
/// not an error.
/// Return SPS_OK (or SPS_NOT_FOUND) or an error status.
pub type sps_remove_fn =
    Option<unsafe extern "C" fn(user_data: *mut c_void, key: *const c_char) -> u32>;

/// Clean callback: delete every record that expires at or before `now`
/// (`expires_at <= now`), write how many through `out_removed` (preset to
/// 0), return SPS_OK or an error status.
pub type sps_clean_fn =
    Option<unsafe extern "C" fn(user_data: *mut c_void, now: f64, out_removed: *mut u64) -> u32>;

/// Destroy callback (optional, may be NULL): called once with `user_data`
/// when the last handle using the store is freed.
pub type sps_destroy_fn = Option<unsafe extern "C" fn(user_data: *mut c_void)>;

/// A store made of C callbacks (sps_store_open_custom copies this struct).
///
/// A callback returning a status other than SPS_OK (and SPS_NOT_FOUND for
/// load and remove) fails the library call that needed it with that same
/// status (SPS_IO if it is not an sps_status value); nothing is lost: the
/// session stays as it was, and the call may be retried.
///
/// Thread safety: the callbacks may be called from several threads at once
/// (every thread using a manager over this store): protect `user_data`. A
/// commit is a load then a save, serialised per key within this process.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct sps_store_callbacks {
    /// Passed as the first argument of every callback.
    pub user_data: *mut c_void,
    /// Required.
    pub load: sps_load_fn,
    /// Required.
    pub save: sps_save_fn,
    /// Required.
    pub remove: sps_remove_fn,
    /// Required.
    pub clean: sps_clean_fn,
    /// Optional (NULL): frees `user_data` when the store goes away.
    pub destroy: sps_destroy_fn,
}

/// The callback table as a core `RawStore`.
struct CStore {
    user_data: *mut c_void,
    load: unsafe extern "C" fn(*mut c_void, *const c_char, *mut sps_record_sink) -> u32,
    save: unsafe extern "C" fn(*mut c_void, *const c_char, *const u8, usize, f64) -> u32,
    remove: unsafe extern "C" fn(*mut c_void, *const c_char) -> u32,
    clean: unsafe extern "C" fn(*mut c_void, f64, *mut u64) -> u32,
    destroy: sps_destroy_fn,
}

// SAFETY: the caller of sps_store_open_custom promises (header docs) that
// the callbacks and user_data may be used from any thread, concurrently.
unsafe impl Send for CStore {}
// SAFETY: as above.
unsafe impl Sync for CStore {}

/// The store key as the NUL-terminated string the callbacks get.
fn c_key(key: &StoreKey) -> [u8; 33] {
    let mut buf = [0u8; 33];
    buf[..32].copy_from_slice(&key.to_hex());
    buf
}

fn check(callback: &'static str, code: u32) -> Result<()> {
    if code == sps_status::SPS_OK as u32 {
        Ok(())
    } else {
        Err(Error::Custom(Box::new(CallbackError { callback, code })))
    }
}

impl RawStore for CStore {
    fn load(&self, key: &StoreKey) -> Result<Option<Vec<u8>>> {
        let key = c_key(key);
        let mut sink = sps_record_sink { record: None };
        // SAFETY: the callback contract of sps_store_callbacks.
        let code = unsafe { (self.load)(self.user_data, key.as_ptr().cast(), &mut sink) };
        if code == sps_status::SPS_NOT_FOUND as u32 {
            return Ok(None);
        }
        check("load", code)?;
        Ok(sink.record)
    }

    fn save(&self, key: &StoreKey, record: &[u8], expires_at: f64) -> Result<()> {
        let key = c_key(key);
        // SAFETY: the callback contract of sps_store_callbacks.
        let code = unsafe {
            (self.save)(
                self.user_data,
                key.as_ptr().cast(),
                record.as_ptr(),
                record.len(),
                expires_at,
            )
        };
        check("save", code)
    }

    fn delete(&self, key: &StoreKey) -> Result<()> {
        let key = c_key(key);
        // SAFETY: the callback contract of sps_store_callbacks.
        let code = unsafe { (self.remove)(self.user_data, key.as_ptr().cast()) };
        if code == sps_status::SPS_NOT_FOUND as u32 {
            return Ok(());
        }
        check("remove", code)
    }

    fn clean(&self, now: f64) -> Result<u64> {
        let mut removed = 0u64;
        // SAFETY: the callback contract of sps_store_callbacks.
        let code = unsafe { (self.clean)(self.user_data, now, &mut removed) };
        check("clean", code)?;
        Ok(removed)
    }
}

impl Drop for CStore {
    fn drop(&mut self) {
        if let Some(destroy) = self.destroy {
            // SAFETY: called once, when the last reference goes.
            unsafe { destroy(self.user_data) }
        }
    }
}

/// Opens a store made of C callbacks (see sps_store_callbacks). The table
/// is copied; `user_data` must stay valid until the destroy callback (or,
/// without one, until every handle using the store is freed).
/// sps_store_len on it is SPS_UNSUPPORTED.
///
/// # Safety
/// `callbacks` is NULL or a readable table whose non-NULL entries are valid
/// functions obeying the contract above; `out_store` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn sps_store_open_custom(
    callbacks: *const sps_store_callbacks,
    out_store: *mut *mut sps_store,
) -> sps_status {
    guard(|| {
        // SAFETY: `callbacks` is as the `# Safety` section requires.
        let cb = unsafe { arg_ref(callbacks, "callbacks") }?;
        // SAFETY: `out_store` is as the `# Safety` section requires.
        let out = unsafe { Out::new(out_store, "out_store") }?;
        let missing = |name: &str| FfiError::invalid(format!("callbacks->{name} is NULL"));
        let raw = CStore {
            user_data: cb.user_data,
            load: cb.load.ok_or_else(|| missing("load"))?,
            save: cb.save.ok_or_else(|| missing("save"))?,
            remove: cb.remove.ok_or_else(|| missing("remove"))?,
            clean: cb.clean.ok_or_else(|| missing("clean"))?,
            destroy: cb.destroy,
        };
        out.write(sps_store::boxed(Arc::new(CustomStore::new(raw))));
        Ok(())
    })
}
