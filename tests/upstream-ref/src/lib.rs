//! `upstream-ref`: the reference upstream, used by tests, benchmarks and the
//! demo, never shipped on a kiosk. It checks everything a real one would
//! (device signature, nonce, certificate chain and validity with the 3-month
//! grace, card signature, duplicate request ids) and answers from a small
//! table of test patients. The checks are a plain state machine
//! ([`Reference`]) that is given the time and draws nonces from the generator
//! it was built with; axum is the thin HTTP adapter ([`router`]), which reads
//! the time from the [`Clock`] it is given. The wire types are the kiosk's own
//! ([`myna_upstream::messages`]), so both ends parse the same structs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE_NO_PAD as B64URL};
use base64::Engine;
use myna_card::cert;
use myna_upstream::clock::Clock;
use myna_upstream::jws::{self, JwsError};
use myna_upstream::messages::{
    card_auth_message, AuditAnchor, AuditHead, AuthMethod, Challenge, ConsentAck, ConsentRecord,
    ErrorBody, ProcessingResult, Qualification, VerifyRequest, VerifyResponse, VERSION,
};
use myna_upstream::signer;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

/// A test patient, keyed by the certificate serial.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Patient {
    /// 資格有効性.
    pub qualification: Qualification,
    /// Registered for health-insurance use.
    pub registered: bool,
    /// Name in kana.
    pub name_kana: String,
    /// 40 or older: the 特定健診 item applies.
    pub specific_health_checkup: bool,
}

/// What the reference upstream trusts and knows.
#[derive(Debug, Clone)]
pub struct ReferenceConfig {
    /// Registered device public keys (uncompressed P-256 points).
    pub device_keys: Vec<Vec<u8>>,
    /// Trusted JPKI CA certificates (DER).
    pub jpki_cas: Vec<Vec<u8>>,
    /// Patients by certificate serial (`01:a2:…`).
    pub patients: HashMap<String, Patient>,
    /// How long a nonce stays valid.
    pub nonce_ttl: Duration,
}

/// Why a request is refused: one variant per check, each its own code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Reject {
    /// Not a well-formed compact JWS.
    #[error("malformed JWS: {0}")]
    MalformedJws(JwsError),
    /// The JWS names a key nobody registered.
    #[error("unknown device")]
    UnknownDevice,
    /// The device signature does not verify.
    #[error("device signature does not verify")]
    BadDeviceSignature,
    /// `device.id` is not the signing key's id.
    #[error("device id does not match the signing key")]
    DeviceMismatch,
    /// The payload is not the message.
    #[error("malformed message: {0}")]
    MalformedMessage(String),
    /// A version this upstream does not speak.
    #[error("unsupported message version {0}")]
    UnsupportedVersion(u32),
    /// A nonce this upstream never issued.
    #[error("unknown nonce")]
    UnknownNonce,
    /// The nonce is older than its validity.
    #[error("nonce expired")]
    NonceExpired,
    /// The nonce was used before.
    #[error("nonce already used")]
    NonceReused,
    /// The certificate cannot be parsed.
    #[error("bad certificate: {0}")]
    BadCertificate(String),
    /// The certificate does not chain to a trusted JPKI CA.
    #[error("certificate not issued by a trusted JPKI CA")]
    CertificateUntrusted,
    /// Expired more than 3 months ago.
    #[error("certificate expired beyond the 3-month grace period")]
    CertificateExpired,
    /// Not valid yet.
    #[error("certificate not yet valid")]
    CertificateNotYetValid,
    /// The card signature (PIN mode) does not verify.
    #[error("card signature does not verify")]
    BadCardSignature,
    /// The same request id with a different message.
    #[error("request id reused for a different message")]
    RequestIdConflict,
    /// A consent record for a verify request this upstream never answered.
    #[error("unknown verify request")]
    UnknownVerifyRequest,
    /// A consent flag other than 0 or 1.
    #[error("consent flags must be 0 or 1")]
    BadConsentFlag,
}

