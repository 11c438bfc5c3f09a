//! Any bytes as a voice asset: parsing, looking up and decoding every clip
//! never panic, and a parsed clip decodes to exactly its sample count.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    myna_voice::fuzz_parse(data);
});
