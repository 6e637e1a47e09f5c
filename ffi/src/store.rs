//! Store handles: open (memory, LMDB), clean, len, delete, load, stats, free.

use std::ffi::{c_char, OsStr};
use std::os::unix::ffi::OsStrExt as _;
use std::path::Path;
use std::sync::Arc;

use spysession_core::{clean_store, DbmOptions, DbmStore, MemoryStore, SessionId, Store, StoreKey};

use crate::buf::sps_buf;
use crate::guard::{arg_ref, bytes, guard, guard_void, init_size, options_ref, Out};
use crate::status::{sps_status, FfiError, FfiResult};

/// A session store. Shared and reference-counted: managers made from it keep
/// it alive, so it may be freed (sps_store_free) as soon as they are made.
///
/// Thread safety: every function taking a `const sps_store *` may be called
/// from any number of threads at once. A DbmStore's directory may also be
/// used by other processes at the same time.
pub struct sps_store {
    pub(crate) inner: Arc<dyn Store>,
}

impl sps_store {
    pub(crate) fn boxed(inner: Arc<dyn Store>) -> *mut sps_store {
        Box::into_raw(Box::new(sps_store { inner }))
    }
}

/// Options of sps_store_open_dbm. Initialise with sps_dbm_options_init,
/// then change fields.
#[repr(C)]
#[derive(Debug)]
pub struct sps_dbm_options {
    /// `sizeof(sps_dbm_options)` as the caller compiled it (set by
    /// sps_dbm_options_init); lets later versions add fields at the end.
    pub struct_size: usize,
    /// The LMDB map size in bytes: the most the store can hold (default
    /// 1 GiB; the file is sparse, so it costs address space, not disk).
    pub map_size: usize,
    /// Sync to disk at every commit (default true). False: a crashed process
    /// still loses nothing, a crashed machine may lose the last commits.
    pub durable: bool,
}

/// Fills `options` with the defaults. `struct_size` is
/// `sizeof(sps_dbm_options)` (at least this library's; see the crate docs).
///
/// # Safety
/// `options` is NULL or writable for `struct_size` bytes.
#[no_mangle]
pub unsafe extern "C" fn sps_dbm_options_init(
    options: *mut sps_dbm_options,
    struct_size: usize,
) -> sps_status {
    guard(|| {
        // SAFETY: `options` is as the `# Safety` section requires.
        let out = unsafe { Out::new(options, "options") }?;
        // SAFETY: writable for `struct_size` bytes, the `# Safety` contract.
        unsafe { init_size::<sps_dbm_options>(options, struct_size, "sps_dbm_options") }?;
        let d = DbmOptions::default();
        out.write(sps_dbm_options {
            struct_size,
            map_size: d.map_size,
            durable: d.durable,
        });
        Ok(())
    })
}

/// Opens an in-process store (volatile, the fastest). `max_sessions` bounds
/// it (the sessions nearest to expiry are evicted first); 0 is unbounded.
///
/// # Safety
/// `out_store` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn sps_store_open_memory(
    max_sessions: usize,
    out_store: *mut *mut sps_store,
) -> sps_status {
    guard(|| {
        // SAFETY: `out_store` is as the `# Safety` section requires.
        let out = unsafe { Out::new(out_store, "out_store") }?;
        let max = (max_sessions > 0).then_some(max_sessions);
        out.write(sps_store::boxed(Arc::new(MemoryStore::new(max))));
        Ok(())
    })
}

