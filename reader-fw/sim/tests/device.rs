//! The device end of the link, driven as the host would: frames in, frames
//! out, touches on the simulated panel.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use myna_hal::sim::SimCamera;
use myna_link::{
    decode, encode, Button, Camera, DeviceError, DeviceToHost, Envelope, HostToDevice, Screen,
    Signal, MAX_FRAME, MAX_PAYLOAD,
};
use reader_fw::catalogue::Lang;
use reader_fw::device::{Identity, Reader, IDLE_TIMEOUT_MS};
use reader_fw::view::View;
use reader_sim::{button_centre, SimBoard};

/// A decoded device message, owned.
#[derive(Debug, Clone, PartialEq)]
enum Out {
    Touch(u16, Button),
    Pin(Vec<u8>),
    Error(DeviceError),
    Info(u32, u16, u16),
    Part {
        offset: u32,
        data: Vec<u8>,
        width: u16,
        height: u16,
        channels: u8,
    },
    Timeout(u16),
    Other(String),
}

fn decode_all(frames: &[Vec<u8>]) -> Vec<(u16, Out)> {
    frames
        .iter()
        .map(|f| {
            assert_eq!(f.last(), Some(&0), "frames end with the delimiter");
            let mut f = f[..f.len() - 1].to_vec();
            let env: Envelope<DeviceToHost<'_>> = decode(&mut f).unwrap();
            let out = match env.body {
                DeviceToHost::Touch { screen_seq, button } => Out::Touch(screen_seq, button),
                DeviceToHost::Pin { digits } => Out::Pin(digits.to_vec()),
                DeviceToHost::Error(e) => Out::Error(e),
                DeviceToHost::Info {
                    firmware,
                    width,
                    height,
                    ..
                } => Out::Info(firmware, width, height),
                DeviceToHost::FramePart {
                    offset,
                    data,
                    width,
                    height,
                    channels,
                    ..
                } => Out::Part {
                    offset,
                    data: data.to_vec(),
                    width,
                    height,
                    channels,
                },
                DeviceToHost::IdleTimeout { screen_seq } => Out::Timeout(screen_seq),
                other => Out::Other(format!("{other:?}")),
            };
            (env.seq, out)
        })
        .collect()
}

struct Host {
    reader: Reader<SimBoard>,
    clock: myna_hal::sim::ManualClock,
    session: u32,
    seq: u16,
    wire: Vec<Vec<u8>>,
}

impl Host {
    fn new() -> Host {
        let (board, clock) = SimBoard::for_tests(42);
        Host {
            reader: Reader::new(
                board,
                Identity {
                    firmware: 7,
                    slot: 1,
                    boot_id: 0xB007,
                },
                Lang::Ja,
            ),
            clock,
            session: 0,
            seq: 0,
            wire: Vec::new(),
        }
        .opened(77)
    }

    /// Opens session `session` (a restarted host would): answered with
    /// the reader's Welcome.
    fn opened(mut self, session: u32) -> Host {
        self.session = session;
        self.seq = 0;
        let (_, out) = self.send(&HostToDevice::Hello);
        assert!(
            matches!(&out[..], [(_, Out::Other(w))] if w.starts_with("Welcome { boot_id: 45063")),
            "{out:?}"
        );
        self
    }

    fn frame(&mut self, msg: &HostToDevice<'_>) -> (u16, Vec<u8>) {
        let mut scratch = [0u8; MAX_PAYLOAD];
        let mut out = [0u8; MAX_FRAME];
        let seq = self.seq;
        let n = encode(self.session, seq, msg, &mut scratch, &mut out).unwrap();
        self.seq = self.seq.wrapping_add(1);
        (seq, out[..n].to_vec())
    }

    /// Sends a message as bytes, returns the device's answers.
    fn send(&mut self, msg: &HostToDevice<'_>) -> (u16, Vec<(u16, Out)>) {
        let (seq, bytes) = self.frame(msg);
        (seq, self.bytes(&bytes))
    }

    fn bytes(&mut self, bytes: &[u8]) -> Vec<(u16, Out)> {
        let mut sent = Vec::new();
        self.reader
            .receive(bytes, &mut |f: &[u8]| sent.push(f.to_vec()));
        self.wire.extend(sent.iter().cloned());
        decode_all(&sent)
    }

    fn tap(&mut self, name: &str) -> Vec<Out> {
        let (x, y) = button_centre(&self.reader, name).unwrap_or_else(|| panic!("no {name}"));
        self.reader.board().touch.press(x, y);
        self.poll()
    }

