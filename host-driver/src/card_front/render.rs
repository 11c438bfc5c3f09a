//! Digits judged by rendering (analysis by synthesis): a digit glyph the
//! classifier is not sure of is compared, pixel by pixel, with every
//! allowed digit drawn in the card's font at the glyph's height and blurred
//! as much as the band is. Owns only that comparison.
//!
//! Why: the classifier's features normalise a glyph to its ink box and
//! compare shapes, which under blur on small print leaves a 6, an 8 and a
//! 3 close together. Drawing the candidates in the font the card was
//! printed in and blurring them the same way models the blur instead of
//! fighting it: of a blurred 6 and a blurred 8, only one fits the pixels.
//! Its verdict counts only when the best drawing fits the glyph closely (a
//! typeface unlike the card's fits no digit well).

use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::glyph::smear;

/// Scales of the drawing against the glyph's measured height besides 1
/// (blur and the ink threshold move the measured height a little).
const SCALES: [f32; 2] = [0.94, 1.06];
/// Blurs tried, as a share of the glyph's height (σ): sharp print on a
/// large card to a small card under the strongest defocus.
const SIGMAS: [f32; 5] = [0.02, 0.05, 0.08, 0.11, 0.14];
/// Horizontal motion smears tried, as a share of the glyph's height (the
/// card slides along the tray: spec §5, up to half a small card's line).
const MOTIONS: [f32; 4] = [0.0, 0.15, 0.3, 0.45];
/// Horizontal and vertical shifts tried around the centroid match (pixels).
const SHIFT_X: i32 = 2;
const SHIFT_Y: i32 = 1;
/// Margin of band pixels kept around the glyph's columns.
const PAD: usize = 3;

/// The rendering's verdict on one glyph (a read digit: wiped on drop, no
/// `Debug`).
#[derive(Zeroize, ZeroizeOnDrop)]
pub(super) struct Rendered {
    /// The digit whose drawing fits best.
    pub digit: u8,
    /// Its fit (normalised cross-correlation, up to 1).
    pub fit: f32,
    /// The best fit of any other allowed digit.
    pub rival: f32,
    /// The blur the best drawing was judged under.
    #[zeroize(skip)]
    pub blur: Blur,
}

/// A blur of the band: a defocus (σ, pixels) and a horizontal motion smear
/// (pixels).
#[derive(Clone, Copy)]
pub(super) struct Blur {
    pub sigma: f32,
    pub motion: usize,
}

/// The fit at and above which the best drawing counts fully, and the fit
/// under which it does not count (a typeface unlike the card's).
const FIT_SURE: f32 = 0.92;
const FIT_LOW: f32 = 0.8;
/// The [`Rendered::ratio`] that counts as a sure digit.
const RATIO_SURE: f32 = 2.0;

impl Rendered {
    /// Confidence (0..1): how much better the best digit fits than its
    /// rival, scaled down for a poor fit.
    pub fn confidence(&self) -> f32 {
        let margin = ((self.ratio() - 1.0) / (RATIO_SURE - 1.0)).clamp(0.0, 1.0);
        let fit = ((self.fit - FIT_LOW) / (FIT_SURE - FIT_LOW)).clamp(0.0, 1.0);
        margin * fit
    }

    /// How many times more of the glyph the rival leaves unexplained than
    /// the best digit: 1 is a tie.
    pub fn ratio(&self) -> f32 {
        (1.0 - self.rival).max(1e-4) / (1.0 - self.fit).max(1e-4)
    }
}

/// A text line of a band as the judge sees it: the band's ink map and
/// luma, `w` wide, and the line's rows.
pub(super) struct Text<'a> {
    pub ink: &'a [f32],
    pub luma: &'a [f32],
    pub w: usize,
    pub line: (usize, usize),
    /// The line's digit height ([`digit_height`]), when it has digits.
    pub digit_height: Option<f32>,
}

