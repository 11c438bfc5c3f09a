//! The reference upstream's checks, each refusal with its own code, and the
//! message signing round trip. No HTTP, no card: certificates come from a
//! throw-away ECDSA CA made here; the time is fixed and nonces come from a
//! seeded generator.

// Test code: a failed set-up step is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine;
use myna_upstream::jws;
use myna_upstream::messages::*;
use myna_upstream::signer::{DeviceSigner, FileSigner};
use rand::rngs::StdRng;
use rand::SeedableRng;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use time::{Duration as Span, OffsetDateTime};
use upstream_ref::{Patient, Reference, ReferenceConfig, Reject, TEST_DEVICE_KEY_PKCS8};
use uuid::Uuid;

fn new_signer() -> FileSigner {
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = ring::signature::EcdsaKeyPair::generate_pkcs8(
        &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        &rng,
    )
    .unwrap();
    FileSigner::from_pkcs8(pkcs8.as_ref()).unwrap()
}

struct Ca {
    key: KeyPair,
    params: CertificateParams,
    der: Vec<u8>,
}

fn ca(name: &str) -> Ca {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::default();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let der = params.self_signed(&key).unwrap().der().to_vec();
    Ca { key, params, der }
}

fn leaf(ca: &Ca, serial: u8, not_after: OffsetDateTime) -> Vec<u8> {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::default();
    params
        .distinguished_name
        .push(DnType::CommonName, "TESTAUTH");
    params.serial_number = Some(vec![serial].into());
    params.not_before = not_after - Span::days(5 * 365);
    params.not_after = not_after;
    let issuer = Issuer::from_params(&ca.params, &ca.key);
    params.signed_by(&key, &issuer).unwrap().der().to_vec()
}

struct World {
    reference: Reference,
    signer: FileSigner,
    jpki: Ca,
    now: OffsetDateTime,
}

fn world() -> World {
    let signer = new_signer();
    let jpki = ca("Test JPKI");
    let mut patients = HashMap::new();
    patients.insert(
        "01".to_string(),
        Patient {
            qualification: Qualification::Valid,
            registered: true,
            name_kana: "バンゴウ ハナコ".into(),
            specific_health_checkup: true,
        },
    );
    let reference = Reference::new(
        ReferenceConfig {
            device_keys: vec![signer.public_key().to_vec()],
            jpki_cas: vec![jpki.der.clone()],
            patients,
            nonce_ttl: Duration::from_secs(60),
        },
        Box::new(StdRng::seed_from_u64(1)),
    );
    World {
        reference,
        signer,
        jpki,
        // 2026-01-01T00:00:00Z: the checks run at the time they are given.
        now: OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap(),
    }
}

fn request(w: &mut World, cert: &[u8]) -> VerifyRequest {
    let nonce = w.reference.challenge(w.now).nonce;
    VerifyRequest::new(
        Uuid::now_v7(),
        w.now.unix_timestamp(),
        &nonce,
        DeviceInfo::new(w.signer.key_id(), "1.0.0"),
        cert,
        AuthMethod::Face {
            attempts: 1,
            score_band: ScoreBand::High,
            pad: PadResult::Live,
        },
    )
}

fn signed(signer: &dyn DeviceSigner, value: &impl serde::Serialize) -> String {
    jws::sign(signer, &serde_json::to_vec(value).unwrap()).unwrap()
}

fn good_cert(w: &World) -> Vec<u8> {
    leaf(&w.jpki, 1, w.now + Span::days(365))
}

#[test]
fn a_good_request_is_answered_from_the_patient_table() {
    let mut w = world();
    let cert = good_cert(&w);
    let req = request(&mut w, &cert);
    let answer = w.reference.verify(&signed(&w.signer, &req), w.now).unwrap();
    assert_eq!(answer.request_id, req.request_id);
    assert_eq!(answer.qualification, Qualification::Valid);
    assert_eq!(answer.name_kana.as_deref(), Some("バンゴウ ハナコ"));
    assert!(answer.specific_health_checkup && answer.registered && !answer.certificate_in_grace);
}

