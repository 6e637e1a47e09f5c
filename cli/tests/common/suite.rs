//! The command's tests that hold for every store, written once and run on
//! each by [`cli_suite!`] (as `store_suite!` runs the store conformance
//! suite): `cli/tests/read_commands.rs` runs it on a DbmStore directory,
//! `cli/tests/redis.rs` on a RedisStore.

use std::any::Any;
use std::process::Output;
use std::sync::Arc;

use spysession_core::{Inspect, Store};

/// A store as a web process opened it, and the arguments that name it to
/// the command.
pub struct Site {
    /// The store, for filling and checking.
    pub store: Arc<dyn Store>,
    /// `--store DIR` or `--redis URL` (and whatever else names it).
    pub args: Vec<String>,
    /// Keeps the directory or the server alive for the test.
    pub _keep: Box<dyn Any>,
}

impl Site {
    /// The store's [`Inspect`] side, for filling and counting (every store
    /// the command reaches has one).
    pub fn inspect(&self) -> &dyn Inspect {
        self.store
            .inspect()
            .expect("a store the command reaches inspects")
    }

    /// Runs the command with `args` then the store's own arguments.
    pub fn run(&self, args: &[&str]) -> Output {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(self.args.iter().map(String::as_str));
        super::run(&all)
    }
}

/// The suite, on the store that `$site` (an expression giving a [`Site`])
/// makes afresh for each test.
#[macro_export]
macro_rules! cli_suite {
    ($name:ident, $site:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            use spysession_core::SessionId;
            use $crate::common::suite::Site;
            use $crate::common::{fill, json, keys_of, stderr, stdout, NOW};

            const NOW_ARG: &str = "1700000000";

            fn site() -> Site {
                $site
            }

            #[test]
            fn stats_of_an_empty_store_has_no_oldest_or_newest() {
                let site = site();
                let doc = json(&site.run(&["stats", "--json"]));
                assert_eq!(doc["records"], 0);
                assert_eq!(doc["oldest_expiry"], serde_json::Value::Null);
                assert_eq!(doc["newest_expiry"], serde_json::Value::Null);
            }

            #[test]
            fn list_expired_filters_and_pages_in_json() {
                let site = site();
                let (_, expired) = fill(site.inspect(), 4, 5);
                let want: Vec<String> = expired.iter().map(|k| k.to_string()).collect();
                let base = ["list", "--now", NOW_ARG, "--json"];
                let doc = json(&site.run(&[&base[..], &["--expired"]].concat()));
                assert_eq!(doc["total"], 5);
                assert_eq!(keys_of(&doc), want);
                assert!(doc["sessions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|s| s["expired"] == true));
                let page =
                    json(&site.run(
                        &[&base[..], &["--expired", "--offset", "1", "--limit", "2"]].concat(),
                    ));
                assert_eq!(
                    (page["total"].clone(), page["offset"].clone()),
                    (5.into(), 1.into())
                );
                assert_eq!(keys_of(&page), &want[1..3]);
                let all = json(&site.run(&base));
                assert_eq!(all["total"], 9);
                assert_eq!(all["sessions"].as_array().unwrap().len(), 9);
            }

            #[test]
            fn show_and_delete_of_an_unknown_id_exit_1_with_a_message() {
                let site = site();
                fill(site.inspect(), 2, 0);
                let unknown = SessionId::generate();
                let (id, key) = (unknown.to_string(), unknown.store_key().to_string());
                for cmd in ["show", "delete"] {
                    for args in [vec![cmd, &id], vec![cmd, "--key", &key]] {
                        let out = site.run(&args);
                        assert_eq!(out.status.code(), Some(1), "{args:?}");
                        assert!(out.stdout.is_empty(), "{args:?}");
                        let err = stderr(&out);
                        assert!(
                            err.contains(&format!("no session {key} in the store")),
                            "{args:?}: {err}"
                        );
                        assert!(!err.contains(&id), "the id is never printed: {err}");
                    }
                }
                assert_eq!(site.inspect().len().unwrap(), 2, "nothing deleted");
            }

            #[test]
            fn delete_by_key_removes_exactly_that_session() {
                let site = site();
                let (live, _) = fill(site.inspect(), 3, 0);
                let key = live[1].to_string();
                let out = site.run(&["delete", "--key", &key]);
                assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
                assert_eq!(stdout(&out), format!("deleted session {}\n", live[1]));
                assert!(site.store.load(&live[1], NOW).unwrap().is_none());
                assert!(site.store.load(&live[0], NOW).unwrap().is_some());
                assert!(site.store.load(&live[2], NOW).unwrap().is_some());
                let again = site.run(&["delete", "--key", &key]);
                assert_eq!(
                    again.status.code(),
                    Some(1),
                    "a second delete finds nothing"
                );
            }
        }
    };
}
