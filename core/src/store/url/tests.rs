//! The store URL parser: every form, every error, and no password in any message.

use std::path::PathBuf;

use super::*;
use crate::error::Error;

fn err(url: &str) -> Error {
    match StoreUrl::parse(url) {
        Ok(parsed) => panic!("{url} parsed as {parsed:?}"),
        Err(e) => e,
    }
}

/// The option an error names, and its text.
fn config_err(url: &str) -> (&'static str, String) {
    match err(url) {
        e @ Error::Config { option, .. } => (option, e.to_string()),
        other => panic!("{url}: not a config error: {other:?}"),
    }
}

#[test]
fn memory_forms() {
    for url in ["memory:", "memory://", "MEMORY:"] {
        assert!(
            matches!(
                StoreUrl::parse(url).unwrap(),
                StoreUrl::Memory { max_sessions: None }
            ),
            "{url}"
        );
    }
    assert!(matches!(
        StoreUrl::parse("memory:?max_sessions=500").unwrap(),
        StoreUrl::Memory {
            max_sessions: Some(500)
        }
    ));
    assert_eq!(config_err("memory:?max_sessions=0").0, "max_sessions");
    assert_eq!(config_err("memory:?max_sessions=lots").0, "max_sessions");
    let (option, text) = config_err("memory:/some/path");
    assert_eq!(option, "url");
    assert!(text.contains("/some/path"), "{text}");
}

fn dbm(url: &str) -> (PathBuf, DbmOptions) {
    match StoreUrl::parse(url).unwrap() {
        StoreUrl::Dbm { path, options } => (path, options),
        other => panic!("{url} parsed as {other:?}"),
    }
}

#[test]
fn bare_paths_are_dbm_stores_taken_verbatim() {
    for path in [
        "/var/lib/site/sessions",
        "./sessions",
        "sessions",
        "odd:name",
        "/a dir/with?query%20",
    ] {
        let (parsed, options) = dbm(path);
        assert_eq!(parsed, PathBuf::from(path));
        assert!(options.durable);
        assert_eq!(options.map_size, DbmOptions::default().map_size);
    }
}

#[test]
fn dbm_urls_decode_their_path_and_take_options() {
    assert_eq!(dbm("dbm:///var/lib/x").0, PathBuf::from("/var/lib/x"));
    assert_eq!(
        dbm("dbm://localhost/var/lib/x").0,
        PathBuf::from("/var/lib/x")
    );
    assert_eq!(dbm("dbm:relative/dir").0, PathBuf::from("relative/dir"));
    assert_eq!(
        dbm("dbm:///with%20space+plus").0,
        PathBuf::from("/with space+plus")
    );
    let (_, options) = dbm("dbm:///x?durable=false&map_size=1048576");
    assert!(!options.durable);
    assert_eq!(options.map_size, 1 << 20);
    for (word, value) in [("true", true), ("0", false), ("YES", true), ("off", false)] {
        assert_eq!(
            dbm(&format!("dbm:///x?durable={word}")).1.durable,
            value,
            "{word}"
        );
    }
}

#[test]
fn dbm_errors_name_the_bad_part() {
    let (option, text) = config_err("dbm:///x?durable=maybe");
    assert_eq!(option, "durable");
    assert!(text.contains("maybe"), "{text}");
    let (option, text) = config_err("dbm:///x?map_size=-1");
    assert_eq!(option, "map_size");
    assert!(text.contains("-1"), "{text}");
    let (option, text) = config_err("dbm:///x?colour=blue");
    assert_eq!(option, "url");
    assert!(
        text.contains("\"colour\"") && text.contains("durable, map_size"),
        "{text}"
    );
    let (_, text) = config_err("dbm://otherhost/x");
    assert!(text.contains("otherhost"), "{text}");
    assert!(config_err("dbm:").1.contains("directory"));
    assert!(config_err("dbm:///bad%zz").1.contains('%'));
    assert!(config_err("dbm:///x?durable=true&durable=false")
        .1
        .contains("twice"));
    assert!(config_err("dbm:///x#frag").1.contains("fragment"));
}

