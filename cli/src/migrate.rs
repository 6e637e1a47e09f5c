//! `spysession migrate --redis URL`: move the sessions of spysession 0.1's
//! Redis layout (a hash at `<prefix><id>`) into the bucketed layout this
//! version reads, once (see `RedisStore::migrate_v01`).

use std::io::Write;

use clap::Args;

use crate::failure::Failure;
use crate::store::{self, Opened, StoreArgs};

/// Arguments of `migrate`.
#[derive(Args, Debug)]
pub struct MigrateArgs {
    #[command(flatten)]
    store: StoreArgs,
}

/// Migrates and says how many sessions moved; a DbmStore has nothing to migrate.
pub fn run(args: &MigrateArgs, out: &mut dyn Write) -> Result<(), Failure> {
    let opened = store::open(&args.store)?;
    let Opened::Redis(redis, name) = &opened else {
        return Err(Failure::new(
            "migrate is for a RedisStore (--redis URL): a DbmStore's layout did not change",
        ));
    };
    let moved = redis
        .migrate_v01()
        .map_err(|e| Failure::caused(format!("cannot migrate the sessions at {name}"), e))?;
    writeln!(out, "moved {moved} sessions of the 0.1 layout at {name}")?;
    Ok(())
}
