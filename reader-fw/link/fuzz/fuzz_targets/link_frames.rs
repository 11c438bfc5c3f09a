//! The link frame decoder, for both directions.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    myna_link::fuzz_decode(data);
});
