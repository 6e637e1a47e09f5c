//! libFuzzer entry point for [`spysession_fuzz::check_ext_decode`], where the
//! checked properties are described.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| spysession_fuzz::check_ext_decode(data));