impl Reject {
    /// The stable error code in the JSON body.
    pub fn code(&self) -> &'static str {
        match self {
            Reject::MalformedJws(_) => "malformed-jws",
            Reject::UnknownDevice => "unknown-device",
            Reject::BadDeviceSignature => "bad-device-signature",
            Reject::DeviceMismatch => "device-mismatch",
            Reject::MalformedMessage(_) => "malformed-message",
            Reject::UnsupportedVersion(_) => "unsupported-version",
            Reject::UnknownNonce => "unknown-nonce",
            Reject::NonceExpired => "nonce-expired",
            Reject::NonceReused => "nonce-reused",
            Reject::BadCertificate(_) => "bad-certificate",
            Reject::CertificateUntrusted => "certificate-untrusted",
            Reject::CertificateExpired => "certificate-expired",
            Reject::CertificateNotYetValid => "certificate-not-yet-valid",
            Reject::BadCardSignature => "bad-card-signature",
            Reject::RequestIdConflict => "request-id-conflict",
            Reject::UnknownVerifyRequest => "unknown-verify-request",
            Reject::BadConsentFlag => "bad-consent-flag",
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Reject::UnknownDevice | Reject::BadDeviceSignature | Reject::DeviceMismatch => {
                StatusCode::UNAUTHORIZED
            }
            Reject::BadCardSignature
            | Reject::CertificateUntrusted
            | Reject::CertificateExpired
            | Reject::CertificateNotYetValid => StatusCode::FORBIDDEN,
            Reject::NonceReused | Reject::RequestIdConflict | Reject::UnknownVerifyRequest => {
                StatusCode::CONFLICT
            }
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

/// What the upstream received, for tests and the staff side.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Received {
    /// Verify requests processed, in arrival order.
    pub verify: Vec<Uuid>,
    /// Consent records processed, in arrival order.
    pub consent: Vec<Uuid>,
    /// Retries answered from the first answer.
    pub duplicates: u64,
    /// Audit anchors processed.
    pub audit_anchor: Vec<Uuid>,
    /// The audit-trail heads each device sent (by device id), in the order
    /// the device made them (at most [`MAX_HEADS`] each): what `staff audit
    /// verify --head` is checked against. Every one, not only the last: a
    /// trail rewritten and then grown past the old end passes its newest
    /// head but not the older ones.
    pub audit_heads: std::collections::BTreeMap<String, Vec<KeptHead>>,
    /// Devices whose head went back (a message made later with a lower
    /// entry number, or one entry with two hashes): the trail was cut,
    /// rewritten or restored.
    pub audit_alarms: Vec<String>,
}

/// Heads kept per device.
pub const MAX_HEADS: usize = 1000;

/// One head as a device sent it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeptHead {
    /// When the message carrying it was made (Unix seconds, the device's
    /// clock).
    pub issued_at: i64,
    /// The last entry's number.
    pub seq: i64,
    /// Its hash.
    pub hash: String,
}

/// Nonces kept at most (issued and not yet forgotten): a client asking for
/// challenges without end cannot grow the store without end.
pub const MAX_NONCES: usize = 10_000;

/// The random source nonces are drawn from (the OS's in the server, a fixed
/// or seeded one in tests).
pub type NonceRng = Box<dyn RngCore + Send>;

/// The reference upstream's state and checks (no I/O).
pub struct Reference {
    config: ReferenceConfig,
    rng: NonceRng,
    keys: HashMap<String, Vec<u8>>,
    nonces: HashMap<String, (OffsetDateTime, bool)>,
    verify_answers: HashMap<Uuid, ([u8; 32], OffsetDateTime, VerifyResponse)>,
    consents: HashMap<Uuid, [u8; 32]>,
    received: Received,
}

fn payload_hash(payload: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, payload).as_ref());
    out
}

/// `not_after` plus three calendar months (the day clamped to the month).
fn plus_three_months(t: OffsetDateTime) -> OffsetDateTime {
    let month0 = u8::from(t.month()) - 1 + 3;
    let year = t.year() + i32::from(month0 / 12);
    let Ok(month) = time::Month::try_from(month0 % 12 + 1) else {
        return t;
    };
    let mut day = t.day();
    loop {
        if let Ok(date) = time::Date::from_calendar_date(year, month, day) {
            return t.replace_date(date);
        }
        day -= 1;
    }
}

impl Reference {
    /// A reference upstream with this configuration, drawing nonces from `rng`.
    pub fn new(config: ReferenceConfig, rng: NonceRng) -> Reference {
        let keys = config
            .device_keys
            .iter()
            .map(|k| (signer::key_id(k), k.clone()))
            .collect();
        Reference {
            config,
            rng,
            keys,
            nonces: HashMap::new(),
            verify_answers: HashMap::new(),
            consents: HashMap::new(),
            received: Received::default(),
        }
    }

