//! Presentation attacks made from face photos, for measuring the face
//! check's presentation-attack detection (PAD): the three species the kiosk
//! must refuse, each drawn as a camera would see it.
//!
//! - [`Species::Print`]: another photo of the patient printed on paper and
//!   held up (white or no margin, ink that cannot reach black, paper grain).
//! - [`Species::Replay`]: the card's own chip photo printed (grey, 200×250
//!   pixels blown up) and held up.
//! - [`Species::Screen`]: the photo on a phone (bezel, rounded body, an
//!   emissive display with its RGB sub-pixel grid, which the camera samples
//!   into moiré).
//!
//! Each medium is tilted in 3-D and projected (perspective), held by one to
//! three fingers over its edge, lit with an optional glare spot, placed on a
//! background, and taken through a camera (exposure, blur, sensor noise; the
//! caller writes JPEG). [`Species::Genuine`] is the photo itself through the
//! same camera, so no cue can key on the camera alone.
//!
//! These are synthetic: a floor for PAD, never a certification. Frames are
//! deterministic for a seed.

use card_front_synth::Homography;
use image::RgbImage;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// What a frame shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Species {
    /// The live face (the photo itself as the camera frame).
    Genuine,
    /// Another photo of the same person, printed and held up.
    Print,
    /// The card's own chip photo, printed and held up.
    Replay,
    /// A photo of the person on a phone screen.
    Screen,
}

impl Species {
    /// Every species, genuine first.
    pub const ALL: [Species; 4] = [
        Species::Genuine,
        Species::Print,
        Species::Replay,
        Species::Screen,
    ];

    /// The name used in `attacks.csv`.
    pub fn name(self) -> &'static str {
        match self {
            Species::Genuine => "genuine",
            Species::Print => "print",
            Species::Replay => "replay",
            Species::Screen => "screen",
        }
    }

    /// The species of a name in `attacks.csv`.
    pub fn from_name(name: &str) -> Option<Species> {
        Species::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// A float RGB canvas, 0..255.
#[derive(Clone)]
struct Canvas {
    w: usize,
    h: usize,
    px: Vec<[f32; 3]>,
}

impl Canvas {
    fn new(w: usize, h: usize, fill: [f32; 3]) -> Canvas {
        Canvas {
            w,
            h,
            px: vec![fill; w * h],
        }
    }

    fn from_image(img: &RgbImage) -> Canvas {
        let (w, h) = (img.width() as usize, img.height() as usize);
        let px = img
            .pixels()
            .map(|p| [f32::from(p[0]), f32::from(p[1]), f32::from(p[2])])
            .collect();
        Canvas { w, h, px }
    }

    fn to_image(&self) -> RgbImage {
        let mut out = RgbImage::new(self.w as u32, self.h as u32);
        for (o, p) in out.pixels_mut().zip(&self.px) {
            *o = image::Rgb(p.map(|v| v.round().clamp(0.0, 255.0) as u8));
        }
        out
    }

    /// Bilinear sample, clamped at the border.
    fn sample(&self, x: f32, y: f32) -> [f32; 3] {
        let x = x.clamp(0.0, (self.w - 1) as f32);
        let y = y.clamp(0.0, (self.h - 1) as f32);
        let (x0, y0) = (x.floor() as usize, y.floor() as usize);
        let (x1, y1) = ((x0 + 1).min(self.w - 1), (y0 + 1).min(self.h - 1));
        let (fx, fy) = (x - x0 as f32, y - y0 as f32);
        let p = |xx: usize, yy: usize| self.px[yy * self.w + xx];
        let mut out = [0.0; 3];
        for (c, o) in out.iter_mut().enumerate() {
            let top = p(x0, y0)[c] * (1.0 - fx) + p(x1, y0)[c] * fx;
            let bottom = p(x0, y1)[c] * (1.0 - fx) + p(x1, y1)[c] * fx;
            *o = top * (1.0 - fy) + bottom * fy;
        }
        out
    }

    /// Resized so its longer side is at most `side` (area average).
    fn fit(&self, side: usize) -> Canvas {
        let long = self.w.max(self.h);
        if long <= side {
            return self.clone();
        }
        let s = long as f32 / side as f32;
        let (w, h) = (
            ((self.w as f32 / s).round() as usize).max(1),
            ((self.h as f32 / s).round() as usize).max(1),
        );
        let mut out = Canvas::new(w, h, [0.0; 3]);
        for y in 0..h {
            for x in 0..w {
                let (sx0, sy0) = ((x as f32 * s) as usize, (y as f32 * s) as usize);
                let (sx1, sy1) = (
                    (((x + 1) as f32 * s) as usize).clamp(sx0 + 1, self.w),
                    (((y + 1) as f32 * s) as usize).clamp(sy0 + 1, self.h),
                );
                let mut acc = [0.0; 3];
                for yy in sy0..sy1 {
                    for xx in sx0..sx1 {
                        let p = self.px[yy * self.w + xx];
                        for (a, v) in acc.iter_mut().zip(p) {
                            *a += v;
                        }
                    }
                }
                let n = ((sx1 - sx0) * (sy1 - sy0)) as f32;
                out.px[y * w + x] = acc.map(|v| v / n);
            }
        }
        out
    }

    /// Separable Gaussian blur.
    fn blur(&mut self, sigma: f32) {
        if sigma < 0.2 {
            return;
        }
        let r = (sigma * 3.0).ceil() as isize;
        let kernel: Vec<f32> = (-r..=r)
            .map(|i| (-(i * i) as f32 / (2.0 * sigma * sigma)).exp())
            .collect();
        let sum: f32 = kernel.iter().sum();
        let kernel: Vec<f32> = kernel.iter().map(|k| k / sum).collect();
        for horizontal in [true, false] {
            let src = self.px.clone();
            for y in 0..self.h {
                for x in 0..self.w {
                    let mut acc = [0.0; 3];
                    for (k, wgt) in kernel.iter().enumerate() {
                        let d = k as isize - r;
                        let (xx, yy) = if horizontal {
                            ((x as isize + d).clamp(0, self.w as isize - 1) as usize, y)
                        } else {
                            (x, (y as isize + d).clamp(0, self.h as isize - 1) as usize)
                        };
                        let p = src[yy * self.w + xx];
                        for c in 0..3 {
                            acc[c] += p[c] * wgt;
                        }
                    }
                    self.px[y * self.w + x] = acc;
                }
            }
        }
    }
}

/// A flat medium (paper or phone) with its own opacity mask (rounded
/// corners).
struct Medium {
    tex: Canvas,
    /// Opacity 0..1 per texel.
    alpha: Vec<f32>,
}

fn luma(p: [f32; 3]) -> f32 {
    0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2]
}

