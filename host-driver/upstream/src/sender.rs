//! The kiosk's messages to the upstream, built and signed here and handed
//! to the courier: the verify request (on a fresh challenge, or with the
//! card's PIN proof) sent at once with its deadline, and the consent record
//! stored for delivery in the background. The kiosk's ports call these and
//! only map the outcomes onto the reception's inputs.

use std::sync::Arc;
use std::time::Duration;

use uuid::Uuid;

use crate::clock::{Clock, SystemClock, SystemRng};
use crate::courier::{Courier, DeliveryError, Upstream, UpstreamError};
use crate::messages::{
    AuditAnchor, AuditHead, AuthMethod, ConsentRecord, Consents, DeviceInfo, MessageKind,
    VerifyRequest, VerifyResponse,
};
use crate::request::{sign_request, PinProof};
use crate::signer::{DeviceSigner, SignError};

/// Why a message did not go.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// No challenge could be fetched (the upstream is down or slow).
    #[error("no challenge: {0}")]
    Challenge(#[source] UpstreamError),
    /// The device key could not sign.
    #[error("signing failed: {0}")]
    Sign(#[from] SignError),
    /// Not delivered (past the deadline, refused, or the outbox failed).
    #[error(transparent)]
    Delivery(#[from] DeliveryError),
}

/// A verify request that left, and what came of it.
pub struct Sent<T> {
    /// The compact JWS as sent (holds no secret; the transcript shows it).
    pub jws: String,
    /// The upstream's answer, or why there is none.
    pub answer: Result<T, SendError>,
}

/// The kiosk's sender: the device key, the device's name in the messages,
/// the verify deadline, and the courier that stores and delivers.
pub struct Sender<U, K = SystemClock> {
    courier: Courier<U, K, SystemRng>,
    signer: Arc<dyn DeviceSigner>,
    device: DeviceInfo,
    verify_deadline: Duration,
}

impl<U: Upstream, K: Clock> Sender<U, K> {
    /// A sender over `courier`, signing as `signer`, naming the device
    /// `device`, waiting up to `verify_deadline` for a verify answer.
    pub fn new(
        courier: Courier<U, K, SystemRng>,
        signer: Arc<dyn DeviceSigner>,
        device: DeviceInfo,
        verify_deadline: Duration,
    ) -> Self {
        Sender {
            courier,
            signer,
            device,
            verify_deadline,
        }
    }

    /// The staff audit trail's head, carried by every message from now on.
    pub fn set_audit_head(&mut self, head: Option<AuditHead>) {
        self.device.audit_head = head;
    }

    /// Stores an anchor carrying the audit trail's head (delivered in the
    /// background); its request id.
    pub fn anchor(&self) -> Result<Uuid, SendError> {
        let anchor = AuditAnchor {
            version: 1,
            request_id: Uuid::now_v7(),
            issued_at: self.now_s(),
            device: self.device.clone(),
        };
        let payload = serde_json::to_vec(&anchor).map_err(|_| SignError::Encoding)?;
        let jws = crate::jws::sign(self.signer.as_ref(), &payload)?;
        self.courier
            .enqueue(anchor.request_id, MessageKind::AuditAnchor, &jws)
            .map_err(|e| SendError::Delivery(DeliveryError::Outbox(e)))?;
        Ok(anchor.request_id)
    }

    /// The courier (the outbox's state, the background drain).
    pub fn courier(&self) -> &Courier<U, K, SystemRng> {
        &self.courier
    }

    /// Now, in Unix seconds, on the courier's clock.
    pub fn now_s(&self) -> i64 {
        self.courier.clock().now_ms() / 1000
    }

    /// A fresh challenge (the nonce a request or a PIN proof signs).
    pub fn challenge(&self) -> Result<String, SendError> {
        self.courier
            .upstream()
            .challenge()
            .map(|c| c.nonce)
            .map_err(SendError::Challenge)
    }

    /// The verify request for `auth` (face or 目視) on a fresh challenge.
    pub fn request(&self, cert: &[u8], auth: AuthMethod) -> Result<VerifyRequest, SendError> {
        let nonce = self.challenge()?;
        Ok(VerifyRequest::new(
            Uuid::now_v7(),
            self.now_s(),
            &nonce,
            self.device.clone(),
            cert,
            auth,
        ))
    }

    /// The verify request the card's PIN proof is for.
    pub fn pin_request(&self, proof: PinProof, cert: &[u8]) -> VerifyRequest {
        proof.request(self.device.clone(), self.now_s(), cert)
    }

    /// Signs `request` and sends it at once, retried until the deadline.
    pub fn verify(&self, request: &VerifyRequest) -> Result<Sent<VerifyResponse>, SendError> {
        let signed = sign_request(self.signer.as_ref(), request)?;
        let answer = self
            .courier
            .verify(signed.request_id, &signed.jws, self.verify_deadline)
            .map_err(SendError::from);
        Ok(Sent {
            jws: signed.jws,
            answer,
        })
    }

    /// Builds, signs and stores the consent record of the verify request
    /// `verify_request_id` (delivered by the courier in the background);
    /// the JWS stored.
    pub fn consent(
        &self,
        verify_request_id: Uuid,
        consents: Consents,
        registration_request: bool,
        relayed_by: Option<&str>,
    ) -> Result<String, SendError> {
        let record = ConsentRecord {
            version: 1,
            request_id: Uuid::now_v7(),
            verify_request_id,
            issued_at: self.now_s(),
            consents,
            registration_request,
            relayed_by: relayed_by.map(str::to_string),
            audit_head: self.device.audit_head.clone(),
        };
        let payload = serde_json::to_vec(&record).map_err(|_| SignError::Encoding)?;
        let jws = crate::jws::sign(self.signer.as_ref(), &payload)?;
        self.courier
            .enqueue(record.request_id, MessageKind::Consent, &jws)
            .map_err(|e| SendError::Delivery(DeliveryError::Outbox(e)))?;
        Ok(jws)
    }
}