#[test]
fn each_tampering_is_refused_with_its_own_error() {
    let mut w = world();
    let cert = good_cert(&w);
    let mut codes = Vec::new();

    // Tampered payload: the signature no longer covers it.
    let req = request(&mut w, &cert);
    let jws_text = signed(&w.signer, &req);
    let mut parts: Vec<String> = jws_text.split('.').map(str::to_string).collect();
    let mut tampered = req.clone();
    tampered.device.firmware_version = "9.9.9".into();
    parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(serde_json::to_vec(&tampered).unwrap());
    let e = w.reference.verify(&parts.join("."), w.now).unwrap_err();
    assert_eq!(e, Reject::BadDeviceSignature);
    codes.push(e.code());

    // A key nobody registered.
    let stranger = new_signer();
    let mut req = request(&mut w, &cert);
    req.device.id = stranger.key_id().to_string();
    let e = w
        .reference
        .verify(&signed(&stranger, &req), w.now)
        .unwrap_err();
    assert_eq!(e, Reject::UnknownDevice);
    codes.push(e.code());

    // Signed by the device, claiming to be another.
    let mut req = request(&mut w, &cert);
    req.device.id = "0000000000000000".into();
    let e = w
        .reference
        .verify(&signed(&w.signer, &req), w.now)
        .unwrap_err();
    assert_eq!(e, Reject::DeviceMismatch);
    codes.push(e.code());

    // Reused nonce (a new request id, the nonce of an accepted one).
    let first = request(&mut w, &cert);
    w.reference
        .verify(&signed(&w.signer, &first), w.now)
        .unwrap();
    let mut again = request(&mut w, &cert);
    again.nonce = first.nonce.clone();
    let e = w
        .reference
        .verify(&signed(&w.signer, &again), w.now)
        .unwrap_err();
    assert_eq!(e, Reject::NonceReused);
    codes.push(e.code());

    // Expired nonce.
    let late = request(&mut w, &cert);
    let e = w
        .reference
        .verify(&signed(&w.signer, &late), w.now + Span::seconds(61))
        .unwrap_err();
    assert_eq!(e, Reject::NonceExpired);
    codes.push(e.code());

    // A nonce the upstream never issued.
    let mut made_up = request(&mut w, &cert);
    made_up.nonce = "AAAA".into();
    let e = w
        .reference
        .verify(&signed(&w.signer, &made_up), w.now)
        .unwrap_err();
    assert_eq!(e, Reject::UnknownNonce);
    codes.push(e.code());

    // Expired beyond the 3-month grace.
    let old = leaf(&w.jpki, 1, w.now - Span::days(100));
    let req = request(&mut w, &old);
    let e = w
        .reference
        .verify(&signed(&w.signer, &req), w.now)
        .unwrap_err();
    assert_eq!(e, Reject::CertificateExpired);
    codes.push(e.code());

    // Issued by another CA.
    let other = ca("Not JPKI");
    let foreign = leaf(&other, 1, w.now + Span::days(365));
    let req = request(&mut w, &foreign);
    let e = w
        .reference
        .verify(&signed(&w.signer, &req), w.now)
        .unwrap_err();
    assert_eq!(e, Reject::CertificateUntrusted);
    codes.push(e.code());

    // The same request id with another message.
    let mut conflict = request(&mut w, &cert);
    conflict.request_id = first.request_id;
    let e = w
        .reference
        .verify(&signed(&w.signer, &conflict), w.now)
        .unwrap_err();
    assert_eq!(e, Reject::RequestIdConflict);
    codes.push(e.code());

    // Something that must never travel (an unknown field) is refused.
    let mut value = serde_json::to_value(request(&mut w, &cert)).unwrap();
    value["name"] = "番号 花子".into();
    let e = w
        .reference
        .verify(&signed(&w.signer, &value), w.now)
        .unwrap_err();
    assert!(matches!(e, Reject::MalformedMessage(_)));
    codes.push(e.code());

    let e = w.reference.verify("not.a.jws.at-all", w.now).unwrap_err();
    assert!(matches!(e, Reject::MalformedJws(_)));
    codes.push(e.code());

    let mut unique = codes.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(
        unique.len(),
        codes.len(),
        "every refusal has its own code: {codes:?}"
    );
    assert_eq!(
        w.reference.received().verify.len(),
        1,
        "only the good request was processed"
    );
}

#[test]
fn within_the_grace_period_the_card_is_accepted_and_flagged() {
    let mut w = world();
    let cert = leaf(&w.jpki, 1, w.now - Span::days(60));
    let req = request(&mut w, &cert);
    let answer = w.reference.verify(&signed(&w.signer, &req), w.now).unwrap();
    assert!(answer.certificate_in_grace);
}

