//! Whole receptions end to end, one scenario per test: the kiosk (its real
//! event loop, ports, outbox and control socket) against `reader-sim` and
//! `upstream-ref` as separate processes and the card emulator's chip
//! (`myna_sim_world`). The patient acts only on what the reader shows, by
//! tapping its panel; staff use the kiosk's control socket. Each test
//! asserts the screens in order, what the upstream received and what the
//! card saw.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use base64::Engine;
use myna_card_front::{fonts, ocr, CardFrontReader, CardFrontSettings};
use myna_card_sim::personality::{Personality, Validity};
use myna_face::{image, Capture, FaceEngine, FaceSettings};
use myna_reception::Alert;
use myna_sim_world::{
    default_faces, face_pair, patient_entry, personality, serial_text, Recorder, Rig, RigSetup,
    SharedCard, SimControl, CARD_FRONT_ARGS,
};
use myna_upstream::messages::MessageKind;

const PIN: &str = "4826";
const SERIAL: [u8; 4] = [0x20, 0, 0, 1];
const STAFF_PASSWORD: &str = "staff-3 passphrase";

struct World {
    rig: Rig,
    rec: Recorder,
    reader: SimControl,
    _dir: tempfile::TempDir,
}

struct Options {
    registered: bool,
    checkup: bool,
    deadline: Duration,
    sim_args: Vec<String>,
    face: Option<(Arc<FaceEngine>, Arc<CardFrontReader>)>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            registered: true,
            checkup: true,
            deadline: Duration::from_secs(10),
            sim_args: vec!["--seed".into(), "3".into()],
            face: None,
        }
    }
}

fn world(options: Options) -> World {
    let dir = tempfile::tempdir().unwrap();
    let mut setup = RigSetup::new(mynareader_tests::bin_dir(), dir.path().join("work"));
    setup.patients.insert(
        serial_text(&SERIAL),
        patient_entry(
            "valid",
            options.registered,
            "テスト タロウ",
            options.checkup,
        ),
    );
    setup.sim_args = options.sim_args;
    setup.verify_deadline = options.deadline;
    setup.staff = vec![("staff-3".into(), STAFF_PASSWORD.into())];
    if let Some((engine, reader)) = options.face {
        setup.face = Some(engine);
        setup.card_front = Some(reader);
    }
    let mut rig = Rig::start(setup).unwrap();
    let rec = Recorder::default();
    rig.start_kiosk(Box::new(rec.clone())).unwrap();
    let mut reader = rig.reader_control().unwrap();
    reader.wait_for("Idle").unwrap();
    World {
        rig,
        rec,
        reader,
        _dir: dir,
    }
}

/// The screens shown since the last call, without the `idle` ones.
fn screens(rec: &Recorder) -> Vec<String> {
    rec.take()
        .screens
        .into_iter()
        .filter(|s| s != "idle")
        .collect()
}

/// PIN VERIFYs with data the chip received.
fn verifies(card: &SharedCard) -> usize {
    card.with_chip(|c| {
        c.drain_log()
            .iter()
            .filter(|e| e.header.starts_with("0020") && e.lc == 4)
            .count()
    })
}

fn received(rig: &Rig, kind: &str) -> usize {
    rig.received()[kind].as_array().map_or(0, Vec::len)
}

fn card() -> SharedCard {
    SharedCard::new(&personality(SERIAL, PIN)).unwrap()
}

/// The face models, the card-front reader and the photos the face tests use.
#[derive(Clone)]
struct FaceKit {
    engine: Arc<FaceEngine>,
    reader: Arc<CardFrontReader>,
    card_photo: PathBuf,
    live: PathBuf,
    other: PathBuf,
}

