//! The glyph classifier. Owns the alphabet of the three fields, the glyph
//! feature (ink normalised into a fixed grid, plus shape ratios), and the
//! nearest-template model trained from font bytes at start-up — no weights
//! to ship or license, and any Japanese font on the machine adds templates.

use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::digits::{DigitDiscriminant, Verdict};

/// Side of the ink grid.
const GRID: usize = 16;
/// Side of the fine grid the ink and its strokes' directions are sampled on.
const FINE: usize = 32;
/// Side of the direction grid (each cell pools FINE/DGRID fine cells).
const DGRID: usize = 8;
/// Stroke directions (edge normals, dark ink on light paper: 8 directed).
const DIRS: usize = 8;
/// Feature length: the ink grid, then the direction planes.
pub(super) const FEAT: usize = GRID * GRID + DIRS * DGRID * DGRID;
/// Where the direction part starts.
const DIR_AT: usize = GRID * GRID;

/// The characters the fields are made of, plus neighbours that may enter a
/// search band (性別, 男, 女) so they are not forced into a digit. Digits
/// first: class `i < 10` is the digit `i`.
pub const CLASSES: [char; NCLASS] = [
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '年', '月', '日', '生', '元', '大', '正',
    '昭', '和', '平', '成', '令', '明', '治', 'ま', 'で', '有', '効', '性', '別', '男', '女',
];
/// Number of classes.
pub const NCLASS: usize = 32;
// [`Scores`] keeps the classes it compared as the bits of a `u32`.
const _: () = assert!(NCLASS <= 32);

/// Font sizes the templates are rasterised at (pixels per em).
const TEMPLATE_PX: [f32; 3] = [16.0, 24.0, 36.0];

/// One rendered glyph's features. Full-width digits are matched with the
/// same classes as half-width ones (the shape is normalised).
#[derive(Clone)]
struct Template {
    class: u8,
    /// Which trained font it was drawn in.
    font: u8,
    feat: [f32; FEAT],
    aspect: f32,
    height: f32,
}

/// A trained classifier: every template, and one mean prototype per class
/// that picks the few classes worth comparing in full (speed: a glyph is
/// compared with ~70 prototypes and a few hundred templates, not thousands).
pub struct GlyphModel {
    templates: Vec<Template>,
    prototypes: Vec<Template>,
    /// Number of fonts the templates were drawn in.
    fonts: usize,
    /// The digit discriminant (`None` untrained).
    digits: Option<DigitDiscriminant>,
    /// The trained fonts themselves, to draw a digit in the card's font
    /// ([`super::render`]).
    faces: Vec<fontdue::Font>,
    /// For each font, the first font that draws the card's characters
    /// exactly alike (TakaoGothic is IPA Gothic under another name).
    twin: Vec<u8>,
}

/// Characters compared to find twin fonts.
const TWIN_PROBE: &str = "0123456789年月日生有効";

/// A font's drawing of [`TWIN_PROBE`]: sizes and coverage.
fn drawing(font: &fontdue::Font) -> Vec<u8> {
    let mut out = Vec::new();
    for c in TWIN_PROBE.chars() {
        let (m, cov) = font.rasterize(c, 32.0);
        out.extend((m.width as u32).to_le_bytes());
        out.extend((m.height as u32).to_le_bytes());
        out.extend(cov);
    }
    out
}

/// Classes compared in full after the prototype stage.
const SHORTLIST: usize = 6;
/// Digits compared in full after the prototype stage.
const DIGIT_SHORTLIST: usize = 4;

/// A glyph's ink: coverage 0..1, row-major, tight or not.
pub struct Ink<'a> {
    /// Width.
    pub w: usize,
    /// Height.
    pub h: usize,
    /// Coverage.
    pub px: &'a [f32],
}

/// Features of one glyph, relative to its text line's height (a picture of
/// a read character: wiped on drop).
pub struct Features {
    feat: [f32; FEAT],
    aspect: f32,
    height: f32,
}

impl Drop for Features {
    fn drop(&mut self) {
        self.feat.zeroize();
        self.aspect.zeroize();
        self.height.zeroize();
    }
}

