//! The CLI's errors for a person: one line, a hint, a non-zero exit code.
//! No daemon: the PC/SC client is pointed at a socket that does not exist.

// Test code: a failed spawn is a failed test.
#![allow(clippy::expect_used)]

use std::process::{Command, Output};

fn mynareader(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mynareader"))
        .args(args)
        .env(
            "PCSCLITE_CSOCK_NAME",
            "/nonexistent/mynareader-test/pcscd.comm",
        )
        .output()
        .expect("the CLI runs")
}

#[test]
fn no_smart_card_service_is_one_line_with_a_hint() {
    let out = mynareader(&["card", "info", "--wait", "1"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert_eq!(
        lines[0],
        "mynareader: the smart-card service is not running"
    );
    assert!(
        lines[1].starts_with("  hint: start the smart-card service"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn an_existing_output_file_is_not_replaced() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("cert.der");
    std::fs::write(&path, b"keep me").expect("write");
    let out = mynareader(&[
        "card",
        "read-cert",
        "--out",
        path.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("pass --force"));
    assert_eq!(std::fs::read(&path).expect("read"), b"keep me");
}

#[test]
fn usage_errors_exit_non_zero() {
    let out = mynareader(&["card", "read-cert"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--out"));
    let out = mynareader(&["card", "info", "--wait", "soon"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn reading_the_audit_trail_of_a_mistyped_database_makes_none() {
    let dir = tempfile::tempdir().expect("temp dir");
    let typo = dir.path().join("kiosk.dbb");
    let typo_text = typo.to_str().expect("utf-8 path");
    for args in [
        &["staff", "audit", "verify", "--db", typo_text][..],
        &["staff", "audit", "head", "--db", typo_text][..],
        &["staff", "audit", "show", "--db", typo_text][..],
    ] {
        let out = mynareader(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("no kiosk database at"), "{err}");
        assert!(err.contains("hint:"), "{err}");
        assert!(!typo.exists(), "{args:?} made a database");
    }
}
