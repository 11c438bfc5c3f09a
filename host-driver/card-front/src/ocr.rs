//! PP-OCRv5 (PaddleOCR, Apache-2.0) run by tract: the text detector (DB)
//! finds the text lines of a rectified piece of the card, the line
//! recogniser (SVTR-LCNet, CTC) reads each line with a probability per
//! character. Owns loading and checking the three files (sha256 against the
//! manifest), the models' input formats, the DB post-processing and the
//! greedy CTC decoding. Formats: `shared/ocr/README.md`.
//!
//! Everything that holds a picture of the card or text read from it is
//! zeroizing and has no `Debug`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tract_onnx::prelude::*;
use zeroize::{Zeroize, Zeroizing};

use myna_face::models::{entry, read_verified, ModelError};

/// Manifest name of the text detector.
pub const DETECTOR: &str = "ppocrv5-mobile-det";
/// Manifest name of the line recogniser.
pub const RECOGNISER: &str = "ppocrv5-mobile-rec";
/// Manifest name of the recogniser's dictionary.
pub const DICTIONARY: &str = "ppocrv5-dict";
/// The recogniser's input height.
pub const LINE_HEIGHT: usize = 48;
/// The recogniser's input widths (a line is padded to the next): the
/// recogniser runs one optimised plan per width.
pub const LINE_WIDTHS: &[usize] = &[
    96, 128, 160, 192, 256, 320, 384, 448, 512, 576, 640, 704, 768, 896, 1024, 1280,
];

/// DB: a pixel is text above this probability.
const DB_THRESHOLD: f32 = 0.3;
/// DB: a region is a line when its mean probability reaches this.
const DB_BOX_SCORE: f32 = 0.5;
/// DB: a column of a region is a gap when its summed probability is below
/// this many pixels' worth (a fifth of its height at full probability).
const DB_FAINT_COLUMN: f32 = 0.2;
/// DB: a gap this many times the region's height wide cuts it in two
/// (between characters of one word the map stays high; a half-width
/// space is about half the region's height, a full-width one more).
const DB_SPLIT_GAP: f32 = 0.5;
/// DB: how far a region is grown back to the whole line (the model was
/// trained on lines shrunk by this much).
const DB_UNCLIP: f32 = 1.5;

/// Where the text models are: the explicit folder, `MYNAREADER_TEXT_MODELS`
/// or `MYNAREADER_MODELS`, the first that holds them (production fetches
/// them beside the face models), else `../shared/ocr` in a development
/// tree, else the fetch script's folder.
pub fn text_models_dir(setting: Option<&Path>) -> PathBuf {
    let file = entry(DETECTOR)
        .map(|e| e.file)
        .unwrap_or_else(|_| "ppocrv5_mobile_det.onnx".into());
    let explicit: Vec<PathBuf> = setting
        .map(Path::to_path_buf)
        .into_iter()
        .chain(
            ["MYNAREADER_TEXT_MODELS", "MYNAREADER_MODELS"]
                .iter()
                .filter_map(|v| std::env::var_os(v).map(PathBuf::from)),
        )
        .collect();
    if let Some(dir) = explicit.iter().find(|d| d.join(&file).exists()) {
        return dir.clone();
    }
    for candidate in ["../shared/ocr", "../../shared/ocr", "../../../shared/ocr"] {
        let path = Path::new(candidate);
        if path.join(&file).exists() {
            return path.to_path_buf();
        }
    }
    explicit
        .into_iter()
        .next()
        .unwrap_or_else(|| myna_face::models::models_dir(None))
}

/// A picture for the models: three planes in BGR order, normalised as the
/// model expects, row-major (wiped on drop: it is a picture of the card).
pub struct Planes {
    /// Width.
    pub w: usize,
    /// Height.
    pub h: usize,
    /// `3 × h × w` values.
    pub data: Zeroizing<Vec<f32>>,
}

