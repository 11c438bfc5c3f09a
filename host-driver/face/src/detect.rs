//! YuNet face detection: letterbox preprocessing, decoding of the three
//! stride heads into boxes with five landmarks, and non-maximum suppression
//! (see `../shared/models/MODELS.md`). The decoding is pure code, tested
//! against a hand-made output without a model.

use super::image::RgbFrame;
use super::models::{ModelError, Runnable};

/// One detected face, in image coordinates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Detection {
    /// Left, top, width, height.
    pub bbox: [f32; 4],
    /// Right eye, left eye, nose tip, right and left mouth corners (image
    /// left to right for the eyes and mouth corners).
    pub landmarks: [[f32; 2]; 5],
    /// Confidence 0..1.
    pub score: f32,
}

/// The strides of YuNet's heads.
pub const STRIDES: [usize; 3] = [8, 16, 32];

/// The raw head outputs for one stride, flattened.
#[derive(Debug, Clone, Copy)]
pub struct Heads<'a> {
    /// Stride.
    pub stride: usize,
    /// `cls_s` [N].
    pub cls: &'a [f32],
    /// `obj_s` [N].
    pub obj: &'a [f32],
    /// `bbox_s` [N×4].
    pub bbox: &'a [f32],
    /// `kps_s` [N×10].
    pub kps: &'a [f32],
}

impl Detection {
    /// The box's area: the largest face is the patient's.
    pub fn area(&self) -> f32 {
        self.bbox[2] * self.bbox[3]
    }
}

/// Decodes the heads of a `width`×`height` input into detections above
/// `threshold`, in input coordinates.
pub fn decode(width: usize, height: usize, heads: &[Heads<'_>], threshold: f32) -> Vec<Detection> {
    let mut out = Vec::new();
    for h in heads {
        let cols = width / h.stride;
        let n = cols * (height / h.stride);
        if h.cls.len() < n || h.obj.len() < n || h.bbox.len() < n * 4 || h.kps.len() < n * 10 {
            continue;
        }
        let s = h.stride as f32;
        for i in 0..n {
            let score = (h.cls[i].clamp(0.0, 1.0) * h.obj[i].clamp(0.0, 1.0)).sqrt();
            if score < threshold {
                continue;
            }
            let (r, c) = ((i / cols) as f32, (i % cols) as f32);
            let b = &h.bbox[i * 4..i * 4 + 4];
            let cx = (c + b[0]) * s;
            let cy = (r + b[1]) * s;
            let w = b[2].exp() * s;
            let hgt = b[3].exp() * s;
            let k = &h.kps[i * 10..i * 10 + 10];
            let mut landmarks = [[0.0; 2]; 5];
            for (j, lm) in landmarks.iter_mut().enumerate() {
                *lm = [(k[2 * j] + c) * s, (k[2 * j + 1] + r) * s];
            }
            out.push(Detection {
                bbox: [cx - w / 2.0, cy - hgt / 2.0, w, hgt],
                landmarks,
                score,
            });
        }
    }
    out
}

fn iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let x1 = a[0].max(b[0]);
    let y1 = a[1].max(b[1]);
    let x2 = (a[0] + a[2]).min(b[0] + b[2]);
    let y2 = (a[1] + a[3]).min(b[1] + b[3]);
    let inter = (x2 - x1).max(0.0) * (y2 - y1).max(0.0);
    let union = a[2] * a[3] + b[2] * b[3] - inter;
    if union <= 0.0 {
        0.0
    } else {
        inter / union
    }
}

/// Keeps the best of overlapping detections (IoU above `max_iou`), best first.
pub fn nms(mut detections: Vec<Detection>, max_iou: f32) -> Vec<Detection> {
    detections.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<Detection> = Vec::new();
    for d in detections {
        if kept.iter().all(|k| iou(&k.bbox, &d.bbox) <= max_iou) {
            kept.push(d);
        }
    }
    kept
}

/// YuNet optimised for one input shape.
struct Plan {
    width: usize,
    height: usize,
    model: Runnable,
    order: Vec<[usize; 4]>,
}

/// The YuNet detector: one optimised plan per input shape (a square for any
/// frame, narrower ones for the shapes frames and card photos come in), so a
/// portrait card photo is not letterboxed into a square of zeros.
pub struct Detector {
    plans: Vec<Plan>,
    threshold: f32,
}

/// The detector input for a `width`×`height` image whose long side is
/// scaled to `long`: each side rounded up to a multiple of 32 (YuNet's
/// largest stride).
pub fn input_shape(width: u32, height: u32, long: usize) -> (usize, usize) {
    let scale = long as f32 / width.max(height).max(1) as f32;
    let side = |v: u32| {
        let scaled = (v as f32 * scale).round().max(1.0) as usize;
        scaled.div_ceil(32) * 32
    };
    (
        side(width).min(long.div_ceil(32) * 32),
        side(height).min(long.div_ceil(32) * 32),
    )
}

