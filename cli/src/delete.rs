//! `spysession delete ID|--key KEY`: remove one session, as a logout would.

use std::io::Write;

use clap::Args;

use crate::failure::Failure;
use crate::store::{self, StoreArgs};
use crate::target::TargetArgs;

/// Arguments of `delete`.
#[derive(Args, Debug)]
pub struct DeleteArgs {
    #[command(flatten)]
    target: TargetArgs,
    #[command(flatten)]
    store: StoreArgs,
}

/// Deletes the record (expired or not); an unknown session is exit 1.
/// Messages name the store key, never the id.
pub fn run(args: &DeleteArgs, out: &mut dyn Write) -> Result<(), Failure> {
    let opened = store::open(&args.store)?;
    let key = args.target.store_key();
    let deleted = opened
        .store()
        .delete(&key)
        .map_err(|e| Failure::caused(format!("cannot delete session {key}"), e))?;
    if !deleted {
        return Err(Failure::new(format!("no session {key} in the store")));
    }
    writeln!(out, "deleted session {key}")?;
    Ok(())
}