    fn poll(&mut self) -> Vec<Out> {
        let mut sent = Vec::new();
        self.reader.poll(&mut |f: &[u8]| sent.push(f.to_vec()));
        self.wire.extend(sent.iter().cloned());
        decode_all(&sent).into_iter().map(|(_, o)| o).collect()
    }

    fn show(&mut self, screen: Screen<'_>) -> (u16, Vec<Out>) {
        let (seq, out) = self.send(&HostToDevice::ShowScreen {
            screen,
            visual_check: false,
        });
        (seq, out.into_iter().map(|(_, o)| o).collect())
    }

    fn show_visual(&mut self, screen: Screen<'_>) -> (u16, Vec<Out>) {
        let (seq, out) = self.send(&HostToDevice::ShowScreen {
            screen,
            visual_check: true,
        });
        (seq, out.into_iter().map(|(_, o)| o).collect())
    }
}

#[test]
fn no_pin_pad_is_shown_while_visual_check_is_on() {
    let mut h = Host::new();
    for pin_screen in [
        Screen::PinEntry {
            tries_left: 3,
            wrong_before: false,
        },
        Screen::PinLastTry,
    ] {
        h.show(Screen::Idle);
        let (_, out) = h.show_visual(pin_screen.clone());
        assert_eq!(
            out,
            [Out::Error(DeviceError::PinInVisualCheck)],
            "{pin_screen:?}"
        );
        assert_eq!(*h.reader.view(), View::OutOfService, "{pin_screen:?}");
        assert!(h.reader.visual_check(), "the banner stays up");
        assert!(button_centre(&h.reader, "digit 1").is_none(), "no pad");
        // Nothing can be typed, so nothing is handed over.
        let (_, out) = h.send(&HostToDevice::TakePin);
        assert_eq!(out[0].1, Out::Error(DeviceError::PinNotReady));
    }
    // Other screens are drawn with the banner; the pad without it.
    let (_, out) = h.show_visual(Screen::VisualCheck);
    assert!(out.is_empty(), "{out:?}");
    assert_eq!(*h.reader.view(), View::VisualCheck);
    let (_, out) = h.show(Screen::PinEntry {
        tries_left: 3,
        wrong_before: true,
    });
    assert!(out.is_empty(), "{out:?}");
    assert!(matches!(
        *h.reader.view(),
        View::PinEntry {
            wrong_before: true,
            ..
        }
    ));
}

#[test]
fn a_locked_pin_offers_face_and_staff_as_touches() {
    let mut h = Host::new();
    let (seq, _) = h.show(Screen::PinLocked {
        face_available: true,
    });
    assert_eq!(h.tap("face"), [Out::Touch(seq, Button::Face)]);
    assert_eq!(h.tap("call-staff"), [Out::Touch(seq, Button::CallStaff)]);
    h.show(Screen::PinLocked {
        face_available: false,
    });
    assert!(button_centre(&h.reader, "face").is_none());
    assert!(button_centre(&h.reader, "call-staff").is_some());
}

