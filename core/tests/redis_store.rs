//! RedisStore passes the one store suite (tests/common) that MemoryStore,
//! DbmStore and custom stores pass, against a real redis-server started per
//! test, over TCP and over a unix socket. More in redis_machines.rs.
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
    len: true
);

store_suite!(
    redis_unix_socket,
    {
        let server = crate::redis_harness::RedisServer::start();
        let options = RedisOptions { prefix: "site[1]*:".into(), pool_size: 2, ..Default::default() };
        let store = RedisStore::open_with(&server.unix_url(), options).unwrap();
        (Arc::new(store), Box::new(server))
    },
    len: true
);