/// Loaded once per process; `None` where the models, the dev faces or the
/// Japanese fonts are absent.
fn face_kit() -> Option<FaceKit> {
    static KIT: OnceLock<Option<FaceKit>> = OnceLock::new();
    KIT.get_or_init(|| {
        let faces = default_faces()?;
        let (card_photo, live) = face_pair(&faces)?;
        let engine = FaceEngine::load(FaceSettings::default()).ok()?;
        // Another person's live photo, in name order, that PAD takes for a
        // live face (a few dev photos are refused as attacks: see
        // docs/face-pad.md): the tests that use it are about not matching.
        let owner = card_photo.parent()?.to_path_buf();
        let mut others: Vec<PathBuf> = std::fs::read_dir(&faces)
            .ok()?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir() && *p != owner)
            .flat_map(|d| std::fs::read_dir(d).into_iter().flatten().flatten())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "jpg"))
            .collect();
        others.sort();
        let card = engine
            .encode_card(&image::decode(&std::fs::read(&card_photo).ok()?).ok()?)
            .ok()?;
        let other = others.into_iter().find(|p| {
            let Some(frame) = std::fs::read(p).ok().and_then(|b| image::decode(&b).ok()) else {
                return false;
            };
            matches!(
                engine.capture(&card, &frame, 0),
                Ok(Capture::Compared { pad, matched: false, .. }) if !pad.is_attack()
            )
        })?;
        if fonts::find(&[]).is_empty() {
            return None;
        }
        let reader =
            CardFrontReader::load(&ocr::text_models_dir(None), CardFrontSettings::default(), 2)
                .ok()?;
        Some(FaceKit {
            engine: Arc::new(engine),
            reader: Arc::new(reader),
            card_photo,
            live,
            other,
        })
    })
    .clone()
}

fn skip_without_face() -> Option<FaceKit> {
    let kit = face_kit();
    if kit.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI: face models, text models, dev faces and Japanese fonts must be there"
        );
        eprintln!(
            "skipped: no face models, text models, ../shared/faces/dev-card or Japanese fonts"
        );
    }
    kit
}

/// A world whose patient camera shows `live` (picked from the kit), and
/// the card photo to put on the chip; `None` where the face kit is absent.
fn face_world(live: impl Fn(&FaceKit) -> &PathBuf) -> Option<(World, PathBuf)> {
    let kit = skip_without_face()?;
    let live = live(&kit).clone();
    let FaceKit {
        engine,
        reader,
        card_photo,
        ..
    } = kit;
    let font = fonts::find(&[]).into_iter().next()?;
    let mut sim_args: Vec<String> = CARD_FRONT_ARGS.iter().map(|s| s.to_string()).collect();
    sim_args.extend([
        "--card-font".into(),
        font.display().to_string(),
        "--patient-camera".into(),
        live.display().to_string(),
    ]);
    Some((
        world(Options {
            sim_args,
            face: Some((engine, reader)),
            ..Options::default()
        }),
        card_photo,
    ))
}

impl World {
    /// Places a card of `personality` with `card_photo` on its chip.
    fn place_with_photo(&mut self, card_photo: &Path, mut personality: Personality) -> SharedCard {
        personality.photo_jp2 = std::fs::read(card_photo).unwrap();
        let card = SharedCard::new(&personality).unwrap();
        self.rig.place(&card).unwrap();
        card
    }
}

#[test]
fn face_fails_three_times_then_the_pin_finishes_the_reception() {
    let Some((mut w, card_photo)) = face_world(|kit| &kit.other) else {
        return;
    };
    let _card = w.place_with_photo(&card_photo, personality(SERIAL, PIN));
    w.reader.wait_for("ChooseMethod").unwrap();
    w.reader.tap("face").unwrap();
    w.reader.wait_for("FaceFailed").unwrap();
    let record = w.rec.take();
    let compared = record
        .stages
        .iter()
        .filter(|(stage, outcome)| stage == "capture-face" && outcome == "no match")
        .count();
    assert_eq!(compared, 3, "{:?}", record.stages);
    assert!(record.messages.is_empty(), "nothing sent for a failed face");
    w.reader.tap("pin").unwrap();
    w.reader.wait_for("PinEntry").unwrap();
    w.reader.enter_pin(PIN).unwrap();
    w.reader.wait_for("ConsentOverview").unwrap();
    w.reader.tap("yes").unwrap();
    w.reader.wait_for("Done").unwrap();
    w.rig.take().unwrap();
    w.reader.wait_for("Idle").unwrap();
    assert_eq!(
        screens(&w.rec),
        ["pin-entry", "processing", "consent-overview", "done"]
    );
    assert_eq!(w.rig.wait_outbox_empty(Duration::from_secs(10)), 0);
    assert_eq!(received(&w.rig, "verify"), 1);
    assert_eq!(received(&w.rig, "consent"), 1);
}