/// Computes features from a glyph's ink and the line height; `None` when
/// there is no ink.
pub fn features(ink: &Ink<'_>, line_h: f32) -> Option<Features> {
    let (mut x0, mut x1, mut y0, mut y1) = (usize::MAX, 0, usize::MAX, 0);
    for y in 0..ink.h {
        for x in 0..ink.w {
            if ink.px[y * ink.w + x] > 0.3 {
                x0 = x0.min(x);
                x1 = x1.max(x);
                y0 = y0.min(y);
                y1 = y1.max(y);
            }
        }
    }
    if x0 > x1 || y0 > y1 {
        return None;
    }
    let (bw, bh) = ((x1 - x0 + 1) as f32, (y1 - y0 + 1) as f32);
    let side = bw.max(bh);
    // Centre the box in a square of its longer side, then area-sample a
    // fine grid.
    let (ox, oy) = (x0 as f32 - (side - bw) / 2.0, y0 as f32 - (side - bh) / 2.0);
    let cell = side / FINE as f32;
    let mut fine = Zeroizing::new([0f32; FINE * FINE]);
    let sub = 2;
    for gy in 0..FINE {
        for gx in 0..FINE {
            let mut s = 0.0;
            for sy in 0..sub {
                for sx in 0..sub {
                    let x = ox + (gx as f32 + (sx as f32 + 0.5) / sub as f32) * cell;
                    let y = oy + (gy as f32 + (sy as f32 + 0.5) / sub as f32) * cell;
                    if x >= 0.0 && y >= 0.0 {
                        let (xi, yi) = (x as usize, y as usize);
                        if xi < ink.w && yi < ink.h {
                            s += ink.px[yi * ink.w + xi];
                        }
                    }
                }
            }
            fine[gy * FINE + gx] = s / (sub * sub) as f32;
        }
    }
    let mut feat = [0f32; FEAT];
    // The ink grid: the fine grid pooled 2×2, lightly blurred.
    let mut grid = [0f32; GRID * GRID];
    let k = FINE / GRID;
    for (i, v) in grid.iter_mut().enumerate() {
        let (gx, gy) = (i % GRID, i / GRID);
        let mut s = 0.0;
        for dy in 0..k {
            for dx in 0..k {
                s += fine[(gy * k + dy) * FINE + gx * k + dx];
            }
        }
        *v = s / (k * k) as f32;
    }
    blur_plane(&mut grid, GRID);
    feat[..DIR_AT].copy_from_slice(&grid);
    grid.zeroize();
    // Stroke directions: the gradient of the fine grid, its angle shared
    // between the two nearest of eight directions, pooled into an 8×8 grid.
    // Edges keep their direction under blur and low contrast, where the
    // ink's own shape (a 6 against an 8) fades.
    let at = |x: i32, y: i32| -> f32 {
        if x < 0 || y < 0 || x >= FINE as i32 || y >= FINE as i32 {
            0.0
        } else {
            fine[y as usize * FINE + x as usize]
        }
    };
    let pool = FINE / DGRID;
    for y in 0..FINE as i32 {
        for x in 0..FINE as i32 {
            let gx = (at(x + 1, y - 1) + 2.0 * at(x + 1, y) + at(x + 1, y + 1))
                - (at(x - 1, y - 1) + 2.0 * at(x - 1, y) + at(x - 1, y + 1));
            let gy = (at(x - 1, y + 1) + 2.0 * at(x, y + 1) + at(x + 1, y + 1))
                - (at(x - 1, y - 1) + 2.0 * at(x, y - 1) + at(x + 1, y - 1));
            let mag = (gx * gx + gy * gy).sqrt();
            if mag < 1e-3 {
                continue;
            }
            let turn = gy.atan2(gx).rem_euclid(std::f32::consts::TAU)
                / (std::f32::consts::TAU / DIRS as f32);
            let lo = (turn as usize) % DIRS;
            let hi = (lo + 1) % DIRS;
            let w_hi = turn - turn.floor();
            let c = (y as usize / pool) * DGRID + x as usize / pool;
            feat[DIR_AT + lo * DGRID * DGRID + c] += mag * (1.0 - w_hi);
            feat[DIR_AT + hi * DGRID * DGRID + c] += mag * w_hi;
        }
    }
    for plane in feat[DIR_AT..].chunks_exact_mut(DGRID * DGRID) {
        blur_plane(plane, DGRID);
    }
    // Each part centred and normalised on its own, so each weighs half of
    // the distance.
    let (ink_part, dir_part) = feat.split_at_mut(DIR_AT);
    for part in [ink_part, dir_part] {
        let mean = part.iter().sum::<f32>() / part.len() as f32;
        let mut norm = 0.0;
        for f in part.iter_mut() {
            *f -= mean;
            norm += *f * *f;
        }
        let norm = (2.0 * norm).sqrt().max(1e-6);
        for f in part.iter_mut() {
            *f /= norm;
        }
    }
    Some(Features {
        feat,
        aspect: (bw / bh).ln(),
        height: bh / line_h.max(1.0),
    })
}