/// The height of a line's digits: the median of the heights measured on
/// its digit glyphs (columns `spans`). Digits are set at one height in a
/// typeface, but the ink threshold shortens a faint or thin one under
/// blur: a 0 whose arcs fade measures a fifth shorter than the 3 beside
/// it, and drawn at that height it fits no digit well.
pub(super) fn digit_height(
    ink: &[f32],
    w: usize,
    line: (usize, usize),
    spans: impl Iterator<Item = (usize, usize)>,
) -> Option<f32> {
    let h = ink.len() / w.max(1);
    let mut heights: Vec<usize> = spans
        .filter_map(|span| glyph_rows(ink, w, h, span, line))
        .map(|(top, bottom)| bottom + 1 - top)
        .collect();
    heights.sort_unstable();
    heights.get(heights.len() / 2).map(|&v| v as f32)
}

/// A glyph beside the one judged, as the line was read: its character and
/// its columns (a read character: wiped on drop, no `Debug`).
#[derive(Zeroize, ZeroizeOnDrop)]
pub(super) struct Beside {
    pub c: char,
    /// Where it stands (not what it is).
    #[zeroize(skip)]
    pub span: (usize, usize),
}

/// The band's darkness (255 − luma) around one glyph (a picture of a
/// read digit: wiped on drop).
struct Window {
    /// Its top-left corner in the band.
    x0: usize,
    y0: usize,
    w: usize,
    h: usize,
    px: Zeroizing<Vec<f32>>,
    sum: f64,
    sumsq: f64,
    /// Ink centroid.
    cx: f32,
    cy: f32,
}

/// What the glyphs beside the judged one put into its window: their
/// drawings at one blur, where they stand (a picture of read characters:
/// wiped on drop). Zero when nothing reaches the window.
struct Background {
    px: Zeroizing<Vec<f32>>,
    /// Its sum, its sum of squares and its products with the window.
    sum: f64,
    sumsq: f64,
    dot: f64,
}

/// A neighbour's drawing in one digit form, unblurred, with where its ink
/// centroid stands in the band.
struct Drawn {
    w: usize,
    h: usize,
    cov: Zeroizing<Vec<f32>>,
    cx: f32,
    cy: f32,
}

/// The rows of a line that hold a glyph's ink (first and last).
fn glyph_rows(
    ink: &[f32],
    w: usize,
    h: usize,
    (gx0, gx1): (usize, usize),
    line: (usize, usize),
) -> Option<(usize, usize)> {
    let ry0 = line.0.saturating_sub(2);
    let ry1 = (line.1 + 2).min(h);
    let gx1 = gx1.min(w);
    let rows = (ry0..ry1).filter(|&y| {
        ink[y * w + gx0.min(gx1)..y * w + gx1]
            .iter()
            .any(|&v| v > 0.5)
    });
    let mut rows = rows.peekable();
    let top = *rows.peek()?;
    Some((top, rows.last().unwrap_or(top)))
}

