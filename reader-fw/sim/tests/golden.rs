//! Golden screenshots: every screen and state, drawn by the firmware core
//! on the simulated display and compared pixel for pixel with the PNGs in
//! `tests/golden/`. Regenerate on purpose only:
//! `UPDATE_GOLDEN=1 cargo test -p reader-sim --test golden`, then look at
//! the pictures before committing them.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::PathBuf;

use myna_link::{ConsentItem, HostToDevice, Screen};
use reader_fw::catalogue::Lang;
use reader_fw::device::{Identity, Reader};
use reader_sim::{button_centre, SimBoard};

fn reader(lang: Lang) -> Reader<SimBoard> {
    let (board, _clock) = SimBoard::for_tests(1);
    Reader::new(
        board,
        Identity {
            firmware: 1,
            slot: 0,
            boot_id: 1,
        },
        lang,
    )
}

fn show(
    r: &mut Reader<SimBoard>,
    seq: u16,
    screen: Screen<'_>,
    visual_check: bool,
) -> Vec<Vec<u8>> {
    let mut sent = Vec::new();
    r.handle(
        seq,
        &HostToDevice::ShowScreen {
            screen,
            visual_check,
        },
        &mut |f: &[u8]| sent.push(f.to_vec()),
    );
    sent
}

fn check(name: &str, r: &mut Reader<SimBoard>, failures: &mut Vec<String>) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let path = dir.join(format!("{name}.png"));
    let got = r.board().display.to_rgb8();
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(&dir).unwrap();
        got.save(&path).unwrap();
        return;
    }
    let want = match image::open(&path) {
        Ok(img) => img.to_rgb8(),
        Err(e) => {
            failures.push(format!("{name}: no golden ({e}); run with UPDATE_GOLDEN=1"));
            return;
        }
    };
    if want.dimensions() != got.dimensions() {
        failures.push(format!(
            "{name}: size {:?} != {:?}",
            got.dimensions(),
            want.dimensions()
        ));
        return;
    }
    let differing = want
        .pixels()
        .zip(got.pixels())
        .filter(|(a, b)| a != b)
        .count();
    if differing > 0 {
        let out = std::env::temp_dir().join(format!("golden-{name}.actual.png"));
        let _ = got.save(&out);
        failures.push(format!(
            "{name}: {differing} pixels differ (actual in {})",
            out.display()
        ));
    }
}

fn tap(r: &mut Reader<SimBoard>, name: &str) -> Vec<Vec<u8>> {
    let (x, y) = button_centre(r, name).unwrap_or_else(|| panic!("no {name} button"));
    r.board().touch.press(x, y);
    let mut sent = Vec::new();
    r.poll(&mut |f: &[u8]| sent.push(f.to_vec()));
    sent
}