/// A light blur of a square plane of side `n`, so that one-cell stroke
/// shifts cost little.
fn blur_plane(g: &mut [f32], n: usize) {
    let src = Zeroizing::new(g.to_vec());
    for y in 0..n {
        for x in 0..n {
            let mut s = 0.0;
            let mut k = 0.0;
            for (dx, dy, wt) in [
                (0i32, 0i32, 2.0f32),
                (-1, 0, 1.0),
                (1, 0, 1.0),
                (0, -1, 1.0),
                (0, 1, 1.0),
            ] {
                let (xx, yy) = (x as i32 + dx, y as i32 + dy);
                if xx >= 0 && yy >= 0 && (xx as usize) < n && (yy as usize) < n {
                    s += wt * src[yy as usize * n + xx as usize];
                    k += wt;
                }
            }
            g[y * n + x] = s / k;
        }
    }
}

/// A glyph's distance to every class ([`CLASSES`] order; `INFINITY` for
/// the classes not compared yet: those the prototype stage left out, until
/// a grammar slot asks for them with [`GlyphModel::compare`]). Wiped on
/// drop: the near classes of a digit are the digit.
pub struct Scores {
    /// The glyph's features (for the digit discriminant).
    pub features: Features,
    dist: Zeroizing<[f32; NCLASS]>,
    /// The same per font: `font * NCLASS + class`.
    by_font: Zeroizing<Vec<f32>>,
    /// The classes compared so far, one bit each.
    compared: u32,
    /// The font the class distances are restricted to.
    only: Option<u8>,
}

impl Scores {
    /// Distance to class `i` among font `font`'s templates only.
    pub fn font_dist(&self, font: usize, i: usize) -> f32 {
        self.by_font
            .get(font * NCLASS + i)
            .copied()
            .unwrap_or(f32::INFINITY)
    }

    /// Distance to class `i`.
    pub fn dist(&self, i: usize) -> f32 {
        self.dist.get(i).copied().unwrap_or(f32::INFINITY)
    }

    /// The best class among `allowed`, with its distance, the next best
    /// allowed class's distance, and the best distance of any class outside
    /// `allowed` (how much the glyph looks like something the grammar does
    /// not expect here). `None` when no allowed class was evaluated.
    pub fn best_of(&self, allowed: &[u8]) -> Option<Guess> {
        let (mut best, mut d1, mut d2) = (None, f32::INFINITY, f32::INFINITY);
        for &c in allowed {
            let d = self.dist(usize::from(c));
            if d < d1 {
                d2 = d1;
                d1 = d;
                best = Some(c);
            } else if d < d2 {
                d2 = d;
            }
        }
        let class = best?;
        let outside = (0..NCLASS)
            .filter(|i| !allowed.contains(&(*i as u8)))
            .map(|i| self.dist(i))
            .fold(f32::INFINITY, f32::min);
        // A slot with one allowed class has no rival within the grammar
        // (the 0 of 20xx cannot be an 8): what remains to check is that
        // the glyph is near its class and not nearer another, which
        // `confidence` does with `outside`.
        let runner_up = if allowed.len() == 1 { 2.0 } else { d2 };
        Some(Guess {
            class,
            dist: d1,
            runner_up: runner_up.min(2.0),
            outside: outside.min(2.0),
            judged: -1.0,
            rendered: -1.0,
            contradicted: 0.0,
        })
    }
}

/// A glyph read in a grammar slot: the best allowed class, its distance,
/// the runner-up allowed class's distance, and the nearest class outside
/// the slot's (a read digit: wiped on drop, no `Debug`).
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Guess {
    /// The best allowed class (index into [`CLASSES`]).
    pub class: u8,
    /// Its distance (0 = identical).
    pub dist: f32,
    /// The nearest other allowed class's distance.
    pub runner_up: f32,
    /// The nearest class outside the slot's.
    pub outside: f32,
    /// The digit discriminant's margin for this class over the next
    /// allowed digit; negative when not judged (a kanji, a one-digit slot).
    pub judged: f32,
    /// The rendering's confidence in this class ([`super::render`]);
    /// negative when it did not judge.
    pub rendered: f32,
    /// The rendering's confidence in another digit, which it was not
    /// sure enough of to overrule this one (0 when it agreed or did not
    /// judge).
    pub contradicted: f32,
}

impl Guess {
    /// The class as a character.
    pub fn char(&self) -> char {
        CLASSES.get(usize::from(self.class)).copied().unwrap_or('?')
    }