    /// Nonces issued and still remembered.
    pub fn outstanding_nonces(&self) -> usize {
        self.nonces.len()
    }

    /// Issues a fresh nonce.
    pub fn challenge(&mut self, now: OffsetDateTime) -> Challenge {
        let mut bytes = [0u8; 32];
        self.rng.fill_bytes(&mut bytes);
        let nonce = B64URL.encode(bytes);
        // Forget nonces past their validity (a replay is answered only
        // within it), and the answers they guarded; then the oldest, if a
        // client asks faster than they expire.
        let ttl = self.config.nonce_ttl;
        self.nonces.retain(|_, (issued, _)| now - *issued <= ttl);
        self.verify_answers
            .retain(|_, (_, issued, _)| now - *issued <= ttl);
        while self.nonces.len() >= MAX_NONCES {
            let Some(oldest) = self
                .nonces
                .iter()
                .min_by_key(|(_, (issued, _))| *issued)
                .map(|(nonce, _)| nonce.clone())
            else {
                break;
            };
            self.nonces.remove(&oldest);
        }
        self.nonces.insert(nonce.clone(), (now, false));
        Challenge {
            nonce,
            expires_in: self.config.nonce_ttl.as_secs() as u32,
        }
    }

    fn open(&self, body: &str) -> Result<(String, Vec<u8>), Reject> {
        let parsed = jws::parse(body).map_err(Reject::MalformedJws)?;
        let key = self
            .keys
            .get(&parsed.header.kid)
            .ok_or(Reject::UnknownDevice)?;
        parsed.verify(key).map_err(|_| Reject::BadDeviceSignature)?;
        Ok((parsed.header.kid, parsed.payload))
    }

    fn take_nonce(&mut self, nonce: &str, now: OffsetDateTime) -> Result<(), Reject> {
        let (issued, used) = self.nonces.get_mut(nonce).ok_or(Reject::UnknownNonce)?;
        if *used {
            return Err(Reject::NonceReused);
        }
        *used = true;
        if now - *issued > self.config.nonce_ttl {
            return Err(Reject::NonceExpired);
        }
        Ok(())
    }

    fn check_certificate(
        &self,
        der: &[u8],
        now: OffsetDateTime,
    ) -> Result<(cert::CertificateInfo, bool), Reject> {
        let info =
            cert::certificate_info(der).map_err(|e| Reject::BadCertificate(e.to_string()))?;
        if !self
            .config
            .jpki_cas
            .iter()
            .any(|ca| cert::verify_issued_by(der, ca).is_ok())
        {
            return Err(Reject::CertificateUntrusted);
        }
        if now < info.not_before {
            return Err(Reject::CertificateNotYetValid);
        }
        if now > plus_three_months(info.not_after) {
            return Err(Reject::CertificateExpired);
        }
        let in_grace = now > info.not_after;
        Ok((info, in_grace))
    }

