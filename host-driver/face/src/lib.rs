//! On-device face verification: the card photo against the live camera frame.
//!
//! [`image`] decodes (JPEG 2000 from the chip, any format from a file) into
//! zeroizing buffers; [`detect`] finds faces and landmarks (YuNet); [`align`]
//! warps them to the ArcFace template; [`embed`] turns them into normalised
//! embeddings; [`eval`] scores a labelled pair list. Models come from
//! [`models`], checked against the manifest. Nothing here writes anywhere.
//! With the `fuzz` feature, also the fuzz targets' entry point
//! (`fuzz_face_images`); it is not API.

pub mod align;
pub mod attacks;
pub mod detect;
pub mod embed;
pub mod eval;
pub mod image;
pub mod models;
pub mod pad;
pub mod quality;
pub mod surgery;

use std::path::PathBuf;

use detect::{Detection, Detector};
use embed::{Embedding, Recogniser};
use image::{ImageError, RgbFrame};
use models::{ModelError, Runnable};

/// Entry point for fuzzing the image decoders the face pipeline starts with:
/// JPEG 2000 from the card chip (hayro-jpeg2000) and any other format from a
/// camera or file. Never panics on any input.
///
/// Only with the `fuzz` feature (the fuzz crate and the seed-corpus test
/// enable it): not part of the library's API.
#[cfg(any(test, feature = "fuzz"))]
pub fn fuzz_face_images(data: &[u8]) {
    let _ = image::decode(data);
}

/// Settings of the face check (kept in configuration).
#[derive(Debug, Clone)]
pub struct FaceSettings {
    /// Model folder; default as [`models::models_dir`] says.
    pub models_dir: Option<PathBuf>,
    /// Detector input side of the first pass on a live frame. YuNet's graph
    /// is exported at 640×640 but runs at any multiple of 32. A kiosk frame
    /// holds one large face: 160 finds it, and the refining pass on a crop
    /// around it gives the landmarks their precision back (as accurate on
    /// both dev sets as 320, at under a third of the first pass's time).
    pub detector_size: usize,
    /// Detector input side of a second first pass when the first finds no
    /// face (a face far from the camera); 0: none.
    pub fallback_detector_size: usize,
    /// Detector input long side for card photos (a tight portrait, the face
    /// fills it: a small input finds it as well).
    pub card_detector_size: usize,
    /// Detector input side for the refining pass on a crop around a face
    /// that is small in the frame.
    pub refine_size: usize,
    /// Detector score threshold.
    pub detector_threshold: f32,
    /// Threads for tract's matrix products (1: the calling thread only).
    pub threads: usize,
    /// Recogniser name from the manifest; `None`: the licensed production
    /// model (SFace) when its weights are in the folder, else the evaluation
    /// model of development ([`DEVELOPMENT_RECOGNISERS`]).
    pub recogniser: Option<String>,
    /// Similarity at or above which a pair is the same person; `None`: the
    /// recogniser's own ([`default_threshold`]).
    pub match_threshold: Option<f32>,
    /// Turn the live frame grey before embedding, as the card photo was made
    /// (measured: no better on the dev set with this recogniser, so off).
    pub live_as_card: bool,
    /// Presentation-attack detection.
    pub pad: PadMode,
    /// Run PAD on a second thread while the recogniser runs.
    pub pad_in_parallel: bool,
    /// Where PAD's cues say attack; `same_picture: None` takes the
    /// recogniser's own bound ([`pad::same_picture_bound`]).
    pub pad_limits: pad::PadLimits,
    /// Frames of one capture the texture cue judges (the surest first).
    pub pad_frames: usize,
    /// The capture quality gate.
    pub quality: quality::QualityLimits,
}

/// What PAD does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PadMode {
    /// Not run.
    Off,
    /// Run and reported; the decision ignores it (evaluation only).
    Report,
    /// Run; an attack ends the face path (the default: without its models
    /// the engine does not load, and the kiosk offers PIN or staff).
    Enforce,
}

/// Coarse similarity band: what leaves the face module besides the decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Band {
    /// Well above the threshold.
    High,
    /// At or just above the threshold.
    Medium,
    /// Below the threshold.
    Low,
}

/// The band of a similarity.
pub fn band(similarity: f32, threshold: f32) -> Band {
    if similarity >= threshold + 0.15 {
        Band::High
    } else if similarity >= threshold {
        Band::Medium
    } else {
        Band::Low
    }
}

