//! Runs the fuzz targets' entry points over their seed corpora, so the
//! corpora and the entry points stay valid without a nightly toolchain.
//! The card and face entry points need the `fuzz` feature; this crate's
//! dev-dependency on itself enables it, so a plain `cargo test` runs them.

// Test code: an unreadable corpus is a failed test.
#![allow(clippy::expect_used)]

fn run_corpus(target: &str, entry: fn(&[u8])) -> usize {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut seeds = 0;
    for entry_file in std::fs::read_dir(&dir).expect("the seed corpus is committed") {
        let bytes = std::fs::read(entry_file.expect("readable corpus entry").path())
            .expect("readable seed");
        entry(&bytes);
        seeds += 1;
    }
    seeds
}

#[test]
fn every_card_response_seed_is_parsed_without_panicking() {
    let seeds = run_corpus("card_responses", myna_card::fuzz_card_responses);
    assert!(seeds >= 10, "seed corpus shrank to {seeds} files");
}

#[test]
fn every_face_image_seed_is_decoded_without_panicking() {
    let seeds = run_corpus("face_images", myna_face::fuzz_face_images);
    assert!(seeds >= 4, "seed corpus shrank to {seeds} files");
}

#[test]
fn every_card_front_seed_is_read_without_panicking() {
    let seeds = run_corpus("card_front_images", myna_card_front::fuzz_card_front);
    assert!(seeds >= 2, "seed corpus shrank to {seeds} files");
    // Whole pictures are made here rather than committed: a flat grey frame
    // and a pale card-sized rectangle on a dark table (no face, no fields).
    for (width, height, pixel) in [
        (64usize, 40usize, None),
        (160, 120, Some((30usize, 20usize, 100usize, 64usize))),
    ] {
        let mut ppm = format!("P6 {width} {height} 255\n").into_bytes();
        for y in 0..height {
            for x in 0..width {
                let inside = pixel.is_some_and(|(x0, y0, w, h)| {
                    (x0..x0 + w).contains(&x) && (y0..y0 + h).contains(&y)
                });
                let v = match (pixel, inside) {
                    (None, _) => 128,
                    (Some(_), true) => 235,
                    (Some(_), false) => 40,
                };
                ppm.extend_from_slice(&[v, v, v]);
            }
        }
        myna_card_front::fuzz_card_front(&ppm);
    }
}
