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

/// Ext values of every kind within their documented ranges.
fn ext_value() -> impl Strategy<Value = ext::ExtValue> {
    use ext::{Date, DateTime, Decimal, ExtValue, Time, TimeDelta};
    let date =
        (1u16..=9999, 1u8..=12, 1u8..=28).prop_map(|(year, month, day)| Date { year, month, day });
    let offset = prop_oneof![
        Just(None),
        (-86_399_999_999i64..=86_399_999_999).prop_map(Some)
    ];
    let time = (
        0u8..24,
        0u8..60,
        0u8..60,
        0u32..1_000_000,
        any::<bool>(),
        offset,
    )
        .prop_map(
            |(hour, minute, second, microsecond, fold, utc_offset)| Time {
                hour,
                minute,
                second,
                microsecond,
                fold,
                utc_offset,
            },
        );
    let digits = "[1-9][0-9]{0,40}|0";
    let decimal = prop_oneof![
        (any::<bool>(), any::<i64>(), digits).prop_map(|(negative, exponent, digits)| {
            Decimal::Finite {
                negative,
                exponent,
                digits,
            }
        }),
        any::<bool>().prop_map(|negative| Decimal::Infinity { negative }),
        (any::<bool>(), any::<bool>(), "|[1-9][0-9]{0,5}").prop_map(
            |(negative, signaling, payload)| Decimal::NaN {
                negative,
                signaling,
                payload
            }
        ),
    ];
    let big = (
        prop_oneof![Just(0x01u8), Just(0x7f), Just(0x80), Just(0xfe)],
        prop::collection::vec(any::<u8>(), 8..30),
    )
        .prop_map(|(first, rest)| [vec![first], rest].concat());
    prop_oneof![
        prop::collection::vec(value(), 0..5).prop_map(ExtValue::Tuple),
        prop::collection::vec(value(), 0..5).prop_map(ExtValue::Set),
        prop::collection::vec(value(), 0..5).prop_map(ExtValue::FrozenSet),
        (date.clone(), time.clone())
            .prop_map(|(date, time)| ExtValue::DateTime(DateTime { date, time })),
        date.prop_map(ExtValue::Date),
        time.prop_map(ExtValue::Time),
        (-999_999_999i32..=999_999_999, 0u32..86_400, 0u32..1_000_000).prop_map(
            |(days, seconds, microseconds)| ExtValue::TimeDelta(TimeDelta {
                days,
                seconds,
                microseconds
            })
        ),
        any::<[u8; 16]>().prop_map(ExtValue::Uuid),
        decimal.prop_map(ExtValue::Decimal),
        big.prop_map(ExtValue::BigInt),
        (any::<[u8; 32]>(), prop::collection::vec(any::<u8>(), 0..40))
            .prop_map(|(tag, pickle)| ExtValue::Pickle { tag, pickle }),
    ]
}

proptest! {
    #[test]
    fn values_round_trip(v in value()) {
        prop_assert_eq!(Value::from_msgpack(&v.to_msgpack()).unwrap(), v.clone());
        let record = Record::new(1.0, 2.0, [("k".to_string(), v)].into_iter().collect());
        let bytes = record.encode();
        prop_assert_eq!(Record::decode(&bytes).unwrap(), record);
    }

    #[test]
    fn arbitrary_bytes_never_decode_into_a_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = Record::decode(&bytes);
        let _ = Value::from_msgpack(&bytes);
    }

    /// The record reader (the engine's only decoder) reads every record we
    /// write whose times are numbers, as serde (the oracle) does, and
    /// refuses the others, as serde does.
    #[test]
    fn the_reader_reads_what_we_write_and_agrees_with_serde(
        pairs in prop::collection::vec((".{0,30}", value()), 0..12),
        times in (any::<f64>(), any::<f64>(), any::<f64>()),
    ) {
        let data: Data = pairs.into_iter().collect();
        let record = Record { version: FORMAT_VERSION, created: times.0, accessed: times.1, expires_at: times.2, data };
        let bytes = record.encode();
        let valid_times = times.0.is_finite() && times.1.is_finite() && !times.2.is_nan();
        match (Record::decode(&bytes), Record::decode_with_serde(&bytes)) {
            (Ok(read), Ok(oracle)) => {
                prop_assert!(valid_times);
                prop_assert_eq!(&read, &oracle);
                prop_assert_eq!(&read, &record);
            }
            (Err(_), Err(_)) => prop_assert!(!valid_times),
            (read, oracle) => prop_assert!(false, "reader {:?}, serde {:?}", read.is_ok(), oracle.is_ok()),
        }
    }

    /// ... and on any bytes after a valid header, the reader never takes
    /// what serde refuses, nor reads it differently. (It may refuse what
    /// serde takes: the record as a map keyed by field name.)
    #[test]
    fn the_reader_never_differs_from_serde(bytes in prop::collection::vec(any::<u8>(), 0..80)) {
        let mut input = Record::new(1.0, 2.0, Data::new()).encode();
        input.pop();
        input.extend_from_slice(&bytes);
        for candidate in [&input[..], &bytes[..]] {
            if let Ok(read) = Record::decode(candidate) {
                let oracle = Record::decode_with_serde(candidate);
                let oracle = oracle.as_ref().expect("serde refuses what the reader takes");
                prop_assert_eq!(read.encode(), oracle.encode());
            }
        }
    }

    /// The ext values spysession defines: every one encodes into data its
    /// decoder reads back as itself, and arbitrary data never panics it
    /// (accepted data re-encodes to the same bytes).
    #[test]
    fn ext_values_round_trip(v in ext_value()) {
        let data = v.encode();
        prop_assert_eq!(ext::ExtValue::decode(v.code(), &data).unwrap(), Some(v));
    }

    #[test]
    fn arbitrary_ext_data_never_panics(code in 0i8..16, data in prop::collection::vec(any::<u8>(), 0..64)) {
        if let Ok(Some(v)) = ext::ExtValue::decode(code, &data) {
            prop_assert_eq!(v.code(), code);
            // Tuple and set elements are MessagePack, which has several
            // encodings of one value; every other layout has exactly one.
            if !matches!(v, ext::ExtValue::Tuple(_) | ext::ExtValue::Set(_) | ext::ExtValue::FrozenSet(_)) {
                prop_assert_eq!(v.encode(), data);
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
