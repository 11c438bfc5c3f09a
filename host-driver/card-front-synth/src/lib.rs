//! A generator of card-camera frames for the card-front reader's tests and
//! bench (`mynareader`, as a dev-dependency) and the reader simulator's card
//! camera (`reader-sim`): a My Number Card front with random fields drawn in
//! a given font, placed in a 1280×720 frame at a random position, angle and
//! tilt (upside down too), a thumb over a corner or a field, then blurred,
//! glared, dimmed, noised and JPEG-compressed as `shared/spec/card-front.md`
//! §5 lists. Also the negatives: no card, two cards, a card without the
//! fields, the card's back side.
//!
//! Owns its own small date and homography types so that neither user has to
//! depend on the other: the reader's tests compare 照合番号B strings, never
//! types.
//!
//! Text is drawn by one of two rasterisers, fontdue or ab_glyph (different
//! coverage, hinting and rounding), chosen per card with the rest of the
//! layout's variants ([`CardLayout`]): field shifts and sizes, letter
//! spacing, a heavier stroke, ink colour, the issuer, one- or two-line
//! address, the 追記欄 and 0–2 certificate dates.

use ab_glyph::{Font as _, ScaleFont as _};
use image::{Rgb, RgbImage};
use rand::rngs::StdRng;
pub use rand::rngs::StdRng as Rng;
use rand::{Rng as _, SeedableRng};

/// Canonical card size: ID-1 at 10 px/mm (the reader rectifies to the same).
pub const CARD_W: f32 = 856.0;
/// Canonical card height.
pub const CARD_H: f32 = 540.0;

/// A Japanese era (元号), as printed on the card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Era {
    /// 明治.
    Meiji,
    /// 大正.
    Taisho,
    /// 昭和.
    Showa,
    /// 平成.
    Heisei,
    /// 令和.
    Reiwa,
}

impl Era {
    /// The era's name as printed.
    pub fn name(self) -> &'static str {
        match self {
            Era::Meiji => "明治",
            Era::Taisho => "大正",
            Era::Showa => "昭和",
            Era::Heisei => "平成",
            Era::Reiwa => "令和",
        }
    }
}

/// A birth date as printed: era, era year (1 = 元年), month, day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EraDate {
    /// The era.
    pub era: Era,
    /// Year within the era (1 for 元年).
    pub year: u16,
    /// Month.
    pub month: u8,
    /// Day.
    pub day: u8,
}

impl EraDate {
    /// The two digits 照合番号B takes: the era year (元年 = 1).
    pub fn yymmdd_year(&self) -> u16 {
        self.year % 100
    }
}

/// A homography: (u, v) → (x, y), from four point pairs.
/// A 3×3 projective map (also drawn with by `face-attack-synth`).
#[derive(Debug, Clone, Copy)]
pub struct Homography([f32; 9]);

impl Homography {
    /// The map sending the four `from` points to the `to` points (no three
    /// in line), by Gaussian elimination with partial pivoting.
    pub fn from_points(from: [(f32, f32); 4], to: [(f32, f32); 4]) -> Option<Homography> {
        let mut m = [[0f64; 9]; 8];
        for i in 0..4 {
            let (u, v) = (f64::from(from[i].0), f64::from(from[i].1));
            let (x, y) = (f64::from(to[i].0), f64::from(to[i].1));
            m[2 * i] = [u, v, 1.0, 0.0, 0.0, 0.0, -u * x, -v * x, x];
            m[2 * i + 1] = [0.0, 0.0, 0.0, u, v, 1.0, -u * y, -v * y, y];
        }
        for col in 0..8 {
            let pivot = (col..8).max_by(|&a, &b| m[a][col].abs().total_cmp(&m[b][col].abs()))?;
            if m[pivot][col].abs() < 1e-9 {
                return None;
            }
            m.swap(col, pivot);
            let pivot_row = m[col];
            for (row, r) in m.iter_mut().enumerate() {
                if row != col {
                    let f = r[col] / pivot_row[col];
                    for (a, b) in r[col..].iter_mut().zip(&pivot_row[col..]) {
                        *a -= f * b;
                    }
                }
            }
        }
        let mut h = [1f32; 9];
        for i in 0..8 {
            h[i] = (m[i][8] / m[i][i]) as f32;
        }
        Some(Homography(h))
    }

    /// Where (u, v) goes.
    pub fn map(&self, u: f32, v: f32) -> (f32, f32) {
        let h = &self.0;
        let w = h[6] * u + h[7] * v + h[8];
        (
            (h[0] * u + h[1] * v + h[2]) / w,
            (h[3] * u + h[4] * v + h[5]) / w,
        )
    }
}

/// Frame size of the card camera.
pub const FRAME: (u32, u32) = (1280, 720);

/// What the card shows.
#[derive(Clone)]
pub struct CardSpec {
    /// Birth date as printed.
    pub birth: EraDate,
    /// Expiry (Western).
    pub expiry: (u16, u8, u8),
    /// Security code digits.
    pub code: [u8; 4],
    /// Full-width digits (２０３５) instead of half-width.
    pub fullwidth: bool,
    /// Single-digit numbers padded with a space.
    pub padded: bool,
    /// Whether the 照合番号B fields are printed (false: a licence-like card).
    pub with_fields: bool,
    /// A tinted band behind the expiry.
    pub tinted_expiry: bool,
    /// An era date in the 追記欄 (a look-alike without 生).
    pub note_date: bool,
    /// How the text is drawn and laid out.
    pub layout: CardLayout,
}

/// The seed stream [`sample`] draws a card's layout from.
const LAYOUT_STREAM: u64 = 0x1a70_u64 << 48;

