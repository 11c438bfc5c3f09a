//! Scoring a labelled pair list: `img_a,img_b,same` rows, `img_a` treated as
//! the card photo and `img_b` as the live frame. Reports AUC, TAR at fixed
//! FARs (only where the impostor count can resolve them), TAR at zero false
//! accepts, faces not found and the median time per image. With
//! [`EvalOptions::all_impostors`], the impostors are every cross-identity
//! pair of the listed images (identity = the image's folder), not only the
//! listed ones, and the report gives the operating point: the impostor tail,
//! the threshold's margin, one-capture acceptance and receptions that succeed
//! within the allowed captures.

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

/// How to score a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvalOptions {
    /// Impostors: every cross-identity (card, live) pair of the listed
    /// images instead of the listed different-person pairs.
    pub all_impostors: bool,
    /// Captures a reception allows before PIN or staff (the reception's
    /// rule, `myna_reception::MAX_FACE_ATTEMPTS`).
    pub max_attempts: u8,
}

/// The identity of an image path: its folder (`person/img.jpg` → `person`).
pub fn identity(path: &str) -> &str {
    let trimmed = path.trim_end_matches('/');
    match trimmed.rsplit_once('/') {
        Some((dir, _)) => dir.rsplit('/').next().unwrap_or(dir),
        None => "",
    }
}

/// Every cross-identity pair of the listed images, as (card, live): cards
/// are the images listed as `img_a`, live frames those listed as `img_b`; a
/// pair of two images listed in both roles is counted once.
pub fn all_impostor_pairs(pairs: &[Pair]) -> Vec<Pair> {
    let cards: std::collections::BTreeSet<&str> = pairs.iter().map(|p| p.card.as_str()).collect();
    let lives: std::collections::BTreeSet<&str> = pairs.iter().map(|p| p.live.as_str()).collect();
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for card in &cards {
        for live in &lives {
            if card == live || identity(card) == identity(live) {
                continue;
            }
            let key = if card < live {
                (*card, *live)
            } else {
                (*live, *card)
            };
            if seen.insert(key) {
                out.push(Pair {
                    card: card.to_string(),
                    live: live.to_string(),
                    same: false,
                });
            }
        }
    }
    out
}

/// The score below which a share `q` of `scores` lies (nearest rank); `None`
/// when fewer than `1 / (1 - q)` scores cannot resolve it.
pub fn quantile(scores: &[f32], q: f64) -> Option<f32> {
    if scores.is_empty() || (scores.len() as f64) < 1.0 / (1.0 - q) - 1e-9 {
        return None;
    }
    let mut sorted = scores.to_vec();
    sorted.sort_by(f32::total_cmp);
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

/// The probability that a normal variable lies `z` standard deviations or
/// more above its mean (the complementary error function of Numerical
/// Recipes' `erfcc`, relative error below 1.2e-7).
pub fn normal_tail(z: f64) -> f64 {
    let x = z / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.5 * x.abs());
    let poly = -1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let erfc = t * (-x * x + poly).exp();
    0.5 * if x >= 0.0 { erfc } else { 2.0 - erfc }
}

/// The false-accept rate at `threshold` of a normal distribution fitted to
/// the impostor scores: an estimate of rates far below what the pairs can
/// show (1 in 10,000 needs tens of thousands of impostors to be seen).
/// `None` below 100 impostors.
pub fn normal_fit_far(impostor: &[f32], threshold: f32) -> Option<f64> {
    if impostor.len() < 100 {
        return None;
    }
    let n = impostor.len() as f64;
    let mean = impostor.iter().map(|s| f64::from(*s)).sum::<f64>() / n;
    let var = impostor
        .iter()
        .map(|s| (f64::from(*s) - mean).powi(2))
        .sum::<f64>()
        / (n - 1.0);
    (var > 0.0).then(|| normal_tail((f64::from(threshold) - mean) / var.sqrt()))
}

/// The share of receptions that succeed within `attempts` captures: for
/// each card photo, its genuine live frames in list order are the captures
/// of one reception, which succeeds when one of the first `attempts` is
/// accepted. Frames of one person taken on different days are less alike
/// than frames of one session, so this is on the cautious side.
pub fn receptions_within(genuine: &[(String, f32)], threshold: f32, attempts: u8) -> Option<f64> {
    let mut by_card: Vec<(&str, Vec<f32>)> = Vec::new();
    for (card, score) in genuine {
        match by_card.iter_mut().find(|(c, _)| c == card) {
            Some((_, scores)) => scores.push(*score),
            None => by_card.push((card, vec![*score])),
        }
    }
    if by_card.is_empty() {
        return None;
    }
    let ok = by_card
        .iter()
        .filter(|(_, scores)| {
            scores
                .iter()
                .take(usize::from(attempts.max(1)))
                .any(|s| *s >= threshold)
        })
        .count();
    Some(ok as f64 / by_card.len() as f64)
}

