//! Finding the card and rectifying it. Owns the luma plane, the card's
//! outline (a bright, card-shaped component of the frame), the homography
//! from the canonical card to the frame, and the orientation check (which
//! side the photo is on).

use zeroize::Zeroizing;

use super::Refusal;
use myna_face::image::RgbFrame;

/// Canonical card size: ID-1 at 10 px/mm, as the simulator draws it.
pub const CARD_W: f32 = 856.0;
/// Canonical card height.
pub const CARD_H: f32 = 540.0;
const ASPECT: f32 = CARD_W / CARD_H;
/// Dark/light switches per row above which the photo box holds a pattern
/// (the back's QR code), not a portrait.
const MAX_PHOTO_SWITCHES: f32 = 6.0;
/// How much darker the photo's box must be than its 180° mirror (the
/// birth and expiry lines) to tell which way up the card lies. Bold
/// typefaces under blur make the mirror up to 0.7 as dark as the photo; a
/// wrong call only makes the fields unreadable (a refusal, never a read).
const PHOTO_SIDE_RATIO: f32 = 1.3;

/// A luma plane, wiped on drop (it is a picture of the card).
pub struct Luma {
    /// Width.
    pub w: usize,
    /// Height.
    pub h: usize,
    /// Row-major luma.
    pub px: Zeroizing<Vec<u8>>,
}

impl Luma {
    /// Luma of an RGB frame; `None` for frames too small to hold a card.
    pub fn from_frame(frame: &RgbFrame) -> Option<Luma> {
        let (w, h) = (frame.width() as usize, frame.height() as usize);
        if w < 64 || h < 40 || frame.pixels().len() != w * h * 3 {
            return None;
        }
        let mut px = Zeroizing::new(vec![0u8; w * h]);
        for (o, p) in px.iter_mut().zip(frame.pixels().chunks_exact(3)) {
            *o = ((u32::from(p[0]) * 77 + u32::from(p[1]) * 150 + u32::from(p[2]) * 29) >> 8) as u8;
        }
        Some(Luma { w, h, px })
    }

    fn half(&self) -> Luma {
        let (w, h) = (self.w / 2, self.h / 2);
        let mut px = Zeroizing::new(vec![0u8; w * h]);
        for y in 0..h {
            let r0 = &self.px[2 * y * self.w..];
            let r1 = &self.px[(2 * y + 1) * self.w..];
            for x in 0..w {
                let s = u32::from(r0[2 * x])
                    + u32::from(r0[2 * x + 1])
                    + u32::from(r1[2 * x])
                    + u32::from(r1[2 * x + 1]);
                px[y * w + x] = (s / 4) as u8;
            }
        }
        Luma { w, h, px }
    }

    /// Bilinear sample at (x, y); outside the frame reads as black.
    pub fn sample(&self, x: f32, y: f32) -> f32 {
        if !(x >= 0.0 && y >= 0.0) || x > (self.w - 1) as f32 || y > (self.h - 1) as f32 {
            return 0.0;
        }
        let (x0, y0) = (x as usize, y as usize);
        let (x1, y1) = ((x0 + 1).min(self.w - 1), (y0 + 1).min(self.h - 1));
        let (fx, fy) = (x - x0 as f32, y - y0 as f32);
        let p = |xx: usize, yy: usize| f32::from(self.px[yy * self.w + xx]);
        let top = p(x0, y0) * (1.0 - fx) + p(x1, y0) * fx;
        let bot = p(x0, y1) * (1.0 - fx) + p(x1, y1) * fx;
        top * (1.0 - fy) + bot * fy
    }
}

fn otsu(px: &[u8]) -> u8 {
    let mut hist = [0u64; 256];
    for &p in px {
        hist[p as usize] += 1;
    }
    let total = px.len() as f64;
    let sum: f64 = hist
        .iter()
        .enumerate()
        .map(|(i, &c)| i as f64 * c as f64)
        .sum();
    let (mut w0, mut s0, mut best, mut t) = (0.0f64, 0.0f64, -1.0f64, 128u8);
    for (i, &c) in hist.iter().enumerate() {
        w0 += c as f64;
        s0 += i as f64 * c as f64;
        let w1 = total - w0;
        if w0 == 0.0 || w1 == 0.0 {
            continue;
        }
        let (m0, m1) = (s0 / w0, (sum - s0) / w1);
        let between = w0 * w1 * (m0 - m1) * (m0 - m1);
        if between > best {
            best = between;
            t = i as u8;
        }
    }
    t
}