#[test]
fn pin_entry_reports_counts_only_and_hands_the_pin_over_once() {
    let mut h = Host::new();
    let (seq, out) = h.show(Screen::PinEntry {
        tries_left: 3,
        wrong_before: false,
    });
    assert!(out.is_empty());
    let mut touches = Vec::new();
    for d in ["digit 2", "digit 7", "digit 1"] {
        touches.extend(h.tap(d));
    }
    touches.extend(h.tap("correct"));
    for d in ["digit 1", "digit 8"] {
        touches.extend(h.tap(d));
    }
    touches.extend(h.tap("digit 9")); // a fifth digit is ignored
    let counts: Vec<Button> = touches
        .iter()
        .map(|o| match o {
            Out::Touch(s, b) => {
                assert_eq!(*s, seq, "touches name the screen they belong to");
                *b
            }
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        counts,
        [
            Button::PinDigitEntered { count: 1 },
            Button::PinDigitEntered { count: 2 },
            Button::PinDigitEntered { count: 3 },
            Button::PinCorrect,
            Button::PinDigitEntered { count: 3 },
            Button::PinDigitEntered { count: 4 },
        ]
    );
    // Until the host asks, no frame on the wire carries the digits.
    assert!(!h.wire.iter().any(|f| f.windows(4).any(|w| w == b"2718")));
    let (_, out) = h.send(&HostToDevice::TakePin);
    assert_eq!(
        out.into_iter().map(|(_, o)| o).collect::<Vec<_>>(),
        [Out::Pin(b"2718".to_vec())]
    );
    assert_eq!(h.reader.entered(), 0, "wiped after the hand-over");
    let (_, again) = h.send(&HostToDevice::TakePin);
    assert_eq!(
        again[0].1,
        Out::Error(DeviceError::PinNotReady),
        "never handed over twice"
    );
}

#[test]
fn each_pin_entry_gets_a_new_layout_and_cancel_wipes() {
    let mut h = Host::new();
    let mut layouts = Vec::new();
    for _ in 0..20 {
        h.show(Screen::PinEntry {
            tries_left: 2,
            wrong_before: true,
        });
        let layout = *h.reader.layout();
        assert!(layout.is_permutation());
        layouts.push(layout);
    }
    assert!(layouts.windows(2).all(|w| w[0] != w[1]));
    h.tap("digit 4");
    let out = h.tap("cancel");
    assert!(matches!(out[..], [Out::Touch(_, Button::Cancel)]));
    assert_eq!(h.reader.entered(), 0);
    // Digits entered then another screen: wiped too.
    h.show(Screen::PinEntry {
        tries_left: 2,
        wrong_before: true,
    });
    for d in ["digit 1", "digit 2", "digit 3", "digit 4"] {
        h.tap(d);
    }
    h.show(Screen::PinLastTry);
    let (_, out) = h.send(&HostToDevice::TakePin);
    assert_eq!(out[0].1, Out::Error(DeviceError::PinNotReady));
}

#[test]
fn bad_parameters_show_out_of_service_and_report_an_error() {
    let mut h = Host::new();
    for bad in [
        Screen::PinEntry {
            tries_left: 0,
            wrong_before: false,
        },
        Screen::PinEntry {
            tries_left: 200,
            wrong_before: false,
        },
        Screen::ExpiryNotice {
            year: 2026,
            month: 2,
            day: 30,
            in_grace: false,
        },
        Screen::FaceCapture {
            hint: Some(myna_link::FaceHint::Other(9)),
            placed: false,
        },
    ] {
        h.show(Screen::Idle);
        let (_, out) = h.show(bad.clone());
        assert_eq!(out, [Out::Error(DeviceError::BadParameter)], "{bad:?}");
        assert_eq!(*h.reader.view(), View::OutOfService, "{bad:?}");
    }
    // A name that is not kana is left out of `Done`; never an error screen.
    let (_, out) = h.show(Screen::Done {
        name_kana: "Robert'); DROP TABLE",
    });
    assert!(out.is_empty());
    assert_eq!(
        *h.reader.view(),
        View::Done {
            name: None,
            reminder: false
        }
    );
}

#[test]
fn touches_outside_buttons_or_on_screens_without_buttons_say_nothing() {
    let mut h = Host::new();
    h.show(Screen::Reading);
    h.reader.board().touch.press(400, 300);
    assert!(h.poll().is_empty());
    let (seq, _) = h.show(Screen::ChooseMethod { face_only: true });
    assert!(
        button_centre(&h.reader, "pin").is_none(),
        "a face-only card has no PIN button"
    );
    h.reader.board().touch.press(5, 470);
    assert!(h.poll().is_empty());
    assert_eq!(h.tap("face"), [Out::Touch(seq, Button::Face)]);
}

#[test]
fn an_untouched_input_screen_times_out_to_idle_and_wipes() {
    let mut h = Host::new();
    let (seq, _) = h.show(Screen::PinEntry {
        tries_left: 3,
        wrong_before: false,
    });
    h.tap("digit 5");
    h.clock.advance(IDLE_TIMEOUT_MS - 1);
    assert!(h.poll().is_empty());
    h.tap("digit 6"); // input restarts the wait
    h.clock.advance(IDLE_TIMEOUT_MS - 1);
    assert!(h.poll().is_empty());
    h.clock.advance(1);
    assert_eq!(h.poll(), [Out::Timeout(seq)]);
    assert_eq!(*h.reader.view(), View::Idle);
    assert_eq!(h.reader.entered(), 0);
    // Screens that wait for the host, not the patient, do not time out.
    h.show(Screen::Reading);
    h.clock.advance(10 * IDLE_TIMEOUT_MS);
    assert!(h.poll().is_empty());
}

#[test]
fn repeated_frames_are_dropped_gaps_and_corruption_reported() {
    let mut h = Host::new();
    let (_, first) = h.frame(&HostToDevice::GetInfo);
    let out = h.bytes(&first);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].1, Out::Info(7, 800, 480));
    assert!(
        h.bytes(&first).is_empty(),
        "a repeated frame is not carried out twice"
    );
    let (_, mut corrupt) = h.frame(&HostToDevice::GetInfo);
    corrupt[7] ^= 0x10;
    assert_eq!(h.bytes(&corrupt)[0].1, Out::Error(DeviceError::Frame));
    let (_, after_gap) = h.frame(&HostToDevice::GetInfo);
    let out = h.bytes(&after_gap);
    assert_eq!(out[0].1, Out::Error(DeviceError::Sequence));
    assert_eq!(out[1].1, Out::Info(7, 800, 480));
    // Device sequence numbers count up.
    let seqs: Vec<u16> = decode_all(&h.wire).iter().map(|(s, _)| *s).collect();
    assert_eq!(seqs, (0..seqs.len() as u16).collect::<Vec<_>>());
    // Garbage and an oversized run are typed errors, never a panic.
    let junk: Vec<u8> = (1..=255u8).cycle().take(10_000).chain([0]).collect();
    assert_eq!(h.bytes(&junk)[0].1, Out::Error(DeviceError::Frame));
}

