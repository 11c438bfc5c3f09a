//! The image entry point of the face pipeline: JPEG 2000 from the card chip
//! (hayro-jpeg2000) and any other format from a camera or file.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    myna_face::fuzz_face_images(data);
});
