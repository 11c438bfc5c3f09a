//! The glyph classifier. Owns the alphabet of the three fields, the glyph
//! feature (ink normalised into a fixed grid, plus shape ratios), and the
//! nearest-template model trained from font bytes at start-up — no weights
//! to ship or license, and any Japanese font on the machine adds templates.

/// Side of the feature grid.
const GRID: usize = 16;
/// Feature length: the grid, then aspect and relative height.
const FEAT: usize = GRID * GRID;

/// The characters the fields are made of, plus neighbours that may enter a
/// search band (性別, 男, 女) so they are not forced into a digit.
pub const ALPHABET: &str = "0123456789年月日生元大正昭和平成令明治まで有効性別男女";

/// Font-size ratios: full-width digits are matched with the same templates
/// as half-width ones (the shape is normalised), so only the shapes count.
#[derive(Clone)]
struct Template {
    class: char,
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
}

/// Classes compared in full after the prototype stage.
const SHORTLIST: usize = 6;

/// A glyph's ink: coverage 0..1, row-major, tight or not.
pub struct Ink<'a> {
    /// Width.
    pub w: usize,
    /// Height.
    pub h: usize,
    /// Coverage.
    pub px: &'a [f32],
}

/// Features of one glyph, relative to its text line's height.
pub struct Features {
    feat: [f32; FEAT],
    aspect: f32,
    height: f32,
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
    // Centre the box in a square of its longer side, then area-sample.
    let (ox, oy) = (x0 as f32 - (side - bw) / 2.0, y0 as f32 - (side - bh) / 2.0);
    let cell = side / GRID as f32;
    let mut feat = [0f32; FEAT];
    let sub = 3;
    for gy in 0..GRID {
        for gx in 0..GRID {
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
            feat[gy * GRID + gx] = s / (sub * sub) as f32;
        }
    }
    blur3(&mut feat);
    let mean = feat.iter().sum::<f32>() / FEAT as f32;
    let mut norm = 0.0;
    for f in feat.iter_mut() {
        *f -= mean;
        norm += *f * *f;
    }
    let norm = norm.sqrt().max(1e-6);
    for f in feat.iter_mut() {
        *f /= norm;
    }
    Some(Features {
        feat,
        aspect: (bw / bh).ln(),
        height: bh / line_h.max(1.0),
    })
}

/// A light blur of the grid so that one-cell stroke shifts cost little.
fn blur3(g: &mut [f32; FEAT]) {
    let src = *g;
    for y in 0..GRID {
        for x in 0..GRID {
            let mut s = 0.0;
            let mut n = 0.0;
            for (dx, dy, wt) in [
                (0i32, 0i32, 2.0f32),
                (-1, 0, 1.0),
                (1, 0, 1.0),
                (0, -1, 1.0),
                (0, 1, 1.0),
            ] {
                let (xx, yy) = (x as i32 + dx, y as i32 + dy);
                if xx >= 0 && yy >= 0 && (xx as usize) < GRID && (yy as usize) < GRID {
                    s += wt * src[yy as usize * GRID + xx as usize];
                    n += wt;
                }
            }
            g[y * GRID + x] = s / n;
        }
    }
}

/// The best and the runner-up class for a glyph (a read digit: no `Debug`).
#[derive(Clone, Copy)]
pub struct Guess {
    /// The best class.
    pub class: char,
    /// Its distance (0 = identical).
    pub dist: f32,
    /// The nearest other class's distance.
    pub runner_up: f32,
}

impl Guess {
    /// Confidence from the margin to the runner-up (0..1).
    pub fn confidence(&self) -> f32 {
        (((self.runner_up - self.dist) / 0.12).min(1.0) * (1.0 - (self.dist - 0.35).max(0.0) * 2.5))
            .clamp(0.0, 1.0)
    }
}

impl GlyphModel {
    /// A model with no templates: classifies nothing (the fuzz entry).
    pub fn untrained() -> GlyphModel {
        GlyphModel {
            templates: Vec::new(),
            prototypes: Vec::new(),
        }
    }

    /// Number of templates.
    pub fn len(&self) -> usize {
        self.templates.len()
    }

    /// Whether there are no templates.
    pub fn is_empty(&self) -> bool {
        self.templates.is_empty()
    }