    /// The digit value, for digit classes.
    pub fn digit(&self) -> Option<u8> {
        (self.class < 10).then_some(self.class)
    }

    /// Confidence (0..1): the margin to the runner-up, lowered for a far
    /// match and for a glyph that looks more like a class the grammar does
    /// not allow here (a segmentation or line error rather than a digit).
    pub fn confidence(&self) -> f32 {
        // A digit's margin is the discriminant's where it judged it (the
        // templates' own margin between digits is thin under blur).
        let margin = if self.judged >= 0.0 {
            (self.judged / DISCRIMINANT_MARGIN).min(1.0)
        } else {
            ((self.runner_up - self.dist) / 0.12).min(1.0)
        };
        // Each factor clamped on its own: two negative factors (a glyph far
        // from its class and nearer a foreign one) must not multiply into a
        // sure read.
        // The discriminant's margins hold for glyphs like those it was
        // trained on: a digit far from every template of its class (a
        // typeface unlike any trained one) gets little credit from them.
        let near = if self.judged >= 0.0 {
            1.0 - (self.dist - JUDGED_NEAR).max(0.0) * 5.0
        } else {
            1.0 - (self.dist - 0.35).max(0.0) * 2.5
        }
        .clamp(0.0, 1.0);
        let foreign = (1.0 - (self.dist - self.outside - 0.04).max(0.0) * 5.0).clamp(0.0, 1.0);
        let margin = if margin.is_nan() {
            0.0
        } else {
            margin.clamp(0.0, 1.0)
        };
        let classified = margin * near * foreign * (1.0 - self.contradicted.clamp(0.0, 1.0));
        if self.rendered >= 0.0 {
            // The drawing in the card's font is a witness of its own: its
            // fit already says the glyph is this digit, so only the
            // foreign check still applies. A drawing that agrees but is
            // not sure of it also lowers the classifier's credit: in a
            // typeface unlike any trained one the classifier can be sure
            // and wrong, the drawing then fits no digit well.
            let rendered = self.rendered.min(1.0);
            (classified * (RENDER_DOUBT + (1.0 - RENDER_DOUBT) * rendered)).max(rendered * foreign)
        } else {
            classified
        }
    }
}

/// The discriminant margin (squared Mahalanobis units) that counts as a
/// sure digit; calibrated on generated frames with each font left out of
/// training in turn (see `CardFrontSettings::min_confidence`).
const DISCRIMINANT_MARGIN: f32 = 180.0;
/// Template distance up to which a judged digit gets full credit (sure
/// reads of trained fonts sit at 0.05–0.17).
const JUDGED_NEAR: f32 = 0.18;
/// Share of a digit's classifier confidence kept when its drawing
/// agrees with no confidence at all ([`Guess::confidence`]).
const RENDER_DOUBT: f32 = 0.4;
/// Share of the discriminant's margin kept when the templates preferred
/// another digit: it is then the only witness.
pub(super) const OVERRULED: f32 = 0.5;

impl GlyphModel {
    /// A model with no templates: classifies nothing (the fuzz entry).
    pub fn untrained() -> GlyphModel {
        GlyphModel {
            templates: Vec::new(),
            prototypes: Vec::new(),
            fonts: 0,
            digits: None,
            faces: Vec::new(),
            twin: Vec::new(),
        }
    }

    /// The digit discriminant's verdict on a glyph in a digit slot.
    pub fn judge_digit(&self, f: &Features, allowed: &[u8], font: Option<u8>) -> Option<Verdict> {
        self.digits.as_ref()?.judge(&f.feat, allowed, font)
    }

    /// Trained font `font`, to draw glyphs in.
    pub(super) fn face(&self, font: u8) -> Option<&fontdue::Font> {
        self.faces.get(usize::from(font))
    }

    /// The first trained font that draws like `font` (itself when none
    /// before it does).
    pub(super) fn twin(&self, font: u8) -> u8 {
        self.twin.get(usize::from(font)).copied().unwrap_or(font)
    }

    /// Number of fonts the model was trained on.
    pub fn font_count(&self) -> usize {
        self.fonts
    }

    /// Number of templates.
    pub fn len(&self) -> usize {
        self.templates.len()
    }

    /// The mean height of a digit relative to the line (a 年), from the
    /// trained digits; 1 for an untrained model.
    pub fn digit_height(&self) -> f32 {
        let (sum, n) = self
            .prototypes
            .iter()
            .filter(|p| p.class < 10)
            .fold((0.0, 0.0), |(s, n), p| (s + p.height, n + 1.0));
        if n > 0.0 {
            (sum / n).clamp(0.5, 1.2)
        } else {
            1.0
        }
    }

