//! The card front (券面) read by the card camera: find the My Number Card in
//! a frame, rectify it, read the birth date, the expiry year and the security
//! code, and compose 照合番号B — or refuse, with a reason and a hint for the
//! patient. Sans-IO: frames and font bytes come in, a read or a refusal goes
//! out (the one exception, [`fonts`], only lists and reads font files for the
//! CLI, the tests and the bench).
//!
//! Owns: localisation and rectification ([`geom`]), the glyph classifier
//! ([`glyph`], with the digit discriminant [`digits`] and, for digits in
//! doubt, the drawing of each candidate in the card's font, `render`) and
//! the field grammar and plausibility checks ([`fields`]).
//! The frames its tests and bench read come from the `card-front-synth`
//! crate, which the reader simulator's card camera shares. See
//! `shared/spec/card-front.md`.
//!
//! Why a classical pipeline: the three fields sit at known places on a card
//! whose outline is easy to find, and their alphabet is ~30 glyphs; a nearest
//! template classifier trained at start-up from the Japanese fonts on the
//! machine needs no weights to license, runs in milliseconds on two cores,
//! and its margins give an honest per-character confidence — which matters
//! more than raw accuracy, because every wrong 照合番号B spends a card try.
//! Digits, where templates of different fonts crowd each other under blur,
//! are decided by a linear discriminant trained from the same templates
//! ([`digits`]), and the security code — which no grammar checks — is read
//! against the font the birth and expiry lines were printed in.

//! The card front (券面) read by the card camera: find the My Number Card in
//! a frame, rectify it, read the birth date, the expiry year and the security
//! code, and compose 照合番号B — or refuse, with a reason and a hint for the
//! patient. Sans-IO: frames come in, a read or a refusal goes out; the text
//! models are loaded once, from files checked against the manifest.
//!
//! Owns: localisation, rectification and orientation ([`geom`]), the text
//! models ([`ocr`]: PP-OCRv5's detector and line recogniser on tract) and
//! the field grammar and plausibility checks ([`fields`]). The frames its
//! tests and bench read come from the `card-front-synth` crate, which the
//! reader simulator's card camera shares; [`fonts`] finds the fonts that
//! crate draws with. See `shared/spec/card-front.md`.
//!
//! Why a pre-trained text model: a reader that learned its glyphs from our
//! own renderer read our renderer (99 of 100 of our frames, 37 of 120 made
//! independently). The card's geometry stays ours — the outline is easy to
//! find, the photo tells which way up it lies, and the three fields sit in
//! two regions — so the detector runs on those two regions of the rectified
//! card only, and the recogniser on the lines there that can be a field.
//! Its per-character probabilities give each field's confidence, which
//! matters more than raw accuracy: every wrong 照合番号B spends a card try.

pub mod fields;
pub mod fonts;
pub mod geom;
pub mod ocr;

use std::path::Path;

use zeroize::Zeroizing;

use myna_card::secret::CollationNumberB;
use myna_face::image::RgbFrame;
use myna_face::models::ModelError;

pub use fields::{Era, EraDate};
pub use ocr::TextModels;

/// How the reader decides; the spec's [unconfirmed] facts are settings here,
/// not guesses in the code.
#[derive(Debug, Clone)]
pub struct CardFrontSettings {
    /// Minimum confidence of the birth and expiry fields to release a read
    /// (their grammar and the month and day printed on both check them).
    pub min_confidence: f32,
    /// Minimum confidence of the security code, which nothing else on the
    /// card checks (tuned so that the generated test frames give no wrong
    /// read).
    pub min_code_confidence: f32,
    /// Expiry years a card can carry (spec §4: 2016–2040).
    pub expiry_years: (u16, u16),
    /// For an era birth date, expiry month/day must equal the birth's
    /// (spec §1: confirmed for Japanese nationals); a mismatch caps confidence.
    pub expiry_matches_birth: bool,
    /// Foreign residents' Western birth date: how to form YYMMDD. The rule is
    /// [unconfirmed] (spec §4), so by default such cards are refused.
    pub western_birth: WesternBirthRule,
    /// Field regions as fractions of the card (x0, y0, x1, y1) —
    /// [unconfirmed] layout, searched generously and anchored by content.
    pub layout: Layout,
}

