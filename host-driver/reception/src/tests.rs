//! Every rule of the reception as a unit test, and the invariants as
//! property tests over arbitrary input sequences.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use myna_link::{Button, FaceHint};
use proptest::prelude::*;
use time::{Duration, OffsetDateTime};

use super::*;
use myna_upstream::messages::{PadResult, Qualification, ScoreBand, VisualReason};

use super::expiry::tests::d;

/// 2026-11-30 10:00 in Japan.
fn now0() -> OffsetDateTime {
    d(2026, 11, 30)
        .with_hms(10, 0, 0)
        .unwrap()
        .assume_offset(time::UtcOffset::from_hms(9, 0, 0).unwrap())
}

/// A kiosk driven step by step, keeping every effect.
struct Kiosk {
    core: Reception,
    now: OffsetDateTime,
    log: Vec<Effect>,
}

impl Kiosk {
    fn new() -> Kiosk {
        Kiosk {
            core: Reception::new(ReceptionConfig::default(), now0()),
            now: now0(),
            log: Vec::new(),
        }
    }

    fn step(&mut self, input: Input) -> Vec<Effect> {
        let out = self.core.step(input, self.now);
        self.log.extend(out.iter().cloned());
        out
    }

    fn touch(&mut self, button: Button) -> Vec<Effect> {
        let (screen, _) = self.core.screen();
        self.step(Input::Touch { screen, button })
    }

    fn screen(&self) -> PatientScreen {
        self.core.screen().1.clone()
    }

    fn card(&mut self, not_after: time::Date, kind: CardKind) -> Vec<Effect> {
        assert!(self.step(Input::CardInserted).contains(&Effect::ReadCard));
        self.step(Input::CardRead(CardFacts { not_after, kind }))
    }

    fn standard(&mut self) {
        self.card(d(2030, 1, 1), CardKind::Standard);
        assert_eq!(
            self.screen(),
            PatientScreen::ChooseMethod { face_only: false }
        );
    }

    fn valid(&mut self, registered: bool, checkup: bool) -> Vec<Effect> {
        self.step(Input::Verified(VerifyAnswer {
            qualification: Qualification::Valid,
            registered,
            name_kana: Some("ヤマダ タロウ".into()),
            specific_health_checkup: checkup,
        }))
    }

    /// From the method screen: PIN, 3 tries, four digits, signed.
    fn pin_signed(&mut self) {
        self.touch(Button::Pin);
        self.step(Input::PinTries(3));
        self.touch(Button::PinDigitEntered { count: 4 });
        self.step(Input::Pin(PinOutcome::Signed));
    }

    fn count(&self, f: impl Fn(&Effect) -> bool) -> usize {
        self.log.iter().filter(|e| f(e)).count()
    }
}

fn face_match() -> Input {
    Input::Face(FaceVerdict::Match {
        band: ScoreBand::High,
        pad: PadResult::Live,
    })
}

#[test]
fn a_face_reception_runs_from_card_to_done_and_wipes_on_removal() {
    let mut k = Kiosk::new();
    k.standard();
    assert_eq!(k.touch(Button::Face).last(), Some(&Effect::ReadCardFront));
    assert_eq!(k.step(Input::CardFrontRead), [Effect::ReadCardPhoto]);
    assert_eq!(
        k.step(Input::Photo(PhotoOutcome::Read)),
        [Effect::CaptureFace { attempts_used: 0 }]
    );
    let out = k.step(face_match());
    assert_eq!(k.screen(), PatientScreen::Processing);
    assert!(out.contains(&Effect::SendVerify(Identity::Face {
        attempts: 1,
        band: ScoreBand::High,
        pad: PadResult::Live
    })));
    k.valid(true, false);
    // No 特定健診 item: 健診 is not listed.
    assert_eq!(
        k.screen(),
        PatientScreen::ConsentOverview { checkup: false }
    );
    let out = k.touch(Button::Yes);
    let Some(Effect::SendConsent {
        decisions,
        registration_request,
        relayed_by: None,
    }) = out.iter().find(|e| matches!(e, Effect::SendConsent { .. }))
    else {
        panic!("{out:?}")
    };
    assert!(!registration_request);
    let agree = |d: &Option<Decision>| d.map(|d| (d.agree, d.source));
    assert_eq!(
        agree(&decisions.OperationInfoConsFlg),
        Some((true, FlagSource::Patient))
    );
    assert_eq!(
        agree(&decisions.DiagnosisInfoConsFlg),
        Some((true, FlagSource::Patient))
    );
    assert_eq!(
        agree(&decisions.PharmacistsInfoConsFlg),
        Some((true, FlagSource::Patient))
    );
    assert_eq!(
        decisions.SpecificHealthCheckupsInfoConsFlg, None,
        "does not apply"
    );
    assert_eq!(
        agree(&decisions.LimitApplicationCertificateRelatedConsFlg),
        Some((true, FlagSource::Flow)),
        "限度額 comes with the qualification, no screen"
    );
    assert_eq!(decisions.SpecificDiseasesCertificateRelatedConsFlg, None);
    // On the wire: 1/0, the time, and who set each flag.
    let wire = serde_json::to_value(decisions.to_wire()).unwrap();
    assert_eq!(wire["OperationInfoConsFlg"]["value"], 1);
    assert_eq!(wire["OperationInfoConsFlg"]["source"], "patient");
    assert_eq!(
        wire["LimitApplicationCertificateRelatedConsFlg"]["source"],
        "flow"
    );
    assert_eq!(
        wire["LimitApplicationCertificateRelatedConsFlg"]["decided_at"],
        k.now.unix_timestamp()
    );
    assert!(wire.get("SpecificHealthCheckupsInfoConsFlg").is_none());
    assert_eq!(
        k.screen(),
        PatientScreen::Done {
            name_kana: Some("ヤマダ タロウ".into())
        }
    );
    assert!(out.contains(&Effect::Wipe));
    // The card stays: a reminder after 10 s, an alert after 60 s.
    k.now += Duration::seconds(9);
    assert!(k.step(Input::Tick).is_empty());
    k.now += Duration::seconds(1);
    assert_eq!(k.step(Input::Tick), [Effect::Signal(Signal::TakeCard)]);
    k.now += Duration::seconds(50);
    assert_eq!(k.step(Input::Tick), [Effect::AlertStaff(Alert::CardLeft)]);
    let out = k.step(Input::CardRemoved);
    assert!(out.contains(&Effect::Wipe));
    assert_eq!(k.screen(), PatientScreen::Idle);
    assert!(!k.core.in_reception());
}

