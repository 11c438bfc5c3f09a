//! The upstream messages (`../shared/design/UPSTREAM.md`): versioned JSON,
//! signed as compact JWS by the device key. This module owns every wire type
//! that the kiosk and an upstream (the reference one included) both write or
//! parse, and the card-signature input, so neither side has its own copy. Request types refuse unknown
//! fields, so nothing that must never leave the kiosk (face data, PIN, names)
//! can ride along unnoticed.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The message format version.
pub const VERSION: u32 = 1;

/// Domain separator of the card signature input.
pub const CARD_AUTH_CONTEXT: &[u8] = b"mynareader-card-auth-v1";

/// `GET /v1/challenge`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Challenge {
    /// 32 random bytes, base64url.
    pub nonce: String,
    /// Seconds the nonce stays valid.
    pub expires_in: u32,
}

/// The device that sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceInfo {
    /// Device id (the JWS `kid`).
    pub id: String,
    /// Reader firmware version.
    pub firmware_version: String,
    /// Host-driver version.
    pub driver_version: String,
    /// SHA-256 of the face model in use, hex.
    pub face_model_sha256: Option<String>,
    /// SHA-256 of the PAD model in use, hex.
    pub pad_model_sha256: Option<String>,
    /// The staff audit trail's head when this was sent: kept by the
    /// upstream, it shows later whether the kiosk's trail was cut,
    /// rewritten or put back from an older copy.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub audit_head: Option<AuditHead>,
}

/// The head of a kiosk's staff audit trail: its last entry's number and
/// hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditHead {
    /// The last entry's number.
    pub seq: i64,
    /// Its hash (64 hex digits).
    pub hash: String,
}

/// Sent when the kiosk is idle and its audit trail grew since the head last
/// left (`POST /v1/audit-anchor`); answered with a [`ConsentAck`]-shaped
/// receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditAnchor {
    /// Format version.
    pub version: u32,
    /// This message's id (idempotency key).
    pub request_id: Uuid,
    /// Unix seconds.
    pub issued_at: i64,
    /// The device, with its trail's head.
    pub device: DeviceInfo,
}

impl DeviceInfo {
    /// This device: its key id, the given firmware version, this driver's
    /// version, no model hashes yet.
    pub fn new(key_id: &str, firmware_version: &str) -> DeviceInfo {
        DeviceInfo {
            id: key_id.to_string(),
            firmware_version: firmware_version.to_string(),
            driver_version: env!("CARGO_PKG_VERSION").to_string(),
            face_model_sha256: None,
            pad_model_sha256: None,
            audit_head: None,
        }
    }
}

/// The only card data that leaves the kiosk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardData {
    /// The 利用者証明用電子証明書, DER, standard base64.
    pub auth_cert: String,
}

/// A coarse face-match band; never the raw score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScoreBand {
    /// Well above the threshold.
    High,
    /// Above the threshold.
    Medium,
}

/// Presentation-attack detection outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PadResult {
    /// Judged live.
    Live,
    /// Judged an attack but matched anyway: PAD only reported (evaluation
    /// settings; the default refuses an attack).
    Attack,
    /// PAD switched off in configuration.
    Disabled,
}

/// Why staff confirmed identity visually.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VisualReason {
    /// 顔認証不可.
    FaceUnavailable,
    /// 暗証番号失念.
    PinForgotten,
    /// 来所困難.
    DifficultToVisit,
    /// 体調不良.
    Unwell,
    /// 認知機能.
    Cognitive,
    /// その他.
    Other,
}

impl VisualReason {
    /// Every reason, in the order staff see them.
    pub const ALL: [VisualReason; 6] = [
        VisualReason::FaceUnavailable,
        VisualReason::PinForgotten,
        VisualReason::DifficultToVisit,
        VisualReason::Unwell,
        VisualReason::Cognitive,
        VisualReason::Other,
    ];

