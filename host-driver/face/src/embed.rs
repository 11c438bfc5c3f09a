//! Face embeddings: the recogniser on an aligned 112×112 face, L2-normalised;
//! compared by cosine similarity. Embeddings are zeroizing and have no
//! `Debug`; only the similarity leaves this module.

use zeroize::Zeroizing;

use super::align::SIZE;
use super::image::RgbFrame;
use super::models::{ModelError, Runnable};

/// How a recogniser wants its input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Preprocess {
    /// Channel order BGR instead of RGB.
    pub bgr: bool,
    /// Subtracted from 0..255 values.
    pub mean: f32,
    /// Then divided by this.
    pub scale: f32,
}

/// The preprocessing of a manifest recogniser.
pub fn preprocess_for(name: &str) -> Option<Preprocess> {
    match name {
        "mobilefacenet-128" => Some(Preprocess {
            bgr: false,
            mean: 127.5,
            scale: 128.0,
        }),
        "mobilefacenet-paddle-128" => Some(Preprocess {
            bgr: true,
            mean: 127.5,
            scale: 128.0,
        }),
        "edgeface-xs" => Some(Preprocess {
            bgr: false,
            mean: 127.5,
            scale: 127.5,
        }),
        "sface" => Some(Preprocess {
            bgr: false,
            mean: 0.0,
            scale: 1.0,
        }),
        _ => None,
    }
}

/// An L2-normalised embedding.
pub struct Embedding(Zeroizing<Vec<f32>>);

impl Embedding {
    /// Normalises a raw recogniser output; `None` for a zero vector.
    pub fn from_raw(mut raw: Vec<f32>) -> Option<Embedding> {
        let norm = raw.iter().map(|v| v * v).sum::<f32>().sqrt();
        if !norm.is_finite() || norm <= f32::EPSILON {
            zeroize::Zeroize::zeroize(&mut raw);
            return None;
        }
        raw.iter_mut().for_each(|v| *v /= norm);
        Some(Embedding(Zeroizing::new(raw)))
    }

    /// The normalised mean of several embeddings (frames of one face);
    /// `None` when empty or they cancel out.
    pub fn mean<'a>(embeddings: impl IntoIterator<Item = &'a Embedding>) -> Option<Embedding> {
        let mut sum: Vec<f32> = Vec::new();
        for e in embeddings {
            if sum.is_empty() {
                sum = vec![0.0; e.0.len()];
            }
            if e.0.len() != sum.len() {
                return None;
            }
            sum.iter_mut().zip(e.0.iter()).for_each(|(s, v)| *s += v);
        }
        if sum.is_empty() {
            return None;
        }
        Embedding::from_raw(sum)
    }

    /// Cosine similarity, -1..1.
    pub fn cosine(&self, other: &Embedding) -> f32 {
        self.0.iter().zip(other.0.iter()).map(|(a, b)| a * b).sum()
    }
}

/// The recogniser.
pub struct Recogniser {
    model: Runnable,
    preprocess: Preprocess,
}

impl Recogniser {
    /// Wraps a loaded recogniser.
    pub fn new(model: Runnable, preprocess: Preprocess) -> Recogniser {
        Recogniser { model, preprocess }
    }

    /// The model (for profiling).
    pub fn model(&self) -> &Runnable {
        &self.model
    }

    /// The model input for an aligned face: NCHW planes, preprocessed.
    pub fn input(&self, aligned: &RgbFrame) -> Zeroizing<Vec<f32>> {
        let plane = SIZE * SIZE;
        let mut input = Zeroizing::new(vec![0.0f32; 3 * plane]);
        let order: [usize; 3] = if self.preprocess.bgr {
            [2, 1, 0]
        } else {
            [0, 1, 2]
        };
        for (i, px) in aligned.pixels().chunks_exact(3).enumerate() {
            for (c, src) in order.iter().enumerate() {
                input[c * plane + i] =
                    (f32::from(px[*src]) - self.preprocess.mean) / self.preprocess.scale;
            }
        }
        input
    }

    /// The embedding of an aligned face.
    pub fn embed(&self, aligned: &RgbFrame) -> Result<Option<Embedding>, ModelError> {
        let input = self.input(aligned);
        let outputs = self.model.run(&[1, 3, SIZE, SIZE], &input)?;
        Ok(outputs.into_iter().next().and_then(Embedding::from_raw))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embeddings_are_normalised_and_compared_by_cosine() {
        let a = Embedding::from_raw(vec![3.0, 4.0]).unwrap();
        let b = Embedding::from_raw(vec![4.0, 3.0]).unwrap();
        assert!((a.cosine(&a) - 1.0).abs() < 1e-6);
        assert!((a.cosine(&b) - 0.96).abs() < 1e-6);
        assert!(Embedding::from_raw(vec![0.0, 0.0]).is_none());
        assert!(Embedding::from_raw(vec![f32::NAN, 1.0]).is_none());
    }

    #[test]
    fn the_mean_of_embeddings_is_normalised() {
        let a = Embedding::from_raw(vec![1.0, 0.0]).unwrap();
        let b = Embedding::from_raw(vec![0.0, 1.0]).unwrap();
        let m = Embedding::mean([&a, &b]).unwrap();
        assert!((m.cosine(&m) - 1.0).abs() < 1e-6);
        assert!((m.cosine(&a) - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-6);
        let minus = Embedding::from_raw(vec![-1.0, 0.0]).unwrap();
        assert!(Embedding::mean([&a, &minus]).is_none());
        assert!(Embedding::mean(std::iter::empty()).is_none());
    }
}