/// Judges the glyph whose ink spans columns `span` of a text line among the `allowed`
/// digits drawn in `font`; `None` when the glyph has too little ink to
/// judge. The drawing is compared with the luma, which is linear in the
/// ink's coverage (the ink map is not: it is rescaled and clipped). The
/// glyphs `beside` it are drawn too, as read and blurred alike: a motion
/// smear carries a neighbour's ink into the glyph's window, and a drawing
/// that left it out would fit every digit worse and tell them apart less.
pub(super) fn judge(
    font: &fontdue::Font,
    text: &Text,
    span: (usize, usize),
    allowed: &[u8],
    beside: &[&Beside],
    at: Option<Blur>,
) -> Option<Rendered> {
    let &Text {
        ink, luma, w, line, ..
    } = text;
    // The glyph's own rows: its height sets the drawing's size.
    let h = ink.len() / w.max(1);
    if luma.len() != ink.len() {
        return None;
    }
    let (top, bottom) = glyph_rows(ink, w, h, span, line)?;
    let gh = text.digit_height.unwrap_or((bottom + 1 - top) as f32);
    if gh < 5.0 {
        return None;
    }
    // The window holds the whole drawing's height about the glyph's rows.
    let mid = (top + bottom + 1) as f32 / 2.0;
    let top = top.min((mid - gh / 2.0).max(0.0) as usize);
    let bottom = bottom.max((mid + gh / 2.0).ceil() as usize - 1);
    let win = window(luma, w, h, span, (top, bottom + 1))?;
    // Every allowed digit, half and full width, as the font draws it.
    let mut shapes: Vec<(u8, char, f32)> = Vec::new();
    for &d in allowed.iter().filter(|&&d| d < 10) {
        for c in [char::from(b'0' + d), full_width(char::from(b'0' + d))] {
            let unit = font.metrics(c, 100.0).bounds.height / 100.0;
            if font.lookup_glyph_index(c) != 0 && unit > 0.0 {
                shapes.push((d, c, gh / unit));
            }
        }
    }
    // The neighbours in both digit forms (a line is set in one).
    let neighbours: [Vec<Drawn>; 2] = [false, true].map(|full| {
        beside
            .iter()
            .filter_map(|b| {
                let c = if full { full_width(b.c) } else { b.c };
                let (nt, nb) = glyph_rows(ink, w, h, b.span, line)?;
                let unit = font.metrics(c, 100.0).bounds.height / 100.0;
                if font.lookup_glyph_index(c) == 0 || unit <= 0.0 {
                    return None;
                }
                let nh = match text.digit_height {
                    Some(dh) if b.c.is_ascii_digit() => dh,
                    _ => (nb + 1 - nt) as f32,
                };
                let (mw, mh, cov) = draw(font, c, nh / unit)?;
                let at = window(luma, w, h, b.span, (nt, nb + 1))?;
                Some(Drawn {
                    w: mw,
                    h: mh,
                    cov: Zeroizing::new(cov),
                    cx: (at.x0 as f32) + at.cx,
                    cy: (at.y0 as f32) + at.cy,
                })
            })
            .collect()
    });
    let form = |c: char| usize::from(!c.is_ascii_digit());
    // Each digit's best fit (which digit the glyph is: wiped on drop).
    let mut best = Zeroizing::new([f32::NEG_INFINITY; 10]);
    // First every blur at the measured size (or the one given): the blur
    // that lets some digit fit best is the band's. Then the other sizes at
    // that blur.
    let mut blur = (f32::NEG_INFINITY, 0.3, 0.0);
    let blurs: Vec<(f32, usize)> = match at {
        Some(b) => vec![(b.sigma, b.motion)],
        None => SIGMAS
            .iter()
            .flat_map(|s| {
                MOTIONS
                    .iter()
                    .map(move |m| ((gh * s).max(0.3), (gh * m).round() as usize))
            })
            .collect(),
    };
    let drawn: Vec<(u8, char, usize, usize, Vec<f32>)> = shapes
        .iter()
        .filter_map(|&(d, c, px)| {
            let (mw, mh, cov) = draw(font, c, px)?;
            Some((d, c, mw, mh, cov))
        })
        .collect();
    for (sigma, motion) in blurs {
        let bg = [0, 1].map(|f| background(&win, &neighbours[f], sigma, motion));
        for (d, c, mw, mh, cov) in &drawn {
            let (bw, bh, model) = smear(cov, *mw, *mh, sigma, motion);
            let fit = best_fit(&win, &bg[form(*c)], &model, bw, bh);
            let slot = &mut best[usize::from(*d)];
            *slot = slot.max(fit);
            if fit > blur.0 {
                blur = (fit, sigma, motion as f32);
            }
        }
    }
    let motion = blur.2 as usize;
    let bg = [0, 1].map(|f| background(&win, &neighbours[f], blur.1, motion));
    for &(d, c, px) in &shapes {
        for s in SCALES {
            let Some((mw, mh, cov)) = draw(font, c, px * s) else {
                continue;
            };
            let (bw, bh, model) = smear(&cov, mw, mh, blur.1, motion);
            let slot = &mut best[usize::from(d)];
            *slot = slot.max(best_fit(&win, &bg[form(c)], &model, bw, bh));
        }
    }
    let mut order: Vec<u8> = allowed.iter().copied().filter(|&d| d < 10).collect();
    order.sort_by(|&a, &b| best[usize::from(b)].total_cmp(&best[usize::from(a)]));
    let digit = *order.first()?;
    let fit = best[usize::from(digit)];
    let rival = order.get(1).map_or(-1.0, |&d| best[usize::from(d)]);
    #[cfg(test)]
    if std::env::var_os("CARDFRONT_DEBUG").is_some() {
        // Test builds only, on generated cards.
        eprintln!(
            "   drawn: {digit} fit {fit:.3} rival {rival:.3} blur {:.1}/{:.1} h {gh} beside {}",
            blur.1,
            blur.2,
            beside.len()
        );
    }
    fit.is_finite().then_some(Rendered {
        digit,
        fit,
        rival,
        blur: Blur {
            sigma: blur.1,
            motion,
        },
    })
}