/// The result of one capture.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
#[serde(tag = "capture", rename_all = "kebab-case")]
pub enum Capture {
    /// Not fit to compare: ask the patient to do this; no attempt spent.
    Retry {
        /// One hint.
        hint: quality::Hint,
    },
    /// Compared.
    Compared {
        /// Cosine similarity.
        similarity: f32,
        /// Its band.
        band: Band,
        /// Same person, and live when PAD is enforced.
        matched: bool,
        /// PAD's verdict.
        pad: pad::PadOutcome,
        /// What PAD measured (none when it is off).
        evidence: Option<pad::Evidence>,
        /// The next hint when it did not match.
        hint: Option<quality::Hint>,
    },
}

/// The decision threshold of `mobilefacenet-128`. Chosen on
/// `../shared/faces/dev-card` with `mynareader face eval`: above every
/// impostor score there with a margin; see `docs/face-threshold.md` for how
/// to recalibrate on a larger set.
pub const MOBILEFACENET_MATCH_THRESHOLD: f32 = 0.55;

/// The decision threshold of `mobilefacenet-paddle-128`: the lowest (in
/// steps of 0.01) at which a normal fitted to every cross-identity pair of
/// each dev set puts the false-accept rate at or below the goal of 1 in
/// 10,000; 0.076 above the highest of those impostors. See
/// `docs/face-threshold.md`.
pub const PADDLE_MATCH_THRESHOLD: f32 = 0.43;

/// The decision threshold of `edgeface-xs`, by the same rule as
/// [`PADDLE_MATCH_THRESHOLD`]: 0.068 above the highest cross-identity
/// impostor of `dev-card` and 0.031 above that of `dev`. See
/// `docs/face-threshold.md`.
pub const EDGEFACE_MATCH_THRESHOLD: f32 = 0.34;

/// The recognisers when the production one (SFace) is not fetched, in
/// order of preference: the first whose weights are present is used.
/// `edgeface-xs` (made by `models/convert-edgeface`, not in
/// `../shared/models`) accepts the most genuine pairs at every estimated
/// false-accept rate; `mobilefacenet-paddle-128` is next and, with its
/// PRelus rewritten ([`surgery`]), runs as fast as `mobilefacenet-128`.
/// Development only: the MobileFaceNets carry no licence, and EdgeFace's
/// training faces were not checked.
pub const DEVELOPMENT_RECOGNISERS: [&str; 3] = [
    "edgeface-xs",
    "mobilefacenet-paddle-128",
    "mobilefacenet-128",
];

/// How much larger the refining pass must see a face than the first pass
/// did to be worth running.
const REFINE_GAIN: f32 = 1.5;

/// The threshold for a recogniser. SFace's is OpenCV's published cosine
/// threshold for that model; its weights could not be obtained here, so it
/// is not calibrated on our sets (see `docs/face-threshold.md`).
pub fn default_threshold(recogniser: &str) -> Option<f32> {
    match recogniser {
        "mobilefacenet-128" => Some(MOBILEFACENET_MATCH_THRESHOLD),
        "mobilefacenet-paddle-128" => Some(PADDLE_MATCH_THRESHOLD),
        "edgeface-xs" => Some(EDGEFACE_MATCH_THRESHOLD),
        "sface" => Some(0.363),
        _ => None,
    }
}

