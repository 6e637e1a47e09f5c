//! `sps_store_open_url`: a store named by a store URL (SPEC §2), parsed and
//! opened by the core's [`StoreUrl`], so C, Python and the command line
//! accept the same strings with the same errors.

use std::ffi::c_char;

use spysession_core::StoreUrl;

use crate::guard::{guard, text, Out};
use crate::status::sps_status;
use crate::store::sps_store;

/// Opens the store that `url` (UTF-8, pointer + length) names:
/// `memory:`, a directory path or `dbm:///path` (a DbmStore),
/// `redis://[user:password@]host[:port][/db]`, `unix:///path/redis.sock`
/// (a RedisStore); options in the query string, e.g.
/// `dbm:///var/lib/site/sessions?durable=false&map_size=1073741824` or
/// `redis://cache:6379/2?prefix=site:&pool_size=16`. The same URLs as
/// Python's `spysession.open_store` and the command line's `--store`.
///
/// A URL that is malformed, or names an unknown option or a bad value, is
/// SPS_CONFIG, the message naming the bad part; no message ever contains
/// the URL's password. A kind this library cannot open (`rediss://` without
/// TLS built in, Sentinel, Cluster) is SPS_CONFIG or SPS_UNSUPPORTED. A
/// DbmStore directory is created when missing (SPS_IO when it cannot be);
/// a RedisStore connects at first use.
///
/// # Safety
/// `url` is NULL or points to `url_len` readable bytes; `out_store` is NULL
/// or writable.
#[no_mangle]
pub unsafe extern "C" fn sps_store_open_url(
    url: *const c_char,
    url_len: usize,
    out_store: *mut *mut sps_store,
) -> sps_status {
    guard(|| {
        // SAFETY: `out_store` is as the `# Safety` section requires.
        let out = unsafe { Out::new(out_store, "out_store") }?;
        // SAFETY: the caller's promise on `url` and `url_len`.
        let url = unsafe { text(url, url_len, "url")? };
        let store = StoreUrl::parse(url)?.open()?;
        out.write(sps_store::boxed(store));
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::sps_last_error;
    use crate::store::{sps_store_free, sps_store_len};
    use std::ffi::CStr;
    use std::ptr;

    fn open(url: &[u8]) -> (sps_status, *mut sps_store) {
        let mut store = ptr::null_mut();
        // SAFETY: `url` is a live slice; `store` is writable.
        let status = unsafe { sps_store_open_url(url.as_ptr().cast(), url.len(), &mut store) };
        (status, store)
    }

    fn last_error() -> String {
        // SAFETY: sps_last_error returns a NUL-terminated string.
        unsafe { CStr::from_ptr(sps_last_error()) }
            .to_string_lossy()
            .into_owned()
    }

    #[test]
    fn memory_and_dbm_urls_open_working_stores() {
        let dir = tempfile::tempdir().unwrap();
        let dbm = format!("dbm://{}/s?durable=false", dir.path().display());
        for url in ["memory:", "memory:?max_sessions=10", dbm.as_str()] {
            let (status, store) = open(url.as_bytes());
            assert_eq!(status, sps_status::SPS_OK, "{url}: {}", last_error());
            let mut len = 99;
            // SAFETY: `store` is live; `len` writable.
            let status = unsafe { sps_store_len(store, &mut len) };
            assert_eq!(status, sps_status::SPS_OK);
            assert_eq!(len, 0);
            // SAFETY: `store` came from sps_store_open_url and is freed once.
            unsafe { sps_store_free(store) };
        }
        assert!(
            dir.path().join("s").is_dir(),
            "the dbm directory is created"
        );
    }

    #[test]
    fn null_and_bad_lengths_are_invalid_arguments() {
        let mut store = ptr::null_mut();
        // SAFETY: NULL pointers are what is being tested; lengths match.
        unsafe {
            let status = sps_store_open_url(b"memory:".as_ptr().cast(), 7, ptr::null_mut());
            assert_eq!(status, sps_status::SPS_INVALID_ARGUMENT);
            assert!(last_error().contains("out_store"));
            let status = sps_store_open_url(ptr::null(), 7, &mut store);
            assert_eq!(status, sps_status::SPS_INVALID_ARGUMENT);
            let status = sps_store_open_url(b"x".as_ptr().cast(), usize::MAX, &mut store);
            assert_eq!(status, sps_status::SPS_INVALID_ARGUMENT);
            // NULL with length 0 is the empty string: not a URL.
            let status = sps_store_open_url(ptr::null(), 0, &mut store);
            assert_eq!(status, sps_status::SPS_CONFIG);
            assert!(last_error().contains("empty"), "{}", last_error());
        }
        assert!(
            store.is_null(),
            "the out-pointer is written only on success"
        );
        let (status, store) = open(b"memory:\xff");
        assert_eq!(status, sps_status::SPS_INVALID_ARGUMENT);
        assert!(last_error().contains("UTF-8"));
        assert!(store.is_null());
    }

    #[test]
    fn bad_urls_are_config_errors_that_never_show_the_password() {
        for (url, names) in [
            ("memory:?colour=blue", "colour"),
            ("dbm:///tmp/x?durable=perhaps", "durable"),
            ("gopher://host/", "gopher"),
            ("redis://user:hunter2@host:notaport/0", "url"),
            ("redis://user:hunter2@host/0?pool_size=0", "pool_size"),
            ("redis://user:hunter2@host/0?colour=blue", "colour"),
        ] {
            let (status, store) = open(url.as_bytes());
            assert_eq!(status, sps_status::SPS_CONFIG, "{url}: {}", last_error());
            assert!(store.is_null());
            let message = last_error();
            assert!(message.contains(names), "{url}: {message}");
            assert!(
                !message.contains("hunter2"),
                "{url}: the password leaked: {message}"
            );
        }
    }
}
