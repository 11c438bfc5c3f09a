//! Compact JWS with `ES256` (ECDSA P-256, SHA-256, fixed-size r‖s signature):
//! what every upstream message travels as. Any JOSE library or `openssl` can
//! check it (RFC 7515, RFC 7518 §3.4).

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use ring::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_FIXED};
use serde::{Deserialize, Serialize};

use super::signer::{DeviceSigner, SignError};

/// The protected header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// Always `ES256`.
    pub alg: String,
    /// Key id: the device id.
    pub kid: String,
}

/// Why a compact JWS is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwsError {
    /// Not three dot-separated parts.
    #[error("not a compact JWS")]
    NotCompact,
    /// A part is not base64url.
    #[error("JWS part is not base64url")]
    Base64,
    /// The header is not the expected JSON.
    #[error("JWS header is malformed")]
    Header,
    /// An algorithm other than ES256.
    #[error("JWS algorithm {0:?} is not accepted")]
    Algorithm(String),
    /// No registered key with this id.
    #[error("unknown device key {0:?}")]
    UnknownKey(String),
    /// The signature does not verify.
    #[error("device signature does not verify")]
    BadSignature,
}

/// Signs `payload` as a compact JWS.
pub fn sign(signer: &dyn DeviceSigner, payload: &[u8]) -> Result<String, SignError> {
    let header = Header {
        alg: "ES256".into(),
        kid: signer.key_id().to_string(),
    };
    let header_json = serde_json::to_vec(&header).map_err(|_| SignError::Encoding)?;
    let mut out = B64URL.encode(header_json);
    out.push('.');
    out.push_str(&B64URL.encode(payload));
    let signature = signer.sign(out.as_bytes())?;
    out.push('.');
    out.push_str(&B64URL.encode(signature));
    Ok(out)
}

/// A JWS split into its parts, signature not yet checked.
#[derive(Debug, Clone)]
pub struct Parsed<'a> {
    /// The protected header.
    pub header: Header,
    /// The payload bytes.
    pub payload: Vec<u8>,
    signing_input: &'a str,
    signature: Vec<u8>,
}

/// Splits and decodes a compact JWS (checks the shape, not the signature).
pub fn parse(jws: &str) -> Result<Parsed<'_>, JwsError> {
    let mut parts = jws.trim().splitn(4, '.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwsError::NotCompact);
    };
    let header: Header = serde_json::from_slice(&B64URL.decode(h).map_err(|_| JwsError::Base64)?)
        .map_err(|_| JwsError::Header)?;
    if header.alg != "ES256" {
        return Err(JwsError::Algorithm(header.alg));
    }
    let trimmed = jws.trim();
    Ok(Parsed {
        header,
        payload: B64URL.decode(p).map_err(|_| JwsError::Base64)?,
        signing_input: &trimmed[..h.len() + 1 + p.len()],
        signature: B64URL.decode(s).map_err(|_| JwsError::Base64)?,
    })
}

impl Parsed<'_> {
    /// Checks the signature with an uncompressed P-256 public key.
    pub fn verify(&self, public_key: &[u8]) -> Result<(), JwsError> {
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, public_key)
            .verify(self.signing_input.as_bytes(), &self.signature)
            .map_err(|_| JwsError::BadSignature)
    }
}

/// Parses and verifies with the key `lookup` finds for the header's `kid`.
pub fn verify(jws: &str, lookup: impl Fn(&str) -> Option<Vec<u8>>) -> Result<Vec<u8>, JwsError> {
    let parsed = parse(jws)?;
    let key = lookup(&parsed.header.kid)
        .ok_or_else(|| JwsError::UnknownKey(parsed.header.kid.clone()))?;
    parsed.verify(&key)?;
    Ok(parsed.payload)
}
