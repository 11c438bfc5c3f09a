//! Scoring presentation attacks: an `attacks.csv` of `card,frame,species`
//! rows (species `genuine`, `print`, `replay` or `screen`; what
//! `face-attack-synth` writes), each frame captured against its card photo
//! as the kiosk does, one frame per decision. Reports, in ISO/IEC 30107-3
//! terms, the APCER of each attack species (attacks PAD classified as bona
//! fide, of those it judged), the BPCER (genuine frames PAD classified as
//! attacks), and what the decision did: attacks accepted as a match and
//! genuine frames accepted, beside the per-frame evidence for calibration.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Instant;

use serde::Serialize;

use super::pad::{Evidence, PadOutcome};
use super::{Capture, EncodedFace, FaceEngine, FaceError};

/// One row of `attacks.csv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presentation {
    /// The card photo.
    pub card: String,
    /// The camera frame.
    pub frame: String,
    /// `genuine` or the attack species.
    pub species: String,
}

impl Presentation {
    /// Whether this is a bona fide presentation.
    pub fn genuine(&self) -> bool {
        self.species == "genuine"
    }
}

/// Why an attack list cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttacksError {
    /// A row is not `card,frame,species`.
    #[error("line {line}: expected card,frame,species")]
    Row {
        /// 1-based line number.
        line: usize,
    },
    /// No rows.
    #[error("the attack list is empty")]
    Empty,
}

/// Parses an attack list (a header line starting with `card` is skipped).
pub fn parse_attacks(text: &str) -> Result<Vec<Presentation>, AttacksError> {
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || (i == 0 && line.starts_with("card,")) {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        match fields.as_slice() {
            [card, frame, species]
                if !card.is_empty()
                    && !frame.is_empty()
                    && !species.is_empty()
                    && species.chars().all(|c| c.is_ascii_lowercase() || c == '-') =>
            {
                rows.push(Presentation {
                    card: card.to_string(),
                    frame: frame.to_string(),
                    species: species.to_string(),
                })
            }
            _ => return Err(AttacksError::Row { line: i + 1 }),
        }
    }
    if rows.is_empty() {
        return Err(AttacksError::Empty);
    }
    Ok(rows)
}

/// The figures of one species.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SpeciesFigures {
    /// Frames of this species.
    pub presented: usize,
    /// Frames the quality gate let through (PAD judged them).
    pub judged: usize,
    /// Judged frames PAD called attacks.
    pub called_attack: usize,
    /// Frames decided "match".
    pub accepted: usize,
    /// Attacks per cue that called them.
    pub by_cue: BTreeMap<String, usize>,
}

impl SpeciesFigures {
    fn rate(n: usize, of: usize) -> Option<f64> {
        (of > 0).then(|| n as f64 / of as f64)
    }

    /// For an attack species, APCER: judged frames PAD classified bona fide.
    pub fn apcer(&self) -> Option<f64> {
        Self::rate(self.judged - self.called_attack, self.judged)
    }

    /// For genuine frames, BPCER: judged frames PAD classified as attacks.
    pub fn bpcer(&self) -> Option<f64> {
        Self::rate(self.called_attack, self.judged)
    }

    /// Frames accepted as a match, of those presented.
    pub fn acceptance(&self) -> Option<f64> {
        Self::rate(self.accepted, self.presented)
    }
}

/// One frame's result, for calibration.
#[derive(Debug, Clone, Serialize)]
pub struct FrameResult {
    /// The frame (path as listed).
    pub frame: String,
    /// Its species.
    pub species: String,
    /// `match`, `no-match`, `retry` or `no-card-face`.
    pub decision: &'static str,
    /// Similarity to the card photo.
    pub similarity: Option<f32>,
    /// PAD's verdict.
    pub pad: Option<PadOutcome>,
    /// What PAD measured.
    pub evidence: Option<Evidence>,
}

/// The report of `face eval --attacks`.
#[derive(Debug, Clone, Serialize)]
pub struct AttackReport {
    /// Frames scored.
    pub frames: usize,
    /// The genuine frames.
    pub genuine: SpeciesFigures,
    /// BPCER over the genuine frames PAD judged.
    pub bpcer: Option<f64>,
    /// Each attack species.
    pub species: BTreeMap<String, SpeciesFigures>,
    /// APCER of each attack species.
    pub apcer: BTreeMap<String, Option<f64>>,
    /// Median milliseconds per capture (gate, recogniser and PAD).
    pub median_capture_ms: Option<f64>,
    /// Every frame (with `--json`, for calibration).
    pub rows: Vec<FrameResult>,
}