impl Planes {
    /// A `w`×`h` picture whose pixel (x, y) is `rgb(x, y)` (0..255),
    /// normalised `(v/255 − mean)/std` per channel, BGR.
    pub fn from_fn(
        w: usize,
        h: usize,
        norm: Norm,
        mut rgb: impl FnMut(usize, usize) -> [f32; 3],
    ) -> Planes {
        let plane = w * h;
        let mut data = Zeroizing::new(vec![0f32; 3 * plane]);
        let (mean, std) = norm.bgr();
        for y in 0..h {
            for x in 0..w {
                let [r, g, b] = rgb(x, y);
                let at = y * w + x;
                for (c, v) in [b, g, r].into_iter().enumerate() {
                    data[c * plane + at] = (v / 255.0 - mean[c]) / std[c];
                }
            }
        }
        Planes { w, h, data }
    }
}

/// The models' input normalisations.
#[derive(Debug, Clone, Copy)]
pub enum Norm {
    /// The detector's: ImageNet mean and deviation (given in RGB order by
    /// PaddleOCR and applied to its BGR planes as listed).
    Detector,
    /// The recogniser's: `(v/255 − 0.5)/0.5`.
    Recogniser,
}

impl Norm {
    fn bgr(self) -> ([f32; 3], [f32; 3]) {
        match self {
            // PaddleOCR's NormalizeImage applies these in the listed order
            // to the BGR image it decoded with OpenCV.
            Norm::Detector => ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
            Norm::Recogniser => ([0.5; 3], [0.5; 3]),
        }
    }
}

/// A detected line: a box in the detector's input pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TextBox {
    /// Left.
    pub x0: f32,
    /// Top.
    pub y0: f32,
    /// Right.
    pub x1: f32,
    /// Bottom.
    pub y1: f32,
    /// Mean text probability over the region.
    pub score: f32,
}

impl TextBox {
    /// Width.
    pub fn width(&self) -> f32 {
        self.x1 - self.x0
    }
    /// Height.
    pub fn height(&self) -> f32 {
        self.y1 - self.y0
    }
}

/// One character of a read line: what, how sure (the recogniser's
/// probability), and the time steps it spans (where on the line).
#[derive(Clone, Copy)]
pub struct Glyph {
    /// The character.
    pub c: char,
    /// Its probability, the highest over its steps.
    pub p: f32,
    /// First and last time step (8 input pixels a step).
    pub steps: (u16, u16),
}

/// A line as read (wiped on drop: it may hold the birth date or the code).
#[derive(Default)]
pub struct LineText(pub Vec<Glyph>);

impl Drop for LineText {
    fn drop(&mut self) {
        for g in self.0.iter_mut() {
            g.c.zeroize();
            g.p.zeroize();
        }
    }
}

impl LineText {
    /// The characters (zeroizing), for tests and debugging of generated
    /// cards only.
    pub fn text(&self) -> Zeroizing<String> {
        Zeroizing::new(self.0.iter().map(|g| g.c).collect())
    }
}

/// The loaded, optimised text models.
pub struct TextModels {
    det: Vec<((usize, usize), Arc<TypedRunnableModel>)>,
    rec: Vec<(usize, Arc<TypedRunnableModel>)>,
    dict: Vec<char>,
}

fn load_err(name: &str) -> impl Fn(TractError) -> ModelError + '_ {
    move |e| ModelError::Load {
        name: name.to_string(),
        reason: format!("{e:#}"),
    }
}

fn run_err(name: &str) -> impl Fn(TractError) -> ModelError + '_ {
    move |e| ModelError::Run {
        name: name.to_string(),
        reason: format!("{e:#}"),
    }
}

/// One plan of `proto` for a fixed input `shape`, optimised once.
fn plan_for(
    proto: &tract_onnx::pb::ModelProto,
    name: &str,
    shape: [usize; 4],
) -> Result<Arc<TypedRunnableModel>, ModelError> {
    let err = load_err(name);
    onnx()
        .model_for_proto_model(proto)
        .map_err(&err)?
        .with_input_fact(0, f32::fact(shape).into())
        .map_err(&err)?
        .into_optimized()
        .map_err(&err)?
        .into_runnable()
        .map_err(&err)
}

/// Reads, checks and parses one of the manifest's models.
fn proto_of(dir: &Path, name: &str) -> Result<tract_onnx::pb::ModelProto, ModelError> {
    let bytes = read_verified(dir, &entry(name)?)?;
    onnx()
        .proto_model_for_read(&mut std::io::Cursor::new(&bytes))
        .map_err(load_err(name))
}

