//! The layouts' bytes, round trips and the strict decoder's refusals.

use super::*;

fn round_trip(value: ExtValue) -> Vec<u8> {
    let data = value.encode();
    assert_eq!(
        ExtValue::decode(value.code(), &data).unwrap(),
        Some(value.clone())
    );
    data
}

#[test]
fn layouts_are_the_documented_bytes() {
    let dt = DateTime {
        date: Date {
            year: 2024,
            month: 2,
            day: 29,
        },
        time: Time {
            hour: 13,
            minute: 5,
            second: 9,
            microsecond: 123_456,
            fold: false,
            utc_offset: Some(3_600_000_000),
        },
    };
    assert_eq!(
        round_trip(ExtValue::DateTime(dt)),
        [
            0x07, 0xe8, 2, 29, 13, 5, 9, 0x00, 0x01, 0xe2, 0x40, 0x02, 0, 0, 0, 0, 0xd6, 0x93,
            0xa4, 0x00
        ]
    );
    let td = TimeDelta {
        days: -1,
        seconds: 86_399,
        microseconds: 1,
    };
    assert_eq!(
        round_trip(ExtValue::TimeDelta(td)),
        [0xff, 0xff, 0xff, 0xff, 0, 1, 0x51, 0x7f, 0, 0, 0, 1]
    );
    let d = Decimal::Finite {
        negative: true,
        exponent: -2,
        digits: "150".into(),
    };
    assert_eq!(
        round_trip(ExtValue::Decimal(d)),
        [1, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, b'1', b'5', b'0']
    );
    let tuple = ExtValue::Tuple(vec![Value::Int(1), Value::Str("a".into())]);
    assert_eq!(round_trip(tuple), [0x92, 0x01, 0xa1, b'a']);
    // -(2**64): 0xff followed by eight zero bytes.
    assert_eq!(
        round_trip(ExtValue::BigInt(vec![0xff, 0, 0, 0, 0, 0, 0, 0, 0])),
        [0xff, 0, 0, 0, 0, 0, 0, 0, 0]
    );
}

#[test]
fn every_kind_round_trips() {
    let naive = Time {
        hour: 0,
        minute: 0,
        second: 0,
        microsecond: 0,
        fold: true,
        utc_offset: None,
    };
    for value in [
        ExtValue::Date(Date {
            year: 1,
            month: 1,
            day: 1,
        }),
        ExtValue::Time(naive),
        ExtValue::Time(Time {
            utc_offset: Some(-DAY_MICROS + 1),
            ..naive
        }),
        ExtValue::Uuid([7; 16]),
        ExtValue::Set(vec![]),
        ExtValue::FrozenSet(vec![Value::Ext(EXT_TUPLE, vec![0x90])]),
        ExtValue::Decimal(Decimal::Infinity { negative: true }),
        ExtValue::Decimal(Decimal::NaN {
            negative: false,
            signaling: true,
            payload: "12".into(),
        }),
        ExtValue::Decimal(Decimal::Finite {
            negative: true,
            exponent: 0,
            digits: "0".into(),
        }),
        ExtValue::BigInt(vec![0x01, 0, 0, 0, 0, 0, 0, 0, 0]),
        ExtValue::Pickle {
            tag: [9; 32],
            pickle: vec![0x80, 4],
        },
    ] {
        round_trip(value);
    }
}

#[test]
fn malformed_data_is_an_error() {
    let cases: &[(i8, &[u8])] = &[
        (EXT_DATE, &[0x07, 0xe7, 2, 29]), // 2023 is no leap year
        (EXT_DATE, &[0, 0, 1, 1]),        // year 0
        (EXT_DATE, &[0x07, 0xe8, 2]),     // short
        (EXT_TIME, &[24, 0, 0, 0, 0, 0, 0, 0]),
        (EXT_TIME, &[0, 0, 0, 0, 0x0f, 0x42, 0x40, 0]), // 1000000 µs
        (EXT_TIME, &[0, 0, 0, 0, 0, 0, 0, 4]),          // unknown flag
        (EXT_TIME, &[0, 0, 0, 0, 0, 0, 0, 2]),          // aware, no offset
        (EXT_TIME, &[0, 0, 0, 0, 0, 0, 0, 0, 0]),       // trailing byte
        (EXT_TIMEDELTA, &[0, 0, 0, 0, 0, 1, 0x51, 0x80, 0, 0, 0, 0]),
        (EXT_UUID, &[0; 15]),
        (EXT_DECIMAL, &[2, 0, 0, 0, 0, 0, 0, 0, 0, 0, b'1']),
        (EXT_DECIMAL, &[0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
        (EXT_DECIMAL, &[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, b'0', b'1']),
        (EXT_DECIMAL, &[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, b'x']),
        (EXT_DECIMAL, &[0, 1, 0, 0, 0, 0, 0, 0, 0, 0, b'1']),
        (EXT_DECIMAL, &[0, 4, 0, 0, 0, 0, 0, 0, 0, 0]),
        (EXT_BIGINT, &[1, 2, 3]),
        (EXT_BIGINT, &[0, 0x7f, 0, 0, 0, 0, 0, 0, 0, 0]),
        (EXT_BIGINT, &[0, 0xff, 0, 0, 0, 0, 0, 0, 0]), // a u64
        (EXT_TUPLE, &[0xc1]),
        (EXT_TUPLE, &[0x01]),
        (EXT_SET, &[0x91]),
        (EXT_PICKLE, &[0; 31]),
    ];
    for (code, data) in cases {
        let err = ExtValue::decode(*code, data).unwrap_err();
        assert_eq!(err.code, *code, "{data:?}");
    }
}

#[test]
fn other_codes_are_opaque() {
    assert_eq!(ExtValue::decode(42, &[1, 2]).unwrap(), None);
    assert_eq!(ExtValue::decode(-1, &[]).unwrap(), None);
    assert!(!is_reserved(42) && is_reserved(EXT_BIGINT) && is_reserved(31));
}

#[test]
fn set_elements_sort_by_their_bytes() {
    let mut items = vec![Value::Str("b".into()), Value::Int(2), Value::Int(1)];
    ExtValue::sort_set_elements(&mut items);
    assert_eq!(
        items,
        vec![Value::Int(1), Value::Int(2), Value::Str("b".into())]
    );
}
