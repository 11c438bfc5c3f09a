//! `mynareader face …`: compare faces with the on-device models. Owns the
//! face commands' arguments, loading the engine from them, and their output
//! (text and `--json`).

use std::path::{Path, PathBuf};

use clap::Subcommand;
use myna_face::pad::PadOutcome;
use myna_face::quality::{self, Hint as CaptureHint};
use myna_face::{attacks, eval, image, Band, Capture, FaceEngine, FaceSettings, PadMode};
use serde::Serialize;

use crate::hint::{Failure, Hint};

/// How to load the face engine.
#[derive(Debug, clap::Args)]
pub struct FaceArgs {
    /// Folder with the model weights (default: $MYNAREADER_MODELS, ../shared/models, or the fetch folder).
    #[arg(long)]
    models: Option<PathBuf>,
    /// Decision threshold (cosine similarity; default: the recogniser's own).
    #[arg(long)]
    threshold: Option<f32>,
    /// Recogniser from models/manifest.json (default: sface when fetched, else mobilefacenet-paddle-128).
    #[arg(long)]
    recogniser: Option<String>,
    /// Grey the live frame like the card photo before comparing.
    #[arg(long)]
    live_as_card: bool,
    /// Presentation-attack detection: enforce (an attack is never a match), report (evaluation), or off.
    #[arg(long, default_value = "enforce", value_parser = ["off", "report", "enforce"])]
    pad: String,
    /// Detector input side in pixels (a multiple of 32).
    #[arg(long, default_value_t = FaceSettings::default().detector_size)]
    detector_size: usize,
    /// Detector input side of a second pass when the first finds no face (0: none).
    #[arg(long, default_value_t = FaceSettings::default().fallback_detector_size)]
    fallback_detector_size: usize,
    /// Detector input long side for card photos (a multiple of 32).
    #[arg(long, default_value_t = FaceSettings::default().card_detector_size)]
    card_detector_size: usize,
    /// Detector input side of the refining pass (a multiple of 32).
    #[arg(long, default_value_t = FaceSettings::default().refine_size)]
    refine_size: usize,
    /// Threads for the models' matrix products.
    #[arg(long, default_value_t = FaceSettings::default().threads)]
    threads: usize,
}

/// The `face` command group.
#[derive(Debug, Subcommand)]
pub enum FaceCommand {
    /// Compare a card photo with a live frame.
    Compare {
        #[command(flatten)]
        face: FaceArgs,
        /// The card photo (JPEG 2000 or any image).
        #[arg(long)]
        card: PathBuf,
        /// The live frame.
        #[arg(long)]
        live: PathBuf,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Score a pair list (img_a = card photo, img_b = live frame, same = 0/1), or with --attacks
    /// an attack set (APCER per species, BPCER).
    Eval {
        #[command(flatten)]
        face: FaceArgs,
        /// The CSV of pairs.
        #[arg(long, required_unless_present = "attacks", conflicts_with = "attacks")]
        pairs: Option<PathBuf>,
        /// A folder with attacks.csv (card,frame,species), as face-attack-synth writes it.
        #[arg(long)]
        attacks: Option<PathBuf>,
        /// Folder the image paths are relative to (default: the CSV's folder).
        #[arg(long)]
        root: Option<PathBuf>,
        /// Impostors: every cross-identity pair of the listed images
        /// (identity = the image's folder), not only the listed ones.
        #[arg(long)]
        all_impostors: bool,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
}

/// Runs a `face` command.
pub fn run(command: FaceCommand) -> Result<(), Failure> {
    match command {
        FaceCommand::Compare {
            face,
            card,
            live,
            json,
        } => compare(&face, &card, &live, json),
        FaceCommand::Eval {
            face,
            attacks: Some(dir),
            json,
            ..
        } => evaluate_attacks(&face, &dir, json),
        FaceCommand::Eval {
            face,
            pairs: Some(pairs),
            root,
            all_impostors,
            json,
            ..
        } => evaluate(&face, &pairs, root, all_impostors, json),
        FaceCommand::Eval { .. } => {
            Err(Failure::new("give --pairs FILE or --attacks DIR").hint(Hint::CheckPath))
        }
    }
}

fn engine(args: &FaceArgs) -> Result<FaceEngine, Failure> {
    Ok(FaceEngine::load(FaceSettings {
        models_dir: args.models.clone(),
        match_threshold: args.threshold,
        recogniser: args.recogniser.clone(),
        live_as_card: args.live_as_card,
        detector_size: args.detector_size,
        fallback_detector_size: args.fallback_detector_size,
        card_detector_size: args.card_detector_size,
        refine_size: args.refine_size,
        threads: args.threads,
        pad: match args.pad.as_str() {
            "off" => PadMode::Off,
            "enforce" => PadMode::Enforce,
            _ => PadMode::Report,
        },
        ..FaceSettings::default()
    })?)
}

fn read_file(path: &Path, what: &str) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| {
        Failure::new(format!("cannot read {what} {}: {e}", path.display())).hint(Hint::CheckPath)
    })
}