#[test]
fn a_capture_arrives_in_parts_that_rebuild_the_frame() {
    let mut h = Host::new();
    let img =
        image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8, y as u8, (x + y) as u8]));
    h.reader.board().patient_camera = SimCamera::from_images(vec![img.clone()]);
    let (_, out) = h.send(&HostToDevice::Capture {
        camera: Camera::Patient,
    });
    let mut rebuilt = vec![0u8; 64 * 48 * 3];
    let mut parts = 0;
    for (_, o) in out {
        let Out::Part {
            offset,
            data,
            width,
            height,
            channels,
        } = o
        else {
            panic!("{o:?}")
        };
        assert_eq!((width, height, channels), (64, 48, 3));
        rebuilt[offset as usize..offset as usize + data.len()].copy_from_slice(&data);
        parts += 1;
    }
    assert!(parts >= 3);
    assert_eq!(rebuilt, img.into_raw());
    let (_, out) = h.send(&HostToDevice::Capture {
        camera: Camera::CardFront,
    });
    assert_eq!(
        out[0].1,
        Out::Error(DeviceError::Camera),
        "no card camera picture configured"
    );
}

#[test]
fn take_card_signal_sounds_and_reminds_on_done() {
    let mut h = Host::new();
    h.show(Screen::Done {
        name_kana: "ヤマダ タロウ",
    });
    h.send(&HostToDevice::Signal(Signal::TakeCard));
    assert!(matches!(h.reader.view(), View::Done { reminder: true, .. }));
    assert_eq!(
        h.reader.board().indicator.events(),
        [myna_hal::sim::IndicatorEvent::Tone(
            myna_hal::Tone::TakeCard
        )]
    );
    let (_, out) = h.send(&HostToDevice::FirmwareBegin {
        size: 10,
        version: 2,
    });
    assert_eq!(out[0].1, Out::Error(DeviceError::Unsupported));
}

proptest::proptest! {
    /// Any screen parameters and any bytes: the device draws, or shows
    /// OutOfService and reports BadParameter, and never panics.
    #[test]
    fn arbitrary_screens_and_bytes_never_panic(
        tries in proptest::prelude::any::<u8>(),
        year in proptest::prelude::any::<u16>(),
        month in proptest::prelude::any::<u8>(),
        day in proptest::prelude::any::<u8>(),
        hint in proptest::prelude::any::<u8>(),
        name in "\\PC{0,40}",
        junk in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2000),
    ) {
        let mut h = Host::new();
        for screen in [
            Screen::PinEntry { tries_left: tries, wrong_before: tries % 3 == 0 },
            Screen::ExpiryNotice { year, month, day, in_grace: tries % 2 == 0 },
            Screen::FaceCapture { hint: Some(myna_link::FaceHint::Other(hint)), placed: hint % 2 == 0 },
            Screen::Done { name_kana: &name },
            Screen::ReadError { misreads: tries },
            Screen::ConsentItem { item: myna_link::ConsentItem::Operation, step: tries, of: month },
        ] {
            let (_, out) = h.show(screen);
            if !out.is_empty() {
                proptest::prop_assert_eq!(&out, &[Out::Error(DeviceError::BadParameter)]);
                proptest::prop_assert_eq!(*h.reader.view(), View::OutOfService);
            }
        }
        let _ = h.bytes(&junk);
        let _ = h.bytes(&[0]);
    }
}

