//! The X.509 certificates read from the card: what `card info` shows, the
//! chain to the CA certificate on the card, and signature checks with the
//! certificate's key. Parsing and signature verification are `x509-parser`
//! (rusticata, fuzzed upstream) with `ring`, rather than hand-written DER.
//! Their errors stay attached as the [`std::error::Error::source`] of a
//! [`CertError`].

use ring::signature::{UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
use time::OffsetDateTime;
use x509_parser::error::X509Error;
use x509_parser::prelude::{FromDer, X509Certificate};

/// Why a certificate is refused.
///
/// Not `Eq`: the kept `x509-parser` and `ring` errors are only `PartialEq`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CertError {
    /// Not a DER X.509 certificate.
    #[error("not an X.509 certificate: {0}")]
    Parse(#[source] X509Error),
    /// Bytes after the certificate.
    #[error("{0} unexpected bytes after the certificate")]
    TrailingBytes(usize),
    /// The issuer named in the certificate is not the CA's subject.
    #[error("the certificate names another issuer than the CA certificate")]
    IssuerMismatch,
    /// The CA's key did not sign it (or signed with an unsupported
    /// algorithm); the source says which.
    #[error("the CA's signature on the certificate does not verify")]
    BadSignature(#[source] X509Error),
    /// A signature over a message does not verify with the certificate's key.
    #[error("the signature does not verify with the certificate's key")]
    BadMessageSignature(#[source] ring::error::Unspecified),
    /// The CA certificate is not a CA.
    #[error("the CA certificate is not marked as a CA")]
    NotACa,
    /// A validity time out of range.
    #[error("validity time out of range")]
    BadTime(#[source] time::error::ComponentRange),
}

/// When a certificate is valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValidityStatus {
    /// Before `not_before`.
    NotYetValid,
    /// Valid for this many more whole days.
    Valid {
        /// Days until `not_after`.
        days_left: i64,
    },
    /// Expired this many whole days ago.
    Expired {
        /// Days since `not_after`.
        days_ago: i64,
    },
}

/// What the driver shows and uses of a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateInfo {
    /// Serial number, colon-separated hex.
    pub serial: String,
    /// Subject DN (RFC 4514 style).
    pub subject: String,
    /// Issuer DN.
    pub issuer: String,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
}

impl CertificateInfo {
    /// Validity at `now`.
    pub fn validity_at(&self, now: OffsetDateTime) -> ValidityStatus {
        if now < self.not_before {
            ValidityStatus::NotYetValid
        } else if now <= self.not_after {
            ValidityStatus::Valid {
                days_left: (self.not_after - now).whole_days(),
            }
        } else {
            ValidityStatus::Expired {
                days_ago: (now - self.not_after).whole_days(),
            }
        }
    }
}

fn parse(der: &[u8]) -> Result<X509Certificate<'_>, CertError> {
    let (rest, cert) =
        X509Certificate::from_der(der).map_err(|e| CertError::Parse(X509Error::from(e)))?;
    if !rest.is_empty() {
        return Err(CertError::TrailingBytes(rest.len()));
    }
    Ok(cert)
}

/// Parses a DER certificate into what the driver shows.
pub fn certificate_info(der: &[u8]) -> Result<CertificateInfo, CertError> {
    let cert = parse(der)?;
    let validity = cert.validity();
    let time = |t: x509_parser::time::ASN1Time| {
        OffsetDateTime::from_unix_timestamp(t.timestamp()).map_err(CertError::BadTime)
    };
    Ok(CertificateInfo {
        serial: cert.raw_serial_as_string(),
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        not_before: time(validity.not_before)?,
        not_after: time(validity.not_after)?,
    })
}

/// Checks that `ca_der` issued `cert_der`: names match, the CA is a CA and its
/// key verifies the signature. Validity dates are the caller's policy.
pub fn verify_issued_by(cert_der: &[u8], ca_der: &[u8]) -> Result<(), CertError> {
    let cert = parse(cert_der)?;
    let ca = parse(ca_der)?;
    if !ca.is_ca() {
        return Err(CertError::NotACa);
    }
    if cert.issuer().as_raw() != ca.subject().as_raw() {
        return Err(CertError::IssuerMismatch);
    }
    cert.verify_signature(Some(ca.public_key()))
        .map_err(CertError::BadSignature)
}

/// Verifies an RSA PKCS#1 v1.5 SHA-256 signature over `message` with the
/// certificate's public key.
pub fn verify_rsa_sha256(
    cert_der: &[u8],
    message: &[u8],
    signature: &[u8],
) -> Result<(), CertError> {
    let cert = parse(cert_der)?;
    let key = &cert.public_key().subject_public_key.data;
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, key.as_ref())
        .verify(message, signature)
        .map_err(CertError::BadMessageSignature)
}