#[test]
fn a_face_only_card_offers_no_pin_and_fails_to_staff() {
    let Some((mut w, card_photo)) = face_world(|kit| &kit.other) else {
        return;
    };
    let _card = w.place_with_photo(&card_photo, personality(SERIAL, PIN).face_only());
    assert_eq!(
        w.reader.wait_for("ChooseMethod").unwrap(),
        "ChooseMethod { face_only: true }"
    );
    assert!(
        w.reader.tap("pin").is_err(),
        "no PIN button on a face-only card"
    );
    w.reader.tap("face").unwrap();
    assert_eq!(
        w.reader.wait_for("FaceFailed").unwrap(),
        "FaceFailed { pin_available: false }"
    );
    w.reader.tap("call-staff").unwrap();
    w.reader.wait_for("StaffComing").unwrap();
    let record = w.rec.take();
    assert!(record.alerts.contains(&Alert::PatientCalled), "{record:?}");
    // Staff tools read the same alerts, with what to do.
    let alerts = w.rig.staff("alerts 0").unwrap();
    for code in ["identity-failed", "patient-called"] {
        assert!(alerts.contains(code), "{code} not in {alerts}");
    }
    assert!(record.messages.is_empty());
    w.rig.take().unwrap();
    w.reader.wait_for("Idle").unwrap();
    assert_eq!(received(&w.rig, "verify"), 0);
}

#[test]
fn a_locked_pin_goes_to_staff_and_no_verify_is_sent_at_zero_tries() {
    let mut w = world(Options::default());
    let mut p = personality(SERIAL, PIN);
    p.auth_pin_tries = 1;
    let card = SharedCard::new(&p).unwrap();
    w.rig.place(&card).unwrap();
    w.reader.wait_for("PinLastTry").unwrap();
    w.reader.tap("confirm").unwrap();
    w.reader.wait_for("PinEntry { tries_left: 1").unwrap();
    w.reader.enter_pin("0000").unwrap();
    w.reader.wait_for("PinLocked").unwrap();
    assert_eq!(verifies(&card), 1, "exactly the one try the card had");
    w.reader.tap("call-staff").unwrap();
    w.reader.wait_for("StaffComing").unwrap();
    w.rig.take().unwrap();
    w.reader.wait_for("Idle").unwrap();
    // Placed again: locked at once, still no VERIFY.
    w.rig.place(&card).unwrap();
    w.reader.wait_for("PinLocked").unwrap();
    assert_eq!(verifies(&card), 0);
    let record = w.rec.take();
    assert!(record.alerts.contains(&Alert::PinLocked), "{record:?}");
    assert!(record.alerts.contains(&Alert::PatientCalled), "{record:?}");
    // Staff tools read the same alerts, with what to do.
    let alerts = w.rig.staff("alerts 0").unwrap();
    for code in ["pin-locked", "patient-called"] {
        assert!(alerts.contains(code), "{code} not in {alerts}");
    }
    assert!(alerts.contains("市区町村"), "{alerts}");
    assert!(record.messages.is_empty());
    assert_eq!(received(&w.rig, "verify"), 0);
}