#[test]
fn expiry_notice_grace_and_refusal() {
    // Within 3 months of expiry: the notice, then the method.
    let mut k = Kiosk::new();
    k.card(d(2027, 1, 31), CardKind::Standard);
    assert_eq!(
        k.screen(),
        PatientScreen::ExpiryNotice {
            not_after: d(2027, 1, 31),
            in_grace: false
        }
    );
    k.touch(Button::Confirm);
    assert_eq!(k.screen(), PatientScreen::ChooseMethod { face_only: false });

    // In the grace: qualification only, no registration, no consent.
    let mut k = Kiosk::new();
    k.card(d(2026, 10, 15), CardKind::Standard);
    assert_eq!(
        k.screen(),
        PatientScreen::ExpiryNotice {
            not_after: d(2026, 10, 15),
            in_grace: true
        }
    );
    k.touch(Button::Confirm);
    k.pin_signed();
    k.valid(false, true);
    assert!(matches!(k.screen(), PatientScreen::Done { .. }));
    assert_eq!(k.count(|e| matches!(e, Effect::SendConsent { .. })), 0);
    assert_eq!(k.count(|e| matches!(e, Effect::SendRegistration)), 0);

    // Beyond the grace: refused, staff alerted, nothing read or sent.
    let mut k = Kiosk::new();
    let out = k.card(d(2026, 7, 31), CardKind::Standard);
    assert_eq!(k.screen(), PatientScreen::ExpiredRefused);
    assert!(out.contains(&Effect::AlertStaff(Alert::CertificateExpired)));
    assert!(k.touch(Button::Confirm).is_empty());
}

#[test]
fn registration_is_offered_when_not_registered_but_not_days_before_expiry() {
    let mut k = Kiosk::new();
    k.standard();
    k.pin_signed();
    k.valid(false, true);
    // The terms of use first (the reader turns the pages; nothing else
    // answers them), then the question.
    assert_eq!(k.screen(), PatientScreen::RegistrationTerms);
    assert!(k.touch(Button::Yes).is_empty());
    assert_eq!(k.screen(), PatientScreen::RegistrationTerms);
    k.touch(Button::Confirm);
    assert_eq!(k.screen(), PatientScreen::Registration);
    assert_eq!(k.touch(Button::Yes).last(), Some(&Effect::SendRegistration));
    assert_eq!(k.screen(), PatientScreen::Processing);
    k.step(Input::Registered);
    assert_eq!(k.screen(), PatientScreen::RegistrationDone);
    k.touch(Button::Confirm);
    // 特定健診 applies: 健診 is listed.
    assert_eq!(k.screen(), PatientScreen::ConsentOverview { checkup: true });
    // One by one over 手術, 診療・お薬, 特定健診 (it applies).
    k.touch(Button::OneByOne);
    let mut steps = Vec::new();
    for answer in [Button::No, Button::Yes, Button::No] {
        steps.push(k.screen());
        k.touch(answer);
    }
    assert_eq!(
        steps,
        [
            PatientScreen::ConsentItem {
                topic: ConsentTopic::Operation,
                step: 1,
                of: 3
            },
            PatientScreen::ConsentItem {
                topic: ConsentTopic::DiagnosisAndMedication,
                step: 2,
                of: 3
            },
            PatientScreen::ConsentItem {
                topic: ConsentTopic::SpecificHealthCheckup,
                step: 3,
                of: 3
            },
        ]
    );
    let Some(Effect::SendConsent {
        decisions,
        registration_request,
        ..
    }) = k
        .log
        .iter()
        .find(|e| matches!(e, Effect::SendConsent { .. }))
        .cloned()
    else {
        panic!()
    };
    assert!(registration_request);
    assert_eq!(decisions.OperationInfoConsFlg.map(|d| d.agree), Some(false));
    assert_eq!(decisions.DiagnosisInfoConsFlg.map(|d| d.agree), Some(true));
    assert_eq!(
        decisions.PharmacistsInfoConsFlg.map(|d| d.agree),
        Some(true)
    );
    assert_eq!(
        decisions.SpecificHealthCheckupsInfoConsFlg.map(|d| d.agree),
        Some(false)
    );

    // Four days before expiry: no registration offered; staff instead.
    let mut k = Kiosk::new();
    k.card(d(2026, 12, 4), CardKind::Standard);
    k.touch(Button::Confirm);
    k.pin_signed();
    let out = k.valid(false, false);
    assert_eq!(k.screen(), PatientScreen::SeeStaff);
    assert!(out.contains(&Effect::AlertStaff(Alert::NotRegistered)));
}

