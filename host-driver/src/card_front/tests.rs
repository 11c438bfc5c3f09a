//! The card-front reader against generated frames (fonts from the system;
//! see `fonts`). Frame count: `CARDFRONT_FRAMES` (default 300: a frame
//! takes ~0.23 s in the test build, where this crate is at opt-level 2; the
//! bench and a longer run use more), first seed
//! `CARDFRONT_FIRST`; `CARDFRONT_MINCONF` overrides the threshold (for
//! calibration), `CARDFRONT_DUMP=DIR` saves wrong and refused frames, and
//! `CARDFRONT_DEBUG` prints each line read.

use std::sync::OnceLock;

use zeroize::Zeroizing;

use super::*;
use crate::face::image::RgbFrame;
use card_front_synth as synth;
use synth::{CardSpec, Conditions, Era, EraDate};

struct Kit {
    reader: CardFrontReader,
    fonts: Vec<fontdue::Font>,
}

fn kit() -> Option<&'static Kit> {
    static KIT: OnceLock<Option<Kit>> = OnceLock::new();
    KIT.get_or_init(|| {
        let files = fonts::load(&[]);
        if files.len() < 2 {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI: Japanese fonts missing; run scripts/setup-debian"
            );
            eprintln!("card_front tests skipped: no Japanese fonts (run scripts/setup-debian)");
            return None;
        }
        let bytes: Vec<Vec<u8>> = files.iter().map(|(_, b)| b.clone()).collect();
        let mut settings = CardFrontSettings::default();
        if let Some(c) = std::env::var("CARDFRONT_MINCONF")
            .ok()
            .and_then(|v| v.parse().ok())
        {
            settings.min_confidence = c;
        }
        Some(Kit {
            reader: CardFrontReader::new(GlyphModel::train(&bytes), settings),
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
    String::from_utf8(read.collation_b().as_bytes().to_vec()).expect("digits")
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
        .unwrap_or(300);
    let (mut right, mut wrong, mut refused) = (0, 0, 0);
    let mut stages = Vec::new();
    let first: u64 = std::env::var("CARDFRONT_FIRST")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    for seed in first..first + n {
        let s = synth::sample(seed, &kit.fonts).expect("fonts");
        let mut t = StageTimes::default();
        let result = kit.reader.read_timed(&frame(&s.frame), &mut t);
        stages.push(t);
        match result {
            Ok(read) if b_of(&read) == s.spec.collation_b() => {
                right += 1;
                eprintln!("seed {seed}: right at {:.2}", read.confidence());
            }
            Ok(read) => {
                wrong += 1;
                eprintln!("seed {seed}: WRONG at {:.2}", read.confidence());
                dump(&format!("wrong-{seed}"), &s.frame);
            }
            Err(r) => {
                refused += 1;
                eprintln!("seed {seed}: refused: {r} ({:?})", s.conditions);
                dump(&format!("refused-{seed}"), &s.frame);
            }
        }
    }
    eprintln!("card_front: {right} right, {wrong} wrong, {refused} refused of {n}");
    let median = |f: fn(&StageTimes) -> f64| {
        let mut v: Vec<f64> = stages.iter().map(f).collect();
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(0.0)
    };
    eprintln!(
        "median ms (this build's profile): locate {:.1}, rectify {:.1}, read {:.1}",
        median(|t| t.locate_ms),
        median(|t| t.rectify_ms),
        median(|t| t.read_ms)
    );
    assert_eq!(wrong, 0, "confident wrong 照合番号B");
    // At least 98% exact, on the full spec §5 mix (small cards with blur
    // σ 1.5, 6 px motion, glare, 30% exposure, JPEG 40). This reader reads
    // 297 of the default 300 frames (986 of seeds 0..1000) with no wrong
    // read, and refuses the rest.
    assert!(right * 100 >= n * 98, "only {right} of {n} read");
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
/// second one: each was refused as "not found" before it.
#[test]
fn a_field_not_found_gets_a_sharpened_second_look() {
    let Some(kit) = kit() else {
        return;
    };
    let (right, wrong) = read_seeds(kit, &[98, 168, 179, 275, 535, 614, 800, 932]);
    assert_eq!(wrong, 0);
    assert!(right >= 6, "{right} of 8 read");
}

/// Small cards under heavy blur whose で, 有 or 効 fell out of the glyphs'
/// shortlists, so that no look found the expiry or birth line: the last
/// look compares each glyph with the classes its grammar slot asks for.
/// Each was refused as "not found" before it.
#[test]
fn a_field_whose_anchors_left_the_shortlist_gets_a_thorough_look() {
    let Some(kit) = kit() else {
        return;
    };
    let (right, wrong) = read_seeds(kit, &[140, 276, 347, 512, 598, 985]);
    assert_eq!(wrong, 0);
    assert!(right >= 5, "{right} of 6 read");
}

/// Small cards smeared by motion, whose code digits (a 0 or an 8 between
/// two others) fitted no drawing well alone: each neighbour's smear ran
/// into the digit's window. Drawn between their neighbours, they are
/// read. Each was refused as "code not sure" before it.
#[test]
fn a_code_digit_is_drawn_between_its_neighbours() {
    let Some(kit) = kit() else {
        return;
    };
    let (right, wrong) = read_seeds(kit, &[120, 329, 452, 543, 632, 702, 824, 983]);
    assert_eq!(wrong, 0);
    assert!(right >= 7, "{right} of 8 read");
}

/// Frames where the ink threshold shortened a faint digit (a 0 measured a
/// fifth shorter than the 3 beside it): drawn at the line's digit height,
/// it fits. Each was refused before it.
#[test]
fn a_digit_is_drawn_at_its_lines_digit_height() {
    let Some(kit) = kit() else {
        return;
    };
    let (right, wrong) = read_seeds(kit, &[61, 105, 208, 501]);
    assert_eq!(wrong, 0);
    assert!(right >= 3, "{right} of 4 read");
}

/// IPA Gothic cards whose date lines cost a hair less in BIZ UD Gothic:
/// the code, read in the wrong font, was not sure. The date digits drawn
/// in each candidate font fit IPA Gothic's (or its twin's) best. Each was
/// refused before it.
#[test]
fn the_font_the_date_digits_fit_best_is_the_cards() {
    let Some(kit) = kit() else {
        return;
    };
    let (right, wrong) = read_seeds(kit, &[25, 189, 670, 855, 882]);
    assert_eq!(wrong, 0);
    assert!(right >= 4, "{right} of 5 read");
}

/// Small cards smeared by motion, whose code digits run together and were
/// cut at the wrong columns (a 6506 read as 6516, an 8249 and a 6223
/// unsure): read again on four cells of one pitch, with every digit drawn.
/// Each was refused as "code not sure" before it.
#[test]
fn a_code_run_together_is_read_on_cells_of_one_pitch() {
    let Some(kit) = kit() else {
        return;
    };
    let (right, wrong) = read_seeds(kit, &[754, 987, 1_000_053]);
    assert_eq!(wrong, 0);
    assert!(right >= 2, "{right} of 3 read");
}

/// Fonts that draw the card's characters alike are one drawing: Takao
/// Gothic is IPA Gothic under another name; BIZ UD Gothic is not.
#[test]
fn twin_fonts_are_found() {
    let Some(kit) = kit() else {
        return;
    };
    let names: Vec<String> = fonts::load(&[]).into_iter().map(|(n, _)| n).collect();
    let at = |name: &str| {
        names
            .iter()
            .position(|n| n == name)
            .and_then(|i| u8::try_from(i).ok())
    };
    let model = &kit.reader.model;
    let (Some(takao), Some(ipag), Some(biz)) =
        (at("TakaoGothic"), at("ipag"), at("BIZUDGothic-Regular"))
    else {
        eprintln!("twin test skipped: TakaoGothic, IPA Gothic or BIZ UD Gothic missing");
        return;
    };
    assert_eq!(model.twin(takao), model.twin(ipag));
    assert_eq!(model.twin(biz), biz);
    assert_ne!(model.twin(ipag), biz);
}

/// A class the prototype stage left out is compared when a slot asks for
/// it, at the distance a full comparison gives, and the classes already
/// compared keep theirs.
#[test]
fn a_class_left_out_of_the_shortlist_is_compared_when_asked_for() {
    let Some(kit) = kit() else {
        return;
    };
    let model = &kit.reader.model;
    let face = model.face(0).expect("a trained font");
    let (m, coverage) = face.rasterize('8', 40.0);
    let px: Vec<f32> = coverage.iter().map(|&v| f32::from(v) / 255.0).collect();
    let features = || {
        let ink = glyph::Ink {
            w: m.width,
            h: m.height,
            px: &px,
        };
        glyph::features(&ink, m.height as f32 * 1.4).expect("ink")
    };
    let de = usize::from(glyph::class_index('で').expect("a class"));
    let mut asked = model.scores(features(), None);
    assert!(
        asked.dist(de).is_infinite(),
        "で is not among an 8's near classes"
    );
    let eight = asked.dist(8);
    model.compare(&mut asked, &[de as u8]);
    let all: Vec<u8> = (0..glyph::NCLASS as u8).collect();
    let mut full = model.scores(features(), None);
    model.compare(&mut full, &all);
    assert!(asked.dist(de).is_finite());
    assert_eq!(asked.dist(de), full.dist(de));
    assert_eq!(asked.dist(8), eight);
    assert_eq!(full.dist(8), eight);
}

/// Exact and wrong reads of the generator's frames of these seeds.
fn read_seeds(kit: &Kit, seeds: &[u64]) -> (usize, usize) {
    let (mut right, mut wrong) = (0, 0);
    for &seed in seeds {
        let sample = synth::sample(seed, &kit.fonts).expect("a sample");
        match kit.reader.read(&frame(&sample.frame)) {
            Ok(read) if b_of(&read) == sample.spec.collation_b() => right += 1,
            Ok(_) => wrong += 1,
            Err(_) => {}
        }
    }
    (right, wrong)
}

/// Frames of the generator whose birth or expiry line is not sure enough
/// against every font and is read surely in the card's font alone (each
/// was refused as "not sure" or "not plausible" without that second read).
#[test]
fn a_date_line_in_doubt_is_read_again_in_the_cards_font() {
    let Some(kit) = kit() else {
        return;
    };
    let seeds = [3, 26, 150, 202, 242, 369, 446, 661, 701, 722, 800];
    let (right, wrong) = read_seeds(kit, &seeds);
    assert_eq!(wrong, 0);
    assert!(right >= 9, "{right} of {} read", seeds.len());
}

/// Frames whose date lines leave two fonts near each other (a wrong font
/// chosen by the dates alone read the code unsurely, at 0.02 and 0.03):
/// the code read in each candidate font, the font that explains all
/// three lines decides.
#[test]
fn the_code_is_read_in_every_font_the_date_lines_leave_in_doubt() {
    let Some(kit) = kit() else {
        return;
    };
    assert_eq!(read_seeds(kit, &[54, 933]), (2, 0));
}

/// Small cards under blur whose expiry year runs its digits together so
/// that the line is found neither plain nor sharpened: the last look, with
/// narrower cuts, reads them.
#[test]
fn a_field_not_found_gets_a_last_look_with_narrower_cuts() {
    let Some(kit) = kit() else {
        return;
    };
    assert_eq!(read_seeds(kit, &[597, 787]), (2, 0));
}

/// Frames of the generator (small cards under blur, motion smear) whose
/// code or date digits the classifier was not sure of: drawn in the card's
/// font, blurred and smeared like the band, one digit fits and its rivals
/// do not. Each was refused ("not sure") without the drawing.
#[test]
fn a_digit_in_doubt_is_judged_by_its_drawing_in_the_cards_font() {
    let Some(kit) = kit() else {
        return;
    };
    let seeds = [52, 61, 66, 73, 147, 184, 228, 244, 247, 278];
    let (right, wrong) = read_seeds(kit, &seeds);
    assert_eq!(wrong, 0);
    assert!(right >= 8, "{right} of {} read", seeds.len());
}

#[test]
fn sharpening_steepens_an_edge_and_leaves_flat_ground() {
    // A blurred step: 50 → 200 over four columns.
    let row = [50.0, 50.0, 50.0, 87.5, 125.0, 162.5, 200.0, 200.0, 200.0];
    let band = geom::Band {
        w: row.len(),
        h: 3,
        px: Zeroizing::new(row.iter().chain(&row).chain(&row).copied().collect()),
    };
    let sharp = geom::sharpen(&band, 2.0);
    let at = |x: usize| sharp.px[row.len() + x];
    // Flat ground stays; the edge overshoots on both sides of the ramp.
    assert_eq!(at(0), 50.0);
    assert_eq!(at(8), 200.0);
    assert!(at(2) < 50.0 && at(6) > 200.0, "{:?}", &sharp.px[9..18]);
    // The middle of a straight ramp has no curvature: unchanged.
    assert!((at(4) - 125.0).abs() < 1e-3);
}

/// Templates without one font, frames drawn in that font only: the reader
/// meets a typeface it was not trained on (the real card's face is not a
/// font we ship). `CARDFRONT_LOFO_ALL` leaves out each font in turn,
/// `CARDFRONT_LOFO_FONT=NAME` that one.
#[test]
fn an_unseen_font_gives_no_wrong_read() {
    if kit().is_none() {
        return;
    }
    let files = fonts::load(&[]);
    let n: u64 = std::env::var("CARDFRONT_LOFO_FRAMES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24);
    let only = std::env::var("CARDFRONT_LOFO_FONT").ok();
    let left_out: Vec<usize> = if std::env::var_os("CARDFRONT_LOFO_ALL").is_some() {
        (0..files.len()).collect()
    } else if let Some(only) = only {
        files
            .iter()
            .enumerate()
            .filter(|(_, (name, _))| *name == only)
            .map(|(i, _)| i)
            .collect()
    } else {
        // The hardest face to do without: BIZ UD Mincho (its nearest kin,
        // IPA Mincho, is the only other mincho), so the default run trains
        // one model, not six.
        files
            .iter()
            .enumerate()
            .filter(|(_, (name, _))| name == "BIZUDMincho-Regular")
            .map(|(i, _)| i)
            .collect()
    };
    for f in left_out {
        let bytes: Vec<Vec<u8>> = files
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != f)
            .map(|(_, (_, b))| b.clone())
            .collect();
        // Every read is taken, and the threshold applied here: a wrong
        // read under it is a refusal, but how close it came to the
        // threshold is the margin the threshold keeps in this typeface.
        let threshold = CardFrontSettings::default().min_confidence;
        let settings = CardFrontSettings {
            min_confidence: 0.0,
            ..CardFrontSettings::default()
        };
        let reader = CardFrontReader::new(GlyphModel::train(&bytes), settings);
        let font = synth::parse_fonts(&files[f..=f]);
        let (mut right, mut wrong) = (0u64, 0u64);
        let mut closest: Option<f32> = None;
        for seed in 0..n {
            let s = synth::sample(50_000 + seed, &font).expect("font");
            match reader.read(&frame(&s.frame)) {
                Ok(read) if read.confidence() < threshold => {
                    if b_of(&read) != s.spec.collation_b() {
                        closest =
                            Some(closest.map_or(read.confidence(), |c| c.max(read.confidence())));
                    }
                }
                Ok(read) if b_of(&read) == s.spec.collation_b() => right += 1,
                Ok(read) => {
                    wrong += 1;
                    eprintln!(
                        "{} seed {seed}: WRONG at {:.2}",
                        files[f].0,
                        read.confidence()
                    );
                    if std::env::var_os("CARDFRONT_DEBUG").is_some() {
                        // A generated card's digits, to see which field.
                        eprintln!("  read {} printed {}", b_of(&read), s.spec.collation_b());
                    }
                    dump(&format!("lofo-wrong-{}-{seed}", files[f].0), &s.frame);
                }
                Err(_) => {}
            }
        }
        eprintln!(
            "without {}: {right} right, {wrong} wrong, {} refused of {n}; most confident wrong read under the threshold: {}",
            files[f].0,
            n - right - wrong,
            closest.map_or("none".to_owned(), |c| format!("{c:.2}"))
        );
        assert_eq!(wrong, 0, "a confident wrong read in an unseen font");
        assert!(right * 100 >= n * LOFO_FLOOR, "only {right} of {n} read");
    }
}

/// Least exact share (percent) in an unseen font: VL Gothic, whose digits
/// are unlike the other five faces', is read on about a quarter of its
/// frames when left out and refused on the rest.
const LOFO_FLOOR: u64 = 20;

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
