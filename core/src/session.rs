//! [`Session`]: one request's view of one browser's data, with the changes
//! it made, committed as a per-key merge.

use std::sync::Arc;

use crate::error::Result;
use crate::http::{set_cookie, set_cookie_with, CookieAttributes};
use crate::id::SessionId;
use crate::manager::SessionManager;
use crate::options::{check_seconds, Transport};
use crate::record::{CompactString, Data, Record};
use crate::store::{CommitOutcome, Committed, Update};
use crate::store_key::StoreKey;
use crate::value::Value;
use crate::view::{SessionIter, View};

/// What a commit did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitResult {
    /// False when the changes were dropped because the session is gone
    /// (invalidated or expired meanwhile: no resurrection).
    pub committed: bool,
    /// The `Set-Cookie` header value to send, if the browser must be told.
    pub set_cookie: Option<String>,
}

/// One request's session: a map of string keys to [`Value`]s.
///
/// Reads see the data as loaded plus this request's own changes. Commit
/// sends only the keys this request set or removed, merged into the record
/// as it is stored at that moment.
pub struct Session {
    manager: SessionManager,
    id: SessionId,
    /// `id`'s store key, computed once per id.
    key: StoreKey,
    /// Not in the store (yet): nothing is written until something is set.
    is_new: bool,
    created: f64,
    /// `accessed` of the stored record when loaded or last committed.
    base_accessed: Option<f64>,
    expires_at: f64,
    expire: f64,
    /// The page's session path, when it overrides the manager's.
    session_path: Option<String>,
    /// The data: the record as loaded, with this request's changes over it.
    view: View,
    /// Store keys of old ids to delete at commit (after regenerate or
    /// invalidate); each leaves the list only once its delete succeeded.
    retired: Vec<StoreKey>,
    /// The result of a commit that stored its record but could not delete
    /// every retired id: the retry hands its Set-Cookie out.
    unsent: Option<CommitResult>,
    /// An invalidated session whose cookie must be expired if nothing new is stored.
    invalidated: bool,
    /// Begun for a request outside the session path: never stored, so its
    /// cookie cannot replace the browser's real session cookie.
    detached: bool,
    committed: bool,
    /// False: the live cookie has no Max-Age or Expires (a browser-session cookie).
    persistent_cookie: bool,
    /// The next commit writes even when nothing changed (see [`Session::touch`]).
    forced: bool,
}

impl Session {
    pub(crate) fn new(
        manager: SessionManager,
        id: SessionId,
        key: StoreKey,
        loaded: Option<Arc<Record>>,
        now: f64,
        expire: f64,
        session_path: Option<String>,
    ) -> Self {
        let (is_new, created, base_accessed, expires_at) = match &loaded {
            Some(r) => (false, r.created, Some(r.accessed), r.expires_at),
            None => (true, now, None, now + expire),
        };
        Session {
            manager,
            id,
            key,
            is_new,
            created,
            base_accessed,
            expires_at,
            expire,
            session_path,
            view: View::new(loaded),
            retired: Vec::new(),
            unsent: None,
            invalidated: false,
            detached: false,
            committed: false,
            persistent_cookie: true,
            forced: false,
        }
    }

    /// Makes the next commit write this session even when nothing changed:
    /// a new session is stored (with no keys, if none were set), a loaded
    /// one has its expiry rewritten. For callers whose explicit save must
    /// store (Django's `save()`, `SESSION_SAVE_EVERY_REQUEST`); a session
    /// deleted meanwhile is still not brought back.
    pub fn touch(&mut self) {
        self.forced = true;
    }

    /// Changes the seconds of inactivity this session lives for, as `begin`
    /// with a page's `expire` would have set them (Django's `set_expiry`
    /// is known only once the view has run). The next commit that writes
    /// stores now + `expire`; a new session's [`Session::expires_at`] moves
    /// at once. Refused (a `Config` error naming `expire`), leaving the
    /// session as it was, unless a finite number of seconds >= 0.
    pub fn set_expire(&mut self, expire: f64) -> Result<()> {
        check_seconds("expire", expire)?;
        if self.is_new {
            self.expires_at += expire - self.expire;
        }
        self.expire = expire;
        Ok(())
    }

    /// The seconds of inactivity this session lives for (the page's or the
    /// manager's `expire`, or what [`Session::set_expire`] set).
    pub fn expire(&self) -> f64 {
        self.expire
    }

    /// Whether the `Set-Cookie` of this live session carries `Max-Age` and
    /// `Expires` (true, the default: the cookie lives as long as the
    /// session) or neither (false: a browser-session cookie, dropped when
    /// the browser closes, as Flask's `session.permanent = False`). The
    /// session's expiry at the server is the same either way. The cookie
    /// that expires an invalidated session always has `Max-Age=0`.
    pub fn set_persistent_cookie(&mut self, persistent: bool) {
        self.persistent_cookie = persistent;
    }

    /// See [`Session::set_persistent_cookie`].
    pub fn persistent_cookie(&self) -> bool {
        self.persistent_cookie
    }

