//! The one error type of the engine, with the cause kept.

use std::fmt;

/// Everything that can go wrong in the engine.
///
/// Only [`Error::Corrupt`] is about one record (the manager answers it with
/// a fresh session); every other store error means the store itself failed
/// and reaches the caller.
///
/// Each variant keeps its cause so callers (and the C and Python bindings,
/// which map variants to status codes and exception classes) can tell kinds
/// apart without parsing strings.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A file-system or operating-system error.
    Io(std::io::Error),
    /// An error reported by LMDB, the store's damage included (`Corrupted`,
    /// `PageNotFound`): never answered with a fresh session.
    Lmdb(lmdb::Error),
    /// The store has no room left (LMDB `MDB_MAP_FULL`, or a custom store said so).
    StoreFull,
    /// A stored record could not be decoded; the cause says where and why
    /// (a [`crate::DecodeError`] from the record reader, an ext value's
    /// error, LMDB's report of a damaged file...).
    Corrupt(Box<dyn std::error::Error + Send + Sync>),
    /// A string that should be a session id is not 32 lowercase hex characters.
    InvalidId,
    /// A string that should be a store key is not 32 lowercase hex characters.
    InvalidStoreKey,
    /// The store was written in a format this build does not read (for
    /// example a store of spysession 0.1, which kept records by raw id).
    StoreVersion {
        /// The format version the store says it was written in.
        found: u64,
        /// The format version this build reads and writes.
        expected: u8,
    },
    /// A manager option was refused; `option` names it.
    Config {
        /// The option's name, as written in the spec (`expire`, `path`, ...).
        option: &'static str,
        /// What is wrong with the value.
        message: String,
    },
    /// A value cannot be stored (for example a Python value with `pickle=False`).
    Type(String),
    /// The store was closed.
    Closed,
    /// A store does not support the operation (for example `len` on a custom store).
    Unsupported(&'static str),
    /// An error raised by a custom store (Python subclass, C callbacks).
    Custom(Box<dyn std::error::Error + Send + Sync>),
}

/// `Result` with the engine's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Shorthand for a [`Error::Config`].
    pub fn config(option: &'static str, message: impl Into<String>) -> Self {
        Error::Config {
            option,
            message: message.into(),
        }
    }
}

impl Error {
    /// True when LMDB reports that the store's files are damaged
    /// (`Corrupted`, `PageNotFound`, `Invalid`): the C API answers
    /// `SPS_CORRUPT` rather than `SPS_IO`.
    pub fn is_store_damage(&self) -> bool {
        matches!(
            self,
            Error::Lmdb(lmdb::Error::Corrupted | lmdb::Error::PageNotFound | lmdb::Error::Invalid)
        )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "I/O error: {e}"),
            Error::Lmdb(e) => write!(f, "LMDB error: {e}"),
            Error::StoreFull => f.write_str("the session store is full (raise map_size)"),
            Error::Corrupt(why) => write!(f, "corrupt session record: {why}"),
            Error::InvalidId => {
                f.write_str("not a session id (expected 32 lowercase hex characters)")
            }
            Error::InvalidStoreKey => {
                f.write_str("not a store key (expected 32 lowercase hex characters)")
            }
            Error::StoreVersion { found, expected } => write!(
                f,
                "the store was written in format version {found}{}; this build reads only \
                 format version {expected}: use a new store (path, Redis prefix) for this version",
                if *found == 1 { " (spysession 0.1)" } else { "" }
            ),
            Error::Config { option, message } => write!(f, "invalid option {option}: {message}"),
            Error::Type(why) => write!(f, "value cannot be stored: {why}"),
            Error::Closed => f.write_str("the session store is closed"),
            Error::Unsupported(what) => write!(f, "this store does not support {what}"),
            Error::Custom(e) => write!(f, "custom store error: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            Error::Lmdb(e) => Some(e),
            Error::Custom(e) | Error::Corrupt(e) => Some(e.as_ref()),
            _ => None,
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e)
    }
}

impl From<lmdb::Error> for Error {
    fn from(e: lmdb::Error) -> Self {
        // LMDB's own corruption reports (Corrupted, PageNotFound, ...) stay
        // `Lmdb`: a damaged store is an error for the caller to see, never
        // `Corrupt`, which means one undecodable record (a fresh session).
        match e {
            lmdb::Error::MapFull => Error::StoreFull,
            other => Error::Lmdb(other),
        }
    }
}