/// Regions of the upright card, fractions (x0, y0, x1, y1). The detector
/// runs on the first two; a line is a field by what it reads, never by
/// where it lies within them.
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    /// Where the 「…生」 and 「…まで有効」 lines are looked for.
    pub dates: [f32; 4],
    /// Where the 4-digit security code is looked for.
    pub security_code: [f32; 4],
    /// The photo, which tells which way up the card lies.
    pub photo: [f32; 4],
}

impl Default for Layout {
    fn default() -> Self {
        // Spec §2 puts the birth line at y 0.49–0.58 and the expiry at
        // 0.60–0.69, x up to 0.48, the code at x 0.80–0.962, y 0.70–0.78:
        // each region is that with a margin for printers' shifts and the
        // card outline's error.
        Layout {
            dates: [0.0, 0.42, 0.60, 0.76],
            security_code: [0.66, 0.64, 1.0, 0.86],
            photo: [0.705, 0.115, 0.962, 0.625],
        }
    }
}

/// How a Western-calendar birth date becomes YYMMDD.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WesternBirthRule {
    /// Refuse: the rule is not confirmed on a real card.
    Refuse,
    /// The last two digits of the year, as for the older 住基カード.
    LastTwoDigits,
}

impl Default for CardFrontSettings {
    fn default() -> Self {
        CardFrontSettings {
            // On seeds 0..400 with no threshold: 370 right, 1 wrong — a
            // code 5954 read 6954 by two looks (0.81 and 0.97; the less
            // sure counts), its birth field at 0.78. Dates at 0.5 and the
            // code at 0.85: 352 right, none wrong; at 0.9: 345.
            min_confidence: 0.5,
            min_code_confidence: 0.85,
            expiry_years: (2016, 2040),
            expiry_matches_birth: true,
            western_birth: WesternBirthRule::Refuse,
            layout: Layout::default(),
        }
    }
}

/// Why a frame gave no 照合番号B. Each reason has a patient hint.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Refusal {
    /// No card-shaped bright quadrilateral in the frame.
    #[error("no card in the frame")]
    NoCard,
    /// More than one card in the frame.
    #[error("more than one card in the frame")]
    SeveralCards,
    /// No photo on either side: the back, or not a My Number Card front.
    #[error("the card's photo side is not visible (back side up?)")]
    NoPhoto,
    /// A field was not found where its anchors should be.
    #[error("the {0} was not found on the card")]
    FieldMissing(FieldKind),
    /// The fields were read but do not form a possible card.
    #[error("the {0} read is not plausible")]
    Implausible(FieldKind),
    /// A Western birth date, and [`WesternBirthRule::Refuse`].
    #[error("a Western-calendar birth date (rule unconfirmed)")]
    WesternBirth,
    /// Everything was found but not surely enough: the least sure field
    /// and its confidence.
    #[error("the {0} read is not sure enough (confidence {1:.2})")]
    LowConfidence(FieldKind, f32),
    /// The frame is not an image of a usable size.
    #[error("the frame is too small or malformed")]
    BadFrame,
    /// A text model failed to run (a fault of the reader, never of the
    /// card: the patient is asked to place it again, staff see the code).
    #[error("the text model failed")]
    ModelFailed,
}

impl Refusal {
    fn model(e: ModelError) -> Refusal {
        tracing::error!(event = "CF_MODEL_FAILED", error = %e, "card-front text model failed");
        Refusal::ModelFailed
    }
}

/// What the patient is asked to do after a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatientHint {
    /// 置き直してください: place the card again, flat, in view.
    PlaceAgain,
    /// カードの向き: turn the card over, photo side up.
    TurnOver,
    /// Only one card at a time.
    OneCard,
}

impl PatientHint {
    /// The words shown to the patient (Japanese first).
    pub const fn text_ja(self) -> &'static str {
        match self {
            PatientHint::PlaceAgain => "カードを置き直してください",
            PatientHint::TurnOver => "カードの向きを確認してください（顔写真のある面を上に）",
            PatientHint::OneCard => "カードは1枚だけ置いてください",
        }
    }
}

impl Refusal {
    /// The hint for the patient.
    pub fn hint(&self) -> PatientHint {
        match self {
            Refusal::NoPhoto | Refusal::WesternBirth => PatientHint::TurnOver,
            Refusal::SeveralCards => PatientHint::OneCard,
            _ => PatientHint::PlaceAgain,
        }
    }