/// Genuine pairs of one identity rejected at the threshold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IdentityRejections {
    /// The identity (the images' folder).
    pub identity: String,
    /// Its genuine pairs below the threshold.
    pub rejected: usize,
    /// Its genuine pairs.
    pub genuine: usize,
}

/// The genuine pairs rejected at `threshold`, per identity (of the card
/// photo): the identities with any rejection, most rejections first (then
/// by name). Rejections that crowd into one or two people say the set's
/// acceptance hangs on them, not on the threshold alone.
pub fn rejections_by_identity(
    genuine: &[(String, f32)],
    threshold: f32,
) -> Vec<IdentityRejections> {
    let mut by: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (card, score) in genuine {
        let entry = by.entry(identity(card)).or_default();
        entry.1 += 1;
        if *score < threshold {
            entry.0 += 1;
        }
    }
    let mut out: Vec<IdentityRejections> = by
        .into_iter()
        .filter(|(_, (rejected, _))| *rejected > 0)
        .map(|(identity, (rejected, genuine))| IdentityRejections {
            identity: identity.to_string(),
            rejected,
            genuine,
        })
        .collect();
    out.sort_by(|a, b| {
        b.rejected
            .cmp(&a.rejected)
            .then(a.identity.cmp(&b.identity))
    });
    out
}

/// The operating point of the threshold in force.
#[derive(Debug, Clone, Serialize)]
pub struct OperatingPoint {
    /// Where the impostors come from: `listed` or `all-cross-identity`.
    pub impostors: &'static str,
    /// Highest impostor similarity.
    pub impostor_max: Option<f32>,
    /// 99.9th percentile of impostor similarities (null below 1,000 impostors).
    pub impostor_p999: Option<f32>,
    /// 99th percentile of impostor similarities (null below 100 impostors).
    pub impostor_p99: Option<f32>,
    /// Mean impostor similarity.
    pub impostor_mean: Option<f32>,
    /// Threshold minus the highest impostor (negative: false accepts).
    pub margin: Option<f32>,
    /// False-accept rate at the threshold of a normal fitted to the
    /// impostors (null below 100 impostors): the goal is at most 1e-4.
    pub estimated_far_normal_fit: Option<f64>,
    /// Share of genuine pairs accepted on one capture.
    pub one_capture_acceptance: Option<f64>,
    /// Captures a reception allows.
    pub max_attempts: u8,
    /// Share of receptions (card photos) accepted within `max_attempts`
    /// captures, each capture one of the person's listed live frames.
    pub receptions_within_max_attempts: Option<f64>,
    /// The same if captures failed independently at the one-capture rate.
    pub receptions_within_max_attempts_if_independent: Option<f64>,
    /// Where the rejected genuine pairs are: per identity, most first.
    pub genuine_rejected_by_identity: Vec<IdentityRejections>,
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
    /// TAR with no impostor accepted (a threshold just above the highest
    /// impostor).
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
    /// The operating point of the threshold.
    pub operating_point: OperatingPoint,
}