/// The photo printed: margin, paper white, ink range, grain.
fn print_medium(photo: &Canvas, rng: &mut StdRng) -> Medium {
    let photo = photo.fit(640);
    let margin = if rng.gen_bool(0.2) {
        0
    } else {
        (photo.w.max(photo.h) as f32 * rng.gen_range(0.03..0.12)) as usize
    };
    let paper = [
        rng.gen_range(238.0..255.0),
        rng.gen_range(236.0..253.0),
        rng.gen_range(228.0..250.0),
    ];
    // A photo-lab print reaches near black and keeps its colours; an
    // office printer does neither.
    let lab = rng.gen_bool(0.3);
    let black = if lab {
        rng.gen_range(0.01..0.04)
    } else {
        rng.gen_range(0.05..0.16)
    };
    let gamma = rng.gen_range(0.85..1.2f32);
    let saturation = if lab {
        rng.gen_range(0.9..1.0)
    } else {
        rng.gen_range(0.65..0.95)
    };
    let (w, h) = (photo.w + 2 * margin, photo.h + 2 * margin);
    let mut tex = Canvas::new(w, h, paper);
    for y in 0..photo.h {
        for x in 0..photo.w {
            let p = photo.px[y * photo.w + x];
            let l = luma(p);
            let mut out = [0.0; 3];
            for c in 0..3 {
                let v = (l + (p[c] - l) * saturation) / 255.0;
                let ink = black + (1.0 - black) * v.clamp(0.0, 1.0).powf(gamma);
                out[c] = paper[c] * ink;
            }
            tex.px[(y + margin) * w + x + margin] = out;
        }
    }
    let grain = rng.gen_range(1.0..4.0);
    for p in tex.px.iter_mut() {
        let n = rng.gen_range(-grain..grain);
        *p = p.map(|v| v + n);
    }
    Medium {
        alpha: vec![1.0; w * h],
        tex,
    }
}