    /// Whether there are no templates.
    pub fn is_empty(&self) -> bool {
        self.templates.is_empty()
    }

    /// Trains from font files (TrueType/OpenType bytes); fonts that do not
    /// parse or lack the alphabet are skipped.
    pub fn train(fonts: &[Vec<u8>]) -> GlyphModel {
        let mut templates = Vec::new();
        let mut font_index: u8 = 0;
        let mut extra_digits: Vec<(u8, u8, [f32; FEAT])> = Vec::new();
        let mut faces = Vec::new();
        for bytes in fonts {
            let Ok(font) =
                fontdue::Font::from_bytes(bytes.as_slice(), fontdue::FontSettings::default())
            else {
                continue;
            };
            if CLASSES.iter().any(|&c| font.lookup_glyph_index(c) == 0) || font_index == u8::MAX {
                continue;
            }
            for px in TEMPLATE_PX {
                // The line height of the template's font: its 年 glyph.
                let (m, _) = font.rasterize('年', px);
                let line_h = m.height as f32;
                let chars = CLASSES
                    .iter()
                    .copied()
                    .chain("０１２３４５６７８９".chars());
                for c in chars {
                    let (m, cov) = font.rasterize(c, px);
                    let Some(class) = class_index(fullwidth_to_ascii(c)) else {
                        continue;
                    };
                    let cov: Vec<f32> = cov.iter().map(|&v| f32::from(v) / 255.0).collect();
                    // Sharp, bold (blur and JPEG thicken strokes) and
                    // defocused (small cards: the blur is a large share of
                    // a stroke) variants.
                    // Digits get more variants, seen only by the digit
                    // discriminant (training time, not reading time).
                    let variants = if class < 10 {
                        VARIANTS + EXTRA_DIGIT_VARIANTS
                    } else {
                        VARIANTS
                    };
                    for variant in 0..variants {
                        let (w, h, cov) = degrade(&cov, m.width, m.height, line_h, variant);
                        // The same contrast curve as the reader's ink map
                        // (dark ink on paper: coverage 0.13 reads as no ink).
                        let ink: Vec<f32> = cov
                            .iter()
                            .map(|&v| (v * 1.9 - 0.25).clamp(0.0, 1.0))
                            .collect();
                        let Some(f) = features(&Ink { w, h, px: &ink }, line_h) else {
                            continue;
                        };
                        if variant < VARIANTS {
                            templates.push(Template {
                                class,
                                font: font_index,
                                feat: f.feat,
                                aspect: f.aspect,
                                height: f.height,
                            });
                        } else {
                            extra_digits.push((font_index, class, f.feat));
                        }
                    }
                }
            }
            faces.push(font);
            font_index += 1;
        }
        let mut prototypes: Vec<(Template, f32)> = Vec::new();
        for t in &templates {
            match prototypes.iter_mut().find(|(p, _)| p.class == t.class) {
                Some((p, n)) => {
                    for (a, b) in p.feat.iter_mut().zip(t.feat.iter()) {
                        *a += b;
                    }
                    p.aspect += t.aspect;
                    p.height += t.height;
                    *n += 1.0;
                }
                None => prototypes.push((t.clone(), 1.0)),
            }
        }
        let prototypes = prototypes
            .into_iter()
            .map(|(mut p, n)| {
                let norm = p.feat.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-6);
                for v in p.feat.iter_mut() {
                    *v /= norm;
                }
                p.aspect /= n;
                p.height /= n;
                p
            })
            .collect();
        let digit_samples: Vec<(u8, u8, &[f32; FEAT])> = templates
            .iter()
            .filter(|t| t.class < 10)
            .map(|t| (t.font, t.class, &t.feat))
            .chain(extra_digits.iter().map(|(f, c, x)| (*f, *c, x)))
            .collect();
        let digits = DigitDiscriminant::train(&digit_samples);
        let drawings: Vec<Vec<u8>> = faces.iter().map(drawing).collect();
        let twin = (0..faces.len())
            .map(|i| {
                let first = (0..i).find(|&j| drawings[j] == drawings[i]).unwrap_or(i);
                u8::try_from(first).unwrap_or(u8::MAX)
            })
            .collect();
        GlyphModel {
            templates,
            prototypes,
            fonts: usize::from(font_index),
            digits,
            faces,
            twin,
        }
    }

    #[inline(always)]
    fn distance(t: &Template, f: &Features) -> f32 {
        let penalty = 0.25 * (t.aspect - f.aspect).abs().min(2.0)
            + 0.5 * (t.height - f.height).abs().min(1.0);
        (1.0 - dot(&t.feat, &f.feat)) + penalty
    }

    /// Distances of a glyph to the classes worth comparing in full: the
    /// nearest [`SHORTLIST`] by prototype, and the nearest
    /// [`DIGIT_SHORTLIST`] digits (a digit slot needs its two best digits
    /// even when the glyph looks like a kanji). With `only`, the class
    /// distances use that font's templates alone (the per-font distances
    /// are always kept).
    pub fn scores(&self, f: Features, only: Option<u8>) -> Scores {
        let mut by_proto: Vec<(u8, f32)> = self
            .prototypes
            .iter()
            .map(|p| (p.class, Self::distance(p, &f)))
            .collect();
        by_proto.sort_by(|a, b| a.1.total_cmp(&b.1));
        let mut wanted: Vec<u8> = by_proto.iter().take(SHORTLIST).map(|p| p.0).collect();
        wanted.extend(
            by_proto
                .iter()
                .filter(|p| p.0 < 10)
                .take(DIGIT_SHORTLIST)
                .map(|p| p.0),
        );
        let mut scores = Scores {
            features: f,
            dist: Zeroizing::new([f32::INFINITY; NCLASS]),
            by_font: Zeroizing::new(vec![f32::INFINITY; self.fonts * NCLASS]),
            compared: 0,
            only,
        };
        self.compare(&mut scores, &wanted);
        scores
    }

    /// Compares a glyph in full with the classes among `classes` it was
    /// not compared with yet. A grammar slot asks for its classes: under
    /// heavy blur a kanji such as で can fall out of the prototype stage's
    /// shortlist, and the line it anchors would not be found.
    pub fn compare(&self, scores: &mut Scores, classes: &[u8]) {
        let mut wanted = 0u32;
        for &c in classes {
            if usize::from(c) < NCLASS {
                wanted |= 1 << c;
            }
        }
        wanted &= !scores.compared;
        if wanted == 0 {
            return;
        }
        scores.compared |= wanted;
        nearest_templates(
            &self.templates,
            wanted,
            &scores.features,
            &mut scores.by_font,
        );
        // A class's distance: its nearest template among the fonts allowed.
        for (font, row) in scores.by_font.chunks_exact(NCLASS).enumerate() {
            if scores.only.is_none_or(|o| usize::from(o) == font) {
                for (class, (d, v)) in scores.dist.iter_mut().zip(row).enumerate() {
                    if wanted & (1 << class) != 0 {
                        *d = d.min(*v);
                    }
                }
            }
        }
    }
}

