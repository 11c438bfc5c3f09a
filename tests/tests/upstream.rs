//! The upstream leg end to end: the emulated card signs in PIN mode, the
//! device key signs the message, the reference upstream checks it all over
//! HTTP; the outbox keeps every message through an upstream outage, a full
//! or read-only disk, and SIGKILL. Outage and deadline tests run the courier
//! on a manual clock: its retries and deadline pass without real waiting.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use myna_card::pcsc::{ConnectOptions, PcscCard};
use myna_card::secret::Pin;
use myna_card::MynaCard;
use myna_upstream::clock::{Clock, ManualClock, SystemRng};
use myna_upstream::courier::{Backoff, Courier, DeliveryError, Upstream};
use myna_upstream::http::HttpUpstream;
use myna_upstream::jws;
use myna_upstream::messages::*;
use myna_upstream::outbox::{Outbox, OutboxError, State};
use myna_upstream::request::{pin_verify_request, sign_request, SignedRequest};
use myna_upstream::signer::{self, DeviceSigner, FileSigner};
use mynareader_tests::{binary, free_port, testbed_test, Bed, Link, UpstreamRef};
use uuid::Uuid;

struct Device {
    key: PathBuf,
    public_pem: PathBuf,
    signer: FileSigner,
}

fn device(bed: &Bed) -> Device {
    let key = bed.dir().join("device.p8");
    let signer = signer::init_device_key(&key).unwrap_or_else(|e| panic!("{e}"));
    let public_pem = bed.dir().join("device.pub.pem");
    std::fs::write(&public_pem, signer::public_key_pem(signer.public_key()))
        .unwrap_or_else(|e| panic!("{e}"));
    Device {
        key,
        public_pem,
        signer,
    }
}

fn device_info(signer: &dyn DeviceSigner) -> DeviceInfo {
    DeviceInfo::new(signer.key_id(), "0.1.0")
}

fn connect_card() -> MynaCard<PcscCard> {
    match PcscCard::connect(ConnectOptions {
        reader: None,
        wait: Duration::from_secs(5),
    }) {
        Ok(card) => MynaCard::new(card),
        Err(e) => panic!("{e}"),
    }
}

