//! # spysession-core
//!
//! The engine of spysession, a server-side web session store: the browser
//! gets only a random id (by cookie, query string or form field); the data
//! lives here, in a [`Store`].
//!
//! ```
//! use std::sync::Arc;
//! use spysession_core::{MemoryStore, Options, Request, SessionManager, Value};
//!
//! let manager = SessionManager::new(Arc::new(MemoryStore::default()), Options::default())?;
//!
//! // First request: no cookie, a new session.
//! let mut session = manager.begin(&Request { path: "/", ..Default::default() })?;
//! session.set("visited", Value::Int(1));
//! let cookie = session.commit()?.set_cookie.expect("a new session sets a cookie");
//!
//! // The browser sends the cookie back.
//! let header = cookie.split(';').next().unwrap();
//! let session = manager.begin(&Request { cookie: Some(header.as_bytes()), path: "/", ..Default::default() })?;
//! assert_eq!(session.get("visited"), Some(&Value::Int(1)));
//! # Ok::<(), spysession_core::Error>(())
//! ```
//!
//! ## Concepts
//!
//! - [`SessionId`]: 128 bits from the OS CSPRNG, 32 lowercase hex characters.
//!   Anything else from the network is not an id and never reaches a store.
//! - [`StoreKey`]: what a store keeps a session under: the first 16 bytes
//!   of SHA-256 of the id. No store ever sees an id.
//! - [`Record`]: what a store keeps per store key; its MessagePack layout is
//!   documented on the type so that programs in any language can read it.
//! - [`Value`]: nil, bool, int, float, str, bytes, list, map, ext; [`ext`]
//!   lays out the ext values spysession defines (tuple, set, datetime, ...).
//! - [`Store`]: [`MemoryStore`], [`DbmStore`] (LMDB) or your own
//!   ([`RawStore`] + [`CustomStore`]).
//! - [`SessionManager`] + [`Options`]: begins a [`Session`] per request;
//!   [`Session::commit`] merges only the keys the request changed into the
//!   stored record, never revives a deleted or expired session, and returns
//!   the `Set-Cookie` value to send.
//!
//! ## Decisions where the spec is silent
//!
//! - `last access` in a record is the time of the last *write* (commit or
//!   expiry touch): recording every read would cost a write per request.
//! - `Session::clear` followed by commit removes every key stored at commit
//!   time, including keys another request added meanwhile.
//! - After `invalidate`, keys set on the same `Session` start a new session
//!   with a new id (like Django's `flush`).
//! - `regenerate` keeps the original creation time, so it cannot be used to
//!   escape `max_lifetime`.
//! - A touch (expiry rewrite of an unchanged session) happens when at least
//!   `touch_interval` seconds passed since the last write.

#![deny(missing_docs)]

mod clock;
mod data;
mod error;
pub mod ext;
pub mod http;
mod id;
mod manager;
mod options;
mod reader;
mod record;
mod session;
mod store;
mod store_key;
mod value;
mod view;

pub use clock::{system_now, Clock, SystemClock};
pub use error::{Error, Result};
pub use id::{SessionId, ID_LEN};
pub use manager::{PageOptions, Request, SessionManager};
pub use options::{Options, SameSite, Transport};
pub use reader::{DecodeError, DecodeErrorKind, MAX_DEPTH};
pub use record::{Changes, CompactString, Data, Record, FORMAT_VERSION};
pub use session::{CommitResult, Session};
pub use store::redact_url;
pub use store::{
    clean_store, merge, Closable, CommitOutcome, Committed, Counters, CustomStore, DbmOptions,
    DbmStore, Inspect, MemoryStore, RawStore, Store, StoreStats, StoreUrl, Sweep, Update,
};
#[cfg(feature = "redis")]
pub use store::{RedisAuth, RedisNode, RedisOptions, RedisStore};
pub use store_key::{StoreKey, STORE_KEY_LEN};
pub use value::{Value, EXT_PICKLE};
pub use view::SessionIter;

/// The version of this crate.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
