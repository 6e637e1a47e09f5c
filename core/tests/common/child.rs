//! Tests that need other processes (writers killed mid-commit, workers on
//! one LMDB directory) re-run their own test binary as the children: the
//! child finds its role in the environment and does its part instead of the
//! test.

use std::process::{Command, Stdio};

/// The values of the environment variables `names` when this process is a
/// child started by [`child`]; `None` in the parent (some are missing).
pub fn role<const N: usize>(names: [&str; N]) -> Option<[String; N]> {
    let values: Vec<String> = names
        .iter()
        .map(|n| std::env::var(n).ok())
        .collect::<Option<_>>()?;
    values.try_into().ok()
}

/// This test binary running only `test_name` (ignored or not: the soak
/// tests are ignored), with `env` set (the role), stderr discarded and
/// stdout piped (children report progress there).
pub fn child(test_name: &str, env: &[(&str, String)]) -> Command {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            test_name,
            "--exact",
            "--include-ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    command
}

/// Asserts that a DbmStore's expiry index and its records match one to
/// one: the check after every crash.
pub fn assert_index_matches(store: &spysession_core::DbmStore) {
    use spysession_core::Inspect as _;
    let index = store.list().unwrap();
    assert_eq!(
        index.len() as u64,
        store.len().unwrap(),
        "index and records differ in number"
    );
    for (id, expires) in &index {
        let record = store
            .get(id)
            .unwrap()
            .expect("an indexed record is present");
        assert_eq!(record.expires_at, *expires, "the index's expiry of {id:?}");
    }
}