#[test]
fn a_restarted_host_is_drawn_at_once_not_taken_for_repeats() {
    let mut h = Host::new();
    // A long first run of the kiosk: 50 screens.
    for _ in 0..25 {
        h.show(Screen::Reading);
        h.show(Screen::ChooseMethod { face_only: false });
    }
    // The kiosk restarts: new session, its numbers start at 0 again.
    let mut h = h.opened(78);
    let (seq, out) = h.show(Screen::PinEntry {
        tries_left: 3,
        wrong_before: false,
    });
    assert_eq!(seq, 1);
    assert!(out.is_empty(), "{out:?}");
    assert_eq!(
        *h.reader.view(),
        View::PinEntry {
            tries_left: 3,
            wrong_before: false,
        }
    );
    // A late frame of the old run is refused, in its own session, and not
    // carried out.
    let old = {
        let mut scratch = [0u8; MAX_PAYLOAD];
        let mut out = [0u8; MAX_FRAME];
        let show = HostToDevice::ShowScreen {
            screen: Screen::SeeStaff,
            visual_check: false,
        };
        let n = encode(77, 51, &show, &mut scratch, &mut out).unwrap();
        out[..n].to_vec()
    };
    let mut sent = Vec::new();
    h.reader
        .receive(&old, &mut |f: &[u8]| sent.push(f.to_vec()));
    let mut frame = sent[0][..sent[0].len() - 1].to_vec();
    let env: Envelope<DeviceToHost<'_>> = decode(&mut frame).unwrap();
    assert_eq!(env.session, 77);
    assert_eq!(env.body, DeviceToHost::Error(DeviceError::Session));
    assert_eq!(
        *h.reader.view(),
        View::PinEntry {
            tries_left: 3,
            wrong_before: false,
        }
    );
}

#[test]
fn a_new_session_wipes_digits_typed_for_the_old_host() {
    let mut h = Host::new();
    h.show(Screen::PinEntry {
        tries_left: 3,
        wrong_before: false,
    });
    h.tap("digit 1");
    h.tap("digit 2");
    assert_eq!(h.reader.entered(), 2);
    let mut h = h.opened(79);
    assert_eq!(h.reader.entered(), 0);
    let (_, out) = h.send(&HostToDevice::TakePin);
    assert_eq!(out[0].1, Out::Error(DeviceError::PinNotReady));
}

#[test]
fn a_restarted_reader_is_noticed_by_the_host_endpoint_which_redraws() {
    use myna_link::HostEndpoint;
    let (board, _) = SimBoard::for_tests(1);
    let identity = |boot_id| Identity {
        firmware: 7,
        slot: 0,
        boot_id,
    };
    let mut reader = Reader::new(board, identity(0x1111), Lang::Ja);
    let mut host = HostEndpoint::new();
    let mut buf = vec![0u8; MAX_FRAME];
    // Drives one frame from the host through the reader and back.
    let mut exchange = |host: &mut HostEndpoint, reader: &mut Reader<SimBoard>, frame: Vec<u8>| {
        let mut sent = Vec::new();
        reader.receive(&frame, &mut |f: &[u8]| sent.extend_from_slice(f));
        let mut events = Vec::new();
        let mut rest = &sent[..];
        while !rest.is_empty() {
            let (used, event) = host.read(rest, &mut buf);
            rest = &rest[used..];
            if let Some(event) = event {
                events.push(format!("{:?}", event.unwrap()));
            }
        }
        events
    };
    let hello = host.hello(5).unwrap().to_vec();
    let events = exchange(&mut host, &mut reader, hello);
    assert!(
        events[0].contains("boot_id: 4369, restarted: false"),
        "{events:?}"
    );
    let show = |host: &mut HostEndpoint| {
        host.send(&HostToDevice::ShowScreen {
            screen: Screen::ConsentOverview { checkup: true },
            visual_check: false,
        })
        .unwrap()
        .1
        .to_vec()
    };
    let frame = show(&mut host);
    assert!(exchange(&mut host, &mut reader, frame).is_empty());
    assert_eq!(*reader.view(), View::ConsentOverview { checkup: true });

    // The reader restarts: Idle, no session, a new boot id.
    let mut reader = Reader::new(reader.into_board(), identity(0x2222), Lang::Ja);
    assert_eq!(*reader.view(), View::Idle);
    let frame = show(&mut host);
    assert_eq!(exchange(&mut host, &mut reader, frame), ["SessionLost"]);
    assert_eq!(
        *reader.view(),
        View::Idle,
        "a stale frame is not carried out"
    );
    let hello = host.hello(6).unwrap().to_vec();
    let events = exchange(&mut host, &mut reader, hello);
    assert!(
        events[0].contains("boot_id: 8738, restarted: true"),
        "{events:?}"
    );
    let frame = show(&mut host);
    assert!(exchange(&mut host, &mut reader, frame).is_empty());
    assert_eq!(*reader.view(), View::ConsentOverview { checkup: true });
}