#[test]
fn a_card_that_stops_answering_mid_pin_is_not_shown_as_locked_and_loses_no_try() {
    let mut w = world(Options::default());
    let card = card();
    // The tries cannot be read (a bad contact; the card read itself asks
    // the PIN's status once before): staff, not 「ロック」.
    card.fail_transfer("0020", 2);
    w.rig.place(&card).unwrap();
    w.reader.wait_for("SeeStaff").unwrap();
    w.rig.take().unwrap();
    w.reader.wait_for("Idle").unwrap();
    // The VERIFY itself fails in transfer: the chip never saw it.
    w.rig.place(&card).unwrap();
    w.reader.wait_for("PinEntry { tries_left: 3").unwrap();
    card.fail_transfer("0020", 1);
    w.reader.enter_pin(PIN).unwrap();
    w.reader.wait_for("SeeStaff").unwrap();
    assert_eq!(verifies(&card), 0);
    w.rig.take().unwrap();
    w.reader.wait_for("Idle").unwrap();
    // Next time the card is as it was: three tries, and the PIN works.
    w.rig.place(&card).unwrap();
    w.reader
        .wait_for("PinEntry { tries_left: 3, wrong_before: false")
        .unwrap();
    let record = w.rec.take();
    assert!(!record.alerts.contains(&Alert::PinLocked), "{record:?}");
    assert_eq!(
        record
            .alerts
            .iter()
            .filter(|a| **a == Alert::Fault(myna_reception::Fault::Card))
            .count(),
        2,
        "{record:?}"
    );
    assert!(
        !record.screens.iter().any(|s| s.contains("locked")),
        "{record:?}"
    );
    let alerts = w.rig.staff("alerts 0").unwrap();
    assert!(alerts.contains("card-fault"), "{alerts}");
    assert!(!alerts.contains("pin-locked"), "{alerts}");
    assert_eq!(received(&w.rig, "verify"), 0);
}

#[test]
fn in_the_grace_period_only_the_qualification_is_confirmed() {
    let mut w = world(Options::default());
    let mut p = personality(SERIAL, PIN);
    p.auth_cert_validity = Validity::ExpiredDaysAgo(20);
    let card = SharedCard::new(&p).unwrap();
    w.rig.place(&card).unwrap();
    let notice = w.reader.wait_for("ExpiryNotice").unwrap();
    assert!(notice.contains("in_grace: true"), "{notice}");
    w.reader.tap("confirm").unwrap();
    w.reader.wait_for("PinEntry").unwrap();
    w.reader.enter_pin(PIN).unwrap();
    w.reader.wait_for("Done").unwrap();
    w.rig.take().unwrap();
    w.reader.wait_for("Idle").unwrap();
    assert_eq!(
        screens(&w.rec),
        [
            "reading",
            "expiry-notice",
            "pin-entry",
            "processing",
            "done"
        ]
    );
    assert_eq!(w.rig.wait_outbox_empty(Duration::from_secs(10)), 0);
    assert_eq!(received(&w.rig, "verify"), 1);
    assert_eq!(received(&w.rig, "consent"), 0, "no consent in the grace");
}

#[test]
fn beyond_the_grace_the_card_is_refused_and_nothing_is_sent() {
    let mut w = world(Options::default());
    let mut p = personality(SERIAL, PIN);
    p.auth_cert_validity = Validity::ExpiredDaysAgo(200);
    let card = SharedCard::new(&p).unwrap();
    w.rig.place(&card).unwrap();
    w.reader.wait_for("ExpiredRefused").unwrap();
    w.rig.take().unwrap();
    w.reader.wait_for("Idle").unwrap();
    let record = w.rec.take();
    assert!(record.alerts.contains(&Alert::CertificateExpired));
    assert!(record.messages.is_empty());
    assert_eq!(verifies(&card), 0);
    assert_eq!(received(&w.rig, "verify"), 0);
}

#[test]
fn declining_every_consent_one_by_one_is_recorded_as_declined() {
    let mut w = world(Options::default());
    let card = card();
    w.rig.place(&card).unwrap();
    w.reader.wait_for("PinEntry").unwrap();
    w.reader.enter_pin(PIN).unwrap();
    w.reader.wait_for("ConsentOverview").unwrap();
    w.reader.tap("one-by-one").unwrap();
    for item in ["Operation", "Diagnosis", "SpecificHealthCheckup"] {
        w.reader
            .wait_for(&format!("ConsentItem {{ item: {item}"))
            .unwrap();
        w.reader.tap("no").unwrap();
    }
    w.reader.wait_for("Done").unwrap();
    w.rig.take().unwrap();
    w.reader.wait_for("Idle").unwrap();
    assert_eq!(
        screens(&w.rec),
        [
            "reading",
            "pin-entry",
            "processing",
            "consent-overview",
            "consent-item",
            "consent-item",
            "consent-item",
            "done"
        ]
    );
    assert_eq!(w.rig.wait_outbox_empty(Duration::from_secs(10)), 0);
    assert_eq!(received(&w.rig, "consent"), 1);
}