/// Each font's nearest template of each class in `wanted` (one bit per
/// class), into `by_font` (`font * NCLASS + class`). Compiled for the
/// vector units a kiosk may have and chosen at run time: this is where
/// the reader spends most of a frame (with it, the median read fell from
/// 21 to 18 ms on the two-core development machine).
#[multiversion::multiversion(targets("x86_64+avx512f+avx2+fma", "x86_64+avx2+fma"))]
fn nearest_templates(templates: &[Template], wanted: u32, f: &Features, by_font: &mut [f32]) {
    for t in templates.iter().filter(|t| wanted & (1 << t.class) != 0) {
        let slot = usize::from(t.font) * NCLASS + usize::from(t.class);
        if let Some(best) = by_font.get_mut(slot) {
            *best = best.min(GlyphModel::distance(t, f));
        }
    }
}

/// A dot product in 32 lanes, which the compiler turns into vector
/// instructions (a single running sum stays scalar: float addition does
/// not reassociate), several vectors at once so that the additions do
/// not wait on each other — this is where the reader spends its time.
#[inline(always)]
pub(super) fn dot(a: &[f32; FEAT], b: &[f32; FEAT]) -> f32 {
    const LANES: usize = 32;
    const _: () = assert!(FEAT.is_multiple_of(LANES));
    let mut acc = [0f32; LANES];
    for (x, y) in a.chunks_exact(LANES).zip(b.chunks_exact(LANES)) {
        for i in 0..LANES {
            acc[i] += x[i] * y[i];
        }
    }
    acc.iter().sum()
}

/// Index of a class character in [`CLASSES`].
pub fn class_index(c: char) -> Option<u8> {
    CLASSES.iter().position(|&k| k == c).map(|i| i as u8)
}

