//! The layout keeps the simulated world out of the product: no product
//! crate depends on the card emulator, the simulated world or the reference
//! upstream, and the kiosk's binary carries none of the emulator's test keys
//! (the demo's binary, built from the simulated world, does: the control
//! that shows the search finds them where they are).

// Test code: a missing tool or file is a failed test.
#![allow(clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// What `package` depends on to build and run (dev-dependencies aside).
fn dependencies(package: &str) -> String {
    let output = Command::new(env!("CARGO"))
        .current_dir(workspace())
        .args([
            "tree",
            "--offline",
            "--locked",
            "--edges",
            "normal,build",
            "--prefix",
            "none",
            "--package",
            package,
        ])
        .output()
        .expect("cargo runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "cargo tree -p {package}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

fn names(tree: &str) -> Vec<&str> {
    tree.lines()
        .filter_map(|line| line.split_whitespace().next())
        .collect()
}

#[test]
fn no_product_crate_depends_on_the_simulated_world() {
    let simulated = [
        "myna-sim-world",
        "myna-card-sim",
        "upstream-ref",
        "reader-sim",
    ];
    for product in [
        "mynareader",
        "myna-kiosk",
        "myna-card",
        "myna-face",
        "myna-card-front",
        "myna-upstream",
        "myna-reception",
        "myna-link-host",
    ] {
        let tree = dependencies(product);
        for name in names(&tree) {
            assert!(
                !simulated.contains(&name),
                "{product} depends on {name}:\n{tree}"
            );
        }
    }
    // The control: the demo is built from the simulated world.
    assert!(names(&dependencies("myna-sim-world")).contains(&"myna-card-sim"));
    // The sans-IO core reaches no I/O crate, and the reference upstream
    // only the upstream's wire types.
    let core = dependencies("myna-reception");
    for io in ["rusqlite", "reqwest", "pcsc", "nusb", "tokio", "tract-onnx"] {
        assert!(
            !names(&core).contains(&io),
            "the reception core has {io}:\n{core}"
        );
    }
    let reference = dependencies("upstream-ref");
    for client in ["rusqlite", "reqwest"] {
        assert!(
            !names(&reference).contains(&client),
            "upstream-ref has the kiosk's {client}:\n{reference}"
        );
    }
    // The simulator needs the link protocol, not the host driver.
    let sim = dependencies("reader-sim");
    for host in ["myna-kiosk", "myna-link-host", "myna-card"] {
        assert!(
            !names(&sim).contains(&host),
            "reader-sim has {host}:\n{sim}"
        );
    }
}

/// 32 bytes from the middle of a DER private key: its secret material.
fn key_material(der: &[u8]) -> &[u8] {
    let middle = der.len() / 2;
    &der[middle - 16..middle + 16]
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn the_kiosk_binary_carries_none_of_the_emulators_test_keys() {
    let dir = mynareader_tests::bin_dir();
    let kiosk = std::fs::read(mynareader_tests::binary("mynareader")).expect("readable binary");
    let demo = std::fs::read(dir.join("mynareader-demo")).expect("mynareader-demo is built");
    let fixtures = workspace().join("hal/card-sim/fixtures");
    let mut keys = 0;
    let mut in_demo = 0;
    for entry in std::fs::read_dir(&fixtures).expect("the emulator's fixtures") {
        let path = entry.expect("fixture").path();
        if !path.to_string_lossy().ends_with(".key.der") {
            continue;
        }
        let der = std::fs::read(&path).expect("readable key");
        let secret = key_material(&der);
        assert!(
            !contains(&kiosk, secret),
            "the kiosk binary holds the test key {}",
            path.display()
        );
        keys += 1;
        in_demo += usize::from(contains(&demo, secret));
    }
    assert!(
        keys >= 5,
        "only {keys} test keys found in {}",
        fixtures.display()
    );
    // The control: the demo's binary, which personalises emulated cards,
    // does hold them, so the search would find them.
    assert!(in_demo >= 1, "no test key found in mynareader-demo");
}