#[test]
fn the_host_can_switch_the_language() {
    let mut h = Host::new();
    let (_, out) = h.send(&HostToDevice::SetLanguage(myna_link::Language::English));
    assert!(out.is_empty());
    assert_eq!(h.reader.lang(), Lang::En);
    let (_, out) = h.send(&HostToDevice::SetLanguage(myna_link::Language::Other(9)));
    assert_eq!(out[0].1, Out::Error(DeviceError::Unsupported));
    assert_eq!(h.reader.lang(), Lang::En);
}

#[test]
fn every_screen_the_reception_decides_is_one_the_reader_draws() {
    use myna_reception::{ConsentTopic, PatientScreen};
    let date = time::Date::from_calendar_date(2027, time::Month::January, 31).unwrap();
    let mut screens = vec![
        PatientScreen::Idle,
        PatientScreen::Reading,
        PatientScreen::ReadError { misreads: 3 },
        PatientScreen::ExpiryNotice {
            not_after: date,
            in_grace: true,
        },
        PatientScreen::ExpiredRefused,
        PatientScreen::ChooseMethod { face_only: true },
        PatientScreen::FaceCapture {
            hint: Some(myna_link::FaceHint::RemoveHat),
            placed: false,
        },
        PatientScreen::FaceCapture {
            hint: None,
            placed: true,
        },
        PatientScreen::RegistrationTerms,
        PatientScreen::FaceFailed {
            pin_available: false,
        },
        PatientScreen::PinEntry {
            tries_left: 1,
            wrong_before: true,
        },
        PatientScreen::PinEntry {
            tries_left: 3,
            wrong_before: false,
        },
        PatientScreen::PinLastTry,
        PatientScreen::PinLocked {
            face_available: true,
        },
        PatientScreen::PinLocked {
            face_available: false,
        },
        PatientScreen::VisualCheck,
        PatientScreen::Processing,
        PatientScreen::Registration,
        PatientScreen::RegistrationDone,
        PatientScreen::ConsentOverview { checkup: true },
        PatientScreen::ConsentOverview { checkup: false },
        PatientScreen::Done {
            name_kana: Some("ヤマダ タロウ".into()),
        },
        PatientScreen::Done { name_kana: None },
        PatientScreen::StaffComing,
        PatientScreen::SeeStaff,
        PatientScreen::OutOfService,
    ];
    for (step, topic) in [
        ConsentTopic::Operation,
        ConsentTopic::DiagnosisAndMedication,
        ConsentTopic::SpecificHealthCheckup,
    ]
    .into_iter()
    .enumerate()
    {
        screens.push(PatientScreen::ConsentItem {
            topic,
            step: step as u8 + 1,
            of: 3,
        });
    }
    let mut h = Host::new();
    for screen in &screens {
        let (_, out) = h.show(screen.to_link());
        assert!(out.is_empty(), "{screen:?} refused: {out:?}");
        if *screen != PatientScreen::OutOfService {
            assert_ne!(*h.reader.view(), View::OutOfService, "{screen:?}");
        }
        // What the host decided arrives.
        match (screen, *h.reader.view()) {
            (
                PatientScreen::PinEntry { wrong_before, .. },
                View::PinEntry {
                    wrong_before: shown,
                    ..
                },
            ) => assert_eq!(*wrong_before, shown),
            (
                PatientScreen::PinLocked { face_available },
                View::PinLocked {
                    face_available: shown,
                },
            ) => assert_eq!(*face_available, shown),
            (
                PatientScreen::ConsentItem { step, of, .. },
                View::ConsentItem { step: s, of: o, .. },
            ) => {
                assert_eq!((*step, *of), (s, o))
            }
            (
                PatientScreen::PinEntry { .. }
                | PatientScreen::PinLocked { .. }
                | PatientScreen::ConsentItem { .. },
                other,
            ) => panic!("{screen:?} shown as {other:?}"),
            _ => {}
        }
    }
}