/// tract's ONNX loader, told to infer shapes from the input given rather
/// than the ones recorded in the file.
fn onnx() -> tract_onnx::Onnx {
    tract_onnx::onnx()
        .with_ignore_value_info(true)
        .with_ignore_output_shapes(true)
}

/// Runs `plan` on `planes` and returns its first output, flattened.
fn run_plan(
    plan: Option<&Arc<TypedRunnableModel>>,
    name: &str,
    planes: &Planes,
) -> Result<TVec<TValue>, ModelError> {
    let err = run_err(name);
    let plan = plan.ok_or_else(|| ModelError::Run {
        name: name.into(),
        reason: format!("no plan for {}×{}", planes.w, planes.h),
    })?;
    let input = Tensor::from_shape(&[1, 3, planes.h, planes.w], &planes.data).map_err(&err)?;
    let out = plan.run(tvec!(input.into_tvalue())).map_err(&err)?;
    if out.is_empty() {
        return Err(ModelError::Run {
            name: name.into(),
            reason: "no output".into(),
        });
    }
    Ok(out)
}

impl TextModels {
    /// Reads and checks the detector, recogniser and dictionary from `dir`
    /// and optimises them once: the detector for each (width, height) in
    /// `det_shapes` (multiples of 32), the recogniser for each of
    /// [`LINE_WIDTHS`]. Each plan runs on the calling thread (the reader
    /// spreads its work over threads itself).
    pub fn load(dir: &Path, det_shapes: &[(usize, usize)]) -> Result<TextModels, ModelError> {
        let det_proto = proto_of(dir, DETECTOR)?;
        let det = det_shapes
            .iter()
            .map(|&(w, h)| Ok(((w, h), plan_for(&det_proto, DETECTOR, [1, 3, h, w])?)))
            .collect::<Result<Vec<_>, ModelError>>()?;
        let rec_proto = proto_of(dir, RECOGNISER)?;
        // One plan per width bucket: tract runs a fixed shape several
        // times faster than the same graph with a symbolic width.
        // Optimised on two threads (half the start-up on two cores).
        let plan =
            |w: &usize| plan_for(&rec_proto, RECOGNISER, [1, 3, LINE_HEIGHT, *w]).map(|p| (*w, p));
        let odd: Vec<usize> = LINE_WIDTHS.iter().copied().skip(1).step_by(2).collect();
        let even: Vec<usize> = LINE_WIDTHS.iter().copied().step_by(2).collect();
        let (odd, even) = std::thread::scope(|scope| {
            let odd = scope.spawn(|| odd.iter().map(plan).collect::<Vec<_>>());
            let even: Vec<_> = even.iter().map(plan).collect();
            (odd.join(), even)
        });
        let odd = odd.map_err(|_| ModelError::Load {
            name: RECOGNISER.into(),
            reason: "a loading thread panicked".into(),
        })?;
        let mut rec = odd.into_iter().chain(even).collect::<Result<Vec<_>, _>>()?;
        rec.sort_by_key(|(w, _)| *w);
        let dict_bytes = read_verified(dir, &entry(DICTIONARY)?)?;
        let dict = String::from_utf8_lossy(&dict_bytes)
            .lines()
            .map(|l| l.chars().next().unwrap_or(' '))
            .collect::<Vec<char>>();
        Ok(TextModels { det, rec, dict })
    }

    /// The detector's text lines in `planes` (whose size must be one of
    /// the shapes given at load).
    pub fn detect(&self, planes: &Planes) -> Result<Vec<TextBox>, ModelError> {
        let plan = self.det.iter().find(|(s, _)| *s == (planes.w, planes.h));
        let out = run_plan(plan.map(|(_, p)| p), DETECTOR, planes)?;
        let map = out[0]
            .to_plain_array_view::<f32>()
            .map_err(run_err(DETECTOR))?;
        let prob = Zeroizing::new(map.iter().copied().collect::<Vec<f32>>());
        if prob.len() != planes.w * planes.h {
            return Err(ModelError::Run {
                name: DETECTOR.into(),
                reason: format!("output of {} values", prob.len()),
            });
        }
        Ok(db_boxes(&prob, planes.w, planes.h))
    }