impl CardSpec {
    /// 照合番号B the card should give.
    pub fn collation_b(&self) -> String {
        let code: String = self.code.iter().map(|&d| char::from(b'0' + d)).collect();
        format!(
            "{:02}{:02}{:02}{:04}{}",
            self.birth.yymmdd_year(),
            self.birth.month,
            self.birth.day,
            self.expiry.0,
            code
        )
    }

    /// A random Japanese national's card: birth in 大正…令和, expiry 10
    /// years after a 2016–2025 issue (5 for minors) on the birthday.
    pub fn random(rng: &mut StdRng) -> CardSpec {
        loop {
            let y = rng.gen_range(1920..=2024u16);
            let m = rng.gen_range(1..=12u8);
            let d = rng.gen_range(1..=28u8);
            let birth = to_era(y, m, d);
            let issue = rng.gen_range(2016..=2025u16).max(y + 1);
            let expiry_year = issue + if issue - y < 20 { 5 } else { 10 };
            if expiry_year > 2040 {
                continue;
            }
            return CardSpec {
                birth,
                expiry: (expiry_year, m, d),
                code: std::array::from_fn(|_| rng.gen_range(0..10u8)),
                fullwidth: rng.gen_bool(0.3),
                padded: rng.gen_bool(0.5),
                with_fields: true,
                tinted_expiry: rng.gen_bool(0.3),
                note_date: rng.gen_bool(0.3),
                layout: CardLayout::default(),
            };
        }
    }
}

/// The era date of a Western date.
pub fn to_era(y: u16, m: u8, d: u8) -> EraDate {
    for era in [Era::Reiwa, Era::Heisei, Era::Showa, Era::Taisho] {
        let first = match era {
            Era::Reiwa => (2019, 5, 1),
            Era::Heisei => (1989, 1, 8),
            Era::Showa => (1926, 12, 25),
            _ => (1912, 7, 30),
        };
        if (y, m, d) >= first {
            return EraDate {
                era,
                year: y - first.0 + 1,
                month: m,
                day: d,
            };
        }
    }
    EraDate {
        era: Era::Meiji,
        year: y - 1867,
        month: m,
        day: d,
    }
}

/// How the card lies and how the camera sees it.
#[derive(Debug, Clone)]
pub struct Conditions {
    /// Card width as a fraction of the frame width (0.3–0.8).
    pub scale: f32,
    /// In-plane rotation, degrees.
    pub angle: f32,
    /// Placed upside down.
    pub upside_down: bool,
    /// Corner jitter for perspective, fraction of the card width.
    pub perspective: f32,
    /// Centre as fractions of the frame (re-clamped to keep the card inside).
    pub centre: (f32, f32),
    /// Gaussian defocus σ (frame pixels).
    pub blur: f32,
    /// Horizontal motion blur length (pixels).
    pub motion: u32,
    /// Glare band strength (0 = none, 255 = full white).
    pub glare: f32,
    /// Exposure (0.3–1).
    pub exposure: f32,
    /// Sensor noise σ.
    pub noise: f32,
    /// JPEG quality, and whether encoded twice.
    pub jpeg: Option<(u8, bool)>,
    /// A thumb over part of the card.
    pub thumb: Option<Thumb>,
    /// Seed for the rest (glare direction, noise, cast).
    pub seed: u64,
}

/// Where a thumb (a skin-coloured blob coming from outside the card) lies
/// over the card, upright card's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Thumb {
    /// Over the top-left corner (the title).
    TopLeft,
    /// Over the top-right corner (part of the photo).
    TopRight,
    /// Over the bottom-left corner (certificate box, 臓器提供意思).
    BottomLeft,
    /// Over the birth and expiry lines (they cannot be read).
    OverDates,
    /// Over the security code.
    OverCode,
}

impl Thumb {
    /// The thumb's ellipse in card fractions: centre, semi-axes, and the
    /// size jitter the seed picks within.
    fn ellipse(self, jitter: f32) -> ((f32, f32), (f32, f32)) {
        let k = 0.85 + 0.3 * jitter;
        match self {
            Thumb::TopLeft => ((-0.01, -0.02), (0.11 * k, 0.20 * k)),
            Thumb::TopRight => ((1.01, -0.02), (0.11 * k, 0.20 * k)),
            Thumb::BottomLeft => ((-0.01, 1.02), (0.11 * k, 0.20 * k)),
            Thumb::OverDates => ((0.22 + 0.1 * jitter, 0.90), (0.07, 0.36)),
            Thumb::OverCode => ((0.90, 1.02), (0.09, 0.30)),
        }
    }
}

impl Default for Conditions {
    fn default() -> Self {
        Conditions {
            scale: 0.55,
            angle: 0.0,
            upside_down: false,
            perspective: 0.0,
            centre: (0.5, 0.5),
            blur: 0.0,
            motion: 0,
            glare: 0.0,
            exposure: 1.0,
            noise: 0.0,
            jpeg: None,
            thumb: None,
            seed: 0,
        }
    }
}

impl Conditions {
    /// Random conditions within spec §5.
    pub fn random(rng: &mut StdRng) -> Conditions {
        Conditions {
            scale: rng.gen_range(0.3..0.8),
            angle: rng.gen_range(-15.0..15.0),
            upside_down: rng.gen_bool(0.1),
            perspective: rng.gen_range(0.0..0.03),
            centre: (rng.gen_range(0.2..0.8), rng.gen_range(0.2..0.8)),
            blur: rng.gen_range(0.0..1.5),
            motion: if rng.gen_bool(0.2) {
                rng.gen_range(2..=6)
            } else {
                0
            },
            glare: if rng.gen_bool(0.3) {
                rng.gen_range(30.0..110.0)
            } else {
                0.0
            },
            exposure: rng.gen_range(0.3..1.0),
            noise: rng.gen_range(1.0..5.0),
            jpeg: Some((rng.gen_range(40..=90), rng.gen_bool(0.2))),
            // Corners only: spec §5's thumb leaves the three fields visible.
            thumb: match rng.gen_range(0..20) {
                0 => Some(Thumb::TopLeft),
                1 => Some(Thumb::TopRight),
                2 => Some(Thumb::BottomLeft),
                _ => None,
            },
            seed: rng.gen(),
        }
    }
}

