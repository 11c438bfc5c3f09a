//! Layout checks over every screen, every parameter class and every
//! language: each catalogue string has its glyphs, no text block overflows
//! its box, buttons are big enough, inside the panel, apart, and a touch
//! on a button's centre maps to that button.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use embedded_graphics::prelude::*;
use myna_hal::sim::SimDisplay;
use myna_link::{ConsentItem, FaceHint, Screen};
use reader_fw::catalogue::{extra_chars, is_name_char, Lang, Text};
use reader_fw::font::{self, take_overflow};
use reader_fw::pinpad::Layout;
use reader_fw::ui::{self, Frame, Key, HEADER_HEIGHT, HEIGHT, MIN_BUTTON_PX, WIDTH};
use reader_fw::view::View;

const HINTS: [FaceHint; 11] = [
    FaceHint::FaceTheFrame,
    FaceHint::OneFaceOnly,
    FaceHint::MoveCloser,
    FaceHint::MoveBack,
    FaceHint::FaceForward,
    FaceHint::FaceTheLight,
    FaceHint::AvoidGlare,
    FaceHint::HoldStill,
    FaceHint::RemoveMask,
    FaceHint::RemoveHat,
    FaceHint::RemoveGlasses,
];

/// One screen of every kind and parameter class.
fn every_view() -> Vec<View> {
    let mut screens: Vec<Screen<'static>> = vec![
        Screen::Idle,
        Screen::Reading,
        Screen::ReadError { misreads: 0 },
        Screen::ReadError { misreads: 3 },
        Screen::ExpiredRefused,
        Screen::ChooseMethod { face_only: false },
        Screen::ChooseMethod { face_only: true },
        Screen::FaceCapture { hint: None },
        Screen::FaceFailed {
            pin_available: true,
        },
        Screen::FaceFailed {
            pin_available: false,
        },
        Screen::PinLastTry,
        Screen::PinLocked,
        Screen::VisualCheck,
        Screen::Registration,
        Screen::ConsentOverview,
        Screen::SeeStaff,
        Screen::OutOfService,
        // The widest name allowed: 24 characters, wide kana.
        Screen::Done {
            name_kana: "ヲヲヲヲヲヲヲヲヲヲ　ヲヲヲ",
        },
    ];
    // The longest dates.
    for in_grace in [false, true] {
        screens.push(Screen::ExpiryNotice {
            year: 2088,
            month: 12,
            day: 28,
            in_grace,
        });
    }
    screens.extend(HINTS.iter().map(|h| Screen::FaceCapture { hint: Some(*h) }));
    screens.extend((1..=3).map(|tries_left| Screen::PinEntry { tries_left }));
    screens.extend(
        [
            ConsentItem::Diagnosis,
            ConsentItem::Operation,
            ConsentItem::SpecificHealthCheckup,
            ConsentItem::LimitCertificate,
        ]
        .map(|item| Screen::ConsentItem { item }),
    );
    screens
        .iter()
        .map(|s| View::from_screen(s).unwrap())
        .collect()
}

#[test]
fn every_catalogue_string_has_its_glyphs_in_every_text_font() {
    let mut missing = Vec::new();
    for text in Text::ALL {
        for lang in Lang::ALL {
            let s = text.get(lang);
            for (name, f) in [
                ("TITLE", &font::TITLE),
                ("BUTTON", &font::BUTTON),
                ("BODY", &font::BODY),
                ("NOTE", &font::NOTE),
            ] {
                for c in s.chars().filter(|c| *c != '\n') {
                    if f.glyph(c).is_none() {
                        missing.push(format!("{text:?}/{lang:?} {c:?} in {name}"));
                    }
                }
            }
        }
    }
    for c in extra_chars() {
        if font::TITLE.glyph(c).is_none() {
            missing.push(format!("extra {c:?}"));
        }
    }
    for c in "0123456789●○".chars() {
        if font::DIGITS.glyph(c).is_none() {
            missing.push(format!("digit {c:?}"));
        }
    }
    assert!(
        missing.is_empty(),
        "run `cargo run -p myna-fontgen`:\n{}",
        missing.join("\n")
    );
}

#[test]
fn every_name_character_is_drawable() {
    for c in (0u32..0x1_0000)
        .filter_map(char::from_u32)
        .filter(|c| is_name_char(*c))
    {
        assert!(font::TITLE.glyph(c).is_some(), "{c:?}");
    }
}

