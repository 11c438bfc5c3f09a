//! `mynareader fw keygen | sign | info` as a technician runs them.

// Test code: a failed spawn or file operation is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

fn mynareader(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mynareader"))
        .args(args)
        .output()
        .expect("the CLI runs")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn keygen_sign_and_info_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("release.key");
    let text = ok(&mynareader(&["fw", "keygen", "--out", s(&key)]));
    let public = std::fs::read_to_string(dir.path().join("release.key.pub")).unwrap();
    assert!(text.contains(public.trim()), "{text}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // Never replaces a key.
    let again = mynareader(&["fw", "keygen", "--out", s(&key)]);
    assert_eq!(again.status.code(), Some(1));

    let raw = dir.path().join("fw.bin");
    std::fs::write(&raw, vec![0x5a; 3000]).unwrap();
    let signed = dir.path().join("fw.signed");
    ok(&mynareader(&[
        "fw",
        "sign",
        "--key",
        s(&key),
        "--version",
        "12",
        "--security-counter",
        "3",
        "--hw-id",
        "0x4d590001",
        "--out",
        s(&signed),
        s(&raw),
    ]));
    let pubkey = dir.path().join("release.key.pub");
    let text = ok(&mynareader(&[
        "fw",
        "info",
        "--pubkey",
        s(&pubkey),
        s(&signed),
    ]));
    assert!(text.contains("version:          12"), "{text}");
    assert!(text.contains("security counter: 3"), "{text}");
    assert!(text.contains("0x4d590001"), "{text}");
    assert!(text.contains("body:             3000 bytes"), "{text}");
    assert!(text.contains("signature:        verified"), "{text}");

    // Truncated: the header still shows, the exit code says no.
    let bytes = std::fs::read(&signed).unwrap();
    let short = dir.path().join("short.signed");
    std::fs::write(&short, &bytes[..bytes.len() - 10]).unwrap();
    let out = mynareader(&["fw", "info", "--pubkey", s(&pubkey), s(&short)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("NOT verified (the image is truncated)"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("hint:"));

    // Tampered body.
    let mut tampered = bytes.clone();
    tampered[100] ^= 1;
    std::fs::write(&short, &tampered).unwrap();
    let out = mynareader(&["fw", "info", "--pubkey", s(&pubkey), s(&short)]);
    assert_eq!(out.status.code(), Some(1));

    // Another key's public half.
    let other = dir.path().join("other.key");
    ok(&mynareader(&["fw", "keygen", "--out", s(&other)]));
    let other_pub = dir.path().join("other.key.pub");
    let out = mynareader(&["fw", "info", "--pubkey", s(&other_pub), s(&signed)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("signed with another key"));
}

#[cfg(unix)]
#[test]
fn sign_refuses_a_key_others_can_read() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("release.key");
    ok(&mynareader(&["fw", "keygen", "--out", s(&key)]));
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let raw = dir.path().join("fw.bin");
    std::fs::write(&raw, b"raw").unwrap();
    let signed = dir.path().join("fw.signed");
    let out = mynareader(&[
        "fw",
        "sign",
        "--key",
        s(&key),
        "--version",
        "1",
        "--security-counter",
        "0",
        "--hw-id",
        "1",
        "--out",
        s(&signed),
        s(&raw),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("readable by others"), "{err}");
    assert!(err.contains("chmod 600"), "{err}");
    assert!(!signed.exists());
}
