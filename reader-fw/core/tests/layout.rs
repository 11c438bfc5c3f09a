//! Layout checks over every screen, every parameter class and every
//! language: each catalogue string has its glyphs, no text block overflows
//! its box, buttons are big enough, inside the panel, apart, and a touch
//! on a button's centre maps to that button.
//!
//! Layout reports how text fit as a value (`ui::draw` / `ui::check` return a
//! `Fit`), so these tests share no state and run in parallel.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use embedded_graphics::prelude::*;
use myna_hal::sim::SimDisplay;
use myna_link::{ConsentItem, FaceHint, Screen};
use reader_fw::catalogue::{extra_chars, is_name_char, large_texts, Lang, Text, TERMS_PAGES};
use reader_fw::font::{self, Fit};
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
        Screen::FaceCapture {
            hint: None,
            placed: false,
        },
        Screen::FaceCapture {
            hint: None,
            placed: true,
        },
        Screen::FaceFailed {
            pin_available: true,
        },
        Screen::FaceFailed {
            pin_available: false,
        },
        Screen::PinLastTry,
        Screen::PinLocked {
            face_available: true,
        },
        Screen::PinLocked {
            face_available: false,
        },
        Screen::NotMyNumberCard,
        Screen::VisualCheck,
        Screen::Registration,
        Screen::ConsentOverview { checkup: true },
        Screen::ConsentOverview { checkup: false },
        Screen::SeeStaff,
        Screen::OutOfService,
        Screen::Processing,
        Screen::StaffComing,
        Screen::RegistrationDone,
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
    screens.extend(HINTS.iter().map(|h| Screen::FaceCapture {
        hint: Some(*h),
        placed: false,
    }));
    for wrong_before in [false, true] {
        screens.extend((1..=3).map(|tries_left| Screen::PinEntry {
            tries_left,
            wrong_before,
        }));
    }
    screens.extend(
        [
            ConsentItem::Diagnosis,
            ConsentItem::Operation,
            ConsentItem::SpecificHealthCheckup,
        ]
        .into_iter()
        .enumerate()
        .map(|(i, item)| Screen::ConsentItem {
            item,
            step: i as u8 + 1,
            of: 3,
        }),
    );
    let mut views: Vec<View> = screens
        .iter()
        .map(|s| View::from_screen(s).unwrap())
        .collect();
    // Every page of the terms of use (the device turns them).
    views.extend((1..=TERMS_PAGES).map(|page| View::RegistrationTerms { page }));
    views
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
    for s in large_texts() {
        for c in s.chars().filter(|c| *c != '\n') {
            if font::LARGE.glyph(c).is_none() {
                missing.push(format!("large {s:?} {c:?} in LARGE"));
            }
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

/// Every screen of [`every_view`] in `lang`, in every mode (目視, large
/// text) and PIN count, with the fit of its text; `None` of them may
/// overflow, and Japanese may break only where the catalogue says.
fn misfits(lang: Lang) -> Vec<String> {
    let layout = Layout::ORDERED;
    let mut bad = Vec::new();
    for view in every_view() {
        for (visual_check, large) in [(false, false), (true, false), (false, true), (true, true)] {
            for entered in 0..=4 {
                let frame = Frame {
                    lang,
                    visual_check,
                    layout: &layout,
                    entered,
                    large,
                };
                let fit = ui::check(&view, &frame);
                if !fit.fits() {
                    bad.push(format!("{lang:?} large={large} {view:?}: {fit:?}"));
                }
                if lang == Lang::Ja && fit.wrapped {
                    bad.push(format!(
                        "{lang:?} large={large} {view:?}: wrapped automatically; add a \\n at a phrase break"
                    ));
                }
            }
        }
    }
    bad.dedup();
    bad
}

#[test]
fn no_text_overflows_or_wraps_unplanned_on_any_screen_in_japanese() {
    let bad = misfits(Lang::Ja);
    assert!(bad.is_empty(), "text does not fit:\n{}", bad.join("\n"));
}

#[test]
fn no_text_overflows_on_any_screen_in_english() {
    let bad = misfits(Lang::En);
    assert!(bad.is_empty(), "text does not fit:\n{}", bad.join("\n"));
}

#[test]
fn drawing_reports_the_same_fit_as_checking() {
    let mut display = SimDisplay::new(WIDTH, HEIGHT);
    let layout = Layout::ORDERED;
    for lang in Lang::ALL {
        for view in every_view() {
            for large in [false, true] {
                let frame = Frame {
                    lang,
                    visual_check: true,
                    layout: &layout,
                    entered: 2,
                    large,
                };
                let drawn = ui::draw(&mut display, &view, &frame).unwrap();
                assert_eq!(drawn, ui::check(&view, &frame), "{lang:?} {view:?}");
            }
        }
    }
}

/// Positive control at screen level: the report of a screen carries what
/// its blocks report (English text wraps on its own somewhere).
#[test]
fn a_screen_reports_the_wrapping_of_its_blocks() {
    let layout = Layout::ORDERED;
    let frame = Frame {
        lang: Lang::En,
        visual_check: false,
        layout: &layout,
        entered: 0,
        large: false,
    };
    assert!(every_view()
        .iter()
        .any(|view| ui::check(view, &frame).wrapped));
}

fn title_style() -> font::TextStyle {
    font::TextStyle {
        font: &font::TITLE,
        fg: ui::colour::INK,
        bg: ui::colour::PAPER,
    }
}

fn small_box() -> embedded_graphics::primitives::Rectangle {
    embedded_graphics::primitives::Rectangle::new(Point::new(0, 0), Size::new(200, 50))
}

/// Positive control: the overflow detector fires on text too long for its
/// box, and stays quiet on text that fits.
#[test]
fn a_block_too_long_for_its_box_is_reported_and_a_short_one_is_not() {
    let mut display = SimDisplay::new(WIDTH, HEIGHT);
    let fit = font::draw_block(
        &mut display,
        &title_style(),
        "読み取っています。カードを動かさないでください",
        small_box(),
        font::Align::Left,
    )
    .unwrap();
    assert!(fit.overflowed && fit.wrapped && !fit.fits(), "{fit:?}");
    let fit = font::draw_block(
        &mut display,
        &title_style(),
        "確認",
        small_box(),
        font::Align::Left,
    )
    .unwrap();
    assert_eq!(fit, Fit::default());
    assert!(fit.fits());
}

/// Positive control: a word with no place to break is reported as cut.
#[test]
fn a_word_cut_for_lack_of_a_break_is_reported() {
    let mut display = SimDisplay::new(WIDTH, HEIGHT);
    let fit = font::draw_block(
        &mut display,
        &title_style(),
        "Supercalifragilisticexpialidocious",
        embedded_graphics::primitives::Rectangle::new(Point::new(0, 0), Size::new(200, 400)),
        font::Align::Left,
    )
    .unwrap();
    assert!(fit.forced_cut && fit.overflowed && !fit.fits(), "{fit:?}");
}

/// Positive control: wrapping beyond the `\n` breaks is seen by the line
/// iterator and by `measure`; the catalogue's own breaks are not wrapping.
#[test]
fn wrapping_beyond_the_catalogue_breaks_is_reported() {
    let long = "読み取っています。カードを動かさないでください";
    let mut lines = font::lines(&font::TITLE, long, 300);
    assert!(lines.by_ref().count() > 1);
    assert!(lines.wrapped());
    assert!(font::measure(&font::TITLE, long, 300).wrapped);
    let planned = "読み取っています。\nカードを動かさないでください";
    assert!(!font::measure(&font::TITLE, planned, 800).wrapped);
}

#[test]
fn fit_reports_merge() {
    let over = Fit {
        overflowed: true,
        ..Fit::default()
    };
    let wrapped = Fit {
        wrapped: true,
        ..Fit::default()
    };
    let mut all = Fit::default();
    all |= over;
    all |= wrapped;
    assert_eq!(
        all,
        Fit {
            overflowed: true,
            forced_cut: false,
            wrapped: true
        }
    );
    assert_eq!(over | Fit::default(), over);
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
    let view = View::PinEntry {
        tries_left: 3,
        wrong_before: false,
    };
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

fn consent(step: u8, of: u8) -> Screen<'static> {
    Screen::ConsentItem {
        item: ConsentItem::Operation,
        step,
        of,
    }
}

#[test]
fn bad_parameters_are_refused_not_drawn() {
    use reader_fw::view::BadParameter;
    for (screen, why) in [
        (
            Screen::PinEntry {
                tries_left: 0,
                wrong_before: false,
            },
            BadParameter::TriesLeft,
        ),
        (
            Screen::PinEntry {
                tries_left: 4,
                wrong_before: true,
            },
            BadParameter::TriesLeft,
        ),
        (consent(0, 3), BadParameter::Step),
        (consent(3, 2), BadParameter::Step),
        // No fourth item since the 限度額 screen went.
        (consent(4, 4), BadParameter::Step),
        (consent(1, 0), BadParameter::Step),
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
                placed: false,
            },
            BadParameter::Hint,
        ),
    ] {
        assert_eq!(View::from_screen(&screen), Err(why), "{screen:?}");
    }
    // A name that cannot be drawn is left out; `Done` is never refused.
    for name_kana in [
        "",
        "　 ",
        "山田 太郎",
        "アアアアアアアアアアアアアアアアアアアアアアアアア",
    ] {
        assert_eq!(
            View::from_screen(&Screen::Done { name_kana }),
            Ok(View::Done {
                name: None,
                reminder: false
            }),
            "{name_kana:?}"
        );
    }
    assert!(View::from_screen(&Screen::ExpiryNotice {
        year: 2028,
        month: 2,
        day: 29,
        in_grace: true
    })
    .is_ok());
}

