//! `spysession delete ID`: remove one session, as a logout would.

use std::io::Write;

use clap::Args;
use spysession_core::SessionId;

use crate::failure::Failure;
use crate::show::parse_id;
use crate::store::{self, StoreArgs};

/// Arguments of `delete`.
#[derive(Args, Debug)]
pub struct DeleteArgs {
    /// The session id: 32 lowercase hex characters (the cookie's value).
    #[arg(value_name = "ID", value_parser = parse_id)]
    id: SessionId,
    #[command(flatten)]
    store: StoreArgs,
}

/// Deletes the record (expired or not); an unknown id is exit 1.
pub fn run(args: &DeleteArgs, out: &mut dyn Write) -> Result<(), Failure> {
    let store = store::open(&args.store)?;
    let deleted = store
        .delete(&args.id)
        .map_err(|e| Failure::caused(format!("cannot delete session {}", args.id), e))?;
    if !deleted {
        return Err(Failure::new(format!("no session {} in the store", args.id)));
    }
    writeln!(out, "deleted session {}", args.id)?;
    Ok(())
}
