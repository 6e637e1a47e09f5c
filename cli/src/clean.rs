//! `spysession clean`: remove every expired session.
//!
//! Prints one summary line (`removed N expired sessions in X ms`) so that a
//! cron mail stays one line long. On a terminal, a clean still running after
//! a second also shows a progress bar on stderr, erased when it ends.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use spysession_core::{DbmStore, Inspect, Sweep};

use crate::failure::Failure;
use crate::render::{self, write_json};
use crate::store::{self, Opened, StoreArgs, TimeArgs};

/// Arguments of `clean`.
#[derive(Args, Debug)]
pub struct CleanArgs {
    #[command(flatten)]
    store: StoreArgs,
    #[command(flatten)]
    time: TimeArgs,
    /// Write the summary as JSON: `{"removed", "ms", "now"}`.
    #[arg(long)]
    json: bool,
    /// Milliseconds a clean must run before the progress bar appears (tests
    /// set 0 to see it on a small store).
    #[arg(long, hide = true, value_name = "MS", default_value_t = 1000)]
    progress_after_ms: u64,
}

/// Removes the expired records: from a DbmStore in batches, reporting
/// progress on a terminal; from a Redis with RedisStore's own clean, which
/// removes those whose expiry has passed at `now` but whose TTL has not yet
/// (one pass over the 256 buckets' expiry sets, so no bar).
pub fn run(args: &CleanArgs, out: &mut dyn Write) -> Result<(), Failure> {
    let opened = store::open(&args.store)?;
    let now = args.time.now();
    let start = Instant::now();
    let removed = match &opened {
        Opened::Dbm(store, _) => clean_dbm(store, now, start, args),
        Opened::Redis(store, _) => store.clean(now),
    }
    .map_err(|e| Failure::caused("cannot clean the store", e))?;
    let ms = start.elapsed().as_millis();
    if args.json {
        let document = json!({ "removed": removed, "ms": ms, "now": render::float(now) });
        return write_json(out, &document);
    }
    writeln!(out, "removed {removed} expired sessions in {ms} ms")?;
    Ok(())
}

fn clean_dbm(
    store: &DbmStore,
    now: f64,
    start: Instant,
    args: &CleanArgs,
) -> spysession_core::Result<u64> {
    let mut progress = Progress {
        store,
        now,
        start,
        delay: Duration::from_millis(args.progress_after_ms),
        terminal: std::io::stderr().is_terminal(),
        bar: None,
    };
    let removed = store.clean_with_progress(now, |removed| progress.update(removed));
    progress.finish();
    removed
}

/// Whether a clean that has run for `elapsed` shows a bar: only on a
/// terminal, and only once it has lasted `delay`.
fn shows_bar(terminal: bool, elapsed: Duration, delay: Duration) -> bool {
    terminal && elapsed >= delay
}

/// The progress bar of one clean, made only when it is to be shown.
struct Progress<'a> {
    store: &'a DbmStore,
    now: f64,
    start: Instant,
    delay: Duration,
    terminal: bool,
    bar: Option<ProgressBar>,
}

impl Progress<'_> {
    /// Called after each batch with the running total removed.
    fn update(&mut self, removed: u64) {
        if let Some(bar) = &self.bar {
            bar.set_position(removed);
            return;
        }
        if !shows_bar(self.terminal, self.start.elapsed(), self.delay) {
            return;
        }
        // The bar's length: what is removed plus what is still expired. The
        // count reads the expiry index once, only for a clean already long.
        let bar = match self.store.list() {
            Ok(entries) => {
                let left = entries.iter().filter(|(_, t)| self.now >= *t).count() as u64;
                ProgressBar::new(removed + left)
            }
            Err(_) => ProgressBar::no_length(),
        };
        bar.set_style(
            ProgressStyle::with_template(
                "{wide_bar} {pos}/{len} expired sessions removed, {eta} left",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_position(removed);
        bar.tick();
        self.bar = Some(bar);
    }

    /// Erases the bar, if one was shown, before the summary line.
    fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bar_only_on_a_terminal_for_a_long_clean() {
        let second = Duration::from_secs(1);
        assert!(!shows_bar(false, Duration::from_secs(60), second));
        assert!(!shows_bar(true, Duration::from_millis(999), second));
        assert!(shows_bar(true, second, second));
    }
}
