//! Per-stage times of the face pipeline on the dev set (median over its
//! images): decode, detect (+ refining pass), align, embed, PAD.
//!
//! `cargo bench -p mynareader --bench face`  (needs ../shared; says so if absent)

use std::path::Path;
use std::time::{Duration, Instant};

use mynareader::face::{align, image, FaceEngine, FaceSettings};

fn median(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v.get(v.len() / 2)
        .map(|d| d.as_secs_f64() * 1e3)
        .unwrap_or(0.0)
}

fn main() -> anyhow::Result<()> {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared");
    if !shared.join("models/MODELS.md").exists() {
        eprintln!("face bench: skipped, ../shared (models and dev faces) is absent");
        return Ok(());
    }
    let start = Instant::now();
    let engine = FaceEngine::load(FaceSettings {
        models_dir: Some(shared.join("models")),
        ..FaceSettings::default()
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
    let (mut decode, mut detect, mut aligns, mut capture, mut total) =
        (vec![], vec![], vec![], vec![], vec![]);
    let card = engine.encode_card(&image::decode(&std::fs::read(
        root.join("deepface_p02/deepface_p02_01_card.jp2"),
    )?)?)?;
    for file in &files {
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
        drop(aligned);
        let t = Instant::now();
        engine.capture(&card, &frame, 0)?;
        capture.push(t.elapsed());
        let t = Instant::now();
        engine.encode(&frame)?;
        total.push(t.elapsed());
    }
    println!(
        "face pipeline, {} images of ../shared/faces/dev-card, median ms",
        files.len()
    );
    println!(
        "model load + verify + optimise: {:.0} ms (once)",
        load.as_secs_f64() * 1e3
    );
    println!("decode (JPEG 2000 / JPEG):      {:.2}", median(decode));
    println!("detect, 320 + refining crop:    {:.2}", median(detect));
    println!("align (5-point similarity):     {:.2}", median(aligns));
    println!("detect + align + embed:         {:.2}", median(total));
    println!("full capture (gate + PAD):      {:.2}", median(capture));
    Ok(())
}
