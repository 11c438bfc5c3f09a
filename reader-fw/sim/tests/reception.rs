//! A whole PIN reception through the seams, in one process: the reception
//! core and the kiosk adapter on the host, the reader firmware on the
//! simulated board behind the real link (`ReaderLink` over an in-memory
//! transport), and the card emulator's chip behind the real card layer
//! (`MynaCard`). Touches are pressed on the simulated panel; the PIN goes
//! from the reader to the card inside the adapter.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use myna_card::{ApduTransport, CardError, MynaCard, PinStatus, TransportError};
use myna_card_sim::card::Card;
use myna_card_sim::personality::{personalise, Personality};
use myna_kiosk::{carry_out, Ports, ScreenMap};
use myna_link_host::{LinkEvent, ReaderLink};
use myna_reception::{
    Alert, AuditEvent, CardFacts, CardFrontRefusal, CardKind, ConsentDecisions, Identity, Input,
    PatientScreen, PinOutcome, Reception, ReceptionConfig, Signal, VerifyAnswer,
};
use myna_upstream::messages::Qualification;
use reader_fw::catalogue::Lang;
use reader_fw::device::{Identity as FirmwareIdentity, Reader};
use reader_fw::view::View;
use reader_sim::{button_centre, voice_prompts, InProcessReader, SimBoard};
use sha2::Digest;
use time::OffsetDateTime;
use zeroize::Zeroizing;

/// The emulator's chip as the card layer's transport.
struct EmulatedChip(Card);

impl ApduTransport for EmulatedChip {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Zeroizing<Vec<u8>>, TransportError> {
        Ok(Zeroizing::new(self.0.process(apdu)))
    }
}

/// The kiosk's ports: real link and card layer, a scripted upstream.
struct TestKiosk {
    link: ReaderLink<InProcessReader>,
    card: MynaCard<EmulatedChip>,
    shown: Vec<String>,
    verify_sent: Vec<Identity>,
    consent_sent: Vec<ConsentDecisions>,
    alerts: Vec<Alert>,
    wipes: usize,
}

impl Ports for TestKiosk {
    fn show(&mut self, screen: &PatientScreen, visual_check: bool) -> Option<u16> {
        self.shown.push(format!("{screen:?}"));
        self.link.show(screen.to_link(), visual_check).ok()
    }
    fn signal(&mut self, _: Signal) {}
    fn read_card(&mut self) -> Input {
        match self.card.info() {
            Ok(info) => Input::CardRead(CardFacts {
                not_after: info.auth_cert.not_after.date(),
                kind: match info.kind {
                    myna_card::CardKind::Standard => CardKind::Standard,
                    _ => CardKind::FaceOnly,
                },
            }),
            Err(_) => Input::CardUnreadable,
        }
    }
    fn read_card_front(&mut self) -> Input {
        Input::CardFrontRefused(CardFrontRefusal::NotFound)
    }
    fn read_card_photo(&mut self) -> Option<Input> {
        unreachable!("no card front was read")
    }
    fn capture_face(&mut self, _: u8) -> Option<Input> {
        unreachable!("no face path here")
    }
    fn read_pin_tries(&mut self) -> Input {
        match self.card.auth_pin_status().unwrap() {
            PinStatus::TriesLeft(n) => Input::PinTries(n),
            _ => Input::PinTries(0),
        }
    }
    fn verify_pin_and_sign(&mut self) -> Input {
        let pin = self.link.take_pin().unwrap();
        let challenge: [u8; 32] = sha2::Sha256::digest(b"challenge").into();
        match self.card.sign_sha256(&pin, &challenge) {
            Ok(_) => Input::Pin(PinOutcome::Signed),
            Err(CardError::WrongPin { tries_left }) => Input::Pin(PinOutcome::Wrong { tries_left }),
            Err(CardError::PinLocked) => Input::Pin(PinOutcome::Locked),
            Err(e) => panic!("{e}"),
        }
    }
    fn send_verify(&mut self, identity: &Identity) -> Input {
        self.verify_sent.push(identity.clone());
        Input::Verified(VerifyAnswer {
            qualification: Qualification::Valid,
            registered: true,
            name_kana: Some("バンゴウ ハナコ".into()),
            specific_health_checkup: true,
        })
    }
    fn send_registration(&mut self) -> Input {
        unreachable!("registered")
    }
    fn send_consent(&mut self, decisions: &ConsentDecisions, _: bool, _: Option<&str>) {
        self.consent_sent.push(*decisions);
    }
    fn audit(&mut self, _: &AuditEvent) {}
    fn alert(&mut self, alert: Alert) {
        self.alerts.push(alert);
    }
    fn wipe(&mut self) {
        self.wipes += 1;
    }
}

