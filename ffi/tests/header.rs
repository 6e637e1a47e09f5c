//! The committed `include/spysession.h` must be exactly what the pinned
//! cbindgen generates from this crate. `UPDATE_HEADER=1 cargo test -p
//! spysession-ffi --test header` (or `make header`) rewrites it.

use std::path::Path;

fn generate() -> String {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("ffi/cbindgen.toml is readable");
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

#[test]
fn header_states_the_crate_version() {
    let generated = generate();
    for (name, value) in [
        ("SPS_VERSION_MAJOR", env!("CARGO_PKG_VERSION_MAJOR")),
        ("SPS_VERSION_MINOR", env!("CARGO_PKG_VERSION_MINOR")),
        ("SPS_VERSION_PATCH", env!("CARGO_PKG_VERSION_PATCH")),
    ] {
        let define = format!("#define {name} {value}\n");
        assert!(generated.contains(&define), "header lacks {define:?}");
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
