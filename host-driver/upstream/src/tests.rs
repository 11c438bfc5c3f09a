//! The client side of the upstream leg without a network or a card:
//! known-answer vectors for what the kiosk signs (the expected bytes were
//! computed once with Python's hashlib, base64 and `cryptography`, not with
//! this code), and the courier's deadline and backoff on a manual clock with
//! seeded jitter, so no test waits for real time.

use std::cell::{Cell, RefCell};
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use rand::rngs::mock::StepRng;
use rand::rngs::StdRng;
use rand::SeedableRng;
use ring::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_FIXED};
use uuid::Uuid;

use super::clock::{Clock, ManualClock};
use super::courier::{Backoff, Courier, DeliveryError, Upstream, UpstreamError};
use super::jws;
use super::messages::*;
use super::outbox::{Outbox, State};
use super::request::sign_request;
use super::signer::{DeviceSigner, FileSigner};

// ---------------------------------------------------------------------------
// Known answers.

/// A throw-away P-256 key: the scalar is SHA-256("mynareader test device
/// key"), wrapped in the PKCS#8 layout ring writes (the same key as
/// `upstream_ref::TEST_DEVICE_KEY_PKCS8`).
const KAT_KEY_PKCS8: &str = "308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b\
    020101042095196f0f0cb8bac6a37c8d58b95821b691599a69684ea317c672067004bb36ad\
    a14403420004d4f51dba2b5235c267d327c0a5b2d6432a52183a34b9d49f904e1cde5f1abe\
    08485a2f1542d9f65558653fe0a60f4b21bc689d5c247a41f324034dc2761c8e36";
const KAT_PUBLIC_KEY: &str = "04d4f51dba2b5235c267d327c0a5b2d6432a52183a34b9d49f904e1cde5f1abe\
    08485a2f1542d9f65558653fe0a60f4b21bc689d5c247a41f324034dc2761c8e36";
/// The first 16 hex digits of SHA-256(public key).
const KAT_KEY_ID: &str = "5980d4aae6dad44b";

const KAT_NONCE: &str = "bm9uY2UtZm9yLWthdA";
const KAT_REQUEST_ID: u128 = 0x0192_d4e8_a5b0_7c3e_8f1a_2b3c_4d5e_6f70;

/// The "certificate" of the vectors: the bytes 0..64.
fn kat_cert() -> Vec<u8> {
    (0u8..64).collect()
}

/// `"mynareader-card-auth-v1"` ‖ nonce text ‖ request id (16 bytes) ‖
/// SHA-256(cert), and its SHA-256.
const KAT_CARD_MESSAGE: &str = "6d796e617265616465722d636172642d617574682d7631\
    626d3975593255745a6d39794c57746864410192d4e8a5b07c3e8f1a2b3c4d5e6f70\
    fdeab9acf3710362bd2658cdc9a29e8f9c757fcf9811603a8c447cd1d9151108";
const KAT_CARD_DIGEST: &str = "b6dc2bb8ffe4e483d638af4a34c53c60691795c96c154ab2bc8725179e002658";

/// The verify request of the vectors, as the upstream receives it.
const KAT_PAYLOAD_JSON: &str = r#"{"version":1,"request_id":"0192d4e8-a5b0-7c3e-8f1a-2b3c4d5e6f70","issued_at":1767225600,"nonce":"bm9uY2UtZm9yLWthdA","device":{"id":"5980d4aae6dad44b","firmware_version":"1.2.3","driver_version":"0.1.0","face_model_sha256":null,"pad_model_sha256":null},"card":{"auth_cert":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw=="},"auth":{"method":"pin","card_signature":"AQID"}}"#;
/// base64url of `{"alg":"ES256","kid":"5980d4aae6dad44b"}`.
const KAT_HEADER_B64: &str = "eyJhbGciOiJFUzI1NiIsImtpZCI6IjU5ODBkNGFhZTZkYWQ0NGIifQ";
/// base64url of [`KAT_PAYLOAD_JSON`].
const KAT_PAYLOAD_B64: &str = "eyJ2ZXJzaW9uIjoxLCJyZXF1ZXN0X2lkIjoiMDE5MmQ0ZTgtYTViMC03YzNlLThmMWEtMmIzYzRkNWU2ZjcwIiwiaXNzdWVkX2F0IjoxNzY3MjI1NjAwLCJub25jZSI6ImJtOXVZMlV0Wm05eUxXdGhkQSIsImRldmljZSI6eyJpZCI6IjU5ODBkNGFhZTZkYWQ0NGIiLCJmaXJtd2FyZV92ZXJzaW9uIjoiMS4yLjMiLCJkcml2ZXJfdmVyc2lvbiI6IjAuMS4wIiwiZmFjZV9tb2RlbF9zaGEyNTYiOm51bGwsInBhZF9tb2RlbF9zaGEyNTYiOm51bGx9LCJjYXJkIjp7ImF1dGhfY2VydCI6IkFBRUNBd1FGQmdjSUNRb0xEQTBPRHhBUkVoTVVGUllYR0JrYUd4d2RIaDhnSVNJakpDVW1KeWdwS2lzc0xTNHZNREV5TXpRMU5qYzRPVG83UEQwK1B3PT0ifSwiYXV0aCI6eyJtZXRob2QiOiJwaW4iLCJjYXJkX3NpZ25hdHVyZSI6IkFRSUQifX0";
/// The same message signed once by Python's `cryptography` with the key above.
const KAT_SIGNATURE_B64: &str =
    "qfPIBnXgR4gcdQDRCkyAejbWPmrPhxnVUrGcEuJdnf2MvjNTA_-UpwFjVdab2zqlCpFBSBneiyqQlUNGq3aIVQ";