#[test]
fn no_text_overflows_or_wraps_unplanned_on_any_screen_in_any_language() {
    let mut display = SimDisplay::new(WIDTH, HEIGHT);
    let layout = Layout::ORDERED;
    let _ = take_overflow();
    let mut bad = Vec::new();
    for lang in Lang::ALL {
        for view in every_view() {
            for visual_check in [false, true] {
                for entered in 0..=4 {
                    let frame = Frame {
                        lang,
                        visual_check,
                        layout: &layout,
                        entered,
                    };
                    let _ = font::take_wrapped();
                    ui::draw(&mut display, &view, &frame).unwrap();
                    if take_overflow() {
                        bad.push(format!("{lang:?} {view:?}"));
                    }
                    if lang == Lang::Ja && font::take_wrapped() {
                        bad.push(format!(
                            "{lang:?} {view:?}: wrapped automatically; add a \\n at a phrase break"
                        ));
                    }
                }
            }
        }
    }
    bad.dedup();
    assert!(bad.is_empty(), "text does not fit:\n{}", bad.join("\n"));
    // Positive controls, in this same test: the flags are process-wide, so
    // a parallel test drawing text would race with the walk above.

    let style = font::TextStyle {
        font: &font::TITLE,
        fg: ui::colour::INK,
        bg: ui::colour::PAPER,
    };
    let _ = take_overflow();
    let area = embedded_graphics::primitives::Rectangle::new(Point::new(0, 0), Size::new(200, 50));
    font::draw_block(
        &mut display,
        &style,
        "読み取っています。カードを動かさないでください",
        area,
        font::Align::Left,
    )
    .unwrap();
    assert!(take_overflow());
    font::draw_block(&mut display, &style, "確認", area, font::Align::Left).unwrap();
    assert!(!take_overflow());
    let _ = font::take_wrapped();
    let _ = font::lines(
        &font::TITLE,
        "読み取っています。カードを動かさないでください",
        300,
    )
    .count();
    assert!(font::take_wrapped());
}

#[test]
fn buttons_are_large_inside_the_panel_apart_and_hit_where_drawn() {
    let layout = Layout([3, 1, 4, 5, 9, 2, 6, 8, 7, 0]);
    for view in every_view() {
        let buttons: Vec<_> = ui::buttons(&view, &layout).iter().copied().collect();
        for (i, b) in buttons.iter().enumerate() {
            let a = b.area;
            assert!(
                a.size.width >= MIN_BUTTON_PX && a.size.height >= MIN_BUTTON_PX,
                "{view:?} {b:?}"
            );
            assert!(
                a.top_left.x >= 0 && a.top_left.y >= HEADER_HEIGHT as i32,
                "{view:?} {b:?}"
            );
            assert!(
                a.bottom_right().unwrap().x < WIDTH as i32
                    && a.bottom_right().unwrap().y < HEIGHT as i32,
                "{view:?} {b:?}"
            );
            for other in &buttons[i + 1..] {
                assert!(
                    a.intersection(&other.area).is_zero_sized(),
                    "{view:?}: {b:?} overlaps {other:?}"
                );
            }
            let c = a.center();
            assert_eq!(
                ui::hit(&view, &layout, c.x as u16, c.y as u16),
                Some(b.key),
                "{view:?}"
            );
        }
        // The header never answers a touch.
        assert_eq!(ui::hit(&view, &layout, 400, 10), None);
    }
}

#[test]
fn the_pin_pad_has_ten_digits_cancel_and_correct_and_follows_the_layout() {
    let layout = Layout([3, 1, 4, 5, 9, 2, 6, 8, 7, 0]);
    let view = View::PinEntry { tries_left: 3 };
    let keys: Vec<Key> = ui::buttons(&view, &layout).iter().map(|b| b.key).collect();
    assert_eq!(keys.len(), 12);
    let mut digits: Vec<u8> = keys
        .iter()
        .filter_map(|k| {
            if let Key::Digit(d) = k {
                Some(*d)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(digits[..9], [3, 1, 4, 5, 9, 2, 6, 8, 7]);
    digits.sort();
    assert_eq!(digits, (0..10).collect::<Vec<u8>>());
    assert!(keys.contains(&Key::Link(myna_link::Button::Cancel)));
    assert!(keys.contains(&Key::Link(myna_link::Button::PinCorrect)));
    // A touch in the gap between two keys is no key.
    let first = ui::buttons(&view, &layout).iter().next().copied().unwrap();
    let gap_x = first.area.top_left.x + first.area.size.width as i32 + 3;
    assert_eq!(
        ui::hit(&view, &layout, gap_x as u16, first.area.center().y as u16),
        None
    );
}

#[test]
fn bad_parameters_are_refused_not_drawn() {
    use reader_fw::view::BadParameter;
    for (screen, why) in [
        (Screen::PinEntry { tries_left: 0 }, BadParameter::TriesLeft),
        (Screen::PinEntry { tries_left: 4 }, BadParameter::TriesLeft),
        (
            Screen::ExpiryNotice {
                year: 2027,
                month: 2,
                day: 29,
                in_grace: false,
            },
            BadParameter::Date,
        ),
        (
            Screen::ExpiryNotice {
                year: 2027,
                month: 13,
                day: 1,
                in_grace: false,
            },
            BadParameter::Date,
        ),
        (
            Screen::ExpiryNotice {
                year: 1999,
                month: 1,
                day: 1,
                in_grace: false,
            },
            BadParameter::Date,
        ),
        (
            Screen::FaceCapture {
                hint: Some(FaceHint::Other(42)),
            },
            BadParameter::Hint,
        ),
        (Screen::Done { name_kana: "" }, BadParameter::Name),
        (Screen::Done { name_kana: "　 " }, BadParameter::Name),
        (
            Screen::Done {
                name_kana: "山田 太郎",
            },
            BadParameter::Name,
        ),
        (
            Screen::Done {
                name_kana: "アアアアアアアアアアアアアアアアアアアアアアアアア",
            },
            BadParameter::Name,
        ),
    ] {
        assert_eq!(View::from_screen(&screen), Err(why), "{screen:?}");
    }
    assert!(View::from_screen(&Screen::ExpiryNotice {
        year: 2028,
        month: 2,
        day: 29,
        in_grace: true
    })
    .is_ok());
}