    /// The code on the wire, in the audit trail and on the control socket
    /// (the serde name).
    pub const fn code(self) -> &'static str {
        match self {
            VisualReason::FaceUnavailable => "face-unavailable",
            VisualReason::PinForgotten => "pin-forgotten",
            VisualReason::DifficultToVisit => "difficult-to-visit",
            VisualReason::Unwell => "unwell",
            VisualReason::Cognitive => "cognitive",
            VisualReason::Other => "other",
        }
    }

    /// The reason a code names.
    pub fn from_code(code: &str) -> Option<VisualReason> {
        VisualReason::ALL.into_iter().find(|r| r.code() == code)
    }
}

/// How identity was confirmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "lowercase", deny_unknown_fields)]
pub enum AuthMethod {
    /// PIN verified by the card, which then signed the challenge.
    Pin {
        /// RSA PKCS#1 v1.5 signature, standard base64.
        card_signature: String,
    },
    /// Face matched on the device.
    Face {
        /// Captures used (1–3).
        attempts: u8,
        /// Coarse band.
        score_band: ScoreBand,
        /// PAD outcome.
        pad: PadResult,
    },
    /// Staff checked the face against the card.
    Visual {
        /// Staff member.
        staff_id: String,
        /// Reason code.
        reason: VisualReason,
    },
}

/// The verify request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    /// Format version.
    pub version: u32,
    /// UUID v7; also the idempotency key.
    pub request_id: Uuid,
    /// Unix seconds.
    pub issued_at: i64,
    /// The upstream's nonce.
    pub nonce: String,
    /// The sending device.
    pub device: DeviceInfo,
    /// The card certificate.
    pub card: CardData,
    /// How identity was confirmed.
    pub auth: AuthMethod,
}

impl VerifyRequest {
    /// A version-1 request for the card certificate `auth_cert_der`.
    pub fn new(
        request_id: Uuid,
        issued_at: i64,
        nonce: &str,
        device: DeviceInfo,
        auth_cert_der: &[u8],
        auth: AuthMethod,
    ) -> VerifyRequest {
        use base64::Engine;
        VerifyRequest {
            version: VERSION,
            request_id,
            issued_at,
            nonce: nonce.to_string(),
            device,
            card: CardData {
                auth_cert: base64::engine::general_purpose::STANDARD.encode(auth_cert_der),
            },
            auth,
        }
    }
}

/// 資格有効性.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Qualification {
    /// 1 有効.
    Valid,
    /// 2 無効.
    Invalid,
    /// 3 無効(新しい資格あり).
    InvalidNewerExists,
    /// 4 該当資格なし.
    NotFound,
    /// 5 複数該当.
    Multiple,
}

/// 処理結果区分.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProcessingResult {
    /// 1 正常.
    Normal,
    /// 2 処理中.
    InProgress,
    /// 9 異常.
    Error,
}

/// The verify response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyResponse {
    /// Format version.
    pub version: u32,
    /// The request answered.
    pub request_id: Uuid,
    /// 資格有効性.
    pub qualification: Qualification,
    /// 処理結果区分.
    pub processing: ProcessingResult,
    /// Registered for health-insurance use.
    pub registered: bool,
    /// Name in kana for the `Done` screen.
    pub name_kana: Option<String>,
    /// Whether the 特定健診 consent item applies.
    pub specific_health_checkup: bool,
    /// The certificate is expired but inside the 3-month grace period.
    pub certificate_in_grace: bool,
}

/// Who set a consent flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FlagSource {
    /// The patient answered on the reader.
    Patient,
    /// Set by the national flow without a screen (限度額 since 2024-10-07;
    /// 特定疾病 behind a setting).
    Flow,
}

/// One consent decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentFlag {
    /// 1 agree, 0 decline.
    pub value: u8,
    /// Unix seconds when decided.
    pub decided_at: i64,
    /// Who set it (absent: the patient, as in records before 2024-10-07).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub source: Option<FlagSource>,
}

