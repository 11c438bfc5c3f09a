//! The device key and its signatures, checked by a verifier nobody here
//! wrote: `openssl` reads the public key `device init` prints and verifies
//! the JWS signature (converted from JOSE's r‖s to DER).

// Test code: a failed spawn or file operation is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

use std::process::Command;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use myna_upstream::jws;
use myna_upstream::signer::{DeviceSigner, FileSigner};

fn mynareader(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_mynareader"))
        .args(args)
        .output()
        .expect("the CLI runs")
}

fn der_integer(bytes: &[u8]) -> Vec<u8> {
    let trimmed: Vec<u8> = bytes.iter().copied().skip_while(|b| *b == 0).collect();
    let mut value = if trimmed.first().is_some_and(|b| b & 0x80 != 0) {
        vec![0]
    } else {
        vec![]
    };
    value.extend(if trimmed.is_empty() { vec![0] } else { trimmed });
    let mut out = vec![0x02, value.len() as u8];
    out.extend(value);
    out
}

#[test]
fn device_init_creates_an_owner_only_key_once() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("device.p8");
    let public = dir.path().join("device.pub.pem");
    let out = mynareader(&[
        "device",
        "init",
        "--key",
        key.to_str().unwrap(),
        "--public-out",
        public.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("device id: "), "{text}");
    assert!(text.contains("-----BEGIN PUBLIC KEY-----"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let before = std::fs::read(&key).unwrap();
    let again = mynareader(&["device", "init", "--key", key.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    assert_eq!(
        std::fs::read(&key).unwrap(),
        before,
        "the key was not replaced"
    );
    assert!(FileSigner::load(&key).is_ok());
}

#[test]
fn a_key_others_can_read_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("device.p8");
    myna_upstream::signer::init_device_key(&key).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            FileSigner::load(&key),
            Err(myna_upstream::signer::DeviceKeyError::Permissions(_))
        ));
    }
}

#[test]
fn a_key_reached_through_a_symbolic_link_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("device.p8");
    myna_upstream::signer::init_device_key(&key).unwrap();
    let link = dir.path().join("link.p8");
    std::os::unix::fs::symlink(&key, &link).unwrap();
    assert!(matches!(
        FileSigner::load(&link),
        Err(myna_upstream::signer::DeviceKeyError::Io { .. })
    ));
    assert!(FileSigner::load(&key).is_ok());
    // A folder is no key either.
    assert!(FileSigner::load(dir.path()).is_err());
}

#[test]
fn openssl_verifies_the_jws_signature() {
    if !common::tool_available("openssl", "openssl") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("device.p8");
    let signer = myna_upstream::signer::init_device_key(&key).unwrap();
    let pem = dir.path().join("pub.pem");
    std::fs::write(
        &pem,
        myna_upstream::signer::public_key_pem(signer.public_key()),
    )
    .unwrap();
    let token = jws::sign(&signer, br#"{"version":1,"hello":"upstream"}"#).unwrap();
    let (input, signature) = token.rsplit_once('.').unwrap();
    let raw = B64URL.decode(signature).unwrap();
    assert_eq!(raw.len(), 64);
    let mut body = der_integer(&raw[..32]);
    body.extend(der_integer(&raw[32..]));
    let mut der = vec![0x30, body.len() as u8];
    der.extend(body);
    std::fs::write(dir.path().join("input"), input).unwrap();
    std::fs::write(dir.path().join("sig.der"), &der).unwrap();
    let verify = |input_file: &str| {
        Command::new("openssl")
            .args([
                "dgst",
                "-sha256",
                "-verify",
                "pub.pem",
                "-signature",
                "sig.der",
                input_file,
            ])
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    let ok = verify("input");
    assert_eq!(String::from_utf8_lossy(&ok.stdout).trim(), "Verified OK");
    // A changed payload fails in openssl too.
    std::fs::write(dir.path().join("tampered"), input.replace('.', ".x")).unwrap();
    assert!(!verify("tampered").status.success());
    // And our own verifier agrees.
    let payload = jws::verify(&token, |kid| {
        (kid == signer.key_id()).then(|| signer.public_key().to_vec())
    })
    .unwrap();
    assert_eq!(payload, br#"{"version":1,"hello":"upstream"}"#);
}