/// The face-capture screens of these tests: no hint, placed or not.
fn face_capture(placed: bool) -> Screen<'static> {
    Screen::FaceCapture { hint: None, placed }
}

/// The preview box as 8-bit RGB pixels.
fn preview_pixels(h: &mut Host) -> Vec<[u8; 3]> {
    let area = reader_fw::ui::preview::PREVIEW_AREA;
    let img = h.reader.board().display.to_rgb8();
    let mut out = Vec::new();
    for y in area.top_left.y..area.top_left.y + area.size.height as i32 {
        for x in area.top_left.x..area.top_left.x + area.size.width as i32 {
            out.push(img.get_pixel(x as u32, y as u32).0);
        }
    }
    out
}

fn mean_luma(pixels: &[[u8; 3]]) -> f64 {
    pixels
        .iter()
        .map(|p| f64::from(p[0]) + f64::from(p[1]) + f64::from(p[2]))
        .sum::<f64>()
        / (3.0 * pixels.len() as f64)
}

#[test]
fn face_capture_paints_the_camera_picture_mirrored_and_follows_it() {
    let mut h = Host::new();
    let bright = image::RgbImage::from_pixel(640, 480, image::Rgb([240, 240, 240]));
    let dark = image::RgbImage::from_pixel(640, 480, image::Rgb([10, 10, 10]));
    // The camera serves the bright frame until told otherwise.
    h.reader.board().patient_camera = SimCamera::from_images(vec![bright]);
    let flushes = h.reader.board().display.flushes();
    h.show(face_capture(false));
    let lit = preview_pixels(&mut h);
    assert!(mean_luma(&lit) > 180.0, "{}", mean_luma(&lit));
    // One full redraw (a screenshot), the picture flushed as a part only:
    // a face is never in a recorded screen.
    assert_eq!(h.reader.board().display.flushes(), flushes + 1);
    let parts = h.reader.board().display.area_flushes();
    assert!(parts >= 1);
    // A screenshot holds the finished screen, the dark box, never the
    // picture in it (the demo's `screenshot` and `--screenshots` save this).
    let area = reader_fw::ui::preview::PREVIEW_AREA;
    let dir = tempfile::tempdir().unwrap();
    let shot = dir.path().join("face-capture.png");
    h.reader.board().display.save_png(&shot).unwrap();
    let saved = image::open(&shot).unwrap().to_rgb8();
    let inside: Vec<[u8; 3]> = (area.top_left.y..area.top_left.y + area.size.height as i32)
        .flat_map(|y| {
            (area.top_left.x..area.top_left.x + area.size.width as i32)
                .map(move |x| (x as u32, y as u32))
        })
        .map(|(x, y)| saved.get_pixel(x, y).0)
        .collect();
    assert!(mean_luma(&inside) < 90.0, "{}", mean_luma(&inside));
    assert_ne!(inside, lit);

    // The camera now sees a dark scene: not repainted before the interval,
    // repainted after it.
    h.reader.board().patient_camera = SimCamera::from_images(vec![dark]);
    h.clock
        .advance(reader_fw::ui::preview::PREVIEW_INTERVAL_MS - 1);
    assert!(h.poll().is_empty());
    assert_eq!(preview_pixels(&mut h), lit);
    h.clock.advance(1);
    assert!(h.poll().is_empty(), "nothing goes to the host");
    let unlit = preview_pixels(&mut h);
    assert!(mean_luma(&unlit) < 90.0, "{}", mean_luma(&unlit));
    assert_ne!(lit, unlit);
    assert_eq!(h.reader.board().display.area_flushes(), parts + 1);
    assert_eq!(h.reader.board().display.flushes(), flushes + 1);

    // Mirrored: red on the camera's left shows on the panel's right.
    let split = image::RgbImage::from_fn(640, 480, |x, _| {
        if x < 320 {
            image::Rgb([250, 0, 0])
        } else {
            image::Rgb([0, 0, 250])
        }
    });
    h.reader.board().patient_camera = SimCamera::from_images(vec![split]);
    h.clock.advance(reader_fw::ui::preview::PREVIEW_INTERVAL_MS);
    h.poll();
    let area = reader_fw::ui::preview::PREVIEW_AREA;
    let img = h.reader.board().display.to_rgb8();
    let y = (area.top_left.y + 10) as u32;
    let left = img.get_pixel(area.top_left.x as u32 + 5, y).0;
    let right = img
        .get_pixel((area.top_left.x + area.size.width as i32 - 6) as u32, y)
        .0;
    assert!(left[2] > 200 && left[0] < 50, "{left:?}");
    assert!(right[0] > 200 && right[2] < 50, "{right:?}");

    // A capture still gets its frame: the preview does not use it up.
    let (_, out) = h.send(&HostToDevice::Capture {
        camera: Camera::Patient,
    });
    assert!(matches!(out[0].1, Out::Part { width: 640, .. }), "{out:?}");

    // Off FaceCapture the box is not painted again.
    h.show(Screen::Processing);
    let parts = h.reader.board().display.area_flushes();
    h.clock
        .advance(10 * reader_fw::ui::preview::PREVIEW_INTERVAL_MS);
    h.poll();
    assert_eq!(h.reader.board().display.area_flushes(), parts);
}

