//! RedisStore passes the one store suite (tests/common) that MemoryStore,
//! DbmStore and custom stores pass, against a real redis-server started per
//! test, over TCP, over a unix socket and (feature redis-tls) over TLS. More in redis_machines.rs.
#![cfg(feature = "redis")]

mod common;
mod redis_harness;

store_suite!(
    redis_tcp,
    {
        let server = crate::redis_harness::RedisServer::start();
        let store = RedisStore::open(&server.url()).unwrap();
        (Arc::new(store), Box::new(server))
    },
    inspect: true
);

store_suite!(
    redis_unix_socket,
    {
        let server = crate::redis_harness::RedisServer::start();
        let options = RedisOptions { prefix: "site[1]*:".into(), pool_size: 2, ..Default::default() };
        let store = RedisStore::open_with(&server.unix_url(), options).unwrap();
        (Arc::new(store), Box::new(server))
    },
    inspect: true
);

#[cfg(feature = "redis-tls")]
store_suite!(
    redis_tls,
    {
        let server = crate::redis_harness::RedisServer::start_tls();
        let options = RedisOptions { tls_root_cert: Some(server.ca_pem()), ..Default::default() };
        let store = RedisStore::open_with(&server.url(), options).unwrap();
        (Arc::new(store), Box::new(server))
    },
    inspect: true
);