fn read_image(path: &Path) -> Result<image::RgbFrame, Failure> {
    let bytes = zeroize::Zeroizing::new(read_file(path, "image")?);
    Ok(image::decode(&bytes).map_err(myna_face::FaceError::from)?)
}

#[derive(Serialize)]
struct CompareJson {
    similarity: Option<f32>,
    threshold: f32,
    band: Option<Band>,
    decision: &'static str,
    pad: Option<PadOutcome>,
    pad_evidence: Option<myna_face::pad::Evidence>,
    hint: Option<CaptureHint>,
    hint_text: Option<String>,
}

fn compare(face: &FaceArgs, card: &Path, live: &Path, json: bool) -> Result<(), Failure> {
    let engine = engine(face)?;
    let card_face = engine.encode_card(&read_image(card)?)?;
    let capture = engine.capture(&card_face, &read_image(live)?, 0)?;
    let value = match capture {
        Capture::Retry { hint } => CompareJson {
            similarity: None,
            threshold: engine.threshold(),
            band: None,
            decision: "retry",
            pad: None,
            pad_evidence: None,
            hint: Some(hint),
            hint_text: quality::hint_text_ja(hint),
        },
        Capture::Compared {
            similarity,
            band,
            matched,
            pad,
            evidence,
            hint,
        } => CompareJson {
            similarity: Some(similarity),
            threshold: engine.threshold(),
            band: Some(band),
            decision: if matched { "match" } else { "no-match" },
            pad: Some(pad),
            pad_evidence: evidence,
            hint,
            hint_text: hint.and_then(quality::hint_text_ja),
        },
    };
    if json {
        println!("{}", serde_json::to_string(&value).unwrap_or_default());
        return Ok(());
    }
    match value.similarity {
        Some(similarity) => println!(
            "similarity: {similarity:.3} (threshold {:.3}, band {:?})",
            value.threshold,
            value.band.unwrap_or(Band::Low)
        ),
        None => println!("similarity: not compared (capture not usable)"),
    }
    println!("decision:   {}", value.decision);
    match value.pad {
        Some(PadOutcome::Live { p_real }) => println!("PAD:        live (p(real) {p_real:.3})"),
        Some(PadOutcome::Attack { p_real, cue }) => {
            println!("PAD:        attack, {cue:?} (p(real) {p_real:.3})")
        }
        Some(PadOutcome::Disabled) => println!("PAD:        off"),
        None => {}
    }
    if let Some(text) = value.hint_text {
        println!("hint:       {text}");
    }
    Ok(())
}