    /// A stable event code for logs (never the digits).
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::NoCard => "CF_NO_CARD",
            Refusal::SeveralCards => "CF_SEVERAL_CARDS",
            Refusal::NoPhoto => "CF_NO_PHOTO",
            Refusal::FieldMissing(_) => "CF_FIELD_MISSING",
            Refusal::Implausible(_) => "CF_IMPLAUSIBLE",
            Refusal::WesternBirth => "CF_WESTERN_BIRTH",
            Refusal::LowConfidence(..) => "CF_LOW_CONFIDENCE",
            Refusal::BadFrame => "CF_BAD_FRAME",
            Refusal::ModelFailed => "CF_MODEL_FAILED",
        }
    }
}

/// The fields of 照合番号B.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// 生年月日.
    Birth,
    /// 有効期限.
    Expiry,
    /// セキュリティコード.
    SecurityCode,
}

impl std::fmt::Display for FieldKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FieldKind::Birth => "birth date",
            FieldKind::Expiry => "expiry date",
            FieldKind::SecurityCode => "security code",
        })
    }
}

/// A confident read. Holds the digits in zeroizing storage and has no
/// `Debug`: only [`FrontRead::collation_b`] and the accessors reach them.
pub struct FrontRead {
    birth: EraDate,
    expiry: (u16, u8, u8),
    code: Zeroizing<[u8; 4]>,
    confidence: [f32; 3],
    upside_down: bool,
}

impl Drop for FrontRead {
    fn drop(&mut self) {
        use zeroize::Zeroize as _;
        self.birth.year.zeroize();
        self.birth.month.zeroize();
        self.birth.day.zeroize();
        self.expiry.0.zeroize();
        self.expiry.1.zeroize();
        self.expiry.2.zeroize();
    }
}

impl FrontRead {
    /// 照合番号B: era YYMMDD + expiry year + security code.
    pub fn collation_b(&self) -> CollationNumberB {
        let text = self.collation_b_text();
        // Digits only by construction; a failure here is a bug, not input.
        match CollationNumberB::new(&text) {
            Ok(b) => b,
            Err(_) => unreachable!("composed from digits"),
        }
    }

    /// 照合番号B's 14 ASCII digits, for printing by the technician's
    /// command (zeroizing).
    pub fn collation_b_bytes(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(self.collation_b_text().as_bytes().to_vec())
    }

    fn collation_b_text(&self) -> Zeroizing<String> {
        let mut text = Zeroizing::new(String::with_capacity(14));
        let yy = self.birth.yymmdd_year();
        text.push_str(&format!(
            "{:02}{:02}{:02}{:04}",
            yy, self.birth.month, self.birth.day, self.expiry.0
        ));
        for d in self.code.iter() {
            text.push(char::from(*d));
        }
        text
    }

    /// The birth date as printed.
    pub fn birth(&self) -> EraDate {
        self.birth
    }
    /// The card expiry year (Western).
    pub fn expiry_year(&self) -> u16 {
        self.expiry.0
    }
    /// The 4-digit security code, as ASCII digits (wiped with the read).
    pub fn security_code(&self) -> &[u8; 4] {
        &self.code
    }
    /// Confidence of the birth, expiry and security-code fields (0..1).
    pub fn field_confidence(&self) -> [f32; 3] {
        self.confidence
    }
    /// The least field confidence.
    pub fn confidence(&self) -> f32 {
        self.confidence.iter().copied().fold(1.0, f32::min)
    }
    /// Whether the card lay upside down.
    pub fn upside_down(&self) -> bool {
        self.upside_down
    }
}

/// Time spent per stage, milliseconds (for the bench and the CLI).
#[derive(Debug, Clone, Copy, Default)]
pub struct StageTimes {
    /// Finding the card's outline.
    pub locate_ms: f64,
    /// The orientation check and sampling the two regions.
    pub rectify_ms: f64,
    /// The text detector on both regions.
    pub detect_ms: f64,
    /// The line recogniser on the candidate lines, and the grammars.
    pub recognise_ms: f64,
    /// Lines recognised.
    pub lines: usize,
}

