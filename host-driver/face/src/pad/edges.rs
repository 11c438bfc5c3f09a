//! The medium-edge cue: a photo or a phone held up to the camera has straight
//! edges around the face (the paper's border, the phone's bezel) that a
//! face in a room does not. This finds long straight edges in a ring around
//! the face box and says on how many sides of the face they lie.
//!
//! Method: the frame around the face is resampled so the face box is
//! [`FACE_SIDE`] pixels wide; Sobel gradients, per pixel the strongest of
//! the three colour channels' (a paper on a background of its own
//! brightness differs in hue only); each strong gradient votes for the line
//! through it along its own edge direction (a Hough transform that needs no
//! angle sweep); the strongest lines are walked, turned within their angle
//! bin, to find their longest stretch of edge pixels (short gaps inside,
//! longer ones bridged while the pixels still cover most of it: a finger
//! over the edge). A stretch counts on its side of the face when it passes
//! beside the face; [`EdgeScore::runs`] gives each side's longest in face
//! heights. The face box itself does not vote.

use crate::detect::{sample, Detection};
use crate::image::RgbFrame;

/// The face box's width in the resampled ring, pixels.
const FACE_SIDE: f32 = 48.0;
/// The ring: the face box grown this much about its centre.
const RING: f32 = 8.0;
/// The part around the face that does not vote: the face box (a tight
/// portrait's paper edge runs just beside it).
const FACE_GUARD: f32 = 1.0;
/// Angle bins over 180°.
const ANGLES: usize = 90;
/// Gradient magnitude (grey levels per pixel, Sobel / 4) an edge pixel
/// needs: a paper edge on a background is tens of levels.
const MIN_GRADIENT: f32 = 12.0;
/// Gaps of at most this many pixels do not break a run (a finger or glare
/// over the edge breaks it for longer).
const MAX_GAP: usize = 3;
/// Gaps up to this many face heights are bridged (a finger over the
/// edge) …
const BRIDGE: f32 = 0.35;
/// … while edge pixels cover this share of the stretch.
const COVERAGE: f32 = 0.8;
/// Lines examined per frame.
const CANDIDATES: usize = 40;

/// What the cue found.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct EdgeScore {
    /// The longest straight run on each side of the face (left, right,
    /// above, below), in face-box heights.
    pub runs: [f32; 4],
}

impl EdgeScore {
    /// Sides with a straight run at least `length` face heights long.
    pub fn sides(&self, length: f32) -> usize {
        self.runs.iter().filter(|r| **r >= length).count()
    }

    /// The `n`-th longest side's run (0: the longest): the length every one
    /// of `n + 1` sides reaches.
    pub fn nth_longest(&self, n: usize) -> f32 {
        let mut runs = self.runs;
        runs.sort_by(|a, b| b.total_cmp(a));
        runs.get(n).copied().unwrap_or(0.0)
    }
}