/// The photo on a phone: body and bezel, rounded corners, the photo fitted
/// into the display, each display pixel drawn as R, G and B stripes.
fn screen_medium(photo: &Canvas, rng: &mut StdRng) -> Medium {
    // Display resolution in screen pixels (a phone shows a photo at a few
    // hundred pixels across), each 3 texels wide and tall.
    let landscape = photo.w > photo.h && rng.gen_bool(0.5);
    let short = rng.gen_range(180..300usize);
    let long = (short as f32 * rng.gen_range(1.9..2.2)) as usize;
    let (dw, dh) = if landscape {
        (long, short)
    } else {
        (short, long)
    };
    let shown = photo.fit(dw.max(dh));
    let scale = (dw as f32 / shown.w as f32).min(dh as f32 / shown.h as f32);
    let (sw, sh) = (
        (shown.w as f32 * scale) as usize,
        (shown.h as f32 * scale) as usize,
    );
    let (ox, oy) = ((dw - sw.min(dw)) / 2, (dh - sh.min(dh)) / 2);
    let bright = rng.gen_range(0.9..1.15f32);
    let tint = [
        rng.gen_range(0.9..1.0f32),
        rng.gen_range(0.95..1.02),
        rng.gen_range(1.0..1.1),
    ];
    let bezel = (short as f32 * rng.gen_range(0.03..0.08)) as usize + 2;
    let sub = 3usize;
    let (w, h) = ((dw + 2 * bezel) * sub, (dh + 2 * bezel) * sub);
    let body = rng.gen_range(8.0..40.0);
    let mut tex = Canvas::new(w, h, [body, body, body * 1.05]);
    // An off display pixel is not black: the panel's own grey.
    let off = rng.gen_range(3.0..12.0);
    let gap = rng.gen_range(0.15..0.45f32);
    for y in 0..dh {
        for x in 0..dw {
            let p = if x >= ox && x < ox + sw && y >= oy && y < oy + sh {
                shown.sample((x - ox) as f32 / scale, (y - oy) as f32 / scale)
            } else {
                [0.0; 3]
            };
            for ty in 0..sub {
                for tx in 0..sub {
                    let mut out = [off; 3];
                    // Stripe tx carries colour tx; the last row is the gap
                    // between pixel rows.
                    let lit = (p[tx] / 255.0).powf(0.9) * 255.0 * bright * tint[tx] * 3.0;
                    out[tx] = off + lit * if ty == sub - 1 { gap } else { 1.0 };
                    let (px, py) = ((x + bezel) * sub + tx, (y + bezel) * sub + ty);
                    tex.px[py * w + px] = out;
                }
            }
        }
    }
    // Rounded body corners.
    let radius = (bezel * sub) as f32 * rng.gen_range(1.5..3.5);
    let mut alpha = vec![1.0; w * h];
    for y in 0..h {
        for x in 0..w {
            let cx = (x as f32).clamp(radius, w as f32 - radius);
            let cy = (y as f32).clamp(radius, h as f32 - radius);
            let d = ((x as f32 - cx).powi(2) + (y as f32 - cy).powi(2)).sqrt();
            alpha[y * w + x] = (radius - d + 0.5).clamp(0.0, 1.0);
        }
    }
    Medium { tex, alpha }
}

/// A background: a blurred crop of another photo, or a lit wall.
fn background(w: usize, h: usize, other: Option<&Canvas>, rng: &mut StdRng) -> Canvas {
    if let Some(other) = other.filter(|_| rng.gen_bool(0.6)) {
        // The other photo's colours without its faces: tiles of it in a
        // shuffled order, blurred into a room-like blur (a face in the
        // background would be found before the held-up one).
        let tile = 24usize;
        let (tw, th) = ((other.w / tile).max(1), (other.h / tile).max(1));
        let scale = rng.gen_range(2.0..5.0f32);
        let mut out = Canvas::new(w, h, [0.0; 3]);
        let grid_w = (w as f32 / (tile as f32 * scale)).ceil() as usize + 1;
        let picks: Vec<(usize, usize)> = (0..grid_w * grid_w.max(h / tile + 1))
            .map(|_| (rng.gen_range(0..tw), rng.gen_range(0..th)))
            .collect();
        for y in 0..h {
            for x in 0..w {
                let (gx, gy) = ((x as f32 / scale) as usize, (y as f32 / scale) as usize);
                let (cx, cy) = (gx / tile, gy / tile);
                let (px, py) = picks[(cy * grid_w + cx) % picks.len()];
                let sx = (px * tile + gx % tile).min(other.w - 1);
                let sy = (py * tile + gy % tile).min(other.h - 1);
                out.px[y * w + x] = other.px[sy * other.w + sx];
            }
        }
        out.blur(rng.gen_range(8.0..16.0));
        return out;
    }
    let base = [
        rng.gen_range(60.0..230.0),
        rng.gen_range(60.0..230.0),
        rng.gen_range(60.0..230.0f32),
    ];
    let (gx, gy) = (rng.gen_range(-0.4..0.4f32), rng.gen_range(-0.4..0.4f32));
    let mut out = Canvas::new(w, h, base);
    for y in 0..h {
        for x in 0..w {
            let f = 1.0 + gx * (x as f32 / w as f32 - 0.5) + gy * (y as f32 / h as f32 - 0.5);
            out.px[y * w + x] = base.map(|v| v * f);
        }
    }
    // Sometimes a door frame or shelf edge: straight lines that are not a
    // held medium.
    if rng.gen_bool(0.5) {
        let x0 = rng.gen_range(0..w);
        let shade = rng.gen_range(0.6..1.3f32);
        for y in 0..h {
            for x in x0..w {
                let p = &mut out.px[y * w + x];
                *p = p.map(|v| v * shade);
            }
        }
    }
    out
}