/// A line a·x + b·y = c with (a, b) a unit normal.
#[derive(Clone, Copy)]
struct Line {
    a: f32,
    b: f32,
    c: f32,
}

fn fit_line(points: &[(f32, f32)]) -> Option<Line> {
    if points.len() < 4 {
        return None;
    }
    let n = points.len() as f32;
    let (mx, my) = points
        .iter()
        .fold((0.0, 0.0), |(sx, sy), p| (sx + p.0 / n, sy + p.1 / n));
    let (mut sxx, mut sxy, mut syy) = (0.0f32, 0.0f32, 0.0f32);
    for p in points {
        let (dx, dy) = (p.0 - mx, p.1 - my);
        sxx += dx * dx;
        sxy += dx * dy;
        syy += dy * dy;
    }
    // Direction = principal axis; the normal is perpendicular.
    let theta = 0.5 * (2.0 * sxy).atan2(sxx - syy);
    let (a, b) = (-theta.sin(), theta.cos());
    Some(Line {
        a,
        b,
        c: a * mx + b * my,
    })
}

fn intersect(l: Line, m: Line) -> Option<(f32, f32)> {
    let det = l.a * m.b - l.b * m.a;
    if det.abs() < 1e-4 {
        return None;
    }
    Some(((l.c * m.b - l.b * m.c) / det, (l.a * m.c - l.c * m.a) / det))
}

/// The card's corners in frame pixels: top-left, top-right, bottom-right,
/// bottom-left of the card as it lies (long side horizontal).
#[derive(Debug, Clone, Copy)]
pub struct Quad(pub [(f32, f32); 4]);

struct Component {
    area: usize,
    /// Per-row leftmost/rightmost and per-column topmost/bottommost pixels.
    edge: Vec<(f32, f32)>,
}

/// Labels the 4-connected region of `start` with `id`: every unlabelled
/// pixel `inside` says belongs, each passed to `each` once. `stack` is
/// scratch space kept between calls.
pub(super) fn flood(
    label: &mut [u32],
    (w, h): (usize, usize),
    start: usize,
    id: u32,
    stack: &mut Vec<usize>,
    inside: impl Fn(usize) -> bool,
    mut each: impl FnMut(usize),
) {
    label[start] = id;
    stack.push(start);
    while let Some(i) = stack.pop() {
        each(i);
        let (x, y) = (i % w, i / w);
        let neighbours = [
            (x > 0).then(|| i - 1),
            (x + 1 < w).then(|| i + 1),
            (y > 0).then(|| i - w),
            (y + 1 < h).then(|| i + w),
        ];
        for j in neighbours.into_iter().flatten() {
            if label[j] == 0 && inside(j) {
                label[j] = id;
                stack.push(j);
            }
        }
    }
}

fn components(mask: &[bool], w: usize, h: usize, min_area: usize) -> Vec<Component> {
    let mut label = vec![0u32; w * h];
    let mut out = Vec::new();
    let mut stack = Vec::new();
    let mut next = 0u32;
    for start in 0..w * h {
        if !mask[start] || label[start] != 0 {
            continue;
        }
        next += 1;
        let mut pixels = Vec::new();
        flood(
            &mut label,
            (w, h),
            start,
            next,
            &mut stack,
            |j| mask[j],
            |i| pixels.push(i),
        );
        if pixels.len() < min_area {
            continue;
        }
        let mut rows: std::collections::BTreeMap<usize, (usize, usize)> = Default::default();
        let mut cols: std::collections::BTreeMap<usize, (usize, usize)> = Default::default();
        for &i in &pixels {
            let (x, y) = (i % w, i / w);
            let r = rows.entry(y).or_insert((x, x));
            r.0 = r.0.min(x);
            r.1 = r.1.max(x);
            let c = cols.entry(x).or_insert((y, y));
            c.0 = c.0.min(y);
            c.1 = c.1.max(y);
        }
        let mut edge = Vec::new();
        for (y, (x0, x1)) in rows {
            edge.push((x0 as f32, y as f32));
            edge.push((x1 as f32, y as f32));
        }
        for (x, (y0, y1)) in cols {
            edge.push((x as f32, y0 as f32));
            edge.push((x as f32, y1 as f32));
        }
        out.push(Component {
            area: pixels.len(),
            edge,
        });
    }
    out
}