/// Consent answers have equal weight: same look, same size, side by side;
/// 「同意しない」 comes first on an item, as SCREENS.md orders them.
#[test]
fn consent_buttons_have_equal_weight() {
    use myna_link::Button;
    let layout = Layout::ORDERED;
    for (screen, keys) in [
        (
            Screen::ConsentOverview { checkup: true },
            [Button::Yes, Button::OneByOne],
        ),
        (
            Screen::ConsentOverview { checkup: false },
            [Button::Yes, Button::OneByOne],
        ),
        (consent(1, 1), [Button::No, Button::Yes]),
        (consent(2, 3), [Button::No, Button::Yes]),
    ] {
        let view = View::from_screen(&screen).unwrap();
        let buttons: Vec<_> = ui::buttons(&view, &layout).iter().copied().collect();
        assert_eq!(buttons.len(), 2, "{view:?}");
        let (a, b) = (buttons[0], buttons[1]);
        assert_eq!(a.look, b.look, "{view:?}");
        assert_eq!(a.area.size, b.area.size, "{view:?}");
        assert_eq!(a.area.top_left.y, b.area.top_left.y, "{view:?}");
        assert!(a.area.top_left.x < b.area.top_left.x);
        assert_eq!([a.key, b.key], keys.map(Key::Link), "{view:?}");
    }
    // Elsewhere a pair keeps its main action (positive control).
    let view = View::FaceFailed {
        pin_available: true,
    };
    let looks: Vec<_> = ui::buttons(&view, &layout).iter().map(|b| b.look).collect();
    assert_ne!(looks[0], looks[1]);
}

