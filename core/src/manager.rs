//! [`SessionManager`]: a site's options and store; begins a [`Session`] for
//! each request.

use std::sync::Arc;

use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};
use crate::http::{cookie_values, form_values, path_matches};
use crate::id::SessionId;
use crate::options::{check_seconds, Options, Transport};
use crate::session::Session;
use crate::store::Store;
use crate::store_key::StoreKey;

/// The parts of an HTTP request a session is found in. Every field is raw,
/// untrusted network input.
#[derive(Clone, Copy, Debug, Default)]
pub struct Request<'a> {
    /// The raw `Cookie` header, if any.
    pub cookie: Option<&'a [u8]>,
    /// The raw query string (without `?`), if any.
    pub query: Option<&'a [u8]>,
    /// The urlencoded form body, if any.
    pub form: Option<&'a [u8]>,
    /// The request path, for path-match against the session path (`/` if empty).
    pub path: &'a str,
}

/// Per-page overrides of the site's options (Spyce lets a page set them).
#[derive(Clone, Debug, Default)]
pub struct PageOptions {
    /// Overrides `expire` for this request's session.
    pub expire: Option<f64>,
    /// Overrides the session (cookie) path for this request.
    pub session_path: Option<String>,
}

pub(crate) struct Inner {
    pub store: Arc<dyn Store>,
    pub options: Options,
    pub clock: Arc<dyn Clock>,
}

/// A site's session configuration: store, options, clock. Cheap to clone
/// and safe to share between threads.
#[derive(Clone)]
pub struct SessionManager {
    pub(crate) inner: Arc<Inner>,
}

impl SessionManager {
    /// A manager over `store` with `options` (validated: a bad value is
    /// [`Error::Config`] naming the option) and the system clock.
    pub fn new(store: Arc<dyn Store>, options: Options) -> Result<Self> {
        Self::with_clock(store, options, Arc::new(SystemClock))
    }

    /// Same as [`SessionManager::new`] with a clock of your own.
    pub fn with_clock(
        store: Arc<dyn Store>,
        options: Options,
        clock: Arc<dyn Clock>,
    ) -> Result<Self> {
        options.validate()?;
        Ok(SessionManager {
            inner: Arc::new(Inner {
                store,
                options,
                clock,
            }),
        })
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// The options.
    pub fn options(&self) -> &Options {
        &self.inner.options
    }

    /// The manager's clock, read now.
    pub fn now(&self) -> f64 {
        self.inner.clock.now()
    }

    /// The session of `request` with the site's options.
    pub fn begin(&self, request: &Request<'_>) -> Result<Session> {
        self.begin_with(request, &PageOptions::default())
    }

    /// The session of `request`: the stored one when the request carries a
    /// live id (in transport order, first well-formed id wins) under the
    /// session path; otherwise a new one (not stored until something is set).
    ///
    /// An unknown id is adopted only when `strict` is off. A damaged record
    /// gives a new session with a new id. Store I/O errors are returned.
    /// A request that presented a malformed id, or under `strict` an
    /// unknown or expired one, is counted in the store's `rejected`.
    pub fn begin_with(&self, request: &Request<'_>, page: &PageOptions) -> Result<Session> {
        let expire = page.expire.unwrap_or(self.inner.options.expire);
        check_seconds("expire", expire)?;
        if let Some(p) = &page.session_path {
            self.inner.options.check_session_path(p)?;
        }
        let session_path = page.session_path.as_deref();
        let now = self.now();
        let fresh = |id: SessionId, key: StoreKey| {
            Session::new(
                self.clone(),
                id,
                key,
                None,
                now,
                expire,
                page.session_path.clone(),
            )
        };

        let fresh_random = || {
            let id = SessionId::generate();
            fresh(id, id.store_key())
        };

        if !path_matches(
            request.path,
            session_path.unwrap_or(&self.inner.options.path),
        ) {
            return Ok(fresh_random().detach());
        }
        let (found, malformed) = self.scan_ids(request);
        let counters = self.inner.store.counters();
        if malformed {
            counters.count_rejected();
        }
        let Some(id) = found else {
            return Ok(fresh_random());
        };
        let key = id.store_key();
        match self.inner.store.load(&key, now) {
            Ok(Some(record)) if !self.past_max_lifetime(record.created, now) => Ok(Session::new(
                self.clone(),
                id,
                key,
                Some(record),
                now,
                expire,
                page.session_path.clone(),
            )),
            Ok(_) if !self.inner.options.strict => Ok(fresh(id, key)),
            Ok(_) => {
                // Unknown (or expired) under strict: not adopted, and
                // counted, once per request.
                if !malformed {
                    counters.count_rejected();
                }
                Ok(fresh_random())
            }
            Err(Error::Corrupt(_)) => Ok(fresh_random()),
            Err(e) => Err(e),
        }
    }

    fn past_max_lifetime(&self, created: f64, now: f64) -> bool {
        self.inner
            .options
            .max_lifetime
            .is_some_and(|max| now >= created + max)
    }

    /// The first well-formed id the request carries, in transport order.
    pub fn find_id(&self, request: &Request<'_>) -> Option<SessionId> {
        self.scan_ids(request).0
    }

    /// [`Self::find_id`], and whether a malformed (non-empty) value under
    /// the id's name came before it (or, with no id, anywhere).
    fn scan_ids(&self, request: &Request<'_>) -> (Option<SessionId>, bool) {
        let options = &self.inner.options;
        let mut malformed = false;
        let mut parse = |v: &[u8]| match SessionId::parse(v) {
            Ok(id) => Some(id),
            Err(_) => {
                malformed |= !v.is_empty();
                None
            }
        };
        let found = options
            .transports
            .iter()
            .find_map(|transport| match transport {
                Transport::Cookie => request
                    .cookie
                    .and_then(|h| cookie_values(h, &options.cookie_name).find_map(&mut parse)),
                Transport::Get => first_id(request.query, &options.param_name, &mut parse),
                Transport::Post => first_id(request.form, &options.param_name, &mut parse),
            });
        (found, malformed)
    }
}

fn first_id(
    body: Option<&[u8]>,
    name: &str,
    parse: &mut impl FnMut(&[u8]) -> Option<SessionId>,
) -> Option<SessionId> {
    form_values(body?, name)
        .iter()
        .find_map(|v| parse(v.as_ref()))
}
