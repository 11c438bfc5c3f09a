//! PIN mode's proof of the card holder, made on the card (the kiosk's side,
//! with the `client` feature: it needs the card layer).

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::messages::{card_auth_digest, AuthMethod, DeviceInfo, VerifyRequest};
use myna_card::secret::Pin;
use myna_card::{ApduTransport, CardError, MynaCard};

/// PIN mode's proof of the card holder: the card's signature, made with one
/// VERIFY of the PIN, over SHA-256(`"mynareader-card-auth-v1"` ‖ nonce ‖
/// request_id ‖ SHA-256(cert)). Held (zeroizing, without `Debug`) from the
/// PIN pad until the verify request that carries it.
pub struct PinProof {
    nonce: String,
    request_id: Uuid,
    signature: Zeroizing<Vec<u8>>,
}

impl PinProof {
    /// Has the card sign the challenge `nonce` for `cert` with `pin`: one
    /// VERIFY, never repeated here (a wrong PIN comes back as
    /// [`CardError::WrongPin`] with the tries left).
    pub fn sign<T: ApduTransport>(
        card: &mut MynaCard<T>,
        pin: &Pin,
        nonce: String,
        cert: &[u8],
    ) -> Result<PinProof, CardError> {
        let request_id = Uuid::now_v7();
        let digest = card_auth_digest(&nonce, &request_id, cert);
        let signature = card.sign_sha256(pin, &digest)?;
        Ok(PinProof {
            nonce,
            request_id,
            signature: Zeroizing::new(signature),
        })
    }

    /// The verify request this proof is for.
    pub fn request(self, device: DeviceInfo, issued_at: i64, cert: &[u8]) -> VerifyRequest {
        VerifyRequest::new(
            self.request_id,
            issued_at,
            &self.nonce,
            device,
            cert,
            AuthMethod::Pin {
                card_signature: B64.encode(&self.signature[..]),
            },
        )
    }
}

/// PIN mode from the card alone (a technician's check, the tests): reads
/// the auth certificate, has the card sign ([`PinProof::sign`]) and builds
/// the request.
pub fn pin_verify_request<T: ApduTransport>(
    card: &mut MynaCard<T>,
    pin: &Pin,
    nonce: &str,
    device: DeviceInfo,
    issued_at: i64,
) -> Result<VerifyRequest, CardError> {
    let cert = card.read_auth_certificate()?;
    let proof = PinProof::sign(card, pin, nonce.to_string(), &cert)?;
    Ok(proof.request(device, issued_at, &cert))
}
