//! Scoring a labelled pair list: `img_a,img_b,same` rows, `img_a` treated as
//! the card photo and `img_b` as the live frame. Reports AUC, TAR at fixed
//! FARs (only where the impostor count can resolve them), TAR at zero false
//! accepts, faces not found and the median time per image.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use super::embed::Embedding;
use super::{FaceEngine, FaceError};

/// One row of the pair list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair {
    /// The card photo.
    pub card: String,
    /// The live frame.
    pub live: String,
    /// Same person.
    pub same: bool,
}

/// Why a pair list cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PairsError {
    /// The file cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A row is not `img_a,img_b,0|1`.
    #[error("line {line}: expected img_a,img_b,same (same is 0 or 1)")]
    Row {
        /// 1-based line number.
        line: usize,
    },
    /// No pairs.
    #[error("the pair list is empty")]
    Empty,
}

/// Parses a pair list (a header line starting with `img_a` is skipped).
pub fn parse_pairs(text: &str) -> Result<Vec<Pair>, PairsError> {
    let mut pairs = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || (i == 0 && line.starts_with("img_a")) {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let same = match fields.as_slice() {
            [_, _, "1"] | [_, _, "true"] => true,
            [_, _, "0"] | [_, _, "false"] => false,
            _ => return Err(PairsError::Row { line: i + 1 }),
        };
        pairs.push(Pair {
            card: fields[0].to_string(),
            live: fields[1].to_string(),
            same,
        });
    }
    if pairs.is_empty() {
        return Err(PairsError::Empty);
    }
    Ok(pairs)
}

/// Area under the ROC curve (Mann–Whitney), ties counting one half.
pub fn auc(genuine: &[f32], impostor: &[f32]) -> Option<f64> {
    if genuine.is_empty() || impostor.is_empty() {
        return None;
    }
    let mut wins = 0.0f64;
    for g in genuine {
        for i in impostor {
            wins += if g > i {
                1.0
            } else if g == i {
                0.5
            } else {
                0.0
            };
        }
    }
    Some(wins / (genuine.len() * impostor.len()) as f64)
}

/// True accept rate at a false accept rate, when the impostor count resolves
/// it (at least 1/far impostors); accepts are scores strictly above the
/// impostor score that bounds the allowed false accepts.
pub fn tar_at_far(genuine: &[f32], impostor: &[f32], far: f64) -> Option<f64> {
    if genuine.is_empty() || (impostor.len() as f64) < 1.0 / far {
        return None;
    }
    let mut sorted = impostor.to_vec();
    sorted.sort_by(|a, b| b.total_cmp(a));
    let allowed = (far * impostor.len() as f64).floor() as usize;
    let threshold = sorted[allowed.min(sorted.len() - 1)];
    Some(genuine.iter().filter(|g| **g > threshold).count() as f64 / genuine.len() as f64)
}

/// True accept rate with no impostor accepted.
pub fn tar_at_zero_false_accepts(genuine: &[f32], impostor: &[f32]) -> Option<f64> {
    let max = impostor.iter().copied().reduce(f32::max)?;
    if genuine.is_empty() {
        return None;
    }
    Some(genuine.iter().filter(|g| **g > max).count() as f64 / genuine.len() as f64)
}

/// The report of `face eval`.
#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    /// Pairs scored.
    pub pairs: usize,
    /// Same-person pairs.
    pub genuine: usize,
    /// Different-person pairs.
    pub impostor: usize,
    /// Area under the ROC curve.
    pub auc: Option<f64>,
    /// TAR at FAR 1% and 0.1%; null where the impostors cannot resolve it.
    pub tar_at_far: BTreeMap<String, Option<f64>>,
    /// TAR with no impostor accepted (reported when a FAR is unresolved).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tar_at_zero_false_accepts: Option<f64>,
    /// The decision threshold in use.
    pub threshold: f32,
    /// Share of genuine pairs accepted at the threshold.
    pub tar_at_threshold: Option<f64>,
    /// Impostor pairs accepted at the threshold.
    pub false_accepts_at_threshold: usize,
    /// Highest impostor similarity.
    pub max_impostor: Option<f32>,
    /// Lowest genuine similarity.
    pub min_genuine: Option<f32>,
    /// Images without a detected face (their pairs score -1).
    pub no_face: Vec<String>,
    /// Median milliseconds per image for detect + align + embed.
    pub ms_per_image_median: f64,
}

