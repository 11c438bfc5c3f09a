//! Presentation-attack detection (PAD): is the face at the camera a live
//! person, or a photo or screen held up? Four cues, each measured on the
//! attack sets of `face-attack-synth` and the dev sets (`docs/face-pad.md`):
//!
//! - [`Cue::Texture`]: MiniFASNet V2 ([`minifasnet`]), its p(real) averaged
//!   over the capture's frames;
//! - [`Cue::MediumEdge`]: straight edges of a paper or phone around the face
//!   ([`edges`]);
//! - [`Cue::SamePicture`]: the live face matches the chip photo more closely
//!   than two photos of one person ever do: the card's own photo shown to
//!   the camera;
//! - [`Cue::GreyFace`]: a face without colour in a colour camera: the chip
//!   photo (grey) printed.
//!
//! An attack on any cue is an attack. What leaves this module is the
//! verdict and p(real); the evidence serves evaluation.

pub mod edges;
pub mod minifasnet;

use std::path::Path;

use super::detect::Detection;
use super::image::RgbFrame;
use super::models::{ModelError, Tuning};
use edges::EdgeScore;
use minifasnet::MiniFasNet;

/// Which cue called it an attack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cue {
    /// MiniFASNet: the skin and light of a print or a screen.
    Texture,
    /// The edges of a paper or a phone around the face.
    MediumEdge,
    /// The chip photo itself.
    SamePicture,
    /// A grey face: the chip photo printed.
    GreyFace,
}

/// What PAD says.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
#[serde(tag = "result", rename_all = "kebab-case")]
pub enum PadOutcome {
    /// Judged a live face.
    Live {
        /// Averaged p(real).
        p_real: f32,
    },
    /// Judged a presentation attack (photo, screen, mask).
    Attack {
        /// Averaged p(real).
        p_real: f32,
        /// The cue that decided.
        cue: Cue,
    },
    /// PAD is switched off.
    Disabled,
}

impl PadOutcome {
    /// Whether PAD called it an attack.
    pub fn is_attack(&self) -> bool {
        matches!(self, PadOutcome::Attack { .. })
    }
}

/// Where each cue says "attack". Defaults measured as `docs/face-pad.md`
/// says.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PadLimits {
    /// Mean p(real) below which the texture cue says attack.
    pub min_p_real: f32,
    /// Straight edges at least this many face heights long …
    pub edge_length: f32,
    /// … on at least this many sides of the face: a held medium.
    pub edge_sides: usize,
    /// One such edge is enough when the texture cue, too, leans towards an
    /// attack: p(real) below this.
    pub edge_weak_p_real: f32,
    /// Similarity to the chip photo at or above which the live face is that
    /// photo; `None`: not calibrated for the recogniser in use (cue off).
    pub same_picture: Option<f32>,
    /// Face chroma (grey levels) below which the face is grey.
    pub min_chroma: f32,
}

impl Default for PadLimits {
    fn default() -> Self {
        PadLimits {
            min_p_real: 0.05,
            edge_length: 1.0,
            edge_sides: 2,
            edge_weak_p_real: 0.5,
            same_picture: None,
            min_chroma: 20.0,
        }
    }
}

/// The same-picture bound of a recogniser: above every genuine pair of the
/// dev sets (two photos of one person) and below the chip photo shown to the
/// camera; see `docs/face-pad.md`. `None` where not measured.
pub fn same_picture_bound(recogniser: &str) -> Option<f32> {
    match recogniser {
        "mobilefacenet-paddle-128" => Some(0.90),
        _ => None,
    }
}

/// What PAD measured on one capture.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Evidence {
    /// MiniFASNet's p(real), averaged over the frames judged.
    pub p_real: f32,
    /// Frames judged by the texture cue.
    pub frames: usize,
    /// The medium-edge cue on the best frame.
    pub edges: EdgeScore,
    /// The colour of the face on the best frame: mean chroma (largest minus
    /// smallest channel) over the inner face box, in grey levels. A live
    /// face in a colour camera has skin colour; the chip photo is grey.
    /// `None` when it cannot say: a grey camera (every frame grey), or no
    /// face pixels inside the frame.
    pub chroma: Option<f32>,
}