#[test]
fn every_screen_matches_its_golden_picture() {
    let mut failures = Vec::new();
    let mut r = reader(Lang::Ja);
    // Every sample screen (the 目視 screen with its banner), then the
    // banner on two more.
    let mut cases: Vec<(&str, Screen<'_>, bool)> = myna_link::samples::SCREENS
        .iter()
        .map(|(name, screen)| (*name, screen.clone(), *name == "visual-check"))
        .collect();
    cases.extend([
        (
            "visual-banner-consent",
            Screen::ConsentOverview { checkup: true },
            true,
        ),
        (
            "visual-banner-done",
            Screen::Done {
                name_kana: "サトウ ハナコ",
            },
            true,
        ),
    ]);
    for (seq, (name, screen, visual)) in cases.into_iter().enumerate() {
        let sent = show(&mut r, seq as u16, screen, visual);
        assert!(sent.is_empty(), "{name}: a valid screen reports nothing");
        check(name, &mut r, &mut failures);
    }
    // States reached by touches and signals.
    show(
        &mut r,
        100,
        Screen::PinEntry {
            tries_left: 3,
            wrong_before: false,
        },
        false,
    );
    tap(&mut r, "digit 1");
    tap(&mut r, "digit 9");
    check("pin-entry-two-digits", &mut r, &mut failures);
    show(
        &mut r,
        101,
        Screen::Done {
            name_kana: "ヤマダ タロウ",
        },
        false,
    );
    r.handle(
        102,
        &HostToDevice::Signal(myna_link::Signal::TakeCard),
        &mut |_: &[u8]| {},
    );
    check("done-take-card-reminder", &mut r, &mut failures);
    // No PIN pad under the 目視 banner: refused, OutOfService drawn.
    let sent = show(
        &mut r,
        103,
        Screen::PinEntry {
            tries_left: 2,
            wrong_before: false,
        },
        true,
    );
    assert_eq!(sent.len(), 1, "the refusal is reported");
    check("visual-banner-pin-refused", &mut r, &mut failures);
    // English, to show the catalogue alone changes the words.
    let mut en = reader(Lang::En);
    for (seq, (name, screen)) in [
        ("en-idle", Screen::Idle),
        (
            "en-pin-entry-1",
            Screen::PinEntry {
                tries_left: 1,
                wrong_before: true,
            },
        ),
        (
            "en-consent-overview",
            Screen::ConsentOverview { checkup: true },
        ),
        (
            "en-consent-diagnosis",
            Screen::ConsentItem {
                item: ConsentItem::Diagnosis,
                step: 2,
                of: 3,
            },
        ),
        (
            "en-expiry-notice-grace",
            Screen::ExpiryNotice {
                year: 2026,
                month: 10,
                day: 31,
                in_grace: true,
            },
        ),
        (
            "en-pin-locked",
            Screen::PinLocked {
                face_available: true,
            },
        ),
        ("en-see-staff", Screen::SeeStaff),
        ("en-not-my-number-card", Screen::NotMyNumberCard),
    ]
    .into_iter()
    .enumerate()
    {
        show(&mut en, seq as u16, screen, false);
        check(name, &mut en, &mut failures);
    }

    // The live camera picture in the guide (a drawn head and shoulders,
    // not a photo), before and after the gate said the face is placed.
    let mut cam = reader(Lang::Ja);
    cam.board().patient_camera = myna_hal::sim::SimCamera::from_images(vec![camera_picture()]);
    show(
        &mut cam,
        0,
        Screen::FaceCapture {
            hint: None,
            placed: false,
        },
        false,
    );
    check("face-capture-preview", &mut cam, &mut failures);
    show(
        &mut cam,
        1,
        Screen::FaceCapture {
            hint: None,
            placed: true,
        },
        false,
    );
    check("face-capture-preview-placed", &mut cam, &mut failures);

    // The terms of use, turned to pages 2 and 3 on the device.
    let mut terms = reader(Lang::Ja);
    show(&mut terms, 0, Screen::RegistrationTerms, false);
    for name in ["registration-terms-2", "registration-terms-3"] {
        tap(&mut terms, "next");
        check(name, &mut terms, &mut failures);
    }
    let mut terms = reader(Lang::En);
    show(&mut terms, 0, Screen::RegistrationTerms, false);
    check("en-registration-terms", &mut terms, &mut failures);

    // Large-text mode, switched on Idle by the patient, over a reception.
    for (lang, prefix) in [(Lang::Ja, "large"), (Lang::En, "en-large")] {
        let mut large = reader(lang);
        tap(&mut large, "large-text");
        check(&format!("{prefix}-idle"), &mut large, &mut failures);
        let screens: [(&str, Screen<'_>); 7] = [
            ("reading", Screen::Reading),
            ("choose-method", Screen::ChooseMethod { face_only: false }),
            (
                "face-capture",
                Screen::FaceCapture {
                    hint: Some(myna_link::FaceHint::MoveCloser),
                    placed: false,
                },
            ),
            (
                "consent-overview",
                Screen::ConsentOverview { checkup: true },
            ),
            (
                "consent-diagnosis",
                Screen::ConsentItem {
                    item: ConsentItem::Diagnosis,
                    step: 2,
                    of: 3,
                },
            ),
            ("registration-terms", Screen::RegistrationTerms),
            (
                "done",
                Screen::Done {
                    name_kana: "ヤマダ タロウ",
                },
            ),
        ];
        for (seq, (name, screen)) in screens.into_iter().enumerate() {
            show(&mut large, seq as u16 + 1, screen, false);
            check(&format!("{prefix}-{name}"), &mut large, &mut failures);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A drawn camera picture: a light wall, a head and shoulders a little
/// left of centre (so the mirroring shows), darker hair. Not a photo.
fn camera_picture() -> image::RgbImage {
    image::RgbImage::from_fn(640, 480, |x, y| {
        let (fx, fy) = (x as f32, y as f32);
        let inside = |cx: f32, cy: f32, rx: f32, ry: f32| {
            ((fx - cx) / rx).powi(2) + ((fy - cy) / ry).powi(2) <= 1.0
        };
        if inside(280.0, 200.0, 75.0, 100.0) {
            if fy < 130.0 {
                image::Rgb([60, 45, 35])
            } else if inside(252.0, 190.0, 10.0, 6.0) || inside(308.0, 190.0, 10.0, 6.0) {
                image::Rgb([40, 30, 30])
            } else {
                image::Rgb([225, 185, 160])
            }
        } else if fy > 330.0 && inside(280.0, 480.0, 190.0, 170.0) {
            image::Rgb([40, 80, 140])
        } else {
            let shade = 200 - (y / 8) as u8;
            image::Rgb([shade, shade, shade - 10])
        }
    })
}