/// The rectangle angles tried: 0° to 90° in half-degree steps (a rectangle
/// repeats every 90°; the long side is decided afterwards).
const RECT_STEPS: usize = 180;

fn rect_angle(step: usize) -> f32 {
    (step as f32).to_radians() * 0.5
}

/// The minimum-area bounding rectangle of `pts` about (cx, cy): its angle
/// and its extents (u0, u1, v0, v1) along and across that angle.
fn min_area_rect(pts: &[(f32, f32)], cx: f32, cy: f32) -> Option<(f32, [f32; 4])> {
    let mut best: Option<(f32, f32, [f32; 4])> = None;
    for step in 0..RECT_STEPS {
        let th = rect_angle(step);
        let (s, co) = th.sin_cos();
        let (mut u0, mut u1, mut v0, mut v1) = (f32::MAX, f32::MIN, f32::MAX, f32::MIN);
        for p in pts {
            let (dx, dy) = (p.0 - cx, p.1 - cy);
            let u = dx * co + dy * s;
            let v = -dx * s + dy * co;
            u0 = u0.min(u);
            u1 = u1.max(u);
            v0 = v0.min(v);
            v1 = v1.max(v);
        }
        let area = (u1 - u0) * (v1 - v0);
        if best.is_none_or(|b| area < b.1) {
            best = Some((th, area, [u0, u1, v0, v1]));
        }
    }
    best.map(|(th, _, e)| (th, e))
}

/// The rectangle whose four sides gather the most edge points: at each
/// angle, the densest 3-pixel band of u in each half and of v in each half.
/// A straight card edge puts hundreds of edge points in one band; a thumb
/// over a corner, pale enough to join the card's component, spreads its
/// few over many. This is the fit when the bounding rectangle fails.
fn densest_sides_rect(pts: &[(f32, f32)], cx: f32, cy: f32) -> Option<(f32, [f32; 4])> {
    let mut best: Option<(usize, f32, [f32; 4])> = None;
    let (mut us, mut vs) = (Vec::with_capacity(pts.len()), Vec::with_capacity(pts.len()));
    for step in 0..RECT_STEPS {
        let th = rect_angle(step);
        let (s, co) = th.sin_cos();
        us.clear();
        vs.clear();
        for p in pts {
            let (dx, dy) = (p.0 - cx, p.1 - cy);
            us.push(dx * co + dy * s);
            vs.push(-dx * s + dy * co);
        }
        let (Some((lo_u, n0)), Some((hi_u, n1))) =
            (densest_band(&us, true), densest_band(&us, false))
        else {
            continue;
        };
        let (Some((lo_v, n2)), Some((hi_v, n3))) =
            (densest_band(&vs, true), densest_band(&vs, false))
        else {
            continue;
        };
        let score = n0 + n1 + n2 + n3;
        if best.is_none_or(|b| score > b.0) {
            best = Some((score, th, [lo_u, hi_u, lo_v, hi_v]));
        }
    }
    best.map(|(_, th, e)| (th, e))
}