/// The straight runs around the face `det` in `frame`.
pub fn score(frame: &RgbFrame, det: &Detection) -> EdgeScore {
    let [bx, by, bw, bh] = det.bbox;
    if bw < 4.0 || bh < 4.0 {
        return EdgeScore::default();
    }
    let scale = FACE_SIDE / bw;
    let (cx, cy) = (bx + bw / 2.0, by + bh / 2.0);
    // The ring in frame pixels, clipped to the frame.
    let (fw, fh) = (frame.width() as f32, frame.height() as f32);
    let x0 = (cx - bw * RING / 2.0).max(0.0);
    let x1 = (cx + bw * RING / 2.0).min(fw - 1.0);
    let y0 = (cy - bh * RING / 2.0).max(0.0);
    let y1 = (cy + bh * RING / 2.0).min(fh - 1.0);
    let (w, h) = (((x1 - x0) * scale) as usize, ((y1 - y0) * scale) as usize);
    if w < 8 || h < 8 {
        return EdgeScore::default();
    }
    // The ring in colour, averaging 2×2 samples per pixel so that
    // downscaling does not alias (a screen's pixel grid would otherwise make
    // edges everywhere). Colour, not grey: a paper's edge on a background
    // of the same brightness differs in hue only.
    let step = 1.0 / scale;
    let mut planes = vec![vec![0.0f32; w * h]; 3];
    for y in 0..h {
        for x in 0..w {
            let (sx, sy) = (x0 + x as f32 * step, y0 + y as f32 * step);
            for (c, plane) in planes.iter_mut().enumerate() {
                let mut acc = 0.0;
                for (ox, oy) in [(0.25, 0.25), (0.75, 0.25), (0.25, 0.75), (0.75, 0.75)] {
                    acc += sample(frame, sx + ox * step, sy + oy * step, c);
                }
                plane[y * w + x] = acc / 4.0;
            }
        }
    }
    // The face in ring coordinates and its guard.
    let (fcx, fcy) = ((cx - x0) * scale, (cy - y0) * scale);
    let face_h = bh * scale;
    let (gw, gh) = (FACE_SIDE * FACE_GUARD / 2.0, face_h * FACE_GUARD / 2.0);
    let guarded = |x: f32, y: f32| (x - fcx).abs() < gw && (y - fcy).abs() < gh;
    // Sobel; an edge pixel keeps its gradient angle (0..π) and polarity.
    let mut edge = vec![None::<(f32, f32)>; w * h];
    let diagonal = ((w * w + h * h) as f32).sqrt();
    let rho_bins = (2.0 * diagonal) as usize + 1;
    let mut votes = vec![0.0f32; ANGLES * rho_bins];
    let (sines, cosines): (Vec<f32>, Vec<f32>) = (0..ANGLES)
        .map(|a| {
            let t = a as f32 * std::f32::consts::PI / ANGLES as f32;
            (t.sin(), t.cos())
        })
        .unzip();
    for y in 1..h - 1 {
        for x in 1..w - 1 {
            if guarded(x as f32, y as f32) {
                continue;
            }
            // Sobel on each channel; the strongest channel's gradient.
            let (mut gx, mut gy, mut magnitude) = (0.0f32, 0.0f32, 0.0f32);
            for plane in &planes {
                let g = |dx: isize, dy: isize| {
                    plane[(y as isize + dy) as usize * w + (x as isize + dx) as usize]
                };
                let cx =
                    (g(1, -1) + 2.0 * g(1, 0) + g(1, 1) - g(-1, -1) - 2.0 * g(-1, 0) - g(-1, 1))
                        / 4.0;
                let cy =
                    (g(-1, 1) + 2.0 * g(0, 1) + g(1, 1) - g(-1, -1) - 2.0 * g(0, -1) - g(1, -1))
                        / 4.0;
                let m = (cx * cx + cy * cy).sqrt();
                if m > magnitude {
                    (gx, gy, magnitude) = (cx, cy, m);
                }
            }
            if magnitude < MIN_GRADIENT {
                continue;
            }
            // The line's normal is the gradient: angle folded into 0..π.
            let mut theta = gy.atan2(gx);
            if theta < 0.0 {
                theta += std::f32::consts::PI;
            }
            edge[y * w + x] = Some((theta, magnitude));
            let bin = ((theta / std::f32::consts::PI * ANGLES as f32) as usize) % ANGLES;
            for a in [(bin + ANGLES - 1) % ANGLES, bin, (bin + 1) % ANGLES] {
                let rho = x as f32 * cosines[a] + y as f32 * sines[a] + diagonal;
                votes[a * rho_bins + rho as usize] += 1.0;
            }
        }
    }
    // The strongest lines, one per neighbourhood of (angle, distance).
    let mut order: Vec<usize> = (0..votes.len()).filter(|&i| votes[i] >= 8.0).collect();
    order.sort_by(|a, b| votes[*b].total_cmp(&votes[*a]));
    let mut lines: Vec<(usize, usize)> = Vec::new();
    for i in order {
        let (a, r) = (i / rho_bins, i % rho_bins);
        let near = lines.iter().any(|&(la, lr)| {
            let da = a.abs_diff(la).min(ANGLES - a.abs_diff(la));
            da <= 3 && r.abs_diff(lr) <= 3
        });
        if !near {
            lines.push((a, r));
            if lines.len() == CANDIDATES {
                break;
            }
        }
    }
    let mut runs = [0.0f32; 4];
    let map = EdgeMap {
        edge: &edge,
        bridge: BRIDGE * face_h,
        w,
        h,
        centre: (fcx, fcy),
    };
    for (a, r) in lines {
        let theta = a as f32 * std::f32::consts::PI / ANGLES as f32;
        let rho = r as f32 - diagonal;
        let (sin, cos) = (theta.sin(), theta.cos());
        // The side: where the line lies from the face centre along its
        // normal (a vertical line left of the face is "left").
        let offset = rho - (fcx * cos + fcy * sin);
        let vertical = cos.abs() >= sin.abs();
        let side = match (
            vertical,
            (offset < 0.0) == (cos > 0.0),
            (offset < 0.0) == (sin > 0.0),
        ) {
            (true, true, _) => 0,
            (true, false, _) => 1,
            (false, _, true) => 2,
            (false, _, false) => 3,
        };
        // A bin is 2° wide: over a long edge that drifts off the line, so
        // the line is also walked turned by up to a bin about its point
        // nearest the face.
        let pivot = (fcx + offset * cos, fcy + offset * sin);
        let step = std::f32::consts::PI / ANGLES as f32 / 2.0;
        let best = (-2..=2)
            .map(|k| {
                let t = theta + k as f32 * step;
                let rho = pivot.0 * t.cos() + pivot.1 * t.sin();
                map.longest_run(t, rho, theta, vertical, diagonal)
            })
            .max()
            .unwrap_or(0);
        runs[side] = runs[side].max(best as f32 / face_h);
    }
    EdgeScore { runs }
}

