//! Property tests: value round trips, and hostile request parts never
//! panic, never reach the store unvalidated, never adopt an unknown id.

use std::sync::Arc;

use proptest::prelude::*;
use spysession_core::*;

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Nil),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        ((i64::MAX as u64 + 1)..=u64::MAX).prop_map(Value::UInt),
        any::<f64>()
            .prop_filter("NaN != NaN", |f| !f.is_nan())
            .prop_map(Value::Float),
        ".*".prop_map(Value::Str),
        prop::collection::vec(any::<u8>(), 0..40).prop_map(Value::Bytes),
        (any::<i8>(), prop::collection::vec(any::<u8>(), 0..40))
            .prop_map(|(c, d)| Value::Ext(c, d)),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::List),
            prop::collection::btree_map(".*", inner, 0..8).prop_map(Value::Map),
        ]
    })
}

proptest! {
    #[test]
    fn values_round_trip(v in value()) {
        prop_assert_eq!(Value::from_msgpack(&v.to_msgpack()).unwrap(), v.clone());
        let record = Record::new(1.0, 2.0, [("k".to_string(), v)].into_iter().collect());
        prop_assert_eq!(Record::decode(&record.encode()).unwrap(), record);
    }

    #[test]
    fn arbitrary_bytes_never_decode_into_a_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = Record::decode(&bytes);
        let _ = Value::from_msgpack(&bytes);
    }

    /// `decode` reads the layout we write directly and leaves the rest to
    /// serde: on records we write, both read the same record.
    #[test]
    fn the_direct_reader_agrees_with_serde_on_what_we_write(
        pairs in prop::collection::vec((".{0,30}", value()), 0..12),
        times in (any::<f64>(), any::<f64>(), any::<f64>()),
    ) {
        let data: Data = pairs.into_iter().collect();
        let record = Record { version: FORMAT_VERSION, created: times.0, accessed: times.1, expires_at: times.2, data };
        let bytes = record.encode();
        match (Record::decode(&bytes), Record::decode_with_serde(&bytes)) {
            (Ok(fast), Ok(slow)) => {
                prop_assert_eq!(&fast, &slow);
                prop_assert_eq!(fast, record);
            }
            (Err(_), Err(_)) => prop_assert!(!(times.0.is_finite() && times.1.is_finite() && !times.2.is_nan())),
            (fast, slow) => prop_assert!(false, "decode {:?}, serde {:?}", fast.is_ok(), slow.is_ok()),
        }
    }

    /// ... and on any bytes after a valid header, the direct reader never
    /// takes what serde refuses, nor reads it differently.
    #[test]
    fn the_direct_reader_never_differs_from_serde(bytes in prop::collection::vec(any::<u8>(), 0..80)) {
        let mut input = Record::new(1.0, 2.0, Data::new()).encode();
        input.pop();
        input.extend_from_slice(&bytes);
        for candidate in [&input[..], &bytes[..]] {
            match (Record::decode(candidate), Record::decode_with_serde(candidate)) {
                (Ok(fast), Ok(slow)) => prop_assert_eq!(fast.encode(), slow.encode()),
                (Err(_), Err(_)) => {}
                (fast, slow) => prop_assert!(false, "decode {:?}, serde {:?}", fast.is_ok(), slow.is_ok()),
            }
        }
    }

    #[test]
    fn hostile_requests_give_a_fresh_session(
        cookie in prop::collection::vec(any::<u8>(), 0..300),
        query in prop::collection::vec(any::<u8>(), 0..300),
        form in prop::collection::vec(any::<u8>(), 0..300),
        path in ".*",
    ) {
        let store = Arc::new(MemoryStore::default());
        let options = Options { transports: vec![Transport::Cookie, Transport::Get, Transport::Post], ..Options::default() };
        let manager = SessionManager::new(store.clone(), options).unwrap();
        let request = Request { cookie: Some(&cookie), query: Some(&query), form: Some(&form), path: &path };
        let mut session = manager.begin(&request).unwrap();
        prop_assert!(session.is_new());
        // Strict: whatever the request carried, the id was made here.
        if let Some(id) = manager.find_id(&request) {
            prop_assert_ne!(id, session.id());
        }
        session.commit().unwrap();
        prop_assert_eq!(store.len().unwrap(), 0);
    }

    #[test]
    fn ids_planted_in_junk_are_found(prefix in "[^;]*", suffix in ".*") {
        let id = SessionId::generate();
        let header = format!("{prefix};spysession={id};{suffix}");
        let found: Vec<_> = http::cookie_values(header.as_bytes(), "spysession").collect();
        prop_assert!(found.contains(&id.to_string().as_bytes()));
    }
}
