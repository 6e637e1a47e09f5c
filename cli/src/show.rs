//! `spysession show ID|--key KEY`: one session decoded, expired or not, from a
//! DbmStore or a Redis.

use std::io::Write;

use clap::Args;
use serde_json::{json, Map};
use spysession_core::{Record, StoreKey};

use crate::failure::Failure;
use crate::render::{self, write_json};
use crate::store::{self, StoreArgs, TimeArgs};
use crate::target::TargetArgs;
use crate::time::iso;

/// Arguments of `show`.
#[derive(Args, Debug)]
pub struct ShowArgs {
    #[command(flatten)]
    target: TargetArgs,
    #[command(flatten)]
    store: StoreArgs,
    #[command(flatten)]
    time: TimeArgs,
    /// Write JSON instead of text: `{"key", "created", "accessed",
    /// "expires_at", "expired", "data"}` (times in Unix seconds).
    #[arg(long)]
    json: bool,
}

/// Reads the record whatever its expiry; an unknown session is exit 1.
/// Messages name the store key, never the id.
pub fn run(args: &ShowArgs, out: &mut dyn Write) -> Result<(), Failure> {
    let store = store::open(&args.store)?;
    let key = args.target.store_key();
    let record = store
        .inspect()
        .get(&key)
        .map_err(|e| Failure::caused(format!("cannot read session {key}"), e))?
        .ok_or_else(|| Failure::new(format!("no session {key} in the store")))?;
    let now = args.time.now();
    if args.json {
        write_json(out, &document(&key, &record, now))
    } else {
        write_text(out, &key, &record, now)
    }
}

fn document(key: &StoreKey, record: &Record, now: f64) -> serde_json::Value {
    let data: Map<String, serde_json::Value> = record
        .data
        .iter()
        .map(|(k, v)| (k.to_owned(), render::json(v)))
        .collect();
    json!({
        "key": key.to_string(),
        "created": render::float(record.created),
        "accessed": render::float(record.accessed),
        "expires_at": render::float(record.expires_at),
        "expired": record.is_expired(now),
        "data": data,
    })
}

fn write_text(
    out: &mut dyn Write,
    key: &StoreKey,
    record: &Record,
    now: f64,
) -> Result<(), Failure> {
    let state = if record.is_expired(now) {
        "expired"
    } else {
        "live"
    };
    writeln!(out, "store key    {key}")?;
    writeln!(out, "created      {}", iso(record.created))?;
    // The core records the last write (commit or touch) as the last access.
    writeln!(out, "last access  {}", iso(record.accessed))?;
    writeln!(out, "expires      {} ({state})", iso(record.expires_at))?;
    writeln!(out, "keys         {}", record.data.len())?;
    for (key, value) in &record.data {
        writeln!(out, "  {key:?} = {}", render::text(value))?;
    }
    Ok(())
}