impl Detector {
    /// Wraps a loaded YuNet with a `size`×`size` input.
    pub fn new(model: Runnable, size: usize, threshold: f32) -> Result<Detector, ModelError> {
        Detector::with_plans(vec![(size, size, model)], threshold)
    }

    /// Wraps YuNet optimised for several `(width, height, model)` inputs.
    pub fn with_plans(
        models: Vec<(usize, usize, Runnable)>,
        threshold: f32,
    ) -> Result<Detector, ModelError> {
        let mut plans = Vec::new();
        for (width, height, model) in models {
            let names = model.output_names().to_vec();
            let find = |prefix: &str, stride: usize| {
                names
                    .iter()
                    .position(|n| n == &format!("{prefix}_{stride}"))
                    .ok_or_else(|| ModelError::Load {
                        name: "yunet".into(),
                        reason: format!("no output {prefix}_{stride} (outputs: {names:?})"),
                    })
            };
            let order = STRIDES
                .iter()
                .map(|s| {
                    Ok([
                        find("cls", *s)?,
                        find("obj", *s)?,
                        find("bbox", *s)?,
                        find("kps", *s)?,
                    ])
                })
                .collect::<Result<_, ModelError>>()?;
            plans.push(Plan {
                width,
                height,
                model,
                order,
            });
        }
        if plans.is_empty() {
            return Err(ModelError::Load {
                name: "yunet".into(),
                reason: "no input shape".into(),
            });
        }
        plans.sort_by_key(|p| p.width * p.height);
        Ok(Detector { plans, threshold })
    }

    /// The input shapes optimised, smallest first.
    pub fn shapes(&self) -> Vec<(usize, usize)> {
        self.plans.iter().map(|p| (p.width, p.height)).collect()
    }

    /// The largest square input (the size of [`Detector::new`]).
    pub fn size(&self) -> usize {
        self.plans
            .iter()
            .filter(|p| p.width == p.height)
            .map(|p| p.width)
            .max()
            .unwrap_or(0)
    }

    /// Faces in `frame`, best first, in frame coordinates, with the frame's
    /// long side scaled to the largest square input.
    pub fn detect(&self, frame: &RgbFrame) -> Result<Vec<Detection>, ModelError> {
        self.detect_at(frame, self.size())
    }

    /// Faces in `frame` with its long side scaled to `long` pixels, run on
    /// the smallest optimised input that holds it (else the largest input,
    /// the frame scaled to fit).
    pub fn detect_at(&self, frame: &RgbFrame, long: usize) -> Result<Vec<Detection>, ModelError> {
        let (fw, fh) = (frame.width() as f32, frame.height() as f32);
        let want = input_shape(frame.width(), frame.height(), long);
        let (plan, scale) = match self
            .plans
            .iter()
            .find(|p| p.width >= want.0 && p.height >= want.1)
        {
            Some(plan) => (plan, long as f32 / fw.max(fh)),
            None => {
                let plan = self.plans.last().ok_or_else(|| ModelError::Load {
                    name: "yunet".into(),
                    reason: "no input shape".into(),
                })?;
                (plan, (plan.width as f32 / fw).min(plan.height as f32 / fh))
            }
        };
        let (width, height) = (plan.width, plan.height);
        let input = letterbox_bgr(frame, width, height, scale);
        let outputs = plan.model.run(&[1, 3, height, width], &input)?;
        let heads: Vec<Heads<'_>> = STRIDES
            .iter()
            .zip(&plan.order)
            .map(|(stride, [c, o, b, k])| Heads {
                stride: *stride,
                cls: &outputs[*c],
                obj: &outputs[*o],
                bbox: &outputs[*b],
                kps: &outputs[*k],
            })
            .collect();
        let mut found = nms(decode(width, height, &heads, self.threshold), 0.3);
        for d in &mut found {
            for v in d.bbox.iter_mut() {
                *v /= scale;
            }
            for lm in d.landmarks.iter_mut() {
                lm[0] /= scale;
                lm[1] /= scale;
            }
        }
        Ok(found)
    }

    /// The plan [`Detector::detect_at`] would use, for profiling.
    pub fn model_for(&self, width: usize, height: usize) -> Option<&Runnable> {
        self.plans
            .iter()
            .find(|p| p.width == width && p.height == height)
            .map(|p| &p.model)
    }
}