    /// Marks a session begun outside its path: see [`Session::is_detached`].
    pub(crate) fn detach(mut self) -> Self {
        self.detached = true;
        self
    }

    /// True for a session begun for a request outside the session path. It
    /// works as a dict but commit stores nothing and sets no cookie (a
    /// cookie would replace the browser's session cookie for that path);
    /// commit then reports `committed == false` if anything was changed.
    pub fn is_detached(&self) -> bool {
        self.detached
    }

    /// The session id.
    pub fn id(&self) -> SessionId {
        self.id
    }

    /// The store key of the session id: what the store keeps it under.
    pub fn store_key(&self) -> StoreKey {
        self.key
    }

    /// Gives the session a fresh id (and its store key).
    fn new_id(&mut self) {
        self.id = SessionId::generate();
        self.key = self.id.store_key();
    }

    /// True until the session is first stored.
    pub fn is_new(&self) -> bool {
        self.is_new
    }

    /// True when this request changed something not yet committed.
    pub fn modified(&self) -> bool {
        !self.view.changes().is_empty() || !self.retired.is_empty() || self.invalidated
    }

    /// When the session expires (Unix seconds): for a new session now +
    /// expire, for a loaded one the stored value until a commit moves it.
    pub fn expires_at(&self) -> f64 {
        self.expires_at
    }

    /// When the session was created (Unix seconds).
    pub fn created(&self) -> f64 {
        self.created
    }

    /// False before the first commit and after a dropped one.
    pub fn committed(&self) -> bool {
        self.committed
    }

    /// The session path in effect.
    pub fn session_path(&self) -> &str {
        self.session_path
            .as_deref()
            .unwrap_or(&self.manager.inner.options.path)
    }

    /// The manager this session belongs to.
    pub fn manager(&self) -> &SessionManager {
        &self.manager
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.view.get(key)
    }

    /// Sets `key` to `value`.
    pub fn set(&mut self, key: impl Into<CompactString>, value: Value) {
        self.view.set(key.into(), value);
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        self.view.remove(key)
    }

    /// Removes every key (at commit, every key stored by then goes too).
    pub fn clear(&mut self) {
        self.view.clear();
    }

    /// True when `key` is set.
    pub fn contains(&self, key: &str) -> bool {
        self.view.get(key).is_some()
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.view.len()
    }

    /// True when there are no keys.
    pub fn is_empty(&self) -> bool {
        self.view.iter().next().is_none()
    }