/// The glyphs on either side of glyph `i` of a line.
pub(super) fn beside(glyphs: &[Beside], i: usize) -> Vec<&Beside> {
    [i.checked_sub(1), Some(i + 1)]
        .into_iter()
        .flatten()
        .filter_map(|j| glyphs.get(j))
        .collect()
}

/// How well a line's digits, as read, fit when drawn in `font` between
/// their neighbours: the sum of their fits and how many were drawn. They
/// are drawn under `blur`; when it is `None`, the first digit finds the
/// line's blur and sets it.
pub(super) fn line_fit(
    font: &fontdue::Font,
    text: &Text,
    glyphs: &[Beside],
    blur: &mut Option<Blur>,
) -> (f32, usize) {
    let (mut sum, mut n) = (0.0, 0);
    for (i, g) in glyphs.iter().enumerate() {
        let Some(d) = g.c.to_digit(10).filter(|_| g.c.is_ascii_digit()) else {
            continue;
        };
        if let Some(r) = judge(font, text, g.span, &[d as u8], &beside(glyphs, i), *blur) {
            sum += r.fit;
            n += 1;
            *blur = Some(r.blur);
        }
    }
    (sum, n)
}

/// A digit's full-width form; any other character as it is.
fn full_width(c: char) -> char {
    match c.to_digit(10) {
        Some(d) if c.is_ascii_digit() => char::from_u32('０' as u32 + d).unwrap_or(c),
        _ => c,
    }
}

/// Character `c` drawn at `px` pixels per em: its coverage (0..1) and size;
/// `None` for an empty drawing.
fn draw(font: &fontdue::Font, c: char, px: f32) -> Option<(usize, usize, Vec<f32>)> {
    let (m, cov) = font.rasterize(c, px);
    (m.width > 0 && m.height > 0).then(|| {
        let cov = cov.iter().map(|&v| f32::from(v) / 255.0).collect();
        (m.width, m.height, cov)
    })
}

/// The neighbours' drawings, blurred, in the window's pixels: each placed
/// with its ink centroid on the one measured in the band (a blur keeps
/// the centroid).
fn background(win: &Window, neighbours: &[Drawn], sigma: f32, motion: usize) -> Background {
    let mut px = Zeroizing::new(vec![0f32; win.w * win.h]);
    for n in neighbours {
        let (bw, bh, model) = smear(&n.cov, n.w, n.h, sigma, motion);
        let model = Zeroizing::new(model);
        let Some((mcx, mcy)) = centroid(&model, bw, bh) else {
            continue;
        };
        let ox = (n.cx - win.x0 as f32 - mcx).round() as i64;
        let oy = (n.cy - win.y0 as f32 - mcy).round() as i64;
        for y in 0..bh {
            let wy = y as i64 + oy;
            if wy < 0 || wy >= win.h as i64 {
                continue;
            }
            for x in 0..bw {
                let wx = x as i64 + ox;
                if wx >= 0 && wx < win.w as i64 {
                    px[wy as usize * win.w + wx as usize] += model[y * bw + x];
                }
            }
        }
    }
    let (mut sum, mut sumsq, mut dot) = (0f64, 0f64, 0f64);
    for (&b, &o) in px.iter().zip(win.px.iter()) {
        let b = f64::from(b);
        sum += b;
        sumsq += b * b;
        dot += b * f64::from(o);
    }
    Background {
        px,
        sum,
        sumsq,
        dot,
    }
}