fn blend(img: &mut RgbImage, x: i64, y: i64, ink: [u8; 3], a: f32) {
    if x < 0 || y < 0 || x >= i64::from(img.width()) || y >= i64::from(img.height()) {
        return;
    }
    let p = img.get_pixel_mut(x as u32, y as u32);
    for (v, i) in p.0.iter_mut().zip(ink) {
        *v = (f32::from(*v) * (1.0 - a) + f32::from(i) * a) as u8;
    }
}

/// A font for the generator, parsed for both rasterisers.
#[derive(Clone)]
pub struct Font {
    fontdue: fontdue::Font,
    ab: ab_glyph::FontArc,
}

/// Which rasteriser draws a card's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Raster {
    /// fontdue.
    #[default]
    Fontdue,
    /// ab_glyph.
    AbGlyph,
}

/// How a card's text is drawn and laid out: the variants of spec §2–§3
/// the generator covers. [`CardLayout::default`] is the plain layout.
#[derive(Debug, Clone, PartialEq)]
pub struct CardLayout {
    /// The rasteriser.
    pub raster: Raster,
    /// Shift of the birth, expiry and code lines, card fractions (x, y).
    pub shift: [(f32, f32); 3],
    /// Text size factor (printers differ).
    pub size: f32,
    /// Extra letter spacing, a fraction of the em.
    pub tracking: f32,
    /// A heavier stroke (the glyphs drawn twice, a pixel apart).
    pub heavy: bool,
    /// Ink colour.
    pub ink: [u8; 3],
    /// The issuer beside the expiry (an index into the generator's list).
    pub issuer: usize,
    /// The address on two lines.
    pub two_line_address: bool,
    /// Certificate expiry dates in their box (0–2).
    pub cert_dates: u8,
}

impl Default for CardLayout {
    fn default() -> Self {
        CardLayout {
            raster: Raster::Fontdue,
            shift: [(0.0, 0.0); 3],
            size: 1.0,
            tracking: 0.0,
            heavy: false,
            ink: [30, 30, 35],
            issuer: 0,
            two_line_address: true,
            cert_dates: 1,
        }
    }
}

const ISSUERS: [&str; 5] = [
    "千代田区長",
    "横浜市長",
    "札幌市長",
    "奥多摩町長",
    "大和郡山市長",
];

impl CardLayout {
    /// A random layout within the spec's variants.
    pub fn random(rng: &mut StdRng) -> CardLayout {
        let mut shift = || (rng.gen_range(-0.03..0.03), rng.gen_range(-0.012..0.012));
        let shift = [shift(), shift(), shift()];
        CardLayout {
            raster: if rng.gen_bool(0.5) {
                Raster::AbGlyph
            } else {
                Raster::Fontdue
            },
            shift,
            size: rng.gen_range(0.88..1.12),
            tracking: if rng.gen_bool(0.3) {
                rng.gen_range(0.02..0.15)
            } else {
                0.0
            },
            heavy: rng.gen_bool(0.15),
            ink: if rng.gen_bool(0.2) {
                [40, 45, 80]
            } else {
                let k = rng.gen_range(10..60u8);
                [k, k, k + 5]
            },
            issuer: rng.gen_range(0..ISSUERS.len()),
            two_line_address: rng.gen_bool(0.6),
            cert_dates: rng.gen_range(0..=2),
        }
    }
}

/// How one piece of text is drawn.
struct Pen<'a> {
    font: &'a Font,
    layout: &'a CardLayout,
}

impl Pen<'_> {
    fn advance(&self, c: char, px: f32) -> f32 {
        let base = match self.layout.raster {
            Raster::Fontdue => self.font.fontdue.metrics(c, px).advance_width,
            Raster::AbGlyph => {
                let scaled = self.font.ab.as_scaled(self.ab_scale(px));
                scaled.h_advance(scaled.glyph_id(c))
            }
        };
        base + self.layout.tracking * px
    }

    /// ab_glyph scales by the font's height; fontdue by its em.
    fn ab_scale(&self, px: f32) -> ab_glyph::PxScale {
        let em = self.font.ab.units_per_em().unwrap_or(1000.0);
        ab_glyph::PxScale::from(px * self.font.ab.height_unscaled() / em)
    }

    fn width(&self, text: &str, px: f32) -> f32 {
        text.chars().map(|c| self.advance(c, px)).sum()
    }

    /// Draws text with its baseline at `y`, starting at `x` (or ending
    /// there when `right`).
    #[allow(clippy::too_many_arguments)]
    fn text(&self, img: &mut RgbImage, text: &str, px: f32, x: f32, y: f32, right: bool) {
        let mut pen = if right { x - self.width(text, px) } else { x };
        let ink = self.layout.ink;
        let passes: &[i64] = if self.layout.heavy { &[0, 1] } else { &[0] };
        for c in text.chars() {
            match self.layout.raster {
                Raster::Fontdue => {
                    let (m, cov) = self.font.fontdue.rasterize(c, px);
                    let gx = pen as i64 + i64::from(m.xmin);
                    let gy = y as i64 - i64::from(m.ymin) - m.height as i64;
                    for dx in passes {
                        for yy in 0..m.height {
                            for xx in 0..m.width {
                                let a = f32::from(cov[yy * m.width + xx]) / 255.0;
                                if a > 0.0 {
                                    blend(img, gx + xx as i64 + dx, gy + yy as i64, ink, a);
                                }
                            }
                        }
                    }
                }
                Raster::AbGlyph => {
                    let scale = self.ab_scale(px);
                    let id = self.font.ab.as_scaled(scale).glyph_id(c);
                    let glyph = id.with_scale_and_position(scale, ab_glyph::point(pen, y));
                    if let Some(outline) = self.font.ab.outline_glyph(glyph) {
                        let b = outline.px_bounds();
                        let (ox, oy) = (b.min.x as i64, b.min.y as i64);
                        for dx in passes {
                            outline.draw(|gx, gy, a| {
                                if a > 0.0 {
                                    blend(img, ox + i64::from(gx) + dx, oy + i64::from(gy), ink, a);
                                }
                            });
                        }
                    }
                }
            }
            pen += self.advance(c, px);
        }
    }

    /// Draws text fitted into a box (x0..x1 fractions) with a cap height.
    #[allow(clippy::too_many_arguments)]
    fn field(
        &self,
        img: &mut RgbImage,
        text: &str,
        x0: f32,
        x1: f32,
        y_bottom: f32,
        height: f32,
        right: bool,
    ) {
        let mut px = height * self.layout.size * CARD_H / 0.85;
        let avail = (x1 - x0) * CARD_W;
        let w = self.width(text, px);
        if w > avail {
            px *= avail / w;
        }
        let x = if right { x1 * CARD_W } else { x0 * CARD_W };
        self.text(img, text, px, x, y_bottom * CARD_H, right);
    }
}

