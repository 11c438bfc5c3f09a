//! The test JPKI: the committed CA and card keys, and the certificates the
//! emulator issues from them.
//!
//! The keys were generated once by `examples/gen_fixtures.rs` and are committed
//! as PKCS#8 DER under `fixtures/`, because `ring` cannot generate RSA keys and
//! a test CA that changes on every build could not be trusted by anything
//! outside the build. Card certificates are issued at start-up so that a
//! personality can ask for any validity window; RSA PKCS#1 v1.5 signatures are
//! deterministic, so the same options give the same certificate bytes.

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SerialNumber, PKCS_RSA_SHA256,
};
use rsa::pkcs8::DecodePrivateKey;
use rsa::RsaPrivateKey;
use time::{Date, Month, OffsetDateTime, Time};

/// PKCS#8 DER of the test JPKI CA for user-authentication certificates.
pub const AUTH_CA_KEY: &[u8] = include_bytes!("../fixtures/jpki-auth-ca.key.der");
/// DER of the test JPKI CA certificate for user-authentication certificates.
pub const AUTH_CA_CERT: &[u8] = include_bytes!("../fixtures/jpki-auth-ca.crt.der");
/// PKCS#8 DER of the test JPKI CA for digital-signature certificates.
pub const SIGN_CA_KEY: &[u8] = include_bytes!("../fixtures/jpki-sign-ca.key.der");
/// DER of the test JPKI CA certificate for digital-signature certificates.
pub const SIGN_CA_CERT: &[u8] = include_bytes!("../fixtures/jpki-sign-ca.crt.der");
/// PKCS#8 DER of a CA that is *not* JPKI: certificates it issues must be refused.
pub const OTHER_CA_KEY: &[u8] = include_bytes!("../fixtures/other-ca.key.der");
/// DER of the non-JPKI CA certificate.
pub const OTHER_CA_CERT: &[u8] = include_bytes!("../fixtures/other-ca.crt.der");
/// The card's user-authentication key (EF `0017`).
pub const CARD_AUTH_KEY: &[u8] = include_bytes!("../fixtures/card-auth.key.der");
/// The card's digital-signature key (EF `001A`).
pub const CARD_SIGN_KEY: &[u8] = include_bytes!("../fixtures/card-sign.key.der");
/// The key that signs the card-face data of the 券面事項確認AP (DF28).
pub const CARD_FACE_KEY: &[u8] = include_bytes!("../fixtures/card-face.key.der");

/// Which CA issues a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaKind {
    /// JPKI CA for user-authentication certificates.
    Auth,
    /// JPKI CA for digital-signature certificates.
    Sign,
    /// A CA outside JPKI (for "wrong issuer" tests).
    Other,
}

/// Errors while building the test PKI.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    /// A committed key could not be parsed.
    #[error("fixture key cannot be parsed: {0}")]
    Key(String),
    /// rcgen refused the parameters.
    #[error("certificate cannot be issued: {0}")]
    Issue(#[from] rcgen::Error),
}

fn second_ou() -> DnType {
    // rcgen keys DN entries by type, so a second OU needs the OU OID spelled as a
    // custom type; it encodes exactly like the first.
    DnType::CustomDnType(vec![2, 5, 4, 11])
}

/// The distinguished name of a CA, as used both in its own certificate and as
/// the issuer of the certificates it signs.
pub fn ca_name(kind: CaKind) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, "JP");
    match kind {
        CaKind::Auth | CaKind::Sign => {
            dn.push(DnType::OrganizationName, "JPKI");
            let ou = if kind == CaKind::Auth {
                "JPKI for user authentication (TEST)"
            } else {
                "JPKI for digital signature (TEST)"
            };
            dn.push(DnType::OrganizationalUnitName, ou);
            dn.push(
                second_ou(),
                "Japan Agency for Local Authority Information Systems (TEST)",
            );
        }
        CaKind::Other => {
            dn.push(DnType::OrganizationName, "Not JPKI");
            dn.push(DnType::CommonName, "Unrelated Test CA");
        }
    }
    dn
}

fn ca_params(kind: CaKind) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = ca_name(kind);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.not_before = day(2020, Month::January, 1);
    params.not_after = day(2049, Month::December, 31);
    params.serial_number = Some(SerialNumber::from_slice(&[match kind {
        CaKind::Auth => 0x0A,
        CaKind::Sign => 0x0B,
        CaKind::Other => 0x0C,
    }]));
    params
}