/// Presses a named button on the reader's panel, then gives the core every
/// touch the reader reports.
fn press(k: &mut TestKiosk, core: &mut Reception, map: &mut ScreenMap, name: &str) {
    let reader = &mut k.link.transport().reader;
    let (x, y) = button_centre(reader, name).unwrap_or_else(|| panic!("no {name} button"));
    reader.board().touch.press(x, y);
    while let Some(event) = k.link.next_event().unwrap() {
        if let LinkEvent::Touch { screen_seq, button } = event {
            if let Some(input) = map.touch(screen_seq, button) {
                carry_out(core, k, map, input, now());
            }
        }
    }
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

fn view(k: &mut TestKiosk) -> View {
    *k.link.transport().reader.view()
}

#[test]
fn a_pin_reception_with_one_wrong_try_runs_through_every_seam() {
    let (board, _) = SimBoard::for_tests(3);
    let speaker = board.speaker.clone();
    let reader = Reader::new(
        board,
        FirmwareIdentity {
            firmware: 1,
            slot: 0,
            boot_id: 9,
        },
        Lang::Ja,
    )
    .with_voice(voice_prompts().unwrap());
    let transport = InProcessReader::new(reader);
    let link = ReaderLink::open(transport, || 77).unwrap();
    let chip = Card::new(personalise(&Personality::default()).unwrap());
    let mut k = TestKiosk {
        link,
        card: MynaCard::new(EmulatedChip(chip)),
        shown: Vec::new(),
        verify_sent: Vec::new(),
        consent_sent: Vec::new(),
        alerts: Vec::new(),
        wipes: 0,
    };
    let mut core = Reception::new(ReceptionConfig::default(), now());
    let mut map = ScreenMap::default();

    carry_out(&mut core, &mut k, &mut map, Input::CardInserted, now());
    assert_eq!(view(&mut k), View::ChooseMethod { face_only: false });
    press(&mut k, &mut core, &mut map, "pin");
    assert_eq!(
        view(&mut k),
        View::PinEntry {
            tries_left: 3,
            wrong_before: false
        }
    );
    for digit in ["9", "9", "9", "9"] {
        press(&mut k, &mut core, &mut map, &format!("digit {digit}"));
    }
    // Wrong: the card says 2 tries left, read again before the next entry.
    // 「暗証番号が違います」 on the reader, as the host decided.
    assert_eq!(
        view(&mut k),
        View::PinEntry {
            tries_left: 2,
            wrong_before: true
        }
    );
    for digit in ["1", "2", "3", "4"] {
        press(&mut k, &mut core, &mut map, &format!("digit {digit}"));
    }
    // 特定健診 applies (its flag is sent below): 健診 is listed.
    assert_eq!(view(&mut k), View::ConsentOverview { checkup: true });
    assert_eq!(k.verify_sent, [Identity::Pin]);
    press(&mut k, &mut core, &mut map, "yes");
    assert!(matches!(view(&mut k), View::Done { name: Some(_), .. }));
    assert_eq!(k.consent_sent.len(), 1);
    let d = k.consent_sent[0];
    assert!(d.SpecificHealthCheckupsInfoConsFlg.is_some_and(|d| d.agree));
    carry_out(&mut core, &mut k, &mut map, Input::CardRemoved, now());
    assert_eq!(view(&mut k), View::Idle);

    assert_eq!(
        k.shown,
        [
            "Reading",
            "ChooseMethod { face_only: false }",
            "PinEntry { tries_left: 3, wrong_before: false }",
            "PinEntry { tries_left: 2, wrong_before: true }",
            "Processing",
            "ConsentOverview { checkup: true }",
            "Done { name_kana: Some(\"バンゴウ ハナコ\") }",
            "Idle",
        ]
    );
    // The reader said each screen's prompt, in order, to the end (the
    // pad's redraws for each digit say nothing), and never the name.
    assert_eq!(
        speaker.tags(),
        [
            "idle",
            "reading",
            "choose-method",
            "pin-entry",
            "pin-entry-wrong",
            "processing",
            "consent-overview",
            "done",
            "idle",
        ]
    );
    assert!(speaker.utterances().iter().all(|u| u.finished));
    assert!(k.alerts.is_empty());
    assert!(k.wipes >= 1);
    // The chip saw exactly two PIN VERIFYs with data, and its counter is
    // back to 3 after the right PIN.
    let mut chip = k.card.into_transport().0;
    let verifies = chip
        .drain_log()
        .iter()
        .filter(|e| e.header.starts_with("0020") && e.lc == 4)
        .count();
    assert_eq!(verifies, 2);
    assert_eq!(
        chip.tries_left((myna_card_sim::card::App::Jpki, 0x0018)),
        Some(3)
    );
}
