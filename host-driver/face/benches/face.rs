//! Per-stage times of the face pipeline on the dev set (median over its
//! images): decode, detect (+ refining pass), align, embed, PAD, and a whole
//! capture (gate + compare + PAD) for a genuine and an impostor card.
//!
//! `cargo bench -p mynareader --bench face [-- --layers] [-- --threads N]
//! [-- --models DIR --recogniser NAME]` (needs ../shared; says so if
//! absent). `--layers` adds a per-layer profile of every model (median over
//! runs, grouped by operator); `--models` loads the models from DIR instead
//! of ../shared/models (EdgeFace-XS, once converted, sits there beside the
//! others). Side by side with the onnxruntime reference:
//! `scripts/face-vs-reference`.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use myna_face::models::Runnable;
use myna_face::{align, detect, image, pad, Capture, FaceEngine, FaceSettings};

fn median(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v.get(v.len() / 2)
        .map(|d| d.as_secs_f64() * 1e3)
        .unwrap_or(0.0)
}

fn arg_value(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// Median per-node times of `runs` profiled runs, grouped by operator, and
/// the slowest nodes.
fn layers(title: &str, model: &Runnable, shape: &[usize], input: &[f32], runs: usize) {
    let mut per_node: Vec<(String, String, Vec<Duration>)> = Vec::new();
    for _ in 0..runs {
        let Ok(times) = model.profile(shape, input) else {
            println!("  {title}: profile failed");
            return;
        };
        if per_node.is_empty() {
            per_node = times
                .iter()
                .map(|t| (t.node.clone(), t.op.clone(), vec![]))
                .collect();
        }
        for (slot, t) in per_node.iter_mut().zip(times) {
            slot.2.push(t.time);
        }
    }
    let nodes: Vec<(String, String, f64)> = per_node
        .into_iter()
        .map(|(n, o, t)| (n, o, median(t)))
        .collect();
    let total: f64 = nodes.iter().map(|n| n.2).sum();
    println!(
        "  {title} {shape:?}: {total:.2} ms over {} nodes",
        nodes.len()
    );
    let mut by_op: BTreeMap<String, (f64, usize)> = BTreeMap::new();
    for (_, op, t) in &nodes {
        let e = by_op.entry(op.clone()).or_default();
        e.0 += t;
        e.1 += 1;
    }
    let mut by_op: Vec<_> = by_op.into_iter().collect();
    by_op.sort_by(|a, b| b.1 .0.total_cmp(&a.1 .0));
    for (op, (t, n)) in by_op.iter().take(6) {
        println!(
            "    {op:<28} {t:>6.2} ms {:>4.0}%  ({n} nodes)",
            100.0 * t / total
        );
    }
    let mut slow = nodes.clone();
    slow.sort_by(|a, b| b.2.total_cmp(&a.2));
    let top: Vec<String> = slow
        .iter()
        .take(4)
        .map(|(n, o, t)| format!("{n} ({o}) {t:.2}"))
        .collect();
    println!("    slowest: {}", top.join("; "));
}

fn main() -> anyhow::Result<()> {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    if !shared.join("models/MODELS.md").exists() {
        eprintln!("face bench: skipped, ../shared (models and dev faces) is absent");
        return Ok(());
    }
    let defaults = FaceSettings::default();
    let threads = arg_value("--threads")
        .and_then(|v| v.parse().ok())
        .unwrap_or(defaults.threads);
    let start = Instant::now();
    let engine = FaceEngine::load(FaceSettings {
        models_dir: Some(
            arg_value("--models")
                .map(Into::into)
                .unwrap_or_else(|| shared.join("models")),
        ),
        threads,
        recogniser: arg_value("--recogniser"),
        ..defaults
    })?;
    let load = start.elapsed();
    let root = shared.join("faces/dev-card");
    let mut files = Vec::new();
    for dir in std::fs::read_dir(&root)? {
        let dir = dir?.path();
        if dir.is_dir() {
            for f in std::fs::read_dir(dir)? {
                files.push(f?.path());
            }
        }
    }
    files.sort();
    let read = |p: &str| -> anyhow::Result<image::RgbFrame> {
        Ok(image::decode(&std::fs::read(root.join(p))?)?)
    };
    let mut card_times = vec![];
    let card_frame = read("deepface_p02/deepface_p02_01_card.jp2")?;
    for _ in 0..5 {
        let t = Instant::now();
        engine.encode_card(&card_frame)?;
        card_times.push(t.elapsed());
    }
    let card = engine.encode_card(&card_frame)?;
    let (mut decode, mut detect, mut aligns, mut embed, mut pad_times, mut total) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    let mut impostor_capture = vec![];
    for file in files.iter().filter(|f| {
        f.extension().is_some_and(|e| e != "jp2") && !f.to_string_lossy().contains("p02_")
    }) {
        let bytes = std::fs::read(file)?;
        let t = Instant::now();
        let frame = image::decode(&bytes)?;
        decode.push(t.elapsed());
        let t = Instant::now();
        let Ok(det) = engine.locate(&frame) else {
            continue;
        };
        detect.push(t.elapsed());
        let t = Instant::now();
        let aligned = align::align(&frame, &det.landmarks)?;
        aligns.push(t.elapsed());
        let t = Instant::now();
        engine.recogniser().embed(&aligned)?;
        embed.push(t.elapsed());
        if let Some(pad) = engine.pad() {
            let t = Instant::now();
            pad.measure(&[(&frame, &det)])?;
            pad_times.push(t.elapsed());
        }
        let t = Instant::now();
        engine.capture(&card, &frame, 0)?;
        impostor_capture.push(t.elapsed());
        let t = Instant::now();
        engine.encode(&frame)?;
        total.push(t.elapsed());
    }
    // Genuine captures: the same person's live frames, many times.
    let mut genuine_capture = vec![];
    let mut matched = 0;
    let genuine: Vec<image::RgbFrame> = (2..=5)
        .map(|i| read(&format!("deepface_p02/deepface_p02_0{i}.jpg")))
        .collect::<Result<_, _>>()?;
    let mut two_frames = vec![];
    for _ in 0..5 {
        for frame in &genuine {
            let t = Instant::now();
            let capture = engine.capture(&card, frame, 0)?;
            genuine_capture.push(t.elapsed());
            matched += usize::from(matches!(capture, Capture::Compared { matched: true, .. }));
        }
        // The kiosk's capture: two consecutive frames (PAD's texture cue
        // judges both).
        for pair in genuine.windows(2) {
            let t = Instant::now();
            engine.capture_frames(&card, pair, 0)?;
            two_frames.push(t.elapsed());
        }
    }
    println!(
        "face pipeline, {} live images of ../shared/faces/dev-card, median ms ({} thread(s))",
        decode.len(),
        threads.max(1)
    );
    println!(
        "model load + verify + optimise: {:.0} ms (once; detector shapes {:?})",
        load.as_secs_f64() * 1e3,
        engine.detector().shapes()
    );
    println!("decode (JPEG):                  {:.2}", median(decode));
    println!("card photo: detect+align+embed: {:.2}", median(card_times));
    println!("detect (+ refining pass):       {:.2}", median(detect));
    println!("align (5-point similarity):     {:.2}", median(aligns));
    println!("embed:                          {:.2}", median(embed));
    println!("PAD (MiniFASNet V2 + edges):    {:.2}", median(pad_times));
    println!("detect + align + embed:         {:.2}", median(total));
    println!(
        "full capture, impostor card:    {:.2}",
        median(impostor_capture)
    );
    println!(
        "full capture, two frames:       {:.2} (the kiosk's, PAD on both)",
        median(two_frames)
    );
    println!(
        "full capture, genuine card:     {:.2} ({matched} of {} matched)",
        median(genuine_capture),
        genuine.len() * 5
    );
    if std::env::args().any(|a| a == "--layers") {
        println!("per layer (median of 20 runs):");
        let frame = &genuine[0];
        for (w, h) in engine.detector().shapes() {
            if let Some(model) = engine.detector().model_for(w, h) {
                let input = detect::letterbox_bgr(frame, w, h, 1.0);
                layers(&format!("yunet {w}x{h}"), model, &[1, 3, h, w], &input, 20);
            }
        }
        let det = engine.locate(frame)?;
        let aligned = align::align(frame, &det.landmarks)?;
        let input = engine.recogniser().input(&aligned);
        layers(
            engine.recogniser_name(),
            engine.recogniser().model(),
            &[1, 3, align::SIZE, align::SIZE],
            &input,
            20,
        );
        if let Some(p) = engine.pad() {
            for (model, scale) in p.texture().models() {
                let input = pad::minifasnet::crop_input(frame, &det, scale);
                layers(&format!("PAD x{scale}"), model, &[1, 3, 80, 80], &input, 20);
            }
        }
    }
    Ok(())
}