/// A finger over the medium's edge: a capsule from `tip` towards `base`.
fn finger(frame: &mut Canvas, tip: [f32; 2], base: [f32; 2], width: f32, rng: &mut StdRng) {
    let tone = rng.gen_range(0.0..1.0f32);
    let skin = [
        236.0 - 90.0 * tone,
        192.0 - 95.0 * tone,
        165.0 - 95.0 * tone,
    ];
    let (dx, dy) = (base[0] - tip[0], base[1] - tip[1]);
    let len2 = (dx * dx + dy * dy).max(1.0);
    let r = width / 2.0;
    let (x0, x1) = (
        (tip[0].min(base[0]) - r).max(0.0) as usize,
        (tip[0].max(base[0]) + r).min(frame.w as f32 - 1.0) as usize,
    );
    let (y0, y1) = (
        (tip[1].min(base[1]) - r).max(0.0) as usize,
        (tip[1].max(base[1]) + r).min(frame.h as f32 - 1.0) as usize,
    );
    for y in y0..=y1 {
        for x in x0..=x1 {
            let (px, py) = (x as f32 - tip[0], y as f32 - tip[1]);
            let t = ((px * dx + py * dy) / len2).clamp(0.0, 1.0);
            let (ex, ey) = (px - t * dx, py - t * dy);
            let d = (ex * ex + ey * ey).sqrt();
            if d < r + 0.5 {
                let cover = (r + 0.5 - d).clamp(0.0, 1.0);
                // Rounded: darker towards the sides.
                let shade = 1.0 - 0.35 * (d / r).powi(2);
                let p = &mut frame.px[y * frame.w + x];
                for c in 0..3 {
                    p[c] = p[c] * (1.0 - cover) + skin[c] * shade * cover;
                }
            }
        }
    }
}

