//! `face-attack-synth SET OUT [--seed N] [--limit N]`: from a face set with
//! card photos (`../shared/faces/dev-card`: `pairs.csv` of card photo,
//! live photo, same), writes OUT/attacks.csv (`card,frame,species`) and, per
//! same-person pair, a genuine frame and one frame of each attack species
//! under OUT/frames, the card photos under OUT/cards. The frames show faces
//! from the development set: keep OUT out of the repository.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use face_attack_synth::{decode_jpeg2000, frame, Species};
use image::RgbImage;

fn load(path: &Path) -> Result<RgbImage, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if path.extension().is_some_and(|e| e == "jp2" || e == "j2k") {
        decode_jpeg2000(&bytes).map_err(|e| format!("{}: {e}", path.display()))
    } else {
        image::load_from_memory(&bytes)
            .map(|i| i.to_rgb8())
            .map_err(|e| format!("{}: {e}", path.display()))
    }
}

fn run() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let mut positional = Vec::new();
    let (mut seed, mut limit) = (0u64, usize::MAX);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .and_then(|v| v.parse::<u64>().ok())
                .ok_or(format!("{name} needs a number"))
        };
        match arg.as_str() {
            "--seed" => seed = value("--seed")?,
            "--limit" => limit = value("--limit")? as usize,
            _ => positional.push(PathBuf::from(arg)),
        }
    }
    let [set, out] = positional.as_slice() else {
        return Err("usage: face-attack-synth SET OUT [--seed N] [--limit N]".into());
    };
    let pairs = std::fs::read_to_string(set.join("pairs.csv"))
        .map_err(|e| format!("{}: {e}", set.join("pairs.csv").display()))?;
    let genuine: Vec<(String, String)> = pairs
        .lines()
        .skip(1)
        .filter_map(|line| {
            let mut cols = line.split(',');
            match (cols.next(), cols.next(), cols.next()) {
                (Some(a), Some(b), Some(s)) if s.trim() == "1" => {
                    Some((a.trim().to_string(), b.trim().to_string()))
                }
                _ => None,
            }
        })
        .take(limit)
        .collect();
    if genuine.is_empty() {
        return Err(format!("no same-person pairs in {}", set.display()));
    }
    for sub in ["frames", "cards"] {
        std::fs::create_dir_all(out.join(sub)).map_err(|e| format!("{}: {e}", out.display()))?;
    }
    let lives: Vec<&String> = genuine
        .iter()
        .map(|(_, l)| l)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut csv = String::from("card,frame,species\n");
    let mut copied = BTreeSet::new();
    for (i, (card, live)) in genuine.iter().enumerate() {
        let card_name = card.replace('/', "_");
        if copied.insert(card_name.clone()) {
            std::fs::copy(set.join(card), out.join("cards").join(&card_name))
                .map_err(|e| format!("{card}: {e}"))?;
        }
        let card_img = load(&set.join(card))?;
        let live_img = load(&set.join(live))?;
        // A background from someone else's photo.
        let other_path = lives[(i * 7 + 3) % lives.len()];
        let other = load(&set.join(other_path))?;
        for (k, species) in Species::ALL.into_iter().enumerate() {
            let shown = if species == Species::Replay {
                &card_img
            } else {
                &live_img
            };
            let frame_seed = seed
                .wrapping_mul(1_000_003)
                .wrapping_add(i as u64 * 4 + k as u64);
            let img = frame(species, shown, Some(&other), frame_seed);
            let name = format!("frames/{}-{i:03}.jpg", species.name());
            let quality = 75 + (frame_seed % 21) as u8;
            let file =
                std::fs::File::create(out.join(&name)).map_err(|e| format!("{name}: {e}"))?;
            let mut writer = std::io::BufWriter::new(file);
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut writer, quality)
                .encode_image(&img)
                .map_err(|e| format!("{name}: {e}"))?;
            writer.flush().map_err(|e| format!("{name}: {e}"))?;
            csv.push_str(&format!("cards/{card_name},{name},{}\n", species.name()));
        }
        eprint!("\r{} of {} pairs", i + 1, genuine.len());
    }
    eprintln!();
    std::fs::write(out.join("attacks.csv"), csv).map_err(|e| format!("attacks.csv: {e}"))?;
    println!("{} frames in {}", genuine.len() * 4, out.display());
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("face-attack-synth: {e}");
        std::process::exit(1);
    }
}
