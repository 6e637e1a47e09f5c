//! Session handles: begin from a request, identity, keys, regenerate,
//! invalidate, commit. Typed values are in `values.rs`.

use std::ffi::c_char;

use spysession_core::{PageOptions, Request, Session, ID_LEN};

use crate::buf::{sps_buf, sps_keys};
use crate::guard::{arg_mut, arg_ref, guard, guard_void, opt_bytes, opt_text, text, Out};
use crate::manager::sps_manager;
use crate::status::{sps_status, FfiError, FfiResult};

/// Bytes needed for a session id with its NUL (see sps_session_id).
pub const SPS_ID_SIZE: usize = 33;
/// Length of a session id: 32 lowercase hex characters.
pub const SPS_ID_LEN: usize = 32;

/// One request's session. Owned by the caller: free it with
/// sps_session_free.
///
/// Thread safety: use it from one thread at a time (it may move between
/// threads). Sessions of one manager may be used on many threads at once.
pub struct sps_session {
    pub(crate) inner: Session,
}

/// The parts of an HTTP request a session is found in, all raw network
/// input (never trusted). Each field is pointer + length; NULL with length 0
/// is "absent". Zero-initialise it (`sps_request req = {0};`) and fill what
/// you have. Only read during the call.
#[repr(C)]
#[derive(Debug)]
pub struct sps_request {
    /// The raw `Cookie` header (CGI: `HTTP_COOKIE`).
    pub cookie: *const c_char,
    /// Length of `cookie`.
    pub cookie_len: usize,
    /// The raw query string, without `?` (CGI: `QUERY_STRING`).
    pub query: *const c_char,
    /// Length of `query`.
    pub query_len: usize,
    /// The urlencoded form body, for the post transport.
    pub form: *const c_char,
    /// Length of `form`.
    pub form_len: usize,
    /// The request path (CGI: `PATH_INFO`), matched against the session
    /// path; absent or empty is `/`. Bytes that are not UTF-8 are replaced
    /// (U+FFFD) before matching.
    pub path: *const c_char,
    /// Length of `path`.
    pub path_len: usize,
}

/// Per-page overrides of the site's options (sps_session_begin_page).
#[repr(C)]
#[derive(Debug)]
pub struct sps_page_options {
    /// Whether `expire` overrides the site's.
    pub has_expire: bool,
    /// Seconds of inactivity before this session expires.
    pub expire: f64,
    /// The session (cookie) path for this page; NULL: the site's.
    pub session_path: *const c_char,
    /// Length of `session_path`.
    pub session_path_len: usize,
}

unsafe fn begin(
    manager: *const sps_manager,
    request: *const sps_request,
    page: Option<&sps_page_options>,
    out_session: *mut *mut sps_session,
) -> FfiResult {
    // SAFETY: `manager` is as the `# Safety` section requires.
    let manager = unsafe { arg_ref(manager, "manager") }?;
    // SAFETY: `request` is as the `# Safety` section requires.
    let r = unsafe { arg_ref(request, "request") }?;
    // SAFETY: `out_session` is as the `# Safety` section requires.
    let out = unsafe { Out::new(out_session, "out_session") }?;
    // SAFETY: `r.path` is as the `# Safety` section requires.
    let path = unsafe { opt_bytes(r.path, r.path_len, "request->path") }?.unwrap_or_default();
    let path = String::from_utf8_lossy(path);
    let request = Request {
        // SAFETY: `r.cookie` is as the `# Safety` section requires.
        cookie: unsafe { opt_bytes(r.cookie, r.cookie_len, "request->cookie") }?,
        // SAFETY: `r.query` is as the `# Safety` section requires.
        query: unsafe { opt_bytes(r.query, r.query_len, "request->query") }?,
        // SAFETY: `r.form` is as the `# Safety` section requires.
        form: unsafe { opt_bytes(r.form, r.form_len, "request->form") }?,
        path: if path.is_empty() { "/" } else { &path },
    };
    let page = match page {
        None => PageOptions::default(),
        Some(p) => PageOptions {
            expire: p.has_expire.then_some(p.expire),
            // SAFETY: `p.session_path` is as the `# Safety` section requires.
            session_path: unsafe {
                opt_text(p.session_path, p.session_path_len, "page->session_path")
            }?
            .map(str::to_owned),
        },
    };
    let inner = manager.inner.begin_with(&request, &page)?;
    out.write(Box::into_raw(Box::new(sps_session { inner })));
    Ok(())
}