/// The loaded cues.
pub struct Pad {
    texture: MiniFasNet,
    limits: PadLimits,
}

impl Pad {
    /// Loads and verifies the models.
    pub fn load(dir: &Path, limits: PadLimits, tuning: &Tuning) -> Result<Pad, ModelError> {
        Ok(Pad {
            texture: MiniFasNet::load(dir, tuning)?,
            limits,
        })
    }

    /// The limits in force.
    pub fn limits(&self) -> &PadLimits {
        &self.limits
    }

    /// The texture models (for profiling).
    pub fn texture(&self) -> &MiniFasNet {
        &self.texture
    }

    /// Measures the faces of one capture, best first: the texture cue on
    /// each, the edges on the first.
    pub fn measure(&self, faces: &[(&RgbFrame, &Detection)]) -> Result<Evidence, ModelError> {
        let mut sum = 0.0f32;
        for (frame, det) in faces {
            sum += self.texture.p_real(frame, det)?;
        }
        let n = faces.len().max(1) as f32;
        let edges = faces
            .first()
            .map(|(frame, det)| edges::score(frame, det))
            .unwrap_or_default();
        let chroma = faces
            .first()
            .and_then(|(frame, det)| face_chroma(frame, det));
        Ok(Evidence {
            p_real: sum / n,
            frames: faces.len(),
            edges,
            chroma,
        })
    }

    /// The verdict on `evidence`, the live face's similarity to the chip
    /// photo being `similarity`.
    pub fn verdict(&self, evidence: &Evidence, similarity: f32) -> PadOutcome {
        decide(&self.limits, evidence, similarity)
    }
}

/// Mean chroma over the inner half of the face box (cheeks, nose,
/// forehead: skin, not hair or background); `None` on a grey camera's frame
/// (no pixel of the whole frame has any colour: a monochrome sensor, where
/// every face is grey) or when the box has no pixel inside the frame.
pub fn face_chroma(frame: &RgbFrame, det: &Detection) -> Option<f32> {
    if frame.is_grayscale() || !has_colour(frame) {
        return None;
    }
    let [bx, by, bw, bh] = det.bbox;
    let (x0, y0) = (
        (bx + bw * 0.25).max(0.0) as i64,
        (by + bh * 0.25).max(0.0) as i64,
    );
    let (x1, y1) = (
        ((bx + bw * 0.75) as i64).min(i64::from(frame.width()) - 1),
        ((by + bh * 0.75) as i64).min(i64::from(frame.height()) - 1),
    );
    let (mut sum, mut n) = (0u64, 0u64);
    for y in y0..=y1 {
        for x in x0..=x1 {
            let [r, g, b] = frame.get(x, y);
            sum += u64::from(r.max(g).max(b) - r.min(g).min(b));
            n += 1;
        }
    }
    (n > 0).then(|| sum as f32 / n as f32)
}

/// Whether any sampled pixel of the frame has colour: a colour camera's
/// noise alone gives some; a grey sensor's frame spread to RGB has none.
fn has_colour(frame: &RgbFrame) -> bool {
    frame
        .pixels()
        .chunks_exact(3)
        .step_by(7)
        .any(|p| p[0].max(p[1]).max(p[2]) - p[0].min(p[1]).min(p[2]) > 2)
}