#[test]
fn empty_and_unknown_schemes_are_refused() {
    assert!(config_err("").1.contains("empty"));
    assert!(config_err("   ").1.contains("empty"));
    let (option, text) = config_err("ftp://host/x");
    assert_eq!(option, "url");
    assert!(text.contains("\"ftp\""), "{text}");
}

#[test]
fn options_beside_the_url_extend_and_override_the_query() {
    let parsed = StoreUrl::parse_with(
        "dbm:///x?durable=true",
        &[("durable", "false"), ("map_size", "4096")],
    )
    .unwrap();
    let StoreUrl::Dbm { options, .. } = parsed else {
        panic!("not dbm")
    };
    assert!(!options.durable);
    assert_eq!(options.map_size, 4096);
    let parsed = StoreUrl::parse_with("/plain/dir", &[("durable", "off")]).unwrap();
    assert!(matches!(
        parsed,
        StoreUrl::Dbm {
            options: DbmOptions { durable: false, .. },
            ..
        }
    ));
    let parsed = StoreUrl::parse_with("memory:", &[("max_sessions", "7")]).unwrap();
    assert!(matches!(
        parsed,
        StoreUrl::Memory {
            max_sessions: Some(7)
        }
    ));
    assert!(StoreUrl::parse_with("memory:", &[("durable", "false")])
        .unwrap_err()
        .to_string()
        .contains("durable"));
}

#[test]
fn open_makes_the_named_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sessions");
    let store = StoreUrl::parse(&format!("dbm://{}?durable=false", path.display()))
        .unwrap()
        .open()
        .unwrap();
    assert_eq!(store.inspect().unwrap().len().unwrap(), 0);
    assert!(
        path.join("data.mdb").is_file(),
        "the DbmStore was created at the path"
    );
    let store = StoreUrl::parse("memory:").unwrap().open().unwrap();
    assert_eq!(store.inspect().unwrap().len().unwrap(), 0);
    let file = dir.path().join("file");
    std::fs::write(&file, b"x").unwrap();
    assert!(StoreUrl::parse(file.to_str().unwrap())
        .unwrap()
        .open()
        .is_err());
}

#[test]
fn redact_hides_passwords_only() {
    for (url, shown) in [
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        (
            "redis://app:s3cr@t@db.example:6379/2",
            "redis://app:***@db.example:6379/2",
        ),
        ("redis://:hunter2@host", "redis://:***@host"),
        ("redis://user@host/1", "redis://user@host/1"),
        (
            "unix:///run/redis.sock?db=1&pass=x",
            "unix:///run/redis.sock?db=1&pass=***",
        ),
        ("/plain/path", "/plain/path"),
    ] {
        assert_eq!(redact_url(url), shown, "{url}");
    }
}

#[cfg(feature = "redis")]
mod redis {
    use std::time::Duration;

    use super::*;

    fn redis(url: &str) -> (String, RedisOptions, Option<PathBuf>) {
        match StoreUrl::parse(url).unwrap() {
            StoreUrl::Redis {
                url,
                options,
                tls_root_cert,
            } => (url, options, tls_root_cert),
            other => panic!("{url} parsed as {other:?}"),
        }
    }

    #[test]
    fn tcp_forms_are_rebuilt_for_the_client() {
        assert_eq!(redis("redis://localhost").0, "redis://localhost:6379/0");
        assert_eq!(redis("redis://h:6380/3").0, "redis://h:6380/3");
        assert_eq!(redis("redis://u:p%40ss@h/2").0, "redis://u:p%40ss@h:6379/2");
        assert_eq!(redis("redis://[::1]:7000").0, "redis://[::1]:7000/0");
        assert_eq!(redis("rediss://h/1").0, "rediss://h:6379/1");
        let (_, options, root) = redis(
            "rediss://h?prefix=site:&connect_timeout=0.5&command_timeout=3&pool_size=2&tls_root_cert=/etc/ca.pem",
        );
        assert_eq!(options.prefix, "site:");
        assert_eq!(options.connect_timeout, Duration::from_millis(500));
        assert_eq!(options.command_timeout, Duration::from_secs(3));
        assert_eq!(options.pool_size, 2);
        assert_eq!(root, Some(PathBuf::from("/etc/ca.pem")));
        assert_eq!(redis("redis://h").1.prefix, RedisOptions::default().prefix);
    }