/// The step count is checked and kept.
#[test]
fn a_consent_item_keeps_its_step_count() {
    assert_eq!(
        View::from_screen(&Screen::ConsentItem {
            item: ConsentItem::SpecificHealthCheckup,
            step: 3,
            of: 3,
        }),
        Ok(View::ConsentItem {
            item: ConsentItem::SpecificHealthCheckup,
            step: 3,
            of: 3,
        })
    );
}

/// A locked PIN offers 顔認証 only when the card has a face path, and
/// 職員を呼ぶ always; both answer a touch.
#[test]
fn a_locked_pin_offers_face_only_when_available_and_staff_always() {
    use myna_link::Button;
    let layout = Layout::ORDERED;
    for (face_available, want) in [
        (true, vec![Button::Face, Button::CallStaff]),
        (false, vec![Button::CallStaff]),
    ] {
        let view = View::from_screen(&Screen::PinLocked { face_available }).unwrap();
        let keys: Vec<Key> = ui::buttons(&view, &layout).iter().map(|b| b.key).collect();
        assert_eq!(
            keys,
            want.into_iter().map(Key::Link).collect::<Vec<_>>(),
            "{face_available}"
        );
        for b in ui::buttons(&view, &layout).iter() {
            let c = b.area.center();
            assert_eq!(ui::hit(&view, &layout, c.x as u16, c.y as u16), Some(b.key));
        }
        assert!(view.waits_for_input(), "its buttons time out like others");
    }
}