fn evaluate(
    face: &FaceArgs,
    pairs: &Path,
    root: Option<PathBuf>,
    all_impostors: bool,
    json: bool,
) -> Result<(), Failure> {
    let text = String::from_utf8_lossy(&read_file(pairs, "pair list")?).into_owned();
    let list = eval::parse_pairs(&text).map_err(|e| Failure::context(pairs.display(), e))?;
    let root = root.unwrap_or_else(|| pairs.parent().map(PathBuf::from).unwrap_or_default());
    let engine = engine(face)?;
    let options = eval::EvalOptions {
        all_impostors,
        max_attempts: myna_reception::MAX_FACE_ATTEMPTS,
    };
    let report = eval::evaluate_with(&engine, &list, &root, &options)?;
    if json {
        println!("{}", serde_json::to_string(&report).unwrap_or_default());
        return Ok(());
    }
    let show = |v: Option<f64>| {
        v.map(|x| format!("{:.4}", x))
            .unwrap_or_else(|| "n/a (too few impostors)".into())
    };
    println!(
        "pairs:            {} ({} genuine, {} impostor)",
        report.pairs, report.genuine, report.impostor
    );
    println!("AUC:              {}", show(report.auc));
    for (far, tar) in &report.tar_at_far {
        println!("TAR at FAR {far:<6}{}", show(*tar));
    }
    if let Some(zero) = report.tar_at_zero_false_accepts {
        println!("TAR at 0 FA:      {zero:.4}");
    }
    println!(
        "threshold:        {:.3}: accepts {} of genuine, {} impostor(s) (max impostor {:?}, min genuine {:?})",
        report.threshold,
        show(report.tar_at_threshold),
        report.false_accepts_at_threshold,
        report.max_impostor,
        report.min_genuine
    );
    let op = &report.operating_point;
    let score = |v: Option<f32>| {
        v.map(|x| format!("{x:.3}"))
            .unwrap_or_else(|| "n/a (too few impostors)".into())
    };
    println!(
        "impostors ({}):   max {}, 99.9th pct {}, 99th pct {}; margin {}",
        op.impostors,
        score(op.impostor_max),
        score(op.impostor_p999),
        score(op.impostor_p99),
        score(op.margin)
    );
    println!(
        "receptions:       {} on one capture, {} within {} captures ({} if independent)",
        show(op.one_capture_acceptance),
        show(op.receptions_within_max_attempts),
        op.max_attempts,
        show(op.receptions_within_max_attempts_if_independent)
    );
    if !op.genuine_rejected_by_identity.is_empty() {
        let who: Vec<String> = op
            .genuine_rejected_by_identity
            .iter()
            .map(|r| format!("{} {} of {}", r.identity, r.rejected, r.genuine))
            .collect();
        println!("rejected, by who: {}", who.join(", "));
    }
    println!("no face:          {:?}", report.no_face);
    println!(
        "ms per image:     {:.1} (median, detect+align+embed)",
        report.ms_per_image_median
    );
    Ok(())
}

fn evaluate_attacks(face: &FaceArgs, dir: &Path, json: bool) -> Result<(), Failure> {
    let list = dir.join("attacks.csv");
    let text = String::from_utf8_lossy(&read_file(&list, "attack list")?).into_owned();
    let rows = attacks::parse_attacks(&text).map_err(|e| Failure::context(list.display(), e))?;
    let engine = engine(face)?;
    let report = attacks::evaluate_attacks(&engine, &rows, dir, |done, of| {
        if done % 20 == 0 || done == of {
            eprint!("\r{done} of {of} frames");
            if done == of {
                eprintln!();
            }
        }
    })?;
    if json {
        println!("{}", serde_json::to_string(&report).unwrap_or_default());
        return Ok(());
    }
    let pct = |v: Option<f64>| {
        v.map(|x| format!("{:5.1} %", x * 100.0))
            .unwrap_or_else(|| "  n/a".into())
    };
    let g = &report.genuine;
    println!(
        "genuine  {:>4} frames, {:>4} judged: BPCER {} ({} called attacks), accepted {}",
        g.presented,
        g.judged,
        pct(report.bpcer),
        g.called_attack,
        pct(g.acceptance())
    );
    for (name, f) in &report.species {
        println!(
            "{name:<8} {:>4} frames, {:>4} judged: APCER {}, accepted {} (by cue: {:?})",
            f.presented,
            f.judged,
            pct(f.apcer()),
            pct(f.acceptance()),
            f.by_cue
        );
    }
    if let Some(ms) = report.median_capture_ms {
        println!("median capture: {ms:.1} ms");
    }
    Ok(())
}
