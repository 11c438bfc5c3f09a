//! On-device face verification: the card photo against the live camera frame.
//!
//! [`image`] decodes (JPEG 2000 from the chip, any format from a file) into
//! zeroizing buffers; [`detect`] finds faces and landmarks (YuNet); [`align`]
//! warps them to the ArcFace template; [`embed`] turns them into normalised
//! embeddings; [`eval`] scores a labelled pair list. Models come from
//! [`models`], checked against the manifest. Nothing here writes anywhere.

pub mod align;
pub mod detect;
pub mod embed;
pub mod eval;
pub mod image;
pub mod models;

use std::path::PathBuf;

use detect::{Detection, Detector};
use embed::{Embedding, Recogniser};
use image::{ImageError, RgbFrame};
use models::{ModelError, Runnable};

/// Settings of the face check (kept in configuration).
#[derive(Debug, Clone)]
pub struct FaceSettings {
    /// Model folder; default as [`models::models_dir`] says.
    pub models_dir: Option<PathBuf>,
    /// Detector input side (YuNet's graph is 640×640).
    pub detector_size: usize,
    /// Detector score threshold.
    pub detector_threshold: f32,
    /// Recogniser name from the manifest.
    pub recogniser: String,
    /// Similarity at or above which a pair is the same person.
    pub match_threshold: f32,
    /// Turn the live frame grey before embedding, as the card photo was made.
    pub live_as_card: bool,
}

/// The decision threshold. Chosen on `../shared/faces/dev-card` with
/// `mynareader face eval`: above every impostor score there with a margin;
/// see `docs/face-threshold.md` for how to recalibrate on a larger set.
pub const DEFAULT_MATCH_THRESHOLD: f32 = 0.55;

impl Default for FaceSettings {
    fn default() -> Self {
        FaceSettings {
            models_dir: None,
            detector_size: 640,
            detector_threshold: 0.6,
            recogniser: "mobilefacenet-128".into(),
            match_threshold: DEFAULT_MATCH_THRESHOLD,
            live_as_card: true,
        }
    }
}

/// Errors of the face check.
#[derive(Debug, thiserror::Error)]
pub enum FaceError {
    /// The image cannot be used.
    #[error(transparent)]
    Image(#[from] ImageError),
    /// A model is missing, mismatching or failing.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// No face in the image.
    #[error("no face found in the image")]
    NoFace,
    /// The recogniser gave nothing usable.
    #[error("the face could not be encoded")]
    NoEmbedding,
    /// The recogniser is not one this build knows how to feed.
    #[error("unknown recogniser {0:?}")]
    UnknownRecogniser(String),
}

/// The loaded models.
pub struct FaceEngine {
    detector: Detector,
    recogniser: Recogniser,
    settings: FaceSettings,
}

/// One face found and encoded.
pub struct EncodedFace {
    /// Where it was.
    pub detection: Detection,
    /// Its embedding.
    pub embedding: Embedding,
}

impl FaceEngine {
    /// Loads, verifies and optimises the models once.
    pub fn load(settings: FaceSettings) -> Result<FaceEngine, FaceError> {
        let dir = models::models_dir(settings.models_dir.as_deref());
        let size = settings.detector_size;
        let detector = Detector::new(
            Runnable::load(&dir, "yunet", &[1, 3, size, size])?,
            size,
            settings.detector_threshold,
        )?;
        let preprocess = embed::preprocess_for(&settings.recogniser)
            .ok_or_else(|| FaceError::UnknownRecogniser(settings.recogniser.clone()))?;
        let recogniser = Recogniser::new(
            Runnable::load(
                &dir,
                &settings.recogniser,
                &[1, 3, align::SIZE, align::SIZE],
            )?,
            preprocess,
        );
        Ok(FaceEngine {
            detector,
            recogniser,
            settings,
        })
    }

    /// The settings in force.
    pub fn settings(&self) -> &FaceSettings {
        &self.settings
    }

    /// Faces in a frame, best first.
    pub fn detect(&self, frame: &RgbFrame) -> Result<Vec<Detection>, FaceError> {
        Ok(self.detector.detect(frame)?)
    }

    /// Detects, aligns and encodes the most confident face.
    pub fn encode(&self, frame: &RgbFrame) -> Result<EncodedFace, FaceError> {
        let detection = *self.detect(frame)?.first().ok_or(FaceError::NoFace)?;
        let aligned = align::align(frame, &detection.landmarks)?;
        let embedding = self
            .recogniser
            .embed(&aligned)?
            .ok_or(FaceError::NoEmbedding)?;
        Ok(EncodedFace {
            detection,
            embedding,
        })
    }

    /// Encodes a card photo (grey, small) as it is.
    pub fn encode_card(&self, frame: &RgbFrame) -> Result<EncodedFace, FaceError> {
        self.encode(frame)
    }

    /// Encodes a live frame, grey first when configured, as the card photo
    /// was made.
    pub fn encode_live(&self, frame: &RgbFrame) -> Result<EncodedFace, FaceError> {
        if self.settings.live_as_card && !frame.is_grayscale() {
            self.encode(&frame.to_grayscale())
        } else {
            self.encode(frame)
        }
    }
}