#[test]
fn a_duplicate_is_answered_with_the_first_answer_and_processed_once() {
    let mut w = world();
    let cert = good_cert(&w);
    let req = request(&mut w, &cert);
    let body = signed(&w.signer, &req);
    let first = w.reference.verify(&body, w.now).unwrap();
    // A retry re-sends the stored bytes; a re-signed copy (new ECDSA nonce)
    // of the same payload is the same request too.
    assert_eq!(
        w.reference
            .verify(&body, w.now + Span::seconds(50))
            .unwrap(),
        first
    );
    assert_eq!(
        w.reference.verify(&signed(&w.signer, &req), w.now).unwrap(),
        first
    );
    assert_eq!(w.reference.received().verify, vec![req.request_id]);
    assert_eq!(w.reference.received().duplicates, 2);
    // Copied off the wire and sent after the nonce's minute: refused, the
    // answer (with the patient's name) is not given again.
    assert!(matches!(
        w.reference.verify(&body, w.now + Span::seconds(61)),
        Err(Reject::NonceExpired)
    ));
    // Once the nonce is forgotten, the answer is too.
    w.reference.challenge(w.now + Span::seconds(120));
    assert!(matches!(
        w.reference.verify(&body, w.now + Span::seconds(120)),
        Err(Reject::UnknownNonce)
    ));
    assert_eq!(w.reference.received().duplicates, 2);
}

#[test]
fn the_audit_head_each_message_carries_is_kept_and_one_that_goes_back_is_an_alarm() {
    let mut w = world();
    let cert = good_cert(&w);
    let head = |seq: i64, fill: char| AuditHead {
        seq,
        hash: fill.to_string().repeat(64),
    };
    let t0 = w.now.unix_timestamp();
    let mut req = request(&mut w, &cert);
    req.device.audit_head = Some(head(5, 'a'));
    w.reference.verify(&signed(&w.signer, &req), w.now).unwrap();
    let kid = w.signer.key_id().to_string();
    let seqs = |w: &World| -> Vec<i64> {
        w.reference.received().audit_heads[&kid]
            .iter()
            .map(|k| k.seq)
            .collect()
    };
    assert_eq!(seqs(&w), [5]);
    let anchor = |w: &World, at: i64, head: AuditHead| AuditAnchor {
        version: VERSION,
        request_id: Uuid::now_v7(),
        issued_at: at,
        device: DeviceInfo {
            audit_head: Some(head),
            ..DeviceInfo::new(w.signer.key_id(), "1.0.0")
        },
    };
    // Made earlier, arriving later (it waited in the outbox): no alarm.
    let earlier = anchor(&w, t0 - 60, head(4, 'c'));
    w.reference
        .audit_anchor(&signed(&w.signer, &earlier))
        .unwrap();
    assert_eq!(seqs(&w), [4, 5]);
    // An anchor sent while idle, later: kept after.
    let later = anchor(&w, t0 + 60, head(7, 'b'));
    assert_eq!(
        w.reference
            .audit_anchor(&signed(&w.signer, &later))
            .unwrap(),
        later.request_id
    );
    assert_eq!(seqs(&w), [4, 5, 7]);
    // The same anchor again (a retry) changes nothing.
    w.reference
        .audit_anchor(&signed(&w.signer, &later))
        .unwrap();
    assert_eq!(seqs(&w), [4, 5, 7]);
    assert!(w.reference.received().audit_alarms.is_empty());
    // An older copy of the trail put back: made later, its head went back.
    let restored = anchor(&w, t0 + 120, head(6, 'd'));
    w.reference
        .audit_anchor(&signed(&w.signer, &restored))
        .unwrap();
    assert_eq!(w.reference.received().audit_alarms, vec![kid.clone()]);
    // One entry with two hashes (a rewrite): an alarm too.
    let rewritten = anchor(&w, t0 + 180, head(7, 'e'));
    w.reference
        .audit_anchor(&signed(&w.signer, &rewritten))
        .unwrap();
    assert_eq!(w.reference.received().audit_alarms.len(), 2);
    // Signed by another device: refused.
    let other = new_signer();
    assert!(matches!(
        w.reference
            .audit_anchor(&signed(&other, &anchor(&w, t0, head(9, 'f')))),
        Err(Reject::UnknownDevice)
    ));
}

#[test]
fn the_nonce_store_stays_bounded() {
    let mut w = world();
    for _ in 0..upstream_ref::MAX_NONCES + 50 {
        w.reference.challenge(w.now);
    }
    assert!(w.reference.outstanding_nonces() <= upstream_ref::MAX_NONCES);
}