#[test]
fn face_gives_three_compared_attempts_and_retakes_spend_none() {
    let mut k = Kiosk::new();
    k.standard();
    k.touch(Button::Face);
    k.step(Input::CardFrontRead);
    k.step(Input::Photo(PhotoOutcome::Read));
    // A retake shows one hint and spends nothing.
    let out = k.step(Input::Face(FaceVerdict::Retake(FaceHint::RemoveMask)));
    assert_eq!(
        k.screen(),
        PatientScreen::FaceCapture {
            hint: Some(FaceHint::RemoveMask),
            placed: false,
        }
    );
    assert!(out.contains(&Effect::CaptureFace { attempts_used: 0 }));
    let out = k.step(Input::Face(FaceVerdict::NoMatch));
    assert!(out.contains(&Effect::CaptureFace { attempts_used: 1 }));
    // Compared, so the gate had passed: the guide is green.
    assert_eq!(
        k.screen(),
        PatientScreen::FaceCapture {
            hint: None,
            placed: true,
        }
    );
    let out = k.step(Input::Face(FaceVerdict::NoMatch));
    assert!(out.contains(&Effect::CaptureFace { attempts_used: 2 }));
    k.step(Input::Face(FaceVerdict::NoMatch));
    assert_eq!(
        k.screen(),
        PatientScreen::FaceFailed {
            pin_available: true
        }
    );
    // The PIN from there.
    assert_eq!(k.touch(Button::Pin), [Effect::ReadPinTries]);
    // A face-only card: no PIN offered, staff alerted.
    let mut k = Kiosk::new();
    k.card(d(2030, 1, 1), CardKind::FaceOnly);
    assert_eq!(k.screen(), PatientScreen::ChooseMethod { face_only: true });
    assert!(
        k.touch(Button::Pin).is_empty(),
        "no PIN on a face-only card"
    );
    k.touch(Button::Face);
    k.step(Input::CardFrontRead);
    k.step(Input::Photo(PhotoOutcome::Read));
    for _ in 0..3 {
        k.step(Input::Face(FaceVerdict::NoMatch));
    }
    assert_eq!(
        k.screen(),
        PatientScreen::FaceFailed {
            pin_available: false
        }
    );
    assert_eq!(
        k.count(|e| *e == Effect::AlertStaff(Alert::IdentityFailed)),
        1
    );
}

#[test]
fn an_attack_ends_the_face_path_at_once_with_a_staff_alert() {
    // First capture judged a photo: no retake, PIN or staff offered, staff
    // told why; the face is not offered again in this reception.
    let mut k = Kiosk::new();
    k.standard();
    k.touch(Button::Face);
    k.step(Input::CardFrontRead);
    k.step(Input::Photo(PhotoOutcome::Read));
    let out = k.step(Input::Face(FaceVerdict::Attack));
    assert!(
        out.contains(&Effect::AlertStaff(Alert::FaceRefused)),
        "{out:?}"
    );
    assert!(
        !out.iter().any(|e| matches!(e, Effect::CaptureFace { .. })),
        "no retake after an attack: {out:?}"
    );
    assert_eq!(
        k.screen(),
        PatientScreen::FaceFailed {
            pin_available: true
        }
    );
    // Cancelling the PIN back to the choice does not bring face back.
    assert_eq!(k.touch(Button::Pin), [Effect::ReadPinTries]);
    k.step(Input::PinTries(3));
    k.touch(Button::Cancel);
    let out = k.touch(Button::Face);
    assert!(
        !out.contains(&Effect::ReadCardFront),
        "face is over for this reception: {out:?}"
    );
    // A face-only card: staff only, alerted twice over (why, and that
    // nothing is left).
    let mut k = Kiosk::new();
    k.card(d(2030, 1, 1), CardKind::FaceOnly);
    k.touch(Button::Face);
    k.step(Input::CardFrontRead);
    k.step(Input::Photo(PhotoOutcome::Read));
    k.step(Input::Face(FaceVerdict::Attack));
    assert_eq!(
        k.screen(),
        PatientScreen::FaceFailed {
            pin_available: false
        }
    );
    assert_eq!(k.count(|e| *e == Effect::AlertStaff(Alert::FaceRefused)), 1);
    assert_eq!(
        k.count(|e| *e == Effect::AlertStaff(Alert::IdentityFailed)),
        1
    );
}

#[test]
fn without_the_face_path_the_pin_is_offered_directly_and_staff_otherwise() {
    let config = ReceptionConfig {
        face_available: false,
        ..ReceptionConfig::default()
    };
    let mut k = Kiosk::new();
    k.core = Reception::new(config, now0());
    assert!(k.step(Input::CardInserted).contains(&Effect::ReadCard));
    let out = k.step(Input::CardRead(CardFacts {
        not_after: d(2030, 1, 1),
        kind: CardKind::Standard,
    }));
    assert!(out.contains(&Effect::ReadPinTries), "{out:?}");
    k.step(Input::PinTries(3));
    assert!(matches!(k.screen(), PatientScreen::PinEntry { .. }));
    // Backing out of the PIN: nothing else to choose, staff take over.
    k.touch(Button::Cancel);
    assert_eq!(k.screen(), PatientScreen::SeeStaff);
    assert_eq!(
        k.count(|e| *e == Effect::AlertStaff(Alert::FaceUnavailable)),
        1
    );
    // A face-only card goes to staff at once.
    let mut k = Kiosk::new();
    k.core = Reception::new(config, now0());
    k.step(Input::CardInserted);
    k.step(Input::CardRead(CardFacts {
        not_after: d(2030, 1, 1),
        kind: CardKind::FaceOnly,
    }));
    assert_eq!(k.screen(), PatientScreen::SeeStaff);
    assert_eq!(
        k.count(|e| *e == Effect::AlertStaff(Alert::FaceUnavailable)),
        1
    );
}