/// The detector's resolution: the upright card this many pixels wide
/// (ID-1's aspect), so the birth line's characters are about 16 px high.
/// At 640 and 512 it read no more of 100 generated frames (90, 90; 91 at
/// 416) and took 46 and 28 ms against 18.
const DET_CARD_W: f32 = 416.0;
/// Longest line given to the recogniser, in its input pixels (the longest
/// field line, with 性別 beside it, is about 700).
const MAX_LINE_W: usize = 1280;
/// A date row is at least this many times as wide as it is high
/// (「平成元年1月8日生」 with its margins is about 6); shorter rows — a lone
/// word — are not recognised.
const MIN_DATE_ASPECT: f32 = 4.0;
/// A line of the date region lower than this share of its tallest line is
/// smaller print than the date lines (spec §2: the 追記欄 at 0.038 of the
/// card's height, the certificate box at 0.030–0.034, the dates at
/// 0.058–0.060); the margin allows for a date line joined with 性別 or the
/// issuer, whose box is up to a third taller than the other's.
const MIN_DATE_HEIGHT: f32 = 0.55;
/// See [`rows`].
const ROW_OVERLAP: f32 = 0.6;
/// How a line is given to the recogniser: its box this much taller,
/// centred, and narrowed by `squeeze`.
#[derive(Debug, Clone, Copy)]
struct Look {
    margin: f32,
    squeeze: f32,
}

/// The looks at the candidate lines, the next taken only while a field is
/// missing or unsure. PP-OCRv5 is sensitive to the scale of a line: it
/// dropped characters (「年 4月30日」 read 「年430」 at 1.00) where the
/// print filled the 48 pixels at its own width, and read right with a
/// margin, narrowed (it learnt from lines squeezed into 320 pixels). On
/// 100 generated frames one look read 89 with (1.25, 0.8), 87 with
/// (1.25, 1.0), 86 with (1.25, 0.65), 84 with (1.4, 0.8), 81 with
/// (1.5, 0.8), and each read some the others did not. The first is at 0.7,
/// as accurate and an eighth faster; the fourth and fifth looks took seeds
/// 0..200 from 170 to 174 read, none wrong.
const LOOKS: &[Look] = &[
    Look {
        margin: 1.25,
        squeeze: 0.7,
    },
    Look {
        margin: 1.5,
        squeeze: 0.8,
    },
    Look {
        margin: 1.25,
        squeeze: 0.65,
    },
    Look {
        margin: 1.1,
        squeeze: 0.8,
    },
    Look {
        margin: 1.25,
        squeeze: 0.95,
    },
];
/// The code's box with its margins: four digits are about 2.6 heights
/// wide; the serial (16 characters) about 9.
const CODE_ASPECT: (f32, f32) = (1.2, 5.0);

/// The reader: the text models and settings.
pub struct CardFrontReader {
    models: TextModels,
    settings: CardFrontSettings,
    /// Threads the detector's regions and the lines are spread over.
    workers: usize,
}

/// Errors loading the reader.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A text model is missing, not the manifest's, or does not load.
    #[error(transparent)]
    Model(#[from] ModelError),
}

/// One region of the card at the detector's resolution.
struct Region {
    /// Card units (canonical, [`geom::CARD_W`] wide) of the canvas's top-left.
    origin: (f32, f32),
    /// Detector pixels per card unit.
    scale: f32,
    /// The canvas size, multiples of 32.
    size: (usize, usize),
}

impl Region {
    fn of(r: &[f32; 4]) -> Region {
        let scale = DET_CARD_W / geom::CARD_W;
        let size = |extent: f32| ((extent * scale / 32.0).ceil() as usize).max(1) * 32;
        Region {
            origin: (r[0] * geom::CARD_W, r[1] * geom::CARD_H),
            scale,
            size: (
                size((r[2] - r[0]) * geom::CARD_W),
                size((r[3] - r[1]) * geom::CARD_H),
            ),
        }
    }
}

/// A line box in card units.
#[derive(Debug, Clone, Copy)]
struct CardBox {
    x0: f32,
    y0: f32,
    x1: f32,
    y1: f32,
}

impl CardBox {
    fn height(&self) -> f32 {
        self.y1 - self.y0
    }
    fn width(&self) -> f32 {
        self.x1 - self.x0
    }
}

/// A row of the card: the detector's pieces that lie on one line, left
/// to right. The detector cuts a line at its wide gaps (a padded number,
/// 性別 or the issuer beside a date), and each piece is recognised alone:
/// PP-OCRv5 dropped characters around a wide gap inside one crop. The
/// grammar reads the row's pieces joined.
#[derive(Debug, Clone)]
struct Row {
    pieces: Vec<CardBox>,
}