/// The centre and point count of the densest 3-pixel band of `values` in
/// their lower (or upper) half.
fn densest_band(values: &[f32], lower: bool) -> Option<(f32, usize)> {
    let (min, max) = values
        .iter()
        .fold((f32::MAX, f32::MIN), |(a, b), v| (a.min(*v), b.max(*v)));
    if !(max - min).is_finite() || max - min < 8.0 {
        return None;
    }
    let bins = (max - min).ceil() as usize + 1;
    let mut hist = vec![0usize; bins];
    for v in values {
        hist[(v - min) as usize] += 1;
    }
    let half = bins / 2;
    let range = if lower { 1..half } else { half..bins - 1 };
    range
        .map(|i| (i, hist[i - 1] + hist[i] + hist[i + 1]))
        .max_by_key(|(_, n)| *n)
        .map(|(i, n)| (min + i as f32 + 0.5, n))
}

/// Fits the card quadrilateral to a component's edge points: a rectangle
/// selects the points of each edge (corners left out, they are rounded), a
/// line is fitted to each, and adjacent lines meet at the corners — so mild
/// perspective is followed. The rectangle is the minimum-area bounding one,
/// or, where that is not card-shaped (a thumb joined the component), the
/// one whose sides gather the most edge points.
fn fit_quad(c: &Component, frame_w: f32) -> Option<Quad> {
    let pts = &c.edge;
    let n = pts.len() as f32;
    let (cx, cy) = pts
        .iter()
        .fold((0.0, 0.0), |(sx, sy), p| (sx + p.0 / n, sy + p.1 / n));
    let (th, extents) = min_area_rect(pts, cx, cy)?;
    quad_from_rect(c, frame_w, (cx, cy), th, extents).or_else(|| {
        let (th, extents) = densest_sides_rect(pts, cx, cy)?;
        quad_from_rect(c, frame_w, (cx, cy), th, extents)
    })
}

/// The card quadrilateral from a rectangle about `centre` (angle `th`,
/// extents u0, u1, v0, v1), when the rectangle is card-shaped.
fn quad_from_rect(
    c: &Component,
    frame_w: f32,
    (cx, cy): (f32, f32),
    mut th: f32,
    [mut u0, mut u1, mut v0, mut v1]: [f32; 4],
) -> Option<Quad> {
    let pts = &c.edge;
    let rect_area = (u1 - u0) * (v1 - v0);
    // Make u the long axis.
    if u1 - u0 < v1 - v0 {
        th += std::f32::consts::FRAC_PI_2;
        let (nu0, nu1, nv0, nv1) = (v0, v1, -u1, -u0);
        (u0, u1, v0, v1) = (nu0, nu1, nv0, nv1);
    }
    // Long axis pointing right in the frame, so that "upside down" means
    // the photo is on the frame's left.
    if th.cos() < 0.0 {
        th -= std::f32::consts::PI;
        (u0, u1, v0, v1) = (-u1, -u0, -v1, -v0);
    }
    let (len, wid) = (u1 - u0, v1 - v0);
    let aspect = len / wid;
    if !(ASPECT * 0.8..=ASPECT * 1.25).contains(&aspect) {
        return None;
    }
    if len < frame_w * 0.22 || len > frame_w * 0.95 {
        return None;
    }
    if (c.area as f32) < rect_area * 0.78 {
        return None;
    }
    let (s, co) = th.sin_cos();
    let to_uv = |p: &(f32, f32)| {
        let (dx, dy) = (p.0 - cx, p.1 - cy);
        (dx * co + dy * s, -dx * s + dy * co)
    };
    let tol_u = len * 0.04;
    let tol_v = wid * 0.06;
    let mut sides: [Vec<(f32, f32)>; 4] = Default::default();
    for p in pts {
        let (u, v) = to_uv(p);
        let mid_u = u > u0 + len * 0.12 && u < u1 - len * 0.12;
        let mid_v = v > v0 + wid * 0.15 && v < v1 - wid * 0.15;
        // Distances both ways: a rectangle fitted to the densest sides
        // leaves a thumb's edge points outside it.
        if mid_u && (v - v0).abs() < tol_v {
            sides[0].push(*p); // top
        } else if mid_v && (u1 - u).abs() < tol_u {
            sides[1].push(*p); // right
        } else if mid_u && (v1 - v).abs() < tol_v {
            sides[2].push(*p); // bottom
        } else if mid_v && (u - u0).abs() < tol_u {
            sides[3].push(*p); // left
        }
    }
    let mut lines = [Line {
        a: 0.0,
        b: 0.0,
        c: 0.0,
    }; 4];
    for (i, side) in sides.iter().enumerate() {
        let first = fit_line(side)?;
        // One pass of outlier removal: a thumb or glare notch on an edge.
        let keep: Vec<_> = side
            .iter()
            .copied()
            .filter(|p| (first.a * p.0 + first.b * p.1 - first.c).abs() < 2.0)
            .collect();
        lines[i] = if keep.len() >= side.len() / 3 {
            fit_line(&keep)?
        } else {
            first
        };
    }
    let tl = intersect(lines[3], lines[0])?;
    let tr = intersect(lines[0], lines[1])?;
    let br = intersect(lines[1], lines[2])?;
    let bl = intersect(lines[2], lines[3])?;
    Some(Quad([tl, tr, br, bl]))
}