    /// The keys, in sorted order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.view.iter().map(|(k, _)| k)
    }

    /// The (key, value) pairs, in key order.
    pub fn iter(&self) -> SessionIter<'_> {
        self.view.iter()
    }

    /// Gives the session a new id, keeping its data; the old id is deleted
    /// at commit (do this at login, against session fixation).
    pub fn regenerate(&mut self) {
        if !self.is_new {
            self.retired.push(self.key);
            // Under the new id the whole data is new.
            self.view.mark_all_changed();
            self.is_new = true;
            self.base_accessed = None;
        }
        self.new_id();
    }

    /// Drops the session: at commit its record is deleted and the cookie
    /// expired. Keys set afterwards start a new session with a new id.
    pub fn invalidate(&mut self) {
        if !self.is_new {
            self.retired.push(self.key);
        }
        let now = self.manager.now();
        self.new_id();
        self.is_new = true;
        self.invalidated = true;
        self.created = now;
        self.base_accessed = None;
        self.expires_at = now + self.expire;
        self.view.reset();
    }

    /// True when [`Session::commit`] would write to the store now: something
    /// changed, an old id is to be deleted, or the expiry is due for a touch.
    /// Bindings use it to skip releasing the GIL for a commit that only
    /// answers "nothing to do".
    pub fn needs_write(&self) -> bool {
        self.needs_write_at(self.manager.now())
    }

    /// [`Session::needs_write`] at `now`, a time read from the manager's
    /// clock (a binding reads it once for this and [`Session::commit_at`]).
    pub fn needs_write_at(&self, now: f64) -> bool {
        !self.detached
            && (!self.view.changes().is_empty()
                || !self.retired.is_empty()
                || self.forced
                || self.touch_due(now))
    }

    fn touch_due(&self, now: f64) -> bool {
        let interval = self
            .manager
            .inner
            .options
            .effective_touch_interval(self.expire);
        self.base_accessed
            .is_some_and(|accessed| now - accessed >= interval)
    }

    /// Writes what changed. Returns whether it was stored (see
    /// [`CommitResult::committed`]) and the `Set-Cookie` value, if any.
    ///
    /// Nothing is written for a new session with no keys set (lazy creation)
    /// nor for an unchanged session whose expiry is not yet due for a touch.
    ///
    /// Afterwards the session shows at least its own changes: a store that
    /// shares its records (`MemoryStore`) hands back the stored record, which
    /// also holds keys other requests committed meanwhile.
    pub fn commit(&mut self) -> Result<CommitResult> {
        let now = self.manager.now();
        self.commit_at(now)
    }

    /// [`Session::commit`] at `now`, a time read from the manager's clock.
    ///
    /// Ordered so that a failure leaves the old state and a retry finishes
    /// the job: the new record is stored first, then each retired id (after
    /// regenerate or invalidate) is deleted and only then forgotten. A
    /// failed store leaves the old session as it was; a failed delete
    /// returns the error with the old id still to be deleted, and the retry
    /// deletes it and returns the Set-Cookie the failed call could not.
    pub fn commit_at(&mut self, now: f64) -> Result<CommitResult> {
        if self.detached {
            self.committed = !self.modified();
            return Ok(CommitResult {
                committed: self.committed,
                set_cookie: None,
            });
        }
        let mut result = self.write_changes(now)?;
        self.forced = false;
        if let Some(unsent) = self.unsent.take() {
            if result.set_cookie.is_none() {
                result.set_cookie = unsent.set_cookie;
            }
        }
        while let Some(old) = self.retired.last() {
            if let Err(e) = self.manager.inner.store.delete(old) {
                self.unsent = Some(result);
                return Err(e);
            }
            self.retired.pop();
        }
        Ok(result)
    }

    /// The store half of [`Session::commit_at`]: the record, if anything
    /// changed or a touch is due.
    fn write_changes(&mut self, now: f64) -> Result<CommitResult> {
        let inner = &self.manager.inner;
        // A touch() asked for, kept until a write succeeds (a retry writes too).
        let touch_due = self.touch_due(now) || self.forced;
        if self.view.changes().is_empty() && !touch_due {
            self.committed = true;
            let cookie = (self.is_new && self.invalidated)
                .then(|| self.expired_cookie())
                .flatten();
            self.invalidated = false;
            return Ok(CommitResult {
                committed: true,
                set_cookie: cookie,
            });
        }
        let expires_at = match inner.options.max_lifetime {
            Some(max) => (now + self.expire).min(self.created + max),
            None => now + self.expire,
        };
        let (changes, loaded) = self.view.changes_and_base();
        let update = Update {
            changes,
            now,
            expires_at,
            created: self.created,
            create: self.is_new,
            base_accessed: self.base_accessed,
        };
        let Committed { outcome, record } = inner.store.commit(&self.key, &update, loaded)?;
        let created = self.created;
        self.view
            .settle(record, || Record::new(created, expires_at, Data::new()));
        self.invalidated = false;
        match outcome {
            CommitOutcome::NotFound => {
                self.committed = false;
                Ok(CommitResult {
                    committed: false,
                    set_cookie: None,
                })
            }
            CommitOutcome::Stored { .. } => {
                self.committed = true;
                self.is_new = false;
                self.base_accessed = Some(now);
                self.expires_at = expires_at;
                Ok(CommitResult {
                    committed: true,
                    set_cookie: self.live_cookie(now),
                })
            }
        }
    }

    fn uses_cookie(&self) -> bool {
        self.manager
            .inner
            .options
            .transports
            .contains(&Transport::Cookie)
    }

    fn cookie_attributes(&self) -> CookieAttributes<'_> {
        let options = &self.manager.inner.options;
        CookieAttributes {
            name: &options.cookie_name,
            path: self.session_path(),
            domain: options.domain.as_deref(),
            secure: options.secure,
            httponly: options.httponly,
            samesite: options.samesite.map(|s| s.as_str()),
        }
    }

    /// The Set-Cookie value for the live session, valid until `expires_at`.
    fn live_cookie(&self, now: f64) -> Option<String> {
        if !self.uses_cookie() {
            return None;
        }
        let max_age = (self.expires_at - now).floor() as i64;
        Some(set_cookie_with(
            &self.cookie_attributes(),
            |out| self.id.push_to(out),
            self.persistent_cookie.then_some((max_age, self.expires_at)),
        ))
    }

    /// The Set-Cookie value that removes the cookie from the browser.
    fn expired_cookie(&self) -> Option<String> {
        self.uses_cookie()
            .then(|| set_cookie(&self.cookie_attributes(), "", 0, 0.0))
    }

    /// `href` with the session id added as a query parameter (get transport).
    pub fn url(&self, href: &str) -> String {
        let (base, fragment) = match href.find('#') {
            Some(i) => href.split_at(i),
            None => (href, ""),
        };
        let sep = if !base.contains('?') {
            "?"
        } else if base.ends_with('?') || base.ends_with('&') {
            ""
        } else {
            "&"
        };
        let name = &self.manager.inner.options.param_name;
        format!("{base}{sep}{name}={}{fragment}", self.id)
    }

    /// An HTML hidden input carrying the id (post transport). The name is an
    /// HTTP token and the id is hex, so neither needs escaping.
    pub fn form_field(&self) -> String {
        let name = &self.manager.inner.options.param_name;
        format!(
            "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
            self.id
        )
    }

    /// A copy of the data as it is now, for callers that want it whole.
    pub fn to_data(&self) -> Data {
        self.view
            .iter()
            .map(|(k, v)| (k.to_owned(), v.clone()))
            .collect()
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.id)
            .field("is_new", &self.is_new)
            .field("data", &self.to_data())
            .finish_non_exhaustive()
    }
}