    /// Checks and answers a verify request (the JWS text).
    pub fn verify(&mut self, body: &str, now: OffsetDateTime) -> Result<VerifyResponse, Reject> {
        let (kid, payload) = self.open(body)?;
        let request: VerifyRequest = serde_json::from_slice(&payload)
            .map_err(|e| Reject::MalformedMessage(e.to_string()))?;
        if request.version != VERSION {
            return Err(Reject::UnsupportedVersion(request.version));
        }
        if request.device.id != kid {
            return Err(Reject::DeviceMismatch);
        }
        let hash = payload_hash(&payload);
        if let Some((first_hash, _, answer)) = self.verify_answers.get(&request.request_id) {
            if *first_hash != hash {
                return Err(Reject::RequestIdConflict);
            }
            // The same bytes again (a retry after a lost answer) are
            // answered only while their nonce is valid: a request copied off
            // the wire cannot fetch the answer later.
            let (issued, _) = self
                .nonces
                .get(&request.nonce)
                .ok_or(Reject::UnknownNonce)?;
            if now - *issued > self.config.nonce_ttl {
                return Err(Reject::NonceExpired);
            }
            self.received.duplicates += 1;
            return Ok(answer.clone());
        }
        self.take_nonce(&request.nonce, now)?;
        let der = B64
            .decode(&request.card.auth_cert)
            .map_err(|_| Reject::BadCertificate("not base64".into()))?;
        let (info, in_grace) = self.check_certificate(&der, now)?;
        if let AuthMethod::Pin { card_signature } = &request.auth {
            let signature = B64
                .decode(card_signature)
                .map_err(|_| Reject::BadCardSignature)?;
            let message = card_auth_message(&request.nonce, &request.request_id, &der);
            cert::verify_rsa_sha256(&der, &message, &signature)
                .map_err(|_| Reject::BadCardSignature)?;
        }
        let answer = match self.config.patients.get(&info.serial) {
            Some(p) => VerifyResponse {
                version: VERSION,
                request_id: request.request_id,
                qualification: p.qualification,
                processing: ProcessingResult::Normal,
                registered: p.registered,
                name_kana: Some(p.name_kana.clone()),
                specific_health_checkup: p.specific_health_checkup,
                certificate_in_grace: in_grace,
            },
            None => VerifyResponse {
                version: VERSION,
                request_id: request.request_id,
                qualification: Qualification::NotFound,
                processing: ProcessingResult::Normal,
                registered: false,
                name_kana: None,
                specific_health_checkup: false,
                certificate_in_grace: in_grace,
            },
        };
        self.verify_answers
            .insert(request.request_id, (hash, now, answer.clone()));
        self.note_head(&kid, request.issued_at, request.device.audit_head.as_ref());
        self.received.verify.push(request.request_id);
        Ok(answer)
    }

    /// Checks and stores a consent record (the JWS text).
    pub fn consent(&mut self, body: &str) -> Result<Uuid, Reject> {
        let (kid, payload) = self.open(body)?;
        let record: ConsentRecord = serde_json::from_slice(&payload)
            .map_err(|e| Reject::MalformedMessage(e.to_string()))?;
        if record.version != VERSION {
            return Err(Reject::UnsupportedVersion(record.version));
        }
        let hash = payload_hash(&payload);
        if let Some(first) = self.consents.get(&record.request_id) {
            if *first != hash {
                return Err(Reject::RequestIdConflict);
            }
            self.received.duplicates += 1;
            return Ok(record.request_id);
        }
        if !self.verify_answers.contains_key(&record.verify_request_id) {
            return Err(Reject::UnknownVerifyRequest);
        }
        if record.consents.flags().any(|f| f.value > 1) {
            return Err(Reject::BadConsentFlag);
        }
        self.consents.insert(record.request_id, hash);
        self.note_head(&kid, record.issued_at, record.audit_head.as_ref());
        self.received.consent.push(record.request_id);
        Ok(record.request_id)
    }

    /// Keeps a device's audit head, made at `issued_at`. Messages arrive out
    /// of the order they were made (a verify goes at once, a consent record
    /// waits in the outbox), so heads are compared by when they were made:
    /// one made later with a lower entry number, or one entry with two
    /// hashes, raises an alarm.
    fn note_head(&mut self, device: &str, issued_at: i64, head: Option<&AuditHead>) {
        let Some(head) = head else {
            return;
        };
        let kept = self
            .received
            .audit_heads
            .entry(device.to_string())
            .or_default();
        let went_back = kept.iter().any(|k| {
            (k.issued_at < issued_at && head.seq < k.seq)
                || (k.issued_at > issued_at && head.seq > k.seq)
                || (k.seq == head.seq && k.hash != head.hash)
        });
        let at = kept.partition_point(|k| k.issued_at <= issued_at);
        kept.insert(
            at,
            KeptHead {
                issued_at,
                seq: head.seq,
                hash: head.hash.clone(),
            },
        );
        if kept.len() > MAX_HEADS {
            kept.remove(0);
        }
        if went_back {
            self.received.audit_alarms.push(device.to_string());
        }
    }

    /// Checks and keeps an audit anchor (the JWS text).
    pub fn audit_anchor(&mut self, body: &str) -> Result<Uuid, Reject> {
        let (kid, payload) = self.open(body)?;
        let anchor: AuditAnchor = serde_json::from_slice(&payload)
            .map_err(|e| Reject::MalformedMessage(e.to_string()))?;
        if anchor.version != VERSION {
            return Err(Reject::UnsupportedVersion(anchor.version));
        }
        if anchor.device.id != kid {
            return Err(Reject::DeviceMismatch);
        }
        if !self.received.audit_anchor.contains(&anchor.request_id) {
            self.note_head(&kid, anchor.issued_at, anchor.device.audit_head.as_ref());
            self.received.audit_anchor.push(anchor.request_id);
        }
        Ok(anchor.request_id)
    }