/// Draws a medium into the frame through a 3-D tilt and perspective, with
/// fingers and glare; returns nothing when the pose leaves the frame.
fn hold_up(frame: &mut Canvas, medium: &Medium, fill: f32, rng: &mut StdRng) -> Option<()> {
    let (fw, fh) = (frame.w as f64, frame.h as f64);
    let (mw, mh) = (medium.tex.w as f64, medium.tex.h as f64);
    let (yaw, pitch, roll) = (
        rng.gen_range(-28.0..28.0f64).to_radians(),
        rng.gen_range(-28.0..28.0f64).to_radians(),
        rng.gen_range(-15.0..15.0f64).to_radians(),
    );
    let focal = fw * rng.gen_range(0.8..1.6);
    // The medium is scaled so its height takes `fill` of the frame's.
    let size = fh * fill as f64;
    let (hw, hh) = (size * mw / mh / 2.0, size / 2.0);
    let distance = focal;
    let (cx, cy) = (
        fw / 2.0 + rng.gen_range(-0.2..0.2) * fw,
        fh / 2.0 + rng.gen_range(-0.12..0.12) * fh,
    );
    let corners3 = [[-hw, -hh], [hw, -hh], [hw, hh], [-hw, hh]];
    let mut projected = [[0.0; 2]; 4];
    for (i, [x, y]) in corners3.iter().enumerate() {
        // Roll about z, pitch about x, yaw about y.
        let (x1, y1) = (
            x * roll.cos() - y * roll.sin(),
            x * roll.sin() + y * roll.cos(),
        );
        let (y2, z2) = (y1 * pitch.cos(), y1 * pitch.sin());
        let (x3, z3) = (
            x1 * yaw.cos() + z2 * yaw.sin(),
            -x1 * yaw.sin() + z2 * yaw.cos(),
        );
        let z = distance + z3;
        projected[i] = [cx + focal * x3 / z, cy + focal * y2 / z];
    }
    let source = [
        (0.0, 0.0),
        (mw as f32, 0.0),
        (mw as f32, mh as f32),
        (0.0, mh as f32),
    ];
    let inverse = Homography::from_points(projected.map(|[x, y]| (x as f32, y as f32)), source)?;
    let (min_x, max_x) = projected
        .iter()
        .fold((f64::MAX, f64::MIN), |a, p| (a.0.min(p[0]), a.1.max(p[0])));
    let (min_y, max_y) = projected
        .iter()
        .fold((f64::MAX, f64::MIN), |a, p| (a.0.min(p[1]), a.1.max(p[1])));
    // Glare: a soft bright spot somewhere on the medium.
    let glare = rng.gen_bool(0.6).then(|| {
        (
            [rng.gen_range(0.1..0.9) * mw, rng.gen_range(0.1..0.9) * mh],
            rng.gen_range(0.1..0.35) * mw.max(mh),
            rng.gen_range(40.0..160.0),
        )
    });
    let light = rng.gen_range(0.75..1.1f32);
    for y in (min_y.max(0.0) as usize)..(max_y.min(fh - 1.0) as usize + 1) {
        for x in (min_x.max(0.0) as usize)..(max_x.min(fw - 1.0) as usize + 1) {
            // Two by two samples per pixel: smooth edges, and the display's
            // sub-pixel grid aliases into moiré as a camera's would.
            let mut acc = [0.0f32; 3];
            let mut cover = 0.0f32;
            for (sx, sy) in [(0.25, 0.25), (0.75, 0.25), (0.25, 0.75), (0.75, 0.75)] {
                let (u, v) = inverse.map(x as f32 + sx, y as f32 + sy);
                let (u, v) = (f64::from(u), f64::from(v));
                if u < 0.0 || v < 0.0 || u >= mw || v >= mh {
                    continue;
                }
                let a = medium.alpha[v as usize * medium.tex.w + u as usize];
                let mut p = medium.tex.sample(u as f32, v as f32).map(|c| c * light);
                if let Some(([gx, gy], r, g)) = glare {
                    let d2 = ((u - gx).powi(2) + (v - gy).powi(2)) / (r * r);
                    let add = (g * (-d2 / 2.0).exp()) as f32;
                    p = p.map(|c| c + add);
                }
                for c in 0..3 {
                    acc[c] += p[c] * a / 4.0;
                }
                cover += a / 4.0;
            }
            if cover > 0.0 {
                let o = &mut frame.px[y * frame.w + x];
                for c in 0..3 {
                    o[c] = o[c] * (1.0 - cover) + acc[c];
                }
            }
        }
    }
    // Fingers over the edges: from a point on an edge, pointing inwards.
    let fingers = rng.gen_range(0..=3);
    let width = (size * rng.gen_range(0.1..0.18)) as f32;
    for _ in 0..fingers {
        let edge = rng.gen_range(0..4usize);
        let t = rng.gen_range(0.15..0.85);
        let (a, b) = (projected[edge], projected[(edge + 1) % 4]);
        let on = [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t];
        let centre = [(min_x + max_x) / 2.0, (min_y + max_y) / 2.0];
        let (dx, dy) = (centre[0] - on[0], centre[1] - on[1]);
        let norm = (dx * dx + dy * dy).sqrt().max(1.0);
        let inward = rng.gen_range(0.04..0.12) * size;
        let outward = rng.gen_range(0.3..0.8) * size;
        let tip = [on[0] + dx / norm * inward, on[1] + dy / norm * inward];
        let base = [on[0] - dx / norm * outward, on[1] - dy / norm * outward];
        finger(
            frame,
            [tip[0] as f32, tip[1] as f32],
            [base[0] as f32, base[1] as f32],
            width,
            rng,
        );
    }
    Some(())
}

