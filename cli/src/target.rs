//! The session `show` and `delete` work on: a session id (hashed into its
//! store key, as the web processes do) or, with `--key`, a store key as
//! `list` shows it. Stores hold store keys only, never ids.

use clap::{ArgGroup, Args};
use spysession_core::{SessionId, StoreKey};

/// `ID` or `--key KEY`, exactly one of the two.
#[derive(Args, Debug)]
#[command(group(ArgGroup::new("session").args(["id", "key"]).required(true)))]
pub struct TargetArgs {
    /// The session id: 32 lowercase hex characters (the cookie's value).
    #[arg(value_name = "ID", value_parser = parse_id)]
    id: Option<SessionId>,
    /// A store key instead of an id: 32 lowercase hex characters, as `list`
    /// shows them.
    #[arg(long, value_name = "KEY", value_parser = parse_key)]
    key: Option<StoreKey>,
}

impl TargetArgs {
    /// The store key to look up.
    pub fn store_key(&self) -> StoreKey {
        match (&self.id, &self.key) {
            (Some(id), _) => id.store_key(),
            (None, Some(key)) => *key,
            // clap's group requires one of the two.
            (None, None) => unreachable!("clap requires ID or --key"),
        }
    }
}

/// Parses a session id for clap (a malformed one is a usage error, exit 2).
fn parse_id(text: &str) -> Result<SessionId, String> {
    SessionId::parse(text).map_err(|e| e.to_string())
}

/// Parses a store key for clap (a malformed one is a usage error, exit 2).
fn parse_key(text: &str) -> Result<StoreKey, String> {
    StoreKey::parse(text).map_err(|e| e.to_string())
}