fn num(n: u16, spec: &CardSpec, pad: bool) -> String {
    let s = if pad && n < 10 && spec.padded {
        if spec.fullwidth {
            format!("　{n}")
        } else {
            format!(" {n}")
        }
    } else {
        n.to_string()
    };
    if spec.fullwidth {
        s.chars()
            .map(|c| match c {
                '0'..='9' => char::from_u32('０' as u32 + (c as u32 - '0' as u32)).unwrap_or(c),
                _ => c,
            })
            .collect()
    } else {
        s
    }
}

/// The card front upright at canonical size (856×540).
pub fn render_card(spec: &CardSpec, font: &Font, rng: &mut StdRng) -> RgbImage {
    let l = &spec.layout;
    let pen = Pen { font, layout: l };
    let mut img = RgbImage::new(CARD_W as u32, CARD_H as u32);
    let tint = [
        rng.gen_range(228..245u8),
        rng.gen_range(232..246u8),
        rng.gen_range(222..240u8),
    ];
    let phase: f32 = rng.gen_range(0.0..std::f32::consts::TAU);
    for (x, y, p) in img.enumerate_pixels_mut() {
        // Pale guilloche: two interfering sine families.
        let g = ((x as f32 * 0.07 + (y as f32 * 0.05).sin() * 6.0 + phase).sin()
            + (y as f32 * 0.09 + (x as f32 * 0.03).cos() * 5.0).sin())
            * 4.0;
        *p = Rgb(tint.map(|t| (f32::from(t) + g).clamp(0.0, 255.0) as u8));
    }
    let dy = rng.gen_range(-0.012..0.012f32);
    let dx = rng.gen_range(-0.01..0.01f32);
    pen.field(&mut img, "個人番号カード", 0.03, 0.40, 0.095, 0.046, false);
    pen.field(&mut img, "氏名　番号　花子", 0.03, 0.60, 0.20, 0.060, false);
    if l.two_line_address {
        pen.field(
            &mut img,
            "住所　東京都千代田区霞が関2丁目1番2号",
            0.03,
            0.68,
            0.31,
            0.045,
            false,
        );
        pen.field(&mut img, "第3ビル 1204号室", 0.12, 0.68, 0.38, 0.045, false);
    } else {
        pen.field(
            &mut img,
            "住所　大阪府堺市北区中百舌鳥町5丁151番地",
            0.03,
            0.68,
            0.33,
            0.045,
            false,
        );
    }
    if spec.note_date {
        pen.field(
            &mut img,
            "令和 5年 4月 1日転居",
            0.03,
            0.45,
            0.465,
            0.034,
            false,
        );
    }
    if spec.with_fields {
        let b = &spec.birth;
        let year = if b.year == 1 {
            "元".to_string()
        } else {
            num(b.year, spec, true)
        };
        let birth = format!(
            "{}{}年{}月{}日生",
            b.era.name(),
            year,
            num(u16::from(b.month), spec, true),
            num(u16::from(b.day), spec, true)
        );
        let (bx, by) = l.shift[0];
        pen.field(
            &mut img,
            &birth,
            0.03 + dx + bx.max(-0.02),
            0.47 + dx + bx,
            0.575 + dy + by,
            0.060,
            false,
        );
        pen.field(&mut img, "性別　女", 0.50, 0.68, 0.575 + dy, 0.050, false);
        if spec.tinted_expiry {
            for y in (0.60 * CARD_H) as u32..(0.69 * CARD_H) as u32 {
                for x in (0.02 * CARD_W) as u32..(0.49 * CARD_W) as u32 {
                    let p = img.get_pixel_mut(x, y);
                    p.0 = [p.0[0], p.0[1].saturating_sub(25), p.0[2].saturating_sub(15)];
                }
            }
        }
        let expiry = format!(
            "{}年{}月{}日まで有効",
            num(spec.expiry.0, spec, false),
            num(u16::from(spec.expiry.1), spec, true),
            num(u16::from(spec.expiry.2), spec, true)
        );
        let (ex, ey) = l.shift[1];
        pen.field(
            &mut img,
            &expiry,
            0.03 + dx + ex.max(-0.02),
            0.475 + dx + ex,
            0.675 + dy + ey,
            0.056,
            false,
        );
        pen.field(
            &mut img,
            ISSUERS[l.issuer % ISSUERS.len()],
            0.50,
            0.68,
            0.675 + dy,
            0.042,
            false,
        );
        let code: String = spec.code.iter().map(|&d| char::from(b'0' + d)).collect();
        let (cx, cy) = l.shift[2];
        pen.field(
            &mut img,
            &code_text(&code, spec),
            0.80 + cx.min(0.0),
            0.962 + cx.min(0.02),
            0.775 + cy,
            0.056,
            true,
        );
        pen.field(
            &mut img,
            "0123456789ABCDEF",
            0.705,
            0.962,
            0.685,
            0.030,
            false,
        );
    } else {
        // A licence-like card: dates and numbers, but not the fields.
        pen.field(
            &mut img,
            "平成30年 5月 1日交付",
            0.03,
            0.47,
            0.575,
            0.050,
            false,
        );
        pen.field(
            &mut img,
            "第 123456789012 号",
            0.03,
            0.47,
            0.675,
            0.050,
            false,
        );
    }
    pen.field(
        &mut img,
        "電子証明書の有効期限",
        0.03,
        0.40,
        0.76,
        0.030,
        false,
    );
    // The certificates' dates, written in by the office: 0–2 of them, the
    // first often the card's own expiry date (a look-alike without まで有効).
    let certs = [
        format!("{}年{}月{}日", spec.expiry.0, spec.expiry.1, spec.expiry.2),
        format!(
            "{}年{}月{}日",
            spec.expiry.0.saturating_sub(5),
            spec.expiry.1,
            spec.expiry.2
        ),
    ];
    for (i, cert) in certs.iter().take(usize::from(l.cert_dates)).enumerate() {
        pen.field(
            &mut img,
            cert,
            0.05 + 0.28 * i as f32,
            0.32 + 0.28 * i as f32,
            0.835,
            0.032,
            false,
        );
    }
    pen.field(
        &mut img,
        "臓器提供意思　1 2 3",
        0.03,
        0.50,
        0.94,
        0.022,
        false,
    );
    draw_photo(&mut img, rng);
    img
}