/// What the camera adds: exposure, blur and sensor noise.
fn camera(frame: &mut Canvas, strength: f32, rng: &mut StdRng) {
    let exposure = 1.0 + strength * rng.gen_range(-0.15..0.15f32);
    frame.blur(strength * rng.gen_range(0.3..1.2));
    let noise = strength * rng.gen_range(1.0..5.0f32);
    for p in frame.px.iter_mut() {
        let n = rng.gen_range(-noise..=noise.max(0.01));
        *p = p.map(|v| v * exposure + n);
    }
}

/// One frame of `species`. `photo` is what the medium shows (the card's chip
/// photo for [`Species::Replay`], another photo of the person otherwise;
/// for [`Species::Genuine`] the live frame itself); `other` gives a
/// background. Deterministic for `seed`.
pub fn frame(species: Species, photo: &RgbImage, other: Option<&RgbImage>, seed: u64) -> RgbImage {
    let mut rng = StdRng::seed_from_u64(seed);
    let photo = Canvas::from_image(photo);
    if species == Species::Genuine {
        let mut live = photo.fit(1280);
        let strength = if rng.gen_bool(0.5) { 0.5 } else { 0.0 };
        camera(&mut live, strength, &mut rng);
        return live.to_image();
    }
    let (w, h) = if rng.gen_bool(0.5) {
        (1280, 720)
    } else {
        (960, 720)
    };
    let other = other.map(Canvas::from_image).map(|c| c.fit(640));
    let mut out = background(w, h, other.as_ref(), &mut rng);
    let medium = match species {
        Species::Screen => screen_medium(&photo, &mut rng),
        _ => print_medium(&photo, &mut rng),
    };
    // Held up close enough for the face to be seen: the medium takes most
    // of the frame's height, and sometimes more than the frame (its edges
    // out of sight).
    let close = rng.gen_bool(0.25);
    for _ in 0..8 {
        let fill = if close {
            rng.gen_range(1.0..1.6)
        } else {
            rng.gen_range(0.55..0.95)
        };
        if hold_up(&mut out, &medium, fill, &mut rng).is_some() {
            break;
        }
    }
    camera(&mut out, 1.0, &mut rng);
    out.to_image()
}

/// Decodes a JPEG 2000 card photo (grey) into RGB.
pub fn decode_jpeg2000(bytes: &[u8]) -> Result<RgbImage, String> {
    let settings = hayro_jpeg2000::DecodeSettings::default();
    let image = hayro_jpeg2000::Image::new(bytes, &settings).map_err(|e| format!("{e:?}"))?;
    let (w, h) = (image.width(), image.height());
    let channels = image.color_space().num_channels() as usize + usize::from(image.has_alpha());
    let mut context = hayro_jpeg2000::DecoderContext::default();
    let data = image
        .decode(&mut context)
        .map_err(|e| format!("{e:?}"))?
        .data_u8();
    if channels == 0 || data.len() != w as usize * h as usize * channels {
        return Err("decoded size does not match the header".into());
    }
    let mut out = RgbImage::new(w, h);
    for (o, px) in out.pixels_mut().zip(data.chunks_exact(channels)) {
        *o = if channels >= 3 {
            image::Rgb([px[0], px[1], px[2]])
        } else {
            image::Rgb([px[0]; 3])
        };
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face_like() -> RgbImage {
        RgbImage::from_fn(200, 250, |x, y| {
            let v = ((x * 7 + y * 3) % 255) as u8;
            image::Rgb([v, v / 2, 255 - v])
        })
    }

    #[test]
    fn frames_are_deterministic_per_seed() {
        let photo = face_like();
        for species in Species::ALL {
            let a = frame(species, &photo, None, 7);
            let b = frame(species, &photo, None, 7);
            assert!(a == b, "{species:?}");
        }
        assert!(frame(Species::Print, &photo, None, 1) != frame(Species::Print, &photo, None, 2));
    }

    #[test]
    fn attacks_are_camera_frames_holding_the_photo() {
        let photo = face_like();
        for species in [Species::Print, Species::Replay, Species::Screen] {
            let out = frame(species, &photo, None, 3);
            assert!(out.width() >= 960 && out.height() == 720, "{species:?}");
        }
        let genuine = frame(Species::Genuine, &photo, None, 3);
        assert_eq!(genuine.dimensions(), photo.dimensions());
    }

    #[test]
    fn species_names_round_trip() {
        for s in Species::ALL {
            assert_eq!(Species::from_name(s.name()), Some(s));
        }
        assert_eq!(Species::from_name("mask"), None);
    }
}