impl Default for FaceSettings {
    fn default() -> Self {
        FaceSettings {
            models_dir: None,
            detector_size: 160,
            fallback_detector_size: 320,
            card_detector_size: 192,
            refine_size: 192,
            detector_threshold: 0.6,
            threads: 1,
            recogniser: None,
            match_threshold: None,
            live_as_card: false,
            pad: PadMode::Enforce,
            pad_in_parallel: true,
            pad_limits: pad::PadLimits::default(),
            pad_frames: 2,
            quality: quality::QualityLimits::default(),
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
    recogniser_name: String,
    threshold: f32,
    pad: Option<pad::Pad>,
    settings: FaceSettings,
}

/// A frame that passed the quality gate.
struct Gated {
    detection: Detection,
    aligned: RgbFrame,
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
        let tuning = models::Tuning::with_threads(settings.threads);
        let yunet = models::read_verified(&dir, &models::entry("yunet")?)?;
        // One plan per input shape the sources come in: any frame (square),
        // a 4:3 landscape camera frame, and the square of the refining pass,
        // which also takes the chip photo at `card_detector_size`. (A
        // portrait plan for the 4:5 chip photo was measured: tract's
        // depthwise convolutions run it slower than the square that holds
        // it, 4.7 ms at 160×192 against 3.8 ms at 192×192.)
        let card = settings.card_detector_size;
        let mut shapes = vec![(card, card), (settings.refine_size, settings.refine_size)];
        for size in [settings.detector_size, settings.fallback_detector_size] {
            if size > 0 {
                shapes.extend([(size, size), detect::input_shape(4, 3, size)]);
            }
        }
        shapes.sort_unstable();
        shapes.dedup();
        let plans = shapes
            .into_iter()
            .map(|(w, h)| {
                Ok((
                    w,
                    h,
                    Runnable::from_onnx_tuned("yunet", &yunet, &[1, 3, h, w], &tuning)?,
                ))
            })
            .collect::<Result<Vec<_>, ModelError>>()?;
        let detector = Detector::with_plans(plans, settings.detector_threshold)?;
        let recogniser_name = match &settings.recogniser {
            Some(name) => name.clone(),
            None => {
                let production = models::entry("sface")?;
                if dir.join(&production.file).exists() {
                    production.name
                } else {
                    DEVELOPMENT_RECOGNISERS
                        .iter()
                        .find(|name| models::entry(name).is_ok_and(|e| dir.join(&e.file).exists()))
                        // None present: name the one `../shared/models` holds.
                        .unwrap_or(&DEVELOPMENT_RECOGNISERS[1])
                        .to_string()
                }
            }
        };
        let preprocess = embed::preprocess_for(&recogniser_name)
            .ok_or_else(|| FaceError::UnknownRecogniser(recogniser_name.clone()))?;
        let threshold = settings
            .match_threshold
            .or_else(|| default_threshold(&recogniser_name))
            .ok_or_else(|| FaceError::UnknownRecogniser(recogniser_name.clone()))?;
        let recogniser = Recogniser::new(
            Runnable::load_tuned(
                &dir,
                &recogniser_name,
                &[1, 3, align::SIZE, align::SIZE],
                &tuning,
            )?,
            preprocess,
        );
        let limits = pad::PadLimits {
            same_picture: settings
                .pad_limits
                .same_picture
                .or_else(|| pad::same_picture_bound(&recogniser_name)),
            ..settings.pad_limits
        };
        let pad = match settings.pad {
            PadMode::Off => None,
            PadMode::Enforce => Some(pad::Pad::load(&dir, limits, &tuning)?),
            // Reporting PAD is optional: without its weights every result
            // says "disabled"; enforcing it is not.
            PadMode::Report => match pad::Pad::load(&dir, limits, &tuning) {
                Ok(pad) => Some(pad),
                Err(ModelError::Missing { .. }) => {
                    tracing::warn!(event = "face.pad.unavailable");
                    None
                }
                Err(e) => return Err(e.into()),
            },
        };
        Ok(FaceEngine {
            detector,
            recogniser,
            recogniser_name,
            threshold,
            pad,
            settings,
        })
    }

    /// The settings in force.
    pub fn settings(&self) -> &FaceSettings {
        &self.settings
    }

    /// The decision threshold in force.
    pub fn threshold(&self) -> f32 {
        self.threshold
    }

    /// The recogniser in use.
    pub fn recogniser_name(&self) -> &str {
        &self.recogniser_name
    }

    /// Faces in a frame, best first.
    pub fn detect(&self, frame: &RgbFrame) -> Result<Vec<Detection>, FaceError> {
        Ok(self.detect_sized(frame)?.0)
    }

    /// [`FaceEngine::detect`], with the input side that found the faces: the
    /// first pass's, or the fallback's when the first found none.
    fn detect_sized(&self, frame: &RgbFrame) -> Result<(Vec<Detection>, usize), FaceError> {
        let size = self.settings.detector_size;
        let found = self.detector.detect_at(frame, size)?;
        let fallback = self.settings.fallback_detector_size;
        if found.is_empty() && fallback > size {
            return Ok((self.detector.detect_at(frame, fallback)?, fallback));
        }
        Ok((found, size))
    }

    /// The detector (its plans, for profiling).
    pub fn detector(&self) -> &Detector {
        &self.detector
    }

    /// The recogniser (for profiling).
    pub fn recogniser(&self) -> &Recogniser {
        &self.recogniser
    }

    /// PAD, when loaded (for profiling).
    pub fn pad(&self) -> Option<&pad::Pad> {
        self.pad.as_ref()
    }

    /// The face to use: the largest (one subject stands at a card reader),
    /// with its landmarks refined by a second detection on a crop around it
    /// when that shows the face larger than the first pass did, so a small
    /// first-pass input keeps landmark precision.
    pub fn locate(&self, frame: &RgbFrame) -> Result<Detection, FaceError> {
        let (found, size) = self.detect_sized(frame)?;
        self.locate_among(frame, found, size)
    }

    /// [`FaceEngine::locate`] from a first detection pass already made at
    /// input side `first_size`.
    fn locate_among(
        &self,
        frame: &RgbFrame,
        found: Vec<Detection>,
        first_size: usize,
    ) -> Result<Detection, FaceError> {
        let largest = |found: Vec<Detection>| {
            found
                .into_iter()
                .max_by(|a, b| a.area().total_cmp(&b.area()))
        };
        let first = largest(found).ok_or(FaceError::NoFace)?;
        let side = first.bbox[2].max(first.bbox[3]) * 2.0;
        let long_edge = frame.width().max(frame.height()) as f32;
        // Pixels per frame pixel in the first pass and in the refining one;
        // refine only where it sees the face clearly larger.
        let first_scale = first_size as f32 / long_edge;
        let refine_scale = self.settings.refine_size as f32 / side;
        if refine_scale < first_scale * REFINE_GAIN {
            return Ok(first);
        }
        let cx = first.bbox[0] + first.bbox[2] / 2.0;
        let cy = first.bbox[1] + first.bbox[3] / 2.0;
        let (x0, y0) = (
            (cx - side / 2.0).round() as i64,
            (cy - side / 2.0).round() as i64,
        );
        let crop = frame.crop(x0, y0, side.round() as u32, side.round() as u32)?;
        let (ox, oy) = (x0.max(0) as f32, y0.max(0) as f32);
        let refined = self.detector.detect_at(&crop, self.settings.refine_size)?;
        Ok(match largest(refined) {
            Some(mut refined) => {
                refined.bbox[0] += ox;
                refined.bbox[1] += oy;
                for lm in refined.landmarks.iter_mut() {
                    lm[0] += ox;
                    lm[1] += oy;
                }
                refined
            }
            None => first,
        })
    }

    /// The embedding of an aligned face.
    fn embed_aligned(&self, aligned: &RgbFrame) -> Result<Embedding, FaceError> {
        self.recogniser
            .embed(aligned)?
            .ok_or(FaceError::NoEmbedding)
    }

    /// Detects, aligns and encodes the face.
    pub fn encode(&self, frame: &RgbFrame) -> Result<EncodedFace, FaceError> {
        let detection = self.locate(frame)?;
        let aligned = align::align(frame, &detection.landmarks)?;
        let embedding = self.embed_aligned(&aligned)?;
        Ok(EncodedFace {
            detection,
            embedding,
        })
    }

    /// The quality gate on one frame: the face found and aligned, or the
    /// hint to give.
    fn gate(&self, frame: &RgbFrame) -> Result<Result<Gated, quality::Hint>, FaceError> {
        let grey;
        let live = if self.settings.live_as_card && !frame.is_grayscale() {
            grey = frame.to_grayscale();
            &grey
        } else {
            frame
        };
        let (mut faces, size) = self.detect_sized(live)?;
        if faces.is_empty() {
            return Ok(Err(quality::Hint::FaceTheFrame));
        }
        // The gate's detections are the first pass of locating the face;
        // the gate then judges the refined landmarks, not the coarse ones.
        let detection = self.locate_among(live, faces.clone(), size)?;
        if let Some(largest) = faces
            .iter_mut()
            .max_by(|a, b| a.area().total_cmp(&b.area()))
        {
            *largest = detection;
        }
        if let Some(hint) = quality::check_geometry(live, &faces, &self.settings.quality) {
            return Ok(Err(hint));
        }
        let aligned = align::align(live, &detection.landmarks)?;
        if let Some(hint) = quality::check_aligned(&aligned, &self.settings.quality) {
            return Ok(Err(hint));
        }
        Ok(Ok(Gated { detection, aligned }))
    }

    /// One capture of the live camera against the card face: the quality
    /// gate first (a hint, no attempt spent), then the comparison and PAD.
    /// `failed_before` is the number of compared captures that did not match.
    pub fn capture(
        &self,
        card: &EncodedFace,
        frame: &RgbFrame,
        failed_before: u8,
    ) -> Result<Capture, FaceError> {
        self.capture_frames(card, std::slice::from_ref(frame), failed_before)
    }

    /// One capture from several consecutive camera frames (one attempt): each
    /// goes through the quality gate; the embeddings of those that pass are
    /// averaged (frames of one face differ by noise, blur and small changes
    /// of pose, which averaging evens out) and compared once; PAD measures
    /// up to [`FaceSettings::pad_frames`] of them, the detector's surest
    /// first, and judges with the similarity too (the same-picture cue). An
    /// attack gets no hint: the face path ends. When no frame passes, the
    /// hint of the first frame is given and no attempt is spent.
    pub fn capture_frames(
        &self,
        card: &EncodedFace,
        frames: &[RgbFrame],
        failed_before: u8,
    ) -> Result<Capture, FaceError> {
        let mut usable: Vec<(usize, Gated)> = Vec::new();
        let mut first_hint = None;
        for (i, frame) in frames.iter().enumerate() {
            match self.gate(frame)? {
                Ok(gated) => usable.push((i, gated)),
                Err(hint) => {
                    first_hint.get_or_insert(hint);
                }
            }
        }
        if usable.is_empty() {
            return Ok(Capture::Retry {
                hint: first_hint.unwrap_or(quality::Hint::FaceTheFrame),
            });
        }
        // PAD judges the frames the detector is surest of.
        let mut surest: Vec<&(usize, Gated)> = usable.iter().collect();
        surest.sort_by(|a, b| b.1.detection.score.total_cmp(&a.1.detection.score));
        surest.truncate(self.settings.pad_frames.max(1));
        let measure = || -> Result<Option<pad::Evidence>, FaceError> {
            let Some(pad) = &self.pad else {
                return Ok(None);
            };
            let faces: Vec<(&RgbFrame, &Detection)> = surest
                .iter()
                .map(|(i, g)| (&frames[*i], &g.detection))
                .collect();
            Ok(Some(pad.measure(&faces)?))
        };
        let embed = || -> Result<Embedding, FaceError> {
            let embeddings = usable
                .iter()
                .map(|(_, g)| self.embed_aligned(&g.aligned))
                .collect::<Result<Vec<_>, _>>()?;
            Embedding::mean(&embeddings).ok_or(FaceError::NoEmbedding)
        };
        // PAD and the recogniser do not depend on each other: on a second
        // core PAD costs no time.
        let (fused, evidence) = if self.settings.pad_in_parallel && self.pad.is_some() {
            std::thread::scope(|scope| {
                let evidence = scope.spawn(measure);
                let fused = embed();
                let evidence = evidence.join().unwrap_or_else(|_| {
                    Err(FaceError::Model(ModelError::Run {
                        name: "pad".into(),
                        reason: "the PAD thread panicked".into(),
                    }))
                });
                (fused, evidence)
            })
        } else {
            (embed(), measure())
        };
        let (fused, evidence) = (fused?, evidence?);
        let similarity = card.embedding.cosine(&fused);
        let threshold = self.threshold;
        let pad = match (&self.pad, &evidence) {
            (Some(pad), Some(evidence)) => pad.verdict(evidence, similarity),
            _ => pad::PadOutcome::Disabled,
        };
        let refused = pad.is_attack() && self.settings.pad == PadMode::Enforce;
        let matched = similarity >= threshold && !refused;
        Ok(Capture::Compared {
            similarity,
            band: band(similarity, threshold),
            matched,
            pad,
            evidence,
            // An attack gets no hint: the face path ends, no retake is
            // invited.
            hint: (!matched && !refused).then(|| quality::accessory_hint(failed_before + 1)),
        })
    }

    /// Encodes a card photo (grey, small) as it is, the detector at the
    /// card's input size (once per reception).
    pub fn encode_card(&self, frame: &RgbFrame) -> Result<EncodedFace, FaceError> {
        let found = self
            .detector
            .detect_at(frame, self.settings.card_detector_size)?;
        let detection = self.locate_among(frame, found, self.settings.card_detector_size)?;
        let aligned = align::align(frame, &detection.landmarks)?;
        let embedding = self.embed_aligned(&aligned)?;
        Ok(EncodedFace {
            detection,
            embedding,
        })
    }

    /// Encodes a live frame, grey first when configured, as the card photo
    /// was made.
    pub fn encode_live(&self, frame: &RgbFrame) -> Result<EncodedFace, FaceError> {
        let grey;
        let live = if self.settings.live_as_card && !frame.is_grayscale() {
            grey = frame.to_grayscale();
            &grey
        } else {
            frame
        };
        let detection = self.locate(live)?;
        let aligned = align::align(live, &detection.landmarks)?;
        let embedding = self.embed_aligned(&aligned)?;
        Ok(EncodedFace {
            detection,
            embedding,
        })
    }
}