/// Scores every pair of `pairs` with images under `root`.
pub fn evaluate(engine: &FaceEngine, pairs: &[Pair], root: &Path) -> Result<EvalReport, FaceError> {
    let mut cache: HashMap<(String, bool), Option<Embedding>> = HashMap::new();
    let mut times = Vec::new();
    let mut no_face = Vec::new();
    let mut encode = |name: &str, card: bool| -> Result<(), FaceError> {
        if cache.contains_key(&(name.to_string(), card)) {
            return Ok(());
        }
        let path: PathBuf = root.join(name);
        let bytes = zeroize::Zeroizing::new(std::fs::read(&path).map_err(|e| {
            FaceError::Image(super::image::ImageError::Decode(format!(
                "{}: {e}",
                path.display()
            )))
        })?);
        let frame = super::image::decode(&bytes)?;
        let start = Instant::now();
        let encoded = if card {
            engine.encode_card(&frame)
        } else {
            engine.encode_live(&frame)
        };
        times.push(start.elapsed().as_secs_f64() * 1e3);
        let embedding = match encoded {
            Ok(face) => Some(face.embedding),
            Err(FaceError::NoFace | FaceError::NoEmbedding) => {
                no_face.push(name.to_string());
                None
            }
            Err(e) => return Err(e),
        };
        cache.insert((name.to_string(), card), embedding);
        Ok(())
    };
    for pair in pairs {
        encode(&pair.card, true)?;
        encode(&pair.live, false)?;
    }
    let (mut genuine, mut impostor) = (Vec::new(), Vec::new());
    for pair in pairs {
        let a = cache
            .get(&(pair.card.clone(), true))
            .and_then(Option::as_ref);
        let b = cache
            .get(&(pair.live.clone(), false))
            .and_then(Option::as_ref);
        let score = match (a, b) {
            (Some(a), Some(b)) => a.cosine(b),
            _ => -1.0,
        };
        if pair.same {
            genuine.push(score);
        } else {
            impostor.push(score);
        }
    }
    times.sort_by(f64::total_cmp);
    let mut tar = BTreeMap::new();
    for far in ["0.01", "0.001"] {
        let value = far
            .parse()
            .ok()
            .and_then(|f| tar_at_far(&genuine, &impostor, f));
        tar.insert(far.to_string(), value);
    }
    let unresolved = tar.values().any(Option::is_none);
    Ok(EvalReport {
        pairs: pairs.len(),
        genuine: genuine.len(),
        impostor: impostor.len(),
        auc: auc(&genuine, &impostor),
        tar_at_far: tar,
        tar_at_zero_false_accepts: if unresolved {
            tar_at_zero_false_accepts(&genuine, &impostor)
        } else {
            None
        },
        threshold: engine.threshold(),
        tar_at_threshold: (!genuine.is_empty()).then(|| {
            let t = engine.threshold();
            genuine.iter().filter(|g| **g >= t).count() as f64 / genuine.len() as f64
        }),
        false_accepts_at_threshold: impostor
            .iter()
            .filter(|i| **i >= engine.threshold())
            .count(),
        max_impostor: impostor.iter().copied().reduce(f32::max),
        min_genuine: genuine.iter().copied().reduce(f32::min),
        no_face,
        ms_per_image_median: times.get(times.len() / 2).copied().unwrap_or(0.0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_pair_lists_and_refuses_bad_rows() {
        let pairs = parse_pairs("img_a,img_b,same\na.jp2,b.jpg,1\nc.jp2,d.jpg,0\n").unwrap();
        assert_eq!(pairs.len(), 2);
        assert!(pairs[0].same && !pairs[1].same);
        assert!(matches!(
            parse_pairs("a,b,2"),
            Err(PairsError::Row { line: 1 })
        ));
        assert!(matches!(
            parse_pairs("img_a,img_b,same\n"),
            Err(PairsError::Empty)
        ));
    }

    #[test]
    fn metrics_match_hand_computed_values() {
        let genuine = [0.9, 0.8, 0.4];
        let impostor = [0.5, 0.1];
        // 0.9 and 0.8 beat both impostors, 0.4 beats one: 5 of 6.
        assert!((auc(&genuine, &impostor).unwrap() - 5.0 / 6.0).abs() < 1e-9);
        assert_eq!(
            tar_at_zero_false_accepts(&genuine, &impostor),
            Some(2.0 / 3.0)
        );
        // Two impostors cannot resolve FAR 1%.
        assert_eq!(tar_at_far(&genuine, &impostor, 0.01), None);
        let many: Vec<f32> = (0..100).map(|i| i as f32 / 100.0).collect();
        // FAR 1% of 100 impostors: one false accept allowed, threshold 0.98.
        assert_eq!(tar_at_far(&[0.985, 0.5], &many, 0.01), Some(0.5));
    }
}