/// Opens (creating it if needed) the LMDB store in directory `path` (bytes,
/// not NUL-terminated; no NUL inside). `options` NULL means the defaults.
/// Shared by every process and thread of the machine; each directory's LMDB
/// environment is opened once per process however often it is named.
///
/// A process that loads both this library and the Python module has two
/// copies of the engine, each with its own registry of open environments:
/// in such a process, open a given directory through only one of them
/// (LMDB forbids opening one environment twice in a process).
///
/// # Safety
/// `path` points to `path_len` bytes; `options` is NULL or initialised;
/// `out_store` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn sps_store_open_dbm(
    path: *const c_char,
    path_len: usize,
    options: *const sps_dbm_options,
    out_store: *mut *mut sps_store,
) -> sps_status {
    guard(|| {
        if path.is_null() {
            return Err(FfiError::invalid("path is NULL"));
        }
        // SAFETY: `path` is as the `# Safety` section requires.
        let path = unsafe { bytes(path, path_len, "path") }?;
        // SAFETY: `out_store` is as the `# Safety` section requires.
        let out = unsafe { Out::new(out_store, "out_store") }?;
        if path.is_empty() || path.contains(&0) {
            return Err(FfiError::invalid("path is empty or contains a NUL byte"));
        }
        // SAFETY: `options` is NULL or initialised, as the `# Safety` section requires.
        let opts = match unsafe { options_ref(options, "sps_dbm_options") }? {
            None => DbmOptions::default(),
            Some(o) => DbmOptions {
                map_size: o.map_size,
                durable: o.durable,
            },
        };
        let path = Path::new(OsStr::from_bytes(path));
        let store = DbmStore::open_with(path, opts)?;
        out.write(sps_store::boxed(Arc::new(store)));
        Ok(())
    })
}

/// Removes every record expired at `now` (Unix seconds; pass sps_now() for
/// the system clock) and writes how many through `out_removed`. Works in
/// bounded batches: other writers never wait long.
///
/// # Safety
/// `store` is NULL or live; `out_removed` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn sps_store_clean(
    store: *const sps_store,
    now: f64,
    out_removed: *mut u64,
) -> sps_status {
    guard(|| {
        // SAFETY: `store` is as the `# Safety` section requires.
        let store = unsafe { arg_ref(store, "store") }?;
        // SAFETY: `out_removed` is as the `# Safety` section requires.
        let out = unsafe { Out::new(out_removed, "out_removed") }?;
        if now.is_nan() {
            return Err(FfiError::invalid("now is NaN"));
        }
        out.write(clean_store(&*store.inner, now)?);
        Ok(())
    })
}

/// The number of records held, expired but not yet cleaned ones included.
/// SPS_UNSUPPORTED for a custom store.
///
/// # Safety
/// `store` is NULL or live; `out_len` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn sps_store_len(store: *const sps_store, out_len: *mut u64) -> sps_status {
    guard(|| {
        // SAFETY: `store` is as the `# Safety` section requires.
        let store = unsafe { arg_ref(store, "store") }?;
        // SAFETY: `out_len` is as the `# Safety` section requires.
        let out = unsafe { Out::new(out_len, "out_len") }?;
        let inspect = store.inner.inspect().ok_or_else(|| {
            FfiError::new(
                sps_status::SPS_UNSUPPORTED,
                "this store keeps no record count (a custom store)",
            )
        })?;
        out.write(inspect.len()?);
        Ok(())
    })
}

/// Parses a session id argument (32 lowercase hex characters).
unsafe fn id_arg(id: *const c_char, id_len: usize) -> FfiResult<SessionId> {
    if id.is_null() {
        return Err(FfiError::invalid("id is NULL"));
    }
    // SAFETY: `id` is as the `# Safety` section requires.
    SessionId::parse(unsafe { bytes(id, id_len, "id") }?)
        .map_err(|_| FfiError::invalid("id is not a session id (32 lowercase hex characters)"))
}

/// Bytes needed for a store key with its NUL (see sps_store_key).
pub const SPS_STORE_KEY_SIZE: usize = 33;
/// Length of a store key: 32 lowercase hex characters.
pub const SPS_STORE_KEY_LEN: usize = 32;