fn kat_signer() -> FileSigner {
    FileSigner::from_pkcs8(&hex::decode(KAT_KEY_PKCS8).unwrap()).unwrap()
}

fn kat_request() -> VerifyRequest {
    VerifyRequest::new(
        Uuid::from_u128(KAT_REQUEST_ID),
        1_767_225_600,
        KAT_NONCE,
        DeviceInfo {
            id: KAT_KEY_ID.into(),
            firmware_version: "1.2.3".into(),
            driver_version: "0.1.0".into(),
            face_model_sha256: None,
            pad_model_sha256: None,
            audit_head: None,
        },
        &kat_cert(),
        AuthMethod::Pin {
            card_signature: "AQID".into(),
        },
    )
}

#[test]
fn the_card_signature_input_matches_the_known_answer() {
    let id = Uuid::from_u128(KAT_REQUEST_ID);
    assert_eq!(
        hex::encode(card_auth_message(KAT_NONCE, &id, &kat_cert())),
        KAT_CARD_MESSAGE
    );
    assert_eq!(
        hex::encode(card_auth_digest(KAT_NONCE, &id, &kat_cert())),
        KAT_CARD_DIGEST
    );
}

#[test]
fn the_device_key_has_the_known_public_key_and_id() {
    let signer = kat_signer();
    assert_eq!(hex::encode(signer.public_key()), KAT_PUBLIC_KEY);
    assert_eq!(signer.key_id(), KAT_KEY_ID);
}

#[test]
fn a_signed_verify_request_matches_the_known_answer() {
    let signer = kat_signer();
    let request = kat_request();
    assert_eq!(
        String::from_utf8(serde_json::to_vec(&request).unwrap()).unwrap(),
        KAT_PAYLOAD_JSON
    );
    let signed = sign_request(&signer, &request).unwrap();
    assert_eq!(signed.request_id, Uuid::from_u128(KAT_REQUEST_ID));
    let parts: Vec<&str> = signed.jws.split('.').collect();
    assert_eq!(parts.len(), 3);
    // ECDSA in ring is randomised: the header and payload are byte-exact,
    // the signature is checked with the fixed public key over the signing
    // input written out here (not taken from the code under test).
    assert_eq!(parts[0], KAT_HEADER_B64);
    assert_eq!(parts[1], KAT_PAYLOAD_B64);
    let signing_input = format!("{KAT_HEADER_B64}.{KAT_PAYLOAD_B64}");
    let signature = B64URL.decode(parts[2]).unwrap();
    assert_eq!(signature.len(), 64, "ES256 signatures are r‖s");
    UnparsedPublicKey::new(
        &ECDSA_P256_SHA256_FIXED,
        hex::decode(KAT_PUBLIC_KEY).unwrap(),
    )
    .verify(signing_input.as_bytes(), &signature)
    .unwrap();
}

