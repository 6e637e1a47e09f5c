//! A store that is not there is an error, and is never created.

mod common;

use common::*;

const COMMANDS: [&[&str]; 5] = [
    &["clean"],
    &["stats"],
    &["list"],
    &["show", "0123456789abcdef0123456789abcdef"],
    &["delete", "0123456789abcdef0123456789abcdef"],
];

#[test]
fn a_missing_directory_exits_1_and_is_not_created() {
    let parent = tempfile::tempdir().unwrap();
    let missing = parent.path().join("sessions");
    for cmd in COMMANDS {
        let out = run(&[cmd, &["--store", arg(&missing)]].concat());
        assert_eq!(out.status.code(), Some(1), "{cmd:?}");
        assert!(
            stderr(&out).contains("no session store at") && stderr(&out).contains("does not exist"),
            "{cmd:?}: {}",
            stderr(&out)
        );
        assert!(out.stdout.is_empty());
        assert!(!missing.exists(), "{cmd:?} created the store");
    }
}

#[test]
fn an_empty_directory_exits_1_and_stays_empty() {
    let dir = tempfile::tempdir().unwrap();
    for cmd in COMMANDS {
        let out = run(&[cmd, &["--store", arg(dir.path())]].concat());
        assert_eq!(out.status.code(), Some(1), "{cmd:?}");
        assert!(
            stderr(&out).contains("holds no data.mdb"),
            "{}",
            stderr(&out)
        );
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert!(left.is_empty(), "{cmd:?} wrote {left:?}");
    }
}

#[test]
fn a_file_instead_of_a_directory_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("data.mdb");
    std::fs::write(&file, b"x").unwrap();
    let out = run(&["stats", "--store", arg(&file)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("not a directory"), "{}", stderr(&out));
}

#[test]
fn no_store_option_is_a_usage_error() {
    for cmd in COMMANDS {
        let out = run(cmd);
        assert_eq!(out.status.code(), Some(2), "{cmd:?}");
        assert!(stderr(&out).contains("--store"), "{}", stderr(&out));
    }
}

#[test]
fn a_dbm_url_names_the_same_store_as_its_directory() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path());
    let (live, expired) = fill(&store, 3, 2);
    let url = format!("dbm://{}", arg(dir.path()));
    let out = run(&["list", "--store", &url, "--now", "1700000000"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_listed(&stdout(&out), &live, &expired);
    let missing = dir.path().join("missing");
    let out = run(&["stats", "--store", &format!("dbm://{}", arg(&missing))]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!missing.exists(), "a dbm:// URL created the store");
}