/// Writes the store key of session `id` (32 lowercase hex characters) into
/// `out_key`, which must hold `out_size` >= SPS_STORE_KEY_SIZE bytes: 32
/// lowercase hex characters and a NUL. The store key is what every store,
/// a custom store's callbacks included, keeps the session under (the first
/// 16 bytes of SHA-256 over the id's 16 raw bytes): a store never sees the
/// id. Use it to find, in a custom store, the record of a session.
///
/// SPS_INVALID_ARGUMENT when `id` or `out_key` is NULL, `id` is not a
/// session id (`id_len` other than 32, not lowercase hex), or `out_size` is
/// less than SPS_STORE_KEY_SIZE; `out_key` is then left untouched.
///
/// # Safety
/// `id` is NULL or points to `id_len` bytes; `out_key` is NULL or writable
/// for `out_size` bytes.
#[no_mangle]
pub unsafe extern "C" fn sps_store_key(
    id: *const c_char,
    id_len: usize,
    out_key: *mut c_char,
    out_size: usize,
) -> sps_status {
    guard(|| {
        // SAFETY: `id` is as the `# Safety` section requires.
        let id = unsafe { id_arg(id, id_len) }?;
        if out_key.is_null() {
            return Err(FfiError::invalid("out_key is NULL"));
        }
        if out_size < SPS_STORE_KEY_SIZE {
            return Err(FfiError::invalid(format!(
                "out_size {out_size} is less than SPS_STORE_KEY_SIZE ({SPS_STORE_KEY_SIZE})"
            )));
        }
        // SAFETY: `out_key` is non-NULL and writable for `out_size` bytes,
        // at least SPS_STORE_KEY_SIZE (both checked above).
        let out =
            unsafe { std::slice::from_raw_parts_mut(out_key.cast::<u8>(), SPS_STORE_KEY_SIZE) };
        out[..SPS_STORE_KEY_LEN].copy_from_slice(&StoreKey::of(&id).to_hex());
        out[SPS_STORE_KEY_LEN] = 0;
        Ok(())
    })
}

/// Deletes the record of session `id` (32 lowercase hex characters, hashed
/// into its store key; anything else is SPS_INVALID_ARGUMENT). `*out_existed` tells whether there was one
/// (always true for a custom store, which cannot tell).
///
/// # Safety
/// `store` is NULL or live; `id` points to `id_len` bytes; `out_existed` is
/// NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn sps_store_delete(
    store: *const sps_store,
    id: *const c_char,
    id_len: usize,
    out_existed: *mut bool,
) -> sps_status {
    guard(|| {
        // SAFETY: `store` is as the `# Safety` section requires.
        let store = unsafe { arg_ref(store, "store") }?;
        // SAFETY: `id` is as the `# Safety` section requires.
        let id = unsafe { id_arg(id, id_len) }?;
        // SAFETY: `out_existed` is as the `# Safety` section requires.
        let out = unsafe { Out::new(out_existed, "out_existed") }?;
        out.write(store.inner.delete(&id.store_key())?);
        Ok(())
    })
}

/// The record of session `id` (hashed into its store key) as it is at
/// `now`, in the documented record
/// format (a MessagePack array: version, created, accessed, expires_at,
/// data). SPS_NOT_FOUND when absent or expired; SPS_CORRUPT when the stored
/// bytes are damaged. Free `*out_record` with sps_buf_free.
///
/// # Safety
/// `store` is NULL or live; `id` points to `id_len` bytes; `out_record` is
/// NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn sps_store_load(
    store: *const sps_store,
    id: *const c_char,
    id_len: usize,
    now: f64,
    out_record: *mut sps_buf,
) -> sps_status {
    guard(|| {
        // SAFETY: `store` is as the `# Safety` section requires.
        let store = unsafe { arg_ref(store, "store") }?;
        // SAFETY: `id` is as the `# Safety` section requires.
        let id = unsafe { id_arg(id, id_len) }?;
        // SAFETY: `out_record` is as the `# Safety` section requires.
        let out = unsafe { Out::new(out_record, "out_record") }?;
        match store.inner.load(&id.store_key(), now)? {
            Some(record) => out.write(sps_buf::from_vec(record.encode())),
            None => return Err(FfiError::not_found(format!("no live session {id}"))),
        }
        Ok(())
    })
}

/// What a store has done since sps_store_open_* made it (counters are per
/// store object, not per directory).
#[repr(C)]
#[derive(Debug, Default)]
pub struct sps_stats {
    /// Records looked up.
    pub loads: u64,
    /// Commits that stored changes or a touch.
    pub commits: u64,
    /// Commits merged into a record another request wrote meanwhile.
    pub merges: u64,
    /// Commits dropped because the session was gone (no resurrection).
    pub dropped: u64,
    /// Damaged records met.
    pub corrupt: u64,
    /// Expired records removed by clean.
    pub cleaned: u64,
    /// Records evicted by a bounded memory store.
    pub evicted: u64,
    /// Requests that presented an id that was malformed or, with `strict`,
    /// unknown or expired (a guessing or fixation attempt). Added after 0.1:
    /// written by sps_store_stats_sized only.
    pub rejected: u64,
}

