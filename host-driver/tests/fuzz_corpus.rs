//! Runs the fuzz target's entry point over its seed corpus, so the corpus and
//! the entry point stay valid without a nightly toolchain.

#[test]
fn every_seed_is_parsed_without_panicking() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/card_responses");
    let mut seeds = 0;
    for entry in std::fs::read_dir(&dir).expect("the seed corpus is committed") {
        let bytes =
            std::fs::read(entry.expect("readable corpus entry").path()).expect("readable seed");
        mynareader::card::fuzz_card_responses(&bytes);
        seeds += 1;
    }
    assert!(seeds >= 10, "seed corpus shrank to {seeds} files");
}