    #[test]
    fn unix_forms_pass_db_user_and_pass_to_the_client() {
        assert_eq!(redis("unix:///run/redis.sock").0, "unix:///run/redis.sock");
        assert_eq!(
            redis("redis+unix:///run/r.sock?db=2&pass=x&prefix=p:").0,
            "redis+unix:///run/r.sock?db=2&pass=x"
        );
        assert_eq!(
            redis("unix:///run/r.sock?password=y").0,
            "unix:///run/r.sock?pass=y"
        );
        assert_eq!(redis("unix:///run/r.sock?prefix=p:").1.prefix, "p:");
        assert!(config_err("unix://relative.sock").1.contains("absolute"));
        assert!(config_err("unix:///r.sock?db=x").1.contains("database"));
    }

    #[test]
    fn tcp_errors_name_the_bad_part() {
        let (option, text) = config_err("redis://h:port/0");
        assert_eq!(option, "url");
        assert!(text.contains("\"port\""), "{text}");
        assert!(config_err("redis://h:0").1.contains("bad port"));
        assert!(config_err("redis://h:70000").1.contains("70000"));
        assert!(config_err("redis://h/zero").1.contains("\"zero\""));
        assert!(config_err("redis://h/1/extra").1.contains("database"));
        assert!(config_err("redis://").1.contains("host"));
        assert!(config_err("redis:h").1.contains("//"));
        assert!(config_err("redis://[::1/0").1.contains("unclosed"));
        assert!(config_err("redis://h?timeout=1").1.contains("\"timeout\""));
        assert_eq!(
            config_err("redis://h?connect_timeout=0").0,
            "connect_timeout"
        );
        assert_eq!(
            config_err("redis://h?command_timeout=soon").0,
            "command_timeout"
        );
        assert_eq!(config_err("redis://h?pool_size=0").0, "pool_size");
        assert_eq!(
            config_err("redis://h?tls_root_cert=/ca.pem").0,
            "tls_root_cert"
        );
    }

    #[test]
    fn no_error_echoes_a_password() {
        let secret = "Sup3rS3cret";
        for url in [
            format!("redis://app:{secret}@h:bad/0"),
            format!("redis://app:{secret}@h/notadb"),
            format!("redis://app:{secret}@h?bogus=1"),
            format!("redis://app:{secret}@h?pool_size=0"),
            format!("rediss://app:{secret}@h?tls_root_cert=/nonexistent.pem"),
            format!("redis+sentinel://app:{secret}@h:1/"),
            format!("redis+sentinel://app:{secret}@h:x/m"),
            format!("redis+cluster://app:{secret}@h/3"),
            format!("redis+cluster://app:%zz{secret}@h"),
            format!("unix:///r.sock?pass={secret}&db=x"),
            format!("unix:///r.sock?pass={secret}&nope=1"),
            format!("ftp://app:{secret}@h"),
            format!("redis://app:{secret}@h#frag"),
        ] {
            let text = match StoreUrl::parse(&url).and_then(|u| u.open()) {
                Ok(_) => panic!("{url} was accepted"),
                Err(e) => format!("{e} {e:?}"),
            };
            assert!(!text.contains(secret), "{url} -> {text}");
        }
        let parsed = StoreUrl::parse(&format!("redis+sentinel://app:{secret}@h/m")).unwrap();
        assert!(!format!("{parsed} {parsed:?}").contains(secret));
        let parsed = StoreUrl::parse(&format!("redis://app:{secret}@h/1")).unwrap();
        assert!(!format!("{parsed} {parsed:?}").contains(secret));
        assert_eq!(parsed.to_string(), "redis://app:***@h:6379/1");
    }

