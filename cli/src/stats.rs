//! `spysession stats`: what the store holds and, for a DbmStore, how full it is.

use std::io::Write;

use clap::Args;
use serde_json::json;
use spysession_core::Inspect;

use crate::failure::Failure;
use crate::render::{self, write_json};
use crate::store::{self, Opened, StoreArgs, TimeArgs};
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

/// Counts records and expired records; for a DbmStore, also reads its sizes.
pub fn run(args: &StatsArgs, out: &mut dyn Write) -> Result<(), Failure> {
    let opened = store::open(&args.store)?;
    let now = args.time.now();
    let fail = |what: &str| {
        let what = what.to_string();
        move |e| Failure::caused(format!("cannot read the store's {what}"), e)
    };
    let entries = opened.inspect().list().map_err(fail("expiry index"))?;
    // The LMDB figures; a Redis has no data file or map of ours to measure.
    let lmdb = match &opened {
        Opened::Dbm(store, dir) => {
            let records = store.len().map_err(fail("record count"))?;
            let (used, map_size) = store.usage().map_err(fail("usage"))?;
            let (file, disk) = store::data_file_sizes(dir)?;
            Some((records, used, map_size, file, disk))
        }
        Opened::Redis(..) => None,
    };
    let records = lmdb.map_or(entries.len() as u64, |(records, ..)| records);
    let expired = entries.iter().filter(|(_, t)| now >= *t).count() as u64;
    let live = records.saturating_sub(expired);
    let oldest = entries.iter().map(|(_, t)| *t).reduce(f64::min);
    let newest = entries.iter().map(|(_, t)| *t).reduce(f64::max);
    let prefix = match &opened {
        Opened::Redis(store, _) => Some(store.options().prefix.clone()),
        Opened::Dbm(..) => None,
    };

    if args.json {
        // The same fields for both kinds of store; those a Redis does not
        // have are null there.
        let (file, disk, used, map_size, used_percent) = match lmdb {
            Some((_, used, map_size, file, disk)) => (
                json!(file),
                json!(disk),
                json!(used),
                json!(map_size),
                render::float(percent(used, map_size)),
            ),
            None => Default::default(),
        };
        let document = json!({
            "store": opened.name(),
            "backend": if prefix.is_some() { "redis" } else { "dbm" },
            "prefix": prefix,
            "now": render::float(now),
            "records": records,
            "expired": expired,
            "live": live,
            "data_file_bytes": file,
            "disk_bytes": disk,
            "used_bytes": used,
            "map_size": map_size,
            "map_used_percent": used_percent,
            "oldest_expiry": oldest.map(render::float),
            "newest_expiry": newest.map(render::float),
        });
        return write_json(out, &document);
    }
    let when = |t: Option<f64>| t.map_or_else(|| "-".to_string(), iso);
    match &prefix {
        Some(prefix) => writeln!(out, "store          {} (prefix {prefix:?})", opened.name())?,
        None => writeln!(out, "store          {}", opened.name())?,
    }
    writeln!(out, "records        {records}")?;
    writeln!(out, "expired        {expired} (at {})", iso(now))?;
    writeln!(out, "live           {live}")?;
    if let Some((_, used, map_size, file, disk)) = lmdb {
        writeln!(
            out,
            "data file      {} on disk ({} long)",
            render::size(disk),
            render::size(file)
        )?;
        writeln!(
            out,
            "map            {} used of {} ({:.1}%)",
            render::size(used),
            render::size(map_size),
            percent(used, map_size)
        )?;
    }
    writeln!(out, "oldest expiry  {}", when(oldest))?;
    writeln!(out, "newest expiry  {}", when(newest))?;
    Ok(())
}

/// How much of the map is used, in percent.
fn percent(used: u64, map_size: u64) -> f64 {
    if map_size == 0 {
        0.0
    } else {
        used as f64 * 100.0 / map_size as f64
    }
}