#[test]
fn the_guide_turns_green_when_the_face_is_placed() {
    let green_on_ring = |h: &mut Host| {
        let c = reader_fw::ui::preview::GUIDE_CENTRE;
        // The ring's bottom, on the centre line (inside its thickness).
        let p = h
            .reader
            .board()
            .display
            .to_rgb8()
            .get_pixel(c.x as u32, (c.y + 127) as u32)
            .0;
        p[1] > 100 && p[0] < 60 && p[2] < 100
    };
    let mut h = Host::new();
    h.show(face_capture(false));
    assert!(!green_on_ring(&mut h));
    h.show(face_capture(true));
    assert!(green_on_ring(&mut h));
    // With a picture under it, too.
    h.reader.board().patient_camera = SimCamera::from_images(vec![image::RgbImage::from_pixel(
        320,
        240,
        image::Rgb([200, 180, 170]),
    )]);
    h.clock.advance(reader_fw::ui::preview::PREVIEW_INTERVAL_MS);
    h.poll();
    assert!(green_on_ring(&mut h));
}

#[test]
fn large_text_is_switched_on_idle_or_by_staff_and_lasts_one_reception() {
    let mut h = Host::new();
    assert!(!h.reader.large_text());
    // The patient's switch on Idle: nothing goes to the host.
    assert!(h.tap("large-text").is_empty());
    assert!(h.reader.large_text());
    // It stays through the reception ...
    for screen in [
        Screen::Reading,
        Screen::ChooseMethod { face_only: false },
        Screen::Processing,
        Screen::Done {
            name_kana: "ヤマダ タロウ",
        },
    ] {
        h.show(screen);
        assert!(h.reader.large_text());
    }
    // ... and ends with it (the card taken, Idle again).
    h.show(Screen::Idle);
    assert!(!h.reader.large_text());
    // Pressed twice: off again.
    h.tap("large-text");
    h.tap("large-text");
    assert!(!h.reader.large_text());

    // Staff switch it from their side; the idle timeout ends it too.
    let (_, out) = h.send(&HostToDevice::SetLargeText(true));
    assert!(out.is_empty());
    assert!(h.reader.large_text());
    h.show(Screen::Idle);
    assert!(
        h.reader.large_text(),
        "Idle again without a reception between"
    );
    h.show(Screen::ChooseMethod { face_only: false });
    h.clock.advance(IDLE_TIMEOUT_MS);
    assert!(matches!(h.poll()[..], [Out::Timeout(_)]));
    assert!(!h.reader.large_text());
    let (_, out) = h.send(&HostToDevice::SetLargeText(true));
    assert!(out.is_empty());
    let (_, out) = h.send(&HostToDevice::SetLargeText(false));
    assert!(out.is_empty());
    assert!(!h.reader.large_text());
}

#[test]
fn the_terms_pages_turn_on_the_device_and_the_last_answers_the_host() {
    let mut h = Host::new();
    let (seq, _) = h.show(Screen::RegistrationTerms);
    assert_eq!(*h.reader.view(), View::RegistrationTerms { page: 1 });
    assert!(button_centre(&h.reader, "previous").is_none());
    assert!(h.tap("next").is_empty());
    assert_eq!(*h.reader.view(), View::RegistrationTerms { page: 2 });
    assert!(h.tap("previous").is_empty());
    assert_eq!(*h.reader.view(), View::RegistrationTerms { page: 1 });
    for page in 2..=reader_fw::catalogue::TERMS_PAGES {
        assert!(h.tap("next").is_empty());
        assert_eq!(*h.reader.view(), View::RegistrationTerms { page });
    }
    assert!(button_centre(&h.reader, "next").is_none());
    assert_eq!(h.tap("confirm"), [Out::Touch(seq, Button::Confirm)]);
}