#[test]
fn an_unsure_card_front_is_never_sent_and_a_refused_b_is_not_retried() {
    let mut k = Kiosk::new();
    k.standard();
    k.touch(Button::Face);
    // Unsure: read the front again, never the photo.
    assert_eq!(
        k.step(Input::CardFrontRefused(CardFrontRefusal::Unsure)),
        [Effect::ReadCardFront]
    );
    k.step(Input::CardFrontRefused(CardFrontRefusal::NotFound));
    assert_eq!(
        k.screen(),
        PatientScreen::FaceFailed {
            pin_available: true
        }
    );
    assert_eq!(k.count(|e| *e == Effect::ReadCardPhoto), 0);
    // The card refuses 照合番号B: face fails, no second try.
    let mut k = Kiosk::new();
    k.standard();
    k.touch(Button::Face);
    k.step(Input::CardFrontRead);
    k.step(Input::Photo(PhotoOutcome::Refused));
    assert_eq!(
        k.screen(),
        PatientScreen::FaceFailed {
            pin_available: true
        }
    );
    assert_eq!(k.count(|e| *e == Effect::ReadCardPhoto), 1);
}

#[test]
fn pin_tries_are_read_before_every_attempt_and_the_last_one_is_warned() {
    let mut k = Kiosk::new();
    k.standard();
    assert_eq!(k.touch(Button::Pin), [Effect::ReadPinTries]);
    k.step(Input::PinTries(2));
    assert_eq!(
        k.screen(),
        PatientScreen::PinEntry {
            tries_left: 2,
            wrong_before: false
        }
    );
    // Fewer than four digits do nothing.
    assert!(k.touch(Button::PinDigitEntered { count: 3 }).is_empty());
    assert_eq!(
        k.touch(Button::PinDigitEntered { count: 4 }),
        [Effect::VerifyPinAndSign]
    );
    // Wrong: the tries are read again, then the last-try warning.
    assert_eq!(
        k.step(Input::Pin(PinOutcome::Wrong { tries_left: 1 })),
        [Effect::ReadPinTries]
    );
    k.step(Input::PinTries(1));
    assert_eq!(k.screen(), PatientScreen::PinLastTry);
    k.touch(Button::Confirm);
    assert_eq!(
        k.screen(),
        PatientScreen::PinEntry {
            tries_left: 1,
            wrong_before: true
        }
    );
    k.touch(Button::PinDigitEntered { count: 4 });
    let out = k.step(Input::Pin(PinOutcome::Locked));
    assert_eq!(
        k.screen(),
        PatientScreen::PinLocked {
            face_available: true
        }
    );
    assert!(out.contains(&Effect::AlertStaff(Alert::PinLocked)));
    // Face still works with a locked PIN.
    assert_eq!(k.touch(Button::Face).last(), Some(&Effect::ReadCardFront));
    assert_eq!(k.count(|e| *e == Effect::VerifyPinAndSign), 2);
    // And if the face is refused as an attack, the PIN is not offered
    // again: staff only, alerted that nothing is left.
    k.step(Input::CardFrontRead);
    k.step(Input::Photo(PhotoOutcome::Read));
    k.step(Input::Face(FaceVerdict::Attack));
    assert_eq!(
        k.screen(),
        PatientScreen::FaceFailed {
            pin_available: false
        }
    );
    assert_eq!(
        k.count(|e| *e == Effect::AlertStaff(Alert::IdentityFailed)),
        1
    );
}

#[test]
fn a_locked_card_gets_no_verify_at_all() {
    let mut k = Kiosk::new();
    k.standard();
    k.touch(Button::Pin);
    k.step(Input::PinTries(0));
    assert_eq!(
        k.screen(),
        PatientScreen::PinLocked {
            face_available: true
        }
    );
    // Even a stray "four digits" touch on an older screen sends nothing.
    k.step(Input::Touch {
        screen: 1,
        button: Button::PinDigitEntered { count: 4 },
    });
    assert_eq!(k.count(|e| *e == Effect::VerifyPinAndSign), 0);
}

#[test]
fn visual_check_serves_exactly_one_reception_and_is_audited() {
    let mut k = Kiosk::new();
    let on = VisualCheckOn {
        staff_id: "nurse-7".into(),
        reason: VisualReason::PinForgotten,
    };
    let out = k.step(Input::VisualCheckOn(on.clone()));
    assert!(matches!(
        &out[..],
        [Effect::Show {
            visual_check: true,
            ..
        }]
    ));
    k.card(d(2030, 1, 1), CardKind::Standard);
    assert_eq!(k.screen(), PatientScreen::VisualCheck);
    let out = k.touch(Button::Confirm);
    assert!(out.contains(&Effect::SendVerify(Identity::Visual(on.clone()))));
    k.valid(true, false);
    let out = k.touch(Button::Yes);
    assert!(out.contains(&Effect::Audit(AuditEvent::VisualCheckUsed {
        staff_id: "nurse-7".into(),
        reason: VisualReason::PinForgotten,
        completed: true
    })));
    assert!(!k.core.visual_check(), "off after its reception");
    k.step(Input::CardRemoved);
    // The next patient chooses as usual; no PIN or B counter was touched.
    k.standard();
    assert_eq!(
        k.count(|e| matches!(e, Effect::ReadPinTries | Effect::ReadCardFront)),
        0
    );
    // Switched on mid-reception: it replaces the method at once.
    k.touch(Button::Pin);
    k.step(Input::PinTries(3));
    k.step(Input::VisualCheckOn(on));
    assert_eq!(k.screen(), PatientScreen::VisualCheck);
    // The card leaves: the mode ends with the reception, audited as such.
    let out = k.step(Input::CardRemoved);
    assert!(out.contains(&Effect::Audit(AuditEvent::VisualCheckUsed {
        staff_id: "nurse-7".into(),
        reason: VisualReason::PinForgotten,
        completed: false
    })));
    assert!(!k.core.visual_check());
}