/// The card's back side upright at canonical size: 個人番号 in large print,
/// name and birth date, the chip's gold contacts on the left and a QR code
/// on the right — no photo, so the reader must ask for the card to be
/// turned over (and never read it: the back carries the 個人番号).
pub fn render_back(font: &Font, rng: &mut StdRng) -> RgbImage {
    let layout = CardLayout::default();
    let pen = Pen {
        font,
        layout: &layout,
    };
    let tint = [
        rng.gen_range(226..242u8),
        rng.gen_range(228..244u8),
        rng.gen_range(230..246u8),
    ];
    let mut img = RgbImage::from_fn(CARD_W as u32, CARD_H as u32, |x, y| {
        let g = ((x as f32 * 0.05 + (y as f32 * 0.04).sin() * 5.0).sin()) * 3.0;
        Rgb(tint.map(|t| (f32::from(t) + g).clamp(0.0, 255.0) as u8))
    });
    let number: String = (0..12)
        .map(|i| {
            let d = char::from(b'0' + rng.gen_range(0..10u8));
            if i % 4 == 3 && i < 11 {
                format!("{d} ")
            } else {
                d.to_string()
            }
        })
        .collect();
    pen.field(&mut img, "個人番号", 0.05, 0.30, 0.12, 0.045, false);
    pen.field(&mut img, &number, 0.05, 0.62, 0.25, 0.075, false);
    pen.field(&mut img, "氏名　番号　花子", 0.30, 0.65, 0.42, 0.050, false);
    pen.field(
        &mut img,
        "生年月日　昭和55年2月17日",
        0.30,
        0.65,
        0.55,
        0.045,
        false,
    );
    // Gold contacts: a rounded pad split into eight segments.
    let (cx0, cy0, cx1, cy1) = (0.07 * CARD_W, 0.36 * CARD_H, 0.21 * CARD_W, 0.60 * CARD_H);
    for y in cy0 as u32..cy1 as u32 {
        for x in cx0 as u32..cx1 as u32 {
            let (fx, fy) = (
                (x as f32 - cx0) / (cx1 - cx0),
                (y as f32 - cy0) / (cy1 - cy0),
            );
            let seam =
                (fx - 0.5).abs() < 0.02 || ((fy * 4.0).fract() < 0.05 && (fx - 0.5).abs() > 0.15);
            let c = if seam { [120, 100, 50] } else { [205, 175, 95] };
            img.put_pixel(x, y, Rgb(c));
        }
    }
    // A QR code: three finder squares and random modules on a 29 grid.
    let n = 29u32;
    let side = 0.23 * CARD_W;
    let (qx, qy) = (0.71 * CARD_W, 0.34 * CARD_H);
    let module = side / n as f32;
    let modules: Vec<bool> = (0..n * n).map(|_| rng.gen_bool(0.5)).collect();
    let finder = |mx: u32, my: u32| -> Option<bool> {
        for (fx, fy) in [(0, 0), (n - 7, 0), (0, n - 7)] {
            if (fx..fx + 8).contains(&mx) && (fy..fy + 8).contains(&my) {
                let (dx, dy) = (mx.abs_diff(fx + 3), my.abs_diff(fy + 3));
                let r = dx.max(dy);
                return Some(r != 2 && r < 4);
            }
        }
        None
    };
    for my in 0..n {
        for mx in 0..n {
            let dark = finder(mx, my).unwrap_or(modules[(my * n + mx) as usize]);
            if !dark {
                continue;
            }
            let (x0, y0) = (qx + mx as f32 * module, qy + my as f32 * module);
            for y in y0 as u32..(y0 + module) as u32 {
                for x in x0 as u32..(x0 + module) as u32 {
                    img.put_pixel(x, y, Rgb([25, 25, 30]));
                }
            }
        }
    }
    img
}