    /// What arrived so far.
    pub fn received(&self) -> &Received {
        &self.received
    }
}

/// What the HTTP handlers share: the checks, and the clock they are run at.
struct Server {
    reference: Mutex<Reference>,
    clock: Box<dyn Clock + Send + Sync>,
}

type Shared = Arc<Server>;

impl IntoResponse for Reject {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: self.code().to_string(),
            message: self.to_string(),
        };
        (self.status(), Json(body)).into_response()
    }
}

fn lock(state: &Shared) -> std::sync::MutexGuard<'_, Reference> {
    // A panic while holding the lock would be a bug in the checks; keep
    // serving rather than poisoning every later request.
    state
        .reference
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

async fn challenge(State(state): State<Shared>) -> Json<Challenge> {
    let now = state.clock.now();
    Json(lock(&state).challenge(now))
}

async fn verify(State(state): State<Shared>, body: String) -> Result<Json<VerifyResponse>, Reject> {
    let now = state.clock.now();
    lock(&state).verify(&body, now).map(Json)
}

async fn consent(State(state): State<Shared>, body: String) -> Result<Json<ConsentAck>, Reject> {
    lock(&state)
        .consent(&body)
        .map(|request_id| Json(ConsentAck { request_id }))
}

async fn audit_anchor(
    State(state): State<Shared>,
    body: String,
) -> Result<Json<ConsentAck>, Reject> {
    lock(&state)
        .audit_anchor(&body)
        .map(|request_id| Json(ConsentAck { request_id }))
}

async fn received(State(state): State<Shared>) -> Json<Received> {
    Json(lock(&state).received().clone())
}

/// The HTTP routes: `GET /v1/challenge`, `POST /v1/verify`, `POST /v1/consent`,
/// `POST /v1/audit-anchor`, and `GET /v1/received` (what arrived, for tests and the staff side); every
/// check runs at `clock`'s time.
pub fn router(reference: Reference, clock: impl Clock + Send + Sync + 'static) -> Router {
    Router::new()
        .route("/v1/challenge", get(challenge))
        .route("/v1/verify", post(verify))
        .route("/v1/consent", post(consent))
        .route("/v1/audit-anchor", post(audit_anchor))
        .route("/v1/received", get(received))
        .with_state(Arc::new(Server {
            reference: Mutex::new(reference),
            clock: Box::new(clock),
        }))
}

/// The reference upstream in this process, as the kiosk's
/// [`myna_upstream::courier::Upstream`]: the same checks without a
/// socket, for benches and tests that run many receptions quickly.
pub struct InProcess<C> {
    reference: Mutex<Reference>,
    clock: C,
}

impl<C: Clock> InProcess<C> {
    /// Runs `reference` at `clock`'s time.
    pub fn new(reference: Reference, clock: C) -> InProcess<C> {
        InProcess {
            reference: Mutex::new(reference),
            clock,
        }
    }

