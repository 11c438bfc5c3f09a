//! The reference upstream's request parsing and checks: raw bodies, and
//! fuzzed payloads inside correctly signed JWS.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    upstream_ref::fuzz_requests(data);
});