    /// Trains from font files (TrueType/OpenType bytes); fonts that do not
    /// parse or lack the alphabet are skipped.
    pub fn train(fonts: &[Vec<u8>]) -> GlyphModel {
        let mut templates = Vec::new();
        for bytes in fonts {
            let Ok(font) =
                fontdue::Font::from_bytes(bytes.as_slice(), fontdue::FontSettings::default())
            else {
                continue;
            };
            if ALPHABET.chars().any(|c| font.lookup_glyph_index(c) == 0) {
                continue;
            }
            for px in [15.0f32, 20.0, 28.0, 40.0] {
                // The line height of the template's font: its 年 glyph.
                let (m, _) = font.rasterize('年', px);
                let line_h = m.height as f32;
                let mut chars: Vec<char> = ALPHABET.chars().collect();
                chars.extend("０１２３４５６７８９".chars());
                for c in chars {
                    let (m, cov) = font.rasterize(c, px);
                    // The same contrast curve as the reader's ink map
                    // (dark ink on paper: coverage 0.13 reads as no ink).
                    let ink: Vec<f32> = cov
                        .iter()
                        .map(|&v| (f32::from(v) / 255.0 * 1.9 - 0.25).clamp(0.0, 1.0))
                        .collect();
                    let class = fullwidth_to_ascii(c);
                    for bold in [false, true] {
                        let ink = if bold {
                            dilate(&ink, m.width, m.height)
                        } else {
                            ink.clone()
                        };
                        if let Some(f) = features(
                            &Ink {
                                w: m.width,
                                h: m.height,
                                px: &ink,
                            },
                            line_h,
                        ) {
                            templates.push(Template {
                                class,
                                feat: f.feat,
                                aspect: f.aspect,
                                height: f.height,
                            });
                        }
                    }
                }
            }
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
        GlyphModel {
            templates,
            prototypes,
        }
    }

    fn distance(t: &Template, f: &Features) -> f32 {
        let penalty = 0.25 * (t.aspect - f.aspect).abs().min(2.0)
            + 0.5 * (t.height - f.height).abs().min(1.0);
        let dot: f32 = t.feat.iter().zip(f.feat.iter()).map(|(a, b)| a * b).sum();
        (1.0 - dot) + penalty
    }

    /// Classifies one glyph.
    pub fn classify(&self, f: &Features) -> Option<Guess> {
        let mut best: Vec<(char, f32)> = Vec::new();
        // The two best distances of different classes so far: a template
        // whose shape penalty alone exceeds the second is skipped (the
        // correlation term is never negative).
        let mut by_proto: Vec<(char, f32)> = self
            .prototypes
            .iter()
            .map(|p| (p.class, Self::distance(p, f)))
            .collect();
        by_proto.sort_by(|a, b| a.1.total_cmp(&b.1));
        let shortlist: Vec<char> = by_proto.iter().take(SHORTLIST).map(|p| p.0).collect();
        let mut second = f32::INFINITY;
        for t in self
            .templates
            .iter()
            .filter(|t| shortlist.contains(&t.class))
        {
            let penalty = 0.25 * (t.aspect - f.aspect).abs().min(2.0)
                + 0.5 * (t.height - f.height).abs().min(1.0);
            if penalty >= second {
                continue;
            }
            let dot: f32 = t.feat.iter().zip(f.feat.iter()).map(|(a, b)| a * b).sum();
            let d = (1.0 - dot) + penalty;
            match best.iter_mut().find(|(c, _)| *c == t.class) {
                Some(slot) => slot.1 = slot.1.min(d),
                None => best.push((t.class, d)),
            }
            if best.len() >= 2 {
                let (mut m1, mut m2) = (f32::INFINITY, f32::INFINITY);
                for &(_, v) in &best {
                    if v < m1 {
                        m2 = m1;
                        m1 = v;
                    } else if v < m2 {
                        m2 = v;
                    }
                }
                second = m2;
            }
        }
        best.sort_by(|a, b| a.1.total_cmp(&b.1));
        let first = best.first()?;
        Some(Guess {
            class: first.0,
            dist: first.1,
            runner_up: best.get(1).map_or(2.0, |s| s.1),
        })
    }
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
