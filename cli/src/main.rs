//! `spysession`: the command line of spysession, for schedulers and operators.
//!
//! ```text
//! spysession clean  --store URL [--now SECONDS] [--json]
//! spysession stats  --store URL [--now SECONDS] [--json]
//! spysession list   --store URL [--expired] [--limit N] [--offset N] [--json]
//! spysession show   ID|--key KEY --store URL [--json]
//! spysession delete ID|--key KEY --store URL
//! ```
//!
//! `URL` is a store URL (a bare directory is a DbmStore; `dbm:///path`,
//! `redis://host/0?prefix=site:`, `rediss://`, `unix:///path.sock`). The
//! older `--redis URL [--prefix PREFIX]` still works instead of `--store`. On Redis, `stats` has no
//! disk or map figures, and `clean` removes what the Redis TTL has not yet.
//!
//! Stores keep sessions by store key (SHA-256 of the id, see
//! `spysession_core::StoreKey`), never by id: `list` shows store keys;
//! `show` and `delete` take a session id (hashed into its store key) or
//! `--key KEY`, and name the store key in what they print.
//!
//! Exit codes: 0 success, 1 a runtime error (the store cannot be opened, an
//! unknown session, an I/O error), 2 a usage error (a bad option, a
//! malformed id or key).
//! Every command is safe to run while web processes use the store: LMDB lets
//! any number of processes read and write one directory at once, and `clean`
//! removes at most 5000 records per write transaction.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod clean;
mod delete;
mod failure;
mod list;
mod migrate;
mod render;
mod show;
mod stats;
mod store;
mod target;
mod time;

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use failure::Failure;

/// Clean, inspect and edit a spysession store.
#[derive(Parser)]
#[command(name = "spysession", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Remove every expired session (run it daily from cron or a systemd timer).
    Clean(clean::CleanArgs),
    /// Show how many sessions the store holds, how many are expired, and its size.
    Stats(stats::StatsArgs),
    /// List the sessions' store keys with their expiry, in key order.
    List(list::ListArgs),
    /// Show one session: its times and every key with its value.
    Show(show::ShowArgs),
    /// Delete one session (its user is logged out).
    Delete(delete::DeleteArgs),
    /// Move a Redis prefix's sessions from spysession 0.1's layout to this one (once).
    Migrate(migrate::MigrateArgs),
}

fn main() -> ExitCode {
    // Usage errors exit 2 here (clap's convention), with clap's message.
    let cli = Cli::parse();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let result = match cli.command {
        Command::Clean(args) => clean::run(&args, &mut out),
        Command::Stats(args) => stats::run(&args, &mut out),
        Command::List(args) => list::run(&args, &mut out),
        Command::Show(args) => show::run(&args, &mut out),
        Command::Delete(args) => delete::run(&args, &mut out),
        Command::Migrate(args) => migrate::run(&args, &mut out),
    }
    .and_then(|()| out.flush().map_err(Failure::from));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // `spysession list | head`: the reader left; that is not an error.
        Err(failure) if failure.is_broken_pipe() => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("spysession: error: {failure}");
            ExitCode::from(1)
        }
    }
}
