//! Building a verify request from what the reception established.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use uuid::Uuid;

use super::jws;
use super::messages::{card_auth_digest, AuthMethod, DeviceInfo, VerifyRequest};
use super::signer::{DeviceSigner, SignError};
use myna_card::secret::Pin;
use myna_card::{ApduTransport, CardError, MynaCard};

/// A verify request, signed and ready for the outbox.
#[derive(Debug, Clone)]
pub struct SignedRequest {
    /// The idempotency key.
    pub request_id: Uuid,
    /// The compact JWS.
    pub jws: String,
}

/// Errors building a request.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// The card failed (wrong PIN, removed, …).
    #[error(transparent)]
    Card(#[from] CardError),
    /// The device key failed.
    #[error(transparent)]
    Sign(#[from] SignError),
}

/// Signs a verify request with the device key.
pub fn sign_request(
    signer: &dyn DeviceSigner,
    request: &VerifyRequest,
) -> Result<SignedRequest, SignError> {
    let payload = serde_json::to_vec(request).map_err(|_| SignError::Encoding)?;
    Ok(SignedRequest {
        request_id: request.request_id,
        jws: jws::sign(signer, &payload)?,
    })
}

/// PIN mode: reads the auth certificate, verifies the PIN once and has the
/// card sign SHA-256(`"mynareader-card-auth-v1"` ‖ nonce ‖ request_id ‖
/// SHA-256(cert)); the signature goes into the request.
pub fn pin_verify_request<T: ApduTransport>(
    card: &mut MynaCard<T>,
    pin: &Pin,
    nonce: &str,
    device: DeviceInfo,
    issued_at: i64,
) -> Result<VerifyRequest, CardError> {
    let cert = card.read_auth_certificate()?;
    let request_id = Uuid::now_v7();
    let digest = card_auth_digest(nonce, &request_id, &cert);
    let signature = card.sign_sha256(pin, &digest)?;
    Ok(VerifyRequest::new(
        request_id,
        issued_at,
        nonce,
        device,
        &cert,
        AuthMethod::Pin {
            card_signature: B64.encode(signature),
        },
    ))
}