/// Begins the session of `request`: the stored one when the request carries
/// a live id under the session path (in transport order, first well-formed
/// id wins), otherwise a new one, which is stored only once something is
/// set. A damaged record gives a new session. Store I/O errors are returned.
///
/// # Safety
/// `manager` is NULL or live; `request` is NULL or a readable request whose
/// pointers are valid for their lengths; `out_session` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn sps_session_begin(
    manager: *const sps_manager,
    request: *const sps_request,
    out_session: *mut *mut sps_session,
) -> sps_status {
    // SAFETY: the pointers passed on are valid as our `# Safety` section requires.
    guard(|| unsafe { begin(manager, request, None, out_session) })
}

/// sps_session_begin with per-page overrides of `expire` and the session
/// path (a bad override is SPS_CONFIG).
///
/// # Safety
/// As sps_session_begin; `page` is NULL or readable.
#[no_mangle]
pub unsafe extern "C" fn sps_session_begin_page(
    manager: *const sps_manager,
    request: *const sps_request,
    page: *const sps_page_options,
    out_session: *mut *mut sps_session,
) -> sps_status {
    // SAFETY: the pointers passed on are valid as our `# Safety` section requires.
    guard(|| unsafe { begin(manager, request, Some(arg_ref(page, "page")?), out_session) })
}

/// Frees a session without committing it. NULL is accepted.
///
/// # Safety
/// `session` is NULL or a session not yet freed.
#[no_mangle]
pub unsafe extern "C" fn sps_session_free(session: *mut sps_session) {
    guard_void(|| {
        if !session.is_null() {
            // SAFETY: `session` came from this library's `Box::into_raw`, and the
            // caller does not use it again (the `# Safety` contract).
            drop(unsafe { Box::from_raw(session) });
        }
    });
}

/// Writes the session id (32 lowercase hex characters and a NUL) into
/// `out_id`, which must hold `out_size` >= SPS_ID_SIZE bytes.
///
/// # Safety
/// `session` is NULL or live; `out_id` is NULL or writable for `out_size` bytes.
#[no_mangle]
pub unsafe extern "C" fn sps_session_id(
    session: *const sps_session,
    out_id: *mut c_char,
    out_size: usize,
) -> sps_status {
    guard(|| {
        // SAFETY: `session` is as the `# Safety` section requires.
        let session = unsafe { arg_ref(session, "session") }?;
        if out_id.is_null() {
            return Err(FfiError::invalid("out_id is NULL"));
        }
        if out_size < SPS_ID_SIZE {
            return Err(FfiError::invalid(format!(
                "out_size {out_size} is less than SPS_ID_SIZE ({SPS_ID_SIZE})"
            )));
        }
        let hex = session.inner.id().to_hex();
        // SAFETY: `out_id` is non-NULL (checked above) and writable for
        // SPS_ID_SIZE bytes, the `# Safety` contract.
        let out = unsafe { std::slice::from_raw_parts_mut(out_id.cast::<u8>(), SPS_ID_SIZE) };
        out[..ID_LEN].copy_from_slice(&hex);
        out[ID_LEN] = 0;
        Ok(())
    })
}