impl Row {
    fn bounds(&self) -> CardBox {
        self.pieces.iter().fold(
            CardBox {
                x0: f32::MAX,
                y0: f32::MAX,
                x1: f32::MIN,
                y1: f32::MIN,
            },
            |a, b| CardBox {
                x0: a.x0.min(b.x0),
                y0: a.y0.min(b.y0),
                x1: a.x1.max(b.x1),
                y1: a.y1.max(b.y1),
            },
        )
    }
}

/// Groups boxes into rows: a box joins a row when it overlaps the row's
/// height by more than [`ROW_OVERLAP`] of the lower of the two.
fn rows(mut boxes: Vec<CardBox>) -> Vec<Row> {
    boxes.sort_by(|a, b| a.x0.total_cmp(&b.x0));
    let mut out: Vec<Row> = Vec::new();
    for b in boxes {
        let row = out.iter_mut().find(|r| {
            let a = r.bounds();
            let overlap = a.y1.min(b.y1) - a.y0.max(b.y0);
            overlap > ROW_OVERLAP * a.height().min(b.height())
        });
        match row {
            Some(r) => r.pieces.push(b),
            None => out.push(Row { pieces: vec![b] }),
        }
    }
    out
}

impl CardFrontReader {
    /// Loads the text models from `dir` (checked against the manifest);
    /// a read runs on `threads` threads (the two regions, then the lines,
    /// spread over them; each model run on one thread, which on two cores
    /// beat tract's own thread pool).
    pub fn load(
        dir: &Path,
        settings: CardFrontSettings,
        threads: usize,
    ) -> Result<CardFrontReader, LoadError> {
        let l = &settings.layout;
        let shapes = [Region::of(&l.dates).size, Region::of(&l.security_code).size];
        let models = TextModels::load(dir, &shapes)?;
        Ok(CardFrontReader {
            models,
            settings,
            workers: threads.max(1),
        })
    }

    /// The settings in use.
    pub fn settings(&self) -> &CardFrontSettings {
        &self.settings
    }

    /// Reads 照合番号B's fields from a camera frame.
    pub fn read(&self, frame: &RgbFrame) -> Result<FrontRead, Refusal> {
        self.read_timed(frame, &mut StageTimes::default())
    }

    /// [`Self::read`], recording how long each stage took.
    pub fn read_timed(
        &self,
        frame: &RgbFrame,
        times: &mut StageTimes,
    ) -> Result<FrontRead, Refusal> {
        let result = self.read_inner(frame, times);
        match &result {
            Ok(read) => tracing::debug!(
                event = "CF_READ",
                confidence = read.confidence(),
                "card front read"
            ),
            Err(refusal) => tracing::info!(event = refusal.code(), "card front refused"),
        }
        result
    }

    /// `f` on both items, the second on a scoped thread.
    fn parallel<T: Sync, R: Send>(&self, items: &[T; 2], f: impl Fn(&T) -> R + Sync) -> [R; 2] {
        if self.workers < 2 {
            return [f(&items[0]), f(&items[1])];
        }
        std::thread::scope(|scope| {
            let second = scope.spawn(|| f(&items[1]));
            let first = f(&items[0]);
            // A worker that panicked is a bug: run its item here again
            // rather than lose it.
            let second = second.join().unwrap_or_else(|_| f(&items[1]));
            [first, second]
        })
    }

    /// `f` on every item, in order, spread over the workers by `cost`
    /// (the costliest first, each to the least loaded worker).
    fn spread<T: Sync, R: Send>(
        &self,
        items: &[T],
        cost: impl Fn(&T) -> f32,
        f: impl Fn(&T) -> R + Sync,
    ) -> Vec<R> {
        let workers = self.workers.clamp(1, items.len().max(1));
        let mut order: Vec<usize> = (0..items.len()).collect();
        order.sort_by(|&a, &b| cost(&items[b]).total_cmp(&cost(&items[a])));
        let mut shares: Vec<(f32, Vec<usize>)> = vec![(0.0, Vec::new()); workers];
        for i in order {
            if let Some(least) = shares.iter_mut().min_by(|a, b| a.0.total_cmp(&b.0)) {
                least.0 += cost(&items[i]);
                least.1.push(i);
            }
        }
        let run = |share: &Vec<usize>| -> Vec<(usize, R)> {
            share.iter().map(|&i| (i, f(&items[i]))).collect()
        };
        let mut done: Vec<(usize, R)> = std::thread::scope(|scope| {
            let handles: Vec<_> = shares[1..]
                .iter()
                .map(|(_, share)| (share, scope.spawn(|| run(share))))
                .collect();
            let mut done = run(&shares[0].1);
            for (share, handle) in handles {
                done.extend(handle.join().unwrap_or_else(|_| run(share)));
            }
            done
        });
        done.sort_by_key(|(i, _)| *i);
        done.into_iter().map(|(_, r)| r).collect()
    }