/// The edge pixels of the ring, for walking lines.
struct EdgeMap<'a> {
    edge: &'a [Option<(f32, f32)>],
    /// The longest gap bridged (ring pixels).
    bridge: f32,
    w: usize,
    h: usize,
    centre: (f32, f32),
}

impl EdgeMap<'_> {
    /// The longest run of edge pixels (gradient angle within 7° of
    /// `angle`) along the line at `theta`, `rho` that passes beside the
    /// face: it spans the face centre's height for a side, its width for a
    /// top or bottom (a medium's edge surrounds the face; a shoulder or an
    /// arm starts below it). Gaps up to [`MAX_GAP`] do not break a run.
    fn longest_run(&self, theta: f32, rho: f32, angle: f32, vertical: bool, reach: f32) -> usize {
        let (sin, cos) = (theta.sin(), theta.cos());
        let (foot_x, foot_y) = (rho * cos, rho * sin);
        let (dx, dy) = (-sin, cos);
        let (fcx, fcy) = self.centre;
        let spans = |t0: f32, t1: f32| {
            let (a, b) = (foot_x + t0 * dx, foot_y + t0 * dy);
            let (c, d) = (foot_x + t1 * dx, foot_y + t1 * dy);
            if vertical {
                b.min(d) <= fcy && fcy <= b.max(d)
            } else {
                a.min(c) <= fcx && fcx <= a.max(c)
            }
        };
        let on_edge = |px: f32, py: f32| {
            px >= 1.0
                && py >= 1.0
                && (px as usize) < self.w - 1
                && (py as usize) < self.h - 1
                && [(0.0, 0.0), (cos, sin), (-cos, -sin)]
                    .iter()
                    .any(|(ox, oy)| {
                        let (qx, qy) = ((px + ox).round() as usize, (py + oy).round() as usize);
                        qx < self.w
                            && qy < self.h
                            && self.edge[qy * self.w + qx].is_some_and(|(a, _)| {
                                let d = (a - angle).abs();
                                d.min(std::f32::consts::PI - d) < 0.12
                            })
                    })
        };
        // Runs of edge pixels, gaps up to MAX_GAP inside: (first t, last t,
        // edge pixels).
        let mut runs: Vec<(f32, f32, usize)> = Vec::new();
        let (mut run, mut gap) = (0usize, 0usize);
        let (mut start_t, mut last_t, mut t) = (0.0f32, 0.0f32, -reach);
        while t <= reach {
            if on_edge(foot_x + t * dx, foot_y + t * dy) {
                if run == 0 {
                    start_t = t;
                }
                run += 1;
                gap = 0;
                last_t = t;
            } else if run > 0 {
                gap += 1;
                if gap > MAX_GAP {
                    runs.push((start_t, last_t, run));
                    run = 0;
                    gap = 0;
                }
            }
            t += 1.0;
        }
        if run > 0 {
            runs.push((start_t, last_t, run));
        }
        // Consecutive runs bridged over gaps up to `bridge` (a finger over
        // the edge) while edge pixels still cover COVERAGE of the stretch;
        // the longest stretch that passes beside the face.
        let mut best = 0usize;
        for i in 0..runs.len() {
            let mut pixels = 0usize;
            for j in i..runs.len() {
                if j > i && runs[j].0 - runs[j - 1].1 > self.bridge {
                    break;
                }
                pixels += runs[j].2;
                let length = runs[j].1 - runs[i].0 + 1.0;
                if pixels as f32 >= COVERAGE * length
                    && length as usize > best
                    && spans(runs[i].0, runs[j].1)
                {
                    best = length as usize;
                }
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zeroize::Zeroizing;

    fn det(x: f32, y: f32, w: f32, h: f32) -> Detection {
        Detection {
            bbox: [x, y, w, h],
            landmarks: [[0.0; 2]; 5],
            score: 1.0,
        }
    }

    /// A frame of `bg` with a `fill` rectangle from (x0, y0) to (x1, y1).
    fn frame_with_rect(bg: u8, fill: u8, rect: [u32; 4]) -> RgbFrame {
        let (w, h) = (640u32, 480u32);
        let mut px = Zeroizing::new(vec![bg; (w * h * 3) as usize]);
        for y in rect[1]..rect[3] {
            for x in rect[0]..rect[2] {
                let i = ((y * w + x) * 3) as usize;
                px[i..i + 3].copy_from_slice(&[fill; 3]);
            }
        }
        RgbFrame::from_rgb(w, h, px).unwrap()
    }

    #[test]
    fn a_held_up_sheet_has_edges_on_four_sides() {
        // A light sheet on a dark background, the face in its middle.
        let frame = frame_with_rect(40, 220, [200, 100, 440, 400]);
        let score = score(&frame, &det(280.0, 190.0, 80.0, 100.0));
        assert_eq!(score.sides(1.0), 4, "{score:?}");
        assert!(score.nth_longest(3) >= 2.0, "{score:?}");
    }

    #[test]
    fn a_plain_room_has_none() {
        let frame = frame_with_rect(120, 120, [0, 0, 1, 1]);
        let score = score(&frame, &det(280.0, 190.0, 80.0, 100.0));
        assert_eq!(score.sides(0.1), 0, "{score:?}");
    }

    #[test]
    fn one_door_frame_is_one_side() {
        // A wall edge right of the face, across the whole frame.
        let frame = frame_with_rect(90, 200, [420, 0, 640, 480]);
        let score = score(&frame, &det(280.0, 190.0, 80.0, 100.0));
        assert_eq!(score.sides(1.0), 1, "{score:?}");
        assert!(score.runs[1] >= 1.0, "{score:?}");
    }
}