fn code_text(code: &str, spec: &CardSpec) -> String {
    if spec.fullwidth {
        code.chars()
            .map(|c| char::from_u32('０' as u32 + (c as u32 - '0' as u32)).unwrap_or(c))
            .collect()
    } else {
        code.to_string()
    }
}

/// A portrait: pale backdrop, dark hair and clothes, a face.
fn draw_photo(img: &mut RgbImage, rng: &mut StdRng) {
    let (x0, y0, x1, y1) = (
        0.705 * CARD_W,
        0.115 * CARD_H,
        0.962 * CARD_W,
        0.625 * CARD_H,
    );
    let back = [
        rng.gen_range(170..215u8),
        rng.gen_range(190..225u8),
        rng.gen_range(210..240u8),
    ];
    let cloth = [
        rng.gen_range(10..70u8),
        rng.gen_range(10..60u8),
        rng.gen_range(20..90u8),
    ];
    let (cx, w, h) = ((x0 + x1) / 2.0, x1 - x0, y1 - y0);
    for y in y0 as u32..y1 as u32 {
        for x in x0 as u32..x1 as u32 {
            let (fx, fy) = ((x as f32 - cx) / w, (y as f32 - y0) / h);
            let head = (fx / 0.28).powi(2) + ((fy - 0.40) / 0.26).powi(2) < 1.0;
            let hair = (fx / 0.33).powi(2) + ((fy - 0.33) / 0.26).powi(2) < 1.0 && fy < 0.36;
            let body = fy > 0.66 && (fx.abs() < 0.5 - (0.9 - fy).max(0.0) * 0.9);
            let c = if hair {
                [35, 28, 25]
            } else if head {
                [215, 175, 150]
            } else if body {
                cloth
            } else {
                back
            };
            img.put_pixel(x, y, Rgb(c));
        }
    }
}

/// Places cards (canonical images, each with its conditions) into a frame
/// over a tray background, then applies the first card's camera effects.
pub fn compose(cards: &[(&RgbImage, &Conditions)], camera: &Conditions) -> RgbImage {
    let (fw, fh) = FRAME;
    let mut rng = StdRng::seed_from_u64(camera.seed);
    let base = [
        rng.gen_range(30..80u8),
        rng.gen_range(30..75u8),
        rng.gen_range(30..70u8),
    ];
    let mut frame = RgbImage::from_fn(fw, fh, |x, y| {
        let t = ((x / 16 + y / 16) % 2) as u8 * 6;
        Rgb(base.map(|b| b + t))
    });
    let mut bbox = (fw as usize, fh as usize, 0usize, 0usize);
    let mut on_card = vec![false; (fw * fh) as usize];
    for (card, cond) in cards {
        place(&mut frame, card, cond, &mut on_card);
        for (x, y) in corners(cond, cond.seed) {
            bbox.0 = bbox.0.min((x.max(12.0) - 12.0) as usize);
            bbox.1 = bbox.1.min((y.max(12.0) - 12.0) as usize);
            bbox.2 = bbox.2.max(((x + 12.0) as usize).min(fw as usize));
            bbox.3 = bbox.3.max(((y + 12.0) as usize).min(fh as usize));
        }
    }
    effects(&mut frame, camera, &mut rng, bbox, &on_card)
}

/// The card's corners in the frame for these conditions.
pub fn corners(cond: &Conditions, seed: u64) -> [(f32, f32); 4] {
    let (fw, fh) = (FRAME.0 as f32, FRAME.1 as f32);
    let mut scale = cond.scale;
    let angle = (cond.angle + if cond.upside_down { 180.0 } else { 0.0 }).to_radians();
    let (s, c) = angle.sin_cos();
    // Shrink until the rotated card fits.
    loop {
        let (w, h) = (scale * fw, scale * fw / CARD_W * CARD_H);
        let ext_x = (w * c.abs() + h * s.abs()) / 2.0;
        let ext_y = (w * s.abs() + h * c.abs()) / 2.0;
        if ext_y * 2.0 < fh * 0.92 && ext_x * 2.0 < fw * 0.92 {
            break;
        }
        scale *= 0.95;
    }
    let (w, h) = (scale * fw, scale * fw / CARD_W * CARD_H);
    let ext_x = (w * c.abs() + h * s.abs()) / 2.0 + 8.0;
    let ext_y = (w * s.abs() + h * c.abs()) / 2.0 + 8.0;
    let cx = (cond.centre.0 * fw).clamp(ext_x, fw - ext_x);
    let cy = (cond.centre.1 * fh).clamp(ext_y, fh - ext_y);
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed);
    let j = cond.perspective * w;
    let local = [
        (-w / 2.0, -h / 2.0),
        (w / 2.0, -h / 2.0),
        (w / 2.0, h / 2.0),
        (-w / 2.0, h / 2.0),
    ];
    local.map(|(x, y)| {
        let (jx, jy) = if j > 0.0 {
            (rng.gen_range(-j..j), rng.gen_range(-j..j))
        } else {
            (0.0, 0.0)
        };
        (cx + x * c - y * s + jx, cy + x * s + y * c + jy)
    })
}

