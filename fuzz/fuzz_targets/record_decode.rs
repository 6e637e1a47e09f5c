//! `Record::decode` on arbitrary bytes: refused without panicking, or
//! accepted with times that are numbers, and then encode followed by decode
//! gives the same record (floats compared bit for bit) and the same bytes.

#![no_main]

use libfuzzer_sys::fuzz_target;
use spysession_core::{Record, FORMAT_VERSION};
use spysession_fuzz::same_record;

fuzz_target!(|data: &[u8]| {
    let Ok(record) = Record::decode(data) else {
        return;
    };
    assert_eq!(record.version, FORMAT_VERSION);
    assert!(record.created.is_finite() && record.accessed.is_finite());
    assert!(!record.expires_at.is_nan());

    let encoded = record.encode();
    let again = Record::decode(&encoded).expect("an encoded record decodes");
    assert!(same_record(&record, &again), "{record:?} became {again:?}");
    assert_eq!(again.encode(), encoded, "encoding is not stable");
});
