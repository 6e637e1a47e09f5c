//! Link settings of the shared library: its SONAME and its exported symbols.
//!
//! The SONAME is `libspysession.so.<major>` from Cargo.toml's version, so a
//! version bump changes it only when the major does (mk/c.mk installs the
//! matching `libspysession.so.<major>.<minor>.<patch>` and its symlinks).
//! The version script exports `sps_*` only (rustc already hides the rest;
//! the script states the list, and `make test-c` checks it with `nm -D`).

use std::env;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=spysession.map");
    let os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    // ELF targets only: macOS names its dylibs with -install_name, Windows
    // has no SONAME.
    if matches!(os.as_str(), "macos" | "ios" | "windows") {
        return;
    }
    let major = env::var("CARGO_PKG_VERSION_MAJOR").expect("cargo sets CARGO_PKG_VERSION_MAJOR");
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libspysession.so.{major}");
    let dir = env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    println!("cargo:rustc-cdylib-link-arg=-Wl,--version-script={dir}/spysession.map");
}