/// The size of sps_stats in spysession 0.1 (up to `evicted`): what
/// sps_store_stats writes, so a program built against 0.1 keeps working.
const STATS_V0_1_SIZE: usize = 7 * size_of::<u64>();

fn stats_of(store: &sps_store) -> sps_stats {
    let s = store.inner.stats();
    sps_stats {
        loads: s.loads,
        commits: s.commits,
        merges: s.merges,
        dropped: s.dropped,
        corrupt: s.corrupt,
        cleaned: s.cleaned,
        evicted: s.evicted,
        rejected: s.rejected,
    }
}

/// Writes the first `struct_size` bytes of the store's counters into
/// `out_stats`: pass `sizeof(sps_stats)`, so a program gets every counter
/// its header knows of (`rejected` included), and a later library with more
/// counters writes no more than the program's struct holds.
///
/// SPS_INVALID_ARGUMENT when `store` or `out_stats` is NULL, or when
/// `struct_size` is smaller than 0.1's sps_stats (56 bytes) or not a
/// multiple of 8.
///
/// # Safety
/// `store` is NULL or live; `out_stats` is NULL or writable for
/// `struct_size` bytes.
#[no_mangle]
pub unsafe extern "C" fn sps_store_stats_sized(
    store: *const sps_store,
    out_stats: *mut sps_stats,
    struct_size: usize,
) -> sps_status {
    guard(|| {
        // SAFETY: `store` is as the `# Safety` section requires.
        let store = unsafe { arg_ref(store, "store") }?;
        if out_stats.is_null() {
            return Err(FfiError::invalid("out_stats is NULL"));
        }
        if struct_size < STATS_V0_1_SIZE || !struct_size.is_multiple_of(size_of::<u64>()) {
            return Err(FfiError::invalid(format!(
                "struct_size {struct_size}: pass sizeof(sps_stats)"
            )));
        }
        let stats = stats_of(store);
        let n = struct_size.min(size_of::<sps_stats>());
        // SAFETY: `out_stats` is non-NULL and writable for `struct_size`
        // bytes (the caller's promise), `n` is at most that and at most the
        // size of `stats`, a local: the two do not overlap.
        unsafe {
            std::ptr::copy_nonoverlapping(
                (&stats as *const sps_stats).cast::<u8>(),
                out_stats.cast::<u8>(),
                n,
            )
        };
        Ok(())
    })
}

/// The store's counters as spysession 0.1 defined them: the fields up to
/// `evicted` (`rejected` is left as it was). Use sps_store_stats_sized for
/// every counter.
///
/// # Safety
/// `store` is NULL or live; `out_stats` is NULL or writable for the fields
/// up to `evicted`.
#[no_mangle]
pub unsafe extern "C" fn sps_store_stats(
    store: *const sps_store,
    out_stats: *mut sps_stats,
) -> sps_status {
    // SAFETY: the same contract as sps_store_stats_sized's, for 0.1's size.
    unsafe { sps_store_stats_sized(store, out_stats, STATS_V0_1_SIZE) }
}

/// Releases this handle. The store itself lives on while a manager or
/// session made from it does. NULL is accepted.
///
/// # Safety
/// `store` is NULL or a handle not yet freed, with no call on it in progress.
#[no_mangle]
pub unsafe extern "C" fn sps_store_free(store: *mut sps_store) {
    guard_void(|| {
        if !store.is_null() {
            // SAFETY: `store` came from this library's `Box::into_raw`, and the
            // caller does not use it again (the `# Safety` contract).
            drop(unsafe { Box::from_raw(store) });
        }
    });
}

/// The system clock: seconds since the Unix epoch (for sps_store_clean).
#[no_mangle]
pub extern "C" fn sps_now() -> f64 {
    spysession_core::system_now()
}