#[test]
fn a_known_good_jws_from_another_signer_verifies_and_a_changed_one_does_not() {
    let public = hex::decode(KAT_PUBLIC_KEY).unwrap();
    let lookup = |kid: &str| (kid == KAT_KEY_ID).then(|| public.clone());
    let good = format!("{KAT_HEADER_B64}.{KAT_PAYLOAD_B64}.{KAT_SIGNATURE_B64}");
    assert_eq!(
        jws::verify(&good, lookup).unwrap(),
        KAT_PAYLOAD_JSON.as_bytes()
    );
    let request: VerifyRequest = serde_json::from_str(KAT_PAYLOAD_JSON).unwrap();
    assert_eq!(request, kat_request());
    // One payload character changed: the signature no longer covers it.
    let changed = good.replacen("eyJ2ZXJzaW9uIjox", "eyJ2ZXJzaW9uIjoy", 1);
    assert_eq!(
        jws::verify(&changed, lookup),
        Err(jws::JwsError::BadSignature)
    );
}

// ---------------------------------------------------------------------------
// The courier on a manual clock.

/// An upstream that is down until told otherwise, then fails `flaky` more
/// times before answering; it records what it accepted. The tests' bodies
/// are their request ids, which its answers name (or another, when
/// `mixed_up`).
#[derive(Default)]
struct Fake {
    up: Cell<bool>,
    flaky: Cell<u32>,
    refuse: Cell<bool>,
    mixed_up: Cell<bool>,
    tries: Cell<u32>,
    accepted: RefCell<Vec<String>>,
}

impl Upstream for Fake {
    fn challenge(&self) -> Result<Challenge, UpstreamError> {
        Ok(Challenge {
            nonce: KAT_NONCE.into(),
            expires_in: 60,
        })
    }

    fn post(&self, kind: MessageKind, jws: &str) -> Result<String, UpstreamError> {
        self.tries.set(self.tries.get() + 1);
        if self.refuse.get() {
            return Err(UpstreamError::Rejected {
                status: 403,
                code: "bad-card-signature".into(),
                message: "card signature does not verify".into(),
            });
        }
        if !self.up.get() {
            return Err(UpstreamError::Unreachable("connection refused".into()));
        }
        if self.flaky.get() > 0 {
            self.flaky.set(self.flaky.get() - 1);
            return Err(UpstreamError::Server(503));
        }
        let mut request_id = Uuid::parse_str(jws).unwrap_or_default();
        if self.mixed_up.get() {
            request_id = Uuid::from_u128(request_id.as_u128() ^ 1);
        } else {
            self.accepted.borrow_mut().push(jws.to_string());
        }
        Ok(match kind {
            MessageKind::Verify => serde_json::to_string(&VerifyResponse {
                version: VERSION,
                request_id,
                qualification: Qualification::Valid,
                processing: ProcessingResult::Normal,
                registered: true,
                name_kana: None,
                specific_health_checkup: false,
                certificate_in_grace: false,
            })
            .unwrap(),
            MessageKind::Consent | MessageKind::AuditAnchor => {
                serde_json::to_string(&ConsentAck { request_id }).unwrap()
            }
        })
    }
}

const START_MS: i64 = 1_767_225_600_000;

const FAST: Backoff = Backoff {
    base: Duration::from_millis(50),
    max: Duration::from_millis(400),
};

fn courier<'a>(
    dir: &tempfile::TempDir,
    upstream: &'a Fake,
    clock: &'a ManualClock,
) -> Courier<&'a Fake, &'a ManualClock, StdRng> {
    let outbox = Outbox::open(&dir.path().join("outbox.db")).unwrap();
    Courier::with_clock(outbox, upstream, FAST, clock, StdRng::seed_from_u64(7))
}

#[test]
fn a_verify_request_past_its_deadline_is_unavailable_and_never_sent() {
    let dir = tempfile::tempdir().unwrap();
    let upstream = Fake::default();
    let clock = ManualClock::at_ms(START_MS);
    let c = courier(&dir, &upstream, &clock);
    let id = Uuid::from_u128(KAT_REQUEST_ID);
    let deadline = Duration::from_millis(1500);
    match c.verify(id, &id.to_string(), deadline) {
        Err(DeliveryError::UpstreamUnavailable {
            attempts,
            last_error,
        }) => {
            // 50..400 ms waits with half of each random: at least 5 tries fit.
            assert!(attempts >= 5, "{attempts} tries");
            assert_eq!(attempts, upstream.tries.get());
            assert!(
                matches!(last_error, Some(UpstreamError::Unreachable(_))),
                "{last_error:?}"
            );
        }
        other => panic!("expected UpstreamUnavailable, got {other:?}"),
    }
    // It waited out the whole deadline on the clock, and not a moment longer
    // than the last wait.
    assert!(clock.now_ms() >= START_MS + 1500, "{}", clock.now_ms());
    assert!(clock.slept() <= deadline);
    assert_eq!(
        c.outbox().get(id).unwrap().map(|m| m.state),
        Some(State::Expired)
    );
    // The upstream comes back: the expired request is never sent.
    upstream.up.set(true);
    let tries = upstream.tries.get();
    clock.advance(Duration::from_secs(60));
    let report = c.drain_for(Duration::from_secs(5)).unwrap();
    assert_eq!((report.delivered, report.pending), (0, 0));
    assert_eq!(upstream.tries.get(), tries);
    assert!(upstream.accepted.borrow().is_empty());
}

