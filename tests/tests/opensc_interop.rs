//! Interoperability with clients nobody here wrote: OpenSC's tools against the
//! emulator through the same pcscd, and OpenSSL checking the signatures.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use myna_card::pcsc::{ConnectOptions, PcscCard};
use myna_card::secret::Pin;
use myna_card::{MynaCard, PinStatus};
use mynareader_tests::{testbed_test, Bed};
use sha2::{Digest, Sha256};

fn ok(output: Output, what: &str) -> String {
    assert!(
        output.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn path_text(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

fn our_certificate(bed: &Bed) -> Vec<u8> {
    let out = bed.dir().join("ours.der");
    ok(
        bed.mynareader(&["card", "read-cert", "--force", "--out", &path_text(&out)]),
        "mynareader card read-cert",
    );
    std::fs::read(out).unwrap_or_default()
}

fn pkcs11_module() -> PathBuf {
    let candidates = std::fs::read_dir("/usr/lib")
        .into_iter()
        .flatten()
        .flatten()
        .map(|d| d.path().join("opensc-pkcs11.so"))
        .chain([PathBuf::from("/usr/lib/opensc-pkcs11.so")]);
    for candidate in candidates {
        if candidate.exists() {
            return candidate;
        }
    }
    panic!("opensc-pkcs11.so not found (install opensc-pkcs11)")
}

fn tries_left() -> Option<PinStatus> {
    let card = PcscCard::connect(ConnectOptions {
        reader: None,
        wait: Duration::from_secs(5),
    })
    .ok()?;
    MynaCard::new(card).auth_pin_status().ok()
}

testbed_test! {
    fn opensc_detects_the_card_as_jpki_with_any_atr(bed) needs ["opensc-tool"] {
        for atr in ["jpki", "contact", "contactless"] {
            let sim = bed.insert_card(&["--atr", atr]);
            let out = ok(bed.tool("opensc-tool", &["-r", "0", "-n"]), "opensc-tool -n");
            assert_eq!(out.trim(), "jpki", "ATR {atr}");
            sim.remove();
        }
    }
}

testbed_test! {
    fn pkcs15_tool_reads_the_same_certificate_byte_for_byte(bed) needs ["pkcs15-tool"] {
        let _card = bed.insert_card(&[]);
        let pem_path = bed.dir().join("opensc.pem");
        ok(
            bed.tool("pkcs15-tool", &["-r", "0", "--read-certificate", "01", "-o", &path_text(&pem_path)]),
            "pkcs15-tool --read-certificate",
        );
        let pem = std::fs::read(&pem_path).unwrap_or_default();
        let (_, parsed) = x509_parser::pem::parse_x509_pem(&pem).unwrap_or_else(|e| panic!("OpenSC PEM: {e}"));
        assert_eq!(parsed.contents, our_certificate(bed));
    }
}

testbed_test! {
    fn pkcs15_tool_verifies_the_pin_and_the_counter_agrees(bed) needs ["pkcs15-tool"] {
        let _card = bed.insert_card(&["--pin", "2468"]);
        ok(
            bed.tool("pkcs15-tool", &["-r", "0", "--verify-pin", "--auth-id", "01", "--pin", "2468"]),
            "pkcs15-tool --verify-pin (right PIN)",
        );
        assert_eq!(tries_left(), Some(PinStatus::TriesLeft(3)));
        let wrong = bed.tool("pkcs15-tool", &["-r", "0", "--verify-pin", "--auth-id", "01", "--pin", "1111"]);
        let said = format!("{}{}", String::from_utf8_lossy(&wrong.stdout), String::from_utf8_lossy(&wrong.stderr));
        assert!(said.contains("incorrect"), "OpenSC on a wrong PIN: {said}");
        assert_eq!(tries_left(), Some(PinStatus::TriesLeft(2)));
        ok(
            bed.tool("pkcs15-tool", &["-r", "0", "--verify-pin", "--auth-id", "01", "--pin", "2468"]),
            "pkcs15-tool --verify-pin after a wrong one",
        );
        assert_eq!(tries_left(), Some(PinStatus::TriesLeft(3)));
    }
}

fn openssl_verifies(bed: &Bed, cert_der: &[u8], message: &Path, signature: &Path) {
    let cert_path = bed.dir().join("auth-for-openssl.der");
    std::fs::write(&cert_path, cert_der).unwrap_or_else(|e| panic!("{e}"));
    let pubkey = ok(
        bed.tool(
            "openssl",
            &[
                "x509",
                "-inform",
                "der",
                "-in",
                &path_text(&cert_path),
                "-pubkey",
                "-noout",
            ],
        ),
        "openssl x509 -pubkey",
    );
    let pub_path = bed.dir().join("auth-pub.pem");
    std::fs::write(&pub_path, pubkey).unwrap_or_else(|e| panic!("{e}"));
    let verdict = ok(
        bed.tool(
            "openssl",
            &[
                "dgst",
                "-sha256",
                "-verify",
                &path_text(&pub_path),
                "-signature",
                &path_text(signature),
                &path_text(message),
            ],
        ),
        "openssl dgst -verify",
    );
    assert_eq!(verdict.trim(), "Verified OK");
}

testbed_test! {
    fn pkcs11_signature_and_ours_verify_with_openssl(bed) needs ["pkcs11-tool", "openssl"] {
        let _card = bed.insert_card(&[]);
        let message = bed.dir().join("message.txt");
        std::fs::write(&message, "受付 2026-11-22 nonce 8f2a").unwrap_or_else(|e| panic!("{e}"));
        let opensc_sig = bed.dir().join("opensc.sig");
        ok(
            bed.tool(
                "pkcs11-tool",
                &[
                    "--module", &path_text(&pkcs11_module()), "--slot-index", "0", "-l", "--pin", "1234",
                    "--sign", "-m", "SHA256-RSA-PKCS", "--id", "01",
                    "-i", &path_text(&message), "-o", &path_text(&opensc_sig),
                ],
            ),
            "pkcs11-tool --sign",
        );
        let cert = our_certificate(bed);
        openssl_verifies(bed, &cert, &message, &opensc_sig);

        // Our own signature over the same message, checked the same way.
        let hash: [u8; 32] = Sha256::digest(std::fs::read(&message).unwrap_or_default()).into();
        let card = PcscCard::connect(ConnectOptions { reader: None, wait: Duration::from_secs(5) })
            .unwrap_or_else(|e| panic!("{e}"));
        let pin = Pin::new("1234").unwrap_or_else(|e| panic!("{e}"));
        let ours = MynaCard::new(card).sign_sha256(&pin, &hash).unwrap_or_else(|e| panic!("{e}"));
        let our_sig = bed.dir().join("ours.sig");
        std::fs::write(&our_sig, &ours).unwrap_or_else(|e| panic!("{e}"));
        openssl_verifies(bed, &cert, &message, &our_sig);
        // PKCS#1 v1.5 is deterministic: both clients made the same signature.
        assert_eq!(std::fs::read(&opensc_sig).unwrap_or_default(), ours);
    }
}