/// Template variants of every glyph: sharp, bold, two defocus levels and a
/// motion smear.
const VARIANTS: usize = 5;
/// Further variants of the digits, seen by the discriminant only: a long
/// motion smear (spec §5: ~6 px is almost half a small card's line; with
/// it the discriminant stops taking a smeared 4 for an 8).
const EXTRA_DIGIT_VARIANTS: usize = 1;

/// A glyph's coverage degraded as variant `v` (see [`VARIANTS`] and
/// [`EXTRA_DIGIT_VARIANTS`]).
fn degrade(cov: &[f32], w: usize, h: usize, line_h: f32, v: usize) -> (usize, usize, Vec<f32>) {
    match v {
        0 => (w, h, cov.to_vec()),
        1 => (w, h, dilate(cov, w, h)),
        2 => defocus(cov, w, h, line_h * 0.06, 0),
        3 => defocus(cov, w, h, line_h * 0.11, 0),
        // Motion along the tray.
        4 => defocus(cov, w, h, line_h * 0.04, (line_h * 0.25) as usize),
        _ => defocus(cov, w, h, line_h * 0.06, (line_h * 0.45) as usize),
    }
}

/// A Gaussian defocus (σ) and a horizontal motion smear (`motion` pixels)
/// of a coverage map, padded so the blurred rim fits.
fn defocus(cov: &[f32], w: usize, h: usize, sigma: f32, motion: usize) -> (usize, usize, Vec<f32>) {
    let (pw, ph, mut out) = smear(cov, w, h, sigma, motion);
    // Defocus spreads the ink and lowers its peak; the reader's ink map
    // rescales by the band's strongest contrast, so do the same here.
    let peak = out.iter().copied().fold(0.0, f32::max).max(1e-3);
    for v in out.iter_mut() {
        *v = (*v / peak).min(1.0);
    }
    (pw, ph, out)
}

/// A coverage map blurred by a Gaussian (σ) and smeared horizontally over
/// `motion` pixels, padded so the blurred rim fits (linear: the drawn
/// digits of [`super::render`] are compared with the band's luma).
#[multiversion::multiversion(targets("x86_64+avx512f+avx2+fma", "x86_64+avx2+fma"))]
pub(super) fn smear(
    cov: &[f32],
    w: usize,
    h: usize,
    sigma: f32,
    motion: usize,
) -> (usize, usize, Vec<f32>) {
    let r = (sigma * 2.5).ceil().max(1.0) as usize;
    let k: Vec<f32> = (0..=2 * r)
        .map(|i| {
            let x = i as f32 - r as f32;
            (-(x * x) / (2.0 * sigma * sigma)).exp()
        })
        .collect();
    let kx: Vec<f32> = if motion > 1 {
        let mut out = vec![0f32; k.len() + motion - 1];
        for (i, a) in k.iter().enumerate() {
            for o in out[i..i + motion].iter_mut() {
                *o += a;
            }
        }
        out
    } else {
        k.clone()
    };
    let ksum: f32 = k.iter().sum();
    let kxsum: f32 = kx.iter().sum();
    let rx = kx.len() / 2;
    let (pw, ph) = (w + 2 * rx, h + 2 * r);
    let mut pad = vec![0f32; pw * ph];
    for y in 0..h {
        pad[(y + r) * pw + rx..(y + r) * pw + rx + w].copy_from_slice(&cov[y * w..(y + 1) * w]);
    }
    // Each sum runs over the taps that fall inside the padded map, in
    // tap order; a tap at a time over a whole row (the columns it reaches
    // worked out once), so that the additions run in vector lanes: this is
    // most of a drawn digit's cost.
    let mut tmp = vec![0f32; pw * ph];
    for (row, dst) in pad.chunks_exact(pw).zip(tmp.chunks_exact_mut(pw)) {
        for (t, &kv) in kx.iter().enumerate() {
            let x0 = rx.saturating_sub(t);
            let x1 = (pw + rx).saturating_sub(t).min(pw);
            if x0 >= x1 {
                continue;
            }
            let src = &row[x0 + t - rx..x1 + t - rx];
            for (d, p) in dst[x0..x1].iter_mut().zip(src) {
                *d += kv * p;
            }
        }
        for d in dst.iter_mut() {
            *d /= kxsum;
        }
    }
    let mut out = vec![0f32; pw * ph];
    for (y, dst) in out.chunks_exact_mut(pw).enumerate() {
        let lo = r.saturating_sub(y);
        let hi = k.len().min(ph + r - y);
        for (i, kv) in k.iter().enumerate().take(hi).skip(lo) {
            let src = &tmp[(y + i - r) * pw..(y + i - r + 1) * pw];
            for (d, p) in dst.iter_mut().zip(src) {
                *d += kv * p;
            }
        }
        for d in dst.iter_mut() {
            *d /= ksum;
        }
    }
    (pw, ph, out)
}

