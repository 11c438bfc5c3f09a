//! Dev-only: generates the test JPKI keys and CA certificates under `fixtures/`.
//!
//! Run once; the output is committed. `ring` cannot generate RSA keys, so the
//! `rsa` crate does it here. Existing keys are kept unless `--force-keys` is
//! given (new keys would invalidate every certificate anyone exported), and the
//! CA certificates are always rewritten from the keys, so after a change of the
//! CA names run `cargo run -p myna-card-sim --example gen_fixtures`.

use std::path::Path;

use myna_card_sim::pki::{ca_certificate, CaKind};
use rsa::pkcs8::EncodePrivateKey;
use rsa::RsaPrivateKey;

fn main() -> anyhow::Result<()> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let force = std::env::args().any(|a| a == "--force-keys");
    let mut rng = rand::thread_rng();
    for name in [
        "jpki-auth-ca",
        "jpki-sign-ca",
        "other-ca",
        "card-auth",
        "card-sign",
        "card-face",
    ] {
        let path = dir.join(format!("{name}.key.der"));
        let present = std::fs::metadata(&path)
            .map(|m| m.len() > 0)
            .unwrap_or(false);
        if present && !force {
            continue;
        }
        let key = RsaPrivateKey::new(&mut rng, 2048)?;
        std::fs::write(&path, key.to_pkcs8_der()?.as_bytes())?;
        println!("wrote {}", path.display());
    }
    for (kind, name) in [
        (CaKind::Auth, "jpki-auth-ca"),
        (CaKind::Sign, "jpki-sign-ca"),
        (CaKind::Other, "other-ca"),
    ] {
        let path = dir.join(format!("{name}.crt.der"));
        std::fs::write(&path, ca_certificate(kind)?)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