/// Every screen that ends a session tells the patient to take the card;
/// the screens of a session going on do not.
#[test]
fn the_screens_that_end_a_session_are_the_take_card_ones() {
    let ending: Vec<View> = every_view()
        .into_iter()
        .filter(|v| v.ends_session())
        .collect();
    for want in [
        Screen::ExpiredRefused,
        Screen::SeeStaff,
        Screen::OutOfService,
        Screen::NotMyNumberCard,
        Screen::ReadError { misreads: 3 },
        Screen::PinLocked {
            face_available: false,
        },
        Screen::Done { name_kana: "" },
    ] {
        let want = View::from_screen(&want).unwrap();
        assert!(
            ending
                .iter()
                .any(|v| core::mem::discriminant(v) == core::mem::discriminant(&want)),
            "{want:?}"
        );
        assert!(want.ends_session(), "{want:?}");
    }
    for going_on in [
        Screen::ReadError { misreads: 1 },
        Screen::PinLocked {
            face_available: true,
        },
        Screen::ConsentOverview { checkup: true },
        Screen::RegistrationTerms,
        Screen::Processing,
        Screen::StaffComing,
    ] {
        assert!(
            !View::from_screen(&going_on).unwrap().ends_session(),
            "{going_on:?}"
        );
    }
}

/// Large-text mode: the main line in fewer words and larger type, the
/// buttons where they were (so ≥ 15 mm as checked above for every view).
#[test]
fn large_text_draws_fewer_words_in_larger_type_with_the_same_buttons() {
    let layout = Layout::ORDERED;
    let mut normal = SimDisplay::new(WIDTH, HEIGHT);
    let mut large = SimDisplay::new(WIDTH, HEIGHT);
    let mut differing_screens = 0;
    for view in every_view() {
        let frame = |large| Frame {
            lang: Lang::Ja,
            visual_check: false,
            layout: &layout,
            entered: 0,
            large,
        };
        let _fit = ui::draw(&mut normal, &view, &frame(false)).unwrap();
        let _fit = ui::draw(&mut large, &view, &frame(true)).unwrap();
        if normal.to_rgb8() != large.to_rgb8() {
            differing_screens += 1;
        }
    }
    // Most screens change (the PIN pad's column is full already).
    assert!(
        differing_screens * 10 >= every_view().len() * 8,
        "{differing_screens} of {}",
        every_view().len()
    );
    // Idle says it in fewer words, with more ink per character.
    let ink = |d: &SimDisplay| {
        d.to_rgb8()
            .pixels()
            .filter(|p| p.0.iter().all(|c| *c < 80))
            .count()
    };
    let idle = |large| Frame {
        lang: Lang::Ja,
        visual_check: false,
        layout: &layout,
        entered: 0,
        large,
    };
    let _fit = ui::draw(&mut normal, &View::Idle, &idle(false)).unwrap();
    let _fit = ui::draw(&mut large, &View::Idle, &idle(true)).unwrap();
    let (short, long) = (
        reader_fw::catalogue::large(Text::IdleTitle).get(Lang::Ja),
        Text::IdleTitle.get(Lang::Ja),
    );
    assert!(short.chars().count() < long.chars().count());
    let per_char = |d: &SimDisplay, s: &str| ink(d) as f64 / s.chars().count() as f64;
    assert!(
        per_char(&large, short) > 1.3 * per_char(&normal, long),
        "large type is larger"
    );
    // The switch is on Idle, and the same size in both modes.
    let switch: Vec<_> = ui::buttons(&View::Idle, &layout)
        .iter()
        .filter(|b| b.key == Key::LargeText)
        .copied()
        .collect();
    assert_eq!(switch.len(), 1);
    assert!(
        switch[0].area.size.width >= MIN_BUTTON_PX && switch[0].area.size.height >= MIN_BUTTON_PX
    );
}

/// The terms of use: one page at a time, 前へ from page 2, 次へ on every
/// page, the last one answering the host (確認) instead of turning.
#[test]
fn the_terms_of_use_page_without_scrolling() {
    use myna_link::Button;
    let layout = Layout::ORDERED;
    assert_eq!(
        View::from_screen(&Screen::RegistrationTerms),
        Ok(View::RegistrationTerms { page: 1 })
    );
    for page in 1..=TERMS_PAGES {
        let view = View::RegistrationTerms { page };
        let keys: Vec<Key> = ui::buttons(&view, &layout).iter().map(|b| b.key).collect();
        let mut want = Vec::new();
        if page > 1 {
            want.push(Key::PagePrevious);
        }
        want.push(if page < TERMS_PAGES {
            Key::PageNext
        } else {
            Key::Link(Button::Confirm)
        });
        assert_eq!(keys, want, "page {page}");
        assert!(view.waits_for_input());
    }
    // Each page is different text.
    let mut pages: Vec<&str> = (1..=TERMS_PAGES)
        .map(|p| reader_fw::catalogue::terms_page(p).unwrap().get(Lang::Ja))
        .collect();
    pages.dedup();
    assert_eq!(pages.len(), usize::from(TERMS_PAGES));
}
