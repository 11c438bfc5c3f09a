//! Five-point similarity alignment to the ArcFace 112×112 template: a least
//! squares fit of rotation, uniform scale and translation (no shear), then a
//! bilinear warp with a black border.

use zeroize::Zeroizing;

use super::detect::sample;
use super::image::{ImageError, RgbFrame};

/// Side of the aligned face.
pub const SIZE: usize = 112;

/// The ArcFace template, in landmark order.
pub const TEMPLATE: [[f32; 2]; 5] = [
    [38.2946, 51.6963],
    [73.5318, 51.5014],
    [56.0252, 71.7366],
    [41.5493, 92.3655],
    [70.7299, 92.2041],
];

/// A similarity transform `q = [a -b; b a] p + t`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Similarity {
    /// scale × cos θ.
    pub a: f32,
    /// scale × sin θ.
    pub b: f32,
    /// Translation.
    pub t: [f32; 2],
}

impl Similarity {
    /// The least-squares similarity taking `src` onto `dst`.
    pub fn fit(src: &[[f32; 2]; 5], dst: &[[f32; 2]; 5]) -> Similarity {
        let mean = |pts: &[[f32; 2]; 5]| {
            let (sx, sy) = pts
                .iter()
                .fold((0.0, 0.0), |(x, y), p| (x + p[0], y + p[1]));
            [sx / 5.0, sy / 5.0]
        };
        let (ms, md) = (mean(src), mean(dst));
        let (mut num_a, mut num_b, mut den) = (0.0f32, 0.0f32, 0.0f32);
        for (p, q) in src.iter().zip(dst) {
            let (px, py) = (p[0] - ms[0], p[1] - ms[1]);
            let (qx, qy) = (q[0] - md[0], q[1] - md[1]);
            num_a += px * qx + py * qy;
            num_b += px * qy - py * qx;
            den += px * px + py * py;
        }
        let (a, b) = if den > f32::EPSILON {
            (num_a / den, num_b / den)
        } else {
            (1.0, 0.0)
        };
        let t = [
            md[0] - (a * ms[0] - b * ms[1]),
            md[1] - (b * ms[0] + a * ms[1]),
        ];
        Similarity { a, b, t }
    }

    /// Applies the transform.
    pub fn apply(&self, p: [f32; 2]) -> [f32; 2] {
        [
            self.a * p[0] - self.b * p[1] + self.t[0],
            self.b * p[0] + self.a * p[1] + self.t[1],
        ]
    }

    /// The inverse transform.
    pub fn inverse(&self) -> Similarity {
        let d = self.a * self.a + self.b * self.b;
        let (a, b) = (self.a / d, -self.b / d);
        let t = [
            -(a * self.t[0] - b * self.t[1]),
            -(b * self.t[0] + a * self.t[1]),
        ];
        Similarity { a, b, t }
    }
}

/// Warps the face with these landmarks to the 112×112 template.
pub fn align(frame: &RgbFrame, landmarks: &[[f32; 2]; 5]) -> Result<RgbFrame, ImageError> {
    let back = Similarity::fit(landmarks, &TEMPLATE).inverse();
    let mut pixels = Zeroizing::new(vec![0u8; SIZE * SIZE * 3]);
    for y in 0..SIZE {
        for x in 0..SIZE {
            let [sx, sy] = back.apply([x as f32, y as f32]);
            for ch in 0..3 {
                pixels[(y * SIZE + x) * 3 + ch] =
                    sample(frame, sx, sy, ch).round().clamp(0.0, 255.0) as u8;
            }
        }
    }
    RgbFrame::from_rgb(SIZE as u32, SIZE as u32, pixels)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_fits_itself_exactly() {
        let s = Similarity::fit(&TEMPLATE, &TEMPLATE);
        assert!(
            (s.a - 1.0).abs() < 1e-5
                && s.b.abs() < 1e-5
                && s.t[0].abs() < 1e-3
                && s.t[1].abs() < 1e-3
        );
    }

    #[test]
    fn a_rotated_scaled_shifted_face_maps_back_onto_the_template() {
        // Landmarks made from the template by a known similarity.
        let known = Similarity {
            a: 2.0 * 0.3f32.cos(),
            b: 2.0 * 0.3f32.sin(),
            t: [40.0, -7.0],
        };
        let mut src = [[0.0; 2]; 5];
        for (s, t) in src.iter_mut().zip(TEMPLATE) {
            *s = known.apply(t);
        }
        let fit = Similarity::fit(&src, &TEMPLATE);
        for (s, t) in src.iter().zip(TEMPLATE) {
            let p = fit.apply(*s);
            assert!(
                (p[0] - t[0]).abs() < 1e-3 && (p[1] - t[1]).abs() < 1e-3,
                "{p:?} vs {t:?}"
            );
        }
        let round = fit.inverse().apply(fit.apply([10.0, 20.0]));
        assert!((round[0] - 10.0).abs() < 1e-3 && (round[1] - 20.0).abs() < 1e-3);
    }

    #[test]
    fn warping_moves_a_marked_pixel_to_its_template_place() {
        // A 300×300 black frame with a white dot where the nose lands after
        // scaling the template by 2.
        let mut pixels = Zeroizing::new(vec![0u8; 300 * 300 * 3]);
        let nose = [TEMPLATE[2][0] * 2.0, TEMPLATE[2][1] * 2.0];
        for dy in -1i64..=1 {
            for dx in -1i64..=1 {
                let (x, y) = (
                    (nose[0].round() as i64 + dx) as usize,
                    (nose[1].round() as i64 + dy) as usize,
                );
                for c in 0..3 {
                    pixels[(y * 300 + x) * 3 + c] = 255;
                }
            }
        }
        let frame = RgbFrame::from_rgb(300, 300, pixels).unwrap();
        let mut lms = TEMPLATE;
        for p in lms.iter_mut() {
            *p = [p[0] * 2.0, p[1] * 2.0];
        }
        let aligned = align(&frame, &lms).unwrap();
        let at = aligned.get(TEMPLATE[2][0].round() as i64, TEMPLATE[2][1].round() as i64);
        assert!(at[0] > 150, "nose pixel is {at:?}");
        assert_eq!(aligned.get(5, 5), [0, 0, 0]);
    }
}