fn fullwidth_to_ascii(c: char) -> char {
    match c {
        '０'..='９' => char::from(b'0' + (c as u32 - '０' as u32) as u8),
        _ => c,
    }
}

fn dilate(ink: &[f32], w: usize, h: usize) -> Vec<f32> {
    let mut out = ink.to_vec();
    for y in 0..h {
        for x in 0..w {
            let mut m = ink[y * w + x];
            if x > 0 {
                m = m.max(ink[y * w + x - 1]);
            }
            if y > 0 {
                m = m.max(ink[(y - 1) * w + x]);
            }
            out[y * w + x] = m;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guess(dist: f32, runner_up: f32, outside: f32, judged: f32) -> Guess {
        Guess {
            class: 4,
            dist,
            runner_up,
            outside,
            judged,
            rendered: -1.0,
            contradicted: 0.0,
        }
    }

    #[test]
    fn confidence_needs_every_factor() {
        // A clear template read, and a clear discriminant read.
        assert!(guess(0.10, 0.30, 2.0, -1.0).confidence() > 0.99);
        assert!(guess(0.10, 0.12, 2.0, DISCRIMINANT_MARGIN).confidence() > 0.99);
        // The discriminant's margin replaces the templates' thin one.
        let thin = guess(0.10, 0.12, 2.0, DISCRIMINANT_MARGIN * 0.3).confidence();
        assert!((thin - 0.3).abs() < 1e-4, "{thin}");
        // A digit the templates never compared (outside the shortlist):
        // far and foreign at once, which must not multiply into a sure read.
        assert_eq!(
            guess(f32::INFINITY, 0.4, 0.8, DISCRIMINANT_MARGIN * 5.0).confidence(),
            0.0
        );
        assert_eq!(guess(0.9, 2.0, 0.3, DISCRIMINANT_MARGIN).confidence(), 0.0);
    }

    #[test]
    fn the_discriminant_learns_where_digits_differ() {
        // Two "digits" differ in one cell by 0.4; every sample also moves
        // along two shared directions (boldness, blur) by far more than
        // that, in that cell too. A nearest-mean rule is at chance; the
        // discriminant projects the shared movement out.
        let mut rng = 0x9e37_79b9_u32;
        let mut noise = move || {
            rng ^= rng << 13;
            rng ^= rng >> 17;
            rng ^= rng << 5;
            (rng as f32 / u32::MAX as f32) - 0.5
        };
        let dirs: Vec<[f32; FEAT]> = (0..2)
            .map(|_| {
                let mut d = [0f32; FEAT];
                for v in d.iter_mut() {
                    *v = if noise() > 0.0 { 1.0 } else { -1.0 };
                }
                d
            })
            .collect();
        let sample = |digit: u8, noise: &mut dyn FnMut() -> f32| {
            let (a, b) = (noise() * 6.0, noise() * 6.0);
            let mut x = [0f32; FEAT];
            for (i, v) in x.iter_mut().enumerate() {
                *v = a * dirs[0][i] + b * dirs[1][i] + noise() * 0.04;
            }
            x[7] += if digit == 6 { 0.2 } else { -0.2 };
            x
        };
        let train: Vec<(u8, u8, [f32; FEAT])> = (0..600)
            .map(|i| {
                let d = if i % 2 == 0 { 6 } else { 8 };
                (0, d, sample(d, &mut noise))
            })
            .collect();
        let refs: Vec<(u8, u8, &[f32; FEAT])> = train.iter().map(|(f, d, x)| (*f, *d, x)).collect();
        let lda = DigitDiscriminant::train(&refs).expect("trained");
        let mut right = 0;
        for i in 0..200 {
            let d = if i % 2 == 0 { 6 } else { 8 };
            let v = lda
                .judge(&sample(d, &mut noise), &[6, 8], None)
                .expect("judged");
            assert!(v.margin >= 0.0);
            right += usize::from(v.digit == d);
        }
        assert!(right >= 190, "{right} of 200");
        // Only the allowed digits compete, and one allowed digit is no
        // contest at all.
        assert!(lda.judge(&sample(6, &mut noise), &[6], None).is_none());
        assert!(lda
            .judge(&sample(6, &mut noise), &[6, 8], Some(3))
            .is_none());
    }
}
