//! `spysession show ID`: one session decoded, expired or not, from a
//! DbmStore or a Redis.

use std::io::Write;

use clap::Args;
use serde_json::{json, Map};
use spysession_core::{Record, SessionId};

use crate::failure::Failure;
use crate::render::{self, write_json};
use crate::store::{self, StoreArgs, TimeArgs};
use crate::time::iso;

/// Arguments of `show`.
#[derive(Args, Debug)]
pub struct ShowArgs {
    /// The session id: 32 lowercase hex characters (the cookie's value).
    #[arg(value_name = "ID", value_parser = parse_id)]
    id: SessionId,
    #[command(flatten)]
    store: StoreArgs,
    #[command(flatten)]
    time: TimeArgs,
    /// Write JSON instead of text: `{"id", "created", "accessed",
    /// "expires_at", "expired", "data"}` (times in Unix seconds).
    #[arg(long)]
    json: bool,
}

/// Parses a session id for clap (a malformed one is a usage error, exit 2).
pub fn parse_id(text: &str) -> Result<SessionId, String> {
    SessionId::parse(text).map_err(|e| e.to_string())
}

/// Reads the record whatever its expiry; an unknown id is exit 1.
pub fn run(args: &ShowArgs, out: &mut dyn Write) -> Result<(), Failure> {
    let store = store::open(&args.store)?;
    let record = store
        .load_any(&args.id)
        .map_err(|e| Failure::caused(format!("cannot read session {}", args.id), e))?
        .ok_or_else(|| Failure::new(format!("no session {} in the store", args.id)))?;
    let now = args.time.now();
    if args.json {
        write_json(out, &document(&args.id, &record, now))
    } else {
        write_text(out, &args.id, &record, now)
    }
}

fn document(id: &SessionId, record: &Record, now: f64) -> serde_json::Value {
    let data: Map<String, serde_json::Value> = record
        .data
        .iter()
        .map(|(k, v)| (k.to_owned(), render::json(v)))
        .collect();
    json!({
        "id": id.to_string(),
        "created": render::float(record.created),
        "accessed": render::float(record.accessed),
        "expires_at": render::float(record.expires_at),
        "expired": record.is_expired(now),
        "data": data,
    })
}

fn write_text(
    out: &mut dyn Write,
    id: &SessionId,
    record: &Record,
    now: f64,
) -> Result<(), Failure> {
    let state = if record.is_expired(now) {
        "expired"
    } else {
        "live"
    };
    writeln!(out, "id           {id}")?;
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