#[test]
fn an_armed_visual_check_left_alone_expires_and_one_in_use_does_not() {
    let mut k = Kiosk::new();
    let on = VisualCheckOn {
        staff_id: "nurse-7".into(),
        reason: VisualReason::Unwell,
    };
    k.step(Input::VisualCheckOn(on.clone()));
    assert_eq!(k.core.visual_check_left(k.now), Some(Duration::minutes(5)));
    k.now += Duration::minutes(4);
    assert!(k.step(Input::Tick).is_empty(), "still armed at 4 minutes");
    assert_eq!(k.core.visual_check_left(k.now), Some(Duration::minutes(1)));
    k.now += Duration::minutes(1);
    let out = k.step(Input::Tick);
    assert!(out.contains(&Effect::Audit(AuditEvent::VisualCheckExpired {
        staff_id: "nurse-7".into(),
        reason: VisualReason::Unwell,
    })));
    assert!(out.contains(&Effect::Show {
        id: k.core.screen().0,
        screen: PatientScreen::Idle,
        visual_check: false
    }));
    assert!(!k.core.visual_check());
    assert_eq!(k.core.visual_check_left(k.now), None);
    // The next patient is not waved through.
    k.standard();
    k.step(Input::CardRemoved);
    // Armed, then a card comes in time: the switch serves that reception
    // however long it takes, and no expiry is audited.
    k.step(Input::VisualCheckOn(on));
    k.now += Duration::minutes(3);
    k.card(d(2030, 1, 1), CardKind::Standard);
    assert_eq!(k.screen(), PatientScreen::VisualCheck);
    assert_eq!(k.core.visual_check_left(k.now), None);
    k.now += Duration::seconds(50);
    k.step(Input::Tick);
    k.now += Duration::minutes(10);
    k.step(Input::Tick);
    assert_eq!(
        k.count(|e| matches!(e, Effect::Audit(AuditEvent::VisualCheckExpired { .. }))),
        1
    );
}

#[test]
fn upstream_answers_other_than_valid_or_none_at_all_send_the_patient_to_staff() {
    for (input, alert) in [
        (
            Input::Verified(VerifyAnswer {
                qualification: Qualification::Invalid,
                registered: true,
                name_kana: None,
                specific_health_checkup: false,
            }),
            Alert::Qualification(Qualification::Invalid),
        ),
        (
            Input::UpstreamFailed(UpstreamFailure::Deadline),
            Alert::Upstream(UpstreamFailure::Deadline),
        ),
    ] {
        let mut k = Kiosk::new();
        k.standard();
        k.pin_signed();
        let out = k.step(input);
        assert_eq!(k.screen(), PatientScreen::SeeStaff);
        assert!(out.contains(&Effect::AlertStaff(alert)));
        assert!(out.contains(&Effect::Wipe));
    }
}

#[test]
fn no_challenge_for_the_pin_signature_sends_the_patient_to_staff_without_a_verify() {
    let mut k = Kiosk::new();
    k.standard();
    k.touch(Button::Pin);
    k.step(Input::PinTries(3));
    let out = k.touch(Button::PinDigitEntered { count: 4 });
    assert_eq!(out, [Effect::VerifyPinAndSign]);
    // The adapter could not get a challenge, so it sent no VERIFY.
    let out = k.step(Input::UpstreamFailed(UpstreamFailure::Deadline));
    assert_eq!(k.screen(), PatientScreen::SeeStaff);
    assert!(out.contains(&Effect::AlertStaff(Alert::Upstream(
        UpstreamFailure::Deadline
    ))));
    assert!(!out.iter().any(|e| matches!(e, Effect::SendVerify(_))));
}

#[test]
fn a_card_that_is_not_a_my_number_card_gets_its_own_screen_and_no_misread() {
    let mut k = Kiosk::new();
    k.step(Input::CardInserted);
    k.step(Input::NotMyNumberCard);
    assert_eq!(k.screen(), PatientScreen::NotMyNumberCard);
    k.step(Input::CardRemoved);
    assert_eq!(k.screen(), PatientScreen::Idle);
    // Three wrong cards in a row are not three misreads.
    for _ in 0..3 {
        k.step(Input::CardInserted);
        let out = k.step(Input::NotMyNumberCard);
        assert!(!out.contains(&Effect::AlertStaff(Alert::CardUnreadable)));
        k.step(Input::CardRemoved);
    }
}

#[test]
fn consent_relayed_by_staff_is_taken_only_on_the_consent_screens_and_says_by_whom() {
    let mut k = Kiosk::new();
    k.standard();
    let relayed = || Input::ConsentRelayed {
        staff_id: "nurse-1".into(),
        answers: vec![
            (ConsentTopic::Operation, true),
            (ConsentTopic::DiagnosisAndMedication, false),
        ],
    };
    // Not before the consent screens.
    assert!(k.step(relayed()).is_empty());
    k.pin_signed();
    k.valid(true, true);
    assert_eq!(k.screen(), PatientScreen::ConsentOverview { checkup: true });
    let out = k.step(relayed());
    let Some(Effect::SendConsent {
        decisions,
        relayed_by,
        ..
    }) = out.iter().find(|e| matches!(e, Effect::SendConsent { .. }))
    else {
        panic!("{out:?}")
    };
    assert_eq!(relayed_by.as_deref(), Some("nurse-1"));
    assert_eq!(decisions.OperationInfoConsFlg.map(|d| d.agree), Some(true));
    assert_eq!(decisions.DiagnosisInfoConsFlg.map(|d| d.agree), Some(false));
    assert_eq!(
        decisions.PharmacistsInfoConsFlg.map(|d| d.agree),
        Some(false)
    );
    // A topic not answered is declined, never assumed.
    assert_eq!(
        decisions.SpecificHealthCheckupsInfoConsFlg.map(|d| d.agree),
        Some(false)
    );
    assert!(matches!(k.screen(), PatientScreen::Done { .. }));
    // And not after.
    assert!(k.step(relayed()).is_empty());
}

