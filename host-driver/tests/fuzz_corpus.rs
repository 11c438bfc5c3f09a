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
    let seeds = run_corpus("card_responses", mynareader::card::fuzz_card_responses);
    assert!(seeds >= 10, "seed corpus shrank to {seeds} files");
}

#[test]
fn every_face_image_seed_is_decoded_without_panicking() {
    let seeds = run_corpus("face_images", mynareader::face::fuzz_face_images);
    assert!(seeds >= 4, "seed corpus shrank to {seeds} files");
}

#[test]
fn every_card_front_seed_is_read_without_panicking() {
    let seeds = run_corpus("card_front_images", mynareader::card_front::fuzz_card_front);
    assert!(seeds >= 3, "seed corpus shrank to {seeds} files");
}