/// Bilinear sample of channel `ch` at (x, y); black outside.
pub fn sample(frame: &RgbFrame, x: f32, y: f32, ch: usize) -> f32 {
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let (x0, y0) = (x0 as i64, y0 as i64);
    let p = |dx: i64, dy: i64| f32::from(frame.get(x0 + dx, y0 + dy)[ch]);
    let top = p(0, 0) * (1.0 - fx) + p(1, 0) * fx;
    let bottom = p(0, 1) * (1.0 - fx) + p(1, 1) * fx;
    top * (1.0 - fy) + bottom * fy
}

/// Bilinear sample of all three channels at (x, y); black outside.
pub fn sample_rgb(frame: &RgbFrame, x: f32, y: f32) -> [f32; 3] {
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let (x0, y0) = (x0 as i64, y0 as i64);
    let (w, h) = (i64::from(frame.width()), i64::from(frame.height()));
    if x0 >= 0 && y0 >= 0 && x0 + 1 < w && y0 + 1 < h {
        let px = frame.pixels();
        let stride = w as usize * 3;
        let i = y0 as usize * stride + x0 as usize * 3;
        let mut out = [0.0; 3];
        for (ch, o) in out.iter_mut().enumerate() {
            let p = |at: usize| f32::from(px[at + ch]);
            let top = p(i) * (1.0 - fx) + p(i + 3) * fx;
            let bottom = p(i + stride) * (1.0 - fx) + p(i + stride + 3) * fx;
            *o = top * (1.0 - fy) + bottom * fy;
        }
        return out;
    }
    [
        sample(frame, x, y, 0),
        sample(frame, x, y, 1),
        sample(frame, x, y, 2),
    ]
}

/// The frame scaled by `scale` at the top-left of a `width`×`height` black
/// canvas, as BGR planes 0..255 (YuNet's input).
pub fn letterbox_bgr(
    frame: &RgbFrame,
    width: usize,
    height: usize,
    scale: f32,
) -> zeroize::Zeroizing<Vec<f32>> {
    let plane = width * height;
    let mut out = zeroize::Zeroizing::new(vec![0.0f32; 3 * plane]);
    let w = ((frame.width() as f32 * scale).round() as usize).min(width);
    let h = ((frame.height() as f32 * scale).round() as usize).min(height);
    for y in 0..h {
        let sy = ((y as f32 + 0.5) / scale - 0.5).max(0.0);
        for x in 0..w {
            let sx = ((x as f32 + 0.5) / scale - 0.5).max(0.0);
            let [r, g, b] = sample_rgb(frame, sx, sy);
            let at = y * width + x;
            out[at] = b;
            out[plane + at] = g;
            out[2 * plane + at] = r;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_a_known_anchor() {
        // 32×32 input: stride 8 has a 4×4 grid; put one face at row 1, col 2.
        let size = 32;
        let n = 16;
        let mut cls = vec![0.0; n];
        let mut obj = vec![0.0; n];
        let mut bbox = vec![0.0; n * 4];
        let mut kps = vec![0.0; n * 10];
        let i = 4 + 2;
        cls[i] = 0.81;
        obj[i] = 1.0;
        bbox[i * 4..i * 4 + 4].copy_from_slice(&[0.5, 0.25, 1.0f32.ln(), 2.0f32.ln()]);
        kps[i * 10] = 0.1;
        kps[i * 10 + 1] = 0.2;
        let heads = [Heads {
            stride: 8,
            cls: &cls,
            obj: &obj,
            bbox: &bbox,
            kps: &kps,
        }];
        let found = decode(size, size, &heads, 0.6);
        assert_eq!(found.len(), 1);
        let d = found[0];
        assert!((d.score - 0.9).abs() < 1e-6);
        // cx = (2 + 0.5) * 8 = 20, cy = (1 + 0.25) * 8 = 10, w = 8, h = 16
        assert_eq!(d.bbox, [16.0, 2.0, 8.0, 16.0]);
        assert!((d.landmarks[0][0] - 16.8).abs() < 1e-5 && (d.landmarks[0][1] - 9.6).abs() < 1e-5);
        assert!(decode(size, size, &heads, 0.95).is_empty());
    }

    #[test]
    fn nms_keeps_the_best_of_overlapping_boxes() {
        let d = |x: f32, score: f32| Detection {
            bbox: [x, 0.0, 10.0, 10.0],
            landmarks: [[0.0; 2]; 5],
            score,
        };
        let kept = nms(vec![d(0.0, 0.7), d(1.0, 0.9), d(50.0, 0.8)], 0.3);
        assert_eq!(
            kept.iter().map(|k| k.score).collect::<Vec<_>>(),
            vec![0.9, 0.8]
        );
    }
}