#[test]
fn call_staff_removal_idle_and_faults_end_cleanly() {
    let mut k = Kiosk::new();
    k.standard();
    k.touch(Button::Pin);
    k.step(Input::PinTries(1));
    let out = k.touch(Button::CallStaff);
    assert_eq!(k.screen(), PatientScreen::StaffComing);
    assert!(out.contains(&Effect::AlertStaff(Alert::PatientCalled)));

    // Removal during the PIN pad: nothing more is sent, late answers ignored.
    let mut k = Kiosk::new();
    k.standard();
    k.touch(Button::Pin);
    k.step(Input::PinTries(3));
    k.touch(Button::PinDigitEntered { count: 4 });
    let out = k.step(Input::CardRemoved);
    assert_eq!(k.screen(), PatientScreen::Idle);
    assert!(out.contains(&Effect::Wipe));
    assert!(k.step(Input::Pin(PinOutcome::Signed)).is_empty());
    assert_eq!(k.count(|e| matches!(e, Effect::SendVerify(_))), 0);

    // 60 s without a touch: Idle and wiped (from the reader, or the core's own clock).
    let mut k = Kiosk::new();
    k.standard();
    let out = k.step(Input::IdleTimeout);
    assert_eq!(k.screen(), PatientScreen::Idle);
    assert!(out.contains(&Effect::Wipe));
    let mut k = Kiosk::new();
    k.standard();
    k.now += Duration::seconds(59);
    assert!(k.step(Input::Tick).is_empty());
    k.now += Duration::seconds(1);
    assert!(k.step(Input::Tick).contains(&Effect::Wipe));
    // Processing does not time out here (the upstream deadline does).
    let mut k = Kiosk::new();
    k.standard();
    k.pin_signed();
    k.now += Duration::seconds(120);
    assert!(k.step(Input::Tick).is_empty());

    // Three misreads in a row alert the staff.
    let mut k = Kiosk::new();
    for n in 1..=3u8 {
        k.step(Input::CardInserted);
        let out = k.step(Input::CardUnreadable);
        assert_eq!(k.screen(), PatientScreen::ReadError { misreads: n });
        assert_eq!(
            out.contains(&Effect::AlertStaff(Alert::CardUnreadable)),
            n == 3
        );
        k.step(Input::CardRemoved);
    }
}

#[test]
fn late_touches_on_older_screens_are_ignored() {
    let mut k = Kiosk::new();
    k.standard();
    let (old, _) = k.core.screen();
    k.touch(Button::Pin);
    k.step(Input::PinTries(3));
    assert!(k
        .step(Input::Touch {
            screen: old,
            button: Button::Face
        })
        .is_empty());
}

#[test]
fn the_core_names_no_io_clock_or_sleep() {
    // Built from pieces so this file does not match itself.
    let forbidden = [
        ["to", "kio"].concat(),
        ["pc", "sc::"].concat(),
        ["rusq", "lite"].concat(),
        ["Tcp", "Stream"].concat(),
        ["Unix", "Stream"].concat(),
        ["Udp", "Socket"].concat(),
        ["Instant", "::now"].concat(),
        ["SystemTime", "::now"].concat(),
        ["OffsetDateTime", "::now"].concat(),
        ["thread", "::sleep"].concat(),
    ];
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        files += 1;
        for word in &forbidden {
            assert!(
                !text.contains(word.as_str()),
                "{} names {word}",
                path.display()
            );
        }
    }
    assert!(files >= 4);
}

/// Inputs for the property tests, touches by index into the buttons.
fn any_input() -> impl Strategy<Value = Input> {
    let buttons = [
        Button::Face,
        Button::Pin,
        Button::CallStaff,
        Button::Confirm,
        Button::Yes,
        Button::No,
        Button::OneByOne,
        Button::Cancel,
        Button::PinDigitEntered { count: 4 },
        Button::PinDigitEntered { count: 2 },
    ];
    prop_oneof![
        Just(Input::CardInserted),
        Just(Input::CardRemoved),
        (0u8..3, any::<bool>()).prop_map(|(y, face_only)| Input::CardRead(CardFacts {
            not_after: [d(2026, 8, 1), d(2026, 12, 20), d(2030, 1, 1)][usize::from(y)],
            kind: if face_only {
                CardKind::FaceOnly
            } else {
                CardKind::Standard
            },
        })),
        Just(Input::CardUnreadable),
        Just(Input::NotMyNumberCard),
        (0usize..buttons.len()).prop_map(move |i| Input::Touch {
            screen: u32::MAX, // replaced by the current screen in the test
            button: buttons[i],
        }),
        Just(Input::IdleTimeout),
        Just(Input::CardFrontRead),
        Just(Input::CardFrontRefused(CardFrontRefusal::Unsure)),
        Just(Input::Photo(PhotoOutcome::Read)),
        Just(Input::Photo(PhotoOutcome::Refused)),
        Just(Input::Face(FaceVerdict::Attack)),
        Just(face_match()),
        Just(Input::Face(FaceVerdict::NoMatch)),
        Just(Input::Face(FaceVerdict::Retake(FaceHint::MoveCloser))),
        (0u8..4).prop_map(Input::PinTries),
        Just(Input::Pin(PinOutcome::Signed)),
        (0u8..3).prop_map(|t| Input::Pin(PinOutcome::Wrong { tries_left: t })),
        Just(Input::Pin(PinOutcome::Locked)),
        any::<bool>().prop_map(|registered| Input::Verified(VerifyAnswer {
            qualification: Qualification::Valid,
            registered,
            name_kana: None,
            specific_health_checkup: registered,
        })),
        Just(Input::UpstreamFailed(UpstreamFailure::Deadline)),
        Just(Input::Registered),
        Just(Input::VisualCheckOn(VisualCheckOn {
            staff_id: "s".into(),
            reason: VisualReason::Other,
        })),
        Just(Input::VisualCheckOff),
        Just(Input::ReaderFault),
        Just(Input::ReaderRecovered),
        any_fault().prop_map(Input::Fault),
        (1i64..90).prop_map(|_| Input::Tick),
    ]
}