fn place(frame: &mut RgbImage, card: &RgbImage, cond: &Conditions, on_card: &mut [bool]) {
    let quad = corners(cond, cond.seed);
    let canon = [(0.0, 0.0), (CARD_W, 0.0), (CARD_W, CARD_H), (0.0, CARD_H)];
    let Some(inv) = Homography::from_points(quad, canon) else {
        return;
    };
    let (mut x0, mut y0, mut x1, mut y1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
    for (x, y) in quad {
        x0 = x0.min(x);
        y0 = y0.min(y);
        x1 = x1.max(x);
        y1 = y1.max(y);
    }
    let r = 31.8f32;
    for y in (y0.max(0.0) as u32)..(y1.min(FRAME.1 as f32 - 1.0) as u32 + 1) {
        for x in (x0.max(0.0) as u32)..(x1.min(FRAME.0 as f32 - 1.0) as u32 + 1) {
            let (u, v) = inv.map(x as f32 + 0.5, y as f32 + 0.5);
            if !(0.0..CARD_W - 1.0).contains(&u) || !(0.0..CARD_H - 1.0).contains(&v) {
                continue;
            }
            // Rounded corners.
            let (du, dv) = (
                (r - u).max(u - (CARD_W - r)).max(0.0),
                (r - v).max(v - (CARD_H - r)).max(0.0),
            );
            if du * du + dv * dv > r * r {
                continue;
            }
            let (ui, vi) = (u as u32, v as u32);
            let (fu, fv) = (u - ui as f32, v - vi as f32);
            let px = |a: u32, b: u32| card.get_pixel(a, b).0;
            let (p00, p10, p01, p11) = (
                px(ui, vi),
                px(ui + 1, vi),
                px(ui, vi + 1),
                px(ui + 1, vi + 1),
            );
            let mut out = [0u8; 3];
            for c in 0..3 {
                let top = f32::from(p00[c]) * (1.0 - fu) + f32::from(p10[c]) * fu;
                let bot = f32::from(p01[c]) * (1.0 - fu) + f32::from(p11[c]) * fu;
                out[c] = (top * (1.0 - fv) + bot * fv) as u8;
            }
            frame.put_pixel(x, y, Rgb(out));
            on_card[(y * FRAME.0 + x) as usize] = true;
        }
    }
    if let Some(thumb) = cond.thumb {
        draw_thumb(frame, quad, &inv, thumb, cond.seed, on_card);
    }
}

/// A thumb: a skin-coloured ellipse in card coordinates (so it follows the
/// card's angle and perspective and reaches past its edge), shaded darker
/// towards its rim.
fn draw_thumb(
    frame: &mut RgbImage,
    quad: [(f32, f32); 4],
    inv: &Homography,
    thumb: Thumb,
    seed: u64,
    on_card: &mut [bool],
) {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x7407);
    let ((cu, cv), (au, av)) = thumb.ellipse(rng.gen_range(0.0..1.0));
    let skin = [
        rng.gen_range(185..230u8),
        rng.gen_range(135..175u8),
        rng.gen_range(110..145u8),
    ];
    let canon = [(0.0, 0.0), (CARD_W, 0.0), (CARD_W, CARD_H), (0.0, CARD_H)];
    let Some(fwd) = Homography::from_points(canon, quad) else {
        return;
    };
    // The frame box of the ellipse's bounding box.
    let (mut x0, mut y0, mut x1, mut y1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
    for (su, sv) in [(-1.0, -1.0), (1.0, -1.0), (1.0, 1.0), (-1.0, 1.0)] {
        let (x, y) = fwd.map((cu + su * au) * CARD_W, (cv + sv * av) * CARD_H);
        x0 = x0.min(x);
        y0 = y0.min(y);
        x1 = x1.max(x);
        y1 = y1.max(y);
    }
    let (fw, fh) = (FRAME.0 as f32, FRAME.1 as f32);
    for y in (y0.max(0.0) as u32)..(y1.min(fh - 1.0).max(0.0) as u32) {
        for x in (x0.max(0.0) as u32)..(x1.min(fw - 1.0).max(0.0) as u32) {
            let (u, v) = inv.map(x as f32 + 0.5, y as f32 + 0.5);
            let (du, dv) = ((u / CARD_W - cu) / au, (v / CARD_H - cv) / av);
            let r2 = du * du + dv * dv;
            if r2 >= 1.0 {
                continue;
            }
            let shade = 1.0 - 0.35 * r2 * r2;
            let c = skin.map(|v| (f32::from(v) * shade).clamp(0.0, 255.0) as u8);
            frame.put_pixel(x, y, Rgb(c));
            // Skin is matte: no laminate glare on it.
            on_card[(y * FRAME.0 + x) as usize] = false;
        }
    }
}

fn gauss(rng: &mut StdRng) -> f32 {
    let u1: f32 = rng.gen_range(1e-6..1.0);
    let u2: f32 = rng.gen_range(0.0..1.0);
    (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
}

/// Camera effects; the blur only where the cards are (the tray is flat).
fn effects(
    frame: &mut RgbImage,
    cond: &Conditions,
    rng: &mut StdRng,
    bbox: (usize, usize, usize, usize),
    on_card: &[bool],
) -> RgbImage {
    let (w, h) = (frame.width() as usize, frame.height() as usize);
    let mut buf: Vec<f32> = frame.as_raw().iter().map(|&v| f32::from(v)).collect();
    // Defocus and motion blur: separable kernels.
    let mut kx: Vec<f32> = Vec::new();
    let mut ky: Vec<f32> = Vec::new();
    if cond.blur > 0.3 {
        let r = (cond.blur * 2.5).ceil() as i32;
        let k: Vec<f32> = (-r..=r)
            .map(|i| (-(i * i) as f32 / (2.0 * cond.blur * cond.blur)).exp())
            .collect();
        kx = k.clone();
        ky = k;
    }
    if cond.motion > 1 {
        let m = vec![1.0; cond.motion as usize];
        kx = if kx.is_empty() {
            m
        } else {
            convolve_kernels(&kx, &m)
        };
    }
    if !kx.is_empty() {
        separable(&mut buf, w, bbox, &kx, true);
    }
    if !ky.is_empty() {
        separable(&mut buf, w, bbox, &ky, false);
    }
    // Gaussian noise from a table (Box–Muller per pixel is slow unoptimised).
    let table: Vec<f32> = (0..4096).map(|_| gauss(rng)).collect();
    let mut state: u32 = rng.gen();
    let gain = [
        rng.gen_range(0.88..1.12f32),
        1.0,
        rng.gen_range(0.88..1.12f32),
    ];
    let glare_angle: f32 = rng.gen_range(0.0..std::f32::consts::PI);
    let (gs, gc) = glare_angle.sin_cos();
    let glare_off = rng.gen_range(-200.0..200.0f32);
    let glare_w = rng.gen_range(15.0..45.0f32);
    for y in 0..h {
        for x in 0..w {
            let (dx, dy) = (x as f32 - w as f32 / 2.0, y as f32 - h as f32 / 2.0);
            let vignette = 1.0 - 0.25 * (dx * dx + dy * dy) / (w * w / 4) as f32;
            // Specular glare is on the laminate, not the matte tray.
            let glare = if cond.glare > 0.0 && on_card.get(y * w + x) == Some(&true) {
                let d = dx * gc + dy * gs - glare_off;
                cond.glare * (-(d * d) / (2.0 * glare_w * glare_w)).exp()
            } else {
                0.0
            };
            for (c, g) in gain.iter().enumerate() {
                let i = (y * w + x) * 3 + c;
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let n = table[(state >> 20) as usize];
                let v = (buf[i] + glare) * cond.exposure * vignette * g + cond.noise * n;
                buf[i] = v.clamp(0.0, 255.0);
            }
        }
    }
    let out = RgbImage::from_raw(w as u32, h as u32, buf.iter().map(|&v| v as u8).collect())
        .unwrap_or_else(|| RgbImage::new(w as u32, h as u32));
    match cond.jpeg {
        Some((q, twice)) => {
            let once = jpeg_roundtrip(&out, q);
            if twice {
                jpeg_roundtrip(&once, q.saturating_add(10).min(95))
            } else {
                once
            }
        }
        None => out,
    }
}

fn convolve_kernels(a: &[f32], b: &[f32]) -> Vec<f32> {
    let mut out = vec![0.0; a.len() + b.len() - 1];
    for (i, x) in a.iter().enumerate() {
        for (j, y) in b.iter().enumerate() {
            out[i + j] += x * y;
        }
    }
    out
}

fn separable(
    buf: &mut [f32],
    w: usize,
    bbox: (usize, usize, usize, usize),
    k: &[f32],
    horizontal: bool,
) {
    let h = buf.len() / 3 / w;
    let sum: f32 = k.iter().sum();
    let r = (k.len() / 2) as i64;
    let src = buf.to_vec();
    for y in bbox.1..bbox.3.min(h) {
        for x in bbox.0..bbox.2.min(w) {
            for c in 0..3 {
                let mut s = 0.0;
                for (i, kv) in k.iter().enumerate() {
                    let o = i as i64 - r;
                    let (xx, yy) = if horizontal {
                        ((x as i64 + o).clamp(0, w as i64 - 1), y as i64)
                    } else {
                        (x as i64, (y as i64 + o).clamp(0, h as i64 - 1))
                    };
                    s += kv * src[(yy as usize * w + xx as usize) * 3 + c];
                }
                buf[(y * w + x) * 3 + c] = s / sum;
            }
        }
    }
}

/// Encodes and decodes as JPEG at quality `q`.
pub fn jpeg_roundtrip(img: &RgbImage, q: u8) -> RgbImage {
    let mut bytes = Vec::new();
    let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, q);
    if img.write_with_encoder(enc).is_err() {
        return img.clone();
    }
    match image::load_from_memory(&bytes) {
        Ok(d) => d.to_rgb8(),
        Err(_) => img.clone(),
    }
}

/// One generated frame with its card: the spec, the font index, the frame.
pub struct Sample {
    /// What the card shows.
    pub spec: CardSpec,
    /// Font used (index into the fonts given).
    pub font: usize,
    /// Conditions.
    pub conditions: Conditions,
    /// The frame.
    pub frame: RgbImage,
}

/// A random sample from a seed, drawn with one of `fonts`.
pub fn sample(seed: u64, fonts: &[Font]) -> Option<Sample> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut spec = CardSpec::random(&mut rng);
    // The layout from a stream of its own, so a seed's fields and
    // conditions stay what they were before layouts varied.
    spec.layout = CardLayout::random(&mut StdRng::seed_from_u64(seed ^ LAYOUT_STREAM));
    let conditions = Conditions::random(&mut rng);
    let font = rng.gen_range(0..fonts.len().max(1));
    let card = render_card(&spec, fonts.get(font)?, &mut rng);
    let frame = compose(&[(&card, &conditions)], &conditions);
    Some(Sample {
        spec,
        font,
        conditions,
        frame,
    })
}

/// One font from its bytes.
pub fn font_from_bytes(bytes: &[u8]) -> Option<Font> {
    Some(Font {
        fontdue: fontdue::Font::from_bytes(bytes, fontdue::FontSettings::default()).ok()?,
        ab: ab_glyph::FontArc::try_from_vec(bytes.to_vec()).ok()?,
    })
}

/// Parses font bytes for the generator.
pub fn parse_fonts(fonts: &[(String, Vec<u8>)]) -> Vec<Font> {
    fonts
        .iter()
        .filter_map(|(_, b)| font_from_bytes(b))
        .collect()
}