    fn read_inner(&self, frame: &RgbFrame, times: &mut StageTimes) -> Result<FrontRead, Refusal> {
        let t0 = std::time::Instant::now();
        let luma = geom::Luma::from_frame(frame).ok_or(Refusal::BadFrame)?;
        let quad = geom::locate_card(&luma)?;
        times.locate_ms = t0.elapsed().as_secs_f64() * 1e3;
        let t1 = std::time::Instant::now();
        let card = geom::Rectifier::new(&luma, &quad).ok_or(Refusal::NoCard)?;
        let upside_down = card.upside_down(&self.settings.layout.photo)?;
        let card = card.oriented(upside_down);
        let l = &self.settings.layout;
        let regions = [Region::of(&l.dates), Region::of(&l.security_code)];
        let planes = regions.each_ref().map(|r| {
            let (w, h) = r.size;
            ocr::Planes::from_fn(w, h, ocr::Norm::Detector, |x, y| {
                let u = r.origin.0 + (x as f32 + 0.5) / r.scale;
                let v = r.origin.1 + (y as f32 + 0.5) / r.scale;
                card.rgb(frame, u, v)
            })
        });
        times.rectify_ms = t1.elapsed().as_secs_f64() * 1e3;
        let t2 = std::time::Instant::now();
        // The two regions on two threads (a kiosk has at least two cores;
        // tract runs each model on one).
        let [dates_found, codes_found] = self.parallel(&planes, |p| self.models.detect(p));
        let found = [
            dates_found.map_err(Refusal::model)?,
            codes_found.map_err(Refusal::model)?,
        ];
        let mut lines: [Vec<Row>; 2] = [Vec::new(), Vec::new()];
        for ((r, boxes), out) in regions.iter().zip(&found).zip(lines.iter_mut()) {
            *out = rows(
                boxes
                    .iter()
                    .map(|b| CardBox {
                        x0: r.origin.0 + b.x0 / r.scale,
                        y0: r.origin.1 + b.y0 / r.scale,
                        x1: r.origin.0 + b.x1 / r.scale,
                        y1: r.origin.1 + b.y1 / r.scale,
                    })
                    .collect(),
            );
        }
        drop(planes);
        #[cfg(test)]
        if std::env::var_os("CARDFRONT_DEBUG").is_some() {
            eprintln!(" boxes {lines:?}");
        }
        let [dates, codes] = lines;
        let dates: Vec<Row> = dates
            .into_iter()
            .filter(|r| {
                let b = r.bounds();
                b.width() >= MIN_DATE_ASPECT * b.height()
            })
            .collect();
        // The birth and expiry lines are the region's largest print; the
        // 追記欄 and the certificate box's label and dates are smaller.
        let tallest = dates
            .iter()
            .map(|r| r.bounds().height())
            .fold(0.0, f32::max);
        let dates: Vec<Row> = dates
            .into_iter()
            .filter(|r| r.bounds().height() >= MIN_DATE_HEIGHT * tallest)
            .collect();
        let codes: Vec<Row> = codes
            .into_iter()
            .filter(|r| {
                let b = r.bounds();
                let aspect = b.width() / b.height().max(1.0);
                (CODE_ASPECT.0..=CODE_ASPECT.1).contains(&aspect)
            })
            .collect();
        times.detect_ms = t2.elapsed().as_secs_f64() * 1e3;
        let t3 = std::time::Instant::now();
        let read_line = |b: &CardBox, look: &Look| {
            let grow = b.height() * (look.margin - 1.0) / 2.0;
            let b = &CardBox {
                y0: b.y0 - grow,
                y1: b.y1 + grow,
                ..*b
            };
            let s = ocr::LINE_HEIGHT as f32 / b.height().max(1.0);
            let sx = s * look.squeeze;
            let w = ((b.width() * sx).round() as usize).clamp(8, MAX_LINE_W);
            let padded = TextModels::line_width(w);
            // Padded with the normalised zero (mid grey), as PaddleOCR pads.
            let planes =
                ocr::Planes::from_fn(padded, ocr::LINE_HEIGHT, ocr::Norm::Recogniser, |x, y| {
                    if x >= w {
                        return [127.5; 3];
                    }
                    card.rgb(
                        frame,
                        b.x0 + (x as f32 + 0.5) / sx,
                        b.y0 + (y as f32 + 0.5) / s,
                    )
                });
            #[cfg(test)]
            if let Some(dir) = std::env::var_os("CARDFRONT_DUMP_LINES") {
                let img = image::RgbImage::from_fn(padded as u32, 48, |x, y| {
                    let at = y as usize * padded + x as usize;
                    let v =
                        |c: usize| ((planes.data[c * 48 * padded + at] * 0.5 + 0.5) * 255.0) as u8;
                    image::Rgb([v(2), v(1), v(0)])
                });
                let n = std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0);
                let _ = img.save(std::path::Path::new(&dir).join(format!("line-{n}.png")));
            }
            self.models.recognise(&planes).map_err(Refusal::model)
        };
        // Each look reads the candidate lines again at another scale; the
        // lines of every look so far are judged together, so two looks
        // that read a field differently leave it not found.
        let (mut date_lines, mut code_lines) = (Vec::new(), Vec::new());
        let mut result = Err(Refusal::FieldMissing(FieldKind::Birth));
        // Every row on the workers, the widest first. A row's pieces are
        // read left to right and the rest left unread once its text holds
        // a whole date line (性別 and the issuer beside the dates).
        //
        // The code, which no grammar or second line checks, is read at the
        // first two looks from the start: two reads that disagree leave it
        // not found.
        for (k, look) in LOOKS.iter().enumerate() {
            let mut jobs: Vec<(&Row, &Look, bool)> = dates
                .iter()
                .map(|r| (r, look, false))
                .chain(codes.iter().map(|r| (r, look, true)))
                .collect();
            if k == 0 {
                if let Some(second) = LOOKS.get(1) {
                    jobs.extend(codes.iter().map(|r| (r, second, true)));
                }
            }
            let texts = self.spread(
                &jobs,
                |(r, _, _)| {
                    let b = r.bounds();
                    b.width() / b.height().max(1.0)
                },
                |(r, look, _)| -> Result<ocr::LineText, Refusal> {
                    let mut text = ocr::LineText::default();
                    for piece in &r.pieces {
                        let mut read = read_line(piece, look)?;
                        text.0.append(&mut read.0);
                        if fields::holds_a_date(&text) {
                            break;
                        }
                    }
                    Ok(text)
                },
            );
            for ((_, _, is_code), text) in jobs.iter().zip(texts) {
                let text = text?;
                if *is_code {
                    code_lines.push(text);
                } else {
                    date_lines.push(text);
                }
            }
            #[cfg(test)]
            if std::env::var_os("CARDFRONT_DEBUG").is_some() {
                for l in date_lines.iter().chain(&code_lines) {
                    let p: Vec<String> = l.0.iter().map(|g| format!("{:.2}", g.p)).collect();
                    eprintln!(" line {:?} {}", l.text().as_str(), p.join(" "));
                }
            }
            result = fields::read_fields(&self.settings, &date_lines, &code_lines, upside_down);
            times.lines = date_lines.len() + code_lines.len();
            if !matches!(
                result,
                Err(Refusal::FieldMissing(_) | Refusal::LowConfidence(..))
            ) {
                break;
            }
        }
        times.recognise_ms = t3.elapsed().as_secs_f64() * 1e3;
        result
    }
}

/// Entry point for fuzzing the card-front image path: any bytes are decoded
/// as an image and, if one, taken through locating, the orientation check
/// and rectification (the text models are not loaded in a fuzz run). Not
/// API.
#[cfg(any(test, feature = "fuzz"))]
pub fn fuzz_card_front(data: &[u8]) {
    if let Ok(frame) = myna_face::image::decode(data) {
        if let Some(luma) = geom::Luma::from_frame(&frame) {
            if let Ok(quad) = geom::locate_card(&luma) {
                if let Some(card) = geom::Rectifier::new(&luma, &quad) {
                    let photo = Layout::default().photo;
                    if let Ok(upside_down) = card.upside_down(&photo) {
                        let card = card.oriented(upside_down);
                        let _ = card.rgb(&frame, 10.0, 10.0);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
