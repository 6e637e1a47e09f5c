//! `spysession stats`: what the store holds and how full it is.

use std::io::Write;

use clap::Args;
use serde_json::json;
use spysession_core::Store;

use crate::failure::Failure;
use crate::render::{self, write_json};
use crate::store::{self, StoreArgs, TimeArgs};
use crate::time::iso;

/// Arguments of `stats`.
#[derive(Args, Debug)]
pub struct StatsArgs {
    #[command(flatten)]
    store: StoreArgs,
    #[command(flatten)]
    time: TimeArgs,
    /// Write JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Counts records and expired records, and reads the store's sizes.
pub fn run(args: &StatsArgs, out: &mut dyn Write) -> Result<(), Failure> {
    let store = store::open(&args.store)?;
    let now = args.time.now();
    let fail = |what: &str| {
        let what = what.to_string();
        move |e| Failure::caused(format!("cannot read the store's {what}"), e)
    };
    let entries = store.list().map_err(fail("expiry index"))?;
    let records = store.len().map_err(fail("record count"))?;
    let (used, map_size) = store.usage().map_err(fail("usage"))?;
    let (file, disk) = store::data_file_sizes(&args.store)?;
    let expired = entries.iter().filter(|(_, t)| now >= *t).count() as u64;
    let oldest = entries.iter().map(|(_, t)| *t).reduce(f64::min);
    let newest = entries.iter().map(|(_, t)| *t).reduce(f64::max);
    let percent = if map_size == 0 {
        0.0
    } else {
        used as f64 * 100.0 / map_size as f64
    };

    if args.json {
        let document = json!({
            "store": args.store.store.display().to_string(),
            "now": render::float(now),
            "records": records,
            "expired": expired,
            "live": records.saturating_sub(expired),
            "data_file_bytes": file,
            "disk_bytes": disk,
            "used_bytes": used,
            "map_size": map_size,
            "map_used_percent": render::float(percent),
            "oldest_expiry": oldest.map(render::float),
            "newest_expiry": newest.map(render::float),
        });
        return write_json(out, &document);
    }
    let when = |t: Option<f64>| t.map_or_else(|| "-".to_string(), iso);
    writeln!(out, "store          {}", args.store.store.display())?;
    writeln!(out, "records        {records}")?;
    writeln!(out, "expired        {expired} (at {})", iso(now))?;
    writeln!(out, "live           {}", records.saturating_sub(expired))?;
    writeln!(
        out,
        "data file      {} on disk ({} long)",
        render::size(disk),
        render::size(file)
    )?;
    writeln!(
        out,
        "map            {} used of {} ({percent:.1}%)",
        render::size(used),
        render::size(map_size)
    )?;
    writeln!(out, "oldest expiry  {}", when(oldest))?;
    writeln!(out, "newest expiry  {}", when(newest))?;
    Ok(())
}