    /// The input width a line of `width` pixels is padded to.
    pub fn line_width(width: usize) -> usize {
        LINE_WIDTHS
            .iter()
            .copied()
            .find(|&w| w >= width)
            .unwrap_or(LINE_WIDTHS[LINE_WIDTHS.len() - 1])
    }

    /// Reads one line: `planes` is [`LINE_HEIGHT`] high and one of
    /// [`LINE_WIDTHS`] wide (see [`Self::line_width`]).
    pub fn recognise(&self, planes: &Planes) -> Result<LineText, ModelError> {
        let plan = (planes.h == LINE_HEIGHT)
            .then(|| self.rec.iter().find(|(w, _)| *w == planes.w))
            .flatten();
        let out = run_plan(plan.map(|(_, p)| p), RECOGNISER, planes)?;
        let probs = out[0]
            .to_plain_array_view::<f32>()
            .map_err(run_err(RECOGNISER))?;
        let classes = self.dict.len() + 2;
        let flat = probs.as_slice().ok_or_else(|| ModelError::Run {
            name: RECOGNISER.into(),
            reason: "output not contiguous".into(),
        })?;
        if flat.is_empty() || flat.len() % classes != 0 {
            return Err(ModelError::Run {
                name: RECOGNISER.into(),
                reason: format!("output of {} values for {classes} classes", flat.len()),
            });
        }
        Ok(ctc_greedy(flat, classes, &self.dict))
    }
}

/// Greedy CTC: the likeliest class per step, repeats merged, blanks
/// (class 0) dropped; class `i` ≥ 1 is `dict[i − 1]`, the last class a
/// space.
pub fn ctc_greedy(probs: &[f32], classes: usize, dict: &[char]) -> LineText {
    let mut out: Vec<Glyph> = Vec::new();
    let mut previous = 0usize;
    for (t, step) in probs.chunks_exact(classes).enumerate() {
        let (best, p) = step
            .iter()
            .copied()
            .enumerate()
            .fold((0, f32::MIN), |a, (i, v)| if v > a.1 { (i, v) } else { a });
        let t = u16::try_from(t).unwrap_or(u16::MAX);
        if best != 0 && best == previous {
            if let Some(last) = out.last_mut() {
                last.p = last.p.max(p);
                last.steps.1 = t;
            }
        } else if best != 0 {
            let c = dict.get(best - 1).copied().unwrap_or(' ');
            out.push(Glyph {
                c,
                p,
                steps: (t, t),
            });
        }
        previous = best;
    }
    LineText(out)
}

