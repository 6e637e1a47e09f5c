//! Every store passes the same suite: MemoryStore, DbmStore (durable and
//! not) and a custom store written against RawStore.

mod common;

use common::MapStore;

store_suite!(memory, (Arc::new(MemoryStore::default()), Box::new(())), inspect: true);

store_suite!(
    dbm_durable,
    {
        let dir = tempfile::tempdir().unwrap();
        let store = DbmStore::open(dir.path()).unwrap();
        (Arc::new(store), Box::new(dir))
    },
    inspect: true
);

store_suite!(
    dbm_nosync,
    {
        let dir = tempfile::tempdir().unwrap();
        let store = DbmStore::open_with(dir.path(), DbmOptions { durable: false, ..Default::default() }).unwrap();
        (Arc::new(store), Box::new(dir))
    },
    inspect: true
);

store_suite!(custom, (Arc::new(CustomStore::new(MapStore::default())), Box::new(())), inspect: false);
