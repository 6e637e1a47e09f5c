//! Replays every committed fuzz input through the same property checks the
//! libFuzzer targets run, on the stable toolchain, in `make test`.
//!
//! The inputs are `fuzz/corpus/<target>/*`: the seeds, and any input that
//! once crashed a target (kept there under its libFuzzer artifact name,
//! `crash-<sha1>`), so a fixed crash stays fixed. Fuzzing itself is
//! `make fuzz`; see docs/reliability.md.

use std::fs;
use std::path::{Path, PathBuf};

// One definition of each property, shared with the fuzz targets.
#[path = "../../fuzz/src/lib.rs"]
mod checks;

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut inputs: Vec<_> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.expect("a readable corpus entry").path();
            let bytes = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (path, bytes)
        })
        .collect();
    inputs.sort();
    assert!(inputs.len() >= 3, "{}: too few inputs", dir.display());
    inputs
}

fn replay(target: &str, check: fn(&[u8])) {
    for (path, bytes) in corpus(target) {
        // Printed before the check, so a failure names its input.
        eprintln!("replaying {}", path.display());
        check(&bytes);
    }
}

#[test]
fn cookie_header_inputs() {
    replay("cookie_header", checks::check_cookie_header);
}

#[test]
fn form_values_inputs() {
    replay("form_values", checks::check_form_values);
}

#[test]
fn session_id_inputs() {
    replay("session_id", checks::check_session_id);
}

#[test]
fn ext_decode_inputs() {
    replay("ext_decode", checks::check_ext_decode);
}

#[test]
fn record_decode_inputs() {
    replay("record_decode", checks::check_record_decode);
}

#[test]
fn value_msgpack_inputs() {
    replay("value_msgpack", checks::check_value_msgpack);
}

#[test]
fn manager_begin_inputs() {
    replay("manager_begin", checks::check_manager_begin);
}

/// The decoder seeds are worth something only while they are valid in the
/// current format: after a format change, write new ones with the core.
#[test]
fn decoder_seeds_decode_in_the_current_format() {
    for (path, bytes) in corpus("record_decode") {
        if !name_of(&path).starts_with("crash-") {
            spysession_core::Record::decode(&bytes)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
    }
    for (path, bytes) in corpus("value_msgpack") {
        if !name_of(&path).starts_with("crash-") {
            spysession_core::Value::from_msgpack(&bytes)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
    }
}

/// The id seeds cover both answers of the validator.
#[test]
fn id_seeds_include_valid_and_invalid_ids() {
    let inputs = corpus("session_id");
    assert!(inputs
        .iter()
        .any(|(_, b)| spysession_core::SessionId::is_valid(b)));
    assert!(inputs
        .iter()
        .any(|(_, b)| !spysession_core::SessionId::is_valid(b)));
}

fn name_of(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