#[test]
fn after_receptions_the_kiosk_database_keeps_no_name_and_no_signed_request() {
    let mut w = world(Options::default());
    let card = card();
    for _ in 0..2 {
        w.rig.place(&card).unwrap();
        w.reader.wait_for("PinEntry").unwrap();
        w.reader.enter_pin(PIN).unwrap();
        w.reader.wait_for("ConsentOverview").unwrap();
        w.reader.tap("yes").unwrap();
        w.reader.wait_for("Done").unwrap();
        w.rig.take().unwrap();
        w.reader.wait_for("Idle").unwrap();
    }
    assert_eq!(w.rig.wait_outbox_empty(Duration::from_secs(10)), 0);
    assert_eq!(received(&w.rig, "verify"), 2);
    assert_eq!(received(&w.rig, "consent"), 2);
    // Every signed message (the card's certificate inside) starts with
    // this header; the name is the upstream's answer.
    let jws_start = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"alg":"ES256","#);
    let name = "テスト タロウ";
    let database = w.rig.database();
    let start = std::time::Instant::now();
    loop {
        // The kiosk tidies between receptions, on its next tick.
        let mut bytes = Vec::new();
        for suffix in ["", "-wal"] {
            let mut path = database.clone().into_os_string();
            path.push(suffix);
            bytes.extend(std::fs::read(&path).unwrap_or_default());
        }
        let found = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
        let (has_name, has_jws) = (found(name.as_bytes()), found(jws_start.as_bytes()));
        if !has_name && !has_jws {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "kiosk.db still holds the name: {has_name}, a signed request: {has_jws}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // Nothing waits: what went is only a delivery log now.
    let outbox = myna_upstream::outbox::Outbox::open(&database).unwrap();
    assert_eq!(outbox.pending_count().unwrap(), 0);
}

#[test]
fn with_the_upstream_down_the_patient_sees_staff_and_no_pin_try_is_spent() {
    let mut w = world(Options {
        deadline: Duration::from_secs(2),
        ..Options::default()
    });
    let card = card();
    w.rig.kill_upstream();
    w.rig.place(&card).unwrap();
    w.reader.wait_for("PinEntry").unwrap();
    w.reader.enter_pin(PIN).unwrap();
    w.reader.wait_for("SeeStaff").unwrap();
    // No challenge, so the card was never asked: its tries are untouched.
    assert_eq!(verifies(&card), 0);
    let record = w.rec.take();
    assert!(
        record
            .alerts
            .iter()
            .any(|a| matches!(a, Alert::Upstream(_))),
        "{record:?}"
    );
    assert!(record.messages.is_empty());
    let status = w.rig.status().unwrap();
    assert_eq!(status["last_error"], "upstream-unreachable", "{status}");
    assert_eq!(status["card_present"], true, "{status}");
    w.rig.take().unwrap();
    w.reader.wait_for("Idle").unwrap();
    let status = w.rig.status().unwrap();
    assert_eq!(status["outbox_pending"], 0);
    assert_eq!(status["card_present"], false);
}

#[test]
fn a_card_pulled_during_the_pin_pad_ends_the_reception_and_sends_nothing() {
    let mut w = world(Options::default());
    let card = card();
    w.rig.place(&card).unwrap();
    w.reader.wait_for("PinEntry").unwrap();
    w.reader.tap("digit 4").unwrap();
    w.reader.tap("digit 8").unwrap();
    w.rig.take().unwrap();
    w.reader.wait_for("Idle").unwrap();
    let state = w.reader.ask("state").unwrap();
    assert!(state.contains("entered=0"), "digits wiped: {state}");
    assert_eq!(verifies(&card), 0);
    assert!(w.rec.take().messages.is_empty());
    assert_eq!(received(&w.rig, "verify"), 0);
}

#[test]
fn visual_check_serves_exactly_one_reception() {
    let mut w = world(Options::default());
    let refused = w
        .rig
        .visual_check_on("staff-3", "not the password", "pin-forgotten")
        .unwrap();
    assert!(refused.contains("\"ok\":false"), "{refused}");
    assert_eq!(w.rig.status().unwrap()["visual_check"], false);
    let answer = w
        .rig
        .visual_check_on("staff-3", STAFF_PASSWORD, "pin-forgotten")
        .unwrap();
    assert!(answer.contains("\"visual_check\":true"), "{answer}");
    let card = card();
    w.rig.place(&card).unwrap();
    w.reader.wait_for("VisualCheck").unwrap();
    // No PIN pad can be reached while 目視 is on.
    assert!(w.reader.tap("pin").is_err());
    w.reader.tap("confirm").unwrap();
    w.reader.wait_for("ConsentOverview").unwrap();
    w.reader.tap("yes").unwrap();
    w.reader.wait_for("Done").unwrap();
    w.rig.take().unwrap();
    w.reader.wait_for("Idle").unwrap();
    assert_eq!(w.rig.status().unwrap()["visual_check"], false);
    // The next patient is asked for the PIN as usual (this kiosk has no
    // face path, so no choice is offered).
    w.rig.place(&card).unwrap();
    w.reader.wait_for("PinEntry").unwrap();
    w.rig.take().unwrap();
    w.reader.wait_for("Idle").unwrap();
    assert_eq!(verifies(&card), 0, "目視 spends no PIN try");
    assert_eq!(received(&w.rig, "verify"), 1);
    // The trail: the refusal, the switch, and the reception it served.
    let staff = myna_kiosk::staff::StaffDb::open(&w.rig.database()).unwrap();
    let trail: Vec<(String, String, String)> = staff
        .entries(0)
        .unwrap()
        .into_iter()
        .map(|e| (e.event, e.outcome, e.detail))
        .collect();
    for expected in [
        ("visual-check-on", "refused", "wrong-password"),
        ("visual-check-on", "ok", "pin-forgotten (socket)"),
        ("visual-check-used", "completed", "pin-forgotten"),
    ] {
        assert!(
            trail
                .iter()
                .any(|(e, o, d)| (e.as_str(), o.as_str(), d.as_str()) == expected),
            "{expected:?} not in {trail:?}"
        );
    }
    assert!(staff.verify().unwrap().is_ok());
    // Every message carried the trail's head; the upstream keeps the last,
    // and the kiosk's trail holds it.
    let received = w.rig.received();
    let heads = received["audit_heads"].as_object().unwrap();
    assert_eq!(heads.len(), 1, "{received}");
    let (_, kept) = heads.iter().next().unwrap();
    let db = myna_kiosk::staff::StaffDb::open(&w.rig.database()).unwrap();
    let kept = kept.as_array().unwrap();
    for head in kept {
        let head = myna_kiosk::staff::Head {
            seq: head["seq"].as_i64().unwrap(),
            hash: head["hash"].as_str().unwrap().to_string(),
        };
        assert!(db.verify_head(&head).unwrap().is_ok(), "{head}");
    }
    assert!(
        kept.last().unwrap()["seq"].as_i64().unwrap() >= 3,
        "{received}"
    );
    assert!(received["audit_alarms"].as_array().unwrap().is_empty());
}

#[test]
fn no_visual_check_is_switched_on_that_the_audit_trail_could_not_record() {
    let w = world(Options::default());
    // The trail's file refuses every new entry from now on (a full or
    // failing disk, as far as the kiosk can tell).
    let db = rusqlite::Connection::open(w.rig.database()).unwrap();
    db.execute_batch(
        "CREATE TRIGGER no_more BEFORE INSERT ON audit BEGIN SELECT RAISE(FAIL, 'disk full'); END;",
    )
    .unwrap();
    let answer = w
        .rig
        .visual_check_on("staff-3", STAFF_PASSWORD, "unwell")
        .unwrap();
    assert!(
        answer.contains("audit trail could not be written"),
        "{answer}"
    );
    assert_eq!(w.rig.status().unwrap()["visual_check"], false);
    // The trail works again: so does the switch.
    db.execute_batch("DROP TRIGGER no_more;").unwrap();
    let answer = w
        .rig
        .visual_check_on("staff-3", STAFF_PASSWORD, "unwell")
        .unwrap();
    assert!(answer.contains("\"visual_check\":true"), "{answer}");
}

#[test]
fn a_kiosk_restarted_mid_reception_sends_nothing_for_it_and_serves_the_next() {
    let mut w = world(Options::default());
    let card = card();
    w.rig.place(&card).unwrap();
    w.reader.wait_for("PinEntry").unwrap();
    w.reader.tap("digit 4").unwrap();
    // The kiosk dies and comes back; the card is still on the reader, so
    // the PC/SC thread reports it again.
    w.rig.start_kiosk(Box::new(w.rec.clone())).unwrap();
    w.reader.wait_for("Idle").unwrap();
    let state = w.reader.ask("state").unwrap();
    assert!(
        state.contains("entered=0"),
        "the new session wiped: {state}"
    );
    w.rig.place(&card).unwrap();
    w.reader.wait_for("PinEntry { tries_left: 3").unwrap();
    w.reader.enter_pin(PIN).unwrap();
    w.reader.wait_for("ConsentOverview").unwrap();
    w.reader.tap("yes").unwrap();
    w.reader.wait_for("Done").unwrap();
    w.rig.take().unwrap();
    assert_eq!(w.rig.wait_outbox_empty(Duration::from_secs(10)), 0);
    assert_eq!(received(&w.rig, "verify"), 1);
    assert_eq!(received(&w.rig, "consent"), 1);
    assert_eq!(w.rig.received()["duplicates"], 0);
}

#[test]
fn a_reader_restarted_mid_reception_is_drawn_again_and_the_reception_goes_on() {
    let mut w = world(Options::default());
    let card = card();
    w.rig.place(&card).unwrap();
    w.reader.wait_for("PinEntry").unwrap();
    let before = w.reader.ask("state").unwrap();
    w.reader.ask("reboot").unwrap();
    // The kiosk notices, opens a new session and draws the screen again.
    let mut reader = w.rig.reader_control().unwrap();
    reader.wait_for("PinEntry").unwrap();
    let after = reader.ask("state").unwrap();
    let boot = |s: &str| {
        s.split("boot=")
            .nth(1)
            .map(|b| b.split(' ').next().unwrap_or("").to_string())
    };
    assert_ne!(boot(&before), boot(&after), "{before} / {after}");
    reader.enter_pin(PIN).unwrap();
    reader.wait_for("ConsentOverview").unwrap();
    reader.tap("yes").unwrap();
    reader.wait_for("Done").unwrap();
    w.rig.take().unwrap();
    reader.wait_for("Idle").unwrap();
    assert_eq!(w.rig.wait_outbox_empty(Duration::from_secs(10)), 0);
    assert_eq!(received(&w.rig, "verify"), 1);
    let kinds = w.rec.take().messages;
    assert_eq!(kinds, [MessageKind::Verify, MessageKind::Consent]);
}

#[test]
fn a_patient_can_stop_while_the_face_is_being_compared() {
    let Some((mut w, card_photo)) = face_world(|kit| &kit.live) else {
        return;
    };
    let _card = w.place_with_photo(&card_photo, personality(SERIAL, PIN));
    w.reader.wait_for("ChooseMethod").unwrap();
    w.reader.tap("face").unwrap();
    w.reader.wait_for("FaceCapture").unwrap();
    // やめる at once: the face work runs off the kiosk's loop, so the touch
    // is served while the photo is encoded and the face compared, and the
    // late verdict (a match) is not acted on.
    w.reader.tap("cancel").unwrap();
    w.reader.wait_for("ChooseMethod").unwrap();
    w.rig.take().unwrap();
    w.reader.wait_for("Idle").unwrap();
    let record = w.rec.take();
    assert!(record.messages.is_empty(), "{record:?}");
    assert!(
        !record.screens.iter().any(|s| s == "processing"),
        "{:?}",
        record.screens
    );
    assert_eq!(received(&w.rig, "verify"), 0);
}