fn http(url: &str) -> HttpUpstream {
    HttpUpstream::new(url, Default::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn courier(db: &Path, url: &str) -> Courier<HttpUpstream> {
    let outbox = Outbox::open(db).unwrap_or_else(|e| panic!("{e}"));
    Courier::new(
        outbox,
        http(url),
        Backoff {
            base: Duration::from_millis(50),
            max: Duration::from_millis(400),
        },
    )
}

/// A courier whose retries and deadlines run on `clock`.
fn courier_on<'a>(
    db: &Path,
    url: &str,
    clock: &'a ManualClock,
) -> Courier<HttpUpstream, &'a ManualClock, SystemRng> {
    let outbox = Outbox::open(db).unwrap_or_else(|e| panic!("{e}"));
    Courier::with_clock(
        outbox,
        http(url),
        Backoff {
            base: Duration::from_millis(50),
            max: Duration::from_millis(400),
        },
        clock,
        SystemRng::default(),
    )
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// A face-mode verify request for the card's certificate.
fn face_request(signer: &dyn DeviceSigner, cert: &[u8], nonce: &str) -> SignedRequest {
    let request = VerifyRequest::new(
        Uuid::now_v7(),
        now(),
        nonce,
        device_info(signer),
        cert,
        AuthMethod::Face {
            attempts: 1,
            score_band: ScoreBand::High,
            pad: PadResult::Live,
        },
    );
    sign_request(signer, &request).unwrap_or_else(|e| panic!("{e}"))
}

fn consent(signer: &dyn DeviceSigner, verify_id: Uuid) -> (Uuid, String) {
    let id = Uuid::now_v7();
    let record = ConsentRecord {
        version: VERSION,
        request_id: id,
        verify_request_id: verify_id,
        issued_at: now(),
        consents: Consents {
            DiagnosisInfoConsFlg: Some(ConsentFlag {
                value: 1,
                decided_at: now(),
                source: None,
            }),
            SpecificHealthCheckupsInfoConsFlg: Some(ConsentFlag {
                value: 0,
                decided_at: now(),
                source: None,
            }),
            ..Consents::default()
        },
        registration_request: false,
        relayed_by: None,
        audit_head: None,
    };
    let body = jws::sign(signer, &serde_json::to_vec(&record).unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}"));
    (id, body)
}

fn ids(value: &serde_json::Value, key: &str) -> Vec<String> {
    value[key]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

testbed_test! {
    fn a_pin_mode_reception_is_verified_and_its_consent_delivered(bed) needs ["openssl"] {
        let _card = bed.insert_card(&[]);
        let dev = device(bed);
        let upstream = UpstreamRef::start(bed.dir(), &dev.public_pem, 0);
        let c = courier(&bed.dir().join("outbox.db"), &upstream.url);
        let nonce = c.upstream().challenge().unwrap_or_else(|e| panic!("{e}")).nonce;
        let mut card = connect_card();
        let pin = Pin::new("1234").unwrap_or_else(|e| panic!("{e}"));
        let request = pin_verify_request(&mut card, &pin, &nonce, device_info(&dev.signer), now())
            .unwrap_or_else(|e| panic!("{e}"));
        drop(card);
        let signed = sign_request(&dev.signer, &request).unwrap_or_else(|e| panic!("{e}"));
        let answer = c.verify(signed.request_id, &signed.jws, Duration::from_secs(10)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(answer.qualification, Qualification::Valid);
        assert_eq!(answer.name_kana.as_deref(), Some("バンゴウ ハナコ"));
        assert_eq!(c.outbox().get(signed.request_id).ok().flatten().map(|m| m.state), Some(State::Delivered));

        // openssl checks the card signature over the documented input.
        let AuthMethod::Pin { card_signature } = &request.auth else { panic!("PIN mode") };
        let cert = B64.decode(&request.card.auth_cert).unwrap_or_default();
        std::fs::write(bed.dir().join("card.der"), &cert).unwrap_or_default();
        std::fs::write(bed.dir().join("card.sig"), B64.decode(card_signature).unwrap_or_default()).unwrap_or_default();
        std::fs::write(bed.dir().join("card.msg"), card_auth_message(&nonce, &request.request_id, &cert)).unwrap_or_default();
        let pubkey = bed.tool("openssl", &["x509", "-inform", "der", "-in", "card.der", "-pubkey", "-noout"]);
        std::fs::write(bed.dir().join("card.pub"), &pubkey.stdout).unwrap_or_default();
        let verdict = bed.tool("openssl", &["dgst", "-sha256", "-verify", "card.pub", "-signature", "card.sig", "card.msg"]);
        assert_eq!(String::from_utf8_lossy(&verdict.stdout).trim(), "Verified OK");

        // The consent record goes through the outbox.
        let (consent_id, body) = consent(&dev.signer, signed.request_id);
        c.enqueue(consent_id, MessageKind::Consent, &body).unwrap_or_else(|e| panic!("{e}"));
        let report = c.drain_for(Duration::from_secs(5)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((report.delivered, report.pending), (1, 0));
        let received = upstream.received();
        assert_eq!(ids(&received, "verify"), vec![signed.request_id.to_string()]);
        assert_eq!(ids(&received, "consent"), vec![consent_id.to_string()]);
    }
}

testbed_test! {
    fn the_upstream_refuses_bad_cards_over_http_with_typed_errors(bed) {
        let dev = device(bed);
        let upstream = UpstreamRef::start(bed.dir(), &dev.public_pem, 0);
        let c = courier(&bed.dir().join("outbox.db"), &upstream.url);
        let pin = Pin::new("1234").unwrap_or_else(|e| panic!("{e}"));
        let mut refusals = Vec::new();
        for (card_args, tamper) in [
            (&[][..], true),
            (&["--cert-expired-days", "100"][..], false),
            (&["--cert-issuer", "other"][..], false),
        ] {
            let sim = bed.insert_card(card_args);
            let nonce = c.upstream().challenge().unwrap_or_else(|e| panic!("{e}")).nonce;
            let mut card = connect_card();
            let mut request = pin_verify_request(&mut card, &pin, &nonce, device_info(&dev.signer), now())
                .unwrap_or_else(|e| panic!("{e}"));
            drop(card);
            if tamper {
                // Another request id than the card signed.
                request.request_id = Uuid::now_v7();
            }
            let signed = sign_request(&dev.signer, &request).unwrap_or_else(|e| panic!("{e}"));
            match c.verify(signed.request_id, &signed.jws, Duration::from_secs(5)) {
                Err(DeliveryError::Refused { code, .. }) => refusals.push(code),
                other => panic!("{card_args:?}: expected a refusal, got {other:?}"),
            }
            assert_eq!(c.outbox().get(signed.request_id).ok().flatten().map(|m| m.state), Some(State::Rejected));
            sim.remove();
        }
        assert_eq!(refusals, ["bad-card-signature", "certificate-expired", "certificate-untrusted"]);
        // Garbage gets a typed JSON error and a 4xx too.
        for (kind, body) in [(MessageKind::Verify, "\u{0}garbage"), (MessageKind::Consent, "a.b.c")] {
            match c.upstream().post(kind, body) {
                Err(myna_upstream::courier::UpstreamError::Rejected { status: 400, code, .. }) => {
                    assert_eq!(code, "malformed-jws")
                }
                other => panic!("garbage to {kind:?}: {other:?}"),
            }
        }
        assert!(ids(&upstream.received(), "verify").is_empty());
    }
}

/// Reads the card's certificate and has one face-mode verify accepted.
fn accepted_verify(bed: &Bed, dev: &Device, url: &str) -> Uuid {
    let _card = bed.insert_card(&[]);
    let cert = connect_card()
        .read_auth_certificate()
        .unwrap_or_else(|e| panic!("{e}"));
    let c = courier(&bed.dir().join("verify.db"), url);
    let nonce = c
        .upstream()
        .challenge()
        .unwrap_or_else(|e| panic!("{e}"))
        .nonce;
    let signed = face_request(&dev.signer, &cert, &nonce);
    c.verify(signed.request_id, &signed.jws, Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("{e}"));
    signed.request_id
}

testbed_test! {
    fn messages_wait_while_the_upstream_is_down_and_drain_in_order(bed) {
        let dev = device(bed);
        let upstream = UpstreamRef::start(bed.dir(), &dev.public_pem, 0);
        let verify_id = accepted_verify(bed, &dev, &upstream.url);
        let port = free_port();
        let clock = ManualClock::at(time::OffsetDateTime::now_utc());
        let c = courier_on(&bed.dir().join("outbox.db"), &format!("http://127.0.0.1:{port}"), &clock);
        let mut sent = Vec::new();
        for _ in 0..20 {
            let (id, body) = consent(&dev.signer, verify_id);
            c.enqueue(id, MessageKind::Consent, &body).unwrap_or_else(|e| panic!("{e}"));
            sent.push(id.to_string());
        }
        let report = c.drain_for(Duration::from_millis(600)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((report.delivered, report.pending), (0, 20), "nothing gets through while down");
        assert!(clock.slept() >= Duration::from_millis(500), "it retried for the 600 ms on its clock");
        // The courier restarts (a new process would) and the upstream comes back.
        drop(c);
        let target = upstream.url.trim_start_matches("http://").parse().unwrap_or_else(|e| panic!("{e}"));
        let _link = Link::up(port, target);
        let c = courier_on(&bed.dir().join("outbox.db"), &format!("http://127.0.0.1:{port}"), &clock);
        let report = c.drain_for(Duration::from_secs(10)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((report.delivered, report.pending), (20, 0));
        assert_eq!(ids(&upstream.received(), "consent"), sent, "delivered once each, in order");
    }
}

testbed_test! {
    fn a_verify_request_past_its_deadline_is_unavailable_and_never_sent(bed) {
        let dev = device(bed);
        let upstream = UpstreamRef::start(bed.dir(), &dev.public_pem, 0);
        let _card = bed.insert_card(&[]);
        let cert = connect_card().read_auth_certificate().unwrap_or_else(|e| panic!("{e}"));
        let nonce = http(&upstream.url).challenge().unwrap_or_else(|e| panic!("{e}")).nonce;
        let port = free_port();
        let clock = ManualClock::at(time::OffsetDateTime::now_utc());
        let down = courier_on(&bed.dir().join("outbox.db"), &format!("http://127.0.0.1:{port}"), &clock);
        let signed = face_request(&dev.signer, &cert, &nonce);
        let started = clock.now_ms();
        match down.verify(signed.request_id, &signed.jws, Duration::from_millis(1500)) {
            Err(DeliveryError::UpstreamUnavailable { attempts, .. }) => assert!(attempts >= 2, "{attempts} tries"),
            other => panic!("expected UpstreamUnavailable, got {other:?}"),
        }
        assert!(clock.now_ms() - started >= 1500, "it gave up before its deadline");
        assert_eq!(down.outbox().get(signed.request_id).ok().flatten().map(|m| m.state), Some(State::Expired));
        let target = upstream.url.trim_start_matches("http://").parse().unwrap_or_else(|e| panic!("{e}"));
        let _link = Link::up(port, target);
        let report = down.drain_for(Duration::from_secs(2)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(report.delivered, 0);
        assert!(ids(&upstream.received(), "verify").is_empty(), "the expired request never went out");
    }
}

fn mount_tmpfs(dir: &Path, options: &str) {
    std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{e}"));
    let status = Command::new("mount")
        .args(["-t", "tmpfs", "-o", options, "tmpfs"])
        .arg(dir)
        .status();
    assert!(status.is_ok_and(|s| s.success()), "mount tmpfs {options}");
}

testbed_test! {
    fn a_full_or_read_only_disk_is_a_clear_error_and_drops_nothing(bed) {
        let dev = device(bed);
        let verify_id = Uuid::now_v7();
        // A small disk fills up.
        let small = bed.dir().join("small");
        mount_tmpfs(&small, "size=256k");
        let db = small.join("outbox.db");
        let outbox = Outbox::open(&db).unwrap_or_else(|e| panic!("{e}"));
        let padding = "x".repeat(8 * 1024);
        let mut stored = Vec::new();
        let error = loop {
            let (id, body) = consent(&dev.signer, verify_id);
            match outbox.enqueue(id, MessageKind::Consent, &format!("{body}{padding}"), 0, None) {
                Ok(_) => stored.push(id),
                Err(e) => break e,
            }
            assert!(stored.len() < 1000, "a 256 KiB disk never filled up");
        };
        assert!(matches!(error, OutboxError::DiskFull), "{error:?}");
        assert!(error.to_string().contains("not stored"));
        drop(outbox);
        let reopened = Outbox::open(&db).unwrap_or_else(|e| panic!("{e}"));
        for id in &stored {
            assert!(reopened.get(*id).ok().flatten().is_some(), "an acknowledged enqueue was lost");
        }
        assert_eq!(reopened.pending_count().ok(), Some(stored.len() as u64));
        drop(reopened);

        // A read-only disk: the outbox says so instead of pretending.
        let ro = bed.dir().join("ro");
        mount_tmpfs(&ro, "size=4m");
        let db = ro.join("outbox.db");
        let (id, body) = consent(&dev.signer, verify_id);
        Outbox::open(&db).and_then(|o| o.enqueue(id, MessageKind::Consent, &body, 0, None)).unwrap_or_else(|e| panic!("{e}"));
        let status = Command::new("mount").args(["-o", "remount,ro"]).arg(&ro).status();
        assert!(status.is_ok_and(|s| s.success()), "remount ro");
        let (id2, body2) = consent(&dev.signer, verify_id);
        let result = Outbox::open(&db).and_then(|o| o.enqueue(id2, MessageKind::Consent, &body2, 0, None));
        match result {
            Err(e @ OutboxError::ReadOnly) => assert!(e.to_string().contains("read-only")),
            other => panic!("expected a read-only error, got {other:?}"),
        }
    }
}

testbed_test! {
    fn sigkill_at_random_points_loses_nothing_and_duplicates_nothing(bed) {
        const COUNT: u64 = 1000;
        let dev = device(bed);
        let upstream = UpstreamRef::start(bed.dir(), &dev.public_pem, 0);
        let verify_id = accepted_verify(bed, &dev, &upstream.url);
        let db = bed.dir().join("load.db");
        let load = |db: &Path| {
            Command::new(binary("outbox-load"))
                .arg("--db").arg(db)
                .arg("--url").arg(&upstream.url)
                .arg("--key").arg(&dev.key)
                .arg("--verify-id").arg(verify_id.to_string())
                .arg("--count").arg(COUNT.to_string())
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("{e}"))
        };
        // Kill it at pseudo-random moments (a fixed LCG: reproducible runs).
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut kills = 0;
        let finished = loop {
            let mut child = load(&db);
            if kills >= 25 {
                break child.wait().is_ok_and(|s| s.success());
            }
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let after = Duration::from_millis(3 + (seed >> 33) % 60);
            std::thread::sleep(after);
            match child.try_wait() {
                Ok(Some(status)) => break status.success(),
                _ => {
                    let _ = child.kill(); // SIGKILL
                    let _ = child.wait();
                    kills += 1;
                }
            }
        };
        assert!(finished, "the loader did not finish after {kills} kills");
        assert!(kills >= 5, "only {kills} kills: the test proved little");
        let received = upstream.received();
        let consents = ids(&received, "consent");
        let mut unique = consents.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), consents.len(), "a message was processed twice");
        assert_eq!(consents.len() as u64, COUNT, "a message was lost");
        for i in 0..COUNT {
            let id = Uuid::from_u128((0x4D59_4E41u128 << 96) | u128::from(i)).to_string();
            assert_eq!(consents.get(i as usize), Some(&id), "out of order at {i}");
        }
        println!(
            "crash test: {kills} SIGKILLs, {COUNT} messages each processed once, {} retries answered as duplicates",
            received["duplicates"]
        );
    }
}
