//! Runs the `upstream_requests` fuzz target's entry point over its seed
//! corpus, so the corpus and the entry point stay valid without a nightly
//! toolchain.

// Test code: an unreadable corpus is a failed test.
#![allow(clippy::expect_used)]

#[test]
fn every_upstream_request_seed_is_checked_without_panicking() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/upstream_requests");
    let mut seeds = 0;
    for entry in std::fs::read_dir(&dir).expect("the seed corpus is committed") {
        let bytes =
            std::fs::read(entry.expect("readable corpus entry").path()).expect("readable seed");
        upstream_ref::fuzz_requests(&bytes);
        seeds += 1;
    }
    assert!(seeds >= 5, "seed corpus shrank to {seeds} files");
}

#[test]
fn the_fuzz_entry_point_survives_odd_inputs() {
    for input in [&b""[..], b"{}", b"a.b.c", b"{\"version\":1}", &[0xFF, 0xFE]] {
        upstream_ref::fuzz_requests(input);
    }
}