/// `*out_is_new`: true until the session is first stored.
///
/// # Safety
/// `session` is NULL or live; `out_is_new` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn sps_session_is_new(
    session: *const sps_session,
    out_is_new: *mut bool,
) -> sps_status {
    guard(|| {
        // SAFETY: `session` is as the `# Safety` section requires.
        let session = unsafe { arg_ref(session, "session") }?;
        // SAFETY: `out_is_new` is as the `# Safety` section requires.
        unsafe { Out::new(out_is_new, "out_is_new") }?.write(session.inner.is_new());
        Ok(())
    })
}

/// `*out_len`: the number of keys.
///
/// # Safety
/// `session` is NULL or live; `out_len` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn sps_session_len(
    session: *const sps_session,
    out_len: *mut usize,
) -> sps_status {
    guard(|| {
        // SAFETY: `session` is as the `# Safety` section requires.
        let session = unsafe { arg_ref(session, "session") }?;
        // SAFETY: `out_len` is as the `# Safety` section requires.
        unsafe { Out::new(out_len, "out_len") }?.write(session.inner.len());
        Ok(())
    })
}

/// `*out_expires_at`: when the session expires (Unix seconds): now + expire
/// for a new one, the stored value for a loaded one until a commit moves it.
///
/// # Safety
/// `session` is NULL or live; `out_expires_at` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn sps_session_expires_at(
    session: *const sps_session,
    out_expires_at: *mut f64,
) -> sps_status {
    guard(|| {
        // SAFETY: `session` is as the `# Safety` section requires.
        let session = unsafe { arg_ref(session, "session") }?;
        // SAFETY: `out_expires_at` is as the `# Safety` section requires.
        unsafe { Out::new(out_expires_at, "out_expires_at") }?.write(session.inner.expires_at());
        Ok(())
    })
}

/// `*out_contains`: whether `key` is set.
///
/// # Safety
/// `session` is NULL or live; `key` points to `key_len` bytes;
/// `out_contains` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn sps_session_contains(
    session: *const sps_session,
    key: *const c_char,
    key_len: usize,
    out_contains: *mut bool,
) -> sps_status {
    guard(|| {
        // SAFETY: `session` is as the `# Safety` section requires.
        let session = unsafe { arg_ref(session, "session") }?;
        // SAFETY: `key` is as the `# Safety` section requires.
        let key = unsafe { text(key, key_len, "key") }?;
        // SAFETY: `out_contains` is as the `# Safety` section requires.
        unsafe { Out::new(out_contains, "out_contains") }?.write(session.inner.contains(key));
        Ok(())
    })
}

/// Removes `key`; SPS_NOT_FOUND when it is not set.
///
/// # Safety
/// `session` is NULL or live; `key` points to `key_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn sps_session_remove(
    session: *mut sps_session,
    key: *const c_char,
    key_len: usize,
) -> sps_status {
    guard(|| {
        // SAFETY: `session` is as the `# Safety` section requires.
        let session = unsafe { arg_mut(session, "session") }?;
        // SAFETY: `key` is as the `# Safety` section requires.
        let key = unsafe { text(key, key_len, "key") }?;
        match session.inner.remove(key) {
            Some(_) => Ok(()),
            None => Err(FfiError::not_found(format!("no key {key:?}"))),
        }
    })
}

/// Removes every key (at commit, every key stored by then goes too).
///
/// # Safety
/// `session` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn sps_session_clear(session: *mut sps_session) -> sps_status {
    guard(|| {
        // SAFETY: `session` is as the `# Safety` section requires.
        unsafe { arg_mut(session, "session") }?.inner.clear();
        Ok(())
    })
}

/// A snapshot of the keys, sorted; read it with sps_keys_len and
/// sps_keys_get, free it with sps_keys_free.
///
/// # Safety
/// `session` is NULL or live; `out_keys` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn sps_session_keys(
    session: *const sps_session,
    out_keys: *mut *mut sps_keys,
) -> sps_status {
    guard(|| {
        // SAFETY: `session` is as the `# Safety` section requires.
        let session = unsafe { arg_ref(session, "session") }?;
        // SAFETY: `out_keys` is as the `# Safety` section requires.
        let out = unsafe { Out::new(out_keys, "out_keys") }?;
        out.write(Box::into_raw(Box::new(sps_keys::new(session.inner.keys()))));
        Ok(())
    })
}