fn any_fault() -> impl Strategy<Value = Fault> {
    prop_oneof![
        Just(Fault::Card),
        Just(Fault::Reader),
        Just(Fault::FaceEngine)
    ]
}

#[test]
fn faults_go_to_staff_or_the_pin_and_never_count_against_the_patient() {
    // Mid-PIN, the card stops answering: staff, not the locked screen.
    let mut k = Kiosk::new();
    k.standard();
    k.touch(Button::Pin);
    let out = k.step(Input::Fault(Fault::Card));
    assert_eq!(k.screen(), PatientScreen::SeeStaff);
    assert!(out.contains(&Effect::AlertStaff(Alert::Fault(Fault::Card))));
    assert!(out.contains(&Effect::Wipe));
    // The reader loses the PIN after four digits: no VERIFY, no wrong try.
    let mut k = Kiosk::new();
    k.standard();
    k.touch(Button::Pin);
    k.step(Input::PinTries(3));
    k.touch(Button::PinDigitEntered { count: 4 });
    let out = k.step(Input::Fault(Fault::Reader));
    assert_eq!(k.screen(), PatientScreen::SeeStaff);
    assert!(out.contains(&Effect::AlertStaff(Alert::Fault(Fault::Reader))));
    assert_eq!(k.count(|e| *e == Effect::VerifyPinAndSign), 1);
    // The face engine fails mid-capture: straight to the PIN pad, no hint.
    let mut k = Kiosk::new();
    k.standard();
    k.touch(Button::Face);
    k.step(Input::CardFrontRead);
    k.step(Input::Photo(PhotoOutcome::Read));
    let out = k.step(Input::Fault(Fault::FaceEngine));
    assert!(out.contains(&Effect::ReadPinTries), "{out:?}");
    assert!(out.contains(&Effect::AlertStaff(Alert::Fault(Fault::FaceEngine))));
    k.step(Input::PinTries(3));
    assert_eq!(
        k.screen(),
        PatientScreen::PinEntry {
            tries_left: 3,
            wrong_before: false
        }
    );
    // ... and on a face-only card, to staff.
    let mut k = Kiosk::new();
    k.card(d(2030, 1, 1), CardKind::FaceOnly);
    k.touch(Button::Face);
    k.step(Input::CardFrontRead);
    k.step(Input::Photo(PhotoOutcome::Read));
    k.step(Input::Fault(Fault::FaceEngine));
    assert_eq!(k.screen(), PatientScreen::SeeStaff);
    // With no reception under way a fault changes nothing.
    let mut k = Kiosk::new();
    assert!(k.step(Input::Fault(Fault::Card)).is_empty());
    // A face job that fails after the patient went on (here: staff switched
    // 目視 on) is late: it ends nothing.
    let mut k = Kiosk::new();
    k.standard();
    k.touch(Button::Face);
    k.step(Input::CardFrontRead);
    k.step(Input::Photo(PhotoOutcome::Read));
    k.step(Input::VisualCheckOn(VisualCheckOn {
        staff_id: "nurse-7".into(),
        reason: VisualReason::Unwell,
    }));
    assert!(k.step(Input::Fault(Fault::FaceEngine)).is_empty());
    assert_eq!(k.screen(), PatientScreen::VisualCheck);
    // A camera that gave no frame is asked again, without a word to the
    // patient and without spending an attempt, until the retake budget.
    let mut k = Kiosk::new();
    k.standard();
    k.touch(Button::Face);
    k.step(Input::CardFrontRead);
    k.step(Input::Photo(PhotoOutcome::Read));
    let out = k.step(Input::Fault(Fault::Reader));
    assert_eq!(out, [Effect::CaptureFace { attempts_used: 0 }]);
    for _ in 1..ReceptionConfig::default().max_retakes {
        k.step(Input::Fault(Fault::Reader));
    }
    let out = k.step(Input::Fault(Fault::Reader));
    assert!(
        out.contains(&Effect::AlertStaff(Alert::Fault(Fault::Reader))),
        "{out:?}"
    );
    assert_eq!(k.screen(), PatientScreen::SeeStaff);
}

