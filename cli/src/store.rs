//! Which store a command works on, and opening it without ever creating one.
//!
//! Today the only backend is a [`DbmStore`] directory (`--store DIR`); a
//! later RedisStore adds its `--redis URL` to [`StoreArgs`] (the two then
//! forming one required clap group) and its arm to [`open`].

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use clap::Args;
use spysession_core::{system_now, DbmOptions, DbmStore};

use crate::failure::Failure;

/// The LMDB data file every DbmStore directory holds.
const DATA_FILE: &str = "data.mdb";

/// Where the sessions are.
#[derive(Args, Debug)]
pub struct StoreArgs {
    /// The DbmStore directory (the path given to `DbmStore(...)` or
    /// `sps_store_open_dbm`). It must already hold a store: this command
    /// never creates one.
    #[arg(long, value_name = "DIR")]
    pub store: PathBuf,
}

/// The time by which expiry is judged.
#[derive(Args, Debug)]
pub struct TimeArgs {
    /// Judge expiry at this time (Unix seconds) instead of the system clock.
    #[arg(long, value_name = "SECONDS", value_parser = parse_now)]
    pub now: Option<f64>,
}

impl TimeArgs {
    /// `--now`, or the system clock.
    pub fn now(&self) -> f64 {
        self.now.unwrap_or_else(system_now)
    }
}

fn parse_now(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(t) if t.is_finite() && t >= 0.0 => Ok(t),
        _ => Err("expected Unix seconds, a non-negative number".into()),
    }
}

/// Opens the existing store named by `args`.
///
/// Refuses a path that is missing, is not a directory, or holds no
/// `data.mdb`: opening a DbmStore creates one, and a typo in a cron line
/// must fail loudly instead of cleaning an empty new store forever.
pub fn open(args: &StoreArgs) -> Result<DbmStore, Failure> {
    let dir = &args.store;
    check_exists(dir)?;
    // map_size 0: LMDB keeps the map size recorded in the store, so this
    // tool never changes the size the web processes chose.
    let options = DbmOptions {
        map_size: 0,
        durable: true,
    };
    DbmStore::open_with(dir, options)
        .map_err(|e| Failure::caused(format!("cannot open the store {}", dir.display()), e))
}

fn check_exists(dir: &Path) -> Result<(), Failure> {
    let shown = dir.display();
    match std::fs::metadata(dir) {
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return Err(Failure::new(format!(
                "no session store at {shown}: the directory does not exist"
            )))
        }
        Err(e) => return Err(Failure::caused(format!("cannot read {shown}"), e)),
        Ok(meta) if !meta.is_dir() => {
            return Err(Failure::new(format!(
                "no session store at {shown}: not a directory"
            )))
        }
        Ok(_) => {}
    }
    match std::fs::metadata(dir.join(DATA_FILE)) {
        Ok(meta) if meta.is_file() => Ok(()),
        Ok(_) | Err(_) => Err(Failure::new(format!(
            "no session store at {shown}: the directory holds no {DATA_FILE}"
        ))),
    }
}

/// The store's data file: its length, and the bytes the file system has
/// allocated to it (LMDB's file may be sparse, as long as the map).
pub fn data_file_sizes(args: &StoreArgs) -> Result<(u64, u64), Failure> {
    let path = args.store.join(DATA_FILE);
    std::fs::metadata(&path)
        .map(|m| (m.len(), allocated(&m)))
        .map_err(|e| Failure::caused(format!("cannot read {}", path.display()), e))
}

#[cfg(unix)]
fn allocated(meta: &std::fs::Metadata) -> u64 {
    use std::os::unix::fs::MetadataExt;
    meta.blocks() * 512
}

#[cfg(not(unix))]
fn allocated(meta: &std::fs::Metadata) -> u64 {
    meta.len()
}