/// The verdict of `limits` on `evidence`: an attack on any cue, the most
/// specific named (same picture, grey face, the medium's edges, texture).
pub fn decide(limits: &PadLimits, evidence: &Evidence, similarity: f32) -> PadOutcome {
    let p_real = evidence.p_real;
    let cue = if limits.same_picture.is_some_and(|bound| similarity >= bound) {
        Some(Cue::SamePicture)
    } else if evidence.chroma.is_some_and(|c| c < limits.min_chroma) {
        Some(Cue::GreyFace)
    } else if evidence.edges.sides(limits.edge_length) >= limits.edge_sides
        || (evidence.edges.sides(limits.edge_length) >= 1 && p_real < limits.edge_weak_p_real)
    {
        Some(Cue::MediumEdge)
    } else if p_real < limits.min_p_real {
        Some(Cue::Texture)
    } else {
        None
    };
    match cue {
        Some(cue) => PadOutcome::Attack { p_real, cue },
        None => PadOutcome::Live { p_real },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn evidence(p: f32, runs: [f32; 4]) -> Evidence {
        Evidence {
            p_real: p,
            frames: 1,
            edges: EdgeScore { runs },
            chroma: Some(40.0),
        }
    }

    fn verdict(limits: PadLimits, ev: &Evidence, similarity: f32) -> PadOutcome {
        decide(&limits, ev, similarity)
    }

    #[test]
    fn each_cue_alone_makes_an_attack() {
        let limits = PadLimits {
            same_picture: Some(0.9),
            ..PadLimits::default()
        };
        let live = evidence(0.9, [0.3, 0.0, 0.0, 2.0]);
        assert!(!verdict(limits, &live, 0.6).is_attack());
        assert_eq!(
            verdict(limits, &live, 0.95),
            PadOutcome::Attack {
                p_real: 0.9,
                cue: Cue::SamePicture
            }
        );
        // One edge with a doubtful texture.
        assert!(matches!(
            verdict(limits, &evidence(0.3, [1.5, 0.0, 0.0, 0.0]), 0.6),
            PadOutcome::Attack {
                cue: Cue::MediumEdge,
                ..
            }
        ));
        let grey = Evidence {
            chroma: Some(5.0),
            ..live
        };
        // A grey camera cannot tell: no verdict from colour.
        let unknown = Evidence {
            chroma: None,
            ..live
        };
        assert!(!verdict(limits, &unknown, 0.6).is_attack());
        assert!(matches!(
            verdict(limits, &grey, 0.6),
            PadOutcome::Attack {
                cue: Cue::GreyFace,
                ..
            }
        ));
        let framed = evidence(0.9, [1.5, 1.2, 0.0, 0.0]);
        assert!(matches!(
            verdict(limits, &framed, 0.6),
            PadOutcome::Attack {
                cue: Cue::MediumEdge,
                ..
            }
        ));
        let flat = evidence(0.02, [0.0; 4]);
        assert!(matches!(
            verdict(limits, &flat, 0.6),
            PadOutcome::Attack {
                cue: Cue::Texture,
                ..
            }
        ));
    }

    #[test]
    fn no_bound_no_same_picture_cue() {
        let live = evidence(0.9, [0.0; 4]);
        assert!(!verdict(PadLimits::default(), &live, 0.99).is_attack());
    }

    #[test]
    fn a_grey_camera_gives_no_chroma_and_a_colour_face_some() {
        use zeroize::Zeroizing;
        let det = Detection {
            bbox: [20.0, 20.0, 40.0, 40.0],
            landmarks: [[0.0; 2]; 5],
            score: 1.0,
        };
        let grey = RgbFrame::from_rgb(80, 80, Zeroizing::new(vec![120; 80 * 80 * 3])).unwrap();
        assert_eq!(face_chroma(&grey, &det), None);
        let skin: Vec<u8> = (0..80 * 80).flat_map(|_| [200, 150, 120]).collect();
        let colour = RgbFrame::from_rgb(80, 80, Zeroizing::new(skin)).unwrap();
        assert_eq!(face_chroma(&colour, &det), Some(80.0));
        // A box wholly outside the frame measures nothing.
        let outside = Detection {
            bbox: [200.0, 200.0, 40.0, 40.0],
            ..det
        };
        assert_eq!(face_chroma(&colour, &outside), None);
    }

    #[test]
    fn the_outcome_serialises_with_its_cue() {
        let json = serde_json::to_string(&PadOutcome::Attack {
            p_real: 0.25,
            cue: Cue::MediumEdge,
        })
        .unwrap();
        assert_eq!(
            json,
            r#"{"result":"attack","p_real":0.25,"cue":"medium-edge"}"#
        );
    }
}