/// Finds exactly one card in the frame.
pub fn locate_card(luma: &Luma) -> Result<Quad, Refusal> {
    let small = luma.half();
    let t = otsu(&small.px);
    // A frame without a pale card has no useful split: require contrast.
    let mask: Vec<bool> = small.px.iter().map(|&p| p > t).collect();
    let min_area = (small.w * small.w) / 40;
    let comps = components(&mask, small.w, small.h, min_area);
    let mut quads: Vec<Quad> = comps
        .iter()
        .filter_map(|c| fit_quad(c, small.w as f32))
        .collect();
    match quads.len() {
        0 => Err(Refusal::NoCard),
        1 => {
            let mut q = quads.remove(0);
            for p in q.0.iter_mut() {
                // Half-resolution pixel centres to full resolution.
                *p = (p.0 * 2.0 + 0.5, p.1 * 2.0 + 0.5);
            }
            Ok(q)
        }
        _ => Err(Refusal::SeveralCards),
    }
}

/// A homography: canonical card (u, v) → frame (x, y).
#[derive(Clone, Copy)]
pub struct Homography([f32; 9]);

impl Homography {
    /// The homography sending the four `from` points to the `to` points.
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

    /// Maps (u, v).
    pub fn map(&self, u: f32, v: f32) -> (f32, f32) {
        let h = &self.0;
        let w = h[6] * u + h[7] * v + h[8];
        (
            (h[0] * u + h[1] * v + h[2]) / w,
            (h[3] * u + h[4] * v + h[5]) / w,
        )
    }
}

/// A rectified band of the card: luma, row-major, wiped on drop.
pub struct Band {
    /// Width.
    pub w: usize,
    /// Height.
    pub h: usize,
    /// Luma samples.
    pub px: Zeroizing<Vec<f32>>,
}

/// Samples the card through its homography.
pub struct Rectifier<'a> {
    luma: &'a Luma,
    h: Homography,
}

impl<'a> Rectifier<'a> {
    /// The rectifier for a located card (long side horizontal, orientation
    /// not yet known).
    pub fn new(luma: &'a Luma, quad: &Quad) -> Option<Rectifier<'a>> {
        let canon = [(0.0, 0.0), (CARD_W, 0.0), (CARD_W, CARD_H), (0.0, CARD_H)];
        Some(Rectifier {
            luma,
            h: Homography::from_points(canon, quad.0)?,
        })
    }

    /// The same card turned 180°.
    pub fn oriented(self, upside_down: bool) -> Rectifier<'a> {
        if !upside_down {
            return self;
        }
        let turned = [(CARD_W, CARD_H), (0.0, CARD_H), (0.0, 0.0), (CARD_W, 0.0)];
        let corners = [
            self.h.map(turned[0].0, turned[0].1),
            self.h.map(turned[1].0, turned[1].1),
            self.h.map(turned[2].0, turned[2].1),
            self.h.map(turned[3].0, turned[3].1),
        ];
        let canon = [(0.0, 0.0), (CARD_W, 0.0), (CARD_W, CARD_H), (0.0, CARD_H)];
        match Homography::from_points(canon, corners) {
            Some(h) => Rectifier { luma: self.luma, h },
            None => self,
        }
    }