    #[test]
    fn sentinel_urls_parse_fully() {
        let parsed =
            StoreUrl::parse("redis+sentinel://u:p%21@s1:26380,s2,[::1]:1/mymaster/4?prefix=x:")
                .unwrap();
        let StoreUrl::RedisSentinel {
            sentinels,
            primary,
            db,
            auth,
            tls,
            options,
            ..
        } = parsed
        else {
            panic!("not a sentinel URL")
        };
        assert_eq!(
            sentinels,
            [("s1", 26380), ("s2", 26379), ("::1", 1)].map(|(host, port)| RedisNode {
                host: host.into(),
                port
            })
        );
        assert_eq!(primary, "mymaster");
        assert_eq!(db, 4);
        assert_eq!(
            auth,
            RedisAuth {
                username: Some("u".into()),
                password: Some("p!".into())
            }
        );
        assert!(!tls);
        assert_eq!(options.prefix, "x:");
        assert!(matches!(
            StoreUrl::parse("rediss+sentinel://s/m").unwrap(),
            StoreUrl::RedisSentinel {
                tls: true,
                db: 0,
                ..
            }
        ));
        assert!(config_err("redis+sentinel://s1,s2").1.contains("primary"));
        assert!(config_err("redis+sentinel://s1,,s2/m")
            .1
            .contains("host is missing"));
        assert!(config_err("redis+sentinel://s/m/x").1.contains("database"));
    }

    #[test]
    fn cluster_urls_parse_fully() {
        let parsed = StoreUrl::parse("redis+cluster://:pw@n1,n2:7001?pool_size=4").unwrap();
        let StoreUrl::RedisCluster {
            nodes,
            auth,
            tls,
            options,
            ..
        } = parsed
        else {
            panic!("not a cluster URL")
        };
        assert_eq!(
            nodes,
            [("n1", 6379), ("n2", 7001)].map(|(host, port)| RedisNode {
                host: host.into(),
                port
            })
        );
        assert_eq!(
            auth,
            RedisAuth {
                username: None,
                password: Some("pw".into())
            }
        );
        assert!(!tls);
        assert_eq!(options.pool_size, 4);
        assert!(config_err("redis+cluster://n1/2").1.contains("no path"));
        assert!(matches!(
            StoreUrl::parse("rediss+cluster://n1").unwrap(),
            StoreUrl::RedisCluster { tls: true, .. }
        ));
    }

    #[test]
    fn sentinel_and_cluster_open_lazily_and_tls_to_them_is_unsupported() {
        for url in [
            "redis+sentinel://127.0.0.1:1/m?connect_timeout=0.2&wait_replicas=1",
            "redis+sentinel://u%40x:p%3Aw@127.0.0.1:1/m/2?connect_timeout=0.2",
            "redis+cluster://127.0.0.1:1?connect_timeout=0.2",
        ] {
            let store = StoreUrl::parse(url).unwrap().open().unwrap();
            assert!(
                matches!(
                    store.inspect().expect("a RedisStore can count").len(),
                    Err(Error::Io(_))
                ),
                "{url}"
            );
        }
        for url in ["rediss+sentinel://s/m", "rediss+cluster://n1"] {
            let e = StoreUrl::parse(url)
                .unwrap()
                .open()
                .err()
                .expect("unsupported");
            assert!(matches!(e, Error::Unsupported(_)), "{url}: {e:?}");
        }
    }

    #[test]
    fn a_redis_url_opens_lazily() {
        // Nothing listens on port 1: the store is made, the first use fails.
        let store = StoreUrl::parse("redis://127.0.0.1:1/0?connect_timeout=0.2")
            .unwrap()
            .open()
            .unwrap();
        assert!(matches!(store.inspect().unwrap().len(), Err(Error::Io(_))));
    }
}