fn day(year: i32, month: Month, d: u8) -> OffsetDateTime {
    // The dates here are constants, so a failure is a programming error caught
    // by every test; fall back to the epoch rather than panic.
    Date::from_calendar_date(year, month, d)
        .map(|date| date.with_time(Time::MIDNIGHT).assume_utc())
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// An rcgen key pair from a committed PKCS#8 RSA key.
pub fn rcgen_key(pkcs8: &[u8]) -> Result<KeyPair, PkiError> {
    KeyPair::from_pkcs8_der_and_sign_algo(&pkcs8.to_vec().into(), &PKCS_RSA_SHA256)
        .map_err(|e| PkiError::Key(e.to_string()))
}

/// An `rsa` private key from a committed PKCS#8 RSA key.
pub fn rsa_key(pkcs8: &[u8]) -> Result<RsaPrivateKey, PkiError> {
    RsaPrivateKey::from_pkcs8_der(pkcs8).map_err(|e| PkiError::Key(e.to_string()))
}

fn ca_key(kind: CaKind) -> &'static [u8] {
    match kind {
        CaKind::Auth => AUTH_CA_KEY,
        CaKind::Sign => SIGN_CA_KEY,
        CaKind::Other => OTHER_CA_KEY,
    }
}

/// The self-signed certificate of a CA (what `fixtures/*-ca.crt.der` holds).
pub fn ca_certificate(kind: CaKind) -> Result<Vec<u8>, PkiError> {
    let key = rcgen_key(ca_key(kind))?;
    Ok(ca_params(kind).self_signed(&key)?.der().to_vec())
}

/// The committed DER of a CA certificate.
pub fn committed_ca_certificate(kind: CaKind) -> &'static [u8] {
    match kind {
        CaKind::Auth => AUTH_CA_CERT,
        CaKind::Sign => SIGN_CA_CERT,
        CaKind::Other => OTHER_CA_CERT,
    }
}

/// What goes into an end-entity certificate of the card.
#[derive(Debug, Clone)]
pub struct CardCertSpec {
    /// The CA that signs it.
    pub issuer: CaKind,
    /// Serial number, big-endian bytes.
    pub serial: Vec<u8>,
    /// Subject common name.
    pub common_name: String,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
    /// PKCS#8 DER of the subject's key.
    pub subject_key: &'static [u8],
    /// Non-repudiation on top of digital signature (the signature certificate).
    pub non_repudiation: bool,
}

/// Issues an end-entity certificate as the card stores it.
pub fn issue_card_certificate(spec: &CardCertSpec) -> Result<Vec<u8>, PkiError> {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, "JP");
    dn.push(DnType::CommonName, spec.common_name.as_str());
    params.distinguished_name = dn;
    params.serial_number = Some(SerialNumber::from_slice(&spec.serial));
    params.not_before = spec.not_before;
    params.not_after = spec.not_after;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    if spec.non_repudiation {
        params.key_usages.push(KeyUsagePurpose::ContentCommitment);
    }
    params.use_authority_key_identifier_extension = true;
    let subject = rcgen_key(spec.subject_key)?;
    let issuer = Issuer::new(ca_params(spec.issuer), rcgen_key(ca_key(spec.issuer))?);
    Ok(params.signed_by(&subject, &issuer)?.der().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_ca_certificates_match_their_keys_and_names() {
        for kind in [CaKind::Auth, CaKind::Sign, CaKind::Other] {
            let regenerated = ca_certificate(kind).unwrap();
            assert_eq!(
                regenerated,
                committed_ca_certificate(kind),
                "fixtures/{kind:?} CA certificate is stale: rerun examples/gen_fixtures"
            );
        }
    }

    #[test]
    fn issued_certificates_are_deterministic() {
        let spec = CardCertSpec {
            issuer: CaKind::Auth,
            serial: vec![0x01, 0x23],
            common_name: "TESTAUTH0001".into(),
            not_before: day(2025, Month::April, 1),
            not_after: day(2030, Month::March, 31),
            subject_key: CARD_AUTH_KEY,
            non_repudiation: false,
        };
        assert_eq!(
            issue_card_certificate(&spec).unwrap(),
            issue_card_certificate(&spec).unwrap()
        );
    }
}
