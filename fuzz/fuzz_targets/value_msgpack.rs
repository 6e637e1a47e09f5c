//! `Value::from_msgpack` on arbitrary bytes: refused without panicking, or
//! accepted and then `to_msgpack` followed by `from_msgpack` gives the same
//! value (floats compared bit for bit) and the same bytes.

#![no_main]

use libfuzzer_sys::fuzz_target;
use spysession_core::Value;
use spysession_fuzz::same_value;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = Value::from_msgpack(data) else {
        return;
    };
    let encoded = value.to_msgpack();
    let again = Value::from_msgpack(&encoded).expect("an encoded value decodes");
    assert!(same_value(&value, &again), "{value:?} became {again:?}");
    assert_eq!(again.to_msgpack(), encoded, "encoding is not stable");
});