#[test]
fn a_verify_request_answered_within_its_deadline_returns_the_answer() {
    let dir = tempfile::tempdir().unwrap();
    let upstream = Fake::default();
    upstream.up.set(true);
    upstream.flaky.set(2);
    let clock = ManualClock::at_ms(START_MS);
    let c = courier(&dir, &upstream, &clock);
    let id = Uuid::from_u128(KAT_REQUEST_ID);
    let answer = c
        .verify(id, &id.to_string(), Duration::from_secs(10))
        .unwrap();
    assert_eq!(answer.qualification, Qualification::Valid);
    assert_eq!(upstream.tries.get(), 3);
    // Two waits of 25..50 and 50..100 ms, on the manual clock only.
    let slept = clock.slept();
    assert!(
        slept >= Duration::from_millis(75) && slept <= Duration::from_millis(150),
        "{slept:?}"
    );
    assert_eq!(
        c.outbox().get(id).unwrap().map(|m| m.state),
        Some(State::Delivered)
    );
    assert_eq!(answer.request_id, id);
    // Asked again (a restart): nothing is sent again, and the answer was
    // not kept at rest (only its receipt).
    assert!(matches!(
        c.verify(id, &id.to_string(), Duration::from_secs(10)),
        Err(DeliveryError::AnsweredBefore)
    ));
    assert_eq!(upstream.tries.get(), 3);
    let stored = c.outbox().get(id).unwrap().unwrap();
    assert_eq!(
        stored.answer.as_deref(),
        Some(format!("{{\"request_id\":\"{id}\"}}").as_str())
    );
}

#[test]
fn an_answer_naming_another_request_is_no_delivery() {
    let dir = tempfile::tempdir().unwrap();
    let upstream = Fake::default();
    upstream.up.set(true);
    upstream.mixed_up.set(true);
    let clock = ManualClock::at_ms(START_MS);
    let c = courier(&dir, &upstream, &clock);
    let id = Uuid::from_u128(KAT_REQUEST_ID);
    match c.verify(id, &id.to_string(), Duration::from_secs(1)) {
        Err(DeliveryError::UpstreamUnavailable {
            last_error: Some(UpstreamError::OtherRequest { expected, got }),
            ..
        }) => {
            assert_eq!(expected, id);
            assert_eq!(got, Some(Uuid::from_u128(KAT_REQUEST_ID ^ 1)));
        }
        other => panic!("{other:?}"),
    }
    // A consent record whose acknowledgement names another record waits.
    let consent = Uuid::from_u128(77);
    c.enqueue(consent, MessageKind::Consent, &consent.to_string())
        .unwrap();
    let report = c.drain_due().unwrap();
    assert_eq!((report.delivered, report.pending), (0, 1));
    upstream.mixed_up.set(false);
    clock.advance(Duration::from_secs(5));
    assert_eq!(c.drain_due().unwrap().delivered, 1);
}

