//! RedisStore handles: sessions shared by several web machines.

use std::ffi::c_char;
use std::sync::Arc;
use std::time::Duration;

use spysession_core::{RedisOptions, RedisStore};

use crate::guard::{guard, init_size, opt_text, options_ref, Out};
use crate::status::{sps_status, FfiError, FfiResult};
use crate::store::sps_store;

/// Options of sps_store_open_redis. Initialise with sps_redis_options_init,
/// then change fields.
#[repr(C)]
#[derive(Debug)]
pub struct sps_redis_options {
    /// `sizeof(sps_redis_options)` as the caller compiled it (set by
    /// sps_redis_options_init); lets later versions add fields at the end.
    pub struct_size: usize,
    /// Prepended to every session id to make its Redis key (UTF-8, copied at
    /// open). NULL: `spysession:`. Give each site sharing one Redis its own
    /// prefix.
    pub prefix: *const c_char,
    /// Length of `prefix` in bytes.
    pub prefix_len: usize,
    /// How long connecting (TCP connect plus the Redis handshake) may take,
    /// in milliseconds; more than 0. Default 2000.
    pub connect_timeout_ms: u64,
    /// How long one command may wait to be written and answered, in
    /// milliseconds; more than 0. Default 2000.
    pub command_timeout_ms: u64,
    /// The most connections kept open to Redis; at least 1. Default 8.
    pub pool_size: usize,
    /// For `rediss://`: the path of a PEM file with the certificate(s) of
    /// the authority that signed the server's (UTF-8, read at open). NULL:
    /// the system's roots.
    pub tls_ca_file: *const c_char,
    /// Length of `tls_ca_file` in bytes.
    pub tls_ca_file_len: usize,
    /// How many replicas must confirm each write (Redis `WAIT`) before it
    /// is reported done; a write they do not confirm in time is SPS_IO.
    /// Default 0 (the primary's answer is enough).
    pub wait_replicas: usize,
}