/// The centroid of a drawing; `None` when it is empty.
fn centroid(model: &[f32], mw: usize, mh: usize) -> Option<(f32, f32)> {
    let (mut msum, mut mx, mut my) = (0f64, 0f64, 0f64);
    for y in 0..mh {
        for x in 0..mw {
            let v = f64::from(model[y * mw + x]);
            msum += v;
            mx += v * x as f64;
            my += v * y as f64;
        }
    }
    (msum > 1e-3).then(|| ((mx / msum) as f32, (my / msum) as f32))
}

/// The darkness (255 − luma) around a glyph, with its sums and ink
/// centroid.
fn window(
    luma: &[f32],
    w: usize,
    h: usize,
    (gx0, gx1): (usize, usize),
    (top, bottom): (usize, usize),
) -> Option<Window> {
    let x0 = gx0.saturating_sub(PAD);
    let x1 = (gx1 + PAD).min(w);
    let y0 = top.saturating_sub(PAD);
    let y1 = (bottom + PAD).min(h);
    let (ww, wh) = (x1.checked_sub(x0)?, y1.checked_sub(y0)?);
    let mut px = Zeroizing::new(vec![0f32; ww * wh]);
    for y in 0..wh {
        for x in 0..ww {
            px[y * ww + x] = 255.0 - luma[(y0 + y) * w + x0 + x];
        }
    }
    // The centroid of the ink above the paper (the window's faintest).
    let paper = px.iter().copied().fold(f32::INFINITY, f32::min);
    let (mut sum, mut sumsq, mut ink, mut mx, mut my) = (0f64, 0f64, 0f64, 0f64, 0f64);
    for y in 0..wh {
        for x in 0..ww {
            let v = px[y * ww + x];
            sum += f64::from(v);
            sumsq += f64::from(v) * f64::from(v);
            let a = f64::from(v - paper);
            ink += a;
            mx += a * x as f64;
            my += a * y as f64;
        }
    }
    if ink <= 1e-3 {
        return None;
    }
    Some(Window {
        x0,
        y0,
        w: ww,
        h: wh,
        px,
        sum,
        sumsq,
        cx: (mx / ink) as f32,
        cy: (my / ink) as f32,
    })
}

