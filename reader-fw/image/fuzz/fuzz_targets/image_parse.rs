//! Any bytes as a signed image: parsing and verifying never panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    myna_image::fuzz_parse(data);
});