proptest! {
    /// Whatever came before, a fault never shows the locked-PIN or last-try
    /// screens, a face hint or the face-failed screen, never marks a PIN
    /// wrong, never spends a face attempt, and never sends a VERIFY.
    #[test]
    fn no_fault_is_charged_to_the_patient(
        before in proptest::collection::vec(any_input(), 0..60),
        fault in any_fault(),
    ) {
        let mut core = Reception::new(ReceptionConfig::default(), now0());
        let mut now = now0();
        for input in before {
            now += Duration::seconds(7);
            let input = match input {
                Input::Touch { button, .. } => Input::Touch { screen: core.screen().0, button },
                other => other,
            };
            core.step(input, now);
        }
        let (wrong, attempts, tries) = core
            .session
            .as_ref()
            .map_or((false, 0, None), |s| (s.pin_wrong, s.face_attempts, s.pin_tries));
        let out = core.step(Input::Fault(fault), now);
        for effect in &out {
            match effect {
                Effect::Show { screen, .. } => prop_assert!(
                    !matches!(
                        screen,
                        PatientScreen::PinLocked { .. }
                            | PatientScreen::PinLastTry
                            | PatientScreen::FaceFailed { .. }
                            | PatientScreen::FaceCapture { hint: Some(_), .. }
                            | PatientScreen::PinEntry { wrong_before: true, .. }
                    ),
                    "{:?} after {:?}", screen, fault
                ),
                Effect::VerifyPinAndSign => {
                    prop_assert!(false, "{:?} after {:?}", effect, fault)
                }
                // Asked again after a camera gave nothing: no attempt spent.
                Effect::CaptureFace { attempts_used } => {
                    prop_assert_eq!(fault, Fault::Reader);
                    prop_assert_eq!(*attempts_used, attempts);
                }
                _ => {}
            }
        }
        if let Some(s) = core.session.as_ref() {
            prop_assert!(!s.pin_wrong || wrong, "a PIN marked wrong");
            prop_assert_eq!(s.face_attempts, attempts, "a face attempt spent");
            prop_assert_eq!(s.pin_tries, tries, "the tries changed");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn invariants_hold_for_any_sequence(inputs in proptest::collection::vec(any_input(), 0..120)) {
        let mut core = Reception::new(ReceptionConfig::default(), now0());
        let mut now = now0();
        // Per reception: compared attempts asked for, the last tries read.
        let mut last_tries: Option<u8> = None;
        let mut removed = false;
        // 目視 on at any point of a reception belongs to it.
        let mut visual_bound = false;
        for input in inputs {
            now += Duration::seconds(7);
            let input = match input {
                Input::Touch { button, .. } => Input::Touch { screen: core.screen().0, button },
                other => other,
            };
            let was_removal = input == Input::CardRemoved && core.in_reception();
            let was_insert = input == Input::CardInserted && !core.in_reception();
            if was_insert {
                removed = false;
                last_tries = None;
            }
            let tries_input = match input {
                Input::PinTries(t) => Some(t),
                _ => None,
            };
            let out = core.step(input, now);
            if let Some(t) = tries_input {
                if out.iter().any(|e| matches!(e, Effect::Show { screen: PatientScreen::PinEntry { .. } | PatientScreen::PinLastTry | PatientScreen::PinLocked { .. }, .. })) {
                    last_tries = Some(t);
                }
            }
            for effect in &out {
                match effect {
                    Effect::CaptureFace { attempts_used } => {
                        prop_assert!(*attempts_used < MAX_FACE_ATTEMPTS, "a 4th compared capture");
                        prop_assert!(!removed, "a capture after the card was removed");
                    }
                    Effect::VerifyPinAndSign => {
                        prop_assert!(last_tries.is_some_and(|t| t > 0), "VERIFY without tries > 0 just read");
                        last_tries = None; // never twice on one reading
                    }
                    Effect::SendVerify(_) | Effect::SendConsent { .. } | Effect::SendRegistration
                    | Effect::ReadCardPhoto => {
                        prop_assert!(!removed, "{effect:?} after the card was removed");
                    }
                    _ => {}
                }
            }
            if was_removal {
                removed = true;
                // Every end is Idle and wiped.
                prop_assert_eq!(core.screen().1, &PatientScreen::Idle);
                prop_assert!(!core.in_reception());
            }
            if core.in_reception() {
                visual_bound |= core.visual_check();
            } else {
                prop_assert!(!(visual_bound && core.visual_check()), "目視 outlived its reception");
                visual_bound = false;
            }
            if was_removal && out.iter().any(|e| matches!(e, Effect::Show { .. })) {
                prop_assert!(out.contains(&Effect::Wipe), "an end without a wipe: {out:?}");
            }
        }
        // And finally the card is taken: no reception, and whatever ended
        // one wiped it.
        let was_in = core.in_reception();
        let out = core.step(Input::CardRemoved, now);
        prop_assert!(!core.in_reception());
        if was_in {
            prop_assert_eq!(core.screen().1, &PatientScreen::Idle);
            prop_assert!(out.contains(&Effect::Wipe));
        }
    }
}

#[test]
fn screen_names_come_from_the_variant_not_from_debug_text() {
    let screens = [
        PatientScreen::Idle,
        PatientScreen::ChooseMethod { face_only: true },
        PatientScreen::PinEntry {
            tries_left: 3,
            wrong_before: false,
        },
        PatientScreen::PinLastTry,
        PatientScreen::NotMyNumberCard,
    ];
    let names: Vec<(&str, String)> = screens.iter().map(|s| (s.name(), s.slug())).collect();
    assert_eq!(
        names,
        [
            ("Idle", "idle".to_string()),
            ("ChooseMethod", "choose-method".to_string()),
            ("PinEntry", "pin-entry".to_string()),
            ("PinLastTry", "pin-last-try".to_string()),
            ("NotMyNumberCard", "not-my-number-card".to_string()),
        ]
    );
    // The name is the variant's: what Debug starts with.
    for screen in &screens {
        assert!(format!("{screen:?}").starts_with(screen.name()));
    }
}