/// The best normalised cross-correlation of a drawing, over what its
/// neighbours put into the window, with the window: centroids matched,
/// then shifted a little either way.
fn best_fit(win: &Window, bg: &Background, model: &[f32], mw: usize, mh: usize) -> f32 {
    let Some((mcx, mcy)) = centroid(model, mw, mh) else {
        return f32::NEG_INFINITY;
    };
    let ox0 = (win.cx - mcx).round() as i32;
    let oy0 = (win.cy - mcy).round() as i32;
    let n = (win.w * win.h) as f64;
    let ovar = win.sumsq - win.sum * win.sum / n;
    if ovar <= 1e-9 {
        return f32::NEG_INFINITY;
    }
    let mut best = f32::NEG_INFINITY;
    for dy in -SHIFT_Y..=SHIFT_Y {
        for dx in -SHIFT_X..=SHIFT_X {
            let (ox, oy) = (ox0 + dx, oy0 + dy);
            // The drawing's pixels inside the window (the rest falls
            // outside the glyph's window and is left out of both).
            let (mut sm, mut smm, mut som, mut smb) = (0f64, 0f64, 0f64, 0f64);
            for y in 0..mh {
                let wy = y as i32 + oy;
                if wy < 0 || wy >= win.h as i32 {
                    continue;
                }
                let row = wy as usize * win.w..(wy as usize + 1) * win.w;
                let (wrow, brow) = (&win.px[row.clone()], &bg.px[row]);
                let mrow = &model[y * mw..(y + 1) * mw];
                for (x, &m) in mrow.iter().enumerate() {
                    let wx = x as i32 + ox;
                    if wx < 0 || wx >= win.w as i32 || m == 0.0 {
                        continue;
                    }
                    let m = f64::from(m);
                    sm += m;
                    smm += m * m;
                    som += m * f64::from(wrow[wx as usize]);
                    smb += m * f64::from(brow[wx as usize]);
                }
            }
            // The window's model is the drawing plus its neighbours'.
            let (sm, smm, som) = (sm + bg.sum, smm + 2.0 * smb + bg.sumsq, som + bg.dot);
            let mvar = smm - sm * sm / n;
            if mvar <= 1e-9 {
                continue;
            }
            let ncc = (som - win.sum * sm / n) / (ovar * mvar).sqrt();
            best = best.max(ncc as f32);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn font() -> Option<fontdue::Font> {
        let files = super::super::fonts::load(&[]);
        let (_, bytes) = files.first()?;
        fontdue::Font::from_bytes(bytes.as_slice(), fontdue::FontSettings::default()).ok()
    }

    /// Draws `text` into an ink map with the same blur the judge models.
    fn line_of(
        font: &fontdue::Font,
        text: &str,
        px: f32,
        sigma: f32,
    ) -> (usize, usize, Vec<f32>, Vec<(usize, usize)>) {
        let (w, h) = ((px * text.len() as f32) as usize + 20, (px * 1.6) as usize);
        let mut ink = vec![0f32; w * h];
        let mut spans = Vec::new();
        let mut pen = 10usize;
        let base = (px * 1.2) as i32;
        for c in text.chars() {
            let (m, cov) = font.rasterize(c, px);
            let cov: Vec<f32> = cov.iter().map(|&v| f32::from(v) / 255.0).collect();
            let (bw, bh, b) = smear(&cov, m.width, m.height, sigma, 0);
            let r = (bw - m.width) / 2;
            let top = base - m.height as i32 - m.ymin - r as i32;
            for y in 0..bh {
                for x in 0..bw {
                    let (xx, yy) = (pen + x, top + y as i32);
                    if yy >= 0 && (yy as usize) < h && xx < w {
                        let v = &mut ink[yy as usize * w + xx];
                        *v = v.max(b[y * bw + x]);
                    }
                }
            }
            spans.push((pen + r, pen + r + m.width));
            pen += m.advance_width.ceil() as usize + 2 * r;
        }
        (w, h, ink, spans)
    }

    #[test]
    fn a_blurred_digit_is_judged_by_its_drawing() {
        let Some(font) = font() else {
            eprintln!("render test skipped: no Japanese fonts (run scripts/setup-debian)");
            return;
        };
        let all = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
        for sigma in [0.5, 1.5, 2.5] {
            let (w, h, ink, spans) = line_of(&font, "6830", 22.0, sigma);
            let peak = ink.iter().copied().fold(0.0, f32::max);
            let lines: Vec<usize> = (0..h)
                .filter(|&y| ink[y * w..(y + 1) * w].iter().any(|&v| v > 0.5 * peak))
                .collect();
            let line = (lines[0], lines[lines.len() - 1] + 1);
            for (span, want) in spans.iter().zip([6u8, 8, 3, 0]) {
                // The band's luma is linear in the blurred coverage; its ink
                // map is rescaled to its strongest ink and clipped.
                let luma: Vec<f32> = ink.iter().map(|v| 230.0 - 180.0 * v).collect();
                let peak = ink.iter().copied().fold(0.0, f32::max);
                let ink: Vec<f32> = ink
                    .iter()
                    .map(|v| (v / peak * 1.25 - 0.25).clamp(0.0, 1.0))
                    .collect();
                let text = Text {
                    ink: &ink,
                    luma: &luma,
                    w,
                    line,
                    digit_height: None,
                };
                let r = judge(&font, &text, *span, &all, &[], None).expect("a verdict");
                assert_eq!(r.digit, want, "σ {sigma}");
                assert!(
                    r.fit > 0.9 && r.ratio() > 1.5,
                    "σ {sigma}: fit {} ratio {}",
                    r.fit,
                    r.ratio()
                );
            }
        }
    }

    /// Sets `text` sharp at its advances, then blurs and smears the whole
    /// line at once, as a card sliding in the tray is seen: each glyph's
    /// smear runs into its neighbours'. Returns the line's luma, its ink
    /// map, the text line's rows and each glyph's columns.
    #[allow(clippy::type_complexity)]
    fn smeared_line(
        font: &fontdue::Font,
        text: &str,
        px: f32,
        sigma: f32,
        motion: usize,
    ) -> (
        usize,
        Vec<f32>,
        Vec<f32>,
        (usize, usize),
        Vec<(usize, usize)>,
    ) {
        let (w, h) = ((px * text.len() as f32) as usize + 8, (px * 1.6) as usize);
        let mut cov = vec![0f32; w * h];
        let mut spans = Vec::new();
        let mut pen = 4usize;
        let base = (px * 1.2) as i32;
        for c in text.chars() {
            let (m, g) = font.rasterize(c, px);
            let top = base - m.height as i32 - m.ymin;
            for y in 0..m.height {
                for x in 0..m.width {
                    let (xx, yy) = (pen + x, top + y as i32);
                    if yy >= 0 && (yy as usize) < h && xx < w {
                        cov[yy as usize * w + xx] = f32::from(g[y * m.width + x]) / 255.0;
                    }
                }
            }
            spans.push((pen, pen + m.width));
            pen += m.advance_width.ceil() as usize;
        }
        let (bw, bh, blurred) = smear(&cov, w, h, sigma, motion);
        let rx = (bw - w) / 2;
        let spans = spans.iter().map(|&(a, b)| (a + rx, b + rx)).collect();
        let peak = blurred.iter().copied().fold(0.0, f32::max);
        let ink: Vec<f32> = blurred
            .iter()
            .map(|v| (v / peak * 1.25 - 0.25).clamp(0.0, 1.0))
            .collect();
        let luma = blurred.iter().map(|v| 230.0 - 180.0 * v).collect();
        let rows: Vec<usize> = (0..bh)
            .filter(|&y| ink[y * bw..(y + 1) * bw].iter().any(|&v| v > 0.5))
            .collect();
        let line = (rows[0], rows[rows.len() - 1] + 1);
        (bw, ink, luma, line, spans)
    }

    #[test]
    fn a_digit_is_drawn_between_its_neighbours() {
        let Some(font) = font() else {
            eprintln!("render test skipped: no Japanese fonts (run scripts/setup-debian)");
            return;
        };
        let all = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
        let digits = "6806";
        // A smear of about half a digit's width: each glyph's window holds
        // its neighbours' ink.
        let (w, ink, luma, line, spans) = smeared_line(&font, digits, 30.0, 1.0, 6);
        let text = Text {
            ink: &ink,
            luma: &luma,
            w,
            line,
            digit_height: digit_height(&ink, w, line, spans.iter().copied()),
        };
        let read: Vec<Beside> = digits
            .chars()
            .zip(&spans)
            .map(|(c, &span)| Beside { c, span })
            .collect();
        for (i, (span, want)) in spans.iter().zip([6u8, 8, 0, 6]).enumerate() {
            let beside: Vec<&Beside> = read
                .iter()
                .enumerate()
                .filter(|&(j, _)| j + 1 == i || j == i + 1)
                .map(|(_, b)| b)
                .collect();
            let alone = judge(&font, &text, *span, &all, &[], None).expect("a verdict");
            let between = judge(&font, &text, *span, &all, &beside, None).expect("a verdict");
            assert_eq!(between.digit, want, "digit {i}");
            assert!(
                between.fit > 0.95 && between.fit > alone.fit + 0.02,
                "digit {i}: fit {} between its neighbours, {} alone",
                between.fit,
                alone.fit
            );
        }
    }
}