#[test]
fn a_refused_verify_request_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let upstream = Fake::default();
    upstream.refuse.set(true);
    let clock = ManualClock::at_ms(START_MS);
    let c = courier(&dir, &upstream, &clock);
    let id = Uuid::from_u128(KAT_REQUEST_ID);
    match c.verify(id, &id.to_string(), Duration::from_secs(10)) {
        Err(DeliveryError::Refused { code, .. }) => assert_eq!(code, "bad-card-signature"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(upstream.tries.get(), 1);
    assert_eq!(clock.slept(), Duration::ZERO);
    assert_eq!(
        c.outbox().get(id).unwrap().map(|m| m.state),
        Some(State::Rejected)
    );
}

#[test]
fn messages_wait_for_their_backoff_and_drain_in_order_once_the_upstream_is_back() {
    let dir = tempfile::tempdir().unwrap();
    let upstream = Fake::default();
    let clock = ManualClock::at_ms(START_MS);
    let c = courier(&dir, &upstream, &clock);
    let ids: Vec<Uuid> = (1..=5).map(Uuid::from_u128).collect();
    for id in &ids {
        c.enqueue(*id, MessageKind::Consent, &id.to_string())
            .unwrap();
    }
    // Down: the first message fails, and the rest wait behind it.
    let report = c.drain_due().unwrap();
    assert_eq!((report.delivered, report.pending), (0, 5));
    let due = report.next_due_ms.unwrap();
    let first = c.outbox().get(ids[0]).unwrap().unwrap();
    assert_eq!(first.attempts, 1);
    // The first retry waits 25..50 ms (half of `base`, half random).
    assert!(
        (START_MS + 25..=START_MS + 50).contains(&due),
        "due {}",
        due - START_MS
    );
    // Not yet due: nothing is sent.
    let tries = upstream.tries.get();
    clock.advance(Duration::from_millis(20));
    assert_eq!(c.drain_due().unwrap().pending, 5);
    assert_eq!(upstream.tries.get(), tries);
    // Still down after a while of retrying; the waits grow to the cap.
    let report = c.drain_for(Duration::from_secs(3)).unwrap();
    assert_eq!((report.delivered, report.pending), (0, 5));
    let first = c.outbox().get(ids[0]).unwrap().unwrap();
    assert!(first.attempts >= 8, "{} tries in 3 s", first.attempts);
    assert!(first.next_attempt_ms - clock.now_ms() <= 400);
    // Back (after a 503 more): all five go, once each, in order.
    upstream.up.set(true);
    upstream.flaky.set(1);
    let report = c.drain_for(Duration::from_secs(10)).unwrap();
    assert_eq!((report.delivered, report.pending), (5, 0));
    let expected: Vec<String> = ids.iter().map(Uuid::to_string).collect();
    assert_eq!(*upstream.accepted.borrow(), expected);
    for id in &ids {
        assert_eq!(
            c.outbox().get(*id).unwrap().map(|m| m.state),
            Some(State::Delivered)
        );
    }
}

#[test]
fn backoff_doubles_up_to_its_cap_with_half_of_each_wait_random() {
    let backoff = Backoff {
        base: Duration::from_millis(100),
        max: Duration::from_secs(1),
    };
    // A generator that always draws 0 gives the fixed half; one that always
    // draws the largest value gives (almost) the whole wait.
    let mut low = StepRng::new(0, 0);
    let mut high = StepRng::new(u64::MAX, 0);
    let expected_ms = [100, 200, 400, 800, 1000, 1000, 1000];
    for (attempts, full) in expected_ms.iter().enumerate() {
        let full = Duration::from_millis(*full);
        assert_eq!(backoff.delay(attempts as u32, &mut low), full / 2);
        let top = backoff.delay(attempts as u32, &mut high);
        assert!(
            top > full.mul_f64(0.99) && top <= full,
            "{top:?} of {full:?}"
        );
    }
    // Huge attempt counts neither overflow nor exceed the cap.
    assert_eq!(
        backoff.delay(u32::MAX, &mut low),
        Duration::from_millis(500)
    );
    // Seeded: the same seed gives the same jitter, another seed another.
    let draw = |seed| {
        let mut rng = StdRng::seed_from_u64(seed);
        (0..8)
            .map(|a| backoff.delay(a, &mut rng))
            .collect::<Vec<_>>()
    };
    assert_eq!(draw(1), draw(1));
    assert_ne!(draw(1), draw(2));
}

#[test]
fn errors_keep_their_cause() {
    use std::error::Error;
    let dir = tempfile::tempdir().unwrap();
    let upstream = Fake::default();
    let clock = ManualClock::at_ms(START_MS);
    let c = courier(&dir, &upstream, &clock);
    let e = c
        .verify(Uuid::nil(), "h.p.s", Duration::from_millis(100))
        .unwrap_err();
    let upstream_error = e.source().unwrap();
    assert!(upstream_error
        .to_string()
        .starts_with("upstream unreachable"));
    assert_eq!(
        upstream_error.source().unwrap().to_string(),
        "connection refused"
    );
    let bad: DeliveryError =
        DeliveryError::BadAnswer(serde_json::from_str::<VerifyResponse>("{").unwrap_err());
    assert!(bad.source().is_some());
}

#[test]
fn a_visual_reason_code_is_its_wire_name_and_names_it_back() {
    use super::messages::VisualReason;
    for reason in VisualReason::ALL {
        assert_eq!(
            serde_json::to_value(reason).unwrap(),
            serde_json::Value::String(reason.code().into())
        );
        assert_eq!(VisualReason::from_code(reason.code()), Some(reason));
    }
    assert_eq!(VisualReason::from_code("because"), None);
}