/// Scores every pair of `pairs` with images under `root`.
pub fn evaluate_with(
    engine: &FaceEngine,
    pairs: &[Pair],
    root: &Path,
    options: &EvalOptions,
) -> Result<EvalReport, FaceError> {
    let mut listed: Vec<Pair> = pairs.to_vec();
    if options.all_impostors {
        listed.retain(|p| p.same);
        listed.extend(all_impostor_pairs(pairs));
    }
    let pairs = &listed[..];
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
    let mut genuine_by_card = Vec::new();
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
            genuine_by_card.push((pair.card.clone(), score));
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
    let threshold = engine.threshold();
    let max_impostor = impostor.iter().copied().reduce(f32::max);
    let one_capture = (!genuine.is_empty())
        .then(|| genuine.iter().filter(|g| **g >= threshold).count() as f64 / genuine.len() as f64);
    let operating_point = OperatingPoint {
        impostors: if options.all_impostors {
            "all-cross-identity"
        } else {
            "listed"
        },
        impostor_max: max_impostor,
        impostor_p999: quantile(&impostor, 0.999),
        impostor_p99: quantile(&impostor, 0.99),
        impostor_mean: (!impostor.is_empty())
            .then(|| impostor.iter().sum::<f32>() / impostor.len() as f32),
        margin: max_impostor.map(|m| threshold - m),
        estimated_far_normal_fit: normal_fit_far(&impostor, threshold),
        one_capture_acceptance: one_capture,
        max_attempts: options.max_attempts,
        receptions_within_max_attempts: receptions_within(
            &genuine_by_card,
            threshold,
            options.max_attempts,
        ),
        receptions_within_max_attempts_if_independent: one_capture
            .map(|p| 1.0 - (1.0 - p).powi(i32::from(options.max_attempts.max(1)))),
        genuine_rejected_by_identity: rejections_by_identity(&genuine_by_card, threshold),
    };
    Ok(EvalReport {
        pairs: pairs.len(),
        genuine: genuine.len(),
        impostor: impostor.len(),
        auc: auc(&genuine, &impostor),
        tar_at_far: tar,
        tar_at_zero_false_accepts: tar_at_zero_false_accepts(&genuine, &impostor),
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
        operating_point,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_normal_tail_matches_its_table() {
        for (z, p) in [
            (0.0, 0.5),
            (1.959_964, 0.025),
            (3.090_232, 1e-3),
            (3.719_016, 1e-4),
            (-1.644_854, 0.95),
        ] {
            let got = normal_tail(z);
            assert!((got - p).abs() <= p * 1e-5, "z {z}: {got} against {p}");
        }
        // Impostors of mean 0 and standard deviation 0.1: a threshold of
        // 0.3 sits 3 deviations out.
        let impostor: Vec<f32> = (0..1000)
            .map(|i| if i % 2 == 0 { 0.1 } else { -0.1 })
            .collect();
        let far = normal_fit_far(&impostor, 0.3).unwrap();
        assert!((far - normal_tail(3.0)).abs() < 1e-5, "{far}");
        assert!(normal_fit_far(&impostor[..99], 0.3).is_none());
    }

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
        // The 99th percentile of 0.00..0.99 is 0.98; 99.9th needs 1,000.
        assert_eq!(quantile(&many, 0.99), Some(0.98));
        assert_eq!(quantile(&many, 0.999), None);
    }

    #[test]
    fn all_impostors_are_every_cross_identity_pair_once() {
        assert_eq!(identity("dev/alice/a1.jpg"), "alice");
        assert_eq!(identity("alice/a1.jpg"), "alice");
        assert_eq!(identity("a1.jpg"), "");
        let p = |c: &str, l: &str, same| Pair {
            card: c.into(),
            live: l.into(),
            same,
        };
        // Card/live roles (dev-card): 2 cards × 3 lives, 2 cross-identity... per card.
        let listed = [
            p("a/a1_card.jp2", "a/a2.jpg", true),
            p("b/b1_card.jp2", "b/b2.jpg", true),
            p("b/b1_card.jp2", "c/c1.jpg", false),
        ];
        let all = all_impostor_pairs(&listed);
        let names: Vec<(&str, &str)> = all
            .iter()
            .map(|p| (p.card.as_str(), p.live.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("a/a1_card.jp2", "b/b2.jpg"),
                ("a/a1_card.jp2", "c/c1.jpg"),
                ("b/b1_card.jp2", "a/a2.jpg"),
                ("b/b1_card.jp2", "c/c1.jpg"),
            ]
        );
        assert!(all.iter().all(|p| !p.same));
        // Images in both roles (dev): each unordered pair once.
        let listed = [
            p("a/1.jpg", "a/2.jpg", true),
            p("a/1.jpg", "b/1.jpg", false),
            p("a/2.jpg", "b/1.jpg", false),
            p("b/1.jpg", "a/2.jpg", false),
        ];
        assert_eq!(all_impostor_pairs(&listed).len(), 2);
    }

    #[test]
    fn rejections_are_counted_per_identity_most_first() {
        let g = |card: &str, score: f32| (card.to_string(), score);
        let genuine = [
            g("b/1_card.jp2", 0.2),
            g("b/1_card.jp2", 0.5),
            g("a/1_card.jp2", 0.1),
            g("c/1_card.jp2", 0.3),
            g("c/2_card.jp2", 0.35),
            g("c/2_card.jp2", 0.4),
            g("d/1_card.jp2", 0.9),
        ];
        let by = rejections_by_identity(&genuine, 0.4);
        let want = |identity: &str, rejected, genuine| IdentityRejections {
            identity: identity.into(),
            rejected,
            genuine,
        };
        // At the threshold is accepted; d has no rejection and is left out;
        // a and b tie on one and go by name.
        assert_eq!(by, vec![want("c", 2, 3), want("a", 1, 1), want("b", 1, 2)]);
        assert!(rejections_by_identity(&genuine, 0.0).is_empty());
    }

    #[test]
    fn receptions_count_captures_per_card() {
        let g = |c: &str, s| (c.to_string(), s);
        // Card x: fails, fails, fails, passes (4th too late); card y: passes
        // on the 2nd capture.
        let genuine = [
            g("x", 0.1),
            g("x", 0.2),
            g("y", 0.3),
            g("x", 0.3),
            g("y", 0.9),
            g("x", 0.9),
        ];
        assert_eq!(receptions_within(&genuine, 0.5, 3), Some(0.5));
        assert_eq!(receptions_within(&genuine, 0.5, 4), Some(1.0));
        assert_eq!(receptions_within(&[], 0.5, 3), None);
    }
}
