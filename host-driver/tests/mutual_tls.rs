//! Mutual TLS in the HTTP adapter, against a TLS server nobody here wrote:
//! `openssl s_server` demanding a client certificate. With the client
//! identity the request gets through (the answer is openssl's HTML status
//! page, so it is a malformed *answer*); without it the handshake fails.

// Test code: a failed setup step is a failed test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use myna_upstream::courier::UpstreamError;
use myna_upstream::http::{HttpOptions, HttpUpstream};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};

#[test]
fn a_client_certificate_is_presented_when_the_server_demands_one() {
    if !common::tool_available("openssl", "openssl") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::from_params(&ca_params, &ca_key);
    let server_key = KeyPair::generate().unwrap();
    let server = CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&server_key, &issuer)
        .unwrap();
    let client_key = KeyPair::generate().unwrap();
    let client = CertificateParams::new(vec!["kiosk-0001".to_string()])
        .unwrap()
        .signed_by(&client_key, &issuer)
        .unwrap();
    let write = |name: &str, text: String| std::fs::write(dir.path().join(name), text).unwrap();
    write("ca.pem", ca.pem());
    write("server.pem", server.pem());
    write("server.key", server_key.serialize_pem());

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut s_server = Command::new("openssl")
        .args(["s_server", "-quiet", "-www", "-accept"])
        .arg(port.to_string())
        .args([
            "-cert",
            "server.pem",
            "-key",
            "server.key",
            "-CAfile",
            "ca.pem",
            "-Verify",
            "1",
        ])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "openssl s_server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let url = format!("https://localhost:{port}");
    let options = |identity: bool| HttpOptions {
        timeout: Some(Duration::from_secs(5)),
        ca_pem: Some(ca.pem().into_bytes()),
        client_identity_pem: identity
            .then(|| format!("{}{}", client.pem(), client_key.serialize_pem()).into_bytes()),
    };
    let with_identity = HttpUpstream::new(&url, options(true)).unwrap();
    let answer = with_identity.get_json::<serde_json::Value>("/");
    let without_identity = HttpUpstream::new(&url, options(false)).unwrap();
    let refused = without_identity.get_json::<serde_json::Value>("/");
    let _ = s_server.kill();
    let _ = s_server.wait();
    assert!(
        matches!(answer, Err(UpstreamError::BadAnswer(_))),
        "with a client certificate: {answer:?}"
    );
    assert!(
        matches!(refused, Err(UpstreamError::Unreachable(_))),
        "without one: {refused:?}"
    );
}

#[test]
fn unusable_tls_material_is_a_clear_error() {
    let options = HttpOptions {
        client_identity_pem: Some(
            b"-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n".to_vec(),
        ),
        ..HttpOptions::default()
    };
    assert!(HttpUpstream::new("https://localhost:1", options).is_err());
}