/// Gives the session a new id, keeping its data; the old id is deleted at
/// commit. Do it at login, against session fixation.
///
/// # Safety
/// `session` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn sps_session_regenerate(session: *mut sps_session) -> sps_status {
    guard(|| {
        // SAFETY: `session` is as the `# Safety` section requires.
        unsafe { arg_mut(session, "session") }?.inner.regenerate();
        Ok(())
    })
}

/// Drops the session (logout): at commit its record is deleted and the
/// cookie expired (Max-Age=0). Keys set afterwards start a new session with
/// a new id.
///
/// # Safety
/// `session` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn sps_session_invalidate(session: *mut sps_session) -> sps_status {
    guard(|| {
        // SAFETY: `session` is as the `# Safety` section requires.
        unsafe { arg_mut(session, "session") }?.inner.invalidate();
        Ok(())
    })
}

/// Writes what this request changed, merged per key into the record as it
/// is stored now. On SPS_OK, `*out_set_cookie` is the `Set-Cookie` header
/// value to send (without the `Set-Cookie: ` name), or `{NULL, 0}` when
/// there is none; free it with sps_buf_free. SPS_NOT_FOUND: the session was
/// gone (invalidated or expired by another request) and the changes were
/// dropped, never resurrected; nothing is to be sent. Another error (a store
/// failure) keeps the changes in the session, so the commit may be retried.
///
/// # Safety
/// `session` is NULL or live; `out_set_cookie` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn sps_session_commit(
    session: *mut sps_session,
    out_set_cookie: *mut sps_buf,
) -> sps_status {
    guard(|| {
        // SAFETY: `session` is as the `# Safety` section requires.
        let session = unsafe { arg_mut(session, "session") }?;
        // SAFETY: `out_set_cookie` is as the `# Safety` section requires.
        let out = unsafe { Out::new(out_set_cookie, "out_set_cookie") }?;
        let result = session.inner.commit()?;
        if !result.committed {
            return Err(FfiError::not_found(
                "the session no longer exists (invalidated or expired): changes dropped",
            ));
        }
        out.write(
            result
                .set_cookie
                .map_or_else(sps_buf::none, |c| sps_buf::from_vec(c.into_bytes())),
        );
        Ok(())
    })
}

/// `href` with the session id added as a query parameter (get transport).
/// Free `*out_url` with sps_buf_free.
///
/// # Safety
/// `session` is NULL or live; `href` points to `href_len` bytes; `out_url`
/// is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn sps_session_url(
    session: *const sps_session,
    href: *const c_char,
    href_len: usize,
    out_url: *mut sps_buf,
) -> sps_status {
    guard(|| {
        // SAFETY: `session` is as the `# Safety` section requires.
        let session = unsafe { arg_ref(session, "session") }?;
        // SAFETY: `href` is as the `# Safety` section requires.
        let href = unsafe { text(href, href_len, "href") }?;
        // SAFETY: `out_url` is as the `# Safety` section requires.
        let out = unsafe { Out::new(out_url, "out_url") }?;
        out.write(sps_buf::from_vec(session.inner.url(href).into_bytes()));
        Ok(())
    })
}

/// An HTML hidden input carrying the id (post transport). Free
/// `*out_html` with sps_buf_free.
///
/// # Safety
/// `session` is NULL or live; `out_html` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn sps_session_form_field(
    session: *const sps_session,
    out_html: *mut sps_buf,
) -> sps_status {
    guard(|| {
        // SAFETY: `session` is as the `# Safety` section requires.
        let session = unsafe { arg_ref(session, "session") }?;
        // SAFETY: `out_html` is as the `# Safety` section requires.
        let out = unsafe { Out::new(out_html, "out_html") }?;
        out.write(sps_buf::from_vec(session.inner.form_field().into_bytes()));
        Ok(())
    })
}