/// Fills `options` with the defaults. `struct_size` is
/// `sizeof(sps_redis_options)` (at least this library's; see the crate docs).
///
/// # Safety
/// `options` is NULL or writable for `struct_size` bytes.
#[no_mangle]
pub unsafe extern "C" fn sps_redis_options_init(
    options: *mut sps_redis_options,
    struct_size: usize,
) -> sps_status {
    guard(|| {
        // SAFETY: `options` is as the `# Safety` section requires.
        let out = unsafe { Out::new(options, "options") }?;
        // SAFETY: writable for `struct_size` bytes, the `# Safety` contract.
        unsafe { init_size(options, struct_size, "sps_redis_options") }?;
        let d = RedisOptions::default();
        out.write(sps_redis_options {
            struct_size,
            prefix: std::ptr::null(),
            prefix_len: 0,
            connect_timeout_ms: millis(d.connect_timeout),
            command_timeout_ms: millis(d.command_timeout),
            pool_size: d.pool_size,
            tls_ca_file: std::ptr::null(),
            tls_ca_file_len: 0,
            wait_replicas: d.wait_replicas,
        });
        Ok(())
    })
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The engine's options from the caller's struct.
///
/// # Safety
/// `o.prefix` and `o.tls_ca_file` are NULL or point to their lengths' bytes.
unsafe fn engine_options(o: &sps_redis_options) -> FfiResult<RedisOptions> {
    let d = RedisOptions::default();
    // SAFETY: `o.tls_ca_file` is as the `# Safety` section requires.
    let ca_file = unsafe { opt_text(o.tls_ca_file, o.tls_ca_file_len, "tls_ca_file") }?;
    let tls_root_cert = match ca_file {
        None => None,
        Some(path) => Some(std::fs::read(path).map_err(|e| {
            spysession_core::Error::config("tls_ca_file", format!("cannot read {path}: {e}"))
        })?),
    };
    Ok(RedisOptions {
        // SAFETY: `o.prefix` is as the `# Safety` section requires.
        prefix: unsafe { opt_text(o.prefix, o.prefix_len, "prefix") }?
            .map_or(d.prefix, str::to_owned),
        connect_timeout: Duration::from_millis(o.connect_timeout_ms),
        command_timeout: Duration::from_millis(o.command_timeout_ms),
        pool_size: o.pool_size,
        tls_root_cert,
        wait_replicas: o.wait_replicas,
    })
}

/// Opens a store on the Redis (or Valkey) at `url` (UTF-8, pointer +
/// length): `redis://[user:password@]host[:port][/db]`,
/// `redis+unix:///path` / `unix:///path` for a unix socket, `rediss://...`
/// for TLS (rustls: the system's roots, or `tls_ca_file`),
/// `redis+sentinel://host:port[,host:port...]/primary-name[/db]` for a
/// Sentinel-managed primary, `redis+cluster://host:port[,host:port...]`
/// for a Redis Cluster. `options` NULL means the defaults.
///
/// Every web machine behind a load balancer opening the same URL and prefix
/// sees the same sessions; concurrent commits on different keys of one
/// session merge. Sessions are hashes in 256 hash-tagged buckets with a
/// sorted-set expiry index each (docs/format.md, "Redis"); expiry is the
/// stored expiry, with a Redis TTL set to the same moment as a safety net;
/// sps_store_clean reads only the due entries of the indexes (its cost
/// grows with the expired count) and sps_store_len sums the indexes.
///
/// The URL and options are checked here (SPS_CONFIG, the message naming
/// `url`, `prefix`, `connect_timeout`, `command_timeout`, `pool_size` or
/// `tls_ca_file`); the
/// connection is made at first use. A Redis that is down or hung gives
/// SPS_IO within about the timeouts, never a hang, and the next call after
/// it is back works.
///
/// # Safety
/// `url` points to `url_len` bytes; `options` is NULL or initialised (its
/// `prefix` and `tls_ca_file` NULL or pointing to their lengths' bytes);
/// `out_store` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn sps_store_open_redis(
    url: *const c_char,
    url_len: usize,
    options: *const sps_redis_options,
    out_store: *mut *mut sps_store,
) -> sps_status {
    guard(|| {
        // SAFETY: `url` is as the `# Safety` section requires.
        let url = match unsafe { opt_text(url, url_len, "url") }? {
            Some(url) => url,
            None => return Err(FfiError::invalid("url is NULL")),
        };
        // SAFETY: `out_store` is as the `# Safety` section requires.
        let out = unsafe { Out::new(out_store, "out_store") }?;
        // SAFETY: `options` is NULL or initialised, as the `# Safety` section requires.
        let opts = match unsafe { options_ref(options, "sps_redis_options") }? {
            None => RedisOptions::default(),
            // SAFETY: the pointers passed on are valid as our `# Safety` section requires.
            Some(o) => unsafe { engine_options(o) }?,
        };
        let store = RedisStore::open_with(url, opts)?;
        out.write(sps_store::boxed(Arc::new(store)));
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_engine() {
        let mut o = std::mem::MaybeUninit::<sps_redis_options>::uninit();
        // SAFETY: writable for its own size.
        let st = unsafe { sps_redis_options_init(o.as_mut_ptr(), size_of::<sps_redis_options>()) };
        assert_eq!(st, sps_status::SPS_OK);
        // SAFETY: initialised by the call above (it returned OK).
        let o = unsafe { o.assume_init() };
        // SAFETY: the prefix is NULL with length 0, as init leaves it.
        let engine = unsafe { engine_options(&o) }.unwrap();
        let d = RedisOptions::default();
        assert_eq!(engine.prefix, d.prefix);
        assert_eq!(engine.connect_timeout, d.connect_timeout);
        assert_eq!(engine.command_timeout, d.command_timeout);
        assert_eq!(engine.pool_size, d.pool_size);
        assert_eq!(engine.wait_replicas, d.wait_replicas);
        assert!(engine.tls_root_cert.is_none());
    }

    #[test]
    fn bad_arguments_are_refused_before_any_connection() {
        let mut store = std::ptr::null_mut();
        let url = "redis://127.0.0.1:1/";
        // SAFETY: NULL or live strings with their lengths; `store` writable.
        unsafe {
            let st = sps_store_open_redis(std::ptr::null(), 0, std::ptr::null(), &mut store);
            assert_eq!(st, sps_status::SPS_INVALID_ARGUMENT);
            let st = sps_store_open_redis(
                url.as_ptr().cast(),
                url.len(),
                std::ptr::null(),
                std::ptr::null_mut(),
            );
            assert_eq!(st, sps_status::SPS_INVALID_ARGUMENT);
            let st = sps_store_open_redis(b"\xff".as_ptr().cast(), 1, std::ptr::null(), &mut store);
            assert_eq!(st, sps_status::SPS_INVALID_ARGUMENT);
            let bad = "http://nowhere/";
            let st =
                sps_store_open_redis(bad.as_ptr().cast(), bad.len(), std::ptr::null(), &mut store);
            assert_eq!(st, sps_status::SPS_CONFIG);
        }
        assert!(store.is_null());
    }
}
