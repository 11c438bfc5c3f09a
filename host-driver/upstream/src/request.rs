//! Building a verify request from what the reception established, and
//! signing it with the device key: the kiosk's ports and the tests build
//! requests only through here.

use uuid::Uuid;

use super::jws;
use super::messages::VerifyRequest;
use super::signer::{DeviceSigner, SignError};
#[cfg(feature = "client")]
pub use crate::proof::{pin_verify_request, PinProof};

/// A verify request, signed and ready for the outbox.
#[derive(Debug, Clone)]
pub struct SignedRequest {
    /// The idempotency key.
    pub request_id: Uuid,
    /// The compact JWS.
    pub jws: String,
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