/// The consent flags, named as the national system names them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(non_snake_case)]
pub struct Consents {
    /// 診療.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub DiagnosisInfoConsFlg: Option<ConsentFlag>,
    /// 薬剤.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub PharmacistsInfoConsFlg: Option<ConsentFlag>,
    /// 手術.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub OperationInfoConsFlg: Option<ConsentFlag>,
    /// 特定健診.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub SpecificHealthCheckupsInfoConsFlg: Option<ConsentFlag>,
    /// 限度額.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub LimitApplicationCertificateRelatedConsFlg: Option<ConsentFlag>,
    /// 特定疾病.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub SpecificDiseasesCertificateRelatedConsFlg: Option<ConsentFlag>,
}

impl Consents {
    /// Every flag that is set.
    pub fn flags(&self) -> impl Iterator<Item = &ConsentFlag> {
        [
            &self.DiagnosisInfoConsFlg,
            &self.PharmacistsInfoConsFlg,
            &self.OperationInfoConsFlg,
            &self.SpecificHealthCheckupsInfoConsFlg,
            &self.LimitApplicationCertificateRelatedConsFlg,
            &self.SpecificDiseasesCertificateRelatedConsFlg,
        ]
        .into_iter()
        .flatten()
    }
}

/// The consent record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentRecord {
    /// Format version.
    pub version: u32,
    /// This record's id (idempotency key).
    pub request_id: Uuid,
    /// The verify request it belongs to.
    pub verify_request_id: Uuid,
    /// Unix seconds.
    pub issued_at: i64,
    /// The decisions.
    pub consents: Consents,
    /// The patient applied for health-insurance use at this visit.
    pub registration_request: bool,
    /// The answers were given aloud by a patient who could not reach the
    /// reader and entered by this staff member (absent: on the reader).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub relayed_by: Option<String>,
    /// The staff audit trail's head when this was made.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub audit_head: Option<AuditHead>,
}

/// The acknowledgement of a consent record (`POST /v1/consent`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentAck {
    /// The record acknowledged.
    pub request_id: Uuid,
}

/// The JSON body of every refusal (a 4xx): the upstream writes it, the HTTP
/// client reads it into [`super::courier::UpstreamError::Rejected`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Stable code (`bad-card-signature`, `nonce-reused`, …).
    pub error: String,
    /// For people.
    pub message: String,
}

/// What the card signs in PIN mode: SHA-256 of
/// `"mynareader-card-auth-v1" ‖ nonce ‖ request_id ‖ SHA-256(auth_cert)`,
/// with the nonce as its base64url text and the request id as its 16 bytes.
pub fn card_auth_digest(nonce: &str, request_id: &Uuid, auth_cert_der: &[u8]) -> [u8; 32] {
    let message = card_auth_message(nonce, request_id, auth_cert_der);
    let mut out = [0u8; 32];
    out.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, &message).as_ref());
    out
}

/// The message preimage of [`card_auth_digest`] (what a verifier hashes).
pub fn card_auth_message(nonce: &str, request_id: &Uuid, auth_cert_der: &[u8]) -> Vec<u8> {
    let cert_hash = ring::digest::digest(&ring::digest::SHA256, auth_cert_der);
    [
        CARD_AUTH_CONTEXT,
        nonce.as_bytes(),
        request_id.as_bytes(),
        cert_hash.as_ref(),
    ]
    .concat()
}

/// Which kind of message a JWS carries (outbox column, HTTP path).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    /// A verify request.
    Verify,
    /// A consent record.
    Consent,
    /// The audit trail's head, sent while idle.
    AuditAnchor,
}

impl MessageKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Verify => "verify",
            MessageKind::Consent => "consent",
            MessageKind::AuditAnchor => "audit-anchor",
        }
    }

    /// From the stored name.
    pub fn parse(text: &str) -> Option<MessageKind> {
        match text {
            "verify" => Some(MessageKind::Verify),
            "consent" => Some(MessageKind::Consent),
            "audit-anchor" => Some(MessageKind::AuditAnchor),
            _ => None,
        }
    }

    /// The upstream path.
    pub fn path(self) -> &'static str {
        match self {
            MessageKind::Verify => "/v1/verify",
            MessageKind::Consent => "/v1/consent",
            MessageKind::AuditAnchor => "/v1/audit-anchor",
        }
    }
}
