//! The committed `include/spysession.h` must be exactly what the pinned
//! cbindgen generates from this crate. `UPDATE_HEADER=1 cargo test -p
//! spysession-ffi --test header` (or `make header`) rewrites it.
//!
//! The version macros are written here from the crate's version (cbindgen's
//! `after_includes`), not kept as constants in the source: a version bump
//! then needs only `make header`, and the stale-header test below says so.

use std::path::Path;

/// `#define SPS_VERSION_*` for the header, from Cargo.toml's version.
fn version_macros() -> String {
    let part = |s: &str| s.parse::<u32>().expect("a numeric version part");
    let (major, minor, patch) = (
        part(env!("CARGO_PKG_VERSION_MAJOR")),
        part(env!("CARGO_PKG_VERSION_MINOR")),
        part(env!("CARGO_PKG_VERSION_PATCH")),
    );
    assert!(
        minor < 100 && patch < 100,
        "SPS_VERSION_NUMBER has two digits each"
    );
    let number = major * 10000 + minor * 100 + patch;
    let version = env!("CARGO_PKG_VERSION");
    format!(
        "\n/**\n * Major version of the library this header belongs to.\n */\n\
         #define SPS_VERSION_MAJOR {major}\n\n\
         /**\n * Minor version.\n */\n#define SPS_VERSION_MINOR {minor}\n\n\
         /**\n * Patch version.\n */\n#define SPS_VERSION_PATCH {patch}\n\n\
         /**\n * The version as a string, the same as sps_version() returns when the\n \
         * header and the library match.\n */\n#define SPS_VERSION_STRING \"{version}\"\n\n\
         /**\n * The version as one number, `major * 10000 + minor * 100 + patch`, for\n \
         * `#if SPS_VERSION_NUMBER >= ...` tests.\n */\n#define SPS_VERSION_NUMBER {number}"
    )
}

fn generate() -> String {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("ffi/cbindgen.toml is readable");
    config.after_includes = Some(version_macros());
    let bindings = cbindgen::Builder::new()
        .with_crate(crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header");
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).expect("the header is UTF-8")
}

#[test]
fn committed_header_is_up_to_date() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../include/spysession.h");
    let generated = generate();
    if std::env::var_os("UPDATE_HEADER").is_some_and(|v| v == "1") {
        std::fs::write(&path, &generated).expect("include/spysession.h is writable");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != generated {
        let line = committed
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .map_or_else(
                || committed.lines().count().min(generated.lines().count()) + 1,
                |i| i + 1,
            );
        panic!(
            "include/spysession.h is stale (first difference at line {line}): \
             run `make header` and commit the result"
        );
    }
}

/// The workspace version, read from the root Cargo.toml's text (not from
/// cargo's environment, so this checks the header against the file itself).
fn cargo_toml_version() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
    let text = std::fs::read_to_string(path).expect("the root Cargo.toml is readable");
    let section = text
        .split_once("[workspace.package]")
        .expect("Cargo.toml has [workspace.package]")
        .1;
    let line = section
        .lines()
        .find(|l| l.trim_start().starts_with("version"))
        .expect("[workspace.package] has a version");
    line.split('"')
        .nth(1)
        .expect("version = \"X.Y.Z\"")
        .to_owned()
}

#[test]
fn committed_header_states_the_cargo_toml_version() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../include/spysession.h");
    let header = std::fs::read_to_string(path).expect("include/spysession.h is readable");
    let version = cargo_toml_version();
    let parts: Vec<u32> = version.split('.').map(|p| p.parse().unwrap()).collect();
    let number = parts[0] * 10000 + parts[1] * 100 + parts[2];
    for define in [
        format!("#define SPS_VERSION_MAJOR {}\n", parts[0]),
        format!("#define SPS_VERSION_MINOR {}\n", parts[1]),
        format!("#define SPS_VERSION_PATCH {}\n", parts[2]),
        format!("#define SPS_VERSION_STRING \"{version}\"\n"),
        format!("#define SPS_VERSION_NUMBER {number}\n"),
    ] {
        assert!(
            header.contains(&define),
            "include/spysession.h lacks {define:?} (Cargo.toml says {version}): run `make header`"
        );
    }
}

/// `sps_stats` spells out the core's one list of counters, in its order.
#[test]
fn sps_stats_has_the_cores_counters_in_order() {
    let generated = generate();
    let end = generated
        .find("} sps_stats;")
        .expect("the header declares sps_stats");
    let start = generated[..end].rfind("typedef struct {").unwrap();
    let fields: Vec<&str> = generated[start..end]
        .lines()
        .filter_map(|l| l.trim().strip_prefix("uint64_t "))
        .map(|f| f.trim_end_matches(';'))
        .collect();
    assert_eq!(fields, spysession_core::StoreStats::NAMES);
}