#[test]
fn consent_records_need_a_known_verify_request_and_are_deduplicated() {
    let mut w = world();
    let cert = good_cert(&w);
    let req = request(&mut w, &cert);
    w.reference.verify(&signed(&w.signer, &req), w.now).unwrap();
    let flag = |value| {
        Some(ConsentFlag {
            value,
            decided_at: w.now.unix_timestamp(),
            source: None,
        })
    };
    let record = ConsentRecord {
        version: VERSION,
        request_id: Uuid::now_v7(),
        verify_request_id: req.request_id,
        issued_at: w.now.unix_timestamp(),
        consents: Consents {
            DiagnosisInfoConsFlg: flag(1),
            PharmacistsInfoConsFlg: flag(1),
            OperationInfoConsFlg: flag(0),
            ..Consents::default()
        },
        registration_request: false,
        relayed_by: None,
        audit_head: None,
    };
    let body = signed(&w.signer, &record);
    assert_eq!(w.reference.consent(&body), Ok(record.request_id));
    assert_eq!(w.reference.consent(&body), Ok(record.request_id));
    assert_eq!(w.reference.received().consent, vec![record.request_id]);

    let mut orphan = record.clone();
    orphan.request_id = Uuid::now_v7();
    orphan.verify_request_id = Uuid::now_v7();
    assert_eq!(
        w.reference.consent(&signed(&w.signer, &orphan)),
        Err(Reject::UnknownVerifyRequest)
    );
    let mut bad = record.clone();
    bad.request_id = Uuid::now_v7();
    bad.consents.DiagnosisInfoConsFlg = flag(2);
    assert_eq!(
        w.reference.consent(&signed(&w.signer, &bad)),
        Err(Reject::BadConsentFlag)
    );
}

#[test]
fn nonces_are_fresh_from_the_generator_given() {
    let mut w = world();
    let first = w.reference.challenge(w.now);
    let second = w.reference.challenge(w.now);
    assert_ne!(first.nonce, second.nonce);
    assert_eq!(first.expires_in, 60);
    // 32 bytes, base64url without padding.
    assert_eq!(first.nonce.len(), 43);
    // The same seed gives the same nonces: nothing else is drawn.
    let mut again = world();
    assert_eq!(again.reference.challenge(again.now), first);
}

/// A verify request signed once, outside this code, by Python's
/// `cryptography` with [`TEST_DEVICE_KEY_PKCS8`] (the vector of the kiosk's
/// own known-answer test in `myna_upstream`).
const KAT_JWS: &str = "eyJhbGciOiJFUzI1NiIsImtpZCI6IjU5ODBkNGFhZTZkYWQ0NGIifQ.eyJ2ZXJzaW9uIjoxLCJyZXF1ZXN0X2lkIjoiMDE5MmQ0ZTgtYTViMC03YzNlLThmMWEtMmIzYzRkNWU2ZjcwIiwiaXNzdWVkX2F0IjoxNzY3MjI1NjAwLCJub25jZSI6ImJtOXVZMlV0Wm05eUxXdGhkQSIsImRldmljZSI6eyJpZCI6IjU5ODBkNGFhZTZkYWQ0NGIiLCJmaXJtd2FyZV92ZXJzaW9uIjoiMS4yLjMiLCJkcml2ZXJfdmVyc2lvbiI6IjAuMS4wIiwiZmFjZV9tb2RlbF9zaGEyNTYiOm51bGwsInBhZF9tb2RlbF9zaGEyNTYiOm51bGx9LCJjYXJkIjp7ImF1dGhfY2VydCI6IkFBRUNBd1FGQmdjSUNRb0xEQTBPRHhBUkVoTVVGUllYR0JrYUd4d2RIaDhnSVNJakpDVW1KeWdwS2lzc0xTNHZNREV5TXpRMU5qYzRPVG83UEQwK1B3PT0ifSwiYXV0aCI6eyJtZXRob2QiOiJwaW4iLCJjYXJkX3NpZ25hdHVyZSI6IkFRSUQifX0.qfPIBnXgR4gcdQDRCkyAejbWPmrPhxnVUrGcEuJdnf2MvjNTA_-UpwFjVdab2zqlCpFBSBneiyqQlUNGq3aIVQ";

#[test]
fn a_request_signed_by_another_implementation_passes_the_device_checks() {
    let signer = FileSigner::from_pkcs8(&TEST_DEVICE_KEY_PKCS8).unwrap();
    assert_eq!(signer.key_id(), "5980d4aae6dad44b");
    let mut reference = Reference::new(
        ReferenceConfig {
            device_keys: vec![signer.public_key().to_vec()],
            jpki_cas: Vec::new(),
            patients: HashMap::new(),
            nonce_ttl: Duration::from_secs(60),
        },
        Box::new(StdRng::seed_from_u64(1)),
    );
    let now = OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap();
    // Signature, version and device id pass; the nonce is the first check
    // this vector cannot pass (this upstream never issued it).
    assert_eq!(reference.verify(KAT_JWS, now), Err(Reject::UnknownNonce));
    let changed = KAT_JWS.replacen("eyJ2ZXJzaW9uIjox", "eyJ2ZXJzaW9uIjoy", 1);
    assert_eq!(
        reference.verify(&changed, now),
        Err(Reject::BadDeviceSignature)
    );
}
