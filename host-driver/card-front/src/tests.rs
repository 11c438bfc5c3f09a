//! The card-front reader against generated frames (fonts from the system,
//! see `fonts`; the text models from `ocr::text_models_dir`). Frame count:
//! `CARDFRONT_FRAMES` (default 200), first seed `CARDFRONT_FIRST`;
//! `CARDFRONT_MINCONF` overrides the threshold (for calibration),
//! `CARDFRONT_DUMP=DIR` saves wrong and refused frames, and
//! `CARDFRONT_DEBUG` prints each line read.

use std::sync::OnceLock;

use zeroize::Zeroizing;

use super::*;
use card_front_synth as synth;
use myna_face::image::RgbFrame;
use synth::{CardSpec, Conditions, Era, EraDate};

struct Kit {
    reader: CardFrontReader,
    fonts: Vec<synth::Font>,
}

fn kit() -> Option<&'static Kit> {
    static KIT: OnceLock<Option<Kit>> = OnceLock::new();
    KIT.get_or_init(|| {
        let in_ci = std::env::var("CI").as_deref() == Ok("true");
        let files = fonts::load(&[]);
        if files.len() < 2 {
            assert!(!in_ci, "CI: Japanese fonts missing; run scripts/setup-debian");
            eprintln!("card_front tests skipped: no Japanese fonts (run scripts/setup-debian)");
            return None;
        }
        let mut settings = CardFrontSettings::default();
        if let Some(c) = std::env::var("CARDFRONT_MINCONF")
            .ok()
            .and_then(|v| v.parse().ok())
        {
            settings.min_confidence = c;
            settings.min_code_confidence = c;
        }
        let dir = ocr::text_models_dir(None);
        let start = std::time::Instant::now();
        let reader = match CardFrontReader::load(&dir, settings, 2) {
            Ok(reader) => {
                eprintln!("text models loaded in {} ms", start.elapsed().as_millis());
                reader
            }
            Err(e) => {
                assert!(!in_ci, "CI: card-front text models: {e} (scripts/test fetches them)");
                eprintln!(
                    "card_front tests skipped: text models not in {} ({e}); run models/fetch --only text",
                    dir.display()
                );
                return None;
            }
        };
        Some(Kit {
            reader,
            fonts: synth::parse_fonts(&files),
        })
    })
    .as_ref()
}

fn frame(img: &image::RgbImage) -> RgbFrame {
    RgbFrame::from_rgb(
        img.width(),
        img.height(),
        Zeroizing::new(img.as_raw().clone()),
    )
    .expect("a generated frame")
}

fn b_of(read: &FrontRead) -> String {
    String::from_utf8(read.collation_b_bytes().to_vec()).expect("digits")
}

fn dump(name: &str, img: &image::RgbImage) {
    if let Ok(dir) = std::env::var("CARDFRONT_DUMP") {
        let _ = img.save(format!("{dir}/{name}.png"));
    }
}

