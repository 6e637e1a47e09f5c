//! `spysession list`: the sessions' store keys with their expiry, in key
//! order, paged. (Stores hold store keys, never ids.)

use std::io::Write;

use clap::Args;
use serde_json::json;

use crate::failure::Failure;
use crate::render::{self, write_json};
use crate::store::{self, StoreArgs, TimeArgs};
use crate::time::iso;

/// Arguments of `list`.
#[derive(Args, Debug)]
pub struct ListArgs {
    #[command(flatten)]
    store: StoreArgs,
    #[command(flatten)]
    time: TimeArgs,
    /// Only the expired sessions (those `clean` would remove).
    #[arg(long)]
    expired: bool,
    /// At most this many sessions (default: all).
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
    /// Skip this many sessions first (after the --expired filter).
    #[arg(long, value_name = "N", default_value_t = 0)]
    offset: usize,
    /// Write JSON instead of text: `{"total", "offset", "sessions": [{"key",
    /// "expires_at", "expired"}]}`, total counting every match before paging.
    #[arg(long)]
    json: bool,
}

/// Lists the store keys, one per line: `KEY  EXPIRY  live|expired`.
pub fn run(args: &ListArgs, out: &mut dyn Write) -> Result<(), Failure> {
    let store = store::open(&args.store)?;
    let now = args.time.now();
    let entries = store
        .inspect()
        .list()
        .map_err(|e| Failure::caused("cannot read the store's expiry index", e))?;
    let matching: Vec<_> = entries
        .into_iter()
        .filter(|(_, t)| !args.expired || now >= *t)
        .collect();
    let page = matching
        .iter()
        .skip(args.offset)
        .take(args.limit.unwrap_or(usize::MAX));

    if args.json {
        let sessions: Vec<_> = page
            .map(|(key, t)| {
                json!({
                    "key": key.to_string(),
                    "expires_at": render::float(*t),
                    "expired": now >= *t,
                })
            })
            .collect();
        let document = json!({
            "total": matching.len(),
            "offset": args.offset,
            "sessions": sessions,
        });
        return write_json(out, &document);
    }
    for (key, t) in page {
        let state = if now >= *t { "expired" } else { "live" };
        writeln!(out, "{key}  {}  {state}", iso(*t))?;
    }
    Ok(())
}
