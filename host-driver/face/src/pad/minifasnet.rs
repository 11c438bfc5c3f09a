//! The texture cue: MiniFASNet V2 (Minivision, Apache-2.0, converted by
//! `models/convert-minifasnet`): the face box widened ×2.7, resized to
//! 80×80, BGR 0..255; softmax, class 1 = real (`../shared/models/MODELS.md`).
//! Its sibling V1SE (×4.0, more of the scene) was measured and left out:
//! on the attack sets it called genuine photos attacks and caught no
//! attack V2 and the other cues missed (`docs/face-pad.md`), at the same
//! cost again.

use std::path::Path;

use zeroize::Zeroizing;

use crate::detect::{sample, Detection};
use crate::image::RgbFrame;
use crate::models::{ModelError, Runnable, Tuning};

/// Input side of MiniFASNet.
const SIDE: usize = 80;

/// The model with its crop factor.
pub struct MiniFasNet {
    models: Vec<(Runnable, f32)>,
    /// The manifest names of the files loaded.
    names: Vec<&'static str>,
}

/// The manifest's names of the model: the production conversion first,
/// then the evaluation copy development sets hold; its crop factor.
const NAMES: [([&str; 2], f32); 1] = [(["minifasnet-v2", "minifasnet-v2-eval"], 2.7)];

fn softmax_real(logits: &[f32]) -> Option<f32> {
    if logits.len() < 3 {
        return None;
    }
    let max = logits.iter().copied().fold(f32::MIN, f32::max);
    let exps: Vec<f32> = logits.iter().map(|v| (v - max).exp()).collect();
    Some(exps[1] / exps.iter().sum::<f32>())
}

/// The crop MiniFASNet expects: the box widened about its centre by `scale`
/// (less if that would leave the image), clipped, resized to 80×80, as BGR
/// planes 0..255.
pub fn crop_input(frame: &RgbFrame, det: &Detection, scale: f32) -> Zeroizing<Vec<f32>> {
    let (w, h) = (frame.width() as f32, frame.height() as f32);
    let [bx, by, bw, bh] = det.bbox;
    let scale = scale
        .min((h - 1.0) / bh.max(1.0))
        .min((w - 1.0) / bw.max(1.0))
        .max(1.0);
    let (cx, cy) = (bx + bw / 2.0, by + bh / 2.0);
    let (nw, nh) = (bw * scale, bh * scale);
    let x0 = (cx - nw / 2.0).clamp(0.0, w - 1.0);
    let y0 = (cy - nh / 2.0).clamp(0.0, h - 1.0);
    let x1 = (cx + nw / 2.0).clamp(0.0, w - 1.0);
    let y1 = (cy + nh / 2.0).clamp(0.0, h - 1.0);
    let mut out = Zeroizing::new(vec![0.0f32; 3 * SIDE * SIDE]);
    for y in 0..SIDE {
        for x in 0..SIDE {
            let sx = x0 + (x as f32 + 0.5) * (x1 - x0) / SIDE as f32 - 0.5;
            let sy = y0 + (y as f32 + 0.5) * (y1 - y0) / SIDE as f32 - 0.5;
            for (plane, ch) in [2usize, 1, 0].iter().enumerate() {
                out[plane * SIDE * SIDE + y * SIDE + x] = sample(frame, sx, sy, *ch);
            }
        }
    }
    out
}

impl MiniFasNet {
    /// Loads and verifies the model (from its production file when present,
    /// else from its evaluation copy).
    pub fn load(dir: &Path, tuning: &Tuning) -> Result<MiniFasNet, ModelError> {
        let shape = [1, 3, SIDE, SIDE];
        let (mut models, mut names) = (Vec::new(), Vec::new());
        for ([production, evaluation], scale) in NAMES {
            let (model, name) = match Runnable::load_tuned(dir, production, &shape, tuning) {
                Err(ModelError::Missing { .. }) => {
                    // Development trees hold only the third-party copy.
                    tracing::warn!(event = "face.pad.evaluation-copy");
                    (
                        Runnable::load_tuned(dir, evaluation, &shape, tuning)?,
                        evaluation,
                    )
                }
                other => (other?, production),
            };
            models.push((model, scale));
            names.push(name);
        }
        Ok(MiniFasNet { models, names })
    }

    /// The manifest names of the files in use (an `-eval` name: the
    /// evaluation copy of a development tree, not the production
    /// conversion).
    pub fn names(&self) -> &[&'static str] {
        &self.names
    }

    /// The models with their crop factors (for profiling).
    pub fn models(&self) -> impl Iterator<Item = (&Runnable, f32)> {
        self.models.iter().map(|(m, s)| (m, *s))
    }

    /// p(real) for the face `det` in `frame` (the models' mean).
    pub fn p_real(&self, frame: &RgbFrame, det: &Detection) -> Result<f32, ModelError> {
        let mut sum = 0.0;
        for (model, scale) in &self.models {
            let input = crop_input(frame, det, *scale);
            let logits = model.run(&[1, 3, SIDE, SIDE], &input)?;
            sum += logits.first().and_then(|l| softmax_real(l)).unwrap_or(0.0);
        }
        Ok(sum / self.models.len().max(1) as f32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softmax_takes_class_one() {
        let p = softmax_real(&[0.0, 2.0, 0.0]).unwrap();
        assert!((p - 2f32.exp() / (2.0 + 2f32.exp())).abs() < 1e-6);
        assert!(softmax_real(&[1.0]).is_none());
    }

    #[test]
    fn the_crop_stays_inside_the_image() {
        let frame = RgbFrame::from_rgb(100, 100, Zeroizing::new(vec![200; 100 * 100 * 3])).unwrap();
        let det = Detection {
            bbox: [60.0, 60.0, 30.0, 30.0],
            landmarks: [[0.0; 2]; 5],
            score: 1.0,
        };
        let input = crop_input(&frame, &det, 4.0);
        assert_eq!(input.len(), 3 * 80 * 80);
        assert!(
            input.iter().all(|v| (*v - 200.0).abs() < 1e-3),
            "no black border from outside the frame"
        );
    }
}