#[test]
fn generated_frames_are_read_exactly_or_refused() {
    let Some(kit) = kit() else { return };
    let n: u64 = std::env::var("CARDFRONT_FRAMES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let first: u64 = std::env::var("CARDFRONT_FIRST")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    // Two workers share the frames (the machine's two cores; the reader is
    // shared across threads as in the kiosk). The line dump for tuning
    // sets an environment variable per frame, so it runs alone.
    let workers: u64 = if std::env::var_os("CARDFRONT_DATASET").is_some() {
        1
    } else {
        2
    };
    let results: Vec<(Verdict, StageTimes)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                scope.spawn(move || {
                    (first + w..first + n)
                        .step_by(workers as usize)
                        .map(|seed| read_generated(kit, seed))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a frame worker"))
            .collect()
    });
    let count = |v: Verdict| results.iter().filter(|(r, _)| *r == v).count() as u64;
    let (right, wrong, refused) = (
        count(Verdict::Right),
        count(Verdict::Wrong),
        count(Verdict::Refused),
    );
    let stages: Vec<StageTimes> = results.into_iter().map(|(_, t)| t).collect();
    eprintln!("card_front: {right} right, {wrong} wrong, {refused} refused of {n}");
    let median = |f: fn(&StageTimes) -> f64| {
        let mut v: Vec<f64> = stages.iter().map(f).collect();
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(0.0)
    };
    eprintln!(
        "median ms (this build's profile): locate {:.1}, rectify {:.1}, detect {:.1}, recognise {:.1}",
        median(|t| t.locate_ms),
        median(|t| t.rectify_ms),
        median(|t| t.detect_ms),
        median(|t| t.recognise_ms)
    );
    assert_eq!(wrong, 0, "confident wrong 照合番号B");
    // The generator's spec §5 mix is harsh (cards down to 30% of the frame
    // with σ 1.5 blur, 6 px motion, glare, 30% exposure, JPEG 40, text
    // squeezed to fit): PP-OCRv5 on the whole frame in onnxruntime reads 67
    // of 100 of these frames with 2 wrong. This reader reads 174 of the
    // default 200 with none wrong, and refuses the rest; the floor leaves
    // room for the machine's float rounding only.
    assert!(right * 100 >= n * 80, "only {right} of {n} read");
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Right,
    Wrong,
    Refused,
}

/// Reads the generated frame `seed`: right, wrong or refused.
fn read_generated(kit: &Kit, seed: u64) -> (Verdict, StageTimes) {
    let s = synth::sample(seed, &kit.fonts).expect("fonts");
    // CARDFRONT_DATASET=DIR: each frame's line crops in DIR/<seed>/ with
    // the card's fields in truth.txt (generated cards only), for tuning
    // how lines are given to the recogniser.
    if let Some(dir) = std::env::var_os("CARDFRONT_DATASET") {
        let d = std::path::Path::new(&dir).join(seed.to_string());
        let _ = std::fs::create_dir_all(&d);
        let b = &s.spec.birth;
        let truth = format!(
            "{}\n{}{}年{}月{}日生\n{}年{}月{}日まで有効\n{}\n",
            s.spec.collation_b(),
            b.era.name(),
            if b.year == 1 {
                "元".to_string()
            } else {
                b.year.to_string()
            },
            b.month,
            b.day,
            s.spec.expiry.0,
            s.spec.expiry.1,
            s.spec.expiry.2,
            &s.spec.collation_b()[10..]
        );
        let _ = std::fs::write(d.join("truth.txt"), truth);
        std::env::set_var("CARDFRONT_DUMP_LINES", &d);
    }
    let mut t = StageTimes::default();
    let result = kit.reader.read_timed(&frame(&s.frame), &mut t);
    let verdict = match result {
        Ok(read) if b_of(&read) == s.spec.collation_b() => {
            eprintln!(
                "seed {seed}: right at {:.2} {:?}",
                read.confidence(),
                read.field_confidence()
            );
            Verdict::Right
        }
        Ok(read) => {
            eprintln!(
                "seed {seed}: WRONG at {:.2} {:?}",
                read.confidence(),
                read.field_confidence()
            );
            dump(&format!("wrong-{seed}"), &s.frame);
            Verdict::Wrong
        }
        Err(r) => {
            eprintln!("seed {seed}: refused: {r} ({:?})", s.conditions);
            dump(&format!("refused-{seed}"), &s.frame);
            Verdict::Refused
        }
    };
    (verdict, t)
}

fn read_spec(spec: &CardSpec, cond: &Conditions, font: usize) -> Result<FrontRead, Refusal> {
    let kit = kit().expect("fonts");
    let mut rng = rand::SeedableRng::seed_from_u64(7);
    let card = synth::render_card(spec, &kit.fonts[font % kit.fonts.len()], &mut rng);
    kit.reader
        .read(&frame(&synth::compose(&[(&card, cond)], cond)))
}

fn spec(era: Era, year: u16, month: u8, day: u8, expiry: u16) -> CardSpec {
    CardSpec {
        birth: EraDate {
            era,
            year,
            month,
            day,
        },
        expiry: (expiry, month, day),
        code: [0, 4, 2, 9],
        fullwidth: false,
        padded: true,
        with_fields: true,
        tinted_expiry: false,
        note_date: false,
        layout: synth::CardLayout::default(),
    }
}

#[test]
fn era_edge_cases_are_read_as_printed() {
    if kit().is_none() {
        return;
    }
    let cond = Conditions {
        angle: 4.0,
        noise: 2.0,
        jpeg: Some((80, false)),
        ..Conditions::default()
    };
    for (s, want) in [
        (spec(Era::Showa, 64, 1, 7, 2031), "64010720310429"),
        (spec(Era::Heisei, 1, 1, 8, 2030), "01010820300429"),
        (spec(Era::Heisei, 31, 4, 30, 2029), "31043020290429"),
        (spec(Era::Reiwa, 1, 5, 1, 2027), "01050120270429"),
        (spec(Era::Taisho, 15, 3, 3, 2032), "15030320320429"),
    ] {
        assert_eq!(s.collation_b(), want);
        for font in 0..2 {
            let read = read_spec(&s, &cond, font).expect("a clean card is read");
            assert_eq!(b_of(&read), want, "font {font}");
            assert_eq!(read.birth().era.name(), s.birth.era.name());
        }
    }
}

#[test]
fn impossible_era_dates_are_refused() {
    if kit().is_none() {
        return;
    }
    // 昭和64年1月8日 and 平成31年5月1日 never existed.
    for s in [
        spec(Era::Showa, 64, 1, 8, 2030),
        spec(Era::Heisei, 31, 5, 1, 2030),
    ] {
        let r = read_spec(&s, &Conditions::default(), 0).err();
        assert_eq!(r, Some(Refusal::Implausible(FieldKind::Birth)));
    }
}

#[test]
fn upside_down_cards_are_read() {
    if kit().is_none() {
        return;
    }
    let s = spec(Era::Showa, 55, 2, 17, 2035);
    for (i, angle) in [-12.0f32, 0.0, 9.0].into_iter().enumerate() {
        let cond = Conditions {
            upside_down: true,
            angle,
            centre: (0.4, 0.6),
            jpeg: Some((70, false)),
            ..Conditions::default()
        };
        let read = read_spec(&s, &cond, i).expect("upside-down card is read");
        assert!(read.upside_down());
        assert_eq!(b_of(&read), "55021720350429");
    }
}

#[test]
fn no_card_two_cards_and_a_licence_are_refused() {
    let Some(kit) = kit() else { return };
    let cond = Conditions::default();
    let empty = synth::compose(&[], &cond);
    assert_eq!(kit.reader.read(&frame(&empty)).err(), Some(Refusal::NoCard));

    let s = spec(Era::Heisei, 3, 6, 5, 2033);
    let mut rng = rand::SeedableRng::seed_from_u64(1);
    let card = synth::render_card(&s, &kit.fonts[0], &mut rng);
    let left = Conditions {
        scale: 0.35,
        centre: (0.25, 0.5),
        ..Conditions::default()
    };
    let right = Conditions {
        scale: 0.35,
        centre: (0.75, 0.5),
        angle: 5.0,
        ..Conditions::default()
    };
    let two = synth::compose(&[(&card, &left), (&card, &right)], &cond);
    assert_eq!(
        kit.reader.read(&frame(&two)).err(),
        Some(Refusal::SeveralCards)
    );

    let licence = CardSpec {
        with_fields: false,
        ..s
    };
    let r = read_spec(&licence, &cond, 0).err();
    assert!(matches!(r, Some(Refusal::FieldMissing(_))), "{r:?}");
}

#[test]
fn the_back_side_is_refused_with_turn_over() {
    let Some(kit) = kit() else { return };
    // A blank card: no photo on either side.
    let blank = image::RgbImage::from_pixel(856, 540, image::Rgb([232, 234, 228]));
    let cond = Conditions::default();
    let r = kit
        .reader
        .read(&frame(&synth::compose(&[(&blank, &cond)], &cond)));
    assert_eq!(r.err(), Some(Refusal::NoPhoto));
    assert_eq!(Refusal::NoPhoto.hint(), PatientHint::TurnOver);
    // The back: 個人番号, chip contacts and a QR code where the photo would
    // be, at random positions, angles and lights, upside down too. Never
    // read; mostly told apart by the QR code (a small card under the
    // strongest defocus blurs the code into a grey patch and is refused as
    // unreadable instead: 38 of seeds 0..40).
    let mut turn_over = 0;
    for seed in 0..8u64 {
        let mut rng = rand::SeedableRng::seed_from_u64(seed);
        let mut cond = Conditions::random(&mut rng);
        cond.thumb = None;
        let back = synth::render_back(&kit.fonts[seed as usize % kit.fonts.len()], &mut rng);
        let img = synth::compose(&[(&back, &cond)], &cond);
        match kit.reader.read(&frame(&img)) {
            Err(r) => turn_over += usize::from(r.hint() == PatientHint::TurnOver),
            Ok(_) => panic!("seed {seed}: the back side was read"),
        }
        if seed < 4 {
            dump(&format!("back-{seed}"), &img);
        }
    }
    assert!(
        turn_over >= 6,
        "only {turn_over} of 8 backs asked to turn over"
    );
}

#[test]
fn a_thumb_on_a_corner_is_read_and_on_a_field_refused() {
    if kit().is_none() {
        return;
    }
    let s = spec(Era::Showa, 55, 2, 17, 2035);
    for (i, thumb) in [
        synth::Thumb::TopLeft,
        synth::Thumb::TopRight,
        synth::Thumb::BottomLeft,
    ]
    .into_iter()
    .enumerate()
    {
        let cond = Conditions {
            thumb: Some(thumb),
            angle: 6.0 - 5.0 * i as f32,
            upside_down: i == 1,
            jpeg: Some((75, false)),
            seed: i as u64,
            ..Conditions::default()
        };
        let read = read_spec(&s, &cond, i).expect("a thumb on a corner leaves the fields");
        assert_eq!(b_of(&read), "55021720350429", "{thumb:?}");
    }
    for (i, thumb) in [synth::Thumb::OverDates, synth::Thumb::OverCode]
        .into_iter()
        .enumerate()
    {
        for seed in 0..4u64 {
            let cond = Conditions {
                thumb: Some(thumb),
                angle: seed as f32 * 3.0 - 4.0,
                jpeg: Some((75, false)),
                seed,
                ..Conditions::default()
            };
            let r = read_spec(&s, &cond, i + seed as usize);
            assert!(r.is_err(), "{thumb:?} seed {seed}: read through a thumb");
        }
    }
}

/// Frames of the generator where a pale thumb over a corner joins the
/// card's component, so that its bounding rectangle is not card-shaped
/// (each was refused as "no card" before the densest-sides fit): the card
/// is still found, its corners where the generator put them.
#[test]
fn a_pale_thumb_joined_to_the_card_does_not_hide_it() {
    let Some(kit) = kit() else {
        return;
    };
    for seed in [288u64, 511, 543, 598, 787, 821, 842, 896] {
        let sample = synth::sample(seed, &kit.fonts).expect("a sample");
        assert!(sample.conditions.thumb.is_some(), "seed {seed}");
        let luma = geom::Luma::from_frame(&frame(&sample.frame)).expect("a frame");
        let quad = geom::locate_card(&luma).unwrap_or_else(|e| panic!("seed {seed}: {e:?}"));
        let truth = synth::corners(&sample.conditions, sample.conditions.seed);
        let length = ((truth[1].0 - truth[0].0).powi(2) + (truth[1].1 - truth[0].1).powi(2)).sqrt();
        for t in truth {
            let nearest = quad
                .0
                .iter()
                .map(|q| ((q.0 - t.0).powi(2) + (q.1 - t.1).powi(2)).sqrt())
                .fold(f32::MAX, f32::min);
            assert!(
                nearest < length * 0.03,
                "seed {seed}: corner {t:?} is {nearest} px from the nearest found"
            );
        }
    }
}

/// Frames of the generator (small cards under blur) whose expiry or birth
/// line was not found on the first look and is read on the sharpened

#[test]
fn fuzz_entry_survives_odd_bytes() {
    fuzz_card_front(&[]);
    fuzz_card_front(b"\x89PNG\r\n\x1a\n");
    let mut png = Vec::new();
    image::RgbImage::from_pixel(200, 100, image::Rgb([250, 250, 250]))
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("png");
    fuzz_card_front(&png);
}
