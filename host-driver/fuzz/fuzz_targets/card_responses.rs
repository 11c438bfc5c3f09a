//! Every parser of bytes that come from a card: R-APDUs with each command's
//! decoder, BER headers and templates, X.509 certificates.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    myna_card::fuzz_card_responses(data);
});
