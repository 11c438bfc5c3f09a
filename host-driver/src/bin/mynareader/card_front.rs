//! `mynareader card-front read IMAGE`: read 照合番号B from a card-camera
//! image. Owns the command's arguments, loading the text models, and its
//! output (text and `--json`). The digits are printed only here: the
//! command exists for technicians checking a reader's camera.

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Subcommand;
use myna_card_front::{ocr, CardFrontReader, CardFrontSettings};
use myna_face::image;
use serde::Serialize;

use crate::hint::{Failure, Hint, EXIT_REFUSED};

/// The `card-front` command group.
#[derive(Debug, Subcommand)]
pub enum CardFrontCommand {
    /// Read the birth date, expiry year and security code; print 照合番号B.
    Read {
        /// The card-camera image (PNG, JPEG, …).
        image: PathBuf,
        /// The folder with the text models (default: $MYNAREADER_MODELS,
        /// else ../shared/ocr, else where models/fetch puts them).
        #[arg(long)]
        models: Option<PathBuf>,
        /// Threads for the models' matrix products.
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// Least confidence of every field to accept (default: the
        /// reader's own, 0.5 for the dates and 0.85 for the code).
        #[arg(long)]
        min_confidence: Option<f32>,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
}

/// Runs a `card-front` command.
pub fn run(command: CardFrontCommand) -> Result<(), Failure> {
    match command {
        CardFrontCommand::Read {
            image,
            models,
            threads,
            min_confidence,
            json,
        } => read(&image, models.as_deref(), threads, min_confidence, json),
    }
}

#[derive(Serialize)]
struct Birth {
    era: &'static str,
    year: u16,
    month: u8,
    day: u8,
}

#[derive(Serialize)]
struct ReadJson {
    collation_b: String,
    birth: Birth,
    expiry_year: u16,
    security_code: String,
    confidence: f32,
    field_confidence: [f32; 3],
    upside_down: bool,
    ms: f64,
}

#[derive(Serialize)]
struct RefusalJson<'a> {
    error: &'a str,
    hint: &'a str,
    ms: f64,
}

fn read(
    path: &Path,
    models: Option<&Path>,
    threads: usize,
    min: Option<f32>,
    json: bool,
) -> Result<(), Failure> {
    let bytes = zeroize::Zeroizing::new(std::fs::read(path).map_err(|e| {
        Failure::new(format!("cannot read image {}: {e}", path.display())).hint(Hint::CheckPath)
    })?);
    let frame = image::decode(&bytes)
        .map_err(|e| Failure::new(format!("{}: {e}", path.display())).hint(Hint::ImageFormat))?;
    let mut settings = CardFrontSettings::default();
    if let Some(min) = min {
        settings.min_confidence = min;
        settings.min_code_confidence = min;
    }
    let dir = ocr::text_models_dir(models);
    let reader = CardFrontReader::load(&dir, settings, threads).map_err(|e| {
        Failure::new(format!("card-front text models: {e}")).hint(Hint::FetchModels)
    })?;
    let start = Instant::now();
    let result = reader.read(&frame);
    let ms = start.elapsed().as_secs_f64() * 1e3;
    match result {
        Ok(read) => {
            let b = String::from_utf8_lossy(read.collation_b_bytes().as_slice()).into_owned();
            let b = zeroize::Zeroizing::new(b);
            let code =
                zeroize::Zeroizing::new(String::from_utf8_lossy(read.security_code()).into_owned());
            let birth = read.birth();
            if json {
                let value = ReadJson {
                    collation_b: b.to_string(),
                    birth: Birth {
                        era: birth.era.name(),
                        year: birth.year,
                        month: birth.month,
                        day: birth.day,
                    },
                    expiry_year: read.expiry_year(),
                    security_code: code.to_string(),
                    confidence: read.confidence(),
                    field_confidence: read.field_confidence(),
                    upside_down: read.upside_down(),
                    ms,
                };
                let text = serde_json::to_string(&value)
                    .map_err(|e| Failure::new(format!("JSON: {e}")))?;
                println!("{text}");
            } else {
                println!("照合番号B  {}", b.as_str());
                println!(
                    "生年月日   {}{}年{}月{}日",
                    birth.era.name(),
                    birth.year,
                    birth.month,
                    birth.day
                );
                println!("有効期限   {}年", read.expiry_year());
                println!("セキュリティコード {}", code.as_str());
                println!("confidence {:.2}  ({ms:.1} ms)", read.confidence());
            }
            Ok(())
        }
        Err(refusal) => {
            let failure = Failure::from(refusal).exit(EXIT_REFUSED);
            if json {
                let value = RefusalJson {
                    error: failure.message(),
                    hint: failure.hint_text().unwrap_or(""),
                    ms,
                };
                let text = serde_json::to_string(&value)
                    .map_err(|e| Failure::new(format!("JSON: {e}")))?;
                println!("{text}");
                return Err(failure.quiet());
            }
            Err(failure)
        }
    }
}
