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

/// Decodes the heads of a `size`×`size` input into detections above
/// `threshold`, in input coordinates.
pub fn decode(size: usize, heads: &[Heads<'_>], threshold: f32) -> Vec<Detection> {
    let mut out = Vec::new();
    for h in heads {
        let cols = size / h.stride;
        let n = cols * cols;
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

/// The YuNet detector.
pub struct Detector {
    model: Runnable,
    size: usize,
    threshold: f32,
    order: Vec<[usize; 4]>,
}

impl Detector {
    /// Wraps a loaded YuNet with a `size`×`size` input.
    pub fn new(model: Runnable, size: usize, threshold: f32) -> Result<Detector, ModelError> {
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
        Ok(Detector {
            model,
            size,
            threshold,
            order,
        })
    }

    /// The input size.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Faces in `frame`, best first, in frame coordinates.
    pub fn detect(&self, frame: &RgbFrame) -> Result<Vec<Detection>, ModelError> {
        let size = self.size;
        let scale = size as f32 / frame.width().max(frame.height()) as f32;
        let input = letterbox_bgr(frame, size, scale);
        let outputs = self.model.run(&[1, 3, size, size], &input)?;
        let heads: Vec<Heads<'_>> = STRIDES
            .iter()
            .zip(&self.order)
            .map(|(stride, [c, o, b, k])| Heads {
                stride: *stride,
                cls: &outputs[*c],
                obj: &outputs[*o],
                bbox: &outputs[*b],
                kps: &outputs[*k],
            })
            .collect();
        let mut found = nms(decode(size, &heads, self.threshold), 0.3);
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

/// The frame scaled by `scale` at the top-left of a `size`×`size` black
/// square, as BGR planes 0..255 (YuNet's input).
fn letterbox_bgr(frame: &RgbFrame, size: usize, scale: f32) -> zeroize::Zeroizing<Vec<f32>> {
    let plane = size * size;
    let mut out = zeroize::Zeroizing::new(vec![0.0f32; 3 * plane]);
    let w = ((frame.width() as f32 * scale).round() as usize).min(size);
    let h = ((frame.height() as f32 * scale).round() as usize).min(size);
    for y in 0..h {
        let sy = ((y as f32 + 0.5) / scale - 0.5).max(0.0);
        for x in 0..w {
            let sx = ((x as f32 + 0.5) / scale - 0.5).max(0.0);
            for (plane_index, ch) in [2usize, 1, 0].iter().enumerate() {
                out[plane_index * plane + y * size + x] = sample(frame, sx, sy, *ch);
            }
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
        let found = decode(size, &heads, 0.6);
        assert_eq!(found.len(), 1);
        let d = found[0];
        assert!((d.score - 0.9).abs() < 1e-6);
        // cx = (2 + 0.5) * 8 = 20, cy = (1 + 0.25) * 8 = 10, w = 8, h = 16
        assert_eq!(d.bbox, [16.0, 2.0, 8.0, 16.0]);
        assert!((d.landmarks[0][0] - 16.8).abs() < 1e-5 && (d.landmarks[0][1] - 9.6).abs() < 1e-5);
        assert!(decode(size, &heads, 0.95).is_empty());
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
