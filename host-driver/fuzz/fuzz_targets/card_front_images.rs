//! The card-front image entry point: any bytes decoded as an image and run
//! through localisation, rectification and the field reader.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    myna_card_front::fuzz_card_front(data);
});