    /// The frame's colour at card point (u, v) (canonical units,
    /// [`CARD_W`] × [`CARD_H`]), bilinear; black outside the frame.
    pub fn rgb(&self, frame: &RgbFrame, u: f32, v: f32) -> [f32; 3] {
        let (x, y) = self.h.map(u, v);
        myna_face::detect::sample_rgb(frame, x, y)
    }

    fn band_scaled(&self, r: &[f32; 4], scale: f32) -> Band {
        let (x0, y0) = (r[0] * CARD_W, r[1] * CARD_H);
        let w = (((r[2] - r[0]) * CARD_W * scale) as usize).max(1);
        let h = (((r[3] - r[1]) * CARD_H * scale) as usize).max(1);
        let mut px = Zeroizing::new(vec![0f32; w * h]);
        for y in 0..h {
            for x in 0..w {
                let (fx, fy) = self.h.map(x0 + x as f32 / scale, y0 + y as f32 / scale);
                px[y * w + x] = self.luma.sample(fx, fy);
            }
        }
        Band { w, h, px }
    }

    /// Whether the photo is on the left (the card lies upside down), from
    /// the share of dark pixels in the photo box and its 180° mirror.
    /// Refuses when neither side looks like a photo (back side, or not a
    /// My Number Card front).
    pub fn upside_down(&self, photo: &[f32; 4]) -> Result<bool, Refusal> {
        let mirror = [
            1.0 - photo[2],
            1.0 - photo[3],
            1.0 - photo[0],
            1.0 - photo[1],
        ];
        let whole = self.band_scaled(&[0.0, 0.0, 1.0, 1.0], 0.125);
        let mut sorted = Zeroizing::new(whole.px.to_vec());
        sorted.sort_by(f32::total_cmp);
        let paper = sorted[sorted.len() * 3 / 4].max(1.0);
        let dark = |r: &[f32; 4]| {
            let b = self.band_scaled(r, 0.125);
            b.px.iter().filter(|&&p| p < paper * 0.72).count() as f32 / b.px.len() as f32
        };
        let (right, left) = (dark(photo), dark(&mirror));
        #[cfg(test)]
        if std::env::var_os("CARDFRONT_DEBUG").is_some() {
            eprintln!(" photo side: right {right:.3} left {left:.3}");
        }
        let upside_down = if right > 0.2 && right > left * PHOTO_SIDE_RATIO {
            false
        } else if left > 0.2 && left > right * PHOTO_SIDE_RATIO {
            true
        } else {
            return Err(Refusal::NoPhoto);
        };
        // The back's QR code is as dark as a photo but busy: a portrait's
        // rows cross hair, face and clothes a few times, a QR code's rows
        // switch between dark and light at almost every module.
        let b = self.band_scaled(if upside_down { &mirror } else { photo }, 0.5);
        // With hysteresis: skin and a pale backdrop sit between the two
        // levels, and noise there must not count. Along rows and along
        // columns, the busier of the two (motion blur smears one way).
        let (dark_below, light_above) = (paper * 0.55, paper * 0.8);
        let switches = |line: &mut dyn Iterator<Item = f32>| {
            let (mut state, mut n) = (None, 0usize);
            for p in line {
                let now = if p < dark_below {
                    Some(true)
                } else if p > light_above {
                    Some(false)
                } else {
                    state
                };
                if state.is_some() && now != state {
                    n += 1;
                }
                state = now;
            }
            n
        };
        let (w, h) = (b.w.max(1), b.h.max(1));
        let rows: usize = (0..h)
            .map(|y| switches(&mut (0..w).map(|x| b.px.get(y * w + x).copied().unwrap_or(0.0))))
            .sum();
        let cols: usize = (0..w)
            .map(|x| switches(&mut (0..h).map(|y| b.px.get(y * w + x).copied().unwrap_or(0.0))))
            .sum();
        let busy = (rows as f32 / h as f32).max(cols as f32 / w as f32);
        if busy > MAX_PHOTO_SWITCHES {
            return Err(Refusal::NoPhoto);
        }
        Ok(upside_down)
    }
}