/// DB post-processing on an axis-aligned picture (the card is rectified,
/// so its lines are level): pixels above [`DB_THRESHOLD`] grouped into
/// 4-connected regions; a region is cut where a gap of faint columns at
/// least [`DB_SPLIT_GAP`] of its height wide crosses it (a date and the
/// issuer beside it, which the map's blur can bridge); each piece's
/// bounding box is kept when its mean probability reaches [`DB_BOX_SCORE`],
/// then grown by the unclip distance `area × ratio / perimeter`.
pub fn db_boxes(prob: &[f32], w: usize, h: usize) -> Vec<TextBox> {
    let mut label = vec![0u32; w * h];
    let mut stack = Vec::new();
    let mut boxes = Vec::new();
    let mut next = 0u32;
    for start in 0..w * h {
        if label[start] != 0 || prob[start] <= DB_THRESHOLD {
            continue;
        }
        next += 1;
        let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
        let inside = |j: usize| prob[j] > DB_THRESHOLD;
        super::geom::flood(&mut label, (w, h), start, next, &mut stack, inside, |i| {
            let (x, y) = (i % w, i / w);
            (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
        });
        // Per column: the region's summed probability and its pixel count.
        let rows = y1 - y0 + 1;
        let columns: Vec<(f32, usize)> = (x0..=x1)
            .map(|x| {
                (y0..=y1)
                    .map(|y| y * w + x)
                    .filter(|&i| label[i] == next)
                    .fold((0f32, 0usize), |(s, n), i| (s + prob[i], n + 1))
            })
            .collect();
        let faint = |c: &(f32, usize)| c.0 < DB_FAINT_COLUMN * rows as f32;
        let min_gap = ((DB_SPLIT_GAP * rows as f32).ceil() as usize).max(2);
        let mut pieces = Vec::new();
        let (mut from, mut run) = (None::<usize>, 0usize);
        for (k, c) in columns.iter().enumerate() {
            if faint(c) {
                run += 1;
                if run == min_gap {
                    if let Some(f) = from.take() {
                        pieces.push((f, k + 1 - run));
                    }
                }
            } else {
                if from.is_none() {
                    from = Some(k);
                }
                run = 0;
            }
        }
        if let Some(f) = from {
            pieces.push((f, columns.len() - run));
        }
        for (a, b) in pieces {
            let (mut sum, mut n) = (0f32, 0usize);
            let (mut py0, mut py1) = (usize::MAX, 0);
            for x in x0 + a..x0 + b {
                for y in y0..=y1 {
                    let i = y * w + x;
                    if label[i] == next {
                        sum += prob[i];
                        n += 1;
                        py0 = py0.min(y);
                        py1 = py1.max(y);
                    }
                }
            }
            if n == 0 {
                continue;
            }
            let (bw, bh) = ((b - a) as f32, (py1 - py0 + 1) as f32);
            if bw.min(bh) < 3.0 || sum / (n as f32) < DB_BOX_SCORE {
                continue;
            }
            let d = bw * bh * DB_UNCLIP / (2.0 * (bw + bh));
            boxes.push(TextBox {
                x0: ((x0 + a) as f32 - d).max(0.0),
                y0: (py0 as f32 - d).max(0.0),
                x1: ((x0 + b) as f32 + d).min(w as f32),
                y1: (py1 as f32 + 1.0 + d).min(h as f32),
                score: sum / n as f32,
            });
        }
    }
    boxes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ctc_merges_repeats_and_drops_blanks() {
        let dict = ['1', '2'];
        // classes: blank, '1', '2', space
        let step = |k: usize, p: f32| {
            let mut v = [0.0f32; 4];
            v[k] = p;
            v
        };
        let probs: Vec<f32> = [
            step(1, 0.9),
            step(1, 0.7),
            step(0, 0.9),
            step(1, 0.8),
            step(2, 0.6),
            step(3, 0.9),
        ]
        .concat();
        let line = ctc_greedy(&probs, 4, &dict);
        assert_eq!(line.text().as_str(), "112 ");
        assert_eq!(line.0[0].p, 0.9);
        assert_eq!(line.0[0].steps, (0, 1));
        assert_eq!(line.0[2].p, 0.6);
    }

    #[test]
    fn db_finds_two_lines_and_grows_them() {
        let (w, h) = (60, 20);
        let mut prob = vec![0.0f32; w * h];
        let mut fill = |xs: std::ops::Range<usize>, ys: std::ops::Range<usize>, p: f32| {
            for y in ys {
                for x in xs.clone() {
                    prob[y * w + x] = p;
                }
            }
        };
        fill(2..30, 3..6, 0.9);
        fill(5..12, 12..15, 0.8);
        // A faint region: above the pixel threshold, below the box score.
        fill(20..30, 17..20, 0.35);
        // A second word on the first line's row, six columns away, joined
        // to it by a bridge one row high: cut at the gap.
        fill(36..50, 3..6, 0.9);
        fill(30..36, 4..5, 0.4);
        let boxes = db_boxes(&prob, w, h);
        assert_eq!(boxes.len(), 3, "{boxes:?}");
        let first = boxes[0];
        assert!(first.x0 < 2.0 && first.x1 > 30.0 && first.y0 < 3.0 && first.y1 > 6.0);
        assert!(first.x1 < 36.0, "cut at the gap: {first:?}");
        let word = boxes[1];
        assert!(
            word.x0 < 36.0 && word.x0 > 30.0 && word.x1 > 50.0,
            "{word:?}"
        );
        // Without the gap wide enough (two columns), one region.
        let mut prob = vec![0.0f32; w * h];
        for y in 3..6 {
            for x in (2..30).chain(32..50) {
                prob[y * w + x] = 0.9;
            }
            prob[y * w + 30] = 0.4;
            prob[y * w + 31] = 0.4;
        }
        assert_eq!(db_boxes(&prob, w, h).len(), 1);
    }
}