    /// What arrived so far.
    pub fn received(&self) -> Received {
        self.lock().received().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Reference> {
        self.reference
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl<C: Clock> myna_upstream::courier::Upstream for InProcess<C> {
    fn challenge(&self) -> Result<Challenge, myna_upstream::courier::UpstreamError> {
        let now = self.clock.now();
        Ok(self.lock().challenge(now))
    }

    fn post(
        &self,
        kind: myna_upstream::messages::MessageKind,
        jws: &str,
    ) -> Result<String, myna_upstream::courier::UpstreamError> {
        use myna_upstream::messages::MessageKind;
        let now = self.clock.now();
        let answer = match kind {
            MessageKind::Verify => self
                .lock()
                .verify(jws, now)
                .map(|a| serde_json::to_string(&a)),
            MessageKind::Consent => self
                .lock()
                .consent(jws)
                .map(|request_id| serde_json::to_string(&ConsentAck { request_id })),
            MessageKind::AuditAnchor => self
                .lock()
                .audit_anchor(jws)
                .map(|request_id| serde_json::to_string(&ConsentAck { request_id })),
        };
        match answer {
            Ok(Ok(text)) => Ok(text),
            Ok(Err(e)) => Err(myna_upstream::courier::UpstreamError::BadAnswer(Box::new(
                e,
            ))),
            Err(reject) => Err(myna_upstream::courier::UpstreamError::Rejected {
                status: reject.status().as_u16(),
                code: reject.code().to_string(),
                message: reject.to_string(),
            }),
        }
    }
}

/// Serves on `listener` until the process ends.
pub async fn serve(
    listener: tokio::net::TcpListener,
    reference: Reference,
    clock: impl Clock + Send + Sync + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(reference, clock)).await
}

/// Entry point for fuzzing the request parsers: the input is tried both as
/// the raw body and as the payload of a correctly signed JWS, so the message
/// checks behind the signature are reached too. Never panics. Only with the
/// `fuzz` feature: it is a test harness, not part of the server's API.
#[cfg(feature = "fuzz")]
pub fn fuzz_requests(data: &[u8]) {
    use myna_upstream::signer::{DeviceSigner, FileSigner};
    use std::sync::OnceLock;
    static SIGNER: OnceLock<Option<FileSigner>> = OnceLock::new();
    // A fixed key: a crash found by the fuzzer replays the same way.
    let signer = SIGNER.get_or_init(|| FileSigner::from_pkcs8(&TEST_DEVICE_KEY_PKCS8).ok());
    let Some(signer) = signer else { return };
    let mut reference = Reference::new(
        ReferenceConfig {
            device_keys: vec![signer.public_key().to_vec()],
            jpki_cas: Vec::new(),
            patients: HashMap::new(),
            nonce_ttl: Duration::from_secs(60),
        },
        Box::new(rand::rngs::mock::StepRng::new(0, 1)),
    );
    let now = OffsetDateTime::UNIX_EPOCH;
    let text = String::from_utf8_lossy(data);
    let _ = reference.verify(&text, now);
    let _ = reference.consent(&text);
    if let Ok(signed) = jws::sign(signer, data) {
        let _ = reference.verify(&signed, now);
        let _ = reference.consent(&signed);
    }
}

/// A fixed, throw-away device key (P-256, PKCS#8 as ring writes it; the
/// scalar is SHA-256 of `"mynareader test device key"`) for the fuzz harness
/// and the known-answer tests, so their inputs replay byte for byte. Its key
/// id is `5980d4aae6dad44b`.
pub const TEST_DEVICE_KEY_PKCS8: [u8; 138] = [
    0x30, 0x81, 0x87, 0x02, 0x01, 0x00, 0x30, 0x13, 0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02,
    0x01, 0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07, 0x04, 0x6D, 0x30, 0x6B, 0x02,
    0x01, 0x01, 0x04, 0x20, 0x95, 0x19, 0x6F, 0x0F, 0x0C, 0xB8, 0xBA, 0xC6, 0xA3, 0x7C, 0x8D, 0x58,
    0xB9, 0x58, 0x21, 0xB6, 0x91, 0x59, 0x9A, 0x69, 0x68, 0x4E, 0xA3, 0x17, 0xC6, 0x72, 0x06, 0x70,
    0x04, 0xBB, 0x36, 0xAD, 0xA1, 0x44, 0x03, 0x42, 0x00, 0x04, 0xD4, 0xF5, 0x1D, 0xBA, 0x2B, 0x52,
    0x35, 0xC2, 0x67, 0xD3, 0x27, 0xC0, 0xA5, 0xB2, 0xD6, 0x43, 0x2A, 0x52, 0x18, 0x3A, 0x34, 0xB9,
    0xD4, 0x9F, 0x90, 0x4E, 0x1C, 0xDE, 0x5F, 0x1A, 0xBE, 0x08, 0x48, 0x5A, 0x2F, 0x15, 0x42, 0xD9,
    0xF6, 0x55, 0x58, 0x65, 0x3F, 0xE0, 0xA6, 0x0F, 0x4B, 0x21, 0xBC, 0x68, 0x9D, 0x5C, 0x24, 0x7A,
    0x41, 0xF3, 0x24, 0x03, 0x4D, 0xC2, 0x76, 0x1C, 0x8E, 0x36,
];