/// Scores every row of `rows`, paths relative to `root`; `progress` is told
/// after each frame.
pub fn evaluate_attacks(
    engine: &FaceEngine,
    rows: &[Presentation],
    root: &Path,
    mut progress: impl FnMut(usize, usize),
) -> Result<AttackReport, FaceError> {
    let read = |name: &str| -> Result<super::image::RgbFrame, FaceError> {
        let path = root.join(name);
        let bytes = zeroize::Zeroizing::new(std::fs::read(&path).map_err(|e| {
            FaceError::Image(super::image::ImageError::Decode(format!(
                "{}: {e}",
                path.display()
            )))
        })?);
        Ok(super::image::decode(&bytes)?)
    };
    let mut cards: HashMap<String, Option<EncodedFace>> = HashMap::new();
    let mut genuine = SpeciesFigures::default();
    let mut species: BTreeMap<String, SpeciesFigures> = BTreeMap::new();
    let mut results = Vec::new();
    let mut times = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        if !cards.contains_key(&row.card) {
            let encoded = match engine.encode_card(&read(&row.card)?) {
                Ok(face) => Some(face),
                Err(FaceError::NoFace | FaceError::NoEmbedding) => None,
                Err(e) => return Err(e),
            };
            cards.insert(row.card.clone(), encoded);
        }
        let figures = if row.genuine() {
            &mut genuine
        } else {
            species.entry(row.species.clone()).or_default()
        };
        figures.presented += 1;
        let mut result = FrameResult {
            frame: row.frame.clone(),
            species: row.species.clone(),
            decision: "no-card-face",
            similarity: None,
            pad: None,
            evidence: None,
        };
        if let Some(Some(card)) = cards.get(&row.card) {
            let frame = read(&row.frame)?;
            let start = Instant::now();
            let capture = engine.capture(card, &frame, 0)?;
            times.push(start.elapsed().as_secs_f64() * 1e3);
            match capture {
                Capture::Retry { .. } => result.decision = "retry",
                Capture::Compared {
                    similarity,
                    matched,
                    pad,
                    evidence,
                    ..
                } => {
                    figures.judged += 1;
                    if let PadOutcome::Attack { cue, .. } = pad {
                        figures.called_attack += 1;
                        let name = serde_json::to_value(cue)
                            .ok()
                            .and_then(|v| v.as_str().map(String::from))
                            .unwrap_or_default();
                        *figures.by_cue.entry(name).or_default() += 1;
                    }
                    if matched {
                        figures.accepted += 1;
                    }
                    result.decision = if matched { "match" } else { "no-match" };
                    result.similarity = Some(similarity);
                    result.pad = Some(pad);
                    result.evidence = evidence;
                }
            }
        }
        results.push(result);
        progress(i + 1, rows.len());
    }
    times.sort_by(f64::total_cmp);
    Ok(AttackReport {
        frames: rows.len(),
        bpcer: genuine.bpcer(),
        apcer: species
            .iter()
            .map(|(k, v)| (k.clone(), v.apcer()))
            .collect(),
        genuine,
        species,
        median_capture_ms: times.get(times.len() / 2).copied(),
        rows: results,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attack_lists_parse_and_refuse_bad_rows() {
        let rows = parse_attacks("card,frame,species\nc.jp2,f.jpg,print\n\nc.jp2,g.jpg,genuine\n")
            .unwrap();
        assert_eq!(rows.len(), 2);
        assert!(rows[1].genuine() && !rows[0].genuine());
        assert_eq!(
            parse_attacks("card,frame,species\n"),
            Err(AttacksError::Empty)
        );
        assert_eq!(
            parse_attacks("c,f,print\nc,f\n"),
            Err(AttacksError::Row { line: 2 })
        );
        assert_eq!(
            parse_attacks("c,f,Print!\n"),
            Err(AttacksError::Row { line: 1 })
        );
    }

    proptest::proptest! {
        #[test]
        fn any_text_parses_or_is_refused_without_panicking(text in ".{0,200}") {
            if let Ok(rows) = parse_attacks(&text) {
                proptest::prop_assert!(!rows.is_empty());
            }
        }
    }

    #[test]
    fn rates_follow_iso_30107_3() {
        let attacks = SpeciesFigures {
            presented: 10,
            judged: 8,
            called_attack: 6,
            accepted: 1,
            by_cue: BTreeMap::new(),
        };
        assert_eq!(attacks.apcer(), Some(0.25));
        assert_eq!(attacks.acceptance(), Some(0.1));
        let genuine = SpeciesFigures {
            presented: 4,
            judged: 4,
            called_attack: 1,
            ..SpeciesFigures::default()
        };
        assert_eq!(genuine.bpcer(), Some(0.25));
        assert_eq!(SpeciesFigures::default().apcer(), None);
    }
}
